/* Statistics whose memory does not grow with the length of a run.
 *
 * - asim_hist: a log-linear histogram of non-negative integer values (latency
 *   in ns). Each power of two is split into ASIM_HIST_SUB linear sub-buckets
 *   and a percentile is reported at the middle of its bucket, so the relative
 *   error of any percentile is at most 1/(2*ASIM_HIST_SUB) < 1%. Histograms
 *   merge exactly (windows, replications), and count, sum, min and max are exact.
 * - asim_tw: a time-weighted average of a piecewise-constant signal (queue
 *   length, busy servers), with its maximum.
 * - asim_ci: mean and 95% confidence interval of replications (Student t). */
#ifndef ARCHSIM_STATS_H
#define ARCHSIM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archsim/results.h"
#include "archsim/time.h"

/* 64 sub-buckets per octave above 64: bucket width / value <= 1/64, so the
 * midpoint is within 1/128 (0.8%) of every value in the bucket. */
#define ASIM_HIST_SUB_BITS 6
#define ASIM_HIST_SUB (1 << ASIM_HIST_SUB_BITS)
/* Values are recorded exactly below 2*ASIM_HIST_SUB and log-linearly up to
 * 2^ASIM_HIST_MAX_BITS ns (about 417 days); above that they land in the top
 * bucket (max stays exact). The range covers the longest run a scenario may
 * ask for (366 days), so no latency, staleness or lag can exceed it: with 41
 * bits (36.6 min) every percentile above that was reported as the top
 * bucket's middle, 36.5 min, in long overloaded runs. */
#define ASIM_HIST_MAX_BITS 55
#define ASIM_HIST_BUCKETS ((ASIM_HIST_MAX_BITS - ASIM_HIST_SUB_BITS + 1) * ASIM_HIST_SUB)

struct asim_hist {
	uint64_t count;
	double sum;       /* of values, for the mean */
	int64_t min, max; /* exact; min = INT64_MAX when empty */
	uint64_t bucket[ASIM_HIST_BUCKETS];
};

void asim_hist_init(struct asim_hist *h);
/* asim_hist_init for a histogram whose bytes are all zero already (from
 * calloc): sets only what an empty histogram holds that is not zero, so
 * its buckets' pages are not touched until a value lands in them. The
 * run's outcome holds one histogram per operation name (ASIM_MAX_OPS of
 * them, 25 KiB each), and most are never recorded into. */
void asim_hist_init_zeroed(struct asim_hist *h);

/* Bucket index of a value (see the layout above). Inline, with the record
 * below, because every finished request records into several histograms. */
static inline size_t asim_hist_bucket_of(int64_t value)
{
	if (value < 0)
		value = 0;
	if (value >= ((int64_t)1 << ASIM_HIST_MAX_BITS))
		return ASIM_HIST_BUCKETS - 1;
	uint64_t v = (uint64_t)value;
	/* k is the octave of v, floored at ASIM_HIST_SUB_BITS so that values
	 * below 64 use a shift of 0 and land in the exact block. The OR keeps
	 * clz defined for 0. Block k-5 starts at (k-5)*64, and the sub-bucket is
	 * (v >> (k-6)) - 64, which together is (k-6)*64 + (v >> (k-6)). */
	int k = 63 - __builtin_clzll(v | ((uint64_t)1 << ASIM_HIST_SUB_BITS));
	int shift = k - ASIM_HIST_SUB_BITS;
	return ((size_t)shift << ASIM_HIST_SUB_BITS) + (size_t)(v >> shift);
}

/* Records a value >= 0 whose bucket the caller computed with
 * asim_hist_bucket_of(): one value recorded into several histograms (a
 * client's, the run's, the operation's, the window's) finds its bucket once. */
static inline void asim_hist_add(struct asim_hist *h, size_t bucket, int64_t value)
{
	h->bucket[bucket]++;
	h->count++;
	h->sum += (double)value;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
}

/* Records a value; negative values are recorded as 0. */
static inline void asim_hist_record(struct asim_hist *h, int64_t value)
{
	if (value < 0)
		value = 0;
	asim_hist_add(h, asim_hist_bucket_of(value), value);
}
/* Adds every sample of src into dst. */
void asim_hist_merge(struct asim_hist *dst, const struct asim_hist *src);
/* The q-quantile (0 <= q <= 1) by the nearest-rank rule on bucket
 * midpoints, clamped to [min, max]; 0 when empty. q = 1 gives max exactly. */
int64_t asim_hist_quantile(const struct asim_hist *h, double q);
double asim_hist_mean(const struct asim_hist *h);

/* Adds the latency figures of h, in ms, under the printf-style prefix:
 * "PREFIX.p50", ".p90", ".p95", ".p99", ".p999", ".max" and ".mean" (all 0
 * when h is empty). The one set reported end to end, per operation and per
 * component. */
void asim_hist_report(struct asim_results *r, const struct asim_hist *h, const char *prefixfmt,
                      ...) __attribute__((format(printf, 3, 4)));

/* The most a percentile reported as v (in any unit) can differ from the
 * sample's own percentile: half the width of v's bucket, which is at most
 * v / (2 * ASIM_HIST_SUB). Confidence intervals over replications add it:
 * when every replication's p99 falls in one bucket, the spread of the
 * reported values is 0, but the true values may differ by up to a bucket. */
static inline double asim_hist_quantile_error(double v)
{
	return (v < 0 ? -v : v) / (2.0 * ASIM_HIST_SUB);
}
/* Whether a results path names a histogram's percentile: its last part is
 * p50, p90, p95, p99 or p999 (as asim_hist_report writes them). */
bool asim_hist_quantile_path(const char *path);

/* The value range [lo, hi] a bucket covers; exposed for tests of the error
 * bound. */
void asim_hist_bucket_range(size_t bucket, int64_t *lo, int64_t *hi);

struct asim_tw {
	asim_time start;   /* when averaging began (reset time) */
	asim_time last;    /* time of the last change */
	double value;      /* current level */
	double area;       /* integral of the level since start, level x ns */
	double max;        /* highest level since start */
};

/* Starts averaging at now with the current level value. */
void asim_tw_init(struct asim_tw *tw, asim_time now, double value);
/* The level changes to value at now (now is non-decreasing). */
/* Inline: services change their levels on every arrival and departure. */
static inline void asim_tw_set(struct asim_tw *tw, asim_time now, double value)
{
	tw->area += tw->value * (double)(now - tw->last);
	tw->last = now;
	tw->value = value;
	if (value > tw->max)
		tw->max = value;
}
static inline void asim_tw_add(struct asim_tw *tw, asim_time now, double delta)
{
	asim_tw_set(tw, now, tw->value + delta);
}
/* Forgets the past (end of warm-up), keeping the current level. */
void asim_tw_reset(struct asim_tw *tw, asim_time now);
/* The average level over [start, now]; the current level when no time passed. */
double asim_tw_mean(const struct asim_tw *tw, asim_time now);

/* Mean and half-width of the 95% confidence interval of n values, using the
 * Student t quantile from GSL. n = 1 gives a half-width of 0 (no interval);
 * n = 0 gives mean 0. */
void asim_ci95(const double *values, size_t n, double *mean, double *halfwidth);
/* asim_ci95 of the values of a results path over replications: for a
 * percentile (asim_hist_quantile_path), the half-width also spans the
 * histogram's resolution at the mean (asim_hist_quantile_error). */
void asim_ci95_of(const char *path, const double *values, size_t n, double *mean,
                  double *halfwidth);
/* Whether path's figure is a share, between 0 and 1 (availability,
 * utilization, wait_probability, hit_ratio). */
bool asim_share_path(const char *path);
/* Clamps an interval [*lo, *hi] of a share (asim_share_path) to [0, 1];
 * other paths are left as they are. Not for differences of shares. */
void asim_ci_clamp(const char *path, double *lo, double *hi);

#endif
