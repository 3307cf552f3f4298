/* The simulation kernel: clock, pending events, components, random streams.
 *
 * The kernel knows nothing of models. A component is a name, a const vtable
 * (struct asim_model_ops, see model.h) and a block of zeroed state that the
 * kernel allocates for it. Components talk only by scheduling events at each
 * other (directly, or through the call protocol in call.h).
 *
 * Order: events run in (time, sequence) order, where the sequence number is
 * taken when the event is scheduled; ties therefore run FIFO. Events due now
 * (zero delay) go through a FIFO, and timed ones wait in one of two queues by
 * how far ahead they are due (the short hops apart from the long timers:
 * kernel.c, "two tiers"); all three are merged by the same key, which keeps
 * the order identical to a single queue's while each stays small.
 *
 * Errors on the hot path (out of memory, time overflow, a limit reached) are
 * sticky: the call that hit them returns a null timer, the kernel records the
 * first error, and asim_kernel_run() stops at once and returns it. Models need
 * not check every schedule. */
#ifndef ARCHSIM_KERNEL_H
#define ARCHSIM_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "archsim/stats.h"
#include "archsim/time.h"

struct asim_kernel;
struct asim_model_ops;
struct asim_pool;

/* The value of field x, loaded on its own. For a record written field by
 * field moments before and read back on the hot path: left to itself GCC
 * may read two neighbouring fields with one wider load, which the
 * processor cannot serve from the two narrower stores still in its store
 * buffer, so the load waits for both to reach the cache (some 15 cycles).
 * A hand-off's type and inst, and a request's or a queued message's id and
 * key copied into a call, each paid that (bench/README.md, twenty-second
 * round). */
#define ASIM_LOAD_ALONE(x) (*(const volatile __typeof__(x) *)&(x))

/* Event types below ASIM_EV_USER belong to the kernel and the call protocol;
 * a model numbers its own timers from ASIM_EV_USER. */
enum {
	ASIM_EV_REQUEST = 1,  /* p: struct asim_call * arriving at its callee */
	ASIM_EV_RESPONSE = 2, /* p: struct asim_call * returning to its caller */
	ASIM_EV_USER = 16,
};

struct asim_event {
	asim_time time;
	uint32_t target; /* component id */
	uint16_t type;
	uint16_t inst;   /* instance of the target the event is for */
	uint64_t a;      /* free for the model */
	void *p;         /* free for the model */
};

/* A handle on a scheduled event, for cancellation. seq == 0: none. */
struct asim_timer {
	uint64_t seq;
	uint32_t slot;
};

struct asim_component {
	const struct asim_model_ops *ops;
	struct asim_kernel *kernel;
	uint32_t id;         /* index in the kernel, in order of addition */
	char *name;          /* owned */
	void *state;         /* ops->state_size zeroed bytes, owned by the kernel */
	uint32_t instances;  /* how many instances (1 unless the model says) */
	uint16_t *zone;      /* zone index per instance, owned; NULL: all in zone 0 */
};

enum asim_run_status {
	ASIM_RUN_DONE,          /* reached the end time or ran out of events */
	ASIM_RUN_STOPPED,       /* asim_kernel_stop() was called */
	ASIM_RUN_NOMEM,         /* out of memory */
	ASIM_RUN_TIME_OVERFLOW, /* an event was scheduled beyond ASIM_TIME_MAX */
	ASIM_RUN_EVENT_LIMIT,   /* more events than the configured limit */
	ASIM_RUN_PENDING_LIMIT, /* more pending events than the configured limit */
	ASIM_RUN_MEMORY_LIMIT,  /* more memory than the configured limit (asim_kernel_memory) */
	ASIM_RUN_INFLIGHT_LIMIT, /* more calls in flight than the configured limit */
};

const char *asim_run_status_str(enum asim_run_status s);

/* A kernel for one replication of a scenario: streams are keyed by
 * (seed, replication, name, purpose). NULL when out of memory. */
struct asim_kernel *asim_kernel_create(uint64_t seed, uint32_t replication);
/* Calls each component's destroy (in reverse order) and frees everything.
 * NULL is accepted. */
void asim_kernel_destroy(struct asim_kernel *k);

/* Adds a component with zeroed state of ops->state_size bytes. Returns NULL
 * when the name is taken or memory runs out. Not allowed once running. */
struct asim_component *asim_kernel_add(struct asim_kernel *k, const char *name,
                                       const struct asim_model_ops *ops);
struct asim_component *asim_kernel_find(const struct asim_kernel *k, const char *name);
size_t asim_kernel_count(const struct asim_kernel *k);
struct asim_component *asim_kernel_component(const struct asim_kernel *k, uint32_t id);

/* Sets a component's instance count and zones (copied; zones may be NULL).
 * Returns false when out of memory. */
bool asim_component_set_instances(struct asim_component *c, uint32_t n, const uint16_t *zones);

/* The start of every struct asim_kernel, public so that the accessors that
 * run on every event (asim_now, asim_measuring_at) are inline loads. Read
 * it only through them. */
struct asim_kernel_head {
	asim_time now;
	asim_time warmup;
};

/* The current simulated time. */
static inline asim_time asim_now(const struct asim_kernel *k)
{
	return ((const struct asim_kernel_head *)(const void *)k)->now;
}

/* Schedules an event for component target (instance inst) after delay >= 0
 * (or at an absolute time). Returns a null timer on a sticky error. */
struct asim_timer asim_schedule(struct asim_kernel *k, asim_time delay, uint32_t target,
                                uint16_t type, uint16_t inst, uint64_t a, void *p);
struct asim_timer asim_schedule_at(struct asim_kernel *k, asim_time at, uint32_t target,
                                   uint16_t type, uint16_t inst, uint64_t a, void *p);

/* Cancels a pending event in O(1) (it is skipped when it comes up). Returns
 * false when the event already ran, was cancelled, or t is null. */
bool asim_cancel(struct asim_kernel *k, struct asim_timer t);

/* Limits; 0 means none. Reaching one stops the run with its status. */
void asim_kernel_set_limits(struct asim_kernel *k, uint64_t max_events, size_t max_pending);
/* Limits on memory (bytes, as asim_kernel_memory() counts them; checked every
 * 1024 events) and on call records alive at once (requests in flight). */
void asim_kernel_set_resource_limits(struct asim_kernel *k, size_t max_memory,
                                     size_t max_inflight);
/* The bytes the run holds in pending-event storage, call records and every
 * pool set up with asim_kernel_pool_init(): what grows when a run runs away.
 * Deterministic, unlike the process's resident size. */
size_t asim_kernel_memory(const struct asim_kernel *k);
/* asim_pool_init() for a pool whose chunks count towards asim_kernel_memory();
 * models use it for their per-request records. */
void asim_kernel_pool_init(struct asim_kernel *k, struct asim_pool *p, size_t obj_size,
                           size_t chunk_objs);

/* Measurement starts at warmup: models check asim_measuring() before
 * recording, and each component's warmup_end op runs at that instant so that
 * time-weighted statistics restart there. Set before the first run. */
void asim_kernel_set_warmup(struct asim_kernel *k, asim_time warmup);
asim_time asim_kernel_warmup(const struct asim_kernel *k);
static inline bool asim_measuring_at(const struct asim_kernel *k, asim_time t)
{
	return t >= ((const struct asim_kernel_head *)(const void *)k)->warmup;
}

/* Runs events with time <= until. The first call starts every component (in
 * id order). Time is left at until when the run reaches it. Returns why it
 * stopped; a sticky error is returned again by every later call. */
enum asim_run_status asim_kernel_run(struct asim_kernel *k, asim_time until);

/* Calls each component's finish op (in id order) at the current time. */
void asim_kernel_finish(struct asim_kernel *k);

/* Asks the running loop to stop after the current event. */
void asim_kernel_stop(struct asim_kernel *k);

/* Events processed so far (cancelled ones excluded) and pending now. */
uint64_t asim_kernel_events(const struct asim_kernel *k);
/* A fingerprint of the trajectory so far: a hash folded over the time,
 * target and type of every event dispatched, so two runs can be proven to
 * have followed the same events without comparing logs. */
uint64_t asim_kernel_fingerprint(const struct asim_kernel *k);
size_t asim_kernel_pending(const struct asim_kernel *k);
uint64_t asim_kernel_seed(const struct asim_kernel *k);
uint32_t asim_kernel_replication(const struct asim_kernel *k);

/* The random stream of (component name, purpose), created on first use and
 * owned by the kernel. NULL only when out of memory (also sticky). */
gsl_rng *asim_kernel_rng(struct asim_kernel *k, const char *name, const char *purpose);

/* Operation names ("read", "write", endpoints) as small integers shared by all
 * components of the kernel. "read" is 0 and "write" is 1 from the start.
 * Returns -1 when the table is full (ASIM_MAX_OPS) or memory runs out. */
#define ASIM_MAX_OPS 32
enum { ASIM_OP_READ = 0, ASIM_OP_WRITE = 1 };
int asim_kernel_op(struct asim_kernel *k, const char *name);
const char *asim_kernel_op_name(const struct asim_kernel *k, int op);
int asim_kernel_op_count(const struct asim_kernel *k);

/* Zone names of the scenario (at most ASIM_MAX_ZONES), set before configure;
 * copied. Returns false on OOM or too many. Instances refer to zones by index. */
#define ASIM_MAX_ZONES 64
#define ASIM_ZONE_NAME_MAX 31 /* bytes; longer names are refused */
bool asim_kernel_set_zones(struct asim_kernel *k, const char *const *names, uint32_t n);
int asim_kernel_zone(const struct asim_kernel *k, const char *name); /* -1: unknown */
uint32_t asim_kernel_zone_count(const struct asim_kernel *k);
const char *asim_kernel_zone_name(const struct asim_kernel *k, uint32_t i);

/* End-to-end outcome of logical requests, as the clients see them; clients
 * record into the kernel's one instance so that several clients add up. */
struct asim_outcome {
	uint64_t requests;      /* logical requests started after warm-up and finished */
	uint64_t succeeded;
	uint64_t failed_timeout, failed_rejected, failed_error, failed_unreachable;
	/* Still open at the end of the run: stuck ones (waiting longer than
	 * any request of their client took to finish) are counted as finished
	 * and failed; the others are in flight, in neither. */
	uint64_t failed_unfinished, in_flight;
	uint64_t attempts;      /* including retries */
	uint64_t offered;       /* logical requests started after warm-up */
	/* Correctness invariants, counted by the data models. */
	uint64_t stale_reads, duplicate_writes, conflicting_writes, lost_writes;
	/* Coordination invariants: leader changes, time with two instances
	 * accepting writes as leaders, locks whose holder died holding them and
	 * the time until their TTL freed them, and keys whose two copies
	 * disagree (drift, counted by whichever model keeps both copies). */
	uint64_t leader_changes, lock_leaks, drift;
	asim_time two_leader, lock_leak;
	/* The most messages a queue held at once after warm-up (the largest
	 * over the run's queues). */
	uint64_t queue_backlog;
	/* Latency of the successful requests, ns, by operation (kernel op
	 * index); asim_outcome_latency() merges them into the run's. Complete
	 * after asim_kernel_finish(): each client keeps its own per operation
	 * while the run goes, and adds them here when it finishes, so that a
	 * request's latency is recorded once. */
	struct asim_hist latency_op[ASIM_MAX_OPS];
	/* The current time window, for time series: counted warm-up or not, and
	 * reset by whoever steps the run window by window (cli/series.c), which
	 * sets windowed first. A run without a series leaves it false, and no
	 * finished request pays for a window nobody reads. */
	bool windowed;
	struct asim_window {
		uint64_t offered;   /* logical requests started */
		uint64_t finished, succeeded, rejected, failed; /* failed: not rejected */
		uint64_t retries;   /* attempts beyond the first, of finished requests */
		struct asim_hist latency; /* successful, ns */
	} window;
};
struct asim_outcome *asim_kernel_outcome(struct asim_kernel *k);

/* The latency of every successful request (ns) into *out: the merge of the
 * per-operation histograms, since each request records into its own
 * operation's only. A client recorded into a second histogram for the run
 * as a whole on every request; merging at the end costs nothing per
 * request. The sum is the same as recording in turn while every partial
 * sum stays below 2^53 ns (104 days of latency added up), below which
 * doubles add integers exactly, in any order. */
void asim_outcome_latency(const struct asim_outcome *o, struct asim_hist *out);

/* Counts a logical request started into the current window (when windowed). */
static inline void asim_window_offer(struct asim_outcome *o)
{
	if (o->windowed)
		o->window.offered++;
}

/* Counts a finished logical request into the current window, when windowed
 * (ok: it succeeded; rejected: its last attempt was rejected). latency >= 0
 * falls in histogram bucket (asim_hist_bucket_of), which the caller may have
 * at hand. */
static inline void asim_window_finish_at(struct asim_outcome *o, bool ok, bool rejected,
                                         uint32_t retries, asim_time latency, size_t bucket)
{
	if (!o->windowed)
		return;
	struct asim_window *w = &o->window;
	w->finished++;
	w->retries += retries;
	if (ok) {
		w->succeeded++;
		asim_hist_add(&w->latency, bucket, latency);
	} else if (rejected) {
		w->rejected++;
	} else {
		w->failed++;
	}
}

static inline void asim_window_finish(struct asim_outcome *o, bool ok, bool rejected,
                                      uint32_t retries, asim_time latency)
{
	if (latency < 0)
		latency = 0;
	asim_window_finish_at(o, ok, rejected, retries, latency, asim_hist_bucket_of(latency));
}

#endif
