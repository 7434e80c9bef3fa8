/*
 * Outputs: where encoded GELF documents go, and what tells the consumer
 * they arrived.
 *
 * A vf_output_group is made once per process from output.* (it holds what
 * the threads share: a TLS context, the Kafka producer, the counters). Each
 * thread that writes opens its own vf_output from it: its own socket, HTTP
 * connection or Kafka handle, so one shard's messages keep their order and
 * no lock sits between the shards.
 *
 * Acknowledgements: o->written counts the messages write() took;
 * o->acked counts how many of them, from the first on, are settled:
 * delivered as far as the transport can tell (UDP: the kernel took the
 * datagram; TCP: the receiver's TCP acknowledged the bytes; HTTP: 202;
 * Kafka: the delivery report) or given up for good as a counted, logged
 * error (a message too large for 128 UDP chunks, an HTTP 4xx). The
 * consumer remembers o->written after each batch and checkpoints a batch
 * once o->acked has reached it.
 *
 * Backpressure: write() and flush() block while the destination is down
 * (reconnecting with backoff, sending again what was not acknowledged) or
 * while too much is unacknowledged, until it recovers or *stop is set.
 */
#ifndef VPCFLOWD_OUTPUT_H
#define VPCFLOWD_OUTPUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


struct vf_output;
struct vf_config_output;

/* Totals of every output opened from one group (the metrics). */
struct vf_output_counters {
	atomic_uint_fast64_t messages;   /* delivered */
	atomic_uint_fast64_t bytes;      /* delivered GELF bytes, before compression */
	atomic_uint_fast64_t errors;     /* messages given up (logged) */
	atomic_uint_fast64_t retries;    /* reconnects, resent batches, retried requests */
	atomic_int_fast64_t down_since_ms;   /* CLOCK_MONOTONIC ms; 0 while all are up */
	atomic_uint_fast32_t outputs_down;   /* how many outputs are down now */
};

struct vf_output_ops {
	/*
	 * Takes one document (copied; the caller reuses its buffer). key
	 * (may be NULL) names the messages that must stay in order: Kafka
	 * uses it as the message key. False when *stop was set or the
	 * output failed for good: the message was not taken.
	 */
	bool (*write)(struct vf_output *o, const char *msg, size_t len,
		const char *key, size_t keylen);
	/*
	 * Sends whatever is buffered; does not wait for acknowledgements.
	 * False when the output failed for good, or when *stop is set and
	 * nothing more can be acknowledged (no connection left): callers
	 * waiting for acknowledgements give up then.
	 */
	bool (*flush)(struct vf_output *o);
	/* Brings o->acked up to date without blocking. */
	void (*poll)(struct vf_output *o);
	void (*destroy)(struct vf_output *o);
};

struct vf_output {
	const struct vf_output_ops *ops;
	const char *name;                    /* the `output` metrics label */
	const atomic_int *stop;              /* set: give up blocking */
	struct vf_output_counters *counters; /* the group's, or own */
	struct vf_output_counters own;
	uint64_t written;                    /* messages taken */
	uint64_t acked;                      /* settled, from the first; <= written */
	atomic_bool down;                    /* counted in counters->outputs_down */
};

struct vf_output_group;

/*
 * Checks output.* and prepares what the threads share. NULL with the
 * reason logged. oc and stop must outlive the group; stop may be NULL.
 */
struct vf_output_group *vf_output_group_create(const struct vf_config_output *oc,
	const atomic_int *stop);
/* A new output for the calling thread; NULL with the reason logged. */
struct vf_output *vf_output_open(struct vf_output_group *g);
struct vf_output_counters *vf_output_group_counters(struct vf_output_group *g);
/* After every output opened from it is destroyed. */
void vf_output_group_destroy(struct vf_output_group *g);

static inline bool vf_output_write(struct vf_output *o, const char *msg,
	size_t len, const char *key, size_t keylen)
{
	return o->ops->write(o, msg, len, key, keylen);
}

static inline bool vf_output_flush(struct vf_output *o)
{
	return o->ops->flush(o);
}

static inline uint64_t vf_output_acked(struct vf_output *o)
{
	o->ops->poll(o);
	return o->acked;
}

/*
 * Flushes and waits until o->acked reaches ticket. Gives up when
 * timeout_ms passes (0: no limit) or, if honour_stop, when *stop is set.
 * True when everything up to ticket is settled.
 */
bool vf_output_wait(struct vf_output *o, uint64_t ticket, uint64_t timeout_ms,
	bool honour_stop);

void vf_output_destroy(struct vf_output *o);

/*
 * Standalone outputs (replay and the tests): newline-terminated documents
 * to fd in large writes (fd is not closed), or encode-and-discard.
 */
struct vf_output *vf_output_stdout_create(int fd);
struct vf_output *vf_output_null_create(void);

#endif
