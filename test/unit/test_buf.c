#include "testutil.h"

#include "vpcflowd/buf.h"

static void test_append_grows_to_cap(void **state)
{
	struct vf_buf b;
	char chunk[100];

	memset(chunk, 'x', sizeof(chunk));
	vf_buf_init(&b, 1000);
	for (int i = 0; i < 10; i++)
		assert_true(vf_buf_append(&b, chunk, sizeof(chunk)));
	assert_int_equal(b.len, 1000);
	assert_true(b.cap <= 1000);
	/* one more byte passes the cap: refused, contents untouched */
	assert_false(vf_buf_append(&b, "y", 1));
	assert_int_equal(b.len, 1000);
	assert_int_equal(b.data[999], 'x');
	vf_buf_reset(&b);
	assert_true(vf_buf_append(&b, "y", 1));
	assert_int_equal(b.len, 1);
	vf_buf_finish(&b);
	assert_null(b.data);
}

static void test_huge_request_refused(void **state)
{
	struct vf_buf b;

	vf_buf_init(&b, 1 << 20);
	assert_false(vf_buf_reserve(&b, SIZE_MAX));
	assert_false(vf_buf_reserve(&b, (1 << 20) + 1));
	assert_true(vf_buf_reserve(&b, 1 << 20));
	vf_buf_finish(&b);
}

static void test_printf(void **state)
{
	struct vf_buf b;

	vf_buf_init(&b, 64);
	assert_true(vf_buf_printf(&b, "%s=%d", "a", 42));
	assert_true(vf_buf_printf(&b, ",%s", "b"));
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "a=42,b", 6);
	assert_false(vf_buf_printf(&b, "%100s", "z"));
	assert_int_equal(b.len, 6);
	vf_buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_grows_to_cap),
		cmocka_unit_test(test_huge_request_refused),
		cmocka_unit_test(test_printf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
