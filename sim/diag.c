/* Diagnostics about user input: collected in order, printed like a compiler. */
#include "archsim/diag.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void asim_diag_init(struct asim_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void asim_diag_finish(struct asim_diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	asim_diag_init(d);
}

void asim_diag_error(struct asim_diag *d, struct asim_mark mark, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		d->dropped++;
		return;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 8;
		struct asim_diag_entry *v = realloc(d->v, cap * sizeof(*v));
		if (!v) {
			d->dropped++;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	/* The file name is copied into the same block as the message, after its
	 * terminating NUL, so an entry stays printable after the document that
	 * the mark pointed into has been freed (a failed load frees it at once). */
	size_t flen = mark.file ? strlen(mark.file) + 1 : 0;
	char *msg = malloc((size_t)n + 1 + flen);
	if (!msg) {
		d->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (mark.file) {
		memcpy(msg + n + 1, mark.file, flen);
		mark.file = msg + n + 1;
	}
	d->v[d->n].mark = mark;
	d->v[d->n].msg = msg;
	d->n++;
}

/* An entry with its sort key: the rank of its file (by first appearance)
 * and its index, which keeps the sort stable. */
struct keyed {
	struct asim_diag_entry e;
	size_t file_rank, index;
};

static int cmp_keyed(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;
	if (a->file_rank != b->file_rank)
		return a->file_rank < b->file_rank ? -1 : 1;
	if (a->e.mark.line != b->e.mark.line)
		return a->e.mark.line < b->e.mark.line ? -1 : 1;
	if (a->e.mark.col != b->e.mark.col)
		return a->e.mark.col < b->e.mark.col ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static bool same_file(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

void asim_diag_sort(struct asim_diag *d, size_t from)
{
	if (from >= d->n || d->n - from < 2)
		return;
	size_t n = d->n - from;
	struct keyed *k = malloc(n * sizeof *k);
	const char **files = malloc(n * sizeof *files); /* distinct, by rank */
	size_t nfiles = 0;
	if (k && files) {
		for (size_t i = 0; i < n; i++) {
			const char *f = d->v[from + i].mark.file;
			size_t r = 0;
			while (r < nfiles && !same_file(files[r], f))
				r++;
			if (r == nfiles)
				files[nfiles++] = f;
			k[i] = (struct keyed){d->v[from + i], r, i};
		}
		qsort(k, n, sizeof *k, cmp_keyed);
		for (size_t i = 0; i < n; i++)
			d->v[from + i] = k[i].e;
	}
	/* Out of memory, the entries stay in the order reported. */
	free(files);
	free(k);
}

/* Renders entry e as "file:line:col: error: msg", with the alias that
 * brought the value in when there is one, into buf (snprintf's contract:
 * returns the full length, writes at most len bytes). */
static int render(const struct asim_diag_entry *e, char *buf, size_t len)
{
	const char *file = e->mark.file ? e->mark.file : "<input>";
	char via[48] = "";
	if (e->mark.via_line > 0)
		snprintf(via, sizeof via, " (through the alias at %d:%d)", e->mark.via_line,
		         e->mark.via_col);
	if (e->mark.line <= 0)
		return snprintf(buf, len, "%s: error: %s%s", file, e->msg, via);
	if (e->mark.col <= 0)
		return snprintf(buf, len, "%s:%d: error: %s%s", file, e->mark.line, e->msg, via);
	return snprintf(buf, len, "%s:%d:%d: error: %s%s", file, e->mark.line, e->mark.col,
	                e->msg, via);
}

void asim_diag_format(const struct asim_diag *d, size_t i, char *buf, size_t len)
{
	if (len == 0)
		return;
	if (i >= d->n) {
		snprintf(buf, len, "error: %zu more errors not shown (out of memory)", d->dropped);
		return;
	}
	render(&d->v[i], buf, len);
}

void asim_diag_print(const struct asim_diag *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		/* Sized to the entry, so that a long message is never cut; a
		 * message that cannot be sized or held is cut at the stack
		 * buffer rather than lost. */
		char small[512];
		int n = render(&d->v[i], small, sizeof small);
		char *buf = n >= (int)sizeof small ? malloc((size_t)n + 1) : NULL;
		if (buf) {
			render(&d->v[i], buf, (size_t)n + 1);
			fprintf(out, "%s\n", buf);
			free(buf);
		} else {
			fprintf(out, "%s\n", small);
		}
	}
	if (d->dropped)
		fprintf(out, "error: %zu more errors not shown (out of memory)\n", d->dropped);
}

/* Words longer than this are not typos of a setting name; comparing them
 * would only cost time. */
#define SUGGEST_MAX_LEN 64

static int lower(char c)
{
	return tolower((unsigned char)c);
}

/* Optimal string alignment distance: insertions, deletions, substitutions
 * and transpositions of neighbours each cost 1; case is ignored, since
 * "Rate" for "rate" is a typo like any other. */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[3][SUGGEST_MAX_LEN + 1];
	size_t *prev2 = row[0], *prev = row[1], *cur = row[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
			size_t best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (prev[j - 1] + cost < best)
				best = prev[j - 1] + cost;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

static bool prefix_of(const char *shorter, size_t ls, const char *longer)
{
	for (size_t i = 0; i < ls; i++)
		if (lower(shorter[i]) != lower(longer[i]))
			return false;
	return true;
}

static const char *suggest(const char *word, const char *const *candidates, bool prefixes)
{
	if (!word || !candidates)
		return NULL;
	size_t lw = strlen(word);
	if (lw == 0 || lw > SUGGEST_MAX_LEN)
		return NULL;
	/* A typo changes about one character in three; allowing more would
	 * suggest unrelated names. A word that extends a known name or cuts it
	 * short ("ttl_sec" for "ttl") is plausible too, where prefixes are asked
	 * for and the shared part is long enough to mean something. */
	size_t limit = lw / 3 > 1 ? lw / 3 : 1;
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	for (size_t i = 0; candidates[i]; i++) {
		const char *c = candidates[i];
		size_t lc = strlen(c);
		if (lc == 0 || lc > SUGGEST_MAX_LEN)
			continue;
		size_t dist = distance(word, lw, c, lc);
		bool close = dist <= limit && dist < lw && dist < lc;
		if (prefixes && lc < lw)
			close = close || (lc >= 3 && prefix_of(c, lc, word));
		else if (prefixes)
			close = close || (lw >= 3 && prefix_of(word, lw, c));
		/* Strictly smaller keeps the first of equally close candidates, so
		 * the answer depends only on the order of the list. */
		if (close && dist < best_d) {
			best = c;
			best_d = dist;
		}
	}
	return best;
}

const char *asim_diag_suggest(const char *word, const char *const *candidates)
{
	return suggest(word, candidates, true);
}

const char *asim_diag_suggest_typo(const char *word, const char *const *candidates)
{
	return suggest(word, candidates, false);
}
