#include "vpcflowd/decoder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpcflowd/inflate.h"
#include "vpcflowd/kpl.h"
#include "vpcflowd/log.h"

/* A document can have at most one token per two bytes. */
#define TOKENS_PER_BYTE_DIV 2

struct vf_decoder {
	struct vf_decoder_opts o;
	struct vf_inflate *z;
	struct vf_envelope_parser *env;
	struct vf_buf inflated;
	struct vf_flow flow;
	struct vf_format *header_fmt;    /* from a header line, owned */
	const struct vf_group_format *last_group;
	const struct vf_record_meta *rm;
	struct vf_envelope raw_env;      /* what raw lines say of their group */
	bool stopped;
	/* error messages: at most one per kind per second */
	time_t last_log[VF_ERR_COUNT];
	uint64_t suppressed[VF_ERR_COUNT];
};

struct vf_decoder *vf_decoder_create(const struct vf_decoder_opts *opts)
{
	struct vf_decoder *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->o = *opts;
	d->z = vf_inflate_create();
	d->env = vf_envelope_parser_create(opts->max_record_size /
		TOKENS_PER_BYTE_DIV + 64);
	if (d->z == NULL || d->env == NULL) {
		vf_decoder_destroy(d);
		return NULL;
	}
	vf_buf_init(&d->inflated, opts->max_record_size);
	if (opts->raw_log_group != NULL) {
		d->raw_env.type = VF_MESSAGE_DATA;
		d->raw_env.log_group.p = opts->raw_log_group;
		d->raw_env.log_group.n = (uint32_t)strlen(opts->raw_log_group);
	}
	return d;
}

void vf_decoder_destroy(struct vf_decoder *d)
{
	if (d == NULL)
		return;
	vf_inflate_destroy(d->z);
	vf_envelope_parser_destroy(d->env);
	vf_buf_finish(&d->inflated);
	vf_format_destroy(d->header_fmt);
	free(d);
}

void vf_decoder_input_begin(struct vf_decoder *d)
{
	vf_format_destroy(d->header_fmt);
	d->header_fmt = NULL;
}

static void error(struct vf_decoder *d, enum vf_error_kind kind,
	const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void error(struct vf_decoder *d, enum vf_error_kind kind,
	const char *fmt, ...)
{
	struct timespec now;
	char msg[512];
	va_list ap;

	d->o.stats->errors[kind]++;
	if (log_threshold > LOG_LEVEL_WARN)
		return;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (d->last_log[kind] == now.tv_sec) {
		d->suppressed[kind]++;
		return;
	}
	d->last_log[kind] = now.tv_sec;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->suppressed[kind])
		log_warnx("%s: %s error: %s (and %llu more %s errors)",
			d->rm->origin, vf_error_kind_name(kind), msg,
			(unsigned long long)d->suppressed[kind],
			vf_error_kind_name(kind));
	else
		log_warnx("%s: %s error: %s", d->rm->origin,
			vf_error_kind_name(kind), msg);
	d->suppressed[kind] = 0;
}

static const struct vf_format *group_format(struct vf_decoder *d,
	const struct vf_sv *group)
{
	const struct vf_group_format *g = d->last_group;

	if (group->p == NULL || d->o.n_groups == 0)
		return NULL;
	if (g != NULL && strlen(g->log_group) == group->n &&
	    memcmp(g->log_group, group->p, group->n) == 0)
		return g->format;
	for (size_t i = 0; i < d->o.n_groups; i++) {
		g = &d->o.groups[i];
		if (strlen(g->log_group) == group->n &&
		    memcmp(g->log_group, group->p, group->n) == 0) {
			d->last_group = g;
			return g->format;
		}
	}
	return NULL;
}

/* Parses one flow line and hands it on. */
static void flow_line(struct vf_decoder *d, const struct vf_format *fmt,
	const char *line, size_t len, const struct vf_flow_meta *meta,
	bool blank_is_error)
{
	switch (vf_flow_parse(&d->flow, fmt, line, len)) {
	case VF_FLOW_OK:
		if (!d->o.sink(d->o.sink_ctx, &d->flow, meta))
			d->stopped = true;
		break;
	case VF_FLOW_BLANK:
		if (blank_is_error)
			error(d, VF_ERR_FIELD_COUNT, "empty flow log message");
		break;
	case VF_FLOW_FIELD_COUNT:
		error(d, VF_ERR_FIELD_COUNT, "%u fields expected, line: %.*s",
			fmt->n, (int)(len > 200 ? 200 : len), line);
		break;
	case VF_FLOW_BAD_NUMBER:
		error(d, VF_ERR_BAD_NUMBER, "a number field is not a number, "
			"line: %.*s", (int)(len > 200 ? 200 : len), line);
		break;
	}
}

static void documents(struct vf_decoder *d, const char *buf, size_t len)
{
	struct vf_envelope env;
	struct vf_log_event ev;
	struct vf_flow_meta meta = { &env, &ev, d->rm };
	char err[128];

	vf_envelope_begin(d->env, buf, len);
	while (!d->stopped) {
		enum vf_envelope_status s;
		const struct vf_format *fmt;
		size_t cursor = 0;
		int r;

		err[0] = '\0';
		s = vf_envelope_next(d->env, &env, err, sizeof(err));
		if (s == VF_ENVELOPE_END)
			break;
		switch (s) {
		case VF_ENVELOPE_OK:
			break;
		case VF_ENVELOPE_BAD_SHAPE:
			error(d, VF_ERR_ENVELOPE, "%s", err);
			continue;
		case VF_ENVELOPE_TOO_LARGE:
			error(d, VF_ERR_TOO_LARGE, "%s", err);
			return;
		case VF_ENVELOPE_NOMEM:
			error(d, VF_ERR_TOO_LARGE, "out of memory");
			return;
		default:
			error(d, VF_ERR_JSON, "%s", err);
			return;
		}
		d->o.stats->records++;
		if (env.type == VF_MESSAGE_CONTROL) {
			d->o.stats->control_messages++;
			continue;
		}
		fmt = d->o.format;
		if (fmt == NULL)
			fmt = group_format(d, &env.log_group);
		if (fmt == NULL)
			fmt = d->o.default_format;
		if (fmt == NULL)
			fmt = vf_format_default();
		while (!d->stopped &&
		       (r = vf_envelope_event(d->env, &env, &cursor, &ev)) != 0) {
			if (r < 0) {
				error(d, VF_ERR_EVENT, "a log event without a "
					"valid string message");
				continue;
			}
			d->o.stats->events++;
			if (ev.timestamp_ms > 0 &&
			    (uint64_t)ev.timestamp_ms > d->o.stats->last_flow_ms)
				d->o.stats->last_flow_ms = (uint64_t)ev.timestamp_ms;
			flow_line(d, fmt, ev.message.p, ev.message.n, &meta,
				true);
		}
	}
}

static void lines(struct vf_decoder *d, const char *buf, size_t len)
{
	struct vf_flow_meta meta = { NULL, NULL, d->rm };
	const char *p = buf, *end = buf + len;
	const struct vf_format *group_fmt = NULL;

	if (d->o.raw_log_group != NULL) {
		meta.env = &d->raw_env;
		group_fmt = group_format(d, &d->raw_env.log_group);
	}

	d->o.stats->records++;
	while (p < end && !d->stopped) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const struct vf_format *fmt;

		if (vf_format_is_header(p, n)) {
			if (d->o.format == NULL) {
				char err[160];
				struct vf_format *h;

				h = vf_format_create(p, n, err, sizeof(err));
				if (h == NULL) {
					error(d, VF_ERR_FIELD_COUNT, "bad header "
						"line: %s", err);
				} else {
					vf_format_destroy(d->header_fmt);
					d->header_fmt = h;
				}
			}
		} else {
			fmt = d->o.format;
			if (fmt == NULL)
				fmt = d->header_fmt;
			if (fmt == NULL)
				fmt = group_fmt;
			if (fmt == NULL)
				fmt = d->o.default_format;
			if (fmt == NULL)
				fmt = vf_format_default();
			flow_line(d, fmt, p, n, &meta, false);
		}
		p += n + 1;
	}
}

/* Decompressed (or never compressed) content: documents or lines. */
static void content(struct vf_decoder *d, const char *buf, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;                       /* a UTF-8 byte order mark */
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
	       buf[i] == '\n'))
		i++;
	if (i == len)
		return;
	if (buf[i] == '{') {
		documents(d, buf + i, len - i);
		return;
	}
	if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f ||
	    memchr(buf + i, '\0', len - i) != NULL) {
		error(d, VF_ERR_CONTENT, "neither gzip, JSON, KPL nor flow "
			"log text");
		return;
	}
	lines(d, buf + i, len - i);
}

static void payload(struct vf_decoder *d, const uint8_t *data, size_t len)
{
	size_t off = 0;

	if (!vf_is_gzip(data, len)) {
		content(d, (const char *)data, len);
		return;
	}
	while (off < len && !d->stopped) {
		enum vf_inflate_status s;
		size_t used = 0;

		if (!vf_is_gzip(data + off, len - off)) {
			/* tolerate the zero padding some tools append */
			while (off < len && data[off] == 0)
				off++;
			if (off < len)
				error(d, VF_ERR_GZIP, "%zu bytes of trailing "
					"garbage after the gzip data", len - off);
			return;
		}
		vf_buf_reset(&d->inflated);
		s = vf_inflate_member(d->z, data + off, len - off, &d->inflated,
			&used);
		if (s == VF_INFLATE_TOO_LARGE) {
			error(d, VF_ERR_TOO_LARGE, "inflates to more than %zu "
				"bytes", d->inflated.max);
			return;
		}
		if (s != VF_INFLATE_OK) {
			error(d, VF_ERR_GZIP, s == VF_INFLATE_NOMEM ?
				"out of memory" : "corrupt or truncated gzip data");
			return;
		}
		content(d, d->inflated.data, d->inflated.len);
		off += used;
	}
}

static bool kpl_record(void *ctx, const struct vf_kpl_record *rec,
	size_t index)
{
	struct vf_decoder *d = ctx;

	payload(d, rec->data, rec->len);
	return !d->stopped;
}

bool vf_decoder_record(struct vf_decoder *d, const uint8_t *data, size_t len,
	const struct vf_record_meta *rm)
{
	d->rm = rm;
	d->o.stats->bytes_in += len;
	if (vf_kpl_has_magic(data, len)) {
		size_t count = 0;
		enum vf_kpl_status s = vf_kpl_deaggregate(data, len, kpl_record,
			d, &count);

		if (s == VF_KPL_NOT_AGGREGATED)
			payload(d, data, len);
		else if (s != VF_KPL_OK)
			error(d, VF_ERR_KPL, "KPL aggregate: %s",
				vf_kpl_status_name(s));
	} else {
		payload(d, data, len);
	}
	return !d->stopped;
}
