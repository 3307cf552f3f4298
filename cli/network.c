#include "network.h"

#include <stdlib.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/dist.h"
#include "archsim/model.h"

struct network {
	uint32_t nz;
	struct asim_dist within, across, *links;
	size_t nlinks;
	bool has_within, has_across;
	/* nz * nz delay distributions by (from zone, to zone); NULL: no delay. */
	const struct asim_dist **pair;
	/* One stream per sending component, so that adding a component does
	 * not shift the network draws of the others. */
	gsl_rng **rng;
	/* The zone of each instance of the components known at install (NULL:
	 * all in zone 0), looked up here rather than through the kernel's
	 * component on every message. Components set their instances when
	 * they are configured, before the network is installed. */
	const uint16_t **zones;
	uint32_t ncomp;
	uint64_t messages, cross, lost;
	/* Faults active now, in the order they started; the common case of
	 * none costs one test per message. Loss and latency draw from their
	 * own streams per sender, made at the first such fault, so that the
	 * delays drawn above are the same with or without faults. */
	struct active_fault {
		const struct asim_fault *f;
		const struct asim_net_scope *scope;
	} *active;
	uint32_t nactive, cap_active;
	gsl_rng **r_loss, **r_latency;
};

static inline bool in_side(const uint8_t *side, uint32_t nz, uint32_t zone, uint32_t comp)
{
	return !side || side[zone] || side[nz + comp];
}

static inline int group_of(const int8_t *g, uint32_t nz, uint32_t zone, uint32_t comp)
{
	return g[nz + comp] >= 0 ? g[nz + comp] : g[zone];
}

/* Whether an active fault cuts the link from (from, zone za) to (to, zone
 * zb) outright: a zone loss or a partition between them. */
static bool cuts(const struct network *n, const struct active_fault *a, uint32_t from,
                 uint32_t za, uint32_t to, uint32_t zb)
{
	const struct asim_net_scope *sc = a->scope;
	switch (a->f->kind) {
	case ASIM_FAULT_ZONE_LOSS:
		return za == sc->zone || zb == sc->zone;
	case ASIM_FAULT_PARTITION: {
		int ga = group_of(sc->group, n->nz, za, from);
		int gb = group_of(sc->group, n->nz, zb, to);
		return ga >= 0 && gb >= 0 && ga != gb && (!sc->oneway || ga < gb);
	}
	default:
		return false;
	}
}

/* Applies the active faults to one message: lost, or its delay d plus the
 * latency faults it meets. Out of line: without faults, net_delay then
 * needs few registers. */
static __attribute__((noinline)) asim_time faulted(struct network *n, uint32_t from,
                                                   uint32_t za, uint32_t to, uint32_t zb,
                                                   asim_time d)
{
	for (uint32_t i = 0; i < n->nactive; i++) {
		const struct asim_fault *f = n->active[i].f;
		const struct asim_net_scope *sc = n->active[i].scope;
		if (cuts(n, &n->active[i], from, za, to, zb))
			return ASIM_NET_LOST;
		switch (f->kind) {
		case ASIM_FAULT_LOSS:
		case ASIM_FAULT_LATENCY: {
			bool hit = (in_side(sc->from, n->nz, za, from) && in_side(sc->to, n->nz, zb, to)) ||
			           (!sc->oneway && in_side(sc->from, n->nz, zb, to) &&
			            in_side(sc->to, n->nz, za, from));
			if (!hit || from >= n->ncomp)
				break;
			if (f->kind == ASIM_FAULT_LOSS) {
				if (gsl_rng_uniform(n->r_loss[from]) < f->probability)
					return ASIM_NET_LOST;
			} else {
				asim_time extra = asim_dist_sample(f->delay, n->r_latency[from]);
				d = ASIM_TIME_MAX / 2 - d > extra ? d + extra : ASIM_TIME_MAX / 2;
			}
			break;
		}
		default:
			break;
		}
	}
	return d;
}

/* The zone of an instance (0 when its component has none). */
static uint32_t zone_of_inst(struct asim_kernel *k, uint32_t comp, uint16_t inst)
{
	const struct asim_component *c = asim_kernel_component(k, comp);
	return c->zone ? c->zone[inst] : 0;
}

static const char *const net_keys[] = {"within_zone", "across_zones", "links", NULL};
static const char *const link_keys[] = {"from", "to", "latency", NULL};

/* zone_of_inst through the table made at install. */
static inline uint32_t zone_at(const struct network *n, struct asim_kernel *k, uint32_t comp,
                               uint16_t inst)
{
	if (comp >= n->ncomp)
		return zone_of_inst(k, comp, inst);
	const uint16_t *z = n->zones[comp];
	return z ? z[inst] : 0;
}

static asim_time net_delay(void *p, struct asim_kernel *k, uint32_t from, uint16_t from_inst,
                           uint32_t to, uint16_t to_inst)
{
	struct network *n = p;
	uint32_t za = zone_at(n, k, from, from_inst), zb = zone_at(n, k, to, to_inst);
	if (asim_measuring_at(k, asim_now(k))) {
		n->messages++;
		n->cross += za != zb;
	}
	const struct asim_dist *dist = n->pair[za * n->nz + zb];
	asim_time d = !dist || from >= n->ncomp ? 0 : asim_dist_sample(dist, n->rng[from]);
	if (!n->nactive)
		return d;
	d = faulted(n, from, za, to, zb, d);
	if (d == ASIM_NET_LOST && asim_measuring_at(k, asim_now(k)))
		n->lost++;
	return d;
}

static bool link_up(void *p, struct asim_kernel *k, uint32_t from, uint16_t from_inst,
                    uint32_t to, uint16_t to_inst)
{
	const struct network *n = p;
	if (!n->nactive)
		return true;
	uint32_t za = zone_of_inst(k, from, from_inst), zb = zone_of_inst(k, to, to_inst);
	for (uint32_t i = 0; i < n->nactive; i++)
		if (cuts(n, &n->active[i], from, za, to, zb))
			return false;
	return true;
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct network *n = c->state;
	asim_results_count(r, n->messages, "network.messages");
	asim_results_count(r, n->cross, "network.cross_zone_messages");
	if (n->r_loss || n->nactive || n->cap_active)
		asim_results_count(r, n->lost, "network.lost_messages");
}

static void destroy(struct asim_component *c)
{
	struct network *n = c->state;
	asim_dist_finish(&n->within);
	asim_dist_finish(&n->across);
	for (size_t i = 0; i < n->nlinks; i++)
		asim_dist_finish(&n->links[i]);
	free(n->links);
	free(n->pair);
	free(n->rng);
	free(n->zones);
	free(n->active);
	free(n->r_loss);
	free(n->r_latency);
}

static const struct asim_model_ops network_ops = {
	.kind = "network",
	.summary = "one-way message delays by zone pair (internal)",
	.state_size = sizeof(struct network),
	.report = report,
	.destroy = destroy,
};

static bool zone_of(struct asim_kernel *k, const struct asim_cfg *link, const char *key,
                    int *out, struct asim_diag *d)
{
	const char *name;
	if (!asim_cfg_string(link, key, ASIM_REQUIRED, &name, d))
		return false;
	*out = asim_kernel_zone(k, name);
	if (*out < 0) {
		asim_diag_error(d, asim_cfg_get(link, key)->mark,
		                "unknown zone '%s' in 'network.links' (zones are listed in 'zones' at the top)",
		                name);
		return false;
	}
	return true;
}

static bool parse_links(struct asim_kernel *k, struct network *n, const struct asim_cfg *links,
                        struct asim_diag *d)
{
	if (links->type != ASIM_CFG_SEQ) {
		asim_diag_error(d, links->mark, "expected a list of links for 'network.links', got %s",
		                asim_cfg_type_name(links));
		return false;
	}
	n->links = calloc(links->n ? links->n : 1, sizeof *n->links);
	/* Which link set each ordered pair, to tell a duplicate from a reverse. */
	size_t *given = calloc((size_t)n->nz * n->nz, sizeof *given);
	bool ok = n->links && given;
	if (!ok)
		asim_diag_error(d, links->mark, "out of memory");
	for (size_t i = 0; ok && i < links->n; i++) {
		const struct asim_cfg *l = links->items[i];
		int a = 0, b = 0;
		if (!asim_cfg_expect_map(l, "network.links", link_keys, d) ||
		    !zone_of(k, l, "from", &a, d) || !zone_of(k, l, "to", &b, d) ||
		    !asim_cfg_dist(l, "latency", ASIM_REQUIRED, &n->links[i], d)) {
			ok = false;
			break;
		}
		n->nlinks = i + 1;
		size_t ab = (size_t)a * n->nz + (size_t)b, ba = (size_t)b * n->nz + (size_t)a;
		if (given[ab]) {
			asim_diag_error(d, l->mark, "duplicate link from '%s' to '%s' in 'network.links'",
			                asim_kernel_zone_name(k, (uint32_t)a),
			                asim_kernel_zone_name(k, (uint32_t)b));
			ok = false;
			break;
		}
		given[ab] = i + 1;
		n->pair[ab] = &n->links[i];
		/* The reverse direction follows unless a link sets it itself. */
		if (!given[ba])
			n->pair[ba] = &n->links[i];
	}
	free(given);
	return ok;
}

static bool parse(struct asim_kernel *k, struct network *n, const struct asim_cfg *net,
                  struct asim_diag *d)
{
	if (!asim_cfg_expect_map(net, "network", net_keys, d))
		return false;
	n->has_within = asim_cfg_get(net, "within_zone") != NULL;
	n->has_across = asim_cfg_get(net, "across_zones") != NULL;
	bool ok = asim_cfg_dist(net, "within_zone", ASIM_OPTIONAL, &n->within, d);
	ok &= asim_cfg_dist(net, "across_zones", ASIM_OPTIONAL, &n->across, d);
	if (!ok)
		return false;
	uint32_t nz = asim_kernel_zone_count(k);
	n->nz = nz ? nz : 1;
	n->pair = calloc((size_t)n->nz * n->nz, sizeof *n->pair);
	if (!n->pair) {
		asim_diag_error(d, net->mark, "out of memory");
		return false;
	}
	for (uint32_t a = 0; a < n->nz; a++)
		for (uint32_t b = 0; b < n->nz; b++)
			if (a == b ? n->has_within : n->has_across)
				n->pair[a * n->nz + b] = a == b ? &n->within : &n->across;
	const struct asim_cfg *links = asim_cfg_get(net, "links");
	if (links && !nz) {
		asim_diag_error(d, links->mark, "'network.links' needs 'zones' at the top");
		return false;
	}
	return !links || parse_links(k, n, links, d);
}

/* Makes streams of purpose for every component known at install. */
static gsl_rng **make_streams(struct asim_kernel *k, uint32_t ncomp, const char *purpose)
{
	gsl_rng **v = calloc(ncomp ? ncomp : 1, sizeof *v);
	for (uint32_t i = 0; v && i < ncomp; i++) {
		v[i] = asim_kernel_rng(k, asim_kernel_component(k, i)->name, purpose);
		if (!v[i]) {
			free(v);
			return NULL;
		}
	}
	return v;
}

/* net NULL: a network without delays, for faults. */
static bool install(struct asim_kernel *k, const struct asim_cfg *net, struct asim_mark mark,
                    struct asim_diag *d)
{
	uint32_t ncomp = (uint32_t)asim_kernel_count(k);
	struct asim_component *c = asim_kernel_add(k, ASIM_NETWORK_NAME, &network_ops);
	if (!c) {
		asim_diag_error(d, mark, "out of memory");
		return false;
	}
	struct network *n = c->state;
	if (net && !parse(k, n, net, d))
		return false;
	if (!net) {
		uint32_t nz = asim_kernel_zone_count(k);
		n->nz = nz ? nz : 1;
		n->pair = calloc((size_t)n->nz * n->nz, sizeof *n->pair);
		if (!n->pair) {
			asim_diag_error(d, mark, "out of memory");
			return false;
		}
	}
	n->ncomp = ncomp;
	n->rng = make_streams(k, ncomp, "network");
	n->zones = calloc(ncomp ? ncomp : 1, sizeof *n->zones);
	for (uint32_t i = 0; n->zones && i < ncomp; i++)
		n->zones[i] = asim_kernel_component(k, i)->zone;
	if (!n->rng || !n->zones) {
		asim_diag_error(d, mark, "out of memory");
		return false;
	}
	asim_kernel_set_network(k, net_delay, n);
	asim_kernel_set_network_link(k, link_up);
	return true;
}

bool asim_network_install(struct asim_kernel *k, const struct asim_cfg *net,
                          struct asim_diag *d)
{
	return !net || install(k, net, net->mark, d);
}

bool asim_network_ensure(struct asim_kernel *k, struct asim_mark mark, struct asim_diag *d)
{
	return asim_kernel_find(k, ASIM_NETWORK_NAME) || install(k, NULL, mark, d);
}

bool asim_network_fault(struct asim_kernel *k, const struct asim_fault *f,
                        const struct asim_net_scope *scope, bool active)
{
	struct asim_component *c = asim_kernel_find(k, ASIM_NETWORK_NAME);
	if (!c)
		return false;
	struct network *n = c->state;
	if (!active) {
		for (uint32_t i = 0; i < n->nactive; i++) {
			if (n->active[i].f == f) {
				memmove(&n->active[i], &n->active[i + 1],
				        (n->nactive - i - 1) * sizeof *n->active);
				n->nactive--;
				break;
			}
		}
		return true;
	}
	if (f->kind == ASIM_FAULT_LOSS && !n->r_loss)
		n->r_loss = make_streams(k, n->ncomp, "loss");
	if (f->kind == ASIM_FAULT_LATENCY && !n->r_latency)
		n->r_latency = make_streams(k, n->ncomp, "latency");
	bool ok = (f->kind != ASIM_FAULT_LOSS || n->r_loss) &&
	          (f->kind != ASIM_FAULT_LATENCY || n->r_latency);
	if (ok && n->nactive == n->cap_active) {
		uint32_t cap = n->cap_active ? 2 * n->cap_active : 4;
		struct active_fault *v = realloc(n->active, cap * sizeof *v);
		ok = v != NULL;
		if (ok) {
			n->active = v;
			n->cap_active = cap;
		}
	}
	if (!ok) {
		asim_kernel_stop(k);
		return false;
	}
	n->active[n->nactive++] = (struct active_fault){f, scope};
	return true;
}
