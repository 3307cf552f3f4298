/* The pending-event set as a 4-ary implicit min-heap of (time, seq, slot).
 *
 * Why 4-ary: at a million pending events the heap no longer fits in the L2
 * cache and a pop costs one cache miss per level. A 4-ary heap has half the
 * levels of a binary one, and its four children (4 x 24 bytes) sit in two
 * cache lines because the storage is placed so that every group of siblings
 * starts on a 32-byte boundary. A pop sifts the last entry down from the
 * root; the smallest of four children is found with three branch-free
 * comparisons, and the one remaining branch (stop here?) is predictable.
 * Floyd's bottom-up pop (walk the hole to a leaf, then sift the last entry
 * up) was tried and dropped: it lost by 1.5x in the hold benchmark when the
 * increment distribution shifts, because the last entry is then often early
 * and climbs most of the way back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/evq.h"

/* Entry 1 (the first group of siblings) starts a cache line; entry 0 ends the
 * line before it. HEAP_OFFSET is where entry 0 sits inside the allocation. */
enum { LINE = 64, HEAP_OFFSET = LINE - sizeof(struct asim_evq_entry) };

/* Below this size the heap sits in the L1/L2 cache and prefetching would
 * only add instructions. */
enum { PREFETCH_MIN = 16384 };

_Static_assert(sizeof(struct asim_evq_entry) == 24, "evq entry layout");

/* (time, seq) order as one 128-bit unsigned comparison: times are never
 * negative, so the packed key orders exactly like the pair, and the compiler
 * turns it into a compare and a subtract-with-borrow with no branch. This
 * measured faster than the two-part test in the hold benchmark. */
__extension__ typedef unsigned __int128 key128;

static inline int before(const struct asim_evq_entry *a, const struct asim_evq_entry *b)
{
	key128 ka = (key128)(uint64_t)a->time << 64 | a->seq;
	key128 kb = (key128)(uint64_t)b->time << 64 | b->seq;
	return ka < kb;
}

static void *raw_of(struct asim_evq_entry *heap)
{
	return heap ? (char *)heap - HEAP_OFFSET : NULL;
}

void asim_evq_init(struct asim_evq *q)
{
	*q = (struct asim_evq){0};
}

void asim_evq_finish(struct asim_evq *q)
{
	free(raw_of(q->heap));
	*q = (struct asim_evq){0};
}

static bool grow_to(struct asim_evq *q, size_t n)
{
	if (n <= q->capacity)
		return true;
	size_t cap = q->capacity ? q->capacity : 64;
	while (cap < n) {
		if (cap > SIZE_MAX / 2 / sizeof(struct asim_evq_entry))
			return false;
		cap *= 2;
	}
	size_t bytes = HEAP_OFFSET + cap * sizeof(struct asim_evq_entry);
	bytes = (bytes + LINE - 1) / LINE * LINE;
	char *raw = aligned_alloc(LINE, bytes);
	if (!raw)
		return false;
	struct asim_evq_entry *heap = (struct asim_evq_entry *)(raw + HEAP_OFFSET);
	if (q->size)
		memcpy(heap, q->heap, q->size * sizeof(*heap));
	free(raw_of(q->heap));
	q->heap = heap;
	q->capacity = cap;
	return true;
}

bool asim_evq_reserve(struct asim_evq *q, size_t n)
{
	return grow_to(q, n);
}

bool asim_evq_push(struct asim_evq *q, asim_time time, uint64_t seq, uint32_t slot)
{
	if (q->size == q->capacity && !grow_to(q, q->size + 1))
		return false;
	struct asim_evq_entry e = {.time = time, .seq = seq, .slot = slot};
	struct asim_evq_entry *h = q->heap;
	size_t i = q->size++;
	while (i > 0) {
		size_t parent = (i - 1) >> 2;
		if (!before(&e, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = e;
	return true;
}

bool asim_evq_pop(struct asim_evq *q, struct asim_evq_entry *out)
{
	if (!q->size)
		return false;
	struct asim_evq_entry *h = q->heap;
	*out = h[0];
	size_t n = --q->size;
	if (!n)
		return true;
	/* In a large heap the lower levels are not in cache, so the
	 * grandchildren (sixteen consecutive entries whose place depends only
	 * on the index) are fetched while the children are compared: two
	 * misses then overlap. */
	struct asim_evq_entry last = h[n];
	bool big = n > PREFETCH_MIN;
	size_t i = 0;
	for (;;) {
		size_t c = 4 * i + 1;
		size_t m;
		if (big && 4 * c + 1 < n) {
			const char *g = (const char *)&h[4 * c + 1];
			for (int l = 0; l < 6; l++)
				__builtin_prefetch(g + l * LINE);
		}
		if (c + 3 < n) {
			size_t a = c + (size_t)before(&h[c + 1], &h[c]);
			size_t b = c + 2 + (size_t)before(&h[c + 3], &h[c + 2]);
			m = before(&h[b], &h[a]) ? b : a;
		} else if (c < n) {
			/* A partial last group: its children are past the end. */
			m = c;
			for (size_t j = c + 1; j < n; j++)
				if (before(&h[j], &h[m]))
					m = j;
		} else {
			break;
		}
		if (!before(&h[m], &last))
			break;
		h[i] = h[m];
		i = m;
	}
	h[i] = last;
	return true;
}
