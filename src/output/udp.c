/*
 * gelf_udp: one datagram a message, or GELF chunks when the message
 * (compressed, if output.compression says so) is larger than
 * output.chunk_size. Datagrams are gathered in a batch and handed to the
 * kernel with sendmmsg(); a message is acknowledged once the kernel took
 * all its datagrams, which is as far as UDP can tell.
 *
 * The batch: payloads are laid out once in buf (compressed straight into
 * it); each datagram is an iovec pair pointing at its chunk header and its
 * slice of buf, so nothing is copied twice and nothing is allocated per
 * message.
 *
 * Failures: a full send buffer is waited out; ECONNREFUSED (an ICMP error
 * an earlier datagram drew) is retried at once; anything else marks the
 * output down and retries, on a new socket, with backoff until *stop.
 */
#include "output_internal.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "compress.h"
#include "vpcflowd/log.h"

#define GELF_MAX_CHUNKS 128
#define GELF_CHUNK_HEADER 12
#define GELF_MAX_CHUNK_SIZE 65495   /* + header = the largest IPv4 UDP payload */
/* at least GELF_MAX_CHUNKS, so any message fits an empty batch */
#define BATCH_DGRAMS 256
#define BATCH_MIN_BYTES (256u << 10)
#define SNDBUF_WANTED (4 << 20)
#define REFUSED_RETRIES 8           /* in a row before it counts as down */
#define LOG_PERIOD_MS 10000

/* What is settled once the kernel took datagram i. */
struct dgram_note {
	uint32_t settled;    /* messages ending here, and given-up ones */
	size_t bytes;        /* GELF bytes of the message ending here */
	bool delivered;      /* the last datagram of a message */
};

struct udp_output {
	struct vf_output base;
	const struct vf_config_output *oc;
	int fd;                     /* -1 until connected */
	struct vf_compress *z;      /* NULL: sent as it is */
	size_t chunk;               /* data bytes in one chunk */
	size_t max_payload;         /* GELF_MAX_CHUNKS chunks */
	uint64_t rng;               /* message ids (splitmix64 state) */
	unsigned seed;              /* backoff jitter */
	char port[8];
	bool dropping;              /* a datagram of this message was refused */
	/* the batch: n datagrams queued, the first sent taken by the kernel */
	char *buf;
	size_t buf_len, buf_cap;
	unsigned n, sent;
	struct mmsghdr msgs[BATCH_DGRAMS];
	struct iovec iov[BATCH_DGRAMS][2];
	uint8_t hdr[BATCH_DGRAMS][GELF_CHUNK_HEADER];
	struct dgram_note note[BATCH_DGRAMS];
};

/* Shared by every gelf_udp output: the log, not each thread, is limited. */
static struct log_ratelimit rl_big, rl_send, rl_refused;

/* ---- the socket ---- */

static void set_sndbuf(int fd)
{
	int want = SNDBUF_WANTED, got = 0;
	socklen_t len = sizeof(got);

	/* FORCE passes net.core.wmem_max, but only with CAP_NET_ADMIN */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) == 0)
		log_debug("output gelf_udp: send buffer %d bytes", got);
}

static int connect_any(const struct addrinfo *res, int *err)
{
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family,
			SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			*err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			return fd;
		*err = errno;
		close(fd);
	}
	return -1;
}

/* Resolves the host again each time: its address may have moved. */
static bool udp_connect(struct udp_output *u)
{
	struct addrinfo hints, *res = NULL;
	uint64_t held;
	int rc, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(u->oc->host, u->port, &hints, &res);
	if (rc != 0) {
		if (log_ratelimit(&rl_send, LOG_PERIOD_MS, &held))
			log_warnx("output gelf_udp: %s: %s (%llu like this held "
				"back)", u->oc->host, gai_strerror(rc),
				(unsigned long long)held);
		return false;
	}
	u->fd = connect_any(res, &err);
	freeaddrinfo(res);
	if (u->fd < 0) {
		if (log_ratelimit(&rl_send, LOG_PERIOD_MS, &held))
			log_warnx("output gelf_udp: %s:%s: %s (%llu like this "
				"held back)", u->oc->host, u->port, strerror(err),
				(unsigned long long)held);
		return false;
	}
	set_sndbuf(u->fd);
	return true;
}

static void udp_disconnect(struct udp_output *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}

/* ---- sending the batch ---- */

static void batch_reset(struct udp_output *u)
{
	u->n = 0;
	u->sent = 0;
	u->buf_len = 0;
}

/* The kernel took count more datagrams: settle what ends in them. */
static void batch_taken(struct udp_output *u, unsigned count)
{
	uint64_t settled = 0, delivered = 0, bytes = 0, failed = 0;

	for (unsigned i = u->sent; i < u->sent + count; i++) {
		const struct dgram_note *nt = &u->note[i];

		settled += nt->settled;
		if (!nt->delivered)
			continue;
		if (u->dropping) {
			failed++;
			u->dropping = false;
		} else {
			delivered++;
			bytes += nt->bytes;
		}
	}
	u->sent += count;
	u->base.acked += settled;
	if (delivered) {
		atomic_fetch_add(&u->base.counters->messages, delivered);
		atomic_fetch_add(&u->base.counters->bytes, bytes);
	}
	if (failed)
		atomic_fetch_add(&u->base.counters->errors, failed);
}

/* Waits up to 100 ms for room in the send buffer. False when stopping. */
static bool wait_writable(struct udp_output *u, int err)
{
	struct pollfd pfd = { .fd = u->fd, .events = POLLOUT };

	if (vf_output_stopping(&u->base))
		return false;
	(void)poll(&pfd, 1, 100);
	/* ENOBUFS is a full device queue: the socket may look writable */
	if (err == ENOBUFS)
		vf_output_nap(&u->base, 1, true);
	return !vf_output_stopping(&u->base);
}

/* An error other than a full buffer: down, backoff, a new socket. */
static bool send_failed(struct udp_output *u, int err, unsigned *attempt)
{
	uint64_t held;

	atomic_fetch_add(&u->base.counters->retries, 1);
	vf_output_set_down(&u->base, true);
	if (err != 0 && log_ratelimit(&rl_send, LOG_PERIOD_MS, &held))
		log_warnx("output gelf_udp: send to %s:%s: %s (%llu like this "
			"held back)", u->oc->host, u->port, strerror(err),
			(unsigned long long)held);
	udp_disconnect(u);
	if (vf_output_stopping(&u->base))
		return false;
	vf_output_nap(&u->base, vf_backoff_ms((*attempt)++, &u->seed),
		true);
	return !vf_output_stopping(&u->base);
}

/*
 * The port is closed (an ICMP error that an earlier datagram drew): the
 * error is reported once and cleared, so this datagram was not sent and
 * the next try goes out.
 */
static bool send_refused(struct udp_output *u, unsigned *refused)
{
	uint64_t held;

	atomic_fetch_add(&u->base.counters->retries, 1);
	if (log_ratelimit(&rl_refused, LOG_PERIOD_MS, &held))
		log_warnx("output gelf_udp: %s:%s refused a datagram: nothing "
			"listening? (%llu like this held back)", u->oc->host,
			u->port, (unsigned long long)held);
	return ++*refused < REFUSED_RETRIES;
}

static size_t dgram_len(const struct udp_output *u, unsigned i)
{
	const struct msghdr *mh = &u->msgs[i].msg_hdr;
	size_t len = 0;

	for (size_t k = 0; k < mh->msg_iovlen; k++)
		len += mh->msg_iov[k].iov_len;
	return len;
}

/* A datagram too large for the path: it can never go; drop it. */
static void send_oversized(struct udp_output *u)
{
	uint64_t held;

	if (log_ratelimit(&rl_send, LOG_PERIOD_MS, &held))
		log_warnx("output gelf_udp: a %zu-byte datagram is too large "
			"for %s:%s; message dropped (%llu like this held back)",
			dgram_len(u, u->sent), u->oc->host, u->port,
			(unsigned long long)held);
	u->dropping = true;
	batch_taken(u, 1);
}

/* Hands the whole batch to the kernel. False when *stop cut it short. */
static bool batch_send(struct udp_output *u)
{
	unsigned attempt = 0, refused = 0;

	while (u->sent < u->n) {
		int r, err;

		if (u->fd < 0 && !udp_connect(u)) {
			if (!send_failed(u, 0, &attempt))
				return false;
			continue;
		}
		r = sendmmsg(u->fd, u->msgs + u->sent, u->n - u->sent, 0);
		if (r > 0) {
			batch_taken(u, (unsigned)r);
			attempt = 0;
			refused = 0;
			vf_output_set_down(&u->base, false);
			continue;
		}
		err = r < 0 ? errno : EAGAIN;
		if (err == EINTR)
			continue;
		if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
			if (!wait_writable(u, err))
				return false;
		} else if (err == ECONNREFUSED && send_refused(u, &refused)) {
			continue;
		} else if (err == EMSGSIZE) {
			send_oversized(u);
		} else if (!send_failed(u, err, &attempt)) {
			return false;
		}
	}
	batch_reset(u);
	return true;
}

/* ---- queueing messages ---- */

/* splitmix64: fast, and never repeats within one output's 2^64 ids. */
static uint64_t next_id(struct udp_output *u)
{
	uint64_t z = (u->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t chunks_for(const struct udp_output *u, size_t len)
{
	return len <= u->chunk ? 1 : (len + u->chunk - 1) / u->chunk;
}

static void add_dgram(struct udp_output *u, const uint8_t *hdr,
	const char *p, size_t len)
{
	struct msghdr *mh = &u->msgs[u->n].msg_hdr;
	struct iovec *iov = u->iov[u->n];
	int k = 0;

	memset(mh, 0, sizeof(*mh));
	memset(&u->note[u->n], 0, sizeof(u->note[u->n]));
	if (hdr != NULL) {
		iov[k].iov_base = (void *)hdr;
		iov[k++].iov_len = GELF_CHUNK_HEADER;
	}
	iov[k].iov_base = (void *)p;
	iov[k++].iov_len = len;
	mh->msg_iov = iov;
	mh->msg_iovlen = (size_t)k;
	u->n++;
}

/* Queues the payload at p (already in buf) as one datagram or chunks. */
static void queue_payload(struct udp_output *u, const char *p, size_t len,
	size_t gelf_len)
{
	struct dgram_note *last;

	if (len <= u->chunk) {
		add_dgram(u, NULL, p, len);
	} else {
		size_t count = chunks_for(u, len);
		uint64_t id = next_id(u);

		for (size_t i = 0; i < count; i++) {
			uint8_t *h = u->hdr[u->n];
			size_t off = i * u->chunk;

			h[0] = 0x1e;
			h[1] = 0x0f;
			memcpy(h + 2, &id, sizeof(id));
			h[10] = (uint8_t)i;
			h[11] = (uint8_t)count;
			add_dgram(u, h, p + off,
				len - off < u->chunk ? len - off : u->chunk);
		}
	}
	last = &u->note[u->n - 1];
	last->settled = 1;
	last->delivered = true;
	last->bytes = gelf_len;
	u->buf_len += len;
}

/* Sends the batch first when need more bytes would not fit in it. */
static bool make_room(struct udp_output *u, size_t need)
{
	if (u->buf_cap - u->buf_len >= need &&
	    u->n + chunks_for(u, need) <= BATCH_DGRAMS)
		return true;
	return batch_send(u);
}

/* Too large for GELF_MAX_CHUNKS: counted, logged, settled in its turn. */
static bool give_up(struct udp_output *u, size_t len)
{
	uint64_t held;

	atomic_fetch_add(&u->base.counters->errors, 1);
	if (log_ratelimit(&rl_big, LOG_PERIOD_MS, &held))
		log_warnx("output gelf_udp: a %zu-byte message does not fit "
			"in %d chunks of %zu bytes%s; dropped (%llu like this "
			"held back)", len, GELF_MAX_CHUNKS, u->chunk,
			u->z != NULL ? ", compressed" : "",
			(unsigned long long)held);
	u->base.written++;
	if (u->n > u->sent)
		u->note[u->n - 1].settled++;
	else
		u->base.acked++;
	return true;
}

static bool udp_write(struct vf_output *o, const char *msg, size_t len,
	const char *key, size_t keylen)
{
	struct udp_output *u = (struct udp_output *)o;
	size_t need = len, n;
	char *p;

	(void)key;
	(void)keylen;
	if (u->z != NULL) {
		need = vf_compress_bound(u->z, len);
		if (need > u->max_payload)
			need = u->max_payload;
	} else if (len > u->max_payload) {
		return give_up(u, len);
	}
	if (!make_room(u, need))
		return false;
	p = u->buf + u->buf_len;
	if (u->z != NULL) {
		/* room for the bound, or exactly the most chunks can carry */
		n = vf_compress(u->z, msg, len, p, need);
		if (n == 0)
			return give_up(u, len);
	} else {
		memcpy(p, msg, len);
		n = len;
	}
	queue_payload(u, p, n, len);
	o->written++;
	return true;
}

static bool udp_flush(struct vf_output *o)
{
	return batch_send((struct udp_output *)o);
}

/* Acknowledgements come with the sends: nothing to collect. */
static void udp_poll(struct vf_output *o)
{
	(void)o;
}

static void udp_destroy(struct vf_output *o)
{
	struct udp_output *u = (struct udp_output *)o;

	udp_disconnect(u);
	vf_compress_destroy(u->z);
	free(u->buf);
	free(u);
}

static const struct vf_output_ops udp_ops = {
	udp_write, udp_flush, udp_poll, udp_destroy,
};

/* ---- making one ---- */

static void seed_rng(struct udp_output *u)
{
	struct timespec ts;

	if (getrandom(&u->rng, sizeof(u->rng), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(u->rng)) {
		/* no entropy yet (early boot): ids need only differ */
		clock_gettime(CLOCK_REALTIME, &ts);
		u->rng = (uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec ^
			(uint64_t)getpid() << 16 ^ (uint64_t)(uintptr_t)u;
	}
	u->seed = (unsigned)(u->rng >> 17);
}

static bool check_config(const struct vf_config_output *oc)
{
	if (oc->host == NULL || oc->host[0] == '\0') {
		log_warnx("output gelf_udp: no host");
		return false;
	}
	if (oc->port == 0 || oc->port > 65535) {
		log_warnx("output gelf_udp: bad port %u", oc->port);
		return false;
	}
	if (oc->chunk_size < GELF_CHUNK_HEADER + 1 ||
	    oc->chunk_size > GELF_MAX_CHUNK_SIZE) {
		log_warnx("output gelf_udp: chunk_size %u is not between %d "
			"and %d", oc->chunk_size, GELF_CHUNK_HEADER + 1,
			GELF_MAX_CHUNK_SIZE);
		return false;
	}
	return true;
}

struct vf_output *vf_output_udp_create(struct vf_output_group *g)
{
	const struct vf_config_output *oc = g->oc;
	struct udp_output *u;

	if (!check_config(oc))
		return NULL;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		goto nomem;
	vf_output_base_init(&u->base, &udp_ops, "gelf_udp", g->stop,
		&g->counters);
	u->oc = oc;
	u->fd = -1;
	u->chunk = oc->chunk_size;
	u->max_payload = GELF_MAX_CHUNKS * u->chunk;
	u->buf_cap = u->max_payload > BATCH_MIN_BYTES ?
		u->max_payload : BATCH_MIN_BYTES;
	u->buf = malloc(u->buf_cap);
	if (u->buf == NULL)
		goto nomem;
	if (oc->compression != VF_CONFIG_COMPRESSION_NONE) {
		u->z = vf_compress_create(oc->compression, 0);
		if (u->z == NULL)
			goto fail;
	}
	snprintf(u->port, sizeof(u->port), "%u", oc->port);
	seed_rng(u);
	/* a failure is logged and tried again with the first send */
	(void)udp_connect(u);
	return &u->base;
nomem:
	log_warnx("output gelf_udp: out of memory");
fail:
	if (u != NULL)
		udp_destroy(&u->base);
	return NULL;
}
