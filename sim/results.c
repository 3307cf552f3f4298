#include "archsim/results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void asim_results_init(struct asim_results *r)
{
	memset(r, 0, sizeof(*r));
}

static void value_free(struct asim_value *v)
{
	free(v->path);
	free(v->str);
}

void asim_results_finish(struct asim_results *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		value_free(&r->v[i]);
	free(r->v);
	asim_index_finish(&r->idx);
	memset(r, 0, sizeof(*r));
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		return NULL;
	char *s = malloc((size_t)len + 1);
	if (s)
		vsnprintf(s, (size_t)len + 1, fmt, ap);
	return s;
}

/* Through the index: a scenario of n components reports several values per
 * component and most setters look their path up first, so a linear search
 * here made collecting the results quadratic in n. */
static struct asim_value *find(const struct asim_results *r, const char *path)
{
	size_t i = asim_index_find(&r->idx, path);
	return i == ASIM_INDEX_NONE ? NULL : &r->v[i];
}

/* Returns the slot for the path (existing or new) with its old contents
 * released, or NULL with r->oom set. Takes ownership of path and str. */
static struct asim_value *slot(struct asim_results *r, char *path, char *str)
{
	struct asim_value *v = path ? find(r, path) : NULL;
	if (v) {
		free(path);
		free(v->str);
		v->str = str;
		v->unmeasured = false;
		return v;
	}
	if (path && r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct asim_value *nv = realloc(r->v, cap * sizeof(*nv));
		if (!nv) {
			free(path);
			path = NULL;
		} else {
			r->v = nv;
			r->cap = cap;
		}
	}
	/* The index borrows the path, which v then owns. */
	if (path && !asim_index_add(&r->idx, path, r->n)) {
		free(path);
		path = NULL;
	}
	if (!path) {
		free(str);
		r->oom = true;
		return NULL;
	}
	v = &r->v[r->n++];
	memset(v, 0, sizeof(*v));
	v->path = path;
	v->str = str;
	return v;
}

static void set_num(struct asim_results *r, enum asim_value_kind kind, double num,
                    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void set_num(struct asim_results *r, enum asim_value_kind kind, double num,
                    const char *fmt, va_list ap)
{
	struct asim_value *v = slot(r, vformat(fmt, ap), NULL);
	if (!v)
		return;
	v->kind = kind;
	v->num = num;
	v->lo = v->hi = 0;
}

void asim_results_count(struct asim_results *r, uint64_t value, const char *pathfmt, ...)
{
	va_list ap;
	va_start(ap, pathfmt);
	set_num(r, ASIM_VAL_COUNT, (double)value, pathfmt, ap);
	va_end(ap);
}

void asim_results_real(struct asim_results *r, double value, const char *pathfmt, ...)
{
	va_list ap;
	va_start(ap, pathfmt);
	set_num(r, ASIM_VAL_REAL, value, pathfmt, ap);
	va_end(ap);
}

void asim_results_bool(struct asim_results *r, bool value, const char *pathfmt, ...)
{
	va_list ap;
	va_start(ap, pathfmt);
	set_num(r, ASIM_VAL_BOOL, value ? 1 : 0, pathfmt, ap);
	va_end(ap);
}

void asim_results_string(struct asim_results *r, const char *value, const char *pathfmt, ...)
{
	char *s = strdup(value ? value : "");
	if (!s) {
		r->oom = true;
		return;
	}
	va_list ap;
	va_start(ap, pathfmt);
	struct asim_value *v = slot(r, vformat(pathfmt, ap), s);
	va_end(ap);
	if (!v)
		return;
	v->kind = ASIM_VAL_STRING;
	v->num = v->lo = v->hi = 0;
}

void asim_results_ci(struct asim_results *r, double mean, double lo, double hi,
                     const char *pathfmt, ...)
{
	va_list ap;
	va_start(ap, pathfmt);
	struct asim_value *v = slot(r, vformat(pathfmt, ap), NULL);
	va_end(ap);
	if (!v)
		return;
	v->kind = ASIM_VAL_CI;
	v->num = mean;
	v->lo = lo;
	v->hi = hi;
}

void asim_results_list(struct asim_results *r, const char *pathfmt, ...)
{
	/* A list holds no number: its slot is a number slot left at zero. */
	va_list ap;
	va_start(ap, pathfmt);
	set_num(r, ASIM_VAL_LIST, 0, pathfmt, ap);
	va_end(ap);
}

void asim_results_unmeasured(struct asim_results *r, const char *pathfmt, ...)
{
	va_list ap;
	va_start(ap, pathfmt);
	char *path = vformat(pathfmt, ap);
	va_end(ap);
	if (!path) {
		r->oom = true;
		return;
	}
	struct asim_value *v = find(r, path);
	if (v)
		v->unmeasured = true;
	free(path);
}

const struct asim_value *asim_results_get(const struct asim_results *r, const char *path)
{
	return find(r, path);
}

double asim_results_num(const struct asim_results *r, const char *path, double dflt)
{
	const struct asim_value *v = find(r, path);
	if (!v || v->kind == ASIM_VAL_STRING || v->kind == ASIM_VAL_LIST)
		return dflt;
	return v->num;
}

void asim_format_number(char *buf, size_t len, enum asim_value_kind kind, double v)
{
	if (len == 0)
		return;
	if (kind == ASIM_VAL_BOOL) {
		snprintf(buf, len, "%s", v != 0 ? "true" : "false");
		return;
	}
	/* JSON has no infinities or NaN. */
	if (!isfinite(v)) {
		snprintf(buf, len, "null");
		return;
	}
	/* Negative zero would print as "-0": valid, but noise in a report. */
	if (v == 0)
		v = 0;
	/* %g and %.0f never write a locale's decimal comma here: nothing in
	 * archsim calls setlocale, so the "C" locale is in force. Every %g output
	 * of a finite number ("1e-09", "1.5e+06") is a valid JSON number. */
	if (kind == ASIM_VAL_COUNT) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	/* Six significant digits, but never fewer than the whole part has: a
	 * mean of counts over replications ("events": 5107871.35) would lose
	 * its units as 5.10787e+06. Up to 17 digits every integer to 2^53 is
	 * exact; larger values keep the short exponent form. */
	int digits = 6;
	if (fabs(v) >= 999999.5 && fabs(v) < 1e17) {
		char whole[32];
		digits = snprintf(whole, sizeof whole, "%.0f", fabs(v));
	}
	snprintf(buf, len, "%.*g", digits, v);
}

/* The JSON writer first turns the flat paths into a tree: each path segment
 * "name" is an object member and each "[i]" an array element, created in
 * first-insertion order. */
enum node_type { NODE_UNSET, NODE_OBJECT, NODE_ARRAY, NODE_LEAF };

struct node {
	enum node_type type;
	const char *name;  /* object member: borrowed from a path */
	size_t name_len;
	size_t index;      /* array element */
	size_t serial;     /* 0 for the root, then in order of creation */
	const struct asim_value *val;
	struct node **kids;
	size_t nkids, cap;
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n);
}

/* The tree being built. Members are found through an index keyed by (the
 * parent's serial number, name): an object can have one member per component,
 * and a scan of its members for every value placed made writing the JSON
 * quadratic in the number of components. Serial numbers, not addresses, so
 * that nothing depends on pointer values. */
struct tree {
	struct node *root;
	struct asim_index members;
	size_t nodes; /* serial numbers handed out */
};

static struct node *node_add(struct tree *t, struct node *parent)
{
	if (parent->nkids == parent->cap) {
		size_t cap = parent->cap ? 2 * parent->cap : 4;
		struct node **k = realloc(parent->kids, cap * sizeof(*k));
		if (!k)
			return NULL;
		parent->kids = k;
		parent->cap = cap;
	}
	struct node *n = calloc(1, sizeof(*n));
	if (n) {
		n->serial = ++t->nodes;
		parent->kids[parent->nkids++] = n;
	}
	return n;
}

/* The member called name of an object node, created when absent; NULL when
 * memory ran out or the node is already something else. */
static struct node *member(struct tree *t, struct node *obj, const char *name, size_t len,
                           bool *oom)
{
	if (obj->type == NODE_UNSET)
		obj->type = NODE_OBJECT;
	if (obj->type != NODE_OBJECT)
		return NULL;
	size_t i = asim_index_get(&t->members, obj->serial, name, len);
	if (i != ASIM_INDEX_NONE)
		return obj->kids[i];
	struct node *k = node_add(t, obj);
	if (!k || !asim_index_put(&t->members, obj->serial, name, len, obj->nkids - 1)) {
		*oom = true;
		return NULL;
	}
	k->name = name;
	k->name_len = len;
	return k;
}

/* Elements are kept sorted by index and are nearly always appended in order,
 * so the last one is tried first and a binary search finds the others. */
static struct node *element(struct tree *t, struct node *arr, size_t index, bool *oom)
{
	if (arr->type == NODE_UNSET)
		arr->type = NODE_ARRAY;
	if (arr->type != NODE_ARRAY)
		return NULL;
	size_t lo = 0, hi = arr->nkids;
	if (hi && arr->kids[hi - 1]->index < index)
		lo = hi;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (arr->kids[mid]->index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < arr->nkids && arr->kids[lo]->index == index)
		return arr->kids[lo];
	struct node *k = node_add(t, arr);
	if (!k) {
		*oom = true;
		return NULL;
	}
	k->index = index;
	memmove(&arr->kids[lo + 1], &arr->kids[lo], (arr->nkids - 1 - lo) * sizeof(*arr->kids));
	arr->kids[lo] = k;
	return k;
}

/* Parses "[digits]" at s; returns the length consumed, 0 when s does not
 * start with a well-formed index. */
static size_t parse_index(const char *s, size_t len, size_t *index)
{
	if (len < 3 || s[0] != '[')
		return 0;
	size_t v = 0, i = 1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (SIZE_MAX - 9) / 10)
			return 0;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	if (i == 1 || i >= len || s[i] != ']')
		return 0;
	*index = v;
	return i + 1;
}

/* Places one value in the tree. A path that conflicts with an earlier one
 * ("a" as a number, then "a.b") is a caller's mistake; the first one wins so
 * the output is still valid JSON. Returns false only when memory ran out. */
static bool place(struct tree *t, const struct asim_value *v)
{
	struct node *n = t->root;
	const char *p = v->path;
	bool oom = false;
	for (;;) {
		size_t seg = strcspn(p, ".");
		/* The member name ends at the first well-formed "[i]" suffix chain. */
		size_t name_len = seg;
		for (size_t i = 0; i < seg; i++) {
			size_t idx, used = 0, at = i;
			while (at < seg && (used = parse_index(p + at, seg - at, &idx)) > 0)
				at += used;
			if (at == seg && at > i) {
				name_len = i;
				break;
			}
		}
		n = member(t, n, p, name_len, &oom);
		for (size_t at = name_len; n && at < seg;) {
			size_t idx = 0;
			at += parse_index(p + at, seg - at, &idx);
			n = element(t, n, idx, &oom);
		}
		if (!n)
			return !oom;
		if (p[seg] == '\0')
			break;
		p += seg + 1;
	}
	if (n->type != NODE_UNSET)
		return true;
	if (v->kind == ASIM_VAL_LIST) {
		n->type = NODE_ARRAY;
		return true;
	}
	n->type = NODE_LEAF;
	n->val = v;
	return true;
}

static void write_string(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (c < 0x20)
				fprintf(out, "\\u%04x", c);
			else
				fputc(c, out);
		}
	}
	fputc('"', out);
}

static void write_number(FILE *out, enum asim_value_kind kind, double v)
{
	char buf[400];
	asim_format_number(buf, sizeof(buf), kind, v);
	fputs(buf, out);
}

static void write_leaf(FILE *out, const struct asim_value *v)
{
	switch (v->kind) {
	case ASIM_VAL_STRING:
		write_string(out, v->str, strlen(v->str));
		break;
	case ASIM_VAL_CI:
		fputs("{\"mean\": ", out);
		write_number(out, ASIM_VAL_REAL, v->num);
		fputs(", \"ci95\": [", out);
		write_number(out, ASIM_VAL_REAL, v->lo);
		fputs(", ", out);
		write_number(out, ASIM_VAL_REAL, v->hi);
		fputs("]}", out);
		break;
	default:
		write_number(out, v->kind, v->num);
	}
}

static void indent(FILE *out, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", out);
}

static void write_node(FILE *out, const struct node *n, int depth)
{
	switch (n->type) {
	case NODE_UNSET:
		fputs("null", out);
		return;
	case NODE_LEAF:
		write_leaf(out, n->val);
		return;
	case NODE_OBJECT:
	case NODE_ARRAY:
		break;
	}
	bool arr = n->type == NODE_ARRAY;
	if (n->nkids == 0) {
		fputs(arr ? "[]" : "{}", out);
		return;
	}
	fputs(arr ? "[\n" : "{\n", out);
	/* Array elements missing from the paths are written as null so that the
	 * others keep their index. */
	size_t next = 0;
	for (size_t i = 0; i < n->nkids; i++) {
		const struct node *k = n->kids[i];
		for (; arr && next < k->index; next++) {
			indent(out, depth + 1);
			fputs("null,\n", out);
		}
		next++;
		indent(out, depth + 1);
		if (!arr) {
			write_string(out, k->name, k->name_len);
			fputs(": ", out);
		}
		write_node(out, k, depth + 1);
		fputs(i + 1 < n->nkids ? ",\n" : "\n", out);
	}
	indent(out, depth);
	fputs(arr ? "]" : "}", out);
}

bool asim_results_write_json(const struct asim_results *r, FILE *out)
{
	struct tree t = {.root = calloc(1, sizeof(*t.root))};
	if (!t.root)
		return false;
	t.root->type = NODE_OBJECT;
	asim_index_init(&t.members);
	bool ok = true;
	for (size_t i = 0; ok && i < r->n; i++)
		ok = place(&t, &r->v[i]);
	if (ok) {
		write_node(out, t.root, 0);
		fputc('\n', out);
		ok = fflush(out) == 0 && !ferror(out);
	}
	asim_index_finish(&t.members);
	node_free(t.root);
	return ok;
}
