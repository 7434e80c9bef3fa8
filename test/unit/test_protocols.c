#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "vpcflowd/protocols.h"

static void expect_name(unsigned number, const char *want)
{
	size_t len = 12345;
	const char *got = vf_protocol_name(number, &len);

	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(len, strlen(want));
}

static void test_known(void **state)
{
	(void)state;
	expect_name(0, "HOPOPT");
	expect_name(1, "ICMP");
	expect_name(2, "IGMP");
	expect_name(4, "IPV4");
	expect_name(6, "TCP");
	expect_name(17, "UDP");
	expect_name(39, "TP++");
	expect_name(41, "IPV6");
	expect_name(47, "GRE");
	expect_name(50, "ESP");
	expect_name(51, "AH");
	expect_name(58, "IPV6-ICMP");
	expect_name(89, "OSPFIGP");
	expect_name(93, "AX.25");
	expect_name(103, "PIM");
	expect_name(112, "VRRP");
	expect_name(115, "L2TP");
	expect_name(132, "SCTP");
	expect_name(135, "MOBILITY-HEADER");
	expect_name(136, "UDPLITE");
	expect_name(137, "MPLS-IN-IP");
	expect_name(143, "ETHERNET");
	expect_name(147, "BIT-EMU");
}

static void test_unknown(void **state)
{
	static const unsigned unknown[] = {
		61, 63, 68, 99, 114, 148, 200, 252, 253, 254, 255,
		256, 257, 1000, 65535, 65536, UINT_MAX - 1, UINT_MAX,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		expect_name(unknown[i], "UNKNOWN");
}

static void test_len_optional(void **state)
{
	(void)state;
	assert_string_equal(vf_protocol_name(6, NULL), "TCP");
	assert_string_equal(vf_protocol_name(300, NULL), "UNKNOWN");
}

/*
 * Every name: non-empty, upper case, only [A-Z0-9.+-], except IANA's one
 * keyword with a slash, A/N (107); len matches; no two numbers share one.
 */
static void test_all_names(void **state)
{
	const char *names[256];
	unsigned n, m, known = 0;

	(void)state;
	for (n = 0; n < 256; n++) {
		size_t len = 0, i;
		const char *s = vf_protocol_name(n, &len);

		assert_non_null(s);
		assert_int_equal(len, strlen(s));
		assert_true(len > 0);
		for (i = 0; i < len; i++) {
			char c = s[i];
			bool ok = (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') ||
				c == '.' || c == '+' || c == '-' ||
				(c == '/' && n == 107);

			if (!ok)
				fail_msg("protocol %u: bad character in \"%s\"", n, s);
		}
		names[n] = s;
		if (strcmp(s, "UNKNOWN") != 0)
			known++;
	}
	expect_name(107, "A/N");
	for (n = 0; n < 256; n++) {
		if (strcmp(names[n], "UNKNOWN") == 0)
			continue;
		for (m = n + 1; m < 256; m++) {
			if (strcmp(names[n], names[m]) == 0)
				fail_msg("%u and %u are both %s", n, m, names[n]);
		}
	}
	/* 0-147 minus the five without a keyword: 61, 63, 68, 99, 114 */
	assert_int_equal(known, 148 - 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_len_optional),
		cmocka_unit_test(test_all_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
