/*
 * gelf_tcp against a real receiver on 127.0.0.1 run by a thread of the
 * test: framing, acknowledgements, and no loss when the receiver closes
 * or resets the connection mid-stream.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpcflowd/config.h"
#include "vpcflowd/output.h"

#define N_MSGS 20000

/* What the receiver does to the first connection after reading `after` messages. */
enum cut_kind { CUT_NONE, CUT_CLOSE, CUT_RESET };

struct receiver {
	int lfd;
	unsigned port;
	enum cut_kind cut;
	unsigned after;
	pthread_t thread;
	pthread_mutex_t mu;
	unsigned char *seen;        /* per message id: times received */
	unsigned total;             /* frames received */
	unsigned connections;
	bool bad_frame;
	int last_id;
	bool out_of_order;          /* an id lower than the last one, on one connection */
};

static void *receive(void *arg)
{
	struct receiver *r = arg;
	char buf[65536], frame[4096];
	size_t flen = 0;

	for (;;) {
		int fd = accept(r->lfd, NULL, NULL);
		unsigned on_this = 0;
		bool cut_here;

		if (fd < 0)
			return NULL;
		pthread_mutex_lock(&r->mu);
		r->connections++;
		cut_here = r->connections == 1 && r->cut != CUT_NONE;
		r->last_id = -1;
		pthread_mutex_unlock(&r->mu);
		flen = 0;
		for (;;) {
			/* small reads when a cut is due, so unread bytes remain */
			ssize_t n = recv(fd, buf, cut_here ? 512 : sizeof(buf), 0);

			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++) {
				int id;

				if (buf[i] != '\0') {
					if (flen < sizeof(frame) - 1)
						frame[flen++] = buf[i];
					continue;
				}
				frame[flen] = '\0';
				flen = 0;
				pthread_mutex_lock(&r->mu);
				if (sscanf(frame, "{\"id\":%d}", &id) != 1 || id < 0 ||
				    id >= N_MSGS) {
					r->bad_frame = true;
				} else {
					r->seen[id]++;
					r->total++;
				}
				pthread_mutex_unlock(&r->mu);
				on_this++;
			}
			if (cut_here && on_this >= r->after) {
				if (r->cut == CUT_RESET) {
					struct linger l = { 1, 0 };

					/*
					 * the sender sees its bytes acknowledged
					 * meanwhile: then they die unread
					 */
					usleep(300000);
					setsockopt(fd, SOL_SOCKET, SO_LINGER, &l,
						sizeof(l));
				}
				break;
			}
		}
		close(fd);
	}
}

static void receiver_start(struct receiver *r, enum cut_kind cut,
	unsigned after)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int one = 1;

	memset(r, 0, sizeof(*r));
	r->cut = cut;
	r->after = after;
	r->seen = calloc(N_MSGS, 1);
	assert_non_null(r->seen);
	pthread_mutex_init(&r->mu, NULL);
	r->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->lfd >= 0);
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(r->lfd, 8), 0);
	getsockname(r->lfd, (struct sockaddr *)&sa, &sl);
	r->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&r->thread, NULL, receive, r), 0);
}

static void receiver_stop(struct receiver *r)
{
	shutdown(r->lfd, SHUT_RDWR);
	close(r->lfd);
	pthread_join(r->thread, NULL);
	free(r->seen);
	pthread_mutex_destroy(&r->mu);
}

static void config_for(struct vf_config *cfg, unsigned port)
{
	vf_config_init(cfg);
	cfg->output.type = VF_CONFIG_OUTPUT_GELF_TCP;
	cfg->output.port = port;
}

static unsigned missing(struct receiver *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < N_MSGS; i++)
		n += r->seen[i] == 0;
	return n;
}

/* Sends N_MSGS documents, waits for every acknowledgement. */
static void send_all(struct vf_output *o)
{
	char msg[64];

	for (int i = 0; i < N_MSGS; i++) {
		int n = snprintf(msg, sizeof(msg), "{\"id\":%d}", i);

		assert_true(vf_output_write(o, msg, (size_t)n, NULL, 0));
	}
	assert_int_equal(o->written, N_MSGS);
	assert_true(vf_output_wait(o, o->written, 20000, true));
	assert_int_equal(o->acked, N_MSGS);
}

static void run_case(enum cut_kind cut, unsigned after, unsigned *connections,
	uint64_t *retries)
{
	struct receiver r;
	struct vf_config cfg;
	struct vf_output_group *g;
	struct vf_output *o;
	atomic_int stop = 0;

	receiver_start(&r, cut, after);
	config_for(&cfg, r.port);
	g = vf_output_group_create(&cfg.output, &stop);
	assert_non_null(g);
	o = vf_output_open(g);
	assert_non_null(o);
	send_all(o);
	/* acknowledged by TCP is at least received by the kernel: let it be read */
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&r.mu);
		bool done = missing(&r) == 0;
		pthread_mutex_unlock(&r.mu);
		if (done)
			break;
		usleep(10000);
	}
	vf_output_destroy(o);
	pthread_mutex_lock(&r.mu);
	assert_false(r.bad_frame);
	assert_int_equal(missing(&r), 0);
	*connections = r.connections;
	pthread_mutex_unlock(&r.mu);
	assert_int_equal(atomic_load(&vf_output_group_counters(g)->messages),
		N_MSGS);
	*retries = atomic_load(&vf_output_group_counters(g)->retries);
	vf_output_group_destroy(g);
	receiver_stop(&r);
	vf_config_finish(&cfg);
}

static void test_plain(void **state)
{
	unsigned conns;
	uint64_t retries;

	(void)state;
	run_case(CUT_NONE, 0, &conns, &retries);
	assert_int_equal(conns, 1);
	assert_int_equal(retries, 0);
}

static void test_receiver_closes(void **state)
{
	unsigned conns;
	uint64_t retries;

	(void)state;
	run_case(CUT_CLOSE, 3000, &conns, &retries);
	assert_true(conns >= 2);
	assert_true(retries >= 1);
}

static void test_receiver_resets_with_unread_data(void **state)
{
	unsigned conns;
	uint64_t retries;

	(void)state;
	run_case(CUT_RESET, 3000, &conns, &retries);
	assert_true(conns >= 2);
	assert_true(retries >= 1);
}

static void *set_stop_later(void *arg)
{
	usleep(300000);
	atomic_store((atomic_int *)arg, 1);
	return NULL;
}

/* Nobody listens: write blocks (backpressure) until the stop, then says no. */
static void test_down_blocks_until_stop(void **state)
{
	struct receiver r;
	struct vf_config cfg;
	struct vf_output_group *g;
	struct vf_output *o;
	atomic_int stop = 0;
	pthread_t th;
	char msg[] = "{\"id\":1}";
	bool ok = true;

	(void)state;
	receiver_start(&r, CUT_NONE, 0);
	config_for(&cfg, r.port);
	receiver_stop(&r);       /* the port is now closed */
	g = vf_output_group_create(&cfg.output, &stop);
	assert_non_null(g);
	o = vf_output_open(g);
	assert_non_null(o);
	assert_int_equal(pthread_create(&th, NULL, set_stop_later, &stop), 0);
	for (int i = 0; i < 100000 && ok; i++)
		ok = vf_output_write(o, msg, sizeof(msg) - 1, NULL, 0);
	if (ok)
		ok = vf_output_flush(o);
	pthread_join(th, NULL);
	assert_false(ok);
	assert_int_equal(o->acked, 0);
	assert_true(atomic_load(&vf_output_group_counters(g)->down_since_ms) > 0);
	assert_true(atomic_load(&vf_output_group_counters(g)->retries) >= 1);
	vf_output_destroy(o);
	vf_output_group_destroy(g);
	vf_config_finish(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_receiver_closes),
		cmocka_unit_test(test_receiver_resets_with_unread_data),
		cmocka_unit_test(test_down_blocks_until_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
