#include "replicate.h"
#include "mpi.h"
#include "archsim/stats.h"

#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The work shared by the threads of a parallel run. Each replication writes
 * only reps[i], diags[i] and status[i]; the next index is the one shared
 * counter, under the lock. */
struct pool {
	const struct asim_scenario *s;
	struct asim_series *series;
	struct asim_results *reps;
	struct asim_diag *diags;
	enum asim_run_status *status;
	uint32_t n, next;
	pthread_mutex_t lock;
};

enum asim_run_status asim_replicate_one(const struct asim_scenario *s, uint32_t i,
                                        struct asim_series *series, struct asim_results *r,
                                        struct asim_diag *d)
{
	if (i == 0 && series)
		return asim_series_run(s, i, series, r, d);
	if (asim_cfg_get(s->doc->root, "faults")) {
		/* Recovery after faults is judged on the time series, which a
		 * stepped run gives without changing a single draw. */
		struct asim_series ser;
		asim_series_init(&ser);
		enum asim_run_status st = asim_series_run(s, i, &ser, r, d);
		asim_series_finish(&ser);
		return st;
	}
	return asim_scenario_run(s, i, r, d);
}

static void run_one(struct pool *p, uint32_t i)
{
	p->status[i] = asim_replicate_one(p->s, i, p->series, &p->reps[i], &p->diags[i]);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		uint32_t i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->lock);
		if (i == p->n)
			return NULL;
		run_one(p, i);
	}
}

enum asim_run_status asim_replicate_runs(const struct asim_scenario *s, uint32_t n,
                                         uint32_t jobs, struct asim_series *series,
                                         struct asim_results *reps, struct asim_diag *d)
{
	struct asim_mark top = {.file = s->doc->file, .line = 0, .col = 0};
	struct pool p = {.s = s, .series = series, .reps = reps, .n = n};
	p.diags = calloc(n ? n : 1, sizeof *p.diags);
	p.status = calloc(n ? n : 1, sizeof *p.status);
	pthread_t *threads = NULL;
	if (jobs > n)
		jobs = n;
	if (jobs > 1)
		threads = calloc(jobs, sizeof *threads);
	if (!p.diags || !p.status || (jobs > 1 && !threads)) {
		asim_diag_error(d, top, "out of memory");
		free(p.diags);
		free(p.status);
		free(threads);
		return ASIM_RUN_NOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		asim_diag_init(&p.diags[i]);
	if (jobs <= 1) {
		for (uint32_t i = 0; i < n; i++)
			run_one(&p, i);
	} else {
		pthread_mutex_init(&p.lock, NULL);
		uint32_t started = 0;
		for (; started < jobs; started++)
			if (pthread_create(&threads[started], NULL, worker, &p) != 0)
				break;
		/* With no thread at all, the caller's thread does the work; with
		 * some, they take the rest between them. */
		if (started == 0)
			worker(&p);
		for (uint32_t t = 0; t < started; t++)
			pthread_join(threads[t], NULL);
		pthread_mutex_destroy(&p.lock);
	}
	enum asim_run_status st = ASIM_RUN_DONE;
	for (uint32_t i = 0; i < n; i++) {
		for (size_t e = 0; e < p.diags[i].n; e++)
			asim_diag_error(d, p.diags[i].v[e].mark, "%s", p.diags[i].v[e].msg);
		asim_diag_finish(&p.diags[i]);
		if (st == ASIM_RUN_DONE && p.status[i] != ASIM_RUN_DONE)
			st = p.status[i];
	}
	free(p.diags);
	free(p.status);
	free(threads);
	return st;
}

/* The value at path in r, trying index hint first: replications of one
 * scenario list their paths in the same order, so the hint nearly always
 * hits and aggregation stays linear. */
static const struct asim_value *lookup(const struct asim_results *r, size_t hint, const char *path)
{
	if (hint < r->n && !strcmp(r->v[hint].path, path))
		return &r->v[hint];
	return asim_results_get(r, path);
}

/* Copies a value as it is, a placeholder staying one. */
static void copy_value(struct asim_results *out, const struct asim_value *v)
{
	switch (v->kind) {
	case ASIM_VAL_STRING:
		asim_results_string(out, v->str, "%s", v->path);
		break;
	case ASIM_VAL_CI:
		asim_results_ci(out, v->num, v->lo, v->hi, "%s", v->path);
		break;
	case ASIM_VAL_COUNT:
		asim_results_count(out, (uint64_t)v->num, "%s", v->path);
		break;
	case ASIM_VAL_BOOL:
		asim_results_bool(out, v->num != 0, "%s", v->path);
		break;
	case ASIM_VAL_REAL:
		asim_results_real(out, v->num, "%s", v->path);
		break;
	case ASIM_VAL_LIST:
		asim_results_list(out, "%s", v->path);
		break;
	}
	if (v->unmeasured)
		asim_results_unmeasured(out, "%s", v->path);
}

static bool is_setting(const char *path)
{
	return !strcmp(path, "seed") || !strcmp(path, "duration_s") || !strcmp(path, "warmup_s");
}

void asim_replicate_aggregate(const struct asim_results *reps, uint32_t n,
                              struct asim_results *out)
{
	if (n == 1) {
		for (size_t i = 0; i < reps[0].n; i++)
			copy_value(out, &reps[0].v[i]);
		out->oom |= reps[0].oom;
		return;
	}
	double *vals = malloc(n * sizeof *vals);
	if (!vals) {
		out->oom = true;
		return;
	}
	for (uint32_t r = 0; r < n; r++) {
		out->oom |= reps[r].oom;
		for (size_t i = 0; i < reps[r].n; i++) {
			const struct asim_value *v = &reps[r].v[i];
			if (asim_results_get(out, v->path))
				continue;
			if (v->kind == ASIM_VAL_STRING || v->kind == ASIM_VAL_LIST ||
			    is_setting(v->path)) {
				copy_value(out, v);
				continue;
			}
			/* A boolean is the share of all replications where it held: one
			 * where it is absent (a flag only set when raised) did not. A
			 * placeholder (no request, an empty histogram, no recovery)
			 * counts no more than an absent value: its 0 ms is no latency.
			 * Nor does a number that is not finite (JSON null), so that
			 * one replication's null does not make the mean null. */
			bool share = v->kind == ASIM_VAL_BOOL;
			size_t m = 0;
			for (uint32_t j = share ? 0 : r; j < n; j++) {
				const struct asim_value *w = lookup(&reps[j], i, v->path);
				if (w && w->kind != ASIM_VAL_STRING && w->kind != ASIM_VAL_LIST &&
				    !w->unmeasured && isfinite(w->num))
					vals[m++] = w->num;
				else if (share)
					vals[m++] = 0;
			}
			if (m == 0) {
				/* No replication measured it: the placeholder stays one. */
				asim_results_ci(out, v->num, v->num, v->num, "%s", v->path);
				asim_results_unmeasured(out, "%s", v->path);
				continue;
			}
			double mean, half;
			asim_ci95_of(v->path, vals, m, &mean, &half);
			if (!strcmp(v->path, "replications"))
				asim_results_count(out, n, "replications");
			else if (share)
				asim_results_real(out, mean, "%s", v->path);
			else {
				double lo = mean - half, hi = mean + half;
				asim_ci_clamp(v->path, &lo, &hi);
				asim_results_ci(out, mean, lo, hi, "%s", v->path);
			}
		}
	}
	free(vals);
}

static void flag_prefix(struct asim_results *r, const char *prefix, double n)
{
	static const struct {
		const char *key;
		double q;
	} qs[] = {{"p50", 0.5}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}, {"p999", 0.999}};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		char path[256];
		/* A prefix too long for the buffer names no percentile we wrote. */
		if (snprintf(path, sizeof path, "%s.%s", prefix, qs[i].key) >= (int)sizeof path)
			continue;
		if (asim_results_get(r, path) && n * (1 - qs[i].q) < 10)
			asim_results_bool(r, true, "%s.%s_low_samples", prefix, qs[i].key);
	}
}

void asim_replicate_flag_low_samples(struct asim_results *r)
{
	flag_prefix(r, "latency_ms", asim_results_num(r, "succeeded", 0));
	/* Collect the operations first: flags are appended to r as we go. */
	size_t n = r->n;
	for (size_t i = 0; i < n; i++) {
		const char *p = r->v[i].path;
		const char *end = strstr(p, ".succeeded");
		if (strncmp(p, "operations.", 11) || !end || end[10])
			continue;
		char prefix[256];
		snprintf(prefix, sizeof prefix, "%.*s.latency_ms", (int)(end - p), p);
		flag_prefix(r, prefix, r->v[i].num);
	}
}

enum asim_run_status asim_replicate(const struct asim_scenario *s, uint32_t jobs,
                                    struct asim_series *series, struct asim_results *out,
                                    struct asim_diag *d)
{
	uint32_t n = s->replications ? s->replications : 1;
	struct asim_results *reps = calloc(n, sizeof *reps);
	if (!reps) {
		out->oom = true;
		return ASIM_RUN_NOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		asim_results_init(&reps[i]);
	/* Under mpirun the ranks share the replications; rank 0 gets them all. */
	enum asim_run_status st = asim_mpi_size() > 1
	                              ? asim_mpi_replicate_runs(s, n, series, reps, d)
	                              : asim_replicate_runs(s, n, jobs, series, reps, d);
	/* Each replication's percentiles rest on its own samples, so each is
	 * judged on its own; the aggregate then says in what share of them a
	 * percentile was short of samples. */
	for (uint32_t i = 0; i < n; i++)
		asim_replicate_flag_low_samples(&reps[i]);
	asim_replicate_aggregate(reps, n, out);
	for (uint32_t i = 0; i < n; i++)
		asim_results_finish(&reps[i]);
	free(reps);
	return st;
}
