#include "graph.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archsim/index.h"
#include "archsim/model.h"

#define ID_LEN 72

static bool hidden(const struct asim_component *c)
{
	return c->name[0] == '@';
}

static void sanitize(const char *name, char *id)
{
	size_t i = 0;
	for (; name[i] && i < ID_LEN - 1; i++)
		id[i] = name[i] == '-' ? '_' : name[i];
	id[i] = '\0';
}

/* Mermaid reads a bare "end" as the end of a subgraph, and two names such as
 * "a-b" and "a_b" would meet in one id: either falls back to a numbered id.
 * ids holds ID_LEN bytes per component. The clashes are found through an
 * index of the sanitized ids (with how many components share each) and the
 * kernel's index of names, not by comparing every pair of components, which
 * was quadratic in their number. */
static bool make_ids(const struct asim_kernel *k, char *ids)
{
	size_t n = asim_kernel_count(k);
	struct asim_index shared;
	asim_index_init(&shared);
	bool ok = true;
	for (uint32_t i = 0; ok && i < n; i++) {
		char *id = ids + (size_t)i * ID_LEN;
		sanitize(asim_kernel_component(k, i)->name, id);
		size_t count = asim_index_find(&shared, id);
		ok = asim_index_add(&shared, id, count == ASIM_INDEX_NONE ? 1 : count + 1);
	}
	/* The index borrows the ids: decide every clash before renaming one. */
	bool *clash = ok ? calloc(n + 1, sizeof *clash) : NULL;
	for (uint32_t i = 0; clash && i < n; i++) {
		const char *id = ids + (size_t)i * ID_LEN;
		const struct asim_component *named = asim_kernel_find(k, id);
		clash[i] = !strcasecmp(id, "end") || asim_index_find(&shared, id) > 1 ||
		           (named && named->id != i);
	}
	for (uint32_t i = 0; clash && i < n; i++)
		if (clash[i])
			snprintf(ids + (size_t)i * ID_LEN, ID_LEN, "n%u", (unsigned)i);
	asim_index_finish(&shared);
	ok = clash != NULL;
	free(clash);
	return ok;
}

static bool cylinder(const char *kind)
{
	static const char *const stores[] = {"database", "cache", "queue"};
	for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++)
		if (!strcmp(kind, stores[i]))
			return true;
	return false;
}

/* seen[j] == i + 1 marks an edge from i to j already written, so that a
 * component of many targets is not checked against each earlier one. */
static bool write_edges(const struct asim_kernel *k, uint32_t i, const char *ids, uint32_t *seen,
                        FILE *out)
{
	const struct asim_component *c = asim_kernel_component(k, i);
	if (!c->ops->edges)
		return true;
	uint32_t buf[64], *to = buf;
	size_t n = c->ops->edges(c, buf, 64);
	if (n > 64) {
		to = malloc(n * sizeof *to);
		if (!to)
			return false;
		n = c->ops->edges(c, to, n);
	}
	for (size_t e = 0; e < n; e++) {
		if (to[e] >= asim_kernel_count(k) || seen[to[e]] == i + 1)
			continue;
		seen[to[e]] = i + 1;
		fprintf(out, "  %s --> %s\n", ids + (size_t)i * ID_LEN, ids + (size_t)to[e] * ID_LEN);
	}
	if (to != buf)
		free(to);
	return true;
}

bool asim_graph_write(const struct asim_kernel *k, FILE *out)
{
	size_t n = asim_kernel_count(k);
	char *ids = malloc(n * ID_LEN + 1);
	uint32_t *seen = calloc(n + 1, sizeof *seen);
	bool ok = ids && seen && make_ids(k, ids);
	if (ok)
		fputs("flowchart LR\n", out);
	for (uint32_t i = 0; ok && i < n; i++) {
		const struct asim_component *c = asim_kernel_component(k, i);
		const char *id = ids + (size_t)i * ID_LEN;
		if (hidden(c))
			continue;
		if (cylinder(c->ops->kind))
			fprintf(out, "  %s[(\"%s (%s)\")]\n", id, c->name, c->ops->kind);
		else
			fprintf(out, "  %s[\"%s (%s)\"]\n", id, c->name, c->ops->kind);
	}
	for (uint32_t i = 0; ok && i < n; i++)
		if (!hidden(asim_kernel_component(k, i)))
			ok = write_edges(k, i, ids, seen, out);
	free(ids);
	free(seen);
	return ok && !ferror(out);
}
