#include "vpcflowd/pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "vpcflowd/config.h"
#include "vpcflowd/log.h"

static enum vf_log_status_kind status_kind(const struct vf_flow *flow)
{
	const struct vf_sv *s = vf_flow_get(flow, VF_F_LOG_STATUS);

	if (s == NULL)
		return VF_STATUS_OTHER;
	if (s->n == 2 && memcmp(s->p, "OK", 2) == 0)
		return VF_STATUS_OK;
	if (s->n == 6 && memcmp(s->p, "NODATA", 6) == 0)
		return VF_STATUS_NODATA;
	if (s->n == 8 && memcmp(s->p, "SKIPDATA", 8) == 0)
		return VF_STATUS_SKIPDATA;
	return VF_STATUS_OTHER;
}

static bool sink(void *ctx, const struct vf_flow *flow,
	const struct vf_flow_meta *meta)
{
	struct vf_pipeline *pl = ctx;
	const struct vf_sv *key;

	vf_buf_reset(&pl->msg);
	if (!vf_gelf_encode_open(&pl->gelf, &pl->msg, flow, meta)) {
		pl->stats.errors[VF_ERR_ENCODE]++;
		return true;
	}
	/* a flow whose enrichment does not fit goes without it (counted) */
	if (pl->enrich != NULL && !vf_enrich_flow(pl->enrich, flow, &pl->msg))
		pl->stats.unenriched++;
	if (!vf_buf_append(&pl->msg, "}", 1)) {
		pl->stats.errors[VF_ERR_ENCODE]++;
		return true;
	}
	/* Kafka's key: one interface's flows stay in one partition, in order */
	key = vf_flow_get(flow, VF_F_INTERFACE_ID);
	if (!vf_output_write(pl->out, pl->msg.data, pl->msg.len,
	    key ? key->p : NULL, key ? key->n : 0)) {
		pl->output_failed = true;
		return false;
	}
	pl->stats.flows++;
	pl->stats.flows_by_status[status_kind(flow)]++;
	return true;
}

bool vf_pipeline_init(struct vf_pipeline *pl, struct vf_decoder_opts dopts,
	const char *host, struct vf_enrich *enrich, struct vf_output *out)
{
	memset(pl, 0, sizeof(*pl));
	vf_buf_init(&pl->msg, VF_GELF_MAX_MESSAGE);
	if (!vf_gelf_init(&pl->gelf, host))
		return false;
	if (enrich != NULL &&
	    (pl->enrich = vf_enrich_reader_create(enrich)) == NULL)
		goto fail;
	pl->out = out;
	dopts.sink = sink;
	dopts.sink_ctx = pl;
	dopts.stats = &pl->stats;
	pl->dec = vf_decoder_create(&dopts);
	if (pl->dec != NULL)
		return true;
fail:
	vf_pipeline_finish(pl);
	return false;
}

void vf_pipeline_finish(struct vf_pipeline *pl)
{
	vf_decoder_destroy(pl->dec);
	vf_enrich_reader_destroy(pl->enrich);
	vf_buf_finish(&pl->msg);
	pl->dec = NULL;
	pl->enrich = NULL;
}

struct vf_group_format *vf_pipeline_group_formats(const struct vf_config *cfg)
{
	const struct vf_config_flow_logs *fl = &cfg->flow_logs;
	struct vf_group_format *groups;

	if (fl->n_log_groups == 0)
		return NULL;
	groups = calloc(fl->n_log_groups, sizeof(*groups));
	if (groups == NULL)
		fatalx("out of memory");
	for (size_t i = 0; i < fl->n_log_groups; i++) {
		groups[i].log_group = fl->log_groups[i].name;
		groups[i].format = fl->log_groups[i].fmt;
	}
	return groups;
}
