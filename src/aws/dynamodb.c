/*
 * DynamoDB over its JSON 1.0 protocol: sign, post, classify the answer.
 */
#include "vpcflowd/dynamodb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESPONSE (16u << 20)

struct vf_ddb {
	struct vf_ddb_opts o;
	char endpoint[512];
	struct vf_http *http;
};

struct vf_ddb *vf_ddb_create(const struct vf_ddb_opts *opts)
{
	struct vf_ddb *d = calloc(1, sizeof(*d));
	struct vf_http_opts ho = {
		.timeout_ms = opts->timeout_ms ? opts->timeout_ms : 5000,
		.connect_timeout_ms = opts->timeout_ms && opts->timeout_ms < 5000 ?
			opts->timeout_ms : 5000,
		.max_response = MAX_RESPONSE,
		.cancel = opts->cancel,
	};

	if (d == NULL)
		return NULL;
	d->o = *opts;
	if (opts->endpoint != NULL && opts->endpoint[0] != '\0')
		snprintf(d->endpoint, sizeof(d->endpoint), "%s", opts->endpoint);
	else
		vf_aws_endpoint("dynamodb", opts->region, d->endpoint,
			sizeof(d->endpoint));
	d->http = vf_http_create(&ho);
	if (d->http == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

void vf_ddb_destroy(struct vf_ddb *d)
{
	if (d == NULL)
		return;
	vf_http_destroy(d->http);
	free(d);
}

const char *vf_ddb_status_name(enum vf_ddb_status s)
{
	switch (s) {
	case VF_DDB_OK: return "ok";
	case VF_DDB_CONDITION_FAILED: return "condition failed";
	case VF_DDB_NOT_FOUND: return "not found";
	case VF_DDB_IN_USE: return "in use";
	case VF_DDB_RETRY: return "retryable error";
	default: return "error";
	}
}

static enum vf_ddb_status classify(long status, const char *code)
{
	static const char *const retry[] = {
		"ProvisionedThroughputExceededException",
		"ThrottlingException", "RequestLimitExceeded",
		"LimitExceededException", "InternalServerError",
		"ServiceUnavailable", "TransactionConflictException",
		"ItemCollectionSizeLimitExceededException", NULL,
	};

	if (strcmp(code, "ConditionalCheckFailedException") == 0)
		return VF_DDB_CONDITION_FAILED;
	if (strcmp(code, "ResourceNotFoundException") == 0)
		return VF_DDB_NOT_FOUND;
	if (strcmp(code, "ResourceInUseException") == 0)
		return VF_DDB_IN_USE;
	for (size_t i = 0; retry[i] != NULL; i++)
		if (strcmp(code, retry[i]) == 0)
			return VF_DDB_RETRY;
	if (status >= 500 || status == 429)
		return VF_DDB_RETRY;
	return VF_DDB_ERROR;
}

enum vf_ddb_status vf_ddb_call(struct vf_ddb *d, const char *op,
	json_t *req, json_t **resp, char *err, size_t errlen)
{
	char target[64], code[128];
	struct vf_aws_credentials creds;
	char *body;
	enum vf_http_result r;
	const struct vf_buf *ans;
	long status;
	json_error_t jerr;
	json_t *doc;

	if (resp != NULL)
		*resp = NULL;
	body = json_dumps(req, JSON_COMPACT);
	if (body == NULL) {
		snprintf(err, errlen, "%s: out of memory", op);
		return VF_DDB_ERROR;
	}
	snprintf(target, sizeof(target), "DynamoDB_20120810.%s", op);
	struct vf_aws_call c = {
		.url = d->endpoint,
		.region = d->o.region,
		.service = "dynamodb",
		.content_type = "application/x-amz-json-1.0",
		.target = target,
		.body = body,
		.len = strlen(body),
	};
	if (!vf_aws_creds_get(d->o.creds, &creds, err, errlen)) {
		free(body);
		return VF_DDB_RETRY;
	}
	r = vf_aws_post(d->http, &c, &creds);
	explicit_bzero(&creds, sizeof(creds));
	free(body);
	if (r != VF_HTTP_OK) {
		snprintf(err, errlen, "%s: %s", op, vf_http_error(d->http));
		return r == VF_HTTP_NETWORK ? VF_DDB_RETRY : VF_DDB_ERROR;
	}
	status = vf_http_status(d->http);
	ans = vf_http_body(d->http);
	if (status != 200) {
		enum vf_ddb_status s;

		vf_aws_error_code(ans->data, ans->len, code, sizeof(code));
		s = classify(status, code);
		doc = json_loadb(ans->data, ans->len, 0, &jerr);
		const char *msg = json_string_value(json_object_get(doc,
			"message"));
		if (msg == NULL)
			msg = json_string_value(json_object_get(doc, "Message"));
		snprintf(err, errlen, "%s: HTTP %ld %s%s%.300s", op, status,
			code[0] ? code : "(no error code)", msg ? ": " : "",
			msg ? msg : "");
		json_decref(doc);
		return s;
	}
	if (resp == NULL)
		return VF_DDB_OK;
	doc = json_loadb(ans->data, ans->len, 0, &jerr);
	if (doc == NULL || !json_is_object(doc)) {
		snprintf(err, errlen, "%s: bad JSON answer: %s", op,
			doc ? "not an object" : jerr.text);
		json_decref(doc);
		return VF_DDB_ERROR;
	}
	*resp = doc;
	return VF_DDB_OK;
}
