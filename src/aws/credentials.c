/*
 * The AWS credential provider chain: the provider (cache, refresh, lock),
 * the environment source and the order of the chain. The shared files
 * and their profiles are in credentials_profile.c, container and instance
 * metadata in credentials_http.c, STS in credentials_sts.c, helpers in
 * credentials_util.c.
 *
 * The first get runs the chain and remembers which source answered; later
 * refreshes ask that source only. With role_arn, AssumeRole sits on top
 * and the chain's credentials are its source; both layers are cached and
 * refreshed on their own.
 */
#include "vpcflowd/aws.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials_internal.h"

/*
 * While the credentials in hand are still good but due for a refresh, one
 * attempt at most this often: a failing (or slow) source is not asked on
 * every call.
 */
#define RETRY_SECONDS 10

enum source {
	SRC_NONE,            /* not chosen yet: run the chain */
	SRC_ENV,
	SRC_PROFILE,
	SRC_WEB_IDENTITY,
	SRC_CONTAINER,
	SRC_IMDS,
};

struct slot {
	bool have;
	struct vf_aws_credentials c;
	int window;          /* refresh this many seconds before expiry */
	int64_t next_try;    /* while c is good, no refresh before this */
};

struct vf_aws_creds_provider {
	pthread_mutex_t mu;
	char *profile;
	bool profile_explicit;   /* opts->profile: the environment's keys are skipped */
	bool profile_named;      /* opts->profile, AWS_PROFILE...: it must exist */
	char *role_arn;
	char *external_id;
	char *sts_url;
	char *sts_region;
	enum source source;      /* the chain's choice, kept for refreshes */
	int64_t now;             /* of the get in progress */
	struct slot base;        /* the chain's credentials */
	struct slot top;         /* AssumeRole role_arn, from base */
};

typedef bool (*fetch_fn)(struct vf_aws_creds_provider *p,
	struct vf_aws_credentials *out, int *window, char *err, size_t errlen);

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* ---- the environment ---- */

enum vf_creds_rc vf_creds_from_env(struct vf_aws_credentials *out,
	char *err, size_t errlen)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	const char *exp = getenv("AWS_CREDENTIAL_EXPIRATION");
	int64_t expiration = 0;

	if (empty(id) && empty(secret)) {
		snprintf(err, errlen, "environment: AWS_ACCESS_KEY_ID not set");
		return VF_CREDS_ABSENT;
	}
	if (empty(secret) || empty(id)) {
		snprintf(err, errlen, "environment: %s is set but %s is not",
			empty(id) ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
			empty(id) ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
		return VF_CREDS_FAILED;
	}
	if (empty(token))
		token = getenv("AWS_SECURITY_TOKEN");
	if (!empty(exp) && !vf_creds_parse_time(exp, &expiration)) {
		snprintf(err, errlen, "environment: AWS_CREDENTIAL_EXPIRATION is "
			"not an ISO 8601 time");
		return VF_CREDS_FAILED;
	}
	if (!vf_creds_fill(out, id, secret, token, expiration, "environment",
	    err, errlen))
		return VF_CREDS_FAILED;
	return VF_CREDS_FOUND;
}

/* ---- the chain ---- */

static const char *source_name(enum source s)
{
	switch (s) {
	case SRC_ENV:
		return "environment";
	case SRC_PROFILE:
		return "profile";
	case SRC_WEB_IDENTITY:
		return "web identity";
	case SRC_CONTAINER:
		return "container credentials";
	case SRC_IMDS:
		return "EC2 instance metadata";
	case SRC_NONE:
		break;
	}
	return "credential chain";
}

static int source_window(enum source s)
{
	return s == SRC_ENV || s == SRC_CONTAINER || s == SRC_IMDS ?
		VF_CREDS_WINDOW_LOCAL : VF_CREDS_WINDOW_STS;
}

/* AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (EKS IRSA). */
static enum vf_creds_rc from_web_identity_env(struct vf_aws_creds_provider *p,
	struct vf_aws_credentials *out, char *err, size_t errlen)
{
	const char *file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = getenv("AWS_ROLE_ARN");
	const char *session = getenv("AWS_ROLE_SESSION_NAME");
	struct vf_creds_sts sts = { p->sts_url, p->sts_region };
	char what[300], arn[200];

	if (empty(file) && empty(role)) {
		snprintf(err, errlen, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE "
			"not set");
		return VF_CREDS_ABSENT;
	}
	if (empty(file) || empty(role)) {
		snprintf(err, errlen, "web identity: %s is set but %s is not",
			empty(file) ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE",
			empty(file) ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN");
		return VF_CREDS_FAILED;
	}
	vf_creds_printable(role, 160, arn, sizeof(arn));
	snprintf(what, sizeof(what), "web identity: AssumeRoleWithWebIdentity %s",
		arn);
	return vf_creds_web_identity(&sts, file, role,
		empty(session) ? NULL : session, what, out, err, errlen);
}

static enum vf_creds_rc run_source(struct vf_aws_creds_provider *p,
	enum source s, struct vf_aws_credentials *out, char *err, size_t errlen)
{
	struct vf_creds_sts sts = { p->sts_url, p->sts_region };

	switch (s) {
	case SRC_ENV:
		return vf_creds_from_env(out, err, errlen);
	case SRC_PROFILE:
		return vf_creds_from_profile(p->profile, p->profile_named, &sts,
			out, err, errlen);
	case SRC_WEB_IDENTITY:
		return from_web_identity_env(p, out, err, errlen);
	case SRC_CONTAINER:
		return vf_creds_from_container(out, err, errlen);
	case SRC_IMDS:
		return vf_creds_from_imds(out, err, errlen);
	case SRC_NONE:
		break;
	}
	snprintf(err, errlen, "credential chain: no source");
	return VF_CREDS_FAILED;
}

/* The first source with credentials; one that is set up but fails stops it. */
static bool run_chain(struct vf_aws_creds_provider *p,
	struct vf_aws_credentials *out, char *err, size_t errlen)
{
	static const enum source order[] = { SRC_ENV, SRC_PROFILE,
		SRC_WEB_IDENTITY, SRC_CONTAINER, SRC_IMDS };
	char notes[5][1024];
	size_t used = 0;
	int n;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum vf_creds_rc rc;

		notes[i][0] = '\0';
		if (order[i] == SRC_ENV && p->profile_explicit) {
			snprintf(notes[i], sizeof(notes[i]), "environment: skipped "
				"(a profile is configured)");
			continue;
		}
		rc = run_source(p, order[i], out, notes[i], sizeof(notes[i]));
		if (rc == VF_CREDS_FOUND) {
			p->source = order[i];
			return true;
		}
		if (notes[i][0] == '\0')
			snprintf(notes[i], sizeof(notes[i]), "%s",
				source_name(order[i]));
		if (rc == VF_CREDS_FAILED) {
			snprintf(err, errlen, "%s", notes[i]);
			return false;
		}
	}
	n = snprintf(err, errlen, "no AWS credentials found");
	used = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; i < 5 && used < errlen; i++) {
		n = snprintf(err + used, errlen - used, "%s%s", i ? "; " : ": ",
			notes[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return false;
}

static bool fetch_base(struct vf_aws_creds_provider *p,
	struct vf_aws_credentials *out, int *window, char *err, size_t errlen)
{
	enum vf_creds_rc rc;

	if (p->source == SRC_NONE) {
		if (!run_chain(p, out, err, errlen))
			return false;
		*window = source_window(p->source);
		return true;
	}
	rc = run_source(p, p->source, out, err, errlen);
	if (rc == VF_CREDS_ABSENT) {
		char note[1024];
		snprintf(note, sizeof(note), "%s", err);
		snprintf(err, errlen, "no credentials any more: %s", note);
	}
	*window = source_window(p->source);
	return rc == VF_CREDS_FOUND;
}

static bool ensure(struct vf_aws_creds_provider *p, struct slot *s,
	fetch_fn fetch, char *err, size_t errlen);

static bool fetch_top(struct vf_aws_creds_provider *p,
	struct vf_aws_credentials *out, int *window, char *err, size_t errlen)
{
	struct vf_creds_sts sts = { p->sts_url, p->sts_region };
	char why[1024], what[300], arn[200];

	vf_creds_printable(p->role_arn, 160, arn, sizeof(arn));
	snprintf(what, sizeof(what), "AssumeRole %s", arn);
	if (!ensure(p, &p->base, fetch_base, why, sizeof(why))) {
		snprintf(err, errlen, "%s: no source credentials: %s", what, why);
		return false;
	}
	*window = VF_CREDS_WINDOW_STS;
	return vf_creds_assume_role(&sts, &p->base.c, p->role_arn,
		p->external_id, NULL, 3600, what, out, err, errlen) ==
		VF_CREDS_FOUND;
}

static bool slot_valid(const struct slot *s, int64_t now)
{
	return s->have && (s->c.expiration == 0 || s->c.expiration > now);
}

static bool slot_due(const struct slot *s, int64_t now)
{
	return !s->have || (s->c.expiration != 0 &&
		s->c.expiration - now <= s->window);
}

/* Names the source of a slot's credentials, for an error. */
static void slot_label(const struct vf_aws_creds_provider *p,
	const struct slot *s, char *out, size_t outlen)
{
	char name[200];

	if (s == &p->top) {
		vf_creds_printable(p->role_arn, 160, name, sizeof(name));
		snprintf(out, outlen, "AssumeRole %s", name);
	} else if (p->source == SRC_PROFILE) {
		vf_creds_printable(p->profile, 64, name, sizeof(name));
		snprintf(out, outlen, "profile \"%s\"", name);
	} else {
		snprintf(out, outlen, "%s", source_name(p->source));
	}
}

static void slot_clear(struct slot *s)
{
	OPENSSL_cleanse(&s->c, sizeof(s->c));
	s->have = false;
	s->next_try = 0;
}

/*
 * Makes s current: fetches when it has nothing, or is due and the last
 * attempt was long enough ago. A failed refresh keeps credentials that
 * have not expired yet.
 */
static bool ensure(struct vf_aws_creds_provider *p, struct slot *s,
	fetch_fn fetch, char *err, size_t errlen)
{
	struct vf_aws_credentials fresh;
	char why[1024];
	int window = VF_CREDS_WINDOW_STS;
	bool ok, had;

	if (slot_valid(s, p->now) && (!slot_due(s, p->now) ||
	    p->now < s->next_try))
		return true;
	why[0] = '\0';
	ok = fetch(p, &fresh, &window, why, sizeof(why));
	if (ok && fresh.expiration != 0 && fresh.expiration <= p->now) {
		char label[300];
		slot_label(p, s, label, sizeof(label));
		snprintf(why, sizeof(why), "%s: the credentials it gave have "
			"expired already", label);
		ok = false;
	}
	if (ok) {
		s->c = fresh;
		s->have = true;
		s->window = window;
		s->next_try = p->now + RETRY_SECONDS;
	} else if (slot_valid(s, p->now)) {
		s->next_try = p->now + RETRY_SECONDS;
		ok = true;
	} else {
		had = s->have;
		slot_clear(s);
		snprintf(err, errlen, "%s%s", why[0] ? why : "no credentials",
			had ? " (and the previous credentials have expired)" : "");
	}
	OPENSSL_cleanse(&fresh, sizeof(fresh));
	return ok;
}

/* ---- the provider ---- */

static bool region_ok(const char *r)
{
	if (empty(r) || strlen(r) > 40)
		return false;
	for (; *r != '\0'; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') ||
		      *r == '-'))
			return false;
	return true;
}

static char *dup_or_null(const char *s, bool *ok)
{
	char *d;

	if (empty(s))
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*ok = false;
	return d;
}

struct vf_aws_creds_provider *vf_aws_creds_create(
	const struct vf_aws_creds_opts *opts, char *err, size_t errlen)
{
	static const struct vf_aws_creds_opts none;
	struct vf_aws_creds_provider *p;
	const char *profile, *region, *sts;
	char url[300], shown[64];
	bool ok = true;

	if (opts == NULL)
		opts = &none;
	p = calloc(1, sizeof(*p));
	if (p == NULL || pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		snprintf(err, errlen, "credentials: out of memory");
		return NULL;
	}
	profile = opts->profile;
	p->profile_explicit = p->profile_named = !empty(profile);
	if (empty(profile))
		profile = getenv("AWS_PROFILE");
	if (empty(profile))
		profile = getenv("AWS_DEFAULT_PROFILE");
	if (!empty(profile))
		p->profile_named = true;
	else
		profile = "default";

	region = opts->region;
	if (empty(region))
		region = getenv("AWS_REGION");
	if (empty(region))
		region = getenv("AWS_DEFAULT_REGION");
	if (!empty(region) && !region_ok(region)) {
		vf_creds_printable(region, 40, shown, sizeof(shown));
		snprintf(err, errlen, "credentials: \"%s\" is not a region name",
			shown);
		goto fail;
	}
	if (!empty(opts->external_id) && empty(opts->role_arn)) {
		snprintf(err, errlen, "credentials: an external id needs a "
			"role_arn");
		goto fail;
	}
	sts = opts->sts_endpoint;
	if (empty(sts))
		sts = getenv("AWS_ENDPOINT_URL_STS");
	if (empty(sts)) {
		vf_aws_endpoint("sts", region, url, sizeof(url));
		sts = url;
	}
	p->profile = dup_or_null(profile, &ok);
	p->sts_url = dup_or_null(sts, &ok);
	p->sts_region = dup_or_null(empty(region) ? "us-east-1" : region, &ok);
	p->role_arn = dup_or_null(opts->role_arn, &ok);
	p->external_id = dup_or_null(opts->external_id, &ok);
	if (!ok) {
		snprintf(err, errlen, "credentials: out of memory");
		goto fail;
	}
	return p;
fail:
	vf_aws_creds_destroy(p);
	return NULL;
}

void vf_aws_creds_destroy(struct vf_aws_creds_provider *p)
{
	if (p == NULL)
		return;
	slot_clear(&p->base);
	slot_clear(&p->top);
	if (p->external_id != NULL)
		OPENSSL_cleanse(p->external_id, strlen(p->external_id));
	free(p->profile);
	free(p->role_arn);
	free(p->external_id);
	free(p->sts_url);
	free(p->sts_region);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

bool vf_aws_creds_get(struct vf_aws_creds_provider *p,
	struct vf_aws_credentials *out, char *err, size_t errlen)
{
	struct slot *s;
	bool ok;

	pthread_mutex_lock(&p->mu);
	p->now = vf_creds_now();
	if (p->role_arn != NULL) {
		s = &p->top;
		ok = ensure(p, s, fetch_top, err, errlen);
	} else {
		s = &p->base;
		ok = ensure(p, s, fetch_base, err, errlen);
	}
	if (ok)
		*out = s->c;
	pthread_mutex_unlock(&p->mu);
	return ok;
}
