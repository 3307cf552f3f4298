#include "graph.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
 * "a-b" and "a_b" would meet in one id: either falls back to a numbered id. */
static void node_id(const struct asim_kernel *k, uint32_t i, char *id)
{
	sanitize(asim_kernel_component(k, i)->name, id);
	bool clash = !strcasecmp(id, "end");
	size_t n = asim_kernel_count(k);
	for (uint32_t j = 0; !clash && j < n; j++) {
		char other[ID_LEN];
		if (j == i)
			continue;
		sanitize(asim_kernel_component(k, j)->name, other);
		clash = !strcmp(id, other) || !strcmp(id, asim_kernel_component(k, j)->name);
	}
	if (clash)
		snprintf(id, ID_LEN, "n%u", (unsigned)i);
}

static bool cylinder(const char *kind)
{
	static const char *const stores[] = {"database", "cache", "queue"};
	for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++)
		if (!strcmp(kind, stores[i]))
			return true;
	return false;
}

static bool write_edges(const struct asim_kernel *k, uint32_t i, FILE *out)
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
	char from_id[ID_LEN], to_id[ID_LEN];
	node_id(k, i, from_id);
	for (size_t e = 0; e < n; e++) {
		bool seen = false;
		for (size_t f = 0; f < e && !seen; f++)
			seen = to[f] == to[e];
		if (seen || to[e] >= asim_kernel_count(k))
			continue;
		node_id(k, to[e], to_id);
		fprintf(out, "  %s --> %s\n", from_id, to_id);
	}
	if (to != buf)
		free(to);
	return true;
}

bool asim_graph_write(const struct asim_kernel *k, FILE *out)
{
	size_t n = asim_kernel_count(k);
	char id[ID_LEN];
	fputs("flowchart LR\n", out);
	for (uint32_t i = 0; i < n; i++) {
		const struct asim_component *c = asim_kernel_component(k, i);
		if (hidden(c))
			continue;
		node_id(k, i, id);
		if (cylinder(c->ops->kind))
			fprintf(out, "  %s[(\"%s (%s)\")]\n", id, c->name, c->ops->kind);
		else
			fprintf(out, "  %s[\"%s (%s)\"]\n", id, c->name, c->ops->kind);
	}
	for (uint32_t i = 0; i < n; i++)
		if (!hidden(asim_kernel_component(k, i)) && !write_edges(k, i, out))
			return false;
	return !ferror(out);
}
