/* service_calls: the downstream calls of a service, run from the plan that
 * service.c parses. A request may call other components (`calls:`),
 * between its own `service_time` and an optional `post_time`. The server
 * is held while it waits (thread-per-request), so a slow dependency shows
 * up as queueing in the caller, as it does in real thread-pool servers.
 * Calls run in the order listed; a `parallel` group sends its children at
 * once and waits for all of them or for the first success. A downstream
 * failure fails the request with the status received unless the call says
 * `on_error: ignore`. Each call carries the request's operation (unless
 * the call names its own `op`, as a check that reads on behalf of a write
 * does), key, id, origin and deadline, the deadline tightened to now + the
 * call's timeout (deadline propagation, as in gRPC), and the service stops
 * waiting when that deadline passes. `emit` calls are fire-and-forget:
 * sent, never waited for, never failing the request.
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
 * first answer does not hide the worker's repeats; unless the read goes
 * where a repeat of it is judged (model op judges_read): to a service that
 * emits on reads or writes on their behalf, to a queue, or through a relay
 * to one of those. Before, a read given up on to a service that emits was
 * counted twice: by the worker, and where the emit landed. The flag is
 * also passed back from the answers the service waits for (a service
 * behind it that emitted, a queue that took a repeat). */
#include <stdlib.h>

#include "service_private.h"

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
 * which no store counts as a duplicate, unless it goes where one is
 * judged (Repeats). */
static bool may_write(const struct service *s, const struct job *j, uint32_t at)
{
	const struct step *st = &s->steps[at];
	return (st->op >= 0 ? (uint16_t)st->op : j->call->op) != ASIM_OP_READ || st->read_judged;
}

/* Whether steps [first, first + n), as a read follows them, may send one
 * that is judged where it lands: an emit, a call that may write, or a
 * read to a component that judges it. */
static bool steps_judge_read(const struct asim_component *c, const struct service *s,
                             uint32_t first, uint32_t n, unsigned depth)
{
	for (uint32_t i = first; i < first + n; i++) {
		const struct step *st = &s->steps[i];
		if (st->only_op >= 0 && st->only_op != ASIM_OP_READ)
			continue;
		if (st->kind == CALL_GROUP) {
			if (steps_judge_read(c, s, st->first, st->n, depth))
				return true;
		} else if (st->kind == CALL_EMIT || (st->op >= 0 && st->op != ASIM_OP_READ) ||
		           model_judges_read(c->kernel, st->target, depth)) {
			return true;
		}
	}
	return false;
}

bool service_judges_read(const struct asim_component *c, unsigned depth)
{
	const struct service *s = c->state;
	const struct plan *p = s->by_op ? &s->plan_op[ASIM_OP_READ] : &s->plan_all;
	return steps_judge_read(c, s, p->first, p->n, depth);
}

void service_judge_reads(struct asim_component *c, struct service *s)
{
	for (uint32_t i = 0; i < s->nsteps; i++)
		if (s->steps[i].kind == CALL_SYNC)
			s->steps[i].read_judged = model_judges_read(c->kernel, s->steps[i].target, 0);
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
void service_abandon_legs(struct asim_component *c, struct service *s, struct job *j)
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

static void step_done(struct asim_component *c, struct service *s, struct job *j,
                      enum asim_status st)
{
	if (st != ASIM_OK && s->steps[j->step].on_error == ON_ERROR_IGNORE)
		st = ASIM_OK;
	if (st != ASIM_OK) {
		service_finish_job(c, s, j, st);
		return;
	}
	j->step++;
	service_run_steps(c, s, j);
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
		service_abandon_legs(c, s, j);
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
void service_run_steps(struct asim_component *c, struct service *s, struct job *j)
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
				service_abandon_legs(c, s, j);
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
	service_finish_job(c, s, j, ASIM_OK);
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

void service_answered(struct asim_component *c, struct service *s, struct asim_call *call)
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

void service_call_timeout(struct asim_component *c, struct service *s, struct leg *l)
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

void service_call_retry(struct asim_component *c, struct service *s, struct leg *l)
{
	l->timer = (struct asim_timer){0};
	enum asim_status r = leg_attempt(c, s, l);
	if (r != ASIM_STATUS_COUNT)
		leg_end(c, s, l, r, r != ASIM_UNREACHABLE);
}

void service_call_hedge(struct asim_component *c, struct service *s, struct leg *l)
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
void service_report_calls(const struct asim_component *c, const struct service *s,
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
