/* Resilience policies shared by the models (not part of the public API):
 * retry budgets, circuit breakers, hedging delays, client-side adaptive
 * throttling, CoDel-style queue shedding, active health checks and passive
 * outlier ejection. Each is a small configuration struct filled by a parse
 * function from the scenario, and a small state struct driven by decide and
 * record functions that take the current time: no events, no allocation on
 * the hot path, so each can be unit-tested alone and a model only asks
 * "may I?" and reports "it went so".
 *
 * Semantics follow gRPC (retry throttling, hedging), Envoy (circuit breaking,
 * health checking, outlier detection), Finagle (retry budgets), the Google
 * SRE book (client-side throttling) and CoDel (Nichols and Jacobson), each
 * simplified as its comment says. */
#ifndef ARCHSIM_MODELS_RESILIENCE_H
#define ARCHSIM_MODELS_RESILIENCE_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "archsim/cfg.h"
#include "archsim/diag.h"
#include "archsim/results.h"
#include "archsim/stats.h"
#include "archsim/time.h"
#include "common.h"

/* ---- a sliding window of two counters ---- */

/* Counts over the last `window`, kept in WIN_SLOTS slots of window/WIN_SLOTS
 * each: a slot leaves the sum whole when it ages out, so the window slides
 * in steps of a tenth. */
#define WIN_SLOTS 10
struct win_count {
	asim_time slot_len, slot_start;
	uint32_t head;
	uint64_t n[WIN_SLOTS][2];
	uint64_t sum[2];
};
void win_init(struct win_count *w, asim_time window);
/* Ages out the slots that ended by now. */
void win_advance(struct win_count *w, asim_time now);
void win_add(struct win_count *w, asim_time now, int which, uint64_t n);
void win_clear(struct win_count *w);

/* ---- retry budget ---- */

/* A token bucket for retries, as in gRPC's retry throttling and Finagle's
 * RetryBudget: every first attempt deposits `ratio` tokens (capped at
 * max_tokens), every retry withdraws one; a reserve refilled at min_per_s
 * (holding at most one second's worth) lets a trickle of retries through
 * when traffic is low. A retry without a whole token is denied, so over any
 * stretch retries <= ratio * first attempts + min_per_s * seconds + the
 * tokens at its start. `retries: {max: 3, budget: {ratio: 10%, min_per_s: 10}}`. */
struct budget_cfg {
	bool on;
	double ratio, min_per_s, max_tokens;
};
struct budget {
	double tokens, reserve;
	asim_time last; /* of the last reserve refill */
	uint64_t denied;
};
/* Reads the `budget` key of a `retries:` mapping (node may be NULL or a
 * scalar: then no budget). */
bool budget_parse(const struct asim_cfg *retries, struct budget_cfg *out, struct asim_diag *d);
void budget_init(struct budget *b, const struct budget_cfg *cfg);
void budget_deposit(struct budget *b, const struct budget_cfg *cfg);
/* Takes a token for one retry at now; false (counted in denied) when none. */
bool budget_withdraw(struct budget *b, const struct budget_cfg *cfg, asim_time now);

/* ---- circuit breaker ---- */

/* Closed: calls pass and their results fill a sliding window; the breaker
 * opens when, over the window, at least min_requests ended and the failed
 * share reached failure_rate, or when `consecutive` calls failed in a row.
 * Open: calls fail at once (short-circuited) for open_for. Half-open: the
 * next half_open_probes calls pass; one failure reopens it, that many
 * successes close it with a fresh window. Results of calls sent before a
 * change of state still count, as in Envoy and resilience4j. */
enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };
struct breaker_cfg {
	bool on;
	double failure_rate; /* 0: by rate off */
	uint32_t min_requests, consecutive, probes; /* consecutive 0: off */
	asim_time window, open_for;
};
struct breaker {
	uint8_t state;
	asim_time since;      /* of the current state */
	asim_time stat_from;  /* open time counts from here (warm-up) */
	uint32_t consec, probes_sent, probes_ok;
	struct win_count w;   /* [0] ok, [1] failed */
	uint64_t opened, changes, short_circuited;
	asim_time open_total; /* closed stretches of open state */
};
bool breaker_parse(const struct asim_cfg *map, const char *key, struct breaker_cfg *out,
                   struct asim_diag *d);
void breaker_init(struct breaker *b, const struct breaker_cfg *cfg, asim_time stat_from);
/* May a call go now? false: short-circuit it (counted). */
bool breaker_allow(struct breaker *b, const struct breaker_cfg *cfg, asim_time now);
void breaker_record(struct breaker *b, const struct breaker_cfg *cfg, asim_time now, bool ok);
/* Time spent open since stat_from, up to now: each open stretch lasts
 * open_for at most, though the breaker turns half-open only at the next
 * call after it. */
asim_time breaker_open_time(const struct breaker *b, const struct breaker_cfg *cfg, asim_time now);
/* The state at now, for figures: half-open once open_for has passed. */
int breaker_state_at(const struct breaker *b, const struct breaker_cfg *cfg, asim_time now);
/* Restarts statistics at now (end of warm-up). */
void breaker_reset_stats(struct breaker *b, asim_time now);
const char *breaker_state_name(int state);

/* ---- hedging ---- */

/* `hedge: {after: 20ms}` sends a second attempt when the first has not been
 * answered after that long; `{after: p95}` uses that percentile of recent
 * latencies of the edge (the last up to HEDGE_RECENT answers, recomputed
 * every HEDGE_EVERY), and does not hedge until HEDGE_MIN_SAMPLES are in. */
#define HEDGE_RECENT 4096
#define HEDGE_EVERY 64
#define HEDGE_MIN_SAMPLES 64
struct hedge_cfg {
	bool on;
	asim_time after; /* fixed delay, when quantile == 0 */
	double quantile;
};
struct hedge {
	struct asim_hist *recent; /* owned; NULL with a fixed delay */
	asim_time cached;
	uint64_t sent, wins;
};
bool hedge_parse(const struct asim_cfg *map, const char *key, struct hedge_cfg *out,
                 struct asim_diag *d);
/* Allocates the latency window of a percentile hedge; false on OOM. */
bool hedge_init(struct hedge *h, const struct hedge_cfg *cfg);
void hedge_finish(struct hedge *h);
/* The delay after which to hedge, or ASIM_TIME_MAX: not (yet) */
asim_time hedge_delay(const struct hedge *h, const struct hedge_cfg *cfg);
/* A latency seen on the edge (an answer to either attempt). */
void hedge_observe(struct hedge *h, const struct hedge_cfg *cfg, asim_time latency);

/* ---- client-side adaptive throttling ---- */

/* The SRE book's rule: over the last `window`, with `requests` attempted
 * and `accepts` accepted by the backend, reject a new request locally with
 * probability max(0, (requests - k * accepts) / (requests + 1)). Requests
 * rejected locally count as requests. `throttle: {k: 2, window: 2m}`. */
struct throttle_cfg {
	bool on;
	double k;
	asim_time window;
};
struct throttle {
	struct win_count w; /* [0] requests, [1] accepts */
};
bool throttle_parse(const struct asim_cfg *map, const char *key, struct throttle_cfg *out,
                    struct asim_diag *d);
void throttle_init(struct throttle *t, const struct throttle_cfg *cfg);
double throttle_probability(struct throttle *t, asim_time now, double k);
/* Counts a request and decides: false rejects it (the caller counts it
 * while measuring). */
bool throttle_admit(struct throttle *t, const struct throttle_cfg *cfg, asim_time now,
                    gsl_rng *r);
void throttle_accepted(struct throttle *t, asim_time now);

/* ---- queue shedding (service instances) ---- */

/* `queue_policy: fifo | lifo` and `queue_delay_target: 5ms` with
 * `queue_delay_interval: 100ms` (CoDel's defaults): when a request is taken
 * from the queue after waiting longer than target, and waits have stayed
 * above target for at least interval (every request taken since then), it
 * is dropped. An empty queue or a wait under target ends the episode. This is
 * CoDel's state machine without its sqrt control law, as in Facebook's
 * adaptive LIFO servers. */
struct shed_cfg {
	bool lifo;
	asim_time target, interval; /* target 0: no CoDel */
};
struct codel {
	asim_time above_since; /* -1: not above target */
};
bool shed_parse(const struct asim_cfg *map, struct shed_cfg *out, struct asim_diag *d);
void codel_init(struct codel *q);
/* A request leaves the queue after waiting sojourn: drop it? */
bool codel_drop(struct codel *q, const struct shed_cfg *cfg, asim_time now, asim_time sojourn);
/* The queue emptied. */
void codel_empty(struct codel *q);

/* ---- active health checks and passive outlier ejection (balancer) ---- */

/* `health_check: {interval: 1s, timeout: 500ms, unhealthy_after: 3,
 * healthy_after: 2}`: a probe every interval, failed when not answered OK
 * within timeout; a backend turns unhealthy after unhealthy_after failed
 * probes in a row and healthy again after healthy_after good ones. Backends
 * start healthy, as in Envoy with no initial check. */
struct health_cfg {
	bool on;
	asim_time interval, timeout;
	uint32_t unhealthy_after, healthy_after;
};
struct health {
	bool unhealthy;
	uint32_t fails, oks;
};
bool health_parse(const struct asim_cfg *map, const char *key, struct health_cfg *out,
                  struct asim_diag *d);
/* A probe ended; true when the backend changed state. */
bool health_record(struct health *h, const struct health_cfg *cfg, bool ok);

/* `outlier: {consecutive_errors: 5, eject_for: 30s, max_ejected: 50%}`: a
 * backend whose answers failed consecutive_errors times in a row is ejected
 * for eject_for, unless that would put more than max_ejected of the
 * backends out (Envoy's outlier detection, without its growing ejection
 * time). */
struct outlier_cfg {
	bool on;
	uint32_t consecutive;
	asim_time eject_for;
	double max_ejected;
};
struct outlier {
	uint32_t consec;
	asim_time until; /* ejected before this time */
};
bool outlier_parse(const struct asim_cfg *map, const char *key, struct outlier_cfg *out,
                   struct asim_diag *d);
/* An answer from the backend; ejected_now counts backends ejected at now,
 * of total. Returns true when this answer ejects it. */
bool outlier_record(struct outlier *o, const struct outlier_cfg *cfg, asim_time now, bool ok,
                    uint32_t ejected_now, uint32_t total);
static inline bool outlier_ejected(const struct outlier *o, asim_time now)
{
	return now < o->until;
}

/* ---- the policies of one call edge, together ---- */

/* What a caller (a client toward its target, a service toward a callee)
 * applies to its calls: `retries:` (with its `budget:`), `breaker:` and
 * `hedge:` of one mapping. */
struct edge_policy {
	struct retry_policy retry;
	struct budget_cfg budget;
	struct breaker_cfg breaker;
	struct hedge_cfg hedge;
};
/* The state and figures of one edge. Counters are the caller's to bump
 * while measuring (after warm-up). */
struct edge_stats {
	struct budget budget;
	struct breaker breaker;
	struct hedge hedge;
	uint64_t calls;    /* logical calls (first attempts) */
	uint64_t attempts; /* every attempt sent, retries and hedges included */
	uint64_t retries, retry_denied, wasted;
};
bool edge_policy_parse(const struct asim_cfg *map, struct edge_policy *p, struct asim_diag *d);
/* false when out of memory. */
bool edge_init(struct edge_stats *e, const struct edge_policy *p, asim_time warmup);
void edge_finish(struct edge_stats *e);
/* May retry number n (1-based) go at now? Checks the count and withdraws
 * from the budget (counting a denial while measuring). */
bool edge_may_retry(struct edge_stats *e, const struct edge_policy *p, uint32_t n,
                    asim_time now, bool measuring);
/* Adds PREFIX.retries, .retry_denied, .amplification and the breaker's and
 * hedge's figures (only those of the policies configured). */
void edge_report(const struct edge_stats *e, const struct edge_policy *p, asim_time now,
                 struct asim_results *r, const char *prefix);

#endif
