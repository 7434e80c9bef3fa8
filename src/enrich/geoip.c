/*
 * GeoIP and ASN lookups with libmaxminddb. Any MMDB works (GeoIP2 and
 * GeoLite2, DB-IP, IPinfo...): the value of each field is found by a
 * configurable dotted path (enrich.geoip.paths), split once here. Strings
 * and numbers are taken as the database stores them; a number where a
 * string is expected is written as text and the reverse ("AS15169" for an
 * AS number) is read for its digits.
 */
#include "enrich_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include "vpcflowd/log.h"

#define PATH_MAX_PARTS 8

/* A dotted lookup path, split: "city.names.en" -> city, names, en. */
struct geo_path {
	char *text;                     /* the parts, NUL-separated */
	const char *part[PATH_MAX_PARTS + 1];
};

struct geo_db {
	MMDB_s mmdb;
	bool open;
};

struct vf_geoip {
	struct geo_db city, asn;
	struct geo_path country_code, city_name, latitude, longitude;
	struct geo_path as_number, as_organization;
};

static bool path_split(struct geo_path *p, const char *dotted)
{
	size_t n = 0;
	char *s;

	p->text = strdup(dotted != NULL ? dotted : "");
	if (p->text == NULL)
		return false;
	for (s = p->text; *s != '\0' && n < PATH_MAX_PARTS;) {
		p->part[n++] = s;
		s = strchr(s, '.');
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	p->part[n] = NULL;
	return s == NULL || *s == '\0';     /* false: too many parts */
}

static bool db_open(struct geo_db *db, const char *key, const char *path,
	char *err, size_t errlen)
{
	int rc;

	if (path == NULL)
		return true;
	errno = 0;
	rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (rc != MMDB_SUCCESS) {
		bool sys = (rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR) &&
			errno != 0;

		snprintf(err, errlen, "enrich.geoip.%s: %s: %s", key, path,
			sys ? strerror(errno) : MMDB_strerror(rc));
		return false;
	}
	db->open = true;
	log_info("geoip: %s: %s, built %llu", path,
		db->mmdb.metadata.database_type,
		(unsigned long long)db->mmdb.metadata.build_epoch);
	return true;
}

struct vf_geoip *vf_geoip_open(const struct vf_config_geoip *gc, char *err,
	size_t errlen)
{
	struct vf_geoip *g = calloc(1, sizeof(*g));
	const struct vf_config_geoip_paths *p = &gc->paths;

	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	static const char *const keys[] = { "country_code", "city_name",
		"latitude", "longitude", "as_number", "as_organization" };
	struct geo_path *paths[] = { &g->country_code, &g->city_name,
		&g->latitude, &g->longitude, &g->as_number, &g->as_organization };
	const char *texts[] = { p->country_code, p->city_name, p->latitude,
		p->longitude, p->as_number, p->as_organization };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (path_split(paths[i], texts[i]))
			continue;
		if (paths[i]->text == NULL)
			snprintf(err, errlen, "out of memory");
		else
			snprintf(err, errlen, "enrich.geoip.paths.%s: more than "
				"%d parts", keys[i], PATH_MAX_PARTS);
		goto fail;
	}
	if (!db_open(&g->city, "city_db", gc->city_db, err, errlen) ||
	    !db_open(&g->asn, "asn_db", gc->asn_db, err, errlen))
		goto fail;
	return g;
fail:
	vf_geoip_close(g);
	return NULL;
}

void vf_geoip_close(struct vf_geoip *g)
{
	if (g == NULL)
		return;
	if (g->city.open)
		MMDB_close(&g->city.mmdb);
	if (g->asn.open)
		MMDB_close(&g->asn.mmdb);
	free(g->country_code.text);
	free(g->city_name.text);
	free(g->latitude.text);
	free(g->longitude.text);
	free(g->as_number.text);
	free(g->as_organization.text);
	free(g);
}

/* The database's record for a; false when it has none. */
static bool db_find(const struct geo_db *db, const struct vf_addr *a,
	MMDB_entry_s *entry)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	MMDB_lookup_result_s res;
	int mmdb_err;

	if (!db->open)
		return false;
	if (a->v6) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, a->b, 16);
		sa = (const struct sockaddr *)&sin6;
	} else {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a->b, 4);
		sa = (const struct sockaddr *)&sin;
	}
	/* MMDB_s is only read: the library takes it non-const */
	res = MMDB_lookup_sockaddr((MMDB_s *)&db->mmdb, sa, &mmdb_err);
	if (mmdb_err != MMDB_SUCCESS || !res.found_entry)
		return false;
	*entry = res.entry;
	return true;
}

static bool get_value(MMDB_entry_s *entry, const struct geo_path *p,
	MMDB_entry_data_s *data)
{
	if (p->part[0] == NULL)
		return false;           /* an empty path: not wanted */
	if (MMDB_aget_value(entry, data, p->part) != MMDB_SUCCESS)
		return false;
	return data->has_data;
}

/* A value as text: strings as they are, numbers in decimal. */
static bool value_text(const MMDB_entry_data_s *d, char *tmp, size_t tmplen,
	const char **s, size_t *n)
{
	int len;

	switch (d->type) {
	case MMDB_DATA_TYPE_UTF8_STRING:
		*s = d->utf8_string;
		*n = d->data_size;
		return *n > 0;
	case MMDB_DATA_TYPE_UINT16:
		len = snprintf(tmp, tmplen, "%u", (unsigned)d->uint16);
		break;
	case MMDB_DATA_TYPE_UINT32:
		len = snprintf(tmp, tmplen, "%u", (unsigned)d->uint32);
		break;
	case MMDB_DATA_TYPE_INT32:
		len = snprintf(tmp, tmplen, "%d", (int)d->int32);
		break;
	case MMDB_DATA_TYPE_UINT64:
		len = snprintf(tmp, tmplen, "%llu",
			(unsigned long long)d->uint64);
		break;
	default:
		return false;
	}
	*s = tmp;
	*n = (size_t)len;
	return len > 0 && (size_t)len < tmplen;
}

static bool value_double(const MMDB_entry_data_s *d, double *out)
{
	switch (d->type) {
	case MMDB_DATA_TYPE_DOUBLE:
		*out = d->double_value;
		break;
	case MMDB_DATA_TYPE_FLOAT:
		*out = d->float_value;
		break;
	case MMDB_DATA_TYPE_UTF8_STRING: {
		char tmp[64], *end;

		if (d->data_size == 0 || d->data_size >= sizeof(tmp))
			return false;
		memcpy(tmp, d->utf8_string, d->data_size);
		tmp[d->data_size] = '\0';
		*out = strtod(tmp, &end);
		if (*end != '\0')
			return false;
		break;
	}
	default:
		return false;
	}
	return isfinite(*out);
}

/* An AS number: an integer, or text with digits after an optional "AS". */
static bool value_u64(const MMDB_entry_data_s *d, uint64_t *out)
{
	const char *s;
	size_t n, i = 0;
	uint64_t v = 0;

	switch (d->type) {
	case MMDB_DATA_TYPE_UINT16:
		*out = d->uint16;
		return true;
	case MMDB_DATA_TYPE_UINT32:
		*out = d->uint32;
		return true;
	case MMDB_DATA_TYPE_UINT64:
		*out = d->uint64;
		return true;
	case MMDB_DATA_TYPE_INT32:
		if (d->int32 < 0)
			return false;
		*out = (uint64_t)d->int32;
		return true;
	case MMDB_DATA_TYPE_UTF8_STRING:
		s = d->utf8_string;
		n = d->data_size;
		if (n >= 2 && (s[0] == 'A' || s[0] == 'a') &&
		    (s[1] == 'S' || s[1] == 's'))
			i = 2;
		if (i == n || n - i > 10)
			return false;
		for (; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return false;
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
		*out = v;
		return true;
	default:
		return false;
	}
}

/* Decimal degrees without trailing zeros: 47.913, -122.3042, 0 */
static size_t format_degrees(double v, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%.6f", v);
	size_t len;

	if (n <= 0 || (size_t)n >= outlen)
		return 0;
	len = (size_t)n;
	while (len > 1 && out[len - 1] == '0')
		len--;
	if (out[len - 1] == '.')
		len--;
	if (len == 2 && out[0] == '-' && out[1] == '0')
		out[0] = '0', len = 1;
	out[len] = '\0';
	return len;
}

static bool put_text(struct vf_buf *b, MMDB_entry_s *entry,
	const struct geo_path *p, const char *suffix)
{
	MMDB_entry_data_s d;
	char tmp[32];
	const char *s;
	size_t n;

	if (!get_value(entry, p, &d) || !value_text(&d, tmp, sizeof(tmp), &s, &n))
		return true;
	return vf_frag_str(b, suffix, s, n);
}

static bool put_city(const struct vf_geoip *g, MMDB_entry_s *entry,
	struct vf_buf *b)
{
	MMDB_entry_data_s d;
	double lat, lon;
	char tmp[80];
	size_t n;

	if (get_value(entry, &g->latitude, &d) && value_double(&d, &lat) &&
	    get_value(entry, &g->longitude, &d) && value_double(&d, &lon) &&
	    lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		n = format_degrees(lat, tmp, 32);
		tmp[n++] = ',';
		n += format_degrees(lon, tmp + n, sizeof(tmp) - n);
		if (!vf_frag_str(b, "geolocation", tmp, n))
			return false;
	}
	return put_text(b, entry, &g->country_code, "country_code") &&
		put_text(b, entry, &g->city_name, "city_name");
}

static bool put_asn(const struct vf_geoip *g, MMDB_entry_s *entry,
	struct vf_buf *b)
{
	MMDB_entry_data_s d;
	uint64_t asn;
	char tmp[24];
	int n;

	if (get_value(entry, &g->as_number, &d) && value_u64(&d, &asn)) {
		n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)asn);
		if (!vf_frag_key(b, "as_number") ||
		    !vf_buf_append(b, tmp, (size_t)n))
			return false;
	}
	return put_text(b, entry, &g->as_organization, "as_organization");
}

bool vf_geoip_render(const struct vf_geoip *g, const struct vf_addr *a,
	struct vf_buf *b)
{
	MMDB_entry_s entry;
	size_t mark = b->len;

	if (g == NULL)
		return true;
	if (db_find(&g->city, a, &entry) && !put_city(g, &entry, b))
		goto full;
	/* asn_db may name the city database too, when it holds both */
	if (db_find(&g->asn, a, &entry) && !put_asn(g, &entry, b))
		goto full;
	return true;
full:
	b->len = mark;
	return false;
}
