/*
 * mime — turns a rendered digest (subject, text and HTML bodies, sender and
 * recipient) into the complete Internet message that send hands to SMTP or
 * sendmail: RFC 5322 headers (Date with the leader's zone offset, RFC 2047
 * encoded names and subject, folded, never injectable) over a
 * multipart/alternative body of quoted-printable UTF-8 text/plain and
 * text/html parts, CRLF line endings, no line over 998 octets.
 *
 * libetpan builds the MIME structure (inside mime.c only); the RFC 5322
 * headers, RFC 2047 words and quoted-printable bodies are ours, because
 * libetpan gets those wrong (see mime.c).  Every string in is untrusted
 * UTF-8: control characters never reach a header line as such.
 */
#ifndef DIGEST_MIME_H
#define DIGEST_MIME_H

#include <stdint.h>

#include "util.h"

typedef struct {
	const char *from_name; /* display name or NULL */
	const char *from_addr; /* addr-spec */
	const char *to_name;   /* or NULL */
	const char *to_addr;
	const char *subject; /* UTF-8, untrusted */
	int64_t date;        /* UTC seconds */
	/* IANA zone for the Date header's offset, e.g. "Asia/Kolkata"; NULL
	 * means UTC. */
	const char *zone;
	/* Without <>, e.g. "digest.alex.2026-W49.0@example.com". */
	const char *message_id;
	const char *text; /* text/plain body, UTF-8 */
	const char *html; /* text/html body, UTF-8 */
} mime_message_t;

/*
 * Build the complete message (CRLF line endings, multipart/alternative:
 * text/plain then text/html, both charset=utf-8 quoted-printable,
 * MIME-Version, Date, From, To, Subject, Message-ID, Auto-Submitted:
 * auto-generated).
 *
 * Names and subject are RFC 2047 encoded (=?UTF-8?B?...?= words of at most
 * 75 chars, split on UTF-8 boundaries, separated by folding) whenever they
 * contain anything but printable ASCII (or could not survive as plain text:
 * an "=?", a token too long to fold, leading or trailing blanks), and quoted
 * as needed otherwise.  Control characters (C0, DEL, C1), bidi overrides
 * and isolates and line separators (ident_unsafe_len) in names and subject
 * become spaces and invalid UTF-8 becomes U+FFFD, so nothing can start a
 * new header line or reorder the text a reader sees.  Bodies: CRLF and lone CR
 * become line breaks, invalid UTF-8 becomes U+FFFD; NULL subject, names or
 * bodies count as "".
 *
 * Addresses must pass ident_addr_sendable; the Message-ID must be dot-atom '@'
 * dot-atom, at most 250 octets. Otherwise ST_DATAERR with *err set and *out
 * untouched.
 *
 * Returns ST_OK with the message appended to *out (NUL-terminated).
 */
status_t mime_build(const mime_message_t *m, strbuf_t *out, err_t *err);

/*
 * "Mon, 30 Nov 2026 08:00:00 +0100" for t in zone (NULL: UTC), into buf[40]
 * (RFC 5322; offsets like +0530 and -0330 right, unlike libetpan's).
 */
void mime_date(int64_t t, const char *zone, char buf[40]);

/*
 * Encode a header phrase (display name or subject): control characters,
 * bidi overrides and isolates and line separators become spaces and invalid
 * UTF-8 U+FFFD; then printable ASCII is returned as is, anything else as RFC
 * 2047 B-encoded words ("=?UTF-8?B?...?=", at most 75 chars each, never
 * splitting a UTF-8 character) separated by one space.  Quoting names is
 * mime_build's concern.  Caller frees.
 */
char *mime_encode_words(const char *utf8);

#endif
