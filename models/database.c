/* database: a primary and `replicas` read replicas, each an instance of the
 * component (instance 0 is the primary), each with its own pool of
 * `connections` and a FIFO `wait_queue` in front of it (unbounded unless
 * given; a request beyond it is rejected at once).
 *
 * Routing: as a driver with a replica-aware pool does, so a call is sent
 * (model op route, asked by asim_call_send) to the instance that will serve
 * it and pays the network to and from that instance; one that has gone
 * down or lost the lead on the way is routed again on arrival. Writes (op
 * "write") go to the primary; every other operation is a read, served by the
 * primary, a replica in turn (`read_from: replicas`), or a replica in the
 * caller's zone (`nearest`: then the primary if it is there, else any
 * replica in turn). With `replication: quorum`, a read with read_quorum R > 1
 * is sent to R distinct instances drawn at random and answers the newest
 * version among them once all R have answered.
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
 * Read-your-writes (`read_from: primary_after_write`): reads go to replicas
 * in turn, except reads of a key that the same session wrote within
 * `sticky_window` (default 1s), which go to the primary. A session is a
 * user of a closed-loop client or one of an open-loop client's `sessions`
 * (the call's session), or else the whole of an open-loop client (the
 * logical request id's client part). Other sessions may still read stale.
 *
 * Duplicates: a table of `version_slots` entries, indexed by a hash of the
 * request id and the calling component (a later write sharing an entry
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
 * without, it lands and counts as a conflicting write.
 *
 * Faults: `pause` freezes an instance (its connections hold their work and
 * new work waits behind them; it neither serves nor applies until the pause
 * ends); `replication_pause` on replicas stops them applying the primary's
 * log: the lag grows, the writes pile up, and they drain when it ends.
 *
 * Secondary index and drift (`index: {queue: NAME, conditional: true,
 * reconcile_every: 30s, settle: 10s}`): a derived copy of the data (a search
 * index, a read model) fed asynchronously. Each write committed by the
 * primary ships a change (op "index", the key, its version in
 * call->version, no request id: each change is one of its own, never a
 * repeat at the queue) to the queue and does not wait for it (a change feed:
 * what the queue refuses or loses never arrives); the queue's consumers
 * (workers targeting this database) apply it with op "index". The index is
 * kept here beside the primary's versions, at no connection cost; it is a
 * separate store that only the feed writes. A `conditional` apply keeps the
 * newer version (an idempotent upsert); otherwise the last change to arrive
 * wins, and a late redelivery sets the index back. With `reconcile_every`,
 * a periodic job compares the two copies and repairs each key the index has
 * wrong whose last write is older than `settle`.
 * Drift is the number of version slots whose index version differs from the
 * primary's at the end of the run, among those last written more than
 * `settle` before the end (changes still in the pipeline are lag, not
 * drift); it is added to the outcome's drift. */
#include <stdlib.h>
#include <string.h>

#include "archsim/dist.h"
#include "archsim/pool.h"
#include "common.h"
#include "leadership.h"

#define MAX_REPLICAS 63

enum { REPL_ASYNC, REPL_SYNC, REPL_QUORUM };
static const char *const replication_names[] = {"async", "sync", "quorum", NULL};
enum { FROM_PRIMARY, FROM_REPLICAS, FROM_NEAREST, FROM_RYW };
static const char *const read_from_names[] = {"primary", "replicas", "nearest",
                                              "primary_after_write", NULL};

struct op {
	struct asim_call *call;
	uint32_t slot;
	asim_time arrived;
	uint64_t must_see;      /* read: version acknowledged when it arrived */
	asim_time must_see_at;  /* its acknowledgement time */
	uint64_t version;       /* write: assigned at commit; read: newest seen */
	uint32_t parts;         /* read: jobs outstanding; write: applies pending */
	uint32_t acks;          /* write: instances holding it */
	uint32_t need;          /* sync write: acks that make it acknowledged */
	uint64_t epoch;         /* write: the leadership epoch it was committed in */
	uint16_t inst;          /* write: the instance it went to */
	bool write, rejected, answered;
};

struct job {
	struct op *op;
	asim_time arrived;
	asim_time pause_mark; /* its instance's pause clock when its service began */
	uint32_t epoch;       /* its instance's epoch when it arrived (crashes) */
	uint16_t inst;
};

struct apply {
	struct op *op; /* sync and quorum writes waiting for acks; else NULL */
	uint32_t slot;
	uint16_t from; /* the instance that shipped it */
	uint64_t version, epoch, gen;
	asim_time committed;
};

struct instance {
	uint32_t busy;
	struct ptr_ring wait; /* of struct job * */
	struct asim_tw busy_tw, wait_tw;
	uint64_t served;
	uint16_t paused, repl_paused; /* fault counters */
	uint32_t epoch;               /* bumped at each crash: work begun before it is lost */
	asim_time paused_at;
	asim_time paused_total; /* summed length of the pauses that ended */
	struct held_list held;      /* work frozen by a pause */
	struct held_list repl_held; /* applies frozen by a pause of either kind */
	asim_time repl_held_oldest; /* the earliest commit among them */
	struct held_list link_held; /* applies shipped while the link was cut */
	bool relinking;             /* an EV_RELINK is pending for this replica */
	asim_time replay_free;      /* replay_time: when its replay of what landed ends */
	uint64_t replaying;         /* landed, not yet replayed */
	uint64_t replaying_max;     /* at most, after warm-up */
};

struct db_index {
	bool on, conditional;
	uint32_t queue, queue_instances;
	int op;
	asim_time reconcile_every, settle;
	uint64_t *v; /* [slot]: version the index holds */
	/* Measured after warm-up, but for drift (the end state). */
	uint64_t shipped, applied, ignored, regressed, repaired, drift;
};

struct database {
	uint32_t replicas, connections;
	uint64_t wait_cap; /* UINT64_MAX: unbounded */
	int replication, read_from;
	uint32_t write_quorum, read_quorum;
	struct asim_dist read_time, write_time, lag, replay;
	bool has_replay; /* replay_time given: replicas replay serially */
	asim_time retry; /* replication_retry */
	gsl_rng *r_service, *r_lag, *r_pick, *r_replay;
	uint32_t rr;

	uint32_t nslots;      /* a power of two */
	uint64_t *applied;    /* [inst * nslots + slot]: version held */
	uint64_t *acked;      /* [slot]: newest acknowledged version */
	asim_time *acked_at;  /* [slot] */

	struct instance *inst;
	struct asim_pool ops, jobs, applies;

	struct leadership lead;
	bool idempotency;
	asim_time sticky;       /* read_from: primary_after_write */
	/* The committed writes, by [hash(request, caller) & (nslots - 1)]. */
	uint64_t *seen_req, *seen_version;
	uint32_t *seen_caller;
	uint64_t *writer;       /* [slot]: session of the last write (session_of) */
	asim_time *written_at;  /* [slot] */
	uint64_t *fence;        /* [slot]: newest fencing token; made at the first */
	struct db_index index;

	/* Measured after warm-up. */
	uint64_t reads, writes, rejected, stale_reads;
	uint64_t duplicates, deduplicated, no_primary, refused;
	uint64_t lock_conflicts, lock_fenced;
	uint64_t link_held; /* applies that waited for a cut link */
	struct asim_hist lag_hist, staleness, wait_hist;
	struct asim_hist latency; /* arrival to ok reply: asim_call_measure() */
	struct queue_sum qsum; /* queue (database: connection wait) over the instances */
	/* Busy connections of whichever instance is the primary at each
	 * moment: primary_utilization, through failovers. */
	struct asim_tw primary_busy;
};

enum { EV_SERVED = EV_MODEL_BASE, EV_APPLY, EV_RECONCILE, EV_LEAD,
       EV_RELINK = EV_LEAD + LEAD_EV_COUNT, EV_REPLAYED };

static const char *const db_keys[] = {
	"kind", "zone", "zones", "connections", "wait_queue", "read_time", "write_time",
	"replicas", "replication", "replication_lag", "read_from", "write_quorum", "read_quorum",
	"version_slots", "failover", "leadership", "idempotency", "sticky_window", "index",
	"replication_retry", "replay_time", NULL,
};
static const char *const index_keys[] = {"queue", "conditional", "reconcile_every", "settle",
                                         NULL};

static bool configure_index(struct asim_component *c, struct db_index *x,
                            const struct asim_cfg *map, struct asim_diag *d)
{
	const struct asim_cfg *ix = asim_cfg_get(map, "index");
	if (!ix)
		return true;
	if (!asim_cfg_expect_map(ix, "index", index_keys, d))
		return false;
	x->conditional = true;
	x->settle = 10 * ASIM_S;
	bool ok = asim_cfg_bool(ix, "conditional", ASIM_OPTIONAL, &x->conditional, d);
	ok &= asim_cfg_time(ix, "reconcile_every", ASIM_OPTIONAL, ASIM_MS, 24 * ASIM_HOUR,
	                    &x->reconcile_every, d);
	ok &= asim_cfg_time(ix, "settle", ASIM_OPTIONAL, 0, 24 * ASIM_HOUR, &x->settle, d);
	struct asim_component *q = model_target(c, ix, "queue", d);
	if (!ok || !q)
		return false;
	x->queue = q->id;
	x->op = asim_kernel_op(c->kernel, "index");
	if (x->op < 0) {
		asim_diag_error(d, ix->mark, "too many operation names (at most %d)", ASIM_MAX_OPS);
		return false;
	}
	x->on = true;
	return true;
}

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
	ok &= configure_index(c, &s->index, map, d);
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
	s->applied = calloc((size_t)n * s->nslots, sizeof *s->applied);
	s->acked = calloc(s->nslots, sizeof *s->acked);
	s->acked_at = calloc(s->nslots, sizeof *s->acked_at);
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
	if (!s->applied || !s->acked || !s->acked_at || !s->inst || !s->seen_req ||
	    !s->seen_version || !s->seen_caller || (s->read_from == FROM_RYW && (!s->writer || !s->written_at)) ||
	    (s->index.on && !s->index.v) ||
	    !lead_init(&s->lead, c, s->applied, s->acked, s->nslots)) {
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

static void answer(struct asim_component *c, struct database *s, struct op *op,
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
		answer(c, s, op, ASIM_REJECTED);
		return;
	}
	if (op->version < op->must_see && asim_measuring_at(k, op->arrived)) {
		s->stale_reads++;
		asim_kernel_outcome(k)->stale_reads++;
		asim_hist_record(&s->staleness, asim_now(k) - op->must_see_at);
	}
	answer(c, s, op, ASIM_OK);
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
			answer(c, s, op, ASIM_REJECTED);
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

/* The next instance in turn other than the primary, skipping instances
 * known to be down; the primary when every other one is down. */
static uint16_t next_replica(struct database *s)
{
	uint32_t n = s->replicas + 1;
	for (uint32_t step = 0; step < n; step++) {
		do
			s->rr = (s->rr + 1) % n;
		while (s->rr == s->lead.leader);
		if (lead_up(&s->lead, s->rr))
			return (uint16_t)s->rr;
	}
	return lead_up(&s->lead, s->rr) ? (uint16_t)s->rr : s->lead.leader;
}

/* The session of a call, never 0: the client part of its logical request
 * id (see client.c) + 1, and its user. */
static uint64_t session_of(const struct asim_call *call)
{
	return ((call->request >> 40) + 1) << 32 | call->session;
}

/* The zone of the instance that sent call (0 when its component has none). */
static uint16_t caller_zone(struct asim_kernel *k, const struct asim_call *call)
{
	const struct asim_component *from = asim_kernel_component(k, call->caller);
	return from && from->zone ? from->zone[call->caller_inst] : 0;
}

static uint16_t route_read(struct asim_component *c, struct database *s,
                           const struct asim_call *call)
{
	uint16_t leader = s->lead.leader;
	if (s->read_from == FROM_PRIMARY)
		return leader;
	if (s->read_from == FROM_RYW) {
		uint32_t slot = (uint32_t)(call->key & (s->nslots - 1));
		if (s->writer[slot] == session_of(call) &&
		    asim_now(c->kernel) - s->written_at[slot] <= s->sticky)
			return leader;
		return next_replica(s);
	}
	if (s->read_from == FROM_REPLICAS || !c->zone)
		return next_replica(s);
	uint16_t z = caller_zone(c->kernel, call);
	/* Rotate over the replicas in the caller's zone, starting after the last
	 * one used, so that they share the load. */
	for (uint32_t step = 1; step <= s->replicas; step++) {
		uint32_t r = (s->rr + step - 1) % s->replicas + 1;
		if (c->zone[r] == z && lead_up(&s->lead, r)) {
			s->rr = r;
			return (uint16_t)r;
		}
	}
	if (c->zone[leader] == z && lead_up(&s->lead, leader))
		return leader;
	return next_replica(s);
}

/* Whether instance i refuses connections: crashed, or its zone lost. A
 * paused one takes the work and answers once the pause ends. */
static bool refuses(const struct database *s, uint32_t i)
{
	return s->lead.inst[i].crashed > 0;
}

/* The instance a read is served by: the one the caller's driver sent it to
 * (route, below), unless that one has gone down on the way, or lost the
 * lead while reads must go to the primary; then it is routed again here.
 * -1 when the only instance the read may go to refuses it (the primary
 * that reads must go to has crashed, or every instance has): a crashed
 * instance serves nothing, reads no more than writes. */
static int serving_read(struct asim_component *c, struct database *s,
                        const struct asim_call *call)
{
	uint16_t i = call->callee_inst;
	if (i < c->instances && lead_up(&s->lead, i) &&
	    (s->read_from != FROM_PRIMARY || i == s->lead.leader))
		return i;
	uint16_t to = route_read(c, s, call);
	return refuses(s, to) ? -1 : to;
}

/* The instance a caller's driver sends a call to: the primary for a write
 * (as the caller's zone sees it), the instance route_read picks for a read,
 * so that the request and the answer pay the network to and from the
 * instance that serves. Quorum reads, whose parts the database fans out
 * itself, and index feeds keep the caller's choice. Writes are routed again
 * on arrival (request), in case the lead moved meanwhile. */
static uint16_t route(struct asim_component *c, const struct asim_call *call)
{
	struct database *s = c->state;
	if (s->index.on && call->op == s->index.op)
		return call->callee_inst;
	if (call->op == ASIM_OP_WRITE) {
		int to = lead_route_write(&s->lead, c, caller_zone(c->kernel, call));
		return to < 0 ? call->callee_inst : (uint16_t)to;
	}
	if (s->read_quorum > 1)
		return call->callee_inst;
	return route_read(c, s, call);
}

/* A change from the feed reaches the index. */
static void index_apply(struct asim_component *c, struct database *s, struct asim_call *call)
{
	struct db_index *x = &s->index;
	if (!x->on) {
		asim_call_reply(c->kernel, call, ASIM_ERROR);
		return;
	}
	bool measuring = asim_measuring_at(c->kernel, asim_now(c->kernel));
	uint64_t *v = &x->v[call->key & (s->nslots - 1)];
	if (call->version > *v || (!x->conditional && call->version != *v)) {
		if (measuring) {
			x->applied++;
			x->regressed += call->version < *v;
		}
		*v = call->version;
	} else if (measuring) {
		x->ignored++;
	}
	asim_call_reply(c->kernel, call, ASIM_OK);
}

/* Ships a committed write to the index's queue, without waiting. */
static void index_ship(struct asim_component *c, struct database *s, const struct op *op)
{
	struct asim_kernel *k = c->kernel;
	struct asim_call *call = asim_call_new(k);
	if (!call)
		return;
	call->op = (uint16_t)s->index.op;
	call->key = op->call->key;
	call->version = op->version;
	/* No request id: each commit is a change of its own (a change feed's
	 * log position), never a repeat of another at the queue (queue.c,
	 * Repeats), though two of them may share the write's request id: a
	 * write applied again, already counted where it was applied, or the
	 * writes of two callers for one request. */
	call->origin = asim_now(k);
	if (asim_measuring_at(k, call->origin))
		s->index.shipped++;
	asim_call_send(k, call, c->id, op->inst, s->index.queue, 0);
	asim_call_abandon(k, call);
}

/* The newest version the primary holds for each slot, against the index:
 * repairs (reconciliation) or counts (drift) the slots that differ and were
 * last written at least settle ago. */
static uint64_t index_compare(struct asim_component *c, struct database *s, bool repair)
{
	struct db_index *x = &s->index;
	asim_time now = asim_now(c->kernel);
	const uint64_t *p = s->applied + (size_t)s->lead.leader * s->nslots;
	uint64_t n = 0;
	for (uint32_t i = 0; i < s->nslots; i++) {
		if (x->v[i] == p[i] || now - s->acked_at[i] < x->settle)
			continue;
		n++;
		if (repair)
			x->v[i] = p[i];
	}
	return n;
}

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

static void request(struct asim_component *c, struct database *s, struct asim_call *call)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	if (s->index.on && call->op == s->index.op) {
		index_apply(c, s, call);
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
		int to = lead_route_write(&s->lead, c, caller_zone(k, call));
		if (to < 0) {
			if (measuring)
				s->no_primary++;
			answer(c, s, op, ASIM_UNREACHABLE);
			return;
		}
		op->inst = (uint16_t)to;
		if (s->read_from == FROM_RYW) {
			s->writer[op->slot] = session_of(call);
			s->written_at[op->slot] = now;
		}
		submit(c, s, op, (uint16_t)to);
		return;
	}
	if (measuring)
		s->reads++;
	op->must_see = s->acked[op->slot];
	op->must_see_at = s->acked_at[op->slot];
	op->parts = 0;
	if (s->read_quorum <= 1) {
		int to = serving_read(c, s, call);
		if (to < 0) {
			answer(c, s, op, ASIM_UNREACHABLE);
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
		if (!refuses(s, i))
			pick[n++] = (uint16_t)i;
	if (n < s->read_quorum) {
		answer(c, s, op, ASIM_UNREACHABLE);
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
static void lose(struct asim_component *c, struct database *s, struct op *op)
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
		lose(c, s, op);
		return;
	}
	/* A write still waiting for its replicas when its primary was deposed
	 * was never acknowledged: the client hears an error. */
	if (op->epoch != s->lead.epoch || op->inst != s->lead.leader) {
		answer(c, s, op, ASIM_ERROR);
		return;
	}
	if (op->version > s->acked[op->slot]) {
		s->acked[op->slot] = op->version;
		s->acked_at[op->slot] = now;
	}
	answer(c, s, op, ASIM_OK);
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
		answer(c, s, op, ASIM_OK);
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
static void relink(struct asim_component *c, struct database *s, uint16_t r)
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

static void commit(struct asim_component *c, struct database *s, struct op *op)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	if (!lead_may_commit(&s->lead, c, op->inst)) {
		if (asim_measuring_at(k, op->arrived))
			s->refused++;
		answer(c, s, op, ASIM_ERROR);
		return;
	}
	if (op->call->version && !fence_ok(c, s, op)) {
		answer(c, s, op, ASIM_ERROR);
		return;
	}
	if (duplicate(c, s, op))
		return;
	op->version = ++s->applied[(size_t)op->inst * s->nslots + op->slot];
	if (s->index.on && op->inst == s->lead.leader)
		index_ship(c, s, op);
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
			answer(c, s, op, ASIM_OK);
		} else {
			lose(c, s, op);
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

static void applied(struct asim_component *c, struct database *s, struct apply *a, uint16_t r)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	uint64_t *v = &s->applied[(size_t)r * s->nslots + a->slot];
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
		lose(c, s, op); /* its replicas will never all hold it */
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
static void catch_up(struct asim_component *c, struct database *s)
{
	struct asim_kernel *k = c->kernel;
	uint16_t p = s->lead.leader;
	const uint64_t *have = &s->applied[(size_t)p * s->nslots];
	for (uint32_t r = 0; r < c->instances; r++) {
		if (r == p)
			continue;
		const uint64_t *v = &s->applied[(size_t)r * s->nslots];
		for (uint32_t slot = 0; slot < s->nslots; slot++) {
			if (v[slot] >= have[slot])
				continue;
			struct apply *a = asim_pool_get(&s->applies);
			if (!a) {
				asim_kernel_stop(k);
				return;
			}
			/* The lag counts from the write's acknowledgement when the
			 * primary acknowledged this version, else from now. */
			bool acked = s->acked[slot] == have[slot];
			*a = (struct apply){.slot = slot, .from = p, .version = have[slot],
			                    .epoch = s->lead.epoch, .gen = s->lead.gen,
			                    .committed = acked ? s->acked_at[slot] : asim_now(k)};
			ship(c, s, a, (uint16_t)r);
		}
	}
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
		commit(c, s, op);
		return;
	}
	uint64_t v = s->applied[(size_t)i * s->nslots + op->slot];
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
		lose(c, s, op);
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

/* replay_time: apply a has landed at replica r, which replays one write at
 * a time in the order they land: it is applied once the replay of those
 * before it, and its own, are done. */
static void replay(struct asim_component *c, struct database *s, struct apply *a, uint16_t r)
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
			s->index.repaired += index_compare(c, s, true);
		else
			index_compare(c, s, true);
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
			replay(c, s, ev->p, ev->inst);
		else
			applied(c, s, ev->p, ev->inst);
		break;
	case EV_REPLAYED:
		s->inst[ev->inst].replaying--;
		applied(c, s, ev->p, ev->inst);
		break;
	case ASIM_EV_RESPONSE:
		lead_handle(&s->lead, c, ev, EV_LEAD);
		track_primary(s, asim_now(c->kernel));
		break;
	case EV_RELINK:
		relink(c, s, ev->inst);
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
		s->index.drift = index_compare(c, s, false);
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

/* The earliest commit among the applies an instance holds back, or now:
 * the link's are in commit order (shipped at commit, sent on as a prefix),
 * the others' earliest is kept as they are held. Constant time, as series
 * sample every window however long the hold. */
static asim_time oldest_held(const struct instance *in, asim_time now)
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
		asim_time t = oldest_held(in, now);
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
	if (!s->acked)
		return false;
	uint32_t slot = (uint32_t)(key & (s->nslots - 1));
	*version = s->acked[slot];
	*at = s->acked_at[slot];
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
			catch_up(c, s);
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
	free(s->applied);
	free(s->acked);
	free(s->acked_at);
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
	.route = route,
	.acked_version = acked_version,
};
