/* Faults: what the scenario's `faults:` timeline does to components.
 *
 * The fault engine (cli/faults.c) parses the timeline, checks that each
 * fault applies to its targets (a model lists the kinds it supports in
 * ops->faults), and at each fault's start and end calls the target's
 * ops->fault(c, f, true|false). A model applies the fault to the instances
 * whose byte in f->affected is non-zero (all when f->affected is NULL) and
 * undoes it at the end. Faults of the network (partition, latency, loss) are
 * applied by the network itself and never reach a model; zone_loss reaches
 * every component with an instance in the zone (as a crash of those
 * instances) and the network (as a partition of the zone).
 *
 * Several faults may overlap on one instance: a model keeps a count (or a
 * product of factors) per instance rather than a flag, so ends undo exactly
 * what starts did. */
#ifndef ARCHSIM_FAULT_H
#define ARCHSIM_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "archsim/dist.h"
#include "archsim/time.h"

enum asim_fault_kind {
	ASIM_FAULT_ZONE_LOSS,         /* zone's instances crash; links to it cut */
	ASIM_FAULT_CRASH,             /* instances down, in-flight work lost */
	ASIM_FAULT_PAUSE,             /* alive but not progressing (GC stop) */
	ASIM_FAULT_SLOW,              /* service time x factor + added (gray failure) */
	ASIM_FAULT_PARTITION,         /* messages between groups lost */
	ASIM_FAULT_LATENCY,           /* extra delay on links */
	ASIM_FAULT_LOSS,              /* messages on links lost with probability */
	ASIM_FAULT_ERROR_RATE,        /* requests answered ASIM_ERROR with probability */
	ASIM_FAULT_LOAD_SPIKE,        /* client rate x factor (step, or ramp) */
	ASIM_FAULT_CACHE_FLUSH,       /* cache contents dropped at start */
	ASIM_FAULT_REPLICATION_PAUSE, /* replicas stop applying writes */
	ASIM_FAULT_CONSUMER_STALL,    /* queue consumers stop pulling */
	ASIM_FAULT_CLOCK_SKEW,        /* an instance's clock off by offset/drift */
	ASIM_FAULT_KIND_COUNT
};

#define ASIM_FAULT_BIT(kind) (UINT32_C(1) << (kind))

struct asim_fault {
	enum asim_fault_kind kind;
	uint32_t id;           /* index in the timeline, for labels and ordering */
	asim_time start, end;  /* this occurrence; end == ASIM_TIME_MAX: to the end */
	const uint8_t *affected; /* per instance of the target: non-zero = hit; NULL: all */
	uint32_t naffected;    /* length of affected */
	double factor;         /* slow: multiplier (1 = none); load_spike: multiplier */
	asim_time added;       /* slow: added time per request */
	double probability;    /* error_rate, loss */
	asim_time ramp;        /* load_spike: time to reach the factor (0: step) */
	asim_time restart_after; /* crash: instances restart (cold) this long after
	                          * the start even if the fault lasts longer; 0: at end */
	asim_time offset;      /* clock_skew: constant offset (may be negative) */
	double drift;          /* clock_skew: rate error, e.g. 1e-4 */
	const struct asim_dist *delay; /* latency: added delay; NULL otherwise */
	const char *label;     /* for plots: "zone_loss a", "slow api x4" */
};

static inline bool asim_fault_hits(const struct asim_fault *f, uint32_t inst)
{
	return !f->affected || (inst < f->naffected && f->affected[inst]);
}

const char *asim_fault_kind_name(enum asim_fault_kind kind);

#endif
