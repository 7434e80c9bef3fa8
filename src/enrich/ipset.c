/*
 * Immutable address sets.
 *
 * Each family's address space is cut into sorted, disjoint segments that
 * cover it whole: a segment runs from its start to the next one's start
 * minus one and has one mask (0 in the gaps between prefixes). Neighbours
 * never share a mask, so a lookup is "the last segment starting at or
 * before the address".
 *
 * Building: prefixes are sorted by start, shorter first. Two prefixes are
 * either disjoint or nested, so one sweep with a stack of the prefixes that
 * are open (at most 33 or 129 deep) gives every segment and the OR of the
 * masks covering it: O(n log n) for the sort, O(n) for the sweep.
 *
 * IPv4 segments are one uint64_t each: the start in the high 32 bits and,
 * in the low 32, an index into a palette of the distinct masks (index 0 is
 * mask 0). Lists share few masks (one bit per list), so a segment costs 8
 * bytes instead of 12 and one load gives both the key and the mask. IPv6
 * segments are a 16-byte start in one array and the mask in another, so
 * the search reads starts only. For both, a directory on the top k bits of
 * the address (k = log2 of the segments, 1 to 16) gives the few segments
 * to binary search (branch-free); it costs 4 bytes a segment at most, so
 * a small set stays small. IPv6 prefixes crowd into 2000::/3, so its
 * directory splits them less well, but they are few in flow logs.
 *
 * A set holds at most 2n + 1 segments per family for n prefixes; combining
 * merges the segment arrays with a heap of cursors, O(s log n).
 */
#include "vpcflowd/ipset.h"

#include <stdlib.h>
#include <string.h>

/* An address as a number, high half first; IPv4 uses lo only. */
struct key {
	uint64_t hi, lo;
};

/* A prefix as added: its first address (host bits cleared) and length. */
struct pfx {
	struct key lo;
	uint64_t mask;
	unsigned len;
};

struct pfx_vec {
	struct pfx *v;
	size_t n, cap;
};

struct vf_ipset_builder {
	struct pfx_vec v4, v6;
};

/* A segment while a set is made: from start to the next one's start. */
struct seg {
	struct key start;
	uint64_t mask;
};

struct seg_vec {
	struct seg *v;
	size_t n, cap;
};

/* Segment indexes by the top bits of the address. */
struct dir {
	uint32_t *idx;          /* (1 << bits) + 1 entries */
	unsigned shift;         /* 32 - bits, of the address's top 32 bits */
	size_t n;
};

struct vf_ipset {
	uint64_t *v4;           /* start << 32 | palette index, ascending */
	size_t n4;              /* at least 1: v4[0] starts at 0 */
	struct dir dir4;
	uint64_t *palette;      /* distinct masks; palette[0] is 0 */
	size_t n_palette;
	struct key *v6;         /* starts, ascending; v6[0] is :: */
	uint64_t *mask6;
	size_t n6;
	struct dir dir6;
	size_t ranges;
	size_t bytes;
};

enum { MAX_SETS = 64 };

static inline bool key_eq(struct key a, struct key b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

static inline bool key_lt(struct key a, struct key b)
{
	return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

static inline struct key key_inc(struct key a)
{
	if (++a.lo == 0)
		a.hi++;
	return a;
}

/* The highest address of a family of width bits. */
static inline struct key key_max(unsigned width)
{
	struct key k = { 0, UINT32_MAX };

	if (width == 128)
		k.hi = k.lo = UINT64_MAX;
	return k;
}

/* The bits of a 64-bit half that the first len bits of it cover. */
static inline uint64_t net64(unsigned len)
{
	if (len == 0)
		return 0;
	if (len >= 64)
		return UINT64_MAX;
	return UINT64_MAX << (64 - len);
}

/* The network part of k for a prefix of len bits in a family of width. */
static struct key key_net(struct key k, unsigned len, unsigned width)
{
	if (width == 32) {
		k.lo &= (UINT64_C(0xffffffff) << (32 - len)) & UINT32_MAX;
		return k;
	}
	k.hi &= net64(len);
	k.lo &= net64(len > 64 ? len - 64 : 0);
	return k;
}

/* The last address of the prefix starting at k. */
static struct key key_last(struct key k, unsigned len, unsigned width)
{
	if (width == 32) {
		k.lo |= UINT64_C(0xffffffff) >> len;
		return k;
	}
	k.hi |= ~net64(len);
	k.lo |= ~net64(len > 64 ? len - 64 : 0);
	return k;
}

static inline uint64_t load_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Grows a vector of elements of size sz to hold one more. */
static bool grow(void **v, size_t *cap, size_t n, size_t sz)
{
	size_t c;
	void *p;

	if (n < *cap)
		return true;
	c = *cap ? *cap : 64;
	while (c <= n) {
		if (c > SIZE_MAX / 2 / sz)
			return false;
		c *= 2;
	}
	p = realloc(*v, c * sz);
	if (p == NULL)
		return false;
	*v = p;
	*cap = c;
	return true;
}

/* ---- builder ---- */

struct vf_ipset_builder *vf_ipset_builder_create(void)
{
	return calloc(1, sizeof(struct vf_ipset_builder));
}

bool vf_ipset_builder_add(struct vf_ipset_builder *b, const struct vf_addr *a,
	unsigned prefix, uint64_t mask)
{
	unsigned width;
	struct pfx_vec *vec;
	struct key k;

	if (b == NULL || a == NULL)
		return false;
	width = a->v6 ? 128 : 32;
	vec = a->v6 ? &b->v6 : &b->v4;
	if (mask == 0 || prefix > width)
		return false;
	if (a->v6) {
		k.hi = load_be(a->b, 8);
		k.lo = load_be(a->b + 8, 8);
	} else {
		k.hi = 0;
		k.lo = load_be(a->b, 4);
	}
	if (!grow((void **)&vec->v, &vec->cap, vec->n, sizeof(*vec->v)))
		return false;
	vec->v[vec->n].lo = key_net(k, prefix, width);
	vec->v[vec->n].len = prefix;
	vec->v[vec->n].mask = mask;
	vec->n++;
	return true;
}

size_t vf_ipset_builder_count(const struct vf_ipset_builder *b)
{
	return b ? b->v4.n + b->v6.n : 0;
}

void vf_ipset_builder_destroy(struct vf_ipset_builder *b)
{
	if (b == NULL)
		return;
	free(b->v4.v);
	free(b->v6.v);
	free(b);
}

/* ---- segments ---- */

/*
 * Appends a segment from start with mask, the segments before ending at
 * start - 1. A segment already starting there takes the new mask; one
 * with the mask of the one before merges into it.
 */
static bool seg_emit(struct seg_vec *s, struct key start, uint64_t mask)
{
	if (s->n > 0) {
		struct seg *last = &s->v[s->n - 1];

		if (key_eq(last->start, start)) {
			last->mask = mask;
			if (s->n > 1 && s->v[s->n - 2].mask == mask)
				s->n--;
			return true;
		}
		if (last->mask == mask)
			return true;
	}
	if (!grow((void **)&s->v, &s->cap, s->n, sizeof(*s->v)))
		return false;
	s->v[s->n].start = start;
	s->v[s->n].mask = mask;
	s->n++;
	return true;
}

static int pfx_cmp(const void *pa, const void *pb)
{
	const struct pfx *a = pa, *b = pb;

	if (!key_eq(a->lo, b->lo))
		return key_lt(a->lo, b->lo) ? -1 : 1;
	return (a->len > b->len) - (a->len < b->len);
}

/* The segments of n prefixes of a family of width bits (sorts p). */
static bool sweep(struct pfx *p, size_t n, unsigned width,
	struct seg_vec *out)
{
	struct {
		struct key last;
		uint64_t mask;   /* OR of this prefix's and the enclosing ones' */
	} open[129];
	const struct key max = key_max(width);
	size_t depth = 0;

	if (n > 1)
		qsort(p, n, sizeof(*p), pfx_cmp);
	out->n = 0;
	if (!seg_emit(out, (struct key){ 0, 0 }, 0))
		return false;
	for (size_t i = 0; i < n; i++) {
		struct key lo = p[i].lo;
		uint64_t mask;

		while (depth > 0 && key_lt(open[depth - 1].last, lo)) {
			struct key next = key_inc(open[depth - 1].last);

			depth--;
			if (!seg_emit(out, next, depth ? open[depth - 1].mask : 0))
				return false;
		}
		if (i > 0 && key_eq(p[i - 1].lo, lo) && p[i - 1].len == p[i].len) {
			/* the same prefix again: still the innermost open one */
			mask = open[depth - 1].mask |= p[i].mask;
		} else {
			mask = (depth ? open[depth - 1].mask : 0) | p[i].mask;
			open[depth].last = key_last(lo, p[i].len, width);
			open[depth].mask = mask;
			depth++;
		}
		if (!seg_emit(out, lo, mask))
			return false;
	}
	while (depth > 0) {
		struct key last = open[--depth].last;

		if (key_eq(last, max))
			break;
		if (!seg_emit(out, key_inc(last), depth ? open[depth - 1].mask : 0))
			return false;
	}
	return true;
}

/* ---- the set ---- */

/* Mask to palette index, while a set is made. */
struct palette_map {
	uint64_t *keys;     /* 0: empty slot (mask 0 is index 0, not kept) */
	uint32_t *vals;
	size_t size;        /* a power of two */
	size_t used;
};

static inline size_t mask_hash(uint64_t m, size_t size)
{
	m *= UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(m >> 32 ^ m) & (size - 1);
}

static bool map_resize(struct palette_map *m, size_t size)
{
	uint64_t *keys = calloc(size, sizeof(*keys));
	uint32_t *vals = malloc(size * sizeof(*vals));

	if (keys == NULL || vals == NULL)
		goto fail;
	for (size_t i = 0; i < m->size; i++) {
		size_t j;

		if (m->keys[i] == 0)
			continue;
		j = mask_hash(m->keys[i], size);
		while (keys[j] != 0)
			j = (j + 1) & (size - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->size = size;
	return true;
fail:
	free(keys);
	free(vals);
	return false;
}

/* The palette index of mask, added to s's palette when new. */
static bool palette_index(struct vf_ipset *s, struct palette_map *m,
	size_t *cap, uint64_t mask, uint32_t *out)
{
	size_t j;

	if (mask == 0) {
		*out = 0;
		return true;
	}
	if ((m->used + 1) * 2 > m->size && !map_resize(m, m->size * 2))
		return false;
	j = mask_hash(mask, m->size);
	while (m->keys[j] != 0) {
		if (m->keys[j] == mask) {
			*out = m->vals[j];
			return true;
		}
		j = (j + 1) & (m->size - 1);
	}
	if (s->n_palette > UINT32_MAX ||
	    !grow((void **)&s->palette, cap, s->n_palette, sizeof(uint64_t)))
		return false;
	m->keys[j] = mask;
	m->vals[j] = (uint32_t)s->n_palette;
	m->used++;
	s->palette[s->n_palette] = mask;
	*out = (uint32_t)s->n_palette++;
	return true;
}

/*
 * dir->idx[b] is the segment holding the first address of bucket b; the
 * last entry is the last segment.
 */
static bool make_dir(struct dir *d, const struct seg_vec *segs,
	unsigned width)
{
	unsigned bits = 1;
	size_t i = 0, nb;

	while (bits < 16 && ((size_t)1 << bits) < segs->n)
		bits++;
	nb = (size_t)1 << bits;
	d->idx = malloc((nb + 1) * sizeof(*d->idx));
	if (d->idx == NULL)
		return false;
	d->shift = 32 - bits;
	d->n = nb + 1;
	for (size_t b = 0; b < nb; b++) {
		uint64_t top = (uint64_t)b << d->shift;
		struct key first = { 0, top };

		if (width == 128)
			first = (struct key){ top << 32, 0 };
		while (i + 1 < segs->n && !key_lt(first, segs->v[i + 1].start))
			i++;
		d->idx[b] = (uint32_t)i;
	}
	d->idx[nb] = (uint32_t)(segs->n - 1);
	return true;
}

static bool make_v4(struct vf_ipset *s, const struct seg_vec *segs)
{
	struct palette_map map = { 0 };
	size_t cap = 0;
	void *p;

	s->v4 = malloc(segs->n * sizeof(*s->v4));
	if (s->v4 == NULL || !map_resize(&map, 64) ||
	    !grow((void **)&s->palette, &cap, 0, sizeof(uint64_t)))
		goto fail;
	s->palette[0] = 0;
	s->n_palette = 1;
	for (size_t j = 0; j < segs->n; j++) {
		uint32_t idx;

		if (!palette_index(s, &map, &cap, segs->v[j].mask, &idx))
			goto fail;
		s->v4[j] = segs->v[j].start.lo << 32 | idx;
	}
	s->n4 = segs->n;
	p = realloc(s->palette, s->n_palette * sizeof(uint64_t));
	if (p != NULL)
		s->palette = p;
	if (!make_dir(&s->dir4, segs, 32))
		goto fail;
	s->bytes += s->n4 * sizeof(*s->v4) + s->n_palette * sizeof(uint64_t) +
		s->dir4.n * sizeof(*s->dir4.idx);
	free(map.keys);
	free(map.vals);
	return true;
fail:
	free(map.keys);
	free(map.vals);
	return false;
}

static bool make_v6(struct vf_ipset *s, const struct seg_vec *segs)
{
	s->v6 = malloc(segs->n * sizeof(*s->v6));
	s->mask6 = malloc(segs->n * sizeof(*s->mask6));
	if (s->v6 == NULL || s->mask6 == NULL)
		return false;
	for (size_t j = 0; j < segs->n; j++) {
		s->v6[j] = segs->v[j].start;
		s->mask6[j] = segs->v[j].mask;
	}
	s->n6 = segs->n;
	if (!make_dir(&s->dir6, segs, 128))
		return false;
	s->bytes += s->n6 * (sizeof(*s->v6) + sizeof(*s->mask6)) +
		s->dir6.n * sizeof(*s->dir6.idx);
	return true;
}

/* The set of both families' segments (each non-empty, from address 0). */
static struct vf_ipset *make_set(const struct seg_vec *s4,
	const struct seg_vec *s6)
{
	struct vf_ipset *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	/* the directories and the palette hold 32-bit indexes */
	if (s4->n > UINT32_MAX || s6->n > UINT32_MAX || !make_v4(s, s4) ||
	    !make_v6(s, s6))
		goto fail;
	s->bytes += sizeof(*s);
	for (size_t j = 0; j < s4->n; j++)
		s->ranges += s4->v[j].mask != 0;
	for (size_t j = 0; j < s6->n; j++)
		s->ranges += s6->v[j].mask != 0;
	return s;
fail:
	vf_ipset_destroy(s);
	return NULL;
}

struct vf_ipset *vf_ipset_build(struct vf_ipset_builder *b)
{
	struct seg_vec s4 = { 0 }, s6 = { 0 };
	struct vf_ipset *s = NULL;

	if (b == NULL)
		return NULL;
	if (!sweep(b->v4.v, b->v4.n, 32, &s4) ||
	    !sweep(b->v6.v, b->v6.n, 128, &s6))
		goto out;
	s = make_set(&s4, &s6);
out:
	free(s4.v);
	free(s6.v);
	return s;
}

void vf_ipset_destroy(struct vf_ipset *s)
{
	if (s == NULL)
		return;
	free(s->v4);
	free(s->dir4.idx);
	free(s->palette);
	free(s->v6);
	free(s->mask6);
	free(s->dir6.idx);
	free(s);
}

size_t vf_ipset_ranges(const struct vf_ipset *s)
{
	return s ? s->ranges : 0;
}

size_t vf_ipset_bytes(const struct vf_ipset *s)
{
	return s ? s->bytes : 0;
}

/* ---- lookup ---- */

static inline uint64_t lookup4(const struct vf_ipset *s, uint32_t a)
{
	const uint64_t *v = s->v4;
	const uint64_t t = (uint64_t)a << 32 | UINT32_MAX;
	const uint32_t b = a >> s->dir4.shift;
	size_t base = s->dir4.idx[b];
	size_t n = s->dir4.idx[b + 1] - base + 1;

	/* the last segment starting at or before a; v[base] does */
	while (n > 1) {
		size_t half = n / 2;

		base = v[base + half] <= t ? base + half : base;
		n -= half;
	}
	return s->palette[(uint32_t)v[base]];
}

static inline uint64_t lookup6(const struct vf_ipset *s, uint64_t hi,
	uint64_t lo)
{
	const struct key *v = s->v6;
	const uint32_t b = (uint32_t)(hi >> 32) >> s->dir6.shift;
	size_t base = s->dir6.idx[b];
	size_t n = s->dir6.idx[b + 1] - base + 1;

	while (n > 1) {
		size_t half = n / 2;
		const struct key *m = &v[base + half];
		/* m <= (hi, lo), without a branch to mispredict */
		bool le = (m->hi < hi) | ((m->hi == hi) & (m->lo <= lo));

		base = le ? base + half : base;
		n -= half;
	}
	return s->mask6[base];
}

uint64_t vf_ipset_lookup(const struct vf_ipset *s, const struct vf_addr *a)
{
	if (s == NULL)
		return 0;
	if (!a->v6)
		return lookup4(s, (uint32_t)load_be(a->b, 4));
	return lookup6(s, load_be(a->b, 8), load_be(a->b + 8, 8));
}

/* ---- combine ---- */

/* One family's segments of one set, seen as start and "any bit set". */
struct cursor {
	const uint64_t *v4;      /* or */
	const struct key *v6;
	const uint64_t *mask6;
	size_t n;
	size_t next;             /* the next segment whose "any" differs */
	struct key at;           /* its start, when next < n */
	bool any;                /* of the segment holding the current address */
	unsigned bit;
};

static inline bool cur_any(const struct cursor *c, size_t i)
{
	return c->v4 ? (uint32_t)c->v4[i] != 0 : c->mask6[i] != 0;
}

static inline struct key cur_start(const struct cursor *c, size_t i)
{
	if (c->v4)
		return (struct key){ 0, c->v4[i] >> 32 };
	return c->v6[i];
}

/* Moves next past the segments sharing the current one's "any". */
static void cur_seek(struct cursor *c, size_t from)
{
	while (from < c->n && cur_any(c, from) == c->any)
		from++;
	c->next = from;
	if (from < c->n)
		c->at = cur_start(c, from);
}

/* A binary min-heap of cursors by their next boundary. */
static void heap_down(struct cursor **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct cursor *t;

		if (l < n && key_lt(h[l]->at, h[m]->at))
			m = l;
		if (l + 1 < n && key_lt(h[l + 1]->at, h[m]->at))
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static bool merge(struct cursor *c, size_t n, struct seg_vec *out)
{
	struct cursor *heap[MAX_SETS];
	size_t nh = 0;
	uint64_t mask = 0;

	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		c[i].any = cur_any(&c[i], 0);
		if (c[i].any)
			mask |= UINT64_C(1) << c[i].bit;
		cur_seek(&c[i], 1);
		if (c[i].next < c[i].n)
			heap[nh++] = &c[i];
	}
	if (!seg_emit(out, (struct key){ 0, 0 }, mask))
		return false;
	for (size_t i = nh; i-- > 0;)
		heap_down(heap, nh, i);
	while (nh > 0) {
		struct key at = heap[0]->at;

		/* every cursor changing at this address moves on */
		while (nh > 0 && key_eq(heap[0]->at, at)) {
			struct cursor *t = heap[0];

			t->any = !t->any;
			mask ^= UINT64_C(1) << t->bit;
			cur_seek(t, t->next + 1);
			if (t->next >= t->n)
				heap[0] = heap[--nh];
			heap_down(heap, nh, 0);
		}
		if (!seg_emit(out, at, mask))
			return false;
	}
	return true;
}

struct vf_ipset *vf_ipset_combine(const struct vf_ipset *const *sets,
	size_t n)
{
	struct cursor c4[MAX_SETS], c6[MAX_SETS];
	struct seg_vec s4 = { 0 }, s6 = { 0 };
	struct vf_ipset *s = NULL;
	size_t m = 0;

	if (n > MAX_SETS || (n > 0 && sets == NULL))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (sets[i] == NULL)
			continue;
		c4[m] = (struct cursor){ .v4 = sets[i]->v4, .n = sets[i]->n4,
			.bit = (unsigned)i };
		c6[m] = (struct cursor){ .v6 = sets[i]->v6,
			.mask6 = sets[i]->mask6, .n = sets[i]->n6,
			.bit = (unsigned)i };
		m++;
	}
	if (!merge(c4, m, &s4) || !merge(c6, m, &s6))
		goto out;
	s = make_set(&s4, &s6);
out:
	free(s4.v);
	free(s6.v);
	return s;
}
