/* Reading a scenario file: YAML (through libyaml) into a struct asim_cfg tree.
 *
 * Every node keeps its file:line:column. Problems with the file itself are
 * reported as diagnostics and the load fails: unreadable or too large files,
 * YAML syntax errors, an empty document, several documents, non-scalar or
 * duplicate mapping keys, nesting deeper than ASIM_LOAD_MAX_DEPTH, and alias
 * expansion beyond ASIM_LOAD_MAX_NODES nodes in all (the "billion laughs"). */
#ifndef ARCHSIM_CLI_LOAD_H
#define ARCHSIM_CLI_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "archsim/cfg.h"
#include "archsim/diag.h"

#define ASIM_LOAD_MAX_BYTES (16u << 20)
#define ASIM_LOAD_MAX_DEPTH 64
#define ASIM_LOAD_MAX_NODES 1000000

struct asim_doc {
	char *file;            /* owned; the name used in every mark */
	struct asim_cfg *root; /* owned; a mapping */
	/* Owned: documents whose nodes root now holds (the bases of `extends:`
	 * and the values of --set, cli/merge.h), kept alive for their file
	 * names and context names, which those nodes borrow. */
	struct asim_doc *adopted;
	/* The file read, by device and inode (none for a buffer): outputs are
	 * refused over it (cli/output.h), however the path is spelled. */
	bool has_id;
	dev_t dev;
	ino_t ino;
};

/* Loads path. Returns NULL after reporting to d. */
struct asim_doc *asim_doc_load_file(const char *path, struct asim_diag *d);
/* Loads len bytes of text; name is used in marks. */
struct asim_doc *asim_doc_load_buffer(const char *name, const char *text, size_t len,
                                      struct asim_diag *d);
/* The name of the file, among those doc and the documents it adopted were
 * read from, that path names (by device and inode); NULL when none. */
const char *asim_doc_read_from(const struct asim_doc *doc, const char *path);
/* NULL is accepted. Frees the adopted documents too. */
void asim_doc_free(struct asim_doc *doc);

/* Makes doc own other (appended to doc->adopted's chain). */
void asim_doc_adopt(struct asim_doc *doc, struct asim_doc *other);

/* Names every mapping of doc->root again for messages ("users.retries"),
 * after nodes were moved between trees. Returns false when out of memory. */
bool asim_doc_rename(struct asim_doc *doc);

#endif
