/*
 * The pipeline of one worker: decode -> encode -> output. Single-threaded;
 * the worker that owns it feeds it records.
 */
#ifndef VPCFLOWD_PIPELINE_H
#define VPCFLOWD_PIPELINE_H

#include "vpcflowd/decoder.h"
#include "vpcflowd/enrich.h"
#include "vpcflowd/gelf.h"
#include "vpcflowd/output.h"
#include "vpcflowd/stats.h"

#define VF_GELF_MAX_MESSAGE (1u << 20)

struct vf_pipeline {
	struct vf_decoder *dec;
	struct vf_gelf gelf;
	struct vf_buf msg;          /* the document being encoded, reused */
	struct vf_output *out;      /* not owned */
	struct vf_enrich_reader *enrich;   /* NULL: no enrichment */
	struct vf_stats stats;
	bool output_failed;
};

/*
 * dopts supplies formats and limits (its sink fields are set here); enrich
 * (NULL: none) and the output must outlive the pipeline. False when host
 * is invalid or memory runs out (nothing is left to finish then).
 */
bool vf_pipeline_init(struct vf_pipeline *pl, struct vf_decoder_opts dopts,
	const char *host, struct vf_enrich *enrich, struct vf_output *out);
void vf_pipeline_finish(struct vf_pipeline *pl);

struct vf_config;

/*
 * The decoder's table of per-log-group formats (flow_logs.log_groups),
 * pointing into cfg: free() it, keep cfg alive while it is used. NULL when
 * there are none; exits when memory runs out.
 */
struct vf_group_format *vf_pipeline_group_formats(const struct vf_config *cfg);

#endif
