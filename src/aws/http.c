#include "vpcflowd/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RESPONSE_HEADERS 32

struct vf_http {
	CURL *curl;
	struct vf_http_opts o;
	struct vf_buf body;
	struct vf_buf headers;       /* response header lines, NUL-separated */
	long status;
	bool too_large;
	struct curl_slist *prepared;   /* vf_http_prepare's headers, kept */
	bool prepared_get;
	char errbuf[CURL_ERROR_SIZE];
	char value[512];             /* vf_http_header's answer */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static bool global_ok;

static void global_init(void)
{
	global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

bool vf_http_global_init(void)
{
	pthread_once(&global_once, global_init);
	return global_ok;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct vf_http *h = ctx;
	size_t len = size * n;

	if (!vf_buf_append(&h->body, p, len)) {
		h->too_large = true;
		return 0;        /* aborts the transfer */
	}
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct vf_http *h = ctx;
	size_t len = size * n;

	/* a new status line (after a redirect or 100) starts over */
	if (len > 5 && memcmp(p, "HTTP/", 5) == 0)
		vf_buf_reset(&h->headers);
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len > 0 && (!vf_buf_append(&h->headers, p, len) ||
	    !vf_buf_append(&h->headers, "", 1)))
		return 0;
	return size * n;
}

struct vf_http *vf_http_create(const struct vf_http_opts *opts)
{
	struct vf_http *h;

	if (!vf_http_global_init())
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->o = *opts;
	if (h->o.connect_timeout_ms <= 0)
		h->o.connect_timeout_ms = 5000;
	if (h->o.timeout_ms <= 0)
		h->o.timeout_ms = 30000;
	if (h->o.max_response == 0)
		h->o.max_response = 16u << 20;
	vf_buf_init(&h->body, h->o.max_response);
	vf_buf_init(&h->headers, 64 << 10);
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

void vf_http_destroy(struct vf_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->prepared);
	vf_buf_finish(&h->body);
	vf_buf_finish(&h->headers);
	free(h);
}

/* Called by curl at least once a second while a transfer runs. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
	curl_off_t ultotal, curl_off_t ulnow)
{
	const struct vf_http *h = ctx;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return (h->o.cancel != NULL &&
		atomic_load_explicit(h->o.cancel, memory_order_relaxed) != 0) ||
		(h->o.cancel2 != NULL &&
		atomic_load_explicit(h->o.cancel2, memory_order_relaxed) != 0);
}

static void set_common(struct vf_http *h)
{
	CURL *c = h->curl;

	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, h->o.insecure ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, h->o.insecure ? 0L : 2L);
	if (h->o.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.ca_file);
	if (h->o.cert_file != NULL)
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->o.cert_file);
	if (h->o.key_file != NULL)
		curl_easy_setopt(c, CURLOPT_SSLKEY, h->o.key_file);
	if (h->o.cancel != NULL || h->o.cancel2 != NULL) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	/* credentials from a link-local endpoint must never cross a proxy */
	if (h->o.no_proxy)
		curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION,
		h->o.follow_redirects ? 1L : 0L);
	if (h->o.follow_redirects) {
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	}
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
}

void vf_http_release(struct vf_http *h)
{
	vf_buf_finish(&h->body);
	vf_buf_init(&h->body, h->o.max_response);
}

/* Forgets the last response. */
static void begin(struct vf_http *h)
{
	vf_buf_reset(&h->body);
	vf_buf_reset(&h->headers);
	h->status = 0;
	h->too_large = false;
	h->errbuf[0] = '\0';
}

/* The header lines plus "Expect:"; NULL on out of memory. */
static struct curl_slist *header_list(const char *const *headers,
	size_t n_headers)
{
	struct curl_slist *list = NULL, *tmp;

	for (size_t i = 0; i < n_headers; i++) {
		tmp = curl_slist_append(list, headers[i]);
		if (tmp == NULL)
			goto nomem;
		list = tmp;
	}
	/* no "Expect: 100-continue" round trip */
	tmp = curl_slist_append(list, "Expect:");
	if (tmp == NULL)
		goto nomem;
	return tmp;
nomem:
	curl_slist_free_all(list);
	return NULL;
}

static void set_body(struct vf_http *h, const void *body, size_t len)
{
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		(curl_off_t)(body ? len : 0));
}

static void set_method(struct vf_http *h, const char *method)
{
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") != 0)
		curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
}

/* Runs the request set up in the handle and sorts out what came back. */
static enum vf_http_result perform(struct vf_http *h)
{
	enum vf_http_result r;
	CURLcode rc;

	rc = curl_easy_perform(h->curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &h->status);
		r = VF_HTTP_OK;
	} else if (h->too_large) {
		snprintf(h->errbuf, sizeof(h->errbuf), "response larger than "
			"%zu bytes", h->o.max_response);
		r = VF_HTTP_TOO_LARGE;
	} else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_OUT_OF_MEMORY ||
		   rc == CURLE_UNSUPPORTED_PROTOCOL) {
		r = VF_HTTP_ERROR;
	} else {
		r = VF_HTTP_NETWORK;
		if (rc == CURLE_ABORTED_BY_CALLBACK)
			snprintf(h->errbuf, sizeof(h->errbuf), "cancelled");
	}
	if (r != VF_HTTP_OK && h->errbuf[0] == '\0')
		snprintf(h->errbuf, sizeof(h->errbuf), "%s",
			curl_easy_strerror(rc));
	return r;
}

/* A one-off request: prepared, sent, and the preparation dropped. */
enum vf_http_result vf_http_request(struct vf_http *h, const char *method,
	const char *url, const char *const *headers, size_t n_headers,
	const void *body, size_t len)
{
	enum vf_http_result r;

	if (!vf_http_prepare(h, method, url, headers, n_headers)) {
		snprintf(h->errbuf, sizeof(h->errbuf), "out of memory");
		return VF_HTTP_ERROR;
	}
	r = vf_http_send(h, body, len);
	curl_slist_free_all(h->prepared);
	h->prepared = NULL;
	return r;
}

bool vf_http_prepare(struct vf_http *h, const char *method, const char *url,
	const char *const *headers, size_t n_headers)
{
	curl_easy_reset(h->curl);
	curl_slist_free_all(h->prepared);
	h->prepared = header_list(headers, n_headers);
	if (h->prepared == NULL)
		return false;
	set_common(h);
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->prepared);
	h->prepared_get = strcmp(method, "GET") == 0;
	if (!h->prepared_get)
		set_body(h, NULL, 0);
	set_method(h, method);
	return true;
}

enum vf_http_result vf_http_send(struct vf_http *h, const void *body,
	size_t len)
{
	begin(h);
	if (h->prepared == NULL) {
		snprintf(h->errbuf, sizeof(h->errbuf), "no prepared request");
		return VF_HTTP_ERROR;
	}
	if (!h->prepared_get)
		set_body(h, body, len);
	return perform(h);
}

long vf_http_status(const struct vf_http *h)
{
	return h->status;
}

const struct vf_buf *vf_http_body(const struct vf_http *h)
{
	return &h->body;
}

const char *vf_http_header(const struct vf_http *h, const char *name)
{
	struct vf_http *mh = (struct vf_http *)h;
	size_t nlen = strlen(name), off = 0;

	while (off < h->headers.len) {
		const char *line = h->headers.data + off;
		size_t llen = strlen(line);

		if (llen > nlen && line[nlen] == ':' &&
		    strncasecmp(line, name, nlen) == 0) {
			const char *v = line + nlen + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(mh->value, sizeof(mh->value), "%s", v);
			return mh->value;
		}
		off += llen + 1;
	}
	return NULL;
}

const char *vf_http_error(const struct vf_http *h)
{
	return h->errbuf;
}

bool vf_http_host_of(const char *url, char *out, size_t outlen)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *scheme = NULL;
	bool ok = false;

	if (u == NULL)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		goto done;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
	    !((strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
	      (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0)))
		ok = (size_t)snprintf(out, outlen, "%s:%s", host, port) < outlen;
	else
		ok = (size_t)snprintf(out, outlen, "%s", host) < outlen;
done:
	curl_free(host);
	curl_free(port);
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok;
}
