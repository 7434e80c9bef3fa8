#include "testutil.h"

#include "vpcflowd/ipset.h"

/* Samples in each format, made up for these tests (documentation ranges). */

static const char plain_sample[] =
	"# Example blocklist, made up for the tests\r\n"
	"# generated 2024-05-01\r\n"
	"\r\n"
	"192.0.2.1\r\n"
	"  198.51.100.0/24   # a whole network\r\n"
	"203.0.113.7 ; a semicolon comment\r\n"
	"\t2001:db8:1::/48\t\r\n"
	"not-an-address\r\n"
	"10.0.0.0/33\r\n"
	"1.2.3.4 5.6.7.8\r\n"          /* the first word; the rest ignored */
	"::ffff:100.64.0.0/106\r\n"
	"#\r\n"
	"   \r\n"
	"233.252.0.1";

static const char spamhaus_sample[] =
	"; Made-up DROP style list for the tests\n"
	"; Last-Modified: Wed, 01 May 2024 00:00:00 GMT\n"
	"; Expires: Wed, 01 May 2024 01:00:00 GMT\n"
	"192.0.2.0/24 ; SBL000001\n"
	"198.51.100.0/25 ; SBL000002\n"
	"203.0.113.0/26;SBL000003\n"
	"bogus ; SBL000004\n"
	"\n";

static const char spamhaus_v6_sample[] =
	"; Made-up DROPv6 style list\r\n"
	"2001:db8::/32 ; SBL000010\r\n"
	"2001:db8:ffff::/48 ; SBL000011\r\n";

static const char spamhaus_json_sample[] =
	"{\"cidr\":\"192.0.2.0/24\",\"sblid\":\"SBL000001\",\"rir\":\"arin\"}\n"
	"{\"cidr\": \"198.51.100.0/24\", \"sblid\": \"SBL000002\", "
		"\"rir\": \"ripencc\"}\n"
	"{\"rir\":\"cidr\",\"cidr\" : \"2001:db8::/32\",\"sblid\":\"SBL3\"}\n"
	"{\"cidr\":\"not-a-prefix\",\"sblid\":\"SBL000004\"}\n"
	"{\"cidr\":5,\"sblid\":\"SBL000005\"}\n"
	"{\"type\":\"metadata\",\"timestamp\":1714521600,\"size\":1234,"
		"\"records\":5,\"copyright\":\"made up\"}\n";

static const char tor_sample[] =
	"ExitNode 0011223344556677889900AABBCCDDEEFF001122\n"
	"Published 2024-05-01 10:00:00\n"
	"LastStatus 2024-05-01 11:00:00\n"
	"ExitAddress 192.0.2.10 2024-05-01 11:05:00\n"
	"ExitNode FFEEDDCCBBAA00998877665544332211FFEEDDCC\n"
	"Published 2024-05-01 09:00:00\n"
	"LastStatus 2024-05-01 10:00:00\n"
	"ExitAddress 198.51.100.20 2024-05-01 10:01:00\n"
	"ExitAddress 2001:db8::20 2024-05-01 10:02:00\n"
	"ExitAddress nonsense 2024-05-01 10:03:00\n"
	"ExitAddress\n";

static const char tor_bulk_sample[] =
	"192.0.2.11\n"
	"198.51.100.21\n"
	"2001:db8::21\n"
	"# a comment\n"
	"192.0.2.300\n";

static const char csv_sample[] =
	"# made-up feed\n"
	"first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware\n"
	"\"2024-05-01 10:00:00\",\"192.0.2.50\",\"443\",\"online\","
		"\"2024-05-01\",\"Foo\"\n"
	"2024-05-01 10:05:00,198.51.100.60,8080,offline,2024-04-30,"
		"\"Bar, \"\"the\"\" bot\"\n"
	"2024-05-01 10:06:00, \"203.0.113.70\" ,80,online,2024-05-01,"
		"\"multi\nline\nname\"\n"
	"2024-05-01 10:07:00,not-an-ip,80,online,2024-05-01,Baz\n"
	"2024-05-01 10:08:00\n"
	"2024-05-01 10:09:00,2001:db8::70,443,online,2024-05-01,Qux\r\n"
	",\"192.0.2.1\"\"\",1\n";

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct parsed {
	struct vf_threat_parse_result res;
	struct vf_ipset *set;
};

/* Parses len bytes from an exact-size heap copy (ASan sees overreads). */
static struct parsed run(enum vf_config_threat_format fmt, unsigned column,
	const char *text, size_t len)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();
	char *copy = malloc(len ? len : 1);
	struct parsed p;

	assert_non_null(b);
	assert_non_null(copy);
	memcpy(copy, text, len);
	memset(&p.res, 0xaa, sizeof(p.res));
	assert_true(vf_threat_parse(fmt, column, copy, len, b, 1, &p.res));
	free(copy);
	assert_int_equal(vf_ipset_builder_count(b), p.res.entries);
	assert_int_equal(p.res.bad_lines == 0, p.res.first_bad_line == 0);
	p.set = vf_ipset_build(b);
	assert_non_null(p.set);
	vf_ipset_builder_destroy(b);
	return p;
}

static uint64_t look(const struct vf_ipset *s, const char *text)
{
	struct vf_addr a;

	if (!vf_addr_parse(text, strlen(text), &a))
		fail_msg("'%s' refused", text);
	return vf_ipset_lookup(s, &a);
}

struct sample {
	const char *name;
	enum vf_config_threat_format fmt;
	unsigned column;
	const char *text;
	size_t len;
	size_t entries, bad, first_bad;
	const char *in[8];     /* addresses in the set */
	const char *out[8];    /* addresses not in it */
};

#define S(t) t, sizeof(t) - 1

static const struct sample samples[] = {
	{ "plain", VF_CONFIG_THREAT_PLAIN, 0, S(plain_sample), 7, 2, 8,
		{ "192.0.2.1", "198.51.100.255", "203.0.113.7",
		  "2001:db8:1:ffff::1", "100.127.255.255", "233.252.0.1",
		  "1.2.3.4" },
		{ "192.0.2.2", "10.0.0.0", "5.6.7.8",
		  "100.128.0.0", "2001:db8:2::" } },
	{ "spamhaus", VF_CONFIG_THREAT_SPAMHAUS, 0, S(spamhaus_sample),
		3, 1, 7,
		{ "192.0.2.77", "198.51.100.127", "203.0.113.63" },
		{ "198.51.100.128", "203.0.113.64" } },
	{ "spamhaus v6", VF_CONFIG_THREAT_SPAMHAUS, 0, S(spamhaus_v6_sample),
		2, 0, 0,
		{ "2001:db8:1234::1", "2001:db8:ffff::1" },
		{ "2001:db9::", "192.0.2.1" } },
	{ "spamhaus json", VF_CONFIG_THREAT_SPAMHAUS, 0,
		S(spamhaus_json_sample), 3, 2, 4,
		{ "192.0.2.1", "198.51.100.1", "2001:db8::1" },
		{ "203.0.113.1" } },
	{ "tor", VF_CONFIG_THREAT_TOR, 0, S(tor_sample), 3, 2, 10,
		{ "192.0.2.10", "198.51.100.20", "2001:db8::20" },
		{ "192.0.2.11", "2001:db8::21" } },
	{ "tor bulk", VF_CONFIG_THREAT_TOR, 0, S(tor_bulk_sample), 3, 1, 5,
		{ "192.0.2.11", "198.51.100.21", "2001:db8::21" },
		{ "192.0.2.10" } },
	{ "csv", VF_CONFIG_THREAT_CSV, 2, S(csv_sample), 4, 3, 8,
		{ "192.0.2.50", "198.51.100.60", "203.0.113.70",
		  "2001:db8::70" },
		{ "192.0.2.1", "192.0.2.51" } },
	{ "csv no header", VF_CONFIG_THREAT_CSV, 3,
		S("x,\"a,b\",192.0.2.1\ny,\"c\"\"d\",192.0.2.2,z\n"
		  "header,like,line\n\"quoted\nthen\",,192.0.2.3\nq,r,\n"),
		3, 2, 3,
		{ "192.0.2.1", "192.0.2.2", "192.0.2.3" },
		{ "192.0.2.4" } },
	{ "csv first column", VF_CONFIG_THREAT_CSV, 0,
		S("ip\n192.0.2.1\n\"198.51.100.0/24\",x\n  \n#c,\"\n1.2.3\n"),
		2, 1, 6,
		{ "192.0.2.1", "198.51.100.200" }, { "1.2.3.0" } },
	{ "bom", VF_CONFIG_THREAT_PLAIN, 0, S("\xef\xbb\xbf" "192.0.2.1\n"),
		1, 0, 0, { "192.0.2.1" }, { "192.0.2.0" } },
	{ "empty", VF_CONFIG_THREAT_PLAIN, 0, S(""), 0, 0, 0,
		{ NULL }, { "192.0.2.0" } },
	{ "only comments", VF_CONFIG_THREAT_SPAMHAUS, 0,
		S("; a\n# b\n\n{\"type\":\"metadata\"}\n"), 0, 0, 0,
		{ NULL }, { "192.0.2.0" } },
};

static void test_samples(void **state)
{
	for (size_t i = 0; i < N(samples); i++) {
		const struct sample *s = &samples[i];
		struct parsed p = run(s->fmt, s->column, s->text, s->len);

		if (p.res.entries != s->entries || p.res.bad_lines != s->bad ||
		    p.res.first_bad_line != s->first_bad)
			fail_msg("%s: %zu entries, %zu bad, first %zu; want "
				"%zu, %zu, %zu", s->name, p.res.entries,
				p.res.bad_lines, p.res.first_bad_line,
				s->entries, s->bad, s->first_bad);
		for (size_t j = 0; j < N(s->in) && s->in[j]; j++)
			if (look(p.set, s->in[j]) != 1)
				fail_msg("%s: %s not found", s->name, s->in[j]);
		for (size_t j = 0; j < N(s->out) && s->out[j]; j++)
			if (look(p.set, s->out[j]) != 0)
				fail_msg("%s: %s found", s->name, s->out[j]);
		vf_ipset_destroy(p.set);
	}
}

static void test_result_optional(void **state)
{
	struct vf_ipset_builder *b = vf_ipset_builder_create();

	assert_true(vf_threat_parse(VF_CONFIG_THREAT_PLAIN, 0, "192.0.2.1\nx\n",
		12, b, 4, NULL));
	assert_int_equal(vf_ipset_builder_count(b), 1);
	assert_true(vf_threat_parse(VF_CONFIG_THREAT_PLAIN, 0, NULL, 0, b, 4,
		NULL));
	vf_ipset_builder_destroy(b);
}

/* Every prefix of every sample: no overread, sane counts. */
static void test_truncated(void **state)
{
	for (size_t i = 0; i < N(samples); i++) {
		const struct sample *s = &samples[i];

		for (size_t len = 0; len <= s->len; len++) {
			struct parsed p = run(s->fmt, s->column, s->text, len);

			assert_true(p.res.entries <= s->entries + 1);
			vf_ipset_destroy(p.set);
		}
	}
}

static uint64_t rng = 1;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Random bytes, mostly the ones the parsers look at. */
static void test_fuzz(void **state)
{
	static const char alpha[] = "0123456789abcdef.:/;#,\"{}\n\r \t"
		"ExitAddress\"cidr\":";
	char buf[400];

	rng = 3;
	for (int i = 0; i < 40000; i++) {
		size_t len = rnd() % sizeof(buf), lines = 1;
		struct parsed p;

		for (size_t j = 0; j < len; j++) {
			buf[j] = rnd() % 8 ? alpha[rnd() % (sizeof(alpha) - 1)]
				: (char)rnd();
			lines += buf[j] == '\n';
		}
		p = run((enum vf_config_threat_format)(i % 4),
			(unsigned)(rnd() % 4), buf, len);
		assert_true(p.res.entries + p.res.bad_lines <= lines);
		assert_true(p.res.first_bad_line <= lines);
		vf_ipset_destroy(p.set);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_result_optional),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
