/*
 * vf_config_print(): the effective configuration as YAML, walked from the
 * same tables as the loader, with secrets (passwords in URLs, token-like
 * query values, secret keys and Kafka properties) shown as "***".
 */
#include "vpcflowd/config.h"

#include <stdio.h>
#include <string.h>

#include "vpcflowd/buf.h"

#include "config_internal.h"

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
		vf_config_format_duration(buf, sizeof(buf),
			*AT(base, k->off, const uint64_t));
		fputs(buf, out);
		break;
	case K_SIZE:
		vf_config_format_size(buf, sizeof(buf),
			*AT(base, k->off, const uint64_t));
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
	for (const struct key *k = vf_config_root_section.keys;
	     k->name != NULL; k++) {
		if (!section_printable(k->sub, (const char *)cfg)) {
			fprintf(out, "%s: {}\n", k->name);
			continue;
		}
		fprintf(out, "%s:\n", k->name);
		print_section(out, k->sub, (const char *)cfg, 2, false);
	}
}

