#include "sweep.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archsim/cfg.h"
#include "merge.h"
#include "plot.h"
#include "progress.h"
#include "replicate.h"
#include "series.h"
#include "verb.h"

static const char usage_sweep[] =
	"usage: archsim sweep FILE --set PATH=GRID [options]\n"
	"\n"
	"Runs FILE at every value of one setting and prints p50/p95/p99 latency,\n"
	"availability, throughput and the SLO verdict per value. GRID is a range\n"
	"LO..HI/STEP of numbers, which take the unit of the value in FILE\n"
	"(components.users.rate=1000..8000/1000 on `rate: 2000/s` runs 1000/s to\n"
	"8000/s), or a list A,B,C. PATH is as for --set (users.rate works for\n"
	"components.users.rate). Exits 0, or 1 when --find-max finds no passing value.\n"
	"\n"
	"options:\n"
	"  --set PATH=VALUE  the axis (a range or a list), or a fixed override (repeatable)\n"
	"  --find-max        report the largest value meeting every SLO: the largest\n"
	"                    passing grid value, refined by 6 bisections toward the next\n"
	"                    (failing) grid value\n"
	"  --reps N          replications per point (default: the file's)\n"
	"  -j, --jobs N      run N replications in parallel (same output)\n"
	"  --seed N          override the seed\n"
	"  --duration D      override the simulated duration\n"
	"  --format F        text (default), csv or json\n"
	"  -o, --out DIR     also write sweep.csv and sweep.json to DIR\n"
	"  --plot DIR        as --out DIR, then plot p95 and availability against the\n"
	"                    value (sweep.png, sweep.svg) with gnuplot\n"
	"  -q, --quiet       print no table and no progress bar\n"
	"  -h, --help        show this help\n";

/* ---- grids ---- */

/* A decimal number as an integer mantissa and a count of decimals. */
static bool dec_parse(const char *s, size_t len, int64_t *mant, int *decs)
{
	size_t i = 0;
	bool neg = false, digits = false;
	int64_t m = 0;
	int dd = -1;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < len; i++) {
		if (s[i] == '.' && dd < 0) {
			dd = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (m > 99999999999999LL)
			return false;
		m = m * 10 + (s[i] - '0');
		digits = true;
		if (dd >= 0)
			dd++;
	}
	if (!digits)
		return false;
	*mant = neg ? -m : m;
	*decs = dd < 0 ? 0 : dd;
	return true;
}

/* The unit of a number as written in the file: what follows its digits. */
static const char *unit_of(const char *orig)
{
	if (!orig)
		return "";
	const char *p = orig + (*orig == '-' || *orig == '+');
	size_t n = strspn(p, "0123456789.");
	return n ? p + n : "";
}

struct range {
	int64_t lo, hi, step; /* scaled by 10^scale */
	int scale;
	char unit[32];
};

static int64_t pow10i(int n)
{
	int64_t v = 1;
	while (n-- > 0)
		v *= 10;
	return v;
}

/* Parses LO..HI/STEP with two extra decimals of room for bisection. */
static bool parse_range(const char *text, const char *orig, struct range *r, char *err,
                        size_t errlen)
{
	const char *dots = strstr(text, "..");
	const char *slash = dots ? strrchr(dots + 2, '/') : NULL;
	int64_t m[3];
	int dc[3];
	if (!dots || !slash || !dec_parse(text, (size_t)(dots - text), &m[0], &dc[0]) ||
	    !dec_parse(dots + 2, (size_t)(slash - dots - 2), &m[1], &dc[1]) ||
	    !dec_parse(slash + 1, strlen(slash + 1), &m[2], &dc[2])) {
		snprintf(err, errlen,
		         "expected a range LO..HI/STEP of plain numbers (e.g. 1000..8000/1000) or a "
		         "list A,B,C, got '%.60s'", text);
		return false;
	}
	int decs = dc[0] > dc[1] ? dc[0] : dc[1];
	decs = dc[2] > decs ? dc[2] : decs;
	if (decs > 6) {
		snprintf(err, errlen, "at most 6 decimals in a range, got '%.60s'", text);
		return false;
	}
	r->scale = decs + 2;
	int64_t v[3];
	for (int i = 0; i < 3; i++)
		v[i] = m[i] * pow10i(r->scale - dc[i]);
	r->lo = v[0];
	r->hi = v[1];
	r->step = v[2];
	if (r->step <= 0 || r->hi < r->lo) {
		snprintf(err, errlen, "a range needs LO <= HI and STEP > 0, got '%.60s'", text);
		return false;
	}
	snprintf(r->unit, sizeof r->unit, "%s", unit_of(orig));
	return true;
}

/* A scaled number as the shortest decimal, with the unit. */
static void format_value(const struct range *r, int64_t v, char *out, size_t len)
{
	int64_t p = pow10i(r->scale);
	int64_t a = v < 0 ? -v : v;
	char frac[32];
	snprintf(frac, sizeof frac, "%0*lld", r->scale, (long long)(a % p));
	size_t n = strlen(frac);
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(out, len, "%s%lld%s%s%s", v < 0 ? "-" : "", (long long)(a / p), n ? "." : "",
	         frac, r->unit);
}

int asim_sweep_grid(const char *text, const char *orig, char (*vals)[64], size_t max,
                    bool *numeric, char *err, size_t errlen)
{
	*numeric = strstr(text, "..") != NULL;
	if (*numeric) {
		struct range r;
		if (!parse_range(text, orig, &r, err, errlen))
			return -1;
		int64_t count = (r.hi - r.lo) / r.step + 1;
		if (count > (int64_t)max) {
			snprintf(err, errlen, "the range '%.60s' has %lld values (at most %zu)", text,
			         (long long)count, max);
			return -1;
		}
		for (int64_t i = 0; i < count; i++)
			format_value(&r, r.lo + i * r.step, vals[i], 64);
		return (int)count;
	}
	size_t n = 0;
	const char *unit = unit_of(orig);
	for (const char *p = text;; p++) {
		size_t len = strcspn(p, ",");
		while (len && (*p == ' '))
			p++, len--;
		while (len && p[len - 1] == ' ')
			len--;
		int64_t m;
		int dc;
		if (!len || len >= 48) {
			snprintf(err, errlen, "an empty or too long item in the list '%.60s'", text);
			return -1;
		}
		if (n == max) {
			snprintf(err, errlen, "the list '%.60s' has more than %zu values", text, max);
			return -1;
		}
		bool bare = dec_parse(p, len, &m, &dc);
		snprintf(vals[n++], 64, "%.*s%s", (int)len, p, bare ? unit : "");
		p += strcspn(p, ",");
		if (!*p)
			break;
	}
	return (int)n;
}

/* ---- running ---- */

static bool is_axis(const char *assign)
{
	const char *eq = strchr(assign, '=');
	return eq && eq[1] != '[' && eq[1] != '{' && (strstr(eq, "..") || strchr(eq, ','));
}

/* The figure at path, or NaN when the run did not measure it (a latency
 * with no successful request, the availability of no request): the
 * placeholder's 0 ms would be plotted and tabled as a real latency. */
static double measured(const struct asim_results *r, const char *path)
{
	const struct asim_value *v = asim_results_get(r, path);
	return v && !v->unmeasured ? asim_results_num(r, path, NAN) : NAN;
}

static int run_point(struct asim_sweep *sw, const char **sets, const char *value, bool bisect,
                     size_t index, size_t total, struct asim_diag *d)
{
	char assign[512];
	snprintf(assign, sizeof assign, "%s=%s", sw->path, value);
	sets[sw->ov.nsets] = assign;
	struct asim_overrides ov = sw->ov;
	ov.sets = sets;
	ov.nsets = sw->ov.nsets + 1;
	struct asim_scenario *s = asim_scenario_load(sw->file, &ov, d);
	if (!s)
		return EXIT_USAGE;
	struct asim_progress *bar =
		sw->progress ? asim_progress_create(stderr, s->replications, s->duration) : NULL;
	char label[96];
	if (bisect)
		snprintf(label, sizeof label, "bisecting at %.40s", value);
	else
		snprintf(label, sizeof label, "point %zu/%zu, %.40s", index + 1, total, value);
	asim_progress_stage(bar, label);
	s->progress = bar;
	struct asim_results r;
	asim_results_init(&r);
	struct asim_diag rd;
	asim_diag_init(&rd);
	enum asim_run_status st = asim_replicate(s, sw->jobs, NULL, &r, &rd);
	asim_progress_destroy(bar);
	int code = EXIT_OK;
	if (asim_diag_count(&rd) || st == ASIM_RUN_NOMEM || r.oom) {
		for (size_t i = 0; i < rd.n; i++)
			asim_diag_error(d, rd.v[i].mark, "%s", rd.v[i].msg);
		asim_diag_error(d, (struct asim_mark){.file = sw->file, .line = 0, .col = 0}, "the run at %s=%s failed: %s",
		                sw->path, value, asim_run_status_str(st));
		code = EXIT_INTERNAL;
	} else {
		struct asim_sweep_point *pt = &sw->points[sw->npoints++];
		memset(pt, 0, sizeof *pt);
		snprintf(pt->value, sizeof pt->value, "%s", value);
		char *end;
		pt->x = strtod(value, &end);
		if (end == value)
			pt->x = NAN;
		pt->bisect = bisect;
		pt->ok = asim_scenario_judge(s, &r) && st == ASIM_RUN_DONE;
		pt->p50 = measured(&r, "latency_ms.p50");
		pt->p95 = measured(&r, "latency_ms.p95");
		pt->p99 = measured(&r, "latency_ms.p99");
		pt->availability = measured(&r, "availability");
		pt->throughput = asim_results_num(&r, "throughput_rps", NAN);
		sw->replications = s->replications;
		sw->nslo = s->nslo;
	}
	asim_diag_finish(&rd);
	asim_results_finish(&r);
	asim_scenario_free(s);
	return code;
}

static int by_x(const void *a, const void *b)
{
	const struct asim_sweep_point *p = a, *q = b;
	return (p->x > q->x) - (p->x < q->x);
}

/* The bisection of --find-max between grid values lo (passes) and hi
 * (fails), in the range's scaled integers. */
static int bisect(struct asim_sweep *sw, const char **sets, const struct range *r, int64_t lo,
                  int64_t hi, struct asim_diag *d)
{
	int64_t unit = r->step / 100 > 0 ? r->step / 100 : 1;
	for (int i = 0; i < ASIM_SWEEP_BISECT && hi - lo > unit; i++) {
		int64_t mid = lo + (hi - lo) / 2 / unit * unit;
		if (mid <= lo)
			break;
		char value[64];
		format_value(r, mid, value, sizeof value);
		int code = run_point(sw, sets, value, true, 0, 0, d);
		if (code != EXIT_OK)
			return code;
		if (sw->points[sw->npoints - 1].ok) {
			lo = mid;
			snprintf(sw->max, sizeof sw->max, "%s", value);
		} else {
			hi = mid;
		}
	}
	return EXIT_OK;
}

int asim_sweep_run(struct asim_sweep *sw, struct asim_diag *d)
{
	struct asim_mark m = {.file = "<--set>", .line = 0, .col = 0};
	const char *eq = strchr(sw->axis, '=');
	size_t plen = eq ? (size_t)(eq - sw->axis) : 0;
	if (!eq || !plen || plen >= sizeof sw->path) {
		asim_diag_error(d, m, "expected PATH=GRID for the swept value, got '%.60s'", sw->axis);
		return EXIT_USAGE;
	}
	snprintf(sw->path, sizeof sw->path, "%.*s", (int)plen, sw->axis);
	char name[300];
	snprintf(name, sizeof name, "<--set %s>", sw->path);
	m.file = name;
	/* The file's own value gives the unit, and loading checks the path. */
	struct asim_overrides ov0 = sw->ov;
	struct asim_scenario *s0 = asim_scenario_load(sw->file, &ov0, d);
	if (!s0)
		return EXIT_USAGE;
	if (sw->outputs && !asim_outputs_check_inputs(sw->outputs, s0->doc)) {
		asim_scenario_free(s0);
		return EXIT_USAGE;
	}
	const struct asim_cfg *orig = asim_cfg_find_path(s0->doc->root, sw->path);
	const char *orig_text = orig && orig->type == ASIM_CFG_SCALAR ? orig->text : NULL;
	char (*vals)[64] = calloc(ASIM_SWEEP_MAX_POINTS, sizeof *vals);
	const char **sets = calloc(sw->ov.nsets + 1, sizeof *sets);
	sw->points = calloc(ASIM_SWEEP_MAX_POINTS + ASIM_SWEEP_BISECT, sizeof *sw->points);
	int code = EXIT_OK;
	if (!vals || !sets || !sw->points) {
		asim_diag_error(d, m, "out of memory");
		code = EXIT_INTERNAL;
		goto out;
	}
	char err[256];
	int n = asim_sweep_grid(eq + 1, orig_text, vals, ASIM_SWEEP_MAX_POINTS, &sw->numeric, err,
	                        sizeof err);
	if (n < 0) {
		asim_diag_error(d, m, "%s", err);
		code = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < sw->ov.nsets; i++)
		sets[i] = sw->ov.sets[i];
	for (int i = 0; i < n && code == EXIT_OK; i++)
		code = run_point(sw, sets, vals[i], false, (size_t)i, (size_t)n, d);
	if (code != EXIT_OK || !sw->find_max)
		goto out;
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < sw->npoints; i++)
		if (sw->points[i].ok)
			best = i;
	sw->found = best != SIZE_MAX;
	if (!sw->found)
		goto out;
	snprintf(sw->max, sizeof sw->max, "%s", sw->points[best].value);
	if (sw->numeric && best + 1 < sw->npoints) {
		struct range r;
		parse_range(eq + 1, orig_text, &r, err, sizeof err);
		code = bisect(sw, sets, &r, r.lo + (int64_t)best * r.step,
		              r.lo + (int64_t)(best + 1) * r.step, d);
	}
	if (sw->numeric)
		qsort(sw->points, sw->npoints, sizeof *sw->points, by_x);
out:
	free(vals);
	free(sets);
	asim_scenario_free(s0);
	return code;
}

void asim_sweep_finish(struct asim_sweep *sw)
{
	free(sw->points);
	sw->points = NULL;
	sw->npoints = 0;
}

/* ---- reports ---- */

static void print_text(const struct asim_sweep *sw, FILE *out)
{
	fprintf(out, "sweep of %s in %s (%u replication%s per value)\n\n", sw->path, sw->file,
	        sw->replications, sw->replications == 1 ? "" : "s");
	fprintf(out, "%-16s %10s %10s %10s %13s %13s  %s\n", "value", "p50 ms", "p95 ms", "p99 ms",
	        "availability", "throughput/s", "SLOs");
	for (size_t i = 0; i < sw->npoints; i++) {
		const struct asim_sweep_point *p = &sw->points[i];
		fprintf(out, "%-16s %10.4g %10.4g %10.4g %13.6f %13.6g  %s%s\n", p->value, p->p50, p->p95,
		        p->p99, p->availability, p->throughput, p->ok ? "ok" : "FAILED",
		        p->bisect ? " (bisection)" : "");
	}
	if (!sw->find_max)
		return;
	if (!sw->nslo)
		fprintf(out, "\nthe scenario has no SLOs: every value passes\n");
	if (sw->found)
		fprintf(out, "\nlargest %s meeting every SLO: %s%s\n", sw->path, sw->max,
		        sw->numeric && !strcmp(sw->max, sw->points[sw->npoints - 1].value)
		                ? " (the top of the range: extend it to search further)"
		                : "");
	else
		fprintf(out, "\nno value of %s meets every SLO\n", sw->path);
}

static void csv_num(FILE *out, double v)
{
	if (isnan(v))
		fputs(",NaN", out);
	else
		fprintf(out, ",%.9g", v);
}

static bool write_csv(FILE *out, const void *arg)
{
	const struct asim_sweep *sw = arg;
	fputs("value,x,p50_ms,p95_ms,p99_ms,availability,throughput_rps,ok,bisection\n", out);
	for (size_t i = 0; i < sw->npoints; i++) {
		const struct asim_sweep_point *p = &sw->points[i];
		fprintf(out, "%s", p->value);
		/* A list item that is no number is plotted at its position. */
		csv_num(out, isnan(p->x) ? (double)i : p->x);
		csv_num(out, p->p50);
		csv_num(out, p->p95);
		csv_num(out, p->p99);
		csv_num(out, p->availability);
		csv_num(out, p->throughput);
		fprintf(out, ",%d,%d\n", p->ok, p->bisect);
	}
	return !ferror(out);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void json_num(FILE *out, const char *key, double v)
{
	if (isnan(v))
		fprintf(out, ", \"%s\": null", key);
	else
		fprintf(out, ", \"%s\": %.9g", key, v);
}

static bool write_json(FILE *out, const void *arg)
{
	const struct asim_sweep *sw = arg;
	fputs("{\"scenario\": ", out);
	json_str(out, sw->file);
	fputs(", \"path\": ", out);
	json_str(out, sw->path);
	fprintf(out, ", \"replications\": %u, \"points\": [", sw->replications);
	for (size_t i = 0; i < sw->npoints; i++) {
		const struct asim_sweep_point *p = &sw->points[i];
		fputs(i ? ",\n  {\"value\": " : "\n  {\"value\": ", out);
		json_str(out, p->value);
		json_num(out, "x", p->x);
		json_num(out, "p50_ms", p->p50);
		json_num(out, "p95_ms", p->p95);
		json_num(out, "p99_ms", p->p99);
		json_num(out, "availability", p->availability);
		json_num(out, "throughput_rps", p->throughput);
		fprintf(out, ", \"ok\": %s, \"bisection\": %s}", p->ok ? "true" : "false",
		        p->bisect ? "true" : "false");
	}
	fputs("\n]", out);
	if (sw->find_max) {
		fprintf(out, ", \"find_max\": {\"found\": %s, \"value\": ", sw->found ? "true" : "false");
		if (sw->found)
			json_str(out, sw->max);
		else
			fputs("null", out);
		fputc('}', out);
	}
	fputs("}\n", out);
	return !ferror(out);
}

static const char *const dir_files[2] = {"sweep.csv", "sweep.json"};
static const char *const dir_images[1] = {"sweep"};

static bool write_dir(const struct asim_sweep *sw, const char *dir)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "archsim: cannot create %s: %s\n", dir, strerror(errno));
		return false;
	}
	bool (*const writers[2])(FILE *, const void *) = {write_csv, write_json};
	for (size_t i = 0; i < 2; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, dir_files[i]);
		if (!asim_output_write(path, writers[i], sw))
			return false;
	}
	return true;
}

/* ---- the verb ---- */

int asim_sweep_main(int argc, char **argv)
{
	enum { OPT_SET = 256, OPT_FIND, OPT_REPS, OPT_SEED, OPT_DURATION, OPT_FORMAT, OPT_PLOT };
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"quiet", no_argument, NULL, 'q'},
		{"set", required_argument, NULL, OPT_SET},
		{"find-max", no_argument, NULL, OPT_FIND},
		{"reps", required_argument, NULL, OPT_REPS},
		{"jobs", required_argument, NULL, 'j'},
		{"seed", required_argument, NULL, OPT_SEED},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"out", required_argument, NULL, 'o'},
		{"plot", required_argument, NULL, OPT_PLOT},
		{0, 0, 0, 0},
	};
	struct asim_sweep sw = {.jobs = 1};
	const char **sets = calloc((size_t)argc + 1, sizeof *sets);
	if (!sets)
		return EXIT_INTERNAL;
	const char *format = "text", *out = NULL;
	bool plot = false, quiet = false;
	int64_t v;
	int ch, code = EXIT_OK;
	while ((ch = getopt_long(argc, argv, "hqj:o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_sweep, stdout);
			free(sets);
			return EXIT_OK;
		case 'q':
			quiet = true;
			break;
		case OPT_SET:
			if (is_axis(optarg)) {
				if (sw.axis) {
					free(sets);
					return asim_usage_error(usage_sweep, "sweep takes one range or list, got '%s' and '%s'",
					                        sw.axis, optarg);
				}
				sw.axis = optarg;
			} else {
				sets[sw.ov.nsets++] = optarg;
			}
			break;
		case OPT_FIND:
			sw.find_max = true;
			break;
		case OPT_REPS:
			if (!asim_option_number(usage_sweep, "--reps", optarg, 1, 10000, &v)) {
				free(sets);
				return EXIT_USAGE;
			}
			sw.ov.replications = (uint32_t)v;
			break;
		case 'j':
			if (!asim_option_number(usage_sweep, "-j", optarg, 1, 1024, &v)) {
				free(sets);
				return EXIT_USAGE;
			}
			sw.jobs = (uint32_t)v;
			break;
		case OPT_SEED:
			if (!asim_option_number(usage_sweep, "--seed", optarg, 0, INT64_MAX, &v)) {
				free(sets);
				return EXIT_USAGE;
			}
			sw.ov.has_seed = true;
			sw.ov.seed = (uint64_t)v;
			break;
		case OPT_DURATION: /* read by the loader, as the file's value is */
			sw.ov.duration = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "csv") && strcmp(optarg, "json")) {
				free(sets);
				return asim_usage_error(usage_sweep, "--format is text, csv or json, not '%s'",
				                        optarg);
			}
			format = optarg;
			break;
		case OPT_PLOT:
		case 'o':
			plot |= ch == OPT_PLOT;
			if (out && strcmp(out, optarg)) {
				free(sets);
				return asim_usage_error(usage_sweep, "%s",
				                        "--out and --plot name different directories");
			}
			out = optarg;
			break;
		default:
			free(sets);
			return asim_usage_error(usage_sweep, "%s", "unknown option");
		}
	}
	if (optind != argc - 1) {
		free(sets);
		return asim_usage_error(usage_sweep, "%s", "sweep needs exactly one FILE");
	}
	if (!sw.axis) {
		free(sets);
		return asim_usage_error(usage_sweep, "%s",
		                        "sweep needs --set PATH=LO..HI/STEP or PATH=A,B,C");
	}
	/* Every output is checked before the runs; asim_sweep_run refuses
	 * one that is an input. */
	struct asim_outputs outs;
	asim_outputs_init(&outs);
	if (out)
		asim_outputs_add_dir(&outs, out, dir_files, 2);
	if (out && plot)
		asim_plot_images(&outs, out, dir_images, 1);
	if (!asim_outputs_check(&outs)) {
		asim_outputs_finish(&outs);
		free(sets);
		return EXIT_USAGE;
	}
	sw.file = argv[optind];
	sw.ov.sets = sets;
	sw.progress = !quiet;
	sw.outputs = &outs;
	struct asim_diag d;
	asim_diag_init(&d);
	code = asim_sweep_run(&sw, &d);
	asim_diag_print(&d, stderr);
	asim_diag_finish(&d);
	asim_outputs_finish(&outs);
	if (code == EXIT_OK) {
		if (!quiet && !strcmp(format, "csv"))
			write_csv(stdout, &sw);
		else if (!quiet && !strcmp(format, "json"))
			write_json(stdout, &sw);
		else if (!quiet)
			print_text(&sw, stdout);
		if (out && !write_dir(&sw, out)) {
			code = EXIT_INTERNAL;
		} else if (out && plot) {
			char vars[128];
			snprintf(vars, sizeof vars, "numeric=%d", sw.numeric);
			if (asim_plot_script(out, "sweep", vars) == ASIM_PLOT_FAILED)
				code = EXIT_INTERNAL;
		}
		if (code == EXIT_OK && sw.find_max && !sw.found)
			code = EXIT_FAILED;
	}
	asim_sweep_finish(&sw);
	free(sets);
	return code;
}
