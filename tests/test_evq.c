/* The pending-event set against a sorted reference. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/evq.h"

static int cmp_entry(const void *pa, const void *pb)
{
	const struct asim_evq_entry *a = pa, *b = pb;
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

/* A deterministic generator for the property test (xorshift64*). */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* The reference is an unsorted array; its minimum is found with qsort each
 * time an entry is popped, which is slow but obviously right. */
struct ref {
	struct asim_evq_entry *e;
	size_t n;
};

static struct asim_evq_entry ref_pop(struct ref *r)
{
	qsort(r->e, r->n, sizeof(*r->e), cmp_entry);
	struct asim_evq_entry min = r->e[0];
	r->e[0] = r->e[--r->n];
	return min;
}

/* _i = 1 pushes with asim_evq_push_newest, which the kernel uses: its
 * sequence numbers rise, as here, so the order must be push's. */
START_TEST(evq_random_sequences_match_reference)
{
	bool newest = _i == 1;
	uint64_t rs = 0x9e3779b97f4a7c15ULL;
	for (int round = 0; round < 3000; round++) {
		struct asim_evq q;
		asim_evq_init(&q);
		size_t ops = 1 + next_rand(&rs) % 300;
		/* Small time ranges force many ties, large ones almost none. */
		uint64_t span = (round % 3 == 0) ? 4 : (round % 3 == 1) ? 1000 : UINT64_C(1) << 40;
		unsigned push_pct = 30 + (unsigned)(next_rand(&rs) % 60);
		struct ref r = {malloc(ops * sizeof(*r.e)), 0};
		ck_assert_ptr_nonnull(r.e);
		uint64_t seq = 1;
		asim_time floor = 0;
		for (size_t i = 0; i < ops; i++) {
			if (next_rand(&rs) % 100 < push_pct) {
				/* Like the kernel, never push before the last pop. */
				asim_time t = floor + (asim_time)(next_rand(&rs) % span);
				uint32_t slot = (uint32_t)(next_rand(&rs) & 0xffffffffu);
				ck_assert(newest ? asim_evq_push_newest(&q, t, seq, slot)
				                 : asim_evq_push(&q, t, seq, slot));
				r.e[r.n++] = (struct asim_evq_entry){t, seq, slot};
				seq++;
			} else {
				struct asim_evq_entry got;
				bool ok = asim_evq_pop(&q, &got);
				ck_assert_int_eq(ok, r.n > 0);
				if (!ok)
					continue;
				struct asim_evq_entry want = ref_pop(&r);
				ck_assert_int_eq(got.time, want.time);
				ck_assert_uint_eq(got.seq, want.seq);
				ck_assert_uint_eq(got.slot, want.slot);
				floor = got.time;
			}
			ck_assert_uint_eq(asim_evq_size(&q), r.n);
			if (r.n) {
				const struct asim_evq_entry *top = asim_evq_peek(&q);
				ck_assert_ptr_nonnull(top);
			}
		}
		/* Drain what is left. */
		struct asim_evq_entry got;
		while (r.n) {
			ck_assert(asim_evq_pop(&q, &got));
			struct asim_evq_entry want = ref_pop(&r);
			ck_assert_int_eq(got.time, want.time);
			ck_assert_uint_eq(got.seq, want.seq);
			ck_assert_uint_eq(got.slot, want.slot);
		}
		ck_assert(!asim_evq_pop(&q, &got));
		free(r.e);
		asim_evq_finish(&q);
	}
}
END_TEST

START_TEST(evq_equal_times_pop_by_seq)
{
	struct asim_evq q;
	asim_evq_init(&q);
	/* Push seqs in a scrambled order at one instant. */
	static const uint64_t seqs[] = {7, 3, 9, 1, 5, 2, 8, 6, 4, 10};
	for (size_t i = 0; i < 10; i++)
		ck_assert(asim_evq_push(&q, 42, seqs[i], (uint32_t)seqs[i] * 10));
	for (uint64_t want = 1; want <= 10; want++) {
		struct asim_evq_entry e;
		ck_assert(asim_evq_pop(&q, &e));
		ck_assert_int_eq(e.time, 42);
		ck_assert_uint_eq(e.seq, want);
		ck_assert_uint_eq(e.slot, want * 10);
	}
	asim_evq_finish(&q);
}
END_TEST

START_TEST(evq_large_queue_drains_in_order)
{
	/* Big enough to take the prefetching path of the pop. */
	enum { N = 100000 };
	struct asim_evq q;
	asim_evq_init(&q);
	uint64_t rs = 12345;
	for (uint64_t i = 1; i <= N; i++)
		ck_assert(asim_evq_push(&q, (asim_time)(next_rand(&rs) % 5000), i, (uint32_t)i));
	struct asim_evq_entry prev = {-1, 0, 0}, e;
	size_t n = 0;
	while (asim_evq_pop(&q, &e)) {
		ck_assert(prev.time < e.time || (prev.time == e.time && prev.seq < e.seq));
		prev = e;
		n++;
	}
	ck_assert_uint_eq(n, N);
	asim_evq_finish(&q);
}
END_TEST

START_TEST(evq_reserve_then_push_does_not_grow)
{
	struct asim_evq q;
	asim_evq_init(&q);
	ck_assert_uint_eq(q.capacity, 0);
	ck_assert(asim_evq_reserve(&q, 1000));
	ck_assert_uint_ge(q.capacity, 1000);
	const struct asim_evq_entry *heap = q.heap;
	size_t cap = q.capacity;
	for (uint64_t i = 0; i < 1000; i++)
		ck_assert(asim_evq_push(&q, (asim_time)(1000 - i), i + 1, 0));
	ck_assert_ptr_eq(q.heap, heap);
	ck_assert_uint_eq(q.capacity, cap);
	/* A smaller reserve changes nothing. */
	ck_assert(asim_evq_reserve(&q, 10));
	ck_assert_uint_eq(q.capacity, cap);
	ck_assert_int_eq(asim_evq_peek(&q)->time, 1);
	asim_evq_finish(&q);
}
END_TEST

START_TEST(evq_empty_pop_and_peek)
{
	struct asim_evq q;
	asim_evq_init(&q);
	struct asim_evq_entry e = {99, 99, 99};
	ck_assert(!asim_evq_pop(&q, &e));
	ck_assert_ptr_null(asim_evq_peek(&q));
	ck_assert_uint_eq(asim_evq_size(&q), 0);
	ck_assert(asim_evq_push(&q, 5, 1, 2));
	ck_assert(asim_evq_pop(&q, &e));
	ck_assert(!asim_evq_pop(&q, &e));
	asim_evq_finish(&q);
	/* Finish leaves a reusable, empty queue; finishing twice is harmless. */
	asim_evq_finish(&q);
	ck_assert_ptr_null(asim_evq_peek(&q));
}
END_TEST

/* The reference for the larger tests: a sorted array, insertion by binary
 * search. Obviously right, and fast enough for a few thousand entries. */
struct sorted_ref {
	struct asim_evq_entry *e;
	size_t head, n, cap;
};

static void sref_push(struct sorted_ref *r, struct asim_evq_entry x)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 1024;
		r->e = realloc(r->e, r->cap * sizeof(*r->e));
		ck_assert_ptr_nonnull(r->e);
	}
	size_t lo = r->head, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_entry(&x, &r->e[mid]) < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	memmove(&r->e[lo + 1], &r->e[lo], (r->n - lo) * sizeof(x));
	r->e[lo] = x;
	r->n++;
}

static struct asim_evq_entry sref_pop(struct sorted_ref *r)
{
	struct asim_evq_entry x = r->e[r->head++];
	if (r->head == r->n)
		r->head = r->n = 0;
	return x;
}

static size_t sref_size(const struct sorted_ref *r)
{
	return r->n - r->head;
}

/* Increments of several shapes, so that rungs are made and spilled: ties,
 * narrow and wide uniform, and heavy-tailed (a random power of two scale). */
static asim_time draw_increment(uint64_t *rs, int shape)
{
	uint64_t x = next_rand(rs);
	switch (shape) {
	case 0: return (asim_time)(x % 3);
	case 1: return (asim_time)(x % 1000);
	case 2: return (asim_time)(x % (UINT64_C(1) << 40));
	default: return (asim_time)((x >> 8) % (UINT64_C(1) << (x % 48)));
	}
}

static void expect_same(struct asim_evq *q, struct sorted_ref *r)
{
	struct asim_evq_entry got;
	ck_assert(asim_evq_pop(q, &got));
	struct asim_evq_entry want = sref_pop(r);
	ck_assert_int_eq(got.time, want.time);
	ck_assert_uint_eq(got.seq, want.seq);
	ck_assert_uint_eq(got.slot, want.slot);
}

/* Random interleavings of pushes and pops on each structure, in phases that
 * grow, hover and shrink, against the sorted reference. Pushes are never
 * before the last pop, as in the kernel, except in the last shape of
 * round 3, which pushes anywhere from 0. */
static void run_phases(enum asim_evq_mode mode, int rounds, size_t scale)
{
	uint64_t rs = 0x853c49e6748fea9bULL + (uint64_t)mode;
	for (int round = 0; round < rounds; round++) {
		struct asim_evq q;
		asim_evq_init(&q);
		ck_assert(asim_evq_set_mode(&q, mode));
		struct sorted_ref r = {0};
		int shape = round % 4;
		bool anywhere = round % 8 == 7;
		uint64_t seq = 1;
		asim_time floor = 0;
		static const unsigned push_pct[] = {90, 50, 20, 55, 100, 0};
		for (size_t ph = 0; ph < sizeof(push_pct) / sizeof(push_pct[0]); ph++) {
			size_t ops = scale / 2 + next_rand(&rs) % scale;
			for (size_t i = 0; i < ops; i++) {
				if (next_rand(&rs) % 100 < push_pct[ph]) {
					asim_time base = anywhere ? (asim_time)(next_rand(&rs) % 2 ? 0 : floor) : floor;
					asim_time t = base + draw_increment(&rs, shape);
					struct asim_evq_entry e = {t, seq++, (uint32_t)next_rand(&rs)};
					ck_assert(asim_evq_push(&q, e.time, e.seq, e.slot));
					sref_push(&r, e);
				} else if (sref_size(&r)) {
					floor = r.e[r.head].time;
					expect_same(&q, &r);
				} else {
					struct asim_evq_entry got;
					ck_assert(!asim_evq_pop(&q, &got));
				}
				ck_assert_uint_eq(asim_evq_size(&q), sref_size(&r));
				if (sref_size(&r)) {
					const struct asim_evq_entry *top = asim_evq_peek(&q);
					ck_assert_ptr_nonnull(top);
					ck_assert_uint_eq(top->seq, r.e[r.head].seq);
				} else {
					ck_assert_ptr_null(asim_evq_peek(&q));
				}
			}
		}
		while (sref_size(&r))
			expect_same(&q, &r);
		ck_assert(!q.nomem);
		free(r.e);
		asim_evq_finish(&q);
	}
}

START_TEST(evq_ladder_random_phases_match_reference)
{
	run_phases(ASIM_EVQ_LADDER, 64, 3000);
}
END_TEST

/* A textbook binary heap, the reference where the sorted array would be
 * too slow (tens of thousands of entries at random places). */
struct bin_ref {
	struct asim_evq_entry *h;
	size_t n;
};

static void bref_push(struct bin_ref *r, struct asim_evq_entry e)
{
	size_t i = r->n++;
	for (; i > 0 && cmp_entry(&e, &r->h[(i - 1) / 2]) < 0; i = (i - 1) / 2)
		r->h[i] = r->h[(i - 1) / 2];
	r->h[i] = e;
}

static struct asim_evq_entry bref_pop(struct bin_ref *r)
{
	struct asim_evq_entry top = r->h[0], last = r->h[--r->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= r->n)
			break;
		if (c + 1 < r->n && cmp_entry(&r->h[c + 1], &r->h[c]) < 0)
			c++;
		if (cmp_entry(&r->h[c], &last) >= 0)
			break;
		r->h[i] = r->h[c];
		i = c;
	}
	r->h[i] = last;
	return top;
}

struct phase {
	unsigned push_pct;
	size_t ops;
};

/* What structures an AUTO queue went through. */
struct seen {
	bool ladder, ladder_then_heap;
	bool heap, heap_then_sorted;
};

/* Runs the phases on an AUTO queue against the binary-heap reference,
 * with increments of the given shape drawn from the given seed, and records
 * the switches. */
static void run_auto(const struct phase *phases, size_t nphases, int shape, uint64_t seed,
                     struct seen *seen)
{
	size_t most = 0;
	for (size_t ph = 0; ph < nphases; ph++)
		most += phases[ph].ops;
	uint64_t rs = seed, seq = 1;
	struct asim_evq q;
	asim_evq_init(&q);
	ck_assert(q.sorted);
	struct bin_ref r = {malloc(most * sizeof(*r.h)), 0};
	ck_assert_ptr_nonnull(r.h);
	asim_time floor = 0;
	for (size_t ph = 0; ph < nphases; ph++) {
		for (size_t i = 0; i < phases[ph].ops; i++) {
			if (next_rand(&rs) % 100 < phases[ph].push_pct) {
				struct asim_evq_entry e = {floor + draw_increment(&rs, shape), seq++,
				                           (uint32_t)i};
				ck_assert(asim_evq_push(&q, e.time, e.seq, e.slot));
				bref_push(&r, e);
			} else if (r.n) {
				struct asim_evq_entry got, want = bref_pop(&r);
				ck_assert(asim_evq_pop(&q, &got));
				ck_assert_int_eq(got.time, want.time);
				ck_assert_uint_eq(got.seq, want.seq);
				ck_assert_uint_eq(got.slot, want.slot);
				floor = got.time;
			}
			ck_assert_uint_eq(asim_evq_size(&q), r.n);
			if (r.n)
				ck_assert_uint_eq(asim_evq_peek(&q)->seq, r.h[0].seq);
			else
				ck_assert_ptr_null(asim_evq_peek(&q));
			seen->ladder_then_heap |= seen->ladder && q.ladder == NULL;
			seen->ladder |= q.ladder != NULL;
			seen->heap_then_sorted |= seen->heap && q.sorted;
			seen->heap |= !q.ladder && !q.sorted;
		}
	}
	ck_assert_uint_eq(asim_evq_size(&q), 0);
	free(r.h);
	asim_evq_finish(&q);
}

START_TEST(evq_auto_switches_both_ways_in_order)
{
	/* Up past the switch to the ladder, down below the switch back, up
	 * again, then drained; interleaved pops and pushes throughout. */
	static const struct phase phases[] = {{100, 40000}, {50, 20000}, {5, 45000},
	                                      {95, 45000},  {50, 20000}, {0, 50000}};
	for (int shape = 0; shape < 4; shape++) {
		struct seen seen = {0};
		run_auto(phases, sizeof(phases) / sizeof(phases[0]), shape, 77 + (uint64_t)shape, &seen);
		ck_assert(seen.ladder);
		ck_assert(seen.ladder_then_heap);
		ck_assert(seen.heap_then_sorted);
	}
}
END_TEST

START_TEST(evq_auto_small_queue_sorts_and_heaps_in_order)
{
	/* Sizes hovering around the switch between the sorted array and the
	 * heap: up to about a hundred, down to a few, and again, many times. */
	static const struct phase phases[] = {{90, 120}, {40, 200}, {10, 120}, {60, 200},
	                                      {90, 100}, {50, 400}, {20, 300}, {70, 300},
	                                      {0, 200}};
	for (int shape = 0; shape < 4; shape++) {
		for (int round = 0; round < 50; round++) {
			struct seen seen = {0};
			run_auto(phases, sizeof(phases) / sizeof(phases[0]), shape,
			         1000 + (uint64_t)(4 * round + shape), &seen);
			ck_assert(!seen.ladder);
			ck_assert(seen.heap_then_sorted);
		}
	}
}
END_TEST

START_TEST(evq_pinned_heap_and_sorted_match_reference)
{
	run_phases(ASIM_EVQ_HEAP, 16, 300);
	run_phases(ASIM_EVQ_SORTED, 16, 300);
}
END_TEST

/* remove_if drops exactly the entries asked for, and the others still come
 * out in order, from every structure: the sorted array, the heap, the ladder
 * pinned, and AUTO at a size of each. */
static bool drop_odd_slot(void *ctx, const struct asim_evq_entry *e)
{
	(void)ctx;
	return e->slot % 2;
}

static const struct {
	enum asim_evq_mode mode;
	size_t n;
} removal_cases[] = {
	{ASIM_EVQ_AUTO, 10},    {ASIM_EVQ_AUTO, 300},  {ASIM_EVQ_AUTO, 40000},
	{ASIM_EVQ_SORTED, 300}, {ASIM_EVQ_HEAP, 300}, {ASIM_EVQ_LADDER, 3000},
};

START_TEST(evq_remove_if_keeps_order)
{
	size_t n = removal_cases[_i].n;
	struct asim_evq q;
	asim_evq_init(&q);
	ck_assert(asim_evq_set_mode(&q, removal_cases[_i].mode));
	struct sorted_ref r = {0};
	uint64_t rs = 4242 + (uint64_t)_i;
	/* Pop a few first, so that the structures are past their first fill. */
	for (uint64_t i = 1; i <= n + 8; i++) {
		struct asim_evq_entry e = {(asim_time)(next_rand(&rs) % (4 * n)), i,
		                           (uint32_t)next_rand(&rs)};
		ck_assert(asim_evq_push(&q, e.time, e.seq, e.slot));
		if (!(e.slot % 2))
			sref_push(&r, e);
	}
	size_t kept = sref_size(&r);
	for (int i = 0; i < 8; i++) {
		struct asim_evq_entry got;
		ck_assert(asim_evq_pop(&q, &got));
		if (!(got.slot % 2)) {
			struct asim_evq_entry want = sref_pop(&r);
			ck_assert_uint_eq(got.seq, want.seq);
			kept--;
		}
	}
	size_t before = asim_evq_size(&q);
	ck_assert_uint_eq(asim_evq_remove_if(&q, drop_odd_slot, NULL), before - kept);
	ck_assert_uint_eq(asim_evq_size(&q), kept);
	while (sref_size(&r)) {
		ck_assert_uint_eq(asim_evq_peek(&q)->seq, r.e[r.head].seq);
		expect_same(&q, &r);
	}
	struct asim_evq_entry got;
	ck_assert(!asim_evq_pop(&q, &got));
	free(r.e);
	asim_evq_finish(&q);
}
END_TEST

START_TEST(evq_ladder_equal_times_pop_by_seq)
{
	/* Thousands of entries at a few instants: buckets that cannot be split. */
	struct asim_evq q;
	asim_evq_init(&q);
	ck_assert(asim_evq_set_mode(&q, ASIM_EVQ_LADDER));
	enum { N = 5000 };
	for (uint64_t i = 1; i <= N; i++)
		ck_assert(asim_evq_push(&q, (asim_time)(i % 3) * 1000, i, (uint32_t)i));
	for (uint64_t k = 0; k < 3; k++) {
		uint64_t prev = 0;
		uint64_t count = (N + (3 - k) % 3) / 3; /* i in 1..N with i % 3 == k */
		for (uint64_t i = 0; i < count; i++) {
			struct asim_evq_entry e;
			ck_assert(asim_evq_pop(&q, &e));
			ck_assert_int_eq(e.time, (asim_time)k * 1000);
			ck_assert_uint_gt(e.seq, prev);
			ck_assert_uint_eq(e.seq % 3, k);
			prev = e.seq;
		}
	}
	ck_assert_uint_eq(asim_evq_size(&q), 0);
	asim_evq_finish(&q);
}
END_TEST

/* Queues large enough that spreading one container over a rung would take
 * more buckets than a rung may have (ladder.c, MAX_BUCKETS): the capped
 * rungs leave crowded buckets that are spread again when opened. The ladder
 * must still pop exactly what a heap pops, entry for entry, through a fill,
 * holds with heavy-tailed and then narrow increments, and a drain. */
START_TEST(evq_ladder_capped_rungs_match_heap)
{
	enum { N = 60000 };
	struct asim_evq lad, heap;
	asim_evq_init(&lad);
	asim_evq_init(&heap);
	ck_assert(asim_evq_set_mode(&lad, ASIM_EVQ_LADDER));
	ck_assert(asim_evq_set_mode(&heap, ASIM_EVQ_HEAP));
	uint64_t rs = 777, seq = 1;
	for (uint32_t i = 0; i < N; i++) {
		asim_time t = draw_increment(&rs, 3);
		ck_assert(asim_evq_push(&lad, t, seq, i));
		ck_assert(asim_evq_push(&heap, t, seq++, i));
	}
	for (int phase = 0; phase < 3; phase++) {
		for (uint32_t i = 0; i < N; i++) {
			struct asim_evq_entry a, b;
			ck_assert(asim_evq_pop(&lad, &a));
			ck_assert(asim_evq_pop(&heap, &b));
			ck_assert_int_eq(a.time, b.time);
			ck_assert_uint_eq(a.seq, b.seq);
			ck_assert_uint_eq(a.slot, b.slot);
			asim_time t = a.time + draw_increment(&rs, phase == 1 ? 1 : 3);
			ck_assert(asim_evq_push(&lad, t, seq, a.slot));
			ck_assert(asim_evq_push(&heap, t, seq++, a.slot));
		}
	}
	struct asim_evq_entry a, b;
	while (asim_evq_pop(&heap, &b)) {
		ck_assert(asim_evq_pop(&lad, &a));
		ck_assert_int_eq(a.time, b.time);
		ck_assert_uint_eq(a.seq, b.seq);
	}
	ck_assert(!asim_evq_pop(&lad, &a));
	asim_evq_finish(&lad);
	asim_evq_finish(&heap);
}
END_TEST

START_TEST(evq_ladder_memory_stays_bounded)
{
	/* A long hold run whose increments alternate between heavy-tailed and
	 * narrow, so rungs of all sizes come and go: the storage stays within a
	 * few words per entry, and settles rather than creeping up. */
	enum { N = 20000, ROUNDS = 60 };
	struct asim_evq q;
	asim_evq_init(&q);
	ck_assert(asim_evq_set_mode(&q, ASIM_EVQ_LADDER));
	uint64_t rs = 99, seq = 1;
	for (uint32_t i = 0; i < N; i++)
		ck_assert(asim_evq_push(&q, draw_increment(&rs, 3), seq++, i));
	size_t middle = 0, late = 0;
	for (int round = 0; round < ROUNDS; round++) {
		for (uint32_t i = 0; i < N; i++) {
			struct asim_evq_entry e;
			ck_assert(asim_evq_pop(&q, &e));
			ck_assert(asim_evq_push(&q, e.time + draw_increment(&rs, 3 - round % 2 * 2), seq++,
			                        e.slot));
		}
		size_t bytes = asim_evq_bytes(&q);
		ck_assert_uint_le(bytes, (size_t)N * 256);
		if (round >= ROUNDS / 3 && round < 2 * ROUNDS / 3 && bytes > middle)
			middle = bytes;
		if (round >= 2 * ROUNDS / 3 && bytes > late)
			late = bytes;
	}
	ck_assert_uint_le(late, middle + middle / 4);
	asim_evq_finish(&q);
}
END_TEST

static Suite *evq_suite(void)
{
	Suite *s = suite_create("evq");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, evq_random_sequences_match_reference, 0, 2);
	tcase_add_test(tc, evq_equal_times_pop_by_seq);
	tcase_add_test(tc, evq_large_queue_drains_in_order);
	tcase_add_test(tc, evq_reserve_then_push_does_not_grow);
	tcase_add_test(tc, evq_empty_pop_and_peek);
	tcase_add_test(tc, evq_ladder_random_phases_match_reference);
	tcase_add_test(tc, evq_auto_switches_both_ways_in_order);
	tcase_add_test(tc, evq_auto_small_queue_sorts_and_heaps_in_order);
	tcase_add_test(tc, evq_pinned_heap_and_sorted_match_reference);
	tcase_add_loop_test(tc, evq_remove_if_keeps_order, 0,
	                    (int)(sizeof removal_cases / sizeof removal_cases[0]));
	tcase_add_test(tc, evq_ladder_equal_times_pop_by_seq);
	tcase_add_test(tc, evq_ladder_memory_stays_bounded);
	tcase_add_test(tc, evq_ladder_capped_rungs_match_heap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(evq_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
