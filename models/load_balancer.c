/* load_balancer: a proxy in front of the instances of one or more services.
 * Each request is forwarded to one backend instance chosen by the policy, and
 * the answer comes back through the balancer (which is how it knows how many
 * requests each backend has outstanding), with its version and
 * ASIM_CALL_DEDUPLICATED or ASIM_CALL_REAPPLIED when the backend recognised
 * a repeat, ASIM_CALL_DUPLICATE_COUNTED when a store behind a service
 * backend counted one, or ASIM_CALL_PASSED_ON when a repeat is judged
 * where the backend passed it on (for a worker that writes through the
 * balancer, whose ASIM_CALL_REPEATS_COUNTED goes along with the request).
 * Policies: round_robin, random, least_outstanding (ties to the lowest
 * index after the last pick), and power_of_two (two distinct random
 * backends, the one with fewer outstanding: Mitzenmacher's "power of two
 * choices").
 *
 * Backends can be taken out of rotation (models/resilience.h): by active
 * health checks (`health_check:` probes with the "health" operation, which
 * a service answers at once while it is up), by passive outlier ejection
 * (`outlier:` consecutive failed answers), and with `zone_aware: true` the
 * balancer prefers backends in its own zone, crossing zones only when none
 * there is in rotation. With no backend in rotation a request is answered
 * ASIM_UNREACHABLE. `timeout:` bounds the wait for a backend (tightening the
 * request's deadline); without it the balancer waits as long as its caller.
 * `timed_out` counts both ways a request ends ASIM_TIMEOUT here: the wait
 * reaching the deadline, and a request arriving past it. The caller's
 * deadline travels with every request, so a balancer without a `timeout:`
 * of its own times requests out too: the figure is always reported.
 *
 * Reported saturation: `utilization` and `queue_mean` are 0. Forwarding
 * takes no time and nothing waits at the balancer: a request is sent to a
 * backend (or refused) as it arrives, and its outstanding requests queue at
 * the backends, which report them. */
#include <stdlib.h>

#include "archsim/pool.h"
#include "common.h"
#include "resilience.h"

struct backend {
	uint32_t comp;
	uint16_t inst, zone;
	uint32_t outstanding;
	uint64_t sent;           /* measured after warm-up, as are the two below */
	uint64_t ejections, health_changes;
	struct health health;
	struct outlier outlier;
	struct asim_call *probe; /* health probe in flight */
	struct asim_timer probe_timer;
};

/* One forwarded request. */
struct fwd {
	struct asim_call *in;
	struct asim_call *out;
	struct asim_timer timer;
	uint32_t b;
};

struct balancer {
	int policy;
	struct backend *b;
	uint32_t nb, next;
	gsl_rng *r_pick;
	uint64_t forwarded;
	asim_time timeout;
	struct health_cfg hc;
	struct outlier_cfg oc;
	bool zone_aware, filtered;
	uint16_t zone;
	int health_op;
	uint32_t *cand; /* scratch: backends in rotation */
	struct asim_pool fwds;
	/* Measured after warm-up. */
	uint64_t unreachable, timed_out; /* ejections, health changes: per backend */
	struct asim_hist latency; /* arrival to ok reply: asim_call_measure() */
};

enum { EV_PROBE = EV_MODEL_BASE, EV_PROBE_TIMEOUT, EV_FWD_TIMEOUT };

enum { POLICY_ROUND_ROBIN, POLICY_RANDOM, POLICY_LEAST_OUTSTANDING, POLICY_POWER_OF_TWO };
static const char *const policy_names[] = {
	"round_robin", "random", "least_outstanding", "power_of_two", NULL,
};
static const char *const lb_keys[] = {
	"kind", "policy", "targets", "zone", "timeout", "health_check", "outlier", "zone_aware", NULL,
};

static bool add_backends(struct asim_component *c, struct balancer *s,
                         const struct asim_component *t)
{
	struct backend *nb = realloc(s->b, (s->nb + t->instances) * sizeof *nb);
	if (!nb)
		return false;
	s->b = nb;
	for (uint32_t i = 0; i < t->instances; i++)
		s->b[s->nb++] = (struct backend){
			.comp = t->id, .inst = (uint16_t)i, .zone = t->zone ? t->zone[i] : 0,
		};
	(void)c;
	return true;
}

static bool configure(struct asim_component *c, const struct asim_cfg *map, struct asim_diag *d)
{
	struct balancer *s = c->state;
	asim_call_measure(c, &s->latency);
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
	ok &= asim_cfg_time(map, "timeout", ASIM_OPTIONAL, ASIM_NS, 24 * ASIM_HOUR, &s->timeout, d);
	ok &= health_parse(map, "health_check", &s->hc, d);
	ok &= outlier_parse(map, "outlier", &s->oc, d);
	ok &= asim_cfg_bool(map, "zone_aware", ASIM_OPTIONAL, &s->zone_aware, d);
	if (!ok)
		return false;
	s->zone = c->zone ? c->zone[0] : 0;
	s->filtered = s->hc.on || s->oc.on || s->zone_aware;
	s->cand = calloc(s->nb, sizeof *s->cand);
	if (!s->cand) {
		asim_diag_error(d, map->mark, "out of memory for the backends of '%s'", c->name);
		return false;
	}
	if (s->hc.on)
		s->health_op = asim_kernel_op(c->kernel, "health");
	s->r_pick = asim_kernel_rng(c->kernel, c->name, "pick");
	asim_pool_init(&s->fwds, sizeof(struct fwd), 1024);
	return true;
}

static bool in_rotation(const struct balancer *s, const struct backend *b, asim_time now)
{
	return !b->health.unhealthy && !outlier_ejected(&b->outlier, now);
}

/* Fills cand with the backends in rotation (in the balancer's zone first
 * when zone-aware) and picks one of them by the policy; -1 when none. */
static int64_t pick_among(struct balancer *s, asim_time now)
{
	uint32_t n = 0;
	if (s->zone_aware)
		for (uint32_t i = 0; i < s->nb; i++)
			if (s->b[i].zone == s->zone && in_rotation(s, &s->b[i], now))
				s->cand[n++] = i;
	if (!n)
		for (uint32_t i = 0; i < s->nb; i++)
			if (in_rotation(s, &s->b[i], now))
				s->cand[n++] = i;
	if (!n)
		return -1;
	/* Rotation starts at the first candidate at or after next. */
	uint32_t start = 0;
	while (start < n && s->cand[start] < s->next % s->nb)
		start++;
	start %= n;
	switch (s->policy) {
	case POLICY_RANDOM:
		return s->cand[gsl_rng_uniform_int(s->r_pick, n)];
	case POLICY_LEAST_OUTSTANDING: {
		uint32_t best = s->cand[start];
		for (uint32_t i = 1; i < n; i++) {
			uint32_t j = s->cand[(start + i) % n];
			if (s->b[j].outstanding < s->b[best].outstanding)
				best = j;
		}
		s->next = best + 1;
		return best;
	}
	case POLICY_POWER_OF_TWO: {
		if (n == 1)
			return s->cand[0];
		uint32_t a = (uint32_t)gsl_rng_uniform_int(s->r_pick, n);
		uint32_t b = (uint32_t)gsl_rng_uniform_int(s->r_pick, n - 1);
		if (b >= a)
			b++;
		a = s->cand[a];
		b = s->cand[b];
		return s->b[b].outstanding < s->b[a].outstanding ? b : a;
	}
	default:
		s->next = s->cand[start] + 1;
		return s->cand[start];
	}
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
	asim_time now = asim_now(k);
	bool measuring = asim_measuring_at(k, now);
	if (in->deadline <= now) {
		/* Its deadline passed on the way here (a worker that held its
		 * task past the queue's ack deadline, a slow network): not
		 * forwarded, as the gateway and a service's calls do; a timer
		 * at that deadline would be an event in the past. */
		if (measuring)
			s->timed_out++;
		asim_call_reply(k, in, ASIM_TIMEOUT);
		return;
	}
	int64_t picked = s->filtered ? pick_among(s, now) : (int64_t)pick(s);
	if (picked < 0) {
		if (measuring)
			s->unreachable++;
		asim_call_reply(k, in, ASIM_UNREACHABLE);
		return;
	}
	struct fwd *f = asim_pool_get(&s->fwds);
	struct asim_call *out = f ? asim_call_new(k) : NULL;
	if (!out) {
		asim_pool_put(&s->fwds, f);
		asim_kernel_stop(k);
		return;
	}
	uint32_t j = (uint32_t)picked;
	struct backend *b = &s->b[j];
	asim_time deadline = in->deadline, expiry;
	if (s->timeout && asim_time_add(now, s->timeout, &expiry) && expiry < deadline)
		deadline = expiry;
	out->op = in->op;
	out->key = in->key;
	out->request = in->request;
	asim_call_forward_flags(out, in);
	out->session = in->session;
	out->origin = in->origin;
	out->attempt = in->attempt;
	out->deadline = deadline;
	out->token = (uint64_t)(uintptr_t)f;
	out->tag = j; /* which backend, to decrement on the answer */
	f->in = in;
	f->out = out;
	f->b = j;
	b->outstanding++;
	if (measuring) {
		b->sent++;
		s->forwarded++;
	}
	asim_call_send(k, out, c->id, 0, b->comp, b->inst);
	/* Stop waiting at the deadline even without a timeout of our own: a
	 * backend that loses the request (a crash, a lost host or message)
	 * never answers, and its outstanding count would stay raised for good,
	 * so that least_outstanding and power_of_two shun it after it is back. */
	if (deadline != ASIM_TIME_MAX)
		f->timer = asim_schedule_at(k, deadline, c->id, EV_FWD_TIMEOUT, 0, 0, f);
}

/* A backend answered (ok) or failed to: passive outlier detection. */
static void observe(struct balancer *s, struct backend *b, asim_time now, bool ok, bool measuring)
{
	if (!s->oc.on)
		return;
	uint32_t ejected = 0;
	if (!ok && b->outlier.consec + 1 >= s->oc.consecutive)
		for (uint32_t i = 0; i < s->nb; i++)
			ejected += outlier_ejected(&s->b[i].outlier, now);
	if (outlier_record(&b->outlier, &s->oc, now, ok, ejected, s->nb) && measuring)
		b->ejections++;
}

static void done(struct asim_component *c, struct balancer *s, struct fwd *f,
                 enum asim_status st)
{
	struct asim_kernel *k = c->kernel;
	s->b[f->b].outstanding--;
	observe(s, &s->b[f->b], asim_now(k), st == ASIM_OK, asim_measuring_at(k, asim_now(k)));
	asim_call_reply(k, f->in, st);
	asim_pool_put(&s->fwds, f);
}

static void answered(struct asim_component *c, struct balancer *s, struct asim_call *out)
{
	struct asim_kernel *k = c->kernel;
	if (!out->token) {
		/* A health probe's answer. */
		struct backend *b = &s->b[out->tag];
		bool ok = out->status == ASIM_OK;
		asim_cancel(k, b->probe_timer);
		b->probe = NULL;
		asim_call_free(k, out);
		if (health_record(&b->health, &s->hc, ok) && asim_measuring_at(k, asim_now(k)))
			b->health_changes++;
		return;
	}
	struct fwd *f = (struct fwd *)(uintptr_t)out->token;
	enum asim_status st = out->status;
	asim_cancel(k, f->timer);
	f->in->version = out->version;
	asim_call_relay_repeat(f->in, out);
	asim_call_free(k, out);
	done(c, s, f, st);
}

static void fwd_timeout(struct asim_component *c, struct balancer *s, struct fwd *f)
{
	struct asim_kernel *k = c->kernel;
	asim_call_abandon(k, f->out);
	if (asim_measuring_at(k, asim_now(k)))
		s->timed_out++;
	done(c, s, f, ASIM_TIMEOUT);
}

static void probe_failed(struct asim_kernel *k, struct balancer *s, struct backend *b)
{
	asim_call_abandon(k, b->probe);
	b->probe = NULL;
	if (health_record(&b->health, &s->hc, false) && asim_measuring_at(k, asim_now(k)))
		b->health_changes++;
}

static void probe(struct asim_component *c, struct balancer *s, uint32_t j)
{
	struct asim_kernel *k = c->kernel;
	struct backend *b = &s->b[j];
	asim_schedule(k, s->hc.interval, c->id, EV_PROBE, 0, j, NULL);
	/* A probe timing out exactly at the next one counts as failed first. */
	if (b->probe) {
		asim_cancel(k, b->probe_timer);
		probe_failed(k, s, b);
	}
	struct asim_call *call = asim_call_new(k);
	if (!call)
		return;
	call->op = (uint16_t)s->health_op;
	call->origin = asim_now(k);
	call->deadline = asim_now(k) + s->hc.timeout;
	call->tag = j;
	b->probe = call;
	asim_call_send(k, call, c->id, 0, b->comp, b->inst);
	b->probe_timer = asim_schedule(k, s->hc.timeout, c->id, EV_PROBE_TIMEOUT, 0, j, NULL);
}

static void start(struct asim_component *c)
{
	struct balancer *s = c->state;
	/* Zones are read now: a target configured after the balancer may not
	 * have placed its instances when the balancer was configured. */
	s->zone = c->zone ? c->zone[0] : 0;
	for (uint32_t j = 0; j < s->nb; j++) {
		const struct asim_component *t = asim_kernel_component(c->kernel, s->b[j].comp);
		s->b[j].zone = t->zone && s->b[j].inst < t->instances ? t->zone[s->b[j].inst] : 0;
	}
	if (s->hc.on)
		for (uint32_t j = 0; j < s->nb; j++)
			asim_schedule(c->kernel, s->hc.interval, c->id, EV_PROBE, 0, j, NULL);
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
	case EV_FWD_TIMEOUT:
		fwd_timeout(c, s, ev->p);
		break;
	case EV_PROBE:
		probe(c, s, (uint32_t)ev->a);
		break;
	case EV_PROBE_TIMEOUT:
		probe_failed(c->kernel, s, &s->b[ev->a]);
		break;
	}
}

/* Backends in rotation now. */
static uint32_t in_rotation_now(const struct balancer *s, asim_time now)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->nb; i++)
		n += in_rotation(s, &s->b[i], now);
	return n;
}

static void sample(const struct asim_component *c, struct asim_results *r)
{
	const struct balancer *s = c->state;
	asim_results_real(r, in_rotation_now(s, asim_now(c->kernel)), "%s.in_rotation", c->name);
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct balancer *s = c->state;
	asim_results_string(r, "load_balancer", "components.%s.kind", c->name);
	asim_results_string(r, policy_names[s->policy], "components.%s.policy", c->name);
	asim_results_count(r, s->forwarded, "components.%s.forwarded", c->name);
	asim_results_real(r, 0.0, "components.%s.utilization", c->name);
	asim_results_real(r, 0.0, "components.%s.queue_mean", c->name);
	asim_results_count(r, s->nb, "components.%s.backends", c->name);
	/* How evenly the policy spread the load: max over mean of requests sent. */
	double max = 0, sum = 0;
	uint64_t health_changes = 0, ejections = 0;
	for (uint32_t i = 0; i < s->nb; i++) {
		health_changes += s->b[i].health_changes;
		ejections += s->b[i].ejections;
		sum += (double)s->b[i].sent;
		if ((double)s->b[i].sent > max)
			max = (double)s->b[i].sent;
	}
	asim_results_real(r, sum > 0 ? max / (sum / s->nb) : 0.0, "components.%s.imbalance",
	                  c->name);
	asim_results_count(r, s->unreachable, "components.%s.unreachable", c->name);
	/* Reported with or without a `timeout:`: the caller's deadline, which
	 * the balancer keeps, ends requests here as well (fwd_timeout, and a
	 * request already past it in forward), and a figure shown only with a
	 * timeout hid them. */
	asim_results_count(r, s->timed_out, "components.%s.timed_out", c->name);
	if (s->filtered)
		asim_results_count(r, in_rotation_now(s, asim_now(c->kernel)),
		                   "components.%s.in_rotation", c->name);
	if (s->hc.on)
		asim_results_count(r, health_changes, "components.%s.health_changes", c->name);
	if (s->oc.on)
		asim_results_count(r, ejections, "components.%s.ejections", c->name);
	/* Per backend, by target and instance: which one took the load, or
	 * was taken out of rotation. */
	for (uint32_t i = 0; i < s->nb; i++) {
		const struct backend *b = &s->b[i];
		const char *t = asim_kernel_component(c->kernel, b->comp)->name;
		asim_results_count(r, b->sent, "components.%s.by_backend.%s.sent[%u]", c->name, t,
		                   (unsigned)b->inst);
		if (s->hc.on)
			asim_results_count(r, b->health_changes,
			                   "components.%s.by_backend.%s.health_changes[%u]", c->name, t,
			                   (unsigned)b->inst);
		if (s->oc.on)
			asim_results_count(r, b->ejections, "components.%s.by_backend.%s.ejections[%u]",
			                   c->name, t, (unsigned)b->inst);
	}
	asim_hist_report(r, &s->latency, "components.%s.latency_ms", c->name);
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
	free(s->cand);
	asim_pool_finish(&s->fwds);
}

const struct asim_model_ops asim_load_balancer_ops = {
	.kind = "load_balancer",
	.summary = "proxy spreading requests over service instances by policy",
	.state_size = sizeof(struct balancer),
	.configure = configure,
	.start = start,
	.handle = handle,
	.report = report,
	.destroy = destroy,
	.edges = edges,
	.judges_read = model_relay_judges_read,
	.sample = sample,
};
