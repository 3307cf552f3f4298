/* Random streams: keyed by name, never by creation order. */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "archsim/kernel.h"
#include "archsim/rng.h"

enum { DRAWS = 64 };

static void draws(gsl_rng *r, unsigned long *out)
{
	for (int i = 0; i < DRAWS; i++)
		out[i] = gsl_rng_get(r);
}

static bool same_draws(gsl_rng *a, gsl_rng *b)
{
	unsigned long x[DRAWS], y[DRAWS];
	draws(a, x);
	draws(b, y);
	for (int i = 0; i < DRAWS; i++)
		if (x[i] != y[i])
			return false;
	return true;
}

START_TEST(rng_streams_independent_of_creation_order)
{
	struct asim_kernel *k1 = asim_kernel_create(42, 0);
	struct asim_kernel *k2 = asim_kernel_create(42, 0);
	ck_assert_ptr_nonnull(k1);
	ck_assert_ptr_nonnull(k2);
	gsl_rng *a1 = asim_kernel_rng(k1, "users", "arrivals");
	gsl_rng *b1 = asim_kernel_rng(k1, "db", NULL);
	/* The other kernel creates them in the opposite order, with an extra
	 * stream in between that must not disturb either. */
	gsl_rng *b2 = asim_kernel_rng(k2, "db", NULL);
	ck_assert_ptr_nonnull(asim_kernel_rng(k2, "cache", "ttl"));
	gsl_rng *a2 = asim_kernel_rng(k2, "users", "arrivals");
	ck_assert(same_draws(a1, a2));
	ck_assert(same_draws(b1, b2));
	/* The same (name, purpose) gives back the same, owned stream. */
	ck_assert_ptr_eq(asim_kernel_rng(k1, "users", "arrivals"), a1);
	ck_assert_ptr_eq(asim_kernel_rng(k1, "db", NULL), b1);
	ck_assert_ptr_ne(asim_kernel_rng(k1, "db", ""), b1);
	asim_kernel_destroy(k1);
	asim_kernel_destroy(k2);
}
END_TEST

/* Each case differs from the base in one part of the key. */
struct key_case {
	const char *what;
	uint64_t seed;
	uint32_t rep;
	const char *name, *purpose;
};

static const struct key_case base = {"base", 42, 0, "users", "arrivals"};

static const struct key_case differ[] = {
	{"seed", 43, 0, "users", "arrivals"},
	{"replication", 42, 1, "users", "arrivals"},
	{"name", 42, 0, "user", "arrivals"},
	{"purpose", 42, 0, "users", "service"},
	{"no purpose", 42, 0, "users", NULL},
	{"empty purpose", 42, 0, "users", ""},
	{"name/purpose split", 42, 0, "usersa", "rrivals"},
	{"seed 0", 0, 0, "users", "arrivals"},
};

START_TEST(rng_key_parts_change_draws)
{
	const struct key_case *c = &differ[_i];
	ck_assert_msg(asim_rng_key(c->seed, c->rep, c->name, c->purpose) !=
	              asim_rng_key(base.seed, base.rep, base.name, base.purpose), "%s", c->what);
	gsl_rng *a = asim_rng_create(base.seed, base.rep, base.name, base.purpose);
	gsl_rng *b = asim_rng_create(c->seed, c->rep, c->name, c->purpose);
	ck_assert_msg(!same_draws(a, b), "%s gives the same draws", c->what);
	gsl_rng_free(a);
	gsl_rng_free(b);
}
END_TEST

START_TEST(rng_same_key_same_draws)
{
	gsl_rng *a = asim_rng_create(7, 3, "lb", "health");
	gsl_rng *b = asim_rng_create(7, 3, "lb", "health");
	ck_assert(same_draws(a, b));
	gsl_rng_free(a);
	gsl_rng_free(b);
	struct asim_kernel *k = asim_kernel_create(7, 3);
	a = asim_rng_create(7, 3, "lb", "health");
	ck_assert(same_draws(a, asim_kernel_rng(k, "lb", "health")));
	gsl_rng_free(a);
	asim_kernel_destroy(k);
}
END_TEST

/* Known answers, pinned from the first implementation: a change here changes
 * every simulation result, so it must be deliberate. */
#define KEY_USERS_ARRIVALS UINT64_C(0xdd8aa1bd12c0ff40)
#define KEY_EMPTY UINT64_C(0x47341b49a3d98786)
#define KEY_DB_LAG UINT64_C(0x92413f202a587c1a)
#define FIRST_DRAW 1597942465UL

START_TEST(rng_key_known_answers)
{
	ck_assert_uint_eq(asim_rng_key(42, 0, "users", "arrivals"), KEY_USERS_ARRIVALS);
	ck_assert_uint_eq(asim_rng_key(0, 0, "", NULL), KEY_EMPTY);
	ck_assert_uint_eq(asim_rng_key(UINT64_MAX, 7, "db", "lag"), KEY_DB_LAG);
#ifdef ARCHSIM_STREAM_SALT
	/* A salted stream (tests/salted.sh) has other draws by design. */
	if (getenv("ARCHSIM_STREAM_SALT"))
		return;
#endif
	gsl_rng *r = asim_rng_create(42, 0, "users", "arrivals");
	ck_assert_str_eq(gsl_rng_name(r), "taus2");
	ck_assert_uint_eq(gsl_rng_get(r), FIRST_DRAW);
	gsl_rng_free(r);
	/* The stream is GSL's taus2 seeded with the key folded to 32 bits. */
	r = gsl_rng_alloc(gsl_rng_taus2);
	ck_assert_ptr_nonnull(r);
	gsl_rng_set(r, (unsigned long)(uint32_t)(KEY_USERS_ARRIVALS ^ (KEY_USERS_ARRIVALS >> 32)));
	ck_assert_uint_eq(gsl_rng_get(r), FIRST_DRAW);
	gsl_rng_free(r);
}
END_TEST

/* archsim's taus2 (rng.h) is GSL's, computed where the hot path can inline
 * it: the same words, doubles and derived draws as gsl_rng_taus2 from the
 * same seed, including the seeds GSL treats specially (0 is taken as 1;
 * the LCG reduces a seed mod 2^32, and a seed of 2^32 is not 0 to GSL), and
 * through the inline draws as through GSL's own calls. */
START_TEST(rng_taus2_matches_gsl)
{
	const unsigned long seeds[] = {0, 1, 2, 3, 7, 42, 69069, 0x6a09e667u, 0xffffffffu,
	                               (unsigned long)UINT32_MAX + 1,
	                               (unsigned long)UINT64_C(0x123456789abcdef), ULONG_MAX};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		gsl_rng *ours = gsl_rng_alloc(asim_rng_taus2), *gsl = gsl_rng_alloc(gsl_rng_taus2);
		ck_assert_ptr_nonnull(ours);
		ck_assert_ptr_nonnull(gsl);
		ck_assert_uint_eq(gsl_rng_max(ours), gsl_rng_max(gsl));
		ck_assert_uint_eq(gsl_rng_min(ours), gsl_rng_min(gsl));
		gsl_rng_set(ours, seeds[i]);
		gsl_rng_set(gsl, seeds[i]);
		for (int n = 0; n < 10000; n++) {
			switch (n % 5) {
			case 0:
				ck_assert_uint_eq(asim_rng_get(ours), gsl_rng_get(gsl));
				break;
			case 1:
				ck_assert_uint_eq(gsl_rng_get(ours), gsl_rng_get(gsl));
				break;
			case 2:
				ck_assert(asim_rng_uniform(ours) == gsl_rng_uniform(gsl));
				break;
			case 3:
				ck_assert(gsl_rng_uniform_pos(ours) == gsl_rng_uniform_pos(gsl));
				break;
			default:
				ck_assert_uint_eq(gsl_rng_uniform_int(ours, 1000003),
				                  gsl_rng_uniform_int(gsl, 1000003));
				break;
			}
		}
		/* A copy continues the same sequence (replications clone no
		 * streams, but GSL's copy must work on the type). */
		gsl_rng *copy = gsl_rng_clone(ours);
		ck_assert_ptr_nonnull(copy);
		ck_assert_uint_eq(gsl_rng_get(copy), gsl_rng_get(gsl));
		gsl_rng_free(copy);
		gsl_rng_free(ours);
		gsl_rng_free(gsl);
	}
}
END_TEST

/* The inline draws fall back to GSL's for a generator of another type. */
START_TEST(rng_inline_draws_other_types)
{
	gsl_rng *a = gsl_rng_alloc(gsl_rng_mt19937), *b = gsl_rng_alloc(gsl_rng_mt19937);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	for (int n = 0; n < 1000; n++) {
		ck_assert_uint_eq(asim_rng_get(a), gsl_rng_get(b));
		ck_assert(asim_rng_uniform(a) == gsl_rng_uniform(b));
	}
	gsl_rng_free(a);
	gsl_rng_free(b);
}
END_TEST

static Suite *rng_suite(void)
{
	Suite *s = suite_create("rng");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, rng_streams_independent_of_creation_order);
	tcase_add_loop_test(tc, rng_key_parts_change_draws, 0,
	                    (int)(sizeof(differ) / sizeof(differ[0])));
	tcase_add_test(tc, rng_same_key_same_draws);
	tcase_add_test(tc, rng_key_known_answers);
	tcase_add_test(tc, rng_taus2_matches_gsl);
	tcase_add_test(tc, rng_inline_draws_other_types);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rng_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
