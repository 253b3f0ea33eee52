/*
 * store — the only user of sqlite3: one database file holding, per leader,
 * the sources with their incremental cursors, the addresses written to,
 * and the interactions with their participants.
 *
 * The schema lives in schema/NNN-*.sql, compiled into the binary and
 * applied in order by PRAGMA user_version.  WAL, foreign keys, every write
 * transaction BEGIN IMMEDIATE, files created 0600.  Errors are returned as
 * status codes with the detail in err_t; nothing here prints.
 */
#ifndef DIGEST_STORE_H
#define DIGEST_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct store store_t;

/* The schema version this binary knows. */
int store_schema_version(void);

/*
 * Open (creating it and its directory, mode 0600/0700) the database at
 * path and bring its schema up to date.  A database whose schema is newer
 * than this binary is refused (ST_SOFTWARE).  busy_ms: how long to wait for
 * another writer.  Free with store_close.
 *
 * Here and in every function below, SQLite's errors come back as: a file
 * that cannot be created or written (no directory, a read-only one)
 * ST_CANTCREAT, an I/O error or a full disk ST_IOERR, a file that is not
 * a database or is corrupt ST_DATAERR, another writer ST_TEMPFAIL; each
 * message names the database and gives SQLite's own.
 */
status_t store_open(const char *path, int busy_ms, store_t **out, err_t *err);
/* Open an existing database read-only, or fail with ST_NOINPUT when there
 * is none or it cannot be opened (a file it cannot read is ST_NOINPUT
 * too, not ST_CANTCREAT). */
status_t store_open_readonly(const char *path, store_t **out, err_t *err);
void store_close(store_t *st);

/* PRAGMA quick_check: ST_DATAERR naming the database and the first
 * problem SQLite found when the file is damaged (the same for a file
 * too damaged to be checked), another status when it cannot be read. */
status_t store_quick_check(store_t *st, err_t *err);

/* One run at a time per database: an exclusive lock on DATABASE.lock
 * (created 0600), waited for up to timeout_ms, then ST_TEMPFAIL naming
 * the lock.  *fd to pass to store_unlock. */
status_t store_lock(const char *db_path, int64_t timeout_ms, int *fd,
		    err_t *err);
void store_unlock(int fd);

/* A write transaction (BEGIN IMMEDIATE); ST_TEMPFAIL when busy. */
status_t store_begin(store_t *st, err_t *err);
status_t store_commit(store_t *st, err_t *err);
void store_rollback(store_t *st);

/* The row id of a leader, created when create is true; 0 when absent. */
status_t store_leader(store_t *st, const char *name, bool create, int64_t *id,
		      err_t *err);

/* A leader's source: its row id and cursor (caller frees; NULL when none).
 * Created when missing. */
status_t store_source(store_t *st, int64_t leader, const char *spec,
		      const char *kind, int64_t *id, char **cursor, err_t *err);
/* After a read of the source: the new cursor, when it was read, and
 * whether it brought anything new. */
status_t store_source_done(store_t *st, int64_t source, const char *cursor,
			   int64_t now, bool got_new, err_t *err);

/* The fingerprint of the leader's sending addresses this source was read
 * with.  When it differs from the stored one, what was skipped as not
 * the leader's (seen status 3) and its foreign senders are forgotten and
 * the cursor cleared, so that those messages are read again; *changed
 * tells. */
status_t store_source_senders(store_t *st, int64_t source,
			      const char *fingerprint, bool *changed,
			      err_t *err);

/* Has this source yielded key before?  *status gets its status (see the
 * schema) when it has. */
status_t store_seen(store_t *st, int64_t source, const char *key, bool *seen,
		    int *status, err_t *err);
/* Every key this source has yielded, into *keys (values: the status).
 * The connection is not made for two threads: no call on it may run
 * meanwhile. */
status_t store_seen_keys(store_t *st, int64_t source, strmap_t *keys,
			 err_t *err);
status_t store_seen_add(store_t *st, int64_t source, const char *key,
			int status, err_t *err);

/* A message of this source From addr, who is neither the leader nor a
 * delegate: one more message counted for addr. */
status_t store_foreign_sender(store_t *st, int64_t source, const char *addr,
			      err_t *err);
/* Those who sent at least min_messages from sources of the leader (into
 * *own) and from any other leader's (into *others), sorted. */
status_t store_foreign_senders(store_t *st, int64_t leader, int min_messages,
			       strvec_t *own, strvec_t *others, err_t *err);

/* One participant of an interaction, as written by the leader. */
typedef struct {
	const char *addr; /* lower case */
	const char *name; /* display name used, or NULL */
} store_party_t;

typedef enum { STORE_EMAIL, STORE_MEETING } store_channel_t;

typedef struct {
	int64_t leader;
	int64_t source;
	store_channel_t channel;
	int64_t time;
	int size;
	double weight;
	const char *dedup;    /* unique per leader */
	const char *title;    /* or NULL */
	const char *item;     /* the calendar file it came from, or NULL */
	const char *copy_key; /* mail: hash of recipients and subject, by
			       * which a copy in another source is known;
			       * NULL for meetings */
	bool recurring;       /* coming-up meetings: of a recurring series */
	const store_party_t *parties;
	size_t nparties;
} store_interaction_t;

/* Insert an interaction unless one with the same dedup key exists, or
 * (with a copy_key) it is a copy of one stored from another source: the
 * same copy_key, at most 24 hours apart, and no copy from this source
 * absorbed yet.  A copy, or the same message from another source, is
 * recorded on the interaction it matched (for copies the nearest in
 * time), which takes the earlier of the two times and counts the names
 * the copy gives.  *added tells whether a new interaction was stored,
 * *copy (may be NULL) whether the message was recorded as another
 * source's copy.  Records the participants' addresses and names. */
status_t store_add_interaction(store_t *st, const store_interaction_t *ia,
			       bool *added, bool *copy, err_t *err);

/* How far ahead the next instance of a recurring series is kept as a
 * coming-up meeting (beside those of the coming week): a quarter, so that
 * a standing quarterly meeting counts too. */
#define STORE_STANDING_DAYS 92

/* The same for a meeting of the coming week, or the next instance of a
 * recurring series within STORE_STANDING_DAYS: kept apart, never
 * contact. */
status_t store_add_upcoming(store_t *st, const store_interaction_t *ia,
			    bool *added, err_t *err);

/* ---- calendar files ------------------------------------------------- */

/* A calendar file as last read: its content hash and the window it was
 * expanded in.  *found is false for a file never read.  Caller frees
 * *hash. */
status_t store_cal_file(store_t *st, int64_t source, const char *item,
			bool *found, char **hash, int64_t *win_from,
			int64_t *win_to, err_t *err);
status_t store_cal_file_set(store_t *st, int64_t source, const char *item,
			    const char *hash, int64_t win_from, int64_t win_to,
			    err_t *err);
/* Every file of a calendar source that was read before. */
status_t store_cal_files(store_t *st, int64_t source, strvec_t *items,
			 err_t *err);
/* Forget what a file contributed: its meetings with from <= time < until
 * and all its coming-up meetings; with gone, the file itself too. */
status_t store_forget_item(store_t *st, int64_t source, const char *item,
			   int64_t from, int64_t until, bool gone, err_t *err);

/* ---- https calendars ------------------------------------------------ */

/* What an https calendar source last gave: the body and the validators
 * it came with, to send back in a conditional GET. */
typedef struct {
	char *etag;          /* or NULL */
	char *last_modified; /* or NULL */
	char *body;          /* NUL-terminated, len bytes */
	size_t len;
	int64_t fetched; /* when the body was last sent */
} store_http_t;

/* The cache of an https source; *found is false for one never fetched.
 * Free *out with store_http_clear. */
status_t store_http_get(store_t *st, int64_t source, bool *found,
			store_http_t *out, err_t *err);
/* Record what a fetch gave: the validators (either may be NULL), and the
 * new body unless body is NULL (then only the validators of the body
 * stored change).  Part of the caller's transaction. */
status_t store_http_set(store_t *st, int64_t source, const char *etag,
			const char *last_modified, const char *body, size_t len,
			int64_t now, err_t *err);
void store_http_clear(store_http_t *c); /* accepts NULL */

/* ---- what the leader says about people -------------------------------- */

typedef struct {
	char *addr;
	int64_t snoozed_until; /* 0 when not snoozed */
	double cadence_days;   /* 0 when learned */
	char *note;            /* or NULL */
} store_setting_t;

typedef struct {
	store_setting_t *settings; /* sorted by addr */
	size_t nsettings;
	strvec_t ignore;   /* `ignore` patterns */
	strvec_t merged;   /* pairs: addr, person (first address) */
	strvec_t unmerged; /* addresses split off */
} store_said_t;

status_t store_said(store_t *st, int64_t leader, store_said_t *out, err_t *err);
void store_said_free(store_said_t *s);
/* The setting of one address, or NULL. */
const store_setting_t *store_said_setting(const store_said_t *s,
					  const char *addr);

/* Each is one transaction of its own and idempotent. */
/* until 0: no snooze (`snooze ... off`). */
status_t store_snooze(store_t *st, int64_t leader, const char *addr,
		      int64_t until, err_t *err);
/* days 0: back to the learned rhythm. */
status_t store_cadence(store_t *st, int64_t leader, const char *addr,
		       double days, err_t *err);
/* text NULL or "": no note. */
status_t store_note(store_t *st, int64_t leader, const char *addr,
		    const char *text, err_t *err);
status_t store_ignore(store_t *st, int64_t leader, const char *pattern,
		      err_t *err);
/* addrs[0] is the person; the others join them. */
status_t store_merge(store_t *st, int64_t leader, const char *const *addrs,
		     size_t n, err_t *err);
status_t store_unmerge(store_t *st, int64_t leader, const char *addr,
		       err_t *err);
/* Remove an ignore pattern; *removed tells whether there was one. */
status_t store_unignore(store_t *st, int64_t leader, const char *pattern,
			bool *removed, err_t *err);

/* addr as the leader's store knows it: *seen when it was ever a
 * participant, and the name the leader used most for it (caller frees;
 * NULL when none). */
status_t store_address(store_t *st, int64_t leader, const char *addr,
		       bool *seen, char **name, err_t *err);

/* ---- the send ledger ------------------------------------------------ */

typedef enum {
	STORE_NONE = 0,
	STORE_SENDING,
	STORE_SENT,
	STORE_FAILED
} store_delivery_t;

/* The latest delivery of a leader's digest of week: its state and n
 * (STORE_NONE when there is none). */
status_t store_delivery(store_t *st, int64_t leader, const char *week,
			store_delivery_t *state, int *n, err_t *err);
/* The automatic merges (people_merge_key) that a digest of a week
 * before week was sent with, into *keys. */
status_t store_merges_shown(store_t *st, int64_t leader, const char *week,
			    strmap_t *keys, err_t *err);
/* Record that the digest of week, sent, carried the merge key. */
status_t store_merge_shown(store_t *st, int64_t leader, const char *key,
			   const char *week, err_t *err);
/* Record (insert or update) attempt n of week: one transaction, or part
 * of the one open (store_begin). */
status_t store_delivery_set(store_t *st, int64_t leader, const char *week,
			    int n, store_delivery_t state,
			    const char *message_id, int64_t time,
			    const char *detail, err_t *err);

/* The sources of a leader as stored: spec, when each last brought
 * something new (0 when never), and the time of the newest interaction
 * it holds before `until`, its copies included (0 when none). */
typedef struct {
	char *spec;
	int64_t last_new;
	int64_t newest;
} store_source_info_t;
status_t store_sources(store_t *st, int64_t leader, int64_t until,
		       store_source_info_t **out, size_t *n, err_t *err);
void store_sources_free(store_source_info_t *v, size_t n);

/* ---- reading history ------------------------------------------------ */

typedef struct {
	char *addr; /* lower case */
	char *name; /* the name the leader used most, or NULL */
} store_addr_t;

/* One per interaction of a history, which may hold a few hundred
 * thousand: 32 bytes on a 64-bit system.  Its participants, source and
 * title are kept by the history, and read through it (store_parts,
 * store_ia_source, store_ia_title). */
typedef struct {
	int64_t time;
	double weight;
	uint32_t first; /* its participants: store_history_t.parts[first ..
			 * first + nparts), address indices, ascending */
	uint32_t nparts;
	int32_t size;
	uint16_t source; /* index into store_history_t.sources */
	uint8_t channel; /* store_channel_t */
	bool recurring;  /* coming-up meetings: of a recurring series */
} store_ia_t;

typedef struct {
	store_addr_t *addrs; /* every address of the leader, sorted by addr */
	size_t naddrs;
	store_ia_t *ias; /* interactions in [since, until), oldest first */
	size_t nias;
	uint32_t *parts; /* the participants of every ias[], one block */
	char **titles;   /* ias[i]'s title or NULL; NULL when none has one */
	char **sources;  /* the leader's specs, by store_ia_t.source */
	size_t nsources;
} store_history_t;

static inline const uint32_t *store_parts(const store_history_t *h,
					  const store_ia_t *ia)
{
	return h->parts + ia->first;
}

/* The spec of the source ia came from, as configured ("" if unknown). */
static inline const char *store_ia_source(const store_history_t *h,
					  const store_ia_t *ia)
{
	return ia->source < h->nsources ? h->sources[ia->source] : "";
}

/* The title of h->ias[i], or NULL. */
static inline const char *store_ia_title(const store_history_t *h, size_t i)
{
	return h->titles ? h->titles[i] : NULL;
}

/* Load a leader's interactions with since <= time < until.  Free with
 * store_history_free. */
status_t store_history(store_t *st, int64_t leader, int64_t since,
		       int64_t until, store_history_t *out, err_t *err);
/* Was addr part of an interaction of the leader before `before` (one
 * forgotten since included)?  Asks what was committed. */
status_t store_seen_before(store_t *st, int64_t leader, const char *addr,
			   int64_t before, bool *seen, err_t *err);

/* The coming-up meetings of a leader with since <= time < until, in the
 * same shape. */
status_t store_upcoming(store_t *st, int64_t leader, int64_t since,
			int64_t until, store_history_t *out, err_t *err);
void store_history_free(store_history_t *h);

#endif
