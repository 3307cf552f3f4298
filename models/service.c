/* service: a pool of identical instances, each with `concurrency` servers
 * (threads) and a bounded FIFO queue in front of them; a request that finds
 * the queue full is rejected at once. Service times come from a distribution.
 * With one instance, one server, Poisson arrivals and exponential service,
 * this is exactly M/M/1; tests hold it to the closed forms.
 *
 * A request may also call other components (`calls:`), between its own
 * `service_time` and an optional `post_time`. The server is held while it
 * waits (thread-per-request), so a slow dependency shows up as queueing in
 * the caller, as it does in real thread-pool servers. Calls run in the order
 * listed; a `parallel` group sends its children at once and waits for all of
 * them or for the first success. A downstream failure fails the request with
 * the status received unless the call says `on_error: ignore`. Each call
 * carries the request's operation (unless the call names its own `op`, as a
 * check that reads on behalf of a write does), key, id, origin and
 * deadline, the deadline tightened to now + the call's timeout (deadline
 * propagation, as in gRPC), and the service stops waiting when that
 * deadline passes. `emit` calls are
 * fire-and-forget: sent, never waited for, never failing the request.
 *
 * Repeats: the calls a service makes are its own, even for a worker's task,
 * so they do not carry the worker's ASIM_CALL_REPEATS_COUNTED (relays
 * forward it): a database behind the service counts a write of it applied
 * again (a redelivery's, or the service's own retry's or hedge's) as a
 * duplicate, and says so (ASIM_CALL_DUPLICATE_COUNTED). The service passes
 * that back from the answers it waits for, whatever their status, so that
 * the worker does not count the same repeat again (before, it counted
 * it as well: two for one). The store is the one to count: it sees every
 * write applied again, also those whose answers never come back to the
 * worker (the service gave up at the deadline the queue's ack timeout set,
 * or retried), which a worker counting from the answers it hears would
 * miss. The service does not pass back ASIM_CALL_DEDUPLICATED: its own
 * work and its other calls ran again, which the store's absorbing one
 * write does not undo, so the worker still counts a repeat it completed
 * before.
 * Some calls end out of the service's sight, and their verdict on a
 * repeat with them: an emit's answer is never waited for, and a call the
 * service gives up on (its timeout, with on_error: ignore or no retry
 * left that answers; a parallel group's calls still out when the group
 * has its answer) may still land, and be counted as a duplicate there,
 * after the service has answered. The answer then carries
 * ASIM_CALL_PASSED_ON, and the worker leaves the repeat to be judged
 * where those calls land: a database counts a write it applies again; a
 * queue stores an emitted message that repeats one it took under the
 * first one's id, and its consumer counts the repeat (or an idempotent
 * store behind it absorbs it). Before, the worker counted such a repeat
 * too (two for one whenever the store counted it), and a queue took each
 * repeat as a new message, which nothing downstream recognised. Calls
 * given up on count only when they may write: not reads (op read), which
 * no store counts, so that a parallel read of replicas that takes the
 * first answer does not hide the worker's repeats; a read sent to a
 * service that emits is the case this misses. The flag is also passed
 * back from the answers the service waits for (a service behind it that
 * emitted, a queue that took a repeat). */
#include <stdlib.h>
#include <string.h>

#include "archsim/dist.h"
#include "archsim/pool.h"
#include "common.h"
#include "resilience.h"

struct leg;

struct job {
	struct asim_call *call;
	asim_time arrived;
	uint16_t inst;
	uint8_t pending;   /* calls of the current step still awaited */
	uint8_t fail;      /* last failure in the current step (wait: first) */
	uint32_t step, end; /* current and end top-level step of the plan */
	struct leg *legs;  /* calls awaited, for cancelling the rest of a group */
	uint32_t epoch;    /* the instance's epoch when it arrived (faults) */
	bool passed_on;    /* it sent a call whose end it will not hear (Repeats) */
	asim_time pause_mark; /* its instance's pause clock when its timed step began */
};

/* One call that a job waits for, through its retries and hedge. */
struct leg {
	struct job *job;
	struct asim_call *call;  /* the attempt in flight, or NULL */
	struct asim_call *hcall; /* its hedge in flight, or NULL */
	struct asim_timer timer; /* the attempt's deadline, or the wait before a retry */
	struct asim_timer htimer; /* when to hedge */
	struct leg *next;
	uint32_t step;
	uint32_t attempt;
	bool gave_up;      /* an attempt that may write was abandoned at its deadline */
	asim_time sent, prev_backoff;
};

/* Set in a call's tag (with the step index) for a hedge. */
#define LEG_HEDGE 0x80000000u

enum call_kind { CALL_SYNC, CALL_EMIT, CALL_GROUP };
enum { ON_ERROR_FAIL, ON_ERROR_IGNORE };
enum { WAIT_ALL, WAIT_FIRST };

/* One item of a calls list. A group's children are steps too, stored
 * contiguously at [first, first + n). */
struct step {
	uint8_t kind;
	uint8_t on_error;
	uint8_t wait;
	int16_t only_op;   /* -1: every operation; else the short form's op */
	int16_t op;        /* -1: the call carries the request's op; else `op:` */
	uint32_t target, target_instances;
	uint32_t callee;   /* index into callees */
	double probability;
	asim_time timeout; /* 0: none; per attempt */
	uint32_t first, n; /* CALL_GROUP */
	struct edge_policy pol; /* CALL_SYNC: retries, breaker, hedge */
};

struct plan {
	uint32_t first, n; /* top-level steps */
};

/* The figures and resilience state of the edge to one component, shared by
 * the calls to it (configured by the first of them) and by all instances. */
struct callee {
	uint32_t comp;
	uint32_t policy_step; /* the step whose policy it follows */
	bool has_policy;
	uint64_t sent, ok, failed[ASIM_STATUS_COUNT];
	struct edge_stats es;
};

struct instance {
	uint32_t busy;
	struct ptr_ring queue; /* of struct job * */
	struct load_levels lv;
	struct inst_fault f;
	struct held_list held; /* work frozen by a pause */
	struct codel codel;
};

struct service {
	uint32_t concurrency;
	uint64_t queue_cap; /* UINT64_MAX: unbounded */
	struct asim_dist service_time, post_time;
	bool has_post;
	gsl_rng *r_service, *r_calls, *r_route, *r_fault;
	struct instance *inst;
	struct asim_pool jobs, legs;

	/* The call graph: plans index steps; by_op selects plan_op[op] over
	 * plan_all (the list form applies to every operation). */
	struct step *steps;
	uint32_t nsteps;
	bool by_op;
	struct plan plan_all, plan_op[ASIM_MAX_OPS];
	struct callee *callees;
	uint32_t ncallees;
	struct shed_cfg shed;
	int health_op; /* probes of a balancer's health check, answered at once */
	bool plain;    /* no calls and no post_time: served means answered */

	/* Measured after warm-up. */
	uint64_t arrived, served, rejected, waited, failed[ASIM_STATUS_COUNT];
	uint64_t expired;  /* queued requests skipped: deadline passed or caller gone */
	uint64_t shed_dropped; /* dropped by the queue delay target (CoDel) */
	uint64_t wasted;   /* served although the caller had given up */
	struct asim_hist response;
	/* Only the mean wait is reported: a count and a sum (as a histogram
	 * would keep them) spare a bucket per request. */
	uint64_t wait_n;
	double wait_sum;
	struct queue_sum qsum; /* queue (database: connection wait) over the instances */
};


enum { EV_SERVED = EV_MODEL_BASE, EV_POST, EV_CALL_TIMEOUT, EV_CALL_RETRY, EV_CALL_HEDGE };

static const char *const service_keys[] = {
	"kind", "instances", "zones", "zone", "concurrency", "queue", "service_time",
	"post_time", "calls", "queue_policy", "queue_delay_target", "queue_delay_interval", NULL,
};
static const char *const call_keys[] = {
	"target", "read", "write", "emit", "parallel", "wait", "probability", "timeout",
	"on_error", "retries", "breaker", "hedge", "op", NULL,
};
static const char *const on_error_names[] = {"fail", "ignore", NULL};
static const char *const wait_names[] = {"all", "first", NULL};

/* Parallel groups wait on a byte-sized counter. */
#define MAX_GROUP 64

static bool add_steps(struct service *s, uint32_t n, uint32_t *first)
{
	struct step *v = realloc(s->steps, (s->nsteps + n) * sizeof *v);
	if (!v)
		return false;
	s->steps = v;
	memset(&v[s->nsteps], 0, n * sizeof *v);
	*first = s->nsteps;
	s->nsteps += n;
	return true;
}

static bool add_callee(struct service *s, uint32_t comp, uint32_t *idx)
{
	for (uint32_t i = 0; i < s->ncallees; i++) {
		if (s->callees[i].comp == comp) {
			*idx = i;
			return true;
		}
	}
	struct callee *v = realloc(s->callees, (s->ncallees + 1) * sizeof *v);
	if (!v)
		return false;
	s->callees = v;
	v[s->ncallees] = (struct callee){.comp = comp};
	*idx = s->ncallees++;
	return true;
}

static bool parse_list(struct asim_component *c, struct service *s,
                       const struct asim_cfg *list, bool in_group, struct plan *out,
                       struct asim_diag *d);

/* Fills steps[at] from one item; a group appends its children. */
static bool parse_item(struct asim_component *c, struct service *s, const struct asim_cfg *it,
                       bool in_group, uint32_t at, struct asim_diag *d)
{
	char ctx[96];
	snprintf(ctx, sizeof ctx, "%s.calls", c->name);
	if (!asim_cfg_expect_map(it, ctx, call_keys, d))
		return false;
	static const char *const forms[] = {"target", "read", "write", "emit", "parallel"};
	const char *form = NULL;
	const struct asim_cfg *val = NULL;
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		const struct asim_cfg *v = asim_cfg_get(it, forms[i]);
		if (!v)
			continue;
		if (form) {
			asim_diag_error(d, v->mark, "a call in '%s' has both '%s' and '%s': give one",
			                c->name, form, forms[i]);
			return false;
		}
		form = forms[i];
		val = v;
	}
	if (!form) {
		asim_diag_error(d, it->mark,
		                "a call in '%s' needs one of 'target', 'read', 'write', 'emit' or 'parallel'",
		                c->name);
		return false;
	}
	struct step st = {.only_op = -1, .op = -1, .probability = 1.0};
	double p = 1.0;
	int on_error = ON_ERROR_FAIL, wait = WAIT_ALL, op = -1;
	bool ok = asim_cfg_fraction(it, "probability", ASIM_OPTIONAL, &p, d);
	ok &= asim_cfg_time(it, "timeout", ASIM_OPTIONAL, ASIM_NS, 24 * ASIM_HOUR, &st.timeout, d);
	ok &= asim_cfg_choice(it, "on_error", ASIM_OPTIONAL, on_error_names, &on_error, d);
	ok &= asim_cfg_choice(it, "wait", ASIM_OPTIONAL, wait_names, &wait, d);
	if (!ok)
		return false;
	st.probability = p;
	st.on_error = (uint8_t)on_error;
	st.wait = (uint8_t)wait;
	const struct asim_cfg *w = asim_cfg_get(it, "wait");
	if (w && strcmp(form, "parallel")) {
		asim_diag_error(d, w->mark, "'wait' applies only to a 'parallel' group in '%s'",
		                c->name);
		return false;
	}
	if (!strcmp(form, "emit")) {
		/* Nobody waits for an emitted message, so a timeout or an error
		 * policy would have nothing to act on. */
		static const char *const moot[] = {"timeout", "on_error", "retries", "breaker", "hedge"};
		for (size_t i = 0; i < sizeof moot / sizeof moot[0]; i++) {
			const struct asim_cfg *m = asim_cfg_get(it, moot[i]);
			if (m) {
				asim_diag_error(d, m->mark,
				                "'%s' does not apply to 'emit' in '%s' (nobody waits for its answer)",
				                moot[i], c->name);
				return false;
			}
		}
	}
	if (!strcmp(form, "parallel")) {
		/* A group's children carry their own policies. */
		static const char *const own[] = {"retries", "breaker", "hedge", "op"};
		for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
			const struct asim_cfg *m = asim_cfg_get(it, own[i]);
			if (m) {
				asim_diag_error(d, m->mark,
				                "'%s' applies to the calls of a 'parallel' group in '%s', not to the group",
				                own[i], c->name);
				return false;
			}
		}
		if (in_group) {
			asim_diag_error(d, val->mark, "a 'parallel' group in '%s' cannot hold another group",
			                c->name);
			return false;
		}
		if (val->type != ASIM_CFG_SEQ || val->n == 0 || val->n > MAX_GROUP) {
			asim_diag_error(d, val->mark,
			                "expected a list of 1 to %d calls for 'parallel' in '%s', got %s",
			                MAX_GROUP, c->name, asim_cfg_type_name(val));
			return false;
		}
		struct plan kids;
		if (!parse_list(c, s, val, true, &kids, d))
			return false;
		st.kind = CALL_GROUP;
		st.first = kids.first;
		st.n = kids.n;
		s->steps[at] = st;
		return true;
	}
	struct asim_component *t = model_target_node(c, val, form, d);
	if (!t)
		return false;
	st.kind = !strcmp(form, "emit") ? CALL_EMIT : CALL_SYNC;
	if (st.kind == CALL_SYNC && !edge_policy_parse(it, &st.pol, d))
		return false;
	if (!model_op(c, it, &op, d))
		return false;
	st.op = (int16_t)op;
	if (!strcmp(form, "read"))
		st.only_op = ASIM_OP_READ;
	else if (!strcmp(form, "write"))
		st.only_op = ASIM_OP_WRITE;
	st.target = t->id;
	st.target_instances = t->instances;
	if (!add_callee(s, t->id, &st.callee)) {
		asim_diag_error(d, it->mark, "out of memory for the calls of '%s'", c->name);
		return false;
	}
	s->steps[at] = st;
	return true;
}

/* Reserves the list's steps first so that they are contiguous; groups put
 * their children after them. */
static bool parse_list(struct asim_component *c, struct service *s,
                       const struct asim_cfg *list, bool in_group, struct plan *out,
                       struct asim_diag *d)
{
	if (list->type != ASIM_CFG_SEQ) {
		asim_diag_error(d, list->mark, "expected a list of calls in '%s', got %s", c->name,
		                asim_cfg_type_name(list));
		return false;
	}
	if (!add_steps(s, (uint32_t)list->n, &out->first)) {
		asim_diag_error(d, list->mark, "out of memory for the calls of '%s'", c->name);
		return false;
	}
	out->n = (uint32_t)list->n;
	bool ok = true;
	for (size_t i = 0; i < list->n; i++)
		ok &= parse_item(c, s, list->items[i], in_group, out->first + (uint32_t)i, d);
	return ok;
}

static bool configure_calls(struct asim_component *c, struct service *s,
                            const struct asim_cfg *calls, struct asim_diag *d)
{
	if (calls->type == ASIM_CFG_SEQ)
		return parse_list(c, s, calls, false, &s->plan_all, d);
	if (calls->type != ASIM_CFG_MAP) {
		asim_diag_error(d, calls->mark,
		                "expected a list of calls, or a mapping of operations to lists, for 'calls' in '%s', got %s",
		                c->name, asim_cfg_type_name(calls));
		return false;
	}
	/* Operation names are open (named endpoints), so the keys are interned
	 * rather than checked against a list. */
	s->by_op = true;
	bool ok = true;
	for (size_t i = 0; i < calls->n; i++) {
		const struct asim_cfg_pair *p = &calls->pairs[i];
		int op = asim_kernel_op(c->kernel, p->key);
		if (op < 0) {
			asim_diag_error(d, p->key_mark, "too many operation names (at most %d)",
			                ASIM_MAX_OPS);
			return false;
		}
		ok &= parse_list(c, s, p->value, false, &s->plan_op[op], d);
	}
	return ok;
}

static bool configure(struct asim_component *c, const struct asim_cfg *map, struct asim_diag *d)
{
	struct service *s = c->state;
	if (!asim_cfg_expect_map(map, c->name, service_keys, d))
		return false;
	int64_t conc = 1;
	bool ok = model_instances(c, map, 65535, d);
	ok &= asim_cfg_int(map, "concurrency", ASIM_OPTIONAL, 1, 1000000, &conc, d);
	s->queue_cap = UINT64_MAX;
	const struct asim_cfg *q = asim_cfg_get(map, "queue");
	if (q && !(q->type == ASIM_CFG_SCALAR && !strcmp(q->text, "unbounded"))) {
		int64_t cap = 0;
		ok &= asim_cfg_int(map, "queue", ASIM_REQUIRED, 0, INT64_C(1) << 32, &cap, d);
		s->queue_cap = (uint64_t)cap;
	}
	ok &= asim_cfg_dist(map, "service_time", ASIM_REQUIRED, &s->service_time, d);
	ok &= shed_parse(map, &s->shed, d);
	s->has_post = asim_cfg_get(map, "post_time") != NULL;
	ok &= asim_cfg_dist(map, "post_time", ASIM_OPTIONAL, &s->post_time, d);
	const struct asim_cfg *calls = asim_cfg_get(map, "calls");
	if (ok && calls)
		ok &= configure_calls(c, s, calls, d);
	if (!ok)
		return false;
	s->concurrency = (uint32_t)conc;
	s->inst = calloc(c->instances, sizeof *s->inst);
	if (!s->inst) {
		asim_diag_error(d, map->mark, "out of memory for the instances of '%s'", c->name);
		return false;
	}
	struct asim_kernel *k = c->kernel;
	for (uint32_t i = 0; i < c->instances; i++)
		codel_init(&s->inst[i].codel);
	s->health_op = asim_kernel_op(k, "health");
	for (uint32_t i = 0; i < s->nsteps; i++) {
		struct callee *e = &s->callees[s->steps[i].callee];
		if (s->steps[i].kind != CALL_SYNC || e->has_policy)
			continue;
		e->has_policy = true;
		e->policy_step = i;
		if (!edge_init(&e->es, &s->steps[i].pol, asim_kernel_warmup(k))) {
			asim_diag_error(d, map->mark, "out of memory for the calls of '%s'", c->name);
			return false;
		}
	}
	s->r_service = asim_kernel_rng(k, c->name, "service");
	if (s->nsteps) {
		s->r_calls = asim_kernel_rng(k, c->name, "calls");
		s->r_route = asim_kernel_rng(k, c->name, "route");
	}
	asim_kernel_pool_init(c->kernel, &s->jobs, sizeof(struct job), 1024);
	asim_kernel_pool_init(c->kernel, &s->legs, sizeof(struct leg), 1024);
	asim_hist_init(&s->response);
	s->plain = !s->nsteps && !s->has_post;
	return true;
}

static void start(struct asim_component *c)
{
	struct service *s = c->state;
	load_levels_init(&s->inst[0].lv, sizeof s->inst[0], c->instances, 0);
}

/* Starts serving j on in, whose server the caller has counted busy. */
static void serve(struct asim_component *c, struct service *s, struct instance *in,
                  struct job *j)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	if (asim_measuring_at(k, j->arrived)) {
		s->wait_n++;
		s->wait_sum += (double)(now - j->arrived);
	}
	j->pause_mark = inst_fault_pause_clock(&in->f, now);
	asim_schedule(k, inst_fault_time(&in->f, asim_dist_sample(&s->service_time, s->r_service)),
	              c->id, EV_SERVED, j->inst, 0, j);
}

static void begin(struct asim_component *c, struct service *s, struct job *j)
{
	struct instance *in = &s->inst[j->inst];
	in->busy++;
	asim_tw_set(&in->lv.busy, asim_now(c->kernel), in->busy);
	serve(c, s, in, j);
}

static void arrive(struct asim_component *c, struct service *s, struct asim_call *call,
                   uint16_t inst)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct instance *in = &s->inst[inst];
	bool measuring = asim_measuring_at(k, now);
	if (call->op == s->health_op) {
		/* A health probe costs no service time and skips the queue, as a
		 * liveness endpoint served by its own thread; a crashed instance
		 * does not answer it, nor does a paused one (the prober's timeout
		 * sees to both). */
		if (in->f.down || in->f.paused)
			asim_call_drop(k, call);
		else
			asim_call_reply(k, call, ASIM_OK);
		return;
	}
	if (measuring)
		s->arrived++;
	if (in->f.down) {
		/* A crashed process refuses connections; a lost host answers
		 * nothing at all. */
		if (in->f.gone)
			asim_call_drop(k, call);
		else
			asim_call_reply(k, call, ASIM_UNREACHABLE);
		return;
	}
	bool can_start = in->busy < s->concurrency && !in->f.paused;
	if (!can_start && in->queue.len >= s->queue_cap) {
		if (measuring)
			s->rejected++;
		asim_call_reply(k, call, ASIM_REJECTED);
		return;
	}
	struct job *j = asim_pool_take(&s->jobs);
	if (!j) {
		asim_kernel_stop(k);
		return;
	}
	*j = (struct job){.call = call, .arrived = now, .inst = inst, .epoch = in->f.epoch};
	if (can_start) {
		begin(c, s, j);
		return;
	}
	if (!ptr_ring_push(&in->queue, j)) {
		asim_pool_put(&s->jobs, j);
		asim_kernel_stop(k);
		return;
	}
	if (measuring)
		s->waited++;
	queue_sum_set(&s->qsum, &in->lv.queue, now, in->queue.len);
}

/* The next request to serve on in: the newest (lifo) or oldest (fifo) of
 * the queue, skipping those nobody waits for any more (their deadline has
 * passed or their caller gave up: serving them would be wasted work) and
 * those the queue delay target drops. */
static struct job *next_job(struct asim_component *c, struct service *s, struct instance *in)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct job *j;
	while ((j = s->shed.lifo ? ptr_ring_pop_back(&in->queue) : ptr_ring_pop(&in->queue))) {
		bool measuring = asim_measuring_at(k, j->arrived);
		if (asim_call_abandoned(j->call) || j->call->deadline <= now) {
			if (measuring)
				s->expired++;
			asim_call_reply(k, j->call, ASIM_TIMEOUT);
			asim_pool_put(&s->jobs, j);
			continue;
		}
		if (s->shed.target && codel_drop(&in->codel, &s->shed, now, now - j->arrived)) {
			if (measuring)
				s->shed_dropped++;
			asim_call_reply(k, j->call, ASIM_REJECTED);
			asim_pool_put(&s->jobs, j);
			continue;
		}
		break;
	}
	if (!in->queue.len && s->shed.target)
		codel_empty(&in->codel);
	return j;
}

static void lost_job(struct asim_component *c, struct service *s, struct job *j);
static bool held_back(struct asim_component *c, struct service *s, struct job *j, uint16_t type);

/* Answers the request and frees its server for the next one in line. */
static void finish_job(struct asim_component *c, struct service *s, struct job *j,
                       enum asim_status st)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct instance *in = &s->inst[j->inst];
	if (j->epoch != in->f.epoch) {
		lost_job(c, s, j); /* begun before a crash */
		return;
	}
	if (asim_measuring_at(k, j->arrived)) {
		if (st == ASIM_OK) {
			s->served++;
			asim_hist_record(&s->response, now - j->arrived);
		} else {
			s->failed[st]++;
		}
		if (asim_call_abandoned(j->call))
			s->wasted++;
	}
	if (j->passed_on)
		j->call->flags |= ASIM_CALL_PASSED_ON;
	asim_call_reply(k, j->call, st);
	asim_pool_put(&s->jobs, j);
	struct job *next = in->f.paused ? NULL : next_job(c, s, in);
	/* With a next job the server stays busy. Setting the level one lower
	 * and back at the same instant adds nothing to its area (a level times
	 * 0 ns), so one set at the unchanged level gives the same bits. */
	if (!next)
		in->busy--;
	asim_tw_set(&in->lv.busy, now, in->busy);
	/* An empty queue that stays empty adds 0 to its area however long
	 * ago it was last set: nothing to record. */
	if (in->queue.len || in->lv.queue.value != 0)
		queue_sum_set(&s->qsum, &in->lv.queue, now, in->queue.len);
	if (next)
		serve(c, s, in, next);
}

static bool applies(struct service *s, const struct step *st, uint16_t op)
{
	if (st->only_op >= 0 && st->only_op != op)
		return false;
	return st->probability >= 1.0 || gsl_rng_uniform(s->r_calls) < st->probability;
}

static void count_result(struct service *s, const struct step *st, enum asim_status status,
                         bool measuring)
{
	if (!measuring)
		return;
	if (status == ASIM_OK)
		s->callees[st->callee].ok++;
	else
		s->callees[st->callee].failed[status]++;
}

/* Whether a call of step at for job j may write: anything but a read,
 * which no store counts as a duplicate (Repeats). */
static bool may_write(const struct service *s, const struct job *j, uint32_t at)
{
	const struct step *st = &s->steps[at];
	return (st->op >= 0 ? (uint16_t)st->op : j->call->op) != ASIM_OP_READ;
}

/* Makes and sends one call of step at for job j, due by deadline: an
 * emit, an attempt, or (hedge) the attempt's hedge, sent to another
 * instance than avoid when there are several. */
static struct asim_call *make_call(struct asim_component *c, struct service *s, struct job *j,
                                   uint32_t at, asim_time deadline, uint64_t token,
                                   uint32_t hedge, int avoid)
{
	struct asim_kernel *k = c->kernel;
	const struct step *st = &s->steps[at];
	const struct asim_call *in = j->call;
	struct asim_call *out = asim_call_new(k);
	if (!out)
		return NULL; /* out of memory: the kernel stops the run */
	/* A call does what its entry says (a check that reads on behalf of
	 * a write), else what the request asks. */
	out->op = st->op >= 0 ? (uint16_t)st->op : in->op;
	out->key = in->key;
	out->request = in->request;
	out->session = in->session;
	out->origin = in->origin;
	out->attempt = in->attempt;
	out->deadline = deadline;
	out->tag = at | hedge;
	out->token = token;
	uint16_t to_inst = 0;
	if (avoid >= 0 && st->target_instances > 1) {
		to_inst = (uint16_t)gsl_rng_uniform_int(s->r_route, st->target_instances - 1);
		if (to_inst >= avoid)
			to_inst++;
	} else if (st->target_instances > 1) {
		to_inst = (uint16_t)gsl_rng_uniform_int(s->r_route, st->target_instances);
	}
	asim_call_send(k, out, c->id, j->inst, st->target, to_inst);
	return out;
}

/* Sends the current attempt of leg l. Returns the status when it fails
 * before leaving (its deadline has passed, or the breaker is open), or
 * ASIM_STATUS_COUNT when it was sent. */
static enum asim_status leg_attempt(struct asim_component *c, struct service *s, struct leg *l)
{
	struct asim_kernel *k = c->kernel;
	const struct step *st = &s->steps[l->step];
	struct callee *e = &s->callees[st->callee];
	asim_time now = asim_now(k);
	/* Calls are counted by when they leave, and their results with them,
	 * so that sent and answered agree across the end of warm-up. */
	bool measuring = asim_measuring_at(k, now);
	asim_time deadline = l->job->call->deadline, expiry;
	if (st->timeout && asim_time_add(now, st->timeout, &expiry) && expiry < deadline)
		deadline = expiry;
	if (measuring) {
		e->sent++;
		e->es.attempts++;
	}
	if (deadline <= now) {
		/* gRPC fails a call whose deadline has passed without sending it. */
		count_result(s, st, ASIM_TIMEOUT, measuring);
		return ASIM_TIMEOUT;
	}
	if (st->pol.breaker.on && !breaker_allow(&e->es.breaker, &st->pol.breaker, now)) {
		count_result(s, st, ASIM_UNREACHABLE, measuring);
		return ASIM_UNREACHABLE;
	}
	l->call = make_call(c, s, l->job, l->step, deadline, (uint64_t)(uintptr_t)l, 0, -1);
	if (!l->call)
		return ASIM_ERROR;
	l->sent = now;
	if (deadline != ASIM_TIME_MAX)
		l->timer = asim_schedule_at(k, deadline, c->id, EV_CALL_TIMEOUT, l->job->inst, 0, l);
	asim_time h = hedge_delay(&e->es.hedge, &st->pol.hedge);
	if (h != ASIM_TIME_MAX && (deadline == ASIM_TIME_MAX || h < deadline - now))
		l->htimer = asim_schedule(k, h, c->id, EV_CALL_HEDGE, l->job->inst, 0, l);
	return ASIM_STATUS_COUNT;
}

/* Sends the call of step at (a plain call or an emit). Returns the status
 * when it fails before leaving (the deadline has already passed, or the
 * breaker is open), or ASIM_STATUS_COUNT when it was sent. */
static enum asim_status send_leg(struct asim_component *c, struct service *s, struct job *j,
                                 uint32_t at)
{
	struct asim_kernel *k = c->kernel;
	const struct step *st = &s->steps[at];
	if (st->kind == CALL_EMIT) {
		/* An emitted event is processed on its own schedule, after the
		 * request may be long answered, so the user's deadline does not
		 * bind it, and its answer is only counted. */
		if (asim_measuring_at(k, asim_now(k)))
			s->callees[st->callee].sent++;
		if (make_call(c, s, j, at, ASIM_TIME_MAX, 0, 0, -1))
			j->passed_on = true; /* judged where it lands (Repeats) */
		return ASIM_STATUS_COUNT;
	}
	struct callee *e = &s->callees[st->callee];
	if (asim_measuring_at(k, asim_now(k)))
		e->es.calls++;
	if (st->pol.budget.on)
		budget_deposit(&e->es.budget, &st->pol.budget);
	struct leg *l = asim_pool_get(&s->legs);
	if (!l) {
		asim_kernel_stop(k);
		return ASIM_ERROR;
	}
	l->job = j;
	l->step = at;
	enum asim_status r = leg_attempt(c, s, l);
	if (r != ASIM_STATUS_COUNT) {
		asim_pool_put(&s->legs, l);
		return r;
	}
	l->next = j->legs;
	j->legs = l;
	j->pending++;
	return ASIM_STATUS_COUNT;
}

/* Gives up on every call the job still waits for (the rest of a group that
 * already has its answer). */
static void abandon_legs(struct asim_component *c, struct service *s, struct job *j)
{
	struct asim_kernel *k = c->kernel;
	while (j->legs) {
		struct leg *l = j->legs;
		j->legs = l->next;
		/* Still out, or given up on before a retry: it may land after
		 * the answer (Repeats). */
		if ((l->call || l->hcall || l->gave_up) && may_write(s, j, l->step))
			j->passed_on = true;
		asim_cancel(k, l->timer);
		asim_cancel(k, l->htimer);
		if (l->call)
			asim_call_abandon(k, l->call);
		if (l->hcall)
			asim_call_abandon(k, l->hcall);
		asim_pool_put(&s->legs, l);
	}
	j->pending = 0;
}

static void run_steps(struct asim_component *c, struct service *s, struct job *j);

static void step_done(struct asim_component *c, struct service *s, struct job *j,
                      enum asim_status st)
{
	if (st != ASIM_OK && s->steps[j->step].on_error == ON_ERROR_IGNORE)
		st = ASIM_OK;
	if (st != ASIM_OK) {
		finish_job(c, s, j, st);
		return;
	}
	j->step++;
	run_steps(c, s, j);
}

/* A call of the current step ended with status: decides whether the step is
 * over, and if so moves the job on. */
static void leg_result(struct asim_component *c, struct service *s, struct job *j,
                       uint32_t at, enum asim_status status)
{
	const struct step *cur = &s->steps[j->step];
	bool first = cur->kind == CALL_GROUP && cur->wait == WAIT_FIRST;
	bool good = status == ASIM_OK || s->steps[at].on_error == ON_ERROR_IGNORE;
	if (first ? good : !good) {
		/* wait: first has its answer; wait: all has a failure that
		 * decides the outcome (fail fast, as a scatter-gather does). */
		abandon_legs(c, s, j);
		step_done(c, s, j, good ? ASIM_OK : status);
		return;
	}
	if (!good)
		j->fail = (uint8_t)status;
	if (!j->pending)
		step_done(c, s, j, first ? (enum asim_status)j->fail : ASIM_OK);
}

/* Starts the current step, and the next ones while they finish at once
 * (skipped, emitted, or failed before sending). */
static void run_steps(struct asim_component *c, struct service *s, struct job *j)
{
	struct asim_kernel *k = c->kernel;
	uint16_t op = j->call->op;
	for (; j->step < j->end; j->step++) {
		const struct step *st = &s->steps[j->step];
		if (!applies(s, st, op))
			continue;
		uint32_t first = j->step, n = 1;
		bool wait_first = false;
		if (st->kind == CALL_GROUP) {
			first = st->first;
			n = st->n;
			wait_first = st->wait == WAIT_FIRST;
		}
		j->pending = 0;
		j->fail = ASIM_OK;
		for (uint32_t i = first; i < first + n; i++) {
			const struct step *ch = &s->steps[i];
			if (ch != st && !applies(s, ch, op))
				continue;
			enum asim_status r = send_leg(c, s, j, i);
			if (ch->kind == CALL_EMIT || r == ASIM_STATUS_COUNT)
				continue;
			/* Failed before leaving: the same rules as an answer,
			 * except that the children not yet sent are not sent. */
			bool good = ch->on_error == ON_ERROR_IGNORE;
			if (wait_first ? good : !good) {
				abandon_legs(c, s, j);
				step_done(c, s, j, good ? ASIM_OK : r);
				return;
			}
			if (!good)
				j->fail = (uint8_t)r;
		}
		if (j->pending)
			return;
		if (wait_first && j->fail != ASIM_OK) {
			step_done(c, s, j, (enum asim_status)j->fail);
			return;
		}
	}
	if (s->has_post) {
		j->pause_mark = inst_fault_pause_clock(&s->inst[j->inst].f, asim_now(k));
		asim_schedule(k, asim_dist_sample(&s->post_time, s->r_service), c->id, EV_POST, j->inst,
		              0, j);
		return;
	}
	finish_job(c, s, j, ASIM_OK);
}

static void served(struct asim_component *c, struct service *s, struct job *j)
{
	const struct instance *in = &s->inst[j->inst];
	/* held_back's own tests, inline: a job is rarely lost or paused. */
	if ((j->epoch != in->f.epoch || in->f.paused || j->pause_mark != in->f.paused_total) &&
	    held_back(c, s, j, EV_SERVED))
		return;
	if (inst_fault_error(&in->f, s->r_fault)) {
		finish_job(c, s, j, ASIM_ERROR);
		return;
	}
	/* The plain path, kept first and short: most services call nothing. */
	if (s->plain) {
		finish_job(c, s, j, ASIM_OK);
		return;
	}
	const struct plan *p = &s->plan_all;
	if (s->by_op)
		p = &s->plan_op[j->call->op < ASIM_MAX_OPS ? j->call->op : 0];
	j->step = p->first;
	j->end = p->first + p->n;
	run_steps(c, s, j);
}

static void unlink_leg(struct job *j, struct leg *l)
{
	for (struct leg **pp = &j->legs; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			return;
		}
	}
}

static void leg_result(struct asim_component *c, struct service *s, struct job *j,
                       uint32_t at, enum asim_status status);

/* The attempt of leg l ended with status (none of its calls is left): it is
 * retried when the policy, the budget and the deadline allow, or its result
 * goes to the job. A call the breaker refused is not retried. */
static void leg_end(struct asim_component *c, struct service *s, struct leg *l,
                    enum asim_status status, bool retryable)
{
	struct asim_kernel *k = c->kernel;
	struct job *j = l->job;
	const struct step *st = &s->steps[l->step];
	if (status != ASIM_OK && retryable && l->attempt < st->pol.retry.max) {
		struct callee *e = &s->callees[st->callee];
		asim_time now = asim_now(k);
		asim_time wait = retry_backoff(&st->pol.retry, l->attempt + 1, l->prev_backoff,
		                               s->r_calls);
		asim_time at;
		bool measuring = asim_measuring_at(k, now);
		if (asim_time_add(now, wait, &at) && at < j->call->deadline &&
		    edge_may_retry(&e->es, &st->pol, l->attempt + 1, now, measuring)) {
			if (measuring)
				e->es.retries++;
			l->attempt++;
			l->prev_backoff = wait;
			l->timer = asim_schedule_at(k, at, c->id, EV_CALL_RETRY, j->inst, 0, l);
			return;
		}
	}
	/* An attempt given up on may still land; without an answer from a
	 * later one that landed (whose verdict on a repeat comes back with
	 * it), the job goes on not knowing (Repeats). */
	if (status != ASIM_OK && l->gave_up)
		j->passed_on = true;
	unlink_leg(j, l);
	uint32_t step = l->step;
	asim_pool_put(&s->legs, l);
	j->pending--;
	leg_result(c, s, j, step, status);
}

static void answered(struct asim_component *c, struct service *s, struct asim_call *call)
{
	struct asim_kernel *k = c->kernel;
	enum asim_status st = call->status;
	bool hedge = call->tag & LEG_HEDGE;
	const struct step *stp = &s->steps[call->tag & ~LEG_HEDGE];
	bool measuring = asim_measuring_at(k, call->sent);
	if (!call->token) {
		count_result(s, stp, st, measuring);
		asim_call_free(k, call);
		return;
	}
	struct leg *l = (struct leg *)(uintptr_t)call->token;
	struct edge_stats *es = &s->callees[stp->callee].es;
	asim_time now = asim_now(k);
	count_result(s, stp, st, measuring);
	hedge_observe(&es->hedge, &stp->pol.hedge, now - call->sent);
	if (stp->pol.breaker.on)
		breaker_record(&es->breaker, &stp->pol.breaker, now, st == ASIM_OK);
	/* A store counted a repeat of this request, or the callee passed it
	 * on out of sight: the caller (a worker) does not count it again
	 * (Repeats). */
	l->job->call->flags |= call->flags & (ASIM_CALL_DUPLICATE_COUNTED | ASIM_CALL_PASSED_ON);
	asim_call_free(k, call);
	if (hedge)
		l->hcall = NULL;
	else
		l->call = NULL;
	struct asim_call *other = hedge ? l->call : l->hcall;
	if (st != ASIM_OK && other)
		return; /* the other call of the attempt may still succeed */
	asim_cancel(k, l->timer);
	asim_cancel(k, l->htimer);
	if (other)
		asim_call_abandon(k, other);
	l->call = l->hcall = NULL;
	if (st == ASIM_OK && hedge && measuring)
		es->hedge.wins++;
	leg_end(c, s, l, st, true);
}

static void call_timeout(struct asim_component *c, struct service *s, struct leg *l)
{
	struct asim_kernel *k = c->kernel;
	const struct step *stp = &s->steps[l->step];
	bool measuring = asim_measuring_at(k, l->sent);
	asim_cancel(k, l->htimer);
	if ((l->call || l->hcall) && may_write(s, l->job, l->step))
		l->gave_up = true;
	if (l->call)
		asim_call_abandon(k, l->call);
	if (l->hcall)
		asim_call_abandon(k, l->hcall);
	l->call = l->hcall = NULL;
	count_result(s, stp, ASIM_TIMEOUT, measuring);
	if (stp->pol.breaker.on)
		breaker_record(&s->callees[stp->callee].es.breaker, &stp->pol.breaker, asim_now(k),
		               false);
	leg_end(c, s, l, ASIM_TIMEOUT, true);
}

static void call_retry(struct asim_component *c, struct service *s, struct leg *l)
{
	l->timer = (struct asim_timer){0};
	enum asim_status r = leg_attempt(c, s, l);
	if (r != ASIM_STATUS_COUNT)
		leg_end(c, s, l, r, r != ASIM_UNREACHABLE);
}

static void call_hedge(struct asim_component *c, struct service *s, struct leg *l)
{
	struct asim_kernel *k = c->kernel;
	const struct step *stp = &s->steps[l->step];
	struct callee *e = &s->callees[stp->callee];
	l->htimer = (struct asim_timer){0};
	l->hcall = make_call(c, s, l->job, l->step, l->call->deadline, (uint64_t)(uintptr_t)l,
	                     LEG_HEDGE, l->call->callee_inst);
	if (asim_measuring_at(k, asim_now(k))) {
		e->sent++;
		e->es.attempts++;
		e->es.hedge.sent++;
	}
}

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct service *s = c->state;
	switch (ev->type) {
	case ASIM_EV_REQUEST:
		arrive(c, s, ev->p, ev->inst < c->instances ? ev->inst : 0);
		break;
	case EV_SERVED:
		served(c, s, ev->p);
		break;
	case ASIM_EV_RESPONSE:
		answered(c, s, ev->p);
		break;
	case EV_CALL_TIMEOUT:
		call_timeout(c, s, ev->p);
		break;
	case EV_CALL_RETRY:
		call_retry(c, s, ev->p);
		break;
	case EV_CALL_HEDGE:
		call_hedge(c, s, ev->p);
		break;
	case EV_POST:
		if (!held_back(c, s, ev->p, EV_POST))
			finish_job(c, s, ev->p, ASIM_OK);
		break;
	}
}

static void warmup_end(struct asim_component *c)
{
	struct service *s = c->state;
	asim_time now = asim_now(c->kernel);
	load_levels_reset(&s->inst[0].lv, sizeof s->inst[0], c->instances, now);
	queue_sum_reset(&s->qsum);
}

static void report_calls(const struct asim_component *c, const struct service *s,
                         struct asim_results *r)
{
	const char *n = c->name;
	uint64_t sent = 0;
	for (uint32_t i = 0; i < s->ncallees; i++) {
		const struct callee *e = &s->callees[i];
		const char *to = asim_kernel_component(c->kernel, e->comp)->name;
		uint64_t failed = 0;
		for (int st = 1; st < ASIM_STATUS_COUNT; st++)
			failed += e->failed[st];
		sent += e->sent;
		asim_results_count(r, e->sent, "components.%s.calls.%s.sent", n, to);
		asim_results_count(r, e->ok, "components.%s.calls.%s.ok", n, to);
		asim_results_count(r, failed, "components.%s.calls.%s.failed", n, to);
		asim_results_count(r, e->failed[ASIM_TIMEOUT], "components.%s.calls.%s.timeout", n, to);
		asim_results_count(r, e->failed[ASIM_REJECTED], "components.%s.calls.%s.rejected", n,
		                   to);
		asim_results_count(r, e->failed[ASIM_ERROR], "components.%s.calls.%s.error", n, to);
		asim_results_count(r, e->failed[ASIM_UNREACHABLE], "components.%s.calls.%s.unreachable",
		                   n, to);
		if (e->has_policy) {
			char prefix[160];
			snprintf(prefix, sizeof prefix, "components.%s.calls.%s", n, to);
			edge_report(&e->es, &s->steps[e->policy_step].pol, asim_now(c->kernel), r,
			            prefix);
		}
	}
	asim_results_count(r, sent, "components.%s.calls_sent", n);
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct service *s = c->state;
	const char *n = c->name;
	asim_results_string(r, "service", "components.%s.kind", n);
	asim_results_count(r, c->instances, "components.%s.instances", n);
	load_levels_report(c, &s->inst[0].lv, sizeof s->inst[0], s->concurrency, &s->qsum, r);
	asim_results_count(r, s->arrived, "components.%s.arrived", n);
	asim_results_count(r, s->served, "components.%s.served", n);
	asim_results_count(r, s->rejected, "components.%s.rejected", n);
	asim_results_count(r, s->expired, "components.%s.expired", n);
	asim_results_count(r, s->wasted, "components.%s.wasted", n);
	if (s->shed.target)
		asim_results_count(r, s->shed_dropped, "components.%s.shed", n);
	asim_results_real(r, s->arrived ? (double)s->waited / (double)s->arrived : 0.0,
	                  "components.%s.wait_probability", n);
	asim_results_real(r, (s->wait_n ? s->wait_sum / (double)s->wait_n : 0.0) / (double)ASIM_MS,
	                  "components.%s.wait_ms_mean", n);
	asim_hist_report(r, &s->response, "components.%s.latency_ms", n);
	if (s->ncallees) {
		uint64_t failed = 0;
		for (int st = 1; st < ASIM_STATUS_COUNT; st++)
			failed += s->failed[st];
		asim_results_count(r, failed, "components.%s.failed", n);
		report_calls(c, s, r);
	}
}

static size_t edges(const struct asim_component *c, uint32_t *to, size_t max)
{
	const struct service *s = c->state;
	for (uint32_t i = 0; i < s->ncallees && i < max; i++)
		to[i] = s->callees[i].comp;
	return s->ncallees;
}

/* Instantaneous levels for time series, summed over instances. */
static void sample(const struct asim_component *c, struct asim_results *r)
{
	const struct service *s = c->state;
	load_levels_sample(c, &s->inst[0].lv, sizeof s->inst[0], r);
	/* Breaker states as 0 closed, 1 open, 2 half-open, per edge. */
	for (uint32_t i = 0; i < s->ncallees; i++) {
		const struct callee *e = &s->callees[i];
		if (e->has_policy && s->steps[e->policy_step].pol.breaker.on)
			asim_results_real(r,
			                  breaker_state_at(&e->es.breaker,
			                                   &s->steps[e->policy_step].pol.breaker,
			                                   asim_now(c->kernel)),
			                  "%s.breaker.%s", c->name,
			                  asim_kernel_component(c->kernel, e->comp)->name);
	}
}

static void destroy(struct asim_component *c)
{
	struct service *s = c->state;
	if (s->inst)
		for (uint32_t i = 0; i < c->instances; i++) {
			ptr_ring_free(&s->inst[i].queue);
			held_free(&s->inst[i].held);
		}
	free(s->inst);
	free(s->steps);
	for (uint32_t i = 0; i < s->ncallees; i++)
		edge_finish(&s->callees[i].es);
	free(s->callees);
	asim_dist_finish(&s->service_time);
	asim_dist_finish(&s->post_time);
	asim_pool_finish(&s->jobs);
	asim_pool_finish(&s->legs);
}

/* Faults. A crash bumps the instance's epoch: work begun before it is lost
 * when its next event comes up (lazily, as timers are cancelled), queued
 * work at once; the instance restarts cold, with an empty queue. A pause
 * holds each job's service or post time where it stands and starts nothing
 * new; answers of downstream calls are still taken as they come. An error
 * fault answers ASIM_ERROR after the request's own service time, before any
 * downstream call. */
static void lost_job(struct asim_component *c, struct service *s, struct job *j)
{
	abandon_legs(c, s, j);
	asim_call_drop(c->kernel, j->call);
	asim_pool_put(&s->jobs, j);
}

/* Whether job j's event of type must not run now: lost in a crash, or
 * frozen by a pause: held while the instance is paused, else put off, by
 * the pause time since the step began (its own time does not pass while
 * the instance is paused). */
static bool held_back(struct asim_component *c, struct service *s, struct job *j, uint16_t type)
{
	struct instance *in = &s->inst[j->inst];
	if (j->epoch != in->f.epoch) {
		lost_job(c, s, j);
		return true;
	}
	asim_time owed = inst_fault_pause_clock(&in->f, asim_now(c->kernel)) - j->pause_mark;
	return pause_defer(c, &in->held, in->f.paused, in->f.paused_total, owed, &j->pause_mark,
	                   type, j->inst, j);
}

static void crash(struct asim_component *c, struct service *s, uint16_t i)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct instance *in = &s->inst[i];
	struct job *j;
	while ((j = ptr_ring_pop(&in->queue)))
		lost_job(c, s, j);
	for (uint32_t h = 0; h < in->held.n; h++)
		lost_job(c, s, in->held.v[h].p);
	in->held.n = 0;
	in->busy = 0;
	asim_tw_set(&in->lv.busy, now, 0);
	queue_sum_set(&s->qsum, &in->lv.queue, now, 0);
}

static void resume(struct asim_component *c, struct service *s, uint16_t i)
{
	struct instance *in = &s->inst[i];
	held_release(&in->held, c, in->f.paused_total);
	struct job *j;
	while (in->busy < s->concurrency && (j = ptr_ring_pop(&in->queue))) {
		queue_sum_set(&s->qsum, &in->lv.queue, asim_now(c->kernel), in->queue.len);
		begin(c, s, j);
	}
}

static void fault(struct asim_component *c, const struct asim_fault *f, bool active)
{
	struct service *s = c->state;
	if (f->kind == ASIM_FAULT_ERROR_RATE && !s->r_fault)
		s->r_fault = asim_kernel_rng(c->kernel, c->name, "faults");
	for (uint32_t i = 0; i < c->instances; i++) {
		if (!asim_fault_hits(f, i))
			continue;
		switch (inst_fault_apply(&s->inst[i].f, f, active, asim_now(c->kernel))) {
		case EDGE_DOWN:
			crash(c, s, (uint16_t)i);
			break;
		case EDGE_RESUMED:
			resume(c, s, (uint16_t)i);
			break;
		default:
			break;
		}
	}
}

const struct asim_model_ops asim_service_ops = {
	.kind = "service",
	.summary = "instances with concurrency and a bounded FIFO queue, drawn service times, call graphs",
	.state_size = sizeof(struct service),
	.configure = configure,
	.start = start,
	.handle = handle,
	.warmup_end = warmup_end,
	.report = report,
	.destroy = destroy,
	.edges = edges,
	.sample = sample,
	.faults = ASIM_FAULT_BIT(ASIM_FAULT_CRASH) | ASIM_FAULT_BIT(ASIM_FAULT_ZONE_LOSS) |
	          ASIM_FAULT_BIT(ASIM_FAULT_PAUSE) | ASIM_FAULT_BIT(ASIM_FAULT_SLOW) |
	          ASIM_FAULT_BIT(ASIM_FAULT_ERROR_RATE),
	.fault = fault,
};
