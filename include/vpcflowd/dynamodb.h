/*
 * A DynamoDB client (JSON 1.0 protocol over one keep-alive connection) for
 * the lease table: control-plane traffic, a few calls a second, so request
 * and answer bodies are jansson documents.
 */
#ifndef VPCFLOWD_DYNAMODB_H
#define VPCFLOWD_DYNAMODB_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "vpcflowd/aws.h"

enum vf_ddb_status {
	VF_DDB_OK,
	VF_DDB_CONDITION_FAILED,  /* ConditionalCheckFailedException */
	VF_DDB_NOT_FOUND,         /* ResourceNotFoundException: no such table */
	VF_DDB_IN_USE,            /* ResourceInUseException: it exists already */
	VF_DDB_RETRY,             /* throttling, 5xx, network: try again later */
	VF_DDB_ERROR,             /* access denied, a bad request, a bad answer */
};

struct vf_ddb_opts {
	const char *endpoint;     /* NULL: https://dynamodb.REGION.amazonaws.com/ */
	const char *region;
	struct vf_aws_creds_provider *creds;   /* not owned */
	long timeout_ms;          /* per request; 0: 5 s */
	const atomic_int *cancel; /* set: a call in flight is abandoned */
};

struct vf_ddb;

struct vf_ddb *vf_ddb_create(const struct vf_ddb_opts *opts);
void vf_ddb_destroy(struct vf_ddb *d);

/*
 * Sends op ("Scan", "UpdateItem"...) with the request document req (not
 * stolen). On VF_DDB_OK, *resp (when resp is not NULL) is the answer: the
 * caller json_decref()s it. Otherwise err says what happened, with the
 * operation and the AWS error code.
 */
enum vf_ddb_status vf_ddb_call(struct vf_ddb *d, const char *op,
	json_t *req, json_t **resp, char *err, size_t errlen);

const char *vf_ddb_status_name(enum vf_ddb_status s);

#endif
