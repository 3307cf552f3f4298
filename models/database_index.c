/* database_index.c: the database's secondary index and its drift.
 *
 * Secondary index and drift (`index: {queue: NAME, conditional: true,
 * reconcile_every: 30s, settle: 10s}`): a derived copy of the data (a search
 * index, a read model) fed asynchronously. Each write committed by the
 * primary ships a change (op "index", the key, its version in
 * call->version, no request id: each change is one of its own, never a
 * repeat at the queue) to the queue and does not wait for it (a change feed:
 * what the queue refuses or loses never arrives); the queue's consumers
 * (workers targeting this database) apply it with op "index". The index is
 * kept here beside the primary's versions, at no connection cost; it is a
 * separate store that only the feed writes. A `conditional` apply keeps the
 * newer version (an idempotent upsert); otherwise the last change to arrive
 * wins, and a late redelivery sets the index back. With `reconcile_every`,
 * a periodic job compares the two copies and repairs each key the index has
 * wrong whose last write is older than `settle`.
 * Drift is the number of version slots whose index version differs from the
 * primary's at the end of the run, among those last written more than
 * `settle` before the end (changes still in the pipeline are lag, not
 * drift); it is added to the outcome's drift. */
#include "database_private.h"

static const char *const index_keys[] = {"queue", "conditional", "reconcile_every", "settle",
                                         NULL};

bool db_index_configure(struct asim_component *c, struct db_index *x,
                        const struct asim_cfg *map, struct asim_diag *d)
{
	const struct asim_cfg *ix = asim_cfg_get(map, "index");
	if (!ix)
		return true;
	if (!asim_cfg_expect_map(ix, "index", index_keys, d))
		return false;
	x->conditional = true;
	x->settle = 10 * ASIM_S;
	bool ok = asim_cfg_bool(ix, "conditional", ASIM_OPTIONAL, &x->conditional, d);
	ok &= asim_cfg_time(ix, "reconcile_every", ASIM_OPTIONAL, ASIM_MS, 24 * ASIM_HOUR,
	                    &x->reconcile_every, d);
	ok &= asim_cfg_time(ix, "settle", ASIM_OPTIONAL, 0, 24 * ASIM_HOUR, &x->settle, d);
	struct asim_component *q = model_target(c, ix, "queue", d);
	if (!ok || !q)
		return false;
	x->queue = q->id;
	x->op = asim_kernel_op(c->kernel, "index");
	if (x->op < 0) {
		asim_diag_error(d, ix->mark, "too many operation names (at most %d)", ASIM_MAX_OPS);
		return false;
	}
	x->on = true;
	return true;
}

/* A change from the feed reaches the index. */
void db_index_apply(struct asim_component *c, struct database *s, struct asim_call *call)
{
	struct db_index *x = &s->index;
	if (!x->on) {
		asim_call_reply(c->kernel, call, ASIM_ERROR);
		return;
	}
	bool measuring = asim_measuring_at(c->kernel, asim_now(c->kernel));
	uint64_t *v = &x->v[call->key & (s->nslots - 1)];
	if (call->version > *v || (!x->conditional && call->version != *v)) {
		if (measuring) {
			x->applied++;
			x->regressed += call->version < *v;
		}
		*v = call->version;
	} else if (measuring) {
		x->ignored++;
	}
	asim_call_reply(c->kernel, call, ASIM_OK);
}

/* Ships a committed write to the index's queue, without waiting. */
void db_index_ship(struct asim_component *c, struct database *s, const struct op *op)
{
	struct asim_kernel *k = c->kernel;
	struct asim_call *call = asim_call_new(k);
	if (!call)
		return;
	call->op = (uint16_t)s->index.op;
	call->key = op->call->key;
	call->version = op->version;
	/* No request id: each commit is a change of its own (a change feed's
	 * log position), never a repeat of another at the queue (queue.c,
	 * Repeats), though two of them may share the write's request id: a
	 * write applied again, already counted where it was applied, or the
	 * writes of two callers for one request. */
	call->origin = asim_now(k);
	if (asim_measuring_at(k, call->origin))
		s->index.shipped++;
	asim_call_send(k, call, c->id, op->inst, s->index.queue, 0);
	asim_call_abandon(k, call);
}

/* The newest version the primary holds for each slot, against the index:
 * repairs (reconciliation) or counts (drift) the slots that differ and were
 * last written at least settle ago. */
uint64_t db_index_compare(struct asim_component *c, struct database *s, bool repair)
{
	struct db_index *x = &s->index;
	asim_time now = asim_now(c->kernel);
	uint64_t n = 0;
	for (uint32_t i = 0; i < s->nslots; i++) {
		uint64_t p = *versions_held(&s->ver, s->lead.leader, i);
		if (x->v[i] == p || now - versions_acked_at(&s->ver, i) < x->settle)
			continue;
		n++;
		if (repair)
			x->v[i] = p;
	}
	return n;
}
