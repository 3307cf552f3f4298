/* Names of the fault kinds, as the scenario's `faults:` spells them. */
#include "archsim/fault.h"

static const char *const names[ASIM_FAULT_KIND_COUNT] = {
	[ASIM_FAULT_ZONE_LOSS] = "zone_loss",
	[ASIM_FAULT_CRASH] = "crash",
	[ASIM_FAULT_PAUSE] = "pause",
	[ASIM_FAULT_SLOW] = "slow",
	[ASIM_FAULT_PARTITION] = "partition",
	[ASIM_FAULT_LATENCY] = "latency",
	[ASIM_FAULT_LOSS] = "loss",
	[ASIM_FAULT_ERROR_RATE] = "error_rate",
	[ASIM_FAULT_LOAD_SPIKE] = "load_spike",
	[ASIM_FAULT_CACHE_FLUSH] = "cache_flush",
	[ASIM_FAULT_REPLICATION_PAUSE] = "replication_pause",
	[ASIM_FAULT_CONSUMER_STALL] = "consumer_stall",
	[ASIM_FAULT_CLOCK_SKEW] = "clock_skew",
};

const char *asim_fault_kind_name(enum asim_fault_kind kind)
{
	return (unsigned)kind < ASIM_FAULT_KIND_COUNT ? names[kind] : "unknown";
}
