/* Reading a scenario file: YAML (through libyaml) into a struct asim_cfg tree.
 *
 * Every node keeps its file:line:column. Problems with the file itself are
 * reported as diagnostics and the load fails: unreadable or too large files,
 * YAML syntax errors, an empty document, several documents, non-scalar or
 * duplicate mapping keys, nesting deeper than ASIM_LOAD_MAX_DEPTH, and alias
 * expansion beyond ASIM_LOAD_MAX_NODES nodes in all (the "billion laughs"). */
#ifndef ARCHSIM_CLI_LOAD_H
#define ARCHSIM_CLI_LOAD_H

#include <stddef.h>

#include "archsim/cfg.h"
#include "archsim/diag.h"

#define ASIM_LOAD_MAX_BYTES (16u << 20)
#define ASIM_LOAD_MAX_DEPTH 64
#define ASIM_LOAD_MAX_NODES 1000000

struct asim_doc {
	char *file;            /* owned; the name used in every mark */
	struct asim_cfg *root; /* owned; a mapping */
};

/* Loads path. Returns NULL after reporting to d. */
struct asim_doc *asim_doc_load_file(const char *path, struct asim_diag *d);
/* Loads len bytes of text; name is used in marks. */
struct asim_doc *asim_doc_load_buffer(const char *name, const char *text, size_t len,
                                      struct asim_diag *d);
/* NULL is accepted. */
void asim_doc_free(struct asim_doc *doc);

#endif
