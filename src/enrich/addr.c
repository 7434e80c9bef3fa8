/*
 * Address text: strict IPv4 and IPv6 parsers, CIDR prefixes, and the
 * canonical form back. The parsers run for every address of every flow
 * record, so they are written by hand: one pass over the bytes given (no
 * NUL needed, no copy, no allocation). They accept what glibc's inet_pton
 * accepts and nothing else: IPv4 is exactly four decimal parts of 0..255
 * without leading zeros; IPv6 is eight groups of one to four hex digits, at
 * most one "::" standing for one or more zero groups, and optionally a
 * dotted IPv4 address in place of the last two groups.
 */
#include "vpcflowd/ipset.h"

#include <arpa/inet.h>
#include <string.h>

static inline unsigned digit(char c)
{
	return (unsigned)((unsigned char)c - '0');
}

/* 0x10 | value for a hex digit, 0 for any other byte */
#define H(c, v) [c] = 0x10 | (v)
static const uint8_t hexdig[256] = {
	H('0', 0), H('1', 1), H('2', 2), H('3', 3), H('4', 4),
	H('5', 5), H('6', 6), H('7', 7), H('8', 8), H('9', 9),
	H('a', 10), H('b', 11), H('c', 12), H('d', 13), H('e', 14), H('f', 15),
	H('A', 10), H('B', 11), H('C', 12), H('D', 13), H('E', 14), H('F', 15),
};
#undef H

/* One part of a dotted address at *p: 0..255, no leading zero. */
static inline bool parse_octet(const char **p, const char *end, uint8_t *out)
{
	const char *q = *p;
	unsigned v;

	if (q == end || (v = digit(*q)) > 9)
		return false;
	q++;
	if (v != 0) {
		unsigned d;

		if (q != end && (d = digit(*q)) < 10) {
			v = v * 10 + d;
			q++;
			if (q != end && (d = digit(*q)) < 10) {
				v = v * 10 + d;
				q++;
			}
		}
	}
	if (v > 255 || (q != end && digit(*q) < 10))
		return false;
	*out = (uint8_t)v;
	*p = q;
	return true;
}

static bool parse_v4(const char *s, size_t n, uint8_t out[4])
{
	const char *p = s, *end = s + n;

	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (p == end || *p != '.')
				return false;
			p++;
		}
		if (!parse_octet(&p, end, &out[i]))
			return false;
	}
	return p == end;
}

/* Groups go straight to out; after "::" they are moved to the end. */
static bool parse_v6(const char *s, size_t n, uint8_t out[16])
{
	const char *p = s, *end = s + n;
	int nw = 0, gap = -1;

	if (n < 2)
		return false;
	if (p[0] == ':') {
		if (p[1] != ':')
			return false;
		p += 2;
		gap = 0;
		if (p == end)
			goto done;
	}
	for (;;) {
		const char *tok = p, *lim = end - p > 4 ? p + 4 : end;
		unsigned v = 0, h;

		while (p != lim && (h = hexdig[(unsigned char)*p]) != 0) {
			v = v << 4 | (h & 0xf);
			p++;
		}
		if (p == tok || nw == 8)
			return false;
		if (p == end) {
			out[2 * nw] = (uint8_t)(v >> 8);
			out[2 * nw + 1] = (uint8_t)v;
			nw++;
			break;
		}
		if (*p != ':') {
			/* a dotted IPv4 address in the last two groups */
			if (*p != '.' || nw > 6 ||
			    !parse_v4(tok, (size_t)(end - tok), out + 2 * nw))
				return false;
			nw += 2;
			break;
		}
		out[2 * nw] = (uint8_t)(v >> 8);
		out[2 * nw + 1] = (uint8_t)v;
		nw++;
		if (++p == end)
			return false;
		if (*p == ':') {
			if (gap >= 0)
				return false;
			gap = nw;
			if (++p == end)
				break;
		}
	}
done:
	if (gap < 0)
		return nw == 8;
	/* "::" stands for at least one group */
	if (nw == 8)
		return false;
	for (int i = 2 * nw - 1, shift = 2 * (8 - nw); i >= 2 * gap; i--)
		out[i + shift] = out[i];
	for (int i = 2 * gap; i < 2 * (gap + 8 - nw); i++)
		out[i] = 0;
	return true;
}

/* ::ffff:0:0/96 */
static bool is_mapped(const uint8_t b[16])
{
	static const uint8_t prefix[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};

	return memcmp(b, prefix, sizeof(prefix)) == 0;
}

bool vf_addr_parse(const char *s, size_t n, struct vf_addr *out)
{
	uint8_t b[16];

	if (s == NULL || n == 0)
		return false;
	if (parse_v4(s, n, b)) {
		out->v6 = false;
		memcpy(out->b, b, 4);
		memset(out->b + 4, 0, 12);
		return true;
	}
	if (!parse_v6(s, n, b))
		return false;
	if (is_mapped(b)) {
		out->v6 = false;
		memcpy(out->b, b + 12, 4);
		memset(out->b + 4, 0, 12);
	} else {
		out->v6 = true;
		memcpy(out->b, b, 16);
	}
	return true;
}

/* A prefix length: 1 to 3 digits, no leading zero, at most max. */
static bool parse_prefix(const char *p, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = digit(p[i]);

		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

bool vf_cidr_parse(const char *s, size_t n, struct vf_addr *out,
	unsigned *prefix)
{
	const char *slash;
	struct vf_addr a;
	size_t alen;
	bool text_v6;
	unsigned p;

	if (s == NULL || n == 0)
		return false;
	slash = memchr(s, '/', n);
	alen = slash ? (size_t)(slash - s) : n;
	if (!vf_addr_parse(s, alen, &a))
		return false;
	text_v6 = a.v6 || memchr(s, ':', alen) != NULL;
	if (slash == NULL) {
		p = text_v6 ? 128 : 32;
	} else if (!parse_prefix(slash + 1, n - alen - 1, text_v6 ? 128 : 32,
			&p)) {
		return false;
	}
	if (text_v6 && !a.v6) {
		/* ::ffff:a.b.c.d/p: IPv4 when p covers the mapped /96 only */
		if (p >= 96) {
			p -= 96;
		} else {
			memmove(a.b + 12, a.b, 4);
			memset(a.b, 0, 10);
			a.b[10] = 0xff;
			a.b[11] = 0xff;
			a.v6 = true;
		}
	}
	*out = a;
	*prefix = p;
	return true;
}

/* Decimal 0..255 at out; returns the end. */
static char *put_octet(char *out, unsigned v)
{
	if (v >= 100)
		*out++ = (char)('0' + v / 100);
	if (v >= 10)
		*out++ = (char)('0' + v / 10 % 10);
	*out++ = (char)('0' + v % 10);
	return out;
}

const char *vf_addr_format(const struct vf_addr *a, char *out, size_t outlen)
{
	char tmp[16], *p = tmp;

	if (outlen == 0)
		return out;
	if (a->v6) {
		if (inet_ntop(AF_INET6, a->b, out, (socklen_t)outlen) == NULL)
			out[0] = '\0';
		return out;
	}
	for (int i = 0; i < 4; i++) {
		if (i > 0)
			*p++ = '.';
		p = put_octet(p, a->b[i]);
	}
	*p = '\0';
	if ((size_t)(p - tmp) < outlen)
		memcpy(out, tmp, (size_t)(p - tmp) + 1);
	else
		out[0] = '\0';
	return out;
}
