/*
 * http — https GET with libcurl for published calendars.  See http.h.
 *
 * curl follows the redirects (https only, at most HTTP_MAX_REDIRECTS) and
 * verifies the certificate; what it says about a failure is quoted only
 * when it cannot hold the URL.  The validators are read by our own
 * header parser, which sees the headers of every response of the chain
 * and keeps those of the last.
 */
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the pure part: header lines ------------------------------------ */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* len without the line end and the whitespace before it. */
static size_t chomp(const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
		       is_ws(line[len - 1])))
		len--;
	return len;
}

long http_header_field(const char *line, size_t len, const char *name,
		       const char **value)
{
	size_t n = strlen(name);
	len = chomp(line, len);
	if (len <= n || strncasecmp(line, name, n) != 0)
		return -1;
	/* RFC 9112 §5.1: no whitespace between the name and the colon. */
	if (line[n] != ':')
		return -1;
	size_t i = n + 1;
	while (i < len && is_ws(line[i]))
		i++;
	*value = line + i;
	return (long)(len - i);
}

enum { FIELD_NONE, FIELD_ETAG, FIELD_LAST_MODIFIED };

/* Whether a validator may be kept, and sent back in a request header. */
static bool validator_ok(const char *s, size_t n)
{
	if (n == 0 || n > HTTP_MAX_VALIDATOR)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static char **field_slot(http_headers_t *h, int field)
{
	return field == FIELD_ETAG ? &h->etag : &h->last_modified;
}

/* Set (or, extending a folded value, append to) a validator; a value
 * that cannot be kept drops the field. */
static void field_set(http_headers_t *h, int field, const char *v, size_t n,
		      bool append)
{
	char **slot = field_slot(h, field);
	strbuf_t b = {0};
	if (append && *slot) {
		sb_puts(&b, *slot);
		if (n)
			sb_putc(&b, ' ');
	}
	sb_add(&b, v, n);
	free(*slot);
	*slot = NULL;
	if (validator_ok(sb_str(&b), b.len)) {
		*slot = sb_steal(&b);
		h->folding = field;
	} else {
		h->folding = FIELD_NONE;
	}
	sb_free(&b);
}

/* "HTTP/1.1 200 OK": the code (100..999) and the reason, or 0. */
static int status_line(const char *line, size_t len, char *reason, size_t rsize)
{
	size_t i = 5;
	if (len < 5 || strncasecmp(line, "HTTP/", 5) != 0)
		return 0;
	while (i < len && !is_ws(line[i]))
		i++;
	while (i < len && is_ws(line[i]))
		i++;
	if (len - i < 3 || !isdigit((unsigned char)line[i]) ||
	    !isdigit((unsigned char)line[i + 1]) ||
	    !isdigit((unsigned char)line[i + 2]) ||
	    (len - i > 3 && !is_ws(line[i + 3])) || line[i] == '0')
		return 0;
	int code = (line[i] - '0') * 100 + (line[i + 1] - '0') * 10 +
		   (line[i + 2] - '0');
	i += 3;
	while (i < len && is_ws(line[i]))
		i++;
	size_t n = len - i < rsize - 1 ? len - i : rsize - 1;
	memcpy(reason, line + i, n);
	reason[n] = '\0';
	/* Cut at a byte that may be half a UTF-8 sequence; then scrub. */
	while (n && ((unsigned char)reason[n - 1] & 0x80))
		reason[--n] = '\0';
	str_sanitize(reason);
	return code;
}

void http_headers_feed(http_headers_t *h, const char *line, size_t len)
{
	char reason[sizeof h->reason];
	size_t n = chomp(line, len);
	int code = status_line(line, n, reason, sizeof reason);
	const char *v;
	long vn;

	if (code) {
		/* A new response (a redirect's, an interim 1xx's, or the
		 * final one): what came before does not count. */
		free(h->etag);
		free(h->last_modified);
		h->etag = h->last_modified = NULL;
		h->code = code;
		memcpy(h->reason, reason, sizeof reason);
		h->folding = FIELD_NONE;
		h->body = false;
		return;
	}
	if (h->body || !h->code)
		return; /* trailers, or junk before any status line */
	if (n == 0) {
		/* The empty line ends the headers; a line of blanks is an
		 * empty continuation. */
		if (len == 0 || !is_ws(line[0])) {
			h->body = true;
			h->folding = FIELD_NONE;
		}
		return;
	}
	if (is_ws(line[0])) {
		/* obs-fold: a continuation of the field before. */
		if (h->folding != FIELD_NONE) {
			size_t i = 0;
			while (i < n && is_ws(line[i]))
				i++;
			field_set(h, h->folding, line + i, n - i, true);
		}
		return;
	}
	h->folding = FIELD_NONE;
	if ((vn = http_header_field(line, n, "ETag", &v)) >= 0)
		field_set(h, FIELD_ETAG, v, (size_t)vn, false);
	else if ((vn = http_header_field(line, n, "Last-Modified", &v)) >= 0)
		field_set(h, FIELD_LAST_MODIFIED, v, (size_t)vn, false);
}

void http_headers_clear(http_headers_t *h)
{
	if (!h)
		return;
	free(h->etag);
	free(h->last_modified);
	memset(h, 0, sizeof *h);
}

/* ---- URLs ------------------------------------------------------------ */

/* The length of url's scheme (before "://"), or 0. */
static size_t scheme_len(const char *url)
{
	size_t i = 0;
	if (!isalpha((unsigned char)url[0]))
		return 0;
	while (isalnum((unsigned char)url[i]) || url[i] == '+' ||
	       url[i] == '-' || url[i] == '.')
		i++;
	return strncmp(url + i, "://", 3) == 0 ? i : 0;
}

static bool scheme_is(const char *url, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(url, name, n) == 0;
}

char *http_redact(const char *url)
{
	size_t sn = scheme_len(url);
	char hex[9];
	strbuf_t b = {0};

	snprintf(hex, sizeof hex, "%08x", (unsigned)hash32(url, strlen(url)));
	if (!sn) {
		sb_printf(&b, "URL#%s", hex);
		return sb_steal(&b);
	}
	for (size_t i = 0; i < sn; i++)
		sb_putc(&b, (char)tolower((unsigned char)url[i]));
	sb_puts(&b, "://");
	const char *auth = url + sn + 3;
	size_t an = strcspn(auth, "/?#");
	/* Without the user: after the last '@' of the authority. */
	for (size_t i = an; i > 0; i--) {
		if (auth[i - 1] == '@') {
			auth += i;
			an -= i;
			break;
		}
	}
	if (an > 255)
		an = 255;
	for (size_t i = 0; i < an; i++) {
		unsigned char c = (unsigned char)auth[i];
		sb_putc(&b, isalnum(c) || strchr(".-_:[]%", c) ? (char)c : '?');
	}
	if (auth[an] && !(auth[an] == '/' && !auth[an + 1]))
		sb_puts(&b, "/\xe2\x80\xa6"); /* "/…" */
	sb_printf(&b, "#%s", hex);
	return sb_steal(&b);
}

/* ---- the GET --------------------------------------------------------- */

/*
 * libcurl is loaded when the first https calendar is fetched, not at
 * start: it and what it links (ssh2, ldap, kerberos, rtmp, nghttp2...)
 * cost every run 3.4 MiB and 9 ms to map and relocate, and most
 * runs fetch nothing.  Each pointer has the type of curl.h's function.
 */
#define CURL_FUNCTIONS(X)                                                      \
	X(global_init)                                                         \
	X(easy_init)                                                           \
	X(easy_setopt)                                                         \
	X(easy_perform)                                                        \
	X(easy_getinfo)                                                        \
	X(easy_strerror)                                                       \
	X(easy_cleanup)                                                        \
	X(slist_append)                                                        \
	X(slist_free_all)

static struct {
#define X(f) __typeof__(curl_##f) *f;
	CURL_FUNCTIONS(X)
#undef X
} cu;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static char curl_why[256]; /* why libcurl could not be loaded */

static void curl_init(void)
{
	void *lib = dlopen(DIGEST_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(curl_why, sizeof curl_why, "%s", dlerror());
		return;
	}
	/* POSIX's way from dlsym's void * to a function pointer */
#define X(f)                                                                   \
	if (!(*(void **)&cu.f = dlsym(lib, "curl_" #f))) {                     \
		snprintf(curl_why, sizeof curl_why, "%s: no curl_%s",          \
			 DIGEST_CURL_SONAME, #f);                              \
		return;                                                        \
	}
	CURL_FUNCTIONS(X)
#undef X
	curl_init_rc = cu.global_init(CURL_GLOBAL_DEFAULT);
	if (curl_init_rc != CURLE_OK)
		snprintf(curl_why, sizeof curl_why, "%s",
			 cu.easy_strerror(curl_init_rc));
}

typedef struct {
	strbuf_t body;
	size_t max;
	bool too_big;
	http_headers_t hdr;
} fetch_t;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
	fetch_t *f = ctx;
	size_t n = size * nmemb;
	/* The server may send more than it announced, or announce
	 * nothing: counted here, after decompression. */
	if (n > f->max - f->body.len) {
		f->too_big = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	sb_add(&f->body, p, n);
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
	fetch_t *f = ctx;
	http_headers_feed(&f->hdr, p, size * nmemb);
	return size * nmemb;
}

/* The part of url after its host: what a message must never show. */
static const char *url_secret(const char *url)
{
	size_t sn = url ? scheme_len(url) : 0;
	if (!sn)
		return NULL;
	const char *rest = url + sn + 3 + strcspn(url + sn + 3, "/?#");
	return strlen(rest) > 1 ? rest : NULL;
}

/* What curl said, when it cannot give the URL away; else its generic
 * text for rc.  Sanitized, into buf. */
static const char *curl_detail(CURLcode rc, const char *errbuf, const char *url,
			       const char *effective, char *buf, size_t size)
{
	const char *a = url_secret(url), *b = url_secret(effective);
	if (!errbuf[0] || strstr(errbuf, "://") || (a && strstr(errbuf, a)) ||
	    (b && strstr(errbuf, b)))
		snprintf(buf, size, "%s", cu.easy_strerror(rc));
	else
		snprintf(buf, size, "%s", errbuf);
	size_t n = strlen(buf);
	while (n &&
	       (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '.'))
		buf[--n] = '\0';
	return str_sanitize(buf);
}

/* "HTTP 404 Not Found" */
static void http_status_text(const http_headers_t *h, long code, char *buf,
			     size_t size)
{
	if (h->code == code && h->reason[0])
		snprintf(buf, size, "HTTP %ld %s", code, h->reason);
	else
		snprintf(buf, size, "HTTP %ld", code);
}

/* Map a failed transfer to a status and a message. */
static status_t transfer_error(CURLcode rc, CURL *c, const fetch_t *f,
			       const char *name, const char *url,
			       const http_request_t *rq, size_t max,
			       const char *errbuf, err_t *err)
{
	char *effective = NULL;
	long redirects = 0, code = 0;
	char d[512];
	cu.easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
	cu.easy_getinfo(c, CURLINFO_REDIRECT_COUNT, &redirects);
	cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_detail(rc, errbuf, url, effective, d, sizeof d);

	switch (rc) {
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (f->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
			bool mb = max >= 1024 * 1024;
			return err_set(err, ST_DATAERR,
				       "%s: larger than %zu %s: not read", name,
				       mb ? max / (1024 * 1024) : max,
				       mb ? "MB" : "bytes");
		}
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		if (redirects > 0 || (code >= 300 && code < 400))
			return err_set(err, ST_TEMPFAIL,
				       "%s: redirected to a URL that is not "
				       "https: refused",
				       name);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		return err_set(err, ST_TEMPFAIL, "%s: more than %d redirects",
			       name, HTTP_MAX_REDIRECTS);
	case CURLE_URL_MALFORMAT:
		return err_set(err, ST_CONFIG, "%s: not a valid URL", name);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return err_set(err, ST_TEMPFAIL, "%s: host not found (%s)",
			       name, d);
	case CURLE_COULDNT_CONNECT:
		return err_set(err, ST_TEMPFAIL, "%s: cannot connect (%s)",
			       name, d);
	case CURLE_OPERATION_TIMEDOUT:
		return err_set(err, ST_TEMPFAIL, "%s: timed out (%s)", name, d);
	case CURLE_PEER_FAILED_VERIFICATION:
		return err_set(err, ST_TEMPFAIL,
			       "%s: TLS: certificate not trusted (%s)", name,
			       d);
	case CURLE_SSL_CONNECT_ERROR:
		return err_set(err, ST_TEMPFAIL,
			       "%s: TLS: handshake failed (%s)", name, d);
	case CURLE_SSL_CACERT_BADFILE:
		return err_set(err, ST_CONFIG,
			       "%s: tls_ca_file %s: no CA certificate loaded "
			       "(%s)",
			       name, rq->ca_file ? rq->ca_file : "(system)", d);
	case CURLE_OUT_OF_MEMORY:
		return err_set(err, ST_SOFTWARE, "%s: out of memory", name);
	default:
		break;
	}
	return err_set(err, ST_TEMPFAIL, "%s: %s", name, d);
}

/* An HTTP status other than 2xx and an expected 304. */
static status_t status_error(long code, const fetch_t *f, const char *name,
			     err_t *err)
{
	char st[128];
	http_status_text(&f->hdr, code, st, sizeof st);
	if (code == 404 || code == 410)
		return err_set(err, ST_NOINPUT, "%s: %s", name, st);
	if (code == 401 || code == 403)
		return err_set(err, ST_TEMPFAIL,
			       "%s: %s: access refused (is the calendar still "
			       "published at this address?)",
			       name, st);
	if (code == 304)
		return err_set(err, ST_TEMPFAIL,
			       "%s: %s to a request without validators", name,
			       st);
	if (code >= 300 && code < 400)
		return err_set(err, ST_TEMPFAIL,
			       "%s: %s: a redirect not followed", name, st);
	return err_set(err, ST_TEMPFAIL, "%s: %s", name, st);
}

/* "Name: value" for a validator sent back, unless it may not be sent. */
static struct curl_slist *add_validator(struct curl_slist *list,
					const char *field, const char *value,
					bool *ok)
{
	if (!value || !validator_ok(value, strlen(value)))
		return list;
	char *line = xasprintf("%s: %s", field, value);
	struct curl_slist *l = cu.slist_append(list, line);
	free(line);
	if (!l) {
		*ok = false;
		return list;
	}
	return l;
}

status_t http_get(const char *url, const http_request_t *rq,
		  http_response_t *out, err_t *err)
{
	static const http_request_t defaults = {0};
	char *name = http_redact(url), *https = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	fetch_t f = {0};
	CURL *c = NULL;
	struct curl_slist *headers = NULL;
	size_t sn = scheme_len(url);
	bool validators = false, ok = true;
	long code = 0, step, total;
	status_t s = ST_OK;
	CURLcode rc = CURLE_OK;

	memset(out, 0, sizeof *out);
	if (!rq)
		rq = &defaults;
	f.max = rq->max_size ? rq->max_size : HTTP_MAX_SIZE;
	step = rq->step_timeout > 0 ? rq->step_timeout : HTTP_STEP_TIMEOUT;
	total = rq->timeout > 0 ? rq->timeout : HTTP_TIMEOUT;
	if (scheme_is(url, sn, "webcal") || scheme_is(url, sn, "webcals"))
		https = xasprintf("https%s", url + sn);
	else if (scheme_is(url, sn, "https"))
		https = xstrdup(url);
	else {
		s = err_set(err, ST_CONFIG,
			    "%s: not an https:// or webcal:// URL: refused",
			    name);
		goto done;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		s = err_set(err, ST_SOFTWARE, "%s: cannot load libcurl: %s",
			    name, curl_why);
		goto done;
	}
	if (!(c = cu.easy_init())) {
		s = err_set(err, ST_SOFTWARE, "%s: cannot start libcurl", name);
		goto done;
	}
	headers = add_validator(headers, "If-None-Match", rq->etag, &ok);
	headers = add_validator(headers, "If-Modified-Since", rq->last_modified,
				&ok);
	validators = headers != NULL;

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (rc == CURLE_OK)                                            \
			rc = cu.easy_setopt(c, opt, val);                      \
	} while (0)
	SET(CURLOPT_URL, https);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (rq->ca_file) {
		/* tls_ca_file alone, as for SMTP and IMAP. */
		SET(CURLOPT_CAINFO, rq->ca_file);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	SET(CURLOPT_CONNECTTIMEOUT, step);
	SET(CURLOPT_TIMEOUT, total > step ? total : step);
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);  /* bytes per second, ... */
	SET(CURLOPT_LOW_SPEED_TIME, step); /* ... for this long: stalled */
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f.max);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, "digest/" DIGEST_VERSION);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, &f);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, &f);
	SET(CURLOPT_ERRORBUFFER, errbuf);
#undef SET
	if (rc != CURLE_OK || !ok) {
		s = err_set(err, ST_SOFTWARE, "%s: libcurl: %s", name,
			    cu.easy_strerror(rc));
		goto done;
	}

	rc = cu.easy_perform(c);
	if (rc != CURLE_OK) {
		s = transfer_error(rc, c, &f, name, url, rq, f.max, errbuf,
				   err);
		goto done;
	}
	cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code == 304 && validators) {
		out->code = 304;
		out->etag = xstrdup(f.hdr.etag ? f.hdr.etag : rq->etag);
		out->last_modified =
			xstrdup(f.hdr.last_modified ? f.hdr.last_modified
						    : rq->last_modified);
	} else if (code >= 200 && code < 300) {
		out->code = 200;
		out->len = f.body.len;
		out->body = f.body.len ? sb_steal(&f.body) : xstrdup("");
		out->etag = xstrdup(f.hdr.etag);
		out->last_modified = xstrdup(f.hdr.last_modified);
	} else {
		s = status_error(code, &f, name, err);
	}
done:
	if (c)
		cu.easy_cleanup(c);
	if (headers)
		cu.slist_free_all(headers);
	http_headers_clear(&f.hdr);
	sb_free(&f.body);
	free(https);
	free(name);
	return s;
}

void http_response_free(http_response_t *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->etag);
	free(r->last_modified);
	memset(r, 0, sizeof *r);
}
