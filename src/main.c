/*
 * vpcflowd: AWS VPC Flow Logs from Kinesis to Graylog, enriched.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpcflowd/config.h"
#include "vpcflowd/log.h"
#include "vpcflowd/replay.h"
#include "vpcflowd/run.h"

static void usage(FILE *out)
{
	fprintf(out,
"usage: vpcflowd [run] -c FILE            consume Kinesis, enrich, ship\n"
"       vpcflowd replay [-c FILE] [--format FMT] [--log-group NAME]\n"
"                       [-o stdout|null|config] INPUT...\n"
"       vpcflowd check-config -c FILE     validate and print the config\n"
"       vpcflowd --version | --help\n");
}

static int check_config_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct vf_config cfg;
	char err[512];
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (c != 'c') {
			usage(stderr);
			return 2;
		}
		path = optarg;
	}
	if (path == NULL || optind != argc) {
		fprintf(stderr, "vpcflowd check-config: -c FILE is required\n");
		return 2;
	}
	vf_config_init(&cfg);
	if (vf_config_load(&cfg, path, err, sizeof(err))) {
		vf_config_print(&cfg, stdout);
		fprintf(stderr, "configuration OK\n");
		rc = 0;
	} else {
		fprintf(stderr, "vpcflowd: %s\n", err);
		rc = 2;
	}
	vf_config_finish(&cfg);
	return rc;
}

int main(int argc, char **argv)
{
	log_init(LOG_LEVEL_INFO, false);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("vpcflowd %s\n", VPCFLOWD_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "replay") == 0)
		return vf_replay_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "check-config") == 0)
		return check_config_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return vf_run_main(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return vf_run_main(argc, argv);
	fprintf(stderr, "vpcflowd: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
