/*
 * ingest_priv — what the parts of ingest share: the state of one source's
 * ingest and the warning helper.  Private to ingest*.c.
 */
#ifndef DIGEST_INGEST_PRIV_H
#define DIGEST_INGEST_PRIV_H

#include "ingest.h"

/* Status of a key in the seen table (schema/001). */
enum {
	SEEN_OK = 0,         /* ingested */
	SEEN_WARNED = 1,     /* unusable, warned about once */
	SEEN_QUIET = 2,      /* duplicate, auto-reply, no recipient */
	SEEN_NOT_LEADER = 3, /* From someone else: read again when the
			      * leader's addresses change */
	SEEN_UNREADABLE = 4, /* could not be read: warned once, tried again */
};

typedef struct {
	store_t *st;
	const config_t *cfg;
	const config_leader_t *l;
	int64_t leader_id;
	const config_source_t *src;
	int64_t source_id;
	const ingest_diag_t *diag;
	ingest_stats_t *stats;
	err_t *err;
	status_t failed;          /* a store error inside a callback */
	size_t not_leader;        /* this run, for the summary warning */
	char *not_leader_example; /* "PATH (From x@y)" */
} ingest_t;

/* Warn through the caller's diag, sanitized (text from mail and
 * calendars may hold anything). */
void ingest_warnf(const ingest_t *in, const char *fmt, ...) UTIL_PRINTF(2, 3);

/* How messages name an IMAP source: "imaps://user@host:993", no secret.
 * Caller frees. */
char *ingest_imap_name(const config_source_t *src);
/* Open a Maildir, an mbox or an IMAP folder without reading a message. */
status_t ingest_check_mail(const config_t *cfg, const config_leader_t *l,
			   const config_source_t *src, err_t *err);
/* Read and expand every file of a calendar source, storing nothing. */
status_t ingest_check_calendar(ingest_t *in, int64_t now);

/* Read a Maildir, mbox or IMAP source; its cursor in *new_cursor. */
status_t ingest_mail(ingest_t *in, const char *cursor, char **new_cursor,
		     bool *got_new);
/* Read a calendar source (a .ics file or a directory of them) in the
 * window [now - lookback, now + 7 days). */
status_t ingest_calendar(ingest_t *in, int64_t now, bool *got_new);

/* Fetch an https calendar source (src->path; conditional on the
 * validators stored) and read it as a single .ics file. */
status_t ingest_http(ingest_t *in, int64_t now, bool *got_new);
/* Fetch it unconditionally and expand it, storing nothing. */
status_t ingest_check_http(ingest_t *in, int64_t now);

#endif
