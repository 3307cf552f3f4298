/* Helpers shared by the models (not part of the public API). */
#ifndef ARCHSIM_MODELS_COMMON_H
#define ARCHSIM_MODELS_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "archsim/call.h"
#include "archsim/cfg.h"
#include "archsim/diag.h"
#include "archsim/kernel.h"
#include "archsim/model.h"

/* Private timer types of the models start here. */
enum {
	EV_ARRIVE = ASIM_EV_USER,
	EV_TIMEOUT,
	EV_RETRY,
	EV_DONE,
	EV_MODEL_BASE, /* a model's further timer types start here */
};

/* Resolves map[key] (a component name) to a component other than c.
 * Reports a missing key, a dangling name (with a did-you-mean over the
 * components), or a self reference, and returns NULL. */
struct asim_component *model_target(struct asim_component *c, const struct asim_cfg *map,
                                    const char *key, struct asim_diag *d);
/* The same for a node holding a name. */
struct asim_component *model_target_node(struct asim_component *c, const struct asim_cfg *node,
                                         const char *key, struct asim_diag *d);

/* The optional `op` of map: the operation that a call carries instead of
 * the one it serves (a service's call entry, a worker's call to its target).
 * Sets *op to -1 when map has none, else to the interned id of the name.
 * Whether the name is known in the scenario is checked beforehand, with the
 * other operation names (cli/ops.c). Returns false, with a diagnostic, for
 * a value that is not a string or one name too many. */
bool model_op(struct asim_component *c, const struct asim_cfg *map, int *op,
              struct asim_diag *d);

/* A fencing token travels in a write's call->version; this bit asks the
 * store to refuse it when it has seen a newer token for the key (see
 * worker.c's locks and database_replication.c). */
#define MODEL_FENCE_CHECK (UINT64_C(1) << 63)

/* Retry policy of a caller, as in the gRPC retry design and AWS's
 * "exponential backoff and jitter": at most max retries after the first try,
 * the n-th waiting base * 2^(n-1) (exponential) or base (constant), capped,
 * then jittered. */
enum backoff_kind { BACKOFF_CONSTANT, BACKOFF_EXPONENTIAL };
enum jitter_kind { JITTER_NONE, JITTER_FULL, JITTER_EQUAL, JITTER_DECORRELATED };

struct retry_policy {
	uint32_t max; /* retries after the first attempt; 0: none */
	enum backoff_kind backoff;
	enum jitter_kind jitter;
	asim_time base, cap;
};

/* Parses `retries:` (a mapping, or a bare count meaning that many retries
 * with the defaults: exponential, base 10ms, cap 1s, jitter full). Absent:
 * no retries. */
bool retry_policy_parse(const struct asim_cfg *map, const char *key, struct retry_policy *out,
                        struct asim_diag *d);
/* The wait before retry number n (1-based); prev is the previous wait (for
 * decorrelated jitter; 0 before the first retry). */
asim_time retry_backoff(const struct retry_policy *p, uint32_t n, asim_time prev, gsl_rng *r);

/* Whether a read sent to component comp may end where a worker's repeat of
 * it is judged (model op judges_read); depth is how many calls deep the
 * question already is: past MODEL_JUDGE_DEPTH the answer is no, so that a
 * cycle of calls ends. */
#define MODEL_JUDGE_DEPTH 8
bool model_judges_read(const struct asim_kernel *k, uint32_t comp, unsigned depth);
/* The judges_read op of a relay (a gateway, a balancer, a cache), which
 * sends a read on as a read to the components it sends to (edges): one of
 * those judges it. */
bool model_relay_judges_read(const struct asim_component *c, unsigned depth);

/* Reads where the component stands: `zone: NAME` or `zones: [NAME, ...]`
 * (a single name is taken for `zones` too), each one of the scenario's zones.
 * Sets placed[0..*nz) to their indexes, *nz = 0 when neither key is given. */
bool model_zones(struct asim_component *c, const struct asim_cfg *map,
                 uint16_t placed[ASIM_MAX_ZONES], uint32_t *nz, struct asim_diag *d);

/* Reads `instances` (>= 1, default 1) and `zones` (a list of names from the
 * scenario's zones, instances spread round-robin; or `zone: NAME`) and sets
 * them on the component. */
bool model_instances(struct asim_component *c, const struct asim_cfg *map, uint32_t max,
                     struct asim_diag *d);

/* The time-averaged load of one instance: busy servers and queue length.
 * Services and workers keep one inside each of their instance records; the
 * helpers below reach instance i's at (char *)first + i * stride, so each
 * model keeps its own record layout. */
struct load_levels {
	struct asim_tw busy, queue;
};

/* A component's queue summed over its instances (the level whose time
 * average is its queue_mean) and the peak of that sum since warm-up (its
 * queue_max), so that the two, and the series' column, describe one
 * quantity. */
struct queue_sum {
	double now, max;
};

/* Sets an instance's queue level (its time-weighted tw) to len at now and
 * keeps the component's sum. */
static inline void queue_sum_set(struct queue_sum *q, struct asim_tw *tw, asim_time now,
                                 double len)
{
	q->now += len - tw->value;
	if (q->now > q->max)
		q->max = q->now;
	asim_tw_set(tw, now, len);
}

/* Warm-up ends: the peak restarts from the current sum. */
static inline void queue_sum_reset(struct queue_sum *q)
{
	q->max = q->now;
}
void load_levels_init(struct load_levels *first, size_t stride, uint32_t n, asim_time now);
void load_levels_reset(struct load_levels *first, size_t stride, uint32_t n, asim_time now);
/* Adds "components.NAME.utilization" (busy over n x servers), "queue_mean"
 * (summed over instances) and "queue_max" (the peak of that sum, from q). */
void load_levels_report(const struct asim_component *c, const struct load_levels *first,
                        size_t stride, uint32_t servers, const struct queue_sum *q,
                        struct asim_results *r);
/* Adds the time series' "NAME.queue" and "NAME.busy": the levels now,
 * summed over the instances. */
void load_levels_sample(const struct asim_component *c, const struct load_levels *first,
                        size_t stride, struct asim_results *r);

/* A growable FIFO of pointers (a ring), for waiting requests. Allocates only
 * when it grows past its high-water mark. */
struct ptr_ring {
	void **v;
	uint32_t head, len, cap;
};
/* Doubles the ring's room (16 at first). Returns false when out of memory. */
bool ptr_ring_grow(struct ptr_ring *q);
/* Appends p. Returns false when out of memory (ring unchanged). Inline, with
 * the growth out of line: a service queues most of its arrivals when busy. */
static inline bool ptr_ring_push(struct ptr_ring *q, void *p)
{
	if (q->len == q->cap && !ptr_ring_grow(q))
		return false;
	q->v[(q->head + q->len) & (q->cap - 1)] = p;
	q->len++;
	return true;
}
void *ptr_ring_pop(struct ptr_ring *q);
void *ptr_ring_pop_back(struct ptr_ring *q);
void ptr_ring_free(struct ptr_ring *q);


/* Faults (fault.h) as one instance of a model sees them: counters rather
 * than flags, so that overlapping faults end exactly as they started. */
struct inst_fault {
	uint16_t down;     /* crash and zone_loss faults active */
	uint16_t gone;     /* zone_loss among them: requests vanish, not refused */
	uint16_t paused, stalled, slowed, erroring;
	uint16_t certain;  /* error_rate faults with probability 1 */
	uint32_t epoch;    /* bumped at each crash: work begun before it is lost */
	double factor;     /* slow: product of factors (valid while slowed) */
	asim_time added;   /* slow: sum of added times */
	double ok_prob;    /* error_rate: product of (1 - p) of the others */
	asim_time paused_at; /* when the current pause began */
	asim_time paused_total; /* summed length of the pauses that ended */
};

/* What an instance must do after inst_fault_apply. */
enum inst_edge {
	EDGE_NONE,
	EDGE_DOWN,    /* the first crash began: drop its work, bump the epoch */
	EDGE_UP,      /* the last crash ended: the instance restarts, cold */
	EDGE_PAUSED,  /* the first pause began */
	EDGE_RESUMED, /* the last pause ended: release what it held */
	EDGE_STALLED, /* the first consumer_stall began */
	EDGE_UNSTALLED,
};

/* Applies the start (active) or end of f at now to one instance's counters
 * for the kinds crash, zone_loss, pause, slow, error_rate and
 * consumer_stall (others leave it untouched) and says which edge it
 * crossed. */
enum inst_edge inst_fault_apply(struct inst_fault *fs, const struct asim_fault *f, bool active,
                                asim_time now);

/* The instance's time spent paused up to now. Work that records it when it
 * starts a timed step owes, when the step is due, the pause time since:
 * a pause freezes work in progress, whether it ends before the step is due
 * or not. */
static inline asim_time pause_clock_of(asim_time paused_total, bool paused, asim_time paused_at,
                                       asim_time now)
{
	return paused_total + (paused ? now - paused_at : 0);
}

static inline asim_time inst_fault_pause_clock(const struct inst_fault *fs, asim_time now)
{
	return pause_clock_of(fs->paused_total, fs->paused, fs->paused_at, now);
}

/* A service time t as a slowed instance takes it: t * factor + added. */
static inline asim_time inst_fault_time(const struct inst_fault *fs, asim_time t)
{
	if (!fs->slowed)
		return t;
	double v = (double)t * fs->factor + (double)fs->added;
	return v < 9.0e18 ? (asim_time)v : (asim_time)9000000000000000000;
}

/* Whether an erroring instance answers this request ASIM_ERROR; draws from r
 * only while an error_rate fault is active. */
static inline bool inst_fault_error(const struct inst_fault *fs, gsl_rng *r)
{
	if (!fs->erroring)
		return false;
	return fs->certain || gsl_rng_uniform(r) >= fs->ok_prob;
}

/* The slot of a table of mask + 1 entries (a power of two) for a logical
 * request of a caller. A request id is its issuer's component id above bit
 * 40 and the issuer's count below (a client's requests, a queue's
 * messages), so the requests of one issuer through one caller take
 * consecutive slots from a place of their own (a hash of the pair): an
 * entry stays until that stream has taken mask + 1 more ids, or another
 * stream's run reaches it, and neighbouring entries share cache lines.
 * Before, a hash of the whole id put every entry at random: each lookup
 * missed the cache (5% of the flagship's time at 10,000 requests/s, in
 * the queue's and the worker's tables), and an entry could go after a
 * handful of others. The database's duplicate table, the worker's table
 * of completed requests and the queue's table of stored messages use it. */
static inline uint32_t request_slot(uint64_t request, uint32_t caller, uint32_t mask)
{
	uint64_t stream = (request >> 40) * UINT64_C(0x9e3779b97f4a7c15) ^
	                  (uint64_t)caller * UINT64_C(0xff51afd7ed558ccd);
	stream ^= stream >> 29;
	stream *= UINT64_C(0xbf58476d1ce4e5b9);
	return (uint32_t)((request + (stream >> 32)) & mask);
}

/* Whether instances i and j of component c reach each other over the
 * network both ways (asim_net_link_up; an instance reaches itself): what a
 * round trip between them (a vote, a heartbeat) needs. */
static inline bool instances_linked(struct asim_component *c, uint32_t i, uint32_t j)
{
	return i == j || (asim_net_link_up(c->kernel, c->id, (uint16_t)i, c->id, (uint16_t)j) &&
	                  asim_net_link_up(c->kernel, c->id, (uint16_t)j, c->id, (uint16_t)i));
}

/* Events a paused instance holds back: each is scheduled again at the end of
 * the pause, `left` after it (the work it still had to do). Grows by
 * doubling; nothing is allocated per event once it has grown. */
struct held {
	void *p;
	asim_time left;
	asim_time *mark; /* work in progress: its pause mark (see pause_defer); or NULL */
	uint16_t type, inst;
};
struct held_list {
	struct held *v;
	uint32_t n, cap;
};
bool held_push(struct held_list *h, uint16_t type, uint16_t inst, void *p, asim_time left,
               asim_time *mark);
/* Schedules every held event for component c again (after its `left`) and
 * empties the list. The pause is over: held work owes only its own time
 * from now on, so each mark restarts at paused_total, the instance's pause
 * clock now. */
void held_release(struct held_list *h, struct asim_component *c, asim_time paused_total);
/* A timed step of work in progress (service of a job, a task...) is due,
 * and owes `owed` of pause time: the pause clock (pause_clock_of) now, less
 * *mark, its reading when the step began. With nothing owed, returns false:
 * the step is done. Otherwise the event waits and true is returned: while
 * the instance is paused, in held with `owed` left (held_release moves the
 * mark on); after the pause, scheduled again `owed` later, with *mark moved
 * to paused_total. Out of memory for held, the run stops. */
bool pause_defer(struct asim_component *c, struct held_list *held, bool paused,
                 asim_time paused_total, asim_time owed, asim_time *mark, uint16_t type,
                 uint16_t inst, void *p);
void held_free(struct held_list *h);

/* clock_skew: an instance's clock reads now + offset + drift * (time since
 * the skew began). A model that supports the fault keeps one per instance
 * (zeroed: exact) and reads it through model_local_time. */
struct model_clock {
	uint16_t skewed;
	asim_time base;  /* offset accumulated up to ref */
	asim_time ref;   /* when drift was last folded into base */
	double drift;    /* sum of the active faults' drifts */
};
void model_clock_apply(struct model_clock *clk, const struct asim_fault *f, bool active,
                       asim_time now);
/* The time instance inst of a component reads on its own clock; clocks may
 * be NULL (no skew anywhere). Never negative. */
asim_time model_local_time(const struct model_clock *clocks, uint32_t inst, asim_time now);

#endif
