/* A database's failover on a scripted timeline of requests and faults
 * (coord_rig.h): writes lost in the replication lag or kept by a quorum, a
 * primary that comes back, replicas that catch up (replay), split brain and
 * fencing, a paused database. The cases keep the coord_ names they had in
 * test_coord.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/kernel.h"
#include "archsim/results.h"
#include "coord_rig.h"

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

static Suite *failover_suite(void)
{
	Suite *s = suite_create("failover");
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
	tcase_add_test(tc, coord_replay_catches_up_after_crash);
	tcase_add_test(tc, coord_database_pause);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(failover_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
