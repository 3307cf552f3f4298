/* Random streams keyed by (seed, replication, name, purpose). */
#include <stddef.h>
#include <stdlib.h>

#include "archsim/rng.h"

/* The SplitMix64 finaliser: a bijection that spreads every input bit over
 * the whole word, so nearby seeds and replications give unrelated keys. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3u;
	}
	return h;
}

/* taus2's seeding as GSL does it: the seed (0 taken as 1) through the LCG
 * 69069, each component kept above the bits its step discards, then six
 * steps to warm it up. */
static void taus2_set(void *state, unsigned long seed)
{
	struct asim_taus2_state *st = state;
	uint32_t s = (uint32_t)(seed ? seed : 1); /* the LCG works mod 2^32 */
	st->s1 = 69069u * s;
	if (st->s1 < 2)
		st->s1 += 2;
	st->s2 = 69069u * st->s1;
	if (st->s2 < 8)
		st->s2 += 8;
	st->s3 = 69069u * st->s2;
	if (st->s3 < 16)
		st->s3 += 16;
	for (int i = 0; i < 6; i++)
		asim_taus2_next(st);
}

static unsigned long taus2_get(void *state)
{
	return asim_taus2_next(state);
}

static double taus2_get_double(void *state)
{
	return asim_taus2_double(state);
}

static const gsl_rng_type taus2_type = {
	.name = "taus2",
	.max = 0xffffffffUL,
	.min = 0,
	.size = sizeof(struct asim_taus2_state),
	.set = taus2_set,
	.get = taus2_get,
	.get_double = taus2_get_double,
};

const gsl_rng_type *const asim_rng_taus2 = &taus2_type;

/* taus2 takes seed 0 as its default seed 1, so a zero fold would share
 * stream 1's sequence; it takes this value instead. */
enum { ZERO_FOLD_SEED = 0x6a09e667u };

uint64_t asim_rng_key(uint64_t seed, uint32_t replication, const char *name,
                      const char *purpose)
{
	uint64_t h = fnv1a(0xcbf29ce484222325u, name ? name : "");
	/* A separator byte keeps ("ab", "c") apart from ("a", "bc"), and a
	 * different one keeps a NULL purpose apart from an empty one. */
	h ^= purpose ? 0x1f : 0x1e;
	h *= 0x100000001b3u;
	if (purpose)
		h = fnv1a(h, purpose);
	uint64_t k = mix(seed + 0x9e3779b97f4a7c15u);
	k = mix(k ^ ((uint64_t)replication * 0xd1b54a32d192ed03u + 0x8cb92ba72f3d8dd7u));
	return mix(k ^ h);
}

gsl_rng *asim_rng_create(uint64_t seed, uint32_t replication, const char *name,
                         const char *purpose)
{
	gsl_rng *r = gsl_rng_alloc(asim_rng_taus2);
	if (!r)
		return NULL;
	uint64_t key = asim_rng_key(seed, replication, name, purpose);
#ifdef ARCHSIM_STREAM_SALT
	/* Test builds only (meson -Dstream_salt=true, tests/salted.sh): every
	 * stream moves with the salt, so that the suite can be run on streams
	 * other than the ones its checks were written on. */
	const char *salt = getenv("ARCHSIM_STREAM_SALT");
	if (salt)
		key = mix(key ^ mix(strtoull(salt, NULL, 10) + 1));
#endif
	uint32_t fold = (uint32_t)(key ^ (key >> 32));
	gsl_rng_set(r, fold ? fold : ZERO_FOLD_SEED);
	return r;
}
