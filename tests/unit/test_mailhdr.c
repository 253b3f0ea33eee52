/*
 * test_mailhdr — mailsrc_parse_header and mailsrc_header_length: encoded
 * words, groups, dates and zones, broken lines and address lists, and (when
 * the shared corpus is present) every mail file of the corpus.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mailsrc.h"
#include "testlib.h"

/* Parse a NUL-terminated header into a fresh h. */
static void parse(const char *s, bool subject, mailsrc_header_t *h)
{
	memset(h, 0, sizeof *h);
	mailsrc_parse_header(s, strlen(s), subject, h);
}

/* True when some warning contains needle. */
static bool has_warning(const mailsrc_header_t *h, const char *needle)
{
	for (size_t i = 0; i < h->warnings.n; i++)
		if (strstr(h->warnings.v[i], needle))
			return true;
	return false;
}

/* No control characters, valid UTF-8 (str_sanitize changes nothing). */
static bool is_clean(const char *s)
{
	if (!s)
		return true;
	char *c = strdup(s);
	str_sanitize(c);
	bool same = strcmp(c, s) == 0;
	free(c);
	return same;
}

static void test_encoded_words(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <jm@example.com>\n"
	      "To: =?utf-8?b?SsO2cmc=?= <j@example.com>,\n"
	      " \"=?UTF-8?B?w4RsZmU=?=\" <a@example.com>,\n"
	      " =?ISO-8859-1?Q?Fran=E7ois?= <f@example.com>\n"
	      "Date: Tue, 1 Jul 2003 10:52:37 +0200\n",
	      false, &h);
	assert_int_equal(h.nfrom, 1);
	assert_string_equal(h.from[0].addr, "jm@example.com");
	assert_string_equal(h.from[0].name, "J\xc3\xb6rg M\xc3\xbcller");
	assert_int_equal(h.nrcpt, 3);
	assert_string_equal(h.rcpt[0].name, "J\xc3\xb6rg");
	/* quoted encoded word: decoded, quotes gone */
	assert_string_equal(h.rcpt[1].name, "\xc3\x84lfe");
	/* ISO-8859-1 → UTF-8 */
	assert_string_equal(h.rcpt[2].name, "Fran\xc3\xa7ois");
	assert_null(h.subject);
	mailsrc_header_clear(&h);
}

/* The plain address fields and UTF-8 names mailhdr.c reads itself come
 * out as libetpan reads them, and as expected; what it does not read
 * (comments, groups, a trailing comma, quoted pairs) still comes out
 * the same. */
static void test_own_parsers(void **state)
{
	(void)state;
	static const char *const headers[] = {
		"From: Alex Leader <alex@example.com>\n"
		"To: Ann Lee <a@example.com>, =?UTF-8?Q?Bj=C3=B6rn?= Yilmaz\n"
		"  <b@example.com>,c@example.com ,\n"
		"\t\"Lee,  Ann\" <d@example.com>, J. R. Doe<e@example.com>\n"
		"Cc: <f@example.com>, =?utf-8?b?w4RsZmU=?= "
		"=?UTF-8?B?IGFuZA==?=\n"
		" x <g@example.com>\n"
		"Subject: Re: =?UTF-8?B?w4RsZmU=?= =?UTF-8?B?IGFuZA==?= "
		"plain\n",
		/* left to libetpan, field by field */
		"To: Ann (Sales) <a@example.com>, Team: b@example.com;\n"
		"Cc: c@example.com,\n"
		"Bcc: \"A \\\"B\\\"\" <d@example.com>, =?utf-8?q?=e9?= "
		"<e@x.org>\n"
		"From: =?UTF-8?Q?Caf=C3=A9?=x <f@example.com>\n"
		"Subject: =?UTF-8?Q?bad=FF?= =?UTF-8?B?QR==?=\n",
	};
	for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
		mailsrc_header_t h, e;
		parse(headers[i], true, &h);
		mailhdr_own_parsers = false;
		parse(headers[i], true, &e);
		mailhdr_own_parsers = true;
		assert_int_equal(h.nfrom, e.nfrom);
		assert_int_equal(h.nrcpt, e.nrcpt);
		for (size_t k = 0; k < h.nrcpt; k++) {
			assert_string_equal(h.rcpt[k].addr, e.rcpt[k].addr);
			assert_true((!h.rcpt[k].name && !e.rcpt[k].name) ||
				    strcmp(h.rcpt[k].name, e.rcpt[k].name) ==
					    0);
		}
		assert_string_equal(h.subject, e.subject);
		assert_int_equal(h.warnings.n, e.warnings.n);
		if (i == 0) {
			assert_int_equal(h.nrcpt, 7);
			assert_string_equal(h.from[0].name, "Alex Leader");
			assert_string_equal(h.rcpt[0].name, "Ann Lee");
			assert_string_equal(h.rcpt[1].name,
					    "Bj\xc3\xb6rn Yilmaz");
			assert_null(h.rcpt[2].name);
			assert_string_equal(h.rcpt[2].addr, "c@example.com");
			assert_string_equal(h.rcpt[3].name, "Lee, Ann");
			assert_string_equal(h.rcpt[4].name, "J. R. Doe");
			assert_null(h.rcpt[5].name);
			assert_string_equal(h.rcpt[6].name,
					    "\xc3\x84lfe and x");
			assert_string_equal(h.subject,
					    "Re: \xc3\x84lfe and plain");
		}
		mailsrc_header_clear(&h);
		mailsrc_header_clear(&e);
	}
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Date, Subject and plain ids read by mailhdr.c itself come out as
 * libetpan's path reads them, and as expected; ids it leaves to
 * libetpan (comments, blanks, a missing '>', a second '<') too. */
static void test_own_ids_and_dates(void **state)
{
	(void)state;
	static const struct {
		const char *header, *mid, *irt;
		int64_t date; /* 0: none */
	} cases[] = {
		{"Message-ID: <a.1@x.org>\nIn-Reply-To: <p@x.org>\n"
		 "Date: Tue, 1 Jul 2003 10:52:37 +0200\n",
		 "a.1@x.org", "p@x.org", 1057049557},
		/* folded, CRLF, two ids, a zone with a colon */
		{"Message-Id:\r\n <a.2@x.org>\r\n"
		 "In-Reply-To: <p@x.org>\r\n\t<q@x.org> \r\n"
		 "DATE:\r\n 1 Jul 2003 10:52:37 +02:00\r\n",
		 "a.2@x.org", "p@x.org", 1057049557},
		/* left to libetpan: a comment, a blank inside, no '>' */
		{"Message-ID: <a.3@x.org> (by hand)\n"
		 "In-Reply-To: <p @x.org>\n"
		 "Date: Tue, 1 Jul 2003 10:52:37 (CEST) +0200\n",
		 "a.3@x.org", "p@x.org", 1057049557},
		{"Message-ID: <a.4@x.org\nIn-Reply-To: Bob's message <p@x>\n"
		 "Date: yesterday\nDate: 1 Jul 2003 10:52:37 GMT\n",
		 "a.4@x.org", "p@x", 1057056757},
		{"Message-ID: <>\nIn-Reply-To: <<p@x>>\nDate:\n", NULL, "p@x",
		 0},
		{"Message-ID: a.6@x.org\nIn-Reply-To: <p@x> <q\n", "a.6@x.org",
		 "p@x", 0},
		/* plain dates read by mailhdr.c, and others left to
		 * libetpan */
		{"Date: 01 Jul 2003 10:52:37 -0000\n", NULL, NULL, 1057056757},
		{"Date:  Sun, 1 Jul 2003 10:52:37 +0001 \n", NULL, NULL,
		 1057056697},
		{"Date: 31 Feb 2003 10:52:37 +0000\nDate: tue, 1 jul 2003 "
		 "10:52:37 +0100\n",
		 NULL, NULL, 1057053157},
		{"Date: Tue, 1 Jul 2003 10:52 +0000\n", NULL, NULL, 1057056720},
		{"Date: Tue, 1 Jul 03 10:52:37 +0000\n", NULL, NULL,
		 1057056757},
		/* a value ending in a line of blanks, which libetpan drops
		 * as malformed (found by fuzz_header) */
		{"Date: Mon +0\r\n\t\r\n\t\nS=nFrom: x\n", NULL, NULL, 0},
		{"From: +0\r\n\t\r\n\t\nMessage-ID: <m@x>\n \n", "m@x", NULL,
		 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		mailsrc_header_t h, e;
		parse(cases[i].header, true, &h);
		mailhdr_own_parsers = false;
		parse(cases[i].header, true, &e);
		mailhdr_own_parsers = true;
		assert_true(same_str(h.message_id, e.message_id));
		assert_true(same_str(h.in_reply_to, e.in_reply_to));
		assert_int_equal(h.has_date, e.has_date);
		assert_int_equal(h.date, e.date);
		assert_int_equal(h.warnings.n, e.warnings.n);
		assert_true(same_str(h.message_id, cases[i].mid));
		assert_true(same_str(h.in_reply_to, cases[i].irt));
		assert_int_equal(h.has_date, cases[i].date != 0);
		if (cases[i].date)
			assert_int_equal(h.date, cases[i].date);
		mailsrc_header_clear(&h);
		mailsrc_header_clear(&e);
	}
}

/* Quotes that are part of a name or subject stay; only those around
 * encoded words go. */
static void test_quotes_kept(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: \"\\\"Bob\\\"\" <b@example.com>\n"
	      "To: \"\\\"Al\\\" Lee\\\"\" <a@example.com>,\n"
	      " \"=?UTF-8?Q?Ed?=\" <e@example.com>\n"
	      "Subject: \"Budget\"\n",
	      true, &h);
	assert_string_equal(h.from[0].name, "\"Bob\"");
	assert_string_equal(h.rcpt[0].name, "\"Al\" Lee\"");
	assert_string_equal(h.rcpt[1].name, "Ed");
	assert_string_equal(h.subject, "\"Budget\"");
	mailsrc_header_clear(&h);
}

static void test_folded_encoded_words(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("Subject: =?UTF-8?Q?Hello?=\r\n"
	      " =?UTF-8?Q?_W=C3=B6rld?=\r\n"
	      "From: =?UTF-8?Q?Anna?=\r\n"
	      "\t=?UTF-8?Q?-Lena?= <al@example.com>\r\n"
	      "\r\n"
	      "To: body@example.com\r\n",
	      true, &h);
	assert_string_equal(h.subject, "Hello W\xc3\xb6rld");
	assert_int_equal(h.nfrom, 1);
	assert_string_equal(h.from[0].name, "Anna-Lena");
	assert_int_equal(h.nrcpt, 0); /* the body is never read */
	assert_int_equal(h.warnings.n, 0);
	mailsrc_header_clear(&h);
}

static void test_groups(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: me@example.com\n"
	      "To: undisclosed-recipients:;\n"
	      "Cc: A Group: a@example.com, \"C D\" <c@example.com>;, "
	      "e@example.com\n",
	      false, &h);
	assert_int_equal(h.nrcpt, 3);
	assert_string_equal(h.rcpt[0].addr, "a@example.com");
	assert_null(h.rcpt[0].name);
	assert_string_equal(h.rcpt[1].addr, "c@example.com");
	assert_string_equal(h.rcpt[1].name, "C D");
	assert_string_equal(h.rcpt[2].addr, "e@example.com");
	assert_int_equal(h.warnings.n, 0);
	mailsrc_header_clear(&h);
}

static void test_missing_date(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: me@example.com\nTo: a@example.com\n", false, &h);
	assert_false(h.has_date);
	assert_int_equal(h.nfrom, 1);
	mailsrc_header_clear(&h);
}

/* Date value → UTC seconds, or -1 for "no date". */
static int64_t date_of(const char *value)
{
	char *s = NULL;
	mailsrc_header_t h;
	if (asprintf(&s, "From: me@example.com\nDate: %s\n", value) < 0)
		abort();
	parse(s, false, &h);
	int64_t t = h.has_date ? h.date : -1;
	mailsrc_header_clear(&h);
	free(s);
	return t;
}

static void test_dates(void **state)
{
	(void)state;
	assert_int_equal(date_of("Tue, 1 Jul 2003 10:52:37 +0200"), 1057049557);
	assert_int_equal(date_of("Tue, 1 Jul 2003 10:52:37 +0530"), 1057036957);
	assert_int_equal(date_of("Tue, 1 Jul 2003 10:52:37 -0700 (PDT)"),
			 1057081957);
	assert_int_equal(date_of("1 Jul 2003 10:52:37 GMT"), 1057056757);
	/* libetpan reads "UT" as zone 1 */
	assert_int_equal(date_of("Tue, 1 Jul 2003 10:52:37 UT"), 1057056757);
	/* two- and three-digit years */
	assert_int_equal(date_of("Fri, 31 Dec 99 23:59:59 +0000"), 946684799);
	assert_int_equal(date_of("Tue, 1 Jul 103 10:52:37 +0000"), 1057056757);
	/* fallbacks for what libetpan refuses */
	assert_int_equal(date_of("Tue Jul  1 10:52:37 2003"), 1057056757);
	assert_int_equal(date_of("Tue, 1 Jul 2003 10:52:37 +02:00"),
			 1057049557);
	assert_int_equal(date_of("2003-07-01T10:52:37-01:30"), 1057062157);
	assert_int_equal(date_of("Tue, 1 Jul 2003 10:52:37 +0200 junk"),
			 1057049557);
	/* impossible */
	assert_int_equal(date_of("Mon, 30 Feb 2021 12:00:00 +0000"), -1);
	assert_int_equal(date_of("Mon, 0 Jan 2003 12:00:00 +0000"), -1);
	assert_int_equal(date_of("Thu, 1 Jan 1960 12:00:00 +0000"), -1);
	assert_int_equal(date_of("Mon, 32 Jan 2003 25:61:00 +0000"), -1);
	assert_int_equal(date_of("garbage"), -1);
	assert_int_equal(date_of(""), -1);

	mailsrc_header_t h;
	parse("Date: Mon, 30 Feb 2021 12:00:00 +0000\nFrom: me@example.com\n",
	      false, &h);
	assert_false(h.has_date);
	assert_true(has_warning(&h, "impossible Date"));
	mailsrc_header_clear(&h);
}

static void test_two_digit_year_named_zone(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("Date: 5 Mar 24 10:00:00 EST\n", false, &h);
	assert_true(h.has_date);
	assert_int_equal(h.date, 1709650800); /* 2024-03-05T15:00:00Z */
	mailsrc_header_clear(&h);
	assert_int_equal(date_of("Tue, 1 Jul 2003 10:52:37 EST"), 1057074757);
}

static void test_bcc_and_case(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: Me <ME@Example.COM>\n"
	      "To: Alice <Alice@EXAMPLE.org>\n"
	      "Bcc: secret@example.net, Other <OTHER@example.net>\n"
	      "Bcc:\n"
	      "Cc:\n",
	      false, &h);
	assert_string_equal(h.from[0].addr, "me@example.com");
	assert_int_equal(h.nrcpt, 3);
	assert_string_equal(h.rcpt[0].addr, "alice@example.org");
	assert_string_equal(h.rcpt[0].name, "Alice");
	assert_string_equal(h.rcpt[1].addr, "secret@example.net");
	assert_string_equal(h.rcpt[2].addr, "other@example.net");
	assert_int_equal(h.warnings.n, 0);
	mailsrc_header_clear(&h);
}

static void test_line_without_colon(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: me@example.com\n"
	      "This line has no colon\n"
	      "  and a continuation\n"
	      "To: a@example.com\n"
	      "another bad line\n"
	      "Message-ID: <id1@example.com>\n",
	      false, &h);
	assert_int_equal(h.nfrom, 1);
	assert_int_equal(h.nrcpt, 1);
	assert_string_equal(h.rcpt[0].addr, "a@example.com");
	assert_string_equal(h.message_id, "id1@example.com");
	assert_int_equal(h.warnings.n, 2);
	assert_string_equal(h.warnings.v[0], "dropped malformed header line 2");
	assert_string_equal(h.warnings.v[1], "dropped malformed header line 5");
	mailsrc_header_clear(&h);

	/* line numbers count the envelope line; the first line may be bad */
	parse("From x@y Mon Jan  1 00:00:00 2024\r\n"
	      " stray continuation\r\n"
	      "From: me@example.com\r\n",
	      false, &h);
	assert_int_equal(h.nfrom, 1);
	assert_int_equal(h.warnings.n, 1);
	assert_string_equal(h.warnings.v[0], "dropped malformed header line 2");
	mailsrc_header_clear(&h);
}

static void test_empty_list_elements(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: me@example.com\n"
	      "To: a@example.com,, c@example.com\n"
	      "Cc: <d@example.com>,\n"
	      "Bcc: G: e@example.com,, f@example.com;\n",
	      false, &h);
	assert_int_equal(h.nrcpt, 5);
	assert_string_equal(h.rcpt[0].addr, "a@example.com");
	assert_string_equal(h.rcpt[1].addr, "c@example.com");
	assert_string_equal(h.rcpt[2].addr, "d@example.com");
	assert_string_equal(h.rcpt[3].addr, "e@example.com");
	assert_string_equal(h.rcpt[4].addr, "f@example.com");
	mailsrc_header_clear(&h);

	/* element by element: the good ones stay, the bad one is named */
	parse("From: me@example.com\n"
	      "To: a@example.com, Name <b@example.com> junk, "
	      "\"Doe, Jo\" <jo@example.com>\n",
	      false, &h);
	assert_int_equal(h.nrcpt, 2);
	assert_string_equal(h.rcpt[0].addr, "a@example.com");
	assert_string_equal(h.rcpt[1].addr, "jo@example.com");
	assert_string_equal(h.rcpt[1].name, "Doe, Jo");
	assert_true(has_warning(&h, "dropped unparsable address in To"));
	mailsrc_header_clear(&h);
}

static void test_address_without_at(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: me@example.com\nTo: foo bar\nCc: ok@example.com\n", false,
	      &h);
	assert_int_equal(h.nrcpt, 1);
	assert_string_equal(h.rcpt[0].addr, "ok@example.com");
	assert_true(has_warning(&h, "dropped address without @ in To"));
	mailsrc_header_clear(&h);

	parse("To: <a@b, c@d@e, @x, y@, [z]@w, ok@[10.0.0.1]\n", false, &h);
	assert_int_equal(h.nrcpt, 1);
	assert_string_equal(h.rcpt[0].addr, "ok@[10.0.0.1]");
	mailsrc_header_clear(&h);
}

static void test_message_ids(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("Message-Id: abc@def\nIn-Reply-To: <x@y> <z@w>\n", false, &h);
	assert_string_equal(h.message_id, "abc@def");
	assert_string_equal(h.in_reply_to, "x@y");
	mailsrc_header_clear(&h);

	parse("Message-ID: <a@b> <c@d>\n"
	      "In-Reply-To: Your message of Tuesday <q@r>\n",
	      false, &h);
	assert_string_equal(h.message_id, "a@b");
	assert_string_equal(h.in_reply_to, "q@r");
	mailsrc_header_clear(&h);

	parse("Message-ID:\nMessage-ID: <>\n", false, &h);
	assert_null(h.message_id);
	assert_null(h.in_reply_to);
	mailsrc_header_clear(&h);
}

static void test_automated(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("Auto-Submitted: auto-replied\n", false, &h);
	assert_true(h.automated);
	mailsrc_header_clear(&h);
	parse("Auto-Submitted: No (sent by a person)\n", false, &h);
	assert_false(h.automated);
	mailsrc_header_clear(&h);
	parse("Auto-Submitted: (comment) auto-generated; x=y\n", false, &h);
	assert_true(h.automated);
	mailsrc_header_clear(&h);
	parse("Precedence: bulk\n", false, &h);
	assert_true(h.automated);
	mailsrc_header_clear(&h);
	parse("Precedence: LIST\n", false, &h);
	assert_true(h.automated);
	mailsrc_header_clear(&h);
	parse("Precedence: first-class\nFrom: me@example.com\n", false, &h);
	assert_false(h.automated);
	mailsrc_header_clear(&h);
}

static void test_subject_only_when_asked(void **state)
{
	(void)state;
	const char *s = "Subject: =?UTF-8?B?SGVsbG8=?= there\nFrom: a@b.c\n";
	mailsrc_header_t h;
	parse(s, false, &h);
	assert_null(h.subject);
	mailsrc_header_clear(&h);
	parse(s, true, &h);
	assert_string_equal(h.subject, "Hello there");
	mailsrc_header_clear(&h);
}

static void test_crlf_and_mixed(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: Me <me@example.com>\r\n"
	      "To: a@example.com,\r\n"
	      "  b@example.com\n"
	      "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
	      "Subject: hi\r\n"
	      "\r\n"
	      "body\r\n",
	      true, &h);
	assert_string_equal(h.from[0].name, "Me");
	assert_int_equal(h.nrcpt, 2);
	assert_string_equal(h.rcpt[1].addr, "b@example.com");
	assert_true(h.has_date);
	assert_int_equal(h.date, 1057049557);
	assert_string_equal(h.subject, "hi");
	assert_int_equal(h.warnings.n, 0);
	mailsrc_header_clear(&h);
}

static void test_envelope_and_bom(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From me@example.com Tue Jul  1 10:52:37 2003\n"
	      "From: me@example.com\n"
	      "To: a@example.com\n",
	      false, &h);
	assert_int_equal(h.nfrom, 1);
	assert_int_equal(h.nrcpt, 1);
	assert_int_equal(h.warnings.n, 0);
	mailsrc_header_clear(&h);

	parse("\xef\xbb\xbf"
	      "From: me@example.com\nTo: a@example.com\n",
	      false, &h);
	assert_int_equal(h.nfrom, 1);
	assert_int_equal(h.nrcpt, 1);
	mailsrc_header_clear(&h);

	/* obsolete "From :" is a field, not an envelope line */
	parse("From : me@example.com\n", false, &h);
	assert_int_equal(h.nfrom, 1);
	mailsrc_header_clear(&h);
}

static void test_sanitized_names(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: \"=?UTF-8?Q?Evil=0D=0ABcc:_x@y?=\" <e@example.com>\n"
	      "To: =?UTF-8?B?AQID?= <c@example.com>, \"\" <d@example.com>\n"
	      "Subject: =?UTF-8?Q?a=07b=0Ac?=\n",
	      true, &h);
	assert_string_equal(h.from[0].name, "Evil Bcc: x@y");
	assert_null(h.rcpt[0].name); /* only control characters */
	assert_null(h.rcpt[1].name);
	assert_string_equal(h.subject, "a b c");
	assert_true(is_clean(h.from[0].name));
	mailsrc_header_clear(&h);

	/* NUL bytes and invalid UTF-8 do no harm */
	static const char raw[] = "From: J\xff\xfe <j@example.com>\n"
				  "Subject: a\0b\n"
				  "To: x@example.com\n";
	memset(&h, 0, sizeof h);
	mailsrc_parse_header(raw, sizeof raw - 1, true, &h);
	assert_int_equal(h.nfrom, 1);
	assert_true(is_clean(h.from[0].name));
	assert_string_equal(h.subject, "a b");
	assert_int_equal(h.nrcpt, 1);
	mailsrc_header_clear(&h);
}

/* An encoded NUL is a control character: a space, not the end of the
 * name (libetpan hands each decoded word on as a C string). */
static void test_encoded_nul(void **state)
{
	(void)state;
	mailsrc_header_t h;
	/* "Bo\0b", "\0Cy", "Di\0\0" in base64 */
	parse("To: =?UTF-8?Q?Ann=00e?= <a@example.com>,\n"
	      " =?utf-8?b?Qm8AYg==?= <b@example.com>,\n"
	      " =?UTF-8?B?AEN5?= <c@example.com>,\n"
	      " =?UTF-8?Q?Di=00=00?= <d@example.com>,\n"
	      " =?UTF-8?Q?Ed_=3D00_=C3=A9?= <e@example.com>,\n"
	      " =?ISO-8859-1?Q?F=00=E9?= =?UTF-8?Q?_x=00y?= <f@example.com>\n"
	      "Subject: =?UTF-8?Q?Budget=00_2027?=\n",
	      true, &h);
	assert_int_equal(h.nrcpt, 6);
	assert_string_equal(h.rcpt[0].name, "Ann e");
	assert_string_equal(h.rcpt[1].name, "Bo b");
	assert_string_equal(h.rcpt[2].name, "Cy");
	assert_string_equal(h.rcpt[3].name, "Di");
	/* "=3D00" is "=00" written out, not a NUL */
	assert_string_equal(h.rcpt[4].name, "Ed =00 \xc3\xa9");
	assert_string_equal(h.rcpt[5].name, "F \xc3\xa9 x y");
	assert_string_equal(h.subject, "Budget 2027");
	mailsrc_header_clear(&h);
}

/* A header block as long as a backend hands out, without its empty line,
 * was cut: said, so that a Date lost below a huge To: is explained. */
static void test_cut_header(void **state)
{
	(void)state;
	mailsrc_header_t h;
	const size_t max = 1024 * 1024;
	char *buf = malloc(max + 1);
	assert_non_null(buf);
	int n = snprintf(buf, max, "From: alex@example.com\nTo: ");
	memset(buf + n, 'x', max - (size_t)n);
	memcpy(buf + max - 40, "@example.com, ", 14);
	buf[max] = '\0';
	memset(&h, 0, sizeof h);
	mailsrc_parse_header(buf, max, false, &h);
	assert_int_equal(h.nfrom, 1);
	assert_false(h.has_date);
	assert_true(h.cut);
	assert_true(h.warnings.n >= 1);
	assert_string_equal(h.warnings.v[0],
			    "header over 1 MiB: cut there, fields after it "
			    "not read");
	mailsrc_header_clear(&h);

	/* one byte shorter: whole (the backend would have found its end) */
	memset(&h, 0, sizeof h);
	mailsrc_parse_header(buf, max - 1, false, &h);
	assert_false(h.cut);
	assert_false(has_warning(&h, "MiB"));
	mailsrc_header_clear(&h);

	/* as long, but with its empty line: whole */
	memcpy(buf + max - 2, "\n\n", 2);
	memset(&h, 0, sizeof h);
	mailsrc_parse_header(buf, max, false, &h);
	assert_false(has_warning(&h, "MiB"));
	mailsrc_header_clear(&h);
	free(buf);
}

/* RFC 5322 appendix A.5 and A.6 forms (dates moved after 1970). */
static void test_obsolete_forms(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: Pete(A wonderful \\) chap) <pete(his account)@silly.test"
	      "(his host)>\n"
	      "To:A Group(Some people)\n"
	      "     :Chris Jones <c@(Chris's host.)public.example>,\n"
	      "         joe@example.org,\n"
	      "  John <jdoe@one.test> (my dear friend); (the end of the "
	      "group)\n"
	      "Cc:(Empty list)(start)Undisclosed recipients  :(nobody(that I "
	      "know))  ;\n"
	      "Date: Thu,\n"
	      "      13\n"
	      "        Feb\n"
	      "          1999\n"
	      "      23:32\n"
	      "               -0330 (Newfoundland Time)\n"
	      "Message-ID:              <testabcd.1234@silly.test>\n",
	      false, &h);
	assert_int_equal(h.nfrom, 1);
	assert_string_equal(h.from[0].addr, "pete@silly.test");
	assert_int_equal(h.nrcpt, 3);
	assert_string_equal(h.rcpt[0].addr, "c@public.example");
	assert_string_equal(h.rcpt[0].name, "Chris Jones");
	assert_string_equal(h.rcpt[1].addr, "joe@example.org");
	assert_string_equal(h.rcpt[2].addr, "jdoe@one.test");
	assert_true(h.has_date);
	assert_int_equal(h.date, 918961320); /* 1999-02-14T03:02:00Z */
	assert_string_equal(h.message_id, "testabcd.1234@silly.test");
	assert_int_equal(h.warnings.n, 0);
	mailsrc_header_clear(&h);

	parse("From  : John Doe <jdoe@machine(comment).  example>\n"
	      "To    : Mary Smith <@machine.tld:mary@example.net>, , "
	      "jdoe@test   . example\n"
	      "Date  : Fri, 21 Nov 1997 09(comment):   55  :  06 -0600\n"
	      "From: =?iso-8859-1?Q? \"=F6tzi\" ?= <oetzi@web.de>\n",
	      false, &h);
	assert_int_equal(h.nfrom, 2);
	assert_string_equal(h.from[0].addr, "jdoe@machine.example");
	assert_string_equal(h.from[1].name, "\xc3\xb6tzi");
	assert_int_equal(h.nrcpt, 2);
	assert_string_equal(h.rcpt[0].addr, "mary@example.net");
	assert_string_equal(h.rcpt[1].addr, "jdoe@test.example");
	assert_true(h.has_date);
	assert_int_equal(h.date, 880127706); /* 1997-11-21T15:55:06Z */
	mailsrc_header_clear(&h);
}

static void test_sender_and_from(void **state)
{
	(void)state;
	mailsrc_header_t h;
	parse("From: Boss <boss@example.com>, Two <two@example.com>\n"
	      "Sender: Assistant <ASSIST@example.com>\n"
	      "Sender: other@example.com\n",
	      false, &h);
	assert_int_equal(h.nfrom, 2);
	assert_non_null(h.sender);
	assert_string_equal(h.sender->addr, "assist@example.com");
	assert_string_equal(h.sender->name, "Assistant");
	mailsrc_header_clear(&h);

	/* a From libetpan refuses is re-read */
	parse("From: me@example.com,\n", false, &h);
	assert_int_equal(h.nfrom, 1);
	assert_string_equal(h.from[0].addr, "me@example.com");
	mailsrc_header_clear(&h);

	/* nobody in particular: parsed, nothing else */
	parse("From: Mail Delivery System <MAILER-DAEMON@example.com>\n", false,
	      &h);
	assert_string_equal(h.from[0].addr, "mailer-daemon@example.com");
	mailsrc_header_clear(&h);
}

static void test_header_length(void **state)
{
	(void)state;
	assert_int_equal(mailsrc_header_length("a: b\n\nbody", 10), 6);
	assert_int_equal(mailsrc_header_length("a: b\r\n\r\nbody", 12), 8);
	assert_int_equal(mailsrc_header_length("a: b\r\n\nbody", 11), 7);
	assert_int_equal(mailsrc_header_length("a: b\nc: d\n", 10), 10);
	assert_int_equal(mailsrc_header_length("\nbody", 5), 1);
	assert_int_equal(mailsrc_header_length("", 0), 0);
	assert_int_equal(mailsrc_header_length("a: b\n \nc", 8), 8);

	mailsrc_header_t h = {0};
	mailsrc_parse_header(NULL, 0, true, &h);
	assert_int_equal(h.nfrom, 0);
	mailsrc_header_clear(&h);
	mailsrc_header_clear(NULL);
}

static void test_many_bad_lines(void **state)
{
	(void)state;
	strbuf_t b = {0};
	sb_puts(&b, "From: me@example.com\n");
	for (int i = 0; i < 5000; i++)
		sb_printf(&b, "bad line %d\n", i);
	sb_puts(&b, "To: a@example.com\n");
	mailsrc_header_t h = {0};
	mailsrc_parse_header(b.s, b.len, false, &h);
	assert_int_equal(h.nrcpt, 1);
	assert_int_equal(h.warnings.n, 21);
	assert_string_equal(h.warnings.v[20],
			    "dropped 4980 more malformed header lines");
	mailsrc_header_clear(&h);
	sb_free(&b);
}

/* ---- the shared corpus ---------------------------------------------- */

static size_t corpus_files;

static void check_addr(const mailsrc_addr_t *a)
{
	assert_non_null(a->addr);
	assert_true(a->addr[0] != '\0');
	assert_non_null(strchr(a->addr, '@'));
	assert_true(is_clean(a->addr));
	if (a->name) {
		assert_true(a->name[0] != '\0');
		assert_true(is_clean(a->name));
	}
}

static int corpus_one(const char *path, const struct stat *sb, int type,
		      struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	char *buf = malloc((size_t)sb->st_size + 1);
	assert_non_null(buf);
	size_t len = fread(buf, 1, (size_t)sb->st_size, f);
	fclose(f);

	size_t hlen = mailsrc_header_length(buf, len);
	assert_true(hlen <= len);
	mailsrc_header_t h = {0};
	mailsrc_parse_header(buf, hlen, true, &h);
	for (size_t i = 0; i < h.nfrom; i++)
		check_addr(&h.from[i]);
	for (size_t i = 0; i < h.nrcpt; i++)
		check_addr(&h.rcpt[i]);
	if (h.sender)
		check_addr(h.sender);
	assert_true(is_clean(h.subject));
	assert_true(is_clean(h.message_id));
	assert_true(is_clean(h.in_reply_to));
	if (h.subject)
		assert_true(h.subject[0] != '\0');
	if (h.has_date)
		assert_true(h.date >= -14 * 3600 &&
			    h.date < INT64_C(253402300800) + 14 * 3600);
	for (size_t i = 0; i < h.warnings.n; i++)
		assert_true(is_clean(h.warnings.v[i]));
	mailsrc_header_clear(&h);
	free(buf);
	corpus_files++;
	return 0;
}

static void test_corpus(void **state)
{
	(void)state;
	char *dir = test_shared_path("corpus/mail");
	struct stat sb;

	if (!dir || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		free(dir);
		skip();
	}
	corpus_files = 0;
	assert_int_equal(nftw(dir, corpus_one, 16, FTW_PHYS), 0);
	assert_true(corpus_files > 0);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoded_words),
		cmocka_unit_test(test_own_parsers),
		cmocka_unit_test(test_own_ids_and_dates),
		cmocka_unit_test(test_folded_encoded_words),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_missing_date),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_two_digit_year_named_zone),
		cmocka_unit_test(test_bcc_and_case),
		cmocka_unit_test(test_line_without_colon),
		cmocka_unit_test(test_empty_list_elements),
		cmocka_unit_test(test_address_without_at),
		cmocka_unit_test(test_message_ids),
		cmocka_unit_test(test_automated),
		cmocka_unit_test(test_subject_only_when_asked),
		cmocka_unit_test(test_crlf_and_mixed),
		cmocka_unit_test(test_envelope_and_bom),
		cmocka_unit_test(test_sanitized_names),
		cmocka_unit_test(test_encoded_nul),
		cmocka_unit_test(test_quotes_kept),
		cmocka_unit_test(test_cut_header),
		cmocka_unit_test(test_obsolete_forms),
		cmocka_unit_test(test_sender_and_from),
		cmocka_unit_test(test_header_length),
		cmocka_unit_test(test_many_bad_lines),
		cmocka_unit_test(test_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
