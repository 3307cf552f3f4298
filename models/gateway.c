/* gateway: the edge of the system. Each request is checked against a cap on
 * requests in flight and a rate limit, authenticated (auth_time), then
 * forwarded to the target, whose answer is relayed back (its version, and
 * ASIM_CALL_DEDUPLICATED or ASIM_CALL_REAPPLIED when the target recognised
 * a repeat, ASIM_CALL_DUPLICATE_COUNTED when a store behind a service
 * counted one, or ASIM_CALL_PASSED_ON when a repeat is judged where the
 * target passed it on, for a worker that writes through the gateway, whose
 * ASIM_CALL_REPEATS_COUNTED goes along with the request). A request beyond
 * either limit is answered ASIM_REJECTED at once, as an edge proxy answers
 * 429 or 503 without touching the backends.
 *
 * The rate limit is a token bucket of `rate` tokens per second holding at
 * most `burst`, written as GCRA (the generic cell rate algorithm of ATM, as
 * in Envoy and redis-cell): one "theoretical arrival time" in integer
 * nanoseconds instead of a fractional token count, so that admission is exact
 * and the same on every machine. Over any window of length T from a full
 * bucket it admits at most burst + floor(T * rate) requests.
 *
 * Limits apply to the gateway as a whole, across its instances, like a
 * shared (distributed) limiter.
 *
 * The gateway stops waiting for the target at the request's deadline,
 * tightened by its own `timeout`, and answers ASIM_TIMEOUT then: without it a
 * target that loses requests (a crash) would hold in-flight slots forever and
 * the cap would end by rejecting everything. `timeout` defaults to 15s, as
 * Envoy's route timeout does (AWS API Gateway stops at 29s, nginx's
 * proxy_read_timeout at 60s): no real edge proxy waits for ever, so a
 * request whose client set no deadline is not held past it either.
 *
 * Reported saturation: `utilization` is the time-average of requests in
 * flight over `concurrency` when the cap is set, else the admitted rate over
 * `rate_limit` when that is set, else 0 (an unlimited gateway cannot
 * saturate in this model); `queue_mean` is 0, since nothing ever waits for
 * a slot (`in_flight_mean` gives the occupancy). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/dist.h"
#include "archsim/pool.h"
#include "common.h"
#include "resilience.h"

/* One admitted request: the call in, the call forwarded, its expiry. */
struct fwd {
	struct asim_call *in, *out;
	struct asim_timer timer;
	uint16_t inst;
	uint32_t epoch; /* its instance's epoch when admitted (faults) */
};

/* Envoy's default route timeout (see the top comment). */
#define DEFAULT_TIMEOUT (15 * ASIM_S)

struct gateway {
	uint32_t target, target_instances;
	struct asim_dist auth_time;
	bool has_auth;
	bool limited;
	asim_time interval;  /* ns per token */
	asim_time tolerance; /* (burst - 1) * interval */
	asim_time tat;       /* theoretical arrival time of the next token */
	uint64_t burst;
	double rate;
	uint64_t concurrency; /* 0: no cap */
	asim_time timeout;    /* its own limit on the wait for the target */
	uint64_t in_flight;
	struct inst_fault *fs; /* per instance; made at the first fault */
	gsl_rng *r_fault;
	gsl_rng *r_auth, *r_route;
	struct asim_tw in_flight_tw;
	struct asim_pool fwds;
	struct breaker_cfg bcfg; /* toward the target; off unless `breaker:` */
	struct breaker brk;

	/* Measured after warm-up. */
	uint64_t arrived, admitted, rate_limited, rejected_concurrency, failed, timed_out;
	struct asim_hist latency; /* arrival to ok reply: asim_call_measure() */
};

enum { EV_AUTHED = EV_MODEL_BASE, EV_EXPIRED };

static const char *const gateway_keys[] = {
	"kind", "instances", "zones", "zone", "auth_time", "rate_limit", "concurrency", "timeout",
	"target", "breaker", NULL,
};
static const char *const limit_keys[] = {"rate", "burst", NULL};

static bool configure_limit(struct asim_component *c, struct gateway *s,
                            const struct asim_cfg *map, struct asim_diag *d)
{
	const struct asim_cfg *rl = asim_cfg_get(map, "rate_limit");
	if (!rl)
		return true;
	bool explicit_burst = false;
	int64_t burst = 1;
	if (rl->type == ASIM_CFG_SCALAR) {
		if (!asim_cfg_node_rate(rl, 1e9, &s->rate, d))
			return false;
	} else {
		char ctx[96];
		snprintf(ctx, sizeof ctx, "%s.rate_limit", c->name);
		if (!asim_cfg_expect_map(rl, ctx, limit_keys, d))
			return false;
		bool ok = asim_cfg_rate(rl, "rate", ASIM_REQUIRED, 1e9, &s->rate, d);
		ok &= asim_cfg_int(rl, "burst", ASIM_OPTIONAL, 1, INT64_C(1) << 40, &burst, d);
		if (!ok)
			return false;
		explicit_burst = asim_cfg_get(rl, "burst") != NULL;
	}
	/* Without a burst, allow 10 ms worth of requests: enough that Poisson
	 * arrivals just under the rate are not clipped by their own jitter. */
	if (!explicit_burst) {
		double b = ceil(s->rate / 100.0);
		burst = b < 1 ? 1 : (int64_t)b;
	}
	s->limited = true;
	s->burst = (uint64_t)burst;
	s->interval = asim_time_from_seconds(1.0 / s->rate);
	if (s->interval < 1)
		s->interval = 1;
	if ((uint64_t)(s->burst - 1) > (uint64_t)(ASIM_TIME_MAX / 4 / s->interval)) {
		asim_diag_error(d, rl->mark, "'rate_limit' of '%s': burst too large for the rate",
		                c->name);
		return false;
	}
	s->tolerance = (asim_time)(s->burst - 1) * s->interval;
	return true;
}

static bool configure(struct asim_component *c, const struct asim_cfg *map, struct asim_diag *d)
{
	struct gateway *s = c->state;
	asim_call_measure(c, &s->latency);
	if (!asim_cfg_expect_map(map, c->name, gateway_keys, d))
		return false;
	int64_t conc = 0;
	bool ok = model_instances(c, map, 65535, d);
	ok &= asim_cfg_int(map, "concurrency", ASIM_OPTIONAL, 1, INT64_C(1) << 40, &conc, d);
	s->has_auth = asim_cfg_get(map, "auth_time") != NULL;
	ok &= asim_cfg_dist(map, "auth_time", ASIM_OPTIONAL, &s->auth_time, d);
	ok &= configure_limit(c, s, map, d);
	s->timeout = DEFAULT_TIMEOUT;
	ok &= asim_cfg_time(map, "timeout", ASIM_OPTIONAL, ASIM_NS, 24 * ASIM_HOUR, &s->timeout, d);
	ok &= breaker_parse(map, "breaker", &s->bcfg, d);
	struct asim_component *t = model_target(c, map, "target", d);
	if (!t || !ok)
		return false;
	s->concurrency = (uint64_t)conc;
	s->target = t->id;
	s->target_instances = t->instances;
	s->r_auth = asim_kernel_rng(c->kernel, c->name, "auth");
	s->r_route = asim_kernel_rng(c->kernel, c->name, "route");
	breaker_init(&s->brk, &s->bcfg, asim_kernel_warmup(c->kernel));
	asim_kernel_pool_init(c->kernel, &s->fwds, sizeof(struct fwd), 1024);
	return true;
}

static void start(struct asim_component *c)
{
	struct gateway *s = c->state;
	asim_tw_init(&s->in_flight_tw, 0, 0);
}

/* GCRA: admit when the bucket's theoretical arrival time is no further
 * ahead of now than the burst allows; an admission moves it one interval. */
static bool take_token(struct gateway *s, asim_time now)
{
	asim_time tat = s->tat > now ? s->tat : now;
	if (tat - now > s->tolerance)
		return false;
	s->tat = tat + s->interval;
	return true;
}

static void relay(struct asim_component *c, struct gateway *s, struct fwd *f,
                  enum asim_status st);

static void forward(struct asim_component *c, struct gateway *s, struct fwd *f)
{
	struct asim_kernel *k = c->kernel;
	struct asim_call *in = f->in;
	if (s->fs && (f->epoch != s->fs[f->inst].epoch || inst_fault_error(&s->fs[f->inst], s->r_fault))) {
		relay(c, s, f, ASIM_ERROR); /* lost in a crash (dropped there), or an injected error */
		return;
	}
	if (s->bcfg.on && !breaker_allow(&s->brk, &s->bcfg, asim_now(k))) {
		relay(c, s, f, ASIM_UNREACHABLE); /* the breaker is open: fail fast */
		return;
	}
	struct asim_call *out = asim_call_new(k);
	if (!out)
		return; /* out of memory: the kernel stops the run */
	asim_time deadline = in->deadline, expiry;
	if (asim_time_add(asim_now(k), s->timeout, &expiry) && expiry < deadline)
		deadline = expiry;
	if (deadline <= asim_now(k)) {
		/* The deadline ran out during authentication: not worth sending. */
		asim_call_free(k, out);
		if (asim_measuring_at(k, asim_now(k)))
			s->timed_out++;
		relay(c, s, f, ASIM_TIMEOUT);
		return;
	}
	out->op = in->op;
	out->key = in->key;
	out->request = in->request;
	asim_call_forward_flags(out, in);
	out->session = in->session;
	out->origin = in->origin;
	out->attempt = in->attempt;
	out->deadline = deadline;
	out->token = (uint64_t)(uintptr_t)f;
	f->out = out;
	uint16_t to = 0;
	if (s->target_instances > 1)
		to = (uint16_t)gsl_rng_uniform_int(s->r_route, s->target_instances);
	asim_call_send(k, out, c->id, f->inst, s->target, to);
	if (deadline != ASIM_TIME_MAX)
		f->timer = asim_schedule_at(k, deadline, c->id, EV_EXPIRED, f->inst, 0, f);
}

static void arrive(struct asim_component *c, struct gateway *s, struct asim_call *in,
                   uint16_t inst)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	bool measuring = asim_measuring_at(k, now);
	if (measuring)
		s->arrived++;
	if (s->fs && s->fs[inst].down) {
		/* Refused by a crashed process; nothing at all from a lost host. */
		if (s->fs[inst].gone)
			asim_call_drop(k, in);
		else
			asim_call_reply(k, in, ASIM_UNREACHABLE);
		return;
	}
	/* The cap is checked first so that a request turned away for lack of
	 * room does not also spend a token. */
	if (s->concurrency && s->in_flight >= s->concurrency) {
		if (measuring)
			s->rejected_concurrency++;
		asim_call_reply(k, in, ASIM_REJECTED);
		return;
	}
	if (s->limited && !take_token(s, now)) {
		if (measuring)
			s->rate_limited++;
		asim_call_reply(k, in, ASIM_REJECTED);
		return;
	}
	struct fwd *f = asim_pool_get(&s->fwds);
	if (!f) {
		asim_kernel_stop(k);
		return;
	}
	f->in = in;
	f->inst = inst;
	f->epoch = s->fs ? s->fs[inst].epoch : 0;
	if (measuring)
		s->admitted++;
	s->in_flight++;
	asim_tw_set(&s->in_flight_tw, now, (double)s->in_flight);
	asim_time auth = s->has_auth ? asim_dist_sample(&s->auth_time, s->r_auth) : 0;
	if (s->fs)
		auth = inst_fault_time(&s->fs[inst], auth);
	if (auth > 0)
		asim_schedule(k, auth, c->id, EV_AUTHED, inst, 0, f);
	else
		forward(c, s, f);
}

/* The request leaves the gateway with status st. */
static void relay(struct asim_component *c, struct gateway *s, struct fwd *f,
                  enum asim_status st)
{
	struct asim_kernel *k = c->kernel;
	if (st != ASIM_OK && asim_measuring_at(k, asim_now(k)))
		s->failed++;
	s->in_flight--;
	asim_tw_set(&s->in_flight_tw, asim_now(k), (double)s->in_flight);
	if (s->fs && f->epoch != s->fs[f->inst].epoch)
		asim_call_drop(k, f->in); /* admitted before a crash: lost with it */
	else
		asim_call_reply(k, f->in, st);
	asim_pool_put(&s->fwds, f);
}

static void answered(struct asim_component *c, struct gateway *s, struct asim_call *out)
{
	struct asim_kernel *k = c->kernel;
	struct fwd *f = (struct fwd *)(uintptr_t)out->token;
	enum asim_status st = out->status;
	asim_cancel(k, f->timer);
	if (s->bcfg.on)
		breaker_record(&s->brk, &s->bcfg, asim_now(k), st == ASIM_OK);
	f->in->version = out->version;
	asim_call_relay_repeat(f->in, out);
	asim_call_free(k, out);
	relay(c, s, f, st);
}

static void expired(struct asim_component *c, struct gateway *s, struct fwd *f)
{
	struct asim_kernel *k = c->kernel;
	asim_call_abandon(k, f->out);
	if (asim_measuring_at(k, asim_now(k)))
		s->timed_out++;
	if (s->bcfg.on)
		breaker_record(&s->brk, &s->bcfg, asim_now(k), false);
	relay(c, s, f, ASIM_TIMEOUT);
}

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct gateway *s = c->state;
	switch (ev->type) {
	case ASIM_EV_REQUEST:
		arrive(c, s, ev->p, ev->inst < c->instances ? ev->inst : 0);
		break;
	case EV_AUTHED:
		forward(c, s, ev->p);
		break;
	case EV_EXPIRED:
		expired(c, s, ev->p);
		break;
	case ASIM_EV_RESPONSE:
		answered(c, s, ev->p);
		break;
	}
}

static void warmup_end(struct asim_component *c)
{
	struct gateway *s = c->state;
	asim_tw_reset(&s->in_flight_tw, asim_now(c->kernel));
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct gateway *s = c->state;
	const char *n = c->name;
	asim_results_string(r, "gateway", "components.%s.kind", n);
	asim_results_count(r, c->instances, "components.%s.instances", n);
	asim_results_count(r, s->arrived, "components.%s.arrived", n);
	asim_results_count(r, s->admitted, "components.%s.admitted", n);
	asim_results_count(r, s->rate_limited, "components.%s.rate_limited", n);
	asim_results_count(r, s->rejected_concurrency, "components.%s.rejected_concurrency", n);
	asim_results_count(r, s->failed, "components.%s.failed", n);
	asim_results_count(r, s->timed_out, "components.%s.timed_out", n);
	if (s->bcfg.on) {
		asim_results_string(r, breaker_state_name(breaker_state_at(&s->brk, &s->bcfg, asim_now(c->kernel))), "components.%s.breaker.state", n);
		asim_results_count(r, s->brk.short_circuited, "components.%s.breaker.short_circuited", n);
		asim_results_count(r, s->brk.opened, "components.%s.breaker.opened", n);
		asim_results_real(r, asim_time_to_seconds(breaker_open_time(&s->brk, &s->bcfg, asim_now(c->kernel))),
		                  "components.%s.breaker.open_s", n);
	}
	double mean = asim_tw_mean(&s->in_flight_tw, asim_now(c->kernel));
	asim_results_real(r, mean, "components.%s.in_flight_mean", n);
	asim_results_count(r, (uint64_t)s->in_flight_tw.max, "components.%s.in_flight_max", n);
	/* Saturation is the share of the gateway's limit in use: of its cap on
	 * requests in flight when it has one, else of its rate limit (admitted
	 * per second over the rate); with neither nothing can saturate: 0. It
	 * never makes a request wait (one beyond a limit is refused at once),
	 * so its queue is always empty. */
	double util = 0.0;
	asim_time span = asim_now(c->kernel) - s->in_flight_tw.start;
	if (s->concurrency)
		util = mean / (double)s->concurrency;
	else if (s->limited && span > 0)
		util = (double)s->admitted / asim_time_to_seconds(span) / s->rate;
	asim_results_real(r, util, "components.%s.utilization", n);
	asim_results_real(r, 0.0, "components.%s.queue_mean", n);
	asim_hist_report(r, &s->latency, "components.%s.latency_ms", c->name);
}

static size_t edges(const struct asim_component *c, uint32_t *to, size_t max)
{
	const struct gateway *s = c->state;
	if (max)
		to[0] = s->target;
	return 1;
}

static void destroy(struct asim_component *c)
{
	struct gateway *s = c->state;
	asim_dist_finish(&s->auth_time);
	asim_pool_finish(&s->fwds);
	free(s->fs);
}

/* Faults, per instance: a crash refuses new requests (drops them under a
 * zone loss) and loses those admitted before it, whose answers are dropped
 * when they come; slow stretches auth_time; error_rate answers ASIM_ERROR
 * after authentication, without forwarding. The limits stay shared. */
static void fault(struct asim_component *c, const struct asim_fault *f, bool active)
{
	struct gateway *s = c->state;
	if (!s->fs) {
		s->fs = calloc(c->instances, sizeof *s->fs);
		if (!s->fs) {
			asim_kernel_stop(c->kernel);
			return;
		}
	}
	if (f->kind == ASIM_FAULT_ERROR_RATE && !s->r_fault)
		s->r_fault = asim_kernel_rng(c->kernel, c->name, "faults");
	for (uint32_t i = 0; i < c->instances; i++)
		if (asim_fault_hits(f, i))
			inst_fault_apply(&s->fs[i], f, active, asim_now(c->kernel));
}

const struct asim_model_ops asim_gateway_ops = {
	.kind = "gateway",
	.summary = "edge gateway: token-bucket rate limit, in-flight cap, auth time, forwards",
	.state_size = sizeof(struct gateway),
	.configure = configure,
	.start = start,
	.handle = handle,
	.warmup_end = warmup_end,
	.report = report,
	.destroy = destroy,
	.edges = edges,
	.judges_read = model_relay_judges_read,
	.faults = ASIM_FAULT_BIT(ASIM_FAULT_CRASH) | ASIM_FAULT_BIT(ASIM_FAULT_ZONE_LOSS) |
	          ASIM_FAULT_BIT(ASIM_FAULT_SLOW) | ASIM_FAULT_BIT(ASIM_FAULT_ERROR_RATE),
	.fault = fault,
};
