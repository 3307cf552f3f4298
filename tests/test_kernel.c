/* The kernel: order, cancellation, sticky errors, limits, life cycle. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "archsim/evq.h"
#include "archsim/kernel.h"
#include "archsim/model.h"
#include "archsim/pool.h"
#include "archsim/rng.h"
/* The property test looks at the kernel's two tiers (kernel.c) as well. */
#include "../sim/kernel_private.h"

/* What the recording model saw, in order. */
struct rec {
	char what;      /* 's' start, 'w' warmup_end, 'e' event, 'f' finish, 'd' destroy */
	uint32_t comp;
	asim_time time;
	uint16_t type;
	uint64_t a;
};

static struct rec log_[4096];
static size_t nlog;

static void put(char what, const struct asim_component *c, asim_time t, uint16_t type, uint64_t a)
{
	ck_assert_uint_lt(nlog, sizeof(log_) / sizeof(log_[0]));
	log_[nlog++] = (struct rec){what, c->id, t, type, a};
}

/* A script run by the start op of component 0: each line schedules one
 * event, with a delay or at an absolute time. */
struct sched_line {
	asim_time delay;
	uint64_t a;
};
static const struct sched_line *script;
static size_t script_n;

/* Event types of the recording model. */
enum {
	EV_PLAIN = ASIM_EV_USER,
	EV_SPAWN_NOW,   /* schedules a zero-delay EV_PLAIN with a = ev.a + 100 */
	EV_STOP,        /* asks the kernel to stop */
	EV_HANDOFF,     /* the property test's hand-offs: the index in p, plus 1 */
};

static void rec_start(struct asim_component *c)
{
	put('s', c, asim_now(c->kernel), 0, 0);
	if (c->id != 0)
		return;
	for (size_t i = 0; i < script_n; i++)
		asim_schedule(c->kernel, script[i].delay, 0,
		              script[i].a >= 1000 ? EV_SPAWN_NOW : EV_PLAIN, 0, script[i].a, NULL);
}

static void rec_handle(struct asim_component *c, const struct asim_event *ev)
{
	ck_assert_int_eq(ev->time, asim_now(c->kernel));
	put('e', c, ev->time, ev->type, ev->a);
	if (ev->type == EV_SPAWN_NOW)
		asim_schedule(c->kernel, 0, c->id, EV_PLAIN, 0, ev->a + 100, NULL);
	else if (ev->type == EV_STOP)
		asim_kernel_stop(c->kernel);
}

static void rec_warmup_end(struct asim_component *c)
{
	put('w', c, asim_now(c->kernel), 0, 0);
}

static void rec_finish(struct asim_component *c)
{
	put('f', c, asim_now(c->kernel), 0, 0);
}

static void rec_destroy(struct asim_component *c)
{
	put('d', c, 0, 0, 0);
}

static const struct asim_model_ops rec_ops = {
	.kind = "rec",
	.state_size = 16,
	.start = rec_start,
	.handle = rec_handle,
	.warmup_end = rec_warmup_end,
	.finish = rec_finish,
	.destroy = rec_destroy,
};

static const struct asim_model_ops bare_ops = {
	.kind = "bare",
	.handle = rec_handle,
};

static struct asim_kernel *make(size_t ncomps, const struct sched_line *lines, size_t n)
{
	nlog = 0;
	script = lines;
	script_n = n;
	struct asim_kernel *k = asim_kernel_create(1, 0);
	ck_assert_ptr_nonnull(k);
	for (size_t i = 0; i < ncomps; i++) {
		char name[16];
		snprintf(name, sizeof(name), "c%zu", i);
		ck_assert_ptr_nonnull(asim_kernel_add(k, name, &rec_ops));
	}
	return k;
}

/* The a values of the events seen, in order. */
static size_t event_order(uint64_t *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < nlog && n < max; i++)
		if (log_[i].what == 'e')
			out[n++] = log_[i].a;
	return n;
}

START_TEST(kernel_tie_order_is_fifo)
{
	/* Same instants, scheduled out of time order: ties keep schedule order. */
	static const struct sched_line lines[] = {
		{5, 1}, {3, 2}, {5, 3}, {0, 4}, {3, 5}, {5, 6}, {0, 7},
	};
	struct asim_kernel *k = make(1, lines, 7);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	uint64_t got[16];
	static const uint64_t want[] = {4, 7, 2, 5, 1, 3, 6};
	ck_assert_uint_eq(event_order(got, 16), 7);
	for (size_t i = 0; i < 7; i++)
		ck_assert_uint_eq(got[i], want[i]);
	ck_assert_uint_eq(asim_kernel_events(k), 7);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_tie_order_mixes_fifo_and_heap)
{
	/* At t=10: a (1000) spawns a zero-delay event (1100) while b (2) and c
	 * (3), scheduled earlier for the same instant, are still in the heap.
	 * The zero-delay one was scheduled last, so it runs after them. */
	static const struct sched_line lines[] = {{10, 1000}, {10, 2}, {10, 3}, {11, 4}};
	struct asim_kernel *k = make(1, lines, 4);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	uint64_t got[16];
	static const uint64_t want[] = {1000, 2, 3, 1100, 4};
	ck_assert_uint_eq(event_order(got, 16), 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_uint_eq(got[i], want[i]);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_tie_order_zero_delay_before_start_and_chain)
{
	/* Zero-delay events at time 0 from start, one of them spawning more. */
	static const struct sched_line lines[] = {{0, 1001}, {0, 2}, {0, 1003}, {1, 4}};
	struct asim_kernel *k = make(1, lines, 4);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	uint64_t got[16];
	static const uint64_t want[] = {1001, 2, 1003, 1101, 1103, 4};
	ck_assert_uint_eq(event_order(got, 16), 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_uint_eq(got[i], want[i]);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_zero_delay_fifo_grows_in_order)
{
	struct asim_kernel *k = make(1, NULL, 0);
	/* Move the ring's head off zero first, so growth has to unwrap it. */
	for (uint64_t i = 0; i < 10; i++)
		asim_schedule(k, 0, 0, EV_PLAIN, 0, i, NULL);
	ck_assert_int_eq(asim_kernel_run(k, 0), ASIM_RUN_DONE);
	asim_schedule(k, 1, 0, EV_PLAIN, 0, 5000, NULL);
	for (uint64_t i = 10; i < 1000; i++)
		asim_schedule(k, 0, 0, EV_PLAIN, 0, i, NULL);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	static uint64_t got[1100];
	ck_assert_uint_eq(event_order(got, 1100), 1001);
	for (uint64_t i = 0; i < 1000; i++)
		ck_assert_uint_eq(got[i], i);
	ck_assert_uint_eq(got[1000], 5000);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_cancel_then_pop)
{
	struct asim_kernel *k = make(1, NULL, 0);
	struct asim_timer t1 = asim_schedule(k, 5, 0, EV_PLAIN, 0, 1, NULL);
	struct asim_timer t2 = asim_schedule(k, 5, 0, EV_PLAIN, 0, 2, NULL);
	struct asim_timer t3 = asim_schedule(k, 0, 0, EV_PLAIN, 0, 3, NULL);
	struct asim_timer t4 = asim_schedule(k, 0, 0, EV_PLAIN, 0, 4, NULL);
	ck_assert_uint_eq(asim_kernel_pending(k), 4);
	ck_assert(asim_cancel(k, t1));
	ck_assert(!asim_cancel(k, t1));
	ck_assert(asim_cancel(k, t3));
	ck_assert(!asim_cancel(k, (struct asim_timer){0, 0}));
	ck_assert_uint_eq(asim_kernel_pending(k), 2);
	ck_assert_int_eq(asim_kernel_run(k, 100), ASIM_RUN_DONE);
	uint64_t got[16];
	ck_assert_uint_eq(event_order(got, 16), 2);
	ck_assert_uint_eq(got[0], 4);
	ck_assert_uint_eq(got[1], 2);
	ck_assert_uint_eq(asim_kernel_events(k), 2);
	ck_assert_uint_eq(asim_kernel_pending(k), 0);
	/* Already ran. */
	ck_assert(!asim_cancel(k, t2));
	ck_assert(!asim_cancel(k, t4));
	/* The freed slots are reused; the old timers must not hit new events. */
	struct asim_timer n1 = asim_schedule(k, 1, 0, EV_PLAIN, 0, 5, NULL);
	struct asim_timer n2 = asim_schedule(k, 1, 0, EV_PLAIN, 0, 6, NULL);
	ck_assert(n1.slot == t1.slot || n1.slot == t2.slot || n1.slot == t3.slot ||
	          n1.slot == t4.slot);
	ck_assert(!asim_cancel(k, t1));
	ck_assert(!asim_cancel(k, t2));
	ck_assert(!asim_cancel(k, t3));
	ck_assert(!asim_cancel(k, t4));
	ck_assert(!asim_cancel(k, (struct asim_timer){n1.seq, n2.slot}));
	ck_assert_uint_eq(asim_kernel_pending(k), 2);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	ck_assert_uint_eq(event_order(got, 16), 4);
	ck_assert_uint_eq(got[2], 5);
	ck_assert_uint_eq(got[3], 6);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_mass_cancel_clears_queue_in_order)
{
	/* Enough cancelled timers to clear them out of the queue several times
	 * over (the heap and the ladder both), interleaved with live events at
	 * equal and distinct times: the live ones still run in (time, seq)
	 * order, and stale handles stay harmless after their slots are reused. */
	enum { N = 60000, KEEP = 16 }; /* 3750 live: the log holds 4096 */
	struct asim_kernel *k = make(1, NULL, 0);
	static struct asim_timer t[N];
	for (uint64_t i = 0; i < N; i++)
		t[i] = asim_schedule(k, 1 + (asim_time)((i * 7919) % 20000), 0, EV_PLAIN, 0, i, NULL);
	size_t live = 0;
	for (uint64_t i = 0; i < N; i++) {
		if (i % KEEP == 0) {
			live++;
			continue;
		}
		ck_assert(asim_cancel(k, t[i]));
	}
	ck_assert_uint_eq(asim_kernel_pending(k), live);
	for (uint64_t i = 1; i < N; i += KEEP)
		ck_assert(!asim_cancel(k, t[i]));
	nlog = 0;
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	ck_assert_uint_eq(asim_kernel_events(k), live);
	ck_assert_uint_eq(asim_kernel_pending(k), 0);
	/* Only the kept ones ran, by time and then in the order scheduled. */
	static uint64_t got[N];
	ck_assert_uint_eq(event_order(got, N), live);
	for (size_t j = 0; j < live; j++) {
		ck_assert_uint_eq(got[j] % KEEP, 0);
		if (j) {
			asim_time ta = 1 + (asim_time)((got[j - 1] * 7919) % 20000);
			asim_time tb = 1 + (asim_time)((got[j] * 7919) % 20000);
			ck_assert(ta < tb || (ta == tb && got[j - 1] < got[j]));
		}
	}
	asim_kernel_destroy(k);
}
END_TEST

/* A property test of the kernel's order with cancellation, through every
 * structure of its queues (the FIFO, and both tiers as sorted array, heap
 * or ladder, with the span between the tiers moving as the load changes):
 * a model that, at each of its events, schedules
 * and cancels at random (delays of zero, small ties, wide and heavy-tailed
 * ones), steering the number pending up past the switch to the ladder, down
 * again, around the sorted array's switch to the heap, and to empty. A
 * reference binary heap of (time, order scheduled) with cancelled entries
 * skipped says which event must come next, and which cancels must succeed. */
enum { PROP_MAX = 1 << 19 };

static struct {
	struct asim_timer timer[PROP_MAX];
	bool pending[PROP_MAX];
	bool handoff[PROP_MAX];      /* sent as a call's hand-off: no timer */
	struct prop_ref {
		asim_time time;
		uint64_t idx;
	} heap[PROP_MAX];
	size_t n;
	uint64_t next, dispatched, live, cancels, rs;
	uint64_t most;                /* pending at most */
	bool hover_low, hover_high;   /* below 16 and above 32, while hovering */
	size_t near_most, far_most;   /* entries in each tier's queue at most */
	uint64_t held, queued;        /* hand-offs held by the kernel, and put in its FIFO */
	bool far_ladder;              /* the far tier's queue was a ladder */
	asim_time span_min, span_max; /* the near tier's span, least and most */
} prop;

static bool prop_before(const struct prop_ref *a, const struct prop_ref *b)
{
	return a->time < b->time || (a->time == b->time && a->idx < b->idx);
}

static void prop_ref_push(asim_time time, uint64_t idx)
{
	size_t i = prop.n++;
	struct prop_ref e = {time, idx};
	for (; i > 0 && prop_before(&e, &prop.heap[(i - 1) / 2]); i = (i - 1) / 2)
		prop.heap[i] = prop.heap[(i - 1) / 2];
	prop.heap[i] = e;
}

static struct prop_ref prop_ref_pop(void)
{
	struct prop_ref top = prop.heap[0], last = prop.heap[--prop.n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= prop.n)
			break;
		if (c + 1 < prop.n && prop_before(&prop.heap[c + 1], &prop.heap[c]))
			c++;
		if (!prop_before(&prop.heap[c], &last))
			break;
		prop.heap[i] = prop.heap[c];
		i = c;
	}
	prop.heap[i] = last;
	return top;
}

static uint64_t prop_rand(void)
{
	prop.rs ^= prop.rs >> 12;
	prop.rs ^= prop.rs << 25;
	prop.rs ^= prop.rs >> 27;
	return prop.rs * 0x2545f4914f6cdd1dULL;
}

static void prop_schedule(struct asim_component *c)
{
	if (prop.next == PROP_MAX)
		return;
	uint64_t x = prop_rand(), pick = x % 100;
	asim_time delay = pick < 15   ? 0
	                  : pick < 40 ? (asim_time)(x >> 8) % 4
	                  : pick < 80 ? (asim_time)(x >> 8) % 1000000
	                              : (asim_time)(x >> 8) % ((asim_time)1 << (x >> 40) % 40);
	uint64_t idx = prop.next++;
	if (delay == 0 && (x >> 60) % 2) {
		/* A call's hand-off (call.c): due now, with no timer. The
		 * kernel holds it outside the FIFO when nothing else is due
		 * now; either way it must keep its place in (time, seq). */
		struct asim_kernel *k = c->kernel;
		bool hold = !k->handoff.seq && k->fifo_head == k->fifo_tail;
		asim_kernel_schedule_now(k, c->id, EV_HANDOFF, 0, (void *)(uintptr_t)(idx + 1));
		ck_assert_int_eq(k->handoff.seq != 0 && k->fifo_head == k->fifo_tail, hold);
		prop.held += hold;
		prop.queued += !hold;
		prop.handoff[idx] = true;
	} else {
		prop.timer[idx] = asim_schedule(c->kernel, delay, c->id, EV_PLAIN, 0, idx, NULL);
		ck_assert_uint_ne(prop.timer[idx].seq, 0);
	}
	prop.pending[idx] = true;
	prop.live++;
	prop_ref_push(asim_now(c->kernel) + delay, idx);
}

/* How many should be pending as the run goes on: up past the ladder, down,
 * then around the sorted array's switch (16 to 32) for a while, then none. */
static uint64_t prop_target(void)
{
	uint64_t d = prop.dispatched;
	if (d < 60000)
		return 40000;
	if (d < 100000)
		return 500;
	if (d < 160000)
		return 4 + (d / 64) % 48;
	return 0;
}

static void prop_handle(struct asim_component *c, const struct asim_event *ev)
{
	struct prop_ref want;
	do
		want = prop_ref_pop();
	while (!prop.pending[want.idx]);
	ck_assert_int_eq(ev->time, want.time);
	ck_assert_int_eq(ev->type == EV_HANDOFF, prop.handoff[want.idx]);
	ck_assert_uint_eq(ev->type == EV_HANDOFF ? (uintptr_t)ev->p - 1 : ev->a, want.idx);
	prop.pending[want.idx] = false;
	prop.live--;
	prop.dispatched++;
	uint64_t target = prop_target();
	int n = prop.live < target ? 2 : prop.live > target ? 0 : 1;
	if (target && prop_rand() % 4 == 0)
		n++;
	for (int i = 0; i < n; i++)
		prop_schedule(c);
	/* Cancel one of the recent ones now and then: still pending or not,
	 * the kernel must agree with the reference. */
	if (prop.next && prop_rand() % 100 < 35) {
		uint64_t span = prop.next < 2000 ? prop.next : 2000;
		uint64_t idx = prop.next - 1 - prop_rand() % span;
		bool was = prop.pending[idx] && !prop.handoff[idx];
		ck_assert_int_eq(asim_cancel(c->kernel, prop.timer[idx]), was);
		if (was) {
			prop.pending[idx] = false;
			prop.live--;
			prop.cancels++;
		}
	}
	ck_assert_uint_eq(asim_kernel_pending(c->kernel), prop.live);
	const struct asim_kernel *k = c->kernel;
	if (asim_evq_size(&k->near) > prop.near_most)
		prop.near_most = asim_evq_size(&k->near);
	if (asim_evq_size(&k->far) > prop.far_most)
		prop.far_most = asim_evq_size(&k->far);
	prop.far_ladder |= k->far.ladder != NULL;
	if (!prop.span_min || k->near_span < prop.span_min)
		prop.span_min = k->near_span;
	if (k->near_span > prop.span_max)
		prop.span_max = k->near_span;
	if (prop.live > prop.most)
		prop.most = prop.live;
	if (prop.dispatched > 100000 && prop.dispatched < 160000) {
		prop.hover_low |= prop.live < 16;
		prop.hover_high |= prop.live > 32;
	}
}

static void prop_start(struct asim_component *c)
{
	for (int i = 0; i < 4; i++)
		prop_schedule(c);
}

static const struct asim_model_ops prop_ops = {
	.kind = "prop",
	.start = prop_start,
	.handle = prop_handle,
};

START_TEST(kernel_random_schedule_cancel_matches_reference)
{
	memset(&prop, 0, sizeof prop);
	prop.rs = 0x9e3779b97f4a7c15ULL + (uint64_t)_i;
	struct asim_kernel *k = asim_kernel_create(1, 0);
	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(asim_kernel_add(k, "p", &prop_ops));
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	ck_assert_uint_eq(prop.live, 0);
	ck_assert_uint_eq(asim_kernel_pending(k), 0);
	ck_assert_uint_eq(asim_kernel_events(k), prop.dispatched);
	ck_assert_uint_gt(prop.dispatched, 160000);
	ck_assert_uint_gt(prop.cancels, 10000);
	/* It went through the ladder, and back and forth over the sorted
	 * array's switch to the heap. */
	ck_assert_uint_gt(prop.most, ASIM_EVQ_LADDER_ON);
	ck_assert(prop.hover_low && prop.hover_high);
	/* Both tiers were used: the near one past the sorted array, the far
	 * one as a ladder, with the span between them moving. */
	ck_assert_uint_gt(prop.near_most, ASIM_EVQ_SORTED_ON);
	ck_assert(prop.far_ladder);
	ck_assert_int_lt(prop.span_min, prop.span_max);
	/* Hand-offs went both ways: held, and into the FIFO behind others. */
	ck_assert_uint_gt(prop.held, 1000);
	ck_assert_uint_gt(prop.queued, 1000);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_time_overflow_refused)
{
	struct asim_kernel *k = make(1, NULL, 0);
	asim_schedule(k, 10, 0, EV_PLAIN, 0, 1, NULL);
	ck_assert_int_eq(asim_kernel_run(k, 10), ASIM_RUN_DONE);
	ck_assert_int_eq(asim_now(k), 10);
	/* now + (MAX - 10) is exactly MAX: allowed. One more is not. */
	struct asim_timer ok = asim_schedule(k, ASIM_TIME_MAX - 10, 0, EV_PLAIN, 0, 2, NULL);
	ck_assert_uint_ne(ok.seq, 0);
	struct asim_timer bad = asim_schedule(k, ASIM_TIME_MAX - 9, 0, EV_PLAIN, 0, 3, NULL);
	ck_assert_uint_eq(bad.seq, 0);
	/* Sticky: later schedules fail too, and every run reports it. */
	struct asim_timer later = asim_schedule(k, 1, 0, EV_PLAIN, 0, 4, NULL);
	ck_assert_uint_eq(later.seq, 0);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_TIME_OVERFLOW);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_TIME_OVERFLOW);
	ck_assert_uint_eq(asim_kernel_events(k), 1);
	ck_assert_str_eq(asim_run_status_str(ASIM_RUN_TIME_OVERFLOW), "time overflow");
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_event_time_max_runs)
{
	struct asim_kernel *k = make(1, NULL, 0);
	asim_schedule_at(k, ASIM_TIME_MAX, 0, EV_PLAIN, 0, 1, NULL);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	ck_assert_int_eq(asim_now(k), ASIM_TIME_MAX);
	ck_assert_uint_eq(asim_kernel_events(k), 1);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_event_limit)
{
	static const struct sched_line lines[] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}};
	/* Exactly at the limit is fine; one more is not. */
	struct asim_kernel *k = make(1, lines, 4);
	asim_kernel_set_limits(k, 4, 0);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	asim_kernel_destroy(k);
	k = make(1, lines, 4);
	asim_kernel_set_limits(k, 3, 0);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_EVENT_LIMIT);
	ck_assert_uint_eq(asim_kernel_events(k), 3);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_EVENT_LIMIT);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_pending_limit)
{
	struct asim_kernel *k = make(1, NULL, 0);
	asim_kernel_set_limits(k, 0, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_ne(asim_schedule(k, 1 + i, 0, EV_PLAIN, 0, 0, NULL).seq, 0);
	struct asim_timer t = asim_schedule(k, 0, 0, EV_PLAIN, 0, 0, NULL);
	ck_assert_uint_eq(t.seq, 0);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_PENDING_LIMIT);
	ck_assert_uint_eq(asim_kernel_events(k), 0);
	asim_kernel_destroy(k);

	/* A cancelled event no longer counts. */
	k = make(1, NULL, 0);
	asim_kernel_set_limits(k, 0, 2);
	struct asim_timer a = asim_schedule(k, 1, 0, EV_PLAIN, 0, 0, NULL);
	asim_schedule(k, 2, 0, EV_PLAIN, 0, 0, NULL);
	ck_assert(asim_cancel(k, a));
	ck_assert_uint_ne(asim_schedule(k, 3, 0, EV_PLAIN, 0, 0, NULL).seq, 0);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	ck_assert_uint_eq(asim_kernel_events(k), 2);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_run_until_leaves_time_at_until)
{
	static const struct sched_line lines[] = {{10, 1}, {20, 2}, {30, 3}};
	struct asim_kernel *k = make(1, lines, 3);
	ck_assert_int_eq(asim_kernel_run(k, 15), ASIM_RUN_DONE);
	ck_assert_int_eq(asim_now(k), 15);
	ck_assert_uint_eq(asim_kernel_events(k), 1);
	/* Events at exactly until run. */
	ck_assert_int_eq(asim_kernel_run(k, 20), ASIM_RUN_DONE);
	ck_assert_int_eq(asim_now(k), 20);
	ck_assert_uint_eq(asim_kernel_events(k), 2);
	ck_assert_uint_eq(asim_kernel_pending(k), 1);
	/* Running out of events still moves the clock to until. */
	ck_assert_int_eq(asim_kernel_run(k, 100), ASIM_RUN_DONE);
	ck_assert_int_eq(asim_now(k), 100);
	ck_assert_uint_eq(asim_kernel_events(k), 3);
	/* A later until that is earlier than now leaves time alone. */
	ck_assert_int_eq(asim_kernel_run(k, 50), ASIM_RUN_DONE);
	ck_assert_int_eq(asim_now(k), 100);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_stop_returns_stopped)
{
	struct asim_kernel *k = make(1, NULL, 0);
	asim_schedule(k, 1, 0, EV_STOP, 0, 1, NULL);
	asim_schedule(k, 2, 0, EV_PLAIN, 0, 2, NULL);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_STOPPED);
	ck_assert_int_eq(asim_now(k), 1);
	ck_assert_uint_eq(asim_kernel_events(k), 1);
	/* Not sticky: the next run goes on. */
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	ck_assert_uint_eq(asim_kernel_events(k), 2);
	asim_kernel_destroy(k);
}
END_TEST

/* Life-cycle cases: warm-up instant, run ends, the expected log. */
struct life_case {
	const char *name;
	asim_time warmup;
	asim_time until1, until2;
	const char *want; /* one letter per record, then the times of 'w' */
	asim_time warm_time;
};

static const struct sched_line life_lines[] = {{10, 1}, {20, 2}};

static const struct life_case life_cases[] = {
	{"warmup 0: right after start", 0, 100, 200, "ssweef", 0},
	{"warmup between events", 15, 100, 200, "ssewef", 15},
	{"warmup at an event", 20, 100, 200, "ssewef", 20},
	{"warmup reached by run end", 50, 100, 200, "sseewf", 50},
	{"warmup reached by second run", 150, 100, 200, "sseewf", 150},
	{"warmup never reached", 500, 100, 200, "sseef", -1},
};

START_TEST(kernel_life_cycle_order_once)
{
	const struct life_case *lc = &life_cases[_i];
	/* Two components: start in id order; only c0 schedules. */
	struct asim_kernel *k = make(2, life_lines, 2);
	asim_kernel_set_warmup(k, lc->warmup);
	ck_assert_int_eq(asim_kernel_run(k, lc->until1), ASIM_RUN_DONE);
	ck_assert_int_eq(asim_kernel_run(k, lc->until2), ASIM_RUN_DONE);
	asim_kernel_finish(k);
	asim_kernel_finish(k);
	/* Collapse per-component records: starts and warm-ups come as a pair
	 * (c0 then c1); events are c0's. */
	char got[32];
	size_t n = 0;
	for (size_t i = 0; i < nlog; i++) {
		const struct rec *r = &log_[i];
		if (r->what == 'w' || r->what == 'f') {
			ck_assert_uint_eq(r->comp, 0);
			ck_assert(i + 1 < nlog && log_[i + 1].what == r->what && log_[i + 1].comp == 1);
			if (r->what == 'w')
				ck_assert_int_eq(r->time, lc->warm_time);
			i++;
		} else if (r->what == 's') {
			ck_assert_uint_eq(r->comp, n);
		}
		got[n++] = r->what;
	}
	got[n] = 0;
	ck_assert_msg(strcmp(got, lc->want) == 0, "%s: got %s, want %s", lc->name, got, lc->want);
	nlog = 0;
	asim_kernel_destroy(k);
	/* Destroy runs in reverse id order. */
	ck_assert_uint_eq(nlog, 2);
	ck_assert_uint_eq(log_[0].comp, 1);
	ck_assert_uint_eq(log_[1].comp, 0);
}
END_TEST

START_TEST(kernel_duplicate_names_refused)
{
	struct asim_kernel *k = make(0, NULL, 0);
	struct asim_component *a = asim_kernel_add(k, "db", &bare_ops);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_null(asim_kernel_add(k, "db", &rec_ops));
	struct asim_component *b = asim_kernel_add(k, "cache", &bare_ops);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(asim_kernel_count(k), 2);
	ck_assert_ptr_eq(asim_kernel_find(k, "db"), a);
	ck_assert_ptr_eq(asim_kernel_find(k, "cache"), b);
	ck_assert_ptr_null(asim_kernel_find(k, "nope"));
	ck_assert_ptr_eq(asim_kernel_component(k, 1), b);
	ck_assert_ptr_null(asim_kernel_component(k, 2));
	ck_assert_uint_eq(a->id, 0);
	ck_assert_uint_eq(b->instances, 1);
	static const uint16_t zones[] = {0, 2, 1};
	ck_assert(asim_component_set_instances(b, 3, zones));
	ck_assert_uint_eq(b->instances, 3);
	ck_assert_uint_eq(b->zone[1], 2);
	/* Not allowed once running. */
	ck_assert_int_eq(asim_kernel_run(k, 1), ASIM_RUN_DONE);
	ck_assert_ptr_null(asim_kernel_add(k, "late", &bare_ops));
	asim_kernel_destroy(k);
}
END_TEST

/* Components and streams are found through indexes: with thousands of them,
 * each name finds its own component, each (name, purpose) its own stream,
 * asked again the same one, and every stream is seeded from (seed,
 * replication, name, purpose) exactly as asim_rng_create seeds it. */
START_TEST(kernel_many_components_and_streams_found)
{
	enum { N = 3000 };
	static const char *const purposes[] = {"service", NULL, ""};
	struct asim_kernel *k = asim_kernel_create(42, 3);
	ck_assert_ptr_nonnull(k);
	char name[16];
	for (uint32_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		ck_assert_ptr_nonnull(asim_kernel_add(k, name, &bare_ops));
	}
	static gsl_rng *seen[N][3];
	for (uint32_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		ck_assert_ptr_eq(asim_kernel_find(k, name), asim_kernel_component(k, i));
		for (int p = 0; p < 3; p++) {
			seen[i][p] = asim_kernel_rng(k, name, purposes[p]);
			ck_assert_ptr_nonnull(seen[i][p]);
			gsl_rng *want = asim_rng_create(42, 3, name, purposes[p]);
			ck_assert_uint_eq(gsl_rng_get(seen[i][p]), gsl_rng_get(want));
			gsl_rng_free(want);
		}
		ck_assert_ptr_ne(seen[i][0], seen[i][1]);
		ck_assert_ptr_ne(seen[i][1], seen[i][2]);
		ck_assert_ptr_ne(seen[i][0], seen[i][2]);
	}
	for (uint32_t i = N; i-- > 0;) {
		snprintf(name, sizeof(name), "c%u", i);
		for (int p = 0; p < 3; p++)
			ck_assert_ptr_eq(asim_kernel_rng(k, name, purposes[p]), seen[i][p]);
	}
	ck_assert_ptr_null(asim_kernel_find(k, "c3000"));
	ck_assert_ptr_null(asim_kernel_find(k, "c"));
	/* The name and the purpose are kept apart in the key. */
	gsl_rng *ab_c = asim_kernel_rng(k, "ab", "c"), *a_bc = asim_kernel_rng(k, "a", "bc");
	ck_assert_ptr_nonnull(ab_c);
	ck_assert_ptr_nonnull(a_bc);
	ck_assert_ptr_ne(ab_c, a_bc);
	ck_assert_ptr_ne(asim_kernel_rng(k, "c1service", NULL), seen[1][0]);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_ops_lookup)
{
	struct asim_kernel *k = make(0, NULL, 0);
	ck_assert_int_eq(asim_kernel_op_count(k), 2);
	ck_assert_int_eq(asim_kernel_op(k, "read"), ASIM_OP_READ);
	ck_assert_int_eq(asim_kernel_op(k, "write"), ASIM_OP_WRITE);
	ck_assert_str_eq(asim_kernel_op_name(k, 0), "read");
	ck_assert_int_eq(asim_kernel_op(k, "checkout"), 2);
	ck_assert_int_eq(asim_kernel_op(k, "checkout"), 2);
	ck_assert_str_eq(asim_kernel_op_name(k, 2), "checkout");
	ck_assert_ptr_null(asim_kernel_op_name(k, 3));
	ck_assert_ptr_null(asim_kernel_op_name(k, -1));
	char name[16];
	for (int i = 3; i < ASIM_MAX_OPS; i++) {
		snprintf(name, sizeof(name), "op%d", i);
		ck_assert_int_eq(asim_kernel_op(k, name), i);
	}
	ck_assert_int_eq(asim_kernel_op(k, "one-too-many"), -1);
	ck_assert_int_eq(asim_kernel_op(k, "read"), 0);
	ck_assert_int_eq(asim_kernel_op_count(k), ASIM_MAX_OPS);
	asim_kernel_destroy(k);
}
END_TEST

START_TEST(kernel_events_counted_and_outcome)
{
	struct asim_kernel *k = make(2, NULL, 0);
	for (int i = 0; i < 1000; i++)
		asim_schedule(k, i % 7, (uint32_t)(i % 2), EV_PLAIN, (uint16_t)(i % 3), (uint64_t)i, NULL);
	ck_assert_uint_eq(asim_kernel_pending(k), 1000);
	ck_assert_int_eq(asim_kernel_run(k, ASIM_TIME_MAX), ASIM_RUN_DONE);
	ck_assert_uint_eq(asim_kernel_events(k), 1000);
	ck_assert_uint_eq(asim_kernel_pending(k), 0);
	ck_assert_uint_eq(asim_kernel_seed(k), 1);
	ck_assert_uint_eq(asim_kernel_replication(k), 0);
	struct asim_outcome *o = asim_kernel_outcome(k);
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_eq(asim_kernel_outcome(k), o);
	ck_assert_uint_eq(o->requests, 0);
	static struct asim_hist latency;
	asim_outcome_latency(o, &latency);
	ck_assert_uint_eq(latency.count, 0);
	ck_assert_uint_eq(o->latency_op[ASIM_MAX_OPS - 1].count, 0);
	asim_kernel_destroy(k);
	asim_kernel_destroy(NULL);
}
END_TEST

/* Sampled durations become integer nanoseconds, rounded to nearest. */
static const struct {
	double seconds;
	asim_time want;
} time_cases[] = {
	{0.0, 0},
	{-1.0, 0},
	{-0.0, 0},
	{1.0, ASIM_S},
	{0.25, 250 * ASIM_MS},
	{1.4e-9, 1},
	{1.5e-9, 2},
	{0.49999999999999994e-9, 0},
	{2.5e-9, 3},
	{1e-12, 0},
	{9223372036.0, 9223372036 * ASIM_S},
	{9.3e9, ASIM_TIME_MAX},
	{1e300, ASIM_TIME_MAX},
};

START_TEST(kernel_time_from_seconds)
{
	ck_assert_int_eq(asim_time_from_seconds(time_cases[_i].seconds), time_cases[_i].want);
}
END_TEST

/* The rounding as written before it was made shorter (truncate, then compare
 * the exact remainder with one half): the reference it must agree with. */
static asim_time ns_rounded_reference(double ns)
{
	if (!(ns > 0.0))
		return 0;
	if (ns >= 9223372036854775808.0)
		return ASIM_TIME_MAX;
	asim_time t = (asim_time)ns;
	return t + (ns - (double)t >= 0.5);
}

static void check_ns_around(double x)
{
	double lo = x, hi = x;
	for (int i = 0; i < 4; i++) {
		ck_assert_msg(asim_time_from_ns(lo) == ns_rounded_reference(lo), "%.17g", lo);
		ck_assert_msg(asim_time_from_ns(hi) == ns_rounded_reference(hi), "%.17g", hi);
		lo = nextafter(lo, -INFINITY);
		hi = nextafter(hi, INFINITY);
	}
}

/* asim_time_from_ns rounds half up exactly like the reference: around every
 * half-integer at every scale, every power of two up to and past 2^63, and
 * over random doubles of every exponent. */
START_TEST(kernel_time_from_ns_matches_reference)
{
	for (int e = -60; e <= 66; e++) {
		double p = ldexp(1.0, e);
		check_ns_around(p);
		check_ns_around(p + 0.5);
		check_ns_around(p - 0.5);
		check_ns_around(p * 1.5);
		check_ns_around(floor(p * 0.75) + 0.5);
	}
	check_ns_around(0.49999999999999994);
	check_ns_around(0.0);
	uint64_t x = 0x243f6a8885a308d3ULL, wrong = 0;
	double first_wrong = 0.0;
	for (int i = 0; i < 2000000; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		uint64_t r = x * 0x2545f4914f6cdd1dULL;
		/* A random mantissa at an exponent from 2^-4 to 2^64, and half of
		 * them moved onto a half-integer where that is representable. */
		double ns = ldexp(1.0 + (double)(r >> 12) / 4503599627370496.0, (int)(r % 69) - 4);
		if (r & 2048)
			ns = floor(ns) + 0.5;
		if (asim_time_from_ns(ns) != ns_rounded_reference(ns) && !wrong++)
			first_wrong = ns;
	}
	ck_assert_msg(wrong == 0, "%" PRIu64 " wrong, the first %.17g", wrong, first_wrong);
	ck_assert_int_eq(asim_time_from_ns(NAN), 0);
	ck_assert_int_eq(asim_time_from_ns(-0.0), 0);
	ck_assert_int_eq(asim_time_from_ns(INFINITY), ASIM_TIME_MAX);
}
END_TEST

START_TEST(kernel_time_from_seconds_special)
{
	ck_assert_int_eq(asim_time_from_seconds(NAN), 0);
	ck_assert_int_eq(asim_time_from_seconds(INFINITY), ASIM_TIME_MAX);
	ck_assert_int_eq(asim_time_from_seconds(-INFINITY), 0);
}
END_TEST

/* asim_pool_each visits every object once, handed out or free, and one
 * never handed out is zero: what a client relies on to find the requests
 * still open at the end of a run. */
struct pooled {
	void *link; /* the free list's, while free */
	int open;
};

static void count_pooled(void *ctx, void *obj)
{
	int *n = ctx;
	const struct pooled *o = obj;
	n[0]++;
	n[1] += o->open;
}

START_TEST(kernel_pool_each_finds_the_open_objects)
{
	struct asim_pool p;
	asim_pool_init(&p, sizeof(struct pooled), 4);
	struct pooled *o[6];
	for (int i = 0; i < 6; i++) {
		o[i] = asim_pool_take(&p);
		ck_assert_ptr_nonnull(o[i]);
		o[i]->open = 1;
	}
	o[1]->open = o[4]->open = 0;
	asim_pool_put(&p, o[1]);
	asim_pool_put(&p, o[4]);
	int n[2] = {0, 0};
	asim_pool_each(&p, count_pooled, n);
	ck_assert_int_eq(n[0], 8); /* two chunks of four: two never handed out */
	ck_assert_int_eq(n[1], 4);
	asim_pool_finish(&p);
}
END_TEST

static Suite *kernel_suite(void)
{
	Suite *s = suite_create("kernel");
	TCase *tc = tcase_create("core");
	/* The property test runs about a million kernel operations, checked
	 * one by one: seconds under ASan, longer on a busy machine. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, kernel_tie_order_is_fifo);
	tcase_add_test(tc, kernel_tie_order_mixes_fifo_and_heap);
	tcase_add_test(tc, kernel_tie_order_zero_delay_before_start_and_chain);
	tcase_add_test(tc, kernel_zero_delay_fifo_grows_in_order);
	tcase_add_test(tc, kernel_cancel_then_pop);
	tcase_add_test(tc, kernel_mass_cancel_clears_queue_in_order);
	tcase_add_loop_test(tc, kernel_random_schedule_cancel_matches_reference, 0, 3);
	tcase_add_test(tc, kernel_time_overflow_refused);
	tcase_add_test(tc, kernel_event_time_max_runs);
	tcase_add_test(tc, kernel_event_limit);
	tcase_add_test(tc, kernel_pending_limit);
	tcase_add_test(tc, kernel_run_until_leaves_time_at_until);
	tcase_add_test(tc, kernel_stop_returns_stopped);
	tcase_add_loop_test(tc, kernel_life_cycle_order_once, 0,
	                    (int)(sizeof(life_cases) / sizeof(life_cases[0])));
	tcase_add_test(tc, kernel_duplicate_names_refused);
	tcase_add_test(tc, kernel_many_components_and_streams_found);
	tcase_add_test(tc, kernel_ops_lookup);
	tcase_add_test(tc, kernel_events_counted_and_outcome);
	tcase_add_loop_test(tc, kernel_time_from_seconds, 0,
	                    (int)(sizeof(time_cases) / sizeof(time_cases[0])));
	tcase_add_test(tc, kernel_time_from_seconds_special);
	tcase_add_test(tc, kernel_time_from_ns_matches_reference);
	tcase_add_test(tc, kernel_pool_each_finds_the_open_objects);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kernel_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
