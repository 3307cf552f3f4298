/* A scenario: the loaded file, its run settings and SLOs, and how to build
 * and run a kernel from it.
 *
 * Top-level keys: name, description, seed, duration, warmup, replications,
 * zones, network, components, slo, limits, window, faults (see faults.h).
 * Loading validates everything (each component's configure runs once on a
 * scratch kernel), so a scenario that loads is a scenario that runs. */
#ifndef ARCHSIM_CLI_SCENARIO_H
#define ARCHSIM_CLI_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "archsim/diag.h"
#include "archsim/kernel.h"
#include "archsim/results.h"
#include "load.h"
#include "progress.h"

enum slo_kind { SLO_AT_MOST, SLO_AT_LEAST };

struct asim_slo {
	char metric[32];   /* "p95", "availability", "stale_reads"... */
	const char *path;  /* the results path it reads */
	enum slo_kind kind;
	double target;     /* in the unit of the path (ms, share, count) */
};

/* Command-line overrides; zero or NULL means "as in the file". duration and
 * window are the option's text, read as the file's value is, with the same
 * bounds and messages (marked "<--duration>", "<--window>"). */
struct asim_overrides {
	bool has_seed;
	uint64_t seed;
	const char *duration;
	uint32_t replications;
	const char *window;
	uint64_t max_events;   /* --max-events */
	const char *const *sets; /* --set PATH=VALUE, applied in order (cli/merge.h) */
	bool no_pilot;         /* `check`: leave `warmup: auto` unresolved (no run) */
	size_t nsets;
};

struct asim_scenario {
	struct asim_doc *doc; /* owned */
	const char *name;     /* borrowed from doc, or the file's base name */
	char *name_buf;       /* owned when derived from the file name */
	uint64_t seed;
	asim_time duration, warmup;
	bool warmup_auto;     /* `warmup: auto`: warmup chosen by MSER-5 (warmup.h) */
	uint32_t replications;
	asim_time window;     /* of time series (`window:`, default 1s) */
	const char **zones;   /* owned array of borrowed names */
	uint32_t nzones;
	const struct asim_cfg *components; /* borrowed from doc */
	struct asim_slo *slo; /* owned */
	size_t nslo;
	/* Instances and zones of each component (in file order) as configure
	 * set them, learnt by a first build: every later build places them
	 * before any configure runs, so a component that reads the instance
	 * count of its target sees the final count whatever the file order. */
	uint32_t *instances;  /* owned */
	uint16_t **zone_of;   /* owned; an entry may be NULL (all in zone 0) */
	/* Resource limits (`limits:`): a run that reaches one stops with its
	 * status, reports what it had, and `run` exits 1. Defaults below. */
	uint64_t max_events;
	uint64_t max_pending;
	uint64_t max_inflight; /* call records alive at once */
	uint64_t max_memory;   /* bytes, as asim_kernel_memory() counts them */
	/* Borrowed, NULL for none: runs report their simulated time to it
	 * (cli/progress.h), replication i as run i. */
	struct asim_progress *progress;
};

/* Defaults of `limits:`, high enough for any sensible run and low enough that
 * a runaway one (retries without a budget on an unbounded queue, a rate of
 * 1e9/s) stops in minutes without eating the machine. */
#define ASIM_DEFAULT_MAX_EVENTS UINT64_C(1000000000)  /* 1e9 events */
#define ASIM_DEFAULT_MAX_PENDING UINT64_C(50000000)   /* 5e7 pending events */
#define ASIM_DEFAULT_MAX_INFLIGHT UINT64_C(10000000)  /* 1e7 requests in flight */
#define ASIM_DEFAULT_MAX_MEMORY (UINT64_C(2) << 30)   /* 2 GiB */

/* Loads and validates path. NULL after reporting to d. */
struct asim_scenario *asim_scenario_load(const char *path, const struct asim_overrides *ov,
                                         struct asim_diag *d);
/* The same from len bytes of text in memory; name is used in marks and, when
 * the file has no `name:`, for the scenario's name. NULL after reporting. */
struct asim_scenario *asim_scenario_load_buffer(const char *name, const char *text, size_t len,
                                                const struct asim_overrides *ov,
                                                struct asim_diag *d);
void asim_scenario_free(struct asim_scenario *s);

/* A kernel with every component added and configured, for replication rep.
 * NULL after reporting to d. The caller destroys it. */
struct asim_kernel *asim_scenario_build(const struct asim_scenario *s, uint32_t rep,
                                        struct asim_diag *d);

/* Runs replication rep to the end and adds every figure to r (the PRODUCT.md
 * keys, components, SLO verdicts). Returns the kernel's run status. */
enum asim_run_status asim_scenario_run(const struct asim_scenario *s, uint32_t rep,
                                       struct asim_results *r, struct asim_diag *d);

/* Adds every figure of k, finished after a run that returned st, to r (what
 * asim_scenario_run adds). For runners that step the kernel themselves. */
void asim_scenario_collect(const struct asim_scenario *s, struct asim_kernel *k,
                           enum asim_run_status st, struct asim_results *r);

/* Evaluates the SLOs on r, adding "slo[i].*" and "ok". Returns whether all
 * hold; a run that stopped early (r has "stopped") never passes. */
bool asim_scenario_judge(const struct asim_scenario *s, struct asim_results *r);

#endif
