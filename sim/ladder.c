/* A ladder queue (Tang, Goh and Thng, ACM TOMACS 2005) of (time, seq, slot)
 * entries, laid out in arrays rather than linked lists.
 *
 * Three tiers hold entries in increasing time:
 * - the bottom: a short sorted array; the minimum is at its head;
 * - rungs: each a row of buckets of equal, power-of-two width, unsorted
 *   inside. Rung r+1 spreads out the one bucket of rung r that was opened
 *   last, so deeper rungs are finer. Buckets before a rung's cursor have been
 *   opened; an entry at or after the cursor's time goes into its bucket;
 * - the top: an unsorted array of everything at or after top_start.
 * When the bottom runs dry, the next bucket of the deepest rung is opened:
 * sorted into the bottom when it holds few entries, spread over a new rung
 * when it holds many; when no rung is left, the top becomes rung 0. Every
 * entry is thus moved a small number of times and sorted only in small
 * groups: O(1) amortised per operation, whatever the number of entries.
 *
 * Blocks instead of the paper's linked lists of entries: a bucket is a chain
 * of blocks of BLK entries (two cache lines) from one recycled array, so it
 * is read and written a block at a time, where a list of entries costs a
 * dependent cache miss per entry once the queue no longer fits in the
 * cache, and nothing is allocated once the ladder has reached its size.
 * Power-of-two widths make the bucket of a time a subtraction and a shift.
 *
 * Exact order, ties included: which tier and bucket an entry goes to depends
 * only on its time, so entries of equal time always share a container, and
 * the bottom is sorted by the full (time, seq) key. */
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

enum {
	MAX_RUNGS = 8,
	/* A bucket of up to this many entries is sorted straight into the
	 * bottom; a larger one gets a rung of its own. */
	THRES = 48,
	/* A new rung gets about one bucket per OCC entries, so that an opened
	 * bucket is a handful of entries sorted by insertion. */
	OCC = 4,
	/* But no more than this many: spreading entries writes to the tail
	 * block of every bucket at once, and 8192 tails (1 MB) with their
	 * buckets (64 KB) stay in a 2 MB L2 cache, where a spread over more
	 * misses it on nearly every entry. Buckets that end up with more
	 * than THRES entries are spread again when opened, from the cache.
	 * Under cachegrind (a 2 MB last-level cache, bench/README.md "Seventh
	 * round") this took a quarter of the misses off a hold at a million
	 * Pareto-distributed entries, and none from exponential ones. */
	MAX_BUCKETS = 1 << 13,
	/* Entries per block: with its link, two cache lines. */
	BLK = 5,
	/* A bottom that grows past this (inserts into the current bucket's
	 * time range) is spread over a new rung rather than kept sorted. */
	BOTTOM_SPILL = 256,
};

struct vec {
	struct asim_evq_entry *v;
	uint32_t n, cap;
};

#define NO_BLOCK UINT32_MAX

struct block {
	struct asim_evq_entry e[BLK];
	uint32_t next; /* the next block of the bucket, or of the free list */
};

/* A bucket: a chain of blocks linked from the newest (the tail, the only
 * one not full) back to the oldest. Linking backwards keeps a bucket to 8
 * bytes, where a head pointer would double it, and starts a block without
 * a store into the old tail, which may be out of the cache by then. The
 * order in which a bucket's entries come out does not matter: they are
 * sorted, or spread again, by their full key. */
struct bucket {
	uint32_t tail, n;
};

struct rung {
	asim_time start;  /* time of bucket 0 */
	asim_time bound;  /* start of bucket cur: entries from here go into this rung */
	unsigned shift;   /* bucket width is 1 << shift */
	uint32_t nb, cur; /* buckets in use; next bucket to open */
	struct bucket *b; /* cap_b buckets, those not in use are empty */
	uint32_t cap_b;
};

struct asim_ladder {
	size_t size;
	struct vec bottom; /* sorted ascending from index head */
	uint32_t head;
	uint32_t bottom_spill;
	unsigned nrungs;
	struct rung rung[MAX_RUNGS];
	struct vec top;
	asim_time top_start, top_min, top_max;
	struct block *blocks; /* nblocks, in buckets or on the free list */
	uint32_t nblocks, free_block, nfree;
};

static bool vec_grow(struct vec *x, uint64_t n)
{
	uint64_t cap = x->cap ? x->cap : 4;
	while (cap < n)
		cap *= 2;
	if (cap > UINT32_MAX || cap > SIZE_MAX / sizeof(*x->v))
		return false;
	struct asim_evq_entry *v = realloc(x->v, (size_t)cap * sizeof(*v));
	if (!v)
		return false;
	x->v = v;
	x->cap = (uint32_t)cap;
	return true;
}

static inline bool vec_push(struct vec *x, const struct asim_evq_entry *e)
{
	if (x->n == x->cap && !vec_grow(x, (uint64_t)x->n + 1))
		return false;
	x->v[x->n++] = *e;
	return true;
}

/* start + d, or ASIM_TIME_MAX when that does not fit. */
static inline asim_time sat_add(asim_time start, uint64_t d)
{
	return d > (uint64_t)(ASIM_TIME_MAX - start) ? ASIM_TIME_MAX : start + (asim_time)d;
}

static void reset_top(struct asim_ladder *l)
{
	l->top.n = 0;
	l->top_min = ASIM_TIME_MAX;
	l->top_max = 0;
}

struct asim_ladder *asim_ladder_create(void)
{
	struct asim_ladder *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->bottom_spill = BOTTOM_SPILL;
	l->free_block = NO_BLOCK;
	reset_top(l);
	return l;
}

void asim_ladder_destroy(struct asim_ladder *l)
{
	if (!l)
		return;
	free(l->bottom.v);
	free(l->top.v);
	free(l->blocks);
	for (unsigned r = 0; r < MAX_RUNGS; r++)
		free(l->rung[r].b);
	free(l);
}

size_t asim_ladder_size(const struct asim_ladder *l)
{
	return l->size;
}

size_t asim_ladder_bytes(const struct asim_ladder *l)
{
	size_t cap = (size_t)l->bottom.cap + l->top.cap;
	size_t bytes = sizeof(*l) + (size_t)l->nblocks * sizeof(struct block);
	for (unsigned r = 0; r < MAX_RUNGS; r++)
		bytes += l->rung[r].cap_b * sizeof(struct bucket);
	return bytes + cap * sizeof(struct asim_evq_entry);
}

static int cmp_entry(const void *pa, const void *pb)
{
	asim_evq_key a = asim_evq_key_of(pa), b = asim_evq_key_of(pb);
	return (a > b) - (a < b);
}

static void sort_entries(struct asim_evq_entry *v, uint32_t n)
{
	if (n > 32) {
		qsort(v, n, sizeof(*v), cmp_entry);
		return;
	}
	for (uint32_t i = 1; i < n; i++) {
		struct asim_evq_entry e = v[i];
		uint32_t j = i;
		for (; j > 0 && asim_evq_before(&e, &v[j - 1]); j--)
			v[j] = v[j - 1];
		v[j] = e;
	}
}

/* The m entries just put at the start of the empty bottom become its
 * sorted contents; it may grow to twice that before it is spilled. */
static void settle_bottom(struct asim_ladder *l, uint32_t m)
{
	l->bottom.n = m;
	l->head = 0;
	sort_entries(l->bottom.v, m);
	l->bottom_spill = m > BOTTOM_SPILL / 2 ? 2 * m : BOTTOM_SPILL;
}

/* The bottom is empty: it becomes the m entries of src, sorted. */
static bool load_bottom(struct asim_ladder *l, const struct asim_evq_entry *src, uint32_t m)
{
	struct vec *b = &l->bottom;
	if (m > b->cap && !vec_grow(b, m))
		return false;
	memcpy(b->v, src, (size_t)m * sizeof(*src));
	settle_bottom(l, m);
	return true;
}

/* Makes sure that n blocks are free, so that filling buckets cannot fail. */
static bool reserve_blocks(struct asim_ladder *l, uint64_t n)
{
	if (l->nfree >= n)
		return true;
	uint64_t cap = l->nblocks ? l->nblocks : 256;
	while (cap - l->nblocks + l->nfree < n)
		cap *= 2;
	if (cap >= NO_BLOCK || cap > SIZE_MAX / sizeof(struct block))
		return false;
	struct block *b = realloc(l->blocks, (size_t)cap * sizeof(*b));
	if (!b)
		return false;
	for (uint32_t i = (uint32_t)cap; i-- > l->nblocks;) {
		b[i].next = l->free_block;
		l->free_block = i;
	}
	l->nfree += (uint32_t)cap - l->nblocks;
	l->blocks = b;
	l->nblocks = (uint32_t)cap;
	return true;
}

/* Appends e to bucket k; a free block must be at hand (reserve_blocks). */
static inline void bucket_add(struct asim_ladder *l, struct bucket *k,
                              const struct asim_evq_entry *e)
{
	uint32_t at = k->n % BLK;
	if (at == 0) {
		uint32_t nb = l->free_block;
		l->free_block = l->blocks[nb].next;
		l->nfree--;
		l->blocks[nb].next = k->n ? k->tail : NO_BLOCK;
		k->tail = nb;
	}
	l->blocks[k->tail].e[at] = *e;
	k->n++;
}

/* Takes block b, the next of a chain being emptied: copies its c entries to
 * out, frees it, and returns the block after it. more: blocks follow. */
static inline uint32_t take_block(struct asim_ladder *l, uint32_t b, uint32_t c, bool more,
                                  struct asim_evq_entry *out)
{
	struct block *blk = &l->blocks[b];
	uint32_t next = blk->next;
	if (more) {
		/* The chain is followed one block at a time: ask for the next
		 * before copying this one, so the two misses overlap. */
		__builtin_prefetch(&l->blocks[next]);
		__builtin_prefetch((const char *)&l->blocks[next] + 64);
	}
	/* A plain loop: memcpy of a few entries becomes a rep movs here,
	 * which costs more to start than the copy itself. */
	for (uint32_t j = 0; j < c; j++)
		out[j] = blk->e[j];
	blk->next = l->free_block;
	l->free_block = b;
	l->nfree++;
	return next;
}

/* The tail of a bucket of n > 0 entries holds what is left over the full
 * blocks behind it. */
static inline uint32_t tail_count(uint32_t n)
{
	return (n - 1) % BLK + 1;
}

/* Copies the entries of bucket k to out, frees its blocks, empties it. */
static void bucket_take(struct asim_ladder *l, struct bucket *k, struct asim_evq_entry *out)
{
	uint32_t left = k->n, b = k->tail;
	for (uint32_t c = left ? tail_count(left) : 0; left; c = BLK) {
		b = take_block(l, b, c, left > c, out);
		out += c;
		left -= c;
	}
	k->n = 0;
}

/* Sets up a new deepest rung over [start, start + span) for m entries (the
 * caller checked that one is free, that m > THRES and that span > 1), with
 * the blocks to hold them, without counting it in yet. Returns false when
 * out of memory, with nothing changed that matters. */
static bool prepare_rung(struct asim_ladder *l, uint32_t m, asim_time start, uint64_t span)
{
	uint32_t nb = 2;
	while (nb < m / OCC && nb < MAX_BUCKETS)
		nb *= 2;
	unsigned shift = 0;
	while (((span - 1) >> shift) >= nb)
		shift++;
	uint32_t used = (uint32_t)((span - 1) >> shift) + 1;
	struct rung *g = &l->rung[l->nrungs];
	if (used > g->cap_b) {
		struct bucket *b = realloc(g->b, (size_t)used * sizeof(*b));
		if (!b)
			return false;
		memset(b + g->cap_b, 0, (size_t)(used - g->cap_b) * sizeof(*b));
		g->b = b;
		g->cap_b = used;
	}
	/* Each bucket needs one block per BLK entries, rounded up. */
	if (!reserve_blocks(l, (uint64_t)m / BLK + (m < used ? m : used)))
		return false;
	g->start = start;
	g->bound = start;
	g->shift = shift;
	g->nb = used;
	g->cur = 0;
	return true;
}

static inline void rung_add(struct asim_ladder *l, struct rung *g, const struct asim_evq_entry *e)
{
	bucket_add(l, &g->b[(uint64_t)(e->time - g->start) >> g->shift], e);
}

/* Spreads the m entries of src, all in [start, start + span), over a new
 * deepest rung (see prepare_rung). src is left as it was; on failure
 * nothing changed. */
static bool make_rung(struct asim_ladder *l, const struct asim_evq_entry *src, uint32_t m,
                      asim_time start, uint64_t span)
{
	if (!prepare_rung(l, m, start, span))
		return false;
	struct rung *g = &l->rung[l->nrungs];
	for (uint32_t i = 0; i < m; i++)
		rung_add(l, g, &src[i]);
	l->nrungs++;
	return true;
}

/* Empties bucket k straight into the rung prepared after the deepest one,
 * a block at a time, and counts that rung in. Each block freed is the
 * first one the rung takes next, so the blocks written are the ones just
 * read, still in the cache, and no copy of the whole bucket is made. */
static void spread_bucket(struct asim_ladder *l, struct bucket *k)
{
	struct rung *g = &l->rung[l->nrungs];
	struct asim_evq_entry e[BLK];
	uint32_t left = k->n, b = k->tail;
	for (uint32_t c = tail_count(left); left; c = BLK) {
		b = take_block(l, b, c, left > c, e);
		left -= c;
		for (uint32_t j = 0; j < c; j++)
			rung_add(l, g, &e[j]);
	}
	k->n = 0;
	l->nrungs++;
}

/* Puts the m entries of src, all in [start, start + span), into the empty
 * bottom (few of them, all at one instant, or no rung left), or spreads them
 * over a new deepest rung. */
static bool place(struct asim_ladder *l, const struct asim_evq_entry *src, uint32_t m,
                  asim_time start, uint64_t span)
{
	if (m <= THRES || span <= 1 || l->nrungs == MAX_RUNGS)
		return load_bottom(l, src, m);
	return make_rung(l, src, m, start, span);
}

/* A rung is used up. When it had far fewer buckets than its array holds,
 * the array shrinks, so that what a rung keeps follows its recent sizes
 * rather than the largest it ever had. */
static void trim(struct rung *g)
{
	if (g->cap_b <= 2 * g->nb + 64)
		return;
	struct bucket *b = realloc(g->b, (size_t)g->nb * sizeof(*b));
	if (b) {
		g->b = b;
		g->cap_b = g->nb;
	}
}

/* Fills the empty bottom from the rungs or the top; size > 0. */
static bool refill(struct asim_ladder *l)
{
	for (;;) {
		if (!l->nrungs) {
			struct vec *t = &l->top;
			uint64_t span = (uint64_t)l->top_max - (uint64_t)l->top_min + 1;
			if (!place(l, t->v, t->n, l->top_min, span))
				return false;
			if (l->nrungs) {
				const struct rung *g = &l->rung[0];
				l->top_start = sat_add(g->start, (uint64_t)g->nb << g->shift);
			} else {
				l->top_start = sat_add(l->top_max, 1);
			}
			reset_top(l);
			if (l->bottom.n)
				return true;
			continue;
		}
		struct rung *g = &l->rung[l->nrungs - 1];
		uint32_t i = g->cur;
		while (i < g->nb && !g->b[i].n)
			i++;
		if (i == g->nb) {
			trim(g);
			l->nrungs--;
			continue;
		}
		struct bucket *bk = &g->b[i];
		asim_time bs = g->start + (asim_time)((uint64_t)i << g->shift);
		uint64_t span = (uint64_t)1 << g->shift;
		uint32_t m = bk->n;
		/* A large bucket gets a rung of its own; when there is no room
		 * for one, its entries still go out in order, from the bottom. */
		bool to_bottom = m <= THRES || span <= 1 || l->nrungs == MAX_RUNGS ||
		                 !prepare_rung(l, m, bs, span);
		if (to_bottom && m > l->bottom.cap && !vec_grow(&l->bottom, m))
			return false;
		/* Open it: from now on, times in its range belong to the bottom or
		 * to the rung made of it. */
		g->cur = i + 1;
		g->bound = sat_add(g->start, (uint64_t)g->cur << g->shift);
		/* The next bucket's first block is most likely far out of cache;
		 * fetch it while this one is served. */
		if (i + 1 < g->nb && g->b[i + 1].n) {
			const char *nx = (const char *)&l->blocks[g->b[i + 1].tail];
			__builtin_prefetch(nx);
			__builtin_prefetch(nx + 64);
		}
		if (!to_bottom) {
			spread_bucket(l, bk);
			continue;
		}
		bucket_take(l, bk, l->bottom.v);
		settle_bottom(l, m);
		return true;
	}
}

/* The bottom has grown large (inserts into the time range of the bucket it
 * came from): its entries, all below the deepest rung's bound (or below
 * top_start), are spread over a new rung instead. The caller checked that a
 * rung is free; more than THRES entries always make one. */
static bool spill_bottom(struct asim_ladder *l)
{
	struct vec *b = &l->bottom;
	asim_time lo = b->v[l->head].time;
	asim_time hi = l->nrungs ? l->rung[l->nrungs - 1].bound : l->top_start;
	if (hi - lo <= 1) {
		/* One instant: nothing to spread; look again when it doubles. */
		l->bottom_spill = 2 * (b->n - l->head);
		return true;
	}
	if (!place(l, b->v + l->head, b->n - l->head, lo, (uint64_t)(hi - lo)))
		return false;
	b->n = 0;
	l->head = 0;
	l->bottom_spill = BOTTOM_SPILL;
	return true;
}

static bool bottom_insert(struct asim_ladder *l, const struct asim_evq_entry *e)
{
	struct vec *b = &l->bottom;
	uint32_t lo = l->head, hi = b->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (asim_evq_before(e, &b->v[mid]))
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo == l->head && l->head > 0) {
		b->v[--l->head] = *e;
		return true;
	}
	if (b->n == b->cap && !vec_grow(b, (uint64_t)b->n + 1))
		return false;
	memmove(&b->v[lo + 1], &b->v[lo], (size_t)(b->n - lo) * sizeof(*e));
	b->v[lo] = *e;
	b->n++;
	return true;
}

bool asim_ladder_push(struct asim_ladder *l, const struct asim_evq_entry *e)
{
	asim_time t = e->time;
	if (t >= l->top_start) {
		if (!vec_push(&l->top, e))
			return false;
		if (t < l->top_min)
			l->top_min = t;
		if (t > l->top_max)
			l->top_max = t;
		l->size++;
		return true;
	}
	for (unsigned r = 0; r < l->nrungs; r++) {
		struct rung *g = &l->rung[r];
		if (t >= g->bound) {
			if (!l->nfree && !reserve_blocks(l, 1))
				return false;
			bucket_add(l, &g->b[(uint64_t)(t - g->start) >> g->shift], e);
			l->size++;
			return true;
		}
	}
	if (l->bottom.n - l->head >= l->bottom_spill && l->nrungs < MAX_RUNGS) {
		unsigned before = l->nrungs;
		if (!spill_bottom(l))
			return false;
		if (l->nrungs != before)
			return asim_ladder_push(l, e);
	}
	if (!bottom_insert(l, e))
		return false;
	l->size++;
	return true;
}

const struct asim_evq_entry *asim_ladder_min(struct asim_ladder *l, bool *nomem)
{
	*nomem = false;
	if (!l->size)
		return NULL;
	if (l->head == l->bottom.n && !refill(l)) {
		*nomem = true;
		return NULL;
	}
	return &l->bottom.v[l->head];
}

void asim_ladder_pop_min(struct asim_ladder *l)
{
	l->size--;
	if (++l->head == l->bottom.n)
		l->head = l->bottom.n = 0;
}

void asim_ladder_drain(struct asim_ladder *l, struct asim_evq_entry *out)
{
	size_t n = 0;
	struct vec *b = &l->bottom;
	memcpy(out, b->v + l->head, (size_t)(b->n - l->head) * sizeof(*out));
	n += b->n - l->head;
	b->n = l->head = 0;
	for (unsigned r = 0; r < l->nrungs; r++) {
		struct rung *g = &l->rung[r];
		for (uint32_t i = g->cur; i < g->nb; i++) {
			n += g->b[i].n;
			bucket_take(l, &g->b[i], out + n - g->b[i].n);
		}
	}
	l->nrungs = 0;
	memcpy(out + n, l->top.v, (size_t)l->top.n * sizeof(*out));
	reset_top(l);
	l->top_start = 0;
	l->size = 0;
	l->bottom_spill = BOTTOM_SPILL;
}
