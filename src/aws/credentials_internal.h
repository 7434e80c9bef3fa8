/*
 * Internals of the credential provider chain, shared by credentials.c
 * (the provider, the environment, the chain), credentials_profile.c (the
 * shared files and their profiles), credentials_http.c (container,
 * instance metadata), credentials_sts.c (STS) and credentials_util.c.
 * Not part of the interface.
 */
#ifndef VPCFLOWD_CREDENTIALS_INTERNAL_H
#define VPCFLOWD_CREDENTIALS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vpcflowd/aws.h"

/* What a source answers. */
enum vf_creds_rc {
	VF_CREDS_FOUND,     /* out is set */
	VF_CREDS_ABSENT,    /* not configured here: try the next source
	                       (err may hold a short note on why) */
	VF_CREDS_FAILED,    /* configured but failed: err says why */
};

/* Where STS is, for AssumeRole and AssumeRoleWithWebIdentity. */
struct vf_creds_sts {
	const char *url;
	const char *region;         /* signing region */
};

/* Refresh windows, in seconds before expiry. */
#define VF_CREDS_WINDOW_STS 600     /* an STS call */
#define VF_CREDS_WINDOW_LOCAL 900   /* a local endpoint or the environment */

/* Seconds since the epoch (the test clock when one is set). */
int64_t vf_creds_now(void);

/*
 * Fills out, checking the lengths; what names the source for the error,
 * which never quotes a value. token may be NULL or "".
 */
bool vf_creds_fill(struct vf_aws_credentials *out, const char *id,
	const char *secret, const char *token, int64_t expiration,
	const char *what, char *err, size_t errlen);

/* ISO 8601 "2024-01-02T03:04:05[.fff](Z|+hh:mm|-hh:mm)" to Unix seconds. */
bool vf_creds_parse_time(const char *s, int64_t *out);

/* Reads a whole small file; NUL-terminated; NULL with errno set. */
char *vf_creds_read_file(const char *path, size_t max, size_t *len);

/* "~/x" with $HOME; anything else copied. NULL when out of memory. */
char *vf_creds_expand_home(const char *path);

/* Copies s for an error message: printable ASCII only, at most max bytes. */
void vf_creds_printable(const char *s, size_t max, char *out, size_t outlen);

/* How much of a server's error text an error quotes. */
#define VF_CREDS_SHOWN 300

/*
 * Copies a server's text for an error: printable ASCII, at most
 * VF_CREDS_SHOWN bytes, every occurrence of one of the n secrets (NULL
 * or shorter than 4 bytes: skipped) replaced by "***".
 */
void vf_creds_scrub(const char *s, const char *const *secrets, size_t n,
	char *out, size_t outlen);

/* Trailing blanks and line ends off; false when a line end is left inside. */
bool vf_creds_trim_token(char *t);

/* Wipes and frees a string that may hold a secret (NULL: nothing). */
void vf_creds_free_secret(char *s);

void vf_creds_sleep_ms(long ms);

/* The environment's keys (AWS_ACCESS_KEY_ID...). */
enum vf_creds_rc vf_creds_from_env(struct vf_aws_credentials *out,
	char *err, size_t errlen);

/*
 * The profile's credentials: static keys, or AssumeRole from its
 * source_profile / credential_source, or web identity. ABSENT when the
 * profile has no credentials or (unless must_exist) is in neither file.
 */
enum vf_creds_rc vf_creds_from_profile(const char *name, bool must_exist,
	const struct vf_creds_sts *sts, struct vf_aws_credentials *out,
	char *err, size_t errlen);

/* AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI. */
enum vf_creds_rc vf_creds_from_container(struct vf_aws_credentials *out,
	char *err, size_t errlen);

/* IMDSv2. ABSENT when disabled or not there. */
enum vf_creds_rc vf_creds_from_imds(struct vf_aws_credentials *out,
	char *err, size_t errlen);

/*
 * True when url may serve container credentials: https, or http to a
 * loopback address, localhost, 169.254.170.2, 169.254.170.23 or
 * fd00:ec2::23.
 */
bool vf_creds_container_url_allowed(const char *url);

/* STS AssumeRole, signed with src. external_id and session may be NULL. */
enum vf_creds_rc vf_creds_assume_role(const struct vf_creds_sts *sts,
	const struct vf_aws_credentials *src, const char *role_arn,
	const char *external_id, const char *session, int duration,
	const char *what, struct vf_aws_credentials *out, char *err,
	size_t errlen);

/* STS AssumeRoleWithWebIdentity (unsigned), the token read from token_file. */
enum vf_creds_rc vf_creds_web_identity(const struct vf_creds_sts *sts,
	const char *token_file, const char *role_arn, const char *session,
	const char *what, struct vf_aws_credentials *out, char *err,
	size_t errlen);

/* ---- for the unit tests only ---- */

/* A clock to use instead of time(); NULL: time(). */
void vf_creds_test_set_clock(int64_t (*now)(void));
/* The base of AWS_CONTAINER_CREDENTIALS_RELATIVE_URI; NULL: http://169.254.170.2 */
void vf_creds_test_set_container_base(const char *base);
/* The pause between container attempts, in milliseconds; < 0: 1000. */
void vf_creds_test_set_container_pause(long ms);

#endif
