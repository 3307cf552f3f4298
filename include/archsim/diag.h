/* Diagnostics about user input, printed like a compiler's:
 *
 *   scenarios/web.yaml:20:3: error: unknown key 'ttl_sec' in 'cache' (did you mean 'ttl'?)
 *
 * User input is not a bug: loaders and models report problems here and return
 * false; nothing aborts or exits. Lines and columns are 1-based (libyaml's
 * marks are 0-based; the loader adds 1). */
#ifndef ARCHSIM_DIAG_H
#define ARCHSIM_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct asim_mark {
	const char *file; /* borrowed: owned by the document that was loaded */
	int line;         /* 1-based; 0 when unknown */
	int col;          /* 1-based; 0 when unknown */
	/* A value copied from an anchor keeps the anchor's position (where its
	 * text is) and records here the alias that brought it in, so that a
	 * message about it also names the use: 0 when not reached through an
	 * alias. Printed as "(through the alias at LINE:COL)". */
	int via_line, via_col;
};

struct asim_diag_entry {
	struct asim_mark mark;
	char *msg; /* owned */
};

struct asim_diag {
	struct asim_diag_entry *v; /* owned, in the order reported */
	size_t n, cap;
	size_t dropped; /* entries not stored because memory ran out */
};

void asim_diag_init(struct asim_diag *d);
void asim_diag_finish(struct asim_diag *d);

/* Records an error at mark. Never fails: when memory runs out the entry is
 * counted in d->dropped instead. */
void asim_diag_error(struct asim_diag *d, struct asim_mark mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline size_t asim_diag_count(const struct asim_diag *d)
{
	return d->n + d->dropped;
}

/* Puts the entries from index from on in the order of their positions: the
 * files in the order they first appear, each by line and column (entries
 * without a line first), equal positions in the order reported. Checks run
 * in several passes (settings, then components); their findings are read in
 * file order. */
void asim_diag_sort(struct asim_diag *d, size_t from);

/* Formats entry i as "file:line:col: error: msg" (no newline) into buf. */
void asim_diag_format(const struct asim_diag *d, size_t i, char *buf, size_t len);

/* Prints every entry, one per line, to out. */
void asim_diag_print(const struct asim_diag *d, FILE *out);

/* The candidate closest to word by edit distance, or NULL when none is close
 * enough to be a plausible typo. candidates is NULL-terminated. */
const char *asim_diag_suggest(const char *word, const char *const *candidates);

/* As asim_diag_suggest, by edit distance alone: a word that only extends a
 * candidate or cuts it short ("read_profile", "rea" for "read") is not taken
 * for a typo of it. For open sets of names, where such words are legitimate. */
const char *asim_diag_suggest_typo(const char *word, const char *const *candidates);

#endif
