/* cache: a key-value cache of `capacity` entries with LRU eviction, an
 * optional time to live, and an optional backing store it reads through.
 *
 * Reads: a hit answers after hit_time with the cached version. A miss waits
 * miss_time (the lookup that failed; hit_time unless given) and sends a read for the key to the
 * backing component; when that answer comes back OK the entry is filled and
 * only then is it visible to later reads. By default concurrent misses for
 * one key are not coalesced: each goes to the backing store, so a hot key
 * that expires shows up as a burst of backing reads (a cache stampede), as
 * it would in a plain read-through cache. With `coalesce: true` a miss for
 * a key whose fill is already on its way waits for that fill and gets its
 * answer (request collapsing, as in singleflight or a CDN's collapsed
 * forwarding); the fill carries the first miss's deadline. Without a
 * backing store a miss fills the entry itself after miss_time (the cost of
 * computing the value).
 *
 * Writes (op "write"): `on_write: invalidate` forwards the write and drops
 * the entry when the backing store answers (or the call is given up at its
 * deadline), as cache-aside writes the store and then deletes;
 * `write_through` forwards the write and, when the backing store
 * acknowledges it, stores the written version. Any other operation is a read.
 * Either way the store's OK answer is relayed with ASIM_CALL_DEDUPLICATED
 * or ASIM_CALL_REAPPLIED when the store recognised the write as one it had
 * applied before (keyed on the request id and this cache), and the
 * request's ASIM_CALL_REPEATS_COUNTED goes to the store with it, so that a
 * worker writing through the cache counts its repeat once, and not at all
 * when the store (a database with `idempotency`) did not apply it again.
 * A write without that flag (a service's, behind which a worker may wait)
 * that the store counted as its own duplicate is relayed with
 * ASIM_CALL_DUPLICATE_COUNTED, whatever the answer's status, and so is
 * ASIM_CALL_PASSED_ON (a repeat judged where the backing passed it on).
 *
 * Stale reads: when the backing store is a database (a kind with the model
 * op acked_version), the cache judges each answer it gives without reading
 * the store for that request (a hit, or with coalesce a miss that waited
 * for another miss's fill) by the database's rule: it is stale when its
 * version is older than the newest version the database had acknowledged
 * for the key when the request arrived at the cache, and its staleness is
 * the time from that acknowledgement to the answer. Counted by arrival after
 * warm-up into `stale_reads` and `staleness_ms` and into the run's
 * invariant; a miss that read the store was judged there and is not counted
 * again. Writes sent to the database past the cache leave its entries stale
 * until the ttl or an eviction drops them. `invalidate` leaves a hit between
 * the database's acknowledgement and the drop stale, and a fill that read
 * the old version before the write committed can still land after the drop
 * and put it back (rarer than when the drop came first). `write_through`
 * stores the new version when the acknowledgement comes back, so a hit
 * between the database's acknowledgement and its arrival here is stale
 * too: the database judges its own reads by when it acknowledged, not by
 * when the writer hears. A cache
 * whose backing store is another cache judges its hits against the
 * database at the end of the chain (each cache judges only the answers it
 * gives). One whose chain ends elsewhere (a service, none) judges nothing
 * and reports neither figure. One op call per hit, no per-entry memory.
 *
 * A call to the backing store is given up at its deadline (the request's):
 * the cache abandons it and answers TIMEOUT, to the misses that waited for
 * it too, so that a fill or write lost by the network neither holds its
 * records for ever nor, with coalesce, leaves its key's later misses
 * waiting on a fill that will never land. A crash loses the cache's work
 * under way with its entries: lookups, and calls to the backing store,
 * whose answers are dropped (not stored) when they come back.
 *
 * Expired entries are found lazily, on lookup or when they reach the LRU tail,
 * so the TTL costs no timers. The cache is one logical store (one instance),
 * modelled as an infinite server: hit and miss times delay, they never queue.
 * So it reports `queue_mean` 0, and as `utilization` the mean fill of its
 * capacity (entries_mean over capacity), the bound it can reach.
 *
 * Memory: an entry array and an open-addressing hash table (linear probing,
 * load at most one half, backward-shift deletion), both doubled as the
 * cache fills, up to its capacity (grow); nothing is allocated per request
 * but pooled call records. */
#include <stdlib.h>

#include "archsim/dist.h"
#include "archsim/pool.h"
#include "common.h"
#include "models.h"

#define NIL UINT32_MAX
#define MAX_CAPACITY (INT64_C(1) << 26)
/* Entries allocated at first: the cache doubles them as it fills. */
enum { ROOM_INITIAL = 1024 };

struct entry {
	uint64_t key, version;
	asim_time expires; /* ASIM_TIME_MAX without a ttl */
	uint32_t prev, next; /* LRU list: head is the most recently used */
};

/* A slot of the hash table: the entry's index and its key's hash. With the
 * hash beside the index, a probe passes other keys' slots, and a removal
 * finds where each following slot belongs, without reading their entries:
 * with a large cache those reads are misses, one per slot passed. */
struct hslot {
	uint32_t hash, x;
};

enum { WRITE_INVALIDATE, WRITE_THROUGH };
static const char *const on_write_names[] = {"invalidate", "write_through", NULL};

/* What a call to the backing store is for (struct pending). */
enum { OUT_FILL, OUT_WRITE_INVALIDATE, OUT_WRITE_THROUGH };

/* A call to the backing store on its way: the request it serves, its
 * deadline's timer, and the cache's life (crash epoch) it was sent in. */
struct pending {
	struct asim_call *in, *out;
	struct asim_timer timer;
	uint32_t epoch;
	int what; /* OUT_FILL, OUT_WRITE_INVALIDATE or OUT_WRITE_THROUGH */
};

/* coalesce: a fill on its way to the backing store, and the misses for its
 * key that wait for it (beyond the one whose call it carries). */
struct waiter {
	struct asim_call *call;
	struct waiter *next;
	bool judged;           /* measured, and the backing store can say */
	uint64_t must_see;     /* acknowledged when it arrived, and when */
	asim_time must_see_at;
};
struct flight {
	uint64_t key;
	struct waiter *first, *last;
};

struct cache {
	uint32_t capacity, used;
	/* Entries are allocated as the cache fills, doubling up to capacity: a
	 * cache sized for millions of entries in front of a thousand keys holds
	 * a thousand, and `check` allocates next to nothing. */
	uint32_t room;   /* entries allocated */
	struct entry *e;
	struct hslot *slot; /* hash table of entries, x NIL when empty */
	uint32_t mask;   /* slots - 1 */
	uint32_t head, tail, free_list; /* free entries chained through next */
	asim_time ttl;   /* 0: none */
	int on_write;
	bool has_backing;
	uint32_t backing, backing_instances;
	const struct asim_component *acks; /* the database that judges answers: judging_store */
	struct asim_dist hit_time, miss_time;
	gsl_rng *r_time, *r_route;
	struct inst_fault f;
	/* coalesce: fills in flight by key, an open-addressing table (linear
	 * probing, load at most one half, grown by doubling). */
	bool coalesce;
	struct flight **flights;
	uint32_t flights_mask, nflights;
	struct asim_pool flight_pool, waiter_pool;
	struct asim_pool pendings;
	uint64_t flushed; /* entries dropped by faults, after warm-up */

	/* Measured after warm-up. */
	uint64_t hits, misses, evictions, expirations, fills, writes, backing_errors, coalesced;
	uint64_t stale_reads;
	struct asim_hist staleness;
	struct asim_tw size_tw;
	struct asim_hist latency; /* arrival to ok reply: asim_call_measure() */
};

/* Timers; a lookup's carries the crash epoch it began in (event arg a). */
enum { EV_HIT = EV_MODEL_BASE, EV_MISS, EV_LOCAL_WRITE, EV_BACKING_EXPIRED };

static const char *const cache_keys[] = {
	"kind", "zone", "capacity", "ttl", "hit_time", "miss_time", "backing", "on_write", "coalesce",
	NULL,
};

/* Fibonacci hashing spreads sequential keys (the clients' 0..n-1) over a
 * table; the multiplier is a constant, so placement is deterministic. Both
 * tables (entries, fills in flight) mask it to their size. */
static uint32_t key_hash(uint64_t key)
{
	return (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32);
}

static uint32_t hash_slot(const struct cache *s, uint64_t key)
{
	return key_hash(key) & s->mask;
}

static uint32_t find(const struct cache *s, uint64_t key)
{
	uint32_t h = key_hash(key);
	for (uint32_t i = h & s->mask;; i = (i + 1) & s->mask) {
		struct hslot sl = s->slot[i];
		if (sl.x == NIL || (sl.hash == h && s->e[sl.x].key == key))
			return sl.x;
	}
}

static void hash_insert(struct cache *s, uint32_t x)
{
	uint32_t h = key_hash(s->e[x].key);
	uint32_t i = h & s->mask;
	while (s->slot[i].x != NIL)
		i = (i + 1) & s->mask;
	s->slot[i] = (struct hslot){.hash = h, .x = x};
}

/* Backward-shift deletion keeps linear probing free of tombstones, so
 * lookups never slow down however long the run: when slot i empties, the
 * next occupied slot j moves back into it unless its home slot lies
 * cyclically in (i, j]. Shared by the entries' and the fills' tables. */
static bool shift_stays(uint32_t i, uint32_t j, uint32_t home)
{
	return i <= j ? (i < home && home <= j) : (i < home || home <= j);
}

static void hash_remove(struct cache *s, uint32_t x)
{
	uint32_t i = hash_slot(s, s->e[x].key);
	while (s->slot[i].x != x)
		i = (i + 1) & s->mask;
	uint32_t j = i;
	for (;;) {
		s->slot[i].x = NIL;
		for (;;) {
			j = (j + 1) & s->mask;
			if (s->slot[j].x == NIL)
				return;
			if (!shift_stays(i, j, s->slot[j].hash & s->mask))
				break;
		}
		s->slot[i] = s->slot[j];
		i = j;
	}
}

static void lru_unlink(struct cache *s, uint32_t x)
{
	struct entry *en = &s->e[x];
	if (en->prev != NIL)
		s->e[en->prev].next = en->next;
	else
		s->head = en->next;
	if (en->next != NIL)
		s->e[en->next].prev = en->prev;
	else
		s->tail = en->prev;
}

static void lru_push_front(struct cache *s, uint32_t x)
{
	struct entry *en = &s->e[x];
	en->prev = NIL;
	en->next = s->head;
	if (s->head != NIL)
		s->e[s->head].prev = x;
	s->head = x;
	if (s->tail == NIL)
		s->tail = x;
}

static void drop(struct cache *s, uint32_t x, asim_time now)
{
	hash_remove(s, x);
	lru_unlink(s, x);
	s->e[x].next = s->free_list;
	s->free_list = x;
	s->used--;
	asim_tw_set(&s->size_tw, now, s->used);
}

/* Chains entries [from, to) into the free list, lowest first, ahead of what
 * it holds. */
static void free_range(struct cache *s, uint32_t from, uint32_t to)
{
	for (uint32_t i = to; i > from; i--) {
		s->e[i - 1].next = s->free_list;
		s->free_list = i - 1;
	}
}

/* A hash table of at least twice n slots, empty. */
static bool alloc_slots(struct cache *s, uint32_t n)
{
	uint32_t slots = 2;
	while (slots < 2 * n)
		slots *= 2;
	struct hslot *t = malloc((size_t)slots * sizeof *t);
	if (!t)
		return false;
	for (uint32_t i = 0; i < slots; i++)
		t[i] = (struct hslot){.x = NIL};
	free(s->slot);
	s->slot = t;
	s->mask = slots - 1;
	return true;
}

/* Doubles the entries (up to capacity) when every allocated one is in use,
 * and the hash table with them, rehashing the live entries (O(used), so
 * O(1) amortised per fill). Which entry index a key gets and where it
 * probes change nothing the cache does: the LRU order decides evictions. */
static bool grow(struct cache *s)
{
	uint32_t room = s->room > s->capacity / 2 ? s->capacity : 2 * s->room;
	struct entry *e = realloc(s->e, (size_t)room * sizeof *e);
	if (!e)
		return false;
	s->e = e;
	if (2 * room > s->mask + 1) {
		if (!alloc_slots(s, room))
			return false;
		for (uint32_t x = s->head; x != NIL; x = s->e[x].next)
			hash_insert(s, x);
	}
	free_range(s, s->room, room);
	s->room = room;
	return true;
}

/* Stores version for key as the most recently used entry, evicting the
 * least recently used one when full. An entry already holding a newer
 * version is kept: a slow fill must not overwrite a fresher write-through. */
static void store(struct asim_component *c, struct cache *s, uint64_t key, uint64_t version)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	bool measuring = asim_measuring_at(k, now);
	asim_time expires = ASIM_TIME_MAX;
	if (s->ttl && !asim_time_add(now, s->ttl, &expires))
		expires = ASIM_TIME_MAX;
	uint32_t x = find(s, key);
	if (x != NIL) {
		if (s->e[x].version > version && s->e[x].expires > now)
			return;
		s->e[x].version = version;
		s->e[x].expires = expires;
		lru_unlink(s, x);
		lru_push_front(s, x);
		return;
	}
	if (s->free_list == NIL && s->used < s->capacity && !grow(s)) {
		asim_kernel_stop(k);
		return;
	}
	if (s->used == s->capacity) {
		uint32_t victim = s->tail;
		/* An entry that had already expired is not a victim of capacity. */
		if (measuring) {
			if (s->e[victim].expires <= now)
				s->expirations++;
			else
				s->evictions++;
		}
		drop(s, victim, now);
	}
	x = s->free_list;
	s->free_list = s->e[x].next;
	s->e[x] = (struct entry){.key = key, .version = version, .expires = expires};
	hash_insert(s, x);
	lru_push_front(s, x);
	s->used++;
	asim_tw_set(&s->size_tw, now, s->used);
	if (measuring)
		s->fills++;
}

static bool configure(struct asim_component *c, const struct asim_cfg *map, struct asim_diag *d)
{
	struct cache *s = c->state;
	asim_call_measure(c, &s->latency);
	asim_hist_init(&s->staleness);
	if (!asim_cfg_expect_map(map, c->name, cache_keys, d))
		return false;
	int64_t cap = 0;
	s->ttl = 0;
	s->on_write = WRITE_INVALIDATE;
	asim_dist_constant(&s->hit_time, 0);
	asim_dist_constant(&s->miss_time, 0);
	bool ok = model_instances(c, map, 1, d);
	ok &= asim_cfg_int(map, "capacity", ASIM_REQUIRED, 1, MAX_CAPACITY, &cap, d);
	ok &= asim_cfg_time(map, "ttl", ASIM_OPTIONAL, ASIM_NS, 366 * 24 * ASIM_HOUR, &s->ttl, d);
	bool hit_ok = asim_cfg_dist(map, "hit_time", ASIM_OPTIONAL, &s->hit_time, d);
	ok &= hit_ok;
	/* A miss is a lookup that failed: without a miss_time of its own it
	 * costs what a hit does, before the trip to the backing store (read
	 * from hit_time again, into a distribution of its own; a bad hit_time
	 * is reported once). */
	if (asim_cfg_get(map, "miss_time"))
		ok &= asim_cfg_dist(map, "miss_time", ASIM_OPTIONAL, &s->miss_time, d);
	else if (hit_ok)
		ok &= asim_cfg_dist(map, "hit_time", ASIM_OPTIONAL, &s->miss_time, d);
	ok &= asim_cfg_choice(map, "on_write", ASIM_OPTIONAL, on_write_names, &s->on_write, d);
	ok &= asim_cfg_bool(map, "coalesce", ASIM_OPTIONAL, &s->coalesce, d);
	if (asim_cfg_get(map, "backing")) {
		struct asim_component *b = model_target(c, map, "backing", d);
		if (b) {
			s->has_backing = true;
			s->backing = b->id;
		} else {
			ok = false;
		}
	}
	if (ok && s->coalesce && !s->has_backing) {
		asim_diag_error(d, asim_cfg_get(map, "coalesce")->mark,
		                "'coalesce' applies only to a cache with a 'backing' store in '%s'",
		                c->name);
		ok = false;
	}
	if (!ok)
		return false;
	s->capacity = (uint32_t)cap;
	s->room = s->capacity < ROOM_INITIAL ? s->capacity : ROOM_INITIAL;
	s->e = malloc((size_t)s->room * sizeof *s->e);
	if (!s->e || !alloc_slots(s, s->room)) {
		asim_diag_error(d, map->mark, "out of memory for the %u entries of '%s'", s->room,
		                c->name);
		return false;
	}
	s->free_list = NIL;
	free_range(s, 0, s->room);
	s->head = s->tail = NIL;
	s->r_time = asim_kernel_rng(c->kernel, c->name, "time");
	s->r_route = asim_kernel_rng(c->kernel, c->name, "route");
	asim_kernel_pool_init(c->kernel, &s->pendings, sizeof(struct pending), 256);
	if (s->coalesce) {
		s->flights = calloc(16, sizeof *s->flights);
		if (!s->flights) {
			asim_diag_error(d, map->mark, "out of memory for '%s'", c->name);
			return false;
		}
		s->flights_mask = 15;
		asim_kernel_pool_init(c->kernel, &s->flight_pool, sizeof(struct flight), 256);
		asim_kernel_pool_init(c->kernel, &s->waiter_pool, sizeof(struct waiter), 256);
	}
	return true;
}

/* The table of fills in flight: the same hashing and backward-shift
 * deletion as the entries' table, over flight pointers. */
static uint32_t flight_home(const struct cache *s, uint64_t key)
{
	return key_hash(key) & s->flights_mask;
}

static struct flight *flight_find(const struct cache *s, uint64_t key)
{
	for (uint32_t i = flight_home(s, key);; i = (i + 1) & s->flights_mask) {
		struct flight *f = s->flights[i];
		if (!f || f->key == key)
			return f;
	}
}

static void flight_put(struct cache *s, struct flight *f)
{
	uint32_t i = flight_home(s, f->key);
	while (s->flights[i])
		i = (i + 1) & s->flights_mask;
	s->flights[i] = f;
}

/* Doubles the table; false when out of memory (the table is unchanged). */
static bool flights_grow(struct cache *s)
{
	struct flight **old = s->flights;
	uint32_t n = s->flights_mask + 1;
	struct flight **t = calloc((size_t)2 * n, sizeof *t);
	if (!t)
		return false;
	s->flights = t;
	s->flights_mask = 2 * n - 1;
	for (uint32_t i = 0; i < n; i++)
		if (old[i])
			flight_put(s, old[i]);
	free(old);
	return true;
}

static void flight_remove(struct cache *s, const struct flight *f)
{
	uint32_t i = flight_home(s, f->key);
	while (s->flights[i] != f)
		i = (i + 1) & s->flights_mask;
	uint32_t j = i;
	for (;;) {
		s->flights[i] = NULL;
		for (;;) {
			j = (j + 1) & s->flights_mask;
			if (!s->flights[j])
				return;
			if (!shift_stays(i, j, flight_home(s, s->flights[j]->key)))
				break;
		}
		s->flights[i] = s->flights[j];
		i = j;
	}
}

/* The store whose acknowledgements judge this cache's answers: the backing
 * store when it keeps them (a database), or, behind a chain of caches, the
 * one at its end. An answer an inner cache gives is judged there; the outer
 * one judges only its own hits, against the same database, so each answer
 * is judged once. NULL when the chain ends elsewhere (a service, nothing).
 * The depth bound only guards against a cycle, which the loader refuses. */
static const struct asim_component *judging_store(struct asim_kernel *k, const struct cache *s)
{
	for (int depth = 0; s->has_backing && depth < 1024; depth++) {
		const struct asim_component *b = asim_kernel_component(k, s->backing);
		if (b->ops != &asim_cache_ops)
			return b->ops->acked_version ? b : NULL;
		s = b->state;
	}
	return NULL;
}

static void start(struct asim_component *c)
{
	struct cache *s = c->state;
	if (s->has_backing) {
		const struct asim_component *b = asim_kernel_component(c->kernel, s->backing);
		s->backing_instances = b->instances;
		s->acks = judging_store(c->kernel, s);
	}
	asim_tw_init(&s->size_tw, 0, 0);
}

static void backing_expired(struct asim_component *c, struct cache *s, struct pending *p);

/* Sends in's read (a fill) or write on to the backing store, to be given up
 * at in's deadline. */
static void to_backing(struct asim_component *c, struct cache *s, struct asim_call *in, int what)
{
	struct asim_kernel *k = c->kernel;
	struct pending *p = asim_pool_take(&s->pendings);
	if (!p) {
		asim_kernel_stop(k);
		return;
	}
	*p = (struct pending){.in = in, .epoch = s->f.epoch, .what = what};
	if (in->deadline <= asim_now(k)) {
		/* As a service's call, one whose deadline has passed is not sent. */
		backing_expired(c, s, p);
		return;
	}
	struct asim_call *out = asim_call_new(k);
	if (!out) {
		asim_pool_put(&s->pendings, p);
		return; /* out of memory: the kernel stops the run */
	}
	out->op = what == OUT_FILL ? ASIM_OP_READ : in->op;
	out->key = in->key;
	out->request = in->request;
	asim_call_forward_flags(out, in);
	out->session = in->session;
	out->origin = in->origin;
	out->attempt = in->attempt;
	out->deadline = in->deadline;
	out->version = in->version;
	out->token = (uint64_t)(uintptr_t)p;
	p->out = out;
	uint16_t inst = 0;
	if (s->backing_instances > 1)
		inst = (uint16_t)gsl_rng_uniform_int(s->r_route, s->backing_instances);
	asim_call_send(k, out, c->id, 0, s->backing, inst);
	if (out->deadline != ASIM_TIME_MAX)
		p->timer = asim_schedule_at(k, out->deadline, c->id, EV_BACKING_EXPIRED, 0, 0, p);
}

/* What the backing store had acknowledged for key at this instant, into
 * w's must_see; w->judged tells whether it could say. */
static void must_see(const struct cache *s, uint64_t key, struct waiter *w)
{
	w->judged = s->acks && s->acks->ops->acked_version(s->acks, key, &w->must_see,
	                                                    &w->must_see_at);
}

/* An answer of version given at `answered` without reading the store, to a
 * measured request that had to see w's version. */
static void judge(struct asim_component *c, struct cache *s, const struct waiter *w,
                  uint64_t version, asim_time answered)
{
	if (!w->judged || version >= w->must_see)
		return;
	s->stale_reads++;
	asim_kernel_outcome(c->kernel)->stale_reads++;
	asim_hist_record(&s->staleness, answered - w->must_see_at);
}

static void reply_after(struct asim_component *c, struct cache *s, struct asim_call *call,
                        asim_time delay, int type)
{
	if (delay == 0 && type == EV_HIT)
		asim_call_reply(c->kernel, call, ASIM_OK);
	else
		asim_schedule(c->kernel, delay, c->id, (uint16_t)type, 0, s->f.epoch, call);
}

static void request(struct asim_component *c, struct cache *s, struct asim_call *in)
{
	struct asim_kernel *k = c->kernel;
	asim_time now = asim_now(k);
	bool measuring = asim_measuring_at(k, now);
	if (s->f.down) {
		if (s->f.gone)
			asim_call_drop(k, in);
		else
			asim_call_reply(k, in, ASIM_UNREACHABLE);
		return;
	}
	uint32_t x = find(s, in->key);
	if (x != NIL && s->e[x].expires <= now) {
		if (measuring)
			s->expirations++;
		drop(s, x, now);
		x = NIL;
	}
	if (in->op == ASIM_OP_WRITE) {
		if (measuring)
			s->writes++;
		if (s->has_backing) {
			to_backing(c, s, in, s->on_write == WRITE_THROUGH ? OUT_WRITE_THROUGH
			                                                  : OUT_WRITE_INVALIDATE);
			return;
		}
		if (s->on_write == WRITE_INVALIDATE && x != NIL)
			drop(s, x, now);
		reply_after(c, s, in, asim_dist_sample(&s->hit_time, s->r_time), EV_LOCAL_WRITE);
		return;
	}
	if (x != NIL) {
		if (measuring)
			s->hits++;
		lru_unlink(s, x);
		lru_push_front(s, x);
		in->version = s->e[x].version;
		asim_time delay = asim_dist_sample(&s->hit_time, s->r_time);
		if (measuring && s->acks) {
			struct waiter w = {0};
			must_see(s, in->key, &w);
			judge(c, s, &w, in->version, now + delay);
		}
		reply_after(c, s, in, delay, EV_HIT);
		return;
	}
	if (measuring)
		s->misses++;
	void *p = in;
	if (s->coalesce) {
		/* A coalescing cache's miss travels as a waiter from its arrival:
		 * if it ends up waiting for another's fill, it is judged against
		 * what was acknowledged when it arrived. */
		struct waiter *w = asim_pool_take(&s->waiter_pool);
		if (!w) {
			asim_kernel_stop(k);
			return;
		}
		*w = (struct waiter){.call = in};
		if (measuring)
			must_see(s, in->key, w);
		p = w;
	}
	asim_schedule(k, asim_dist_sample(&s->miss_time, s->r_time), c->id, EV_MISS, 0, s->f.epoch,
	              p);
}

/* coalesce: a miss (w, taken at its arrival) joins the fill of its key on
 * its way, or starts one. */
static void fill_coalesced(struct asim_component *c, struct cache *s, struct waiter *w)
{
	struct asim_kernel *k = c->kernel;
	struct asim_call *in = w->call;
	struct flight *f = flight_find(s, in->key);
	if (f) {
		if (f->last)
			f->last->next = w;
		else
			f->first = w;
		f->last = w;
		if (asim_measuring_at(k, asim_now(k)))
			s->coalesced++;
		return;
	}
	if (2 * (s->nflights + 1) > s->flights_mask + 1 && !flights_grow(s)) {
		asim_kernel_stop(k);
		return;
	}
	f = asim_pool_take(&s->flight_pool);
	if (!f) {
		asim_kernel_stop(k);
		return;
	}
	asim_pool_put(&s->waiter_pool, w);
	*f = (struct flight){.key = in->key};
	flight_put(s, f);
	s->nflights++;
	to_backing(c, s, in, OUT_FILL);
}

/* coalesce: the fill of key came back; the misses that waited for it get
 * its answer, in the order they came. */
static void land_flight(struct asim_component *c, struct cache *s, uint64_t key,
                        enum asim_status st, uint64_t version)
{
	struct asim_kernel *k = c->kernel;
	struct flight *f = flight_find(s, key);
	if (!f)
		return;
	flight_remove(s, f);
	s->nflights--;
	for (struct waiter *w = f->first, *next; w; w = next) {
		next = w->next;
		w->call->version = version;
		if (st == ASIM_OK)
			judge(c, s, w, version, asim_now(k));
		asim_call_reply(k, w->call, st);
		asim_pool_put(&s->waiter_pool, w);
	}
	asim_pool_put(&s->flight_pool, f);
}

/* on_write: invalidate drops key's entry once the write has been answered,
 * as cache-aside deletes after writing the store: dropping it first let a
 * read in between miss, read the old version and fill it back for a whole
 * ttl. It drops on any answer, a timeout included: the write may have
 * committed all the same. */
static void invalidate(struct cache *s, uint64_t key, asim_time now)
{
	uint32_t x = find(s, key);
	if (x != NIL)
		drop(s, x, now);
}

/* Call p to the backing store ended with st (and version): its request is
 * answered, and with coalesce the misses that waited for its fill; unless
 * the cache crashed since it was sent: then it is lost with the crash, and
 * its answer fills nothing. */
static void settle(struct asim_component *c, struct cache *s, struct pending *p,
                   enum asim_status st, uint64_t version)
{
	struct asim_kernel *k = c->kernel;
	struct asim_call *in = p->in;
	bool lost = p->epoch != s->f.epoch, fill = p->what == OUT_FILL;
	if (!lost && st == ASIM_OK && p->what != OUT_WRITE_INVALIDATE)
		store(c, s, in->key, version);
	if (!lost && p->what == OUT_WRITE_INVALIDATE)
		invalidate(s, in->key, asim_now(k));
	asim_pool_put(&s->pendings, p);
	if (lost) {
		asim_call_drop(k, in);
		return;
	}
	if (st != ASIM_OK && asim_measuring_at(k, asim_now(k)))
		s->backing_errors++;
	in->version = version;
	uint64_t key = in->key;
	asim_call_reply(k, in, st);
	if (fill && s->coalesce)
		land_flight(c, s, key, st, version);
}

static void backing_answered(struct asim_component *c, struct cache *s, struct asim_call *out)
{
	struct asim_kernel *k = c->kernel;
	struct pending *p = (struct pending *)(uintptr_t)out->token;
	asim_cancel(k, p->timer);
	enum asim_status st = out->status;
	uint64_t version = out->version;
	/* A write forwarded to the store is the caller's write: its caller
	 * (a worker) hears when the store did not apply it again. */
	if (p->what != OUT_FILL)
		asim_call_relay_repeat(p->in, out);
	asim_call_free(k, out);
	settle(c, s, p, st, version);
}

/* The deadline of call p passed before the backing store answered (or
 * before it was sent): the cache stops waiting, as its caller has. */
static void backing_expired(struct asim_component *c, struct cache *s, struct pending *p)
{
	if (p->out)
		asim_call_abandon(c->kernel, p->out);
	settle(c, s, p, ASIM_TIMEOUT, p->in->version);
}

/* Whether a lookup timer set in crash epoch `epoch` belongs to a life of
 * the cache that a crash has ended; its request is then dropped. */
static bool lost_in_crash(struct asim_component *c, const struct cache *s, uint64_t epoch,
                          struct asim_call *call)
{
	if (epoch == s->f.epoch)
		return false;
	asim_call_drop(c->kernel, call);
	return true;
}

static void handle(struct asim_component *c, const struct asim_event *ev)
{
	struct cache *s = c->state;
	struct asim_kernel *k = c->kernel;
	switch (ev->type) {
	case ASIM_EV_REQUEST:
		request(c, s, ev->p);
		break;
	case ASIM_EV_RESPONSE:
		backing_answered(c, s, ev->p);
		break;
	case EV_HIT:
		if (!lost_in_crash(c, s, ev->a, ev->p))
			asim_call_reply(k, ev->p, ASIM_OK);
		break;
	case EV_BACKING_EXPIRED:
		backing_expired(c, s, ev->p);
		break;
	case EV_MISS: {
		struct asim_call *in = ev->p;
		if (s->coalesce) {
			struct waiter *w = ev->p;
			if (lost_in_crash(c, s, ev->a, w->call))
				asim_pool_put(&s->waiter_pool, w);
			else
				fill_coalesced(c, s, w);
		} else if (lost_in_crash(c, s, ev->a, in)) {
			break;
		} else if (s->has_backing) {
			to_backing(c, s, in, OUT_FILL);
		} else {
			store(c, s, in->key, in->version);
			asim_call_reply(k, in, ASIM_OK);
		}
		break;
	}
	case EV_LOCAL_WRITE: {
		struct asim_call *in = ev->p;
		if (lost_in_crash(c, s, ev->a, in))
			break;
		if (s->on_write == WRITE_THROUGH)
			store(c, s, in->key, in->version);
		asim_call_reply(k, in, ASIM_OK);
		break;
	}
	}
}

static void warmup_end(struct asim_component *c)
{
	struct cache *s = c->state;
	asim_tw_reset(&s->size_tw, asim_now(c->kernel));
}

static void report(const struct asim_component *c, struct asim_results *r)
{
	const struct cache *s = c->state;
	const char *n = c->name;
	uint64_t lookups = s->hits + s->misses;
	asim_results_string(r, "cache", "components.%s.kind", n);
	asim_results_count(r, s->capacity, "components.%s.capacity", n);
	asim_results_real(r, lookups ? (double)s->hits / (double)lookups : 0.0,
	                  "components.%s.hit_ratio", n);
	asim_results_count(r, s->hits, "components.%s.hits", n);
	asim_results_count(r, s->misses, "components.%s.misses", n);
	asim_results_count(r, s->evictions, "components.%s.evictions", n);
	asim_results_count(r, s->expirations, "components.%s.expirations", n);
	asim_results_count(r, s->fills, "components.%s.fills", n);
	asim_results_count(r, s->writes, "components.%s.writes", n);
	asim_results_count(r, s->backing_errors, "components.%s.backing_errors", n);
	if (s->coalesce)
		asim_results_count(r, s->coalesced, "components.%s.coalesced", n);
	if (s->flushed)
		asim_results_count(r, s->flushed, "components.%s.flushed", n);
	if (s->acks) {
		asim_results_count(r, s->stale_reads, "components.%s.stale_reads", n);
		asim_hist_report(r, &s->staleness, "components.%s.staleness_ms", n);
	}
	asim_results_real(r, asim_tw_mean(&s->size_tw, asim_now(c->kernel)),
	                  "components.%s.entries_mean", n);
	asim_results_real(r, s->capacity ? asim_tw_mean(&s->size_tw, asim_now(c->kernel)) /
	                                       (double)s->capacity : 0.0,
	                  "components.%s.utilization", n);
	asim_results_real(r, 0.0, "components.%s.queue_mean", n);
	asim_hist_report(r, &s->latency, "components.%s.latency_ms", c->name);
}

static size_t edges(const struct asim_component *c, uint32_t *to, size_t max)
{
	const struct cache *s = c->state;
	if (!s->has_backing)
		return 0;
	if (max > 0)
		to[0] = s->backing;
	return 1;
}

static void destroy(struct asim_component *c)
{
	struct cache *s = c->state;
	free(s->e);
	free(s->slot);
	free(s->flights);
	asim_pool_finish(&s->flight_pool);
	asim_pool_finish(&s->waiter_pool);
	asim_pool_finish(&s->pendings);
	asim_dist_finish(&s->hit_time);
	asim_dist_finish(&s->miss_time);
}

/* Drops every entry (O(entries allocated), at the fault only). */
static void flush(struct asim_component *c, struct cache *s)
{
	asim_time now = asim_now(c->kernel);
	if (asim_measuring_at(c->kernel, now))
		s->flushed += s->used;
	for (uint32_t i = 0; i <= s->mask; i++)
		s->slot[i].x = NIL;
	s->free_list = NIL;
	free_range(s, 0, s->room);
	s->head = s->tail = NIL;
	s->used = 0;
	asim_tw_set(&s->size_tw, now, 0);
}

/* coalesce, at a crash: the fills in flight are lost with the process, and
 * the misses that waited for them with it (their callers time out); the
 * fills' own answers are dropped when they come (settle). */
static void forget_flights(struct asim_component *c, struct cache *s)
{
	for (uint32_t i = 0; s->flights && i <= s->flights_mask; i++) {
		struct flight *f = s->flights[i];
		if (!f)
			continue;
		for (struct waiter *w = f->first, *next; w; w = next) {
			next = w->next;
			asim_call_drop(c->kernel, w->call);
			asim_pool_put(&s->waiter_pool, w);
		}
		asim_pool_put(&s->flight_pool, f);
		s->flights[i] = NULL;
	}
	s->nflights = 0;
}

/* Faults: cache_flush empties the cache at its start (fills on their way
 * still land); a crash empties it too (it restarts cold), loses the work
 * under way and refuses requests until the restart (drops them under a
 * zone loss). */
static void fault(struct asim_component *c, const struct asim_fault *f, bool active)
{
	struct cache *s = c->state;
	if (f->kind == ASIM_FAULT_CACHE_FLUSH) {
		if (active)
			flush(c, s);
		return;
	}
	if (asim_fault_hits(f, 0) &&
	    inst_fault_apply(&s->f, f, active, asim_now(c->kernel)) == EDGE_DOWN) {
		flush(c, s);
		forget_flights(c, s);
	}
}

/* The time series: a cache over a database adds its stale reads so far, a
 * column beside the databases' own (the replication plot draws them all). */
static void sample(const struct asim_component *c, struct asim_results *r)
{
	const struct cache *s = c->state;
	if (s->acks)
		asim_results_real(r, (double)s->stale_reads, "%s.stale_reads", c->name);
}

const struct asim_model_ops asim_cache_ops = {
	.kind = "cache",
	.summary = "LRU cache with ttl, read-through to a backing store, invalidate or write-through",
	.state_size = sizeof(struct cache),
	.configure = configure,
	.start = start,
	.handle = handle,
	.warmup_end = warmup_end,
	.report = report,
	.sample = sample,
	.edges = edges,
	.judges_read = model_relay_judges_read,
	.destroy = destroy,
	.faults = ASIM_FAULT_BIT(ASIM_FAULT_CRASH) | ASIM_FAULT_BIT(ASIM_FAULT_ZONE_LOSS) |
	          ASIM_FAULT_BIT(ASIM_FAULT_CACHE_FLUSH),
	.fault = fault,
};
