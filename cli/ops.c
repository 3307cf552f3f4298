#include "ops.h"

#include <stdio.h>
#include <string.h>

#include "archsim/kernel.h"

/* A scenario holds at most ASIM_MAX_OPS operations (configure refuses more),
 * so a set of twice that, plus read and write, holds every name worth
 * checking; past it the check stops and configure reports the excess. */
#define NAMES_MAX (2 * ASIM_MAX_OPS + 2)

struct names {
	const char *v[NAMES_MAX + 1]; /* NULL-terminated, for asim_diag_suggest */
	size_t n;
};

static bool has(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

/* Adds the keys of each component's mapping under key (those in only, when
 * it is not NULL); false when full. */
static bool collect(struct names *s, const struct asim_cfg *comps, const char *key,
                    const struct names *only)
{
	for (size_t i = 0; i < comps->n; i++) {
		const struct asim_cfg *m = asim_cfg_get(comps->pairs[i].value, key);
		for (size_t j = 0; m && m->type == ASIM_CFG_MAP && j < m->n; j++) {
			if (has(s, m->pairs[j].key) || (only && !has(only, m->pairs[j].key)))
				continue;
			if (s->n == NAMES_MAX)
				return false;
			s->v[s->n++] = m->pairs[j].key;
			s->v[s->n] = NULL;
		}
	}
	return true;
}

/* Reports each key of the components' maps under key that is not in known
 * but close to a name there; why says where the known names come from. */
static bool check(const struct asim_cfg *comps, const char *key, const struct names *known,
                  const char *why, struct asim_diag *d)
{
	bool ok = true;
	for (size_t i = 0; i < comps->n; i++) {
		const struct asim_cfg *m = asim_cfg_get(comps->pairs[i].value, key);
		for (size_t j = 0; m && m->type == ASIM_CFG_MAP && j < m->n; j++) {
			const struct asim_cfg_pair *p = &m->pairs[j];
			const char *guess = has(known, p->key) ? NULL : asim_diag_suggest_typo(p->key, known->v);
			if (!guess)
				continue;
			asim_diag_error(d, p->key_mark, "unknown operation '%.40s' in '%s'%s (did you mean '%s'?)",
			                p->key, m->ctx ? m->ctx : key, why, guess);
			ok = false;
		}
	}
	return ok;
}

/* What to do with the `op:` of a call: add it to a set (when in only) or
 * check it against the known names. */
struct op_visit {
	struct names *set;
	const struct names *only, *known;
	struct asim_diag *d;
	bool ok;
};

static void visit_op(struct op_visit *v, const struct asim_cfg *node, const char *where)
{
	if (!node || node->type != ASIM_CFG_SCALAR)
		return; /* configure reports a value that is not a name */
	const char *name = node->text;
	if (v->set) {
		if (has(v->set, name) || (v->only && !has(v->only, name)))
			return;
		if (v->set->n == NAMES_MAX) {
			v->ok = false;
			return;
		}
		v->set->v[v->set->n++] = name;
		v->set->v[v->set->n] = NULL;
		return;
	}
	if (has(v->known, name))
		return;
	/* Unlike a mix or calls key, which names an endpoint of its own, a
	 * call's op asks the callee for an operation: one that no client sends
	 * and no service handles would quietly be served as a read. */
	const char *guess = asim_diag_suggest(name, v->known->v);
	if (guess)
		asim_diag_error(v->d, node->mark, "unknown operation '%.40s' in '%s' (did you mean '%s'?)",
		                name, where, guess);
	else
		asim_diag_error(v->d, node->mark,
		                "unknown operation '%.40s' in '%s': neither read, write, nor a key of a client's 'mix' or a service's 'calls'",
		                name, where);
	v->ok = false;
}

static void visit_calls(struct op_visit *v, const struct asim_cfg *list, const char *where,
                        int depth)
{
	for (size_t i = 0; list && list->type == ASIM_CFG_SEQ && i < list->n; i++) {
		const struct asim_cfg *it = list->items[i];
		if (it->type != ASIM_CFG_MAP)
			continue;
		visit_op(v, asim_cfg_get(it, "op"), where);
		/* configure refuses a group in a group: one level is enough. */
		if (depth == 0)
			visit_calls(v, asim_cfg_get(it, "parallel"), where, 1);
	}
}

/* Visits the `op:` of every call entry of a service and of every worker. */
static bool visit_ops(struct op_visit *v, const struct asim_cfg *comps)
{
	for (size_t i = 0; i < comps->n; i++) {
		const struct asim_cfg *comp = comps->pairs[i].value;
		char where[160];
		snprintf(where, sizeof where, "%.120s.calls", comps->pairs[i].key);
		const struct asim_cfg *calls = asim_cfg_get(comp, "calls");
		if (calls && calls->type == ASIM_CFG_MAP)
			for (size_t j = 0; j < calls->n; j++)
				visit_calls(v, calls->pairs[j].value, where, 0);
		else
			visit_calls(v, calls, where, 0);
		const struct asim_cfg *kind = asim_cfg_get(comp, "kind");
		if (kind && kind->type == ASIM_CFG_SCALAR && !strcmp(kind->text, "worker"))
			visit_op(v, asim_cfg_get(comp, "op"), comps->pairs[i].key);
	}
	return v->ok;
}

bool asim_ops_check(const struct asim_cfg *comps, struct asim_diag *d)
{
	/* A calls key is held against the mix keys that some service handles:
	 * a mix key that only a misspelt calls key would handle is itself
	 * reported, and one report of the pair is enough. A call's `op:` is
	 * held against every name, and sends those that a service handles. */
	struct names handled = {{"read", "write", NULL}, 2}, sent = handled;
	if (!collect(&handled, comps, "calls", NULL) || !collect(&sent, comps, "mix", &handled))
		return true;
	struct names known = handled;
	struct op_visit add = {.set = &sent, .only = &handled, .ok = true};
	if (!collect(&known, comps, "mix", NULL) || !visit_ops(&add, comps))
		return true;
	struct op_visit chk = {.known = &known, .d = d, .ok = true};
	bool ok = visit_ops(&chk, comps);
	ok &= check(comps, "mix", &handled, "", d);
	return check(comps, "calls", &sent, ": no client's 'mix' sends it", d) && ok;
}
