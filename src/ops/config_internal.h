/*
 * What the files of the configuration loader share, and nothing else
 * includes: the table types (one row per key, one table per section), the
 * loading context and the functions one file calls in another.
 *
 *   config.c         the schema, checks across keys, the public API
 *   config_values.c  small parsers, one key's value: set, check, free
 *   config_yaml.c    errors and key paths, mappings and lists, YAML syntax
 *   config_print.c   vf_config_print(), secrets masked
 */
#ifndef VPCFLOWD_OPS_CONFIG_INTERNAL_H
#define VPCFLOWD_OPS_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

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

#define AT(base, off, type) ((type *)(void *)((base) + (off)))

/* config.c: the top of the schema, one key per section of the file. */
extern const struct section vf_config_root_section;

/* config_yaml.c: errors and key paths */

bool vf_config_fail_line(struct ctx *c, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool vf_config_fail(struct ctx *c, const yaml_node_t *n, const char *fmt,
	...) __attribute__((format(printf, 3, 4)));
const char *vf_config_quote(char *buf, size_t size, const char *s,
	size_t len);

/* config_yaml.c: mappings and lists */

bool vf_config_fail_key(struct ctx *c, const char *key, const yaml_node_t *n,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));
yaml_node_t *vf_config_where(struct ctx *c, yaml_node_t *map, const char *a,
	const char *b);
bool vf_config_load_map(struct ctx *c, const struct section *sec,
	char *base, yaml_node_t *map);

/* config_yaml.c: YAML syntax */

bool vf_config_parser_fail(struct ctx *c, const yaml_parser_t *p,
	const char *in, size_t len);
bool vf_config_prescan(struct ctx *c, const char *in, size_t len);

/* config_values.c: nodes and their text */

yaml_node_t *vf_config_node_at(struct ctx *c, int id);
const char *vf_config_node_kind(const yaml_node_t *n);
const char *vf_config_tag_of(const yaml_node_t *n);
bool vf_config_is_env(const yaml_node_t *n);
bool vf_config_is_null(const yaml_node_t *n);
bool vf_config_check_tag(struct ctx *c, const yaml_node_t *n);
bool vf_config_scalar_text(struct ctx *c, const yaml_node_t *n,
	const char *what, const char **text, size_t *len, bool *null);
char *vf_config_dup_text(const char *s, size_t len);

/* config_values.c: values */

bool vf_config_set_str(struct ctx *c, const yaml_node_t *n, char **slot,
	const char *s, size_t len);
const char *vf_config_expect(const struct key *k, char *buf, size_t size);
void vf_config_format_duration(char *buf, size_t size, uint64_t ms);
void vf_config_format_size(char *buf, size_t size, uint64_t bytes);
bool vf_config_set_scalar(struct ctx *c, const struct key *k, char *base,
	const yaml_node_t *n, const char *s, size_t len, bool null);
bool vf_config_list_add(struct ctx *c, const struct key *k, char *base,
	const yaml_node_t *n, const char *s, size_t len);
bool vf_config_split_list(struct ctx *c, const struct key *k, char *base,
	const yaml_node_t *n, const char *s);
void vf_config_clear_value(const struct key *k, char *base);
void vf_config_free_section(const struct section *sec, char *base);
void vf_config_init_section(const struct section *sec, char *base);

#endif
