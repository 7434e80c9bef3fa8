#include "testutil.h"

#include <libdeflate.h>

#include "vpcflowd/inflate.h"

static uint8_t *gzip(const void *data, size_t len, size_t *out_len)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
	size_t bound = libdeflate_gzip_compress_bound(c, len);
	uint8_t *out = malloc(bound);

	*out_len = libdeflate_gzip_compress(c, data, len, out, bound);
	assert_true(*out_len > 0);
	libdeflate_free_compressor(c);
	return out;
}

static void test_roundtrip(void **state)
{
	static const char text[] = "{\"messageType\":\"DATA_MESSAGE\"}";
	struct vf_inflate *z = vf_inflate_create();
	struct vf_buf out;
	size_t glen, used = 0;
	uint8_t *g = gzip(text, sizeof(text) - 1, &glen);

	vf_buf_init(&out, 1 << 20);
	assert_int_equal(vf_inflate_member(z, g, glen, &out, &used),
		VF_INFLATE_OK);
	assert_int_equal(used, glen);
	assert_int_equal(out.len, sizeof(text) - 1);
	assert_memory_equal(out.data, text, out.len);
	vf_buf_finish(&out);
	free(g);
	vf_inflate_destroy(z);
}

/* Two members back to back: each call takes one and says how much it used. */
static void test_members(void **state)
{
	struct vf_inflate *z = vf_inflate_create();
	struct vf_buf out;
	size_t l1, l2, used;
	uint8_t *g1 = gzip("first", 5, &l1), *g2 = gzip("second", 6, &l2);
	uint8_t *both = malloc(l1 + l2);

	memcpy(both, g1, l1);
	memcpy(both + l1, g2, l2);
	vf_buf_init(&out, 1 << 20);
	assert_int_equal(vf_inflate_member(z, both, l1 + l2, &out, &used),
		VF_INFLATE_OK);
	assert_int_equal(used, l1);
	assert_int_equal(out.len, 5);
	vf_buf_reset(&out);
	assert_int_equal(vf_inflate_member(z, both + l1, l2, &out, &used),
		VF_INFLATE_OK);
	assert_int_equal(out.len, 6);
	assert_memory_equal(out.data, "second", 6);
	vf_buf_finish(&out);
	free(both);
	free(g1);
	free(g2);
	vf_inflate_destroy(z);
}

/* A bomb: 64 MiB of zeros (about 64 KiB gzipped) against a 1 MiB cap. */
static void test_bomb_capped(void **state)
{
	size_t n = 64u << 20, glen, used;
	uint8_t *zeros = calloc(1, n), *g;
	struct vf_inflate *z = vf_inflate_create();
	struct vf_buf out;

	g = gzip(zeros, n, &glen);
	free(zeros);
	vf_buf_init(&out, 1 << 20);
	assert_int_equal(vf_inflate_member(z, g, glen, &out, &used),
		VF_INFLATE_TOO_LARGE);
	assert_true(out.cap <= (1 << 20));
	vf_buf_finish(&out);
	free(g);
	vf_inflate_destroy(z);
}

/* The ISIZE trailer lies (says 10 bytes): growing still gets it all. */
static void test_lying_isize(void **state)
{
	size_t n = 300000, glen, used;
	char *text = malloc(n);
	uint8_t *g;
	struct vf_inflate *z = vf_inflate_create();
	struct vf_buf out;

	for (size_t i = 0; i < n; i++)
		text[i] = (char)('a' + (i * 7 + i / 13) % 26);
	g = gzip(text, n, &glen);
	g[glen - 4] = 10;
	g[glen - 3] = g[glen - 2] = g[glen - 1] = 0;
	vf_buf_init(&out, 1 << 20);
	/* libdeflate checks ISIZE: a lying trailer is corrupt data */
	assert_int_equal(vf_inflate_member(z, g, glen, &out, &used),
		VF_INFLATE_BAD_DATA);
	vf_buf_finish(&out);
	free(g);
	free(text);
	vf_inflate_destroy(z);
}

static void test_truncated_and_corrupt(void **state)
{
	char text[4096];
	size_t glen, used;
	uint8_t *g;
	struct vf_inflate *z = vf_inflate_create();
	struct vf_buf out;

	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)(' ' + i % 90);
	g = gzip(text, sizeof(text), &glen);
	vf_buf_init(&out, 1 << 20);
	for (size_t cut = 1; cut < glen; cut += 7) {
		vf_buf_reset(&out);
		assert_int_equal(vf_inflate_member(z, g, glen - cut, &out, &used),
			VF_INFLATE_BAD_DATA);
	}
	g[glen - 6] ^= 0x40;     /* CRC32 */
	vf_buf_reset(&out);
	assert_int_equal(vf_inflate_member(z, g, glen, &out, &used),
		VF_INFLATE_BAD_DATA);
	vf_buf_finish(&out);
	free(g);
	vf_inflate_destroy(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_bomb_capped),
		cmocka_unit_test(test_lying_isize),
		cmocka_unit_test(test_truncated_and_corrupt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
