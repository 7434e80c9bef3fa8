/*
 * The shared credentials file (~/.aws/credentials, sections "[name]") and
 * config file (~/.aws/config, "[default]" and "[profile name]"), and what a
 * profile's settings make of them: static keys, AssumeRole from a
 * source_profile (recursively, with a cycle check) or a credential_source,
 * or web identity.
 *
 * A profile's settings are those of its config file section, overridden by
 * its credentials file section. Key names are case-insensitive; lines that
 * start with a blank (sub-settings such as "s3 =" blocks) are skipped; a
 * '#' or ';' after a blank starts a comment.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "credentials_internal.h"

#define MAX_FILE (1u << 20)
#define MAX_DEPTH 8

struct setting {
	char *key;
	char *value;
};

struct profile {
	bool found;                 /* a section in either file */
	struct setting *s;
	size_t n, cap;
	char *config_path;
	char *credentials_path;
};

/* Names what follows in an error. */
struct chain {
	const struct vf_creds_sts *sts;
	const char *names[MAX_DEPTH];
	size_t depth;
};

static enum vf_creds_rc resolve(struct chain *c, const char *name,
	bool must_exist, struct vf_aws_credentials *out, char *err,
	size_t errlen);

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

static void profile_free(struct profile *pr)
{
	for (size_t i = 0; i < pr->n; i++) {
		OPENSSL_cleanse(pr->s[i].value, strlen(pr->s[i].value));
		free(pr->s[i].key);
		free(pr->s[i].value);
	}
	free(pr->s);
	free(pr->config_path);
	free(pr->credentials_path);
	memset(pr, 0, sizeof(*pr));
}

static const char *profile_get(const struct profile *pr, const char *key)
{
	for (size_t i = 0; i < pr->n; i++)
		if (strcmp(pr->s[i].key, key) == 0)
			return pr->s[i].value[0] != '\0' ? pr->s[i].value : NULL;
	return NULL;
}

static bool profile_set(struct profile *pr, const char *key, size_t klen,
	const char *value, size_t vlen)
{
	char *k, *v;

	v = strndup(value, vlen);
	if (v == NULL)
		return false;
	for (size_t i = 0; i < pr->n; i++) {
		if (strlen(pr->s[i].key) == klen &&
		    strncmp(pr->s[i].key, key, klen) == 0) {
			OPENSSL_cleanse(pr->s[i].value, strlen(pr->s[i].value));
			free(pr->s[i].value);
			pr->s[i].value = v;
			return true;
		}
	}
	if (pr->n == pr->cap) {
		size_t ncap = pr->cap ? pr->cap * 2 : 16;
		struct setting *ns = realloc(pr->s, ncap * sizeof(*ns));
		if (ns == NULL)
			goto nomem;
		pr->s = ns;
		pr->cap = ncap;
	}
	k = strndup(key, klen);
	if (k == NULL)
		goto nomem;
	pr->s[pr->n].key = k;
	pr->s[pr->n].value = v;
	pr->n++;
	return true;
nomem:
	free(v);
	return false;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **p, size_t *len)
{
	while (*len > 0 && is_blank(**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && (is_blank((*p)[*len - 1]) || (*p)[*len - 1] == '\r'))
		(*len)--;
}

/* Whether section header text [sec, sec + len) selects the profile name. */
static bool section_is(const char *sec, size_t len, bool config,
	const char *name)
{
	trim(&sec, &len);
	if (config) {
		if (len == 7 && strncmp(sec, "default", 7) == 0)
			return strcmp(name, "default") == 0;
		if (len < 8 || strncmp(sec, "profile", 7) != 0 ||
		    !is_blank(sec[7]))
			return false;
		sec += 8;
		len -= 8;
		trim(&sec, &len);
	}
	return len == strlen(name) && strncmp(sec, name, len) == 0;
}

/* Adds the settings of the sections of text that select name. */
static bool parse(const char *text, bool config, const char *name,
	struct profile *pr)
{
	bool in = false;
	char key[64];

	while (*text != '\0') {
		const char *line = text, *nl = strchr(text, '\n'), *eq, *colon;
		size_t len = nl != NULL ? (size_t)(nl - text) : strlen(text);
		size_t klen, vlen;

		text = nl != NULL ? nl + 1 : line + len;
		if (len == 0 || is_blank(line[0]))
			continue;       /* empty, or a sub-setting */
		trim(&line, &len);
		if (len == 0 || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] == '[') {
			const char *close = memchr(line, ']', len);
			in = close != NULL && section_is(line + 1,
				(size_t)(close - line - 1), config, name);
			if (in)
				pr->found = true;
			continue;
		}
		if (!in)
			continue;
		eq = memchr(line, '=', len);
		colon = memchr(line, ':', len);
		if (eq == NULL || (colon != NULL && colon < eq))
			eq = colon;
		if (eq == NULL)
			continue;
		{
			const char *k = line, *v = eq + 1;
			klen = (size_t)(eq - line);
			vlen = len - klen - 1;
			trim(&k, &klen);
			trim(&v, &vlen);
			for (size_t i = 1; i < vlen; i++) {
				if ((v[i] == '#' || v[i] == ';') &&
				    is_blank(v[i - 1])) {
					vlen = i;
					trim(&v, &vlen);
					break;
				}
			}
			if (klen == 0 || klen >= sizeof(key))
				continue;
			for (size_t i = 0; i < klen; i++)
				key[i] = (char)(k[i] >= 'A' && k[i] <= 'Z' ?
					k[i] - 'A' + 'a' : k[i]);
			if (!profile_set(pr, key, klen, v, vlen))
				return false;
		}
	}
	return true;
}

static char *file_path(const char *env, const char *rel)
{
	const char *v = getenv(env), *home;
	char *out;

	if (!empty(v))
		return vf_creds_expand_home(v);
	home = getenv("HOME");
	if (empty(home))
		return NULL;
	out = malloc(strlen(home) + strlen(rel) + 1);
	if (out != NULL)
		sprintf(out, "%s%s", home, rel);
	return out;
}

/* Reads path (a missing file is empty) and adds its settings for name. */
static bool load_file(const char *path, bool config, const char *name,
	struct profile *pr, char *err, size_t errlen)
{
	size_t len;
	char *text;
	bool ok;

	if (path == NULL)
		return true;
	text = vf_creds_read_file(path, MAX_FILE, &len);
	if (text == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return true;
		snprintf(err, errlen, "profile: cannot read %s: %s", path,
			errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		return false;
	}
	ok = parse(text, config, name, pr);
	OPENSSL_cleanse(text, len);
	free(text);
	if (!ok)
		snprintf(err, errlen, "profile: out of memory");
	return ok;
}

static bool profile_load(const char *name, struct profile *pr, char *err,
	size_t errlen)
{
	memset(pr, 0, sizeof(*pr));
	pr->config_path = file_path("AWS_CONFIG_FILE", "/.aws/config");
	pr->credentials_path = file_path("AWS_SHARED_CREDENTIALS_FILE",
		"/.aws/credentials");
	return load_file(pr->config_path, true, name, pr, err, errlen) &&
		load_file(pr->credentials_path, false, name, pr, err, errlen);
}

/* aws_access_key_id and aws_secret_access_key; ABSENT without either. */
static enum vf_creds_rc static_keys(const struct profile *pr,
	const char *shown, struct vf_aws_credentials *out, char *err,
	size_t errlen)
{
	const char *id = profile_get(pr, "aws_access_key_id");
	const char *secret = profile_get(pr, "aws_secret_access_key");
	const char *token = profile_get(pr, "aws_session_token");
	char what[128];

	if (id == NULL && secret == NULL)
		return VF_CREDS_ABSENT;
	if (id == NULL || secret == NULL) {
		snprintf(err, errlen, "profile \"%s\": %s without %s", shown,
			id ? "aws_access_key_id" : "aws_secret_access_key",
			id ? "aws_secret_access_key" : "aws_access_key_id");
		return VF_CREDS_FAILED;
	}
	if (token == NULL)
		token = profile_get(pr, "aws_security_token");
	snprintf(what, sizeof(what), "profile \"%s\"", shown);
	if (!vf_creds_fill(out, id, secret, token, 0, what, err, errlen))
		return VF_CREDS_FAILED;
	return VF_CREDS_FOUND;
}

/* The credentials AssumeRole starts from: credential_source's source. */
static enum vf_creds_rc from_credential_source(const char *cs,
	const char *shown, struct vf_aws_credentials *out, char *err,
	size_t errlen)
{
	char why[800], val[64];
	enum vf_creds_rc rc;

	why[0] = '\0';
	if (strcmp(cs, "Environment") == 0) {
		rc = vf_creds_from_env(out, why, sizeof(why));
	} else if (strcmp(cs, "Ec2InstanceMetadata") == 0) {
		rc = vf_creds_from_imds(out, why, sizeof(why));
	} else if (strcmp(cs, "EcsContainer") == 0) {
		rc = vf_creds_from_container(out, why, sizeof(why));
	} else {
		vf_creds_printable(cs, 40, val, sizeof(val));
		snprintf(err, errlen, "profile \"%s\": credential_source \"%s\" "
			"is not Environment, Ec2InstanceMetadata or EcsContainer",
			shown, val);
		return VF_CREDS_FAILED;
	}
	if (rc != VF_CREDS_FOUND)
		snprintf(err, errlen, "profile \"%s\": credential_source %s: %s",
			shown, cs, why[0] ? why : "no credentials");
	return rc == VF_CREDS_FOUND ? rc : VF_CREDS_FAILED;
}

static enum vf_creds_rc role_profile(struct chain *c, const char *name,
	const char *shown, const struct profile *pr, const char *role,
	struct vf_aws_credentials *out, char *err, size_t errlen)
{
	const char *sp = profile_get(pr, "source_profile");
	const char *cs = profile_get(pr, "credential_source");
	const char *wit = profile_get(pr, "web_identity_token_file");
	const char *session = profile_get(pr, "role_session_name");
	const char *ext = profile_get(pr, "external_id");
	const char *dur = profile_get(pr, "duration_seconds");
	struct vf_aws_credentials src;
	char what[400], arn[200], why[1024], sp_shown[80];
	enum vf_creds_rc rc;
	long duration = 3600;

	vf_creds_printable(role, 160, arn, sizeof(arn));
	if (profile_get(pr, "mfa_serial") != NULL) {
		snprintf(err, errlen, "profile \"%s\": mfa_serial is not "
			"supported", shown);
		return VF_CREDS_FAILED;
	}
	if (dur != NULL) {
		char *end;
		errno = 0;
		duration = strtol(dur, &end, 10);
		if (errno != 0 || *end != '\0' || duration < 900 ||
		    duration > 43200) {
			snprintf(err, errlen, "profile \"%s\": duration_seconds "
				"is not a number from 900 to 43200", shown);
			return VF_CREDS_FAILED;
		}
	}
	if (sp == NULL && cs == NULL && wit != NULL) {
		char *path = vf_creds_expand_home(wit);
		if (path == NULL) {
			snprintf(err, errlen, "profile \"%s\": out of memory",
				shown);
			return VF_CREDS_FAILED;
		}
		snprintf(what, sizeof(what), "profile \"%s\": "
			"AssumeRoleWithWebIdentity %s", shown, arn);
		rc = vf_creds_web_identity(c->sts, path, role, session, what,
			out, err, errlen);
		free(path);
		return rc;
	}
	if (sp != NULL && cs != NULL) {
		snprintf(err, errlen, "profile \"%s\": both source_profile and "
			"credential_source are set", shown);
		return VF_CREDS_FAILED;
	}
	if (sp == NULL && cs == NULL) {
		snprintf(err, errlen, "profile \"%s\": role_arn needs "
			"source_profile, credential_source or "
			"web_identity_token_file", shown);
		return VF_CREDS_FAILED;
	}
	why[0] = '\0';
	if (cs != NULL) {
		rc = from_credential_source(cs, shown, &src, err, errlen);
		if (rc != VF_CREDS_FOUND)
			return VF_CREDS_FAILED;
	} else if (strcmp(sp, name) == 0) {
		/* a profile may name itself: its own keys are the source */
		rc = static_keys(pr, shown, &src, err, errlen);
		if (rc == VF_CREDS_ABSENT)
			snprintf(err, errlen, "profile \"%s\": source_profile is "
				"the profile itself, which has no keys", shown);
		if (rc != VF_CREDS_FOUND)
			return VF_CREDS_FAILED;
	} else {
		size_t used = 0;
		int n;

		vf_creds_printable(sp, 64, sp_shown, sizeof(sp_shown));
		for (size_t i = 0; i < c->depth; i++) {
			if (strcmp(c->names[i], sp) != 0)
				continue;
			n = snprintf(err, errlen, "profile \"%s\": "
				"source_profile cycle: ", shown);
			used = n > 0 ? (size_t)n : 0;
			for (size_t j = i; j < c->depth && used < errlen; j++) {
				char one[80];
				vf_creds_printable(c->names[j], 64, one,
					sizeof(one));
				n = snprintf(err + used, errlen - used, "%s -> ",
					one);
				used += n > 0 ? (size_t)n : 0;
			}
			if (used < errlen)
				snprintf(err + used, errlen - used, "%s",
					sp_shown);
			return VF_CREDS_FAILED;
		}
		if (c->depth >= MAX_DEPTH) {
			snprintf(err, errlen, "profile \"%s\": source_profile "
				"chain longer than %d profiles", shown, MAX_DEPTH);
			return VF_CREDS_FAILED;
		}
		rc = resolve(c, sp, true, &src, why, sizeof(why));
		if (rc == VF_CREDS_ABSENT)
			snprintf(why, sizeof(why), "profile \"%s\" has no "
				"credentials", sp_shown);
		if (rc != VF_CREDS_FOUND) {
			snprintf(err, errlen, "profile \"%s\": source_profile: "
				"%s", shown, why);
			return VF_CREDS_FAILED;
		}
	}
	snprintf(what, sizeof(what), "profile \"%s\": AssumeRole %s", shown,
		arn);
	rc = vf_creds_assume_role(c->sts, &src, role, ext, session,
		(int)duration, what, out, err, errlen);
	OPENSSL_cleanse(&src, sizeof(src));
	return rc;
}

static enum vf_creds_rc resolve(struct chain *c, const char *name,
	bool must_exist, struct vf_aws_credentials *out, char *err,
	size_t errlen)
{
	struct profile pr;
	const char *role;
	char shown[80];
	enum vf_creds_rc rc;

	vf_creds_printable(name, 64, shown, sizeof(shown));
	if (!profile_load(name, &pr, err, errlen)) {
		rc = VF_CREDS_FAILED;
		goto done;
	}
	if (!pr.found) {
		snprintf(err, errlen, "profile \"%s\": not in %s nor %s", shown,
			pr.config_path ? pr.config_path : "(no config file)",
			pr.credentials_path ? pr.credentials_path :
			"(no credentials file)");
		rc = must_exist ? VF_CREDS_FAILED : VF_CREDS_ABSENT;
		goto done;
	}
	c->names[c->depth++] = name;
	role = profile_get(&pr, "role_arn");
	if (role != NULL) {
		rc = role_profile(c, name, shown, &pr, role, out, err, errlen);
	} else if (profile_get(&pr, "web_identity_token_file") != NULL) {
		snprintf(err, errlen, "profile \"%s\": web_identity_token_file "
			"needs role_arn", shown);
		rc = VF_CREDS_FAILED;
	} else {
		rc = static_keys(&pr, shown, out, err, errlen);
		if (rc == VF_CREDS_ABSENT) {
			if (profile_get(&pr, "credential_process") != NULL) {
				snprintf(err, errlen, "profile \"%s\": "
					"credential_process is not supported",
					shown);
				rc = VF_CREDS_FAILED;
			} else if (profile_get(&pr, "sso_session") != NULL ||
				   profile_get(&pr, "sso_start_url") != NULL) {
				snprintf(err, errlen, "profile \"%s\": SSO is not "
					"supported", shown);
				rc = VF_CREDS_FAILED;
			} else {
				snprintf(err, errlen, "profile \"%s\": no "
					"credentials in it", shown);
			}
		}
	}
	c->depth--;
done:
	profile_free(&pr);
	return rc;
}

enum vf_creds_rc vf_creds_from_profile(const char *name, bool must_exist,
	const struct vf_creds_sts *sts, struct vf_aws_credentials *out,
	char *err, size_t errlen)
{
	struct chain c = { .sts = sts };

	return resolve(&c, name, must_exist, out, err, errlen);
}
