/* Design variants: `extends:` between scenario files, and `--set` overrides.
 *
 * A scenario may start with `extends: base.yaml` (a path relative to the
 * extending file). The base is loaded (with its own `extends:`, to a depth of
 * ASIM_EXTENDS_MAX_DEPTH; a cycle is an error), then the extending file's
 * keys override it recursively: mappings merge key by key (the base's keys
 * keep their order, new keys follow), scalars and lists replace, and a key
 * set to null (`retries: ~` or an empty value) removes the key; `name` is
 * not inherited (a variant without one is named after its file). Every node
 * keeps the mark of the file where it was written, so diagnostics point at
 * the base or the variant as the case may be.
 *
 * `--set PATH=VALUE` replaces one value after the merge. PATH is dotted keys
 * from the top ("components.users.rate", "slo.p99", "duration"); a first key
 * naming a component and no top-level key is looked up under `components`
 * ("users.rate"); a list item is "faults[0].at" or "faults.0.at". Every key
 * but the last must exist; the last may be new in its mapping (the scenario's
 * checks then reject an unknown key). VALUE is read as YAML ("4000/s",
 * "[a, b]", "{max: 2}"); empty or "~" removes the key. Diagnostics about the
 * value name the file "<--set PATH>". */
#ifndef ARCHSIM_CLI_MERGE_H
#define ARCHSIM_CLI_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "archsim/cfg.h"
#include "archsim/diag.h"
#include "load.h"

#define ASIM_EXTENDS_MAX_DEPTH 16

/* Loads path (or, when text is not NULL, len bytes of text named path) and
 * resolves its `extends:` chain. The result has no `extends` key and owns the
 * documents of its bases. NULL after reporting to d. */
struct asim_doc *asim_doc_load_extended(const char *path, const char *text, size_t len,
                                        struct asim_diag *d);

/* Merges over into base (both mappings) as `extends:` does, moving nodes out
 * of over: over is left a husk for the caller to free. Returns false when out
 * of memory (base is then partly merged). */
bool asim_cfg_merge(struct asim_cfg *base, struct asim_cfg *over);

/* Applies one "PATH=VALUE" to doc, which adopts the value's document. Returns
 * false after reporting to d (a malformed assignment, a path into nothing, a
 * value that is not YAML). Call asim_doc_rename(doc) after the last one. */
bool asim_doc_set(struct asim_doc *doc, const char *assign, struct asim_diag *d);

/* The node at PATH (syntax as above) under root, or NULL. */
const struct asim_cfg *asim_cfg_find_path(const struct asim_cfg *root, const char *path);

#endif
