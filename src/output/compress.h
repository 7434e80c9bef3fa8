/*
 * vf_compress: one output's gzip or zlib compressor (libdeflate, whole
 * buffers). Each output owns one; it is not shared between threads.
 */
#ifndef VPCFLOWD_COMPRESS_H
#define VPCFLOWD_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "vpcflowd/buf.h"
#include "vpcflowd/config.h"

/* The level used when the caller passes 0 (compress.c has the numbers). */
#define VF_COMPRESS_DEFAULT_LEVEL 1

struct vf_compress;

/*
 * A compressor for format (gzip or zlib; none is not a format) at level
 * 1..12, or 0 for the default. NULL with the reason logged.
 */
struct vf_compress *vf_compress_create(enum vf_config_compression format,
	int level);
void vf_compress_destroy(struct vf_compress *z);

/* The most bytes len bytes can compress to. */
size_t vf_compress_bound(struct vf_compress *z, size_t len);

/*
 * Compresses in into out, which has room for cap bytes. Returns the
 * compressed length, or 0 when it does not fit in cap.
 */
size_t vf_compress(struct vf_compress *z, const void *in, size_t len,
	void *out, size_t cap);

/* Appends in, compressed, to out. False when out cannot grow that far. */
bool vf_compress_append(struct vf_compress *z, const void *in, size_t len,
	struct vf_buf *out);

#endif
