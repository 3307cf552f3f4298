#include "archsim/dist.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parameters kept per kind (a and b of struct asim_dist):
 *   CONSTANT     a = value in seconds, b = the exact value in ns
 *   EXPONENTIAL  a = mean
 *   LOGNORMAL    a = zeta, b = sigma (of the underlying normal)
 *   GAMMA        a = shape, b = scale
 *   PARETO       a = alpha, b = scale (the minimum value)
 *   UNIFORM      a = min, b = max
 *   EMPIRICAL    table and values_s
 * A constant keeps its exact nanoseconds so that "4ms" samples as exactly
 * 4000000 ns rather than through a round trip in floating point. */

static const char *const dist_names[] = {
	"constant", "exponential", "lognormal", "gamma", "pareto", "uniform", "empirical", NULL,
};

/* The keys each kind accepts, indexed like dist_names. */
static const char *const keys_constant[] = { "dist", "value", NULL };
static const char *const keys_exponential[] = { "dist", "mean", NULL };
static const char *const keys_mean_cv[] = { "dist", "mean", "cv", NULL };
static const char *const keys_pareto[] = { "dist", "mean", "alpha", NULL };
static const char *const keys_uniform[] = { "dist", "min", "max", NULL };
static const char *const keys_empirical[] = { "dist", "values", "weights", NULL };
static const char *const *const dist_keys[] = {
	keys_constant, keys_exponential, keys_mean_cv, keys_mean_cv,
	keys_pareto, keys_uniform, keys_empirical,
};

void asim_dist_constant(struct asim_dist *out, asim_time value)
{
	memset(out, 0, sizeof(*out));
	out->kind = ASIM_DIST_CONSTANT;
	out->mean_s = asim_time_to_seconds(value);
	out->a = out->mean_s;
	out->b = (double)value;
}

void asim_dist_exponential(struct asim_dist *out, asim_time mean)
{
	memset(out, 0, sizeof(*out));
	out->kind = ASIM_DIST_EXPONENTIAL;
	out->mean_s = asim_time_to_seconds(mean);
	out->a = out->mean_s;
}

void asim_dist_finish(struct asim_dist *dist)
{
	if (!dist)
		return;
	if (dist->table)
		gsl_ran_discrete_free(dist->table);
	free(dist->values_s);
	memset(dist, 0, sizeof(*dist));
}

/* The exponential ziggurat's tables (dist.h), computed as in Marsaglia and
 * Tsang's zigset() for 256 layers, with 2^24 in place of 2^32 because the
 * point within a layer has 24 bits. ZIG_R is where the tail begins and ZIG_V
 * each layer's area, in units of the mean. */
#define ZIG_R 7.697117470131487
#define ZIG_V 3.949659822581572e-3
#define ZIG_POINTS 16777216.0 /* 2^24 */

struct asim_zig_exp asim_zig_exp;

/* Before main, so that every thread (replications run in parallel) reads
 * finished tables without a lock. */
__attribute__((constructor)) static void zig_exp_setup(void)
{
	struct asim_zig_exp *z = &asim_zig_exp;
	double de = ZIG_R, te = ZIG_R, q = ZIG_V / exp(-ZIG_R);
	z->k[0] = (uint32_t)(ZIG_R / q * ZIG_POINTS);
	z->k[1] = 0;
	z->w[0] = q / ZIG_POINTS;
	z->w[255] = ZIG_R / ZIG_POINTS;
	z->f[0] = 1.0;
	z->f[255] = exp(-ZIG_R);
	for (int i = 254; i >= 1; i--) {
		de = -log(ZIG_V / de + exp(-de));
		z->k[i + 1] = (uint32_t)(de / te * ZIG_POINTS);
		te = de;
		z->f[i] = exp(-de);
		z->w[i] = de / ZIG_POINTS;
	}
}

/* A draw that fell outside layer i's rectangle: the base layer's tail is
 * ZIG_R plus an exponential (memoryless); elsewhere the point is kept if it
 * lies under the density within the layer's wedge, and otherwise a new
 * point is drawn. */
double asim_ran_exponential_edge(const gsl_rng *r, uint32_t i, uint32_t j)
{
	const struct asim_zig_exp *z = &asim_zig_exp;
	for (;;) {
		if (i == 0)
			return ZIG_R - log(gsl_rng_uniform_pos(r));
		double x = (double)j * z->w[i];
		if (z->f[i] + asim_rng_uniform(r) * (z->f[i - 1] - z->f[i]) < exp(-x))
			return x;
		unsigned long bits = asim_rng_get(r);
		i = (uint32_t)(bits & 0xff);
		j = (uint32_t)(bits >> 8) & 0xffffff;
		if (j < z->k[i])
			return (double)j * z->w[i];
	}
}

asim_time asim_dist_sample_kind(const struct asim_dist *dist, gsl_rng *r)
{
	double s = 0;
	switch (dist->kind) {
	case ASIM_DIST_CONSTANT:
		return (asim_time)dist->b;
	case ASIM_DIST_EXPONENTIAL:
		s = asim_ran_exponential(r, dist->a);
		break;
	case ASIM_DIST_LOGNORMAL:
		/* gsl_ran_lognormal draws its normal by the polar method (two
		 * uniforms a try, a log and a sqrt); GSL's ziggurat normal gives
		 * the same distribution from one draw mostly. */
		s = exp(dist->a + gsl_ran_gaussian_ziggurat(r, dist->b));
		break;
	case ASIM_DIST_GAMMA:
		s = gsl_ran_gamma(r, dist->a, dist->b);
		break;
	case ASIM_DIST_PARETO:
		s = gsl_ran_pareto(r, dist->a, dist->b);
		break;
	case ASIM_DIST_UNIFORM:
		s = gsl_ran_flat(r, dist->a, dist->b);
		break;
	case ASIM_DIST_EMPIRICAL:
		s = dist->values_s[gsl_ran_discrete(r, dist->table)];
		break;
	}
	return asim_time_from_seconds(s);
}

double asim_dist_mean(const struct asim_dist *dist)
{
	return dist->mean_s;
}

double asim_dist_scv(const struct asim_dist *dist)
{
	double m = dist->mean_s;
	switch (dist->kind) {
	case ASIM_DIST_CONSTANT:
		return 0;
	case ASIM_DIST_EXPONENTIAL:
		return 1;
	case ASIM_DIST_LOGNORMAL:
		return expm1(dist->b * dist->b);
	case ASIM_DIST_GAMMA:
		return 1 / dist->a;
	case ASIM_DIST_PARETO:
		/* Var / mean^2 = 1 / (alpha (alpha - 2)); infinite for alpha <= 2. */
		return dist->a > 2 ? 1 / (dist->a * (dist->a - 2)) : INFINITY;
	case ASIM_DIST_UNIFORM: {
		double w = dist->b - dist->a;
		return m > 0 ? w * w / 12 / (m * m) : 0;
	}
	case ASIM_DIST_EMPIRICAL: {
		/* The walker table keeps the normalised weights for us. */
		double var = 0;
		for (size_t i = 0; i < dist->nvalues; i++) {
			double dev = dist->values_s[i] - m;
			var += gsl_ran_discrete_pdf(i, dist->table) * dev * dev;
		}
		return m > 0 ? var / (m * m) : 0;
	}
	}
	return 0;
}

/* The text of map[key] for messages; every caller has already read it. */
static const char *text_of(const struct asim_cfg *map, const char *key)
{
	const struct asim_cfg *v = asim_cfg_get(map, key);
	return v && v->type == ASIM_CFG_SCALAR ? v->text : "?";
}

static struct asim_mark mark_of(const struct asim_cfg *map, const char *key)
{
	const struct asim_cfg *v = asim_cfg_get(map, key);
	return v ? v->mark : map->mark;
}

/* A required real that must exceed floor; the accessor checks the number,
 * this checks the open bound, which the accessor's inclusive bounds cannot
 * say. */
static bool real_above(const struct asim_cfg *map, const char *key, double floor,
                       const char *ctx, double *out, struct asim_diag *d)
{
	double v;
	if (!asim_cfg_real(map, key, ASIM_REQUIRED, -DBL_MAX, DBL_MAX, &v, d))
		return false;
	if (!(v > floor)) {
		asim_diag_error(d, mark_of(map, key), "'%s' must be greater than %g in '%s', got %s",
		                key, floor, ctx, text_of(map, key));
		return false;
	}
	*out = v;
	return true;
}

static bool parse_mean(const struct asim_cfg *node, double *mean_s, struct asim_diag *d)
{
	asim_time mean;
	if (!asim_cfg_time(node, "mean", ASIM_REQUIRED, 1, ASIM_TIME_MAX, &mean, d))
		return false;
	*mean_s = asim_time_to_seconds(mean);
	return true;
}

static bool parse_empirical(const struct asim_cfg *node, const char *ctx, struct asim_dist *out,
                            struct asim_diag *d)
{
	const struct asim_cfg *values = asim_cfg_get(node, "values");
	const struct asim_cfg *weights = asim_cfg_get(node, "weights");
	if (!values) {
		asim_diag_error(d, node->mark, "missing required key 'values' in '%s'", ctx);
		return false;
	}
	if (values->type != ASIM_CFG_SEQ || values->n == 0) {
		asim_diag_error(d, values->mark,
		                "expected a non-empty list of durations for 'values' in '%s', got %s",
		                ctx, asim_cfg_type_name(values));
		return false;
	}
	/* Without weights every value is equally likely. */
	if (weights && weights->type != ASIM_CFG_SEQ) {
		asim_diag_error(d, weights->mark, "expected a list of numbers for 'weights' in '%s', got %s",
		                ctx, asim_cfg_type_name(weights));
		return false;
	}
	if (weights && weights->n != values->n) {
		asim_diag_error(d, weights->mark,
		                "'weights' has %zu entries but 'values' has %zu in '%s'",
		                weights->n, values->n, ctx);
		return false;
	}
	size_t n = values->n;
	double *v = calloc(n, sizeof(*v));
	double *w = calloc(n, sizeof(*w));
	bool ok = v && w;
	if (!ok)
		asim_diag_error(d, node->mark, "out of memory reading '%s'", ctx);
	double wsum = 0;
	for (size_t i = 0; ok && i < n; i++) {
		asim_time t;
		if (!asim_cfg_node_time(values->items[i], 0, ASIM_TIME_MAX, &t, d))
			ok = false;
		else
			v[i] = asim_time_to_seconds(t);
		w[i] = 1;
		if (weights && !asim_cfg_node_real(weights->items[i], 0, DBL_MAX, &w[i], d))
			ok = false;
		wsum += w[i];
	}
	if (ok && !(wsum > 0 && isfinite(wsum))) {
		asim_diag_error(d, weights ? weights->mark : node->mark, "'weights' must have a positive, finite sum in '%s'",
		                ctx);
		ok = false;
	}
	gsl_ran_discrete_t *table = NULL;
	if (ok) {
		table = gsl_ran_discrete_preproc(n, w);
		if (!table) {
			asim_diag_error(d, node->mark, "out of memory reading '%s'", ctx);
			ok = false;
		}
	}
	if (!ok) {
		free(v);
		free(w);
		return false;
	}
	double mean = 0;
	for (size_t i = 0; i < n; i++)
		mean += w[i] / wsum * v[i];
	free(w);
	out->kind = ASIM_DIST_EMPIRICAL;
	out->mean_s = mean;
	out->table = table;
	out->values_s = v;
	out->nvalues = n;
	return true;
}

static bool parse_map(const struct asim_cfg *node, const char *ctx, struct asim_dist *out,
                      struct asim_diag *d)
{
	int kind;
	if (!asim_cfg_choice(node, "dist", ASIM_REQUIRED, dist_names, &kind, d))
		return false;
	if (!asim_cfg_expect_map(node, ctx, dist_keys[kind], d))
		return false;
	out->kind = (enum asim_dist_kind)kind;
	switch (out->kind) {
	case ASIM_DIST_CONSTANT: {
		asim_time t;
		if (!asim_cfg_time(node, "value", ASIM_REQUIRED, 0, ASIM_TIME_MAX, &t, d))
			return false;
		asim_dist_constant(out, t);
		return true;
	}
	case ASIM_DIST_EXPONENTIAL:
		if (!parse_mean(node, &out->mean_s, d))
			return false;
		out->a = out->mean_s;
		return true;
	case ASIM_DIST_LOGNORMAL:
	case ASIM_DIST_GAMMA: {
		bool ok = parse_mean(node, &out->mean_s, d);
		double cv = 0;
		if (!real_above(node, "cv", 0, ctx, &cv, d) || !ok)
			return false;
		double scv = cv * cv;
		if (out->kind == ASIM_DIST_LOGNORMAL) {
			double s2 = log1p(scv);
			out->a = log(out->mean_s) - s2 / 2;
			out->b = sqrt(s2);
		} else {
			out->a = 1 / scv;
			out->b = out->mean_s * scv;
		}
		return true;
	}
	case ASIM_DIST_PARETO: {
		bool ok = parse_mean(node, &out->mean_s, d);
		double alpha = 0;
		if (!real_above(node, "alpha", 1, ctx, &alpha, d) || !ok)
			return false;
		out->a = alpha;
		out->b = out->mean_s * (alpha - 1) / alpha;
		return true;
	}
	case ASIM_DIST_UNIFORM: {
		asim_time lo = 0, hi = 0;
		bool ok = asim_cfg_time(node, "min", ASIM_REQUIRED, 0, ASIM_TIME_MAX, &lo, d);
		if (!asim_cfg_time(node, "max", ASIM_REQUIRED, 0, ASIM_TIME_MAX, &hi, d) || !ok)
			return false;
		if (lo > hi) {
			asim_diag_error(d, mark_of(node, "max"),
			                "'max' (%s) is less than 'min' (%s) in '%s'",
			                text_of(node, "max"), text_of(node, "min"), ctx);
			return false;
		}
		out->a = asim_time_to_seconds(lo);
		out->b = asim_time_to_seconds(hi);
		/* Halving each end first keeps the sum from overflowing. */
		out->mean_s = out->a / 2 + out->b / 2;
		return true;
	}
	case ASIM_DIST_EMPIRICAL:
		return parse_empirical(node, ctx, out, d);
	}
	return false;
}

bool asim_dist_from_cfg(const struct asim_cfg *node, const char *ctx, struct asim_dist *out,
                        struct asim_diag *d)
{
	memset(out, 0, sizeof(*out));
	bool ok;
	if (node->type == ASIM_CFG_SCALAR) {
		asim_time t;
		ok = asim_cfg_node_time(node, 0, ASIM_TIME_MAX, &t, d);
		if (ok)
			asim_dist_constant(out, t);
	} else if (node->type == ASIM_CFG_MAP) {
		ok = parse_map(node, ctx, out, d);
	} else {
		asim_diag_error(d, node->mark,
		                "expected a duration or a distribution for '%s', got %s", ctx,
		                asim_cfg_type_name(node));
		ok = false;
	}
	if (!ok)
		memset(out, 0, sizeof(*out));
	return ok;
}

bool asim_cfg_dist(const struct asim_cfg *map, const char *key, enum asim_need need,
                   struct asim_dist *out, struct asim_diag *d)
{
	const char *owner = map->ctx ? map->ctx : "";
	const struct asim_cfg *node = asim_cfg_get(map, key);
	if (!node) {
		if (need == ASIM_REQUIRED)
			asim_diag_error(d, map->mark, "missing required key '%s' in '%s'", key, owner);
		return need != ASIM_REQUIRED;
	}
	/* Messages name the distribution by its full path, "api.service_time". */
	char *ctx = NULL;
	if (*owner) {
		size_t len = strlen(owner) + 1 + strlen(key) + 1;
		ctx = malloc(len);
		if (ctx)
			snprintf(ctx, len, "%s.%s", owner, key);
	}
	/* A failed parse leaves the caller's default in place, as the other
	 * asim_cfg_<type> accessors do, so that it can still be finished. */
	struct asim_dist parsed;
	bool ok = asim_dist_from_cfg(node, ctx ? ctx : key, &parsed, d);
	free(ctx);
	if (ok)
		*out = parsed;
	return ok;
}
