/* A scratch directory for tests that write scenario files: made under
 * $TMPDIR (or /tmp) with mkdtemp, removed whole at the end. Header-only, like
 * peer.h, for the suites that need it. */
#ifndef ARCHSIM_TESTS_TMPDIR_H
#define ARCHSIM_TESTS_TMPDIR_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static char tmpdir[256];

/* prefix names the suite in the directory name ("asim-rep", "asim-var"). */
static inline void make_tmpdir(const char *prefix)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static inline void remove_tree(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Writes text to tmpdir/name and returns the path (a static buffer, one of
 * four used in turn). */
static inline const char *write_file(const char *name, const char *text)
{
	static char paths[4][512];
	static int slot;
	char *p = paths[slot++ % 4];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return p;
}

#endif
