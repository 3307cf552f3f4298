/* The test driver shared by the edge and resilience suites: a component
 * that sends requests on a schedule and tallies the answers, plus helpers to
 * build a kernel from YAML, run it and read figures. Header-only, like
 * peer.h, so each test executable takes what it uses. */
#ifndef ARCHSIM_TESTS_DRIVER_H
#define ARCHSIM_TESTS_DRIVER_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "archsim/call.h"
#include "archsim/results.h"
#include "common.h"
#include "load.h"
#include "models.h"
#include "network.h"
#include "peer.h"

/* The driver: sends `count` requests to `target`, one every `interval`
 * from time 0, each with op `op` and an optional `deadline` (relative), and
 * tallies the answers. */
#define DRV_LOG 256

struct drv {
	uint32_t target, target_instances;
	uint64_t count, sent;
	asim_time interval, deadline;
	uint16_t op;
	uint64_t answers, got[ASIM_STATUS_COUNT];
	asim_time latency[DRV_LOG]; /* of the first answers, in order */
	uint8_t status[DRV_LOG];
};

enum { DRV_EV_SEND = ASIM_EV_USER + 3 };

static const char *const drv_keys[] = {
	"kind", "target", "count", "interval", "deadline", "op", "zone", NULL,
};

static inline bool drv_configure(struct asim_component *c, const struct asim_cfg *map,
                          struct asim_diag *d)
{
	struct drv *s = c->state;
	int64_t count = 1;
	const char *op = "read";
	s->interval = ASIM_MS;
	bool ok = asim_cfg_expect_map(map, c->name, drv_keys, d);
	ok &= asim_cfg_int(map, "count", ASIM_OPTIONAL, 1, 100000000, &count, d);
	ok &= asim_cfg_time(map, "interval", ASIM_OPTIONAL, 0, ASIM_HOUR, &s->interval, d);
	ok &= asim_cfg_time(map, "deadline", ASIM_OPTIONAL, 1, ASIM_HOUR, &s->deadline, d);
	ok &= asim_cfg_string(map, "op", ASIM_OPTIONAL, &op, d);
	ok &= model_instances(c, map, 1, d);
	struct asim_component *t = model_target(c, map, "target", d);
	if (!ok || !t)
		return false;
	s->count = (uint64_t)count;
	s->op = (uint16_t)asim_kernel_op(c->kernel, op);
	s->target = t->id;
	s->target_instances = t->instances;
	return true;
}

static inline void drv_start(struct asim_component *c)
{
	asim_schedule(c->kernel, 0, c->id, DRV_EV_SEND, 0, 0, NULL);
}

static inline void drv_handle(struct asim_component *c, const struct asim_event *ev)
{
	struct drv *s = c->state;
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	if (ev->type == DRV_EV_SEND) {
		struct asim_call *call = asim_call_new(k);
		if (!call)
			return; /* the kernel stops with ASIM_RUN_NOMEM */
		call->op = s->op;
		call->key = s->sent;
		call->request = s->sent + 1;
		call->origin = now;
		call->deadline = s->deadline ? now + s->deadline : ASIM_TIME_MAX;
		asim_call_send(k, call, c->id, 0, s->target, 0);
		if (++s->sent < s->count)
			asim_schedule(k, s->interval, c->id, DRV_EV_SEND, 0, 0, NULL);
	} else if (ev->type == ASIM_EV_RESPONSE) {
		struct asim_call *call = ev->p;
		if (s->answers < DRV_LOG) {
			s->latency[s->answers] = now - call->sent;
			s->status[s->answers] = call->status;
		}
		s->answers++;
		s->got[call->status]++;
		asim_call_free(k, call);
	}
}

static const struct asim_model_ops drv_ops = {
	.kind = "driver",
	.state_size = sizeof(struct drv),
	.configure = drv_configure,
	.start = drv_start,
	.handle = drv_handle,
};

static inline bool peer_configure(struct asim_component *c, const struct asim_cfg *map,
                           struct asim_diag *d)
{
	static const char *const keys[] = {"kind", "zone", NULL};
	return asim_cfg_expect_map(map, c->name, keys, d) && model_instances(c, map, 1, d);
}

static const struct asim_model_ops test_peer_ops = {
	.kind = "peer",
	.state_size = sizeof(struct peer_state),
	.configure = peer_configure,
	.handle = peer_handle,
};

/* A kernel as the scenario builder makes one: zones, then every component
 * added, then configured, then the network. Returns NULL with the first
 * diagnostic in diag_msg. */
static struct asim_doc *doc;
static char diag_msg[512];

static inline struct asim_kernel *build(const char *yaml)
{
	struct asim_diag d;
	asim_diag_init(&d);
	diag_msg[0] = '\0';
	doc = asim_doc_load_buffer("t.yaml", yaml, strlen(yaml), &d);
	struct asim_kernel *k = asim_kernel_create(7, 0);
	ck_assert_ptr_nonnull(k);
	bool ok = doc != NULL;
	const struct asim_cfg *zones = ok ? asim_cfg_get(doc->root, "zones") : NULL;
	if (zones) {
		const char *names[ASIM_MAX_ZONES];
		for (size_t i = 0; i < zones->n; i++)
			names[i] = zones->items[i]->text;
		ck_assert(asim_kernel_set_zones(k, names, (uint32_t)zones->n));
	}
	const struct asim_cfg *comps = ok ? asim_cfg_get(doc->root, "components") : NULL;
	for (size_t i = 0; ok && i < comps->n; i++) {
		const char *kind = asim_cfg_get(comps->pairs[i].value, "kind")->text;
		const struct asim_model_ops *ops = !strcmp(kind, "peer")     ? &test_peer_ops
		                                   : !strcmp(kind, "driver") ? &drv_ops
		                                                             : asim_model_find(kind);
		ck_assert_ptr_nonnull(ops);
		ck_assert_ptr_nonnull(asim_kernel_add(k, comps->pairs[i].key, ops));
	}
	for (size_t i = 0; ok && i < comps->n; i++) {
		struct asim_component *c = asim_kernel_component(k, (uint32_t)i);
		ok &= c->ops->configure(c, comps->pairs[i].value, &d);
	}
	if (ok)
		ok = asim_network_install(k, asim_cfg_get(doc->root, "network"), &d);
	if (asim_diag_count(&d))
		asim_diag_format(&d, 0, diag_msg, sizeof diag_msg);
	asim_diag_finish(&d);
	if (!ok) {
		asim_kernel_destroy(k);
		asim_doc_free(doc);
		doc = NULL;
		return NULL;
	}
	return k;
}

static inline void teardown(struct asim_kernel *k)
{
	asim_kernel_destroy(k);
	asim_doc_free(doc);
	doc = NULL;
}

static inline void *state(struct asim_kernel *k, const char *name)
{
	struct asim_component *c = asim_kernel_find(k, name);
	ck_assert_ptr_nonnull(c);
	return c->state;
}

static inline void run(struct asim_kernel *k, asim_time until)
{
	ck_assert_int_eq(asim_kernel_run(k, until), ASIM_RUN_DONE);
	asim_kernel_finish(k);
}

/* The figure at "components.NAME.KEY" (or a top-level path when name is
 * NULL) from the component's report. */
static inline double figure(struct asim_kernel *k, const char *name, const char *key)
{
	struct asim_results r;
	asim_results_init(&r);
	for (size_t i = 0; i < asim_kernel_count(k); i++) {
		const struct asim_component *c = asim_kernel_component(k, (uint32_t)i);
		if (c->ops->report)
			c->ops->report(c, &r);
	}
	char path[256];
	if (name)
		snprintf(path, sizeof path, "components.%s.%s", name, key);
	else
		snprintf(path, sizeof path, "%s", key);
	const struct asim_value *v = asim_results_get(&r, path);
	ck_assert_msg(v != NULL, "no figure %s", path);
	double x = v->num;
	asim_results_finish(&r);
	return x;
}

#endif
