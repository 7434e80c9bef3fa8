/*
 * What the outputs share inside src/output: the group, and the
 * constructor of each output type.
 */
#ifndef VPCFLOWD_OUTPUT_INTERNAL_H
#define VPCFLOWD_OUTPUT_INTERNAL_H

#include <pthread.h>

#include "vpcflowd/clock.h"
#include "vpcflowd/config.h"
#include "vpcflowd/output.h"

struct ssl_ctx_st;
struct vf_kafka;

struct vf_output_group {
	const struct vf_config_output *oc;
	const atomic_int *stop;
	struct vf_output_counters counters;
	pthread_mutex_t fd_mu;          /* stdout: one writer of whole lines at a time */
	struct ssl_ctx_st *tls;         /* gelf_tcp with output.tls.enabled */
	struct vf_kafka *kafka;         /* kafka: the one producer */
};

/* Sets the fields of base for an output that counts into counters. */
void vf_output_base_init(struct vf_output *o, const struct vf_output_ops *ops,
	const char *name, const atomic_int *stop,
	struct vf_output_counters *counters);

static inline bool vf_output_stopping(const struct vf_output *o)
{
	return o->stop != NULL &&
		atomic_load_explicit(o->stop, memory_order_relaxed) != 0;
}

/* Sleeps up to ms, waking early when *stop is set (if honour_stop). */
static inline void vf_output_nap(const struct vf_output *o, uint64_t ms,
	bool honour_stop)
{
	vf_nap(honour_stop ? o->stop : NULL, ms);
}

/*
 * Marks one unit counted in c (an output, or the shared Kafka producer)
 * down or up; *down is its state. The group is down from the moment the
 * first unit goes down until the last comes back. Returns how long the
 * group was down, in ms, when this call brings it back up; else 0.
 */
uint64_t vf_output_counters_set_down(struct vf_output_counters *c,
	atomic_bool *down, bool now_down);

static inline void vf_output_set_down(struct vf_output *o, bool down)
{
	vf_output_counters_set_down(o->counters, &o->down, down);
}

/* Each returns NULL with the reason logged. */
struct vf_output *vf_output_udp_create(struct vf_output_group *g);
struct vf_output *vf_output_tcp_create(struct vf_output_group *g);
struct vf_output *vf_output_http_create(struct vf_output_group *g);
struct vf_output *vf_output_kafka_create(struct vf_output_group *g);
struct vf_output *vf_output_stdout_open(struct vf_output_group *g, int fd);

/* gelf_tcp TLS: the client context from output.tls (tls.c). */
struct ssl_ctx_st *vf_tls_client_ctx(const struct vf_config_tls *tc);

/* kafka.c: the shared producer, made and freed with the group. */
struct vf_kafka *vf_kafka_create(const struct vf_config_output *oc,
	const atomic_int *stop, struct vf_output_counters *counters);
void vf_kafka_destroy(struct vf_kafka *k);

#endif
