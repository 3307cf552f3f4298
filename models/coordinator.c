/* coordinator: consensus-backed metadata (etcd, ZooKeeper, Consul) granting
 * leases and locks with TTLs and monotonic fencing tokens.
 *
 * Its `nodes` (3 or 5, usually; each an instance, placed with `zones`) agree
 * by majority: a request is granted only while the node it reached is up
 * and, with itself, reaches a majority of the nodes up over the network,
 * after `commit_time` (one consensus round). Without a majority, at a node
 * that is down, or at one a partition leaves in a minority, a request is
 * dropped without an answer, as a client of etcd waits in vain: callers
 * time out, and whatever needs a grant stalls. The time when no node can
 * commit (fewer than a majority of the nodes up, or no node up that reaches
 * a majority over the network: a partition into minorities) is reported as
 * stalled_s; crashes and zone losses (fault) and partitions
 * (links_changed) are its only edges, so it is exact.
 *
 * Protocol, with the call record: op "acquire" (take or renew), "release".
 * key names the lease or lock (a data key for locks; a database uses a key
 * of its own for its leadership); request names the holder; version carries
 * the TTL in nanoseconds on the way in and the fencing token on the way out;
 * origin carries back the lease's expiry, an absolute time of the
 * coordinator. A lease free, expired or already held by the same holder is
 * granted (a renewal keeps its token; a new holder gets the next token of
 * one counter over all leases, as etcd's revision); one held by another
 * holder is answered ASIM_REJECTED with that holder's token.
 *
 * Leases live in an open-addressing table of `slots` entries (default 4096)
 * fixed at configure; a grant that finds it full of live leases is rejected.
 * A lease that lapses without being released is counted as a TTL expiry.
 *
 * Reported saturation: `utilization` and `queue_mean` are 0. Consensus
 * rounds run side by side without a limit and nothing waits for one to
 * start (without a majority requests are dropped, reported as stalled_s and
 * dropped); the lease table's fill is the one bound, seen as table_full. */
#include <stdlib.h>
#include <string.h>

#include "archsim/dist.h"
#include "common.h"

#define MAX_NODES 15

struct lease {
	uint64_t key, holder, token;
	asim_time expiry;
	bool used;
};

struct coordinator {
	uint32_t nodes, majority, up, nslots;
	uint32_t down[MAX_NODES];
	struct asim_dist commit_time;
	gsl_rng *r_commit;
	struct lease *slot;
	uint64_t token;
	int op_acquire, op_release;
	asim_time stalled_since; /* ASIM_TIME_MAX while some node can commit */

	/* Measured after warm-up (stall time is clipped to it). */
	uint64_t grants, renewals, refused, dropped, releases, expiries, full;
	asim_time stalled;
	struct asim_hist latency; /* arrival to ok reply: asim_call_measure() */
};

enum { EV_COMMIT = EV_MODEL_BASE };

static const char *const coord_keys[] = {
	"kind", "nodes", "zones", "zone", "commit_time", "slots", NULL,
};

static bool configure(struct asim_component *c, const struct asim_cfg *map, struct asim_diag *d)
{
	struct coordinator *s = c->state;
	asim_call_measure(c, &s->latency);
	if (!asim_cfg_expect_map(map, c->name, coord_keys, d))
		return false;
	int64_t nodes = 3, slots = 4096;
	asim_dist_constant(&s->commit_time, ASIM_MS);
	bool ok = asim_cfg_int(map, "nodes", ASIM_OPTIONAL, 1, MAX_NODES, &nodes, d);
	ok &= asim_cfg_dist(map, "commit_time", ASIM_OPTIONAL, &s->commit_time, d);
	ok &= asim_cfg_int(map, "slots", ASIM_OPTIONAL, 1, INT64_C(1) << 20, &slots, d);
	if (!ok)
		return false;
	/* model_instances reads `instances`; a coordinator names them nodes. */
	uint16_t zones[MAX_NODES];
	const struct asim_cfg *zl = asim_cfg_get(map, "zones");
	const struct asim_cfg *z1 = asim_cfg_get(map, "zone");
	size_t nz = 0;
	int zi[MAX_NODES];
	if (zl && z1) {
		asim_diag_error(d, z1->mark, "'%s' has both 'zone' and 'zones': give one", c->name);
		return false;
	}
	if (zl) {
		if (zl->type != ASIM_CFG_SEQ || zl->n == 0 || zl->n > MAX_NODES) {
			asim_diag_error(d, zl->mark, "expected a list of 1 to %d zone names for 'zones' in '%s'",
			                MAX_NODES, c->name);
			return false;
		}
		for (size_t i = 0; i < zl->n; i++) {
			const char *name;
			if (!asim_cfg_node_string(zl->items[i], &name, d))
				return false;
			zi[nz] = asim_kernel_zone(c->kernel, name);
			if (zi[nz] < 0) {
				asim_diag_error(d, zl->items[i]->mark,
				                "unknown zone '%s' in '%s' (zones are listed in 'zones' at the top)",
				                name, c->name);
				return false;
			}
			nz++;
		}
	} else if (z1) {
		const char *name;
		if (!asim_cfg_node_string(z1, &name, d))
			return false;
		zi[0] = asim_kernel_zone(c->kernel, name);
		if (zi[0] < 0) {
			asim_diag_error(d, z1->mark,
			                "unknown zone '%s' in '%s' (zones are listed in 'zones' at the top)",
			                name, c->name);
			return false;
		}
		nz = 1;
	}
	for (int64_t i = 0; i < nodes; i++)
		zones[i] = nz ? (uint16_t)zi[(size_t)i % nz] : 0;
	if (!asim_component_set_instances(c, (uint32_t)nodes, nz ? zones : NULL)) {
		asim_diag_error(d, map->mark, "out of memory placing the nodes of '%s'", c->name);
		return false;
	}
	s->nodes = (uint32_t)nodes;
	s->majority = s->nodes / 2 + 1;
	s->up = s->nodes;
	s->nslots = (uint32_t)slots;
	s->slot = calloc(s->nslots, sizeof *s->slot);
	if (!s->slot) {
		asim_diag_error(d, map->mark, "out of memory for the lease table of '%s'", c->name);
		return false;
	}
	s->op_acquire = asim_kernel_op(c->kernel, "acquire");
	s->op_release = asim_kernel_op(c->kernel, "release");
	if (s->op_acquire < 0 || s->op_release < 0) {
		asim_diag_error(d, map->mark, "too many operation names (at most %d)", ASIM_MAX_OPS);
		return false;
	}
	s->r_commit = asim_kernel_rng(c->kernel, c->name, "commit");
	s->stalled_since = ASIM_TIME_MAX;
	return true;
}

static uint32_t hash_key(uint64_t key, uint32_t n)
{
	key ^= key >> 33;
	key *= UINT64_C(0xff51afd7ed558ccd);
	key ^= key >> 33;
	return (uint32_t)(key % n);
}

/* The entry of key, or the first reusable one on its probe path (free, or a
 * lapsed lease, which is counted as a TTL expiry when it is reused); NULL
 * when every entry holds a live lease. */
static struct lease *find(struct coordinator *s, uint64_t key, asim_time now)
{
	uint32_t h = hash_key(key, s->nslots);
	struct lease *reuse = NULL;
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct lease *l = &s->slot[(h + i) % s->nslots];
		if (l->used && l->key == key)
			return l;
		if (!l->used) {
			if (!reuse)
				reuse = l;
			break;
		}
		if (l->expiry <= now && !reuse)
			reuse = l;
	}
	return reuse;
}

static void lapse(struct asim_kernel *k, struct coordinator *s, struct lease *l)
{
	if (l->used && l->holder && asim_measuring_at(k, l->expiry))
		s->expiries++;
	l->holder = 0;
}

/* Whether node inst counts a majority of the nodes, itself included, among
 * those up and linked to it both ways: a consensus round needs the votes to
 * go out and come back. A node a partition cuts off into a minority cannot
 * commit, so it cannot renew a lease that the majority side lets lapse and
 * grants to another (Raft's leader completeness; without this check the
 * minority node went on granting beside the majority). */
static bool reaches_majority(struct asim_component *c, const struct coordinator *s,
                             uint16_t inst)
{
	uint32_t votes = 0;
	for (uint32_t j = 0; j < s->nodes; j++)
		votes += !s->down[j] && instances_linked(c, inst, j);
	return votes >= s->majority;
}

static void commit(struct asim_component *c, struct coordinator *s, struct asim_call *call,
                   uint16_t inst)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	bool measuring = asim_measuring_at(k, now);
	if (s->down[inst] || s->up < s->majority || !reaches_majority(c, s, inst)) {
		if (measuring)
			s->dropped++;
		asim_call_drop(k, call);
		return;
	}
	struct lease *l = find(s, call->key, now);
	if (call->op == s->op_release) {
		if (l && l->used && l->key == call->key && l->holder == call->request &&
		    l->expiry > now) {
			l->holder = 0;
			l->expiry = now;
			if (measuring)
				s->releases++;
		}
		asim_call_reply(k, call, ASIM_OK);
		return;
	}
	if (!l) {
		if (measuring)
			s->full++;
		asim_call_reply(k, call, ASIM_REJECTED);
		return;
	}
	if (l->used && l->key == call->key && l->holder && l->expiry > now &&
	    l->holder != call->request) {
		if (measuring)
			s->refused++;
		call->version = l->token;
		asim_call_reply(k, call, ASIM_REJECTED);
		return;
	}
	bool renewal = l->used && l->key == call->key && l->holder == call->request &&
	               l->expiry > now;
	if (!renewal) {
		if (l->used && l->expiry <= now)
			lapse(k, s, l);
		l->used = true;
		l->key = call->key;
		l->holder = call->request;
		l->token = ++s->token;
	}
	asim_time ttl = (asim_time)call->version;
	if (!asim_time_add(now, ttl, &l->expiry))
		l->expiry = ASIM_TIME_MAX;
	if (measuring) {
		if (renewal)
			s->renewals++;
		else
			s->grants++;
	}
	call->version = l->token;
	call->origin = l->expiry;
	asim_call_reply(k, call, ASIM_OK);
}

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct coordinator *s = c->state;
	struct asim_kernel *k = c->kernel;
	uint16_t inst = ev->inst < s->nodes ? ev->inst : 0;
	switch (ev->type) {
	case ASIM_EV_REQUEST: {
		struct asim_call *call = ev->p;
		if (s->down[inst]) {
			if (asim_measuring_at(k, asim_now(k)))
				s->dropped++;
			asim_call_drop(k, call);
			return;
		}
		asim_schedule(k, asim_dist_sample(&s->commit_time, s->r_commit), c->id, EV_COMMIT,
		              inst, 0, call);
		break;
	}
	case EV_COMMIT:
		commit(c, s, ev->p, inst);
		break;
	}
}

static void count_stall(struct asim_kernel *k, struct coordinator *s, asim_time now)
{
	if (s->stalled_since == ASIM_TIME_MAX)
		return;
	asim_time from = s->stalled_since;
	asim_time w = asim_kernel_warmup(k);
	if (from < w)
		from = w;
	if (now > from)
		s->stalled += now - from;
	s->stalled_since = now;
}

/* Whether some node can commit now: up, and reaching a majority. */
static bool can_commit(struct asim_component *c, const struct coordinator *s)
{
	if (s->up < s->majority)
		return false;
	for (uint32_t i = 0; i < s->nodes; i++)
		if (!s->down[i] && reaches_majority(c, s, (uint16_t)i))
			return true;
	return false;
}

/* Starts or ends a stall when whether any node can commit has changed. */
static void update_stall(struct asim_component *c, struct coordinator *s)
{
	asim_time now = asim_now(c->kernel);
	bool had = s->stalled_since == ASIM_TIME_MAX;
	bool has = can_commit(c, s);
	if (had && !has)
		s->stalled_since = now;
	else if (!had && has) {
		count_stall(c->kernel, s, now);
		s->stalled_since = ASIM_TIME_MAX;
	}
}

static void fault(struct asim_component *c, const struct asim_fault *f, bool active)
{
	struct coordinator *s = c->state;
	for (uint32_t i = 0; i < s->nodes; i++) {
		if (!asim_fault_hits(f, i))
			continue;
		if (active) {
			if (s->down[i]++ == 0)
				s->up--;
		} else if (s->down[i] > 0) {
			if (--s->down[i] == 0)
				s->up++;
		}
	}
	update_stall(c, s);
}

static void links_changed(struct asim_component *c)
{
	update_stall(c, c->state);
}

static void warmup_end(struct asim_component *c)
{
	struct coordinator *s = c->state;
	if (s->stalled_since != ASIM_TIME_MAX)
		s->stalled_since = asim_now(c->kernel);
}

static void finish(struct asim_component *c)
{
	struct coordinator *s = c->state;
	asim_time now = asim_now(c->kernel);
	count_stall(c->kernel, s, now);
	/* A lapse is otherwise counted when its entry is reused: count those
	 * that lapsed unclaimed before the end too. */
	for (uint32_t i = 0; i < s->nslots; i++)
		if (s->slot[i].used && s->slot[i].expiry <= now)
			lapse(c->kernel, s, &s->slot[i]);
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct coordinator *s = c->state;
	const char *n = c->name;
	asim_results_string(r, "coordinator", "components.%s.kind", n);
	asim_results_count(r, s->nodes, "components.%s.nodes", n);
	asim_results_real(r, 0.0, "components.%s.utilization", n);
	asim_results_real(r, 0.0, "components.%s.queue_mean", n);
	asim_results_count(r, s->grants, "components.%s.grants", n);
	asim_results_count(r, s->renewals, "components.%s.renewals", n);
	asim_results_count(r, s->refused, "components.%s.refused", n);
	asim_results_count(r, s->releases, "components.%s.releases", n);
	asim_results_count(r, s->expiries, "components.%s.ttl_expiries", n);
	asim_results_count(r, s->dropped, "components.%s.dropped", n);
	asim_results_count(r, s->full, "components.%s.table_full", n);
	asim_results_count(r, s->token, "components.%s.fencing_token", n);
	asim_results_real(r, asim_time_to_seconds(s->stalled), "components.%s.stalled_s", n);
	asim_hist_report(r, &s->latency, "components.%s.latency_ms", c->name);
}

static void destroy(struct asim_component *c)
{
	struct coordinator *s = c->state;
	free(s->slot);
	asim_dist_finish(&s->commit_time);
}

const struct asim_model_ops asim_coordinator_ops = {
	.kind = "coordinator",
	.summary = "consensus metadata: majority of nodes, leases and locks with TTLs, fencing tokens",
	.state_size = sizeof(struct coordinator),
	.configure = configure,
	.handle = handle,
	.warmup_end = warmup_end,
	.finish = finish,
	.report = report,
	.destroy = destroy,
	.faults = ASIM_FAULT_BIT(ASIM_FAULT_CRASH) | ASIM_FAULT_BIT(ASIM_FAULT_ZONE_LOSS) |
	          ASIM_FAULT_BIT(ASIM_FAULT_PAUSE),
	.fault = fault,
	.links_changed = links_changed,
};
