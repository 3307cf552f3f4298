#include "common.h"

#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

struct asim_component *model_target_node(struct asim_component *c, const struct asim_cfg *node,
                                         const char *key, struct asim_diag *d)
{
	if (node->type != ASIM_CFG_SCALAR || !node->text[0]) {
		asim_diag_error(d, node->mark, "expected a component name for '%s' of '%s', got %s", key,
		                c->name, asim_cfg_type_name(node));
		return NULL;
	}
	const char *name = node->text;
	struct asim_kernel *k = c->kernel;
	struct asim_component *t = asim_kernel_find(k, name);
	if (t == c) {
		asim_diag_error(d, node->mark, "'%s' of '%s' cannot be the component itself", key,
		                c->name);
		return NULL;
	}
	/* A client only sends: a request or message sent to one would never
	 * be answered, and its sender would wait for ever. */
	if (t && !strcmp(t->ops->kind, "client")) {
		asim_diag_error(d, node->mark,
		                "'%s' of '%s' names '%s', a client: a client sends requests and "
		                "answers none",
		                key, c->name, name);
		return NULL;
	}
	if (t)
		return t;
	/* Suggest the closest component name, as a compiler suggests a symbol. */
	size_t n = asim_kernel_count(k);
	const char **names = calloc(n + 1, sizeof *names);
	const char *hint = NULL;
	if (names) {
		for (size_t i = 0; i < n; i++)
			names[i] = asim_kernel_component(k, (uint32_t)i)->name;
		hint = asim_diag_suggest(name, names);
	}
	if (hint)
		asim_diag_error(d, node->mark,
		                "'%s' of '%s' names unknown component '%s' (did you mean '%s'?)",
		                key, c->name, name, hint);
	else
		asim_diag_error(d, node->mark, "'%s' of '%s' names unknown component '%s'", key,
		                c->name, name);
	free(names);
	return NULL;
}

struct asim_component *model_target(struct asim_component *c, const struct asim_cfg *map,
                                    const char *key, struct asim_diag *d)
{
	const struct asim_cfg *node = asim_cfg_get(map, key);
	if (!node) {
		asim_diag_error(d, map->mark, "missing required key '%s' in '%s'", key, c->name);
		return NULL;
	}
	return model_target_node(c, node, key, d);
}

bool model_op(struct asim_component *c, const struct asim_cfg *map, int *op,
              struct asim_diag *d)
{
	const char *name = NULL;
	*op = -1;
	if (!asim_cfg_string(map, "op", ASIM_OPTIONAL, &name, d))
		return false;
	if (!name)
		return true;
	*op = asim_kernel_op(c->kernel, name);
	if (*op < 0) {
		asim_diag_error(d, asim_cfg_get(map, "op")->mark,
		                "too many operation names (at most %d)", ASIM_MAX_OPS);
		return false;
	}
	return true;
}

static const char *const backoff_names[] = {"constant", "exponential", NULL};
static const char *const jitter_names[] = {"none", "full", "equal", "decorrelated", NULL};
static const char *const retry_keys[] = {"max", "backoff", "base", "cap", "jitter", "budget",
                                           NULL};

bool retry_policy_parse(const struct asim_cfg *map, const char *key, struct retry_policy *out,
                        struct asim_diag *d)
{
	*out = (struct retry_policy){
		.max = 0,
		.backoff = BACKOFF_EXPONENTIAL,
		.jitter = JITTER_FULL,
		.base = 10 * ASIM_MS,
		.cap = ASIM_S,
	};
	const struct asim_cfg *node = asim_cfg_get(map, key);
	if (!node)
		return true;
	int64_t max = 0;
	if (node->type == ASIM_CFG_SCALAR) {
		if (!asim_cfg_int(map, key, ASIM_REQUIRED, 0, 100, &max, d))
			return false;
		out->max = (uint32_t)max;
		return true;
	}
	if (!asim_cfg_expect_map(node, node->ctx ? node->ctx : key, retry_keys, d))
		return false;
	int backoff = out->backoff, jitter = out->jitter;
	bool ok = asim_cfg_int(node, "max", ASIM_REQUIRED, 0, 100, &max, d);
	ok &= asim_cfg_choice(node, "backoff", ASIM_OPTIONAL, backoff_names, &backoff, d);
	ok &= asim_cfg_choice(node, "jitter", ASIM_OPTIONAL, jitter_names, &jitter, d);
	ok &= asim_cfg_time(node, "base", ASIM_OPTIONAL, ASIM_NS, ASIM_HOUR, &out->base, d);
	ok &= asim_cfg_time(node, "cap", ASIM_OPTIONAL, ASIM_NS, 24 * ASIM_HOUR, &out->cap, d);
	if (ok && out->cap < out->base) {
		/* Either cap is written, or base is, above the default cap. */
		const struct asim_cfg *cap = asim_cfg_get(node, "cap");
		if (cap)
			asim_diag_error(d, cap->mark, "'cap' must be at least 'base' in '%s'",
			                node->ctx ? node->ctx : key);
		else
			asim_diag_error(d, asim_cfg_get(node, "base")->mark,
			                "'base' must be at most 'cap' (1s when not given) in '%s'",
			                node->ctx ? node->ctx : key);
		ok = false;
	}
	out->max = (uint32_t)max;
	out->backoff = (enum backoff_kind)backoff;
	out->jitter = (enum jitter_kind)jitter;
	return ok;
}

asim_time retry_backoff(const struct retry_policy *p, uint32_t n, asim_time prev, gsl_rng *r)
{
	asim_time wait = p->base;
	if (p->backoff == BACKOFF_EXPONENTIAL) {
		/* base * 2^(n-1), saturating at cap without overflowing. */
		for (uint32_t i = 1; i < n && wait < p->cap; i++)
			wait *= 2;
	}
	if (wait > p->cap)
		wait = p->cap;
	switch (p->jitter) {
	case JITTER_NONE:
		return wait;
	case JITTER_FULL:
		return (asim_time)(gsl_rng_uniform(r) * (double)wait);
	case JITTER_EQUAL:
		return wait / 2 + (asim_time)(gsl_rng_uniform(r) * (double)(wait - wait / 2));
	case JITTER_DECORRELATED: {
		/* AWS: sleep = min(cap, random_between(base, prev * 3)). */
		double hi = (double)(prev > 0 ? prev : p->base) * 3.0;
		asim_time s = (asim_time)gsl_ran_flat(r, (double)p->base, hi);
		return s > p->cap ? p->cap : s;
	}
	}
	return wait;
}

/* One zone name, as an index into the scenario's zones. */
static bool zone_id(struct asim_component *c, const struct asim_cfg *node, uint16_t *out,
                    struct asim_diag *d)
{
	const char *name;
	if (!asim_cfg_node_string(node, &name, d))
		return false;
	int z = asim_kernel_zone(c->kernel, name);
	if (z < 0) {
		asim_diag_error(d, node->mark,
		                "unknown zone '%s' in '%s' (zones are listed in 'zones' at the top)", name,
		                c->name);
		return false;
	}
	*out = (uint16_t)z;
	return true;
}

bool model_judges_read(const struct asim_kernel *k, uint32_t comp, unsigned depth)
{
	const struct asim_component *c = asim_kernel_component(k, comp);
	return depth < MODEL_JUDGE_DEPTH && c && c->ops->judges_read &&
	       c->ops->judges_read(c, depth + 1);
}

bool model_relay_judges_read(const struct asim_component *c, unsigned depth)
{
	uint32_t few[16], *to = few;
	size_t n = c->ops->edges(c, to, 16);
	if (n > 16) {
		to = malloc(n * sizeof *to);
		/* Out of memory: say yes, so that no repeat is counted twice. */
		if (!to)
			return true;
		c->ops->edges(c, to, n);
	}
	bool judged = false;
	for (size_t i = 0; i < n && !judged; i++)
		judged = model_judges_read(c->kernel, to[i], depth);
	if (to != few)
		free(to);
	return judged;
}

bool model_zones(struct asim_component *c, const struct asim_cfg *map,
                 uint16_t placed[ASIM_MAX_ZONES], uint32_t *nz, struct asim_diag *d)
{
	const struct asim_cfg *zones = asim_cfg_get(map, "zones");
	const struct asim_cfg *zone = asim_cfg_get(map, "zone");
	*nz = 0;
	if (zones && zone) {
		asim_diag_error(d, zone->mark, "'%s' has both 'zone' and 'zones': give one", c->name);
		return false;
	}
	const struct asim_cfg *one = zone;
	if (zones && zones->type == ASIM_CFG_SCALAR)
		one = zones;
	if (one) {
		if (!zone_id(c, one, &placed[0], d))
			return false;
		*nz = 1;
		return true;
	}
	if (!zones)
		return true;
	if (zones->type != ASIM_CFG_SEQ || zones->n == 0) {
		asim_diag_error(d, zones->mark, "expected a list of zone names for 'zones' in '%s', got %s",
		                c->name, asim_cfg_type_name(zones));
		return false;
	}
	if (zones->n > ASIM_MAX_ZONES) {
		asim_diag_error(d, zones->mark, "too many zones in '%s' (at most %d)", c->name,
		                ASIM_MAX_ZONES);
		return false;
	}
	for (size_t i = 0; i < zones->n; i++)
		if (!zone_id(c, zones->items[i], &placed[i], d))
			return false;
	*nz = (uint32_t)zones->n;
	return true;
}

bool model_instances(struct asim_component *c, const struct asim_cfg *map, uint32_t max,
                     struct asim_diag *d)
{
	int64_t n = 1;
	if (!asim_cfg_int(map, "instances", ASIM_OPTIONAL, 1, max, &n, d))
		return false;
	uint16_t placed[ASIM_MAX_ZONES];
	uint32_t nz;
	if (!model_zones(c, map, placed, &nz, d))
		return false;
	if (nz == 0)
		return asim_component_set_instances(c, (uint32_t)n, NULL);
	uint16_t *per = malloc((size_t)n * sizeof *per);
	if (!per) {
		asim_diag_error(d, map->mark, "out of memory placing %lld instances of '%s'",
		                (long long)n, c->name);
		return false;
	}
	/* Spread instances over the listed zones in turn, as a cloud autoscaler
	 * balances a group across zones. */
	for (int64_t i = 0; i < n; i++)
		per[i] = placed[i % nz];
	bool ok = asim_component_set_instances(c, (uint32_t)n, per);
	free(per);
	if (!ok)
		asim_diag_error(d, map->mark, "out of memory placing %lld instances of '%s'",
		                (long long)n, c->name);
	return ok;
}

/* The capacity is always a power of two, so indexes wrap with a mask. */
bool ptr_ring_grow(struct ptr_ring *q)
{
	uint32_t cap = q->cap ? q->cap * 2 : 16;
	if (cap < q->cap)
		return false;
	void **v = malloc((size_t)cap * sizeof *v);
	if (!v)
		return false;
	for (uint32_t i = 0; i < q->len; i++)
		v[i] = q->v[(q->head + i) & (q->cap - 1)];
	free(q->v);
	q->v = v;
	q->head = 0;
	q->cap = cap;
	return true;
}

void *ptr_ring_pop(struct ptr_ring *q)
{
	if (!q->len)
		return NULL;
	void *p = q->v[q->head];
	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
	return p;
}

void *ptr_ring_pop_back(struct ptr_ring *q)
{
	if (!q->len)
		return NULL;
	q->len--;
	return q->v[(q->head + q->len) & (q->cap - 1)];
}

void ptr_ring_free(struct ptr_ring *q)
{
	free(q->v);
	*q = (struct ptr_ring){0};
}

enum inst_edge inst_fault_apply(struct inst_fault *fs, const struct asim_fault *f, bool active,
                                asim_time now)
{
	switch (f->kind) {
	case ASIM_FAULT_CRASH:
	case ASIM_FAULT_ZONE_LOSS:
		if (f->kind == ASIM_FAULT_ZONE_LOSS)
			fs->gone += active ? 1 : -1;
		if (active) {
			if (fs->down++ == 0) {
				fs->epoch++;
				return EDGE_DOWN;
			}
		} else if (fs->down && --fs->down == 0) {
			return EDGE_UP;
		}
		return EDGE_NONE;
	case ASIM_FAULT_PAUSE:
		if (active) {
			if (fs->paused++ == 0) {
				fs->paused_at = now;
				return EDGE_PAUSED;
			}
		} else if (fs->paused && --fs->paused == 0) {
			fs->paused_total += now - fs->paused_at;
			return EDGE_RESUMED;
		}
		return EDGE_NONE;
	case ASIM_FAULT_CONSUMER_STALL:
		if (active)
			return fs->stalled++ == 0 ? EDGE_STALLED : EDGE_NONE;
		return fs->stalled && --fs->stalled == 0 ? EDGE_UNSTALLED : EDGE_NONE;
	case ASIM_FAULT_SLOW:
		if (active) {
			fs->factor = fs->slowed++ ? fs->factor * f->factor : f->factor;
			fs->added = fs->slowed > 1 ? fs->added + f->added : f->added;
		} else if (fs->slowed && --fs->slowed) {
			fs->factor /= f->factor;
			fs->added -= f->added;
		}
		return EDGE_NONE;
	case ASIM_FAULT_ERROR_RATE: {
		/* Independent faults: a request survives all of them with the
		 * product of (1 - p); certain ones are counted apart so that
		 * ending one never divides by zero. */
		bool certain = f->probability >= 1.0;
		if (active) {
			if (fs->erroring++ == 0)
				fs->ok_prob = 1.0;
			if (certain)
				fs->certain++;
			else
				fs->ok_prob *= 1.0 - f->probability;
		} else if (fs->erroring) {
			if (--fs->erroring == 0)
				fs->certain = 0, fs->ok_prob = 1.0;
			else if (certain)
				fs->certain--;
			else
				fs->ok_prob /= 1.0 - f->probability;
		}
		return EDGE_NONE;
	}
	default:
		return EDGE_NONE;
	}
}

bool held_push(struct held_list *h, uint16_t type, uint16_t inst, void *p, asim_time left,
               asim_time *mark)
{
	if (h->n == h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : 16;
		struct held *v = realloc(h->v, (size_t)cap * sizeof *v);
		if (!v)
			return false;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] =
		(struct held){.p = p, .left = left, .mark = mark, .type = type, .inst = inst};
	return true;
}

void held_release(struct held_list *h, struct asim_component *c, asim_time paused_total)
{
	/* In the order held, so that equal remainders keep their order. */
	for (uint32_t i = 0; i < h->n; i++) {
		if (h->v[i].mark)
			*h->v[i].mark = paused_total;
		asim_schedule(c->kernel, h->v[i].left, c->id, h->v[i].type, h->v[i].inst, 0,
		              h->v[i].p);
	}
	h->n = 0;
}

bool pause_defer(struct asim_component *c, struct held_list *held, bool paused,
                 asim_time paused_total, asim_time owed, asim_time *mark, uint16_t type,
                 uint16_t inst, void *p)
{
	if (owed <= 0)
		return false;
	if (paused) {
		if (!held_push(held, type, inst, p, owed, mark))
			asim_kernel_stop(c->kernel);
		return true;
	}
	*mark = paused_total;
	asim_schedule(c->kernel, owed, c->id, type, inst, 0, p);
	return true;
}

void held_free(struct held_list *h)
{
	free(h->v);
	*h = (struct held_list){0};
}

void model_clock_apply(struct model_clock *clk, const struct asim_fault *f, bool active,
                       asim_time now)
{
	if (f->kind != ASIM_FAULT_CLOCK_SKEW)
		return;
	/* Fold the drift so far into the base, then change the rate. */
	clk->base += (asim_time)(clk->drift * (double)(now - clk->ref));
	clk->ref = now;
	if (active) {
		clk->skewed++;
		clk->base += f->offset;
		clk->drift += f->drift;
		return;
	}
	if (!clk->skewed)
		return;
	/* The end of a skew is a clock step back to true time for this
	 * fault's share: its offset and what its drift accumulated. */
	clk->base -= f->offset + (asim_time)(f->drift * (double)(now - f->start));
	clk->drift -= f->drift;
	if (--clk->skewed == 0)
		*clk = (struct model_clock){0};
}

asim_time model_local_time(const struct model_clock *clocks, uint32_t inst, asim_time now)
{
	if (!clocks || !clocks[inst].skewed)
		return now;
	const struct model_clock *clk = &clocks[inst];
	asim_time t = now + clk->base + (asim_time)(clk->drift * (double)(now - clk->ref));
	return t > 0 ? t : 0;
}

static struct load_levels *levels_at(struct load_levels *first, size_t stride, uint32_t i)
{
	return (struct load_levels *)((char *)first + (size_t)i * stride);
}

void load_levels_init(struct load_levels *first, size_t stride, uint32_t n, asim_time now)
{
	for (uint32_t i = 0; i < n; i++) {
		asim_tw_init(&levels_at(first, stride, i)->busy, now, 0);
		asim_tw_init(&levels_at(first, stride, i)->queue, now, 0);
	}
}

void load_levels_reset(struct load_levels *first, size_t stride, uint32_t n, asim_time now)
{
	for (uint32_t i = 0; i < n; i++) {
		asim_tw_reset(&levels_at(first, stride, i)->busy, now);
		asim_tw_reset(&levels_at(first, stride, i)->queue, now);
	}
}

void load_levels_report(const struct asim_component *c, const struct load_levels *first,
                        size_t stride, uint32_t servers, const struct queue_sum *q,
                        struct asim_results *r)
{
	asim_time now = asim_now(c->kernel);
	double busy = 0, queue = 0, queue_max = q->max;
	for (uint32_t i = 0; i < c->instances; i++) {
		const struct load_levels *lv =
			(const struct load_levels *)((const char *)first + (size_t)i * stride);
		busy += asim_tw_mean(&lv->busy, now);
		queue += asim_tw_mean(&lv->queue, now);
	}
	asim_results_real(r, busy / ((double)c->instances * servers), "components.%s.utilization",
	                  c->name);
	asim_results_real(r, queue, "components.%s.queue_mean", c->name);
	asim_results_count(r, (uint64_t)queue_max, "components.%s.queue_max", c->name);
}

void load_levels_sample(const struct asim_component *c, const struct load_levels *first,
                        size_t stride, struct asim_results *r)
{
	double busy = 0, queue = 0;
	for (uint32_t i = 0; i < c->instances; i++) {
		const struct load_levels *lv =
			(const struct load_levels *)((const char *)first + (size_t)i * stride);
		busy += lv->busy.value;
		queue += lv->queue.value;
	}
	asim_results_real(r, queue, "%s.queue", c->name);
	asim_results_real(r, busy, "%s.busy", c->name);
}
