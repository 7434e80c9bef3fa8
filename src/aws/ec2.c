/*
 * The EC2 Query API client behind the AWS entities: every network
 * interface of a region, DescribeNetworkInterfaces page after page, then
 * the Name tags of the instances whose interface carries none
 * (DescribeInstances, at most 100 instance ids a call).
 *
 * A call is a form-encoded POST signed for "ec2". Throttling
 * (RequestLimitExceeded), 5xx, network errors and answers that do not
 * parse are tried again a few times with backoff; any other error fails
 * the region with EC2's code and message. The stop flag cuts waits and
 * transfers short. Failing to read Name tags only costs the names: the
 * interfaces are still good.
 */
#include "vpcflowd/entity.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpcflowd/buf.h"
#include "vpcflowd/clock.h"
#include "vpcflowd/log.h"

#define API_VERSION "2016-11-15"
#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define MAX_RESPONSE (64u << 20)   /* a 1000-interface page is ~3 MiB */
#define MAX_REQUEST (64u << 10)
#define MAX_ATTEMPTS 5
#define MAX_PAGES 100000
#define TOKEN_MAX 4096
#define BATCH 100                  /* InstanceId.N a DescribeInstances */

struct vf_ec2 {
	char region[64];
	char endpoint[512];
	struct vf_aws_creds_provider *creds;
	const atomic_int *stop;
	const atomic_int *stop2;
	struct vf_http *http;
	struct vf_buf req;
	unsigned seed;
};

enum outcome { O_OK, O_RETRY, O_FAIL };

/* Parses one page of a 200 answer; false with a reason in err. */
typedef bool (*parse_fn)(void *ctx, const char *xml, size_t len,
	char *token, size_t tokenlen, char *err, size_t errlen);

struct vf_ec2 *vf_ec2_create(const struct vf_ec2_opts *opts)
{
	struct vf_ec2 *c = calloc(1, sizeof(*c));
	struct vf_http_opts ho = {
		.timeout_ms = 60000,
		.max_response = MAX_RESPONSE,
		.cancel = opts->stop,
		.cancel2 = opts->stop2,
	};

	if (c == NULL)
		return NULL;
	snprintf(c->region, sizeof(c->region), "%s",
		opts->region && opts->region[0] ? opts->region : "us-east-1");
	if (opts->endpoint != NULL && opts->endpoint[0] != '\0')
		snprintf(c->endpoint, sizeof(c->endpoint), "%s", opts->endpoint);
	else
		vf_aws_endpoint("ec2", c->region, c->endpoint,
			sizeof(c->endpoint));
	c->creds = opts->creds;
	c->stop = opts->stop;
	c->stop2 = opts->stop2;
	c->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)c;
	vf_buf_init(&c->req, MAX_REQUEST);
	c->http = vf_http_create(&ho);
	if (c->http == NULL) {
		vf_ec2_destroy(c);
		return NULL;
	}
	return c;
}

void vf_ec2_destroy(struct vf_ec2 *c)
{
	if (c == NULL)
		return;
	vf_http_destroy(c->http);
	vf_buf_finish(&c->req);
	free(c);
}

static bool stopping(const struct vf_ec2 *c)
{
	return (c->stop != NULL &&
		atomic_load_explicit(c->stop, memory_order_relaxed)) ||
		(c->stop2 != NULL &&
		atomic_load_explicit(c->stop2, memory_order_relaxed));
}

/* A retry's wait, cut short by either stop flag. */
static void nap(const struct vf_ec2 *c, uint64_t ms)
{
	uint64_t end = vf_now_ms() + ms, now;

	while (!stopping(c) && (now = vf_now_ms()) < end)
		vf_nap(c->stop, end - now < 100 ? end - now : 100);
}

static void ignore_name(void *ctx, const char *id, const char *name)
{
	(void)ctx;
	(void)id;
	(void)name;
}

static bool retryable(long status, const char *code)
{
	static const char *const codes[] = {
		"RequestLimitExceeded", "Throttling", "ThrottlingException",
		"RequestThrottled", "InternalError", "InternalFailure",
		"ServiceUnavailable", "Unavailable",
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return status >= 500 || status == 429;
}

/* What an error answer says: "Code: Message", else its HTTP status. */
static void error_detail(const struct vf_buf *body, long status,
	const char *code, char *detail, size_t dlen)
{
	char token[8];

	/* EC2 error documents look the same whatever the action */
	if (code[0] != '\0' && !vf_ec2_parse_instance_names(body->data,
	    body->len, ignore_name, NULL, token, sizeof(token), detail, dlen) &&
	    strncmp(detail, code, strlen(code)) == 0)
		return;
	if (code[0] != '\0')
		snprintf(detail, dlen, "HTTP %ld %s", status, code);
	else
		snprintf(detail, dlen, "HTTP %ld", status);
}

/* One POST of c->req; O_OK leaves a 200 answer in c->http. */
static enum outcome post(struct vf_ec2 *c, char *code, size_t codelen,
	char *detail, size_t dlen)
{
	struct vf_aws_credentials creds;
	char msg[512];
	struct vf_aws_call call = {
		.url = c->endpoint,
		.region = c->region,
		.service = "ec2",
		.content_type = CONTENT_TYPE,
		.body = c->req.data,
		.len = c->req.len,
	};
	const struct vf_buf *body;
	enum vf_http_result r;
	long status;

	code[0] = '\0';
	if (c->creds == NULL) {
		snprintf(detail, dlen, "no credentials");
		return O_FAIL;
	}
	if (!vf_aws_creds_get(c->creds, &creds, msg, sizeof(msg))) {
		snprintf(detail, dlen, "credentials: %s", msg);
		return O_FAIL;
	}
	r = vf_aws_post(c->http, &call, &creds);
	explicit_bzero(&creds, sizeof(creds));
	switch (r) {
	case VF_HTTP_OK:
		break;
	case VF_HTTP_NETWORK:
		snprintf(detail, dlen, "%s", vf_http_error(c->http));
		return O_RETRY;
	case VF_HTTP_TOO_LARGE:
		snprintf(detail, dlen, "an answer larger than %u MiB",
			MAX_RESPONSE >> 20);
		return O_FAIL;
	default:
		snprintf(detail, dlen, "%s", vf_http_error(c->http));
		return O_FAIL;
	}
	status = vf_http_status(c->http);
	if (status == 200)
		return O_OK;
	body = vf_http_body(c->http);
	vf_aws_error_code(body->data, body->len, code, codelen);
	error_detail(body, status, code, detail, dlen);
	return retryable(status, code) ? O_RETRY : O_FAIL;
}

/*
 * Sends c->req for action until its answer parses, trying again what may
 * pass. False with "EC2 <action> in <region>: ..." in err and EC2's error
 * code, if any, in code.
 */
static bool call(struct vf_ec2 *c, const char *action, parse_fn parse,
	void *ctx, char *token, size_t tokenlen, char *code, size_t codelen,
	char *err, size_t errlen)
{
	char detail[768];

	for (unsigned attempt = 0;; attempt++) {
		enum outcome o;

		if (stopping(c)) {
			snprintf(err, errlen, "EC2 %s in %s: stopped", action,
				c->region);
			return false;
		}
		o = post(c, code, codelen, detail, sizeof(detail));
		if (o == O_OK) {
			const struct vf_buf *b = vf_http_body(c->http);

			if (parse(ctx, b->data ? b->data : "", b->len, token,
			    tokenlen, detail, sizeof(detail)))
				return true;
			o = O_RETRY;
		}
		if (o == O_FAIL || attempt + 1 >= MAX_ATTEMPTS) {
			if (o == O_RETRY)
				snprintf(err, errlen, "EC2 %s in %s: %s (given "
					"up after %u attempts)", action,
					c->region, detail, attempt + 1);
			else
				snprintf(err, errlen, "EC2 %s in %s: %s",
					action, c->region, detail);
			return false;
		}
		log_debug("EC2 %s in %s: %s; trying again", action, c->region,
			detail);
		nap(c, vf_backoff_ms(attempt, &c->seed));
	}
}

/* ---- DescribeNetworkInterfaces ---- */

/* The EC2 entities whose interface has no Name tag: indexes into out. */
struct unnamed {
	struct vf_entity_list *out;
	uint32_t *idx;
	size_t n, cap;
};

static bool note_unnamed(void *ctx, const struct vf_eni_info *eni,
	size_t index)
{
	struct unnamed *u = ctx;

	if (u->out->entities[index].instance_id[0] == '\0' ||
	    eni->name_tag[0] != '\0')
		return true;
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 256;
		uint32_t *p = realloc(u->idx, cap * sizeof(*p));

		if (p == NULL)
			return false;
		u->idx = p;
		u->cap = cap;
	}
	u->idx[u->n++] = (uint32_t)index;
	return true;
}

static bool parse_interfaces(void *ctx, const char *xml, size_t len,
	char *token, size_t tokenlen, char *err, size_t errlen)
{
	struct unnamed *u = ctx;
	size_t n = u->n;

	if (vf_ec2_parse_interfaces_cb(xml, len, u->out, note_unnamed, u,
	    token, tokenlen, err, errlen))
		return true;
	u->n = n;        /* the page's interfaces were taken back */
	return false;
}

static bool load_interfaces(struct vf_ec2 *c, struct unnamed *u, char *err,
	size_t errlen)
{
	static const char action[] = "DescribeNetworkInterfaces";
	char token[TOKEN_MAX] = "", prev[TOKEN_MAX], code[128];
	size_t first = u->out->n_entities, first_addr = u->out->n_addrs;
	unsigned pages = 0;

	do {
		vf_buf_reset(&c->req);
		if (!vf_aws_form_add(&c->req, "Action", action) ||
		    !vf_aws_form_add(&c->req, "Version", API_VERSION) ||
		    !vf_aws_form_add(&c->req, "MaxResults", "1000") ||
		    (token[0] != '\0' &&
		     !vf_aws_form_add(&c->req, "NextToken", token))) {
			snprintf(err, errlen, "EC2 %s in %s: request too large",
				action, c->region);
			return false;
		}
		memcpy(prev, token, sizeof(prev));
		if (!call(c, action, parse_interfaces, u, token, sizeof(token),
		    code, sizeof(code), err, errlen))
			return false;
		if (++pages >= MAX_PAGES ||
		    (token[0] != '\0' && strcmp(token, prev) == 0)) {
			snprintf(err, errlen, "EC2 %s in %s: the pages do not "
				"end (nextToken %s)", action, c->region,
				pages >= MAX_PAGES ? "keeps coming" : "repeats");
			return false;
		}
	} while (token[0] != '\0');
	log_debug("EC2 %s in %s: %zu interfaces, %zu addresses, %u pages",
		action, c->region, u->out->n_entities - first,
		u->out->n_addrs - first_addr, pages);
	return true;
}

/* ---- DescribeInstances: the Name tags ---- */

struct instance_ref {
	const char *id;          /* the entity's instance_id */
	uint32_t index;
};

struct names {
	struct vf_entity_list *out;
	struct instance_ref *refs;   /* sorted by id */
	size_t n;
	size_t named;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct instance_ref *x = a, *y = b;
	int r = strcmp(x->id, y->id);

	if (r != 0)
		return r;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void got_name(void *ctx, const char *id, const char *name)
{
	struct names *nm = ctx;
	size_t lo = 0, hi = nm->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(nm->refs[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nm->n && strcmp(nm->refs[lo].id, id) == 0; lo++) {
		struct vf_entity *e = &nm->out->entities[nm->refs[lo].index];

		vf_copy_utf8(e->description, sizeof(e->description), name,
			strlen(name));
		nm->named++;
	}
}

static bool parse_names(void *ctx, const char *xml, size_t len, char *token,
	size_t tokenlen, char *err, size_t errlen)
{
	return vf_ec2_parse_instance_names(xml, len, got_name, ctx, token,
		tokenlen, err, errlen);
}

/* The request for ids[0..n): InstanceId.N, or an instance-id filter, which
 * does not fail on instances that are gone. */
static bool names_request(struct vf_ec2 *c, const char *const *ids, size_t n,
	bool filter, const char *token)
{
	char key[48];
	bool ok;

	vf_buf_reset(&c->req);
	ok = vf_aws_form_add(&c->req, "Action", "DescribeInstances") &&
		vf_aws_form_add(&c->req, "Version", API_VERSION);
	if (filter)
		ok = ok && vf_aws_form_add(&c->req, "Filter.1.Name", "instance-id");
	for (size_t i = 0; ok && i < n; i++) {
		snprintf(key, sizeof(key), filter ? "Filter.1.Value.%zu" :
			"InstanceId.%zu", i + 1);
		ok = vf_aws_form_add(&c->req, key, ids[i]);
	}
	if (ok && token[0] != '\0')
		ok = vf_aws_form_add(&c->req, "NextToken", token);
	return ok;
}

/* The Name tags of one batch, all pages. */
static bool names_batch(struct vf_ec2 *c, struct names *nm,
	const char *const *ids, size_t n, char *err, size_t errlen)
{
	char token[TOKEN_MAX] = "", prev[TOKEN_MAX], code[128];
	bool filter = false;
	unsigned pages = 0;

	for (;;) {
		if (!names_request(c, ids, n, filter, token)) {
			snprintf(err, errlen, "EC2 DescribeInstances in %s: "
				"request too large", c->region);
			return false;
		}
		memcpy(prev, token, sizeof(prev));
		if (!call(c, "DescribeInstances", parse_names, nm, token,
		    sizeof(token), code, sizeof(code), err, errlen)) {
			/* an instance ended since its interface was listed */
			if (!filter && pages == 0 &&
			    strcmp(code, "InvalidInstanceID.NotFound") == 0) {
				filter = true;
				token[0] = '\0';
				continue;
			}
			return false;
		}
		if (token[0] == '\0')
			return true;
		if (++pages >= MAX_PAGES || strcmp(token, prev) == 0) {
			snprintf(err, errlen, "EC2 DescribeInstances in %s: the "
				"pages do not end", c->region);
			return false;
		}
	}
}

/*
 * Fills the descriptions of the unnamed EC2 entities. False only when
 * stopped; other failures are logged and leave the descriptions as they
 * were.
 */
static bool load_names(struct vf_ec2 *c, struct unnamed *u, char *err,
	size_t errlen)
{
	struct names nm = { .out = u->out };
	const char *ids[BATCH];
	size_t i = 0, batches = 0;
	bool ok = true;

	if (u->n == 0)
		return true;
	nm.refs = calloc(u->n, sizeof(*nm.refs));
	if (nm.refs == NULL) {
		log_warnx("EC2 DescribeInstances in %s: out of memory; "
			"instances keep their interface descriptions",
			c->region);
		return true;
	}
	for (size_t k = 0; k < u->n; k++) {
		nm.refs[k].id = u->out->entities[u->idx[k]].instance_id;
		nm.refs[k].index = u->idx[k];
	}
	nm.n = u->n;
	qsort(nm.refs, nm.n, sizeof(*nm.refs), ref_cmp);
	while (i < nm.n) {
		size_t n = 0;

		for (; i < nm.n && n < BATCH; i++)
			if (n == 0 || strcmp(ids[n - 1], nm.refs[i].id) != 0)
				ids[n++] = nm.refs[i].id;
		/* the next batch starts at a new id */
		while (i < nm.n && strcmp(ids[n - 1], nm.refs[i].id) == 0)
			i++;
		batches++;
		if (!names_batch(c, &nm, ids, n, err, errlen)) {
			ok = !stopping(c);
			if (ok)
				log_warnx("%s (instances keep their "
					"interfaces' descriptions)", err);
			break;
		}
	}
	log_debug("EC2 DescribeInstances in %s: %zu of %zu interfaces named, "
		"%zu calls", c->region, nm.named, nm.n, batches);
	free(nm.refs);
	return ok;
}

bool vf_ec2_load_entities(struct vf_ec2 *c, struct vf_entity_list *out,
	char *err, size_t errlen)
{
	struct unnamed u = { .out = out };
	bool ok;

	ok = load_interfaces(c, &u, err, errlen) &&
		load_names(c, &u, err, errlen);
	free(u.idx);
	return ok;
}
