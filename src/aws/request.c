/*
 * Signed AWS requests: the headers SigV4 needs, the signature, the POST.
 */
#include "vpcflowd/aws.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vpcflowd/sigv4.h"

/* The path and query of url, as the request line will carry them. */
static bool url_parts(const char *url, char *path, size_t plen, char *query,
	size_t qlen)
{
	CURLU *u = curl_url();
	char *p = NULL, *q = NULL;
	bool ok = false;

	if (u == NULL)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &p, 0) != CURLUE_OK)
		goto done;
	if (curl_url_get(u, CURLUPART_QUERY, &q, 0) != CURLUE_OK)
		q = NULL;
	ok = (size_t)snprintf(path, plen, "%s", p) < plen &&
		(size_t)snprintf(query, qlen, "%s", q ? q : "") < qlen;
done:
	curl_free(p);
	curl_free(q);
	curl_url_cleanup(u);
	return ok;
}

enum vf_http_result vf_aws_post(struct vf_http *h, const struct vf_aws_call *call,
	const struct vf_aws_credentials *creds)
{
	char host[300], path[1024], query[2048], date[VF_SIGV4_AMZ_DATE_LEN + 1];
	char h_type[160], h_date[40], h_target[160], h_token[4200], h_auth[600];
	const char *lines[6];
	struct vf_sigv4_header sh[5];
	size_t nl = 0, ns = 0;
	struct vf_buf authz;
	enum vf_http_result r;

	vf_sigv4_amz_date(time(NULL), date);
	snprintf(h_type, sizeof(h_type), "Content-Type: %s", call->content_type);
	snprintf(h_date, sizeof(h_date), "X-Amz-Date: %s", date);
	lines[nl++] = h_type;
	lines[nl++] = h_date;
	if (call->target != NULL) {
		snprintf(h_target, sizeof(h_target), "X-Amz-Target: %s",
			call->target);
		lines[nl++] = h_target;
	}
	if (creds == NULL)
		return vf_http_request(h, "POST", call->url, lines, nl,
			call->body, call->len);

	if (!vf_http_host_of(call->url, host, sizeof(host)) ||
	    !url_parts(call->url, path, sizeof(path), query, sizeof(query)))
		return VF_HTTP_ERROR;
	sh[ns++] = (struct vf_sigv4_header){ "host", host };
	sh[ns++] = (struct vf_sigv4_header){ "content-type", call->content_type };
	sh[ns++] = (struct vf_sigv4_header){ "x-amz-date", date };
	if (call->target != NULL)
		sh[ns++] = (struct vf_sigv4_header){ "x-amz-target", call->target };
	if (creds->session_token[0] != '\0') {
		sh[ns++] = (struct vf_sigv4_header){ "x-amz-security-token",
			creds->session_token };
		snprintf(h_token, sizeof(h_token), "X-Amz-Security-Token: %s",
			creds->session_token);
		lines[nl++] = h_token;
	}
	struct vf_sigv4_request req = {
		.method = "POST", .path = path, .query = query,
		.headers = sh, .n_headers = ns,
		.payload = call->body, .payload_len = call->len,
	};
	struct vf_sigv4_key key = { creds->access_key_id,
		creds->secret_access_key };
	vf_buf_init(&authz, 1024);
	if (!vf_sigv4_sign(&req, &key, call->region, call->service, date,
	    &authz, NULL, NULL)) {
		vf_buf_finish(&authz);
		return VF_HTTP_ERROR;
	}
	snprintf(h_auth, sizeof(h_auth), "Authorization: %.*s", (int)authz.len,
		authz.data);
	vf_buf_finish(&authz);
	lines[nl++] = h_auth;
	r = vf_http_request(h, "POST", call->url, lines, nl, call->body,
		call->len);
	explicit_bzero(h_token, sizeof(h_token));
	return r;
}

static void clean_code(const char *code, size_t n, char *out, size_t outlen)
{
	const char *hash = memchr(code, '#', n), *colon;

	if (hash != NULL) {
		n -= (size_t)(hash + 1 - code);
		code = hash + 1;
	}
	colon = memchr(code, ':', n);
	if (colon != NULL)
		n = (size_t)(colon - code);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, code, n);
	out[n] = '\0';
}

void vf_aws_error_code(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *doc, *v;
	const char *p;

	out[0] = '\0';
	if (body == NULL || len == 0 || outlen == 0)
		return;
	/* XML answers (STS, EC2): the first <Code> element */
	p = memmem(body, len, "<Code>", 6);
	if (p != NULL) {
		const char *start = p + 6;
		const char *end = memmem(start, len - (size_t)(start - body),
			"</Code>", 7);
		if (end != NULL)
			clean_code(start, (size_t)(end - start), out, outlen);
		return;
	}
	doc = json_loadb(body, len, 0, NULL);
	if (doc == NULL)
		return;
	v = json_object_get(doc, "__type");
	if (!json_is_string(v))
		v = json_object_get(doc, "code");
	if (!json_is_string(v))
		v = json_object_get(doc, "Code");
	if (json_is_string(v))
		clean_code(json_string_value(v), json_string_length(v), out,
			outlen);
	json_decref(doc);
}

void vf_aws_endpoint(const char *service, const char *region, char *out,
	size_t outlen)
{
	snprintf(out, outlen, "https://%s.%s.amazonaws.com/", service,
		region && region[0] ? region : "us-east-1");
}

bool vf_aws_form_add(struct vf_buf *b, const char *key, const char *value)
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
