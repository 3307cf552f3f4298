/* queue_group: the queue's consumer group (see queue.c for the queue itself
 * and queue_private.h for what the two files share): the broker's sessions
 * with the consumer instances, the group's rebalances, and the assignment of
 * partitions to instances that they make, which queue.c follows when it
 * delivers (queue_owner, queue_dispatch).
 *
 * Consumer sessions: the broker keeps a session with each consumer instance
 * and learns that one is gone only when the session expires: once the
 * instance has been down (a crash, or a zone loss) or cut off from the
 * broker by the network (a partition or a zone loss, either way: a
 * heartbeat needs its answer) for `session_timeout` without a break, as
 * Kafka's group coordinator ends a member whose heartbeats stop for
 * session.timeout.ms and RabbitMQ closes a connection after missed
 * heartbeats. The default, 10s, is Kafka's long-standing one (before 3.0;
 * 45s since, and RabbitMQ's heartbeat timeout is 60s: set those to model
 * them). Until then the broker goes on assigning the instance its
 * partitions and delivering to it: those deliveries are lost (a crashed
 * consumer drops or refuses them, a partition loses them; the broker
 * learns nothing from either) and fill its `prefetch` slots, and its
 * partitions back up. At expiry the group rebalances (see "Rebalances"),
 * which hands its partitions to the next instance in the group (in
 * instance order, wrapping round), and the messages out at it are
 * delivered again as soon as that is done, not after their ack timeout.
 * When the instance is up and reachable again it is back in the group and,
 * after another rebalance, takes its partitions back. One that went down
 * meanwhile and returns before its session expired is a new process (see
 * "Restarts"); one whose partition healed first keeps its session and its
 * place in the group, and its deliveries lost in the cut wait out their
 * ack timeout. `session_timeout: 0s` detects at once.
 *
 * Rebalances: the group's forming at time 0, and each change of its
 * membership (a session expires, an instance comes back after its session
 * expired, a new process replaces a crashed one) is a rebalance, and
 * partitions are handed out anew only after `rebalance_time` (or later,
 * see "Restarts"); until then no partition is delivered, to any
 * instance, as in Kafka's eager protocol (the classic consumer's, with its
 * default range assignor) every member gives up all its partitions and
 * stops consuming until the group has joined again and the new assignment
 * is synced. Deliveries already out go on, and their answers count. A
 * change during a rebalance starts it over: the assignment is made once
 * the membership has held still for `rebalance_time`. A group that its
 * last member leaves has nobody to wait for (Kafka's goes Empty at once):
 * no pause; the first member back pays one. The default, 3s, is Kafka's
 * heartbeat.interval.ms, the longest a member goes before its heartbeat's
 * answer tells it that a rebalance is on, and its
 * group.initial.rebalance.delay.ms, the pause before a group that was
 * empty is first assigned; rebalances reported in the field take seconds.
 * RabbitMQ has no group to rebalance (each consumer subscribes on its
 * own): `rebalance_time: 0s` models it, hands partitions over at once and
 * delivers from time 0.
 * `rebalance_protocol: cooperative` models Kafka's incremental protocol
 * (the CooperativeStickyAssignor, Kafka Streams' default, and KIP-848's
 * consumer group protocol): the new assignment is made at the change, and
 * only the partitions whose member changes under it pause for
 * `rebalance_time`, those that go to another instance and those of an
 * instance back as a new process (a new member, though the same
 * instance); every other partition goes on being delivered, since its
 * member keeps it. A change during the pause adds the partitions it moves,
 * and those already waiting wait until the membership has held still for
 * `rebalance_time`, as in the eager protocol. A change that moves no
 * partition (a member without partitions) pauses nothing. The first member
 * back to an empty group, and the group's forming, pause every partition,
 * as the eager protocol does. `rebalances` counts the pauses (one under
 * way at the end too), `rebalance_s` their time after warm-up: under the
 * cooperative protocol, the time any partition was paused. The time
 * series (queue.c, sample) has the share of each window the group spent
 * rebalancing, warm-up included, as NAME.rebalancing. A rebalance
 * schedules one event, at time 0 and when membership changes, and a
 * replaced session one more.
 *
 * The group's forming: a run starts cold (empty caches, empty queues), and
 * so does the consumer group: at time 0 its members join a group that is
 * empty, and Kafka's coordinator waits group.initial.rebalance.delay.ms
 * (3 s by default) for more members before it assigns the partitions of an
 * empty group (prepareRebalance makes an InitialDelayedJoin whenever the
 * group is Empty, not only for a new group). So every run with a
 * rebalance_time begins with a rebalance of that length, in which nothing
 * is consumed and the messages produced wait; and for the same reason the
 * first member back to a group that all of them had left pays the same
 * pause. A warm-up usually hides the first: it ends before the warm-up
 * does (it counts in rebalances and rebalance_s only when it runs past
 * it), and the backlog it leaves drains in about rebalance_time x rho /
 * (1 - rho) at a consumer load rho (with the default 3 s: 1 s at rho
 * 0.25, 12 s at 0.8): a warm-up that ends sooner measures the catching
 * up. A scenario that means the group to have formed before the run sets
 * `initial_rebalance: false`: the run starts with every partition
 * assigned, and later changes still pause the group (`rebalance_time: 0s`
 * does without rebalances altogether, as the closed-form checks in
 * scenarios/validation do).
 *
 * Restarts: a consumer instance that crashed and comes back before its
 * session expired is a new process. Without `static_membership` it joins
 * with a new member id (Kafka's classic protocol, KIP-394), while its old
 * member, whose process is gone, stays in the group until its session
 * expires: the new member's joining starts a rebalance, and the
 * coordinator completes a rebalance only when every member it knows has
 * joined again or left, so it waits for the old member, which never
 * rejoins, until its session expires (session.timeout.ms from its last
 * heartbeat, the crash). The rebalance lasts until then, or
 * `rebalance_time` from the return if that is later; eagerly nothing is
 * consumed meanwhile, cooperatively the instance's own partitions wait
 * (its old member still owns them). At the old session's expiry (counted
 * in sessions_expired) what the old process held is delivered again, once
 * the partitions are assigned (a restarted consumer resumes from the last
 * committed offset). `static_membership: true` gives each instance a
 * group.instance.id (KIP-345): the coordinator hands the old member's
 * place, and its partitions, to the new process as soon as it rejoins
 * within the session timeout, without a rebalance, and what the old one
 * held is delivered again at once. One that comes back after its session
 * expired rejoins as any member does. Without a group (`rebalance_time:
 * 0s`) the new connection replaces the old one at once, as before.
 *
 * Detection is exact, not sampled: instances and links change only when a
 * fault begins or ends, and the fault engine tells the broker of each such
 * edge (peer_fault, links_changed), so a session's expiry is timed from
 * the instant the instance went; a real broker's comes up to one heartbeat
 * interval sooner (Kafka's heartbeat.interval.ms is 3s), since the last
 * heartbeat it had came before. Nothing runs while every consumer is
 * present: a run without such faults schedules no event for sessions. */
#include "queue_private.h"

/* Adds the time the group has spent rebalancing since it was last
 * counted, from the end of warm-up on. */
static void count_rebalancing(struct asim_kernel *k, struct queue *s, asim_time now)
{
	if (s->rebalancing_since == ASIM_TIME_MAX)
		return;
	asim_time from = s->rebalancing_since, w = asim_kernel_warmup(k);
	if (from < w)
		from = w;
	if (now > from)
		s->rebalancing += now - from;
	s->rebalancing_since = now;
}

/* The assignment follows the membership: each instance in the group takes
 * its partitions and those of the instances out of it just before. */
static void assign(struct queue *s)
{
	for (uint32_t i = 0; i < s->ncons; i++)
		s->sess[i].unassigned = s->sess[i].gone;
}

/* Whether no consumer instance is in the group. */
static bool group_empty(const struct queue *s)
{
	for (uint32_t i = 0; i < s->ncons; i++)
		if (!s->sess[i].gone)
			return false;
	return true;
}

/* Ends the rebalance under way, if one is, and counts it: one that the
 * last member's leaving cut short the instant it began (the members'
 * sessions expiring together) stopped nothing, and does not count. The
 * partitions a cooperative one paused are free again. */
void queue_end_rebalance(struct asim_kernel *k, struct queue *s)
{
	if (s->rebalancing_since == ASIM_TIME_MAX)
		return;
	for (uint32_t p = 0; p < s->nparts; p++)
		s->part[p].paused = false;
	asim_time now = asim_now(k);
	bool paused = now > s->rebalance_began;
	count_rebalancing(k, s, now);
	s->rebalanced_all += now - s->rebalance_began;
	s->rebalancing_since = ASIM_TIME_MAX;
	asim_cancel(k, s->rebalance);
	s->rebalance = (struct asim_timer){0};
	if (paused && asim_measuring_at(k, now))
		s->rebalances++;
}

/* The member that consumes partition p under the assignment in force:
 * NONE when no instance is in it (an empty group consumes nothing). */
enum { NONE = UINT32_MAX };
static uint32_t member(const struct queue *s, uint32_t p)
{
	uint32_t i = queue_owner(s, p);
	return s->sess[i].unassigned ? NONE : i;
}

/* A cooperative change: the new assignment is in force at once, and the
 * partitions whose member changes under it pause (with those a change
 * before already paused): those that go to another instance, and those of
 * instance `renewed`, a new process in place of a crashed one (a new
 * member, though the same instance), or NONE. Returns whether any
 * partition is paused. */
static bool move_cooperatively(struct queue *s, uint32_t renewed)
{
	for (uint32_t p = 0; p < s->nparts; p++)
		s->part[p].was = member(s, p);
	assign(s);
	bool any = false;
	for (uint32_t p = 0; p < s->nparts; p++) {
		struct partition *pt = &s->part[p];
		if (pt->was != member(s, p) || (renewed != NONE && pt->was == renewed))
			pt->paused = true;
		any |= pt->paused;
	}
	return any;
}

/* How long the rebalance begun or started over now lasts: rebalance_time,
 * or longer while the coordinator waits for the session of a crashed
 * process that a new one replaced to expire (see "Restarts"). */
static asim_time rebalance_wait(const struct queue *s, asim_time now)
{
	asim_time wait = s->rebalance_time;
	for (uint32_t i = 0; i < s->ncons; i++)
		if (s->sess[i].replaced && s->sess[i].replaced_expires - now > wait)
			wait = s->sess[i].replaced_expires - now;
	return wait;
}

/* The group's membership has changed: with a rebalance_time, the eager
 * protocol stops every partition until the new assignment, the cooperative
 * one only those that move (see "Rebalances"); a change during a rebalance
 * starts it over, and is not another one. A group that the last member has
 * left has nobody to wait for, as Kafka's goes Empty at once; its first
 * member back pays the pause (Kafka's group.initial.rebalance.delay.ms).
 * Without a rebalance_time the assignment follows at once. `renewed` is the
 * instance that came back as a new process, or NONE. The caller
 * dispatches. */
static void membership_changed(struct asim_component *c, struct queue *s, uint32_t renewed)
{
	struct asim_kernel *k = c->kernel;
	if (!s->rebalance_time || group_empty(s)) {
		queue_end_rebalance(k, s);
		assign(s);
		return;
	}
	/* A cooperative change that moves no partition, outside a rebalance,
	 * stops nothing: no pause to count. */
	if (s->protocol == REBALANCE_COOPERATIVE && !move_cooperatively(s, renewed))
		return;
	if (s->rebalancing_since == ASIM_TIME_MAX)
		s->rebalancing_since = s->rebalance_began = asim_now(k);
	asim_cancel(k, s->rebalance);
	s->rebalance =
		asim_schedule(k, rebalance_wait(s, asim_now(k)), c->id, EV_REBALANCED, 0, 0, NULL);
}

/* The rebalance is over: the new assignment takes effect and every
 * instance in it is delivered to again. */
static void rebalanced(struct asim_component *c, struct queue *s)
{
	s->rebalance = (struct asim_timer){0};
	queue_end_rebalance(c->kernel, s);
	assign(s);
	for (uint32_t i = 0; i < s->ncons; i++)
		queue_dispatch(c, s, i);
}

/* Consumer instance i has been down or cut off for session_timeout: the
 * broker ends its session, the group rebalances and its partitions go on
 * to the next instance, and what it held is delivered again as soon as
 * they are assigned. */
static void session_expired(struct asim_component *c, struct queue *s, uint32_t i)
{
	s->sess[i].gone = true;
	if (asim_measuring_at(c->kernel, asim_now(c->kernel)))
		s->sessions_expired++;
	membership_changed(c, s, NONE);
	queue_requeue_out(c, s, i);
}

/* The session of the crashed process that instance i's new process
 * replaced has expired (see "Restarts"): the coordinator drops the old
 * member, which lets the rebalance that the new one's joining began
 * complete (its timer is set for this instant, or later, and runs after
 * this), and what the old process held is delivered again once the
 * partitions are assigned. */
static void replaced_expired(struct asim_component *c, struct queue *s, uint32_t i)
{
	struct session *ss = &s->sess[i];
	if (ss->replaced)
		ss->replaced--;
	if (asim_measuring_at(c->kernel, asim_now(c->kernel)))
		s->sessions_expired++;
	queue_requeue_out(c, s, i);
}

/* Consumer instance i is up and reaches the broker again. Back after its
 * session expired, it joins the group: a rebalance. Back from a partition
 * that healed before its session expired, the same process holds the same
 * session: the group is unchanged, and its deliveries lost in the cut wait
 * out their ack timeout. A new process (it went down meanwhile) before
 * that: see "Restarts". */
static void rejoin(struct asim_component *c, struct queue *s, uint32_t i)
{
	struct asim_kernel *k = c->kernel;
	struct session *ss = &s->sess[i];
	bool was_gone = ss->gone, crashed = ss->crashed;
	ss->gone = ss->crashed = false;
	if (was_gone) {
		membership_changed(c, s, NONE);
		queue_dispatch(c, s, i);
		return;
	}
	if (!crashed)
		return;
	/* A static member takes its old session over: no change to the
	 * group. Without a group to rebalance (rebalance_time 0s) the new
	 * connection ends the old at once, as it does when no old session is
	 * left to wait for. */
	if (s->static_membership || !s->rebalance_time || !ss->expiry.seq) {
		asim_cancel(k, ss->expiry);
		ss->expiry = (struct asim_timer){0};
		if (!s->static_membership)
			membership_changed(c, s, i);
		queue_requeue_out(c, s, i);
		return;
	}
	/* A new member: the old one stays in the group until its session
	 * expires, and the rebalance that the new one's joining begins waits
	 * for it. */
	ss->replaced++;
	ss->replaced_expires = ss->expires;
	asim_cancel(k, ss->expiry);
	ss->expiry = (struct asim_timer){0};
	asim_schedule_at(k, ss->expires, c->id, EV_REPLACED_EXPIRY, 0, i, NULL);
	membership_changed(c, s, i);
}

/* Whether consumer instance i and the broker reach each other: a heartbeat
 * needs its answer, so a cut either way breaks the session. Asking draws
 * nothing. */
static bool reachable(struct asim_component *c, const struct queue *s, uint32_t i)
{
	struct asim_kernel *k = c->kernel;
	return asim_net_link_up(k, c->id, 0, s->consumer, (uint16_t)i) &&
	       asim_net_link_up(k, s->consumer, (uint16_t)i, c->id, 0);
}

/* Looks at each consumer instance after a fault began or ended: one that
 * just went down or was cut off starts its session's expiry, one present
 * again cancels it and rejoins. Links and instances change only at fault
 * edges, and each edge calls this (peer_fault, links_changed), so nothing
 * polls. */
static void sessions_check(struct asim_component *c, struct queue *s)
{
	struct asim_kernel *k = c->kernel;
	for (uint32_t i = 0; i < s->ncons; i++) {
		struct session *ss = &s->sess[i];
		bool absent = ss->down || !reachable(c, s, i);
		if (absent == ss->absent)
			continue;
		ss->absent = absent;
		if (!absent) {
			/* rejoin looks at the expiry still pending: cancelled after. */
			rejoin(c, s, i);
			asim_cancel(k, ss->expiry);
			ss->expiry = (struct asim_timer){0};
		} else if (!s->session_timeout) {
			session_expired(c, s, i);
		} else {
			if (!asim_time_add(asim_now(k), s->session_timeout, &ss->expires))
				ss->expires = ASIM_TIME_MAX;
			ss->expiry = asim_schedule(k, s->session_timeout, c->id, EV_SESSION_EXPIRY, 0, i,
			                           NULL);
		}
	}
}

void queue_peer_fault(struct asim_component *c, uint32_t peer, const struct asim_fault *f,
                      bool active)
{
	struct queue *s = c->state;
	if (!s->part || peer != s->consumer)
		return;
	for (uint32_t i = 0; i < s->ncons; i++) {
		if (!asim_fault_hits(f, i))
			continue;
		struct session *ss = &s->sess[i];
		if (active) {
			if (ss->down++ == 0)
				ss->crashed = true;
		} else if (ss->down) {
			ss->down--;
		}
	}
	sessions_check(c, s);
}

void queue_links_changed(struct asim_component *c)
{
	struct queue *s = c->state;
	if (s->part)
		sessions_check(c, s);
}

/* The group forms: its members join an empty group, which waits
 * rebalance_time before the first assignment (see "Rebalances"). */
void queue_group_start(struct asim_component *c, struct queue *s)
{
	struct asim_kernel *k = c->kernel;
	if (s->rebalance_time && s->initial_rebalance) {
		for (uint32_t p = 0; p < s->nparts; p++)
			s->part[p].paused = true;
		s->rebalancing_since = s->rebalance_began = asim_now(k);
		s->rebalance = asim_schedule(k, s->rebalance_time, c->id, EV_REBALANCED, 0, 0, NULL);
	}
}

void queue_group_event(struct asim_component *c, struct queue *s, const struct asim_event *ev)
{
	switch (ev->type) {
	case EV_SESSION_EXPIRY:
		if (ev->a < s->ncons) {
			s->sess[ev->a].expiry = (struct asim_timer){0};
			session_expired(c, s, (uint32_t)ev->a);
		}
		break;
	case EV_REPLACED_EXPIRY:
		if (ev->a < s->ncons)
			replaced_expired(c, s, (uint32_t)ev->a);
		break;
	case EV_REBALANCED:
		rebalanced(c, s);
		break;
	default:
		break;
	}
}
