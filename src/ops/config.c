/*
 * The YAML configuration: one table row per key (type, where it is stored,
 * its default), walked by a small loader over libyaml's document API. The
 * same tables drive the defaults, freeing and printing, so a key added to a
 * table is loaded, printed and freed with no other change.
 *
 * Nothing here logs: errors come back as one "FILE:LINE: KEY.PATH: message"
 * line in the caller's buffer.
 */
#include "vpcflowd/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <yaml.h>

#include "vpcflowd/buf.h"
#include "vpcflowd/flow.h"

#define MAX_FILE_SIZE   (1024 * 1024)   /* bytes of YAML */
#define MAX_SCALAR      16384           /* bytes in one value */
#define MAX_KEY         128             /* bytes in one key */
#define MAX_DEPTH       32              /* nested mappings and lists */
#define MAX_NAME        32              /* threat list name */

#define ENV_TAG         "!env"
#define CORE_TAG        "tag:yaml.org,2002:"

#define MS_SECOND       1000ULL
#define MS_MINUTE       (60 * MS_SECOND)
#define MS_HOUR         (60 * MS_MINUTE)
#define MS_DAY          (24 * MS_HOUR)
#define KIB             1024ULL
#define MIB             (1024 * KIB)
#define GIB             (1024 * MIB)

_Static_assert(sizeof(enum vf_config_start_position) == sizeof(int) &&
	sizeof(enum vf_config_checkpoint_store) == sizeof(int) &&
	sizeof(enum vf_config_threat_format) == sizeof(int) &&
	sizeof(enum vf_config_output_type) == sizeof(int) &&
	sizeof(enum vf_config_compression) == sizeof(int) &&
	sizeof(enum vf_config_log_format) == sizeof(int) &&
	sizeof(enum log_level) == sizeof(int),
	"enum keys are stored through an int pointer");

enum kind {
	K_SECTION,     /* a nested mapping: sub */
	K_STR,         /* char *; null unsets it */
	K_BOOL,        /* bool */
	K_UINT,        /* unsigned, min..max */
	K_DURATION,    /* uint64_t milliseconds, min..max (max 0: none) */
	K_SIZE,        /* uint64_t bytes, min..max (max 0: none) */
	K_ENUM,        /* int, index into names */
	K_STRLIST,     /* char **, count at aux; at most max entries */
	K_CIDRLIST,    /* struct vf_config_cidr *, count at aux */
	K_PROPS,       /* struct vf_config_property *, count at aux */
	K_ITEMS,       /* a list of mappings of sub: array, count at aux */
	K_FORMAT,      /* char * text, struct vf_format * at aux */
	K_TIMESTAMP,   /* char * text, int64_t Unix ms at aux */
	K_BROKERS,     /* char *: a string, or a list joined with commas */
	K_LISTEN,      /* char *: host:port, "" (or null) disables */
};

#define F_NONEMPTY      0x01    /* a string that may not be null or "" */
#define F_URL           0x02    /* http(s) URL; credentials masked in print */
#define F_SECRET        0x04    /* printed as "***" */
#define F_ZERO_UNSET    0x08    /* K_UINT: 0 means not given */
#define F_NAME          0x10    /* [a-z0-9_]+ */
#define F_GEOPATH       0x20    /* a dotted lookup path */

struct ctx;
struct section;

struct key {
	const char *name;
	uint8_t kind;
	uint8_t flags;
	size_t off;                     /* where the value is, from base */
	size_t aux;                     /* second field: count, format, ms */
	uint64_t min, max;
	const char *const *names;       /* K_ENUM, NULL terminated */
	const struct section *sub;      /* K_SECTION, K_ITEMS */
	const char *def;                /* the default, as written in YAML */
};

struct section {
	const struct key *keys;
	size_t item_size;               /* K_ITEMS: one element */
	/* Cross-key checks once the mapping is loaded; base as for keys. */
	bool (*check)(struct ctx *c, char *base, yaml_node_t *map);
	/* K_ITEMS: checks element i against the ones before it. */
	bool (*check_item)(struct ctx *c, char *items, size_t i,
		yaml_node_t *map);
};

struct ctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
	char path[512];                 /* dotted key path of the value */
	size_t pathlen;
};

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
	{ "tls", K_SECTION, 0, 0, .sub = &tls_section },
	{ "source", K_STR, F_NONEMPTY, CFG(output.source),
	  .def = "aws-flowlogs" },
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

static const struct section root_section = { root_keys };

/* ---- errors and key paths ---- */

static size_t node_line(const yaml_node_t *n)
{
	return n ? n->start_mark.line + 1 : 0;
}

static void vset_err(struct ctx *c, size_t line, const char *fmt,
	va_list ap) __attribute__((format(printf, 3, 0)));

static void vset_err(struct ctx *c, size_t line, const char *fmt, va_list ap)
{
	char msg[768];

	if (c->err == NULL || c->errlen == 0)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line == 0)          /* about the whole file */
		snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
	else if (c->pathlen > 0)
		snprintf(c->err, c->errlen, "%s:%zu: %s: %s", c->file, line,
			c->path, msg);
	else
		snprintf(c->err, c->errlen, "%s:%zu: %s", c->file, line, msg);
}

static bool fail_line(struct ctx *c, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool fail_line(struct ctx *c, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_err(c, line, fmt, ap);
	va_end(ap);
	return false;
}

static bool fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets the error for the current key path at node n's line. */
static bool fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_err(c, node_line(n), fmt, ap);
	va_end(ap);
	return false;
}

/* Appends text to the path as it is, printable bytes only. */
static void path_add(struct ctx *c, const char *s, size_t len)
{
	for (size_t i = 0; i < len && c->pathlen + 1 < sizeof(c->path); i++) {
		unsigned char ch = (unsigned char)s[i];

		c->path[c->pathlen++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	c->path[c->pathlen] = '\0';
}

/* Adds ".key" to the path; returns the length to go back to. */
static size_t path_push(struct ctx *c, const char *key, size_t len)
{
	size_t mark = c->pathlen;

	if (c->pathlen > 0)
		path_add(c, ".", 1);
	path_add(c, key, len > 64 ? 64 : len);
	return mark;
}

static size_t path_index(struct ctx *c, size_t i)
{
	size_t mark = c->pathlen;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "[%zu]", i);

	path_add(c, buf, (size_t)n);
	return mark;
}

static void path_pop(struct ctx *c, size_t mark)
{
	c->pathlen = mark;
	c->path[mark] = '\0';
}

/* "text" for messages: at most 48 bytes, unprintable bytes as '?'. */
static const char *quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t n = 0, i, max = size - 6;

	buf[n++] = '"';
	for (i = 0; i < len && n < max; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (i < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* ---- small parsers ---- */

static bool parse_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return true;
}

static bool parse_uint(const char *s, uint64_t *out)
{
	return parse_digits(&s, out) && *s == '\0';
}

bool vf_parse_duration(const char *s, uint64_t *ms)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", MS_SECOND }, { "m", MS_MINUTE },
		{ "h", MS_HOUR }, { "d", MS_DAY },
	};
	uint64_t total = 0;

	if (s == NULL || *s == '\0')
		return false;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return true;
	}
	while (*s != '\0') {
		uint64_t n, mult = 0;
		size_t ulen = 0;

		if (!parse_digits(&s, &n))
			return false;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t len = strlen(units[i].unit);

			if (strncmp(s, units[i].unit, len) == 0 &&
			    (s[len] == '\0' ||
			     (s[len] >= '0' && s[len] <= '9'))) {
				mult = units[i].ms;
				ulen = len;
				break;
			}
		}
		if (mult == 0 || n > UINT64_MAX / mult ||
		    total > UINT64_MAX - n * mult)
			return false;
		total += n * mult;
		s += ulen;
	}
	*ms = total;
	return true;
}

bool vf_parse_size(const char *s, uint64_t *bytes)
{
	static const struct { const char *unit; uint64_t mult; } units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KiB", KIB }, { "MiB", MIB }, { "GiB", GIB },
		{ "TiB", 1024 * GIB },
		{ "kB", 1000 }, { "KB", 1000 }, { "MB", 1000000 },
		{ "GB", 1000000000 }, { "TB", 1000000000000ULL },
	};
	uint64_t n;

	if (s == NULL || !parse_digits(&s, &n))
		return false;
	if (*s == ' ' && s[1] != '\0')
		s++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].unit) != 0)
			continue;
		if (n > UINT64_MAX / units[i].mult)
			return false;
		*bytes = n * units[i].mult;
		return true;
	}
	return false;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Exactly n digits at s, as a number. */
static bool fixed_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int days_in_month(int year, int month)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* RFC 3339: 2026-11-20T00:00:00Z, 2026-11-20T01:00:00.250+01:00. */
static bool parse_timestamp(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, frac = 0, sign = 0;
	struct tm tm = { 0 };
	time_t t;

	if (!fixed_digits(s, 4, &y) || s[4] != '-' ||
	    !fixed_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !fixed_digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !fixed_digits(s + 11, 2, &h) || s[13] != ':' ||
	    !fixed_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !fixed_digits(s + 17, 2, &sec))
		return false;
	s += 19;
	if (*s == '.') {
		int n = 0;

		if (*++s < '0' || *s > '9')
			return false;
		for (; *s >= '0' && *s <= '9'; s++, n++) {
			if (n < 3)
				frac = frac * 10 + (*s - '0');
		}
		for (; n < 3; n++)
			frac *= 10;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (!fixed_digits(s + 1, 2, &oh) || s[3] != ':' ||
		    !fixed_digits(s + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		s += 6;
	} else {
		return false;
	}
	if (*s != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	t -= (time_t)sign * (oh * 3600 + om * 60);
	*ms = (int64_t)t * 1000 + frac;
	return true;
}

/* An address or network; why gets the reason when it is not one. */
static bool parse_cidr(const char *s, size_t len, struct vf_config_cidr *out,
	char *why, size_t whylen)
{
	char buf[64], net[INET6_ADDRSTRLEN];
	char *slash;
	uint64_t prefix;
	unsigned max, nbytes;

	*why = '\0';
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	prefix = max;
	if (slash != NULL && (!parse_uint(slash + 1, &prefix) ||
	    slash[1] == '\0' || strlen(slash + 1) > 3 || prefix > max)) {
		snprintf(why, whylen, "the prefix length must be 0 to %u", max);
		return false;
	}
	out->prefix = (uint8_t)prefix;
	nbytes = max / 8;
	for (unsigned bit = (unsigned)prefix; bit < max; bit++) {
		uint8_t mask = (uint8_t)(0x80 >> (bit % 8));

		if (out->addr[bit / 8] & mask) {
			uint8_t clean[16];

			memcpy(clean, out->addr, nbytes);
			for (unsigned b = (unsigned)prefix; b < max; b++)
				clean[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
			inet_ntop(out->family, clean, net, sizeof(net));
			snprintf(why, whylen, "host bits are set (did you mean "
				"%s/%u?)", net, (unsigned)prefix);
			return false;
		}
	}
	return true;
}

static bool valid_url(const char *s)
{
	size_t skip;

	if (strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	s += skip;
	return *s != '\0' && strcspn(s, "/?#") > 0 &&
		strpbrk(s, " \t\r\n") == NULL;
}

static bool valid_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n > 0 && n <= MAX_NAME && s[n] == '\0';
}

/* country.iso_code, subdivisions.0.iso_code: non-empty dotted segments. */
static bool valid_geopath(const char *s)
{
	static const char seg[] = "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";

	for (;;) {
		size_t n = strspn(s, seg);

		if (n == 0)
			return false;
		s += n;
		if (*s == '\0')
			return true;
		if (*s++ != '.')
			return false;
	}
}

/* host:port, [v6]:port or :port (every address). */
static bool valid_listen(const char *s)
{
	const char *colon;
	uint64_t port;

	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end == s + 1 || end[1] != ':')
			return false;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)))
			return false;
	}
	return parse_uint(colon + 1, &port) && port >= 1 && port <= 65535;
}

/* ---- values ---- */

static yaml_node_t *node_at(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a single value";
	}
}

static const char *tag_of(const yaml_node_t *n)
{
	return n->tag ? (const char *)n->tag : "";
}

static bool is_env(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && strcmp(tag_of(n), ENV_TAG) == 0;
}

/* ~, null, or nothing at all, not quoted and not tagged !env. */
static bool is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || is_env(n))
		return false;
	v = (const char *)n->data.scalar.value;
	if (strcmp(tag_of(n), CORE_TAG "null") == 0)
		return true;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
		strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Tags: the YAML core ones are fine, !env only on values, others not. */
static bool check_tag(struct ctx *c, const yaml_node_t *n)
{
	const char *tag = tag_of(n);

	if (*tag == '\0' || strncmp(tag, CORE_TAG, strlen(CORE_TAG)) == 0)
		return true;
	if (strcmp(tag, ENV_TAG) == 0) {
		if (n->type == YAML_SCALAR_NODE)
			return true;
		return fail(c, n, "!env takes a variable name, not %s",
			node_kind(n));
	}
	return fail(c, n, "unknown tag \"%.64s\" (only !env is supported)", tag);
}

/* The value of "!env NAME" or "!env NAME:-default". */
static bool env_value(struct ctx *c, const yaml_node_t *n, const char **text,
	size_t *len)
{
	const char *spec = (const char *)n->data.scalar.value;
	size_t nlen = strspn(spec, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789_");
	bool has_def = spec[nlen] == ':' && spec[nlen + 1] == '-';
	char name[256];
	const char *v;

	if (nlen == 0 || nlen >= sizeof(name) || (spec[0] >= '0' &&
	    spec[0] <= '9') || (spec[nlen] != '\0' && !has_def))
		return fail(c, n, "expected !env NAME or !env NAME:-default, "
			"got \"!env %.64s\"", spec);
	memcpy(name, spec, nlen);
	name[nlen] = '\0';
	v = getenv(name);
	if (has_def && (v == NULL || *v == '\0'))
		v = spec + nlen + 2;
	if (v == NULL)
		return fail(c, n, "environment variable %s is not set", name);
	*text = v;
	*len = strlen(v);
	return true;
}

/*
 * The text of a single value: its own, or an environment variable's for
 * !env. *null is set for ~, null and empty plain values. what names the
 * expected type for the "got a mapping" message.
 */
static bool scalar_text(struct ctx *c, const yaml_node_t *n, const char *what,
	const char **text, size_t *len, bool *null)
{
	if (!check_tag(c, n))
		return false;
	if (n->type != YAML_SCALAR_NODE)
		return fail(c, n, "expected %s, got %s", what, node_kind(n));
	*null = is_null(n);
	if (is_env(n)) {
		if (!env_value(c, n, text, len))
			return false;
	} else {
		*text = (const char *)n->data.scalar.value;
		*len = n->data.scalar.length;
	}
	if (*len > MAX_SCALAR)
		return fail(c, n, "the value is longer than %d bytes", MAX_SCALAR);
	if (strlen(*text) != *len)
		return fail(c, n, "the value contains a NUL byte");
	return true;
}

static char *dup_text(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Replaces *slot with a copy of s (NULL unsets it). */
static bool set_str(struct ctx *c, const yaml_node_t *n, char **slot,
	const char *s, size_t len)
{
	char *p = NULL;

	if (s != NULL && (p = dup_text(s, len)) == NULL)
		return fail(c, n, "out of memory");
	free(*slot);
	*slot = p;
	return true;
}

#define AT(base, off, type) ((type *)(void *)((base) + (off)))

/* What a key takes, for "expected ..." messages. */
static const char *expect(const struct key *k, char *buf, size_t size)
{
	size_t n = 0;

	switch (k->kind) {
	case K_BOOL:
		return "true or false";
	case K_UINT:
		snprintf(buf, size, "an integer from %llu to %llu",
			(unsigned long long)k->min, (unsigned long long)k->max);
		return buf;
	case K_DURATION:
		return "a duration such as 250ms, 10s, 5m or 4h";
	case K_SIZE:
		return "a size such as 512KiB, 16MiB or 1GiB";
	case K_ENUM:
		n = (size_t)snprintf(buf, size, "one of ");
		for (size_t i = 0; k->names[i] != NULL && n < size; i++)
			n += (size_t)snprintf(buf + n, size - n, "%s%s",
				i ? " | " : "", k->names[i]);
		return buf;
	case K_TIMESTAMP:
		return "an RFC 3339 time such as 2026-11-20T00:00:00Z";
	case K_LISTEN:
		return "host:port, [ipv6]:port or \"\" (disabled)";
	case K_FORMAT:
		return "a flow log format string";
	case K_STRLIST:
	case K_CIDRLIST:
		return "a list";
	case K_PROPS:
	case K_SECTION:
		return "a mapping";
	case K_ITEMS:
		return "a list of mappings";
	}
	if (k->flags & F_URL)
		return "an http:// or https:// URL";
	if (k->flags & F_NAME)
		return "a name of lower-case letters, digits and _ (at most 32)";
	if (k->flags & F_GEOPATH)
		return "a dotted lookup path such as country.iso_code";
	return k->flags & F_NONEMPTY ? "a non-empty string" : "a string";
}

static void format_duration(char *buf, size_t size, uint64_t ms)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "d", MS_DAY }, { "h", MS_HOUR }, { "m", MS_MINUTE },
		{ "s", MS_SECOND },
	};

	for (size_t i = 0; ms > 0 && i < sizeof(units) / sizeof(units[0]);
	     i++) {
		if (ms % units[i].ms == 0) {
			snprintf(buf, size, "%llu%s", (unsigned long long)
				(ms / units[i].ms), units[i].unit);
			return;
		}
	}
	snprintf(buf, size, ms ? "%llums" : "%llus", (unsigned long long)ms);
}

static void format_size(char *buf, size_t size, uint64_t bytes)
{
	static const struct { const char *unit; uint64_t mult; } units[] = {
		{ "TiB", 1024 * GIB }, { "GiB", GIB }, { "MiB", MIB },
		{ "KiB", KIB },
	};

	for (size_t i = 0; bytes > 0 && i < sizeof(units) / sizeof(units[0]);
	     i++) {
		if (bytes % units[i].mult == 0) {
			snprintf(buf, size, "%llu%s", (unsigned long long)
				(bytes / units[i].mult), units[i].unit);
			return;
		}
	}
	snprintf(buf, size, "%llu", (unsigned long long)bytes);
}

/* A duration or size within k->min..k->max (max 0: no upper bound). */
static bool check_range(struct ctx *c, const struct key *k,
	const yaml_node_t *n, uint64_t v)
{
	char lim[32];

	if (v >= k->min && (k->max == 0 || v <= k->max))
		return true;
	if (k->kind == K_DURATION)
		format_duration(lim, sizeof(lim), v < k->min ? k->min : k->max);
	else
		format_size(lim, sizeof(lim), v < k->min ? k->min : k->max);
	return fail(c, n, "must be %s %s", v < k->min ? "at least" : "at most",
		lim);
}

static bool set_format(struct ctx *c, const struct key *k, char *base,
	const yaml_node_t *n, const char *s, size_t len)
{
	struct vf_format **fmtp = AT(base, k->aux, struct vf_format *);
	struct vf_format *fmt = NULL;
	char why[256] = "";

	if (s != NULL) {
		fmt = vf_format_create(s, len, why, sizeof(why));
		if (fmt == NULL)
			return fail(c, n, "invalid flow log format: %s", why);
	}
	if (!set_str(c, n, AT(base, k->off, char *), s, len)) {
		vf_format_destroy(fmt);
		return false;
	}
	vf_format_destroy(*fmtp);
	*fmtp = fmt;
	return true;
}

/* Sets a single-valued key from its text; n (NULL for defaults) for lines. */
static bool set_scalar(struct ctx *c, const struct key *k, char *base,
	const yaml_node_t *n, const char *s, size_t len, bool null)
{
	char want[160], got[64];
	uint64_t v;
	bool b;
	int64_t ms;

	switch (k->kind) {
	case K_STR:
	case K_BROKERS:
		/* null unsets a key, unless it has a default or no "" */
		if (null && (k->def == NULL || !(k->flags & F_NONEMPTY)))
			return set_str(c, n, AT(base, k->off, char *), NULL, 0);
		if (null || len == 0)
			return fail(c, n, "must not be empty");
		if (((k->flags & F_URL) && !valid_url(s)) ||
		    ((k->flags & F_NAME) && !valid_name(s)) ||
		    ((k->flags & F_GEOPATH) && !valid_geopath(s)))
			goto bad;
		return set_str(c, n, AT(base, k->off, char *), s, len);
	case K_LISTEN:
		if (null) {
			s = "";
			len = 0;
		}
		if (len > 0 && !valid_listen(s))
			goto bad;
		return set_str(c, n, AT(base, k->off, char *), s, len);
	case K_BOOL:
		if (null || !parse_bool(s, &b))
			goto bad;
		*AT(base, k->off, bool) = b;
		return true;
	case K_UINT:
		if (null || !parse_uint(s, &v) || v < k->min || v > k->max)
			goto bad;
		*AT(base, k->off, unsigned) = (unsigned)v;
		return true;
	case K_DURATION:
	case K_SIZE:
		if (null || !(k->kind == K_DURATION ? vf_parse_duration(s, &v) :
		    vf_parse_size(s, &v)))
			goto bad;
		if (!check_range(c, k, n, v))
			return false;
		*AT(base, k->off, uint64_t) = v;
		return true;
	case K_ENUM:
		for (int i = 0; !null && k->names[i] != NULL; i++) {
			if (strcmp(s, k->names[i]) == 0) {
				*AT(base, k->off, int) = i;
				return true;
			}
		}
		goto bad;
	case K_FORMAT:
		return set_format(c, k, base, n, null ? NULL : s, len);
	case K_TIMESTAMP:
		if (null) {
			*AT(base, k->aux, int64_t) = 0;
			return set_str(c, n, AT(base, k->off, char *), NULL, 0);
		}
		if (!parse_timestamp(s, &ms))
			goto bad;
		*AT(base, k->aux, int64_t) = ms;
		return set_str(c, n, AT(base, k->off, char *), s, len);
	default:
		return fail(c, n, "expected %s, got a single value",
			expect(k, want, sizeof(want)));
	}
bad:
	return fail(c, n, "expected %s, got %s", expect(k, want, sizeof(want)),
		null ? "nothing" : quote(got, sizeof(got), s, len));
}

/* Appends one entry to a K_STRLIST or K_CIDRLIST. */
static bool list_add(struct ctx *c, const struct key *k, char *base,
	const yaml_node_t *n, const char *s, size_t len)
{
	size_t *count = AT(base, k->aux, size_t);
	char got[64], why[96];

	if (*count >= k->max)
		return fail(c, n, "more than %llu entries",
			(unsigned long long)k->max);
	if (len == 0)
		return fail(c, n, "expected a non-empty value");
	if (k->kind == K_STRLIST) {
		char ***arr = AT(base, k->off, char **);
		char **p = realloc(*arr, (*count + 1) * sizeof(*p));

		if (p == NULL)
			return fail(c, n, "out of memory");
		*arr = p;
		if ((p[*count] = dup_text(s, len)) == NULL)
			return fail(c, n, "out of memory");
	} else {
		struct vf_config_cidr **arr = AT(base, k->off,
			struct vf_config_cidr *);
		struct vf_config_cidr net, *p;

		if (!parse_cidr(s, len, &net, why, sizeof(why))) {
			if (*why != '\0')
				return fail(c, n, "%s: %s",
					quote(got, sizeof(got), s, len), why);
			return fail(c, n, "expected an IPv4 or IPv6 network "
				"such as 10.0.0.0/8 or fc00::/7, got %s",
				quote(got, sizeof(got), s, len));
		}
		p = realloc(*arr, (*count + 1) * sizeof(*p));
		if (p == NULL)
			return fail(c, n, "out of memory");
		*arr = p;
		if ((net.text = dup_text(s, len)) == NULL)
			return fail(c, n, "out of memory");
		p[*count] = net;
	}
	(*count)++;
	return true;
}

/* Calls add for each comma-separated, blank-trimmed piece of s. */
static bool split_list(struct ctx *c, const struct key *k, char *base,
	const yaml_node_t *n, const char *s)
{
	while (*s != '\0') {
		size_t len = strcspn(s, ",");
		const char *next = s[len] ? s + len + 1 : s + len;

		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len > 0 && !list_add(c, k, base, n, s, len))
			return false;
		s = next;
	}
	return true;
}

static void free_section(const struct section *sec, char *base);

/* Frees one key's value and sets it back to empty. */
static void clear_value(const struct key *k, char *base)
{
	size_t *count = AT(base, k->aux, size_t);

	switch (k->kind) {
	case K_STR:
	case K_BROKERS:
	case K_LISTEN:
	case K_TIMESTAMP:
		free(*AT(base, k->off, char *));
		*AT(base, k->off, char *) = NULL;
		break;
	case K_FORMAT:
		free(*AT(base, k->off, char *));
		*AT(base, k->off, char *) = NULL;
		vf_format_destroy(*AT(base, k->aux, struct vf_format *));
		*AT(base, k->aux, struct vf_format *) = NULL;
		break;
	case K_STRLIST: {
		char **arr = *AT(base, k->off, char **);

		for (size_t i = 0; i < *count; i++)
			free(arr[i]);
		free(arr);
		*AT(base, k->off, char **) = NULL;
		*count = 0;
		break;
	}
	case K_CIDRLIST: {
		struct vf_config_cidr *arr = *AT(base, k->off,
			struct vf_config_cidr *);

		for (size_t i = 0; i < *count; i++)
			free(arr[i].text);
		free(arr);
		*AT(base, k->off, struct vf_config_cidr *) = NULL;
		*count = 0;
		break;
	}
	case K_PROPS: {
		struct vf_config_property *arr = *AT(base, k->off,
			struct vf_config_property *);

		for (size_t i = 0; i < *count; i++) {
			free(arr[i].name);
			free(arr[i].value);
		}
		free(arr);
		*AT(base, k->off, struct vf_config_property *) = NULL;
		*count = 0;
		break;
	}
	case K_ITEMS: {
		char *items = *AT(base, k->off, char *);

		for (size_t i = 0; i < *count; i++)
			free_section(k->sub, items + i * k->sub->item_size);
		free(items);
		*AT(base, k->off, char *) = NULL;
		*count = 0;
		break;
	}
	case K_SECTION:
		free_section(k->sub, base);
		break;
	default:
		break;
	}
}

static void free_section(const struct section *sec, char *base)
{
	for (const struct key *k = sec->keys; k->name != NULL; k++)
		clear_value(k, base);
}

/* Sets every key of a section to its default. */
static void init_section(const struct section *sec, char *base)
{
	char err[512];
	struct ctx c = { .file = "(defaults)", .err = err,
		.errlen = sizeof(err) };
	bool ok = true;

	for (const struct key *k = sec->keys; k->name != NULL; k++) {
		if (k->kind == K_SECTION)
			init_section(k->sub, base);
		else if (k->def != NULL && (k->kind == K_STRLIST ||
		    k->kind == K_CIDRLIST))
			ok = split_list(&c, k, base, NULL, k->def);
		else if (k->def != NULL)
			ok = set_scalar(&c, k, base, NULL, k->def,
				strlen(k->def), false);
		if (!ok)
			abort();        /* a bad default or out of memory */
	}
}

/* ---- mappings and lists ---- */

static bool load_map(struct ctx *c, const struct section *sec, char *base,
	yaml_node_t *map);

/* A mapping key: a plain string, no tags. */
static bool key_text(struct ctx *c, const yaml_node_t *kn, const char **s,
	size_t *len)
{
	if (kn->type != YAML_SCALAR_NODE || is_env(kn) || (*tag_of(kn) &&
	    strcmp(tag_of(kn), CORE_TAG "str") != 0))
		return fail(c, kn, "keys must be plain strings");
	*s = (const char *)kn->data.scalar.value;
	*len = kn->data.scalar.length;
	if (*len == 0 || *len > MAX_KEY || strlen(*s) != *len)
		return fail(c, kn, "keys must be 1 to %d bytes of text",
			MAX_KEY);
	return true;
}

static bool same_key(const yaml_node_t *a, const yaml_node_t *b)
{
	return a->type == YAML_SCALAR_NODE && b->type == YAML_SCALAR_NODE &&
		a->data.scalar.length == b->data.scalar.length &&
		memcmp(a->data.scalar.value, b->data.scalar.value,
			a->data.scalar.length) == 0;
}

/* Fails on a key that already appeared earlier in the same mapping. */
static bool check_duplicate(struct ctx *c, yaml_node_t *map,
	yaml_node_pair_t *pair)
{
	yaml_node_t *kn = node_at(c, pair->key);

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair;
	     p++) {
		yaml_node_t *prev = node_at(c, p->key);

		if (same_key(prev, kn))
			return fail(c, kn, "duplicate key (first at line %zu)",
				node_line(prev));
	}
	return true;
}

static bool unknown_key(struct ctx *c, const struct section *sec,
	const yaml_node_t *kn)
{
	char list[512];
	size_t n = 0;

	list[0] = '\0';
	for (const struct key *k = sec->keys; k->name && n < sizeof(list); k++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
			n ? ", " : "", k->name);
	return fail(c, kn, "unknown key (known keys here: %s)", list);
}

static const struct key *find_key(const struct section *sec, const char *s,
	size_t len)
{
	for (const struct key *k = sec->keys; k->name != NULL; k++) {
		if (strlen(k->name) == len && memcmp(k->name, s, len) == 0)
			return k;
	}
	return NULL;
}

/* The value node of key name in map, or NULL. */
static yaml_node_t *map_get(struct ctx *c, yaml_node_t *map, const char *name)
{
	if (map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node_at(c, p->key);

		if (kn->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)kn->data.scalar.value, name) == 0)
			return node_at(c, p->value);
	}
	return NULL;
}

static bool fail_key(struct ctx *c, const char *key, const yaml_node_t *n,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* An error about key (under the current path), reported at n's line. */
static bool fail_key(struct ctx *c, const char *key, const yaml_node_t *n,
	const char *fmt, ...)
{
	va_list ap;

	path_push(c, key, strlen(key));
	va_start(ap, fmt);
	vset_err(c, node_line(n), fmt, ap);
	va_end(ap);
	return false;
}

/* The first of the keys present in map, else the map itself: for lines. */
static yaml_node_t *where(struct ctx *c, yaml_node_t *map, const char *a,
	const char *b)
{
	yaml_node_t *n = map_get(c, map, a);

	if (n == NULL && b != NULL)
		n = map_get(c, map, b);
	return n ? n : map;
}

static bool load_list(struct ctx *c, const struct key *k, char *base,
	yaml_node_t *n)
{
	const char *s;
	size_t len, i = 0;
	bool null;

	if (!check_tag(c, n))
		return false;
	clear_value(k, base);
	if (is_null(n))
		return true;
	if (is_env(n)) {
		if (!scalar_text(c, n, "a list", &s, &len, &null))
			return false;
		return split_list(c, k, base, n, s);
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(c, n, "expected a list, got %s", node_kind(n));
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *in = node_at(c, *it);
		size_t mark = path_index(c, i);

		if (!scalar_text(c, in, "a single value", &s, &len, &null))
			return false;
		if (null)
			return fail(c, in, "expected a non-empty value");
		if (!list_add(c, k, base, in, s, len))
			return false;
		path_pop(c, mark);
	}
	return true;
}

/* output.kafka.brokers: "a:9092,b:9092" or [a:9092, b:9092]. */
static bool load_brokers(struct ctx *c, const struct key *k, char *base,
	yaml_node_t *n)
{
	struct vf_buf joined;
	const char *s;
	size_t len, i = 0;
	bool null, ok = false;

	if (n->type != YAML_SEQUENCE_NODE) {
		if (!scalar_text(c, n, "a string or a list", &s, &len, &null))
			return false;
		return set_scalar(c, k, base, n, s, len, null);
	}
	if (!check_tag(c, n))
		return false;
	vf_buf_init(&joined, MAX_SCALAR);
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *in = node_at(c, *it);
		size_t mark = path_index(c, i);

		if (!scalar_text(c, in, "a single value", &s, &len, &null))
			goto out;
		if (null || len == 0) {
			fail(c, in, "expected host:port");
			goto out;
		}
		if ((i > 0 && !vf_buf_append(&joined, ",", 1)) ||
		    !vf_buf_append(&joined, s, len)) {
			fail(c, in, "the list is too long");
			goto out;
		}
		path_pop(c, mark);
	}
	if (joined.len == 0) {
		fail(c, n, "must not be empty");
		goto out;
	}
	ok = set_str(c, n, AT(base, k->off, char *), joined.data, joined.len);
out:
	vf_buf_finish(&joined);
	return ok;
}

/* output.kafka.properties: a flat mapping of names to values. */
static bool load_props(struct ctx *c, const struct key *k, char *base,
	yaml_node_t *map)
{
	size_t *count = AT(base, k->aux, size_t);
	struct vf_config_property **arr = AT(base, k->off,
		struct vf_config_property *);
	size_t npairs;

	if (!check_tag(c, map))
		return false;
	clear_value(k, base);
	if (is_null(map))
		return true;
	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, "expected a mapping of librdkafka "
			"properties, got %s", node_kind(map));
	npairs = (size_t)(map->data.mapping.pairs.top -
		map->data.mapping.pairs.start);
	if (npairs > k->max)
		return fail(c, map, "more than %llu properties",
			(unsigned long long)k->max);
	if (npairs == 0)
		return true;
	*arr = calloc(npairs, sizeof(**arr));
	if (*arr == NULL)
		return fail(c, map, "out of memory");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node_at(c, p->key), *vn = node_at(c, p->value);
		struct vf_config_property *prop = &(*arr)[*count];
		const char *name, *s;
		size_t nlen, len, mark;
		bool null;

		if (!key_text(c, kn, &name, &nlen))
			return false;
		mark = path_push(c, name, nlen);
		if (!check_duplicate(c, map, p) ||
		    !scalar_text(c, vn, "a single value", &s, &len, &null))
			return false;
		if (null)
			return fail(c, vn, "expected a value");
		prop->name = dup_text(name, nlen);
		prop->value = dup_text(s, len);
		(*count)++;
		if (prop->name == NULL || prop->value == NULL)
			return fail(c, vn, "out of memory");
		path_pop(c, mark);
	}
	return true;
}

/* A list of mappings (log groups, threat lists); replaces the old one. */
static bool load_items(struct ctx *c, const struct key *k, char *base,
	yaml_node_t *n)
{
	const struct section *sec = k->sub;
	size_t *count = AT(base, k->aux, size_t);
	char **items = AT(base, k->off, char *);
	size_t total;

	if (!check_tag(c, n))
		return false;
	clear_value(k, base);
	if (is_null(n))
		return true;
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(c, n, "expected a list of mappings, got %s",
			node_kind(n));
	total = (size_t)(n->data.sequence.items.top -
		n->data.sequence.items.start);
	if (total > k->max)
		return fail(c, n, "more than %llu entries",
			(unsigned long long)k->max);
	if (total == 0)
		return true;
	*items = calloc(total, sec->item_size);
	if (*items == NULL)
		return fail(c, n, "out of memory");
	*count = total;         /* zeroed entries free cleanly */
	for (size_t i = 0; i < total; i++) {
		yaml_node_t *in = node_at(c, n->data.sequence.items.start[i]);
		char *item = *items + i * sec->item_size;
		size_t mark = path_index(c, i);

		init_section(sec, item);
		if (in->type != YAML_MAPPING_NODE || is_null(in))
			return fail(c, in, "expected a mapping, got %s",
				is_null(in) ? "nothing" : node_kind(in));
		if (!load_map(c, sec, item, in) ||
		    !sec->check_item(c, *items, i, in))
			return false;
		path_pop(c, mark);
	}
	return true;
}

static bool load_value(struct ctx *c, const struct key *k, char *base,
	yaml_node_t *n)
{
	char want[160];
	const char *s;
	size_t len;
	bool null;

	switch (k->kind) {
	case K_SECTION:
		return load_map(c, k->sub, base, n);
	case K_ITEMS:
		return load_items(c, k, base, n);
	case K_PROPS:
		return load_props(c, k, base, n);
	case K_STRLIST:
	case K_CIDRLIST:
		return load_list(c, k, base, n);
	case K_BROKERS:
		return load_brokers(c, k, base, n);
	default:
		if (!scalar_text(c, n, expect(k, want, sizeof(want)), &s, &len,
		    &null))
			return false;
		return set_scalar(c, k, base, n, s, len, null);
	}
}

static bool load_map(struct ctx *c, const struct section *sec, char *base,
	yaml_node_t *map)
{
	if (!check_tag(c, map))
		return false;
	if (is_null(map))
		return true;
	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, "expected a mapping, got %s",
			node_kind(map));
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node_at(c, p->key);
		const struct key *k;
		const char *name;
		size_t nlen, mark;

		if (!key_text(c, kn, &name, &nlen))
			return false;
		mark = path_push(c, name, nlen);
		if (!check_duplicate(c, map, p))
			return false;
		k = find_key(sec, name, nlen);
		if (k == NULL)
			return unknown_key(c, sec, kn);
		if (!load_value(c, k, base, node_at(c, p->value)))
			return false;
		path_pop(c, mark);
	}
	return sec->check == NULL || sec->check(c, base, map);
}

/* ---- checks across keys ---- */

static bool check_aws(struct ctx *c, char *base, yaml_node_t *map)
{
	struct vf_config *cfg = (struct vf_config *)(void *)base;

	if (cfg->aws.external_id != NULL && cfg->aws.role_arn == NULL)
		return fail_key(c, "external_id", where(c, map, "external_id",
			NULL), "needs aws.role_arn (it is sent with AssumeRole)");
	return true;
}

static bool check_kinesis(struct ctx *c, char *base, yaml_node_t *map)
{
	struct vf_config *cfg = (struct vf_config *)(void *)base;

	if (cfg->kinesis.start_position == VF_CONFIG_START_AT_TIMESTAMP &&
	    cfg->kinesis.start_timestamp == NULL)
		return fail_key(c, "start_timestamp", where(c, map,
			"start_position", NULL),
			"required when start_position is at_timestamp");
	return true;
}

static bool check_output(struct ctx *c, char *base, yaml_node_t *map)
{
	struct vf_config_output *out =
		&((struct vf_config *)(void *)base)->output;
	yaml_node_t *type = where(c, map, "type", NULL);

	if (out->type == VF_CONFIG_OUTPUT_GELF_HTTP && out->url == NULL)
		return fail_key(c, "url", type,
			"required when type is gelf_http");
	if (out->type == VF_CONFIG_OUTPUT_KAFKA && out->kafka.brokers == NULL)
		return fail_key(c, "kafka.brokers", type,
			"required when type is kafka");
	if (out->type == VF_CONFIG_OUTPUT_KAFKA && out->kafka.topic == NULL)
		return fail_key(c, "kafka.topic", type,
			"required when type is kafka");
	if (out->type == VF_CONFIG_OUTPUT_GELF_HTTP &&
	    out->compression == VF_CONFIG_COMPRESSION_ZLIB)
		return fail_key(c, "compression", where(c, map, "compression",
			"type"), "gelf_http takes none or gzip, not zlib");
	if (out->type == VF_CONFIG_OUTPUT_GELF_TCP &&
	    out->compression != VF_CONFIG_COMPRESSION_NONE)
		return fail_key(c, "compression", where(c, map, "compression",
			"type"), "GELF over TCP is never compressed: use none");
	return true;
}

static bool check_tls(struct ctx *c, char *base, yaml_node_t *map)
{
	struct vf_config_tls *tls =
		&((struct vf_config *)(void *)base)->output.tls;

	if (tls->key_file != NULL && tls->cert_file == NULL)
		return fail_key(c, "key_file", where(c, map, "key_file", NULL),
			"needs cert_file");
	return true;
}

static bool check_log_group(struct ctx *c, char *items, size_t i,
	yaml_node_t *map)
{
	struct vf_config_log_group *lg =
		(struct vf_config_log_group *)(void *)items;

	if (lg[i].name == NULL)
		return fail_key(c, "name", map, "required");
	for (size_t j = 0; j < i; j++) {
		if (strcmp(lg[j].name, lg[i].name) == 0)
			return fail_key(c, "name", where(c, map, "name", NULL),
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
		return fail_key(c, "name", map, "required");
	for (size_t j = 0; j < i; j++) {
		if (strcmp(tl[j].name, t->name) == 0)
			return fail_key(c, "name", where(c, map, "name", NULL),
				"threat list \"%s\" is already listed as "
				"threat_lists[%zu]", t->name, j);
	}
	if (t->url != NULL && t->path != NULL)
		return fail_key(c, "path", where(c, map, "path", NULL),
			"give url or path, not both");
	if (t->url == NULL && t->path == NULL)
		return fail(c, map, "needs a url or a path");
	if (t->format == VF_CONFIG_THREAT_CSV && t->column == 0)
		return fail_key(c, "column", where(c, map, "format", NULL),
			"required when format is csv");
	if (t->format != VF_CONFIG_THREAT_CSV && t->column != 0)
		return fail_key(c, "column", where(c, map, "column", NULL),
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
			return fail_line(c, 0, "out of memory");
		snprintf(cp->table, len, "vpcflowd-%s", cfg->kinesis.stream);
	}
	return true;
}

/* ---- YAML syntax ---- */

/* The line of a libyaml error (reader errors only have an offset). */
static size_t error_line(const yaml_parser_t *p, const char *in, size_t len)
{
	size_t line = 1;

	if (p->error != YAML_READER_ERROR)
		return p->problem_mark.line + 1;
	for (size_t i = 0; i < p->problem_offset && i < len; i++)
		line += in[i] == '\n';
	return line;
}

static bool parser_fail(struct ctx *c, const yaml_parser_t *p, const char *in,
	size_t len)
{
	size_t line = error_line(p, in, len);

	if (p->error == YAML_MEMORY_ERROR)
		return fail_line(c, line, "out of memory");
	if (p->context != NULL)
		return fail_line(c, line, "YAML syntax error: %s (%s at line "
			"%zu)", p->problem ? p->problem : "unknown", p->context,
			(size_t)p->context_mark.line + 1);
	return fail_line(c, line, "YAML syntax error: %s",
		p->problem ? p->problem : "unknown");
}

struct frame {
	bool map;
	bool want_value;        /* map: the key was read, its value is next */
	size_t index;           /* list: the entry being read */
	size_t pathlen;         /* the path of the mapping or list itself */
	char *anchor;           /* defined once the node ends; owned */
};

/* A node starts in the container at the top of the stack. */
static void node_begins(struct ctx *c, struct frame *top)
{
	if (top != NULL && !top->map) {
		path_pop(c, top->pathlen);
		path_index(c, top->index);
	}
}

/* A node ends: the next key, or the next list entry, comes. */
static void node_ends(struct ctx *c, struct frame *top)
{
	if (top == NULL)
		return;
	if (top->map && !top->want_value) {
		top->want_value = true;         /* a complex key */
		return;
	}
	top->want_value = false;
	top->index++;
	path_pop(c, top->pathlen);
}

/* Anchors are kept as NUL-terminated names one after the other. */
static bool anchor_known(const struct vf_buf *anchors, const char *name)
{
	for (size_t i = 0; i < anchors->len; i += strlen(anchors->data + i) + 1) {
		if (strcmp(anchors->data + i, name) == 0)
			return true;
	}
	return false;
}

static bool anchor_add(struct ctx *c, struct vf_buf *anchors,
	const yaml_char_t *name, size_t line)
{
	if (name == NULL ||
	    vf_buf_append(anchors, name, strlen((const char *)name) + 1))
		return true;
	return fail_line(c, line, "too many anchors");
}

/* One event of the pre-scan; false stops it with the error set. */
static bool scan_event(struct ctx *c, const yaml_event_t *ev,
	struct frame *st, size_t *depth, struct vf_buf *anchors)
{
	struct frame *top = *depth ? &st[*depth - 1] : NULL;
	size_t line = ev->start_mark.line + 1;
	bool is_key = top != NULL && top->map && !top->want_value;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
	case YAML_ALIAS_EVENT:
		if (is_key) {
			const char *key = ev->type == YAML_SCALAR_EVENT ?
				(const char *)ev->data.scalar.value : "*";

			path_push(c, key, strlen(key));
			top->want_value = true;
		} else {
			node_begins(c, top);
		}
		if (ev->type == YAML_ALIAS_EVENT && !anchor_known(anchors,
		    (const char *)ev->data.alias.anchor))
			return fail_line(c, line, "undefined alias *%.64s (an "
				"alias must follow its anchor, outside of it)",
				(const char *)ev->data.alias.anchor);
		if (ev->type == YAML_SCALAR_EVENT &&
		    !anchor_add(c, anchors, ev->data.scalar.anchor, line))
			return false;
		if (!is_key)
			node_ends(c, top);
		return true;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		node_begins(c, top);
		if (*depth == MAX_DEPTH)
			return fail_line(c, line, "nested more than %d levels "
				"deep", MAX_DEPTH);
		st[*depth] = (struct frame){
			.map = ev->type == YAML_MAPPING_START_EVENT,
			.pathlen = c->pathlen,
		};
		if (ev->type == YAML_MAPPING_START_EVENT ?
		    ev->data.mapping_start.anchor != NULL :
		    ev->data.sequence_start.anchor != NULL) {
			const char *a = (const char *)(ev->type ==
				YAML_MAPPING_START_EVENT ?
				ev->data.mapping_start.anchor :
				ev->data.sequence_start.anchor);

			st[*depth].anchor = strdup(a);
			if (st[*depth].anchor == NULL)
				return fail_line(c, line, "out of memory");
		}
		(*depth)++;
		return true;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		top = &st[--*depth];
		path_pop(c, top->pathlen);
		if (!anchor_add(c, anchors, (const yaml_char_t *)top->anchor,
		    line))
			return false;
		free(top->anchor);
		top->anchor = NULL;
		node_ends(c, *depth ? &st[*depth - 1] : NULL);
		return true;
	default:
		return true;
	}
}

/*
 * Reads the events once before loading: reports syntax errors and undefined
 * aliases with the key path they are under, more than one document, and
 * nesting deeper than MAX_DEPTH (libyaml's loader recurses).
 */
static bool prescan(struct ctx *c, const char *in, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct frame st[MAX_DEPTH];
	struct vf_buf anchors;
	size_t depth = 0;
	int docs = 0;
	bool ok = true, done = false;

	if (!yaml_parser_initialize(&p))
		return fail_line(c, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)in, len);
	vf_buf_init(&anchors, MAX_FILE_SIZE);
	while (ok && !done) {
		if (!yaml_parser_parse(&p, &ev)) {
			ok = parser_fail(c, &p, in, len);
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT)
			done = true;
		else if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
			ok = fail_line(c, ev.start_mark.line + 1,
				"only one YAML document is allowed");
		else
			ok = scan_event(c, &ev, st, &depth, &anchors);
		yaml_event_delete(&ev);
	}
	while (depth > 0)
		free(st[--depth].anchor);
	vf_buf_finish(&anchors);
	yaml_parser_delete(&p);
	if (ok)
		path_pop(c, 0);
	return ok;
}

/* ---- public ---- */

void vf_config_init(struct vf_config *cfg)
{
	const char *region = getenv("AWS_REGION");

	memset(cfg, 0, sizeof(*cfg));
	init_section(&root_section, (char *)cfg);
	if (region == NULL || *region == '\0')
		region = getenv("AWS_DEFAULT_REGION");
	if (region != NULL && *region != '\0') {
		cfg->aws.region = dup_text(region, strlen(region));
		if (cfg->aws.region == NULL)
			abort();
	}
}

void vf_config_finish(struct vf_config *cfg)
{
	free_section(&root_section, (char *)cfg);
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
		return fail_line(&c, 0, "the file is larger than %d bytes",
			MAX_FILE_SIZE);
	if (!prescan(&c, yaml, len))
		return false;
	if (!yaml_parser_initialize(&p))
		return fail_line(&c, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&p, &doc)) {
		parser_fail(&c, &p, yaml, len);
		goto out_parser;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && !is_null(root) && root->type != YAML_MAPPING_NODE) {
		fail(&c, root, "the top level must be a mapping of sections "
			"(aws, kinesis, output, ...), not %s", node_kind(root));
		goto out_doc;
	}
	if (root != NULL && !load_map(&c, &root_section, (char *)cfg, root))
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
		fail_line(&c, 0, "out of memory");
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

/* ---- printing ---- */

static bool contains_any(const char *s, const char *const *words)
{
	for (; *words != NULL; words++) {
		if (strcasestr(s, *words) != NULL)
			return true;
	}
	return false;
}

/* Kafka properties whose values are secrets. */
static bool secret_property(const char *name)
{
	static const char *const words[] = {
		"password", "secret", "token", "credential", "sasl.oauthbearer",
		"sasl.jaas", "ssl.key.pem", NULL };

	return contains_any(name, words);
}

/* URL query parameters that look like credentials. */
static bool secret_param(const char *name, size_t len)
{
	static const char *const words[] = {
		"token", "key", "secret", "pass", "pwd", "sig", "credential",
		"auth", "session", NULL };
	char buf[MAX_KEY];

	if (len >= sizeof(buf))
		return true;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return contains_any(buf, words);
}

/* The URL with its password (or bare userinfo) and token-like query
 * values replaced by ***. */
static void mask_url(struct vf_buf *b, const char *url)
{
	const char *auth = strstr(url, "://"), *end, *at, *q, *frag;

	if (auth == NULL) {
		vf_buf_append(b, url, strlen(url));
		return;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	vf_buf_append(b, url, (size_t)(auth - url));
	at = NULL;
	for (const char *s = auth; s < end; s++) {
		if (*s == '@')
			at = s;
	}
	if (at != NULL) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));

		if (colon != NULL)
			vf_buf_append(b, auth, (size_t)(colon - auth) + 1);
		vf_buf_append(b, "***", 3);
		auth = at;
	}
	frag = end + strcspn(end, "#");
	q = memchr(end, '?', (size_t)(frag - end));
	if (q == NULL) {
		vf_buf_append(b, auth, strlen(auth));
		return;
	}
	vf_buf_append(b, auth, (size_t)(q + 1 - auth));
	for (const char *s = q + 1; s < frag;) {
		size_t plen = strcspn(s, "&#");
		const char *eq = memchr(s, '=', plen);

		if (eq != NULL && secret_param(s, (size_t)(eq - s))) {
			vf_buf_append(b, s, (size_t)(eq - s) + 1);
			vf_buf_append(b, "***", 3);
		} else {
			vf_buf_append(b, s, plen);
		}
		s += plen;
		if (*s == '&') {
			vf_buf_append(b, "&", 1);
			s++;
		}
	}
	vf_buf_append(b, frag, strlen(frag));
}

/* A YAML double-quoted string. */
static void put_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", out);
		else if (ch == '\t')
			fputs("\\t", out);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void put_string(FILE *out, const struct key *k, const char *s)
{
	struct vf_buf b;

	if (k->flags & F_SECRET) {
		put_quoted(out, "***");
		return;
	}
	if (!(k->flags & F_URL)) {
		put_quoted(out, s);
		return;
	}
	vf_buf_init(&b, 4 * MAX_SCALAR);
	mask_url(&b, s);
	if (vf_buf_append(&b, "", 1))
		put_quoted(out, b.data);
	else
		put_quoted(out, "***");
	vf_buf_finish(&b);
}

static bool printable(const struct key *k, const char *base);

static bool section_printable(const struct section *sec, const char *base)
{
	for (const struct key *k = sec->keys; k->name != NULL; k++) {
		if (printable(k, base))
			return true;
	}
	return false;
}

static bool printable(const struct key *k, const char *base)
{
	switch (k->kind) {
	case K_STR:
	case K_BROKERS:
	case K_LISTEN:
	case K_FORMAT:
	case K_TIMESTAMP:
		return *AT(base, k->off, char *const) != NULL;
	case K_UINT:
		return !(k->flags & F_ZERO_UNSET) ||
			*AT(base, k->off, const unsigned) != 0;
	case K_SECTION:
		return section_printable(k->sub, base);
	default:
		return true;
	}
}

static void print_section(FILE *out, const struct section *sec,
	const char *base, int indent, bool item);

static void print_value(FILE *out, const struct key *k, const char *base,
	int indent)
{
	size_t count = 0;
	char buf[32];

	if (k->kind == K_STRLIST || k->kind == K_CIDRLIST ||
	    k->kind == K_PROPS || k->kind == K_ITEMS)
		count = *AT(base, k->aux, const size_t);

	switch (k->kind) {
	case K_SECTION:
		fputc('\n', out);
		print_section(out, k->sub, base, indent + 2, false);
		return;
	case K_STR:
	case K_BROKERS:
	case K_LISTEN:
	case K_FORMAT:
	case K_TIMESTAMP:
		put_string(out, k, *AT(base, k->off, char *const));
		break;
	case K_BOOL:
		fputs(*AT(base, k->off, const bool) ? "true" : "false", out);
		break;
	case K_UINT:
		fprintf(out, "%u", *AT(base, k->off, const unsigned));
		break;
	case K_DURATION:
		format_duration(buf, sizeof(buf),
			*AT(base, k->off, const uint64_t));
		fputs(buf, out);
		break;
	case K_SIZE:
		format_size(buf, sizeof(buf), *AT(base, k->off, const uint64_t));
		fputs(buf, out);
		break;
	case K_ENUM:
		fputs(k->names[*AT(base, k->off, const int)], out);
		break;
	case K_STRLIST:
	case K_CIDRLIST:
		fputc('[', out);
		for (size_t i = 0; i < count; i++) {
			if (i > 0)
				fputs(", ", out);
			if (k->kind == K_STRLIST)
				put_quoted(out, (*AT(base, k->off,
					char **const))[i]);
			else
				put_quoted(out, (*AT(base, k->off,
					struct vf_config_cidr *const))[i].text);
		}
		fputc(']', out);
		break;
	case K_PROPS: {
		const struct vf_config_property *props =
			*AT(base, k->off, struct vf_config_property *const);

		if (count == 0) {
			fputs("{}\n", out);
			return;
		}
		fputc('\n', out);
		for (size_t i = 0; i < count; i++) {
			fprintf(out, "%*s", indent + 2, "");
			put_quoted(out, props[i].name);
			fputs(": ", out);
			put_quoted(out, secret_property(props[i].name) ? "***" :
				props[i].value);
			fputc('\n', out);
		}
		return;
	}
	case K_ITEMS: {
		const char *items = *AT(base, k->off, char *const);

		if (count == 0) {
			fputs("[]\n", out);
			return;
		}
		fputc('\n', out);
		for (size_t i = 0; i < count; i++)
			print_section(out, k->sub, items + i * k->sub->item_size,
				indent + 2, true);
		return;
	}
	}
	fputc('\n', out);
}

/* The keys of a section; an item's first key follows "- ". */
static void print_section(FILE *out, const struct section *sec,
	const char *base, int indent, bool item)
{
	bool first = true;

	for (const struct key *k = sec->keys; k->name != NULL; k++) {
		if (!printable(k, base))
			continue;
		fprintf(out, "%*s%s%s:", indent, "",
			item ? (first ? "- " : "  ") : "", k->name);
		first = false;
		if (k->kind != K_SECTION && k->kind != K_PROPS &&
		    k->kind != K_ITEMS)
			fputc(' ', out);
		else if (k->kind == K_PROPS || k->kind == K_ITEMS) {
			size_t n = *AT(base, k->aux, const size_t);

			if (n == 0)
				fputc(' ', out);
		}
		print_value(out, k, base, indent + (item ? 2 : 0));
	}
}

void vf_config_print(const struct vf_config *cfg, FILE *out)
{
	fputs("# vpcflowd effective configuration; secrets are shown as "
		"\"***\"\n", out);
	for (const struct key *k = root_section.keys; k->name != NULL; k++) {
		if (!section_printable(k->sub, (const char *)cfg)) {
			fprintf(out, "%s: {}\n", k->name);
			continue;
		}
		fprintf(out, "%s:\n", k->name);
		print_section(out, k->sub, (const char *)cfg, 2, false);
	}
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
