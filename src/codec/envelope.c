/*
 * CloudWatch Logs subscription documents, scanned with jsmn.
 *
 * jsmn fills a token array in one pass over a buffer of any number of
 * concatenated documents. When the array is full it stops; the complete
 * documents are used, and parsing resumes where the first incomplete one
 * starts. So the array stays small (it only grows for a single document
 * bigger than it), and no document is scanned twice unless it straddles
 * the end of an array's worth.
 */
#include "vpcflowd/envelope.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "vpcflowd/json.h"

#define INITIAL_TOKENS 4096

enum parse_state {
	STATE_NEED_PARSE,   /* tokens used up, more input to parse */
	STATE_ALL_PARSED,   /* tokens cover the rest of the input */
	STATE_TRUNCATED,    /* after the tokens: an incomplete document */
	STATE_INVALID,      /* after the tokens: invalid JSON */
	STATE_FAILED,       /* given up */
};

struct vf_envelope_parser {
	jsmntok_t *tok;
	size_t tok_cap;
	size_t max_tokens;
	unsigned ntok;       /* tokens filled by the last parse */
	unsigned cur;        /* next root token */
	const char *buf;     /* the whole input */
	size_t len;
	size_t base;         /* input offset the token positions count from */
	size_t last_end;     /* end of the last root taken, from base */
	enum parse_state state;
	struct vf_buf hdr;   /* decoded header strings of the document */
	struct vf_buf ev;    /* decoded strings of the current event */
};

struct vf_envelope_parser *vf_envelope_parser_create(size_t max_tokens)
{
	struct vf_envelope_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->max_tokens = max_tokens < 64 ? 64 : max_tokens;
	p->tok_cap = INITIAL_TOKENS < p->max_tokens ? INITIAL_TOKENS :
		p->max_tokens;
	p->tok = malloc(p->tok_cap * sizeof(*p->tok));
	if (p->tok == NULL) {
		free(p);
		return NULL;
	}
	vf_buf_init(&p->hdr, SIZE_MAX);
	vf_buf_init(&p->ev, SIZE_MAX);
	return p;
}

void vf_envelope_parser_destroy(struct vf_envelope_parser *p)
{
	if (p == NULL)
		return;
	vf_buf_finish(&p->hdr);
	vf_buf_finish(&p->ev);
	free(p->tok);
	free(p);
}

void vf_envelope_begin(struct vf_envelope_parser *p, const char *buf,
	size_t len)
{
	p->buf = buf;
	p->len = len;
	p->base = 0;
	p->ntok = 0;
	p->cur = 0;
	p->last_end = 0;
	p->state = STATE_NEED_PARSE;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* Fills the token array from p->base on. */
static enum vf_envelope_status parse_more(struct vf_envelope_parser *p,
	char *err, size_t errlen)
{
	for (;;) {
		jsmn_parser jp;
		size_t len = p->len - p->base;
		int r;

		if (len > INT_MAX) {
			set_err(err, errlen, "input larger than 2 GiB");
			return VF_ENVELOPE_TOO_LARGE;
		}
		jsmn_init(&jp);
		r = jsmn_parse(&jp, p->buf + p->base, len, p->tok,
			(unsigned)p->tok_cap);
		p->ntok = jp.toknext;
		p->cur = 0;
		p->last_end = 0;
		if (r >= 0) {
			p->state = STATE_ALL_PARSED;
			/* jsmn stops at a NUL byte: anything after it is bad */
			if (jp.pos < len)
				p->state = STATE_INVALID;
		} else if (r == JSMN_ERROR_PART) {
			p->state = STATE_TRUNCATED;
		} else if (r == JSMN_ERROR_INVAL) {
			p->state = STATE_INVALID;
		} else {
			p->state = STATE_NEED_PARSE;
		}
		/* Any complete root? */
		for (unsigned i = 0; i < p->ntok; i++) {
			if (p->tok[i].parent == -1 && p->tok[i].end != -1)
				return VF_ENVELOPE_OK;
		}
		if (p->state != STATE_NEED_PARSE) {
			/* nothing complete, and nothing more to parse */
			p->ntok = 0;
			return VF_ENVELOPE_OK;
		}
		/* One document larger than the array: grow it. */
		if (p->tok_cap >= p->max_tokens) {
			set_err(err, errlen, "document has too many JSON tokens");
			return VF_ENVELOPE_TOO_LARGE;
		}
		size_t cap = p->tok_cap * 2;
		if (cap > p->max_tokens)
			cap = p->max_tokens;
		jsmntok_t *t = realloc(p->tok, cap * sizeof(*t));
		if (t == NULL)
			return VF_ENVELOPE_NOMEM;
		p->tok = t;
		p->tok_cap = cap;
	}
}

/* The first token after the value at i (and all it holds). */
static unsigned skip(const struct vf_envelope_parser *p, unsigned i,
	unsigned end)
{
	int stop = p->tok[i].end;
	unsigned j = i + 1;

	while (j < end && p->tok[j].start < stop)
		j++;
	return j;
}

static bool tok_eq(const struct vf_envelope_parser *p, unsigned i,
	const char *s, size_t n)
{
	const jsmntok_t *t = &p->tok[i];

	return (size_t)(t->end - t->start) == n &&
		memcmp(p->buf + p->base + t->start, s, n) == 0;
}

#define TOK_EQ(p, i, lit) tok_eq(p, i, lit, sizeof(lit) - 1)

/* Decodes a string token into out (appending to scratch when needed). */
static bool tok_string(struct vf_envelope_parser *p, unsigned i,
	struct vf_buf *scratch, struct vf_sv *out)
{
	const jsmntok_t *t = &p->tok[i];
	const char *s = p->buf + p->base + t->start;
	size_t n = (size_t)(t->end - t->start);
	ssize_t dn;

	if (t->type != JSMN_STRING)
		return false;
	if (vf_json_is_plain(s, n)) {
		out->p = s;
		out->n = (uint32_t)n;
		return true;
	}
	/* the caller reserved room for every string it decodes */
	dn = vf_json_unescape(s, n, scratch->data + scratch->len);
	if (dn < 0)
		return false;
	out->p = scratch->data + scratch->len;
	out->n = (uint32_t)dn;
	scratch->len += (size_t)dn;
	return true;
}

static bool is_null(const struct vf_envelope_parser *p, unsigned i)
{
	return p->tok[i].type == JSMN_PRIMITIVE && TOK_EQ(p, i, "null");
}

enum vf_envelope_status vf_envelope_next(struct vf_envelope_parser *p,
	struct vf_envelope *env, char *err, size_t errlen)
{
	unsigned root, end, i;
	bool have_type = false;

	for (;;) {
		if (p->state == STATE_FAILED)
			return VF_ENVELOPE_BAD_JSON;
		if (p->cur < p->ntok && p->tok[p->cur].end != -1)
			break;
		/* tokens used up, or the next root is incomplete */
		switch (p->state) {
		case STATE_ALL_PARSED:
			return VF_ENVELOPE_END;
		case STATE_TRUNCATED:
			p->state = STATE_FAILED;
			set_err(err, errlen, "truncated JSON document");
			return VF_ENVELOPE_BAD_JSON;
		case STATE_INVALID:
			p->state = STATE_FAILED;
			set_err(err, errlen, "invalid JSON");
			return VF_ENVELOPE_BAD_JSON;
		default:
			break;
		}
		/* resume at the incomplete root, or where jsmn stopped */
		if (p->cur < p->ntok)
			p->base += (size_t)p->tok[p->cur].start;
		else
			p->base += p->last_end;
		enum vf_envelope_status s = parse_more(p, err, errlen);
		if (s != VF_ENVELOPE_OK) {
			p->state = STATE_FAILED;
			return s;
		}
	}

	root = p->cur;
	end = skip(p, root, p->ntok);
	p->cur = end;
	/* a string token ends before its closing quote */
	p->last_end = (size_t)p->tok[root].end +
		(p->tok[root].type == JSMN_STRING);
	if (p->tok[root].type != JSMN_OBJECT) {
		set_err(err, errlen, "document is not a JSON object");
		return VF_ENVELOPE_BAD_SHAPE;
	}

	memset(env, 0, sizeof(*env));
	env->type = VF_MESSAGE_DATA;
	env->end_tok = end;
	vf_buf_reset(&p->hdr);
	if (!vf_buf_reserve(&p->hdr, (size_t)(p->tok[root].end -
	    p->tok[root].start)))
		return VF_ENVELOPE_NOMEM;
	for (i = root + 1; i < end; ) {
		unsigned key = i, val = i + 1;

		if (val >= end)
			break;
		i = skip(p, val, end);
		if (TOK_EQ(p, key, "messageType")) {
			if (TOK_EQ(p, val, "DATA_MESSAGE") &&
			    p->tok[val].type == JSMN_STRING) {
				env->type = VF_MESSAGE_DATA;
			} else if (TOK_EQ(p, val, "CONTROL_MESSAGE") &&
			    p->tok[val].type == JSMN_STRING) {
				env->type = VF_MESSAGE_CONTROL;
			} else {
				set_err(err, errlen, "unknown messageType");
				return VF_ENVELOPE_BAD_SHAPE;
			}
			have_type = true;
		} else if (TOK_EQ(p, key, "logEvents")) {
			if (p->tok[val].type != JSMN_ARRAY) {
				set_err(err, errlen, "logEvents is not an array");
				return VF_ENVELOPE_BAD_SHAPE;
			}
			env->events_tok = val;
			env->n_events = (size_t)p->tok[val].size;
		} else {
			struct vf_sv *dst = NULL;

			if (TOK_EQ(p, key, "owner"))
				dst = &env->owner;
			else if (TOK_EQ(p, key, "logGroup"))
				dst = &env->log_group;
			else if (TOK_EQ(p, key, "logStream"))
				dst = &env->log_stream;
			if (dst == NULL || is_null(p, val))
				continue;     /* other keys: policyLevel, ... */
			if (!tok_string(p, val, &p->hdr, dst)) {
				set_err(err, errlen, "owner, logGroup or "
					"logStream is not a valid string");
				return VF_ENVELOPE_BAD_SHAPE;
			}
		}
	}
	if (env->events_tok == 0 && (env->type == VF_MESSAGE_DATA ||
	    !have_type)) {
		set_err(err, errlen, "no logEvents array");
		return VF_ENVELOPE_BAD_SHAPE;
	}
	return VF_ENVELOPE_OK;
}

static int64_t parse_millis(const struct vf_envelope_parser *p, unsigned i)
{
	const jsmntok_t *t = &p->tok[i];
	const char *s = p->buf + p->base + t->start;
	size_t n = (size_t)(t->end - t->start);
	int64_t v = 0;

	if (t->type != JSMN_PRIMITIVE || n == 0 || n > 18)
		return -1;
	for (size_t k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		v = v * 10 + (s[k] - '0');
	}
	return v;
}

int vf_envelope_event(struct vf_envelope_parser *p,
	const struct vf_envelope *env, size_t *cursor, struct vf_log_event *ev)
{
	unsigned e, next, i, end = env->end_tok;
	unsigned id_tok = 0, msg_tok = 0;

	if (env->events_tok == 0)
		return 0;
	e = *cursor ? (unsigned)*cursor : env->events_tok + 1;
	if (e >= end || p->tok[e].start >= p->tok[env->events_tok].end)
		return 0;
	next = skip(p, e, end);
	*cursor = next;
	if (p->tok[e].type != JSMN_OBJECT)
		return -1;
	ev->timestamp_ms = -1;
	ev->id.p = NULL;
	ev->id.n = 0;
	for (i = e + 1; i < next; ) {
		unsigned key = i, val = i + 1;

		if (val >= next)
			break;
		i = skip(p, val, next);
		if (TOK_EQ(p, key, "message"))
			msg_tok = val;
		else if (TOK_EQ(p, key, "id"))
			id_tok = val;
		else if (TOK_EQ(p, key, "timestamp"))
			ev->timestamp_ms = parse_millis(p, val);
	}
	if (msg_tok == 0)
		return -1;
	vf_buf_reset(&p->ev);
	if (!vf_buf_reserve(&p->ev, (size_t)(p->tok[e].end - p->tok[e].start)))
		return -1;
	if (!tok_string(p, msg_tok, &p->ev, &ev->message))
		return -1;
	if (id_tok && !is_null(p, id_tok) &&
	    !tok_string(p, id_tok, &p->ev, &ev->id))
		return -1;
	return 1;
}
