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

/* The rows MSER may judge: those that end by the first fault's start. A
 * fault is what the run is there to measure, not a transient to discard,
 * and MSER would take the fault and the recovery after it for one: a slow
 * api from 60 s to 80 s of queue-buildup.yaml gave a cut at 90 s, and p99
 * 625 ms instead of 7080 ms. A fault that spans the whole run is the steady
 * state itself and bounds nothing. */
static size_t rows_before_faults(const struct asim_series *ser, asim_time duration)
{
	asim_time limit = duration;
	for (size_t i = 0; i < ser->nfaults; i++) {
		const struct asim_fault_window *f = &ser->faults[i];
		if (f->start <= 0 && f->end >= duration)
			continue;
		if (f->start < limit)
			limit = f->start;
	}
	size_t n = 0;
	while (n < ser->nrows && ser->rows[n].end <= limit)
		n++;
	return n;
}

bool asim_warmup_auto(struct asim_scenario *s, struct asim_diag *d)
{
	asim_time keep = s->warmup;
	s->warmup = 0;
	struct asim_series ser;
	asim_series_init(&ser);
	struct asim_results r;
	asim_results_init(&r);
	enum asim_run_status st = asim_series_run(s, 0, &ser, &r, d);
	asim_results_finish(&r);
	bool ok = st == ASIM_RUN_DONE && !ser.oom && ser.nrows > 0;
	double *y = ok ? malloc(ser.nrows * sizeof *y) : NULL;
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
	size_t n = rows_before_faults(&ser, s->duration);
	size_t cut = first < n ? asim_mser5(y, n) : 0;
	s->warmup = cut ? ser.rows[cut].start : 0;
	free(y);
	asim_series_finish(&ser);
	return true;
}
