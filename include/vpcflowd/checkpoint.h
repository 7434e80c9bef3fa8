/*
 * Checkpoint stores: for each shard, the sequence number of the last record
 * whose flows the output has taken (or SHARD_END once a closed shard has
 * been read to its end). This issue has the file store; the DynamoDB lease
 * table comes with the scale-out issue, behind the same operations.
 */
#ifndef VPCFLOWD_CHECKPOINT_H
#define VPCFLOWD_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "vpcflowd/kinesis.h"

#define VF_CHECKPOINT_SHARD_END "SHARD_END"

enum vf_checkpoint_status {
	VF_CHECKPOINT_OK,
	VF_CHECKPOINT_NONE,       /* never checkpointed */
	VF_CHECKPOINT_CORRUPT,    /* unreadable: the error names the file and the fix */
	VF_CHECKPOINT_IO,         /* the store failed */
};

struct vf_checkpoint_store;

struct vf_checkpoint_ops {
	enum vf_checkpoint_status (*get)(struct vf_checkpoint_store *s,
		const char *shard, char seq[VF_SEQ_MAX], char *err, size_t errlen);
	enum vf_checkpoint_status (*put)(struct vf_checkpoint_store *s,
		const char *shard, const char *seq, char *err, size_t errlen);
	void (*destroy)(struct vf_checkpoint_store *s);
};

struct vf_checkpoint_store {
	const struct vf_checkpoint_ops *ops;
};

/*
 * Checkpoints in files under dir/STREAM/, one a shard, each replaced
 * atomically (write, fsync, rename, fsync of the directory).
 */
struct vf_checkpoint_store *vf_checkpoint_file_create(const char *dir,
	const char *stream, char *err, size_t errlen);

static inline enum vf_checkpoint_status vf_checkpoint_get(
	struct vf_checkpoint_store *s, const char *shard, char seq[VF_SEQ_MAX],
	char *err, size_t errlen)
{
	return s->ops->get(s, shard, seq, err, errlen);
}

static inline enum vf_checkpoint_status vf_checkpoint_put(
	struct vf_checkpoint_store *s, const char *shard, const char *seq,
	char *err, size_t errlen)
{
	return s->ops->put(s, shard, seq, err, errlen);
}

static inline void vf_checkpoint_destroy(struct vf_checkpoint_store *s)
{
	if (s != NULL)
		s->ops->destroy(s);
}

#endif
