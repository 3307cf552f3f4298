/* The simulator against queueing theory. Each case runs one of the scenario
 * files in scenarios/validation/ (so users can rerun it) for several
 * independent replications and compares the replication mean of each figure
 * with its closed form.
 *
 * Tolerance: a figure passes when |mean - theory| <= k standard errors of
 * the replication mean (plus 1% for percentiles, the histogram's bound),
 * where k is Student's t quantile for REPS - 1 degrees of freedom that a
 * correct simulator exceeds with probability 1% / (the number of checks):
 * the whole suite fails a correct simulator with probability below 1% on
 * any random stream (Bonferroni), not each check (4 standard errors of 8
 * replications did that, 0.5% each: over the suite's 145 checks, one run in
 * four of the suite on other streams failed one). A check is also required
 * to be sharp (standard error under 3% of the theory), so that a wrong model
 * cannot pass on noise alone. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

#include "scenario.h"

/* Replications of each case, each with half the scenario's measured span (a
 * hundredth under valgrind): the same simulated time as 8 full ones, and a
 * t quantile of 15 degrees of freedom (5.4 for the suite's 145 checks)
 * rather than 7 (8.4). */
#define REPS 16

struct expect {
	const char *path;
	double theory;
	bool percentile;
	const char *per; /* when set, the figure is path's value over this one's */
};

struct qcase {
	const char *file;
	struct expect e[10];
};

static const struct qcase cases[] = {
	{"scenarios/validation/mm1-rho05.yaml", {
		{"latency_ms.mean", 2.0, false, NULL},
		{"latency_ms.p95", 5.991465, true, NULL},
		{"components.server.wait_probability", 0.5, false, NULL},
		{"components.server.utilization", 0.5, false, NULL},
		{"components.server.wait_ms_mean", 1.0, false, NULL},
	}},
	{"scenarios/validation/mm1-rho08.yaml", {
		{"latency_ms.mean", 5.0, false, NULL},
		{"latency_ms.p95", 14.978661, true, NULL},
		{"components.server.wait_probability", 0.8, false, NULL},
		{"components.server.utilization", 0.8, false, NULL},
		{"components.server.queue_mean", 3.2, false, NULL},
	}},
	/* Served last come, first served: a waiting request waits one M/M/1
	 * busy period; percentiles by tests/theory/lcfs_mm1.py. The mean is
	 * FIFO's, the percentiles are not (FIFO: p50 3.47, p99 23.0 ms). */
	{"scenarios/validation/mm1-lifo-rho08.yaml", {
		{"latency_ms.mean", 5.0, false, NULL},
		{"latency_ms.p50", 1.776384, true, NULL},
		{"latency_ms.p90", 9.528697, true, NULL},
		{"latency_ms.p95", 19.058727, true, NULL},
		{"latency_ms.p99", 62.99444, true, NULL},
		{"components.server.wait_probability", 0.8, false, NULL},
		{"components.server.wait_ms_mean", 4.0, false, NULL},
	}},
	{"scenarios/validation/mmc4-rho07.yaml", {
		{"components.server.wait_probability", 0.428654, false, NULL},
		{"components.server.wait_ms_mean", 0.357212, false, NULL},
		{"latency_ms.mean", 1.357212, false, NULL},
		{"latency_ms.p95", 3.752496, true, NULL},
		{"components.server.utilization", 0.7, false, NULL},
	}},
	{"scenarios/validation/md1-rho08.yaml", {
		{"components.server.wait_ms_mean", 2.0, false, NULL},
		{"latency_ms.mean", 3.0, false, NULL},
		{"components.server.utilization", 0.8, false, NULL},
	}},
	/* G/M/1 with constant arrivals: sigma = exp(-(1 - sigma) / rho), the
	 * response exponential at rate mu (1 - sigma) (derived in the file). */
	{"scenarios/validation/dm1-rho08.yaml", {
		{"components.server.wait_probability", 0.628630, false, NULL},
		{"components.server.wait_ms_mean", 1.692731, false, NULL},
		{"latency_ms.mean", 2.692731, false, NULL},
		{"latency_ms.p95", 8.066701, true, NULL},
		{"components.server.utilization", 0.8, false, NULL},
		{"components.server.queue_mean", 1.354185, false, NULL},
	}},
	/* An open Jackson network joined by emits: each server an M/M/1 queue
	 * at the rate the flows add up to (Burke's theorem, Poisson splitting
	 * and merging). */
	{"scenarios/validation/jackson-network.yaml", {
		{"components.a.wait_probability", 0.5, false, NULL},
		{"components.a.latency_ms.mean", 2.0, false, NULL},
		{"components.b.wait_probability", 0.75, false, NULL},
		{"components.b.wait_ms_mean", 7.5, false, NULL},
		{"components.b.latency_ms.mean", 10.0, false, NULL},
		{"components.b.latency_ms.p95", 29.957323, true, NULL},
		{"components.b.utilization", 0.75, false, NULL},
		{"components.c.wait_probability", 0.7, false, NULL},
		{"components.c.latency_ms.mean", 3.333333, false, NULL},
		{"components.c.latency_ms.p95", 9.985774, true, NULL},
	}},
	/* Losses: Erlang B, where a request that finds every server busy is
	 * rejected (queue: 0), and M/M/1/K, where it finds the waiting room
	 * full. wait_probability counts, of all arrivals, those that waited. */
	{"scenarios/validation/mmcc-erlang-b.yaml", {
		{"availability", 0.793893, false, NULL},
		{"components.server.utilization", 0.595420, false, NULL},
		{"latency_ms.mean", 1.0, false, NULL},
	}},
	{"scenarios/validation/mm1k-rho09.yaml", {
		{"availability", 0.873977, false, NULL},
		{"latency_ms.mean", 2.790286, false, NULL},
		{"components.server.wait_ms_mean", 1.790286, false, NULL},
		{"components.server.wait_probability", 0.660560, false, NULL},
		{"components.server.utilization", 0.786580, false, NULL},
	}},
	/* M/G/1: the wait follows the service time's second moment. */
	{"scenarios/validation/mg1-rho05.yaml", {
		{"components.lognormal.wait_ms_mean", 1.625, false, NULL},
		{"components.lognormal.latency_ms.mean", 2.625, false, NULL},
		{"components.gamma.wait_ms_mean", 0.625, false, NULL},
		{"components.gamma.latency_ms.mean", 1.625, false, NULL},
		{"components.uniform.wait_ms_mean", 0.666667, false, NULL},
		{"components.uniform.latency_ms.mean", 1.666667, false, NULL},
	}},
	/* Balancing: a random split leaves each instance an M/M/1; round robin
	 * makes it an E2/M/1; least outstanding (and power of two, over two)
	 * join the shorter queue, solved exactly by tests/theory/jsq2.py. */
	{"scenarios/validation/lb-split-rho08.yaml", {
		{"components.random_pool.latency_ms.mean", 5.0, false, NULL},
		{"components.random_pool.wait_probability", 0.8, false, NULL},
		{"components.round_robin_pool.latency_ms.mean", 3.843980, false, NULL},
		{"components.round_robin_pool.wait_probability", 0.739853, false, NULL},
		{"components.round_robin_pool.utilization", 0.8, false, NULL},
		{"components.least_pool.latency_ms.mean", 2.955737, false, NULL},
		{"components.least_pool.wait_probability", 0.694165, false, NULL},
		{"components.p2_pool.latency_ms.mean", 2.955737, false, NULL},
		{"components.p2_pool.wait_probability", 0.694165, false, NULL},
	}},
	/* A database's connections: M/M/4 with room to wait, M/M/4/8 without. */
	{"scenarios/validation/database-pool.yaml", {
		{"components.pool.wait_ms_mean", 0.357212, false, NULL},
		{"components.pool.queue_mean", 1.000193, false, NULL},
		{"components.pool.utilization", 0.7, false, NULL},
		{"components.to_small.availability", 0.966727, false, NULL},
		{"components.small.wait_ms_mean", 0.187860, false, NULL},
		{"components.small.utilization", 0.676709, false, NULL},
	}},
	/* Caches under independent reads: a TTL's renewal cycle (uniform and
	 * Zipf keys) and a capacity bound under uniform keys. */
	{"scenarios/validation/cache-hit-ratios.yaml", {
		{"components.ttl_cache.hit_ratio", 0.5, false, NULL},
		{"components.zipf_cache.hit_ratio", 0.428424, false, NULL},
		{"components.lru_cache.hit_ratio", 0.2, false, NULL},
	}},
	/* Client timeouts: requests that would wait past them are skipped, so
	 * the server is an M/M/1+D queue, stable even when overloaded. */
	{"scenarios/validation/mm1-timeouts.yaml", {
		{"components.to_busy.availability", 0.773465, false, NULL},
		{"components.busy.expired", 0.107306, false, "components.busy.arrived"},
		{"components.busy.wasted", 0.119229, false, "components.busy.arrived"},
		{"components.busy.utilization", 0.803424, false, NULL},
		{"components.to_overloaded.availability", 0.589598, false, NULL},
		{"components.overloaded.expired", 0.223855, false, "components.overloaded.arrived"},
		{"components.overloaded.wasted", 0.186546, false, "components.overloaded.arrived"},
		{"components.overloaded.utilization", 0.931373, false, NULL},
	}},
	/* Async replicas: a read misses the newest acknowledged write when
	 * that write's lag outlasts its age plus the read's own time. */
	{"scenarios/validation/stale-reads.yaml", {
		{"components.db.stale_reads", 0.082645, false, "components.db.reads"},
		{"components.db.staleness_ms.mean", 20.0, false, NULL},
	}},
	/* An event log and its workers: M/M/1 and M/M/4 by prefetch, and
	 * geometric redeliveries after an ack timeout. */
	{"scenarios/validation/queue-workers.yaml", {
		{"components.log.backlog_mean", 4.0, false, NULL},
		{"components.log.lag_ms_mean", 4.0, false, NULL},
		{"components.worker.utilization", 0.8, false, NULL},
		{"components.log4.backlog_mean", 3.800193, false, NULL},
		{"components.worker4.utilization", 0.7, false, NULL},
		{"components.log_r.delivered", 1.156518, false, "components.log_r.produced"},
		{"components.worker_r.duplicates", 0.156518, false, "components.log_r.produced"},
		{"components.log_r.backlog_mean", 0.5, false, NULL},
	}},
	/* Token buckets: an M/D/1 workload admitted up to (burst - 1) / rate. */
	{"scenarios/validation/rate-limits.yaml", {
		{"components.to_b1.availability", 0.5, false, NULL},
		{"components.b1.rate_limited", 0.5, false, "components.b1.arrived"},
		{"components.to_b2.availability", 0.731059, false, NULL},
		{"components.b2.rate_limited", 0.268941, false, "components.b2.arrived"},
		{"components.to_b2_over.availability", 0.468311, false, NULL},
		{"components.b2_over.rate_limited", 0.531689, false, "components.b2_over.arrived"},
		{"components.to_capped.availability", 0.793893, false, NULL},
	}},
	/* Retries against independent errors: geometric attempts, or what a
	 * retry budget grants when it binds. */
	{"scenarios/validation/retries-errors.yaml", {
		{"components.to_once.availability", 0.91, false, NULL},
		{"components.to_once.retry_amplification", 1.3, false, NULL},
		{"components.to_thrice.availability", 0.9919, false, NULL},
		{"components.to_thrice.retry_amplification", 1.417, false, NULL},
		{"components.to_budget.availability", 0.555, false, NULL},
		{"components.to_budget.retry_amplification", 1.11, false, NULL},
	}},
	/* Replication modes: a sync write waits for the slower of two
	 * replicas' lags, a quorum of two of three for the faster. */
	{"scenarios/validation/replication-sync.yaml", {
		{"latency_ms.mean", 35.0, false, NULL},
		{"latency_ms.p50", 29.8134, true, NULL},
		{"latency_ms.p95", 79.2439, true, NULL},
		{"latency_ms.p99", 111.6635, true, NULL},
	}},
	{"scenarios/validation/replication-quorum.yaml", {
		{"latency_ms.mean", 15.0, false, NULL},
		{"latency_ms.p50", 12.2795, true, NULL},
		{"latency_ms.p95", 36.7614, true, NULL},
		{"latency_ms.p99", 52.9581, true, NULL},
	}},
	/* The network: delays (and a latency fault's) add to the sojourn;
	 * loss thins the arrivals and fails what it drops either way. */
	{"scenarios/validation/network-delays.yaml", {
		{"components.to_near.latency_ms.p50", 2.468660, true, NULL},
		{"components.to_near.latency_ms.p99", 10.361067, true, NULL},
		{"components.to_far.latency_ms.p50", 5.260268, true, NULL},
		{"components.to_far.latency_ms.p99", 12.373037, true, NULL},
		{"components.to_far.availability", 0.81, false, NULL},
		{"components.far.utilization", 0.45, false, NULL},
		{"components.to_delayed.latency_ms.p50", 11.386294, true, NULL},
		{"components.to_delayed.latency_ms.p99", 19.210340, true, NULL},
	}},
	/* Hedging: the response is the first of two attempts, one late. */
	{"scenarios/validation/hedging.yaml", {
		{"latency_ms.mean", 0.816060, false, NULL},
		{"latency_ms.p50", 0.693147, true, NULL},
		{"latency_ms.p90", 1.651293, true, NULL},
		{"latency_ms.p99", 2.802585, true, NULL},
		{"components.users.hedges", 0.367879, false, "components.users.requests"},
		{"components.users.hedge_wins", 0.183940, false, "components.users.requests"},
	}},
	/* Calls: a parallel group waits for the max (or the min with
	 * wait: first) of its calls' times, a sequence for their sum. */
	{"scenarios/validation/fan-out.yaml", {
		{"components.fan_all.latency_ms.mean", 2.5, false, NULL},
		{"components.fan_all.latency_ms.p99", 6.295808, true, NULL},
		{"components.fan_first.latency_ms.mean", 1.5, false, NULL},
		{"components.fan_first.latency_ms.p99", 3.302585, true, NULL},
		{"components.chain.latency_ms.mean", 3.0, false, NULL},
		{"components.chain.latency_ms.p99", 7.638352, true, NULL},
	}},
	/* A circuit breaker's renewal cycle under independent errors. */
	{"scenarios/validation/circuit-breaker.yaml", {
		{"components.users.availability", 0.667769, false, NULL},
		{"components.users.breaker.short_circuited", 0.165289, false, "components.users.requests"},
	}},
	/* Faults over the whole run: a slower, a longer and a busier queue. */
	{"scenarios/validation/steady-faults.yaml", {
		{"components.slowed.latency_ms.mean", 5.0, false, NULL},
		{"components.slowed.wait_probability", 0.8, false, NULL},
		{"components.added.latency_ms.mean", 1.5625, false, NULL},
		{"components.added.wait_ms_mean", 0.8125, false, NULL},
		{"components.spiked.latency_ms.mean", 5.0, false, NULL},
		{"components.spiked.utilization", 0.8, false, NULL},
	}},
	/* A periodic crash: the share of requests its windows cover. */
	{"scenarios/validation/periodic-crash.yaml", {
		{"availability", 0.8999, false, NULL},
	}},
	/* A closed loop, against exact mean value analysis. */
	{"scenarios/validation/closed-loop-mva.yaml", {
		{"latency_ms.mean", 2.242718, false, NULL},
		{"throughput_rps", 800.933, false, NULL},
		{"components.server.utilization", 0.800933, false, NULL},
	}},
	/* A replica's serial replay (replay_time) as M/D/1 behind an
	 * exponential shipping lag: 5 + 8 + 4 ms from commit to applied. */
	{"scenarios/validation/replay-md1.yaml", {
		{"components.db.replication_lag_ms.mean", 17.0, false, NULL},
	}},
};

static const char *root(void)
{
	const char *r = getenv("ARCHSIM_SOURCE_ROOT");
	return r ? r : ".";
}

/* The t quantile of the tolerance (see the top of the file). */
static double checks_k(void)
{
	size_t n = 0;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
		for (size_t i = 0; i < sizeof cases[c].e / sizeof cases[c].e[0] && cases[c].e[i].path;
		     i++)
			n++;
	return gsl_cdf_tdist_Qinv(0.01 / (double)n / 2, REPS - 1);
}

START_TEST(queueing_closed_forms)
{
	const struct qcase *qc = &cases[_i];
	char path[512];
	snprintf(path, sizeof path, "%s/%s", root(), qc->file);
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s = asim_scenario_load(path, NULL, &d);
	asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(s);
	/* Each replication runs half the measured span (see REPS). Under
	 * valgrind that takes too long; shorter runs still check the code
	 * paths, with the sharpness requirement relaxed accordingly. */
	bool quick = getenv("ARCHSIM_VALGRIND") != NULL;
	s->duration = s->warmup + (s->duration - s->warmup) / (quick ? 100 : 2);
	enum { MAX_EXPECT = sizeof qc->e / sizeof qc->e[0] };
	double v[MAX_EXPECT][REPS];
	for (uint32_t rep = 0; rep < REPS; rep++) {
		struct asim_results r;
		asim_results_init(&r);
		ck_assert_int_eq(asim_scenario_run(s, rep, &r, &d), ASIM_RUN_DONE);
		for (size_t i = 0; i < MAX_EXPECT && qc->e[i].path; i++) {
			const struct asim_value *val = asim_results_get(&r, qc->e[i].path);
			ck_assert_msg(val != NULL, "%s: no %s", qc->file, qc->e[i].path);
			v[i][rep] = val->num;
			if (qc->e[i].per) {
				const struct asim_value *den = asim_results_get(&r, qc->e[i].per);
				ck_assert_msg(den != NULL && den->num > 0, "%s: no %s", qc->file,
				              qc->e[i].per);
				v[i][rep] /= den->num;
			}
		}
		asim_results_finish(&r);
	}
	double k = checks_k();
	for (size_t i = 0; i < MAX_EXPECT && qc->e[i].path; i++) {
		const struct expect *e = &qc->e[i];
		double mean = gsl_stats_mean(v[i], 1, REPS);
		double se = gsl_stats_sd(v[i], 1, REPS) / sqrt(REPS);
		double tol = k * se + (e->percentile ? 0.01 * e->theory : 0);
		fprintf(stderr, "%-40s %-36s theory %9.5f sim %9.5f se %.5f (%.2f%%)\n", qc->file,
		        e->path, e->theory, mean, se, 100 * se / e->theory);
		if (!quick)
			ck_assert_msg(se < 0.03 * e->theory, "%s %s: too noisy to judge (se %g)",
			              qc->file, e->path, se);
		ck_assert_msg(fabs(mean - e->theory) <= tol,
		              "%s %s: simulated %g, theory %g, tolerance %g", qc->file, e->path, mean,
		              e->theory, tol);
	}
	asim_diag_finish(&d);
	asim_scenario_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("queueing");
	TCase *tc = tcase_create("closed_forms");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, queueing_closed_forms, 0, (int)(sizeof cases / sizeof cases[0]));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
