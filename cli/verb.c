#include "verb.h"

#include <stdarg.h>
#include <stdio.h>

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
