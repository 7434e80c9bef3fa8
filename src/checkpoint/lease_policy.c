/*
 * Which leases a worker takes in one round (the KCL 2.x rules: a fair
 * share, available leases first, then one stolen from the most loaded).
 * Pure: the lease manager feeds it a scan and its own observations.
 */
#include "vpcflowd/lease.h"

#include <stdlib.h>
#include <string.h>

static unsigned next_rand(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

/* Index of the first view owned by owner among the first `upto`. */
static size_t first_of(const struct vf_lease_view *v, size_t upto,
	const char *owner)
{
	for (size_t i = 0; i < upto; i++)
		if (v[i].active && !v[i].held && !v[i].available &&
		    strcmp(v[i].owner, owner) == 0)
			return i;
	return upto;
}

size_t vf_lease_choose(const struct vf_lease_view *v, size_t n, bool pinned,
	size_t *pick, size_t max, unsigned *seed)
{
	size_t active = 0, mine = 0, workers = 1, avail = 0, got = 0;
	size_t target, needed, victim = n, victim_load = 0;

	if (max == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].active)
			continue;
		active++;
		if (v[i].held)
			mine++;
		else if (v[i].available)
			avail++;
		else if (first_of(v, i, v[i].owner) == i)
			workers++;      /* a live worker, first seen here */
	}
	if (pinned) {
		for (size_t i = 0; i < n && got < max; i++)
			if (v[i].active && !v[i].held && v[i].available)
				pick[got++] = i;
		return got;
	}
	target = (active + workers - 1) / workers;
	if (mine >= target)
		return 0;
	needed = target - mine;
	if (avail > 0) {
		/* reservoir-free: walk the available ones from a random start */
		size_t start = next_rand(seed) % n;

		for (size_t k = 0; k < n && got < needed && got < max; k++) {
			size_t i = (start + k) % n;

			if (v[i].active && !v[i].held && v[i].available)
				pick[got++] = i;
		}
		return got;
	}
	/* nothing free: the most loaded live worker may give up one */
	for (size_t i = 0; i < n; i++) {
		size_t load = 0;

		if (!v[i].active || v[i].held || v[i].available ||
		    first_of(v, i, v[i].owner) != i)
			continue;
		for (size_t j = i; j < n; j++)
			if (v[j].active && !v[j].held && !v[j].available &&
			    strcmp(v[j].owner, v[i].owner) == 0)
				load++;
		if (load > victim_load) {
			victim_load = load;
			victim = i;
		}
	}
	if (victim == n || victim_load < target ||
	    (victim_load == target && needed <= 1))
		return 0;
	{
		/* one of the victim's leases, at random */
		size_t k = next_rand(seed) % victim_load, seen = 0;

		for (size_t i = victim; i < n; i++) {
			if (!v[i].active || v[i].held || v[i].available ||
			    strcmp(v[i].owner, v[victim].owner) != 0)
				continue;
			if (seen++ == k) {
				pick[got++] = i;
				break;
			}
		}
	}
	return got;
}
