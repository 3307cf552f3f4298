/* What a component kind provides to the kernel: one const table of operations.
 *
 * Life of a component: the scenario builder adds every component first (so
 * names resolve), then calls configure on each; the kernel calls start when
 * the run begins, handle for each event, warmup_end at the end of warm-up,
 * finish when the run ends, report to collect figures, destroy last. Every
 * operation but handle may be NULL. */
#ifndef ARCHSIM_MODEL_H
#define ARCHSIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "archsim/call.h"
#include "archsim/cfg.h"
#include "archsim/diag.h"
#include "archsim/fault.h"
#include "archsim/kernel.h"
#include "archsim/results.h"

struct asim_model_ops {
	const char *kind;    /* the YAML `kind:` value */
	const char *summary; /* one line for `archsim kinds` and docs */
	size_t state_size;   /* the kernel allocates and zeroes this per component */

	/* Validates cfg (the component's mapping, `kind` included) and fills
	 * the state; may look up other components by name to resolve targets
	 * (every component has been added by then). Schedules nothing. Returns
	 * false after reporting each problem to diag. */
	bool (*configure)(struct asim_component *c, const struct asim_cfg *cfg,
	                  struct asim_diag *diag);
	/* Schedules the first events (arrivals, health checks). */
	void (*start)(struct asim_component *c);
	void (*handle)(struct asim_component *c, const struct asim_event *ev);
	/* Statistics restart here: counters zeroed, time averages reset. */
	void (*warmup_end)(struct asim_component *c);
	/* The run ended at asim_now(): close time averages. */
	void (*finish)(struct asim_component *c);
	/* Adds "components.<name>.*" figures (kind, utilization, queue_mean...). */
	void (*report)(const struct asim_component *c, struct asim_results *r);
	/* Frees what configure allocated. The state block itself is the kernel's. */
	void (*destroy)(struct asim_component *c);
	/* The components this one sends to (target, targets, calls, backing,
	 * consumers), for `archsim graph`: writes at most max ids into to, in
	 * the order configured, each once, and returns how many there are in
	 * all (so a caller can retry with more room). Valid after configure. */
	size_t (*edges)(const struct asim_component *c, uint32_t *to, size_t max);
	/* Adds instantaneous figures at asim_now() under "NAME.queue",
	 * "NAME.busy"... (summed over instances), for time series. The same
	 * paths every call. The series runner (cli/series.c) calls it once at
	 * the end of each window, so a figure may also be one over the time
	 * since its previous call (the window), as the queue's share of it
	 * spent rebalancing: what it keeps in c->state for that is
	 * bookkeeping that nothing in the run reads. */
	void (*sample)(const struct asim_component *c, struct asim_results *r);
	/* Fault kinds this model handles (ASIM_FAULT_BIT mask, see fault.h);
	 * the engine refuses others at load time with a diagnostic. */
	uint32_t faults;
	/* A fault starts (active) or ends (!active) at asim_now(). */
	void (*fault)(struct asim_component *c, const struct asim_fault *f, bool active);
	/* Optional: the instance a call to this component goes to, as a
	 * topology-aware client (a database driver that knows the primary and
	 * the replicas) picks it. asim_call_send asks it once the call's
	 * caller, op and key are set, and sends there instead of the caller's
	 * choice (call->callee_inst), so the network delay is the one to the
	 * instance that serves. */
	uint16_t (*route)(struct asim_component *c, const struct asim_call *call);
	/* Optional, for a store whose reads can be judged for staleness: the
	 * newest version of key it has acknowledged to a writer so far, and
	 * when (0 and 0 before any). A cache in front of it asks on each answer
	 * it gives without reading the store, to judge that answer as the store
	 * judges its own reads. Constant time, no side effect. Returns false
	 * when it keeps no such version. */
	bool (*acked_version)(const struct asim_component *c, uint64_t key, uint64_t *version,
	                      asim_time *at);
	/* Optional, for a component that holds a session with the instances it
	 * sends to, as a broker with its consumers' connections: instances of
	 * component peer went down (active: a crash or zone_loss begins) or
	 * came back (!active: it ends), those f hits. The fault engine calls it
	 * for every peer hit, whether c sends to it or not: c ignores the
	 * others. It comes at asim_now(), after the peer's own fault.
	 * Overlapping faults come as separate calls, so keep counts. */
	void (*peer_fault)(struct asim_component *c, uint32_t peer, const struct asim_fault *f,
	                   bool active);
	/* Optional, for a component that watches its links to others
	 * (asim_net_link_up), as a broker its consumers' sessions: a fault
	 * that cuts links (a partition or a zone_loss) began or ended at
	 * asim_now(). The network has applied it, and so have its targets and
	 * their peers (fault, peer_fault). The fault engine calls it for every
	 * such edge, whatever the fault cuts: c asks about the links it cares
	 * for. Links change at these edges only, so a component that asks here
	 * never needs to poll them. */
	void (*links_changed)(struct asim_component *c);
	/* Optional: whether a read sent to c may, through c, end where a
	 * repeat of the request is judged: a queue that stores what it is
	 * given, or a call c makes on the read's behalf that may write (an
	 * emit, a call with `op: write`). A caller that gives up on such a
	 * read leaves a worker's repeat to be judged there, as it does a
	 * write (models/service_calls.c, Repeats). Use model_judges_read()
	 * (models/common.h), which bounds the depth (a cycle of calls ends
	 * there) and says no for a model without the op: a read alone
	 * writes nothing. Valid after every component is configured. */
	bool (*judges_read)(const struct asim_component *c, unsigned depth);
};

/* The registry of kinds (models/registry.c): NULL when kind is unknown. */
const struct asim_model_ops *asim_model_find(const char *kind);
/* NULL-terminated list of kind names, for messages and help. */
const char *const *asim_model_kinds(void);

#endif
