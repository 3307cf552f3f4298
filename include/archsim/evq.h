/* The pending-event set: a priority queue of (time, sequence, slot) entries.
 *
 * Entries are ordered by time, then by sequence number; the kernel takes the
 * sequence number from a counter when it schedules, so events due at the same
 * instant come out in the order they were scheduled (FIFO), on every machine.
 * The queue stores only the ordering key and a 32-bit slot index into the
 * kernel's event pool; it knows nothing about what an event means.
 *
 * This interface is deliberately small (init, push, pop, peek, size, finish)
 * so that the implementation behind it (a 4-ary implicit heap today) can be
 * replaced by a ladder queue without touching the kernel. */
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

struct asim_evq {
	struct asim_evq_entry *heap; /* owned; grows by doubling, never shrinks */
	size_t size;
	size_t capacity;
};

/* Prepares an empty queue in caller-owned memory. Allocates nothing yet. */
void asim_evq_init(struct asim_evq *q);

/* Frees the queue's storage; q may be reused after asim_evq_init(). */
void asim_evq_finish(struct asim_evq *q);

/* Reserves room for n entries so that later pushes do not allocate.
 * Returns false when out of memory (the queue is unchanged). */
bool asim_evq_reserve(struct asim_evq *q, size_t n);

/* Inserts an entry. Returns false when out of memory (queue unchanged). */
bool asim_evq_push(struct asim_evq *q, asim_time time, uint64_t seq, uint32_t slot);

/* Removes the smallest (time, seq) entry into *out. Returns false when empty. */
bool asim_evq_pop(struct asim_evq *q, struct asim_evq_entry *out);

/* The smallest entry without removing it, or NULL when empty. */
static inline const struct asim_evq_entry *asim_evq_peek(const struct asim_evq *q)
{
	return q->size ? &q->heap[0] : NULL;
}

static inline size_t asim_evq_size(const struct asim_evq *q)
{
	return q->size;
}

#endif
