/*
 * gelf_tcp: null-framed GELF documents over one persistent TCP connection
 * per output, optionally TLS.
 *
 * GELF has no acknowledgement, so "delivered" means the receiver's TCP
 * acknowledged the bytes: TCP_INFO's tcpi_bytes_acked, compared with how
 * many bytes went on the wire (for TLS, BIO_number_written after each
 * write). Messages are kept in one buffer until acknowledged, and are sent
 * again on a new connection if the old one breaks first.
 *
 * A TCP acknowledgement only means the receiver's kernel has the bytes:
 * a receiver that dies, or a proxy that closes, may never pass them on.
 * So on every new connection the last output.resend_window bytes of
 * acknowledged messages are sent again too (duplicates rather than
 * losses; Graylog's default receive buffer is 1 MiB, the default window
 * 4 MiB). And a new connection is on probation for PROBATION_MS: its
 * acknowledgements count only once it has stood that long, so a server
 * that takes the bytes and then refuses the session (a TLS 1.3 server
 * rejecting the client certificate after the handshake) settles nothing.
 *
 * The buffer, as positions in the stream of framed messages this output
 * was given (not per connection):
 *
 *	keep_pos        acked_pos          sent_pos            base_pos+len
 *	| retained, acked | sent, unacked   | not sent yet       |
 *
 * (bytes between base_pos and keep_pos are dropped when room is needed)
 * Cuts (positions at message ends, with the message count there) are kept
 * for every chunk handed to the socket: the buffer is trimmed and acks
 * are counted only at cuts, so a resend always starts at a message start.
 */
#include "output_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tcp.h>
#include <netinet/in.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"
#include "vpcflowd/log.h"

/* the kernel's TCP states (include/net/tcp_states.h), not in linux/tcp.h */
enum { STATE_ESTABLISHED = 1, STATE_CLOSE_WAIT = 8 };

#define SEND_CHUNK (64u * 1024)           /* send once this much is pending */
#define MAX_UNACKED (4u * 1024 * 1024)    /* write blocks beyond this */
#define BUF_MIN (8u * 1024 * 1024)        /* compacted when full */
#define CONNECT_TIMEOUT_MS 5000
#define PROBATION_MS 1000
#define USER_TIMEOUT_MS 30000             /* unacknowledged data: the peer is gone */
#define STOP_SEND_MS 2000                 /* sending on while stopping */

struct cut {
	uint64_t pos;       /* stream position just after a message's NUL */
	uint64_t msgs;      /* messages before pos */
	uint64_t wire;      /* bytes on this connection's wire at pos; 0: not sent on it */
};

struct tcp_output {
	struct vf_output base;
	const struct vf_config_output *oc;
	struct ssl_ctx_st *tls;
	char peer[300];             /* host:port, for logs */
	int fd;                     /* -1: not connected */
	SSL *ssl;
	bool peer_closed;           /* saw an orderly close (FIN) */
	uint64_t probation_end;     /* acks of this connection count from then */
	uint64_t acked_base;        /* tcpi_bytes_acked right after connecting */
	uint64_t wire;              /* bytes written on this connection (plain TCP) */

	char *buf;
	size_t len, cap;
	uint64_t base_pos;          /* position of buf[0] */
	uint64_t keep_pos;          /* retained from here; before: droppable */
	uint64_t sent_pos;
	uint64_t acked_pos;

	struct cut *cuts;           /* ascending pos; all > keep_pos */
	size_t n_cuts, cap_cuts;
	uint64_t retain;            /* output.resend_window */
	unsigned attempt;
	unsigned seed;
};

static struct log_ratelimit rl_down;

static uint64_t end_pos(const struct tcp_output *t)
{
	return t->base_pos + t->len;
}

/* ---- the connection ---- */

static void disconnect(struct tcp_output *t)
{
	if (t->ssl != NULL) {
		SSL_free(t->ssl);
		t->ssl = NULL;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	for (size_t i = 0; i < t->n_cuts; i++)
		t->cuts[i].wire = 0;
	ERR_clear_error();
}

static bool tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t n = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &n) == 0 &&
		n >= offsetof(struct tcp_info, tcpi_bytes_acked) +
		sizeof(ti->tcpi_bytes_acked);
}

/*
 * Waits for events on fd up to timeout_ms, in slices that give up early
 * when a stop is asked for. Returns poll's revents, or 0.
 */
static short wait_fd(const struct tcp_output *t, int fd, short events,
	int timeout_ms)
{
	uint64_t end = vf_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		uint64_t now = vf_now_ms();
		int r;

		if (now >= end || vf_output_stopping(&t->base))
			return 0;
		r = poll(&p, 1, end - now > 100 ? 100 : (int)(end - now));
		if (r > 0)
			return p.revents;
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

static void tune(int fd)
{
	int one = 1, idle = 30, intvl = 10, cnt = 3;
	unsigned ut = USER_TIMEOUT_MS;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* a vanished peer is noticed in seconds, not after 15 min of retries */
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* A non-blocking connect to one address, waited for up to the timeout. */
static int connect_one(const struct tcp_output *t, const struct addrinfo *ai,
	char *err, size_t errlen)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		SOCK_CLOEXEC, ai->ai_protocol), e = 0;
	socklen_t el = sizeof(e);

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			snprintf(err, errlen, "connect: %s", strerror(errno));
			goto fail;
		}
		if (!(wait_fd(t, fd, POLLOUT, CONNECT_TIMEOUT_MS) &
		    (POLLOUT | POLLERR | POLLHUP))) {
			snprintf(err, errlen, "connect: timed out");
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
			snprintf(err, errlen, "connect: %s", strerror(e ? e : errno));
			goto fail;
		}
	}
	tune(fd);
	return fd;
fail:
	close(fd);
	return -1;
}

static bool try_connect(struct tcp_output *t, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	char port[8];
	struct tcp_info ti;
	int r;

	snprintf(port, sizeof(port), "%u", t->oc->port);
	r = getaddrinfo(t->oc->host, port, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "%s", gai_strerror(r));
		return false;
	}
	for (struct addrinfo *ai = res; ai != NULL && t->fd < 0; ai = ai->ai_next)
		t->fd = connect_one(t, ai, err, errlen);
	freeaddrinfo(res);
	if (t->fd < 0)
		return false;
	if (!tcp_info(t->fd, &ti)) {
		snprintf(err, errlen, "TCP_INFO: this kernel does not report "
			"acknowledged bytes");
		disconnect(t);
		return false;
	}
	t->acked_base = ti.tcpi_bytes_acked;
	t->wire = 0;
	t->peer_closed = false;
	t->probation_end = vf_now_ms() + PROBATION_MS;
	if (t->tls != NULL) {
		t->ssl = vf_tls_connect(t->tls, t->fd, t->oc->host,
			CONNECT_TIMEOUT_MS, t->base.stop, err, errlen);
		if (t->ssl == NULL) {
			disconnect(t);
			return false;
		}
	}
	return true;
}

/* Bytes on this connection's wire so far (TLS: records, handshake included). */
static uint64_t wire_written(const struct tcp_output *t)
{
	if (t->ssl != NULL)
		return BIO_number_written(SSL_get_wbio(t->ssl));
	return t->wire;
}

/*
 * Whether the connection still stands; notes an orderly close. Reads and
 * discards anything the receiver sends (GELF receivers send nothing).
 */
static bool alive(struct tcp_output *t)
{
	struct pollfd p = { .fd = t->fd, .events = POLLIN };
	char junk[512];

	if (t->fd < 0)
		return false;
	while (poll(&p, 1, 0) == 1) {
		ssize_t n;

		if (p.revents & (POLLERR | POLLNVAL))
			return false;
		if (t->ssl != NULL) {
			/* TLS 1.3 session tickets and alerts come this way */
			int r = SSL_read(t->ssl, junk, sizeof(junk));

			if (r > 0)
				continue;
			int e = SSL_get_error(t->ssl, r);

			ERR_clear_error();
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return true;
			if (e == SSL_ERROR_ZERO_RETURN)
				t->peer_closed = true;
			return false;
		}
		n = recv(t->fd, junk, sizeof(junk), 0);
		if (n > 0)
			continue;
		if (n == 0)
			t->peer_closed = true;
		else if (errno == EAGAIN || errno == EINTR)
			return true;
		return false;
	}
	return true;
}

/* ---- acknowledgements ---- */

/* Counts messages acknowledged up to the connection's acked wire bytes. */
static void update_acks(struct tcp_output *t)
{
	struct tcp_info ti;
	uint64_t acked_wire, pos = t->acked_pos, msgs = t->base.acked;

	if (t->fd < 0 || vf_now_ms() < t->probation_end || !alive(t) ||
	    !tcp_info(t->fd, &ti))
		return;
	/*
	 * After a reset the kernel empties the send queue; only the
	 * established states still count acknowledgements that are real.
	 */
	if (ti.tcpi_state != STATE_ESTABLISHED &&
	    ti.tcpi_state != STATE_CLOSE_WAIT)
		return;
	acked_wire = ti.tcpi_bytes_acked - t->acked_base;
	for (size_t i = 0; i < t->n_cuts; i++) {
		const struct cut *c = &t->cuts[i];

		if (c->pos <= t->acked_pos)
			continue;
		if (c->wire == 0 || c->wire > acked_wire)
			break;
		pos = c->pos;
		msgs = c->msgs;
	}
	if (pos > t->acked_pos) {
		uint64_t n = msgs - t->base.acked;

		atomic_fetch_add(&t->base.counters->messages, n);
		atomic_fetch_add(&t->base.counters->bytes, pos - t->acked_pos - n);
		t->acked_pos = pos;
		t->base.acked = msgs;
	}
}

/*
 * Moves keep_pos up to the last cut that leaves at least resend_window
 * acknowledged bytes behind acked_pos. The bytes before keep_pos are
 * dropped only when room() needs the space, so the buffer is moved
 * rarely, not on every acknowledgement.
 */
static void trim(struct tcp_output *t)
{
	size_t k = 0;

	while (k < t->n_cuts && t->cuts[k].pos <= t->acked_pos &&
	    t->acked_pos - t->cuts[k].pos >= t->retain)
		t->keep_pos = t->cuts[k++].pos;
	if (k == 0)
		return;
	memmove(t->cuts, t->cuts + k, (t->n_cuts - k) * sizeof(*t->cuts));
	t->n_cuts -= k;
}

/* Drops the bytes before keep_pos from the buffer. */
static void compact(struct tcp_output *t)
{
	size_t drop = (size_t)(t->keep_pos - t->base_pos);

	if (drop == 0)
		return;
	memmove(t->buf, t->buf + drop, t->len - drop);
	t->len -= drop;
	t->base_pos = t->keep_pos;
}

static bool add_cut(struct tcp_output *t)
{
	if (t->n_cuts > 0 && t->cuts[t->n_cuts - 1].pos == end_pos(t))
		return true;
	if (t->n_cuts == t->cap_cuts) {
		size_t cap = t->cap_cuts ? t->cap_cuts * 2 : 64;
		struct cut *c = realloc(t->cuts, cap * sizeof(*c));

		if (c == NULL)
			return false;
		t->cuts = c;
		t->cap_cuts = cap;
	}
	t->cuts[t->n_cuts++] = (struct cut){ end_pos(t), t->base.written, 0 };
	return true;
}

/* ---- sending ---- */

/*
 * Writes buf from sent_pos to the last cut on the current connection,
 * noting each cut's wire position. False when the connection broke, or
 * when stopping and STOP_SEND_MS passed.
 */
static bool send_pending(struct tcp_output *t)
{
	uint64_t give_up = 0;

	for (size_t i = 0; i < t->n_cuts; i++) {
		struct cut *c = &t->cuts[i];

		if (c->pos <= t->sent_pos)
			continue;
		while (t->sent_pos < c->pos) {
			const char *p = t->buf + (t->sent_pos - t->base_pos);
			size_t n = (size_t)(c->pos - t->sent_pos);
			struct pollfd pf = { .fd = t->fd, .events = POLLOUT };
			ssize_t w;

			if (n > 1u << 30)
				n = 1u << 30;
			if (t->ssl != NULL) {
				int r = SSL_write(t->ssl, p, (int)n), e;

				if (r > 0) {
					t->sent_pos += (uint64_t)r;
					continue;
				}
				e = SSL_get_error(t->ssl, r);
				ERR_clear_error();
				if (e == SSL_ERROR_WANT_READ)
					pf.events = POLLIN;
				else if (e != SSL_ERROR_WANT_WRITE)
					return false;
			} else {
				w = send(t->fd, p, n, MSG_NOSIGNAL);
				if (w > 0) {
					t->sent_pos += (uint64_t)w;
					t->wire += (uint64_t)w;
					continue;
				}
				if (w < 0 && errno == EINTR)
					continue;
				if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
					return false;
			}
			/* the receiver is slow: wait, watching for a stop */
			if (vf_output_stopping(&t->base)) {
				if (give_up == 0)
					give_up = vf_now_ms() + STOP_SEND_MS;
				else if (vf_now_ms() >= give_up)
					return false;
			}
			if (poll(&pf, 1, 100) < 0 && errno != EINTR)
				return false;
			if (pf.revents & (POLLERR | POLLHUP))
				return false;
		}
		c->wire = wire_written(t);
	}
	return true;
}

static void broken(struct tcp_output *t, const char *why)
{
	uint64_t held;

	update_acks(t);
	if (log_ratelimit(&rl_down, 10000, &held))
		log_warnx("gelf_tcp %s: %s; reconnecting (%llu more like this)",
			t->peer, why, (unsigned long long)held);
	/* the new connection starts with the resend window (see the top) */
	t->sent_pos = t->keep_pos;
	if (t->sent_pos < end_pos(t))
		atomic_fetch_add(&t->base.counters->retries, 1);
	disconnect(t);
	vf_output_set_down(&t->base, true);
}

/*
 * Connects if needed (with backoff, until it works or a stop) and sends
 * everything up to the last cut. While stopping, only an existing
 * connection is used.
 */
static bool push(struct tcp_output *t)
{
	char err[512];

	for (;;) {
		if (t->fd >= 0 && !alive(t))
			broken(t, t->peer_closed ? "the receiver closed the "
				"connection" : "connection lost");
		if (t->fd < 0) {
			uint64_t held;

			if (vf_output_stopping(&t->base))
				return false;
			if (!try_connect(t, err, sizeof(err))) {
				vf_output_set_down(&t->base, true);
				atomic_fetch_add(&t->base.counters->retries, 1);
				if (log_ratelimit(&rl_down, 10000, &held))
					log_warnx("gelf_tcp %s: %s; retrying (%llu "
						"more like this)", t->peer, err,
						(unsigned long long)held);
				vf_output_nap(&t->base, vf_backoff_ms(
					t->attempt++, &t->seed), true);
				continue;
			}
			if (t->attempt > 0)
				log_info("gelf_tcp %s: connected", t->peer);
			t->attempt = 0;
			vf_output_set_down(&t->base, false);
		}
		if (send_pending(t))
			return true;
		if (vf_output_stopping(&t->base) && t->fd >= 0 && alive(t))
			return false;   /* slow receiver, and time is up */
		broken(t, errno ? strerror(errno) : "connection lost");
	}
}

/* ---- the output ---- */

static bool tcp_flush(struct vf_output *o)
{
	struct tcp_output *t = (struct tcp_output *)o;

	if (!add_cut(t))
		return false;
	if (!push(t))
		return false;
	update_acks(t);
	trim(t);
	return true;
}

/* Makes room for n more bytes, waiting for acknowledgements if needed. */
static bool room(struct tcp_output *t, size_t n)
{
	while (end_pos(t) - t->acked_pos + n > MAX_UNACKED &&
	    t->acked_pos < end_pos(t)) {
		if (!tcp_flush(&t->base))   /* also takes in acknowledgements */
			return false;
		if (end_pos(t) - t->acked_pos + n > MAX_UNACKED)
			vf_output_nap(&t->base, 5, true);
		if (vf_output_stopping(&t->base))
			return false;
	}
	if (t->len + n > t->cap)
		compact(t);
	if (t->len + n > t->cap) {
		size_t cap = t->cap ? t->cap : (size_t)(2 * t->retain) + BUF_MIN;
		char *b;

		while (cap < t->len + n)
			cap *= 2;
		b = realloc(t->buf, cap);
		if (b == NULL) {
			log_warnx("gelf_tcp: out of memory");
			return false;
		}
		t->buf = b;
		t->cap = cap;
	}
	return true;
}

static bool tcp_write(struct vf_output *o, const char *msg, size_t len,
	const char *key, size_t keylen)
{
	struct tcp_output *t = (struct tcp_output *)o;

	(void)key;
	(void)keylen;
	if (vf_output_stopping(o) || !room(t, len + 1))
		return false;
	memcpy(t->buf + t->len, msg, len);
	t->buf[t->len + len] = '\0';
	t->len += len + 1;
	o->written++;
	/* taken: a failed send here is retried by the next write or flush */
	if (end_pos(t) - t->sent_pos >= SEND_CHUNK)
		tcp_flush(o);
	return true;
}

static void tcp_poll(struct vf_output *o)
{
	struct tcp_output *t = (struct tcp_output *)o;

	update_acks(t);
}

/*
 * An orderly close: unread bytes from the server (a TLS session ticket)
 * would make close() reset the connection, and a reset makes the
 * receiver's kernel drop what its application has not read yet.
 */
static void close_gently(struct tcp_output *t)
{
	char junk[512];

	if (t->fd < 0 || !alive(t))
		return;
	if (t->ssl != NULL)
		SSL_shutdown(t->ssl);
	shutdown(t->fd, SHUT_WR);
	for (int i = 0; i < 10; i++) {
		ssize_t n;

		if (!(wait_fd(t, t->fd, POLLIN, 100) & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = recv(t->fd, junk, sizeof(junk), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
}

static void tcp_destroy(struct vf_output *o)
{
	struct tcp_output *t = (struct tcp_output *)o;

	close_gently(t);
	disconnect(t);
	free(t->buf);
	free(t->cuts);
	free(t);
}

static const struct vf_output_ops tcp_ops = {
	tcp_write, tcp_flush, tcp_poll, tcp_destroy,
};

struct vf_output *vf_output_tcp_create(struct vf_output_group *g)
{
	struct tcp_output *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		log_warnx("gelf_tcp: out of memory");
		return NULL;
	}
	vf_output_base_init(&t->base, &tcp_ops, "gelf_tcp", g->stop,
		&g->counters);
	t->oc = g->oc;
	t->tls = g->tls;
	t->fd = -1;
	t->retain = g->oc->resend_window;
	snprintf(t->peer, sizeof(t->peer), "%s:%u", g->oc->host, g->oc->port);
	if (getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		t->seed = (unsigned)vf_now_ms();
	return &t->base;
}
