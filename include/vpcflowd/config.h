/*
 * vf_config: the YAML configuration (docs/configuration.md is the
 * reference). Loading is table driven: every key has one row in
 * src/ops/config.c giving its type, its default and where it is stored.
 *
 * Lifecycle: vf_config_init() sets the defaults, vf_config_load() lays a
 * file over them (it may be called more than once), vf_config_finish()
 * frees everything. Every string, array and parsed format below is owned by
 * the config and freed by vf_config_finish(). Units: durations are
 * milliseconds (the _ms fields), sizes are bytes.
 */
#ifndef VPCFLOWD_CONFIG_H
#define VPCFLOWD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vpcflowd/log.h"

struct vf_format;

enum vf_config_start_position {
	VF_CONFIG_START_TRIM_HORIZON,
	VF_CONFIG_START_LATEST,
	VF_CONFIG_START_AT_TIMESTAMP,
};

enum vf_config_checkpoint_store {
	VF_CONFIG_CHECKPOINT_FILE,
	VF_CONFIG_CHECKPOINT_DYNAMODB,
};

enum vf_config_threat_format {
	VF_CONFIG_THREAT_PLAIN,
	VF_CONFIG_THREAT_SPAMHAUS,
	VF_CONFIG_THREAT_TOR,
	VF_CONFIG_THREAT_CSV,
};

enum vf_config_output_type {
	VF_CONFIG_OUTPUT_GELF_UDP,
	VF_CONFIG_OUTPUT_GELF_TCP,
	VF_CONFIG_OUTPUT_GELF_HTTP,
	VF_CONFIG_OUTPUT_KAFKA,
	VF_CONFIG_OUTPUT_STDOUT,
	VF_CONFIG_OUTPUT_NULL,
};

enum vf_config_compression {
	VF_CONFIG_COMPRESSION_NONE,
	VF_CONFIG_COMPRESSION_GZIP,
	VF_CONFIG_COMPRESSION_ZLIB,
};

enum vf_config_log_format {
	VF_CONFIG_LOG_TEXT,
	VF_CONFIG_LOG_JSON,
};

/* One entry of enrich.internal_networks. */
struct vf_config_cidr {
	char *text;            /* as written: "10.0.0.0/8" */
	int family;            /* AF_INET or AF_INET6 */
	uint8_t prefix;        /* a bare address is /32 or /128 */
	uint8_t addr[16];      /* network order, host bits 0; IPv4 uses 4 */
};

/* One entry of flow_logs.log_groups. */
struct vf_config_log_group {
	char *name;            /* CloudWatch log group name */
	char *format;          /* format text as written; NULL when not given */
	struct vf_format *fmt; /* the parsed format; NULL when format is NULL */
};

/* One entry of enrich.threat_lists: exactly one of url and path is set. */
struct vf_config_threat_list {
	char *name;            /* [a-z0-9_]+, the GELF field suffix */
	char *url;
	char *path;
	enum vf_config_threat_format format;   /* default plain */
	unsigned column;       /* csv: 1-based address column; 0 otherwise */
	uint64_t refresh_ms;   /* default 4h */
};

/* One output.kafka.properties entry, passed to librdkafka as it is. */
struct vf_config_property {
	char *name;
	char *value;
};

struct vf_config_aws {
	char *region;          /* default $AWS_REGION, else $AWS_DEFAULT_REGION */
	char *profile;
	char *role_arn;
	char *external_id;
};

struct vf_config_kinesis {
	char *stream;
	char *endpoint;
	enum vf_config_start_position start_position;   /* trim_horizon */
	char *start_timestamp;        /* RFC 3339 text as written */
	int64_t start_timestamp_ms;   /* the same, Unix milliseconds */
	char **shards;                /* only these shard ids; none: all */
	size_t n_shards;
	unsigned max_records;         /* 10000 */
	uint64_t poll_interval_ms;    /* 1s */
};

struct vf_config_checkpoint {
	enum vf_config_checkpoint_store store;   /* file */
	char *path;            /* /var/lib/vpcflowd */
	char *table;           /* default "vpcflowd-<kinesis.stream>" */
	char *endpoint;
	uint64_t interval_ms;  /* 10s */
	char *worker_id;       /* NULL: the daemon uses hostname-pid */
	uint64_t failover_ms;  /* 10s */
};

struct vf_config_flow_logs {
	char *format;          /* NULL: the default (v2) format */
	struct vf_format *fmt; /* parsed format; NULL when format is NULL */
	struct vf_config_log_group *log_groups;
	size_t n_log_groups;
	bool discover_formats;
};

/* GeoIP2 lookup paths, dotted: "city.names.en". */
struct vf_config_geoip_paths {
	char *country_code;
	char *city_name;
	char *latitude;
	char *longitude;
	char *as_number;
	char *as_organization;
};

struct vf_config_geoip {
	char *city_db;         /* NULL: no city lookups */
	char *asn_db;          /* NULL: no ASN lookups */
	struct vf_config_geoip_paths paths;
};

struct vf_config_aws_entities {
	bool enabled;
	char **regions;        /* none: aws.region */
	size_t n_regions;
	char *endpoint;
	uint64_t refresh_ms;   /* 60s */
};

struct vf_config_enrich {
	struct vf_config_cidr *internal_networks;
	size_t n_internal_networks;
	struct vf_config_geoip geoip;
	struct vf_config_threat_list *threat_lists;
	size_t n_threat_lists;
	struct vf_config_aws_entities aws_entities;
};

struct vf_config_tls {
	bool enabled;
	char *ca_file;
	char *cert_file;
	char *key_file;
	bool verify;           /* true */
};

struct vf_config_kafka {
	char *brokers;         /* "host:port,host:port" (a YAML list is joined) */
	char *topic;
	struct vf_config_property *properties;
	size_t n_properties;
};

struct vf_config_output {
	enum vf_config_output_type type;   /* stdout */
	char *host;            /* 127.0.0.1 */
	unsigned port;         /* 12201 */
	char *url;
	enum vf_config_compression compression;   /* none */
	unsigned chunk_size;   /* 1420 */
	uint64_t bulk_max_size;   /* 0: gelf_http posts one message a request */
	uint64_t resend_window;   /* 4MiB: gelf_tcp, acknowledged bytes sent again on a new connection */
	struct vf_config_tls tls;
	char *source;          /* "aws-flowlogs", the GELF host field */
	uint64_t retry_budget_ms;  /* 60s: down this long, /healthz says 503 */
	struct vf_config_kafka kafka;
};

struct vf_config_dead_letter {
	char *path;            /* NULL: no dead-letter file */
	uint64_t max_size;     /* 64MiB */
};

struct vf_config_limits {
	uint64_t max_record_size;   /* 16MiB */
};

struct vf_config_metrics {
	char *listen;          /* "127.0.0.1:9108"; "" disables */
};

struct vf_config_log {
	enum log_level level;  /* info */
	enum vf_config_log_format format;   /* text */
};

struct vf_config {
	struct vf_config_aws aws;
	struct vf_config_kinesis kinesis;
	struct vf_config_checkpoint checkpoint;
	struct vf_config_flow_logs flow_logs;
	struct vf_config_enrich enrich;
	struct vf_config_output output;
	struct vf_config_dead_letter dead_letter;
	struct vf_config_limits limits;
	struct vf_config_metrics metrics;
	struct vf_config_log log;
};

/* Sets every key to its default. Aborts only when memory runs out. */
void vf_config_init(struct vf_config *cfg);
/*
 * Reads the YAML file at path over what cfg holds (vf_config_init first).
 * On failure returns false with one line in err, "FILE:LINE: KEY.PATH:
 * message", and cfg is left part loaded: vf_config_finish() it.
 */
bool vf_config_load(struct vf_config *cfg, const char *path,
	char *err, size_t errlen);
/* The same from memory; name stands for the file name in errors. */
bool vf_config_load_string(struct vf_config *cfg, const char *name,
	const char *yaml, size_t len, char *err, size_t errlen);
/*
 * Writes the effective configuration as YAML that vf_config_load() accepts,
 * with secrets replaced by "***" (see docs/configuration.md).
 */
void vf_config_print(const struct vf_config *cfg, FILE *out);
/* Frees everything; accepts a zeroed or part-loaded config. */
void vf_config_finish(struct vf_config *cfg);

/* Names as written in the file: "gelf_udp", "spamhaus", ... */
const char *vf_config_output_type_name(enum vf_config_output_type type);
const char *vf_config_threat_format_name(enum vf_config_threat_format fmt);

/*
 * "250ms", "10s", "5m", "4h", "1d", or a sum of them written together
 * ("1h30m"); "0" alone is zero. Returns false on anything else or overflow.
 */
bool vf_parse_duration(const char *s, uint64_t *ms);
/*
 * Bytes: "512", "512B", "64KiB", "16MiB", "1GiB", "1TiB" (powers of 1024),
 * or "KB"/"kB", "MB", "GB", "TB" (powers of 1000); one space may come
 * before the unit. Returns false on anything else or overflow.
 */
bool vf_parse_size(const char *s, uint64_t *bytes);

#endif
