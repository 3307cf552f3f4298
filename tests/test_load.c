/* The YAML loader: marks, context names, aliases, and every way a file can
 * be bad, each with its exact first diagnostic. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct asim_doc *load(const char *text, struct asim_diag *d)
{
	return asim_doc_load_buffer("t.yaml", text, strlen(text), d);
}

static const char *first(const struct asim_diag *d)
{
	static char buf[1024];
	ck_assert_uint_ge(d->n, 1);
	asim_diag_format(d, 0, buf, sizeof(buf));
	return buf;
}

/* Follows a dotted path of keys and [i] indexes from the root. */
static const struct asim_cfg *at(const struct asim_doc *doc, const char *path)
{
	const struct asim_cfg *n = doc->root;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *part = strtok_r(buf, ".", &save); part && n;
	     part = strtok_r(NULL, ".", &save)) {
		char *end;
		errno = 0;
		long i = strtol(part, &end, 10);
		if (*end == '\0' && errno == 0 && n->type == ASIM_CFG_SEQ)
			n = i >= 0 && (size_t)i < n->n ? n->items[i] : NULL;
		else
			n = asim_cfg_get(n, part);
	}
	ck_assert_msg(n != NULL, "no node at %s", path);
	return n;
}

static const char web[] =
	"# A comment first, so lines are not trivially 1.\n"
	"name: web\n"
	"seed: 42\n"
	"components:\n"
	"  users:\n"
	"    kind: client\n"
	"    rate: 2000/s\n"
	"    retries: {max: 3, base: 10ms}\n"
	"    target: \"edge\"\n"
	"  api:\n"
	"    kind: service\n"
	"    calls:\n"
	"      - {read: cache}\n"
	"      - write: db\n"
	"faults:\n"
	"  - {at: 4m, for: 2m, kind: zone_loss}\n"
	"slo: {p95: 200ms, availability: 99.9%}\n"
	"empty:\n"
	"tilde: ~\n"
	"quoted_null: 'null'\n"
	"caf\xc3\xa9: {x: 1}\n";

START_TEST(load_marks)
{
	static const struct {
		const char *path;
		int line, col;
	} cases[] = {
		{"name", 2, 7},
		{"seed", 3, 7},
		{"components", 5, 3},
		{"components.users", 6, 5},
		{"components.users.kind", 6, 11},
		{"components.users.rate", 7, 11},
		{"components.users.retries", 8, 14},
		{"components.users.retries.base", 8, 29},
		{"components.users.target", 9, 13},
		{"components.api.calls", 13, 7},
		{"components.api.calls.0", 13, 9},
		{"components.api.calls.0.read", 13, 16},
		{"components.api.calls.1", 14, 9},
		{"components.api.calls.1.write", 14, 16},
		{"faults.0.kind", 16, 29},
		{"slo.availability", 17, 33},
		/* Columns count characters, as an editor does, not bytes. */
		{"caf\xc3\xa9.x", 21, 11},
	};
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_doc *doc = load(web, &d);
	asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(doc);
	ck_assert_uint_eq(asim_diag_count(&d), 0);
	ck_assert_str_eq(doc->file, "t.yaml");
	for (size_t i = 0; i < N(cases); i++) {
		const struct asim_cfg *n = at(doc, cases[i].path);
		ck_assert_msg(n->mark.line == cases[i].line && n->mark.col == cases[i].col,
		              "%s at %d:%d, want %d:%d", cases[i].path, n->mark.line, n->mark.col,
		              cases[i].line, cases[i].col);
		ck_assert_ptr_eq(n->mark.file, doc->file);
	}
	/* Keys carry their own marks. */
	const struct asim_cfg_pair *p = asim_cfg_pair(at(doc, "components.users"), "retries");
	ck_assert_int_eq(p->key_mark.line, 8);
	ck_assert_int_eq(p->key_mark.col, 5);
	asim_doc_free(doc);
	asim_diag_finish(&d);
}
END_TEST

START_TEST(load_values_and_context_names)
{
	static const struct {
		const char *path;
		const char *ctx;
	} cases[] = {
		{"components", "components"},
		{"components.users", "users"},
		{"components.users.retries", "users.retries"},
		{"components.api", "api"},
		{"components.api.calls.0", "api.calls[0]"},
		{"components.api.calls.1", "api.calls[1]"},
		{"faults.0", "faults[0]"},
		{"slo", "slo"},
	};
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_doc *doc = load(web, &d);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(doc->root->ctx, "scenario");
	for (size_t i = 0; i < N(cases); i++)
		ck_assert_str_eq(at(doc, cases[i].path)->ctx, cases[i].ctx);

	ck_assert_str_eq(at(doc, "seed")->text, "42");
	ck_assert(!at(doc, "seed")->quoted);
	ck_assert_str_eq(at(doc, "components.users.target")->text, "edge");
	ck_assert(at(doc, "components.users.target")->quoted);
	ck_assert_int_eq(at(doc, "empty")->type, ASIM_CFG_NULL);
	ck_assert_int_eq(at(doc, "tilde")->type, ASIM_CFG_NULL);
	/* Quoted, "null" is text. */
	ck_assert_int_eq(at(doc, "quoted_null")->type, ASIM_CFG_SCALAR);
	ck_assert_int_eq(at(doc, "faults")->type, ASIM_CFG_SEQ);
	ck_assert_str_eq(doc->root->pairs[0].key, "name"); /* file order */
	asim_doc_free(doc);
	asim_diag_finish(&d);
}
END_TEST

START_TEST(load_aliases_copy_subtrees)
{
	static const char text[] =
		"defaults: &d {timeout: 250ms, retries: {max: 3}}\n"
		"n: &n 5\n"
		"components:\n"
		"  a: *d\n"
		"  b: {kind: x, count: *n}\n"
		"list: [*d, *d]\n"
		"k: &k key\n"
		"m: {*k : 1}\n";
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_doc *doc = load(text, &d);
	asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(doc);
	const struct asim_cfg *a = at(doc, "components.a");
	ck_assert_ptr_ne(a, at(doc, "defaults")); /* a copy, not shared */
	ck_assert_str_eq(at(doc, "components.a.timeout")->text, "250ms");
	ck_assert_str_eq(at(doc, "components.a.retries.max")->text, "3");
	/* Marks point at the text the value came from; names at where it is used. */
	ck_assert_int_eq(at(doc, "components.a.timeout")->mark.line, 1);
	ck_assert_str_eq(a->ctx, "a");
	ck_assert_str_eq(at(doc, "components.a.retries")->ctx, "a.retries");
	ck_assert_str_eq(at(doc, "defaults.retries")->ctx, "defaults.retries");
	ck_assert_str_eq(at(doc, "list.1")->ctx, "list[1]");
	ck_assert_str_eq(at(doc, "components.b.count")->text, "5");
	ck_assert_str_eq(at(doc, "m.key")->text, "1");
	asim_doc_free(doc);
	asim_diag_finish(&d);
}
END_TEST

/* Each text, loaded as t.yaml, fails with exactly this first diagnostic. */
static const struct {
	const char *text;
	const char *msg;
} bad_cases[] = {
	{"", "t.yaml: error: empty scenario: expected a mapping of settings"},
	{"   \n\n", "t.yaml: error: empty scenario: expected a mapping of settings"},
	{"# only a comment\n", "t.yaml: error: empty scenario: expected a mapping of settings"},
	{"---\n", "t.yaml: error: empty scenario: expected a mapping of settings"},
	{"~\n", "t.yaml: error: empty scenario: expected a mapping of settings"},
	{"- a\n- b\n", "t.yaml:1:1: error: expected a mapping of settings at the top level, got a list"},
	{"hello\n", "t.yaml:1:1: error: expected a mapping of settings at the top level, got 'hello'"},
	{"a: 1\n---\nb: 2\n",
	 "t.yaml:2:1: error: more than one YAML document (a scenario is a single document)"},
	{"a: 1\n...\n---\nb: 2\n",
	 "t.yaml:3:1: error: more than one YAML document (a scenario is a single document)"},
	{"a: 1\nb:\n  c: 2\n  c: 3\n", "t.yaml:4:3: error: duplicate key 'c' (first defined at line 3)"},
	{"\"a\": 1\na: 2\n", "t.yaml:2:1: error: duplicate key 'a' (first defined at line 1)"},
	{"a: {x: 1, y: 2, x: 3}\n", "t.yaml:1:17: error: duplicate key 'x' (first defined at line 1)"},
	{"? [a]\n: 1\n", "t.yaml:1:3: error: expected a name as mapping key, got a list"},
	{"? {a: 1}\n: 1\n", "t.yaml:1:3: error: expected a name as mapping key, got a mapping"},
	{"a: 1\n? \n: 2\n", "t.yaml:2:2: error: expected a name as mapping key, got an empty value"},
	{"a: &m {x: 1}\n*m : 2\n", "t.yaml:2:1: error: expected a name as mapping key, got a mapping"},
	{"a: *x\n", "t.yaml:1:4: error: unknown alias '*x' (no anchor '&x' before it)"},
	{"a: &common 1\nb: *commom\n", "t.yaml:2:4: error: unknown alias '*commom' (did you mean '*common'?)"},
	{"a: 1\n*x : 2\n", "t.yaml:2:1: error: unknown alias '*x' (no anchor '&x' before it)"},
	{"a: &x [*x]\n",
	 "t.yaml:1:8: error: alias '*x' is inside its own anchor (recursive data is not supported)"},
	{"d: &d {t: 1}\ne:\n  <<: *d\n", "t.yaml:3:3: error: merge keys ('<<') are not supported"},
	{"a: \"x\\0y\"\n", "t.yaml:1:4: error: text with a NUL character (\\0) is not supported"},
	{"a: [1, 2\nb: 3\n",
	 "t.yaml:2:2: error: invalid YAML: did not find expected ',' or ']' "
	 "(while parsing a flow sequence started at line 1)"},
	{"a: b: c\n", "t.yaml:1:5: error: invalid YAML: mapping values are not allowed in this context"},
	{"a:\n  b: 1\n c: 2\n",
	 "t.yaml:3:2: error: invalid YAML: did not find expected key "
	 "(while parsing a block mapping started at line 1)"},
	{"a: 1\nb:\n\tc: 2\n", "t.yaml:3:1: error: invalid YAML: tab character (indent with spaces)"},
	{"a: 'open\n", "t.yaml:2:1: error: invalid YAML: found unexpected end of stream "
	               "(while scanning a quoted scalar started at line 1)"},
	{"a: 1\nb: \x01\n",
	 "t.yaml:2:4: error: invalid YAML: control characters are not allowed (found byte 0x01)"},
	{"a: caf\xe9\n", "t.yaml:1:7: error: invalid YAML: incomplete UTF-8 octet sequence"},
	{"a: \xff\n", "t.yaml:1:4: error: invalid YAML: invalid leading UTF-8 octet (found byte 0xFF)"},
	/* A UTF-8 byte order mark is skipped, and columns on line 1 are as an
	 * editor shows them (without it). */
	{"\xef\xbb\xbf" "a: 1\na: 2\n", "t.yaml:2:1: error: duplicate key 'a' (first defined at line 1)"},
	{"\xef\xbb\xbf" "a: b: c\n",
	 "t.yaml:1:5: error: invalid YAML: mapping values are not allowed in this context"},
	{"\xef\xbb\xbf" "a: \x01\n",
	 "t.yaml:1:4: error: invalid YAML: control characters are not allowed (found byte 0x01)"},
	{"\xff\xfe" "a\0:\0 \0" "1\0", "t.yaml:1:1: error: invalid YAML: invalid leading UTF-8 octet (found byte 0xFF)"},
	{"x: " "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	 "t.yaml:1:67: error: too deeply nested: more than 64 levels"},
	{"a: &a [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
	 "b: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	 "t.yaml:2:34: error: too deeply nested: more than 64 levels"},
};

START_TEST(load_errors)
{
	for (size_t i = 0; i < N(bad_cases); i++) {
		struct asim_diag d;
		asim_diag_init(&d);
		/* Sizes are given, not taken from strlen, so NULs are loaded too. */
		size_t len = strlen(bad_cases[i].text);
		if (bad_cases[i].text[0] == '\xff')
			len = 10;
		struct asim_doc *doc = asim_doc_load_buffer("t.yaml", bad_cases[i].text, len, &d);
		ck_assert_msg(doc == NULL, "case %zu loaded", i);
		ck_assert_msg(d.n >= 1, "case %zu: no diagnostic", i);
		ck_assert_msg(strcmp(first(&d), bad_cases[i].msg) == 0, "case %zu:\n got: %s\nwant: %s",
		              i, first(&d), bad_cases[i].msg);
		asim_diag_finish(&d);
	}
}
END_TEST

/* A file saved with a byte order mark (Notepad does) loads as without one. */
START_TEST(load_skips_utf8_bom)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_doc *doc = load("\xef\xbb\xbfname: x\nseed: 7\n", &d);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(at(doc, "name")->text, "x");
	ck_assert_int_eq(at(doc, "name")->mark.col, 7);
	ck_assert_int_eq(at(doc, "seed")->mark.line, 2);
	asim_doc_free(doc);
	asim_diag_finish(&d);
}
END_TEST

START_TEST(load_nesting_at_the_limit)
{
	char text[256];
	int depth = ASIM_LOAD_MAX_DEPTH - 1; /* plus the top-level mapping */
	int o = snprintf(text, sizeof(text), "x: ");
	for (int i = 0; i < depth; i++)
		text[o++] = '[';
	for (int i = 0; i < depth; i++)
		text[o++] = ']';
	text[o] = '\0';
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_doc *doc = load(text, &d);
	ck_assert_ptr_nonnull(doc);
	asim_doc_free(doc);
	asim_diag_finish(&d);
}
END_TEST

START_TEST(load_keeps_going_after_mild_errors)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_doc *doc = load("a: 1\na: 2\nb: *nope\nc: {x: 1, x: 2}\n", &d);
	ck_assert_ptr_null(doc);
	ck_assert_uint_eq(asim_diag_count(&d), 3);
	char buf[256];
	asim_diag_format(&d, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "t.yaml:3:4: error: unknown alias '*nope' (no anchor '&nope' before it)");
	asim_diag_format(&d, 2, buf, sizeof(buf));
	ck_assert_str_eq(buf, "t.yaml:4:11: error: duplicate key 'x' (first defined at line 4)");
	asim_diag_finish(&d);
}
END_TEST

/* A mapping of many keys is checked for duplicates by hashing; the answer
 * must be the same as for a small one. */
START_TEST(load_many_keys)
{
	size_t n = 20000;
	char *text = malloc(n * 16 + 32);
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(text + o, "k%zu: %zu\n", i, i);
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_doc *doc = asim_doc_load_buffer("t.yaml", text, o, &d);
	ck_assert_ptr_nonnull(doc);
	ck_assert_uint_eq(doc->root->n, n);
	ck_assert_str_eq(asim_cfg_get(doc->root, "k12345")->text, "12345");
	asim_doc_free(doc);
	o += (size_t)sprintf(text + o, "k777: again\n");
	doc = asim_doc_load_buffer("t.yaml", text, o, &d);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(first(&d), "t.yaml:20001:1: error: duplicate key 'k777' (first defined at line 778)");
	asim_diag_finish(&d);
	free(text);
}
END_TEST

/* The billion laughs: ten lines that would expand to a billion values. The
 * node budget is checked before each copy, so this fails at once. */
START_TEST(load_billion_laughs)
{
	char text[2048];
	int o = sprintf(text, "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (int i = 1; i < 10; i++) {
		o += sprintf(text + o, "l%d: &l%d [", i, i);
		for (int j = 0; j < 9; j++)
			o += sprintf(text + o, "%s*l%d", j ? ", " : "", i - 1);
		o += sprintf(text + o, "]\n");
	}
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_doc *doc = load(text, &d);
	ck_assert_ptr_null(doc);
	ck_assert_uint_eq(asim_diag_count(&d), 1);
	ck_assert_str_eq(first(&d), "t.yaml:7:10: error: document too large: more than 1000000 "
	                            "values (aliases included)");
	asim_diag_finish(&d);
}
END_TEST

START_TEST(load_file_errors)
{
	struct asim_diag d;
	asim_diag_init(&d);
	ck_assert_ptr_null(asim_doc_load_file("/nonexistent/dir/x.yaml", &d));
	ck_assert_str_eq(first(&d), "/nonexistent/dir/x.yaml: error: cannot read file: "
	                            "No such file or directory");
	asim_diag_finish(&d);
	ck_assert_ptr_null(asim_doc_load_file("/", &d));
	ck_assert_str_eq(first(&d), "/: error: cannot read file: Is a directory");
	asim_diag_finish(&d);

	/* A sparse file one byte over the limit. */
	char path[] = "/tmp/archsim-load-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)ASIM_LOAD_MAX_BYTES + 1), 0);
	close(fd);
	ck_assert_ptr_null(asim_doc_load_file(path, &d));
	char want[256];
	snprintf(want, sizeof(want), "%s: error: file too large: the limit is 16777216 bytes", path);
	ck_assert_str_eq(first(&d), want);
	asim_diag_finish(&d);

	/* A real file loads with its name in every mark. */
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "a:\n  b: 1\n", 10), 10);
	close(fd);
	struct asim_doc *doc = asim_doc_load_file(path, &d);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(doc->file, path);
	ck_assert_str_eq(at(doc, "a.b")->mark.file, path);
	ck_assert_int_eq(at(doc, "a.b")->mark.line, 2);
	asim_doc_free(doc);
	unlink(path);
	asim_diag_finish(&d);
}
END_TEST

/* A fixed generator, so the "random" inputs are the same on every run. */
static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* Garbage and every prefix of a real scenario: each either loads or fails
 * with a diagnostic, never crashes, hangs or leaks (valgrind checks that). */
START_TEST(load_garbage_never_crashes)
{
	uint32_t seed = 12345;
	char buf[512];
	for (int round = 0; round < 300; round++) {
		size_t len = next_rand(&seed) % sizeof(buf);
		/* Half pure noise; half drawn from YAML's own punctuation. */
		static const char yamlish[] = "{}[]:,-?&*!|>'\"#%@` \n\tab1";
		for (size_t i = 0; i < len; i++)
			buf[i] = round % 2 ? (char)next_rand(&seed)
			                   : yamlish[next_rand(&seed) % (sizeof(yamlish) - 1)];
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_doc *doc = asim_doc_load_buffer("g.yaml", buf, len, &d);
		ck_assert(doc != NULL || asim_diag_count(&d) > 0);
		ck_assert(doc == NULL || doc->root->type == ASIM_CFG_MAP);
		asim_doc_free(doc);
		asim_diag_finish(&d);
	}
	for (size_t len = 0; len <= sizeof(web) - 1; len++) {
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_doc *doc = asim_doc_load_buffer("p.yaml", web, len, &d);
		ck_assert_msg(doc != NULL || asim_diag_count(&d) > 0, "prefix %zu", len);
		asim_doc_free(doc);
		asim_diag_finish(&d);
	}
}
END_TEST

static const char *source_root(void)
{
	const char *r = getenv("ARCHSIM_SOURCE_ROOT");
	return r ? r : ".";
}

/* The expectation of scenarios/invalid/NAME.yaml: NAME.expect if present,
 * else its "# expect: " line (see scenarios/invalid/README.md). */
static bool expectation(const char *rel, char *buf, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%.*s.expect", (int)(strlen(rel) - 5), rel);
	FILE *f = fopen(path, "rb");
	bool found = false;
	if (f) {
		found = fgets(buf, (int)len, f) != NULL;
	} else if ((f = fopen(rel, "rb"))) {
		char line[1024];
		while (!found && fgets(line, sizeof(line), f)) {
			if (strncmp(line, "# expect: ", 10) == 0) {
				snprintf(buf, len, "%s", line + 10);
				found = true;
			}
		}
	}
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return found;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(load_invalid_yaml_scenarios)
{
	ck_assert_int_eq(chdir(source_root()), 0);
	DIR *dir = opendir("scenarios/invalid");
	ck_assert_ptr_nonnull(dir);
	char *names[256];
	size_t n = 0;
	for (struct dirent *e; (e = readdir(dir)) && n < N(names);) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, "yaml-", 5) == 0 && len > 5 &&
		    strcmp(e->d_name + len - 5, ".yaml") == 0)
			names[n++] = strdup(e->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(names[0]), cmp_names);
	ck_assert_uint_ge(n, 11);
	for (size_t i = 0; i < n; i++) {
		char rel[512], want[1024] = "";
		snprintf(rel, sizeof(rel), "scenarios/invalid/%s", names[i]);
		ck_assert_msg(expectation(rel, want, sizeof(want)), "%s: no expectation", rel);
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_doc *doc = asim_doc_load_file(rel, &d);
		ck_assert_msg(doc == NULL, "%s loaded", rel);
		ck_assert_msg(strcmp(first(&d), want) == 0, "%s:\n got: %s\nwant: %s", rel,
		              first(&d), want);
		asim_diag_finish(&d);
		free(names[i]);
	}
}
END_TEST

static Suite *load_suite(void)
{
	Suite *s = suite_create("load");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, load_marks);
	tcase_add_test(tc, load_values_and_context_names);
	tcase_add_test(tc, load_aliases_copy_subtrees);
	tcase_add_test(tc, load_errors);
	tcase_add_test(tc, load_skips_utf8_bom);
	tcase_add_test(tc, load_nesting_at_the_limit);
	tcase_add_test(tc, load_keeps_going_after_mild_errors);
	tcase_add_test(tc, load_many_keys);
	tcase_add_test(tc, load_billion_laughs);
	tcase_add_test(tc, load_file_errors);
	tcase_add_test(tc, load_garbage_never_crashes);
	tcase_add_test(tc, load_invalid_yaml_scenarios);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(load_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
