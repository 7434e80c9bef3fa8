/*
 * gzip decompression with a hard cap on the output, one member at a time
 * (libdeflate: whole-buffer, about twice zlib's speed).
 */
#ifndef VPCFLOWD_INFLATE_H
#define VPCFLOWD_INFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpcflowd/buf.h"

enum vf_inflate_status {
	VF_INFLATE_OK,
	VF_INFLATE_BAD_DATA,    /* corrupt or truncated gzip */
	VF_INFLATE_TOO_LARGE,   /* would inflate past out->max */
	VF_INFLATE_NOMEM,
};

struct vf_inflate;

struct vf_inflate *vf_inflate_create(void);
void vf_inflate_destroy(struct vf_inflate *z);

static inline bool vf_is_gzip(const uint8_t *p, size_t n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/*
 * Inflates the gzip member at in (in_len bytes available, possibly followed
 * by more members), appending its content to out. Never lets out grow past
 * out->max: a gzip bomb stops there. *used gets the compressed bytes the
 * member took.
 */
enum vf_inflate_status vf_inflate_member(struct vf_inflate *z,
	const uint8_t *in, size_t in_len, struct vf_buf *out, size_t *used);

#endif
