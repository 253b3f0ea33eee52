/*
 * test_mime — mime_date, mime_encode_words and mime_build: Date offsets in
 * whole-, half- and quarter-hour zones, RFC 2047 words (length, UTF-8
 * boundaries, round trip), plain, quoted and encoded names and subjects,
 * hostile input (header injection, 10 kB strings, bodies that look like
 * boundaries), address and Message-ID checks, line lengths.  Every built
 * message is also read back by Python's email package through
 * tests/unit/mime_check.py (in the source tree the build came from);
 * without python3 that is left out and test_python_readback is skipped.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* timegm */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mime.h"
#include "testlib.h"

/* ---- helpers ---- */

static int64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (int64_t)timegm(&tm);
}

/* No control characters, valid UTF-8 (str_sanitize changes nothing). */
static bool is_clean(const char *s, size_t n)
{
	char *c = xstrndup(s, n);
	bool same = strlen(c) == n;
	str_sanitize(c);
	same = same && memcmp(c, s, n) == 0;
	free(c);
	return same;
}

static int b64_val(int c)
{
	const char *set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789+/";
	const char *p = c ? strchr(set, c) : NULL;
	return p ? (int)(p - set) : -1;
}

/* Decode base64 s[0..n) onto out; false if malformed. */
static bool b64_decode(const char *s, size_t n, strbuf_t *out)
{
	if (n % 4)
		return false;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++)
			v[k] = s[i + k] == '=' ? 0 : b64_val(s[i + k]);
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
			return false;
		unsigned x =
			(unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
		sb_putc(out, (char)(x >> 16));
		if (s[i + 2] != '=')
			sb_putc(out, (char)(x >> 8 & 0xff));
		if (s[i + 3] != '=')
			sb_putc(out, (char)(x & 0xff));
	}
	return true;
}

/*
 * Decode encoded words separated by blanks (or folds) in enc; assert each is
 * "=?UTF-8?B?...?=", at most 75 chars, and decodes to clean UTF-8 on its
 * own.  Returns the concatenation (caller frees).
 */
static char *decode_words(const char *enc)
{
	strbuf_t all = {0};
	const char *p = enc;
	while (*p) {
		p += strspn(p, " \r\n");
		if (!*p)
			break;
		size_t n = strcspn(p, " \r\n");
		assert_true(n <= 75);
		assert_true(n > 12);
		assert_memory_equal(p, "=?UTF-8?B?", 10);
		assert_memory_equal(p + n - 2, "?=", 2);
		strbuf_t one = {0};
		assert_true(b64_decode(p + 10, n - 12, &one));
		assert_true(one.len > 0);
		assert_true(is_clean(one.s, one.len));
		sb_add(&all, one.s, one.len);
		sb_free(&one);
		p += n;
	}
	return sb_steal(&all);
}

/* Every line ends in CRLF and has at most 998 octets. */
static void check_lines(const char *s, size_t len)
{
	size_t start = 0;
	assert_true(len >= 2);
	assert_memory_equal(s + len - 2, "\r\n", 2);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			assert_true(i > 0 && s[i - 1] == '\r');
		if (s[i] == '\r') {
			assert_true(i + 1 < len && s[i + 1] == '\n');
			assert_true(i - start <= 998);
			start = i + 2;
		}
	}
}

/* Length of the header block (up to and including the empty line). */
static size_t head_len(const char *s)
{
	const char *e = strstr(s, "\r\n\r\n");
	assert_non_null(e);
	return (size_t)(e - s) + 4;
}

/* True when a line of the header block starts with prefix (any case). */
static bool head_has_line(const char *s, const char *prefix)
{
	size_t hl = head_len(s), n = strlen(prefix);
	for (size_t i = 0; i < hl; i++)
		if ((i == 0 || s[i - 1] == '\n') && i + n <= hl &&
		    strncasecmp(s + i, prefix, n) == 0)
			return true;
	return false;
}

/* The longest header line (CRLF excluded). */
static size_t head_longest(const char *s)
{
	size_t hl = head_len(s), max = 0, cur = 0;
	for (size_t i = 0; i < hl; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			cur = 0;
		else if (++cur > max)
			max = cur;
	}
	return max;
}

/* The unfolded value of header name (first one), or NULL.  Caller frees. */
static char *head_value(const char *s, const char *name)
{
	size_t hl = head_len(s), n = strlen(name);
	for (size_t i = 0; i < hl; i++) {
		if ((i == 0 || s[i - 1] == '\n') &&
		    strncasecmp(s + i, name, n) == 0 && s[i + n] == ':') {
			strbuf_t v = {0};
			const char *p = s + i + n + 1;
			for (;;) {
				size_t k = strcspn(p, "\r");
				sb_add(&v, p, k);
				p += k + 2;
				if (*p != ' ' && *p != '\t')
					break;
			}
			return sb_steal(&v);
		}
	}
	return NULL;
}

/* What a message is expected to read back as (names: "" for none). */
typedef struct {
	const char *subject, *from_name, *from_addr, *to_name, *to_addr;
	const char *text, *html;
} expect_t;

/* How many messages mime_check.py has read back. */
static int python_checks;

/* Run mime_check.py on msg (nothing when python3 is missing: then
 * test_python_readback is skipped). */
static void python_check(const char *msg, size_t len, const expect_t *e)
{
	if (!test_have_prog("python3"))
		return;
	char *script = test_src_path("tests/unit/mime_check.py");
	char *file = test_temp_file(msg, len);
	char *text = test_temp_file(e->text, strlen(e->text));
	char *html = test_temp_file(e->html, strlen(e->html));
	char *argv[] = {"python3",
			script,
			file,
			(char *)e->subject,
			(char *)e->from_name,
			(char *)e->from_addr,
			(char *)e->to_name,
			(char *)e->to_addr,
			text,
			html,
			NULL};
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execvp("python3", argv);
		_exit(127);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fprintf(stderr, "mime_check failed on %s\n", file);
	else
		unlink(file);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	python_checks++;
	unlink(text);
	unlink(html);
	free(script);
	free(file);
	free(text);
	free(html);
}

static const mime_message_t base = {
	.from_name = "Digest",
	.from_addr = "digest@example.com",
	.to_name = "Alex Smith",
	.to_addr = "alex@example.com",
	.subject = "Your week",
	.date = 1796022000, /* 2026-11-30T07:00:00Z */
	.zone = "Europe/Berlin",
	.message_id = "digest.alex.2026-W49.0@example.com",
	.text = "Hello\n",
	.html = "<p>Hello</p>\n",
};

/* Build m (must succeed) and run every generic check on the result. */
static char *build_checked(const mime_message_t *m, const expect_t *e,
			   size_t *len)
{
	strbuf_t out = {0};
	err_t err = {0};
	assert_int_equal(mime_build(m, &out, &err), ST_OK);
	check_lines(out.s, out.len);
	assert_false(head_has_line(out.s, "Bcc:"));
	assert_false(head_has_line(out.s, "Cc:"));
	*len = out.len;
	python_check(out.s, out.len, e);
	return sb_steal(&out);
}

/* The expectation for m when nothing in it needs cleaning. */
static expect_t expect_of(const mime_message_t *m)
{
	expect_t e = {m->subject ? m->subject : "",
		      m->from_name ? m->from_name : "",
		      m->from_addr,
		      m->to_name ? m->to_name : "",
		      m->to_addr,
		      m->text ? m->text : "",
		      m->html ? m->html : ""};
	return e;
}

/* A string of n copies of unit (caller frees). */
static char *repeat(const char *unit, size_t n)
{
	strbuf_t b = {0};
	for (size_t i = 0; i < n; i++)
		sb_puts(&b, unit);
	return sb_steal(&b);
}

/* ---- mime_date ---- */

static void check_date(int64_t t, const char *zone, const char *want)
{
	char buf[40];
	memset(buf, 'x', sizeof buf);
	mime_date(t, zone, buf);
	assert_string_equal(buf, want);
}

static void test_date_zones(void **state)
{
	(void)state;
	const char *tz_before = getenv("TZ");
	char *saved = tz_before ? strdup(tz_before) : NULL;

	assert_int_equal(base.date, utc(2026, 11, 30, 7, 0));
	check_date(utc(2026, 11, 30, 7, 0), "Europe/Berlin",
		   "Mon, 30 Nov 2026 08:00:00 +0100");
	check_date(utc(2026, 7, 1, 6, 0), "Europe/Berlin",
		   "Wed, 1 Jul 2026 08:00:00 +0200");
	check_date(utc(2026, 11, 30, 2, 30), "Asia/Kolkata",
		   "Mon, 30 Nov 2026 08:00:00 +0530");
	check_date(utc(2026, 7, 1, 2, 30), "Asia/Kolkata",
		   "Wed, 1 Jul 2026 08:00:00 +0530");
	check_date(utc(2026, 11, 30, 11, 30), "America/St_Johns",
		   "Mon, 30 Nov 2026 08:00:00 -0330");
	check_date(utc(2026, 7, 1, 10, 30), "America/St_Johns",
		   "Wed, 1 Jul 2026 08:00:00 -0230");
	check_date(utc(2026, 11, 30, 2, 15), "Asia/Kathmandu",
		   "Mon, 30 Nov 2026 08:00:00 +0545");
	check_date(utc(2026, 11, 30, 8, 0), "UTC",
		   "Mon, 30 Nov 2026 08:00:00 +0000");
	check_date(utc(2026, 11, 30, 8, 0), NULL,
		   "Mon, 30 Nov 2026 08:00:00 +0000");
	/* Across the day line: local date differs from the UTC date. */
	check_date(utc(2026, 11, 30, 23, 30), "Asia/Kolkata",
		   "Tue, 1 Dec 2026 05:00:00 +0530");
	check_date(utc(2027, 1, 1, 2, 0), "America/St_Johns",
		   "Thu, 31 Dec 2026 22:30:00 -0330");

	/* The caller's TZ is left as it was. */
	const char *tz_after = getenv("TZ");
	if (saved)
		assert_string_equal(tz_after, saved);
	else
		assert_null(tz_after);
	free(saved);
}

/* ---- mime_encode_words ---- */

static void test_encode_ascii(void **state)
{
	(void)state;
	const char *plain[] = {"", "Weekly digest", "Alex Smith",
			       "O'Brien, Pat \"x\" <y>", "a  b"};
	for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
		char *e = mime_encode_words(plain[i]);
		assert_string_equal(e, plain[i]);
		free(e);
	}
	/* Control characters become spaces: ASCII again, left as is. */
	char *e = mime_encode_words("a\r\nBcc: x\t\x7f");
	assert_string_equal(e, "a  Bcc: x  ");
	free(e);
	e = mime_encode_words(NULL);
	assert_string_equal(e, "");
	free(e);
}

static void test_encode_utf8(void **state)
{
	(void)state;
	char *e = mime_encode_words("J\xc3\xb6rg M\xc3\xbcller");
	assert_string_equal(e, "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=");
	free(e);

	/* Invalid UTF-8 becomes U+FFFD; a C1 control a space. */
	e = mime_encode_words("a\xff"
			      "b\xc2\x85"
			      "c");
	char *d = decode_words(e);
	assert_string_equal(d, "a\xef\xbf\xbd"
			       "b c");
	free(d);
	free(e);

	/* Bidi overrides and isolates, line separators: spaces too (a name
	 * in a Subject must not reorder what follows it); the marks stay. */
	e = mime_encode_words("a\xe2\x80\xae"
			      "b\xe2\x81\xa6"
			      "c\xe2\x81\xa9"
			      "d\xe2\x80\xa8"
			      "e\xc2\x9b"
			      "f");
	assert_string_equal(e, "a b c d e f");
	free(e);
	e = mime_encode_words("\xd7\x90\xe2\x80\x8f");
	d = decode_words(e);
	assert_string_equal(d, "\xd7\x90\xe2\x80\x8f");
	free(d);
	free(e);
}

static void test_encode_long(void **state)
{
	(void)state;
	/* 300 octets of 1-, 2-, 3- and 4-byte characters. */
	const char *units[] = {"a", "\xc3\xa9", "\xe6\x97\xa5",
			       "\xf0\x9f\x98\x80", " "};
	strbuf_t in = {0};
	for (size_t i = 0; in.len < 300; i++) {
		const char *u = units[(i * 7 + i / 3) % 5];
		if (in.len + strlen(u) > 300)
			u = "a";
		sb_puts(&in, u);
	}
	assert_int_equal(in.len, 300);

	char *e = mime_encode_words(in.s);
	assert_null(strchr(e, '\r'));
	assert_null(strstr(e, "  "));
	size_t words = 0;
	for (const char *p = e; *p; p++)
		words += *p == '=' && p[1] == '?' && p[2] == 'U';
	assert_true(words >= 300 / 42);
	char *d = decode_words(e);
	assert_string_equal(d, in.s);
	free(d);
	free(e);

	/* Every split point for a 4-byte character. */
	for (size_t pre = 0; pre < 8; pre++) {
		char *s = repeat("a", pre);
		char *emo = repeat("\xf0\x9f\x98\x80", 30);
		char *both = xasprintf("%s%s", s, emo);
		e = mime_encode_words(both);
		d = decode_words(e);
		assert_string_equal(d, both);
		free(d);
		free(e);
		free(both);
		free(emo);
		free(s);
	}
	sb_free(&in);
}

/* ---- mime_build ---- */

static void test_build_basic(void **state)
{
	(void)state;
	mime_message_t m = base;
	m.from_name = "J\xc3\xb6rg M\xc3\xbcller";
	m.subject = "Your week: 3 people to call \xe2\x80\x94 J\xc3\xb6rg";
	char *long_line = repeat("0123456789 ", 300);
	char *text = xasprintf(
		"Hi Alex,\n\nJ\xc3\xb6rg \xe2\x80\x94 42 days.\nFrom here on\n"
		".\n..\ntrailing blank \ntrailing tab\t\n  indented\n"
		"a=b ?= =?UTF-8?B?eA==?=\n%s\nno final newline ",
		long_line);
	m.text = text;
	m.html =
		"<!DOCTYPE html>\n<html><body style=\"font-family: "
		"sans-serif\"><p>J&ouml;rg \xe2\x80\x94 42</p></body></html>\n";
	expect_t e = expect_of(&m);
	size_t len;
	char *msg = build_checked(&m, &e, &len);

	assert_true(
		str_starts(msg, "Date: Mon, 30 Nov 2026 08:00:00 +0100\r\n"));
	assert_non_null(strstr(msg,
			       "\r\nFrom: =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= "
			       "<digest@example.com>\r\n"));
	assert_non_null(
		strstr(msg, "\r\nTo: Alex Smith <alex@example.com>\r\n"));
	assert_non_null(strstr(msg, "\r\nSubject: =?UTF-8?B?"));
	assert_non_null(strstr(
		msg,
		"\r\nMessage-ID: <digest.alex.2026-W49.0@example.com>\r\n"));
	assert_non_null(strstr(msg, "\r\nAuto-Submitted: auto-generated\r\n"));
	assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(
		strstr(msg, "\r\nContent-Type: multipart/alternative;"));
	assert_non_null(strstr(msg, "boundary=\"=_digest_"));
	char *plain = strstr(msg, "text/plain; charset=\"utf-8\"");
	char *html = strstr(msg, "text/html; charset=\"utf-8\"");
	assert_non_null(plain);
	assert_non_null(html);
	assert_true(plain < html);
	assert_non_null(
		strstr(msg, "Content-Transfer-Encoding: quoted-printable"));
	/* Headers fold within 78 columns; QP lines within 76. */
	assert_true(head_longest(msg) <= 78);
	for (const char *p = msg + head_len(msg); *p;) {
		size_t n = strcspn(p, "\r");
		assert_true(n <= 76);
		p += n + 2;
	}
	/* Blanks before a line break encoded once (libetpan doubles them). */
	assert_non_null(strstr(msg, "trailing blank=20\r\n"));
	assert_non_null(strstr(msg, "trailing tab=09\r\n"));
	assert_non_null(strstr(msg, "\r\n=2E\r\n"));
	assert_non_null(strstr(msg, "\r\n=46rom here"));
	char *subj = head_value(msg, "Subject");
	char *d = decode_words(subj);
	assert_string_equal(d, m.subject);
	free(d);
	free(subj);

	free(msg);
	free(text);
	free(long_line);
}

static void test_build_appends(void **state)
{
	(void)state;
	strbuf_t out = {0};
	err_t err = {0};
	sb_puts(&out, "previous\n");
	assert_int_equal(mime_build(&base, &out, &err), ST_OK);
	assert_true(str_starts(out.s, "previous\nDate: "));
	assert_int_equal(strlen(out.s), out.len);
	sb_free(&out);

	/* NULL names, subject and bodies. */
	mime_message_t m = base;
	m.from_name = NULL;
	m.to_name = "";
	m.subject = NULL;
	m.text = NULL;
	m.html = NULL;
	expect_t e = expect_of(&m);
	size_t len;
	char *msg = build_checked(&m, &e, &len);
	assert_non_null(strstr(msg, "\r\nFrom: digest@example.com\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: alex@example.com\r\n"));
	assert_non_null(strstr(msg, "\r\nSubject:\r\n"));
	free(msg);
}

static void test_build_names(void **state)
{
	(void)state;
	char *long_atoms = repeat("Word ", 60);
	long_atoms[strlen(long_atoms) - 1] = '\0';
	char *long_comma = xasprintf("Smith, %s", long_atoms);
	char *long_utf8 = repeat("J\xc3\xb6rg ", 50);
	char *blanks = repeat(" ", 2000);
	char *wide = xasprintf("a%sb", blanks);
	struct {
		const char *name;
		const char *want; /* the From line's start, or NULL */
	} cases[] = {
		{"Alex Smith", "From: Alex Smith <"},
		{"O'Brien, Pat", "From: \"O'Brien, Pat\" <"},
		{"Dr. \"Who\" \\ x", "From: \"Dr. \\\"Who\\\" \\\\ x\" <"},
		{"<script>alert(1)</script>",
		 "From: \"<script>alert(1)</script>\" <"},
		{"a  b", "From: \"a  b\" <"},
		{" lead", "From: =?UTF-8?B?"},
		{"=?UTF-8?B?Zm9v?=", "From: =?UTF-8?B?"},
		{"J\xc3\xb6rg M\xc3\xbcller", "From: =?UTF-8?B?"},
		{"\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e",
		 "From: =?UTF-8?B?"},
		{long_atoms, "From: Word Word"},
		{long_comma, "From: =?UTF-8?B?"},
		{long_utf8, "From: =?UTF-8?B?"},
		{wide, "From: =?UTF-8?B?"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		mime_message_t m = base;
		m.from_name = cases[i].name;
		m.to_name = cases[i].name;
		expect_t e = expect_of(&m);
		size_t len;
		char *msg = build_checked(&m, &e, &len);
		char *from = strstr(msg, "\r\nFrom: ");
		assert_non_null(from);
		assert_true(str_starts(from + 2, cases[i].want));
		assert_true(head_longest(msg) <= 78);
		free(msg);
	}
	free(wide);
	free(blanks);
	free(long_utf8);
	free(long_comma);
	free(long_atoms);
}

static void test_build_subjects(void **state)
{
	(void)state;
	char *long_token = repeat("x", 200);
	char *long_words = repeat("word ", 400);
	long_words[strlen(long_words) - 1] = '\0';
	char *cjk = repeat("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 60);
	char *emoji = repeat("\xf0\x9f\x98\x80", 100);
	char *blanks = repeat(" ", 2000);
	char *wide = xasprintf("a%sb", blanks);
	char *gap = xasprintf("a%.60sb", blanks);
	struct {
		const char *subject;
		bool plain; /* written as is (folded) */
	} cases[] = {
		{"Your week", true},
		{"a  b   c", true},
		{"x", true},
		{"100% (of) <you> \"here\": ok?", true},
		{long_words, true},
		{" leading", false},
		{"trailing ", false},
		{"  ", false},
		{"see =?UTF-8?B?Zm9v?= here", false},
		{long_token, false},
		{cjk, false},
		{emoji, false},
		{"Caf\xc3\xa9 & cr\xc3\xa8me", false},
		{gap, true},
		{wide, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		mime_message_t m = base;
		m.subject = cases[i].subject;
		expect_t e = expect_of(&m);
		size_t len;
		char *msg = build_checked(&m, &e, &len);
		char *v = head_value(msg, "Subject");
		assert_non_null(v);
		if (cases[i].plain) {
			assert_string_equal(v + 1, cases[i].subject);
		} else {
			char *d = decode_words(v);
			assert_string_equal(d, cases[i].subject);
			free(d);
		}
		assert_false(str_starts(strstr(msg, "\r\nSubject:") + 2,
					"Subject:\r\n"));
		assert_true(head_longest(msg) <= 78);
		free(v);
		free(msg);
	}
	free(gap);
	free(wide);
	free(blanks);
	free(emoji);
	free(cjk);
	free(long_words);
	free(long_token);
}

/* Replace each occurrence of from (one char) by to in a copy of s. */
static char *subst(const char *s, const char *from, const char *to)
{
	strbuf_t b = {0};
	for (; *s; s++) {
		if (strchr(from, *s))
			sb_puts(&b, to);
		else
			sb_putc(&b, *s);
	}
	return sb_steal(&b);
}

static void test_build_hostile(void **state)
{
	(void)state;
	char *ten_k = repeat("A", 10000);
	char *ten_k_utf8 = repeat("\xc3\xa9", 5000);
	char *ten_k_words = repeat("Bcc: evil@example.com ", 460);
	char *subject = xasprintf(
		"<script>alert(\"x\")</script>\r\nBcc: evil@example.com\r\n"
		"\nTo: x@y\r%s\x01\x1b[31m\x7f",
		ten_k);
	char *from_name =
		xasprintf("Eve \"the\" <evil>\r\nBcc: evil@example.com\r\n%s",
			  ten_k_utf8);
	char *to_name =
		xasprintf("\r\nBcc: evil@example.com\r\n\r\n%s", ten_k_words);
	char *text = xasprintf(
		"Hi\r\nBcc: body@example.com\r\n.\r\n"
		"--=_digest_00000000000000000000000000000000--\r\n"
		"=_ =3D \x01\x0c tab\t\r\nlone\rcr \xff\xfe end \n%s\n",
		ten_k);
	const char *html = "<p>\xe2\x80\x94</p>\r\n</html>";
	mime_message_t m = base;
	m.subject = subject;
	m.from_name = from_name;
	m.to_name = to_name;
	m.text = text;
	m.html = html;

	char *want_subject = subst(subject, "\r\n\x01\x1b\x7f", " ");
	char *want_from = subst(from_name, "\r\n", " ");
	char *want_to = subst(to_name, "\r\n", " ");
	/* CRLF is one break, not two; \xff\xfe two U+FFFD. */
	strbuf_t want_text = {0};
	for (const char *p = text; *p; p++) {
		if (*p == '\r') {
			sb_putc(&want_text, '\n');
			if (p[1] == '\n')
				p++;
		} else if ((unsigned char)*p >= 0xfe) {
			sb_puts(&want_text, "\xef\xbf\xbd");
		} else {
			sb_putc(&want_text, *p);
		}
	}
	expect_t e = {want_subject,
		      want_from,
		      m.from_addr,
		      want_to,
		      m.to_addr,
		      want_text.s,
		      "<p>\xe2\x80\x94</p>\n</html>"};
	size_t len;
	char *msg = build_checked(&m, &e, &len);
	assert_false(head_has_line(msg, "To: x@y"));
	assert_false(head_has_line(msg, "\x1b"));
	/* Exactly one of each header at the start of a line. */
	const char *once[] = {"Date:",    "From:",       "To:",
			      "Subject:", "Message-ID:", "MIME-Version:"};
	for (size_t i = 0; i < sizeof once / sizeof *once; i++) {
		size_t hl = head_len(msg), count = 0;
		for (size_t j = 0; j < hl; j++)
			if ((j == 0 || msg[j - 1] == '\n') &&
			    strncasecmp(msg + j, once[i], strlen(once[i])) == 0)
				count++;
		assert_int_equal(count, 1);
	}
	assert_true(head_longest(msg) <= 78);
	/* The fake boundary is QP-encoded, so it is no boundary. */
	assert_null(strstr(msg, "\r\n--=_digest_00000000"));
	assert_non_null(strstr(msg, "=3D_digest_0000"));

	free(msg);
	sb_free(&want_text);
	free(want_to);
	free(want_from);
	free(want_subject);
	free(text);
	free(to_name);
	free(from_name);
	free(subject);
	free(ten_k_words);
	free(ten_k_utf8);
	free(ten_k);
}

static void test_build_bad_addresses(void **state)
{
	(void)state;
	char *a250 = repeat("a", 250);
	char *too_long = xasprintf("%s@example.com", a250);
	const char *bad[] = {
		NULL,
		"",
		"alex",
		"alex@@example.com",
		"a@b@example.com",
		"@example.com",
		"alex@",
		"a b@example.com",
		"alex@example.com ",
		"alex\r\n@example.com",
		"alex@example.com\r\nBcc: evil@example.com",
		"alex@example.com\nBcc: evil@example.com",
		"<alex@example.com>",
		"Alex <alex@example.com>",
		"\"alex\"@example.com",
		"alex@example.com,evil@example.com",
		"a\x01@example.com",
		"alex@exa\x7fmple.com",
		"alex\t@example.com",
		"j\xc3\xb6rg@example.com",
		"alex(comment)@example.com",
		"alex@[127.0.0.1]",
		"a;b@example.com",
		too_long,
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		for (int which = 0; which < 2; which++) {
			mime_message_t m = base;
			strbuf_t out = {0};
			err_t err = {0};
			if (which)
				m.to_addr = bad[i];
			else
				m.from_addr = bad[i];
			sb_puts(&out, "keep");
			assert_int_equal(mime_build(&m, &out, &err),
					 ST_DATAERR);
			assert_int_equal(err.status, ST_DATAERR);
			assert_string_equal(out.s, "keep");
			assert_non_null(
				strstr(err.msg,
				       which ? "To address" : "From address"));
			assert_true(is_clean(err.msg, strlen(err.msg)));
			sb_free(&out);
		}
	}
	free(too_long);
	free(a250);

	const char *bad_ids[] = {
		NULL,
		"",
		"no-at-sign",
		"<digest.alex@example.com>",
		"a b@example.com",
		"a@b@example.com",
		"digest@example.com\r\nBcc: evil@example.com",
		"@example.com",
		"digest@",
	};
	for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
		mime_message_t m = base;
		strbuf_t out = {0};
		err_t err = {0};
		m.message_id = bad_ids[i];
		assert_int_equal(mime_build(&m, &out, &err), ST_DATAERR);
		assert_non_null(strstr(err.msg, "Message-ID"));
		assert_int_equal(out.len, 0);
	}

	/* Odd but valid addresses pass. */
	const char *good[] = {"a.b+tag@example.com", "o'brien@example.ie",
			      "x@localhost", "first_last-1@sub.example.co.uk"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		mime_message_t m = base;
		m.to_addr = good[i];
		expect_t e = expect_of(&m);
		size_t len;
		char *msg = build_checked(&m, &e, &len);
		free(msg);
	}
}

/* The Python read-back ran (in the tests above) on every built message. */
static void test_python_readback(void **state)
{
	(void)state;
	if (!test_have_prog("python3"))
		skip();
	assert_true(python_checks >= 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date_zones),
		cmocka_unit_test(test_encode_ascii),
		cmocka_unit_test(test_encode_utf8),
		cmocka_unit_test(test_encode_long),
		cmocka_unit_test(test_build_basic),
		cmocka_unit_test(test_build_appends),
		cmocka_unit_test(test_build_names),
		cmocka_unit_test(test_build_subjects),
		cmocka_unit_test(test_build_hostile),
		cmocka_unit_test(test_build_bad_addresses),
		cmocka_unit_test(test_python_readback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
