/* Resilience policies (models/resilience.h): each policy alone with exact
 * expectations, then inside the models against a driver and scripted peers
 * (peer.h): retry budgets, circuit breakers, LIFO and CoDel queues,
 * deadline-aware skipping, hedging, health checks, outlier ejection and
 * zone-aware routing. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/results.h"
#include "common.h"
#include "load.h"
#include "models.h"
#include "network.h"
#include "peer.h"
#include "resilience.h"
#include "scenario.h"
#include "series.h"

#include "driver.h"


/* ---- the policies alone ---- */

START_TEST(budget_caps_retries_at_ratio)
{
	/* 1000 first attempts at 10% and no reserve: exactly 100 retries,
	 * however they interleave. */
	struct budget_cfg cfg = {.on = true, .ratio = 0.1, .min_per_s = 0, .max_tokens = 1000};
	struct budget b;
	budget_init(&b, &cfg);
	uint64_t granted = 0;
	for (int i = 0; i < 1000; i++) {
		budget_deposit(&b, &cfg);
		for (int r = 0; r < 3; r++)
			granted += budget_withdraw(&b, &cfg, i * ASIM_MS);
	}
	ck_assert_uint_eq(granted, 100);
	ck_assert_uint_eq(b.denied, 3000 - 100);
	/* The reserve lets min_per_s through with no deposits. */
	struct budget_cfg res = {.on = true, .ratio = 0.1, .min_per_s = 10, .max_tokens = 100};
	budget_init(&b, &res);
	granted = 0;
	for (int i = 0; i < 10000; i++)
		granted += budget_withdraw(&b, &res, i * ASIM_MS); /* 10 s */
	ck_assert_uint_ge(granted, 100);
	ck_assert_uint_le(granted, 110);
}
END_TEST

START_TEST(breaker_consecutive_opens_and_half_opens)
{
	struct breaker_cfg cfg = {
		.on = true, .consecutive = 5, .min_requests = 20, .probes = 3,
		.window = 10 * ASIM_S, .open_for = 5 * ASIM_S,
	};
	struct breaker b;
	breaker_init(&b, &cfg, 0);
	for (int i = 0; i < 4; i++) {
		ck_assert(breaker_allow(&b, &cfg, i));
		breaker_record(&b, &cfg, i, false);
	}
	ck_assert_int_eq(b.state, BREAKER_CLOSED);
	breaker_record(&b, &cfg, ASIM_S, false);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
	ck_assert(!breaker_allow(&b, &cfg, ASIM_S + 5 * ASIM_S - 1));
	ck_assert_uint_eq(b.short_circuited, 1);
	/* After open_for: three probes pass, the fourth call does not. */
	for (int i = 0; i < 3; i++)
		ck_assert(breaker_allow(&b, &cfg, 6 * ASIM_S));
	ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
	ck_assert(!breaker_allow(&b, &cfg, 6 * ASIM_S));
	for (int i = 0; i < 3; i++)
		breaker_record(&b, &cfg, 6 * ASIM_S + i, true);
	ck_assert_int_eq(b.state, BREAKER_CLOSED);
	ck_assert_int_eq(breaker_open_time(&b, &cfg, 7 * ASIM_S), 5 * ASIM_S);
	ck_assert_uint_eq(b.opened, 1);
	ck_assert_uint_eq(b.changes, 3);
	/* A failed probe reopens it. */
	for (int i = 0; i < 5; i++)
		breaker_record(&b, &cfg, 8 * ASIM_S, false);
	ck_assert(breaker_allow(&b, &cfg, 13 * ASIM_S));
	breaker_record(&b, &cfg, 13 * ASIM_S, false);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
}
END_TEST

/* An open breaker is half-open once open_for has passed, though it moves
 * there only at the next call: with calls far apart, its open time is
 * open_for per opening, not the time until that call (the old code counted
 * 19 s here), and the state it reports is half-open. */
START_TEST(breaker_open_time_ends_after_open_for)
{
	struct breaker_cfg cfg = {
		.on = true, .consecutive = 1, .min_requests = 20, .probes = 1,
		.window = 10 * ASIM_S, .open_for = 5 * ASIM_S,
	};
	struct breaker b;
	breaker_init(&b, &cfg, 0);
	ck_assert(breaker_allow(&b, &cfg, 0));
	breaker_record(&b, &cfg, ASIM_S, false);
	ck_assert_int_eq(breaker_state_at(&b, &cfg, 3 * ASIM_S), BREAKER_OPEN);
	ck_assert_int_eq(breaker_open_time(&b, &cfg, 3 * ASIM_S), 2 * ASIM_S);
	ck_assert_int_eq(breaker_state_at(&b, &cfg, 7 * ASIM_S), BREAKER_HALF_OPEN);
	ck_assert_int_eq(breaker_open_time(&b, &cfg, 7 * ASIM_S), 5 * ASIM_S);
	/* The next call, at 20 s, is the probe; it fails: open again. */
	ck_assert(breaker_allow(&b, &cfg, 20 * ASIM_S));
	ck_assert_int_eq(breaker_open_time(&b, &cfg, 20 * ASIM_S), 5 * ASIM_S);
	breaker_record(&b, &cfg, 20 * ASIM_S, false);
	ck_assert_int_eq(breaker_state_at(&b, &cfg, 21 * ASIM_S), BREAKER_OPEN);
	ck_assert_int_eq(breaker_open_time(&b, &cfg, 40 * ASIM_S), 10 * ASIM_S);
	ck_assert_uint_eq(b.opened, 2);
}
END_TEST

START_TEST(breaker_failure_rate_needs_min_requests)
{
	struct breaker_cfg cfg = {
		.on = true, .failure_rate = 0.5, .min_requests = 20, .probes = 1,
		.window = 10 * ASIM_S, .open_for = ASIM_S,
	};
	struct breaker b;
	breaker_init(&b, &cfg, 0);
	/* 19 answers, all failed: below min_requests, stays closed. */
	for (int i = 0; i < 19; i++)
		breaker_record(&b, &cfg, i * ASIM_MS, i % 2 == 0 && i > 100);
	ck_assert_int_eq(b.state, BREAKER_CLOSED);
	breaker_record(&b, &cfg, 20 * ASIM_MS, false);
	ck_assert_int_eq(b.state, BREAKER_OPEN);
	/* Failures older than the window age out. */
	breaker_init(&b, &cfg, 0);
	for (int i = 0; i < 15; i++)
		breaker_record(&b, &cfg, 0, false);
	for (int i = 0; i < 15; i++)
		breaker_record(&b, &cfg, 11 * ASIM_S, true);
	ck_assert_int_eq(b.state, BREAKER_CLOSED);
}
END_TEST

START_TEST(throttle_follows_the_sre_formula)
{
	struct throttle_cfg cfg = {.on = true, .k = 2, .window = 2 * ASIM_MIN};
	struct throttle t;
	throttle_init(&t, &cfg);
	for (int i = 0; i < 100; i++)
		win_add(&t.w, 0, 0, 1);
	for (int i = 0; i < 30; i++)
		throttle_accepted(&t, 0);
	/* (100 - 2 * 30) / 101 */
	ck_assert_double_eq_tol(throttle_probability(&t, ASIM_S, 2), 40.0 / 101.0, 1e-12);
	ck_assert_double_eq_tol(throttle_probability(&t, ASIM_S, 4), 0.0, 1e-12);
	/* Two minutes later the window has forgotten it all. */
	ck_assert_double_eq_tol(throttle_probability(&t, 3 * ASIM_MIN, 2), 0.0, 1e-12);
}
END_TEST

START_TEST(codel_drops_after_an_interval_above_target)
{
	struct shed_cfg cfg = {.target = 5 * ASIM_MS, .interval = 100 * ASIM_MS};
	struct codel q;
	codel_init(&q);
	ck_assert(!codel_drop(&q, &cfg, 0, 4 * ASIM_MS));
	ck_assert(!codel_drop(&q, &cfg, 10 * ASIM_MS, 6 * ASIM_MS));
	ck_assert(!codel_drop(&q, &cfg, 109 * ASIM_MS, 6 * ASIM_MS));
	ck_assert(codel_drop(&q, &cfg, 110 * ASIM_MS, 6 * ASIM_MS));
	/* One wait under target ends the episode. */
	ck_assert(!codel_drop(&q, &cfg, 111 * ASIM_MS, 1 * ASIM_MS));
	ck_assert(!codel_drop(&q, &cfg, 150 * ASIM_MS, 9 * ASIM_MS));
	codel_empty(&q);
	ck_assert(!codel_drop(&q, &cfg, 260 * ASIM_MS, 9 * ASIM_MS));
}
END_TEST

START_TEST(policies_errors_quote_the_line)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{"components:\n"
		 "  u: {kind: client, rate: 1/s, target: p, breaker: {window: 1s}}\n"
		 "  p: {kind: peer}\n",
		 "t.yaml:2:52: error: 'u.breaker' needs 'failure_rate' or 'consecutive_failures' to know when to open"},
		{"components:\n"
		 "  u: {kind: client, rate: 1/s, target: p, hedge: {after: p101}}\n"
		 "  p: {kind: peer}\n",
		 "t.yaml:2:58: error: expected a duration or a percentile such as p95 for 'after', got 'p101'"},
		{"components:\n"
		 "  u: {kind: client, rate: 1/s, target: p, retries: {max: 2, budget: {ratio: 2}}}\n"
		 "  p: {kind: peer}\n",
		 NULL},
		{"components:\n"
		 "  lb: {kind: load_balancer, targets: p, health_check: {interval: 1s, timeout: 2s}}\n"
		 "  p: {kind: peer}\n",
		 "t.yaml:2:79: error: 'timeout' must not exceed 'interval' in 'lb.health_check'"},
		{"components:\n"
		 "  s: {kind: service, service_time: 1ms, queue_policy: lilo}\n"
		 "  p: {kind: peer}\n",
		 NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct asim_kernel *k = build(cases[i].yaml);
		ck_assert_msg(k == NULL, "case %zu accepted", i);
		if (cases[i].msg)
			ck_assert_str_eq(diag_msg, cases[i].msg);
		else
			ck_assert_msg(diag_msg[0], "case %zu: no diagnostic", i);
	}
}
END_TEST

/* ---- in the models ---- */

START_TEST(client_budget_caps_retries)
{
	static const struct peer_row err[] = {{ASIM_MS, ASIM_ERROR, 0}};
	struct asim_kernel *k = build(
		"components:\n"
		"  u: {kind: client, rate: 100/s, arrivals: constant, requests: 1000, target: p,\n"
		"      retries: {max: 3, base: 1ms, jitter: none, budget: {ratio: 10%, min_per_s: 0}}}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p = state(k, "p");
	p->rows = err;
	p->nrows = 1;
	run(k, 20 * ASIM_S);
	/* Each request deposits 0.1 before its first try: one retry in ten. */
	ck_assert_uint_eq(p->answered, 1000 + 100);
	ck_assert_uint_eq((uint64_t)figure(k, "u", "retries"), 100);
	/* Each denied request asks once more after its granted retry fails. */
	ck_assert_uint_eq((uint64_t)figure(k, "u", "retry_denied"), 900 + 100);
	ck_assert_double_eq_tol(figure(k, "u", "amplification"), 1.1, 1e-9);
	teardown(k);
}
END_TEST

START_TEST(client_breaker_fails_fast)
{
	static const struct peer_row err[] = {{ASIM_MS, ASIM_ERROR, 0}};
	struct asim_kernel *k = build(
		"components:\n"
		"  u: {kind: client, rate: 100/s, arrivals: constant, requests: 100, target: p,\n"
		"      breaker: {consecutive_failures: 3, open_for: 10s}}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p = state(k, "p");
	p->rows = err;
	p->nrows = 1;
	run(k, 5 * ASIM_S);
	ck_assert_uint_eq(p->nseen, 3);
	const struct asim_outcome *o = asim_kernel_outcome(k);
	ck_assert_uint_eq(o->failed_error, 3);
	ck_assert_uint_eq(o->failed_unreachable, 97);
	ck_assert_uint_eq((uint64_t)figure(k, "u", "breaker.short_circuited"), 97);
	struct asim_results r;
	asim_results_init(&r);
	const struct asim_component *c = asim_kernel_find(k, "u");
	c->ops->sample(c, &r);
	ck_assert_double_eq(asim_results_num(&r, "u.breaker", -1), BREAKER_OPEN);
	asim_results_finish(&r);
	teardown(k);
}
END_TEST

START_TEST(gateway_breaker_fails_fast)
{
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: gw, count: 50, interval: 100ms}\n"
		"  gw: {kind: gateway, timeout: 50ms, target: p,\n"
		"       breaker: {consecutive_failures: 2, open_for: 1s, half_open_probes: 1}}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p = state(k, "p");
	p->silent = true;
	run(k, 10 * ASIM_S);
	/* Two timeouts open it (at 150ms); a probe each second then times
	 * out and reopens it. */
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->got[ASIM_TIMEOUT], p->nseen);
	ck_assert_uint_eq(d->got[ASIM_UNREACHABLE], 50 - p->nseen);
	ck_assert_uint_eq(p->nseen, 2 + 4);
	teardown(k);
}
END_TEST

START_TEST(service_call_retries_and_budget)
{
	static const struct peer_row err[] = {{ASIM_MS, ASIM_ERROR, 0}};
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: s, count: 1, interval: 1ms}\n"
		"  s: {kind: service, service_time: 1ms, calls: [{target: p,\n"
		"      retries: {max: 2, backoff: constant, base: 10ms, jitter: none}}]}\n"
		"  p: {kind: peer}\n"
		"  drv2: {kind: driver, target: s2, count: 100, interval: 1ms}\n"
		"  s2: {kind: service, service_time: 1ms, concurrency: 100, calls: [{target: p2,\n"
		"      retries: {max: 3, base: 1ms, budget: {ratio: 0.2, min_per_s: 0}}}]}\n"
		"  p2: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p = state(k, "p"), *p2 = state(k, "p2");
	p->rows = err;
	p->nrows = 1;
	p2->rows = err;
	p2->nrows = 1;
	run(k, 10 * ASIM_S);
	/* Three attempts, 1ms answer + 10ms backoff apart. */
	ck_assert_uint_eq(p->nseen, 3);
	ck_assert_int_eq(p->seen[0].at, ASIM_MS);
	ck_assert_int_eq(p->seen[1].at, 12 * ASIM_MS);
	ck_assert_int_eq(p->seen[2].at, 23 * ASIM_MS);
	struct drv *d = state(k, "drv");
	ck_assert_int_eq(d->status[0], ASIM_ERROR);
	ck_assert_uint_eq((uint64_t)figure(k, "s", "calls.p.retries"), 2);
	ck_assert_double_eq_tol(figure(k, "s", "calls.p.amplification"), 3.0, 1e-9);
	/* 100 calls at 20%: 20 retries. */
	ck_assert_uint_eq(p2->nseen, 120);
	ck_assert_uint_eq((uint64_t)figure(k, "s2", "calls.p2.retry_denied"), 80 + 20);
	teardown(k);
}
END_TEST

START_TEST(service_breaker_opens_and_half_opens)
{
	/* A dependency that always errs: 5 failures in a row open the breaker;
	 * calls then fail fast as unreachable for open_for; then one probe. */
	static const struct peer_row err[] = {{ASIM_MS, ASIM_ERROR, 0}};
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: s, count: 100, interval: 10ms}\n"
		"  s: {kind: service, service_time: 1ms, calls: [{target: p,\n"
		"      breaker: {consecutive_failures: 5, open_for: 500ms, half_open_probes: 1}}]}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p = state(k, "p");
	p->rows = err;
	p->nrows = 1;
	run(k, ASIM_S + 5 * ASIM_MS);
	/* Requests at 0,10,..,40ms reach p; opened at 42ms; the probe at
	 * 550ms (the first request after 542ms) fails and reopens it until
	 * 1052ms. */
	ck_assert_uint_eq(p->nseen, 6);
	ck_assert_int_eq(p->seen[5].at, 551 * ASIM_MS);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->got[ASIM_ERROR], 6);
	ck_assert_uint_eq(d->got[ASIM_UNREACHABLE], 100 - 6);
	ck_assert_uint_eq((uint64_t)figure(k, "s", "calls.p.breaker.short_circuited"), 94);
	ck_assert_uint_eq((uint64_t)figure(k, "s", "calls.p.breaker.opened"), 2);
	teardown(k);
}
END_TEST

START_TEST(service_lifo_serves_the_newest)
{
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: s, count: 4, interval: 0ms}\n"
		"  s: {kind: service, service_time: 10ms, queue_policy: lifo, calls: [{target: p}]}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, ASIM_S);
	struct peer_state *p = state(k, "p");
	ck_assert_uint_eq(p->nseen, 4);
	static const uint64_t order[] = {1, 4, 3, 2};
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(p->seen[i].request, order[i]);
	teardown(k);
}
END_TEST

START_TEST(service_codel_drops)
{
	/* Ten at once, 10ms each, target 5ms, interval 20ms: the second waits
	 * 10ms (episode starts), the third 20ms (10ms into it), the fourth
	 * 30ms (20ms in: dropped), and the rest with it. */
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: s, count: 10, interval: 0ms}\n"
		"  s: {kind: service, service_time: 10ms, queue_delay_target: 5ms,\n"
		"      queue_delay_interval: 20ms}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->got[ASIM_OK], 3);
	ck_assert_uint_eq(d->got[ASIM_REJECTED], 7);
	ck_assert_uint_eq((uint64_t)figure(k, "s", "shed"), 7);
	teardown(k);
}
END_TEST

START_TEST(service_skips_expired_requests)
{
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: s, count: 5, interval: 0ms, deadline: 15ms}\n"
		"  s: {kind: service, service_time: 10ms}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	/* The second starts at 10ms, before its deadline; the other three are
	 * past theirs at 20ms and are skipped without service. */
	ck_assert_uint_eq(d->got[ASIM_OK], 2);
	ck_assert_uint_eq(d->got[ASIM_TIMEOUT], 3);
	ck_assert_int_eq(d->latency[2], 20 * ASIM_MS);
	ck_assert_uint_eq((uint64_t)figure(k, "s", "expired"), 3);
	ck_assert_uint_eq((uint64_t)figure(k, "s", "served"), 2);
	teardown(k);
}
END_TEST

START_TEST(client_hedge_fires_and_the_loser_is_abandoned)
{
	static const struct peer_row rows[] = {{100 * ASIM_MS, ASIM_OK, 0}, {5 * ASIM_MS, ASIM_OK, 0}};
	struct asim_kernel *k = build(
		"components:\n"
		"  u: {kind: client, rate: 1/s, arrivals: constant, requests: 1, target: p,\n"
		"      hedge: {after: 20ms}}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p = state(k, "p");
	p->rows = rows;
	p->nrows = 2;
	run(k, ASIM_S);
	ck_assert_uint_eq(p->nseen, 2);
	ck_assert_int_eq(p->seen[1].at - p->seen[0].at, 20 * ASIM_MS);
	ck_assert_uint_eq(p->abandoned_before_answer, 1);
	ck_assert_uint_eq((uint64_t)figure(k, "u", "hedges"), 1);
	ck_assert_uint_eq((uint64_t)figure(k, "u", "hedge_wins"), 1);
	ck_assert_double_eq_tol(figure(k, "u", "latency_ms.p50"), 25.0, 0.25);
	ck_assert_uint_eq(asim_call_live(k), 0);
	teardown(k);
}
END_TEST

START_TEST(service_hedge_on_a_call_edge)
{
	static const struct peer_row rows[] = {{100 * ASIM_MS, ASIM_OK, 0}, {5 * ASIM_MS, ASIM_OK, 0}};
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: s, count: 1}\n"
		"  s: {kind: service, service_time: 1ms, calls: [{target: p, hedge: {after: 20ms}}]}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p = state(k, "p");
	p->rows = rows;
	p->nrows = 2;
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_int_eq(d->latency[0], 26 * ASIM_MS);
	ck_assert_uint_eq(p->abandoned_before_answer, 1);
	ck_assert_uint_eq((uint64_t)figure(k, "s", "calls.p.hedge_wins"), 1);
	teardown(k);
}
END_TEST

/* Requests the peer saw (health probes aside) in [from, to). */
static size_t seen_between(struct asim_kernel *k, const struct peer_state *p, asim_time from,
                           asim_time to)
{
	int health = asim_kernel_op(k, "health");
	size_t n = 0;
	for (size_t i = 0; i < p->nseen; i++)
		n += p->seen[i].op != health && p->seen[i].at >= from && p->seen[i].at < to;
	return n;
}

START_TEST(lb_health_check_ejects_and_restores)
{
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: lb, count: 200, interval: 100ms}\n"
		"  lb: {kind: load_balancer, targets: [p1, p2], timeout: 50ms,\n"
		"       health_check: {interval: 1s, timeout: 500ms, unhealthy_after: 3, healthy_after: 2}}\n"
		"  p1: {kind: peer}\n"
		"  p2: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p2 = state(k, "p2");
	p2->silent = true;
	ck_assert_int_eq(asim_kernel_run(k, 6 * ASIM_S), ASIM_RUN_DONE);
	/* Probes at 1, 2, 3 s time out at 3.5 s: out of rotation from then. */
	ck_assert_uint_gt(seen_between(k, p2, 0, 3500 * ASIM_MS), 0);
	ck_assert_uint_eq(seen_between(k, p2, 3500 * ASIM_MS + 1, 6 * ASIM_S), 0);
	p2->silent = false;
	run(k, 20 * ASIM_S);
	/* Probes at 7 and 8 s answer: back in rotation at 8 s. */
	ck_assert_uint_eq(seen_between(k, p2, 6 * ASIM_S, 8 * ASIM_S), 0);
	ck_assert_uint_gt(seen_between(k, p2, 8 * ASIM_S, 9 * ASIM_S), 3);
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "health_changes"), 2);
	/* Both changes were p2's. */
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "by_backend.p2.health_changes[0]"), 2);
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "by_backend.p1.health_changes[0]"), 0);
	teardown(k);
}
END_TEST

START_TEST(lb_no_backend_in_rotation_is_unreachable)
{
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: lb, count: 100, interval: 100ms}\n"
		"  lb: {kind: load_balancer, targets: [p1], timeout: 50ms,\n"
		"       health_check: {interval: 1s, timeout: 100ms, unhealthy_after: 2}}\n"
		"  p1: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p1 = state(k, "p1");
	p1->silent = true;
	run(k, 20 * ASIM_S);
	struct drv *d = state(k, "drv");
	/* Unhealthy at 2.1 s (the probe timeout runs before the request
	 * scheduled after it): requests from 2.1 s on are refused at once. */
	ck_assert_uint_eq(d->got[ASIM_TIMEOUT], 21);
	ck_assert_uint_eq(d->got[ASIM_UNREACHABLE], 79);
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "unreachable"), 79);
	/* Only the probe sent at the last instant is still out. */
	ck_assert_uint_eq(asim_call_live(k), 1);
	teardown(k);
}
END_TEST

START_TEST(lb_outlier_ejection)
{
	static const struct peer_row err[] = {{0, ASIM_ERROR, 0}};
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: lb, count: 100, interval: 10ms}\n"
		"  lb: {kind: load_balancer, targets: [p1, p2],\n"
		"       outlier: {consecutive_errors: 3, eject_for: 500ms, max_ejected: 50%}}\n"
		"  p1: {kind: peer}\n"
		"  p2: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p1 = state(k, "p1"), *p2 = state(k, "p2");
	p1->rows = err;
	p1->nrows = 1;
	run(k, 2 * ASIM_S);
	/* Round robin: p1 takes 0, 20, 40 ms, ejected at 40 ms until 540 ms,
	 * then three more errors (540, 560, 580 ms) and out past the end. */
	ck_assert_uint_eq(p1->nseen, 6);
	ck_assert_int_eq(p1->seen[3].at, 540 * ASIM_MS);
	ck_assert_uint_eq(p2->nseen, 94);
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "ejections"), 2);
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "by_backend.p1.ejections[0]"), 2);
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "by_backend.p2.ejections[0]"), 0);
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "by_backend.p1.sent[0]"), 6);
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "by_backend.p2.sent[0]"), 94);
	teardown(k);
}
END_TEST

START_TEST(lb_zone_aware_prefers_its_zone)
{
	struct asim_kernel *k = build(
		"zones: [a, b]\n"
		"components:\n"
		"  drv: {kind: driver, target: lb, count: 100, interval: 100ms, zone: a}\n"
		"  lb: {kind: load_balancer, zone: a, zone_aware: true, targets: [pb, pa], timeout: 50ms,\n"
		"       health_check: {interval: 1s, timeout: 100ms, unhealthy_after: 1, healthy_after: 1}}\n"
		"  pa: {kind: peer, zone: a}\n"
		"  pb: {kind: peer, zone: b}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *pa = state(k, "pa"), *pb = state(k, "pb");
	ck_assert_int_eq(asim_kernel_run(k, 5 * ASIM_S), ASIM_RUN_DONE);
	ck_assert_uint_eq(seen_between(k, pb, 0, 5 * ASIM_S), 0);
	ck_assert_uint_eq(seen_between(k, pa, 0, 5 * ASIM_S), 50);
	/* Zone a goes silent: out at 6.1 s, traffic crosses to b. */
	pa->silent = true;
	run(k, 10 * ASIM_S);
	ck_assert_uint_eq(seen_between(k, pb, 5 * ASIM_S, 6100 * ASIM_MS), 0);
	ck_assert_uint_eq(seen_between(k, pb, 6100 * ASIM_MS + 1, 10 * ASIM_S), 38);
	teardown(k);
}
END_TEST

/* The client's throttled count is measured after warm-up, like its other
 * counts: each throttled attempt is a request refused (rejected), so it
 * cannot exceed them. 1000 requests/s against a bucket of 100/s (burst 1:
 * half the Poisson arrivals it sees pass) settle at a throttling share of
 * (1000 - 2 x 50) / 1000 = 0.9; the old count ran from the start of the
 * run, 200 s against 180 s measured: 180750 throttled of 180714 requests. */
START_TEST(client_throttled_counts_after_warmup)
{
	static const char text[] =
		"duration: 200s\n"
		"warmup: 20s\n"
		"components:\n"
		"  users: {kind: client, rate: 1000/s, throttle: {k: 2, window: 10s}, target: gw}\n"
		"  gw: {kind: gateway, rate_limit: 100/s, target: api}\n"
		"  api: {kind: service, concurrency: 100, service_time: 1ms}\n";
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *sc = asim_scenario_load_buffer("t.yaml", text, strlen(text), NULL, &d);
	ck_assert_ptr_nonnull(sc);
	struct asim_results r;
	asim_results_init(&r);
	ck_assert_int_eq(asim_scenario_run(sc, 0, &r, &d), ASIM_RUN_DONE);
	double throttled = asim_results_num(&r, "components.users.throttled", -1);
	double limited = asim_results_num(&r, "components.gw.rate_limited", -1);
	double rejected = asim_results_num(&r, "failures.rejected", -1);
	double requests = asim_results_num(&r, "requests", -1);
	ck_assert_double_eq(throttled + limited, rejected);
	ck_assert_double_le(throttled, requests);
	ck_assert_msg(fabs(throttled / requests - 0.9) < 0.01, "throttled %g of %g", throttled,
	              requests);
	asim_results_finish(&r);
	asim_scenario_free(sc);
	asim_diag_finish(&d);
}
END_TEST

/* ---- the failure pairs of scenarios/failures ---- */

/* Runs scenarios/failures/NAME.yaml stepped by windows (as a faulted run
 * always is, for its recovery figures) and returns the figure at path (-1
 * when absent); *ok says whether every SLO held. */
static double run_pair_file(const char *name, const char *path_of, bool *ok)
{
	const char *root = getenv("ARCHSIM_SOURCE_ROOT");
	char path[512];
	snprintf(path, sizeof path, "%s/scenarios/failures/%s.yaml", root ? root : ".", name);
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *sc = asim_scenario_load(path, NULL, &d);
	if (!sc)
		asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(sc);
	struct asim_results r;
	struct asim_series ser;
	asim_results_init(&r);
	asim_series_init(&ser);
	ck_assert_int_eq(asim_series_run(sc, 0, &ser, &r, &d), ASIM_RUN_DONE);
	*ok = asim_scenario_judge(sc, &r);
	double v = asim_results_num(&r, path_of, -1);
	asim_series_finish(&ser);
	asim_results_finish(&r);
	asim_scenario_free(sc);
	asim_diag_finish(&d);
	return v;
}

/* Each pair: the broken design fails an SLO and the fixed one meets them,
 * and the figure at path moves the way the pair is about (broken above
 * fixed, or below when the fix adds something: shedding, hedging, an open
 * breaker). */
static const struct {
	const char *name, *path;
	bool broken_higher;
} pairs[] = {
	{"retry-storm", "recovery.load_spike_users_x3.metastable", true},
	{"retry-storm", "components.users.retry_amplification", true},
	{"queue-buildup", "latency_ms.p99", true},
	{"queue-buildup", "components.api.shed", false},
	{"tail-latency", "latency_ms.p99", true},
	{"tail-latency", "components.users.hedge_wins", false},
	{"stalled-progress", "components.api.calls.recs.breaker.short_circuited", false},
	{"stalled-progress", "failures.timeout", true},
};

START_TEST(failure_pairs)
{
	char fixed[64];
	snprintf(fixed, sizeof fixed, "%s-fixed", pairs[_i].name);
	bool ok_broken, ok_fixed;
	double broken = run_pair_file(pairs[_i].name, pairs[_i].path, &ok_broken);
	double good = run_pair_file(fixed, pairs[_i].path, &ok_fixed);
	ck_assert_msg(!ok_broken, "%s meets its SLOs", pairs[_i].name);
	ck_assert_msg(ok_fixed, "%s fails an SLO", fixed);
	ck_assert_msg(pairs[_i].broken_higher ? broken > good : broken < good, "%s: %s %g, fixed %g",
	              pairs[_i].name, pairs[_i].path, broken, good);
}
END_TEST

START_TEST(retry_storm_fixed_recovers_in_bound)
{
	bool ok;
	double rec = run_pair_file("retry-storm-fixed", "recovery.load_spike_users_x3.recovery_s", &ok);
	ck_assert(ok);
	ck_assert_msg(rec >= 0 && rec <= 10, "recovery_s %g", rec);
	double meta =
		run_pair_file("retry-storm", "recovery.load_spike_users_x3.recovered", &ok);
	ck_assert_double_eq(meta, 0);
}
END_TEST

static Suite *resilience_suite(void)
{
	Suite *s = suite_create("resilience");
	TCase *tc = tcase_create("policies");
	tcase_add_test(tc, budget_caps_retries_at_ratio);
	tcase_add_test(tc, breaker_consecutive_opens_and_half_opens);
	tcase_add_test(tc, breaker_open_time_ends_after_open_for);
	tcase_add_test(tc, client_throttled_counts_after_warmup);
	tcase_add_test(tc, breaker_failure_rate_needs_min_requests);
	tcase_add_test(tc, throttle_follows_the_sre_formula);
	tcase_add_test(tc, codel_drops_after_an_interval_above_target);
	tcase_add_test(tc, policies_errors_quote_the_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("models");
	tcase_add_test(tc, client_budget_caps_retries);
	tcase_add_test(tc, client_breaker_fails_fast);
	tcase_add_test(tc, gateway_breaker_fails_fast);
	tcase_add_test(tc, service_call_retries_and_budget);
	tcase_add_test(tc, service_breaker_opens_and_half_opens);
	tcase_add_test(tc, service_lifo_serves_the_newest);
	tcase_add_test(tc, service_codel_drops);
	tcase_add_test(tc, service_skips_expired_requests);
	tcase_add_test(tc, client_hedge_fires_and_the_loser_is_abandoned);
	tcase_add_test(tc, service_hedge_on_a_call_edge);
	tcase_add_test(tc, lb_health_check_ejects_and_restores);
	tcase_add_test(tc, lb_no_backend_in_rotation_is_unreachable);
	tcase_add_test(tc, lb_outlier_ejection);
	tcase_add_test(tc, lb_zone_aware_prefers_its_zone);
	suite_add_tcase(s, tc);
	tc = tcase_create("scenarios");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, failure_pairs, 0, (int)(sizeof pairs / sizeof pairs[0]));
	tcase_add_test(tc, retry_storm_fixed_recovers_in_bound);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resilience_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
