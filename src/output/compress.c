/*
 * Output compression over libdeflate.
 *
 * Level 1 by default. Measured here (libdeflate 1.14, one core; documents
 * from the golden tests, 620 bytes on average):
 *
 *                 one document             64 documents, each    64 as one
 *   gzip level 1  620 -> 335 B,  9-11 us   600-700 us            39766 -> 3412 B,  70 us
 *   gzip level 6  620 -> 332 B, 13-15 us   860-950 us            39766 -> 2582 B, 220-280 us
 *   zlib level 1  620 -> 323 B,  9 us      550-570 us            39766 -> 3400 B,  70 us
 *   zlib level 6  620 -> 320 B, 13-14 us   810-900 us            39766 -> 2570 B, 200-260 us
 *
 * A single document gains nothing from the higher level (1%) and costs
 * 40% more time; most of the time for one document is libdeflate setting
 * up its tables, so larger inputs are where level 6 pays, at 3-4x the time.
 */
#include "compress.h"

#include <libdeflate.h>
#include <stdlib.h>

#include "vpcflowd/log.h"

struct vf_compress {
	struct libdeflate_compressor *c;
	bool zlib;            /* zlib framing (RFC 1950), else gzip (RFC 1952) */
};

struct vf_compress *vf_compress_create(enum vf_config_compression format,
	int level)
{
	struct vf_compress *z;

	if (format != VF_CONFIG_COMPRESSION_GZIP &&
	    format != VF_CONFIG_COMPRESSION_ZLIB) {
		log_warnx("compress: format %d is not gzip or zlib", (int)format);
		return NULL;
	}
	if (level == 0)
		level = VF_COMPRESS_DEFAULT_LEVEL;
	z = calloc(1, sizeof(*z));
	if (z == NULL)
		goto nomem;
	z->zlib = format == VF_CONFIG_COMPRESSION_ZLIB;
	z->c = libdeflate_alloc_compressor(level);
	if (z->c == NULL)
		goto nomem;
	return z;
nomem:
	log_warnx("compress: cannot make a level %d compressor", level);
	free(z);
	return NULL;
}

void vf_compress_destroy(struct vf_compress *z)
{
	if (z == NULL)
		return;
	libdeflate_free_compressor(z->c);
	free(z);
}

size_t vf_compress_bound(struct vf_compress *z, size_t len)
{
	return z->zlib ? libdeflate_zlib_compress_bound(z->c, len) :
		libdeflate_gzip_compress_bound(z->c, len);
}

size_t vf_compress(struct vf_compress *z, const void *in, size_t len,
	void *out, size_t cap)
{
	return z->zlib ? libdeflate_zlib_compress(z->c, in, len, out, cap) :
		libdeflate_gzip_compress(z->c, in, len, out, cap);
}

bool vf_compress_append(struct vf_compress *z, const void *in, size_t len,
	struct vf_buf *out)
{
	size_t bound = vf_compress_bound(z, len), room, n;

	/* the bound may pass the cap while the real output would not */
	if (bound > out->max - out->len)
		bound = out->max - out->len;
	if (!vf_buf_reserve(out, bound))
		return false;
	room = out->cap - out->len;
	n = vf_compress(z, in, len, out->data + out->len, room);
	if (n == 0)
		return false;
	out->len += n;
	return true;
}
