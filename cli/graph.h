/* `archsim graph`: the topology of a scenario as a mermaid flowchart, in the
 * shape of the seed page's architecture diagram. */
#ifndef ARCHSIM_CLI_GRAPH_H
#define ARCHSIM_CLI_GRAPH_H

#include <stdbool.h>
#include <stdio.h>

#include "archsim/kernel.h"

/* Writes "flowchart LR", then one node per component in the order added,
 * labelled "NAME (KIND)" (data stores - database, cache, queue - drawn as
 * cylinders), then one edge per relation that a model reports through its
 * edges op (each pair once). Hidden components (names starting with '@')
 * are left out. Node ids are the names with '-' turned into '_', or nID
 * where that would clash. Returns false when out of memory or a write
 * failed. */
bool asim_graph_write(const struct asim_kernel *k, FILE *out);

/* Looks for a cycle of waiting calls among the same edges: a component
 * that, through the components it sends to, reaches itself. Queues are
 * left out: a queue answers its producer as soon as it holds a message, so
 * calls do not wait across one. Returns 1 with the cycle's
 * components in *cycle (malloc'd, *len of them, each sending to the next and
 * the last to the first), 0 when there is none, -1 when out of memory. */
int asim_graph_find_cycle(const struct asim_kernel *k, uint32_t **cycle, size_t *len);

#endif
