/*
 * The decode stage: one Kinesis record (or one replay input) in, flows out.
 * A record may be a KPL aggregate, one or more gzip members, CloudWatch
 * subscription documents, or raw flow log lines. Bad parts are counted by
 * kind and skipped; the rest of the record is still decoded.
 */
#ifndef VPCFLOWD_DECODER_H
#define VPCFLOWD_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpcflowd/envelope.h"
#include "vpcflowd/flow.h"
#include "vpcflowd/stats.h"

/* Where a record came from. */
struct vf_record_meta {
	struct vf_sv stream;    /* Kinesis stream name; p == NULL in replay */
	struct vf_sv shard;     /* shard id; p == NULL in replay */
	const char *origin;     /* for messages: a file name, shard/sequence */
};

/* What a flow carries besides its fields. */
struct vf_flow_meta {
	const struct vf_envelope *env;      /* NULL for raw lines */
	const struct vf_log_event *event;   /* NULL for raw lines */
	const struct vf_record_meta *rec;
};

/* Receives each decoded flow; returns false to stop decoding (fatal). */
typedef bool (*vf_flow_sink)(void *ctx, const struct vf_flow *flow,
	const struct vf_flow_meta *meta);

struct vf_group_format {
	const char *log_group;
	const struct vf_format *format;
};

struct vf_decoder_opts {
	const struct vf_format *format;          /* forced (--format), or NULL */
	const struct vf_format *default_format;  /* flow_logs.format, or NULL */
	const struct vf_group_format *groups;    /* flow_logs.log_groups */
	size_t n_groups;
	const char *raw_log_group;   /* log group of raw lines (replay --log-group) */
	size_t max_record_size;                  /* decompressed, per record */
	vf_flow_sink sink;
	void *sink_ctx;
	struct vf_stats *stats;                  /* counters to add to */
};

struct vf_decoder;

/* The opts' formats and groups must outlive the decoder. */
struct vf_decoder *vf_decoder_create(const struct vf_decoder_opts *opts);
void vf_decoder_destroy(struct vf_decoder *d);

/*
 * A header line in raw flow lines sets the format until the input ends:
 * replay brackets each input file with these; the Kinesis consumer treats
 * each record as an input of its own.
 */
void vf_decoder_input_begin(struct vf_decoder *d);

/* Decodes one record. False only when the sink stopped it or memory ran out. */
bool vf_decoder_record(struct vf_decoder *d, const uint8_t *data, size_t len,
	const struct vf_record_meta *rm);

#endif
