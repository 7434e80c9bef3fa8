/*
 * gelf_http against a small HTTP/1.1 server on 127.0.0.1 in a thread: it
 * keeps connections alive, records each request and answers with the
 * statuses of a script (the last one repeats; HANG: no answer at all).
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libdeflate.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpcflowd/clock.h"
#include "vpcflowd/config.h"
#include "vpcflowd/output.h"

#define MAX_REQUESTS 64
#define MAX_HEAD 8192
#define MAX_BODY (1 << 20)
#define HANG (-1)

static const char doc[] = "{\"version\":\"1.1\",\"host\":\"aws-flowlogs\","
	"\"short_message\":\"eni-1235b8ca123456789 ACCEPT TCP "
	"172.31.16.139:20641 -> 172.31.16.21:22\",\"timestamp\":1418530010,"
	"\"_interface_id\":\"eni-1235b8ca123456789\",\"_src_port\":20641,"
	"\"_dst_port\":22,\"_protocol\":\"TCP\",\"_bytes\":4249}";

struct request {
	char line[256];              /* "POST /gelf HTTP/1.1" */
	char content_type[128];
	char content_encoding[64];
	char *body;
	size_t len;
};

struct server {
	int lfd;
	unsigned port;
	pthread_t thread;
	atomic_int quit;
	pthread_mutex_t mu;
	int script[16];
	size_t n_script;
	struct request req[MAX_REQUESTS];
	size_t n_req;
	int connections;
};

/* Waits for fd to be readable; false when told to quit. */
static bool wait_readable(struct server *s, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (!atomic_load(&s->quit)) {
		if (poll(&pfd, 1, 50) > 0)
			return true;
	}
	return false;
}

/* Reads into buf until it holds need bytes; false on EOF or quit. */
static bool read_until(struct server *s, int fd, char *buf, size_t *have,
	size_t cap, size_t need)
{
	while (*have < need) {
		ssize_t n;

		if (*have >= cap || !wait_readable(s, fd))
			return false;
		n = read(fd, buf + *have, cap - *have);
		if (n <= 0)
			return false;
		*have += (size_t)n;
	}
	return true;
}

/* The value of header name in the head (CRLF lines), or "". */
static void header_value(const char *head, const char *name, char *out,
	size_t outlen)
{
	size_t nlen = strlen(name);

	out[0] = '\0';
	for (const char *p = strstr(head, "\r\n"); p != NULL;
	     p = strstr(p, "\r\n")) {
		p += 2;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(out, outlen, "%.*s", (int)(e - v), v);
			return;
		}
	}
}

static int next_status(struct server *s)
{
	size_t i = s->n_req < s->n_script ? s->n_req : s->n_script - 1;

	return s->script[i];
}

/* One request from fd: recorded and answered. False when the peer left. */
static bool serve_one(struct server *s, int fd, char *buf, size_t *have)
{
	char *end, clen[32];
	struct request r;
	size_t head_len, body_len;
	char reply[128];
	int status, n;

	memset(&r, 0, sizeof(r));
	for (;;) {
		buf[*have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end != NULL)
			break;
		if (!read_until(s, fd, buf, have, MAX_HEAD, *have + 1))
			return false;
	}
	head_len = (size_t)(end - buf) + 4;
	buf[head_len - 2] = '\0';
	snprintf(r.line, sizeof(r.line), "%.*s",
		(int)(strstr(buf, "\r\n") - buf), buf);
	header_value(buf, "Content-Type", r.content_type,
		sizeof(r.content_type));
	header_value(buf, "Content-Encoding", r.content_encoding,
		sizeof(r.content_encoding));
	header_value(buf, "Content-Length", clen, sizeof(clen));
	body_len = strtoul(clen, NULL, 10);
	r.body = malloc(body_len + 1);
	assert_non_null(r.body);
	/* the body: what came with the head, then the rest */
	n = (int)(*have - head_len < body_len ? *have - head_len : body_len);
	memcpy(r.body, buf + head_len, (size_t)n);
	r.len = (size_t)n;
	if (!read_until(s, fd, r.body, &r.len, body_len, body_len)) {
		free(r.body);
		return false;
	}
	memmove(buf, buf + head_len + n, *have - head_len - (size_t)n);
	*have -= head_len + (size_t)n;
	pthread_mutex_lock(&s->mu);
	status = next_status(s);
	if (s->n_req < MAX_REQUESTS)
		s->req[s->n_req++] = r;
	else
		free(r.body);
	pthread_mutex_unlock(&s->mu);
	if (status == HANG)
		return true;
	n = snprintf(reply, sizeof(reply), "HTTP/1.1 %d Scripted\r\n"
		"Content-Length: 0\r\n\r\n", status);
	return write(fd, reply, (size_t)n) == n;
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	static char buf[MAX_HEAD + 1];

	while (wait_readable(s, s->lfd)) {
		int fd = accept(s->lfd, NULL, NULL);
		size_t have = 0;

		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->mu);
		s->connections++;
		pthread_mutex_unlock(&s->mu);
		while (serve_one(s, fd, buf, &have))
			;
		close(fd);
	}
	return NULL;
}

static struct server *server_start(const int *script, size_t n)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int one = 1;

	assert_non_null(s);
	pthread_mutex_init(&s->mu, NULL);
	memcpy(s->script, script, n * sizeof(*script));
	s->n_script = n;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(listen(s->lfd, 8), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
	return s;
}

static void server_stop(struct server *s)
{
	atomic_store(&s->quit, 1);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	for (size_t i = 0; i < s->n_req; i++)
		free(s->req[i].body);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static size_t server_requests(struct server *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->n_req;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* The output under test, pointed at the server. */
struct client {
	atomic_int stop;
	char url[64];
	struct vf_config_output oc;
	struct vf_output_group *g;
	struct vf_output *o;
	struct vf_output_counters *c;
};

static struct client *client_open(unsigned port,
	enum vf_config_compression comp)
{
	struct client *cl = calloc(1, sizeof(*cl));

	assert_non_null(cl);
	snprintf(cl->url, sizeof(cl->url), "http://127.0.0.1:%u/gelf", port);
	cl->oc.type = VF_CONFIG_OUTPUT_GELF_HTTP;
	cl->oc.url = cl->url;
	cl->oc.compression = comp;
	cl->oc.tls.verify = true;
	cl->g = vf_output_group_create(&cl->oc, &cl->stop);
	assert_non_null(cl->g);
	cl->o = vf_output_open(cl->g);
	assert_non_null(cl->o);
	cl->c = vf_output_group_counters(cl->g);
	return cl;
}

static void client_close(struct client *cl)
{
	vf_output_destroy(cl->o);
	vf_output_group_destroy(cl->g);
	free(cl);
}

static bool write_doc(struct client *cl)
{
	return vf_output_write(cl->o, doc, sizeof(doc) - 1, NULL, 0);
}

static void test_plain(void **state)
{
	static const int script[] = { 202 };
	struct server *s = server_start(script, 1);
	struct client *cl = client_open(s->port, VF_CONFIG_COMPRESSION_NONE);

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_true(write_doc(cl));
		assert_int_equal(cl->o->written, (uint64_t)i + 1);
		assert_int_equal(vf_output_acked(cl->o), cl->o->written);
	}
	assert_true(vf_output_flush(cl->o));
	assert_int_equal(server_requests(s), 5);
	for (int i = 0; i < 5; i++) {
		const struct request *r = &s->req[i];

		assert_string_equal(r->line, "POST /gelf HTTP/1.1");
		assert_string_equal(r->content_type, "application/json");
		assert_string_equal(r->content_encoding, "");
		assert_int_equal(r->len, sizeof(doc) - 1);
		assert_memory_equal(r->body, doc, r->len);
	}
	assert_int_equal(s->connections, 1);      /* kept alive */
	assert_int_equal(atomic_load(&cl->c->messages), 5);
	assert_int_equal(atomic_load(&cl->c->bytes), 5 * (sizeof(doc) - 1));
	assert_int_equal(atomic_load(&cl->c->retries), 0);
	assert_int_equal(atomic_load(&cl->c->errors), 0);
	client_close(cl);
	server_stop(s);
}

static void test_gzip(void **state)
{
	static const int script[] = { 200 };
	struct server *s = server_start(script, 1);
	struct client *cl = client_open(s->port, VF_CONFIG_COMPRESSION_GZIP);
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	char out[sizeof(doc)];
	size_t got = 0;

	(void)state;
	assert_true(write_doc(cl));
	assert_true(write_doc(cl));
	assert_int_equal(server_requests(s), 2);
	for (int i = 0; i < 2; i++) {
		const struct request *r = &s->req[i];

		assert_string_equal(r->content_encoding, "gzip");
		assert_string_equal(r->content_type, "application/json");
		assert_int_equal(libdeflate_gzip_decompress(d, r->body, r->len,
			out, sizeof(out), &got), LIBDEFLATE_SUCCESS);
		assert_int_equal(got, sizeof(doc) - 1);
		assert_memory_equal(out, doc, got);
	}
	/* counted before compression */
	assert_int_equal(atomic_load(&cl->c->bytes), 2 * (sizeof(doc) - 1));
	libdeflate_free_decompressor(d);
	client_close(cl);
	server_stop(s);
}

/* 500, 429 and 503 are tried again until the 202. */
static void test_retry(void **state)
{
	static const int script[] = { 500, 429, 503, 202 };
	struct server *s = server_start(script, 4);
	struct client *cl = client_open(s->port, VF_CONFIG_COMPRESSION_NONE);

	(void)state;
	assert_true(write_doc(cl));
	assert_int_equal(server_requests(s), 4);
	for (int i = 0; i < 4; i++)
		assert_memory_equal(s->req[i].body, doc, sizeof(doc) - 1);
	assert_int_equal(atomic_load(&cl->c->retries), 3);
	assert_int_equal(atomic_load(&cl->c->messages), 1);
	assert_int_equal(atomic_load(&cl->c->errors), 0);
	assert_int_equal(atomic_load(&cl->c->down_since_ms), 0);  /* up again */
	assert_int_equal(cl->o->written, 1);
	assert_int_equal(vf_output_acked(cl->o), 1);
	client_close(cl);
	server_stop(s);
}

/* A 400 is this message's fault: counted, settled, and on to the next. */
static void test_reject(void **state)
{
	static const int script[] = { 400, 404, 202 };
	struct server *s = server_start(script, 3);
	struct client *cl = client_open(s->port, VF_CONFIG_COMPRESSION_NONE);

	(void)state;
	assert_true(write_doc(cl));
	assert_int_equal(atomic_load(&cl->c->errors), 1);
	assert_int_equal(cl->o->written, 1);
	assert_int_equal(vf_output_acked(cl->o), 1);
	assert_true(write_doc(cl));
	assert_true(write_doc(cl));
	assert_int_equal(server_requests(s), 3);
	assert_int_equal(atomic_load(&cl->c->errors), 2);
	assert_int_equal(atomic_load(&cl->c->messages), 1);
	assert_int_equal(atomic_load(&cl->c->retries), 0);
	assert_int_equal(vf_output_acked(cl->o), 3);
	client_close(cl);
	server_stop(s);
}

struct stopper {
	atomic_int *stop;
	unsigned ms;
};

static void *stop_later(void *arg)
{
	struct stopper *st = arg;

	usleep(st->ms * 1000);
	atomic_store(st->stop, 1);
	return NULL;
}

/* While the server keeps failing, only *stop ends write(): not taken. */
static void failing_until_stop(struct client *cl)
{
	struct stopper st = { &cl->stop, 400 };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, stop_later, &st), 0);
	assert_false(write_doc(cl));
	pthread_join(t, NULL);
	assert_int_equal(cl->o->written, 0);
	assert_int_equal(vf_output_acked(cl->o), 0);
	assert_true(atomic_load(&cl->c->retries) >= 1);
	assert_true(atomic_load(&cl->c->down_since_ms) > 0);
	assert_int_equal(atomic_load(&cl->c->messages), 0);
	assert_int_equal(atomic_load(&cl->c->errors), 0);
	/* stopped: refused at once */
	assert_false(write_doc(cl));
}

static void test_stop_while_failing(void **state)
{
	static const int script[] = { 503 };
	struct server *s = server_start(script, 1);
	struct client *cl = client_open(s->port, VF_CONFIG_COMPRESSION_NONE);

	(void)state;
	failing_until_stop(cl);
	assert_true(server_requests(s) >= 2);
	client_close(cl);
	server_stop(s);
}

/* Nothing listening: network errors are retried the same way. */
static void test_stop_while_refused(void **state)
{
	static const int script[] = { 202 };
	struct server *s = server_start(script, 1);
	unsigned port = s->port;
	struct client *cl;

	(void)state;
	server_stop(s);           /* the port is closed now */
	cl = client_open(port, VF_CONFIG_COMPRESSION_NONE);
	failing_until_stop(cl);
	client_close(cl);
}

/* A request that never gets its answer is abandoned once *stop is set. */
static void test_stop_while_hanging(void **state)
{
	static const int script[] = { HANG };
	struct server *s = server_start(script, 1);
	struct client *cl = client_open(s->port, VF_CONFIG_COMPRESSION_NONE);
	struct stopper st = { &cl->stop, 300 };
	uint64_t t0 = vf_now_ms();
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, stop_later, &st), 0);
	assert_false(write_doc(cl));
	pthread_join(t, NULL);
	/* curl looks at the flag about once a second */
	assert_true(vf_now_ms() - t0 < 3000);
	assert_int_equal(server_requests(s), 1);
	assert_int_equal(cl->o->written, 0);
	assert_int_equal(atomic_load(&cl->c->messages), 0);
	client_close(cl);
	server_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_stop_while_failing),
		cmocka_unit_test(test_stop_while_refused),
		cmocka_unit_test(test_stop_while_hanging),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
