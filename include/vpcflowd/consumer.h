/*
 * The Kinesis consumer: a coordinator that lists the stream's shards and
 * starts one worker thread per shard (children only after all their
 * parents are finished), each reading with GetRecords, decoding, handing
 * flows to the output and checkpointing what the output has taken.
 */
#ifndef VPCFLOWD_CONSUMER_H
#define VPCFLOWD_CONSUMER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vpcflowd/aws.h"
#include "vpcflowd/checkpoint.h"
#include "vpcflowd/config.h"
#include "vpcflowd/decoder.h"
#include "vpcflowd/lease.h"
#include "vpcflowd/output.h"
#include "vpcflowd/stats.h"

struct vf_consumer_opts {
	const struct vf_config *cfg;
	struct vf_aws_creds_provider *creds;    /* not owned */
	struct vf_checkpoint_store *store;      /* not owned; unused with leases */
	struct vf_leases *leases;               /* not owned; NULL: no leases,
						   every (pinned) shard is read */
	struct vf_output_group *outputs;        /* not owned; each worker opens one */
	struct vf_decoder_opts dopts;           /* formats and limits */
	struct vf_enrich *enrich;               /* not owned; NULL: none */
	atomic_int *stop;                       /* set by SIGTERM/SIGINT (lock-free) */
	uint64_t discover_interval_ms;          /* 0: 30 s */
};

/* One shard's counters (the {shard} label); made once, kept until the end. */
struct vf_shard_metrics {
	char id[VF_SHARD_ID_MAX];
	atomic_uint_fast64_t records;
	atomic_uint_fast64_t bytes;
	atomic_int_fast64_t millis_behind;   /* -1: not known */
	atomic_uint_fast64_t last_read_ms;   /* vf_now_ms() of the last GetRecords
						answered, or of the worker's start */
	atomic_bool reading;                 /* a worker reads it now */
};

/*
 * Counters every worker adds to; read by the metrics endpoint. Records
 * and bytes are per shard (shards); flows and parse errors by label.
 */
struct vf_consumer_totals {
	atomic_uint_fast64_t throttled;
	atomic_uint_fast64_t checkpoints;
	atomic_uint_fast64_t flows_by_status[VF_STATUS_COUNT];
	atomic_uint_fast64_t errors[VF_ERR_COUNT];
	atomic_uint_fast64_t last_flow_ms;   /* newest flow event time (Unix ms) */
	atomic_uint_fast64_t started_ms;     /* vf_now_ms() at vf_consumer_run */
	atomic_uint_fast64_t listed_ms;      /* vf_now_ms() of the last ListShards */
	pthread_mutex_t mu;                  /* shards, n_shards */
	struct vf_shard_metrics **shards;
	size_t n_shards;
};

void vf_consumer_totals_init(struct vf_consumer_totals *t);
void vf_consumer_totals_finish(struct vf_consumer_totals *t);
/* The shard's counters, made on first use; NULL when memory runs out. */
struct vf_shard_metrics *vf_consumer_totals_shard(struct vf_consumer_totals *t,
	const char *id);

/*
 * Runs until *stop is set (then drains, checkpoints and returns 0) or a
 * fatal error (returns 1). totals may be NULL.
 */
int vf_consumer_run(const struct vf_consumer_opts *opts,
	struct vf_consumer_totals *totals);

#endif
