/* The queue model's state and what its two files share (internal to
 * models/queue.c and models/queue_group.c, not part of any API).
 *
 * queue.c stores, delivers and acknowledges messages and reports; it
 * follows the assignment in force (queue_owner, queue_dispatch).
 * queue_group.c keeps the broker's sessions with the consumer instances
 * and the group's rebalances, which make that assignment and pause
 * partitions. Every function here takes the queue's component c and its
 * state s = c->state, after start succeeded (s->part not NULL). */
#ifndef ARCHSIM_MODELS_QUEUE_PRIVATE_H
#define ARCHSIM_MODELS_QUEUE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "archsim/pool.h"
#include "common.h"

struct msg;  /* a stored message (queue.c) */
struct seen; /* a remembered message (queue.c, Repeats) */

struct partition {
	struct ptr_ring ready, retry; /* of struct msg * */
	uint32_t was;                 /* its member before a change (move_cooperatively) */
	bool paused;                  /* moving in a cooperative rebalance: not delivered */
};

/* The broker's view of one consumer instance's session (see queue_group.c,
 * "Consumer sessions"). */
struct session {
	struct asim_timer expiry; /* pending while absent and not yet gone */
	asim_time expires;        /* when `expiry` fires */
	/* Sessions of crashed processes that new ones replaced, which the
	 * coordinator keeps until they expire (see "Restarts"): how many, and
	 * when the last of them expires. */
	uint16_t replaced;
	asim_time replaced_expires;
	uint16_t down;            /* its crash and zone_loss faults active */
	bool absent;              /* down, or cut off from the broker, now */
	bool gone;                /* the broker ended its session: out of the group */
	bool crashed;             /* went down since it was last in the group */
	bool unassigned;          /* out of the assignment in force (gone when it was made) */
};

/* Values of struct queue's protocol (`rebalance_protocol`). */
enum { REBALANCE_EAGER, REBALANCE_COOPERATIVE };

/* The queue's timer types. */
enum { EV_ACK_TIMEOUT = EV_MODEL_BASE, EV_SESSION_EXPIRY, EV_REPLACED_EXPIRY, EV_REBALANCED };

struct queue {
	uint32_t consumer, ncons, nparts, prefetch;
	uint64_t capacity; /* UINT64_MAX: unbounded */
	int when_full, protocol;
	bool static_membership;
	bool initial_rebalance; /* the run begins with the group's forming */
	asim_time ack_timeout, session_timeout, rebalance_time;
	struct asim_timer rebalance;  /* pending while the group rebalances */
	asim_time rebalancing_since;  /* ASIM_TIME_MAX when not rebalancing */
	asim_time rebalance_began;    /* of the rebalance under way */
	struct partition *part;
	uint32_t *inflight, *rr; /* per consumer instance */
	uint32_t *turn;          /* per instance: the partition set it takes from next */
	struct session *sess;    /* per instance */
	struct msg *first, *last; /* stored messages in arrival order */
	struct ptr_ring blocked; /* producers' calls waiting for a place */
	struct seen *seen;       /* REPEAT_SLOTS messages stored (Repeats) */
	uint64_t stored, next_id;
	struct asim_pool msgs;
	bool durable;
	struct inst_fault f;

	/* Measured after warm-up. */
	uint64_t produced, repeats, rejected, blocked_calls, delivered, redelivered, acked,
		nacked, ack_timeouts, lost, dropped, sessions_expired, rebalances;
	asim_time rebalancing; /* time without an assignment */

	/* The whole run's, warm-up included, for the time series: the time
	 * spent rebalancing in the rebalances that ended, and as much as the
	 * last sample had seen, at sampled_at (see sample in queue.c). */
	asim_time rebalanced_all, sampled_all, sampled_at;
	struct asim_tw backlog;
	asim_time lag_start, lag_last, lag_max;
	double lag_area; /* integral of the lag, ns * ns */
	struct asim_hist latency; /* arrival to ok reply: asim_call_measure() */
};

/* queue.c */

/* The consumer instance that takes partition p (< s->nparts): its own
 * (p mod instances) while it is in the assignment in force, else the next
 * one in it, in instance order, wrapping round; its own when none is. */
uint32_t queue_owner(const struct queue *s, uint32_t p);

/* Fills consumer instance i's free prefetch slots with deliveries from the
 * partitions it takes under the assignment in force. Delivers nothing
 * while the broker is down or stalled, to an instance out of the
 * assignment, or during an eager rebalance; skips paused partitions. */
void queue_dispatch(struct asim_component *c, struct queue *s, uint32_t i);

/* Ends every delivery out at consumer instance i (never to be
 * acknowledged), puts each message back on its partition's redeliveries
 * in arrival order, and dispatches to every instance. When a ring cannot
 * grow it stops the run and returns at once. */
void queue_requeue_out(struct asim_component *c, struct queue *s, uint32_t i);

/* queue_group.c */

/* The group forms at time 0 (start): with a rebalance_time and
 * initial_rebalance, every partition is paused and the first assignment
 * comes rebalance_time later (schedules one EV_REBALANCED); else nothing. */
void queue_group_start(struct asim_component *c, struct queue *s);

/* Handles the group's timers: EV_SESSION_EXPIRY, EV_REPLACED_EXPIRY and
 * EV_REBALANCED; ignores other types and an instance out of range. */
void queue_group_event(struct asim_component *c, struct queue *s, const struct asim_event *ev);

/* Ends the rebalance under way, if any, counting its time after warm-up in
 * s->rebalancing and, if it paused anything, in s->rebalances; unpauses
 * every partition. Does not assign or dispatch. */
void queue_end_rebalance(struct asim_kernel *k, struct queue *s);

/* The model's peer_fault and links_changed hooks: a fault edge at the
 * consumer, or any change of links, may start or end a consumer
 * instance's absence (see queue_group.c, "Detection"). Both do nothing
 * when start failed. */
void queue_peer_fault(struct asim_component *c, uint32_t peer, const struct asim_fault *f,
                      bool active);
void queue_links_changed(struct asim_component *c);

#endif
