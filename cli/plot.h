/* The plot driver: runs gnuplot (found on PATH) over the data files that
 * series.c wrote to a directory, with the scripts in plots/ (latency,
 * availability, throughput, queues, cdf), each as PNG and SVG beside the
 * data. The scripts are looked up in $ARCHSIM_PLOTS_DIR, else in the source
 * tree's plots/ (fixed at build time). */
#ifndef ARCHSIM_CLI_PLOT_H
#define ARCHSIM_CLI_PLOT_H

#include "output.h"

enum asim_plot_status {
	ASIM_PLOT_OK,
	ASIM_PLOT_NO_GNUPLOT, /* gnuplot is not on PATH (a message was printed) */
	ASIM_PLOT_NO_DATA,    /* no series.csv to plot in the directory (printed) */
	ASIM_PLOT_FAILED,     /* gnuplot failed (printed) */
};

/* Plots the data in dir. Prints the problem to stderr on failure. */
enum asim_plot_status asim_plot_dir(const char *dir);

/* Adds the images asim_plot_dir(dir) draws to o, so that they are checked
 * before the run that produces the data. */
void asim_plot_outputs(struct asim_outputs *o, const char *dir);

/* Adds dir/NAME.png and dir/NAME.svg for each of the n names to o: the
 * images a script run by asim_plot_script draws. */
void asim_plot_images(struct asim_outputs *o, const char *dir, const char *const *names,
                      size_t n);

/* Runs plots/<script>.gp for PNG and SVG with dir, plotdir and ext set, and
 * vars (more gnuplot assignments, "" for none) before it: for plots of data
 * other than a run's (sweep.gp, compare.gp). Prints the problem on failure. */
enum asim_plot_status asim_plot_script(const char *dir, const char *script, const char *vars);

/* The `archsim plot DIR` verb: returns the process exit code. */
int asim_plot_main(int argc, char **argv);

#endif
