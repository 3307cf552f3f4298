#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>

#include "archsim/cfg.h"
#include "archsim/diag.h"
#include "archsim/dist.h"

/* Fewer draws under valgrind; the tolerances follow the count. */
static size_t draws(void)
{
	return getenv("ARCHSIM_VALGRIND") ? 100000 : 1000000;
}

static gsl_rng *rng(unsigned long seed)
{
	gsl_rng *r = gsl_rng_alloc(asim_rng_taus2); /* archsim's generator (rng.h) */
	ck_assert_ptr_nonnull(r);
	gsl_rng_set(r, seed);
	return r;
}

/* Builds {k1: v1, k2: v2, ...} from NULL-terminated pairs of strings. Item i
 * sits on line 1 at column 10*i+1 (key) and 10*i+5 (value), so messages
 * carry positions that a test can check. A value starting with '[' is a
 * list of comma-separated scalars. */
static struct asim_cfg *map_of(const char *ctx, ...)
{
	struct asim_mark m = {.file = "t.yaml", .line = 1, .col = 1};
	struct asim_cfg *map = asim_cfg_new_map(m);
	ck_assert_ptr_nonnull(map);
	map->ctx = ctx;
	va_list ap;
	va_start(ap, ctx);
	for (int i = 0;; i++) {
		const char *k = va_arg(ap, const char *);
		if (!k)
			break;
		const char *v = va_arg(ap, const char *);
		struct asim_mark km = {.file = "t.yaml", .line = 1, .col = 10 * i + 1};
		struct asim_mark vm = {.file = "t.yaml", .line = 1, .col = 10 * i + 5};
		struct asim_cfg *val;
		if (v[0] == '[') {
			val = asim_cfg_new_seq(vm);
			char buf[256];
			snprintf(buf, sizeof(buf), "%s", v + 1);
			int col = vm.col + 1;
			for (char *tok = strtok(buf, ",]"); tok; tok = strtok(NULL, ",]")) {
				while (*tok == ' ')
					tok++;
				struct asim_mark im = {.file = "t.yaml", .line = 1, .col = col++};
				ck_assert(asim_cfg_seq_add(val, asim_cfg_new_scalar(tok, im)));
			}
		} else {
			val = asim_cfg_new_scalar(v, vm);
		}
		ck_assert(asim_cfg_map_add(map, k, km, val));
	}
	va_end(ap);
	return map;
}

/* Sample mean and variance (and the fourth central moment, for the
 * standard error of the variance) of n draws, in seconds. */
struct moments {
	double mean, var, m4;
};

static struct moments sample(const struct asim_dist *dist, unsigned long seed, size_t n)
{
	gsl_rng *r = rng(seed);
	double *x = malloc(n * sizeof(*x));
	ck_assert_ptr_nonnull(x);
	double sum = 0;
	size_t negative = 0;
	/* Check records every passing assertion through a pipe, so the loops
	 * over draws count and assert once. */
	for (size_t i = 0; i < n; i++) {
		asim_time t = asim_dist_sample(dist, r);
		negative += t < 0;
		x[i] = asim_time_to_seconds(t);
		sum += x[i];
	}
	gsl_rng_free(r);
	ck_assert_uint_eq(negative, 0);
	struct moments m = { sum / (double)n, 0, 0 };
	for (size_t i = 0; i < n; i++) {
		double dev = x[i] - m.mean;
		m.var += dev * dev;
		m.m4 += dev * dev * dev * dev;
	}
	m.var /= (double)(n - 1);
	m.m4 /= (double)n;
	free(x);
	return m;
}

/* Checks the sample mean and SCV of dist against its analytic values within
 * 5 standard errors. The error of the mean comes from the analytic variance;
 * that of the variance from the sample's fourth moment, (m4 - var^2) / n. */
static void check_moments(const struct asim_dist *dist, double mean, double scv,
                          unsigned long seed)
{
	ck_assert_double_eq_tol(asim_dist_mean(dist), mean, mean * 1e-12);
	ck_assert_double_eq_tol(asim_dist_scv(dist), scv, scv * 1e-12);
	size_t n = draws();
	struct moments m = sample(dist, seed, n);
	double var = scv * mean * mean;
	double se_mean = sqrt(var / (double)n);
	ck_assert_msg(fabs(m.mean - mean) <= 5 * se_mean, "mean %g, expected %g +- %g", m.mean,
	              mean, 5 * se_mean);
	/* A symmetric two-point law has m4 = var^2: no first-order error. */
	double se_var = sqrt(fmax(0, m.m4 - m.var * m.var) / (double)n);
	double got_scv = m.var / (m.mean * m.mean);
	double tol = 5 * scv * (se_var / var + 2 * se_mean / mean);
	ck_assert_msg(fabs(got_scv - scv) <= tol, "scv %g, expected %g +- %g", got_scv, scv, tol);
}

START_TEST(dist_constant)
{
	struct asim_dist d;
	asim_dist_constant(&d, 4 * ASIM_MS + 1);
	gsl_rng *r = rng(1);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(asim_dist_sample(&d, r), 4 * ASIM_MS + 1);
	gsl_rng_free(r);
	ck_assert_double_eq_tol(asim_dist_mean(&d), 0.004000001, 1e-15);
	ck_assert_double_eq(asim_dist_scv(&d), 0);
	asim_dist_finish(&d);
	asim_dist_finish(NULL);
}
END_TEST

START_TEST(dist_exponential_moments)
{
	struct asim_dist d;
	asim_dist_exponential(&d, 4 * ASIM_MS);
	check_moments(&d, 0.004, 1, 11);
}
END_TEST

/* Pearson's chi-square of u[0..n) (each CDF(x) of a draw x, so uniform on
 * [0, 1) when the draws follow the CDF) over nbins equally likely bins,
 * against the quantile at 1e-6 of the chi-square law with nbins - 1
 * degrees of freedom. */
static void check_uniform(const double *u, size_t n, size_t nbins, const char *what)
{
	size_t *count = calloc(nbins, sizeof(*count));
	ck_assert_ptr_nonnull(count);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		out += !(u[i] >= 0 && u[i] < 1);
		size_t b = (size_t)(u[i] * (double)nbins);
		count[b < nbins ? b : nbins - 1]++;
	}
	double expect = (double)n / (double)nbins, chi2 = 0;
	for (size_t b = 0; b < nbins; b++)
		chi2 += ((double)count[b] - expect) * ((double)count[b] - expect) / expect;
	free(count);
	ck_assert_uint_eq(out, 0);
	double bound = gsl_cdf_chisq_Qinv(1e-6, (double)(nbins - 1));
	ck_assert_msg(chi2 < bound, "%s: chi-square %.1f over %zu bins, bound %.1f", what, chi2,
	              nbins, bound);
}

/* archsim's exponential draw is a ziggurat (dist.h), so it is checked as a
 * distribution: its CDF values are uniform over 1024 bins (each of the 256
 * layers spans about four, so a wrong layer or wedge shows), the tail past
 * the base layer (x > 7.697 means, probability 4.5e-4, drawn by a path of
 * its own) has its share within 5 standard deviations and its excess a
 * mean of 1, and the mean is 1 within 5 standard errors. On archsim's
 * generator and on mt19937. */
START_TEST(dist_exponential_ziggurat)
{
	/* archsim's own taus2 takes the inline draw, mt19937 GSL's call. */
	const gsl_rng_type *types[] = { asim_rng_taus2, gsl_rng_mt19937 };
	size_t n = draws();
	double *u = malloc(n * sizeof(*u));
	ck_assert_ptr_nonnull(u);
	for (size_t t = 0; t < 2; t++) {
		gsl_rng *r = gsl_rng_alloc(types[t]);
		ck_assert_ptr_nonnull(r);
		gsl_rng_set(r, 12345);
		double sum = 0, excess = 0;
		size_t tail = 0, negative = 0;
		for (size_t i = 0; i < n; i++) {
			double x = asim_ran_exponential(r, 1.0);
			negative += x < 0;
			if (x > 7.697117470131487) {
				tail++;
				excess += x - 7.697117470131487;
			}
			sum += x;
			u[i] = -expm1(-x);
		}
		gsl_rng_free(r);
		ck_assert_uint_eq(negative, 0);
		check_uniform(u, n, 1024, types[t]->name);
		double p = exp(-7.697117470131487), want = p * (double)n;
		double sd = sqrt((double)n * p * (1 - p));
		ck_assert_msg(fabs((double)tail - want) <= 5 * sd,
		              "%s: %zu past the base layer, expected %.1f +- %.1f", types[t]->name,
		              tail, want, 5 * sd);
		/* Memoryless: past the base layer, the excess is exponential of
		 * mean 1 (standard deviation 1). */
		excess /= (double)tail;
		ck_assert_msg(fabs(excess - 1) <= 5 / sqrt((double)tail), "%s: excess %g over %zu",
		              types[t]->name, excess, tail);
		double mean = sum / (double)n;
		ck_assert_msg(fabs(mean - 1) <= 5 / sqrt((double)n), "%s: mean %g", types[t]->name, mean);
	}
	free(u);
}
END_TEST

/* The ziggurat's tables, by its geometry: layer i >= 1 is the rectangle of
 * width x_i = w[i] * 2^24 between the heights f[i] = exp(-x_i) and f[i-1],
 * the base is the rectangle of width x_255 = r under f[255] plus the tail
 * past r, and every one of the 256 has the same area V, so the top layer
 * closes at height 1. k[i] is the share of layer i's width that lies under
 * the layer below it (the draws that need no test). */
START_TEST(dist_ziggurat_tables)
{
	const struct asim_zig_exp *z = &asim_zig_exp;
	const double points = 16777216.0, r = z->w[255] * points;
	const double area = (r + 1) * exp(-r); /* base: rectangle and tail */
	ck_assert_double_eq(z->f[0], 1.0);
	ck_assert_double_eq_tol(z->w[0] * points * z->f[255], area, area * 1e-12);
	for (int i = 1; i < 256; i++) {
		double x = z->w[i] * points;
		ck_assert_double_eq_tol(z->f[i], exp(-x), 1e-15);
		ck_assert_msg(fabs(x * (z->f[i - 1] - z->f[i]) - area) < area * 1e-9,
		              "layer %d: area %.12g, expected %.12g", i, x * (z->f[i - 1] - z->f[i]), area);
		if (i >= 2)
			ck_assert_uint_eq(z->k[i], (uint32_t)(z->w[i - 1] / z->w[i] * points));
	}
	ck_assert_uint_eq(z->k[0], (uint32_t)(r / (z->w[0] * points) * points));
	ck_assert_uint_eq(z->k[1], 0);
}
END_TEST

/* The lognormal (exp of GSL's ziggurat normal) as a distribution: the log
 * of each draw follows the normal of zeta and sigma. */
START_TEST(dist_lognormal_shape)
{
	struct asim_dist d;
	struct asim_cfg *map = map_of("t", "dist", "lognormal", "mean", "4ms", "cv", "0.8", NULL);
	struct asim_diag diag;
	asim_diag_init(&diag);
	ck_assert(asim_dist_from_cfg(map, "t", &d, &diag));
	size_t n = draws();
	double *u = malloc(n * sizeof(*u));
	ck_assert_ptr_nonnull(u);
	gsl_rng *r = rng(7);
	for (size_t i = 0; i < n; i++) {
		double x = asim_time_to_seconds(asim_dist_sample(&d, r));
		u[i] = gsl_cdf_gaussian_P(log(x) - d.a, d.b);
	}
	gsl_rng_free(r);
	check_uniform(u, n, 1024, "lognormal");
	free(u);
	asim_dist_finish(&d);
	asim_cfg_free(map);
	asim_diag_finish(&diag);
}
END_TEST

/* Each map form: the tree, then the analytic mean (s) and SCV. */
static const struct {
	const char *kv[8];
	double mean, scv;
} forms[] = {
	{ { "dist", "exponential", "mean", "20ms" }, 0.020, 1 },
	{ { "dist", "lognormal", "mean", "4ms", "cv", "0.5" }, 0.004, 0.25 },
	{ { "dist", "lognormal", "mean", "1s", "cv", "2" }, 1.0, 4 },
	{ { "dist", "gamma", "mean", "4ms", "cv", "0.5" }, 0.004, 0.25 },
	{ { "dist", "gamma", "mean", "10ms", "cv", "3" }, 0.010, 9 },
	/* alpha 5: the fourth moment is finite, so the variance estimate has a
	 * finite standard error. */
	{ { "dist", "pareto", "mean", "4ms", "alpha", "5" }, 0.004, 1.0 / 15 },
	{ { "dist", "uniform", "min", "1ms", "max", "3ms" }, 0.002, 1.0 / 12 },
	{ { "dist", "empirical", "values", "[1ms, 2ms, 10ms]", "weights", "[0.7, 0.2, 0.1]" },
	  0.0021, 11.5e-6 / (0.0021 * 0.0021) - 1 },
	{ { "dist", "empirical", "values", "[2ms, 4ms]" }, 0.003, 1.0 / 9 },
};

static struct asim_cfg *form_tree(size_t i)
{
	const char *const *kv = forms[i].kv;
	return map_of("api.service_time", kv[0], kv[1], kv[2], kv[3], kv[4], kv[5], kv[6], kv[7],
	              NULL);
}

START_TEST(dist_forms_moments)
{
	struct asim_cfg *t = form_tree((size_t)_i);
	struct asim_diag diag;
	asim_diag_init(&diag);
	struct asim_dist d;
	bool ok = asim_dist_from_cfg(t, "api.service_time", &d, &diag);
	if (!ok)
		asim_diag_print(&diag, stderr);
	ck_assert(ok);
	ck_assert_uint_eq(asim_diag_count(&diag), 0);
	check_moments(&d, forms[_i].mean, forms[_i].scv, 100 + (unsigned long)_i);
	asim_dist_finish(&d);
	asim_diag_finish(&diag);
	asim_cfg_free(t);
}
END_TEST

START_TEST(dist_pareto_heavy_median)
{
	/* alpha 1.5 has no variance; its median b 2^(1/alpha) is still sharp:
	 * the share of draws below it is binomial with p = 1/2. */
	struct asim_cfg *t = map_of("x", "dist", "pareto", "mean", "3ms", "alpha", "1.5", NULL);
	struct asim_diag diag;
	asim_diag_init(&diag);
	struct asim_dist d;
	ck_assert(asim_dist_from_cfg(t, "x", &d, &diag));
	ck_assert(isinf(asim_dist_scv(&d)));
	double b = 0.003 * 0.5 / 1.5;
	asim_time median = asim_time_from_seconds(b * pow(2, 1 / 1.5));
	size_t n = draws(), below = 0, under_scale = 0;
	gsl_rng *r = rng(5);
	for (size_t i = 0; i < n; i++) {
		asim_time x = asim_dist_sample(&d, r);
		under_scale += x < asim_time_from_seconds(b);
		below += x < median;
	}
	gsl_rng_free(r);
	ck_assert_uint_eq(under_scale, 0);
	double share = (double)below / (double)n;
	ck_assert_double_eq_tol(share, 0.5, 5 * sqrt(0.25 / (double)n));
	asim_dist_finish(&d);
	asim_diag_finish(&diag);
	asim_cfg_free(t);
}
END_TEST

START_TEST(dist_uniform_bounds)
{
	struct asim_cfg *t = map_of("x", "dist", "uniform", "min", "1ms", "max", "1ms", NULL);
	struct asim_diag diag;
	asim_diag_init(&diag);
	struct asim_dist d;
	ck_assert(asim_dist_from_cfg(t, "x", &d, &diag));
	gsl_rng *r = rng(3);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(asim_dist_sample(&d, r), ASIM_MS);
	gsl_rng_free(r);
	ck_assert_double_eq(asim_dist_scv(&d), 0);
	asim_dist_finish(&d);
	asim_diag_finish(&diag);
	asim_cfg_free(t);
}
END_TEST

START_TEST(dist_scalar_constant)
{
	struct asim_mark m = {.file = "t.yaml", .line = 3, .col = 7};
	struct asim_cfg *s = asim_cfg_new_scalar("4ms", m);
	struct asim_diag diag;
	asim_diag_init(&diag);
	struct asim_dist d;
	ck_assert(asim_dist_from_cfg(s, "x", &d, &diag));
	ck_assert_int_eq(d.kind, ASIM_DIST_CONSTANT);
	ck_assert_int_eq(asim_dist_sample(&d, NULL), 4 * ASIM_MS);
	asim_cfg_free(s);
	struct asim_cfg *c = map_of("x", "dist", "constant", "value", "1.5s", NULL);
	ck_assert(asim_dist_from_cfg(c, "x", &d, &diag));
	ck_assert_int_eq(asim_dist_sample(&d, NULL), 1500 * ASIM_MS);
	ck_assert_double_eq(asim_dist_mean(&d), 1.5);
	ck_assert_uint_eq(asim_diag_count(&diag), 0);
	asim_cfg_free(c);
	asim_diag_finish(&diag);
}
END_TEST

START_TEST(dist_cfg_dist_key)
{
	/* asim_cfg_dist: absent and optional keeps the default; present parses
	 * and names the owner in messages. */
	struct asim_cfg *inner = map_of("ignored", "dist", "exponential", "mean", "5ms", NULL);
	struct asim_mark m = {.file = "t.yaml", .line = 2, .col = 1};
	struct asim_cfg *outer = asim_cfg_new_map(m);
	outer->ctx = "api";
	ck_assert(asim_cfg_map_add(outer, "service_time", m, inner));
	struct asim_diag diag;
	asim_diag_init(&diag);
	struct asim_dist d;
	asim_dist_constant(&d, 7);
	ck_assert(asim_cfg_dist(outer, "think_time", ASIM_OPTIONAL, &d, &diag));
	ck_assert_int_eq(d.kind, ASIM_DIST_CONSTANT);
	ck_assert_int_eq(asim_dist_sample(&d, NULL), 7);
	ck_assert(asim_cfg_dist(outer, "service_time", ASIM_REQUIRED, &d, &diag));
	ck_assert_int_eq(d.kind, ASIM_DIST_EXPONENTIAL);
	ck_assert_double_eq_tol(asim_dist_mean(&d), 0.005, 1e-15);
	ck_assert_uint_eq(asim_diag_count(&diag), 0);
	ck_assert(!asim_cfg_dist(outer, "lag", ASIM_REQUIRED, &d, &diag));
	ck_assert_int_eq(d.kind, ASIM_DIST_EXPONENTIAL);
	char buf[256];
	ck_assert_uint_eq(asim_diag_count(&diag), 1);
	asim_diag_format(&diag, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "t.yaml:2:1: error: missing required key 'lag' in 'api'");
	asim_diag_finish(&diag);
	asim_cfg_free(outer);
}
END_TEST

START_TEST(dist_deterministic)
{
	struct asim_cfg *t = map_of("x", "dist", "lognormal", "mean", "4ms", "cv", "0.5", NULL);
	struct asim_diag diag;
	asim_diag_init(&diag);
	struct asim_dist d;
	ck_assert(asim_dist_from_cfg(t, "x", &d, &diag));
	gsl_rng *a = rng(77), *b = rng(77), *c = rng(78);
	int differ = 0;
	for (int i = 0; i < 1000; i++) {
		asim_time x = asim_dist_sample(&d, a);
		ck_assert_int_eq(x, asim_dist_sample(&d, b));
		differ += x != asim_dist_sample(&d, c);
	}
	ck_assert_int_gt(differ, 990);
	gsl_rng_free(a);
	gsl_rng_free(b);
	gsl_rng_free(c);
	asim_diag_finish(&diag);
	asim_cfg_free(t);
}
END_TEST

/* Drawn one ahead, a distribution gives the same samples in the same order
 * as drawn on demand from a stream of the same seed, for the exponential
 * drawn inline and a kind drawn out of line. */
START_TEST(dist_ahead_same_sequence)
{
	struct asim_dist expo, lognormal;
	asim_dist_exponential(&expo, 4 * ASIM_MS);
	struct asim_cfg *t = map_of("x", "dist", "lognormal", "mean", "4ms", "cv", "0.5", NULL);
	struct asim_diag diag;
	asim_diag_init(&diag);
	ck_assert(asim_dist_from_cfg(t, "x", &lognormal, &diag));
	const struct asim_dist *kinds[] = {&expo, &lognormal};
	for (size_t k = 0; k < 2; k++) {
		gsl_rng *direct = rng(91), *drawn_ahead = rng(91);
		struct asim_dist_ahead a;
		asim_dist_ahead_init(&a, kinds[k], drawn_ahead);
		for (int i = 0; i < 10000; i++)
			ck_assert_int_eq(asim_dist_ahead_take(&a), asim_dist_sample(kinds[k], direct));
		/* One draw ahead of the direct stream, and no more. */
		ck_assert_int_eq(a.next, asim_dist_sample(kinds[k], direct));
		ck_assert_uint_eq(gsl_rng_get(drawn_ahead), gsl_rng_get(direct));
		gsl_rng_free(direct);
		gsl_rng_free(drawn_ahead);
	}
	asim_diag_finish(&diag);
	asim_cfg_free(t);
}
END_TEST

/* Bad input and the exact first diagnostic. */
static const struct {
	const char *kv[8];
	const char *want;
} bad[] = {
	{ { "dist", "lognorm", "mean", "4ms", "cv", "0.5" },
	  "t.yaml:1:5: error: expected one of constant, exponential, lognormal, gamma, pareto, "
	  "uniform, empirical for 'dist', got 'lognorm' (did you mean 'lognormal'?)" },
	{ { "dist", "exponential" },
	  "t.yaml:1:1: error: missing required key 'mean' in 'api.service_time'" },
	{ { "mean", "4ms" },
	  "t.yaml:1:1: error: missing required key 'dist' in 'api.service_time'" },
	{ { "dist", "lognormal", "mean", "4ms", "cv", "0" },
	  "t.yaml:1:25: error: 'cv' must be greater than 0 in 'api.service_time', got 0" },
	{ { "dist", "gamma", "mean", "4ms", "cv", "-0.5" },
	  "t.yaml:1:25: error: 'cv' must be greater than 0 in 'api.service_time', got -0.5" },
	{ { "dist", "pareto", "mean", "4ms", "alpha", "1" },
	  "t.yaml:1:25: error: 'alpha' must be greater than 1 in 'api.service_time', got 1" },
	{ { "dist", "exponential", "mean", "4xs" },
	  "t.yaml:1:15: error: expected a duration (e.g. 250ms) for 'mean', got '4xs' "
	  "(units: ns, us, ms, s, m, min, h, d)" },
	{ { "dist", "exponential", "mean", "4ms", "cv", "0.5" },
	  "t.yaml:1:21: error: unknown key 'cv' in 'api.service_time'" },
	{ { "dist", "uniform", "min", "3ms", "max", "1ms" },
	  "t.yaml:1:25: error: 'max' (1ms) is less than 'min' (3ms) in 'api.service_time'" },
	{ { "dist", "empirical", "values", "[1ms, 2ms]", "weights", "[1]" },
	  "t.yaml:1:25: error: 'weights' has 1 entries but 'values' has 2 in 'api.service_time'" },
	{ { "dist", "empirical", "values", "[1ms, 2ms]", "weights", "[0, 0]" },
	  "t.yaml:1:25: error: 'weights' must have a positive, finite sum in 'api.service_time'" },
	{ { "dist", "empirical", "weights", "[1]" },
	  "t.yaml:1:1: error: missing required key 'values' in 'api.service_time'" },
	{ { "dist", "empirical", "values", "5ms" },
	  "t.yaml:1:15: error: expected a non-empty list of durations for 'values' in "
	  "'api.service_time', got '5ms'" },
};

START_TEST(dist_bad_input)
{
	const char *const *kv = bad[_i].kv;
	struct asim_cfg *t = map_of("api.service_time", kv[0], kv[1], kv[2], kv[3], kv[4], kv[5],
	                            kv[6], kv[7], NULL);
	struct asim_diag diag;
	asim_diag_init(&diag);
	struct asim_dist d;
	memset(&d, 0xff, sizeof(d));
	ck_assert(!asim_dist_from_cfg(t, "api.service_time", &d, &diag));
	/* Failure leaves the output zeroed: nothing to finish. */
	ck_assert_ptr_null(d.table);
	ck_assert_ptr_null(d.values_s);
	ck_assert_int_ge(asim_diag_count(&diag), 1);
	char buf[512];
	asim_diag_format(&diag, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, bad[_i].want);
	asim_diag_finish(&diag);
	asim_cfg_free(t);
}
END_TEST

START_TEST(dist_bad_scalar_and_type)
{
	struct asim_mark m = {.file = "t.yaml", .line = 4, .col = 9};
	struct asim_diag diag;
	asim_diag_init(&diag);
	struct asim_dist d;
	char buf[512];

	/* A bare number is not a duration: the cfg accessor says so at the value. */
	struct asim_cfg *s = asim_cfg_new_scalar("4", m);
	ck_assert(!asim_dist_from_cfg(s, "x", &d, &diag));
	ck_assert_uint_eq(asim_diag_count(&diag), 1);
	asim_diag_format(&diag, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "t.yaml:4:9: error: expected a duration with a unit (e.g. 250ms), "
	                      "got '4'");
	asim_cfg_free(s);

	struct asim_cfg *q = asim_cfg_new_seq(m);
	ck_assert(!asim_dist_from_cfg(q, "api.service_time", &d, &diag));
	ck_assert_uint_eq(asim_diag_count(&diag), 2);
	asim_diag_format(&diag, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "t.yaml:4:9: error: expected a duration or a distribution for "
	                      "'api.service_time', got an empty list");
	asim_cfg_free(q);
	asim_diag_finish(&diag);
}
END_TEST

static Suite *dist_suite(void)
{
	Suite *s = suite_create("dist");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dist_constant);
	tcase_add_test(tc, dist_exponential_moments);
	tcase_add_test(tc, dist_ziggurat_tables);
	tcase_add_test(tc, dist_exponential_ziggurat);
	tcase_add_test(tc, dist_lognormal_shape);
	tcase_add_loop_test(tc, dist_forms_moments, 0, (int)(sizeof(forms) / sizeof(forms[0])));
	tcase_add_test(tc, dist_pareto_heavy_median);
	tcase_add_test(tc, dist_uniform_bounds);
	tcase_add_test(tc, dist_scalar_constant);
	tcase_add_test(tc, dist_cfg_dist_key);
	tcase_add_test(tc, dist_deterministic);
	tcase_add_test(tc, dist_ahead_same_sequence);
	tcase_add_loop_test(tc, dist_bad_input, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, dist_bad_scalar_and_type);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dist_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
