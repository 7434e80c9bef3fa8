/*
 * Walking the YAML document: error messages with the dotted key path,
 * mappings and lists laid over the tables, and a pre-scan of the events
 * for syntax errors, undefined aliases and nesting depth.
 */
#include "vpcflowd/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpcflowd/buf.h"

#include "config_internal.h"

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

bool vf_config_fail_line(struct ctx *c, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_err(c, line, fmt, ap);
	va_end(ap);
	return false;
}

/* Sets the error for the current key path at node n's line. */
bool vf_config_fail(struct ctx *c, const yaml_node_t *n, const char *fmt,
	...)
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
const char *vf_config_quote(char *buf, size_t size, const char *s,
	size_t len)
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

/* ---- mappings and lists ---- */

/* A mapping key: a plain string, no tags. */
static bool key_text(struct ctx *c, const yaml_node_t *kn, const char **s,
	size_t *len)
{
	if (kn->type != YAML_SCALAR_NODE || vf_config_is_env(kn) ||
	    (*vf_config_tag_of(kn) &&
	     strcmp(vf_config_tag_of(kn), CORE_TAG "str") != 0))
		return vf_config_fail(c, kn, "keys must be plain strings");
	*s = (const char *)kn->data.scalar.value;
	*len = kn->data.scalar.length;
	if (*len == 0 || *len > MAX_KEY || strlen(*s) != *len)
		return vf_config_fail(c, kn,
			"keys must be 1 to %d bytes of text", MAX_KEY);
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
	yaml_node_t *kn = vf_config_node_at(c, pair->key);

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair;
	     p++) {
		yaml_node_t *prev = vf_config_node_at(c, p->key);

		if (same_key(prev, kn))
			return vf_config_fail(c, kn,
				"duplicate key (first at line %zu)",
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
	return vf_config_fail(c, kn, "unknown key (known keys here: %s)", list);
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
		yaml_node_t *kn = vf_config_node_at(c, p->key);

		if (kn->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)kn->data.scalar.value, name) == 0)
			return vf_config_node_at(c, p->value);
	}
	return NULL;
}

/* An error about key (under the current path), reported at n's line. */
bool vf_config_fail_key(struct ctx *c, const char *key, const yaml_node_t *n,
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
yaml_node_t *vf_config_where(struct ctx *c, yaml_node_t *map, const char *a,
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

	if (!vf_config_check_tag(c, n))
		return false;
	vf_config_clear_value(k, base);
	if (vf_config_is_null(n))
		return true;
	if (vf_config_is_env(n)) {
		if (!vf_config_scalar_text(c, n, "a list", &s, &len, &null))
			return false;
		return vf_config_split_list(c, k, base, n, s);
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return vf_config_fail(c, n, "expected a list, got %s",
			vf_config_node_kind(n));
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *in = vf_config_node_at(c, *it);
		size_t mark = path_index(c, i);

		if (!vf_config_scalar_text(c, in, "a single value", &s, &len,
		    &null))
			return false;
		if (null)
			return vf_config_fail(c, in,
				"expected a non-empty value");
		if (!vf_config_list_add(c, k, base, in, s, len))
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
		if (!vf_config_scalar_text(c, n, "a string or a list", &s,
		    &len, &null))
			return false;
		return vf_config_set_scalar(c, k, base, n, s, len, null);
	}
	if (!vf_config_check_tag(c, n))
		return false;
	vf_buf_init(&joined, MAX_SCALAR);
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *in = vf_config_node_at(c, *it);
		size_t mark = path_index(c, i);

		if (!vf_config_scalar_text(c, in, "a single value", &s, &len,
		    &null))
			goto out;
		if (null || len == 0) {
			vf_config_fail(c, in, "expected host:port");
			goto out;
		}
		if ((i > 0 && !vf_buf_append(&joined, ",", 1)) ||
		    !vf_buf_append(&joined, s, len)) {
			vf_config_fail(c, in, "the list is too long");
			goto out;
		}
		path_pop(c, mark);
	}
	if (joined.len == 0) {
		vf_config_fail(c, n, "must not be empty");
		goto out;
	}
	ok = vf_config_set_str(c, n, AT(base, k->off, char *), joined.data,
		joined.len);
out:
	vf_buf_finish(&joined);
	return ok;
}

/*
 * The start of loading a mapping or list into a new array: checks the tag
 * and node type, clears the old value, enforces k->max, and allocates n
 * zeroed elements (none for a null or empty node, *n then 0).
 */
static bool begin_collection(struct ctx *c, const struct key *k, char *base,
	yaml_node_t *node, yaml_node_type_t type, const char *what,
	const char *unit, size_t elem, void **arr, size_t *n)
{
	*n = 0;
	if (!vf_config_check_tag(c, node))
		return false;
	vf_config_clear_value(k, base);
	if (vf_config_is_null(node))
		return true;
	if (node->type != type)
		return vf_config_fail(c, node, "expected %s, got %s", what,
			vf_config_node_kind(node));
	if (type == YAML_MAPPING_NODE)
		*n = (size_t)(node->data.mapping.pairs.top -
			node->data.mapping.pairs.start);
	else
		*n = (size_t)(node->data.sequence.items.top -
			node->data.sequence.items.start);
	if (*n > k->max)
		return vf_config_fail(c, node, "more than %llu %s",
			(unsigned long long)k->max, unit);
	if (*n == 0)
		return true;
	*arr = calloc(*n, elem);
	if (*arr == NULL)
		return vf_config_fail(c, node, "out of memory");
	return true;
}

/* output.kafka.properties: a flat mapping of names to values. */
static bool load_props(struct ctx *c, const struct key *k, char *base,
	yaml_node_t *map)
{
	size_t *count = AT(base, k->aux, size_t);
	struct vf_config_property **arr = AT(base, k->off,
		struct vf_config_property *);
	size_t npairs;

	if (!begin_collection(c, k, base, map, YAML_MAPPING_NODE,
	    "a mapping of librdkafka properties", "properties",
	    sizeof(**arr), (void **)arr, &npairs))
		return false;
	if (npairs == 0)
		return true;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = vf_config_node_at(c, p->key);
		yaml_node_t *vn = vf_config_node_at(c, p->value);
		struct vf_config_property *prop = &(*arr)[*count];
		const char *name, *s;
		size_t nlen, len, mark;
		bool null;

		if (!key_text(c, kn, &name, &nlen))
			return false;
		mark = path_push(c, name, nlen);
		if (!check_duplicate(c, map, p) ||
		    !vf_config_scalar_text(c, vn, "a single value", &s, &len,
		    &null))
			return false;
		if (null)
			return vf_config_fail(c, vn, "expected a value");
		prop->name = vf_config_dup_text(name, nlen);
		prop->value = vf_config_dup_text(s, len);
		(*count)++;
		if (prop->name == NULL || prop->value == NULL)
			return vf_config_fail(c, vn, "out of memory");
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

	if (!begin_collection(c, k, base, n, YAML_SEQUENCE_NODE,
	    "a list of mappings", "entries", sec->item_size, (void **)items,
	    &total))
		return false;
	if (total == 0)
		return true;
	*count = total;         /* zeroed entries free cleanly */
	for (size_t i = 0; i < total; i++) {
		yaml_node_t *in = vf_config_node_at(c,
			n->data.sequence.items.start[i]);
		char *item = *items + i * sec->item_size;
		size_t mark = path_index(c, i);

		vf_config_init_section(sec, item);
		if (in->type != YAML_MAPPING_NODE || vf_config_is_null(in))
			return vf_config_fail(c, in,
				"expected a mapping, got %s",
				vf_config_is_null(in) ? "nothing" :
				vf_config_node_kind(in));
		if (!vf_config_load_map(c, sec, item, in) ||
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
		return vf_config_load_map(c, k->sub, base, n);
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
		if (!vf_config_scalar_text(c, n,
		    vf_config_expect(k, want, sizeof(want)), &s, &len, &null))
			return false;
		return vf_config_set_scalar(c, k, base, n, s, len, null);
	}
}

bool vf_config_load_map(struct ctx *c, const struct section *sec,
	char *base, yaml_node_t *map)
{
	if (!vf_config_check_tag(c, map))
		return false;
	if (vf_config_is_null(map))
		return true;
	if (map->type != YAML_MAPPING_NODE)
		return vf_config_fail(c, map, "expected a mapping, got %s",
			vf_config_node_kind(map));
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = vf_config_node_at(c, p->key);
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
		if (!load_value(c, k, base, vf_config_node_at(c, p->value)))
			return false;
		path_pop(c, mark);
	}
	return sec->check == NULL || sec->check(c, base, map);
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

bool vf_config_parser_fail(struct ctx *c, const yaml_parser_t *p,
	const char *in, size_t len)
{
	size_t line = error_line(p, in, len);

	if (p->error == YAML_MEMORY_ERROR)
		return vf_config_fail_line(c, line, "out of memory");
	if (p->context != NULL)
		return vf_config_fail_line(c, line, "YAML syntax error: %s "
			"(%s at line %zu)", p->problem ? p->problem : "unknown",
			p->context, (size_t)p->context_mark.line + 1);
	return vf_config_fail_line(c, line, "YAML syntax error: %s",
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
	return vf_config_fail_line(c, line, "too many anchors");
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
			return vf_config_fail_line(c, line, "undefined alias "
				"*%.64s (an alias must follow its anchor, "
				"outside of it)",
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
			return vf_config_fail_line(c, line,
				"nested more than %d levels deep", MAX_DEPTH);
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
				return vf_config_fail_line(c, line,
					"out of memory");
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
bool vf_config_prescan(struct ctx *c, const char *in, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct frame st[MAX_DEPTH];
	struct vf_buf anchors;
	size_t depth = 0;
	int docs = 0;
	bool ok = true, done = false;

	if (!yaml_parser_initialize(&p))
		return vf_config_fail_line(c, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)in, len);
	vf_buf_init(&anchors, MAX_FILE_SIZE);
	while (ok && !done) {
		if (!yaml_parser_parse(&p, &ev)) {
			ok = vf_config_parser_fail(c, &p, in, len);
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT)
			done = true;
		else if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
			ok = vf_config_fail_line(c, ev.start_mark.line + 1,
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

