/*
 * ingest — one source of one leader into the store: read what is new
 * since the source's cursor, turn each message into an interaction
 * (DESIGN §5), and commit the interactions together with the new cursor in
 * one transaction.  A message that cannot be used is skipped with one
 * warning, remembered in the store so it is not repeated next week.
 */
#ifndef DIGEST_INGEST_H
#define DIGEST_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "cal.h"
#include "config.h"
#include "store.h"
#include "util.h"

/* Where warnings and progress go; either function may be NULL. */
typedef struct {
	void (*warn)(void *ctx, const char *msg);
	void (*progress)(void *ctx, const char *source, size_t done,
			 double fraction);
	void *ctx;
} ingest_diag_t;

typedef struct {
	size_t read;       /* messages looked at */
	size_t added;      /* new interactions */
	size_t duplicates; /* already stored (same Message-ID or hash) */
	size_t not_leader; /* From is not the leader's or a delegate's */
	size_t automated;  /* the leader's auto-replies */
	size_t nobody;     /* no recipient other than the leader */
	size_t skipped;    /* unusable, with a warning */
	size_t files;      /* calendar files expanded */
	size_t meetings;   /* new meeting interactions */
	size_t upcoming;   /* meetings of the coming week */
} ingest_stats_t;

/*
 * Can source src be read, as `check` asks?  Opens a Maildir or mbox
 * without reading a message; reads and expands a calendar (a broken file
 * in a directory is a warning).  Writes nothing.  Same status codes as
 * ingest_source.
 */
status_t ingest_check(const config_t *cfg, const config_leader_t *l,
		      const config_source_t *src, int64_t now,
		      const ingest_diag_t *diag, err_t *err);

/* How a source is named in messages: its spec as written, except that
 * an https calendar's URL is redacted (http_redact: scheme, host and a
 * hash; a published calendar's secret is in its path).  Caller frees. */
char *ingest_source_name(const config_source_t *src);

/* The Maildirs of a recursive maildir: source, relative to PATH ("" for
 * PATH itself), sorted: nested folders and Maildir++ dot-folders.
 * ST_NOINPUT when PATH is missing, ST_DATAERR when there is none. */
status_t ingest_maildirs(const config_source_t *src, strvec_t *dirs,
			 err_t *err);
/* The store's name of one of them: "maildir:PATH/REL".  Caller frees. */
char *ingest_maildir_spec(const config_source_t *src, const char *rel);

/* The weight of an email to n people: min(1, 3/n). */
double ingest_email_weight(int n);
/* The weight of a meeting of n people: 2 min(1, 4/n), 0 above 25. */
double ingest_meeting_weight(int n);

/* The people of a meeting instance for leader l (DESIGN §5): organizer
 * and attendees other than the leader, distinct, without those who
 * declined and without rooms and resources, into out (room for
 * inst->npeople; pointers into inst).  Returns how many, or -1 when the
 * leader does not take part (neither organizer nor an attendee who did
 * not decline). */
int ingest_meeting_parties(const config_leader_t *l, const cal_instance_t *inst,
			   store_party_t *out);

/*
 * Read source src of leader l (store row leader_id) as of now.  Returns
 * ST_NOINPUT when the source is missing, ST_DATAERR when it is not mail
 * data, ST_TEMPFAIL when the database is busy, ST_OK otherwise; on failure
 * nothing of this source is committed.  stats are added to.
 */
status_t ingest_source(store_t *st, const config_t *cfg,
		       const config_leader_t *l, int64_t leader_id,
		       const config_source_t *src, int64_t now,
		       const ingest_diag_t *diag, ingest_stats_t *stats,
		       err_t *err);

#endif
