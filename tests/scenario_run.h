/* Runs a scenario given as text, for the suites that test whole runs
 * (test_faults, test_consumers): load it as "t.yaml", run replication 0 and
 * read figures. Header-only, like driver.h, so each test executable takes
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

/* Loads text, runs replication 0, and returns the results (caller frees). */
static inline struct asim_results *run(const char *text, bool *judged)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s = asim_scenario_load_buffer("t.yaml", text, strlen(text), NULL, &d);
	if (!s) {
		asim_diag_print(&d, stderr);
		ck_abort_msg("scenario did not load");
	}
	struct asim_results *r = malloc(sizeof *r);
	asim_results_init(r);
	ck_assert_int_eq(asim_scenario_run(s, 0, r, &d), ASIM_RUN_DONE);
	bool ok = asim_scenario_judge(s, r);
	if (judged)
		*judged = ok;
	asim_scenario_free(s);
	asim_diag_finish(&d);
	return r;
}

static inline void done(struct asim_results *r)
{
	asim_results_finish(r);
	free(r);
}

static inline double num(const struct asim_results *r, const char *path)
{
	return asim_results_num(r, path, NAN);
}

#endif
