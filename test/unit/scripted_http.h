/*
 * A scripted HTTP server for the unit tests (header-only: each test is one
 * program): one thread on 127.0.0.1 that reads each request whole, records
 * it, and asks the test what to answer. One request a connection.
 */
#ifndef VF_SCRIPTED_HTTP_H
#define VF_SCRIPTED_HTTP_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "testutil.h"

#define VF_TEST_HTTP_MAX_REQS 64

struct vf_test_req {
	char method[8];
	char path[256];          /* without the query string */
	char headers[8192];      /* "Name: value\n" lines as received */
	char *body;
};

struct vf_test_answer {
	int status;
	const char *content_type;   /* NULL: no Content-Type */
	const char *body;
};

/* Chooses the answer to r, with the server's mutex held. */
typedef void (*vf_test_http_fn)(const struct vf_test_req *r,
	struct vf_test_answer *a);

struct vf_test_http {
	int fd;
	int port;
	char url[64];            /* http://127.0.0.1:PORT */
	pthread_t thread;
	pthread_mutex_t mu;
	vf_test_http_fn answer;
	struct vf_test_req reqs[VF_TEST_HTTP_MAX_REQS];   /* the first ones */
	int n_reqs;
};

static inline bool vf_test_send_all(int c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Splits the request in buf (headers end at hend) into r. */
static inline void vf_test_http_parse(struct vf_test_req *r, char *buf,
	char *hend, size_t hlen, size_t n)
{
	char *line, *q;

	memset(r, 0, sizeof(*r));
	sscanf(buf, "%7s %255s", r->method, r->path);
	q = strchr(r->path, '?');
	if (q != NULL)
		*q = '\0';
	line = strstr(buf, "\r\n");
	while (line != NULL && line < hend) {
		char *next = strstr(line + 2, "\r\n");
		size_t ll = (size_t)((next ? next : hend) - (line + 2));

		if (strlen(r->headers) + ll + 2 < sizeof(r->headers)) {
			strncat(r->headers, line + 2, ll);
			strcat(r->headers, "\n");
		}
		line = next;
	}
	r->body = strndup(buf + hlen, n - hlen);
}

static inline void vf_test_http_handle(struct vf_test_http *s, int c)
{
	static char buf[1 << 17];
	char head[512], *hend, *clh;
	size_t n = 0, hlen, clen = 0;
	struct timeval tv = { 5, 0 };
	struct vf_test_req extra, *r = &extra;
	struct vf_test_answer a = { 404, NULL, "no answer" };

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t got = recv(c, buf + n, sizeof(buf) - 1 - n, 0);

		if (got <= 0)
			return;
		n += (size_t)got;
		buf[n] = '\0';
		hend = strstr(buf, "\r\n\r\n");
		if (hend != NULL)
			break;
		if (n == sizeof(buf) - 1)
			return;
	}
	hlen = (size_t)(hend - buf) + 4;
	clh = strcasestr(buf, "\r\nContent-Length:");
	if (clh != NULL && clh < hend)
		clen = strtoul(clh + 17, NULL, 10);
	while (n < hlen + clen && n < sizeof(buf) - 1) {
		ssize_t got = recv(c, buf + n, sizeof(buf) - 1 - n, 0);

		if (got <= 0)
			return;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*hend = '\0';

	pthread_mutex_lock(&s->mu);
	if (s->n_reqs < VF_TEST_HTTP_MAX_REQS)
		r = &s->reqs[s->n_reqs++];
	vf_test_http_parse(r, buf, hend, hlen, n);
	s->answer(r, &a);
	snprintf(head, sizeof(head), "HTTP/1.1 %d Scripted\r\n%s%s%s"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n", a.status,
		a.content_type ? "Content-Type: " : "",
		a.content_type ? a.content_type : "",
		a.content_type ? "\r\n" : "", strlen(a.body));
	vf_test_send_all(c, head, strlen(head));
	vf_test_send_all(c, a.body, strlen(a.body));
	if (r == &extra)
		free(extra.body);
	pthread_mutex_unlock(&s->mu);
}

static inline void *vf_test_http_serve(void *arg)
{
	struct vf_test_http *s = arg;

	for (;;) {
		int c = accept(s->fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		vf_test_http_handle(s, c);
		close(c);
	}
	return NULL;
}

static inline void vf_test_http_start(struct vf_test_http *s,
	vf_test_http_fn answer)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int one = 1;

	s->answer = answer;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
	pthread_mutex_init(&s->mu, NULL);
	assert_int_equal(pthread_create(&s->thread, NULL, vf_test_http_serve,
		s), 0);
}

static inline void vf_test_http_stop(struct vf_test_http *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* The value of header name in r ("" when absent), in a static buffer. */
static inline const char *vf_test_header(const struct vf_test_req *r,
	const char *name)
{
	static char out[8192];
	size_t nl = strlen(name);
	const char *p = r->headers;

	out[0] = '\0';
	while (*p != '\0') {
		const char *e = strchr(p, '\n');

		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;

			while (*v == ' ')
				v++;
			snprintf(out, sizeof(out), "%.*s", (int)(e - v), v);
			return out;
		}
		p = e + 1;
	}
	return out;
}

/* Forgets the recorded requests; call with s->mu held. */
static inline void vf_test_http_forget(struct vf_test_http *s)
{
	for (int i = 0; i < s->n_reqs; i++)
		free(s->reqs[i].body);
	s->n_reqs = 0;
}

#endif
