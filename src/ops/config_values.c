/*
 * One key's value: the small parsers for its text (durations, sizes,
 * times, networks, URLs), reading a node's text (!env included), setting
 * a key from it with its checks, and the defaults and freeing that walk the
 * tables.
 */
#include "vpcflowd/config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "vpcflowd/flow.h"

#include "config_internal.h"
#include "vpcflowd/timefmt.h"

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

yaml_node_t *vf_config_node_at(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

const char *vf_config_node_kind(const yaml_node_t *n)
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

const char *vf_config_tag_of(const yaml_node_t *n)
{
	return n->tag ? (const char *)n->tag : "";
}

bool vf_config_is_env(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
		strcmp(vf_config_tag_of(n), ENV_TAG) == 0;
}

/* ~, null, or nothing at all, not quoted and not tagged !env. */
bool vf_config_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || vf_config_is_env(n))
		return false;
	v = (const char *)n->data.scalar.value;
	if (strcmp(vf_config_tag_of(n), CORE_TAG "null") == 0)
		return true;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
		strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Tags: the YAML core ones are fine, !env only on values, others not. */
bool vf_config_check_tag(struct ctx *c, const yaml_node_t *n)
{
	const char *tag = vf_config_tag_of(n);

	if (*tag == '\0' || strncmp(tag, CORE_TAG, strlen(CORE_TAG)) == 0)
		return true;
	if (strcmp(tag, ENV_TAG) == 0) {
		if (n->type == YAML_SCALAR_NODE)
			return true;
		return vf_config_fail(c, n,
			"!env takes a variable name, not %s",
			vf_config_node_kind(n));
	}
	return vf_config_fail(c, n,
		"unknown tag \"%.64s\" (only !env is supported)", tag);
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
		return vf_config_fail(c, n, "expected !env NAME or "
			"!env NAME:-default, got \"!env %.64s\"", spec);
	memcpy(name, spec, nlen);
	name[nlen] = '\0';
	v = getenv(name);
	if (has_def && (v == NULL || *v == '\0'))
		v = spec + nlen + 2;
	if (v == NULL)
		return vf_config_fail(c, n,
			"environment variable %s is not set", name);
	*text = v;
	*len = strlen(v);
	return true;
}

/*
 * The text of a single value: its own, or an environment variable's for
 * !env. *null is set for ~, null and empty plain values. what names the
 * expected type for the "got a mapping" message.
 */
bool vf_config_scalar_text(struct ctx *c, const yaml_node_t *n,
	const char *what, const char **text, size_t *len, bool *null)
{
	if (!vf_config_check_tag(c, n))
		return false;
	if (n->type != YAML_SCALAR_NODE)
		return vf_config_fail(c, n, "expected %s, got %s", what,
			vf_config_node_kind(n));
	*null = vf_config_is_null(n);
	if (vf_config_is_env(n)) {
		if (!env_value(c, n, text, len))
			return false;
	} else {
		*text = (const char *)n->data.scalar.value;
		*len = n->data.scalar.length;
	}
	if (*len > MAX_SCALAR)
		return vf_config_fail(c, n, "the value is longer than %d bytes",
			MAX_SCALAR);
	if (strlen(*text) != *len)
		return vf_config_fail(c, n, "the value contains a NUL byte");
	return true;
}

char *vf_config_dup_text(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Replaces *slot with a copy of s (NULL unsets it). */
bool vf_config_set_str(struct ctx *c, const yaml_node_t *n, char **slot,
	const char *s, size_t len)
{
	char *p = NULL;

	if (s != NULL && (p = vf_config_dup_text(s, len)) == NULL)
		return vf_config_fail(c, n, "out of memory");
	free(*slot);
	*slot = p;
	return true;
}

/* What a key takes, for "expected ..." messages. */
const char *vf_config_expect(const struct key *k, char *buf, size_t size)
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

void vf_config_format_duration(char *buf, size_t size, uint64_t ms)
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

void vf_config_format_size(char *buf, size_t size, uint64_t bytes)
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
		vf_config_format_duration(lim, sizeof(lim),
			v < k->min ? k->min : k->max);
	else
		vf_config_format_size(lim, sizeof(lim),
			v < k->min ? k->min : k->max);
	return vf_config_fail(c, n, "must be %s %s",
		v < k->min ? "at least" : "at most", lim);
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
			return vf_config_fail(c, n,
				"invalid flow log format: %s", why);
	}
	if (!vf_config_set_str(c, n, AT(base, k->off, char *), s, len)) {
		vf_format_destroy(fmt);
		return false;
	}
	vf_format_destroy(*fmtp);
	*fmtp = fmt;
	return true;
}

/* Sets a single-valued key from its text; n (NULL for defaults) for lines. */
bool vf_config_set_scalar(struct ctx *c, const struct key *k, char *base,
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
			return vf_config_set_str(c, n,
				AT(base, k->off, char *), NULL, 0);
		if (null || len == 0)
			return vf_config_fail(c, n, "must not be empty");
		if (((k->flags & F_URL) && !valid_url(s)) ||
		    ((k->flags & F_NAME) && !valid_name(s)) ||
		    ((k->flags & F_GEOPATH) && !valid_geopath(s)))
			goto bad;
		return vf_config_set_str(c, n, AT(base, k->off, char *), s,
			len);
	case K_LISTEN:
		if (null) {
			s = "";
			len = 0;
		}
		if (len > 0 && !valid_listen(s))
			goto bad;
		return vf_config_set_str(c, n, AT(base, k->off, char *), s,
			len);
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
			return vf_config_set_str(c, n,
				AT(base, k->off, char *), NULL, 0);
		}
		if (!vf_parse_rfc3339(s, &ms))
			goto bad;
		*AT(base, k->aux, int64_t) = ms;
		return vf_config_set_str(c, n, AT(base, k->off, char *), s,
			len);
	default:
		return vf_config_fail(c, n, "expected %s, got a single value",
			vf_config_expect(k, want, sizeof(want)));
	}
bad:
	return vf_config_fail(c, n, "expected %s, got %s",
		vf_config_expect(k, want, sizeof(want)),
		null ? "nothing" : vf_config_quote(got, sizeof(got), s, len));
}

/* Appends one entry to a K_STRLIST or K_CIDRLIST. */
bool vf_config_list_add(struct ctx *c, const struct key *k, char *base,
	const yaml_node_t *n, const char *s, size_t len)
{
	size_t *count = AT(base, k->aux, size_t);
	char got[64], why[96];

	if (*count >= k->max)
		return vf_config_fail(c, n, "more than %llu entries",
			(unsigned long long)k->max);
	if (len == 0)
		return vf_config_fail(c, n, "expected a non-empty value");
	if (k->kind == K_STRLIST) {
		char ***arr = AT(base, k->off, char **);
		char **p = realloc(*arr, (*count + 1) * sizeof(*p));

		if (p == NULL)
			return vf_config_fail(c, n, "out of memory");
		*arr = p;
		if ((p[*count] = vf_config_dup_text(s, len)) == NULL)
			return vf_config_fail(c, n, "out of memory");
	} else {
		struct vf_config_cidr **arr = AT(base, k->off,
			struct vf_config_cidr *);
		struct vf_config_cidr net, *p;

		if (!parse_cidr(s, len, &net, why, sizeof(why))) {
			if (*why != '\0')
				return vf_config_fail(c, n, "%s: %s",
					vf_config_quote(got, sizeof(got), s,
						len), why);
			return vf_config_fail(c, n,
				"expected an IPv4 or IPv6 network such as "
				"10.0.0.0/8 or fc00::/7, got %s",
				vf_config_quote(got, sizeof(got), s, len));
		}
		p = realloc(*arr, (*count + 1) * sizeof(*p));
		if (p == NULL)
			return vf_config_fail(c, n, "out of memory");
		*arr = p;
		if ((net.text = vf_config_dup_text(s, len)) == NULL)
			return vf_config_fail(c, n, "out of memory");
		p[*count] = net;
	}
	(*count)++;
	return true;
}

/* Calls add for each comma-separated, blank-trimmed piece of s. */
bool vf_config_split_list(struct ctx *c, const struct key *k, char *base,
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
		if (len > 0 && !vf_config_list_add(c, k, base, n, s, len))
			return false;
		s = next;
	}
	return true;
}

/* Frees one key's value and sets it back to empty. */
void vf_config_clear_value(const struct key *k, char *base)
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
			vf_config_free_section(k->sub,
				items + i * k->sub->item_size);
		free(items);
		*AT(base, k->off, char *) = NULL;
		*count = 0;
		break;
	}
	case K_SECTION:
		vf_config_free_section(k->sub, base);
		break;
	default:
		break;
	}
}

void vf_config_free_section(const struct section *sec, char *base)
{
	for (const struct key *k = sec->keys; k->name != NULL; k++)
		vf_config_clear_value(k, base);
}

/* Sets every key of a section to its default. */
void vf_config_init_section(const struct section *sec, char *base)
{
	char err[512];
	struct ctx c = { .file = "(defaults)", .err = err,
		.errlen = sizeof(err) };
	bool ok = true;

	for (const struct key *k = sec->keys; k->name != NULL; k++) {
		if (k->kind == K_SECTION)
			vf_config_init_section(k->sub, base);
		else if (k->def != NULL && (k->kind == K_STRLIST ||
		    k->kind == K_CIDRLIST))
			ok = vf_config_split_list(&c, k, base, NULL, k->def);
		else if (k->def != NULL)
			ok = vf_config_set_scalar(&c, k, base, NULL, k->def,
				strlen(k->def), false);
		if (!ok)
			abort();        /* a bad default or out of memory */
	}
}

