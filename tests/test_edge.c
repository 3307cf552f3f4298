/* The edge of the system and the call graph: the gateway (rate limit,
 * in-flight cap), service calls (sequential, parallel, probability,
 * on_error, deadline propagation), the zone network, and `archsim graph`.
 * Each model runs in a kernel built by hand from a YAML string, against a
 * driver that sends requests on a schedule and scripted peers (peer.h). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/results.h"
#include "common.h"
#include "graph.h"
#include "load.h"
#include "models.h"
#include "network.h"
#include "peer.h"

#include "driver.h"

/* ---- gateway ---- */

START_TEST(gateway_token_bucket_admits_rate_times_t_plus_burst)
{
	/* 100000 requests 10us apart (1 s) against 5000/s with burst 100: GCRA
	 * admits the burst, then one per 200us. */
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: gw, count: 100000, interval: 10us}\n"
		"  gw: {kind: gateway, rate_limit: {rate: 5000/s, burst: 100}, target: p}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, 2 * ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->answers, 100000);
	double t = 99999 * 10e-6; /* the span of the arrivals, s */
	ck_assert_uint_ge(d->got[ASIM_OK], (uint64_t)floor(5000 * t) + 100 - 1);
	ck_assert_uint_le(d->got[ASIM_OK], (uint64_t)floor(5000 * t) + 100 + 1);
	ck_assert_uint_eq(d->got[ASIM_OK] + d->got[ASIM_REJECTED], 100000);
	ck_assert_uint_eq((uint64_t)figure(k, "gw", "admitted"), d->got[ASIM_OK]);
	ck_assert_uint_eq((uint64_t)figure(k, "gw", "rate_limited"), d->got[ASIM_REJECTED]);
	ck_assert_uint_eq((uint64_t)figure(k, "gw", "rejected_concurrency"), 0);
	/* The first burst goes through back to back. */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(d->status[i], ASIM_OK);
	teardown(k);
}
END_TEST

START_TEST(gateway_rate_below_limit_admits_all)
{
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: gw, count: 1000, interval: 1ms}\n"
		"  gw: {kind: gateway, rate_limit: 1000/s, auth_time: 2ms, target: p}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, 2 * ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->got[ASIM_OK], 1000);
	/* auth_time is paid once on the way in. */
	ck_assert_int_eq(d->latency[0], 2 * ASIM_MS);
	teardown(k);
}
END_TEST

START_TEST(gateway_concurrency_cap_rejects)
{
	static const struct peer_row slow[] = {{10 * ASIM_MS, ASIM_OK, 0}};
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: gw, count: 10, interval: 0ms}\n"
		"  gw: {kind: gateway, concurrency: 3, target: p}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p = state(k, "p");
	p->rows = slow;
	p->nrows = 1;
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->got[ASIM_OK], 3);
	ck_assert_uint_eq(d->got[ASIM_REJECTED], 7);
	ck_assert_uint_eq((uint64_t)figure(k, "gw", "rejected_concurrency"), 7);
	ck_assert_uint_eq((uint64_t)figure(k, "gw", "admitted"), 3);
	ck_assert_uint_eq((uint64_t)figure(k, "gw", "in_flight_max"), 3);
	teardown(k);
}
END_TEST

START_TEST(gateway_timeout_frees_the_slot)
{
	/* A target that never answers: with a cap of 1, each request still gets
	 * its slot back when the gateway's 50ms timeout fires. */
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: gw, count: 3, interval: 100ms}\n"
		"  gw: {kind: gateway, concurrency: 1, timeout: 50ms, target: p}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p = state(k, "p");
	p->silent = true;
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->got[ASIM_TIMEOUT], 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(d->latency[i], 50 * ASIM_MS);
	ck_assert_uint_eq(p->nseen, 3);
	ck_assert_int_eq(p->seen[1].deadline, 150 * ASIM_MS);
	ck_assert_uint_eq((uint64_t)figure(k, "gw", "timed_out"), 3);
	teardown(k);
}
END_TEST

/* A caller with no deadline and a target that never answers: the gateway
 * still stops waiting at its default timeout (15s, Envoy's), answers
 * ASIM_TIMEOUT and frees the slot, and passes that deadline on. Before,
 * without a `timeout` it waited for ever: with a cap of 1, the first
 * request held the slot and the others were rejected. */
START_TEST(gateway_default_timeout_without_a_deadline)
{
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: gw, count: 3, interval: 20s}\n"
		"  gw: {kind: gateway, concurrency: 1, target: p}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p = state(k, "p");
	p->silent = true;
	run(k, 100 * ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->got[ASIM_TIMEOUT], 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(d->latency[i], 15 * ASIM_S);
	ck_assert_uint_eq(p->nseen, 3);
	ck_assert_int_eq(p->seen[1].deadline, 35 * ASIM_S);
	teardown(k);
}
END_TEST

START_TEST(gateway_deadline_propagates)
{
	/* The caller's 30ms deadline is tighter than the 50ms timeout; a
	 * request whose deadline passes during auth is not forwarded. */
	struct asim_kernel *k = build(
		"components:\n"
		"  drv: {kind: driver, target: gw, count: 1, deadline: 30ms}\n"
		"  gw: {kind: gateway, timeout: 50ms, auth_time: 1ms, target: p}\n"
		"  p: {kind: peer}\n"
		"  drv2: {kind: driver, target: gw2, count: 1, deadline: 1ms}\n"
		"  gw2: {kind: gateway, auth_time: 2ms, target: p2}\n"
		"  p2: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, ASIM_S);
	struct peer_state *p = state(k, "p"), *p2 = state(k, "p2");
	ck_assert_int_eq(p->seen[0].deadline, 30 * ASIM_MS);
	ck_assert_uint_eq(p2->nseen, 0);
	struct drv *d2 = state(k, "drv2");
	ck_assert_int_eq(d2->status[0], ASIM_TIMEOUT);
	ck_assert_int_eq(d2->latency[0], 2 * ASIM_MS);
	teardown(k);
}
END_TEST

/* A request that reaches the balancer after its deadline (1ms, across a
 * 2ms network hop) is answered ASIM_TIMEOUT there and not forwarded.
 * Before, the balancer forwarded it and set its timer at the deadline,
 * in the past: an assertion in a debug build, and in a release build an
 * event that would set the clock back. */
START_TEST(balancer_past_deadline_is_not_forwarded)
{
	struct asim_kernel *k = build(
		"network: {within_zone: 2ms}\n"
		"components:\n"
		"  drv: {kind: driver, target: lb, count: 3, interval: 100ms, deadline: 1ms}\n"
		"  lb: {kind: load_balancer, timeout: 50ms, targets: [p]}\n"
		"  p: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	struct peer_state *p = state(k, "p");
	ck_assert_uint_eq(d->got[ASIM_TIMEOUT], 3);
	ck_assert_uint_eq(p->nseen, 0);
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "timed_out"), 3);
	ck_assert_uint_eq((uint64_t)figure(k, "lb", "forwarded"), 0);
	teardown(k);
}
END_TEST

/* A balancer without a `timeout:` of its own still answers ASIM_TIMEOUT by
 * both paths, at the caller's deadline: lb1 forwards to a backend that
 * never answers and stops waiting at the 30ms deadline; lb2 gets requests
 * already past their 1ms deadline across a 2ms hop. Both count them in
 * `timed_out`, and lb3, whose caller sets no deadline, reports 0. Before,
 * the figure was reported only with a `timeout:`, so these had none. */
START_TEST(balancer_reports_timed_out_at_the_callers_deadline)
{
	struct asim_kernel *k = build(
		"network: {within_zone: 2ms}\n"
		"components:\n"
		"  drv1: {kind: driver, target: lb1, count: 3, interval: 100ms, deadline: 30ms}\n"
		"  lb1: {kind: load_balancer, targets: [p1]}\n"
		"  p1: {kind: peer}\n"
		"  drv2: {kind: driver, target: lb2, count: 4, interval: 100ms, deadline: 1ms}\n"
		"  lb2: {kind: load_balancer, targets: [p2]}\n"
		"  p2: {kind: peer}\n"
		"  drv3: {kind: driver, target: lb3, count: 5, interval: 100ms}\n"
		"  lb3: {kind: load_balancer, targets: [p3]}\n"
		"  p3: {kind: peer}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *p1 = state(k, "p1");
	p1->silent = true;
	run(k, ASIM_S);
	struct drv *d1 = state(k, "drv1"), *d2 = state(k, "drv2"), *d3 = state(k, "drv3");
	ck_assert_uint_eq(d1->got[ASIM_TIMEOUT], 3);
	/* Sent at 0, the deadline at 30ms; the answer takes the 2ms hop back. */
	ck_assert_int_eq(d1->latency[0], 32 * ASIM_MS);
	ck_assert_uint_eq((uint64_t)figure(k, "lb1", "forwarded"), 3);
	ck_assert_uint_eq((uint64_t)figure(k, "lb1", "timed_out"), 3);
	ck_assert_uint_eq(d2->got[ASIM_TIMEOUT], 4);
	ck_assert_uint_eq((uint64_t)figure(k, "lb2", "forwarded"), 0);
	ck_assert_uint_eq((uint64_t)figure(k, "lb2", "timed_out"), 4);
	ck_assert_uint_eq(d3->got[ASIM_OK], 5);
	ck_assert_uint_eq((uint64_t)figure(k, "lb3", "timed_out"), 0);
	teardown(k);
}
END_TEST

START_TEST(gateway_errors_quote_the_line)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{"components:\n  gw: {kind: gateway, target: gw}\n",
		 "t.yaml:2:31: error: 'target' of 'gw' cannot be the component itself"},
		{"components:\n  gw: {kind: gateway, rate_limit: {rate: 5/s, brust: 3}, target: p}\n"
		 "  p: {kind: peer}\n",
		 "t.yaml:2:47: error: unknown key 'brust' in 'gw.rate_limit' (did you mean 'burst'?)"},
		{"components:\n  gw: {kind: gateway, rate_limit: 5000, target: p}\n  p: {kind: peer}\n",
		 NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct asim_kernel *k = build(cases[i].yaml);
		ck_assert_ptr_null(k);
		if (cases[i].msg)
			ck_assert_str_eq(diag_msg, cases[i].msg);
		else
			ck_assert_msg(strstr(diag_msg, "t.yaml:2:35: error:") == diag_msg, "%s", diag_msg);
	}
}
END_TEST

/* ---- call graphs ---- */

static const struct peer_row row3[] = {{3 * ASIM_MS, ASIM_OK, 0}};
static const struct peer_row row5[] = {{5 * ASIM_MS, ASIM_OK, 0}};

static struct asim_kernel *graph_kernel(const char *calls, const char *extra)
{
	static char yaml[2048];
	snprintf(yaml, sizeof yaml,
	         "components:\n"
	         "  drv: {kind: driver, target: svc%s}\n"
	         "  svc: {kind: service, concurrency: 100, service_time: 1ms, calls: %s}\n"
	         "  a: {kind: peer}\n"
	         "  b: {kind: peer}\n",
	         extra, calls);
	struct asim_kernel *k = build(yaml);
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *a = state(k, "a"), *b = state(k, "b");
	a->rows = row3;
	a->nrows = 1;
	b->rows = row5;
	b->nrows = 1;
	return k;
}

static const struct {
	const char *calls;
	asim_time latency; /* of the one request */
	size_t a_calls, b_calls;
} timing_cases[] = {
	/* Sequential calls add up: 1 + 3 + 5. */
	{"[{target: a}, {target: b}]", 9 * ASIM_MS, 1, 1},
	/* wait: all takes the slower: 1 + max(3, 5). */
	{"[{parallel: [{target: a}, {target: b}], wait: all}]", 6 * ASIM_MS, 1, 1},
	/* wait: first takes the faster: 1 + min(3, 5). */
	{"[{parallel: [{target: a}, {target: b}], wait: first}]", 4 * ASIM_MS, 1, 1},
	/* Short forms select by operation: the driver reads. */
	{"[{read: a}, {write: b}]", 4 * ASIM_MS, 1, 0},
	/* A mapping gives each operation its own list. */
	{"{read: [{target: b}], write: [{target: a}]}", 6 * ASIM_MS, 0, 1},
	/* emit does not wait: 1 ms, yet b still gets the message. */
	{"[{emit: b}]", 1 * ASIM_MS, 0, 1},
	/* Probability 0 never calls. */
	{"[{target: a, probability: 0}, {target: b}]", 6 * ASIM_MS, 0, 1},
	/* A parallel group and then a call. */
	{"[{parallel: [{target: a}, {emit: b}]}, {target: a}]", 7 * ASIM_MS, 2, 1},
};

START_TEST(calls_timing)
{
	struct asim_kernel *k = graph_kernel(timing_cases[_i].calls, "");
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->answers, 1);
	ck_assert_int_eq(d->status[0], ASIM_OK);
	ck_assert_int_eq(d->latency[0], timing_cases[_i].latency);
	struct peer_state *a = state(k, "a"), *b = state(k, "b");
	ck_assert_uint_eq(a->nseen, timing_cases[_i].a_calls);
	ck_assert_uint_eq(b->nseen, timing_cases[_i].b_calls);
	teardown(k);
}
END_TEST

START_TEST(calls_sequential_order_and_post_time)
{
	static char yaml[] =
		"components:\n"
		"  drv: {kind: driver, target: svc, op: write}\n"
		"  svc: {kind: service, service_time: 1ms, post_time: 2ms,\n"
		"        calls: [{target: a}, {target: b}]}\n"
		"  a: {kind: peer}\n"
		"  b: {kind: peer}\n";
	struct asim_kernel *k = build(yaml);
	ck_assert_msg(k != NULL, "%s", diag_msg);
	struct peer_state *a = state(k, "a"), *b = state(k, "b");
	a->rows = row3;
	a->nrows = 1;
	b->rows = row5;
	b->nrows = 1;
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_int_eq(d->latency[0], 11 * ASIM_MS);
	ck_assert_int_eq(a->seen[0].at, 1 * ASIM_MS);
	ck_assert_int_eq(b->seen[0].at, 4 * ASIM_MS);
	/* The incoming op, key and request id go downstream. */
	ck_assert_uint_eq(a->seen[0].op, ASIM_OP_WRITE);
	ck_assert_uint_eq(b->seen[0].request, 1);
	ck_assert_uint_eq((uint64_t)figure(k, "svc", "calls.a.sent"), 1);
	ck_assert_uint_eq((uint64_t)figure(k, "svc", "calls.b.ok"), 1);
	/* The server is held while it waits: utilization is 11 ms of 1 s. */
	ck_assert_double_eq_tol(figure(k, "svc", "utilization"), 0.011, 1e-9);
	teardown(k);
}
END_TEST

START_TEST(calls_wait_first_abandons_the_rest)
{
	struct asim_kernel *k =
		graph_kernel("[{parallel: [{target: a}, {target: b}], wait: first}]", "");
	run(k, ASIM_S);
	struct peer_state *b = state(k, "b");
	ck_assert_uint_eq(b->answered, 1);
	ck_assert_uint_eq(b->abandoned_before_answer, 1);
	teardown(k);
}
END_TEST

START_TEST(calls_probability_within_five_standard_errors)
{
	const double n = 20000, p = 0.3;
	struct asim_kernel *k =
		graph_kernel("[{target: a, probability: 0.3}]", ", count: 20000, interval: 1ms");
	run(k, 30 * ASIM_S);
	struct drv *d = state(k, "drv");
	struct peer_state *a = state(k, "a");
	ck_assert_uint_eq(d->got[ASIM_OK], 20000);
	double se = sqrt(n * p * (1 - p));
	ck_assert_msg(fabs((double)a->answered - n * p) < 5 * se, "%zu calls of %g", a->answered,
	              n);
	ck_assert_uint_eq((uint64_t)figure(k, "svc", "calls.a.sent"), a->answered);
	teardown(k);
}
END_TEST

static const struct {
	const char *calls;
	enum asim_status a_says, expect;
	size_t b_calls;
} error_cases[] = {
	{"[{target: a}, {target: b}]", ASIM_ERROR, ASIM_ERROR, 0},
	{"[{target: a, on_error: fail}, {target: b}]", ASIM_REJECTED, ASIM_REJECTED, 0},
	{"[{target: a}, {target: b}]", ASIM_UNREACHABLE, ASIM_UNREACHABLE, 0},
	{"[{target: a, on_error: ignore}, {target: b}]", ASIM_ERROR, ASIM_OK, 1},
	/* A failing child fails wait: all at once, unless ignored. */
	{"[{parallel: [{target: a}, {target: b}]}]", ASIM_ERROR, ASIM_ERROR, 1},
	{"[{parallel: [{target: a, on_error: ignore}, {target: b}]}]", ASIM_ERROR, ASIM_OK, 1},
	{"[{parallel: [{target: a}, {target: b}], on_error: ignore}]", ASIM_ERROR, ASIM_OK, 1},
	/* wait: first needs one success. */
	{"[{parallel: [{target: a}, {target: b}], wait: first}]", ASIM_ERROR, ASIM_OK, 1},
	/* An emit failing never fails the request. */
	{"[{emit: a}, {target: b}]", ASIM_ERROR, ASIM_OK, 1},
};

START_TEST(calls_on_error)
{
	struct peer_row rowa[] = {{3 * ASIM_MS, error_cases[_i].a_says, 0}};
	struct asim_kernel *k = graph_kernel(error_cases[_i].calls, "");
	struct peer_state *a = state(k, "a");
	a->rows = rowa;
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->answers, 1);
	ck_assert_int_eq(d->status[0], error_cases[_i].expect);
	ck_assert_uint_eq(((struct peer_state *)state(k, "b"))->nseen, error_cases[_i].b_calls);
	ck_assert_uint_eq((uint64_t)figure(k, "svc", "calls.a.failed"), 1);
	teardown(k);
}
END_TEST

START_TEST(calls_wait_first_all_failing_fails)
{
	struct peer_row rowa[] = {{3 * ASIM_MS, ASIM_ERROR, 0}};
	struct peer_row rowb[] = {{5 * ASIM_MS, ASIM_REJECTED, 0}};
	struct asim_kernel *k =
		graph_kernel("[{parallel: [{target: a}, {target: b}], wait: first}]", "");
	((struct peer_state *)state(k, "a"))->rows = rowa;
	((struct peer_state *)state(k, "b"))->rows = rowb;
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_int_eq(d->status[0], ASIM_REJECTED); /* the last failure */
	ck_assert_int_eq(d->latency[0], 6 * ASIM_MS);
	ck_assert_uint_eq((uint64_t)figure(k, "svc", "failed"), 1);
	teardown(k);
}
END_TEST

START_TEST(calls_deadline_propagation)
{
	/* The driver's deadline is 100ms after sending; the service sends at
	 * 1ms. A 20ms timeout tightens it; a 500ms timeout does not. */
	struct asim_kernel *k = graph_kernel("[{target: a, timeout: 20ms}, {target: b, timeout: 500ms}]",
	                                     ", deadline: 100ms");
	run(k, ASIM_S);
	struct peer_state *a = state(k, "a"), *b = state(k, "b");
	ck_assert_int_eq(a->seen[0].deadline, 21 * ASIM_MS);
	ck_assert_int_eq(b->seen[0].deadline, 100 * ASIM_MS);
	ck_assert_uint_eq(a->seen[0].key, 0);
	teardown(k);
}
END_TEST

START_TEST(calls_timeout_fails_the_request)
{
	struct asim_kernel *k = graph_kernel("[{target: a, timeout: 20ms}, {target: b}]", "");
	((struct peer_state *)state(k, "a"))->silent = true;
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_int_eq(d->status[0], ASIM_TIMEOUT);
	ck_assert_int_eq(d->latency[0], 21 * ASIM_MS);
	ck_assert_uint_eq(((struct peer_state *)state(k, "b"))->nseen, 0);
	ck_assert_uint_eq((uint64_t)figure(k, "svc", "calls.a.timeout"), 1);
	teardown(k);
}
END_TEST

START_TEST(calls_past_deadline_is_not_sent)
{
	/* The driver allows 1ms, all of it spent in service_time: the call
	 * fails as a timeout without leaving, as gRPC does. */
	struct asim_kernel *k = graph_kernel("[{target: a}]", ", deadline: 1ms");
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_int_eq(d->status[0], ASIM_TIMEOUT);
	ck_assert_uint_eq(((struct peer_state *)state(k, "a"))->nseen, 0);
	teardown(k);
}
END_TEST

START_TEST(calls_errors_quote_the_line)
{
	static const struct {
		const char *calls, *msg;
	} cases[] = {
		{"[{target: c}]", "t.yaml:3:60: error: 'target' of 'svc' names unknown component 'c'"},
		{"[{taget: a}]",
		 "t.yaml:3:52: error: unknown key 'taget' in 'svc.calls' (did you mean 'target'?)"},
		{"[{target: a, read: b}]",
		 "t.yaml:3:69: error: a call in 'svc' has both 'target' and 'read': give one"},
		{"[{probability: 0.5}]",
		 "t.yaml:3:51: error: a call in 'svc' needs one of 'target', 'read', 'write', 'emit' or 'parallel'"},
		{"[{target: a, wait: first}]",
		 "t.yaml:3:69: error: 'wait' applies only to a 'parallel' group in 'svc'"},
		{"[{emit: a, timeout: 1s}]",
		 "t.yaml:3:70: error: 'timeout' does not apply to 'emit' in 'svc' (nobody waits for its answer)"},
		{"[{parallel: [{parallel: [{target: a}]}]}]",
		 "t.yaml:3:74: error: a 'parallel' group in 'svc' cannot hold another group"},
		{"a", "t.yaml:3:50: error: expected a list of calls, or a mapping of operations to lists, for 'calls' in 'svc', got 'a'"},
		{"[{parallel: [{target: a}], op: read}]",
		 "t.yaml:3:81: error: 'op' applies to the calls of a 'parallel' group in 'svc', not to the group"},
		{"[{target: a, op: [read]}]",
		 "t.yaml:3:67: error: expected a string for 'op', got a list"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char yaml[1024];
		snprintf(yaml, sizeof yaml,
		         "components:\n"
		         "  a: {kind: peer}\n"
		         "  svc: {kind: service, service_time: 1ms, calls: %s}\n",
		         cases[i].calls);
		ck_assert_ptr_null(build(yaml));
		ck_assert_str_eq(diag_msg, cases[i].msg);
	}
}
END_TEST

/* A call's `op:` replaces the request's operation on that call only, in
 * every form that sends: a plain call, a short form, a call in a mapping by
 * operation, a group's child, an emit, and each retry. The driver writes;
 * peer a answers an error then ok, so a call with one retry is sent twice. */
static const struct {
	const char *calls;
	uint16_t a_op, b_op;
	size_t a_calls, b_calls;
} op_cases[] = {
	{"[{target: a, on_error: ignore}, {target: b}]", ASIM_OP_WRITE, ASIM_OP_WRITE, 1, 1},
	{"[{target: a, op: read, on_error: ignore}, {target: b}]", ASIM_OP_READ, ASIM_OP_WRITE, 1, 1},
	{"[{write: a, op: read, on_error: ignore}, {read: b}]", ASIM_OP_READ, 0, 1, 0},
	{"{write: [{target: a, op: read, on_error: ignore}, {target: b}]}", ASIM_OP_READ,
	 ASIM_OP_WRITE, 1, 1},
	{"[{parallel: [{target: a, op: read}, {target: b}], wait: first}]", ASIM_OP_READ,
	 ASIM_OP_WRITE, 1, 1},
	{"[{emit: a, op: read}, {target: b, op: write}]", ASIM_OP_READ, ASIM_OP_WRITE, 1, 1},
	{"[{target: a, op: read, retries: {max: 1, base: 1ms}}, {target: b}]", ASIM_OP_READ,
	 ASIM_OP_WRITE, 2, 1},
};

START_TEST(calls_op_overrides_the_request_op)
{
	static const struct peer_row err_then_ok[] = {{1 * ASIM_MS, ASIM_ERROR, 0},
	                                              {1 * ASIM_MS, ASIM_OK, 0}};
	struct asim_kernel *k = graph_kernel(op_cases[_i].calls, ", op: write");
	struct peer_state *a = state(k, "a"), *b = state(k, "b");
	a->rows = err_then_ok;
	a->nrows = 2;
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->answers, 1);
	ck_assert_int_eq(d->status[0], ASIM_OK);
	ck_assert_uint_eq(a->nseen, op_cases[_i].a_calls);
	ck_assert_uint_eq(b->nseen, op_cases[_i].b_calls);
	for (size_t i = 0; i < a->nseen; i++)
		ck_assert_uint_eq(a->seen[i].op, op_cases[_i].a_op);
	for (size_t i = 0; i < b->nseen; i++)
		ck_assert_uint_eq(b->seen[i].op, op_cases[_i].b_op);
	teardown(k);
}
END_TEST

/* The database counts what it is asked: a checkout that checks the items
 * with a read and writes the order makes one read and one write (the audit
 * of the microservices trade-off found the check counted as a second write),
 * and a worker with `op: write` writes whatever operation the task carried. */
static const struct {
	const char *caller;
	const char *drv_op;
	double reads, writes;
} db_op_cases[] = {
	{"{kind: service, service_time: 1ms, calls: [{target: db}, {target: db}]}", "write", 0, 20},
	{"{kind: service, service_time: 1ms, calls: [{target: db, op: read}, {target: db}]}",
	 "write", 10, 10},
	{"{kind: worker, service_time: 1ms, target: db}", "read", 10, 0},
	{"{kind: worker, service_time: 1ms, target: db, op: write}", "read", 0, 10},
};

START_TEST(calls_op_is_what_the_database_serves)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "components:\n"
	         "  drv: {kind: driver, target: svc, count: 10, interval: 10ms, op: %s}\n"
	         "  svc: %s\n"
	         "  db: {kind: database, read_time: 1ms, write_time: 3ms}\n",
	         db_op_cases[_i].drv_op, db_op_cases[_i].caller);
	struct asim_kernel *k = build(yaml);
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->got[ASIM_OK], 10);
	ck_assert_double_eq(figure(k, "db", "reads"), db_op_cases[_i].reads);
	ck_assert_double_eq(figure(k, "db", "writes"), db_op_cases[_i].writes);
	teardown(k);
}
END_TEST

START_TEST(worker_op_needs_a_target)
{
	struct asim_kernel *k = build("components:\n"
	                              "  drv: {kind: driver, target: w}\n"
	                              "  w: {kind: worker, service_time: 1ms, op: write}\n");
	ck_assert_ptr_null(k);
	ck_assert_str_eq(diag_msg, "t.yaml:3:44: error: 'op' of 'w' applies only with a 'target'");
}
END_TEST

/* ---- network ---- */

static const struct {
	const char *net;
	const char *drv_zone, *svc_zone;
	asim_time latency;
	uint64_t cross;
} net_cases[] = {
	/* 10ms each way across zones, 1ms service time. */
	{"{within_zone: 1ms, across_zones: 10ms}", "a", "b", 21 * ASIM_MS, 2},
	{"{within_zone: 1ms, across_zones: 10ms}", "b", "b", 3 * ASIM_MS, 0},
	/* A link applies both ways... */
	{"{within_zone: 1ms, across_zones: 10ms, links: [{from: a, to: b, latency: 5ms}]}", "b", "a",
	 11 * ASIM_MS, 2},
	/* ...unless the reverse is given too. */
	{"{across_zones: 10ms, links: [{from: a, to: b, latency: 5ms}, {from: b, to: a, latency: 7ms}]}",
	 "a", "b", 13 * ASIM_MS, 2},
	{"{across_zones: 10ms, links: [{from: a, to: b, latency: 5ms}]}", "a", "c", 21 * ASIM_MS, 2},
	/* Absent within_zone is 0. */
	{"{across_zones: 10ms}", "c", "c", 1 * ASIM_MS, 0},
};

START_TEST(network_delay_by_zone)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "zones: [a, b, c]\n"
	         "network: %s\n"
	         "components:\n"
	         "  drv: {kind: driver, target: svc, count: 5, zone: %s}\n"
	         "  svc: {kind: service, service_time: 1ms, zone: %s}\n",
	         net_cases[_i].net, net_cases[_i].drv_zone, net_cases[_i].svc_zone);
	struct asim_kernel *k = build(yaml);
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->answers, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(d->latency[i], net_cases[_i].latency);
	ck_assert_uint_eq((uint64_t)figure(k, NULL, "network.messages"), 10);
	ck_assert_uint_eq((uint64_t)figure(k, NULL, "network.cross_zone_messages"),
	                  5 * net_cases[_i].cross);
	teardown(k);
}
END_TEST

START_TEST(network_calls_pay_the_delay)
{
	/* Downstream calls pay it too: svc in a calls p in b. */
	struct asim_kernel *k = build(
		"zones: [a, b]\n"
		"network: {within_zone: 100us, across_zones: 2ms}\n"
		"components:\n"
		"  drv: {kind: driver, target: svc, zone: a}\n"
		"  svc: {kind: service, service_time: 1ms, zone: a, calls: [{target: p}]}\n"
		"  p: {kind: peer, zone: b}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_int_eq(d->latency[0], 100 * ASIM_US + ASIM_MS + 4 * ASIM_MS + 100 * ASIM_US);
	ck_assert_uint_eq((uint64_t)figure(k, NULL, "network.messages"), 4);
	ck_assert_uint_eq((uint64_t)figure(k, NULL, "network.cross_zone_messages"), 2);
	teardown(k);
}
END_TEST

/* A database is reached the way a replica-aware driver reaches it: the
 * request and the answer pay the network to and from the instance that
 * serves (primary a, replicas b and c; the caller in b). */
static const struct {
	const char *op, *read_from;
	asim_time latency;
} db_route_cases[] = {
	{"read", "nearest", 100 * ASIM_US + ASIM_MS + 100 * ASIM_US},
	{"read", "primary", 5 * ASIM_MS + ASIM_MS + 5 * ASIM_MS},
	{"write", "nearest", 5 * ASIM_MS + 2 * ASIM_MS + 5 * ASIM_MS},
};

START_TEST(network_database_route_pays_the_serving_instance)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "zones: [a, b, c]\n"
	         "network: {within_zone: 100us, across_zones: 5ms}\n"
	         "components:\n"
	         "  drv: {kind: driver, target: db, count: 6, op: %s, zone: b}\n"
	         "  db: {kind: database, zones: [a, b, c], replicas: 2, read_from: %s,\n"
	         "       read_time: 1ms, write_time: 2ms}\n",
	         db_route_cases[_i].op, db_route_cases[_i].read_from);
	struct asim_kernel *k = build(yaml);
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run(k, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->answers, 6);
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(d->latency[i], db_route_cases[_i].latency);
	teardown(k);
}
END_TEST

/* Runs a kernel of zones a and b to `until` with a partition between the
 * two from `from` to `to`, applied as the fault engine does. */
static void run_partitioned(struct asim_kernel *k, asim_time from, asim_time to, asim_time until)
{
	int8_t group[2 + 3] = {0, 1, -1, -1, -1}; /* zone a, zone b; no component alone */
	struct asim_net_scope scope = {.group = group};
	struct asim_fault f = {.kind = ASIM_FAULT_PARTITION, .start = from, .end = to};
	ck_assert_int_eq(asim_kernel_run(k, from), ASIM_RUN_DONE);
	ck_assert(asim_network_fault(k, &f, &scope, true));
	ck_assert_int_eq(asim_kernel_run(k, to), ASIM_RUN_DONE);
	ck_assert(asim_network_fault(k, &f, &scope, false));
	run(k, until);
}

/* The replication stream honours partitions. A writer in zone a sends a
 * write every 10ms to a database with its primary in a and one replica in
 * b (network 100us, write_time 1ms, lag 1ms, replication_retry 100ms); a
 * partition cuts a from b from 195ms to 495ms. A write committed in it
 * (sent at 200ms, committed at 201.1ms) waits for the link, which the
 * primary tries at 301.1, 401.1 and 501.1ms: the replica applies it at
 * 502.1ms. Sync acknowledges the 30 writes sent from 200 to 490ms only
 * then (the first 302.2ms after it was sent, the last 12.2ms); async at
 * once, and its replica falls 301ms behind. */
static const struct {
	const char *replication;
	asim_time in_partition, last_in_partition, outside;
} partition_cases[] = {
	{"sync", 302200 * ASIM_US, 12200 * ASIM_US, 2200 * ASIM_US},
	{"async", 1200 * ASIM_US, 1200 * ASIM_US, 1200 * ASIM_US},
};

START_TEST(network_partition_holds_the_replication_stream)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "zones: [a, b]\n"
	         "network: {within_zone: 100us, across_zones: 100us}\n"
	         "components:\n"
	         "  drv: {kind: driver, target: db, count: 60, interval: 10ms, op: write, zone: a}\n"
	         "  db: {kind: database, zones: [a, b], replicas: 1, replication: %s,\n"
	         "       replication_lag: 1ms, replication_retry: 100ms, read_time: 1ms,\n"
	         "       write_time: 1ms}\n",
	         partition_cases[_i].replication);
	struct asim_kernel *k = build(yaml);
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run_partitioned(k, 195 * ASIM_MS, 495 * ASIM_MS, ASIM_S);
	struct drv *d = state(k, "drv");
	ck_assert_uint_eq(d->answers, 60);
	ck_assert_uint_eq(d->got[ASIM_OK], 60);
	/* Answers come in order of sending here: sync's held writes are all
	 * acknowledged at 502.2ms, in the order they were committed. */
	ck_assert_int_eq(d->latency[19], partition_cases[_i].outside);
	ck_assert_int_eq(d->latency[20], partition_cases[_i].in_partition);
	ck_assert_int_eq(d->latency[49], partition_cases[_i].last_in_partition);
	ck_assert_int_eq(d->latency[50], partition_cases[_i].outside);
	ck_assert_uint_eq((uint64_t)figure(k, "db", "replication_held"), 30);
	ck_assert_double_eq_tol(figure(k, "db", "replication_lag_ms.max"), 301.0, 1e-9);
	teardown(k);
}
END_TEST

/* Failover across a partition: split brain. A writer in zone a sends a
 * write every 10ms to a database with its primary in a and a replica in b
 * (async, failover detection 500ms, so the cluster manager checks every
 * 250ms). A partition cuts a from b from 195ms to 1495ms. The check at
 * 250ms finds the primary cut off; at 750ms it still is, and the replica is
 * promoted: the writes the old primary acknowledged since the cut never
 * reached it and are lost. The old primary lives on and believes it leads,
 * and the writer beside it keeps writing to it: conflicting writes, until
 * the check at 1500ms sees the partition healed and the old primary learns
 * of the new one 500ms later, and is resynced from it: the writes it
 * acknowledged alone are lost too. Two leaders from 750ms to 2s. With
 * fencing, the old primary's storage refuses those writes instead. */
START_TEST(network_partition_fails_over_into_split_brain)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
	         "zones: [a, b]\n"
	         "network: {within_zone: 100us, across_zones: 100us}\n"
	         "components:\n"
	         "  drv: {kind: driver, target: db, count: 300, interval: 10ms, op: write, zone: a}\n"
	         "  db: {kind: database, zones: [a, b], replicas: 1, replication: async,\n"
	         "       replication_lag: 1ms, read_time: 1ms, write_time: 1ms,\n"
	         "       failover: {detection: 500ms, fencing: %s}}\n",
	         _i ? "true" : "false");
	struct asim_kernel *k = build(yaml);
	ck_assert_msg(k != NULL, "%s", diag_msg);
	run_partitioned(k, 195 * ASIM_MS, 1495 * ASIM_MS, 4 * ASIM_S);
	ck_assert_uint_eq((uint64_t)figure(k, "db", "leader_changes"), 1);
	ck_assert_uint_eq((uint64_t)figure(k, "db", "primary"), 1);
	ck_assert_double_eq_tol(figure(k, "db", "two_leader_s"), 1.25, 1e-9);
	/* Writes sent from 200 to 740ms were acknowledged by the old primary
	 * and are lost; those from 750ms to 1990ms went to it as well, and
	 * without fencing it acknowledged them alone: its resync at 2s drops
	 * them, 125 more lost (before, they were not counted). */
	ck_assert_uint_eq((uint64_t)figure(k, "db", "lost_writes"), (_i ? 55 : 55 + 125));
	/* The lost writes' applies, held at the cut and voided when they
	 * landed after the heal, never took effect: no replication lag of
	 * theirs is reported (they made its max 1001ms). */
	ck_assert_double_le(figure(k, "db", "replication_lag_ms.max"), 10.0);
	if (_i) {
		ck_assert_uint_eq((uint64_t)figure(k, "db", "conflicting_writes"), 0);
		ck_assert_uint_eq((uint64_t)figure(k, "db", "fenced_writes"), 125);
	} else {
		ck_assert_uint_eq((uint64_t)figure(k, "db", "conflicting_writes"), 125);
	}
	teardown(k);
}
END_TEST

START_TEST(network_errors_quote_the_line)
{
	static const struct {
		const char *net, *msg;
	} cases[] = {
		{"{within: 1ms}",
		 "t.yaml:2:11: error: unknown key 'within' in 'network' (did you mean 'within_zone'?)"},
		{"{links: [{from: a, to: x, latency: 1ms}]}",
		 "t.yaml:2:33: error: unknown zone 'x' in 'network.links' (zones are listed in 'zones' at the top)"},
		{"{links: [{from: a, to: b, latency: 1ms}, {from: a, to: b, latency: 2ms}]}",
		 "t.yaml:2:51: error: duplicate link from 'a' to 'b' in 'network.links'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char yaml[1024];
		snprintf(yaml, sizeof yaml,
		         "zones: [a, b]\n"
		         "network: %s\n"
		         "components:\n"
		         "  p: {kind: peer}\n",
		         cases[i].net);
		ck_assert_ptr_null(build(yaml));
		ck_assert_str_eq(diag_msg, cases[i].msg);
	}
}
END_TEST

/* ---- graph ---- */

START_TEST(graph_mermaid_exact)
{
	struct asim_kernel *k = build(
		"components:\n"
		"  users: {kind: client, rate: 10/s, target: edge}\n"
		"  edge: {kind: gateway, rate_limit: 100/s, target: lb}\n"
		"  lb: {kind: load_balancer, targets: [api, api-v2]}\n"
		"  api: {kind: service, service_time: 1ms,\n"
		"        calls: [{read: auth}, {write: auth}, {emit: api-v2}]}\n"
		"  api-v2: {kind: service, service_time: 1ms,\n"
		"           calls: {read: [{parallel: [{target: auth}, {target: end}]}]}}\n"
		"  auth: {kind: service, service_time: 1ms}\n"
		"  end: {kind: service, service_time: 1ms}\n");
	ck_assert_msg(k != NULL, "%s", diag_msg);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert(asim_graph_write(k, f));
	fclose(f);
	ck_assert_str_eq(buf,
	                 "flowchart LR\n"
	                 "  users[\"users (client)\"]\n"
	                 "  edge[\"edge (gateway)\"]\n"
	                 "  lb[\"lb (load_balancer)\"]\n"
	                 "  api[\"api (service)\"]\n"
	                 "  api_v2[\"api-v2 (service)\"]\n"
	                 "  auth[\"auth (service)\"]\n"
	                 "  n6[\"end (service)\"]\n"
	                 "  users --> edge\n"
	                 "  edge --> lb\n"
	                 "  lb --> api\n"
	                 "  lb --> api_v2\n"
	                 "  api --> auth\n"
	                 "  api --> api_v2\n"
	                 "  api_v2 --> auth\n"
	                 "  api_v2 --> n6\n");
	free(buf);
	teardown(k);
}
END_TEST

static Suite *edge_suite(void)
{
	Suite *s = suite_create("edge");
	TCase *tc = tcase_create("gateway");
	tcase_add_test(tc, gateway_token_bucket_admits_rate_times_t_plus_burst);
	tcase_add_test(tc, gateway_rate_below_limit_admits_all);
	tcase_add_test(tc, gateway_concurrency_cap_rejects);
	tcase_add_test(tc, gateway_timeout_frees_the_slot);
	tcase_add_test(tc, gateway_default_timeout_without_a_deadline);
	tcase_add_test(tc, gateway_deadline_propagates);
	tcase_add_test(tc, balancer_past_deadline_is_not_forwarded);
	tcase_add_test(tc, balancer_reports_timed_out_at_the_callers_deadline);
	tcase_add_test(tc, gateway_errors_quote_the_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("calls");
	tcase_add_loop_test(tc, calls_timing, 0, sizeof timing_cases / sizeof timing_cases[0]);
	tcase_add_test(tc, calls_sequential_order_and_post_time);
	tcase_add_test(tc, calls_wait_first_abandons_the_rest);
	tcase_add_test(tc, calls_probability_within_five_standard_errors);
	tcase_add_loop_test(tc, calls_on_error, 0, sizeof error_cases / sizeof error_cases[0]);
	tcase_add_test(tc, calls_wait_first_all_failing_fails);
	tcase_add_test(tc, calls_deadline_propagation);
	tcase_add_test(tc, calls_timeout_fails_the_request);
	tcase_add_test(tc, calls_past_deadline_is_not_sent);
	tcase_add_test(tc, calls_errors_quote_the_line);
	tcase_add_loop_test(tc, calls_op_overrides_the_request_op, 0,
	                    sizeof op_cases / sizeof op_cases[0]);
	tcase_add_loop_test(tc, calls_op_is_what_the_database_serves, 0,
	                    sizeof db_op_cases / sizeof db_op_cases[0]);
	tcase_add_test(tc, worker_op_needs_a_target);
	suite_add_tcase(s, tc);
	tc = tcase_create("network");
	tcase_add_loop_test(tc, network_partition_fails_over_into_split_brain, 0, 2);
	tcase_add_loop_test(tc, network_partition_holds_the_replication_stream, 0,
	                    sizeof partition_cases / sizeof partition_cases[0]);
	tcase_add_loop_test(tc, network_database_route_pays_the_serving_instance, 0,
	                    sizeof db_route_cases / sizeof db_route_cases[0]);
	tcase_add_loop_test(tc, network_delay_by_zone, 0, sizeof net_cases / sizeof net_cases[0]);
	tcase_add_test(tc, network_calls_pay_the_delay);
	tcase_add_test(tc, network_errors_quote_the_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("graph");
	tcase_add_test(tc, graph_mermaid_exact);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(edge_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
