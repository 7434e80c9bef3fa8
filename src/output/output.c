/*
 * The output group, the helpers every output uses, and the two local
 * outputs: stdout (one document a line) and null (count and discard).
 */
#include "output_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "vpcflowd/io.h"
#include "vpcflowd/log.h"

/* ---- helpers ---- */

uint64_t vf_output_counters_set_down(struct vf_output_counters *c,
	atomic_bool *down, bool now_down)
{
	int_fast64_t since;

	/* the common case, on every delivery: nothing changes */
	if (atomic_load_explicit(down, memory_order_relaxed) == now_down ||
	    atomic_exchange(down, now_down) == now_down)
		return 0;
	if (now_down) {
		if (atomic_fetch_add(&c->outputs_down, 1) == 0)
			atomic_store(&c->down_since_ms, (int_fast64_t)vf_now_ms());
		return 0;
	}
	if (atomic_fetch_sub(&c->outputs_down, 1) != 1)
		return 0;
	since = atomic_exchange(&c->down_since_ms, 0);
	return since ? vf_now_ms() - (uint64_t)since : 0;
}

void vf_output_base_init(struct vf_output *o, const struct vf_output_ops *ops,
	const char *name, const atomic_int *stop,
	struct vf_output_counters *counters)
{
	memset(o, 0, sizeof(*o));
	o->ops = ops;
	o->name = name;
	o->stop = stop;
	o->counters = counters != NULL ? counters : &o->own;
}

bool vf_output_wait(struct vf_output *o, uint64_t ticket, uint64_t timeout_ms,
	bool honour_stop)
{
	uint64_t start = vf_now_ms(), pause = 1;

	for (;;) {
		if (vf_output_acked(o) >= ticket)
			return true;
		if (honour_stop && vf_output_stopping(o))
			return false;
		if (timeout_ms && vf_now_ms() - start >= timeout_ms)
			return false;
		/*
		 * A refused flush means nothing more can come: the output failed,
		 * or it is stopping and has no connection to wait on.
		 */
		if (!vf_output_flush(o))
			return vf_output_acked(o) >= ticket;
		if (vf_output_acked(o) >= ticket)
			return true;
		vf_output_nap(o, pause, honour_stop);
		if (pause < 50)
			pause *= 2;
	}
}

void vf_output_destroy(struct vf_output *o)
{
	if (o == NULL)
		return;
	vf_output_set_down(o, false);
	o->ops->destroy(o);
}

/* ---- stdout ---- */

#define STDOUT_BUF_SIZE (1u << 20)

struct stdout_output {
	struct vf_output base;
	pthread_mutex_t *mu;    /* the group's, when threads share the fd */
	int fd;
	bool failed;
	size_t len;
	uint64_t buffered;      /* messages in buf */
	char buf[STDOUT_BUF_SIZE];
};

static bool stdout_put(struct stdout_output *so, const char *p, size_t n)
{
	bool ok;

	if (so->mu != NULL)
		pthread_mutex_lock(so->mu);
	ok = vf_write_all(so->fd, p, n);
	if (so->mu != NULL)
		pthread_mutex_unlock(so->mu);
	if (!ok) {
		log_warn("stdout output");
		so->failed = true;
	}
	return ok;
}

static bool stdout_flush(struct vf_output *o)
{
	struct stdout_output *so = (struct stdout_output *)o;

	if (so->failed)
		return false;
	if (so->len && !stdout_put(so, so->buf, so->len))
		return false;
	atomic_fetch_add(&o->counters->messages, so->buffered);
	atomic_fetch_add(&o->counters->bytes, so->len);
	o->acked += so->buffered;
	so->len = 0;
	so->buffered = 0;
	return true;
}

static bool stdout_write(struct vf_output *o, const char *msg, size_t len,
	const char *key, size_t keylen)
{
	struct stdout_output *so = (struct stdout_output *)o;

	(void)key;
	(void)keylen;
	if (so->failed)
		return false;
	if (len + 1 > STDOUT_BUF_SIZE - so->len && !stdout_flush(o))
		return false;
	if (len + 1 > STDOUT_BUF_SIZE) {
		/* one line larger than the buffer: written on its own */
		char *line = malloc(len + 1);
		bool ok;

		if (line == NULL) {
			log_warnx("stdout output: out of memory");
			so->failed = true;
			return false;
		}
		memcpy(line, msg, len);
		line[len] = '\n';
		ok = stdout_put(so, line, len + 1);
		free(line);
		if (!ok)
			return false;
		atomic_fetch_add(&o->counters->messages, 1);
		atomic_fetch_add(&o->counters->bytes, len + 1);
		o->written++;
		o->acked++;
		return true;
	}
	memcpy(so->buf + so->len, msg, len);
	so->buf[so->len + len] = '\n';
	so->len += len + 1;
	so->buffered++;
	o->written++;
	return true;
}

static void stdout_poll(struct vf_output *o)
{
	(void)o;
}

static void stdout_destroy(struct vf_output *o)
{
	free(o);
}

static const struct vf_output_ops stdout_ops = {
	stdout_write, stdout_flush, stdout_poll, stdout_destroy,
};

static struct vf_output *stdout_new(int fd, pthread_mutex_t *mu,
	const atomic_int *stop, struct vf_output_counters *counters)
{
	struct stdout_output *so = malloc(sizeof(*so));

	if (so == NULL) {
		log_warnx("stdout output: out of memory");
		return NULL;
	}
	vf_output_base_init(&so->base, &stdout_ops, "stdout", stop, counters);
	so->mu = mu;
	so->fd = fd;
	so->failed = false;
	so->len = 0;
	so->buffered = 0;
	return &so->base;
}

struct vf_output *vf_output_stdout_create(int fd)
{
	return stdout_new(fd, NULL, NULL, NULL);
}

struct vf_output *vf_output_stdout_open(struct vf_output_group *g, int fd)
{
	return stdout_new(fd, &g->fd_mu, g->stop, &g->counters);
}

/* ---- null ---- */

static bool null_write(struct vf_output *o, const char *msg, size_t len,
	const char *key, size_t keylen)
{
	(void)msg;
	(void)key;
	(void)keylen;
	atomic_fetch_add_explicit(&o->counters->messages, 1,
		memory_order_relaxed);
	atomic_fetch_add_explicit(&o->counters->bytes, len,
		memory_order_relaxed);
	o->written++;
	o->acked++;
	return true;
}

static bool null_flush(struct vf_output *o)
{
	(void)o;
	return true;
}

static void null_poll(struct vf_output *o)
{
	(void)o;
}

static void null_destroy(struct vf_output *o)
{
	free(o);
}

static const struct vf_output_ops null_ops = {
	null_write, null_flush, null_poll, null_destroy,
};

static struct vf_output *null_new(const atomic_int *stop,
	struct vf_output_counters *counters)
{
	struct vf_output *o = malloc(sizeof(*o));

	if (o == NULL) {
		log_warnx("null output: out of memory");
		return NULL;
	}
	vf_output_base_init(o, &null_ops, "null", stop, counters);
	return o;
}

struct vf_output *vf_output_null_create(void)
{
	return null_new(NULL, NULL);
}

/* ---- the group ---- */

struct vf_output_group *vf_output_group_create(const struct vf_config_output *oc,
	const atomic_int *stop)
{
	struct vf_output_group *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		log_warnx("output: out of memory");
		return NULL;
	}
	g->oc = oc;
	g->stop = stop;
	pthread_mutex_init(&g->fd_mu, NULL);
	if (oc->type == VF_CONFIG_OUTPUT_GELF_TCP && oc->tls.enabled) {
		g->tls = vf_tls_client_ctx(&oc->tls);
		if (g->tls == NULL)
			goto fail;
	}
	if (oc->type == VF_CONFIG_OUTPUT_KAFKA) {
		g->kafka = vf_kafka_create(oc, stop, &g->counters);
		if (g->kafka == NULL)
			goto fail;
	}
	return g;
fail:
	vf_output_group_destroy(g);
	return NULL;
}

struct vf_output *vf_output_open(struct vf_output_group *g)
{
	switch (g->oc->type) {
	case VF_CONFIG_OUTPUT_GELF_UDP:
		return vf_output_udp_create(g);
	case VF_CONFIG_OUTPUT_GELF_TCP:
		return vf_output_tcp_create(g);
	case VF_CONFIG_OUTPUT_GELF_HTTP:
		return vf_output_http_create(g);
	case VF_CONFIG_OUTPUT_KAFKA:
		return vf_output_kafka_create(g);
	case VF_CONFIG_OUTPUT_STDOUT:
		return vf_output_stdout_open(g, STDOUT_FILENO);
	case VF_CONFIG_OUTPUT_NULL:
		return null_new(g->stop, &g->counters);
	}
	log_warnx("output: unknown type %d", (int)g->oc->type);
	return NULL;
}

struct vf_output_counters *vf_output_group_counters(struct vf_output_group *g)
{
	return &g->counters;
}

void vf_output_group_destroy(struct vf_output_group *g)
{
	if (g == NULL)
		return;
	if (g->kafka != NULL)
		vf_kafka_destroy(g->kafka);
	if (g->tls != NULL)
		SSL_CTX_free(g->tls);
	pthread_mutex_destroy(&g->fd_mu);
	free(g);
}
