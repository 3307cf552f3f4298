/* The ladder queue behind asim_evq when it holds many entries; shared by
 * evq.c and ladder.c only.
 *
 * Tang, Goh and Thng, "Ladder Queue: An O(1) Priority Queue Structure for
 * Large-Scale Discrete Event Simulation", ACM TOMACS 15(3), 2005. */
#ifndef ARCHSIM_SIM_LADDER_H
#define ARCHSIM_SIM_LADDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archsim/evq.h"

struct asim_ladder;

/* An empty ladder, or NULL when out of memory. */
struct asim_ladder *asim_ladder_create(void);
void asim_ladder_destroy(struct asim_ladder *l);

/* Inserts e. Returns false when out of memory (the ladder is unchanged). */
bool asim_ladder_push(struct asim_ladder *l, const struct asim_evq_entry *e);

/* The smallest entry, or NULL when empty. Prepares it when needed (which is
 * why it is not const); returns NULL as well when that runs out of memory,
 * with *nomem set. */
const struct asim_evq_entry *asim_ladder_min(struct asim_ladder *l, bool *nomem);

/* Removes the entry asim_ladder_min() returned last. */
void asim_ladder_pop_min(struct asim_ladder *l);

/* Moves every entry into out (room for asim_ladder_size() entries), in no
 * particular order, and leaves the ladder empty. */
void asim_ladder_drain(struct asim_ladder *l, struct asim_evq_entry *out);

size_t asim_ladder_size(const struct asim_ladder *l);

/* Bytes of storage the ladder holds, live or kept for reuse. */
size_t asim_ladder_bytes(const struct asim_ladder *l);

#endif
