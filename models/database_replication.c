/* database_replication.c: the database's write path once a connection
 * has served a write: commit (fencing tokens, duplicates), shipping to the
 * replicas over the log stream, acknowledgements, replay, and catching up
 * after the primary returns.
 *
 * Replication: the primary commits a write after write_time and gives it the
 * key's next version; each replica applies it after its own draw of
 * replication_lag (a replica keeps the highest version it has seen, so late
 * applies never go back in time). The write is acknowledged: at once
 * (async), when every replica that was up at commit has applied it (sync:
 * a failed standby leaves the synchronous set), or when W of the N+1
 * instances hold it, the primary included (quorum). A replica that is down
 * (crashed, zone lost, paused) applies nothing until it is back, then takes
 * what it missed in order; its ack counts only then. Applying costs a
 * replica no connection: the lag stands for shipping and applying the log.
 * With `replay_time`, a replica replays what lands one write at a time, each
 * taking a draw of it (a replica's log replay is serial, where the primary
 * writes on many connections): a primary that writes faster than its
 * replicas replay leaves them further behind the longer it goes on, and a
 * replica back from a crash takes its time to catch up.
 *
 * The log travels over a stream from the primary to each replica, which
 * repairs random loss itself (its retransmissions are part of the lag) but
 * not a cut link: while a partition or a zone loss separates the primary
 * from a replica, what it ships there waits, in order, and the primary tries
 * the link again every `replication_retry` (default 1s, as a replica
 * reconnects). A sync or quorum write that needs that replica waits with
 * it; an async replica falls behind and serves stale reads.
 *
 * Duplicates: a table of `version_slots` entries, indexed by the request id
 * and the calling component (request_slot: one issuer's writes through one
 * caller take consecutive entries, and a later write sharing an entry
 * evicts an older one), remembers each committed write. A write from the
 * same component for the same logical request is a retry of a write that
 * took effect (two services that each write as part of one request are two
 * writes, not a duplicate): with `idempotency: true` it is answered with the
 * first one's version and not applied again (counted as deduplicated, from
 * any caller, workers included), and the answer carries
 * ASIM_CALL_DEDUPLICATED so that the caller knows; without, it is applied
 * again and counted as a duplicate write, unless the write carries
 * ASIM_CALL_REPEATS_COUNTED: a worker's (directly, or forwarded by a
 * cache, gateway or balancer, behind which the caller seen here is the
 * relay) counts its repeats itself; its answer then carries
 * ASIM_CALL_REAPPLIED and the worker counts the duplicate, once. A
 * duplicate counted here is answered with ASIM_CALL_DUPLICATE_COUNTED, so
 * that a worker whose task the caller was doing (a service) does not
 * count it again.
 *
 * Fencing tokens: a write whose call->version is non-zero carries the
 * fencing token of a lock (worker.c's `lock:`). The database remembers the
 * newest token per version slot; a write with an older one comes from a
 * holder whose lock has passed to another that already wrote. With
 * MODEL_FENCE_CHECK set it is refused (ASIM_ERROR, counted as fenced);
 * without, it lands and counts as a conflicting write. */
#include <stdlib.h>
#include <string.h>

#include "database_private.h"

/* At commit: the fencing token of a lock holder's write against the newest
 * one seen for the key. False when the write must be refused. */
static bool fence_ok(struct asim_component *c, struct database *s, struct op *op)
{
	uint64_t token = op->call->version & ~MODEL_FENCE_CHECK;
	if (!s->fence) {
		s->fence = calloc(s->nslots, sizeof *s->fence);
		if (!s->fence) {
			asim_kernel_stop(c->kernel);
			return true;
		}
	}
	uint64_t *f = &s->fence[op->slot];
	if (token >= *f) {
		*f = token;
		return true;
	}
	bool measuring = asim_measuring_at(c->kernel, op->arrived);
	if (op->call->version & MODEL_FENCE_CHECK) {
		if (measuring)
			s->lock_fenced++;
		return false;
	}
	if (measuring) {
		s->lock_conflicts++;
		asim_kernel_outcome(c->kernel)->conflicting_writes++;
	}
	return true;
}
static bool write_acknowledged(const struct database *s, const struct op *op)
{
	switch (s->replication) {
	case REPL_SYNC:
		return op->acks >= op->need;
	case REPL_QUORUM:
		return op->acks >= s->write_quorum;
	default:
		return true;
	}
}

/* The primary that had the write went down before acknowledging it: no
 * answer ever comes (the caller times out), and nothing was promised. */
void db_lose(struct asim_component *c, struct database *s, struct op *op)
{
	op->answered = true;
	asim_call_drop(c->kernel, op->call);
	op->call = NULL;
	if (op->parts == 0)
		asim_pool_put(&s->ops, op);
}

static void acknowledge(struct asim_component *c, struct database *s, struct op *op)
{
	asim_time now = asim_now(c->kernel);
	if (!lead_up(&s->lead, op->inst)) {
		db_lose(c, s, op);
		return;
	}
	/* A write still waiting for its replicas when its primary was deposed
	 * was never acknowledged: the client hears an error. */
	if (op->epoch != s->lead.epoch || op->inst != s->lead.leader) {
		db_answer(c, s, op, ASIM_ERROR);
		return;
	}
	uint64_t *acked = versions_acked(&s->ver, op->slot);
	if (op->version > *acked) {
		*acked = op->version;
		versions_set_acked_at(&s->ver, op->slot, now);
	}
	db_answer(c, s, op, ASIM_OK);
}

/* A write whose request id was committed before: answered with the first
 * version under idempotency (true returned), else counted and applied. */
static bool duplicate(struct asim_component *c, struct database *s, struct op *op)
{
	const struct asim_call *call = op->call;
	if (!call->request)
		return false;
	uint32_t h = request_slot(call->request, call->caller, s->nslots - 1);
	if (s->seen_req[h] != call->request || s->seen_caller[h] != call->caller)
		return false;
	bool measuring = asim_measuring_at(c->kernel, op->arrived);
	if (s->idempotency) {
		if (measuring)
			s->deduplicated++;
		op->version = s->seen_version[h];
		/* Told to the caller: a worker's redelivery that lands here is
		 * then no duplicate of the worker's either. */
		op->call->flags |= ASIM_CALL_DEDUPLICATED;
		db_answer(c, s, op, ASIM_OK);
		return true;
	}
	/* A caller that counts its own repeats (a worker, directly or through
	 * a relay) hears that this one was applied again and counts it. */
	op->call->flags |= ASIM_CALL_REAPPLIED;
	if (call->flags & ASIM_CALL_REPEATS_COUNTED)
		return false;
	/* Counted here, and said so: a worker above the caller (a service
	 * writing for the worker's task) then does not count it again. Said
	 * also of a repeat that arrived in the warm-up: it is this count's,
	 * measured or not. */
	op->call->flags |= ASIM_CALL_DUPLICATE_COUNTED;
	if (measuring) {
		s->duplicates++;
		asim_kernel_outcome(c->kernel)->duplicate_writes++;
	}
	return false;
}

/* An apply whose primary has gone (down, or deposed) since it shipped: it
 * will be ignored where it lands. */
static bool apply_void(const struct database *s, const struct apply *a)
{
	return a->epoch != s->lead.epoch || a->gen != s->lead.gen;
}

/* Sends apply a down the stream to replica r: it lands after a draw of the
 * lag. */
static void send_apply(struct asim_component *c, struct database *s, struct apply *a, uint16_t r)
{
	asim_schedule(c->kernel, asim_dist_sample(&s->lag, s->r_lag), c->id, EV_APPLY, r, 0, a);
}

/* Ships apply a to replica r: it lands after a draw of the lag, unless the
 * link from its primary is cut or earlier shipments still wait for the
 * link; then it waits behind them, and the link is tried again every
 * replication_retry. */
static void ship(struct asim_component *c, struct database *s, struct apply *a, uint16_t r)
{
	struct asim_kernel *k = c->kernel;
	struct instance *in = &s->inst[r];
	if (!in->link_held.n && asim_net_link_up(k, c->id, a->from, c->id, r)) {
		send_apply(c, s, a, r);
		return;
	}
	if (!held_push(&in->link_held, EV_APPLY, r, a, 0, NULL)) {
		asim_kernel_stop(k);
		return;
	}
	if (asim_measuring_at(k, a->committed))
		s->link_held++;
	if (!in->relinking) {
		in->relinking = true;
		asim_schedule(k, s->retry, c->id, EV_RELINK, r, 0, NULL);
	}
}

/* The primary tries the link to replica r again: what waited goes out, in
 * order, up to the first apply whose link is still cut. Applies of a gone
 * primary go too (they are ignored where they land), so that a lost
 * primary's log does not block the new one's. */
void db_relink(struct asim_component *c, struct database *s, uint16_t r)
{
	struct asim_kernel *k = c->kernel;
	struct held_list *h = &s->inst[r].link_held;
	uint32_t sent = 0;
	while (sent < h->n) {
		struct apply *a = h->v[sent].p;
		if (!apply_void(s, a) && !asim_net_link_up(k, c->id, a->from, c->id, r))
			break;
		send_apply(c, s, a, r);
		sent++;
	}
	memmove(h->v, h->v + sent, (h->n - sent) * sizeof *h->v);
	h->n -= sent;
	s->inst[r].relinking = h->n > 0;
	if (h->n)
		asim_schedule(k, s->retry, c->id, EV_RELINK, r, 0, NULL);
}

void db_commit(struct asim_component *c, struct database *s, struct op *op)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	if (!lead_may_commit(&s->lead, c, op->inst)) {
		if (asim_measuring_at(k, op->arrived))
			s->refused++;
		db_answer(c, s, op, ASIM_ERROR);
		return;
	}
	if (op->call->version && !fence_ok(c, s, op)) {
		db_answer(c, s, op, ASIM_ERROR);
		return;
	}
	if (duplicate(c, s, op))
		return;
	op->version = ++*versions_held(&s->ver, op->inst, op->slot);
	if (s->index.on && op->inst == s->lead.leader)
		db_index_ship(c, s, op);
	op->epoch = s->lead.epoch;
	op->acks = 1;
	uint32_t h = request_slot(op->call->request, op->call->caller, s->nslots - 1);
	s->seen_req[h] = op->call->request;
	s->seen_caller[h] = op->call->caller;
	s->seen_version[h] = op->version;
	if (op->inst != s->lead.leader) {
		/* An old primary that believes it leads: its replicas follow the
		 * new one. Under async replication it acknowledges alone, and
		 * its write will vanish when it rejoins. Under sync or quorum
		 * replication it waits for their acknowledgements, which never
		 * come: no answer (its caller times out), nothing promised, as
		 * an old primary whose synchronous standby left it blocks. It
		 * answered OK before, and a split brain under sync replication
		 * lost acknowledged writes. */
		if (s->replication == REPL_ASYNC) {
			lead_acked_alone(&s->lead, c, op->inst);
			db_answer(c, s, op, ASIM_OK);
		} else {
			db_lose(c, s, op);
		}
		return;
	}
	bool waits = s->replication != REPL_ASYNC;
	op->need = 1;
	for (uint32_t r = 0; r <= s->replicas; r++) {
		if (r == op->inst)
			continue;
		/* A replica that is down gets the write when it is back (its
		 * applies are held); sync replication waits only for the
		 * replicas up at commit, as a cluster manager drops a failed
		 * standby from the synchronous set. A quorum counts real acks,
		 * a down replica's among them once it is back. */
		bool wait_r = waits && (s->replication == REPL_QUORUM || lead_up(&s->lead, r));
		struct apply *a = asim_pool_get(&s->applies);
		if (!a) {
			asim_kernel_stop(k);
			return;
		}
		a->op = wait_r ? op : NULL;
		a->slot = op->slot;
		a->from = op->inst;
		a->version = op->version;
		a->epoch = op->epoch;
		a->gen = s->lead.gen;
		a->committed = now;
		if (wait_r) {
			op->parts++;
			op->need++;
		}
		ship(c, s, a, (uint16_t)r);
	}
	if (write_acknowledged(s, op))
		acknowledge(c, s, op);
}

void db_applied(struct asim_component *c, struct database *s, struct apply *a, uint16_t r)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	uint64_t *v = versions_held(&s->ver, r, a->slot);
	/* What a primary had not shipped when it went down never arrives, and
	 * a deposed primary's log is not applied: the instances follow the new
	 * primary's history, and the instance that leads now keeps its own. */
	bool voided = apply_void(s, a);
	if (!voided && r != s->lead.leader && a->version > *v)
		*v = a->version;
	/* A voided apply never took effect: it is no replication lag. */
	if (!voided && asim_measuring_at(k, a->committed))
		asim_hist_record(&s->lag_hist, now - a->committed);
	struct op *op = a->op;
	asim_pool_put(&s->applies, a);
	if (!op)
		return;
	if (!voided)
		op->acks++;
	op->parts--;
	if (!op->answered && write_acknowledged(s, op))
		acknowledge(c, s, op);
	else if (!op->answered && op->parts == 0)
		db_lose(c, s, op); /* its replicas will never all hold it */
	else if (op->answered && op->parts == 0)
		asim_pool_put(&s->ops, op);
}

/* The primary is back, and still leads: no replica was promoted while it was
 * down. What it shipped before it went down was voided where it landed (had
 * a replica been promoted, that window of writes would have been lost), but
 * its log is on its disk: each replica behind it on a slot is sent the
 * primary's version of that slot, through the link and after a draw of the
 * lag, as a real replica streams what it missed once it reconnects. Without
 * this, a slot that is rarely written stayed stale on the replicas for the
 * rest of the run. */
void db_catch_up(struct asim_component *c, struct database *s)
{
	struct asim_kernel *k = c->kernel;
	uint16_t p = s->lead.leader;
	for (uint32_t r = 0; r < c->instances; r++) {
		if (r == p)
			continue;
		for (uint32_t slot = 0; slot < s->nslots; slot++) {
			uint64_t have = *versions_held(&s->ver, p, slot);
			if (*versions_held(&s->ver, r, slot) >= have)
				continue;
			struct apply *a = asim_pool_get(&s->applies);
			if (!a) {
				asim_kernel_stop(k);
				return;
			}
			/* The lag counts from the write's acknowledgement when the
			 * primary acknowledged this version, else from now. */
			bool acked = *versions_acked(&s->ver, slot) == have;
			*a = (struct apply){.slot = slot, .from = p, .version = have,
			                    .epoch = s->lead.epoch, .gen = s->lead.gen,
			                    .committed = acked ? versions_acked_at(&s->ver, slot)
			                                       : asim_now(k)};
			ship(c, s, a, (uint16_t)r);
		}
	}
}
/* replay_time: apply a has landed at replica r, which replays one write at
 * a time in the order they land: it is applied once the replay of those
 * before it, and its own, are done. */
void db_replay(struct asim_component *c, struct database *s, struct apply *a, uint16_t r)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct instance *in = &s->inst[r];
	asim_time start = in->replay_free > now ? in->replay_free : now;
	in->replay_free = start + asim_dist_sample(&s->replay, s->r_replay);
	asim_schedule_at(k, in->replay_free, c->id, EV_REPLAYED, r, 0, a);
	in->replaying++;
	if (asim_measuring_at(k, now) && in->replaying > in->replaying_max)
		in->replaying_max = in->replaying;
}
/* The earliest commit among the applies an instance holds back, or now:
 * the link's are in commit order (shipped at commit, sent on as a prefix),
 * the others' earliest is kept as they are held. Constant time, as series
 * sample every window however long the hold. */
asim_time db_oldest_held(const struct instance *in, asim_time now)
{
	asim_time t = now;
	if (in->link_held.n) {
		const struct apply *a = in->link_held.v[0].p;
		if (a->committed < t)
			t = a->committed;
	}
	if (in->repl_held.n && in->repl_held_oldest < t)
		t = in->repl_held_oldest;
	return t;
}
