/* archsim compare: two designs on common random numbers.
 *
 * Both scenarios run with the same seed (the base's, or --seed) and the same
 * replication indexes, so components of the same name draw the same random
 * streams. For each metric both report (latency percentiles and mean,
 * availability, throughput, retry amplification, failures and invariants),
 * the per-replication paired difference candidate - base gives a mean and a
 * 95% Student-t interval; the verdict is "better" or "worse" when the
 * interval excludes 0 (lower is better for latency, failures and invariants,
 * higher for availability and throughput), else "no significant difference".
 *
 * The candidate fails when a metric with a threshold is significantly worse
 * by more than the threshold, or when it breaks one of its own SLOs (judged
 * on the means over replications). */
#ifndef ARCHSIM_CLI_COMPARE_H
#define ARCHSIM_CLI_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "archsim/diag.h"
#include "archsim/results.h"
#include "scenario.h"

/* A regression threshold: "p95=5%" (relative to the base mean), "availability=0.1pp"
 * (percentage points), "p99=20" (absolute, in the metric's unit). */
enum asim_limit_unit { ASIM_LIMIT_RELATIVE, ASIM_LIMIT_POINTS, ASIM_LIMIT_ABSOLUTE };
struct asim_threshold {
	char metric[32];
	enum asim_limit_unit unit;
	double limit;
	char text[48]; /* as written, for reports */
};

#define ASIM_MAX_THRESHOLDS 32
#define ASIM_DEFAULT_THRESHOLDS "p95=5%,p99=5%,availability=0.1pp"

/* Parses a comma-separated threshold list into t (at most ASIM_MAX_THRESHOLDS,
 * at least one, each metric once).
 * Returns the number parsed, or -1 after writing why to err. */
int asim_thresholds_parse(const char *spec, struct asim_threshold *t, char *err, size_t errlen);

/* Runs both scenarios reps times (jobs at a time) on common random numbers
 * and fills out with the comparison:
 *   base, candidate, seed, replications,
 *   metrics[i].{metric, path, better, base, candidate, difference, change_pct, verdict},
 *   thresholds[j].{metric, limit, worsening, ok},
 *   slo[k].{metric, target, value, ok} (the candidate's), ok.
 * base/candidate/difference are ASIM_VAL_CI values. Returns false after
 * reporting to d when a run failed. *ok is the overall verdict. */
bool asim_compare(const struct asim_scenario *base, const struct asim_scenario *cand,
                  uint32_t reps, uint32_t jobs, const struct asim_threshold *t, int nt,
                  struct asim_results *out, bool *ok, struct asim_diag *d);

/* The `archsim compare` verb: returns the process exit code. */
int asim_compare_main(int argc, char **argv);

#endif
