/* Runs a scenario given as text or as a file, for the suites that test
 * whole runs (test_faults, test_consumers, and through coord_rig.h
 * test_coord and test_failover): load it, run replication 0 and read
 * figures. Header-only, like driver.h, so each test executable takes
 * what it uses. */
#ifndef ARCHSIM_TESTS_SCENARIO_RUN_H
#define ARCHSIM_TESTS_SCENARIO_RUN_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/results.h"
#include "scenario.h"

/* Runs replication 0 of a loaded scenario and frees it. Returns the results
 * (the caller frees them with done()); *judged, when asked, says whether
 * every SLO held. */
static inline struct asim_results *run_loaded(struct asim_scenario *s, struct asim_diag *d,
                                              bool *judged)
{
	if (!s) {
		asim_diag_print(d, stderr);
		ck_abort_msg("scenario did not load");
	}
	struct asim_results *r = malloc(sizeof *r);
	asim_results_init(r);
	ck_assert_int_eq(asim_scenario_run(s, 0, r, d), ASIM_RUN_DONE);
	bool ok = asim_scenario_judge(s, r);
	if (judged)
		*judged = ok;
	asim_scenario_free(s);
	asim_diag_finish(d);
	return r;
}

/* run_loaded() of a scenario given as text, loaded as "t.yaml". */
static inline struct asim_results *run(const char *text, bool *judged)
{
	struct asim_diag d;
	asim_diag_init(&d);
	return run_loaded(asim_scenario_load_buffer("t.yaml", text, strlen(text), NULL, &d), &d,
	                  judged);
}

/* run_loaded() of the scenario file at path. */
static inline struct asim_results *run_path(const char *path, bool *judged)
{
	struct asim_diag d;
	asim_diag_init(&d);
	return run_loaded(asim_scenario_load(path, NULL, &d), &d, judged);
}

static inline void done(struct asim_results *r)
{
	asim_results_finish(r);
	free(r);
}

/* The figure at path, NaN when absent. */
static inline double figure(const struct asim_results *r, const char *path)
{
	return asim_results_num(r, path, NAN);
}

#endif
