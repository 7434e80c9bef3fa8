/*
 * AWS plumbing shared by the Kinesis, DynamoDB, EC2 and STS clients:
 * credentials and signed requests.
 */
#ifndef VPCFLOWD_AWS_H
#define VPCFLOWD_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpcflowd/http.h"

struct vf_aws_credentials {
	char access_key_id[128];
	char secret_access_key[128];
	char session_token[4096];   /* "" when there is none */
	int64_t expiration;         /* Unix seconds; 0: never expires */
};

/* One AWS call: a POST to an endpoint, SigV4-signed. */
struct vf_aws_call {
	const char *url;            /* "https://kinesis.us-east-1.amazonaws.com/" */
	const char *region;
	const char *service;        /* "kinesis", "sts", "dynamodb", "ec2" */
	const char *content_type;   /* "application/x-amz-json-1.1" */
	const char *target;         /* X-Amz-Target value, or NULL */
	const void *body;
	size_t len;
};

/*
 * Signs the call with creds (adding X-Amz-Date, and X-Amz-Security-Token
 * when there is a session token) and sends it. creds NULL sends it
 * unsigned (STS AssumeRoleWithWebIdentity). Returns as vf_http_request.
 */
enum vf_http_result vf_aws_post(struct vf_http *h, const struct vf_aws_call *call,
	const struct vf_aws_credentials *creds);

/*
 * The error code of an AWS JSON error body ({"__type": "...#Code"} or
 * {"code": ...}), without any "prefix#" or ":suffix"; "" when there is
 * none. Copies at most outlen - 1 bytes.
 */
void vf_aws_error_code(const char *body, size_t len, char *out, size_t outlen);

/*
 * Appends "&key=value" to a Query API form body ("key=value" when b is
 * empty), the value percent-encoded as SigV4 wants. False when b's cap
 * would be passed.
 */
bool vf_aws_form_add(struct vf_buf *b, const char *key, const char *value);

/* The default endpoint of a service in a region: https://SERVICE.REGION.amazonaws.com/ */
void vf_aws_endpoint(const char *service, const char *region, char *out,
	size_t outlen);

/* ---- credentials ---- */

struct vf_aws_creds_opts {
	const char *profile;        /* aws.profile, or NULL: AWS_PROFILE or "default" */
	const char *region;         /* for STS */
	const char *role_arn;       /* aws.role_arn: AssumeRole on top of the chain */
	const char *external_id;    /* aws.external_id, with role_arn */
	const char *sts_endpoint;   /* override (tests); NULL: regional STS */
};

struct vf_aws_creds_provider;

/*
 * The standard chain, in order: environment (with session token), the
 * shared credentials and config files and their profiles, web identity
 * token (EKS/IRSA), ECS container credentials (relative and full URI,
 * auth token), EC2 instance metadata (IMDSv2); then AssumeRole with
 * ExternalId when role_arn is set. Nothing is fetched until the first
 * get. Never logs secrets.
 */
struct vf_aws_creds_provider *vf_aws_creds_create(
	const struct vf_aws_creds_opts *opts, char *err, size_t errlen);
void vf_aws_creds_destroy(struct vf_aws_creds_provider *p);

/*
 * Current credentials, copied into out; temporary ones are refreshed when
 * they are within 10 minutes of expiring (15 when a refresh is cheap).
 * Thread-safe. False, with a reason without secrets, when no source has
 * credentials.
 */
bool vf_aws_creds_get(struct vf_aws_creds_provider *p,
	struct vf_aws_credentials *out, char *err, size_t errlen);

#endif
