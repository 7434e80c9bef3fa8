/*
 * What the outputs share inside src/output: the group, and the
 * constructor of each output type.
 */
#ifndef VPCFLOWD_OUTPUT_INTERNAL_H
#define VPCFLOWD_OUTPUT_INTERNAL_H

#include <pthread.h>

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
