/*
 * The YAML configuration: one table row per key (type, where it is stored,
 * its default), walked by a small loader over libyaml's document API. The
 * same tables drive the defaults, freeing and printing, so a key added to a
 * table is loaded, printed and freed with no other change.
 *
 * Nothing here logs: errors come back as one "FILE:LINE: KEY.PATH: message"
 * line in the caller's buffer.
 *
 * This file holds the schema, the checks across keys and the public API;
 * config_internal.h lists the other files of the loader.
 */
#include "vpcflowd/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

_Static_assert(sizeof(enum vf_config_start_position) == sizeof(int) &&
	sizeof(enum vf_config_checkpoint_store) == sizeof(int) &&
	sizeof(enum vf_config_threat_format) == sizeof(int) &&
	sizeof(enum vf_config_output_type) == sizeof(int) &&
	sizeof(enum vf_config_compression) == sizeof(int) &&
	sizeof(enum vf_config_log_format) == sizeof(int) &&
	sizeof(enum log_level) == sizeof(int),
	"enum keys are stored through an int pointer");

/* ---- the schema ---- */

static const char *const start_names[] = {
	"trim_horizon", "latest", "at_timestamp", NULL };
static const char *const store_names[] = { "file", "dynamodb", NULL };
static const char *const threat_format_names[] = {
	"plain", "spamhaus", "tor", "csv", NULL };
static const char *const output_names[] = {
	"gelf_udp", "gelf_tcp", "gelf_http", "kafka", "stdout", "null", NULL };
static const char *const compression_names[] = {
	"none", "gzip", "zlib", NULL };
static const char *const level_names[] = {
	"debug", "info", "warn", "error", NULL };
static const char *const log_format_names[] = { "text", "json", NULL };

static bool check_aws(struct ctx *c, char *base, yaml_node_t *map);
static bool check_kinesis(struct ctx *c, char *base, yaml_node_t *map);
static bool check_output(struct ctx *c, char *base, yaml_node_t *map);
static bool check_tls(struct ctx *c, char *base, yaml_node_t *map);
static bool check_log_group(struct ctx *c, char *items, size_t i,
	yaml_node_t *map);
static bool check_threat_list(struct ctx *c, char *items, size_t i,
	yaml_node_t *map);

#define CFG(f) offsetof(struct vf_config, f)
#define LG(f) offsetof(struct vf_config_log_group, f)
#define TL(f) offsetof(struct vf_config_threat_list, f)

static const struct key aws_keys[] = {
	{ "region", K_STR, F_NONEMPTY, CFG(aws.region) },
	{ "profile", K_STR, F_NONEMPTY, CFG(aws.profile) },
	{ "role_arn", K_STR, F_NONEMPTY, CFG(aws.role_arn) },
	{ "external_id", K_STR, F_NONEMPTY | F_SECRET, CFG(aws.external_id) },
	{ NULL }
};

static const struct key kinesis_keys[] = {
	{ "stream", K_STR, F_NONEMPTY, CFG(kinesis.stream) },
	{ "endpoint", K_STR, F_NONEMPTY | F_URL, CFG(kinesis.endpoint) },
	{ "start_position", K_ENUM, 0, CFG(kinesis.start_position),
	  .names = start_names, .def = "trim_horizon" },
	{ "start_timestamp", K_TIMESTAMP, 0, CFG(kinesis.start_timestamp),
	  .aux = CFG(kinesis.start_timestamp_ms) },
	{ "shards", K_STRLIST, 0, CFG(kinesis.shards),
	  .aux = CFG(kinesis.n_shards), .max = 10000 },
	{ "max_records", K_UINT, 0, CFG(kinesis.max_records),
	  .min = 1, .max = 10000, .def = "10000" },
	{ "poll_interval", K_DURATION, 0, CFG(kinesis.poll_interval_ms),
	  .min = 0, .max = MS_HOUR, .def = "1s" },
	{ NULL }
};

static const struct key checkpoint_keys[] = {
	{ "store", K_ENUM, 0, CFG(checkpoint.store),
	  .names = store_names, .def = "file" },
	{ "path", K_STR, F_NONEMPTY, CFG(checkpoint.path),
	  .def = "/var/lib/vpcflowd" },
	{ "table", K_STR, F_NONEMPTY, CFG(checkpoint.table) },
	{ "endpoint", K_STR, F_NONEMPTY | F_URL, CFG(checkpoint.endpoint) },
	{ "interval", K_DURATION, 0, CFG(checkpoint.interval_ms),
	  .min = 1, .def = "10s" },
	{ "worker_id", K_STR, F_NONEMPTY, CFG(checkpoint.worker_id) },
	{ "failover", K_DURATION, 0, CFG(checkpoint.failover_ms),
	  .min = MS_SECOND, .def = "10s" },
	{ NULL }
};

static const struct key log_group_keys[] = {
	{ "name", K_STR, F_NONEMPTY, LG(name) },
	{ "format", K_FORMAT, 0, LG(format), .aux = LG(fmt) },
	{ NULL }
};

static const struct section log_group_section = {
	log_group_keys, sizeof(struct vf_config_log_group),
	NULL, check_log_group
};

static const struct key flow_logs_keys[] = {
	{ "format", K_FORMAT, 0, CFG(flow_logs.format),
	  .aux = CFG(flow_logs.fmt) },
	{ "log_groups", K_ITEMS, 0, CFG(flow_logs.log_groups),
	  .aux = CFG(flow_logs.n_log_groups), .max = 1000,
	  .sub = &log_group_section },
	{ "discover_formats", K_BOOL, 0, CFG(flow_logs.discover_formats),
	  .def = "false" },
	{ NULL }
};

static const struct key geoip_paths_keys[] = {
	{ "country_code", K_STR, F_NONEMPTY | F_GEOPATH,
	  CFG(enrich.geoip.paths.country_code), .def = "country.iso_code" },
	{ "city_name", K_STR, F_NONEMPTY | F_GEOPATH,
	  CFG(enrich.geoip.paths.city_name), .def = "city.names.en" },
	{ "latitude", K_STR, F_NONEMPTY | F_GEOPATH,
	  CFG(enrich.geoip.paths.latitude), .def = "location.latitude" },
	{ "longitude", K_STR, F_NONEMPTY | F_GEOPATH,
	  CFG(enrich.geoip.paths.longitude), .def = "location.longitude" },
	{ "as_number", K_STR, F_NONEMPTY | F_GEOPATH,
	  CFG(enrich.geoip.paths.as_number),
	  .def = "autonomous_system_number" },
	{ "as_organization", K_STR, F_NONEMPTY | F_GEOPATH,
	  CFG(enrich.geoip.paths.as_organization),
	  .def = "autonomous_system_organization" },
	{ NULL }
};

static const struct section geoip_paths_section = { geoip_paths_keys };

static const struct key geoip_keys[] = {
	{ "city_db", K_STR, F_NONEMPTY, CFG(enrich.geoip.city_db) },
	{ "asn_db", K_STR, F_NONEMPTY, CFG(enrich.geoip.asn_db) },
	{ "paths", K_SECTION, 0, 0, .sub = &geoip_paths_section },
	{ NULL }
};

static const struct section geoip_section = { geoip_keys };

static const struct key threat_list_keys[] = {
	{ "name", K_STR, F_NONEMPTY | F_NAME, TL(name) },
	{ "url", K_STR, F_NONEMPTY | F_URL, TL(url) },
	{ "path", K_STR, F_NONEMPTY, TL(path) },
	{ "format", K_ENUM, 0, TL(format),
	  .names = threat_format_names, .def = "plain" },
	{ "column", K_UINT, F_ZERO_UNSET, TL(column), .min = 1, .max = 1000 },
	{ "refresh", K_DURATION, 0, TL(refresh_ms),
	  .min = MS_SECOND, .def = "4h" },
	{ NULL }
};

static const struct section threat_list_section = {
	threat_list_keys, sizeof(struct vf_config_threat_list),
	NULL, check_threat_list
};

static const struct key aws_entities_keys[] = {
	{ "enabled", K_BOOL, 0, CFG(enrich.aws_entities.enabled),
	  .def = "false" },
	{ "regions", K_STRLIST, 0, CFG(enrich.aws_entities.regions),
	  .aux = CFG(enrich.aws_entities.n_regions), .max = 64 },
	{ "endpoint", K_STR, F_NONEMPTY | F_URL,
	  CFG(enrich.aws_entities.endpoint) },
	{ "refresh", K_DURATION, 0, CFG(enrich.aws_entities.refresh_ms),
	  .min = MS_SECOND, .def = "60s" },
	{ NULL }
};

static const struct section aws_entities_section = { aws_entities_keys };

static const struct key enrich_keys[] = {
	{ "internal_networks", K_CIDRLIST, 0, CFG(enrich.internal_networks),
	  .aux = CFG(enrich.n_internal_networks), .max = 4096,
	  .def = "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "
		"100.64.0.0/10, fc00::/7" },
	{ "geoip", K_SECTION, 0, 0, .sub = &geoip_section },
	{ "threat_lists", K_ITEMS, 0, CFG(enrich.threat_lists),
	  .aux = CFG(enrich.n_threat_lists), .max = 64,
	  .sub = &threat_list_section },
	{ "aws_entities", K_SECTION, 0, 0, .sub = &aws_entities_section },
	{ NULL }
};

static const struct key tls_keys[] = {
	{ "enabled", K_BOOL, 0, CFG(output.tls.enabled), .def = "false" },
	{ "ca_file", K_STR, F_NONEMPTY, CFG(output.tls.ca_file) },
	{ "cert_file", K_STR, F_NONEMPTY, CFG(output.tls.cert_file) },
	{ "key_file", K_STR, F_NONEMPTY, CFG(output.tls.key_file) },
	{ "verify", K_BOOL, 0, CFG(output.tls.verify), .def = "true" },
	{ NULL }
};

static const struct section tls_section = { tls_keys, 0, check_tls };

static const struct key kafka_keys[] = {
	{ "brokers", K_BROKERS, F_NONEMPTY, CFG(output.kafka.brokers) },
	{ "topic", K_STR, F_NONEMPTY, CFG(output.kafka.topic) },
	{ "properties", K_PROPS, 0, CFG(output.kafka.properties),
	  .aux = CFG(output.kafka.n_properties), .max = 256 },
	{ NULL }
};

static const struct section kafka_section = { kafka_keys };

static const struct key output_keys[] = {
	{ "type", K_ENUM, 0, CFG(output.type),
	  .names = output_names, .def = "stdout" },
	{ "host", K_STR, F_NONEMPTY, CFG(output.host), .def = "127.0.0.1" },
	{ "port", K_UINT, 0, CFG(output.port),
	  .min = 1, .max = 65535, .def = "12201" },
	{ "url", K_STR, F_NONEMPTY | F_URL, CFG(output.url) },
	{ "compression", K_ENUM, 0, CFG(output.compression),
	  .names = compression_names, .def = "none" },
	{ "chunk_size", K_UINT, 0, CFG(output.chunk_size),
	  .min = 128, .max = 65495, .def = "1420" },
	{ "bulk_max_size", K_SIZE, 0, CFG(output.bulk_max_size),
	  .max = 1024ull * MIB, .def = "0" },
	{ "resend_window", K_SIZE, 0, CFG(output.resend_window),
	  .max = 1024ull * MIB, .def = "4MiB" },
	{ "tls", K_SECTION, 0, 0, .sub = &tls_section },
	{ "source", K_STR, F_NONEMPTY, CFG(output.source),
	  .def = "aws-flowlogs" },
	{ "retry_budget", K_DURATION, 0, CFG(output.retry_budget_ms),
	  .min = MS_SECOND, .def = "60s" },
	{ "kafka", K_SECTION, 0, 0, .sub = &kafka_section },
	{ NULL }
};

static const struct key dead_letter_keys[] = {
	{ "path", K_STR, F_NONEMPTY, CFG(dead_letter.path) },
	{ "max_size", K_SIZE, 0, CFG(dead_letter.max_size),
	  .min = KIB, .def = "64MiB" },
	{ NULL }
};

static const struct key limits_keys[] = {
	{ "max_record_size", K_SIZE, 0, CFG(limits.max_record_size),
	  .min = 64 * KIB, .max = GIB, .def = "16MiB" },
	{ NULL }
};

static const struct key metrics_keys[] = {
	{ "listen", K_LISTEN, 0, CFG(metrics.listen), .def = "127.0.0.1:9108" },
	{ NULL }
};

static const struct key log_keys[] = {
	{ "level", K_ENUM, 0, CFG(log.level),
	  .names = level_names, .def = "info" },
	{ "format", K_ENUM, 0, CFG(log.format),
	  .names = log_format_names, .def = "text" },
	{ NULL }
};

static const struct section aws_section = { aws_keys, 0, check_aws };
static const struct section kinesis_section = {
	kinesis_keys, 0, check_kinesis };
static const struct section checkpoint_section = { checkpoint_keys };
static const struct section flow_logs_section = { flow_logs_keys };
static const struct section enrich_section = { enrich_keys };
static const struct section output_section = {
	output_keys, 0, check_output };
static const struct section dead_letter_section = { dead_letter_keys };
static const struct section limits_section = { limits_keys };
static const struct section metrics_section = { metrics_keys };
static const struct section log_section = { log_keys };

static const struct key root_keys[] = {
	{ "aws", K_SECTION, 0, 0, .sub = &aws_section },
	{ "kinesis", K_SECTION, 0, 0, .sub = &kinesis_section },
	{ "checkpoint", K_SECTION, 0, 0, .sub = &checkpoint_section },
	{ "flow_logs", K_SECTION, 0, 0, .sub = &flow_logs_section },
	{ "enrich", K_SECTION, 0, 0, .sub = &enrich_section },
	{ "output", K_SECTION, 0, 0, .sub = &output_section },
	{ "dead_letter", K_SECTION, 0, 0, .sub = &dead_letter_section },
	{ "limits", K_SECTION, 0, 0, .sub = &limits_section },
	{ "metrics", K_SECTION, 0, 0, .sub = &metrics_section },
	{ "log", K_SECTION, 0, 0, .sub = &log_section },
	{ NULL }
};

const struct section vf_config_root_section = { root_keys };

/* ---- checks across keys ---- */

static bool check_aws(struct ctx *c, char *base, yaml_node_t *map)
{
	struct vf_config *cfg = (struct vf_config *)(void *)base;

	if (cfg->aws.external_id != NULL && cfg->aws.role_arn == NULL)
		return vf_config_fail_key(c, "external_id",
			vf_config_where(c, map, "external_id", NULL),
			"needs aws.role_arn (it is sent with AssumeRole)");
	return true;
}

static bool check_kinesis(struct ctx *c, char *base, yaml_node_t *map)
{
	struct vf_config *cfg = (struct vf_config *)(void *)base;

	if (cfg->kinesis.start_position == VF_CONFIG_START_AT_TIMESTAMP &&
	    cfg->kinesis.start_timestamp == NULL)
		return vf_config_fail_key(c, "start_timestamp",
			vf_config_where(c, map, "start_position", NULL),
			"required when start_position is at_timestamp");
	return true;
}

static bool check_output(struct ctx *c, char *base, yaml_node_t *map)
{
	struct vf_config_output *out =
		&((struct vf_config *)(void *)base)->output;
	yaml_node_t *type = vf_config_where(c, map, "type", NULL);

	if (out->type == VF_CONFIG_OUTPUT_GELF_HTTP && out->url == NULL)
		return vf_config_fail_key(c, "url", type,
			"required when type is gelf_http");
	if (out->type == VF_CONFIG_OUTPUT_KAFKA && out->kafka.brokers == NULL)
		return vf_config_fail_key(c, "kafka.brokers", type,
			"required when type is kafka");
	if (out->type == VF_CONFIG_OUTPUT_KAFKA && out->kafka.topic == NULL)
		return vf_config_fail_key(c, "kafka.topic", type,
			"required when type is kafka");
	if (out->type == VF_CONFIG_OUTPUT_GELF_HTTP &&
	    out->compression == VF_CONFIG_COMPRESSION_ZLIB)
		return vf_config_fail_key(c, "compression",
			vf_config_where(c, map, "compression", "type"),
			"gelf_http takes none or gzip, not zlib");
	if (out->type == VF_CONFIG_OUTPUT_GELF_TCP &&
	    out->compression != VF_CONFIG_COMPRESSION_NONE)
		return vf_config_fail_key(c, "compression",
			vf_config_where(c, map, "compression", "type"),
			"GELF over TCP is never compressed: use none");
	return true;
}

static bool check_tls(struct ctx *c, char *base, yaml_node_t *map)
{
	struct vf_config_tls *tls =
		&((struct vf_config *)(void *)base)->output.tls;

	if (tls->key_file != NULL && tls->cert_file == NULL)
		return vf_config_fail_key(c, "key_file",
			vf_config_where(c, map, "key_file", NULL),
			"needs cert_file");
	return true;
}

static bool check_log_group(struct ctx *c, char *items, size_t i,
	yaml_node_t *map)
{
	struct vf_config_log_group *lg =
		(struct vf_config_log_group *)(void *)items;

	if (lg[i].name == NULL)
		return vf_config_fail_key(c, "name", map, "required");
	for (size_t j = 0; j < i; j++) {
		if (strcmp(lg[j].name, lg[i].name) == 0)
			return vf_config_fail_key(c, "name",
				vf_config_where(c, map, "name", NULL),
				"log group \"%.128s\" is already listed as "
				"log_groups[%zu]", lg[i].name, j);
	}
	return true;
}

static bool check_threat_list(struct ctx *c, char *items, size_t i,
	yaml_node_t *map)
{
	struct vf_config_threat_list *tl =
		(struct vf_config_threat_list *)(void *)items;
	struct vf_config_threat_list *t = &tl[i];

	if (t->name == NULL)
		return vf_config_fail_key(c, "name", map, "required");
	for (size_t j = 0; j < i; j++) {
		if (strcmp(tl[j].name, t->name) == 0)
			return vf_config_fail_key(c, "name",
				vf_config_where(c, map, "name", NULL),
				"threat list \"%s\" is already listed as "
				"threat_lists[%zu]", t->name, j);
	}
	if (t->url != NULL && t->path != NULL)
		return vf_config_fail_key(c, "path",
			vf_config_where(c, map, "path", NULL),
			"give url or path, not both");
	if (t->url == NULL && t->path == NULL)
		return vf_config_fail(c, map, "needs a url or a path");
	if (t->format == VF_CONFIG_THREAT_CSV && t->column == 0)
		return vf_config_fail_key(c, "column",
			vf_config_where(c, map, "format", NULL),
			"required when format is csv");
	if (t->format != VF_CONFIG_THREAT_CSV && t->column != 0)
		return vf_config_fail_key(c, "column",
			vf_config_where(c, map, "column", NULL),
			"only used with format csv");
	return true;
}

/* Defaults that depend on other keys, once a file is loaded. */
static bool finalize(struct ctx *c, struct vf_config *cfg)
{
	struct vf_config_checkpoint *cp = &cfg->checkpoint;

	if (cp->store == VF_CONFIG_CHECKPOINT_DYNAMODB && cp->table == NULL &&
	    cfg->kinesis.stream != NULL) {
		size_t len = strlen(cfg->kinesis.stream) + sizeof("vpcflowd-");

		cp->table = malloc(len);
		if (cp->table == NULL)
			return vf_config_fail_line(c, 0, "out of memory");
		snprintf(cp->table, len, "vpcflowd-%s", cfg->kinesis.stream);
	}
	if (cp->store == VF_CONFIG_CHECKPOINT_DYNAMODB && cp->table != NULL) {
		size_t n = strlen(cp->table);

		if (n < 3 || n > 255 ||
		    strspn(cp->table, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
			return vf_config_fail_line(c, 0, "checkpoint.table: "
				"\"%s\" is not a DynamoDB table name (3 to 255 "
				"of a-z A-Z 0-9 _ . -)", cp->table);
	}
	if (cp->worker_id != NULL && strlen(cp->worker_id) > 255)
		return vf_config_fail_line(c, 0, "checkpoint.worker_id: longer "
			"than 255 bytes");
	return true;
}

/* ---- public ---- */

void vf_config_init(struct vf_config *cfg)
{
	const char *region = getenv("AWS_REGION");

	memset(cfg, 0, sizeof(*cfg));
	vf_config_init_section(&vf_config_root_section, (char *)cfg);
	if (region == NULL || *region == '\0')
		region = getenv("AWS_DEFAULT_REGION");
	if (region != NULL && *region != '\0') {
		cfg->aws.region = vf_config_dup_text(region, strlen(region));
		if (cfg->aws.region == NULL)
			abort();
	}
}

void vf_config_finish(struct vf_config *cfg)
{
	vf_config_free_section(&vf_config_root_section, (char *)cfg);
	memset(cfg, 0, sizeof(*cfg));
}

bool vf_config_load_string(struct vf_config *cfg, const char *name,
	const char *yaml, size_t len, char *err, size_t errlen)
{
	struct ctx c = { .file = name, .err = err, .errlen = errlen };
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	bool ok = false;

	if (err != NULL && errlen > 0)
		*err = '\0';
	if (len > MAX_FILE_SIZE)
		return vf_config_fail_line(&c, 0,
			"the file is larger than %d bytes", MAX_FILE_SIZE);
	if (!vf_config_prescan(&c, yaml, len))
		return false;
	if (!yaml_parser_initialize(&p))
		return vf_config_fail_line(&c, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&p, &doc)) {
		vf_config_parser_fail(&c, &p, yaml, len);
		goto out_parser;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && !vf_config_is_null(root) &&
	    root->type != YAML_MAPPING_NODE) {
		vf_config_fail(&c, root, "the top level must be a mapping of "
			"sections (aws, kinesis, output, ...), not %s",
			vf_config_node_kind(root));
		goto out_doc;
	}
	if (root != NULL && !vf_config_load_map(&c, &vf_config_root_section,
	    (char *)cfg, root))
		goto out_doc;
	ok = finalize(&c, cfg);
out_doc:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&p);
	return ok;
}

bool vf_config_load(struct vf_config *cfg, const char *path, char *err,
	size_t errlen)
{
	struct ctx c = { .file = path, .err = err, .errlen = errlen };
	FILE *f;
	char *data = NULL;
	size_t len;
	bool ok = false;

	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	data = malloc(MAX_FILE_SIZE + 1);
	if (data == NULL) {
		vf_config_fail_line(&c, 0, "out of memory");
		goto out;
	}
	len = fread(data, 1, MAX_FILE_SIZE + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	ok = vf_config_load_string(cfg, path, data, len, err, errlen);
out:
	free(data);
	fclose(f);
	return ok;
}

const char *vf_config_output_type_name(enum vf_config_output_type type)
{
	if ((unsigned)type >= sizeof(output_names) / sizeof(output_names[0]) - 1)
		return "unknown";
	return output_names[type];
}

const char *vf_config_threat_format_name(enum vf_config_threat_format fmt)
{
	if ((unsigned)fmt >= sizeof(threat_format_names) /
	    sizeof(threat_format_names[0]) - 1)
		return "unknown";
	return threat_format_names[fmt];
}
