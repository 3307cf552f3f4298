/* The pending-event set against a sorted reference. */
#include <check.h>
#include <stdlib.h>

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

START_TEST(evq_random_sequences_match_reference)
{
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
				ck_assert(asim_evq_push(&q, t, seq, slot));
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

static Suite *evq_suite(void)
{
	Suite *s = suite_create("evq");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, evq_random_sequences_match_reference);
	tcase_add_test(tc, evq_equal_times_pop_by_seq);
	tcase_add_test(tc, evq_large_queue_drains_in_order);
	tcase_add_test(tc, evq_reserve_then_push_does_not_grow);
	tcase_add_test(tc, evq_empty_pop_and_peek);
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
