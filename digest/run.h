/*
 * run — the weekly pipeline of one leader: ingest every source, score
 * and build the model, render it, and deliver it once per ISO week
 * through the send ledger.
 *
 * The ledger (store.h) holds one row per leader, week and attempt n:
 *
 *   (none) ──► sending ──► sent          send_message said 250
 *                  │
 *                  └─────► failed        it said no, or never started
 *
 * "sending" is written, with the Message-ID, before the message is
 * handed over, and the outcome right after.  A crash in between leaves
 * "sending": the next run sends again with the same Message-ID, so a
 * leader gets at most a duplicate that their mail client recognises,
 * never a lost week.  "failed" is retried by the next run, "sent" only
 * with force (as attempt n + 1, with a new Message-ID).
 *
 * run never prints: what happens on the way goes to the callbacks of
 * run_t, with the leader's id in front.
 */
#ifndef DIGEST_RUN_H
#define DIGEST_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "ingest.h"
#include "store.h"
#include "util.h"

typedef struct {
	store_t *store;
	const config_t *cfg;
	bool force; /* send again a digest the ledger says went */
	/* Warnings and progress while reading sources (progress with a
	 * NULL source: that source is done); diag.ctx is also the ctx of
	 * the two below. */
	ingest_diag_t diag;
	/* A failure (one source, a delivery), or a note for -v: one line. */
	void (*error)(void *ctx, const char *msg);
	void (*info)(void *ctx, const char *msg);
} run_t;

/* ---- stopping on a signal -------------------------------------------- */

/* Catch SIGTERM, SIGINT and SIGHUP into util_stop (util.h): the loops of
 * ingest, proc, the lock wait and the pipeline look at it between steps,
 * roll back what is open and return ST_TEMPFAIL, so the next run goes on
 * where this one stopped.  The second signal kills as usual, for a run
 * that does not come to a stop. */
void run_catch_signals(void);

/* ---- the pipeline ------------------------------------------------------ */

/* Read every source of leader l; a failing source never stops the
 * others.  Returns the first failure. */
status_t run_ingest(run_t *r, const config_leader_t *l, int64_t now);

/* Leader l's digest as of now, built once from the store. */
typedef struct run_digest run_digest_t;

status_t run_digest(run_t *r, const config_leader_t *l, int64_t now,
		    run_digest_t **out);
void run_digest_free(run_digest_t *d);

/* The sources that have gone quiet as if their sync broke: a digest
 * with any is shown but not sent. */
const strvec_t *run_digest_stale(const run_digest_t *d);

typedef enum {
	RUN_TEXT, /* what preview and run --dry-run show */
	RUN_HTML, /* the HTML part, as shown */
	RUN_JSON, /* the model */
	RUN_EML,  /* the whole message, as it would be sent */
} run_format_t;

/* Write digest d in fmt to f. */
status_t run_digest_write(run_t *r, run_digest_t *d, run_format_t fmt, FILE *f);

/* Write digest d as DIR/LEADER.eml, mode 0600: a new file renamed over
 * the old one, so a symlink there is replaced, never followed. */
status_t run_digest_save(run_t *r, run_digest_t *d, const char *dir);

/* Send digest d unless the ledger says it went (see above). */
status_t run_deliver(run_t *r, run_digest_t *d);

/* What run does with each leader's digest. */
typedef struct {
	FILE *dry_run;       /* print it here, send nothing (or NULL) */
	const char *out_dir; /* write LEADER.eml here, send nothing */
	bool first;          /* the first leader printed (no blank line) */
} run_mode_t;

/* The whole run of leader l: ingest, then the digest sent (stale
 * sources hold it back: ST_TEMPFAIL), saved or printed. */
status_t run_leader(run_t *r, const config_leader_t *l, int64_t now,
		    const run_mode_t *mode);

#endif
