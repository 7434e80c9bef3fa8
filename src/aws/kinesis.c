/*
 * Kinesis Data Streams over its JSON 1.1 protocol. The control-plane
 * answers (ListShards, GetShardIterator) go through jansson; GetRecords,
 * up to 10 MiB a call, is scanned with jsmn and its base64 decoded into
 * one reused buffer.
 */
#include "vpcflowd/kinesis.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "vpcflowd/json.h"

#define MAX_RESPONSE (40u << 20)
#define MAX_RECORDS 10000

struct vf_kinesis {
	struct vf_kinesis_opts o;
	char endpoint[512];
	struct vf_http *http;
	struct vf_buf req;
	struct vf_buf data;           /* decoded records and their sequences */
	struct vf_buf scratch;        /* unescaped JSON strings */
	jsmntok_t *tok;
	size_t tok_cap;
	struct vf_kinesis_record *recs;
	size_t recs_cap;
};

struct vf_kinesis *vf_kinesis_create(const struct vf_kinesis_opts *opts)
{
	struct vf_kinesis *k = calloc(1, sizeof(*k));
	struct vf_http_opts ho = {
		.timeout_ms = opts->timeout_ms ? opts->timeout_ms : 10000,
		.max_response = MAX_RESPONSE,
	};

	if (k == NULL)
		return NULL;
	k->o = *opts;
	if (opts->endpoint != NULL && opts->endpoint[0] != '\0')
		snprintf(k->endpoint, sizeof(k->endpoint), "%s", opts->endpoint);
	else
		vf_aws_endpoint("kinesis", opts->region, k->endpoint,
			sizeof(k->endpoint));
	k->http = vf_http_create(&ho);
	vf_buf_init(&k->req, 1 << 20);
	vf_buf_init(&k->data, MAX_RESPONSE);
	vf_buf_init(&k->scratch, MAX_RESPONSE);
	if (k->http == NULL) {
		vf_kinesis_destroy(k);
		return NULL;
	}
	return k;
}

void vf_kinesis_destroy(struct vf_kinesis *k)
{
	if (k == NULL)
		return;
	vf_http_destroy(k->http);
	vf_buf_finish(&k->req);
	vf_buf_finish(&k->data);
	vf_buf_finish(&k->scratch);
	free(k->tok);
	free(k->recs);
	free(k);
}

const char *vf_kinesis_status_name(enum vf_kinesis_status s)
{
	switch (s) {
	case VF_KINESIS_OK: return "ok";
	case VF_KINESIS_THROTTLED: return "throttled";
	case VF_KINESIS_EXPIRED_ITERATOR: return "expired iterator";
	case VF_KINESIS_RETRY: return "retryable error";
	case VF_KINESIS_NOT_FOUND: return "not found";
	default: return "error";
	}
}

int vf_seq_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/* Sends op with the JSON body in k->req; classifies the answer. */
static enum vf_kinesis_status call(struct vf_kinesis *k, const char *op,
	char *err, size_t errlen)
{
	char target[64], code[128];
	struct vf_aws_credentials creds;
	struct vf_aws_call c = {
		.url = k->endpoint,
		.region = k->o.region,
		.service = "kinesis",
		.content_type = "application/x-amz-json-1.1",
		.target = target,
		.body = k->req.data,
		.len = k->req.len,
	};
	enum vf_http_result r;
	const struct vf_buf *body;
	long status;

	snprintf(target, sizeof(target), "Kinesis_20131202.%s", op);
	if (!vf_aws_creds_get(k->o.creds, &creds, err, errlen))
		return VF_KINESIS_RETRY;
	r = vf_aws_post(k->http, &c, &creds);
	explicit_bzero(&creds, sizeof(creds));
	if (r == VF_HTTP_NETWORK) {
		snprintf(err, errlen, "%s: %s", op, vf_http_error(k->http));
		return VF_KINESIS_RETRY;
	}
	if (r != VF_HTTP_OK) {
		snprintf(err, errlen, "%s: %s", op, vf_http_error(k->http));
		return VF_KINESIS_ERROR;
	}
	status = vf_http_status(k->http);
	if (status == 200)
		return VF_KINESIS_OK;
	body = vf_http_body(k->http);
	vf_aws_error_code(body->data, body->len, code, sizeof(code));
	snprintf(err, errlen, "%s: HTTP %ld %s", op, status,
		code[0] ? code : "(no error code)");
	if (strcmp(code, "ProvisionedThroughputExceededException") == 0 ||
	    strcmp(code, "LimitExceededException") == 0 ||
	    strcmp(code, "ThrottlingException") == 0 ||
	    strcmp(code, "KMSThrottlingException") == 0)
		return VF_KINESIS_THROTTLED;
	if (strcmp(code, "ExpiredIteratorException") == 0)
		return VF_KINESIS_EXPIRED_ITERATOR;
	if (strcmp(code, "ResourceNotFoundException") == 0)
		return VF_KINESIS_NOT_FOUND;
	if (status >= 500 || status == 429 ||
	    strcmp(code, "InternalFailure") == 0 ||
	    strcmp(code, "InternalFailureException") == 0 ||
	    strcmp(code, "ServiceUnavailable") == 0)
		return VF_KINESIS_RETRY;
	return VF_KINESIS_ERROR;
}

static json_t *parse_body(struct vf_kinesis *k, const char *op, char *err,
	size_t errlen)
{
	const struct vf_buf *body = vf_http_body(k->http);
	json_error_t jerr;
	json_t *doc = json_loadb(body->data, body->len, 0, &jerr);

	if (doc == NULL || !json_is_object(doc)) {
		snprintf(err, errlen, "%s: bad JSON answer: %s", op,
			doc ? "not an object" : jerr.text);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static void copy_str(char *dst, size_t size, json_t *v)
{
	const char *s = json_string_value(v);

	snprintf(dst, size, "%s", s ? s : "");
}

enum vf_kinesis_status vf_kinesis_list_shards(struct vf_kinesis *k,
	struct vf_shard **shards, size_t *n, char *err, size_t errlen)
{
	struct vf_shard *out = NULL;
	size_t count = 0, cap = 0;
	char *token = NULL;
	enum vf_kinesis_status s;
	bool restarted = false;

	for (;;) {
		json_t *doc, *list, *sh;
		size_t i;

		vf_buf_reset(&k->req);
		if (token == NULL) {
			vf_buf_append(&k->req, "{\"StreamName\":", 14);
			vf_json_put_string(&k->req, k->o.stream,
				strlen(k->o.stream));
			vf_buf_append(&k->req, ",\"MaxResults\":1000}", 19);
		} else {
			/* with a token, the stream must not be named again */
			vf_buf_append(&k->req, "{\"NextToken\":", 13);
			vf_json_put_string(&k->req, token, strlen(token));
			vf_buf_append(&k->req, "}", 1);
		}
		s = call(k, "ListShards", err, errlen);
		if (s != VF_KINESIS_OK) {
			char code[64];
			const struct vf_buf *b = vf_http_body(k->http);
			vf_aws_error_code(b->data, b->len, code, sizeof(code));
			if (token != NULL && !restarted &&
			    strcmp(code, "ExpiredNextTokenException") == 0) {
				/* pages took too long: list again from the top */
				restarted = true;
				free(token);
				token = NULL;
				count = 0;
				continue;
			}
			goto fail;
		}
		doc = parse_body(k, "ListShards", err, errlen);
		if (doc == NULL) {
			s = VF_KINESIS_RETRY;
			goto fail;
		}
		list = json_object_get(doc, "Shards");
		json_array_foreach(list, i, sh) {
			struct vf_shard *d;
			json_t *range = json_object_get(sh, "SequenceNumberRange");

			if (!json_is_string(json_object_get(sh, "ShardId")))
				continue;
			if (count == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct vf_shard *p = realloc(out, ncap * sizeof(*p));
				if (p == NULL) {
					json_decref(doc);
					snprintf(err, errlen, "out of memory");
					s = VF_KINESIS_ERROR;
					goto fail;
				}
				out = p;
				cap = ncap;
			}
			d = &out[count++];
			copy_str(d->id, sizeof(d->id), json_object_get(sh, "ShardId"));
			copy_str(d->parent, sizeof(d->parent),
				json_object_get(sh, "ParentShardId"));
			copy_str(d->adjacent_parent, sizeof(d->adjacent_parent),
				json_object_get(sh, "AdjacentParentShardId"));
			copy_str(d->starting_seq, sizeof(d->starting_seq),
				json_object_get(range, "StartingSequenceNumber"));
			d->closed = json_is_string(json_object_get(range,
				"EndingSequenceNumber"));
		}
		free(token);
		token = NULL;
		if (json_is_string(json_object_get(doc, "NextToken")))
			token = strdup(json_string_value(json_object_get(doc,
				"NextToken")));
		json_decref(doc);
		if (token == NULL)
			break;
	}
	*shards = out;
	*n = count;
	return VF_KINESIS_OK;
fail:
	free(token);
	free(out);
	return s;
}

static const char *const iterator_names[] = {
	[VF_ITER_TRIM_HORIZON] = "TRIM_HORIZON",
	[VF_ITER_LATEST] = "LATEST",
	[VF_ITER_AT_TIMESTAMP] = "AT_TIMESTAMP",
	[VF_ITER_AFTER_SEQUENCE] = "AFTER_SEQUENCE_NUMBER",
	[VF_ITER_AT_SEQUENCE] = "AT_SEQUENCE_NUMBER",
};

enum vf_kinesis_status vf_kinesis_get_iterator(struct vf_kinesis *k,
	const char *shard_id, enum vf_iterator_type type, const char *seq,
	int64_t timestamp_ms, char iterator[VF_ITERATOR_MAX], char *err,
	size_t errlen)
{
	enum vf_kinesis_status s;
	json_t *doc;
	const char *it;

	vf_buf_reset(&k->req);
	vf_buf_append(&k->req, "{\"StreamName\":", 14);
	vf_json_put_string(&k->req, k->o.stream, strlen(k->o.stream));
	vf_buf_append(&k->req, ",\"ShardId\":", 11);
	vf_json_put_string(&k->req, shard_id, strlen(shard_id));
	vf_buf_printf(&k->req, ",\"ShardIteratorType\":\"%s\"",
		iterator_names[type]);
	if (type == VF_ITER_AFTER_SEQUENCE || type == VF_ITER_AT_SEQUENCE) {
		vf_buf_append(&k->req, ",\"StartingSequenceNumber\":", 26);
		vf_json_put_string(&k->req, seq, strlen(seq));
	} else if (type == VF_ITER_AT_TIMESTAMP) {
		vf_buf_printf(&k->req, ",\"Timestamp\":%lld.%03lld",
			(long long)(timestamp_ms / 1000),
			(long long)(timestamp_ms % 1000));
	}
	if (!vf_buf_append(&k->req, "}", 1)) {
		snprintf(err, errlen, "GetShardIterator: request too large");
		return VF_KINESIS_ERROR;
	}
	s = call(k, "GetShardIterator", err, errlen);
	if (s != VF_KINESIS_OK)
		return s;
	doc = parse_body(k, "GetShardIterator", err, errlen);
	if (doc == NULL)
		return VF_KINESIS_RETRY;
	it = json_string_value(json_object_get(doc, "ShardIterator"));
	if (it == NULL || strlen(it) >= VF_ITERATOR_MAX) {
		snprintf(err, errlen, "GetShardIterator: no valid ShardIterator");
		json_decref(doc);
		return VF_KINESIS_ERROR;
	}
	snprintf(iterator, VF_ITERATOR_MAX, "%s", it);
	json_decref(doc);
	return VF_KINESIS_OK;
}

/* ---- GetRecords: the hot part ---- */

static unsigned skip(const jsmntok_t *t, unsigned i, unsigned n)
{
	int end = t[i].end;
	unsigned j = i + 1;

	while (j < n && t[j].start < end)
		j++;
	return j;
}

static bool tok_is(const char *js, const jsmntok_t *t, const char *s)
{
	size_t n = strlen(s);

	return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n &&
		memcmp(js + t->start, s, n) == 0;
}

/* A string token's text, unescaped into scratch when needed. */
static bool tok_text(struct vf_kinesis *k, const char *js, const jsmntok_t *t,
	const char **p, size_t *n)
{
	const char *s = js + t->start;
	size_t len = (size_t)(t->end - t->start);
	ssize_t dn;

	if (t->type != JSMN_STRING)
		return false;
	if (vf_json_is_plain(s, len)) {
		*p = s;
		*n = len;
		return true;
	}
	if (!vf_buf_reserve(&k->scratch, len))
		return false;
	dn = vf_json_unescape(s, len, k->scratch.data + k->scratch.len);
	if (dn < 0)
		return false;
	*p = k->scratch.data + k->scratch.len;
	*n = (size_t)dn;
	k->scratch.len += (size_t)dn;
	return true;
}

static bool decode_base64(struct vf_kinesis *k, const char *s, size_t n,
	const uint8_t **out, size_t *out_len)
{
	size_t pad = 0;
	int r;

	if (n % 4 != 0)
		return false;
	if (n == 0) {
		*out = (const uint8_t *)k->data.data + k->data.len;
		*out_len = 0;
		return true;
	}
	if (n > 0x7fffffff)
		return false;
	/* room was reserved for the whole body: no reallocation here */
	r = EVP_DecodeBlock((unsigned char *)k->data.data + k->data.len,
		(const unsigned char *)s, (int)n);
	if (r < 0)
		return false;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	*out = (const uint8_t *)k->data.data + k->data.len;
	*out_len = (size_t)r - pad;
	k->data.len += *out_len;
	return true;
}

static enum vf_kinesis_status parse_records(struct vf_kinesis *k,
	struct vf_kinesis_batch *b, char *err, size_t errlen)
{
	const struct vf_buf *body = vf_http_body(k->http);
	const char *js = body->data;
	jsmn_parser jp;
	unsigned ntok, i;
	int r;

	if (body->len > 0x7fffffff)
		goto bad;
	if (k->tok == NULL) {
		/* with no array jsmn would only count */
		k->tok = malloc(4096 * sizeof(*k->tok));
		if (k->tok == NULL)
			goto bad;
		k->tok_cap = 4096;
	}
	for (;;) {
		jsmn_init(&jp);
		r = jsmn_parse(&jp, js, body->len, k->tok, (unsigned)k->tok_cap);
		if (r != JSMN_ERROR_NOMEM)
			break;
		/* a body of n bytes holds fewer than n tokens */
		size_t cap = k->tok_cap ? k->tok_cap * 2 : 4096;
		if (k->tok_cap > body->len)
			goto bad;
		if (cap > body->len + 1)
			cap = body->len + 1;
		jsmntok_t *t = realloc(k->tok, cap * sizeof(*t));
		if (t == NULL)
			goto bad;
		k->tok = t;
		k->tok_cap = cap;
	}
	if (r < 1 || k->tok[0].type != JSMN_OBJECT)
		goto bad;
	ntok = (unsigned)r;
	vf_buf_reset(&k->data);
	vf_buf_reset(&k->scratch);
	if (!vf_buf_reserve(&k->data, body->len + 1))
		goto bad;
	for (i = 1; i < ntok; ) {
		unsigned key = i, val = i + 1, next;

		if (val >= ntok)
			break;
		next = skip(k->tok, val, ntok);
		if (tok_is(js, &k->tok[key], "NextShardIterator")) {
			const char *p;
			size_t n;
			if (tok_text(k, js, &k->tok[val], &p, &n) &&
			    n < VF_ITERATOR_MAX) {
				memcpy(b->next_iterator, p, n);
				b->next_iterator[n] = '\0';
			}
		} else if (tok_is(js, &k->tok[key], "MillisBehindLatest")) {
			b->millis_behind = strtoll(js + k->tok[val].start, NULL, 10);
		} else if (tok_is(js, &k->tok[key], "Records") &&
			   k->tok[val].type == JSMN_ARRAY) {
			unsigned rec = val + 1;
			for (int e = 0; e < k->tok[val].size; e++) {
				unsigned rnext = skip(k->tok, rec, ntok);
				const char *seq = NULL, *data = NULL;
				size_t seq_n = 0, data_n = 0;

				for (unsigned f = rec + 1; f + 1 < rnext; ) {
					unsigned fv = f + 1;
					if (tok_is(js, &k->tok[f], "SequenceNumber") &&
					    !tok_text(k, js, &k->tok[fv], &seq, &seq_n))
						goto bad;
					if (tok_is(js, &k->tok[f], "Data") &&
					    !tok_text(k, js, &k->tok[fv], &data, &data_n))
						goto bad;
					f = skip(k->tok, fv, rnext);
				}
				if (seq == NULL || data == NULL || seq_n == 0 ||
				    seq_n >= VF_SEQ_MAX || b->n >= MAX_RECORDS)
					goto bad;
				if (b->n == k->recs_cap) {
					size_t cap = k->recs_cap ? k->recs_cap * 2 : 256;
					void *p = realloc(k->recs, cap * sizeof(*k->recs));
					if (p == NULL)
						goto bad;
					k->recs = p;
					k->recs_cap = cap;
				}
				struct vf_kinesis_record *kr = &k->recs[b->n];
				if (!decode_base64(k, data, data_n, &kr->data, &kr->len))
					goto bad;
				kr->seq = k->data.data + k->data.len;
				memcpy(k->data.data + k->data.len, seq, seq_n);
				k->data.data[k->data.len + seq_n] = '\0';
				k->data.len += seq_n + 1;
				b->bytes += kr->len;
				b->n++;
				rec = rnext;
			}
		}
		i = next;
	}
	b->records = k->recs;
	b->shard_end = b->next_iterator[0] == '\0';
	return VF_KINESIS_OK;
bad:
	snprintf(err, errlen, "GetRecords: malformed answer");
	b->n = 0;
	return VF_KINESIS_RETRY;
}

enum vf_kinesis_status vf_kinesis_get_records(struct vf_kinesis *k,
	const char *iterator, unsigned limit, struct vf_kinesis_batch *batch,
	char *err, size_t errlen)
{
	enum vf_kinesis_status s;

	memset(batch, 0, sizeof(*batch));
	batch->millis_behind = -1;
	vf_buf_reset(&k->req);
	vf_buf_append(&k->req, "{\"ShardIterator\":", 17);
	vf_json_put_string(&k->req, iterator, strlen(iterator));
	if (!vf_buf_printf(&k->req, ",\"Limit\":%u}", limit ? limit : 10000)) {
		snprintf(err, errlen, "GetRecords: request too large");
		return VF_KINESIS_ERROR;
	}
	s = call(k, "GetRecords", err, errlen);
	if (s != VF_KINESIS_OK)
		return s;
	return parse_records(k, batch, err, errlen);
}
