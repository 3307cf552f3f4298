/* What every verb of the command line shares: its exit codes, how it
 * reports a usage error, and how it loads the scenario a user named. */
#ifndef ARCHSIM_CLI_VERB_H
#define ARCHSIM_CLI_VERB_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario.h"

/* The documented exit codes (README, PRODUCT.md). */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_INTERNAL = 3 };

/* Prints "archsim: " and the message on stderr, then a blank line and the
 * verb's usage text. Returns EXIT_USAGE, for `return asim_usage_error(...)`. */
int asim_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads option's argument arg as a whole number from lo to hi (hi
 * INT64_MAX: no upper bound) into *out. Returns false, after printing the
 * usage error that names the option, the range and what the user wrote, when
 * it is not one; the verb then exits EXIT_USAGE. */
bool asim_option_number(const char *usage, const char *option, const char *arg, int64_t lo,
                        int64_t hi, int64_t *out);

/* Loads the scenario at path with the overrides (NULL: none) and prints its
 * diagnostics on stderr, warnings included. Returns NULL when it did not
 * load; stderr then holds at least one error naming path. */
struct asim_scenario *asim_scenario_load_verbose(const char *path, const struct asim_overrides *ov);

#endif
