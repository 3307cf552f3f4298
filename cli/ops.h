/* Operation names across a scenario: the keys of each client's `mix:` and of
 * each service's `calls:` mapping, and the `op:` of a call entry or a worker.
 * The keys are open (a named endpoint such as `checkout` is fine), but one
 * that is not known anywhere else and is a near miss of one that is ("raed"
 * for "read") is a typo whose requests would quietly take another path. An
 * `op:` must name a known operation. */
#ifndef ARCHSIM_CLI_OPS_H
#define ARCHSIM_CLI_OPS_H

#include <stdbool.h>

#include "archsim/cfg.h"
#include "archsim/diag.h"

/* Checks the operation names of components (the `components:` mapping, each
 * value a mapping). A mix key that is neither read, write nor a key of some
 * `calls:` mapping, and a `calls:` key that is neither read, write, in some
 * mix nor some call's `op:`, is an error (at the key, with "did you mean")
 * when it is close to one that is. An `op:` that is neither read, write nor a
 * mix or `calls:` key is an error at the value, with "did you mean" when one
 * is close. Returns false when it reported one. */
bool asim_ops_check(const struct asim_cfg *components, struct asim_diag *d);

#endif
