/*
 * KPL de-aggregation. The Kinesis Producer Library (and the
 * kinesis-aggregation libraries) pack many user records into one Kinesis
 * record:
 *
 *   F3 89 9A C2 | AggregatedRecord (protobuf, proto2) | MD5 of the protobuf
 *
 *   AggregatedRecord { repeated string partition_key_table = 1;
 *                      repeated string explicit_hash_key_table = 2;
 *                      repeated Record records = 3; }
 *   Record { required uint64 partition_key_index = 1;
 *            optional uint64 explicit_hash_key_index = 2;
 *            required bytes data = 3; repeated Tag tags = 4; }
 *   Tag    { required string key = 1; optional string value = 2; }
 *
 * Zero-copy: every pointer handed out points into the caller's buffer and is
 * valid as long as that buffer is. Nothing is NUL-terminated.
 *
 * Memory: nothing is allocated per user record. The two key tables are
 * indexed in a small array on the stack; only a record whose tables hold
 * more than VF_KPL_STACK_KEYS entries together gets one heap array for the
 * call (at most 2 * VF_KPL_MAX_KEYS pointers, freed before returning). Should
 * that allocation fail, keys are found by walking the message instead:
 * slower, same results.
 *
 * Safe on any input: bounds are checked before every read.
 */
#ifndef VPCFLOWD_KPL_H
#define VPCFLOWD_KPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VF_KPL_MAGIC_LEN 4
#define VF_KPL_DIGEST_LEN 16    /* the MD5 trailer */
/* A key table (either one) with more entries than this is refused. */
#define VF_KPL_MAX_KEYS 65536
/* Key table entries (both tables together) indexed without allocating. */
#define VF_KPL_STACK_KEYS 256

/* True when buf starts with the KPL magic (F3 89 9A C2). */
bool vf_kpl_has_magic(const uint8_t *buf, size_t len);

enum vf_kpl_status {
	VF_KPL_OK,
	VF_KPL_NOT_AGGREGATED,  /* no magic, or too short for magic + MD5 */
	VF_KPL_BAD_CHECKSUM,    /* magic present, MD5 does not match */
	VF_KPL_BAD_MESSAGE,     /* MD5 matches, the protobuf is not valid */
};

/* One user record. */
struct vf_kpl_record {
	const uint8_t *data;            /* never NULL, even when len is 0 */
	size_t len;
	const char *partition_key;      /* never NULL; may be empty */
	size_t partition_key_len;
	const char *explicit_hash_key;  /* NULL when absent */
	size_t explicit_hash_key_len;
};

/*
 * Called once per user record, in message order; index counts from 0.
 * rec is only valid during the call (the pointers in it stay valid as long
 * as the input buffer). Return false to stop.
 */
typedef bool (*vf_kpl_cb)(void *ctx, const struct vf_kpl_record *rec,
	size_t index);

/*
 * De-aggregates one Kinesis record.
 *
 * VF_KPL_NOT_AGGREGATED: the buffer does not start with the magic or is
 * shorter than magic + MD5; the caller treats it as one plain record.
 * VF_KPL_BAD_CHECKSUM: the MD5 trailer does not match (or MD5 is not
 * available, as in a FIPS-only OpenSSL).
 * VF_KPL_BAD_MESSAGE: the protobuf is malformed: a bad wire type for a known
 * field, a group (wire types 3 and 4) or wire type 6/7 anywhere, field
 * number 0, a varint longer than 10 bytes or past 64 bits, a length or
 * fixed-size value past its message, a missing required field
 * (partition_key_index, data, Tag.key), a key index outside its table, or
 * a key table larger than VF_KPL_MAX_KEYS.
 *
 * The whole message is validated before the first callback: on any status
 * but VF_KPL_OK, cb was not called. Unknown fields are skipped. Following
 * protobuf, a non-repeated field given twice takes its last value. Key
 * strings are not checked for UTF-8.
 *
 * cb may be NULL: the message is only validated and counted. count (may be
 * NULL) receives the number of records handed to cb, including the one whose
 * callback returned false (with cb NULL: the number of records); it is 0
 * unless the status is VF_KPL_OK. Stopping early still returns VF_KPL_OK.
 */
enum vf_kpl_status vf_kpl_deaggregate(const uint8_t *buf, size_t len,
	vf_kpl_cb cb, void *ctx, size_t *count);

/* "ok", "not_aggregated", "bad_checksum", "bad_message" ("unknown" else). */
const char *vf_kpl_status_name(enum vf_kpl_status status);

#endif
