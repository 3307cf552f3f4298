/* The call protocol: one component asks another and is answered once.
 *
 * A call is a record from the kernel's pool. The caller fills it and sends it
 * (an ASIM_EV_REQUEST event at the callee, after the network delay); the
 * callee works and replies (an ASIM_EV_RESPONSE event back at the caller, with
 * a status); the caller reads the response and frees the call.
 *
 * Either side may give up. A caller that times out abandons the call: its
 * response, if one ever comes, is dropped by the kernel before delivery, so a
 * caller never sees a stale answer. A callee that loses the work (a crash)
 * drops the call without replying. The record is freed once both sides are
 * done with it. A callee can test asim_call_abandoned() to skip work whose
 * caller is gone (counted as wasted by the model). */
#ifndef ARCHSIM_CALL_H
#define ARCHSIM_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archsim/kernel.h"

enum asim_status {
	ASIM_OK = 0,
	ASIM_TIMEOUT,     /* no answer before a deadline */
	ASIM_REJECTED,    /* refused for lack of capacity (queue full, rate limit) */
	ASIM_ERROR,       /* answered with an error */
	ASIM_UNREACHABLE, /* no healthy route to a callee */
	ASIM_STATUS_COUNT
};

const char *asim_status_str(enum asim_status s);

/* Call flags. The kernel keeps bit 0x80 for itself (sim/kernel_private.h). */
enum {
	ASIM_CALL_CALLER_DONE = 1, /* the caller abandoned it or took the reply */
	ASIM_CALL_CALLEE_DONE = 2, /* the callee replied or dropped it */
	/* The callee recognised the request as one it had already applied (an
	 * idempotency key: the same logical request from the same caller) and
	 * did not apply it again. Set by the callee before it replies ASIM_OK;
	 * read by the caller from the response (asim_call_deduplicated). A relay
	 * that forwards the request unchanged passes it back to its own caller
	 * (asim_call_relay_repeat); a component that does work of its own
	 * around the call (a service) does not, since its work was done
	 * again. */
	ASIM_CALL_DEDUPLICATED = 4,
	/* Set by a caller on its request: it counts repeats of its logical
	 * requests itself (a worker's duplicates), so a store that recognises
	 * one does not count a duplicate of its own and only says what it did
	 * (ASIM_CALL_DEDUPLICATED or ASIM_CALL_REAPPLIED). A relay forwards it
	 * with the request (asim_call_forward_flags): behind a relay the store
	 * sees the relay as the caller. A service does not: the calls it makes
	 * are its own, and a store counts their repeats
	 * (ASIM_CALL_DUPLICATE_COUNTED). */
	ASIM_CALL_REPEATS_COUNTED = 8,
	/* The callee recognised the request as one it had applied before and
	 * applied it again (a store without idempotency). Set and passed back
	 * like ASIM_CALL_DEDUPLICATED (asim_call_reapplied). */
	ASIM_CALL_REAPPLIED = 16,
	/* The callee, or a store that it called for the request, counted a
	 * repeat of it as a duplicate of its own: a store without idempotency
	 * that applied again a write it got without ASIM_CALL_REPEATS_COUNTED
	 * (from a service writing for a worker's task, say). Set by the store
	 * whatever its answer's status; passed back by relays
	 * (asim_call_relay_repeat) and by services, from the answers they
	 * wait for. A caller that counts its own repeats (a worker) does not
	 * count this one again (asim_call_duplicate_counted). */
	ASIM_CALL_DUPLICATE_COUNTED = 32,
	/* The callee passed the request, or part of it, on to be applied out
	 * of its sight, so that whether it applies a repeat again is judged
	 * where it lands, not by the caller: a queue took it as a message
	 * that repeats one it had taken (the same request from the same
	 * producer), stored under the first one's id, so that its consumer
	 * (or an idempotent store behind it) recognises the repeat; a service
	 * emitted a call for it, or gave up waiting for a call of it that
	 * may write (a step with on_error: ignore that timed out, the slower
	 * calls of a parallel group) and answered all the same. Set on the
	 * answer, whatever its status; passed back by relays
	 * (asim_call_relay_repeat) and by services, from the answers they
	 * wait for. A caller that counts its own repeats (a worker) does not
	 * count this one (asim_call_passed_on): where the repeat lands it is
	 * counted once (a store that applies the write again, the queue's
	 * consumer that completes the message again) or absorbed (an
	 * idempotent store or consumer), and a count here as well would be
	 * two for one whenever it is counted there. */
	ASIM_CALL_PASSED_ON = 64,
};

struct asim_call {
	uint32_t caller;      /* component id that sent it and gets the reply */
	uint32_t callee;      /* component id it was sent to */
	uint16_t caller_inst;
	uint16_t callee_inst;
	uint16_t op;          /* operation (asim_kernel_op) */
	uint8_t status;       /* enum asim_status, set by the reply */
	uint8_t flags;
	uint32_t attempt;     /* 0 for the first try of a logical request */
	uint32_t tag;         /* the caller's scratch (e.g. which backend), untouched */
	uint32_t session;     /* the user of the logical request: a closed-loop client's
	                       * user + 1 or an open-loop client's session + 1, 0 for
	                       * none; passed on with request */
	uint64_t key;         /* data key, for caches and databases */
	uint64_t request;     /* logical request id (tracing, idempotency) */
	uint64_t token;       /* the caller's own handle, returned untouched */
	uint64_t version;     /* data version read or written */
	asim_time origin;     /* intended start of the logical request */
	asim_time sent;       /* when this call left the caller */
	asim_time arrived;    /* when it reached (or will reach) its callee */
	asim_time deadline;   /* absolute; ASIM_TIME_MAX when none */
};

/* A zeroed call from the kernel's pool (deadline set to ASIM_TIME_MAX), or
 * NULL when out of memory (a sticky kernel error). */
struct asim_call *asim_call_new(struct asim_kernel *k);

/* Sends call from (from, from_inst) to instance to_inst of component to. */
void asim_call_send(struct asim_kernel *k, struct asim_call *call, uint32_t from,
                    uint16_t from_inst, uint32_t to, uint16_t to_inst);

/* The callee answers with status. When the caller has already abandoned the
 * call, nothing is sent and the record is freed. */
void asim_call_reply(struct asim_kernel *k, struct asim_call *call, enum asim_status status);

/* Measures component c's response time, net of the network: from each
 * call's arrival at c to c's reply, for the calls that arrived after warm-up
 * and were answered ASIM_OK (as the clients' latency counts successes),
 * whether or not the caller still waited (the work its timeout hid), into
 * h, which this initialises and the model owns and reports
 * (components.NAME.latency_ms). Call it at configure. For models that
 * answer calls without timing each job themselves (gateway, balancer, cache,
 * database, queue, coordinator): the recording is in asim_call_reply, one
 * place for all of them. */
void asim_call_measure(struct asim_component *c, struct asim_hist *h);

/* The callee loses the call without answering (crash, lost message). */
void asim_call_drop(struct asim_kernel *k, struct asim_call *call);

/* The caller gives up waiting (timeout, hedge lost). */
void asim_call_abandon(struct asim_kernel *k, struct asim_call *call);

/* The caller is done with a delivered response: frees the record. */
void asim_call_free(struct asim_kernel *k, struct asim_call *call);

/* Call records alive now (handed out and not yet freed): 0 once every call
 * has been answered, dropped or abandoned and freed; for leak tests. */
size_t asim_call_live(const struct asim_kernel *k);

static inline bool asim_call_abandoned(const struct asim_call *call)
{
	return call->flags & ASIM_CALL_CALLER_DONE;
}

/* Whether a response is an OK answer whose callee had applied the request
 * before and did not apply it again (ASIM_CALL_DEDUPLICATED). */
static inline bool asim_call_deduplicated(const struct asim_call *call)
{
	return call->status == ASIM_OK && (call->flags & ASIM_CALL_DEDUPLICATED);
}

/* Whether a response is an OK answer whose callee had applied the request
 * before and applied it again (ASIM_CALL_REAPPLIED). */
static inline bool asim_call_reapplied(const struct asim_call *call)
{
	return call->status == ASIM_OK && (call->flags & ASIM_CALL_REAPPLIED);
}

/* Whether a store behind the callee counted this request's repeat as a
 * duplicate of its own (ASIM_CALL_DUPLICATE_COUNTED), whatever the status. */
static inline bool asim_call_duplicate_counted(const struct asim_call *call)
{
	return call->flags & ASIM_CALL_DUPLICATE_COUNTED;
}

/* Whether the callee passed the request on to be applied out of its sight,
 * where a repeat of it is judged (ASIM_CALL_PASSED_ON), whatever the
 * status. */
static inline bool asim_call_passed_on(const struct asim_call *call)
{
	return call->flags & ASIM_CALL_PASSED_ON;
}

/* A relay took the response out to the request in it forwarded: in's caller
 * hears what out's callee said of a repeat (ASIM_CALL_DEDUPLICATED,
 * ASIM_CALL_REAPPLIED, ASIM_CALL_DUPLICATE_COUNTED, ASIM_CALL_PASSED_ON).
 * Call it before replying to in, with out still alive. */
static inline void asim_call_relay_repeat(struct asim_call *in, const struct asim_call *out)
{
	in->flags |= out->flags & (ASIM_CALL_DUPLICATE_COUNTED | ASIM_CALL_PASSED_ON);
	if (out->status == ASIM_OK)
		in->flags |= out->flags & (ASIM_CALL_DEDUPLICATED | ASIM_CALL_REAPPLIED);
}

/* A relay forwards request in as out: the flags that travel with a request
 * (ASIM_CALL_REPEATS_COUNTED) go along. */
static inline void asim_call_forward_flags(struct asim_call *out, const struct asim_call *in)
{
	out->flags |= in->flags & ASIM_CALL_REPEATS_COUNTED;
}

/* One-way network delay for a message between two instances; 0 unless the
 * scenario defines a network (see asim_kernel_set_network). A function may
 * return ASIM_NET_LOST for a message the network loses (a partition, packet
 * loss): a lost request never reaches its callee and a lost response never
 * reaches its caller. Either way the callee's side of the record is done, as
 * after asim_call_drop, and the caller learns nothing: it must time out (its
 * abandon then frees the record). */
#define ASIM_NET_LOST ASIM_TIME_MAX
typedef asim_time (*asim_net_delay_fn)(void *net, struct asim_kernel *k, uint32_t from,
                                       uint16_t from_inst, uint32_t to, uint16_t to_inst);
void asim_kernel_set_network(struct asim_kernel *k, asim_net_delay_fn fn, void *net);

/* Whether the network links two instances now: false while a partition or
 * a zone loss cuts them apart. Asking sends nothing: no delay is drawn and
 * no message counted, so a run that asks follows the same draws as one that
 * does not. For traffic that rides a long-lived connection which repairs
 * random loss itself (a database's replication stream), where only a cut
 * link stops it. Always true without a network, or before one sets fn. */
typedef bool (*asim_net_link_fn)(void *net, struct asim_kernel *k, uint32_t from,
                                 uint16_t from_inst, uint32_t to, uint16_t to_inst);
void asim_kernel_set_network_link(struct asim_kernel *k, asim_net_link_fn fn);
bool asim_net_link_up(struct asim_kernel *k, uint32_t from, uint16_t from_inst, uint32_t to,
                      uint16_t to_inst);

#endif
