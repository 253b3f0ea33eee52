/*
 * http — one https GET, for calendars published at a URL (DESIGN §4):
 * the certificate verified (the system CAs, or tls_ca_file alone),
 * https only (webcal:// is read as https://), at most HTTP_MAX_REDIRECTS
 * redirects and never to anything but https, the body bounded, every
 * step under a timeout, and a conditional GET with the validators
 * (ETag, Last-Modified) of the last fetch.
 *
 * libcurl is used here and nowhere else; its types never leave this
 * module.  Nothing prints: errors are status codes with a message that
 * names the URL only as http_redact gives it, since a published
 * calendar's "secret address" carries its secret in the path.
 *
 * The header parser (http_header_field, http_headers_feed) is pure and
 * exported for the tests and the fuzz target.
 */
#ifndef DIGEST_HTTP_H
#define DIGEST_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define HTTP_MAX_REDIRECTS 5
#define HTTP_MAX_SIZE      (50u * 1024 * 1024) /* bytes, after decoding */
#define HTTP_TIMEOUT       300                 /* seconds, the whole GET */
#define HTTP_STEP_TIMEOUT                                                      \
	30 /* seconds to connect (TCP and TLS), and                            \
	    * without a byte received: stalled */

typedef struct {
	const char *ca_file; /* PEM file of the CAs trusted, alone;
			      * NULL: the system's */
	const char *etag;    /* validators of the last fetch, or NULL */
	const char *last_modified;
	size_t max_size;   /* 0: HTTP_MAX_SIZE */
	long timeout;      /* seconds in all; 0: HTTP_TIMEOUT */
	long step_timeout; /* seconds; 0: HTTP_STEP_TIMEOUT */
} http_request_t;

typedef struct {
	int code;   /* 200 (any 2xx) or 304 */
	char *body; /* 200 only: NUL-terminated, len bytes */
	size_t len;
	char *etag;          /* the new validators, or NULL when the */
	char *last_modified; /* server sent none (for 304: those of
			      * the request unless it sent new ones) */
} http_response_t;

/*
 * GET url (https://, or webcal:// read as https://).  ST_OK with code 200
 * and the body, or code 304 when the request's validators still hold.
 * Otherwise, with a message naming http_redact(url) and what happened:
 * ST_NOINPUT for 404 and 410; ST_DATAERR when the body exceeds max_size;
 * ST_CONFIG for a URL that is not https; ST_TEMPFAIL for every failure a
 * later run may not meet (401/403 and the other 4xx, 5xx, DNS,
 * connection, timeout, TLS, a redirect to http or too many redirects).
 * Free *out with http_response_free, whatever the status.
 */
status_t http_get(const char *url, const http_request_t *rq,
		  http_response_t *out, err_t *err);
void http_response_free(http_response_t *r); /* accepts NULL */

/*
 * The URL as it may be logged: scheme, host[:port] and a hash of the whole
 * URL, e.g. "https://cal.example.com/…#1a2b3c4d" — never the user, path
 * or query, where a secret address keeps its secret.  Caller frees.
 */
char *http_redact(const char *url);

/*
 * If the header line (len bytes, CRLF or LF included or not) is field
 * `name` (case-insensitive), point *value at its value without the
 * whitespace around it and return its length; else return -1.
 */
long http_header_field(const char *line, size_t len, const char *name,
		       const char **value);

/* The validators of a response, fed one header line at a time as they
 * arrive: the status line and headers of every response, redirects'
 * included.  Each status line starts over, so only the final response
 * counts; folded lines extend the field before them; a value that is
 * empty, too long or holds control characters is dropped. */
typedef struct {
	int code;            /* of the latest status line; 0 before one */
	char reason[64];     /* its reason phrase, sanitized, maybe "" */
	char *etag;          /* or NULL */
	char *last_modified; /* or NULL */
	int folding;         /* internal: the field a folded line extends */
	bool body;           /* internal: past the empty line */
} http_headers_t;

#define HTTP_MAX_VALIDATOR 1024 /* longer validators are dropped */

void http_headers_feed(http_headers_t *h, const char *line, size_t len);
void http_headers_clear(http_headers_t *h); /* back to zero, freed */

#endif
