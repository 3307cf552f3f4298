/* Reading a scenario file: libyaml events into a struct asim_cfg tree.
 *
 * The event API is used rather than libyaml's document loader because the
 * loader expands aliases without limit and keeps no per-key marks; here every
 * limit (size, depth, node count) is checked before the memory is spent. */
#include "load.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "archsim/index.h"

/* Context names ("users.retries") live in blocks owned by the document, since
 * struct asim_cfg only borrows its ctx. */
struct block {
	struct block *next;
	size_t used, cap;
	char data[];
};

/* The document as allocated: the public part first, so that the pointer
 * handed out converts back. */
struct doc {
	struct asim_doc pub;
	struct block *blocks;
};

/* Paths in messages are quoted to 40 characters anyway; capping them keeps
 * a file of long nested keys from costing memory quadratic in its depth. */
#define CTX_MAX 120

struct anchor {
	char *name;
	const struct asim_cfg *node; /* NULL while the anchored node is being read */
	size_t count;                /* nodes in it */
	int height;                  /* collection levels in it */
};

/* The keys seen so far in one mapping being read, hashed, so that a mapping
 * of many keys is checked for duplicates in linear time. */
struct keyset {
	size_t *slot; /* index + 1 into the map's pairs; 0 is empty */
	size_t cap;
};

struct loader {
	yaml_parser_t parser;
	struct asim_diag *d;
	const char *file;
	const unsigned char *text;
	size_t len;
	size_t nodes;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	struct asim_index anchor_index; /* name -> the latest anchor of that name */
	/* Values read but rejected (under a duplicate key, say) are kept here
	 * until the end, since an anchor inside one may still be aliased. */
	struct asim_cfg *graveyard;
	bool fatal;  /* stop reading: the rest of the events cannot be trusted */
	bool failed; /* something was reported; the document is not returned */
};

static struct asim_mark mark_of(const struct loader *l, yaml_mark_t m)
{
	return (struct asim_mark){.file = l->file, .line = (int)m.line + 1, .col = (int)m.column + 1};
}

static struct asim_mark file_mark(const struct loader *l)
{
	return (struct asim_mark){.file = l->file, .line = 0, .col = 0};
}

static void report(struct loader *l, struct asim_mark mark, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct loader *l, struct asim_mark mark, bool fatal, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	asim_diag_error(l->d, mark, "%s", msg);
	l->failed = true;
	l->fatal = l->fatal || fatal;
}

static void out_of_memory(struct loader *l)
{
	report(l, file_mark(l), true, "out of memory");
}

/* ---- positions of reader errors ---- */

/* libyaml gives a byte offset, not a line, for bad bytes: count lines, and
 * characters within the line, as the editor will show them. */
static struct asim_mark mark_at_offset(const struct loader *l, size_t offset)
{
	int line = 1, col = 1;
	if (offset > l->len)
		offset = l->len;
	for (size_t i = 0; i < offset; i++) {
		unsigned char c = l->text[i];
		if (c == '\n' || (c == '\r' && (i + 1 >= l->len || l->text[i + 1] != '\n'))) {
			line++;
			col = 1;
		} else if ((c & 0xc0) != 0x80 && c != '\r') {
			col++;
		}
	}
	return (struct asim_mark){.file = l->file, .line = line, .col = col};
}

/* The byte at a scanner mark (line and column are characters). */
static int byte_at(const struct loader *l, yaml_mark_t m)
{
	size_t i = 0;
	for (size_t line = 0; line < m.line && i < l->len; i++)
		if (l->text[i] == '\n')
			line++;
	for (size_t col = 0; i < l->len; i++) {
		if ((l->text[i] & 0xc0) == 0x80)
			continue;
		if (col++ == m.column)
			return l->text[i];
	}
	return -1;
}

static void syntax_error(struct loader *l)
{
	yaml_parser_t *p = &l->parser;
	const char *problem = p->problem ? p->problem : "unknown error";
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		out_of_memory(l);
		return;
	case YAML_READER_ERROR:
		if (p->problem_value >= 0)
			report(l, mark_at_offset(l, p->problem_offset), true,
			       "invalid YAML: %s (found byte 0x%02X)", problem, p->problem_value);
		else
			report(l, mark_at_offset(l, p->problem_offset), true,
			       "invalid YAML: %s", problem);
		return;
	default:
		break;
	}
	struct asim_mark m = mark_of(l, p->problem_mark);
	/* Tabs are the classic mistake, and libyaml's words for it do not
	 * mention them. */
	if (byte_at(l, p->problem_mark) == '\t') {
		report(l, m, true, "invalid YAML: tab character (indent with spaces)");
		return;
	}
	if (p->context)
		report(l, m, true, "invalid YAML: %s (%s started at line %d)", problem, p->context,
		       (int)p->context_mark.line + 1);
	else
		report(l, m, true, "invalid YAML: %s", problem);
}

static bool next(struct loader *l, yaml_event_t *ev)
{
	if (yaml_parser_parse(&l->parser, ev))
		return true;
	syntax_error(l);
	return false;
}

/* ---- anchors and aliases ---- */

static struct anchor *find_anchor(struct loader *l, const char *name)
{
	/* A name may be anchored again further on; an alias means the latest,
	 * which begin_anchor keeps in the index (a scan per alias was quadratic
	 * in a file of many anchors and aliases). */
	size_t i = asim_index_find(&l->anchor_index, name);
	return i == ASIM_INDEX_NONE ? NULL : &l->anchors[i];
}

/* Registers an anchor whose node is still being read. Returns its index, or
 * SIZE_MAX when there is none (or memory ran out, already reported). */
static size_t begin_anchor(struct loader *l, const yaml_char_t *name)
{
	if (!name)
		return SIZE_MAX;
	if (l->n_anchors == l->cap_anchors) {
		size_t cap = l->cap_anchors ? 2 * l->cap_anchors : 8;
		struct anchor *a = realloc(l->anchors, cap * sizeof(*a));
		if (!a) {
			out_of_memory(l);
			return SIZE_MAX;
		}
		l->anchors = a;
		l->cap_anchors = cap;
	}
	char *copy = strdup((const char *)name);
	if (!copy || !asim_index_add(&l->anchor_index, copy, l->n_anchors)) {
		free(copy);
		out_of_memory(l);
		return SIZE_MAX;
	}
	l->anchors[l->n_anchors] = (struct anchor){copy, NULL, 0, 0};
	return l->n_anchors++;
}

/* An alias without an anchor is most often a misspelt one: suggest it. */
static void unknown_alias(struct loader *l, struct asim_mark m, const char *name)
{
	const char **names = malloc((l->n_anchors + 1) * sizeof(*names));
	const char *guess = NULL;
	if (names) {
		for (size_t i = 0; i < l->n_anchors; i++)
			names[i] = l->anchors[i].name;
		names[l->n_anchors] = NULL;
		guess = asim_diag_suggest(name, names);
	}
	if (guess)
		report(l, m, false, "unknown alias '*%.40s' (did you mean '*%.40s'?)", name, guess);
	else
		report(l, m, false, "unknown alias '*%.40s' (no anchor '&%.40s' before it)", name,
		       name);
	free(names);
}

static void end_anchor(struct loader *l, size_t i, const struct asim_cfg *node, size_t count,
                       int height)
{
	if (i == SIZE_MAX)
		return;
	l->anchors[i].node = node;
	l->anchors[i].count = count;
	l->anchors[i].height = height;
}

/* m, as reached through the alias at via (see struct asim_mark). An alias
 * inside an anchor that is itself aliased takes the outer alias: the use
 * that put the value where it is. */
static struct asim_mark through(struct asim_mark m, struct asim_mark via)
{
	m.via_line = via.line;
	m.via_col = via.col;
	return m;
}

/* A copy of the anchored tree n for the alias at via. */
static struct asim_cfg *copy_tree(const struct asim_cfg *n, struct asim_mark via)
{
	struct asim_cfg *c;
	switch (n->type) {
	case ASIM_CFG_SCALAR:
		c = asim_cfg_new_scalar(n->text, through(n->mark, via));
		if (c)
			c->quoted = n->quoted;
		return c;
	case ASIM_CFG_NULL:
		return asim_cfg_new_null(through(n->mark, via));
	case ASIM_CFG_MAP:
		c = asim_cfg_new_map(through(n->mark, via));
		for (size_t i = 0; c && i < n->n; i++) {
			struct asim_cfg *v = copy_tree(n->pairs[i].value, via);
			if (!v || !asim_cfg_map_add(c, n->pairs[i].key,
			                            through(n->pairs[i].key_mark, via), v)) {
				asim_cfg_free(c);
				return NULL;
			}
		}
		return c;
	case ASIM_CFG_SEQ:
		c = asim_cfg_new_seq(through(n->mark, via));
		for (size_t i = 0; c && i < n->n; i++) {
			struct asim_cfg *v = copy_tree(n->items[i], via);
			if (!v || !asim_cfg_seq_add(c, v)) {
				asim_cfg_free(c);
				return NULL;
			}
		}
		return c;
	}
	return NULL;
}

static void too_deep(struct loader *l, struct asim_mark m)
{
	report(l, m, true, "too deeply nested: more than %d levels", ASIM_LOAD_MAX_DEPTH);
}

static bool count_nodes(struct loader *l, size_t n, struct asim_mark m)
{
	if (n > ASIM_LOAD_MAX_NODES - l->nodes) {
		report(l, m, true, "document too large: more than %d values (aliases included)",
		       ASIM_LOAD_MAX_NODES);
		return false;
	}
	l->nodes += n;
	return true;
}

/* ---- building the tree ---- */

static struct asim_cfg *build(struct loader *l, yaml_event_t *ev, int depth, int *height);

static void bury(struct loader *l, struct asim_cfg *n)
{
	if (!n)
		return;
	if (!l->graveyard) {
		l->graveyard = asim_cfg_new_seq((struct asim_mark){0});
		if (!l->graveyard) {
			asim_cfg_free(n);
			out_of_memory(l);
			return;
		}
	}
	if (!asim_cfg_seq_add(l->graveyard, n))
		out_of_memory(l);
}

/* Reads the next node and sets it aside: the value of a rejected key. */
static void skip_node(struct loader *l, int depth)
{
	yaml_event_t ev;
	int h;
	if (next(l, &ev))
		bury(l, build(l, &ev, depth, &h));
}

static bool is_null(const yaml_event_t *ev)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp((const char *)ev->data.scalar.value, nulls[i]) == 0)
			return true;
	return false;
}

static struct asim_cfg *build_scalar(struct loader *l, yaml_event_t *ev)
{
	struct asim_mark m = mark_of(l, ev->start_mark);
	size_t i = begin_anchor(l, ev->data.scalar.anchor);
	if (l->fatal || !count_nodes(l, 1, m))
		return NULL;
	const char *text = (const char *)ev->data.scalar.value;
	if (memchr(text, '\0', ev->data.scalar.length))
		report(l, m, false, "text with a NUL character (\\0) is not supported");
	struct asim_cfg *n;
	if (is_null(ev)) {
		n = asim_cfg_new_null(m);
	} else {
		n = asim_cfg_new_scalar(text, m);
		if (n)
			n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	}
	if (!n) {
		out_of_memory(l);
		return NULL;
	}
	end_anchor(l, i, n, 1, 0);
	return n;
}

static struct asim_cfg *build_alias(struct loader *l, yaml_event_t *ev, int depth, int *height)
{
	struct asim_mark m = mark_of(l, ev->start_mark);
	const char *name = (const char *)ev->data.alias.anchor;
	const struct anchor *a = find_anchor(l, name);
	if (!a) {
		unknown_alias(l, m, name);
		struct asim_cfg *n = asim_cfg_new_null(m);
		if (!n)
			out_of_memory(l);
		return n;
	}
	if (!a->node) {
		report(l, m, true, "alias '*%.40s' is inside its own anchor (recursive data is not supported)",
		       name);
		return NULL;
	}
	/* Both limits are checked before copying, so that a billion laughs costs
	 * nothing. */
	if (a->height > 0 && depth + a->height - 1 > ASIM_LOAD_MAX_DEPTH) {
		too_deep(l, m);
		return NULL;
	}
	if (!count_nodes(l, a->count, m))
		return NULL;
	/* A document already in error is never returned: counting the copy
	 * keeps every limit as it would be, without spending the time of up
	 * to ASIM_LOAD_MAX_NODES copies. */
	if (l->failed) {
		struct asim_cfg *stub = asim_cfg_new_null(m);
		if (!stub)
			out_of_memory(l);
		*height = a->height;
		return stub;
	}
	struct asim_cfg *n = copy_tree(a->node, m);
	if (!n) {
		out_of_memory(l);
		return NULL;
	}
	*height = a->height;
	return n;
}

static size_t hash(const char *s)
{
	/* FNV-1a: the order of keys in the tree never depends on it, only the
	 * speed of the duplicate check. */
	uint64_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (size_t)h;
}

/* The index of key in map, or SIZE_MAX. */
static size_t keyset_find(const struct keyset *ks, const struct asim_cfg *map, const char *key)
{
	if (!ks->cap)
		return SIZE_MAX;
	for (size_t i = hash(key) & (ks->cap - 1);; i = (i + 1) & (ks->cap - 1)) {
		if (!ks->slot[i])
			return SIZE_MAX;
		if (strcmp(map->pairs[ks->slot[i] - 1].key, key) == 0)
			return ks->slot[i] - 1;
	}
}

static void keyset_put(struct keyset *ks, const struct asim_cfg *map, size_t index)
{
	size_t i = hash(map->pairs[index].key) & (ks->cap - 1);
	while (ks->slot[i])
		i = (i + 1) & (ks->cap - 1);
	ks->slot[i] = index + 1;
}

/* Keeps the table at most half full, after the map has grown to map->n. */
static bool keyset_grow(struct keyset *ks, const struct asim_cfg *map)
{
	if (2 * (map->n + 1) <= ks->cap)
		return true;
	size_t cap = ks->cap ? 2 * ks->cap : 16;
	size_t *slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return false;
	free(ks->slot);
	ks->slot = slot;
	ks->cap = cap;
	for (size_t i = 0; i < map->n; i++)
		keyset_put(ks, map, i);
	return true;
}

/* Reads one key of a mapping (ev is its first event) into *key. Returns
 * false when the key was rejected (reported) and its value must be skipped. */
static bool read_key(struct loader *l, yaml_event_t *ev, int depth, char **key)
{
	struct asim_mark m = mark_of(l, ev->start_mark);
	const char *text = NULL;
	*key = NULL;
	if (ev->type == YAML_ALIAS_EVENT) {
		const char *name = (const char *)ev->data.alias.anchor;
		const struct anchor *a = find_anchor(l, name);
		if (a && a->node && a->node->type == ASIM_CFG_SCALAR)
			text = a->node->text;
		else if (a && a->node)
			report(l, m, false, "expected a name as mapping key, got %s",
			       asim_cfg_type_name(a->node));
		else if (a)
			report(l, m, true, "alias '*%.40s' is inside its own anchor "
			       "(recursive data is not supported)", name);
		else
			unknown_alias(l, m, name);
	} else if (ev->type != YAML_SCALAR_EVENT || is_null(ev)) {
		int h;
		struct asim_cfg *n = build(l, ev, depth, &h);
		if (n && !l->fatal)
			report(l, m, false, "expected a name as mapping key, got %s",
			       asim_cfg_type_name(n));
		bury(l, n);
		return false;
	} else {
		text = (const char *)ev->data.scalar.value;
	}
	if (!text) {
		yaml_event_delete(ev);
		return false;
	}
	if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    strcmp(text, "<<") == 0) {
		report(l, m, false, "merge keys ('<<') are not supported");
		yaml_event_delete(ev);
		return false;
	}
	if (ev->type == YAML_SCALAR_EVENT &&
	    memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
		report(l, m, false, "text with a NUL character (\\0) is not supported");
		yaml_event_delete(ev);
		return false;
	}
	*key = strdup(text);
	yaml_event_delete(ev);
	if (!*key) {
		out_of_memory(l);
		return false;
	}
	return true;
}

static struct asim_cfg *build_map(struct loader *l, yaml_event_t *ev, int depth, int *height)
{
	struct asim_mark m = mark_of(l, ev->start_mark);
	size_t a = begin_anchor(l, ev->data.mapping_start.anchor);
	yaml_event_delete(ev);
	if (l->fatal)
		return NULL;
	if (depth > ASIM_LOAD_MAX_DEPTH) {
		too_deep(l, m);
		return NULL;
	}
	size_t first = l->nodes;
	struct asim_cfg *map = NULL;
	if (!count_nodes(l, 1, m))
		return NULL;
	map = asim_cfg_new_map(m);
	if (!map) {
		out_of_memory(l);
		return NULL;
	}
	struct keyset ks = {NULL, 0};
	int hmax = 0;
	for (;;) {
		yaml_event_t kev;
		if (!next(l, &kev))
			goto fail;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		struct asim_mark km = mark_of(l, kev.start_mark);
		char *key;
		if (!read_key(l, &kev, depth + 1, &key)) {
			if (l->fatal)
				goto fail;
			skip_node(l, depth + 1);
			if (l->fatal)
				goto fail;
			continue;
		}
		size_t dup = keyset_find(&ks, map, key);
		if (dup != SIZE_MAX) {
			char q[64];
			snprintf(q, sizeof(q), "%.40s", key);
			report(l, km, false, "duplicate key '%s' (first defined at line %d)", q,
			       map->pairs[dup].key_mark.line);
			free(key);
			skip_node(l, depth + 1);
			if (l->fatal)
				goto fail;
			continue;
		}
		yaml_event_t vev;
		int h = 0;
		struct asim_cfg *v = NULL;
		if (next(l, &vev))
			v = build(l, &vev, depth + 1, &h);
		if (!v) {
			free(key);
			goto fail;
		}
		if (!keyset_grow(&ks, map)) {
			asim_cfg_free(v);
			v = NULL;
		}
		if (!v || !asim_cfg_map_add(map, key, km, v)) {
			free(key);
			out_of_memory(l);
			goto fail;
		}
		free(key);
		keyset_put(&ks, map, map->n - 1);
		if (h > hmax)
			hmax = h;
	}
	free(ks.slot);
	*height = hmax + 1;
	end_anchor(l, a, map, l->nodes - first, *height);
	return map;
fail:
	free(ks.slot);
	asim_cfg_free(map);
	return NULL;
}

static struct asim_cfg *build_seq(struct loader *l, yaml_event_t *ev, int depth, int *height)
{
	struct asim_mark m = mark_of(l, ev->start_mark);
	size_t a = begin_anchor(l, ev->data.sequence_start.anchor);
	yaml_event_delete(ev);
	if (l->fatal)
		return NULL;
	if (depth > ASIM_LOAD_MAX_DEPTH) {
		too_deep(l, m);
		return NULL;
	}
	size_t first = l->nodes;
	if (!count_nodes(l, 1, m))
		return NULL;
	struct asim_cfg *seq = asim_cfg_new_seq(m);
	if (!seq) {
		out_of_memory(l);
		return NULL;
	}
	int hmax = 0;
	for (;;) {
		yaml_event_t iev;
		if (!next(l, &iev))
			goto fail;
		if (iev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&iev);
			break;
		}
		int h = 0;
		struct asim_cfg *v = build(l, &iev, depth + 1, &h);
		if (!v)
			goto fail;
		if (!asim_cfg_seq_add(seq, v)) {
			out_of_memory(l);
			goto fail;
		}
		if (h > hmax)
			hmax = h;
	}
	*height = hmax + 1;
	end_anchor(l, a, seq, l->nodes - first, *height);
	return seq;
fail:
	asim_cfg_free(seq);
	return NULL;
}

/* Builds the node that starts with ev, consuming ev and the events of the
 * node. depth is the nesting level of the node if it is a collection (the
 * top-level mapping is 1); *height is set to its collection levels. Returns
 * NULL after a fatal error (reported). */
static struct asim_cfg *build(struct loader *l, yaml_event_t *ev, int depth, int *height)
{
	struct asim_cfg *n = NULL;
	*height = 0;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = build_scalar(l, ev);
		break;
	case YAML_ALIAS_EVENT:
		n = build_alias(l, ev, depth, height);
		break;
	case YAML_MAPPING_START_EVENT:
		return build_map(l, ev, depth, height);
	case YAML_SEQUENCE_START_EVENT:
		return build_seq(l, ev, depth, height);
	default:
		/* The parser only hands out nodes here; anything else would mean
		 * the event stream is not what libyaml documents. */
		report(l, mark_of(l, ev->start_mark), true, "invalid YAML: unexpected event");
		break;
	}
	yaml_event_delete(ev);
	return n;
}

/* ---- context names ---- */

static char *arena_alloc(struct doc *doc, size_t size)
{
	struct block *b = doc->blocks;
	if (!b || b->cap - b->used < size) {
		size_t cap = size > 16384 ? size : 16384;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = doc->blocks;
		doc->blocks = b;
	}
	char *p = b->data + b->used;
	b->used += size;
	return p;
}

/* parent + sep + child, cut at CTX_MAX bytes (on a character boundary). */
static const char *join(struct doc *doc, const char *parent, const char *child)
{
	char buf[CTX_MAX + 1];
	int n = snprintf(buf, sizeof(buf), "%s%s", parent, child);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : CTX_MAX;
	while (len > 0 && len < (size_t)n && ((unsigned char)buf[len] & 0xc0) == 0x80)
		len--;
	char *p = arena_alloc(doc, len + 1);
	if (!p)
		return NULL;
	memcpy(p, buf, len);
	p[len] = '\0';
	return p;
}

/* Names each mapping for messages: top-level settings by their key, each
 * component by its name, everything deeper by a dotted path
 * ("users.retries", "api.calls[0]"). */
static bool name_maps(struct doc *doc, struct asim_cfg *node, const char *path, int level,
                      bool in_components)
{
	if (node->type == ASIM_CFG_MAP) {
		node->ctx = path;
		for (size_t i = 0; i < node->n; i++) {
			struct asim_cfg_pair *p = &node->pairs[i];
			struct asim_cfg *v = p->value;
			if (v->type != ASIM_CFG_MAP && v->type != ASIM_CFG_SEQ)
				continue;
			const char *child;
			if (level == 0 || in_components) {
				child = p->key;
			} else {
				char sep[CTX_MAX + 2];
				snprintf(sep, sizeof(sep), ".%s", p->key);
				child = join(doc, path, sep);
			}
			bool comps = level == 0 && strcmp(p->key, "components") == 0;
			if (!child || !name_maps(doc, v, child, level + 1, comps))
				return false;
		}
	} else if (node->type == ASIM_CFG_SEQ) {
		for (size_t i = 0; i < node->n; i++) {
			struct asim_cfg *v = node->items[i];
			if (v->type != ASIM_CFG_MAP && v->type != ASIM_CFG_SEQ)
				continue;
			char idx[32];
			snprintf(idx, sizeof(idx), "[%zu]", i);
			const char *child = join(doc, path, idx);
			if (!child || !name_maps(doc, v, child, level + 1, false))
				return false;
		}
	}
	return true;
}

/* ---- documents ---- */

static void free_blocks(struct block *b)
{
	while (b) {
		struct block *next_block = b->next;
		free(b);
		b = next_block;
	}
}

void asim_doc_free(struct asim_doc *pub)
{
	if (!pub)
		return;
	struct doc *doc = (struct doc *)pub;
	asim_doc_free(doc->pub.adopted);
	asim_cfg_free(doc->pub.root);
	free(doc->pub.file);
	free_blocks(doc->blocks);
	free(doc);
}

const char *asim_doc_read_from(const struct asim_doc *doc, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return NULL;
	for (; doc; doc = doc->adopted)
		if (doc->has_id && doc->dev == st.st_dev && doc->ino == st.st_ino)
			return doc->file;
	return NULL;
}

void asim_doc_adopt(struct asim_doc *doc, struct asim_doc *other)
{
	struct asim_doc **p = &doc->adopted;
	while (*p)
		p = &(*p)->adopted;
	*p = other;
}

bool asim_doc_rename(struct asim_doc *pub)
{
	return !pub->root || name_maps((struct doc *)pub, pub->root, "scenario", 0, false);
}

static void empty(struct loader *l)
{
	report(l, file_mark(l), true, "empty scenario: expected a mapping of settings");
}

/* Reads the stream: exactly one document whose top level is a mapping. */
static struct asim_cfg *read_stream(struct loader *l)
{
	yaml_event_t ev;
	if (!next(l, &ev))
		return NULL;
	yaml_event_delete(&ev); /* stream start */
	if (!next(l, &ev))
		return NULL;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		empty(l);
		return NULL;
	}
	yaml_event_delete(&ev); /* document start */
	if (!next(l, &ev))
		return NULL;
	if (ev.type == YAML_SCALAR_EVENT && is_null(&ev)) {
		yaml_event_delete(&ev);
		empty(l);
		return NULL;
	}
	if (ev.type != YAML_MAPPING_START_EVENT) {
		struct asim_mark m = mark_of(l, ev.start_mark);
		const char *got = ev.type == YAML_SEQUENCE_START_EVENT ? "a list"
		                : ev.type == YAML_ALIAS_EVENT          ? "an alias"
		                                                       : NULL;
		if (got)
			report(l, m, true, "expected a mapping of settings at the top level, got %s", got);
		else
			report(l, m, true,
			       "expected a mapping of settings at the top level, got '%.40s'",
			       (const char *)ev.data.scalar.value);
		yaml_event_delete(&ev);
		return NULL;
	}
	int h;
	struct asim_cfg *root = build(l, &ev, 1, &h);
	if (!root)
		return NULL;
	if (!next(l, &ev))
		goto fail;
	yaml_event_delete(&ev); /* document end */
	if (!next(l, &ev))
		goto fail;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		report(l, mark_of(l, ev.start_mark), true,
		       "more than one YAML document (a scenario is a single document)");
		yaml_event_delete(&ev);
		goto fail;
	}
	yaml_event_delete(&ev);
	return root;
fail:
	asim_cfg_free(root);
	return NULL;
}

struct asim_doc *asim_doc_load_buffer(const char *name, const char *text, size_t len,
                                      struct asim_diag *d)
{
	struct loader l;
	memset(&l, 0, sizeof(l));
	l.d = d;
	l.file = name;
	l.text = (const unsigned char *)text;
	l.len = len;
	if (len > ASIM_LOAD_MAX_BYTES) {
		report(&l, file_mark(&l), true, "file too large: the limit is %u bytes",
		       ASIM_LOAD_MAX_BYTES);
		return NULL;
	}
	struct doc *doc = calloc(1, sizeof(*doc));
	if (!doc || !(doc->pub.file = strdup(name))) {
		free(doc);
		out_of_memory(&l);
		return NULL;
	}
	/* Marks point at the document's own copy of the name. */
	l.file = doc->pub.file;
	if (!yaml_parser_initialize(&l.parser)) {
		out_of_memory(&l);
		asim_doc_free(&doc->pub);
		return NULL;
	}
	/* libyaml skips a byte order mark only when it detects the encoding
	 * itself, and here the encoding is fixed to UTF-8 (no UTF-16): skip it
	 * as an editor hides it, so that columns on line 1 are the ones shown. */
	if (l.len >= 3 && !memcmp(l.text, "\xEF\xBB\xBF", 3)) {
		l.text += 3;
		l.len -= 3;
	}
	yaml_parser_set_input_string(&l.parser, l.text, l.len);
	yaml_parser_set_encoding(&l.parser, YAML_UTF8_ENCODING);
	struct asim_cfg *root = read_stream(&l);
	yaml_parser_delete(&l.parser);
	asim_cfg_free(l.graveyard);
	asim_index_finish(&l.anchor_index);
	for (size_t i = 0; i < l.n_anchors; i++)
		free(l.anchors[i].name);
	free(l.anchors);
	if (!root || l.failed) {
		asim_cfg_free(root);
		asim_doc_free(&doc->pub);
		return NULL;
	}
	doc->pub.root = root;
	if (!name_maps(doc, root, "scenario", 0, false)) {
		l.file = name;
		out_of_memory(&l);
		asim_doc_free(&doc->pub);
		return NULL;
	}
	return &doc->pub;
}

struct asim_doc *asim_doc_load_file(const char *path, struct asim_diag *d)
{
	struct asim_mark m = {.file = path, .line = 0, .col = 0};
	FILE *f = fopen(path, "rb");
	if (!f) {
		asim_diag_error(d, m, "cannot read file: %s", strerror(errno));
		return NULL;
	}
	/* Read one byte past the limit to tell a file at the limit from one
	 * beyond it, without trusting a size that may change under us. */
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	struct asim_doc *doc = NULL;
	if (!buf) {
		asim_diag_error(d, m, "out of memory");
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap > ASIM_LOAD_MAX_BYTES) {
				asim_diag_error(d, m, "file too large: the limit is %u bytes",
				                ASIM_LOAD_MAX_BYTES);
				goto out;
			}
			cap *= 2;
			char *grown = realloc(buf, cap);
			if (!grown) {
				asim_diag_error(d, m, "out of memory");
				goto out;
			}
			buf = grown;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		asim_diag_error(d, m, "cannot read file: %s", strerror(errno));
		goto out;
	}
	doc = asim_doc_load_buffer(path, buf, len, d);
	struct stat st;
	if (doc && fstat(fileno(f), &st) == 0) {
		doc->has_id = true;
		doc->dev = st.st_dev;
		doc->ino = st.st_ino;
	}
out:
	free(buf);
	fclose(f);
	return doc;
}
