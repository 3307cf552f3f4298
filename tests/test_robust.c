/* Robustness: inputs at and beyond every limit, numbers at their edges, runs
 * that run away, and the regressions the fuzzer (tests/fuzz) found in inputs
 * that are valid. Invalid inputs with a fixed first diagnostic live in
 * scenarios/invalid/ instead; this file holds what cannot be committed as a
 * file (a file over 16 MiB) or what must run. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archsim/model.h"
#include "archsim/pool.h"
#include "scenario.h"

static bool under_valgrind(void)
{
	const char *v = getenv("ARCHSIM_VALGRIND");
	return v && *v && strcmp(v, "0");
}

/* Loads text as a scenario named robust.yaml; NULL when it is rejected, with
 * the first diagnostic in first (when given). */
static struct asim_scenario *load_text(const char *text, char *first, size_t len)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s =
		asim_scenario_load_buffer("robust.yaml", text, strlen(text), NULL, &d);
	if (first && len) {
		first[0] = '\0';
		if (d.n)
			asim_diag_format(&d, 0, first, len);
	}
	if (!s)
		asim_diag_print(&d, stderr);
	asim_diag_finish(&d);
	return s;
}

/* Runs replication 0 into r (initialised here); returns its status. */
static enum asim_run_status run(const struct asim_scenario *s, struct asim_results *r)
{
	struct asim_diag d;
	asim_diag_init(&d);
	asim_results_init(r);
	enum asim_run_status st = asim_scenario_run(s, 0, r, &d);
	asim_diag_print(&d, stderr);
	ck_assert_uint_eq(asim_diag_count(&d), 0);
	asim_diag_finish(&d);
	return st;
}

static const char *str(const struct asim_results *r, const char *path)
{
	const struct asim_value *v = asim_results_get(r, path);
	return v && v->kind == ASIM_VAL_STRING ? v->str : NULL;
}

/* ---- files beyond the size limit ---- */

START_TEST(robust_huge_file_refused)
{
	/* A valid start, then comment lines to just past 16 MiB. */
	size_t len = ASIM_LOAD_MAX_BYTES + 100;
	char *text = malloc(len + 1);
	ck_assert_ptr_nonnull(text);
	static const char head[] = "name: huge\nduration: 1s\n";
	memcpy(text, head, sizeof head - 1);
	for (size_t i = sizeof head - 1; i < len; i += 64) {
		size_t n = len - i < 64 ? len - i : 64;
		memset(text + i, 'x', n);
		text[i] = '#';
		text[i + n - 1] = '\n';
	}
	text[len] = '\0';
	struct asim_diag d;
	asim_diag_init(&d);
	ck_assert_ptr_null(asim_scenario_load_buffer("huge.yaml", text, len, NULL, &d));
	char msg[512];
	ck_assert_uint_eq(d.n, 1);
	asim_diag_format(&d, 0, msg, sizeof msg);
	ck_assert_str_eq(msg, "huge.yaml: error: file too large: the limit is 16777216 bytes");
	asim_diag_finish(&d);

	/* The same through a file, which is read only to one byte past the limit. */
	char path[] = "/tmp/archsim-huge-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq((size_t)write(fd, text, len), len);
	close(fd);
	asim_diag_init(&d);
	ck_assert_ptr_null(asim_scenario_load(path, NULL, &d));
	ck_assert_uint_eq(d.n, 1);
	asim_diag_format(&d, 0, msg, sizeof msg);
	char want[512];
	snprintf(want, sizeof want, "%s: error: file too large: the limit is 16777216 bytes", path);
	ck_assert_str_eq(msg, want);
	asim_diag_finish(&d);
	unlink(path);
	free(text);
}
END_TEST

START_TEST(robust_file_at_the_limit_loads)
{
	/* Exactly 16 MiB of a valid scenario (padded with a comment) loads. */
	static const char head[] =
		"name: at-limit\nduration: 10ms\ncomponents:\n"
		"  users: {kind: client, rate: 100/s, target: api}\n"
		"  api: {kind: service, service_time: 1ms}\n#";
	size_t len = ASIM_LOAD_MAX_BYTES;
	char *text = malloc(len + 1);
	ck_assert_ptr_nonnull(text);
	memcpy(text, head, sizeof head - 1);
	memset(text + sizeof head - 1, 'x', len - (sizeof head - 1));
	text[len - 1] = '\n';
	text[len] = '\0';
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s = asim_scenario_load_buffer("limit.yaml", text, len, NULL, &d);
	asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(s);
	asim_scenario_free(s);
	asim_diag_finish(&d);
	free(text);
}
END_TEST

/* ---- numbers at their edges ---- */

/* Valid scenarios at the edges of their ranges: each must load and run to
 * the end. */
static const struct edge_case {
	const char *what, *yaml;
} edge_cases[] = {
	{"a rate of 1/h: no request in 10s",
	 "duration: 10s\ncomponents:\n  users: {kind: client, rate: 1/h, target: api}\n"
	 "  api: {kind: service, service_time: 1ms}\n"},
	{"the shortest duration, 1ms",
	 "duration: 1ms\ncomponents:\n  users: {kind: client, rate: 1000/s, target: api}\n"
	 "  api: {kind: service, service_time: 1ms}\n"},
	{"the longest duration, 366d, at 1/h",
	 "duration: 366d\nwarmup: 365d\ncomponents:\n  users: {kind: client, rate: 1/h, target: api}\n"
	 "  api: {kind: service, service_time: 1ms}\n"},
	{"a queue of zero: everything beyond the servers is rejected",
	 "duration: 1s\ncomponents:\n  users: {kind: client, rate: 5000/s, target: api}\n"
	 "  api: {kind: service, concurrency: 1, queue: 0, service_time: 1ms}\n"},
	{"probabilities 0 and 1",
	 "duration: 1s\ncomponents:\n  users: {kind: client, rate: 100/s, mix: {read: 1, write: 0}, target: api}\n"
	 "  api: {kind: service, service_time: 1ms,\n"
	 "        calls: [{target: db, probability: 0}, {target: db, probability: 1}]}\n"
	 "  db: {kind: service, service_time: 1ms}\n"},
	{"a service time of zero",
	 "duration: 1s\ncomponents:\n  users: {kind: client, rate: 1000/s, target: api}\n"
	 "  api: {kind: service, service_time: 0ms}\n"},
	{"a service time longer than the run",
	 "duration: 1s\ncomponents:\n  users: {kind: client, rate: 10/s, timeout: 1d, target: api}\n"
	 "  api: {kind: service, service_time: 300d}\n"},
	/* Found by the fuzzer: a uniform key beyond 2^32 made GSL abort. */
	{"10^11 uniform keys",
	 "duration: 1s\ncomponents:\n  users: {kind: client, rate: 100/s, keys: {count: 100000000000},\n"
	 "          target: api}\n  api: {kind: service, service_time: 1ms}\n"},
	{"availability SLOs of 0% and 100%",
	 "duration: 1s\ncomponents:\n  users: {kind: client, rate: 10/s, target: api}\n"
	 "  api: {kind: service, service_time: 1ms}\nslo: {availability: 0%, p99: 1ns}\n"},
};

START_TEST(robust_edges_run)
{
	const struct edge_case *c = &edge_cases[_i];
	char first[1024];
	struct asim_scenario *s = load_text(c->yaml, first, sizeof first);
	ck_assert_msg(s != NULL, "%s: %s", c->what, first);
	struct asim_results r;
	enum asim_run_status st = run(s, &r);
	ck_assert_msg(st == ASIM_RUN_DONE, "%s: stopped: %s", c->what, asim_run_status_str(st));
	asim_scenario_judge(s, &r);
	ck_assert_ptr_null(str(&r, "stopped"));
	asim_results_finish(&r);
	asim_scenario_free(s);
}
END_TEST

START_TEST(robust_rate_1e9_stops_at_event_limit)
{
	struct asim_scenario *s = load_text(
		"duration: 1h\nlimits: {events: 200000}\ncomponents:\n"
		"  users: {kind: client, rate: 1e9/s, target: api}\n"
		"  api: {kind: service, concurrency: 4, queue: 10, service_time: 1ms}\n",
		NULL, 0);
	ck_assert_ptr_nonnull(s);
	struct asim_results r;
	ck_assert_int_eq(run(s, &r), ASIM_RUN_EVENT_LIMIT);
	ck_assert_str_eq(str(&r, "stopped"), "event limit reached");
	ck_assert_uint_eq((uint64_t)asim_results_num(&r, "events", 0), 200000);
	ck_assert(asim_results_num(&r, "stopped_at_s", -1) < 1.0);
	asim_results_finish(&r);
	asim_scenario_free(s);
}
END_TEST

START_TEST(robust_max_events_override)
{
	struct asim_overrides ov = {.max_events = 1000};
	struct asim_diag d;
	asim_diag_init(&d);
	static const char yaml[] = "duration: 10s\ncomponents:\n"
	                           "  users: {kind: client, rate: 1000/s, target: api}\n"
	                           "  api: {kind: service, service_time: 1ms}\n";
	struct asim_scenario *s =
		asim_scenario_load_buffer("ov.yaml", yaml, sizeof yaml - 1, &ov, &d);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->max_events, 1000);
	struct asim_results r;
	ck_assert_int_eq(run(s, &r), ASIM_RUN_EVENT_LIMIT);
	asim_results_finish(&r);
	asim_scenario_free(s);
	asim_diag_finish(&d);
}
END_TEST

START_TEST(robust_default_limits)
{
	struct asim_scenario *s = load_text(
		"duration: 1s\ncomponents:\n  users: {kind: client, rate: 10/s, target: api}\n"
		"  api: {kind: service, service_time: 1ms}\n", NULL, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->max_events, ASIM_DEFAULT_MAX_EVENTS);
	ck_assert_uint_eq(s->max_pending, ASIM_DEFAULT_MAX_PENDING);
	ck_assert_uint_eq(s->max_inflight, ASIM_DEFAULT_MAX_INFLIGHT);
	ck_assert_uint_eq(s->max_memory, ASIM_DEFAULT_MAX_MEMORY);
	asim_scenario_free(s);
	s = load_text("duration: 1s\nlimits: {events: 5, pending: 6, inflight: 7, memory: 3MiB}\n"
	              "components:\n  users: {kind: client, rate: 10/s, target: api}\n"
	              "  api: {kind: service, service_time: 1ms}\n", NULL, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->max_events, 5);
	ck_assert_uint_eq(s->max_pending, 6);
	ck_assert_uint_eq(s->max_inflight, 7);
	ck_assert_uint_eq(s->max_memory, 3u << 20);
	asim_scenario_free(s);
}
END_TEST

/* ---- runaway runs stop at a limit ---- */

/* Retries without a budget on an overloaded, unbounded queue: the queue and
 * the calls in it grow without end. */
static const char runaway[] =
	"name: runaway\nduration: 1h\nlimits: {%s}\ncomponents:\n"
	"  users: {kind: client, rate: 200000/s, timeout: 10ms,\n"
	"          retries: {max: 100, backoff: constant, base: 1ms}, target: api}\n"
	"  api: {kind: service, concurrency: 1, queue: unbounded, service_time: 1ms}\n";

static const struct limit_case {
	const char *limits;
	enum asim_run_status want;
	const char *reason;
} limit_cases[] = {
	{"memory: 32MiB", ASIM_RUN_MEMORY_LIMIT, "memory limit reached"},
	{"inflight: 20000", ASIM_RUN_INFLIGHT_LIMIT, "in-flight request limit reached"},
	{"pending: 20000", ASIM_RUN_PENDING_LIMIT, "pending event limit reached"},
	{"events: 300000", ASIM_RUN_EVENT_LIMIT, "event limit reached"},
};

START_TEST(robust_runaway_stops_at_limit)
{
	const struct limit_case *c = &limit_cases[_i];
	char yaml[1024];
	snprintf(yaml, sizeof yaml, runaway, c->limits);
	struct asim_scenario *s = load_text(yaml, NULL, 0);
	ck_assert_ptr_nonnull(s);
	struct asim_results r;
	enum asim_run_status st = run(s, &r);
	ck_assert_msg(st == c->want, "%s: got %s", c->limits, asim_run_status_str(st));
	/* The figures of the time run are there, with the reason. */
	ck_assert_str_eq(str(&r, "stopped"), c->reason);
	ck_assert(asim_results_num(&r, "requests", 0) > 0);
	ck_assert(asim_results_num(&r, "stopped_at_s", 0) > 0);
	/* Figures of part of the run prove nothing: it does not pass, even
	 * with no SLO to fail. */
	ck_assert(!asim_scenario_judge(s, &r));
	ck_assert(asim_results_num(&r, "ok", 1) == 0);
	asim_results_finish(&r);
	asim_scenario_free(s);
}
END_TEST

/* ---- time overflow ---- */

static void far_start(struct asim_component *c)
{
	asim_schedule(c->kernel, 5, c->id, ASIM_EV_USER, 0, 0, NULL);
}

static void far_handle(struct asim_component *c, const struct asim_event *ev)
{
	/* now is 5ns: ASIM_TIME_MAX more does not fit. */
	asim_schedule(c->kernel, ASIM_TIME_MAX, c->id, ASIM_EV_USER, 0, 0, NULL);
}

static const struct asim_model_ops far_ops = {
	.kind = "far",
	.start = far_start,
	.handle = far_handle,
};

START_TEST(robust_time_overflow_stops_the_run)
{
	struct asim_kernel *k = asim_kernel_create(1, 0);
	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(asim_kernel_add(k, "far", &far_ops));
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_TIME_OVERFLOW);
	ck_assert_int_eq(asim_now(k), 5);
	/* Sticky: a second run says the same. */
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_TIME_OVERFLOW);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(robust_kernel_memory_counts_pools)
{
	struct asim_kernel *k = asim_kernel_create(1, 0);
	ck_assert_ptr_nonnull(k);
	size_t base = asim_kernel_memory(k);
	struct asim_pool p;
	asim_kernel_pool_init(k, &p, 100, 1000);
	ck_assert_uint_eq(asim_kernel_memory(k), base);
	ck_assert_ptr_nonnull(asim_pool_get(&p));
	ck_assert_uint_ge(asim_kernel_memory(k), base + 100 * 1000);
	asim_pool_finish(&p);
	ck_assert_uint_eq(asim_kernel_memory(k), base);
	asim_kernel_destroy(k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("robust");
	TCase *tc = tcase_create("robust");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, robust_huge_file_refused);
	tcase_add_test(tc, robust_file_at_the_limit_loads);
	tcase_add_loop_test(tc, robust_edges_run, 0, sizeof edge_cases / sizeof edge_cases[0]);
	tcase_add_test(tc, robust_rate_1e9_stops_at_event_limit);
	tcase_add_test(tc, robust_max_events_override);
	tcase_add_test(tc, robust_default_limits);
	/* Each runaway case runs to a limit; under valgrind the memory one (the
	 * slowest to reach) is left out. */
	size_t nlimit = sizeof limit_cases / sizeof limit_cases[0];
	tcase_add_loop_test(tc, robust_runaway_stops_at_limit, under_valgrind() ? 1 : 0, (int)nlimit);
	tcase_add_test(tc, robust_time_overflow_stops_the_run);
	tcase_add_test(tc, robust_kernel_memory_counts_pools);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
