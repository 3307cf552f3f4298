/* Fixed-size object pool: the slow path that adds chunks, and teardown. */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

#include "archsim/pool.h"

enum { DEFAULT_CHUNK_OBJS = 256 };

void asim_pool_init(struct asim_pool *p, size_t obj_size, size_t chunk_objs)
{
	/* Every object must hold the free-list link and keep the alignment of
	 * whatever the caller stores in it (pointers and 64-bit integers). */
	size_t align = alignof(void *) > alignof(uint64_t) ? alignof(void *) : alignof(uint64_t);
	if (obj_size < sizeof(struct asim_pool_free))
		obj_size = sizeof(struct asim_pool_free);
	obj_size = (obj_size + align - 1) / align * align;
	*p = (struct asim_pool){
		.obj_size = obj_size,
		.chunk_objs = chunk_objs ? chunk_objs : DEFAULT_CHUNK_OBJS,
	};
}

void asim_pool_finish(struct asim_pool *p)
{
	if (p->account)
		*p->account -= p->nchunks * p->chunk_objs * p->obj_size;
	for (size_t i = 0; i < p->nchunks; i++)
		free(p->chunks[i]);
	free(p->chunks);
	p->chunks = NULL;
	p->nchunks = p->chunks_cap = 0;
	p->free = NULL;
	p->live = 0;
}

bool asim_pool_grow(struct asim_pool *p)
{
	if (p->nchunks == p->chunks_cap) {
		size_t cap = p->chunks_cap ? 2 * p->chunks_cap : 8;
		void **chunks = realloc(p->chunks, cap * sizeof(*chunks));
		if (!chunks)
			return false;
		p->chunks = chunks;
		p->chunks_cap = cap;
	}
	if (p->chunk_objs > SIZE_MAX / p->obj_size)
		return false;
	/* Zeroed, so that asim_pool_each's callers can tell the objects
	 * never handed out (and the chunk costs no more: fresh pages from
	 * the system are zero already). */
	char *chunk = calloc(p->chunk_objs, p->obj_size);
	if (!chunk)
		return false;
	p->chunks[p->nchunks++] = chunk;
	if (p->account)
		*p->account += p->chunk_objs * p->obj_size;
	/* Thread the objects from the end so that the first one is handed out
	 * first: consecutive gets then walk memory forwards. */
	for (size_t i = p->chunk_objs; i-- > 0;) {
		struct asim_pool_free *o = (struct asim_pool_free *)(chunk + i * p->obj_size);
		o->next = p->free;
		p->free = o;
	}
	return true;
}

void asim_pool_each(const struct asim_pool *p, void (*fn)(void *ctx, void *obj), void *ctx)
{
	for (size_t c = 0; c < p->nchunks; c++) {
		char *chunk = p->chunks[c];
		for (size_t j = 0; j < p->chunk_objs; j++)
			fn(ctx, chunk + j * p->obj_size);
	}
}
