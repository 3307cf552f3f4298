/* service: a pool of identical instances, each with `concurrency` servers
 * (threads) and a bounded FIFO queue in front of them; a request that finds
 * the queue full is rejected at once. Service times come from a distribution.
 * With one instance, one server, Poisson arrivals and exponential service,
 * this is exactly M/M/1; tests hold it to the closed forms.
 *
 * A request may also call other components (`calls:`), between its own
 * `service_time` and an optional `post_time`: configure parses the list
 * (or a mapping of operations to lists) into a plan of steps here, and
 * service_calls.c runs it and describes how.
 *
 * The state this file shares with service_calls.c is in service_private.h. */
#include <stdlib.h>
#include <string.h>

#include "service_private.h"

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
	/* A post_time is drawn from the same stream, between service times. */
	if (!s->has_post)
		asim_dist_ahead_init(&s->service_ahead, &s->service_time, s->r_service);
	load_levels_init(&s->inst[0].lv, sizeof s->inst[0], c->instances, 0);
	service_judge_reads(c, s);
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
	asim_time took = s->has_post ? asim_dist_sample(&s->service_time, s->r_service)
	                             : asim_dist_ahead_take(&s->service_ahead);
	asim_schedule(k, inst_fault_time(&in->f, took),
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
void service_finish_job(struct asim_component *c, struct service *s, struct job *j,
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


static void served(struct asim_component *c, struct service *s, struct job *j)
{
	const struct instance *in = &s->inst[j->inst];
	/* held_back's own tests, inline: a job is rarely lost or paused. */
	if ((j->epoch != in->f.epoch || in->f.paused || j->pause_mark != in->f.paused_total) &&
	    held_back(c, s, j, EV_SERVED))
		return;
	if (inst_fault_error(&in->f, s->r_fault)) {
		service_finish_job(c, s, j, ASIM_ERROR);
		return;
	}
	/* The plain path, kept first and short: most services call nothing. */
	if (s->plain) {
		service_finish_job(c, s, j, ASIM_OK);
		return;
	}
	const struct plan *p = &s->plan_all;
	if (s->by_op)
		p = &s->plan_op[j->call->op < ASIM_MAX_OPS ? j->call->op : 0];
	j->step = p->first;
	j->end = p->first + p->n;
	service_run_steps(c, s, j);
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
		service_answered(c, s, ev->p);
		break;
	case EV_CALL_TIMEOUT:
		service_call_timeout(c, s, ev->p);
		break;
	case EV_CALL_RETRY:
		service_call_retry(c, s, ev->p);
		break;
	case EV_CALL_HEDGE:
		service_call_hedge(c, s, ev->p);
		break;
	case EV_POST:
		if (!held_back(c, s, ev->p, EV_POST))
			service_finish_job(c, s, ev->p, ASIM_OK);
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
		service_report_calls(c, s, r);
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
	service_abandon_legs(c, s, j);
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
	.judges_read = service_judges_read,
};
