#include "recovery.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct asim_recovery asim_recovery_of(const struct asim_series_row *rows, size_t nrows,
                                      asim_time start, asim_time end)
{
	struct asim_recovery v = {.recovery_s = NAN};
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < nrows; i++) {
		if (!rows[i].warmup && rows[i].end <= start && rows[i].start >= start - RECOVERY_BASELINE) {
			sum += rows[i].succeeded;
			n++;
		}
	}
	if (!n)
		return v;
	v.judged = true;
	v.baseline_rps = sum / (double)n;
	double need = RECOVERY_SHARE * v.baseline_rps;
	asim_time last = end;
	for (size_t i = 0; i < nrows; i++) {
		if (rows[i].start < end)
			continue;
		last = rows[i].end;
		size_t good = 0;
		while (good < RECOVERY_HOLD && i + good < nrows && rows[i + good].succeeded >= need)
			good++;
		if (good == RECOVERY_HOLD || (good > 0 && i + good == nrows)) {
			v.recovered = true;
			v.recovery_s = asim_time_to_seconds(rows[i].start - end);
			return v;
		}
	}
	v.metastable = last - end >= RECOVERY_WATCH;
	return v;
}

/* One fault window under judgement: its baseline so far, then its current
 * run of windows at RECOVERY_SHARE of the baseline. */
struct watch {
	asim_time start, end;
	double sum;         /* goodput of the baseline windows, summed in time order */
	size_t n;           /* baseline windows */
	double need;        /* RECOVERY_SHARE of the baseline, once past the end */
	bool past;          /* a window starting at or after end was fed */
	size_t streak;      /* windows at need in a row, the last one fed among them */
	asim_time streak_start;
	asim_time last;     /* end of the last window fed that starts at or after end */
	bool recovered;
	bool closed;        /* no later row changes the verdict */
};

struct asim_recovery_judge {
	struct watch *w;    /* by (start, end) */
	size_t n;
	size_t next;        /* the first window not yet open */
	size_t *open;       /* indexes of the open windows, in no order */
	size_t nopen;
	bool fed;
	asim_time last_start; /* of the last row fed */
};

static int by_start_end(const void *a, const void *b)
{
	const struct watch *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

struct asim_recovery_judge *asim_recovery_judge_create(const struct asim_fault_window *w,
                                                       size_t n)
{
	struct asim_recovery_judge *j = calloc(1, sizeof *j);
	if (!j)
		return NULL;
	j->w = calloc(n ? n : 1, sizeof *j->w);
	j->open = calloc(n ? n : 1, sizeof *j->open);
	if (!j->w || !j->open) {
		asim_recovery_judge_destroy(j);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		j->w[i].start = w[i].start;
		j->w[i].end = w[i].end;
		j->w[i].last = w[i].end;
	}
	/* Windows with equal start and end get equal verdicts, so their order
	 * among themselves does not matter. */
	qsort(j->w, n, sizeof *j->w, by_start_end);
	j->n = n;
	return j;
}

void asim_recovery_judge_destroy(struct asim_recovery_judge *j)
{
	if (!j)
		return;
	free(j->w);
	free(j->open);
	free(j);
}

/* The row as asim_recovery_of reads it: a measured window that ends by the
 * start and begins within RECOVERY_BASELINE of it adds to the baseline;
 * from the first window that starts at or after the end, each either
 * extends the run of good windows or breaks it. Windows in between (during
 * the fault, or across its start or end) count for nothing. */
static void feed(struct watch *x, const struct asim_series_row *row)
{
	if (row->end <= x->start) {
		if (!row->warmup && row->start >= x->start - RECOVERY_BASELINE) {
			x->sum += row->succeeded;
			x->n++;
		}
		return;
	}
	if (row->start < x->end)
		return;
	if (!x->n) {
		x->closed = true; /* no baseline, no verdict: nothing can add one now */
		return;
	}
	/* The baseline is complete: every window that ends by the start came
	 * before this one. */
	if (!x->past)
		x->need = RECOVERY_SHARE * (x->sum / (double)x->n);
	x->past = true;
	x->last = row->end;
	if (row->succeeded >= x->need) {
		if (!x->streak++)
			x->streak_start = row->start;
		if (x->streak == RECOVERY_HOLD)
			x->recovered = x->closed = true;
	} else {
		x->streak = 0;
	}
}

void asim_recovery_judge_row(struct asim_recovery_judge *j, const struct asim_series_row *row)
{
	/* A window opens with the first row that may count for its baseline;
	 * rows come in time order and windows are sorted by start, so the
	 * windows open in order. */
	while (j->next < j->n && j->w[j->next].start - RECOVERY_BASELINE <= row->start)
		j->open[j->nopen++] = j->next++;
	for (size_t k = 0; k < j->nopen;) {
		struct watch *x = &j->w[j->open[k]];
		feed(x, row);
		if (x->closed)
			j->open[k] = j->open[--j->nopen];
		else
			k++;
	}
	j->fed = true;
	j->last_start = row->start;
}

static struct asim_recovery verdict(const struct watch *x)
{
	struct asim_recovery v = {.recovery_s = NAN};
	if (!x->n)
		return v;
	v.judged = true;
	v.baseline_rps = x->sum / (double)x->n;
	/* A run of good windows still going when the rows end counts, however
	 * short, as asim_recovery_of has it: the run ended while they held. */
	if (x->recovered || x->streak) {
		v.recovered = true;
		v.recovery_s = asim_time_to_seconds(x->streak_start - x->end);
		return v;
	}
	v.metastable = x->last - x->end >= RECOVERY_WATCH;
	return v;
}

struct asim_recovery asim_recovery_judge_verdict(const struct asim_recovery_judge *j,
                                                 asim_time start, asim_time end)
{
	/* The first window with this start whose end is not before end. */
	size_t lo = 0, hi = j->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct watch *x = &j->w[mid];
		if (x->start < start || (x->start == start && x->end < end))
			lo = mid + 1;
		else
			hi = mid;
	}
	struct asim_recovery none = {.recovery_s = NAN};
	if (lo == j->n || j->w[lo].start != start)
		return none;
	const struct watch *x = &j->w[lo];
	/* A later end stands for this one only while no row has started at or
	 * after this one: both windows then have no row after them to judge. */
	if (x->end != end && j->fed && j->last_start >= end)
		return none;
	return verdict(x);
}

size_t asim_recovery_judge_bytes(const struct asim_recovery_judge *j)
{
	return j ? sizeof *j + j->n * (sizeof *j->w + sizeof *j->open) : 0;
}

void asim_recovery_report(const struct asim_series *ser, struct asim_results *r)
{
	for (size_t i = 0; i < ser->nfaults; i++) {
		const struct asim_fault_window *f = &ser->faults[i];
		struct asim_recovery v = ser->judge
		                             ? asim_recovery_judge_verdict(ser->judge, f->start, f->end)
		                             : asim_recovery_of(ser->rows, ser->nrows, f->start, f->end);
		if (!v.judged)
			continue;
		char name[100];
		size_t len = 0;
		for (const char *p = f->label; *p && len + 1 < sizeof name - 8; p++) {
			char ch = *p;
			bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			          (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
			name[len++] = ok ? ch : '_';
		}
		name[len] = '\0';
		char path[128];
		snprintf(path, sizeof path, "recovery.%s.label", name);
		/* Repeated faults share a label: number the later ones. */
		for (int k = 2; asim_results_get(r, path); k++) {
			snprintf(name + len, sizeof name - len, "_%d", k);
			snprintf(path, sizeof path, "recovery.%s.label", name);
		}
		asim_results_string(r, f->label, "recovery.%s.label", name);
		asim_results_real(r, asim_time_to_seconds(f->start), "recovery.%s.start_s", name);
		asim_results_real(r, asim_time_to_seconds(f->end), "recovery.%s.end_s", name);
		asim_results_real(r, v.baseline_rps, "recovery.%s.baseline_rps", name);
		asim_results_bool(r, v.recovered, "recovery.%s.recovered", name);
		asim_results_real(r, v.recovery_s, "recovery.%s.recovery_s", name);
		/* Not recovered, there is no recovery time (null): replications
		 * average the times of those that recovered, and "recovered"
		 * becomes the share that did. */
		if (!v.recovered)
			asim_results_unmeasured(r, "recovery.%s.recovery_s", name);
		asim_results_bool(r, v.metastable, "recovery.%s.metastable", name);
	}
}
