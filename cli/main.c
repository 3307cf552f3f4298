/* archsim: the command line. Exit codes: 0 ok, 1 an SLO or comparison failed
 * (or a run stopped at a limit), 2 bad input or usage, 3 internal error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "archsim_version.h"
#include "compare.h"
#include "graph.h"
#include "mpi.h"
#include "output.h"
#include "plot.h"
#include "replicate.h"
#include "report.h"
#include "scenario.h"
#include "series.h"
#include "sweep.h"
#include "verb.h"

static const char usage_main[] =
	"usage: archsim <command> [options]\n"
	"\n"
	"Simulates a distributed architecture described in a YAML scenario file.\n"
	"\n"
	"commands:\n"
	"  run FILE      simulate FILE and print latency, availability and SLO verdicts\n"
	"  check FILE    validate FILE without running it\n"
	"  graph FILE    print the topology of FILE as a mermaid flowchart\n"
	"  compare BASE CANDIDATE\n"
	"                compare two designs on common random numbers (CI, verdicts)\n"
	"  sweep FILE --set PATH=LO..HI/STEP\n"
	"                run FILE over a grid of one setting; --find-max for capacity\n"
	"  plot DIR      draw PNG and SVG plots of the data `run --out DIR` wrote\n"
	"\n"
	"options:\n"
	"  -h, --help     show this help (also: archsim <command> --help)\n"
	"  -V, --version  print the version\n"
	"\n"
	"exit codes: 0 ok, 1 an SLO or a comparison failed, 2 bad input or usage, 3 internal error\n";

static const char usage_run[] =
	"usage: archsim run FILE [options]\n"
	"\n"
	"Simulates FILE and prints a summary. Exits 0 when every SLO holds, 1 when one\n"
	"fails or the run stopped at a limit, 2 on bad input.\n"
	"\n"
	"options:\n"
	"  --seed N          override the scenario's seed\n"
	"  --duration D      override the simulated duration (e.g. 30s, 10m)\n"
	"  --set PATH=VALUE  override one value of FILE (repeatable), e.g.\n"
	"                    --set components.users.rate=4000/s --set slo.p99=100ms\n"
	"  --json FILE       also write the results as JSON to FILE\n"
	"  --reps N          run N replications (streams keyed by replication index);\n"
	"                    every figure becomes a mean with a 95% confidence interval\n"
	"  -j, --jobs N      run N replications in parallel (output is identical)\n"
	"  -o, --out DIR     write series.csv (one row per window), cdf.csv, faults.csv\n"
	"                    and results.json to DIR (series: replication 0)\n"
	"  --window D        the time-series window (default 1s, or `window:` in FILE)\n"
	"  --plot DIR        as --out DIR, then draw plots there with gnuplot\n"
	"  --max-events N    stop the run after N events (default 1e9, or `limits:`);\n"
	"                    a run stopped at a limit reports what it had and exits 1\n"
	"  -q, --quiet       print nothing on success (errors still go to stderr); a\n"
	"                    progress bar is shown on stderr only when it is a terminal\n"
	"  -h, --help        show this help\n";

static const char usage_check[] =
	"usage: archsim check FILE [--set PATH=VALUE]...\n"
	"\n"
	"Validates FILE as `run` would, without simulating. Prints each problem as\n"
	"FILE:LINE:COLUMN: error: MESSAGE and exits 2 when there is one, 0 otherwise.\n"
	"--set overrides one value, as for run.\n";

/* --set PATH=VALUE options, in order; PATH and VALUE as in cli/merge.h. */
#define MAX_SETS 64
struct sets {
	const char *v[MAX_SETS];
	size_t n;
};

static bool add_set(struct sets *sets, const char *arg)
{
	if (sets->n == MAX_SETS)
		return false;
	sets->v[sets->n++] = arg;
	return true;
}

static int cmd_check(int argc, char **argv)
{
	enum { OPT_SET = 256 };
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
	                                     {"set", required_argument, NULL, OPT_SET},
	                                     {0, 0, 0, 0}};
	struct sets sets = {0};
	int ch;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_check, stdout);
			return EXIT_OK;
		}
		if (ch == OPT_SET && add_set(&sets, optarg))
			continue;
		if (ch == OPT_SET)
			return asim_usage_error(usage_check, "at most %d --set options", MAX_SETS);
		return asim_usage_error(usage_check, "%s", "unknown option");
	}
	if (optind != argc - 1)
		return asim_usage_error(usage_check, "%s", "check needs exactly one FILE");
	/* check never simulates, not even the pilot of `warmup: auto`. */
	struct asim_overrides ov = {.sets = sets.v, .nsets = sets.n, .no_pilot = true};
	struct asim_scenario *s = asim_scenario_load_verbose(argv[optind], &ov);
	if (!s)
		return EXIT_USAGE;
	printf("%s: ok (%zu components)\n", argv[optind], s->components->n);
	asim_scenario_free(s);
	return EXIT_OK;
}

static const char usage_graph[] =
	"usage: archsim graph FILE\n"
	"\n"
	"Validates FILE and prints its components and their connections as a mermaid\n"
	"flowchart (paste it into a Markdown file to draw it). Exits 2 on bad input.\n";

static int cmd_graph(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_graph, stdout);
			return EXIT_OK;
		}
		return asim_usage_error(usage_graph, "%s", "unknown option");
	}
	if (optind != argc - 1)
		return asim_usage_error(usage_graph, "%s", "graph needs exactly one FILE");
	struct asim_scenario *s = asim_scenario_load_verbose(argv[optind], NULL);
	if (!s)
		return EXIT_USAGE;
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_kernel *k = asim_scenario_build(s, 0, &d);
	asim_diag_print(&d, stderr);
	asim_diag_finish(&d);
	int code = EXIT_OK;
	if (!k || !asim_graph_write(k, stdout) || fflush(stdout) != 0) {
		fprintf(stderr, "archsim: cannot write the graph\n");
		code = EXIT_INTERNAL;
	}
	asim_kernel_destroy(k);
	asim_scenario_free(s);
	return code;
}

static int cmd_run(int argc, char **argv)
{
	enum { OPT_SEED = 256, OPT_DURATION, OPT_JSON, OPT_REPS, OPT_WINDOW, OPT_PLOT,
	       OPT_MAX_EVENTS, OPT_SET };
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"quiet", no_argument, NULL, 'q'},
		{"seed", required_argument, NULL, OPT_SEED},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"json", required_argument, NULL, OPT_JSON},
		{"reps", required_argument, NULL, OPT_REPS},
		{"jobs", required_argument, NULL, 'j'},
		{"out", required_argument, NULL, 'o'},
		{"window", required_argument, NULL, OPT_WINDOW},
		{"plot", required_argument, NULL, OPT_PLOT},
		{"max-events", required_argument, NULL, OPT_MAX_EVENTS},
		{"set", required_argument, NULL, OPT_SET},
		{0, 0, 0, 0},
	};
	struct asim_overrides ov = {0};
	struct sets sets = {0};
	const char *json = NULL, *out = NULL;
	bool quiet = false, plot = false;
	int64_t jobs = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "hqj:o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_run, stdout);
			return EXIT_OK;
		case 'q':
			quiet = true;
			break;
		case OPT_SEED: {
			int64_t seed;
			if (!asim_option_number(usage_run, "--seed", optarg, 0, INT64_MAX, &seed))
				return EXIT_USAGE;
			ov.has_seed = true;
			ov.seed = (uint64_t)seed;
			break;
		}
		case OPT_DURATION: /* read by the loader, as the file's value is */
			ov.duration = optarg;
			break;
		case OPT_JSON:
			json = optarg;
			break;
		case OPT_REPS: {
			int64_t reps;
			if (!asim_option_number(usage_run, "--reps", optarg, 1, 10000, &reps))
				return EXIT_USAGE;
			ov.replications = (uint32_t)reps;
			break;
		}
		case 'j':
			if (!asim_option_number(usage_run, "-j", optarg, 1, 1024, &jobs))
				return EXIT_USAGE;
			break;
		case OPT_WINDOW:
			ov.window = optarg;
			break;
		case OPT_MAX_EVENTS: {
			int64_t n;
			if (!asim_option_number(usage_run, "--max-events", optarg, 1, INT64_MAX, &n))
				return EXIT_USAGE;
			ov.max_events = (uint64_t)n;
			break;
		}
		case OPT_SET:
			if (!add_set(&sets, optarg))
				return asim_usage_error(usage_run, "at most %d --set options",
				                        MAX_SETS);
			break;
		case OPT_PLOT: /* --plot DIR writes the data to DIR too */
		case 'o':
			plot |= ch == OPT_PLOT;
			if (out && strcmp(out, optarg))
				return asim_usage_error(usage_run, "%s",
				                        "--out and --plot name different directories");
			out = optarg;
			break;
		default:
			return asim_usage_error(usage_run, "%s", "unknown option");
		}
	}
	if (optind != argc - 1)
		return asim_usage_error(usage_run, "%s", "run needs exactly one FILE");
	const char *path = argv[optind];
	/* Every output is checked before the run, not found unwritable after it. */
	struct asim_outputs outs;
	asim_outputs_init(&outs);
	if (json)
		asim_outputs_add(&outs, json);
	if (out)
		asim_outputs_add_dir(&outs, out, asim_series_files, ASIM_SERIES_NFILES);
	if (out && plot)
		asim_plot_outputs(&outs, out);
	ov.sets = sets.v;
	ov.nsets = sets.n;
	struct asim_scenario *s = asim_outputs_check(&outs) ? asim_scenario_load_verbose(path, &ov) : NULL;
	if (s && !asim_outputs_check_inputs(&outs, s->doc)) {
		asim_scenario_free(s);
		s = NULL;
	}
	asim_outputs_finish(&outs);
	if (!s)
		return EXIT_USAGE;
	/* Under mpirun every rank gets here with the same scenario; rank 0
	 * gathers the replications and alone prints and writes (cli/mpi.h). */
	asim_mpi_start(&argc, &argv);
	if (asim_mpi_rank() != 0) {
		quiet = true;
		json = NULL;
		out = NULL;
	}
	struct asim_results r;
	asim_results_init(&r);
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_series series;
	asim_series_init(&series);
	/* series.csv goes to disk window by window; it takes its name, and the
	 * other files are written, only once the run has succeeded. */
	if (out)
		asim_series_out(&series, out);
	struct asim_progress *bar =
		quiet ? NULL : asim_progress_create(stderr, s->replications, s->duration);
	s->progress = bar;
	enum asim_run_status st = asim_replicate(s, (uint32_t)jobs, out ? &series : NULL, &r, &d);
	s->progress = NULL;
	asim_progress_destroy(bar);
	asim_diag_print(&d, stderr);
	int code = EXIT_OK;
	if (asim_diag_count(&d) || st == ASIM_RUN_NOMEM || r.oom) {
		fprintf(stderr, "archsim: the run failed: %s\n", asim_run_status_str(st));
		code = EXIT_INTERNAL;
	} else {
		bool ok = asim_scenario_judge(s, &r);
		if (!ok)
			code = EXIT_FAILED;
		if (st != ASIM_RUN_DONE) {
			fprintf(stderr, "archsim: the run stopped early: %s\n", asim_run_status_str(st));
			code = EXIT_FAILED;
		}
		if (!quiet)
			asim_report_text(&r, stdout);
		if (json && !asim_output_write(json, asim_write_results_json, &r))
			code = EXIT_INTERNAL;
		if (out && !asim_series_write(&series, &r))
			code = EXIT_INTERNAL;
		/* Plots are a convenience: a missing gnuplot is reported but
		 * changes no exit code, and the data is written either way. */
		else if (out && plot && asim_plot_dir(out) == ASIM_PLOT_FAILED)
			code = EXIT_INTERNAL;
	}
	asim_series_finish(&series);
	asim_diag_finish(&d);
	asim_results_finish(&r);
	asim_scenario_free(s);
	return asim_mpi_finish(code);
}

/* The summary or report on standard output is what the user asked for: if
 * it was lost (a full disk, a closed stdout) the command failed to write
 * it, as a failed --json would, and does not exit 0. */
static int finish_stdout(int code)
{
	int err = fflush(stdout) != 0 ? errno : 0;
	if (!err && !ferror(stdout))
		return code;
	fprintf(stderr, "archsim: cannot write standard output: %s\n", strerror(err ? err : EIO));
	return code == EXIT_USAGE ? code : EXIT_INTERNAL;
}

static int run_verb(const char *verb, int argc, char **argv)
{
	if (!strcmp(verb, "run"))
		return cmd_run(argc, argv);
	if (!strcmp(verb, "check"))
		return cmd_check(argc, argv);
	if (!strcmp(verb, "graph"))
		return cmd_graph(argc, argv);
	if (!strcmp(verb, "compare"))
		return asim_compare_main(argc, argv);
	if (!strcmp(verb, "plot"))
		return asim_plot_main(argc, argv);
	if (!strcmp(verb, "sweep"))
		return asim_sweep_main(argc, argv);
	fprintf(stderr, "archsim: unknown command '%s'\n\n%s", verb, usage_main);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	/* GSL's default handler aborts; out of memory in an allocation is
	 * reported through return values instead, like every other error. */
	gsl_set_error_handler_off();
	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help") || !strcmp(verb, "help")) {
		fputs(usage_main, stdout);
		return finish_stdout(EXIT_OK);
	}
	if (!strcmp(verb, "-V") || !strcmp(verb, "--version")) {
#ifdef ARCHSIM_STREAM_SALT
		/* Said, so that a test build's results are never taken for a
		 * user build's. */
		printf("archsim %s (stream salt build: ARCHSIM_STREAM_SALT changes results)\n",
		       ARCHSIM_VERSION);
#else
		printf("archsim %s\n", ARCHSIM_VERSION);
#endif
		return finish_stdout(EXIT_OK);
	}
	/* Each verb parses its own options, from its own argv. */
	optind = 1;
	return finish_stdout(run_verb(verb, argc - 1, argv + 1));
}
