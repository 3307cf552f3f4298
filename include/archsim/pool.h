/* A pool of fixed-size objects with an intrusive free list.
 *
 * Models and the kernel take records (events, calls, requests) from pools so
 * that the hot path never calls malloc: storage grows in chunks while the
 * number of live objects rises and is recycled afterwards, so memory follows
 * the peak number of objects alive at once, not the length of the run. */
#ifndef ARCHSIM_POOL_H
#define ARCHSIM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct asim_pool_free {
	struct asim_pool_free *next;
};

struct asim_pool {
	size_t obj_size;             /* rounded up to pointer alignment */
	size_t chunk_objs;           /* objects per chunk */
	struct asim_pool_free *free; /* recycled objects */
	void **chunks;               /* owned chunk list */
	size_t nchunks, chunks_cap;
	size_t live, peak;           /* objects handed out now, and at most */
	size_t *account;             /* NULL, or a byte total that chunks add to */
};

/* Prepares an empty pool of obj_size-byte objects in caller-owned memory.
 * Set p->account afterwards to have the bytes of its chunks added to (and,
 * by asim_pool_finish, taken from) a running total. */
void asim_pool_init(struct asim_pool *p, size_t obj_size, size_t chunk_objs);

/* Frees every chunk. Objects still handed out become invalid. */
void asim_pool_finish(struct asim_pool *p);

/* Slow path of asim_pool_get: adds a chunk. Returns false when out of memory. */
bool asim_pool_grow(struct asim_pool *p);

/* An object with undefined contents, or NULL when out of memory: for a
 * caller that initialises every field itself (a compound literal of known
 * size is cheaper than a memset of the pool's run-time size). */
static inline void *asim_pool_take(struct asim_pool *p)
{
	if (!p->free && !asim_pool_grow(p))
		return NULL;
	struct asim_pool_free *o = p->free;
	p->free = o->next;
	if (++p->live > p->peak)
		p->peak = p->live;
	return o;
}

/* A zeroed object, or NULL when out of memory. */
static inline void *asim_pool_get(struct asim_pool *p)
{
	void *o = asim_pool_take(p);
	if (o)
		memset(o, 0, p->obj_size);
	return o;
}

/* Calls fn(ctx, obj) on every object of the pool, handed out or free, in
 * the order of its storage (the same on every run): for the end of a run,
 * to find what was left in flight, not for the hot path. The caller tells
 * its live objects apart by a field of its own: a free object keeps what it
 * held except its first pointer-sized bytes (the free-list link), and one
 * never handed out is all zero bytes (chunks are allocated zeroed). */
void asim_pool_each(const struct asim_pool *p, void (*fn)(void *ctx, void *obj), void *ctx);

/* Returns an object taken from this pool. NULL is accepted and ignored. */
static inline void asim_pool_put(struct asim_pool *p, void *obj)
{
	if (!obj)
		return;
	struct asim_pool_free *o = obj;
	o->next = p->free;
	p->free = o;
	p->live--;
}

#endif
