/*
 * The file checkpoint store. One small text file a shard:
 *
 *   vpcflowd-checkpoint 1
 *   stream vpc-flow-logs
 *   shard shardId-000000000001
 *   sequence 49590338271490256608559692538361571095921575989136588898
 *
 * checked strictly on reading: a damaged file is an error naming the file,
 * never a silent start from somewhere else.
 */
#include "vpcflowd/checkpoint.h"

#include "vpcflowd/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "vpcflowd-checkpoint 1"

struct file_store {
	struct vf_checkpoint_store base;
	char dir[PATH_MAX];
	char stream[VF_SHARD_ID_MAX];
};

static bool valid_name(const char *s)
{
	if (s[0] == '\0' || s[0] == '.' || strlen(s) >= VF_SHARD_ID_MAX)
		return false;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	}
	return true;
}

static bool valid_seq(const char *s)
{
	size_t n = strlen(s);

	if (strcmp(s, VF_CHECKPOINT_SHARD_END) == 0)
		return true;
	if (n == 0 || n >= VF_SEQ_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void path_of(const struct file_store *fs, const char *shard,
	char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s.checkpoint", fs->dir, shard);
}

static enum vf_checkpoint_status corrupt(char *err, size_t errlen,
	const char *path, const char *why)
{
	snprintf(err, errlen, "checkpoint file %s is corrupt (%s): restore it, "
		"or delete it to restart that shard from kinesis.start_position "
		"(see docs/operations.md)", path, why);
	return VF_CHECKPOINT_CORRUPT;
}

static enum vf_checkpoint_status file_get(struct vf_checkpoint_store *s,
	const char *shard, char seq[VF_SEQ_MAX], char *err, size_t errlen)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX + 64], buf[512], want[VF_SHARD_ID_MAX + 16];
	char *line, *save;
	ssize_t n;
	int fd, field = 0;

	if (!valid_name(shard)) {
		snprintf(err, errlen, "invalid shard id");
		return VF_CHECKPOINT_IO;
	}
	path_of(fs, shard, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return VF_CHECKPOINT_NONE;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return VF_CHECKPOINT_IO;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return VF_CHECKPOINT_IO;
	}
	if ((size_t)n == sizeof(buf) - 1)
		return corrupt(err, errlen, path, "too long");
	buf[n] = '\0';
	if (n == 0 || buf[n - 1] != '\n')
		return corrupt(err, errlen, path, "truncated");
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), field++) {
		switch (field) {
		case 0:
			if (strcmp(line, MAGIC) != 0)
				return corrupt(err, errlen, path, "bad first line");
			break;
		case 1:
			snprintf(want, sizeof(want), "stream %s", fs->stream);
			if (strcmp(line, want) != 0)
				return corrupt(err, errlen, path, "another stream");
			break;
		case 2:
			snprintf(want, sizeof(want), "shard %s", shard);
			if (strcmp(line, want) != 0)
				return corrupt(err, errlen, path, "another shard");
			break;
		case 3:
			if (strncmp(line, "sequence ", 9) != 0 ||
			    !valid_seq(line + 9))
				return corrupt(err, errlen, path,
					"bad sequence number");
			snprintf(seq, VF_SEQ_MAX, "%s", line + 9);
			break;
		default:
			return corrupt(err, errlen, path, "extra lines");
		}
	}
	if (field != 4)
		return corrupt(err, errlen, path, "missing lines");
	return VF_CHECKPOINT_OK;
}

static enum vf_checkpoint_status file_put(struct vf_checkpoint_store *s,
	const char *shard, const char *seq, char *err, size_t errlen)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX + 64], tmp[PATH_MAX + 96], text[512];
	int fd, len, dfd;

	if (!valid_name(shard) || !valid_seq(seq)) {
		snprintf(err, errlen, "invalid shard id or sequence number");
		return VF_CHECKPOINT_IO;
	}
	path_of(fs, shard, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	len = snprintf(text, sizeof(text), MAGIC "\nstream %s\nshard %s\n"
		"sequence %s\n", fs->stream, shard, seq);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	if (!vf_write_all(fd, text, (size_t)len) || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		goto fail;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto fail;
	}
	/* the rename itself must reach the disk */
	dfd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return VF_CHECKPOINT_OK;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return VF_CHECKPOINT_IO;
}

static void file_destroy(struct vf_checkpoint_store *s)
{
	free(s);
}

static const struct vf_checkpoint_ops file_ops = {
	file_get, file_put, file_destroy,
};

static bool make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return true;
		errno = ENOTDIR;
	}
	snprintf(err, errlen, "checkpoint.path %s: %s", path, strerror(errno));
	return false;
}

struct vf_checkpoint_store *vf_checkpoint_file_create(const char *dir,
	const char *stream, char *err, size_t errlen)
{
	struct file_store *fs;

	if (!valid_name(stream)) {
		snprintf(err, errlen, "stream name '%s' cannot name a directory",
			stream);
		return NULL;
	}
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fs->base.ops = &file_ops;
	snprintf(fs->stream, sizeof(fs->stream), "%s", stream);
	if ((size_t)snprintf(fs->dir, sizeof(fs->dir), "%s/%s", dir, stream) >=
	    sizeof(fs->dir)) {
		snprintf(err, errlen, "checkpoint.path too long");
		free(fs);
		return NULL;
	}
	if (!make_dir(dir, err, errlen) || !make_dir(fs->dir, err, errlen)) {
		free(fs);
		return NULL;
	}
	return &fs->base;
}
