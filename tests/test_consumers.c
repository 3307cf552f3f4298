/* A queue's consumer group under faults: sessions that expire or are cut by
 * a partition, rebalances (eager and cooperative, static membership, the
 * group's forming at time 0), their diagnostics, and a durable broker's
 * restart, each on a small scenario run whole, with exact expectations.
 * The cases keep the faults_queue_ names they had in test_faults.c. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "scenario_run.h"
#include "series.h"

/* With `session_timeout: 0s` the queue stops delivering to a consumer
 * instance as soon as it crashes, or its zone is lost, hands its partitions
 * to the other instance, delivers what it held again at once, and gives
 * them back when it returns (the default 10 s session is tested below,
 * faults_queue_session_expires). The session tests set `rebalance_time:
 * 0s`, so that the group's assignment follows its membership at once:
 * faults_queue_rebalance_pauses_the_group tests the pause. One message
 * every 100 ms, all for one key (partition 0, instance 0), 10 ms of work;
 * instance 0 goes down 5 ms into a message's work for 10 s, then instance 1
 * for 10 s once instance 0 is back. The message caught at the first fault
 * is delivered again at once (15 ms old when acked: lag_ms_max), instance 1
 * takes the partition meanwhile, and instance 0 has it back when instance 1
 * goes down idle (one redelivery in all). Lag is 10 ms per message, 15 for
 * the one: its time average is (599 x 10^2 + 15^2) / 2 over 60000 ms. The
 * old code kept sending the partition to instance 0: after a crash each
 * message waited out the 30 s ack timeout (lag_ms_max 30010). */
static const char *const consumer_down[][2] = {
	{"{kind: crash, component: w, instances: [0], at: 10005ms, for: 10s}",
	 "{kind: crash, component: w, instances: [1], at: 25005ms, for: 10s}"},
	{"{kind: zone_loss, zone: a, at: 10005ms, for: 10s}",
	 "{kind: zone_loss, zone: b, at: 25005ms, for: 10s}"},
};

START_TEST(faults_queue_skips_down_consumer)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "duration: 60s\n"
	         "zones: [a, b, c]\n"
	         "components:\n"
	         "  to_q: {kind: client, zone: c, rate: 10/s, arrivals: constant, target: q}\n"
	         "  q: {kind: queue, zone: c, consumers: w, session_timeout: 0s, rebalance_time: 0s}\n"
	         "  w: {kind: worker, instances: 2, zones: [a, b], service_time: 10ms}\n"
	         "faults:\n"
	         "  - %s\n"
	         "  - %s\n",
	         consumer_down[_i][0], consumer_down[_i][1]);
	struct asim_results *r = run(text, NULL);
	ck_assert_msg(figure(r, "components.q.lag_ms_max") == 15, "lag_ms_max %g",
	              figure(r, "components.q.lag_ms_max"));
	double lag = figure(r, "components.q.lag_ms_mean");
	ck_assert_msg(fabs(lag - (599 * 100 + 225) / 2.0 / 60000) < 1e-5, "lag_ms_mean %g", lag);
	ck_assert(figure(r, "components.q.redelivered") == 1);
	ck_assert(figure(r, "components.q.ack_timeouts") == 0);
	ck_assert(figure(r, "components.q.produced") == 601);
	ck_assert(figure(r, "components.q.acked") == 600);
	ck_assert(figure(r, "components.q.backlog_end") == 1);
	ck_assert(figure(r, "components.w.processed") == 600);
	ck_assert(figure(r, "components.w.duplicates") == 0);
	ck_assert(figure(r, "components.q.sessions_expired") == 2);
	ck_assert(figure(r, "components.q.rebalances") == 0);
	done(r);
}
END_TEST

/* The broker learns that a consumer instance is gone only when its session
 * expires: after `session_timeout` (default 10 s) of the instance down. One
 * message every 100 ms, all for partition 0 (instance 0), 10 ms of work;
 * instance 0 crashes 5 ms into a message's work, for 30 s. The message it
 * held waits for the expiry, and so do the 100 that arrive meanwhile (its
 * one prefetch slot is taken by the lost delivery); at the expiry instance
 * 1 takes the partition, the held message first: it is acked 10 s + 15 ms
 * after it arrived, with 101 messages stored. With `session_timeout: 0s`,
 * as the old code did for every crash, it is acked after 15 ms, with 1
 * stored. With 45 s (and a 1 m ack timeout, which does not fire first) the
 * instance is back after 30 s, before its session
 * expires: a new process, whose new session ends the old one, so what the
 * old one held is delivered again at once (acked after 30 s + 15 ms) and no
 * session expires; the 300 messages of the outage waited for it. Crashed
 * idle, 50 ms after a message, the instance refuses the next delivery: a
 * lost delivery to the broker, which holds the slot until the expiry (the
 * message is acked 9950 ms + 10 ms after it arrived, 100 stored). Taken as
 * a nack it freed the slot, and each of the next messages was refused in
 * turn and hidden for its 30 s ack timeout. */
static const struct {
	const char *at, *session; /* the crash; the queue's session_timeout key, or "" */
	double lag_max, backlog_max, expired;
} sessions[] = {
	{"10005ms", "", 10015, 101, 1},
	{"10005ms", ", session_timeout: 10s", 10015, 101, 1},
	{"10005ms", ", session_timeout: 0s", 15, 1, 1},
	{"10005ms", ", session_timeout: 45s, ack_timeout: 1m", 30015, 301, 0},
	{"10050ms", "", 9960, 100, 1},
};

START_TEST(faults_queue_session_expires)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "duration: 60s\n"
	         "components:\n"
	         "  to_q: {kind: client, rate: 10/s, arrivals: constant, target: q}\n"
	         "  q: {kind: queue, consumers: w, rebalance_time: 0s%s}\n"
	         "  w: {kind: worker, instances: 2, service_time: 10ms}\n"
	         "faults:\n"
	         "  - {kind: crash, component: w, instances: [0], at: %s, for: 30s}\n",
	         sessions[_i].session, sessions[_i].at);
	struct asim_results *r = run(text, NULL);
	double lag = figure(r, "components.q.lag_ms_max");
	ck_assert_msg(lag == sessions[_i].lag_max, "%s: lag_ms_max %g", sessions[_i].session, lag);
	double backlog = figure(r, "components.q.backlog_max");
	ck_assert_msg(backlog == sessions[_i].backlog_max, "%s: backlog_max %g",
	              sessions[_i].session, backlog);
	ck_assert(figure(r, "components.q.sessions_expired") == sessions[_i].expired);
	ck_assert(figure(r, "components.q.redelivered") == 1);
	ck_assert(figure(r, "components.q.ack_timeouts") == 0);
	ck_assert(figure(r, "components.q.produced") == 601);
	ck_assert(figure(r, "components.q.acked") == 600);
	ck_assert(figure(r, "components.w.duplicates") == 0);
	done(r);
}
END_TEST

/* A session timeout and a rebalance time are durations from 0s (at once)
 * to a day; a rebalance protocol is eager or cooperative; static
 * membership is true or false. */
static const struct {
	const char *value, *diag;
} bad_sessions[] = {
	{"-1s", "t.yaml:3:51: error: 'session_timeout' must not be negative, got '-1s'"},
	{"2d", "t.yaml:3:51: error: 'session_timeout' must be at most 1d, got '2d'"},
	{"10", "t.yaml:3:51: error: expected a duration with a unit (e.g. 250ms) for 'session_timeout', got '10'"},
}, bad_rebalances[] = {
	{"-3s", "t.yaml:3:50: error: 'rebalance_time' must not be negative, got '-3s'"},
	{"25h", "t.yaml:3:50: error: 'rebalance_time' must be at most 1d, got '25h'"},
	{"3", "t.yaml:3:50: error: expected a duration with a unit (e.g. 250ms) for 'rebalance_time', got '3'"},
	{"[3s]", "t.yaml:3:50: error: expected a duration (e.g. 250ms) for 'rebalance_time', got a list"},
}, bad_protocols[] = {
	{"incremental", "t.yaml:3:54: error: expected one of eager, cooperative for 'rebalance_protocol', got 'incremental'"},
	{"[eager]", "t.yaml:3:54: error: expected one of eager, cooperative for 'rebalance_protocol', got a list"},
}, bad_initials[] = {
	{"sometimes", "t.yaml:3:53: error: expected true or false for 'initial_rebalance', got 'sometimes'"},
}, bad_statics[] = {
	{"maybe", "t.yaml:3:53: error: expected true or false for 'static_membership', got 'maybe'"},
	{"[true]", "t.yaml:3:53: error: expected true or false for 'static_membership', got a list"},
};

/* Loads a queue whose `key` is `value` and checks the first diagnostic. */
static void queue_key_diagnostic(const char *key, const char *value, const char *diag)
{
	char text[512], got[512];
	snprintf(text, sizeof text,
	         "duration: 10s\n"
	         "components:\n"
	         "  q: {kind: queue, consumers: w, %s: %s}\n"
	         "  w: {kind: worker, service_time: 10ms}\n",
	         key, value);
	struct asim_diag d;
	asim_diag_init(&d);
	struct asim_scenario *s = asim_scenario_load_buffer("t.yaml", text, strlen(text), NULL, &d);
	ck_assert_ptr_null(s);
	ck_assert_uint_ge(asim_diag_count(&d), 1);
	asim_diag_format(&d, 0, got, sizeof got);
	ck_assert_str_eq(got, diag);
	asim_diag_finish(&d);
}

START_TEST(faults_queue_session_timeout_diagnostics)
{
	queue_key_diagnostic("session_timeout", bad_sessions[_i].value, bad_sessions[_i].diag);
}
END_TEST

START_TEST(faults_queue_rebalance_time_diagnostics)
{
	queue_key_diagnostic("rebalance_time", bad_rebalances[_i].value, bad_rebalances[_i].diag);
}
END_TEST

START_TEST(faults_queue_rebalance_protocol_diagnostics)
{
	queue_key_diagnostic("rebalance_protocol", bad_protocols[_i].value, bad_protocols[_i].diag);
}
END_TEST

START_TEST(faults_queue_initial_rebalance_diagnostics)
{
	queue_key_diagnostic("initial_rebalance", bad_initials[_i].value, bad_initials[_i].diag);
}
END_TEST

START_TEST(faults_queue_static_membership_diagnostics)
{
	queue_key_diagnostic("static_membership", bad_statics[_i].value, bad_statics[_i].diag);
}
END_TEST

/* A partition that cuts a consumer instance off from the broker ends its
 * session after `session_timeout`, as a crash does. Broker in zone c,
 * instance 0 in zone a, instance 1 in zone b; one message every 100 ms for
 * partition 0, 10 ms of work; zone a is cut off from the others for 30 s
 * from 5 ms into a message's work. Instance 0 finishes it, but its ack is
 * lost; at the expiry, 10 s on, instance 1 takes the partition and the
 * message (acked 10 s + 15 ms after it arrived: a duplicate, done twice),
 * and instance 0 takes its partition back when the cut heals; 101 messages
 * were stored at the expiry. With `session_timeout: 0s` instance 1 takes
 * them at once (15 ms). A cut one way breaks the session too: from zone a
 * (the ack is lost) as both ways; towards it, the message is acked in
 * time, the next delivery is lost, and instance 1 takes it at the expiry,
 * 9915 ms after it arrived. A cut healed after 5 s, before the expiry,
 * leaves the session: the message waits out its 30 s ack timeout (acked
 * 30010 ms after it arrived, 301 stored). The old code never noticed a
 * cut: the partition waited for the message's 30 s ack timeout, whose
 * redelivery the 30 s cut lost again (lag 50 s at the end, 100 acked). */
static const struct {
	const char *fault, *session;
	double lag_max, backlog_max, expired, ack_timeouts, processed, duplicates;
} cuts[] = {
	{"between: [[a], [b, c]], at: 10005ms, for: 30s", "", 10015, 101, 1, 0, 601, 1},
	{"between: [[a], [b, c]], at: 10005ms, for: 30s", ", session_timeout: 0s", 15, 1, 1, 0, 601,
	 1},
	{"between: [[a], [b, c]], oneway: true, at: 10005ms, for: 30s", "", 10015, 101, 1, 0, 601, 1},
	{"between: [[b, c], [a]], oneway: true, at: 10005ms, for: 30s", "", 9915, 100, 1, 0, 600, 0},
	{"between: [[a], [b, c]], at: 10005ms, for: 5s", "", 30010, 301, 0, 1, 601, 1},
};

START_TEST(faults_queue_session_partition)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "duration: 60s\n"
	         "zones: [a, b, c]\n"
	         "components:\n"
	         "  to_q: {kind: client, zone: c, rate: 10/s, arrivals: constant, target: q}\n"
	         "  q: {kind: queue, zone: c, consumers: w, rebalance_time: 0s%s}\n"
	         "  w: {kind: worker, instances: 2, zones: [a, b], service_time: 10ms}\n"
	         "faults:\n"
	         "  - {kind: partition, %s}\n",
	         cuts[_i].session, cuts[_i].fault);
	struct asim_results *r = run(text, NULL);
	double lag = figure(r, "components.q.lag_ms_max");
	ck_assert_msg(lag == cuts[_i].lag_max, "%s%s: lag_ms_max %g", cuts[_i].fault, cuts[_i].session,
	              lag);
	ck_assert(figure(r, "components.q.backlog_max") == cuts[_i].backlog_max);
	ck_assert(figure(r, "components.q.sessions_expired") == cuts[_i].expired);
	ck_assert(figure(r, "components.q.ack_timeouts") == cuts[_i].ack_timeouts);
	ck_assert(figure(r, "components.q.redelivered") == 1);
	ck_assert(figure(r, "components.q.acked") == 600);
	ck_assert(figure(r, "components.w.processed") == cuts[_i].processed);
	ck_assert(figure(r, "components.w.duplicates") == cuts[_i].duplicates);
	done(r);
}
END_TEST

/* A rebalance: each change of the consumer group's membership stops every
 * partition for `rebalance_time` (default 3 s), as Kafka's eager protocol
 * does, and so does the group's forming at time 0 (tested alone in
 * faults_queue_group_forms_before_consuming): every row with R > 0 begins
 * with a pause [0, R), which holds the first R/100 ms messages (lag 3010 ms
 * and 31 stored for R = 3 s) and counts as a rebalance. One message every
 * 100 ms, all for partition 0 (instance 0's), 10 ms of work; a crash 5 ms
 * into a message's work. Instance 0 crashed for 5 s comes back before its
 * 10 s session expires, as a new process with a new member id: the group
 * rebalances from 15.005 s, and the coordinator waits for the old member,
 * which never rejoins, until its session expires at 20.005 s (a session
 * expired); the message it held is delivered again then, acked 10 s + 15 ms
 * after it arrived, with 101 messages stored, whether R is 3 s or 1.5 s
 * (the old code ended the old session at the return: 5 s + R + 15 ms).
 * Back after 9 s, at 19.005 s, the rebalance lasts R from the return, past
 * the old session's expiry: 12015 ms. `initial_rebalance: false` (a group
 * formed before the run) skips only the forming: the restart's rebalance
 * still holds the message 10 s. A static member (`static_membership:
 * true`) back in 5 s takes its old session over: no rebalance, and the held
 * message is delivered again at once (5015 ms), eager or cooperative; back
 * after 30 s, its session had expired as anyone's. Crashed for 30 s,
 * instance 0's session expires at 20.005 s: instance 1 takes the partition
 * after a pause (10 s + R + 15 ms), and instance 0 takes it back after
 * another from 40.005 s. Instance 1, which has no traffic, crashed for 30 s
 * stops partition 0 too, though its owner stays: a pause at its expiry and
 * one at its return, messages of 2.905 s waiting for each (acked after 2915
 * ms, 30 stored: less than at the start). Both instances crashed for 30 s
 * leave the group empty at their expiry, which has nobody to wait for (no
 * pause, not counted), and pay one pause when they are back: the held
 * message is acked 30 s + R + 15 ms after it arrived. When instance 1
 * crashes 1 s after instance 0, its expiry empties the group 1 s into the
 * rebalance that instance 0's began, which ends there (a pause of 1 s);
 * back 1 s apart, they pause the group from 40.005 s to 44.005 s (the
 * second return starts it over): 5 s in 2 rebalances, besides the first.
 * Every run with R > 0 spends R per change rebalancing (rebalance_s). With
 * `rebalance_time: 0s` the partitions move at once, as the old code did for
 * all: there the held message is acked after 5015, 10015 and 30015 ms
 * (back from 5 s, the new process ends the old session at once: none
 * expires), and instance 1's crash is not seen at all (lag 10 ms, 1
 * stored). A rebalance still under way at the end of the run (instance 1's
 * session expires at 58.005 s) counts, with the 1.995 s it lasted. The time
 * average of the lag is checked against a FIFO with the same pauses
 * (lag_mean_ref). */
struct pause {
	asim_time from, to; /* no delivery in [from, to) */
	bool held;          /* the delivery out at `from` is lost, and made again at `to` */
};

#define FIRST(ms) {0, (ms) * ASIM_MS, false} /* the group's forming */

static const struct {
	const char *crash, *queue; /* the crash's instance and length; the queue's extra keys */
	double lag_max, backlog_max, rebalances, rebalance_s, expired;
	struct pause pauses[3];
} rebalances[] = {
	{"[0], at: 10005ms, for: 5s", ", rebalance_time: 0s", 5015, 51, 0, 0, 0,
	 {{10005 * ASIM_MS, 15005 * ASIM_MS, true}}},
	{"[0], at: 10005ms, for: 5s", "", 10015, 101, 2, 8, 1,
	 {FIRST(3000), {10005 * ASIM_MS, 20005 * ASIM_MS, true}}},
	{"[0], at: 10005ms, for: 5s", ", rebalance_time: 1500ms", 10015, 101, 2, 6.5, 1,
	 {FIRST(1500), {10005 * ASIM_MS, 20005 * ASIM_MS, true}}},
	{"[0], at: 10005ms, for: 9s", "", 12015, 121, 2, 6, 1,
	 {FIRST(3000), {10005 * ASIM_MS, 22005 * ASIM_MS, true}}},
	{"[0], at: 10005ms, for: 5s", ", initial_rebalance: false", 10015, 101, 1, 5, 1,
	 {{10005 * ASIM_MS, 20005 * ASIM_MS, true}}},
	{"[0], at: 10005ms, for: 5s", ", static_membership: true", 5015, 51, 1, 3, 0,
	 {FIRST(3000), {10005 * ASIM_MS, 15005 * ASIM_MS, true}}},
	{"[0], at: 10005ms, for: 5s", ", static_membership: true, rebalance_protocol: cooperative",
	 5015, 51, 1, 3, 0, {FIRST(3000), {10005 * ASIM_MS, 15005 * ASIM_MS, true}}},
	{"[0], at: 10005ms, for: 30s", ", static_membership: true", 13015, 131, 3, 9, 1,
	 {FIRST(3000), {10005 * ASIM_MS, 23005 * ASIM_MS, true},
	  {40005 * ASIM_MS, 43005 * ASIM_MS, false}}},
	{"[0], at: 10005ms, for: 30s", ", rebalance_time: 0s", 10015, 101, 0, 0, 1,
	 {{10005 * ASIM_MS, 20005 * ASIM_MS, true}}},
	{"[0], at: 10005ms, for: 30s", "", 13015, 131, 3, 9, 1,
	 {FIRST(3000), {10005 * ASIM_MS, 23005 * ASIM_MS, true},
	  {40005 * ASIM_MS, 43005 * ASIM_MS, false}}},
	{"[1], at: 10005ms, for: 30s", "", 3010, 31, 3, 9, 1,
	 {FIRST(3000), {20005 * ASIM_MS, 23005 * ASIM_MS, false},
	  {40005 * ASIM_MS, 43005 * ASIM_MS, false}}},
	{"[1], at: 10005ms, for: 30s", ", rebalance_time: 0s", 10, 1, 0, 0, 1, {{0, 0, false}}},
	{"[0, 1], at: 10005ms, for: 30s", "", 33015, 331, 2, 6, 2,
	 {FIRST(3000), {10005 * ASIM_MS, 43005 * ASIM_MS, true}}},
	{"[0, 1], at: 10005ms, for: 30s", ", rebalance_time: 0s", 30015, 301, 0, 0, 2,
	 {{10005 * ASIM_MS, 40005 * ASIM_MS, true}}},
	{"[0], at: 10005ms, for: 30s}\n  - {kind: crash, component: w, instances: [1], at: 11005ms, "
	 "for: 30s", "", 34015, 341, 3, 8, 2,
	 {FIRST(3000), {10005 * ASIM_MS, 44005 * ASIM_MS, true}}},
	{"[1], at: 48005ms", "", 3010, 31, 2, 4.995, 1,
	 {FIRST(3000), {58005 * ASIM_MS, 61005 * ASIM_MS, false}}},
	/* Cooperative: instance 1's crash moves only its own partition 1 (to
	 * instance 0 at the expiry, back at the return), which has no traffic:
	 * partition 0 never stops after the group's forming, its lag stays at
	 * the no-fault level (10 ms) after it, though partition 1's pauses
	 * count (2, 6 s). Instance 0's crash moves partition 0, all the
	 * traffic, so it pauses as in the eager rows above; back as a new
	 * process before its expiry, its partition has a new member and waits
	 * for the old one's expiry too. Both crashed 1 s apart: instance 0,
	 * first back to the empty group at 40.005 s, pauses every partition;
	 * instance 1's return at 41.005 s moves only partition 1, yet
	 * partition 0, already waiting, waits on until 44.005 s, when the
	 * membership has held still for R (a pause that ended for it at
	 * 43.005 s would give 33015 ms). */
	{"[1], at: 10005ms, for: 30s", ", rebalance_protocol: cooperative", 3010, 31, 3, 9, 1,
	 {FIRST(3000)}},
	{"[0], at: 10005ms, for: 30s", ", rebalance_protocol: cooperative", 13015, 131, 3, 9, 1,
	 {FIRST(3000), {10005 * ASIM_MS, 23005 * ASIM_MS, true},
	  {40005 * ASIM_MS, 43005 * ASIM_MS, false}}},
	{"[0], at: 10005ms, for: 5s", ", rebalance_protocol: cooperative", 10015, 101, 2, 8, 1,
	 {FIRST(3000), {10005 * ASIM_MS, 20005 * ASIM_MS, true}}},
	{"[0], at: 10005ms, for: 30s}\n  - {kind: crash, component: w, instances: [1], at: 11005ms, "
	 "for: 30s", ", rebalance_protocol: cooperative", 34015, 341, 3, 8, 2,
	 {FIRST(3000), {10005 * ASIM_MS, 44005 * ASIM_MS, true}}},
};

/* The time-averaged age of the oldest unacknowledged message, in ms, over
 * 60 s of one message every 100 ms (from 0 s to 60 s) served in order, 10 ms
 * each, by one consumer that makes no delivery during the pauses. */
static double lag_mean_ref(const struct pause *p, size_t np)
{
	const asim_time end = 60 * ASIM_S, work = 10 * ASIM_MS;
	double area = 0; /* ms * ms */
	asim_time acked = 0;
	for (asim_time a = 0; a <= end; a += 100 * ASIM_MS) {
		asim_time start = a > acked ? a : acked, oldest_from = start, done;
		for (size_t i = 0; i < np; i++)
			if (start >= p[i].from && start < p[i].to)
				start = p[i].to;
		done = start + work;
		for (size_t i = 0; i < np; i++)
			if (p[i].held && start < p[i].from && done > p[i].from)
				done = p[i].to + work;
		if (oldest_from > end)
			oldest_from = end;
		asim_time until = done < end ? done : end;
		double x = (double)(oldest_from - a) / ASIM_MS, y = (double)(until - a) / ASIM_MS;
		area += (y * y - x * x) / 2;
		acked = done;
	}
	return area / 60000;
}

START_TEST(faults_queue_rebalance_pauses_the_group)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "duration: 60s\n"
	         "components:\n"
	         "  to_q: {kind: client, rate: 10/s, arrivals: constant, target: q}\n"
	         "  q: {kind: queue, consumers: w%s}\n"
	         "  w: {kind: worker, instances: 2, service_time: 10ms}\n"
	         "faults:\n"
	         "  - {kind: crash, component: w, instances: %s}\n",
	         rebalances[_i].queue, rebalances[_i].crash);
	struct asim_results *r = run(text, NULL);
	const char *what = rebalances[_i].crash;
	double lag = figure(r, "components.q.lag_ms_max");
	ck_assert_msg(lag == rebalances[_i].lag_max, "%s%s: lag_ms_max %g", what,
	              rebalances[_i].queue, lag);
	double backlog = figure(r, "components.q.backlog_max");
	ck_assert_msg(backlog == rebalances[_i].backlog_max, "%s%s: backlog_max %g", what,
	              rebalances[_i].queue, backlog);
	double n = figure(r, "components.q.rebalances"), t = figure(r, "components.q.rebalance_s");
	ck_assert_msg(n == rebalances[_i].rebalances && fabs(t - rebalances[_i].rebalance_s) < 1e-9,
	              "%s%s: rebalances %g, rebalance_s %g", what, rebalances[_i].queue, n, t);
	double mean = figure(r, "components.q.lag_ms_mean");
	double want = lag_mean_ref(rebalances[_i].pauses, 3);
	ck_assert_msg(fabs(mean - want) < 1e-6, "%s%s: lag_ms_mean %.9g, expected %.9g", what,
	              rebalances[_i].queue, mean, want);
	double expired = figure(r, "components.q.sessions_expired");
	ck_assert_msg(expired == rebalances[_i].expired, "%s%s: sessions_expired %g", what,
	              rebalances[_i].queue, expired);
	ck_assert(figure(r, "components.q.produced") == 601);
	ck_assert(figure(r, "components.q.acked") + figure(r, "components.q.backlog_end") == 601);
	ck_assert(figure(r, "components.q.ack_timeouts") == 0);
	ck_assert(figure(r, "components.w.duplicates") == 0);
	done(r);
}
END_TEST

/* The group's forming: at time 0 every consumer instance joins an empty
 * group, which waits `rebalance_time` before its first assignment, as
 * Kafka's coordinator waits group.initial.rebalance.delay.ms (3 s) before
 * it assigns the partitions of a group that was empty. No fault; one
 * message every 100 ms for partition 0, 10 ms of work. The first R/100 ms
 * messages wait for the assignment: the first is acked R + 10 ms after it
 * arrived, with R/100 ms + 1 stored (the message of R itself arrives as
 * the pause ends), whichever the protocol (the first member of an empty
 * group pauses every partition); one rebalance of R. `rebalance_time: 0s`
 * (RabbitMQ) delivers from time 0, as the old code did for every queue:
 * 10 ms, 1 stored, no rebalance; so does `initial_rebalance: false`, a
 * group formed before the run. A 10 s warm-up hides the forming, as it
 * does in the shipped scenarios: nothing of it is measured. The whole
 * group back after all of it was gone pays the same pause
 * (faults_queue_rebalance_pauses_the_group, both instances crashed). */
static const struct {
	const char *head, *queue; /* scenario keys before `components`; the queue's extra keys */
	double lag_max, backlog_max, rebalances, rebalance_s, produced;
	struct pause first;
} forming[] = {
	{"", "", 3010, 31, 1, 3, 601, FIRST(3000)},
	{"", ", rebalance_time: 1500ms", 1510, 16, 1, 1.5, 601, FIRST(1500)},
	{"", ", rebalance_protocol: cooperative", 3010, 31, 1, 3, 601, FIRST(3000)},
	{"", ", rebalance_time: 0s", 10, 1, 0, 0, 601, {0, 0, false}},
	{"", ", initial_rebalance: false", 10, 1, 0, 0, 601, {0, 0, false}},
	{"warmup: 10s\n", "", 10, 1, 0, 0, 501, {0, 0, false}},
};

START_TEST(faults_queue_group_forms_before_consuming)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "duration: 60s\n"
	         "%s"
	         "components:\n"
	         "  to_q: {kind: client, rate: 10/s, arrivals: constant, target: q}\n"
	         "  q: {kind: queue, consumers: w%s}\n"
	         "  w: {kind: worker, instances: 2, service_time: 10ms}\n",
	         forming[_i].head, forming[_i].queue);
	struct asim_results *r = run(text, NULL);
	const char *what = forming[_i].head, *q = forming[_i].queue;
	double lag = figure(r, "components.q.lag_ms_max");
	ck_assert_msg(lag == forming[_i].lag_max, "%s%s: lag_ms_max %g", what, q, lag);
	double backlog = figure(r, "components.q.backlog_max");
	ck_assert_msg(backlog == forming[_i].backlog_max, "%s%s: backlog_max %g", what, q, backlog);
	double n = figure(r, "components.q.rebalances"), t = figure(r, "components.q.rebalance_s");
	ck_assert_msg(n == forming[_i].rebalances && fabs(t - forming[_i].rebalance_s) < 1e-9,
	              "%s%s: rebalances %g, rebalance_s %g", what, q, n, t);
	/* Over 60 s, or the 50 s after warm-up: the same time average when
	 * nothing waits in it. */
	double mean = figure(r, "components.q.lag_ms_mean");
	double want = lag_mean_ref(&forming[_i].first, 1);
	ck_assert_msg(fabs(mean - want) < 1e-6, "%s%s: lag_ms_mean %.9g, expected %.9g", what, q,
	              mean, want);
	ck_assert(figure(r, "components.q.produced") == forming[_i].produced);
	ck_assert(figure(r, "components.q.acked") + figure(r, "components.q.backlog_end") ==
	          forming[_i].produced);
	ck_assert(figure(r, "components.q.sessions_expired") == 0);
	done(r);
}
END_TEST

/* The time series shows when the group rebalanced: `NAME.rebalancing`, the
 * share of each window it spent rebalancing. One message every 100 ms for
 * partition 0, instance 0 crashed from 10.005 s for 30 s, 1 s windows:
 * the group's forming fills windows 0-2; instance 0's expiry at 20.005 s
 * pauses the group to 23.005 s (0.995 of window 20, all of 21 and 22,
 * 0.005 of 23), its return at 40.005 s to 43.005 s. A queue without a
 * group to rebalance (`rebalance_time: 0s`) has no such column. */
START_TEST(faults_queue_rebalancing_series)
{
	static const char *const queues[] = {"", ", rebalance_time: 0s"};
	for (size_t v = 0; v < 2; v++) {
		char text[1024];
		snprintf(text, sizeof text,
		         "duration: 60s\n"
		         "window: 1s\n"
		         "components:\n"
		         "  to_q: {kind: client, rate: 10/s, arrivals: constant, target: q}\n"
		         "  q: {kind: queue, consumers: w%s}\n"
		         "  w: {kind: worker, instances: 2, service_time: 10ms}\n"
		         "faults:\n"
		         "  - {kind: crash, component: w, instances: [0], at: 10005ms, for: 30s}\n",
		         queues[v]);
		struct asim_diag d;
		asim_diag_init(&d);
		struct asim_scenario *s =
			asim_scenario_load_buffer("w.yaml", text, strlen(text), NULL, &d);
		ck_assert_ptr_nonnull(s);
		/* The rows are not kept (memory stays flat in the run's length):
		 * they are read back from series.csv, as a user's tools do. */
		char dir[256];
		const char *base = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/asim-rebal-XXXXXX", base && *base ? base : "/tmp");
		ck_assert_ptr_nonnull(mkdtemp(dir));
		struct asim_series ser;
		asim_series_init(&ser);
		asim_series_out(&ser, dir);
		struct asim_results r;
		asim_results_init(&r);
		ck_assert_int_eq(asim_series_run(s, 0, &ser, &r, &d), ASIM_RUN_DONE);
		ck_assert(asim_series_write(&ser, &r));
		char path[512], line[4096];
		snprintf(path, sizeof path, "%s/series.csv", dir);
		FILE *f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
		int col = -1, n = 0;
		for (char *save = NULL, *tok = strtok_r(line, ",\n", &save); tok;
		     tok = strtok_r(NULL, ",\n", &save), n++)
			if (!strcmp(tok, "q.rebalancing"))
				col = n;
		size_t w = 0;
		if (v == 1)
			ck_assert_int_eq(col, -1);
		else
			ck_assert_int_ge(col, 0);
		for (; fgets(line, sizeof line, f); w++) {
			if (v == 1)
				continue;
			char *p = line;
			for (int j = 0; j < col; j++)
				p = strchr(p, ',') + 1;
			double got = strtod(p, NULL);
			double want = w < 3 ? 1 : 0;
			if (w == 20 || w == 40)
				want = 0.995;
			else if ((w > 20 && w < 23) || (w > 40 && w < 43))
				want = 1;
			else if (w == 23 || w == 43)
				want = 0.005;
			ck_assert_msg(fabs(got - want) < 1e-9, "window %zu: rebalancing %.9g, expected %g",
			              w, got, want);
		}
		fclose(f);
		ck_assert_uint_eq(w, 60);
		char cmd[512];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		ck_assert_int_eq(system(cmd), 0);
		ck_assert(figure(&r, "components.q.rebalances") == (v == 0 ? 3 : 0));
		asim_results_finish(&r);
		asim_series_finish(&ser);
		asim_scenario_free(s);
		asim_diag_finish(&d);
	}
}
END_TEST

/* The cooperative protocol pauses only the partitions that change owner;
 * the eager one stops the group. Traffic on both partitions: client a
 * sends 50 messages/s, all for partition 0 (instance 0's), client b 8/s
 * over keys 0 and 1 (partition 1 at random); 5 ms of work. A 5 s warm-up
 * hides the group's forming (its 3 s pause, and the 0.8 s it takes to
 * work off what waited). Instance 1 crashes at 10.005 s: for good (its
 * partition moves to instance 0 after the 10 s session and R = 3 s), for
 * 30 s (it also moves back at 40.005 s, for another R), or for 5 s (back
 * as a new process before its expiry: a new member, so its partition
 * pauses from 15.005 s until the old member's session expires at 20.005
 * s, later than R). Partition 1's messages wait alike under both: the
 * first stored after the crash is acked at the end of the pause (expiry +
 * R, or the old session's expiry), so lag_ms_max is that wait (13 s, or
 * 10 s) less the time from the crash to b's first key-1 message: the bound
 * allows 2 s, b's first 16 messages, all key 0 with a chance of 1 in
 * 65,536 on any random stream. It is at most 15 ms over: a key-1 message
 * in work at instance 1 when it crashed (stored at most its 5 ms before)
 * is delivered again at the end of the pause, and may wait there for the
 * one in work at instance 0 before its own 5 ms (seeds 1-60: 615 ms under
 * to 15 ms over, the cooperative runs 10 ms over). The eager protocol also
 * stops partition 0, instance 0's own, for R: its 150 messages of those 3 s
 * pile up (backlog_max >= 150). Cooperatively partition 0 goes on at its
 * no-fault level (at most 2 stored): the backlog is at most that plus b's
 * 104 messages of the 13 s from the crash to the end of its partition's
 * pause (seeds 1-60: 206 to 224 eager, 33 to 67 cooperative). rebalances
 * and rebalance_s (the time any partition was paused) are the same in both,
 * R each but for the return after 5 s, which lasts 5 s. */
static const struct {
	const char *crash, *queue;
	double wait_ms, rebalances, rebalance_s;
	bool eager;
} survivors[] = {
	{"", "", 13000, 1, 3, true},
	{"", ", rebalance_protocol: eager", 13000, 1, 3, true},
	{"", ", rebalance_protocol: cooperative", 13000, 1, 3, false},
	{", for: 30s", "", 13000, 2, 6, true},
	{", for: 30s", ", rebalance_protocol: cooperative", 13000, 2, 6, false},
	{", for: 5s", "", 10000, 1, 5, true},
	{", for: 5s", ", rebalance_protocol: cooperative", 10000, 1, 5, false},
};

START_TEST(faults_queue_cooperative_rebalance_keeps_survivors)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "duration: 60s\n"
	         "warmup: 5s\n"
	         "components:\n"
	         "  a: {kind: client, rate: 50/s, arrivals: constant, target: q}\n"
	         "  b: {kind: client, rate: 8/s, arrivals: constant, keys: {count: 2}, target: q}\n"
	         "  q: {kind: queue, consumers: w%s}\n"
	         "  w: {kind: worker, instances: 2, service_time: 5ms}\n"
	         "faults:\n"
	         "  - {kind: crash, component: w, instances: [1], at: 10005ms%s}\n",
	         survivors[_i].queue, survivors[_i].crash);
	struct asim_results *r = run(text, NULL);
	const char *what = survivors[_i].crash, *q = survivors[_i].queue;
	double backlog = figure(r, "components.q.backlog_max");
	if (survivors[_i].eager)
		ck_assert_msg(backlog >= 150, "%s%s: backlog_max %g", what, q, backlog);
	else
		ck_assert_msg(backlog <= 106, "%s%s: backlog_max %g", what, q, backlog);
	double lag = figure(r, "components.q.lag_ms_max");
	ck_assert_msg(lag > survivors[_i].wait_ms - 2000 && lag <= survivors[_i].wait_ms + 15,
	              "%s%s: lag_ms_max %g", what, q, lag);
	double n = figure(r, "components.q.rebalances"), t = figure(r, "components.q.rebalance_s");
	ck_assert_msg(n == survivors[_i].rebalances && fabs(t - survivors[_i].rebalance_s) < 1e-9,
	              "%s%s: rebalances %g, rebalance_s %g", what, q, n, t);
	/* a's 2751 and b's 441 messages from the end of warm-up to 60 s. */
	ck_assert(figure(r, "components.q.produced") == 3192);
	ck_assert(figure(r, "components.q.acked") + figure(r, "components.q.backlog_end") == 3192);
	ck_assert(figure(r, "components.q.ack_timeouts") == 0);
	done(r);
}
END_TEST

/* A durable broker that restarts delivers again at once the messages that
 * were out at consumers when it crashed: their deliveries closed with the
 * connections. One message every 100 ms, 10 ms of work, a 30 s ack
 * timeout; the broker crashes 5 ms into a message's work, for 5 s. The
 * worker finishes it, its ack is lost, and the restarted broker delivers it
 * again: acked 5 s + 15 ms after it arrived (a duplicate). The old code
 * waited for its ack timeout: 30 s + 10 ms, an ack timeout counted. */
START_TEST(faults_queue_durable_restart_requeues)
{
	const char *text =
		"duration: 60s\n"
		"components:\n"
		"  to_q: {kind: client, rate: 10/s, arrivals: constant, timeout: 1s, target: q}\n"
		"  q: {kind: queue, consumers: w, durable: true, ack_timeout: 30s}\n"
		"  w: {kind: worker, service_time: 10ms}\n"
		"faults:\n"
		"  - {kind: crash, component: q, at: 10005ms, for: 5s}\n";
	struct asim_results *r = run(text, NULL);
	double lag = figure(r, "components.q.lag_ms_max");
	ck_assert_msg(lag == 5015, "lag_ms_max %g", lag);
	ck_assert(figure(r, "components.q.redelivered") == 1);
	ck_assert(figure(r, "components.q.ack_timeouts") == 0);
	ck_assert(figure(r, "components.q.lost") == 0);
	ck_assert(figure(r, "components.w.duplicates") == 1);
	done(r);
}
END_TEST

static Suite *consumers_suite(void)
{
	Suite *s = suite_create("consumers");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, faults_queue_skips_down_consumer, 0,
	                    sizeof consumer_down / sizeof consumer_down[0]);
	tcase_add_loop_test(tc, faults_queue_session_expires, 0,
	                    sizeof sessions / sizeof sessions[0]);
	tcase_add_loop_test(tc, faults_queue_session_timeout_diagnostics, 0,
	                    sizeof bad_sessions / sizeof bad_sessions[0]);
	tcase_add_loop_test(tc, faults_queue_rebalance_time_diagnostics, 0,
	                    sizeof bad_rebalances / sizeof bad_rebalances[0]);
	tcase_add_loop_test(tc, faults_queue_rebalance_protocol_diagnostics, 0,
	                    sizeof bad_protocols / sizeof bad_protocols[0]);
	tcase_add_loop_test(tc, faults_queue_static_membership_diagnostics, 0,
	                    sizeof bad_statics / sizeof bad_statics[0]);
	tcase_add_loop_test(tc, faults_queue_initial_rebalance_diagnostics, 0,
	                    (int)(sizeof bad_initials / sizeof bad_initials[0]));
	tcase_add_loop_test(tc, faults_queue_rebalance_pauses_the_group, 0,
	                    sizeof rebalances / sizeof rebalances[0]);
	tcase_add_loop_test(tc, faults_queue_group_forms_before_consuming, 0,
	                    sizeof forming / sizeof forming[0]);
	tcase_add_test(tc, faults_queue_rebalancing_series);
	tcase_add_loop_test(tc, faults_queue_cooperative_rebalance_keeps_survivors, 0,
	                    sizeof survivors / sizeof survivors[0]);
	tcase_add_loop_test(tc, faults_queue_session_partition, 0, sizeof cuts / sizeof cuts[0]);
	tcase_add_test(tc, faults_queue_durable_restart_requeues);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(consumers_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
