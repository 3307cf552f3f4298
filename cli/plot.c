#include "plot.h"

#include <errno.h>
#include <getopt.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef ASIM_PLOTS_DIR
#define ASIM_PLOTS_DIR "plots"
#endif

extern char **environ;

static const char usage_plot[] =
	"usage: archsim plot DIR\n"
	"\n"
	"Runs gnuplot over the data that `archsim run FILE --out DIR` wrote to DIR\n"
	"(series.csv, cdf.csv, faults.csv) and writes latency, availability,\n"
	"throughput, queues, replication and cdf plots there, each as PNG and SVG.\n"
	"Fault windows listed in faults.csv are shaded. Needs gnuplot on PATH\n"
	"(apt-get install gnuplot-nox).\n"
	"\n"
	"exit codes: 0 plotted, 2 bad usage or no data in DIR, 3 gnuplot missing or failed\n";

static const char *const scripts[] = {"latency", "availability", "throughput", "queues",
                                      "replication", "cdf"};

static const char *const exts[] = {"png", "svg"};

void asim_plot_images(struct asim_outputs *o, const char *dir, const char *const *names,
                      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t e = 0; e < 2; e++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s.%s", dir, names[i], exts[e]);
			asim_outputs_add(o, path);
		}
	}
}

void asim_plot_outputs(struct asim_outputs *o, const char *dir)
{
	asim_plot_images(o, dir, scripts, sizeof scripts / sizeof scripts[0]);
}

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	if (!path)
		return false;
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		char buf[4096];
		if (len && len + strlen(prog) + 2 < sizeof buf) {
			snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, prog);
			if (access(buf, X_OK) == 0)
				return true;
		}
		if (!end)
			break;
		path = end + 1;
	}
	return false;
}

/* Reads what the scripts need from series.csv and faults.csv: the end of
 * warm-up, the last window's end, the queue columns and the fault count. */
struct plot_info {
	double warmup, tmax;
	int nfaults;
	char queuecols[1024], queuenames[2048];
	/* Queues' rebalancing columns (the share of each window their
	 * consumer group spent rebalancing), with the queues' names. */
	char rebalcols[1024], rebalnames[2048];
	/* Databases' replication_stalled_ms columns; databases' and caches'
	 * stale_reads columns, each list with its components' names. */
	char stallcols[1024], dbnames[2048], stalecols[1024], stalenames[2048];
	/* Windows with a latency (some request succeeded in them), and the
	 * largest p99 among them; cdf.csv's rows and its largest latency. A
	 * run where no request succeeded, or all took 0 ns, has nothing to
	 * draw on a latency axis (a log one needs a value above 0), and the
	 * scripts say so instead of failing. */
	int latwindows, cdfrows;
	double latmax, cdfmax;
};

/* Appends a space-separated word to a list in buf (size n); a list that
 * would overflow keeps what it had. */
static void add_word(char *buf, size_t n, const char *word, int len)
{
	size_t have = strlen(buf);
	int w = snprintf(buf + have, n - have, "%s%.*s", have ? " " : "", len, word);
	if (w < 0 || (size_t)w >= n - have)
		buf[have] = '\0';
}

/* Whether tok ends with suffix; *stem gets the length before it. */
static bool ends_with(const char *tok, const char *suffix, int *stem)
{
	size_t len = strlen(tok), sl = strlen(suffix);
	if (len <= sl || strcmp(tok + len - sl, suffix))
		return false;
	*stem = (int)(len - sl);
	return true;
}

/* The field after the next comma of a CSV line, or NULL when there is none. */
static char *next_field(char *p)
{
	char *comma = p ? strchr(p, ',') : NULL;
	return comma ? comma + 1 : NULL;
}

/* The data rows (after the header, blank lines aside) of the CSV file at
 * path, 0 when it cannot be read; *max_first (when not NULL) gets the
 * largest first field among them, 0 when none is above it. */
static int csv_rows(const char *path, double *max_first)
{
	char line[8192];
	int n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	bool header = true;
	while (fgets(line, sizeof line, f)) {
		if (!header && line[0] != '\n') {
			n++;
			double v = strtod(line, NULL);
			if (max_first && v > *max_first)
				*max_first = v;
		}
		header = false;
	}
	fclose(f);
	return n;
}

static bool read_info(const char *dir, struct plot_info *pi)
{
	char path[4096];
	memset(pi, 0, sizeof *pi);
	snprintf(path, sizeof path, "%s/series.csv", dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "archsim: cannot read %s: %s (write it with `archsim run FILE --out %s`)\n",
		        path, strerror(errno), dir);
		return false;
	}
	char line[8192];
	if (!fgets(line, sizeof line, f)) {
		fprintf(stderr, "archsim: %s is empty\n", path);
		fclose(f);
		return false;
	}
	line[strcspn(line, "\r\n")] = '\0';
	int col = 1;
	for (char *save = NULL, *tok = strtok_r(line, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save), col++) {
		char num[16];
		int stem;
		snprintf(num, sizeof num, "%d", col);
		if (ends_with(tok, ".queue", &stem)) {
			add_word(pi->queuecols, sizeof pi->queuecols, num, (int)strlen(num));
			add_word(pi->queuenames, sizeof pi->queuenames, tok, stem);
		} else if (ends_with(tok, ".rebalancing", &stem)) {
			add_word(pi->rebalcols, sizeof pi->rebalcols, num, (int)strlen(num));
			add_word(pi->rebalnames, sizeof pi->rebalnames, tok, stem);
		} else if (ends_with(tok, ".replication_stalled_ms", &stem)) {
			add_word(pi->stallcols, sizeof pi->stallcols, num, (int)strlen(num));
			add_word(pi->dbnames, sizeof pi->dbnames, tok, stem);
		} else if (ends_with(tok, ".stale_reads", &stem)) {
			add_word(pi->stalecols, sizeof pi->stalecols, num, (int)strlen(num));
			add_word(pi->stalenames, sizeof pi->stalenames, tok, stem);
		}
	}
	while (fgets(line, sizeof line, f)) {
		char *end;
		strtod(line, &end);
		if (*end != ',')
			continue;
		double t_end = strtod(end + 1, &end);
		if (*end != ',')
			continue;
		pi->tmax = t_end;
		if (end[1] == '1')
			pi->warmup = t_end;
		/* p50, p95, p99 are columns 10-12: "NaN" when nothing succeeded. */
		char *p = end + 1;
		for (int skip = 0; skip < 7; skip++)
			p = next_field(p);
		if (p && strncmp(p, "NaN", 3)) {
			pi->latwindows++;
			p = next_field(next_field(p));
			double p99 = p ? strtod(p, NULL) : 0;
			if (p99 > pi->latmax)
				pi->latmax = p99;
		}
	}
	fclose(f);
	snprintf(path, sizeof path, "%s/cdf.csv", dir);
	pi->cdfrows = csv_rows(path, &pi->cdfmax);
	/* A window that straddles the end of warm-up is flagged as warm-up, so
	 * the flags alone would shade it to its own end: the instant itself is
	 * results.json's top-level warmup_s, when it lies within that window. */
	snprintf(path, sizeof path, "%s/results.json", dir);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof line, f)) {
			static const char key[] = "  \"warmup_s\": ";
			if (strncmp(line, key, sizeof key - 1))
				continue;
			char *end;
			double w = strtod(line + sizeof key - 1, &end);
			if (end != line + sizeof key - 1 && w > 0 && w < pi->warmup)
				pi->warmup = w;
			break;
		}
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/faults.csv", dir);
	pi->nfaults = csv_rows(path, NULL);
	if (pi->tmax <= 0) {
		fprintf(stderr, "archsim: %s/series.csv has no windows to plot\n", dir);
		return false;
	}
	return true;
}

static const char *plots_dir(void)
{
	const char *env = getenv("ARCHSIM_PLOTS_DIR");
	return env && *env ? env : ASIM_PLOTS_DIR;
}

static bool run_gnuplot(const char *setup, const char *script)
{
	char *argv[] = {"gnuplot", "-e", (char *)setup, (char *)script, NULL};
	pid_t pid;
	int err = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
	if (err) {
		fprintf(stderr, "archsim: cannot run gnuplot: %s\n", strerror(err));
		return false;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "archsim: gnuplot failed on %s\n", script);
		return false;
	}
	return true;
}

enum asim_plot_status asim_plot_dir(const char *dir)
{
	/* The directory goes into a gnuplot string literal. */
	if (strpbrk(dir, "'\"\\\n")) {
		fprintf(stderr, "archsim: cannot plot into '%s': quotes and backslashes are not allowed\n",
		        dir);
		return ASIM_PLOT_NO_DATA;
	}
	struct plot_info pi;
	if (!read_info(dir, &pi))
		return ASIM_PLOT_NO_DATA;
	if (!on_path("gnuplot")) {
		fprintf(stderr,
		        "archsim: gnuplot is not on PATH, so no plots were drawn; install it\n"
		        "  (apt-get install gnuplot-nox) and run `archsim plot %s`. The data is in %s.\n",
		        dir, dir);
		return ASIM_PLOT_NO_GNUPLOT;
	}
	const char *pd = plots_dir();
	for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
		char script[4096];
		snprintf(script, sizeof script, "%s/%s.gp", pd, scripts[i]);
		for (size_t e = 0; e < 2; e++) {
			char setup[8192];
			snprintf(setup, sizeof setup,
			         "dir='%s'; plotdir='%s'; ext='%s'; nfaults=%d; warmup=%.9g; tmax=%.9g; "
			         "queuecols='%s'; queuenames='%s'; rebalcols='%s'; rebalnames='%s'; "
			         "stallcols='%s'; dbnames='%s'; stalecols='%s'; stalenames='%s'; "
			         "latwindows=%d; latmax=%.9g; cdfrows=%d; cdfmax=%.9g",
			         dir, pd, exts[e], pi.nfaults, pi.warmup, pi.tmax, pi.queuecols,
			         pi.queuenames, pi.rebalcols, pi.rebalnames, pi.stallcols, pi.dbnames,
			         pi.stalecols, pi.stalenames, pi.latwindows, pi.latmax, pi.cdfrows,
			         pi.cdfmax);
			if (!run_gnuplot(setup, script))
				return ASIM_PLOT_FAILED;
		}
	}
	return ASIM_PLOT_OK;
}

enum asim_plot_status asim_plot_script(const char *dir, const char *script, const char *vars)
{
	if (strpbrk(dir, "'\"\\\n")) {
		fprintf(stderr, "archsim: cannot plot into '%s': quotes and backslashes are not allowed\n",
		        dir);
		return ASIM_PLOT_NO_DATA;
	}
	if (!on_path("gnuplot")) {
		fprintf(stderr,
		        "archsim: gnuplot is not on PATH, so no plots were drawn; install it\n"
		        "  (apt-get install gnuplot-nox). The data is in %s.\n", dir);
		return ASIM_PLOT_NO_GNUPLOT;
	}
	const char *pd = plots_dir();
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.gp", pd, script);
	for (size_t e = 0; e < 2; e++) {
		char setup[8192];
		snprintf(setup, sizeof setup, "dir='%s'; plotdir='%s'; ext='%s'; %s", dir, pd, exts[e],
		         vars);
		if (!run_gnuplot(setup, path))
			return ASIM_PLOT_FAILED;
	}
	return ASIM_PLOT_OK;
}

int asim_plot_main(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_plot, stdout);
			return 0;
		}
		fprintf(stderr, "archsim: unknown option\n\n%s", usage_plot);
		return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "archsim: plot needs exactly one DIR\n\n%s", usage_plot);
		return 2;
	}
	switch (asim_plot_dir(argv[optind])) {
	case ASIM_PLOT_OK:
		return 0;
	case ASIM_PLOT_NO_DATA:
		return 2;
	case ASIM_PLOT_NO_GNUPLOT:
	case ASIM_PLOT_FAILED:
		break;
	}
	return 3;
}
