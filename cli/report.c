#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "archsim/index.h"

static double num(const struct asim_results *r, const char *path)
{
	return asim_results_num(r, path, 0.0);
}

static void print_value(FILE *out, const struct asim_value *v)
{
	char buf[64];
	switch (v->kind) {
	case ASIM_VAL_STRING:
		fputs(v->str, out);
		break;
	case ASIM_VAL_BOOL:
		fputs(v->num != 0 ? "yes" : "no", out);
		break;
	case ASIM_VAL_LIST:
		fputs("none", out);
		break;
	case ASIM_VAL_CI: {
		char lo[64], hi[64];
		asim_format_number(buf, sizeof buf, ASIM_VAL_REAL, v->num);
		asim_format_number(lo, sizeof lo, ASIM_VAL_REAL, v->lo);
		asim_format_number(hi, sizeof hi, ASIM_VAL_REAL, v->hi);
		fprintf(out, "%s [%s, %s]", buf, lo, hi);
		break;
	}
	default:
		asim_format_number(buf, sizeof buf, v->kind, v->num);
		fputs(buf, out);
	}
}

/* Prints "label value" for a path when present; values are formatted as in
 * the JSON so that a figure reads the same in both. */
static void field(FILE *out, const struct asim_results *r, const char *label, const char *path)
{
	const struct asim_value *v = asim_results_get(r, path);
	if (!v)
		return;
	fprintf(out, "  %s ", label);
	print_value(out, v);
}

/* The name segment of a "components.NAME...." path, or false when p is not one. */
static bool component_of(const char *p, const char **name, size_t *len)
{
	if (strncmp(p, "components.", 11))
		return false;
	const char *dot = strchr(p + 11, '.');
	if (!dot)
		return false;
	*name = p + 11;
	*len = (size_t)(dot - (p + 11));
	return true;
}

/* The values of each component, in the order reported: next[i] is the value
 * after i of the same component (SIZE_MAX: none), first is found through an
 * index of names. A scan of all the results for each component, as before,
 * was quadratic in the number of components. */
struct by_component {
	struct asim_index first; /* component name -> its first value */
	size_t *next;
};

static bool group_components(const struct asim_results *r, struct by_component *g)
{
	asim_index_init(&g->first);
	g->next = malloc((r->n + 1) * sizeof *g->next);
	size_t *last = malloc((r->n + 1) * sizeof *last);
	bool ok = g->next && last;
	for (size_t i = 0; ok && i < r->n; i++) {
		const char *name;
		size_t len;
		g->next[i] = SIZE_MAX;
		if (!component_of(r->v[i].path, &name, &len))
			continue;
		size_t f = asim_index_get(&g->first, 0, name, len);
		if (f == ASIM_INDEX_NONE) {
			ok = asim_index_put(&g->first, 0, name, len, i);
			last[i] = i;
		} else {
			g->next[last[f]] = i;
			last[f] = i;
		}
	}
	free(last);
	return ok;
}

/* Prints one row of latency figures under prefix, each percentile that rests
 * on few samples (cli/replicate.h) marked "(few samples)", or with
 * replications "(few samples in N%)", the share of them where it did. */
static void latency_row(FILE *out, const struct asim_results *r, const char *prefix,
                        const char *const *keys, size_t nkeys)
{
	for (size_t i = 0; i < nkeys; i++) {
		char path[160];
		snprintf(path, sizeof path, "%s.%s", prefix, keys[i]);
		field(out, r, keys[i], path);
		snprintf(path, sizeof path, "%s.%s_low_samples", prefix, keys[i]);
		const struct asim_value *low = asim_results_get(r, path);
		if (!low || low->num == 0)
			continue;
		if (low->kind == ASIM_VAL_BOOL)
			fputs(" (few samples)", out);
		else
			fprintf(out, " (few samples in %.0f%%)", 100 * low->num);
	}
}

static void print_components(const struct asim_results *r, FILE *out)
{
	fprintf(out, "\nComponents\n");
	struct by_component g;
	bool grouped = group_components(r, &g);
	for (size_t i = 0; grouped && i < r->n; i++) {
		const char *p = r->v[i].path, *name;
		size_t len;
		if (!component_of(p, &name, &len) || strcmp(name + len, ".kind"))
			continue;
		int nlen = (int)len;
		fprintf(out, "  %-14.*s %-14s", nlen, name, r->v[i].str);
		/* Every other figure of this component, in the order reported. */
		size_t plen = 11 + len + 1;
		int col = 0;
		for (size_t j = asim_index_get(&g.first, 0, name, len); j != SIZE_MAX; j = g.next[j]) {
			const struct asim_value *v = &r->v[j];
			if (!strcmp(v->path + plen, "kind"))
				continue;
			/* Zero counts (no timeouts, no rejections...) are noise in a
			 * table a person reads; the JSON keeps every figure. */
			if (v->kind == ASIM_VAL_COUNT && v->num == 0)
				continue;
			if (col == 4) {
				fprintf(out, "\n  %-14s %-14s", "", "");
				col = 0;
			}
			fprintf(out, " %s=", v->path + plen);
			print_value(out, v);
			col++;
		}
		fputc('\n', out);
	}
	asim_index_finish(&g.first);
	free(g.next);
}

void asim_report_text(const struct asim_results *r, FILE *out)
{
	const struct asim_value *name = asim_results_get(r, "scenario");
	const struct asim_value *hash = asim_results_get(r, "scenario_hash");
	const struct asim_value *version = asim_results_get(r, "version");
	fprintf(out, "scenario %s (%s)  seed %.0f  replications %.0f  archsim %s\n",
	        name ? name->str : "?", hash ? hash->str : "?", num(r, "seed"),
	        num(r, "replications"), version ? version->str : "?");
	const struct asim_value *fp = asim_results_get(r, "fingerprint");
	fprintf(out, "simulated %gs (warm-up %gs excluded), %.0f events, trajectory %s\n",
	        num(r, "duration_s"), num(r, "warmup_s"), num(r, "events"), fp ? fp->str : "?");
	const struct asim_value *stopped = asim_results_get(r, "stopped");
	if (stopped)
		fprintf(out, "WARNING: the run stopped early, at %gs simulated: %s "
		        "(see `limits:` in the scenario; figures cover the time run)\n",
		        num(r, "stopped_at_s"), stopped->str);

	/* In flight at the end is about rate x latency in a system that
	 * keeps up: a hundredth of the requests is far past that. */
	double in_flight = num(r, "in_flight");
	if (in_flight > num(r, "requests") / 100)
		fprintf(out, "WARNING: %.0f requests were still in flight at the end, against %.0f "
		        "finished: the system may not keep up, and latency covers only those that "
		        "finished\n",
		        in_flight, num(r, "requests"));

	fprintf(out, "\nRequests   ");
	field(out, r, "offered/s", "offered_rps");
	field(out, r, "requests", "requests");
	field(out, r, "succeeded", "succeeded");
	field(out, r, "availability", "availability");
	field(out, r, "in flight at the end", "in_flight");
	fprintf(out, "\nThroughput ");
	field(out, r, "admitted/s", "admitted_rps");
	field(out, r, "completed/s", "completed_rps");
	field(out, r, "goodput/s", "throughput_rps");
	field(out, r, "retry amplification", "retry_amplification");
	fprintf(out, "\nFailures   ");
	field(out, r, "timeout", "failures.timeout");
	field(out, r, "rejected", "failures.rejected");
	field(out, r, "error", "failures.error");
	field(out, r, "unreachable", "failures.unreachable");
	field(out, r, "unfinished", "failures.unfinished");
	fprintf(out, "\nLatency ms ");
	static const char *const qs[] = {"p50", "p90", "p95", "p99", "p999", "max", "mean"};
	latency_row(out, r, "latency_ms", qs, sizeof qs / sizeof qs[0]);
	fputc('\n', out);
	/* Per operation, when the mix has several. */
	for (size_t i = 0; i < r->n; i++) {
		const char *p = r->v[i].path;
		if (strncmp(p, "operations.", 11) || !strstr(p, ".succeeded"))
			continue;
		int len = (int)(strstr(p, ".succeeded") - (p + 11));
		fprintf(out, "  %-9.*s", len, p + 11);
		char prefix[128];
		snprintf(prefix, sizeof prefix, "operations.%.*s.latency_ms", len, p + 11);
		/* All but the mean, which the row has no room for. */
		latency_row(out, r, prefix, qs, sizeof qs / sizeof qs[0] - 1);
		fputc('\n', out);
	}
	print_components(r, out);

	fprintf(out, "\nInvariants");
	for (size_t i = 0; i < r->n; i++) {
		if (strncmp(r->v[i].path, "invariants.", 11))
			continue;
		fprintf(out, "  %s ", r->v[i].path + 11);
		print_value(out, &r->v[i]);
	}
	fputc('\n', out);

	size_t nslo = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!strncmp(r->v[i].path, "slo[", 4) && strstr(r->v[i].path, "].metric"))
			nslo++;
	if (nslo) {
		fprintf(out, "\nSLOs\n");
		for (size_t i = 0; i < nslo; i++) {
			char path[64];
			snprintf(path, sizeof path, "slo[%zu].metric", i);
			const struct asim_value *m = asim_results_get(r, path);
			snprintf(path, sizeof path, "slo[%zu].ok", i);
			bool ok = num(r, path) != 0;
			bool latency = (m->str[0] == 'p' && m->str[1] >= '0' && m->str[1] <= '9') ||
			               !strcmp(m->str, "mean");
			snprintf(path, sizeof path, "slo[%zu].value", i);
			const struct asim_value *v = asim_results_get(r, path);
			snprintf(path, sizeof path, "slo[%zu].target", i);
			const struct asim_value *t = asim_results_get(r, path);
			fprintf(out, "  %-14s ", m->str);
			print_value(out, v);
			fprintf(out, "%s %s ", latency ? " ms" : "",
			        !strcmp(m->str, "availability") ? ">=" : "<=");
			print_value(out, t);
			snprintf(path, sizeof path, "slo[%zu].note", i);
			const struct asim_value *note = asim_results_get(r, path);
			fprintf(out, "%s  %s%s%s%s\n", latency ? " ms" : "", ok ? "ok" : "FAILED",
			        note ? " (" : "", note ? note->str : "", note ? ")" : "");
		}
		fprintf(out, "\nResult: %s\n",
		        stopped           ? "no verdict: the run stopped early"
		        : num(r, "ok") != 0 ? "every SLO holds"
		                          : "an SLO failed");
	}
}
