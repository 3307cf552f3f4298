/* Helpers shared by the models (not part of the public API). */
#ifndef ARCHSIM_MODELS_COMMON_H
#define ARCHSIM_MODELS_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "archsim/call.h"
#include "archsim/cfg.h"
#include "archsim/diag.h"
#include "archsim/kernel.h"
#include "archsim/model.h"

/* Private timer types of the models start here. */
enum {
	EV_ARRIVE = ASIM_EV_USER,
	EV_TIMEOUT,
	EV_RETRY,
	EV_DONE,
	EV_MODEL_BASE, /* a model's further timer types start here */
};

/* Resolves map[key] (a component name) to a component other than c.
 * Reports a missing key, a dangling name (with a did-you-mean over the
 * components), or a self reference, and returns NULL. */
struct asim_component *model_target(struct asim_component *c, const struct asim_cfg *map,
                                    const char *key, struct asim_diag *d);
/* The same for a node holding a name. */
struct asim_component *model_target_node(struct asim_component *c, const struct asim_cfg *node,
                                         const char *key, struct asim_diag *d);

/* Retry policy of a caller, as in the gRPC retry design and AWS's
 * "exponential backoff and jitter": at most max retries after the first try,
 * the n-th waiting base * 2^(n-1) (exponential) or base (constant), capped,
 * then jittered. */
enum backoff_kind { BACKOFF_CONSTANT, BACKOFF_EXPONENTIAL };
enum jitter_kind { JITTER_NONE, JITTER_FULL, JITTER_EQUAL, JITTER_DECORRELATED };

struct retry_policy {
	uint32_t max; /* retries after the first attempt; 0: none */
	enum backoff_kind backoff;
	enum jitter_kind jitter;
	asim_time base, cap;
};

/* Parses `retries:` (a mapping, or a bare count meaning that many retries
 * with the defaults: exponential, base 10ms, cap 1s, jitter full). Absent:
 * no retries. */
bool retry_policy_parse(const struct asim_cfg *map, const char *key, struct retry_policy *out,
                        struct asim_diag *d);
/* The wait before retry number n (1-based); prev is the previous wait (for
 * decorrelated jitter; 0 before the first retry). */
asim_time retry_backoff(const struct retry_policy *p, uint32_t n, asim_time prev, gsl_rng *r);

/* Reads `instances` (>= 1, default 1) and `zones` (a list of names from the
 * scenario's zones, instances spread round-robin; or `zone: NAME`) and sets
 * them on the component. */
bool model_instances(struct asim_component *c, const struct asim_cfg *map, uint32_t max,
                     struct asim_diag *d);

/* A growable FIFO of pointers (a ring), for waiting requests. Allocates only
 * when it grows past its high-water mark. */
struct ptr_ring {
	void **v;
	uint32_t head, len, cap;
};
bool ptr_ring_push(struct ptr_ring *q, void *p);
void *ptr_ring_pop(struct ptr_ring *q);
void *ptr_ring_pop_back(struct ptr_ring *q);
void ptr_ring_free(struct ptr_ring *q);

#endif
