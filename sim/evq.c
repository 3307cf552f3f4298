/* The pending-event set: a sorted array, a 4-ary implicit min-heap or a
 * ladder queue of (time, seq, slot), chosen by size.
 *
 * Below SORTED_ON entries the queue is an array sorted in descending order:
 * a pop takes the last entry, a push moves the entries due before the new
 * one up a place. With a handful of entries (an M/M/1 run holds two) that
 * is a few instructions and at most one mispredicted branch per operation,
 * where a heap's sift costs a mispredict per level. Reversed, the array is
 * a valid heap, so the move up costs one pass; a heap that shrinks below
 * SORTED_OFF is sorted again (insertion sort of a few entries). The gap
 * between the two keeps a queue that hovers near one size from moving back
 * and forth.
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

/* Measured with bench/hold: the ladder wins from a few ten thousand entries,
 * the sorted array below a few dozen. */
enum { LADDER_ON = ASIM_EVQ_LADDER_ON, LADDER_OFF = 1 << 12 };
enum { SORTED_ON = ASIM_EVQ_SORTED_ON, SORTED_OFF = SORTED_ON / 2 };

_Static_assert(sizeof(struct asim_evq_entry) == 24, "evq entry layout");

static void *raw_of(struct asim_evq_entry *heap)
{
	return heap ? (char *)heap - HEAP_OFFSET : NULL;
}

/* Where push's and pop's inline paths end, after any change of structure,
 * capacity or mode: push leaves it at the end of the array, at the switch
 * to the ladder, or at the switch from the sorted array to the heap. */
static void set_bounds(struct asim_evq *q)
{
	bool autos = q->mode == ASIM_EVQ_AUTO;
	size_t room = q->ladder ? 0 : q->capacity;
	if (room > LADDER_ON)
		room = LADDER_ON;
	if (q->sorted && autos && room > SORTED_ON)
		room = SORTED_ON;
	q->room = room;
	q->sort_below = autos && !q->ladder && !q->sorted ? SORTED_OFF : 0;
}

/* The smallest entry of the array, or its start when empty. */
static void set_first(struct asim_evq *q)
{
	q->first = q->sorted && q->size ? &q->heap[q->size - 1] : q->heap;
}

void asim_evq_init(struct asim_evq *q)
{
	*q = (struct asim_evq){.sorted = true};
}

void asim_evq_finish(struct asim_evq *q)
{
	free(raw_of(q->heap));
	asim_ladder_destroy(q->ladder);
	asim_evq_init(q);
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
	set_first(q);
	set_bounds(q);
	return true;
}

bool asim_evq_reserve(struct asim_evq *q, size_t n)
{
	if (q->ladder)
		return true;
	return grow_to(q, n);
}

/* Makes the n entries of h a heap, bottom-up (Floyd): O(n). */
static void heapify(struct asim_evq_entry *h, size_t n)
{
	for (size_t i = n > 1 ? (n - 2) / 4 + 1 : 0; i-- > 0;)
		asim_evq_sift_down(h, n, i);
}

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
	q->sorted = false;
	set_bounds(q);
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
	q->sorted = false;
	heapify(q->heap, n);
	set_bounds(q);
	return true;
}

/* Sorted array to heap: reversed, it is one already. */
static void sorted_to_heap(struct asim_evq *q)
{
	struct asim_evq_entry *h = q->heap;
	for (size_t i = 0, j = q->size; i + 1 < j; i++, j--) {
		struct asim_evq_entry t = h[i];
		h[i] = h[j - 1];
		h[j - 1] = t;
	}
	q->sorted = false;
	q->first = h;
	set_bounds(q);
}

/* Heap to sorted array, by insertion: it is called with a few entries.
 * Each entry goes through the sorted push in turn (the entries before it
 * are the array so far), so the order of ties is the push's own. */
void asim_evq_to_sorted(struct asim_evq *q)
{
	size_t n = q->size;
	q->size = 0;
	q->sorted = true;
	for (size_t i = 0; i < n; i++) {
		struct asim_evq_entry e = q->heap[i];
		asim_evq_place(q, e.time, e.seq, e.slot);
	}
	set_first(q);
	set_bounds(q);
}

bool asim_evq_set_mode(struct asim_evq *q, enum asim_evq_mode mode)
{
	if (mode == ASIM_EVQ_LADDER && !q->ladder && !to_ladder(q))
		return false;
	if ((mode == ASIM_EVQ_HEAP || mode == ASIM_EVQ_SORTED) && q->ladder && !to_heap(q))
		return false;
	if (mode == ASIM_EVQ_HEAP && q->sorted)
		sorted_to_heap(q);
	if (mode == ASIM_EVQ_SORTED && !q->sorted)
		asim_evq_to_sorted(q);
	q->mode = mode;
	set_bounds(q);
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
	if (q->sorted && q->mode == ASIM_EVQ_AUTO && q->size >= SORTED_ON)
		sorted_to_heap(q);
	if (q->size == q->capacity || q->size >= LADDER_ON) {
		if (q->mode == ASIM_EVQ_LADDER || (q->mode == ASIM_EVQ_AUTO && q->size >= LADDER_ON)) {
			if (to_ladder(q))
				return ladder_push(q, time, seq, slot);
		}
		if (q->size == q->capacity && !grow_to(q, q->size + 1))
			return false;
	}
	asim_evq_place(q, time, seq, slot);
	return true;
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
	/* What is left of a sorted array is still sorted. */
	if (q->sorted)
		set_first(q);
	else
		heapify(h, n);
	/* Back to the ladder when it was one and is still large (pinned, or
	 * past the switch); staying a heap is correct if that fails. */
	if (was_ladder && (q->mode == ASIM_EVQ_LADDER || n >= LADDER_OFF))
		to_ladder(q);
	return removed;
}

bool asim_evq_pop_ladder(struct asim_evq *q, struct asim_evq_entry *out)
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

