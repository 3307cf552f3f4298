#include "faults.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/dist.h"
#include "archsim/fault.h"
#include "archsim/model.h"
#include "network.h"

/* More occurrences than this is a typo (every: 1ms over a day), not a plan. */
#define MAX_OCCURRENCES 10000

struct target {
	uint32_t comp;
	uint8_t *affected; /* owned; NULL: every instance */
	uint32_t naffected;
};

struct spec {
	enum asim_fault_kind kind;
	struct target *t; /* owned */
	uint32_t nt;
	bool net;         /* the network takes part */
	struct asim_net_scope scope;
	int8_t *group;    /* owned, behind scope */
	uint8_t *from, *to;
	struct asim_dist delay;
	struct asim_fault proto; /* parameters shared by every occurrence */
	char label[96];
};

struct occ {
	struct asim_fault f;
	uint32_t spec;
};

struct engine {
	struct spec *specs;
	uint32_t nspecs;
	struct occ *occ;
	uint32_t nocc;
	struct asim_fault_window *win;
};

enum { EV_FAULT_START = ASIM_EV_USER, EV_FAULT_END };

static const char *kind_names[ASIM_FAULT_KIND_COUNT + 1];

static const char *const *kinds(void)
{
	for (int i = 0; i < ASIM_FAULT_KIND_COUNT; i++)
		kind_names[i] = asim_fault_kind_name((enum asim_fault_kind)i);
	kind_names[ASIM_FAULT_KIND_COUNT] = NULL;
	return kind_names;
}

/* The keys each kind accepts: the timing, its target and its parameters. */
static const char *const *keys_of(enum asim_fault_kind kind)
{
#define T "kind", "at", "for", "every", "repeat"
#define M "component", "instances", "zone"
	static const char *const zone_loss[] = {T, "zone", NULL};
	static const char *const crash[] = {T, M, "restart_after", NULL};
	static const char *const plain[] = {T, M, NULL};
	static const char *const slow[] = {T, M, "factor", "added", NULL};
	static const char *const partition[] = {T, "between", "oneway", NULL};
	static const char *const latency[] = {T, "from", "to", "oneway", "delay", NULL};
	static const char *const loss[] = {T, "from", "to", "oneway", "probability", NULL};
	static const char *const error_rate[] = {T, M, "probability", NULL};
	static const char *const spike[] = {T, M, "factor", "ramp", NULL};
	static const char *const skew[] = {T, M, "offset", "drift", NULL};
#undef T
#undef M
	switch (kind) {
	case ASIM_FAULT_ZONE_LOSS: return zone_loss;
	case ASIM_FAULT_CRASH: return crash;
	case ASIM_FAULT_SLOW: return slow;
	case ASIM_FAULT_PARTITION: return partition;
	case ASIM_FAULT_LATENCY: return latency;
	case ASIM_FAULT_LOSS: return loss;
	case ASIM_FAULT_ERROR_RATE: return error_rate;
	case ASIM_FAULT_LOAD_SPIKE: return spike;
	case ASIM_FAULT_CLOCK_SKEW: return skew;
	default: return plain;
	}
}

static void supported(const struct asim_model_ops *ops, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < ASIM_FAULT_KIND_COUNT; i++) {
		if (!(ops->faults & ASIM_FAULT_BIT(i)))
			continue;
		int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
		                 asim_fault_kind_name((enum asim_fault_kind)i));
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
	if (!used)
		snprintf(buf, len, "none");
}

/* The user's components: those added before the network and the engine. */
static uint32_t user_count(const struct asim_kernel *k)
{
	uint32_t n = (uint32_t)asim_kernel_count(k);
	while (n && asim_kernel_component(k, n - 1)->name[0] == '@')
		n--;
	return n;
}

static struct asim_component *find_component(struct asim_kernel *k, const struct asim_cfg *node,
                                             const char *key, struct asim_diag *d)
{
	const char *name;
	if (!asim_cfg_node_string(node, &name, d))
		return NULL;
	struct asim_component *c = name[0] == '@' ? NULL : asim_kernel_find(k, name);
	if (c)
		return c;
	uint32_t n = user_count(k);
	const char **names = calloc(n + 1, sizeof *names);
	const char *hint = NULL;
	if (names) {
		for (uint32_t i = 0; i < n; i++)
			names[i] = asim_kernel_component(k, i)->name;
		hint = asim_diag_suggest(name, names);
	}
	if (hint)
		asim_diag_error(d, node->mark, "'%s' of a fault names unknown component '%s' (did you mean '%s'?)",
		                key, name, hint);
	else
		asim_diag_error(d, node->mark, "'%s' of a fault names unknown component '%s'", key, name);
	free(names);
	return NULL;
}

static int find_zone(struct asim_kernel *k, const struct asim_cfg *node, struct asim_diag *d)
{
	const char *name;
	if (!asim_cfg_node_string(node, &name, d))
		return -1;
	int z = asim_kernel_zone(k, name);
	if (z < 0)
		asim_diag_error(d, node->mark,
		                "unknown zone '%s' in a fault (zones are listed in 'zones' at the top)", name);
	return z;
}

/* A zone or component name of a group or side: sets its byte in marks
 * (zones first, then components by id). */
static bool mark_name(struct asim_kernel *k, const struct asim_cfg *node, const char *key,
                      uint32_t nz, int8_t *group, int8_t g, uint8_t *side, struct asim_diag *d)
{
	const char *name;
	if (!asim_cfg_node_string(node, &name, d))
		return false;
	int z = asim_kernel_zone(k, name);
	size_t at;
	if (z >= 0) {
		at = (size_t)z;
	} else {
		struct asim_component *c = find_component(k, node, key, d);
		if (!c)
			return false;
		at = nz + c->id;
	}
	if (group) {
		if (group[at] >= 0 && group[at] != g) {
			asim_diag_error(d, node->mark, "'%s' is in two groups of 'between'", name);
			return false;
		}
		group[at] = g;
	} else {
		side[at] = 1;
	}
	return true;
}

static bool parse_side(struct asim_kernel *k, const struct asim_cfg *item, const char *key,
                       uint32_t nz, uint32_t ncomp, uint8_t **out, struct asim_diag *d)
{
	const struct asim_cfg *v = asim_cfg_get(item, key);
	if (!v)
		return true;
	*out = calloc(nz + ncomp, 1);
	if (!*out) {
		asim_diag_error(d, v->mark, "out of memory");
		return false;
	}
	if (v->type == ASIM_CFG_SCALAR)
		return mark_name(k, v, key, nz, NULL, 0, *out, d);
	if (v->type != ASIM_CFG_SEQ || v->n == 0) {
		asim_diag_error(d, v->mark, "expected a zone or component name, or a list of them, for '%s', got %s",
		                key, asim_cfg_type_name(v));
		return false;
	}
	for (size_t i = 0; i < v->n; i++)
		if (!mark_name(k, v->items[i], key, nz, NULL, 0, *out, d))
			return false;
	return true;
}

static bool parse_between(struct asim_kernel *k, const struct asim_cfg *item, struct spec *sp,
                          uint32_t nz, uint32_t ncomp, struct asim_diag *d)
{
	const struct asim_cfg *v = asim_cfg_get(item, "between");
	if (!v) {
		asim_diag_error(d, item->mark, "a 'partition' fault needs 'between' (e.g. between: [[a], [b, c]])");
		return false;
	}
	if (v->type != ASIM_CFG_SEQ || v->n < 2 || v->n > 64) {
		asim_diag_error(d, v->mark,
		                "expected a list of 2 to 64 groups for 'between' (e.g. [[a], [b, c]]), got %s%s",
		                v->type == ASIM_CFG_SEQ && v->n < 2 ? "too few in " : "",
		                asim_cfg_type_name(v));
		return false;
	}
	sp->group = malloc(nz + ncomp);
	if (!sp->group) {
		asim_diag_error(d, v->mark, "out of memory");
		return false;
	}
	memset(sp->group, -1, nz + ncomp);
	for (size_t g = 0; g < v->n; g++) {
		const struct asim_cfg *grp = v->items[g];
		if (grp->type == ASIM_CFG_SCALAR) {
			if (!mark_name(k, grp, "between", nz, sp->group, (int8_t)g, NULL, d))
				return false;
			continue;
		}
		if (grp->type != ASIM_CFG_SEQ || grp->n == 0) {
			asim_diag_error(d, grp->mark, "expected a group (a list of zone or component names) in 'between', got %s",
			                asim_cfg_type_name(grp));
			return false;
		}
		for (size_t i = 0; i < grp->n; i++)
			if (!mark_name(k, grp->items[i], "between", nz, sp->group, (int8_t)g, NULL, d))
				return false;
	}
	return true;
}

static bool add_target(struct spec *sp, uint32_t comp, uint8_t *affected, uint32_t n)
{
	struct target *v = realloc(sp->t, (sp->nt + 1) * sizeof *v);
	if (!v) {
		free(affected);
		return false;
	}
	sp->t = v;
	v[sp->nt++] = (struct target){comp, affected, n};
	return true;
}

/* `instances`: the first N, a share (rounded, at least one), or indexes. */
static bool parse_instances(const struct asim_cfg *item, const struct asim_component *c,
                            uint8_t *hit, struct asim_diag *d)
{
	const struct asim_cfg *v = asim_cfg_get(item, "instances");
	uint32_t n = c->instances;
	if (v->type == ASIM_CFG_SEQ) {
		if (v->n == 0) {
			asim_diag_error(d, v->mark, "'instances' of a fault is an empty list");
			return false;
		}
		for (size_t i = 0; i < v->n; i++) {
			int64_t x;
			if (!asim_cfg_node_int(v->items[i], 0, (int64_t)n - 1, &x, d))
				return false;
			if (hit[x]) {
				asim_diag_error(d, v->items[i]->mark, "instance %lld of '%s' is listed twice",
				                (long long)x, c->name);
				return false;
			}
			hit[x] = 1;
		}
		return true;
	}
	if (v->type == ASIM_CFG_SCALAR && strchr(v->text, '%')) {
		double share;
		if (!asim_cfg_node_fraction(v, &share, d))
			return false;
		if (share <= 0) {
			asim_diag_error(d, v->mark, "'instances' of a fault must be more than 0%%");
			return false;
		}
		uint32_t m = (uint32_t)llround(share * n);
		for (uint32_t i = 0; i < (m ? m : 1) && i < n; i++)
			hit[i] = 1;
		return true;
	}
	int64_t m;
	if (!asim_cfg_int(item, "instances", ASIM_REQUIRED, 1, n, &m, d))
		return false;
	for (int64_t i = 0; i < m; i++)
		hit[i] = 1;
	return true;
}

static bool component_target(struct asim_kernel *k, const struct asim_cfg *item, struct spec *sp,
                             struct asim_diag *d)
{
	const struct asim_cfg *cv = asim_cfg_get(item, "component");
	struct asim_component *c = find_component(k, cv, "component", d);
	if (!c)
		return false;
	if (!(c->ops->faults & ASIM_FAULT_BIT(sp->kind)) || !c->ops->fault) {
		char buf[256];
		supported(c->ops, buf, sizeof buf);
		asim_diag_error(d, cv->mark, "'%s' (a %s) does not support fault '%s' (it supports: %s)",
		                c->name, c->ops->kind, asim_fault_kind_name(sp->kind), buf);
		return false;
	}
	const struct asim_cfg *iv = asim_cfg_get(item, "instances");
	uint8_t *hit = NULL;
	if (iv) {
		hit = calloc(c->instances, 1);
		if (!hit) {
			asim_diag_error(d, iv->mark, "out of memory");
			return false;
		}
		if (!parse_instances(item, c, hit, d)) {
			free(hit);
			return false;
		}
	}
	if (!add_target(sp, c->id, hit, hit ? c->instances : 0)) {
		asim_diag_error(d, cv->mark, "out of memory");
		return false;
	}
	return true;
}

/* Every component with instances in zone z whose model takes the kind;
 * for zone_loss the others are cut off by the network alone. */
static bool zone_targets(struct asim_kernel *k, struct spec *sp, int z, bool quiet,
                         const struct asim_cfg *zv, struct asim_diag *d)
{
	uint32_t n = user_count(k);
	for (uint32_t i = 0; i < n; i++) {
		struct asim_component *c = asim_kernel_component(k, i);
		if (!(c->ops->faults & ASIM_FAULT_BIT(sp->kind)) || !c->ops->fault)
			continue;
		uint8_t *hit = calloc(c->instances, 1);
		if (!hit) {
			asim_diag_error(d, zv->mark, "out of memory");
			return false;
		}
		bool any = false;
		for (uint32_t j = 0; j < c->instances; j++) {
			hit[j] = (c->zone ? c->zone[j] : 0) == z;
			any |= hit[j];
		}
		if (!any) {
			free(hit);
			continue;
		}
		if (!add_target(sp, c->id, hit, c->instances)) {
			asim_diag_error(d, zv->mark, "out of memory");
			return false;
		}
	}
	if (!sp->nt && !quiet) {
		asim_diag_error(d, zv->mark, "no component in zone '%s' supports fault '%s'",
		                zv->text, asim_fault_kind_name(sp->kind));
		return false;
	}
	return true;
}

static void format_time(char *buf, size_t len, asim_time t)
{
	static const struct {
		asim_time unit;
		const char *name;
	} units[] = {{ASIM_HOUR, "h"}, {ASIM_MIN, "m"}, {ASIM_S, "s"}, {ASIM_MS, "ms"},
	             {ASIM_US, "us"}};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (t && t % units[i].unit == 0) {
			snprintf(buf, len, "%lld%s", (long long)(t / units[i].unit), units[i].name);
			return;
		}
	}
	snprintf(buf, len, "%gms", asim_time_to_ms(t));
}

static void make_label(struct asim_kernel *k, struct spec *sp, const struct asim_cfg *item)
{
	char *b = sp->label;
	size_t len = sizeof sp->label;
	const struct asim_fault *p = &sp->proto;
	int w = snprintf(b, len, "%s", asim_fault_kind_name(sp->kind));
	const struct asim_cfg *v;
	if ((v = asim_cfg_get(item, "component"))) {
		w += snprintf(b + w, len - (size_t)w, " %s", v->text);
		const struct asim_cfg *iv = asim_cfg_get(item, "instances");
		if (iv && sp->nt == 1 && sp->t[0].affected) {
			uint32_t hit = 0;
			for (uint32_t i = 0; i < sp->t[0].naffected; i++)
				hit += sp->t[0].affected[i] != 0;
			w += snprintf(b + w, len - (size_t)w, " %u/%u", hit, sp->t[0].naffected);
		}
	} else if ((v = asim_cfg_get(item, "zone"))) {
		w += snprintf(b + w, len - (size_t)w, " %s", v->text);
	} else if ((v = asim_cfg_get(item, "between"))) {
		for (size_t g = 0; g < v->n && w < (int)len; g++) {
			const struct asim_cfg *grp = v->items[g];
			w += snprintf(b + w, len - (size_t)w, "%s", g ? " |" : "");
			if (grp->type == ASIM_CFG_SCALAR)
				w += snprintf(b + w, len - (size_t)w, " %s", grp->text);
			for (size_t i = 0; grp->type == ASIM_CFG_SEQ && i < grp->n && w < (int)len; i++)
				w += snprintf(b + w, len - (size_t)w, " %s", grp->items[i]->text);
		}
	} else {
		const struct asim_cfg *from = asim_cfg_get(item, "from"), *to = asim_cfg_get(item, "to");
		if (from && from->type == ASIM_CFG_SCALAR)
			w += snprintf(b + w, len - (size_t)w, " %s", from->text);
		if (to && to->type == ASIM_CFG_SCALAR)
			w += snprintf(b + w, len - (size_t)w, " -> %s", to->text);
	}
	char t[32];
	if (w >= (int)len)
		return;
	switch (sp->kind) {
	case ASIM_FAULT_SLOW:
		if (p->factor != 1.0)
			w += snprintf(b + w, len - (size_t)w, " x%g", p->factor);
		if (p->added && w < (int)len) {
			format_time(t, sizeof t, p->added);
			snprintf(b + w, len - (size_t)w, " +%s", t);
		}
		break;
	case ASIM_FAULT_LOAD_SPIKE:
		snprintf(b + w, len - (size_t)w, " x%g", p->factor);
		break;
	case ASIM_FAULT_ERROR_RATE:
	case ASIM_FAULT_LOSS:
		snprintf(b + w, len - (size_t)w, " %g%%", p->probability * 100);
		break;
	case ASIM_FAULT_LATENCY:
		format_time(t, sizeof t, asim_time_from_seconds(asim_dist_mean(p->delay)));
		snprintf(b + w, len - (size_t)w, " +%s", t);
		break;
	case ASIM_FAULT_CLOCK_SKEW:
		if (p->offset) {
			format_time(t, sizeof t, p->offset < 0 ? -p->offset : p->offset);
			snprintf(b + w, len - (size_t)w, " %c%s", p->offset < 0 ? '-' : '+', t);
		}
		break;
	default:
		break;
	}
	(void)k;
}

static bool parse_params(const struct asim_cfg *item, struct spec *sp, struct asim_diag *d)
{
	struct asim_fault *p = &sp->proto;
	p->factor = 1.0;
	bool ok = true;
	switch (sp->kind) {
	case ASIM_FAULT_SLOW:
		ok &= asim_cfg_real(item, "factor", ASIM_OPTIONAL, 1e-3, 1e6, &p->factor, d);
		ok &= asim_cfg_time(item, "added", ASIM_OPTIONAL, 0, ASIM_HOUR, &p->added, d);
		if (ok && !asim_cfg_get(item, "factor") && !asim_cfg_get(item, "added")) {
			asim_diag_error(d, item->mark, "a 'slow' fault needs 'factor' or 'added' (or both)");
			ok = false;
		}
		break;
	case ASIM_FAULT_LOAD_SPIKE:
		ok &= asim_cfg_real(item, "factor", ASIM_REQUIRED, 1e-3, 1e6, &p->factor, d);
		ok &= asim_cfg_time(item, "ramp", ASIM_OPTIONAL, 0, 24 * ASIM_HOUR, &p->ramp, d);
		break;
	case ASIM_FAULT_ERROR_RATE:
	case ASIM_FAULT_LOSS:
		ok &= asim_cfg_fraction(item, "probability", ASIM_REQUIRED, &p->probability, d);
		break;
	case ASIM_FAULT_LATENCY:
		ok &= asim_cfg_dist(item, "delay", ASIM_REQUIRED, &sp->delay, d);
		p->delay = &sp->delay;
		break;
	case ASIM_FAULT_CLOCK_SKEW: {
		/* The offset may be negative (a clock behind), which a duration
		 * cannot be: parse its magnitude. */
		const struct asim_cfg *o = asim_cfg_get(item, "offset");
		if (o && o->type == ASIM_CFG_SCALAR && o->text[0] == '-') {
			struct asim_cfg tmp = *o;
			tmp.text = o->text + 1;
			ok &= asim_cfg_node_time(&tmp, 0, 24 * ASIM_HOUR, &p->offset, d);
			p->offset = -p->offset;
		} else {
			ok &= asim_cfg_time(item, "offset", ASIM_OPTIONAL, 0, 24 * ASIM_HOUR, &p->offset, d);
		}
		ok &= asim_cfg_real(item, "drift", ASIM_OPTIONAL, -0.5, 0.5, &p->drift, d);
		if (ok && !o && !asim_cfg_get(item, "drift")) {
			asim_diag_error(d, item->mark, "a 'clock_skew' fault needs 'offset' or 'drift' (or both)");
			ok = false;
		}
		break;
	}
	default:
		break;
	}
	return ok;
}

static bool parse_target(struct asim_kernel *k, const struct asim_cfg *item, struct spec *sp,
                         uint32_t nz, uint32_t ncomp, struct asim_diag *d)
{
	switch (sp->kind) {
	case ASIM_FAULT_ZONE_LOSS: {
		const struct asim_cfg *zv = asim_cfg_get(item, "zone");
		if (!zv) {
			asim_diag_error(d, item->mark, "a 'zone_loss' fault needs 'zone'");
			return false;
		}
		int z = find_zone(k, zv, d);
		if (z < 0)
			return false;
		sp->net = true;
		sp->scope.zone = (uint16_t)z;
		return zone_targets(k, sp, z, true, zv, d);
	}
	case ASIM_FAULT_PARTITION:
		sp->net = true;
		if (!asim_cfg_bool(item, "oneway", ASIM_OPTIONAL, &sp->scope.oneway, d) ||
		    !parse_between(k, item, sp, nz, ncomp, d))
			return false;
		sp->scope.group = sp->group;
		return true;
	case ASIM_FAULT_LATENCY:
	case ASIM_FAULT_LOSS:
		sp->net = true;
		if (!asim_cfg_bool(item, "oneway", ASIM_OPTIONAL, &sp->scope.oneway, d) ||
		    !parse_side(k, item, "from", nz, ncomp, &sp->from, d) ||
		    !parse_side(k, item, "to", nz, ncomp, &sp->to, d))
			return false;
		sp->scope.from = sp->from;
		sp->scope.to = sp->to;
		return true;
	default:
		break;
	}
	const struct asim_cfg *cv = asim_cfg_get(item, "component");
	const struct asim_cfg *zv = asim_cfg_get(item, "zone");
	if (cv && zv) {
		asim_diag_error(d, zv->mark, "a fault has both 'component' and 'zone': give one");
		return false;
	}
	if (zv) {
		const struct asim_cfg *iv = asim_cfg_get(item, "instances");
		if (iv) {
			asim_diag_error(d, iv->mark, "'instances' applies only with 'component'");
			return false;
		}
		int z = find_zone(k, zv, d);
		return z >= 0 && zone_targets(k, sp, z, false, zv, d);
	}
	if (!cv) {
		asim_diag_error(d, item->mark, "a '%s' fault needs 'component' or 'zone'",
		                asim_fault_kind_name(sp->kind));
		return false;
	}
	return component_target(k, item, sp, d);
}

/* Timing: each occurrence's start and end. Returns the count, or -1. */
static long parse_timing(const struct asim_cfg *item, const struct spec *sp, asim_time duration,
                         asim_time *at, asim_time *len, asim_time *every, struct asim_diag *d)
{
	char dur[32];
	format_time(dur, sizeof dur, duration);
	*len = 0;
	*every = 0;
	int64_t repeat = 0;
	bool ok = asim_cfg_time(item, "at", ASIM_REQUIRED, 0, 366 * 24 * ASIM_HOUR, at, d);
	ok &= asim_cfg_time(item, "for", ASIM_OPTIONAL, ASIM_NS, 366 * 24 * ASIM_HOUR, len, d);
	ok &= asim_cfg_time(item, "every", ASIM_OPTIONAL, ASIM_NS, 366 * 24 * ASIM_HOUR, every, d);
	ok &= asim_cfg_int(item, "repeat", ASIM_OPTIONAL, 1, MAX_OCCURRENCES, &repeat, d);
	asim_time restart = 0;
	if (sp->kind == ASIM_FAULT_CRASH)
		ok &= asim_cfg_time(item, "restart_after", ASIM_OPTIONAL, ASIM_NS, 366 * 24 * ASIM_HOUR,
		                    &restart, d);
	if (!ok)
		return -1;
	const struct asim_cfg *forv = asim_cfg_get(item, "for");
	const struct asim_cfg *everyv = asim_cfg_get(item, "every");
	const struct asim_cfg *repv = asim_cfg_get(item, "repeat");
	if (restart) {
		if (forv) {
			asim_diag_error(d, asim_cfg_get(item, "restart_after")->mark,
			                "a crash takes 'restart_after' or 'for' (how long it lasts), not both");
			return -1;
		}
		*len = restart;
		forv = asim_cfg_get(item, "restart_after");
	}
	if (*at >= duration) {
		asim_diag_error(d, asim_cfg_get(item, "at")->mark,
		                "'at' is past the end of the scenario (duration %s)", dur);
		return -1;
	}
	if (forv && *len > duration - *at) {
		asim_diag_error(d, forv->mark,
		                "'%s' runs past the end of the scenario (duration %s; leave it out to last until the end)",
		                restart ? "restart_after" : "for", dur);
		return -1;
	}
	if (repv && !everyv) {
		asim_diag_error(d, repv->mark, "'repeat' needs 'every' (how often the fault starts)");
		return -1;
	}
	if (!everyv)
		return 1;
	if (!forv) {
		asim_diag_error(d, everyv->mark,
		                "'every' needs 'for' (how long each occurrence lasts)");
		return -1;
	}
	if (*every <= *len) {
		asim_diag_error(d, everyv->mark,
		                "'every' must be longer than '%s': occurrences would overlap",
		                restart ? "restart_after" : "for");
		return -1;
	}
	long n = (long)((duration - 1 - *at) / *every) + 1;
	if (repv && repeat < n)
		n = (long)repeat;
	return n;
}

static bool parse_item(struct asim_kernel *k, struct engine *e, const struct asim_cfg *item,
                       size_t idx, asim_time duration, struct asim_diag *d)
{
	char ctx[32];
	snprintf(ctx, sizeof ctx, "faults[%zu]", idx);
	if (item->type != ASIM_CFG_MAP) {
		asim_diag_error(d, item->mark, "expected a mapping for '%s', got %s", ctx,
		                asim_cfg_type_name(item));
		return false;
	}
	int kind = 0;
	if (!asim_cfg_get(item, "kind")) {
		asim_diag_error(d, item->mark, "missing required key 'kind' in '%s'", ctx);
		return false;
	}
	if (!asim_cfg_choice(item, "kind", ASIM_REQUIRED, kinds(), &kind, d))
		return false;
	struct spec *sp = &e->specs[e->nspecs++];
	sp->kind = (enum asim_fault_kind)kind;
	char kctx[64];
	snprintf(kctx, sizeof kctx, "%s (%s)", ctx, asim_fault_kind_name(sp->kind));
	if (!asim_cfg_expect_map(item, kctx, keys_of(sp->kind), d))
		return false;
	uint32_t nz = asim_kernel_zone_count(k);
	nz = nz ? nz : 1;
	uint32_t ncomp = (uint32_t)asim_kernel_count(k);
	if (!parse_params(item, sp, d) || !parse_target(k, item, sp, nz, ncomp, d))
		return false;
	asim_time at, len, every;
	long n = parse_timing(item, sp, duration, &at, &len, &every, d);
	if (n < 0)
		return false;
	/* A spike that ends while still ramping never reaches its factor. */
	asim_time lasts = len ? len : duration - at;
	if (sp->kind == ASIM_FAULT_LOAD_SPIKE && sp->proto.ramp > lasts) {
		char t[32];
		format_time(t, sizeof t, lasts);
		asim_diag_error(d, asim_cfg_get(item, "ramp")->mark,
		                "'ramp' is longer than the spike lasts (%s): it would end before "
		                "reaching its factor",
		                t);
		return false;
	}
	if (e->nocc + (uint64_t)n > MAX_OCCURRENCES) {
		asim_diag_error(d, item->mark, "too many fault occurrences (at most %d in all)",
		                MAX_OCCURRENCES);
		return false;
	}
	make_label(k, sp, item);
	sp->proto.kind = sp->kind;
	sp->proto.label = sp->label;
	if (sp->kind == ASIM_FAULT_CRASH && asim_cfg_get(item, "restart_after"))
		sp->proto.restart_after = len;
	struct occ *v = realloc(e->occ, (e->nocc + (size_t)n) * sizeof *v);
	if (!v) {
		asim_diag_error(d, item->mark, "out of memory");
		return false;
	}
	e->occ = v;
	for (long i = 0; i < n; i++) {
		struct occ *o = &e->occ[e->nocc];
		o->f = sp->proto;
		o->spec = e->nspecs - 1;
		o->f.id = e->nocc++;
		o->f.start = at + (asim_time)i * every;
		o->f.end = len ? o->f.start + len : ASIM_TIME_MAX;
	}
	return true;
}

/* A crash or zone loss of a target's instances, told to every other
 * component that keeps sessions with others (peer_fault), once the target
 * has applied it: each hook looks only at the components it sends to, so
 * none is looked up here. */
static void tell_peers(struct asim_kernel *k, const struct spec *sp, const struct asim_fault *of,
                       bool active)
{
	if (sp->kind != ASIM_FAULT_CRASH && sp->kind != ASIM_FAULT_ZONE_LOSS)
		return;
	uint32_t n = user_count(k);
	for (uint32_t w = 0; w < n; w++) {
		struct asim_component *c = asim_kernel_component(k, w);
		if (!c->ops->peer_fault)
			continue;
		for (uint32_t i = 0; i < sp->nt; i++) {
			if (sp->t[i].comp == w)
				continue;
			struct asim_fault f = *of;
			f.affected = sp->t[i].affected;
			f.naffected = sp->t[i].naffected;
			c->ops->peer_fault(c, sp->t[i].comp, &f, active);
		}
	}
}

/* A partition or a zone loss began or ended (the network has applied it):
 * told to every component that watches links (links_changed), last. */
static void tell_links(struct asim_kernel *k, const struct spec *sp)
{
	if (sp->kind != ASIM_FAULT_PARTITION && sp->kind != ASIM_FAULT_ZONE_LOSS)
		return;
	uint32_t n = user_count(k);
	for (uint32_t w = 0; w < n; w++) {
		struct asim_component *c = asim_kernel_component(k, w);
		if (c->ops->links_changed)
			c->ops->links_changed(c);
	}
}

static void apply(struct asim_component *self, struct engine *e, struct occ *o, bool active)
{
	struct asim_kernel *k = self->kernel;
	const struct spec *sp = &e->specs[o->spec];
	if (sp->net)
		asim_network_fault(k, &o->f, &sp->scope, active);
	for (uint32_t i = 0; i < sp->nt; i++) {
		struct asim_component *c = asim_kernel_component(k, sp->t[i].comp);
		/* Each target sees the instances hit in it; the copy lives for
		 * the call only. */
		struct asim_fault f = o->f;
		f.affected = sp->t[i].affected;
		f.naffected = sp->t[i].naffected;
		c->ops->fault(c, &f, active);
	}
	tell_peers(k, sp, &o->f, active);
	tell_links(k, sp);
}

static void start(struct asim_component *c)
{
	struct engine *e = c->state;
	for (uint32_t i = 0; i < e->nocc; i++) {
		asim_schedule_at(c->kernel, e->occ[i].f.start, c->id, EV_FAULT_START, 0, i, NULL);
		if (e->occ[i].f.end != ASIM_TIME_MAX)
			asim_schedule_at(c->kernel, e->occ[i].f.end, c->id, EV_FAULT_END, 0, i, NULL);
	}
}

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct engine *e = c->state;
	if (ev->a < e->nocc)
		apply(c, e, &e->occ[ev->a], ev->type == EV_FAULT_START);
}

static void destroy(struct asim_component *c)
{
	struct engine *e = c->state;
	for (uint32_t i = 0; i < e->nspecs; i++) {
		struct spec *sp = &e->specs[i];
		for (uint32_t j = 0; j < sp->nt; j++)
			free(sp->t[j].affected);
		free(sp->t);
		free(sp->group);
		free(sp->from);
		free(sp->to);
		asim_dist_finish(&sp->delay);
	}
	free(e->specs);
	free(e->occ);
	free(e->win);
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct engine *e = c->state;
	asim_results_count(r, e->nocc, "faults.occurrences");
}

static const struct asim_model_ops engine_ops = {
	.kind = "faults",
	.summary = "the fault timeline (internal)",
	.state_size = sizeof(struct engine),
	.start = start,
	.handle = handle,
	.report = report,
	.destroy = destroy,
};

bool asim_faults_install(struct asim_kernel *k, const struct asim_cfg *faults,
                         asim_time file_duration, struct asim_diag *d)
{
	if (!faults)
		return true;
	if (faults->type != ASIM_CFG_SEQ) {
		asim_diag_error(d, faults->mark, "expected a list of faults for 'faults', got %s",
		                asim_cfg_type_name(faults));
		return false;
	}
	bool net = false;
	for (size_t i = 0; i < faults->n; i++) {
		const struct asim_cfg *kv = asim_cfg_get(faults->items[i], "kind");
		if (!kv || kv->type != ASIM_CFG_SCALAR)
			continue;
		net |= !strcmp(kv->text, "zone_loss") || !strcmp(kv->text, "partition") ||
		       !strcmp(kv->text, "latency") || !strcmp(kv->text, "loss");
	}
	if (net && !asim_network_ensure(k, faults->mark, d))
		return false;
	struct asim_component *c = asim_kernel_add(k, ASIM_FAULTS_NAME, &engine_ops);
	struct engine *e = c ? c->state : NULL;
	if (e)
		e->specs = calloc(faults->n ? faults->n : 1, sizeof *e->specs);
	if (!e || !e->specs) {
		asim_diag_error(d, faults->mark, "out of memory");
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < faults->n; i++)
		ok &= parse_item(k, e, faults->items[i], i, file_duration, d);
	if (!ok)
		return false;
	/* Windows in start order (stable: file order breaks ties). */
	e->win = calloc(e->nocc ? e->nocc : 1, sizeof *e->win);
	if (!e->win) {
		asim_diag_error(d, faults->mark, "out of memory");
		return false;
	}
	return true;
}

static int by_start(const void *a, const void *b)
{
	const struct asim_fault_window *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->label, y->label);
}

size_t asim_faults_windows(struct asim_kernel *k, asim_time end,
                           const struct asim_fault_window **out)
{
	struct asim_component *c = asim_kernel_find(k, ASIM_FAULTS_NAME);
	*out = NULL;
	if (!c)
		return 0;
	struct engine *e = c->state;
	size_t n = 0;
	for (uint32_t i = 0; i < e->nocc; i++) {
		const struct asim_fault *f = &e->occ[i].f;
		if (f->start >= end)
			continue;
		struct asim_fault_window *w = &e->win[n++];
		w->start = f->start;
		w->end = f->end < end ? f->end : end;
		snprintf(w->label, sizeof w->label, "%s", e->specs[e->occ[i].spec].label);
	}
	qsort(e->win, n, sizeof *e->win, by_start);
	*out = e->win;
	return n;
}
