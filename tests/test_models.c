/* The first models (client, load_balancer, service), each driven against the
 * scripted peer of tests/peer.h, with exact expectations where the inputs are
 * deterministic and statistical ones (5 standard errors) where they are not. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/model.h"
#include "load.h"
#include "peer.h"

struct rig {
	struct asim_doc *doc;
	struct asim_kernel *k;
	struct peer_state *peer;
};

/* Builds a kernel from a YAML mapping of components; the one named "peer"
 * becomes the scripted peer with the given number of instances. */
static struct rig build(const char *yaml, uint32_t peer_instances)
{
	struct rig g = {0};
	struct asim_diag d;
	asim_diag_init(&d);
	g.doc = asim_doc_load_buffer("test.yaml", yaml, strlen(yaml), &d);
	asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(g.doc);
	g.k = asim_kernel_create(5, 0);
	const struct asim_cfg *root = g.doc->root;
	for (size_t i = 0; i < root->n; i++) {
		const char *name = root->pairs[i].key;
		const struct asim_model_ops *ops =
			!strcmp(name, "peer") ? &peer_ops
			                      : asim_model_find(asim_cfg_get(root->pairs[i].value, "kind")->text);
		struct asim_component *c = asim_kernel_add(g.k, name, ops);
		ck_assert_ptr_nonnull(c);
		if (ops == &peer_ops) {
			g.peer = c->state;
			ck_assert(asim_component_set_instances(c, peer_instances, NULL));
		}
	}
	for (size_t i = 0; i < root->n; i++) {
		struct asim_component *c = asim_kernel_component(g.k, (uint32_t)i);
		if (c->ops->configure)
			ck_assert_msg(c->ops->configure(c, root->pairs[i].value, &d), "configure %s",
			              c->name);
	}
	asim_diag_print(&d, stderr);
	asim_diag_finish(&d);
	return g;
}

static void teardown_rig(struct rig *g)
{
	asim_kernel_destroy(g->k);
	asim_doc_free(g->doc);
}

static double result(struct asim_kernel *k, const char *comp, const char *path)
{
	struct asim_results r;
	asim_results_init(&r);
	struct asim_component *c = asim_kernel_find(k, comp);
	c->ops->report(c, &r);
	double v = asim_results_num(&r, path, NAN);
	asim_results_finish(&r);
	return v;
}

START_TEST(client_poisson_rate)
{
	struct rig g = build("u: {kind: client, rate: 1000/s, target: peer}\npeer: {}\n", 1);
	asim_kernel_run(g.k, 100 * ASIM_S);
	/* Poisson count over 100 s: mean 100000, sd sqrt(100000) = 316. */
	ck_assert_msg(fabs((double)g.peer->nseen - 1e5) < 5 * 316.2 || g.peer->nseen == PEER_LOG,
	              "seen %zu", g.peer->nseen);
	const struct asim_outcome *o = asim_kernel_outcome(g.k);
	ck_assert(fabs((double)o->requests - 1e5) < 5 * 316.2);
	ck_assert_uint_eq(o->succeeded, o->requests);
	teardown_rig(&g);
}
END_TEST

START_TEST(client_constant_spacing_exact)
{
	struct rig g = build("u: {kind: client, rate: 400/s, arrivals: constant, target: peer}\n"
	                     "peer: {}\n", 1);
	asim_kernel_run(g.k, 10 * ASIM_MS - 1);
	ck_assert_uint_eq(g.peer->nseen, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(g.peer->seen[i].at, (asim_time)i * 2500 * ASIM_US);
	teardown_rig(&g);
}
END_TEST

START_TEST(client_timeout_retries_exact_schedule)
{
	static const struct peer_row slow[] = {{.delay = ASIM_S, .status = ASIM_OK}};
	struct rig g = build("u: {kind: client, rate: 1/s, arrivals: constant, requests: 1,\n"
	                     "    timeout: 100ms, retries: {max: 3, backoff: constant, base: 20ms,\n"
	                     "    jitter: none}, target: peer}\npeer: {}\n", 1);
	g.peer->rows = slow;
	g.peer->nrows = 1;
	asim_kernel_run(g.k, 10 * ASIM_S);
	ck_assert_uint_eq(g.peer->nseen, 4);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(g.peer->seen[i].at, (asim_time)i * 120 * ASIM_MS);
		ck_assert_uint_eq(g.peer->seen[i].attempt, i);
		ck_assert_int_eq(g.peer->seen[i].deadline, (asim_time)i * 120 * ASIM_MS + 100 * ASIM_MS);
	}
	const struct asim_outcome *o = asim_kernel_outcome(g.k);
	ck_assert_uint_eq(o->requests, 1);
	ck_assert_uint_eq(o->succeeded, 0);
	ck_assert_uint_eq(o->failed_timeout, 1);
	ck_assert_uint_eq(o->attempts, 4);
	/* Every late answer was dropped, and no call record leaked. */
	ck_assert_uint_eq(g.peer->abandoned_before_answer, 4);
	ck_assert_uint_eq(asim_call_live(g.k), 0);
	teardown_rig(&g);
}
END_TEST

START_TEST(client_exponential_backoff_exact)
{
	static const struct peer_row err[] = {{.delay = 0, .status = ASIM_ERROR}};
	struct rig g = build("u: {kind: client, rate: 1/s, arrivals: constant, requests: 1,\n"
	                     "    retries: {max: 5, backoff: exponential, base: 10ms, cap: 50ms,\n"
	                     "    jitter: none}, target: peer}\npeer: {}\n", 1);
	g.peer->rows = err;
	g.peer->nrows = 1;
	asim_kernel_run(g.k, 10 * ASIM_S);
	/* Waits 10, 20, 40, 50 (capped), 50 ms after immediate errors. */
	static const asim_time at_ms[] = {0, 10, 30, 70, 120, 170};
	ck_assert_uint_eq(g.peer->nseen, 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(g.peer->seen[i].at, at_ms[i] * ASIM_MS);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->failed_error, 1);
	teardown_rig(&g);
}
END_TEST

START_TEST(client_retry_recovers)
{
	static const struct peer_row flaky[] = {
		{.delay = ASIM_MS, .status = ASIM_REJECTED},
		{.delay = ASIM_MS, .status = ASIM_OK},
	};
	struct rig g = build("u: {kind: client, rate: 10/s, arrivals: constant, requests: 50,\n"
	                     "    retries: {max: 1, backoff: constant, base: 5ms, jitter: none},\n"
	                     "    target: peer}\npeer: {}\n", 1);
	g.peer->rows = flaky;
	g.peer->nrows = 2;
	asim_kernel_run(g.k, 10 * ASIM_S);
	asim_kernel_finish(g.k); /* the clients hand in their latencies */
	const struct asim_outcome *o = asim_kernel_outcome(g.k);
	static struct asim_hist latency;
	asim_outcome_latency(o, &latency);
	ck_assert_uint_eq(o->requests, 50);
	ck_assert_uint_eq(o->succeeded, 50);
	ck_assert_uint_eq(o->attempts, 100);
	/* Latency counts from the first try: 1 ms + 5 ms backoff + 1 ms. */
	ck_assert_int_eq(latency.max, 7 * ASIM_MS);
	ck_assert_int_eq(latency.min, 7 * ASIM_MS);
	teardown_rig(&g);
}
END_TEST

START_TEST(client_closed_loop_throughput_exact)
{
	static const struct peer_row d[] = {{.delay = 30 * ASIM_MS, .status = ASIM_OK}};
	struct rig g = build("u: {kind: client, users: 5, think_time: 70ms, target: peer}\n"
	                     "peer: {}\n", 1);
	g.peer->rows = d;
	g.peer->nrows = 1;
	asim_kernel_run(g.k, 10 * ASIM_S);
	/* Each user cycles every 100 ms: 5 users x 100 cycles, the last 5
	 * still in flight at 10 s (they start at 9.97 s and end at 10.00 s). */
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->requests, 500);
	teardown_rig(&g);
}
END_TEST

START_TEST(client_mix_and_zipf_keys)
{
	struct rig g = build("u: {kind: client, rate: 1000/s, mix: {read: 0.75, write: 0.25},\n"
	                     "    keys: {count: 1000, popularity: zipf, alpha: 1.0}, target: peer}\n"
	                     "peer: {}\n", 1);
	asim_kernel_run(g.k, 4 * ASIM_S);
	size_t n = g.peer->nseen, writes = 0, key0 = 0, key1 = 0;
	for (size_t i = 0; i < n; i++) {
		writes += g.peer->seen[i].op == ASIM_OP_WRITE;
		key0 += g.peer->seen[i].key == 0;
		key1 += g.peer->seen[i].key == 1;
		ck_assert_uint_lt(g.peer->seen[i].key, 1000);
	}
	double p = 0.25, se = sqrt(p * (1 - p) / (double)n);
	ck_assert_msg(fabs((double)writes / (double)n - p) < 5 * se, "writes %zu of %zu", writes, n);
	/* Zipf(1) over 1000 keys: P(rank 1) = 1/H_1000 = 0.1336, P(rank 2) half. */
	double p0 = 1.0 / 7.4854708605503;
	double se0 = sqrt(p0 * (1 - p0) / (double)n);
	ck_assert_msg(fabs((double)key0 / (double)n - p0) < 5 * se0, "key0 %zu of %zu", key0, n);
	ck_assert_msg(fabs((double)key1 / (double)n - p0 / 2) < 5 * se0, "key1 %zu", key1);
	teardown_rig(&g);
}
END_TEST

/* The run's latency is the merge of the operations' histograms: each
 * successful request is in exactly one, and their union holds every one. */
START_TEST(client_run_latency_merges_operations)
{
	static const struct peer_row rows[] = {
		{.delay = 1 * ASIM_MS, .status = ASIM_OK},
		{.delay = 3 * ASIM_MS, .status = ASIM_OK},
		{.delay = 7 * ASIM_MS, .status = ASIM_OK},
		{.delay = 2 * ASIM_MS, .status = ASIM_ERROR},
	};
	struct rig g = build("u: {kind: client, rate: 1000/s, mix: {read: 0.6, write: 0.4},\n"
	                     "    target: peer}\npeer: {}\n", 1);
	g.peer->rows = rows;
	g.peer->nrows = 4;
	asim_kernel_run(g.k, 2 * ASIM_S);
	asim_kernel_finish(g.k);
	const struct asim_outcome *o = asim_kernel_outcome(g.k);
	const struct asim_hist *r = &o->latency_op[ASIM_OP_READ], *w = &o->latency_op[ASIM_OP_WRITE];
	static struct asim_hist all;
	asim_outcome_latency(o, &all);
	ck_assert_uint_gt(r->count, 100);
	ck_assert_uint_gt(w->count, 100);
	ck_assert_uint_eq(all.count, r->count + w->count);
	ck_assert_uint_eq(all.count, o->succeeded);
	ck_assert_uint_lt(o->succeeded, o->requests);
	ck_assert_int_eq(all.min, 1 * ASIM_MS);
	ck_assert_int_eq(all.max, 7 * ASIM_MS);
	ck_assert_double_eq(all.sum, r->sum + w->sum);
	for (size_t b = 0; b < ASIM_HIST_BUCKETS; b++)
		ck_assert_uint_eq(all.bucket[b], r->bucket[b] + w->bucket[b]);
	/* The client reports the merge of its operations' latencies: with a
	 * single client, the run's. */
	ck_assert_double_eq(result(g.k, "u", "components.u.latency_ms.max"), 7.0);
	ck_assert_double_eq(result(g.k, "u", "components.u.latency_ms.mean"), asim_hist_mean(&all) / 1e6);
	ck_assert_double_eq(result(g.k, "u", "components.u.latency_ms.p50"),
	                    (double)asim_hist_quantile(&all, 0.5) / 1e6);
	teardown_rig(&g);
}
END_TEST

static const struct {
	const char *policy;
	double max_imbalance; /* largest share over the mean share */
} lb_cases[] = {
	{"round_robin", 1.0},
	{"least_outstanding", 1.0},
	{"random", 1.1},
	{"power_of_two", 1.1},
};

START_TEST(lb_spreads_by_policy)
{
	char yaml[256];
	snprintf(yaml, sizeof yaml,
	         "u: {kind: client, rate: 4000/s, arrivals: constant, target: lb}\n"
	         "lb: {kind: load_balancer, policy: %s, targets: peer}\npeer: {}\n",
	         lb_cases[_i].policy);
	struct rig g = build(yaml, 4);
	asim_kernel_run(g.k, ASIM_S - 1);
	size_t per[4] = {0};
	for (size_t i = 0; i < g.peer->nseen; i++)
		per[g.peer->seen[i].inst]++;
	ck_assert_uint_eq(g.peer->nseen, 4000);
	for (size_t i = 0; i < 4; i++)
		ck_assert_msg((double)per[i] <= lb_cases[_i].max_imbalance * 1000.0 + 1e-9,
		              "%s: instance %zu got %zu", lb_cases[_i].policy, i, per[i]);
	ck_assert_double_eq_tol(result(g.k, "lb", "components.lb.forwarded"), 4000, 1e-9);
	teardown_rig(&g);
}
END_TEST

static const struct {
	const char *policy;
	double slow_share_max, slow_share_min;
} slow_cases[] = {
	{"round_robin", 0.5, 0.5},
	{"least_outstanding", 0.1, 0.0},
	{"power_of_two", 0.1, 0.0},
};

START_TEST(lb_policy_and_slow_backend)
{
	/* Backend 0 answers in 1 ms, backend 1 in 20 ms, one request per ms:
	 * round robin splits evenly whatever happens; the load-aware policies
	 * send the slow backend far less. */
	char yaml[256];
	snprintf(yaml, sizeof yaml,
	         "u: {kind: client, rate: 1000/s, arrivals: constant, target: lb}\n"
	         "lb: {kind: load_balancer, policy: %s, targets: peer}\npeer: {}\n",
	         slow_cases[_i].policy);
	struct rig g = build(yaml, 2);
	g.peer->inst_delay[0] = ASIM_MS;
	g.peer->inst_delay[1] = 20 * ASIM_MS;
	asim_kernel_run(g.k, 2 * ASIM_S - 1);
	size_t slow = 0;
	for (size_t i = 0; i < g.peer->nseen; i++)
		slow += g.peer->seen[i].inst == 1;
	double share = (double)slow / (double)g.peer->nseen;
	ck_assert_uint_eq(g.peer->nseen, 2000);
	ck_assert_msg(share <= slow_cases[_i].slow_share_max && share >= slow_cases[_i].slow_share_min,
	              "%s: slow backend share %g", slow_cases[_i].policy, share);
	teardown_rig(&g);
}
END_TEST

START_TEST(service_rejects_beyond_queue)
{
	/* One server, no waiting room, 10 ms service, an arrival every 5 ms:
	 * exactly every other request is rejected. */
	struct rig g = build("u: {kind: client, rate: 200/s, arrivals: constant, target: s}\n"
	                     "s: {kind: service, concurrency: 1, queue: 0, service_time: 10ms}\n", 1);
	asim_kernel_run(g.k, ASIM_S - 1);
	const struct asim_outcome *o = asim_kernel_outcome(g.k);
	ck_assert_uint_eq(o->failed_rejected, 100);
	ck_assert_uint_eq(o->succeeded, 99); /* the last one is still in service */
	ck_assert_double_eq_tol(result(g.k, "s", "components.s.rejected"), 100, 1e-9);
	teardown_rig(&g);
}
END_TEST

START_TEST(service_deterministic_queueing_exact)
{
	/* D/D/1 with arrivals every 10 ms and 4 ms service: utilisation 0.4,
	 * no waiting, response exactly 4 ms. */
	struct rig g = build("u: {kind: client, rate: 100/s, arrivals: constant, target: s}\n"
	                     "s: {kind: service, service_time: 4ms}\n", 1);
	asim_kernel_run(g.k, 10 * ASIM_S);
	ck_assert_double_eq_tol(result(g.k, "s", "components.s.utilization"), 0.4, 1e-9);
	ck_assert_double_eq_tol(result(g.k, "s", "components.s.wait_probability"), 0.0, 1e-12);
	asim_kernel_finish(g.k);
	static struct asim_hist latency;
	asim_outcome_latency(asim_kernel_outcome(g.k), &latency);
	ck_assert_int_eq(latency.min, 4 * ASIM_MS);
	ck_assert_int_eq(latency.max, 4 * ASIM_MS);
	teardown_rig(&g);
}
END_TEST

START_TEST(service_fifo_order_and_queue_length)
{
	/* Bursts: 3 clients arrive at once every 100 ms into one server with 10 ms
	 * service: waits of 0, 10 and 20 ms, so responses 10, 20, 30 ms, and a
	 * time-average queue of (2 x 10 + 1 x 10) / 100 = 0.3. */
	struct rig g = build("u1: {kind: client, rate: 10/s, arrivals: constant, target: s}\n"
	                     "u2: {kind: client, rate: 10/s, arrivals: constant, target: s}\n"
	                     "u3: {kind: client, rate: 10/s, arrivals: constant, target: s}\n"
	                     "s: {kind: service, service_time: 10ms}\n", 1);
	asim_kernel_run(g.k, 10 * ASIM_S);
	ck_assert_double_eq_tol(result(g.k, "s", "components.s.queue_mean"), 0.3, 1e-6);
	asim_kernel_finish(g.k);
	static struct asim_hist latency;
	asim_outcome_latency(asim_kernel_outcome(g.k), &latency);
	ck_assert_int_eq(latency.min, 10 * ASIM_MS);
	ck_assert_int_eq(latency.max, 30 * ASIM_MS);
	teardown_rig(&g);
}
END_TEST

/* queue_max is the peak of the same sum over instances whose time average
 * is queue_mean: 50 M/M/1 instances at rho 0.8 hold 50 x 3.2 = 160 waiting
 * on average, so the peak of the sum is above that, where the busiest
 * single instance's peak (what queue_max was) stays near 40. */
START_TEST(service_queue_max_is_peak_of_the_sum)
{
	/* The service first: the client learns its instance count at configure. */
	struct rig g = build("s: {kind: service, instances: 50,\n"
	                     "    service_time: {dist: exponential, mean: 1ms}}\n"
	                     "u: {kind: client, rate: 40000/s, target: s}\n", 1);
	asim_kernel_run(g.k, 5 * ASIM_S);
	double mean = result(g.k, "s", "components.s.queue_mean");
	double max = result(g.k, "s", "components.s.queue_max");
	ck_assert_msg(mean > 100 && mean < 250, "queue_mean %g", mean);
	ck_assert_msg(max >= mean, "queue_max %g below queue_mean %g", max, mean);
	teardown_rig(&g);
}
END_TEST

/* Every component that answers calls reports its latency as its callers see
 * it, from a call's arrival to its ok reply. Constant times and a request
 * every 10 ms, so nothing waits: the database answers in its 2 ms, the
 * service in its 3 ms plus the database's 2, the balancer adds nothing and
 * the gateway its 1 ms of authentication. The gateway's limit of 50/s turns
 * half the requests away at once; those replies are not ok and do not pull
 * its latency down. */
START_TEST(components_report_latency_seen_by_callers)
{
	struct rig g = build("u: {kind: client, rate: 100/s, arrivals: constant, target: gw}\n"
	                     "gw: {kind: gateway, auth_time: 1ms, rate_limit: {rate: 50/s, burst: 1},\n"
	                     "     target: lb}\n"
	                     "lb: {kind: load_balancer, targets: api}\n"
	                     "api: {kind: service, service_time: 3ms, calls: [{read: db}]}\n"
	                     "db: {kind: database, read_time: 2ms, write_time: 2ms}\n", 1);
	asim_kernel_run(g.k, 10 * ASIM_S);
	asim_kernel_finish(g.k);
	const struct asim_outcome *o = asim_kernel_outcome(g.k);
	ck_assert_uint_eq(o->failed_rejected, o->requests - o->succeeded);
	ck_assert(o->succeeded > 400 && o->succeeded < 600);
	static const struct {
		const char *comp;
		double ms;
	} want[] = {{"db", 2}, {"api", 5}, {"lb", 5}, {"gw", 6}};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		char path[64];
		snprintf(path, sizeof path, "components.%s.latency_ms.mean", want[i].comp);
		ck_assert_msg(fabs(result(g.k, want[i].comp, path) - want[i].ms) < 1e-9, "%s: %g",
		              path, result(g.k, want[i].comp, path));
		snprintf(path, sizeof path, "components.%s.latency_ms.max", want[i].comp);
		ck_assert_double_eq_tol(result(g.k, want[i].comp, path), want[i].ms, 1e-9);
	}
	teardown_rig(&g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("models");
	TCase *tc = tcase_create("client");
	tcase_add_test(tc, client_poisson_rate);
	tcase_add_test(tc, client_constant_spacing_exact);
	tcase_add_test(tc, client_timeout_retries_exact_schedule);
	tcase_add_test(tc, client_exponential_backoff_exact);
	tcase_add_test(tc, client_retry_recovers);
	tcase_add_test(tc, client_closed_loop_throughput_exact);
	tcase_add_test(tc, client_mix_and_zipf_keys);
	tcase_add_test(tc, client_run_latency_merges_operations);
	suite_add_tcase(s, tc);
	tc = tcase_create("load_balancer");
	tcase_add_loop_test(tc, lb_spreads_by_policy, 0, (int)(sizeof lb_cases / sizeof lb_cases[0]));
	tcase_add_loop_test(tc, lb_policy_and_slow_backend, 0,
	                    (int)(sizeof slow_cases / sizeof slow_cases[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("service");
	tcase_add_test(tc, service_rejects_beyond_queue);
	tcase_add_test(tc, service_deterministic_queueing_exact);
	tcase_add_test(tc, service_fifo_order_and_queue_length);
	tcase_add_test(tc, components_report_latency_seen_by_callers);
	tcase_add_test(tc, service_queue_max_is_peak_of_the_sum);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
