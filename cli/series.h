/* Time series of one replication: the runner steps the kernel window by
 * window and keeps a row of small numbers per window (never a histogram per
 * window), plus the whole-run latency histogram for the CDF.
 *
 * Files written to an output directory (through cli/output.h):
 *   series.csv   one row per window: t_start_s, t_end_s, warmup (1/0),
 *                offered/succeeded/rejected/failed/retries per second,
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
	double offered, succeeded, rejected, failed, retries;
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

/* The names of the files asim_series_write writes into its directory. */
#define ASIM_SERIES_NFILES 4
extern const char *const asim_series_files[ASIM_SERIES_NFILES];

/* Writes the files above into dir (created when missing). Returns false
 * after printing why to stderr. */
bool asim_series_write(const struct asim_series *ser, const struct asim_results *r,
                       const char *dir);

/* A writer for asim_output_write: arg is a const struct asim_results *. */
bool asim_write_results_json(FILE *f, const void *arg);

#endif
