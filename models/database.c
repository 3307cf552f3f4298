/* database: a primary and `replicas` read replicas, each an instance of the
 * component (instance 0 is the primary), each with its own pool of
 * `connections` and a FIFO `wait_queue` in front of it (unbounded unless
 * given; a request beyond it is rejected at once).
 *
 * This file holds the component: configuration, connection pools and
 * wait queues, requests, faults and reports. Its parts live beside it,
 * sharing database_private.h: routing of calls to instances
 * (database_routing.c), the write path from commit through replication
 * (database_replication.c), and the secondary index feed
 * (database_index.c).
 *
 * Stale reads: a read must see every write acknowledged before it arrived
 * (writes concurrent with it may go either way, as in linearizability). A
 * read whose answer is older counts as stale, and its staleness is the time
 * since the newest acknowledged write it missed was acknowledged. A cache
 * in front of it judges the answers it gives from its entries by the same
 * rule, against these versions (model op acked_version).
 *
 * Versions: kept per slot of a table of `version_slots` (default 65536,
 * rounded up to a power of two) indexed by key modulo its size, one counter
 * per instance. It is exact while keys are below the table size (the clients
 * number keys from 0); beyond it, keys sharing a slot share a version
 * stream, which can only over-count stale reads under async replication
 * (sync and quorum guarantees hold per slot). Memory is fixed at configure.
 *
 * Leadership and failover (`failover:`, `leadership:`): see leadership.h.
 * The primary is then whichever instance leads, writes go to it (or to an
 * old primary that still believes it leads, from callers in its zone), and
 * applies of a deposed primary's log are ignored.
 *
 * Faults: `pause` freezes an instance (its connections hold their work and
 * new work waits behind them; it neither serves nor applies until the pause
 * ends); `replication_pause` on replicas stops them applying the primary's
 * log: the lag grows, the writes pile up, and they drain when it ends. */
#include <stdlib.h>
#include <string.h>

#include "database_private.h"

static const char *const replication_names[] = {"async", "sync", "quorum", NULL};
static const char *const read_from_names[] = {"primary", "replicas", "nearest",
                                              "primary_after_write", NULL};

static const char *const db_keys[] = {
	"kind", "zone", "zones", "connections", "wait_queue", "read_time", "write_time",
	"replicas", "replication", "replication_lag", "read_from", "write_quorum", "read_quorum",
	"version_slots", "failover", "leadership", "idempotency", "sticky_window", "index",
	"replication_retry", "replay_time", NULL,
};

/* `zone: a` puts every instance in a; `zones: [a, b]` spreads the primary
 * and then the replicas over the list in turn. */
static bool place(struct asim_component *c, const struct asim_cfg *map, uint32_t n,
                  struct asim_diag *d)
{
	uint16_t placed[ASIM_MAX_ZONES];
	uint32_t nz;
	if (!model_zones(c, map, placed, &nz, d))
		return false;
	uint16_t per[MAX_REPLICAS + 1];
	for (uint32_t i = 0; i < n; i++)
		per[i] = nz ? placed[i % nz] : 0;
	if (!asim_component_set_instances(c, n, nz ? per : NULL)) {
		asim_diag_error(d, map->mark, "out of memory placing the instances of '%s'", c->name);
		return false;
	}
	return true;
}

static bool configure(struct asim_component *c, const struct asim_cfg *map, struct asim_diag *d)
{
	struct database *s = c->state;
	asim_call_measure(c, &s->latency);
	if (!asim_cfg_expect_map(map, c->name, db_keys, d))
		return false;
	int64_t replicas = 0, conns = 10, wq = -1, slots = 65536;
	s->replication = REPL_ASYNC;
	s->read_from = FROM_PRIMARY;
	asim_dist_constant(&s->lag, 0);
	bool ok = asim_cfg_int(map, "replicas", ASIM_OPTIONAL, 0, MAX_REPLICAS, &replicas, d);
	ok &= asim_cfg_int(map, "connections", ASIM_OPTIONAL, 1, 1000000, &conns, d);
	const struct asim_cfg *q = asim_cfg_get(map, "wait_queue");
	if (q && !(q->type == ASIM_CFG_SCALAR && !strcmp(q->text, "unbounded")))
		ok &= asim_cfg_int(map, "wait_queue", ASIM_REQUIRED, 0, INT64_C(1) << 32, &wq, d);
	ok &= asim_cfg_dist(map, "read_time", ASIM_REQUIRED, &s->read_time, d);
	ok &= asim_cfg_dist(map, "write_time", ASIM_REQUIRED, &s->write_time, d);
	ok &= asim_cfg_choice(map, "replication", ASIM_OPTIONAL, replication_names,
	                      &s->replication, d);
	ok &= asim_cfg_dist(map, "replication_lag", ASIM_OPTIONAL, &s->lag, d);
	s->has_replay = asim_cfg_get(map, "replay_time") != NULL;
	ok &= asim_cfg_dist(map, "replay_time", ASIM_OPTIONAL, &s->replay, d);
	s->retry = ASIM_S;
	ok &= asim_cfg_time(map, "replication_retry", ASIM_OPTIONAL, ASIM_MS, ASIM_HOUR, &s->retry,
	                    d);
	ok &= asim_cfg_choice(map, "read_from", ASIM_OPTIONAL, read_from_names, &s->read_from, d);
	ok &= asim_cfg_int(map, "version_slots", ASIM_OPTIONAL, 1, INT64_C(1) << 24, &slots, d);
	ok &= asim_cfg_bool(map, "idempotency", ASIM_OPTIONAL, &s->idempotency, d);
	s->sticky = ASIM_S;
	ok &= asim_cfg_time(map, "sticky_window", ASIM_OPTIONAL, 0, 24 * ASIM_HOUR, &s->sticky, d);
	if (ok && asim_cfg_get(map, "sticky_window") && s->read_from != FROM_RYW) {
		asim_diag_error(d, asim_cfg_get(map, "sticky_window")->mark,
		                "'sticky_window' applies only to 'read_from: primary_after_write' in '%s'",
		                c->name);
		ok = false;
	}
	ok &= lead_configure(&s->lead, c, map, d);
	s->lead.quorum = s->replication == REPL_QUORUM;
	ok &= db_index_configure(c, &s->index, map, d);
	if (!ok)
		return false;
	uint32_t n = (uint32_t)replicas + 1;
	/* A majority on each side is the safe default: W + R > N + 1 makes every
	 * read quorum meet every write quorum. */
	int64_t w = n / 2 + 1, r = n / 2 + 1;
	const struct asim_cfg *wn = asim_cfg_get(map, "write_quorum");
	const struct asim_cfg *rn = asim_cfg_get(map, "read_quorum");
	if ((wn || rn) && s->replication != REPL_QUORUM) {
		asim_diag_error(d, (wn ? wn : rn)->mark,
		                "'%s' applies only to 'replication: quorum' in '%s'",
		                wn ? "write_quorum" : "read_quorum", c->name);
		return false;
	}
	ok &= asim_cfg_int(map, "write_quorum", ASIM_OPTIONAL, 1, n, &w, d);
	ok &= asim_cfg_int(map, "read_quorum", ASIM_OPTIONAL, 1, n, &r, d);
	if (replicas == 0 && s->read_from != FROM_PRIMARY) {
		asim_diag_error(d, asim_cfg_get(map, "read_from")->mark,
		                "'read_from: %s' needs 'replicas' in '%s'", read_from_names[s->read_from],
		                c->name);
		ok = false;
	}
	/* Settings of the replication stream, and a failover with no replica
	 * to promote, would be ignored without a replica: refused instead. */
	static const char *const of_replicas[] = {"replay_time", "replication", "replication_lag",
	                                          "replication_retry", "failover", NULL};
	for (size_t i = 0; replicas == 0 && of_replicas[i]; i++) {
		const struct asim_cfg *v = asim_cfg_get(map, of_replicas[i]);
		if (v) {
			asim_diag_error(d, v->mark, "'%s' needs 'replicas' in '%s'", of_replicas[i],
			                c->name);
			ok = false;
			break;
		}
	}
	if (!ok || !place(c, map, n, d))
		return false;
	s->replicas = (uint32_t)replicas;
	s->connections = (uint32_t)conns;
	s->wait_cap = wq < 0 ? UINT64_MAX : (uint64_t)wq;
	s->write_quorum = s->replication == REPL_QUORUM ? (uint32_t)w : 1;
	s->read_quorum = s->replication == REPL_QUORUM ? (uint32_t)r : 1;
	s->nslots = 1;
	while (s->nslots < (uint64_t)slots)
		s->nslots *= 2;
	bool ver = versions_init(&s->ver, s->nslots, n);
	s->inst = calloc(n, sizeof *s->inst);
	s->seen_req = calloc(s->nslots, sizeof *s->seen_req);
	s->seen_version = calloc(s->nslots, sizeof *s->seen_version);
	s->seen_caller = calloc(s->nslots, sizeof *s->seen_caller);
	if (s->read_from == FROM_RYW) {
		s->writer = calloc(s->nslots, sizeof *s->writer);
		s->written_at = calloc(s->nslots, sizeof *s->written_at);
	}
	if (s->index.on)
		s->index.v = calloc(s->nslots, sizeof *s->index.v);
	if (!ver || !s->inst || !s->seen_req ||
	    !s->seen_version || !s->seen_caller || (s->read_from == FROM_RYW && (!s->writer || !s->written_at)) ||
	    (s->index.on && !s->index.v) ||
	    !lead_init(&s->lead, c, &s->ver)) {
		asim_diag_error(d, map->mark, "out of memory for the version table of '%s'", c->name);
		return false;
	}
	struct asim_kernel *k = c->kernel;
	s->r_service = asim_kernel_rng(k, c->name, "service");
	s->r_lag = asim_kernel_rng(k, c->name, "lag");
	s->r_pick = asim_kernel_rng(k, c->name, "pick");
	/* Its own stream, made only when used: the other draws do not move. */
	if (s->has_replay)
		s->r_replay = asim_kernel_rng(k, c->name, "replay");
	asim_kernel_pool_init(c->kernel, &s->ops, sizeof(struct op), 1024);
	asim_kernel_pool_init(c->kernel, &s->jobs, sizeof(struct job), 1024);
	asim_kernel_pool_init(c->kernel, &s->applies, sizeof(struct apply), 1024);
	asim_hist_init(&s->lag_hist);
	asim_hist_init(&s->staleness);
	asim_hist_init(&s->wait_hist);
	return true;
}

static void start(struct asim_component *c)
{
	struct database *s = c->state;
	for (uint32_t i = 0; i < c->instances; i++) {
		asim_tw_init(&s->inst[i].busy_tw, 0, 0);
		asim_tw_init(&s->inst[i].wait_tw, 0, 0);
	}
	asim_tw_init(&s->primary_busy, 0, 0);
	lead_start(&s->lead, c, EV_LEAD);
	if (s->index.on) {
		s->index.queue_instances = asim_kernel_component(c->kernel, s->index.queue)->instances;
		if (s->index.reconcile_every)
			asim_schedule(c->kernel, s->index.reconcile_every, c->id, EV_RECONCILE, 0, 0,
			              NULL);
	}
}

/* The primary's busy level changed, or another instance became primary. */
static void track_primary(struct database *s, asim_time now)
{
	uint32_t p = s->lead.leader;
	asim_tw_set(&s->primary_busy, now, s->inst[p].busy);
}

/* The instance's time spent paused up to now (see inst_fault_pause_clock;
 * a database instance keeps its fault counters itself). */
static asim_time pause_clock(const struct instance *in, asim_time now)
{
	return pause_clock_of(in->paused_total, in->paused, in->paused_at, now);
}

static void begin(struct asim_component *c, struct database *s, struct job *j)
{
	struct asim_kernel *k = c->kernel;
	struct instance *in = &s->inst[j->inst];
	in->busy++;
	asim_tw_set(&in->busy_tw, asim_now(k), in->busy);
	if (j->inst == s->lead.leader)
		track_primary(s, asim_now(k));
	if (asim_measuring_at(k, j->arrived))
		asim_hist_record(&s->wait_hist, asim_now(k) - j->arrived);
	const struct asim_dist *t = j->op->write ? &s->write_time : &s->read_time;
	asim_time took = asim_dist_sample(t, s->r_service);
	j->pause_mark = pause_clock(in, asim_now(k));
	if (in->paused) {
		if (!held_push(&in->held, EV_SERVED, j->inst, j, took, &j->pause_mark))
			asim_kernel_stop(k);
		return;
	}
	asim_schedule(k, took, c->id, EV_SERVED, j->inst, 0, j);
}

void db_answer(struct asim_component *c, struct database *s, struct op *op,
               enum asim_status st)
{
	op->call->version = op->version;
	op->answered = true;
	asim_call_reply(c->kernel, op->call, st);
	op->call = NULL;
	if (op->parts == 0)
		asim_pool_put(&s->ops, op);
}

static void read_done(struct asim_component *c, struct database *s, struct op *op)
{
	struct asim_kernel *k = c->kernel;
	if (op->rejected) {
		db_answer(c, s, op, ASIM_REJECTED);
		return;
	}
	if (op->version < op->must_see && asim_measuring_at(k, op->arrived)) {
		s->stale_reads++;
		asim_kernel_outcome(k)->stale_reads++;
		asim_hist_record(&s->staleness, asim_now(k) - op->must_see_at);
	}
	db_answer(c, s, op, ASIM_OK);
}

/* Queues a part of op at instance i, or rejects it when the wait queue is
 * full. */
static void submit(struct asim_component *c, struct database *s, struct op *op, uint16_t i)
{
	struct asim_kernel *k = c->kernel;
	struct instance *in = &s->inst[i];
	if (in->busy >= s->connections && in->wait.len >= s->wait_cap) {
		if (asim_measuring_at(k, op->arrived))
			s->rejected++;
		op->rejected = true;
		if (op->write) {
			db_answer(c, s, op, ASIM_REJECTED);
		} else if (--op->parts == 0) {
			read_done(c, s, op);
		}
		return;
	}
	struct job *j = asim_pool_get(&s->jobs);
	if (!j) {
		asim_kernel_stop(k);
		return;
	}
	j->op = op;
	j->arrived = asim_now(k);
	j->inst = i;
	j->epoch = in->epoch;
	if (in->busy < s->connections) {
		begin(c, s, j);
		return;
	}
	if (!ptr_ring_push(&in->wait, j)) {
		asim_pool_put(&s->jobs, j);
		asim_kernel_stop(k);
		return;
	}
	queue_sum_set(&s->qsum, &in->wait_tw, asim_now(k), in->wait.len);
}
static void request(struct asim_component *c, struct database *s, struct asim_call *call)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	if (s->index.on && call->op == s->index.op) {
		db_index_apply(c, s, call);
		return;
	}
	struct op *op = asim_pool_get(&s->ops);
	if (!op) {
		asim_kernel_stop(k);
		return;
	}
	op->call = call;
	op->slot = (uint32_t)(call->key & (s->nslots - 1));
	op->arrived = now;
	op->write = call->op == ASIM_OP_WRITE;
	bool measuring = asim_measuring_at(k, now);
	if (op->write) {
		if (measuring)
			s->writes++;
		op->parts = 0;
		int to = lead_route_write(&s->lead, c, db_caller_zone(k, call));
		if (to < 0) {
			if (measuring)
				s->no_primary++;
			db_answer(c, s, op, ASIM_UNREACHABLE);
			return;
		}
		op->inst = (uint16_t)to;
		if (s->read_from == FROM_RYW) {
			s->writer[op->slot] = db_session_of(call);
			s->written_at[op->slot] = now;
		}
		submit(c, s, op, (uint16_t)to);
		return;
	}
	if (measuring)
		s->reads++;
	op->must_see = *versions_acked(&s->ver, op->slot);
	op->must_see_at = versions_acked_at(&s->ver, op->slot);
	op->parts = 0;
	if (s->read_quorum <= 1) {
		int to = db_serving_read(c, s, call);
		if (to < 0) {
			db_answer(c, s, op, ASIM_UNREACHABLE);
			return;
		}
		op->parts = 1;
		submit(c, s, op, (uint16_t)to);
		return;
	}
	/* R distinct instances by a partial Fisher-Yates shuffle, among those
	 * that take connections: fewer than R, and no quorum can answer. */
	uint16_t pick[MAX_REPLICAS + 1];
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->instances; i++)
		if (!db_refuses(s, i))
			pick[n++] = (uint16_t)i;
	if (n < s->read_quorum) {
		db_answer(c, s, op, ASIM_UNREACHABLE);
		return;
	}
	op->parts = s->read_quorum;
	for (uint32_t i = 0; i < s->read_quorum; i++) {
		uint32_t j = i + (uint32_t)gsl_rng_uniform_int(s->r_pick, n - i);
		uint16_t t = pick[i];
		pick[i] = pick[j];
		pick[j] = t;
	}
	for (uint32_t i = 0; i < s->read_quorum; i++)
		submit(c, s, op, pick[i]);
}

static void served(struct asim_component *c, struct database *s, struct job *j)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct instance *in = &s->inst[j->inst];
	struct op *op = j->op;
	uint16_t i = j->inst;
	asim_pool_put(&s->jobs, j);
	in->busy--;
	asim_tw_set(&in->busy_tw, now, in->busy);
	if (i == s->lead.leader)
		track_primary(s, now);
	if (asim_measuring_at(k, op->arrived))
		in->served++;
	/* Free the connection before answering, so that the next waiting job
	 * starts at this instant whatever the answer triggers. */
	struct job *next = ptr_ring_pop(&in->wait);
	if (next) {
		queue_sum_set(&s->qsum, &in->wait_tw, now, in->wait.len);
		begin(c, s, next);
	}
	if (op->write) {
		db_commit(c, s, op);
		return;
	}
	uint64_t v = *versions_held(&s->ver, i, op->slot);
	if (v > op->version)
		op->version = v;
	if (--op->parts)
		return;
	if (op->answered)
		asim_pool_put(&s->ops, op); /* another part was lost in a crash */
	else
		read_done(c, s, op);
}

/* A job lost in a crash of its instance: its request gets no answer (the
 * caller times out), as a crashed service's; a read asked of several
 * instances gets none either once one of its parts is lost. */
static void lost_job(struct database *s, struct asim_component *c, struct job *j)
{
	struct op *op = j->op;
	asim_pool_put(&s->jobs, j);
	if (!op->write)
		op->parts--;
	if (!op->answered)
		db_lose(c, s, op);
	else if (op->parts == 0)
		asim_pool_put(&s->ops, op);
}

/* Instance i crashes: the work queued at it is lost at once, the work in
 * service when its event comes up (its epoch is then old), and it restarts
 * cold, with every connection free and an empty queue. */
static void crash_work(struct asim_component *c, struct database *s, uint16_t i)
{
	asim_time now = asim_now(c->kernel);
	struct instance *in = &s->inst[i];
	in->epoch++;
	struct job *j;
	while ((j = ptr_ring_pop(&in->wait)))
		lost_job(s, c, j);
	queue_sum_set(&s->qsum, &in->wait_tw, now, 0);
	in->busy = 0;
	asim_tw_set(&in->busy_tw, now, 0);
	if (i == s->lead.leader)
		track_primary(s, now);
}
/* Holds back work of a paused instance, and the applies of one that is
 * paused, down (crashed, or its zone lost) or whose replication is paused:
 * they land, in order, once it is back (so a sync write waits for a
 * crashed replica, as it does for a paused one); true when it did. */
static bool held_back(struct asim_component *c, struct database *s, const struct asim_event *ev)
{
	bool apply = ev->type == EV_APPLY || ev->type == EV_REPLAYED;
	if (ev->inst >= c->instances || (ev->type != EV_SERVED && !apply))
		return false;
	struct instance *in = &s->inst[ev->inst];
	bool ok = true;
	if (ev->type == EV_SERVED) {
		/* Service in progress owes the pause time since it began, whether
		 * the pause is still on or ended before the service was due. */
		struct job *j = ev->p;
		asim_time owed = pause_clock(in, asim_now(c->kernel)) - j->pause_mark;
		return pause_defer(c, &in->held, in->paused, in->paused_total, owed, &j->pause_mark,
		                   EV_SERVED, ev->inst, j);
	} else if (apply && (in->paused || in->repl_paused || !lead_up(&s->lead, ev->inst))) {
		const struct apply *a = ev->p;
		if (!in->repl_held.n || a->committed < in->repl_held_oldest)
			in->repl_held_oldest = a->committed;
		ok = held_push(&in->repl_held, ev->type, ev->inst, ev->p, 0, NULL);
	} else {
		return false;
	}
	if (!ok)
		asim_kernel_stop(c->kernel);
	return true;
}

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct database *s = c->state;
	if (ev->type == EV_SERVED && ev->inst < c->instances) {
		struct job *j = ev->p;
		if (j->epoch != s->inst[ev->inst].epoch) {
			lost_job(s, c, j); /* begun before a crash */
			return;
		}
	}
	if (held_back(c, s, ev))
		return;
	switch (ev->type) {
	case EV_RECONCILE:
		if (asim_measuring_at(c->kernel, asim_now(c->kernel)))
			s->index.repaired += db_index_compare(c, s, true);
		else
			db_index_compare(c, s, true);
		asim_schedule(c->kernel, s->index.reconcile_every, c->id, EV_RECONCILE, 0, 0, NULL);
		break;
	case ASIM_EV_REQUEST:
		request(c, s, ev->p);
		break;
	case EV_SERVED:
		served(c, s, ev->p);
		break;
	case EV_APPLY:
		if (s->has_replay)
			db_replay(c, s, ev->p, ev->inst);
		else
			db_applied(c, s, ev->p, ev->inst);
		break;
	case EV_REPLAYED:
		s->inst[ev->inst].replaying--;
		db_applied(c, s, ev->p, ev->inst);
		break;
	case ASIM_EV_RESPONSE:
		lead_handle(&s->lead, c, ev, EV_LEAD);
		track_primary(s, asim_now(c->kernel));
		break;
	case EV_RELINK:
		db_relink(c, s, ev->inst);
		break;
	default:
		if (ev->type >= EV_LEAD && ev->type < EV_LEAD + LEAD_EV_COUNT) {
			lead_handle(&s->lead, c, ev, EV_LEAD);
			track_primary(s, asim_now(c->kernel));
		}
		break;
	}
}

static void warmup_end(struct asim_component *c)
{
	struct database *s = c->state;
	asim_time now = asim_now(c->kernel);
	for (uint32_t i = 0; i < c->instances; i++) {
		asim_tw_reset(&s->inst[i].busy_tw, now);
		asim_tw_reset(&s->inst[i].wait_tw, now);
		s->inst[i].replaying_max = s->inst[i].replaying;
	}
	queue_sum_reset(&s->qsum);
	asim_tw_reset(&s->primary_busy, now);
	lead_warmup_end(&s->lead, c);
}

static void finish(struct asim_component *c)
{
	struct database *s = c->state;
	lead_finish(&s->lead, c);
	if (s->index.on) {
		s->index.drift = db_index_compare(c, s, false);
		asim_kernel_outcome(c->kernel)->drift += s->index.drift;
	}
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct database *s = c->state;
	asim_time now = asim_now(c->kernel);
	const char *n = c->name;
	double busy = 0, wait = 0;
	for (uint32_t i = 0; i < c->instances; i++) {
		busy += asim_tw_mean(&s->inst[i].busy_tw, now);
		wait += asim_tw_mean(&s->inst[i].wait_tw, now);
	}
	asim_results_string(r, "database", "components.%s.kind", n);
	asim_results_count(r, s->replicas, "components.%s.replicas", n);
	asim_results_string(r, replication_names[s->replication], "components.%s.replication", n);
	asim_results_real(r, busy / ((double)c->instances * s->connections),
	                  "components.%s.utilization", n);
	asim_results_real(r, asim_tw_mean(&s->primary_busy, now) / s->connections,
	                  "components.%s.primary_utilization", n);
	asim_results_real(r, wait, "components.%s.queue_mean", n);
	asim_results_count(r, (uint64_t)s->qsum.max, "components.%s.queue_max", n);
	asim_results_real(r, asim_hist_mean(&s->wait_hist) / (double)ASIM_MS,
	                  "components.%s.wait_ms_mean", n);
	asim_results_count(r, s->reads, "components.%s.reads", n);
	asim_results_count(r, s->writes, "components.%s.writes", n);
	asim_results_count(r, s->rejected, "components.%s.rejected", n);
	asim_results_count(r, s->stale_reads, "components.%s.stale_reads", n);
	asim_hist_report(r, &s->staleness, "components.%s.staleness_ms", n);
	asim_hist_report(r, &s->lag_hist, "components.%s.replication_lag_ms", n);
	asim_results_count(r, s->duplicates, "components.%s.duplicate_writes", n);
	asim_results_count(r, s->deduplicated, "components.%s.deduplicated", n);
	asim_results_count(r, s->no_primary, "components.%s.no_primary", n);
	asim_results_count(r, s->refused, "components.%s.refused_writes", n);
	asim_results_count(r, s->link_held, "components.%s.replication_held", n);
	if (s->has_replay) {
		/* The most writes a replica had landed and not yet replayed, and
		 * how many at the end (over the replicas, the largest). */
		uint64_t most = 0, end = 0;
		for (uint32_t i = 0; i < c->instances; i++) {
			if (s->inst[i].replaying_max > most)
				most = s->inst[i].replaying_max;
			if (s->inst[i].replaying > end)
				end = s->inst[i].replaying;
		}
		asim_results_count(r, most, "components.%s.replay_backlog_max", n);
		asim_results_count(r, end, "components.%s.replay_backlog_end", n);
	}
	if (s->fence || s->lock_conflicts) {
		asim_results_count(r, s->lock_conflicts, "components.%s.lock_conflicting_writes", n);
		asim_results_count(r, s->lock_fenced, "components.%s.lock_fenced_writes", n);
	}
	if (s->index.on) {
		const struct db_index *x = &s->index;
		asim_results_count(r, x->shipped, "components.%s.index.shipped", n);
		asim_results_count(r, x->applied, "components.%s.index.applied", n);
		asim_results_count(r, x->ignored, "components.%s.index.ignored", n);
		asim_results_count(r, x->regressed, "components.%s.index.regressed", n);
		asim_results_count(r, x->repaired, "components.%s.index.repaired", n);
		asim_results_count(r, x->drift, "components.%s.index.drift", n);
	}
	lead_report(&s->lead, c, r);
	/* Requests (or quorum parts) served per instance, the primary first:
	 * shows where read_from sent the reads. */
	for (uint32_t i = 0; i < c->instances; i++)
		asim_results_count(r, s->inst[i].served, "components.%s.served[%u]", n, i);
	asim_hist_report(r, &s->latency, "components.%s.latency_ms", c->name);
}
/* For time series: connections busy and requests waiting (over all
 * instances), the applies shipped and not yet landed, how long the most
 * stalled replica has been held back (a cut link, a crash, a pause: the
 * age of the oldest write it holds back), and the stale reads so far. */
static void sample(const struct asim_component *c, struct asim_results *r)
{
	const struct database *s = c->state;
	asim_time now = asim_now(c->kernel);
	double busy = 0, queue = 0;
	asim_time oldest = now;
	for (uint32_t i = 0; i < c->instances; i++) {
		const struct instance *in = &s->inst[i];
		busy += in->busy;
		queue += in->wait.len;
		asim_time t = db_oldest_held(in, now);
		if (t < oldest)
			oldest = t;
	}
	asim_results_real(r, queue, "%s.queue", c->name);
	asim_results_real(r, busy, "%s.busy", c->name);
	asim_results_real(r, (double)s->applies.live, "%s.replication_backlog", c->name);
	asim_results_real(r, asim_time_to_ms(now - oldest), "%s.replication_stalled_ms", c->name);
	asim_results_real(r, (double)s->stale_reads, "%s.stale_reads", c->name);
}

/* The model op acked_version: the slot's newest acknowledged version, the
 * one a read of key arriving now must see (as in request). */
static bool acked_version(const struct asim_component *c, uint64_t key, uint64_t *version,
                          asim_time *at)
{
	const struct database *s = c->state;
	if (!s->ver.v)
		return false;
	uint32_t slot = (uint32_t)(key & (s->nslots - 1));
	*version = *versions_acked(&s->ver, slot);
	*at = versions_acked_at(&s->ver, slot);
	return true;
}

/* Leadership's share of the fault hook: who is up, whose clock is off. */
static void fault(struct asim_component *c, const struct asim_fault *f, bool active)
{
	struct database *s = c->state;
	if (f->kind == ASIM_FAULT_PAUSE || f->kind == ASIM_FAULT_REPLICATION_PAUSE) {
		asim_time now = asim_now(c->kernel);
		for (uint32_t i = 0; i < c->instances; i++) {
			if (!asim_fault_hits(f, i))
				continue;
			struct instance *in = &s->inst[i];
			uint16_t *n = f->kind == ASIM_FAULT_PAUSE ? &in->paused : &in->repl_paused;
			if (active) {
				if ((*n)++ == 0 && f->kind == ASIM_FAULT_PAUSE)
					in->paused_at = now;
				continue;
			}
			if (!*n || --*n)
				continue;
			/* The pause is over: its work resumes, owing only its own
			 * time from now on. */
			if (f->kind == ASIM_FAULT_PAUSE) {
				in->paused_total += now - in->paused_at;
				held_release(&in->held, c, in->paused_total);
			}
		}
	}
	if (active && (f->kind == ASIM_FAULT_CRASH || f->kind == ASIM_FAULT_ZONE_LOSS))
		for (uint32_t i = 0; i < c->instances; i++)
			if (asim_fault_hits(f, i) && !s->lead.inst[i].crashed)
				crash_work(c, s, (uint16_t)i);
	if (f->kind != ASIM_FAULT_REPLICATION_PAUSE) {
		uint16_t leader = s->lead.leader;
		uint64_t epoch = s->lead.epoch;
		bool leader_down = !lead_up(&s->lead, leader);
		lead_fault(&s->lead, c, f, active, EV_LEAD);
		track_primary(s, asim_now(c->kernel));
		if (leader_down && lead_up(&s->lead, leader) && s->lead.leader == leader &&
		    s->lead.epoch == epoch)
			db_catch_up(c, s);
	}
	if (active)
		return;
	/* An instance back from every fault that held its applies back takes
	 * them, in the order they came. */
	for (uint32_t i = 0; i < c->instances; i++) {
		struct instance *in = &s->inst[i];
		if (asim_fault_hits(f, i) && !in->paused && !in->repl_paused && lead_up(&s->lead, i))
			held_release(&in->repl_held, c, 0);
	}
}

static size_t edges(const struct asim_component *c, uint32_t *to, size_t max)
{
	const struct database *s = c->state;
	size_t n = 0;
	if (s->lead.mode == LEAD_LEASE && n < max)
		to[n] = s->lead.coordinator;
	n += s->lead.mode == LEAD_LEASE;
	if (s->index.on && n < max)
		to[n] = s->index.queue;
	n += s->index.on;
	return n;
}

static void destroy(struct asim_component *c)
{
	struct database *s = c->state;
	if (s->inst)
		for (uint32_t i = 0; i < c->instances; i++) {
			ptr_ring_free(&s->inst[i].wait);
			held_free(&s->inst[i].held);
			held_free(&s->inst[i].repl_held);
			held_free(&s->inst[i].link_held);
		}
	free(s->inst);
	free(s->fence);
	free(s->index.v);
	versions_finish(&s->ver);
	free(s->seen_req);
	free(s->seen_version);
	free(s->seen_caller);
	free(s->writer);
	free(s->written_at);
	lead_destroy(&s->lead);
	asim_dist_finish(&s->read_time);
	asim_dist_finish(&s->write_time);
	asim_dist_finish(&s->lag);
	asim_dist_finish(&s->replay);
	asim_pool_finish(&s->ops);
	asim_pool_finish(&s->jobs);
	asim_pool_finish(&s->applies);
}

const struct asim_model_ops asim_database_ops = {
	.kind = "database",
	.summary = "primary and replicas: connection pools, async/sync/quorum replication, stale reads",
	.state_size = sizeof(struct database),
	.configure = configure,
	.start = start,
	.handle = handle,
	.warmup_end = warmup_end,
	.finish = finish,
	.report = report,
	.sample = sample,
	.destroy = destroy,
	.faults = ASIM_FAULT_BIT(ASIM_FAULT_CRASH) | ASIM_FAULT_BIT(ASIM_FAULT_ZONE_LOSS) |
	          ASIM_FAULT_BIT(ASIM_FAULT_PAUSE) | ASIM_FAULT_BIT(ASIM_FAULT_CLOCK_SKEW) |
	          ASIM_FAULT_BIT(ASIM_FAULT_REPLICATION_PAUSE),
	.fault = fault,
	.edges = edges,
	.route = db_route,
	.acked_version = acked_version,
};
