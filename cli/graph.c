#include "graph.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archsim/index.h"
#include "archsim/model.h"

#define ID_LEN 72
#define EDGES_BUF 64

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

/* The components that component i sends to, as its edges op reports them
 * (a target may repeat): *to points at buf, or at memory the caller frees
 * when it is not buf. Returns SIZE_MAX when out of memory. */
static size_t edges_of(const struct asim_kernel *k, uint32_t i, uint32_t buf[EDGES_BUF],
                       uint32_t **to)
{
	const struct asim_component *c = asim_kernel_component(k, i);
	*to = buf;
	if (!c->ops->edges)
		return 0;
	size_t n = c->ops->edges(c, buf, EDGES_BUF);
	if (n > EDGES_BUF) {
		*to = malloc(n * sizeof **to);
		if (!*to)
			return SIZE_MAX;
		n = c->ops->edges(c, *to, n);
	}
	return n;
}

/* seen[j] == i + 1 marks an edge from i to j already written, so that a
 * component of many targets is not checked against each earlier one. */
static bool write_edges(const struct asim_kernel *k, uint32_t i, const char *ids, uint32_t *seen,
                        FILE *out)
{
	uint32_t buf[EDGES_BUF], *to;
	size_t n = edges_of(k, i, buf, &to);
	if (n == SIZE_MAX)
		return false;
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

/* Every component's edges, end to end: component i's targets are
 * adj[off[i]] .. adj[off[i + 1] - 1] (targets out of range left out). */
struct adjacency {
	size_t *off;
	uint32_t *adj;
};

static bool adjacency_build(const struct asim_kernel *k, struct adjacency *g)
{
	uint32_t n = (uint32_t)asim_kernel_count(k);
	size_t cap = 64, len = 0;
	g->off = malloc(((size_t)n + 1) * sizeof *g->off);
	g->adj = malloc(cap * sizeof *g->adj);
	if (!g->off || !g->adj)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t buf[EDGES_BUF], *to;
		size_t m = edges_of(k, i, buf, &to);
		if (m == SIZE_MAX)
			return false;
		g->off[i] = len;
		for (size_t e = 0; e < m; e++) {
			if (to[e] >= n)
				continue;
			if (len == cap) {
				uint32_t *a = realloc(g->adj, 2 * cap * sizeof *a);
				if (!a) {
					if (to != buf)
						free(to);
					return false;
				}
				g->adj = a;
				cap *= 2;
			}
			g->adj[len++] = to[e];
		}
		if (to != buf)
			free(to);
	}
	g->off[n] = len;
	return true;
}

/* A queue answers its producer as soon as it holds the message, and its
 * consumers' acks come back after delivery: calls never wait across it. */
static bool decouples(const struct asim_component *c)
{
	return !strcmp(c->ops->kind, "queue");
}

int asim_graph_find_cycle(const struct asim_kernel *k, uint32_t **cycle, size_t *len)
{
	uint32_t n = (uint32_t)asim_kernel_count(k);
	struct adjacency g = {0};
	/* Depth-first, with an explicit stack (a chain of thousands of
	 * components must not overflow the C stack): state 1 marks the
	 * components on the current path, 2 those fully explored. An edge to
	 * a component on the path closes a cycle: the path from it. */
	uint8_t *state = calloc(n ? n : 1, 1);
	uint32_t *path = malloc((n ? n : 1) * sizeof *path);
	size_t *next = malloc((n ? n : 1) * sizeof *next);
	int found = -1;
	*cycle = NULL;
	*len = 0;
	if (!state || !path || !next || !adjacency_build(k, &g))
		goto done;
	found = 0;
	for (uint32_t root = 0; root < n && !found; root++) {
		if (state[root] || decouples(asim_kernel_component(k, root)))
			continue;
		size_t depth = 0;
		path[depth] = root;
		next[depth++] = g.off[root];
		state[root] = 1;
		while (depth && !found) {
			uint32_t u = path[depth - 1];
			if (next[depth - 1] == g.off[u + 1]) {
				state[u] = 2;
				depth--;
				continue;
			}
			uint32_t v = g.adj[next[depth - 1]++];
			if (decouples(asim_kernel_component(k, v)))
				continue;
			if (state[v] == 0) {
				state[v] = 1;
				path[depth] = v;
				next[depth++] = g.off[v];
			} else if (state[v] == 1) {
				size_t from = depth - 1;
				while (path[from] != v)
					from--;
				*len = depth - from;
				*cycle = malloc(*len * sizeof **cycle);
				if (!*cycle) {
					found = -1;
					break;
				}
				memcpy(*cycle, path + from, *len * sizeof **cycle);
				found = 1;
			}
		}
	}
done:
	free(state);
	free(path);
	free(next);
	free(g.off);
	free(g.adj);
	return found;
}
