/* The pending-event set: a priority queue of (time, sequence, slot) entries.
 *
 * Entries are ordered by time, then by sequence number; the kernel takes the
 * sequence number from a counter when it schedules, so events due at the same
 * instant come out in the order they were scheduled (FIFO), on every machine.
 * The queue stores only the ordering key and a 32-bit slot index into the
 * kernel's event pool; it knows nothing about what an event means.
 *
 * This interface is deliberately small (init, push, pop, peek, size, finish).
 * Behind it are two structures: a 4-ary implicit heap while the queue is
 * small (few instructions, all in cache), and a ladder queue (Tang, Goh and
 * Thng, 2005; sim/ladder.c) once it holds many entries, where a heap's
 * O(log n) cache misses per operation dominate and the ladder's amortised
 * O(1) wins. The queue switches between them by size, with hysteresis; the
 * order of entries is the same either way. */
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
enum asim_evq_mode { ASIM_EVQ_AUTO, ASIM_EVQ_HEAP, ASIM_EVQ_LADDER };

struct asim_evq {
	struct asim_evq_entry *heap; /* heap mode: owned; grows by doubling */
	size_t size;
	size_t capacity;             /* of heap */
	const struct asim_evq_entry *first; /* the smallest entry while size > 0 */
	struct asim_ladder *ladder;  /* ladder mode when not NULL; owned */
	enum asim_evq_mode mode;
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

/* The queue is a heap below this many entries (see evq.c). */
#define ASIM_EVQ_LADDER_ON (1 << 15)

/* asim_evq_push's cases other than a heap with room: the ladder, growing
 * the heap, and moving into the ladder. */
bool asim_evq_push_slow(struct asim_evq *q, asim_time time, uint64_t seq, uint32_t slot);

/* Inserts an entry. Returns false when out of memory (queue unchanged).
 * Inline for its common case, a heap with room: the kernel schedules
 * through it on every timed event, and a call's register saves cost as much
 * as the sift of a small heap. */
static inline bool asim_evq_push(struct asim_evq *q, asim_time time, uint64_t seq, uint32_t slot)
{
	if (q->ladder || q->size == q->capacity || q->size >= ASIM_EVQ_LADDER_ON)
		return asim_evq_push_slow(q, time, seq, slot);
	struct asim_evq_entry *h = q->heap;
	size_t i = q->size++;
	/* (time, seq) order; times are never negative. */
	while (i > 0) {
		size_t parent = (i - 1) >> 2;
		const struct asim_evq_entry *p = &h[parent];
		if ((uint64_t)time > (uint64_t)p->time ||
		    ((uint64_t)time == (uint64_t)p->time && seq >= p->seq))
			break;
		h[i] = *p;
		i = parent;
	}
	h[i] = (struct asim_evq_entry){.time = time, .seq = seq, .slot = slot};
	return true;
}

/* Removes every entry for which drop(ctx, entry) returns true, in time
 * linear in the size; the others keep their order. Returns how many went
 * (0 as well when out of memory, with nothing removed). The kernel uses it
 * to clear out cancelled events when they outnumber the live ones. */
size_t asim_evq_remove_if(struct asim_evq *q,
                          bool (*drop)(void *ctx, const struct asim_evq_entry *e), void *ctx);

/* Removes the smallest (time, seq) entry into *out. Returns false when empty.
 * In ladder mode, preparing the next entry can run out of memory: the entry
 * is still returned, and q->nomem is set (the queue then looks empty). */
bool asim_evq_pop(struct asim_evq *q, struct asim_evq_entry *out);

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
