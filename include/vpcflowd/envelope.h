/*
 * The CloudWatch Logs subscription envelope: the JSON document CloudWatch
 * puts into each Kinesis record. A zero-copy scan (jsmn tokens, reused):
 * strings without escapes are handed out as slices of the input, the others
 * are decoded into the parser's scratch space.
 */
#ifndef VPCFLOWD_ENVELOPE_H
#define VPCFLOWD_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpcflowd/flow.h"

enum vf_message_type {
	VF_MESSAGE_DATA,
	VF_MESSAGE_CONTROL,
};

/* One document's header. Its strings live until the next document. */
struct vf_envelope {
	enum vf_message_type type;
	struct vf_sv owner, log_group, log_stream;  /* p == NULL: absent */
	size_t n_events;
	/* private: where the events are */
	unsigned events_tok;
	unsigned end_tok;
};

struct vf_log_event {
	struct vf_sv id;
	struct vf_sv message;
	int64_t timestamp_ms;   /* -1 when absent or not a number */
};

enum vf_envelope_status {
	VF_ENVELOPE_OK,
	VF_ENVELOPE_END,         /* nothing but white space left */
	VF_ENVELOPE_BAD_JSON,    /* not JSON, or truncated: the rest is lost */
	VF_ENVELOPE_BAD_SHAPE,   /* valid JSON, not an envelope: skipped */
	VF_ENVELOPE_TOO_LARGE,   /* more tokens than the cap allows */
	VF_ENVELOPE_NOMEM,
};

struct vf_envelope_parser;

/* max_tokens caps the token array (16 bytes... each); it starts small. */
struct vf_envelope_parser *vf_envelope_parser_create(size_t max_tokens);
void vf_envelope_parser_destroy(struct vf_envelope_parser *p);

/*
 * Starts on a buffer of one or more concatenated documents. The buffer
 * must stay unchanged until the last call for it.
 */
void vf_envelope_begin(struct vf_envelope_parser *p, const char *buf,
	size_t len);

/*
 * Takes the next document. On VF_ENVELOPE_BAD_SHAPE the document is
 * skipped and the next call goes on after it; after VF_ENVELOPE_BAD_JSON,
 * _TOO_LARGE or _NOMEM, the rest of the buffer is given up.
 * With err, a short reason for a failure is written there.
 */
enum vf_envelope_status vf_envelope_next(struct vf_envelope_parser *p,
	struct vf_envelope *env, char *err, size_t errlen);

/*
 * Walks the events of the current document: *cursor starts at 0. Returns
 * 1 with ev filled, 0 at the end, -1 for an event that is not an object
 * with a string message (it is skipped: call again for the next one).
 */
int vf_envelope_event(struct vf_envelope_parser *p,
	const struct vf_envelope *env, size_t *cursor, struct vf_log_event *ev);

#endif
