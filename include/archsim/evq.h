/* The pending-event set: a priority queue of (time, sequence, slot) entries.
 *
 * Entries are ordered by time, then by sequence number; the kernel takes the
 * sequence number from a counter when it schedules, so events due at the same
 * instant come out in the order they were scheduled (FIFO), on every machine.
 * The queue stores only the ordering key and a 32-bit slot index into the
 * kernel's event pool; it knows nothing about what an event means.
 *
 * This interface is deliberately small (init, push, pop, peek, size, finish).
 * Behind it are three structures: an array sorted in descending order while
 * the queue holds a few dozen entries or fewer (a pop takes the last entry;
 * an M/M/1 run holds two), a 4-ary implicit heap above that (few
 * instructions, all in cache), and a ladder queue (Tang, Goh and Thng, 2005;
 * sim/ladder.c) once it holds many entries, where a heap's O(log n) cache
 * misses per operation dominate and the ladder's amortised O(1) wins. The
 * queue switches between them by size, with hysteresis; the order of
 * entries is the same either way. */
#ifndef ARCHSIM_EVQ_H
#define ARCHSIM_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archsim/time.h"

struct asim_evq_entry {
	asim_time time;
	uint64_t seq;
	uint32_t slot;
};

struct asim_ladder;

/* Which structure holds the entries: AUTO switches by size; the others pin
 * one (for tests and benchmarks). */
enum asim_evq_mode { ASIM_EVQ_AUTO, ASIM_EVQ_HEAP, ASIM_EVQ_LADDER, ASIM_EVQ_SORTED };

struct asim_evq {
	struct asim_evq_entry *heap; /* heap or sorted array: owned; grows by doubling */
	size_t size;
	size_t room;                 /* push takes its inline path while size < room */
	size_t sort_below;           /* a heap pop down to fewer entries sorts them */
	const struct asim_evq_entry *first; /* the smallest entry while size > 0 */
	struct asim_ladder *ladder;  /* ladder mode when not NULL; owned */
	size_t capacity;             /* of heap */
	enum asim_evq_mode mode;
	bool sorted;                 /* heap[] is sorted descending: the smallest is last */
	bool nomem;                  /* a pop could not prepare the next entry */
};

/* Prepares an empty queue in caller-owned memory. Allocates nothing yet. */
void asim_evq_init(struct asim_evq *q);

/* Frees the queue's storage; q may be reused after asim_evq_init(). */
void asim_evq_finish(struct asim_evq *q);

/* Reserves room for n entries so that later pushes do not allocate while
 * the queue is a heap. Returns false when out of memory (queue unchanged). */
bool asim_evq_reserve(struct asim_evq *q, size_t n);

/* Pins the structure (or unpins it with ASIM_EVQ_AUTO), moving the entries
 * over when needed. Returns false when out of memory (queue unchanged). */
bool asim_evq_set_mode(struct asim_evq *q, enum asim_evq_mode mode);

/* Bytes of storage the queue holds, in use or kept for reuse. */
size_t asim_evq_bytes(const struct asim_evq *q);

/* The queue is a sorted array below ASIM_EVQ_SORTED_ON entries, a heap from
 * there, and a ladder from ASIM_EVQ_LADDER_ON (see evq.c). */
#define ASIM_EVQ_SORTED_ON 32
#define ASIM_EVQ_LADDER_ON (1 << 15)

/* (time, seq) order as one 128-bit unsigned comparison: times are never
 * negative, so the packed key orders exactly like the pair, and the compiler
 * turns it into a compare and a subtract-with-borrow with no branch. */
__extension__ typedef unsigned __int128 asim_evq_key;

static inline asim_evq_key asim_evq_key_of(const struct asim_evq_entry *e)
{
	return (asim_evq_key)(uint64_t)e->time << 64 | e->seq;
}

static inline int asim_evq_before(const struct asim_evq_entry *a, const struct asim_evq_entry *b)
{
	return asim_evq_key_of(a) < asim_evq_key_of(b);
}

/* Puts an entry into the sorted array or the heap, which has room for it.
 * With newest, e's sequence number is greater than every queued entry's,
 * so an entry comes before e exactly when its time is not later: one
 * 64-bit compare of times where the (time, seq) pair takes two loads and a
 * borrow. Without it, the pair is compared as always. */
static inline __attribute__((always_inline)) void asim_evq_place_as(struct asim_evq *q,
                                                                    asim_time time, uint64_t seq,
                                                                    uint32_t slot, bool newest)
{
	struct asim_evq_entry e = {.time = time, .seq = seq, .slot = slot};
	struct asim_evq_entry *h = q->heap;
	size_t i = q->size++;
	if (q->sorted) {
		/* Descending: the entries due before e move up one place. */
		while (i > 0 && (newest ? h[i - 1].time <= time : asim_evq_before(&h[i - 1], &e))) {
			h[i] = h[i - 1];
			i--;
		}
		h[i] = e;
		q->first = &h[q->size - 1];
		return;
	}
	while (i > 0) {
		size_t parent = (i - 1) >> 2;
		if (newest ? h[parent].time <= time : !asim_evq_before(&e, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = e;
}

static inline __attribute__((always_inline)) void asim_evq_place(struct asim_evq *q,
                                                                 asim_time time, uint64_t seq,
                                                                 uint32_t slot)
{
	asim_evq_place_as(q, time, seq, slot, false);
}

/* asim_evq_push's other cases: the ladder, growing the array, and moving
 * from one structure to the next. */
bool asim_evq_push_slow(struct asim_evq *q, asim_time time, uint64_t seq, uint32_t slot);

/* Inserts an entry. Returns false when out of memory (queue unchanged).
 * Inline for its common case, an array with room: the kernel schedules
 * through it on every timed event, and a call's register saves cost as much
 * as the sift of a small heap. */
static inline bool asim_evq_push(struct asim_evq *q, asim_time time, uint64_t seq, uint32_t slot)
{
	if (q->size >= q->room)
		return asim_evq_push_slow(q, time, seq, slot);
	asim_evq_place(q, time, seq, slot);
	return true;
}

/* asim_evq_push for an entry whose seq is greater than that of every entry
 * in the queue, as the kernel's are (one counter numbers every event it
 * schedules): the same order, found comparing times alone. */
static inline bool asim_evq_push_newest(struct asim_evq *q, asim_time time, uint64_t seq,
                                        uint32_t slot)
{
	if (q->size >= q->room)
		return asim_evq_push_slow(q, time, seq, slot);
	asim_evq_place_as(q, time, seq, slot, true);
	return true;
}

/* Removes every entry for which drop(ctx, entry) returns true, in time
 * linear in the size; the others keep their order. Returns how many went
 * (0 as well when out of memory, with nothing removed). The kernel uses it
 * to clear out cancelled events when they outnumber the live ones. */
size_t asim_evq_remove_if(struct asim_evq *q,
                          bool (*drop)(void *ctx, const struct asim_evq_entry *e), void *ctx);

/* Below this size the heap sits in the L1/L2 cache and prefetching would
 * only add instructions. */
#define ASIM_EVQ_PREFETCH_MIN 16384

/* Moves h[i] down to its place among the n entries of the 4-ary heap. In a
 * large heap the lower levels are not in cache, so the grandchildren
 * (sixteen consecutive entries whose place depends only on the index) are
 * fetched while the children are compared: two misses then overlap. The
 * smallest of four children is found with three branch-free comparisons;
 * the one remaining branch (stop here?) is predictable. */
static inline __attribute__((always_inline)) void asim_evq_sift_down(struct asim_evq_entry *h,
                                                                     size_t n, size_t i)
{
	struct asim_evq_entry last = h[i];
	bool big = n > ASIM_EVQ_PREFETCH_MIN;
	for (;;) {
		size_t c = 4 * i + 1;
		size_t m;
		if (big && 4 * c + 1 < n) {
			const char *g = (const char *)&h[4 * c + 1];
			for (int l = 0; l < 6; l++)
				__builtin_prefetch(g + l * 64);
		}
		if (c + 3 < n) {
			size_t a = c + (size_t)asim_evq_before(&h[c + 1], &h[c]);
			size_t b = c + 2 + (size_t)asim_evq_before(&h[c + 3], &h[c + 2]);
			m = asim_evq_before(&h[b], &h[a]) ? b : a;
		} else if (c < n) {
			/* A partial last group: its children are past the end. */
			m = c;
			for (size_t j = c + 1; j < n; j++)
				if (asim_evq_before(&h[j], &h[m]))
					m = j;
		} else {
			break;
		}
		if (!asim_evq_before(&h[m], &last))
			break;
		h[i] = h[m];
		i = m;
	}
	h[i] = last;
}

/* asim_evq_pop's other cases: the ladder, and a heap that has become small
 * enough to sort. */
bool asim_evq_pop_ladder(struct asim_evq *q, struct asim_evq_entry *out);
void asim_evq_to_sorted(struct asim_evq *q);

/* Removes the smallest (time, seq) entry into *out. Returns false when empty.
 * In ladder mode, preparing the next entry can run out of memory: the entry
 * is still returned, and q->nomem is set (the queue then looks empty).
 * Inline for the sorted array and the heap, as push is: the kernel pops on
 * every timed event, and a small queue's pop costs little more than the
 * call. */
static inline bool asim_evq_pop(struct asim_evq *q, struct asim_evq_entry *out)
{
	if (q->ladder)
		return asim_evq_pop_ladder(q, out);
	size_t n = q->size;
	if (!n)
		return false;
	struct asim_evq_entry *h = q->heap;
	q->size = --n;
	if (q->sorted) {
		*out = h[n];
		q->first = &h[n ? n - 1 : 0];
		return true;
	}
	*out = h[0];
	if (n) {
		h[0] = h[n];
		asim_evq_sift_down(h, n, 0);
	}
	if (n < q->sort_below)
		asim_evq_to_sorted(q);
	return true;
}

/* The smallest entry without removing it, or NULL when empty. */
static inline const struct asim_evq_entry *asim_evq_peek(const struct asim_evq *q)
{
	return q->size ? q->first : NULL;
}

static inline size_t asim_evq_size(const struct asim_evq *q)
{
	return q->size;
}

#endif
