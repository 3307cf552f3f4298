/* Reliability and coordination: database failover (lost writes, split
 * brain, fencing), the coordinator (majority, leases), read-your-writes and
 * idempotency keys, each on a scripted timeline of requests and faults. The
 * faults are applied by calling the models' fault hooks at scripted times,
 * as the fault engine does. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/kernel.h"
#include "archsim/results.h"
#include "load.h"
#include "models.h"
#include "scenario.h"

#define MS ASIM_MS
#define S ASIM_S
#define R ASIM_OP_READ
#define W ASIM_OP_WRITE

struct row {
	asim_time at;
	uint16_t op;
	uint64_t key, request; /* request 0: the row's index + 1 */
};

struct got {
	bool done;
	enum asim_status status;
	asim_time at;
	uint64_t version;
};

/* A scripted fault: at `at`, the fault hook of `target` for `inst`. */
struct frow {
	asim_time at;
	const char *target;
	enum asim_fault_kind kind;
	int inst; /* -1: all */
	bool active;
	asim_time offset;
};

/* The drift of the clock_skew faults the rig injects (a test sets it and
 * puts it back to 0). */
static double skew_drift;

/* From this time on (a test sets it and puts it back), the network loses
 * every message between the primary (m's instance 0) and the coordinator
 * "coord", both ways: a primary cut off from every coordinator node, while
 * the replica still reaches them. A crash of the one node the primary asks
 * no longer does that: it moves to the next node (leadership.h). */
static asim_time primary_cut_at = ASIM_TIME_MAX;
static uint32_t cut_m, cut_coord;

static asim_time primary_cut_net(void *net, struct asim_kernel *k, uint32_t from,
                                 uint16_t from_inst, uint32_t to, uint16_t to_inst)
{
	(void)net;
	bool cut = (from == cut_m && from_inst == 0 && to == cut_coord) ||
	           (from == cut_coord && to == cut_m && to_inst == 0);
	return cut && asim_now(k) >= primary_cut_at ? ASIM_NET_LOST : 0;
}

#define MAX_FAULTS 8

struct driver {
	const struct row *rows;
	const uint32_t *sessions; /* per row, as closed-loop clients set them; NULL: 0 */
	struct got *got;
	size_t n;
	uint32_t target;
	const struct frow *faults;
	size_t nfaults;
	struct asim_fault f[MAX_FAULTS];
	uint8_t hit[MAX_FAULTS][16];
};

enum { DRV_SEND = ASIM_EV_USER + 3, DRV_FAULT };

static void drv_start(struct asim_component *c)
{
	struct driver *s = c->state;
	for (size_t i = 0; i < s->n; i++)
		asim_schedule_at(c->kernel, s->rows[i].at, c->id, DRV_SEND, 0, i, NULL);
	for (size_t i = 0; i < s->nfaults; i++)
		asim_schedule_at(c->kernel, s->faults[i].at, c->id, DRV_FAULT, 0, i, NULL);
}

static void drv_handle(struct asim_component *c, const struct asim_event *ev)
{
	struct driver *s = c->state;
	struct asim_kernel *k = c->kernel;
	if (ev->type == DRV_SEND) {
		const struct row *r = &s->rows[ev->a];
		struct asim_call *call = asim_call_new(k);
		ck_assert_ptr_nonnull(call);
		call->op = r->op;
		call->key = r->key;
		call->request = r->request ? r->request : ev->a + 1;
		call->session = s->sessions ? s->sessions[ev->a] : 0;
		call->origin = asim_now(k);
		call->token = ev->a;
		asim_call_send(k, call, c->id, 0, s->target, 0);
	} else if (ev->type == DRV_FAULT) {
		const struct frow *fr = &s->faults[ev->a];
		struct asim_component *t = asim_kernel_find(k, fr->target);
		ck_assert_ptr_nonnull(t);
		struct asim_fault *f = &s->f[ev->a];
		*f = (struct asim_fault){.kind = fr->kind, .id = (uint32_t)ev->a,
		                         .offset = fr->offset,
		                         .drift = fr->kind == ASIM_FAULT_CLOCK_SKEW ? skew_drift : 0};
		if (fr->inst >= 0) {
			s->hit[ev->a][fr->inst] = 1;
			f->affected = s->hit[ev->a];
			f->naffected = 16;
		}
		t->ops->fault(t, f, fr->active);
	} else if (ev->type == ASIM_EV_RESPONSE) {
		struct asim_call *call = ev->p;
		struct got *g = &s->got[call->token];
		*g = (struct got){true, (enum asim_status)call->status, asim_now(k), call->version};
		asim_call_free(k, call);
	}
}

static const struct asim_model_ops driver_ops = {
	.kind = "driver",
	.summary = "scripted test caller",
	.state_size = sizeof(struct driver),
	.start = drv_start,
	.handle = drv_handle,
};

struct rig {
	struct asim_kernel *k;
	struct asim_doc *doc;
	struct asim_diag d;
	struct asim_results r;
	struct got *got;
};

/* yaml is a scenario's `components:` mapping without the driver; "m" is
 * the component the driver calls. Zones a and b; the driver is in a. */
static void rig_build(struct rig *g, const char *yaml, const struct row *rows, size_t n,
                      const struct frow *faults, size_t nf)
{
	memset(g, 0, sizeof *g);
	asim_diag_init(&g->d);
	asim_results_init(&g->r);
	g->k = asim_kernel_create(42, 0);
	ck_assert_ptr_nonnull(g->k);
	static const char *const zones[] = {"a", "b", "c"};
	ck_assert(asim_kernel_set_zones(g->k, zones, 3));
	g->doc = asim_doc_load_buffer("t.yaml", yaml, strlen(yaml), &g->d);
	ck_assert_ptr_nonnull(g->doc);
	struct asim_component *drv = asim_kernel_add(g->k, "drv", &driver_ops);
	const struct asim_cfg *comps = g->doc->root;
	for (size_t i = 0; i < comps->n; i++) {
		const char *kind = asim_cfg_get(comps->pairs[i].value, "kind")->text;
		ck_assert_ptr_nonnull(asim_kernel_add(g->k, comps->pairs[i].key, asim_model_find(kind)));
	}
	for (size_t i = 0; i < comps->n; i++) {
		struct asim_component *c = asim_kernel_find(g->k, comps->pairs[i].key);
		bool ok = c->ops->configure(c, comps->pairs[i].value, &g->d);
		if (!ok)
			asim_diag_print(&g->d, stderr);
		ck_assert(ok);
	}
	struct driver *s = drv->state;
	g->got = calloc(n ? n : 1, sizeof *g->got);
	s->rows = rows;
	s->got = g->got;
	s->n = n;
	s->faults = faults;
	s->nfaults = nf;
	ck_assert_uint_le(nf, MAX_FAULTS);
	s->target = asim_kernel_find(g->k, "m")->id;
	if (primary_cut_at != ASIM_TIME_MAX) {
		cut_m = s->target;
		cut_coord = asim_kernel_find(g->k, "coord")->id;
		asim_kernel_set_network(g->k, primary_cut_net, NULL);
	}
}

static void rig_run(struct rig *g, asim_time until)
{
	ck_assert_int_eq(asim_kernel_run(g->k, until), ASIM_RUN_DONE);
	asim_kernel_finish(g->k);
	for (size_t i = 0; i < asim_kernel_count(g->k); i++) {
		const struct asim_component *c = asim_kernel_component(g->k, (uint32_t)i);
		if (c->ops->report)
			c->ops->report(c, &g->r);
	}
}

static double num(const struct rig *g, const char *path)
{
	const struct asim_value *v = asim_results_get(&g->r, path);
	ck_assert_msg(v != NULL, "no result %s", path);
	return v->num;
}

static void rig_free(struct rig *g)
{
	ck_assert_uint_eq(asim_call_live(g->k) <= 8, true);
	asim_kernel_destroy(g->k);
	asim_doc_free(g->doc);
	asim_diag_finish(&g->d);
	asim_results_finish(&g->r);
	free(g->got);
}

/* Replica 2 is down from 50ms to 1s; a write arrives at 100ms and commits
 * at 101ms, and each replica applies 10ms later. Sync waits only for the
 * replicas up at commit (answered at 111ms); a quorum of all three counts
 * real acks only, so it waits for the crashed replica to be back and apply
 * its held write (answered at 1s). */
static const struct row down_rows[] = {{100 * MS, W, 1, 0}};
static const struct frow replica_down[] = {
	{50 * MS, "m", ASIM_FAULT_CRASH, 2, true, 0},
	{1 * S, "m", ASIM_FAULT_CRASH, 2, false, 0},
};
static const struct {
	const char *yaml;
	asim_time answered;
} down_cases[] = {
	{"m: {kind: database, replicas: 2, replication: sync, replication_lag: 10ms,\n"
	 "    read_time: 1ms, write_time: 1ms}\n", 111 * MS},
	{"m: {kind: database, replicas: 2, replication: quorum, write_quorum: 3,\n"
	 "    replication_lag: 10ms, read_time: 1ms, write_time: 1ms}\n", 1 * S},
};

START_TEST(coord_down_replica_and_write_acks)
{
	struct rig g;
	rig_build(&g, down_cases[_i].yaml, down_rows, 1, replica_down, 2);
	rig_run(&g, 2 * S);
	ck_assert(g.got[0].done);
	ck_assert_int_eq(g.got[0].status, ASIM_OK);
	ck_assert_int_eq(g.got[0].at, down_cases[_i].answered);
	rig_free(&g);
}
END_TEST

/* Writes of keys 1, 2 and 3 commit at 1ms, 501ms and 551ms; the replica
 * applies each 100ms later. The primary crashes at 600ms, before key 2's
 * and key 3's applies land, and the replica is promoted at 1.6s. Async
 * acknowledged them at commit: both are lost, and reads of them after the
 * failover see nothing. Sync never acknowledged them (the caller heard
 * nothing), so nothing acknowledged is lost. */
static const struct row failover_rows[] = {
	{0, W, 1, 0}, {500 * MS, W, 2, 0}, {550 * MS, W, 3, 0},
	{2 * S, R, 1, 0}, {2 * S, R, 2, 0}, {2 * S, W, 2, 0},
};
static const struct frow crash_primary[] = {
	{600 * MS, "m", ASIM_FAULT_CRASH, 0, true, 0},
};
static const struct {
	const char *yaml;
	uint64_t lost;
	enum asim_status write2;
} failover_cases[] = {
	{"m: {kind: database, replicas: 1, replication: async, replication_lag: 100ms,\n"
	 "    read_time: 1ms, write_time: 1ms, failover: {detection: 1s}}\n", 2, ASIM_OK},
	{"m: {kind: database, replicas: 1, replication: sync, replication_lag: 100ms,\n"
	 "    read_time: 1ms, write_time: 1ms, failover: {detection: 1s}}\n", 0, 0},
};

START_TEST(coord_failover_loses_lag_window)
{
	struct rig g;
	rig_build(&g, failover_cases[_i].yaml, failover_rows, 6, crash_primary, 1);
	rig_run(&g, 3 * S);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->lost_writes, failover_cases[_i].lost);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->leader_changes, 1);
	ck_assert_uint_eq(num(&g, "components.m.primary"), 1);
	ck_assert_uint_eq(num(&g, "components.m.lost_writes"), failover_cases[_i].lost);
	/* Writes were impossible from the crash to the promotion. */
	ck_assert_double_eq_tol(num(&g, "components.m.write_unavailable_s"), 1.0, 1e-9);
	ck_assert(g.got[0].done && g.got[0].status == ASIM_OK);
	ck_assert_uint_eq(g.got[3].version, 1); /* key 1 survived */
	ck_assert_uint_eq(g.got[4].version, 0); /* key 2: lost or never acknowledged */
	ck_assert(g.got[5].done && g.got[5].status == ASIM_OK);
	ck_assert_uint_eq(g.got[5].version, 1); /* the new primary's history */
	if (failover_cases[_i].lost) {
		ck_assert(g.got[1].done && g.got[1].status == ASIM_OK);
	} else {
		ck_assert(!g.got[1].done && !g.got[2].done); /* dropped by the crash */
	}
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->stale_reads, 0);
	rig_free(&g);
}
END_TEST

/* The same crash at 550ms, before key 2's apply lands, but the primary is
 * back at 850ms and still leads: no failover, or one whose detection (1s)
 * had not fired. Its log is on its disk, so the replica catches up (one lag
 * after the return) and the reads of key 2 it serves at 2s and 2.5s are not
 * stale. Before, the replica missed the write for the rest of the run. */
static const struct row back_rows[] = {
	{500 * MS, W, 2, 0}, {2 * S, R, 2, 0}, {2500 * MS, R, 2, 0},
};
static const struct frow crash_and_back[] = {
	{550 * MS, "m", ASIM_FAULT_CRASH, 0, true, 0},
	{850 * MS, "m", ASIM_FAULT_CRASH, 0, false, 0},
};
static const char *const back_cases[] = {
	"m: {kind: database, replicas: 1, replication: async, replication_lag: 100ms,\n"
	"    read_from: replicas, read_time: 1ms, write_time: 1ms}\n",
	"m: {kind: database, replicas: 1, replication: async, replication_lag: 100ms,\n"
	"    read_from: replicas, read_time: 1ms, write_time: 1ms, failover: {detection: 1s}}\n",
};

START_TEST(coord_primary_back_replicas_catch_up)
{
	struct rig g;
	rig_build(&g, back_cases[_i], back_rows, 3, crash_and_back, 2);
	rig_run(&g, 3 * S);
	ck_assert(g.got[0].done && g.got[0].status == ASIM_OK);
	ck_assert_uint_eq(g.got[0].version, 1);
	for (int i = 1; i <= 2; i++) {
		ck_assert(g.got[i].done && g.got[i].status == ASIM_OK);
		ck_assert_uint_eq(g.got[i].version, 1);
	}
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->stale_reads, 0);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->lost_writes, 0);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->leader_changes, 0);
	/* The write reached the replica one lag after the primary's return,
	 * 450ms after it was acknowledged at 501ms. */
	ck_assert_double_eq_tol(num(&g, "components.m.replication_lag_ms.max"), 449.0, 5.0);
	rig_free(&g);
}
END_TEST

/* primary_utilization follows whichever instance leads. A write every
 * 10ms takes 5ms on one connection: the primary is busy half the time. The
 * primary crashes at 1s and the replica is promoted at 2s; from then on it
 * takes the writes. Over the 4s: busy half of [0, 1s) and of [2s, 4s), so
 * 0.375; instance 0's own figure (what was reported) is 0.125. */
START_TEST(coord_primary_utilization_follows_failover)
{
	static struct row rows[400];
	for (int i = 0; i < 400; i++)
		rows[i] = (struct row){(asim_time)i * 10 * MS, W, (uint64_t)(i % 50) + 1, 0};
	static const struct frow crash[] = {{1 * S, "m", ASIM_FAULT_CRASH, 0, true, 0}};
	struct rig g;
	rig_build(&g, "m: {kind: database, replicas: 1, replication: async, replication_lag: 1ms,\n"
	              "    connections: 1, read_time: 1ms, write_time: 5ms,\n"
	              "    failover: {detection: 1s}}\n",
	          rows, 400, crash, 1);
	rig_run(&g, 4 * S);
	ck_assert_uint_eq(num(&g, "components.m.primary"), 1);
	ck_assert_double_eq_tol(num(&g, "components.m.primary_utilization"), 0.375, 0.002);
	rig_free(&g);
}
END_TEST

/* The primary (zone a) crashes at 100ms; the replica (zone b) is promoted at
 * 1.1s. The old primary is back at 3s believing it leads, until it learns
 * otherwise at 4s: the driver, in zone a, writes to it at 3.2s and 3.5s.
 * Without fencing both are accepted (conflicting writes, 1s with two
 * leaders) and lost when it is resynced at 4s; with fencing its old epoch
 * is refused. At 4.5s the driver's write goes to the new primary. */
static const struct row split_rows[] = {
	{0, W, 1, 0}, {3200 * MS, W, 1, 0}, {3500 * MS, W, 2, 0}, {4500 * MS, W, 1, 0},
};
static const struct frow split_faults[] = {
	{100 * MS, "m", ASIM_FAULT_CRASH, 0, true, 0},
	{3 * S, "m", ASIM_FAULT_CRASH, 0, false, 0},
};
static const struct {
	const char *fencing;
	uint64_t conflicting;
	enum asim_status st;
} split_cases[] = {
	{"false", 2, ASIM_OK},
	{"true", 0, ASIM_ERROR},
};

START_TEST(coord_split_brain_and_fencing)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "m: {kind: database, replicas: 1, zones: [a, b], replication_lag: 10ms,\n"
	         "    read_time: 1ms, write_time: 1ms,\n"
	         "    failover: {detection: 1s, fencing: %s}}\n",
	         split_cases[_i].fencing);
	struct rig g;
	rig_build(&g, yaml, split_rows, 4, split_faults, 2);
	rig_run(&g, 6 * S);
	const struct asim_outcome *o = asim_kernel_outcome(g.k);
	ck_assert_uint_eq(o->conflicting_writes, split_cases[_i].conflicting);
	ck_assert_int_eq(g.got[1].status, split_cases[_i].st);
	ck_assert_int_eq(g.got[2].status, split_cases[_i].st);
	ck_assert_int_eq(o->two_leader, 1 * S);
	ck_assert_uint_eq(o->leader_changes, 1);
	/* Key 1's first write was replicated; the writes the old primary
	 * acknowledged alone vanish when it is resynced at 4s: lost. */
	ck_assert_uint_eq(o->lost_writes, split_cases[_i].conflicting);
	ck_assert_uint_eq(num(&g, "components.m.lost_writes"), split_cases[_i].conflicting);
	ck_assert_int_eq(g.got[3].status, ASIM_OK);
	ck_assert_uint_eq(g.got[3].version, 2);
	ck_assert_uint_eq(num(&g, "components.m.fenced_writes"), split_cases[_i].conflicting ? 0 : 2);
	rig_free(&g);
}
END_TEST

/* A lease-led database and a 3-node coordinator: two nodes crash at 1s, so
 * renewals get no answer, the primary's lease runs out by its clock, and no
 * one can be granted it again: writes stop (stalled progress) until node 2
 * returns at 8s and a candidate takes the lease. Both instances hold the
 * same data, so both campaign, each asking the next node after a request
 * goes unanswered: at 8s the replica asks node 2 (back) and the primary
 * node 1 (still down), and the replica wins. */
static const struct row quorum_rows[] = {
	{500 * MS, W, 1, 0}, {5 * S, W, 1, 0}, {9 * S, W, 1, 0},
};
static const struct frow quorum_faults[] = {
	{1 * S, "coord", ASIM_FAULT_CRASH, 1, true, 0},
	{1 * S, "coord", ASIM_FAULT_CRASH, 2, true, 0},
	{8 * S, "coord", ASIM_FAULT_CRASH, 2, false, 0},
};

START_TEST(coord_majority_loss_stops_grants)
{
	struct rig g;
	rig_build(&g,
	          "coord: {kind: coordinator, nodes: 3}\n"
	          "m: {kind: database, replicas: 1, read_time: 1ms, write_time: 1ms,\n"
	          "    leadership: {coordinator: coord, lease_ttl: 2s, renew_every: 500ms}}\n",
	          quorum_rows, 3, quorum_faults, 3);
	rig_run(&g, 10 * S);
	ck_assert_int_eq(g.got[0].status, ASIM_OK);
	ck_assert_int_eq(g.got[1].status, ASIM_UNREACHABLE);
	ck_assert_int_eq(g.got[2].status, ASIM_OK);
	ck_assert_double_eq_tol(num(&g, "components.coord.stalled_s"), 7.0, 1e-9);
	ck_assert_uint_eq(num(&g, "components.coord.grants"), 2);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->leader_changes, 1);
	/* The last renewal granted before 1s was sent at 500ms and committed
	 * 1ms later: the coordinator's lease ran out at 2.501s, the primary's,
	 * timed from when it asked, at 2.5s. The replica's request of 8s is
	 * committed at 8.001s. Add the first grant's 1ms at the start. */
	ck_assert_double_eq_tol(num(&g, "components.m.write_unavailable_s"), 5.502, 1e-9);
	rig_free(&g);
}
END_TEST

/* A clock stepped 5s back while the primary holds its lease makes it
 * believe that lease for 5s longer: here the network cuts it off from the
 * coordinator at 1s (primary_cut_at), its clock steps at 1.2s, the
 * replica takes the lease, and the old primary accepts the driver's writes
 * meanwhile unless fencing refuses. (A step before its last renewal would
 * change nothing: the holder times each lease from when it asked.) */
static const struct row skew_rows[] = {
	{0, W, 1, 0}, {6 * S, W, 1, 0}, {7 * S, W, 2, 0},
};
static const struct frow skew_faults[] = {
	{1200 * MS, "m", ASIM_FAULT_CLOCK_SKEW, 0, true, -5 * S},
};
static const struct {
	const char *fencing;
	uint64_t conflicting;
} skew_cases[] = {{"false", 2}, {"true", 0}};

START_TEST(coord_lease_clock_skew)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "coord: {kind: coordinator, nodes: 3, zones: [a, b, c]}\n"
	         "m: {kind: database, replicas: 1, zones: [a, b], read_time: 1ms, write_time: 1ms,\n"
	         "    leadership: {coordinator: coord, lease_ttl: 2s, renew_every: 500ms,\n"
	         "                 fencing: %s}}\n",
	         skew_cases[_i].fencing);
	struct rig g;
	primary_cut_at = 1 * S;
	rig_build(&g, yaml, skew_rows, 3, skew_faults, 1);
	rig_run(&g, 12 * S);
	primary_cut_at = ASIM_TIME_MAX;
	const struct asim_outcome *o = asim_kernel_outcome(g.k);
	ck_assert_uint_eq(o->leader_changes, 1);
	ck_assert_uint_eq(o->conflicting_writes, skew_cases[_i].conflicting);
	/* Its lease lapses by its clock at last and it rejoins as a replica,
	 * dropping the writes it took alone. */
	ck_assert_uint_eq(o->lost_writes, skew_cases[_i].conflicting);
	ck_assert_int_gt(o->two_leader, 0);
	rig_free(&g);
}
END_TEST

/* Overlapping skews add up, as everywhere else (model_clock): steps of 3s
 * and 2s back give the 5s of coord_lease_clock_skew, and the old primary
 * takes both writes at 6s and 7s. The old code kept only the latest skew
 * (2s: it let go at 4.5s and took none). */
static const struct frow skews_add_faults[] = {
	{1200 * MS, "m", ASIM_FAULT_CLOCK_SKEW, 0, true, -3 * S},
	{1300 * MS, "m", ASIM_FAULT_CLOCK_SKEW, 0, true, -2 * S},
};

START_TEST(coord_lease_clock_skews_add_up)
{
	struct rig g;
	primary_cut_at = 1 * S;
	rig_build(&g,
	          "coord: {kind: coordinator, nodes: 3, zones: [a, b, c]}\n"
	          "m: {kind: database, replicas: 1, zones: [a, b], read_time: 1ms, write_time: 1ms,\n"
	          "    leadership: {coordinator: coord, lease_ttl: 2s, renew_every: 500ms}}\n",
	          skew_rows, 3, skews_add_faults, 2);
	rig_run(&g, 12 * S);
	primary_cut_at = ASIM_TIME_MAX;
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->conflicting_writes, 2);
	rig_free(&g);
}
END_TEST

/* A holder times its lease on its own clock from when it asked, so a clock
 * that is off by a constant changes nothing, and a drift does: the primary's
 * clock is stepped 5s back at 100ms, and the network cuts it off from the
 * coordinator at 5s.
 * Its last renewal left at 4.5s: with a clock that keeps time it lets go at
 * 6.5s, before the replica is granted the lease at 7.001s (no two leaders,
 * the writes at 8s and 9s go to the replica); with a clock running at half
 * speed from 100ms its 2s lease lasts 4s, to 8.5s, and takes the write at
 * 8s. The old code read the coordinator's absolute expiry (6.501s) on the
 * skewed clock: it believed to 11.5s with the offset (2 conflicting writes,
 * two leaders for 4.5s). */
static const struct row offset_rows[] = {
	{0, W, 1, 0}, {8 * S, W, 1, 0}, {9 * S, W, 2, 0},
};
static const struct {
	double drift;
	uint64_t conflicting;
	double two_leader_s;
} offset_cases[] = {{0, 0, 0}, {-0.5, 1, 1.499}};

START_TEST(coord_lease_clock_offset_harmless)
{
	struct frow faults[] = {
		{100 * MS, "m", ASIM_FAULT_CLOCK_SKEW, 0, true, -5 * S},
	};
	skew_drift = offset_cases[_i].drift;
	primary_cut_at = 5 * S;
	struct rig g;
	rig_build(&g,
	          "coord: {kind: coordinator, nodes: 3, zones: [a, b, c]}\n"
	          "m: {kind: database, replicas: 1, zones: [a, b], read_time: 1ms, write_time: 1ms,\n"
	          "    leadership: {coordinator: coord, lease_ttl: 2s, renew_every: 500ms}}\n",
	          offset_rows, 3, faults, 1);
	rig_run(&g, 12 * S);
	primary_cut_at = ASIM_TIME_MAX;
	const struct asim_outcome *o = asim_kernel_outcome(g.k);
	ck_assert_uint_eq(o->leader_changes, 1);
	ck_assert_uint_eq(o->conflicting_writes, offset_cases[_i].conflicting);
	ck_assert_double_eq_tol(asim_time_to_seconds(o->two_leader), offset_cases[_i].two_leader_s,
	                        2e-3);
	rig_free(&g);
	skew_drift = 0;
}
END_TEST

/* Read-your-writes: a write of key 1 at 0 reaches the replica at 101ms; the
 * same client reads it at 50ms. From the replicas that read is stale; with
 * primary_after_write it goes to the primary. Key 2, never written by this
 * client recently, is read from the replica either way. */
static const struct row ryw_rows[] = {
	{0, W, 1, 0}, {50 * MS, R, 1, 0}, {50 * MS, R, 2, 0},
};
static const struct {
	const char *read_from;
	uint64_t stale, served0;
} ryw_cases[] = {
	{"replicas", 1, 1},
	{"primary_after_write", 0, 2},
};

START_TEST(coord_read_your_writes)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "m: {kind: database, replicas: 1, replication_lag: 100ms, read_from: %s,\n"
	         "    read_time: 1ms, write_time: 1ms}\n",
	         ryw_cases[_i].read_from);
	struct rig g;
	rig_build(&g, yaml, ryw_rows, 3, NULL, 0);
	rig_run(&g, 1 * S);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->stale_reads, ryw_cases[_i].stale);
	ck_assert_uint_eq(num(&g, "components.m.served[0]"), ryw_cases[_i].served0);
	ck_assert_uint_eq(g.got[1].version, ryw_cases[_i].stale ? 0 : 1);
	rig_free(&g);
}
END_TEST

/* Read-your-writes is per user: user 1 of a client writes key 1 at 0
 * (applied at the replica at 101ms); at 50ms user 1 reads it from the
 * primary, and user 2 of the same client, whose own write it is not, from
 * the replica: stale. */
static const struct row ryw_user_rows[] = {
	{0, W, 1, 0}, {50 * MS, R, 1, 0}, {50 * MS, R, 1, 0},
};
static const uint32_t ryw_user_sessions[] = {1, 1, 2};

START_TEST(coord_read_your_writes_per_user)
{
	struct rig g;
	rig_build(&g,
	          "m: {kind: database, replicas: 1, replication_lag: 100ms,\n"
	          "    read_from: primary_after_write, read_time: 1ms, write_time: 1ms}\n",
	          ryw_user_rows, 3, NULL, 0);
	struct driver *drv = asim_kernel_find(g.k, "drv")->state;
	drv->sessions = ryw_user_sessions;
	rig_run(&g, 1 * S);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->stale_reads, 1);
	ck_assert_uint_eq(num(&g, "components.m.served[0]"), 2);
	ck_assert_uint_eq(g.got[1].version, 1);
	ck_assert_uint_eq(g.got[2].version, 0);
	rig_free(&g);
}
END_TEST

/* A write retried with the same request id (the first attempt succeeded but
 * its caller timed out) is a second write of the same intent. */
static const struct row dup_rows[] = {
	{0, W, 1, 7}, {10 * MS, W, 1, 7}, {20 * MS, W, 1, 8},
};
static const struct {
	const char *idempotency;
	uint64_t dups, v2, v3;
} dup_cases[] = {{"false", 1, 2, 3}, {"true", 0, 1, 2}};

START_TEST(coord_idempotency_keys)
{
	char yaml[256];
	snprintf(yaml, sizeof yaml,
	         "m: {kind: database, read_time: 1ms, write_time: 1ms, idempotency: %s}\n",
	         dup_cases[_i].idempotency);
	struct rig g;
	rig_build(&g, yaml, dup_rows, 3, NULL, 0);
	rig_run(&g, 1 * S);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->duplicate_writes, dup_cases[_i].dups);
	ck_assert_uint_eq(g.got[0].version, 1);
	ck_assert_uint_eq(g.got[1].version, dup_cases[_i].v2);
	ck_assert_uint_eq(g.got[2].version, dup_cases[_i].v3);
	rig_free(&g);
}
END_TEST

/* Exact messages for the new settings. */
static const struct {
	const char *yaml, *first;
} bad[] = {
	{"m: {kind: database, read_time: 1ms, write_time: 1ms, failover: {detection: 1s},\n"
	 "    leadership: {coordinator: m}}\n",
	 "t.yaml:2:17: error: 'm' has both 'failover' and 'leadership': give one (a lease decides failover)"},
	{"m: {kind: database, read_time: 1ms, write_time: 1ms, failover: {policy: random}}\n",
	 "t.yaml:1:73: error: expected one of promote_most_caught_up, none for 'policy', got 'random'"},
	{"c: {kind: coordinator}\n"
	 "m: {kind: database, read_time: 1ms, write_time: 1ms,\n"
	 "    leadership: {coordinator: c, lease_ttl: 2s, renew_every: 3s}}\n",
	 "t.yaml:3:62: error: 'renew_every' of 'm' must be shorter than 'lease_ttl'"},
	{"m: {kind: database, read_time: 1ms, write_time: 1ms, sticky_window: 1s}\n",
	 "t.yaml:1:69: error: 'sticky_window' applies only to 'read_from: primary_after_write' in 'm'"},
	{"m: {kind: database, read_time: 1ms, write_time: 1ms, replay_time: 5ms}\n",
	 "t.yaml:1:67: error: 'replay_time' needs 'replicas' in 'm'"},
};

START_TEST(coord_config_errors)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_kernel *k = asim_kernel_create(1, 0);
		struct asim_doc *doc = asim_doc_load_buffer("t.yaml", bad[i].yaml, strlen(bad[i].yaml), &d);
		ck_assert_ptr_nonnull(doc);
		const struct asim_cfg *comps = doc->root;
		for (size_t j = 0; j < comps->n; j++)
			asim_kernel_add(k, comps->pairs[j].key,
			                asim_model_find(asim_cfg_get(comps->pairs[j].value, "kind")->text));
		bool ok = true;
		for (size_t j = 0; j < comps->n; j++) {
			struct asim_component *c = asim_kernel_find(k, comps->pairs[j].key);
			ok &= c->ops->configure(c, comps->pairs[j].value, &d);
		}
		ck_assert(!ok);
		char buf[256];
		asim_diag_format(&d, 0, buf, sizeof buf);
		ck_assert_str_eq(buf, bad[i].first);
		asim_diag_finish(&d);
		asim_doc_free(doc);
		asim_kernel_destroy(k);
	}
}
END_TEST

/* Each failure pair: the broken design fails an SLO, the fixed one meets
 * them all, for the reason the pair is about. */
static const struct {
	const char *name, *invariant;
} pairs[] = {
	{"split-brain", "invariants.conflicting_writes"},
	{"stale-replicas", "invariants.stale_reads"},
	{"duplicate-writes", "invariants.duplicate_writes"},
	{"quorum-loss", "components.db.write_unavailable_s"},
	{"leader-flapping", "components.db.write_unavailable_s"},
	{"lock-leaks", "invariants.lock_leak_s"},
	{"inconsistent-reads", "invariants.stale_reads"},
	{"drift", "invariants.drift"},
};

static double run_file(const char *name, bool *ok, const char *path_of)
{
	const char *root = getenv("ARCHSIM_SOURCE_ROOT");
	char path[512];
	snprintf(path, sizeof path, "%s/scenarios/failures/%s.yaml", root ? root : ".", name);
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *sc = asim_scenario_load(path, NULL, &d);
	if (!sc)
		asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(sc);
	struct asim_results r;
	asim_results_init(&r);
	ck_assert_int_eq(asim_scenario_run(sc, 0, &r, &d), ASIM_RUN_DONE);
	*ok = asim_scenario_judge(sc, &r);
	double v = asim_results_num(&r, path_of, -1);
	asim_results_finish(&r);
	asim_scenario_free(sc);
	asim_diag_finish(&d);
	return v;
}

START_TEST(coord_failure_pairs)
{
	char fixed[64];
	snprintf(fixed, sizeof fixed, "%s-fixed", pairs[_i].name);
	bool ok_broken, ok_fixed;
	double broken = run_file(pairs[_i].name, &ok_broken, pairs[_i].invariant);
	double good = run_file(fixed, &ok_fixed, pairs[_i].invariant);
	ck_assert_msg(!ok_broken, "%s meets its SLOs", pairs[_i].name);
	ck_assert_msg(ok_fixed, "%s fails an SLO", fixed);
	ck_assert_msg(broken > good, "%s: %s %g, fixed %g", pairs[_i].name, pairs[_i].invariant,
	              broken, good);
}
END_TEST

/* A whole scenario from text: the figure at path after one run. */
static double run_text(const char *yaml, const char *path)
{
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *sc = asim_scenario_load_buffer("t.yaml", yaml, strlen(yaml), NULL, &d);
	if (!sc)
		asim_diag_print(&d, stderr);
	ck_assert_ptr_nonnull(sc);
	struct asim_results r;
	asim_results_init(&r);
	ck_assert_int_eq(asim_scenario_run(sc, 0, &r, &d), ASIM_RUN_DONE);
	double v = asim_results_num(&r, path, -1);
	asim_results_finish(&r);
	asim_scenario_free(sc);
	asim_diag_finish(&d);
	return v;
}

/* A failover loses no write a quorum acknowledged. 1000 writes/s over 1000
 * keys to a primary and two replicas with exponential lags (mean 20ms):
 * with W = 2 of 3 a write is acknowledged once either replica holds it, so
 * when the primary crashes (at 5s; promotion 1s later) the acknowledged
 * writes of the last few tens of milliseconds are spread over the two
 * replicas, neither holding them all. The new primary gathers them from the
 * other replica, as a consensus election would. Before, it kept only its
 * own, and this run lost 8 acknowledged writes; async loses its lag window
 * (about 1000/s x 20ms = 20 writes missing on a replica; 16 here), and
 * still does. */
static const char quorum_failover_yaml[] =
	"duration: 10s\n"
	"seed: 3\n"
	"components:\n"
	"  u: {kind: client, rate: 2000/s, mix: {read: 0.5, write: 0.5}, keys: {count: 1000},\n"
	"     timeout: 500ms, target: db}\n"
	"  db: {kind: database, replicas: 2, replication: %s,\n"
	"       replication_lag: {dist: exponential, mean: 20ms}, connections: 64,\n"
	"       read_time: 1ms, write_time: 2ms, failover: {detection: 1s}}\n"
	"faults:\n"
	"  - {kind: crash, component: db, instances: [0], at: 5s}\n";

START_TEST(coord_quorum_failover_loses_nothing_acknowledged)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml, quorum_failover_yaml,
	         _i ? "async" : "quorum, write_quorum: 2, read_quorum: 2");
	ck_assert_double_eq(run_text(yaml, "invariants.leader_changes"), 1);
	double lost = run_text(yaml, "invariants.lost_writes");
	if (_i)
		ck_assert_double_gt(lost, 5);
	else
		ck_assert_double_eq(lost, 0);
	ck_assert_double_eq(run_text(yaml, "invariants.stale_reads"), 0);
}
END_TEST

/* Split brain by hand: 100 writes/s, evenly spaced, from zone a to a
 * primary in a; a partition cuts the replica's zone b off from 20s to 50s,
 * and the replica is promoted at 25s (detection 5s). The old primary
 * acknowledged the writes of [20s, 25s) that never reached the replica
 * (500, lost at the promotion), then those of [25s, 55s) alone (3000
 * conflicting writes), until the check at 50s finds the partition healed
 * and it learns of the new primary at 55s: its resync drops them, so they
 * are lost too, 3500 in all. Before, only the 500 were counted. Fencing
 * refuses the 3000 instead: 500 lost. With a 40s warm-up, only what
 * happens after it counts: the promotion is not, and of the writes
 * acknowledged alone, those of [40s, 55s). Under sync or quorum
 * replication the old primary acknowledges nothing its replica does not
 * hold: the writes of [20s, 25s) wait for the cut-off replica, and those
 * of [25s, 55s) for acknowledgements from a replica that follows the new
 * primary; all 3500 time out, none is conflicting or lost. (It answered
 * them OK before: 3000 conflicting, 3500 lost.) A run that ends at 40s,
 * the partition still on and the old primary still believing it leads,
 * counts the 1500 writes it acknowledged alone by then as lost with the
 * 500: they are on a branch the new primary's history will never hold
 * (before, they were left out: 500 lost). */
static const char split_hand_yaml[] =
	"duration: %s\n"
	"warmup: %s\n"
	"zones: [a, b]\n"
	"components:\n"
	"  u: {kind: client, rate: 100/s, arrivals: constant, mix: {write: 1},\n"
	"      keys: {count: 1000}, timeout: 200ms, zone: a, target: db}\n"
	"  db: {kind: database, zones: [a, b], replicas: 1, replication: %s,\n"
	"       replication_lag: 10ms, connections: 32, read_time: 2ms, write_time: 4ms,\n"
	"       failover: {detection: 5s, fencing: %s}}\n"
	"faults:\n"
	"  - {kind: partition, between: [[a], [b]], at: 20s%s}\n";
static const struct {
	const char *duration, *warmup, *replication, *fencing;
	const char *ends; /* the partition's `for`, or "" for the rest of the run */
	double conflicting, lost, fenced, timeouts;
} split_hand_cases[] = {
	{"80s", "5s", "async", "false", ", for: 30s", 3000, 3500, 0, 0},
	{"80s", "5s", "async", "true", ", for: 30s", 0, 500, 3000, 0},
	{"80s", "40s", "async", "false", ", for: 30s", 1500, 1500, 0, 0},
	{"80s", "40s", "async", "true", ", for: 30s", 0, 0, 1500, 0},
	{"80s", "5s", "sync", "false", ", for: 30s", 0, 0, 0, 3500},
	{"80s", "5s", "quorum, write_quorum: 2", "false", ", for: 30s", 0, 0, 0, 3500},
	{"40s", "5s", "async", "false", "", 1500, 2000, 0, 0},
};

/* stalled_s counts the time no node can commit, partitions included: three
 * nodes in three zones, a partition from 5s to 15s. Into three minorities
 * ([a], [b], [c]), no node reaches a majority: 10s stalled. Cutting one
 * zone off ([a], [b, c]) leaves b and c a majority: no stall. Either way
 * the client's probes from zone a fail for those 10s (node a cannot
 * commit, b and c are beyond the partition): availability 0.5. Before,
 * only nodes down counted: 0s for both. */
static const char stall_partition_yaml[] =
	"duration: 20s\n"
	"zones: [a, b, c]\n"
	"components:\n"
	"  u: {kind: client, rate: 100/s, arrivals: constant, timeout: 100ms, zone: a,\n"
	"      target: coord}\n"
	"  coord: {kind: coordinator, nodes: 3, zones: [a, b, c]}\n"
	"faults:\n"
	"  - {kind: partition, between: %s, at: 5s, for: 10s}\n";

START_TEST(coord_stall_counts_partitions)
{
	static const struct {
		const char *between;
		double stalled;
	} cases[] = {{"[[a], [b], [c]]", 10}, {"[[a], [b, c]]", 0}};
	char yaml[1024];
	snprintf(yaml, sizeof yaml, stall_partition_yaml, cases[_i].between);
	ck_assert_double_eq_tol(run_text(yaml, "components.coord.stalled_s"), cases[_i].stalled,
	                        1e-9);
	ck_assert_double_eq_tol(run_text(yaml, "availability"), 0.5, 1e-9);
}
END_TEST

START_TEST(coord_split_brain_loses_what_the_old_primary_acknowledged)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml, split_hand_yaml, split_hand_cases[_i].duration,
	         split_hand_cases[_i].warmup, split_hand_cases[_i].replication,
	         split_hand_cases[_i].fencing, split_hand_cases[_i].ends);
	ck_assert_double_eq(run_text(yaml, "invariants.conflicting_writes"),
	                    split_hand_cases[_i].conflicting);
	ck_assert_double_eq(run_text(yaml, "invariants.lost_writes"), split_hand_cases[_i].lost);
	ck_assert_double_eq(run_text(yaml, "components.db.lost_writes"), split_hand_cases[_i].lost);
	ck_assert_double_eq(run_text(yaml, "components.db.fenced_writes"),
	                    split_hand_cases[_i].fenced);
	ck_assert_double_eq(run_text(yaml, "failures.timeout"), split_hand_cases[_i].timeouts);
}
END_TEST

/* A deposed primary promoted again before it learns of its successor.
 * 100 writes/s, evenly spaced. The primary (0) crashes at 1s and the
 * replica (1) is promoted at 2s; 1 crashes at 2.5s; 0 is back at 3s,
 * believing it leads (until it would learn of 1, at 4s), and at 3.5s the
 * cluster manager promotes it, the only instance up. It must then lead
 * for the rest of the run: writes unavailable for [1s, 2s) and [2.5s,
 * 3.5s) only. Before, its demotion timer still fired at 4s and the primary
 * stopped believing it led, with no one to replace it: writes unavailable
 * for 18s of the 20, availability 0.1. */
START_TEST(coord_repromoted_primary_keeps_the_lead)
{
	static const char yaml[] =
		"duration: 20s\n"
		"components:\n"
		"  u: {kind: client, rate: 100/s, arrivals: constant, mix: {write: 1},\n"
		"      keys: {count: 1000}, timeout: 200ms, target: db}\n"
		"  db: {kind: database, replicas: 1, replication_lag: 10ms, read_time: 2ms,\n"
		"       write_time: 4ms, failover: {detection: 1s}}\n"
		"faults:\n"
		"  - {kind: crash, component: db, instances: [0], at: 1s, for: 2s}\n"
		"  - {kind: crash, component: db, instances: [1], at: 2500ms}\n";
	ck_assert_double_eq(run_text(yaml, "invariants.leader_changes"), 2);
	ck_assert_double_eq(run_text(yaml, "components.db.primary"), 0);
	ck_assert_double_eq(run_text(yaml, "components.db.write_unavailable_s"), 2);
	ck_assert_double_eq(run_text(yaml, "failures.unreachable"), 200);
	ck_assert_double_eq(run_text(yaml, "availability"), 0.9);
}
END_TEST

/* The only replica is down (4s to 12s) when the primary crashes (5s to
 * 10s): detection (1s) finds no one to promote, and the primary comes back
 * and leads on. The replica, back at 12s, must not then be promoted in its
 * place: before, it was (the cluster manager still waited for a leader),
 * losing the 1481 writes it had missed in its 8s down and leaving the old
 * primary believing it led beside it for a second. */
START_TEST(coord_primary_back_first_keeps_the_lead)
{
	static const char yaml[] =
		"duration: 30s\n"
		"seed: 3\n"
		"components:\n"
		"  u: {kind: client, rate: 1000/s, mix: {read: 0.5, write: 0.5}, keys: {count: 1000},\n"
		"     timeout: 500ms, target: db}\n"
		"  db: {kind: database, replicas: 1, replication_lag: 20ms, connections: 64,\n"
		"       read_time: 1ms, write_time: 2ms, failover: {detection: 1s}}\n"
		"faults:\n"
		"  - {kind: crash, component: db, instances: [1], at: 4s, for: 8s}\n"
		"  - {kind: crash, component: db, instances: [0], at: 5s, for: 5s}\n";
	ck_assert_double_eq(run_text(yaml, "invariants.leader_changes"), 0);
	ck_assert_double_eq(run_text(yaml, "invariants.lost_writes"), 0);
	ck_assert_double_eq(run_text(yaml, "invariants.two_leader_s"), 0);
	ck_assert_double_eq(run_text(yaml, "components.db.primary"), 0);
	ck_assert_double_eq(run_text(yaml, "components.db.write_unavailable_s"), 5);
}
END_TEST

/* replay_time: a replica down for 2 s holds the writes that land (about
 * 200 at 100/s); back, it replays them 5 ms each, about a second of catching
 * up during which new writes wait behind them. Without it, it takes them all
 * at once. */
static const char replay_yaml[] =
	"duration: 20s\n"
	"components:\n"
	"  w: {kind: client, rate: 100/s, mix: {write: 1}, keys: {count: 1000}, target: db}\n"
	"  db: {kind: database, replicas: 1, replication: async, read_time: 1ms, write_time: 1ms%s}\n"
	"faults:\n"
	"  - {kind: crash, component: db, instances: [1], at: 5s, for: 2s}\n";

START_TEST(coord_replay_catches_up_after_crash)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml, replay_yaml, ", replay_time: 5ms");
	double most = run_text(yaml, "components.db.replay_backlog_max");
	double end = run_text(yaml, "components.db.replay_backlog_end");
	double mean = run_text(yaml, "components.db.replication_lag_ms.mean");
	double p50 = run_text(yaml, "components.db.replication_lag_ms.p50");
	snprintf(yaml, sizeof yaml, replay_yaml, "");
	double mean0 = run_text(yaml, "components.db.replication_lag_ms.mean");
	ck_assert_double_eq(run_text(yaml, "components.db.replay_backlog_max"), -1);
	/* The writes of the 2 s down (Poisson, mean 200). */
	ck_assert(most >= 150 && most <= 260);
	ck_assert(end <= 5);
	/* Normally a write waits for its own replay, 5 ms and a little queue. */
	ck_assert(p50 >= 5 && p50 < 10);
	/* The held writes wait 2 s either way; with replay, the catching up
	 * adds to them and to the writes behind them. */
	ck_assert(mean0 > 60 && mean0 < 150);
	ck_assert(mean > 1.5 * mean0);
}
END_TEST

/* A partition cuts zone a (the primary and coordinator node 0) off from
 * zones b and c (the replica, nodes 1 and 2) from 5.5s to 15.5s. Node 0, in
 * a minority, cannot commit: the primary's renewal at 6s gets no answer, its
 * lease (last asked for at 5s) lapses at 8s by its clock and at 8.002s by the
 * coordinator's, and the replica, campaigning on its tick at 9s, is granted
 * the lease by node 1 at 9.002s: writes unavailable for 1.002s. Users in
 * zone c only (case 0), or also in zone a (case 1), whose writes leave the
 * cut-off primary ahead of the replica: the replica cannot reach it, and
 * campaigns all the same; those writes are lost. The old coordinator let
 * node 0 renew the lease through the partition (no failover, case 0); the
 * old campaign deferred to the more caught-up primary beyond the partition
 * (no leader on either side for the whole partition, case 1). */
static const char part_yaml[] =
	"duration: 20s\n"
	"warmup: 1s\n"
	"zones: [a, b, c]\n"
	"components:\n"
	"  uc: {kind: client, rate: 50/s, mix: {write: 1}, keys: {count: 1000}, zone: c,\n"
	"       target: db}\n"
	"%s"
	"  coord: {kind: coordinator, nodes: 3, zones: [a, b, c], commit_time: 2ms}\n"
	"  db: {kind: database, zones: [a, b], replicas: 1, replication: async,\n"
	"       replication_lag: 1ms, read_time: 1ms, write_time: 1ms,\n"
	"       leadership: {coordinator: coord, lease_ttl: 3s, renew_every: 1s}}\n"
	"faults:\n"
	"  - {kind: partition, between: [[a], [b, c]], at: 5500ms, for: 10s}\n";

START_TEST(coord_partition_moves_the_lease)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml, part_yaml,
	         _i ? "  ua: {kind: client, rate: 50/s, mix: {write: 1}, keys: {count: 1000},\n"
	              "       zone: a, target: db}\n"
	            : "");
	ck_assert_double_eq(run_text(yaml, "invariants.leader_changes"), 1);
	ck_assert_double_eq(run_text(yaml, "components.db.primary"), 1);
	ck_assert_double_eq_tol(run_text(yaml, "components.db.write_unavailable_s"), 1.002, 1e-9);
	ck_assert_double_eq(run_text(yaml, "invariants.two_leader_s"), 0);
	/* ua's writes in [5.5s, 8s): 125 on average. */
	double lost = run_text(yaml, "invariants.lost_writes");
	if (_i)
		ck_assert(lost >= 80 && lost <= 170);
	else
		ck_assert_double_eq(lost, 0);
}
END_TEST

/* A lone primary (zone a) renews a 2.5s lease every 1s from a coordinator
 * in zone b; a partition cuts them apart from 5.5s to 8.5s. Its lease, last
 * asked for at 5s, lapses at 7.5s by its clock; the requests of 6s, 7s and
 * 8s are lost. At 9s the request of 8s has waited its whole interval: the
 * tick gives it up and asks again, granted at 9.002s, so writes are
 * unavailable for 1.502s. The old tick found that request still pending
 * (its timeout, due at the same instant, was scheduled after the tick) and
 * skipped: asked again only at 10s, 2.502s. */
START_TEST(coord_lost_renewal_asked_again_next_tick)
{
	const char *yaml = "duration: 20s\n"
	                   "warmup: 1s\n"
	                   "zones: [a, b]\n"
	                   "components:\n"
	                   "  u: {kind: client, rate: 50/s, mix: {write: 1}, keys: {count: 1000},\n"
	                   "      zone: a, target: db}\n"
	                   "  coord: {kind: coordinator, nodes: 1, zone: b, commit_time: 2ms}\n"
	                   "  db: {kind: database, zone: a, read_time: 1ms, write_time: 1ms,\n"
	                   "       leadership: {coordinator: coord, lease_ttl: 2500ms, renew_every: 1s}}\n"
	                   "faults:\n"
	                   "  - {kind: partition, between: [[a], [b]], at: 5500ms, for: 3s}\n";
	ck_assert_double_eq_tol(run_text(yaml, "components.db.write_unavailable_s"), 1.502, 1e-9);
	ck_assert_double_eq(run_text(yaml, "invariants.leader_changes"), 0);
}
END_TEST

/* One coordinator node of three crashes for good at 5s: the two others keep
 * a majority, so nothing that needs a grant should stop. The primary asks
 * node 0 (its index modulo the nodes); its renewal of 5s goes unanswered,
 * and the one of 5.5s goes to node 1 and is granted, long before its 2s
 * lease lapses. Workers' tasks whose lock request went to node 0 ask node 1
 * after the lock timeout (300ms), well within their caller's 2s. Before,
 * each caller kept asking the crashed node: the primary lost its lease to
 * the replica (1 leader change, writes unavailable 0.5s), and a third of
 * the tasks waited for their caller to give up (availability 0.747). */
static const char one_node_yaml[] =
	"duration: 20s\n"
	"warmup: 2s\n"
	"zones: [a, b, c]\n"
	"components:\n"
	"  u: {kind: client, rate: 50/s, mix: {write: 1}, keys: {count: 1000}, zone: a, target: db}\n"
	"  jobs: {kind: client, rate: 20/s, keys: {count: 1000}, mix: {write: 1}, timeout: 2s,\n"
	"         zone: a, target: w}\n"
	"  w: {kind: worker, zone: a, concurrency: 32, service_time: 20ms, target: store,\n"
	"      lock: {coordinator: coord, ttl: 5s, timeout: 300ms}}\n"
	"  store: {kind: database, zone: a, read_time: 1ms, write_time: 1ms}\n"
	"  coord: {kind: coordinator, nodes: 3, zones: [a, b, c], commit_time: 2ms}\n"
	"  db: {kind: database, zones: [a, b], replicas: 1, read_time: 1ms, write_time: 1ms,\n"
	"       leadership: {coordinator: coord, lease_ttl: 2s, renew_every: 500ms}}\n"
	"faults:\n"
	"  - {kind: crash, component: coord, instances: [0], at: 5s}\n";

START_TEST(coord_one_node_down_changes_nothing)
{
	ck_assert_double_eq(run_text(one_node_yaml, "invariants.leader_changes"), 0);
	ck_assert_double_eq(run_text(one_node_yaml, "components.db.write_unavailable_s"), 0);
	ck_assert_double_eq(run_text(one_node_yaml, "components.jobs.availability"), 1);
	ck_assert_double_gt(run_text(one_node_yaml, "components.w.lock_timeouts"), 0);
}
END_TEST

/* A client calls a worker directly with a 10ms timeout; the worker takes
 * 20ms, so every attempt times out but each completes and writes. Without
 * retries each request is applied once: no duplicate (the old count, by
 * completions the caller had given up on, said one per request). With one
 * retry each request is applied twice: one duplicate per request. */
static const char direct_worker_yaml[] =
	"duration: 20s\n"
	"warmup: 0s\n"
	"components:\n"
	"  u: {kind: client, rate: 10/s, mix: {write: 1}, keys: {count: 100}, timeout: 10ms,\n"
	"      %s target: w}\n"
	"  w: {kind: worker, concurrency: 8, service_time: 20ms, target: db}\n"
	"  db: {kind: database, read_time: 1ms, write_time: 1ms}\n";

START_TEST(coord_worker_duplicates_are_repeats)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml, direct_worker_yaml, _i ? "retries: {max: 1, base: 1ms}," : "");
	double processed = run_text(yaml, "components.w.processed");
	double dups = run_text(yaml, "components.w.duplicates");
	ck_assert_double_gt(processed, 150);
	ck_assert_double_eq(dups, _i ? processed / 2 : 0);
	ck_assert_double_eq(run_text(yaml, "invariants.duplicate_writes"), dups);
}
END_TEST

/* Redeliveries into a store that deduplicates them. Four worker threads
 * (prefetch 4) take 5ms on average (exponential) per message before writing
 * it to the database, and the queue's ack timeout is 10ms: about one
 * delivery in seven (e^-2) is abandoned while in progress and delivered
 * again, and both deliveries write (375 repeats of 2177 completions after
 * the 2s warm-up). Without idempotency each repeat lands: the worker counts
 * it as a duplicate (as it did before), as many as the queue's
 * redeliveries up to the deliveries in progress at either end of the
 * measured window (at most the prefetch of 4 at each). With
 * `idempotency: true` the database recognises the message id from the
 * worker and does not apply it again, and says so in its answer: the
 * worker counts no duplicate (375 before, a false alarm), the run no
 * duplicate write, and the database counts the repeats it absorbed as
 * deduplicated. It counts by a write's arrival and the worker by its
 * completion, 1ms later: a repeat written in the last millisecond of the
 * warm-up would be counted by one only. */
static const char dedup_store_yaml[] =
	"duration: 20s\n"
	"warmup: 2s\n"
	"components:\n"
	"  p: {kind: client, rate: 100/s, mix: {write: 1}, keys: {count: 1000}, target: q}\n"
	"  q: {kind: queue, consumers: w, prefetch: 4, ack_timeout: 10ms}\n"
	"  w: {kind: worker, concurrency: 4, service_time: {dist: exponential, mean: 5ms},\n"
	"      target: db}\n"
	"  db: {kind: database, read_time: 1ms, write_time: 1ms, idempotency: %s}\n";

START_TEST(coord_worker_repeats_deduplicated_by_store)
{
	char plain[512], idem[512];
	snprintf(plain, sizeof plain, dedup_store_yaml, "false");
	snprintf(idem, sizeof idem, dedup_store_yaml, "true");
	double repeats = run_text(plain, "components.w.duplicates");
	double redelivered = run_text(plain, "components.q.redelivered");
	ck_assert_double_gt(repeats, 300);
	ck_assert_double_le(fabs(repeats - redelivered), 8);
	ck_assert_double_eq(run_text(plain, "invariants.duplicate_writes"), repeats);
	ck_assert_double_eq(run_text(plain, "components.db.deduplicated"), 0);
	/* The same trajectory: a deduplicated write is answered when it
	 * would have committed. */
	ck_assert_double_eq(run_text(idem, "components.w.processed"),
	                    run_text(plain, "components.w.processed"));
	ck_assert_double_eq(run_text(idem, "components.w.duplicates"), 0);
	ck_assert_double_eq(run_text(idem, "invariants.duplicate_writes"), 0);
	ck_assert_double_le(fabs(run_text(idem, "components.db.deduplicated") - repeats), 2);
}
END_TEST

/* Worker locks: two workers share 5 keys through a coordinator with a 1s
 * TTL. Worker 0 crashes holding locks (leaks: the TTL frees each at most 1s
 * later); worker 1 is paused for 3s, its locks expire and worker 0 takes
 * them; its late writes after the pause conflict, unless fencing refuses
 * them. */
static const char lock_yaml[] =
	"duration: 20s\n"
	"components:\n"
	"  jobs: {kind: client, rate: 200/s, keys: {count: 5}, mix: {write: 1}, timeout: 2s,\n"
	"         target: w}\n"
	"  w: {kind: worker, instances: 2, concurrency: 4, service_time: 20ms, target: db,\n"
	"      idempotent: true, lock: {coordinator: co, ttl: 1s, fencing: %s}}\n"
	"  co: {kind: coordinator, nodes: 3}\n"
	"  db: {kind: database, read_time: 1ms, write_time: 1ms}\n"
	"faults:\n"
	"  - {kind: crash, component: w, instances: [0], at: 5s, for: 1s}\n"
	"  - {kind: pause, component: w, instances: [1], at: 10s, for: 3s}\n";

START_TEST(coord_worker_locks)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml, lock_yaml, _i ? "true" : "false");
	double leaks = run_text(yaml, "invariants.lock_leaks");
	double leak_s = run_text(yaml, "invariants.lock_leak_s");
	double conflicting = run_text(yaml, "invariants.conflicting_writes");
	double fenced = run_text(yaml, "components.db.lock_fenced_writes");
	ck_assert_double_gt(leaks, 0);
	ck_assert_double_le(leak_s, leaks * 1.0 + 1e-9); /* each at most the TTL */
	ck_assert_double_gt(leak_s, 0);
	if (_i) {
		ck_assert_double_eq(conflicting, 0);
		ck_assert_double_gt(fenced, 0);
	} else {
		ck_assert_double_gt(conflicting, 0);
		ck_assert_double_eq(fenced, 0);
	}
	ck_assert_double_gt(run_text(yaml, "components.w.lock_refusals"), 0);
}
END_TEST

/* A broker crash loses the messages it holds in memory (slow consumers
 * keep a backlog), unless the queue is durable. */
static const char queue_yaml[] =
	"duration: 20s\n"
	"components:\n"
	"  p: {kind: client, rate: 100/s, mix: {write: 1}, timeout: 1s, target: q}\n"
	"  q: {kind: queue, consumers: w, durable: %s}\n"
	"  w: {kind: worker, concurrency: 1, service_time: 5ms, idempotent: true}\n"
	"faults:\n"
	"  - {kind: consumer_stall, component: q, at: 2s, for: 3s}\n"
	"  - {kind: crash, component: q, at: 4s, for: 1s}\n";

START_TEST(coord_queue_crash_durable)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml, queue_yaml, _i ? "true" : "false");
	double lost = run_text(yaml, "invariants.lost_writes");
	if (_i)
		ck_assert_double_eq(lost, 0);
	else
		ck_assert_double_ge(lost, 150); /* 2s of a stalled backlog at 100/s */
	/* The stall and the outage drain: nothing is left at the end. */
	ck_assert_double_lt(run_text(yaml, "components.q.backlog_end"), 10);
	ck_assert_double_gt(run_text(yaml, "components.q.dropped"), 50);
}
END_TEST

/* A message out at a consumer when a non-durable broker crashes leaves the
 * broker's store with the crash: it is no longer backlog, and its age no
 * longer counts as lag. One message at 0s, taken by a worker busy for 30s
 * once the consumer group has formed (3s); the broker crashes at 5s.
 * Before, it stayed stored until its 60s ack timeout: backlog_end 1 and a
 * lag reaching 10s at the end of the run. */
START_TEST(coord_queue_crash_forgets_messages_out)
{
	static const char yaml[] =
		"duration: 10s\n"
		"components:\n"
		"  p: {kind: client, rate: 1/s, arrivals: constant, requests: 1, mix: {write: 1},\n"
		"     target: q}\n"
		"  q: {kind: queue, consumers: w, ack_timeout: 60s}\n"
		"  w: {kind: worker, concurrency: 1, service_time: 30s}\n"
		"faults:\n"
		"  - {kind: crash, component: q, at: 5s, for: 1s}\n";
	ck_assert_double_eq(run_text(yaml, "components.q.backlog_end"), 0);
	ck_assert_double_le(run_text(yaml, "components.q.lag_ms_max"), 5000);
	ck_assert_double_eq(run_text(yaml, "invariants.lost_writes"), 0);
}
END_TEST

/* A paused database serves nothing: callers with a 100ms timeout fail for
 * the pause and recover after it. */
START_TEST(coord_database_pause)
{
	static const char yaml[] =
		"duration: 10s\n"
		"components:\n"
		"  u: {kind: client, rate: 100/s, mix: {read: 0.5, write: 0.5}, timeout: 100ms,\n"
		"     target: db}\n"
		"  db: {kind: database, replicas: 1, read_time: 1ms, write_time: 1ms}\n"
		"faults:\n"
		"  - {kind: pause, component: db, at: 2s, for: 2s}\n"
		"  - {kind: replication_pause, component: db, instances: [1], at: 5s, for: 2s}\n";
	double timeouts = run_text(yaml, "failures.timeout");
	ck_assert_double_gt(timeouts, 150);
	ck_assert_double_lt(timeouts, 250);
	ck_assert_double_ge(run_text(yaml, "components.db.replication_lag_ms.max"), 1900);
}
END_TEST

/* The coordinator counts a lease that lapses without a release as a TTL
 * expiry when its entry is reused; the locks worker 0 held when it crashed
 * at 18s lapse by 19s, and with a million keys their entries are rarely
 * reused before the end at 20s. Each is a lapse all the same: ttl_expiries
 * equals lock_leaks (no other lock lapses: the others are all released).
 * The old count missed those never reused (0 of the leaks here). */
static const char lapse_yaml[] =
	"duration: 20s\n"
	"components:\n"
	"  jobs: {kind: client, rate: 300/s, keys: {count: 1000000}, mix: {write: 1},\n"
	"         timeout: 2s, target: w}\n"
	"  w: {kind: worker, instances: 2, concurrency: 8, service_time: 30ms, target: db,\n"
	"      idempotent: true, lock: {coordinator: co, ttl: 1s}}\n"
	"  co: {kind: coordinator, nodes: 3, slots: 1000000}\n"
	"  db: {kind: database, read_time: 1ms, write_time: 1ms}\n"
	"faults:\n"
	"  - {kind: crash, component: w, instances: [0], at: 18s}\n";

START_TEST(coord_lapsed_leases_counted_at_end)
{
	double leaks = run_text(lapse_yaml, "invariants.lock_leaks");
	ck_assert_double_gt(leaks, 0);
	ck_assert_double_eq(run_text(lapse_yaml, "components.co.ttl_expiries"), leaks);
}
END_TEST

static Suite *coord_suite(void)
{
	Suite *s = suite_create("coord");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, coord_failover_loses_lag_window, 0, 2);
	tcase_add_loop_test(tc, coord_quorum_failover_loses_nothing_acknowledged, 0, 2);
	tcase_add_test(tc, coord_primary_back_first_keeps_the_lead);
	tcase_add_test(tc, coord_repromoted_primary_keeps_the_lead);
	tcase_add_loop_test(tc, coord_primary_back_replicas_catch_up, 0, 2);
	tcase_add_test(tc, coord_primary_utilization_follows_failover);
	tcase_add_loop_test(tc, coord_down_replica_and_write_acks, 0, 2);
	tcase_add_loop_test(tc, coord_split_brain_and_fencing, 0, 2);
	tcase_add_loop_test(tc, coord_split_brain_loses_what_the_old_primary_acknowledged, 0, 7);
	tcase_add_loop_test(tc, coord_stall_counts_partitions, 0, 2);
	tcase_add_test(tc, coord_majority_loss_stops_grants);
	tcase_add_loop_test(tc, coord_lease_clock_skew, 0, 2);
	tcase_add_loop_test(tc, coord_lease_clock_offset_harmless, 0, 2);
	tcase_add_test(tc, coord_lease_clock_skews_add_up);
	tcase_add_test(tc, coord_lost_renewal_asked_again_next_tick);
	tcase_add_test(tc, coord_one_node_down_changes_nothing);
	tcase_add_loop_test(tc, coord_worker_duplicates_are_repeats, 0, 2);
	tcase_add_test(tc, coord_worker_repeats_deduplicated_by_store);
	tcase_add_loop_test(tc, coord_partition_moves_the_lease, 0, 2);
	tcase_add_loop_test(tc, coord_read_your_writes, 0, 2);
	tcase_add_test(tc, coord_read_your_writes_per_user);
	tcase_add_loop_test(tc, coord_idempotency_keys, 0, 2);
	tcase_add_test(tc, coord_config_errors);
	tcase_add_test(tc, coord_replay_catches_up_after_crash);
	tcase_add_loop_test(tc, coord_worker_locks, 0, 2);
	tcase_add_test(tc, coord_lapsed_leases_counted_at_end);
	tcase_add_loop_test(tc, coord_queue_crash_durable, 0, 2);
	tcase_add_test(tc, coord_queue_crash_forgets_messages_out);
	tcase_add_test(tc, coord_database_pause);
	tcase_add_loop_test(tc, coord_failure_pairs, 0, (int)(sizeof pairs / sizeof pairs[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(coord_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
