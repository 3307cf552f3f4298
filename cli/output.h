/* Output files: checked before a command simulates anything, and written
 * without ever destroying what is at the path.
 *
 * A command lists every path it will write (its files, and its directories
 * with the names it will write there, the plots gnuplot draws included) and
 * checks them all before it runs, so that a path that cannot be written, or
 * that names one of the files the command read, is a usage error (exit 2)
 * found at once rather than after the run.
 *
 * asim_output_write writes according to what is at the path:
 *   - nothing, or a regular file: a fresh temporary file in the same
 *     directory (mkstemp), renamed over the path, so that a reader never sees
 *     half a file and a failed write leaves the old file and no temporary;
 *   - a symbolic link to a regular file: the same, onto the file it points
 *     to; the link stays;
 *   - this process's standard output or error (e.g. /dev/stdout): written
 *     through that stream, in order with what was printed there;
 *   - anything else (/dev/null, a FIFO, a terminal): written in place,
 *     never replaced. */
#ifndef ARCHSIM_CLI_OUTPUT_H
#define ARCHSIM_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "load.h"

#define ASIM_OUTPUTS_MAX 64

/* The paths a command will write. */
struct asim_outputs {
	char *path[ASIM_OUTPUTS_MAX]; /* owned */
	bool dir[ASIM_OUTPUTS_MAX];   /* a directory, created when missing */
	size_t n;
	bool oom; /* an add failed: out of memory, or more than ASIM_OUTPUTS_MAX */
};

void asim_outputs_init(struct asim_outputs *o);
void asim_outputs_finish(struct asim_outputs *o);

/* Adds the file path. */
void asim_outputs_add(struct asim_outputs *o, const char *path);
/* Adds the directory dir (created when missing), then the n files
 * dir/names[i] that will be written there. */
void asim_outputs_add_dir(struct asim_outputs *o, const char *dir, const char *const *names,
                          size_t n);

/* Checks that every path can be written: a file path is not empty and not a
 * directory, a directory path is a directory or missing, and the directory
 * each lives in exists (or is added before it) and is writable, and no two
 * name one place (a file where another file or a directory is written).
 * Prints why to stderr and returns false. */
bool asim_outputs_check(const struct asim_outputs *o);

/* Checks that no file path names a file doc (or a base it extends) was read
 * from. Prints the refusal to stderr and returns false. */
bool asim_outputs_check_inputs(const struct asim_outputs *o, const struct asim_doc *doc);

/* Writes path with writer (which returns false on a failed write), as the
 * header describes. Prints why to stderr and returns false on failure. */
bool asim_output_write(const char *path, bool (*writer)(FILE *f, const void *arg),
                       const void *arg);

/* A file written bit by bit while a command runs (a time series as its
 * windows complete), that takes its name only when the command has done:
 * until asim_output_commit it is a temporary file beside path, so memory
 * holds none of it and nothing at path changes before the run succeeds. */
struct asim_output_file {
	char *path; /* owned */
	char *tmp;  /* owned: the temporary file's name, NULL when there is none */
	FILE *f;    /* write here; NULL when the file could not be made */
	int err;    /* the first failure (an errno value), 0 while none */
};

/* Starts path's temporary file (in path's directory, which must exist).
 * A failure is kept in o->err, reported by asim_output_commit. */
void asim_output_open(struct asim_output_file *o, const char *path);

/* Records a failed write to o->f (call after writing when ferror says so;
 * errno is taken when set). Later writes can be skipped. */
void asim_output_failed(struct asim_output_file *o);

/* Gives the file its name as asim_output_write would have written it (a
 * missing or regular file is replaced by a rename; a symbolic link, a
 * device or this process's own output get the file's bytes copied, as
 * asim_output_write does), then finishes o. Prints why to stderr and
 * returns false on failure (o->err included), leaving path as it was. */
bool asim_output_commit(struct asim_output_file *o);

/* Removes the temporary file and finishes o; accepts an o zeroed, or
 * finished by asim_output_commit. */
void asim_output_discard(struct asim_output_file *o);

#endif
