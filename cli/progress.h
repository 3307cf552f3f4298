/* A progress bar on a terminal for long runs: the share of simulated time
 * done over every replication (and sweep point), redrawn at most ten times a
 * second on one line of stderr, and erased at the end. It reads the wall
 * clock, which only the command line may do: the simulator never sees it.
 * When the stream is not a terminal there is no bar and nothing is printed. */
#ifndef ARCHSIM_CLI_PROGRESS_H
#define ARCHSIM_CLI_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "archsim/time.h"

struct asim_progress;

/* A bar on out for runs runs of duration simulated time each, or NULL when
 * out is not a terminal (or memory ran out): every function accepts NULL. */
struct asim_progress *asim_progress_create(FILE *out, uint32_t runs, asim_time duration);

/* Sets how far run has simulated (0 <= run < runs). Thread-safe. */
void asim_progress_update(struct asim_progress *p, uint32_t run, asim_time t);

/* Moves on to the next stage (a sweep point): runs start again from 0 and
 * label, when not NULL, is shown after the bar ("point 3/8"). */
void asim_progress_stage(struct asim_progress *p, const char *label);

/* Erases the bar and frees p. */
void asim_progress_destroy(struct asim_progress *p);

#endif
