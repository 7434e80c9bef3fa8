/*
 * gelf_http: one POST to output.url a message, over one keep-alive
 * connection per output (Graylog's GELF HTTP input answers 202). With
 * output.bulk_max_size, messages are gathered one a line into POSTs of up
 * to that size (Graylog's input then needs "Enable Bulk Receiving").
 *
 * write() is synchronous: it returns once the message is settled (in
 * bulk, once the body it was gathered into is), so acked equals written
 * after each write, or after each flush in bulk. Any 2xx is delivered; 5xx, 408, 429 and
 * network errors are retried with backoff until they pass or *stop is
 * set; any other answer is the server refusing this message for good (a
 * counted error, and the message is settled).
 */
#include "output_internal.h"

#include <stdlib.h>
#include <strings.h>

#include "compress.h"
#include "vpcflowd/http.h"
#include "vpcflowd/log.h"

#define LOG_PERIOD_MS 10000
#define MAX_RESPONSE (1u << 20)        /* the body is never read */
#define MAX_BODY ((size_t)1 << 30)     /* the compressed body's buffer cap */
#define RETRY_AFTER_CAP_MS 30000

enum outcome { DELIVERED, REJECTED, RETRY };

struct http_output {
	struct vf_output base;
	const struct vf_config_output *oc;
	struct vf_http *h;
	struct vf_compress *z;      /* NULL: the body is the document */
	struct vf_buf zbody;        /* the compressed body, reused */
	size_t bulk_max;            /* output.bulk_max_size; 0: one message a POST */
	struct vf_buf pending;      /* bulk: messages not posted yet, one a line */
	uint64_t pending_msgs;
	unsigned seed;              /* backoff jitter */
};

/* Shared by every gelf_http output: the log, not each thread, is limited. */
static struct log_ratelimit rl_retry, rl_reject, rl_insecure;

/* One attempt: sorts the answer into delivered, rejected or retry. */
static enum outcome post_once(struct http_output *ho, const void *body,
	size_t len)
{
	enum vf_http_result r = vf_http_send(ho->h, body, len);
	long st = vf_http_status(ho->h);
	uint64_t held;

	if (r == VF_HTTP_OK && st >= 200 && st <= 299)
		return DELIVERED;
	if (r != VF_HTTP_OK) {
		if (log_ratelimit(&rl_retry, LOG_PERIOD_MS, &held))
			log_warnx("output gelf_http: POST %s: %s; retrying "
				"(%llu like this held back)", ho->oc->url,
				vf_http_error(ho->h), (unsigned long long)held);
		return RETRY;
	}
	if (st >= 500 || st == 408 || st == 429) {
		if (log_ratelimit(&rl_retry, LOG_PERIOD_MS, &held))
			log_warnx("output gelf_http: POST %s: HTTP %ld; retrying "
				"(%llu like this held back)", ho->oc->url, st,
				(unsigned long long)held);
		return RETRY;
	}
	if (log_ratelimit(&rl_reject, LOG_PERIOD_MS, &held))
		log_warnx("output gelf_http: POST %s: HTTP %ld; message dropped "
			"(%llu like this held back)", ho->oc->url, st,
			(unsigned long long)held);
	return REJECTED;
}

/* The pause before the next attempt: backoff, or what the server asked. */
static uint64_t retry_delay(struct http_output *ho, unsigned attempt)
{
	uint64_t ms = vf_backoff_ms(attempt, &ho->seed);
	const char *ra = NULL;
	char *end;
	unsigned long secs;

	if (vf_http_status(ho->h) == 429 || vf_http_status(ho->h) == 503)
		ra = vf_http_header(ho->h, "Retry-After");
	if (ra == NULL)
		return ms;
	/* seconds only: an HTTP date is rare enough to ignore */
	secs = strtoul(ra, &end, 10);
	if (end == ra || *end != '\0')
		return ms;
	if (secs > RETRY_AFTER_CAP_MS / 1000)
		secs = RETRY_AFTER_CAP_MS / 1000;
	return secs * 1000 > ms ? secs * 1000 : ms;
}

/*
 * Posts until the server settles it: n messages of gelf_len bytes in all.
 * False when *stop came first.
 */
static bool post(struct http_output *ho, const void *body, size_t len,
	size_t gelf_len, uint64_t n)
{
	struct vf_output_counters *c = ho->base.counters;
	enum outcome out;

	for (unsigned attempt = 0;; attempt++) {
		if (vf_output_stopping(&ho->base))
			return false;
		if (attempt > 0)
			atomic_fetch_add(&c->retries, 1);
		out = post_once(ho, body, len);
		if (out != RETRY)
			break;
		vf_output_set_down(&ho->base, true);
		vf_output_nap(&ho->base, retry_delay(ho, attempt), true);
	}
	vf_output_set_down(&ho->base, false);
	if (out == DELIVERED) {
		atomic_fetch_add(&c->messages, n);
		atomic_fetch_add(&c->bytes, gelf_len);
	} else {
		atomic_fetch_add(&c->errors, n);
	}
	return true;
}

/* Compresses if asked, then posts; false when *stop came first. */
static bool send_body(struct http_output *ho, const char *doc, size_t len,
	uint64_t n)
{
	const void *body = doc;
	size_t blen = len;

	if (ho->z != NULL) {
		vf_buf_reset(&ho->zbody);
		if (!vf_compress_append(ho->z, doc, len, &ho->zbody)) {
			log_warnx("output gelf_http: cannot compress a %zu-byte "
				"body: out of memory", len);
			return false;
		}
		body = ho->zbody.data;
		blen = ho->zbody.len;
	}
	return post(ho, body, blen, len - (ho->bulk_max ? n : 0), n);
}

/* Bulk: posts the messages gathered so far, one a line. */
static bool http_flush(struct vf_output *o)
{
	struct http_output *ho = (struct http_output *)o;

	if (ho->pending_msgs == 0)
		return true;
	if (!send_body(ho, ho->pending.data, ho->pending.len, ho->pending_msgs))
		return false;
	o->acked += ho->pending_msgs;
	ho->pending_msgs = 0;
	vf_buf_reset(&ho->pending);
	return true;
}

static bool http_write(struct vf_output *o, const char *msg, size_t len,
	const char *key, size_t keylen)
{
	struct http_output *ho = (struct http_output *)o;

	(void)key;
	(void)keylen;
	if (ho->bulk_max == 0) {
		if (!send_body(ho, msg, len, 1))
			return false;
		o->written++;
		o->acked++;
		return true;
	}
	if (vf_output_stopping(o))
		return false;
	if (ho->pending_msgs > 0 && ho->pending.len + len + 1 > ho->bulk_max &&
	    !http_flush(o))
		return false;
	if (!vf_buf_append(&ho->pending, msg, len) ||
	    !vf_buf_append(&ho->pending, "\n", 1)) {
		log_warnx("output gelf_http: out of memory");
		return false;
	}
	ho->pending_msgs++;
	o->written++;
	return true;
}

static void http_poll(struct vf_output *o)
{
	(void)o;
}

static void http_destroy(struct vf_output *o)
{
	struct http_output *ho = (struct http_output *)o;

	vf_http_destroy(ho->h);
	vf_compress_destroy(ho->z);
	vf_buf_finish(&ho->zbody);
	vf_buf_finish(&ho->pending);
	free(ho);
}

static const struct vf_output_ops http_ops = {
	http_write, http_flush, http_poll, http_destroy,
};

/* ---- making one ---- */

static struct vf_http *open_http(const struct vf_config_output *oc,
	const atomic_int *stop)
{
	const struct vf_config_tls *tc = &oc->tls;
	struct vf_http_opts opts = {
		.insecure = !tc->verify,
		.ca_file = tc->ca_file,
		.cert_file = tc->cert_file,
		.key_file = tc->key_file,
		.max_response = MAX_RESPONSE,
		/* a request hanging at shutdown is abandoned, not waited for */
		.cancel = stop,
	};
	uint64_t held;

	if (!tc->verify && strncasecmp(oc->url, "https:", 6) == 0 &&
	    log_ratelimit(&rl_insecure, 3600 * 1000, &held))
		log_warnx("output gelf_http: tls.verify is off: the server's "
			"certificate and name are not checked");
	return vf_http_create(&opts);
}

/* Every request is the same POST: set it up once. */
static bool prepare(struct http_output *ho)
{
	const char *headers[2] = { "Content-Type: application/json" };
	size_t n = 1;

	if (ho->oc->compression == VF_CONFIG_COMPRESSION_GZIP)
		headers[n++] = "Content-Encoding: gzip";
	else if (ho->oc->compression == VF_CONFIG_COMPRESSION_ZLIB)
		headers[n++] = "Content-Encoding: deflate";   /* zlib framing */
	return vf_http_prepare(ho->h, "POST", ho->oc->url, headers, n);
}

struct vf_output *vf_output_http_create(struct vf_output_group *g)
{
	const struct vf_config_output *oc = g->oc;
	struct http_output *ho;
	char host[512];

	if (oc->url == NULL || !vf_http_host_of(oc->url, host, sizeof(host))) {
		log_warnx("output gelf_http: bad or missing url");
		return NULL;
	}
	ho = calloc(1, sizeof(*ho));
	if (ho == NULL)
		goto nomem;
	vf_output_base_init(&ho->base, &http_ops, "gelf_http", g->stop,
		&g->counters);
	ho->oc = oc;
	ho->seed = (unsigned)vf_now_ms() ^ (unsigned)(uintptr_t)ho;
	vf_buf_init(&ho->zbody, MAX_BODY);
	ho->bulk_max = (size_t)oc->bulk_max_size;
	vf_buf_init(&ho->pending, MAX_BODY);
	if (oc->compression != VF_CONFIG_COMPRESSION_NONE) {
		ho->z = vf_compress_create(oc->compression, 0);
		if (ho->z == NULL)
			goto fail;
	}
	ho->h = open_http(oc, g->stop);
	if (ho->h == NULL || !prepare(ho))
		goto nomem;
	return &ho->base;
nomem:
	log_warnx("output gelf_http: out of memory");
fail:
	if (ho != NULL)
		http_destroy(&ho->base);
	return NULL;
}
