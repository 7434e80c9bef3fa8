/*
 * Loading one threat list, from a file or an http(s) URL. URLs are fetched
 * with a conditional GET (If-None-Match, If-Modified-Since), files are read
 * again only when their size or modification time changed (or on SIGHUP).
 * A list that cannot be fetched or parsed, or holds no address at all,
 * keeps its last good contents.
 */
#include "enrich_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "vpcflowd/io.h"
#include "vpcflowd/log.h"

#define LIST_MAX_BYTES ((size_t)512 << 20)

static void keep_header(const struct vf_http *h, const char *name, char *out,
	size_t outlen)
{
	const char *v = vf_http_header(h, name);

	out[0] = '\0';
	if (v != NULL && strlen(v) < outlen)
		memcpy(out, v, strlen(v) + 1);
}

/* The body of the URL (in h, until its next request), or NULL: *unchanged
 * on 304, else err says why. */
static const char *fetch(struct vf_threat_list *l, struct vf_http *h,
	bool *unchanged, size_t *len, char *err, size_t errlen)
{
	char inm[sizeof(l->etag) + 16], ims[sizeof(l->last_modified) + 24];
	const char *headers[2];
	size_t n = 0;
	enum vf_http_result r;
	const struct vf_buf *body;
	long status;

	if (l->set != NULL && l->etag[0] != '\0') {
		snprintf(inm, sizeof(inm), "If-None-Match: %s", l->etag);
		headers[n++] = inm;
	}
	if (l->set != NULL && l->last_modified[0] != '\0') {
		snprintf(ims, sizeof(ims), "If-Modified-Since: %s",
			l->last_modified);
		headers[n++] = ims;
	}
	r = vf_http_request(h, "GET", l->cfg->url, headers, n, NULL, 0);
	if (r != VF_HTTP_OK) {
		snprintf(err, errlen, "%s", r == VF_HTTP_TOO_LARGE ?
			"larger than 512 MiB" : vf_http_error(h));
		return NULL;
	}
	status = vf_http_status(h);
	if (status == 304 && l->set != NULL) {
		*unchanged = true;
		return NULL;
	}
	if (status != 200) {
		snprintf(err, errlen, "HTTP status %ld", status);
		return NULL;
	}
	body = vf_http_body(h);
	*len = body->len;
	keep_header(h, "ETag", l->next_etag, sizeof(l->next_etag));
	keep_header(h, "Last-Modified", l->next_last_modified,
		sizeof(l->next_last_modified));
	return body->data != NULL ? body->data : "";
}

/* The file's contents, or NULL: *unchanged when it is as last read. */
static char *read_list(struct vf_threat_list *l, bool force, bool *unchanged,
	size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *data;

	if (stat(l->cfg->path, &st) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	/* not a FIFO or a device: opening one could block for good */
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		return NULL;
	}
	if (!force && l->set != NULL && st.st_size == l->file_size &&
	    st.st_mtim.tv_sec == l->file_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == l->file_mtime.tv_nsec) {
		*unchanged = true;
		return NULL;
	}
	data = vf_read_file(l->cfg->path, LIST_MAX_BYTES, len);
	if (data == NULL) {
		snprintf(err, errlen, "%s", errno == EFBIG ?
			"larger than 512 MiB" : strerror(errno));
		return NULL;
	}
	l->next_size = st.st_size;
	l->next_mtime = st.st_mtim;
	return data;
}

enum vf_threat_load vf_threat_list_load(struct vf_threat_list *l,
	struct vf_http *h, bool force)
{
	const char *where = l->cfg->url != NULL ? l->cfg->url : l->cfg->path;
	struct vf_threat_parse_result res = { 0 };
	struct vf_ipset_builder *b = NULL;
	struct vf_ipset *set;
	bool unchanged = false;
	char err[256] = "";
	const char *data;
	char *file = NULL;
	size_t len = 0;
	enum vf_threat_load ret = VF_THREAT_FAILED;

	if (l->cfg->url != NULL)
		data = fetch(l, h, &unchanged, &len, err, sizeof(err));
	else
		data = file = read_list(l, force, &unchanged, &len, err,
			sizeof(err));
	if (data == NULL) {
		if (unchanged) {
			log_debug("threat list %s: %s unchanged", l->cfg->name,
				where);
			l->failures = 0;
			return VF_THREAT_UNCHANGED;
		}
		goto fail;
	}
	b = vf_ipset_builder_create();
	if (b == NULL || !vf_threat_parse(l->cfg->format, l->cfg->column,
	    data, len, b, 1, &res)) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (res.entries == 0) {
		if (res.bad_lines > 0)
			snprintf(err, sizeof(err), "no address in it (%zu lines "
				"that are not %s entries, the first at line %zu)",
				res.bad_lines, vf_config_threat_format_name(
				l->cfg->format), res.first_bad_line);
		else
			snprintf(err, sizeof(err), "no address in it");
		goto fail;
	}
	set = vf_ipset_build(b);
	if (set == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (res.bad_lines > 0)
		log_warnx("threat list %s: %s: %zu lines skipped that are not "
			"%s entries, the first at line %zu", l->cfg->name, where,
			res.bad_lines, vf_config_threat_format_name(
			l->cfg->format), res.first_bad_line);
	log_info("threat list %s: %zu entries, %zu ranges from %s",
		l->cfg->name, res.entries, vf_ipset_ranges(set), where);
	vf_ipset_destroy(l->set);
	l->set = set;
	l->entries = res.entries;
	l->failures = 0;
	memcpy(l->etag, l->next_etag, sizeof(l->etag));
	memcpy(l->last_modified, l->next_last_modified,
		sizeof(l->last_modified));
	l->file_size = l->next_size;
	l->file_mtime = l->next_mtime;
	ret = VF_THREAT_CHANGED;
	goto done;
fail:
	l->failures++;
	log_warnx("threat list %s: %s: %s; %s", l->cfg->name, where, err,
		l->set != NULL ? "keeping its last good contents" :
		"it stays empty until it loads");
done:
	vf_ipset_builder_destroy(b);
	free(file);
	/* a list may be large: its text is not kept between loads */
	if (l->cfg->url != NULL)
		vf_http_release(h);
	return ret;
}

void vf_threat_list_finish(struct vf_threat_list *l)
{
	vf_ipset_destroy(l->set);
	l->set = NULL;
}
