/* realpath() is XSI, beside the POSIX the build asks for. */
#define _XOPEN_SOURCE 700

#include "output.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void asim_outputs_init(struct asim_outputs *o)
{
	memset(o, 0, sizeof *o);
}

void asim_outputs_finish(struct asim_outputs *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->path[i]);
	memset(o, 0, sizeof *o);
}

static void add(struct asim_outputs *o, const char *dir, const char *name, bool is_dir)
{
	size_t len = strlen(dir) + (name ? strlen(name) + 1 : 0) + 1;
	char *p = o->n < ASIM_OUTPUTS_MAX ? malloc(len) : NULL;
	if (!p) {
		o->oom = true;
		return;
	}
	snprintf(p, len, name ? "%s/%s" : "%s", dir, name ? name : "");
	o->dir[o->n] = is_dir;
	o->path[o->n++] = p;
}

void asim_outputs_add(struct asim_outputs *o, const char *path)
{
	add(o, path, NULL, false);
}

void asim_outputs_add_dir(struct asim_outputs *o, const char *dir, const char *const *names,
                          size_t n)
{
	add(o, dir, NULL, true);
	for (size_t i = 0; i < n; i++)
		add(o, dir, names[i], false);
}

/* The length of path without its trailing slashes (but "/" stays). */
static size_t trimmed(const char *path)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	return len;
}

/* The directory path lives in, into buf (which may be path): "." for a
 * bare name. */
static void parent_of(const char *path, char *buf, size_t n)
{
	size_t len = trimmed(path);
	while (len && path[len - 1] != '/')
		len--;
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (!len) {
		snprintf(buf, n, ".");
		return;
	}
	if (len >= n)
		len = n - 1;
	memmove(buf, path, len);
	buf[len] = '\0';
}

/* Whether dir is one of the first n paths of o that are directories: one
 * that will be created before anything is written into it. */
static bool planned(const struct asim_outputs *o, size_t n, const char *dir)
{
	size_t len = trimmed(dir);
	for (size_t i = 0; i < n; i++)
		if (o->dir[i] && trimmed(o->path[i]) == len && !strncmp(o->path[i], dir, len))
			return true;
	return false;
}

/* 0 when files can be created in dir, else why not, as an errno value. */
static int dir_error(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return ENOTDIR;
	return access(dir, W_OK | X_OK) == 0 ? 0 : errno;
}

static bool check_one(const struct asim_outputs *o, size_t i)
{
	const char *path = o->path[i];
	const char *what = o->dir[i] ? "output directory" : "output file";
	if (!*path) {
		fprintf(stderr, "archsim: cannot write %s '': the name is empty\n", what);
		return false;
	}
	struct stat st;
	char dir[PATH_MAX];
	int err;
	if (stat(path, &st) != 0) {
		/* A missing output is created in its directory. */
		err = errno;
		parent_of(path, dir, sizeof dir);
		const char *where = path;
		if (err == ENOENT) {
			if (planned(o, i, dir) || !(err = dir_error(dir)))
				return true;
			where = dir;
		}
		fprintf(stderr, "archsim: cannot write %s %s: %s: %s\n", what, path, where,
		        strerror(err));
		return false;
	}
	if (o->dir[i])
		err = S_ISDIR(st.st_mode) ? dir_error(path) : ENOTDIR;
	else if (S_ISDIR(st.st_mode))
		err = EISDIR;
	else if (!S_ISREG(st.st_mode)) /* a device or a FIFO: written in place */
		err = access(path, W_OK) == 0 ? 0 : errno;
	else if (!realpath(path, dir))
		err = errno;
	else { /* replaced by a rename in the directory of the file itself */
		parent_of(dir, dir, sizeof dir);
		err = dir_error(dir);
	}
	if (err)
		fprintf(stderr, "archsim: cannot write %s %s: %s\n", what, path, strerror(err));
	return !err;
}

/* Where path lands: its directory resolved when it exists, and its last
 * name, so that "d/x", "./d/x" and "d//x" compare equal before any exists. */
static void landing(const char *path, char *buf, size_t n)
{
	char dir[PATH_MAX], real[PATH_MAX];
	parent_of(path, dir, sizeof dir);
	size_t len = trimmed(path), base = len;
	while (base && path[base - 1] != '/')
		base--;
	snprintf(buf, n, "%s/%.*s", realpath(dir, real) ? real : dir, (int)(len - base), path + base);
}

/* Whether a and b name one file or directory that both would write (a
 * device such as /dev/null takes any number of writes). */
static bool same_place(const char *a, const char *b)
{
	struct stat sa, sb;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
		       (S_ISREG(sa.st_mode) || S_ISDIR(sa.st_mode));
	char la[2 * PATH_MAX], lb[2 * PATH_MAX];
	landing(a, la, sizeof la);
	landing(b, lb, sizeof lb);
	return !strcmp(la, lb);
}

bool asim_outputs_check(const struct asim_outputs *o)
{
	if (o->oom) {
		fprintf(stderr, "archsim: out of memory\n");
		return false;
	}
	for (size_t i = 0; i < o->n; i++)
		if (!check_one(o, i))
			return false;
	/* Two outputs at one place: the later write would silently replace the
	 * earlier (--json DIR/series.csv beside --out DIR), or a file would
	 * stand where a directory is to be created. A directory listed twice
	 * (--out and --plot of one DIR) is one directory. */
	for (size_t i = 0; i < o->n; i++) {
		for (size_t j = 0; j < i; j++) {
			if ((o->dir[i] && o->dir[j]) || !same_place(o->path[j], o->path[i]))
				continue;
			fprintf(stderr, "archsim: cannot write output %s %s: it is also the output %s %s\n",
			        o->dir[j] ? "directory" : "file", o->path[j],
			        o->dir[i] ? "directory" : "file", o->path[i]);
			return false;
		}
	}
	return true;
}

bool asim_outputs_check_inputs(const struct asim_outputs *o, const struct asim_doc *doc)
{
	for (size_t i = 0; i < o->n; i++) {
		const char *input = o->dir[i] ? NULL : asim_doc_read_from(doc, o->path[i]);
		if (input) {
			fprintf(stderr, "archsim: refusing to write %s over the scenario file %s\n",
			        o->path[i], input);
			return false;
		}
	}
	return true;
}

/* The stream of this process that path names (standard output or error),
 * else NULL: writing there by a name of its own would race the stream's
 * buffer, and a rename would take the file away from under it. */
static FILE *own_stream(const struct stat *st)
{
	FILE *streams[] = {stdout, stderr};
	for (size_t i = 0; i < 2; i++) {
		struct stat s;
		if (fstat(fileno(streams[i]), &s) == 0 && s.st_dev == st->st_dev &&
		    s.st_ino == st->st_ino)
			return streams[i];
	}
	return NULL;
}

static bool fail(const char *path, int err)
{
	fprintf(stderr, "archsim: cannot write %s: %s\n", path, strerror(err));
	return false;
}

/* Writes into what is at path, replacing nothing. */
static bool write_in_place(const char *path, bool (*writer)(FILE *f, const void *arg),
                           const void *arg)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return fail(path, errno);
	bool ok = writer(f, arg);
	int err = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		err = errno;
	}
	return ok || fail(path, err ? err : EIO);
}

/* Writes a temporary file beside target and renames it over target. */
static bool write_replacing(const char *path, const char *target, mode_t mode,
                            bool (*writer)(FILE *f, const void *arg), const void *arg)
{
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
	parent_of(target, dir, sizeof dir);
	if (snprintf(tmp, sizeof tmp, "%s/.archsim-XXXXXX", dir) >= (int)sizeof tmp)
		return fail(path, ENAMETOOLONG);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return fail(path, errno);
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int err = errno;
		close(fd);
		unlink(tmp);
		return fail(path, err);
	}
	/* mkstemp makes the file private; an output gets the mode it had, or
	 * the one a new file would. */
	bool ok = fchmod(fd, mode) == 0 && writer(f, arg);
	int err = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		err = errno;
	}
	if (ok && rename(tmp, target) != 0) {
		ok = false;
		err = errno;
	}
	if (!ok)
		unlink(tmp);
	return ok || fail(path, err ? err : EIO);
}

bool asim_output_write(const char *path, bool (*writer)(FILE *f, const void *arg),
                       const void *arg)
{
	struct stat st;
	bool exists = stat(path, &st) == 0;
	FILE *stream = exists ? own_stream(&st) : NULL;
	errno = 0;
	if (stream) {
		bool ok = writer(stream, arg) && fflush(stream) == 0;
		return ok || fail(path, errno ? errno : EIO);
	}
	if (exists && !S_ISREG(st.st_mode))
		return write_in_place(path, writer, arg);
	struct stat lst;
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		/* A dangling link is followed by fopen, which creates its
		 * target; a link to a file has the file replaced. */
		char target[PATH_MAX];
		if (!exists || !realpath(path, target))
			return write_in_place(path, writer, arg);
		return write_replacing(path, target, st.st_mode & 07777, writer, arg);
	}
	mode_t mask = umask(0);
	umask(mask);
	return write_replacing(path, path, exists ? st.st_mode & 07777 : 0666 & ~mask, writer, arg);
}

void asim_output_open(struct asim_output_file *o, const char *path)
{
	memset(o, 0, sizeof *o);
	char dir[PATH_MAX];
	parent_of(path, dir, sizeof dir);
	size_t len = strlen(dir) + sizeof "/.archsim-XXXXXX";
	o->path = strdup(path);
	o->tmp = len <= PATH_MAX ? malloc(len) : NULL;
	if (!o->path || !o->tmp) {
		o->err = o->path && len > PATH_MAX ? ENAMETOOLONG : ENOMEM;
		free(o->tmp);
		o->tmp = NULL;
		return;
	}
	snprintf(o->tmp, len, "%s/.archsim-XXXXXX", dir);
	int fd = mkstemp(o->tmp);
	if (fd >= 0)
		o->f = fdopen(fd, "w+");
	if (!o->f) {
		o->err = errno;
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		free(o->tmp);
		o->tmp = NULL;
	}
}

void asim_output_failed(struct asim_output_file *o)
{
	if (!o->err)
		o->err = errno ? errno : EIO;
}

void asim_output_discard(struct asim_output_file *o)
{
	if (o->f)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof *o);
}

/* A writer for asim_output_write: the bytes of the temporary file. */
static bool copy_file(FILE *out, const void *arg)
{
	FILE *in = (FILE *)arg;
	if (fflush(in) != 0 || fseek(in, 0, SEEK_SET) != 0)
		return false;
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			return false;
	return !ferror(in) && !ferror(out);
}

bool asim_output_commit(struct asim_output_file *o)
{
	bool ok;
	if (o->err || !o->f || ferror(o->f)) {
		ok = fail(o->path, o->err ? o->err : EIO);
		asim_output_discard(o);
		return ok;
	}
	struct stat st, lst;
	bool exists = stat(o->path, &st) == 0;
	bool link = lstat(o->path, &lst) == 0 && S_ISLNK(lst.st_mode);
	if (link || (exists && (!S_ISREG(st.st_mode) || own_stream(&st)))) {
		/* Where asim_output_write would not simply rename a file of its
		 * own over path, it writes the bytes itself. */
		errno = 0;
		ok = asim_output_write(o->path, copy_file, o->f);
		asim_output_discard(o);
		return ok;
	}
	/* As write_replacing: the mode the file had, or the one a new file
	 * would get. */
	mode_t mask = umask(0);
	umask(mask);
	mode_t mode = exists ? st.st_mode & 07777 : 0666 & ~mask;
	errno = 0;
	ok = fchmod(fileno(o->f), mode) == 0 && fflush(o->f) == 0;
	int err = errno;
	if (fclose(o->f) != 0 && ok) {
		ok = false;
		err = errno;
	}
	o->f = NULL;
	if (ok && rename(o->tmp, o->path) != 0) {
		ok = false;
		err = errno;
	}
	if (ok) {
		free(o->tmp);
		o->tmp = NULL;
	} else {
		fail(o->path, err ? err : EIO);
	}
	asim_output_discard(o);
	return ok;
}
