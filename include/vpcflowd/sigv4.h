/*
 * AWS Signature Version 4 (header form, AWS4-HMAC-SHA256) for non-S3
 * services such as Kinesis and STS.
 *
 *   canonical request = METHOD \n canonical URI \n canonical query \n
 *                       canonical headers (each "name:value\n") \n
 *                       signed headers \n hex(SHA-256(payload))
 *   string to sign    = "AWS4-HMAC-SHA256" \n amz_date \n scope \n
 *                       hex(SHA-256(canonical request))
 *   scope             = yyyymmdd/region/service/aws4_request
 *   signing key       = HMAC chain "AWS4"+secret -> yyyymmdd -> region ->
 *                       service -> "aws4_request"
 *
 * Canonicalisation, as the AWS SigV4 test suite expects:
 *
 * - URI: path is the raw path as it goes on the wire. It is normalised
 *   (empty and "." segments dropped, ".." removes the previous segment,
 *   never above the root; a trailing '/' is kept when the path ended in '/'
 *   and a segment remains), then every byte but the unreserved A-Z a-z 0-9
 *   - . _ ~ and '/' becomes %XX (upper-case hex). A '%' already in the path
 *   is encoded as well ("/a%20b" -> "/a%2520b"): that is the double encoding
 *   AWS requires of non-S3 services. The S3 rules (no normalisation, single
 *   encoding) are not implemented and service "s3" is refused.
 * - Query: the raw query (no '?') is split on '&' (empty pieces dropped),
 *   each name and value split at the first '=', %XX-decoded ('+' is a literal
 *   plus sign), re-encoded like the path but with '/' encoded too, sorted by
 *   encoded name then encoded value, and joined as name=value, the '='
 *   always present. A malformed %-escape makes the request malformed.
 * - Headers: names lower-cased, sorted by name (stable); values trimmed and
 *   every run of spaces, tabs, CRs and LFs (folded lines) turned into one
 *   space; headers sharing a name are joined with ',' in request order.
 *   Every header passed is signed: leave out any that must not be (e.g. a
 *   security token some services want added after signing).
 *
 * The request must carry exactly one non-empty "host" header and exactly one
 * "x-amz-date" header equal to amz_date. Header names must be RFC 9110
 * tokens; values may hold no control character but HT, CR and LF. Limits:
 * VF_SIGV4_MAX_HEADERS headers, VF_SIGV4_MAX_QUERY query parameters,
 * VF_SIGV4_MAX_SEGMENTS path segments left after normalisation, region and
 * service 64 bytes ([A-Za-z0-9-], service also '_' '.'), access key id 128
 * and secret 256 printable bytes; more is refused. Apart from the output
 * buffers, and what OpenSSL's EVP layer allocates internally, nothing is
 * allocated.
 */
#ifndef VPCFLOWD_SIGV4_H
#define VPCFLOWD_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "vpcflowd/buf.h"

#define VF_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define VF_SIGV4_MAX_HEADERS 64
#define VF_SIGV4_MAX_QUERY 256
#define VF_SIGV4_MAX_SEGMENTS 128
#define VF_SIGV4_AMZ_DATE_LEN 16    /* "YYYYMMDDTHHMMSSZ" */
#define VF_SIGV4_HEX_LEN 64         /* hex SHA-256 / signature */

/* One header as the request carries it: any case, value untrimmed. */
struct vf_sigv4_header {
	const char *name;
	const char *value;
};

struct vf_sigv4_request {
	const char *method;                     /* "POST" */
	const char *path;                       /* raw path as sent: "/", "/a%20b" */
	const char *query;                      /* raw query without '?', "" or NULL if none */
	const struct vf_sigv4_header *headers;  /* must include host and x-amz-date,
	                                           and x-amz-security-token when a
	                                           session token is signed */
	size_t n_headers;
	const void *payload;                    /* may be NULL when payload_len is 0 */
	size_t payload_len;
};

struct vf_sigv4_key {
	const char *access_key_id;
	const char *secret_access_key;
};

/*
 * Signs req for region and service at amz_date ("YYYYMMDDTHHMMSSZ", UTC).
 * Writes the Authorization header value ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=..., Signature=...") to authz, replacing its contents,
 * NUL-terminated (the NUL is not counted in len). canonical and
 * string_to_sign, when not NULL, likewise receive the canonical request and
 * the string to sign (for tests and debugging).
 *
 * Returns false, the buffers' contents then unspecified, when the request,
 * key, region, service or date is malformed, a limit is passed, a buffer
 * reaches its cap or OpenSSL fails.
 */
bool vf_sigv4_sign(const struct vf_sigv4_request *req,
	const struct vf_sigv4_key *key, const char *region, const char *service,
	const char *amz_date, struct vf_buf *authz, struct vf_buf *canonical,
	struct vf_buf *string_to_sign);

/* Formats t (seconds since the epoch) as UTC "YYYYMMDDTHHMMSSZ". */
void vf_sigv4_amz_date(time_t t, char out[VF_SIGV4_AMZ_DATE_LEN + 1]);

/*
 * Lower-case hex SHA-256 of [p, p + n), NUL-terminated; p may be NULL if n
 * is 0. Should OpenSSL fail (out of memory), out is the empty string.
 */
void vf_sigv4_sha256_hex(const void *p, size_t n, char out[VF_SIGV4_HEX_LEN + 1]);

#endif
