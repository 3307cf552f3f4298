/* The data models (cache and database), each driven by the scripted caller
 * of rig.h and answered by the scripted peer of peer.h, with configurations
 * written as YAML. The queue and the worker are in test_messaging.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "archsim/call.h"
#include "archsim/fault.h"
#include "archsim/kernel.h"
#include "archsim/results.h"
#include "models.h"
#include "peer.h"
#include "rig.h"

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
