/*
 * Fuzz target: the encoders of the outgoing digest (mime_build's RFC 2047
 * words and quoted-printable bodies) against the decoders that read
 * incoming mail (mailsrc_parse_header's, libetpan's).  The input is a
 * phrase, a NUL, and a body.  Traps when
 *  - the phrase, cleaned as a stored name is (ident_clean_name), written
 *    as the From and To display names and as the Subject, does not come
 *    back the same through mailsrc_parse_header;
 *  - the body does not come back from either quoted-printable part as
 *    mime_build promises (CRLF and lone CR as line breaks, invalid UTF-8
 *    as U+FFFD);
 *  - a header line is longer than 78 columns, a CR or LF stands anywhere
 *    but in a CRLF, or the header holds a field other than the eight
 *    mime_build writes, or one twice (something was injected);
 *  - a body line is longer than 76 octets.
 * Built for libFuzzer with -DDIGEST_FUZZ=ON (clang); replay.c runs it
 * over tests/fuzz/encode in the ordinary test suite.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "ident.h"
#include "mailsrc.h"
#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			__builtin_trap();                                      \
	} while (0)

/* What mime_build makes of a body: CRLF and lone CR become LF, invalid
 * UTF-8 U+FFFD.  Caller frees. */
static char *expected_body(const char *s)
{
	strbuf_t b = {0};
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = str_utf8_len(p);
		if (n == 0) {
			sb_puts(&b, "\xef\xbf\xbd");
			n = 1;
		} else if (*p == '\r') {
			sb_putc(&b, '\n');
			n = p[1] == '\n' ? 2 : 1;
		} else {
			sb_add(&b, (const char *)p, n);
		}
		p += n;
	}
	return sb_steal(&b);
}

/*
 * What the decoder gives back for phrase, written in field of msg: the
 * phrase, except that the decoder drops quotes around what encoded words
 * decode to (mailers put them inside: =?iso-8859-1?Q?"=F6tzi"?=), so a
 * phrase in quotes that had to be encoded comes back without them.
 * Caller frees.
 */
static char *expected_phrase(const char *msg, const char *field,
			     const char *phrase)
{
	char *want = xstrdup(phrase);
	size_t n = want ? strlen(want) : 0;
	char *at = xasprintf("\r\n%s:", field);
	const char *line = strstr(msg, at);
	CHECK(line);
	line += strlen(at);
	line += *line == ' ';
	if (n >= 2 && want[0] == '"' && want[n - 1] == '"' &&
	    strncmp(line, "=?", 2) == 0) {
		memmove(want, want + 1, n - 2);
		want[n - 2] = '\0';
		want = ident_clean_name(want);
	}
	free(at);
	return want;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The header block [0, hlen) of msg: CRLF only, lines of at most 78
 * columns, and exactly the fields mime_build writes, once each. */
static void check_header(const char *msg, size_t hlen)
{
	static const char *const fields[] = {
		"Date",         "From",         "To",
		"Subject",      "Message-ID",   "Auto-Submitted",
		"MIME-Version", "Content-Type", NULL};
	int seen[8] = {0};
	size_t start = 0;
	for (size_t i = 0; i < hlen; i++) {
		if (msg[i] == '\r')
			CHECK(i + 1 < hlen && msg[i + 1] == '\n');
		if (msg[i] == '\n') {
			CHECK(i > 0 && msg[i - 1] == '\r');
			CHECK(i - 1 - start <= 78);
			const char *line = msg + start;
			size_t len = i - 1 - start;
			start = i + 1;
			if (len == 0 || line[0] == ' ' || line[0] == '\t')
				continue; /* the end, or a folded line */
			const char *colon = memchr(line, ':', len);
			CHECK(colon);
			size_t k = 0;
			while (fields[k] &&
			       !(strlen(fields[k]) == (size_t)(colon - line) &&
				 strncasecmp(fields[k], line,
					     (size_t)(colon - line)) == 0))
				k++;
			CHECK(fields[k]);
			CHECK(seen[k]++ == 0);
		}
	}
	for (size_t k = 0; fields[k]; k++)
		CHECK(seen[k] == 1);
}

/* Each part of the multipart/alternative, decoded by libetpan, is the
 * expected body (line breaks as LF); its lines are at most 76 octets. */
static void check_bodies(const char *msg, size_t len, const char *want)
{
	struct mailmime *mime = NULL;
	size_t idx = 0;
	CHECK(mailmime_parse(msg, len, &idx, &mime) == MAILIMF_NO_ERROR);
	CHECK(mime->mm_type == MAILMIME_MESSAGE);
	struct mailmime *alt = mime->mm_data.mm_message.mm_msg_mime;
	CHECK(alt && alt->mm_type == MAILMIME_MULTIPLE);
	clist *parts = alt->mm_data.mm_multipart.mm_mp_list;
	CHECK(clist_count(parts) == 2);
	for (clistiter *it = clist_begin(parts); it; it = clist_next(it)) {
		struct mailmime *part = clist_content(it);
		CHECK(part->mm_type == MAILMIME_SINGLE);
		struct mailmime_data *d = part->mm_data.mm_single;
		CHECK(d && d->dt_type == MAILMIME_DATA_TEXT);
		const char *qp = d->dt_data.dt_text.dt_data;
		size_t qplen = d->dt_data.dt_text.dt_length, col = 0;
		for (size_t i = 0; i < qplen; i++) {
			col = qp[i] == '\n' || qp[i] == '\r' ? 0 : col + 1;
			CHECK(col <= 76);
		}
		char *dec = NULL;
		size_t declen = 0;
		idx = 0;
		CHECK(mailmime_part_parse(qp, qplen, &idx,
					  MAILMIME_MECHANISM_QUOTED_PRINTABLE,
					  &dec, &declen) == MAILIMF_NO_ERROR);
		strbuf_t got = {0};
		for (size_t i = 0; i < declen; i++) {
			if (dec[i] == '\r' && i + 1 < declen &&
			    dec[i + 1] == '\n')
				continue;
			sb_putc(&got, dec[i]);
		}
		CHECK(strcmp(sb_str(&got), want) == 0);
		sb_free(&got);
		mailmime_decoded_part_free(dec);
	}
	mailmime_free(mime);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* phrase NUL body */
	const uint8_t *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	char *phrase = ident_clean_name(xstrndup((const char *)data, plen));
	char *body = nul ? xstrndup((const char *)nul + 1, size - plen - 1)
			 : xstrdup("");
	char *want_body = expected_body(body);

	mime_message_t m = {
		.from_name = phrase,
		.from_addr = "digest@example.com",
		.to_name = phrase,
		.to_addr = "alex@example.com",
		.subject = phrase,
		.date = 1795939200,
		.message_id = "digest.alex.2026-W49.0@example.com",
		.text = body,
		.html = body,
	};
	strbuf_t out = {0};
	err_t err;
	CHECK(mime_build(&m, &out, &err) == ST_OK);

	size_t hlen = mailsrc_header_length(out.s, out.len);
	CHECK(hlen < out.len);
	check_header(out.s, hlen);

	char *want_from = expected_phrase(out.s, "From", phrase);
	char *want_to = expected_phrase(out.s, "To", phrase);
	char *want_subject = expected_phrase(out.s, "Subject", phrase);

	mailsrc_header_t h;
	memset(&h, 0, sizeof h);
	mailsrc_parse_header(out.s, hlen, true, &h);
	CHECK(h.warnings.n == 0);
	CHECK(h.nfrom == 1 && h.nrcpt == 1 && h.has_date);
	CHECK(strcmp(h.from[0].addr, m.from_addr) == 0);
	CHECK(strcmp(h.rcpt[0].addr, m.to_addr) == 0);
	CHECK(same(h.from[0].name, want_from));
	CHECK(same(h.rcpt[0].name, want_to));
	CHECK(same(h.subject, want_subject));
	mailsrc_header_clear(&h);

	check_bodies(out.s, out.len, want_body);

	sb_free(&out);
	free(want_from);
	free(want_to);
	free(want_subject);
	free(want_body);
	free(body);
	free(phrase);
	return 0;
}
