#include "leadership.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const failover_keys[] = {"detection", "policy", "fencing", NULL};
static const char *const policy_names[] = {"promote_most_caught_up", "none", NULL};
static const char *const leadership_keys[] = {
	"coordinator", "lease_ttl", "renew_every", "fencing", NULL,
};

bool lead_configure(struct leadership *L, struct asim_component *c, const struct asim_cfg *map,
                    struct asim_diag *d)
{
	const struct asim_cfg *fo = asim_cfg_get(map, "failover");
	const struct asim_cfg *ld = asim_cfg_get(map, "leadership");
	L->mode = LEAD_FIXED;
	L->promote = true;
	if (fo && ld) {
		asim_diag_error(d, ld->mark,
		                "'%s' has both 'failover' and 'leadership': give one (a lease decides failover)",
		                c->name);
		return false;
	}
	if (fo) {
		if (!asim_cfg_expect_map(fo, "failover", failover_keys, d))
			return false;
		int policy = 0;
		L->detection = 10 * ASIM_S;
		bool ok = asim_cfg_time(fo, "detection", ASIM_OPTIONAL, 0, 24 * ASIM_HOUR,
		                        &L->detection, d);
		ok &= asim_cfg_choice(fo, "policy", ASIM_OPTIONAL, policy_names, &policy, d);
		ok &= asim_cfg_bool(fo, "fencing", ASIM_OPTIONAL, &L->fencing, d);
		L->promote = policy == 0;
		L->mode = LEAD_FAILOVER;
		return ok;
	}
	if (ld) {
		if (!asim_cfg_expect_map(ld, "leadership", leadership_keys, d))
			return false;
		L->ttl = 10 * ASIM_S;
		L->renew_every = 3 * ASIM_S;
		bool ok = asim_cfg_time(ld, "lease_ttl", ASIM_OPTIONAL, ASIM_MS, 24 * ASIM_HOUR, &L->ttl,
		                        d);
		ok &= asim_cfg_time(ld, "renew_every", ASIM_OPTIONAL, ASIM_MS, 24 * ASIM_HOUR,
		                    &L->renew_every, d);
		ok &= asim_cfg_bool(ld, "fencing", ASIM_OPTIONAL, &L->fencing, d);
		struct asim_component *co = model_target(c, ld, "coordinator", d);
		if (!ok || !co)
			return false;
		if (strcmp(co->ops->kind, "coordinator")) {
			asim_diag_error(d, asim_cfg_get(ld, "coordinator")->mark,
			                "'coordinator' of '%s' must name a coordinator, not a %s", c->name,
			                co->ops->kind);
			return false;
		}
		if (L->renew_every >= L->ttl) {
			asim_diag_error(d, asim_cfg_get(ld, "renew_every") ? asim_cfg_get(ld, "renew_every")->mark
			                                                   : ld->mark,
			                "'renew_every' of '%s' must be shorter than 'lease_ttl'", c->name);
			return false;
		}
		L->coordinator = co->id;
		/* The lease's name in the coordinator: apart from data keys. */
		L->lease_key = (UINT64_C(1) << 63) | c->id;
		L->mode = LEAD_LEASE;
	}
	return true;
}

bool lead_init(struct leadership *L, struct asim_component *c, struct versions *ver)
{
	L->n = c->instances;
	L->ver = ver;
	L->inst = calloc(L->n, sizeof *L->inst);
	return L->inst != NULL;
}

static bool measuring(const struct asim_component *c)
{
	return asim_measuring_at(c->kernel, asim_now(c->kernel));
}

/* Adds the part of [*since, now) after warm-up to *total. */
static void account(const struct asim_component *c, asim_time *since, asim_time *total)
{
	asim_time now = asim_now(c->kernel), from = *since;
	if (from == ASIM_TIME_MAX)
		return;
	asim_time w = asim_kernel_warmup(c->kernel);
	if (from < w)
		from = w;
	if (now > from)
		*total += now - from;
	*since = now;
}

/* Re-evaluates the two accounts after any change of who is up or believes. */
static void recount(struct leadership *L, const struct asim_component *c)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < L->n; i++)
		n += !L->inst[i].down && L->inst[i].believes;
	asim_time now = asim_now(c->kernel);
	if (n >= 2 && L->two_since == ASIM_TIME_MAX)
		L->two_since = now;
	else if (n < 2 && L->two_since != ASIM_TIME_MAX) {
		account(c, &L->two_since, &L->two_leader);
		L->two_since = ASIM_TIME_MAX;
	}
	L->leaders_up = n;
	const struct lead_inst *p = &L->inst[L->leader];
	bool writable = !p->down && p->believes;
	if (!writable && L->unavail_since == ASIM_TIME_MAX)
		L->unavail_since = now;
	else if (writable && L->unavail_since != ASIM_TIME_MAX) {
		account(c, &L->unavail_since, &L->unavailable);
		L->unavail_since = ASIM_TIME_MAX;
	}
}

/* Adds n writes, acknowledged and now discarded, to the lost ones. */
static void count_lost(struct leadership *L, struct asim_component *c, uint64_t n)
{
	if (!n || !measuring(c))
		return;
	L->lost += n;
	asim_kernel_outcome(c->kernel)->lost_writes += n;
}

/* An instance rejoins as a replica: it drops what the primary lacks and
 * catches up, as a rewind and a resync from the primary's log would. The
 * writes it acknowledged alone while deposed are dropped with the rest:
 * lost, although their clients were told they had taken effect. (Counted
 * from the tally, not from the versions: both sides number a slot's writes
 * on from the same version, so a deposed version can equal or trail the
 * primary's and still be another write.) */
static void resync(struct leadership *L, struct asim_component *c, uint32_t i)
{
	if (i == L->leader)
		return;
	const struct versions *t = L->ver;
	for (uint32_t s = 0; s < t->nslots; s++)
		*versions_held(t, i, s) = *versions_held(t, L->leader, s);
	count_lost(L, c, L->inst[i].alone);
	L->inst[i].alone = 0;
}

static uint64_t data_sum(const struct leadership *L, uint32_t i)
{
	uint64_t sum = 0;
	for (uint32_t s = 0; s < L->ver->nslots; s++)
		sum += *versions_held(L->ver, i, s);
	return sum;
}

/* Which instances most_caught_up considers, beyond being up. */
enum {
	PICK_CANDIDATES = 1, /* not leading already */
	PICK_ACROSS = 2,     /* cannot reach the primary (c needed) */
	PICK_REACHED = 4,    /* linked both ways to instance `from` (or it) */
};

/* The up instance holding the most data (the lowest index on a tie),
 * among those the PICK_ flags keep; -1 when none. */
static int most_caught_up(const struct leadership *L, struct asim_component *c, unsigned pick,
                          uint32_t from)
{
	int best = -1;
	uint64_t best_sum = 0;
	for (uint32_t i = 0; i < L->n; i++) {
		const struct lead_inst *p = &L->inst[i];
		if (p->down || ((pick & PICK_CANDIDATES) && p->believes) ||
		    ((pick & PICK_ACROSS) &&
		     asim_net_link_up(c->kernel, c->id, (uint16_t)i, c->id, L->leader)) ||
		    ((pick & PICK_REACHED) && !instances_linked(c, from, i)))
			continue;
		uint64_t sum = data_sum(L, i);
		if (best < 0 || sum > best_sum) {
			best = (int)i;
			best_sum = sum;
		}
	}
	return best;
}

/* Quorum replication: new primary i takes, for each slot, the newest
 * version held by an up instance that it reaches both ways, other than the
 * old primary old (down, or cut off: it is why i is promoted). */
static void gather(const struct leadership *L, struct asim_component *c, uint16_t i,
                   uint16_t old)
{
	const struct versions *t = L->ver;
	for (uint32_t r = 0; r < L->n; r++) {
		if (r == i || r == old || L->inst[r].down || !instances_linked(c, i, r))
			continue;
		for (uint32_t s = 0; s < t->nslots; s++) {
			uint64_t v = *versions_held(t, r, s), *nr = versions_held(t, i, s);
			if (v > *nr)
				*nr = v;
		}
	}
}

/* Instance i becomes the primary of epoch. */
static void promote(struct leadership *L, struct asim_component *c, uint16_t i, uint64_t epoch)
{
	uint16_t old = L->leader;
	L->epoch = epoch;
	L->cut = false;
	L->inst[i].believes = true;
	L->inst[i].epoch = epoch;
	/* A deposed instance promoted again before it learned of its
	 * successor must not learn of it now: it is the primary. */
	asim_cancel(c->kernel, L->inst[i].demote_timer);
	L->inst[i].demote_timer = (struct asim_timer){0};
	L->need_leader = false;
	if (i != old) {
		bool m = measuring(c);
		if (m)
			L->changes++;
		if (L->quorum)
			gather(L, c, i, old);
		const struct versions *t = L->ver;
		uint64_t lost = 0;
		for (uint32_t s = 0; s < t->nslots; s++) {
			uint64_t nr = *versions_held(t, i, s), *acked = versions_acked(t, s);
			if (*acked > nr) {
				lost += *acked - nr;
				*acked = nr;
			}
			for (uint32_t r = 0; r < L->n; r++) {
				uint64_t *v = versions_held(t, r, s);
				if (r != i && !(r == old && L->inst[old].believes) && *v > nr)
					*v = nr;
			}
		}
		count_lost(L, c, lost);
		/* A deposed instance promoted again keeps what it wrote alone. */
		L->inst[i].alone = 0;
		L->leader = i;
	}
	recount(L, c);
}

static void stop_believing(struct leadership *L, struct asim_component *c, uint32_t i)
{
	struct lead_inst *p = &L->inst[i];
	if (!p->believes)
		return;
	p->believes = false;
	asim_cancel(c->kernel, p->expiry_timer);
	asim_cancel(c->kernel, p->demote_timer);
	p->demote_timer = (struct asim_timer){0};
	resync(L, c, i);
	recount(L, c);
}

/* What instance p's clock reads at true time now (model_local_time, not
 * clamped at 0: a lease only takes differences of its readings). */
static asim_time local_now(const struct lead_inst *p, asim_time now)
{
	const struct model_clock *k = &p->clock;
	if (!k->skewed)
		return now;
	return now + k->base + (asim_time)(k->drift * (double)(now - k->ref));
}

/* The true time at which instance p's clock reads `at`. */
static asim_time local_to_true(const struct lead_inst *p, asim_time at)
{
	const struct model_clock *k = &p->clock;
	if (!k->skewed)
		return at;
	double t = ((double)at - (double)k->base + k->drift * (double)k->ref) / (1.0 + k->drift);
	if (!(t < (double)ASIM_TIME_MAX))
		return ASIM_TIME_MAX;
	return t < 0 ? 0 : (asim_time)t;
}

static void arm_expiry(struct leadership *L, struct asim_component *c, uint32_t i,
                       uint16_t ev_base)
{
	struct lead_inst *p = &L->inst[i];
	asim_cancel(c->kernel, p->expiry_timer);
	p->expiry_timer = (struct asim_timer){0};
	if (!p->believes || L->mode != LEAD_LEASE)
		return;
	asim_time at = local_to_true(p, p->expiry), now = asim_now(c->kernel);
	if (at == ASIM_TIME_MAX)
		return;
	p->expiry_timer = asim_schedule_at(c->kernel, at > now ? at : now, c->id,
	                                   (uint16_t)(ev_base + LEAD_EV_EXPIRY), (uint16_t)i, 0, NULL);
}

static void lease_request(struct leadership *L, struct asim_component *c, uint32_t i,
                          uint16_t ev_base)
{
	struct asim_kernel *k = c->kernel;
	struct lead_inst *p = &L->inst[i];
	if (p->pending || p->down)
		return;
	struct asim_call *call = asim_call_new(k);
	if (!call)
		return;
	int op = asim_kernel_op(k, "acquire");
	call->op = (uint16_t)(op < 0 ? 0 : op);
	call->key = L->lease_key;
	call->request = ((uint64_t)c->id << 16 | i) + 1;
	call->version = (uint64_t)L->ttl;
	call->token = i;
	call->origin = asim_now(k);
	call->deadline = asim_now(k) + L->renew_every;
	p->pending = call;
	p->sent = local_now(p, asim_now(k));
	asim_call_send(k, call, c->id, (uint16_t)i, L->coordinator, p->node);
	p->timeout_timer = asim_schedule(k, L->renew_every, c->id,
	                                 (uint16_t)(ev_base + LEAD_EV_TIMEOUT), (uint16_t)i, 0, call);
}

/* failover: how often the cluster manager checks that the primary is
 * reachable: every second, or every half detection when that is shorter
 * (and not more often than every 10ms). */
static asim_time check_every(const struct leadership *L)
{
	asim_time t = L->detection / 2;
	return t < 10 * ASIM_MS ? 10 * ASIM_MS : t > ASIM_S ? ASIM_S : t;
}

/* Whether the network cuts the live primary off from most of the other
 * up instances (both ways count: a partition is either). */
static bool primary_cut_off(const struct leadership *L, struct asim_component *c)
{
	uint16_t l = L->leader;
	uint32_t others = 0, reach = 0;
	for (uint32_t i = 0; i < L->n; i++) {
		if (i == l || L->inst[i].down)
			continue;
		others++;
		reach += instances_linked(c, i, l);
	}
	return others > 0 && 2 * reach < others;
}

void lead_start(struct leadership *L, struct asim_component *c, uint16_t ev_base)
{
	L->two_since = ASIM_TIME_MAX;
	L->unavail_since = ASIM_TIME_MAX;
	L->leader = 0;
	if (L->mode != LEAD_LEASE) {
		L->inst[0].believes = true;
		L->leaders_up = 1;
		if (L->mode == LEAD_FAILOVER)
			asim_schedule(c->kernel, check_every(L), c->id,
			              (uint16_t)(ev_base + LEAD_EV_CHECK), 0, 0, NULL);
		return;
	}
	L->coord_instances = asim_kernel_component(c->kernel, L->coordinator)->instances;
	if (!L->coord_instances)
		L->coord_instances = 1;
	for (uint32_t i = 0; i < L->n; i++)
		L->inst[i].node = (uint16_t)(i % L->coord_instances);
	/* Instance 0 asks first; every instance then ticks every renew_every,
	 * renewing when it leads and campaigning when the lease has lapsed. */
	lease_request(L, c, 0, ev_base);
	for (uint32_t i = 0; i < L->n; i++)
		asim_schedule(c->kernel, L->renew_every, c->id, (uint16_t)(ev_base + LEAD_EV_RENEW),
		              (uint16_t)i, 0, NULL);
	recount(L, c);
}

bool lead_up(const struct leadership *L, uint32_t i)
{
	return i < L->n && !L->inst[i].down;
}

int lead_route_write(const struct leadership *L, const struct asim_component *c, uint16_t z)
{
	/* A crashed primary refuses connections: a write sent to it must not
	 * be applied while it is down (its caller would time out, retry, and
	 * the retry would count as a duplicate of a write that took effect).
	 * A paused one takes the write and answers after the pause. */
	if (L->mode == LEAD_FIXED)
		return L->inst[0].crashed ? -1 : 0;
	/* Callers beside an old primary that still believes it leads keep
	 * writing to it (their connections are there; across a partition it is
	 * all they can reach); the others follow the new primary. */
	if (L->leaders_up >= 2 && c->zone && c->zone[L->leader] != z) {
		for (uint32_t i = 0; i < L->n; i++)
			if (i != L->leader && !L->inst[i].down && L->inst[i].believes && c->zone[i] == z)
				return (int)i;
	}
	const struct lead_inst *p = &L->inst[L->leader];
	return !p->down && p->believes ? L->leader : -1;
}

bool lead_may_commit(struct leadership *L, struct asim_component *c, uint16_t i)
{
	if (L->mode == LEAD_FIXED)
		return true;
	const struct lead_inst *p = &L->inst[i];
	if (p->down || !p->believes)
		return false;
	if (i == L->leader)
		return true;
	if (L->fencing && p->epoch < L->epoch) {
		if (measuring(c))
			L->fenced++;
		return false;
	}
	return true;
}

void lead_acked_alone(struct leadership *L, struct asim_component *c, uint16_t i)
{
	/* Tallied when measured: a write acknowledged in warm-up is counted
	 * neither conflicting nor, after it, lost. */
	if (i >= L->n || i == L->leader || !measuring(c))
		return;
	L->inst[i].alone++;
	L->conflicting++;
	asim_kernel_outcome(c->kernel)->conflicting_writes++;
}

static void detect(struct leadership *L, struct asim_component *c)
{
	if (!L->promote)
		return;
	if (!L->inst[L->leader].down) {
		/* Detection of a partition: promote across it if it still cuts
		 * the primary off. */
		if (!primary_cut_off(L, c))
			return;
		/* The candidate on the far side of the partition. */
		int best = most_caught_up(L, c, PICK_CANDIDATES | PICK_ACROSS, 0);
		if (best >= 0)
			promote(L, c, (uint16_t)best, L->epoch + 1);
		L->cut = false;
		return;
	}
	int best = most_caught_up(L, c, 0, 0);
	if (best < 0) {
		L->need_leader = true;
		return;
	}
	promote(L, c, (uint16_t)best, L->epoch + 1);
}

/* failover: the cluster manager's periodic check. A live primary newly cut
 * off starts detection (cancelled if the cut heals first); a deposed
 * primary that believes it leads and that the primary reaches again learns
 * of the new one after detection, as one back from a crash does. */
static void check(struct leadership *L, struct asim_component *c, uint16_t ev_base)
{
	struct asim_kernel *k = c->kernel;
	asim_schedule(k, check_every(L), c->id, (uint16_t)(ev_base + LEAD_EV_CHECK), 0, 0, NULL);
	uint16_t l = L->leader;
	if (!L->inst[l].down) {
		bool cut = primary_cut_off(L, c);
		if (cut && !L->cut)
			L->detect_timer = asim_schedule(k, L->detection, c->id,
			                                (uint16_t)(ev_base + LEAD_EV_DETECT), 0, 0, NULL);
		else if (!cut && L->cut)
			asim_cancel(k, L->detect_timer);
		L->cut = cut;
	}
	for (uint32_t i = 0; i < L->n; i++) {
		struct lead_inst *p = &L->inst[i];
		if (i == l || p->down || !p->believes || p->demote_timer.seq ||
		    !asim_net_link_up(k, c->id, l, c->id, (uint16_t)i))
			continue;
		p->demote_timer = asim_schedule(k, L->detection, c->id,
		                                (uint16_t)(ev_base + LEAD_EV_DEMOTE), (uint16_t)i, 0,
		                                NULL);
	}
}

static void response(struct leadership *L, struct asim_component *c, struct asim_call *call,
                     uint16_t ev_base)
{
	struct asim_kernel *k = c->kernel;
	uint32_t i = (uint32_t)call->token;
	enum asim_status st = call->status;
	uint64_t token = call->version;
	asim_time expiry = call->origin;
	asim_call_free(k, call);
	if (i >= L->n)
		return;
	struct lead_inst *p = &L->inst[i];
	asim_cancel(k, p->timeout_timer);
	p->pending = NULL;
	if (p->down)
		return;
	if (st != ASIM_OK) {
		/* Refused: another instance holds the lease. */
		if (measuring(c))
			L->refused++;
		stop_believing(L, c, i);
		return;
	}
	if (expiry > L->seen_expiry)
		L->seen_expiry = expiry;
	/* The holder times its lease on its own clock from when it asked: the
	 * coordinator granted it no earlier, so the holder lets it go no later
	 * than the coordinator does while its clock keeps time. An offset of
	 * its clock changes nothing; its drift stretches or shrinks the lease,
	 * and a step of its clock (a skew's start or end) the lease it holds. */
	p->expiry = p->sent > ASIM_TIME_MAX - L->ttl ? ASIM_TIME_MAX : p->sent + L->ttl;
	if (token > L->epoch || (i == L->leader && !p->believes)) {
		promote(L, c, (uint16_t)i, token);
	} else {
		p->believes = true;
		p->epoch = token;
		recount(L, c);
	}
	arm_expiry(L, c, i, ev_base);
}

/* Instance i's lease request went unanswered for its whole interval: it is
 * given up, and the next one goes to the next coordinator node, as an etcd
 * or ZooKeeper client moves to its next endpoint when one stops answering.
 * Staying with one node made a crash of that node alone (which leaves the
 * others a majority) cost its caller the lease. */
static void give_up_request(struct leadership *L, struct asim_component *c, uint32_t i)
{
	struct lead_inst *p = &L->inst[i];
	asim_cancel(c->kernel, p->timeout_timer);
	asim_call_abandon(c->kernel, p->pending);
	p->pending = NULL;
	p->node = (uint16_t)((p->node + 1u) % L->coord_instances);
}

static void tick(struct leadership *L, struct asim_component *c, uint32_t i, uint16_t ev_base)
{
	struct asim_kernel *k = c->kernel;
	asim_schedule(k, L->renew_every, c->id, (uint16_t)(ev_base + LEAD_EV_RENEW), (uint16_t)i, 0,
	              NULL);
	struct lead_inst *p = &L->inst[i];
	/* A request unanswered for a whole interval is given up here rather
	 * than by its timeout, which is due at this same instant but was
	 * scheduled after this tick: the tick would find it still pending and
	 * skip, and an instance whose request was lost would ask again only
	 * every other interval (two lost renewals, not ttl / renew_every, would
	 * end a lease). */
	if (p->pending && p->pending->deadline <= asim_now(k))
		give_up_request(L, c, i);
	if (p->down || p->pending)
		return;
	if (p->believes) {
		lease_request(L, c, i, ev_base);
		return;
	}
	/* Candidates watch the lease: once the lease they last saw has lapsed,
	 * every one holding as much data as the most caught-up campaigns, and
	 * the coordinator grants whichever request it commits first (a race,
	 * as in an etcd or Consul election): with jittery links the winner
	 * varies, so a lease that keeps lapsing changes hands. A candidate
	 * compares itself only with those it reaches: one a partition cuts off
	 * may hold more data, but cannot win the lease from its side, and
	 * deferring to it left the majority side without a leader. */
	if (asim_now(k) < L->seen_expiry)
		return;
	int best = most_caught_up(L, c, PICK_CANDIDATES | PICK_REACHED, i);
	if (best >= 0 && (best == (int)i || data_sum(L, i) == data_sum(L, (uint32_t)best)))
		lease_request(L, c, i, ev_base);
}

void lead_handle(struct leadership *L, struct asim_component *c, const struct asim_event *ev,
                 uint16_t ev_base)
{
	if (ev->type == ASIM_EV_RESPONSE) {
		response(L, c, ev->p, ev_base);
		return;
	}
	uint32_t i = ev->inst;
	switch (ev->type - ev_base) {
	case LEAD_EV_DETECT:
		detect(L, c);
		break;
	case LEAD_EV_RENEW:
		tick(L, c, i, ev_base);
		break;
	case LEAD_EV_TIMEOUT:
		if (L->inst[i].pending == ev->p)
			give_up_request(L, c, i);
		break;
	case LEAD_EV_EXPIRY:
		L->inst[i].expiry_timer = (struct asim_timer){0};
		stop_believing(L, c, i);
		break;
	case LEAD_EV_DEMOTE:
		L->inst[i].demote_timer = (struct asim_timer){0};
		stop_believing(L, c, i);
		break;
	case LEAD_EV_CHECK:
		check(L, c, ev_base);
		break;
	}
}

static void went_down(struct leadership *L, struct asim_component *c, uint32_t i,
                      uint16_t ev_base)
{
	struct lead_inst *p = &L->inst[i];
	struct asim_kernel *k = c->kernel;
	if (p->pending) {
		asim_cancel(k, p->timeout_timer);
		asim_call_abandon(k, p->pending);
		p->pending = NULL;
	}
	if (i == L->leader)
		L->gen++;
	if (L->mode == LEAD_FAILOVER && i == L->leader) {
		asim_cancel(k, L->detect_timer);
		L->detect_timer = asim_schedule(k, L->detection, c->id,
		                                (uint16_t)(ev_base + LEAD_EV_DETECT), 0, 0, NULL);
	}
}

static void came_up(struct leadership *L, struct asim_component *c, uint32_t i,
                    uint16_t ev_base)
{
	struct lead_inst *p = &L->inst[i];
	if (i == L->leader) {
		/* The primary is back before any replica could replace it: it
		 * leads on, and no replica that comes up later is promoted in its
		 * place. */
		L->need_leader = false;
		return;
	}
	if (L->mode == LEAD_FAILOVER) {
		if (L->need_leader && L->promote) {
			promote(L, c, (uint16_t)i, L->epoch + 1);
			return;
		}
		/* A deposed primary back from a crash or zone loss believes it
		 * leads until health checks tell it otherwise. */
		if (p->believes) {
			asim_cancel(c->kernel, p->demote_timer);
			p->demote_timer = asim_schedule(c->kernel, L->detection, c->id,
			                                (uint16_t)(ev_base + LEAD_EV_DEMOTE), (uint16_t)i,
			                                0, NULL);
		} else {
			resync(L, c, i);
		}
	} else if (L->mode == LEAD_LEASE) {
		/* Its lease may look valid still, by its own clock. */
		arm_expiry(L, c, i, ev_base);
		if (!p->believes)
			resync(L, c, i);
	}
}

void lead_fault(struct leadership *L, struct asim_component *c, const struct asim_fault *f,
                bool active, uint16_t ev_base)
{
	if (!L->inst)
		return;
	asim_time now = asim_now(c->kernel);
	for (uint32_t i = 0; i < L->n; i++) {
		if (!asim_fault_hits(f, i))
			continue;
		struct lead_inst *p = &L->inst[i];
		switch (f->kind) {
		case ASIM_FAULT_CLOCK_SKEW:
			/* Overlapping skews add up (model_clock_apply). */
			model_clock_apply(&p->clock, f, active, now);
			arm_expiry(L, c, i, ev_base);
			break;
		case ASIM_FAULT_CRASH:
		case ASIM_FAULT_ZONE_LOSS:
		case ASIM_FAULT_PAUSE:
			if (f->kind != ASIM_FAULT_PAUSE && active)
				p->crashed++;
			else if (f->kind != ASIM_FAULT_PAUSE && p->crashed)
				p->crashed--;
			if (active) {
				if (p->down++ == 0)
					went_down(L, c, i, ev_base);
			} else if (p->down && --p->down == 0) {
				came_up(L, c, i, ev_base);
			}
			break;
		default:
			break;
		}
	}
	recount(L, c);
}

void lead_warmup_end(struct leadership *L, struct asim_component *c)
{
	asim_time now = asim_now(c->kernel);
	if (L->two_since != ASIM_TIME_MAX)
		L->two_since = now;
	if (L->unavail_since != ASIM_TIME_MAX)
		L->unavail_since = now;
}

void lead_finish(struct leadership *L, struct asim_component *c)
{
	if (L->mode == LEAD_FIXED)
		return;
	account(c, &L->two_since, &L->two_leader);
	account(c, &L->unavail_since, &L->unavailable);
	/* A deposed instance that still holds writes it acknowledged alone
	 * when the run ends (it still believes it leads, or is down before
	 * its resync) has them on a branch the primary's history will never
	 * contain: they are lost now, as they would be at its resync, not
	 * spared because the run stopped first. */
	for (uint32_t i = 0; i < L->n; i++) {
		if (i != L->leader) {
			count_lost(L, c, L->inst[i].alone);
			L->inst[i].alone = 0;
		}
	}
	struct asim_outcome *o = asim_kernel_outcome(c->kernel);
	o->leader_changes += L->changes;
	o->two_leader += L->two_leader;
}

void lead_report(const struct leadership *L, const struct asim_component *c,
                 struct asim_results *r)
{
	if (L->mode == LEAD_FIXED)
		return;
	const char *n = c->name;
	asim_results_string(r, L->mode == LEAD_LEASE ? "lease" : "failover",
	                    "components.%s.leadership", n);
	asim_results_count(r, L->leader, "components.%s.primary", n);
	asim_results_count(r, L->epoch, "components.%s.epoch", n);
	asim_results_count(r, L->changes, "components.%s.leader_changes", n);
	asim_results_count(r, L->lost, "components.%s.lost_writes", n);
	asim_results_count(r, L->conflicting, "components.%s.conflicting_writes", n);
	asim_results_count(r, L->fenced, "components.%s.fenced_writes", n);
	asim_results_real(r, asim_time_to_seconds(L->two_leader), "components.%s.two_leader_s", n);
	asim_results_real(r, asim_time_to_seconds(L->unavailable),
	                  "components.%s.write_unavailable_s", n);
}

void lead_destroy(struct leadership *L)
{
	free(L->inst);
	L->inst = NULL;
}
