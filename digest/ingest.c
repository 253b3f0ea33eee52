/*
 * ingest — sources → interactions → store.  See ingest.h.
 */
#include "ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "mailsrc.h"

/* Status of a key in the seen table (schema/001). */
enum { SEEN_OK = 0, SEEN_WARNED = 1, SEEN_QUIET = 2 };

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

double ingest_email_weight(int n)
{
	return n <= 3 ? 1.0 : 3.0 / n;
}

static void warnf(const ingest_t *in, const char *fmt, ...) UTIL_PRINTF(2, 3);

static void warnf(const ingest_t *in, const char *fmt, ...)
{
	if (!in->diag || !in->diag->warn)
		return;
	va_list ap;
	char msg[2048];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	in->diag->warn(in->diag->ctx, str_sanitize(msg));
}

static bool seen_cb(void *ctx, const char *key)
{
	ingest_t *in = ctx;
	bool seen = false;
	if (in->failed)
		return true;
	in->failed = store_seen(in->st, in->source_id, key, &seen, NULL,
				in->err);
	return seen;
}

static bool from_leader(const ingest_t *in, const mailsrc_header_t *h)
{
	for (size_t i = 0; i < h->nfrom; i++)
		if (ident_is_sender(in->l, h->from[i].addr))
			return true;
	return false;
}

static int party_cmp(const void *a, const void *b)
{
	return strcmp(((const store_party_t *)a)->addr,
		      ((const store_party_t *)b)->addr);
}

/* One message; returns the status to remember it with. */
static int ingest_message(ingest_t *in, const mailsrc_item_t *item,
			  const mailsrc_header_t *h, const char *dedup,
			  bool *stored)
{
	store_party_t *parties = NULL;
	int seen = SEEN_QUIET;

	*stored = false;
	if (h->nfrom == 0 || !h->has_date) {
		warnf(in, "%s: skipped: no %s", item->where,
		      h->nfrom == 0 ? "usable From" : "usable Date");
		in->stats->skipped++;
		seen = SEEN_WARNED;
		goto done;
	}
	if (!from_leader(in, h)) {
		if (in->not_leader++ == 0)
			in->not_leader_example =
				xasprintf("%s, From %s", item->where,
					  h->from[0].addr);
		in->stats->not_leader++;
		goto done;
	}
	for (size_t i = 0; i < h->warnings.n; i++)
		warnf(in, "%s: %s", item->where, h->warnings.v[i]);
	if (h->automated) {
		in->stats->automated++;
		goto done;
	}

	/* Distinct recipients other than the leader: n of DESIGN §5. */
	size_t n = 0;
	parties = xcalloc(h->nrcpt ? h->nrcpt : 1, sizeof *parties);
	for (size_t i = 0; i < h->nrcpt; i++) {
		if (ident_is_own(in->l, h->rcpt[i].addr))
			continue;
		parties[n].addr = h->rcpt[i].addr;
		parties[n].name = h->rcpt[i].name;
		n++;
	}
	qsort(parties, n, sizeof *parties, party_cmp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && strcmp(parties[m - 1].addr, parties[i].addr) == 0) {
			if (!parties[m - 1].name)
				parties[m - 1].name = parties[i].name;
			continue;
		}
		parties[m++] = parties[i];
	}
	if (m == 0) {
		in->stats->nobody++;
		goto done;
	}
	store_interaction_t ia = {
		.leader = in->leader_id,
		.source = in->source_id,
		.channel = STORE_EMAIL,
		.time = h->date,
		.size = (int)m,
		.weight = ingest_email_weight((int)m),
		.dedup = dedup,
		.title = h->subject,
		.parties = parties,
		.nparties = m,
	};
	bool added = false;
	if ((in->failed = store_add_interaction(in->st, &ia, &added, in->err)))
		goto done;
	if (added) {
		in->stats->added++;
		*stored = true;
	} else {
		in->stats->duplicates++;
	}
	seen = h->warnings.n ? SEEN_WARNED : SEEN_OK;
done:
	free(parties);
	return seen;
}

/* The de-duplication key of a message: its Message-ID, else a hash of the
 * header block.  Caller frees. */
static char *dedup_key(const mailsrc_item_t *item, const mailsrc_header_t *h)
{
	if (h->message_id && *h->message_id)
		return xasprintf("mid:%s", h->message_id);
	char hex[17];
	hash64_hex(hash64(item->header, item->header_len), hex);
	return xasprintf("hdr:%s", hex);
}

static status_t ingest_mail(ingest_t *in, mailsrc_kind_t kind,
			    const char *cursor, char **new_cursor, bool *got_new)
{
	mailsrc_t *ms = NULL;
	mailsrc_item_t item;
	mailsrc_header_t h = {0};
	status_t s;
	int rc;
	char *dedup = NULL;

	s = mailsrc_open(kind, in->src->path, cursor, seen_cb, in, &ms, in->err);
	if (s)
		return s;
	while ((rc = mailsrc_next(ms, &item, in->err)) > 0) {
		if (in->failed)
			break;
		in->stats->read++;
		if (in->diag && in->diag->progress && in->stats->read % 1000 == 0)
			in->diag->progress(in->diag->ctx, in->src->spec,
					   in->stats->read);
		if (!item.header) {
			warnf(in, "%s: skipped: %s", item.where,
			      item.error ? item.error : "cannot read");
			in->stats->skipped++;
			if (item.key && (s = store_seen_add(in->st, in->source_id,
							    item.key, SEEN_WARNED,
							    in->err)))
				goto done;
			continue;
		}
		mailsrc_header_clear(&h);
		mailsrc_parse_header(item.header, item.header_len,
				     in->cfg->keep_subjects, &h);
		free(dedup);
		dedup = dedup_key(&item, &h);
		/* An mbox has no per-message key: what was read before is
		 * recognised by its de-duplication key. */
		const char *key = item.key ? item.key : dedup;
		if (!item.key) {
			bool seen = false;
			if ((s = store_seen(in->st, in->source_id, key, &seen,
					    NULL, in->err)))
				goto done;
			if (seen)
				continue;
		}
		bool stored = false;
		int status = ingest_message(in, &item, &h, dedup, &stored);
		if (in->failed)
			break;
		*got_new |= stored;
		if ((s = store_seen_add(in->st, in->source_id, key, status,
					in->err)))
			goto done;
	}
	if (in->failed) {
		s = in->failed;
		goto done;
	}
	if (rc < 0) {
		s = in->err->status ? in->err->status : ST_IOERR;
		goto done;
	}
	*new_cursor = mailsrc_cursor(ms);
done:
	mailsrc_header_clear(&h);
	free(dedup);
	mailsrc_close(ms);
	return s;
}

static const char *kind_name(config_src_kind_t k)
{
	switch (k) {
	case SRC_MAILDIR:
		return "maildir";
	case SRC_MBOX:
		return "mbox";
	case SRC_IMAP:
		return "imap";
	case SRC_ICS:
		return "ics";
	case SRC_HTTP:
		return "http";
	}
	return "?";
}

status_t ingest_source(store_t *st, const config_t *cfg,
		       const config_leader_t *l, int64_t leader_id,
		       const config_source_t *src, int64_t now,
		       const ingest_diag_t *diag, ingest_stats_t *stats,
		       err_t *err)
{
	ingest_t in = {
		.st = st, .cfg = cfg, .l = l, .leader_id = leader_id,
		.src = src, .diag = diag, .stats = stats, .err = err,
	};
	char *cursor = NULL, *new_cursor = NULL;
	bool got_new = false;
	status_t s;

	if (src->kind != SRC_MAILDIR && src->kind != SRC_MBOX)
		return err_set(err, ST_CONFIG, "%s: %s sources are not supported yet",
			       src->spec, kind_name(src->kind));
	if ((s = store_begin(st, err)))
		return s;
	if ((s = store_source(st, leader_id, src->spec, kind_name(src->kind),
			      &in.source_id, &cursor, err)))
		goto done;
	s = ingest_mail(&in, src->kind == SRC_MAILDIR ? MAILSRC_MAILDIR
						       : MAILSRC_MBOX,
			cursor, &new_cursor, &got_new);
	if (s)
		goto done;
	if (in.not_leader)
		warnf(&in,
		      "%s: %zu message%s not from %s skipped (e.g. %s): add the "
		      "sender to `aliases` or `delegates` if it is the leader's",
		      src->spec, in.not_leader, in.not_leader == 1 ? "" : "s",
		      l->id, in.not_leader_example);
	if ((s = store_source_done(st, in.source_id, new_cursor, now, got_new,
				   err)))
		goto done;
	s = store_commit(st, err);
done:
	if (s)
		store_rollback(st);
	free(cursor);
	free(new_cursor);
	free(in.not_leader_example);
	return s;
}
