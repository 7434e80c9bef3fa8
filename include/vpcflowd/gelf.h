/*
 * The GELF encoder: one flow in, one GELF 1.1 JSON document out, written
 * straight into a reused, capped buffer (no DOM, no allocation per field).
 * Field names and types follow the interface spec, section 3.
 */
#ifndef VPCFLOWD_GELF_H
#define VPCFLOWD_GELF_H

#include <stdbool.h>

#include "vpcflowd/buf.h"
#include "vpcflowd/decoder.h"

#define VF_GELF_HOST_MAX 255

struct vf_gelf {
	char head[VF_GELF_HOST_MAX * 6 + 64];  /* {"version":...,"short_message":" */
	size_t head_len;
};

/* host is output.source (the GELF host field); false if it is too long or empty. */
bool vf_gelf_init(struct vf_gelf *g, const char *host);

/*
 * Appends one document (no newline, no NUL). False when out's cap would be
 * passed; out is then left as it was.
 */
bool vf_gelf_encode(const struct vf_gelf *g, struct vf_buf *out,
	const struct vf_flow *flow, const struct vf_flow_meta *meta);

/* The same without the closing brace, for more fields (enrichment) after. */
bool vf_gelf_encode_open(const struct vf_gelf *g, struct vf_buf *out,
	const struct vf_flow *flow, const struct vf_flow_meta *meta);

#endif
