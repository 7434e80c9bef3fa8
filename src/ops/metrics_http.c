/*
 * The metrics listener: libmicrohttpd with its own polling thread,
 * GET (or HEAD) /metrics and /healthz, nothing else.
 */
#include "vpcflowd/metrics.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vpcflowd/log.h"

struct vf_metrics_server {
	struct MHD_Daemon *d;
	const struct vf_metrics_sources *s;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
	const char *type, const void *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len,
		(void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
	const char *url, const char *method, const char *version,
	const char *upload, size_t *upload_len, void **state)
{
	struct vf_metrics_server *m = cls;
	static const char text[] = "text/plain; charset=utf-8";

	(void)version;
	(void)upload;
	if (*state == NULL) {
		*state = m;     /* headers only so far: wait for the whole request */
		return MHD_YES;
	}
	if (*upload_len != 0) {
		*upload_len = 0;  /* a body is not wanted: read and drop it */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, text,
			"GET only\n", 9);
	if (strcmp(url, "/metrics") == 0) {
		struct vf_buf b;
		enum MHD_Result ret;

		vf_buf_init(&b, 64u << 20);
		if (!vf_metrics_render(m->s, &b)) {
			vf_buf_finish(&b);
			return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text,
				"out of memory\n", 14);
		}
		ret = reply(conn, MHD_HTTP_OK,
			"text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
		vf_buf_finish(&b);
		return ret;
	}
	if (strcmp(url, "/healthz") == 0) {
		char why[256], body[300];
		bool ok = vf_metrics_healthy(m->s, why, sizeof(why));
		int n = snprintf(body, sizeof(body), "%s%s\n",
			ok ? "" : "unhealthy: ", why);

		return reply(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			text, body, (size_t)n);
	}
	return reply(conn, MHD_HTTP_NOT_FOUND, text,
		"not found: try /metrics or /healthz\n", 36);
}

/* "host:port" or "[v6]:port" into host and port. */
static bool split_listen(const char *listen, char *host, size_t hlen,
	char *port, size_t plen)
{
	const char *colon;
	size_t n;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');

		if (end == NULL || end[1] != ':')
			return false;
		n = (size_t)(end - listen - 1);
		colon = end + 1;
		listen++;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			return false;
		n = (size_t)(colon - listen);
	}
	if (n >= hlen || strlen(colon + 1) >= plen)
		return false;
	memcpy(host, listen, n);
	host[n] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	return true;
}

struct vf_metrics_server *vf_metrics_server_start(const char *listen,
	const struct vf_metrics_sources *s, char *err, size_t errlen)
{
	struct vf_metrics_server *m;
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	}, *ai = NULL;
	char host[256], port[16];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int rc;

	if (!split_listen(listen, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, errlen, "metrics.listen: \"%s\" is not host:port",
			listen);
		return NULL;
	}
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "metrics.listen: %s: %s", listen,
			gai_strerror(rc));
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		freeaddrinfo(ai);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->s = s;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, m,
		MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (m->d == NULL) {
		snprintf(err, errlen, "metrics.listen: cannot listen on %s (in "
			"use, or not an address of this host)", listen);
		free(m);
		return NULL;
	}
	return m;
}

void vf_metrics_server_stop(struct vf_metrics_server *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
