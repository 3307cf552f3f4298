/* database_routing.c: which instance of the database serves a call.
 *
 * Routing: as a driver with a replica-aware pool does, so a call is sent
 * (model op route, asked by asim_call_send) to the instance that will serve
 * it and pays the network to and from that instance; one that has gone
 * down or lost the lead on the way is routed again on arrival. Writes (op
 * "write") go to the primary; every other operation is a read, served by the
 * primary, a replica in turn (`read_from: replicas`), or a replica in the
 * caller's zone (`nearest`: then the primary if it is there, else any
 * replica in turn). With `replication: quorum`, a read with read_quorum R > 1
 * is sent to R distinct instances drawn at random and answers the newest
 * version among them once all R have answered.
 *
 * Read-your-writes (`read_from: primary_after_write`): reads go to replicas
 * in turn, except reads of a key that the same session wrote within
 * `sticky_window` (default 1s), which go to the primary. A session is a
 * user of a closed-loop client or one of an open-loop client's `sessions`
 * (the call's session), or else the whole of an open-loop client (the
 * logical request id's client part). Other sessions may still read stale. */
#include "database_private.h"

/* The next instance in turn other than the primary, skipping instances
 * known to be down; the primary when every other one is down. */
static uint16_t next_replica(struct database *s)
{
	uint32_t n = s->replicas + 1;
	for (uint32_t step = 0; step < n; step++) {
		do
			s->rr = (s->rr + 1) % n;
		while (s->rr == s->lead.leader);
		if (lead_up(&s->lead, s->rr))
			return (uint16_t)s->rr;
	}
	return lead_up(&s->lead, s->rr) ? (uint16_t)s->rr : s->lead.leader;
}

/* The session of a call, never 0: the client part of its logical request
 * id (see client.c) + 1, and its user. */
uint64_t db_session_of(const struct asim_call *call)
{
	return ((call->request >> 40) + 1) << 32 | call->session;
}

/* The zone of the instance that sent call (0 when its component has none). */
uint16_t db_caller_zone(struct asim_kernel *k, const struct asim_call *call)
{
	const struct asim_component *from = asim_kernel_component(k, call->caller);
	return from && from->zone ? from->zone[call->caller_inst] : 0;
}

static uint16_t route_read(struct asim_component *c, struct database *s,
                           const struct asim_call *call)
{
	uint16_t leader = s->lead.leader;
	if (s->read_from == FROM_PRIMARY)
		return leader;
	if (s->read_from == FROM_RYW) {
		uint32_t slot = (uint32_t)(call->key & (s->nslots - 1));
		if (s->writer[slot] == db_session_of(call) &&
		    asim_now(c->kernel) - s->written_at[slot] <= s->sticky)
			return leader;
		return next_replica(s);
	}
	if (s->read_from == FROM_REPLICAS || !c->zone)
		return next_replica(s);
	uint16_t z = db_caller_zone(c->kernel, call);
	/* Rotate over the replicas in the caller's zone, starting after the last
	 * one used, so that they share the load. */
	for (uint32_t step = 1; step <= s->replicas; step++) {
		uint32_t r = (s->rr + step - 1) % s->replicas + 1;
		if (c->zone[r] == z && lead_up(&s->lead, r)) {
			s->rr = r;
			return (uint16_t)r;
		}
	}
	if (c->zone[leader] == z && lead_up(&s->lead, leader))
		return leader;
	return next_replica(s);
}

/* Whether instance i refuses connections: crashed, or its zone lost. A
 * paused one takes the work and answers once the pause ends. */
bool db_refuses(const struct database *s, uint32_t i)
{
	return s->lead.inst[i].crashed > 0;
}

/* The instance a read is served by: the one the caller's driver sent it to
 * (route, below), unless that one has gone down on the way, or lost the
 * lead while reads must go to the primary; then it is routed again here.
 * -1 when the only instance the read may go to refuses it (the primary
 * that reads must go to has crashed, or every instance has): a crashed
 * instance serves nothing, reads no more than writes. */
int db_serving_read(struct asim_component *c, struct database *s,
                    const struct asim_call *call)
{
	uint16_t i = call->callee_inst;
	if (i < c->instances && lead_up(&s->lead, i) &&
	    (s->read_from != FROM_PRIMARY || i == s->lead.leader))
		return i;
	uint16_t to = route_read(c, s, call);
	return db_refuses(s, to) ? -1 : to;
}

/* The instance a caller's driver sends a call to: the primary for a write
 * (as the caller's zone sees it), the instance route_read picks for a read,
 * so that the request and the answer pay the network to and from the
 * instance that serves. Quorum reads, whose parts the database fans out
 * itself, and index feeds keep the caller's choice. Writes are routed again
 * on arrival (request), in case the lead moved meanwhile. */
uint16_t db_route(struct asim_component *c, const struct asim_call *call)
{
	struct database *s = c->state;
	if (s->index.on && call->op == s->index.op)
		return call->callee_inst;
	if (call->op == ASIM_OP_WRITE) {
		int to = lead_route_write(&s->lead, c, db_caller_zone(c->kernel, call));
		return to < 0 ? call->callee_inst : (uint16_t)to;
	}
	if (s->read_quorum > 1)
		return call->callee_inst;
	return route_read(c, s, call);
}
