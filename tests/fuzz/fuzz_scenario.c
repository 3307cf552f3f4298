/* libFuzzer target: bytes -> YAML loader -> scenario validation (every
 * component's configure) -> a very short simulation -> JSON and text reports.
 *
 * Anything the sanitizers or libFuzzer report is a bug: a scenario must load
 * or be rejected with a diagnostic, and one that loads must run. The run is
 * cut to 50ms of simulated time and a small budget of events, pending events
 * and memory, so that each input costs milliseconds however busy the scenario;
 * the limits are themselves on the paths being fuzzed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "report.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FUZZ_MAX_EVENTS = 20000,
	FUZZ_MAX_PENDING = 100000,
};

static void run(struct asim_scenario *s)
{
	const asim_time cap = 50 * ASIM_MS;
	if (s->duration > cap)
		s->duration = cap;
	if (s->warmup >= s->duration)
		s->warmup = s->duration / 2;
	if (!s->max_events || s->max_events > FUZZ_MAX_EVENTS)
		s->max_events = FUZZ_MAX_EVENTS;
	if (!s->max_pending || s->max_pending > FUZZ_MAX_PENDING)
		s->max_pending = FUZZ_MAX_PENDING;
	struct asim_results r;
	asim_results_init(&r);
	struct asim_diag d;
	asim_diag_init(&d);
	asim_scenario_run(s, 0, &r, &d);
	asim_scenario_judge(s, &r);
	FILE *out = fopen("/dev/null", "w");
	if (out) {
		asim_results_write_json(&r, out);
		asim_report_text(&r, out);
		fclose(out);
	}
	asim_diag_finish(&d);
	asim_results_finish(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s =
		asim_scenario_load_buffer("fuzz.yaml", (const char *)data, size, NULL, &d);
	/* Every rejection must say why; formatting each message exercises the
	 * marks (a dangling file name would show up here). */
	if (!s && asim_diag_count(&d) == 0)
		__builtin_trap();
	for (size_t i = 0; i < d.n; i++) {
		char buf[1024];
		asim_diag_format(&d, i, buf, sizeof buf);
	}
	asim_diag_finish(&d);
	if (s)
		run(s);
	asim_scenario_free(s);
	return 0;
}
