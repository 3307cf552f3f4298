#include "archsim/zipf.h"

#include <math.h>

/* log1p(x)/x, continued smoothly through x = 0 where the quotient is 0/0. */
static double log1p_over(double x)
{
	if (fabs(x) > 1e-8)
		return log1p(x) / x;
	return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

/* expm1(x)/x, likewise continued through x = 0. */
static double expm1_over(double x)
{
	if (fabs(x) > 1e-8)
		return expm1(x) / x;
	return 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
}

/* The hat function h(x) = x^-alpha and its integral H and inverse, written so
 * that alpha = 1 (where the integral becomes a logarithm) needs no special case. */
static double h(const struct asim_zipf *z, double x)
{
	return exp(-z->alpha * log(x));
}

static double h_integral(const struct asim_zipf *z, double x)
{
	double lx = log(x);
	return expm1_over((1.0 - z->alpha) * lx) * lx;
}

static double h_integral_inverse(const struct asim_zipf *z, double x)
{
	double t = x * (1.0 - z->alpha);
	if (t < -1.0)
		t = -1.0; /* rounding can push t just below the domain of log1p */
	return exp(log1p_over(t) * x);
}

void asim_zipf_init(struct asim_zipf *z, uint64_t n, double alpha)
{
	z->n = n ? n : 1;
	z->alpha = alpha;
	z->h_x1 = h_integral(z, 1.5) - 1.0;
	z->h_n = h_integral(z, (double)z->n + 0.5);
	z->s = 2.0 - h_integral_inverse(z, h_integral(z, 2.5) - h(z, 2.0));
}

uint64_t asim_zipf_sample(const struct asim_zipf *z, gsl_rng *r)
{
	if (z->n == 1)
		return 1;
	for (;;) {
		double u = z->h_n + gsl_rng_uniform(r) * (z->h_x1 - z->h_n);
		double x = h_integral_inverse(z, u);
		double kd = floor(x + 0.5);
		if (kd < 1.0)
			kd = 1.0;
		else if (kd > (double)z->n)
			kd = (double)z->n;
		if (kd - x <= z->s || u >= h_integral(z, kd + 0.5) - h(z, kd))
			return (uint64_t)kd;
	}
}
