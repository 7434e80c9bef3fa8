/*
 * Kafka output: one librdkafka producer per process (the group's) and one
 * vf_output per writing thread. Every GELF document is one Kafka record,
 * which is what Graylog's Kafka input reads, keyed by the flow's interface
 * id so that one interface's flows stay in order in one partition.
 *
 * Retries. With enable.idempotence=true librdkafka retries a failed
 * produce request by itself (message.send.max.retries is unlimited) until
 * message.timeout.ms has passed (librdkafka's default, 5 minutes, is kept),
 * in order and without duplicates. Leader changes, request timeouts and
 * broker restarts therefore never reach us. What does reach the delivery
 * report is a message that is bad in itself (too large, invalid): sending
 * it again cannot help, so it is counted, logged and settled. Anything
 * else (a timeout after an outage longer than message.timeout.ms, an
 * unknown topic, a denied write) is produced again by the poll thread after
 * a backoff, because nothing may be lost; that copy may land after later
 * messages of its key and may be a duplicate (at least once). A fatal
 * producer error (the idempotent producer's state is broken) fails the
 * output for good: nothing more is acknowledged, and what was not is read
 * again from the last checkpoint after a restart.
 *
 * Acknowledgements. A message's opaque names its output (a slot in the
 * producer's table) and its sequence number modulo KAFKA_WINDOW. The
 * delivery report, on the poll thread, sets that bit in the output's ring;
 * poll() on the writing thread moves o->acked over the set bits from the
 * first unsettled message on, so reports may arrive in any order. write()
 * waits while KAFKA_WINDOW messages are unsettled, which keeps a bit from
 * being reused before it was counted.
 *
 * Lifetime. Each message not yet settled holds a reference on its output,
 * and so does the thread that opened it: vf_output_destroy() drops the
 * latter and does not wait; the last delivery report frees the output.
 * The producer's destroy purges what is left and releases it.
 */
#include "output_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "vpcflowd/log.h"

#define KAFKA_WINDOW_BITS 20
#define KAFKA_WINDOW ((uint64_t)1 << KAFKA_WINDOW_BITS)
#define KAFKA_MAX_OUTPUTS 1024
#define KAFKA_POLL_MS 100           /* the poll thread's longest sleep */
#define KAFKA_FLUSH_MS 5000         /* destroy: delivery of what is queued */
#define KAFKA_PURGE_MS 2000         /* destroy: reports of what was purged */
#define KAFKA_LOG_PERIOD_MS 10000

struct kafka_output {
	struct vf_output base;
	struct vf_kafka *k;
	unsigned slot;
	unsigned seed;
	/* the owner's reference, and one per message not yet settled */
	atomic_uint_fast64_t refs;
	/* bit seq % KAFKA_WINDOW: settled, not yet counted into acked */
	atomic_uint_fast64_t settled[KAFKA_WINDOW / 64];
};

/* A message librdkafka gave back that must be produced again. */
struct kafka_retry {
	struct kafka_retry *next;
	uintptr_t opaque;
	unsigned attempt;
	uint64_t due_ms;
	size_t len;
	size_t keylen;
	bool has_key;
	char data[];            /* the payload, then the key */
};

struct vf_kafka {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	const char *topic;
	struct vf_output_counters *counters;
	pthread_t thread;
	bool thread_started;
	atomic_int quit;                /* the poll thread: drain, then stop */
	atomic_uint_fast64_t drain_until_ms;
	atomic_bool fatal;              /* the producer is unusable */
	atomic_bool down;               /* counted in counters->outputs_down */
	atomic_int stuck;               /* writers waiting for the topic */
	bool closing;                   /* purged: reports only release */
	/* the poll thread's alone (reports are served there) */
	struct kafka_retry *retry_head, *retry_tail;
	size_t n_retry;
	unsigned seed;
	_Atomic(struct kafka_output *) slots[KAFKA_MAX_OUTPUTS];
	struct log_ratelimit rl_retry, rl_given_up, rl_error;
};

/* librdkafka's own log lines, from its threads: one producer a process */
static struct log_ratelimit kafka_lib_rl;

/* ---- helpers ---- */

/* Marks the producer down or up; the ms the group was down, when back up. */
static uint64_t kafka_set_down(struct vf_kafka *k, bool down)
{
	return vf_output_counters_set_down(k->counters, &k->down, down);
}

/* Errors that are the message's own: sending it again cannot help. */
static bool kafka_permanent(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_MSG:
	case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
	case RD_KAFKA_RESP_ERR__BAD_MSG:
		return true;
	default:
		return false;
	}
}

static struct kafka_output *kafka_owner(struct vf_kafka *k, uintptr_t opaque)
{
	return atomic_load(&k->slots[opaque >> KAFKA_WINDOW_BITS]);
}

static void kafka_settle(struct kafka_output *ko, uintptr_t opaque)
{
	uint64_t pos = opaque & (KAFKA_WINDOW - 1);

	atomic_fetch_or_explicit(&ko->settled[pos / 64],
		(uint_fast64_t)1 << (pos % 64), memory_order_release);
}

static void kafka_release(struct kafka_output *ko)
{
	if (atomic_fetch_sub(&ko->refs, 1) != 1)
		return;
	atomic_store(&ko->k->slots[ko->slot], NULL);
	free(ko);
}

static void kafka_give_up(struct vf_kafka *k, size_t len,
	rd_kafka_resp_err_t err)
{
	uint64_t held;

	atomic_fetch_add(&k->counters->errors, 1);
	if (log_ratelimit(&k->rl_given_up, KAFKA_LOG_PERIOD_MS, &held))
		log_warnx("output kafka: a message of %zu bytes to %s given "
			"up: %s (%llu more like this held back)", len, k->topic,
			rd_kafka_err2str(err), (unsigned long long)held);
}

static void kafka_set_fatal(struct vf_kafka *k)
{
	char reason[512];
	rd_kafka_resp_err_t err;

	if (atomic_exchange(&k->fatal, true))
		return;
	err = rd_kafka_fatal_error(k->rk, reason, sizeof(reason));
	log_errorx("output kafka: the producer failed for good: %s: %s; "
		"what is not acknowledged is read again after a restart",
		rd_kafka_err2name(err), err ? reason : "unknown");
	kafka_set_down(k, true);
}

/* ---- callbacks (on the poll thread, or destroy's after it stopped) ---- */

static void kafka_retry_push(struct vf_kafka *k, const rd_kafka_message_t *m,
	uintptr_t opaque)
{
	size_t keylen = m->key != NULL ? m->key_len : 0;
	struct kafka_retry *r = malloc(sizeof(*r) + m->len + keylen);
	uint64_t held;

	if (r == NULL) {
		/* cannot keep it: stop acknowledging rather than lose it */
		log_errorx("output kafka: out of memory");
		atomic_store(&k->fatal, true);
		kafka_release(kafka_owner(k, opaque));
		return;
	}
	r->next = NULL;
	r->opaque = opaque;
	r->attempt = 0;
	r->due_ms = vf_now_ms() + vf_backoff_ms(0, &k->seed);
	r->len = m->len;
	r->keylen = keylen;
	r->has_key = m->key != NULL;
	if (m->len)
		memcpy(r->data, m->payload, m->len);
	if (keylen)
		memcpy(r->data + m->len, m->key, keylen);
	if (k->retry_tail != NULL)
		k->retry_tail->next = r;
	else
		k->retry_head = r;
	k->retry_tail = r;
	k->n_retry++;
	atomic_fetch_add(&k->counters->retries, 1);
	kafka_set_down(k, true);
	if (log_ratelimit(&k->rl_retry, KAFKA_LOG_PERIOD_MS, &held))
		log_warnx("output kafka: %s [%d]: %s; producing it again "
			"(%llu more like this held back)", k->topic,
			(int)m->partition, rd_kafka_err2str(m->err),
			(unsigned long long)held);
}

static void kafka_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *arg)
{
	struct vf_kafka *k = arg;
	uintptr_t opaque = (uintptr_t)m->_private;
	struct kafka_output *ko = kafka_owner(k, opaque);
	uint64_t down_ms;

	(void)rk;
	if (ko == NULL)
		return;         /* cannot happen: the message holds a reference */
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		atomic_fetch_add_explicit(&k->counters->messages, 1,
			memory_order_relaxed);
		atomic_fetch_add_explicit(&k->counters->bytes, m->len,
			memory_order_relaxed);
		if ((down_ms = kafka_set_down(k, false)) > 0)
			log_info("output kafka: delivering again after %llu ms",
				(unsigned long long)down_ms);
		kafka_settle(ko, opaque);
	} else if (kafka_permanent(m->err)) {
		kafka_give_up(k, m->len, m->err);
		kafka_settle(ko, opaque);
	} else if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
		kafka_set_fatal(k);
	} else if (!k->closing && !atomic_load(&k->fatal)) {
		/* the reference goes with the copy */
		kafka_retry_push(k, m, opaque);
		return;
	}
	/* not settled when failed or purged: read again after a restart */
	kafka_release(ko);
}

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason,
	void *arg)
{
	struct vf_kafka *k = arg;
	uint64_t held;

	(void)rk;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		kafka_set_fatal(k);
		return;
	}
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		kafka_set_down(k, true);
	/* a connection's failure is in librdkafka's own log line already */
	if (err != RD_KAFKA_RESP_ERR__TRANSPORT &&
	    log_ratelimit(&k->rl_error, KAFKA_LOG_PERIOD_MS, &held))
		log_warnx("output kafka: %s (%llu more errors held back)",
			reason, (unsigned long long)held);
}

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
	const char *buf)
{
	uint64_t held;

	(void)rk;
	/* syslog levels; librdkafka repeats connection failures often */
	if (level <= 4) {
		if (log_ratelimit(&kafka_lib_rl, KAFKA_LOG_PERIOD_MS, &held))
			log_emit(level <= 2 ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN,
				false, "librdkafka %s: %s (%llu more held back)",
				fac, buf, (unsigned long long)held);
	} else if (level == 5) {
		log_info("librdkafka %s: %s", fac, buf);
	} else {
		log_debug("librdkafka %s: %s", fac, buf);
	}
}

/* ---- the poll thread ---- */

/* Produces again what is due, oldest first, so a key keeps its order. */
static void kafka_retry_run(struct vf_kafka *k)
{
	uint64_t now = vf_now_ms();
	struct kafka_retry *r;

	while ((r = k->retry_head) != NULL && r->due_ms <= now) {
		rd_kafka_resp_err_t err;

		if (rd_kafka_produce(k->rkt, RD_KAFKA_PARTITION_UA,
		    RD_KAFKA_MSG_F_COPY, r->data, r->len,
		    r->has_key ? r->data + r->len : NULL, r->keylen,
		    (void *)r->opaque) == 0)
			goto done;
		err = rd_kafka_last_error();
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return;         /* the next round */
		if (err == RD_KAFKA_RESP_ERR__FATAL) {
			kafka_set_fatal(k);
			return;         /* destroy releases what is left */
		}
		if (kafka_permanent(err)) {
			struct kafka_output *ko = kafka_owner(k, r->opaque);

			kafka_give_up(k, r->len, err);
			kafka_settle(ko, r->opaque);
			kafka_release(ko);
			goto done;
		}
		/* e.g. the topic is unknown for now: the whole queue waits */
		r->attempt++;
		r->due_ms = now + vf_backoff_ms(r->attempt, &k->seed);
		return;
done:
		k->retry_head = r->next;
		if (k->retry_head == NULL)
			k->retry_tail = NULL;
		k->n_retry--;
		free(r);
	}
}

static void kafka_retry_drop(struct vf_kafka *k)
{
	struct kafka_retry *r;

	while ((r = k->retry_head) != NULL) {
		k->retry_head = r->next;
		kafka_release(kafka_owner(k, r->opaque));
		free(r);
	}
	k->retry_tail = NULL;
	k->n_retry = 0;
}

static void *kafka_thread(void *arg)
{
	struct vf_kafka *k = arg;

	for (;;) {
		bool quit = atomic_load(&k->quit) != 0, idle;

		rd_kafka_poll(k->rk, k->retry_head != NULL ? 10 : KAFKA_POLL_MS);
		kafka_retry_run(k);
		idle = k->retry_head == NULL && rd_kafka_outq_len(k->rk) == 0 &&
			atomic_load(&k->stuck) == 0;
		/* nothing to deliver: brokers that are down harm nobody */
		if (idle)
			kafka_set_down(k, false);
		if (quit && (idle || atomic_load(&k->fatal) ||
		    vf_now_ms() >= atomic_load(&k->drain_until_ms)))
			break;
	}
	return NULL;
}

/* ---- the producer ---- */

struct vf_kafka *vf_kafka_create(const struct vf_config_output *oc,
	const atomic_int *stop, struct vf_output_counters *counters)
{
	/* before output.kafka.properties, which may change any of them */
	static const char *const defaults[][2] = {
		{ "client.id", "vpcflowd" },
		{ "enable.idempotence", "true" },
		{ "acks", "all" },
		/* a little batching: ~10 ms of latency for fewer requests */
		{ "linger.ms", "10" },
		/* brokers close idle connections; that is no news */
		{ "log.connection.close", "false" },
	};
	char errstr[512];
	rd_kafka_conf_t *conf = NULL;
	struct vf_kafka *k;

	(void)stop;     /* nothing here blocks: the writers honour it */
	if (oc->kafka.brokers == NULL || oc->kafka.brokers[0] == '\0') {
		log_warnx("output.kafka.brokers is not set");
		return NULL;
	}
	if (oc->kafka.topic == NULL || oc->kafka.topic[0] == '\0') {
		log_warnx("output.kafka.topic is not set");
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		log_warnx("output kafka: out of memory");
		return NULL;
	}
	k->topic = oc->kafka.topic;
	k->counters = counters;
	k->seed = (unsigned)time(NULL) ^ (unsigned)getpid();

	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", oc->kafka.brokers,
	    errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		log_warnx("output.kafka.brokers: %s", errstr);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1],
		    errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
			log_warnx("output kafka: %s: %s", defaults[i][0],
				errstr);
			goto fail;
		}
	for (size_t i = 0; i < oc->kafka.n_properties; i++) {
		const struct vf_config_property *p = &oc->kafka.properties[i];

		if (rd_kafka_conf_set(conf, p->name, p->value, errstr,
		    sizeof(errstr)) != RD_KAFKA_CONF_OK) {
			log_warnx("output.kafka.properties.%s: %s", p->name,
				errstr);
			goto fail;
		}
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr);
	rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);

	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (k->rk == NULL) {
		log_warnx("output kafka: %s", errstr);
		goto fail;
	}
	conf = NULL;    /* the producer's now */
	k->rkt = rd_kafka_topic_new(k->rk, oc->kafka.topic, NULL);
	if (k->rkt == NULL) {
		log_warnx("output kafka: topic %s: %s", oc->kafka.topic,
			rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	if (pthread_create(&k->thread, NULL, kafka_thread, k) != 0) {
		log_warnx("output kafka: cannot start the poll thread");
		goto fail;
	}
	k->thread_started = true;
	return k;
fail:
	if (conf != NULL)
		rd_kafka_conf_destroy(conf);
	vf_kafka_destroy(k);
	return NULL;
}

void vf_kafka_destroy(struct vf_kafka *k)
{
	if (k == NULL)
		return;
	if (k->thread_started) {
		/*
		 * Not rd_kafka_flush(): it would serve reports here while the
		 * poll thread does too. The poll thread drains instead, sending
		 * retries as well, until all is delivered or the time is up.
		 */
		atomic_store(&k->drain_until_ms, vf_now_ms() +
			KAFKA_FLUSH_MS);
		atomic_store(&k->quit, 1);
		pthread_join(k->thread, NULL);
	}
	if (k->rk != NULL) {
		int left = rd_kafka_outq_len(k->rk) + (int)k->n_retry;
		uint64_t end = vf_now_ms() + KAFKA_PURGE_MS;

		if (left > 0 && !atomic_load(&k->fatal))
			log_warnx("output kafka: %d messages not delivered at "
				"shutdown", left);
		/* what is left is released unsettled: the reports come here */
		k->closing = true;
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE |
			RD_KAFKA_PURGE_F_INFLIGHT);
		while (rd_kafka_outq_len(k->rk) > 0 &&
		    vf_now_ms() < end)
			rd_kafka_poll(k->rk, 50);
		kafka_retry_drop(k);
		if (k->rkt != NULL)
			rd_kafka_topic_destroy(k->rkt);
		rd_kafka_destroy(k->rk);
	}
	/* outputs whose messages never came back: nothing refers to them */
	for (size_t i = 0; i < KAFKA_MAX_OUTPUTS; i++)
		free(atomic_load(&k->slots[i]));
	free(k);
}

/* ---- one writing thread's output ---- */

/* Moves acked over the settled bits from the first unsettled message on. */
static void kafka_poll(struct vf_output *o)
{
	struct kafka_output *ko = (struct kafka_output *)o;

	while (o->acked < o->written) {
		uint64_t pos = o->acked & (KAFKA_WINDOW - 1);
		unsigned bit = (unsigned)(pos % 64);
		uint_fast64_t word = atomic_load_explicit(
			&ko->settled[pos / 64], memory_order_acquire) >> bit;
		uint64_t n, mask;

		/* the run of ones from bit on; the word's end stops it */
		n = ~word == 0 ? 64 : (uint64_t)__builtin_ctzll(~word);
		if (n > 64 - bit)
			n = 64 - bit;
		if (n > o->written - o->acked)
			n = o->written - o->acked;
		if (n == 0)
			break;
		mask = (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << bit;
		atomic_fetch_and_explicit(&ko->settled[pos / 64], ~mask,
			memory_order_relaxed);
		o->acked += n;
	}
}

static bool kafka_write(struct vf_output *o, const char *msg, size_t len,
	const char *key, size_t keylen)
{
	struct kafka_output *ko = (struct kafka_output *)o;
	struct vf_kafka *k = ko->k;
	uintptr_t opaque;
	unsigned attempt = 0;
	uint64_t held;

	if (atomic_load(&k->fatal))
		return false;
	/* the ring would wrap: wait for the oldest to settle */
	while (o->written - o->acked >= KAFKA_WINDOW) {
		kafka_poll(o);
		if (o->written - o->acked < KAFKA_WINDOW)
			break;
		if (vf_output_stopping(o) || atomic_load(&k->fatal))
			return false;
		vf_output_nap(o, 5, true);
	}
	opaque = (uintptr_t)ko->slot << KAFKA_WINDOW_BITS |
		(uintptr_t)(o->written & (KAFKA_WINDOW - 1));
	atomic_fetch_add(&ko->refs, 1);
	for (;;) {
		rd_kafka_resp_err_t err;

		if (rd_kafka_produce(k->rkt, RD_KAFKA_PARTITION_UA,
		    RD_KAFKA_MSG_F_COPY, (void *)msg, len,
		    key, key != NULL ? keylen : 0, (void *)opaque) == 0)
			break;
		err = rd_kafka_last_error();
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			/* backpressure: the poll thread empties the queue */
			if (vf_output_stopping(o))
				goto refused;
			vf_output_nap(o, 2, true);
			continue;
		}
		if (kafka_permanent(err)) {
			/* e.g. over message.max.bytes: taken and settled */
			kafka_give_up(k, len, err);
			kafka_settle(ko, opaque);
			kafka_release(ko);
			break;
		}
		if (err == RD_KAFKA_RESP_ERR__FATAL) {
			kafka_set_fatal(k);
			goto refused;
		}
		/* the topic or partition is unknown for now: try again */
		if (attempt++ == 0)
			atomic_fetch_add(&k->stuck, 1);
		kafka_set_down(k, true);
		if (log_ratelimit(&k->rl_retry, KAFKA_LOG_PERIOD_MS, &held))
			log_warnx("output kafka: %s: %s; trying again (%llu "
				"more like this held back)", k->topic,
				rd_kafka_err2str(err), (unsigned long long)held);
		if (vf_output_stopping(o))
			goto refused;
		vf_output_nap(o, vf_backoff_ms(attempt - 1, &ko->seed),
			true);
	}
	if (attempt > 0)
		atomic_fetch_sub(&k->stuck, 1);
	o->written++;
	return true;
refused:
	if (attempt > 0)
		atomic_fetch_sub(&k->stuck, 1);
	kafka_release(ko);      /* never the last: the owner holds one */
	return false;
}

/* librdkafka sends on its own after linger.ms: nothing to push here. */
static bool kafka_flush(struct vf_output *o)
{
	struct kafka_output *ko = (struct kafka_output *)o;

	return !atomic_load(&ko->k->fatal);
}

static void kafka_destroy(struct vf_output *o)
{
	/* reports still to come keep it alive; the last one frees it */
	kafka_release((struct kafka_output *)o);
}

static const struct vf_output_ops kafka_ops = {
	kafka_write, kafka_flush, kafka_poll, kafka_destroy,
};

struct vf_output *vf_output_kafka_create(struct vf_output_group *g)
{
	struct kafka_output *ko;

	if (g->kafka == NULL) {
		log_warnx("output kafka: no producer");
		return NULL;
	}
	ko = calloc(1, sizeof(*ko));
	if (ko == NULL) {
		log_warnx("output kafka: out of memory");
		return NULL;
	}
	vf_output_base_init(&ko->base, &kafka_ops, "kafka", g->stop,
		&g->counters);
	ko->k = g->kafka;
	ko->seed = (unsigned)(uintptr_t)ko ^ (unsigned)time(NULL);
	atomic_init(&ko->refs, 1);
	for (unsigned i = 0; i < KAFKA_MAX_OUTPUTS; i++) {
		struct kafka_output *none = NULL;

		if (atomic_compare_exchange_strong(&g->kafka->slots[i], &none,
		    ko)) {
			ko->slot = i;
			return &ko->base;
		}
	}
	log_warnx("output kafka: more than %d outputs open",
		KAFKA_MAX_OUTPUTS);
	free(ko);
	return NULL;
}
