/* The data tree, the exact parsers and the validating accessors, with every
 * user-facing message asserted exactly. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/cfg.h"
#include "archsim/diag.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Every value in these tests sits at t.yaml:3:7, its mapping at 2:3. */
static const struct asim_mark VAL = {.file = "t.yaml", .line = 3, .col = 7};
static const struct asim_mark MAP = {.file = "t.yaml", .line = 2, .col = 3};
static const struct asim_mark KEY = {.file = "t.yaml", .line = 3, .col = 3};

static struct asim_cfg *map_with(const char *key, const char *text)
{
	struct asim_cfg *m = asim_cfg_new_map(MAP);
	ck_assert_ptr_nonnull(m);
	m->ctx = "users";
	if (key)
		ck_assert(asim_cfg_map_add(m, key, KEY, asim_cfg_new_scalar(text, VAL)));
	return m;
}

static struct asim_cfg *map_with_node(const char *key, struct asim_cfg *value)
{
	struct asim_cfg *m = map_with(NULL, NULL);
	ck_assert(asim_cfg_map_add(m, key, KEY, value));
	return m;
}

static const char *first(const struct asim_diag *d)
{
	static char buf[1024];
	ck_assert_uint_ge(d->n, 1);
	asim_diag_format(d, 0, buf, sizeof(buf));
	return buf;
}

/* Checks the outcome of one accessor call: ok with no diagnostic, or failed
 * with exactly one diagnostic reading "t.yaml:3:7: error: " + msg. */
static void check_outcome(const char *text, bool ok, const struct asim_diag *d,
                          const char *msg)
{
	if (!msg) {
		ck_assert_msg(ok, "'%s' rejected: %s", text, d->n ? first(d) : "(no message)");
		ck_assert_uint_eq(asim_diag_count(d), 0);
		return;
	}
	char want[1024];
	snprintf(want, sizeof(want), "t.yaml:3:7: error: %s", msg);
	ck_assert_msg(!ok, "'%s' accepted", text);
	ck_assert_uint_eq(asim_diag_count(d), 1);
	ck_assert_str_eq(first(d), want);
}

/* ---- diag ---- */

START_TEST(cfg_diag_format)
{
	struct asim_diag d;
	asim_diag_init(&d);
	char name[] = "scenarios/web.yaml";
	asim_diag_error(&d, (struct asim_mark){.file = name, .line = 20, .col = 3}, "unknown key '%s'", "ttl_sec");
	asim_diag_error(&d, (struct asim_mark){.file = name, .line = 0, .col = 0}, "cannot read file: %s", "gone");
	asim_diag_error(&d, (struct asim_mark){.file = name, .line = 4, .col = 0}, "no column");
	asim_diag_error(&d, (struct asim_mark){.file = NULL, .line = 0, .col = 0}, "no file");
	/* The entry keeps its own copy of the file name. */
	memset(name, 'x', sizeof(name) - 1);
	char buf[128];
	asim_diag_format(&d, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "scenarios/web.yaml:20:3: error: unknown key 'ttl_sec'");
	asim_diag_format(&d, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "scenarios/web.yaml: error: cannot read file: gone");
	asim_diag_format(&d, 2, buf, sizeof(buf));
	ck_assert_str_eq(buf, "scenarios/web.yaml:4: error: no column");
	asim_diag_format(&d, 3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "<input>: error: no file");
	ck_assert_uint_eq(asim_diag_count(&d), 4);
	/* Cut to the buffer, never past it. */
	asim_diag_format(&d, 0, buf, 10);
	ck_assert_str_eq(buf, "scenarios");

	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	asim_diag_print(&d, f);
	rewind(f);
	char all[512] = "";
	size_t got = fread(all, 1, sizeof(all) - 1, f);
	all[got] = '\0';
	fclose(f);
	ck_assert_str_eq(all, "scenarios/web.yaml:20:3: error: unknown key 'ttl_sec'\n"
	                      "scenarios/web.yaml: error: cannot read file: gone\n"
	                      "scenarios/web.yaml:4: error: no column\n"
	                      "<input>: error: no file\n");
	asim_diag_finish(&d);
	ck_assert_uint_eq(asim_diag_count(&d), 0);
	asim_diag_finish(&d);
}
END_TEST

/* A value reached through an alias names the alias after the message, in
 * format and print alike, and a message longer than any buffer is printed
 * whole. */
START_TEST(cfg_diag_via_alias_and_long)
{
	struct asim_diag d;
	asim_diag_init(&d);
	asim_diag_error(&d, (struct asim_mark){.file = "a.yaml", .line = 4, .col = 9, .via_line = 12,
	                                       .via_col = 40},
	                "bad value");
	char big[2000];
	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	asim_diag_error(&d, (struct asim_mark){.file = "a.yaml", .line = 5, .col = 1}, "%s", big);
	char buf[128];
	asim_diag_format(&d, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "a.yaml:4:9: error: bad value (through the alias at 12:40)");
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	asim_diag_print(&d, f);
	rewind(f);
	static char all[4096];
	size_t got = fread(all, 1, sizeof(all) - 1, f);
	all[got] = '\0';
	fclose(f);
	char want[4096];
	snprintf(want, sizeof want,
	         "a.yaml:4:9: error: bad value (through the alias at 12:40)\n"
	         "a.yaml:5:1: error: %s\n", big);
	ck_assert_str_eq(all, want);
	asim_diag_finish(&d);
}
END_TEST

static const struct {
	const char *word;
	const char *const *list;
	const char *want;
} suggest_cases[] = {
	{"ttl_sec", (const char *const[]){"kind", "capacity", "ttl", "hit_time", NULL}, "ttl"},
	{"raet", (const char *const[]){"zone", "rate", NULL}, "rate"},
	{"timout", (const char *const[]){"target", "timeout", NULL}, "timeout"},
	{"Rate", (const char *const[]){"rate", NULL}, "rate"},
	{"servce", (const char *const[]){"server", "service", NULL}, "service"},
	{"replica", (const char *const[]){"replicas", "replication", NULL}, "replicas"},
	{"time", (const char *const[]){"timeout", NULL}, "timeout"},
	{"ab", (const char *const[]){"ac", "ad", NULL}, "ac"}, /* tie: first listed */
	{"ab", (const char *const[]){"ad", "ac", NULL}, "ad"},
	{"d", (const char *const[]){"a", "b", "c", NULL}, NULL},
	{"xyz", (const char *const[]){"rate", "kind", NULL}, NULL},
	{"policy", (const char *const[]){"capacity", NULL}, NULL},
	{"", (const char *const[]){"rate", NULL}, NULL},
	{"rate", (const char *const[]){NULL}, NULL},
	{"rate", NULL, NULL},
};

START_TEST(cfg_diag_suggest)
{
	for (size_t i = 0; i < N(suggest_cases); i++) {
		const char *got = asim_diag_suggest(suggest_cases[i].word, suggest_cases[i].list);
		const char *want = suggest_cases[i].want;
		ck_assert_msg(want ? got && strcmp(got, want) == 0 : got == NULL,
		              "suggest '%s': got %s, want %s", suggest_cases[i].word,
		              got ? got : "NULL", want ? want : "NULL");
	}
	ck_assert_ptr_null(asim_diag_suggest(NULL, (const char *const[]){"a", NULL}));
	/* By edit distance alone: typos, but not longer or shorter names. */
	const char *const ops[] = {"read", "write", NULL};
	ck_assert_str_eq(asim_diag_suggest_typo("raed", ops), "read");
	ck_assert_str_eq(asim_diag_suggest_typo("wirte", ops), "write");
	ck_assert_ptr_null(asim_diag_suggest_typo("read_profile", ops));
	ck_assert_ptr_null(asim_diag_suggest_typo("writeback", ops));
	ck_assert_str_eq(asim_diag_suggest("read_profile", ops), "read");
}
END_TEST

/* ---- tree ---- */

START_TEST(cfg_tree_build_and_lookup)
{
	struct asim_cfg *m = asim_cfg_new_map(MAP);
	char key[16], num[16];
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(num, sizeof(num), "%d", i);
		ck_assert(asim_cfg_map_add(m, key, KEY, asim_cfg_new_scalar(num, VAL)));
	}
	ck_assert_uint_eq(m->n, 100);
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(num, sizeof(num), "%d", i);
		const struct asim_cfg *v = asim_cfg_get(m, key);
		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq(v->type, ASIM_CFG_SCALAR);
		ck_assert_str_eq(v->text, num);
		ck_assert_ptr_eq(asim_cfg_pair(m, key)->value, v);
	}
	ck_assert_str_eq(m->pairs[42].key, "k42"); /* file order kept */
	ck_assert_ptr_null(asim_cfg_get(m, "nope"));
	ck_assert_ptr_null(asim_cfg_get(NULL, "k1"));

	struct asim_cfg *s = asim_cfg_new_seq(VAL);
	for (int i = 0; i < 33; i++)
		ck_assert(asim_cfg_seq_add(s, asim_cfg_new_null(VAL)));
	ck_assert_uint_eq(s->n, 33);
	ck_assert_ptr_null(asim_cfg_get(s, "k1")); /* not a map */
	ck_assert(asim_cfg_map_add(m, "list", KEY, s));
	ck_assert_str_eq(asim_cfg_type_name(asim_cfg_get(m, "list")), "a list");
	ck_assert_str_eq(asim_cfg_type_name(m), "a mapping");
	ck_assert_str_eq(asim_cfg_type_name(s->items[0]), "an empty value");
	ck_assert_str_eq(asim_cfg_type_name(asim_cfg_get(m, "k7")), "'7'");
	asim_cfg_free(m);
	asim_cfg_free(NULL);
}
END_TEST

START_TEST(cfg_type_name_cuts_long_text)
{
	struct asim_cfg *s = asim_cfg_new_scalar("aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd-and-more", VAL);
	ck_assert_str_eq(asim_cfg_type_name(s), "'aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd...'");
	asim_cfg_free(s);
	/* Control characters never reach a message. */
	s = asim_cfg_new_scalar("a\tb\x01", VAL);
	ck_assert_str_eq(asim_cfg_type_name(s), "'a?b?'");
	asim_cfg_free(s);
}
END_TEST

/* ---- durations ---- */

static const struct {
	const char *text;
	bool ok;
	asim_time ns;
} parse_time_cases[] = {
	{"250ms", true, 250 * ASIM_MS},
	{"1.5s", true, 1500 * ASIM_MS},
	{"0.1ms", true, 100 * ASIM_US},
	{"1.50s", true, 1500 * ASIM_MS},
	{"2m", true, 2 * ASIM_MIN},
	{"2min", true, 2 * ASIM_MIN},
	{"1.5h", true, 90 * ASIM_MIN},
	{"1d", true, 24 * ASIM_HOUR},
	{"10us", true, 10 * ASIM_US},
	{"10\xc2\xb5s", true, 10 * ASIM_US},
	{"10\xce\xbcs", true, 10 * ASIM_US},
	{"5ns", true, 5},
	{"0s", true, 0},
	{"+3s", true, 3 * ASIM_S},
	{"250 ms", true, 250 * ASIM_MS},
	{"1.000000001s", true, ASIM_S + 1},
	{"0.00001m", true, 600 * ASIM_US},
	{"0.00000000000125d", true, 108},
	{"106751d", true, 106751 * 24 * ASIM_HOUR},
	{"9223372036854775807ns", true, INT64_MAX},
	{"9223372036.854775807s", true, INT64_MAX},
	{"9223372036.854775808s", false, 0},
	{"9223372036854775.807s", false, 0},
	{"9223372036854775808ns", false, 0},
	{"106752d", false, 0},
	{"99999999999999999999999999s", false, 0},
	{"0.5ns", false, 0},
	{"1.0000000001s", false, 0},
	{"0.0000000000005d", false, 0},
	{"250", false, 0},
	{"250x", false, 0},
	{"250sec", false, 0},
	{"-5s", false, 0},
	{"abc", false, 0},
	{"", false, 0},
	{".5s", false, 0},
	{"5.s", false, 0},
	{"1e3s", false, 0},
	{"s", false, 0},
};

START_TEST(cfg_parse_time)
{
	for (size_t i = 0; i < N(parse_time_cases); i++) {
		asim_time t = -42;
		bool ok = asim_parse_time(parse_time_cases[i].text, &t);
		ck_assert_msg(ok == parse_time_cases[i].ok, "'%s'", parse_time_cases[i].text);
		ck_assert_int_eq(t, ok ? parse_time_cases[i].ns : -42);
	}
}
END_TEST

static const struct {
	const char *text;
	asim_time min, max;
	const char *msg;
} time_cases[] = {
	{"250ms", 0, ASIM_TIME_MAX, NULL},
	{"250", 0, ASIM_TIME_MAX,
	 "expected a duration with a unit (e.g. 250ms) for 'timeout', got '250'"},
	{"250x", 0, ASIM_TIME_MAX,
	 "expected a duration (e.g. 250ms) for 'timeout', got '250x' "
	 "(units: ns, us, ms, s, m, min, h, d)"},
	{"abc", 0, ASIM_TIME_MAX, "expected a duration (e.g. 250ms) for 'timeout', got 'abc'"},
	{"-5s", 0, ASIM_TIME_MAX, "'timeout' must not be negative, got '-5s'"},
	/* Minus zero is zero: not negative, and out of range where zero is. */
	{"-0s", 0, ASIM_TIME_MAX, NULL},
	{"-0s", ASIM_MS, 36 * ASIM_HOUR, "'timeout' must be between 1ms and 36h, got '-0s'"},
	{"0.5ns", 0, ASIM_TIME_MAX,
	 "expected a duration (e.g. 250ms) for 'timeout', got '0.5ns' "
	 "(below nanosecond resolution)"},
	{"200000d", 0, ASIM_TIME_MAX,
	 "duration too large for 'timeout', got '200000d' (the limit is about 292 years)"},
	{"0s", 1, ASIM_TIME_MAX, "'timeout' must be at least 1ns, got '0s'"},
	{"0ms", 1500 * ASIM_MS, ASIM_TIME_MAX, "'timeout' must be at least 1.5s, got '0ms'"},
	{"1ms", 1500 * ASIM_US, ASIM_TIME_MAX, "'timeout' must be at least 1.5ms, got '1ms'"},
	{"1ms", 1001 * ASIM_US, ASIM_TIME_MAX, "'timeout' must be at least 1.001ms, got '1ms'"},
	{"1s", 90 * ASIM_S, ASIM_TIME_MAX, "'timeout' must be at least 90s, got '1s'"},
	{"2h", 0, ASIM_HOUR, "'timeout' must be at most 1h, got '2h'"},
	{"2h", ASIM_MS, 36 * ASIM_HOUR, NULL},
	{"2d", ASIM_MS, 36 * ASIM_HOUR, "'timeout' must be between 1ms and 36h, got '2d'"},
	{"1h", ASIM_HOUR, ASIM_HOUR, NULL},
};

START_TEST(cfg_time)
{
	for (size_t i = 0; i < N(time_cases); i++) {
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_cfg *m = map_with("timeout", time_cases[i].text);
		asim_time t = -1;
		bool ok = asim_cfg_time(m, "timeout", ASIM_REQUIRED, time_cases[i].min,
		                        time_cases[i].max, &t, &d);
		check_outcome(time_cases[i].text, ok, &d, time_cases[i].msg);
		if (!ok)
			ck_assert_int_eq(t, -1);
		asim_cfg_free(m);
		asim_diag_finish(&d);
	}
}
END_TEST

/* Wrong types, absent keys and the node form, shown for durations; the
 * other accessors share the code and are spot-checked in their own tests. */
START_TEST(cfg_time_types_and_presence)
{
	struct asim_diag d;
	asim_diag_init(&d);
	asim_time t = 77;

	struct asim_cfg *m = map_with_node("timeout", asim_cfg_new_map(VAL));
	ck_assert(!asim_cfg_time(m, "timeout", ASIM_OPTIONAL, 0, ASIM_TIME_MAX, &t, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a duration (e.g. 250ms) "
	                            "for 'timeout', got a mapping");
	asim_cfg_free(m);
	asim_diag_finish(&d);

	m = map_with_node("timeout", asim_cfg_new_seq(VAL));
	ck_assert(!asim_cfg_time(m, "timeout", ASIM_OPTIONAL, 0, ASIM_TIME_MAX, &t, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a duration (e.g. 250ms) "
	                            "for 'timeout', got an empty list");
	asim_cfg_free(m);
	asim_diag_finish(&d);

	m = map_with_node("timeout", asim_cfg_new_null(VAL));
	ck_assert(!asim_cfg_time(m, "timeout", ASIM_OPTIONAL, 0, ASIM_TIME_MAX, &t, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a duration (e.g. 250ms) "
	                            "for 'timeout', got an empty value");
	asim_cfg_free(m);
	asim_diag_finish(&d);

	/* Absent and optional: true, *out untouched, nothing reported. */
	m = map_with("other", "1s");
	ck_assert(asim_cfg_time(m, "timeout", ASIM_OPTIONAL, 0, ASIM_TIME_MAX, &t, &d));
	ck_assert_int_eq(t, 77);
	ck_assert_uint_eq(asim_diag_count(&d), 0);
	/* Absent and required: reported at the mapping. */
	ck_assert(!asim_cfg_time(m, "timeout", ASIM_REQUIRED, 0, ASIM_TIME_MAX, &t, &d));
	ck_assert_str_eq(first(&d), "t.yaml:2:3: error: missing required key 'timeout' in 'users'");
	asim_diag_finish(&d);
	m->ctx = NULL;
	ck_assert(!asim_cfg_time(m, "timeout", ASIM_REQUIRED, 0, ASIM_TIME_MAX, &t, &d));
	ck_assert_str_eq(first(&d), "t.yaml:2:3: error: missing required key 'timeout'");
	asim_diag_finish(&d);
	ck_assert_int_eq(t, 77);
	asim_cfg_free(m);

	/* The node form names no key. */
	struct asim_cfg *n = asim_cfg_new_scalar("250", VAL);
	ck_assert(!asim_cfg_node_time(n, 0, ASIM_TIME_MAX, &t, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a duration with a unit "
	                            "(e.g. 250ms), got '250'");
	asim_diag_finish(&d);
	ck_assert(!asim_cfg_node_time(n, ASIM_S, ASIM_TIME_MAX, &t, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a duration with a unit "
	                            "(e.g. 250ms), got '250'");
	asim_diag_finish(&d);
	asim_cfg_free(n);
	n = asim_cfg_new_scalar("5ms", VAL);
	ck_assert(!asim_cfg_node_time(n, ASIM_S, ASIM_TIME_MAX, &t, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: value must be at least 1s, got '5ms'");
	asim_diag_finish(&d);
	ck_assert(asim_cfg_node_time(n, 0, ASIM_TIME_MAX, &t, &d));
	ck_assert_int_eq(t, 5 * ASIM_MS);
	asim_cfg_free(n);
}
END_TEST

/* ---- rates ---- */

static const struct {
	const char *text;
	bool ok;
	double per_s;
} parse_rate_cases[] = {
	{"2000/s", true, 2000},
	{"30/min", true, 0.5},
	{"30/m", true, 0.5},
	{"5/ms", true, 5000},
	{"10/us", true, 1e7},
	{"100/h", true, 100.0 / 3600},
	{"1.5/s", true, 1.5},
	{"1e3/s", true, 1000},
	{"0/s", true, 0},
	{"2000", false, 0},
	{"2000/sec", false, 0},
	{"/s", false, 0},
	{"fast", false, 0},
	{"2000/", false, 0},
	{"-1/s", false, 0},
	{"1e999/s", false, 0},
};

START_TEST(cfg_parse_rate)
{
	for (size_t i = 0; i < N(parse_rate_cases); i++) {
		double v = -42;
		bool ok = asim_parse_rate(parse_rate_cases[i].text, &v);
		ck_assert_msg(ok == parse_rate_cases[i].ok, "'%s'", parse_rate_cases[i].text);
		ck_assert_double_eq(v, ok ? parse_rate_cases[i].per_s : -42);
	}
}
END_TEST

static const struct {
	const char *text;
	const char *msg;
} rate_cases[] = {
	{"2000/s", NULL},
	{"5000/s", NULL},
	{"2000", "expected a rate with a unit (e.g. 2000/s) for 'rate', got '2000'"},
	{"2000/sec", "expected a rate (e.g. 2000/s) for 'rate', got '2000/sec' "
	             "(units: ns, us, ms, s, m, min, h, d)"},
	{"fast", "expected a rate (e.g. 2000/s) for 'rate', got 'fast'"},
	{"0/s", "'rate' must be greater than 0, got '0/s'"},
	{"-3/s", "'rate' must be greater than 0, got '-3/s'"},
	{"6000/s", "'rate' must be at most 5000/s, got '6000/s'"},
	{"1e999/s", "'rate' must be at most 5000/s, got '1e999/s'"},
};

START_TEST(cfg_rate)
{
	for (size_t i = 0; i < N(rate_cases); i++) {
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_cfg *m = map_with("rate", rate_cases[i].text);
		double v = -1;
		bool ok = asim_cfg_rate(m, "rate", ASIM_REQUIRED, 5000, &v, &d);
		check_outcome(rate_cases[i].text, ok, &d, rate_cases[i].msg);
		asim_cfg_free(m);
		asim_diag_finish(&d);
	}
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_cfg *n = asim_cfg_new_seq(VAL);
	double v;
	ck_assert(!asim_cfg_node_rate(n, 1e9, &v, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a rate (e.g. 2000/s), got an empty list");
	asim_cfg_free(n);
	asim_diag_finish(&d);
}
END_TEST

/* ---- whole numbers ---- */

static const struct {
	const char *text;
	bool ok;
	int64_t v;
} parse_int_cases[] = {
	{"42", true, 42},
	{"-7", true, -7},
	{"+3", true, 3},
	{"0", true, 0},
	{"007", true, 7},
	{"1_000_000", true, 1000000},
	{"9223372036854775807", true, INT64_MAX},
	{"-9223372036854775808", true, INT64_MIN},
	{"0000000000000000000000000000000000000001", true, 1},
	{"9223372036854775808", false, 0},
	{"-9223372036854775809", false, 0},
	{"123456789012345678901234567890", false, 0},
	{"1.5", false, 0},
	{"1e3", false, 0},
	{"0x10", false, 0},
	{"", false, 0},
	{"-", false, 0},
	{"1__0", false, 0},
	{"_1", false, 0},
	{"1_", false, 0},
	{"12abc", false, 0},
	{" 1", false, 0},
	{"1 ", false, 0},
};

START_TEST(cfg_parse_int)
{
	for (size_t i = 0; i < N(parse_int_cases); i++) {
		int64_t v = -42;
		bool ok = asim_parse_int(parse_int_cases[i].text, &v);
		ck_assert_msg(ok == parse_int_cases[i].ok, "'%s'", parse_int_cases[i].text);
		ck_assert_int_eq(v, ok ? parse_int_cases[i].v : -42);
	}
}
END_TEST

static const struct {
	const char *text;
	int64_t min, max;
	const char *msg;
} int_cases[] = {
	{"6", 1, 64, NULL},
	{"1.5", 1, 64, "expected a whole number for 'instances', got '1.5'"},
	{"abc", 1, 64, "expected a whole number for 'instances', got 'abc'"},
	{"100", 1, 64, "'instances' must be between 1 and 64, got '100'"},
	{"0", 1, INT64_MAX, "'instances' must be at least 1, got '0'"},
	{"11", INT64_MIN, 10, "'instances' must be at most 10, got '11'"},
	{"99999999999999999999", 0, 10, "'instances' must be between 0 and 10, got '99999999999999999999'"},
	{"99999999999999999999", INT64_MIN, INT64_MAX,
	 "'instances' must be between -9223372036854775808 and 9223372036854775807, "
	 "got '99999999999999999999'"},
};

START_TEST(cfg_int)
{
	for (size_t i = 0; i < N(int_cases); i++) {
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_cfg *m = map_with("instances", int_cases[i].text);
		int64_t v = -1;
		bool ok = asim_cfg_int(m, "instances", ASIM_REQUIRED, int_cases[i].min,
		                       int_cases[i].max, &v, &d);
		check_outcome(int_cases[i].text, ok, &d, int_cases[i].msg);
		asim_cfg_free(m);
		asim_diag_finish(&d);
	}
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_cfg *n = asim_cfg_new_map(VAL);
	int64_t v;
	ck_assert(!asim_cfg_node_int(n, 0, 10, &v, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a whole number, got a mapping");
	asim_cfg_free(n);
	asim_diag_finish(&d);
}
END_TEST

/* ---- real numbers ---- */

static const struct {
	const char *text;
	bool ok;
	double v;
} parse_real_cases[] = {
	{"0.5", true, 0.5},
	{"-2.5e3", true, -2500},
	{"+1E2", true, 100},
	{".5", true, 0.5},
	{"5.", true, 5},
	{"1e-400", true, 0},
	{"1e400", false, 0},
	{"inf", false, 0},
	{"nan", false, 0},
	{"0x1p3", false, 0},
	{"", false, 0},
	{".", false, 0},
	{"1.2.3", false, 0},
	{"1e", false, 0},
	{" 1", false, 0},
};

START_TEST(cfg_parse_real)
{
	for (size_t i = 0; i < N(parse_real_cases); i++) {
		double v = -42;
		bool ok = asim_parse_real(parse_real_cases[i].text, &v);
		ck_assert_msg(ok == parse_real_cases[i].ok, "'%s'", parse_real_cases[i].text);
		ck_assert_double_eq_tol(v, ok ? parse_real_cases[i].v : -42, 1e-300);
	}
}
END_TEST

static const struct {
	const char *text;
	double min, max;
	const char *msg;
} real_cases[] = {
	{"0.5", 0, 10, NULL},
	{"11", 0, 10, "'cv' must be between 0 and 10, got '11'"},
	{"-1", 0, DBL_MAX, "'cv' must be at least 0, got '-1'"},
	{"2.5", -DBL_MAX, 1, "'cv' must be at most 1, got '2.5'"},
	{"x", 0, 10, "expected a number for 'cv', got 'x'"},
	{"nan", 0, 10, "expected a number for 'cv', got 'nan'"},
	{"1e400", -DBL_MAX, DBL_MAX, "'cv' must be a finite number, got '1e400'"},
};

START_TEST(cfg_real)
{
	for (size_t i = 0; i < N(real_cases); i++) {
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_cfg *m = map_with("cv", real_cases[i].text);
		double v = -1;
		bool ok = asim_cfg_real(m, "cv", ASIM_REQUIRED, real_cases[i].min, real_cases[i].max,
		                        &v, &d);
		check_outcome(real_cases[i].text, ok, &d, real_cases[i].msg);
		asim_cfg_free(m);
		asim_diag_finish(&d);
	}
}
END_TEST

/* ---- fractions ---- */

static const struct {
	const char *text;
	const char *msg;
	double v;
} fraction_cases[] = {
	{"99.9%", NULL, 0.999},
	{"0.999", NULL, 0.999},
	{"99.99%", NULL, 0.9999},
	{"100%", NULL, 1},
	{"0%", NULL, 0},
	{"50%", NULL, 0.5},
	{"1", NULL, 1},
	{"0", NULL, 0},
	{"150%", "'availability' must be between 0 and 1 (0% and 100%), got '150%'", 0},
	{"1.5", "'availability' must be between 0 and 1 (0% and 100%), got '1.5'", 0},
	{"-1%", "'availability' must be between 0 and 1 (0% and 100%), got '-1%'", 0},
	{"%", "expected a fraction (e.g. 99.9% or 0.999) for 'availability', got '%'", 0},
	{"high", "expected a fraction (e.g. 99.9% or 0.999) for 'availability', got 'high'", 0},
	{"99.9 %", "expected a fraction (e.g. 99.9% or 0.999) for 'availability', got '99.9 %'", 0},
	{"1e-2%", "expected a fraction (e.g. 99.9% or 0.999) for 'availability', got '1e-2%'", 0},
};

START_TEST(cfg_fraction)
{
	for (size_t i = 0; i < N(fraction_cases); i++) {
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_cfg *m = map_with("availability", fraction_cases[i].text);
		double v = -1;
		bool ok = asim_cfg_fraction(m, "availability", ASIM_REQUIRED, &v, &d);
		check_outcome(fraction_cases[i].text, ok, &d, fraction_cases[i].msg);
		/* Exactly the double of the decimal, not of a division. */
		if (ok)
			ck_assert_double_eq(v, fraction_cases[i].v);
		double p = -1;
		ck_assert(asim_parse_fraction(fraction_cases[i].text, &p) == ok);
		ck_assert_double_eq(p, ok ? v : -1);
		asim_cfg_free(m);
		asim_diag_finish(&d);
	}
}
END_TEST

/* ---- booleans, strings, choices ---- */

static const struct {
	const char *text;
	const char *msg;
	bool v;
} bool_cases[] = {
	{"true", NULL, true},   {"false", NULL, false}, {"yes", NULL, true},
	{"no", NULL, false},    {"on", NULL, true},     {"off", NULL, false},
	{"True", NULL, true},   {"FALSE", NULL, false},
	{"maybe", "expected true or false for 'enabled', got 'maybe'", false},
	{"1", "expected true or false for 'enabled', got '1'", false},
	{"", "expected true or false for 'enabled', got ''", false},
};

START_TEST(cfg_bool)
{
	for (size_t i = 0; i < N(bool_cases); i++) {
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_cfg *m = map_with("enabled", bool_cases[i].text);
		bool v = !bool_cases[i].v;
		bool ok = asim_cfg_bool(m, "enabled", ASIM_REQUIRED, &v, &d);
		check_outcome(bool_cases[i].text, ok, &d, bool_cases[i].msg);
		if (ok)
			ck_assert(v == bool_cases[i].v);
		asim_cfg_free(m);
		asim_diag_finish(&d);
	}
}
END_TEST

START_TEST(cfg_string)
{
	struct asim_diag d;
	asim_diag_init(&d);
	const char *s = NULL;
	struct asim_cfg *m = map_with("target", "edge");
	ck_assert(asim_cfg_string(m, "target", ASIM_REQUIRED, &s, &d));
	ck_assert_str_eq(s, "edge");
	ck_assert_ptr_eq(s, asim_cfg_get(m, "target")->text); /* borrowed */
	asim_cfg_free(m);

	m = map_with("target", "");
	ck_assert(!asim_cfg_string(m, "target", ASIM_REQUIRED, &s, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: 'target' must not be empty");
	asim_cfg_free(m);
	asim_diag_finish(&d);

	m = map_with_node("target", asim_cfg_new_map(VAL));
	ck_assert(!asim_cfg_string(m, "target", ASIM_REQUIRED, &s, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a string for 'target', got a mapping");
	asim_cfg_free(m);
	asim_diag_finish(&d);

	struct asim_cfg *n = asim_cfg_new_null(VAL);
	ck_assert(!asim_cfg_node_string(n, &s, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a string, got an empty value");
	asim_cfg_free(n);
	asim_diag_finish(&d);
}
END_TEST

static const char *const policies[] = {"round_robin", "least_outstanding", "random", NULL};

static const struct {
	const char *text;
	const char *msg;
	int v;
} choice_cases[] = {
	{"round_robin", NULL, 0},
	{"random", NULL, 2},
	{"rnadom", "expected one of round_robin, least_outstanding, random for 'policy', "
	           "got 'rnadom' (did you mean 'random'?)", 0},
	{"least_outstandng", "expected one of round_robin, least_outstanding, random for "
	                     "'policy', got 'least_outstandng' (did you mean 'least_outstanding'?)", 0},
	{"fifo", "expected one of round_robin, least_outstanding, random for 'policy', "
	         "got 'fifo'", 0},
	{"Random", "expected one of round_robin, least_outstanding, random for 'policy', "
	           "got 'Random' (did you mean 'random'?)", 0},
};

START_TEST(cfg_choice)
{
	for (size_t i = 0; i < N(choice_cases); i++) {
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_cfg *m = map_with("policy", choice_cases[i].text);
		int v = -1;
		bool ok = asim_cfg_choice(m, "policy", ASIM_REQUIRED, policies, &v, &d);
		check_outcome(choice_cases[i].text, ok, &d, choice_cases[i].msg);
		ck_assert_int_eq(v, ok ? choice_cases[i].v : -1);
		asim_cfg_free(m);
		asim_diag_finish(&d);
	}
	struct asim_diag d;
	asim_diag_init(&d);
	int v;
	struct asim_cfg *n = asim_cfg_new_seq(VAL);
	ck_assert(!asim_cfg_node_choice(n, "policy", policies, &v, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected one of round_robin, "
	                            "least_outstanding, random for 'policy', got an empty list");
	asim_cfg_free(n);
	asim_diag_finish(&d);
	n = asim_cfg_new_scalar("x", VAL);
	ck_assert(!asim_cfg_node_choice(n, NULL, policies, &v, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected one of round_robin, "
	                            "least_outstanding, random, got 'x'");
	asim_cfg_free(n);
	asim_diag_finish(&d);
}
END_TEST

/* ---- mappings ---- */

START_TEST(cfg_expect_map)
{
	static const char *const allowed[] = {"kind", "capacity", "ttl", "hit_time", "backing",
	                                      NULL};
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_cfg *m = asim_cfg_new_map(MAP);
	m->ctx = "cache";
	ck_assert(asim_cfg_map_add(m, "kind", (struct asim_mark){.file = "t.yaml", .line = 20, .col = 3},
	                           asim_cfg_new_scalar("cache", VAL)));
	ck_assert(asim_cfg_expect_map(m, NULL, allowed, &d));
	ck_assert_uint_eq(asim_diag_count(&d), 0);
	ck_assert(asim_cfg_map_add(m, "ttl_sec", (struct asim_mark){.file = "t.yaml", .line = 21, .col = 3},
	                           asim_cfg_new_scalar("60s", VAL)));
	ck_assert(asim_cfg_map_add(m, "zzz", (struct asim_mark){.file = "t.yaml", .line = 22, .col = 3},
	                           asim_cfg_new_scalar("1", VAL)));
	ck_assert(!asim_cfg_expect_map(m, NULL, allowed, &d));
	ck_assert_uint_eq(asim_diag_count(&d), 2);
	char buf[256];
	asim_diag_format(&d, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "t.yaml:21:3: error: unknown key 'ttl_sec' in 'cache' "
	                      "(did you mean 'ttl'?)");
	asim_diag_format(&d, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "t.yaml:22:3: error: unknown key 'zzz' in 'cache'");
	asim_diag_finish(&d);

	/* The ctx argument wins over the node's own. */
	ck_assert(!asim_cfg_expect_map(m, "db", allowed, &d));
	ck_assert_str_eq(first(&d), "t.yaml:21:3: error: unknown key 'ttl_sec' in 'db' "
	                            "(did you mean 'ttl'?)");
	asim_diag_finish(&d);
	asim_cfg_free(m);

	struct asim_cfg *s = asim_cfg_new_seq(VAL);
	ck_assert(!asim_cfg_expect_map(s, "cache", allowed, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a mapping for 'cache', got an empty list");
	asim_diag_finish(&d);
	asim_cfg_free(s);
	s = asim_cfg_new_scalar("lru", VAL);
	ck_assert(!asim_cfg_expect_map(s, "cache", allowed, &d));
	ck_assert_str_eq(first(&d), "t.yaml:3:7: error: expected a mapping for 'cache', got 'lru'");
	asim_diag_finish(&d);
	asim_cfg_free(s);
}
END_TEST

static Suite *cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, cfg_diag_format);
	tcase_add_test(tc, cfg_diag_via_alias_and_long);
	tcase_add_test(tc, cfg_diag_suggest);
	tcase_add_test(tc, cfg_tree_build_and_lookup);
	tcase_add_test(tc, cfg_type_name_cuts_long_text);
	tcase_add_test(tc, cfg_parse_time);
	tcase_add_test(tc, cfg_time);
	tcase_add_test(tc, cfg_time_types_and_presence);
	tcase_add_test(tc, cfg_parse_rate);
	tcase_add_test(tc, cfg_rate);
	tcase_add_test(tc, cfg_parse_int);
	tcase_add_test(tc, cfg_int);
	tcase_add_test(tc, cfg_parse_real);
	tcase_add_test(tc, cfg_real);
	tcase_add_test(tc, cfg_fraction);
	tcase_add_test(tc, cfg_bool);
	tcase_add_test(tc, cfg_string);
	tcase_add_test(tc, cfg_choice);
	tcase_add_test(tc, cfg_expect_map);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cfg_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
