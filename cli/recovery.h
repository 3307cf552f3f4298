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
 *    RECOVERY_WATCH after end. */
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

/* Adds recovery.NAME.{label, baseline_rps, recovered, recovery_s,
 * metastable} for each fault window of ser that has a baseline; NAME is the
 * window's label with every character other than letters, digits, '_' and
 * '-' made '_' (and a numeric suffix when two labels clash). */
void asim_recovery_report(const struct asim_series *ser, struct asim_results *r);

#endif
