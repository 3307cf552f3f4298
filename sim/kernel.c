/* The simulation kernel: clock, pending events, components, streams.
 *
 * Events live in a slot array and the queue holds only (time, seq, slot), so
 * the heap moves 24-byte entries and a cancelled event is just a marked slot.
 * Events due now skip the heap through a FIFO of slots: they are the most
 * common kind (message hand-offs) and a FIFO push/pop is a few instructions.
 * The two are merged by (time, seq) when popping, so the order is exactly the
 * same as with the heap alone. A call's hand-off due now, when nothing else
 * is, does not even take a slot: the kernel holds it in one record as the
 * FIFO's head (asim_kernel_schedule_now).
 *
 * Two tiers. Timed events go to one of two queues by how far ahead they
 * are due: the near one holds those due within near_span of when they were
 * scheduled, the far one the rest. In an architecture most pending events
 * are timeouts and other long timers (most of them cancelled before they
 * fire) while most events that run are short hops: network, service and
 * database times. With one queue every hop is pushed into and popped out of
 * a heap of all the timers (some 500 entries in the flagship at 10,000
 * requests/s: four or five levels, a mispredicted branch at most of them).
 * With two, a hop lives in a queue of a dozen entries (the sorted array),
 * and a timer is pushed at the bottom of the far heap, where it usually
 * stays until cancelled. near_span adapts so that the near queue stays that
 * small: it shrinks when the near queue holds more than NEAR_HIGH entries
 * and grows when it holds fewer than NEAR_LOW, looked at every TIER_EVERY
 * events (deterministically: sizes and counts, no clock). The near tier
 * runs only up to just before the far tier's first entry, and what comes
 * at or after it is merged by (time, seq), so the order of events is
 * exactly that of a single queue whatever near_span is: only the speed
 * depends on it. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/model.h"
#include "archsim/rng.h"
#include "kernel_private.h"

enum { SLOTS_INITIAL = 256, FIFO_INITIAL = 256, CANCEL_FLOOR = 256 };
/* The two tiers (see above). The band keeps the near queue well inside the
 * sorted array's range (below ASIM_EVQ_SORTED_ON, with room for bursts);
 * in the flagship at 10,000 requests/s a near queue of about a dozen took
 * the fewest instructions (bench/README.md, eighteenth round). */
enum { TIER_EVERY = 256, NEAR_LOW = 8, NEAR_HIGH = 16 };
#define NEAR_SPAN_INITIAL ASIM_MS
#define NEAR_SPAN_MAX (ASIM_TIME_MAX / 4)
#define NO_SLOT ASIM_NO_SLOT

static const char *const run_status_names[] = {
	[ASIM_RUN_DONE] = "done",
	[ASIM_RUN_STOPPED] = "stopped",
	[ASIM_RUN_NOMEM] = "out of memory",
	[ASIM_RUN_TIME_OVERFLOW] = "time overflow",
	[ASIM_RUN_EVENT_LIMIT] = "event limit reached",
	[ASIM_RUN_PENDING_LIMIT] = "pending event limit reached",
	[ASIM_RUN_MEMORY_LIMIT] = "memory limit reached",
	[ASIM_RUN_INFLIGHT_LIMIT] = "in-flight request limit reached",
};

const char *asim_run_status_str(enum asim_run_status s)
{
	if ((size_t)s >= sizeof(run_status_names) / sizeof(run_status_names[0]))
		return "unknown";
	return run_status_names[s];
}

void asim_kernel_fail(struct asim_kernel *k, enum asim_run_status s)
{
	if (k->err == ASIM_RUN_DONE)
		k->err = s;
	/* Every later schedule then takes the slow path, which sees err. */
	k->pending_cap = 0;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

struct asim_kernel *asim_kernel_create(uint64_t seed, uint32_t replication)
{
	struct asim_kernel *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->seed = seed;
	k->replication = replication;
	k->next_seq = 1;
	k->fingerprint = UINT64_C(0xcbf29ce484222325);
	k->free_slot = NO_SLOT;
	k->pending_cap = SIZE_MAX;
	k->cancel_floor = CANCEL_FLOOR;
	asim_evq_init(&k->near);
	asim_evq_init(&k->far);
	k->near_span = NEAR_SPAN_INITIAL;
	k->retune_at = TIER_EVERY;
	asim_kernel_pool_init(k, &k->calls, sizeof(struct asim_call), 1024);
	k->fifo = malloc(FIFO_INITIAL * sizeof(*k->fifo));
	if (!k->fifo)
		goto fail;
	k->fifo_mask = FIFO_INITIAL - 1;
	if (asim_kernel_op(k, "read") != ASIM_OP_READ || asim_kernel_op(k, "write") != ASIM_OP_WRITE)
		goto fail;
	return k;
fail:
	asim_kernel_destroy(k);
	return NULL;
}

void asim_kernel_destroy(struct asim_kernel *k)
{
	if (!k)
		return;
	for (uint32_t i = k->ncomps; i-- > 0;) {
		struct asim_component *c = k->comps[i];
		if (c->ops && c->ops->destroy)
			c->ops->destroy(c);
	}
	for (uint32_t i = 0; i < k->ncomps; i++) {
		struct asim_component *c = k->comps[i];
		free(c->state);
		free(c->name);
		free(c->zone);
		free(c);
	}
	free(k->comps);
	free(k->disp);
	for (size_t i = 0; i < k->nstreams; i++) {
		gsl_rng_free(k->streams[i].r);
		free(k->streams[i].key);
	}
	free(k->streams);
	asim_index_finish(&k->stream_index);
	asim_index_finish(&k->comp_index);
	for (int i = 0; i < k->nops; i++)
		free(k->ops[i]);
	free(k->outcome);
	asim_pool_finish(&k->calls);
	asim_evq_finish(&k->near);
	asim_evq_finish(&k->far);
	free(k->slots);
	free(k->fifo);
	free(k);
}

struct asim_component *asim_kernel_add(struct asim_kernel *k, const char *name,
                                       const struct asim_model_ops *ops)
{
	if (k->started || !name || !ops || asim_kernel_find(k, name))
		return NULL;
	if (k->ncomps == k->comps_cap) {
		uint32_t cap = k->comps_cap ? 2 * k->comps_cap : 8;
		struct asim_component **comps = realloc(k->comps, cap * sizeof(*comps));
		if (!comps)
			return NULL;
		k->comps = comps;
		struct asim_dispatch *disp = realloc(k->disp, cap * sizeof(*disp));
		if (!disp)
			return NULL;
		k->disp = disp;
		k->comps_cap = cap;
	}
	struct asim_component *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->name = dup_str(name);
	c->state = calloc(1, ops->state_size ? ops->state_size : 1);
	if (!c->name || !c->state) {
		free(c->name);
		free(c->state);
		free(c);
		return NULL;
	}
	if (!asim_index_add(&k->comp_index, c->name, k->ncomps)) {
		free(c->name);
		free(c->state);
		free(c);
		return NULL;
	}
	c->ops = ops;
	c->kernel = k;
	c->id = k->ncomps;
	c->instances = 1;
	k->comps[k->ncomps] = c;
	k->disp[k->ncomps] = (struct asim_dispatch){.handle = ops->handle, .c = c, .route = ops->route};
	k->ncomps++;
	return c;
}

/* Through an index: models resolve their targets by name at configure time,
 * so a scan here made building a scenario quadratic in its components. */
struct asim_component *asim_kernel_find(const struct asim_kernel *k, const char *name)
{
	size_t i = asim_index_find(&k->comp_index, name);
	return i == ASIM_INDEX_NONE ? NULL : k->comps[i];
}

size_t asim_kernel_count(const struct asim_kernel *k)
{
	return k->ncomps;
}

struct asim_component *asim_kernel_component(const struct asim_kernel *k, uint32_t id)
{
	return id < k->ncomps ? k->comps[id] : NULL;
}

bool asim_component_set_instances(struct asim_component *c, uint32_t n, const uint16_t *zones)
{
	uint16_t *z = NULL;
	if (zones && n) {
		z = malloc(n * sizeof(*z));
		if (!z)
			return false;
		memcpy(z, zones, n * sizeof(*z));
	}
	free(c->zone);
	c->zone = z;
	c->instances = n;
	return true;
}

static bool grow_slots(struct asim_kernel *k)
{
	uint32_t old = k->nslots;
	if (old >= UINT32_MAX / 2)
		return false;
	uint32_t cap = old ? 2 * old : SLOTS_INITIAL;
	struct asim_slot *slots = realloc(k->slots, (size_t)cap * sizeof(*slots));
	if (!slots)
		return false;
	/* Chain the new slots so that the lowest index is handed out first. */
	for (uint32_t i = cap; i-- > old;) {
		slots[i] = (struct asim_slot){.target = k->free_slot};
		k->free_slot = i;
	}
	k->slots = slots;
	k->nslots = cap;
	return true;
}

static bool grow_fifo(struct asim_kernel *k)
{
	uint32_t cap = k->fifo_mask + 1;
	if (cap > UINT32_MAX / 2)
		return false;
	uint32_t *fifo = malloc((size_t)cap * 2 * sizeof(*fifo));
	if (!fifo)
		return false;
	/* Unwrap the ring into the front of the new one. */
	uint32_t n = k->fifo_tail - k->fifo_head;
	for (uint32_t i = 0; i < n; i++)
		fifo[i] = k->fifo[(k->fifo_head + i) & k->fifo_mask];
	free(k->fifo);
	k->fifo = fifo;
	k->fifo_mask = 2 * cap - 1;
	k->fifo_head = 0;
	k->fifo_tail = n;
	return true;
}

static inline void free_slot(struct asim_kernel *k, uint32_t s)
{
	k->slots[s].seq = 0;
	k->slots[s].target = k->free_slot;
	k->free_slot = s;
}

/* Out of line so that the common schedule stays a few instructions. */
__attribute__((noinline)) bool asim_kernel_make_room(struct asim_kernel *k, bool now)
{
	if (k->err)
		return false;
	if (k->pending >= k->pending_cap) {
		asim_kernel_fail(k, ASIM_RUN_PENDING_LIMIT);
		return false;
	}
	if ((k->free_slot == NO_SLOT && !grow_slots(k)) ||
	    (now && k->fifo_tail - k->fifo_head > k->fifo_mask && !grow_fifo(k))) {
		asim_kernel_fail(k, ASIM_RUN_NOMEM);
		return false;
	}
	return true;
}

/* Always inline: the two public entries are the only callers, and a call
 * layer of its own cost each timed event a prologue and an epilogue. */
static inline __attribute__((always_inline)) struct asim_timer
schedule(struct asim_kernel *k, asim_time at, uint32_t target, uint16_t type, uint16_t inst,
         uint64_t a, void *p)
{
	assert(at >= k->head.now && "an event was scheduled in the past");
	assert(target < k->ncomps && "an event was scheduled for no component");
	bool now = at == k->head.now;
	if (__builtin_expect(asim_kernel_cramped(k, now), 0) && !asim_kernel_make_room(k, now))
		return (struct asim_timer){0, 0};
	uint32_t s = k->free_slot;
	uint64_t seq = k->next_seq;
	if (now) {
		k->fifo[k->fifo_tail++ & k->fifo_mask] = s;
	} else {
		struct asim_evq *q = &k->near;
		if (at - k->head.now > k->near_span) {
			q = &k->far;
			/* The near tier's run may not pass it (run_until). */
			if (at <= k->near_limit)
				k->near_limit = at - 1;
		}
		if (!asim_evq_push_newest(q, at, seq, s)) {
			asim_kernel_fail(k, ASIM_RUN_NOMEM);
			return (struct asim_timer){0, 0};
		}
	}
	struct asim_slot *sl = &k->slots[s];
	k->free_slot = sl->target;
	set_slot(sl, seq, target, type, inst, a, p);
	k->next_seq = seq + 1;
	k->pending++;
	return (struct asim_timer){.seq = seq, .slot = s};
}

/* The models' entries to the kernel that run on most events (schedule,
 * schedule at, cancel) are inlined at their call sites: the build links
 * with LTO, which inlines an always_inline function across files, so a
 * model's handler schedules without a call, its prologue and epilogue
 * (six registers saved and restored) and the arguments' moves, and with
 * its constant arguments folded in. That took 3% of the M/M/1's
 * instructions and 6% of the flagship's (bench/README.md, twenty-fourth
 * round) for 25 KB of code. Without LTO they are ordinary calls: the
 * definitions here are external ones (kernel.h declares them without
 * `inline`). */
#define ASIM_INLINE_ENTRY __attribute__((always_inline)) inline

ASIM_INLINE_ENTRY struct asim_timer asim_schedule_at(struct asim_kernel *k, asim_time at,
                                                     uint32_t target, uint16_t type,
                                                     uint16_t inst, uint64_t a, void *p)
{
	return schedule(k, at, target, type, inst, a, p);
}

ASIM_INLINE_ENTRY struct asim_timer asim_schedule(struct asim_kernel *k, asim_time delay,
                                                  uint32_t target, uint16_t type, uint16_t inst,
                                                  uint64_t a, void *p)
{
	assert(delay >= 0 && "an event was scheduled with a negative delay");
	/* One unsigned compare catches both a negative delay and an overflow
	 * (now is never negative). */
	if ((uint64_t)delay > (uint64_t)(ASIM_TIME_MAX - k->head.now)) {
		asim_kernel_fail(k, ASIM_RUN_TIME_OVERFLOW);
		return (struct asim_timer){0, 0};
	}
	return schedule(k, k->head.now + delay, target, type, inst, a, p);
}

static bool drop_cancelled(void *ctx, const struct asim_evq_entry *e)
{
	struct asim_kernel *k = ctx;
	if (!(k->slots[e->slot].seq & ASIM_SLOT_CANCELLED))
		return false;
	free_slot(k, e->slot);
	return true;
}

/* asim_cancel's clear-out, out of line: it runs once per CANCEL_FLOOR
 * cancels at least, and the rest is inlined at every call site. */
static __attribute__((noinline)) void clear_cancelled(struct asim_kernel *k)
{
	k->cancelled -= asim_evq_remove_if(&k->near, drop_cancelled, k);
	k->cancelled -= asim_evq_remove_if(&k->far, drop_cancelled, k);
	/* Those left are in the FIFO, out of reach: wait for more. */
	k->cancel_floor = k->cancelled + CANCEL_FLOOR;
}

ASIM_INLINE_ENTRY bool asim_cancel(struct asim_kernel *k, struct asim_timer t)
{
	if (!t.seq || t.slot >= k->nslots || k->slots[t.slot].seq != t.seq)
		return false;
	k->slots[t.slot].seq |= ASIM_SLOT_CANCELLED;
	k->pending--;
	/* Cancelled timers (timeouts that did not fire) would otherwise stay
	 * in the queue until their time: in a busy run they outnumber the live
	 * events many times over, and every one costs a pop. Clearing them out
	 * once they are half the queue costs O(1) per cancel, amortised, and
	 * keeps the queue's size and memory in proportion to the live events. */
	if (++k->cancelled > k->cancel_floor &&
	    k->cancelled > (asim_evq_size(&k->near) + asim_evq_size(&k->far)) / 2)
		clear_cancelled(k);
	return true;
}

void asim_kernel_set_limits(struct asim_kernel *k, uint64_t max_events, size_t max_pending)
{
	k->max_events = max_events;
	k->max_pending = max_pending;
	if (!k->err)
		k->pending_cap = max_pending ? max_pending : SIZE_MAX;
	k->check_at = 0;
}

void asim_kernel_set_resource_limits(struct asim_kernel *k, size_t max_memory,
                                     size_t max_inflight)
{
	k->max_memory = max_memory;
	k->max_inflight = max_inflight;
	k->check_at = 0;
}

size_t asim_kernel_memory(const struct asim_kernel *k)
{
	return (size_t)k->nslots * sizeof(*k->slots) + asim_evq_bytes(&k->near) +
	       asim_evq_bytes(&k->far) +
	       ((size_t)k->fifo_mask + 1) * sizeof(*k->fifo) + k->pool_bytes;
}

void asim_kernel_pool_init(struct asim_kernel *k, struct asim_pool *p, size_t obj_size,
                           size_t chunk_objs)
{
	asim_pool_init(p, obj_size, chunk_objs);
	p->account = &k->pool_bytes;
}

void asim_kernel_set_warmup(struct asim_kernel *k, asim_time warmup)
{
	k->head.warmup = warmup < 0 ? 0 : warmup;
}

asim_time asim_kernel_warmup(const struct asim_kernel *k)
{
	return k->head.warmup;
}

/* Time first reaches the warm-up instant: statistics restart there. */
static void end_warmup(struct asim_kernel *k)
{
	k->warmed = true;
	if (k->head.warmup > k->head.now)
		k->head.now = k->head.warmup;
	for (uint32_t i = 0; i < k->ncomps; i++) {
		struct asim_component *c = k->comps[i];
		if (c->ops->warmup_end)
			c->ops->warmup_end(c);
	}
}

/* Moves near_span towards keeping the near queue between NEAR_LOW and
 * NEAR_HIGH entries (see "two tiers" at the top). Its size now stands for
 * its size in general: looked at every TIER_EVERY events, a burst moves the
 * span by a quarter at most. */
static void retune_tiers(struct asim_kernel *k)
{
	k->retune_at = k->events + TIER_EVERY;
	size_t n = asim_evq_size(&k->near);
	if (n > NEAR_HIGH)
		k->near_span -= k->near_span / 4; /* never below 1 */
	else if (n < NEAR_LOW && k->near_span < NEAR_SPAN_MAX)
		k->near_span += k->near_span / 4 + 1;
}

/* The event and memory limits, and the tiers' span, looked at when the
 * event count reaches check_at rather than on every event. Memory moves
 * slowly next to events: a look every 1024 keeps the check off the hot path
 * and still stops a runaway run within a few kilobytes of its limit. */
static bool checks_ok(struct asim_kernel *k)
{
	if (k->events >= k->retune_at)
		retune_tiers(k);
	if (k->max_events && k->events >= k->max_events) {
		asim_kernel_fail(k, ASIM_RUN_EVENT_LIMIT);
		return false;
	}
	if (k->max_memory && (k->events & 1023) == 0 && asim_kernel_memory(k) > k->max_memory) {
		asim_kernel_fail(k, ASIM_RUN_MEMORY_LIMIT);
		return false;
	}
	uint64_t at = k->max_events ? k->max_events : UINT64_MAX;
	if (k->max_memory && (k->events | 1023) + 1 < at)
		at = (k->events | 1023) + 1;
	k->check_at = at < k->retune_at ? at : k->retune_at;
	return true;
}

/* The earlier of the two tiers' first entries (NULL: both empty); *far
 * says which tier it is in. */
static inline const struct asim_evq_entry *queue_top(const struct asim_kernel *k, bool *far)
{
	const struct asim_evq_entry *a = asim_evq_peek(&k->near), *b = asim_evq_peek(&k->far);
	*far = b && (!a || asim_evq_before(b, a));
	return *far ? b : a;
}

/* The next event by (time, seq) among the FIFO head and top (a queue's
 * first entry, or NULL), without removing it: its time, and whether it is
 * the FIFO's. Returns false when both are empty. */
static inline __attribute__((always_inline)) bool pick(const struct asim_kernel *k,
                                                       const struct asim_evq_entry *top,
                                                       asim_time *t, bool *from_fifo)
{
	if (k->handoff.seq || k->fifo_head != k->fifo_tail) {
		/* FIFO entries were scheduled at the current instant, and the
		 * clock cannot move past them, so their time is now. A held
		 * hand-off is the FIFO's head. */
		uint64_t seq = k->handoff.seq;
		if (!seq)
			seq = k->slots[k->fifo[k->fifo_head & k->fifo_mask]].seq & ~ASIM_SLOT_CANCELLED;
		*from_fifo = !(top && top->time == k->head.now && top->seq < seq);
		*t = k->head.now;
		return true;
	}
	if (!top)
		return false;
	*from_fifo = false;
	*t = top->time;
	return true;
}

/* pick() over the FIFO and both tiers; *far as queue_top(). */
static inline bool next_event(const struct asim_kernel *k, asim_time *t, bool *from_fifo,
                              bool *far)
{
	return pick(k, queue_top(k, far), t, from_fifo);
}

/* Takes the next event's slot out of the FIFO or a tier's queue. */
static inline __attribute__((always_inline)) uint32_t take(struct asim_kernel *k, bool from_fifo,
                                                          bool far)
{
	if (from_fifo)
		return k->fifo[k->fifo_head++ & k->fifo_mask];
	struct asim_evq *q = far ? &k->far : &k->near;
	struct asim_evq_entry e;
	asim_evq_pop(q, &e);
	/* The ladder could not prepare the next entry: this one still runs,
	 * then the run stops. */
	if (q->nomem)
		asim_kernel_fail(k, ASIM_RUN_NOMEM);
	return e.slot;
}

/* Runs ev, taken out of the pending events. Returns false when the run
 * must stop with k->err. */
static inline __attribute__((always_inline)) bool dispatch(struct asim_kernel *k,
                                                           struct asim_event ev)
{
	asim_time t = ev.time;
	k->pending--;
	k->head.now = t;
	if (ev.type == ASIM_EV_RESPONSE) {
		struct asim_call *call = ev.p;
		call->flags &= (uint8_t)~ASIM_CALL_IN_FLIGHT;
		/* The caller gave up: drop the stale answer unseen. */
		if (call->flags & ASIM_CALL_CALLER_DONE) {
			asim_pool_put(&k->calls, call);
			return true;
		}
	}
	if (k->events >= k->check_at && !checks_ok(k))
		return false;
	k->events++;
	/* Two runs that dispatch the same events at the same times to the same
	 * components end with the same fingerprint; any divergence of the
	 * trajectory changes it (with overwhelming probability). */
	k->fingerprint = (k->fingerprint ^ (uint64_t)t) * UINT64_C(0x100000001b3);
	k->fingerprint = (k->fingerprint ^ ((uint64_t)ev.target << 16 | ev.type)) *
	                 UINT64_C(0x100000001b3);
	struct asim_dispatch d = k->disp[ev.target];
	assert(d.handle && "an event was sent to a component without a handle op");
	d.handle(d.c, &ev);
	return !k->err;
}

/* Runs the next event, due at t, from where pick() found it: the held
 * hand-off, the FIFO or a tier's queue. Returns false when the run must
 * stop with k->err. */
static inline __attribute__((always_inline)) bool run_next(struct asim_kernel *k, bool from_fifo,
                                                           bool far, asim_time t)
{
	struct asim_event ev;
	if (from_fifo && k->handoff.seq) {
		const struct asim_slot *h = &k->handoff;
		ev = (struct asim_event){.time = t, .target = h->target,
		                         .type = ASIM_LOAD_ALONE(h->type),
		                         .inst = ASIM_LOAD_ALONE(h->inst), .p = h->p};
		k->handoff.seq = 0;
	} else {
		uint32_t s = take(k, from_fifo, far);
		struct asim_slot *sl = &k->slots[s];
		if (sl->seq & ASIM_SLOT_CANCELLED) {
			free_slot(k, s);
			k->cancelled--;
			return true;
		}
		ev = (struct asim_event){.time = t, .target = sl->target,
		                         .type = ASIM_LOAD_ALONE(sl->type),
		                         .inst = ASIM_LOAD_ALONE(sl->inst), .a = sl->a, .p = sl->p};
		/* Freeing the slot before dispatch lets the handler's next
		 * schedule reuse the same, cache-hot slot. */
		free_slot(k, s);
	}
	return dispatch(k, ev);
}

/* Runs the events of the FIFO and the near tier due at or before
 * k->near_limit, while there are any and nothing asks the run to stop. The
 * caller keeps near_limit before the far tier's first entry, and schedule()
 * lowers it when an earlier one comes, so this loop, which runs most
 * events, never looks at the far tier: a run whose far tier stays empty (an
 * M/M/1) pays nothing for it. Returns false on a sticky error. */
static inline __attribute__((always_inline)) bool run_near(struct asim_kernel *k)
{
	while (!k->stop) {
		bool from_fifo;
		asim_time t;
		if (!pick(k, asim_evq_peek(&k->near), &t, &from_fifo) || t > k->near_limit)
			return true;
		if (!run_next(k, from_fifo, false, t))
			return false;
	}
	return true;
}

/* Runs events due at or before limit while there are any and nothing asks
 * the run to stop; the end of warm-up and the end of the run are left to
 * the caller, which sets limit before both. Events before the far tier's
 * first entry run in run_near; the far tier's, and any due at the same
 * instant, one at a time through the full merge. Returns false on a sticky
 * error. */
static bool run_until(struct asim_kernel *k, asim_time limit)
{
	while (!k->stop) {
		const struct asim_evq_entry *first_far = asim_evq_peek(&k->far);
		k->near_limit = first_far && first_far->time <= limit ? first_far->time - 1 : limit;
		if (!run_near(k))
			return false;
		if (k->stop)
			break;
		asim_time t = 0;
		bool from_fifo = false, far = false;
		if (!next_event(k, &t, &from_fifo, &far) || t > limit)
			break;
		if (!run_next(k, from_fifo, far, t))
			return false;
	}
	return true;
}

enum asim_run_status asim_kernel_run(struct asim_kernel *k, asim_time until)
{
	if (k->err)
		return k->err;
	k->stop = false;
	if (!k->started) {
		k->started = true;
		for (uint32_t i = 0; i < k->ncomps; i++) {
			struct asim_component *c = k->comps[i];
			if (c->ops->start)
				c->ops->start(c);
		}
		if (k->err)
			return k->err;
	}
	for (;;) {
		/* Most events run in run_until, which need not look at the end
		 * of warm-up: it stops before it. The loop below then takes one
		 * step at a time, as it would without run_until. */
		asim_time limit = !k->warmed && k->head.warmup <= until ? k->head.warmup - 1 : until;
		if (!run_until(k, limit))
			return k->err;
		if (k->stop)
			return ASIM_RUN_STOPPED;
		asim_time t = 0;
		bool from_fifo = false, far = false;
		bool more = next_event(k, &t, &from_fifo, &far) && t <= until;
		if (!k->warmed && (more ? t >= k->head.warmup : k->head.warmup <= until)) {
			end_warmup(k);
			if (k->err)
				return k->err;
			/* The warm-up ops may have scheduled events at its instant. */
			continue;
		}
		if (!more)
			break;
		if (!run_next(k, from_fifo, far, t))
			return k->err;
	}
	if (k->err)
		return k->err;
	if (until > k->head.now)
		k->head.now = until;
	return ASIM_RUN_DONE;
}

void asim_kernel_finish(struct asim_kernel *k)
{
	if (k->finished)
		return;
	k->finished = true;
	for (uint32_t i = 0; i < k->ncomps; i++) {
		struct asim_component *c = k->comps[i];
		if (c->ops->finish)
			c->ops->finish(c);
	}
}

void asim_kernel_stop(struct asim_kernel *k)
{
	k->stop = true;
}

uint64_t asim_kernel_events(const struct asim_kernel *k)
{
	return k->events;
}

uint64_t asim_kernel_fingerprint(const struct asim_kernel *k)
{
	return k->fingerprint;
}

size_t asim_kernel_pending(const struct asim_kernel *k)
{
	return k->pending;
}

uint64_t asim_kernel_seed(const struct asim_kernel *k)
{
	return k->seed;
}

uint32_t asim_kernel_replication(const struct asim_kernel *k)
{
	return k->replication;
}

/* Writes the key of (name, purpose) as struct asim_stream describes it into
 * buf (NULL: only measures) and returns its length. */
static size_t stream_key(char *buf, const char *name, const char *purpose)
{
	size_t nlen = strlen(name) + 1, plen = purpose ? strlen(purpose) + 1 : 0;
	if (buf) {
		memcpy(buf, name, nlen);
		if (purpose) {
			buf[nlen] = '\1';
			memcpy(buf + nlen + 1, purpose, plen - 1);
		}
	}
	return nlen + plen;
}

/* Streams are found through an index: every component asks for one or more
 * at configure time (and the network for one per component and purpose), so
 * a scan of all the streams made building quadratic in the components. The
 * seed still comes from (seed, replication, name, purpose) alone. */
gsl_rng *asim_kernel_rng(struct asim_kernel *k, const char *name, const char *purpose)
{
	size_t len = stream_key(NULL, name, purpose);
	struct asim_stream st = {.key = malloc(len), .key_len = len};
	if (!st.key)
		goto nomem;
	stream_key(st.key, name, purpose);
	size_t i = asim_index_get(&k->stream_index, 0, st.key, len);
	if (i != ASIM_INDEX_NONE) {
		free(st.key);
		return k->streams[i].r;
	}
	if (k->nstreams == k->streams_cap) {
		size_t cap = k->streams_cap ? 2 * k->streams_cap : 8;
		struct asim_stream *streams = realloc(k->streams, cap * sizeof(*streams));
		if (!streams)
			goto nomem;
		k->streams = streams;
		k->streams_cap = cap;
	}
	st.r = asim_rng_create(k->seed, k->replication, name, purpose);
	if (!st.r || !asim_index_put(&k->stream_index, 0, st.key, len, k->nstreams))
		goto nomem;
	k->streams[k->nstreams++] = st;
	return st.r;
nomem:
	gsl_rng_free(st.r);
	free(st.key);
	asim_kernel_fail(k, ASIM_RUN_NOMEM);
	return NULL;
}

int asim_kernel_op(struct asim_kernel *k, const char *name)
{
	for (int i = 0; i < k->nops; i++)
		if (strcmp(k->ops[i], name) == 0)
			return i;
	if (k->nops == ASIM_MAX_OPS)
		return -1;
	char *d = dup_str(name);
	if (!d)
		return -1;
	k->ops[k->nops] = d;
	return k->nops++;
}

const char *asim_kernel_op_name(const struct asim_kernel *k, int op)
{
	return op >= 0 && op < k->nops ? k->ops[op] : NULL;
}

int asim_kernel_op_count(const struct asim_kernel *k)
{
	return k->nops;
}

struct asim_outcome *asim_kernel_outcome(struct asim_kernel *k)
{
	if (k->outcome)
		return k->outcome;
	struct asim_outcome *o = calloc(1, sizeof(*o));
	if (!o) {
		asim_kernel_fail(k, ASIM_RUN_NOMEM);
		return NULL;
	}
	for (size_t i = 0; i < ASIM_MAX_OPS; i++)
		asim_hist_init_zeroed(&o->latency_op[i]);
	asim_hist_init_zeroed(&o->window.latency);
	k->outcome = o;
	return o;
}

void asim_outcome_latency(const struct asim_outcome *o, struct asim_hist *out)
{
	asim_hist_init(out);
	for (size_t i = 0; i < ASIM_MAX_OPS; i++)
		asim_hist_merge(out, &o->latency_op[i]);
}
