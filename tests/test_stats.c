#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "archsim/stats.h"

/* The distance of every value in a bucket to the reported midpoint is within
 * 1/128 of the value. The midpoint is taken through the quantile function of
 * a histogram holding both ends of the bucket, so the test checks what users
 * see rather than a private helper. */
static void check_bound(int64_t v)
{
	size_t b = asim_hist_bucket_of(v);
	int64_t lo, hi;
	asim_hist_bucket_range(b, &lo, &hi);
	ck_assert_msg(lo <= v && v <= hi, "value %lld outside its bucket [%lld, %lld]",
	              (long long)v, (long long)lo, (long long)hi);
	if (b + 1 < ASIM_HIST_BUCKETS) {
		int64_t nlo, nhi;
		asim_hist_bucket_range(b + 1, &nlo, &nhi);
		ck_assert_int_eq(nlo, hi + 1);
	}
	static struct asim_hist h;
	asim_hist_init(&h);
	asim_hist_record(&h, lo);
	asim_hist_record(&h, hi);
	asim_hist_record(&h, v);
	int64_t mid = asim_hist_quantile(&h, 0.5);
	double err = fabs((double)mid - (double)v);
	ck_assert_msg(err <= (double)v / 128.0, "value %lld reported as %lld",
	              (long long)v, (long long)mid);
}

static const int64_t bound_values[] = {
	0, 1, 2, 63, 64, 65, 127, 128, 129, 130, 131, 255, 256, 257, 1000, 1023, 1024,
	4095, 4096, 99999, 100000, 1000000, 4000000, 999999999, 1000000000,
	((int64_t)1 << 40) - 1, (int64_t)1 << 40, ((int64_t)1 << 41) - 1,
};

START_TEST(stats_bucket_bound_table)
{
	for (size_t i = 0; i < sizeof(bound_values) / sizeof(bound_values[0]); i++)
		check_bound(bound_values[i]);
}
END_TEST

START_TEST(stats_bucket_bound_random)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 12345);
	for (int i = 0; i < 200000; i++) {
		/* Log-uniform over the histogram's range, so every octave is hit. */
		int bits = (int)gsl_rng_uniform_int(r, ASIM_HIST_MAX_BITS);
		uint64_t v = ((uint64_t)gsl_rng_get(r) << 32 | gsl_rng_get(r));
		v &= ((uint64_t)1 << (bits + 1)) - 1;
		if (v >= (uint64_t)1 << ASIM_HIST_MAX_BITS)
			v >>= 1;
		check_bound((int64_t)v);
	}
	gsl_rng_free(r);
}
END_TEST

START_TEST(stats_bucket_layout)
{
	/* The layout spelled out: exact below 128, then 64 per octave. */
	ck_assert_uint_eq(asim_hist_bucket_of(0), 0);
	ck_assert_uint_eq(asim_hist_bucket_of(63), 63);
	ck_assert_uint_eq(asim_hist_bucket_of(64), 64);
	ck_assert_uint_eq(asim_hist_bucket_of(127), 127);
	ck_assert_uint_eq(asim_hist_bucket_of(128), 128);
	ck_assert_uint_eq(asim_hist_bucket_of(129), 128);
	ck_assert_uint_eq(asim_hist_bucket_of(130), 129);
	ck_assert_uint_eq(asim_hist_bucket_of(256), 192);
	ck_assert_uint_eq(asim_hist_bucket_of(-5), 0);
	ck_assert_uint_eq(asim_hist_bucket_of(((int64_t)1 << ASIM_HIST_MAX_BITS) - 1),
	                  ASIM_HIST_BUCKETS - 1);
	ck_assert_uint_eq(asim_hist_bucket_of((int64_t)1 << ASIM_HIST_MAX_BITS), ASIM_HIST_BUCKETS - 1);
	ck_assert_uint_eq(asim_hist_bucket_of(INT64_MAX), ASIM_HIST_BUCKETS - 1);
	int64_t lo, hi;
	asim_hist_bucket_range(ASIM_HIST_BUCKETS - 1, &lo, &hi);
	ck_assert_int_eq(hi, INT64_MAX);
}
END_TEST

static void check_near(int64_t got, double exact)
{
	ck_assert_msg(fabs((double)got - exact) <= exact / 100.0, "got %lld, exact %g",
	              (long long)got, exact);
}

START_TEST(stats_quantiles_known)
{
	static struct asim_hist h;
	asim_hist_init(&h);
	const int n = 100000;
	for (int i = n; i >= 1; i--)
		asim_hist_record(&h, i);
	static const double qs[] = { 0.001, 0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999 };
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		check_near(asim_hist_quantile(&h, qs[i]), ceil(qs[i] * n));
	ck_assert_int_eq(asim_hist_quantile(&h, 0), 1);
	ck_assert_int_eq(asim_hist_quantile(&h, 1), n);
	ck_assert_uint_eq(h.count, (uint64_t)n);
	ck_assert_int_eq(h.min, 1);
	ck_assert_int_eq(h.max, n);
	ck_assert_double_eq_tol(asim_hist_mean(&h), (n + 1) / 2.0, 1e-9);
}
END_TEST

START_TEST(stats_quantiles_long_values)
{
	/* Latencies of a long overloaded run: 1 h to 3 h, evenly spread. Every
	 * percentile must stay within 1/128 of the exact one; a histogram whose
	 * range ended at 36.6 min reported them all as one value (1 h here,
	 * its top bucket's middle clamped to the minimum). */
	static struct asim_hist h;
	asim_hist_init(&h);
	const int n = 100000;
	const double lo = 3600e9, span = 7200e9;
	for (int i = 1; i <= n; i++)
		asim_hist_record(&h, (int64_t)(lo + span * i / n));
	static const double qs[] = {0.001, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double exact = (double)(int64_t)(lo + span * ceil(qs[i] * n) / n);
		int64_t got = asim_hist_quantile(&h, qs[i]);
		ck_assert_msg(fabs((double)got - exact) <= exact / 128.0, "q %g: got %lld, exact %.0f",
		              qs[i], (long long)got, exact);
	}
	/* And the longest run a scenario allows (366 days) is still resolved. */
	check_bound((int64_t)366 * 24 * 3600 * 1000000000);
}
END_TEST

START_TEST(stats_quantiles_small_exact)
{
	/* Below 128 every value has its own bucket, so nearest rank is exact. */
	static struct asim_hist h;
	asim_hist_init(&h);
	for (int i = 1; i <= 100; i++)
		asim_hist_record(&h, i);
	ck_assert_int_eq(asim_hist_quantile(&h, 0.5), 50);
	ck_assert_int_eq(asim_hist_quantile(&h, 0.95), 95);
	ck_assert_int_eq(asim_hist_quantile(&h, 0.99), 99);
	ck_assert_int_eq(asim_hist_quantile(&h, 0.001), 1);
	ck_assert_int_eq(asim_hist_quantile(&h, 0.951), 96);
}
END_TEST

START_TEST(stats_quantile_clamped)
{
	/* One value in a wide bucket: the midpoint would miss it; the clamp to
	 * [min, max] reports it exactly. */
	static struct asim_hist h;
	asim_hist_init(&h);
	asim_hist_record(&h, 1000001);
	ck_assert_int_eq(asim_hist_quantile(&h, 0.5), 1000001);
	ck_assert_int_eq(asim_hist_quantile(&h, 0.99), 1000001);
}
END_TEST

START_TEST(stats_merge_equals_single)
{
	static struct asim_hist a, b, all;
	asim_hist_init(&a);
	asim_hist_init(&b);
	asim_hist_init(&all);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 7);
	for (int i = 0; i < 50000; i++) {
		int64_t v = (int64_t)(gsl_rng_uniform(r) * 1e9);
		asim_hist_record(i % 3 ? &a : &b, v);
		asim_hist_record(&all, v);
	}
	gsl_rng_free(r);
	asim_hist_merge(&a, &b);
	ck_assert_uint_eq(a.count, all.count);
	ck_assert_int_eq(a.min, all.min);
	ck_assert_int_eq(a.max, all.max);
	ck_assert_double_eq_tol(a.sum, all.sum, all.sum * 1e-12);
	for (size_t i = 0; i < ASIM_HIST_BUCKETS; i++)
		ck_assert_uint_eq(a.bucket[i], all.bucket[i]);
	/* Merging an empty histogram changes nothing, min included. */
	static struct asim_hist empty;
	asim_hist_init(&empty);
	asim_hist_merge(&a, &empty);
	ck_assert_int_eq(a.min, all.min);
	asim_hist_merge(&empty, &all);
	ck_assert_int_eq(empty.min, all.min);
	ck_assert_int_eq(asim_hist_quantile(&empty, 0.99), asim_hist_quantile(&all, 0.99));
}
END_TEST

START_TEST(stats_empty)
{
	static struct asim_hist h;
	asim_hist_init(&h);
	ck_assert_uint_eq(h.count, 0);
	ck_assert_int_eq(h.min, INT64_MAX);
	ck_assert_int_eq(asim_hist_quantile(&h, 0), 0);
	ck_assert_int_eq(asim_hist_quantile(&h, 0.5), 0);
	ck_assert_int_eq(asim_hist_quantile(&h, 1), 0);
	ck_assert_double_eq(asim_hist_mean(&h), 0);
}
END_TEST

/* A histogram set up in zeroed memory is the same, byte for byte, as one
 * set up by asim_hist_init over memory that held anything. */
START_TEST(stats_init_zeroed_same_as_init)
{
	struct asim_hist *zeroed = calloc(1, sizeof *zeroed);
	struct asim_hist *dirty = malloc(sizeof *dirty);
	ck_assert_ptr_nonnull(zeroed);
	ck_assert_ptr_nonnull(dirty);
	memset(dirty, 0xa5, sizeof *dirty);
	asim_hist_init_zeroed(zeroed);
	asim_hist_init(dirty);
	ck_assert_int_eq(memcmp(zeroed, dirty, sizeof *zeroed), 0);
	asim_hist_record(zeroed, 1234);
	asim_hist_record(dirty, 1234);
	ck_assert_int_eq(memcmp(zeroed, dirty, sizeof *zeroed), 0);
	free(zeroed);
	free(dirty);
}
END_TEST

START_TEST(stats_negative_and_huge)
{
	static struct asim_hist h;
	asim_hist_init(&h);
	asim_hist_record(&h, -42);
	ck_assert_int_eq(h.min, 0);
	ck_assert_int_eq(h.max, 0);
	ck_assert_uint_eq(h.bucket[0], 1);
	asim_hist_record(&h, INT64_MAX);
	asim_hist_record(&h, (int64_t)1 << ASIM_HIST_MAX_BITS);
	ck_assert_uint_eq(h.bucket[ASIM_HIST_BUCKETS - 1], 2);
	ck_assert_int_eq(h.max, INT64_MAX);
	ck_assert_int_eq(asim_hist_quantile(&h, 1), INT64_MAX);
	ck_assert_int_eq(asim_hist_quantile(&h, 0), 0);
	/* The top bucket reports a value inside [min, max]. */
	int64_t p = asim_hist_quantile(&h, 0.9);
	ck_assert(p >= 0);
}
END_TEST

/* The one latency set every report uses: p50..p999, max and mean, in ms. */
START_TEST(stats_hist_report_full_set)
{
	static const char *const keys[] = {"p50", "p90", "p95", "p99", "p999", "max", "mean"};
	struct asim_hist h;
	asim_hist_init(&h);
	for (int64_t v = 1; v <= 100; v++)
		asim_hist_record(&h, v * ASIM_MS);
	struct asim_results r;
	asim_results_init(&r);
	asim_hist_report(&r, &h, "components.%s.latency_ms", "api");
	ck_assert_uint_eq(r.n, sizeof keys / sizeof keys[0]);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char path[64];
		snprintf(path, sizeof path, "components.api.latency_ms.%s", keys[i]);
		ck_assert_msg(asim_results_get(&r, path) != NULL, "%s missing", path);
	}
	ck_assert_double_eq(asim_results_num(&r, "components.api.latency_ms.max", 0), 100);
	ck_assert_double_eq(asim_results_num(&r, "components.api.latency_ms.mean", 0), 50.5);
	asim_results_finish(&r);
}
END_TEST

START_TEST(stats_tw_step)
{
	struct asim_tw tw;
	asim_tw_init(&tw, 0, 2);
	ck_assert_double_eq(asim_tw_mean(&tw, 0), 2);
	asim_tw_set(&tw, 10, 4);     /* 2 for 10 ns */
	asim_tw_add(&tw, 30, -4);    /* 4 for 20 ns */
	asim_tw_set(&tw, 30, 1);     /* no time at 0 */
	/* 1 for 10 ns: (20 + 80 + 10) / 40 */
	ck_assert_double_eq_tol(asim_tw_mean(&tw, 40), 110.0 / 40.0, 1e-12);
	ck_assert_double_eq(tw.max, 4);
	/* After a reset only the current level counts. */
	asim_tw_reset(&tw, 40);
	ck_assert_double_eq(tw.max, 1);
	ck_assert_double_eq(asim_tw_mean(&tw, 40), 1);
	asim_tw_set(&tw, 50, 3);
	ck_assert_double_eq_tol(asim_tw_mean(&tw, 60), 2.0, 1e-12);
	ck_assert_double_eq(tw.max, 3);
	ck_assert_int_eq(tw.start, 40);
}
END_TEST

START_TEST(stats_ci95_known)
{
	/* mean 3, sample sd sqrt(2.5), t(0.975, 4) = 2.7764451051977987:
	 * half-width 2.7764451051977987 * sqrt(2.5 / 5) = 1.9632432... */
	static const double v[] = { 1, 2, 3, 4, 5 };
	double m, hw;
	asim_ci95(v, 5, &m, &hw);
	ck_assert_double_eq_tol(m, 3.0, 1e-12);
	ck_assert_double_eq_tol(hw, 2.7764451051977987 * sqrt(0.5), 1e-9);
	/* Two values: t(0.975, 1) = 12.706204736174698, sd = |a - b| / sqrt 2. */
	static const double w[] = { 10, 12 };
	asim_ci95(w, 2, &m, &hw);
	ck_assert_double_eq_tol(m, 11.0, 1e-12);
	ck_assert_double_eq_tol(hw, 12.706204736174698 * sqrt(2.0) / sqrt(2.0), 1e-9);
	/* Identical values have no spread. */
	static const double c[] = { 7, 7, 7 };
	asim_ci95(c, 3, &m, &hw);
	ck_assert_double_eq_tol(m, 7, 1e-12);
	ck_assert_double_eq_tol(hw, 0, 1e-12);
}
END_TEST

START_TEST(stats_ci95_degenerate)
{
	double m = -1, hw = -1;
	static const double one[] = { 42.5 };
	asim_ci95(one, 1, &m, &hw);
	ck_assert_double_eq(m, 42.5);
	ck_assert_double_eq(hw, 0);
	m = -1;
	hw = -1;
	asim_ci95(NULL, 0, &m, &hw);
	ck_assert_double_eq(m, 0);
	ck_assert_double_eq(hw, 0);
}
END_TEST

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, stats_bucket_bound_table);
	tcase_add_test(tc, stats_bucket_bound_random);
	tcase_add_test(tc, stats_bucket_layout);
	tcase_add_test(tc, stats_quantiles_known);
	tcase_add_test(tc, stats_quantiles_long_values);
	tcase_add_test(tc, stats_quantiles_small_exact);
	tcase_add_test(tc, stats_quantile_clamped);
	tcase_add_test(tc, stats_merge_equals_single);
	tcase_add_test(tc, stats_empty);
	tcase_add_test(tc, stats_init_zeroed_same_as_init);
	tcase_add_test(tc, stats_negative_and_huge);
	tcase_add_test(tc, stats_hist_report_full_set);
	tcase_add_test(tc, stats_tw_step);
	tcase_add_test(tc, stats_ci95_known);
	tcase_add_test(tc, stats_ci95_degenerate);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
