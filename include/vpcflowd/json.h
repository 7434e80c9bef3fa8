/*
 * JSON string helpers for the hot path: escaping into a vf_buf and decoding
 * a string token's body. Neither allocates beyond the caller's buffer.
 */
#ifndef VPCFLOWD_JSON_H
#define VPCFLOWD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vpcflowd/buf.h"

/*
 * Appends s as the inside of a JSON string (no quotes): '"', '\\' and
 * control characters escaped, invalid UTF-8 replaced by U+FFFD, so the
 * output is always valid JSON in valid UTF-8. False when the cap is hit,
 * with b as it was. On success one more byte is reserved after the text.
 */
bool vf_json_put_escaped(struct vf_buf *b, const char *s, size_t n);

/* The same, with the surrounding quotes. */
bool vf_json_put_string(struct vf_buf *b, const char *s, size_t n);

/*
 * Decodes the body of a JSON string token (what lies between the quotes)
 * into out, which must hold n bytes: a decoded string is never longer than
 * its source. Unpaired surrogates become U+FFFD. Returns the decoded length,
 * or -1 when the body is not valid JSON (a bad escape, a raw control
 * character, a lone backslash at the end).
 */
ssize_t vf_json_unescape(const char *s, size_t n, char *out);

/* True when s has no backslash and no control character: decoding is a no-op. */
bool vf_json_is_plain(const char *s, size_t n);

#endif
