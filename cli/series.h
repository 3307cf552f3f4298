/* Time series of one replication: the runner steps the kernel window by
 * window and keeps a row of small numbers per window (never a histogram per
 * window), plus the whole-run latency histogram for the CDF.
 *
 * Files written to an output directory (each to a temporary name, then
 * renamed into place):
 *   series.csv   one row per window: t_start_s, t_end_s, warmup (1/0),
 *                offered/completed/rejected/failed/retries per second,
 *                availability, p50/p95/p99 ms, then NAME.queue, NAME.busy...
 *                of every component with a sample op. Undefined figures
 *                (no request finished in the window) are written as NaN.
 *   cdf.csv      latency_ms, fraction: the CDF of successful requests after
 *                warm-up, one row per non-empty histogram bucket.
 *   faults.csv   start_s, end_s, label of each fault occurrence (faults.h),
 *                clipped to the run; shaded and labelled by the plot scripts.
 *   results.json the results as `--json` writes them. */
#ifndef ARCHSIM_CLI_SERIES_H
#define ARCHSIM_CLI_SERIES_H

#include <stdbool.h>
#include <stddef.h>

#include "archsim/diag.h"
#include "archsim/results.h"
#include "archsim/stats.h"
#include "faults.h"
#include "scenario.h"

/* The fixed figures of one window; rates are per second of the window. */
struct asim_series_row {
	asim_time start, end;
	bool warmup; /* the window began before the end of warm-up */
	double offered, completed, rejected, failed, retries;
	double availability, p50, p95, p99; /* NaN when undefined */
	double mean;                         /* ms; NaN when undefined (not in series.csv) */
};

struct asim_series {
	struct asim_series_row *rows; /* owned */
	size_t nrows, cap;
	char **cols;                  /* owned: sample paths, from the first window */
	size_t ncols;
	double *vals;                 /* owned: nrows x ncols */
	struct asim_hist cdf;         /* latency after warm-up, the whole run */
	struct asim_fault_window *faults; /* owned: the run's fault windows */
	size_t nfaults;
	bool oom;
};

void asim_series_init(struct asim_series *ser);
void asim_series_finish(struct asim_series *ser);

/* Runs replication rep of s window by window (s->window), recording a row
 * per window into ser, then adds the run's figures to r as
 * asim_scenario_run does. Returns the run status (ASIM_RUN_NOMEM also when
 * ser ran out of memory). */
enum asim_run_status asim_series_run(const struct asim_scenario *s, uint32_t rep,
                                     struct asim_series *ser, struct asim_results *r,
                                     struct asim_diag *d);

/* Writes series.csv, cdf.csv, faults.csv and results.json into dir (created
 * when missing). Refuses to replace input (a file not to overwrite; may be
 * NULL). Returns false after printing why to stderr. */
bool asim_series_write(const struct asim_series *ser, const struct asim_results *r,
                       const char *dir, const char *input);

/* Writes data to path through a temporary name and a rename. The writer
 * returns false on a failed write. Prints why on failure. */
bool asim_write_atomic(const char *path, bool (*writer)(FILE *f, const void *arg),
                       const void *arg);

/* A writer for asim_write_atomic: arg is a const struct asim_results *. */
bool asim_write_results_json(FILE *f, const void *arg);

/* Whether a and b name the same existing file (device and inode), so that an
 * output never replaces an input the user wrote. */
bool asim_same_file(const char *a, const char *b);

#endif
