/*
 * The Kafka output against librdkafka's in-process mock cluster (three
 * brokers on 127.0.0.1): every message arrives, in order per key, through
 * injected errors and an outage longer than message.timeout.ms; a message
 * too large is a counted error that does not hold the acknowledgements up.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "vpcflowd/config.h"
#include "vpcflowd/log.h"
#include "vpcflowd/output.h"

#define TOPIC "flows"
#define PARTITIONS 4
#define WAIT_MS 30000

struct fixture {
	rd_kafka_t *host;               /* the mock cluster hangs on it */
	rd_kafka_mock_cluster_t *mc;
	char bootstrap[256];
	struct vf_config_output oc;
	struct vf_config_property props[4];
	atomic_int stop;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];

	if (f == NULL)
		return -1;
	rd_kafka_conf_set(conf, "log_level", "4", NULL, 0);
	f->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (f->host == NULL)
		return -1;
	f->mc = rd_kafka_mock_cluster_new(f->host, 3);
	if (f->mc == NULL || rd_kafka_mock_topic_create(f->mc, TOPIC,
	    PARTITIONS, 3) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return -1;
	snprintf(f->bootstrap, sizeof(f->bootstrap), "%s",
		rd_kafka_mock_cluster_bootstraps(f->mc));
	f->oc.type = VF_CONFIG_OUTPUT_KAFKA;
	f->oc.kafka.brokers = f->bootstrap;
	f->oc.kafka.topic = TOPIC;
	f->oc.kafka.properties = f->props;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rd_kafka_mock_cluster_destroy(f->mc);
	rd_kafka_destroy(f->host);
	free(f);
	return 0;
}

/* A group with output.kafka.properties as name, value, ..., NULL. */
static struct vf_output_group *group(struct fixture *f, ...)
{
	va_list ap;
	const char *name;

	f->oc.kafka.n_properties = 0;
	va_start(ap, f);
	while ((name = va_arg(ap, const char *)) != NULL) {
		struct vf_config_property *p =
			&f->props[f->oc.kafka.n_properties++];

		p->name = (char *)name;
		p->value = va_arg(ap, char *);
	}
	va_end(ap);
	return vf_output_group_create(&f->oc, &f->stop);
}

/* Message i of writer w: key "w<w>-eni-<i % keys>", body names both. */
static size_t message(char *buf, size_t cap, char *key, size_t keycap,
	int w, int i, int keys, size_t *keylen)
{
	int n = snprintf(key, keycap, "w%d-eni-%d", w, i % keys);

	*keylen = (size_t)n;
	return (size_t)snprintf(buf, cap, "{\"version\":\"1.1\",\"_key\":\"%s\","
		"\"_i\":%d}", key, i);
}

/* Writes messages first .. first + n - 1 of writer w; the bytes taken. */
static uint64_t write_n(struct vf_output *o, int w, int first, int n,
	int keys)
{
	uint64_t bytes = 0;

	for (int i = first; i < first + n; i++) {
		char buf[256], key[64];
		size_t keylen, len = message(buf, sizeof(buf), key,
			sizeof(key), w, i, keys, &keylen);

		if (!vf_output_write(o, buf, len, key, keylen))
			return 0;
		bytes += len;
	}
	return bytes;
}

/* ---- reading the topic back ---- */

struct seen {
	int w, i;
	char key[64];
};

/* Everything in the topic, each partition in order; stops when idle. */
static struct seen *consume(struct fixture *f, size_t want, size_t *n)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *parts;
	struct seen *s = calloc(want * 2 + 16, sizeof(*s));
	size_t cap = want * 2 + 16;
	uint64_t idle_since = 0;
	char errstr[256];
	rd_kafka_t *rk;

	assert_non_null(s);
	assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers",
		f->bootstrap, errstr, sizeof(errstr)), RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "group.id", "vf-test",
		errstr, sizeof(errstr)), RD_KAFKA_CONF_OK);
	assert_int_equal(rd_kafka_conf_set(conf, "enable.auto.commit",
		"false", errstr, sizeof(errstr)), RD_KAFKA_CONF_OK);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	assert_non_null(rk);
	parts = rd_kafka_topic_partition_list_new(PARTITIONS);
	for (int p = 0; p < PARTITIONS; p++)
		rd_kafka_topic_partition_list_add(parts, TOPIC, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	assert_int_equal(rd_kafka_assign(rk, parts), 0);
	rd_kafka_topic_partition_list_destroy(parts);

	*n = 0;
	for (uint64_t start = (uint64_t)time(NULL);
	    (uint64_t)time(NULL) - start < 30;) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		char body[256];

		if (m == NULL || m->err) {
			/* a little past the last wanted one: duplicates too */
			if (*n >= want && idle_since++ > 5) {
				if (m != NULL)
					rd_kafka_message_destroy(m);
				break;
			}
			if (m != NULL)
				rd_kafka_message_destroy(m);
			continue;
		}
		idle_since = 0;
		assert_true(*n < cap);
		assert_true(m->len < sizeof(body));
		memcpy(body, m->payload, m->len);
		body[m->len] = '\0';
		assert_int_equal(sscanf(body, "{\"version\":\"1.1\",\"_key\":"
			"\"w%d-eni-%*d\",\"_i\":%d}", &s[*n].w, &s[*n].i), 2);
		assert_true(m->key_len < sizeof(s[*n].key));
		memcpy(s[*n].key, m->key, m->key_len);
		(*n)++;
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return s;
}

/*
 * Every message of writers 0 .. writers - 1 (n each) is there; with
 * in_order, once each and in order per key.
 */
static void check_topic(struct fixture *f, int writers, int n, int keys,
	bool in_order)
{
	size_t got;
	struct seen *s = consume(f, (size_t)writers * (size_t)n, &got);
	unsigned char *have = calloc((size_t)writers * (size_t)n, 1);
	int *last = malloc((size_t)writers * (size_t)keys * sizeof(int));
	size_t distinct = 0;

	assert_non_null(have);
	assert_non_null(last);
	for (int i = 0; i < writers * keys; i++)
		last[i] = -1;
	for (size_t j = 0; j < got; j++) {
		int w = s[j].w, i = s[j].i;
		char key[64];

		assert_true(w >= 0 && w < writers && i >= 0 && i < n);
		snprintf(key, sizeof(key), "w%d-eni-%d", w, i % keys);
		assert_string_equal(s[j].key, key);
		if (!have[w * n + i]++)
			distinct++;
		if (in_order) {
			if (last[w * keys + i % keys] >= i)
				fail_msg("%s: %d after %d", key, i,
					last[w * keys + i % keys]);
			last[w * keys + i % keys] = i;
		}
	}
	assert_int_equal(distinct, (size_t)writers * (size_t)n);
	if (in_order)
		assert_int_equal(got, (size_t)writers * (size_t)n);
	free(last);
	free(have);
	free(s);
}

/* ---- the tests ---- */

struct writer {
	struct vf_output_group *g;
	int w, n, keys;
	uint64_t bytes, written, acked;
	bool opened, waited;
};

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	struct vf_output *o = vf_output_open(wr->g);

	if (o == NULL)
		return NULL;
	wr->opened = true;
	wr->bytes = write_n(o, wr->w, 0, wr->n, wr->keys);
	wr->waited = vf_output_wait(o, o->written, WAIT_MS, true);
	wr->written = o->written;
	wr->acked = o->acked;
	vf_output_destroy(o);
	return NULL;
}

static void test_delivers_in_order(void **state)
{
	struct fixture *f = *state;
	struct vf_output_group *g = group(f, NULL);
	struct writer wr[2];
	pthread_t t[2];
	struct vf_output_counters *c;
	uint64_t bytes = 0;

	assert_non_null(g);
	for (int i = 0; i < 2; i++) {
		wr[i] = (struct writer){ .g = g, .w = i, .n = 5000, .keys = 16 };
		assert_int_equal(pthread_create(&t[i], NULL, writer_main,
			&wr[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_true(wr[i].opened);
		assert_true(wr[i].waited);
		assert_int_equal(wr[i].written, 5000);
		assert_int_equal(wr[i].acked, 5000);
		bytes += wr[i].bytes;
	}
	c = vf_output_group_counters(g);
	assert_int_equal(atomic_load(&c->messages), 10000);
	assert_int_equal(atomic_load(&c->bytes), bytes);
	assert_int_equal(atomic_load(&c->errors), 0);
	assert_int_equal(atomic_load(&c->down_since_ms), 0);
	vf_output_group_destroy(g);
	check_topic(f, 2, 5000, 16, true);
}

static void test_retriable_errors_lose_nothing(void **state)
{
	struct fixture *f = *state;
	struct vf_output_group *g = group(f, "linger.ms", "1", NULL);
	struct vf_output *o;
	struct vf_output_counters *c;

	assert_non_null(g);
	o = vf_output_open(g);
	assert_non_null(o);
	/* librdkafka's idempotent producer retries these itself, in order */
	for (int round = 0; round < 4; round++) {
		rd_kafka_mock_push_request_errors(f->mc, 0 /* Produce */, 6,
			RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
			RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
			RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
			RD_KAFKA_RESP_ERR__TRANSPORT,
			RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
			RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
		assert_true(write_n(o, 0, round * 500, 500, 8) > 0);
		usleep(50000);
	}
	assert_true(vf_output_wait(o, o->written, WAIT_MS, true));
	assert_int_equal(o->acked, 2000);
	c = vf_output_group_counters(g);
	assert_int_equal(atomic_load(&c->messages), 2000);
	assert_int_equal(atomic_load(&c->errors), 0);
	vf_output_destroy(o);
	vf_output_group_destroy(g);
	check_topic(f, 1, 2000, 8, true);
}

static void test_outage_longer_than_timeout(void **state)
{
	struct fixture *f = *state;
	/* reconnecting soon after the brokers are back keeps it short */
	struct vf_output_group *g = group(f, "message.timeout.ms", "1000",
		"reconnect.backoff.max.ms", "500", NULL);
	struct vf_output *o, *gone;
	struct vf_output_counters *c;

	assert_non_null(g);
	c = vf_output_group_counters(g);
	o = vf_output_open(g);
	gone = vf_output_open(g);
	assert_non_null(o);
	assert_non_null(gone);
	assert_true(write_n(o, 0, 0, 100, 4) > 0);
	assert_true(vf_output_wait(o, o->written, WAIT_MS, true));

	rd_kafka_mock_broker_set_down(f->mc, -1);
	assert_true(write_n(o, 0, 100, 400, 4) > 0);
	/* closed with its messages outstanding: they still arrive */
	assert_true(write_n(gone, 0, 500, 50, 4) > 0);
	vf_output_destroy(gone);
	sleep(3);
	assert_true(vf_output_acked(o) < 500);
	assert_true(atomic_load(&c->retries) > 0);
	assert_true(atomic_load(&c->down_since_ms) > 0);
	assert_int_equal(atomic_load(&c->errors), 0);

	rd_kafka_mock_broker_set_up(f->mc, -1);
	assert_true(vf_output_wait(o, o->written, WAIT_MS, true));
	assert_int_equal(o->acked, 500);
	for (int i = 0; i < 100 && atomic_load(&c->messages) < 550; i++)
		usleep(100000);
	assert_int_equal(atomic_load(&c->messages), 550);
	assert_int_equal(atomic_load(&c->errors), 0);
	assert_int_equal(atomic_load(&c->down_since_ms), 0);
	vf_output_destroy(o);
	vf_output_group_destroy(g);
	/* produced again after timing out: at least once, order not promised */
	check_topic(f, 1, 550, 4, false);
}

static void test_too_large_is_settled(void **state)
{
	struct fixture *f = *state;
	struct vf_output_group *g = group(f, "message.max.bytes", "2000",
		NULL);
	struct vf_output *o;
	struct vf_output_counters *c;
	char big[5000];

	assert_non_null(g);
	c = vf_output_group_counters(g);
	o = vf_output_open(g);
	assert_non_null(o);
	memset(big, 'x', sizeof(big));
	assert_true(write_n(o, 0, 0, 10, 2) > 0);
	assert_true(vf_output_write(o, big, sizeof(big), "w0-eni-0", 8));
	assert_true(write_n(o, 0, 10, 10, 2) > 0);
	assert_int_equal(o->written, 21);
	assert_true(vf_output_wait(o, o->written, WAIT_MS, true));
	assert_int_equal(o->acked, 21);
	assert_int_equal(atomic_load(&c->messages), 20);
	assert_int_equal(atomic_load(&c->errors), 1);

	/* the broker refusing one: settled as an error too */
	rd_kafka_mock_push_request_errors(f->mc, 0, 1,
		RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
	assert_true(vf_output_write(o, big, 1500, "w0-eni-1", 8));
	assert_true(vf_output_wait(o, o->written, WAIT_MS, true));
	assert_int_equal(o->acked, 22);
	assert_int_equal(atomic_load(&c->errors), 2);
	/* and the producer goes on */
	assert_true(write_n(o, 0, 20, 10, 2) > 0);
	assert_true(vf_output_wait(o, o->written, WAIT_MS, true));
	assert_int_equal(o->acked, 32);
	assert_int_equal(atomic_load(&c->messages), 30);
	vf_output_destroy(o);
	vf_output_group_destroy(g);
}

static void test_stop_ends_backpressure(void **state)
{
	struct fixture *f = *state;
	struct vf_output_group *g = group(f, "queue.buffering.max.messages",
		"10", NULL);
	struct vf_output *o;

	assert_non_null(g);
	o = vf_output_open(g);
	assert_non_null(o);
	rd_kafka_mock_broker_set_down(f->mc, -1);
	assert_true(write_n(o, 0, 0, 10, 2) > 0);
	atomic_store(&f->stop, 1);
	/* the queue is full and nothing drains it: refused, not blocked */
	assert_int_equal(write_n(o, 0, 10, 1, 2), 0);
	assert_int_equal(o->written, 10);
	assert_false(vf_output_wait(o, o->written, WAIT_MS, true));
	vf_output_destroy(o);
	/* destroy delivers what is queued, when it can */
	rd_kafka_mock_broker_set_up(f->mc, -1);
	vf_output_group_destroy(g);
	atomic_store(&f->stop, 0);
	check_topic(f, 1, 10, 2, true);
}

static void test_bad_property(void **state)
{
	struct fixture *f = *state;
	struct vf_output_group *g;

	assert_null(group(f, "no.such.property", "1", NULL));
	assert_null(group(f, "acks", "sometimes", NULL));
	/* librdkafka refuses the combination when it starts */
	assert_null(group(f, "acks", "1", NULL));
	g = group(f, "compression.type", "lz4", "acks", "all", NULL);
	assert_non_null(g);
	vf_output_group_destroy(g);
	f->oc.kafka.topic = NULL;
	assert_null(group(f, NULL));
	f->oc.kafka.topic = TOPIC;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delivers_in_order,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_retriable_errors_lose_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_outage_longer_than_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_is_settled,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_ends_backpressure,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_property, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
