/*
 * vf_buf: a growable byte buffer with a hard size cap (the curl dynbuf
 * model). Every buffer on the hot path is one of these, reset and reused,
 * so steady-state encoding allocates nothing.
 */
#ifndef VPCFLOWD_BUF_H
#define VPCFLOWD_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct vf_buf {
	char *data;   /* owned; NULL until the first append */
	size_t len;   /* bytes in use */
	size_t cap;   /* bytes allocated */
	size_t max;   /* the buffer never grows beyond this */
};

/* Sets up an empty buffer that may grow to max bytes. Allocates nothing. */
void vf_buf_init(struct vf_buf *b, size_t max);
/* Frees the storage; the buffer is empty (and usable) afterwards. */
void vf_buf_finish(struct vf_buf *b);
/*
 * Makes room for extra more bytes. Returns false, leaving the buffer as it
 * was, when that would pass the cap or memory runs out.
 */
bool vf_buf_grow(struct vf_buf *b, size_t extra);
bool vf_buf_append(struct vf_buf *b, const void *p, size_t n);
bool vf_buf_printf(struct vf_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline bool vf_buf_reserve(struct vf_buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return true;
	return vf_buf_grow(b, extra);
}

/*
 * Copies n bytes of src into dst (size bytes) as a NUL-terminated string,
 * cut at size - 1 bytes if need be but never inside a UTF-8 sequence.
 */
void vf_copy_utf8(char *dst, size_t size, const char *src, size_t n);

static inline void vf_buf_reset(struct vf_buf *b)
{
	b->len = 0;
}

/* Unchecked appends: the caller reserved the room first. */
static inline void vf_buf_put(struct vf_buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void vf_buf_putc(struct vf_buf *b, char c)
{
	b->data[b->len++] = c;
}

#endif
