/*
 * STS for the credential chain: AssumeRole (signed with the source
 * credentials) and AssumeRoleWithWebIdentity (unsigned), Query protocol
 * POSTs whose XML answers are read with expat. A DOCTYPE is refused, every
 * value is capped, and a server message quoted in an error has the
 * request's secrets blotted out.
 */
#include <errno.h>
#include <expat.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials_internal.h"

#define MAX_ANSWER (64u << 10)
#define MAX_TOKEN_FILE (64u << 10)

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
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
			vf_creds_sleep_ms(250);
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
		char c[VF_CREDS_SHOWN + 8], m[VF_CREDS_SHOWN + 8];
		c[0] = m[0] = '\0';
		if (parsed) {
			vf_creds_scrub(xml_value(&x, F_CODE), secrets, nsecrets, c,
				sizeof(c));
			vf_creds_scrub(xml_value(&x, F_MESSAGE), secrets, nsecrets, m,
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
	if (!vf_aws_form_add(&form, "Action", "AssumeRole") ||
	    !vf_aws_form_add(&form, "Version", "2011-06-15") ||
	    !vf_aws_form_add(&form, "RoleArn", role_arn) ||
	    !vf_aws_form_add(&form, "RoleSessionName", name) ||
	    (!empty(external_id) && !vf_aws_form_add(&form, "ExternalId", external_id)) ||
	    !vf_aws_form_add(&form, "DurationSeconds", dur)) {
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
	if (!vf_creds_trim_token(token) || token[0] == '\0') {
		snprintf(err, errlen, "%s: the token file %s is empty or holds "
			"more than one line", what, token_file);
		goto done;
	}
	secrets[0] = token;
	session_name(session, name, sizeof(name));
	if (!vf_aws_form_add(&form, "Action", "AssumeRoleWithWebIdentity") ||
	    !vf_aws_form_add(&form, "Version", "2011-06-15") ||
	    !vf_aws_form_add(&form, "RoleArn", role_arn) ||
	    !vf_aws_form_add(&form, "RoleSessionName", name) ||
	    !vf_aws_form_add(&form, "WebIdentityToken", token) ||
	    !vf_aws_form_add(&form, "DurationSeconds", "3600")) {
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
	vf_creds_free_secret(token);
	return rc;
}
