#include "warmup.h"

#include <math.h>
#include <stdlib.h>

#include "series.h"

#define BATCH 5

size_t asim_mser5(const double *y, size_t n)
{
	size_t nb = n / BATCH;
	if (nb < 2)
		return 0;
	double *b = malloc(nb * sizeof *b);
	if (!b)
		return 0;
	for (size_t j = 0; j < nb; j++) {
		double sum = 0;
		for (size_t i = 0; i < BATCH; i++)
			sum += y[j * BATCH + i];
		b[j] = sum / BATCH;
	}
	/* Suffix sums give every candidate's mean and spread in one pass from
	 * the end: sum of squares about the mean = S2 - S1^2 / m. */
	double s1 = 0, s2 = 0, best = INFINITY;
	size_t cut = 0;
	for (size_t d = nb; d-- > 0;) {
		s1 += b[d];
		s2 += b[d] * b[d];
		size_t m = nb - d;
		if (d > nb / 2 || m < 2)
			continue;
		double ss = s2 - s1 * s1 / (double)m;
		double mser = (ss < 0 ? 0 : ss) / ((double)m * (double)m);
		/* Ties go to the earlier cut: keep as much data as possible. */
		if (mser <= best) {
			best = mser;
			cut = d;
		}
	}
	free(b);
	return cut * BATCH;
}

bool asim_warmup_auto(struct asim_scenario *s, struct asim_diag *d)
{
	asim_time keep = s->warmup;
	s->warmup = 0;
	/* MSER needs the mean of every window it judges at once (its sums run
	 * back from the last window, and a cut is only known at the end): the pilot
	 * keeps the rows of the run's fault-free start (keep_rows: up to the
	 * first fault, see series.h), which is the whole pilot when the
	 * scenario has no fault. The pilot is a full run of the scenario
	 * (duration, no warm-up), so this memory grows with the duration, by
	 * sizeof(struct asim_series_row) per window; the runs after it keep
	 * no row. */
	struct asim_series ser;
	asim_series_init(&ser);
	ser.keep_rows = true;
	struct asim_results r;
	asim_results_init(&r);
	enum asim_run_status st = asim_series_run(s, 0, &ser, &r, d);
	asim_results_finish(&r);
	bool ok = st == ASIM_RUN_DONE && !ser.oom && ser.windows > 0;
	double *y = ok ? malloc((ser.nrows ? ser.nrows : 1) * sizeof *y) : NULL;
	if (!y) {
		asim_series_finish(&ser);
		s->warmup = keep;
		asim_diag_error(d, s->components->mark,
		                "'warmup: auto' could not run its pilot (%s)",
		                st == ASIM_RUN_DONE ? "out of memory" : asim_run_status_str(st));
		return false;
	}
	double last = NAN;
	for (size_t i = 0; i < ser.nrows; i++) {
		if (!isnan(ser.rows[i].mean))
			last = ser.rows[i].mean;
		y[i] = last;
	}
	/* Leading windows without a success take the first defined value. */
	size_t first = 0;
	while (first < ser.nrows && isnan(y[first]))
		first++;
	for (size_t i = 0; i < first && first < ser.nrows; i++)
		y[i] = y[first];
	size_t n = ser.nrows;
	size_t cut = first < n ? asim_mser5(y, n) : 0;
	s->warmup = cut ? ser.rows[cut].start : 0;
	free(y);
	asim_series_finish(&ser);
	return true;
}
