/* The rig of the reliability suites (test_coord: the coordinator, leases,
 * read-your-writes, idempotency; test_failover: a database's failover,
 * split brain, catch-up): a scripted caller "drv" that sends each row's
 * call to the database "m" at its time, applies each scripted fault row
 * through the models' fault hooks as the fault engine does, and keeps the
 * answers, on a kernel built from YAML. Header-only, like driver.h, so each
 * test executable takes what it uses. */
#ifndef ARCHSIM_TESTS_COORD_RIG_H
#define ARCHSIM_TESTS_COORD_RIG_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/kernel.h"
#include "archsim/results.h"
#include "load.h"
#include "models.h"
#include "scenario.h"
#include "scenario_run.h"

#define MS ASIM_MS
#define S ASIM_S
#define R ASIM_OP_READ
#define W ASIM_OP_WRITE

struct row {
	asim_time at;
	uint16_t op;
	uint64_t key, request; /* request 0: the row's index + 1 */
};

struct got {
	bool done;
	enum asim_status status;
	asim_time at;
	uint64_t version;
};

/* A scripted fault: at `at`, the fault hook of `target` for `inst`. */
struct frow {
	asim_time at;
	const char *target;
	enum asim_fault_kind kind;
	int inst; /* -1: all */
	bool active;
	asim_time offset;
};

/* The drift of the clock_skew faults the rig injects (a test sets it and
 * puts it back to 0). */
static double skew_drift;

/* From this time on (a test sets it and puts it back), the network loses
 * every message between the primary (m's instance 0) and the coordinator
 * "coord", both ways: a primary cut off from every coordinator node, while
 * the replica still reaches them. A crash of the one node the primary asks
 * no longer does that: it moves to the next node (leadership.h). */
static asim_time primary_cut_at = ASIM_TIME_MAX;
static uint32_t cut_m, cut_coord;

static inline asim_time primary_cut_net(void *net, struct asim_kernel *k, uint32_t from,
                                        uint16_t from_inst, uint32_t to, uint16_t to_inst)
{
	(void)net;
	bool cut = (from == cut_m && from_inst == 0 && to == cut_coord) ||
	           (from == cut_coord && to == cut_m && to_inst == 0);
	return cut && asim_now(k) >= primary_cut_at ? ASIM_NET_LOST : 0;
}

#define MAX_FAULTS 8

struct driver {
	const struct row *rows;
	const uint32_t *sessions; /* per row, as closed-loop clients set them; NULL: 0 */
	struct got *got;
	size_t n;
	uint32_t target;
	const struct frow *faults;
	size_t nfaults;
	struct asim_fault f[MAX_FAULTS];
	uint8_t hit[MAX_FAULTS][16];
};

enum { DRV_SEND = ASIM_EV_USER + 3, DRV_FAULT };

static inline void drv_start(struct asim_component *c)
{
	struct driver *s = c->state;
	for (size_t i = 0; i < s->n; i++)
		asim_schedule_at(c->kernel, s->rows[i].at, c->id, DRV_SEND, 0, i, NULL);
	for (size_t i = 0; i < s->nfaults; i++)
		asim_schedule_at(c->kernel, s->faults[i].at, c->id, DRV_FAULT, 0, i, NULL);
}

static inline void drv_handle(struct asim_component *c, const struct asim_event *ev)
{
	struct driver *s = c->state;
	struct asim_kernel *k = c->kernel;
	if (ev->type == DRV_SEND) {
		const struct row *r = &s->rows[ev->a];
		struct asim_call *call = asim_call_new(k);
		ck_assert_ptr_nonnull(call);
		call->op = r->op;
		call->key = r->key;
		call->request = r->request ? r->request : ev->a + 1;
		call->session = s->sessions ? s->sessions[ev->a] : 0;
		call->origin = asim_now(k);
		call->token = ev->a;
		asim_call_send(k, call, c->id, 0, s->target, 0);
	} else if (ev->type == DRV_FAULT) {
		const struct frow *fr = &s->faults[ev->a];
		struct asim_component *t = asim_kernel_find(k, fr->target);
		ck_assert_ptr_nonnull(t);
		struct asim_fault *f = &s->f[ev->a];
		*f = (struct asim_fault){.kind = fr->kind, .id = (uint32_t)ev->a,
		                         .offset = fr->offset,
		                         .drift = fr->kind == ASIM_FAULT_CLOCK_SKEW ? skew_drift : 0};
		if (fr->inst >= 0) {
			s->hit[ev->a][fr->inst] = 1;
			f->affected = s->hit[ev->a];
			f->naffected = 16;
		}
		t->ops->fault(t, f, fr->active);
	} else if (ev->type == ASIM_EV_RESPONSE) {
		struct asim_call *call = ev->p;
		struct got *g = &s->got[call->token];
		*g = (struct got){true, (enum asim_status)call->status, asim_now(k), call->version};
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

struct rig {
	struct asim_kernel *k;
	struct asim_doc *doc;
	struct asim_diag d;
	struct asim_results r;
	struct got *got;
};

/* yaml is a scenario's `components:` mapping without the driver; "m" is
 * the component the driver calls. Zones a and b; the driver is in a. */
static inline void rig_build(struct rig *g, const char *yaml, const struct row *rows, size_t n,
                             const struct frow *faults, size_t nf)
{
	memset(g, 0, sizeof *g);
	asim_diag_init(&g->d);
	asim_results_init(&g->r);
	g->k = asim_kernel_create(42, 0);
	ck_assert_ptr_nonnull(g->k);
	static const char *const zones[] = {"a", "b", "c"};
	ck_assert(asim_kernel_set_zones(g->k, zones, 3));
	g->doc = asim_doc_load_buffer("t.yaml", yaml, strlen(yaml), &g->d);
	ck_assert_ptr_nonnull(g->doc);
	struct asim_component *drv = asim_kernel_add(g->k, "drv", &driver_ops);
	const struct asim_cfg *comps = g->doc->root;
	for (size_t i = 0; i < comps->n; i++) {
		const char *kind = asim_cfg_get(comps->pairs[i].value, "kind")->text;
		ck_assert_ptr_nonnull(asim_kernel_add(g->k, comps->pairs[i].key, asim_model_find(kind)));
	}
	for (size_t i = 0; i < comps->n; i++) {
		struct asim_component *c = asim_kernel_find(g->k, comps->pairs[i].key);
		bool ok = c->ops->configure(c, comps->pairs[i].value, &g->d);
		if (!ok)
			asim_diag_print(&g->d, stderr);
		ck_assert(ok);
	}
	struct driver *s = drv->state;
	g->got = calloc(n ? n : 1, sizeof *g->got);
	s->rows = rows;
	s->got = g->got;
	s->n = n;
	s->faults = faults;
	s->nfaults = nf;
	ck_assert_uint_le(nf, MAX_FAULTS);
	s->target = asim_kernel_find(g->k, "m")->id;
	if (primary_cut_at != ASIM_TIME_MAX) {
		cut_m = s->target;
		cut_coord = asim_kernel_find(g->k, "coord")->id;
		asim_kernel_set_network(g->k, primary_cut_net, NULL);
	}
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

static inline void rig_free(struct rig *g)
{
	ck_assert_uint_eq(asim_call_live(g->k) <= 8, true);
	asim_kernel_destroy(g->k);
	asim_doc_free(g->doc);
	asim_diag_finish(&g->d);
	asim_results_finish(&g->r);
	free(g->got);
}

/* A whole scenario from text: the figure at path after one run (-1 when
 * absent). */
static inline double run_text(const char *yaml, const char *path)
{
	struct asim_results *r = run(yaml, NULL);
	double v = asim_results_num(r, path, -1);
	done(r);
	return v;
}

#endif
