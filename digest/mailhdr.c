/*
 * mailhdr — one message's header block to a mailsrc_header_t (see
 * mailsrc.h).
 *
 * libetpan's mailimf parser does the RFC 5322 work, one field at a time;
 * this file wraps its traps (docs/libraries.md §4): a line it cannot read
 * would silently end a whole-header parse (we drop that line, with a
 * warning, and go on), an unparsable address field comes back as an
 * optional field (we re-read it without its empty elements, then element
 * by element), an addr-spec may lack its '@', quoted encoded words keep
 * their quotes, an encoded NUL ends the decoded word, two-digit years
 * come back raw, "UT" and "+hh:mm" zones come back wrong.  Nothing here
 * fails: what cannot be used is left out and named in h->warnings (a
 * header the backend cut at MAILSRC_HEADER_MAX among them).  Only the
 * header block is ever looked at.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* timegm */
#endif

#include "ident.h"
#include "mailsrc.h"
#include "mailsrc_priv.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libetpan/libetpan.h>

/* Dropped lines named one by one before they are summed up. */
#define HDR_MAX_LINE_WARNINGS 20
/* Bytes of a bad value quoted in a warning. */
#define HDR_QUOTE_MAX 60

/* Parse state shared by the field handlers. */
struct hctx {
	mailsrc_header_t *h;
	bool want_subject;
	bool have_subject, have_sender;
	size_t dropped_lines; /* malformed lines dropped so far */
};

/* See mailsrc.h. */
bool mailhdr_own_parsers = true;

/* ---- small string helpers ------------------------------------------- */

/* A copy of s[0..n) with folding undone (CR, LF become spaces), NULs
 * turned into spaces and surrounding blanks trimmed.  Caller frees. */
static char *unfold(const char *s, size_t n)
{
	char *r = xstrndup(s, n);
	for (size_t i = 0; i < n; i++)
		if (r[i] == '\r' || r[i] == '\n' || r[i] == '\0')
			r[i] = ' ';
	char *t = str_trim(r);
	if (t != r)
		memmove(r, t, strlen(t) + 1);
	return r;
}

/* A short, sanitized quote of s for a warning.  Caller frees. */
static char *quote_for_warning(const char *s)
{
	size_t n = strlen(s);
	bool cut = n > HDR_QUOTE_MAX;
	char *q = unfold(s, cut ? HDR_QUOTE_MAX : n);
	str_sanitize(q);
	if (cut) {
		char *r = xasprintf("%s...", q);
		free(q);
		q = r;
	}
	return q;
}

static void hdr_warn(struct hctx *c, const char *fmt, ...) UTIL_PRINTF(2, 3);

static void hdr_warn(struct hctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char *s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	strvec_take(&c->h->warnings, s);
}

/* Charsets of encoded words in which a 0 byte is part of a character. */
static bool wide_charset(const char *cs, size_t n)
{
	static const char *const wide[] = {"utf-16", "utf16",   "utf-32",
					   "utf32",  "ucs-",    "ucs2",
					   "ucs4",   "unicode", NULL};
	for (size_t i = 0; wide[i]; i++) {
		size_t k = strlen(wide[i]);
		if (n >= k && strncasecmp(cs, wide[i], k) == 0)
			return true;
	}
	return false;
}

/* Append the text of a Q encoded word, "=00" (a NUL) as "=20". */
static void add_q_text(strbuf_t *b, const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '=' && i + 2 < n &&
		    isxdigit((unsigned char)t[i + 1]) &&
		    isxdigit((unsigned char)t[i + 2])) {
			if (t[i + 1] == '0' && t[i + 2] == '0')
				sb_puts(b, "=20");
			else
				sb_add(b, t + i, 3);
			i += 2;
		} else {
			sb_putc(b, t[i]);
		}
	}
}

/* Append the text of a B encoded word, re-encoded with its NUL bytes as
 * spaces when it has any. */
static void add_b_text(strbuf_t *b, const char *t, size_t n)
{
	char *dec = NULL;
	size_t idx = 0, declen = 0;
	if (mailmime_base64_body_parse(t, n, &idx, &dec, &declen) ==
		    MAILIMF_NO_ERROR &&
	    dec && memchr(dec, '\0', declen)) {
		char *copy = xmalloc(declen ? declen : 1);
		memcpy(copy, dec, declen);
		for (size_t i = 0; i < declen; i++)
			if (copy[i] == '\0')
				copy[i] = ' ';
		sb_add_base64(b, copy, declen);
		free(copy);
	} else {
		sb_add(b, t, n);
	}
	if (dec)
		mailmime_decoded_part_free(dec);
}

/*
 * A copy of s in which an encoded word that would decode to a NUL byte
 * decodes to a space there instead: libetpan hands each decoded word on
 * as a C string, so "=?UTF-8?Q?Ann=00e?=" came back as "Ann".  A NUL is
 * a control character like any other, and those become spaces.  Caller
 * frees.
 */
static char *defuse_nuls(const char *s)
{
	strbuf_t b = {0};
	const char *p = s;
	const char *ew;
	while ((ew = strstr(p, "=?"))) {
		const char *cs = ew + 2, *text = NULL, *end = NULL;
		size_t ncs = strcspn(cs, "? \t");
		char enc = cs[ncs] == '?' ? cs[ncs + 1] : '\0';
		if (ncs && enc && strchr("QqBb", enc) && cs[ncs + 2] == '?') {
			text = cs + ncs + 3;
			end = strstr(text, "?=");
		}
		if (!end || wide_charset(cs, ncs)) {
			sb_add(&b, p, (size_t)(cs - p));
			p = cs;
			continue;
		}
		sb_add(&b, p, (size_t)(text - p));
		if (enc == 'Q' || enc == 'q')
			add_q_text(&b, text, (size_t)(end - text));
		else
			add_b_text(&b, text, (size_t)(end - text));
		sb_puts(&b, "?=");
		p = end + 2;
	}
	sb_puts(&b, p);
	return sb_steal(&b);
}

/* ---- encoded words in UTF-8, without libetpan ----------------------- */

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* The bytes of a B or Q encoded word's text t[0..n) into b, as libetpan
 * decodes them; false for text it might read otherwise (base64 not in
 * whole quanta or with stray bits, '=' without two upper-case hex
 * digits) or that holds a NUL byte. */
static bool decode_word(strbuf_t *b, char enc, const char *t, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
				  "stuvwxyz0123456789+/";
	if (enc == 'Q' || enc == 'q') {
		for (size_t i = 0; i < n; i++) {
			int h1, h2;
			if (t[i] == '_') {
				sb_putc(b, ' ');
			} else if (t[i] != '=') {
				sb_putc(b, t[i]);
			} else if (i + 2 < n &&
				   (h1 = hex_digit(t[i + 1])) >= 0 &&
				   (h2 = hex_digit(t[i + 2])) >= 0 &&
				   (h1 | h2)) {
				sb_putc(b, (char)(h1 << 4 | h2));
				i += 2;
			} else {
				return false;
			}
		}
		return true;
	}
	if (n % 4)
		return false;
	for (size_t i = 0; i < n; i += 4) {
		unsigned long v = 0;
		size_t pad = 0;
		for (size_t k = 0; k < 4; k++) {
			const char *p = strchr(b64, t[i + k]);
			if (t[i + k] == '=' && i + 4 == n && k >= 2 &&
			    t[i + 3] == '=') {
				pad++;
				v <<= 6;
			} else if (t[i + k] && p && !pad) {
				v = v << 6 | (unsigned long)(p - b64);
			} else {
				return false;
			}
		}
		if (v & ((1ul << (8 * pad)) - 1))
			return false; /* bits under the padding */
		char out[3] = {(char)(v >> 16), (char)(v >> 8), (char)v};
		if (memchr(out, '\0', 3 - pad))
			return false;
		sb_add(b, out, 3 - pad);
	}
	return true;
}

/* Is s (NUL-terminated) valid UTF-8 (str_utf8_len's reading) without
 * noncharacters, which a converter may refuse? */
static bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		size_t n = str_utf8_len(s);
		if (!n)
			return false;
		unsigned long cp = n == 1 ? s[0] : s[0] & (0x7Fu >> n);
		for (size_t i = 1; i < n; i++)
			cp = cp << 6 | (s[i] & 0x3F);
		if ((cp >= 0xFDD0 && cp < 0xFDF0) || (cp & 0xFFFE) == 0xFFFE)
			return false;
		s += n;
	}
	return true;
}

/* Is t[0..n) one whole encoded word "=?CHARSET?E?TEXT?=", its charset
 * not empty and no other '?' in it?  Then *csn is the charset's length,
 * *enc E and *text, *textn its text (which may be empty). */
static bool whole_word(const char *t, size_t n, size_t *csn, char *enc,
		       const char **text, size_t *textn)
{
	if (n < 8 || t[0] != '=' || t[1] != '?' || t[n - 2] != '?' ||
	    t[n - 1] != '=')
		return false;
	const char *q = memchr(t + 2, '?', n - 2), *end = t + n - 2;
	if (!q || q == t + 2 || q + 3 > end || !strchr("QqBb", q[1]) ||
	    q[2] != '?' || memchr(q + 3, '?', (size_t)(end - (q + 3))))
		return false;
	*csn = (size_t)(q - (t + 2));
	*enc = q[1];
	*text = q + 3;
	*textn = (size_t)(end - (q + 3));
	return true;
}

/*
 * A phrase of plain ASCII words and encoded words in UTF-8, decoded as
 * libetpan's mailmime_encoded_phrase_parse decodes it to UTF-8, but
 * without an iconv converter opened for every word (the larger part of
 * reading a name); NULL for any other phrase, left to libetpan (the
 * header fuzz target compares the two).  Blanks between encoded words
 * go, a single space stands for those before a plain word or between a
 * plain word and an encoded one.  Caller frees.
 */
static char *decode_utf8_phrase(const char *in)
{
	strbuf_t b = {0};
	bool first = true, prev_plain = false;
	const char *p = in + strspn(in, " \t");
	while (*p) {
		size_t n = strcspn(p, " \t");
		if (!memmem(p, n, "=?", 2)) {
			for (size_t i = 0; i < n; i++)
				if (p[i] <= ' ' || p[i] >= 127)
					goto fail;
			if (!first)
				sb_putc(&b, ' ');
			sb_add(&b, p, n);
			prev_plain = true;
		} else {
			/* one whole word: =?utf-8?E?TEXT?= */
			const char *text;
			size_t csn, tn;
			char enc;
			if (!whole_word(p, n, &csn, &enc, &text, &tn) ||
			    csn != 5 || strncasecmp(p + 2, "utf-8", 5) || !tn)
				goto fail;
			for (size_t i = 0; i < tn; i++)
				if (text[i] <= ' ' || text[i] >= 127)
					goto fail;
			if (!first && prev_plain)
				sb_putc(&b, ' ');
			size_t start = b.len;
			if (!decode_word(&b, enc, text, tn) ||
			    !utf8_ok((const unsigned char *)b.s + start))
				goto fail;
			prev_plain = false;
		}
		first = false;
		p += n;
		p += strspn(p, " \t");
	}
	if (!b.s)
		goto fail;
	return sb_steal(&b);
fail:
	sb_free(&b);
	return NULL;
}

/*
 * Decode RFC 2047 encoded words in raw[0..rawlen), folded or not: a
 * display name, group name or Subject, to UTF-8 (raw 8-bit bytes are taken as
 * UTF-8), drop the quotes around encoded words (libetpan keeps those of
 * "=?...?=", and some mailers put them inside: =?iso-8859-1?Q?"=F6tzi"?=),
 * clean it as a stored name is (ident_clean_name: no controls or bidi
 * overrides, blanks collapsed).  Quotes around a name or subject without
 * encoded words are part of it and stay.  NULL when empty.  Caller frees.
 */
static char *decode_textn(const char *raw, size_t rawlen)
{
	/* most names: no encoded word, nothing to unfold or clean */
	if (ident_name_is_clean(raw, rawlen) && !memmem(raw, rawlen, "=?", 2))
		return xstrndup(raw, rawlen);
	char *u = unfold(raw, rawlen);
	bool words = strstr(u, "=?") != NULL;
	char *res = words && mailhdr_own_parsers ? decode_utf8_phrase(u) : NULL;
	if (res) {
		free(u); /* it had no word that decodes to a NUL */
	} else {
		char *in = defuse_nuls(u);
		free(u);
		char *out = NULL;
		size_t idx = 0;
		int r = MAILIMF_ERROR_PARSE;
		/* Without an encoded word, ASCII text decodes to itself with
		 * its blanks collapsed, as ident_clean_name does anyway:
		 * libetpan would only open an iconv converter (UTF-8 to
		 * UTF-8) for each word. */
		if (words || !str_ascii(in))
			r = mailmime_encoded_phrase_parse(
				"utf-8", in, strlen(in), &idx, "utf-8", &out);
		if (r == MAILIMF_NO_ERROR && out) {
			res = xstrdup(out);
			free(in);
		} else {
			res = in;
		}
		free(out); /* libetpan-allocated */
	}
	res = ident_clean_name(res);
	size_t n = res ? strlen(res) : 0;
	if (words && n >= 2 && res[0] == '"' && res[n - 1] == '"') {
		memmove(res, res + 1, n - 2);
		res[n - 2] = '\0';
		res = ident_clean_name(res);
	}
	return res;
}

/* decode_textn of a string, or NULL. */
static char *decode_text(const char *raw)
{
	return raw ? decode_textn(raw, strlen(raw)) : NULL;
}

/* Lower-case, sanitized addr-spec, or NULL when ident_addr_ok refuses it
 * (libetpan lets "<a@b", "a@b@c" and "foobar" through).  Caller frees. */
static char *clean_addr(const char *spec)
{
	size_t n = strlen(spec);
	bool plain = n > 0; /* most: nothing to unfold or sanitize */
	for (size_t i = 0; plain && i < n; i++)
		plain = spec[i] > ' ' && spec[i] < 0x7f;
	char *a = plain ? xstrndup(spec, n) : str_sanitize(unfold(spec, n));
	str_lower(a);
	if (!ident_addr_ok(a)) {
		free(a);
		return NULL;
	}
	return a;
}

/* hash64 of a subject with ASCII case and runs of blanks folded, and
 * blanks at either end dropped (NULL counts as ""). */
static uint64_t subject_hash(const char *subject)
{
	strbuf_t b = {0};
	bool blank = false;
	for (const char *p = subject ? subject : ""; *p; p++) {
		if (isspace((unsigned char)*p)) {
			blank = b.len > 0;
			continue;
		}
		if (blank)
			sb_putc(&b, ' ');
		blank = false;
		sb_putc(&b, (char)tolower((unsigned char)*p));
	}
	uint64_t h = hash64(b.s ? b.s : "", b.len);
	sb_free(&b);
	return h;
}

/* ---- addresses ------------------------------------------------------ */

/* Append to an array whose capacity is the next power of two >= *n. */
static mailsrc_addr_t *addr_push(mailsrc_addr_t **arr, size_t *n)
{
	if ((*n & (*n - 1)) == 0) /* 0, 1, 2, 4, ...: full */
		*arr = xrealloc(*arr, (*n ? *n * 2 : 1) * sizeof **arr);
	mailsrc_addr_t *a = &(*arr)[(*n)++];
	a->addr = NULL;
	a->name = NULL;
	return a;
}

/* Which list a field's mailboxes go to. */
enum addr_dest {
	DEST_FROM,
	DEST_SENDER,
	DEST_RCPT,
};

/* A mailbox as libetpan reads it: its display name (raw, or NULL) and
 * addr-spec. */
static void add_spec(struct hctx *c, const char *display, const char *spec,
		     enum addr_dest dest, const char *field)
{
	mailsrc_header_t *h = c->h;
	char *addr = clean_addr(spec);
	if (!addr) {
		char *q = quote_for_warning(spec);
		if (strchr(q, '@'))
			hdr_warn(c, "dropped invalid address in %s: %s", field,
				 q);
		else if (*q)
			hdr_warn(c, "dropped address without @ in %s: %s",
				 field, q);
		else if (display)
			hdr_warn(c, "dropped empty address in %s", field);
		/* else: what libetpan makes of a group of only comments */
		free(q);
		return;
	}
	char *name = decode_text(display);
	mailsrc_addr_t *a = NULL;
	switch (dest) {
	case DEST_FROM:
		a = addr_push(&h->from, &h->nfrom);
		break;
	case DEST_RCPT:
		a = addr_push(&h->rcpt, &h->nrcpt);
		break;
	case DEST_SENDER:
		if (c->have_sender) {
			free(addr);
			free(name);
			return;
		}
		c->have_sender = true;
		a = xcalloc(1, sizeof *a);
		h->sender = a;
		break;
	}
	a->addr = addr;
	a->name = name;
}

static void add_mailbox(struct hctx *c, const struct mailimf_mailbox *mb,
			enum addr_dest dest, const char *field)
{
	add_spec(c, mb->mb_display_name,
		 mb->mb_addr_spec ? mb->mb_addr_spec : "", dest, field);
}

static void add_mailbox_list(struct hctx *c,
			     const struct mailimf_mailbox_list *l,
			     enum addr_dest dest, const char *field)
{
	if (!l || !l->mb_list)
		return;
	for (clistiter *it = clist_begin(l->mb_list); it; it = clist_next(it))
		add_mailbox(c, clist_content(it), dest, field);
}

static void add_address(struct hctx *c, const struct mailimf_address *ad,
			enum addr_dest dest, const char *field)
{
	if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX)
		add_mailbox(c, ad->ad_data.ad_mailbox, dest, field);
	else if (ad->ad_type == MAILIMF_ADDRESS_GROUP)
		/* Groups are flattened; the group name is not kept. */
		add_mailbox_list(c, ad->ad_data.ad_group->grp_mb_list, dest,
				 field);
}

static void add_address_list(struct hctx *c,
			     const struct mailimf_address_list *l,
			     enum addr_dest dest, const char *field)
{
	if (!l || !l->ad_list) /* e.g. an empty Bcc: */
		return;
	for (clistiter *it = clist_begin(l->ad_list); it; it = clist_next(it))
		add_address(c, clist_content(it), dest, field);
}

/* ---- the common address field, without libetpan -------------------- */

/*
 * Most From, To, Cc and Bcc fields are a list of "addr-spec" and
 * "phrase <addr-spec>" and nothing else, and libetpan reads them a char
 * at a time with a malloc per token: the larger part of reading a
 * header.  Such a field is read here instead, into the display names
 * (raw) and addr-specs libetpan gives for it; the header fuzz target
 * compares the two readings of every input it replays, the corpus
 * included.  A phrase here is atoms (printable ASCII but specials),
 * encoded words and quoted strings without backslashes or encoded
 * words, joined by single blanks as libetpan joins them.  Anything else
 * (comments, groups, quoted pairs, domain literals, 8-bit text, an
 * empty element) is left to libetpan.
 */

/* The blanks and folds from v[i]: a CR only before an LF, an LF only
 * before a blank or at the end. */
static size_t skip_blanks(const char *v, size_t n, size_t i)
{
	while (i < n && (v[i] == ' ' || v[i] == '\t' ||
			 (v[i] == '\r' && i + 1 < n && v[i + 1] == '\n') ||
			 (v[i] == '\n' &&
			  (i + 1 == n || v[i + 1] == ' ' || v[i + 1] == '\t'))))
		i++;
	return i;
}

static bool plain_char(char ch)
{
	return (unsigned char)ch < 0x80 && !ident_special((unsigned char)ch);
}

/* Is t[0..n) an atom libetpan reads as it is: without "=?", or one
 * whole encoded word "=?CHARSET?E?TEXT?=" without another '?'? */
static bool plain_atom(const char *t, size_t n)
{
	const char *text;
	size_t csn, tn;
	char enc;
	return !memmem(t, n, "=?", 2) ||
	       whole_word(t, n, &csn, &enc, &text, &tn);
}

/* A quoted string at v[*i] (its '"'), its content added to b with each
 * run of blanks as one space; false when it is not one read here. */
static bool quoted_word(const char *v, size_t n, size_t *i, strbuf_t *b)
{
	size_t k = *i + 1, start = b->len;
	while (k < n && v[k] != '"') {
		size_t e = skip_blanks(v, n, k);
		if (e > k) {
			sb_putc(b, ' ');
			k = e;
			continue;
		}
		if (v[k] < ' ' || v[k] >= 127 || v[k] == '\\')
			return false;
		sb_putc(b, v[k++]);
	}
	if (k >= n || b->len == start ||
	    memmem(b->s + start, b->len - start, "=?", 2))
		return false;
	*i = k + 1;
	return true;
}

/* Read the value v[0..n) of an address field, and add its mailboxes to
 * dest; false (nothing added) when it is one for libetpan. */
static bool fast_address_list(struct hctx *c, const char *v, size_t n,
			      enum addr_dest dest, const char *field)
{
	strbuf_t b = {0};   /* "name\0spec\0" for each element */
	bool *named = NULL; /* has element k a display name? */
	size_t cap = 0, count = 0;
	bool ok = false;
	size_t i = skip_blanks(v, n, 0);

	while (i < n) {
		size_t phrase = b.len, words = 0, atom = 0, atomlen = 0;
		bool quoted = false;
		while (i < n && v[i] != '<' && v[i] != ',') {
			if (words)
				sb_putc(&b, ' ');
			if (v[i] == '"') {
				if (!quoted_word(v, n, &i, &b))
					goto done;
				quoted = true;
			} else {
				size_t e = i;
				while (e < n && plain_char(v[e]))
					e++;
				if (e == i || !plain_atom(v + i, e - i))
					goto done;
				atom = i;
				atomlen = e - i;
				sb_add(&b, v + i, e - i);
				i = e;
			}
			words++;
			size_t e = skip_blanks(v, n, i);
			if (e == i && i < n && v[i] != '<' && v[i] != ',')
				goto done; /* a word right after another */
			i = e;
		}
		if (count == cap) {
			cap = cap ? 2 * cap : 8;
			named = xrealloc(named, cap * sizeof *named);
		}
		if (i < n && v[i] == '<') {
			size_t e = i + 1;
			while (e < n && plain_char(v[e]))
				e++;
			if (e == i + 1 || e >= n || v[e] != '>')
				goto done;
			sb_putc(&b, '\0');
			named[count++] = words > 0;
			sb_add(&b, v + i + 1, e - i - 1);
			i = skip_blanks(v, n, e + 1);
		} else {
			/* a bare addr-spec: one atom */
			if (words != 1 || quoted)
				goto done;
			b.len = phrase;
			sb_putc(&b, '\0');
			named[count++] = false;
			sb_add(&b, v + atom, atomlen);
		}
		sb_putc(&b, '\0');
		if (i < n && v[i] != ',')
			goto done;
		if (i < n) {
			i = skip_blanks(v, n, i + 1);
			if (i >= n)
				goto done; /* a comma at the end */
		}
	}
	ok = count > 0;
done:
	if (ok) {
		const char *p = b.s;
		for (size_t k = 0; k < count; k++) {
			const char *name = named[k] ? p : NULL;
			const char *spec = p + strlen(p) + 1;
			add_spec(c, name, spec, dest, field);
			p = spec + strlen(spec) + 1;
		}
	}
	free(named);
	sb_free(&b);
	return ok;
}

/* Is the line end after the last non-blank of v[0..n) its only one?
 * libetpan ends a value before a continuation line of only blanks and
 * drops that line as malformed. */
static bool one_line_end(const char *v, size_t n)
{
	size_t e = n, lines = 0;
	while (e > 0 && memchr(" \t\r\n", v[e - 1], 4))
		e--;
	for (size_t i = e; i < n; i++)
		lines += v[i] == '\n';
	return e > 0 && lines == 1;
}

/* The field f[0..n) (its name, value and newline) when it is a From, To,
 * Cc or Bcc that fast_address_list reads: read.  Else false. */
static bool fast_address_field(struct hctx *c, const char *f, size_t n)
{
	static const struct {
		const char *name;
		enum addr_dest dest;
	} fields[] = {
		{"From", DEST_FROM},
		{"To", DEST_RCPT},
		{"Cc", DEST_RCPT},
		{"Bcc", DEST_RCPT},
	};
	if (!mailhdr_own_parsers)
		return false;
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		size_t k = strlen(fields[i].name);
		if (n > k && f[k] == ':' &&
		    strncasecmp(f, fields[i].name, k) == 0)
			return one_line_end(f + k + 1, n - k - 1) &&
			       fast_address_list(c, f + k + 1, n - k - 1,
						 fields[i].dest,
						 fields[i].name);
	}
	return false;
}

/*
 * Split an address field value at the commas that separate list elements
 * (not those inside quotes, comments or <>).  Elements are trimmed
 * copies; empty ones are kept so callers can tell.
 */
static void split_elements(const char *v, strvec_t *out)
{
	const char *start = v;
	bool quoted = false;
	int paren = 0, angle = 0;
	for (const char *p = v;; p++) {
		if (*p == '\0' || (*p == ',' && !quoted && !paren && !angle)) {
			char *e = xstrndup(start, (size_t)(p - start));
			char *t = str_trim(e);
			strvec_take(out, xstrdup(t));
			free(e);
			if (*p == '\0')
				break;
			start = p + 1;
			continue;
		}
		if (*p == '\\' && (quoted || paren) && p[1]) {
			p++;
		} else if (*p == '"' && !paren) {
			quoted = !quoted;
		} else if (!quoted) {
			if (*p == '(')
				paren++;
			else if (*p == ')' && paren)
				paren--;
			else if (*p == '<' && !paren)
				angle++;
			else if (*p == '>' && !paren && angle)
				angle--;
		}
	}
}

/* Parse s as a whole address list: NULL unless it all parses. */
static struct mailimf_address_list *parse_whole_list(const char *s)
{
	struct mailimf_address_list *l = NULL;
	size_t len = strlen(s), idx = 0;
	if (len == 0)
		return NULL;
	int r = mailimf_address_list_parse(s, len, &idx, &l);
	if (r != MAILIMF_NO_ERROR)
		return NULL;
	while (idx < len && (s[idx] == ' ' || s[idx] == '\t'))
		idx++;
	if (idx != len) {
		mailimf_address_list_free(l);
		return NULL;
	}
	return l;
}

/* Remove (comments) outside quoted strings, in place; each becomes one
 * space.  Returns s. */
static char *strip_comments(char *s)
{
	char *w = s;
	bool quoted = false;
	int paren = 0;
	for (const char *r = s; *r; r++) {
		if (paren) {
			if (*r == '\\' && r[1])
				r++;
			else if (*r == '(')
				paren++;
			else if (*r == ')' && --paren == 0)
				*w++ = ' ';
			continue;
		}
		if (*r == '\\' && quoted && r[1]) {
			*w++ = *r++;
		} else if (*r == '"') {
			quoted = !quoted;
		} else if (*r == '(' && !quoted) {
			paren = 1;
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
	return s;
}

/* Parse s as exactly one mailbox (trailing blanks allowed), or NULL. */
static struct mailimf_mailbox *parse_one_mailbox(const char *s)
{
	struct mailimf_mailbox *mb = NULL;
	size_t n = strlen(s), idx = 0;
	if (!n || mailimf_mailbox_parse(s, n, &idx, &mb) != MAILIMF_NO_ERROR)
		return NULL;
	while (idx < n && (s[idx] == ' ' || s[idx] == '\t'))
		idx++;
	if (idx != n) {
		mailimf_mailbox_free(mb);
		return NULL;
	}
	return mb;
}

/*
 * One list element on its own, without a group's "name:" before it or its
 * ';' after it.  Tried as is, then without (comments) and without an
 * obsolete source route ("<@relay:a@b>").  Returns the mailbox or NULL;
 * e is modified.
 */
static struct mailimf_mailbox *parse_lone_element(char *e)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt == 1) {
			strip_comments(e);
			char *lt = strstr(e, "<@");
			char *colon = lt ? strchr(lt, ':') : NULL;
			char *gt = lt ? strchr(lt, '>') : NULL;
			if (colon && (!gt || colon < gt))
				memmove(lt + 1, colon + 1,
					strlen(colon + 1) + 1);
		}
		bool quoted = false;
		int paren = 0, angle = 0;
		char *colon = NULL;
		for (char *p = e; *p; p++) {
			if (*p == '\\' && (quoted || paren) && p[1])
				p++;
			else if (*p == '"' && !paren)
				quoted = !quoted;
			else if (!quoted && *p == '(')
				paren++;
			else if (!quoted && *p == ')' && paren)
				paren--;
			else if (!quoted && !paren && *p == '<')
				angle++;
			else if (!quoted && !paren && *p == '>' && angle)
				angle--;
			else if (!quoted && !paren && !angle && *p == ':' &&
				 !colon)
				colon = p;
		}
		char *s = str_trim(colon ? colon + 1 : e);
		size_t n = strlen(s);
		if (n && s[n - 1] == ';')
			s[--n] = '\0';
		s = str_trim(s);
		if (!*s)
			return NULL; /* e.g. "name:;", nothing to try again */
		struct mailimf_mailbox *mb = parse_one_mailbox(s);
		if (mb)
			return mb;
		memmove(e, s, strlen(s) + 1);
	}
	return NULL;
}

/*
 * An address field libetpan could not parse (it came back as an optional
 * field).  Re-read it without its empty elements; failing that, element
 * by element, keeping the good ones.
 */
static void repair_address_field(struct hctx *c, const char *raw,
				 enum addr_dest dest, const char *field)
{
	char *v = unfold(raw, strlen(raw));
	strvec_t el = {0};
	strbuf_t joined = {0};
	struct mailimf_address_list *l = NULL;

	split_elements(v, &el);
	for (size_t i = 0; i < el.n; i++) {
		if (!*el.v[i])
			continue;
		if (joined.len)
			sb_puts(&joined, ", ");
		sb_puts(&joined, el.v[i]);
	}
	if (!joined.len)
		goto done; /* nothing but commas: nothing to say */

	l = parse_whole_list(sb_str(&joined));
	if (l) {
		add_address_list(c, l, dest, field);
		goto done;
	}
	for (size_t i = 0; i < el.n; i++) {
		if (!*el.v[i])
			continue;
		char *copy = xstrdup(el.v[i]);
		struct mailimf_mailbox *mb = parse_lone_element(copy);
		free(copy);
		if (mb) {
			add_mailbox(c, mb, dest, field);
			mailimf_mailbox_free(mb);
			continue;
		}
		/* A lone "name:;" group or a ';' is not an error. */
		if (strchr(el.v[i], '@') || !strpbrk(el.v[i], ":;")) {
			char *q = quote_for_warning(el.v[i]);
			hdr_warn(c, "dropped unparsable address in %s: %s",
				 field, q);
			free(q);
		}
	}
done:
	if (l)
		mailimf_address_list_free(l);
	sb_free(&joined);
	strvec_free(&el);
	free(v);
}

/* ---- dates ---------------------------------------------------------- */

static int days_in_month(int year, int mon)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return mon == 2 && leap ? 29 : dm[mon - 1];
}

/*
 * A broken-down date with its zone (±hhmm as a decimal int, as libetpan
 * gives it) to UTC seconds.  Fixes two- and three-digit years; refuses
 * impossible dates with a warning.
 */
static bool set_date(struct hctx *c, int year, int mon, int day, int hour,
		     int min, int sec, int zone)
{
	if (year >= 0 && year < 50)
		year += 2000;
	else if (year >= 50 && year < 1000)
		year += 1900;
	if (year < 1970 || year > 9999 || mon < 1 || mon > 12 || day < 1 ||
	    day > days_in_month(year, mon) || hour < 0 || hour > 23 ||
	    min < 0 || min > 59 || sec < 0 || sec > 60) {
		hdr_warn(
			c,
			"ignored impossible Date %04d-%02d-%02d %02d:%02d:%02d",
			year, mon, day, hour, min, sec);
		return false;
	}
	int az = zone < 0 ? -zone : zone;
	if (az % 100 >= 60 || az / 100 > 14) {
		hdr_warn(c, "ignored bad time zone %+05d in Date", zone);
		zone = 0;
		az = 0;
	}
	struct tm tm = {0};
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	int64_t t = (int64_t)timegm(&tm);
	int64_t off = (int64_t)(az / 100 * 3600 + az % 100 * 60);
	c->h->date = zone < 0 ? t + off : t - off;
	c->h->has_date = true;
	return true;
}

/* v: the Date value the date-time was parsed from. */
static void set_date_etpan(struct hctx *c, const struct mailimf_date_time *d,
			   const char *v)
{
	int zone = d->dt_zone;
	/* libetpan 1.9.4 stores TRUE (1) as the zone of "UT". */
	if (zone == 1 && !strstr(v, "+0001"))
		zone = 0;
	set_date(c, d->dt_year, d->dt_month, d->dt_day, d->dt_hour, d->dt_min,
		 d->dt_sec, zone);
}

static int month_number(const char *m)
{
	static const char *const names[12] = {"jan", "feb", "mar", "apr",
					      "may", "jun", "jul", "aug",
					      "sep", "oct", "nov", "dec"};
	for (int i = 0; i < 12; i++)
		if (strncasecmp(m, names[i], 3) == 0)
			return i + 1;
	return 0;
}

/* "Z", "+hhmm", "+hh:mm", "+hh" at s → ±hhmm; 0 when absent. */
static int parse_zone_suffix(const char *s)
{
	while (*s == ' ')
		s++;
	int sign = *s == '-' ? -1 : 1;
	if (*s != '+' && *s != '-')
		return 0;
	s++;
	int hh = 0, mm = 0;
	if (sscanf(s, "%2d:%2d", &hh, &mm) == 2 ||
	    sscanf(s, "%2d%2d", &hh, &mm) >= 1)
		return sign * (hh * 100 + mm);
	return 0;
}

/* lo to hi digits at s[*i] (of n) as *v, *i moved past them. */
static bool take_number(const char *s, size_t n, size_t *i, size_t lo,
			size_t hi, int *v)
{
	size_t k = 0;
	*v = 0;
	while (k < hi && *i + k < n && isdigit((unsigned char)s[*i + k]))
		*v = *v * 10 + (s[*i + k++] - '0');
	*i += k;
	return k >= lo;
}

/* The three-letter name at s[*i] (of n) followed by c, among the
 * names (each three letters, in order): its number from 1, *i moved past
 * the c.  0 when none. */
static int take_name(const char *s, size_t n, size_t *i, const char *names,
		     char c)
{
	if (n - *i < 4 || s[*i + 3] != c)
		return 0;
	for (size_t k = 0; names[3 * k]; k++)
		if (memcmp(s + *i, names + 3 * k, 3) == 0) {
			*i += 4;
			return (int)k + 1;
		}
	return 0;
}

/*
 * A Date as nearly every mailer writes it, "Tue, 1 Jul 2003 10:52:37
 * +0200" (the day name optional), alone in raw[0..n) but for blanks and
 * the line end: set as libetpan's path sets it, without the copies and
 * its parser.  Else false, for set_date_raw's whole reading.
 */
static bool plain_date(struct hctx *c, const char *raw, size_t n)
{
	size_t i = 0;
	int day, mon, year, hh, mm, ss, zone;
	while (i < n && (raw[i] == ' ' || raw[i] == '\t'))
		i++;
	if (take_name(raw, n, &i, "MonTueWedThuFriSatSun", ',') &&
	    (i >= n || raw[i++] != ' '))
		return false;
	if (!take_number(raw, n, &i, 1, 2, &day) || i >= n || raw[i++] != ' ' ||
	    !(mon = take_name(raw, n, &i,
			      "JanFebMarAprMayJunJulAugSepOctNovDec", ' ')) ||
	    !take_number(raw, n, &i, 4, 4, &year) || i >= n ||
	    raw[i++] != ' ' || !take_number(raw, n, &i, 2, 2, &hh) || i >= n ||
	    raw[i++] != ':' || !take_number(raw, n, &i, 2, 2, &mm) || i >= n ||
	    raw[i++] != ':' || !take_number(raw, n, &i, 2, 2, &ss) ||
	    i + 5 >= n || raw[i++] != ' ' || (raw[i] != '+' && raw[i] != '-'))
		return false;
	int sign = raw[i++] == '-' ? -1 : 1;
	if (!take_number(raw, n, &i, 4, 4, &zone))
		return false;
	while (i < n && memchr(" \t\r\n", raw[i], 4))
		i++;
	if (i < n || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return false;
	set_date(c, year, mon, day, hh, mm, ss, sign * zone);
	return true;
}

/*
 * A Date value (raw, as written), unless one was set already: the first
 * usable Date counts.  Tried in order: libetpan's RFC 5322 date-time
 * parser (obsolete forms, named zones; trailing junk ignored;
 * "+hh:mm" zones, which it misreads as "+00hh", rewritten first),
 * asctime() style ("Tue Jul  1 10:52:37 2003", zone name optional, taken
 * as UTC) and ISO 8601 ("2003-07-01 10:52:37", "T" and a zone optional).
 */
static void set_date_raw(struct hctx *c, const char *raw, size_t rawlen)
{
	if (c->h->has_date ||
	    (mailhdr_own_parsers && plain_date(c, raw, rawlen)))
		return;
	char *v = strip_comments(unfold(raw, rawlen));
	/* "09 : 55 : 06" → "09:55:06" (obsolete syntax allows blanks) */
	char *w = v;
	for (const char *r = v; *r; r++) {
		if (*r == ':') {
			while (w > v && w[-1] == ' ')
				w--;
			*w++ = ':';
			while (r[1] == ' ')
				r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	size_t n = strlen(v);
	/* "+02:00" → "+0200" where a zone would be. */
	for (size_t i = 1; i + 5 < n; i++) {
		char *z = v + i;
		if ((z[0] == '+' || z[0] == '-') && z[-1] == ' ' &&
		    isdigit((unsigned char)z[1]) &&
		    isdigit((unsigned char)z[2]) && z[3] == ':' &&
		    isdigit((unsigned char)z[4]) &&
		    isdigit((unsigned char)z[5])) {
			memmove(z + 3, z + 4, n - (i + 4) + 1);
			n--;
		}
	}

	struct mailimf_date_time *d = NULL;
	size_t idx = 0;
	if (n && mailimf_date_time_parse(v, n, &idx, &d) == MAILIMF_NO_ERROR &&
	    d) {
		set_date_etpan(c, d, v);
		mailimf_date_time_free(d);
		goto done;
	}

	char wd[8], mon[8], zn[16];
	int day, hour, min, sec, year, consumed = 0;
	if (sscanf(v, "%7s %7s %d %d:%d:%d %d", wd, mon, &day, &hour, &min,
		   &sec, &year) == 7 ||
	    sscanf(v, "%7s %7s %d %d:%d:%d %15s %d", wd, mon, &day, &hour, &min,
		   &sec, zn, &year) == 8) {
		int m = month_number(mon);
		if (m) {
			set_date(c, year, m, day, hour, min, sec, 0);
			goto done;
		}
	}
	int mo;
	sec = 0;
	if (sscanf(v, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &year, &mo, &day, &hour,
		   &min, &consumed) == 5 &&
	    consumed > 0) {
		const char *rest = v + consumed;
		int k = 0;
		if (sscanf(rest, ":%2d%n", &sec, &k) == 1)
			rest += k;
		while (*rest == '.' || isdigit((unsigned char)*rest))
			rest++; /* fractions of a second */
		set_date(c, year, mo, day, hour, min, sec,
			 parse_zone_suffix(rest));
		goto done;
	}
	char *q = quote_for_warning(v);
	hdr_warn(c, "ignored unparsable Date: %s", q);
	free(q);
done:
	free(v);
}

/* ---- other fields --------------------------------------------------- */

/* A msg-id without <>, sanitized; NULL when empty.  Caller frees. */
static char *clean_id(const char *s, size_t n)
{
	char *v = unfold(s, n);
	size_t len = strlen(v);
	if (len && v[len - 1] == '>')
		v[--len] = '\0';
	if (len && v[0] == '<')
		memmove(v, v + 1, len--);
	char *t = str_trim(v);
	if (t != v)
		memmove(v, t, strlen(t) + 1);
	str_sanitize(v);
	if (!*v) {
		free(v);
		return NULL;
	}
	return v;
}

/* A Message-ID or In-Reply-To libetpan refused: the first <...> in it,
 * else (Message-ID only) the whole trimmed value. */
static char *raw_id(const char *raw, bool whole_ok)
{
	const char *lt = strchr(raw, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt)
		return clean_id(lt + 1, (size_t)(gt - lt - 1));
	return whole_ok ? clean_id(raw, strlen(raw)) : NULL;
}

/* First token of a structured value, (comments) skipped, up to a blank or
 * ';'.  Copied into out (truncated). */
static void first_token(const char *v, char *out, size_t outsz)
{
	int paren = 0;
	size_t n = 0;
	for (const char *p = v; *p; p++) {
		if (paren) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '(')
				paren++;
			else if (*p == ')')
				paren--;
			continue;
		}
		if (*p == '(') {
			if (n)
				break;
			paren++;
			continue;
		}
		if (isspace((unsigned char)*p) || *p == ';') {
			if (n)
				break;
			continue;
		}
		if (n + 1 < outsz)
			out[n++] = *p;
	}
	out[n] = '\0';
}

static void handle_optional(struct hctx *c,
			    const struct mailimf_optional_field *o)
{
	const char *name = o->fld_name ? o->fld_name : "";
	const char *value = o->fld_value ? o->fld_value : "";
	char tok[32];

	if (strcasecmp(name, "Auto-Submitted") == 0) {
		first_token(value, tok, sizeof tok);
		if (*tok && strcasecmp(tok, "no") != 0)
			c->h->automated = true;
	} else if (strcasecmp(name, "Precedence") == 0) {
		first_token(value, tok, sizeof tok);
		if (strcasecmp(tok, "bulk") == 0 ||
		    strcasecmp(tok, "junk") == 0 ||
		    strcasecmp(tok, "list") == 0)
			c->h->automated = true;
	} else if (strcasecmp(name, "From") == 0) {
		repair_address_field(c, value, DEST_FROM, "From");
	} else if (strcasecmp(name, "Sender") == 0) {
		if (!c->have_sender)
			repair_address_field(c, value, DEST_SENDER, "Sender");
	} else if (strcasecmp(name, "To") == 0) {
		repair_address_field(c, value, DEST_RCPT, "To");
	} else if (strcasecmp(name, "Cc") == 0) {
		repair_address_field(c, value, DEST_RCPT, "Cc");
	} else if (strcasecmp(name, "Bcc") == 0) {
		repair_address_field(c, value, DEST_RCPT, "Bcc");
	} else if (strcasecmp(name, "Date") == 0) {
		set_date_raw(c, value, strlen(value));
	} else if (strcasecmp(name, "Message-ID") == 0) {
		if (!c->h->message_id)
			c->h->message_id = raw_id(value, true);
	} else if (strcasecmp(name, "In-Reply-To") == 0) {
		if (!c->h->in_reply_to)
			c->h->in_reply_to = raw_id(value, false);
	}
}

/* The first Subject, from its value v[0..n), folded or not. */
static void set_subject(struct hctx *c, const char *v, size_t n)
{
	if (c->have_subject)
		return;
	c->have_subject = true;
	char *subject = decode_textn(v, n);
	c->h->subject_hash = subject_hash(subject);
	if (c->want_subject)
		c->h->subject = subject;
	else
		free(subject);
}

/* raw: the field's value as written (after the colon), rawlen bytes. */
static void handle_field(struct hctx *c, const struct mailimf_field *f,
			 const char *raw, size_t rawlen)
{
	mailsrc_header_t *h = c->h;
	switch (f->fld_type) {
	case MAILIMF_FIELD_ORIG_DATE:
		/* From the raw value: libetpan's own result loses "+hh:mm"
		 * zones and "UT". */
		set_date_raw(c, raw, rawlen);
		break;
	case MAILIMF_FIELD_FROM:
		add_mailbox_list(c, f->fld_data.fld_from->frm_mb_list,
				 DEST_FROM, "From");
		break;
	case MAILIMF_FIELD_SENDER:
		if (f->fld_data.fld_sender->snd_mb)
			add_mailbox(c, f->fld_data.fld_sender->snd_mb,
				    DEST_SENDER, "Sender");
		break;
	case MAILIMF_FIELD_TO:
		add_address_list(c, f->fld_data.fld_to->to_addr_list, DEST_RCPT,
				 "To");
		break;
	case MAILIMF_FIELD_CC:
		add_address_list(c, f->fld_data.fld_cc->cc_addr_list, DEST_RCPT,
				 "Cc");
		break;
	case MAILIMF_FIELD_BCC:
		add_address_list(c, f->fld_data.fld_bcc->bcc_addr_list,
				 DEST_RCPT, "Bcc");
		break;
	case MAILIMF_FIELD_MESSAGE_ID:
		if (!h->message_id && f->fld_data.fld_message_id->mid_value) {
			const char *v = f->fld_data.fld_message_id->mid_value;
			h->message_id = clean_id(v, strlen(v));
		}
		break;
	case MAILIMF_FIELD_IN_REPLY_TO:
		if (!h->in_reply_to) {
			clist *l = f->fld_data.fld_in_reply_to->mid_list;
			clistiter *it = l ? clist_begin(l) : NULL;
			const char *v = it ? clist_content(it) : NULL;
			if (v)
				h->in_reply_to = clean_id(v, strlen(v));
		}
		break;
	case MAILIMF_FIELD_SUBJECT: {
		const char *v = f->fld_data.fld_subject->sbj_value;
		set_subject(c, v, strlen(v));
		break;
	}
	case MAILIMF_FIELD_OPTIONAL_FIELD:
		handle_optional(c, f->fld_data.fld_optional_field);
		break;
	default:
		break;
	}
}

/* A msg-id "<ID>" alone in v[0..n) but for blanks and folds, ID
 * printable ASCII without blanks, quotes, comments or brackets, as
 * libetpan reads it whole: *id and *idn set.  Else false. */
static bool lone_id(const char *v, size_t n, const char **id, size_t *idn)
{
	size_t i = skip_blanks(v, n, 0), e;
	if (i >= n || v[i] != '<')
		return false;
	for (e = i + 1;
	     e < n && v[e] > ' ' && v[e] < 127 && v[e] != '<' && v[e] != '>' &&
	     v[e] != '(' && v[e] != ')' && v[e] != '"' && v[e] != '\\';
	     e++)
		;
	if (e == i + 1 || e >= n || v[e] != '>' ||
	    skip_blanks(v, n, e + 1) != n)
		return false;
	*id = v + i + 1;
	*idn = e - i - 1;
	return true;
}

/*
 * The field f[0..n) when it is a Date, Subject, Message-ID or In-Reply-To
 * read here as libetpan's path reads it: read.  Else false.  Both of
 * libetpan's readings of a Date (as a date, or as text when that fails)
 * end in set_date_raw, and of a Subject (unstructured text, which any
 * value is) in set_subject, so those two are read here unless they end
 * in a line of blanks (one_line_end); an id
 * only when it is one lone_id reads (an In-Reply-To: its first, when
 * each of its ids is one), since libetpan's fallback takes the first
 * <...> of a value it refuses.
 */
static bool fast_field(struct hctx *c, const char *f, size_t n)
{
	const char *colon = memchr(f, ':', n);
	if (!mailhdr_own_parsers || !colon)
		return false;
	size_t k = (size_t)(colon - f), vn = n - k - 1;
	const char *v = colon + 1, *id;
	size_t idn;
	if (!one_line_end(v, vn))
		return false;

	if (k == 4 && strncasecmp(f, "Date", 4) == 0) {
		set_date_raw(c, v, vn);
		return true;
	}
	if (k == 7 && strncasecmp(f, "Subject", 7) == 0) {
		set_subject(c, v, vn);
		return true;
	}
	if (k == 10 && strncasecmp(f, "Message-ID", 10) == 0) {
		if (!lone_id(v, vn, &id, &idn))
			return false;
		if (!c->h->message_id)
			c->h->message_id = clean_id(id, idn);
		return true;
	}
	if (k == 11 && strncasecmp(f, "In-Reply-To", 11) == 0) {
		/* "<a> <b>": each id, with the blanks after it, one that
		 * lone_id reads */
		const char *first = NULL;
		size_t firstn = 0;
		for (size_t i = 0; skip_blanks(v, vn, i) < vn;) {
			const char *gt = memchr(v + i, '>', vn - i);
			if (!gt)
				return false;
			size_t end = skip_blanks(v, vn, (size_t)(gt - v) + 1);
			if (!lone_id(v + i, end - i, &id, &idn))
				return false;
			if (!first) {
				first = id;
				firstn = idn;
			}
			i = end;
		}
		if (!first)
			return false;
		if (!c->h->in_reply_to)
			c->h->in_reply_to = clean_id(first, firstn);
		return true;
	}
	return false;
}

/* ---- the header block ----------------------------------------------- */

/*
 * Is the field at f (n bytes, its first line and continuation lines) one
 * that nothing here reads?  Most of a header is Received, DKIM and X-
 * lines, and libetpan would parse each char by char into structures to
 * be thrown away.  Only a well-formed name counts (printable ASCII but
 * ':', then the colon): a broken line still goes to the parser, to be
 * warned about as before.
 */
static bool unused_field(const char *f, size_t n)
{
	/* the fields read, under the length of their name */
	static const char *const used[][2] = {
		[2] = {"Cc", "To"},     [3] = {"Bcc"},
		[4] = {"Date", "From"}, [6] = {"Sender"},
		[7] = {"Subject"},      [10] = {"Message-ID", "Precedence"},
		[11] = {"In-Reply-To"}, [14] = {"Auto-Submitted"},
	};
	size_t k = 0;

	while (k < n && f[k] > ' ' && f[k] < 127 && f[k] != ':')
		k++;
	/* RFC 5322 allows blanks before the colon; they are rare: leave
	 * those to the parser. */
	if (k == 0 || k >= n || f[k] != ':')
		return false;
	if (k < sizeof used / sizeof *used)
		for (size_t i = 0; i < 2 && used[k][i]; i++)
			if (strncasecmp(f, used[k][i], k) == 0)
				return false;
	return true;
}

/* Offset of the empty line that ends the header (or len), and the length
 * of the block including that line. */
static void header_bounds(const char *buf, size_t len, size_t *content_end,
			  size_t *block_end)
{
	size_t p = 0; /* start of the current line */
	while (p < len) {
		if (buf[p] == '\n') {
			*content_end = p;
			*block_end = p + 1;
			return;
		}
		if (buf[p] == '\r' && p + 1 < len && buf[p + 1] == '\n') {
			*content_end = p;
			*block_end = p + 2;
			return;
		}
		const char *nl = memchr(buf + p, '\n', len - p);
		if (!nl)
			break;
		p = (size_t)(nl - buf) + 1;
	}
	*content_end = len;
	*block_end = len;
}

size_t mailsrc_header_length(const char *buf, size_t len)
{
	size_t content_end, block_end;
	header_bounds(buf, len, &content_end, &block_end);
	return block_end;
}

/* True when the line at s (n bytes available) is an mbox "From " envelope
 * line rather than a "From:" field (obsolete syntax allows "From :"). */
static bool is_envelope_line(const char *s, size_t n)
{
	if (n < 5 || memcmp(s, "From ", 5) != 0)
		return false;
	size_t i = 4;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return !(i < n && s[i] == ':');
}

static size_t count_lines(const char *s, size_t from, size_t to)
{
	size_t k = 0;
	for (size_t i = from; i < to; i++)
		if (s[i] == '\n')
			k++;
	return k;
}

void mailsrc_parse_header(const char *buf, size_t len, bool want_subject,
			  mailsrc_header_t *h)
{
	struct hctx c = {.h = h, .want_subject = want_subject};
	char *w = NULL;
	size_t content_end, block_end;

	if (!buf || !len)
		goto done;
	header_bounds(buf, len, &content_end, &block_end);
	/* Backends hand out at most MAILSRC_HEADER_MAX bytes of a header:
	 * one that long without its empty line was cut, and whatever came
	 * after the cut (a Date below a huge To:) is missing for that
	 * reason, which the reader of the warnings must be told. */
	if (content_end == len && len >= MAILSRC_HEADER_MAX) {
		h->cut = true;
		hdr_warn(&c,
			 "header over %d MiB: cut there, fields after it "
			 "not read",
			 MAILSRC_HEADER_MAX / (1024 * 1024));
	}

	size_t start = 0, first_line = 1;
	if (content_end >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	if (is_envelope_line(buf + start, content_end - start)) {
		const char *nl = memchr(buf + start, '\n', content_end - start);
		start = nl ? (size_t)(nl - buf) + 1 : content_end;
		first_line = 2;
	}
	if (start >= content_end)
		goto done;

	/* A private copy: NULs would cut libetpan's strings short, and the
	 * last line needs its newline to count as a field. */
	size_t wlen = content_end - start;
	w = xmalloc(wlen + 2);
	memcpy(w, buf + start, wlen);
	for (char *z = memchr(w, '\0', wlen); z;
	     z = memchr(z, '\0', wlen - (size_t)(z - w)))
		*z = ' ';
	if (w[wlen - 1] != '\n')
		w[wlen++] = '\n';
	w[wlen] = '\0';

	/*
	 * One field at a time (its first line and the continuation lines
	 * under it), so each field's raw text is at hand.  On a whole
	 * header, libetpan stops (with MAILIMF_NO_ERROR) at the first line
	 * it cannot read and loses the rest; here such a field is dropped
	 * with a warning and the next one is parsed.
	 */
	size_t pos = 0, lineno = first_line;
	while (pos < wlen) {
		size_t end = pos, nlines = 0;
		do {
			const char *nl = memchr(w + end, '\n', wlen - end);
			end = nl ? (size_t)(nl - w) + 1 : wlen;
			nlines++;
		} while (end < wlen && (w[end] == ' ' || w[end] == '\t'));

		if (unused_field(w + pos, end - pos) ||
		    fast_address_field(&c, w + pos, end - pos) ||
		    fast_field(&c, w + pos, end - pos)) {
			lineno += nlines;
			pos = end;
			continue;
		}
		size_t idx = pos;
		struct mailimf_fields *fields = NULL;
		int r = mailimf_envelope_and_optional_fields_parse(w, end, &idx,
								   &fields);
		if (r != MAILIMF_NO_ERROR)
			idx = pos;
		if (idx < end) {
			/* Refused or only partly read (a broken address list,
			 * a References with a bad id): as an optional field,
			 * "Name: raw value", which handle_optional repairs. */
			size_t oidx = pos;
			struct mailimf_fields *opt = NULL;
			r = mailimf_optional_fields_parse(w, end, &oidx, &opt);
			if (r == MAILIMF_NO_ERROR && oidx == end && opt) {
				if (fields)
					mailimf_fields_free(fields);
				fields = opt;
				idx = end;
			} else if (r == MAILIMF_NO_ERROR && opt) {
				mailimf_fields_free(opt);
			}
		}
		if (fields) {
			const char *colon = memchr(w + pos, ':', end - pos);
			const char *raw = colon ? colon + 1 : w + end;
			size_t rawlen = (size_t)(w + end - raw);
			for (clistiter *it = clist_begin(fields->fld_list); it;
			     it = clist_next(it))
				handle_field(&c, clist_content(it), raw,
					     rawlen);
			mailimf_fields_free(fields);
		}
		if (idx < end) {
			size_t at = idx > pos ? idx : pos;
			c.dropped_lines++;
			if (c.dropped_lines <= HDR_MAX_LINE_WARNINGS)
				hdr_warn(&c,
					 "dropped malformed header line %zu",
					 lineno + count_lines(w, pos, at));
		}
		lineno += nlines;
		pos = end;
	}
	if (c.dropped_lines > HDR_MAX_LINE_WARNINGS)
		hdr_warn(&c, "dropped %zu more malformed header lines",
			 c.dropped_lines - HDR_MAX_LINE_WARNINGS);
done:
	if (!c.have_subject)
		h->subject_hash = subject_hash(NULL);
	free(w);
}

static void addr_free(mailsrc_addr_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].addr);
		free(a[i].name);
	}
	free(a);
}

void mailsrc_header_clear(mailsrc_header_t *h)
{
	if (!h)
		return;
	addr_free(h->from, h->nfrom);
	addr_free(h->sender, h->sender ? 1 : 0);
	addr_free(h->rcpt, h->nrcpt);
	free(h->message_id);
	free(h->in_reply_to);
	free(h->subject);
	strvec_free(&h->warnings);
	memset(h, 0, sizeof *h);
}
