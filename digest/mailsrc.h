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
	mailsrc_addr_t *from;     /* every From mailbox (usually one) */
	size_t nfrom;
	mailsrc_addr_t *sender;   /* Sender:, or NULL */
	mailsrc_addr_t *rcpt;     /* To, Cc, Bcc mailboxes in header order,
	                           * groups flattened; duplicates kept */
	size_t nrcpt;
	bool has_date;
	int64_t date;             /* UTC seconds since the epoch */
	char *message_id;         /* without <>, or NULL */
	char *in_reply_to;        /* first id, without <>, or NULL */
	char *subject;            /* decoded, only when asked for; else NULL */
	uint64_t subject_hash;    /* hash64 of the decoded subject with ASCII
	                           * case and runs of blanks folded, always
	                           * set ("" when there is none): what tells
	                           * copies apart without keeping subjects */
	bool automated;           /* Auto-Submitted other than "no", or
	                           * Precedence: bulk, junk or list */
	strvec_t warnings;        /* what was dropped, e.g.
	                           * "dropped malformed header line 4" */
} mailsrc_header_t;

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
} mailsrc_kind_t;

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
	const char *error;  /* why header is NULL (e.g. strerror), else NULL */
} mailsrc_item_t;

/* Called by a backend before it reads a message that has a key: return
 * true to skip it (already ingested). */
typedef bool (*mailsrc_seen_fn)(void *ctx, const char *key);

/*
 * Open a source at path, resuming after cursor (NULL or "" = from the
 * start).  Returns ST_NOINPUT when path does not exist, ST_DATAERR when it
 * is not a Maildir (no cur/ or new/) or not an mbox (first line is not a
 * "From " line, a leading UTF-8 BOM allowed; an empty file is a valid empty
 * mbox), ST_IOERR on a read error.
 */
status_t mailsrc_open(mailsrc_kind_t kind, const char *path,
		      const char *cursor, mailsrc_seen_fn seen, void *seen_ctx,
		      mailsrc_t **out, err_t *err);

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
