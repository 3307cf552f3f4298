/* The scenario as a plain data tree, with typed accessors that validate.
 *
 * The YAML loader (cli/) builds this tree; models read their settings from it
 * through the accessors below, which turn text into typed values exactly and
 * report every problem as a diagnostic at the value's file:line:column. The
 * tree itself knows nothing of YAML, so the kernel and models never see it.
 *
 * Accessor contract, for every asim_cfg_<type>(map, key, out, ..., diag):
 *  - key absent and optional: returns true and leaves *out untouched, so the
 *    caller sets the documented default before the call;
 *  - key absent and ASIM_REQUIRED: reports "missing required key 'K' in 'CTX'"
 *    at the map's mark and returns false;
 *  - value present but malformed or out of range: reports what was expected
 *    at the value's mark and returns false (*out untouched).
 * The asim_cfg_node_<type>() forms validate a node directly (sequence items). */
#ifndef ARCHSIM_CFG_H
#define ARCHSIM_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archsim/diag.h"
#include "archsim/time.h"

enum asim_cfg_type {
	ASIM_CFG_NULL,   /* an empty value or ~ / null */
	ASIM_CFG_SCALAR, /* text; numbers, durations and names are all scalars */
	ASIM_CFG_MAP,
	ASIM_CFG_SEQ,
};

struct asim_cfg;

struct asim_cfg_pair {
	char *key;                  /* owned */
	struct asim_mark key_mark;
	struct asim_cfg *value;     /* owned */
};

struct asim_cfg {
	enum asim_cfg_type type;
	struct asim_mark mark;      /* where the value starts */
	char *text;                 /* SCALAR: owned, NUL-terminated */
	bool quoted;                /* SCALAR: written with quotes */
	size_t n;                   /* MAP: pairs; SEQ: items */
	struct asim_cfg_pair *pairs; /* MAP, in file order; keys are unique */
	struct asim_cfg **items;    /* SEQ, in file order */
	const char *ctx;            /* MAP: name used in messages ("cache", "users.retries"); borrowed */
};

/* Allocation of trees (used by the loader and by tests that build trees by
 * hand). All return NULL when out of memory. Strings are copied. */
struct asim_cfg *asim_cfg_new_scalar(const char *text, struct asim_mark mark);
struct asim_cfg *asim_cfg_new_map(struct asim_mark mark);
struct asim_cfg *asim_cfg_new_seq(struct asim_mark mark);
struct asim_cfg *asim_cfg_new_null(struct asim_mark mark);
/* Appends; takes ownership of value even on failure. Returns false on OOM. */
bool asim_cfg_map_add(struct asim_cfg *map, const char *key, struct asim_mark key_mark,
                      struct asim_cfg *value);
bool asim_cfg_seq_add(struct asim_cfg *seq, struct asim_cfg *item);
/* Frees a tree; NULL is accepted. */
void asim_cfg_free(struct asim_cfg *node);

/* Lookup without validation: the value under key, or NULL (also when map is
 * not a map). */
const struct asim_cfg *asim_cfg_get(const struct asim_cfg *map, const char *key);
const struct asim_cfg_pair *asim_cfg_pair(const struct asim_cfg *map, const char *key);

/* A 64-bit fingerprint of a tree's content: types, keys and scalar text in
 * order, not marks, so reformatting a file or moving comments leaves it
 * unchanged while any change of a value changes it (FNV-1a). */
uint64_t asim_cfg_hash(const struct asim_cfg *node);

/* Describes a node's type for messages: "a mapping", "a list", "an empty list",
 * "'abc'"... */
const char *asim_cfg_type_name(const struct asim_cfg *node);

enum asim_need {
	ASIM_OPTIONAL = 0,
	ASIM_REQUIRED = 1,
};

/* Checks that node is a mapping and that each of its keys is in allowed
 * (NULL-terminated; NULL allows any key, for mappings whose keys are names
 * chosen by the user, such as an operation mix); reports "unknown key 'K' in 'CTX' (did you mean 'X'?)"
 * for the others. ctx names the mapping in messages. */
bool asim_cfg_expect_map(const struct asim_cfg *node, const char *ctx,
                         const char *const *allowed, struct asim_diag *d);

/* Durations carry a unit: ns, us, ms, s, m (minutes), h, d. A decimal
 * fraction is allowed ("1.5s") and is converted exactly, in integers; a bare
 * number is an error ("expected a duration with a unit, e.g. 250ms").
 * min/max bound the result (inclusive). */
bool asim_cfg_node_time(const struct asim_cfg *node, asim_time min, asim_time max,
                        asim_time *out, struct asim_diag *d);
bool asim_cfg_time(const struct asim_cfg *map, const char *key, enum asim_need need,
                   asim_time min, asim_time max, asim_time *out, struct asim_diag *d);

/* Rates carry a unit: "2000/s", "30/min", "5/ms", "100/h", in events per
 * second on output. Must be > 0 and <= max_per_s. */
bool asim_cfg_node_rate(const struct asim_cfg *node, double max_per_s, double *out,
                        struct asim_diag *d);
bool asim_cfg_rate(const struct asim_cfg *map, const char *key, enum asim_need need,
                   double max_per_s, double *out, struct asim_diag *d);

/* Whole numbers (decimal; no fraction, no unit), within [min, max]. */
bool asim_cfg_node_int(const struct asim_cfg *node, int64_t min, int64_t max, int64_t *out,
                       struct asim_diag *d);
bool asim_cfg_int(const struct asim_cfg *map, const char *key, enum asim_need need,
                  int64_t min, int64_t max, int64_t *out, struct asim_diag *d);

/* Finite real numbers within [min, max]. */
bool asim_cfg_node_real(const struct asim_cfg *node, double min, double max, double *out,
                        struct asim_diag *d);
bool asim_cfg_real(const struct asim_cfg *map, const char *key, enum asim_need need,
                   double min, double max, double *out, struct asim_diag *d);

/* A share in [0, 1], written "99.9%" or "0.999". */
bool asim_cfg_node_fraction(const struct asim_cfg *node, double *out, struct asim_diag *d);
bool asim_cfg_fraction(const struct asim_cfg *map, const char *key, enum asim_need need,
                       double *out, struct asim_diag *d);

/* true/false (also yes/no, on/off). */
bool asim_cfg_bool(const struct asim_cfg *map, const char *key, enum asim_need need,
                   bool *out, struct asim_diag *d);

/* A non-empty scalar; *out is borrowed from the tree. */
bool asim_cfg_node_string(const struct asim_cfg *node, const char **out, struct asim_diag *d);
bool asim_cfg_string(const struct asim_cfg *map, const char *key, enum asim_need need,
                     const char **out, struct asim_diag *d);

/* One of choices (NULL-terminated); *out is its index. Reports
 * "expected one of a, b, c for 'K', got 'x' (did you mean 'y'?)". */
bool asim_cfg_node_choice(const struct asim_cfg *node, const char *what,
                          const char *const *choices, int *out, struct asim_diag *d);
bool asim_cfg_choice(const struct asim_cfg *map, const char *key, enum asim_need need,
                     const char *const *choices, int *out, struct asim_diag *d);

/* The exact parsers under the accessors, for tests and the CLI (--duration).
 * Return false on malformed text or overflow; *out untouched then. */
bool asim_parse_time(const char *text, asim_time *out);
bool asim_parse_rate(const char *text, double *per_s);
bool asim_parse_int(const char *text, int64_t *out);
bool asim_parse_real(const char *text, double *out);
bool asim_parse_fraction(const char *text, double *out);

#endif
