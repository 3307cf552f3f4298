/* Replications, time series, compare and plots: confidence intervals cover
 * a known truth at about their nominal rate, parallel runs equal serial
 * ones, a clearly better design is found better, compare's exit codes, the
 * series files (written as the windows complete, in memory that does not
 * grow with the run), recovery judged online against its whole-series
 * definition, and (when gnuplot is on PATH) the plot files. */
#include <check.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "plot.h"
#include "recovery.h"
#include "replicate.h"
#include "series.h"
#include "tmpdir.h"

static struct asim_scenario *load(const char *path, const struct asim_overrides *ov)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s = asim_scenario_load(path, ov, &d);
	asim_diag_print(&d, stderr);
	asim_diag_finish(&d);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void replicate(const struct asim_scenario *s, uint32_t jobs, struct asim_series *ser,
                      struct asim_results *r)
{
	struct asim_diag d;
	asim_diag_init(&d);
	asim_results_init(r);
	ck_assert_int_eq(asim_replicate(s, jobs, ser, r, &d), ASIM_RUN_DONE);
	ck_assert_uint_eq(asim_diag_count(&d), 0);
	ck_assert(!r->oom);
	asim_diag_finish(&d);
}

/* A Poisson client: its offered rate over the measured time has mean
 * exactly the configured rate, whatever happens downstream. */
static const char poisson_yaml[] =
	"name: poisson\n"
	"duration: 5s\n"
	"replications: 10\n"
	"components:\n"
	"  users: {kind: client, rate: 100/s, target: api}\n"
	"  api: {kind: service, instances: 1, concurrency: 64, service_time: 1ms}\n";

START_TEST(replicate_ci_covers_the_true_rate)
{
	make_tmpdir("asim-rep");
	const char *path = write_file("poisson.yaml", poisson_yaml);
	int covered = 0, cases = 200;
	for (int seed = 1; seed <= cases; seed++) {
		struct asim_overrides ov = {.has_seed = true, .seed = (uint64_t)seed};
		struct asim_scenario *s = load(path, &ov);
		struct asim_results r;
		replicate(s, 1, NULL, &r);
		const struct asim_value *v = asim_results_get(&r, "offered_rps");
		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq(v->kind, ASIM_VAL_CI);
		ck_assert(v->lo <= v->num && v->num <= v->hi);
		covered += v->lo <= 100.0 && 100.0 <= v->hi;
		ck_assert_double_eq(asim_results_num(&r, "replications", 0), 10);
		asim_results_finish(&r);
		asim_scenario_free(s);
	}
	double share = (double)covered / cases;
	fprintf(stderr, "replicate: the 95%% interval covered the true rate in %d of %d cases\n",
	        covered, cases);
	ck_assert_msg(share >= 0.88 && share <= 0.99, "coverage %.3f outside [0.88, 0.99]", share);
	remove_tree();
}
END_TEST

static char *json_of(const struct asim_results *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert(asim_results_write_json(r, f));
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static const char queue_yaml[] =
	"name: mm1\n"
	"seed: 7\n"
	"duration: 20s\n"
	"warmup: 2s\n"
	"components:\n"
	"  users: {kind: client, rate: 800/s, mix: {read: 0.7, write: 0.3}, target: api}\n"
	"  api: {kind: service, instances: %d, service_time: {dist: exponential, mean: 1ms}}\n"
	"slo: {p95: %s, availability: 99%%}\n";

static const char *queue_file(const char *name, int servers, const char *p95)
{
	char text[1024];
	snprintf(text, sizeof text, queue_yaml, servers, p95);
	return write_file(name, text);
}

START_TEST(replicate_parallel_equals_serial)
{
	make_tmpdir("asim-rep");
	struct asim_overrides ov = {.replications = 6};
	struct asim_scenario *s = load(queue_file("q.yaml", 1, "50ms"), &ov);
	struct asim_results a, b, c;
	replicate(s, 1, NULL, &a);
	replicate(s, 4, NULL, &b);
	replicate(s, 16, NULL, &c);
	char *ja = json_of(&a), *jb = json_of(&b), *jc = json_of(&c);
	ck_assert_str_eq(ja, jb);
	ck_assert_str_eq(ja, jc);
	/* Settings stay plain; figures carry intervals; strings come through. */
	ck_assert_int_eq(asim_results_get(&a, "seed")->kind, ASIM_VAL_COUNT);
	ck_assert_int_eq(asim_results_get(&a, "latency_ms.p95")->kind, ASIM_VAL_CI);
	ck_assert_str_eq(asim_results_get(&a, "scenario")->str, "mm1");
	ck_assert_ptr_nonnull(strstr(ja, "\"ci95\": ["));
	free(ja);
	free(jb);
	free(jc);
	asim_results_finish(&a);
	asim_results_finish(&b);
	asim_results_finish(&c);
	asim_scenario_free(s);
	remove_tree();
}
END_TEST

/* Rule: a q-percentile of n samples is flagged when n * (1 - q) < 10. */
START_TEST(replicate_flags_low_sample_percentiles)
{
	struct asim_results r;
	asim_results_init(&r);
	asim_results_count(&r, 5000, "succeeded");
	asim_results_real(&r, 1, "latency_ms.p99");
	asim_results_real(&r, 2, "latency_ms.p999");
	asim_results_count(&r, 500, "operations.write.succeeded");
	asim_results_real(&r, 1, "operations.write.latency_ms.p95");
	asim_results_real(&r, 1, "operations.write.latency_ms.p99");
	asim_replicate_flag_low_samples(&r);
	ck_assert_ptr_null(asim_results_get(&r, "latency_ms.p99_low_samples"));
	ck_assert_ptr_nonnull(asim_results_get(&r, "latency_ms.p999_low_samples"));
	ck_assert_ptr_null(asim_results_get(&r, "operations.write.latency_ms.p95_low_samples"));
	ck_assert_ptr_nonnull(asim_results_get(&r, "operations.write.latency_ms.p99_low_samples"));
	asim_results_finish(&r);
}
END_TEST

/* A flag written only when raised becomes the share of all replications
 * where it was (README: booleans become the share of replications where
 * they held), and a list is carried over as a list. */
START_TEST(replicate_aggregate_booleans_as_shares)
{
	struct asim_results reps[4];
	for (int i = 0; i < 4; i++) {
		asim_results_init(&reps[i]);
		/* 5000 succeeded: p999 rests on 5 samples; 20000: on 20. */
		asim_results_count(&reps[i], i < 1 ? 5000 : 20000, "succeeded");
		asim_results_real(&reps[i], 2, "latency_ms.p999");
		asim_results_bool(&reps[i], i != 3, "ok");
		asim_results_list(&reps[i], "slo");
		asim_replicate_flag_low_samples(&reps[i]);
	}
	struct asim_results out;
	asim_results_init(&out);
	asim_replicate_aggregate(reps, 4, &out);
	const struct asim_value *low = asim_results_get(&out, "latency_ms.p999_low_samples");
	ck_assert_ptr_nonnull(low);
	ck_assert_int_eq(low->kind, ASIM_VAL_REAL);
	ck_assert_double_eq(low->num, 0.25);
	ck_assert_double_eq(asim_results_num(&out, "ok", -1), 0.75);
	ck_assert_int_eq(asim_results_get(&out, "slo")->kind, ASIM_VAL_LIST);
	for (int i = 0; i < 4; i++)
		asim_results_finish(&reps[i]);
	asim_results_finish(&out);
}
END_TEST

/* Percentiles come from histogram buckets: when every replication reports
 * the same bucket, the values' spread is 0 but the true percentiles may
 * differ by up to half a bucket each way, so the interval is at least that
 * wide. Exact figures (a mean, a max) keep their plain t interval. */
START_TEST(replicate_percentile_ci_covers_bucket_resolution)
{
	struct asim_results reps[3];
	for (int i = 0; i < 3; i++) {
		asim_results_init(&reps[i]);
		asim_results_real(&reps[i], 12.8, "latency_ms.p99");
		asim_results_real(&reps[i], 12.8, "components.db.latency_ms.p50");
		asim_results_real(&reps[i], 12.8, "latency_ms.max");
	}
	struct asim_results out;
	asim_results_init(&out);
	asim_replicate_aggregate(reps, 3, &out);
	const char *const quantiles[] = {"latency_ms.p99", "components.db.latency_ms.p50"};
	for (int i = 0; i < 2; i++) {
		const struct asim_value *v = asim_results_get(&out, quantiles[i]);
		ck_assert_ptr_nonnull(v);
		ck_assert_double_eq_tol(v->lo, 12.8 - 0.1, 1e-12);
		ck_assert_double_eq_tol(v->hi, 12.8 + 0.1, 1e-12);
	}
	const struct asim_value *max = asim_results_get(&out, "latency_ms.max");
	ck_assert_double_eq(max->lo, 12.8);
	ck_assert_double_eq(max->hi, 12.8);
	ck_assert(asim_hist_quantile_path("p999") && asim_hist_quantile_path("a.b.p95"));
	ck_assert(!asim_hist_quantile_path("latency_ms.mean") && !asim_hist_quantile_path("p9"));
	for (int i = 0; i < 3; i++)
		asim_results_finish(&reps[i]);
	asim_results_finish(&out);
}
END_TEST

/* A replication without a successful request reports 0 ms latency and
 * availability 1 as placeholders; the mean over replications leaves them out.
 * Every request here takes exactly its 100 ms of service (8 servers: none
 * waits), and with 0.9 requests per run on average about 4 in 10 of the 20
 * replications have none (all 20 have one with a chance of 1 in 40,000 on
 * any random stream): left in, their 0 ms would pull the mean latency down
 * to about 60 ms. */
static const char sparse_yaml[] =
	"name: sparse\nseed: 1\nduration: 10s\nwarmup: 1s\nreplications: 20\n"
	"components:\n"
	"  users: {kind: client, rate: 0.1/s, target: api}\n"
	"  api: {kind: service, concurrency: 8, service_time: 100ms}\n";

START_TEST(replicate_placeholders_left_out)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s =
		asim_scenario_load_buffer("sparse.yaml", sparse_yaml, strlen(sparse_yaml), NULL, &d);
	ck_assert_ptr_nonnull(s);
	struct asim_results reps[20];
	for (int i = 0; i < 20; i++)
		asim_results_init(&reps[i]);
	ck_assert_int_eq(asim_replicate_runs(s, 20, 1, NULL, reps, &d), ASIM_RUN_DONE);
	int empty = 0;
	for (int i = 0; i < 20; i++)
		empty += asim_results_num(&reps[i], "succeeded", -1) == 0;
	ck_assert_int_gt(empty, 0);
	struct asim_results out;
	asim_results_init(&out);
	asim_replicate_aggregate(reps, 20, &out);
	static const char *const paths[] = {"latency_ms.p50", "latency_ms.mean", "latency_ms.max",
	                                    "components.api.latency_ms.mean"};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		double v = asim_results_num(&out, paths[i], -1);
		ck_assert_msg(v >= 99.2 && v < 101, "%s %g ms", paths[i], v);
	}
	ck_assert(!asim_results_get(&out, "latency_ms.mean")->unmeasured);
	asim_results_finish(&out);
	/* When no replication measured anything, the placeholder stays. */
	struct asim_results none[2];
	struct asim_hist h;
	asim_hist_init(&h);
	for (int i = 0; i < 2; i++) {
		asim_results_init(&none[i]);
		asim_hist_report(&none[i], &h, "latency_ms");
	}
	asim_results_init(&out);
	asim_replicate_aggregate(none, 2, &out);
	const struct asim_value *v = asim_results_get(&out, "latency_ms.p99");
	ck_assert(v && v->unmeasured && v->num == 0 && v->lo == 0 && v->hi == 0);
	asim_results_finish(&out);
	for (int i = 0; i < 2; i++)
		asim_results_finish(&none[i]);
	for (int i = 0; i < 20; i++)
		asim_results_finish(&reps[i]);
	asim_scenario_free(s);
	asim_diag_finish(&d);
}
END_TEST

static long metric_at(const struct asim_results *r, const char *name)
{
	for (long i = 0;; i++) {
		char path[64];
		snprintf(path, sizeof path, "metrics[%ld].metric", i);
		const struct asim_value *v = asim_results_get(r, path);
		if (!v)
			return -1;
		if (!strcmp(v->str, name))
			return i;
	}
}

static const char *field(const struct asim_results *r, long i, const char *f, double *num,
                         double *lo, double *hi)
{
	char path[64];
	snprintf(path, sizeof path, "metrics[%ld].%s", i, f);
	const struct asim_value *v = asim_results_get(r, path);
	ck_assert_ptr_nonnull(v);
	if (num)
		*num = v->num;
	if (lo)
		*lo = v->lo;
	if (hi)
		*hi = v->hi;
	return v->str;
}

/* A series of 1 s windows, 100 successes each, a fault at 5-8 s with none,
 * and after it none again until back_at (no recovery when past the end). */
static void recovery_of_run(struct asim_results *r, int back_at)
{
	struct asim_series_row rows[20];
	memset(rows, 0, sizeof rows);
	for (int i = 0; i < 20; i++) {
		rows[i].start = i * ASIM_S;
		rows[i].end = (i + 1) * ASIM_S;
		rows[i].succeeded = (i >= 5 && i < back_at) ? 0 : 100;
	}
	struct asim_fault_window f = {.start = 5 * ASIM_S, .end = 8 * ASIM_S, .label = "crash api"};
	struct asim_series ser = {.rows = rows, .nrows = 20, .faults = &f, .nfaults = 1};
	asim_recovery_report(&ser, r);
}

START_TEST(replicate_recovery_of_those_that_recovered)
{
	/* Two replications recover 2 s and 4 s after the fault, one never does
	 * (recovery_s null): the aggregate is the mean of the two, with the
	 * share that recovered beside it, not null. */
	struct asim_results reps[3], out;
	static const int back_at[] = {10, 12, 99};
	for (int i = 0; i < 3; i++) {
		asim_results_init(&reps[i]);
		recovery_of_run(&reps[i], back_at[i]);
	}
	const struct asim_value *v = asim_results_get(&reps[2], "recovery.crash_api.recovery_s");
	ck_assert(v && isnan(v->num) && v->unmeasured);
	asim_results_init(&out);
	asim_replicate_aggregate(reps, 3, &out);
	v = asim_results_get(&out, "recovery.crash_api.recovery_s");
	ck_assert_msg(v && v->kind == ASIM_VAL_CI && fabs(v->num - 3) < 1e-9 && !v->unmeasured,
	              "recovery_s %g", v ? v->num : -1);
	ck_assert(isfinite(v->lo) && isfinite(v->hi) && v->lo < 3 && v->hi > 3);
	ck_assert_double_eq_tol(asim_results_num(&out, "recovery.crash_api.recovered", -1), 2.0 / 3,
	                        1e-9);
	asim_results_finish(&out);
	/* None recovered: it stays null. */
	struct asim_results never[2];
	for (int i = 0; i < 2; i++) {
		asim_results_init(&never[i]);
		recovery_of_run(&never[i], 99);
	}
	asim_results_init(&out);
	asim_replicate_aggregate(never, 2, &out);
	v = asim_results_get(&out, "recovery.crash_api.recovery_s");
	ck_assert(v && isnan(v->num) && v->unmeasured);
	asim_results_finish(&out);
	for (int i = 0; i < 2; i++)
		asim_results_finish(&never[i]);
	for (int i = 0; i < 3; i++)
		asim_results_finish(&reps[i]);
}
END_TEST

START_TEST(replicate_share_intervals_stay_in_range)
{
	/* Availability 1, 1 and 0.4: the Student-t interval of the mean 0.8 is
	 * [-0.06, 1.66]; a share's is clamped to [0, 1]. A figure that is not a
	 * share (throughput) keeps its interval. */
	static const double avail[] = {1, 1, 0.4};
	struct asim_results reps[3], out;
	for (int i = 0; i < 3; i++) {
		asim_results_init(&reps[i]);
		asim_results_real(&reps[i], avail[i], "availability");
		asim_results_real(&reps[i], avail[i], "components.api.utilization");
		asim_results_real(&reps[i], avail[i], "throughput_rps");
	}
	asim_results_init(&out);
	asim_replicate_aggregate(reps, 3, &out);
	static const char *const shares[] = {"availability", "components.api.utilization"};
	for (int i = 0; i < 2; i++) {
		const struct asim_value *v = asim_results_get(&out, shares[i]);
		ck_assert_msg(v && v->kind == ASIM_VAL_CI && fabs(v->num - 0.8) < 1e-9 && v->lo == 0 &&
		                  v->hi == 1,
		              "%s %g [%g, %g]", shares[i], v ? v->num : -1, v ? v->lo : -1, v ? v->hi : -1);
	}
	const struct asim_value *t = asim_results_get(&out, "throughput_rps");
	ck_assert(t && t->lo < -0.05 && t->hi > 1.6);
	asim_results_finish(&out);
	for (int i = 0; i < 3; i++)
		asim_results_finish(&reps[i]);
}
END_TEST

START_TEST(compare_more_servers_is_better)
{
	make_tmpdir("asim-rep");
	struct asim_scenario *base = load(queue_file("base.yaml", 1, "50ms"), NULL);
	struct asim_overrides ov = {.has_seed = true, .seed = base->seed};
	struct asim_scenario *cand = load(queue_file("cand.yaml", 2, "50ms"), &ov);
	struct asim_threshold t[ASIM_MAX_THRESHOLDS];
	char err[256];
	int nt = asim_thresholds_parse(ASIM_DEFAULT_THRESHOLDS, t, err, sizeof err);
	ck_assert_int_eq(nt, 3);
	struct asim_results r;
	asim_results_init(&r);
	struct asim_diag d;
	asim_diag_init(&d);
	bool ok = false;
	ck_assert(asim_compare(base, cand, 10, 2, t, nt, &r, &ok, &d));
	ck_assert(ok);
	static const char *const lower[] = {"p50", "p95", "p99", "latency_mean"};
	for (size_t j = 0; j < 4; j++) {
		long i = metric_at(&r, lower[j]);
		ck_assert_int_ge(i, 0);
		double mean, lo, hi;
		field(&r, i, "difference", &mean, &lo, &hi);
		ck_assert_msg(mean < 0 && hi < 0, "%s: difference %g [%g, %g]", lower[j], mean, lo, hi);
		ck_assert_str_eq(field(&r, i, "verdict", NULL, NULL, NULL), "better");
	}
	/* The same design against itself: every difference is exactly 0, and
	 * its interval only the two sides' bucket resolution (a p99 of v may
	 * be off by v/128 on each side). */
	struct asim_results same;
	asim_results_init(&same);
	ck_assert(asim_compare(base, base, 5, 1, t, nt, &same, &ok, &d));
	ck_assert(ok);
	long i = metric_at(&same, "p99");
	double mean, lo, hi, p99;
	field(&same, i, "difference", &mean, &lo, &hi);
	field(&same, i, "base", &p99, NULL, NULL);
	ck_assert(mean == 0 && lo == -hi);
	ck_assert_double_eq_tol(hi, 2 * p99 / 128, 1e-12);
	ck_assert_str_eq(field(&same, i, "verdict", NULL, NULL, NULL), "no significant difference");
	asim_results_finish(&same);
	asim_diag_finish(&d);
	asim_results_finish(&r);
	asim_scenario_free(cand);
	asim_scenario_free(base);
	remove_tree();
}
END_TEST

static int compare_cli(const char *a, const char *b, const char *extra)
{
	char out[512];
	snprintf(out, sizeof out, "%s/report.json", tmpdir);
	char *argv[] = {"compare", (char *)a, (char *)b, "--reps", "5", "--format", "json", "-o", out,
	                extra ? (char *)extra : NULL, NULL};
	int argc = extra ? 10 : 9;
	optind = 1;
	return asim_compare_main(argc, argv);
}

START_TEST(compare_exit_codes)
{
	make_tmpdir("asim-rep");
	const char *one = queue_file("one.yaml", 1, "50ms");
	const char *two = queue_file("two.yaml", 2, "50ms");
	const char *strict = queue_file("strict.yaml", 2, "100us");
	ck_assert_int_eq(compare_cli(one, two, NULL), 0);  /* better */
	ck_assert_int_eq(compare_cli(two, one, NULL), 1);  /* p95 much worse */
	ck_assert_int_eq(compare_cli(two, one, "--max-regression=p95=100000%,p99=100000%"), 0);
	ck_assert_int_eq(compare_cli(one, strict, NULL), 1); /* better, but breaks its SLO */
	ck_assert_int_eq(compare_cli(one, two, "--max-regression=p42=5%"), 2);
	ck_assert_int_eq(compare_cli(one, two, "--format=yaml"), 2);
	remove_tree();
}
END_TEST

static size_t read_lines(const char *path, char *first, size_t len)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char line[4096];
	size_t n = 0;
	while (fgets(line, sizeof line, f)) {
		if (n == 0)
			snprintf(first, len, "%s", line);
		n++;
	}
	fclose(f);
	return n;
}

/* Runs yaml_path as `run --out dir` does: series.csv streamed into dir. */
static void run_series(const char *yaml_path, const char *dir, struct asim_series *ser,
                       struct asim_results *r)
{
	struct asim_scenario *s = load(yaml_path, NULL);
	asim_series_init(ser);
	asim_series_out(ser, dir);
	replicate(s, 2, ser, r);
	asim_scenario_free(s);
}

/* The number of data rows of series.csv at path whose warmup column is 1. */
static size_t warm_rows(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char line[4096];
	size_t n = 0;
	while (fgets(line, sizeof line, f)) {
		const char *c = strchr(line, ',');
		c = c ? strchr(c + 1, ',') : NULL;
		n += c && c[1] == '1' && c[2] == ',';
	}
	fclose(f);
	return n;
}

START_TEST(series_rows_and_headers)
{
	make_tmpdir("asim-rep");
	/* 20 s in 500 ms windows: 40 rows, the first 4 (2 s) of warm-up. */
	char text[1024];
	snprintf(text, sizeof text, queue_yaml, 1, "50ms");
	strcat(text, "window: 500ms\n");
	const char *path = write_file("w.yaml", text);
	struct asim_series ser;
	struct asim_results r;
	char dir[512];
	snprintf(dir, sizeof dir, "%s/out", tmpdir);
	run_series(path, dir, &ser, &r);
	/* The rows went to disk, none stayed in memory. */
	ck_assert_uint_eq(ser.windows, 40);
	ck_assert_uint_eq(ser.nrows, 0);
	ck_assert(asim_series_write(&ser, &r));
	char p[600], first[4096];
	snprintf(p, sizeof p, "%s/series.csv", dir);
	ck_assert_uint_eq(read_lines(p, first, sizeof first), 41);
	ck_assert_uint_eq(warm_rows(p), 4);
	ck_assert_str_eq(first, "t_start_s,t_end_s,warmup,offered_rps,succeeded_rps,rejected_rps,"
	                        "failed_rps,retries_rps,availability,p50_ms,p95_ms,p99_ms,api.queue,"
	                        "api.busy\n");
	snprintf(p, sizeof p, "%s/cdf.csv", dir);
	ck_assert_uint_gt(read_lines(p, first, sizeof first), 10);
	ck_assert_str_eq(first, "latency_ms,fraction\n");
	snprintf(p, sizeof p, "%s/faults.csv", dir);
	ck_assert_uint_eq(read_lines(p, first, sizeof first), 1);
	ck_assert_str_eq(first, "start_s,end_s,label\n");
	snprintf(p, sizeof p, "%s/results.json", dir);
	ck_assert_uint_gt(read_lines(p, first, sizeof first), 10);

	/* Stepping window by window changes nothing in the results. */
	struct asim_scenario *s = load(path, NULL);
	struct asim_results plain;
	replicate(s, 1, NULL, &plain);
	char *ja = json_of(&r), *jb = json_of(&plain);
	ck_assert_str_eq(ja, jb);
	free(ja);
	free(jb);
	asim_results_finish(&plain);
	asim_scenario_free(s);
	asim_results_finish(&r);
	asim_series_finish(&ser);
	remove_tree();
}
END_TEST

/* ---- recovery judged online, against the whole-series definition ---- */

/* xorshift64: the cases below are the same on every run. */
static uint64_t next_u64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int64_t pick(uint64_t *x, int64_t n)
{
	return (int64_t)(next_u64(x) % (uint64_t)n);
}

/* How many verdicts of each kind the cases reached: not judged, recovered,
 * metastable, and neither (the run ended too soon after the fault). */
static size_t verdicts[4];

static void same_verdict(struct asim_recovery a, struct asim_recovery b, const char *name,
                         size_t k, const struct asim_fault_window *f, asim_time end)
{
	verdicts[!a.judged ? 0 : a.recovered ? 1 : a.metastable ? 2 : 3]++;
	bool same = a.judged == b.judged && a.recovered == b.recovered &&
	            a.metastable == b.metastable && a.baseline_rps == b.baseline_rps &&
	            (a.recovery_s == b.recovery_s || (isnan(a.recovery_s) && isnan(b.recovery_s)));
	ck_assert_msg(same,
	              "%s, %zu rows, fault %lld-%lld ns (end %lld): whole series judged %d "
	              "baseline %.17g recovered %d after %g s metastable %d; online judged %d "
	              "baseline %.17g recovered %d after %g s metastable %d",
	              name, k, (long long)f->start, (long long)f->end, (long long)end, a.judged,
	              a.baseline_rps, a.recovered, a.recovery_s, a.metastable, b.judged,
	              b.baseline_rps, b.recovered, b.recovery_s, b.metastable);
}

/* Feeds rows to an online judge one at a time and, after each, holds its
 * verdict on every window to asim_recovery_of's on the rows so far: the
 * run may end after any row. It ends where the runner's clock stopped, at
 * the last window's end or (stopped early) inside the next window, and the
 * windows are then clipped there as asim_faults_windows clips them (a
 * window starting later is dropped), while the judge was given them
 * clipped to the full duration. */
static void check_online(const struct asim_series_row *rows, size_t n,
                         const struct asim_fault_window *f, size_t nf, const char *name)
{
	struct asim_recovery_judge *j = asim_recovery_judge_create(f, nf);
	ck_assert_ptr_nonnull(j);
	for (size_t k = 0; k <= n; k++) {
		if (k)
			asim_recovery_judge_row(j, &rows[k - 1]);
		asim_time stops[2] = {k ? rows[k - 1].end : 0,
		                      k < n ? rows[k].start + (rows[k].end - rows[k].start) / 2
		                            : rows[n - 1].end};
		for (size_t s = 0; s < 2; s++) {
			for (size_t i = 0; i < nf; i++) {
				if (f[i].start >= stops[s])
					continue;
				asim_time end = f[i].end < stops[s] ? f[i].end : stops[s];
				same_verdict(asim_recovery_of(rows, k, f[i].start, end),
				             asim_recovery_judge_verdict(j, f[i].start, end), name, k, &f[i],
				             end);
			}
		}
	}
	asim_recovery_judge_destroy(j);
}

/* Rows of window w over duration (the last one shorter when w does not
 * divide it), warm-up flagged as the runner flags it (the window began
 * before warmup), goodput from good[]: one value per row, repeated from
 * the last when good is shorter. */
static size_t make_rows(struct asim_series_row *rows, asim_time w, asim_time duration,
                        asim_time warmup, const double *good, size_t ngood)
{
	size_t n = 0;
	for (asim_time t = 0; t < duration; t += w, n++) {
		memset(&rows[n], 0, sizeof rows[n]);
		rows[n].start = t;
		rows[n].end = duration - t > w ? t + w : duration;
		rows[n].warmup = t < warmup;
		rows[n].succeeded = good[n < ngood ? n : ngood - 1];
	}
	return n;
}

#define S(x) ((asim_time)((x) * (double)ASIM_S))

START_TEST(recovery_online_equals_whole_series)
{
	static struct asim_series_row rows[2000];
	double good[2000];
	/* Hand-made edge cases: 1 s windows over 200 s, 100 rps, then a
	 * pattern. */
	{
		for (size_t i = 0; i < 200; i++)
			good[i] = 100;
		/* Down from 60 s to 95 s, back to exactly the threshold (90 of a
		 * 100 baseline) for 2 windows, down again, back for good at
		 * 100 s; down at 150 s and never back; the run's last 2 windows
		 * at 100 again: the run ends during the hold. */
		for (size_t i = 60; i < 95; i++)
			good[i] = 0;
		good[95] = good[96] = 90;
		good[97] = 89.999;
		for (size_t i = 150; i < 198; i++)
			good[i] = 5;
		size_t n = make_rows(rows, S(1), S(200), S(10), good, 200);
		const struct asim_fault_window f[] = {
			{.start = 0, .end = S(5)},             /* at time 0: no baseline */
			{.start = S(3), .end = S(12)},         /* during warm-up: none measured */
			{.start = S(12), .end = S(15)},        /* a baseline of 2 windows only */
			{.start = S(60), .end = S(90)},        /* overlapping, one start... */
			{.start = S(60), .end = S(70)},        /* ...three ends */
			{.start = S(60), .end = S(90)},        /* the same window twice */
			{.start = S(65), .end = S(93.5)},      /* inside the others, unaligned */
			{.start = S(61.3), .end = S(64.05)},   /* neither edge on a window edge */
			{.start = S(99), .end = S(99)},        /* no length */
			{.start = S(150), .end = S(155)},      /* never back: metastable */
			{.start = S(190), .end = S(196)},      /* back in the last 2 windows */
			{.start = S(170), .end = S(200)},      /* to the end of the run */
		};
		check_online(rows, n, f, sizeof f / sizeof f[0], "hand-made");
		/* A window the judge was not given gets no verdict: another end,
		 * with rows after it, or another start. */
		struct asim_recovery_judge *j = asim_recovery_judge_create(f, sizeof f / sizeof f[0]);
		ck_assert_ptr_nonnull(j);
		for (size_t i = 0; i < n; i++)
			asim_recovery_judge_row(j, &rows[i]);
		ck_assert(asim_recovery_judge_verdict(j, S(60), S(90)).judged);
		ck_assert(!asim_recovery_judge_verdict(j, S(60), S(80)).judged);
		ck_assert(!asim_recovery_judge_verdict(j, S(61), S(90)).judged);
		asim_recovery_judge_destroy(j);
	}
	/* A zero baseline: every window reaches 90% of it. */
	{
		for (size_t i = 0; i < 100; i++)
			good[i] = i < 70 ? 0 : 50;
		size_t n = make_rows(rows, S(1), S(100), 0, good, 100);
		const struct asim_fault_window f[] = {{.start = S(40), .end = S(50)}};
		check_online(rows, n, f, 1, "zero baseline");
	}
	/* Random cases: windows that do not divide the run, warm-ups, runs of
	 * good and bad windows of every length, and overlapping faults at any
	 * millisecond. */
	uint64_t x = 0x9e3779b97f4a7c15u;
	static const asim_time windows[] = {ASIM_S / 4, 7 * ASIM_S / 10, ASIM_S, 5 * ASIM_S / 2};
	for (int c = 0; c < 300; c++) {
		asim_time w = windows[pick(&x, 4)];
		asim_time duration = S(30) + pick(&x, 300000) * ASIM_MS;
		if (duration / w >= (asim_time)(sizeof rows / sizeof rows[0]))
			duration = w * 1999;
		asim_time warmup = pick(&x, 3) ? pick(&x, 60000) * ASIM_MS : 0;
		size_t ng = (size_t)(duration / w) + 1;
		bool up = true;
		for (size_t i = 0; i < ng; i++) {
			if (pick(&x, 8) == 0)
				up = !up;
			good[i] = up ? (double)(85 + pick(&x, 30)) : (double)pick(&x, 95);
		}
		size_t n = make_rows(rows, w, duration, warmup, good, ng);
		struct asim_fault_window f[8];
		size_t nf = 1 + (size_t)pick(&x, 8);
		for (size_t i = 0; i < nf; i++) {
			f[i].start = pick(&x, 3) ? pick(&x, duration / ASIM_MS) * ASIM_MS
			                         : pick(&x, (int64_t)n) * w; /* on a window edge */
			asim_time len = pick(&x, 60000) * ASIM_MS;
			f[i].end = duration - f[i].start > len ? f[i].start + len : duration;
		}
		char name[32];
		snprintf(name, sizeof name, "random case %d", c);
		check_online(rows, n, f, nf, name);
	}
	for (size_t i = 0; i < 4; i++)
		ck_assert_msg(verdicts[i] > 0, "no verdict of kind %zu was reached", i);
}
END_TEST

#undef S

/* The fault scenario of series_out_stays_flat. */
static const char flat_yaml[] =
	"name: flat\n"
	"duration: 200s\n"
	"components:\n"
	"  users: {kind: client, rate: 50/s, target: api}\n"
	"  api: {kind: service, instances: 2, service_time: 2ms}\n"
	"faults:\n"
	"  - {kind: crash, component: api, instances: 1, at: 70s, for: 10s}\n"
	"  - {kind: slow, component: api, factor: 3, at: 120s, for: 20s}\n";

static size_t entries(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	unsigned long n = 0;
	ck_assert_int_eq(fscanf(p, "%lu", &n), 1);
	pclose(p);
	return n;
}

/* `run --out` at 200 s and 2000 s of a faulted scenario, through
 * asim_replicate as the CLI calls it: series.csv gets every window, the
 * series holds no row and the same bytes at both lengths, and nothing
 * takes a final name before asim_series_write. */
START_TEST(series_out_stays_flat)
{
	make_tmpdir("asim-rep");
	const char *path = write_file("flat.yaml", flat_yaml);
	static const char *const durations[] = {"200s", "2000s"};
	static const size_t secs[] = {200, 2000};
	size_t bytes[2];
	char dir[512], p[600], first[4096];
	for (size_t i = 0; i < 2; i++) {
		struct asim_overrides ov = {.duration = durations[i]};
		struct asim_scenario *s = load(path, &ov);
		snprintf(dir, sizeof dir, "%s/out%zu", tmpdir, i);
		struct asim_series ser;
		asim_series_init(&ser);
		asim_series_out(&ser, dir);
		struct asim_results r;
		replicate(s, 1, &ser, &r);
		ck_assert_uint_eq(ser.windows, secs[i]);
		ck_assert_msg(ser.nrows == 0 && ser.cap == 0, "%s: %zu rows held", durations[i],
		              ser.nrows);
		bytes[i] = asim_series_bytes(&ser);
		ck_assert(asim_results_get(&r, "recovery.slow_api_x3.recovered"));
		/* Only the temporary file so far. */
		snprintf(p, sizeof p, "%s/series.csv", dir);
		ck_assert_int_ne(access(p, F_OK), 0);
		ck_assert_uint_eq(entries(dir), 1);
		ck_assert(asim_series_write(&ser, &r));
		ck_assert_uint_eq(read_lines(p, first, sizeof first), secs[i] + 1);
		ck_assert_uint_eq(entries(dir), 4);
		asim_results_finish(&r);
		asim_series_finish(&ser);
		asim_scenario_free(s);
	}
	ck_assert_msg(bytes[0] == bytes[1], "the series holds %zu bytes after 200 s, %zu after 2000 s",
	              bytes[0], bytes[1]);

	/* A run that is not written out (it failed) leaves no file and not the
	 * directory made for it; a file already there is left as it was. */
	struct asim_scenario *s = load(path, NULL);
	for (int existing = 0; existing < 2; existing++) {
		snprintf(dir, sizeof dir, "%s/failed%d", tmpdir, existing);
		snprintf(p, sizeof p, "%s/series.csv", dir);
		if (existing) {
			ck_assert_int_eq(mkdir(dir, 0777), 0);
			write_file("failed1/series.csv", "old\n");
		}
		struct asim_series ser;
		asim_series_init(&ser);
		asim_series_out(&ser, dir);
		struct asim_results r;
		replicate(s, 1, &ser, &r);
		asim_results_finish(&r);
		asim_series_finish(&ser);
		if (!existing) {
			ck_assert_int_ne(access(dir, F_OK), 0);
			continue;
		}
		ck_assert_uint_eq(entries(dir), 1);
		ck_assert_uint_eq(read_lines(p, first, sizeof first), 1);
		ck_assert_str_eq(first, "old\n");
	}
	asim_scenario_free(s);
	remove_tree();
}
END_TEST

static bool gnuplot_on_path(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

START_TEST(plot_smoke)
{
	if (!gnuplot_on_path()) {
		fprintf(stderr, "plot_smoke: gnuplot is not on PATH, skipped\n");
		return;
	}
	make_tmpdir("asim-rep");
	char text[1024];
	snprintf(text, sizeof text, queue_yaml, 1, "50ms");
	const char *path = write_file("p.yaml", text);
	struct asim_series ser;
	struct asim_results r;
	char dir[512];
	snprintf(dir, sizeof dir, "%s/plots", tmpdir);
	run_series(path, dir, &ser, &r);
	ck_assert(asim_series_write(&ser, &r));
	/* A fault row, as the fault timeline will write them. */
	char faults[600];
	snprintf(faults, sizeof faults, "%s/faults.csv", dir);
	FILE *f = fopen(faults, "w");
	ck_assert_ptr_nonnull(f);
	fputs("start_s,end_s,label\n5,8,zone a lost\n", f);
	fclose(f);
	ck_assert_int_eq(asim_plot_dir(dir), ASIM_PLOT_OK);
	static const char *const names[] = {"latency", "availability", "throughput", "queues", "cdf"};
	for (size_t i = 0; i < 5; i++) {
		for (int e = 0; e < 2; e++) {
			char p[700];
			snprintf(p, sizeof p, "%s/%s.%s", dir, names[i], e ? "svg" : "png");
			struct stat st;
			ck_assert_msg(stat(p, &st) == 0 && st.st_size > 0, "%s missing or empty", p);
		}
	}
	asim_results_finish(&r);
	asim_series_finish(&ser);
	remove_tree();
}
END_TEST

static Suite *replicate_suite(void)
{
	Suite *s = suite_create("replicate");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, replicate_ci_covers_the_true_rate);
	tcase_add_test(tc, replicate_parallel_equals_serial);
	tcase_add_test(tc, replicate_flags_low_sample_percentiles);
	tcase_add_test(tc, replicate_aggregate_booleans_as_shares);
	tcase_add_test(tc, replicate_percentile_ci_covers_bucket_resolution);
	tcase_add_test(tc, replicate_placeholders_left_out);
	tcase_add_test(tc, replicate_recovery_of_those_that_recovered);
	tcase_add_test(tc, replicate_share_intervals_stay_in_range);
	tcase_add_test(tc, compare_more_servers_is_better);
	tcase_add_test(tc, compare_exit_codes);
	tcase_add_test(tc, series_rows_and_headers);
	tcase_add_test(tc, plot_smoke);
	tcase_add_test(tc, recovery_online_equals_whole_series);
	tcase_add_test(tc, series_out_stays_flat);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(replicate_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
