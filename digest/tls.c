/*
 * tls — SNI and certificate verification for libetpan streams, with
 * GnuTLS.  See tls.h and docs/libraries.md §3.4.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <stdlib.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

/* The trust list: tls_ca_file alone, or the system CAs. */
static status_t trust_load(const char *ca_file, gnutls_x509_trust_list_t *out,
			   err_t *err)
{
	status_t st = ST_OK;
	gnutls_x509_trust_list_t tl = NULL;
	int r;

	*out = NULL;
	r = gnutls_x509_trust_list_init(&tl, 0);
	if (r < 0) {
		st = err_set(err, ST_SOFTWARE, "TLS: trust list: %s",
			     gnutls_strerror(r));
		tl = NULL;
		goto done;
	}
	if (ca_file != NULL) {
		r = gnutls_x509_trust_list_add_trust_file(
			tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
		if (r <= 0) {
			st = err_set(
				err, ST_CONFIG,
				"tls_ca_file %s: no CA certificate loaded%s%s",
				ca_file, r < 0 ? ": " : "",
				r < 0 ? gnutls_strerror(r) : "");
			goto done;
		}
	} else {
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
		if (r <= 0) {
			st = err_set(err, ST_TEMPFAIL,
				     "TLS: no system CA certificates (is "
				     "ca-certificates installed?)");
			goto done;
		}
	}
	*out = tl;
	tl = NULL;
done:
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	return st;
}

status_t tls_verify(struct _mailstream *stream, const char *host,
		    const char *ca_file, const char *where, err_t *err)
{
	gnutls_x509_trust_list_t tl = NULL;
	status_t st = ST_TEMPFAIL;
	carray *chain = NULL;
	gnutls_x509_crt_t *crts = NULL;
	unsigned int n = 0, count, vstatus = 0;
	gnutls_datum_t out = {NULL, 0};
	gnutls_typed_vdata_st vd = {GNUTLS_DT_DNS_HOSTNAME,
				    (unsigned char *)host, 0};
	int r;

	if ((st = trust_load(ca_file, &tl, err)))
		return st;
	st = ST_TEMPFAIL;
	if (stream != NULL)
		chain = mailstream_get_certificate_chain(stream);
	if (chain == NULL || carray_count(chain) == 0) {
		err_set(err, st, "%s: TLS: the server sent no certificate",
			where);
		goto done;
	}
	count = carray_count(chain);
	crts = xcalloc(count, sizeof *crts);
	for (unsigned int i = 0; i < count; i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = {(unsigned char *)der->str,
				    (unsigned int)der->len};

		if (gnutls_x509_crt_init(&crts[n]) < 0) {
			err_set(err, st, "%s: TLS: out of memory", where);
			goto done;
		}
		n++;
		r = gnutls_x509_crt_import(crts[i], &d, GNUTLS_X509_FMT_DER);
		if (r < 0) {
			err_set(err, st, "%s: TLS: bad server certificate: %s",
				where, gnutls_strerror(r));
			goto done;
		}
	}
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, n, &vd, 1, 0, &vstatus,
					       NULL);
	if (r < 0) {
		err_set(err, st, "%s: TLS: certificate check failed: %s", where,
			gnutls_strerror(r));
		goto done;
	}
	if (vstatus != 0) {
		if (gnutls_certificate_verification_status_print(
			    vstatus, GNUTLS_CRT_X509, &out, 0) < 0)
			out.data = NULL;
		while (out.data != NULL && out.size > 0 &&
		       out.data[out.size - 1] == ' ')
			out.data[--out.size] = '\0';
		err_set(err, st, "%s: TLS: certificate not accepted for %s: %s",
			where, host,
			out.data != NULL ? (const char *)out.data : "rejected");
		goto done;
	}
	st = ST_OK;
done:
	gnutls_free(out.data);
	for (unsigned int i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	gnutls_x509_trust_list_deinit(tl, 1);
	return st;
}

/* SNI for host names (not for address literals, RFC 6066 §3). */
void tls_sni_cb(struct mailstream_ssl_context *ctx, void *data)
{
	const char *host = data;
	unsigned char addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		return;
	mailstream_ssl_set_server_name(ctx, (char *)host);
}
