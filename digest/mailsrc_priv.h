/*
 * mailsrc_priv — the table every mail backend fills in (mbsync style),
 * private to mailsrc.c, maildir.c and mbox.c.  Each slot's contract is
 * written next to it; mailsrc.c only dispatches.
 */
#ifndef DIGEST_MAILSRC_PRIV_H
#define DIGEST_MAILSRC_PRIV_H

#include "mailsrc.h"

/* The most header bytes a backend hands out per message: longer header
 * blocks are cut there (the parser drops the torn last line). */
#define MAILSRC_HEADER_MAX (1024 * 1024)

struct mailsrc_ops {
	/*
	 * Open the source spec names (spec->path checked non-NULL for local
	 * backends, spec->imap for IMAP) and return the backend's state in
	 * *state.  spec->cursor is NULL, "" or a string an earlier cursor()
	 * of the same backend returned; one that cannot be read means "from
	 * the start".  spec->seen(spec->seen_ctx, key), when not NULL, is
	 * asked before a message with a key is read.  Nothing of spec needs
	 * to outlive the call.  Returns ST_OK, or ST_NOINPUT (path or folder
	 * missing), ST_DATAERR (not this kind of source), ST_IOERR,
	 * ST_TEMPFAIL (a server that cannot be reached or refuses us), with
	 * err set and nothing left to close.  Never writes.
	 */
	status_t (*open)(const mailsrc_spec_t *spec, void **state, err_t *err);
	/*
	 * Yield the next message: 1 with *item filled (pointers owned by the
	 * state, valid until the next call to next or close), 0 at the end
	 * (and at every later call), -1 on an error that stops the source
	 * (err set).  A message that cannot be read is not an error: it is
	 * yielded with header NULL and error set.
	 */
	int (*next)(void *state, mailsrc_item_t *item, err_t *err);
	/*
	 * A cursor covering exactly what was yielded so far: opening with
	 * it again yields nothing already yielded, or (when the source
	 * changed under it) starts again and relies on the caller's
	 * de-duplication.  Never NULL; caller frees.
	 */
	char *(*cursor)(const void *state);
	/* How much of the source has been gone through, 0 to 1: for a
	 * progress bar only. */
	double (*progress)(const void *state);
	/* Free the state; accepts NULL. */
	void (*close)(void *state);
};

extern const struct mailsrc_ops mailsrc_maildir_ops;
extern const struct mailsrc_ops mailsrc_mbox_ops;
extern const struct mailsrc_ops mailsrc_imap_ops;

/* The Maildir backend's key of a file name: the name up to the ':' (or
 * mu's "!2,") that starts its info and flags, so that a message moved
 * from new/ to cur/ or flagged keeps its key; NULL for a name the
 * backend skips (a dot-file, or one whose key would be empty).  Caller
 * frees.  Exported for its fuzz target. */
char *mailsrc_maildir_key(const char *name);

/* The IMAP backend's reading of one server response line to its
 * AUTHENTICATE command tagged tag (the one part of a server response
 * digest parses itself; fuzzed).  *text: what follows the status word,
 * or the continuation's data. */
typedef enum {
	IMAP_LINE_OTHER,    /* untagged data, or another tag: ignored */
	IMAP_LINE_CONTINUE, /* "+ ...": the server wants more */
	IMAP_LINE_OK,       /* "TAG OK ..." */
	IMAP_LINE_NO,       /* "TAG NO ..." or "TAG BAD ...": refused */
} mailsrc_imap_line_t;
mailsrc_imap_line_t mailsrc_imap_line(const char *line, const char *tag,
				      const char **text);

#endif
