/*
 * ipset_bench: builds address sets of random prefixes and times the build,
 * the lookups of random addresses and the address parser.
 *
 * usage: ipset_bench [SEED]
 *
 * IPv4 prefixes are 70% /32, 25% /24 to /31 and 5% /16 to /23, as threat
 * lists are; IPv6 ones half /128, half /32 to /64, in 2000::/4. Lookups go
 * to random addresses (most miss, as most flow addresses are on no list)
 * and to addresses in the set. Then all the sets are combined into one.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpcflowd/ipset.h"

enum { LOOKUPS = 1 << 20, ROUNDS = 8 };

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64: deterministic across platforms */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void random_addr(struct vf_addr *a, bool v6)
{
	uint64_t x = rnd(), y = rnd();

	a->v6 = v6;
	memcpy(a->b, &x, 8);
	memcpy(a->b + 8, &y, 8);
	if (v6)
		a->b[0] = (uint8_t)(0x20 | (a->b[0] & 0x0f));   /* 2000::/4 */
	else
		memset(a->b + 4, 0, 12);
}

static unsigned random_len(bool v6)
{
	unsigned r = (unsigned)(rnd() % 100);

	if (v6)
		return r < 50 ? 128 : 32 + (unsigned)(rnd() % 33);
	if (r < 70)
		return 32;
	if (r < 95)
		return 24 + (unsigned)(rnd() % 8);
	return 16 + (unsigned)(rnd() % 8);
}

/* Nanoseconds per lookup of the n addresses in a, the best of ROUNDS. */
static double time_lookups(const struct vf_ipset *s, const struct vf_addr *a,
	size_t n, uint64_t *sink)
{
	double best = 1e30;

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_s(), t;

		for (size_t i = 0; i < n; i++)
			*sink += vf_ipset_lookup(s, &a[i]);
		t = (now_s() - t0) * 1e9 / (double)n;
		if (t < best)
			best = t;
	}
	return best;
}

/* Builds and times a set of n random prefixes; NULL on failure. */
static struct vf_ipset *bench_set(size_t n, bool v6, struct vf_addr *look,
	uint64_t *sink)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	struct vf_addr *members = malloc(LOOKUPS * sizeof(*members));
	struct vf_ipset *s = NULL;
	double t0, build, miss, hit;
	size_t hits = 0;
	bool ok = false;

	if (b == NULL || members == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct vf_addr a;

		random_addr(&a, v6);
		if (!vf_ipset_builder_add(b, &a, random_len(v6),
				UINT64_C(1) << (rnd() % 4)))
			goto out;
		if (i < LOOKUPS)
			members[i] = a;
	}
	for (size_t i = n; i < LOOKUPS; i++)
		members[i] = members[rnd() % n];
	t0 = now_s();
	s = vf_ipset_build(b);
	build = now_s() - t0;
	if (s == NULL)
		goto out;
	for (size_t i = 0; i < LOOKUPS; i++) {
		random_addr(&look[i], v6);
		hits += vf_ipset_lookup(s, &look[i]) != 0;
	}
	miss = time_lookups(s, look, LOOKUPS, sink);
	hit = time_lookups(s, members, LOOKUPS, sink);
	printf("%s %8zu prefixes: build %7.1f ms, %8zu ranges, %9zu bytes "
		"(%.1f/range), lookup %5.1f ns random (%4.1f%% hit), "
		"%5.1f ns member\n", v6 ? "IPv6" : "IPv4", n, build * 1e3,
		vf_ipset_ranges(s), vf_ipset_bytes(s),
		(double)vf_ipset_bytes(s) / (double)vf_ipset_ranges(s), miss,
		100.0 * (double)hits / LOOKUPS, hit);
	ok = true;
out:
	if (!ok) {
		vf_ipset_destroy(s);
		s = NULL;
	}
	vf_ipset_builder_destroy(b);
	free(members);
	return s;
}

/* Combines the sets and times lookups in the result. */
static int bench_combine(const struct vf_ipset *const *sets, size_t n,
	struct vf_addr *look, uint64_t *sink)
{
	double t0 = now_s(), t, v4, v6;
	struct vf_ipset *s = vf_ipset_combine(sets, n);

	t = now_s() - t0;
	if (s == NULL)
		return 1;
	for (size_t i = 0; i < LOOKUPS; i++)
		random_addr(&look[i], false);
	v4 = time_lookups(s, look, LOOKUPS, sink);
	for (size_t i = 0; i < LOOKUPS; i++)
		random_addr(&look[i], true);
	v6 = time_lookups(s, look, LOOKUPS, sink);
	printf("combine %zu sets: %7.1f ms, %8zu ranges, %9zu bytes, lookup "
		"%5.1f ns IPv4, %5.1f ns IPv6\n", n, t * 1e3, vf_ipset_ranges(s),
		vf_ipset_bytes(s), v4, v6);
	vf_ipset_destroy(s);
	return 0;
}

/* The parser against inet_pton, which needs a NUL-terminated copy. */
static int bench_parse(uint64_t *sink)
{
	enum { N = 1 << 20 };
	char (*text)[46] = malloc(N * sizeof(*text));
	size_t *len = malloc(N * sizeof(*len));
	double t0, ours[2], pton[2];
	int rc = 1;

	if (text == NULL || len == NULL)
		goto out;
	for (int v6 = 0; v6 < 2; v6++) {
		struct vf_addr a;

		for (size_t i = 0; i < N; i++) {
			random_addr(&a, v6);
			vf_addr_format(&a, text[i], sizeof(text[i]));
			len[i] = strlen(text[i]);
		}
		t0 = now_s();
		for (size_t i = 0; i < N; i++) {
			if (!vf_addr_parse(text[i], len[i], &a))
				goto out;
			*sink += a.b[3];
		}
		ours[v6] = (now_s() - t0) * 1e9 / N;
		t0 = now_s();
		for (size_t i = 0; i < N; i++) {
			char copy[46];
			uint8_t b[16];

			memcpy(copy, text[i], len[i]);
			copy[len[i]] = '\0';
			if (inet_pton(v6 ? AF_INET6 : AF_INET, copy, b) != 1)
				goto out;
			*sink += b[3];
		}
		pton[v6] = (now_s() - t0) * 1e9 / N;
	}
	printf("parse: IPv4 %.1f ns (inet_pton %.1f), IPv6 %.1f ns "
		"(inet_pton %.1f)\n", ours[0], pton[0], ours[1], pton[1]);
	rc = 0;
out:
	free(text);
	free(len);
	return rc;
}

int main(int argc, char **argv)
{
	static const size_t sizes4[] = { 1000, 100000, 1000000 };
	static const size_t sizes6[] = { 1000, 100000 };
	struct vf_ipset *sets[5] = { NULL };
	struct vf_addr *look = malloc(LOOKUPS * sizeof(*look));
	uint64_t sink = 0;
	size_t n = 0;
	int rc = 1;

	rng_state = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	if (look == NULL)
		goto out;
	for (size_t i = 0; i < sizeof(sizes4) / sizeof(sizes4[0]); i++)
		if ((sets[n++] = bench_set(sizes4[i], false, look, &sink)) == NULL)
			goto out;
	for (size_t i = 0; i < sizeof(sizes6) / sizeof(sizes6[0]); i++)
		if ((sets[n++] = bench_set(sizes6[i], true, look, &sink)) == NULL)
			goto out;
	if (bench_combine((const struct vf_ipset *const *)sets, n, look, &sink))
		goto out;
	if (bench_parse(&sink))
		goto out;
	fprintf(stderr, "(checksum %" PRIu64 ")\n", sink);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		vf_ipset_destroy(sets[i]);
	free(look);
	if (rc)
		fprintf(stderr, "ipset_bench: failed\n");
	return rc;
}
