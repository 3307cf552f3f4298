/* Distributions of durations (service times, think times, lags, delays).
 *
 * Sampling goes through GSL's generators and distributions; a sample is drawn
 * in double seconds and rounded once to integer nanoseconds. */
#ifndef ARCHSIM_DIST_H
#define ARCHSIM_DIST_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "archsim/cfg.h"
#include "archsim/rng.h"
#include "archsim/time.h"

enum asim_dist_kind {
	ASIM_DIST_CONSTANT,    /* value */
	ASIM_DIST_EXPONENTIAL, /* mean */
	ASIM_DIST_LOGNORMAL,   /* mean, cv  (converted to zeta, sigma) */
	ASIM_DIST_GAMMA,       /* mean, cv  (shape 1/cv^2) */
	ASIM_DIST_PARETO,      /* mean, alpha > 1 (scale from the mean) */
	ASIM_DIST_UNIFORM,     /* min, max */
	ASIM_DIST_EMPIRICAL,   /* a table of values with weights */
};

struct asim_dist {
	enum asim_dist_kind kind;
	double mean_s;          /* the distribution's mean, seconds */
	double a, b;            /* kind-specific parameters, seconds where times */
	gsl_ran_discrete_t *table; /* EMPIRICAL: owned walker table over weights */
	double *values_s;       /* EMPIRICAL: owned, one per weight */
	size_t nvalues;
};

/* Parses a distribution from a scenario value. Accepted forms:
 *   "4ms"                                  constant
 *   {dist: constant, value: 4ms}
 *   {dist: exponential, mean: 4ms}
 *   {dist: lognormal, mean: 4ms, cv: 0.5}
 *   {dist: gamma, mean: 4ms, cv: 0.5}
 *   {dist: pareto, mean: 4ms, alpha: 2.5}
 *   {dist: uniform, min: 1ms, max: 3ms}
 *   {dist: empirical, values: [1ms, 2ms, 10ms], weights: [0.7, 0.2, 0.1]}
 * ctx names the owner in messages. Returns false with diagnostics on error;
 * *out is then left zeroed and needs no asim_dist_finish(). */
bool asim_dist_from_cfg(const struct asim_cfg *node, const char *ctx, struct asim_dist *out,
                        struct asim_diag *d);

/* The same for map[key]; absent and optional leaves *out untouched. */
bool asim_cfg_dist(const struct asim_cfg *map, const char *key, enum asim_need need,
                   struct asim_dist *out, struct asim_diag *d);

/* Convenience constructors for code and tests. */
void asim_dist_constant(struct asim_dist *out, asim_time value);
void asim_dist_exponential(struct asim_dist *out, asim_time mean);

/* An exponential draw of the given mean, by Marsaglia and Tsang's ziggurat
 * ("The ziggurat method for generating random variables", J. Stat. Softw.
 * 5(8), 2000) with 256 layers, laid out as GSL lays out its ziggurat for the
 * normal (gsl_ran_gaussian_ziggurat): one 32-bit draw gives the layer (its
 * low 8 bits) and the point in it (the high 24), and 97.8% of draws end
 * there, with one multiplication; the rest go to the edge of a layer or the
 * tail (asim_ran_exponential_edge). Written by hand because GSL has no
 * ziggurat for the exponential, only inversion (gsl_ran_exponential: a
 * log1p per draw), and an exponential is drawn on most events (Poisson
 * arrivals, service times, network delays): with taus2 streams it made the
 * M/M/1 24% faster (bench/README.md, twentieth round). r must give 32 random
 * bits per gsl_rng_get (min 0, max 2^32 - 1), as archsim's streams
 * (taus2) and mt19937 do. tests/test_dist.c checks the distribution. */
struct asim_zig_exp {
	uint32_t k[256]; /* j < k[i]: (i, j) is inside layer i's rectangle */
	double w[256];   /* the point's x: j * w[i] (in units of the mean) */
	double f[256];   /* exp(-x) at layer i's right edge */
};
extern struct asim_zig_exp asim_zig_exp; /* set up before main (dist.c) */

double asim_ran_exponential_edge(const gsl_rng *r, uint32_t i, uint32_t j);

static inline double asim_ran_exponential(const gsl_rng *r, double mean)
{
	unsigned long bits = asim_rng_get(r);
	uint32_t i = (uint32_t)(bits & 0xff), j = (uint32_t)(bits >> 8) & 0xffffff;
	if (j < asim_zig_exp.k[i])
		return mean * ((double)j * asim_zig_exp.w[i]);
	return mean * asim_ran_exponential_edge(r, i, j);
}

/* Frees what an EMPIRICAL distribution owns; others own nothing. */
void asim_dist_finish(struct asim_dist *dist);

/* asim_dist_sample for any kind (dist.c). */
asim_time asim_dist_sample_kind(const struct asim_dist *dist, gsl_rng *r);

/* One sample, in nanoseconds (rounded once; never negative). The
 * exponential is drawn inline: it is the kind drawn on most events (Poisson
 * arrivals, network delays within a zone, service times), and its draw
 * costs less than the call and the switch that lead to it. */
static inline asim_time asim_dist_sample(const struct asim_dist *dist, gsl_rng *r)
{
	if (dist->kind == ASIM_DIST_EXPONENTIAL)
		return asim_time_from_seconds(asim_ran_exponential(r, dist->a));
	return asim_dist_sample_kind(dist, r);
}

/* Samples of one distribution from a stream that nothing else draws from,
 * drawn one ahead: take() hands out the sample drawn at the call before and
 * draws the next. The caller schedules an event with the sample, and the
 * event queue's insertion branches on its time, a branch no predictor can
 * learn; drawn on demand, that branch waited on the draw's chain of
 * dependent steps (the stream's state, the ziggurat's table, the
 * multiplications, the rounding) before it could resolve, and every
 * misprediction cost that wait as well. Drawn ahead, the sample is a load,
 * and the draw runs meanwhile, off the critical path (bench/README.md,
 * twenty-third round). The samples come in the same order, so results are
 * unchanged; the one left over at the end is never used. */
struct asim_dist_ahead {
	const struct asim_dist *dist;
	gsl_rng *r;
	asim_time next;
};

/* Draws the first sample. dist and r must outlive a. */
static inline void asim_dist_ahead_init(struct asim_dist_ahead *a, const struct asim_dist *dist,
                                        gsl_rng *r)
{
	a->dist = dist;
	a->r = r;
	a->next = asim_dist_sample(dist, r);
}

static inline asim_time asim_dist_ahead_take(struct asim_dist_ahead *a)
{
	asim_time t = a->next;
	a->next = asim_dist_sample(a->dist, a->r);
	return t;
}

/* The mean in seconds and the squared coefficient of variation. */
double asim_dist_mean(const struct asim_dist *dist);
double asim_dist_scv(const struct asim_dist *dist);

#endif
