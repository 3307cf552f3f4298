/* The network between components: a one-way delay for every call message
 * (request and response), drawn from a distribution chosen by the zones of
 * the two instances, and counts of the messages that crossed zones.
 *
 * The scenario's `network:` section:
 *   network:
 *     within_zone: 200us                                  # a dist (dist.h)
 *     across_zones: {dist: lognormal, mean: 2ms, cv: 0.3}
 *     links: [{from: a, to: b, latency: 5ms}]             # pair overrides
 * Absent delays are 0. A link applies both ways unless the reverse pair is
 * given as a link of its own. Instances without a zone are in zone 0 (the
 * first listed, or the only one when the scenario lists none). */
#ifndef ARCHSIM_CLI_NETWORK_H
#define ARCHSIM_CLI_NETWORK_H

#include <stdbool.h>

#include "archsim/cfg.h"
#include "archsim/diag.h"
#include "archsim/fault.h"
#include "archsim/kernel.h"

/* The name of the hidden component that holds the network's state; it is not
 * a valid user component name, so it never collides with one. */
#define ASIM_NETWORK_NAME "@network"

/* Validates the section net (the `network:` value; NULL installs nothing and
 * returns true) and installs it in k: the zones must be set and every
 * component added. The state lives in a hidden component (so it is freed
 * with the kernel), which reports "network.messages" and
 * "network.cross_zone_messages" (counted after warm-up). Returns false after
 * reporting to d. */
bool asim_network_install(struct asim_kernel *k, const struct asim_cfg *net,
                          struct asim_diag *d);

/* Installs a network without delays when the scenario has none, for the
 * faults that need one (partition, latency, loss, zone_loss). Returns false
 * when out of memory (after reporting at mark). */
bool asim_network_ensure(struct asim_kernel *k, struct asim_mark mark, struct asim_diag *d);

/* Where a network fault applies, resolved by the fault engine (cli/faults.c)
 * and owned by it. For a partition, group[] gives the group of each zone
 * (first nzones entries) and then of each component (by id); -1: in no
 * group; a component's own group wins over its zone's. Messages between
 * instances of two different groups are lost (with oneway, only from a group
 * to a later one in the list). For latency and loss, from[] and to[] mark
 * the zones and then the components of each side (NULL: every instance); a
 * message matches from -> to, and also to -> from unless oneway. For
 * zone_loss, zone is the zone whose messages (in and out) are lost. */
struct asim_net_scope {
	const int8_t *group;
	const uint8_t *from, *to;
	bool oneway;
	uint16_t zone;
};

/* Starts (active) or ends a network fault (partition, latency, loss,
 * zone_loss). f and scope must live until the end. Returns false when out of
 * memory (the kernel's run is then stopped). */
bool asim_network_fault(struct asim_kernel *k, const struct asim_fault *f,
                        const struct asim_net_scope *scope, bool active);

#endif
