/*
 * The entities one refresh found and their addresses: two arrays that
 * double as they fill. An address refers to its entity by index, so the
 * entities may move while the list grows.
 */
#include "vpcflowd/entity.h"

#include <stdlib.h>
#include <string.h>

void vf_entity_list_init(struct vf_entity_list *l)
{
	memset(l, 0, sizeof(*l));
}

void vf_entity_list_finish(struct vf_entity_list *l)
{
	free(l->entities);
	free(l->addrs);
	vf_entity_list_init(l);
}

/* p, which holds *cap elements of size, with room for element n; NULL
 * when that passes max elements or memory runs out (p is left as it was). */
static void *grow(void *p, size_t *cap, size_t n, size_t size, size_t max)
{
	size_t ncap;

	if (n < *cap)
		return p;
	if (max > SIZE_MAX / size)
		max = SIZE_MAX / size;
	if (*cap >= max)
		return NULL;
	ncap = *cap ? *cap * 2 : 64;
	if (ncap > max)
		ncap = max;
	p = realloc(p, ncap * size);
	if (p != NULL)
		*cap = ncap;
	return p;
}

bool vf_entity_list_add(struct vf_entity_list *l, const struct vf_entity *e)
{
	struct vf_entity *p;

	/* addresses refer to entities by a uint32_t index */
	p = grow(l->entities, &l->cap_entities, l->n_entities, sizeof(*p),
		UINT32_MAX);
	if (p == NULL)
		return false;
	l->entities = p;
	l->entities[l->n_entities++] = *e;
	return true;
}

bool vf_entity_list_add_addr(struct vf_entity_list *l,
	const struct vf_addr *a)
{
	struct vf_entity_addr *p;

	if (l->n_entities == 0)
		return false;
	p = grow(l->addrs, &l->cap_addrs, l->n_addrs, sizeof(*p), SIZE_MAX);
	if (p == NULL)
		return false;
	l->addrs = p;
	p[l->n_addrs].addr = *a;
	p[l->n_addrs].entity = (uint32_t)(l->n_entities - 1);
	l->n_addrs++;
	return true;
}
