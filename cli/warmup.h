/* `warmup: auto`: the end of the initial transient, chosen by MSER-5.
 *
 * MSER (White 1997; MSER-5 in Franklin and White 2008) picks the truncation
 * point d of an output series that minimises the squared standard error of
 * the mean of what remains,
 *     MSER(d) = sum_{i>=d} (Y_i - mean_d)^2 / (n - d)^2,
 * computed on batch means of 5 consecutive observations and searched over
 * the first half of the series only (a minimum later than that means the run
 * is too short to judge, and the first half's best cut is used). The series
 * here is the mean latency of successful requests per window of a pilot run
 * (replication 0, no warm-up); a window without any success takes the
 * previous window's value. Only the windows before the first fault are
 * judged (a fault that lasts the whole run aside), so that the cut never
 * discards a fault or the recovery from it. */
#ifndef ARCHSIM_CLI_WARMUP_H
#define ARCHSIM_CLI_WARMUP_H

#include <stdbool.h>
#include <stddef.h>

#include "archsim/diag.h"
#include "scenario.h"

/* The number of leading observations of y[0..n) to drop (a multiple of 5;
 * 0 when fewer than two batches). */
size_t asim_mser5(const double *y, size_t n);

/* Runs the pilot and sets s->warmup to the cut, in whole windows. Returns
 * false after reporting to d when the pilot could not run. */
bool asim_warmup_auto(struct asim_scenario *s, struct asim_diag *d);

#endif
