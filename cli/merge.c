#include "merge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archsim/index.h"

/* ---- merging trees ---- */

static size_t key_index(const struct asim_cfg *map, const char *key)
{
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->pairs[i].key, key))
			return i;
	return SIZE_MAX;
}

/* Removes pair i of map, freeing it. The arrays of struct asim_cfg grow to
 * the next power of two of their length, so a shorter array always has room. */
static void map_remove(struct asim_cfg *map, size_t i)
{
	free(map->pairs[i].key);
	asim_cfg_free(map->pairs[i].value);
	memmove(&map->pairs[i], &map->pairs[i + 1], (map->n - i - 1) * sizeof map->pairs[0]);
	map->n--;
}

static void seq_remove(struct asim_cfg *seq, size_t i)
{
	asim_cfg_free(seq->items[i]);
	memmove(&seq->items[i], &seq->items[i + 1], (seq->n - i - 1) * sizeof seq->items[0]);
	seq->n--;
}

/* Drops the pairs whose value a merge freed, keeping the others in order. */
static void map_compact(struct asim_cfg *map)
{
	size_t kept = 0;
	for (size_t i = 0; i < map->n; i++) {
		if (map->pairs[i].value)
			map->pairs[kept++] = map->pairs[i];
		else
			free(map->pairs[i].key);
	}
	map->n = kept;
}

/* base's keys are found through an index and removed pairs are dropped in
 * one pass at the end: a lookup by scan and a memmove per removal made an
 * overlay of many components quadratic. over's keys are unique, so no key is
 * looked up again once its pair is gone, and the pairs added at the end are
 * never looked up. */
bool asim_cfg_merge(struct asim_cfg *base, struct asim_cfg *over)
{
	struct asim_index keys;
	asim_index_init(&keys);
	bool ok = true;
	for (size_t i = 0; ok && i < base->n; i++)
		ok = asim_index_add(&keys, base->pairs[i].key, i);
	for (size_t i = 0; ok && i < over->n; i++) {
		struct asim_cfg_pair *o = &over->pairs[i];
		size_t j = asim_index_find(&keys, o->key);
		if (o->value->type == ASIM_CFG_NULL) {
			if (j != ASIM_INDEX_NONE) {
				asim_cfg_free(base->pairs[j].value);
				base->pairs[j].value = NULL;
			}
			continue;
		}
		if (j == ASIM_INDEX_NONE) {
			struct asim_cfg *v = o->value;
			o->value = NULL;
			ok = asim_cfg_map_add(base, o->key, o->key_mark, v);
			continue;
		}
		struct asim_cfg_pair *b = &base->pairs[j];
		if (b->value->type == ASIM_CFG_MAP && o->value->type == ASIM_CFG_MAP) {
			ok = asim_cfg_merge(b->value, o->value);
			continue;
		}
		asim_cfg_free(b->value);
		b->value = o->value;
		b->key_mark = o->key_mark;
		o->value = NULL;
	}
	asim_index_finish(&keys);
	map_compact(base);
	return ok;
}

/* ---- extends ---- */

/* The files of the chain being loaded (identity() and as shown), outermost first. */
struct chain {
	char *id[ASIM_EXTENDS_MAX_DEPTH + 2];
	const char *shown[ASIM_EXTENDS_MAX_DEPTH + 2];
	int n;
};

/* The path of base as named in the file at path: relative to its folder. */
static char *resolve(const char *path, const char *base)
{
	const char *slash = strrchr(path, '/');
	size_t dir = base[0] == '/' || !slash ? 0 : (size_t)(slash - path) + 1;
	char *p = malloc(dir + strlen(base) + 1);
	if (p) {
		memcpy(p, path, dir);
		strcpy(p + dir, base);
	}
	return p;
}

/* A file by device and inode, so that two spellings of one path meet; a
 * buffer that is no file is known by its name. */
static char *identity(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return strdup(path);
	char buf[64];
	snprintf(buf, sizeof buf, "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	return strdup(buf);
}

static void cycle_error(const struct chain *c, int from, const char *again, struct asim_mark m,
                        struct asim_diag *d)
{
	char buf[1024];
	size_t len = 0;
	buf[0] = '\0';
	for (int i = from; i < c->n && len < sizeof buf; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s -> ", c->shown[i]);
	asim_diag_error(d, m, "'extends' makes a cycle: %s%s", len < sizeof buf ? buf : "", again);
}

static struct asim_doc *load_chain(const char *path, const char *text, size_t len,
                                   struct chain *c, struct asim_diag *d)
{
	struct asim_doc *doc = text ? asim_doc_load_buffer(path, text, len, d)
	                            : asim_doc_load_file(path, d);
	if (!doc)
		return NULL;
	size_t ei = key_index(doc->root, "extends");
	if (ei == SIZE_MAX)
		return doc;
	const struct asim_cfg *ext = doc->root->pairs[ei].value;
	struct asim_mark m = ext->mark;
	const char *name;
	char *base_path = NULL, *id = NULL;
	struct asim_doc *base = NULL;
	if (!asim_cfg_string(doc->root, "extends", ASIM_REQUIRED, &name, d))
		goto fail;
	base_path = resolve(path, name);
	id = base_path ? identity(base_path) : NULL;
	if (!id) {
		asim_diag_error(d, m, "out of memory");
		goto fail;
	}
	for (int i = 0; i < c->n; i++) {
		if (!strcmp(c->id[i], id)) {
			cycle_error(c, i, base_path, m, d);
			goto fail;
		}
	}
	if (c->n > ASIM_EXTENDS_MAX_DEPTH) {
		asim_diag_error(d, m, "too many levels of 'extends' (at most %d)",
		                ASIM_EXTENDS_MAX_DEPTH);
		goto fail;
	}
	/* Refused here, where the `extends:` line is known, rather than by the
	 * reader, which can only name the base file. */
	struct stat st;
	const char *why = stat(base_path, &st) != 0 ? strerror(errno)
	                : S_ISDIR(st.st_mode)       ? strerror(EISDIR)
	                : !S_ISREG(st.st_mode)      ? "not a regular file"
	                                            : NULL;
	if (why) {
		asim_diag_error(d, m, "cannot read '%s' named by 'extends': %s", base_path, why);
		goto fail;
	}
	c->id[c->n] = id;
	c->shown[c->n] = base_path;
	c->n++;
	base = load_chain(base_path, NULL, 0, c, d);
	c->n--;
	if (!base)
		goto fail;
	map_remove(doc->root, ei);
	/* A variant is a design of its own: without a `name:` it is named
	 * after its file, not after its base. */
	size_t ni = key_index(base->root, "name");
	if (ni != SIZE_MAX && key_index(doc->root, "name") == SIZE_MAX)
		map_remove(base->root, ni);
	if (!asim_cfg_merge(base->root, doc->root)) {
		asim_diag_error(d, m, "out of memory");
		goto fail;
	}
	/* The merged tree becomes this document's, with this file's mark at
	 * the top; the husk of this file's own tree goes with the base. */
	struct asim_cfg *husk = doc->root;
	doc->root = base->root;
	doc->root->mark = husk->mark;
	base->root = husk;
	asim_doc_adopt(doc, base);
	base = NULL;
	if (!asim_doc_rename(doc)) {
		asim_diag_error(d, m, "out of memory");
		goto fail;
	}
	free(base_path);
	free(id);
	return doc;
fail:
	asim_doc_free(base);
	asim_doc_free(doc);
	free(base_path);
	free(id);
	return NULL;
}

struct asim_doc *asim_doc_load_extended(const char *path, const char *text, size_t len,
                                        struct asim_diag *d)
{
	struct chain c = {.n = 1};
	c.id[0] = identity(path);
	c.shown[0] = path;
	if (!c.id[0]) {
		asim_diag_error(d, (struct asim_mark){.file = path, .line = 0, .col = 0}, "out of memory");
		return NULL;
	}
	struct asim_doc *doc = load_chain(path, text, len, &c, d);
	free(c.id[0]);
	return doc;
}

/* ---- paths and --set ---- */

#define SEG_MAX 128
#define SEGS_MAX 32

struct seg {
	char text[SEG_MAX];
	bool bracket; /* written [N] */
};

/* Splits "a.b[2].c" into segments. Returns the count, or -1 when malformed. */
static int split_path(const char *path, struct seg *segs)
{
	int n = 0;
	const char *p = path;
	while (*p) {
		if (n == SEGS_MAX)
			return -1;
		struct seg *s = &segs[n++];
		size_t len;
		if (*p == '[') {
			p++;
			len = strspn(p, "0123456789");
			if (!len || p[len] != ']')
				return -1;
			s->bracket = true;
		} else {
			len = strcspn(p, ".[");
			if (!len)
				return -1;
			s->bracket = false;
		}
		if (len >= SEG_MAX)
			return -1;
		memcpy(s->text, p, len);
		s->text[len] = '\0';
		p += len + s->bracket;
		if (*p == '.') {
			p++;
			if (!*p)
				return -1;
		} else if (*p && *p != '[') {
			return -1;
		}
	}
	return n;
}

/* Where a path leads: the container of its last segment, and the index of
 * that segment in it (SIZE_MAX for a key not in the mapping yet). */
struct target {
	struct asim_cfg *parent;
	const char *key; /* the last segment's text */
	size_t index;
};

static bool parse_index(const char *text, size_t *out)
{
	int64_t v;
	if (!*text || strspn(text, "0123456789") != strlen(text) || !asim_parse_int(text, &v))
		return false;
	*out = (size_t)v;
	return true;
}

/* Walks root along segs. On failure writes why to err and returns false. */
static bool walk(struct asim_cfg *root, struct seg *segs, int n, struct target *t, char *err,
                 size_t errlen)
{
	struct asim_cfg *cur = root;
	char where[256] = "scenario";
	for (int i = 0; i < n; i++) {
		struct seg *s = &segs[i];
		bool last = i == n - 1, item = false;
		if (i == 0 && !asim_cfg_get(root, s->text)) {
			struct asim_cfg *comps = (struct asim_cfg *)asim_cfg_get(root, "components");
			if (comps && asim_cfg_get(comps, s->text)) {
				cur = comps;
				snprintf(where, sizeof where, "components");
			}
		}
		if (cur->type == ASIM_CFG_MAP && !s->bracket) {
			size_t k = key_index(cur, s->text);
			if (last) {
				*t = (struct target){cur, s->text, k};
				return true;
			}
			if (k == SIZE_MAX) {
				const char **keys = calloc(cur->n + 1, sizeof *keys);
				const char *guess = NULL;
				if (keys) {
					for (size_t j = 0; j < cur->n; j++)
						keys[j] = cur->pairs[j].key;
					guess = asim_diag_suggest(s->text, keys);
				}
				if (guess)
					snprintf(err, errlen, "no '%s' in '%s' (did you mean '%s'?)", s->text,
					         where, guess);
				else
					snprintf(err, errlen, "no '%s' in '%s'", s->text, where);
				free(keys);
				return false;
			}
			cur = cur->pairs[k].value;
		} else if (cur->type == ASIM_CFG_SEQ) {
			size_t k;
			if (!parse_index(s->text, &k)) {
				snprintf(err, errlen, "'%s' is a list: expected an index such as %s[0], got '%s'",
				         where, where, s->text);
				return false;
			}
			if (k >= cur->n) {
				snprintf(err, errlen, "index %zu is out of range: '%s' has %zu items", k, where,
				         cur->n);
				return false;
			}
			if (last) {
				*t = (struct target){cur, s->text, k};
				return true;
			}
			cur = cur->items[k];
			item = true;
		} else {
			snprintf(err, errlen, "'%s' is %s, not a %s", where, asim_cfg_type_name(cur),
			         s->bracket ? "list" : "mapping");
			return false;
		}
		size_t len = strlen(where);
		if (!strcmp(where, "scenario"))
			snprintf(where, sizeof where, "%s", s->text);
		else if (item)
			snprintf(where + len, sizeof where - len, "[%s]", s->text);
		else
			snprintf(where + len, sizeof where - len, ".%s", s->text);
	}
	snprintf(err, errlen, "empty path");
	return false;
}

const struct asim_cfg *asim_cfg_find_path(const struct asim_cfg *root, const char *path)
{
	struct seg segs[SEGS_MAX];
	int n = split_path(path, segs);
	struct target t;
	char err[512];
	if (n <= 0 || !root || root->type != ASIM_CFG_MAP ||
	    !walk((struct asim_cfg *)root, segs, n, &t, err, sizeof err) || t.index == SIZE_MAX)
		return NULL;
	return t.parent->type == ASIM_CFG_MAP ? t.parent->pairs[t.index].value
	                                      : t.parent->items[t.index];
}

/* --set values have no line of their own: their marks name only the option. */
static void unmark(struct asim_cfg *n)
{
	n->mark.line = n->mark.col = 0;
	for (size_t i = 0; n->type == ASIM_CFG_MAP && i < n->n; i++) {
		n->pairs[i].key_mark.line = n->pairs[i].key_mark.col = 0;
		unmark(n->pairs[i].value);
	}
	for (size_t i = 0; n->type == ASIM_CFG_SEQ && i < n->n; i++)
		unmark(n->items[i]);
}

bool asim_doc_set(struct asim_doc *doc, const char *assign, struct asim_diag *d)
{
	const char *eq = strchr(assign, '=');
	size_t plen = eq ? (size_t)(eq - assign) : strlen(assign);
	char name[SEG_MAX * 2 + 16];
	snprintf(name, sizeof name, "<--set %.*s>", (int)(plen < SEG_MAX * 2 ? plen : SEG_MAX * 2),
	         assign);
	struct asim_mark m = {.file = name, .line = 0, .col = 0};
	if (!eq || plen == 0) {
		asim_diag_error(d, m, "expected PATH=VALUE, e.g. components.users.rate=4000/s");
		return false;
	}
	struct seg segs[SEGS_MAX];
	char path[SEG_MAX * 2 + 1];
	snprintf(path, sizeof path, "%.*s", (int)plen, assign);
	int n = plen < sizeof path ? split_path(path, segs) : -1;
	if (n <= 0) {
		asim_diag_error(d, m, "malformed path '%s' (keys joined by '.', list items as [N])",
		                path);
		return false;
	}
	struct target t;
	char err[512];
	if (!walk(doc->root, segs, n, &t, err, sizeof err)) {
		asim_diag_error(d, m, "%s", err);
		return false;
	}
	/* The value is read as YAML, as the value of a one-key mapping. */
	size_t vlen = strlen(eq + 1);
	char *text = malloc(vlen + 4);
	if (!text) {
		asim_diag_error(d, m, "out of memory");
		return false;
	}
	memcpy(text, "v: ", 3);
	memcpy(text + 3, eq + 1, vlen + 1);
	struct asim_diag tmp;
	asim_diag_init(&tmp);
	struct asim_doc *vdoc = asim_doc_load_buffer(name, text, vlen + 3, &tmp);
	free(text);
	for (size_t i = 0; i < tmp.n; i++)
		asim_diag_error(d, m, "%s", tmp.v[i].msg);
	bool bad = asim_diag_count(&tmp) > 0;
	asim_diag_finish(&tmp);
	if (!vdoc || bad || vdoc->root->n != 1) {
		if (vdoc && !bad)
			asim_diag_error(d, m, "expected one value after '='");
		asim_doc_free(vdoc);
		return false;
	}
	/* The option's name must outlive the tree: marks borrow the copy the
	 * value's document owns. */
	m.file = vdoc->file;
	unmark(vdoc->root);
	struct asim_cfg *v = vdoc->root->pairs[0].value;
	struct asim_cfg *p = t.parent;
	if (v->type == ASIM_CFG_NULL) {
		if (t.index != SIZE_MAX && p->type == ASIM_CFG_MAP)
			map_remove(p, t.index);
		else if (t.index != SIZE_MAX)
			seq_remove(p, t.index);
		asim_doc_adopt(doc, vdoc);
		return true;
	}
	vdoc->root->pairs[0].value = NULL;
	asim_doc_adopt(doc, vdoc);
	if (p->type == ASIM_CFG_SEQ) {
		asim_cfg_free(p->items[t.index]);
		p->items[t.index] = v;
	} else if (t.index != SIZE_MAX) {
		asim_cfg_free(p->pairs[t.index].value);
		p->pairs[t.index].value = v;
		p->pairs[t.index].key_mark = m;
	} else if (!asim_cfg_map_add(p, t.key, m, v)) {
		asim_diag_error(d, m, "out of memory");
		return false;
	}
	return true;
}
