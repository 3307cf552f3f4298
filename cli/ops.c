#include "ops.h"

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

bool asim_ops_check(const struct asim_cfg *comps, struct asim_diag *d)
{
	/* A calls key is held against the mix keys that some service handles:
	 * a mix key that only a misspelt calls key would handle is itself
	 * reported, and one report of the pair is enough. */
	struct names handled = {{"read", "write", NULL}, 2}, sent = handled;
	if (!collect(&handled, comps, "calls", NULL) || !collect(&sent, comps, "mix", &handled))
		return true;
	bool ok = check(comps, "mix", &handled, "", d);
	return check(comps, "calls", &sent, ": no client's 'mix' sends it", d) && ok;
}
