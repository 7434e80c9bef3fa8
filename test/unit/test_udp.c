/*
 * gelf_udp against a real UDP socket on 127.0.0.1: plain datagrams, GELF
 * chunks, compression, the 128-chunk limit, batching, acknowledgements.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libdeflate.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpcflowd/config.h"
#include "vpcflowd/output.h"

#define MAX_DGRAM 65536

static const char doc[] = "{\"version\":\"1.1\",\"host\":\"aws-flowlogs\","
	"\"short_message\":\"eni-1235b8ca123456789 ACCEPT TCP "
	"172.31.16.139:20641 -> 172.31.16.21:22\",\"timestamp\":1418530010,"
	"\"_flow_log_version\":2,\"_account_id\":\"123456789010\","
	"\"_interface_id\":\"eni-1235b8ca123456789\",\"_src_addr\":"
	"\"172.31.16.139\",\"_dst_addr\":\"172.31.16.21\",\"_src_port\":20641,"
	"\"_dst_port\":22,\"_protocol_number\":6,\"_protocol\":\"TCP\","
	"\"_packets\":20,\"_bytes\":4249,\"_flow_start\":1418530010,"
	"\"_flow_end\":1418530070,\"_action\":\"ACCEPT\",\"_log_status\":\"OK\"}";

/* The receiving end, and the output pointed at it. */
struct fixture {
	int fd;
	unsigned port;
	atomic_int stop;
	struct vf_config_output oc;
	struct vf_output_group *g;
	struct vf_output *o;
	struct vf_output_counters *c;
	uint8_t dgram[MAX_DGRAM];
};

static int bind_receiver(unsigned *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rcvbuf = 4 << 20;

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	*port = ntohs(sa.sin_port);
	return fd;
}

static struct fixture *open_fixture(unsigned chunk_size,
	enum vf_config_compression comp)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fd = bind_receiver(&f->port);
	f->oc.type = VF_CONFIG_OUTPUT_GELF_UDP;
	f->oc.host = (char *)"127.0.0.1";
	f->oc.port = f->port;
	f->oc.chunk_size = chunk_size;
	f->oc.compression = comp;
	f->g = vf_output_group_create(&f->oc, &f->stop);
	assert_non_null(f->g);
	f->o = vf_output_open(f->g);
	assert_non_null(f->o);
	f->c = vf_output_group_counters(f->g);
	return f;
}

static void close_fixture(struct fixture *f)
{
	vf_output_destroy(f->o);
	vf_output_group_destroy(f->g);
	close(f->fd);
	free(f);
}

/* One datagram into f->dgram; -1 when none comes within timeout_ms. */
static ssize_t recv_dgram(struct fixture *f, int timeout_ms)
{
	struct pollfd pfd = { .fd = f->fd, .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	return recv(f->fd, f->dgram, sizeof(f->dgram), 0);
}

static void send_one(struct fixture *f, const void *msg, size_t len)
{
	assert_true(vf_output_write(f->o, msg, len, NULL, 0));
	assert_true(vf_output_flush(f->o));
}

/* Text of n bytes that compresses poorly (for the chunk limit). */
static char *noise(size_t n)
{
	char *p = malloc(n);
	uint64_t x = 88172645463325252ull;

	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (char)(' ' + x % 94);
	}
	return p;
}

/*
 * Receives one chunked message: checks every header (magic, one id, seq
 * 0..n-1, count n) and returns the payload put together. *id gets the id.
 */
static uint8_t *recv_chunks(struct fixture *f, size_t chunk_size,
	size_t *len, uint8_t id[8])
{
	uint8_t *whole = NULL;
	size_t total = 0;
	unsigned count = 0;

	for (unsigned seq = 0; seq == 0 || seq < count; seq++) {
		ssize_t n = recv_dgram(f, 2000);

		assert_true(n > 12);
		assert_true((size_t)n <= 12 + chunk_size);
		assert_int_equal(f->dgram[0], 0x1e);
		assert_int_equal(f->dgram[1], 0x0f);
		if (seq == 0) {
			memcpy(id, f->dgram + 2, 8);
			count = f->dgram[11];
			assert_true(count >= 2 && count <= 128);
			whole = malloc(count * chunk_size);
			assert_non_null(whole);
		}
		assert_memory_equal(f->dgram + 2, id, 8);
		assert_int_equal(f->dgram[10], seq);
		assert_int_equal(f->dgram[11], count);
		/* every chunk but the last is full */
		if (seq + 1 < count)
			assert_int_equal((size_t)n, 12 + chunk_size);
		memcpy(whole + total, f->dgram + 12, (size_t)n - 12);
		total += (size_t)n - 12;
	}
	*len = total;
	return whole;
}

static void test_unchunked(void **state)
{
	struct fixture *f = open_fixture(1420, VF_CONFIG_COMPRESSION_NONE);
	ssize_t n;

	(void)state;
	send_one(f, doc, sizeof(doc) - 1);
	n = recv_dgram(f, 2000);
	assert_int_equal(n, sizeof(doc) - 1);
	assert_memory_equal(f->dgram, doc, sizeof(doc) - 1);
	assert_int_equal(f->o->written, 1);
	assert_int_equal(vf_output_acked(f->o), 1);
	assert_int_equal(atomic_load(&f->c->messages), 1);
	assert_int_equal(atomic_load(&f->c->bytes), sizeof(doc) - 1);
	assert_int_equal(atomic_load(&f->c->errors), 0);
	/* exactly chunk_size bytes still goes whole */
	close_fixture(f);
	f = open_fixture(sizeof(doc) - 1, VF_CONFIG_COMPRESSION_NONE);
	send_one(f, doc, sizeof(doc) - 1);
	assert_int_equal(recv_dgram(f, 2000), sizeof(doc) - 1);
	assert_int_equal(f->dgram[0], '{');
	close_fixture(f);
}

static void test_chunked(void **state)
{
	struct fixture *f = open_fixture(128, VF_CONFIG_COMPRESSION_NONE);
	size_t len;
	uint8_t id[8], *whole;

	(void)state;
	send_one(f, doc, sizeof(doc) - 1);
	whole = recv_chunks(f, 128, &len, id);
	assert_int_equal(len, sizeof(doc) - 1);
	assert_memory_equal(whole, doc, len);
	free(whole);
	assert_int_equal(recv_dgram(f, 50), -1);   /* nothing more */
	assert_int_equal(vf_output_acked(f->o), 1);
	assert_int_equal(atomic_load(&f->c->messages), 1);
	close_fixture(f);
}

/* 128 chunks is the most: 128 * chunk_size bytes go, one more does not. */
static void test_chunk_limit(void **state)
{
	static const char small[] = "{\"short_message\":\"x\"}";
	struct fixture *f = open_fixture(128, VF_CONFIG_COMPRESSION_NONE);
	char *big = noise(128 * 128 + 1);
	uint8_t id[8], *whole;
	size_t len;

	(void)state;
	send_one(f, big, 128 * 128);
	whole = recv_chunks(f, 128, &len, id);
	assert_int_equal(len, 128 * 128);
	assert_memory_equal(whole, big, len);
	free(whole);
	/* a good one, one too large, a good one: settled in order */
	assert_true(vf_output_write(f->o, small, sizeof(small) - 1, NULL, 0));
	assert_true(vf_output_write(f->o, big, 128 * 128 + 1, NULL, 0));
	assert_true(vf_output_write(f->o, small, sizeof(small) - 1, NULL, 0));
	assert_int_equal(f->o->written, 4);
	assert_int_equal(vf_output_acked(f->o), 1);  /* the first waits */
	assert_true(vf_output_flush(f->o));
	assert_int_equal(vf_output_acked(f->o), 4);
	assert_int_equal(atomic_load(&f->c->errors), 1);
	assert_int_equal(atomic_load(&f->c->messages), 3);
	assert_int_equal(recv_dgram(f, 2000), sizeof(small) - 1);
	assert_int_equal(recv_dgram(f, 2000), sizeof(small) - 1);
	assert_int_equal(recv_dgram(f, 50), -1);     /* never a piece of it */
	/* alone, with nothing pending: settled at once */
	assert_true(vf_output_write(f->o, big, 128 * 128 + 1, NULL, 0));
	assert_int_equal(vf_output_acked(f->o), 5);
	assert_int_equal(atomic_load(&f->c->errors), 2);
	free(big);
	close_fixture(f);
}

/* Compressed, the limit is on the compressed size. */
static void test_chunk_limit_gzip(void **state)
{
	struct fixture *f = open_fixture(128, VF_CONFIG_COMPRESSION_GZIP);
	char *big = noise(128 * 128 * 2);
	char *text = calloc(1, 128 * 128 * 4);

	(void)state;
	assert_non_null(text);
	memset(text, 'a', 128 * 128 * 4);    /* compresses to almost nothing */
	send_one(f, big, 128 * 128 * 2);
	assert_int_equal(atomic_load(&f->c->errors), 1);
	assert_int_equal(vf_output_acked(f->o), 1);
	assert_int_equal(recv_dgram(f, 50), -1);
	send_one(f, text, 128 * 128 * 4);
	assert_true(recv_dgram(f, 2000) > 0);
	assert_int_equal(atomic_load(&f->c->messages), 1);
	assert_int_equal(atomic_load(&f->c->bytes), 128 * 128 * 4);
	free(text);
	free(big);
	close_fixture(f);
}

static void check_inflates(const uint8_t *p, size_t len,
	enum vf_config_compression comp, const void *want, size_t want_len)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	char *out = malloc(want_len + 1);
	size_t got = 0;
	enum libdeflate_result r;

	assert_non_null(d);
	if (comp == VF_CONFIG_COMPRESSION_GZIP) {
		assert_int_equal(p[0], 0x1f);
		assert_int_equal(p[1], 0x8b);
		r = libdeflate_gzip_decompress(d, p, len, out, want_len + 1,
			&got);
	} else {
		/* what Graylog looks for: 0x78 and a valid header check */
		assert_int_equal(p[0], 0x78);
		assert_int_equal((256 * p[0] + p[1]) % 31, 0);
		r = libdeflate_zlib_decompress(d, p, len, out, want_len + 1,
			&got);
	}
	assert_int_equal(r, LIBDEFLATE_SUCCESS);
	assert_int_equal(got, want_len);
	assert_memory_equal(out, want, want_len);
	free(out);
	libdeflate_free_decompressor(d);
}

static void compressed(enum vf_config_compression comp)
{
	struct fixture *f = open_fixture(1420, comp);
	size_t big_len = 20000, len;
	char *big = malloc(big_len);
	uint8_t id[8], *whole;
	ssize_t n;

	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = doc[i % (sizeof(doc) - 1)];
	send_one(f, doc, sizeof(doc) - 1);
	n = recv_dgram(f, 2000);
	assert_true(n > 0 && (size_t)n < sizeof(doc) - 1);
	check_inflates(f->dgram, (size_t)n, comp, doc, sizeof(doc) - 1);
	assert_int_equal(atomic_load(&f->c->bytes), sizeof(doc) - 1);
	close_fixture(f);
	/* chunks of a compressed message put together, then inflated */
	f = open_fixture(128, comp);
	send_one(f, big, big_len);
	whole = recv_chunks(f, 128, &len, id);
	check_inflates(whole, len, comp, big, big_len);
	free(whole);
	free(big);
	close_fixture(f);
}

static void test_gzip(void **state)
{
	(void)state;
	compressed(VF_CONFIG_COMPRESSION_GZIP);
}

static void test_zlib(void **state)
{
	(void)state;
	compressed(VF_CONFIG_COMPRESSION_ZLIB);
}

static void test_ids_differ(void **state)
{
	struct fixture *f = open_fixture(128, VF_CONFIG_COMPRESSION_NONE);
	uint8_t ids[32][8], *whole;
	size_t len;

	(void)state;
	for (int i = 0; i < 32; i++)
		assert_true(vf_output_write(f->o, doc, sizeof(doc) - 1, NULL, 0));
	assert_true(vf_output_flush(f->o));
	for (int i = 0; i < 32; i++) {
		whole = recv_chunks(f, 128, &len, ids[i]);
		assert_memory_equal(whole, doc, len);
		free(whole);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(ids[i], ids[j], 8);
	}
	close_fixture(f);
}

/*
 * Batching: nothing leaves before flush(), then everything does, in order;
 * batches larger than one sendmmsg() (256 datagrams) go too.
 */
static void test_batches(void **state)
{
	struct fixture *f = open_fixture(1420, VF_CONFIG_COMPRESSION_NONE);
	char msg[64];
	int n;

	(void)state;
	for (int round = 0, seq = 0; round < 20; round++) {
		int per = round % 2 ? 64 : 260;

		for (int i = 0; i < per; i++) {
			n = snprintf(msg, sizeof(msg), "{\"seq\":%d}", seq + i);
			assert_true(vf_output_write(f->o, msg, (size_t)n, NULL,
				0));
		}
		if (per <= 256)
			assert_int_equal(recv_dgram(f, 0), -1);
		assert_true(vf_output_flush(f->o));
		assert_int_equal(vf_output_acked(f->o), f->o->written);
		for (int i = 0; i < per; i++, seq++) {
			ssize_t got = recv_dgram(f, 2000);

			n = snprintf(msg, sizeof(msg), "{\"seq\":%d}", seq);
			assert_int_equal(got, n);
			assert_memory_equal(f->dgram, msg, (size_t)n);
		}
	}
	assert_int_equal(atomic_load(&f->c->messages), f->o->written);
	assert_int_equal(atomic_load(&f->c->errors), 0);
	close_fixture(f);
}

/* Nothing listening: the ICMP errors are retried past, nothing blocks. */
static void test_refused(void **state)
{
	struct fixture *f = open_fixture(1420, VF_CONFIG_COMPRESSION_NONE);

	(void)state;
	close(f->fd);
	f->fd = -1;
	for (int i = 0; i < 20; i++) {
		send_one(f, doc, sizeof(doc) - 1);
		usleep(1000);
	}
	assert_int_equal(vf_output_acked(f->o), 20);
	assert_true(atomic_load(&f->c->retries) > 0);
	assert_int_equal(atomic_load(&f->c->down_since_ms), 0);
	vf_output_destroy(f->o);
	vf_output_group_destroy(f->g);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchunked),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunk_limit),
		cmocka_unit_test(test_chunk_limit_gzip),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_zlib),
		cmocka_unit_test(test_ids_differ),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
