#include "archsim/stats.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

/* Values from 2^ASIM_HIST_MAX_BITS up share the last bucket. */
#define HIST_LIMIT ((int64_t)1 << ASIM_HIST_MAX_BITS)
#define LAST_BUCKET ((size_t)ASIM_HIST_BUCKETS - 1)

/* The empty state's only field that is not zero, set in one place. */
void asim_hist_init_zeroed(struct asim_hist *h)
{
	h->min = INT64_MAX;
}

void asim_hist_init(struct asim_hist *h)
{
	memset(h, 0, sizeof(*h));
	asim_hist_init_zeroed(h);
}


/* The nominal range of a bucket, before the last one absorbs everything
 * above the limit. */
static void nominal_range(size_t bucket, int64_t *lo, int64_t *hi)
{
	assert(bucket < ASIM_HIST_BUCKETS);
	if (bucket < 2 * ASIM_HIST_SUB) {
		*lo = *hi = (int64_t)bucket;
		return;
	}
	int shift = (int)(bucket >> ASIM_HIST_SUB_BITS) - 1;
	int64_t sub = (int64_t)(bucket & (ASIM_HIST_SUB - 1));
	*lo = (ASIM_HIST_SUB + sub) << shift;
	*hi = *lo + ((int64_t)1 << shift) - 1;
}

void asim_hist_bucket_range(size_t bucket, int64_t *lo, int64_t *hi)
{
	nominal_range(bucket, lo, hi);
	if (bucket == LAST_BUCKET)
		*hi = INT64_MAX;
}


void asim_hist_merge(struct asim_hist *dst, const struct asim_hist *src)
{
	if (src->count == 0)
		return;
	for (size_t i = 0; i < ASIM_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

int64_t asim_hist_quantile(const struct asim_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (!(q > 0))
		return h->min;
	if (q >= 1)
		return h->max;
	/* Nearest rank is ceil(q * n). The small allowance keeps products such
	 * as 0.95 * 100 = 95.00000000000001 from moving up one rank. */
	double x = q * (double)h->count;
	uint64_t rank = (uint64_t)ceil(x - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	uint64_t seen = 0;
	size_t b = 0;
	for (; b < ASIM_HIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= rank)
			break;
	}
	assert(b < ASIM_HIST_BUCKETS);
	int64_t lo, hi;
	nominal_range(b, &lo, &hi);
	int64_t mid = lo + (hi - lo + 1) / 2;
	if (mid < h->min)
		mid = h->min;
	if (mid > h->max)
		mid = h->max;
	return mid;
}

double asim_hist_mean(const struct asim_hist *h)
{
	return h->count ? h->sum / (double)h->count : 0.0;
}

void asim_tw_init(struct asim_tw *tw, asim_time now, double value)
{
	tw->start = now;
	tw->last = now;
	tw->value = value;
	tw->area = 0;
	tw->max = value;
}

void asim_tw_reset(struct asim_tw *tw, asim_time now)
{
	asim_tw_init(tw, now, tw->value);
}

double asim_tw_mean(const struct asim_tw *tw, asim_time now)
{
	if (now <= tw->start)
		return tw->value;
	double area = tw->area;
	if (now > tw->last)
		area += tw->value * (double)(now - tw->last);
	return area / (double)(now - tw->start);
}

/* The percentiles asim_hist_report writes, by key. */
static const struct {
	const char *key;
	double q;
} report_quantiles[] = {{"p50", 0.5}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}, {"p999", 0.999}};
#define NREPORT_QUANTILES (sizeof report_quantiles / sizeof report_quantiles[0])

bool asim_hist_quantile_path(const char *path)
{
	const char *last = strrchr(path, '.');
	last = last ? last + 1 : path;
	for (size_t i = 0; i < NREPORT_QUANTILES; i++)
		if (!strcmp(last, report_quantiles[i].key))
			return true;
	return false;
}

void asim_ci95(const double *values, size_t n, double *mean, double *halfwidth)
{
	*halfwidth = 0;
	if (n == 0) {
		*mean = 0;
		return;
	}
	*mean = gsl_stats_mean(values, 1, n);
	if (n == 1)
		return;
	double sd = gsl_stats_sd_m(values, 1, n, *mean);
	*halfwidth = gsl_cdf_tdist_Pinv(0.975, (double)(n - 1)) * sd / sqrt((double)n);
}

void asim_ci95_of(const char *path, const double *values, size_t n, double *mean,
                  double *halfwidth)
{
	asim_ci95(values, n, mean, halfwidth);
	if (n > 1 && asim_hist_quantile_path(path))
		*halfwidth += asim_hist_quantile_error(*mean);
}

bool asim_share_path(const char *path)
{
	static const char *const shares[] = {"availability", "utilization", "wait_probability",
	                                     "hit_ratio"};
	const char *last = strrchr(path, '.');
	last = last ? last + 1 : path;
	for (size_t i = 0; i < sizeof shares / sizeof shares[0]; i++)
		if (!strcmp(last, shares[i]))
			return true;
	return false;
}

void asim_ci_clamp(const char *path, double *lo, double *hi)
{
	if (!asim_share_path(path))
		return;
	/* A share cannot leave [0, 1], though mean +- t * sd / sqrt(n) can. */
	*lo = *lo < 0 ? 0 : *lo > 1 ? 1 : *lo;
	*hi = *hi < 0 ? 0 : *hi > 1 ? 1 : *hi;
}

void asim_hist_report(struct asim_results *r, const struct asim_hist *h, const char *prefixfmt,
                      ...)
{
	char prefix[256];
	va_list ap;
	va_start(ap, prefixfmt);
	int len = vsnprintf(prefix, sizeof prefix, prefixfmt, ap);
	va_end(ap);
	/* Paths are component names (at most 64 characters) and fixed words:
	 * one that does not fit is a caller's mistake, not worth a malloc. */
	if (len < 0 || (size_t)len >= sizeof prefix) {
		r->oom = true;
		return;
	}
	for (size_t i = 0; i < NREPORT_QUANTILES; i++)
		asim_results_real(r, asim_time_to_ms(asim_hist_quantile(h, report_quantiles[i].q)),
		                  "%s.%s", prefix, report_quantiles[i].key);
	asim_results_real(r, h->count ? asim_time_to_ms(h->max) : 0.0, "%s.max", prefix);
	asim_results_real(r, asim_hist_mean(h) / (double)ASIM_MS, "%s.mean", prefix);
	if (h->count)
		return;
	for (size_t i = 0; i < NREPORT_QUANTILES; i++)
		asim_results_unmeasured(r, "%s.%s", prefix, report_quantiles[i].key);
	asim_results_unmeasured(r, "%s.max", prefix);
	asim_results_unmeasured(r, "%s.mean", prefix);
}
