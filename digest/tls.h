/*
 * tls — what libetpan's GnuTLS build leaves undone (docs/libraries.md
 * §3.4): SNI, and verifying the server's certificate chain and host name
 * against the system CAs or a given CA file.  Used by the two modules
 * that speak to mail servers through libetpan (mailsrc's IMAP backend
 * and send); GnuTLS types stay in tls.c.  The verification runs after
 * the handshake and before any credential is sent.
 */
#ifndef DIGEST_TLS_H
#define DIGEST_TLS_H

#include "util.h"

struct _mailstream;
struct mailstream_ssl_context;

/* A libetpan connect callback (data: the host name) that asks for SNI
 * when host is a name, not an address literal (RFC 6066 §3). */
void tls_sni_cb(struct mailstream_ssl_context *ctx, void *data);

/*
 * Verify the chain the server sent on stream for host: against the CAs
 * in ca_file (PEM) when it is not NULL, else the system's.  ST_OK only
 * when the chain is complete, trusted and names host; otherwise
 * ST_TEMPFAIL ("WHERE: TLS: certificate not accepted for HOST: why"), or
 * ST_CONFIG when ca_file holds no certificate.
 */
status_t tls_verify(struct _mailstream *stream, const char *host,
		    const char *ca_file, const char *where, err_t *err);

#endif
