/* database_private.h: what the files of the database model share
 * (database.c, database_routing.c, database_replication.c,
 * database_index.c): its state, its event types, and the functions one
 * part calls in another. Not a public header: no other model includes it. */
#ifndef ASIM_MODELS_DATABASE_PRIVATE_H
#define ASIM_MODELS_DATABASE_PRIVATE_H

#include "archsim/dist.h"
#include "archsim/pool.h"
#include "common.h"
#include "leadership.h"

#define MAX_REPLICAS 63

enum { REPL_ASYNC, REPL_SYNC, REPL_QUORUM };
enum { FROM_PRIMARY, FROM_REPLICAS, FROM_NEAREST, FROM_RYW };

struct op {
	struct asim_call *call;
	uint32_t slot;
	asim_time arrived;
	uint64_t must_see;      /* read: version acknowledged when it arrived */
	asim_time must_see_at;  /* its acknowledgement time */
	uint64_t version;       /* write: assigned at commit; read: newest seen */
	uint32_t parts;         /* read: jobs outstanding; write: applies pending */
	uint32_t acks;          /* write: instances holding it */
	uint32_t need;          /* sync write: acks that make it acknowledged */
	uint64_t epoch;         /* write: the leadership epoch it was committed in */
	uint16_t inst;          /* write: the instance it went to */
	bool write, rejected, answered;
};

struct job {
	struct op *op;
	asim_time arrived;
	asim_time pause_mark; /* its instance's pause clock when its service began */
	uint32_t epoch;       /* its instance's epoch when it arrived (crashes) */
	uint16_t inst;
};

struct apply {
	struct op *op; /* sync and quorum writes waiting for acks; else NULL */
	uint32_t slot;
	uint16_t from; /* the instance that shipped it */
	uint64_t version, epoch, gen;
	asim_time committed;
};

struct instance {
	uint32_t busy;
	struct ptr_ring wait; /* of struct job * */
	struct asim_tw busy_tw, wait_tw;
	uint64_t served;
	uint16_t paused, repl_paused; /* fault counters */
	uint32_t epoch;               /* bumped at each crash: work begun before it is lost */
	asim_time paused_at;
	asim_time paused_total; /* summed length of the pauses that ended */
	struct held_list held;      /* work frozen by a pause */
	struct held_list repl_held; /* applies frozen by a pause of either kind */
	asim_time repl_held_oldest; /* the earliest commit among them */
	struct held_list link_held; /* applies shipped while the link was cut */
	bool relinking;             /* an EV_RELINK is pending for this replica */
	asim_time replay_free;      /* replay_time: when its replay of what landed ends */
	uint64_t replaying;         /* landed, not yet replayed */
	uint64_t replaying_max;     /* at most, after warm-up */
};

struct db_index {
	bool on, conditional;
	uint32_t queue, queue_instances;
	int op;
	asim_time reconcile_every, settle;
	uint64_t *v; /* [slot]: version the index holds */
	/* Measured after warm-up, but for drift (the end state). */
	uint64_t shipped, applied, ignored, regressed, repaired, drift;
};

struct database {
	uint32_t replicas, connections;
	uint64_t wait_cap; /* UINT64_MAX: unbounded */
	int replication, read_from;
	uint32_t write_quorum, read_quorum;
	struct asim_dist read_time, write_time, lag, replay;
	bool has_replay; /* replay_time given: replicas replay serially */
	asim_time retry; /* replication_retry */
	gsl_rng *r_service, *r_lag, *r_pick, *r_replay;
	uint32_t rr;

	uint32_t nslots;      /* a power of two */
	struct versions ver;  /* by slot: acknowledged, and held by each instance */

	struct instance *inst;
	struct asim_pool ops, jobs, applies;

	struct leadership lead;
	bool idempotency;
	asim_time sticky;       /* read_from: primary_after_write */
	/* The committed writes, by [hash(request, caller) & (nslots - 1)]. */
	uint64_t *seen_req, *seen_version;
	uint32_t *seen_caller;
	uint64_t *writer;       /* [slot]: session of the last write (session_of) */
	asim_time *written_at;  /* [slot] */
	uint64_t *fence;        /* [slot]: newest fencing token; made at the first */
	struct db_index index;

	/* Measured after warm-up. */
	uint64_t reads, writes, rejected, stale_reads;
	uint64_t duplicates, deduplicated, no_primary, refused;
	uint64_t lock_conflicts, lock_fenced;
	uint64_t link_held; /* applies that waited for a cut link */
	struct asim_hist lag_hist, staleness, wait_hist;
	struct asim_hist latency; /* arrival to ok reply: asim_call_measure() */
	struct queue_sum qsum; /* queue (database: connection wait) over the instances */
	/* Busy connections of whichever instance is the primary at each
	 * moment: primary_utilization, through failovers. */
	struct asim_tw primary_busy;
};

enum { EV_SERVED = EV_MODEL_BASE, EV_APPLY, EV_RECONCILE, EV_LEAD,
       EV_RELINK = EV_LEAD + LEAD_EV_COUNT, EV_REPLAYED };

/* database.c */
/* Answers op's call with st (its version with it), and frees op once no
 * part of it is outstanding. */
void db_answer(struct asim_component *c, struct database *s, struct op *op,
               enum asim_status st);

/* database_routing.c */
/* The session of a call, never 0 (read_from: primary_after_write). */
uint64_t db_session_of(const struct asim_call *call);
/* The zone of the instance that sent call (0 when its component has none). */
uint16_t db_caller_zone(struct asim_kernel *k, const struct asim_call *call);
/* Whether instance i refuses connections (crashed, or its zone lost). */
bool db_refuses(const struct database *s, uint32_t i);
/* The instance that serves a read arriving now; -1 when none may. */
int db_serving_read(struct asim_component *c, struct database *s,
                    const struct asim_call *call);
/* The model op route: the instance a caller's driver sends call to. */
uint16_t db_route(struct asim_component *c, const struct asim_call *call);

/* database_replication.c */
/* A write whose primary went down unacknowledged: no answer ever comes. */
void db_lose(struct asim_component *c, struct database *s, struct op *op);
/* A write served by its instance's connection: commits it and ships it to
 * the replicas; answers it once acknowledged. */
void db_commit(struct asim_component *c, struct database *s, struct op *op);
/* Apply a lands at replica r (EV_APPLY, or EV_REPLAYED after its replay). */
void db_applied(struct asim_component *c, struct database *s, struct apply *a, uint16_t r);
/* replay_time: apply a lands at replica r and waits for its serial replay. */
void db_replay(struct asim_component *c, struct database *s, struct apply *a, uint16_t r);
/* EV_RELINK: the primary tries its link to replica r again. */
void db_relink(struct asim_component *c, struct database *s, uint16_t r);
/* The primary is back and still leads: its replicas are sent what they miss. */
void db_catch_up(struct asim_component *c, struct database *s);
/* The earliest commit among the applies instance in holds back, or now. */
asim_time db_oldest_held(const struct instance *in, asim_time now);

/* database_index.c */
/* Reads `index:` into x (x->on stays false without it); false on an error
 * reported to d. */
bool db_index_configure(struct asim_component *c, struct db_index *x,
                        const struct asim_cfg *map, struct asim_diag *d);
/* A change from the feed (op "index") reaches the index; answers call. */
void db_index_apply(struct asim_component *c, struct database *s, struct asim_call *call);
/* Ships the write op committed by the primary to the index's queue. */
void db_index_ship(struct asim_component *c, struct database *s, const struct op *op);
/* The settled slots where the index differs from the primary: repaired
 * when repair is true; returns how many. */
uint64_t db_index_compare(struct asim_component *c, struct database *s, bool repair);

#endif
