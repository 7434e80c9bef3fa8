/*
 * The credential sources that answer JSON over HTTP: the container
 * endpoint (ECS, EKS Pod Identity) and EC2 instance metadata (IMDSv2).
 *
 * Errors name the source and may quote an error code or message the
 * server sent, with the keys and token of the answer blotted out.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "credentials_internal.h"

#define MAX_ANSWER (64u << 10)
#define MAX_TOKEN_FILE (64u << 10)

static const char *test_container_base;
static long test_container_pause = -1;

void vf_creds_test_set_container_base(const char *base)
{
	test_container_base = base;
}

void vf_creds_test_set_container_pause(long ms)
{
	test_container_pause = ms;
}

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* ---- JSON answers (container, IMDS) ---- */

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static enum vf_creds_rc creds_from_json(const struct vf_buf *body,
	bool need_token, const char *what, struct vf_aws_credentials *out,
	char *err, size_t errlen)
{
	json_t *doc;
	const char *code, *id, *secret, *token, *exp, *missing = NULL;
	enum vf_creds_rc rc = VF_CREDS_FAILED;
	int64_t expiration;

	doc = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "%s: the answer is not a JSON object", what);
		goto done;
	}
	code = jstr(doc, "Code");
	id = jstr(doc, "AccessKeyId");
	secret = jstr(doc, "SecretAccessKey");
	token = jstr(doc, "Token");
	exp = jstr(doc, "Expiration");
	if (code != NULL && strcmp(code, "Success") != 0) {
		const char *secrets[] = { id, secret, token };
		char c[VF_CREDS_SHOWN + 8], m[VF_CREDS_SHOWN + 8];
		vf_creds_scrub(code, secrets, 3, c, sizeof(c));
		vf_creds_scrub(jstr(doc, "Message"), secrets, 3, m, sizeof(m));
		snprintf(err, errlen, "%s: %s%s%s", what, c, m[0] ? ": " : "", m);
		goto done;
	}
	if (empty(id))
		missing = "AccessKeyId";
	else if (empty(secret))
		missing = "SecretAccessKey";
	else if (need_token && empty(token))
		missing = "Token";
	else if (empty(exp))
		missing = "Expiration";
	if (missing != NULL) {
		snprintf(err, errlen, "%s: the answer has no %s", what, missing);
		goto done;
	}
	if (!vf_creds_parse_time(exp, &expiration)) {
		snprintf(err, errlen, "%s: Expiration is not an ISO 8601 time",
			what);
		goto done;
	}
	if (vf_creds_fill(out, id, secret, token, expiration, what, err, errlen))
		rc = VF_CREDS_FOUND;
done:
	json_decref(doc);
	return rc;
}

/* ---- container ---- */

static bool ip_is(const char *host, const char *want)
{
	unsigned char a[16], b[16];
	char h[64];
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof(h))
			return false;
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		return inet_pton(AF_INET6, h, a) == 1 &&
			inet_pton(AF_INET6, want, b) == 1 && memcmp(a, b, 16) == 0;
	}
	return inet_pton(AF_INET, host, a) == 1 &&
		inet_pton(AF_INET, want, b) == 1 && memcmp(a, b, 4) == 0;
}

static bool is_loopback(const char *host)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	return ip_is(host, "::1");
}

bool vf_creds_container_url_allowed(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	bool ok = false;

	if (u == NULL)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto done;
	if (strcasecmp(scheme, "https") == 0)
		ok = true;
	else if (strcasecmp(scheme, "http") == 0)
		ok = strcasecmp(host, "localhost") == 0 || is_loopback(host) ||
			ip_is(host, "169.254.170.2") ||
			ip_is(host, "169.254.170.23") || ip_is(host, "fd00:ec2::23");
done:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* The Authorization header for a full URI, or NULL with none configured. */
static bool container_auth(char **header, char *err, size_t errlen)
{
	const char *file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *env = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *where = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
	char *token = NULL;
	bool ok = false;

	*header = NULL;
	if (!empty(file)) {
		where = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
		token = vf_creds_read_file(file, MAX_TOKEN_FILE, NULL);
		if (token == NULL) {
			snprintf(err, errlen, "container credentials: cannot read "
				"%s %s: %s", where, file, errno == EFBIG ?
				"too large" : strerror(errno));
			return false;
		}
	} else if (!empty(env)) {
		token = strdup(env);
		if (token == NULL) {
			snprintf(err, errlen, "container credentials: out of "
				"memory");
			return false;
		}
	} else {
		return true;
	}
	if (!vf_creds_trim_token(token)) {
		snprintf(err, errlen, "container credentials: the token in %s "
			"holds a line break", where);
		goto done;
	}
	if (token[0] == '\0') {
		snprintf(err, errlen, "container credentials: the token in %s is "
			"empty", where);
		goto done;
	}
	*header = malloc(strlen(token) + sizeof("Authorization: "));
	if (*header == NULL) {
		snprintf(err, errlen, "container credentials: out of memory");
		goto done;
	}
	sprintf(*header, "Authorization: %s", token);
	ok = true;
done:
	vf_creds_free_secret(token);
	return ok;
}

enum vf_creds_rc vf_creds_from_container(struct vf_aws_credentials *out,
	char *err, size_t errlen)
{
	static const char what[] = "container credentials";
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *base = test_container_base ? test_container_base :
		"http://169.254.170.2";
	long pause = test_container_pause >= 0 ? test_container_pause : 1000;
	struct vf_http_opts ho = { .connect_timeout_ms = 2000,
		.timeout_ms = 2000, .max_response = MAX_ANSWER, .no_proxy = true };
	enum vf_creds_rc rc = VF_CREDS_FAILED;
	enum vf_http_result r = VF_HTTP_ERROR;
	struct vf_http *h = NULL;
	char *auth = NULL, *url = NULL;
	const char *headers[1];
	size_t nh = 0;
	long status = 0;

	if (!empty(rel)) {
		if (rel[0] != '/') {
			snprintf(err, errlen, "%s: AWS_CONTAINER_CREDENTIALS_"
				"RELATIVE_URI does not start with '/'", what);
			return VF_CREDS_FAILED;
		}
		url = malloc(strlen(base) + strlen(rel) + 1);
		if (url != NULL)
			sprintf(url, "%s%s", base, rel);
	} else if (!empty(full)) {
		if (!vf_creds_container_url_allowed(full)) {
			snprintf(err, errlen, "%s: AWS_CONTAINER_CREDENTIALS_FULL_URI "
				"must be https, or http to a loopback address, "
				"localhost, 169.254.170.2, 169.254.170.23 or "
				"fd00:ec2::23", what);
			return VF_CREDS_FAILED;
		}
		if (!container_auth(&auth, err, errlen))
			return VF_CREDS_FAILED;
		if (auth != NULL)
			headers[nh++] = auth;
		url = strdup(full);
	} else {
		snprintf(err, errlen, "%s: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
			"and _FULL_URI not set", what);
		return VF_CREDS_ABSENT;
	}
	if (url == NULL || (h = vf_http_create(&ho)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", what);
		goto done;
	}
	/* 3 attempts, a pause between, for network errors and 5xx */
	for (int i = 0; i < 3; i++) {
		if (i > 0)
			vf_creds_sleep_ms(pause);
		r = vf_http_request(h, "GET", url, headers, nh, NULL, 0);
		if (r != VF_HTTP_OK && r != VF_HTTP_NETWORK)
			break;
		status = r == VF_HTTP_OK ? vf_http_status(h) : 0;
		if (r == VF_HTTP_OK && status < 500)
			break;
	}
	if (r != VF_HTTP_OK) {
		snprintf(err, errlen, "%s: %s", what, vf_http_error(h));
		goto done;
	}
	if (status != 200) {
		snprintf(err, errlen, "%s: HTTP %ld", what, status);
		goto done;
	}
	rc = creds_from_json(vf_http_body(h), false, what, out, err, errlen);
done:
	vf_http_destroy(h);
	vf_creds_free_secret(auth);
	free(url);
	return rc;
}

/* ---- EC2 instance metadata (IMDSv2) ---- */

static bool role_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("+=,.@_-", c) != NULL))
			return false;
	}
	return true;
}

/* attempts tries, again after a network error or a 5xx. */
static enum vf_http_result imds_request(struct vf_http *h, const char *method,
	const char *url, const char *const *headers, size_t nh, int attempts)
{
	enum vf_http_result r = VF_HTTP_ERROR;

	for (int i = 0; i < attempts; i++) {
		r = vf_http_request(h, method, url, headers, nh, NULL, 0);
		if (r == VF_HTTP_OK && vf_http_status(h) < 500)
			break;
		if (r != VF_HTTP_OK && r != VF_HTTP_NETWORK)
			break;
	}
	return r;
}

enum vf_creds_rc vf_creds_from_imds(struct vf_aws_credentials *out,
	char *err, size_t errlen)
{
	static const char what[] = "EC2 instance metadata";
	static const char list_path[] = "/latest/meta-data/iam/security-credentials/";
	const char *disabled = getenv("AWS_EC2_METADATA_DISABLED");
	const char *endpoint = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	const char *tmo = getenv("AWS_METADATA_SERVICE_TIMEOUT");
	const char *att = getenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS");
	const char *ttl[] = { "x-aws-ec2-metadata-token-ttl-seconds: 21600" };
	const char *auth[1];
	struct vf_http_opts ho = { .max_response = MAX_ANSWER, .no_proxy = true };
	enum vf_creds_rc rc = VF_CREDS_FAILED;
	struct vf_http *h = NULL;
	const struct vf_buf *b;
	char base[512], url[700], role[80], theader[1200];
	enum vf_http_result r;
	int attempts = 1;
	double secs = 1;
	size_t n;
	long status;

	theader[0] = '\0';
	if (disabled != NULL && strcasecmp(disabled, "true") == 0) {
		snprintf(err, errlen, "%s: disabled (AWS_EC2_METADATA_DISABLED)",
			what);
		return VF_CREDS_ABSENT;
	}
	if (empty(endpoint))
		endpoint = mode != NULL && strcasecmp(mode, "ipv6") == 0 ?
			"http://[fd00:ec2::254]" : "http://169.254.169.254";
	n = strlen(endpoint);
	while (n > 0 && endpoint[n - 1] == '/')
		n--;
	if (n >= sizeof(base)) {
		snprintf(err, errlen, "%s: AWS_EC2_METADATA_SERVICE_ENDPOINT is "
			"too long", what);
		return VF_CREDS_FAILED;
	}
	memcpy(base, endpoint, n);
	base[n] = '\0';
	if (!empty(tmo)) {
		char *end;
		secs = strtod(tmo, &end);
		if (*end != '\0' || !(secs > 0 && secs <= 60))
			secs = 1;
	}
	if (!empty(att)) {
		attempts = atoi(att);
		if (attempts < 1 || attempts > 10)
			attempts = 1;
	}
	ho.connect_timeout_ms = ho.timeout_ms = (long)(secs * 1000);
	h = vf_http_create(&ho);
	if (h == NULL) {
		snprintf(err, errlen, "%s: out of memory", what);
		return VF_CREDS_FAILED;
	}

	snprintf(url, sizeof(url), "%s/latest/api/token", base);
	r = imds_request(h, "PUT", url, ttl, 1, attempts);
	if (r != VF_HTTP_OK) {
		snprintf(err, errlen, "%s: the token request failed (%s)", what,
			vf_http_error(h));
		rc = r == VF_HTTP_NETWORK ? VF_CREDS_ABSENT : VF_CREDS_FAILED;
		goto done;
	}
	status = vf_http_status(h);
	if (status == 403 || status == 404 || status == 405) {
		snprintf(err, errlen, "%s: no IMDSv2 token (HTTP %ld)", what,
			status);
		rc = VF_CREDS_ABSENT;
		goto done;
	}
	b = vf_http_body(h);
	if (status != 200) {
		snprintf(err, errlen, "%s: the token request got HTTP %ld", what,
			status);
		goto done;
	}
	n = (size_t)snprintf(theader, sizeof(theader),
		"x-aws-ec2-metadata-token: %.*s", (int)b->len,
		b->data ? b->data : "");
	if (b->len == 0 || n >= sizeof(theader) || !vf_creds_trim_token(theader) ||
	    strlen(theader) == sizeof("x-aws-ec2-metadata-token: ") - 1) {
		snprintf(err, errlen, "%s: the token is empty, too long or holds "
			"a line break", what);
		goto done;
	}
	auth[0] = theader;

	snprintf(url, sizeof(url), "%s%s", base, list_path);
	r = imds_request(h, "GET", url, auth, 1, attempts);
	if (r != VF_HTTP_OK) {
		snprintf(err, errlen, "%s: listing roles: %s", what,
			vf_http_error(h));
		goto done;
	}
	status = vf_http_status(h);
	if (status == 404) {
		snprintf(err, errlen, "%s: no IAM role attached to the instance",
			what);
		rc = VF_CREDS_ABSENT;
		goto done;
	}
	if (status != 200) {
		snprintf(err, errlen, "%s: listing roles got HTTP %ld", what,
			status);
		goto done;
	}
	b = vf_http_body(h);
	n = 0;
	while (n < b->len && b->data[n] != '\n' && b->data[n] != '\r')
		n++;
	if (!role_name_ok(b->data, n)) {
		snprintf(err, errlen, "%s: the role list does not start with a "
			"role name", what);
		goto done;
	}
	memcpy(role, b->data, n);
	role[n] = '\0';

	snprintf(url, sizeof(url), "%s%s%s", base, list_path, role);
	r = imds_request(h, "GET", url, auth, 1, attempts);
	if (r != VF_HTTP_OK) {
		snprintf(err, errlen, "%s: role %s: %s", what, role,
			vf_http_error(h));
		goto done;
	}
	status = vf_http_status(h);
	if (status != 200) {
		snprintf(err, errlen, "%s: role %s: HTTP %ld", what, role, status);
		goto done;
	}
	rc = creds_from_json(vf_http_body(h), true, what, out, err, errlen);
done:
	OPENSSL_cleanse(theader, sizeof(theader));
	vf_http_destroy(h);
	return rc;
}
