/* The data models (cache, database, queue, worker), each driven by a scripted
 * caller and answered by the scripted peer of peer.h, with configurations
 * written as YAML. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "archsim/call.h"
#include "archsim/fault.h"
#include "archsim/kernel.h"
#include "archsim/results.h"
#include "common.h"
#include "load.h"
#include "models.h"
#include "peer.h"

/* A scripted caller: sends each row's call at its time and keeps the answer. */
struct drv_row {
	asim_time at;
	uint16_t op;
	uint64_t key;
};

struct drv_got {
	bool done;
	enum asim_status status;
	asim_time at;
	uint64_t version;
};

struct driver {
	const struct drv_row *rows;
	struct drv_got *got;
	size_t n;
	uint32_t target;
	uint32_t write_target; /* not 0: writes go there instead (past a cache) */
	asim_time deadline;    /* of every call, after it is sent; 0: none */
};

enum { DRV_SEND = ASIM_EV_USER + 3 };

static void drv_start(struct asim_component *c)
{
	struct driver *s = c->state;
	for (size_t i = 0; i < s->n; i++)
		asim_schedule_at(c->kernel, s->rows[i].at, c->id, DRV_SEND, 0, i, NULL);
}

static void drv_handle(struct asim_component *c, const struct asim_event *ev)
{
	struct driver *s = c->state;
	struct asim_kernel *k = c->kernel;
	if (ev->type == DRV_SEND) {
		struct asim_call *call = asim_call_new(k);
		ck_assert_ptr_nonnull(call);
		call->op = s->rows[ev->a].op;
		call->key = s->rows[ev->a].key;
		call->request = ev->a + 1;
		call->origin = asim_now(k);
		call->token = ev->a;
		if (s->deadline)
			call->deadline = asim_now(k) + s->deadline;
		uint32_t to = s->target;
		if (call->op == ASIM_OP_WRITE && s->write_target)
			to = s->write_target;
		asim_call_send(k, call, c->id, 0, to, 0);
	} else if (ev->type == ASIM_EV_RESPONSE) {
		struct asim_call *call = ev->p;
		struct drv_got *g = &s->got[call->token];
		ck_assert(!g->done);
		*g = (struct drv_got){true, (enum asim_status)call->status, asim_now(k), call->version};
		asim_call_free(k, call);
	}
}

static const struct asim_model_ops driver_ops = {
	.kind = "driver",
	.summary = "scripted test caller",
	.state_size = sizeof(struct driver),
	.start = drv_start,
	.handle = drv_handle,
};

/* Loads yaml as the settings of component name in a scenario's
 * `components:` (indented under it, so marks are 2 lines down and 4 columns
 * right), so that messages name the component as a scenario's would. */
static struct asim_doc *load_part(const char *name, const char *yaml, const struct asim_cfg **node,
                                  struct asim_diag *d)
{
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "components:\n  %s:\n    ", name);
	for (const char *q = yaml; *q && n < (int)sizeof buf - 8; q++) {
		buf[n++] = *q;
		if (*q == '\n' && q[1])
			n += snprintf(buf + n, sizeof buf - (size_t)n, "    ");
	}
	buf[n] = '\0';
	struct asim_doc *doc = asim_doc_load_buffer("t.yaml", buf, (size_t)n, d);
	ck_assert_ptr_nonnull(doc);
	*node = asim_cfg_get(asim_cfg_get(doc->root, "components"), name);
	ck_assert_ptr_nonnull(*node);
	return doc;
}

/* A kernel with the driver "drv" calling "m", and the other parts given. */
struct part {
	const char *name;
	const struct asim_model_ops *ops;
	const char *yaml; /* NULL: not configured (driver, peer) */
};

#define MAX_PARTS 12

struct rig {
	struct asim_kernel *k;
	struct asim_doc *doc[MAX_PARTS];
	struct asim_diag d;
	struct asim_results r;
	struct driver *drv;
	struct drv_got *got;
};

/* zones (may be NULL) are the scenario's, set before anything is configured. */
static void rig_build_zoned(struct rig *g, const char *const *zones, uint32_t nzones,
                            const struct part *parts, size_t nparts, const struct drv_row *rows,
                            size_t nrows)
{
	memset(g, 0, sizeof *g);
	asim_diag_init(&g->d);
	asim_results_init(&g->r);
	g->k = asim_kernel_create(42, 0);
	ck_assert_ptr_nonnull(g->k);
	if (nzones)
		ck_assert(asim_kernel_set_zones(g->k, zones, nzones));
	struct asim_component *drv = asim_kernel_add(g->k, "drv", &driver_ops);
	ck_assert_ptr_nonnull(drv);
	struct asim_component *cs[MAX_PARTS];
	ck_assert_uint_le(nparts, MAX_PARTS);
	for (size_t i = 0; i < nparts; i++) {
		cs[i] = asim_kernel_add(g->k, parts[i].name, parts[i].ops);
		ck_assert_ptr_nonnull(cs[i]);
	}
	for (size_t i = 0; i < nparts; i++) {
		if (!parts[i].yaml)
			continue;
		const struct asim_cfg *node;
		g->doc[i] = load_part(parts[i].name, parts[i].yaml, &node, &g->d);
		bool ok = parts[i].ops->configure(cs[i], node, &g->d);
		if (!ok)
			asim_diag_print(&g->d, stderr);
		ck_assert(ok);
	}
	g->drv = drv->state;
	g->got = calloc(nrows ? nrows : 1, sizeof *g->got);
	ck_assert_ptr_nonnull(g->got);
	g->drv->rows = rows;
	g->drv->got = g->got;
	g->drv->n = nrows;
	g->drv->target = asim_kernel_find(g->k, "m")->id;
}

static void rig_build(struct rig *g, const struct part *parts, size_t nparts,
                      const struct drv_row *rows, size_t nrows)
{
	rig_build_zoned(g, NULL, 0, parts, nparts, rows, nrows);
}

static void rig_run(struct rig *g, asim_time until)
{
	ck_assert_int_eq(asim_kernel_run(g->k, until), ASIM_RUN_DONE);
	asim_kernel_finish(g->k);
	for (size_t i = 0; i < asim_kernel_count(g->k); i++) {
		const struct asim_component *c = asim_kernel_component(g->k, (uint32_t)i);
		if (c->ops->report)
			c->ops->report(c, &g->r);
	}
}

static double num(const struct rig *g, const char *path)
{
	const struct asim_value *v = asim_results_get(&g->r, path);
	ck_assert_msg(v != NULL, "no result %s", path);
	return v->num;
}

static struct peer_state *peer_of(const struct rig *g, const char *name)
{
	return asim_kernel_find(g->k, name)->state;
}

static void rig_free(struct rig *g)
{
	asim_kernel_destroy(g->k);
	for (size_t i = 0; i < MAX_PARTS; i++)
		asim_doc_free(g->doc[i]);
	asim_diag_finish(&g->d);
	asim_results_finish(&g->r);
	free(g->got);
}

#define MS ASIM_MS
#define US ASIM_US
#define R ASIM_OP_READ
#define W ASIM_OP_WRITE

/* ---- cache ---- */

/* capacity 2, no backing, a miss costs 1us and a hit nothing, so each
 * answer's latency tells hit from miss; the comments show the LRU list, most
 * recent first, after each request. */
START_TEST(cache_lru_order)
{
	static const struct drv_row rows[] = {
		{1 * MS, R, 1}, /* miss [1] */
		{2 * MS, R, 2}, /* miss [2 1] */
		{3 * MS, R, 1}, /* hit  [1 2] */
		{4 * MS, R, 3}, /* miss, evicts 2: [3 1] */
		{5 * MS, R, 1}, /* hit  [1 3] */
		{6 * MS, R, 2}, /* miss, evicts 3: [2 1] */
		{7 * MS, R, 3}, /* miss, evicts 1: [3 2] */
		{8 * MS, R, 2}, /* hit  [2 3] */
		{9 * MS, R, 1}, /* miss, evicts 3: [1 2] */
	};
	static const bool hit[] = {false, false, true, false, true, false, false, true, false};
	const struct part parts[] = {
		{"m", &asim_cache_ops, "kind: cache\ncapacity: 2\nmiss_time: 1us\n"},
	};
	struct rig g;
	rig_build(&g, parts, 1, rows, 9);
	rig_run(&g, 20 * MS);
	for (size_t i = 0; i < 9; i++) {
		ck_assert_msg(g.got[i].done && g.got[i].status == ASIM_OK, "row %zu", i);
		ck_assert_msg(g.got[i].at - rows[i].at == (hit[i] ? 0 : US), "row %zu: %s expected", i,
		              hit[i] ? "hit" : "miss");
	}
	ck_assert_uint_eq(num(&g, "components.m.hits"), 3);
	ck_assert_uint_eq(num(&g, "components.m.misses"), 6);
	ck_assert_uint_eq(num(&g, "components.m.evictions"), 4);
	ck_assert_uint_eq(num(&g, "components.m.expirations"), 0);
	rig_free(&g);
}
END_TEST

/* LRU across the cache's growth: it allocates its entries as it fills (1024
 * at first, doubling up to capacity), and must behave as one allocated in
 * full. Capacity 2500: keys 0..2999 are read once (misses, 500 evictions),
 * then keys 2999 down to 500 (the 2500 most recent: hits), then 0..499
 * (evicted: misses). */
START_TEST(cache_lru_across_growth)
{
	enum { N = 3000, CAP = 2500 };
	struct drv_row *rows = calloc(2 * N, sizeof *rows);
	ck_assert_ptr_nonnull(rows);
	size_t n = 0;
	for (uint64_t key = 0; key < N; key++, n++)
		rows[n] = (struct drv_row){(asim_time)(n + 1) * MS, R, key};
	for (uint64_t key = N; key-- > N - CAP; n++)
		rows[n] = (struct drv_row){(asim_time)(n + 1) * MS, R, key};
	for (uint64_t key = 0; key < N - CAP; key++, n++)
		rows[n] = (struct drv_row){(asim_time)(n + 1) * MS, R, key};
	const struct part parts[] = {
		{"m", &asim_cache_ops, "kind: cache\ncapacity: 2500\nmiss_time: 1us\n"},
	};
	struct rig g;
	rig_build(&g, parts, 1, rows, n);
	rig_run(&g, (asim_time)(n + 2) * MS);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		bool hit = i >= N && i < N + CAP;
		bad += !g.got[i].done || g.got[i].at - rows[i].at != (hit ? 0 : US);
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(num(&g, "components.m.hits"), CAP);
	ck_assert_uint_eq(num(&g, "components.m.misses"), N + (N - CAP));
	ck_assert_uint_eq(num(&g, "components.m.evictions"), (N - CAP) + (N - CAP));
	rig_free(&g);
	free(rows);
}
END_TEST

START_TEST(cache_ttl_expiry)
{
	static const struct drv_row rows[] = {
		{0, R, 5},       /* miss, fills until 10ms */
		{5 * MS, R, 5},  /* hit */
		{20 * MS, R, 5}, /* expired: miss, fills until 30ms */
		{25 * MS, R, 5}, /* hit */
		{31 * MS, R, 5}, /* expired at 30ms + 1us: miss */
	};
	const struct part parts[] = {
		{"m", &asim_cache_ops, "kind: cache\ncapacity: 10\nttl: 10ms\nmiss_time: 1us\n"},
	};
	struct rig g;
	rig_build(&g, parts, 1, rows, 5);
	rig_run(&g, 50 * MS);
	ck_assert_uint_eq(num(&g, "components.m.hits"), 2);
	ck_assert_uint_eq(num(&g, "components.m.misses"), 3);
	ck_assert_uint_eq(num(&g, "components.m.expirations"), 2);
	ck_assert_uint_eq(num(&g, "components.m.evictions"), 0);
	rig_free(&g);
}
END_TEST

/* With uniformly popular keys, any demand-filled cache holds capacity/keys
 * of the requests once warm (independent reference model). */
START_TEST(cache_hit_ratio_uniform)
{
	enum { N = 60000, KEYS = 1000 };
	struct drv_row *rows = calloc(N, sizeof *rows);
	ck_assert_ptr_nonnull(rows);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 7);
	for (size_t i = 0; i < N; i++)
		rows[i] = (struct drv_row){(asim_time)(i + 1) * MS, R, gsl_rng_uniform_int(r, KEYS)};
	gsl_rng_free(r);
	const struct part parts[] = {
		{"m", &asim_cache_ops,
		 "kind: cache\ncapacity: 100\nbacking: store\nhit_time: 100us\nmiss_time: 200us\n"},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, N);
	asim_kernel_set_warmup(g.k, 10000 * MS);
	rig_run(&g, (N + 10) * MS);
	double h = num(&g, "components.m.hit_ratio");
	ck_assert_msg(h > 0.09 && h < 0.11, "hit ratio %g, expected 0.1", h);
	/* Requests at 10000ms..60000ms are measured. */
	ck_assert_uint_eq(num(&g, "components.m.hits") + num(&g, "components.m.misses"), 50001);
	ck_assert_uint_eq(num(&g, "components.m.misses"), num(&g, "components.m.fills"));
	rig_free(&g);
	free(rows);
}
END_TEST

START_TEST(cache_fill_after_backing_answer)
{
	static const struct peer_row answers[] = {{10 * MS, ASIM_OK, 7}};
	static const struct drv_row rows[] = {
		{0, R, 3},       /* miss: the backing answers at 10ms */
		{5 * MS, R, 3},  /* still a miss: not filled yet, not coalesced */
		{12 * MS, R, 3}, /* hit, version 7 */
	};
	const struct part parts[] = {
		{"m", &asim_cache_ops, "kind: cache\ncapacity: 10\nbacking: store\n"},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 3);
	struct peer_state *p = peer_of(&g, "store");
	p->rows = answers;
	p->nrows = 1;
	rig_run(&g, 50 * MS);
	ck_assert_uint_eq(p->nseen, 2);
	ck_assert_int_eq(p->seen[0].at, 0);
	ck_assert_int_eq(p->seen[1].at, 5 * MS);
	ck_assert_uint_eq(p->seen[1].op, R);
	ck_assert_int_eq(g.got[0].at, 10 * MS);
	ck_assert_int_eq(g.got[1].at, 15 * MS);
	ck_assert_int_eq(g.got[2].at, 12 * MS);
	ck_assert_uint_eq(g.got[2].version, 7);
	ck_assert_uint_eq(num(&g, "components.m.hits"), 1);
	ck_assert_uint_eq(num(&g, "components.m.misses"), 2);
	/* A backing store that is not a database cannot say what it
	 * acknowledged: nothing is judged, nothing is reported. */
	ck_assert_ptr_null(asim_results_get(&g.r, "components.m.stale_reads"));
	rig_free(&g);
}
END_TEST

/* coalesce: true. Two misses for key 3 while its fill is on its way make
 * one backing read, and both get its answer; a miss for another key has a
 * fill of its own; once the fill has landed, a new miss (after the entry
 * expired) goes to the backing store again. The store answers each read
 * 10ms later, with versions 7 and then 8. */
START_TEST(cache_coalesces_concurrent_misses)
{
	static const struct peer_row answers[] = {{10 * MS, ASIM_OK, 7}, {10 * MS, ASIM_OK, 8}};
	static const struct drv_row rows[] = {
		{0, R, 3},       /* miss: fill of key 3, answered at 10ms */
		{5 * MS, R, 3},  /* miss: waits for that fill */
		{6 * MS, R, 4},  /* miss of another key: a fill of its own */
		{40 * MS, R, 3}, /* expired (ttl 20ms): a new fill */
	};
	const struct part parts[] = {
		{"m", &asim_cache_ops,
		 "kind: cache\ncapacity: 10\nttl: 20ms\nbacking: store\ncoalesce: true\n"},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 4);
	struct peer_state *p = peer_of(&g, "store");
	p->rows = answers;
	p->nrows = 2;
	rig_run(&g, 100 * MS);
	ck_assert_uint_eq(p->nseen, 3);
	ck_assert_uint_eq(p->seen[0].key, 3);
	ck_assert_uint_eq(p->seen[1].key, 4);
	ck_assert_int_eq(p->seen[2].at, 40 * MS);
	ck_assert_int_eq(g.got[0].at, 10 * MS);
	ck_assert_int_eq(g.got[1].at, 10 * MS);
	ck_assert_uint_eq(g.got[1].version, 7);
	ck_assert_int_eq(g.got[2].at, 16 * MS);
	ck_assert_uint_eq(g.got[2].version, 8);
	ck_assert_int_eq(g.got[3].at, 50 * MS);
	ck_assert_uint_eq(num(&g, "components.m.misses"), 4);
	ck_assert_uint_eq(num(&g, "components.m.coalesced"), 1);
	rig_free(&g);
}
END_TEST

/* A miss is a failed lookup, then the backing store's answer (10ms here):
 * the lookup costs miss_time, and hit_time when miss_time is not given (it
 * cost nothing before, so a miss spent less time in the cache than a hit). */
static const struct {
	const char *times;
	asim_time miss_at, hit_at; /* answers to the read at 0 and at 20ms */
} miss_cases[] = {
	{"", 10 * MS, 20 * MS},
	{"hit_time: 2ms\n", 12 * MS, 22 * MS},
	{"hit_time: 2ms\nmiss_time: 5ms\n", 15 * MS, 22 * MS},
};

START_TEST(cache_miss_time_defaults_to_hit_time)
{
	static const struct peer_row answers[] = {{10 * MS, ASIM_OK, 7}};
	static const struct drv_row rows[] = {{0, R, 3}, {20 * MS, R, 3}};
	char yaml[256];
	snprintf(yaml, sizeof yaml, "kind: cache\ncapacity: 10\nbacking: store\n%s",
	         miss_cases[_i].times);
	const struct part parts[] = {
		{"m", &asim_cache_ops, yaml},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 2);
	struct peer_state *p = peer_of(&g, "store");
	p->rows = answers;
	p->nrows = 1;
	rig_run(&g, 100 * MS);
	ck_assert_uint_eq(p->nseen, 1);
	ck_assert_int_eq(g.got[0].at, miss_cases[_i].miss_at);
	ck_assert_int_eq(g.got[1].at, miss_cases[_i].hit_at);
	rig_free(&g);
}
END_TEST

/* A fill the network loses (here: a store that never answers) is given up
 * at its deadline: the miss gets TIMEOUT, so do the misses that waited for
 * it (coalesce), and the next miss for the key reads the store again. The
 * old code waited for ever: no answer, every later miss of the key queued
 * behind the lost fill, and the records never freed. */
START_TEST(cache_lost_fill_given_up_at_deadline)
{
	static const struct drv_row rows[] = {
		{0, R, 3},       /* miss: its fill is lost */
		{5 * MS, R, 3},  /* waits for that fill, whose deadline it shares */
		{20 * MS, R, 3}, /* after the give-up: a fill of its own */
	};
	const struct part parts[] = {
		{"m", &asim_cache_ops, "kind: cache\ncapacity: 10\nbacking: store\ncoalesce: true\n"},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 3);
	struct peer_state *p = peer_of(&g, "store");
	p->silent = true;
	g.drv->deadline = 10 * MS;
	rig_run(&g, 100 * MS);
	ck_assert_uint_eq(p->nseen, 2);
	ck_assert_int_eq(p->seen[1].at, 20 * MS);
	static const asim_time answered[] = {10 * MS, 10 * MS, 30 * MS};
	for (size_t i = 0; i < 3; i++) {
		ck_assert(g.got[i].done);
		ck_assert_int_eq(g.got[i].status, ASIM_TIMEOUT);
		ck_assert_int_eq(g.got[i].at, answered[i]);
	}
	ck_assert_uint_eq(num(&g, "components.m.backing_errors"), 2);
	ck_assert_uint_eq(asim_call_live(g.k), 0);
	rig_free(&g);
}
END_TEST

/* A crash loses the cache's work under way: the fill sent at 0 (answered
 * at 10ms) comes back to a cache that crashed at 5ms (and restarted at 7ms):
 * its request is lost and its answer stores nothing, so the read at 20ms
 * misses a cold cache. The old code answered the lost request from the
 * crashed cache and filled the entry: a hit at 20ms. */
START_TEST(cache_crash_loses_fills_in_flight)
{
	static const struct peer_row answers[] = {{10 * MS, ASIM_OK, 7}, {10 * MS, ASIM_OK, 8}};
	static const struct drv_row rows[] = {{0, R, 3}, {20 * MS, R, 3}};
	const struct part parts[] = {
		{"m", &asim_cache_ops, "kind: cache\ncapacity: 10\nbacking: store\n"},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 2);
	struct peer_state *p = peer_of(&g, "store");
	p->rows = answers;
	p->nrows = 2;
	struct asim_component *m = asim_kernel_find(g.k, "m");
	struct asim_fault crash = {.kind = ASIM_FAULT_CRASH, .start = 5 * MS, .end = 7 * MS};
	ck_assert_int_eq(asim_kernel_run(g.k, 5 * MS), ASIM_RUN_DONE);
	m->ops->fault(m, &crash, true);
	ck_assert_int_eq(asim_kernel_run(g.k, 7 * MS), ASIM_RUN_DONE);
	m->ops->fault(m, &crash, false);
	rig_run(&g, 100 * MS);
	ck_assert(!g.got[0].done);
	ck_assert_uint_eq(p->nseen, 2);
	ck_assert_int_eq(g.got[1].status, ASIM_OK);
	ck_assert_int_eq(g.got[1].at, 30 * MS);
	ck_assert_uint_eq(g.got[1].version, 8);
	ck_assert_uint_eq(num(&g, "components.m.hits"), 0);
	ck_assert_uint_eq(num(&g, "components.m.fills"), 1);
	rig_free(&g);
}
END_TEST

static const struct {
	const char *yaml;
	size_t backing_calls; /* read, write, and a read again on invalidation */
	bool last_hit;
	uint64_t last_version;
} write_cases[] = {
	{"kind: cache\ncapacity: 10\nbacking: store\non_write: invalidate\n", 3, false, 3},
	{"kind: cache\ncapacity: 10\nbacking: store\non_write: write_through\n", 2, true, 2},
};

START_TEST(cache_write_modes)
{
	static const struct peer_row answers[] = {
		{0, ASIM_OK, 1}, {0, ASIM_OK, 2}, {0, ASIM_OK, 3},
	};
	static const struct drv_row rows[] = {
		{0, R, 9},      /* miss, filled with version 1 */
		{1 * MS, W, 9}, /* forwarded; the store answers version 2 */
		{2 * MS, R, 9},
	};
	const struct part parts[] = {
		{"m", &asim_cache_ops, write_cases[_i].yaml},
		{"store", &peer_ops, NULL},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 3);
	struct peer_state *p = peer_of(&g, "store");
	p->rows = answers;
	p->nrows = 3;
	rig_run(&g, 10 * MS);
	ck_assert_uint_eq(p->nseen, write_cases[_i].backing_calls);
	ck_assert_uint_eq(p->seen[1].op, W);
	ck_assert_uint_eq(p->seen[1].key, 9);
	ck_assert_int_eq(g.got[1].status, ASIM_OK);
	ck_assert_uint_eq(g.got[1].version, 2);
	ck_assert_uint_eq(g.got[2].version, write_cases[_i].last_version);
	ck_assert_uint_eq(num(&g, "components.m.hits"), write_cases[_i].last_hit ? 1 : 0);
	rig_free(&g);
}
END_TEST

/* A cache (hit_time 1ms) over a database that acknowledges a write 1ms
 * after it arrives and serves a read in 1ms. Version 1 of key 5 is written
 * at 0; a read at 2ms misses and fills version 1 at 3ms (write-through stored
 * it at 1ms: a hit); version 2 is written
 * at 10ms (acknowledged at 11ms); key 5 is read again at 20ms and at 30ms.
 * Past the cache (the write goes to the database directly) the entry keeps
 * version 1: both later reads are hits, stale by 10ms and 20ms when
 * answered. With the write through the cache, invalidation drops the entry
 * (the read at 20ms misses and reads version 2) and write-through stores
 * version 2 when the acknowledgement comes back: nothing is stale. */
static const struct {
	const char *on_write;
	bool past_cache;
	uint64_t hits, stale;
} stale_cases[] = {
	{"invalidate", true, 3, 2},
	{"invalidate", false, 2, 0},
	{"write_through", false, 4, 0},
};

START_TEST(cache_stale_hits_judged_against_database)
{
	static const struct drv_row rows[] = {
		{0, W, 5}, {2 * MS, R, 5}, {5 * MS, R, 5}, {10 * MS, W, 5}, {20 * MS, R, 5},
		{30 * MS, R, 5},
	};
	char yaml[256];
	snprintf(yaml, sizeof yaml,
	         "kind: cache\ncapacity: 10\nttl: 1h\nhit_time: 1ms\nbacking: db\non_write: %s\n",
	         stale_cases[_i].on_write);
	const struct part parts[] = {
		{"m", &asim_cache_ops, yaml},
		{"db", &asim_database_ops, "kind: database\nread_time: 1ms\nwrite_time: 1ms\n"},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 6);
	if (stale_cases[_i].past_cache)
		g.drv->write_target = asim_kernel_find(g.k, "db")->id;
	rig_run(&g, 100 * MS);
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(g.got[i].status, ASIM_OK);
	ck_assert_uint_eq(g.got[2].version, 1);
	ck_assert_uint_eq(g.got[3].version, 2);
	uint64_t stale = stale_cases[_i].stale;
	ck_assert_uint_eq(g.got[4].version, stale ? 1 : 2);
	ck_assert_uint_eq(g.got[5].version, stale ? 1 : 2);
	ck_assert_uint_eq(num(&g, "components.m.hits"), stale_cases[_i].hits);
	ck_assert_uint_eq(num(&g, "components.m.stale_reads"), stale);
	ck_assert_uint_eq(num(&g, "components.db.stale_reads"), 0);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->stale_reads, stale);
	if (stale) {
		ck_assert_double_eq_tol(num(&g, "components.m.staleness_ms.max"), 20.0, 1e-9);
		ck_assert_double_eq_tol(num(&g, "components.m.staleness_ms.mean"), 15.0, 1e-9);
	}
	rig_free(&g);
}
END_TEST

/* on_write: invalidate drops the entry once the write is answered, as
 * cache-aside writes the store and then deletes. Key 5 is filled with
 * version 1 by the read at 5ms; version 2 is written through the cache at
 * 10ms and the database acknowledges it at 15ms (write_time 5ms). The read
 * at 11ms hits version 1 (nothing newer acknowledged yet: not stale), the
 * drop at 15ms empties the entry, and the read at 20ms reads version 2 from
 * the database. Dropping first (the old order) let the read at 11ms miss,
 * read version 1 at 13ms before the commit and fill it back: the read at
 * 20ms was a stale hit. */
START_TEST(cache_invalidate_after_the_write)
{
	static const struct drv_row rows[] = {
		{0, W, 5}, {5 * MS, R, 5}, {10 * MS, W, 5}, {11 * MS, R, 5}, {20 * MS, R, 5},
	};
	const struct part parts[] = {
		{"m", &asim_cache_ops,
		 "kind: cache\ncapacity: 10\nttl: 1h\nhit_time: 1ms\nbacking: db\non_write: invalidate\n"},
		{"db", &asim_database_ops, "kind: database\nread_time: 1ms\nwrite_time: 5ms\n"},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 5);
	rig_run(&g, 100 * MS);
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(g.got[i].status, ASIM_OK);
	ck_assert_uint_eq(g.got[3].version, 1);
	ck_assert_int_eq(g.got[3].at, 12 * MS); /* a hit */
	ck_assert_uint_eq(g.got[4].version, 2);
	ck_assert_uint_eq(num(&g, "components.m.hits"), 1);
	ck_assert_uint_eq(num(&g, "components.m.stale_reads"), 0);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->stale_reads, 0);
	rig_free(&g);
}
END_TEST

/* Warm-up: the same stale hits arriving before the end of warm-up are not
 * counted; the one after it is. */
START_TEST(cache_stale_hits_after_warmup_only)
{
	static const struct drv_row rows[] = {
		{0, W, 5}, {2 * MS, R, 5}, {10 * MS, W, 5}, {20 * MS, R, 5}, {30 * MS, R, 5},
	};
	const struct part parts[] = {
		{"m", &asim_cache_ops, "kind: cache\ncapacity: 10\nhit_time: 1ms\nbacking: db\n"},
		{"db", &asim_database_ops, "kind: database\nread_time: 1ms\nwrite_time: 1ms\n"},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 5);
	g.drv->write_target = asim_kernel_find(g.k, "db")->id;
	asim_kernel_set_warmup(g.k, 25 * MS);
	rig_run(&g, 100 * MS);
	ck_assert_uint_eq(g.got[3].version, 1);
	ck_assert_uint_eq(num(&g, "components.m.stale_reads"), 1);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->stale_reads, 1);
	ck_assert_double_eq_tol(num(&g, "components.m.staleness_ms.max"), 20.0, 1e-9);
	rig_free(&g);
}
END_TEST

/* A cache over a cache over a database: the outer cache judges its own
 * hits against the database at the end of the chain, the inner one the
 * answers it gives, each answer once. Key 5 is written at 0 past both
 * caches; the read at 2ms misses both and fills version 1; version 2 is
 * written at 10ms (acknowledged at 11ms). The reads at 20ms and 30ms hit the
 * outer cache on version 1: stale by 10ms and 20ms, counted there; the inner
 * cache answered nothing stale. */
START_TEST(cache_behind_cache_judged_against_database)
{
	static const struct drv_row rows[] = {
		{0, W, 5}, {2 * MS, R, 5}, {10 * MS, W, 5}, {20 * MS, R, 5}, {30 * MS, R, 5},
	};
	const struct part parts[] = {
		{"m", &asim_cache_ops, "kind: cache\ncapacity: 10\nhit_time: 1ms\nbacking: near\n"},
		{"near", &asim_cache_ops, "kind: cache\ncapacity: 10\nhit_time: 1ms\nbacking: db\n"},
		{"db", &asim_database_ops, "kind: database\nread_time: 1ms\nwrite_time: 1ms\n"},
	};
	struct rig g;
	rig_build(&g, parts, 3, rows, 5);
	g.drv->write_target = asim_kernel_find(g.k, "db")->id;
	rig_run(&g, 100 * MS);
	ck_assert_uint_eq(g.got[3].version, 1);
	ck_assert_uint_eq(g.got[4].version, 1);
	ck_assert_uint_eq(num(&g, "components.m.hits"), 2);
	ck_assert_uint_eq(num(&g, "components.m.stale_reads"), 2);
	ck_assert_uint_eq(num(&g, "components.near.stale_reads"), 0);
	ck_assert_uint_eq(num(&g, "components.db.stale_reads"), 0);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->stale_reads, 2);
	ck_assert_double_eq_tol(num(&g, "components.m.staleness_ms.max"), 20.0, 1e-9);
	ck_assert_double_eq_tol(num(&g, "components.m.staleness_ms.mean"), 15.0, 1e-9);
	rig_free(&g);
}
END_TEST

/* coalesce: a miss that waits for another's fill is judged by the cache,
 * the one whose read went to the database by the database, once each. Key 5
 * is written at 0 (acknowledged at 1ms, applied by the replica at 101ms); a
 * read at 2ms misses and its fill reads the replica (10ms), so it answers
 * version 0 at 12ms: the database counts it stale. A read at 5ms waits for
 * that fill: stale by 11ms, counted here; the hit at 20ms on version 0 is
 * stale by 19ms. */
START_TEST(cache_stale_coalesced_waiters)
{
	static const struct drv_row rows[] = {
		{0, W, 5}, {2 * MS, R, 5}, {5 * MS, R, 5}, {20 * MS, R, 5},
	};
	const struct part parts[] = {
		{"m", &asim_cache_ops, "kind: cache\ncapacity: 10\nbacking: db\ncoalesce: true\n"},
		{"db", &asim_database_ops,
		 "kind: database\nreplicas: 1\nreplication: async\nreplication_lag: 100ms\n"
		 "read_from: replicas\nread_time: 10ms\nwrite_time: 1ms\n"},
	};
	struct rig g;
	rig_build(&g, parts, 2, rows, 4);
	g.drv->write_target = asim_kernel_find(g.k, "db")->id;
	rig_run(&g, 300 * MS);
	ck_assert_int_eq(g.got[1].at, 12 * MS);
	ck_assert_int_eq(g.got[2].at, 12 * MS);
	ck_assert_uint_eq(g.got[2].version, 0);
	ck_assert_uint_eq(g.got[3].version, 0);
	ck_assert_uint_eq(num(&g, "components.m.coalesced"), 1);
	ck_assert_uint_eq(num(&g, "components.db.stale_reads"), 1);
	ck_assert_uint_eq(num(&g, "components.m.stale_reads"), 2);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->stale_reads, 3);
	ck_assert_double_eq_tol(num(&g, "components.m.staleness_ms.max"), 19.0, 1e-9);
	ck_assert_double_eq_tol(num(&g, "components.m.staleness_ms.mean"), 15.0, 1e-9);
	rig_free(&g);
}
END_TEST

START_TEST(cache_config_errors)
{
	static const struct {
		const char *yaml, *first;
	} bad[] = {
		{"kind: cache\n", "t.yaml:3:5: error: missing required key 'capacity' in 'm'"},
		{"kind: cache\ncapacity: 10\nttl_sec: 1s\n",
		 "t.yaml:5:5: error: unknown key 'ttl_sec' in 'm' (did you mean 'ttl'?)"},
		{"kind: cache\ncapacity: 10\nbacking: stor\n",
		 "t.yaml:5:14: error: 'backing' of 'm' names unknown component 'stor' (did you mean 'store'?)"},
		{"kind: cache\ncapacity: 10\ncoalesce: true\n",
		 "t.yaml:5:15: error: 'coalesce' applies only to a cache with a 'backing' store in 'm'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct asim_kernel *k = asim_kernel_create(1, 0);
		struct asim_component *c = asim_kernel_add(k, "m", &asim_cache_ops);
		asim_kernel_add(k, "store", &peer_ops);
		struct asim_diag d;
		asim_diag_init(&d);
		const struct asim_cfg *node;
		struct asim_doc *doc = load_part("m", bad[i].yaml, &node, &d);
		ck_assert(!asim_cache_ops.configure(c, node, &d));
		char buf[256];
		asim_diag_format(&d, 0, buf, sizeof buf);
		ck_assert_str_eq(buf, bad[i].first);
		asim_diag_finish(&d);
		asim_doc_free(doc);
		asim_kernel_destroy(k);
	}
}
END_TEST

/* ---- database ---- */

START_TEST(db_pool_queueing_and_rejection)
{
	static const struct drv_row rows[] = {{0, R, 1}, {0, R, 2}, {0, R, 3}, {0, R, 4}};
	const struct part parts[] = {
		{"m", &asim_database_ops,
		 "kind: database\nconnections: 2\nwait_queue: 1\nread_time: 10ms\nwrite_time: 10ms\n"},
	};
	struct rig g;
	rig_build(&g, parts, 1, rows, 4);
	rig_run(&g, 100 * MS);
	ck_assert_int_eq(g.got[0].at, 10 * MS);
	ck_assert_int_eq(g.got[1].at, 10 * MS);
	ck_assert_int_eq(g.got[2].status, ASIM_OK);
	ck_assert_int_eq(g.got[2].at, 20 * MS);
	ck_assert_int_eq(g.got[3].status, ASIM_REJECTED);
	ck_assert_int_eq(g.got[3].at, 0);
	ck_assert_uint_eq(num(&g, "components.m.rejected"), 1);
	ck_assert_uint_eq(num(&g, "components.m.reads"), 4);
	/* Two connections busy for 10ms, one for the next 10ms, of 100ms. */
	ck_assert_double_eq_tol(num(&g, "components.m.utilization"), 30.0 / 200.0, 1e-9);
	/* One request waited 10ms out of 100ms. */
	ck_assert_double_eq_tol(num(&g, "components.m.queue_mean"), 0.1, 1e-9);
	rig_free(&g);
}
END_TEST

/* One write of key 1 at 0 (committed and acknowledged at 1ms under async),
 * then reads of key 1 from the one replica, which applies it at 101ms. A read
 * is stale when it arrives after the acknowledgement and is served (1ms
 * later) before the replica has applied the write. */
static const struct drv_row repl_rows[] = {
	{0, W, 1},
	{500 * US, R, 1},  /* arrives before the ack: fresh by definition */
	{50 * MS, R, 1},   /* stale, 50ms behind when served */
	{99 * MS, R, 1},   /* stale, 99ms behind when served */
	{99 * MS, R, 2},   /* another key: fresh */
	{100500 * US, R, 1}, /* served at 101.5ms, after the apply: fresh */
	{150 * MS, R, 1},
};

static const struct {
	const char *yaml;
	uint64_t stale;
	asim_time write_acked;
} repl_cases[] = {
	{"kind: database\nreplicas: 1\nreplication: async\nreplication_lag: 100ms\n"
	 "read_from: replicas\nread_time: 1ms\nwrite_time: 1ms\n", 2, 1 * MS},
	{"kind: database\nreplicas: 1\nreplication: sync\nreplication_lag: 100ms\n"
	 "read_from: replicas\nread_time: 1ms\nwrite_time: 1ms\n", 0, 101 * MS},
};

START_TEST(db_replication_stale_window)
{
	const struct part parts[] = {{"m", &asim_database_ops, repl_cases[_i].yaml}};
	struct rig g;
	rig_build(&g, parts, 1, repl_rows, 7);
	rig_run(&g, 300 * MS);
	for (size_t i = 0; i < 7; i++)
		ck_assert_int_eq(g.got[i].status, ASIM_OK);
	ck_assert_int_eq(g.got[0].at, repl_cases[_i].write_acked);
	ck_assert_uint_eq(g.got[0].version, 1);
	ck_assert_uint_eq(num(&g, "components.m.stale_reads"), repl_cases[_i].stale);
	ck_assert_uint_eq(asim_kernel_outcome(g.k)->stale_reads, repl_cases[_i].stale);
	if (repl_cases[_i].stale) {
		ck_assert_uint_eq(g.got[2].version, 0);
		ck_assert_uint_eq(g.got[5].version, 1);
		double p99 = num(&g, "components.m.staleness_ms.p99");
		ck_assert_msg(p99 > 99 * 0.99 && p99 < 99 * 1.01, "staleness p99 %g", p99);
		ck_assert_double_eq_tol(num(&g, "components.m.staleness_ms.max"), 99.0, 1e-9);
	}
	ck_assert_double_eq_tol(num(&g, "components.m.replication_lag_ms.max"), 100.0, 1e-9);
	rig_free(&g);
}
END_TEST

/* Many writes and reads of a few keys against replicas whose lag is either
 * 1ms or 1s: quorum W=2 R=2 of 3 never reads stale, W=1 R=1 does. */
static const struct {
	const char *yaml;
	bool stale;
} quorum_cases[] = {
	{"kind: database\nreplicas: 2\nreplication: quorum\nwrite_quorum: 2\nread_quorum: 2\n"
	 "replication_lag: {dist: empirical, values: [1ms, 1s], weights: [0.5, 0.5]}\n"
	 "connections: 100\nread_time: 1ms\nwrite_time: 1ms\n", false},
	{"kind: database\nreplicas: 2\nreplication: quorum\nwrite_quorum: 1\nread_quorum: 1\n"
	 "read_from: replicas\n"
	 "replication_lag: {dist: empirical, values: [1ms, 1s], weights: [0.5, 0.5]}\n"
	 "connections: 100\nread_time: 1ms\nwrite_time: 1ms\n", true},
	{"kind: database\nreplicas: 2\nreplication: sync\nread_from: replicas\n"
	 "replication_lag: {dist: empirical, values: [1ms, 1s], weights: [0.5, 0.5]}\n"
	 "connections: 100\nread_time: 1ms\nwrite_time: 1ms\n", false},
};

START_TEST(db_quorum_reads_see_acknowledged_writes)
{
	enum { N = 4000 };
	struct drv_row *rows = calloc(N, sizeof *rows);
	ck_assert_ptr_nonnull(rows);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 11);
	for (size_t i = 0; i < N; i++)
		rows[i] = (struct drv_row){(asim_time)i * 5 * MS, gsl_rng_uniform(r) < 0.3 ? W : R,
		                           gsl_rng_uniform_int(r, 4)};
	gsl_rng_free(r);
	const struct part parts[] = {{"m", &asim_database_ops, quorum_cases[_i].yaml}};
	struct rig g;
	rig_build(&g, parts, 1, rows, N);
	rig_run(&g, (N * 5 + 2000) * MS);
	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(g.got[i].status, ASIM_OK);
	uint64_t stale = (uint64_t)num(&g, "components.m.stale_reads");
	if (quorum_cases[_i].stale)
		ck_assert_uint_gt(stale, 100);
	else
		ck_assert_uint_eq(stale, 0);
	rig_free(&g);
	free(rows);
}
END_TEST

/* Primary in a, replica 1 in b, replica 2 in a: a caller in b reads from
 * replica 1, one in a from replica 2 (a replica before the primary). */
START_TEST(db_read_nearest)
{
	static const char *const zones[] = {"a", "b"};
	static const struct drv_row rows[] = {{0, R, 1}, {1 * MS, R, 2}, {2 * MS, R, 3}};
	const struct part parts[] = {
		{"m", &asim_database_ops,
		 "kind: database\nzones: [a, b, a]\nreplicas: 2\nread_from: nearest\n"
		 "read_time: 1ms\nwrite_time: 1ms\n"},
	};
	struct rig g;
	rig_build_zoned(&g, zones, 2, parts, 1, rows, 3);
	uint16_t caller_zone = (uint16_t)_i;
	ck_assert(asim_component_set_instances(asim_kernel_find(g.k, "drv"), 1, &caller_zone));
	rig_run(&g, 10 * MS);
	ck_assert_uint_eq(num(&g, "components.m.served[0]"), 0);
	ck_assert_uint_eq(num(&g, _i == 1 ? "components.m.served[1]" : "components.m.served[2]"), 3);
	rig_free(&g);
}
END_TEST

START_TEST(db_config_errors)
{
	static const struct {
		const char *yaml, *first;
	} bad[] = {
		{"kind: database\nread_time: 1ms\nwrite_time: 1ms\nread_from: replicas\n",
		 "t.yaml:6:16: error: 'read_from: replicas' needs 'replicas' in 'm'"},
		{"kind: database\nread_time: 1ms\nwrite_time: 1ms\nreplicas: 2\nwrite_quorum: 2\n",
		 "t.yaml:7:19: error: 'write_quorum' applies only to 'replication: quorum' in 'm'"},
		{"kind: database\nread_time: 1ms\nwrite_time: 1ms\nreplicas: 2\nreplication: quorum\n"
		 "read_quorum: 4\n",
		 "t.yaml:8:18: error: 'read_quorum' must be between 1 and 3, got '4'"},
		{"kind: database\nread_time: 1ms\n",
		 "t.yaml:3:5: error: missing required key 'write_time' in 'm'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct asim_kernel *k = asim_kernel_create(1, 0);
		struct asim_component *c = asim_kernel_add(k, "m", &asim_database_ops);
		struct asim_diag d;
		asim_diag_init(&d);
		const struct asim_cfg *node;
		struct asim_doc *doc = load_part("m", bad[i].yaml, &node, &d);
		ck_assert(!asim_database_ops.configure(c, node, &d));
		char buf[256];
		asim_diag_format(&d, 0, buf, sizeof buf);
		ck_assert_str_eq(buf, bad[i].first);
		asim_diag_finish(&d);
		asim_doc_free(doc);
		asim_kernel_destroy(k);
	}
}
END_TEST

/* ---- queue and worker ---- */

/* A queue's consumer group forms at time 0 and waits `rebalance_time`
 * (default 3 s) before its first assignment (test_faults.c,
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

static Suite *data_suite(void)
{
	Suite *s = suite_create("data");
	TCase *tc = tcase_create("cache");
	tcase_add_test(tc, cache_lru_order);
	tcase_add_test(tc, cache_lru_across_growth);
	tcase_add_test(tc, cache_ttl_expiry);
	tcase_add_test(tc, cache_hit_ratio_uniform);
	tcase_add_test(tc, cache_fill_after_backing_answer);
	tcase_add_test(tc, cache_coalesces_concurrent_misses);
	tcase_add_loop_test(tc, cache_miss_time_defaults_to_hit_time, 0, 3);
	tcase_add_test(tc, cache_lost_fill_given_up_at_deadline);
	tcase_add_test(tc, cache_crash_loses_fills_in_flight);
	tcase_add_loop_test(tc, cache_write_modes, 0, 2);
	tcase_add_loop_test(tc, cache_stale_hits_judged_against_database, 0, 3);
	tcase_add_test(tc, cache_stale_hits_after_warmup_only);
	tcase_add_test(tc, cache_invalidate_after_the_write);
	tcase_add_test(tc, cache_stale_coalesced_waiters);
	tcase_add_test(tc, cache_behind_cache_judged_against_database);
	tcase_add_test(tc, cache_config_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("database");
	tcase_add_test(tc, db_pool_queueing_and_rejection);
	tcase_add_loop_test(tc, db_replication_stale_window, 0, 2);
	tcase_add_loop_test(tc, db_quorum_reads_see_acknowledged_writes, 0, 3);
	tcase_add_loop_test(tc, db_read_nearest, 0, 2);
	tcase_add_test(tc, db_config_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("queue");
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
	SRunner *sr = srunner_create(data_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
