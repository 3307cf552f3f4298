/* The classic hold benchmark of a pending-event set.
 *
 * A queue is filled with n entries; then each hold pops the earliest entry and
 * pushes a new one at its time plus a random increment, so the size stays n.
 * The figure is CPU time per hold (one pop plus one push), for asim_evq as
 * the kernel uses it (evq: switching by size), pinned to each of its three
 * structures (sorted, only at 10 entries: its pushes cost O(n); heap4;
 * ladder), and, in the same run and on the same
 * increments, for a plain binary heap written here as a yardstick. The
 * ratio is evq over the binary heap.
 *
 * Increment distributions: exponential (mean 1 s), Pareto (alpha 1.5, mean
 * 1 s: heavy-tailed, so some entries sit far in the future), and "shift",
 * which alternates between exponential with mean 1 s and mean 1 ms every n
 * holds, so the queue keeps being reshaped.
 *
 * Increments are drawn before timing (a cyclic table), so the figures measure
 * the queue and not the generator. The evq and binheap columns, whose ratio
 * is the figure of merit, are each the best of three runs: on a shared
 * machine a single run varies by 20% and more at a million entries.
 *
 * Usage: bench_hold [scale]   (scale multiplies the number of holds; default 1)
 *        bench_hold --one DIST N HOLDS
 *        (one run of evq as the kernel uses it, for perf or cachegrind: DIST
 *        is exponential, pareto1.5 or shift; N entries, HOLDS timed holds
 *        after as many untimed ones as entries, at most HOLDS; with
 *        BENCH_ONE_BINHEAP set, the binary heap runs too, on the same
 *        increments, for the ratio) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "archsim/evq.h"

/* A textbook binary heap: sift the last entry down from the root, comparing it
 * with the smaller child at each level. */
struct bheap {
	struct asim_evq_entry *h;
	size_t size, cap;
};

static int before(const struct asim_evq_entry *a, const struct asim_evq_entry *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

/* The caller sizes the heap up front (see run_bheap), so pushes never grow it. */
static void bheap_push(struct bheap *q, asim_time time, uint64_t seq, uint32_t slot)
{
	struct asim_evq_entry e = {time, seq, slot};
	size_t i = q->size++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&e, &q->h[p]))
			break;
		q->h[i] = q->h[p];
		i = p;
	}
	q->h[i] = e;
}

static void bheap_pop(struct bheap *q, struct asim_evq_entry *out)
{
	*out = q->h[0];
	struct asim_evq_entry last = q->h[--q->size];
	size_t n = q->size, i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(&q->h[c + 1], &q->h[c]))
			c++;
		if (!before(&q->h[c], &last))
			break;
		q->h[i] = q->h[c];
		i = c;
	}
	q->h[i] = last;
}

enum dist { EXPO, PARETO, SHIFT };
static const char *const dist_name[] = {"exponential", "pareto1.5", "shift"};

enum { TABLE = 1 << 20 };

/* CPU time of the process rather than wall time: on a shared machine the
 * figures then leave out the time other processes had the core (they still
 * include what they do to the caches). */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Increment table in ns. For SHIFT, the first half holds the slow phase and
 * the second half the fast one; the hold loop picks a half by phase. */
static void fill_table(asim_time *t, enum dist d, gsl_rng *r)
{
	for (size_t i = 0; i < TABLE; i++) {
		double s;
		switch (d) {
		case EXPO:
			s = gsl_ran_exponential(r, 1.0);
			break;
		case PARETO:
			/* Pareto with alpha 1.5 and scale b has mean 3b: b = 1/3. */
			s = gsl_ran_pareto(r, 1.5, 1.0 / 3.0);
			break;
		default:
			s = gsl_ran_exponential(r, i < TABLE / 2 ? 1.0 : 0.001);
			break;
		}
		double ns = s * 1e9;
		t[i] = ns > 1e17 ? (asim_time)1e17 : (asim_time)ns;
	}
}

static inline asim_time incr(const asim_time *t, enum dist d, uint64_t i, size_t n)
{
	if (d != SHIFT)
		return t[i & (TABLE - 1)];
	size_t half = TABLE / 2;
	size_t base = ((i / n) & 1) ? half : 0;
	return t[base + (i & (half - 1))];
}

static double run_evq(size_t n, uint64_t holds, const asim_time *t, enum dist d,
                      enum asim_evq_mode mode)
{
	struct asim_evq q;
	asim_evq_init(&q);
	if (!asim_evq_set_mode(&q, mode) || !asim_evq_reserve(&q, n + 1))
		return -1;
	uint64_t seq = 1, k = 0;
	for (size_t i = 0; i < n; i++, k++)
		asim_evq_push(&q, incr(t, d, k, n), seq++, (uint32_t)i);
	struct asim_evq_entry e;
	/* Warm up: let the queue reach its steady shape before timing. */
	uint64_t warm = holds < n ? holds : n;
	for (uint64_t i = 0; i < warm; i++, k++) {
		asim_evq_pop(&q, &e);
		asim_evq_push(&q, e.time + incr(t, d, k, n), seq++, e.slot);
	}
	double t0 = now_s();
	for (uint64_t i = 0; i < holds; i++, k++) {
		asim_evq_pop(&q, &e);
		asim_evq_push(&q, e.time + incr(t, d, k, n), seq++, e.slot);
	}
	double t1 = now_s();
	asim_evq_finish(&q);
	return (t1 - t0) * 1e9 / (double)holds;
}

static double run_bheap(size_t n, uint64_t holds, const asim_time *t, enum dist d)
{
	struct bheap q = {malloc((n + 1) * sizeof(*q.h)), 0, n + 1};
	if (!q.h)
		return -1;
	uint64_t seq = 1, k = 0;
	for (size_t i = 0; i < n; i++, k++)
		bheap_push(&q, incr(t, d, k, n), seq++, (uint32_t)i);
	struct asim_evq_entry e;
	uint64_t warm = holds < n ? holds : n;
	for (uint64_t i = 0; i < warm; i++, k++) {
		bheap_pop(&q, &e);
		bheap_push(&q, e.time + incr(t, d, k, n), seq++, e.slot);
	}
	double t0 = now_s();
	for (uint64_t i = 0; i < holds; i++, k++) {
		bheap_pop(&q, &e);
		bheap_push(&q, e.time + incr(t, d, k, n), seq++, e.slot);
	}
	double t1 = now_s();
	free(q.h);
	return (t1 - t0) * 1e9 / (double)holds;
}

/* The smallest of three figures, or -1 if any run failed. */
static double best_of_3(const double f[3])
{
	double m = f[0];
	for (int i = 0; i < 3; i++) {
		if (f[i] < 0)
			return -1;
		if (f[i] < m)
			m = f[i];
	}
	return m;
}

static double best_of_3_evq(size_t n, uint64_t holds, const asim_time *t, enum dist d)
{
	double f[3];
	for (int i = 0; i < 3; i++)
		f[i] = run_evq(n, holds, t, d, ASIM_EVQ_AUTO);
	return best_of_3(f);
}

static double best_of_3_bheap(size_t n, uint64_t holds, const asim_time *t, enum dist d)
{
	double f[3];
	for (int i = 0; i < 3; i++)
		f[i] = run_bheap(n, holds, t, d);
	return best_of_3(f);
}

/* The increment table of d, the same in every mode of the program. */
static void fill_table_of(asim_time *t, enum dist d, gsl_rng *r)
{
	gsl_rng_set(r, 12345u + (unsigned long)d);
	fill_table(t, d, r);
}

/* bench_hold --one DIST N HOLDS (args: what follows --one): prints the CPU
 * ns per hold of one run. */
static int run_one(int argc, char **argv)
{
	int d = -1;
	unsigned long long n = 0, holds = 0;
	if (argc == 3) {
		for (int i = EXPO; i <= SHIFT; i++)
			if (!strcmp(argv[0], dist_name[i]))
				d = i;
		char *end1, *end2;
		n = strtoull(argv[1], &end1, 10);
		holds = strtoull(argv[2], &end2, 10);
		if (*end1 || *end2)
			d = -1;
	}
	if (d < 0 || n < 1 || n > (1ULL << 30) || holds < 1) {
		fprintf(stderr, "usage: bench_hold --one exponential|pareto1.5|shift N HOLDS\n");
		return 2;
	}
	asim_time *t = malloc(TABLE * sizeof(*t));
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	if (!t || !r) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	fill_table_of(t, (enum dist)d, r);
	double ns = run_evq((size_t)n, holds, t, (enum dist)d, ASIM_EVQ_AUTO);
	double bh = getenv("BENCH_ONE_BINHEAP") ? run_bheap((size_t)n, holds, t, (enum dist)d) : 0;
	gsl_rng_free(r);
	free(t);
	if (ns < 0 || bh < 0) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	printf("%s %llu: %.1f ns per hold", dist_name[d], n, ns);
	if (bh > 0)
		printf(" (binary heap right after: %.1f, ratio %.2f)", bh, ns / bh);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--one"))
		return run_one(argc - 2, argv + 2);
	double scale = 1.0;
	if (argc > 1) {
		char *end;
		scale = strtod(argv[1], &end);
		if (*end || !(scale > 0)) {
			fprintf(stderr, "usage: %s [scale]\n", argv[0]);
			return 2;
		}
	}
	static const size_t sizes[] = {10, 1000, 100000, 1000000};
	static const uint64_t base_holds[] = {20000000, 10000000, 4000000, 2000000};
	asim_time *t = malloc(TABLE * sizeof(*t));
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	if (!t || !r) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	printf("%-12s %8s %9s %9s %9s %9s %11s %7s\n", "dist", "n", "evq_ns", "sorted_ns", "heap4_ns",
	       "ladder_ns", "binheap_ns", "ratio");
	for (int d = EXPO; d <= SHIFT; d++) {
		fill_table_of(t, (enum dist)d, r);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint64_t holds = (uint64_t)((double)base_holds[i] * scale);
			if (holds < 1)
				holds = 1;
			double a = best_of_3_evq(sizes[i], holds, t, (enum dist)d);
			double so = sizes[i] <= 100 ? run_evq(sizes[i], holds, t, (enum dist)d, ASIM_EVQ_SORTED)
			                            : 0;
			double h = run_evq(sizes[i], holds, t, (enum dist)d, ASIM_EVQ_HEAP);
			double l = run_evq(sizes[i], holds, t, (enum dist)d, ASIM_EVQ_LADDER);
			double b = best_of_3_bheap(sizes[i], holds, t, (enum dist)d);
			if (a < 0 || so < 0 || h < 0 || l < 0 || b < 0) {
				fprintf(stderr, "out of memory\n");
				return 1;
			}
			char sorted[16] = "-";
			if (so > 0)
				snprintf(sorted, sizeof(sorted), "%.1f", so);
			printf("%-12s %8zu %9.1f %9s %9.1f %9.1f %11.1f %7.2f\n", dist_name[d], sizes[i], a,
			       sorted, h, l, b, a / b);
			fflush(stdout);
		}
	}
	gsl_rng_free(r);
	free(t);
	return 0;
}
