/* The scenario as a data tree, and the accessors that turn its text into
 * typed values exactly, reporting every problem at the value's position. */
#include "archsim/cfg.h"
#include "cfg_private.h"

#include <assert.h>
#include <ctype.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tree ---- */

static struct asim_cfg *node_new(enum asim_cfg_type type, struct asim_mark mark)
{
	struct asim_cfg *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->type = type;
	n->mark = mark;
	return n;
}

struct asim_cfg *asim_cfg_new_scalar(const char *text, struct asim_mark mark)
{
	struct asim_cfg *n = node_new(ASIM_CFG_SCALAR, mark);
	if (!n)
		return NULL;
	n->text = strdup(text ? text : "");
	if (!n->text) {
		free(n);
		return NULL;
	}
	return n;
}

struct asim_cfg *asim_cfg_new_map(struct asim_mark mark)
{
	return node_new(ASIM_CFG_MAP, mark);
}

struct asim_cfg *asim_cfg_new_seq(struct asim_mark mark)
{
	return node_new(ASIM_CFG_SEQ, mark);
}

struct asim_cfg *asim_cfg_new_null(struct asim_mark mark)
{
	return node_new(ASIM_CFG_NULL, mark);
}

/* Capacity is not stored in the node, so arrays grow to the next power of
 * two: n is a power of two exactly when the array is full. */
static bool needs_growth(size_t n)
{
	return n == 0 || (n & (n - 1)) == 0;
}

bool asim_cfg_map_add(struct asim_cfg *map, const char *key, struct asim_mark key_mark,
                      struct asim_cfg *value)
{
	assert(map && map->type == ASIM_CFG_MAP);
	if (needs_growth(map->n)) {
		size_t cap = map->n ? 2 * map->n : 1;
		struct asim_cfg_pair *p = realloc(map->pairs, cap * sizeof(*p));
		if (!p)
			goto fail;
		map->pairs = p;
	}
	char *k = strdup(key);
	if (!k)
		goto fail;
	map->pairs[map->n].key = k;
	map->pairs[map->n].key_mark = key_mark;
	map->pairs[map->n].value = value;
	map->n++;
	return true;
fail:
	asim_cfg_free(value);
	return false;
}

bool asim_cfg_seq_add(struct asim_cfg *seq, struct asim_cfg *item)
{
	assert(seq && seq->type == ASIM_CFG_SEQ);
	if (needs_growth(seq->n)) {
		size_t cap = seq->n ? 2 * seq->n : 1;
		struct asim_cfg **v = realloc(seq->items, cap * sizeof(*v));
		if (!v) {
			asim_cfg_free(item);
			return false;
		}
		seq->items = v;
	}
	seq->items[seq->n++] = item;
	return true;
}

void asim_cfg_free(struct asim_cfg *node)
{
	if (!node)
		return;
	if (node->type == ASIM_CFG_MAP) {
		for (size_t i = 0; i < node->n; i++) {
			free(node->pairs[i].key);
			asim_cfg_free(node->pairs[i].value);
		}
	} else if (node->type == ASIM_CFG_SEQ) {
		for (size_t i = 0; i < node->n; i++)
			asim_cfg_free(node->items[i]);
	}
	free(node->pairs);
	free(node->items);
	free(node->text);
	free(node);
}

const struct asim_cfg_pair *asim_cfg_pair(const struct asim_cfg *map, const char *key)
{
	if (!map || map->type != ASIM_CFG_MAP || !key)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key, key) == 0)
			return &map->pairs[i];
	return NULL;
}

const struct asim_cfg *asim_cfg_get(const struct asim_cfg *map, const char *key)
{
	const struct asim_cfg_pair *p = asim_cfg_pair(map, key);
	return p ? p->value : NULL;
}

/* ---- text for messages ---- */

/* Quoted text is cut here: a message quotes user input to locate it, not to
 * reproduce a megabyte of it. */
#define QUOTE_MAX 40

/* Writes 'text' into buf (at least QUOTE_MAX + 8 bytes), cut at a character
 * boundary and with control characters shown as '?', so that a message
 * stays one readable line whatever the input held. */
static void quote(char *buf, const char *text)
{
	size_t o = 0, i = 0;
	buf[o++] = '\'';
	for (; text[i] && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)text[i];
		buf[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (text[i]) {
		/* Do not leave half of a UTF-8 sequence before the ellipsis. */
		while (o > 1 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 1 && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
			o--;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
}

#define DESC_LEN (QUOTE_MAX + 16)

static void describe(char *buf, const struct asim_cfg *node)
{
	if (!node) {
		strcpy(buf, "nothing");
		return;
	}
	switch (node->type) {
	case ASIM_CFG_NULL:
		strcpy(buf, "an empty value");
		break;
	case ASIM_CFG_MAP:
		strcpy(buf, "a mapping");
		break;
	case ASIM_CFG_SEQ: /* "expected a list ..., got a list" would say nothing */
		strcpy(buf, node->n ? "a list" : "an empty list");
		break;
	case ASIM_CFG_SCALAR:
		quote(buf, node->text);
		break;
	}
}

const char *asim_cfg_type_name(const struct asim_cfg *node)
{
	/* One buffer per thread: the result is meant to be passed straight to a
	 * message, as the header's examples do. */
	static _Thread_local char buf[DESC_LEN];
	describe(buf, node);
	return buf;
}

/* " for 'name'" or nothing, for the node forms that know no key. */
static void for_name(char *buf, const char *name)
{
	if (!name) {
		buf[0] = '\0';
		return;
	}
	char q[DESC_LEN];
	quote(q, name);
	snprintf(buf, DESC_LEN + 8, " for %s", q);
}

/* Reports "expected WHAT for 'NAME', got DESC (DETAIL)". */
static void expected(struct asim_diag *d, const struct asim_cfg *node, const char *what,
                     const char *name, const char *detail)
{
	char fn[DESC_LEN + 8], got[DESC_LEN];
	for_name(fn, name);
	describe(got, node);
	if (detail)
		asim_diag_error(d, node->mark, "expected %s%s, got %s (%s)", what, fn, got, detail);
	else
		asim_diag_error(d, node->mark, "expected %s%s, got %s", what, fn, got);
}

/* "'name'" or "value" as the subject of a range message. */
static void subject(char *buf, const char *name)
{
	if (name)
		quote(buf, name);
	else
		strcpy(buf, "value");
}

/* Reports "'NAME' must be BOUND, got 'TEXT'". */
static void out_of_range(struct asim_diag *d, const struct asim_cfg *node, const char *name,
                         const char *bound)
{
	char s[DESC_LEN], got[DESC_LEN];
	subject(s, name);
	describe(got, node);
	asim_diag_error(d, node->mark, "%s must be %s, got %s", s, bound, got);
}

/* The bound phrase: "at least A", "at most B" or "between A and B", leaving
 * out a side that is the type's own limit and so says nothing. */
static void bound_phrase(char *buf, size_t len, const char *lo, const char *hi)
{
	if (lo && hi)
		snprintf(buf, len, "between %s and %s", lo, hi);
	else if (lo)
		snprintf(buf, len, "at least %s", lo);
	else
		snprintf(buf, len, "at most %s", hi);
}

/* ---- accessors ---- */

/* Finds key in map. Returns false only when it is required and absent. */
static bool lookup(const struct asim_cfg *map, const char *key, enum asim_need need,
                   const struct asim_cfg **out, struct asim_diag *d)
{
	*out = asim_cfg_get(map, key);
	if (*out || need != ASIM_REQUIRED)
		return true;
	char k[DESC_LEN], c[DESC_LEN];
	quote(k, key);
	struct asim_mark mark = map ? map->mark : (struct asim_mark){0};
	if (map && map->ctx) {
		quote(c, map->ctx);
		asim_diag_error(d, mark, "missing required key %s in %s", k, c);
	} else {
		asim_diag_error(d, mark, "missing required key %s", k);
	}
	return false;
}

static bool is_scalar(const struct asim_cfg *node)
{
	return node->type == ASIM_CFG_SCALAR;
}

bool asim_cfg_expect_map(const struct asim_cfg *node, const char *ctx,
                         const char *const *allowed, struct asim_diag *d)
{
	if (!ctx)
		ctx = node->ctx;
	if (node->type != ASIM_CFG_MAP) {
		expected(d, node, "a mapping", ctx, NULL);
		return false;
	}
	if (!allowed)
		return true; /* keys are names the user chose */
	bool ok = true;
	for (size_t i = 0; i < node->n; i++) {
		const struct asim_cfg_pair *p = &node->pairs[i];
		bool known = false;
		for (size_t j = 0; allowed && allowed[j]; j++) {
			if (strcmp(p->key, allowed[j]) == 0) {
				known = true;
				break;
			}
		}
		if (known)
			continue;
		ok = false;
		char k[DESC_LEN], c[DESC_LEN + 8], s[DESC_LEN + 24];
		quote(k, p->key);
		c[0] = '\0';
		if (ctx) {
			char q[DESC_LEN];
			quote(q, ctx);
			snprintf(c, sizeof(c), " in %s", q);
		}
		s[0] = '\0';
		const char *guess = asim_diag_suggest(p->key, allowed);
		if (guess) {
			char q[DESC_LEN];
			quote(q, guess);
			snprintf(s, sizeof(s), " (did you mean %s?)", q);
		}
		asim_diag_error(d, p->key_mark, "unknown key %s%s%s", k, c, s);
	}
	return ok;
}

static bool node_time(const struct asim_cfg *node, const char *name, asim_time min,
                      asim_time max, asim_time *out, struct asim_diag *d)
{
	assert(min <= max);
	static const char what[] = "a duration (e.g. 250ms)";
	if (!is_scalar(node)) {
		expected(d, node, what, name, NULL);
		return false;
	}
	asim_time t = 0;
	char s[DESC_LEN], got[DESC_LEN], fn[DESC_LEN + 8];
	switch (cfg_parse_time(node->text, &t)) {
	case P_OK:
		break;
	case P_SYNTAX:
		expected(d, node, what, name, NULL);
		return false;
	case P_NO_UNIT:
		expected(d, node, "a duration with a unit (e.g. 250ms)", name, NULL);
		return false;
	case P_UNIT:
		expected(d, node, what, name, "units: " UNITS_TEXT);
		return false;
	case P_NEGATIVE:
		subject(s, name);
		describe(got, node);
		asim_diag_error(d, node->mark, "%s must not be negative, got %s", s, got);
		return false;
	case P_FINE:
		expected(d, node, what, name, "below nanosecond resolution");
		return false;
	case P_RANGE:
		/* Where the key has a tighter bound than the type, that bound is
		 * what the user needs to read. */
		if (max < ASIM_TIME_MAX) {
			t = ASIM_TIME_MAX;
			break;
		}
		for_name(fn, name);
		describe(got, node);
		asim_diag_error(d, node->mark,
		                "duration too large%s, got %s (the limit is about 292 years)",
		                fn, got);
		return false;
	}
	if (t < min || t > max) {
		char lo[48], hi[48], b[112];
		cfg_format_time(lo, sizeof(lo), min);
		cfg_format_time(hi, sizeof(hi), max);
		bound_phrase(b, sizeof(b), min > 0 ? lo : NULL, max < ASIM_TIME_MAX ? hi : NULL);
		out_of_range(d, node, name, b);
		return false;
	}
	*out = t;
	return true;
}

bool asim_cfg_node_time(const struct asim_cfg *node, asim_time min, asim_time max,
                        asim_time *out, struct asim_diag *d)
{
	return node_time(node, NULL, min, max, out, d);
}

bool asim_cfg_time(const struct asim_cfg *map, const char *key, enum asim_need need,
                   asim_time min, asim_time max, asim_time *out, struct asim_diag *d)
{
	const struct asim_cfg *v;
	if (!lookup(map, key, need, &v, d))
		return false;
	return !v || node_time(v, key, min, max, out, d);
}

static bool node_rate(const struct asim_cfg *node, const char *name, double max_per_s,
                      double *out, struct asim_diag *d)
{
	static const char what[] = "a rate (e.g. 2000/s)";
	if (!is_scalar(node)) {
		expected(d, node, what, name, NULL);
		return false;
	}
	double v = 0;
	switch (cfg_parse_rate(node->text, &v)) {
	case P_OK:
		break;
	case P_SYNTAX:
	case P_FINE:
		expected(d, node, what, name, NULL);
		return false;
	case P_NO_UNIT:
		expected(d, node, "a rate with a unit (e.g. 2000/s)", name, NULL);
		return false;
	case P_UNIT:
		expected(d, node, what, name, "units: " UNITS_TEXT);
		return false;
	case P_NEGATIVE:
		v = -1;
		break;
	case P_RANGE:
		v = INFINITY;
		break;
	}
	if (!(v > 0)) {
		out_of_range(d, node, name, "greater than 0");
		return false;
	}
	if (v > max_per_s) {
		char b[64];
		snprintf(b, sizeof(b), "at most %g/s", max_per_s);
		out_of_range(d, node, name, b);
		return false;
	}
	*out = v;
	return true;
}

bool asim_cfg_node_rate(const struct asim_cfg *node, double max_per_s, double *out,
                        struct asim_diag *d)
{
	return node_rate(node, NULL, max_per_s, out, d);
}

bool asim_cfg_rate(const struct asim_cfg *map, const char *key, enum asim_need need,
                   double max_per_s, double *out, struct asim_diag *d)
{
	const struct asim_cfg *v;
	if (!lookup(map, key, need, &v, d))
		return false;
	return !v || node_rate(v, key, max_per_s, out, d);
}

static bool node_int(const struct asim_cfg *node, const char *name, int64_t min, int64_t max,
                     int64_t *out, struct asim_diag *d)
{
	assert(min <= max);
	int64_t v = 0;
	enum perr e = is_scalar(node) ? cfg_parse_int(node->text, &v) : P_SYNTAX;
	if (e == P_SYNTAX || e == P_FINE) {
		expected(d, node, "a whole number", name, NULL);
		return false;
	}
	if (e == P_RANGE || v < min || v > max) {
		char lo[24], hi[24], b[64];
		snprintf(lo, sizeof(lo), "%" PRId64, min);
		snprintf(hi, sizeof(hi), "%" PRId64, max);
		/* A number beyond 64 bits is too large even under "at least 0":
		 * name the upper bound then. */
		bound_phrase(b, sizeof(b), min > INT64_MIN ? lo : NULL,
		             max < INT64_MAX || e == P_RANGE ? hi : NULL);
		if (min == INT64_MIN && max == INT64_MAX)
			bound_phrase(b, sizeof(b), lo, hi);
		out_of_range(d, node, name, b);
		return false;
	}
	*out = v;
	return true;
}

bool asim_cfg_node_int(const struct asim_cfg *node, int64_t min, int64_t max, int64_t *out,
                       struct asim_diag *d)
{
	return node_int(node, NULL, min, max, out, d);
}

bool asim_cfg_int(const struct asim_cfg *map, const char *key, enum asim_need need,
                  int64_t min, int64_t max, int64_t *out, struct asim_diag *d)
{
	const struct asim_cfg *v;
	if (!lookup(map, key, need, &v, d))
		return false;
	return !v || node_int(v, key, min, max, out, d);
}

static bool node_real(const struct asim_cfg *node, const char *name, double min, double max,
                      double *out, struct asim_diag *d)
{
	assert(min <= max);
	double v = 0;
	enum perr e = is_scalar(node) ? cfg_parse_real(node->text, &v) : P_SYNTAX;
	if (e == P_SYNTAX) {
		expected(d, node, "a number", name, NULL);
		return false;
	}
	if (e == P_RANGE || v < min || v > max) {
		char lo[32], hi[32], b[80];
		snprintf(lo, sizeof(lo), "%g", min);
		snprintf(hi, sizeof(hi), "%g", max);
		bool has_lo = min > -DBL_MAX, has_hi = max < DBL_MAX;
		if (!has_lo && !has_hi)
			snprintf(b, sizeof(b), "a finite number");
		else
			bound_phrase(b, sizeof(b), has_lo ? lo : NULL, has_hi ? hi : NULL);
		out_of_range(d, node, name, b);
		return false;
	}
	*out = v;
	return true;
}

bool asim_cfg_node_real(const struct asim_cfg *node, double min, double max, double *out,
                        struct asim_diag *d)
{
	return node_real(node, NULL, min, max, out, d);
}

bool asim_cfg_real(const struct asim_cfg *map, const char *key, enum asim_need need,
                   double min, double max, double *out, struct asim_diag *d)
{
	const struct asim_cfg *v;
	if (!lookup(map, key, need, &v, d))
		return false;
	return !v || node_real(v, key, min, max, out, d);
}

static bool node_fraction(const struct asim_cfg *node, const char *name, double *out,
                          struct asim_diag *d)
{
	double v = 0;
	enum perr e = is_scalar(node) ? cfg_parse_fraction(node->text, &v) : P_SYNTAX;
	if (e == P_SYNTAX) {
		expected(d, node, "a fraction (e.g. 99.9% or 0.999)", name, NULL);
		return false;
	}
	if (e != P_OK) {
		out_of_range(d, node, name, "between 0 and 1 (0% and 100%)");
		return false;
	}
	*out = v;
	return true;
}

bool asim_cfg_node_fraction(const struct asim_cfg *node, double *out, struct asim_diag *d)
{
	return node_fraction(node, NULL, out, d);
}

bool asim_cfg_fraction(const struct asim_cfg *map, const char *key, enum asim_need need,
                       double *out, struct asim_diag *d)
{
	const struct asim_cfg *v;
	if (!lookup(map, key, need, &v, d))
		return false;
	return !v || node_fraction(v, key, out, d);
}

static bool same_word(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

bool asim_cfg_bool(const struct asim_cfg *map, const char *key, enum asim_need need,
                   bool *out, struct asim_diag *d)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	const struct asim_cfg *v;
	if (!lookup(map, key, need, &v, d))
		return false;
	if (!v)
		return true;
	if (is_scalar(v)) {
		for (size_t i = 0; i < 3; i++) {
			if (same_word(v->text, yes[i])) {
				*out = true;
				return true;
			}
			if (same_word(v->text, no[i])) {
				*out = false;
				return true;
			}
		}
	}
	expected(d, v, "true or false", key, NULL);
	return false;
}

static bool node_string(const struct asim_cfg *node, const char *name, const char **out,
                        struct asim_diag *d)
{
	if (!is_scalar(node)) {
		expected(d, node, "a string", name, NULL);
		return false;
	}
	if (node->text[0] == '\0') {
		char s[DESC_LEN];
		subject(s, name);
		asim_diag_error(d, node->mark, "%s must not be empty", s);
		return false;
	}
	*out = node->text;
	return true;
}

bool asim_cfg_node_string(const struct asim_cfg *node, const char **out, struct asim_diag *d)
{
	return node_string(node, NULL, out, d);
}

bool asim_cfg_string(const struct asim_cfg *map, const char *key, enum asim_need need,
                     const char **out, struct asim_diag *d)
{
	const struct asim_cfg *v;
	if (!lookup(map, key, need, &v, d))
		return false;
	return !v || node_string(v, key, out, d);
}

/* "one of a, b, c": the list of choices, as much of it as fits. */
static void choice_list(char *buf, size_t len, const char *const *choices)
{
	size_t n = 0;
	while (choices[n])
		n++;
	size_t o = (size_t)snprintf(buf, len, "one of");
	for (size_t i = 0; i < n && o < len; i++) {
		const char *sep = i == 0 ? " " : ", ";
		o += (size_t)snprintf(buf + o, len - o, "%s%s", sep, choices[i]);
	}
}

static bool node_choice(const struct asim_cfg *node, const char *name,
                        const char *const *choices, int *out, struct asim_diag *d)
{
	char what[512];
	choice_list(what, sizeof(what), choices);
	if (is_scalar(node)) {
		for (int i = 0; choices[i]; i++) {
			if (strcmp(node->text, choices[i]) == 0) {
				*out = i;
				return true;
			}
		}
	}
	const char *guess = is_scalar(node) ? asim_diag_suggest(node->text, choices) : NULL;
	if (guess) {
		char q[DESC_LEN], detail[DESC_LEN + 16];
		quote(q, guess);
		snprintf(detail, sizeof(detail), "did you mean %s?", q);
		expected(d, node, what, name, detail);
	} else {
		expected(d, node, what, name, NULL);
	}
	return false;
}

bool asim_cfg_node_choice(const struct asim_cfg *node, const char *what,
                          const char *const *choices, int *out, struct asim_diag *d)
{
	return node_choice(node, what, choices, out, d);
}

bool asim_cfg_choice(const struct asim_cfg *map, const char *key, enum asim_need need,
                     const char *const *choices, int *out, struct asim_diag *d)
{
	const struct asim_cfg *v;
	if (!lookup(map, key, need, &v, d))
		return false;
	return !v || node_choice(v, key, choices, out, d);
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static uint64_t hash_node(uint64_t h, const struct asim_cfg *node)
{
	unsigned char tag = (unsigned char)node->type;
	h = hash_bytes(h, &tag, 1);
	switch (node->type) {
	case ASIM_CFG_SCALAR:
		/* The terminating NUL separates neighbours ("ab","c" vs "a","bc"). */
		return hash_bytes(h, node->text, strlen(node->text) + 1);
	case ASIM_CFG_MAP:
		for (size_t i = 0; i < node->n; i++) {
			h = hash_bytes(h, node->pairs[i].key, strlen(node->pairs[i].key) + 1);
			h = hash_node(h, node->pairs[i].value);
		}
		return hash_bytes(h, "}", 1);
	case ASIM_CFG_SEQ:
		for (size_t i = 0; i < node->n; i++)
			h = hash_node(h, node->items[i]);
		return hash_bytes(h, "]", 1);
	default:
		return h;
	}
}

uint64_t asim_cfg_hash(const struct asim_cfg *node)
{
	return node ? hash_node(UINT64_C(0xcbf29ce484222325), node) : 0;
}
