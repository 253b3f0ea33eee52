/*
 * ingest_mail — sent mail → interactions: Maildir and mbox sources read
 * and parsed on a thread beside the database writer; IMAP folders too,
 * after their password_command.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* explicit_bzero */
#endif

#include "ingest_priv.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "mailsrc.h"
#include "proc.h"

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

/* One message; returns the status to remember it with.  *fresh tells
 * whether the source brought something with it: a new interaction, or a
 * copy of another source's. */
static int ingest_message(ingest_t *in, const char *where,
			  const mailsrc_header_t *h, const char *dedup,
			  bool *fresh)
{
	store_party_t *parties = NULL;
	int seen = SEEN_QUIET;

	*fresh = false;
	if (h->nfrom == 0 || !h->has_date) {
		/* A Date or From below a huge To: is lost to the cut, and
		 * only this line is shown for a skipped message. */
		ingest_warnf(in, "%s: skipped: no %s%s", where,
			     h->nfrom == 0 ? "usable From" : "usable Date",
			     h->cut ? " in the first 1 MiB of its header, where"
				      " it was cut"
				    : "");
		in->stats->skipped++;
		seen = SEEN_WARNED;
		goto done;
	}
	if (!from_leader(in, h)) {
		if (in->not_leader++ == 0)
			in->not_leader_example = xasprintf("%s, From %s", where,
							   h->from[0].addr);
		in->stats->not_leader++;
		in->failed = store_foreign_sender(in->st, in->source_id,
						  h->from[0].addr, in->err);
		seen = SEEN_NOT_LEADER;
		goto done;
	}
	for (size_t i = 0; i < h->warnings.n; i++)
		ingest_warnf(in, "%s: %s", where, h->warnings.v[i]);
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
	/* A copy in another folder has the same recipients and subject. */
	uint64_t ck = h->subject_hash;
	for (size_t i = 0; i < m; i++)
		ck = hash64_more(ck, parties[i].addr,
				 strlen(parties[i].addr) + 1);
	char copy_key[17];
	hash64_hex(ck, copy_key);
	store_interaction_t ia = {
		.leader = in->leader_id,
		.source = in->source_id,
		.channel = STORE_EMAIL,
		.time = h->date,
		.size = (int)m,
		.weight = ingest_email_weight((int)m),
		.dedup = dedup,
		.copy_key = copy_key,
		.title = h->subject,
		.parties = parties,
		.nparties = m,
	};
	bool added = false, copy = false;
	if ((in->failed = store_add_interaction(in->st, &ia, &added, &copy,
						in->err)))
		goto done;
	if (added)
		in->stats->added++;
	else
		in->stats->duplicates++;
	/* A copy of another source's message is news from this source all
	 * the same: its sync is alive. */
	*fresh = added || copy;
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

/*
 * Reading and parsing run on a thread of their own, beside the database
 * writer: the reader hands over parsed messages through a bounded queue,
 * so memory stays flat however large the source.  A thread that waits
 * (the writer for messages, the reader for room) is woken once a batch
 * is ready, not for each message: the two would otherwise take turns,
 * one sleep and wake-up per message.
 */

/* One message as the reader hands it over. */
typedef struct {
	char *key; /* the backend's key, or NULL */
	char *where;
	char *error; /* could not be read: why */
	char *dedup;
	int prior; /* its status in the seen table, or -1 */
	mailsrc_header_t h;
	void *next; /* in reader_t.used */
} msg_t;

#define QUEUE_SIZE 256
#define BATCH      64 /* messages, or room for them, that wake a waiting thread */

typedef struct {
	ingest_t *in;
	mailsrc_t *ms;
	pthread_mutex_t lock;
	pthread_cond_t filled;  /* a batch is queued, or the reader is done */
	pthread_cond_t drained; /* there is room for a batch, or stop */
	bool writer_waits, reader_waits;
	msg_t *q[QUEUE_SIZE];
	size_t head, count;
	bool finished; /* the reader is done; rc and err say how */
	bool stop;     /* the writer failed: the reader stops */
	msg_t *used;   /* written messages, for the reader to free: memory
			* goes back to the thread that allocated it, and the
			* two threads do not contend for one malloc arena */
	int rc;
	err_t err;
	double progress; /* of the source, when the last message was queued */
	strtab_t seen;   /* keys read before, loaded on first use */
	bool seen_loaded;
	bool handed; /* the reader queued a message (reader thread only) */
	status_t seen_status;
} reader_t;

static void msg_free(msg_t *m)
{
	if (!m)
		return;
	free(m->key);
	free(m->where);
	free(m->error);
	free(m->dedup);
	mailsrc_header_clear(&m->h);
	free(m);
}

/* The Maildir backend asks before reading a file.  Runs on the reader
 * thread: the keys are loaded once, then looked up in memory.  The store's
 * connection is not made for two threads (no mutex): the load is safe
 * because the writer is waiting for the first message meanwhile, and
 * only then.  Every backend asks before it yields anything; one that
 * asked later would fail the source rather than race. */
static bool seen_cb(void *ctx, const char *key)
{
	reader_t *r = ctx;
	if (!r->seen_loaded) {
		r->seen_loaded = true;
		if (r->handed)
			r->seen_status = err_set(
				&r->err, ST_SOFTWARE,
				"%s: seen keys asked for after a message",
				r->in->src->spec);
		else
			r->seen_status = store_seen_keys(
				r->in->st, r->in->source_id, &r->seen, &r->err);
	}
	int64_t status;
	return r->seen_status || (strtab_get(&r->seen, key, &status) &&
				  status != SEEN_UNREADABLE);
}

static void msg_free_list(msg_t *m)
{
	while (m) {
		msg_t *next = m->next;
		msg_free(m);
		m = next;
	}
}

static void *reader_main(void *arg)
{
	reader_t *r = arg;
	mailsrc_item_t item;
	int rc;

	while ((rc = mailsrc_next(r->ms, &item, &r->err)) > 0) {
		if (r->seen_status) {
			rc = -1;
			break;
		}
		msg_t *m = xcalloc(1, sizeof *m);
		int64_t prior = -1;
		if (item.key)
			strtab_get(&r->seen, item.key, &prior);
		m->prior = (int)prior;
		m->key = xstrdup(item.key);
		m->where = xstrdup(item.where);
		if (item.header) {
			mailsrc_parse_header(item.header, item.header_len,
					     r->in->cfg->keep_subjects, &m->h);
			m->dedup = dedup_key(&item, &m->h);
		} else {
			m->error = xstrdup(item.error ? item.error
						      : "cannot read");
		}
		pthread_mutex_lock(&r->lock);
		if (r->count == QUEUE_SIZE && !r->stop) {
			r->reader_waits = true;
			while (r->count > QUEUE_SIZE - BATCH && !r->stop)
				pthread_cond_wait(&r->drained, &r->lock);
			r->reader_waits = false;
		}
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			msg_free(m);
			rc = 0;
			break;
		}
		r->q[(r->head + r->count++) % QUEUE_SIZE] = m;
		r->handed = true;
		r->progress = mailsrc_progress(r->ms);
		msg_t *used = r->used;
		r->used = NULL;
		if (r->writer_waits && r->count >= BATCH)
			pthread_cond_signal(&r->filled);
		pthread_mutex_unlock(&r->lock);
		msg_free_list(used);
	}
	pthread_mutex_lock(&r->lock);
	r->rc = rc;
	r->finished = true;
	pthread_cond_signal(&r->filled);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Hand back the message written last (or NULL), and take the next one
 * with the reader's progress at that point; NULL when the reader is
 * done. */
static msg_t *reader_pop(reader_t *r, msg_t *used, double *progress)
{
	msg_t *m = NULL;
	pthread_mutex_lock(&r->lock);
	if (used) {
		used->next = r->used;
		r->used = used;
	}
	if (r->count == 0 && !r->finished) {
		r->writer_waits = true;
		while (r->count < BATCH && !r->finished)
			pthread_cond_wait(&r->filled, &r->lock);
		r->writer_waits = false;
	}
	*progress = r->progress;
	if (r->count) {
		m = r->q[r->head];
		r->head = (r->head + 1) % QUEUE_SIZE;
		r->count--;
		if (r->reader_waits && r->count <= QUEUE_SIZE - BATCH)
			pthread_cond_signal(&r->drained);
	}
	pthread_mutex_unlock(&r->lock);
	return m;
}

/* One message on the writer's side: returns non-zero on a store error. */
static status_t write_msg(ingest_t *in, msg_t *m, double progress,
			  bool *got_new)
{
	status_t s;
	in->stats->read++;
	if (in->diag && in->diag->progress && in->stats->read % 500 == 0)
		in->diag->progress(in->diag->ctx, in->src->spec,
				   in->stats->read, progress);
	if (m->error) {
		/* Warned about once; read again next time (it may be a file
		 * being written). */
		if (m->prior != SEEN_UNREADABLE)
			ingest_warnf(in, "%s: skipped: %s", m->where, m->error);
		in->stats->skipped++;
		return m->key ? store_seen_add(in->st, in->source_id, m->key,
					       SEEN_UNREADABLE, in->err)
			      : ST_OK;
	}
	/* An mbox has no per-message key: what was read before is
	 * recognised by its de-duplication key. */
	const char *key = m->key ? m->key : m->dedup;
	if (!m->key) {
		bool seen = false;
		if ((s = store_seen(in->st, in->source_id, key, &seen, NULL,
				    in->err)))
			return s;
		if (seen)
			return ST_OK;
	}
	bool fresh = false;
	int status = ingest_message(in, m->where, &m->h, m->dedup, &fresh);
	if (in->failed)
		return in->failed;
	*got_new |= fresh;
	return store_seen_add(in->st, in->source_id, key, status, in->err);
}

/* How messages name a remote source: scheme, user, host and port; never
 * a secret.  Caller frees. */
char *ingest_imap_name(const config_source_t *src)
{
	const char *host = src->host ? src->host : "";
	return str_sanitize(xasprintf(
		"%s://%s@%s%s%s:%d", src->implicit_tls ? "imaps" : "imap",
		src->user ? src->user : "", strchr(host, ':') ? "[" : "", host,
		strchr(host, ':') ? "]" : "", src->port));
}

/* Open a mail source of leader l after cursor: a Maildir, an mbox, or an
 * IMAP folder (its password_command run first, bounded by the timeout). */
static status_t open_mail(const config_t *cfg, const config_leader_t *l,
			  const config_source_t *src, const char *cursor,
			  mailsrc_seen_fn seen, void *seen_ctx, mailsrc_t **ms,
			  err_t *err)
{
	static const mailsrc_auth_t auths[] = {
		[IMAP_AUTH_LOGIN] = MAILSRC_AUTH_LOGIN,
		[IMAP_AUTH_PLAIN] = MAILSRC_AUTH_PLAIN,
		[IMAP_AUTH_XOAUTH2] = MAILSRC_AUTH_XOAUTH2,
		[IMAP_AUTH_OAUTHBEARER] = MAILSRC_AUTH_OAUTHBEARER,
	};
	mailsrc_spec_t spec = {
		.kind = src->kind == SRC_MAILDIR ? MAILSRC_MAILDIR
			: src->kind == SRC_MBOX  ? MAILSRC_MBOX
						 : MAILSRC_IMAP,
		.path = src->path,
		.cursor = cursor,
		.seen = seen,
		.seen_ctx = seen_ctx,
	};
	if (spec.kind != MAILSRC_IMAP)
		return mailsrc_open_spec(&spec, ms, err);

	char *name = ingest_imap_name(src), *secret = NULL;
	status_t s = ST_OK;
	if (!l->password_command) {
		s = err_set(err, ST_CONFIG, "%s: no password_command", name);
		goto done;
	}
	if ((s = proc_secret("password_command", l->password_command,
			     cfg->timeout, &secret, err))) {
		char *why = xstrdup(err->msg);
		err_set(err, s, "%s: %s", name, why);
		free(why);
		goto done;
	}
	mailsrc_imap_t imap = {
		.name = name,
		.host = src->host,
		.port = src->port,
		.implicit_tls = src->implicit_tls,
		.user = src->user,
		.secret = secret,
		.auth = auths[l->imap_auth],
		.folder = src->folder,
		.ca_file = cfg->tls_ca_file,
		.timeout = cfg->timeout,
	};
	spec.imap = &imap;
	s = mailsrc_open_spec(&spec, ms, err);
done:
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	free(name);
	return s;
}

status_t ingest_check_mail(const config_t *cfg, const config_leader_t *l,
			   const config_source_t *src, err_t *err)
{
	mailsrc_t *ms = NULL;
	status_t s = open_mail(cfg, l, src, NULL, NULL, NULL, &ms, err);
	mailsrc_close(ms);
	return s;
}

status_t ingest_mail(ingest_t *in, const char *cursor, char **new_cursor,
		     bool *got_new)
{
	reader_t r = {.in = in};
	pthread_t thread;
	status_t s = ST_OK;
	msg_t *m;

	s = open_mail(in->cfg, in->l, in->src, cursor, seen_cb, &r, &r.ms,
		      in->err);
	if (s)
		return s;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.filled, NULL);
	pthread_cond_init(&r.drained, NULL);
	if (pthread_create(&thread, NULL, reader_main, &r) != 0) {
		s = err_set(in->err, ST_SOFTWARE, "%s: cannot start a thread",
			    in->src->spec);
		goto done;
	}
	m = NULL;
	double progress = 0;
	while ((m = reader_pop(&r, m, &progress))) {
		/* A stop signal: what this source wrote is rolled back. */
		if (!s && util_stop)
			s = err_set(in->err, ST_TEMPFAIL,
				    "%s: stopped by a signal", in->src->spec);
		if (!s)
			s = write_msg(in, m, progress, got_new);
		if (s) {
			pthread_mutex_lock(&r.lock);
			r.stop = true;
			pthread_cond_signal(&r.drained);
			pthread_mutex_unlock(&r.lock);
		}
	}
	pthread_join(thread, NULL);
	msg_free_list(r.used);
	if (!s && r.rc < 0) {
		*in->err = r.err;
		s = r.err.status ? r.err.status : ST_IOERR;
	}
	/* Keys that could not be loaded made every message look seen: the
	 * cursor must not move past them. */
	if (!s && r.seen_status) {
		*in->err = r.err;
		s = r.seen_status;
	}
	if (!s)
		*new_cursor = mailsrc_cursor(r.ms);
done:
	pthread_cond_destroy(&r.filled);
	pthread_cond_destroy(&r.drained);
	pthread_mutex_destroy(&r.lock);
	strtab_free(&r.seen);
	mailsrc_close(r.ms);
	return s;
}
