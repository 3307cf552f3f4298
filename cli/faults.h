/* The fault timeline: the scenario's `faults:` list, validated and turned
 * into start and end events that call the targets' fault hooks (fault.h).
 *
 *   faults:
 *     - {kind: zone_loss, zone: a, at: 4m, for: 2m}
 *     - {kind: crash, component: api, instances: 1, at: 1m, every: 5m, restart_after: 20s}
 *     - {kind: slow, component: api, instances: 30%, factor: 4, added: 5ms, at: 2m, for: 1m}
 *     - {kind: error_rate, component: api, probability: 0.2, at: 3m, for: 30s}
 *     - {kind: partition, between: [[a], [b, c]], oneway: true, at: 5m, for: 1m}
 *     - {kind: latency, from: a, to: [b], delay: {dist: exponential, mean: 50ms}, at: 6m}
 *     - {kind: loss, from: api, to: db, probability: 10%, at: 7m, for: 10s}
 *     - {kind: load_spike, component: users, factor: 3, ramp: 30s, at: 8m, for: 1m}
 *     - {kind: clock_skew, component: db, instances: [1], offset: 2s, drift: 1e-4, at: 1m}
 *
 * Every fault has `at` (its first start) and optionally `for` (how long each
 * occurrence lasts; absent: to the end of the run), `every` (occurrences
 * start this often; needs `for` shorter than it) and `repeat` (how many
 * occurrences; absent: until the end). A crash may say `restart_after`
 * instead of `for`. Targets: `component: NAME` with optional `instances`
 * (a count of the first ones, a share such as 30%, or a list of indexes),
 * or `zone: NAME` (every instance there of every component that supports
 * the kind); partitions take `between` (groups of zone or component names)
 * and latency and loss take `from` and `to` (a name or a list; absent: all).
 *
 * The engine is a hidden component, "@faults", added after every other one
 * (and after the network, which it installs when the scenario has none and a
 * fault needs it). */
#ifndef ARCHSIM_CLI_FAULTS_H
#define ARCHSIM_CLI_FAULTS_H

#include <stdbool.h>
#include <stddef.h>

#include "archsim/cfg.h"
#include "archsim/diag.h"
#include "archsim/kernel.h"

#define ASIM_FAULTS_NAME "@faults"

/* One occurrence of a fault, as the plots shade it. */
struct asim_fault_window {
	asim_time start, end; /* end clipped to the run's end */
	char label[96];       /* "zone_loss a", "slow api x4"; never a comma */
};

/* Validates the `faults:` list (NULL: nothing to do, true) against the
 * components of k (every one added and configured) and installs the engine.
 * file_duration bounds `at` and `for` (the duration the file gives; a
 * shorter run simply ends before later faults). Returns false after
 * reporting each problem to d. */
bool asim_faults_install(struct asim_kernel *k, const struct asim_cfg *faults,
                         asim_time file_duration, struct asim_diag *d);

/* The fault windows of k's timeline in start order (none when the scenario
 * has no faults), clipped to end; the array belongs to k. */
size_t asim_faults_windows(struct asim_kernel *k, asim_time end,
                           const struct asim_fault_window **out);

#endif
