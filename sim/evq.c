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
 * and climbs most of the way back.
 *
 * Past LADDER_ON entries the queue moves into a ladder queue (ladder.c): at
 * a million entries a heap operation costs several cache misses, a ladder
 * operation about one. Below LADDER_OFF it moves back, so a small queue
 * keeps the heap's few instructions; the gap between the two keeps a queue
 * that hovers near one size from moving back and forth. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/evq.h"
#include "ladder.h"

/* Entry 1 (the first group of siblings) starts a cache line; entry 0 ends the
 * line before it. HEAP_OFFSET is where entry 0 sits inside the allocation. */
enum { LINE = 64, HEAP_OFFSET = LINE - sizeof(struct asim_evq_entry) };

/* Below this size the heap sits in the L1/L2 cache and prefetching would
 * only add instructions. */
enum { PREFETCH_MIN = 16384 };

/* Measured with bench/hold: the ladder wins from a few ten thousand entries. */
enum { LADDER_ON = ASIM_EVQ_LADDER_ON, LADDER_OFF = 1 << 12 };

_Static_assert(sizeof(struct asim_evq_entry) == 24, "evq entry layout");

static inline int before(const struct asim_evq_entry *a, const struct asim_evq_entry *b)
{
	return asim_evq_before(a, b);
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
	asim_ladder_destroy(q->ladder);
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
	q->first = heap;
	q->capacity = cap;
	return true;
}

bool asim_evq_reserve(struct asim_evq *q, size_t n)
{
	if (q->ladder)
		return true;
	return grow_to(q, n);
}

static inline void sift_down(struct asim_evq_entry *h, size_t n, size_t i);

/* Heap to ladder. The heap's storage is freed: memory follows the structure
 * in use. */
static bool to_ladder(struct asim_evq *q)
{
	struct asim_ladder *l = asim_ladder_create();
	if (!l)
		return false;
	for (size_t i = 0; i < q->size; i++) {
		if (!asim_ladder_push(l, &q->heap[i])) {
			asim_ladder_destroy(l);
			return false;
		}
	}
	bool nomem;
	const struct asim_evq_entry *first = asim_ladder_min(l, &nomem);
	if (nomem) {
		asim_ladder_destroy(l);
		return false;
	}
	free(raw_of(q->heap));
	q->heap = NULL;
	q->capacity = 0;
	q->ladder = l;
	q->first = first;
	return true;
}

/* Ladder to heap: drain, then heapify bottom-up (Floyd), O(n). */
static bool to_heap(struct asim_evq *q)
{
	struct asim_ladder *l = q->ladder;
	q->ladder = NULL;
	size_t n = q->size;
	q->size = 0;
	if (!grow_to(q, n ? n : 1)) {
		q->ladder = l;
		q->size = n;
		return false;
	}
	asim_ladder_drain(l, q->heap);
	asim_ladder_destroy(l);
	q->size = n;
	q->first = q->heap;
	q->nomem = false;
	for (size_t i = n > 1 ? (n - 2) / 4 + 1 : 0; i-- > 0;)
		sift_down(q->heap, n, i);
	return true;
}

bool asim_evq_set_mode(struct asim_evq *q, enum asim_evq_mode mode)
{
	if (mode == ASIM_EVQ_LADDER && !q->ladder && !to_ladder(q))
		return false;
	if (mode == ASIM_EVQ_HEAP && q->ladder && !to_heap(q))
		return false;
	q->mode = mode;
	return true;
}

size_t asim_evq_bytes(const struct asim_evq *q)
{
	size_t bytes = q->capacity * sizeof(*q->heap);
	if (q->ladder)
		bytes += asim_ladder_bytes(q->ladder);
	return bytes;
}

static bool ladder_push(struct asim_evq *q, asim_time time, uint64_t seq, uint32_t slot)
{
	struct asim_evq_entry e = {.time = time, .seq = seq, .slot = slot};
	if (!asim_ladder_push(q->ladder, &e))
		return false;
	q->size++;
	bool nomem;
	q->first = asim_ladder_min(q->ladder, &nomem);
	q->nomem |= nomem;
	return true;
}

bool asim_evq_push_slow(struct asim_evq *q, asim_time time, uint64_t seq, uint32_t slot)
{
	if (q->ladder)
		return ladder_push(q, time, seq, slot);
	if (q->size == q->capacity || q->size >= LADDER_ON) {
		if (q->mode == ASIM_EVQ_LADDER || (q->mode == ASIM_EVQ_AUTO && q->size >= LADDER_ON)) {
			if (to_ladder(q))
				return ladder_push(q, time, seq, slot);
		}
		if (q->size == q->capacity && !grow_to(q, q->size + 1))
			return false;
	}
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

/* Moves h[i] down to its place among the n entries of the heap. In a large
 * heap the lower levels are not in cache, so the grandchildren (sixteen
 * consecutive entries whose place depends only on the index) are fetched
 * while the children are compared: two misses then overlap. */
static inline __attribute__((always_inline)) void sift_down(struct asim_evq_entry *h, size_t n,
                                                            size_t i)
{
	struct asim_evq_entry last = h[i];
	bool big = n > PREFETCH_MIN;
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
}

size_t asim_evq_remove_if(struct asim_evq *q,
                          bool (*drop)(void *ctx, const struct asim_evq_entry *e), void *ctx)
{
	bool was_ladder = q->ladder != NULL;
	if (was_ladder && !to_heap(q))
		return 0;
	struct asim_evq_entry *h = q->heap;
	size_t n = 0;
	for (size_t i = 0; i < q->size; i++)
		if (!drop(ctx, &h[i]))
			h[n++] = h[i];
	size_t removed = q->size - n;
	q->size = n;
	for (size_t i = n > 1 ? (n - 2) / 4 + 1 : 0; i-- > 0;)
		sift_down(h, n, i);
	/* Back to the ladder when it was one and is still large (pinned, or
	 * past the switch); staying a heap is correct if that fails. */
	if (was_ladder && (q->mode == ASIM_EVQ_LADDER || n >= LADDER_OFF))
		to_ladder(q);
	return removed;
}

static bool ladder_pop(struct asim_evq *q, struct asim_evq_entry *out)
{
	if (!q->size || !q->first)
		return false;
	*out = *q->first;
	asim_ladder_pop_min(q->ladder);
	q->size--;
	if (q->mode == ASIM_EVQ_AUTO && q->size < LADDER_OFF && to_heap(q))
		return true;
	bool nomem;
	q->first = asim_ladder_min(q->ladder, &nomem);
	q->nomem |= nomem;
	return true;
}

bool asim_evq_pop(struct asim_evq *q, struct asim_evq_entry *out)
{
	if (q->ladder)
		return ladder_pop(q, out);
	if (!q->size)
		return false;
	struct asim_evq_entry *h = q->heap;
	*out = h[0];
	size_t n = --q->size;
	if (n) {
		h[0] = h[n];
		sift_down(h, n, 0);
	}
	return true;
}
