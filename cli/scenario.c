#include "scenario.h"

#include <stdlib.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/model.h"
#include "archsim/stats.h"
#include "archsim_version.h"
#include "faults.h"
#include "graph.h"
#include "merge.h"
#include "network.h"
#include "ops.h"
#include "warmup.h"

static const char *const top_keys[] = {
	"name", "description", "seed", "duration", "warmup", "replications", "zones",
	"components", "slo", "limits", "network", "window", "faults", NULL,
};
/* The longest run (and warm-up, window, SLO time) a scenario may ask for. */
#define MAX_RUN_TIME (366 * 24 * ASIM_HOUR)
/* Every latency, staleness and lag is shorter than the run: the histograms
 * must resolve values up to here, or long runs' percentiles collapse into
 * their top bucket. */
_Static_assert(MAX_RUN_TIME < ((int64_t)1 << ASIM_HIST_MAX_BITS),
               "histograms must cover the longest run");

static const char *const limit_keys[] = {"events", "pending", "inflight", "memory", NULL};

/* A size in bytes with a unit: "2GiB", "512MiB", "1500MB", "65536B". Whole
 * numbers only, so the limit is exact. */
static bool parse_bytes(const struct asim_cfg *node, uint64_t *out, struct asim_diag *d)
{
	static const struct {
		const char *name;
		uint64_t mul;
	} units[] = {
		{"B", 1},
		{"kB", UINT64_C(1000)}, {"KB", UINT64_C(1000)}, {"MB", UINT64_C(1000000)},
		{"GB", UINT64_C(1000000000)}, {"TB", UINT64_C(1000000000000)},
		{"KiB", UINT64_C(1) << 10}, {"MiB", UINT64_C(1) << 20},
		{"GiB", UINT64_C(1) << 30}, {"TiB", UINT64_C(1) << 40},
	};
	const uint64_t lo = UINT64_C(1) << 20, hi = UINT64_C(1) << 50;
	const char *t = node->type == ASIM_CFG_SCALAR ? node->text : NULL;
	uint64_t v = 0;
	bool digits = false, big = false;
	for (; t && *t >= '0' && *t <= '9'; t++) {
		digits = true;
		if (v > (UINT64_MAX - 9) / 10)
			big = true;
		else
			v = v * 10 + (uint64_t)(*t - '0');
	}
	uint64_t mul = 0;
	for (size_t i = 0; digits && i < sizeof units / sizeof units[0]; i++)
		if (!strcmp(t, units[i].name))
			mul = units[i].mul;
	if (!mul) {
		char got[64];
		if (t)
			snprintf(got, sizeof got, "'%.40s'", node->text);
		else
			snprintf(got, sizeof got, "%s", asim_cfg_type_name(node));
		asim_diag_error(d, node->mark,
		                "expected a size with a unit (e.g. 2GiB) for 'memory', got %s "
		                "(units: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)", got);
		return false;
	}
	if (big || v > hi / mul || v * mul < lo) {
		asim_diag_error(d, node->mark,
		                "'memory' must be between 1MiB and 1024TiB, got '%.40s'", node->text);
		return false;
	}
	*out = v * mul;
	return true;
}

/* SLO metrics: the key in `slo:`, the results path it reads, its direction,
 * and how its target is written. */
enum slo_unit { UNIT_TIME, UNIT_FRACTION, UNIT_COUNT, UNIT_SECONDS };
static const struct slo_def {
	const char *key, *path;
	enum slo_kind kind;
	enum slo_unit unit;
} slo_defs[] = {
	{"p50", "latency_ms.p50", SLO_AT_MOST, UNIT_TIME},
	{"p90", "latency_ms.p90", SLO_AT_MOST, UNIT_TIME},
	{"p95", "latency_ms.p95", SLO_AT_MOST, UNIT_TIME},
	{"p99", "latency_ms.p99", SLO_AT_MOST, UNIT_TIME},
	{"p999", "latency_ms.p999", SLO_AT_MOST, UNIT_TIME},
	{"mean", "latency_ms.mean", SLO_AT_MOST, UNIT_TIME},
	{"availability", "availability", SLO_AT_LEAST, UNIT_FRACTION},
	{"stale_reads", "invariants.stale_reads", SLO_AT_MOST, UNIT_COUNT},
	{"duplicate_writes", "invariants.duplicate_writes", SLO_AT_MOST, UNIT_COUNT},
	{"conflicting_writes", "invariants.conflicting_writes", SLO_AT_MOST, UNIT_COUNT},
	{"lost_writes", "invariants.lost_writes", SLO_AT_MOST, UNIT_COUNT},
	{"two_leader_s", "invariants.two_leader_s", SLO_AT_MOST, UNIT_SECONDS},
	{"leader_changes", "invariants.leader_changes", SLO_AT_MOST, UNIT_COUNT},
	{"lock_leaks", "invariants.lock_leaks", SLO_AT_MOST, UNIT_COUNT},
	{"lock_leak_s", "invariants.lock_leak_s", SLO_AT_MOST, UNIT_SECONDS},
	{"drift", "invariants.drift", SLO_AT_MOST, UNIT_COUNT},
	{"queue_backlog", "invariants.queue_backlog", SLO_AT_MOST, UNIT_COUNT},
};
#define NSLO_DEFS (sizeof slo_defs / sizeof slo_defs[0])

static bool parse_slo(struct asim_scenario *s, const struct asim_cfg *slo, struct asim_diag *d)
{
	const char *keys[NSLO_DEFS + 1];
	for (size_t i = 0; i < NSLO_DEFS; i++)
		keys[i] = slo_defs[i].key;
	keys[NSLO_DEFS] = NULL;
	if (!asim_cfg_expect_map(slo, "slo", keys, d))
		return false;
	s->slo = calloc(slo->n ? slo->n : 1, sizeof *s->slo);
	if (!s->slo) {
		asim_diag_error(d, slo->mark, "out of memory");
		return false;
	}
	bool ok = true;
	/* In file order, so the report lists SLOs as the user wrote them. */
	for (size_t i = 0; i < slo->n; i++) {
		const struct slo_def *def = NULL;
		for (size_t j = 0; j < NSLO_DEFS; j++)
			if (!strcmp(slo_defs[j].key, slo->pairs[i].key))
				def = &slo_defs[j];
		struct asim_slo *o = &s->slo[s->nslo];
		double target = 0;
		switch (def->unit) {
		case UNIT_TIME: {
			asim_time t = 0;
			if (!asim_cfg_time(slo, def->key, ASIM_REQUIRED, ASIM_NS, 24 * ASIM_HOUR, &t, d)) {
				ok = false;
				continue;
			}
			target = asim_time_to_ms(t);
			break;
		}
		case UNIT_FRACTION:
			if (!asim_cfg_fraction(slo, def->key, ASIM_REQUIRED, &target, d)) {
				ok = false;
				continue;
			}
			break;
		case UNIT_COUNT: {
			int64_t n = 0;
			if (!asim_cfg_int(slo, def->key, ASIM_REQUIRED, 0, INT64_MAX, &n, d)) {
				ok = false;
				continue;
			}
			target = (double)n;
			break;
		}
		case UNIT_SECONDS: {
			asim_time t = 0;
			if (!asim_cfg_time(slo, def->key, ASIM_REQUIRED, 0, MAX_RUN_TIME, &t, d)) {
				ok = false;
				continue;
			}
			target = asim_time_to_seconds(t);
			break;
		}
		}
		snprintf(o->metric, sizeof o->metric, "%s", def->key);
		o->path = def->path;
		o->kind = def->kind;
		o->target = target;
		s->nslo++;
	}
	return ok;
}

/* Component names become JSON keys and parts of results paths, so they are
 * restricted to a conservative alphabet. */
static bool valid_name(const char *n)
{
	if (!*n || strlen(n) > 64)
		return false;
	for (const char *p = n; *p; p++) {
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static bool parse_zones(struct asim_scenario *s, const struct asim_cfg *zones,
                        struct asim_diag *d)
{
	if (zones->type != ASIM_CFG_SEQ || zones->n == 0) {
		asim_diag_error(d, zones->mark, "expected a list of zone names for 'zones', got %s",
		                asim_cfg_type_name(zones));
		return false;
	}
	if (zones->n > ASIM_MAX_ZONES) {
		asim_diag_error(d, zones->mark, "too many zones (at most %d)", ASIM_MAX_ZONES);
		return false;
	}
	s->zones = calloc(zones->n, sizeof *s->zones);
	if (!s->zones) {
		asim_diag_error(d, zones->mark, "out of memory");
		return false;
	}
	for (size_t i = 0; i < zones->n; i++) {
		const char *z;
		if (!asim_cfg_node_string(zones->items[i], &z, d))
			return false;
		if (!valid_name(z) || strlen(z) > ASIM_ZONE_NAME_MAX) {
			asim_diag_error(d, zones->items[i]->mark,
			                "invalid zone name '%s' (use letters, digits, '_' and '-', at most %d)",
			                z, ASIM_ZONE_NAME_MAX);
			return false;
		}
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(s->zones[j], z)) {
				asim_diag_error(d, zones->items[i]->mark, "duplicate zone '%s'", z);
				return false;
			}
		}
		s->zones[s->nzones++] = z;
	}
	return true;
}

static bool check_components(const struct asim_cfg *comps, struct asim_diag *d)
{
	if (comps->type != ASIM_CFG_MAP) {
		asim_diag_error(d, comps->mark,
		                "expected a mapping of component names to settings for 'components', got %s",
		                asim_cfg_type_name(comps));
		return false;
	}
	if (comps->n == 0) {
		asim_diag_error(d, comps->mark, "'components' is empty: a scenario needs at least a client");
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < comps->n; i++) {
		const struct asim_cfg_pair *p = &comps->pairs[i];
		if (!valid_name(p->key)) {
			asim_diag_error(d, p->key_mark,
			                "invalid component name '%s' (use letters, digits, '_' and '-', at most 64)",
			                p->key);
			ok = false;
			continue;
		}
		if (p->value->type != ASIM_CFG_MAP) {
			asim_diag_error(d, p->value->mark, "expected a mapping of settings for '%s', got %s",
			                p->key, asim_cfg_type_name(p->value));
			ok = false;
			continue;
		}
		const struct asim_cfg *kind = asim_cfg_get(p->value, "kind");
		if (!kind) {
			asim_diag_error(d, p->value->mark, "missing required key 'kind' in '%s'", p->key);
			ok = false;
			continue;
		}
		int idx;
		if (!asim_cfg_node_choice(kind, "kind", asim_model_kinds(), &idx, d))
			ok = false;
	}
	return ok;
}

/* Requests must have somewhere to start and somewhere to end: without a
 * client nothing is ever measured (a run would report a vacuous
 * availability of 1), and calls that go round a cycle never finish (each
 * call waits on one further round; in a run they deadlock or pile up until
 * a limit). Both are refused here rather than discovered in a report. */
static bool check_flow(const struct asim_scenario *s, const struct asim_kernel *k,
                       struct asim_diag *d)
{
	bool client = false;
	for (size_t i = 0; i < asim_kernel_count(k) && !client; i++)
		client = !strcmp(asim_kernel_component(k, (uint32_t)i)->ops->kind, "client");
	if (!client) {
		asim_diag_error(d, s->components->mark,
		                "no component of kind 'client': a scenario needs at least a client "
		                "to send the requests it measures");
		return false;
	}
	uint32_t *cycle;
	size_t len;
	int found = asim_graph_find_cycle(k, &cycle, &len);
	if (found < 0) {
		asim_diag_error(d, s->components->mark, "out of memory");
		return false;
	}
	if (!found)
		return true;
	/* Point at the first of the cycle's components that the file names
	 * (components the models add themselves come after those). */
	size_t at = 0;
	while (at + 1 < len && cycle[at] >= s->components->n)
		at++;
	char names[512];
	size_t used = 0;
	for (size_t i = 0; i <= len && used < sizeof names; i++) {
		const char *name = asim_kernel_component(k, cycle[(at + i) % len])->name;
		int w = snprintf(names + used, sizeof names - used, "%s%s", i ? " -> " : "", name);
		used += w > 0 ? (size_t)w : 0;
	}
	struct asim_mark mark = cycle[at] < s->components->n
	                                ? s->components->pairs[cycle[at]].key_mark
	                                : s->components->mark;
	asim_diag_error(d, mark,
	                "calls go round in a cycle (%s): a request would wait on itself; "
	                "make the calls flow one way",
	                names);
	free(cycle);
	return false;
}

static bool learn_placement(struct asim_scenario *s, const struct asim_kernel *k)
{
	size_t n = s->components->n;
	s->instances = calloc(n, sizeof *s->instances);
	s->zone_of = calloc(n, sizeof *s->zone_of);
	if (!s->instances || !s->zone_of)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct asim_component *c = asim_kernel_component(k, (uint32_t)i);
		s->instances[i] = c->instances;
		if (c->zone) {
			s->zone_of[i] = malloc(c->instances * sizeof **s->zone_of);
			if (!s->zone_of[i])
				return false;
			memcpy(s->zone_of[i], c->zone, c->instances * sizeof **s->zone_of);
		}
	}
	return true;
}

/* Reads the text of a command-line option as the file's value of key would
 * be read, under the option's name: a longer --duration than the file may
 * hold is refused as in the file, not run for hours. NULL text keeps *out. */
static bool option_time(const char *option, const char *key, const char *text, asim_time min,
                        asim_time *out, struct asim_diag *d)
{
	if (!text)
		return true;
	struct asim_mark m = {.file = option, .line = 0, .col = 0};
	struct asim_cfg *map = asim_cfg_new_map(m);
	struct asim_cfg *v = map ? asim_cfg_new_scalar(text, m) : NULL;
	bool ok = v && asim_cfg_map_add(map, key, m, v); /* map now owns v */
	if (ok)
		ok = asim_cfg_time(map, key, ASIM_REQUIRED, min, MAX_RUN_TIME, out, d);
	else
		asim_diag_error(d, m, "out of memory");
	asim_cfg_free(map);
	return ok;
}

/* The one path of both loaders: text is NULL to read the file path, else
 * len bytes named path in marks. */
static struct asim_scenario *load(const char *path, const char *text, size_t len,
                                  const struct asim_overrides *ov, struct asim_diag *d)
{
	size_t first_diag = d->n;
	struct asim_scenario *s = calloc(1, sizeof *s);
	if (!s) {
		asim_diag_error(d, (struct asim_mark){.file = path, .line = 0, .col = 0}, "out of memory");
		return NULL;
	}
	s->doc = asim_doc_load_extended(path, text, len, d);
	if (!s->doc)
		goto fail;
	if (ov && ov->nsets) {
		bool set_ok = true;
		for (size_t i = 0; i < ov->nsets; i++)
			set_ok &= asim_doc_set(s->doc, ov->sets[i], d);
		if (!set_ok)
			goto fail;
		if (!asim_doc_rename(s->doc)) {
			asim_diag_error(d, (struct asim_mark){.file = path, .line = 0, .col = 0}, "out of memory");
			goto fail;
		}
	}
	const struct asim_cfg *root = s->doc->root;
	if (!asim_cfg_expect_map(root, "scenario", top_keys, d))
		goto fail;
	bool ok = true;
	int64_t seed = 1, reps = 1;
	s->duration = 0;
	s->warmup = 0;
	ok &= asim_cfg_string(root, "name", ASIM_OPTIONAL, &s->name, d);
	ok &= asim_cfg_int(root, "seed", ASIM_OPTIONAL, 0, INT64_MAX, &seed, d);
	ok &= asim_cfg_time(root, "duration", ASIM_REQUIRED, ASIM_MS, MAX_RUN_TIME, &s->duration, d);
	const struct asim_cfg *wu = asim_cfg_get(root, "warmup");
	if (wu && wu->type == ASIM_CFG_SCALAR && !strcmp(wu->text, "auto"))
		s->warmup_auto = true;
	else
		ok &= asim_cfg_time(root, "warmup", ASIM_OPTIONAL, 0, MAX_RUN_TIME, &s->warmup, d);
	s->window = ASIM_S;
	ok &= asim_cfg_time(root, "window", ASIM_OPTIONAL, ASIM_MS, MAX_RUN_TIME, &s->window, d);
	ok &= asim_cfg_int(root, "replications", ASIM_OPTIONAL, 1, 10000, &reps, d);
	const char *desc;
	ok &= asim_cfg_string(root, "description", ASIM_OPTIONAL, &desc, d);
	const struct asim_cfg *limits = asim_cfg_get(root, "limits");
	int64_t ev = (int64_t)ASIM_DEFAULT_MAX_EVENTS, pend = (int64_t)ASIM_DEFAULT_MAX_PENDING;
	int64_t infl = (int64_t)ASIM_DEFAULT_MAX_INFLIGHT;
	s->max_memory = ASIM_DEFAULT_MAX_MEMORY;
	if (limits) {
		const struct asim_cfg *mem = asim_cfg_get(limits, "memory");
		ok &= asim_cfg_expect_map(limits, "limits", limit_keys, d) &&
		      asim_cfg_int(limits, "events", ASIM_OPTIONAL, 1, INT64_MAX, &ev, d) &&
		      asim_cfg_int(limits, "pending", ASIM_OPTIONAL, 1, INT64_MAX, &pend, d) &&
		      asim_cfg_int(limits, "inflight", ASIM_OPTIONAL, 1, INT64_MAX, &infl, d) &&
		      (!mem || parse_bytes(mem, &s->max_memory, d));
	}
	s->max_events = (uint64_t)ev;
	s->max_pending = (uint64_t)pend;
	s->max_inflight = (uint64_t)infl;
	/* Whether the components can be configured, for their diagnostics,
	 * whatever else is wrong. */
	const struct asim_cfg *zones = asim_cfg_get(root, "zones");
	bool placeable = !zones || parse_zones(s, zones, d);
	ok &= placeable;
	const struct asim_cfg *slo = asim_cfg_get(root, "slo");
	if (slo)
		ok &= parse_slo(s, slo, d);
	s->components = asim_cfg_get(root, "components");
	if (!s->components) {
		asim_diag_error(d, root->mark, "missing required key 'components' in 'scenario'");
		ok = placeable = false;
	} else {
		placeable &= check_components(s->components, d);
		ok &= placeable && asim_ops_check(s->components, d);
	}
	s->seed = (uint64_t)seed;
	s->replications = (uint32_t)reps;
	if (ov) {
		if (ov->has_seed)
			s->seed = ov->seed;
		ok &= option_time("<--duration>", "duration", ov->duration, ASIM_MS, &s->duration, d);
		if (ov->replications)
			s->replications = ov->replications;
		ok &= option_time("<--window>", "window", ov->window, ASIM_MS, &s->window, d);
		if (ov->max_events)
			s->max_events = ov->max_events;
	}
	if (ok && s->warmup >= s->duration) {
		const struct asim_cfg *w = asim_cfg_get(root, "warmup");
		asim_diag_error(d, w ? w->mark : root->mark,
		                "'warmup' must be shorter than 'duration'");
		ok = false;
	}
	if (!ok) {
		/* One check lists the components' problems too, not only the
		 * settings' (configure needs only the zones and the kinds). */
		if (placeable)
			asim_kernel_destroy(asim_scenario_build(s, 0, d));
		goto fail;
	}
	if (!s->name) {
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		s->name_buf = strdup(base);
		if (!s->name_buf)
			goto fail;
		char *dot = strrchr(s->name_buf, '.');
		if (dot && dot != s->name_buf)
			*dot = '\0';
		s->name = s->name_buf;
	}
	/* Configure every component once now, so that `check` finds every
	 * problem a run would, and learn where each one's instances are. */
	struct asim_kernel *k = asim_scenario_build(s, 0, d);
	if (!k)
		goto fail;
	if (!learn_placement(s, k)) {
		asim_kernel_destroy(k);
		asim_diag_error(d, root->mark, "out of memory");
		goto fail;
	}
	ok = check_flow(s, k, d);
	asim_kernel_destroy(k);
	if (!ok)
		goto fail;
	if (s->warmup_auto && !(ov && ov->no_pilot) && !asim_warmup_auto(s, d))
		goto fail;
	return s;
fail:
	asim_diag_sort(d, first_diag);
	asim_scenario_free(s);
	return NULL;
}

struct asim_scenario *asim_scenario_load(const char *path, const struct asim_overrides *ov,
                                         struct asim_diag *d)
{
	return load(path, NULL, 0, ov, d);
}

struct asim_scenario *asim_scenario_load_buffer(const char *name, const char *text, size_t len,
                                                const struct asim_overrides *ov,
                                                struct asim_diag *d)
{
	return load(name, text ? text : "", text ? len : 0, ov, d);
}

void asim_scenario_free(struct asim_scenario *s)
{
	if (!s)
		return;
	/* components is borrowed from doc: free doc after its last use. */
	if (s->zone_of)
		for (size_t i = 0; i < s->components->n; i++)
			free(s->zone_of[i]);
	free(s->zone_of);
	asim_doc_free(s->doc);
	free(s->instances);
	free(s->zones);
	free(s->slo);
	free(s->name_buf);
	free(s);
}

struct asim_kernel *asim_scenario_build(const struct asim_scenario *s, uint32_t rep,
                                        struct asim_diag *d)
{
	struct asim_mark top = s->components->mark;
	struct asim_kernel *k = asim_kernel_create(s->seed, rep);
	if (!k) {
		asim_diag_error(d, top, "out of memory");
		return NULL;
	}
	if (s->nzones && !asim_kernel_set_zones(k, s->zones, s->nzones)) {
		asim_diag_error(d, top, "out of memory");
		goto fail;
	}
	asim_kernel_set_warmup(k, s->warmup);
	asim_kernel_set_limits(k, s->max_events, s->max_pending);
	asim_kernel_set_resource_limits(k, s->max_memory, s->max_inflight);
	/* Add every component first so that targets resolve in any order. */
	for (size_t i = 0; i < s->components->n; i++) {
		const struct asim_cfg_pair *p = &s->components->pairs[i];
		const char *kind = asim_cfg_get(p->value, "kind")->text;
		struct asim_component *c = asim_kernel_add(k, p->key, asim_model_find(kind));
		if (!c || (s->instances && !asim_component_set_instances(c, s->instances[i],
		                                                          s->zone_of[i]))) {
			asim_diag_error(d, p->key_mark, "out of memory adding '%s'", p->key);
			goto fail;
		}
	}
	bool ok = true;
	for (size_t i = 0; i < s->components->n; i++) {
		struct asim_component *c = asim_kernel_component(k, (uint32_t)i);
		if (c->ops->configure && !c->ops->configure(c, s->components->pairs[i].value, d))
			ok = false;
	}
	if (ok)
		ok = asim_network_install(k, asim_cfg_get(s->doc->root, "network"), d);
	if (ok) {
		/* Faults are checked against the file's duration, so that a
		 * shorter --duration only ends the run before the later ones. */
		asim_time file_duration = s->duration;
		const struct asim_cfg *dv = asim_cfg_get(s->doc->root, "duration");
		if (dv && dv->type == ASIM_CFG_SCALAR)
			asim_parse_time(dv->text, &file_duration);
		/* A duration in error (already reported, the build is then only
		 * for diagnostics) gives the faults no end to be checked against. */
		if (file_duration > 0)
			ok = asim_faults_install(k, asim_cfg_get(s->doc->root, "faults"), file_duration,
			                         d);
	}
	if (ok)
		return k;
fail:
	asim_kernel_destroy(k);
	return NULL;
}

enum asim_run_status asim_scenario_run(const struct asim_scenario *s, uint32_t rep,
                                       struct asim_results *r, struct asim_diag *d)
{
	struct asim_kernel *k = asim_scenario_build(s, rep, d);
	if (!k)
		return ASIM_RUN_NOMEM;
	enum asim_run_status st = ASIM_RUN_DONE;
	if (!s->progress) {
		st = asim_kernel_run(k, s->duration);
	} else {
		/* A stepped run is the same run: events at a step's end run in
		 * that step, in the same order, and a step ends at the end of
		 * warm-up too (as in cli/series.c), where the kernel ends it. */
		asim_time step = s->duration / 100 > ASIM_MS ? s->duration / 100 : ASIM_MS;
		for (asim_time t = 0; t < s->duration && st == ASIM_RUN_DONE;) {
			asim_time end = s->duration - t > step ? t + step : s->duration;
			if (t < s->warmup && s->warmup < end)
				st = asim_kernel_run(k, s->warmup);
			if (st == ASIM_RUN_DONE)
				st = asim_kernel_run(k, end);
			t = end;
			asim_progress_update(s->progress, rep, t);
		}
	}
	asim_kernel_finish(k);
	asim_scenario_collect(s, k, st, r);
	asim_kernel_destroy(k);
	return st;
}

void asim_scenario_collect(const struct asim_scenario *s, struct asim_kernel *k,
                           enum asim_run_status st, struct asim_results *r)
{
	const struct asim_outcome *o = asim_kernel_outcome(k);
	double measured = asim_time_to_seconds(asim_now(k) - s->warmup);
	uint64_t failed = o->requests - o->succeeded;
	char hash[24];
	snprintf(hash, sizeof hash, "%016llx", (unsigned long long)asim_cfg_hash(s->doc->root));
	asim_results_string(r, s->name, "scenario");
	asim_results_string(r, hash, "scenario_hash");
	asim_results_string(r, ARCHSIM_VERSION, "version");
	asim_results_count(r, s->seed, "seed");
	asim_results_count(r, 1, "replications");
	asim_results_real(r, asim_time_to_seconds(s->duration), "duration_s");
	asim_results_real(r, asim_time_to_seconds(s->warmup), "warmup_s");
	if (s->warmup_auto)
		asim_results_bool(r, true, "warmup_auto");
	asim_results_count(r, asim_kernel_events(k), "events");
	char fp[24];
	snprintf(fp, sizeof fp, "%016llx", (unsigned long long)asim_kernel_fingerprint(k));
	asim_results_string(r, fp, "fingerprint");
	if (st != ASIM_RUN_DONE) {
		asim_results_string(r, asim_run_status_str(st), "stopped");
		asim_results_real(r, asim_time_to_seconds(asim_now(k)), "stopped_at_s");
	}
	asim_results_count(r, o->requests, "requests");
	asim_results_count(r, o->succeeded, "succeeded");
	asim_results_count(r, failed, "failed");
	asim_results_real(r, o->requests ? (double)o->succeeded / (double)o->requests : 1.0,
	                  "availability");
	struct asim_hist latency;
	asim_outcome_latency(o, &latency);
	asim_hist_report(r, &latency, "latency_ms");
	asim_results_real(r, measured > 0 ? (double)o->offered / measured : 0.0, "offered_rps");
	/* Admitted: finished requests the system took in (not refused by a rate
	 * limit or a full queue on their last attempt); completed: all that
	 * finished (not those found stuck at the end, which count as failed
	 * requests); throughput_rps is the goodput, those that succeeded. */
	uint64_t completed = o->requests - o->failed_unfinished;
	asim_results_real(r, measured > 0 ? (double)(completed - o->failed_rejected) / measured : 0.0,
	                  "admitted_rps");
	asim_results_real(r, measured > 0 ? (double)completed / measured : 0.0, "completed_rps");
	asim_results_real(r, measured > 0 ? (double)o->succeeded / measured : 0.0, "throughput_rps");
	asim_results_real(r, o->requests ? (double)o->attempts / (double)o->requests : 0.0,
	                  "retry_amplification");
	/* Without a request, availability 1 and amplification 0 are
	 * placeholders, as are the latencies of an empty histogram. */
	if (!o->requests) {
		asim_results_unmeasured(r, "availability");
		asim_results_unmeasured(r, "retry_amplification");
	}
	asim_results_count(r, o->failed_timeout, "failures.timeout");
	asim_results_count(r, o->failed_rejected, "failures.rejected");
	asim_results_count(r, o->failed_error, "failures.error");
	asim_results_count(r, o->failed_unreachable, "failures.unreachable");
	asim_results_count(r, o->failed_unfinished, "failures.unfinished");
	asim_results_count(r, o->in_flight, "in_flight");
	for (int op = 0; op < asim_kernel_op_count(k); op++) {
		if (!o->latency_op[op].count)
			continue;
		const char *name = asim_kernel_op_name(k, op);
		asim_results_count(r, o->latency_op[op].count, "operations.%s.succeeded", name);
		asim_hist_report(r, &o->latency_op[op], "operations.%s.latency_ms", name);
	}
	for (size_t i = 0; i < asim_kernel_count(k); i++) {
		const struct asim_component *c = asim_kernel_component(k, (uint32_t)i);
		if (c->ops->report)
			c->ops->report(c, r);
		else
			asim_results_string(r, c->ops->kind, "components.%s.kind", c->name);
	}
	asim_results_count(r, o->stale_reads, "invariants.stale_reads");
	asim_results_count(r, o->duplicate_writes, "invariants.duplicate_writes");
	asim_results_count(r, o->conflicting_writes, "invariants.conflicting_writes");
	asim_results_count(r, o->lost_writes, "invariants.lost_writes");
	asim_results_real(r, asim_time_to_seconds(o->two_leader), "invariants.two_leader_s");
	asim_results_count(r, o->leader_changes, "invariants.leader_changes");
	asim_results_count(r, o->lock_leaks, "invariants.lock_leaks");
	asim_results_real(r, asim_time_to_seconds(o->lock_leak), "invariants.lock_leak_s");
	asim_results_count(r, o->drift, "invariants.drift");
	asim_results_count(r, o->queue_backlog, "invariants.queue_backlog");
}

bool asim_scenario_judge(const struct asim_scenario *s, struct asim_results *r)
{
	bool all = true;
	/* "slo" is in every document, [] when the scenario declares none, so
	 * that scripts need not test for the key. */
	asim_results_list(r, "slo");
	for (size_t i = 0; i < s->nslo; i++) {
		const struct asim_slo *slo = &s->slo[i];
		double v = asim_results_num(r, slo->path, 0.0);
		bool ok = slo->kind == SLO_AT_MOST ? v <= slo->target : v >= slo->target;
		/* Latency is measured over the requests that succeeded and
		 * availability over those that finished: with none, their
		 * figures (0 ms, 100%) are placeholders that prove nothing. */
		const char *over = !strncmp(slo->path, "latency_ms.", 11) ? "succeeded"
		                   : !strcmp(slo->path, "availability") ? "requests"
		                                                        : NULL;
		bool unmeasured = over && !(asim_results_num(r, over, 0.0) > 0);
		if (unmeasured)
			ok = false;
		asim_results_string(r, slo->metric, "slo[%zu].metric", i);
		asim_results_real(r, slo->target, "slo[%zu].target", i);
		asim_results_real(r, v, "slo[%zu].value", i);
		asim_results_bool(r, ok, "slo[%zu].ok", i);
		if (unmeasured)
			asim_results_string(r, "no request measured", "slo[%zu].note", i);
		all &= ok;
	}
	/* A run stopped at a limit covers only part of the time asked for:
	 * its figures prove nothing either way, so it does not pass. */
	if (asim_results_get(r, "stopped"))
		all = false;
	asim_results_bool(r, all, "ok");
	return all;
}
