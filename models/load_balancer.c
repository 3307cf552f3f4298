/* load_balancer: a proxy in front of the instances of one or more services.
 * Each request is forwarded to one backend instance chosen by the policy, and
 * the answer comes back through the balancer (which is how it knows how many
 * requests each backend has outstanding). Policies: round_robin, random,
 * least_outstanding (ties to the lowest index after the last pick), and
 * power_of_two (two distinct random backends, the one with fewer outstanding:
 * Mitzenmacher's "power of two choices"). */
#include <stdlib.h>

#include "common.h"

struct backend {
	uint32_t comp;
	uint16_t inst;
	uint32_t outstanding;
	uint64_t sent;
};

struct balancer {
	int policy;
	struct backend *b;
	uint32_t nb, next;
	gsl_rng *r_pick;
	uint64_t forwarded;
};

enum { POLICY_ROUND_ROBIN, POLICY_RANDOM, POLICY_LEAST_OUTSTANDING, POLICY_POWER_OF_TWO };
static const char *const policy_names[] = {
	"round_robin", "random", "least_outstanding", "power_of_two", NULL,
};
static const char *const lb_keys[] = {"kind", "policy", "targets", "zone", NULL};

static bool add_backends(struct asim_component *c, struct balancer *s,
                         const struct asim_component *t)
{
	struct backend *nb = realloc(s->b, (s->nb + t->instances) * sizeof *nb);
	if (!nb)
		return false;
	s->b = nb;
	for (uint32_t i = 0; i < t->instances; i++)
		s->b[s->nb++] = (struct backend){.comp = t->id, .inst = (uint16_t)i};
	(void)c;
	return true;
}

static bool configure(struct asim_component *c, const struct asim_cfg *map, struct asim_diag *d)
{
	struct balancer *s = c->state;
	if (!asim_cfg_expect_map(map, c->name, lb_keys, d))
		return false;
	s->policy = POLICY_ROUND_ROBIN;
	bool ok = asim_cfg_choice(map, "policy", ASIM_OPTIONAL, policy_names, &s->policy, d);
	ok &= model_instances(c, map, 1, d);
	const struct asim_cfg *targets = asim_cfg_get(map, "targets");
	if (!targets) {
		asim_diag_error(d, map->mark, "missing required key 'targets' in '%s'", c->name);
		return false;
	}
	size_t n = targets->type == ASIM_CFG_SEQ ? targets->n : 1;
	if (targets->type == ASIM_CFG_SEQ && n == 0) {
		asim_diag_error(d, targets->mark, "'targets' of '%s' is empty", c->name);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const struct asim_cfg *node =
			targets->type == ASIM_CFG_SEQ ? targets->items[i] : targets;
		struct asim_component *t = model_target_node(c, node, "targets", d);
		if (!t) {
			ok = false;
			continue;
		}
		if (!add_backends(c, s, t)) {
			asim_diag_error(d, node->mark, "out of memory for the backends of '%s'", c->name);
			return false;
		}
	}
	if (!ok)
		return false;
	s->r_pick = asim_kernel_rng(c->kernel, c->name, "pick");
	return true;
}

static uint32_t pick(struct balancer *s)
{
	switch (s->policy) {
	case POLICY_RANDOM:
		return (uint32_t)gsl_rng_uniform_int(s->r_pick, s->nb);
	case POLICY_LEAST_OUTSTANDING: {
		/* Scan from after the last pick so that ties rotate instead of
		 * always landing on the first backend. */
		uint32_t best = s->next % s->nb;
		for (uint32_t i = 1; i < s->nb; i++) {
			uint32_t j = (s->next + i) % s->nb;
			if (s->b[j].outstanding < s->b[best].outstanding)
				best = j;
		}
		s->next = best + 1;
		return best;
	}
	case POLICY_POWER_OF_TWO: {
		if (s->nb == 1)
			return 0;
		uint32_t a = (uint32_t)gsl_rng_uniform_int(s->r_pick, s->nb);
		uint32_t b = (uint32_t)gsl_rng_uniform_int(s->r_pick, s->nb - 1);
		if (b >= a)
			b++;
		return s->b[b].outstanding < s->b[a].outstanding ? b : a;
	}
	default: {
		uint32_t j = s->next % s->nb;
		s->next = j + 1;
		return j;
	}
	}
}

static void forward(struct asim_component *c, struct balancer *s, struct asim_call *in)
{
	struct asim_kernel *k = c->kernel;
	struct asim_call *out = asim_call_new(k);
	if (!out)
		return;
	uint32_t j = pick(s);
	struct backend *b = &s->b[j];
	out->op = in->op;
	out->key = in->key;
	out->request = in->request;
	out->origin = in->origin;
	out->attempt = in->attempt;
	out->deadline = in->deadline;
	out->token = (uint64_t)(uintptr_t)in;
	out->tag = j; /* which backend, to decrement on the answer */
	b->outstanding++;
	if (asim_measuring_at(k, asim_now(k))) {
		b->sent++;
		s->forwarded++;
	}
	asim_call_send(k, out, c->id, 0, b->comp, b->inst);
}

static void answered(struct asim_component *c, struct balancer *s, struct asim_call *out)
{
	struct asim_kernel *k = c->kernel;
	struct asim_call *in = (struct asim_call *)(uintptr_t)out->token;
	s->b[out->tag].outstanding--;
	enum asim_status st = out->status;
	in->version = out->version;
	asim_call_free(k, out);
	asim_call_reply(k, in, st);
}

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct balancer *s = c->state;
	switch (ev->type) {
	case ASIM_EV_REQUEST:
		forward(c, s, ev->p);
		break;
	case ASIM_EV_RESPONSE:
		answered(c, s, ev->p);
		break;
	}
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct balancer *s = c->state;
	asim_results_string(r, "load_balancer", "components.%s.kind", c->name);
	asim_results_string(r, policy_names[s->policy], "components.%s.policy", c->name);
	asim_results_count(r, s->forwarded, "components.%s.forwarded", c->name);
	asim_results_count(r, s->nb, "components.%s.backends", c->name);
	/* How evenly the policy spread the load: max over mean of requests sent. */
	double max = 0, sum = 0;
	for (uint32_t i = 0; i < s->nb; i++) {
		sum += (double)s->b[i].sent;
		if ((double)s->b[i].sent > max)
			max = (double)s->b[i].sent;
	}
	asim_results_real(r, sum > 0 ? max / (sum / s->nb) : 0.0, "components.%s.imbalance",
	                  c->name);
}

/* Backends are instances; the graph wants each target component once. */
static size_t edges(const struct asim_component *c, uint32_t *to, size_t max)
{
	const struct balancer *s = c->state;
	size_t n = 0;
	for (uint32_t i = 0; i < s->nb; i++) {
		if (i > 0 && s->b[i].comp == s->b[i - 1].comp)
			continue;
		if (n < max)
			to[n] = s->b[i].comp;
		n++;
	}
	return n;
}

static void destroy(struct asim_component *c)
{
	struct balancer *s = c->state;
	free(s->b);
}

const struct asim_model_ops asim_load_balancer_ops = {
	.kind = "load_balancer",
	.summary = "proxy spreading requests over service instances by policy",
	.state_size = sizeof(struct balancer),
	.configure = configure,
	.handle = handle,
	.report = report,
	.destroy = destroy,
	.edges = edges,
};
