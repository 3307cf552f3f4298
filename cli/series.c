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

/* The files of --out while the run goes: the directory, made before the
 * run so that series.csv can be written there as the windows complete. */
struct asim_series_out {
	char *dir;
	int dir_err;  /* mkdir's errno, reported by asim_series_write */
	bool made;    /* the directory did not exist */
	bool long_name;
	bool header;  /* series.csv has its header line */
	struct asim_output_file csv;
};

void asim_series_init(struct asim_series *ser)
{
	memset(ser, 0, sizeof *ser);
	asim_hist_init(&ser->cdf);
}

static void out_destroy(struct asim_series_out *out)
{
	if (!out)
		return;
	asim_output_discard(&out->csv);
	/* A run that wrote nothing leaves no directory it made: rmdir removes
	 * only an empty one. */
	if (out->made)
		rmdir(out->dir);
	free(out->dir);
	free(out);
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
	asim_recovery_judge_destroy(ser->judge);
	out_destroy(ser->out);
	memset(ser, 0, sizeof *ser);
}

/* The path of file name in dir into buf; false when it does not fit. */
static bool file_path(char *buf, size_t n, const char *dir, const char *name)
{
	return snprintf(buf, n, "%s/%s", dir, name) < (int)n;
}

void asim_series_out(struct asim_series *ser, const char *dir)
{
	struct asim_series_out *out = calloc(1, sizeof *out);
	if (out)
		out->dir = strdup(dir);
	if (!out || !out->dir) {
		free(out);
		ser->oom = true;
		return;
	}
	ser->out = out;
	if (mkdir(dir, 0777) == 0)
		out->made = true;
	else if (errno != EEXIST)
		out->dir_err = errno;
	char path[4096];
	if (out->dir_err)
		return;
	if (!file_path(path, sizeof path, dir, asim_series_files[0]))
		out->long_name = true;
	else
		asim_output_open(&out->csv, path);
}

static void window_reset(struct asim_outcome *o)
{
	memset(&o->window, 0, sizeof o->window);
	asim_hist_init_zeroed(&o->window.latency);
}

/* The column set comes from the first window: a sample op adds the same
 * paths every time, so later windows only look their values up. */
static bool take_columns(struct asim_series *ser, const struct asim_results *sample)
{
	ser->cols = calloc(sample->n ? sample->n : 1, sizeof *ser->cols);
	ser->vals = calloc(sample->n ? sample->n : 1, sizeof *ser->vals);
	if (!ser->cols || !ser->vals)
		return false;
	for (size_t i = 0; i < sample->n; i++) {
		ser->cols[i] = strdup(sample->v[i].path);
		if (!ser->cols[i])
			return false;
		ser->ncols++;
	}
	return true;
}

static bool keep(struct asim_series *ser, const struct asim_series_row *row)
{
	if (ser->nrows == ser->cap) {
		size_t cap = ser->cap ? 2 * ser->cap : 64;
		struct asim_series_row *rows = realloc(ser->rows, cap * sizeof *rows);
		if (!rows)
			return false;
		ser->rows = rows;
		ser->cap = cap;
	}
	ser->rows[ser->nrows++] = *row;
	return true;
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

static void put_header(FILE *f, const struct asim_series *ser)
{
	fputs("t_start_s,t_end_s,warmup,offered_rps,succeeded_rps,rejected_rps,failed_rps,"
	      "retries_rps,availability,p50_ms,p95_ms,p99_ms",
	      f);
	for (size_t j = 0; j < ser->ncols; j++)
		fprintf(f, ",%s", ser->cols[j]);
	fputc('\n', f);
}

static void put_row(FILE *f, const struct asim_series_row *row, const double *vals, size_t ncols)
{
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
	for (size_t j = 0; j < ncols; j++) {
		fputc(',', f);
		put_num(f, vals[j]);
	}
	fputc('\n', f);
}

/* Appends a row (the header first) to series.csv; a failed write is kept
 * for asim_series_write to report, and the rows after it are not written. */
static void stream_row(struct asim_series *ser, const struct asim_series_row *row)
{
	struct asim_series_out *out = ser->out;
	if (!out || !out->csv.f || out->csv.err)
		return;
	errno = 0;
	if (!out->header)
		put_header(out->csv.f, ser);
	out->header = true;
	if (row)
		put_row(out->csv.f, row, ser->vals, ser->ncols);
	if (ferror(out->csv.f))
		asim_output_failed(&out->csv);
}

static bool record_row(struct asim_series *ser, struct asim_kernel *k, const struct asim_outcome *o,
                       asim_time start, asim_time end, asim_time keep_until)
{
	struct asim_results sample;
	asim_results_init(&sample);
	for (size_t i = 0; i < asim_kernel_count(k); i++) {
		const struct asim_component *c = asim_kernel_component(k, (uint32_t)i);
		if (c->ops->sample)
			c->ops->sample(c, &sample);
	}
	bool ok = !sample.oom && (ser->windows || take_columns(ser, &sample));
	if (ok) {
		const struct asim_window *w = &o->window;
		double len = asim_time_to_seconds(end - start);
		struct asim_series_row row;
		row.start = start;
		row.end = end;
		row.warmup = start < asim_kernel_warmup(k);
		row.offered = (double)w->offered / len;
		row.succeeded = (double)w->succeeded / len;
		row.rejected = (double)w->rejected / len;
		row.failed = (double)w->failed / len;
		row.retries = (double)w->retries / len;
		row.availability = w->finished ? (double)w->succeeded / (double)w->finished : NAN;
		bool any = w->latency.count > 0;
		row.p50 = any ? asim_time_to_ms(asim_hist_quantile(&w->latency, 0.5)) : NAN;
		row.p95 = any ? asim_time_to_ms(asim_hist_quantile(&w->latency, 0.95)) : NAN;
		row.p99 = any ? asim_time_to_ms(asim_hist_quantile(&w->latency, 0.99)) : NAN;
		row.mean = any ? asim_hist_mean(&w->latency) / (double)ASIM_MS : NAN;
		for (size_t j = 0; j < ser->ncols; j++)
			ser->vals[j] = asim_results_num(&sample, ser->cols[j], NAN);
		ser->windows++;
		if (ser->judge)
			asim_recovery_judge_row(ser->judge, &row);
		stream_row(ser, &row);
		if (ser->keep_rows && end <= keep_until)
			ok = keep(ser, &row);
	}
	asim_results_finish(&sample);
	return ok;
}

/* The end of the run's fault-free start, which keep_rows keeps: the first
 * fault's start, or the run's end. A fault is what the run is there to
 * measure, not a transient to discard, and MSER would take the fault and
 * the recovery after it for one: a slow api from 60 s to 80 s of
 * queue-buildup.yaml gave a cut at 90 s, and p99 625 ms instead of
 * 7080 ms. A fault that spans the whole run is the steady state itself and
 * bounds nothing. */
static asim_time fault_free_end(const struct asim_fault_window *w, size_t n, asim_time duration)
{
	asim_time limit = duration;
	for (size_t i = 0; i < n; i++) {
		if (w[i].start <= 0 && w[i].end >= duration)
			continue;
		if (w[i].start < limit)
			limit = w[i].start;
	}
	return limit;
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
	/* The fault timeline is fixed before the run (faults.h): the windows,
	 * clipped to the run's end, are known now, so recovery is judged as
	 * the rows come and no row need be kept for it. */
	const struct asim_fault_window *w;
	size_t nw = asim_faults_windows(k, s->duration, &w);
	asim_time keep_until = fault_free_end(w, nw, s->duration);
	enum asim_run_status st = ASIM_RUN_DONE;
	if (nw && !(ser->judge = asim_recovery_judge_create(w, nw))) {
		ser->oom = true;
		st = ASIM_RUN_NOMEM;
	}
	o->windowed = true;
	window_reset(o);
	for (asim_time t = 0; t < s->duration && st == ASIM_RUN_DONE;) {
		asim_time end = s->duration - t > s->window ? t + s->window : s->duration;
		/* Stepping to the end of warm-up as well keeps the run identical
		 * to an unstepped one: the kernel ends warm-up when it first
		 * runs past it, which would otherwise be at a window edge. */
		if (t < s->warmup && s->warmup < end)
			st = asim_kernel_run(k, s->warmup);
		if (st == ASIM_RUN_DONE)
			st = asim_kernel_run(k, end);
		if (st == ASIM_RUN_DONE && !record_row(ser, k, o, t, end, keep_until)) {
			ser->oom = true;
			st = ASIM_RUN_NOMEM;
		}
		window_reset(o);
		t = end;
		asim_progress_update(s->progress, rep, t);
	}
	asim_kernel_finish(k);
	asim_outcome_latency(o, &ser->cdf);
	/* A run stopped early clips its windows where it stopped. */
	nw = asim_faults_windows(k, asim_now(k), &w);
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

size_t asim_series_bytes(const struct asim_series *ser)
{
	size_t n = ser->cap * sizeof *ser->rows + ser->nfaults * sizeof *ser->faults +
	           asim_recovery_judge_bytes(ser->judge);
	if (ser->cols)
		n += (ser->ncols ? ser->ncols : 1) * (sizeof *ser->cols + sizeof *ser->vals);
	for (size_t i = 0; i < ser->ncols; i++)
		n += strlen(ser->cols[i]) + 1;
	const struct asim_series_out *out = ser->out;
	if (out) {
		n += sizeof *out + strlen(out->dir) + 1;
		if (out->csv.path)
			n += strlen(out->csv.path) + 1;
		if (out->csv.tmp)
			n += strlen(out->csv.tmp) + 1;
	}
	return n;
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

bool asim_series_write(struct asim_series *ser, const struct asim_results *r)
{
	struct asim_series_out *out = ser->out;
	if (!out) { /* asim_series_out ran out of memory, or was not called */
		fprintf(stderr, "archsim: cannot write the time series: out of memory\n");
		return false;
	}
	if (out->dir_err) {
		fprintf(stderr, "archsim: cannot create %s: %s\n", out->dir, strerror(out->dir_err));
		return false;
	}
	if (out->long_name) {
		fprintf(stderr, "archsim: cannot write in %s: the name is too long\n", out->dir);
		return false;
	}
	/* A run without a single window still gets series.csv's header. */
	stream_row(ser, NULL);
	if (!asim_output_commit(&out->csv))
		return false;
	bool (*const writers[])(FILE *, const void *) = {write_cdf, write_faults,
	                                                 asim_write_results_json};
	const void *args[] = {&ser->cdf, ser, r};
	bool ok = true;
	for (size_t i = 1; i < ASIM_SERIES_NFILES && ok; i++) {
		char path[4096];
		if (!file_path(path, sizeof path, out->dir, asim_series_files[i])) {
			fprintf(stderr, "archsim: cannot write in %s: the name is too long\n", out->dir);
			return false;
		}
		ok = asim_output_write(path, writers[i - 1], args[i - 1]);
	}
	return ok;
}
