#include "resilience.h"

#include <stdlib.h>
#include <string.h>

/* ---- sliding window ---- */

void win_init(struct win_count *w, asim_time window)
{
	memset(w, 0, sizeof *w);
	w->slot_len = window / WIN_SLOTS > 0 ? window / WIN_SLOTS : 1;
}

void win_clear(struct win_count *w)
{
	memset(w->n, 0, sizeof w->n);
	w->sum[0] = w->sum[1] = 0;
}

void win_advance(struct win_count *w, asim_time now)
{
	if (now < w->slot_start + w->slot_len)
		return;
	asim_time steps = (now - w->slot_start) / w->slot_len;
	/* A long quiet gap clears everything in one go instead of stepping
	 * through every slot it skipped. */
	if (steps >= WIN_SLOTS) {
		win_clear(w);
		w->slot_start += steps * w->slot_len;
		return;
	}
	for (asim_time i = 0; i < steps; i++) {
		w->head = (w->head + 1) % WIN_SLOTS;
		w->sum[0] -= w->n[w->head][0];
		w->sum[1] -= w->n[w->head][1];
		w->n[w->head][0] = w->n[w->head][1] = 0;
		w->slot_start += w->slot_len;
	}
}

void win_add(struct win_count *w, asim_time now, int which, uint64_t n)
{
	win_advance(w, now);
	w->n[w->head][which] += n;
	w->sum[which] += n;
}

static const char *ctx_of(const struct asim_cfg *node, const char *key)
{
	return node->ctx ? node->ctx : key;
}

/* ---- retry budget ---- */

static const char *const budget_keys[] = {"ratio", "min_per_s", "max_tokens", NULL};

bool budget_parse(const struct asim_cfg *retries, struct budget_cfg *out, struct asim_diag *d)
{
	*out = (struct budget_cfg){.ratio = 0.1, .min_per_s = 10, .max_tokens = 100};
	const struct asim_cfg *node = retries && retries->type == ASIM_CFG_MAP
	                                      ? asim_cfg_get(retries, "budget")
	                                      : NULL;
	if (!node)
		return true;
	if (!asim_cfg_expect_map(node, ctx_of(node, "budget"), budget_keys, d))
		return false;
	bool ok = asim_cfg_fraction(node, "ratio", ASIM_OPTIONAL, &out->ratio, d);
	ok &= asim_cfg_real(node, "min_per_s", ASIM_OPTIONAL, 0, 1e9, &out->min_per_s, d);
	ok &= asim_cfg_real(node, "max_tokens", ASIM_OPTIONAL, 1, 1e12, &out->max_tokens, d);
	out->on = ok;
	return ok;
}

void budget_init(struct budget *b, const struct budget_cfg *cfg)
{
	*b = (struct budget){.reserve = cfg->min_per_s};
}

void budget_deposit(struct budget *b, const struct budget_cfg *cfg)
{
	b->tokens += cfg->ratio;
	if (b->tokens > cfg->max_tokens)
		b->tokens = cfg->max_tokens;
}

bool budget_withdraw(struct budget *b, const struct budget_cfg *cfg, asim_time now)
{
	if (cfg->min_per_s > 0 && now > b->last) {
		b->reserve += cfg->min_per_s * asim_time_to_seconds(now - b->last);
		if (b->reserve > cfg->min_per_s)
			b->reserve = cfg->min_per_s;
	}
	b->last = now;
	/* A small epsilon keeps ten deposits of 0.1 worth one token despite
	 * binary rounding. */
	if (b->reserve >= 1.0 - 1e-9) {
		b->reserve -= 1.0;
		return true;
	}
	if (b->tokens >= 1.0 - 1e-9) {
		b->tokens -= 1.0;
		return true;
	}
	b->denied++;
	return false;
}

/* ---- circuit breaker ---- */

static const char *const breaker_keys[] = {
	"failure_rate", "window", "min_requests", "consecutive_failures", "open_for",
	"half_open_probes", NULL,
};

bool breaker_parse(const struct asim_cfg *map, const char *key, struct breaker_cfg *out,
                   struct asim_diag *d)
{
	*out = (struct breaker_cfg){
		.min_requests = 20, .probes = 3, .window = 10 * ASIM_S, .open_for = 5 * ASIM_S,
	};
	const struct asim_cfg *node = asim_cfg_get(map, key);
	if (!node)
		return true;
	if (!asim_cfg_expect_map(node, ctx_of(node, key), breaker_keys, d))
		return false;
	int64_t minr = out->min_requests, consec = 0, probes = out->probes;
	bool ok = asim_cfg_fraction(node, "failure_rate", ASIM_OPTIONAL, &out->failure_rate, d);
	ok &= asim_cfg_time(node, "window", ASIM_OPTIONAL, 10 * ASIM_MS, 24 * ASIM_HOUR, &out->window,
	                    d);
	ok &= asim_cfg_int(node, "min_requests", ASIM_OPTIONAL, 1, 1000000000, &minr, d);
	ok &= asim_cfg_int(node, "consecutive_failures", ASIM_OPTIONAL, 1, 1000000000, &consec, d);
	ok &= asim_cfg_time(node, "open_for", ASIM_OPTIONAL, ASIM_MS, 24 * ASIM_HOUR, &out->open_for,
	                    d);
	ok &= asim_cfg_int(node, "half_open_probes", ASIM_OPTIONAL, 1, 1000000, &probes, d);
	if (!ok)
		return false;
	if (!asim_cfg_get(node, "failure_rate") && !consec) {
		asim_diag_error(d, node->mark,
		                "'%s' needs 'failure_rate' or 'consecutive_failures' to know when to open",
		                ctx_of(node, key));
		return false;
	}
	if (asim_cfg_get(node, "failure_rate") && !(out->failure_rate > 0)) {
		asim_diag_error(d, asim_cfg_get(node, "failure_rate")->mark,
		                "'failure_rate' must be above 0 in '%s'", ctx_of(node, key));
		return false;
	}
	out->min_requests = (uint32_t)minr;
	out->consecutive = (uint32_t)consec;
	out->probes = (uint32_t)probes;
	out->on = true;
	return true;
}

void breaker_init(struct breaker *b, const struct breaker_cfg *cfg, asim_time stat_from)
{
	memset(b, 0, sizeof *b);
	win_init(&b->w, cfg->window);
	b->stat_from = stat_from;
}

/* An open breaker is half-open from open_for after it opened, though it
 * moves there only at the next call: its open time ends there. */
static asim_time open_until(const struct breaker *b, const struct breaker_cfg *cfg, asim_time now)
{
	return now - b->since > cfg->open_for ? b->since + cfg->open_for : now;
}

static void breaker_enter(struct breaker *b, const struct breaker_cfg *cfg, int state,
                          asim_time now)
{
	asim_time until = open_until(b, cfg, now);
	if (b->state == BREAKER_OPEN && until > b->stat_from) {
		asim_time from = b->since > b->stat_from ? b->since : b->stat_from;
		b->open_total += until - from;
	}
	if (now >= b->stat_from) {
		b->changes++;
		if (state == BREAKER_OPEN)
			b->opened++;
	}
	b->state = (uint8_t)state;
	b->since = now;
	b->consec = 0;
	b->probes_sent = b->probes_ok = 0;
	if (state == BREAKER_CLOSED)
		win_clear(&b->w);
}

bool breaker_allow(struct breaker *b, const struct breaker_cfg *cfg, asim_time now)
{
	if (b->state == BREAKER_OPEN && now - b->since >= cfg->open_for)
		breaker_enter(b, cfg, BREAKER_HALF_OPEN, now);
	if (b->state == BREAKER_CLOSED)
		return true;
	if (b->state == BREAKER_HALF_OPEN && b->probes_sent < cfg->probes) {
		b->probes_sent++;
		return true;
	}
	if (now >= b->stat_from)
		b->short_circuited++;
	return false;
}

void breaker_record(struct breaker *b, const struct breaker_cfg *cfg, asim_time now, bool ok)
{
	switch (b->state) {
	case BREAKER_OPEN:
		return; /* a late answer to a call sent before it opened */
	case BREAKER_HALF_OPEN:
		if (!ok)
			breaker_enter(b, cfg, BREAKER_OPEN, now);
		else if (++b->probes_ok >= cfg->probes)
			breaker_enter(b, cfg, BREAKER_CLOSED, now);
		return;
	default:
		break;
	}
	win_add(&b->w, now, ok ? 0 : 1, 1);
	b->consec = ok ? 0 : b->consec + 1;
	if (cfg->consecutive && b->consec >= cfg->consecutive) {
		breaker_enter(b, cfg, BREAKER_OPEN, now);
		return;
	}
	uint64_t total = b->w.sum[0] + b->w.sum[1];
	if (cfg->failure_rate > 0 && total >= cfg->min_requests &&
	    (double)b->w.sum[1] >= cfg->failure_rate * (double)total)
		breaker_enter(b, cfg, BREAKER_OPEN, now);
}

asim_time breaker_open_time(const struct breaker *b, const struct breaker_cfg *cfg, asim_time now)
{
	asim_time t = b->open_total;
	asim_time until = open_until(b, cfg, now);
	if (b->state == BREAKER_OPEN && until > b->stat_from)
		t += until - (b->since > b->stat_from ? b->since : b->stat_from);
	return t;
}

int breaker_state_at(const struct breaker *b, const struct breaker_cfg *cfg, asim_time now)
{
	if (b->state == BREAKER_OPEN && now - b->since >= cfg->open_for)
		return BREAKER_HALF_OPEN;
	return b->state;
}

void breaker_reset_stats(struct breaker *b, asim_time now)
{
	b->stat_from = now;
	b->open_total = 0;
	b->opened = b->changes = b->short_circuited = 0;
}

const char *breaker_state_name(int state)
{
	static const char *const names[] = {"closed", "open", "half_open"};
	return state >= 0 && state < 3 ? names[state] : "?";
}

/* ---- hedging ---- */

static const char *const hedge_keys[] = {"after", NULL};

bool hedge_parse(const struct asim_cfg *map, const char *key, struct hedge_cfg *out,
                 struct asim_diag *d)
{
	*out = (struct hedge_cfg){0};
	const struct asim_cfg *node = asim_cfg_get(map, key);
	if (!node)
		return true;
	if (!asim_cfg_expect_map(node, ctx_of(node, key), hedge_keys, d))
		return false;
	const struct asim_cfg *after = asim_cfg_get(node, "after");
	if (!after) {
		asim_diag_error(d, node->mark, "missing required key 'after' in '%s'",
		                ctx_of(node, key));
		return false;
	}
	if (after->type == ASIM_CFG_SCALAR && after->text[0] == 'p') {
		double pct = 0;
		if (!asim_parse_real(after->text + 1, &pct) || !(pct >= 1 && pct < 100)) {
			asim_diag_error(d, after->mark,
			                "expected a duration or a percentile such as p95 for 'after', got '%s'",
			                after->text);
			return false;
		}
		out->quantile = pct / 100.0;
	} else if (!asim_cfg_node_time(after, ASIM_US, ASIM_HOUR, &out->after, d)) {
		return false;
	}
	out->on = true;
	return true;
}

bool hedge_init(struct hedge *h, const struct hedge_cfg *cfg)
{
	memset(h, 0, sizeof *h);
	h->cached = ASIM_TIME_MAX;
	if (!cfg->on || cfg->quantile <= 0)
		return true;
	h->recent = malloc(sizeof *h->recent);
	if (!h->recent)
		return false;
	asim_hist_init(h->recent);
	return true;
}

void hedge_finish(struct hedge *h)
{
	free(h->recent);
	h->recent = NULL;
}

asim_time hedge_delay(const struct hedge *h, const struct hedge_cfg *cfg)
{
	if (!cfg->on)
		return ASIM_TIME_MAX;
	return cfg->quantile > 0 ? h->cached : cfg->after;
}

void hedge_observe(struct hedge *h, const struct hedge_cfg *cfg, asim_time latency)
{
	if (!h->recent)
		return;
	asim_hist_record(h->recent, latency);
	uint64_t n = h->recent->count;
	if (n >= HEDGE_MIN_SAMPLES && n % HEDGE_EVERY == 0)
		h->cached = asim_hist_quantile(h->recent, cfg->quantile);
	/* Start over once the window is full, keeping the last estimate, so
	 * that the percentile follows the edge's recent behaviour. */
	if (n >= HEDGE_RECENT)
		asim_hist_init(h->recent);
}

/* ---- adaptive throttling ---- */

static const char *const throttle_keys[] = {"k", "window", NULL};

bool throttle_parse(const struct asim_cfg *map, const char *key, struct throttle_cfg *out,
                    struct asim_diag *d)
{
	*out = (struct throttle_cfg){.k = 2.0, .window = 2 * ASIM_MIN};
	const struct asim_cfg *node = asim_cfg_get(map, key);
	if (!node)
		return true;
	if (!asim_cfg_expect_map(node, ctx_of(node, key), throttle_keys, d))
		return false;
	bool ok = asim_cfg_real(node, "k", ASIM_OPTIONAL, 1.0, 1000.0, &out->k, d);
	ok &= asim_cfg_time(node, "window", ASIM_OPTIONAL, 10 * ASIM_MS, 24 * ASIM_HOUR,
	                    &out->window, d);
	out->on = ok;
	return ok;
}

void throttle_init(struct throttle *t, const struct throttle_cfg *cfg)
{
	memset(t, 0, sizeof *t);
	win_init(&t->w, cfg->window);
}

double throttle_probability(struct throttle *t, asim_time now, double k)
{
	win_advance(&t->w, now);
	double req = (double)t->w.sum[0], acc = (double)t->w.sum[1];
	double p = (req - k * acc) / (req + 1.0);
	return p > 0 ? p : 0;
}

bool throttle_admit(struct throttle *t, const struct throttle_cfg *cfg, asim_time now,
                    gsl_rng *r)
{
	double p = throttle_probability(t, now, cfg->k);
	win_add(&t->w, now, 0, 1);
	/* Draw only when rejection is possible, so a healthy run's stream
	 * stays untouched. */
	return !(p > 0 && gsl_rng_uniform(r) < p);
}

void throttle_accepted(struct throttle *t, asim_time now)
{
	win_add(&t->w, now, 1, 1);
}

/* ---- queue shedding ---- */

static const char *const policy_names[] = {"fifo", "lifo", NULL};

bool shed_parse(const struct asim_cfg *map, struct shed_cfg *out, struct asim_diag *d)
{
	*out = (struct shed_cfg){.interval = 100 * ASIM_MS};
	int lifo = 0;
	bool ok = asim_cfg_choice(map, "queue_policy", ASIM_OPTIONAL, policy_names, &lifo, d);
	ok &= asim_cfg_time(map, "queue_delay_target", ASIM_OPTIONAL, ASIM_US, ASIM_HOUR,
	                    &out->target, d);
	ok &= asim_cfg_time(map, "queue_delay_interval", ASIM_OPTIONAL, ASIM_US, ASIM_HOUR,
	                    &out->interval, d);
	out->lifo = lifo == 1;
	const struct asim_cfg *iv = asim_cfg_get(map, "queue_delay_interval");
	if (ok && iv && !out->target) {
		asim_diag_error(d, iv->mark,
		                "'queue_delay_interval' applies only with 'queue_delay_target'");
		return false;
	}
	return ok;
}

void codel_init(struct codel *q)
{
	q->above_since = -1;
}

bool codel_drop(struct codel *q, const struct shed_cfg *cfg, asim_time now, asim_time sojourn)
{
	if (!cfg->target)
		return false;
	if (sojourn <= cfg->target) {
		q->above_since = -1;
		return false;
	}
	if (q->above_since < 0) {
		q->above_since = now;
		return false;
	}
	return now - q->above_since >= cfg->interval;
}

void codel_empty(struct codel *q)
{
	q->above_since = -1;
}

/* ---- health checks, outlier ejection ---- */

static const char *const health_keys[] = {
	"interval", "timeout", "unhealthy_after", "healthy_after", NULL,
};

bool health_parse(const struct asim_cfg *map, const char *key, struct health_cfg *out,
                  struct asim_diag *d)
{
	*out = (struct health_cfg){
		.interval = ASIM_S, .unhealthy_after = 3, .healthy_after = 2,
	};
	const struct asim_cfg *node = asim_cfg_get(map, key);
	if (!node)
		return true;
	if (!asim_cfg_expect_map(node, ctx_of(node, key), health_keys, d))
		return false;
	int64_t un = out->unhealthy_after, he = out->healthy_after;
	bool ok = asim_cfg_time(node, "interval", ASIM_OPTIONAL, ASIM_MS, ASIM_HOUR, &out->interval,
	                        d);
	out->timeout = out->interval / 2;
	ok &= asim_cfg_time(node, "timeout", ASIM_OPTIONAL, ASIM_US, ASIM_HOUR, &out->timeout, d);
	ok &= asim_cfg_int(node, "unhealthy_after", ASIM_OPTIONAL, 1, 1000, &un, d);
	ok &= asim_cfg_int(node, "healthy_after", ASIM_OPTIONAL, 1, 1000, &he, d);
	if (!ok)
		return false;
	/* One probe per backend at a time: each ends before the next starts. */
	if (out->timeout > out->interval) {
		asim_diag_error(d, asim_cfg_get(node, "timeout")->mark,
		                "'timeout' must not exceed 'interval' in '%s'", ctx_of(node, key));
		return false;
	}
	out->unhealthy_after = (uint32_t)un;
	out->healthy_after = (uint32_t)he;
	out->on = true;
	return true;
}

bool health_record(struct health *h, const struct health_cfg *cfg, bool ok)
{
	if (ok) {
		h->fails = 0;
		if (h->unhealthy && ++h->oks >= cfg->healthy_after) {
			h->unhealthy = false;
			h->oks = 0;
			return true;
		}
		return false;
	}
	h->oks = 0;
	if (!h->unhealthy && ++h->fails >= cfg->unhealthy_after) {
		h->unhealthy = true;
		h->fails = 0;
		return true;
	}
	return false;
}

static const char *const outlier_keys[] = {"consecutive_errors", "eject_for", "max_ejected",
                                           NULL};

bool outlier_parse(const struct asim_cfg *map, const char *key, struct outlier_cfg *out,
                   struct asim_diag *d)
{
	*out = (struct outlier_cfg){.consecutive = 5, .eject_for = 30 * ASIM_S, .max_ejected = 0.1};
	const struct asim_cfg *node = asim_cfg_get(map, key);
	if (!node)
		return true;
	if (!asim_cfg_expect_map(node, ctx_of(node, key), outlier_keys, d))
		return false;
	int64_t n = out->consecutive;
	bool ok = asim_cfg_int(node, "consecutive_errors", ASIM_OPTIONAL, 1, 1000000, &n, d);
	ok &= asim_cfg_time(node, "eject_for", ASIM_OPTIONAL, ASIM_MS, 24 * ASIM_HOUR,
	                    &out->eject_for, d);
	ok &= asim_cfg_fraction(node, "max_ejected", ASIM_OPTIONAL, &out->max_ejected, d);
	out->consecutive = (uint32_t)n;
	out->on = ok;
	return ok;
}

bool outlier_record(struct outlier *o, const struct outlier_cfg *cfg, asim_time now, bool ok,
                    uint32_t ejected_now, uint32_t total)
{
	if (ok) {
		o->consec = 0;
		return false;
	}
	if (outlier_ejected(o, now) || ++o->consec < cfg->consecutive)
		return false;
	/* Envoy always allows one ejection, whatever the share. */
	if (ejected_now > 0 && (double)(ejected_now + 1) > cfg->max_ejected * (double)total)
		return false;
	o->consec = 0;
	o->until = now + cfg->eject_for;
	return true;
}

/* ---- edge ---- */

bool edge_policy_parse(const struct asim_cfg *map, struct edge_policy *p, struct asim_diag *d)
{
	bool ok = retry_policy_parse(map, "retries", &p->retry, d);
	ok &= budget_parse(asim_cfg_get(map, "retries"), &p->budget, d);
	ok &= breaker_parse(map, "breaker", &p->breaker, d);
	ok &= hedge_parse(map, "hedge", &p->hedge, d);
	return ok;
}

bool edge_init(struct edge_stats *e, const struct edge_policy *p, asim_time warmup)
{
	memset(e, 0, sizeof *e);
	budget_init(&e->budget, &p->budget);
	breaker_init(&e->breaker, &p->breaker, warmup);
	return hedge_init(&e->hedge, &p->hedge);
}

void edge_finish(struct edge_stats *e)
{
	hedge_finish(&e->hedge);
}

bool edge_may_retry(struct edge_stats *e, const struct edge_policy *p, uint32_t n,
                    asim_time now, bool measuring)
{
	if (n > p->retry.max)
		return false;
	if (p->budget.on && !budget_withdraw(&e->budget, &p->budget, now)) {
		if (measuring)
			e->retry_denied++;
		return false;
	}
	return true;
}

void edge_report(const struct edge_stats *e, const struct edge_policy *p, asim_time now,
                 struct asim_results *r, const char *prefix)
{
	if (p->retry.max) {
		asim_results_count(r, e->retries, "%s.retries", prefix);
		if (p->budget.on)
			asim_results_count(r, e->retry_denied, "%s.retry_denied", prefix);
	}
	asim_results_real(r, e->calls ? (double)e->attempts / (double)e->calls : 0.0,
	                  "%s.amplification", prefix);
	if (p->breaker.on) {
		const struct breaker *b = &e->breaker;
		asim_results_string(r, breaker_state_name(breaker_state_at(b, &p->breaker, now)),
		                    "%s.breaker.state", prefix);
		asim_results_count(r, b->short_circuited, "%s.breaker.short_circuited", prefix);
		asim_results_count(r, b->opened, "%s.breaker.opened", prefix);
		asim_results_count(r, b->changes, "%s.breaker.state_changes", prefix);
		asim_results_real(r, asim_time_to_seconds(breaker_open_time(b, &p->breaker, now)),
		                  "%s.breaker.open_s", prefix);
	}
	if (p->hedge.on) {
		asim_results_count(r, e->hedge.sent, "%s.hedges", prefix);
		asim_results_count(r, e->hedge.wins, "%s.hedge_wins", prefix);
	}
}
