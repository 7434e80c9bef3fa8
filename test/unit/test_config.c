#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpcflowd/config.h"
#include "vpcflowd/flow.h"

/* Every key of the interface's example, with real values. */
static const char full_yaml[] =
	"aws:\n"
	"  region: eu-west-1\n"
	"  profile: default\n"
	"  role_arn: arn:aws:iam::123456789012:role/flow-reader\n"
	"  external_id: \"ext-SECRET-4711\"\n"
	"\n"
	"kinesis:\n"
	"  stream: vpc-flow-logs\n"
	"  endpoint: http://127.0.0.1:4567\n"
	"  start_position: at_timestamp\n"
	"  start_timestamp: 2026-11-20T00:00:00Z\n"
	"  shards: [shardId-000000000000, shardId-000000000001]\n"
	"  max_records: 5000\n"
	"  poll_interval: 250ms\n"
	"\n"
	"checkpoint:\n"
	"  store: dynamodb\n"
	"  path: /var/lib/vpcflowd\n"
	"  table: vpcflowd-vpc-flow-logs\n"
	"  endpoint: http://127.0.0.1:8000\n"
	"  interval: 5s\n"
	"  worker_id: host-1\n"
	"  failover: 20s\n"
	"\n"
	"flow_logs:\n"
	"  format: \"${version} ${account-id} ${interface-id} ${srcaddr} "
	"${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} "
	"${start} ${end} ${action} ${log-status}\"\n"
	"  log_groups:\n"
	"    - name: /vpc/prod\n"
	"      format: ${version} ${vpc-id} ${srcaddr} ${dstaddr} ${tcp-flags}\n"
	"    - name: /vpc/dev\n"
	"  discover_formats: true\n"
	"\n"
	"enrich:\n"
	"  internal_networks: [10.0.0.0/8, 192.168.0.0/16, fc00::/7, "
	"203.0.113.7]\n"
	"  geoip:\n"
	"    city_db: /usr/share/GeoIP/GeoLite2-City.mmdb\n"
	"    asn_db: /usr/share/GeoIP/GeoLite2-ASN.mmdb\n"
	"    paths:\n"
	"      country_code: country.iso_code\n"
	"      city_name: city.names.de\n"
	"      latitude: location.latitude\n"
	"      longitude: location.longitude\n"
	"      as_number: autonomous_system_number\n"
	"      as_organization: autonomous_system_organization\n"
	"  threat_lists:\n"
	"    - name: spamhaus\n"
	"      url: https://www.spamhaus.org/drop/drop.txt\n"
	"      format: spamhaus\n"
	"      refresh: 4h\n"
	"    - name: local_csv\n"
	"      path: /etc/vpcflowd/bad.csv\n"
	"      format: csv\n"
	"      column: 3\n"
	"      refresh: 30m\n"
	"  aws_entities:\n"
	"    enabled: true\n"
	"    regions: [us-east-1, eu-west-1]\n"
	"    endpoint: http://127.0.0.1:9000\n"
	"    refresh: 2m\n"
	"\n"
	"output:\n"
	"  type: gelf_udp\n"
	"  host: graylog.example.com\n"
	"  port: 12202\n"
	"  url: http://127.0.0.1:12202/gelf\n"
	"  compression: gzip\n"
	"  chunk_size: 8154\n"
	"  tls:\n"
	"    enabled: true\n"
	"    ca_file: /etc/ssl/certs/ca.pem\n"
	"    cert_file: /etc/vpcflowd/client.pem\n"
	"    key_file: /etc/vpcflowd/client.key\n"
	"    verify: false\n"
	"  source: flows-prod\n"
	"  kafka:\n"
	"    brokers: 127.0.0.1:9092\n"
	"    topic: vpc-flows\n"
	"    properties:\n"
	"      compression.type: lz4\n"
	"      linger.ms: 5\n"
	"\n"
	"dead_letter:\n"
	"  path: /var/lib/vpcflowd/dead-letter.jsonl\n"
	"  max_size: 128MiB\n"
	"\n"
	"limits:\n"
	"  max_record_size: 8MiB\n"
	"\n"
	"metrics:\n"
	"  listen: 0.0.0.0:9200\n"
	"\n"
	"log:\n"
	"  level: debug\n"
	"  format: json\n";

static bool load(struct vf_config *cfg, const char *yaml, char *err,
	size_t errlen)
{
	vf_config_init(cfg);
	return vf_config_load_string(cfg, "test.yml", yaml, strlen(yaml),
		err, errlen);
}

/* Loads yaml over what cfg holds. */
static bool load_more(struct vf_config *cfg, const char *name,
	const char *yaml, char *err, size_t errlen)
{
	return vf_config_load_string(cfg, name, yaml, strlen(yaml), err, errlen);
}

/* Loads yaml expecting failure with each of the pieces in err. */
static void expect_error(const char *yaml, const char *prefix,
	const char *piece)
{
	struct vf_config cfg;
	char err[1024];

	if (load(&cfg, yaml, err, sizeof(err)))
		fail_msg("loaded, but expected \"%s\" for:\n%s", prefix, yaml);
	vf_config_finish(&cfg);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
	if (piece != NULL && strstr(err, piece) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, piece);
	if (strchr(err, '\n') != NULL)
		fail_msg("error \"%s\" is more than one line", err);
}

static char *print_to_string(const struct vf_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	vf_config_print(cfg, f);
	fclose(f);
	return text;
}

static void test_defaults(void **state)
{
	struct vf_config cfg;
	char ip[INET6_ADDRSTRLEN];

	(void)state;
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	vf_config_init(&cfg);
	assert_null(cfg.aws.region);
	assert_null(cfg.aws.external_id);
	assert_null(cfg.kinesis.stream);
	assert_int_equal(cfg.kinesis.start_position,
		VF_CONFIG_START_TRIM_HORIZON);
	assert_int_equal(cfg.kinesis.n_shards, 0);
	assert_int_equal(cfg.kinesis.max_records, 10000);
	assert_int_equal(cfg.kinesis.poll_interval_ms, 1000);
	assert_int_equal(cfg.checkpoint.store, VF_CONFIG_CHECKPOINT_FILE);
	assert_string_equal(cfg.checkpoint.path, "/var/lib/vpcflowd");
	assert_null(cfg.checkpoint.table);
	assert_null(cfg.checkpoint.worker_id);
	assert_int_equal(cfg.checkpoint.interval_ms, 10000);
	assert_int_equal(cfg.checkpoint.failover_ms, 10000);
	assert_null(cfg.flow_logs.format);
	assert_null(cfg.flow_logs.fmt);
	assert_int_equal(cfg.flow_logs.n_log_groups, 0);
	assert_false(cfg.flow_logs.discover_formats);

	assert_int_equal(cfg.enrich.n_internal_networks, 5);
	assert_string_equal(cfg.enrich.internal_networks[0].text, "10.0.0.0/8");
	assert_int_equal(cfg.enrich.internal_networks[0].family, AF_INET);
	assert_int_equal(cfg.enrich.internal_networks[0].prefix, 8);
	assert_int_equal(cfg.enrich.internal_networks[0].addr[0], 10);
	assert_string_equal(cfg.enrich.internal_networks[1].text,
		"172.16.0.0/12");
	assert_int_equal(cfg.enrich.internal_networks[2].prefix, 16);
	assert_string_equal(cfg.enrich.internal_networks[3].text,
		"100.64.0.0/10");
	assert_int_equal(cfg.enrich.internal_networks[4].family, AF_INET6);
	assert_int_equal(cfg.enrich.internal_networks[4].prefix, 7);
	inet_ntop(AF_INET6, cfg.enrich.internal_networks[4].addr, ip, sizeof(ip));
	assert_string_equal(ip, "fc00::");

	assert_null(cfg.enrich.geoip.city_db);
	assert_null(cfg.enrich.geoip.asn_db);
	assert_string_equal(cfg.enrich.geoip.paths.country_code,
		"country.iso_code");
	assert_string_equal(cfg.enrich.geoip.paths.city_name, "city.names.en");
	assert_string_equal(cfg.enrich.geoip.paths.latitude,
		"location.latitude");
	assert_string_equal(cfg.enrich.geoip.paths.longitude,
		"location.longitude");
	assert_string_equal(cfg.enrich.geoip.paths.as_number,
		"autonomous_system_number");
	assert_string_equal(cfg.enrich.geoip.paths.as_organization,
		"autonomous_system_organization");
	assert_int_equal(cfg.enrich.n_threat_lists, 0);
	assert_false(cfg.enrich.aws_entities.enabled);
	assert_int_equal(cfg.enrich.aws_entities.n_regions, 0);
	assert_int_equal(cfg.enrich.aws_entities.refresh_ms, 60000);

	assert_int_equal(cfg.output.type, VF_CONFIG_OUTPUT_STDOUT);
	assert_string_equal(cfg.output.host, "127.0.0.1");
	assert_int_equal(cfg.output.port, 12201);
	assert_null(cfg.output.url);
	assert_int_equal(cfg.output.compression, VF_CONFIG_COMPRESSION_NONE);
	assert_int_equal(cfg.output.chunk_size, 1420);
	assert_false(cfg.output.tls.enabled);
	assert_true(cfg.output.tls.verify);
	assert_string_equal(cfg.output.source, "aws-flowlogs");
	assert_null(cfg.output.kafka.brokers);
	assert_int_equal(cfg.output.kafka.n_properties, 0);
	assert_null(cfg.dead_letter.path);
	assert_int_equal(cfg.dead_letter.max_size, 64ULL << 20);
	assert_int_equal(cfg.limits.max_record_size, 16ULL << 20);
	assert_string_equal(cfg.metrics.listen, "127.0.0.1:9108");
	assert_int_equal(cfg.log.level, LOG_LEVEL_INFO);
	assert_int_equal(cfg.log.format, VF_CONFIG_LOG_TEXT);
	vf_config_finish(&cfg);
}

static void test_region_from_env(void **state)
{
	struct vf_config cfg;

	(void)state;
	unsetenv("AWS_REGION");
	setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
	vf_config_init(&cfg);
	assert_string_equal(cfg.aws.region, "ap-south-1");
	vf_config_finish(&cfg);
	setenv("AWS_REGION", "eu-central-1", 1);
	vf_config_init(&cfg);
	assert_string_equal(cfg.aws.region, "eu-central-1");
	/* the file wins over the environment */
	assert_true(load_more(&cfg, "t", "aws: {region: us-west-2}", NULL, 0));
	assert_string_equal(cfg.aws.region, "us-west-2");
	vf_config_finish(&cfg);
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
}

static void test_empty_files(void **state)
{
	static const char *const docs[] = {
		"", "\n\n", "# only a comment\n  # another\n", "---\n", "~\n",
		"aws:\nkinesis: {}\noutput:\n",
	};
	struct vf_config cfg;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		if (!load(&cfg, docs[i], err, sizeof(err)))
			fail_msg("\"%s\": %s", docs[i], err);
		assert_int_equal(cfg.output.type, VF_CONFIG_OUTPUT_STDOUT);
		assert_int_equal(cfg.output.port, 12201);
		assert_int_equal(cfg.enrich.n_internal_networks, 5);
		vf_config_finish(&cfg);
	}
}

static void test_full(void **state)
{
	struct vf_config cfg;
	char err[512] = "";
	const struct vf_config_threat_list *tl;
	const struct vf_config_cidr *net;

	(void)state;
	if (!load(&cfg, full_yaml, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(cfg.aws.region, "eu-west-1");
	assert_string_equal(cfg.aws.profile, "default");
	assert_string_equal(cfg.aws.role_arn,
		"arn:aws:iam::123456789012:role/flow-reader");
	assert_string_equal(cfg.aws.external_id, "ext-SECRET-4711");

	assert_string_equal(cfg.kinesis.stream, "vpc-flow-logs");
	assert_string_equal(cfg.kinesis.endpoint, "http://127.0.0.1:4567");
	assert_int_equal(cfg.kinesis.start_position,
		VF_CONFIG_START_AT_TIMESTAMP);
	assert_string_equal(cfg.kinesis.start_timestamp, "2026-11-20T00:00:00Z");
	assert_int_equal(cfg.kinesis.start_timestamp_ms, 1795132800000LL);
	assert_int_equal(cfg.kinesis.n_shards, 2);
	assert_string_equal(cfg.kinesis.shards[1], "shardId-000000000001");
	assert_int_equal(cfg.kinesis.max_records, 5000);
	assert_int_equal(cfg.kinesis.poll_interval_ms, 250);

	assert_int_equal(cfg.checkpoint.store, VF_CONFIG_CHECKPOINT_DYNAMODB);
	assert_string_equal(cfg.checkpoint.path, "/var/lib/vpcflowd");
	assert_string_equal(cfg.checkpoint.table, "vpcflowd-vpc-flow-logs");
	assert_string_equal(cfg.checkpoint.endpoint, "http://127.0.0.1:8000");
	assert_int_equal(cfg.checkpoint.interval_ms, 5000);
	assert_string_equal(cfg.checkpoint.worker_id, "host-1");
	assert_int_equal(cfg.checkpoint.failover_ms, 20000);

	assert_non_null(cfg.flow_logs.fmt);
	assert_int_equal(cfg.flow_logs.fmt->n, 14);
	assert_int_equal(cfg.flow_logs.n_log_groups, 2);
	assert_string_equal(cfg.flow_logs.log_groups[0].name, "/vpc/prod");
	assert_string_equal(cfg.flow_logs.log_groups[0].format,
		"${version} ${vpc-id} ${srcaddr} ${dstaddr} ${tcp-flags}");
	assert_non_null(cfg.flow_logs.log_groups[0].fmt);
	assert_int_equal(cfg.flow_logs.log_groups[0].fmt->n, 5);
	assert_int_equal(cfg.flow_logs.log_groups[0].fmt->pos[VF_F_VPC_ID], 1);
	assert_string_equal(cfg.flow_logs.log_groups[1].name, "/vpc/dev");
	assert_null(cfg.flow_logs.log_groups[1].format);
	assert_null(cfg.flow_logs.log_groups[1].fmt);
	assert_true(cfg.flow_logs.discover_formats);

	assert_int_equal(cfg.enrich.n_internal_networks, 4);
	net = &cfg.enrich.internal_networks[3];
	assert_int_equal(net->family, AF_INET);
	assert_int_equal(net->prefix, 32);
	assert_memory_equal(net->addr, "\xcb\x00\x71\x07", 4);
	assert_string_equal(cfg.enrich.geoip.city_db,
		"/usr/share/GeoIP/GeoLite2-City.mmdb");
	assert_string_equal(cfg.enrich.geoip.asn_db,
		"/usr/share/GeoIP/GeoLite2-ASN.mmdb");
	assert_string_equal(cfg.enrich.geoip.paths.city_name, "city.names.de");
	assert_string_equal(cfg.enrich.geoip.paths.country_code,
		"country.iso_code");
	assert_int_equal(cfg.enrich.n_threat_lists, 2);
	tl = cfg.enrich.threat_lists;
	assert_string_equal(tl[0].name, "spamhaus");
	assert_string_equal(tl[0].url, "https://www.spamhaus.org/drop/drop.txt");
	assert_null(tl[0].path);
	assert_int_equal(tl[0].format, VF_CONFIG_THREAT_SPAMHAUS);
	assert_int_equal(tl[0].column, 0);
	assert_int_equal(tl[0].refresh_ms, 4 * 3600 * 1000);
	assert_string_equal(tl[1].name, "local_csv");
	assert_null(tl[1].url);
	assert_string_equal(tl[1].path, "/etc/vpcflowd/bad.csv");
	assert_int_equal(tl[1].format, VF_CONFIG_THREAT_CSV);
	assert_int_equal(tl[1].column, 3);
	assert_int_equal(tl[1].refresh_ms, 30 * 60 * 1000);
	assert_true(cfg.enrich.aws_entities.enabled);
	assert_int_equal(cfg.enrich.aws_entities.n_regions, 2);
	assert_string_equal(cfg.enrich.aws_entities.regions[1], "eu-west-1");
	assert_string_equal(cfg.enrich.aws_entities.endpoint,
		"http://127.0.0.1:9000");
	assert_int_equal(cfg.enrich.aws_entities.refresh_ms, 120000);

	assert_int_equal(cfg.output.type, VF_CONFIG_OUTPUT_GELF_UDP);
	assert_string_equal(cfg.output.host, "graylog.example.com");
	assert_int_equal(cfg.output.port, 12202);
	assert_string_equal(cfg.output.url, "http://127.0.0.1:12202/gelf");
	assert_int_equal(cfg.output.compression, VF_CONFIG_COMPRESSION_GZIP);
	assert_int_equal(cfg.output.chunk_size, 8154);
	assert_true(cfg.output.tls.enabled);
	assert_string_equal(cfg.output.tls.ca_file, "/etc/ssl/certs/ca.pem");
	assert_string_equal(cfg.output.tls.cert_file, "/etc/vpcflowd/client.pem");
	assert_string_equal(cfg.output.tls.key_file, "/etc/vpcflowd/client.key");
	assert_false(cfg.output.tls.verify);
	assert_string_equal(cfg.output.source, "flows-prod");
	assert_string_equal(cfg.output.kafka.brokers, "127.0.0.1:9092");
	assert_string_equal(cfg.output.kafka.topic, "vpc-flows");
	assert_int_equal(cfg.output.kafka.n_properties, 2);
	assert_string_equal(cfg.output.kafka.properties[0].name,
		"compression.type");
	assert_string_equal(cfg.output.kafka.properties[0].value, "lz4");
	assert_string_equal(cfg.output.kafka.properties[1].name, "linger.ms");
	assert_string_equal(cfg.output.kafka.properties[1].value, "5");

	assert_string_equal(cfg.dead_letter.path,
		"/var/lib/vpcflowd/dead-letter.jsonl");
	assert_int_equal(cfg.dead_letter.max_size, 128ULL << 20);
	assert_int_equal(cfg.limits.max_record_size, 8ULL << 20);
	assert_string_equal(cfg.metrics.listen, "0.0.0.0:9200");
	assert_int_equal(cfg.log.level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg.log.format, VF_CONFIG_LOG_JSON);
	vf_config_finish(&cfg);
}

static void test_format_pasted(void **state)
{
	/* exactly as the AWS console prints it, plain and quoted */
	static const char fmt[] = "${version} ${account-id} ${interface-id} "
		"${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
		"${packets} ${bytes} ${start} ${end} ${action} ${log-status} "
		"${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} "
		"${pkt-srcaddr} ${pkt-dstaddr}";
	struct vf_config cfg;
	char yaml[1024], err[512];

	(void)state;
	snprintf(yaml, sizeof(yaml), "flow_logs:\n  format: %s\n", fmt);
	if (!load(&cfg, yaml, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(cfg.flow_logs.format, fmt);
	assert_int_equal(cfg.flow_logs.fmt->n, 21);
	assert_int_equal(cfg.flow_logs.fmt->pos[VF_F_PKT_DSTADDR], 20);
	vf_config_finish(&cfg);

	snprintf(yaml, sizeof(yaml), "flow_logs:\n  log_groups:\n"
		"    - name: a\n      format: '%s'\n", fmt);
	if (!load(&cfg, yaml, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(cfg.flow_logs.log_groups[0].format, fmt);
	assert_int_equal(cfg.flow_logs.log_groups[0].fmt->n, 21);
	vf_config_finish(&cfg);

	/* a ${...} that looks like a shell variable is not expanded */
	setenv("version", "EXPANDED", 1);
	assert_true(load(&cfg, "flow_logs: {format: \"${version} ${srcaddr}\"}",
		err, sizeof(err)));
	assert_string_equal(cfg.flow_logs.format, "${version} ${srcaddr}");
	vf_config_finish(&cfg);
	unsetenv("version");
}

static void test_env(void **state)
{
	struct vf_config cfg;
	char err[512];

	(void)state;
	setenv("VF_TEST_HOST", "gelf.internal", 1);
	setenv("VF_TEST_PORT", "5555", 1);
	setenv("VF_TEST_EMPTY", "", 1);
	setenv("VF_TEST_NETS", "10.1.0.0/16, 2001:db8::/32", 1);
	unsetenv("VF_TEST_UNSET");
	if (!load(&cfg,
	    "aws:\n"
	    "  role_arn: arn:aws:iam::1:role/x\n"
	    "  external_id: !env VF_TEST_UNSET:-fallback-id\n"
	    "output:\n"
	    "  host: !env VF_TEST_HOST\n"
	    "  port: !env VF_TEST_PORT\n"
	    "  source: !env VF_TEST_EMPTY:-from-default\n"
	    "  url: !env \"VF_TEST_UNSET:-http://h:1/gelf\"\n"
	    "enrich:\n"
	    "  internal_networks: !env VF_TEST_NETS\n"
	    "metrics:\n"
	    "  listen: !env VF_TEST_EMPTY\n", err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(cfg.output.host, "gelf.internal");
	assert_int_equal(cfg.output.port, 5555);
	assert_string_equal(cfg.output.source, "from-default");
	assert_string_equal(cfg.output.url, "http://h:1/gelf");
	assert_string_equal(cfg.aws.external_id, "fallback-id");
	assert_string_equal(cfg.metrics.listen, "");
	assert_int_equal(cfg.enrich.n_internal_networks, 2);
	assert_string_equal(cfg.enrich.internal_networks[1].text,
		"2001:db8::/32");
	assert_int_equal(cfg.enrich.internal_networks[1].family, AF_INET6);
	vf_config_finish(&cfg);

	/* the environment's value is checked like a written one */
	setenv("VF_TEST_PORT", "abc", 1);
	expect_error("output:\n  port: !env VF_TEST_PORT\n",
		"test.yml:2: output.port: ",
		"expected an integer from 1 to 65535, got \"abc\"");
	expect_error("output:\n  host: !env VF_TEST_UNSET\n",
		"test.yml:2: output.host: ",
		"environment variable VF_TEST_UNSET is not set");
	expect_error("output:\n  host: !env 'NO SUCH'\n",
		"test.yml:2: output.host: ", "!env NAME");
	expect_error("output:\n  tls: !env VF_TEST_HOST\n",
		"test.yml:2: output.tls: ", "expected a mapping");
	expect_error("output:\n  host: !secret x\n",
		"test.yml:2: output.host: ", "unknown tag \"!secret\"");
	unsetenv("VF_TEST_HOST");
	unsetenv("VF_TEST_PORT");
	unsetenv("VF_TEST_EMPTY");
	unsetenv("VF_TEST_NETS");
}

struct error_case {
	const char *yaml;
	const char *prefix;     /* file:line: key.path: */
	const char *piece;      /* in the message */
};

static void test_errors(void **state)
{
	static const struct error_case cases[] = {
		/* unknown keys, at every level */
		{ "aws:\n  region: x\nkinesiss:\n  stream: s\n",
		  "test.yml:3: kinesiss: ", "unknown key" },
		{ "output:\n  type: stdout\n  hots: x\n",
		  "test.yml:3: output.hots: ", "known keys here: type, host" },
		{ "output:\n  tls:\n    verfy: false\n",
		  "test.yml:3: output.tls.verfy: ", "unknown key" },
		{ "flow_logs:\n  log_groups:\n    - name: a\n    - name: b\n"
		  "      fromat: x\n",
		  "test.yml:5: flow_logs.log_groups[1].fromat: ", "unknown key" },
		/* wrong types */
		{ "output:\n  port:\n    a: 1\n",
		  "test.yml:3: output.port: ",
		  "expected an integer from 1 to 65535, got a mapping" },
		{ "output: stdout\n", "test.yml:1: output: ",
		  "expected a mapping, got a single value" },
		{ "kinesis:\n  stream: [a, b]\n", "test.yml:2: kinesis.stream: ",
		  "got a list" },
		{ "kinesis:\n  shards: shardId-1\n", "test.yml:2: kinesis.shards: ",
		  "expected a list" },
		{ "kinesis:\n  shards: [a, {b: c}]\n",
		  "test.yml:2: kinesis.shards[1]: ", "got a mapping" },
		{ "flow_logs:\n  log_groups:\n    - /vpc/prod\n",
		  "test.yml:3: flow_logs.log_groups[0]: ", "expected a mapping" },
		{ "output:\n  tls:\n    verify: maybe\n",
		  "test.yml:3: output.tls.verify: ", "expected true or false" },
		{ "- a\n- b\n", "test.yml:1: ", "top level must be a mapping" },
		{ "just a string\n", "test.yml:1: ", "top level must be a mapping" },
		{ "checkpoint:\n  store: dynamodb\n  table: \"a b\"\n",
		  "test.yml: checkpoint.table: ", "not a DynamoDB table name" },
		{ "checkpoint:\n  store: dynamodb\n  table: ab\n",
		  "test.yml: checkpoint.table: ", "3 to 255" },
		/* enums list the allowed values */
		{ "output:\n  type: gelf_udpp\n", "test.yml:2: output.type: ",
		  "one of gelf_udp | gelf_tcp | gelf_http | kafka | stdout | null"
		  ", got \"gelf_udpp\"" },
		{ "log:\n  level: verbose\n", "test.yml:2: log.level: ",
		  "one of debug | info | warn | error" },
		{ "kinesis:\n  start_position: LATEST\n",
		  "test.yml:2: kinesis.start_position: ", "trim_horizon | latest" },
		{ "enrich:\n  threat_lists:\n    - name: x\n      path: /p\n"
		  "      format: json\n",
		  "test.yml:5: enrich.threat_lists[0].format: ",
		  "plain | spamhaus | tor | csv" },
		/* numbers out of range */
		{ "output:\n  port: abc\n", "test.yml:2: output.port: ",
		  "expected an integer from 1 to 65535, got \"abc\"" },
		{ "output:\n  port: 0\n", "test.yml:2: output.port: ", "got \"0\"" },
		{ "output:\n  port: 65536\n", "test.yml:2: output.port: ",
		  "got \"65536\"" },
		{ "output:\n  port: -1\n", "test.yml:2: output.port: ", NULL },
		{ "kinesis:\n  max_records: 10001\n",
		  "test.yml:2: kinesis.max_records: ", "from 1 to 10000" },
		{ "output:\n  chunk_size: 100\n", "test.yml:2: output.chunk_size: ",
		  "from 128 to 65495" },
		/* durations and sizes */
		{ "kinesis:\n  poll_interval: 10\n",
		  "test.yml:2: kinesis.poll_interval: ",
		  "expected a duration such as 250ms, 10s, 5m or 4h, got \"10\"" },
		{ "checkpoint:\n  interval: 1.5s\n",
		  "test.yml:2: checkpoint.interval: ", "got \"1.5s\"" },
		{ "checkpoint:\n  failover: 10ms\n",
		  "test.yml:2: checkpoint.failover: ", "must be at least 1s" },
		{ "kinesis:\n  poll_interval: 2h\n",
		  "test.yml:2: kinesis.poll_interval: ", "must be at most 1h" },
		{ "limits:\n  max_record_size: 16 MB!\n",
		  "test.yml:2: limits.max_record_size: ",
		  "expected a size such as" },
		{ "limits:\n  max_record_size: 1KiB\n",
		  "test.yml:2: limits.max_record_size: ", "at least 64KiB" },
		{ "dead_letter:\n  max_size: 64mb\n",
		  "test.yml:2: dead_letter.max_size: ", "got \"64mb\"" },
		/* networks */
		{ "enrich:\n  internal_networks: [10.0.0.0/8, 10.0.0.256/24]\n",
		  "test.yml:2: enrich.internal_networks[1]: ",
		  "expected an IPv4 or IPv6 network" },
		{ "enrich:\n  internal_networks:\n    - 10.0.0.0/8\n"
		  "    - 10.0.0.0/33\n",
		  "test.yml:4: enrich.internal_networks[1]: ",
		  "prefix length must be 0 to 32" },
		{ "enrich:\n  internal_networks: [\"fc00::/129\"]\n",
		  "test.yml:2: enrich.internal_networks[0]: ", "0 to 128" },
		{ "enrich:\n  internal_networks: [\"fc00:::1/64\"]\n",
		  "test.yml:2: enrich.internal_networks[0]: ", "IPv4 or IPv6" },
		{ "enrich:\n  internal_networks: [10.1.2.3/8]\n",
		  "test.yml:2: enrich.internal_networks[0]: ",
		  "host bits are set (did you mean 10.0.0.0/8?)" },
		{ "enrich:\n  internal_networks: [\"2001:db8::1/32\"]\n",
		  "test.yml:2: enrich.internal_networks[0]: ",
		  "did you mean 2001:db8::/32?" },
		{ "enrich:\n  internal_networks: [10.0.0.0/]\n",
		  "test.yml:2: enrich.internal_networks[0]: ", "prefix length" },
		/* duplicates */
		{ "output:\n  port: 1\n  type: stdout\n  port: 2\n",
		  "test.yml:4: output.port: ", "duplicate key (first at line 2)" },
		{ "log: {}\nlog: {}\n", "test.yml:2: log: ", "duplicate key" },
		{ "output:\n  kafka:\n    properties:\n      acks: all\n"
		  "      acks: 1\n",
		  "test.yml:5: output.kafka.properties.acks: ", "duplicate key" },
		{ "flow_logs:\n  log_groups:\n    - name: /a\n    - name: /b\n"
		  "    - name: /a\n",
		  "test.yml:5: flow_logs.log_groups[2].name: ",
		  "already listed as log_groups[0]" },
		{ "enrich:\n  threat_lists:\n    - {name: tor, url: http://x/t}\n"
		  "    - {name: tor, path: /t}\n",
		  "test.yml:4: enrich.threat_lists[1].name: ",
		  "already listed as threat_lists[0]" },
		/* threat lists */
		{ "enrich:\n  threat_lists:\n    - name: x\n      format: tor\n",
		  "test.yml:3: enrich.threat_lists[0]: ", "needs a url or a path" },
		{ "enrich:\n  threat_lists:\n    - name: x\n      url: http://a/b\n"
		  "      path: /b\n",
		  "test.yml:5: enrich.threat_lists[0].path: ", "not both" },
		{ "enrich:\n  threat_lists:\n    - name: Spam-Haus\n      path: /b\n",
		  "test.yml:3: enrich.threat_lists[0].name: ",
		  "lower-case letters, digits and _" },
		{ "enrich:\n  threat_lists:\n    - path: /b\n",
		  "test.yml:3: enrich.threat_lists[0].name: ", "required" },
		{ "enrich:\n  threat_lists:\n    - name: c\n      path: /b\n"
		  "      format: csv\n",
		  "test.yml:5: enrich.threat_lists[0].column: ",
		  "required when format is csv" },
		{ "enrich:\n  threat_lists:\n    - name: c\n      path: /b\n"
		  "      column: 2\n",
		  "test.yml:5: enrich.threat_lists[0].column: ",
		  "only used with format csv" },
		{ "enrich:\n  threat_lists:\n    - name: c\n      url: ftp://x/y\n",
		  "test.yml:4: enrich.threat_lists[0].url: ",
		  "expected an http:// or https:// URL" },
		/* formats */
		{ "flow_logs:\n  format: \"${version} $srcaddr\"\n",
		  "test.yml:2: flow_logs.format: ", "invalid flow log format" },
		{ "flow_logs:\n  log_groups:\n    - name: a\n    - name: b\n"
		  "      format: ${version ${srcaddr}\n",
		  "test.yml:5: flow_logs.log_groups[1].format: ",
		  "invalid flow log format" },
		{ "flow_logs:\n  log_groups:\n    - format: ${version}\n",
		  "test.yml:3: flow_logs.log_groups[0].name: ", "required" },
		/* keys that need other keys */
		{ "output:\n  type: gelf_http\n", "test.yml:2: output.url: ",
		  "required when type is gelf_http" },
		{ "output:\n  type: kafka\n  kafka: {topic: t}\n",
		  "test.yml:2: output.kafka.brokers: ", "required" },
		{ "output:\n  type: gelf_http\n  url: https://g/gelf\n"
		  "  compression: zlib\n",
		  "test.yml:4: output.compression: ", "none or gzip" },
		{ "output:\n  type: gelf_tcp\n  compression: gzip\n",
		  "test.yml:3: output.compression: ", "never compressed" },
		{ "output:\n  tls:\n    key_file: /k\n",
		  "test.yml:3: output.tls.key_file: ", "needs cert_file" },
		{ "aws:\n  region: x\n  external_id: abc\n",
		  "test.yml:3: aws.external_id: ", "needs aws.role_arn" },
		{ "kinesis:\n  start_position: at_timestamp\n",
		  "test.yml:2: kinesis.start_timestamp: ", "required" },
		{ "kinesis:\n  start_timestamp: 2026-13-01T00:00:00Z\n",
		  "test.yml:2: kinesis.start_timestamp: ", "RFC 3339" },
		/* strings */
		{ "output:\n  source: \"\"\n", "test.yml:2: output.source: ",
		  "must not be empty" },
		{ "output:\n  source:\n", "test.yml:2: output.source: ",
		  "must not be empty" },
		{ "kinesis:\n  endpoint: localhost:4567\n",
		  "test.yml:2: kinesis.endpoint: ", "http:// or https://" },
		{ "metrics:\n  listen: 9108\n", "test.yml:2: metrics.listen: ",
		  "host:port" },
		{ "metrics:\n  listen: \"::1:9108\"\n", "test.yml:2: metrics.listen: ",
		  "host:port" },
		{ "enrich:\n  geoip:\n    paths:\n      city_name: city..en\n",
		  "test.yml:4: enrich.geoip.paths.city_name: ", "dotted lookup" },
		{ "output:\n  kafka:\n    properties:\n      acks:\n",
		  "test.yml:4: output.kafka.properties.acks: ", "expected a value" },
		{ "output:\n  kafka:\n    properties:\n      sasl: {a: b}\n",
		  "test.yml:4: output.kafka.properties.sasl: ", "got a mapping" },
		/* YAML syntax */
		{ "output:\n  type: stdout\n   port: 1\n", "test.yml:3: output: ",
		  "YAML syntax error: mapping values are not allowed" },
		{ "output:\n  host: \"unterminated\n", "test.yml:", "YAML syntax error" },
		{ "aws:\n  region: [a, b\nlog: {}\n", "test.yml:", "YAML syntax error" },
		{ "enrich:\n  threat_lists:\n    - name: a\n      path: /a\n"
		  "    - name: b\n      path: \"x\n",
		  "test.yml:7: enrich.threat_lists[1].path: ",
		  "unexpected end of stream (while scanning a quoted scalar at "
		  "line 6)" },
		{ "a: 1\n---\nb: 2\n", "test.yml:2: ", "only one YAML document" },
		{ "log:\n  level: *nothere\n", "test.yml:2: log.level: ",
		  "undefined alias *nothere" },
		{ "log:\n  !env X: info\n", "test.yml:2: ",
		  "keys must be plain strings" },
		{ "log:\n  <<: {level: info}\n", "test.yml:2: log.<<: ",
		  "unknown key" },
		{ "aws: {region: \"\\x00\"}\n", "test.yml:1: aws.region: ", "NUL" },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]"
		  "]]]]]]]]]]]]]]]]]]]]\n", "test.yml:1: ", "nested more than" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].yaml, cases[i].prefix, cases[i].piece);
}

static void test_syntax_error_line(void **state)
{
	struct vf_config cfg;
	char err[512];

	(void)state;
	/* a tab where indentation is expected */
	assert_false(load(&cfg, "log:\n  level: info\n\tformat: json\n", err,
		sizeof(err)));
	vf_config_finish(&cfg);
	assert_non_null(strstr(err, "test.yml:3: "));
	assert_non_null(strstr(err, "YAML syntax error"));
	/* invalid UTF-8: libyaml's reader reports an offset */
	assert_false(load(&cfg, "log:\n  level: info\n  format: \xff\xfe\n",
		err, sizeof(err)));
	vf_config_finish(&cfg);
	assert_non_null(strstr(err, "test.yml:3: "));
}

static void test_file(void **state)
{
	char path[] = "/tmp/vf-test-config-XXXXXX";
	struct vf_config cfg;
	char err[512], want[600];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "log:\n  level: warn\n\noutput:\n  port: x\n",
		37), 37);
	close(fd);
	vf_config_init(&cfg);
	assert_false(vf_config_load(&cfg, path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:5: output.port: expected an integer "
		"from 1 to 65535, got \"x\"", path);
	assert_string_equal(err, want);
	assert_int_equal(cfg.log.level, LOG_LEVEL_WARN);   /* part loaded */
	vf_config_finish(&cfg);
	unlink(path);

	vf_config_init(&cfg);
	assert_false(vf_config_load(&cfg, "/nonexistent/vpcflowd.yml", err,
		sizeof(err)));
	assert_string_equal(err,
		"/nonexistent/vpcflowd.yml: No such file or directory");
	vf_config_finish(&cfg);
}

static void test_layers_and_null(void **state)
{
	struct vf_config cfg;
	char err[512];

	(void)state;
	assert_true(load(&cfg, "output: {type: gelf_udp, port: 1000}\n"
		"kinesis: {shards: [a, b]}\n", err, sizeof(err)));
	assert_true(load_more(&cfg, "second.yml",
		"output: {port: 2000}\nkinesis: {shards: [c]}\n"
		"enrich: {internal_networks: []}\nmetrics: {listen: }\n",
		err, sizeof(err)));
	assert_int_equal(cfg.output.type, VF_CONFIG_OUTPUT_GELF_UDP);
	assert_int_equal(cfg.output.port, 2000);
	assert_int_equal(cfg.kinesis.n_shards, 1);
	assert_string_equal(cfg.kinesis.shards[0], "c");
	assert_int_equal(cfg.enrich.n_internal_networks, 0);
	assert_string_equal(cfg.metrics.listen, "");
	vf_config_finish(&cfg);
	/* finish twice and on a zeroed config */
	vf_config_finish(&cfg);
	memset(&cfg, 0, sizeof(cfg));
	vf_config_finish(&cfg);

	/* null unsets an optional string; "" is refused */
	assert_true(load(&cfg, "dead_letter: {path: /d}\n", err, sizeof(err)));
	assert_string_equal(cfg.dead_letter.path, "/d");
	assert_true(load_more(&cfg, "t", "dead_letter: {path: ~}\n", err,
		sizeof(err)));
	assert_null(cfg.dead_letter.path);
	assert_false(load_more(&cfg, "t", "dead_letter: {path: ''}\n", err,
		sizeof(err)));
	assert_string_equal(err, "t:1: dead_letter.path: must not be empty");
	vf_config_finish(&cfg);

	/* dynamodb table defaults from the stream; brokers as a list */
	assert_true(load(&cfg, "kinesis: {stream: flows}\n"
		"checkpoint: {store: dynamodb}\n"
		"output:\n  type: kafka\n  kafka:\n"
		"    brokers: [k1:9092, \"k2:9092\"]\n    topic: t\n",
		err, sizeof(err)));
	assert_string_equal(cfg.checkpoint.table, "vpcflowd-flows");
	assert_string_equal(cfg.output.kafka.brokers, "k1:9092,k2:9092");
	vf_config_finish(&cfg);
}

static void test_round_trip(void **state)
{
	struct vf_config a, b;
	char err[512];
	char *first, *second;

	(void)state;
	if (!load(&a, full_yaml, err, sizeof(err)))
		fail_msg("%s", err);
	first = print_to_string(&a);
	vf_config_init(&b);
	if (!vf_config_load_string(&b, "printed", first, strlen(first), err,
	    sizeof(err)))
		fail_msg("%s\n%s", err, first);
	second = print_to_string(&b);
	assert_string_equal(first, second);
	/* the reloaded values are the same (the masked one excepted) */
	assert_string_equal(b.flow_logs.format, a.flow_logs.format);
	assert_string_equal(b.flow_logs.log_groups[0].format,
		a.flow_logs.log_groups[0].format);
	assert_int_equal(b.kinesis.start_timestamp_ms, a.kinesis.start_timestamp_ms);
	assert_int_equal(b.kinesis.poll_interval_ms, 250);
	assert_int_equal(b.enrich.threat_lists[1].refresh_ms, 30 * 60 * 1000);
	assert_int_equal(b.enrich.threat_lists[1].column, 3);
	assert_int_equal(b.limits.max_record_size, 8ULL << 20);
	assert_int_equal(b.enrich.n_internal_networks, 4);
	assert_false(b.output.tls.verify);
	assert_int_equal(b.log.level, LOG_LEVEL_DEBUG);
	assert_string_equal(b.aws.external_id, "***");
	free(first);
	free(second);
	vf_config_finish(&a);
	vf_config_finish(&b);

	/* the defaults round-trip too, odd strings included */
	vf_config_init(&a);
	assert_true(load_more(&a, "t",
		"output: {source: \"a \\\"q\\\" \\\\ \\t tab: # x\"}\n"
		"dead_letter: {max_size: 1000000}\n", err, sizeof(err)));
	first = print_to_string(&a);
	vf_config_init(&b);
	if (!vf_config_load_string(&b, "printed", first, strlen(first), err,
	    sizeof(err)))
		fail_msg("%s\n%s", err, first);
	assert_string_equal(b.output.source, "a \"q\" \\ \t tab: # x");
	assert_int_equal(b.dead_letter.max_size, 1000000);
	second = print_to_string(&b);
	assert_string_equal(first, second);
	free(first);
	free(second);
	vf_config_finish(&a);
	vf_config_finish(&b);
}

static void test_secrets_masked(void **state)
{
	struct vf_config cfg;
	char err[512];
	char *text;

	(void)state;
	if (!load(&cfg,
	    "aws:\n  role_arn: arn:aws:iam::1:role/r\n"
	    "  external_id: ext-SECRET-1\n"
	    "kinesis:\n  endpoint: https://user:pw-SECRET-2@kinesis.local:443/\n"
	    "output:\n"
	    "  type: gelf_http\n"
	    "  url: https://tok-SECRET-3@graylog.local/gelf?x=1\n"
	    "  kafka:\n"
	    "    properties:\n"
	    "      sasl.password: pw-SECRET-4\n"
	    "      ssl.key.password: pw-SECRET-5\n"
	    "      sasl.oauthbearer.client.secret: pw-SECRET-6\n"
	    "      sasl.username: visible-user\n"
	    "      ssl.key.location: /etc/k.pem\n"
	    "enrich:\n  threat_lists:\n"
	    "    - name: feed\n"
	    "      url: https://feed.example/list.txt?api_key=SECRET-7&"
	    "fmt=txt&token=SECRET-8#frag\n",
	    err, sizeof(err)))
		fail_msg("%s", err);
	text = print_to_string(&cfg);
	if (strstr(text, "SECRET") != NULL)
		fail_msg("a secret is printed:\n%s", text);
	assert_non_null(strstr(text, "external_id: \"***\""));
	assert_non_null(strstr(text,
		"\"https://user:***@kinesis.local:443/\""));
	assert_non_null(strstr(text, "\"https://***@graylog.local/gelf?x=1\""));
	assert_non_null(strstr(text, "\"sasl.password\": \"***\""));
	assert_non_null(strstr(text, "\"ssl.key.password\": \"***\""));
	assert_non_null(strstr(text, "\"sasl.username\": \"visible-user\""));
	assert_non_null(strstr(text, "\"ssl.key.location\": \"/etc/k.pem\""));
	assert_non_null(strstr(text, "\"https://feed.example/list.txt?"
		"api_key=***&fmt=txt&token=***#frag\""));
	/* the config itself keeps the real values */
	assert_string_equal(cfg.output.kafka.properties[0].value, "pw-SECRET-4");
	free(text);
	vf_config_finish(&cfg);
}

static void test_durations(void **state)
{
	static const struct { const char *s; uint64_t ms; } good[] = {
		{ "0", 0 }, { "0s", 0 }, { "0ms", 0 }, { "250ms", 250 },
		{ "1s", 1000 }, { "10s", 10000 }, { "5m", 300000 },
		{ "4h", 14400000 }, { "1d", 86400000 }, { "1h30m", 5400000 },
		{ "1m500ms", 60500 }, { "18446744073709551615ms", UINT64_MAX },
	};
	static const char *const bad[] = {
		"", "s", "10", "1.5s", "-1s", "10S", "10 s", " 10s", "10s ",
		"10sec", "1w", "ms", "1h30", "18446744073709551616ms",
		"18446744073709552s", "213503982334601d",
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 12345;
		if (!vf_parse_duration(good[i].s, &v))
			fail_msg("rejected \"%s\"", good[i].s);
		assert_int_equal(v, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vf_parse_duration(bad[i], &v))
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_false(vf_parse_duration(NULL, &v));
}

static void test_sizes(void **state)
{
	static const struct { const char *s; uint64_t bytes; } good[] = {
		{ "0", 0 }, { "512", 512 }, { "512B", 512 }, { "64KiB", 65536 },
		{ "16MiB", 16777216 }, { "1GiB", 1073741824 },
		{ "2TiB", 2199023255552ULL }, { "1KB", 1000 }, { "1kB", 1000 },
		{ "5MB", 5000000 }, { "2GB", 2000000000 }, { "16 MiB", 16777216 },
		{ "18446744073709551615", UINT64_MAX },
	};
	static const char *const bad[] = {
		"", "KiB", "1.5MiB", "-1", "16mib", "16M", "16Mi", "16MiBs",
		" 16MiB", "16MiB ", "16  MiB", "16 ", "16777216TiB",
		"18446744073709551616",
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 12345;
		if (!vf_parse_size(good[i].s, &v))
			fail_msg("rejected \"%s\"", good[i].s);
		assert_int_equal(v, good[i].bytes);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vf_parse_size(bad[i], &v))
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_false(vf_parse_size(NULL, &v));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(vf_config_output_type_name(VF_CONFIG_OUTPUT_GELF_HTTP),
		"gelf_http");
	assert_string_equal(vf_config_output_type_name(VF_CONFIG_OUTPUT_NULL),
		"null");
	assert_string_equal(vf_config_output_type_name(
		(enum vf_config_output_type)99), "unknown");
	assert_string_equal(vf_config_threat_format_name(VF_CONFIG_THREAT_TOR),
		"tor");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_region_from_env),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_format_pasted),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_syntax_error_line),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_layers_and_null),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_secrets_masked),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
