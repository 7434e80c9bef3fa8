#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vpcflowd/checkpoint.h"

static char dir[256];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vf-ckpt-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void write_file(const char *shard, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/s1/%s.checkpoint", dir, shard);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_roundtrip(void **state)
{
	char err[512], seq[VF_SEQ_MAX];
	struct vf_checkpoint_store *s = vf_checkpoint_file_create(dir, "s1",
		err, sizeof(err));
	static const char big[] = "49590338271490256608559692538361571095921"
		"575989136588898";

	assert_non_null(s);
	assert_int_equal(vf_checkpoint_get(s, "shardId-000000000000", seq, err,
		sizeof(err)), VF_CHECKPOINT_NONE);
	assert_int_equal(vf_checkpoint_put(s, "shardId-000000000000", "123",
		err, sizeof(err)), VF_CHECKPOINT_OK);
	assert_int_equal(vf_checkpoint_put(s, "shardId-000000000000", big, err,
		sizeof(err)), VF_CHECKPOINT_OK);
	assert_int_equal(vf_checkpoint_get(s, "shardId-000000000000", seq, err,
		sizeof(err)), VF_CHECKPOINT_OK);
	assert_string_equal(seq, big);
	assert_int_equal(vf_checkpoint_put(s, "shardId-000000000001",
		VF_CHECKPOINT_SHARD_END, err, sizeof(err)), VF_CHECKPOINT_OK);
	assert_int_equal(vf_checkpoint_get(s, "shardId-000000000001", seq, err,
		sizeof(err)), VF_CHECKPOINT_OK);
	assert_string_equal(seq, VF_CHECKPOINT_SHARD_END);
	/* no temporary file is left behind */
	char path[512];
	snprintf(path, sizeof(path), "%s/s1", dir);
	DIR *d = opendir(path);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		assert_null(strstr(e->d_name, ".tmp"));
		files++;
	}
	closedir(d);
	assert_int_equal(files, 2);
	/* bad names and values are refused, not written */
	assert_int_equal(vf_checkpoint_put(s, "../x", "1", err, sizeof(err)),
		VF_CHECKPOINT_IO);
	assert_int_equal(vf_checkpoint_put(s, "shard", "12a", err, sizeof(err)),
		VF_CHECKPOINT_IO);
	assert_int_equal(vf_checkpoint_put(s, "shard", "", err, sizeof(err)),
		VF_CHECKPOINT_IO);
	vf_checkpoint_destroy(s);
}

static void test_corrupt(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "", "truncated" },
		{ "vpcflowd-checkpoint 1\nstream s1\nshard sh\nsequence 12", "truncated" },
		{ "garbage\n", "bad first line" },
		{ "vpcflowd-checkpoint 1\nstream other\nshard sh\nsequence 1\n",
		  "another stream" },
		{ "vpcflowd-checkpoint 1\nstream s1\nshard other\nsequence 1\n",
		  "another shard" },
		{ "vpcflowd-checkpoint 1\nstream s1\nshard sh\nsequence 1x\n",
		  "bad sequence" },
		{ "vpcflowd-checkpoint 1\nstream s1\nshard sh\n", "missing lines" },
		{ "vpcflowd-checkpoint 1\nstream s1\nshard sh\nsequence 1\nx\n",
		  "extra lines" },
	};
	char err[512], seq[VF_SEQ_MAX];
	struct vf_checkpoint_store *s = vf_checkpoint_file_create(dir, "s1",
		err, sizeof(err));

	assert_non_null(s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file("sh", cases[i].text);
		err[0] = '\0';
		assert_int_equal(vf_checkpoint_get(s, "sh", seq, err, sizeof(err)),
			VF_CHECKPOINT_CORRUPT);
		/* the error names the file, the problem and the way out */
		assert_non_null(strstr(err, "/s1/sh.checkpoint"));
		assert_non_null(strstr(err, cases[i].why));
		assert_non_null(strstr(err, "delete it"));
	}
	vf_checkpoint_destroy(s);
}

static void test_bad_dir(void **state)
{
	char err[512], path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/file", dir);
	f = fopen(path, "w");
	fclose(f);
	assert_null(vf_checkpoint_file_create(path, "s1", err, sizeof(err)));
	assert_non_null(strstr(err, "checkpoint.path"));
	assert_null(vf_checkpoint_file_create(dir, "a/b", err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
