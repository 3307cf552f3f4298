/* Zipf-distributed ranks over a finite set {1..n}: P(k) proportional to
 * 1/k^alpha, for any alpha > 0.
 *
 * GSL has no bounded Zipf distribution, and the table-based alternative
 * (gsl_ran_discrete over n weights) costs O(n) memory, too much for key spaces
 * of millions. This is the rejection-inversion method of Hoermann and
 * Derflinger (1996): O(1) memory and expected O(1) time per sample, using
 * uniforms from a GSL generator. */
#ifndef ARCHSIM_ZIPF_H
#define ARCHSIM_ZIPF_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

struct asim_zipf {
	uint64_t n;
	double alpha;
	double h_x1, h_n, s; /* precomputed integrals of the hat function */
};

/* Prepares a sampler over {1..n} (n >= 1) with exponent alpha > 0. */
void asim_zipf_init(struct asim_zipf *z, uint64_t n, double alpha);
/* A rank in [1, n]; rank 1 is the most popular. */
uint64_t asim_zipf_sample(const struct asim_zipf *z, gsl_rng *r);

#endif
