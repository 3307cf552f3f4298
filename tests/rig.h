/* The rig shared by the data suites (test_data: cache and database;
 * test_messaging: queue and worker): a scripted caller "drv" that sends each
 * row's call to the component "m" at its time and keeps the answer, the
 * parts of a kernel configured from YAML as a scenario would configure them,
 * and helpers to run it and read figures. Header-only, like driver.h and
 * peer.h, so each test executable takes what it uses. */
#ifndef ARCHSIM_TESTS_RIG_H
#define ARCHSIM_TESTS_RIG_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/kernel.h"
#include "archsim/results.h"
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

static inline void drv_start(struct asim_component *c)
{
	struct driver *s = c->state;
	for (size_t i = 0; i < s->n; i++)
		asim_schedule_at(c->kernel, s->rows[i].at, c->id, DRV_SEND, 0, i, NULL);
}

static inline void drv_handle(struct asim_component *c, const struct asim_event *ev)
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
static inline struct asim_doc *load_part(const char *name, const char *yaml,
                                         const struct asim_cfg **node, struct asim_diag *d)
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
static inline void rig_build_zoned(struct rig *g, const char *const *zones, uint32_t nzones,
                                   const struct part *parts, size_t nparts,
                                   const struct drv_row *rows, size_t nrows)
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

static inline void rig_build(struct rig *g, const struct part *parts, size_t nparts,
                             const struct drv_row *rows, size_t nrows)
{
	rig_build_zoned(g, NULL, 0, parts, nparts, rows, nrows);
}

static inline void rig_run(struct rig *g, asim_time until)
{
	ck_assert_int_eq(asim_kernel_run(g->k, until), ASIM_RUN_DONE);
	asim_kernel_finish(g->k);
	for (size_t i = 0; i < asim_kernel_count(g->k); i++) {
		const struct asim_component *c = asim_kernel_component(g->k, (uint32_t)i);
		if (c->ops->report)
			c->ops->report(c, &g->r);
	}
}

static inline double num(const struct rig *g, const char *path)
{
	const struct asim_value *v = asim_results_get(&g->r, path);
	ck_assert_msg(v != NULL, "no result %s", path);
	return v->num;
}

static inline struct peer_state *peer_of(const struct rig *g, const char *name)
{
	return asim_kernel_find(g->k, name)->state;
}

static inline void rig_free(struct rig *g)
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

#endif
