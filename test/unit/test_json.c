#include "testutil.h"

#include <jansson.h>

#include "vpcflowd/json.h"

/* Escapes s, wraps it in a JSON array and lets jansson decode it back. */
static char *roundtrip(const char *s, size_t n, size_t *out_len)
{
	struct vf_buf b;
	json_error_t jerr;
	json_t *doc;
	char *res;

	vf_buf_init(&b, 1 << 20);
	assert_true(vf_buf_append(&b, "[", 1));
	assert_true(vf_json_put_string(&b, s, n));
	assert_true(vf_buf_append(&b, "]", 1));
	doc = json_loadb(b.data, b.len, JSON_ALLOW_NUL, &jerr);
	if (doc == NULL)
		fail_msg("invalid JSON out: %s: %.*s", jerr.text, (int)b.len,
			b.data);
	json_t *str = json_array_get(doc, 0);
	*out_len = json_string_length(str);
	res = malloc(*out_len + 1);
	memcpy(res, json_string_value(str), *out_len + 1);
	json_decref(doc);
	vf_buf_finish(&b);
	return res;
}

static void test_escape_roundtrip(void **state)
{
	static const char s[] = "plain \"quoted\" back\\slash \n\r\t\b\f "
		"\x01\x1f del\x7f caf\xc3\xa9 \xf0\x9f\x98\x80";
	size_t n;
	char *r = roundtrip(s, sizeof(s) - 1, &n);

	assert_int_equal(n, sizeof(s) - 1);
	assert_memory_equal(r, s, n);
	free(r);
}

static void test_nul_byte_kept(void **state)
{
	size_t n;
	char *r = roundtrip("a\0b", 3, &n);

	assert_int_equal(n, 3);
	assert_memory_equal(r, "a\0b", 3);
	free(r);
}

static void test_invalid_utf8_replaced(void **state)
{
	/* lone continuation, overlong, surrogate, truncated, > U+10FFFF */
	static const char *bad[] = {
		"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80",
		"\xff",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n;
		char *r = roundtrip(bad[i], strlen(bad[i]), &n);
		/* every byte became U+FFFD (3 bytes): jansson accepted it */
		assert_true(n >= 3);
		assert_memory_equal(r, "\xef\xbf\xbd", 3);
		free(r);
	}
}

static void test_unescape(void **state)
{
	static const struct {
		const char *in, *out;
		size_t out_len;
	} cases[] = {
		{ "abc", "abc", 3 },
		{ "a\\u0020b", "a b", 3 },
		{ "\\/\\\\\\\"\\n\\t", "/\\\"\n\t", 5 },
		{ "caf\\u00e9", "caf\xc3\xa9", 5 },
		{ "\\ud83d\\ude00", "\xf0\x9f\x98\x80", 4 },
		{ "\\ud83dx", "\xef\xbf\xbdx", 4 },       /* lone high surrogate */
		{ "\\ude00", "\xef\xbf\xbd", 3 },         /* lone low surrogate */
		{ "\\u0000", "\0", 1 },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ssize_t n = vf_json_unescape(cases[i].in, strlen(cases[i].in), out);
		assert_int_equal(n, (ssize_t)cases[i].out_len);
		assert_memory_equal(out, cases[i].out, cases[i].out_len);
	}
}

static void test_unescape_rejects(void **state)
{
	static const char *bad[] = { "a\\", "\\x", "\\u12", "\\u12g4", "a\nb" };
	char out[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vf_json_unescape(bad[i], strlen(bad[i]), out), -1);
}

static void test_is_plain(void **state)
{
	assert_true(vf_json_is_plain("2 123 eni-1 - -", 15));
	assert_false(vf_json_is_plain("a\\nb", 4));
	assert_false(vf_json_is_plain("a\tb", 3));
}

static void test_cap_hit(void **state)
{
	struct vf_buf b;

	vf_buf_init(&b, 16);
	/* 12 bytes escaped: fits though 6n+2 would not */
	assert_true(vf_json_put_string(&b, "0123456789", 10));
	assert_int_equal(b.len, 12);
	/* 4 + 2 more: the cap is 16 */
	assert_true(vf_json_put_string(&b, "ab\"", 3) == false);
	assert_int_equal(b.len, 12);
	assert_true(vf_json_put_string(&b, "ab", 2));
	assert_int_equal(b.len, 16);
	vf_buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_roundtrip),
		cmocka_unit_test(test_nul_byte_kept),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_unescape_rejects),
		cmocka_unit_test(test_is_plain),
		cmocka_unit_test(test_cap_hit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
