/* service: a pool of identical instances, each with `concurrency` servers
 * (threads) and a bounded FIFO queue in front of them; a request that finds
 * the queue full is rejected at once. Service times come from a distribution.
 * With one instance, one server, Poisson arrivals and exponential service,
 * this is exactly M/M/1; tests hold it to the closed forms. */
#include <stdlib.h>
#include <string.h>

#include "archsim/dist.h"
#include "archsim/pool.h"
#include "common.h"

struct job {
	struct asim_call *call;
	asim_time arrived;
	uint16_t inst;
};

struct instance {
	uint32_t busy;
	struct ptr_ring queue; /* of struct job * */
	struct asim_tw busy_tw, queue_tw;
};

struct service {
	uint32_t concurrency;
	uint64_t queue_cap; /* UINT64_MAX: unbounded */
	struct asim_dist service_time;
	gsl_rng *r_service;
	struct instance *inst;
	struct asim_pool jobs;

	/* Measured after warm-up. */
	uint64_t arrived, served, rejected, waited;
	struct asim_hist response, wait;
};

enum { EV_SERVED = EV_MODEL_BASE };

static const char *const service_keys[] = {
	"kind", "instances", "zones", "zone", "concurrency", "queue", "service_time", NULL,
};

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
		ok &= asim_cfg_node_int(q, 0, INT64_C(1) << 32, &cap, d);
		s->queue_cap = (uint64_t)cap;
	}
	ok &= asim_cfg_dist(map, "service_time", ASIM_REQUIRED, &s->service_time, d);
	if (!ok)
		return false;
	s->concurrency = (uint32_t)conc;
	s->inst = calloc(c->instances, sizeof *s->inst);
	if (!s->inst) {
		asim_diag_error(d, map->mark, "out of memory for the instances of '%s'", c->name);
		return false;
	}
	s->r_service = asim_kernel_rng(c->kernel, c->name, "service");
	asim_pool_init(&s->jobs, sizeof(struct job), 1024);
	asim_hist_init(&s->response);
	asim_hist_init(&s->wait);
	return true;
}

static void start(struct asim_component *c)
{
	struct service *s = c->state;
	for (uint32_t i = 0; i < c->instances; i++) {
		asim_tw_init(&s->inst[i].busy_tw, 0, 0);
		asim_tw_init(&s->inst[i].queue_tw, 0, 0);
	}
}

static void begin(struct asim_component *c, struct service *s, struct job *j)
{
	struct asim_kernel *k = c->kernel;
	struct instance *in = &s->inst[j->inst];
	in->busy++;
	asim_tw_set(&in->busy_tw, asim_now(k), in->busy);
	if (asim_measuring_at(k, j->arrived))
		asim_hist_record(&s->wait, asim_now(k) - j->arrived);
	asim_schedule(k, asim_dist_sample(&s->service_time, s->r_service), c->id, EV_SERVED,
	              j->inst, 0, j);
}

static void arrive(struct asim_component *c, struct service *s, struct asim_call *call,
                   uint16_t inst)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct instance *in = &s->inst[inst];
	bool measuring = asim_measuring_at(k, now);
	if (measuring)
		s->arrived++;
	if (in->busy >= s->concurrency && in->queue.len >= s->queue_cap) {
		if (measuring)
			s->rejected++;
		asim_call_reply(k, call, ASIM_REJECTED);
		return;
	}
	struct job *j = asim_pool_get(&s->jobs);
	if (!j) {
		asim_kernel_stop(k);
		return;
	}
	j->call = call;
	j->arrived = now;
	j->inst = inst;
	if (in->busy < s->concurrency) {
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
	asim_tw_set(&in->queue_tw, now, in->queue.len);
}

static void served(struct asim_component *c, struct service *s, struct job *j)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct instance *in = &s->inst[j->inst];
	if (asim_measuring_at(k, j->arrived)) {
		s->served++;
		asim_hist_record(&s->response, now - j->arrived);
	}
	asim_call_reply(k, j->call, ASIM_OK);
	asim_pool_put(&s->jobs, j);
	in->busy--;
	asim_tw_set(&in->busy_tw, now, in->busy);
	struct job *next = ptr_ring_pop(&in->queue);
	if (next) {
		asim_tw_set(&in->queue_tw, now, in->queue.len);
		begin(c, s, next);
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
	}
}

static void warmup_end(struct asim_component *c)
{
	struct service *s = c->state;
	asim_time now = asim_now(c->kernel);
	for (uint32_t i = 0; i < c->instances; i++) {
		asim_tw_reset(&s->inst[i].busy_tw, now);
		asim_tw_reset(&s->inst[i].queue_tw, now);
	}
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct service *s = c->state;
	asim_time now = asim_now(c->kernel);
	double busy = 0, queue = 0, queue_max = 0;
	for (uint32_t i = 0; i < c->instances; i++) {
		busy += asim_tw_mean(&s->inst[i].busy_tw, now);
		queue += asim_tw_mean(&s->inst[i].queue_tw, now);
		if (s->inst[i].queue_tw.max > queue_max)
			queue_max = s->inst[i].queue_tw.max;
	}
	const char *n = c->name;
	asim_results_string(r, "service", "components.%s.kind", n);
	asim_results_count(r, c->instances, "components.%s.instances", n);
	asim_results_real(r, busy / ((double)c->instances * s->concurrency),
	                  "components.%s.utilization", n);
	asim_results_real(r, queue, "components.%s.queue_mean", n);
	asim_results_count(r, (uint64_t)queue_max, "components.%s.queue_max", n);
	asim_results_count(r, s->arrived, "components.%s.arrived", n);
	asim_results_count(r, s->served, "components.%s.served", n);
	asim_results_count(r, s->rejected, "components.%s.rejected", n);
	asim_results_real(r, s->arrived ? (double)s->waited / (double)s->arrived : 0.0,
	                  "components.%s.wait_probability", n);
	asim_results_real(r, asim_hist_mean(&s->wait) / (double)ASIM_MS,
	                  "components.%s.wait_ms_mean", n);
	asim_results_real(r, asim_hist_mean(&s->response) / (double)ASIM_MS,
	                  "components.%s.latency_ms.mean", n);
	asim_results_real(r, asim_time_to_ms(asim_hist_quantile(&s->response, 0.95)),
	                  "components.%s.latency_ms.p95", n);
	asim_results_real(r, asim_time_to_ms(asim_hist_quantile(&s->response, 0.99)),
	                  "components.%s.latency_ms.p99", n);
}

static void destroy(struct asim_component *c)
{
	struct service *s = c->state;
	if (s->inst)
		for (uint32_t i = 0; i < c->instances; i++)
			ptr_ring_free(&s->inst[i].queue);
	free(s->inst);
	asim_dist_finish(&s->service_time);
	asim_pool_finish(&s->jobs);
}

const struct asim_model_ops asim_service_ops = {
	.kind = "service",
	.summary = "instances with concurrency and a bounded FIFO queue, drawn service times",
	.state_size = sizeof(struct service),
	.configure = configure,
	.start = start,
	.handle = handle,
	.warmup_end = warmup_end,
	.report = report,
	.destroy = destroy,
};
