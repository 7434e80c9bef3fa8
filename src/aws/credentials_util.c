/*
 * Small helpers the credential sources share: the clock, filling and
 * checking credentials, ISO 8601 times, reading small files that may hold
 * secrets, and error text that never quotes one.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credentials_internal.h"
#include "vpcflowd/timefmt.h"

static int64_t (*test_clock)(void);

int64_t vf_creds_now(void)
{
	return test_clock != NULL ? test_clock() : (int64_t)time(NULL);
}

void vf_creds_test_set_clock(int64_t (*now)(void))
{
	test_clock = now;
}

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* Printable ASCII without spaces: safe in a header, as AWS issues them. */
static bool clean_value(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

bool vf_creds_fill(struct vf_aws_credentials *out, const char *id,
	const char *secret, const char *token, int64_t expiration,
	const char *what, char *err, size_t errlen)
{
	if (token == NULL)
		token = "";
	if (empty(id) || empty(secret)) {
		snprintf(err, errlen, "%s: an empty access key id or secret key",
			what);
		return false;
	}
	if (strlen(id) >= sizeof(out->access_key_id) ||
	    strlen(secret) >= sizeof(out->secret_access_key) ||
	    strlen(token) >= sizeof(out->session_token)) {
		snprintf(err, errlen, "%s: a key or session token is too long "
			"(limits %zu, %zu and %zu bytes)", what,
			sizeof(out->access_key_id) - 1,
			sizeof(out->secret_access_key) - 1,
			sizeof(out->session_token) - 1);
		return false;
	}
	if (!clean_value(id) || !clean_value(secret) || !clean_value(token)) {
		snprintf(err, errlen, "%s: a key or session token holds spaces "
			"or control characters", what);
		return false;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->access_key_id, id, strlen(id));
	memcpy(out->secret_access_key, secret, strlen(secret));
	memcpy(out->session_token, token, strlen(token));
	out->expiration = expiration;
	return true;
}

bool vf_creds_parse_time(const char *s, int64_t *out)
{
	int64_t ms;

	/* credential sources may leave out the zone: they mean UTC */
	if (!vf_parse_rfc3339_utc(s, &ms))
		return false;
	*out = ms / 1000;
	return true;
}

char *vf_creds_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	char *buf = NULL, *bigger;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			if (cap > max) {
				errno = EFBIG;
				goto fail;
			}
			if (ncap > max + 1)
				ncap = max + 1;
			/* no realloc: the old copy is wiped, it may hold keys */
			bigger = malloc(ncap + 1);
			if (bigger == NULL)
				goto fail;
			if (n > 0)
				memcpy(bigger, buf, n);
			if (buf != NULL) {
				OPENSSL_cleanse(buf, cap);
				free(buf);
			}
			buf = bigger;
			cap = ncap;
		}
		errno = 0;
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > max) {
			errno = EFBIG;
			goto fail;
		}
		if (got == 0) {
			if (ferror(f)) {
				if (errno == 0)
					errno = EIO;
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
fail:
	{
		int e = errno;
		if (buf != NULL) {
			OPENSSL_cleanse(buf, cap);
			free(buf);
		}
		fclose(f);
		errno = e;
	}
	return NULL;
}

char *vf_creds_expand_home(const char *path)
{
	const char *home = getenv("HOME");
	char *out;
	size_t hl, pl;

	if (path[0] != '~' || (path[1] != '/' && path[1] != '\0') ||
	    empty(home))
		return strdup(path);
	hl = strlen(home);
	pl = strlen(path + 1);
	out = malloc(hl + pl + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, home, hl);
	memcpy(out + hl, path + 1, pl + 1);
	return out;
}

void vf_creds_printable(const char *s, size_t max, char *out, size_t outlen)
{
	size_t o = 0, i;

	if (outlen == 0)
		return;
	if (s == NULL)
		s = "";
	for (i = 0; s[i] != '\0' && i < max && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (s[i] != '\0' && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

void vf_creds_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void vf_creds_free_secret(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void vf_creds_scrub(const char *s, const char *const *secrets, size_t n,
	char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	if (outlen == 0)
		return;
	while (s != NULL && s[i] != '\0' && o < VF_CREDS_SHOWN &&
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

bool vf_creds_trim_token(char *t)
{
	size_t n = strlen(t);

	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' ||
	       t[n - 1] == ' ' || t[n - 1] == '\t'))
		t[--n] = '\0';
	return strpbrk(t, "\r\n") == NULL;
}
