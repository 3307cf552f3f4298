/* The results of a run: an ordered list of named values.
 *
 * Each value has a dotted path ("latency_ms.p95", "components.api.utilization",
 * "slo[0].metric"); the JSON writer turns the paths into nested objects (and
 * "name[i]" segments into arrays) in first-insertion order, so output is
 * deterministic. Keeping results flat makes replications simple: every numeric
 * path gets a mean and a confidence interval by the same code. */
#ifndef ARCHSIM_RESULTS_H
#define ARCHSIM_RESULTS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "archsim/index.h"

enum asim_value_kind {
	ASIM_VAL_COUNT,  /* a whole number, printed without a fraction */
	ASIM_VAL_REAL,   /* 6 significant digits, or as many as its whole part has */
	ASIM_VAL_STRING,
	ASIM_VAL_BOOL,
	ASIM_VAL_CI,     /* a replicated value: mean with a 95% interval [lo, hi] */
	ASIM_VAL_LIST,   /* no number: the path is an array, "[]" until elements
	                  * "path[i]..." are set under it */
};

struct asim_value {
	char *path; /* owned */
	enum asim_value_kind kind;
	double num; /* COUNT, REAL, BOOL (0/1), CI (mean) */
	double lo, hi; /* CI */
	char *str;  /* STRING: owned */
	/* A placeholder: nothing was measured (an empty histogram's 0 ms, the
	 * availability of no request). Written like any value; replications
	 * leave it out of their mean (asim_results_unmeasured). */
	bool unmeasured;
};

struct asim_results {
	struct asim_value *v; /* owned, insertion order */
	size_t n, cap;
	bool oom;             /* a value could not be stored */
	struct asim_index idx; /* path -> position in v */
};

void asim_results_init(struct asim_results *r);
void asim_results_finish(struct asim_results *r);

/* Setters take a printf-style path. Setting an existing path replaces its
 * value in place (keeping its position). On out of memory r->oom is set. */
void asim_results_count(struct asim_results *r, uint64_t value, const char *pathfmt, ...)
	__attribute__((format(printf, 3, 4)));
void asim_results_real(struct asim_results *r, double value, const char *pathfmt, ...)
	__attribute__((format(printf, 3, 4)));
void asim_results_string(struct asim_results *r, const char *value, const char *pathfmt, ...)
	__attribute__((format(printf, 3, 4)));
void asim_results_bool(struct asim_results *r, bool value, const char *pathfmt, ...)
	__attribute__((format(printf, 3, 4)));
void asim_results_ci(struct asim_results *r, double mean, double lo, double hi,
                     const char *pathfmt, ...) __attribute__((format(printf, 5, 6)));
/* Declares path an array, so that the JSON has it ("slo": []) even when no
 * element "path[i]" is ever set; elements set before or after fill it. */
void asim_results_list(struct asim_results *r, const char *pathfmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Marks the value at path (if any) as a placeholder, until it is set again.
 * Aggregating replications, a placeholder does not count: the mean of the
 * replications that measured something is reported, not one pulled toward
 * 0 ms by those that had no request. */
void asim_results_unmeasured(struct asim_results *r, const char *pathfmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The value at path, or NULL. */
const struct asim_value *asim_results_get(const struct asim_results *r, const char *path);
/* Its number, or dflt when absent or not numeric (a string or a list). */
double asim_results_num(const struct asim_results *r, const char *path, double dflt);

/* Writes r as one JSON document (two-space indent, trailing newline). Returns
 * false when a write failed. Non-finite numbers are written as null. */
bool asim_results_write_json(const struct asim_results *r, FILE *out);

/* Formats a number as the JSON writer does: counts whole, reals "%.6g" but
 * with at least the digits of their whole part below 1e17 (so 5107871.35 is
 * "5107871" and every integer up to 2^53 is exact), null when not finite. */
void asim_format_number(char *buf, size_t len, enum asim_value_kind kind, double v);

#endif
