/*
 * vf_http: one libcurl easy handle, so one keep-alive connection per
 * worker; timeouts on everything; responses capped.
 */
#ifndef VPCFLOWD_HTTP_H
#define VPCFLOWD_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "vpcflowd/buf.h"

struct vf_http_opts {
	long connect_timeout_ms;   /* 0: 5000 */
	long timeout_ms;           /* whole request; 0: 30000 */
	bool insecure;             /* skip TLS verification (logged by the caller) */
	const char *ca_file;       /* NULL: the system's CAs */
	size_t max_response;       /* body cap; 0: 16 MiB */
	bool no_proxy;             /* ignore http_proxy & co (metadata endpoints) */
	const char *cert_file;     /* TLS client certificate (PEM); NULL: none */
	const char *key_file;      /* its key; NULL: in cert_file */
	const atomic_int *cancel;  /* set: the transfer in flight is abandoned
				      (VF_HTTP_NETWORK) within about a second */
	const atomic_int *cancel2; /* a second flag that does the same */
	bool follow_redirects;     /* up to 5, http and https only */
};

enum vf_http_result {
	VF_HTTP_OK,          /* a response came: look at its status */
	VF_HTTP_NETWORK,     /* resolve, connect, TLS, timeout, reset */
	VF_HTTP_TOO_LARGE,   /* the body passed max_response */
	VF_HTTP_ERROR,       /* a bad URL, out of memory */
};

struct vf_http;

/* Call once before any thread starts (curl_global_init). */
bool vf_http_global_init(void);

struct vf_http *vf_http_create(const struct vf_http_opts *opts);
void vf_http_destroy(struct vf_http *h);

/*
 * Sends one request and waits for the whole response. headers are
 * complete "Name: value" lines. method is GET, PUT, POST...; body may be
 * NULL for none. The response stays in h until the next request.
 */
enum vf_http_result vf_http_request(struct vf_http *h, const char *method,
	const char *url, const char *const *headers, size_t n_headers,
	const void *body, size_t len);

/*
 * The same request again and again (an output posting one document after
 * another): vf_http_prepare() sets the method, url and headers once and
 * keeps them, so each vf_http_send() only hands over a new body and does
 * not build anything. vf_http_request() in between drops the preparation.
 * False on out of memory.
 */
bool vf_http_prepare(struct vf_http *h, const char *method, const char *url,
	const char *const *headers, size_t n_headers);
enum vf_http_result vf_http_send(struct vf_http *h, const void *body,
	size_t len);

long vf_http_status(const struct vf_http *h);
/* Frees the response buffers (after a large answer that is not needed any
 * more); the next request allocates again. */
void vf_http_release(struct vf_http *h);
const struct vf_buf *vf_http_body(const struct vf_http *h);
/* The response header's value (first match, case-insensitive), or NULL. */
const char *vf_http_header(const struct vf_http *h, const char *name);
/* What went wrong for a result other than VF_HTTP_OK. */
const char *vf_http_error(const struct vf_http *h);

/*
 * The Host header curl sends for url ("host" or "host:port" when the port
 * is not the scheme's default), as SigV4 must sign it. False on a bad URL.
 */
bool vf_http_host_of(const char *url, char *out, size_t outlen);

#endif
