#include "verb.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "archsim/cfg.h"
#include "archsim/diag.h"

int asim_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "archsim: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n\n%s", usage);
	return EXIT_USAGE;
}

bool asim_option_number(const char *usage, const char *option, const char *arg, int64_t lo,
                        int64_t hi, int64_t *out)
{
	int64_t v;
	if (asim_parse_int(arg, &v) && v >= lo && v <= hi) {
		*out = v;
		return true;
	}
	if (hi == INT64_MAX)
		asim_usage_error(usage, "%s needs a whole number >= %" PRId64 ", got '%s'", option, lo, arg);
	else
		asim_usage_error(usage, "%s needs a whole number from %" PRId64 " to %" PRId64 ", got '%s'",
		                 option, lo, hi, arg);
	return false;
}

struct asim_scenario *asim_scenario_load_verbose(const char *path, const struct asim_overrides *ov)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s = asim_scenario_load(path, ov, &d);
	asim_diag_print(&d, stderr);
	/* A failure without a diagnostic would leave the user with exit 2 and
	 * no word of why. */
	if (!s && !asim_diag_count(&d))
		fprintf(stderr, "%s: error: cannot load the scenario\n", path);
	asim_diag_finish(&d);
	return s;
}
