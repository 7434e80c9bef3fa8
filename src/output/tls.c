/*
 * TLS for gelf_tcp: the client context made once from output.tls, and the
 * handshake of each connection, with the server's name or address checked
 * against its certificate whenever verification is on.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "vpcflowd/clock.h"
#include "vpcflowd/log.h"

/* The first error of OpenSSL's queue, as text; the queue is emptied. */
void vf_tls_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e == 0)
		snprintf(buf, sizeof(buf), "unknown error");
	else
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "%s: %s", what, buf);
}

struct ssl_ctx_st *vf_tls_client_ctx(const struct vf_config_tls *tc)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char err[512];

	if (ctx == NULL) {
		vf_tls_error(err, sizeof(err), "output.tls");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (tc->verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (tc->ca_file != NULL ?
		    SSL_CTX_load_verify_locations(ctx, tc->ca_file, NULL) != 1 :
		    SSL_CTX_set_default_verify_paths(ctx) != 1) {
			vf_tls_error(err, sizeof(err), tc->ca_file ?
				tc->ca_file : "the system's CA certificates");
			goto fail;
		}
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		log_warnx("output.tls.verify is false: the server's certificate "
			"and name are not checked");
	}
	if (tc->cert_file != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, tc->cert_file) != 1) {
			vf_tls_error(err, sizeof(err), tc->cert_file);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, tc->key_file ?
		    tc->key_file : tc->cert_file, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			vf_tls_error(err, sizeof(err), tc->key_file ?
				tc->key_file : tc->cert_file);
			goto fail;
		}
	}
	return ctx;
fail:
	log_errorx("output.tls: %s", err);
	SSL_CTX_free(ctx);
	return NULL;
}

static bool is_ip(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
		inet_pton(AF_INET6, host, a) == 1;
}

struct ssl_st *vf_tls_connect(struct ssl_ctx_st *ctx, int fd, const char *host,
	int timeout_ms, const atomic_int *stop, char *err, size_t errlen)
{
	SSL *ssl = SSL_new(ctx);
	uint64_t end;

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		vf_tls_error(err, errlen, "TLS");
		goto fail;
	}
	/* what the certificate must name: the address, or the host name */
	if (is_ip(host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1) {
			vf_tls_error(err, errlen, "TLS");
			goto fail;
		}
	} else if (SSL_set1_host(ssl, host) != 1 ||
		   SSL_set_tlsext_host_name(ssl, host) != 1) {
		vf_tls_error(err, errlen, "TLS");
		goto fail;
	}
	end = vf_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		int r = SSL_connect(ssl), e;
		struct pollfd p = { .fd = fd };
		uint64_t now;

		if (r == 1)
			return ssl;
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			p.events = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else {
			long v = SSL_get_verify_result(ssl);

			if (v != X509_V_OK)
				snprintf(err, errlen, "TLS handshake: certificate "
					"refused: %s", X509_verify_cert_error_string(v));
			else
				vf_tls_error(err, errlen, "TLS handshake");
			goto fail;
		}
		/* the whole handshake within timeout_ms; a stop cuts it short */
		now = vf_now_ms();
		if (now >= end || (stop != NULL && atomic_load(stop))) {
			snprintf(err, errlen, "TLS handshake: timed out");
			goto fail;
		}
		if (poll(&p, 1, end - now > 100 ? 100 : (int)(end - now)) < 0 &&
		    errno != EINTR) {
			snprintf(err, errlen, "TLS handshake: %s", strerror(errno));
			goto fail;
		}
	}
fail:
	ERR_clear_error();
	SSL_free(ssl);
	return NULL;
}
