/*
 * AWS Signature Version 4. The canonical request is never held whole unless
 * the caller asks for it: it is streamed through a SHA-256 context (and, on
 * request, copied to the caller's buffer) from a small staging array. The
 * path, query and header lists are indexed in bounded arrays on the stack,
 * and query parameters are compared in their encoded form byte by byte
 * without ever materialising it.
 */
#include "vpcflowd/sigv4.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Bounds on the credential scope parts and the secret. */
#define SIGV4_MAX_REGION 64
#define SIGV4_MAX_SERVICE 64
#define SIGV4_MAX_AKID 128
#define SIGV4_MAX_SECRET 256

#define SHA256_LEN 32

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

/* ---- character classes ---- */

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		(c >= 'a' && c <= 'z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3986 unreserved: never percent-encoded. */
static bool is_unreserved(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 9110 tchar: what a method or header name is made of. */
static bool is_tchar(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Linear whitespace inside a header value (CR and LF: folded lines). */
static bool is_lws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static unsigned char to_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static int hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_lower[p[i] >> 4];
		out[2 * i + 1] = hex_lower[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Case-insensitive ASCII equality of a NUL-terminated s and a lower-case lit. */
static bool name_is(const char *s, const char *lit)
{
	for (; *s != '\0' && *lit != '\0'; s++, lit++)
		if (to_lower((unsigned char)*s) != (unsigned char)*lit)
			return false;
	return *s == '\0' && *lit == '\0';
}

/* Case-insensitive ASCII order of two NUL-terminated names. */
static int name_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = to_lower((unsigned char)*a);
		unsigned char cb = to_lower((unsigned char)*b);

		if (ca != cb || ca == '\0')
			return (int)ca - (int)cb;
	}
}

/* [p, p + n) without leading and trailing linear whitespace. */
static void trim_lws(const char **p, size_t *n)
{
	while (*n > 0 && is_lws((unsigned char)(*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_lws((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

/* Every byte of s is in [0x21, 0x7e] and none is in bad; 1..max bytes. */
static bool printable_word(const char *s, size_t max, const char *bad)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= max || c <= 0x20 || c >= 0x7f || strchr(bad, c) != NULL)
			return false;
	}
	return n > 0;
}

/* ---- the output sink: SHA-256 of everything, plus an optional copy ---- */

struct sink {
	EVP_MD_CTX *md;         /* NULL: copy only */
	struct vf_buf *copy;    /* NULL: hash only */
	bool ok;
	size_t n;
	char stage[512];
};

static void sink_flush(struct sink *s)
{
	if (s->n == 0)
		return;
	if (s->ok && s->md != NULL && EVP_DigestUpdate(s->md, s->stage, s->n) != 1)
		s->ok = false;
	if (s->ok && s->copy != NULL && !vf_buf_append(s->copy, s->stage, s->n))
		s->ok = false;
	s->n = 0;
}

static void sink_put(struct sink *s, const void *p, size_t n)
{
	if (n > sizeof(s->stage) - s->n) {
		sink_flush(s);
		if (n >= sizeof(s->stage)) {
			if (s->ok && s->md != NULL && EVP_DigestUpdate(s->md, p, n) != 1)
				s->ok = false;
			if (s->ok && s->copy != NULL && !vf_buf_append(s->copy, p, n))
				s->ok = false;
			return;
		}
	}
	memcpy(s->stage + s->n, p, n);
	s->n += n;
}

static void sink_putc(struct sink *s, char c)
{
	if (s->n == sizeof(s->stage))
		sink_flush(s);
	s->stage[s->n++] = c;
}

static void sink_puts(struct sink *s, const char *str)
{
	sink_put(s, str, strlen(str));
}

/* Appends the NUL after len without counting it. */
static bool buf_terminate(struct vf_buf *b)
{
	if (!vf_buf_reserve(b, 1))
		return false;
	b->data[b->len] = '\0';
	return true;
}

/* ---- percent-encoding as a byte stream ---- */

/*
 * Yields the encoded form of [p, end) one character at a time: each source
 * byte (after %XX decoding when decode is set) stays itself when unreserved
 * (or '/' when keep_slash) and becomes %XX otherwise. The source was
 * validated beforehand, so a '%' being decoded is followed by two hex digits.
 */
struct enc_iter {
	const char *p, *end;
	bool decode, keep_slash;
	unsigned char pend[2];
	unsigned npend;
};

static void enc_init(struct enc_iter *it, const char *p, size_t n, bool decode,
	bool keep_slash)
{
	it->p = p;
	it->end = p + n;
	it->decode = decode;
	it->keep_slash = keep_slash;
	it->npend = 0;
}

/* The next encoded character, or -1 at the end. */
static int enc_next(struct enc_iter *it)
{
	unsigned char c;

	if (it->npend > 0) {
		c = it->pend[2 - it->npend];
		it->npend--;
		return c;
	}
	if (it->p >= it->end)
		return -1;
	c = (unsigned char)*it->p;
	if (it->decode && c == '%' && it->end - it->p >= 3) {
		c = (unsigned char)(hex_val((unsigned char)it->p[1]) << 4 |
			hex_val((unsigned char)it->p[2]));
		it->p += 3;
	} else {
		it->p++;
	}
	if (is_unreserved(c) || (it->keep_slash && c == '/'))
		return c;
	it->pend[0] = (unsigned char)hex_upper[c >> 4];
	it->pend[1] = (unsigned char)hex_upper[c & 15];
	it->npend = 2;
	return '%';
}

static void sink_encoded(struct sink *s, const char *p, size_t n, bool decode,
	bool keep_slash)
{
	struct enc_iter it;
	int c;

	enc_init(&it, p, n, decode, keep_slash);
	while ((c = enc_next(&it)) >= 0)
		sink_putc(s, (char)c);
}

/* Order of the encoded forms of two %-encoded strings. */
static int enc_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	struct enc_iter ia, ib;
	int ca, cb;

	enc_init(&ia, a, an, true, false);
	enc_init(&ib, b, bn, true, false);
	do {
		ca = enc_next(&ia);
		cb = enc_next(&ib);
	} while (ca == cb && ca >= 0);
	return ca - cb;
}

/* ---- canonical URI ---- */

struct span {
	const char *p;
	size_t n;
};

static bool canonical_uri(struct sink *s, const char *path)
{
	struct span seg[VF_SIGV4_MAX_SEGMENTS];
	size_t nseg = 0, len;
	const char *p, *end;

	if (path == NULL)
		return false;
	len = strlen(path);
	if (len == 0) {
		sink_putc(s, '/');
		return true;
	}
	if (path[0] != '/')
		return false;
	p = path;
	end = path + len;
	while (p < end) {
		const char *q;

		while (p < end && *p == '/')
			p++;
		q = p;
		while (q < end && *q != '/')
			q++;
		if (q - p == 0 || (q - p == 1 && p[0] == '.')) {
			/* nothing */
		} else if (q - p == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
		} else {
			if (nseg == VF_SIGV4_MAX_SEGMENTS)
				return false;
			seg[nseg].p = p;
			seg[nseg].n = (size_t)(q - p);
			nseg++;
		}
		p = q;
	}
	if (nseg == 0) {
		sink_putc(s, '/');
		return true;
	}
	for (size_t i = 0; i < nseg; i++) {
		sink_putc(s, '/');
		sink_encoded(s, seg[i].p, seg[i].n, false, false);
	}
	if (path[len - 1] == '/')
		sink_putc(s, '/');
	return true;
}

/* ---- canonical query ---- */

struct qparam {
	const char *k;
	size_t kn;
	const char *v;
	size_t vn;
};

/* Every '%' in [p, p + n) starts a valid %XX escape. */
static bool escapes_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '%')
			continue;
		if (n - i < 3 || hex_val((unsigned char)p[i + 1]) < 0 ||
		    hex_val((unsigned char)p[i + 2]) < 0)
			return false;
		i += 2;
	}
	return true;
}

static int qparam_cmp(const struct qparam *a, const struct qparam *b)
{
	int c = enc_cmp(a->k, a->kn, b->k, b->kn);

	return c != 0 ? c : enc_cmp(a->v, a->vn, b->v, b->vn);
}

static bool canonical_query(struct sink *s, const char *query)
{
	struct qparam qp[VF_SIGV4_MAX_QUERY];
	size_t nq = 0;
	const char *p, *end;

	if (query == NULL)
		return true;
	p = query;
	end = query + strlen(query);
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *q = amp != NULL ? amp : end;
		const char *eq;

		if (q > p) {
			if (nq == VF_SIGV4_MAX_QUERY)
				return false;
			eq = memchr(p, '=', (size_t)(q - p));
			qp[nq].k = p;
			qp[nq].kn = (size_t)((eq != NULL ? eq : q) - p);
			qp[nq].v = eq != NULL ? eq + 1 : q;
			qp[nq].vn = (size_t)(q - qp[nq].v);
			if (!escapes_ok(qp[nq].k, qp[nq].kn) ||
			    !escapes_ok(qp[nq].v, qp[nq].vn))
				return false;
			nq++;
		}
		p = q + (amp != NULL);
	}
	/* Insertion sort: stable, and nq is small. */
	for (size_t i = 1; i < nq; i++) {
		struct qparam t = qp[i];
		size_t j = i;

		while (j > 0 && qparam_cmp(&qp[j - 1], &t) > 0) {
			qp[j] = qp[j - 1];
			j--;
		}
		qp[j] = t;
	}
	for (size_t i = 0; i < nq; i++) {
		if (i > 0)
			sink_putc(s, '&');
		sink_encoded(s, qp[i].k, qp[i].kn, true, false);
		sink_putc(s, '=');
		sink_encoded(s, qp[i].v, qp[i].vn, true, false);
	}
	return true;
}

/* ---- headers ---- */

/* Header value bytes: no controls but HT, CR, LF (folding), no DEL. */
static bool value_ok(const char *v)
{
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c < 0x20 && !is_lws(c)) || c == 0x7f)
			return false;
	}
	return true;
}

static bool name_ok(const char *n)
{
	if (*n == '\0')
		return false;
	for (; *n != '\0'; n++)
		if (!is_tchar((unsigned char)*n))
			return false;
	return true;
}

/* True when the trimmed value equals lit. */
static bool value_is(const char *v, const char *lit)
{
	size_t n = strlen(v);

	trim_lws(&v, &n);
	return n == strlen(lit) && memcmp(v, lit, n) == 0;
}

/*
 * Validates the headers and sorts their indexes by lower-cased name,
 * keeping request order among equal names. Requires exactly one host (not
 * empty) and exactly one x-amz-date, equal to amz_date.
 */
static bool sort_headers(const struct vf_sigv4_request *req,
	const char *amz_date, uint8_t *idx)
{
	size_t n = req->n_headers, hosts = 0, dates = 0;

	if (n > VF_SIGV4_MAX_HEADERS || (n > 0 && req->headers == NULL))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct vf_sigv4_header *h = &req->headers[i];

		if (h->name == NULL || h->value == NULL || !name_ok(h->name) ||
		    !value_ok(h->value))
			return false;
		if (name_is(h->name, "host")) {
			if (value_is(h->value, ""))
				return false;
			hosts++;
		} else if (name_is(h->name, "x-amz-date")) {
			if (!value_is(h->value, amz_date))
				return false;
			dates++;
		}
		idx[i] = (uint8_t)i;
	}
	if (hosts != 1 || dates != 1)
		return false;
	for (size_t i = 1; i < n; i++) {
		uint8_t t = idx[i];
		size_t j = i;

		while (j > 0 && name_cmp(req->headers[idx[j - 1]].name,
		    req->headers[t].name) > 0) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = t;
	}
	return true;
}

static void sink_lower(struct sink *s, const char *name)
{
	for (; *name != '\0'; name++)
		sink_putc(s, (char)to_lower((unsigned char)*name));
}

/* The value trimmed, each run of linear whitespace made one space. */
static void sink_value(struct sink *s, const char *v)
{
	size_t n = strlen(v);
	bool in_ws = false;

	trim_lws(&v, &n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (is_lws(c)) {
			in_ws = true;
			continue;
		}
		if (in_ws)
			sink_putc(s, ' ');
		in_ws = false;
		sink_putc(s, (char)c);
	}
}

static void canonical_headers(struct sink *s,
	const struct vf_sigv4_request *req, const uint8_t *idx)
{
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct vf_sigv4_header *h = &req->headers[idx[i]];

		if (i > 0 && name_cmp(req->headers[idx[i - 1]].name, h->name) == 0) {
			sink_putc(s, ',');
		} else {
			if (i > 0)
				sink_putc(s, '\n');
			sink_lower(s, h->name);
			sink_putc(s, ':');
		}
		sink_value(s, h->value);
	}
	sink_putc(s, '\n');
}

/* "host;x-amz-date": the distinct lower-cased names, in order. */
static void signed_headers(struct sink *s, const struct vf_sigv4_request *req,
	const uint8_t *idx)
{
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *name = req->headers[idx[i]].name;

		if (i > 0 && name_cmp(req->headers[idx[i - 1]].name, name) == 0)
			continue;
		if (i > 0)
			sink_putc(s, ';');
		sink_lower(s, name);
	}
}

/* ---- crypto ---- */

static bool hmac_sha256(const void *key, size_t key_len, const void *data,
	size_t data_len, unsigned char out[SHA256_LEN])
{
	size_t out_len = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len,
	    data, data_len, out, SHA256_LEN, &out_len) == NULL)
		return false;
	return out_len == SHA256_LEN;
}

static bool sha256(const void *p, size_t n, unsigned char out[SHA256_LEN])
{
	unsigned int len = 0;

	if (p == NULL)
		p = "";
	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 &&
		len == SHA256_LEN;
}

void vf_sigv4_sha256_hex(const void *p, size_t n, char out[VF_SIGV4_HEX_LEN + 1])
{
	unsigned char md[SHA256_LEN];

	if (!sha256(p, n, md)) {
		out[0] = '\0';
		return;
	}
	to_hex(md, sizeof(md), out);
}

/* ---- dates ---- */

static bool amz_date_ok(const char *d)
{
	if (d == NULL || strlen(d) != VF_SIGV4_AMZ_DATE_LEN)
		return false;
	for (size_t i = 0; i < VF_SIGV4_AMZ_DATE_LEN; i++) {
		unsigned char c = (unsigned char)d[i];
		bool ok = i == 8 ? c == 'T' : i == 15 ? c == 'Z' : is_digit(c);

		if (!ok)
			return false;
	}
	return true;
}

/* Writes v as exactly width decimal digits. */
static char *put_digits(char *out, int v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return out + width;
}

void vf_sigv4_amz_date(time_t t, char out[VF_SIGV4_AMZ_DATE_LEN + 1])
{
	struct tm tm;
	char *p = out;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900) {
		memcpy(out, "00000000T000000Z", VF_SIGV4_AMZ_DATE_LEN + 1);
		return;
	}
	p = put_digits(p, tm.tm_year + 1900, 4);
	p = put_digits(p, tm.tm_mon + 1, 2);
	p = put_digits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, tm.tm_hour, 2);
	p = put_digits(p, tm.tm_min, 2);
	p = put_digits(p, tm.tm_sec, 2);
	*p++ = 'Z';
	*p = '\0';
}

/* ---- signing ---- */

/* Region: letters, digits, '-'. Service: also '_' and '.'; not S3. */
static bool scope_part_ok(const char *s, size_t max, bool service)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= max)
			return false;
		if (!is_alnum(c) && c != '-' && !(service && (c == '_' || c == '.')))
			return false;
	}
	if (service && strcmp(s, "s3") == 0)
		return false;
	return n > 0;
}

static bool method_ok(const char *m)
{
	return m != NULL && name_ok(m);
}

/* Writes the canonical request through s; the caller has validated req. */
static bool canonical_request(struct sink *s, const struct vf_sigv4_request *req,
	const uint8_t *idx)
{
	char payload_hex[VF_SIGV4_HEX_LEN + 1];

	if (req->payload == NULL && req->payload_len > 0)
		return false;
	vf_sigv4_sha256_hex(req->payload, req->payload_len, payload_hex);
	if (payload_hex[0] == '\0')
		return false;
	sink_puts(s, req->method);
	sink_putc(s, '\n');
	if (!canonical_uri(s, req->path))
		return false;
	sink_putc(s, '\n');
	if (!canonical_query(s, req->query))
		return false;
	sink_putc(s, '\n');
	canonical_headers(s, req, idx);
	sink_putc(s, '\n');
	signed_headers(s, req, idx);
	sink_putc(s, '\n');
	sink_put(s, payload_hex, VF_SIGV4_HEX_LEN);
	return true;
}

/* kSigning = HMAC chain over the date, region, service and "aws4_request". */
static bool signing_key(const char *secret, const char *amz_date,
	const char *region, const char *service, unsigned char key[SHA256_LEN])
{
	char k0[4 + SIGV4_MAX_SECRET];
	size_t sn = strlen(secret);
	unsigned char k1[SHA256_LEN], k2[SHA256_LEN], k3[SHA256_LEN];
	bool ok;

	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, secret, sn);
	ok = hmac_sha256(k0, 4 + sn, amz_date, 8, k1) &&
		hmac_sha256(k1, sizeof(k1), region, strlen(region), k2) &&
		hmac_sha256(k2, sizeof(k2), service, strlen(service), k3) &&
		hmac_sha256(k3, sizeof(k3), "aws4_request", 12, key);
	OPENSSL_cleanse(k0, sizeof(k0));
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(k3, sizeof(k3));
	return ok;
}

bool vf_sigv4_sign(const struct vf_sigv4_request *req,
	const struct vf_sigv4_key *key, const char *region, const char *service,
	const char *amz_date, struct vf_buf *authz, struct vf_buf *canonical,
	struct vf_buf *string_to_sign)
{
	uint8_t idx[VF_SIGV4_MAX_HEADERS];
	unsigned char creq_md[SHA256_LEN], skey[SHA256_LEN], sig[SHA256_LEN];
	char creq_hex[VF_SIGV4_HEX_LEN + 1], sig_hex[VF_SIGV4_HEX_LEN + 1];
	/* "AWS4-HMAC-SHA256\n" date "\n" yyyymmdd/region/service/aws4_request "\n" hex */
	char sts[17 + VF_SIGV4_AMZ_DATE_LEN + 1 + 9 + SIGV4_MAX_REGION + 1 +
		SIGV4_MAX_SERVICE + 14 + VF_SIGV4_HEX_LEN + 1];
	struct sink s;
	unsigned int md_len = 0;
	int sts_len;
	bool ok;

	if (req == NULL || key == NULL || authz == NULL ||
	    !method_ok(req->method) || !amz_date_ok(amz_date) ||
	    !scope_part_ok(region, SIGV4_MAX_REGION, false) ||
	    !scope_part_ok(service, SIGV4_MAX_SERVICE, true) ||
	    !printable_word(key->access_key_id, SIGV4_MAX_AKID, "/,") ||
	    !printable_word(key->secret_access_key, SIGV4_MAX_SECRET, "") ||
	    !sort_headers(req, amz_date, idx))
		return false;

	/* Canonical request, hashed as it is written. */
	s.md = EVP_MD_CTX_new();
	s.copy = canonical;
	s.ok = s.md != NULL && EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) == 1;
	s.n = 0;
	if (canonical != NULL)
		vf_buf_reset(canonical);
	ok = s.ok && canonical_request(&s, req, idx);
	sink_flush(&s);
	ok = ok && s.ok && EVP_DigestFinal_ex(s.md, creq_md, &md_len) == 1 &&
		md_len == SHA256_LEN;
	EVP_MD_CTX_free(s.md);
	if (!ok || (canonical != NULL && !buf_terminate(canonical)))
		return false;
	to_hex(creq_md, sizeof(creq_md), creq_hex);

	/* String to sign. */
	sts_len = snprintf(sts, sizeof(sts), VF_SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s",
		amz_date, amz_date, region, service, creq_hex);
	if (sts_len < 0 || (size_t)sts_len >= sizeof(sts))
		return false;
	if (string_to_sign != NULL) {
		vf_buf_reset(string_to_sign);
		if (!vf_buf_append(string_to_sign, sts, (size_t)sts_len) ||
		    !buf_terminate(string_to_sign))
			return false;
	}

	/* Signature. */
	ok = signing_key(key->secret_access_key, amz_date, region, service, skey) &&
		hmac_sha256(skey, sizeof(skey), sts, (size_t)sts_len, sig);
	OPENSSL_cleanse(skey, sizeof(skey));
	if (!ok)
		return false;
	to_hex(sig, sizeof(sig), sig_hex);

	/* Authorization value; SignedHeaders written straight into authz. */
	vf_buf_reset(authz);
	if (!vf_buf_printf(authz, VF_SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=",
	    key->access_key_id, amz_date, region, service))
		return false;
	s.md = NULL;
	s.copy = authz;
	s.ok = true;
	s.n = 0;
	signed_headers(&s, req, idx);
	sink_flush(&s);
	return s.ok && vf_buf_printf(authz, ", Signature=%s", sig_hex);
}
