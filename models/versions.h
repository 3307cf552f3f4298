/* A database's versions by key slot: for each slot, the newest version
 * acknowledged to a client, when it was, and the version each instance
 * holds. The database owns the table; its leadership borrows it.
 *
 * The three are kept side by side, one record per slot, rather than as
 * three tables: a read looks at the acknowledged version when it arrives
 * and at its instance's when it is served, a write at its primary's and,
 * once acknowledged, at the acknowledged one. With a large key space every
 * table is far bigger than the caches, and three tables cost up to three
 * misses per operation where one record costs one. */
#ifndef ARCHSIM_MODELS_VERSIONS_H
#define ARCHSIM_MODELS_VERSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "archsim/time.h"

struct versions {
	uint64_t *v;     /* nslots records of stride words: acked, acked_at, per instance */
	uint32_t nslots; /* a power of two */
	uint32_t stride; /* 2 + instances */
};

/* Allocates nslots zeroed records for n instances. Returns false when out
 * of memory. */
static inline bool versions_init(struct versions *t, uint32_t nslots, uint32_t n)
{
	t->nslots = nslots;
	t->stride = 2 + n;
	t->v = calloc((size_t)nslots * t->stride, sizeof *t->v);
	return t->v != NULL;
}

static inline void versions_finish(struct versions *t)
{
	free(t->v);
	t->v = NULL;
}

/* The newest version acknowledged for slot. */
static inline uint64_t *versions_acked(const struct versions *t, uint32_t slot)
{
	return &t->v[(size_t)slot * t->stride];
}

/* When versions_acked was last raised (0 before). */
static inline asim_time versions_acked_at(const struct versions *t, uint32_t slot)
{
	return (asim_time)t->v[(size_t)slot * t->stride + 1];
}

static inline void versions_set_acked_at(const struct versions *t, uint32_t slot, asim_time at)
{
	t->v[(size_t)slot * t->stride + 1] = (uint64_t)at;
}

/* The version instance i holds for slot. */
static inline uint64_t *versions_held(const struct versions *t, uint32_t i, uint32_t slot)
{
	return &t->v[(size_t)slot * t->stride + 2 + i];
}

#endif
