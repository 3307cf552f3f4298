#include "series.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archsim/model.h"
#include "output.h"
#include "recovery.h"

void asim_series_init(struct asim_series *ser)
{
	memset(ser, 0, sizeof *ser);
	asim_hist_init(&ser->cdf);
}

void asim_series_finish(struct asim_series *ser)
{
	if (!ser)
		return;
	for (size_t i = 0; i < ser->ncols; i++)
		free(ser->cols[i]);
	free(ser->cols);
	free(ser->rows);
	free(ser->vals);
	free(ser->faults);
	memset(ser, 0, sizeof *ser);
}

static void window_reset(struct asim_outcome *o)
{
	memset(&o->window, 0, sizeof o->window);
	asim_hist_init(&o->window.latency);
}

/* The column set comes from the first window: a sample op adds the same
 * paths every time, so later windows only look their values up. */
static bool take_columns(struct asim_series *ser, const struct asim_results *sample)
{
	ser->cols = calloc(sample->n ? sample->n : 1, sizeof *ser->cols);
	if (!ser->cols)
		return false;
	for (size_t i = 0; i < sample->n; i++) {
		ser->cols[i] = strdup(sample->v[i].path);
		if (!ser->cols[i])
			return false;
		ser->ncols++;
	}
	return true;
}

static bool grow(struct asim_series *ser)
{
	if (ser->nrows < ser->cap)
		return true;
	size_t cap = ser->cap ? 2 * ser->cap : 64;
	struct asim_series_row *rows = realloc(ser->rows, cap * sizeof *rows);
	if (!rows)
		return false;
	ser->rows = rows;
	double *vals = realloc(ser->vals, cap * (ser->ncols ? ser->ncols : 1) * sizeof *vals);
	if (!vals)
		return false;
	ser->vals = vals;
	ser->cap = cap;
	return true;
}

static bool record_row(struct asim_series *ser, struct asim_kernel *k, const struct asim_outcome *o,
                       asim_time start, asim_time end)
{
	struct asim_results sample;
	asim_results_init(&sample);
	for (size_t i = 0; i < asim_kernel_count(k); i++) {
		const struct asim_component *c = asim_kernel_component(k, (uint32_t)i);
		if (c->ops->sample)
			c->ops->sample(c, &sample);
	}
	bool ok = !sample.oom && (ser->nrows || take_columns(ser, &sample)) && grow(ser);
	if (ok) {
		const struct asim_window *w = &o->window;
		double len = asim_time_to_seconds(end - start);
		struct asim_series_row *row = &ser->rows[ser->nrows];
		row->start = start;
		row->end = end;
		row->warmup = start < asim_kernel_warmup(k);
		row->offered = (double)w->offered / len;
		row->succeeded = (double)w->succeeded / len;
		row->rejected = (double)w->rejected / len;
		row->failed = (double)w->failed / len;
		row->retries = (double)w->retries / len;
		row->availability = w->finished ? (double)w->succeeded / (double)w->finished : NAN;
		bool any = w->latency.count > 0;
		row->p50 = any ? asim_time_to_ms(asim_hist_quantile(&w->latency, 0.5)) : NAN;
		row->p95 = any ? asim_time_to_ms(asim_hist_quantile(&w->latency, 0.95)) : NAN;
		row->p99 = any ? asim_time_to_ms(asim_hist_quantile(&w->latency, 0.99)) : NAN;
		row->mean = any ? asim_hist_mean(&w->latency) / (double)ASIM_MS : NAN;
		for (size_t j = 0; j < ser->ncols; j++)
			ser->vals[ser->nrows * ser->ncols + j] = asim_results_num(&sample, ser->cols[j], NAN);
		ser->nrows++;
	}
	asim_results_finish(&sample);
	return ok;
}

enum asim_run_status asim_series_run(const struct asim_scenario *s, uint32_t rep,
                                     struct asim_series *ser, struct asim_results *r,
                                     struct asim_diag *d)
{
	struct asim_kernel *k = asim_scenario_build(s, rep, d);
	if (!k)
		return ASIM_RUN_NOMEM;
	struct asim_outcome *o = asim_kernel_outcome(k);
	if (!o) {
		asim_kernel_destroy(k);
		return ASIM_RUN_NOMEM;
	}
	window_reset(o);
	enum asim_run_status st = ASIM_RUN_DONE;
	for (asim_time t = 0; t < s->duration && st == ASIM_RUN_DONE;) {
		asim_time end = s->duration - t > s->window ? t + s->window : s->duration;
		/* Stepping to the end of warm-up as well keeps the run identical
		 * to an unstepped one: the kernel ends warm-up when it first
		 * runs past it, which would otherwise be at a window edge. */
		if (t < s->warmup && s->warmup < end)
			st = asim_kernel_run(k, s->warmup);
		if (st == ASIM_RUN_DONE)
			st = asim_kernel_run(k, end);
		if (st == ASIM_RUN_DONE && !record_row(ser, k, o, t, end)) {
			ser->oom = true;
			st = ASIM_RUN_NOMEM;
		}
		window_reset(o);
		t = end;
		asim_progress_update(s->progress, rep, t);
	}
	asim_kernel_finish(k);
	ser->cdf = o->latency;
	const struct asim_fault_window *w;
	size_t nw = asim_faults_windows(k, asim_now(k), &w);
	if (nw) {
		ser->faults = malloc(nw * sizeof *ser->faults);
		if (ser->faults) {
			memcpy(ser->faults, w, nw * sizeof *w);
			ser->nfaults = nw;
		} else {
			ser->oom = true;
			st = ASIM_RUN_NOMEM;
		}
	}
	asim_scenario_collect(s, k, st, r);
	asim_recovery_report(ser, r);
	asim_kernel_destroy(k);
	return st;
}

static void put_num(FILE *f, double v)
{
	char buf[64];
	if (isnan(v)) {
		fputs("NaN", f);
		return;
	}
	asim_format_number(buf, sizeof buf, ASIM_VAL_REAL, v);
	fputs(buf, f);
}

static bool write_series(FILE *f, const void *arg)
{
	const struct asim_series *ser = arg;
	fputs("t_start_s,t_end_s,warmup,offered_rps,succeeded_rps,rejected_rps,failed_rps,"
	      "retries_rps,availability,p50_ms,p95_ms,p99_ms",
	      f);
	for (size_t j = 0; j < ser->ncols; j++)
		fprintf(f, ",%s", ser->cols[j]);
	fputc('\n', f);
	for (size_t i = 0; i < ser->nrows; i++) {
		const struct asim_series_row *row = &ser->rows[i];
		const double v[] = {row->offered, row->succeeded, row->rejected, row->failed,
		                    row->retries, row->availability, row->p50, row->p95, row->p99};
		put_num(f, asim_time_to_seconds(row->start));
		fputc(',', f);
		put_num(f, asim_time_to_seconds(row->end));
		fprintf(f, ",%d", row->warmup ? 1 : 0);
		for (size_t j = 0; j < sizeof v / sizeof v[0]; j++) {
			fputc(',', f);
			put_num(f, v[j]);
		}
		for (size_t j = 0; j < ser->ncols; j++) {
			fputc(',', f);
			put_num(f, ser->vals[i * ser->ncols + j]);
		}
		fputc('\n', f);
	}
	return !ferror(f);
}

/* One row per non-empty bucket: the bucket's upper edge (clamped to the
 * exact maximum) and the share of samples at or below it. */
static bool write_cdf(FILE *f, const void *arg)
{
	const struct asim_hist *h = arg;
	fputs("latency_ms,fraction\n", f);
	uint64_t below = 0;
	for (size_t b = 0; b < ASIM_HIST_BUCKETS && h->count; b++) {
		if (!h->bucket[b])
			continue;
		below += h->bucket[b];
		int64_t lo, hi;
		asim_hist_bucket_range(b, &lo, &hi);
		if (hi > h->max)
			hi = h->max;
		put_num(f, asim_time_to_ms(hi));
		fputc(',', f);
		put_num(f, (double)below / (double)h->count);
		fputc('\n', f);
	}
	return !ferror(f);
}

static bool write_faults(FILE *f, const void *arg)
{
	const struct asim_series *ser = arg;
	fputs("start_s,end_s,label\n", f);
	for (size_t i = 0; i < ser->nfaults; i++) {
		put_num(f, asim_time_to_seconds(ser->faults[i].start));
		fputc(',', f);
		put_num(f, asim_time_to_seconds(ser->faults[i].end));
		fprintf(f, ",%s\n", ser->faults[i].label);
	}
	return !ferror(f);
}

bool asim_write_results_json(FILE *f, const void *arg)
{
	return asim_results_write_json(arg, f);
}

const char *const asim_series_files[ASIM_SERIES_NFILES] = {"series.csv", "cdf.csv",
                                                           "faults.csv", "results.json"};

bool asim_series_write(const struct asim_series *ser, const struct asim_results *r,
                       const char *dir)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "archsim: cannot create %s: %s\n", dir, strerror(errno));
		return false;
	}
	bool (*const writers[])(FILE *, const void *) = {write_series, write_cdf, write_faults,
	                                                 asim_write_results_json};
	const void *args[] = {ser, &ser->cdf, ser, r};
	bool ok = true;
	for (size_t i = 0; i < ASIM_SERIES_NFILES && ok; i++) {
		char path[4096];
		if (snprintf(path, sizeof path, "%s/%s", dir, asim_series_files[i]) >= (int)sizeof path) {
			fprintf(stderr, "archsim: cannot write in %s: the name is too long\n", dir);
			return false;
		}
		ok = asim_output_write(path, writers[i], args[i]);
	}
	return ok;
}
