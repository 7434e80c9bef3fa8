#include "vpcflowd/gelf.h"

#include <string.h>

#include "vpcflowd/json.h"
#include "vpcflowd/protocols.h"

/* tcp-flags bits, in the order tcp_flags_names lists them */
static const struct {
	unsigned bit;
	const char *name;
} tcp_flag_names[] = {
	{ 1, "FIN" }, { 2, "SYN" }, { 4, "RST" }, { 8, "PSH" }, { 16, "ACK" },
	{ 32, "URG" },
};

bool vf_gelf_init(struct vf_gelf *g, const char *host)
{
	struct vf_buf b;
	size_t n = strlen(host);
	bool ok;

	if (n == 0 || n > VF_GELF_HOST_MAX)
		return false;
	vf_buf_init(&b, sizeof(g->head));
	ok = vf_buf_append(&b, "{\"version\":\"1.1\",\"host\":", 24) &&
		vf_json_put_string(&b, host, n) &&
		vf_buf_append(&b, ",\"short_message\":\"", 18);
	if (ok) {
		memcpy(g->head, b.data, b.len);
		g->head_len = b.len;
	}
	vf_buf_finish(&b);
	return ok;
}

/* Writes v in decimal before end; returns the first digit. */
static inline char *u64_dec(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

static inline bool put_u64(struct vf_buf *b, uint64_t v)
{
	char tmp[24], *s = u64_dec(tmp + sizeof(tmp), v);

	return vf_buf_append(b, s, (size_t)(tmp + sizeof(tmp) - s));
}

static inline bool put_lit(struct vf_buf *b, const char *s, size_t n)
{
	return vf_buf_append(b, s, n);
}

#define PUT_LIT(b, lit) put_lit(b, lit, sizeof(lit) - 1)

/* A value of the short message: the text, or "-" when absent. */
static inline bool put_part(struct vf_buf *b, const struct vf_sv *v)
{
	if (v == NULL)
		return PUT_LIT(b, "-");
	return vf_json_put_escaped(b, v->p, v->n);
}

static inline bool put_num_part(struct vf_buf *b, const struct vf_flow *flow,
	enum vf_field f)
{
	uint64_t v;

	if (!vf_flow_num(flow, f, &v))
		return PUT_LIT(b, "-");
	return put_u64(b, v);
}

/* ,"_key":"value" with the value escaped */
static inline bool put_str_field(struct vf_buf *b, const char *key,
	size_t keylen, const char *s, size_t n)
{
	return put_lit(b, key, keylen) && vf_json_put_string(b, s, n);
}

#define PUT_STR_FIELD(b, key, s, n) put_str_field(b, key, sizeof(key) - 1, s, n)

static bool put_short_message(struct vf_buf *b, const struct vf_flow *flow)
{
	uint64_t proto;
	const char *pname = "-";
	size_t plen = 1;

	if (vf_flow_num(flow, VF_F_PROTOCOL, &proto))
		pname = vf_protocol_name((unsigned)proto, &plen);
	return put_part(b, vf_flow_get(flow, VF_F_INTERFACE_ID)) &&
		PUT_LIT(b, " ") &&
		put_part(b, vf_flow_get(flow, VF_F_ACTION)) &&
		PUT_LIT(b, " ") &&
		put_lit(b, pname, plen) &&
		PUT_LIT(b, " ") &&
		put_part(b, vf_flow_get(flow, VF_F_SRCADDR)) &&
		PUT_LIT(b, ":") &&
		put_num_part(b, flow, VF_F_SRCPORT) &&
		PUT_LIT(b, " -> ") &&
		put_part(b, vf_flow_get(flow, VF_F_DSTADDR)) &&
		PUT_LIT(b, ":") &&
		put_num_part(b, flow, VF_F_DSTPORT) &&
		PUT_LIT(b, "\"");
}

static bool put_timestamp(struct vf_buf *b, const struct vf_flow *flow,
	const struct vf_flow_meta *meta)
{
	uint64_t start;

	if (meta->event != NULL && meta->event->timestamp_ms >= 0) {
		uint64_t ms = (uint64_t)meta->event->timestamp_ms;
		char tmp[32], *end = tmp + sizeof(tmp), *s;

		s = u64_dec(end, ms % 1000 + 1000);   /* 1xyz: keeps zeros */
		*s = '.';
		s = u64_dec(s, ms / 1000);
		return PUT_LIT(b, ",\"timestamp\":") &&
			put_lit(b, s, (size_t)(end - s));
	}
	if (vf_flow_num(flow, VF_F_START, &start))
		return PUT_LIT(b, ",\"timestamp\":") && put_u64(b, start);
	return true;
}

static bool put_tcp_flags_names(struct vf_buf *b, uint64_t flags)
{
	char names[32];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(tcp_flag_names) /
	     sizeof(tcp_flag_names[0]); i++) {
		if (!(flags & tcp_flag_names[i].bit))
			continue;
		if (n)
			names[n++] = ',';
		memcpy(names + n, tcp_flag_names[i].name, 3);
		n += 3;
	}
	if (n == 0)
		return true;
	return PUT_STR_FIELD(b, ",\"_tcp_flags_names\":", names, n);
}

static bool put_columns(struct vf_buf *b, const struct vf_flow *flow)
{
	const struct vf_format *fmt = flow->fmt;

	for (unsigned c = 0; c < fmt->n; c++) {
		const struct vf_column *col = &fmt->col[c];
		const struct vf_sv *v = &flow->val[c];

		if (v->p == NULL)
			continue;
		if (!put_lit(b, col->key, col->keylen))
			return false;
		if (col->kind == VF_KIND_INT) {
			if (!put_u64(b, flow->num[c]))
				return false;
		} else if (!vf_json_put_string(b, v->p, v->n)) {
			return false;
		}
		if (col->field == VF_F_PROTOCOL) {
			size_t plen;
			const char *pname = vf_protocol_name(
				(unsigned)flow->num[c], &plen);
			if (!PUT_STR_FIELD(b, ",\"_protocol\":", pname, plen))
				return false;
		} else if (col->field == VF_F_TCP_FLAGS) {
			if (!put_tcp_flags_names(b, flow->num[c]))
				return false;
		}
	}
	return true;
}

static bool put_window(struct vf_buf *b, const struct vf_flow *flow)
{
	uint64_t start, end;

	if (!vf_flow_num(flow, VF_F_START, &start) ||
	    !vf_flow_num(flow, VF_F_END, &end))
		return true;
	if (!PUT_LIT(b, ",\"_capture_window_duration_seconds\":"))
		return false;
	if (end >= start)
		return put_u64(b, end - start);
	return PUT_LIT(b, "-") && put_u64(b, start - end);
}

static inline bool put_sv_field(struct vf_buf *b, const char *key,
	size_t keylen, const struct vf_sv *v)
{
	if (v->p == NULL || v->n == 0)
		return true;
	return put_str_field(b, key, keylen, v->p, v->n);
}

#define PUT_SV_FIELD(b, key, v) put_sv_field(b, key, sizeof(key) - 1, v)

static bool put_origin(struct vf_buf *b, const struct vf_flow_meta *meta)
{
	if (meta->env != NULL) {
		if (!PUT_SV_FIELD(b, ",\"_aws_log_group\":", &meta->env->log_group) ||
		    !PUT_SV_FIELD(b, ",\"_aws_log_stream\":", &meta->env->log_stream) ||
		    !PUT_SV_FIELD(b, ",\"_aws_owner\":", &meta->env->owner))
			return false;
	}
	if (meta->event != NULL &&
	    !PUT_SV_FIELD(b, ",\"_aws_event_id\":", &meta->event->id))
		return false;
	if (meta->rec != NULL) {
		if (!PUT_SV_FIELD(b, ",\"_aws_kinesis_stream\":", &meta->rec->stream) ||
		    !PUT_SV_FIELD(b, ",\"_aws_kinesis_shard\":", &meta->rec->shard))
			return false;
	}
	return true;
}

bool vf_gelf_encode_open(const struct vf_gelf *g, struct vf_buf *out,
	const struct vf_flow *flow, const struct vf_flow_meta *meta)
{
	size_t mark = out->len;

	if (put_lit(out, g->head, g->head_len) &&
	    put_short_message(out, flow) &&
	    put_timestamp(out, flow, meta) &&
	    put_columns(out, flow) &&
	    put_window(out, flow) &&
	    put_origin(out, meta))
		return true;
	out->len = mark;
	return false;
}

bool vf_gelf_encode(const struct vf_gelf *g, struct vf_buf *out,
	const struct vf_flow *flow, const struct vf_flow_meta *meta)
{
	size_t mark = out->len;

	if (vf_gelf_encode_open(g, out, flow, meta) && PUT_LIT(out, "}"))
		return true;
	out->len = mark;
	return false;
}
