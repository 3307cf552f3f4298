/* Open addressing with linear probing, kept at most half full; entries are
 * never removed, so no tombstones are needed. */
#include "archsim/index.h"

#include <stdlib.h>
#include <string.h>

enum { INDEX_INITIAL = 16 };

void asim_index_init(struct asim_index *x)
{
	memset(x, 0, sizeof(*x));
}

void asim_index_finish(struct asim_index *x)
{
	if (!x)
		return;
	free(x->e);
	memset(x, 0, sizeof(*x));
}

/* FNV-1a over the bytes, then the scope folded in through a SplitMix64
 * finaliser so that the low bits (the ones the mask keeps) depend on all of
 * the input. Only the speed of a lookup depends on it, never an output. */
static uint64_t hash(uint64_t scope, const char *key, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * UINT64_C(0x100000001b3);
	h ^= scope * UINT64_C(0x9e3779b97f4a7c15);
	h = (h ^ (h >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	h = (h ^ (h >> 27)) * UINT64_C(0x94d049bb133111eb);
	return h ^ (h >> 31);
}

/* The entry holding the key, or the empty entry where it would go. */
static struct asim_index_entry *probe(const struct asim_index *x, uint64_t h, uint64_t scope,
                                      const char *key, size_t len)
{
	size_t mask = x->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct asim_index_entry *e = &x->e[i];
		if (!e->key || (e->hash == h && e->scope == scope && e->len == len &&
		                memcmp(e->key, key, len) == 0))
			return e;
	}
}

size_t asim_index_get(const struct asim_index *x, uint64_t scope, const char *key, size_t len)
{
	if (!x->n)
		return ASIM_INDEX_NONE;
	const struct asim_index_entry *e = probe(x, hash(scope, key, len), scope, key, len);
	return e->key ? e->val : ASIM_INDEX_NONE;
}

size_t asim_index_find(const struct asim_index *x, const char *key)
{
	return asim_index_get(x, 0, key, strlen(key));
}

static bool grow(struct asim_index *x)
{
	size_t cap = x->cap ? 2 * x->cap : INDEX_INITIAL;
	if (cap > SIZE_MAX / sizeof(*x->e))
		return false;
	struct asim_index_entry *e = calloc(cap, sizeof(*e));
	if (!e)
		return false;
	struct asim_index old = *x;
	x->e = e;
	x->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.e[i].key)
			*probe(x, old.e[i].hash, old.e[i].scope, old.e[i].key, old.e[i].len) = old.e[i];
	free(old.e);
	return true;
}

bool asim_index_put(struct asim_index *x, uint64_t scope, const char *key, size_t len, size_t val)
{
	if (2 * (x->n + 1) > x->cap && !grow(x))
		return false;
	uint64_t h = hash(scope, key, len);
	struct asim_index_entry *e = probe(x, h, scope, key, len);
	if (!e->key) {
		*e = (struct asim_index_entry){.key = key, .len = len, .scope = scope, .hash = h};
		x->n++;
	}
	e->val = val;
	return true;
}

bool asim_index_add(struct asim_index *x, const char *key, size_t val)
{
	return asim_index_put(x, 0, key, strlen(key), val);
}
