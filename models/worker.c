/* worker: asynchronous workers, usually the consumers of a queue. Each of
 * `instances` runs `concurrency` tasks at once and keeps the others in a FIFO
 * (unbounded unless `queue` is given; beyond it a task is rejected).
 *
 * A task takes service_time; then, with a `target` (the database, say), the
 * worker calls it with the task's key and op (or with its own `op`: workers
 * that apply every event as a write, whatever request emitted it) and holds
 * its slot until the answer (or its own `timeout`), and answers the task
 * with that status. OK is the acknowledgement the queue waits for.
 *
 * Duplicates: a task completed (answered OK) for a logical request that the
 * worker completed before, from the same caller, has applied its effect
 * twice: a redelivery after an ack timeout that fired while the first
 * delivery was still being processed, or while its OK answer was on its way
 * or lost; a client's retry after its timeout. Unless the worker is
 * `idempotent`, each counts as a duplicate write. The worker remembers the
 * requests it completed in a table of DONE_SLOTS entries indexed by the
 * request id and the caller (request_slot: consecutive entries for one
 * issuer's requests through one caller; a later request sharing an entry
 * evicts an older one, so a repeat far apart may go uncounted), as the
 * database's duplicate table does. Counting from the caller's side instead
 * (a completion the caller had given up on) counted a client's timed-out
 * request that was never sent again, and missed a redelivery whose first
 * OK answer was late.
 * A completion whose target answered OK with ASIM_CALL_DEDUPLICATED is no
 * duplicate, and is not remembered either: the target (a database with
 * `idempotency: true`, directly or through a cache, gateway or balancer
 * that relays its answer) recognised the task's request id from this
 * worker (or from the relay) and did not apply it again, so the effect
 * landed once; the worker passes the task's request id to its target for
 * that. So `duplicates` counts the completions that applied the effect
 * again. A target that does work of its own (a service calling a
 * database) does not relay that flag: its own work and its other calls ran
 * again, which the database's recognising one write of them does not
 * undo; such a repeat still counts.
 * The worker's calls carry ASIM_CALL_REPEATS_COUNTED, so the database (or
 * the one behind a relay) leaves the count to it, and answers a write it
 * applied again with ASIM_CALL_REAPPLIED: such a completion counts as a
 * duplicate even when the worker never completed the first attempt (its
 * own timeout failed it after the write had landed), and is not
 * remembered, so that the first attempt's answer, if it comes later, is
 * not counted again. (Before, a database behind a relay counted the
 * relay's repeat as its own duplicate too, twice for one, and a repeat
 * after the worker's own timeout went uncounted.)
 * A service's calls do not carry the flag: they are its own (service_calls.c,
 * Repeats), and a database behind a service counts a write of them applied
 * again itself, and says so (ASIM_CALL_DUPLICATE_COUNTED, passed back by
 * the service and by relays). The worker takes such a completion as one
 * deduplicated: not counted again, nor remembered. (Before, a repeat the
 * worker completed twice through a service counted there and here, two
 * for one.)
 * Nor does the worker count a completion whose target passed the task on
 * out of its sight (ASIM_CALL_PASSED_ON, passed back by services and
 * relays): a queue that took the task's message as a repeat of one it had
 * taken (stored under the first one's id, so that the queue's consumer
 * counts it, or an idempotent store behind that consumer absorbs it); a
 * service that emitted a call for it (an emit's answer is never waited
 * for) or gave up waiting for a call of it that may write and answered
 * OK all the same (on_error: ignore after a timeout, the slower calls of
 * a parallel group). Where such a repeat lands it is counted once or
 * absorbed, and the verdict may come after the service answered: the
 * worker, which cannot wait for it, leaves the count there (before, it
 * counted such a repeat as well: two for one when the store counted it
 * too). The price: a repeat that lands nowhere to be counted (its write
 * absorbed by an idempotent store, or never applied) is not counted,
 * where through a call the service waits for the worker would count the
 * service's own work run again. Such a completion is not remembered
 * either.
 * Workers do not check for abandonment before starting: a consumer holding a
 * message cannot see that its visibility timeout has passed.
 *
 * Locks (`lock: {coordinator: NAME, ttl: 5s, fencing: false, retry: 50ms,
 * timeout: 1s}`): before processing a task for key K, the task acquires the
 * lock named K from the coordinator (op "acquire", holder = the task) and
 * keeps its thread while it waits: a refusal is retried every `retry`, an
 * unanswered request is given up after `timeout` and sent again to the
 * coordinator's next node (the first is the task's holder id modulo the
 * nodes), and a task whose caller has gone stops waiting. Granted, it
 * processes, writes to its target carrying the fencing token in call->version
 * (with MODEL_FENCE_CHECK set under `fencing: true`, asking the store to
 * refuse a token older than one it has seen for the key), and releases the
 * lock whatever the answer.
 * A holder that crashes forgets its lock: the coordinator keeps it until its
 * TTL, and the instance counts a lock leak and the time from the crash (or
 * from the grant, for a lock granted while the answer was in flight to a
 * holder that had crashed) to the lease's expiry (outcome lock_leaks,
 * lock_leak). A paused holder (GC pause) keeps processing after the pause
 * as if it still held the lock; if the TTL ran out meanwhile, another task
 * may have taken it, and the late write is a conflicting write unless the
 * store fences it. Without a lock, call->version carries the task's own
 * version (a change feed's source version) to the target.
 *
 * Pause: a paused instance holds back every event of its own (work, answers,
 * timers) and runs them when the pause ends, work with the time it still had
 * to do. Deliveries that arrive meanwhile wait in its queue (or are rejected
 * beyond `queue`), their time from delivery to ack running, and start when
 * the pause ends. */
#include <stdlib.h>
#include <string.h>

#include "archsim/dist.h"
#include "archsim/pool.h"
#include "common.h"

struct task {
	struct asim_call *in, *out;
	struct asim_call *lock;  /* acquire request in flight, or NULL */
	struct asim_timer timer;
	asim_time arrived, began;
	uint64_t holder, token;  /* lock: the task's holder id and its grant */
	asim_time expiry;        /* the lock's expiry, as the coordinator set it */
	uint16_t inst;
	uint16_t node;           /* lock: the coordinator node it asks */
	bool holding;            /* holds its lock */
	uint32_t epoch; /* its instance's epoch when it arrived (faults) */
	asim_time pause_mark; /* its instance's pause clock when its service began */
};

struct instance {
	uint32_t busy;
	struct ptr_ring queue; /* of struct task * */
	struct load_levels lv;
	struct inst_fault f;
	struct held_list held; /* events frozen by a pause */
	asim_time down_at;     /* the last crash's start */
};

struct lock_cfg {
	bool on, fencing;
	uint32_t coordinator, coord_instances;
	asim_time ttl, retry, timeout;
	int op_acquire, op_release;
};

struct worker {
	uint32_t concurrency;
	uint64_t queue_cap; /* UINT64_MAX: unbounded */
	struct asim_dist service_time;
	struct asim_dist_ahead service_ahead; /* from start(): r_service draws nothing else */
	bool has_target, idempotent;
	uint32_t target, target_instances;
	int op;            /* -1: the task's op; else `op:` */
	asim_time timeout; /* 0: none */
	gsl_rng *r_service, *r_route;
	struct instance *inst;
	struct asim_pool tasks;
	struct lock_cfg lock;
	uint64_t holder_seq;
	uint64_t *done_req;    /* DONE_SLOTS completed requests (see Duplicates) */
	uint32_t *done_caller; /* and their callers */

	/* Measured after warm-up. */
	uint64_t arrived, processed, failed, rejected, duplicates;
	uint64_t lock_grants, lock_refusals, lock_timeouts, lock_leaks;
	asim_time lock_leak;
	struct asim_hist latency, lock_wait;
	struct queue_sum qsum; /* queue (database: connection wait) over the instances */
};

/* Completed requests remembered (a power of two): 12 bytes each, 768 KiB
 * per worker that is not idempotent. An entry lives while the queue (or
 * client) that issued it sends its next 65,536 requests: 65 s at 1,000 per
 * second and 6.5 s at 10,000, so a repeat further apart than that (a
 * redelivery after a 30 s ack timeout at 10,000 per second) goes uncounted;
 * another issuer's run of entries may reach it sooner. */
#define DONE_SLOTS (UINT32_C(1) << 16)

enum { EV_SERVED = EV_MODEL_BASE, EV_TARGET_TIMEOUT, EV_LOCK_RETRY, EV_LOCK_TIMEOUT };

static const char *const worker_keys[] = {
	"kind", "instances", "zones", "zone", "concurrency", "queue", "service_time", "target",
	"timeout", "idempotent", "lock", "op", NULL,
};
static const char *const lock_keys[] = {"coordinator", "ttl", "fencing", "retry", "timeout",
                                        NULL};

static bool configure_lock(struct asim_component *c, struct worker *s,
                           const struct asim_cfg *map, struct asim_diag *d)
{
	const struct asim_cfg *lk = asim_cfg_get(map, "lock");
	if (!lk)
		return true;
	if (!asim_cfg_expect_map(lk, "lock", lock_keys, d))
		return false;
	struct lock_cfg *L = &s->lock;
	L->ttl = 10 * ASIM_S;
	L->retry = 50 * ASIM_MS;
	L->timeout = ASIM_S;
	bool ok = asim_cfg_time(lk, "ttl", ASIM_OPTIONAL, ASIM_MS, 24 * ASIM_HOUR, &L->ttl, d);
	ok &= asim_cfg_time(lk, "retry", ASIM_OPTIONAL, ASIM_US, ASIM_HOUR, &L->retry, d);
	ok &= asim_cfg_time(lk, "timeout", ASIM_OPTIONAL, ASIM_US, ASIM_HOUR, &L->timeout, d);
	ok &= asim_cfg_bool(lk, "fencing", ASIM_OPTIONAL, &L->fencing, d);
	struct asim_component *co = model_target(c, lk, "coordinator", d);
	if (!ok || !co)
		return false;
	if (strcmp(co->ops->kind, "coordinator")) {
		asim_diag_error(d, asim_cfg_get(lk, "coordinator")->mark,
		                "'coordinator' of '%s' must name a coordinator, not a %s", c->name,
		                co->ops->kind);
		return false;
	}
	L->coordinator = co->id;
	L->op_acquire = asim_kernel_op(c->kernel, "acquire");
	L->op_release = asim_kernel_op(c->kernel, "release");
	if (L->op_acquire < 0 || L->op_release < 0) {
		asim_diag_error(d, lk->mark, "too many operation names (at most %d)", ASIM_MAX_OPS);
		return false;
	}
	L->on = true;
	return true;
}

static bool configure(struct asim_component *c, const struct asim_cfg *map, struct asim_diag *d)
{
	struct worker *s = c->state;
	if (!asim_cfg_expect_map(map, c->name, worker_keys, d))
		return false;
	int64_t conc = 1;
	s->queue_cap = UINT64_MAX;
	s->timeout = 0;
	bool ok = model_instances(c, map, 65535, d);
	ok &= asim_cfg_int(map, "concurrency", ASIM_OPTIONAL, 1, 1000000, &conc, d);
	const struct asim_cfg *q = asim_cfg_get(map, "queue");
	if (q && !(q->type == ASIM_CFG_SCALAR && !strcmp(q->text, "unbounded"))) {
		int64_t cap = 0;
		ok &= asim_cfg_int(map, "queue", ASIM_REQUIRED, 0, INT64_C(1) << 32, &cap, d);
		s->queue_cap = (uint64_t)cap;
	}
	ok &= asim_cfg_dist(map, "service_time", ASIM_REQUIRED, &s->service_time, d);
	ok &= asim_cfg_time(map, "timeout", ASIM_OPTIONAL, ASIM_NS, 24 * ASIM_HOUR, &s->timeout, d);
	ok &= asim_cfg_bool(map, "idempotent", ASIM_OPTIONAL, &s->idempotent, d);
	ok &= configure_lock(c, s, map, d);
	if (asim_cfg_get(map, "target")) {
		struct asim_component *t = model_target(c, map, "target", d);
		if (t) {
			s->has_target = true;
			s->target = t->id;
		} else {
			ok = false;
		}
	} else {
		static const char *const need_target[] = {"timeout", "op"};
		for (size_t i = 0; i < sizeof need_target / sizeof need_target[0]; i++) {
			const struct asim_cfg *m = asim_cfg_get(map, need_target[i]);
			if (m) {
				asim_diag_error(d, m->mark, "'%s' of '%s' applies only with a 'target'",
				                need_target[i], c->name);
				ok = false;
			}
		}
	}
	ok &= model_op(c, map, &s->op, d);
	if (!ok)
		return false;
	s->concurrency = (uint32_t)conc;
	s->inst = calloc(c->instances, sizeof *s->inst);
	if (!s->inst) {
		asim_diag_error(d, map->mark, "out of memory for the instances of '%s'", c->name);
		return false;
	}
	s->r_service = asim_kernel_rng(c->kernel, c->name, "service");
	s->r_route = asim_kernel_rng(c->kernel, c->name, "route");
	asim_kernel_pool_init(c->kernel, &s->tasks, sizeof(struct task), 1024);
	asim_hist_init(&s->latency);
	asim_hist_init(&s->lock_wait);
	return true;
}

static void start(struct asim_component *c)
{
	struct worker *s = c->state;
	asim_dist_ahead_init(&s->service_ahead, &s->service_time, s->r_service);
	if (s->has_target)
		s->target_instances = asim_kernel_component(c->kernel, s->target)->instances;
	if (s->lock.on) {
		s->lock.coord_instances =
			asim_kernel_component(c->kernel, s->lock.coordinator)->instances;
		if (!s->lock.coord_instances)
			s->lock.coord_instances = 1;
	}
	load_levels_init(&s->inst[0].lv, sizeof s->inst[0], c->instances, 0);
	if (!s->idempotent) {
		s->done_req = calloc(DONE_SLOTS, sizeof *s->done_req);
		s->done_caller = calloc(DONE_SLOTS, sizeof *s->done_caller);
		if (!s->done_req || !s->done_caller)
			asim_kernel_stop(c->kernel);
	}
}

/* Whether call's request was completed before (a duplicate); remembers it
 * as completed. Requests without an id (0) are never duplicates. */
static bool completed_before(struct worker *s, const struct asim_call *call)
{
	if (!call->request || !s->done_req)
		return false;
	uint32_t h = request_slot(call->request, call->caller, DONE_SLOTS - 1);
	bool seen = s->done_req[h] == call->request && s->done_caller[h] == call->caller;
	s->done_req[h] = call->request;
	s->done_caller[h] = call->caller;
	return seen;
}

static void process(struct asim_component *c, struct worker *s, struct task *t)
{
	struct instance *in = &s->inst[t->inst];
	t->pause_mark = inst_fault_pause_clock(&in->f, asim_now(c->kernel));
	asim_schedule(c->kernel, inst_fault_time(&in->f, asim_dist_ahead_take(&s->service_ahead)),
	              c->id, EV_SERVED, t->inst, 0, t);
}

static void acquire(struct asim_component *c, struct worker *s, struct task *t)
{
	struct asim_kernel *k = c->kernel;
	struct asim_call *call = asim_call_new(k);
	if (!call)
		return;
	call->op = (uint16_t)s->lock.op_acquire;
	call->key = t->in->key;
	call->request = t->holder;
	call->version = (uint64_t)s->lock.ttl;
	call->origin = asim_now(k);
	call->token = (uint64_t)(uintptr_t)t;
	t->lock = call;
	asim_call_send(k, call, c->id, t->inst, s->lock.coordinator, t->node);
	t->timer = asim_schedule(k, s->lock.timeout, c->id, EV_LOCK_TIMEOUT, t->inst, 0, t);
}

/* Fire and forget: the release needs no answer (a lost one lets the TTL
 * free the lock), so the call is abandoned as soon as it is sent. */
static void release(struct asim_component *c, struct worker *s, struct task *t)
{
	struct asim_kernel *k = c->kernel;
	t->holding = false;
	struct asim_call *call = asim_call_new(k);
	if (!call)
		return;
	call->op = (uint16_t)s->lock.op_release;
	call->key = t->in->key;
	call->request = t->holder;
	call->origin = asim_now(k);
	asim_call_send(k, call, c->id, t->inst, s->lock.coordinator, t->node);
	asim_call_abandon(k, call);
}

static void begin(struct asim_component *c, struct worker *s, struct task *t)
{
	struct asim_kernel *k = c->kernel;
	struct instance *in = &s->inst[t->inst];
	in->busy++;
	asim_tw_set(&in->lv.busy, asim_now(k), in->busy);
	t->began = asim_now(k);
	if (s->lock.on) {
		t->holder = ((uint64_t)c->id << 48 | ++s->holder_seq) + 1;
		t->node = (uint16_t)(t->holder % s->lock.coord_instances);
		acquire(c, s, t);
		return;
	}
	process(c, s, t);
}

static void arrive(struct asim_component *c, struct worker *s, struct asim_call *call,
                   uint16_t inst)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct instance *in = &s->inst[inst];
	bool measuring = asim_measuring_at(k, now);
	if (measuring)
		s->arrived++;
	if (in->f.down) {
		if (in->f.gone)
			asim_call_drop(k, call);
		else
			asim_call_reply(k, call, ASIM_UNREACHABLE);
		return;
	}
	bool can_start = in->busy < s->concurrency && !in->f.stalled && !in->f.paused;
	if (!can_start && in->queue.len >= s->queue_cap) {
		if (measuring)
			s->rejected++;
		asim_call_reply(k, call, ASIM_REJECTED);
		return;
	}
	struct task *t = asim_pool_get(&s->tasks);
	if (!t) {
		asim_kernel_stop(k);
		return;
	}
	t->in = call;
	t->arrived = now;
	t->inst = inst;
	t->epoch = in->f.epoch;
	if (can_start) {
		begin(c, s, t);
		return;
	}
	if (!ptr_ring_push(&in->queue, t)) {
		asim_pool_put(&s->tasks, t);
		asim_kernel_stop(k);
		return;
	}
	queue_sum_set(&s->qsum, &in->lv.queue, now, in->queue.len);
}

/* Task t ends with status st; deduplicated: the repeat is not the worker's
 * to count, since its target answered OK without applying the write again
 * (ASIM_CALL_DEDUPLICATED), a store behind it counted it
 * (ASIM_CALL_DUPLICATE_COUNTED), or it is judged where the target passed
 * it on to (ASIM_CALL_PASSED_ON); reapplied: its target answered OK having
 * applied this request before (ASIM_CALL_REAPPLIED). */
static void complete(struct asim_component *c, struct worker *s, struct task *t,
                     enum asim_status st, bool deduplicated, bool reapplied)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct instance *in = &s->inst[t->inst];
	if (t->epoch != in->f.epoch) {
		/* Begun before a crash: lost with it, and so is the lock it held,
		 * which stays taken until its TTL runs out. It leaks from the
		 * crash, or from the grant when the coordinator granted it to the
		 * crashed holder after the crash (the answer was in flight): a
		 * lease leaks for at most its TTL. */
		if (t->holding && asim_measuring_at(k, in->down_at)) {
			struct asim_outcome *o = asim_kernel_outcome(k);
			asim_time granted = t->expiry > s->lock.ttl ? t->expiry - s->lock.ttl : 0;
			asim_time from = granted > in->down_at ? granted : in->down_at;
			asim_time left = t->expiry > from ? t->expiry - from : 0;
			s->lock_leaks++;
			s->lock_leak += left;
			o->lock_leaks++;
			o->lock_leak += left;
		}
		asim_call_drop(k, t->in);
		asim_pool_put(&s->tasks, t);
		return;
	}
	if (t->holding)
		release(c, s, t);
	/* Remembered before warm-up ends too: a repeat after it counts. A
	 * completion the target deduplicated is neither counted nor
	 * remembered: when the answers of two deliveries cross on the way
	 * back, the deduplicated one may come first, and the one that applied
	 * the write is then no repeat. */
	bool duplicate = false;
	if (st == ASIM_OK && !deduplicated) {
		/* A store that says it applied the request again is believed
		 * first: it also sees a repeat whose first attempt failed on the
		 * worker's side (its own timeout) after the write had landed. Such
		 * a completion is not remembered, so that the first one's answer,
		 * if it crossed this one and comes later, is not counted again. */
		if (reapplied)
			duplicate = !s->idempotent;
		else
			duplicate = completed_before(s, t->in);
	}
	/* A worker that its caller reached directly or through a service (a
	 * worker or a service's worker above it) says it counted the repeat,
	 * as a database does, so that the worker above does not count it
	 * again: two for one before. A queue ignores the flag on an ack. */
	if (duplicate)
		t->in->flags |= ASIM_CALL_DUPLICATE_COUNTED;
	if (asim_measuring_at(k, now)) {
		if (st == ASIM_OK) {
			s->processed++;
			asim_hist_record(&s->latency, now - t->arrived);
			if (duplicate) {
				s->duplicates++;
				asim_kernel_outcome(k)->duplicate_writes++;
			}
		} else {
			s->failed++;
		}
	}
	asim_call_reply(k, t->in, st);
	asim_pool_put(&s->tasks, t);
	in->busy--;
	asim_tw_set(&in->lv.busy, now, in->busy);
	struct task *next = in->f.stalled ? NULL : ptr_ring_pop(&in->queue);
	if (next) {
		queue_sum_set(&s->qsum, &in->lv.queue, now, in->queue.len);
		begin(c, s, next);
	}
}

static void served(struct asim_component *c, struct worker *s, struct task *t)
{
	struct asim_kernel *k = c->kernel;
	if (!s->has_target || t->epoch != s->inst[t->inst].f.epoch) {
		complete(c, s, t, ASIM_OK, false, false);
		return;
	}
	struct asim_call *out = asim_call_new(k);
	if (!out)
		return;
	out->op = s->op >= 0 ? (uint16_t)s->op : t->in->op;
	out->key = t->in->key;
	out->request = t->in->request;
	/* The worker counts its repeats (complete), so the store does not. */
	out->flags |= ASIM_CALL_REPEATS_COUNTED;
	out->session = t->in->session;
	out->origin = t->in->origin;
	out->attempt = t->in->attempt;
	out->deadline = t->in->deadline;
	out->version = t->in->version;
	if (t->holding)
		out->version = t->token | (s->lock.fencing ? MODEL_FENCE_CHECK : 0);
	out->token = (uint64_t)(uintptr_t)t;
	t->out = out;
	uint16_t inst = 0;
	if (s->target_instances > 1)
		inst = (uint16_t)gsl_rng_uniform_int(s->r_route, s->target_instances);
	asim_call_send(k, out, c->id, t->inst, s->target, inst);
	if (s->timeout)
		t->timer = asim_schedule(k, s->timeout, c->id, EV_TARGET_TIMEOUT, t->inst, 0, t);
}

/* The coordinator's answer to a task's acquire. */
static void lock_answer(struct asim_component *c, struct worker *s, struct asim_call *call)
{
	struct asim_kernel *k = c->kernel;
	struct task *t = (struct task *)(uintptr_t)call->token;
	enum asim_status st = call->status;
	uint64_t token = call->version;
	asim_time expiry = call->origin;
	asim_call_free(k, call);
	t->lock = NULL;
	asim_cancel(k, t->timer);
	t->timer = (struct asim_timer){0};
	asim_time now = asim_now(k);
	bool measuring = asim_measuring_at(k, now);
	if (st == ASIM_OK) {
		t->holding = true;
		t->token = token;
		t->expiry = expiry;
		if (t->epoch != s->inst[t->inst].f.epoch) {
			complete(c, s, t, ASIM_ERROR, false, false); /* granted to a holder that crashed */
			return;
		}
		if (measuring) {
			s->lock_grants++;
			asim_hist_record(&s->lock_wait, now - t->began);
		}
		process(c, s, t);
		return;
	}
	if (measuring)
		s->lock_refusals++;
	t->timer = asim_schedule(k, s->lock.retry, c->id, EV_LOCK_RETRY, t->inst, 0, t);
}

/* Waiting for a lock: try again, unless the task is lost or unwanted. */
static void lock_retry(struct asim_component *c, struct worker *s, struct task *t)
{
	t->timer = (struct asim_timer){0};
	if (t->epoch != s->inst[t->inst].f.epoch || asim_call_abandoned(t->in)) {
		complete(c, s, t, ASIM_TIMEOUT, false, false);
		return;
	}
	acquire(c, s, t);
}

/* Begins the tasks queued at in while it has free threads and may take
 * them (not down, stalled or paused). */
static void start_queued(struct asim_component *c, struct worker *s, struct instance *in)
{
	struct task *t;
	while (!in->f.down && !in->f.stalled && !in->f.paused && in->busy < s->concurrency &&
	       (t = ptr_ring_pop(&in->queue))) {
		queue_sum_set(&s->qsum, &in->lv.queue, asim_now(c->kernel), in->queue.len);
		begin(c, s, t);
	}
}

/* Holds back an event of a paused instance; true when it did. A delivery
 * is not held: it arrives (and its time to the ack counts from then) and
 * waits in the queue for the pause to end, as at a service. */
static bool held_back(struct asim_component *c, struct worker *s, const struct asim_event *ev)
{
	if (ev->type == ASIM_EV_REQUEST)
		return false;
	uint16_t i = ev->inst < c->instances ? ev->inst : 0;
	struct instance *in = &s->inst[i];
	/* Work in progress owes the pause time since it began, whether the
	 * pause is still on (then it resumes with that much left) or ended
	 * before the work was due; anything else is simply late. */
	asim_time *mark = NULL;
	if (ev->type == EV_SERVED) {
		struct task *t = ev->p;
		mark = &t->pause_mark;
		asim_time owed = inst_fault_pause_clock(&in->f, asim_now(c->kernel)) - *mark;
		if (pause_defer(c, &in->held, in->f.paused, in->f.paused_total, owed, mark,
		                EV_SERVED, i, t))
			return true;
	}
	if (!in->f.paused)
		return false;
	if (!held_push(&in->held, ev->type, i, ev->p, 0, mark))
		asim_kernel_stop(c->kernel);
	return true;
}

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct worker *s = c->state;
	struct asim_kernel *k = c->kernel;
	if (held_back(c, s, ev))
		return;
	switch (ev->type) {
	case ASIM_EV_REQUEST:
		arrive(c, s, ev->p, ev->inst < c->instances ? ev->inst : 0);
		break;
	case EV_SERVED:
		served(c, s, ev->p);
		break;
	case EV_LOCK_RETRY:
		lock_retry(c, s, ev->p);
		break;
	case EV_LOCK_TIMEOUT: {
		struct task *t = ev->p;
		if (s->lock.on && t->lock) {
			asim_call_abandon(k, t->lock);
			t->lock = NULL;
			if (asim_measuring_at(k, asim_now(k)))
				s->lock_timeouts++;
			/* Asked again at the next node, as an etcd client moves to
			 * its next endpoint: retrying the one that stopped answering
			 * left a task waiting for a crashed node while the others
			 * kept a majority. */
			t->node = (uint16_t)((t->node + 1u) % s->lock.coord_instances);
			lock_retry(c, s, t);
		}
		break;
	}
	case ASIM_EV_RESPONSE: {
		struct asim_call *out = ev->p;
		if (s->lock.on && out->callee == s->lock.coordinator) {
			lock_answer(c, s, out);
			break;
		}
		struct task *t = (struct task *)(uintptr_t)out->token;
		enum asim_status st = out->status;
		/* A repeat that a store behind a service counted itself, or
		 * that is judged where the target passed the task on to (a
		 * queue's consumer, a service's emit), is, to the worker, one
		 * it need not count: as one deduplicated. */
		bool deduplicated = asim_call_deduplicated(out) ||
		                    asim_call_duplicate_counted(out) || asim_call_passed_on(out);
		bool reapplied = asim_call_reapplied(out);
		asim_cancel(k, t->timer);
		t->in->version = out->version;
		asim_call_free(k, out);
		t->out = NULL;
		complete(c, s, t, st, deduplicated, reapplied);
		break;
	}
	case EV_TARGET_TIMEOUT: {
		struct task *t = ev->p;
		if (!t->out)
			break; /* answered before it, both held back by a pause */
		asim_call_abandon(k, t->out);
		t->out = NULL;
		complete(c, s, t, ASIM_TIMEOUT, false, false);
		break;
	}
	}
}

static void warmup_end(struct asim_component *c)
{
	struct worker *s = c->state;
	asim_time now = asim_now(c->kernel);
	load_levels_reset(&s->inst[0].lv, sizeof s->inst[0], c->instances, now);
	queue_sum_reset(&s->qsum);
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct worker *s = c->state;
	const char *n = c->name;
	asim_results_string(r, "worker", "components.%s.kind", n);
	asim_results_count(r, c->instances, "components.%s.instances", n);
	load_levels_report(c, &s->inst[0].lv, sizeof s->inst[0], s->concurrency, &s->qsum, r);
	asim_results_count(r, s->arrived, "components.%s.arrived", n);
	asim_results_count(r, s->processed, "components.%s.processed", n);
	asim_results_count(r, s->failed, "components.%s.failed", n);
	asim_results_count(r, s->rejected, "components.%s.rejected", n);
	asim_results_count(r, s->duplicates, "components.%s.duplicates", n);
	asim_hist_report(r, &s->latency, "components.%s.latency_ms", n);
	if (!s->lock.on)
		return;
	asim_results_count(r, s->lock_grants, "components.%s.lock_grants", n);
	asim_results_count(r, s->lock_refusals, "components.%s.lock_refusals", n);
	asim_results_count(r, s->lock_timeouts, "components.%s.lock_timeouts", n);
	asim_results_count(r, s->lock_leaks, "components.%s.lock_leaks", n);
	asim_results_real(r, asim_time_to_seconds(s->lock_leak), "components.%s.lock_leak_s", n);
	asim_results_real(r, asim_time_to_ms(asim_hist_quantile(&s->lock_wait, 0.99)),
	                  "components.%s.lock_wait_ms.p99", n);
	asim_results_real(r, s->lock_wait.count ? asim_time_to_ms(s->lock_wait.max) : 0.0,
	                  "components.%s.lock_wait_ms.max", n);
}

/* Tasks waiting and running now, summed over the instances, for the time
 * series, as a service reports them. */
static void sample(const struct asim_component *c, struct asim_results *r)
{
	const struct worker *s = c->state;
	load_levels_sample(c, &s->inst[0].lv, sizeof s->inst[0], r);
}

static size_t edges(const struct asim_component *c, uint32_t *to, size_t max)
{
	const struct worker *s = c->state;
	size_t n = 0;
	if (s->has_target && n < max)
		to[n] = s->target;
	n += s->has_target;
	if (s->lock.on && n < max)
		to[n] = s->lock.coordinator;
	n += s->lock.on;
	return n;
}

static void destroy(struct asim_component *c)
{
	struct worker *s = c->state;
	if (s->inst)
		for (uint32_t i = 0; i < c->instances; i++) {
			ptr_ring_free(&s->inst[i].queue);
			held_free(&s->inst[i].held);
		}
	free(s->inst);
	free(s->done_req);
	free(s->done_caller);
	asim_dist_finish(&s->service_time);
	asim_pool_finish(&s->tasks);
}

/* Faults, per instance. A crash loses the tasks it holds (queued ones at
 * once, running ones when their next event comes up) and refuses new ones
 * (drops them under a zone loss) until the restart, which is cold.
 * consumer_stall stops the instance taking tasks: they queue, the running
 * ones finish. slow stretches service times. */
static void fault(struct asim_component *c, const struct asim_fault *f, bool active)
{
	struct worker *s = c->state;
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	for (uint32_t i = 0; i < c->instances; i++) {
		if (!asim_fault_hits(f, i))
			continue;
		struct instance *in = &s->inst[i];
		struct task *t;
		switch (inst_fault_apply(&in->f, f, active, now)) {
		case EDGE_RESUMED:
			held_release(&in->held, c, in->f.paused_total);
			start_queued(c, s, in);
			break;
		case EDGE_DOWN:
			in->down_at = now;
			while ((t = ptr_ring_pop(&in->queue))) {
				asim_call_drop(k, t->in);
				asim_pool_put(&s->tasks, t);
			}
			in->busy = 0;
			asim_tw_set(&in->lv.busy, now, 0);
			queue_sum_set(&s->qsum, &in->lv.queue, now, 0);
			break;
		case EDGE_UNSTALLED:
			start_queued(c, s, in);
			break;
		default:
			break;
		}
	}
}

/* The model op judges_read: a worker that is not idempotent counts a
 * repeat of any request it completed before, reads included; an
 * idempotent one sends the read on to its target. */
static bool judges_read(const struct asim_component *c, unsigned depth)
{
	const struct worker *s = c->state;
	return !s->idempotent || model_relay_judges_read(c, depth);
}

const struct asim_model_ops asim_worker_ops = {
	.kind = "worker",
	.summary = "async workers: concurrency, service time, optional target call, idempotence",
	.state_size = sizeof(struct worker),
	.configure = configure,
	.start = start,
	.handle = handle,
	.warmup_end = warmup_end,
	.report = report,
	.edges = edges,
	.judges_read = judges_read,
	.sample = sample,
	.destroy = destroy,
	.faults = ASIM_FAULT_BIT(ASIM_FAULT_CRASH) | ASIM_FAULT_BIT(ASIM_FAULT_ZONE_LOSS) |
	          ASIM_FAULT_BIT(ASIM_FAULT_SLOW) | ASIM_FAULT_BIT(ASIM_FAULT_CONSUMER_STALL) |
	          ASIM_FAULT_BIT(ASIM_FAULT_PAUSE),
	.fault = fault,
};
