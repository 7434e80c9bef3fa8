/*
 * Prometheus /metrics and /healthz (libmicrohttpd, one thread of its
 * own). Everything is read from counters the pipeline already keeps
 * (atomics); a scrape never takes a lock a worker waits on.
 */
#ifndef VPCFLOWD_METRICS_H
#define VPCFLOWD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpcflowd/buf.h"
#include "vpcflowd/consumer.h"
#include "vpcflowd/enrich.h"
#include "vpcflowd/lease.h"
#include "vpcflowd/output.h"

struct vf_metrics_sources {
	struct vf_consumer_totals *consumer;
	struct vf_output_counters *output;
	const char *output_name;          /* the {output} label: "gelf_tcp" */
	struct vf_enrich *enrich;         /* NULL: none */
	struct vf_leases *leases;         /* NULL: no lease table */
	uint64_t budget_ms;               /* output.retry_budget */
	uint64_t start_unix_s;            /* process start, for process_start_time_seconds */
};

/* The exposition text (format 0.0.4). False when memory runs out. */
bool vf_metrics_render(const struct vf_metrics_sources *s, struct vf_buf *out);

/*
 * Healthy while the pipeline can make progress: false (with the reason)
 * once the output has been down for budget_ms, or once shards are being
 * read and none has had a GetRecords answered for budget_ms, or when the
 * stream has not been listed budget_ms after the start.
 */
bool vf_metrics_healthy(const struct vf_metrics_sources *s, char *why,
	size_t whylen);

struct vf_metrics_server;

/*
 * Serves GET /metrics and /healthz on listen ("host:port", "[v6]:port").
 * s must outlive the server. NULL with err set when it cannot listen.
 */
struct vf_metrics_server *vf_metrics_server_start(const char *listen,
	const struct vf_metrics_sources *s, char *err, size_t errlen);
void vf_metrics_server_stop(struct vf_metrics_server *m);

#endif
