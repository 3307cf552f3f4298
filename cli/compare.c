#include "compare.h"

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/stats.h"
#include "output.h"
#include "plot.h"
#include "replicate.h"
#include "series.h"
#include "verb.h"

static const char usage_compare[] =
	"usage: archsim compare BASE CANDIDATE [options]\n"
	"\n"
	"Runs two scenarios on common random numbers (the same seed and replication\n"
	"indexes) and prints, for each shared metric, the mean paired difference\n"
	"CANDIDATE - BASE with a 95% confidence interval and a verdict: better, worse\n"
	"or no significant difference. Exits 1 when the candidate is significantly\n"
	"worse beyond a threshold or breaks one of its SLOs, 0 otherwise, 2 on bad input.\n"
	"\n"
	"options:\n"
	"  --reps N              replications (default: the larger of the two files',\n"
	"                        at least 10)\n"
	"  -j, --jobs N          run N replications in parallel (same output)\n"
	"  --seed N              the seed of both runs (default: the base's)\n"
	"  --duration D          override both durations\n"
	"  --set PATH=VALUE      override one value in both files (repeatable)\n"
	"  --format F            text (default), json, markdown or junit\n"
	"  --max-regression LIST thresholds such as p95=5%,availability=0.1pp,p99=20\n"
	"                        (% of the base mean, percentage points (pp, for\n"
	"                        availability), or absolute in the metric's unit: ms,\n"
	"                        requests/s, count); default\n"
	"                        " ASIM_DEFAULT_THRESHOLDS "\n"
	"  -o, --output FILE     write the report to FILE instead of standard output\n"
	"  --plot DIR            write replication 0 of each design to DIR/base and\n"
	"                        DIR/candidate (as run --out) and overlay them:\n"
	"                        compare_cdf and compare_p95 (PNG and SVG)\n"
	"  -h, --help            show this help\n";

/* The metrics compared: a short name, the results path, the direction. */
static const struct metric_def {
	const char *name, *path, *unit;
	int better; /* +1: higher is better, -1: lower is better */
} metric_defs[] = {
	{"p50", "latency_ms.p50", "ms", -1},
	{"p90", "latency_ms.p90", "ms", -1},
	{"p95", "latency_ms.p95", "ms", -1},
	{"p99", "latency_ms.p99", "ms", -1},
	{"p999", "latency_ms.p999", "ms", -1},
	{"latency_mean", "latency_ms.mean", "ms", -1},
	{"latency_max", "latency_ms.max", "ms", -1},
	{"availability", "availability", "", +1},
	{"throughput", "throughput_rps", "/s", +1},
	{"retry_amplification", "retry_amplification", "", -1},
	{"failed", "failed", "", -1},
	{"timeout", "failures.timeout", "", -1},
	{"rejected", "failures.rejected", "", -1},
	{"error", "failures.error", "", -1},
	{"unreachable", "failures.unreachable", "", -1},
	{"unfinished", "failures.unfinished", "", -1},
	{"stale_reads", "invariants.stale_reads", "", -1},
	{"duplicate_writes", "invariants.duplicate_writes", "", -1},
	{"conflicting_writes", "invariants.conflicting_writes", "", -1},
	{"lost_writes", "invariants.lost_writes", "", -1},
	{"queue_backlog", "invariants.queue_backlog", "", -1},
};
#define NMETRICS (sizeof metric_defs / sizeof metric_defs[0])

static const struct metric_def *metric_find(const char *name)
{
	for (size_t i = 0; i < NMETRICS; i++)
		if (!strcmp(metric_defs[i].name, name))
			return &metric_defs[i];
	return NULL;
}

int asim_thresholds_parse(const char *spec, struct asim_threshold *t, char *err, size_t errlen)
{
	/* An empty list would turn every threshold off, silently: CI that
	 * passes an unset variable must fail, not stop gating. */
	if (!*spec) {
		snprintf(err, errlen, "--max-regression needs at least one METRIC=VALUE (e.g. p95=5%%)");
		return -1;
	}
	int n = 0;
	const char *p = spec;
	/* Every item counts, an empty one after a trailing comma too. */
	for (bool more = true; more;) {
		size_t len = strcspn(p, ",");
		char item[96];
		if (len == 0 || len >= sizeof item) {
			snprintf(err, errlen, "bad threshold list '%s'", spec);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		more = p[len] == ',';
		p += len + more;
		char *eq = strchr(item, '=');
		if (!eq) {
			snprintf(err, errlen, "threshold '%s' needs METRIC=VALUE (e.g. p95=5%%)", item);
			return -1;
		}
		*eq = '\0';
		if (!metric_find(item)) {
			char names[512] = "";
			for (size_t i = 0; i < NMETRICS; i++) {
				size_t l = strlen(names);
				snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", metric_defs[i].name);
			}
			snprintf(err, errlen, "unknown metric '%s' in --max-regression (one of: %s)", item,
			         names);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			if (!strcmp(t[i].metric, item)) {
				snprintf(err, errlen, "threshold for '%s' given twice in --max-regression", item);
				return -1;
			}
		}
		if (n == ASIM_MAX_THRESHOLDS) {
			snprintf(err, errlen, "too many thresholds (at most %d)", ASIM_MAX_THRESHOLDS);
			return -1;
		}
		const char *val = eq + 1;
		char *end;
		errno = 0;
		double v = strtod(val, &end);
		enum asim_limit_unit unit = ASIM_LIMIT_ABSOLUTE;
		if (end != val && !strcmp(end, "%"))
			unit = ASIM_LIMIT_RELATIVE;
		else if (end != val && !strcmp(end, "pp"))
			unit = ASIM_LIMIT_POINTS;
		else if (end == val || *end)
			v = NAN;
		if (errno || !isfinite(v) || v < 0) {
			snprintf(err, errlen,
			         "threshold '%s=%s' needs a number >= 0, optionally with %% or pp", item, val);
			return -1;
		}
		/* Percentage points are of a share; on any other metric "5pp"
		 * would silently mean 0.05 of its unit (ms, requests, ...). */
		if (unit == ASIM_LIMIT_POINTS && strcmp(item, "availability")) {
			snprintf(err, errlen,
			         "threshold '%s=%s': pp (percentage points) is for availability only; "
			         "use %% of the base, or a number in the metric's unit",
			         item, val);
			return -1;
		}
		snprintf(t[n].metric, sizeof t[n].metric, "%.31s", item);
		snprintf(t[n].text, sizeof t[n].text, "%.47s", val);
		t[n].unit = unit;
		t[n].limit = v;
		n++;
	}
	return n;
}

/* The values of path in each replication where both have it. */
static size_t paired(const struct asim_results *b, const struct asim_results *c, uint32_t n,
                     const char *path, double *bv, double *cv, double *dv)
{
	size_t m = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct asim_value *x = asim_results_get(&b[i], path);
		const struct asim_value *y = asim_results_get(&c[i], path);
		if (!x || !y || x->kind == ASIM_VAL_STRING || y->kind == ASIM_VAL_STRING ||
		    x->kind == ASIM_VAL_LIST || y->kind == ASIM_VAL_LIST || x->unmeasured ||
		    y->unmeasured)
			continue;
		bv[m] = x->num;
		cv[m] = y->num;
		dv[m] = y->num - x->num;
		m++;
	}
	return m;
}

static void put_ci(struct asim_results *out, const char *path, const double *v, size_t m,
                   size_t i, const char *field)
{
	double mean, half;
	asim_ci95_of(path, v, m, &mean, &half);
	double lo = mean - half, hi = mean + half;
	asim_ci_clamp(path, &lo, &hi);
	asim_results_ci(out, mean, lo, hi, "metrics[%zu].%s", i, field);
}

/* Adds metrics[], returning the verdicts' inputs to the threshold checks. */
static void compare_metrics(const struct asim_results *b, const struct asim_results *c, uint32_t n,
                            struct asim_results *out)
{
	double *bv = malloc(3 * (size_t)n * sizeof *bv);
	if (!bv) {
		out->oom = true;
		return;
	}
	double *cv = bv + n, *dv = cv + n;
	size_t k = 0;
	for (size_t i = 0; i < NMETRICS; i++) {
		const struct metric_def *m = &metric_defs[i];
		size_t cnt = paired(b, c, n, m->path, bv, cv, dv);
		if (cnt == 0)
			continue;
		double mean, half, bmean, bhalf, cmean, chalf;
		asim_ci95(dv, cnt, &mean, &half);
		asim_ci95_of(m->path, bv, cnt, &bmean, &bhalf);
		asim_ci95_of(m->path, cv, cnt, &cmean, &chalf);
		/* Each side's percentiles may be off by up to half a bucket, and
		 * in opposite directions. */
		if (cnt > 1 && asim_hist_quantile_path(m->path))
			half += asim_hist_quantile_error(bmean) + asim_hist_quantile_error(cmean);
		const char *verdict = "no significant difference";
		if (mean - half > 0 || mean + half < 0)
			verdict = (mean > 0) == (m->better > 0) ? "better" : "worse";
		asim_results_string(out, m->name, "metrics[%zu].metric", k);
		asim_results_string(out, m->path, "metrics[%zu].path", k);
		asim_results_string(out, m->better > 0 ? "higher" : "lower", "metrics[%zu].better", k);
		put_ci(out, m->path, bv, cnt, k, "base");
		put_ci(out, m->path, cv, cnt, k, "candidate");
		asim_results_ci(out, mean, mean - half, mean + half, "metrics[%zu].difference", k);
		asim_results_real(out, bmean != 0 ? 100 * mean / fabs(bmean) : NAN,
		                  "metrics[%zu].change_pct", k);
		asim_results_string(out, verdict, "metrics[%zu].verdict", k);
		k++;
	}
	free(bv);
}

/* The index of metric name in out's metrics[], or -1. */
static long metric_index(const struct asim_results *out, const char *name)
{
	for (size_t i = 0;; i++) {
		char path[64];
		snprintf(path, sizeof path, "metrics[%zu].metric", i);
		const struct asim_value *v = asim_results_get(out, path);
		if (!v)
			return -1;
		if (!strcmp(v->str, name))
			return (long)i;
	}
}

static bool check_thresholds(const struct asim_threshold *t, int nt, struct asim_results *out)
{
	bool all = true;
	for (int j = 0; j < nt; j++) {
		const struct metric_def *m = metric_find(t[j].metric);
		long i = metric_index(out, t[j].metric);
		double worse = 0;
		bool ok = true;
		if (i >= 0) {
			char path[64];
			snprintf(path, sizeof path, "metrics[%ld].difference", i);
			double diff = asim_results_num(out, path, 0);
			snprintf(path, sizeof path, "metrics[%ld].base", i);
			double base = asim_results_num(out, path, 0);
			snprintf(path, sizeof path, "metrics[%ld].verdict", i);
			bool significant = !strcmp(asim_results_get(out, path)->str, "worse");
			/* How much worse, in the threshold's unit. */
			double w = m->better > 0 ? -diff : diff;
			if (t[j].unit == ASIM_LIMIT_RELATIVE)
				worse = base != 0 ? 100 * w / fabs(base) : (w > 0 ? INFINITY : 0);
			else if (t[j].unit == ASIM_LIMIT_POINTS)
				worse = 100 * w;
			else
				worse = w;
			ok = !(significant && worse > t[j].limit);
		}
		char limit[64];
		snprintf(limit, sizeof limit, "%s", t[j].text);
		asim_results_string(out, t[j].metric, "thresholds[%d].metric", j);
		asim_results_string(out, limit, "thresholds[%d].limit", j);
		asim_results_real(out, worse, "thresholds[%d].worsening", j);
		asim_results_bool(out, ok, "thresholds[%d].ok", j);
		all &= ok;
	}
	return all;
}

bool asim_compare(const struct asim_scenario *base, const struct asim_scenario *cand,
                  uint32_t reps, uint32_t jobs, const struct asim_threshold *t, int nt,
                  struct asim_results *out, bool *ok, struct asim_diag *d)
{
	*ok = false;
	struct asim_results *b = calloc(2 * (size_t)reps, sizeof *b);
	if (!b) {
		out->oom = true;
		return false;
	}
	struct asim_results *c = b + reps;
	for (uint32_t i = 0; i < 2 * reps; i++)
		asim_results_init(&b[i]);
	enum asim_run_status sb = asim_replicate_runs(base, reps, jobs, NULL, b, d);
	enum asim_run_status sc = asim_replicate_runs(cand, reps, jobs, NULL, c, d);
	bool ran = sb == ASIM_RUN_DONE && sc == ASIM_RUN_DONE && !asim_diag_count(d);
	if (ran) {
		asim_results_string(out, base->name, "base");
		asim_results_string(out, cand->name, "candidate");
		asim_results_count(out, base->seed, "seed");
		asim_results_count(out, reps, "replications");
		compare_metrics(b, c, reps, out);
		bool thr = check_thresholds(t, nt, out);
		/* The candidate's SLOs, on its means over the replications. */
		struct asim_results agg;
		asim_results_init(&agg);
		asim_replicate_aggregate(c, reps, &agg);
		bool slo = asim_scenario_judge(cand, &agg);
		for (size_t i = 0; i < agg.n; i++)
			if (!strncmp(agg.v[i].path, "slo", 3) &&
			    (agg.v[i].path[3] == '[' || agg.v[i].path[3] == '\0')) {
				const struct asim_value *v = &agg.v[i];
				if (v->kind == ASIM_VAL_LIST)
					asim_results_list(out, "%s", v->path);
				else if (v->kind == ASIM_VAL_STRING)
					asim_results_string(out, v->str, "%s", v->path);
				else if (v->kind == ASIM_VAL_BOOL)
					asim_results_bool(out, v->num != 0, "%s", v->path);
				else
					asim_results_real(out, v->num, "%s", v->path);
			}
		asim_results_finish(&agg);
		*ok = thr && slo;
		asim_results_bool(out, *ok, "ok");
	}
	for (uint32_t i = 0; i < 2 * reps; i++)
		asim_results_finish(&b[i]);
	free(b);
	if (!ran && !asim_diag_count(d))
		asim_diag_error(d, (struct asim_mark){.file = cand->doc->file, .line = 0, .col = 0}, "a run stopped early: %s",
		                asim_run_status_str(sb != ASIM_RUN_DONE ? sb : sc));
	return ran && !out->oom;
}

/* Output: every format reads the same results, so they never disagree. */

/* The value at "list[i].field". */
static const struct asim_value *get(const struct asim_results *r, const char *list, size_t i,
                                    const char *field)
{
	char path[96];
	snprintf(path, sizeof path, "%s[%zu].%s", list, i, field);
	return asim_results_get(r, path);
}

static void fmt_num(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		asim_format_number(buf, len, ASIM_VAL_REAL, v);
}

static void fmt_ci(char *buf, size_t len, const struct asim_value *v, bool interval)
{
	char m[40], lo[40], hi[40];
	fmt_num(m, sizeof m, v->num);
	fmt_num(lo, sizeof lo, v->lo);
	fmt_num(hi, sizeof hi, v->hi);
	if (interval)
		snprintf(buf, len, "%s [%s, %s]", m, lo, hi);
	else
		snprintf(buf, len, "%s", m);
}

static void fmt_change(char *buf, size_t len, const struct asim_value *v)
{
	if (!v || !isfinite(v->num))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%+.1f%%", v->num);
}

static size_t count_of(const struct asim_results *r, const char *fmt)
{
	size_t n = 0;
	while (get(r, fmt, n, "metric"))
		n++;
	return n;
}

static const char *unit_of(const char *metric)
{
	const struct metric_def *m = metric_find(metric);
	return m ? m->unit : "";
}

static void slo_line(const struct asim_results *r, size_t i, char *buf, size_t len)
{
	const char *metric = get(r, "slo", i, "metric")->str;
	bool latency = strcmp(metric, "availability") && !strchr(metric, '_');
	char v[32], t[32];
	fmt_num(v, sizeof v, get(r, "slo", i, "value")->num);
	fmt_num(t, sizeof t, get(r, "slo", i, "target")->num);
	snprintf(buf, len, "%s %s%s %s %s%s", metric, v, latency ? " ms" : "",
	         !strcmp(metric, "availability") ? ">=" : "<=", t, latency ? " ms" : "");
}

static void threshold_line(const struct asim_results *r, size_t j, char *buf, size_t len)
{
	const char *metric = get(r, "thresholds", j, "metric")->str;
	const char *limit = get(r, "thresholds", j, "limit")->str;
	char w[32];
	fmt_num(w, sizeof w, get(r, "thresholds", j, "worsening")->num);
	const char *u = strchr(limit, '%') ? "%" : strstr(limit, "pp") ? "pp" : unit_of(metric);
	snprintf(buf, len, "%s worse by at most %s%s (worse by %s%s)", metric, limit,
	         strchr(limit, '%') || strstr(limit, "pp") ? "" : u, w, u);
}

static void print_text(const struct asim_results *r, FILE *out)
{
	fprintf(out, "compare %s (base) with %s (candidate): %.0f replications, seed %.0f, common "
	        "random numbers\n\n",
	        asim_results_get(r, "base")->str, asim_results_get(r, "candidate")->str,
	        asim_results_num(r, "replications", 0), asim_results_num(r, "seed", 0));
	fprintf(out, "%-20s %-12s %-12s %-34s %-8s %s\n", "metric", "base", "candidate",
	        "difference [95% CI]", "change", "verdict");
	size_t nm = count_of(r, "metrics");
	for (size_t i = 0; i < nm; i++) {
		char name[48], bb[48], cc[48], dd[160], ch[32];
		const char *metric = get(r, "metrics", i, "metric")->str;
		snprintf(name, sizeof name, "%s%s%s", metric, *unit_of(metric) ? " " : "",
		         unit_of(metric));
		fmt_ci(bb, sizeof bb, get(r, "metrics", i, "base"), false);
		fmt_ci(cc, sizeof cc, get(r, "metrics", i, "candidate"), false);
		fmt_ci(dd, sizeof dd, get(r, "metrics", i, "difference"), true);
		fmt_change(ch, sizeof ch, get(r, "metrics", i, "change_pct"));
		fprintf(out, "%-20s %-12s %-12s %-34s %-8s %s\n", name, bb, cc, dd, ch,
		        get(r, "metrics", i, "verdict")->str);
	}
	size_t nt = count_of(r, "thresholds");
	if (nt)
		fprintf(out, "\nThresholds\n");
	for (size_t j = 0; j < nt; j++) {
		char line[256];
		threshold_line(r, j, line, sizeof line);
		fprintf(out, "  %-60s %s\n", line,
		        get(r, "thresholds", j, "ok")->num != 0 ? "ok" : "REGRESSION");
	}
	size_t ns = count_of(r, "slo");
	if (ns)
		fprintf(out, "\nSLOs of the candidate (means over replications)\n");
	for (size_t i = 0; i < ns; i++) {
		char line[256];
		slo_line(r, i, line, sizeof line);
		fprintf(out, "  %-60s %s\n", line,
		        get(r, "slo", i, "ok")->num != 0 ? "ok" : "FAILED");
	}
	fprintf(out, "\nResult: %s\n",
	        asim_results_num(r, "ok", 0) != 0
	                ? "the candidate holds every threshold and SLO"
	                : "the candidate regressed beyond a threshold or broke an SLO");
}

static void print_markdown(const struct asim_results *r, FILE *out)
{
	bool ok = asim_results_num(r, "ok", 0) != 0;
	fprintf(out, "### archsim compare: %s\n\n", ok ? "pass" : "**FAIL**");
	fprintf(out, "`%s` (base) vs `%s` (candidate), %.0f replications, seed %.0f, common random "
	        "numbers.\n\n",
	        asim_results_get(r, "base")->str, asim_results_get(r, "candidate")->str,
	        asim_results_num(r, "replications", 0), asim_results_num(r, "seed", 0));
	fprintf(out, "| metric | base | candidate | difference (95%% CI) | change | verdict |\n");
	fprintf(out, "|---|---:|---:|---:|---:|---|\n");
	size_t nm = count_of(r, "metrics");
	for (size_t i = 0; i < nm; i++) {
		char bb[48], cc[48], dd[160], ch[32];
		const char *metric = get(r, "metrics", i, "metric")->str;
		const char *verdict = get(r, "metrics", i, "verdict")->str;
		fmt_ci(bb, sizeof bb, get(r, "metrics", i, "base"), false);
		fmt_ci(cc, sizeof cc, get(r, "metrics", i, "candidate"), false);
		fmt_ci(dd, sizeof dd, get(r, "metrics", i, "difference"), true);
		fmt_change(ch, sizeof ch, get(r, "metrics", i, "change_pct"));
		fprintf(out, "| %s%s%s | %s | %s | %s | %s | %s%s%s |\n", metric,
		        *unit_of(metric) ? " " : "", unit_of(metric), bb, cc, dd, ch,
		        !strcmp(verdict, "worse") ? "**" : "", verdict,
		        !strcmp(verdict, "worse") ? "**" : "");
	}
	size_t nt = count_of(r, "thresholds"), ns = count_of(r, "slo");
	if (nt + ns)
		fprintf(out, "\n| check | result |\n|---|---|\n");
	for (size_t j = 0; j < nt; j++) {
		char line[256];
		threshold_line(r, j, line, sizeof line);
		fprintf(out, "| %s | %s |\n", line,
		        get(r, "thresholds", j, "ok")->num != 0 ? "ok" : "**regression**");
	}
	for (size_t i = 0; i < ns; i++) {
		char line[256];
		slo_line(r, i, line, sizeof line);
		fprintf(out, "| SLO %s | %s |\n", line,
		        get(r, "slo", i, "ok")->num != 0 ? "ok" : "**failed**");
	}
}

static void xml_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*s, out);
		}
	}
}

static void junit_case(FILE *out, const char *cls, const char *name, bool ok, const char *why)
{
	fprintf(out, "    <testcase classname=\"%s\" name=\"", cls);
	xml_escaped(out, name);
	if (ok) {
		fputs("\"/>\n", out);
		return;
	}
	fputs("\">\n      <failure message=\"", out);
	xml_escaped(out, why);
	fputs("\"/>\n    </testcase>\n", out);
}

static void print_junit(const struct asim_results *r, FILE *out)
{
	size_t nt = count_of(r, "thresholds"), ns = count_of(r, "slo");
	size_t failures = 0;
	for (size_t j = 0; j < nt; j++)
		failures += get(r, "thresholds", j, "ok")->num == 0;
	for (size_t i = 0; i < ns; i++)
		failures += get(r, "slo", i, "ok")->num == 0;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", out);
	fputs("  <testsuite name=\"archsim compare ", out);
	xml_escaped(out, asim_results_get(r, "base")->str);
	fputs(" vs ", out);
	xml_escaped(out, asim_results_get(r, "candidate")->str);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\">\n", nt + ns, failures);
	for (size_t j = 0; j < nt; j++) {
		char line[256];
		threshold_line(r, j, line, sizeof line);
		junit_case(out, "archsim.compare.threshold", line,
		           get(r, "thresholds", j, "ok")->num != 0,
		           "significantly worse than the base beyond the threshold");
	}
	for (size_t i = 0; i < ns; i++) {
		char line[256];
		slo_line(r, i, line, sizeof line);
		junit_case(out, "archsim.compare.slo", line, get(r, "slo", i, "ok")->num != 0,
		           "the candidate breaks this SLO");
	}
	fputs("  </testsuite>\n</testsuites>\n", out);
}

struct report_job {
	const struct asim_results *r;
	const char *format;
};

static bool write_report(FILE *f, const void *arg)
{
	const struct report_job *j = arg;
	if (!strcmp(j->format, "json"))
		return asim_results_write_json(j->r, f);
	if (!strcmp(j->format, "markdown"))
		print_markdown(j->r, f);
	else if (!strcmp(j->format, "junit"))
		print_junit(j->r, f);
	else
		print_text(j->r, f);
	return !ferror(f);
}

/* A name as a gnuplot string literal can hold it. */
static void plot_name(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s", name);
	for (char *p = out; *p; p++)
		if (*p == '\'' || *p == '"' || *p == '\\' || *p == '\n')
			*p = '_';
}

/* compare --plot DIR: replication 0 of each design, as `run --out` writes
 * it, into DIR/base and DIR/candidate, then the overlays. */
static const char *const plot_sub[2] = {"base", "candidate"};
static const char *const plot_images[2] = {"compare_cdf", "compare_p95"};

static bool plot_both(const struct asim_scenario *base, const struct asim_scenario *cand,
                      const char *dir)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "archsim: cannot create %s: %s\n", dir, strerror(errno));
		return false;
	}
	const struct asim_scenario *s[2] = {base, cand};
	bool ok = true;
	for (int i = 0; i < 2 && ok; i++) {
		struct asim_series ser;
		asim_series_init(&ser);
		struct asim_results r;
		asim_results_init(&r);
		struct asim_diag d;
		asim_diag_init(&d);
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, plot_sub[i]);
		asim_series_out(&ser, path);
		enum asim_run_status st = asim_series_run(s[i], 0, &ser, &r, &d);
		asim_diag_print(&d, stderr);
		asim_scenario_judge(s[i], &r);
		ok = st != ASIM_RUN_NOMEM && !asim_diag_count(&d) && asim_series_write(&ser, &r);
		asim_diag_finish(&d);
		asim_results_finish(&r);
		asim_series_finish(&ser);
	}
	if (!ok)
		return false;
	char bn[128], cn[128], vars[400];
	plot_name(bn, sizeof bn, base->name);
	plot_name(cn, sizeof cn, cand->name);
	snprintf(vars, sizeof vars, "basename='%s'; candname='%s'", bn, cn);
	/* As for run --plot, a missing gnuplot leaves the data and the code. */
	return asim_plot_script(dir, "compare", vars) != ASIM_PLOT_FAILED;
}

int asim_compare_main(int argc, char **argv)
{
	enum { OPT_REPS = 256, OPT_SEED, OPT_DURATION, OPT_FORMAT, OPT_MAXREG, OPT_SET, OPT_PLOT };
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"reps", required_argument, NULL, OPT_REPS},
		{"jobs", required_argument, NULL, 'j'},
		{"seed", required_argument, NULL, OPT_SEED},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"max-regression", required_argument, NULL, OPT_MAXREG},
		{"output", required_argument, NULL, 'o'},
		{"set", required_argument, NULL, OPT_SET},
		{"plot", required_argument, NULL, OPT_PLOT},
		{0, 0, 0, 0},
	};
	struct asim_overrides ov = {0};
	const char *sets[64];
	const char *plot = NULL;
	int64_t reps = 0, jobs = 1;
	const char *format = "text", *spec = ASIM_DEFAULT_THRESHOLDS, *output = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "hj:o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_compare, stdout);
			return EXIT_OK;
		case OPT_REPS:
			if (!asim_option_number(usage_compare, "--reps", optarg, 2, 10000, &reps))
				return EXIT_USAGE;
			break;
		case 'j':
			if (!asim_option_number(usage_compare, "-j", optarg, 1, 1024, &jobs))
				return EXIT_USAGE;
			break;
		case OPT_SEED: {
			int64_t seed;
			if (!asim_option_number(usage_compare, "--seed", optarg, 0, INT64_MAX, &seed))
				return EXIT_USAGE;
			ov.has_seed = true;
			ov.seed = (uint64_t)seed;
			break;
		}
		case OPT_DURATION: /* read by the loader, as the file's value is */
			ov.duration = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "json") && strcmp(optarg, "markdown") &&
			    strcmp(optarg, "junit"))
				return asim_usage_error(usage_compare, "--format is text, json, markdown or junit, not '%s'",
				                        optarg);
			format = optarg;
			break;
		case OPT_MAXREG:
			spec = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_SET:
			if (ov.nsets == sizeof sets / sizeof sets[0])
				return asim_usage_error(usage_compare, "at most %zu --set options",
				                        sizeof sets / sizeof sets[0]);
			sets[ov.nsets++] = optarg;
			ov.sets = sets;
			break;
		case OPT_PLOT:
			plot = optarg;
			break;
		default:
			return asim_usage_error(usage_compare, "%s", "unknown option");
		}
	}
	if (optind != argc - 2)
		return asim_usage_error(usage_compare, "%s",
		                        "compare needs BASE and CANDIDATE files");
	struct asim_threshold t[ASIM_MAX_THRESHOLDS];
	char err[1024];
	int nt = asim_thresholds_parse(spec, t, err, sizeof err);
	if (nt < 0)
		return asim_usage_error(usage_compare, "%s", err);
	/* Every output is checked before the runs, and none may be an input. */
	struct asim_outputs outs;
	asim_outputs_init(&outs);
	if (output)
		asim_outputs_add(&outs, output);
	if (plot) {
		asim_outputs_add_dir(&outs, plot, NULL, 0);
		for (int i = 0; i < 2; i++) {
			char sub[4096];
			snprintf(sub, sizeof sub, "%s/%s", plot, plot_sub[i]);
			asim_outputs_add_dir(&outs, sub, asim_series_files, ASIM_SERIES_NFILES);
		}
		asim_plot_images(&outs, plot, plot_images, 2);
	}
	struct asim_scenario *base = NULL, *cand = NULL;
	if (asim_outputs_check(&outs))
		base = asim_scenario_load_verbose(argv[optind], &ov);
	/* Common random numbers: the candidate runs on the base's seed. */
	if (base) {
		ov.has_seed = true;
		ov.seed = base->seed;
		cand = asim_scenario_load_verbose(argv[optind + 1], &ov);
	}
	bool refused = !cand || !asim_outputs_check_inputs(&outs, base->doc) ||
	               !asim_outputs_check_inputs(&outs, cand->doc);
	asim_outputs_finish(&outs);
	if (refused) {
		asim_scenario_free(cand);
		asim_scenario_free(base);
		return EXIT_USAGE;
	}
	if (!reps) {
		reps = base->replications > cand->replications ? base->replications
		                                                : cand->replications;
		if (reps < 10)
			reps = 10;
	}
	struct asim_results r;
	asim_results_init(&r);
	struct asim_diag d;
	asim_diag_init(&d);
	bool ok = false;
	int code = EXIT_OK;
	if (!asim_compare(base, cand, (uint32_t)reps, (uint32_t)jobs, t, nt, &r, &ok, &d)) {
		asim_diag_print(&d, stderr);
		fprintf(stderr, "archsim: the comparison could not run\n");
		code = EXIT_INTERNAL;
	} else {
		struct report_job job = {&r, format};
		if (output) {
			if (!asim_output_write(output, write_report, &job))
				code = EXIT_INTERNAL;
		} else if (!write_report(stdout, &job)) {
			code = EXIT_INTERNAL;
		}
		if (code == EXIT_OK && plot && !plot_both(base, cand, plot))
			code = EXIT_INTERNAL;
		if (code == EXIT_OK && !ok)
			code = EXIT_FAILED;
	}
	asim_diag_finish(&d);
	asim_results_finish(&r);
	asim_scenario_free(cand);
	asim_scenario_free(base);
	return code;
}
