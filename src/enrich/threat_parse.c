/*
 * Threat list files to set builder entries. Four formats:
 *
 *   plain     one address or prefix a line, the first word (so that
 *             "address<TAB>count" feeds work); '#' and ';' start comments
 *   spamhaus  DROP/EDROP text ("prefix ; SBL123", ';' comments) or the
 *             JSON lines form, one object a line, whose "cidr" member is
 *             picked out by hand; objects without one are skipped
 *   tor       exit-addresses (the address of every "ExitAddress" line;
 *             other keyword lines skipped) or a bare list of addresses
 *   csv       the address in a 1-based column; quoted fields with ""
 *             escapes, which may span lines; a first record without an
 *             address there is a header
 *
 * Everything works on the bytes given, which need no NUL: lines are found
 * with memchr and every read is checked against the end. Lines may end in
 * CRLF; a UTF-8 byte order mark at the start is skipped; blank lines and
 * '#' comment lines are skipped in every format. An unknown format is read
 * as plain.
 */
#include "vpcflowd/ipset.h"

#include <string.h>

struct parse {
	struct vf_ipset_builder *b;
	uint64_t mask;
	struct vf_threat_parse_result *res;
	size_t line;        /* 1-based number of the line being read */
	bool oom;
};

static inline bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **p, size_t *n)
{
	while (*n > 0 && is_space((*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*p)[*n - 1]))
		(*n)--;
}

/* The first whitespace-delimited word of [p, p + n), moved past. */
static void next_word(const char **p, size_t *n, const char **w, size_t *wn)
{
	size_t i = 0;

	trim(p, n);
	while (i < *n && !is_space((*p)[i]))
		i++;
	*w = *p;
	*wn = i;
	*p += i;
	*n -= i;
}

static void bad_line(struct parse *ps)
{
	if (ps->res->bad_lines++ == 0)
		ps->res->first_bad_line = ps->line;
}

/* Adds the prefix in [p, p + n); a bad line when it is not one. */
static void add_cidr(struct parse *ps, const char *p, size_t n)
{
	struct vf_addr a;
	unsigned prefix;

	if (!vf_cidr_parse(p, n, &a, &prefix)) {
		bad_line(ps);
		return;
	}
	if (!vf_ipset_builder_add(ps->b, &a, prefix, ps->mask)) {
		ps->oom = true;
		return;
	}
	ps->res->entries++;
}

/* The length of the line before the first of a comment character. */
static size_t before_comment(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '#' || p[i] == ';')
			return i;
	return n;
}

static void plain_line(struct parse *ps, const char *p, size_t n)
{
	const char *w;
	size_t wn;

	n = before_comment(p, n);
	next_word(&p, &n, &w, &wn);
	if (wn > 0)
		add_cidr(ps, w, wn);
}

/*
 * The string value of the "cidr" member of a JSON object on one line.
 * False when there is no such member; an empty value (*vn 0) when there is
 * one but its value is not a plain string.
 */
static bool json_cidr(const char *p, size_t n, const char **v, size_t *vn)
{
	static const char name[] = "\"cidr\"";
	const size_t nlen = sizeof(name) - 1;
	const char *end = p + n, *q;

	while ((q = memmem(p, (size_t)(end - p), name, nlen)) != NULL) {
		q += nlen;
		p = q;
		while (q < end && is_space(*q))
			q++;
		if (q == end || *q != ':')
			continue;
		q++;
		while (q < end && is_space(*q))
			q++;
		*v = q;
		*vn = 0;
		if (q == end || *q != '"')
			return true;
		*v = ++q;
		for (; q < end && *q != '"'; q++)
			if (*q == '\\')
				return true;
		if (q < end)
			*vn = (size_t)(q - *v);
		return true;
	}
	return false;
}

static void spamhaus_line(struct parse *ps, const char *p, size_t n)
{
	const char *v;
	size_t vn;

	trim(&p, &n);
	if (n == 0 || p[0] == ';' || p[0] == '#')
		return;
	if (p[0] == '{') {
		if (json_cidr(p, n, &v, &vn))
			add_cidr(ps, v, vn);
		return;
	}
	plain_line(ps, p, n);
}

static bool all_letters(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned)(unsigned char)p[i] | 0x20) - 'a' > 'z' - 'a')
			return false;
	return n > 0;
}

static void tor_line(struct parse *ps, const char *p, size_t n)
{
	static const char exit_address[] = "ExitAddress";
	const char *w, *rest = p;
	size_t wn, rn = n;

	next_word(&rest, &rn, &w, &wn);
	if (wn == 0 || w[0] == '#')
		return;
	if (wn == sizeof(exit_address) - 1 &&
	    memcmp(w, exit_address, wn) == 0) {
		struct vf_addr a;

		next_word(&rest, &rn, &w, &wn);
		if (!vf_addr_parse(w, wn, &a)) {
			bad_line(ps);
			return;
		}
		if (!vf_ipset_builder_add(ps->b, &a, a.v6 ? 128 : 32, ps->mask))
			ps->oom = true;
		else
			ps->res->entries++;
		return;
	}
	/* ExitNode, Published, LastStatus and any later keyword */
	if (all_letters(w, wn))
		return;
	/* torbulkexitlist: an address a line */
	n = before_comment(p, n);
	trim(&p, &n);
	add_cidr(ps, p, n);
}

/* One CSV field as found. */
struct csv_field {
	const char *p;
	size_t n;
	bool clean;     /* no "" escape, closed quote, nothing after it */
};

/*
 * Reads the record at *pos up to its unquoted line end (which it moves
 * past) and finds field column in it; false when the record is shorter.
 * *lines counts the line ends read.
 */
static bool csv_record(const char *d, size_t len, size_t *pos,
	unsigned column, struct csv_field *out, size_t *lines)
{
	size_t q = *pos;
	unsigned f = 1;
	bool found = false;

	*lines = 0;
	for (;;) {
		struct csv_field fl = { .clean = true };

		while (q < len && (d[q] == ' ' || d[q] == '\t'))
			q++;
		if (q < len && d[q] == '"') {
			size_t start = ++q;

			for (;;) {
				if (q == len) {
					fl.clean = false;
					break;
				}
				if (d[q] == '"') {
					if (q + 1 < len && d[q + 1] == '"') {
						fl.clean = false;
						q += 2;
						continue;
					}
					break;
				}
				if (d[q] == '\n')
					(*lines)++;
				q++;
			}
			fl.p = d + start;
			fl.n = q - start;
			if (q < len)
				q++;
			while (q < len && d[q] != ',' && d[q] != '\n') {
				if (!is_space(d[q]))
					fl.clean = false;
				q++;
			}
		} else {
			size_t start = q;

			while (q < len && d[q] != ',' && d[q] != '\n')
				q++;
			fl.p = d + start;
			fl.n = q - start;
		}
		if (f == column) {
			*out = fl;
			found = true;
		}
		if (q < len && d[q] == ',') {
			q++;
			f++;
			continue;
		}
		if (q < len) {
			q++;
			(*lines)++;
		}
		break;
	}
	*pos = q;
	return found;
}

static void parse_csv(struct parse *ps, const char *d, size_t len, size_t pos,
	unsigned column)
{
	bool first = true;

	if (column == 0)
		column = 1;
	ps->line = 1;
	while (pos < len && !ps->oom) {
		const char *nl = memchr(d + pos, '\n', len - pos);
		size_t eol = nl ? (size_t)(nl - d) : len, k = pos, lines;
		struct csv_field fl;
		struct vf_addr a;
		unsigned prefix;
		bool found;

		while (k < eol && is_space(d[k]))
			k++;
		if (k == eol || d[k] == '#') {
			pos = eol + (nl != NULL);
			ps->line++;
			continue;
		}
		found = csv_record(d, len, &pos, column, &fl, &lines);
		if (found)
			trim(&fl.p, &fl.n);
		if (found && fl.clean && vf_cidr_parse(fl.p, fl.n, &a, &prefix)) {
			if (!vf_ipset_builder_add(ps->b, &a, prefix, ps->mask))
				ps->oom = true;
			else
				ps->res->entries++;
		} else if (!first) {
			bad_line(ps);
		}
		first = false;
		ps->line += lines;
	}
}

bool vf_threat_parse(enum vf_config_threat_format format, unsigned column,
	const char *data, size_t len, struct vf_ipset_builder *b, uint64_t mask,
	struct vf_threat_parse_result *res)
{
	struct vf_threat_parse_result scratch;
	struct parse ps = { .b = b, .mask = mask };
	size_t pos = 0;

	ps.res = res ? res : &scratch;
	memset(ps.res, 0, sizeof(*ps.res));
	if (data == NULL)
		len = 0;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	if (format == VF_CONFIG_THREAT_CSV) {
		parse_csv(&ps, data, len, pos, column);
		return !ps.oom;
	}
	while (pos < len && !ps.oom) {
		const char *p = data + pos;
		const char *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;

		pos += n + (nl != NULL);
		ps.line++;
		switch (format) {
		case VF_CONFIG_THREAT_SPAMHAUS:
			spamhaus_line(&ps, p, n);
			break;
		case VF_CONFIG_THREAT_TOR:
			tor_line(&ps, p, n);
			break;
		default:
			plain_line(&ps, p, n);
			break;
		}
	}
	return !ps.oom;
}
