#include "vpcflowd/inflate.h"

#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>

struct vf_inflate {
	struct libdeflate_decompressor *d;
};

struct vf_inflate *vf_inflate_create(void)
{
	struct vf_inflate *z = calloc(1, sizeof(*z));

	if (z == NULL)
		return NULL;
	z->d = libdeflate_alloc_decompressor();
	if (z->d == NULL) {
		free(z);
		return NULL;
	}
	return z;
}

void vf_inflate_destroy(struct vf_inflate *z)
{
	if (z == NULL)
		return;
	libdeflate_free_decompressor(z->d);
	free(z);
}

enum vf_inflate_status vf_inflate_member(struct vf_inflate *z,
	const uint8_t *in, size_t in_len, struct vf_buf *out, size_t *used)
{
	size_t room, hint, in_used = 0, out_got = 0;
	enum libdeflate_result r;

	if (out->len >= out->max)
		return VF_INFLATE_TOO_LARGE;
	/*
	 * First guess at the size: the ISIZE trailer, exact when this member
	 * is the last one in the buffer (the usual case: one Kinesis record,
	 * one member). It is only a hint: the cap is what protects us.
	 */
	hint = in_len * 4;
	if (in_len >= 18) {
		const uint8_t *t = in + in_len - 4;
		size_t isize = (size_t)t[0] | (size_t)t[1] << 8 |
			(size_t)t[2] << 16 | (size_t)t[3] << 24;
		if (isize > 0)
			hint = isize;
	}
	/* deflate expands at most 1032:1; a larger ISIZE is a lie */
	if (in_len <= SIZE_MAX / 1032 && hint > in_len * 1032)
		hint = in_len * 1032;
	if (hint > out->max - out->len)
		hint = out->max - out->len;
	if (hint < 256)
		hint = 256;
	for (;;) {
		if (!vf_buf_reserve(out, hint))
			return out->len + hint > out->max ?
				VF_INFLATE_TOO_LARGE : VF_INFLATE_NOMEM;
		room = out->cap - out->len;
		r = libdeflate_gzip_decompress_ex(z->d, in, in_len,
			out->data + out->len, room, &in_used, &out_got);
		if (r == LIBDEFLATE_SUCCESS)
			break;
		if (r != LIBDEFLATE_INSUFFICIENT_SPACE)
			return VF_INFLATE_BAD_DATA;
		if (out->cap >= out->max)
			return VF_INFLATE_TOO_LARGE;
		/* Grow geometrically up to the cap, then try again. */
		hint = room * 2;
		if (hint > out->max - out->len)
			hint = out->max - out->len;
	}
	out->len += out_got;
	*used = in_used;
	return VF_INFLATE_OK;
}
