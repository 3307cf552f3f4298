/* The human summary of a run, printed from the same results as the JSON, so
 * the two never disagree. */
#ifndef ARCHSIM_CLI_REPORT_H
#define ARCHSIM_CLI_REPORT_H

#include <stdio.h>

#include "archsim/results.h"

/* Prints the summary table of r to out. */
void asim_report_text(const struct asim_results *r, FILE *out);

#endif
