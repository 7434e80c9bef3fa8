/*
 * The hot side of enrichment: one reader per worker thread.
 *
 * For each address of a flow the reader renders the enrichment fields once
 * and keeps them in a direct-mapped cache (CACHE_SLOTS entries, keyed by
 * address, tagged with the snapshot generation so that a new snapshot
 * makes every entry stale). Flow logs repeat addresses heavily, so most
 * flows cost a hash, a compare and a copy per address. An address that
 * interfaces in several VPCs hold depends on the flow's VPC and is never
 * cached.
 */
#include "enrich_internal.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_BITS 12
#define CACHE_SLOTS (1u << CACHE_BITS)
#define CACHE_FRAG_MAX 360
#define COUNTER_FLUSH 4096

struct cache_entry {
	uint64_t gen;                  /* 0: empty */
	uint64_t threats;              /* the lists that hold the address */
	struct vf_addr addr;
	uint16_t len;
	char frag[CACHE_FRAG_MAX];
};

struct vf_enrich_reader {
	struct vf_enrich *e;
	unsigned slot;
	struct cache_entry *cache;
	struct vf_buf tmp;             /* a fragment being rendered */
	uint64_t hits, misses;         /* not yet in the shared counters */
	uint64_t threat_hits[VF_ENRICH_MAX_LISTS];
	unsigned pending;
};

/* The address fields enriched, and their GELF names. */
static const struct {
	enum vf_field field;
	const char *name;
	size_t len;
} addr_fields[] = {
	{ VF_F_SRCADDR, "src_addr", 8 },
	{ VF_F_DSTADDR, "dst_addr", 8 },
	{ VF_F_PKT_SRCADDR, "pkt_src_addr", 12 },
	{ VF_F_PKT_DSTADDR, "pkt_dst_addr", 12 },
};

struct vf_enrich_reader *vf_enrich_reader_create(struct vf_enrich *e)
{
	struct vf_enrich_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->e = e;
	r->cache = calloc(CACHE_SLOTS, sizeof(*r->cache));
	if (r->cache == NULL)
		goto fail;
	vf_buf_init(&r->tmp, 64 * 1024);
	for (unsigned i = 0; i < VF_ENRICH_MAX_READERS; i++) {
		bool used = false;

		if (atomic_compare_exchange_strong(&e->slot_used[i], &used,
		    true)) {
			r->slot = i;
			return r;
		}
	}
fail:
	free(r->cache);
	free(r);
	return NULL;
}

void vf_enrich_reader_flush(struct vf_enrich_reader *r)
{
	struct vf_enrich_counters *c = &r->e->counters;

	atomic_fetch_add_explicit(&c->cache_hits, r->hits,
		memory_order_relaxed);
	atomic_fetch_add_explicit(&c->cache_misses, r->misses,
		memory_order_relaxed);
	r->hits = r->misses = 0;
	for (unsigned i = 0; i < r->e->n_lists; i++) {
		if (r->threat_hits[i] == 0)
			continue;
		atomic_fetch_add_explicit(&c->threat_hits[i],
			r->threat_hits[i], memory_order_relaxed);
		r->threat_hits[i] = 0;
	}
	r->pending = 0;
}

void vf_enrich_reader_destroy(struct vf_enrich_reader *r)
{
	if (r == NULL)
		return;
	vf_enrich_reader_flush(r);
	atomic_store(&r->e->hazard[r->slot], NULL);
	atomic_store(&r->e->slot_used[r->slot], false);
	vf_buf_finish(&r->tmp);
	free(r->cache);
	free(r);
}

/* The current snapshot, pinned until unpin(). */
static struct vf_enrich_tables *pin(struct vf_enrich_reader *r)
{
	struct vf_enrich *e = r->e;
	struct vf_enrich_tables *t = atomic_load(&e->current), *again;

	for (;;) {
		atomic_store(&e->hazard[r->slot], t);
		again = atomic_load(&e->current);
		if (again == t)
			return t;
		t = again;
	}
}

static void unpin(struct vf_enrich_reader *r)
{
	atomic_store_explicit(&r->e->hazard[r->slot], NULL,
		memory_order_release);
}

/* The VPC a flow belongs to: its vpc-id, else its interface's. */
static const char *flow_vpc(const struct vf_entity_table *et,
	const struct vf_flow *flow, size_t *len)
{
	const struct vf_sv *v = vf_flow_get(flow, VF_F_VPC_ID);
	const char *vpc;

	if (v != NULL) {
		*len = v->n;
		return v->p;
	}
	v = vf_flow_get(flow, VF_F_INTERFACE_ID);
	if (v == NULL || (vpc = vf_entity_table_eni_vpc(et, v->p, v->n)) ==
	    NULL)
		return NULL;
	*len = strlen(vpc);
	return vpc;
}

static inline bool put_bool(struct vf_buf *b, const char *suffix, bool v)
{
	return vf_frag_key(b, suffix) &&
		(v ? vf_buf_append(b, "\"true\"", 6) :
		vf_buf_append(b, "\"false\"", 7));
}

/*
 * Renders every field of one address into r->tmp; *threats gets the lists
 * that hold it, *cacheable whether the result holds for any flow.
 */
static bool render(struct vf_enrich_reader *r, const struct vf_enrich_tables *t,
	const struct vf_flow *flow, const struct vf_addr *a, uint64_t *threats,
	bool *cacheable)
{
	const struct vf_enrich *e = r->e;
	const struct vf_entity_table *et = t->entities ? t->entities->p : NULL;
	const struct vf_entity *ent = NULL;
	struct vf_buf *b = &r->tmp;
	uint64_t nets = vf_ipset_lookup(e->nets, a);
	bool ambiguous = false;

	vf_buf_reset(b);
	*threats = 0;
	*cacheable = true;
	if (et != NULL) {
		ent = vf_entity_table_lookup(et, a, NULL, 0, &ambiguous);
		if (ambiguous) {
			size_t vlen = 0;
			const char *vpc = flow_vpc(et, flow, &vlen);

			ent = vf_entity_table_lookup(et, a, vpc, vlen,
				&ambiguous);
			*cacheable = false;
		}
	}
	if (!put_bool(b, "internal", (nets & VF_NET_INTERNAL) || ent != NULL))
		return false;
	if (ent != NULL) {
		size_t n;
		const char *frag = vf_entity_table_fragment(et, ent, &n);

		if (!vf_buf_append(b, frag, n))
			return false;
	}
	if (e->n_lists > 0) {
		*threats = t->threats ? vf_ipset_lookup(t->threats->p, a) : 0;
		if (!put_bool(b, "threat_indicated", *threats != 0))
			return false;
		for (unsigned i = 0; i < e->n_lists; i++) {
			char suffix[96];

			if (!(*threats >> i & 1))
				continue;
			memcpy(suffix, "threat_indicated_", 17);
			memcpy(suffix + 17, e->list_names[i],
				e->list_name_len[i] + 1);
			if (!put_bool(b, suffix, true))
				return false;
		}
	}
	if (t->geoip != NULL && !(nets & (VF_NET_INTERNAL | VF_NET_NOT_GLOBAL)))
		return vf_geoip_render(t->geoip->p, a, b);
	return true;
}

/* Copies frag with the field's name for each marker. */
static bool emit(struct vf_buf *out, const char *frag, size_t len,
	const char *name, size_t namelen)
{
	const char *p = frag, *end = frag + len, *m;

	while ((m = memchr(p, VF_FRAG_PREFIX, (size_t)(end - p))) != NULL) {
		if (!vf_buf_append(out, p, (size_t)(m - p)) ||
		    !vf_buf_append(out, name, namelen))
			return false;
		p = m + 1;
	}
	return vf_buf_append(out, p, (size_t)(end - p));
}

static bool enrich_addr(struct vf_enrich_reader *r,
	const struct vf_enrich_tables *t, const struct vf_flow *flow,
	const struct vf_addr *a, const char *name, size_t namelen,
	struct vf_buf *out, uint64_t *threats)
{
	struct cache_entry *c = &r->cache[vf_addr_hash(a) & (CACHE_SLOTS - 1)];
	bool cacheable;

	if (c->gen == t->gen && vf_addr_eq(&c->addr, a)) {
		r->hits++;
		*threats |= c->threats;
		return emit(out, c->frag, c->len, name, namelen);
	}
	r->misses++;
	if (!render(r, t, flow, a, &c->threats, &cacheable)) {
		c->gen = 0;
		return false;
	}
	*threats |= c->threats;
	if (cacheable && r->tmp.len <= CACHE_FRAG_MAX) {
		c->gen = t->gen;
		c->addr = *a;
		c->len = (uint16_t)r->tmp.len;
		memcpy(c->frag, r->tmp.data, r->tmp.len);
	} else {
		c->gen = 0;
	}
	return emit(out, r->tmp.data, r->tmp.len, name, namelen);
}

bool vf_enrich_flow(struct vf_enrich_reader *r, const struct vf_flow *flow,
	struct vf_buf *out)
{
	struct vf_enrich_tables *t;
	uint64_t threats = 0;
	size_t mark = out->len;
	bool ok = true;

	t = pin(r);
	for (size_t i = 0; ok && i < sizeof(addr_fields) / sizeof(*addr_fields);
	     i++) {
		const struct vf_sv *v = vf_flow_get(flow, addr_fields[i].field);
		struct vf_addr a;

		/* no value, or not an address: nothing to say about it */
		if (v == NULL || !vf_addr_parse(v->p, v->n, &a))
			continue;
		ok = enrich_addr(r, t, flow, &a, addr_fields[i].name,
			addr_fields[i].len, out, &threats);
	}
	unpin(r);
	if (!ok) {
		out->len = mark;
		return false;
	}
	for (unsigned i = 0; threats != 0 && i < r->e->n_lists; i++)
		r->threat_hits[i] += threats >> i & 1;
	if (++r->pending >= COUNTER_FLUSH)
		vf_enrich_reader_flush(r);
	return true;
}
