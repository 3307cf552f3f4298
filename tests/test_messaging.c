/* The messaging models (queue and worker), each driven by the scripted
 * caller of rig.h and answered by the scripted peer of peer.h, with
 * configurations written as YAML: partitions and consumers, capacity,
 * backlog, redelivery, and how repeats of a request are recognised and
 * counted once. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/fault.h"
#include "archsim/kernel.h"
#include "archsim/results.h"
#include "common.h"
#include "models.h"
#include "peer.h"
#include "rig.h"

/* A queue's consumer group forms at time 0 and waits `rebalance_time`
 * (default 3 s) before its first assignment (test_consumers.c,
 * faults_queue_group_forms_before_consuming). These tests script
 * deliveries from time 0, so their queues have no group to form
 * (`rebalance_time: 0s`, as RabbitMQ's consumers subscribe on their own). */

/* Key k goes to partition k mod 4, consumed by instance (k mod 4) mod 2. */
START_TEST(queue_partitions_to_consumers)
{
	static const struct drv_row rows[] = {
		{0, W, 0}, {0, W, 1}, {0, W, 2}, {0, W, 3}, {0, W, 5}, {0, W, 6},
	};
	const struct part parts[] = {
		{"m", &asim_queue_ops,
		 "kind: queue\nrebalance_time: 0s\npartitions: 4\nprefetch: 8\nconsumers: store\n"},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 6);
	ck_assert(asim_component_set_instances(asim_kernel_find(g.k, "store"), 2, NULL));
	rig_run(&g, 10 * MS);
	struct peer_state *p = peer_of(&g, "store");
	ck_assert_uint_eq(p->nseen, 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_uint_eq(p->seen[i].inst, (p->seen[i].key % 4) % 2);
	ck_assert_uint_eq(num(&g, "components.m.acked"), 6);
	rig_free(&g);
}
END_TEST


START_TEST(queue_capacity_reject)
{
	static const struct peer_row answers[] = {{1000 * MS, ASIM_OK, 0}};
	static const struct drv_row rows[] = {{0, W, 1}, {0, W, 2}, {0, W, 3}, {2000 * MS, W, 4}};
	const struct part parts[] = {
		{"m", &asim_queue_ops, "kind: queue\nrebalance_time: 0s\ncapacity: 2\nconsumers: store\n"},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 4);
	struct peer_state *p = peer_of(&g, "store");
	p->rows = answers;
	p->nrows = 1;
	rig_run(&g, 5000 * MS);
	ck_assert_int_eq(g.got[0].status, ASIM_OK);
	ck_assert_int_eq(g.got[0].at, 0);
	ck_assert_int_eq(g.got[1].status, ASIM_OK);
	ck_assert_int_eq(g.got[2].status, ASIM_REJECTED);
	ck_assert_int_eq(g.got[3].status, ASIM_OK);
	ck_assert_uint_eq(num(&g, "components.m.rejected"), 1);
	ck_assert_uint_eq(num(&g, "components.m.produced"), 3);
	ck_assert_uint_eq(num(&g, "components.m.acked"), 3);
	ck_assert_uint_eq(p->nseen, 3);
	rig_free(&g);
}
END_TEST

START_TEST(queue_capacity_block)
{
	static const struct peer_row answers[] = {{10 * MS, ASIM_OK, 0}};
	static const struct drv_row rows[] = {{0, W, 1}, {0, W, 2}};
	const struct part parts[] = {
		{"m", &asim_queue_ops,
		 "kind: queue\nrebalance_time: 0s\ncapacity: 1\nwhen_full: block\nconsumers: store\n"},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 2);
	struct peer_state *p = peer_of(&g, "store");
	p->rows = answers;
	p->nrows = 1;
	rig_run(&g, 100 * MS);
	ck_assert_int_eq(g.got[0].at, 0);
	ck_assert_int_eq(g.got[1].status, ASIM_OK);
	ck_assert_int_eq(g.got[1].at, 10 * MS);
	ck_assert_uint_eq(num(&g, "components.m.blocked"), 1);
	ck_assert_uint_eq(p->nseen, 2);
	ck_assert_int_eq(p->seen[1].at, 10 * MS);
	rig_free(&g);
}
END_TEST

/* Three messages at once, a consumer that takes 10ms each, one at a time:
 * the backlog is 3, 2, 1 for 10ms each; the oldest unacknowledged message
 * is from time 0 until the last ack at 30ms. */
START_TEST(queue_backlog_and_lag)
{
	static const struct peer_row answers[] = {{10 * MS, ASIM_OK, 0}};
	static const struct drv_row rows[] = {{0, W, 1}, {0, W, 2}, {0, W, 3}};
	const struct part parts[] = {
		{"m", &asim_queue_ops, "kind: queue\nrebalance_time: 0s\npartitions: 1\nconsumers: store\n"},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 3);
	struct peer_state *p = peer_of(&g, "store");
	p->rows = answers;
	p->nrows = 1;
	rig_run(&g, 40 * MS);
	ck_assert_uint_eq(p->nseen, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(p->seen[i].at, (asim_time)i * 10 * MS);
		ck_assert_uint_eq(p->seen[i].key, i + 1); /* FIFO within the partition */
		/* Message ids are in the queue's namespace: its id in the high bits. */
		uint64_t ns = (uint64_t)asim_kernel_find(g.k, "m")->id << 40;
		ck_assert_uint_eq(p->seen[i].request, ns | (i + 1));
	}
	ck_assert_double_eq_tol(num(&g, "components.m.backlog_mean"), 60.0 / 40.0, 1e-9);
	ck_assert_uint_eq(num(&g, "components.m.backlog_max"), 3);
	ck_assert_uint_eq(num(&g, "components.m.backlog_end"), 0);
	ck_assert_double_eq_tol(num(&g, "components.m.lag_ms_mean"), 450.0 / 40.0, 1e-9);
	ck_assert_double_eq_tol(num(&g, "components.m.lag_ms_max"), 30.0, 1e-9);
	ck_assert_uint_eq(num(&g, "components.m.delivered"), 3);
	ck_assert_uint_eq(num(&g, "components.m.redelivered"), 0);
	rig_free(&g);
}
END_TEST

/* A message whose first processing outlasts the ack timeout: the queue
 * delivers it again; the first processing still writes (the store answers it
 * at 101ms), so the write happens twice unless the worker is idempotent. */
static const struct {
	const char *worker;
	uint64_t duplicates;
} dup_cases[] = {
	{"kind: worker\nconcurrency: 2\nservice_time: 1ms\ntarget: store\n", 1},
	{"kind: worker\nconcurrency: 2\nservice_time: 1ms\ntarget: store\nidempotent: true\n", 0},
};

START_TEST(queue_redelivery_duplicates)
{
	static const struct peer_row answers[] = {{100 * MS, ASIM_OK, 0}, {0, ASIM_OK, 0}};
	static const struct drv_row rows[] = {{0, W, 5}};
	const struct part parts[] = {
		{"m", &asim_queue_ops, "kind: queue\nrebalance_time: 0s\nconsumers: w\nack_timeout: 50ms\n"},
		{"w", &asim_worker_ops, dup_cases[_i].worker},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 3, rows, 1);
	struct peer_state *p = peer_of(&g, "store");
	p->rows = answers;
	p->nrows = 2;
	rig_run(&g, 500 * MS);
	ck_assert_int_eq(g.got[0].status, ASIM_OK);
	ck_assert_int_eq(g.got[0].at, 0);
	ck_assert_uint_eq(p->nseen, 2);
	ck_assert_int_eq(p->seen[0].at, 1 * MS);
	ck_assert_int_eq(p->seen[1].at, 51 * MS);
	ck_assert_uint_eq(p->seen[1].attempt, 1);
	ck_assert_uint_eq(p->seen[1].op, W);
	ck_assert_uint_eq(p->seen[1].key, 5);
	ck_assert_uint_eq(num(&g, "components.m.delivered"), 2);
	ck_assert_uint_eq(num(&g, "components.m.redelivered"), 1);
	ck_assert_uint_eq(num(&g, "components.m.ack_timeouts"), 1);
	ck_assert_uint_eq(num(&g, "components.m.acked"), 1);
	ck_assert_uint_eq(num(&g, "components.w.processed"), 2);
	ck_assert_uint_eq(num(&g, "components.w.duplicates"), dup_cases[_i].duplicates);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->duplicate_writes, dup_cases[_i].duplicates);
	rig_free(&g);
}
END_TEST

/* A message processed once in time whose ok answer the queue does not take:
 * the worker answers at 41ms (the store was slow), but that answer takes
 * 20ms to reach the queue (or the network loses it), and the ack timeout at
 * 50ms delivers the message again. The second processing (store written at
 * 51ms, acknowledged at 71ms) repeats the first: a duplicate, though no
 * completion came after its delivery was abandoned (the old count was 0). */
struct late_ack_net {
	uint32_t worker, queue;
	bool lose; /* lose the worker's first answer instead of delaying it */
	unsigned answers;
};

static asim_time late_ack_delay(void *net, struct asim_kernel *k, uint32_t from,
                                uint16_t from_inst, uint32_t to, uint16_t to_inst)
{
	struct late_ack_net *n = net;
	(void)k, (void)from_inst, (void)to_inst;
	if (from != n->worker || to != n->queue)
		return 0;
	if (n->lose)
		return n->answers++ == 0 ? ASIM_NET_LOST : 0;
	return 20 * MS;
}

static const struct {
	const char *worker;
	bool lose;
	uint64_t duplicates;
} late_ack_cases[] = {
	{"kind: worker\nservice_time: 1ms\ntarget: store\n", false, 1},
	{"kind: worker\nservice_time: 1ms\ntarget: store\n", true, 1},
	{"kind: worker\nservice_time: 1ms\ntarget: store\nidempotent: true\n", false, 0},
};

START_TEST(queue_late_ack_duplicates)
{
	static const struct peer_row answers[] = {{40 * MS, ASIM_OK, 0}, {0, ASIM_OK, 0}};
	static const struct drv_row rows[] = {{0, W, 5}};
	const struct part parts[] = {
		{"m", &asim_queue_ops, "kind: queue\nrebalance_time: 0s\nconsumers: w\nack_timeout: 50ms\n"},
		{"w", &asim_worker_ops, late_ack_cases[_i].worker},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 3, rows, 1);
	struct late_ack_net net = {asim_kernel_find(g.k, "w")->id, asim_kernel_find(g.k, "m")->id,
	                           late_ack_cases[_i].lose, 0};
	asim_kernel_set_network(g.k, late_ack_delay, &net);
	struct peer_state *p = peer_of(&g, "store");
	p->rows = answers;
	p->nrows = 2;
	rig_run(&g, 500 * MS);
	ck_assert_uint_eq(p->nseen, 2);
	ck_assert_int_eq(p->seen[0].at, 1 * MS);
	ck_assert_int_eq(p->seen[1].at, 51 * MS);
	ck_assert_uint_eq(num(&g, "components.m.delivered"), 2);
	ck_assert_uint_eq(num(&g, "components.m.ack_timeouts"), 1);
	ck_assert_uint_eq(num(&g, "components.m.acked"), 1);
	ck_assert_uint_eq(num(&g, "components.m.backlog_end"), 0);
	ck_assert_uint_eq(num(&g, "components.w.processed"), 2);
	ck_assert_uint_eq(num(&g, "components.w.duplicates"), late_ack_cases[_i].duplicates);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->duplicate_writes,
	                  late_ack_cases[_i].duplicates);
	rig_free(&g);
}
END_TEST

/* A redelivery through a store that deduplicates it: the queue -> worker
 * set-up of queue_late_ack_duplicates with the worker's first answer lost,
 * writing to a database directly or through a relay (a write-through or
 * invalidating cache, a gateway, a balancer). The redelivery at 50ms writes
 * again at 51ms. With `idempotency: true` the database recognises the
 * request (the message id, from the worker or the relay) and answers with
 * the first version without applying it: its OK answer says so, the relay
 * passes that on, and the worker's repeat is no duplicate (the old count
 * was 1, a false alarm); the database counts it as deduplicated. Without
 * idempotency the write lands twice and the worker counts its duplicate as
 * before. Behind a relay too the database leaves the count to the worker
 * (the relay forwards ASIM_CALL_REPEATS_COUNTED): the run counts this one
 * repeat once (twice before, the database counting the relay's repeat as
 * its own duplicate write). */
static const struct {
	const char *target;
	const struct asim_model_ops *ops; /* the relay's, if any */
	const char *relay;
} dedup_relays[] = {
	{"db", NULL, NULL},
	{"x", &asim_cache_ops,
	 "kind: cache\ncapacity: 10\nhit_time: 1us\nbacking: db\non_write: write_through\n"},
	{"x", &asim_cache_ops,
	 "kind: cache\ncapacity: 10\nhit_time: 1us\nbacking: db\non_write: invalidate\n"},
	{"x", &asim_gateway_ops, "kind: gateway\nauth_time: 1us\ntarget: db\n"},
	{"x", &asim_load_balancer_ops, "kind: load_balancer\ntargets: db\n"},
};

START_TEST(worker_repeat_deduplicated_by_store)
{
	size_t relay = (size_t)_i / 2;
	bool idempotency = _i % 2;
	static const struct drv_row rows[] = {{0, W, 5}};
	char worker[128], db[128];
	snprintf(worker, sizeof worker, "kind: worker\nservice_time: 1ms\ntarget: %s\n",
	         dedup_relays[relay].target);
	snprintf(db, sizeof db, "kind: database\nread_time: 1ms\nwrite_time: 1ms\nidempotency: %s\n",
	         idempotency ? "true" : "false");
	const struct part parts[] = {
		{"m", &asim_queue_ops, "kind: queue\nrebalance_time: 0s\nconsumers: w\nack_timeout: 50ms\n"},
		{"w", &asim_worker_ops, worker},
		{"db", &asim_database_ops, db},
		{"x", dedup_relays[relay].ops, dedup_relays[relay].relay},
	};
	struct rig g;
	rig_build(&g, parts, dedup_relays[relay].ops ? 4 : 3, rows, 1);
	struct late_ack_net net = {asim_kernel_find(g.k, "w")->id, asim_kernel_find(g.k, "m")->id,
	                           true, 0};
	asim_kernel_set_network(g.k, late_ack_delay, &net);
	rig_run(&g, 500 * MS);
	ck_assert_uint_eq(num(&g, "components.m.delivered"), 2);
	ck_assert_uint_eq(num(&g, "components.m.ack_timeouts"), 1);
	ck_assert_uint_eq(num(&g, "components.m.acked"), 1);
	ck_assert_uint_eq(num(&g, "components.w.processed"), 2);
	ck_assert_uint_eq(num(&g, "components.db.writes"), 2);
	ck_assert_uint_eq(num(&g, "components.db.deduplicated"), (idempotency ? 1 : 0));
	ck_assert_uint_eq(num(&g, "components.w.duplicates"), (idempotency ? 0 : 1));
	ck_assert_uint_eq(num(&g, "components.db.duplicate_writes"), 0);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->duplicate_writes, (idempotency ? 0 : 1));
	rig_free(&g);
}
END_TEST

/* Answers that cross: the database's answer to the first delivery's write
 * (committed at 2ms) takes 100ms to reach the worker, so the queue delivers
 * the message again at 50ms to the worker's second thread, whose write
 * (52ms) is answered at once, before the first. Under idempotency the
 * first answer to arrive is the deduplicated one, and the one that applied
 * the write comes after it: no repeat of an applied write, no duplicate
 * (counting every OK completion made the late one a duplicate). Without
 * idempotency both writes land: one duplicate. */
struct crossed_net {
	uint32_t db, worker;
	unsigned answers;
};

static asim_time crossed_delay(void *net, struct asim_kernel *k, uint32_t from,
                               uint16_t from_inst, uint32_t to, uint16_t to_inst)
{
	struct crossed_net *n = net;
	(void)k, (void)from_inst, (void)to_inst;
	if (from != n->db || to != n->worker)
		return 0;
	return n->answers++ == 0 ? 100 * MS : 0;
}

START_TEST(worker_crossed_answers_deduplicated)
{
	bool idempotency = _i;
	static const struct drv_row rows[] = {{0, W, 5}};
	const struct part parts[] = {
		{"m", &asim_queue_ops, "kind: queue\nrebalance_time: 0s\nconsumers: w\nack_timeout: 50ms\n"},
		{"w", &asim_worker_ops, "kind: worker\nconcurrency: 2\nservice_time: 1ms\ntarget: db\n"},
		{"db", &asim_database_ops,
		 idempotency ? "kind: database\nread_time: 1ms\nwrite_time: 1ms\nidempotency: true\n"
		             : "kind: database\nread_time: 1ms\nwrite_time: 1ms\n"},
	};
	struct rig g;
	rig_build(&g, parts, 3, rows, 1);
	struct crossed_net net = {asim_kernel_find(g.k, "db")->id, asim_kernel_find(g.k, "w")->id,
	                          0};
	asim_kernel_set_network(g.k, crossed_delay, &net);
	rig_run(&g, 500 * MS);
	ck_assert_uint_eq(net.answers, 2);
	ck_assert_uint_eq(num(&g, "components.m.delivered"), 2);
	ck_assert_uint_eq(num(&g, "components.m.acked"), 1);
	ck_assert_uint_eq(num(&g, "components.w.processed"), 2);
	ck_assert_uint_eq(num(&g, "components.db.deduplicated"), (idempotency ? 1 : 0));
	ck_assert_uint_eq(num(&g, "components.w.duplicates"), (idempotency ? 0 : 1));
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->duplicate_writes, (idempotency ? 0 : 1));
	rig_free(&g);
}
END_TEST

/* A repeat whose first attempt failed on the worker's side: the database
 * commits the first write at 2ms, but its answer takes 100ms and the
 * worker's own 20ms timeout fails the task (a nack: the message stays
 * invisible until its 50ms ack timeout). The redelivery writes again at
 * 51ms: the write lands twice, and the database's answer says so
 * (ASIM_CALL_REAPPLIED), so the worker counts one duplicate although it
 * never completed the first. Before, neither counted it (the worker had no
 * completion to repeat, the database left workers' repeats to them): 0.
 * Under idempotency the database absorbs it: no duplicate. */
START_TEST(worker_counts_a_repeat_the_store_applied_again)
{
	bool idempotency = _i;
	static const struct drv_row rows[] = {{0, W, 5}};
	const struct part parts[] = {
		{"m", &asim_queue_ops, "kind: queue\nrebalance_time: 0s\nconsumers: w\nack_timeout: 50ms\n"},
		{"w", &asim_worker_ops, "kind: worker\nservice_time: 1ms\ntimeout: 20ms\ntarget: db\n"},
		{"db", &asim_database_ops,
		 idempotency ? "kind: database\nread_time: 1ms\nwrite_time: 1ms\nidempotency: true\n"
		             : "kind: database\nread_time: 1ms\nwrite_time: 1ms\n"},
	};
	struct rig g;
	rig_build(&g, parts, 3, rows, 1);
	struct crossed_net net = {asim_kernel_find(g.k, "db")->id, asim_kernel_find(g.k, "w")->id,
	                          0};
	asim_kernel_set_network(g.k, crossed_delay, &net);
	rig_run(&g, 500 * MS);
	ck_assert_uint_eq(num(&g, "components.m.delivered"), 2);
	ck_assert_uint_eq(num(&g, "components.m.acked"), 1);
	ck_assert_uint_eq(num(&g, "components.w.failed"), 1);
	ck_assert_uint_eq(num(&g, "components.w.processed"), 1);
	ck_assert_uint_eq(num(&g, "components.db.writes"), 2);
	ck_assert_uint_eq(num(&g, "components.db.deduplicated"), (idempotency ? 1 : 0));
	ck_assert_uint_eq(num(&g, "components.db.duplicate_writes"), 0);
	ck_assert_uint_eq(num(&g, "components.w.duplicates"), (idempotency ? 0 : 1));
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->duplicate_writes, (idempotency ? 0 : 1));
	rig_free(&g);
}
END_TEST

/* A worker's repeat through a service that writes to a database (queue ->
 * worker -> service -> database, 1ms each step, ack timeout 50ms): a write
 * applied again is one duplicate, counted once over the worker and the
 * database. The first delivery writes at 2ms (committed at 3ms); the
 * redelivery at 50ms writes again at 52ms.
 * - lost ack: the worker's first answer to the queue is lost; the worker
 *   completes both deliveries (also with a balancer in front of the
 *   service, which passes the database's word back).
 * - crossed: the service's first answer takes 100ms to reach the worker
 *   (the delivery outlasts the ack timeout), so the redelivery completes
 *   first (53ms) and the first after it (103ms).
 * - crash: the worker crashes at 2.5ms (back at 10ms) with the first
 *   delivery at the service, whose write still lands: the worker never
 *   completes it.
 * - retry: lost ack, and the database's answer to the redelivery's write
 *   takes 100ms: the service's 20ms call timeout gives up on it and writes
 *   again, a third time in all (two duplicates), the retry's answered.
 * Without idempotency the database counts each write applied again (the
 * service's calls are its own) and its answer says so; the service passes
 * that back and the worker does not count the repeat again. Before, the
 * worker counted a repeat it completed twice as well: 2 for 1 after a lost
 * ack or crossed answers, 3 for 2 with the retry. With `idempotency: true`
 * the database absorbs the write (deduplicated), which the service does not
 * pass back: its own work ran again, and the worker counts a repeat it
 * completed before (1, as before); after the crash it completed none: 0. */
enum { SVC_LOST_ACK, SVC_CROSSED, SVC_CRASH, SVC_RETRY };

struct svc_net {
	int how;
	uint32_t m, w, front, svc, db; /* front: what the worker calls */
	unsigned acks, svc_answers, db_answers;
};

static asim_time svc_delay(void *net, struct asim_kernel *k, uint32_t from, uint16_t from_inst,
                           uint32_t to, uint16_t to_inst)
{
	struct svc_net *n = net;
	(void)k, (void)from_inst, (void)to_inst;
	if (from == n->w && to == n->m && (n->how == SVC_LOST_ACK || n->how == SVC_RETRY))
		return n->acks++ == 0 ? ASIM_NET_LOST : 0;
	if (from == n->front && to == n->w && n->how == SVC_CROSSED)
		return n->svc_answers++ == 0 ? 100 * MS : 0;
	if (from == n->db && to == n->svc && n->how == SVC_RETRY)
		return n->db_answers++ == 1 ? 100 * MS : 0;
	return 0;
}

static const struct {
	int how;
	bool idempotency, balancer;
	const char *worker, *service;
	uint64_t writes, w_dups, db_dups, deduplicated;
} svc_repeats[] = {
	{SVC_LOST_ACK, false, false, "", "", 2, 0, 1, 0},
	{SVC_LOST_ACK, true, false, "", "", 2, 1, 0, 1},
	{SVC_LOST_ACK, false, true, "", "", 2, 0, 1, 0},
	{SVC_CROSSED, false, false, "concurrency: 2\n", "", 2, 0, 1, 0},
	{SVC_CROSSED, true, false, "concurrency: 2\n", "", 2, 1, 0, 1},
	{SVC_CRASH, false, false, "", "", 2, 0, 1, 0},
	{SVC_CRASH, true, false, "", "", 2, 0, 0, 1},
	{SVC_RETRY, false, false, "",
	 "calls: [{target: db, timeout: 20ms, retries: {max: 1, base: 1ms, jitter: none}}]\n", 3,
	 0, 2, 0},
};

START_TEST(worker_repeat_through_service_counted_once)
{
	static const struct drv_row rows[] = {{0, W, 5}};
	char worker[160], svc[256], db[128];
	snprintf(worker, sizeof worker, "kind: worker\nservice_time: 1ms\ntarget: %s\n%s",
	         svc_repeats[_i].balancer ? "lb" : "svc", svc_repeats[_i].worker);
	snprintf(svc, sizeof svc, "kind: service\nconcurrency: 2\nservice_time: 1ms\n%s",
	         *svc_repeats[_i].service ? svc_repeats[_i].service : "calls: [{target: db}]\n");
	snprintf(db, sizeof db, "kind: database\nread_time: 1ms\nwrite_time: 1ms\nidempotency: %s\n",
	         svc_repeats[_i].idempotency ? "true" : "false");
	const struct part parts[] = {
		{"m", &asim_queue_ops, "kind: queue\nrebalance_time: 0s\nconsumers: w\nack_timeout: 50ms\n"},
		{"w", &asim_worker_ops, worker},
		{"svc", &asim_service_ops, svc},
		{"db", &asim_database_ops, db},
		{"lb", &asim_load_balancer_ops, "kind: load_balancer\ntargets: svc\n"},
	};
	struct rig g;
	rig_build(&g, parts, svc_repeats[_i].balancer ? 5 : 4, rows, 1);
	struct svc_net net = {.how = svc_repeats[_i].how,
	                      .m = asim_kernel_find(g.k, "m")->id,
	                      .w = asim_kernel_find(g.k, "w")->id,
	                      .svc = asim_kernel_find(g.k, "svc")->id,
	                      .db = asim_kernel_find(g.k, "db")->id};
	net.front = svc_repeats[_i].balancer ? asim_kernel_find(g.k, "lb")->id : net.svc;
	asim_kernel_set_network(g.k, svc_delay, &net);
	if (svc_repeats[_i].how == SVC_CRASH) {
		struct asim_component *wc = asim_kernel_find(g.k, "w");
		struct asim_fault crash = {.kind = ASIM_FAULT_CRASH, .start = 2500 * US,
		                           .end = 10 * MS};
		ck_assert_int_eq(asim_kernel_run(g.k, crash.start), ASIM_RUN_DONE);
		wc->ops->fault(wc, &crash, true);
		ck_assert_int_eq(asim_kernel_run(g.k, crash.end), ASIM_RUN_DONE);
		wc->ops->fault(wc, &crash, false);
	}
	rig_run(&g, 500 * MS);
	ck_assert_uint_eq(num(&g, "components.m.delivered"), 2);
	ck_assert_uint_eq(num(&g, "components.m.acked"), 1);
	ck_assert_uint_eq(num(&g, "components.db.writes"), svc_repeats[_i].writes);
	/* Each write applied again counted once in all (none when the store
	 * absorbed a repeat that the worker never completed twice), then by
	 * whom. */
	uint64_t total = svc_repeats[_i].w_dups + svc_repeats[_i].db_dups;
	ck_assert_uint_eq(num(&g, "components.w.duplicates") +
	                      num(&g, "components.db.duplicate_writes"),
	                  total);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->duplicate_writes, total);
	ck_assert_uint_eq(num(&g, "components.w.duplicates"), svc_repeats[_i].w_dups);
	ck_assert_uint_eq(num(&g, "components.db.duplicate_writes"), svc_repeats[_i].db_dups);
	ck_assert_uint_eq(num(&g, "components.db.deduplicated"), svc_repeats[_i].deduplicated);
	rig_free(&g);
}
END_TEST

/* A worker's repeat whose verdict the worker cannot hear: the service it
 * calls passes the task on out of its sight (ASIM_CALL_PASSED_ON), and the
 * repeat is counted once, where it lands. queue m -> worker w -> service
 * svc -> ..., 1ms each step, ack timeout 50ms; the first delivery is
 * processed at 1ms, the redelivery at 51ms.
 * - lost ack: the worker's first answer to m is lost, so it completes both
 *   deliveries; crash: the worker crashes at 1.5ms (back at 10ms) with the
 *   first delivery at the service, which still sends its calls: the worker
 *   completes the redelivery only.
 * Gap 1, emits (svc answers at once; its emit lands after, never heard):
 * - to a database db: db counts the write applied again. Before, the
 *   worker counted the repeat it completed twice as well: 2 for 1. With
 *   `idempotency: true` db absorbs it and nothing counts: the write is not
 *   applied again (before: the worker's 1).
 * - to a queue q2 consumed by worker w2, which writes to db: q2 takes the
 *   second emit as a repeat (q2.repeats 1) and stores it under the first
 *   message's id, so w2 (told by db that it applied the write again)
 *   counts it. Before, q2 gave it a new id: w2 and db saw a new task, the
 *   effect landed twice uncounted after the crash (0 for 1), and with an
 *   idempotent db it landed twice (now db absorbs it: deduplicated 1).
 * - a worker that produces into q2 itself (w's target): q2's answer to the
 *   repeat says so, and w2 counts it instead of w.
 * Gap 2, a write given up on (svc answers OK without the store's word):
 * - on_error: ignore after svc's 20ms timeout, the redelivery's write
 *   committed at 53ms but its answer 100ms late (late answer), or the
 *   write itself 30ms late, committed at 83ms after svc answered at 72ms
 *   (late write);
 * - a `parallel` group with `wait: first` whose other call (service fast)
 *   answers first, db's answer 100ms late.
 *   db counts the repeat; before, the worker counted it as well: 2 for 1.
 *   With idempotency: 0, as with the emit.
 * - a read given up on (op read) is not passed on: no store counts a read,
 *   and the worker counts its repeat (1, as before).
 * - unless it goes where a repeat of it is judged: a read given up on
 *   (20ms, on_error: ignore, each of svc2's answers 100ms late, so that
 *   the first delivery's does not tell the worker either) to a service svc2
 *   that emits to q2, or to a balancer in front of it, or that calls one
 *   that does, or that writes on the read's behalf (op: write) to db: w2
 *   or db counts the repeat, and w leaves it. Before, w counted it as well:
 *   2 for 1. A read to svc2 that emits only on writes (`write: [...]`) or
 *   calls nothing is not passed on (w counts 1).
 * A worker w2 that w reaches through svc, or directly (w's target), counts
 * the repeat it completes again and says so (ASIM_CALL_DUPLICATE_COUNTED),
 * and w leaves it; a read given up on to w2 is passed on, since w2 counts
 * repeats of reads too. Before, both counted: 2 for 1. */
enum { PASS_LOST_ACK, PASS_CRASH };

struct pass_net {
	uint32_t m, w, svc, db, svc2;
	bool lose_ack;
	asim_time late_answer, late_write; /* of db's 2nd answer to svc, svc's 2nd call to db */
	unsigned acks, answers, writes;
};

static asim_time pass_delay(void *net, struct asim_kernel *k, uint32_t from, uint16_t from_inst,
                            uint32_t to, uint16_t to_inst)
{
	struct pass_net *n = net;
	(void)k, (void)from_inst, (void)to_inst;
	if (from == n->w && to == n->m && n->lose_ack)
		return n->acks++ == 0 ? ASIM_NET_LOST : 0;
	if (from == n->svc2 && to == n->svc)
		return n->late_answer;
	if (from == n->db && to == n->svc)
		return n->answers++ == 1 ? n->late_answer : 0;
	if (from == n->svc && to == n->db)
		return n->writes++ == 1 ? n->late_write : 0;
	return 0;
}

static const struct {
	int how;
	bool idempotency;
	const char *w_target, *calls;
	asim_time late_answer, late_write;
	uint64_t writes, w_dups, w2_dups, db_dups, deduplicated, repeats;
	const char *svc2_calls; /* svc2's calls (NULL: none) */
} pass_cases[] = {
	/* Gap 1: emits to a database, to a queue; a worker producing itself. */
	{PASS_LOST_ACK, false, "svc", "[{emit: db}]", 0, 0, 2, 0, 0, 1, 0, 0, NULL},
	{PASS_LOST_ACK, true, "svc", "[{emit: db}]", 0, 0, 2, 0, 0, 0, 1, 0, NULL},
	{PASS_CRASH, false, "svc", "[{emit: db}]", 0, 0, 2, 0, 0, 1, 0, 0, NULL},
	{PASS_LOST_ACK, false, "svc", "[{emit: q2}]", 0, 0, 2, 0, 1, 0, 0, 1, NULL},
	{PASS_LOST_ACK, true, "svc", "[{emit: q2}]", 0, 0, 2, 0, 0, 0, 1, 1, NULL},
	{PASS_CRASH, false, "svc", "[{emit: q2}]", 0, 0, 2, 0, 1, 0, 0, 1, NULL},
	{PASS_LOST_ACK, false, "q2", "[{emit: db}]", 0, 0, 2, 0, 1, 0, 0, 1, NULL},
	/* Gap 2: writes given up on; a read given up on. */
	{PASS_LOST_ACK, false, "svc", "[{target: db, timeout: 20ms, on_error: ignore}]", 100 * MS,
	 0, 2, 0, 0, 1, 0, 0, NULL},
	{PASS_LOST_ACK, false, "svc", "[{target: db, timeout: 20ms, on_error: ignore}]", 0,
	 30 * MS, 2, 0, 0, 1, 0, 0, NULL},
	{PASS_LOST_ACK, false, "svc", "[{parallel: [{target: db}, {target: fast}], wait: first}]",
	 100 * MS, 0, 2, 0, 0, 1, 0, 0, NULL},
	{PASS_LOST_ACK, true, "svc", "[{target: db, timeout: 20ms, on_error: ignore}]", 100 * MS,
	 0, 2, 0, 0, 0, 1, 0, NULL},
	{PASS_LOST_ACK, false, "svc",
	 "[{target: db, op: read, timeout: 20ms, on_error: ignore}]", 100 * MS, 0, 0, 1, 0, 0, 0,
	 0, NULL},
	/* Reads given up on to where a repeat is judged, and to where not. */
	{PASS_LOST_ACK, false, "svc", "[{target: svc2, op: read, timeout: 20ms, on_error: ignore}]",
	 100 * MS, 0, 2, 0, 1, 0, 0, 1, "[{emit: q2, op: write}]"},
	{PASS_LOST_ACK, false, "svc", "[{target: lb, op: read, timeout: 20ms, on_error: ignore}]",
	 100 * MS, 0, 2, 0, 1, 0, 0, 1, "[{emit: q2, op: write}]"},
	{PASS_LOST_ACK, false, "svc", "[{target: svc2, op: read, timeout: 20ms, on_error: ignore}]",
	 100 * MS, 0, 2, 0, 0, 1, 0, 0, "[{target: db, op: write}]"},
	{PASS_LOST_ACK, false, "svc", "[{target: svc2, op: read, timeout: 20ms, on_error: ignore}]",
	 100 * MS, 0, 2, 0, 1, 0, 0, 1, "[{target: svc3}]"},
	{PASS_LOST_ACK, false, "svc", "[{target: svc2, op: read, timeout: 20ms, on_error: ignore}]",
	 100 * MS, 0, 0, 1, 0, 0, 0, 0, "{write: [{emit: q2, op: write}]}"},
	{PASS_LOST_ACK, false, "svc", "[{target: svc2, op: read, timeout: 20ms, on_error: ignore}]",
	 100 * MS, 0, 0, 1, 0, 0, 0, 0, NULL},
	/* A worker behind a service, and behind a worker. */
	{PASS_LOST_ACK, false, "svc", "[{target: w2}]", 0, 0, 2, 0, 1, 0, 0, 0, NULL},
	{PASS_LOST_ACK, false, "w2", "[]", 0, 0, 2, 0, 1, 0, 0, 0, NULL},
	/* An idempotent worker w3 in between: the store applies the repeat
	 * again and says so, w3 leaves the count to w. */
	{PASS_LOST_ACK, false, "w3", "[]", 0, 0, 2, 1, 0, 0, 0, 0, NULL},
	/* A read given up on to a worker, which counts repeats of reads too. */
	{PASS_LOST_ACK, false, "svc", "[{target: w2, op: read, timeout: 20ms, on_error: ignore}]",
	 100 * MS, 0, 0, 0, 1, 0, 0, 0, NULL},
};

START_TEST(worker_repeat_passed_on_counted_once)
{
	static const struct drv_row rows[] = {{0, W, 5}};
	char worker[96], svc[160], db[128], svc2[128];
	snprintf(worker, sizeof worker, "kind: worker\nservice_time: 1ms\ntarget: %s\n",
	         pass_cases[_i].w_target);
	snprintf(svc, sizeof svc, "kind: service\nconcurrency: 2\nservice_time: 1ms\ncalls: %s\n",
	         pass_cases[_i].calls);
	snprintf(db, sizeof db, "kind: database\nread_time: 1ms\nwrite_time: 1ms\nidempotency: %s\n",
	         pass_cases[_i].idempotency ? "true" : "false");
	snprintf(svc2, sizeof svc2, "kind: service\nservice_time: 1ms\n%s%s\n",
	         pass_cases[_i].svc2_calls ? "calls: " : "",
	         pass_cases[_i].svc2_calls ? pass_cases[_i].svc2_calls : "");
	const struct part parts[] = {
		{"m", &asim_queue_ops, "kind: queue\nrebalance_time: 0s\nconsumers: w\nack_timeout: 50ms\n"},
		{"w", &asim_worker_ops, worker},
		{"svc", &asim_service_ops, svc},
		{"db", &asim_database_ops, db},
		{"q2", &asim_queue_ops, "kind: queue\nrebalance_time: 0s\nconsumers: w2\n"},
		{"w2", &asim_worker_ops, "kind: worker\nservice_time: 1ms\ntarget: db\n"},
		{"fast", &asim_service_ops, "kind: service\nservice_time: 1ms\n"},
		{"svc2", &asim_service_ops, svc2},
		{"lb", &asim_load_balancer_ops, "kind: load_balancer\ntargets: svc2\n"},
		{"svc3", &asim_service_ops, "kind: service\nservice_time: 1ms\ncalls: [{emit: q2, op: write}]\n"},
		{"w3", &asim_worker_ops,
		 "kind: worker\nservice_time: 1ms\nidempotent: true\ntarget: db\n"},
	};
	struct rig g;
	rig_build(&g, parts, 11, rows, 1);
	struct pass_net net = {.m = asim_kernel_find(g.k, "m")->id,
	                       .w = asim_kernel_find(g.k, "w")->id,
	                       .svc = asim_kernel_find(g.k, "svc")->id,
	                       .db = asim_kernel_find(g.k, "db")->id,
	                       /* whose second answer to svc is late */
	                       .svc2 = asim_kernel_find(g.k, strstr(pass_cases[_i].calls, "lb")   ? "lb"
	                                                     : strstr(pass_cases[_i].calls, "w2") ? "w2"
	                                                                                          : "svc2")
	                                   ->id,
	                       .lose_ack = pass_cases[_i].how == PASS_LOST_ACK,
	                       .late_answer = pass_cases[_i].late_answer,
	                       .late_write = pass_cases[_i].late_write};
	asim_kernel_set_network(g.k, pass_delay, &net);
	if (pass_cases[_i].how == PASS_CRASH) {
		struct asim_component *wc = asim_kernel_find(g.k, "w");
		struct asim_fault crash = {.kind = ASIM_FAULT_CRASH, .start = 1500 * US,
		                           .end = 10 * MS};
		ck_assert_int_eq(asim_kernel_run(g.k, crash.start), ASIM_RUN_DONE);
		wc->ops->fault(wc, &crash, true);
		ck_assert_int_eq(asim_kernel_run(g.k, crash.end), ASIM_RUN_DONE);
		wc->ops->fault(wc, &crash, false);
	}
	rig_run(&g, 500 * MS);
	ck_assert_uint_eq(num(&g, "components.m.delivered"), 2);
	ck_assert_uint_eq(num(&g, "components.m.acked"), 1);
	ck_assert_uint_eq(num(&g, "components.w.processed"),
	                  pass_cases[_i].how == PASS_CRASH ? 1 : 2);
	ck_assert_uint_eq(num(&g, "components.db.writes"), pass_cases[_i].writes);
	/* One repeat, counted once in all (none where an idempotent store
	 * absorbed it), then by whom. */
	uint64_t total = pass_cases[_i].w_dups + pass_cases[_i].w2_dups + pass_cases[_i].db_dups;
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->duplicate_writes, total);
	ck_assert_uint_le(total, 1);
	ck_assert_uint_eq(num(&g, "components.w.duplicates"), pass_cases[_i].w_dups);
	ck_assert_uint_eq(num(&g, "components.w2.duplicates"), pass_cases[_i].w2_dups);
	ck_assert_uint_eq(num(&g, "components.db.duplicate_writes"), pass_cases[_i].db_dups);
	ck_assert_uint_eq(num(&g, "components.db.deduplicated"), pass_cases[_i].deduplicated);
	ck_assert_uint_eq(num(&g, "components.q2.repeats"), pass_cases[_i].repeats);
	rig_free(&g);
}
END_TEST

/* The tables that remember requests (a queue's stored messages, a
 * worker's completed requests, a database's applied writes) index them by
 * request_slot: the ids one issuer sends through one caller take
 * consecutive slots, so none of a stream's entries is evicted by the same
 * stream before the table has gone round (with a hash of the id, a quarter
 * of 65,536 consecutive ids shared a slot with a later one), and streams
 * start at places of their own. */
START_TEST(request_slot_keeps_a_stream_in_order)
{
	enum { BITS = 16, N = 1 << BITS };
	static const uint64_t issuers[] = {1, 2, 3, 40};
	static const uint32_t callers[] = {0, 5, 6};
	static bool taken[N];
	uint32_t starts[4 * 3];
	size_t nstarts = 0;
	for (size_t i = 0; i < 4; i++) {
		for (size_t j = 0; j < 3; j++) {
			uint64_t first = issuers[i] << 40 | (uint64_t)(i * 7919 + j * 104729);
			memset(taken, 0, sizeof taken);
			uint32_t start = request_slot(first, callers[j], N - 1);
			/* Counted, then asserted once: Check marks every assertion
			 * that passes, which would cost more than the loop. */
			uint64_t out_of_order = 0, shared = 0;
			for (uint64_t n = 0; n < N; n++) {
				uint32_t h = request_slot(first + n, callers[j], N - 1);
				out_of_order += h != ((start + n) & (N - 1));
				shared += taken[h];
				taken[h] = true;
			}
			ck_assert_uint_eq(out_of_order, 0);
			ck_assert_uint_eq(shared, 0);
			/* Another issuer's stream, or the same one through another
			 * caller, starts elsewhere. */
			uint32_t zero = request_slot(issuers[i] << 40, callers[j], N - 1);
			for (size_t s = 0; s < nstarts; s++)
				ck_assert_uint_ne(zero, starts[s]);
			starts[nstarts++] = zero;
		}
	}
}
END_TEST

/* A redelivery after many other messages is still recognised: the first
 * of 30,000 messages (one every 10us) loses its ack and is delivered again
 * after the 400ms ack timeout, when the worker has completed every other
 * one. Its table of completed requests (65,536 entries) still holds it, so
 * the repeat counts. Before, with the ids hashed over the table, the first
 * message's entry had been overwritten by then (the worker counted 0). The
 * ack is lost by late_ack_delay. */
START_TEST(worker_recognises_a_late_redelivery)
{
	enum { N = 30000 };
	struct drv_row *rows = calloc(N, sizeof *rows);
	ck_assert_ptr_nonnull(rows);
	for (size_t i = 0; i < N; i++)
		rows[i] = (struct drv_row){(asim_time)i * 10 * US, W, i};
	const struct part parts[] = {
		{"m", &asim_queue_ops,
		 "kind: queue\nrebalance_time: 0s\nconsumers: w\nack_timeout: 400ms\nprefetch: 64\n"},
		{"w", &asim_worker_ops, "kind: worker\nconcurrency: 8\nservice_time: 1us\n"},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, N);
	struct late_ack_net net = {.worker = asim_kernel_find(g.k, "w")->id,
	                           .queue = asim_kernel_find(g.k, "m")->id,
	                           .lose = true};
	asim_kernel_set_network(g.k, late_ack_delay, &net);
	rig_run(&g, 1000 * MS);
	ck_assert_uint_eq(num(&g, "components.m.delivered"), N + 1);
	ck_assert_uint_eq(num(&g, "components.m.redelivered"), 1);
	ck_assert_uint_eq(num(&g, "components.w.processed"), N + 1);
	ck_assert_uint_eq(num(&g, "components.w.duplicates"), 1);
	rig_free(&g);
	free(rows);
}
END_TEST

START_TEST(worker_processes_in_order)
{
	static const struct drv_row rows[] = {{0, R, 1}, {0, R, 2}};
	const struct part parts[] = {{"m", &asim_worker_ops, "kind: worker\nservice_time: 10ms\n"}};
	struct rig g;
	rig_build(&g, parts, 1, rows, 2);
	rig_run(&g, 40 * MS);
	ck_assert_int_eq(g.got[0].at, 10 * MS);
	ck_assert_int_eq(g.got[1].at, 20 * MS);
	ck_assert_uint_eq(num(&g, "components.m.processed"), 2);
	ck_assert_double_eq_tol(num(&g, "components.m.utilization"), 0.5, 1e-9);
	ck_assert_double_eq_tol(num(&g, "components.m.queue_mean"), 0.25, 1e-9);
	rig_free(&g);
}
END_TEST


static Suite *messaging_suite(void)
{
	Suite *s = suite_create("messaging");
	TCase *tc = tcase_create("queue");
	tcase_add_test(tc, request_slot_keeps_a_stream_in_order);
	tcase_add_test(tc, worker_recognises_a_late_redelivery);
	tcase_add_test(tc, queue_partitions_to_consumers);
	tcase_add_test(tc, queue_capacity_reject);
	tcase_add_test(tc, queue_capacity_block);
	tcase_add_test(tc, queue_backlog_and_lag);
	tcase_add_loop_test(tc, queue_redelivery_duplicates, 0, 2);
	tcase_add_loop_test(tc, queue_late_ack_duplicates, 0, 3);
	tcase_add_loop_test(tc, worker_repeat_deduplicated_by_store, 0, 10);
	tcase_add_loop_test(tc, worker_crossed_answers_deduplicated, 0, 2);
	tcase_add_loop_test(tc, worker_counts_a_repeat_the_store_applied_again, 0, 2);
	tcase_add_loop_test(tc, worker_repeat_through_service_counted_once, 0, 8);
	tcase_add_loop_test(tc, worker_repeat_passed_on_counted_once, 0, 22);
	tcase_add_test(tc, worker_processes_in_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(messaging_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
