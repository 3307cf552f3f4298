/* Time series of one replication: the runner steps the kernel window by
 * window and takes a row of small numbers per window (never a histogram per
 * window), plus the whole-run latency histogram for the CDF.
 *
 * Memory does not grow with the run's length: a row is handed on as its
 * window completes (to the online recovery judge, recovery.h, and with
 * asim_series_out to series.csv on disk) and then dropped. Only the
 * `warmup: auto` pilot keeps rows (keep_rows).
 *
 * Files written to an output directory (through cli/output.h):
 *   series.csv   one row per window: t_start_s, t_end_s, warmup (1/0),
 *                offered/succeeded/rejected/failed/retries per second,
 *                availability, p50/p95/p99 ms, then NAME.queue, NAME.busy...
 *                of every component with a sample op. Undefined figures
 *                (no request finished in the window) are written as NaN.
 *                Written as the windows complete, into a temporary file
 *                that asim_series_write gives its name.
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
#include "output.h"
#include "scenario.h"

/* The fixed figures of one window; rates are per second of the window. */
struct asim_series_row {
	asim_time start, end;
	bool warmup; /* the window began before the end of warm-up */
	double offered, succeeded, rejected, failed, retries;
	double availability, p50, p95, p99; /* NaN when undefined */
	double mean;                         /* ms; NaN when undefined (not in series.csv) */
};

struct asim_recovery_judge;
struct asim_series_out;

struct asim_series {
	/* Set before the run: keep the rows of the windows that end by the
	 * first fault's start (a fault that spans the whole run aside), the
	 * part of the run that `warmup: auto` judges (warmup.h). */
	bool keep_rows;
	struct asim_series_row *rows; /* owned: the rows kept, none unless keep_rows */
	size_t nrows, cap;
	size_t windows;               /* windows recorded, their rows kept or not */
	char **cols;                  /* owned: sample paths, from the first window */
	size_t ncols;
	double *vals;                 /* owned: the current window's values, ncols */
	struct asim_hist cdf;         /* latency after warm-up, the whole run */
	struct asim_fault_window *faults; /* owned: the run's fault windows */
	size_t nfaults;
	struct asim_recovery_judge *judge; /* owned: recovery after the faults, judged online */
	struct asim_series_out *out;  /* owned: the files of asim_series_out */
	bool oom;
};

void asim_series_init(struct asim_series *ser);
/* Frees what ser holds; files begun by asim_series_out and not written by
 * asim_series_write are removed (and the directory, when it made it and
 * it is still empty). */
void asim_series_finish(struct asim_series *ser);

/* Before the run: writes series.csv into dir (created now when missing) as
 * the windows complete, into a temporary file there that asim_series_write
 * names. A failure here is reported by asim_series_write, as if it had
 * happened there: the run itself goes ahead. */
void asim_series_out(struct asim_series *ser, const char *dir);

/* Runs replication rep of s window by window (s->window), taking a row per
 * window into ser, then adds the run's figures to r as asim_scenario_run
 * does (the recovery after faults included, recovery.h). Returns the run
 * status (ASIM_RUN_NOMEM also when ser ran out of memory). */
enum asim_run_status asim_series_run(const struct asim_scenario *s, uint32_t rep,
                                     struct asim_series *ser, struct asim_results *r,
                                     struct asim_diag *d);

/* The bytes ser holds in its own allocations (not the kernel's, not the
 * C library's stream buffers): flat in the run's length unless keep_rows. */
size_t asim_series_bytes(const struct asim_series *ser);

/* The names of the files asim_series_write writes into its directory. */
#define ASIM_SERIES_NFILES 4
extern const char *const asim_series_files[ASIM_SERIES_NFILES];

/* Writes the files above into the directory given to asim_series_out
 * before the run: series.csv takes its name, then the others are written.
 * Returns false after printing why to stderr (also when asim_series_out was
 * not called or ran out of memory). */
bool asim_series_write(struct asim_series *ser, const struct asim_results *r);

/* A writer for asim_output_write: arg is a const struct asim_results *. */
bool asim_write_results_json(FILE *f, const void *arg);

#endif
