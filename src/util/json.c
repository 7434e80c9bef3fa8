#include "vpcflowd/json.h"

#include <stdint.h>

/* 1 for bytes that cannot be copied into a JSON string as they are. */
static const uint8_t special[256] = {
	[0x00 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
	[0x80 ... 0xff] = 1,
};

static const char hex[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		if (n < 2 || (s[1] & 0xc0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xf0) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;               /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0;               /* UTF-16 surrogate */
		return 3;
	}
	if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
	    (s[3] & 0xc0) != 0x80)
		return 0;
	if (c == 0xf0 && s[1] < 0x90)
		return 0;                       /* overlong */
	if (c == 0xf4 && s[1] >= 0x90)
		return 0;                       /* past U+10FFFF */
	return 4;
}

/* The exact size of s escaped, plus 1 spare byte (a closing quote). */
static size_t escaped_size(const unsigned char *s, size_t n)
{
	size_t size = 1, i = 0;

	while (i < n) {
		unsigned char c = s[i];
		if (!special[c]) {
			size++;
			i++;
		} else if (c >= 0x80) {
			size_t len = utf8_seq(s + i, n - i);
			size += len ? len : 3;
			i += len ? len : 1;
		} else {
			size += (c == '"' || c == '\\' || c == '\n' || c == '\r' ||
				c == '\t' || c == '\b' || c == '\f') ? 2 : 6;
			i++;
		}
	}
	return size;
}

bool vf_json_put_escaped(struct vf_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run;

	/*
	 * Worst case: every byte becomes \u00XX (6 bytes). Near the cap, count
	 * exactly instead, so a string that fits is never refused.
	 */
	if (n > (SIZE_MAX - 1) / 6 || !vf_buf_reserve(b, n * 6 + 1)) {
		if (!vf_buf_reserve(b, escaped_size(s, n)))
			return false;
	}
	while (i < n) {
		run = i;
		while (run < n && !special[s[run]])
			run++;
		if (run > i) {
			vf_buf_put(b, s + i, run - i);
			i = run;
			if (i == n)
				break;
		}
		unsigned char c = s[i];
		if (c >= 0x80) {
			size_t len = utf8_seq(s + i, n - i);
			if (len) {
				vf_buf_put(b, s + i, len);
				i += len;
			} else {
				vf_buf_put(b, "\xef\xbf\xbd", 3);
				i++;
			}
			continue;
		}
		vf_buf_putc(b, '\\');
		switch (c) {
		case '"': vf_buf_putc(b, '"'); break;
		case '\\': vf_buf_putc(b, '\\'); break;
		case '\n': vf_buf_putc(b, 'n'); break;
		case '\r': vf_buf_putc(b, 'r'); break;
		case '\t': vf_buf_putc(b, 't'); break;
		case '\b': vf_buf_putc(b, 'b'); break;
		case '\f': vf_buf_putc(b, 'f'); break;
		default:
			vf_buf_put(b, "u00", 3);
			vf_buf_putc(b, hex[c >> 4]);
			vf_buf_putc(b, hex[c & 15]);
		}
		i++;
	}
	return true;
}

bool vf_json_put_string(struct vf_buf *b, const char *s, size_t n)
{
	size_t mark = b->len;

	if (!vf_buf_reserve(b, 1))
		return false;
	vf_buf_putc(b, '"');
	if (!vf_json_put_escaped(b, s, n)) {
		b->len = mark;
		return false;
	}
	/* put_escaped leaves one spare byte reserved: the closing quote */
	vf_buf_putc(b, '"');
	return true;
}

bool vf_json_is_plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' || c < 0x20)
			return false;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long read_u16(const char *s, size_t n, size_t i)
{
	long v = 0;

	if (i + 4 > n)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexval(s[i + k]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

ssize_t vf_json_unescape(const char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (++i == n)
			return -1;
		switch (s[i++]) {
		case '"': out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case '/': out[o++] = '/'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u': {
			long cp = read_u16(s, n, i);
			if (cp < 0)
				return -1;
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				long lo = -1;
				if (i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u')
					lo = read_u16(s, n, i + 2);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
						(lo - 0xdc00);
					i += 6;
				} else {
					cp = 0xfffd;
				}
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				cp = 0xfffd;
			}
			o += put_utf8(out + o, (unsigned long)cp);
			break;
		}
		default:
			return -1;
		}
	}
	return (ssize_t)o;
}
