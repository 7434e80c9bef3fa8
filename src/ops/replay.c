/*
 * vpcflowd replay: the decode -> encode -> output pipeline on local inputs.
 */
#include "vpcflowd/replay.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vpcflowd/clock.h"
#include "vpcflowd/config.h"
#include "vpcflowd/log.h"
#include "vpcflowd/pipeline.h"

/* Replay inputs are local files: one gzip member or document may be large. */
#define REPLAY_MAX_RECORD ((size_t)1 << 30)

static void usage(FILE *out)
{
	fprintf(out,
"usage: vpcflowd replay [-c FILE] [--format FMT] [--log-group NAME]\n"
"                       [-o stdout|null|config] [--no-enrich] INPUT...\n"
"  INPUT is a file or - for stdin: gzip or plain; CloudWatch Logs\n"
"  subscription documents, KPL-aggregated records, or raw flow log lines.\n"
"  --no-enrich leaves out the enrich section's fields (for comparisons).\n");
}

/* An input's bytes: mapped when it is a regular file, read otherwise. */
struct input {
	uint8_t *data;
	size_t len;
	bool mapped;
};

static bool read_input(const char *path, struct input *in)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY);
	struct stat st;
	size_t cap = 0;

	memset(in, 0, sizeof(*in));
	if (fd < 0) {
		log_warn("%s", path);
		return false;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			fd, 0);
		if (p != MAP_FAILED) {
			madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
			in->data = p;
			in->len = (size_t)st.st_size;
			in->mapped = true;
			if (fd != STDIN_FILENO)
				close(fd);
			return true;
		}
	}
	for (;;) {
		ssize_t r;

		if (in->len == cap) {
			uint8_t *p;
			cap = cap ? cap * 2 : 1 << 20;
			p = realloc(in->data, cap);
			if (p == NULL) {
				log_warnx("%s: out of memory", path);
				goto fail;
			}
			in->data = p;
		}
		r = read(fd, in->data + in->len, cap - in->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_warn("%s", path);
			goto fail;
		}
		if (r == 0)
			break;
		in->len += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return true;
fail:
	if (fd != STDIN_FILENO)
		close(fd);
	free(in->data);
	in->data = NULL;
	return false;
}

static void free_input(struct input *in)
{
	if (in->mapped)
		munmap(in->data, in->len);
	else
		free(in->data);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum out_choice { OUT_DEFAULT, OUT_STDOUT, OUT_NULL, OUT_CONFIG };

static atomic_int replay_stop;   /* set by SIGTERM/SIGINT */

int vf_replay_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "log-group", required_argument, NULL, 'g' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-enrich", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *format_text = NULL, *log_group = NULL;
	enum out_choice out_choice = OUT_DEFAULT;
	struct vf_config cfg;
	struct vf_format *format = NULL;
	struct vf_group_format *groups = NULL;
	struct vf_output_group *outputs = NULL;
	struct vf_output *out = NULL;
	struct vf_enrich *enrich = NULL;
	bool no_enrich = false;
	struct vf_pipeline pl;
	bool pl_ready = false;
	char err[512];
	int c, rc = 2;
	double t0, secs;

	vf_config_init(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:f:g:o:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			format_text = optarg;
			break;
		case 'g':
			log_group = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "stdout") == 0) {
				out_choice = OUT_STDOUT;
			} else if (strcmp(optarg, "null") == 0) {
				out_choice = OUT_NULL;
			} else if (strcmp(optarg, "config") == 0) {
				out_choice = OUT_CONFIG;
			} else {
				fprintf(stderr, "vpcflowd replay: -o takes stdout, "
					"null or config, not '%s'\n", optarg);
				goto done;
			}
			break;
		case 'n':
			no_enrich = true;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto done;
		default:
			usage(stderr);
			goto done;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vpcflowd replay: no input given\n");
		usage(stderr);
		goto done;
	}
	if (config_path != NULL) {
		if (!vf_config_load(&cfg, config_path, err, sizeof(err))) {
			fprintf(stderr, "vpcflowd: %s\n", err);
			goto done;
		}
		log_init(cfg.log.level, cfg.log.format == VF_CONFIG_LOG_JSON);
	} else if (out_choice == OUT_CONFIG) {
		fprintf(stderr, "vpcflowd replay: -o config needs -c FILE\n");
		goto done;
	}
	if (format_text != NULL) {
		format = vf_format_create(format_text, strlen(format_text), err,
			sizeof(err));
		if (format == NULL) {
			fprintf(stderr, "vpcflowd replay: --format: %s\n", err);
			goto done;
		}
	}
	groups = vf_pipeline_group_formats(&cfg);
	if (out_choice == OUT_NULL)
		cfg.output.type = VF_CONFIG_OUTPUT_NULL;
	else if (out_choice == OUT_STDOUT)
		cfg.output.type = VF_CONFIG_OUTPUT_STDOUT;
	vf_stop_on_signals(&replay_stop);
	if (!no_enrich) {
		struct vf_enrich_opts eo = { .cfg = &cfg, .stop = &replay_stop };

		enrich = vf_enrich_create(&eo, err, sizeof(err));
		if (enrich == NULL) {
			fprintf(stderr, "vpcflowd replay: %s\n", err);
			goto done;
		}
	}
	outputs = vf_output_group_create(&cfg.output, &replay_stop);
	if (outputs == NULL)
		goto done;
	out = vf_output_open(outputs);
	if (out == NULL)
		goto done;

	struct vf_decoder_opts dopts = {
		.format = format,
		.default_format = cfg.flow_logs.fmt,
		.groups = groups,
		.n_groups = groups ? cfg.flow_logs.n_log_groups : 0,
		.raw_log_group = log_group,
		.max_record_size = cfg.limits.max_record_size > REPLAY_MAX_RECORD ?
			cfg.limits.max_record_size : REPLAY_MAX_RECORD,
	};
	if (!vf_pipeline_init(&pl, dopts, cfg.output.source, enrich, out)) {
		fprintf(stderr, "vpcflowd replay: output.source must be 1 to %d "
			"bytes (or out of memory)\n", VF_GELF_HOST_MAX);
		goto done;
	}
	pl_ready = true;

	rc = 0;
	t0 = now_seconds();
	for (int i = optind; i < argc && rc == 0; i++) {
		struct input in;
		struct vf_record_meta rm = { .origin = argv[i] };

		if (!read_input(argv[i], &in)) {
			rc = 1;
			break;
		}
		vf_decoder_input_begin(pl.dec);
		if (!vf_decoder_record(pl.dec, in.data, in.len, &rm))
			rc = 1;
		free_input(&in);
	}
	/* a network output: wait until everything is acknowledged */
	if (!vf_output_wait(out, out->written, 0, true)) {
		log_errorx("%llu messages not delivered",
			(unsigned long long)(out->written - out->acked));
		rc = 1;
	}
	if (pl.output_failed)
		log_errorx("the output failed: stopped");
	secs = now_seconds() - t0;
	fprintf(stderr, "records=%llu flows=%llu errors=%llu seconds=%.3f "
		"flows_per_second=%.0f\n",
		(unsigned long long)pl.stats.records,
		(unsigned long long)pl.stats.flows,
		(unsigned long long)vf_stats_errors(&pl.stats), secs,
		secs > 0 ? (double)pl.stats.flows / secs : 0.0);
	for (int k = 0; k < VF_ERR_COUNT; k++) {
		if (pl.stats.errors[k])
			log_info("%llu %s errors",
				(unsigned long long)pl.stats.errors[k],
				vf_error_kind_name(k));
	}
	if (pl.stats.unenriched)
		log_warnx("%llu flows sent without enrichment: its fields "
			"passed the message size cap",
			(unsigned long long)pl.stats.unenriched);
	if (pl.stats.control_messages)
		log_info("%llu control messages skipped",
			(unsigned long long)pl.stats.control_messages);
done:
	if (pl_ready)
		vf_pipeline_finish(&pl);
	vf_output_destroy(out);
	vf_output_group_destroy(outputs);
	vf_enrich_destroy(enrich);
	free(groups);
	vf_format_destroy(format);
	vf_config_finish(&cfg);
	return rc;
}
