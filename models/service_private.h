/* What service.c and service_calls.c share (not part of any API): the
 * state of a service, of the requests it serves (jobs) and of the calls
 * they wait for (legs), the plan of `calls:` that configure builds in
 * service.c, and the functions each file hands the other. service.c queues
 * and serves requests and parses the plan; service_calls.c runs the plan. */
#ifndef ARCHSIM_MODELS_SERVICE_PRIVATE_H
#define ARCHSIM_MODELS_SERVICE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "archsim/dist.h"
#include "archsim/pool.h"
#include "common.h"
#include "resilience.h"

struct leg;

struct job {
	struct asim_call *call;
	asim_time arrived;
	uint16_t inst;
	uint8_t pending;   /* calls of the current step still awaited */
	uint8_t fail;      /* last failure in the current step (wait: first) */
	uint32_t step, end; /* current and end top-level step of the plan */
	struct leg *legs;  /* calls awaited, for cancelling the rest of a group */
	uint32_t epoch;    /* the instance's epoch when it arrived (faults) */
	bool passed_on;    /* it sent a call whose end it will not hear (Repeats) */
	asim_time pause_mark; /* its instance's pause clock when its timed step began */
};

/* One call that a job waits for, through its retries and hedge. */
struct leg {
	struct job *job;
	struct asim_call *call;  /* the attempt in flight, or NULL */
	struct asim_call *hcall; /* its hedge in flight, or NULL */
	struct asim_timer timer; /* the attempt's deadline, or the wait before a retry */
	struct asim_timer htimer; /* when to hedge */
	struct leg *next;
	uint32_t step;
	uint32_t attempt;
	bool gave_up;      /* an attempt that may write was abandoned at its deadline */
	asim_time sent, prev_backoff;
};

/* Set in a call's tag (with the step index) for a hedge. */
#define LEG_HEDGE 0x80000000u

enum call_kind { CALL_SYNC, CALL_EMIT, CALL_GROUP };
enum { ON_ERROR_FAIL, ON_ERROR_IGNORE };
enum { WAIT_ALL, WAIT_FIRST };

/* One item of a calls list. A group's children are steps too, stored
 * contiguously at [first, first + n). */
struct step {
	uint8_t kind;
	uint8_t on_error;
	uint8_t wait;
	int16_t only_op;   /* -1: every operation; else the short form's op */
	int16_t op;        /* -1: the call carries the request's op; else `op:` */
	uint32_t target, target_instances;
	uint32_t callee;   /* index into callees */
	double probability;
	asim_time timeout; /* 0: none; per attempt */
	bool read_judged;  /* CALL_SYNC: a read it sends may be judged where it ends (Repeats) */
	uint32_t first, n; /* CALL_GROUP */
	struct edge_policy pol; /* CALL_SYNC: retries, breaker, hedge */
};

struct plan {
	uint32_t first, n; /* top-level steps */
};

/* The figures and resilience state of the edge to one component, shared by
 * the calls to it (configured by the first of them) and by all instances. */
struct callee {
	uint32_t comp;
	uint32_t policy_step; /* the step whose policy it follows */
	bool has_policy;
	uint64_t sent, ok, failed[ASIM_STATUS_COUNT];
	struct edge_stats es;
};

struct instance {
	uint32_t busy;
	struct ptr_ring queue; /* of struct job * */
	struct load_levels lv;
	struct inst_fault f;
	struct held_list held; /* work frozen by a pause */
	struct codel codel;
};

struct service {
	uint32_t concurrency;
	uint64_t queue_cap; /* UINT64_MAX: unbounded */
	struct asim_dist service_time, post_time;
	bool has_post;
	/* Without post_time the service stream draws service times alone, and
	 * start() sets this to draw them one ahead; with it, on demand. */
	struct asim_dist_ahead service_ahead;
	gsl_rng *r_service, *r_calls, *r_route, *r_fault;
	struct instance *inst;
	struct asim_pool jobs, legs;

	/* The call graph: plans index steps; by_op selects plan_op[op] over
	 * plan_all (the list form applies to every operation). */
	struct step *steps;
	uint32_t nsteps;
	bool by_op;
	struct plan plan_all, plan_op[ASIM_MAX_OPS];
	struct callee *callees;
	uint32_t ncallees;
	struct shed_cfg shed;
	int health_op; /* probes of a balancer's health check, answered at once */
	bool plain;    /* no calls and no post_time: served means answered */

	/* Measured after warm-up. */
	uint64_t arrived, served, rejected, waited, failed[ASIM_STATUS_COUNT];
	uint64_t expired;  /* queued requests skipped: deadline passed or caller gone */
	uint64_t shed_dropped; /* dropped by the queue delay target (CoDel) */
	uint64_t wasted;   /* served although the caller had given up */
	struct asim_hist response;
	/* Only the mean wait is reported: a count and a sum (as a histogram
	 * would keep them) spare a bucket per request. */
	uint64_t wait_n;
	double wait_sum;
	struct queue_sum qsum; /* queue (database: connection wait) over the instances */
};

enum { EV_SERVED = EV_MODEL_BASE, EV_POST, EV_CALL_TIMEOUT, EV_CALL_RETRY, EV_CALL_HEDGE };

/* Answers job j's request with st, counts it, frees the job and starts the
 * next request queued on its instance (service.c). A job begun before a
 * crash of its instance is dropped instead. */
void service_finish_job(struct asim_component *c, struct service *s, struct job *j,
                        enum asim_status st);

/* Runs job j's plan from j->step up to j->end: sends the calls of the
 * current step, and of the next ones while they finish at once; when the
 * plan is done, schedules the post_time (EV_POST) or finishes the job
 * (service_calls.c). */
void service_run_steps(struct asim_component *c, struct service *s, struct job *j);
/* Gives up on every call job j still waits for, cancelling their timers
 * and freeing their legs. */
void service_abandon_legs(struct asim_component *c, struct service *s, struct job *j);
/* The events of the calls, each taking the event's payload: an answer
 * (ASIM_EV_RESPONSE), EV_CALL_TIMEOUT, EV_CALL_RETRY and EV_CALL_HEDGE. */
void service_answered(struct asim_component *c, struct service *s, struct asim_call *call);
void service_call_timeout(struct asim_component *c, struct service *s, struct leg *l);
void service_call_retry(struct asim_component *c, struct service *s, struct leg *l);
void service_call_hedge(struct asim_component *c, struct service *s, struct leg *l);
/* The model op judges_read: whether the plan a read follows sends an emit,
 * a call that may write, or a read to a component that judges it. */
bool service_judges_read(const struct asim_component *c, unsigned depth);
/* Sets read_judged on every step that calls (at start: every component is
 * configured by then). */
void service_judge_reads(struct asim_component *c, struct service *s);
/* Adds the figures of each callee, and the calls sent in all, to r. */
void service_report_calls(const struct asim_component *c, const struct service *s,
                          struct asim_results *r);

#endif
