/*
 * mime — the outgoing digest as an Internet message (see mime.h).
 *
 * Who does what, and why (docs/libraries.md §6):
 * - libetpan builds the MIME structure: MIME-Version, the
 *   multipart/alternative Content-Type and its parts' headers, boundaries.
 *   We set the boundary ourselves ("=_digest_" + random hex): "=_" can
 *   never occur in quoted-printable text, so no body can fake a boundary
 *   (libetpan's own is time + unseeded random() + pid).
 * - The RFC 5322 header block is written here.  libetpan's writers quote
 *   any display name containing a space (encoded words inside quotes are
 *   not decoded), refuse quoted names over 499 octets, collapse runs of
 *   blanks in a Subject, fold before the first word of a long one (leaving
 *   "Subject:" with nothing on its line), and break lines at 998 octets
 *   with a bare CRLF, which would start a new header line.
 * - Quoted-printable is done here and handed to libetpan as already
 *   encoded: libetpan 1.9.4 writes a blank before a line break both raw and
 *   as "=20" (doubling it) and leaves one at the end of the text raw.
 * - RFC 2047 words and the Date (libetpan gets half-hour offsets wrong)
 *   are ours too; libetpan has no encoder for the former.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* tm_gmtoff */
#endif

#include "mime.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "ident.h"
#include "tz.h"

/* Headers are folded before a token that would carry the line past this
 * column; one long token (an address, 60 blanks and 60 letters) can still
 * make a line longer, never near 998. */
#define MIME_FOLD_COL 76
/* UTF-8 octets per encoded word: base64 of 42 is 56, the word 68 chars,
 * so "Subject: " plus one word still fits in 78. */
#define MIME_WORD_BYTES 42
/* Longest token (run of non-blanks, or of blanks) left plain in a header:
 * a longer one could not be folded, so the phrase is encoded instead. */
#define MIME_TOKEN_MAX 60
/* Longest quoted display name (quotes and escapes included): quoted
 * strings are never folded, longer names are encoded instead. */
#define MIME_QUOTED_MAX 66
/* Quoted-printable lines: at most 75 octets plus a soft break '='. */
#define MIME_QP_COL 75
/* RFC 5322 hard limit on a line, CRLF excluded. */
#define MIME_LINE_MAX 998
/* Limit on Message-IDs. */
#define MIME_MSGID_MAX 250
/* Octets of a rejected value quoted in an error message. */
#define MIME_QUOTE_MAX 80

#define MIME_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* ---- UTF-8 and cleaning ---- */

/*
 * A copy of s (NULL: "") fit for a header phrase: what ident_unsafe_len
 * finds (C0 and C1 controls, DEL, bidi overrides and isolates, line
 * separators) becomes a space, invalid UTF-8 U+FFFD.  Caller frees.
 */
static char *clean_phrase(const char *s)
{
	strbuf_t b = {0};
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		size_t n = str_utf8_len(p);
		if (n == 0) {
			sb_puts(&b, MIME_REPLACEMENT);
			n = 1;
		} else if (ident_unsafe_len(p)) {
			sb_putc(&b, ' ');
		} else {
			sb_add(&b, (const char *)p, n);
		}
		p += n;
	}
	return sb_steal(&b);
}

/*
 * A copy of a body (NULL: ""): CRLF and lone CR become LF, invalid UTF-8
 * U+FFFD.  Caller frees.
 */
static char *clean_body(const char *s)
{
	strbuf_t b = {0};
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		size_t n = str_utf8_len(p);
		if (n == 0) {
			sb_puts(&b, MIME_REPLACEMENT);
			n = 1;
		} else if (*p == '\r') {
			sb_putc(&b, '\n');
			if (p[1] == '\n')
				n = 2;
		} else {
			sb_add(&b, (const char *)p, n);
		}
		p += n;
	}
	return sb_steal(&b);
}

static bool printable_ascii(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* RFC 5322 atext. */
static bool is_atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* ---- RFC 2047 encoded words ---- */

/*
 * Append s (clean UTF-8) to words as "=?UTF-8?B?...?=" words of at most
 * MIME_WORD_BYTES octets each, never splitting a character.
 */
static void encode_words(const char *s, strvec_t *words)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = 0;
		while (p[n]) {
			size_t k = str_utf8_len(p + n);
			if (k == 0)
				k = 1;
			if (n + k > MIME_WORD_BYTES)
				break;
			n += k;
		}
		strbuf_t w = {0};
		sb_puts(&w, "=?UTF-8?B?");
		sb_add_base64(&w, p, n);
		sb_puts(&w, "?=");
		strvec_take(words, sb_steal(&w));
		p += n;
	}
}

char *mime_encode_words(const char *utf8)
{
	char *s = clean_phrase(utf8);
	if (printable_ascii(s))
		return s;
	strvec_t words = {0};
	strbuf_t b = {0};
	encode_words(s, &words);
	for (size_t i = 0; i < words.n; i++) {
		if (i)
			sb_putc(&b, ' ');
		sb_puts(&b, words.v[i]);
	}
	strvec_free(&words);
	free(s);
	return sb_steal(&b);
}

/* ---- header block ---- */

/* How a phrase is written. */
typedef enum {
	PHRASE_PLAIN,  /* as is (atoms for a name, text for a subject) */
	PHRASE_QUOTED, /* a quoted-string (names only) */
	PHRASE_WORDS,  /* RFC 2047 encoded words */
} phrase_kind_t;

/*
 * True when the clean phrase s survives as plain text: printable ASCII, no
 * "=?" (a reader would decode it), no leading or trailing blank, no token
 * or run of blanks longer than MIME_TOKEN_MAX (it could not be folded).
 */
static bool plain_ok(const char *s)
{
	size_t len = strlen(s);
	if (!printable_ascii(s) || strstr(s, "=?"))
		return false;
	if (len && (s[0] == ' ' || s[len - 1] == ' '))
		return false;
	while (*s) {
		size_t n = strcspn(s, " ");
		if (n > MIME_TOKEN_MAX)
			return false;
		s += n;
		n = strspn(s, " ");
		if (n > MIME_TOKEN_MAX)
			return false;
		s += n;
	}
	return true;
}

/* Atoms if possible, else a quoted-string if short, else encoded words. */
static phrase_kind_t name_kind(const char *s)
{
	size_t qlen = 2;
	bool atoms = true;
	if (!plain_ok(s))
		return PHRASE_WORDS;
	for (const char *p = s; *p; p++) {
		if (*p == ' ' ? p[1] == ' ' : !is_atext((unsigned char)*p))
			atoms = false;
		qlen += (*p == '"' || *p == '\\') ? 2 : 1;
	}
	if (atoms)
		return PHRASE_PLAIN;
	return qlen <= MIME_QUOTED_MAX ? PHRASE_QUOTED : PHRASE_WORDS;
}

/* One header being written: where to, the current column, and whether
 * anything follows "Name:" yet (we never fold before the first token). */
typedef struct {
	strbuf_t *out;
	size_t col;
	bool fresh;
} hdr_t;

static void hdr_begin(hdr_t *h, strbuf_t *out, const char *name)
{
	h->out = out;
	sb_puts(out, name);
	sb_putc(out, ':');
	h->col = strlen(name) + 1;
	h->fresh = true;
}

static void hdr_end(hdr_t *h)
{
	sb_add(h->out, "\r\n", 2);
}

/*
 * Append the blanks sep[0..seplen) (at least one) and the token tok[0..n),
 * folding before the blanks when the line would grow past MIME_FOLD_COL:
 * unfolding (removing the CRLF) gives back exactly sep and tok.
 */
static void hdr_token(hdr_t *h, const char *sep, size_t seplen, const char *tok,
		      size_t n)
{
	if (!h->fresh && h->col + seplen + n > MIME_FOLD_COL) {
		sb_add(h->out, "\r\n", 2);
		h->col = 0;
	}
	sb_add(h->out, sep, seplen);
	sb_add(h->out, tok, n);
	h->col += seplen + n;
	h->fresh = false;
}

/* Plain text (plain_ok), folded at its own blanks. */
static void hdr_plain(hdr_t *h, const char *s)
{
	const char *sep = " ";
	size_t seplen = 1;
	while (*s) {
		size_t n = strcspn(s, " ");
		hdr_token(h, sep, seplen, s, n);
		s += n;
		sep = s;
		seplen = strspn(s, " ");
		s += seplen;
	}
}

/* A display name (is_name) or a subject from untrusted input. */
static void hdr_phrase(hdr_t *h, const char *raw, bool is_name)
{
	char *s = clean_phrase(raw);
	strvec_t words = {0};
	strbuf_t q = {0};
	phrase_kind_t kind;

	if (is_name)
		kind = name_kind(s);
	else
		kind = plain_ok(s) ? PHRASE_PLAIN : PHRASE_WORDS;

	switch (kind) {
	case PHRASE_PLAIN:
		hdr_plain(h, s);
		break;
	case PHRASE_QUOTED:
		sb_putc(&q, '"');
		for (const char *p = s; *p; p++) {
			if (*p == '"' || *p == '\\')
				sb_putc(&q, '\\');
			sb_putc(&q, *p);
		}
		sb_putc(&q, '"');
		hdr_token(h, " ", 1, q.s, q.len);
		break;
	case PHRASE_WORDS:
		encode_words(s, &words);
		for (size_t i = 0; i < words.n; i++)
			hdr_token(h, " ", 1, words.v[i], strlen(words.v[i]));
		break;
	}
	sb_free(&q);
	strvec_free(&words);
	free(s);
}

/* "name <addr>" or "addr" (addr already checked by ident_addr_sendable). */
static void hdr_mailbox(hdr_t *h, const char *name, const char *addr)
{
	if (!name || !*name) {
		hdr_token(h, " ", 1, addr, strlen(addr));
		return;
	}
	hdr_phrase(h, name, true);
	char *a = xasprintf("<%s>", addr);
	hdr_token(h, " ", 1, a, strlen(a));
	free(a);
}

/* dot-atom-text "@" dot-atom-text, at most MIME_MSGID_MAX octets. */
static bool msgid_ok(const char *id)
{
	const char *at = NULL;
	size_t n = 0;
	if (!id)
		return false;
	for (const char *p = id; *p; p++, n++) {
		if (*p == '@' && !at)
			at = p;
		else if (*p != '.' && !is_atext((unsigned char)*p))
			return false;
	}
	return at && at != id && at[1] && n <= MIME_MSGID_MAX;
}

static status_t bad_value(err_t *err, const char *what, const char *v)
{
	const char *s = v ? v : "(none)";
	char *c = xstrndup(s, strnlen(s, MIME_QUOTE_MAX));
	str_sanitize(c);
	status_t st = err_set(err, ST_DATAERR, "mime: %s \"%s\" is not valid",
			      what, c);
	free(c);
	return st;
}

/* ---- bodies ---- */

/* The quoted-printable unit for *p at column col into unit[4]; its length. */
static size_t qp_unit(const unsigned char *p, size_t col, char unit[4])
{
	bool lit;
	if (*p == ' ' || *p == '\t')
		lit = p[1] != '\n' && p[1] != '\0'; /* no trailing blanks */
	else if (*p == '.' || *p == 'F')
		lit = col != 0; /* no lone "." for SMTP, no "From " for mbox */
	else
		lit = *p >= 33 && *p <= 126 && *p != '=';
	if (lit) {
		unit[0] = (char)*p;
		unit[1] = '\0';
		return 1;
	}
	snprintf(unit, 4, "=%02X", *p);
	return 3;
}

/*
 * Append s (line breaks "\n") as quoted-printable (RFC 2045): CRLF hard
 * breaks, soft breaks keeping lines within 76 octets.
 */
static void qp_encode(strbuf_t *b, const char *s)
{
	size_t col = 0;
	char unit[4];
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n') {
			sb_add(b, "\r\n", 2);
			col = 0;
			continue;
		}
		size_t n = qp_unit(p, col, unit);
		if (col + n > MIME_QP_COL) {
			sb_add(b, "=\r\n", 3);
			col = 0;
			n = qp_unit(p, col, unit);
		}
		sb_add(b, unit, n);
		col += n;
	}
}

/* "=_digest_" and 32 random hex digits.  Caller frees. */
static char *make_boundary(void)
{
	unsigned char r[16];
	char hex[33];
	if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
		/* Unique enough: the "=_" alone keeps it out of any body. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		pid_t pid = getpid();
		uint64_t h = hash64(&ts, sizeof ts);
		h = hash64_more(h, &pid, sizeof pid);
		memcpy(r, &h, sizeof h);
		h = hash64_more(h, r, sizeof h);
		memcpy(r + 8, &h, sizeof h);
	}
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return xasprintf("=_digest_%s", hex);
}

/* A text part whose body is the already quoted-printable qp (kept, not
 * copied: it must outlive the part).  The caller owns the part (to
 * mailmime_free or attach); NULL if libetpan fails. */
static struct mailmime *text_part(const char *type, const char *qp)
{
	struct mailmime_fields *fields = mailmime_fields_new_encoding(
		MAILMIME_MECHANISM_QUOTED_PRINTABLE);
	struct mailmime_content *ct = mailmime_content_new_with_str(type);
	struct mailmime *part = NULL;
	struct mailmime_data *data = NULL;

	if (!fields || !ct)
		goto done;
	part = mailmime_new_empty(ct, fields);
	if (!part)
		goto done;
	ct = NULL;
	fields = NULL;
	data = mailmime_data_new(MAILMIME_DATA_TEXT,
				 MAILMIME_MECHANISM_QUOTED_PRINTABLE, 1, qp,
				 strlen(qp), NULL);
	if (!data) {
		mailmime_free(part);
		part = NULL;
		goto done;
	}
	part->mm_data.mm_single = data;
done:
	if (ct)
		mailmime_content_free(ct);
	if (fields)
		mailmime_fields_free(fields);
	return part;
}

/* Replace the boundary libetpan generated for mp by ours. */
static bool set_boundary(struct mailmime *mp, const char *boundary)
{
	clist *params = mp->mm_content_type->ct_parameters;
	for (clistiter *it = clist_begin(params); it; it = clist_next(it)) {
		struct mailmime_parameter *p = clist_content(it);
		if (strcasecmp(p->pa_name, "boundary") == 0) {
			free(p->pa_value);
			p->pa_value = xstrdup(boundary);
			return true;
		}
	}
	return false;
}

/*
 * Append "MIME-Version", the multipart/alternative Content-Type, a blank
 * line and the two parts, written by libetpan from the encoded bodies.
 */
static status_t write_body(const char *qp_text, const char *qp_html,
			   strbuf_t *b, err_t *err)
{
	status_t st = ST_SOFTWARE;
	struct mailmime *msg = NULL, *alt = NULL, *part = NULL;
	MMAPString *s = NULL;
	char *boundary = make_boundary();
	const char *types[2] = {"text/plain; charset=utf-8",
				"text/html; charset=utf-8"};
	const char *bodies[2] = {qp_text, qp_html};
	int col = 0;

	msg = mailmime_new_message_data(NULL);
	alt = mailmime_multiple_new("multipart/alternative");
	if (!msg || !alt || !set_boundary(alt, boundary))
		goto done;
	for (int i = 0; i < 2; i++) {
		part = text_part(types[i], bodies[i]);
		if (!part ||
		    mailmime_smart_add_part(alt, part) != MAILIMF_NO_ERROR)
			goto done;
		part = NULL;
	}
	if (mailmime_smart_add_part(msg, alt) != MAILIMF_NO_ERROR)
		goto done;
	alt = NULL;
	s = mmap_string_new("");
	if (!s || mailmime_write_mem(s, &col, msg) != MAILIMF_NO_ERROR)
		goto done;
	sb_add(b, s->str, s->len);
	st = ST_OK;
done:
	if (st != ST_OK)
		err_set(err, st,
			"mime: libetpan could not build the MIME body");
	if (s)
		mmap_string_free(s);
	if (part)
		mailmime_free(part);
	if (alt)
		mailmime_free(alt);
	if (msg)
		mailmime_free(msg);
	free(boundary);
	return st;
}

/* Length of the longest line of s[0..len), line breaks excluded. */
static size_t longest_line(const char *s, size_t len)
{
	size_t max = 0, cur = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			cur = 0;
			continue;
		}
		if (++cur > max)
			max = cur;
	}
	return max;
}

/* ---- the message ---- */

void mime_date(int64_t t, const char *zone, char buf[40])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	struct tm tm = {0};
	tz_localtime(zone && *zone ? zone : "UTC", t, &tm);
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(buf, 40, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
		 days[(unsigned)tm.tm_wday % 7], tm.tm_mday,
		 months[(unsigned)tm.tm_mon % 12], tm.tm_year + 1900,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 3600 % 100,
		 off % 3600 / 60);
}

status_t mime_build(const mime_message_t *m, strbuf_t *out, err_t *err)
{
	status_t st = ST_OK;
	strbuf_t msg = {0}, qp_text = {0}, qp_html = {0};
	char *text = NULL, *html = NULL;
	char date[40];
	hdr_t h;

	if (!ident_addr_sendable(m->from_addr)) {
		st = bad_value(err, "From address", m->from_addr);
		goto done;
	}
	if (!ident_addr_sendable(m->to_addr)) {
		st = bad_value(err, "To address", m->to_addr);
		goto done;
	}
	if (!msgid_ok(m->message_id)) {
		st = bad_value(err, "Message-ID", m->message_id);
		goto done;
	}

	mime_date(m->date, m->zone, date);
	hdr_begin(&h, &msg, "Date");
	hdr_token(&h, " ", 1, date, strlen(date));
	hdr_end(&h);
	hdr_begin(&h, &msg, "From");
	hdr_mailbox(&h, m->from_name, m->from_addr);
	hdr_end(&h);
	hdr_begin(&h, &msg, "To");
	hdr_mailbox(&h, m->to_name, m->to_addr);
	hdr_end(&h);
	hdr_begin(&h, &msg, "Subject");
	hdr_phrase(&h, m->subject, false);
	hdr_end(&h);
	sb_printf(&msg, "Message-ID: <%s>\r\n", m->message_id);
	sb_puts(&msg, "Auto-Submitted: auto-generated\r\n");

	text = clean_body(m->text);
	html = clean_body(m->html);
	qp_encode(&qp_text, text);
	qp_encode(&qp_html, html);
	st = write_body(sb_str(&qp_text), sb_str(&qp_html), &msg, err);
	if (st != ST_OK)
		goto done;
	if (longest_line(msg.s, msg.len) > MIME_LINE_MAX) {
		st = err_set(err, ST_SOFTWARE, "mime: a line over %d octets",
			     MIME_LINE_MAX);
		goto done;
	}
	sb_add(out, msg.s, msg.len);
done:
	sb_free(&msg);
	sb_free(&qp_text);
	sb_free(&qp_html);
	free(text);
	free(html);
	return st;
}
