/* Replications: runs a scenario N times (replication index 0..N-1, which
 * keys the kernel's random streams) and folds the results into one.
 *
 * Aggregation, path by path in first-seen order:
 * - numbers (counts and reals) become ASIM_VAL_CI values: the mean over the
 *   replications that have the path and measured it (placeholders, see
 *   asim_results_unmeasured, are left out; with none measured the
 *   placeholder stays one), with a 95% Student-t interval
 *   (asim_ci95), clamped to [0, 1] for shares (asim_ci_clamp); the run settings seed, duration_s and warmup_s stay plain
 *   and "replications" is N;
 * - booleans become the share of the n replications where they were true
 *   (a replication without the path counts as false: flags such as
 *   "_low_samples" are only written when raised);
 * - strings are kept from the first replication that has them.
 * With N = 1 the results are those of the one run.
 *
 * Parallel runs (jobs > 1) use threads, each building its own kernel from
 * the read-only scenario; every replication writes only its own results
 * slot, so the output does not depend on the number of jobs or on timing. */
#ifndef ARCHSIM_CLI_REPLICATE_H
#define ARCHSIM_CLI_REPLICATE_H

#include <stdbool.h>
#include <stdint.h>

#include "archsim/diag.h"
#include "archsim/results.h"
#include "scenario.h"
#include "series.h"

/* Runs replications 0..n-1 of s into reps[0..n-1] (initialised by the
 * caller), jobs at a time (0 or 1: one after another). When series is not
 * NULL, replication 0 records its time series there. Returns the first
 * status other than ASIM_RUN_DONE, in replication order, or ASIM_RUN_DONE.
 * Problems are reported to d. */
enum asim_run_status asim_replicate_runs(const struct asim_scenario *s, uint32_t n,
                                         uint32_t jobs, struct asim_series *series,
                                         struct asim_results *reps, struct asim_diag *d);

/* Runs replication i of s into r, as asim_replicate_runs does for each:
 * recording its time series into series when i is 0 and series is not NULL. */
enum asim_run_status asim_replicate_one(const struct asim_scenario *s, uint32_t i,
                                        struct asim_series *series, struct asim_results *r,
                                        struct asim_diag *d);

/* Folds n replication results into out (initialised, empty) as described
 * above. */
void asim_replicate_aggregate(const struct asim_results *reps, uint32_t n,
                              struct asim_results *out);

/* Flags latency percentiles that rest on too few samples: a q-percentile
 * of n successful requests is flagged when n * (1 - q) < 10, that is when
 * fewer than 10 samples lie beyond it, by adding "<prefix>.<pXX>_low_samples":
 * true next to "latency_ms" and each "operations.OP.latency_ms". n is
 * "succeeded" (or "operations.OP.succeeded") of the run r holds. */
void asim_replicate_flag_low_samples(struct asim_results *r);

/* All of it: runs s->replications replications, flags low-sample
 * percentiles in each and aggregates into out (so a flag becomes the share
 * of replications where it was raised). Returns as asim_replicate_runs. */
enum asim_run_status asim_replicate(const struct asim_scenario *s, uint32_t jobs,
                                    struct asim_series *series, struct asim_results *out,
                                    struct asim_diag *d);

#endif
