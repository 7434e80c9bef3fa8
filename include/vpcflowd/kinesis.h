/*
 * A Kinesis Data Streams client for one worker (JSON 1.1 protocol over its
 * own keep-alive connection): ListShards, GetShardIterator, GetRecords.
 */
#ifndef VPCFLOWD_KINESIS_H
#define VPCFLOWD_KINESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpcflowd/aws.h"

#define VF_SHARD_ID_MAX 128
#define VF_SEQ_MAX 130            /* 129 digits and a NUL */
#define VF_ITERATOR_MAX 1024

enum vf_kinesis_status {
	VF_KINESIS_OK,
	VF_KINESIS_THROTTLED,         /* ProvisionedThroughputExceeded, KMS throttling */
	VF_KINESIS_EXPIRED_ITERATOR,
	VF_KINESIS_RETRY,             /* 5xx, network, timeouts: try again */
	VF_KINESIS_NOT_FOUND,         /* the stream or shard does not exist */
	VF_KINESIS_ERROR,             /* anything else: a bug, access denied */
};

struct vf_shard {
	char id[VF_SHARD_ID_MAX];
	char parent[VF_SHARD_ID_MAX];            /* "" when none */
	char adjacent_parent[VF_SHARD_ID_MAX];   /* "" when none */
	char starting_seq[VF_SEQ_MAX];
	bool closed;                  /* it has an ending sequence number */
};

enum vf_iterator_type {
	VF_ITER_TRIM_HORIZON,
	VF_ITER_LATEST,
	VF_ITER_AT_TIMESTAMP,
	VF_ITER_AFTER_SEQUENCE,
	VF_ITER_AT_SEQUENCE,
};

struct vf_kinesis_record {
	const char *seq;              /* NUL-terminated, in the client's buffer */
	const uint8_t *data;
	size_t len;
};

struct vf_kinesis_batch {
	struct vf_kinesis_record *records;   /* valid until the next call */
	size_t n;
	char next_iterator[VF_ITERATOR_MAX]; /* "" at the end of a closed shard */
	bool shard_end;
	int64_t millis_behind;               /* -1 when absent */
	size_t bytes;                        /* data bytes in the batch */
};

struct vf_kinesis_opts {
	const char *stream;
	const char *endpoint;         /* NULL: https://kinesis.REGION.amazonaws.com/ */
	const char *region;
	struct vf_aws_creds_provider *creds;   /* not owned */
	long timeout_ms;              /* per request; 0: 10 s */
};

struct vf_kinesis;

struct vf_kinesis *vf_kinesis_create(const struct vf_kinesis_opts *opts);
void vf_kinesis_destroy(struct vf_kinesis *k);

/* Every shard of the stream (all pages). *shards is malloc'ed: free() it. */
enum vf_kinesis_status vf_kinesis_list_shards(struct vf_kinesis *k,
	struct vf_shard **shards, size_t *n, char *err, size_t errlen);

/* seq for the *_SEQUENCE types, timestamp_ms for AT_TIMESTAMP. */
enum vf_kinesis_status vf_kinesis_get_iterator(struct vf_kinesis *k,
	const char *shard_id, enum vf_iterator_type type, const char *seq,
	int64_t timestamp_ms, char iterator[VF_ITERATOR_MAX], char *err,
	size_t errlen);

enum vf_kinesis_status vf_kinesis_get_records(struct vf_kinesis *k,
	const char *iterator, unsigned limit, struct vf_kinesis_batch *batch,
	char *err, size_t errlen);

/* Compares two decimal sequence numbers: <0, 0, >0. */
int vf_seq_cmp(const char *a, const char *b);

const char *vf_kinesis_status_name(enum vf_kinesis_status s);

#endif
