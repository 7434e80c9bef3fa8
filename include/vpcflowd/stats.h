/*
 * Counters of one pipeline. Owned and written by one thread; whoever
 * exports them (the replay summary, the metrics endpoint) reads them.
 */
#ifndef VPCFLOWD_STATS_H
#define VPCFLOWD_STATS_H

#include <stdint.h>

/* Why a record or a line could not be decoded: the `kind` label. */
enum vf_error_kind {
	VF_ERR_GZIP,          /* corrupt or truncated gzip */
	VF_ERR_TOO_LARGE,     /* past limits.max_record_size or a token cap */
	VF_ERR_KPL,           /* KPL aggregate with a bad checksum or body */
	VF_ERR_JSON,          /* invalid or truncated JSON */
	VF_ERR_ENVELOPE,      /* JSON that is not a subscription document */
	VF_ERR_EVENT,         /* a log event without a string message */
	VF_ERR_CONTENT,       /* neither gzip, JSON, KPL nor text */
	VF_ERR_FIELD_COUNT,   /* a flow line with the wrong number of fields */
	VF_ERR_BAD_NUMBER,    /* an integer field that is not one */
	VF_ERR_ENCODE,        /* a GELF message past the size cap */
	VF_ERR_COUNT
};

enum vf_log_status_kind {
	VF_STATUS_OK, VF_STATUS_NODATA, VF_STATUS_SKIPDATA, VF_STATUS_OTHER,
	VF_STATUS_COUNT
};

struct vf_stats {
	uint64_t records;            /* documents / raw inputs decoded */
	uint64_t control_messages;   /* CONTROL_MESSAGE documents skipped */
	uint64_t events;             /* log events seen */
	uint64_t flows;              /* flows handed to the output */
	uint64_t unenriched;         /* of those, sent without enrichment
					(its fields passed the size cap) */
	uint64_t flows_by_status[VF_STATUS_COUNT];
	uint64_t errors[VF_ERR_COUNT];
	uint64_t bytes_in;           /* input bytes, as read */
	uint64_t last_flow_ms;       /* newest event timestamp seen */
};

const char *vf_error_kind_name(enum vf_error_kind kind);
const char *vf_log_status_name(enum vf_log_status_kind s);
uint64_t vf_stats_errors(const struct vf_stats *st);

#endif
