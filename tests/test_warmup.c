/* `warmup: auto` (MSER-5): the truncation rule on series with a known
 * transient, and the pilot on a scenario. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "scenario.h"
#include "warmup.h"

START_TEST(warmup_mser5_finds_transient)
{
	/* 40 windows of a decaying start (50 down to 11), then 360 of noise
	 * around 10: the cut lands at the end of the transient, to the batch. */
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 7);
	double y[400];
	for (size_t i = 0; i < 400; i++)
		y[i] = (i < 40 ? 50.0 - (double)i : 10.0) + gsl_ran_gaussian(r, 0.5);
	size_t cut = asim_mser5(y, 400);
	ck_assert_msg(cut >= 35 && cut <= 45, "cut %zu", cut);
	ck_assert_uint_eq(cut % 5, 0);
	gsl_rng_free(r);
}
END_TEST

START_TEST(warmup_mser5_stationary_keeps_everything)
{
	double y[100];
	for (size_t i = 0; i < 100; i++)
		y[i] = 3.0;
	ck_assert_uint_eq(asim_mser5(y, 100), 0);
	/* Too short to judge: fewer than two batches. */
	ck_assert_uint_eq(asim_mser5(y, 9), 0);
}
END_TEST

START_TEST(warmup_mser5_searches_first_half_only)
{
	/* A series that only settles in its last quarter: the cut stays in
	 * the first half. */
	double y[200];
	for (size_t i = 0; i < 200; i++)
		y[i] = i < 150 ? 100.0 - (double)i * 0.5 : 25.0;
	size_t cut = asim_mser5(y, 200);
	ck_assert_uint_le(cut, 100);
}
END_TEST

START_TEST(warmup_auto_pilot_sets_a_cut)
{
	static const char yaml[] =
		"name: auto\nseed: 3\nduration: 120s\nwarmup: auto\n"
		"components:\n"
		"  users: {kind: client, rate: 800/s, target: s}\n"
		"  s: {kind: service, service_time: {dist: exponential, mean: 1ms}}\n";
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s =
		asim_scenario_load_buffer("auto.yaml", yaml, strlen(yaml), NULL, &d);
	asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(s);
	ck_assert(s->warmup_auto);
	ck_assert_int_lt(s->warmup, 60 * ASIM_S + 1);
	ck_assert_int_eq(s->warmup % s->window, 0);
	struct asim_results r;
	asim_results_init(&r);
	ck_assert_int_eq(asim_scenario_run(s, 0, &r, &d), ASIM_RUN_DONE);
	ck_assert_double_eq_tol(asim_results_num(&r, "warmup_s", -1),
	                        asim_time_to_seconds(s->warmup), 1e-9);
	ck_assert(asim_results_get(&r, "warmup_auto") != NULL);
	asim_results_finish(&r);
	asim_scenario_free(s);
	/* `check` does not run the pilot. */
	struct asim_overrides ov = {.no_pilot = true};
	s = asim_scenario_load_buffer("auto.yaml", yaml, strlen(yaml), &ov, &d);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->warmup, 0);
	asim_scenario_free(s);
	asim_diag_finish(&d);
}
END_TEST

START_TEST(warmup_auto_keeps_faults)
{
	/* The server is twice as slow from 40 s to 50 s: its queue builds up
	 * and takes long to drain. MSER judging the whole pilot took that for
	 * a transient and cut at 60 s, discarding the fault; the cut must come
	 * before it. */
	static const char yaml[] =
		"name: auto-fault\nseed: 3\nduration: 120s\nwarmup: auto\n"
		"components:\n"
		"  users: {kind: client, rate: 800/s, target: s}\n"
		"  s: {kind: service, service_time: {dist: exponential, mean: 1ms}}\n"
		"faults:\n"
		"  - {kind: slow, component: s, factor: 2, at: 40s, for: 10s}\n";
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s =
		asim_scenario_load_buffer("auto-fault.yaml", yaml, strlen(yaml), NULL, &d);
	asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(s->warmup <= 40 * ASIM_S, "warm-up %g s runs into the fault at 40 s",
	              asim_time_to_seconds(s->warmup));
	asim_scenario_free(s);
	asim_diag_finish(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("warmup");
	TCase *tc = tcase_create("mser5");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, warmup_mser5_finds_transient);
	tcase_add_test(tc, warmup_mser5_stationary_keeps_everything);
	tcase_add_test(tc, warmup_mser5_searches_first_half_only);
	tcase_add_test(tc, warmup_auto_pilot_sets_a_cut);
	tcase_add_test(tc, warmup_auto_keeps_faults);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
