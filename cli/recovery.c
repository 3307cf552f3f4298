#include "recovery.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct asim_recovery asim_recovery_of(const struct asim_series_row *rows, size_t nrows,
                                      asim_time start, asim_time end)
{
	struct asim_recovery v = {.recovery_s = NAN};
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < nrows; i++) {
		if (!rows[i].warmup && rows[i].end <= start && rows[i].start >= start - RECOVERY_BASELINE) {
			sum += rows[i].succeeded;
			n++;
		}
	}
	if (!n)
		return v;
	v.judged = true;
	v.baseline_rps = sum / (double)n;
	double need = RECOVERY_SHARE * v.baseline_rps;
	asim_time last = end;
	for (size_t i = 0; i < nrows; i++) {
		if (rows[i].start < end)
			continue;
		last = rows[i].end;
		size_t good = 0;
		while (good < RECOVERY_HOLD && i + good < nrows && rows[i + good].succeeded >= need)
			good++;
		if (good == RECOVERY_HOLD || (good > 0 && i + good == nrows)) {
			v.recovered = true;
			v.recovery_s = asim_time_to_seconds(rows[i].start - end);
			return v;
		}
	}
	v.metastable = last - end >= RECOVERY_WATCH;
	return v;
}

void asim_recovery_report(const struct asim_series *ser, struct asim_results *r)
{
	for (size_t i = 0; i < ser->nfaults; i++) {
		const struct asim_fault_window *f = &ser->faults[i];
		struct asim_recovery v = asim_recovery_of(ser->rows, ser->nrows, f->start, f->end);
		if (!v.judged)
			continue;
		char name[100];
		size_t len = 0;
		for (const char *p = f->label; *p && len + 1 < sizeof name - 8; p++) {
			char ch = *p;
			bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			          (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
			name[len++] = ok ? ch : '_';
		}
		name[len] = '\0';
		char path[128];
		snprintf(path, sizeof path, "recovery.%s.label", name);
		/* Repeated faults share a label: number the later ones. */
		for (int k = 2; asim_results_get(r, path); k++) {
			snprintf(name + len, sizeof name - len, "_%d", k);
			snprintf(path, sizeof path, "recovery.%s.label", name);
		}
		asim_results_string(r, f->label, "recovery.%s.label", name);
		asim_results_real(r, asim_time_to_seconds(f->start), "recovery.%s.start_s", name);
		asim_results_real(r, asim_time_to_seconds(f->end), "recovery.%s.end_s", name);
		asim_results_real(r, v.baseline_rps, "recovery.%s.baseline_rps", name);
		asim_results_bool(r, v.recovered, "recovery.%s.recovered", name);
		asim_results_real(r, v.recovery_s, "recovery.%s.recovery_s", name);
		/* Not recovered, there is no recovery time (null): replications
		 * average the times of those that recovered, and "recovered"
		 * becomes the share that did. */
		if (!v.recovered)
			asim_results_unmeasured(r, "recovery.%s.recovery_s", name);
		asim_results_bool(r, v.metastable, "recovery.%s.metastable", name);
	}
}
