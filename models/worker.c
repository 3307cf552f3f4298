/* worker: asynchronous workers, usually the consumers of a queue. Each of
 * `instances` runs `concurrency` tasks at once and keeps the others in a FIFO
 * (unbounded unless `queue` is given; beyond it a task is rejected).
 *
 * A task takes service_time; then, with a `target` (the database, say), the
 * worker calls it with the task's op and key and holds its slot until the
 * answer (or its own `timeout`), and answers the task with that status. OK is
 * the acknowledgement the queue waits for.
 *
 * Duplicates: a worker that completes a task whose caller has already given
 * up on it (the queue's ack timeout) has applied its effect although the
 * caller will deliver it again, so the effect happens twice. Unless the
 * worker is `idempotent`, each such completion counts as a duplicate write.
 * Workers do not check for abandonment before starting: a consumer holding a
 * message cannot see that its visibility timeout has passed. */
#include <stdlib.h>
#include <string.h>

#include "archsim/dist.h"
#include "archsim/pool.h"
#include "common.h"

struct task {
	struct asim_call *in, *out;
	struct asim_timer timer;
	asim_time arrived;
	uint16_t inst;
	uint32_t epoch; /* its instance's epoch when it arrived (faults) */
};

struct instance {
	uint32_t busy;
	struct ptr_ring queue; /* of struct task * */
	struct asim_tw busy_tw, queue_tw;
	struct inst_fault f;
};

struct worker {
	uint32_t concurrency;
	uint64_t queue_cap; /* UINT64_MAX: unbounded */
	struct asim_dist service_time;
	bool has_target, idempotent;
	uint32_t target, target_instances;
	asim_time timeout; /* 0: none */
	gsl_rng *r_service, *r_route;
	struct instance *inst;
	struct asim_pool tasks;

	/* Measured after warm-up. */
	uint64_t arrived, processed, failed, rejected, duplicates;
	struct asim_hist latency;
};

enum { EV_SERVED = EV_MODEL_BASE, EV_TARGET_TIMEOUT };

static const char *const worker_keys[] = {
	"kind", "instances", "zones", "zone", "concurrency", "queue", "service_time", "target",
	"timeout", "idempotent", NULL,
};

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
	if (asim_cfg_get(map, "target")) {
		struct asim_component *t = model_target(c, map, "target", d);
		if (t) {
			s->has_target = true;
			s->target = t->id;
		} else {
			ok = false;
		}
	} else if (asim_cfg_get(map, "timeout")) {
		asim_diag_error(d, asim_cfg_get(map, "timeout")->mark,
		                "'timeout' of '%s' applies only with a 'target'", c->name);
		ok = false;
	}
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
	return true;
}

static void start(struct asim_component *c)
{
	struct worker *s = c->state;
	if (s->has_target)
		s->target_instances = asim_kernel_component(c->kernel, s->target)->instances;
	for (uint32_t i = 0; i < c->instances; i++) {
		asim_tw_init(&s->inst[i].busy_tw, 0, 0);
		asim_tw_init(&s->inst[i].queue_tw, 0, 0);
	}
}

static void begin(struct asim_component *c, struct worker *s, struct task *t)
{
	struct asim_kernel *k = c->kernel;
	struct instance *in = &s->inst[t->inst];
	in->busy++;
	asim_tw_set(&in->busy_tw, asim_now(k), in->busy);
	asim_schedule(k, inst_fault_time(&in->f, asim_dist_sample(&s->service_time, s->r_service)),
	              c->id, EV_SERVED, t->inst, 0, t);
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
	bool can_start = in->busy < s->concurrency && !in->f.stalled;
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
	asim_tw_set(&in->queue_tw, now, in->queue.len);
}

static void complete(struct asim_component *c, struct worker *s, struct task *t,
                     enum asim_status st)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct instance *in = &s->inst[t->inst];
	if (t->epoch != in->f.epoch) {
		/* Begun before a crash: lost with it. */
		asim_call_drop(k, t->in);
		asim_pool_put(&s->tasks, t);
		return;
	}
	if (asim_measuring_at(k, now)) {
		if (st == ASIM_OK) {
			s->processed++;
			asim_hist_record(&s->latency, now - t->arrived);
			if (!s->idempotent && asim_call_abandoned(t->in)) {
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
	asim_tw_set(&in->busy_tw, now, in->busy);
	struct task *next = in->f.stalled ? NULL : ptr_ring_pop(&in->queue);
	if (next) {
		asim_tw_set(&in->queue_tw, now, in->queue.len);
		begin(c, s, next);
	}
}

static void served(struct asim_component *c, struct worker *s, struct task *t)
{
	struct asim_kernel *k = c->kernel;
	if (!s->has_target || t->epoch != s->inst[t->inst].f.epoch) {
		complete(c, s, t, ASIM_OK);
		return;
	}
	struct asim_call *out = asim_call_new(k);
	if (!out)
		return;
	out->op = t->in->op;
	out->key = t->in->key;
	out->request = t->in->request;
	out->origin = t->in->origin;
	out->attempt = t->in->attempt;
	out->deadline = t->in->deadline;
	out->token = (uint64_t)(uintptr_t)t;
	t->out = out;
	uint16_t inst = 0;
	if (s->target_instances > 1)
		inst = (uint16_t)gsl_rng_uniform_int(s->r_route, s->target_instances);
	asim_call_send(k, out, c->id, t->inst, s->target, inst);
	if (s->timeout)
		t->timer = asim_schedule(k, s->timeout, c->id, EV_TARGET_TIMEOUT, t->inst, 0, t);
}

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct worker *s = c->state;
	struct asim_kernel *k = c->kernel;
	switch (ev->type) {
	case ASIM_EV_REQUEST:
		arrive(c, s, ev->p, ev->inst < c->instances ? ev->inst : 0);
		break;
	case EV_SERVED:
		served(c, s, ev->p);
		break;
	case ASIM_EV_RESPONSE: {
		struct asim_call *out = ev->p;
		struct task *t = (struct task *)(uintptr_t)out->token;
		enum asim_status st = out->status;
		asim_cancel(k, t->timer);
		t->in->version = out->version;
		asim_call_free(k, out);
		t->out = NULL;
		complete(c, s, t, st);
		break;
	}
	case EV_TARGET_TIMEOUT: {
		struct task *t = ev->p;
		asim_call_abandon(k, t->out);
		t->out = NULL;
		complete(c, s, t, ASIM_TIMEOUT);
		break;
	}
	}
}

static void warmup_end(struct asim_component *c)
{
	struct worker *s = c->state;
	asim_time now = asim_now(c->kernel);
	for (uint32_t i = 0; i < c->instances; i++) {
		asim_tw_reset(&s->inst[i].busy_tw, now);
		asim_tw_reset(&s->inst[i].queue_tw, now);
	}
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct worker *s = c->state;
	asim_time now = asim_now(c->kernel);
	double busy = 0, queue = 0, queue_max = 0;
	for (uint32_t i = 0; i < c->instances; i++) {
		busy += asim_tw_mean(&s->inst[i].busy_tw, now);
		queue += asim_tw_mean(&s->inst[i].queue_tw, now);
		if (s->inst[i].queue_tw.max > queue_max)
			queue_max = s->inst[i].queue_tw.max;
	}
	const char *n = c->name;
	asim_results_string(r, "worker", "components.%s.kind", n);
	asim_results_count(r, c->instances, "components.%s.instances", n);
	asim_results_real(r, busy / ((double)c->instances * s->concurrency),
	                  "components.%s.utilization", n);
	asim_results_real(r, queue, "components.%s.queue_mean", n);
	asim_results_count(r, (uint64_t)queue_max, "components.%s.queue_max", n);
	asim_results_count(r, s->arrived, "components.%s.arrived", n);
	asim_results_count(r, s->processed, "components.%s.processed", n);
	asim_results_count(r, s->failed, "components.%s.failed", n);
	asim_results_count(r, s->rejected, "components.%s.rejected", n);
	asim_results_count(r, s->duplicates, "components.%s.duplicates", n);
	asim_results_real(r, asim_hist_mean(&s->latency) / (double)ASIM_MS,
	                  "components.%s.latency_ms.mean", n);
	asim_results_real(r, asim_time_to_ms(asim_hist_quantile(&s->latency, 0.99)),
	                  "components.%s.latency_ms.p99", n);
}

static size_t edges(const struct asim_component *c, uint32_t *to, size_t max)
{
	const struct worker *s = c->state;
	if (!s->has_target)
		return 0;
	if (max > 0)
		to[0] = s->target;
	return 1;
}

static void destroy(struct asim_component *c)
{
	struct worker *s = c->state;
	if (s->inst)
		for (uint32_t i = 0; i < c->instances; i++)
			ptr_ring_free(&s->inst[i].queue);
	free(s->inst);
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
		case EDGE_DOWN:
			while ((t = ptr_ring_pop(&in->queue))) {
				asim_call_drop(k, t->in);
				asim_pool_put(&s->tasks, t);
			}
			in->busy = 0;
			asim_tw_set(&in->busy_tw, now, 0);
			asim_tw_set(&in->queue_tw, now, 0);
			break;
		case EDGE_UNSTALLED:
			while (!in->f.down && in->busy < s->concurrency && (t = ptr_ring_pop(&in->queue))) {
				asim_tw_set(&in->queue_tw, now, in->queue.len);
				begin(c, s, t);
			}
			break;
		default:
			break;
		}
	}
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
	.destroy = destroy,
	.faults = ASIM_FAULT_BIT(ASIM_FAULT_CRASH) | ASIM_FAULT_BIT(ASIM_FAULT_ZONE_LOSS) |
	          ASIM_FAULT_BIT(ASIM_FAULT_SLOW) | ASIM_FAULT_BIT(ASIM_FAULT_CONSUMER_STALL),
	.fault = fault,
};
