/* A hash index from names to numbers, for the lookups by name that run once
 * per component or per reported value: a linear search there makes loading
 * and reporting quadratic in the size of the scenario.
 *
 * The index borrows its keys: the caller keeps each key's bytes alive and
 * unchanged while its entry is in the index (typically the key is a string the
 * caller owns, and the value its position in the caller's array). A key is a
 * byte string plus a 64-bit scope, so one index can hold names that live in
 * different namespaces (a member name under a given parent, say).
 *
 * Iteration is not offered: nothing may depend on the order of a hash table. */
#ifndef ARCHSIM_INDEX_H
#define ARCHSIM_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct asim_index_entry {
	const char *key; /* borrowed; NULL marks an empty entry */
	size_t len;
	uint64_t scope;
	uint64_t hash;
	size_t val;
};

struct asim_index {
	struct asim_index_entry *e; /* owned; cap entries, cap a power of two */
	size_t cap, n;
};

#define ASIM_INDEX_NONE SIZE_MAX

/* An empty index; it allocates on the first put. */
void asim_index_init(struct asim_index *x);
/* Frees the table (not the keys). Accepts NULL. */
void asim_index_finish(struct asim_index *x);

/* The value stored for (scope, the len bytes at key), or ASIM_INDEX_NONE. */
size_t asim_index_get(const struct asim_index *x, uint64_t scope, const char *key, size_t len);
/* The same for a NUL-terminated key in scope 0. */
size_t asim_index_find(const struct asim_index *x, const char *key);

/* Maps (scope, key[0..len)) to val, replacing the value of a key already
 * there. Returns false when out of memory (the index is unchanged). */
bool asim_index_put(struct asim_index *x, uint64_t scope, const char *key, size_t len, size_t val);
/* The same for a NUL-terminated key in scope 0. */
bool asim_index_add(struct asim_index *x, const char *key, size_t val);

#endif
