/*
 * TLS client side of gelf_tcp (OpenSSL).
 */
#ifndef VPCFLOWD_OUTPUT_TLS_H
#define VPCFLOWD_OUTPUT_TLS_H

#include <stddef.h>

#include "output_internal.h"

struct ssl_st;

/*
 * Handshake on the connected, non-blocking socket fd, checking that the
 * certificate names host (a name or an address) when the context
 * verifies. The whole handshake takes at most timeout_ms, less if *stop
 * (may be NULL) is set. NULL with the reason in err.
 */
struct ssl_st *vf_tls_connect(struct ssl_ctx_st *ctx, int fd, const char *host,
	int timeout_ms, const atomic_int *stop, char *err, size_t errlen);

/* OpenSSL's first queued error after what; empties the queue. */
void vf_tls_error(char *err, size_t errlen, const char *what);

#endif
