/* queue: an event log / message queue between producers and a pool of
 * consumers (a worker component, or a service: it answers each delivery as a
 * request, and an ok answer acks it).
 *
 * Producing: a producer's call is answered OK as soon as its message is
 * stored (the work itself is asynchronous for the producer). The queue holds
 * at most `capacity` unacknowledged messages; when full, `when_full: reject`
 * answers ASIM_REJECTED at once and `block` holds the producer's answer until
 * an acknowledgement frees a place (in arrival order; a producer that gave up
 * meanwhile is dropped without storing its message).
 *
 * Partitions: a message goes to partition key mod `partitions`, and
 * partition p is consumed by consumer instance p mod instances, as with a
 * static assignment in Kafka: with fewer partitions than consumer instances
 * some instances stay idle. `partitions` defaults to one per consumer
 * instance. Each consumer instance has `prefetch` deliveries in flight at
 * most (default 1; set it to the worker's concurrency to keep its threads
 * busy) and takes its partitions in turn, redeliveries first.
 *
 * The consumer group (queue_group.c): the broker's sessions with the
 * consumer instances (`session_timeout`), the group's rebalances
 * (`rebalance_time`, `rebalance_protocol`, `initial_rebalance`), restarts
 * (`static_membership`) and the assignment they make. Deliveries follow the
 * assignment in force: an instance out of it gets none and the next one in
 * it takes its partitions (queue_owner); while the group rebalances eagerly
 * nothing is delivered, cooperatively the partitions that move are held
 * back (queue_dispatch, take); the instance a delivery went to may be down
 * or cut off without the broker knowing yet.
 *
 * Delivery is at least once, with the call protocol: the queue calls the
 * consumer instance with the message's op and key (request = message id,
 * attempt = earlier deliveries) and the consumer answers when done; OK is the
 * acknowledgement. Without an OK within `ack_timeout` (default 30s) the queue
 * abandons that delivery and delivers the message again; a non-OK answer
 * frees the consumer's slot but leaves the message invisible until the same
 * timeout, as with a visibility timeout, so a failing consumer cannot spin.
 * A message processed more than once (a delivery finished after its ack
 * timeout, or whose ok answer came too late or was lost, and then its
 * redelivery) is a duplicate: the worker model counts it.
 *
 * Repeats: a message produced again for a logical request the queue took
 * before, from the same producer (a redelivered task's service emitting
 * its event again, a worker writing its task again, a client's retry or
 * hedge after its first attempt was stored), is one message twice: its
 * consumer would apply it again. The queue remembers the messages it
 * stored in a table of REPEAT_SLOTS entries indexed by the request id and
 * the producer (request_slot: one issuer's requests through one producer
 * take consecutive entries; a later one sharing an entry evicts an older
 * one, as in the worker's and the database's tables), stores a
 * repeat as a message of its own under the first one's id (the id an
 * application puts in the event it publishes), and counts it (`repeats`).
 * Its consumer then sees the request it completed before: a worker counts
 * the duplicate (or its idempotent store absorbs it), once. The producer's
 * answer says ASIM_CALL_PASSED_ON, so that a worker above it (directly,
 * or above a service that waited for this answer) leaves the count to the
 * consumer; a service's emit passes that on by itself (service_calls.c,
 * Repeats). Before, each repeat was a new message, with a new id, and
 * nothing downstream recognised it. Two producers publishing for one
 * request are two messages, as two services writing for one request are
 * two writes at a database; a call without a request id (0) is never a
 * repeat. The queue does not drop a repeat: Kafka's idempotent producer
 * only drops the retries of one send inside the broker, not a producer's
 * own work run again.
 *
 * Consumer lag is the age of the oldest unacknowledged message; its time
 * average is integrated exactly (it grows linearly between events). The
 * stored messages form a doubly linked list in arrival order, so the oldest
 * is its head and an acknowledged message leaves it (and its record returns
 * to the pool) at once, wherever it is: memory follows the backlog, not the
 * lag.
 *
 * A message carries its producer's call->version to the consumer (a change
 * feed's source version).
 *
 * Reported saturation: `queue_mean` is the time-averaged backlog (stored,
 * unacknowledged messages) and `utilization` that over `capacity`; 0
 * without a capacity, since an unbounded log never fills.
 *
 * Faults: `consumer_stall` stops deliveries (messages pile up; the backlog
 * drains when it ends). `crash` (or a zone loss) takes the broker down:
 * producers' calls are dropped unanswered (they time out), and the
 * consumers' connections close with it, so every delivery out is over (an
 * answer that comes later is ignored; the consumer may still finish the
 * work, which the worker counts as a duplicate if the message is delivered
 * again). A `durable: true` broker (messages on disk, replicated) keeps
 * every message and, as soon as it restarts, delivers again those that
 * were out at consumers, as RabbitMQ requeues a closed channel's
 * unacknowledged messages and Kafka's consumers resume from their last
 * committed offset, not after their ack timeout. Otherwise the broker
 * loses every unacknowledged message it holds in memory that is not out at
 * a consumer: each counts as a lost write (outcome lost_writes); those out
 * at consumers leave its store too (its backlog and lag no longer count
 * them) but are not lost: their work is under way, never to be
 * acknowledged. The consumer sessions run on through the broker's outage. */
#include <stdlib.h>
#include <string.h>

#include "queue_private.h"

struct msg {
	struct msg *prev, *next; /* stored messages in arrival order */
	uint64_t id, key;
	asim_time enqueued;
	struct asim_call *call;  /* the delivery in flight, or NULL */
	struct asim_timer timer; /* its ack (visibility) timeout */
	uint32_t partition, deliveries;
	uint64_t version;
	uint16_t op, consumer;
	bool refused; /* its delivery met a consumer instance down (see answered) */
};

enum { FULL_REJECT, FULL_BLOCK };
static const char *const when_full_names[] = {"reject", "block", NULL};

/* The values of `rebalance_protocol`, in REBALANCE_* order (queue_private.h). */
static const char *const rebalance_protocol_names[] = {"eager", "cooperative", NULL};

/* A message the queue stored, remembered by its request and producer
 * (Repeats). */
struct seen {
	uint64_t request, id;
	uint32_t caller;
};

/* Messages remembered (a power of two): 24 bytes each, 1.5 MiB per queue.
 * An entry lives while its issuer sends its next 65,536 requests (65 s at
 * 1,000 per second, longer than the default ack timeout of 30 s that
 * spaces a redelivered task's repeats), or until another issuer's run of
 * entries reaches it. */
#define REPEAT_SLOTS (UINT32_C(1) << 16)

/* The run's queue_backlog invariant: the most messages any queue held at
 * once after warm-up. Only a store raises it, so only stores (and the end of
 * warm-up, with what is stored then) look. */
static void peak_backlog(struct asim_kernel *k, const struct queue *s)
{
	struct asim_outcome *o = asim_kernel_outcome(k);
	if (o && s->stored > o->queue_backlog)
		o->queue_backlog = s->stored;
}

static const char *const queue_keys[] = {
	"kind", "zone", "partitions", "capacity", "when_full", "consumers", "ack_timeout",
	"prefetch", "durable", "session_timeout", "rebalance_time", "rebalance_protocol",
	"static_membership", "initial_rebalance", NULL,
};

static bool configure(struct asim_component *c, const struct asim_cfg *map, struct asim_diag *d)
{
	struct queue *s = c->state;
	asim_call_measure(c, &s->latency);
	if (!asim_cfg_expect_map(map, c->name, queue_keys, d))
		return false;
	int64_t parts = 0, prefetch = 1;
	s->capacity = UINT64_MAX;
	s->when_full = FULL_REJECT;
	s->protocol = REBALANCE_EAGER;
	s->ack_timeout = 30 * ASIM_S;
	/* Kafka's session.timeout.ms until 3.0 (45 s since; RabbitMQ's
	 * heartbeat gives 60 s): see queue_group.c, "Consumer sessions". */
	s->session_timeout = 10 * ASIM_S;
	/* Kafka's heartbeat.interval.ms (and group.initial.rebalance.delay.ms):
	 * see queue_group.c, "Rebalances". */
	s->rebalance_time = 3 * ASIM_S;
	s->rebalancing_since = ASIM_TIME_MAX;
	s->initial_rebalance = true;
	bool ok = model_instances(c, map, 1, d);
	ok &= asim_cfg_int(map, "partitions", ASIM_OPTIONAL, 1, 65536, &parts, d);
	const struct asim_cfg *cap = asim_cfg_get(map, "capacity");
	if (cap && !(cap->type == ASIM_CFG_SCALAR && !strcmp(cap->text, "unbounded"))) {
		int64_t n = 0;
		ok &= asim_cfg_int(map, "capacity", ASIM_REQUIRED, 1, INT64_C(1) << 40, &n, d);
		s->capacity = (uint64_t)n;
	}
	ok &= asim_cfg_choice(map, "when_full", ASIM_OPTIONAL, when_full_names, &s->when_full, d);
	ok &= asim_cfg_time(map, "ack_timeout", ASIM_OPTIONAL, ASIM_US, 24 * ASIM_HOUR,
	                    &s->ack_timeout, d);
	ok &= asim_cfg_int(map, "prefetch", ASIM_OPTIONAL, 1, 1000000, &prefetch, d);
	ok &= asim_cfg_bool(map, "durable", ASIM_OPTIONAL, &s->durable, d);
	ok &= asim_cfg_time(map, "session_timeout", ASIM_OPTIONAL, 0, 24 * ASIM_HOUR,
	                    &s->session_timeout, d);
	ok &= asim_cfg_time(map, "rebalance_time", ASIM_OPTIONAL, 0, 24 * ASIM_HOUR,
	                    &s->rebalance_time, d);
	ok &= asim_cfg_choice(map, "rebalance_protocol", ASIM_OPTIONAL, rebalance_protocol_names,
	                      &s->protocol, d);
	ok &= asim_cfg_bool(map, "static_membership", ASIM_OPTIONAL, &s->static_membership, d);
	ok &= asim_cfg_bool(map, "initial_rebalance", ASIM_OPTIONAL, &s->initial_rebalance, d);
	struct asim_component *t = model_target(c, map, "consumers", d);
	if (!t || !ok)
		return false;
	s->consumer = t->id;
	s->nparts = (uint32_t)parts;
	s->prefetch = (uint32_t)prefetch;
	asim_kernel_pool_init(c->kernel, &s->msgs, sizeof(struct msg), 1024);
	return true;
}

/* The consumer's instance count is known only once every component is
 * configured, so the per-consumer tables are made here. */
static void start(struct asim_component *c)
{
	struct queue *s = c->state;
	struct asim_kernel *k = c->kernel;
	s->ncons = asim_kernel_component(k, s->consumer)->instances;
	if (!s->nparts)
		s->nparts = s->ncons;
	s->part = calloc(s->nparts, sizeof *s->part);
	s->inflight = calloc(s->ncons, sizeof *s->inflight);
	s->rr = calloc(s->ncons, sizeof *s->rr);
	s->turn = calloc(s->ncons, sizeof *s->turn);
	s->sess = calloc(s->ncons, sizeof *s->sess);
	s->seen = calloc(REPEAT_SLOTS, sizeof *s->seen);
	if (!s->part || !s->inflight || !s->rr || !s->turn || !s->sess || !s->seen) {
		free(s->part);
		s->part = NULL; /* handle and fault see that start failed */
		asim_kernel_stop(k);
	}
	asim_tw_init(&s->backlog, 0, 0);
	if (s->part)
		queue_group_start(c, s);
}

static struct msg *oldest(const struct queue *s)
{
	return s->first;
}

static void link_last(struct queue *s, struct msg *m)
{
	m->next = NULL;
	m->prev = s->last;
	if (s->last)
		s->last->next = m;
	else
		s->first = m;
	s->last = m;
}

/* Takes m out of the stored list. */
static void unlink_msg(struct queue *s, struct msg *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		s->first = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else
		s->last = m->prev;
	m->prev = m->next = NULL;
}

/* A message no longer stored: nothing refers to it any more (it is in no
 * partition's ring, and its delivery and timer are over), so its record
 * goes back to the pool. */
static void unlink_free(struct queue *s, struct msg *m)
{
	unlink_msg(s, m);
	asim_pool_put(&s->msgs, m);
}

/* Adds the lag integral over (lag_last, now]: the oldest message does not
 * change in between, so the lag rises linearly. */
static void lag_advance(struct queue *s, asim_time now)
{
	const struct msg *m = oldest(s);
	if (m) {
		double a = (double)(s->lag_last - m->enqueued), b = (double)(now - m->enqueued);
		s->lag_area += (b * b - a * a) / 2;
		if (now - m->enqueued > s->lag_max)
			s->lag_max = now - m->enqueued;
	}
	s->lag_last = now;
}

static void deliver(struct asim_component *c, struct queue *s, struct msg *m, uint32_t i)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct asim_call *call = asim_call_new(k);
	if (!call)
		return;
	call->op = m->op;
	/* enqueue() wrote these just now when a consumer was free: ASIM_LOAD_ALONE
	 * says why. */
	call->key = ASIM_LOAD_ALONE(m->key);
	call->version = m->version;
	call->request = ASIM_LOAD_ALONE(m->id);
	call->attempt = m->deliveries;
	call->origin = m->enqueued;
	call->token = (uint64_t)(uintptr_t)m;
	if (!asim_time_add(now, s->ack_timeout, &call->deadline))
		call->deadline = ASIM_TIME_MAX;
	if (asim_measuring_at(k, now)) {
		s->delivered++;
		if (m->deliveries > 0)
			s->redelivered++;
	}
	m->deliveries++;
	m->call = call;
	m->consumer = (uint16_t)i;
	s->inflight[i]++;
	m->timer = asim_schedule_at(k, call->deadline, c->id, EV_ACK_TIMEOUT, 0, 0, m);
	asim_call_send(k, call, c->id, 0, s->consumer, (uint16_t)i);
}

/* The next message of consumer instance j's own partitions (p mod
 * instances == j), taken in turn, redeliveries first, but none of a
 * partition paused by a cooperative rebalance; NULL when they hold none. */
static struct msg *take(struct queue *s, uint32_t j)
{
	if (j >= s->nparts)
		return NULL;
	uint32_t mine = (s->nparts - j + s->ncons - 1) / s->ncons;
	for (uint32_t step = 0; step < mine; step++) {
		uint32_t p = j + ((s->rr[j] + step) % mine) * s->ncons;
		if (s->part[p].paused)
			continue;
		struct msg *m = ptr_ring_pop(&s->part[p].retry);
		if (!m)
			m = ptr_ring_pop(&s->part[p].ready);
		if (m) {
			s->rr[j] = (s->rr[j] + step + 1) % mine;
			return m;
		}
	}
	return NULL;
}

/* The consumer instance that takes partition p: its own while it is in
 * the assignment in force, else the next one in it (see queue_group.c,
 * "Consumer sessions" and "Rebalances"). */
uint32_t queue_owner(const struct queue *s, uint32_t p)
{
	uint32_t home = p % s->ncons;
	for (uint32_t step = 0; step < s->ncons; step++) {
		uint32_t i = (home + step) % s->ncons;
		if (!s->sess[i].unassigned)
			return i;
	}
	return home;
}

/* Fills consumer instance i's free slots from its partitions in turn, and
 * from those of the instances out of the assignment just before it, which
 * it stands in for: one partition set after the other, so none starves.
 * An instance down or cut off whose session has not expired yet still gets
 * its deliveries: the broker does not know. While the group rebalances
 * eagerly no instance has partitions; cooperatively, only the partitions
 * that move are held back (take). */
void queue_dispatch(struct asim_component *c, struct queue *s, uint32_t i)
{
	if (s->f.down || s->f.stalled || s->sess[i].unassigned ||
	    (s->protocol == REBALANCE_EAGER && s->rebalancing_since != ASIM_TIME_MAX))
		return;
	uint32_t sets = 1;
	while (sets < s->ncons && s->sess[(i + s->ncons - sets) % s->ncons].unassigned)
		sets++;
	while (s->inflight[i] < s->prefetch) {
		struct msg *m = NULL;
		for (uint32_t step = 0; step < sets && !m; step++) {
			uint32_t set = (s->turn[i] + step) % sets;
			m = take(s, (i + s->ncons - set) % s->ncons);
			if (m)
				s->turn[i] = (set + 1) % sets;
		}
		if (!m)
			return;
		deliver(c, s, m, i);
	}
}

/* Stores call's message; a repeat of one stored before (Repeats) takes
 * its id, and its answer says ASIM_CALL_PASSED_ON. */
static bool enqueue(struct asim_component *c, struct queue *s, struct asim_call *call)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	struct msg *m = asim_pool_get(&s->msgs);
	if (!m)
		return false;
	struct seen *e = NULL;
	if (call->request)
		e = &s->seen[request_slot(call->request, call->caller, REPEAT_SLOTS - 1)];
	if (e && e->request == call->request && e->caller == call->caller) {
		m->id = e->id;
		call->flags |= ASIM_CALL_PASSED_ON;
		if (asim_measuring_at(k, now))
			s->repeats++;
	} else {
		/* Message ids live in the queue's own namespace (its component
		 * id in the high bits, as clients do for request ids), so a
		 * consumer's write never shares an idempotency key with a client
		 * request's. */
		m->id = ((uint64_t)c->id << 40) | ++s->next_id;
		if (e)
			*e = (struct seen){.request = call->request, .id = m->id,
			                   .caller = call->caller};
	}
	m->key = call->key;
	m->version = call->version;
	m->op = call->op;
	m->enqueued = now;
	m->partition = (uint32_t)(call->key % s->nparts);
	lag_advance(s, now);
	if (!ptr_ring_push(&s->part[m->partition].ready, m)) {
		asim_pool_put(&s->msgs, m);
		return false;
	}
	link_last(s, m);
	s->stored++;
	asim_tw_set(&s->backlog, now, (double)s->stored);
	if (asim_measuring_at(k, now)) {
		s->produced++;
		peak_backlog(k, s);
	}
	queue_dispatch(c, s, queue_owner(s, m->partition));
	return true;
}

static void produce(struct asim_component *c, struct queue *s, struct asim_call *call)
{
	struct asim_kernel *k = c->kernel;
	bool measuring = asim_measuring_at(k, asim_now(k));
	if (s->f.down) {
		if (measuring)
			s->dropped++;
		asim_call_drop(k, call);
		return;
	}
	if (s->stored >= s->capacity || s->blocked.len) {
		if (s->when_full == FULL_REJECT) {
			if (measuring)
				s->rejected++;
			asim_call_reply(k, call, ASIM_REJECTED);
			return;
		}
		if (measuring)
			s->blocked_calls++;
		if (!ptr_ring_push(&s->blocked, call))
			asim_kernel_stop(k);
		return;
	}
	if (!enqueue(c, s, call)) {
		asim_kernel_stop(k);
		return;
	}
	asim_call_reply(k, call, ASIM_OK);
}

static void acked(struct asim_component *c, struct queue *s, struct msg *m)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	lag_advance(s, now);
	unlink_free(s, m);
	s->stored--;
	asim_tw_set(&s->backlog, now, (double)s->stored);
	if (asim_measuring_at(k, now))
		s->acked++;
	while (s->stored < s->capacity && s->blocked.len) {
		struct asim_call *call = ptr_ring_pop(&s->blocked);
		if (asim_call_abandoned(call)) {
			asim_call_reply(k, call, ASIM_TIMEOUT);
			continue;
		}
		if (!enqueue(c, s, call)) {
			asim_kernel_stop(k);
			return;
		}
		asim_call_reply(k, call, ASIM_OK);
	}
}

/* Whether m is out at a consumer instance, taking one of its slots. */
static bool out(const struct msg *m)
{
	return m->call || m->refused;
}

/* Ends the delivery of m, out at its consumer instance: its answer, should
 * one come, is ignored (the call is abandoned) and the consumer's slot is
 * free. */
static void end_delivery(struct asim_kernel *k, struct queue *s, struct msg *m)
{
	if (m->call)
		asim_call_abandon(k, m->call);
	m->call = NULL;
	m->refused = false;
	s->inflight[m->consumer]--;
	asim_cancel(k, m->timer);
}

/* The broker goes down. The consumers' connections close with it, so every
 * delivery out is over: a durable broker keeps those messages and delivers
 * them again as soon as it is back (RabbitMQ requeues the unacknowledged
 * messages of a closed channel, Kafka's consumers resume from their last
 * committed offset), not after their ack timeout. A broker that keeps its
 * messages in memory loses what it holds: those not out at a consumer are
 * lost writes; those out are forgotten, not lost (their work is under way,
 * never to be acknowledged). */
static void broker_down(struct asim_component *c, struct queue *s)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	uint64_t lost = 0;
	if (!s->durable) {
		for (uint32_t p = 0; p < s->nparts; p++) {
			s->part[p].ready.len = s->part[p].ready.head = 0;
			s->part[p].retry.len = s->part[p].retry.head = 0;
		}
		/* The lag up to the crash is the age of the oldest message
		 * before it. */
		lag_advance(s, now);
	}
	for (struct msg *m = s->first, *next; m; m = next) {
		next = m->next;
		bool was_out = out(m);
		if (was_out)
			end_delivery(k, s, m);
		if (s->durable) {
			/* In arrival order behind the redeliveries already due. */
			if (was_out && !ptr_ring_push(&s->part[m->partition].retry, m)) {
				asim_kernel_stop(k);
				return;
			}
			continue;
		}
		asim_cancel(k, m->timer);
		unlink_free(s, m);
		s->stored--;
		lost += !was_out;
	}
	if (s->durable)
		return;
	asim_tw_set(&s->backlog, now, (double)s->stored);
	/* Blocked producers were never answered: the crash drops them. */
	struct asim_call *call;
	while ((call = ptr_ring_pop(&s->blocked)))
		asim_call_drop(k, call);
	if (asim_measuring_at(k, now)) {
		s->lost += lost;
		asim_kernel_outcome(k)->lost_writes += lost;
	}
}

static void fault(struct asim_component *c, const struct asim_fault *f, bool active)
{
	struct queue *s = c->state;
	if (!s->part || !asim_fault_hits(f, 0))
		return;
	switch (inst_fault_apply(&s->f, f, active, asim_now(c->kernel))) {
	case EDGE_DOWN:
		broker_down(c, s);
		break;
	case EDGE_UP:
	case EDGE_UNSTALLED:
		for (uint32_t i = 0; i < s->ncons; i++)
			queue_dispatch(c, s, i);
		break;
	default:
		break;
	}
}

/* An answer to a delivery. None reaches a broker that is down: its crash
 * abandoned every delivery out, and it makes none while down. */
static void answered(struct asim_component *c, struct queue *s, struct asim_call *call)
{
	struct asim_kernel *k = c->kernel;
	struct msg *m = (struct msg *)(uintptr_t)call->token;
	enum asim_status st = call->status;
	asim_call_free(k, call);
	m->call = NULL;
	uint32_t i = m->consumer;
	if (st == ASIM_UNREACHABLE && s->sess[i].down) {
		/* A crashed consumer's process refused the delivery. The broker
		 * learns nothing from it (a consumer of a log that pulls, as in
		 * Kafka, simply stops fetching): the delivery is lost, and holds
		 * its slot until its ack timeout or the session's expiry. Taken
		 * as a nack, it would free the slot for the next message, to be
		 * refused at once in turn, and hide the whole partition for an
		 * ack timeout. */
		m->refused = true;
		return;
	}
	s->inflight[i]--;
	if (st == ASIM_OK) {
		asim_cancel(k, m->timer);
		acked(c, s, m);
	} else if (asim_measuring_at(k, asim_now(k))) {
		s->nacked++;
	}
	queue_dispatch(c, s, i);
}

static void ack_timeout(struct asim_component *c, struct queue *s, struct msg *m)
{
	struct asim_kernel *k = c->kernel;
	if (out(m)) {
		/* Its timer has fired: cancelling it again is a no-op. */
		end_delivery(k, s, m);
		if (asim_measuring_at(k, asim_now(k)))
			s->ack_timeouts++;
	}
	if (!ptr_ring_push(&s->part[m->partition].retry, m)) {
		asim_kernel_stop(k);
		return;
	}
	queue_dispatch(c, s, queue_owner(s, m->partition));
}

/* The deliveries out at consumer instance i will never be acknowledged:
 * each is ended and its message goes back to its partition's
 * redeliveries, in arrival order, for whichever instance takes the
 * partition now. */
void queue_requeue_out(struct asim_component *c, struct queue *s, uint32_t i)
{
	struct asim_kernel *k = c->kernel;
	for (struct msg *m = s->first; m; m = m->next) {
		if (!out(m) || m->consumer != i)
			continue;
		end_delivery(k, s, m);
		if (!ptr_ring_push(&s->part[m->partition].retry, m)) {
			asim_kernel_stop(k);
			return;
		}
	}
	for (uint32_t j = 0; j < s->ncons; j++)
		queue_dispatch(c, s, j);
}

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct queue *s = c->state;
	if (!s->part)
		return; /* start ran out of memory; the run is stopping */
	switch (ev->type) {
	case ASIM_EV_REQUEST:
		produce(c, s, ev->p);
		break;
	case ASIM_EV_RESPONSE:
		answered(c, s, ev->p);
		break;
	case EV_ACK_TIMEOUT:
		ack_timeout(c, s, ev->p);
		break;
	case EV_SESSION_EXPIRY:
	case EV_REPLACED_EXPIRY:
	case EV_REBALANCED:
		queue_group_event(c, s, ev);
		break;
	}
}

static void warmup_end(struct asim_component *c)
{
	struct queue *s = c->state;
	asim_time now = asim_now(c->kernel);
	asim_tw_reset(&s->backlog, now);
	peak_backlog(c->kernel, s);
	lag_advance(s, now);
	s->lag_area = 0;
	s->lag_start = now;
	s->lag_max = oldest(s) ? now - oldest(s)->enqueued : 0;
}

static void finish(struct asim_component *c)
{
	struct queue *s = c->state;
	lag_advance(s, asim_now(c->kernel));
	/* A rebalance under way at the end counts, as far as it got. */
	queue_end_rebalance(c->kernel, s);
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct queue *s = c->state;
	asim_time now = asim_now(c->kernel);
	const char *n = c->name;
	double span = (double)(s->lag_last - s->lag_start);
	double backlog = asim_tw_mean(&s->backlog, now);
	asim_results_string(r, "queue", "components.%s.kind", n);
	asim_results_count(r, s->nparts, "components.%s.partitions", n);
	asim_results_real(r, backlog, "components.%s.queue_mean", n);
	asim_results_count(r, (uint64_t)s->backlog.max, "components.%s.queue_max", n);
	asim_results_real(r, backlog, "components.%s.backlog_mean", n);
	asim_results_count(r, (uint64_t)s->backlog.max, "components.%s.backlog_max", n);
	asim_results_count(r, s->stored, "components.%s.backlog_end", n);
	/* Without a capacity the log is never full: no share of it is used. */
	asim_results_real(r, s->capacity != UINT64_MAX ? backlog / (double)s->capacity : 0.0,
	                  "components.%s.utilization", n);
	asim_results_real(r, span > 0 ? s->lag_area / span / (double)ASIM_MS : 0.0,
	                  "components.%s.lag_ms_mean", n);
	asim_results_real(r, asim_time_to_ms(s->lag_max), "components.%s.lag_ms_max", n);
	asim_results_count(r, s->produced, "components.%s.produced", n);
	asim_results_count(r, s->repeats, "components.%s.repeats", n);
	asim_results_count(r, s->rejected, "components.%s.rejected", n);
	asim_results_count(r, s->blocked_calls, "components.%s.blocked", n);
	asim_results_count(r, s->delivered, "components.%s.delivered", n);
	asim_results_count(r, s->redelivered, "components.%s.redelivered", n);
	asim_results_count(r, s->acked, "components.%s.acked", n);
	asim_results_count(r, s->nacked, "components.%s.nacked", n);
	asim_results_count(r, s->ack_timeouts, "components.%s.ack_timeouts", n);
	asim_results_count(r, s->lost, "components.%s.lost", n);
	asim_results_count(r, s->dropped, "components.%s.dropped", n);
	asim_results_count(r, s->sessions_expired, "components.%s.sessions_expired", n);
	asim_results_count(r, s->rebalances, "components.%s.rebalances", n);
	asim_results_real(r, asim_time_to_seconds(s->rebalancing), "components.%s.rebalance_s", n);
	asim_hist_report(r, &s->latency, "components.%s.latency_ms", c->name);
}

/* The backlog now, the level whose time average is queue_mean, for the
 * time series (and the `queues` plot); and, for a group that rebalances,
 * the share of the window since the last sample that it spent rebalancing
 * (eagerly: no partition consumed; cooperatively: some partition paused),
 * which shows when consumption stopped, however short the pause against
 * the window. Series sample once at each window's end: the bookkeeping
 * for the share is the only state this writes, and nothing in the run
 * reads it. */
static void sample(const struct asim_component *c, struct asim_results *r)
{
	struct queue *s = c->state;
	asim_results_real(r, (double)s->stored, "%s.queue", c->name);
	if (!s->rebalance_time)
		return;
	asim_time now = asim_now(c->kernel), all = s->rebalanced_all;
	if (s->rebalancing_since != ASIM_TIME_MAX)
		all += now - s->rebalance_began;
	double share = now > s->sampled_at
		? (double)(all - s->sampled_all) / (double)(now - s->sampled_at)
		: 0.0;
	s->sampled_all = all;
	s->sampled_at = now;
	asim_results_real(r, share, "%s.rebalancing", c->name);
}

static size_t edges(const struct asim_component *c, uint32_t *to, size_t max)
{
	const struct queue *s = c->state;
	if (max > 0)
		to[0] = s->consumer;
	return 1;
}

static void destroy(struct asim_component *c)
{
	struct queue *s = c->state;
	if (s->part)
		for (uint32_t p = 0; p < s->nparts; p++) {
			ptr_ring_free(&s->part[p].ready);
			ptr_ring_free(&s->part[p].retry);
		}
	free(s->part);
	free(s->inflight);
	free(s->rr);
	free(s->turn);
	free(s->sess);
	free(s->seen);
	ptr_ring_free(&s->blocked);
	asim_pool_finish(&s->msgs);
}

/* The model op judges_read: a queue stores a read as it stores a write,
 * and takes a repeat of either under the first one's id (Repeats). */
static bool judges_read(const struct asim_component *c, unsigned depth)
{
	(void)c, (void)depth;
	return true;
}

const struct asim_model_ops asim_queue_ops = {
	.kind = "queue",
	.summary = "partitioned message queue: capacity, at-least-once delivery to workers, redelivery",
	.state_size = sizeof(struct queue),
	.configure = configure,
	.start = start,
	.handle = handle,
	.warmup_end = warmup_end,
	.finish = finish,
	.report = report,
	.edges = edges,
	.judges_read = judges_read,
	.sample = sample,
	.destroy = destroy,
	.faults = ASIM_FAULT_BIT(ASIM_FAULT_CRASH) | ASIM_FAULT_BIT(ASIM_FAULT_ZONE_LOSS) |
	          ASIM_FAULT_BIT(ASIM_FAULT_CONSUMER_STALL),
	.fault = fault,
	.peer_fault = queue_peer_fault,
	.links_changed = queue_links_changed,
};
