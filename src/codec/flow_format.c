/*
 * Flow log format strings: "${version} ${account-id} ..." as AWS prints
 * them, or the bare names of a header line.
 */
#include "vpcflowd/flow.h"

#include "token.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GELF names that derived fields use: a future field may not take them. */
static const char *const derived_names[] = {
	"protocol", "tcp_flags_names", "capture_window_duration_seconds",
};

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Finds the field a name stands for, trying underscores as hyphens. */
static int lookup_name(const char *name, size_t len)
{
	char alt[VF_FIELD_NAME_MAX + 1];
	int f = vf_field_lookup(name, len);

	if (f >= 0 || memchr(name, '_', len) == NULL)
		return f;
	for (size_t i = 0; i < len; i++)
		alt[i] = name[i] == '_' ? '-' : name[i];
	return vf_field_lookup(alt, len);
}

static bool add_column(struct vf_format *fmt, const char *name, size_t len,
	char *err, size_t errlen)
{
	unsigned c = fmt->n;
	struct vf_column *col = &fmt->col[c];
	char gelf[VF_FIELD_NAME_MAX + 1];
	int f;

	if (c == VF_FORMAT_MAX_FIELDS) {
		set_err(err, errlen, "more than %d fields", VF_FORMAT_MAX_FIELDS);
		return false;
	}
	if (len == 0 || len > VF_FIELD_NAME_MAX) {
		set_err(err, errlen, "field %u: a name of 1 to %d characters "
			"expected", c + 1, VF_FIELD_NAME_MAX);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_name_char(name[i])) {
			set_err(err, errlen, "field %u (%.*s): invalid character "
				"'%c'", c + 1, (int)len, name, name[i]);
			return false;
		}
	}
	f = lookup_name(name, len);
	if (f >= 0) {
		if (fmt->pos[f] >= 0) {
			set_err(err, errlen, "field %s appears twice",
				vf_fields[f].aws_name);
			return false;
		}
		snprintf(gelf, sizeof(gelf), "%s", vf_fields[f].gelf_name);
		fmt->pos[f] = (int16_t)c;
		col->field = (uint16_t)f;
		col->kind = vf_fields[f].kind;
		col->max = vf_fields[f].max;
		if (vf_fields[f].version > fmt->version)
			fmt->version = vf_fields[f].version;
	} else {
		for (size_t i = 0; i < len; i++)
			gelf[i] = name[i] == '-' ? '_' : name[i];
		gelf[len] = '\0';
		for (size_t i = 0; i < sizeof(derived_names) /
		     sizeof(derived_names[0]); i++) {
			if (strcmp(gelf, derived_names[i]) == 0)
				goto clash;
		}
		for (int k = 0; k < VF_F_KNOWN; k++) {
			if (strcmp(gelf, vf_fields[k].gelf_name) == 0)
				goto clash;
		}
		for (unsigned k = 0; k < c; k++) {
			/* keys look like ,"_name": */
			if (fmt->col[k].field == VF_F_KNOWN &&
			    fmt->col[k].keylen == len + 5 &&
			    memcmp(fmt->col[k].key + 3, gelf, len) == 0)
				goto clash;
		}
		col->field = VF_F_KNOWN;
		col->kind = VF_KIND_STRING;
		col->max = 0;
	}
	col->keylen = (uint8_t)snprintf(fmt->keys[c], sizeof(fmt->keys[c]),
		",\"_%s\":", gelf);
	col->key = fmt->keys[c];
	fmt->n++;
	return true;
clash:
	set_err(err, errlen, "field %.*s: its name %s is already used by "
		"another field", (int)len, name, gelf);
	return false;
}

static bool build_text(struct vf_format *fmt)
{
	size_t size = 1;
	char *p;

	for (unsigned c = 0; c < fmt->n; c++)
		size += VF_FIELD_NAME_MAX + 4;
	fmt->text = p = malloc(size);
	if (p == NULL)
		return false;
	*p = '\0';
	for (unsigned c = 0; c < fmt->n; c++) {
		const char *name;
		char aws[VF_FIELD_NAME_MAX + 1];

		if (fmt->col[c].field < VF_F_KNOWN) {
			name = vf_fields[fmt->col[c].field].aws_name;
		} else {
			/* ,"_a_b": back to a-b */
			size_t n = fmt->col[c].keylen - 5;
			for (size_t i = 0; i < n; i++) {
				char ch = fmt->col[c].key[3 + i];
				aws[i] = ch == '_' ? '-' : ch;
			}
			aws[n] = '\0';
			name = aws;
		}
		p += sprintf(p, "%s${%s}", c ? " " : "", name);
	}
	return true;
}

struct vf_format *vf_format_create(const char *text, size_t len, char *err,
	size_t errlen)
{
	struct vf_format *fmt;
	size_t i = 0;

	fmt = calloc(1, sizeof(*fmt));
	if (fmt == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	for (int f = 0; f < VF_F_KNOWN; f++)
		fmt->pos[f] = -1;
	size_t start;

	while (vf_token_next(text, len, &i, &start)) {
		const char *name;
		size_t nlen;

		name = text + start;
		nlen = i - start;
		if (nlen >= 2 && name[0] == '$') {
			if (nlen < 4 || name[1] != '{' || name[nlen - 1] != '}') {
				set_err(err, errlen, "field %u: '%.*s' is not "
					"${name}", fmt->n + 1, (int)nlen, name);
				goto fail;
			}
			name += 2;
			nlen -= 3;
		}
		if (!add_column(fmt, name, nlen, err, errlen))
			goto fail;
	}
	if (fmt->n == 0) {
		set_err(err, errlen, "a format needs at least one field");
		goto fail;
	}
	if (!build_text(fmt)) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	return fmt;
fail:
	vf_format_destroy(fmt);
	return NULL;
}

void vf_format_destroy(struct vf_format *fmt)
{
	if (fmt == NULL)
		return;
	free(fmt->text);
	free(fmt);
}

static struct vf_format *default_format;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void make_default(void)
{
	static const char v2[] = "${version} ${account-id} ${interface-id} "
		"${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
		"${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

	default_format = vf_format_create(v2, sizeof(v2) - 1, NULL, 0);
}

const struct vf_format *vf_format_default(void)
{
	pthread_once(&default_once, make_default);
	if (default_format == NULL)
		abort();        /* out of memory at start-up */
	return default_format;
}

bool vf_format_is_header(const char *line, size_t len)
{
	size_t i = 0, start;
	bool known = false;

	while (vf_token_next(line, len, &i, &start)) {
		if (line[start] < 'a' || line[start] > 'z')
			return false;
		for (size_t k = start; k < i; k++) {
			char c = line[k];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '-' || c == '_'))
				return false;
		}
		if (i - start <= VF_FIELD_NAME_MAX &&
		    lookup_name(line + start, i - start) >= 0)
			known = true;
	}
	return known;
}
