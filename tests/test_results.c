#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/results.h"

/* The JSON document of r, as a string the caller frees. */
static char *json_of(const struct asim_results *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert(asim_results_write_json(r, f));
	fclose(f);
	return buf;
}

static void check_json(const struct asim_results *r, const char *want)
{
	char *got = json_of(r);
	ck_assert_msg(strcmp(got, want) == 0, "got:\n%s\nwant:\n%s", got, want);
	free(got);
}

START_TEST(results_empty)
{
	struct asim_results r;
	asim_results_init(&r);
	check_json(&r, "{}\n");
	asim_results_finish(&r);
	asim_results_finish(NULL);
}
END_TEST

START_TEST(results_nesting)
{
	struct asim_results r;
	asim_results_init(&r);
	asim_results_string(&r, "web", "scenario");
	asim_results_count(&r, 42, "seed");
	asim_results_real(&r, 1.5, "latency_ms.p50");
	asim_results_real(&r, 0.25, "components.%s.utilization", "api");
	asim_results_real(&r, 9.75, "latency_ms.p99");
	asim_results_string(&r, "service", "components.api.kind");
	asim_results_real(&r, 0.5, "components.db.utilization");
	asim_results_bool(&r, true, "ok");
	check_json(&r,
	           "{\n"
	           "  \"scenario\": \"web\",\n"
	           "  \"seed\": 42,\n"
	           "  \"latency_ms\": {\n"
	           "    \"p50\": 1.5,\n"
	           "    \"p99\": 9.75\n"
	           "  },\n"
	           "  \"components\": {\n"
	           "    \"api\": {\n"
	           "      \"utilization\": 0.25,\n"
	           "      \"kind\": \"service\"\n"
	           "    },\n"
	           "    \"db\": {\n"
	           "      \"utilization\": 0.5\n"
	           "    }\n"
	           "  },\n"
	           "  \"ok\": true\n"
	           "}\n");
	ck_assert_uint_eq(r.n, 8);
	ck_assert(!r.oom);
	asim_results_finish(&r);
}
END_TEST

START_TEST(results_arrays)
{
	struct asim_results r;
	asim_results_init(&r);
	asim_results_string(&r, "p95", "slo[0].metric");
	asim_results_bool(&r, true, "slo[0].ok");
	asim_results_string(&r, "availability", "slo[1].metric");
	asim_results_bool(&r, false, "slo[1].ok");
	asim_results_real(&r, 0.1, "series[1]");
	asim_results_real(&r, 0.3, "series[3]");
	asim_results_real(&r, 0.0, "series[0]");
	check_json(&r,
	           "{\n"
	           "  \"slo\": [\n"
	           "    {\n"
	           "      \"metric\": \"p95\",\n"
	           "      \"ok\": true\n"
	           "    },\n"
	           "    {\n"
	           "      \"metric\": \"availability\",\n"
	           "      \"ok\": false\n"
	           "    }\n"
	           "  ],\n"
	           "  \"series\": [\n"
	           "    0,\n"
	           "    0.1,\n"
	           "    null,\n"
	           "    0.3\n"
	           "  ]\n"
	           "}\n");
	asim_results_finish(&r);
}
END_TEST

START_TEST(results_replace_in_place)
{
	struct asim_results r;
	asim_results_init(&r);
	asim_results_count(&r, 1, "a");
	asim_results_string(&r, "x", "b");
	asim_results_count(&r, 3, "c");
	asim_results_real(&r, 2.5, "b");
	asim_results_string(&r, "now a string", "a");
	ck_assert_uint_eq(r.n, 3);
	ck_assert_str_eq(r.v[0].path, "a");
	ck_assert_str_eq(r.v[1].path, "b");
	ck_assert_int_eq(r.v[1].kind, ASIM_VAL_REAL);
	ck_assert_ptr_null(r.v[1].str);
	check_json(&r,
	           "{\n"
	           "  \"a\": \"now a string\",\n"
	           "  \"b\": 2.5,\n"
	           "  \"c\": 3\n"
	           "}\n");
	ck_assert_double_eq(asim_results_num(&r, "b", -1), 2.5);
	ck_assert_double_eq(asim_results_num(&r, "c", -1), 3);
	ck_assert_double_eq(asim_results_num(&r, "a", -1), -1);
	ck_assert_double_eq(asim_results_num(&r, "zzz", -7), -7);
	ck_assert_ptr_null(asim_results_get(&r, "zzz"));
	ck_assert_str_eq(asim_results_get(&r, "a")->str, "now a string");
	asim_results_finish(&r);
}
END_TEST

START_TEST(results_escaping)
{
	struct asim_results r;
	asim_results_init(&r);
	asim_results_string(&r, "say \"hi\"\\ now", "q");
	asim_results_string(&r, "a\nb\tc\r\b\f\x01\x1f end", "ctl");
	asim_results_string(&r, "caf\xc3\xa9", "utf8");
	asim_results_count(&r, 1, "we\"ird.key");
	check_json(&r,
	           "{\n"
	           "  \"q\": \"say \\\"hi\\\"\\\\ now\",\n"
	           "  \"ctl\": \"a\\nb\\tc\\r\\b\\f\\u0001\\u001f end\",\n"
	           "  \"utf8\": \"caf\xc3\xa9\",\n"
	           "  \"we\\\"ird\": {\n"
	           "    \"key\": 1\n"
	           "  }\n"
	           "}\n");
	asim_results_finish(&r);
}
END_TEST

static const struct {
	enum asim_value_kind kind;
	double v;
	const char *want;
} number_cases[] = {
	{ ASIM_VAL_COUNT, 0, "0" },
	{ ASIM_VAL_COUNT, 7, "7" },
	{ ASIM_VAL_COUNT, 123456789, "123456789" },
	{ ASIM_VAL_COUNT, 9007199254740992.0, "9007199254740992" },
	{ ASIM_VAL_REAL, 0.1, "0.1" },
	{ ASIM_VAL_REAL, 1e-9, "1e-09" },
	/* Reals keep the digits of their whole part (means of counts over
	 * replications), exact for integers up to 2^53, and only beyond 1e17
	 * fall back to the short exponent form. */
	{ ASIM_VAL_REAL, 123456789, "123456789" },
	{ ASIM_VAL_REAL, 5107871.35, "5107871" },
	{ ASIM_VAL_REAL, 9007199254740992.0, "9007199254740992" },
	{ ASIM_VAL_REAL, -9007199254740991.0, "-9007199254740991" },
	{ ASIM_VAL_REAL, 999999.7, "999999.7" },
	{ ASIM_VAL_REAL, 123456.7, "123457" },
	{ ASIM_VAL_REAL, 1e17, "1e+17" },
	{ ASIM_VAL_REAL, 2, "2" },
	{ ASIM_VAL_REAL, -0.0, "0" },
	{ ASIM_VAL_REAL, -3.25, "-3.25" },
	{ ASIM_VAL_REAL, 0.999, "0.999" },
	{ ASIM_VAL_REAL, 1.0 / 3.0, "0.333333" },
	{ ASIM_VAL_REAL, NAN, "null" },
	{ ASIM_VAL_REAL, INFINITY, "null" },
	{ ASIM_VAL_REAL, -INFINITY, "null" },
	{ ASIM_VAL_COUNT, NAN, "null" },
	{ ASIM_VAL_BOOL, 1, "true" },
	{ ASIM_VAL_BOOL, 0, "false" },
};

START_TEST(results_number_format)
{
	char buf[64];
	for (size_t i = 0; i < sizeof(number_cases) / sizeof(number_cases[0]); i++) {
		asim_format_number(buf, sizeof(buf), number_cases[i].kind, number_cases[i].v);
		ck_assert_msg(strcmp(buf, number_cases[i].want) == 0, "case %zu: got %s, want %s",
		              i, buf, number_cases[i].want);
	}
}
END_TEST

START_TEST(results_numbers_in_json)
{
	struct asim_results r;
	asim_results_init(&r);
	asim_results_count(&r, 123456789, "requests");
	asim_results_real(&r, 0.1, "a");
	asim_results_real(&r, 1e-9, "b");
	asim_results_real(&r, NAN, "c");
	asim_results_real(&r, INFINITY, "d");
	check_json(&r,
	           "{\n"
	           "  \"requests\": 123456789,\n"
	           "  \"a\": 0.1,\n"
	           "  \"b\": 1e-09,\n"
	           "  \"c\": null,\n"
	           "  \"d\": null\n"
	           "}\n");
	asim_results_finish(&r);
}
END_TEST

START_TEST(results_ci)
{
	struct asim_results r;
	asim_results_init(&r);
	asim_results_ci(&r, 12.5, 11.25, 13.75, "latency_ms.p95");
	asim_results_ci(&r, 0.999, NAN, NAN, "availability");
	check_json(&r,
	           "{\n"
	           "  \"latency_ms\": {\n"
	           "    \"p95\": {\"mean\": 12.5, \"ci95\": [11.25, 13.75]}\n"
	           "  },\n"
	           "  \"availability\": {\"mean\": 0.999, \"ci95\": [null, null]}\n"
	           "}\n");
	ck_assert_double_eq(asim_results_num(&r, "latency_ms.p95", 0), 12.5);
	asim_results_finish(&r);
}
END_TEST

START_TEST(results_ci_large_counts)
{
	/* A mean of event counts keeps its units, as do its bounds. */
	struct asim_results r;
	asim_results_init(&r);
	asim_results_ci(&r, 5107871.35, 5107000.25, 5108742.45, "events");
	check_json(&r,
	           "{\n"
	           "  \"events\": {\"mean\": 5107871, \"ci95\": [5107000, 5108742]}\n"
	           "}\n");
	asim_results_finish(&r);
}
END_TEST

START_TEST(results_empty_list)
{
	/* A declared list with no element is written [], keeps the place of its
	 * declaration, and is no number. */
	struct asim_results r;
	asim_results_init(&r);
	asim_results_list(&r, "slo");
	asim_results_bool(&r, true, "ok");
	check_json(&r,
	           "{\n"
	           "  \"slo\": [],\n"
	           "  \"ok\": true\n"
	           "}\n");
	ck_assert_double_eq(asim_results_num(&r, "slo", -1), -1);
	/* Elements set under it afterwards fill it. */
	asim_results_string(&r, "p99", "slo[0].metric");
	asim_results_list(&r, "slo");
	check_json(&r,
	           "{\n"
	           "  \"slo\": [\n"
	           "    {\n"
	           "      \"metric\": \"p99\"\n"
	           "    }\n"
	           "  ],\n"
	           "  \"ok\": true\n"
	           "}\n");
	asim_results_finish(&r);
}
END_TEST

START_TEST(results_conflicting_paths)
{
	/* A leaf and an object at the same place: the first one wins and the
	 * document stays valid. */
	struct asim_results r;
	asim_results_init(&r);
	asim_results_count(&r, 1, "a");
	asim_results_count(&r, 2, "a.b");
	asim_results_count(&r, 3, "c.d");
	asim_results_count(&r, 4, "c");
	asim_results_count(&r, 5, "e[0]");
	asim_results_count(&r, 6, "e.f");
	check_json(&r,
	           "{\n"
	           "  \"a\": 1,\n"
	           "  \"c\": {\n"
	           "    \"d\": 3\n"
	           "  },\n"
	           "  \"e\": [\n"
	           "    5\n"
	           "  ]\n"
	           "}\n");
	asim_results_finish(&r);
}
END_TEST

START_TEST(results_deterministic)
{
	struct asim_results a, b;
	asim_results_init(&a);
	asim_results_init(&b);
	for (int i = 0; i < 300; i++) {
		asim_results_real(&a, i * 0.37, "components.c%d.utilization", i % 17);
		asim_results_real(&b, i * 0.37, "components.c%d.utilization", i % 17);
		asim_results_count(&a, (uint64_t)i, "series[%d].n", i % 11);
		asim_results_count(&b, (uint64_t)i, "series[%d].n", i % 11);
	}
	char *ja = json_of(&a), *jb = json_of(&b);
	ck_assert_str_eq(ja, jb);
	free(ja);
	free(jb);
	asim_results_finish(&a);
	asim_results_finish(&b);
}
END_TEST

START_TEST(results_malformed_brackets)
{
	/* Brackets that do not form an index are part of the member name. */
	struct asim_results r;
	asim_results_init(&r);
	asim_results_count(&r, 1, "a[x]");
	asim_results_count(&r, 2, "b[]");
	asim_results_count(&r, 3, "c[1]d");
	check_json(&r,
	           "{\n"
	           "  \"a[x]\": 1,\n"
	           "  \"b[]\": 2,\n"
	           "  \"c[1]d\": 3\n"
	           "}\n");
	asim_results_finish(&r);
}
END_TEST

/* Paths are found through an index: with many of them, each is found, a
 * replaced one keeps its place, and the JSON keeps first-insertion order
 * among thousands of members of one object and elements of one array. */
START_TEST(results_many_paths)
{
	enum { N = 5000 };
	struct asim_results r;
	asim_results_init(&r);
	for (unsigned i = 0; i < N; i++) {
		asim_results_count(&r, i, "components.c%u.n", (N - 1 - i) * 7 % N);
		asim_results_real(&r, i, "list[%u]", (N - 1 - i) * 7 % N);
	}
	asim_results_count(&r, 99, "components.c%u.n", 7u);
	ck_assert(!r.oom);
	ck_assert_uint_eq(r.n, 2 * N);
	for (unsigned i = 0; i < N; i++) {
		char path[32];
		unsigned c = (N - 1 - i) * 7 % N;
		snprintf(path, sizeof(path), "components.c%u.n", c);
		const struct asim_value *v = asim_results_get(&r, path);
		ck_assert_ptr_eq(v, &r.v[2 * i]);
		ck_assert_double_eq(v->num, c == 7 ? 99 : i);
		snprintf(path, sizeof(path), "list[%u]", c);
		ck_assert_double_eq(asim_results_num(&r, path, -1), i);
	}
	ck_assert_ptr_null(asim_results_get(&r, "components.c5000.n"));
	char *json = json_of(&r);
	const char *at = json;
	for (unsigned i = 0; i < N; i++) {
		char member[32];
		snprintf(member, sizeof(member), "\"c%u\": {", (N - 1 - i) * 7 % N);
		const char *next = strstr(at, member);
		ck_assert_msg(next != NULL, "member %s missing or out of order", member);
		at = next;
	}
	/* The array is written by index: element c holds the i that set it. */
	static unsigned setter[N];
	for (unsigned i = 0; i < N; i++)
		setter[(N - 1 - i) * 7 % N] = i;
	at = strstr(json, "\"list\": [\n");
	ck_assert_ptr_nonnull(at);
	at = strchr(at, '\n') + 1;
	for (unsigned c = 0; c < N; c++) {
		char *end;
		unsigned long got = strtoul(at, &end, 10);
		ck_assert_msg(end != at && got == setter[c], "element %u", c);
		at = strchr(end, '\n') + 1;
	}
	free(json);
	asim_results_finish(&r);
}
END_TEST

static Suite *results_suite(void)
{
	Suite *s = suite_create("results");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, results_empty);
	tcase_add_test(tc, results_nesting);
	tcase_add_test(tc, results_arrays);
	tcase_add_test(tc, results_replace_in_place);
	tcase_add_test(tc, results_escaping);
	tcase_add_test(tc, results_number_format);
	tcase_add_test(tc, results_numbers_in_json);
	tcase_add_test(tc, results_ci);
	tcase_add_test(tc, results_ci_large_counts);
	tcase_add_test(tc, results_empty_list);
	tcase_add_test(tc, results_conflicting_paths);
	tcase_add_test(tc, results_deterministic);
	tcase_add_test(tc, results_malformed_brackets);
	tcase_add_test(tc, results_many_paths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(results_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
