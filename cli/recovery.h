/* Recovery after faults, from the windowed time series (series.h): for each
 * fault window, how long goodput took to come back to its level before the
 * fault once the fault ended, and whether it never did (a metastable
 * failure: the trigger is gone, the system stays collapsed, as in Bronson et
 * al., "Metastable Failures in Distributed Systems", HotOS 2021).
 *
 * Definitions, per fault window [start, end):
 *  - baseline: mean goodput (succeeded_rps) of the measured windows in the
 *    RECOVERY_BASELINE before start (none measured: no verdict);
 *  - recovered at the first window starting at or after end from which
 *    RECOVERY_HOLD windows in a row reach RECOVERY_SHARE of the baseline (or
 *    the run ends while they do); recovery_s is that window's start - end;
 *  - metastable: not recovered although the run went on for at least
 *    RECOVERY_WATCH after end.
 *
 * A run judges online (asim_recovery_judge below), as it records the
 * windows: the fault windows are known before the run starts (the timeline
 * is fixed by the scenario, faults.h), so each one sums its baseline and
 * follows its run of good windows as they go by, and no window is kept. The
 * memory is a few numbers per fault window, whatever the run's length.
 * asim_recovery_of is the same definition on a whole series kept in memory:
 * the tests hold the two to the same verdicts. */
#ifndef ARCHSIM_CLI_RECOVERY_H
#define ARCHSIM_CLI_RECOVERY_H

#include "archsim/results.h"
#include "series.h"

#define RECOVERY_BASELINE (60 * ASIM_S)
#define RECOVERY_SHARE 0.9
#define RECOVERY_HOLD 3
#define RECOVERY_WATCH (30 * ASIM_S)

struct asim_recovery {
	double baseline_rps;
	bool judged;    /* a baseline existed */
	bool recovered;
	double recovery_s; /* NaN when not recovered */
	bool metastable;
};

/* The verdict for one window, from rows (nrows of them, in time order). */
struct asim_recovery asim_recovery_of(const struct asim_series_row *rows, size_t nrows,
                                      asim_time start, asim_time end);

/* The online judge of a set of fault windows. */
struct asim_recovery_judge;

/* A judge of the n windows w (any order; copied), for rows that will be fed
 * in time order. NULL when out of memory. */
struct asim_recovery_judge *asim_recovery_judge_create(const struct asim_fault_window *w,
                                                       size_t n);
void asim_recovery_judge_destroy(struct asim_recovery_judge *j); /* accepts NULL */

/* Feeds the next row of the series (rows in time order, each starting where
 * the one before ended). Constant time per window still open: one whose
 * baseline or recovery the row may yet change. */
void asim_recovery_judge_row(struct asim_recovery_judge *j, const struct asim_series_row *row);

/* The verdict, as asim_recovery_of would give it on the rows fed so far,
 * for the window [start, end) that the judge was created with. A window
 * given with a later end (cut short by the end of the run) is also found
 * under the end where the run stopped, once no row fed starts after that:
 * the verdicts of both are then the same. Not judged when the judge has no
 * such window. */
struct asim_recovery asim_recovery_judge_verdict(const struct asim_recovery_judge *j,
                                                 asim_time start, asim_time end);

/* Bytes the judge holds (its own allocations). */
size_t asim_recovery_judge_bytes(const struct asim_recovery_judge *j);

/* Adds recovery.NAME.{label, baseline_rps, recovered, recovery_s,
 * metastable} for each fault window of ser that has a baseline; NAME is the
 * window's label with every character other than letters, digits, '_' and
 * '-' made '_' (and a numeric suffix when two labels clash). The verdicts
 * are ser->judge's when the run judged online (asim_series_run always
 * does), else those of asim_recovery_of on the rows ser holds. */
void asim_recovery_report(const struct asim_series *ser, struct asim_results *r);

#endif
