/*
 * mailsrc — reading the leader's sent mail, headers only.
 *
 * Two parts:
 *  - mailsrc_parse_header(): one message's header block → plain structs
 *    (libetpan's mailimf parsers, with the traps of libraries.md §4
 *    handled: bad lines dropped, broken address lists re-read).
 *  - backends (Maildir, mbox; IMAP later) behind one ops table, each
 *    yielding header blocks incrementally from a cursor string.
 *
 * Never changes a byte, name or mtime of the user's mail: files are opened
 * O_RDONLY (O_NOATIME where permitted) and no libetpan driver is used.
 * libetpan types never leave this module.
 */
#ifndef DIGEST_MAILSRC_H
#define DIGEST_MAILSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* One mailbox: addr-spec lower-cased, display name decoded to UTF-8 and
 * sanitized (str_sanitize), or NULL when there is none. */
typedef struct {
	char *addr;
	char *name;
} mailsrc_addr_t;

typedef struct {
	mailsrc_addr_t *from; /* every From mailbox (usually one) */
	size_t nfrom;
	mailsrc_addr_t *sender; /* Sender:, or NULL */
	mailsrc_addr_t *rcpt;   /* To, Cc, Bcc mailboxes in header order,
				 * groups flattened; duplicates kept */
	size_t nrcpt;
	bool has_date;
	int64_t date;          /* UTC seconds since the epoch */
	char *message_id;      /* without <>, or NULL */
	char *in_reply_to;     /* first id, without <>, or NULL */
	char *subject;         /* decoded, only when asked for; else NULL */
	uint64_t subject_hash; /* hash64 of the decoded subject with ASCII
				* case and runs of blanks folded, always
				* set ("" when there is none): what tells
				* copies apart without keeping subjects */
	bool automated;        /* Auto-Submitted other than "no", or
				* Precedence: bulk, junk or list */
	bool cut;              /* the block was longer than a backend
				* hands out (1 MiB) and was cut there:
				* what came after is missing */
	strvec_t warnings;     /* what was dropped, e.g.
				* "dropped malformed header line 4" */
} mailsrc_header_t;

/* Whether mailsrc_parse_header reads plain address fields, names encoded
 * in UTF-8, Date, Subject and plain ids itself (true) or leaves all of
 * them to libetpan: for the tests that compare the two. */
extern bool mailhdr_own_parsers;

/* How many names of a Maildir are walked per reading of its directories
 * (its memory is bounded by twice as many): a larger folder is read in
 * key order, a window at a time.  Changed by the tests only. */
extern size_t mailsrc_maildir_window;

/*
 * Parse a header block (bytes up to the empty line; the body may follow
 * and is ignored).  Never fails on bad input: what cannot be used is left
 * out and named in h->warnings; the caller decides whether the message is
 * usable (a From and a Date).  h must be zeroed by the caller; free its
 * contents with mailsrc_header_clear.
 */
void mailsrc_parse_header(const char *buf, size_t len, bool want_subject,
			  mailsrc_header_t *h);
void mailsrc_header_clear(mailsrc_header_t *h);

/* Length of the header block at buf: up to and including the first empty
 * line (LF or CRLF), or len when there is none. */
size_t mailsrc_header_length(const char *buf, size_t len);

/* ---- backends ------------------------------------------------------- */

typedef enum {
	MAILSRC_MAILDIR,
	MAILSRC_MBOX,
	MAILSRC_IMAP,
} mailsrc_kind_t;

typedef enum {
	MAILSRC_AUTH_LOGIN,       /* IMAP LOGIN */
	MAILSRC_AUTH_PLAIN,       /* AUTHENTICATE PLAIN (RFC 4616) */
	MAILSRC_AUTH_XOAUTH2,     /* Google's and Microsoft's XOAUTH2 */
	MAILSRC_AUTH_OAUTHBEARER, /* RFC 7628 */
} mailsrc_auth_t;

/* An IMAP folder and how to reach it. */
typedef struct {
	const char *name; /* how messages name the source, e.g.
			   * "imaps://alex@imap.example.com:993": never
			   * a secret */
	const char *host;
	int port;
	bool implicit_tls; /* else STARTTLS, which is then required */
	const char *user;
	const char *secret; /* the password, or for the OAuth mechanisms
			     * the access token */
	mailsrc_auth_t auth;
	const char *folder;  /* NULL: the folder with the \Sent special-use
			      * attribute (RFC 6154) */
	const char *ca_file; /* CAs to trust instead of the system's, or
			      * NULL */
	int timeout;         /* seconds for each step: connect, TLS, each
			      * command */
} mailsrc_imap_t;

typedef bool (*mailsrc_seen_fn)(void *ctx, const char *key);

/* What mailsrc_open_spec opens. */
typedef struct {
	mailsrc_kind_t kind;
	const char *path;           /* Maildir or mbox */
	const mailsrc_imap_t *imap; /* MAILSRC_IMAP */
	const char *cursor;
	mailsrc_seen_fn seen;
	void *seen_ctx;
} mailsrc_spec_t;

typedef struct mailsrc mailsrc_t;

/* One message as a backend yields it; every pointer is valid until the
 * next mailsrc_next or mailsrc_close. */
typedef struct {
	const char *key;    /* stable per-message key within the source
			     * (Maildir: file name up to ':'), or NULL */
	const char *where;  /* for warnings: the file path, or "PATH@OFFSET"
			     * for an mbox */
	const char *header; /* the header block, or NULL when the message
			     * could not be read */
	size_t header_len;
	const char *error; /* why header is NULL (e.g. strerror), else NULL */
} mailsrc_item_t;

/* mailsrc_seen_fn: called by a backend before it reads a message that
 * has a key: return true to skip it (already ingested).  IMAP asks while
 * the source is opened.  A Maildir asks about every file name's key each
 * time it reads its directories: when opened, and for a folder with more
 * than mailsrc_maildir_window names not seen, again from mailsrc_next
 * as each window is used up.  A key that two names share (one in cur/,
 * one in new/) is asked about for each. */

/*
 * Open a source at path, resuming after cursor (NULL or "" = from the
 * start).  Returns ST_NOINPUT when path does not exist, ST_DATAERR when it
 * is not a Maildir (no cur/ or new/) or not an mbox (first line is not a
 * "From " line, a leading UTF-8 BOM allowed; an empty file is a valid empty
 * mbox), ST_IOERR on a read error.
 */
status_t mailsrc_open(mailsrc_kind_t kind, const char *path, const char *cursor,
		      mailsrc_seen_fn seen, void *seen_ctx, mailsrc_t **out,
		      err_t *err);

/*
 * The same for any backend, IMAP included.  An IMAP folder is opened
 * read-only (EXAMINE) after the server's certificate was verified and
 * the user authenticated; its cursor is "UIDVALIDITY/UID", and a changed
 * UIDVALIDITY starts again from the first message.  Headers are fetched
 * with BODY.PEEK[HEADER] in batches, so no flag ever changes; keys are
 * "UIDVALIDITY/UID".  A server that cannot be reached, refuses TLS or the
 * credentials, or times out is ST_TEMPFAIL; a missing folder ST_NOINPUT.
 */
status_t mailsrc_open_spec(const mailsrc_spec_t *spec, mailsrc_t **out,
			   err_t *err);

/* Next message: 1 with *item filled, 0 at the end, -1 on an error that
 * stops the source (err set). */
int mailsrc_next(mailsrc_t *src, mailsrc_item_t *item, err_t *err);

/* The cursor to store once everything yielded so far is committed.
 * Caller frees. */
char *mailsrc_cursor(const mailsrc_t *src);

/* How much of the source has been gone through, 0 to 1 (for a progress
 * bar: entries of a Maildir, bytes of an mbox). */
double mailsrc_progress(const mailsrc_t *src);

void mailsrc_close(mailsrc_t *src);

#endif
