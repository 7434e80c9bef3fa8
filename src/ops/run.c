/*
 * vpcflowd run: the daemon.
 */
#include "vpcflowd/run.h"

#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vpcflowd/clock.h"
#include "vpcflowd/config.h"
#include "vpcflowd/consumer.h"
#include "vpcflowd/http.h"
#include "vpcflowd/lease.h"
#include "vpcflowd/log.h"
#include "vpcflowd/metrics.h"
#include "vpcflowd/enrich.h"
#include "vpcflowd/pipeline.h"

static atomic_int stop_requested;   /* set by SIGTERM/SIGINT */
static atomic_int reload_requested; /* set by SIGHUP (enrichment tables) */

/* checkpoint.store: dynamodb: the lease table and its thread. */
static struct vf_leases *start_leases(const struct vf_config *cfg,
	struct vf_aws_creds_provider *creds, char *worker, size_t size)
{
	static const char *const initial[] = {
		[VF_CONFIG_START_TRIM_HORIZON] = VF_LEASE_TRIM_HORIZON,
		[VF_CONFIG_START_LATEST] = VF_LEASE_LATEST,
		[VF_CONFIG_START_AT_TIMESTAMP] = VF_LEASE_AT_TIMESTAMP,
	};
	struct vf_leases *l;
	char host[256] = "", err[512];

	if (cfg->checkpoint.worker_id != NULL) {
		snprintf(worker, size, "%s", cfg->checkpoint.worker_id);
	} else {
		if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "vpcflowd");
		/* containers on one host may share its name and all be pid 1:
		   a random part keeps two processes from one owner name */
		snprintf(worker, size, "%s-%ld-%04x", host, (long)getpid(),
			(unsigned)(vf_now_ms() ^ (uint64_t)clock() ^
			((uint64_t)(uintptr_t)&host >> 4)) & 0xffff);
	}
	struct vf_leases_opts lo = {
		.table = cfg->checkpoint.table,
		.endpoint = cfg->checkpoint.endpoint,
		.region = cfg->aws.region,
		.creds = creds,
		.worker_id = worker,
		.failover_ms = cfg->checkpoint.failover_ms,
		.initial = initial[cfg->kinesis.start_position],
		.pinned = cfg->kinesis.shards,
		.n_pinned = cfg->kinesis.n_shards,
		.stop = &stop_requested,
	};
	l = vf_leases_create(&lo, err, sizeof(err));
	if (l == NULL && !atomic_load(&stop_requested))
		log_errorx("lease table %s: %s", cfg->checkpoint.table, err);
	return l;
}

int vf_run_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct vf_config cfg;
	struct vf_aws_creds_provider *creds = NULL;
	struct vf_checkpoint_store *store = NULL;
	struct vf_leases *leases = NULL;
	struct vf_metrics_server *metrics = NULL;
	struct vf_consumer_totals totals;
	struct vf_metrics_sources ms;
	char worker[VF_WORKER_ID_MAX];
	struct vf_output_group *outputs = NULL;
	struct vf_enrich *enrich = NULL;
	struct vf_group_format *groups = NULL;
	char err[512];
	int c, rc = 2;

	vf_config_init(&cfg);
	vf_consumer_totals_init(&totals);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (c != 'c') {
			fprintf(stderr, "usage: vpcflowd run -c FILE\n");
			goto done;
		}
		path = optarg;
	}
	if (path == NULL || optind != argc) {
		fprintf(stderr, "usage: vpcflowd run -c FILE\n");
		goto done;
	}
	if (!vf_config_load(&cfg, path, err, sizeof(err))) {
		fprintf(stderr, "vpcflowd: %s\n", err);
		goto done;
	}
	log_init(cfg.log.level, cfg.log.format == VF_CONFIG_LOG_JSON);
	if (cfg.kinesis.stream == NULL || cfg.kinesis.stream[0] == '\0') {
		fprintf(stderr, "vpcflowd: %s: kinesis.stream: required by "
			"vpcflowd run\n", path);
		goto done;
	}
	if (cfg.aws.region == NULL || cfg.aws.region[0] == '\0') {
		fprintf(stderr, "vpcflowd: %s: aws.region: required (or set "
			"AWS_REGION)\n", path);
		goto done;
	}
	rc = 1;
	if (!vf_http_global_init()) {
		log_errorx("libcurl failed to initialise");
		goto done;
	}
	struct vf_aws_creds_opts co = {
		.profile = cfg.aws.profile,
		.region = cfg.aws.region,
		.role_arn = cfg.aws.role_arn,
		.external_id = cfg.aws.external_id,
	};
	creds = vf_aws_creds_create(&co, err, sizeof(err));
	if (creds == NULL) {
		log_errorx("credentials: %s", err);
		goto done;
	}
	vf_stop_on_signals(&stop_requested);
	if (cfg.checkpoint.store == VF_CONFIG_CHECKPOINT_DYNAMODB) {
		leases = start_leases(&cfg, creds, worker, sizeof(worker));
		if (leases == NULL) {
			if (atomic_load(&stop_requested))
				rc = 0;   /* stopped while waiting for the table */
			goto done;
		}
	} else {
		store = vf_checkpoint_file_create(cfg.checkpoint.path,
			cfg.kinesis.stream, err, sizeof(err));
		if (store == NULL) {
			log_errorx("%s", err);
			goto done;
		}
	}
	outputs = vf_output_group_create(&cfg.output, &stop_requested);
	if (outputs == NULL) {
		rc = 2;
		goto done;
	}
	groups = vf_pipeline_group_formats(&cfg);

	vf_flag_on_sighup(&reload_requested);
	struct vf_enrich_opts eo = {
		.cfg = &cfg,
		.creds = creds,
		.stop = &stop_requested,
		.reload = &reload_requested,
	};
	enrich = vf_enrich_create(&eo, err, sizeof(err));
	if (enrich == NULL) {
		log_errorx("enrich: %s", err);
		rc = 2;
		goto done;
	}

	struct vf_consumer_opts o = {
		.cfg = &cfg,
		.creds = creds,
		.store = store,
		.leases = leases,
		.outputs = outputs,
		.enrich = enrich,
		.dopts = {
			.default_format = cfg.flow_logs.fmt,
			.groups = groups,
			.n_groups = groups ? cfg.flow_logs.n_log_groups : 0,
			.max_record_size = cfg.limits.max_record_size,
		},
		.stop = &stop_requested,
	};
	if (leases != NULL)
		log_info("vpcflowd %s: reading stream %s as worker %s, leases "
			"in table %s", VPCFLOWD_VERSION, cfg.kinesis.stream,
			worker, cfg.checkpoint.table);
	else
		log_info("vpcflowd %s: reading stream %s", VPCFLOWD_VERSION,
			cfg.kinesis.stream);
	ms = (struct vf_metrics_sources){
		.consumer = &totals,
		.output = vf_output_group_counters(outputs),
		.output_name = vf_config_output_type_name(cfg.output.type),
		.enrich = enrich,
		.leases = leases,
		.budget_ms = cfg.output.retry_budget_ms,
		.start_unix_s = (uint64_t)time(NULL),
	};
	if (cfg.metrics.listen != NULL && cfg.metrics.listen[0] != '\0') {
		metrics = vf_metrics_server_start(cfg.metrics.listen, &ms, err,
			sizeof(err));
		if (metrics == NULL) {
			log_errorx("%s", err);
			rc = 2;
			goto done;
		}
		log_info("metrics on http://%s/metrics and /healthz",
			cfg.metrics.listen);
	}
	rc = vf_consumer_run(&o, &totals);
	log_info("stopped%s", rc ? " after an error" : "");
done:
	vf_metrics_server_stop(metrics);
	vf_leases_destroy(leases);
	vf_enrich_destroy(enrich);
	vf_output_group_destroy(outputs);
	vf_checkpoint_destroy(store);
	vf_aws_creds_destroy(creds);
	free(groups);
	vf_config_finish(&cfg);
	vf_consumer_totals_finish(&totals);
	return rc;
}
