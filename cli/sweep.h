/* archsim sweep: one scenario over a grid of values of one setting.
 *
 * The axis is a --set whose value is a range or a list (cli/merge.h for
 * paths):
 *   PATH=LO..HI/STEP   numbers LO, LO+STEP, ... up to HI (decimals allowed,
 *                      computed exactly), each with the unit of the value in
 *                      the file: users.rate=1000..8000/1000 on `rate: 2000/s`
 *                      runs 1000/s, 2000/s, ... 8000/s;
 *   PATH=A,B,C         those values in that order (a bare number gains the
 *                      file's unit as above; anything else is taken as
 *                      written, e.g. lb.policy=round_robin,least_outstanding).
 * Other --set options apply to every point.
 *
 * Capacity search (--find-max): the largest value that meets every SLO of
 * the scenario. After the grid, take the largest grid value that passes; if
 * the next grid value fails, bisect between the two ASIM_SWEEP_BISECT times
 * (each midpoint rounded to a hundredth of STEP), keeping the passing end. The
 * answer is the largest value seen to pass; it assumes the SLOs fail
 * monotonically between those two grid values. On a list there is no
 * bisection: the answer is the last item that passes. */
#ifndef ARCHSIM_CLI_SWEEP_H
#define ARCHSIM_CLI_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archsim/diag.h"
#include "output.h"
#include "scenario.h"

#define ASIM_SWEEP_MAX_POINTS 1000
#define ASIM_SWEEP_BISECT 6

/* One point of the grid (or of the bisection). */
struct asim_sweep_point {
	char value[64];  /* as set, e.g. "3000/s" */
	double x;        /* its number (NaN for a list item that is none) */
	bool bisect;     /* added by --find-max */
	double p50, p95, p99, availability, throughput; /* ms, share, per second */
	bool ok;         /* every SLO holds and the run was not stopped */
};

struct asim_sweep {
	/* Inputs. */
	const char *file;
	struct asim_overrides ov; /* sets: the fixed --set options */
	const char *axis;         /* "PATH=RANGE-OR-LIST" */
	uint32_t jobs;
	bool find_max;
	bool progress;            /* a bar on stderr when it is a terminal */
	const struct asim_outputs *outputs; /* may be NULL; refused when one is an input */
	/* Results, owned (asim_sweep_finish). */
	char path[256];
	struct asim_sweep_point *points; /* sorted by x for a range, list order for a list */
	size_t npoints;
	bool numeric;            /* a range */
	uint32_t replications;
	size_t nslo;
	bool found;              /* --find-max: a value passes */
	char max[64];            /* that value */
};

/* Parses the axis and runs every point. Returns 0 when done, 2 after
 * reporting bad input (axis, file, a value) to d or an output over a file
 * the scenario was read from to stderr, 3 when a run failed. */
int asim_sweep_run(struct asim_sweep *sw, struct asim_diag *d);
void asim_sweep_finish(struct asim_sweep *sw);

/* The grid of axis text (after '=') for a value written orig in the file
 * (NULL when absent): up to max values into vals[i] (64 bytes each). Returns
 * the count, or -1 after writing why to err. *numeric tells a range. */
int asim_sweep_grid(const char *text, const char *orig, char (*vals)[64], size_t max,
                    bool *numeric, char *err, size_t errlen);

/* The `archsim sweep` verb: returns the process exit code. */
int asim_sweep_main(int argc, char **argv);

#endif
