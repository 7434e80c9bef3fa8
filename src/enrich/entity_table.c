/*
 * The entity table: address -> network interface, built from one refresh's
 * list and never changed after, so readers need no lock.
 *
 * Two open-addressing hash tables (load factor at most 1/2): addresses to
 * the first of their candidates, and interface ids to their entity. An
 * address held by interfaces in several VPCs (the same private range in
 * two VPCs) has a chain of candidates; a lookup prefers the flow's VPC.
 * Each entity's fields are rendered once, here.
 */
#include "enrich_internal.h"

#include <stdlib.h>
#include <string.h>

struct candidate {
	struct vf_addr addr;
	uint32_t entity;
	uint32_t next;          /* index + 1 of the next candidate; 0: none */
};

struct vf_entity_table {
	struct vf_entity *entities;
	size_t n_entities;
	struct candidate *cands;
	size_t n_cands;
	uint32_t *addr_slots;   /* index + 1 of a chain's first candidate */
	size_t addr_mask;
	uint32_t *eni_slots;    /* index + 1 of an entity */
	size_t eni_mask;
	uint32_t *frag_off;     /* each entity's rendered fields in frags */
	uint32_t *frag_len;
	struct vf_buf frags;
};

static uint64_t str_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
	return vf_hash_mix(h);
}

/* A power of two at least twice n, at least 16. */
static size_t table_size(size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size <<= 1;
	return size;
}

static bool render(struct vf_entity_table *t, size_t i)
{
	const struct vf_entity *e = &t->entities[i];
	struct vf_buf *b = &t->frags;
	size_t mark = b->len;

	if (!vf_frag_str(b, "entity", e->entity, strlen(e->entity)) ||
	    !vf_frag_str(b, "entity_aws_type", e->aws_type,
	    strlen(e->aws_type)))
		return false;
	if (e->description[0] != '\0' && !vf_frag_str(b, "entity_description",
	    e->description, strlen(e->description)))
		return false;
	if (e->vpc_id[0] != '\0' && !vf_frag_str(b, "entity_vpc_id",
	    e->vpc_id, strlen(e->vpc_id)))
		return false;
	if (e->subnet_id[0] != '\0' && !vf_frag_str(b, "entity_subnet_id",
	    e->subnet_id, strlen(e->subnet_id)))
		return false;
	t->frag_off[i] = (uint32_t)mark;
	t->frag_len[i] = (uint32_t)(b->len - mark);
	return true;
}

static void add_candidate(struct vf_entity_table *t,
	const struct vf_entity_addr *ea)
{
	size_t i = vf_addr_hash(&ea->addr) & t->addr_mask;
	struct candidate *c = &t->cands[t->n_cands];

	c->addr = ea->addr;
	c->entity = ea->entity;
	c->next = 0;
	for (;; i = (i + 1) & t->addr_mask) {
		uint32_t head = t->addr_slots[i];
		struct candidate *last;

		if (head == 0) {
			t->addr_slots[i] = (uint32_t)++t->n_cands;
			return;
		}
		if (!vf_addr_eq(&t->cands[head - 1].addr, &ea->addr))
			continue;
		/* the same address again: the chain, unless it repeats */
		for (last = &t->cands[head - 1];; last = &t->cands[last->next - 1]) {
			if (last->entity == ea->entity)
				return;
			if (last->next == 0)
				break;
		}
		last->next = (uint32_t)++t->n_cands;
		return;
	}
}

static void add_eni(struct vf_entity_table *t, size_t e)
{
	const char *id = t->entities[e].eni_id;
	size_t n = strlen(id), i;

	if (n == 0)
		return;
	for (i = str_hash(id, n) & t->eni_mask; t->eni_slots[i] != 0;
	     i = (i + 1) & t->eni_mask)
		if (strcmp(t->entities[t->eni_slots[i] - 1].eni_id, id) == 0)
			return;
	t->eni_slots[i] = (uint32_t)(e + 1);
}

struct vf_entity_table *vf_entity_table_create(struct vf_entity_list *l)
{
	struct vf_entity_table *t = calloc(1, sizeof(*t));
	size_t asize, esize;

	if (t == NULL || l->n_entities >= UINT32_MAX / 2 ||
	    l->n_addrs >= UINT32_MAX / 2)
		goto fail;
	asize = table_size(l->n_addrs);
	esize = table_size(l->n_entities);
	t->cands = calloc(l->n_addrs + 1, sizeof(*t->cands));
	t->addr_slots = calloc(asize, sizeof(*t->addr_slots));
	t->eni_slots = calloc(esize, sizeof(*t->eni_slots));
	t->frag_off = calloc(l->n_entities + 1, sizeof(*t->frag_off));
	t->frag_len = calloc(l->n_entities + 1, sizeof(*t->frag_len));
	if (t->cands == NULL || t->addr_slots == NULL ||
	    t->eni_slots == NULL || t->frag_off == NULL || t->frag_len == NULL)
		goto fail;
	t->addr_mask = asize - 1;
	t->eni_mask = esize - 1;
	vf_buf_init(&t->frags, UINT32_MAX);
	/* the entities are the table's now */
	t->entities = l->entities;
	t->n_entities = l->n_entities;
	l->entities = NULL;
	l->n_entities = l->cap_entities = 0;
	for (size_t i = 0; i < t->n_entities; i++) {
		if (!render(t, i))
			goto fail;
		add_eni(t, i);
	}
	for (size_t i = 0; i < l->n_addrs; i++)
		if (l->addrs[i].entity < t->n_entities)
			add_candidate(t, &l->addrs[i]);
	vf_entity_list_finish(l);
	return t;
fail:
	vf_entity_list_finish(l);
	vf_entity_table_destroy(t);
	return NULL;
}

void vf_entity_table_destroy(struct vf_entity_table *t)
{
	if (t == NULL)
		return;
	free(t->entities);
	free(t->cands);
	free(t->addr_slots);
	free(t->eni_slots);
	free(t->frag_off);
	free(t->frag_len);
	vf_buf_finish(&t->frags);
	free(t);
}

size_t vf_entity_table_size(const struct vf_entity_table *t)
{
	return t != NULL ? t->n_entities : 0;
}

const struct vf_entity *vf_entity_table_lookup(const struct vf_entity_table *t,
	const struct vf_addr *a, const char *vpc, size_t vpclen, bool *ambiguous)
{
	const struct candidate *c, *first;
	size_t i;

	*ambiguous = false;
	if (t == NULL || t->n_cands == 0)
		return NULL;
	for (i = vf_addr_hash(a) & t->addr_mask;; i = (i + 1) & t->addr_mask) {
		uint32_t head = t->addr_slots[i];

		if (head == 0)
			return NULL;
		if (vf_addr_eq(&t->cands[head - 1].addr, a))
			break;
	}
	first = c = &t->cands[t->addr_slots[i] - 1];
	if (c->next == 0)
		return &t->entities[c->entity];
	*ambiguous = true;
	if (vpc != NULL)
		for (;; c = &t->cands[c->next - 1]) {
			const char *v = t->entities[c->entity].vpc_id;

			if (strlen(v) == vpclen && memcmp(v, vpc, vpclen) == 0)
				return &t->entities[c->entity];
			if (c->next == 0)
				break;
		}
	return &t->entities[first->entity];
}

const char *vf_entity_table_eni_vpc(const struct vf_entity_table *t,
	const char *eni, size_t len)
{
	size_t i;

	if (t == NULL || len == 0)
		return NULL;
	for (i = str_hash(eni, len) & t->eni_mask; t->eni_slots[i] != 0;
	     i = (i + 1) & t->eni_mask) {
		const struct vf_entity *e = &t->entities[t->eni_slots[i] - 1];

		if (strlen(e->eni_id) == len && memcmp(e->eni_id, eni, len) == 0)
			return e->vpc_id[0] != '\0' ? e->vpc_id : NULL;
	}
	return NULL;
}

const char *vf_entity_table_fragment(const struct vf_entity_table *t,
	const struct vf_entity *e, size_t *len)
{
	size_t i = (size_t)(e - t->entities);

	*len = t->frag_len[i];
	return t->frags.data + t->frag_off[i];
}
