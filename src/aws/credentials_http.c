/*
 * The credential sources that answer over HTTP: the container endpoint
 * (ECS, EKS Pod Identity), EC2 instance metadata (IMDSv2) and STS
 * (AssumeRole, signed; AssumeRoleWithWebIdentity, unsigned).
 *
 * Errors name the source and may quote an error code or message the
 * server sent, with anything equal to a key, secret or token the request
 * or response carried blotted out; never a value of ours.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <expat.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "credentials_internal.h"

#define MAX_ANSWER (64u << 10)
#define MAX_TOKEN_FILE (64u << 10)
#define SHOWN_MESSAGE 300

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

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void wipe_free(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/*
 * Copies a server's text for an error: printable ASCII, at most
 * SHOWN_MESSAGE bytes, every occurrence of one of the n secrets (NULL or
 * short entries skipped) replaced by "***".
 */
static void scrubbed(const char *s, const char *const *secrets, size_t n,
	char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	if (outlen == 0)
		return;
	while (s != NULL && s[i] != '\0' && o < SHOWN_MESSAGE &&
	       o + 4 < outlen) {
		size_t hit = 0;
		for (size_t k = 0; k < n; k++) {
			size_t kl = secrets[k] != NULL ? strlen(secrets[k]) : 0;
			if (kl >= 4 && strncmp(s + i, secrets[k], kl) == 0) {
				hit = kl;
				break;
			}
		}
		if (hit > 0) {
			memcpy(out + o, "***", 3);
			o += 3;
			i += hit;
			continue;
		}
		out[o++] = (unsigned char)s[i] >= 0x20 &&
			(unsigned char)s[i] < 0x7f ? s[i] : '?';
		i++;
	}
	out[o] = '\0';
	if (s != NULL && s[i] != '\0' && o + 4 <= outlen)
		memcpy(out + o, "...", 4);
}

/* Trailing blanks and line ends off; false when one is left inside. */
static bool trim_token(char *t)
{
	size_t n = strlen(t);

	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' ||
	       t[n - 1] == ' ' || t[n - 1] == '\t'))
		t[--n] = '\0';
	return strpbrk(t, "\r\n") == NULL;
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
		char c[SHOWN_MESSAGE + 8], m[SHOWN_MESSAGE + 8];
		scrubbed(code, secrets, 3, c, sizeof(c));
		scrubbed(jstr(doc, "Message"), secrets, 3, m, sizeof(m));
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
	if (!trim_token(token)) {
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
	wipe_free(token);
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
		.timeout_ms = 2000, .max_response = MAX_ANSWER };
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
			pause_ms(pause);
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
	wipe_free(auth);
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
	struct vf_http_opts ho = { .max_response = MAX_ANSWER };
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
	if (b->len == 0 || n >= sizeof(theader) || !trim_token(theader) ||
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

/* ---- STS ---- */

static bool form_add(struct vf_buf *b, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t vl = strlen(value);

	if (vl > (b->max / 3) || !vf_buf_reserve(b, strlen(key) + 2 + vl * 3))
		return false;
	if (b->len > 0)
		vf_buf_putc(b, '&');
	vf_buf_put(b, key, strlen(key));
	vf_buf_putc(b, '=');
	for (size_t i = 0; i < vl; i++) {
		unsigned char c = (unsigned char)value[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == '~') {
			vf_buf_putc(b, (char)c);
		} else {
			vf_buf_putc(b, '%');
			vf_buf_putc(b, hex[c >> 4]);
			vf_buf_putc(b, hex[c & 15]);
		}
	}
	return true;
}

enum xml_field { F_NONE, F_ID, F_SECRET, F_TOKEN, F_EXP, F_CODE, F_MESSAGE,
	F_COUNT };

struct sts_xml {
	XML_Parser parser;
	const char *root;          /* "AssumeRoleResponse" */
	const char *result;        /* "AssumeRoleResult" */
	int depth;
	char stack[4][48];         /* the names of the first 4 levels */
	enum xml_field field;      /* what the text in hand goes to */
	struct vf_buf f[F_COUNT];
	bool bad;                  /* a DOCTYPE, or a value too long */
};

static const char *local_name(const char *name)
{
	const char *colon = strrchr(name, ':');

	return colon != NULL ? colon + 1 : name;
}

static bool at(const struct sts_xml *x, int level, const char *name)
{
	return strcmp(x->stack[level], name) == 0;
}

static void XMLCALL xml_start(void *ud, const XML_Char *name,
	const XML_Char **attrs)
{
	struct sts_xml *x = ud;
	const char *ln = local_name(name);

	(void)attrs;
	x->depth++;
	x->field = F_NONE;
	if (x->depth <= 4)
		snprintf(x->stack[x->depth - 1], sizeof(x->stack[0]), "%s", ln);
	if (x->depth == 4 && at(x, 0, x->root) && at(x, 1, x->result) &&
	    at(x, 2, "Credentials")) {
		if (strcmp(ln, "AccessKeyId") == 0)
			x->field = F_ID;
		else if (strcmp(ln, "SecretAccessKey") == 0)
			x->field = F_SECRET;
		else if (strcmp(ln, "SessionToken") == 0)
			x->field = F_TOKEN;
		else if (strcmp(ln, "Expiration") == 0)
			x->field = F_EXP;
	} else if (x->depth == 3 && at(x, 0, "ErrorResponse") &&
		   at(x, 1, "Error")) {
		if (strcmp(ln, "Code") == 0)
			x->field = F_CODE;
		else if (strcmp(ln, "Message") == 0)
			x->field = F_MESSAGE;
	}
	if (x->field != F_NONE)
		vf_buf_reset(&x->f[x->field]);
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
	struct sts_xml *x = ud;

	(void)name;
	x->field = F_NONE;
	x->depth--;
}

static void XMLCALL xml_text(void *ud, const XML_Char *s, int len)
{
	struct sts_xml *x = ud;

	/* the buffers hold one byte more than a value may: the NUL */
	if (x->field != F_NONE && len > 0 &&
	    (x->f[x->field].len + (size_t)len >= x->f[x->field].max ||
	     !vf_buf_append(&x->f[x->field], s, (size_t)len))) {
		x->bad = true;
		XML_StopParser(x->parser, XML_FALSE);
	}
}

static void XMLCALL xml_doctype(void *ud, const XML_Char *name,
	const XML_Char *sysid, const XML_Char *pubid, int has_internal)
{
	struct sts_xml *x = ud;

	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	x->bad = true;
	XML_StopParser(x->parser, XML_FALSE);
}

/* The text of field f, NUL-terminated ("" when none or out of memory). */
static const char *xml_value(struct sts_xml *x, enum xml_field f)
{
	if (!vf_buf_append(&x->f[f], "", 1))
		return "";
	x->f[f].len--;
	return x->f[f].data;
}

static bool xml_parse(struct sts_xml *x, const struct vf_buf *body)
{
	static const size_t caps[F_COUNT] = { 0, 256, 256, 8192, 64, 256, 8192 };
	bool ok;

	for (int i = 0; i < F_COUNT; i++)
		vf_buf_init(&x->f[i], caps[i] + 1);
	x->parser = XML_ParserCreate("UTF-8");
	if (x->parser == NULL)
		return false;
	XML_SetUserData(x->parser, x);
	XML_SetElementHandler(x->parser, xml_start, xml_end);
	XML_SetCharacterDataHandler(x->parser, xml_text);
	XML_SetStartDoctypeDeclHandler(x->parser, xml_doctype);
	ok = body->len <= (size_t)0x7fffffff && XML_Parse(x->parser,
		body->data ? body->data : "", (int)body->len, XML_TRUE) ==
		XML_STATUS_OK && !x->bad;
	XML_ParserFree(x->parser);
	x->parser = NULL;
	return ok;
}

static void xml_free(struct sts_xml *x)
{
	for (int i = 0; i < F_COUNT; i++) {
		if (x->f[i].data != NULL)
			OPENSSL_cleanse(x->f[i].data, x->f[i].cap);
		vf_buf_finish(&x->f[i]);
	}
}

/*
 * POSTs form to STS (signed with src, unsigned when NULL) and takes the
 * credentials out of <root><result><Credentials>. secrets: the nsecrets
 * values to blot out of a server message.
 */
static enum vf_creds_rc sts_call(const struct vf_creds_sts *sts,
	const struct vf_aws_credentials *src, const struct vf_buf *form,
	const char *root, const char *result, const char *const *secrets,
	size_t nsecrets, const char *what, struct vf_aws_credentials *out,
	char *err, size_t errlen)
{
	struct vf_http_opts ho = { .connect_timeout_ms = 5000,
		.timeout_ms = 15000, .max_response = MAX_ANSWER };
	struct vf_aws_call call = {
		.url = sts->url, .region = sts->region, .service = "sts",
		.content_type = "application/x-www-form-urlencoded; charset=utf-8",
		.body = form->data, .len = form->len,
	};
	struct sts_xml x = { .root = root, .result = result };
	enum vf_creds_rc rc = VF_CREDS_FAILED;
	enum vf_http_result r = VF_HTTP_ERROR;
	struct vf_http *h;
	const char *exp;
	int64_t expiration;
	long status = 0;
	bool parsed;

	h = vf_http_create(&ho);
	if (h == NULL) {
		snprintf(err, errlen, "%s: out of memory", what);
		return VF_CREDS_FAILED;
	}
	/* a second attempt after a network error or a 5xx */
	for (int i = 0; i < 2; i++) {
		if (i > 0)
			pause_ms(250);
		r = vf_aws_post(h, &call, src);
		if (r != VF_HTTP_OK && r != VF_HTTP_NETWORK)
			break;
		status = r == VF_HTTP_OK ? vf_http_status(h) : 0;
		if (r == VF_HTTP_OK && status < 500)
			break;
	}
	if (r != VF_HTTP_OK) {
		const char *e = vf_http_error(h);
		snprintf(err, errlen, "%s: %s", what, e && e[0] ? e :
			"the request could not be made");
		goto done;
	}
	parsed = xml_parse(&x, vf_http_body(h));
	if (status != 200) {
		char c[SHOWN_MESSAGE + 8], m[SHOWN_MESSAGE + 8];
		c[0] = m[0] = '\0';
		if (parsed) {
			scrubbed(xml_value(&x, F_CODE), secrets, nsecrets, c,
				sizeof(c));
			scrubbed(xml_value(&x, F_MESSAGE), secrets, nsecrets, m,
				sizeof(m));
		}
		snprintf(err, errlen, "%s: HTTP %ld%s%s%s%s", what, status,
			c[0] ? " " : "", c, m[0] ? ": " : "", m);
		goto done;
	}
	if (!parsed) {
		snprintf(err, errlen, "%s: the answer is not the XML expected",
			what);
		goto done;
	}
	exp = xml_value(&x, F_EXP);
	if (x.f[F_ID].len == 0 || x.f[F_SECRET].len == 0 || exp[0] == '\0') {
		snprintf(err, errlen, "%s: the answer has no Credentials", what);
		goto done;
	}
	if (!vf_creds_parse_time(exp, &expiration)) {
		snprintf(err, errlen, "%s: Expiration is not an ISO 8601 time",
			what);
		goto done;
	}
	if (vf_creds_fill(out, xml_value(&x, F_ID), xml_value(&x, F_SECRET),
	    xml_value(&x, F_TOKEN), expiration, what, err, errlen))
		rc = VF_CREDS_FOUND;
done:
	xml_free(&x);
	vf_http_destroy(h);
	return rc;
}

static void session_name(const char *given, char *out, size_t outlen)
{
	if (!empty(given))
		snprintf(out, outlen, "%s", given);
	else
		snprintf(out, outlen, "vpcflowd-%lld", (long long)vf_creds_now());
}

enum vf_creds_rc vf_creds_assume_role(const struct vf_creds_sts *sts,
	const struct vf_aws_credentials *src, const char *role_arn,
	const char *external_id, const char *session, int duration,
	const char *what, struct vf_aws_credentials *out, char *err,
	size_t errlen)
{
	const char *secrets[] = { src->access_key_id, src->secret_access_key,
		src->session_token, external_id };
	struct vf_buf form;
	char name[80], dur[16];
	enum vf_creds_rc rc;

	session_name(session, name, sizeof(name));
	snprintf(dur, sizeof(dur), "%d", duration);
	vf_buf_init(&form, 16 << 10);
	if (!form_add(&form, "Action", "AssumeRole") ||
	    !form_add(&form, "Version", "2011-06-15") ||
	    !form_add(&form, "RoleArn", role_arn) ||
	    !form_add(&form, "RoleSessionName", name) ||
	    (!empty(external_id) && !form_add(&form, "ExternalId", external_id)) ||
	    !form_add(&form, "DurationSeconds", dur)) {
		snprintf(err, errlen, "%s: the request is too large", what);
		rc = VF_CREDS_FAILED;
	} else {
		rc = sts_call(sts, src, &form, "AssumeRoleResponse",
			"AssumeRoleResult", secrets, 4, what, out, err, errlen);
	}
	if (form.data != NULL)
		OPENSSL_cleanse(form.data, form.cap);
	vf_buf_finish(&form);
	return rc;
}

enum vf_creds_rc vf_creds_web_identity(const struct vf_creds_sts *sts,
	const char *token_file, const char *role_arn, const char *session,
	const char *what, struct vf_aws_credentials *out, char *err,
	size_t errlen)
{
	const char *secrets[1] = { NULL };
	struct vf_buf form;
	char name[80];
	char *token;
	enum vf_creds_rc rc = VF_CREDS_FAILED;

	vf_buf_init(&form, 128 << 10);
	token = vf_creds_read_file(token_file, MAX_TOKEN_FILE, NULL);
	if (token == NULL) {
		snprintf(err, errlen, "%s: cannot read the token file %s: %s",
			what, token_file, errno == EFBIG ? "too large" :
			strerror(errno));
		goto done;
	}
	if (!trim_token(token) || token[0] == '\0') {
		snprintf(err, errlen, "%s: the token file %s is empty or holds "
			"more than one line", what, token_file);
		goto done;
	}
	secrets[0] = token;
	session_name(session, name, sizeof(name));
	if (!form_add(&form, "Action", "AssumeRoleWithWebIdentity") ||
	    !form_add(&form, "Version", "2011-06-15") ||
	    !form_add(&form, "RoleArn", role_arn) ||
	    !form_add(&form, "RoleSessionName", name) ||
	    !form_add(&form, "WebIdentityToken", token) ||
	    !form_add(&form, "DurationSeconds", "3600")) {
		snprintf(err, errlen, "%s: the request is too large", what);
		goto done;
	}
	rc = sts_call(sts, NULL, &form, "AssumeRoleWithWebIdentityResponse",
		"AssumeRoleWithWebIdentityResult", secrets, 1, what, out, err,
		errlen);
done:
	if (form.data != NULL)
		OPENSSL_cleanse(form.data, form.cap);
	vf_buf_finish(&form);
	wipe_free(token);
	return rc;
}
