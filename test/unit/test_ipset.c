#include "testutil.h"

#include <arpa/inet.h>

#include "vpcflowd/ipset.h"

/* splitmix64: the same numbers on every run and platform */
static uint64_t rng = 1;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Parses s from an exact-size heap copy, so ASan sees any read past n. */
static bool parse_exact(const char *s, size_t n, struct vf_addr *a)
{
	char *copy = malloc(n ? n : 1);
	bool ok;

	assert_non_null(copy);
	memcpy(copy, s, n);
	ok = vf_addr_parse(copy, n, a);
	free(copy);
	return ok;
}

static struct vf_addr addr(const char *s)
{
	struct vf_addr a;

	if (!vf_addr_parse(s, strlen(s), &a))
		fail_msg("'%s' refused", s);
	return a;
}

static void add(struct vf_ipset_builder *b, const char *cidr, uint64_t mask)
{
	struct vf_addr a;
	unsigned p;

	if (!vf_cidr_parse(cidr, strlen(cidr), &a, &p))
		fail_msg("'%s' refused", cidr);
	assert_true(vf_ipset_builder_add(b, &a, p, mask));
}

static uint64_t look(const struct vf_ipset *s, const char *text)
{
	struct vf_addr a = addr(text);

	return vf_ipset_lookup(s, &a);
}

struct probe {
	const char *addr;
	uint64_t mask;
};

static void expect_probes(const struct vf_ipset *s, const struct probe *p,
	size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t got = look(s, p[i].addr);

		if (got != p[i].mask)
			fail_msg("%s: mask %#llx, want %#llx", p[i].addr,
				(unsigned long long)got,
				(unsigned long long)p[i].mask);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- addresses ---- */

static void test_addr_valid(void **state)
{
	static const struct {
		const char *in;
		bool v6;
		const char *out;
	} cases[] = {
		{ "10.0.0.1", false, "10.0.0.1" },
		{ "0.0.0.0", false, "0.0.0.0" },
		{ "255.255.255.255", false, "255.255.255.255" },
		{ "1.20.100.200", false, "1.20.100.200" },
		{ "::", true, "::" },
		{ "::1", true, "::1" },
		{ "1::", true, "1::" },
		{ "2001:db8::", true, "2001:db8::" },
		{ "2001:DB8::Ab", true, "2001:db8::ab" },
		{ "0000:0000::0001", true, "::1" },
		{ "0:0:0:0:0:0:0:0", true, "::" },
		{ "1:2:3:4:5:6:7:8", true, "1:2:3:4:5:6:7:8" },
		{ "1:2:3:4:5:6:7::", true, "1:2:3:4:5:6:7:0" },
		{ "::2:3:4:5:6:7:8", true, "0:2:3:4:5:6:7:8" },
		{ "1::8", true, "1::8" },
		{ "fe80::1:2", true, "fe80::1:2" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true,
			"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ "::ffff:1.2.3.4", false, "1.2.3.4" },
		{ "::FFFF:0102:0304", false, "1.2.3.4" },
		{ "0::ffff:0.0.0.0", false, "0.0.0.0" },
		{ "::ffff:255.255.255.255", false, "255.255.255.255" },
		{ "64:ff9b::1.2.3.4", true, "64:ff9b::102:304" },
		{ "::1.2.3.4", true, "::1.2.3.4" },
		{ "1:2:3:4:5:6:1.2.3.4", true, "1:2:3:4:5:6:102:304" },
		{ "::ffff:0:1.2.3.4", true, "::ffff:0:102:304" },
	};
	char buf[46];

	for (size_t i = 0; i < N(cases); i++) {
		struct vf_addr a;

		if (!parse_exact(cases[i].in, strlen(cases[i].in), &a))
			fail_msg("'%s' refused", cases[i].in);
		assert_int_equal(a.v6, cases[i].v6);
		assert_string_equal(vf_addr_format(&a, buf, sizeof(buf)),
			cases[i].out);
	}
	/* only n bytes are read */
	struct vf_addr a;
	assert_true(vf_addr_parse("1.2.3.45", 7, &a));
	assert_string_equal(vf_addr_format(&a, buf, sizeof(buf)), "1.2.3.4");
	/* too small a buffer: empty, not cut */
	assert_string_equal(vf_addr_format(&a, buf, 7), "");
}

static void test_addr_invalid(void **state)
{
	static const char *const cases[] = {
		"", "010.0.0.1", "1.2.3", "1.2.3.4.5", "256.1.1.1",
		" 1.2.3.4", "1.2.3.4 ", "1..2.3", ".1.2.3", "1.2.3.",
		"1.2.3.04", "1.2.3.00", "1234.1.1.1", "-1.2.3.4", "+1.2.3.4",
		"1.2.3.4/32", "0x1.2.3.4", "1.2.3.4\n", "1", "a.b.c.d",
		":", ":::", "1:::2", "1::2::3", "12345::", "::12345",
		"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
		"1::3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1::", "1::2:", ":1:2:3:4:5:6:7",
		"1:2:3:4:5:6:7:", "g::", "::g", "::ffff:1.2.3", "::ffff:01.2.3.4",
		"::ffff:1.2.3.256", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5",
		"::1.2.3.4.5", "::ffff:1a.2.3.4", "1.2.3.4::", "[::1]",
		"fe80::1%eth0", " ::1", "::1 ", ":: 1", "1:2:3:4:5:6:7:8/64",
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct vf_addr a;

		if (parse_exact(cases[i], strlen(cases[i]), &a))
			fail_msg("'%s' accepted", cases[i]);
	}
	/* a NUL inside the length is not the end */
	struct vf_addr a;
	assert_false(vf_addr_parse("1.2.3.4\0", 8, &a));
	assert_false(vf_addr_parse("::1\0", 4, &a));
	assert_false(vf_addr_parse(NULL, 0, &a));
}

/* Random text that is often nearly an address. */
static void random_text(char *s, size_t cap)
{
	static const char alpha[] = "0123456789abcdefABCDEF::::....xg 0/";
	char tmp[64];
	size_t n = 0;
	uint8_t b[16];

	switch (below(6)) {
	case 0:
		/* anything from the alphabet */
		n = below(42);
		for (size_t i = 0; i < n; i++)
			s[i] = alpha[below(sizeof(alpha) - 1)];
		s[n] = '\0';
		return;
	case 1:
	case 2: {
		/* dotted, with edge values and now and then a leading zero */
		static const unsigned edge[] = { 0, 1, 9, 10, 99, 100, 199,
			200, 249, 250, 255, 256, 300, 999 };
		n = 0;
		for (int i = 0; i < 4; i++) {
			unsigned v = below(3) ? below(256) : edge[below(N(edge))];
			n += (size_t)snprintf(s + n, cap - n, "%s%s%u",
				i ? "." : "", below(20) ? "" : "0", v);
		}
		break;
	}
	default:
		/* an IPv6 address with runs of zeros, in inet_ntop's form or
		 * expanded, some groups padded, some upper case */
		for (int i = 0; i < 16; i += 2) {
			unsigned w = below(3) ? 0 : (unsigned)rnd();
			if (below(8) == 0)
				w &= 0xff;
			b[i] = (uint8_t)(w >> 8);
			b[i + 1] = (uint8_t)w;
		}
		if (below(4) == 0)
			memcpy(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		if (below(2)) {
			inet_ntop(AF_INET6, b, tmp, sizeof(tmp));
		} else {
			size_t m = 0;
			for (int i = 0; i < 16; i += 2)
				m += (size_t)snprintf(tmp + m, sizeof(tmp) - m,
					below(4) ? "%s%x" : "%s%04X", i ? ":" : "",
					(unsigned)(b[i] << 8 | b[i + 1]));
		}
		n = strlen(tmp);
		memcpy(s, tmp, n + 1);
		break;
	}
	/* sometimes break it a little */
	if (below(3) == 0 && n > 0) {
		size_t at = below((unsigned)n);
		switch (below(3)) {
		case 0:
			memmove(s + at, s + at + 1, n - at);
			n--;
			break;
		case 1:
			if (n + 2 < cap) {
				memmove(s + at + 1, s + at, n - at + 1);
				s[at] = alpha[below(sizeof(alpha) - 1)];
				n++;
			}
			break;
		default:
			s[at] = alpha[below(sizeof(alpha) - 1)];
			break;
		}
	}
	s[n] = '\0';
}

/* vf_addr_parse agrees with inet_pton, and formats back as inet_ntop. */
static void test_addr_vs_inet_pton(void **state)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };
	size_t valid = 0;

	rng = 42;
	for (int i = 0; i < 200000; i++) {
		char s[64], out[46], want[46];
		uint8_t b4[4], b6[16];
		struct vf_addr a, again;
		bool ok4, ok6, ok;

		random_text(s, sizeof(s));
		ok4 = inet_pton(AF_INET, s, b4) == 1;
		ok6 = inet_pton(AF_INET6, s, b6) == 1;
		ok = parse_exact(s, strlen(s), &a);
		if (ok != (ok4 || ok6))
			fail_msg("'%s': ours %d, inet_pton %d", s, ok, ok4 || ok6);
		if (!ok)
			continue;
		valid++;
		if (ok4) {
			assert_false(a.v6);
			assert_memory_equal(a.b, b4, 4);
			inet_ntop(AF_INET, b4, want, sizeof(want));
		} else if (memcmp(b6, mapped, 12) == 0) {
			assert_false(a.v6);
			assert_memory_equal(a.b, b6 + 12, 4);
			inet_ntop(AF_INET, b6 + 12, want, sizeof(want));
		} else {
			assert_true(a.v6);
			assert_memory_equal(a.b, b6, 16);
			inet_ntop(AF_INET6, b6, want, sizeof(want));
		}
		assert_string_equal(vf_addr_format(&a, out, sizeof(out)), want);
		assert_true(vf_addr_parse(out, strlen(out), &again));
		assert_int_equal(again.v6, a.v6);
		assert_memory_equal(again.b, a.b, a.v6 ? 16 : 4);
	}
	/* the generator must make both kinds */
	assert_true(valid > 50000 && valid < 180000);
}

/* ---- prefixes ---- */

static void test_cidr_valid(void **state)
{
	static const struct {
		const char *in;
		bool v6;
		unsigned prefix;
		const char *addr;
	} cases[] = {
		{ "10.0.0.0/8", false, 8, "10.0.0.0" },
		{ "10.1.2.3/8", false, 8, "10.1.2.3" },
		{ "1.2.3.4", false, 32, "1.2.3.4" },
		{ "1.2.3.4/0", false, 0, "1.2.3.4" },
		{ "0.0.0.0/0", false, 0, "0.0.0.0" },
		{ "1.2.3.4/32", false, 32, "1.2.3.4" },
		{ "::/0", true, 0, "::" },
		{ "::", true, 128, "::" },
		{ "2001:db8::/32", true, 32, "2001:db8::" },
		{ "::1/128", true, 128, "::1" },
		{ "2001:db8::1/100", true, 100, "2001:db8::1" },
		{ "::ffff:10.0.0.0/104", false, 8, "10.0.0.0" },
		{ "::ffff:0:0/96", false, 0, "0.0.0.0" },
		{ "::ffff:1.2.3.4", false, 32, "1.2.3.4" },
		{ "::ffff:0:0/95", true, 95, "::ffff:0.0.0.0" },
	};
	char buf[46];

	for (size_t i = 0; i < N(cases); i++) {
		struct vf_addr a;
		unsigned p = 999;

		if (!vf_cidr_parse(cases[i].in, strlen(cases[i].in), &a, &p))
			fail_msg("'%s' refused", cases[i].in);
		assert_int_equal(a.v6, cases[i].v6);
		assert_int_equal(p, cases[i].prefix);
		assert_string_equal(vf_addr_format(&a, buf, sizeof(buf)),
			cases[i].addr);
	}
}

static void test_cidr_invalid(void **state)
{
	static const char *const cases[] = {
		"", "/", "/8", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/08",
		"1.2.3.4/00", "1.2.3.4/ 8", "1.2.3.4 /8", " 1.2.3.4/8",
		"1.2.3.4/8 ", "1.2.3.4/8\r", "::/129", "::/0128", "1.2.3.4/8/8",
		"1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/1000", "1.2.3/8",
		"10.0.0.0/8x", "::ffff:1.2.3.4/129", "2001:db8::/", "2001:db8:/32",
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct vf_addr a;
		unsigned p;

		if (vf_cidr_parse(cases[i], strlen(cases[i]), &a, &p))
			fail_msg("'%s' accepted", cases[i]);
	}
}

/* ---- sets ---- */

static void test_nested(void **state)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	static const struct probe probes[] = {
		{ "9.255.255.255", 0 },
		{ "10.0.0.0", 1 },
		{ "10.0.255.255", 1 },
		{ "10.1.0.0", 3 },
		{ "10.1.2.3", 3 },
		{ "10.1.2.4", 7 },
		{ "10.1.2.5", 3 },
		{ "10.1.255.255", 3 },
		{ "10.2.0.0", 1 },
		{ "10.2.3.4", 1 },
		{ "10.255.255.255", 9 },
		{ "11.0.0.0", 0 },
		{ "::ffff:10.1.2.4", 7 },
		{ "::a01:204", 0 },
	};
	struct vf_ipset *s;

	add(b, "10.0.0.0/8", 1);
	add(b, "10.1.0.0/16", 2);
	add(b, "10.1.2.4", 4);
	add(b, "10.255.255.255/32", 8);
	assert_int_equal(vf_ipset_builder_count(b), 4);
	s = vf_ipset_build(b);
	assert_non_null(s);
	expect_probes(s, probes, N(probes));
	/* 10/8 before, 10.1/16, 10.1.2.4, 10.1/16, 10/8, 10.255.255.255 */
	assert_int_equal(vf_ipset_ranges(s), 6);
	assert_true(vf_ipset_bytes(s) > 0);
	vf_ipset_destroy(s);
	vf_ipset_builder_destroy(b);
}

static void test_adjacent_and_duplicates(void **state)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	static const struct probe probes[] = {
		{ "192.0.2.0", 1 },
		{ "192.0.2.127", 1 },
		{ "192.0.2.128", 1 },
		{ "192.0.2.255", 1 },
		{ "192.0.3.0", 0 },
		{ "198.51.100.0", 2 },
		{ "198.51.100.127", 2 },
		{ "198.51.100.128", 4 },
		{ "198.51.100.255", 4 },
		{ "198.51.101.0", 0 },
		{ "203.0.113.7", 0x30 },
		{ "203.0.113.8", 0x30 },
		{ "203.0.113.9", 0x30 },
		{ "203.0.113.10", 0 },
		{ "203.0.113.6", 0 },
	};
	struct vf_ipset *s;

	/* same mask side by side: one range */
	add(b, "192.0.2.128/25", 1);
	add(b, "192.0.2.0/25", 1);
	/* different masks side by side: two */
	add(b, "198.51.100.0/25", 2);
	add(b, "198.51.100.128/25", 4);
	/* the same prefix twice (host bits differ): masks OR */
	add(b, "203.0.113.7/32", 0x10);
	add(b, "203.0.113.7", 0x20);
	add(b, "203.0.113.9/31", 0x30);
	add(b, "203.0.113.8/31", 0x10);
	add(b, "203.0.113.8/32", 0x20);
	assert_int_equal(vf_ipset_builder_count(b), 9);
	s = vf_ipset_build(b);
	assert_non_null(s);
	expect_probes(s, probes, N(probes));
	assert_int_equal(vf_ipset_ranges(s), 4);
	vf_ipset_destroy(s);
	vf_ipset_builder_destroy(b);
}

static void test_whole_space_and_ends(void **state)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	static const struct probe probes[] = {
		{ "0.0.0.0", 1 },
		{ "0.0.0.1", 1 },
		{ "127.0.0.1", 1 },
		{ "255.255.255.254", 1 },
		{ "255.255.255.255", 3 },
		{ "::", 4 },
		{ "::1", 4 },
		{ "2001:db8::1", 4 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 4 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 12 },
		{ "::ffff:255.255.255.255", 3 },
	};
	struct vf_ipset *s;

	add(b, "255.255.255.255/32", 2);
	add(b, "0.0.0.0/0", 1);
	add(b, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 8);
	add(b, "::/0", 4);
	s = vf_ipset_build(b);
	assert_non_null(s);
	expect_probes(s, probes, N(probes));
	assert_int_equal(vf_ipset_ranges(s), 4);
	vf_ipset_destroy(s);

	/* only the top ends */
	vf_ipset_builder_destroy(b);
	b = vf_ipset_builder_create();
	add(b, "255.255.255.255", 1);
	add(b, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 2);
	add(b, "128.0.0.0/1", 4);
	add(b, "8000::/1", 8);
	s = vf_ipset_build(b);
	assert_non_null(s);
	assert_int_equal(look(s, "255.255.255.255"), 5);
	assert_int_equal(look(s, "255.255.255.254"), 4);
	assert_int_equal(look(s, "127.255.255.255"), 0);
	assert_int_equal(look(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 10);
	assert_int_equal(look(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), 8);
	assert_int_equal(look(s, "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 0);
	assert_int_equal(vf_ipset_ranges(s), 4);
	vf_ipset_destroy(s);
	vf_ipset_builder_destroy(b);
}

static void test_families_apart(void **state)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	struct vf_ipset *s;

	add(b, "0.0.0.0/0", 1);
	s = vf_ipset_build(b);
	assert_int_equal(look(s, "1.2.3.4"), 1);
	assert_int_equal(look(s, "::"), 0);
	assert_int_equal(look(s, "::1.2.3.4"), 0);
	assert_int_equal(look(s, "2001:db8::"), 0);
	vf_ipset_destroy(s);
	vf_ipset_builder_destroy(b);

	b = vf_ipset_builder_create();
	add(b, "::/0", 1);
	s = vf_ipset_build(b);
	assert_int_equal(look(s, "1.2.3.4"), 0);
	assert_int_equal(look(s, "0.0.0.0"), 0);
	assert_int_equal(look(s, "255.255.255.255"), 0);
	assert_int_equal(look(s, "::"), 1);
	vf_ipset_destroy(s);
	vf_ipset_builder_destroy(b);

	/* an IPv6 prefix around the mapped /96 holds no IPv4 address */
	b = vf_ipset_builder_create();
	add(b, "::ffff:0:0/95", 1);
	add(b, "::/96", 2);
	s = vf_ipset_build(b);
	assert_int_equal(look(s, "1.2.3.4"), 0);
	assert_int_equal(look(s, "::1.2.3.4"), 2);
	assert_int_equal(look(s, "::fffe:1:2"), 1);
	vf_ipset_destroy(s);
	vf_ipset_builder_destroy(b);
}

static void test_empty_and_refused(void **state)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	struct vf_addr v4 = addr("1.2.3.4"), v6 = addr("::1");
	struct vf_ipset *s;

	assert_false(vf_ipset_builder_add(b, &v4, 8, 0));
	assert_false(vf_ipset_builder_add(b, &v4, 33, 1));
	assert_false(vf_ipset_builder_add(b, &v6, 129, 1));
	assert_true(vf_ipset_builder_add(b, &v6, 128, 1));
	assert_true(vf_ipset_builder_add(b, &v4, 32, 1));
	assert_int_equal(vf_ipset_builder_count(b), 2);
	vf_ipset_builder_destroy(b);

	b = vf_ipset_builder_create();
	s = vf_ipset_build(b);
	assert_non_null(s);
	assert_int_equal(vf_ipset_ranges(s), 0);
	assert_int_equal(vf_ipset_lookup(s, &v4), 0);
	assert_int_equal(vf_ipset_lookup(s, &v6), 0);
	vf_ipset_destroy(s);
	vf_ipset_builder_destroy(b);

	assert_int_equal(vf_ipset_lookup(NULL, &v4), 0);
	assert_int_equal(vf_ipset_ranges(NULL), 0);
	assert_int_equal(vf_ipset_bytes(NULL), 0);
	vf_ipset_destroy(NULL);
	vf_ipset_builder_destroy(NULL);
}

static void test_builder_reused(void **state)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	struct vf_ipset *s1, *s2;

	add(b, "10.0.0.0/8", 1);
	s1 = vf_ipset_build(b);
	add(b, "10.1.0.0/16", 2);
	add(b, "2001:db8::/32", 4);
	s2 = vf_ipset_build(b);
	assert_int_equal(vf_ipset_builder_count(b), 3);
	vf_ipset_builder_destroy(b);
	assert_int_equal(look(s1, "10.1.0.0"), 1);
	assert_int_equal(look(s1, "2001:db8::1"), 0);
	assert_int_equal(look(s2, "10.1.0.0"), 3);
	assert_int_equal(look(s2, "2001:db8::1"), 4);
	vf_ipset_destroy(s1);
	vf_ipset_destroy(s2);
}

static struct vf_ipset *set_of(const char *const *cidrs, uint64_t mask)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	struct vf_ipset *s;

	for (; *cidrs; cidrs++)
		add(b, *cidrs, mask);
	s = vf_ipset_build(b);
	vf_ipset_builder_destroy(b);
	assert_non_null(s);
	return s;
}

static void test_combine(void **state)
{
	static const char *const a[] = { "10.0.0.0/8", "2001:db8::/32", NULL };
	static const char *const c[] = { "10.1.0.0/16", "10.2.0.0/16", "::/0",
		"255.255.255.255", NULL };
	static const char *const d[] = { "10.1.0.0/16", NULL };
	static const struct probe probes[] = {
		{ "9.0.0.0", 0 },
		{ "10.0.0.0", 1 },
		{ "10.1.0.0", 0xd },
		{ "10.1.255.255", 0xd },
		{ "10.2.0.0", 5 },
		{ "10.3.0.0", 1 },
		{ "11.0.0.0", 0 },
		{ "255.255.255.255", 4 },
		{ "::", 4 },
		{ "2001:db8::", 5 },
		{ "2001:db9::", 4 },
	};
	struct vf_ipset *sa = set_of(a, 0x30), *sc = set_of(c, 1),
		*sd = set_of(d, 2), *s;
	const struct vf_ipset *sets[4] = { sa, NULL, sc, sd };
	const struct vf_ipset *many[65];

	s = vf_ipset_combine(sets, 4);
	assert_non_null(s);
	expect_probes(s, probes, N(probes));
	/* v4: 10.0/16, 10.1/16, 10.2/16, 10.3-10.255, 255.255.255.255;
	 * v6: ::-2001:db7:..., 2001:db8::/32, the rest */
	assert_int_equal(vf_ipset_ranges(s), 8);
	vf_ipset_destroy(s);

	s = vf_ipset_combine(NULL, 0);
	assert_non_null(s);
	assert_int_equal(vf_ipset_ranges(s), 0);
	vf_ipset_destroy(s);

	/* bit 63 is the last */
	for (int i = 0; i < 65; i++)
		many[i] = NULL;
	many[63] = sd;
	s = vf_ipset_combine(many, 64);
	assert_non_null(s);
	assert_true(look(s, "10.1.2.3") == UINT64_C(1) << 63);
	vf_ipset_destroy(s);
	assert_null(vf_ipset_combine(many, 65));

	vf_ipset_destroy(sa);
	vf_ipset_destroy(sc);
	vf_ipset_destroy(sd);
}

/* ---- against a linear model ---- */

/* A prefix as its first and last address, as numbers (IPv4 in lo). */
struct model_entry {
	uint64_t lo[2], hi[2];
	uint64_t mask;
};

static void to_num(const uint8_t *b, bool v6, uint64_t out[2])
{
	out[0] = out[1] = 0;
	for (int i = 0; i < (v6 ? 16 : 4); i++)
		out[v6 ? i / 8 : 1] = out[v6 ? i / 8 : 1] << 8 | b[i];
}

static void bounds(const struct vf_addr *a, unsigned len,
	struct model_entry *m)
{
	unsigned nbits = a->v6 ? 128 : 32;
	uint8_t lo[16] = { 0 }, hi[16] = { 0 };

	for (unsigned i = 0; i < nbits; i++) {
		unsigned bit = 0x80 >> (i % 8);

		if (i < len) {
			lo[i / 8] |= a->b[i / 8] & bit;
			hi[i / 8] |= a->b[i / 8] & bit;
		} else {
			hi[i / 8] |= bit;
		}
	}
	to_num(lo, a->v6, m->lo);
	to_num(hi, a->v6, m->hi);
}

static inline bool num_le(const uint64_t a[2], const uint64_t b[2])
{
	return a[0] < b[0] || (a[0] == b[0] && a[1] <= b[1]);
}

/* The OR of the masks of the prefixes (of a's family) holding a. */
static uint64_t model_lookup(const struct model_entry *m, size_t n,
	const struct vf_addr *a)
{
	uint64_t k[2], mask = 0;

	to_num(a->b, a->v6, k);
	for (size_t i = 0; i < n; i++)
		if (num_le(m[i].lo, k) && num_le(k, m[i].hi))
			mask |= m[i].mask;
	return mask;
}

static void from_num(const uint64_t k[2], bool v6, struct vf_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->v6 = v6;
	for (int i = 0; i < (v6 ? 16 : 4); i++)
		a->b[i] = (uint8_t)(k[v6 ? i / 8 : 1] >> (v6 ? 56 - 8 * (i % 8) :
			24 - 8 * i));
}

/* Adds d (+1 or -1) to a; false when it wraps. */
static bool step(struct vf_addr *a, int d)
{
	for (int i = a->v6 ? 15 : 3; i >= 0; i--) {
		uint8_t old = a->b[i];

		a->b[i] = (uint8_t)(a->b[i] + d);
		if ((d > 0 && old != 0xff) || (d < 0 && old != 0))
			return true;
	}
	return false;
}

/* A random prefix near one of a few bases, so that many overlap. */
static void random_prefix(bool v6, const uint8_t bases[][16], size_t nbases,
	struct vf_addr *a, unsigned *len)
{
	unsigned nbits = v6 ? 128 : 32;
	unsigned keep = below(nbits + 1);

	a->v6 = v6;
	memcpy(a->b, bases[below((unsigned)nbases)], 16);
	if (!v6)
		memset(a->b + 4, 0, 12);
	for (unsigned i = keep; i < nbits; i++)
		if (rnd() & 1)
			a->b[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
	/* mostly long prefixes, some short ones */
	*len = below(4) ? nbits - below(nbits / 2 + 1) : below(nbits + 1);
}

static void random_addr(bool v6, const uint8_t bases[][16], size_t nbases,
	struct vf_addr *a)
{
	unsigned len;

	random_prefix(v6, bases, nbases, a, &len);
}

static void check_random(bool v6, size_t nprefix, size_t nlook)
{
	uint8_t bases[8][16];
	struct model_entry *m = calloc(nprefix + 1, sizeof(*m));
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	struct vf_ipset *s;

	assert_non_null(m);
	for (size_t i = 0; i < N(bases); i++)
		for (int j = 0; j < 16; j++)
			bases[i][j] = (uint8_t)rnd();
	/* the ends of the space too */
	memset(bases[0], 0, 16);
	memset(bases[1], 0xff, 16);
	for (size_t i = 0; i < nprefix; i++) {
		struct vf_addr a;
		unsigned len;

		random_prefix(v6, bases, N(bases), &a, &len);
		m[i].mask = UINT64_C(1) << below(12);
		bounds(&a, len, &m[i]);
		assert_true(vf_ipset_builder_add(b, &a, len, m[i].mask));
	}
	s = vf_ipset_build(b);
	assert_non_null(s);
	assert_true(vf_ipset_ranges(s) <= 2 * nprefix + 1);

	/* every prefix's ends and their neighbours */
	for (size_t i = 0; i < nprefix; i++) {
		struct vf_addr a, o;

		for (int e = 0; e < 2; e++) {
			from_num(e ? m[i].hi : m[i].lo, v6, &a);
			assert_int_equal(vf_ipset_lookup(s, &a),
				model_lookup(m, nprefix, &a));
			for (int d = -1; d <= 1; d += 2) {
				o = a;
				if (step(&o, d))
					assert_int_equal(vf_ipset_lookup(s, &o),
						model_lookup(m, nprefix, &o));
			}
		}
	}
	for (size_t i = 0; i < nlook; i++) {
		struct vf_addr a;

		random_addr(v6, bases, N(bases), &a);
		assert_int_equal(vf_ipset_lookup(s, &a),
			model_lookup(m, nprefix, &a));
	}
	vf_ipset_destroy(s);
	vf_ipset_builder_destroy(b);
	free(m);
}

static void test_random_v4(void **state)
{
	rng = 7;
	for (int round = 0; round < 3; round++)
		check_random(false, 3000, 5000);
	/* small sets too: the directory shrinks with them */
	for (size_t n = 0; n < 40; n++)
		check_random(false, n, 500);
}

static void test_random_v6(void **state)
{
	rng = 8;
	for (int round = 0; round < 3; round++)
		check_random(true, 3000, 5000);
	for (size_t n = 0; n < 40; n++)
		check_random(true, n, 500);
}

/* combine of random sets against the lookups of each one */
static void test_random_combine(void **state)
{
	enum { SETS = 10 };
	uint8_t bases[4][16];
	struct vf_ipset *sets[SETS], *s;

	rng = 9;
	for (size_t i = 0; i < N(bases); i++)
		for (int j = 0; j < 16; j++)
			bases[i][j] = (uint8_t)rnd();
	for (int k = 0; k < SETS; k++) {
		struct vf_ipset_builder *b = vf_ipset_builder_create();
		size_t n = k == 3 ? 0 : below(400);

		for (size_t i = 0; i < n; i++) {
			struct vf_addr a;
			unsigned len;

			random_prefix(below(2), bases, N(bases), &a, &len);
			assert_true(vf_ipset_builder_add(b, &a, len,
				1 + rnd() % 7));
		}
		sets[k] = vf_ipset_build(b);
		assert_non_null(sets[k]);
		vf_ipset_builder_destroy(b);
	}
	s = vf_ipset_combine((const struct vf_ipset *const *)sets, SETS);
	assert_non_null(s);
	for (int i = 0; i < 50000; i++) {
		struct vf_addr a;
		uint64_t want = 0;

		random_addr(below(2), bases, N(bases), &a);
		for (int k = 0; k < SETS; k++)
			if (vf_ipset_lookup(sets[k], &a))
				want |= UINT64_C(1) << k;
		assert_int_equal(vf_ipset_lookup(s, &a), want);
	}
	vf_ipset_destroy(s);
	for (int k = 0; k < SETS; k++)
		vf_ipset_destroy(sets[k]);
}

/* A million prefixes: built, and a few known ones found. */
static void test_million(void **state)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	struct vf_addr first[100];
	struct vf_ipset *s;

	rng = 10;
	for (int i = 0; i < 1000000; i++) {
		/* never inside 240.0.0.0/4, which stays empty */
		uint32_t x = (uint32_t)rnd() % 0xf0000000u;
		unsigned len = 16 + below(17);
		struct vf_addr a = { .v6 = false };

		x &= (uint32_t)(UINT64_C(0xffffffff) << (32 - len));
		a.b[0] = (uint8_t)(x >> 24);
		a.b[1] = (uint8_t)(x >> 16);
		a.b[2] = (uint8_t)(x >> 8);
		a.b[3] = (uint8_t)x;
		if (i < 100)
			first[i] = a;
		assert_true(vf_ipset_builder_add(b, &a, len, 1));
	}
	add(b, "250.1.2.0/24", 2);
	add(b, "2001:db8::/32", 4);
	s = vf_ipset_build(b);
	vf_ipset_builder_destroy(b);
	assert_non_null(s);
	for (int i = 0; i < 100; i++)
		assert_int_equal(vf_ipset_lookup(s, &first[i]), 1);
	assert_int_equal(look(s, "250.1.2.3"), 2);
	assert_int_equal(look(s, "250.1.3.0"), 0);
	assert_int_equal(look(s, "240.0.0.0"), 0);
	assert_int_equal(look(s, "255.255.255.255"), 0);
	assert_int_equal(look(s, "2001:db8::1"), 4);
	assert_true(vf_ipset_ranges(s) > 100000);
	/* memory follows the ranges: a few words each */
	assert_true(vf_ipset_bytes(s) < 64 * vf_ipset_ranges(s) + (1 << 20));
	vf_ipset_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_valid),
		cmocka_unit_test(test_addr_invalid),
		cmocka_unit_test(test_addr_vs_inet_pton),
		cmocka_unit_test(test_cidr_valid),
		cmocka_unit_test(test_cidr_invalid),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_adjacent_and_duplicates),
		cmocka_unit_test(test_whole_space_and_ends),
		cmocka_unit_test(test_families_apart),
		cmocka_unit_test(test_empty_and_refused),
		cmocka_unit_test(test_builder_reused),
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_random_v4),
		cmocka_unit_test(test_random_v6),
		cmocka_unit_test(test_random_combine),
		cmocka_unit_test(test_million),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
