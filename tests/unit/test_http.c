/* Unit tests of the pure parts of http: the header parser that reads the
 * validators (the last response of a redirect chain only, folding, case,
 * hostile values) and the redaction of URLs in messages.  The GET itself
 * is tested end to end by T160-https.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static void feed(http_headers_t *h, const char *const *lines)
{
	for (size_t i = 0; lines[i]; i++)
		http_headers_feed(h, lines[i], strlen(lines[i]));
}

static void test_field(void **state)
{
	const char *v = NULL;
	const char *l = "etag:  \"abc\" \t\r\n";
	assert_int_equal(http_header_field(l, strlen(l), "ETag", &v), 5);
	assert_memory_equal(v, "\"abc\"", 5);
	l = "ETag : \"abc\"\r\n"; /* no blank before the colon */
	assert_int_equal(http_header_field(l, strlen(l), "ETag", &v), -1);
	l = "ETagX: 1\r\n";
	assert_int_equal(http_header_field(l, strlen(l), "ETag", &v), -1);
	l = "ETag:\r\n";
	assert_int_equal(http_header_field(l, strlen(l), "ETag", &v), 0);
	l = "ETa";
	assert_int_equal(http_header_field(l, strlen(l), "ETag", &v), -1);
}

static void test_simple(void **state)
{
	http_headers_t h = {0};
	const char *const lines[] = {
		"HTTP/1.1 200 OK\r\n",
		"Content-Type: text/calendar\r\n",
		"ETag: W/\"v1\"\r\n",
		"last-modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n",
		"\r\n",
		/* a trailer after the body does not count */
		"ETag: \"trailer\"\r\n",
		NULL,
	};
	feed(&h, lines);
	assert_int_equal(h.code, 200);
	assert_string_equal(h.reason, "OK");
	assert_string_equal(h.etag, "W/\"v1\"");
	assert_string_equal(h.last_modified, "Tue, 01 Dec 2026 10:00:00 GMT");
	http_headers_clear(&h);
	assert_null(h.etag);
	http_headers_clear(NULL);
}

static void test_redirects(void **state)
{
	http_headers_t h = {0};
	const char *const lines[] = {
		"HTTP/1.1 301 Moved Permanently\r\n",
		"Location: /b\r\n",
		"ETag: \"redirect\"\r\n",
		"Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n",
		"\r\n",
		"HTTP/1.1 100 Continue\r\n",
		"\r\n",
		"HTTP/2 200\r\n",
		"etag: \"final\"\r\n",
		"\r\n",
		NULL,
	};
	feed(&h, lines);
	assert_int_equal(h.code, 200);
	assert_string_equal(h.reason, "");
	assert_string_equal(h.etag, "\"final\"");
	assert_null(h.last_modified); /* the redirect's does not count */
	http_headers_clear(&h);
}

static void test_folding_and_junk(void **state)
{
	http_headers_t h = {0};
	const char *const lines[] = {
		"ETag: \"before any status\"\r\n",
		"HTTP/1.0 304 Not Modified\n",
		"Last-Modified: Tue,\r\n",
		"  01 Dec 2026\r\n",
		"\t10:00:00 GMT\r\n",
		"ETag: \"a\rb\"\r\n",     /* a control character: dropped */
		" continues nothing\r\n", /* after a dropped field */
		"X-Other: 1\r\n",
		" folded into X-Other\r\n",
		NULL,
	};
	feed(&h, lines);
	assert_int_equal(h.code, 304);
	assert_string_equal(h.reason, "Not Modified");
	assert_string_equal(h.last_modified, "Tue, 01 Dec 2026 10:00:00 GMT");
	assert_null(h.etag);
	http_headers_clear(&h);

	/* Status lines that are not. */
	const char *const bad[] = {
		"HTTP/1.1 20 OK\r\n", "HTTP/1.1 2000\r\n",
		"HTTP/1.1 099 x\r\n", "HTTPS/1.1 200 OK\r\n",
		"HTTP/1.1\r\n",       NULL,
	};
	for (size_t i = 0; bad[i]; i++) {
		http_headers_feed(&h, bad[i], strlen(bad[i]));
		assert_int_equal(h.code, 0);
	}
	/* Too long a validator is dropped, not cut. */
	char line[HTTP_MAX_VALIDATOR + 16];
	memset(line, 'x', sizeof line);
	memcpy(line, "ETag: ", 6);
	http_headers_feed(&h, "HTTP/1.1 200 OK\r\n", 17);
	http_headers_feed(&h, line, sizeof line);
	assert_null(h.etag);
	http_headers_clear(&h);
}

static void expect_redact(const char *url, const char *prefix)
{
	char *r = http_redact(url);
	size_t n = strlen(prefix);
	if (strncmp(r, prefix, n) != 0 || r[n] != '#' || strlen(r) != n + 9)
		fail_msg("http_redact(%s) = %s, expected %s#HASH", url, r,
			 prefix);
	free(r);
}

static void test_redact(void **state)
{
	expect_redact("https://calendar.google.com/calendar/ical/x%40group/"
		      "private-0123456789abcdef/basic.ics",
		      "https://calendar.google.com/\xe2\x80\xa6");
	expect_redact("webcal://Outlook.Office365.com:443/owa/calendar/S3CRET/"
		      "calendar.ics",
		      "webcal://Outlook.Office365.com:443/\xe2\x80\xa6");
	expect_redact("HTTPS://alex@cal.example.com?token=s3cret",
		      "https://cal.example.com/\xe2\x80\xa6");
	expect_redact("https://cal.example.com/", "https://cal.example.com");
	expect_redact("https://cal.example.com", "https://cal.example.com");
	expect_redact("https://a\nb/x", "https://a?b/\xe2\x80\xa6");
	expect_redact("not a url", "URL");
	/* The hash tells two secret addresses of one host apart. */
	char *a = http_redact("https://h.example/a.ics");
	char *b = http_redact("https://h.example/b.ics");
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_folding_and_junk),
		cmocka_unit_test(test_redact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
