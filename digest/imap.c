/*
 * imap — the IMAP backend of mailsrc (libetpan's mailimap): the leader's
 * sent folder read-only, headers only, incrementally by UIDVALIDITY/UID.
 *
 * What it does, in order (docs/libraries.md §3.3, §3.4):
 *  - connects with implicit TLS (imaps) or STARTTLS (imap; a server that
 *    does not offer it is refused), SNI sent, and verifies the certificate
 *    chain and host name before any credential is sent;
 *  - logs in with LOGIN, or AUTHENTICATE PLAIN, XOAUTH2 or OAUTHBEARER
 *    (the exchange is ours: libetpan's goes through Cyrus SASL, which has
 *    no OAuth mechanisms on Debian);
 *  - finds the folder (the one the URL names, else the one LIST marks
 *    \Sent) and EXAMINEs it, so no flag can change;
 *  - lists the UIDs after the cursor (UID SEARCH; UID n:* also returns the
 *    highest message when its UID < n, so every UID is checked) and
 *    fetches BODY.PEEK[HEADER] in batches.  A batch the parser chokes on
 *    is fetched again one message at a time on a fresh connection, and a
 *    message that still fails is yielded as unreadable, naming its UID.
 *
 * libetpan sets every timeout from mailimap_set_timeout: connect, TLS
 * handshake and each read.  libetpan types stay in this file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* explicit_bzero */
#endif

#include "mailsrc_priv.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "tls.h"

#define IMAP_BATCH      100 /* messages per UID FETCH */
#define IMAP_AUTH_TAG   "digest1"
#define IMAP_AUTH_LINES 64 /* lines an AUTHENTICATE exchange may take */

/* One fetched message, copied out of libetpan's response. */
typedef struct {
	uint32_t uid;
	char *header; /* NULL: unreadable, error says why */
	size_t len;
	const char *error;
	bool retry; /* unreadable for now: the cursor stays below it,
		     * so the next run asks again */
} imap_msg_t;

#define IMAP_ERR_PARSE "the server's response to UID FETCH cannot be parsed"
#define IMAP_ERR_MISSING                                                       \
	"the server sent no header for it (it is asked for again next time)"
#define IMAP_POISON_MAX 10 /* unparsable messages in a row before giving up */

typedef struct {
	/* the configuration, copied */
	char *name, *host, *user, *secret, *ca_file, *want_folder;
	int port, timeout;
	bool implicit_tls;
	mailsrc_auth_t auth;

	mailimap *imap;
	char *folder; /* as the server names it */
	uint32_t uidvalidity;
	uint32_t covered;   /* every UID <= covered was yielded (or seen) */
	bool held;          /* a message to ask for again: the cursor */
	uint32_t hold;      /* stays at hold (its UID - 1) */
	uint32_t *uids;     /* still to fetch, ascending */
	size_t nuids, next; /* uids[next..] not fetched yet */
	uint32_t last;      /* the highest UID listed */
	imap_msg_t *batch;
	size_t nbatch, ibatch;
	size_t done;
	bool healthy; /* no error on the connection so far */
	char key[24];
	char *where;
} imap_state_t;

/* A server that goes away must not kill us while we write: SIGPIPE is
 * blocked in the calling thread around every call into libetpan (which
 * writes without MSG_NOSIGNAL), and one raised meanwhile is consumed. */
static void pipe_block(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

static void pipe_restore(const sigset_t *old)
{
	sigset_t s, pending;
	struct timespec zero = {0, 0};
	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
		sigtimedwait(&s, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* ---- the one response parser of our own ------------------------------- */

mailsrc_imap_line_t mailsrc_imap_line(const char *line, const char *tag,
				      const char **text)
{
	size_t n = strlen(tag);

	*text = "";
	if (line[0] == '+' && (line[1] == '\0' || line[1] == ' ')) {
		*text = line[1] ? line + 2 : line + 1;
		return IMAP_LINE_CONTINUE;
	}
	if (strncmp(line, tag, n) != 0 || line[n] != ' ')
		return IMAP_LINE_OTHER;
	const char *w = line + n + 1;
	size_t wl = strcspn(w, " ");
	*text = w[wl] ? w + wl + 1 : w + wl;
	if (wl == 2 && strncasecmp(w, "OK", 2) == 0)
		return IMAP_LINE_OK;
	if ((wl == 2 && strncasecmp(w, "NO", 2) == 0) ||
	    (wl == 3 && strncasecmp(w, "BAD", 3) == 0))
		return IMAP_LINE_NO;
	*text = "";
	return IMAP_LINE_OTHER;
}

/* ---- messages --------------------------------------------------------- */

static const char *etpan_error(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		return "connection refused";
	case MAILIMAP_ERROR_STREAM:
		return "connection lost or timed out";
	case MAILIMAP_ERROR_SSL:
		return "TLS handshake failed";
	case MAILIMAP_ERROR_PARSE:
		return "a response digest cannot parse";
	case MAILIMAP_ERROR_STARTTLS:
		return "STARTTLS failed";
	case MAILIMAP_ERROR_LOGIN:
		return "login refused";
	case MAILIMAP_ERROR_MEMORY:
		return "out of memory";
	default:
		return "the server refused the command";
	}
}

/* The server's text for the last tagged response, sanitized, or "". */
static char *server_text(const imap_state_t *s)
{
	const char *t =
		s->imap && s->imap->imap_response ? s->imap->imap_response : "";
	char *out = xasprintf("%.200s", t);
	return str_sanitize(out);
}

/* A failure of command what: err set, ST_TEMPFAIL (the next run tries
 * again). */
static status_t fail(imap_state_t *s, const char *what, int r, err_t *err)
{
	char *text = r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_SSL ||
				     r == MAILIMAP_ERROR_CONNECTION_REFUSED
			     ? xstrdup("")
			     : server_text(s);
	status_t st = err_set(err, ST_TEMPFAIL, "%s: %s: %s%s%s", s->name, what,
			      etpan_error(r), *text ? ": " : "", text);
	free(text);
	return st;
}

/* ---- connecting ------------------------------------------------------- */

/* A line of ours to the server; the credential lines are marked private
 * for libetpan's logger. */
static int send_line(mailstream *st, const char *line, bool private)
{
	mailstream_set_privacy(st, private ? 0 : 1);
	int ok = mailstream_write(st, line, strlen(line)) >= 0 &&
		 mailstream_write(st, "\r\n", 2) >= 0 &&
		 mailstream_flush(st) >= 0;
	mailstream_set_privacy(st, 1);
	return ok ? MAILIMAP_NO_ERROR : MAILIMAP_ERROR_STREAM;
}

/* The initial client response of a SASL mechanism, base64.  Caller
 * wipes and frees. */
static char *sasl_response(const imap_state_t *s, const char **mech)
{
	strbuf_t b = {0};
	switch (s->auth) {
	case MAILSRC_AUTH_PLAIN:
		*mech = "PLAIN";
		sb_add(&b, "", 1); /* no authorization identity */
		sb_puts(&b, s->user);
		sb_add(&b, "", 1);
		sb_puts(&b, s->secret);
		break;
	case MAILSRC_AUTH_XOAUTH2:
		*mech = "XOAUTH2";
		sb_printf(&b, "user=%s\001auth=Bearer %s\001\001", s->user,
			  s->secret);
		break;
	default:
		*mech = "OAUTHBEARER";
		sb_printf(&b,
			  "n,a=%s,\001host=%s\001port=%d\001auth=Bearer %s"
			  "\001\001",
			  s->user, s->host, s->port, s->secret);
		break;
	}
	strbuf_t out = {0};
	sb_add_base64(&out, b.s, b.len);
	explicit_bzero(b.s, b.cap);
	sb_free(&b);
	return sb_steal(&out);
}

/* AUTHENTICATE with an initial response (RFC 4959 when the server offers
 * SASL-IR, else after its first continuation); an error challenge is
 * answered with "*" (cancel), and the tagged NO that follows says why. */
static status_t authenticate(imap_state_t *s, err_t *err)
{
	const char *mech = NULL;
	char *resp = sasl_response(s, &mech), *cmd = NULL;
	mailstream *st = s->imap->imap_stream;
	MMAPString *buf = mmap_string_new("");
	bool ir = mailimap_has_extension(s->imap, "SASL-IR");
	bool sent = ir;
	status_t res = ST_TEMPFAIL;
	char name[32];

	snprintf(name, sizeof name, "AUTHENTICATE %s", mech);
	if (!mailimap_has_authentication(s->imap, mech)) {
		res = err_set(
			err, ST_TEMPFAIL,
			"%s: the server does not offer AUTH=%s (imap_auth)",
			s->name, mech);
		goto done;
	}
	cmd = ir ? xasprintf(IMAP_AUTH_TAG " AUTHENTICATE %s %s", mech, resp)
		 : xasprintf(IMAP_AUTH_TAG " AUTHENTICATE %s", mech);
	if (!buf || send_line(st, cmd, true)) {
		res = fail(s, name, MAILIMAP_ERROR_STREAM, err);
		goto done;
	}
	for (int i = 0; i < IMAP_AUTH_LINES; i++) {
		const char *text;
		char *line = mailstream_read_line_remove_eol(st, buf);
		if (!line) {
			res = fail(s, name, MAILIMAP_ERROR_STREAM, err);
			goto done;
		}
		switch (mailsrc_imap_line(line, IMAP_AUTH_TAG, &text)) {
		case IMAP_LINE_CONTINUE:
			if (send_line(st, sent ? "*" : resp, true)) {
				res = fail(s, name, MAILIMAP_ERROR_STREAM, err);
				goto done;
			}
			sent = true;
			break;
		case IMAP_LINE_OK:
			s->imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
			res = ST_OK;
			goto done;
		case IMAP_LINE_NO: {
			char *t = str_sanitize(xasprintf("%.200s", text));
			res = err_set(err, ST_TEMPFAIL,
				      "%s: %s refused for %s: %s", s->name,
				      name, s->user, t);
			free(t);
			goto done;
		}
		case IMAP_LINE_OTHER:
			break;
		}
	}
	res = err_set(err, ST_TEMPFAIL, "%s: %s: no answer from the server",
		      s->name, name);
done:
	if (cmd)
		explicit_bzero(cmd, strlen(cmd));
	explicit_bzero(resp, strlen(resp));
	free(cmd);
	free(resp);
	if (buf) {
		explicit_bzero(buf->str, buf->allocated_len);
		mmap_string_free(buf);
	}
	return res;
}

/* The folder LIST marks \Sent (RFC 6154), into s->folder. */
static status_t find_sent(imap_state_t *s, err_t *err)
{
	clist *list = NULL;
	int r = mailimap_list(s->imap, "", "*", &list);
	if (r != MAILIMAP_NO_ERROR)
		return fail(s, "LIST", r, err);
	for (clistiter *it = clist_begin(list); it && !s->folder;
	     it = clist_next(it)) {
		struct mailimap_mailbox_list *mb = clist_content(it);
		if (!mb->mb_flag || !mb->mb_flag->mbf_oflags)
			continue;
		for (clistiter *f = clist_begin(mb->mb_flag->mbf_oflags); f;
		     f = clist_next(f)) {
			struct mailimap_mbx_list_oflag *o = clist_content(f);
			if (o->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT &&
			    o->of_flag_ext &&
			    strcasecmp(o->of_flag_ext, "Sent") == 0) {
				s->folder = xstrdup(mb->mb_name);
				break;
			}
		}
	}
	mailimap_list_result_free(list);
	if (!s->folder)
		return err_set(err, ST_NOINPUT,
			       "%s: no folder is marked \\Sent: name the sent "
			       "folder in the URL (imaps://user@host/Folder)",
			       s->name);
	return ST_OK;
}

/* Close the connection: with LOGOUT when it is in a sane state, else
 * (after an error, when the stream may hold half a response) at once. */
static void disconnect(imap_state_t *s, bool logout)
{
	if (!s->imap)
		return;
	if (logout && s->imap->imap_stream)
		mailimap_logout(s->imap);
	mailimap_free(s->imap);
	s->imap = NULL;
}

/* Connect, verify, authenticate and EXAMINE the folder. */
static status_t connect_folder(imap_state_t *s, err_t *err)
{
	status_t st;
	int r;

	s->imap = mailimap_new(0, NULL);
	if (!s->imap)
		return err_set(err, ST_SOFTWARE, "%s: out of memory", s->name);
	mailimap_set_timeout(s->imap, s->timeout);
	if (s->implicit_tls) {
		r = mailimap_ssl_connect_with_callback(s->imap, s->host,
						       (uint16_t)s->port,
						       tls_sni_cb, s->host);
		if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
		    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
			return fail(s, "connect", r, err);
	} else {
		r = mailimap_socket_connect(s->imap, s->host,
					    (uint16_t)s->port);
		if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
			return r == MAILIMAP_NO_ERROR_AUTHENTICATED
				       ? err_set(err, ST_TEMPFAIL,
						 "%s: the server logged us in "
						 "before "
						 "TLS (PREAUTH): refused",
						 s->name)
				       : fail(s, "connect", r, err);
		struct mailimap_capability_data *cap = NULL;
		if (mailimap_capability(s->imap, &cap) == MAILIMAP_NO_ERROR)
			mailimap_capability_data_free(cap);
		if (!mailimap_has_extension(s->imap, "STARTTLS"))
			return err_set(
				err, ST_TEMPFAIL,
				"%s: the server does not offer STARTTLS: "
				"refusing to log in without TLS",
				s->name);
		r = mailimap_socket_starttls_with_callback(s->imap, tls_sni_cb,
							   s->host);
		if (r != MAILIMAP_NO_ERROR)
			return fail(s, "STARTTLS", r, err);
	}
	if ((st = tls_verify(s->imap->imap_stream, s->host, s->ca_file, s->name,
			     err)))
		return st;
	/* What the server offers, as it says after TLS. */
	struct mailimap_capability_data *cap = NULL;
	r = mailimap_capability(s->imap, &cap);
	if (r != MAILIMAP_NO_ERROR)
		return fail(s, "CAPABILITY", r, err);
	mailimap_capability_data_free(cap);
	if (s->imap->imap_state == MAILIMAP_STATE_NON_AUTHENTICATED) {
		if (s->auth == MAILSRC_AUTH_LOGIN) {
			r = mailimap_login(s->imap, s->user, s->secret);
			if (r != MAILIMAP_NO_ERROR) {
				char *t = server_text(s);
				st = r == MAILIMAP_ERROR_LOGIN
					     ? err_set(err, ST_TEMPFAIL,
						       "%s: LOGIN refused for "
						       "%s%s%s",
						       s->name, s->user,
						       *t ? ": " : "", t)
					     : fail(s, "LOGIN", r, err);
				free(t);
				return st;
			}
		} else if ((st = authenticate(s, err))) {
			return st;
		}
	}
	if (!s->folder && s->want_folder)
		s->folder = xstrdup(s->want_folder);
	if (!s->folder && (st = find_sent(s, err)))
		return st;
	r = mailimap_examine(s->imap, s->folder);
	if (r == MAILIMAP_ERROR_EXAMINE) {
		char *f = str_sanitize(xstrdup(s->folder)), *t = server_text(s);
		st = err_set(err, ST_NOINPUT, "%s: no folder '%s'%s%s", s->name,
			     f, *t ? ": " : "", t);
		free(f);
		free(t);
		return st;
	}
	if (r != MAILIMAP_NO_ERROR)
		return fail(s, "EXAMINE", r, err);
	return ST_OK;
}

/* ---- listing and fetching --------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void key_of(uint32_t validity, uint32_t uid, char *key, size_t n)
{
	snprintf(key, n, "%u/%u", (unsigned)validity, (unsigned)uid);
}

/* UID SEARCH UID set (taken), the UIDs into *result (free with
 * mailimap_search_result_free). */
static status_t uid_search(imap_state_t *s, struct mailimap_set *set,
			   clist **result, err_t *err)
{
	struct mailimap_search_key *key = mailimap_search_key_new_uid(set);
	int r = mailimap_uid_search(s->imap, NULL, key, result);
	mailimap_search_key_free(key);
	return r == MAILIMAP_NO_ERROR ? ST_OK : fail(s, "UID SEARCH", r, err);
}

/* The UIDs after the cursor, those seen before left out. */
static status_t list_uids(imap_state_t *s, const mailsrc_spec_t *spec,
			  err_t *err)
{
	struct mailimap_selection_info *sel = s->imap->imap_selection_info;
	if (sel && sel->sel_has_exists && sel->sel_exists == 0)
		return ST_OK;
	clist *result = NULL;
	status_t st =
		uid_search(s, mailimap_set_new_interval(s->covered + 1, 0),
			   &result, err); /* n:* */
	if (st)
		return st;
	s->uids = xcalloc(clist_count(result) + 1, sizeof *s->uids);
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		if (uid <= s->covered) /* n:* also matches the highest UID */
			continue;
		if (uid > s->last)
			s->last = uid;
		char k[24];
		key_of(s->uidvalidity, uid, k, sizeof k);
		if (spec->seen && spec->seen(spec->seen_ctx, k))
			continue;
		s->uids[s->nuids++] = uid;
	}
	mailimap_search_result_free(result);
	qsort(s->uids, s->nuids, sizeof *s->uids, cmp_u32);
	return ST_OK;
}

static void batch_clear(imap_state_t *s)
{
	for (size_t i = 0; i < s->nbatch; i++)
		free(s->batch[i].header);
	free(s->batch);
	s->batch = NULL;
	s->nbatch = s->ibatch = 0;
}

static int cmp_msg(const void *a, const void *b)
{
	return cmp_u32(&((const imap_msg_t *)a)->uid,
		       &((const imap_msg_t *)b)->uid);
}

/* UID FETCH uids[0..n) (UID BODY.PEEK[HEADER]) into the batch; the
 * libetpan result code. */
static int fetch(imap_state_t *s, const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	struct mailimap_fetch_type *ft =
		mailimap_fetch_type_new_fetch_att_list_empty();
	clist *list = NULL;
	int r;

	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		mailimap_set_add_interval(set, uids[i], uids[j]);
		i = j + 1;
	}
	mailimap_fetch_type_new_fetch_att_list_add(
		ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
		ft, mailimap_fetch_att_new_body_peek_section(
			    mailimap_section_new_header()));
	r = mailimap_uid_fetch(s->imap, set, ft, &list);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	s->batch = xcalloc(clist_count(list) + 1, sizeof *s->batch);
	for (clistiter *it = clist_begin(list); it; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);
		uint32_t uid = 0;
		const char *hdr = NULL;
		size_t len = 0;
		for (clistiter *a = clist_begin(att->att_list); a;
		     a = clist_next(a)) {
			struct mailimap_msg_att_item *item = clist_content(a);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			struct mailimap_msg_att_static *st =
				item->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_UID)
				uid = st->att_data.att_uid;
			else if (st->att_type ==
					 MAILIMAP_MSG_ATT_BODY_SECTION &&
				 st->att_data.att_body_section) {
				hdr = st->att_data.att_body_section
					      ->sec_body_part;
				len = st->att_data.att_body_section->sec_length;
			}
		}
		/* Only what was asked for (unsolicited FETCH responses
		 * carry flags, not headers). */
		if (!uid || !hdr ||
		    !bsearch(&uid, uids, n, sizeof *uids, cmp_u32))
			continue;
		if (len > MAILSRC_HEADER_MAX)
			len = MAILSRC_HEADER_MAX;
		imap_msg_t *m = &s->batch[s->nbatch++];
		m->uid = uid;
		m->header = xmalloc(len + 1);
		memcpy(m->header, hdr, len);
		m->header[len] = '\0';
		m->len = len;
	}
	mailimap_fetch_list_free(list);
	qsort(s->batch, s->nbatch, sizeof *s->batch, cmp_msg);
	/* A UID listed twice (a server's duplicate response) once. */
	size_t k = 0;
	for (size_t i = 0; i < s->nbatch; i++) {
		if (k && s->batch[k - 1].uid == s->batch[i].uid) {
			free(s->batch[i].header);
			continue;
		}
		s->batch[k++] = s->batch[i];
	}
	s->nbatch = k;
	return MAILIMAP_NO_ERROR;
}

/* A fresh connection after a response the parser choked on: the stream
 * may hold the rest of it.  The folder must be the same one. */
static status_t reconnect(imap_state_t *s, err_t *err)
{
	uint32_t validity = s->uidvalidity;
	status_t st;

	disconnect(s, false);
	if ((st = connect_folder(s, err)))
		return st;
	struct mailimap_selection_info *sel = s->imap->imap_selection_info;
	if (!sel || sel->sel_uidvalidity != validity)
		return err_set(
			err, ST_TEMPFAIL,
			"%s: the folder's UIDVALIDITY changed while it was "
			"read: it is read again next time",
			s->name);
	return ST_OK;
}

/* Messages asked for that did not come: those the folder still lists
 * (a server's "NO Some messages could not be FETCHed", or a NIL header)
 * join the batch as unreadable for now; the others were expunged. */
static status_t add_missing(imap_state_t *s, const uint32_t *uids, size_t n,
			    err_t *err)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t nmissing = 0;
	for (size_t i = 0; i < n; i++) {
		bool got = false;
		for (size_t j = 0; j < s->nbatch && !got; j++)
			got = s->batch[j].uid == uids[i];
		if (!got) {
			mailimap_set_add_single(set, uids[i]);
			nmissing++;
		}
	}
	if (!nmissing) {
		mailimap_set_free(set);
		return ST_OK;
	}
	clist *result = NULL;
	status_t st = uid_search(s, set, &result, err);
	if (st)
		return st;
	s->batch = xrealloc(s->batch, (s->nbatch + clist_count(result) + 1) *
					      sizeof *s->batch);
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		if (!bsearch(&uid, uids, n, sizeof *uids, cmp_u32))
			continue; /* n:* and the like */
		bool got = false;
		for (size_t j = 0; j < s->nbatch && !got; j++)
			got = s->batch[j].uid == uid;
		if (!got)
			s->batch[s->nbatch++] =
				(imap_msg_t){.uid = uid,
					     .error = IMAP_ERR_MISSING,
					     .retry = true};
	}
	mailimap_search_result_free(result);
	qsort(s->batch, s->nbatch, sizeof *s->batch, cmp_msg);
	return ST_OK;
}

/* The next batch: up to IMAP_BATCH UIDs.  After a response the parser
 * chokes on (or a NO), each of them alone, on a fresh connection after
 * each failure: one that still cannot be parsed is unreadable for good
 * (the parser will not change by the next run). */
static status_t next_batch(imap_state_t *s, err_t *err)
{
	size_t n = s->nuids - s->next;
	const uint32_t *uids = s->uids + s->next;
	status_t st = ST_OK;

	if (n > IMAP_BATCH)
		n = IMAP_BATCH;
	batch_clear(s);
	int r = fetch(s, uids, n);
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_ERROR_PARSE &&
	    r != MAILIMAP_ERROR_FETCH && r != MAILIMAP_ERROR_UID_FETCH)
		return fail(s, "UID FETCH", r, err);
	if (r != MAILIMAP_NO_ERROR) {
		bool dirty = r == MAILIMAP_ERROR_PARSE;
		int poisoned = 0;
		batch_clear(s);
		imap_msg_t *all = xcalloc(n + 1, sizeof *all);
		size_t got = 0;
		for (size_t i = 0; i < n && !st; i++) {
			if (dirty && (st = reconnect(s, err)))
				break;
			r = fetch(s, &uids[i], 1);
			dirty = r == MAILIMAP_ERROR_PARSE;
			if (r == MAILIMAP_NO_ERROR && s->nbatch == 1) {
				all[got++] = s->batch[0];
				s->nbatch = 0;
				poisoned = 0;
			} else if (dirty) {
				all[got++] =
					(imap_msg_t){.uid = uids[i],
						     .error = IMAP_ERR_PARSE};
				if (++poisoned == IMAP_POISON_MAX)
					st = err_set(
						err, ST_TEMPFAIL,
						"%s: the server's responses "
						"to UID FETCH cannot be "
						"parsed (%d messages in a row)",
						s->name, poisoned);
			} else if (r != MAILIMAP_NO_ERROR &&
				   r != MAILIMAP_ERROR_FETCH &&
				   r != MAILIMAP_ERROR_UID_FETCH) {
				st = fail(s, "UID FETCH", r, err);
			} /* else not sent: add_missing asks why */
			batch_clear(s);
		}
		if (!st && dirty)
			st = reconnect(s, err);
		if (st) {
			for (size_t j = 0; j < got; j++)
				free(all[j].header);
			free(all);
			return st;
		}
		s->batch = all;
		s->nbatch = got;
	}
	if ((st = add_missing(s, uids, n, err)))
		return st;
	s->next += n;
	return ST_OK;
}

/* ---- the ops ---------------------------------------------------------- */

static void imap_close(void *state)
{
	imap_state_t *s = state;
	sigset_t old;
	if (!s)
		return;
	pipe_block(&old);
	disconnect(s, s->healthy);
	pipe_restore(&old);
	batch_clear(s);
	if (s->secret) {
		explicit_bzero(s->secret, strlen(s->secret));
		free(s->secret);
	}
	free(s->name);
	free(s->host);
	free(s->user);
	free(s->ca_file);
	free(s->want_folder);
	free(s->folder);
	free(s->uids);
	free(s->where);
	free(s);
}

static status_t imap_open(const mailsrc_spec_t *spec, void **state, err_t *err)
{
	const mailsrc_imap_t *c = spec->imap;
	imap_state_t *s = xcalloc(1, sizeof *s);
	status_t st;
	unsigned validity = 0, covered = 0;
	char end;

	*state = NULL;
	s->name = xstrdup(c->name);
	s->host = xstrdup(c->host);
	s->user = xstrdup(c->user);
	s->secret = xstrdup(c->secret ? c->secret : "");
	s->ca_file = c->ca_file ? xstrdup(c->ca_file) : NULL;
	s->want_folder = c->folder ? xstrdup(c->folder) : NULL;
	s->port = c->port;
	s->timeout = c->timeout > 0 ? c->timeout : 30;
	s->implicit_tls = c->implicit_tls;
	s->auth = c->auth;
	sigset_t old;
	pipe_block(&old);
	st = connect_folder(s, err);
	pipe_restore(&old);
	if (st)
		goto done;
	struct mailimap_selection_info *sel = s->imap->imap_selection_info;
	s->uidvalidity = sel ? sel->sel_uidvalidity : 0;
	/* The cursor holds for this UIDVALIDITY only. */
	if (spec->cursor &&
	    sscanf(spec->cursor, "%u/%u%c", &validity, &covered, &end) == 2 &&
	    validity == s->uidvalidity && s->uidvalidity != 0)
		s->covered = covered;
	s->last = s->covered;
	pipe_block(&old);
	st = list_uids(s, spec, err);
	pipe_restore(&old);
	s->healthy = st == ST_OK;
done:
	if (st) {
		imap_close(s);
		return st;
	}
	*state = s;
	return ST_OK;
}

static int imap_next(void *state, mailsrc_item_t *item, err_t *err)
{
	imap_state_t *s = state;

	if (s->ibatch == s->nbatch) {
		if (s->next == s->nuids) {
			s->covered = s->last;
			return 0;
		}
		sigset_t old;
		pipe_block(&old);
		status_t st = next_batch(s, err);
		pipe_restore(&old);
		if (st) {
			s->healthy = false;
			return -1;
		}
		if (s->nbatch == 0)
			return imap_next(s, item, err); /* all expunged */
	}
	imap_msg_t *m = &s->batch[s->ibatch++];
	s->done++;
	key_of(s->uidvalidity, m->uid, s->key, sizeof s->key);
	free(s->where);
	s->where = str_sanitize(xasprintf("%s/%s UID %u", s->name, s->folder,
					  (unsigned)m->uid));
	item->key = s->key;
	item->where = s->where;
	item->header = m->header;
	item->header_len = m->len;
	item->error = m->header ? NULL : m->error;
	/* Everything below this UID was yielded or had been seen; one to
	 * ask for again holds the cursor below it. */
	s->covered = m->uid;
	if (m->retry && (!s->held || m->uid - 1 < s->hold)) {
		s->held = true;
		s->hold = m->uid - 1;
	}
	return 1;
}

static char *imap_cursor(const void *state)
{
	const imap_state_t *s = state;
	uint32_t covered =
		s->held && s->hold < s->covered ? s->hold : s->covered;
	return xasprintf("%u/%u", (unsigned)s->uidvalidity, (unsigned)covered);
}

static double imap_progress(const void *state)
{
	const imap_state_t *s = state;
	return s->nuids ? (double)s->done / (double)s->nuids : 1.0;
}

const struct mailsrc_ops mailsrc_imap_ops = {
	.open = imap_open,
	.next = imap_next,
	.cursor = imap_cursor,
	.progress = imap_progress,
	.close = imap_close,
};
