/* The kernel's insides, shared by kernel.c and call.c only.
 *
 * Models never include this: they see struct asim_kernel as opaque. */
#ifndef ARCHSIM_KERNEL_PRIVATE_H
#define ARCHSIM_KERNEL_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "archsim/call.h"
#include "archsim/evq.h"
#include "archsim/index.h"
#include "archsim/kernel.h"
#include "archsim/pool.h"

/* A call flag the kernel keeps for itself: a response event for the call is
 * pending, so the record must live until that event comes up. */
#define ASIM_CALL_IN_FLIGHT 0x80
_Static_assert(!(ASIM_CALL_IN_FLIGHT & (ASIM_CALL_CALLER_DONE | ASIM_CALL_CALLEE_DONE |
                                       ASIM_CALL_DEDUPLICATED | ASIM_CALL_REPEATS_COUNTED |
                                       ASIM_CALL_REAPPLIED | ASIM_CALL_DUPLICATE_COUNTED |
                                       ASIM_CALL_PASSED_ON)),
               "a public call flag collides with the kernel's");

/* A scheduled event. The time lives in the queue entry (or is "now" for the
 * zero-delay FIFO), so a slot is 32 bytes: two per cache line. seq 0 marks a
 * free slot; a cancelled one keeps its seq with SLOT_CANCELLED set. */
struct asim_slot {
	uint64_t seq;
	uint32_t target; /* component id; next free slot while free */
	uint16_t type;
	uint16_t inst;
	uint64_t a;
	void *p;
};

#define ASIM_SLOT_CANCELLED (UINT64_C(1) << 63)

/* What dispatch needs, in one array indexed by component id, so that an
 * event costs one load instead of chasing component -> ops -> handle. */
struct asim_dispatch {
	void (*handle)(struct asim_component *c, const struct asim_event *ev);
	struct asim_component *c;
	uint16_t (*route)(struct asim_component *c, const struct asim_call *call); /* ops->route */
	struct asim_hist *latency; /* asim_call_measure(); NULL: not measured */
};

/* A stream's key is one buffer: the name, a NUL, then "\1purpose" or nothing
 * for a NULL purpose; names hold no NUL, so no two (name, purpose) pairs share
 * a key. The kernel's stream index points into it. */
struct asim_stream {
	char *key; /* owned */
	size_t key_len;
	gsl_rng *r;
};

struct asim_kernel {
	struct asim_kernel_head head; /* first: kernel.h's inline accessors read it */
	uint64_t next_seq;
	enum asim_run_status err; /* sticky; ASIM_RUN_DONE while none */
	bool stop, started, warmed, finished;

	/* Timed events wait in two queues by how far ahead they were due
	 * when scheduled (kernel.c, "two tiers"): near within near_span of
	 * their scheduling, far beyond it. Events still run in (time, seq)
	 * order across both and the FIFO. */
	struct asim_evq near;
	struct asim_evq far;
	asim_time near_span;
	asim_time near_limit; /* run_until: the near tier runs up to here */
	uint64_t retune_at; /* look at near_span when the event count reaches it */
	struct asim_slot *slots;
	uint32_t nslots, free_slot; /* free_slot == UINT32_MAX: none free */
	uint32_t *fifo;             /* ring of slot indices due now */
	uint32_t fifo_mask;         /* capacity - 1 (a power of two) */
	uint32_t fifo_head, fifo_tail;
	/* A call's hand-off due now, held here rather than in a slot and the
	 * FIFO while both are free (asim_kernel_schedule_now): it is then the
	 * FIFO's head, ahead of anything pushed after it. handoff.seq == 0:
	 * empty. */
	struct asim_slot handoff;
	size_t pending;             /* scheduled and neither run nor cancelled */
	size_t cancelled;           /* cancelled and still queued (evq or FIFO) */
	size_t cancel_floor;        /* clear them out of the evq only above this */

	uint64_t events, max_events;
	uint64_t fingerprint; /* FNV-style fold of every dispatched (time, target, type) */
	uint64_t check_at;          /* look at the event and memory limits at this count */
	size_t max_pending;
	size_t pending_cap;         /* max_pending, or SIZE_MAX for none: one compare */
	size_t max_memory, max_inflight;
	size_t pool_bytes; /* chunks of the pools counted by asim_kernel_memory */

	struct asim_component **comps;
	struct asim_dispatch *disp;
	uint32_t ncomps, comps_cap;
	struct asim_index comp_index; /* name -> id */

	uint64_t seed;
	uint32_t replication;
	struct asim_stream *streams;
	size_t nstreams, streams_cap;
	struct asim_index stream_index; /* key -> position in streams */

	char *ops[ASIM_MAX_OPS];
	int nops;

	struct asim_outcome *outcome; /* created on first use: it is large */

	/* Zone names live inline so the table needs no freeing (sim/zones.c). */
	char zone_names[ASIM_MAX_ZONES][ASIM_ZONE_NAME_MAX + 1];
	uint32_t nzones;

	struct asim_pool calls;
	asim_net_delay_fn net_fn;
	asim_net_link_fn link_fn; /* with net; NULL: every link is up */
	void *net;
};

/* Records the first sticky error; later ones are ignored. */
void asim_kernel_fail(struct asim_kernel *k, enum asim_run_status s);

enum { ASIM_NO_SLOT = UINT32_MAX };

/* The rare cases of a schedule (kernel.c): a sticky error, the pending
 * limit, no free slot, a full FIFO. Returns false (with the error recorded)
 * when the event cannot be scheduled. */
bool asim_kernel_make_room(struct asim_kernel *k, bool now);

/* Whether a schedule must go through asim_kernel_make_room first. A sticky
 * error sets pending_cap to 0, so the first compare also catches it. */
static inline bool asim_kernel_cramped(const struct asim_kernel *k, bool now)
{
	return k->pending >= k->pending_cap || k->free_slot == ASIM_NO_SLOT ||
	       (now && k->fifo_tail - k->fifo_head > k->fifo_mask);
}

/* Fills a slot field by field: GCC may write a compound literal of a slot by
 * zeroing it with `rep stos` first, whose start-up costs more than the
 * stores (seen inlined in a model's handler). */
static inline void set_slot(struct asim_slot *sl, uint64_t seq, uint32_t target, uint16_t type,
                            uint16_t inst, uint64_t a, void *p)
{
	sl->seq = seq;
	sl->target = target;
	sl->type = type;
	sl->inst = inst;
	sl->a = a;
	sl->p = p;
}

/* Schedules an event due now through the FIFO: what asim_schedule does
 * with a zero delay, for the call protocol's hand-offs (a message with no
 * network delay), shared here so that call.c need not go through the
 * general path's time checks and queue push. */
static inline void asim_kernel_schedule_now(struct asim_kernel *k, uint32_t target, uint16_t type,
                                            uint16_t inst, void *p)
{
	/* The common case of a hand-off, one message in flight at a time with
	 * nothing else due now (every hand-off of an M/M/1), takes neither a
	 * slot nor the FIFO: it cannot be cancelled, and as the only event due
	 * now it is the FIFO's head. */
	if (!k->handoff.seq && k->fifo_head == k->fifo_tail && k->pending < k->pending_cap) {
		uint64_t seq = k->next_seq;
		set_slot(&k->handoff, seq, target, type, inst, 0, p);
		k->next_seq = seq + 1;
		k->pending++;
		return;
	}
	if (__builtin_expect(asim_kernel_cramped(k, true), 0) && !asim_kernel_make_room(k, true))
		return;
	uint32_t s = k->free_slot;
	uint64_t seq = k->next_seq;
	k->fifo[k->fifo_tail++ & k->fifo_mask] = s;
	struct asim_slot *sl = &k->slots[s];
	k->free_slot = sl->target;
	set_slot(sl, seq, target, type, inst, 0, p);
	k->next_seq = seq + 1;
	k->pending++;
}

#endif
