/* client: the users of the system. Open loop (Poisson or evenly spaced
 * arrivals at a rate) or closed loop (N users, each thinking between
 * requests). Each logical request may be tried several times: a per-attempt
 * timeout, retries with backoff and jitter, and an optional overall deadline.
 * Latency is measured from the intended start of the logical request, so the
 * time spent in retries and backoff counts, and a slow system cannot hide
 * queueing by delaying arrivals (no coordinated omission).
 *
 * Reported saturation: `utilization` and `queue_mean` are 0. A client does
 * no work and holds no waiting line: its open requests wait in the
 * components they were sent to, and are counted there. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "archsim/dist.h"
#include "archsim/pool.h"
#include "archsim/zipf.h"
#include "common.h"
#include "resilience.h"

/* The client's own timer, numbered clear of the shared ones. */
enum { EV_HEDGE = EV_MODEL_BASE + 8, EV_SPIKE_TICK };
enum { RAMP_STEPS = 16 }; /* a load spike's ramp rises in this many steps */

/* A logical request. arrive() sets every field by name: a field added here
 * must be set there. */
struct req {
	asim_time origin;   /* intended start of the logical request */
	asim_time deadline; /* overall deadline, ASIM_TIME_MAX when none */
	asim_time prev_backoff;
	struct asim_call *call; /* the attempt in flight, or NULL */
	struct asim_call *hcall; /* its hedge in flight, or NULL */
	struct asim_timer timer; /* its timeout, or the pending retry */
	struct asim_timer htimer; /* when to hedge it */
	uint64_t id, key;
	uint32_t attempt, user;
	uint16_t mix; /* the index of its operation in the client's op[] */
	bool open; /* handed out and not finished: see finish() */
};

struct client {
	uint32_t target, target_instances;
	bool closed, constant;
	double rate;            /* open loop: arrivals per second */
	uint64_t users;         /* closed loop */
	uint64_t sessions;      /* open loop: requests belong to one of them; 0: none */
	struct asim_dist think; /* closed loop */
	/* Closed loop under load_spike: users x spike users keep going. Every
	 * user below active has a loop going; one at or above it (after a
	 * spike ends) leaves at its next arrival, once its request is done. */
	uint64_t active;
	uint64_t *looping;      /* bit u: user u has a loop going */
	uint64_t looping_words;
	uint64_t limit;         /* logical requests to issue; 0: no limit */
	asim_time timeout, deadline;
	struct edge_policy pol; /* retries (budget), breaker, hedge toward the target */
	struct edge_stats edge;
	struct throttle_cfg tcfg;
	struct throttle thr;
	uint64_t throttled; /* attempts refused by thr, measured after warm-up */
	gsl_rng *r_throttle;
	/* Any of throttle, breaker, hedge or retry budget: when none is
	 * configured, one predictable test skips all their hooks. */
	bool hooks;

	int nops;
	uint16_t op[ASIM_MAX_OPS];
	gsl_ran_discrete_t *mix;
	uint64_t key_count;
	bool zipf;
	struct asim_zipf zipf_keys;

	gsl_rng *r_arrival, *r_mix, *r_key, *r_retry, *r_think, *r_route;
	gsl_rng *r_session; /* with sessions only: the other draws do not move */
	struct asim_outcome *outcome; /* the kernel's, looked up once */
	struct asim_pool reqs;
	uint64_t issued, arrival_index;
	asim_time first_arrival;
	/* load_spike faults: the rate is multiplied by spike, the product of
	 * the active spikes' levels (each ramps up linearly, or steps). */
	double spike;
	/* The mean gap between Poisson arrivals, 1 / (rate x spike), kept
	 * with the rate rather than divided out on every arrival. */
	double mean_gap_s;
	/* The next Poisson gap in units of the mean, drawn one arrival ahead
	 * for the reason struct asim_dist_ahead gives; in units, because a
	 * spike may change the mean before it is used. mean x unit is the very
	 * product asim_ran_exponential(r, mean) returns. */
	double next_unit_gap;
	struct spike_on {
		asim_time start, ramp;
		double factor;
		uint32_t id;
	} spikes[8];
	uint32_t nspikes;
	struct asim_timer next;  /* the pending open-loop arrival */
	asim_time spike_base;    /* evenly spaced arrivals restart here... */
	uint64_t spike_index;    /* ...from this index, at the new rate */

	/* Measured over requests that started after warm-up. */
	uint64_t offered, requests, succeeded, attempts, failed[ASIM_STATUS_COUNT];
	asim_time longest; /* of the measured requests that finished */
	/* The latency of the requests that succeeded, one histogram per
	 * operation of the mix (by its index in op[]): each request goes into
	 * one, and the client's latency and the run's per operation are their
	 * merges, made at the end (report, finish). */
	struct asim_hist *latency;
};

static const char *const client_keys[] = {
	"kind", "rate", "arrivals", "sessions", "users", "think_time", "requests", "mix", "keys",
	"timeout", "deadline", "retries", "target", "zone", "breaker", "hedge", "throttle", NULL,
};
static const char *const arrival_names[] = {"poisson", "constant", NULL};
static const char *const key_keys[] = {"count", "popularity", "alpha", NULL};
static const char *const popularity_names[] = {"uniform", "zipf", NULL};

static bool configure_mix(struct asim_component *c, struct client *s, const struct asim_cfg *map,
                          struct asim_diag *d)
{
	const struct asim_cfg *mix = asim_cfg_get(map, "mix");
	double w[ASIM_MAX_OPS];
	if (!mix) {
		s->nops = 1;
		s->op[0] = ASIM_OP_READ;
		w[0] = 1.0;
	} else {
		if (!asim_cfg_expect_map(mix, "mix", NULL, d))
			return false;
		/* Operation names are open (read, write, or a named endpoint), so
		 * keys are checked for their values, not against a fixed list. */
		if (mix->n == 0 || mix->n > ASIM_MAX_OPS) {
			asim_diag_error(d, mix->mark, "'mix' of '%s' needs 1 to %d operations", c->name,
			                ASIM_MAX_OPS);
			return false;
		}
		double sum = 0;
		for (size_t i = 0; i < mix->n; i++) {
			const struct asim_cfg_pair *pr = &mix->pairs[i];
			if (!asim_cfg_fraction(mix, pr->key, ASIM_REQUIRED, &w[i], d))
				return false;
			int op = asim_kernel_op(c->kernel, pr->key);
			if (op < 0) {
				asim_diag_error(d, pr->key_mark, "too many operation names (at most %d)",
				                ASIM_MAX_OPS);
				return false;
			}
			s->op[i] = (uint16_t)op;
			sum += w[i];
		}
		/* Each weight is a share of the requests, so the shares must make
		 * the whole: quietly scaling {read: 0.9, write: 0.9} to 50/50 would
		 * hide a typo. The tolerance admits rounding, as in 0.7 + 0.2 + 0.1. */
		if (fabs(sum - 1.0) > 1e-6) {
			asim_diag_error(d, mix->mark, "'mix' of '%s' must sum to 1 (100%%), got %g",
			                c->name, sum);
			return false;
		}
		s->nops = (int)mix->n;
	}
	s->mix = gsl_ran_discrete_preproc((size_t)s->nops, w);
	if (!s->mix) {
		asim_diag_error(d, map->mark, "out of memory for the mix of '%s'", c->name);
		return false;
	}
	return true;
}

static bool configure_keys(struct client *s, const struct asim_cfg *map, struct asim_diag *d)
{
	s->key_count = 1;
	const struct asim_cfg *keys = asim_cfg_get(map, "keys");
	if (!keys)
		return true;
	if (!asim_cfg_expect_map(keys, "keys", key_keys, d))
		return false;
	int64_t count = 1;
	int pop = 0;
	double alpha = 1.0;
	bool ok = asim_cfg_int(keys, "count", ASIM_REQUIRED, 1, INT64_C(1) << 40, &count, d);
	ok &= asim_cfg_choice(keys, "popularity", ASIM_OPTIONAL, popularity_names, &pop, d);
	ok &= asim_cfg_real(keys, "alpha", ASIM_OPTIONAL, 1e-6, 100.0, &alpha, d);
	if (!ok)
		return false;
	if (pop != 1 && asim_cfg_get(keys, "alpha")) {
		asim_diag_error(d, asim_cfg_get(keys, "alpha")->mark,
		                "'alpha' applies only to 'popularity: zipf'");
		return false;
	}
	s->key_count = (uint64_t)count;
	s->zipf = pop == 1;
	if (s->zipf)
		asim_zipf_init(&s->zipf_keys, s->key_count, alpha);
	return true;
}

static bool configure(struct asim_component *c, const struct asim_cfg *map, struct asim_diag *d)
{
	struct client *s = c->state;
	if (!asim_cfg_expect_map(map, c->name, client_keys, d))
		return false;
	bool ok = true;
	const struct asim_cfg *rate = asim_cfg_get(map, "rate");
	const struct asim_cfg *users = asim_cfg_get(map, "users");
	if (!rate == !users) {
		asim_diag_error(d, map->mark,
		                "'%s' needs either 'rate' (open loop) or 'users' (closed loop)", c->name);
		return false;
	}
	if (rate) {
		int arrivals = 0;
		ok &= asim_cfg_rate(map, "rate", ASIM_REQUIRED, 1e9, &s->rate, d);
		s->mean_gap_s = 1.0 / s->rate;
		ok &= asim_cfg_choice(map, "arrivals", ASIM_OPTIONAL, arrival_names, &arrivals, d);
		s->constant = arrivals == 1;
		int64_t n = 0;
		ok &= asim_cfg_int(map, "sessions", ASIM_OPTIONAL, 1, 10000000, &n, d);
		s->sessions = (uint64_t)n;
		if (asim_cfg_get(map, "think_time")) {
			asim_diag_error(d, asim_cfg_get(map, "think_time")->mark,
			                "'think_time' applies only to a closed loop ('users')");
			ok = false;
		}
	} else {
		int64_t n = 0;
		s->closed = true;
		ok &= asim_cfg_int(map, "users", ASIM_REQUIRED, 1, 10000000, &n, d);
		s->users = (uint64_t)n;
		ok &= asim_cfg_dist(map, "think_time", ASIM_REQUIRED, &s->think, d);
		if (asim_cfg_get(map, "arrivals")) {
			asim_diag_error(d, asim_cfg_get(map, "arrivals")->mark,
			                "'arrivals' applies only to an open loop ('rate')");
			ok = false;
		}
		if (asim_cfg_get(map, "sessions")) {
			asim_diag_error(d, asim_cfg_get(map, "sessions")->mark,
			                "'sessions' applies only to an open loop ('rate'): a closed loop's "
			                "users are its sessions");
			ok = false;
		}
	}
	int64_t limit = 0;
	ok &= asim_cfg_int(map, "requests", ASIM_OPTIONAL, 1, INT64_MAX, &limit, d);
	s->limit = (uint64_t)limit;
	s->timeout = 0;
	s->deadline = 0;
	ok &= asim_cfg_time(map, "timeout", ASIM_OPTIONAL, ASIM_NS, 24 * ASIM_HOUR, &s->timeout, d);
	ok &= asim_cfg_time(map, "deadline", ASIM_OPTIONAL, ASIM_NS, 24 * ASIM_HOUR, &s->deadline, d);
	ok &= edge_policy_parse(map, &s->pol, d);
	ok &= throttle_parse(map, "throttle", &s->tcfg, d);
	ok &= configure_keys(s, map, d);
	ok &= configure_mix(c, s, map, d);
	ok &= model_instances(c, map, 1, d);
	struct asim_component *t = model_target(c, map, "target", d);
	if (!t || !ok)
		return false;
	s->target = t->id;
	s->target_instances = t->instances;

	struct asim_kernel *k = c->kernel;
	s->r_arrival = asim_kernel_rng(k, c->name, "arrivals");
	s->r_mix = asim_kernel_rng(k, c->name, "mix");
	s->r_key = asim_kernel_rng(k, c->name, "keys");
	s->r_retry = asim_kernel_rng(k, c->name, "retry");
	s->r_think = asim_kernel_rng(k, c->name, "think");
	s->r_route = asim_kernel_rng(k, c->name, "route");
	if (s->sessions)
		s->r_session = asim_kernel_rng(k, c->name, "sessions");
	if (s->tcfg.on)
		s->r_throttle = asim_kernel_rng(k, c->name, "throttle");
	throttle_init(&s->thr, &s->tcfg);
	s->hooks = s->tcfg.on || s->pol.breaker.on || s->pol.hedge.on || s->pol.budget.on;
	s->outcome = asim_kernel_outcome(k);
	if (!s->outcome || !edge_init(&s->edge, &s->pol, asim_kernel_warmup(k))) {
		asim_diag_error(d, map->mark, "out of memory configuring '%s'", c->name);
		return false;
	}
	asim_kernel_pool_init(c->kernel, &s->reqs, sizeof(struct req), 1024);
	s->latency = calloc((size_t)s->nops, sizeof(*s->latency));
	if (!s->latency) {
		asim_diag_error(d, map->mark, "out of memory configuring '%s'", c->name);
		return false;
	}
	for (int i = 0; i < s->nops; i++)
		asim_hist_init_zeroed(&s->latency[i]);
	return true;
}

/* The open loop's rate now: its own, times the active load spikes'. */
static double current_rate(const struct client *s)
{
	return s->nspikes ? s->rate * s->spike : s->rate;
}

/* The n-th evenly spaced arrival is computed from n, not by adding a rounded
 * period n times, so the rate holds exactly over long runs. */
static asim_time next_arrival_delay(struct client *s, asim_time now)
{
	if (!s->constant) {
		double unit = s->next_unit_gap;
		s->next_unit_gap = asim_ran_exponential(s->r_arrival, 1.0);
		return asim_time_from_seconds(s->mean_gap_s * unit);
	}
	double since = (double)(s->arrival_index - s->spike_index);
	asim_time at = s->spike_base + asim_time_from_seconds(since / current_rate(s));
	s->arrival_index++;
	return at > now ? at - now : 0;
}

/* Sends one call of q's current attempt: the first (tag 0) or its hedge
 * (tag 1, to another instance when there are several). */
static struct asim_call *send_call(struct asim_component *c, struct client *s, struct req *q,
                                   uint32_t tag, asim_time expiry)
{
	struct asim_kernel *k = c->kernel;
	struct asim_call *call = asim_call_new(k);
	if (!call)
		return NULL; /* out of memory: the kernel stops the run */
	call->op = s->op[q->mix];
	/* arrive() wrote both just now: ASIM_LOAD_ALONE says why. */
	call->key = ASIM_LOAD_ALONE(q->key);
	call->request = ASIM_LOAD_ALONE(q->id);
	/* A closed loop's user, or an open loop's session; 0: the client as a
	 * whole (an open loop without sessions). */
	call->session = s->closed || s->sessions ? q->user + 1 : 0;
	call->origin = q->origin;
	call->attempt = q->attempt;
	call->token = (uint64_t)(uintptr_t)q;
	call->tag = tag;
	call->deadline = expiry;
	uint16_t inst = 0;
	if (tag && q->call && s->target_instances > 1) {
		inst = (uint16_t)gsl_rng_uniform_int(s->r_route, s->target_instances - 1);
		if (inst >= q->call->callee_inst)
			inst++;
	} else if (s->target_instances > 1) {
		inst = (uint16_t)gsl_rng_uniform_int(s->r_route, s->target_instances);
	}
	if (asim_measuring_at(k, q->origin))
		s->edge.attempts++;
	asim_call_send(k, call, c->id, 0, s->target, inst);
	return call;
}

static void finish_request(struct asim_component *c, struct client *s, struct req *q,
                           enum asim_status st);

static void send_attempt(struct asim_component *c, struct client *s, struct req *q)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	/* Adaptive throttling and an open breaker fail the attempt locally,
	 * and a retry would only be refused the same way. */
	if (s->hooks) {
		if (s->tcfg.on && !throttle_admit(&s->thr, &s->tcfg, now, s->r_throttle)) {
			if (asim_measuring_at(k, q->origin))
				s->throttled++;
			finish_request(c, s, q, ASIM_REJECTED);
			return;
		}
		if (s->pol.breaker.on && !breaker_allow(&s->edge.breaker, &s->pol.breaker, now)) {
			finish_request(c, s, q, ASIM_UNREACHABLE);
			return;
		}
	}
	asim_time expiry = q->deadline;
	if (s->timeout && (expiry == ASIM_TIME_MAX || now + s->timeout < expiry))
		expiry = now + s->timeout;
	q->call = send_call(c, s, q, 0, expiry);
	if (!q->call)
		return;
	if (expiry != ASIM_TIME_MAX)
		q->timer = asim_schedule_at(k, expiry, c->id, EV_TIMEOUT, 0, 0, q);
	if (!s->pol.hedge.on)
		return;
	asim_time h = hedge_delay(&s->edge.hedge, &s->pol.hedge);
	if (h != ASIM_TIME_MAX && (expiry == ASIM_TIME_MAX || h < expiry - now))
		q->htimer = asim_schedule(k, h, c->id, EV_HEDGE, 0, 0, q);
}

/* A measured logical request is judged, finished or found stuck at the end:
 * it counts in the client's and the run's requests, with its attempts. */
static void count_judged(struct client *s, const struct req *q)
{
	s->requests++;
	s->attempts += q->attempt + 1;
	s->outcome->requests++;
	s->outcome->attempts += q->attempt + 1;
}

static void finish_request(struct asim_component *c, struct client *s, struct req *q,
                           enum asim_status st)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	/* One latency goes into two histograms: find its bucket once. */
	asim_time latency = now - q->origin;
	size_t bucket = asim_hist_bucket_of(latency);
	if (asim_measuring_at(k, q->origin)) {
		struct asim_outcome *o = s->outcome;
		count_judged(s, q);
		if (latency > s->longest)
			s->longest = latency;
		if (st == ASIM_OK) {
			s->succeeded++;
			o->succeeded++;
			asim_hist_add(&s->latency[q->mix], bucket, latency);
		} else {
			s->failed[st]++;
			switch (st) {
			case ASIM_TIMEOUT: o->failed_timeout++; break;
			case ASIM_REJECTED: o->failed_rejected++; break;
			case ASIM_UNREACHABLE: o->failed_unreachable++; break;
			default: o->failed_error++; break;
			}
		}
	}
	asim_window_finish_at(s->outcome, st == ASIM_OK, st == ASIM_REJECTED, q->attempt, latency,
	                      bucket);
	uint32_t user = q->user;
	q->open = false;
	asim_pool_put(&s->reqs, q);
	if (s->closed && (!s->limit || s->issued < s->limit))
		asim_schedule(k, asim_dist_sample(&s->think, s->r_think), c->id, EV_ARRIVE, 0, user,
		              NULL);
}

static void attempt_failed(struct asim_component *c, struct client *s, struct req *q,
                           enum asim_status st)
{
	struct asim_kernel *k = c->kernel;
	if (q->attempt < s->pol.retry.max) {
		asim_time wait =
			retry_backoff(&s->pol.retry, q->attempt + 1, q->prev_backoff, s->r_retry);
		asim_time at;
		bool measuring = asim_measuring_at(k, q->origin);
		if (asim_time_add(asim_now(k), wait, &at) && at < q->deadline &&
		    edge_may_retry(&s->edge, &s->pol, q->attempt + 1, asim_now(k), measuring)) {
			if (measuring)
				s->edge.retries++;
			q->prev_backoff = wait;
			q->attempt++;
			q->timer = asim_schedule_at(k, at, c->id, EV_RETRY, 0, 0, q);
			return;
		}
	}
	finish_request(c, s, q, st);
}

/* A key in [0, n). gsl_rng_uniform_int takes n only up to the generator's
 * range (2^32 - 1 for taus2, as for mt19937) and aborts beyond it, while up to 2^40 keys
 * are allowed: there two raw 32-bit draws make 64 bits, whose modulo bias is
 * below 2^-24. Within the range the draws are those of gsl_rng_uniform_int. */
static uint64_t uniform_key(gsl_rng *r, uint64_t n)
{
	if (n <= gsl_rng_max(r) - gsl_rng_min(r))
		return gsl_rng_uniform_int(r, (unsigned long)n);
	uint64_t hi = (uint64_t)(gsl_rng_get(r) - gsl_rng_min(r)) & 0xffffffffu;
	uint64_t lo = (uint64_t)(gsl_rng_get(r) - gsl_rng_min(r)) & 0xffffffffu;
	return ((hi << 32) | lo) % n;
}

static bool looping(const struct client *s, uint64_t user)
{
	return user / 64 < s->looping_words && (s->looping[user / 64] >> (user % 64)) & 1;
}

static void set_looping(struct client *s, uint64_t user, bool on)
{
	uint64_t bit = UINT64_C(1) << (user % 64);
	s->looping[user / 64] = on ? s->looping[user / 64] | bit : s->looping[user / 64] & ~bit;
}

/* Room in the looping bitmap for users [0, n). */
static bool looping_room(struct client *s, uint64_t n)
{
	uint64_t words = (n + 63) / 64;
	if (words <= s->looping_words)
		return true;
	uint64_t *w = realloc(s->looping, words * sizeof(*w));
	if (!w)
		return false;
	memset(w + s->looping_words, 0, (words - s->looping_words) * sizeof(*w));
	s->looping = w;
	s->looping_words = words;
	return true;
}

/* A closed-loop user's loop begins: its first request after a think time. */
static void start_user(struct asim_component *c, struct client *s, uint64_t user)
{
	set_looping(s, user, true);
	asim_schedule(c->kernel, asim_dist_sample(&s->think, s->r_think), c->id, EV_ARRIVE, 0, user,
	              NULL);
}

static void arrive(struct asim_component *c, struct client *s, uint64_t user)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	if (s->closed && user >= s->active) {
		/* An extra user of a spike that has ended leaves. */
		set_looping(s, user, false);
		return;
	}
	if (s->limit && s->issued >= s->limit)
		return;
	s->issued++;
	if (!s->closed && (!s->limit || s->issued < s->limit))
		s->next = asim_schedule(k, next_arrival_delay(s, now), c->id, EV_ARRIVE, 0, 0, NULL);
	struct req *q = asim_pool_take(&s->reqs);
	if (!q) {
		asim_kernel_stop(k);
		return;
	}
	/* An open loop's request comes from one of its sessions, at random:
	 * arrivals of many independent users, each with its own writes to
	 * read back. */
	if (s->sessions)
		user = gsl_rng_uniform_int(s->r_session, s->sessions);
	/* Every field by name, not a compound literal, which GCC zeroes with
	 * a slow `rep stos` at this size (sim/call.c, asim_call_new). */
	q->origin = now;
	q->deadline = ASIM_TIME_MAX;
	q->prev_backoff = 0;
	q->call = q->hcall = NULL;
	q->timer = q->htimer = (struct asim_timer){0};
	q->id = ((uint64_t)c->id << 40) | s->issued;
	q->key = 0;
	q->attempt = 0;
	q->user = (uint32_t)user;
	q->mix = (uint16_t)(s->nops > 1 ? gsl_ran_discrete(s->r_mix, s->mix) : 0);
	q->open = true;
	if (s->key_count > 1)
		q->key = s->zipf ? asim_zipf_sample(&s->zipf_keys, s->r_key) - 1
		                 : uniform_key(s->r_key, s->key_count);
	if (s->deadline)
		asim_time_add(now, s->deadline, &q->deadline);
	asim_window_offer(s->outcome);
	if (asim_measuring_at(k, now)) {
		s->offered++;
		s->outcome->offered++;
		s->edge.calls++;
	}
	if (s->hooks && s->pol.budget.on)
		budget_deposit(&s->edge.budget, &s->pol.budget);
	send_attempt(c, s, q);
}

static void start(struct asim_component *c)
{
	struct client *s = c->state;
	struct asim_kernel *k = c->kernel;
	if (s->closed) {
		s->active = s->users;
		if (!looping_room(s, s->users)) {
			asim_kernel_stop(k);
			return;
		}
		for (uint64_t u = 0; u < s->users; u++)
			start_user(c, s, u);
	} else {
		if (!s->constant)
			s->next_unit_gap = asim_ran_exponential(s->r_arrival, 1.0);
		s->next = asim_schedule(k, next_arrival_delay(s, 0), c->id, EV_ARRIVE, 0, 0, NULL);
	}
}

/* An answer to the attempt or to its hedge: the first success wins and the
 * other call is abandoned; a failure waits for the other call, if any. */
static void answered(struct asim_component *c, struct client *s, struct asim_call *call)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct req *q = (struct req *)(uintptr_t)call->token;
	enum asim_status st = call->status;
	bool hedge = call->tag == 1;
	if (s->hooks) {
		hedge_observe(&s->edge.hedge, &s->pol.hedge, now - call->sent);
		if (s->pol.breaker.on)
			breaker_record(&s->edge.breaker, &s->pol.breaker, now, st == ASIM_OK);
		/* The SRE book counts as accepted what the backend took on. */
		if (s->tcfg.on && (st == ASIM_OK || st == ASIM_ERROR))
			throttle_accepted(&s->thr, now);
	}
	asim_call_free(k, call);
	if (hedge)
		q->hcall = NULL;
	else
		q->call = NULL;
	struct asim_call *other = hedge ? q->call : q->hcall;
	if (st != ASIM_OK && other)
		return;
	/* Most requests have neither timer: skip the calls. */
	if (q->timer.seq)
		asim_cancel(k, q->timer);
	if (q->htimer.seq)
		asim_cancel(k, q->htimer);
	if (other)
		asim_call_abandon(k, other);
	q->call = q->hcall = NULL;
	if (st == ASIM_OK) {
		if (hedge && asim_measuring_at(k, q->origin))
			s->edge.hedge.wins++;
		finish_request(c, s, q, ASIM_OK);
	} else {
		attempt_failed(c, s, q, st);
	}
}

static void respike(struct asim_component *c, struct client *s);

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct client *s = c->state;
	struct asim_kernel *k = c->kernel;
	switch (ev->type) {
	case EV_ARRIVE:
		arrive(c, s, ev->a);
		break;
	case EV_SPIKE_TICK:
		respike(c, s);
		break;
	case ASIM_EV_RESPONSE:
		answered(c, s, ev->p);
		break;
	case EV_TIMEOUT: {
		struct req *q = ev->p;
		asim_cancel(k, q->htimer);
		if (q->call)
			asim_call_abandon(k, q->call);
		if (q->hcall)
			asim_call_abandon(k, q->hcall);
		q->call = q->hcall = NULL;
		if (s->pol.breaker.on)
			breaker_record(&s->edge.breaker, &s->pol.breaker, asim_now(k), false);
		attempt_failed(c, s, q, ASIM_TIMEOUT);
		break;
	}
	case EV_HEDGE: {
		struct req *q = ev->p;
		q->htimer = (struct asim_timer){0};
		q->hcall = send_call(c, s, q, 1, q->call->deadline);
		if (asim_measuring_at(k, q->origin))
			s->edge.hedge.sent++;
		break;
	}
	case EV_RETRY:
		send_attempt(c, s, ev->p);
		break;
	}
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct client *s = c->state;
	const char *n = c->name;
	asim_results_string(r, "client", "components.%s.kind", n);
	asim_results_count(r, s->offered, "components.%s.offered", n);
	asim_results_count(r, s->requests, "components.%s.requests", n);
	asim_results_count(r, s->succeeded, "components.%s.succeeded", n);
	asim_results_real(r, s->requests ? (double)s->succeeded / (double)s->requests : 1.0,
	                  "components.%s.availability", n);
	asim_results_real(r, s->requests ? (double)s->attempts / (double)s->requests : 0.0,
	                  "components.%s.retry_amplification", n);
	asim_results_real(r, 0.0, "components.%s.utilization", n);
	asim_results_real(r, 0.0, "components.%s.queue_mean", n);
	struct asim_hist *all = malloc(sizeof(*all));
	if (all) {
		asim_hist_init(all);
		for (int i = 0; i < s->nops; i++)
			asim_hist_merge(all, &s->latency[i]);
		asim_hist_report(r, all, "components.%s.latency_ms", n);
		free(all);
	} else {
		r->oom = true;
	}
	char prefix[96];
	snprintf(prefix, sizeof prefix, "components.%s", n);
	edge_report(&s->edge, &s->pol, asim_now(c->kernel), r, prefix);
	if (s->tcfg.on)
		asim_results_count(r, s->throttled, "components.%s.throttled", n);
}

static size_t edges(const struct asim_component *c, uint32_t *to, size_t max)
{
	const struct client *s = c->state;
	if (max)
		to[0] = s->target;
	return 1;
}

/* The breaker's state per window (0 closed, 1 open, 2 half-open), when
 * there is one. */
static void sample(const struct asim_component *c, struct asim_results *r)
{
	const struct client *s = c->state;
	if (s->pol.breaker.on)
		asim_results_real(r, breaker_state_at(&s->edge.breaker, &s->pol.breaker,
		                                      asim_now(c->kernel)),
		                  "%s.breaker", c->name);
}

struct open_requests {
	struct asim_component *c;
	struct client *s;
};

static void count_open(void *ctx, void *obj)
{
	struct open_requests *x = ctx;
	struct client *s = x->s;
	const struct req *q = obj;
	struct asim_kernel *k = x->c->kernel;
	if (!q->open || !asim_measuring_at(k, q->origin))
		return;
	struct asim_outcome *o = s->outcome;
	if (asim_now(k) - q->origin > s->longest) {
		count_judged(s, q);
		o->failed_unfinished++;
	} else {
		o->in_flight++;
	}
}

/* Requests still open when the run ends. Leaving them all out would let a
 * request that never gets an answer (no timeout, a service paused or a
 * deadlock) vanish from availability; counting them all as failures would
 * charge the run with those it merely cut short, about rate x latency of
 * them. So one that has waited longer than any request of this client took
 * to finish is stuck, and counts as finished and failed ("unfinished");
 * the younger ones are in flight, reported apart and counted in neither. */
static void finish(struct asim_component *c)
{
	struct client *s = c->state;
	struct open_requests x = {c, s};
	asim_pool_each(&s->reqs, count_open, &x);
	for (int i = 0; i < s->nops; i++)
		asim_hist_merge(&s->outcome->latency_op[s->op[i]], &s->latency[i]);
}

static void destroy(struct asim_component *c)
{
	struct client *s = c->state;
	asim_dist_finish(&s->think);
	free(s->looping);
	if (s->mix)
		gsl_ran_discrete_free(s->mix);
	asim_pool_finish(&s->reqs);
	edge_finish(&s->edge);
	free(s->latency);
}

/* load_spike: open-loop arrivals at rate x factor, or a closed loop with
 * users x factor users (rounded; the extra ones start after a think time,
 * and leave after their request in flight once the spike ends). The
 * pending open-loop arrival is drawn again at the new rate (exact for
 * Poisson arrivals, which are memoryless; evenly spaced ones restart their
 * grid at the change). A ramp rises in 16 equal steps, each holding the
 * linear ramp's value at the middle of its step, so that the load it adds
 * averages what a linear ramp adds (half the factor's share over the ramp;
 * a step at the value of its start would give 15/32 of it). */
static void respike(struct asim_component *c, struct client *s)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	double level = 1.0;
	for (uint32_t i = 0; i < s->nspikes; i++) {
		const struct spike_on *sp = &s->spikes[i];
		double x = 1.0;
		if (sp->ramp && now - sp->start < sp->ramp) {
			/* The step whose tick (at ramp * i / 16, as scheduled) has come. */
			int step = 0;
			while (step < RAMP_STEPS - 1 &&
			       sp->ramp * (step + 1) / RAMP_STEPS <= now - sp->start)
				step++;
			x = (step + 0.5) / RAMP_STEPS;
		}
		level *= 1.0 + (sp->factor - 1.0) * x;
	}
	s->spike = level;
	s->mean_gap_s = 1.0 / current_rate(s);
	if (s->closed) {
		/* User ids are 32-bit in a request record. */
		double want = round((double)s->users * level);
		uint64_t active = want >= (double)UINT32_MAX ? UINT32_MAX : (uint64_t)want;
		if (active > s->active && !looping_room(s, active)) {
			asim_kernel_stop(k);
			return;
		}
		for (uint64_t u = s->active; u < active; u++)
			if (!looping(s, u))
				start_user(c, s, u);
		s->active = active;
		return;
	}
	if (!asim_cancel(k, s->next))
		return;
	s->spike_base = now;
	s->spike_index = s->arrival_index;
	s->next = asim_schedule(k, next_arrival_delay(s, now), c->id, EV_ARRIVE, 0, 0, NULL);
}

static void fault(struct asim_component *c, const struct asim_fault *f, bool active)
{
	struct client *s = c->state;
	if (f->kind != ASIM_FAULT_LOAD_SPIKE)
		return;
	if (active) {
		if (s->nspikes == sizeof s->spikes / sizeof s->spikes[0])
			return; /* more than 8 at once: the rest are ignored */
		s->spikes[s->nspikes++] = (struct spike_on){f->start, f->ramp, f->factor, f->id};
		for (int i = 1; f->ramp && i < RAMP_STEPS; i++)
			asim_schedule(c->kernel, f->ramp * i / RAMP_STEPS, c->id, EV_SPIKE_TICK, 0, 0,
			              NULL);
	} else {
		for (uint32_t i = 0; i < s->nspikes; i++) {
			if (s->spikes[i].id == f->id) {
				s->spikes[i] = s->spikes[--s->nspikes];
				break;
			}
		}
	}
	respike(c, s);
}

const struct asim_model_ops asim_client_ops = {
	.kind = "client",
	.summary = "users: open-loop arrivals or closed-loop users, timeouts, retries",
	.state_size = sizeof(struct client),
	.configure = configure,
	.start = start,
	.handle = handle,
	.finish = finish,
	.report = report,
	.destroy = destroy,
	.edges = edges,
	.sample = sample,
	.faults = ASIM_FAULT_BIT(ASIM_FAULT_LOAD_SPIKE),
	.fault = fault,
};
