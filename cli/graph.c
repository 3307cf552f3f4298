#include "graph.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static bool write_edges(const struct asim_kernel *k, uint32_t i, FILE *out)
{
	uint32_t buf[EDGES_BUF], *to;
	size_t n = edges_of(k, i, buf, &to);
	if (n == SIZE_MAX)
		return false;
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
