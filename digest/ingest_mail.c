/*
 * ingest_mail — sent mail → interactions: Maildir and mbox sources read
 * on one thread and parsed on another, beside the database writer; IMAP
 * folders too, after their password_command.
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
static char *dedup_key(const char *header, size_t len,
		       const mailsrc_header_t *h)
{
	strbuf_t b = {0};
	if (h->message_id && *h->message_id) {
		sb_puts(&b, "mid:");
		sb_puts(&b, h->message_id);
	} else {
		char hex[17];
		hash64_hex(hash64(header, len), hex);
		sb_puts(&b, "hdr:");
		sb_puts(&b, hex);
	}
	return sb_steal(&b);
}

/*
 * A source is read in three stages, each on a thread of its own: the
 * reader lists and reads the files, the parser parses their headers and
 * the writer (the caller's thread) stores them.  They hand messages on
 * through bounded queues, so memory stays flat however large the source.
 * A thread that waits (for messages, or for room) is woken once a batch
 * is ready, not for each message: the two would otherwise take turns,
 * one sleep and wake-up per message.  Each message goes back, once used,
 * to the thread that allocated it: memory is freed where it was taken,
 * and the threads do not contend for one malloc arena.
 */

#define QUEUE_SIZE 256
#define BATCH      64 /* messages handed on at a time */
/* Bytes of header text the reader may have queued for the parser. */
#define QUEUE_BYTES (8u << 20)
/* messages read from a source after which the memory freed is given
 * back to the system (mem_give_back) */
#define GIVE_BACK_MESSAGES 10000

typedef struct qitem {
	struct qitem *next; /* in a list of items handed back */
	size_t bytes;       /* of header text, counted against QUEUE_BYTES */
} qitem_t;

/* A thread's side of a queue: the batch it fills or empties, and (the
 * consumer's) the items it used, to hand back with the next batch. */
typedef struct {
	qitem_t *v[BATCH];
	size_t n, pos, bytes;
	qitem_t *used;
} batch_t;

typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t filled;  /* a batch came, or finished */
	pthread_cond_t drained; /* a batch went, or stop */
	bool pop_waits, push_waits;
	qitem_t *q[QUEUE_SIZE];
	size_t head, count, bytes;
	bool finished; /* the producer is done */
	bool stop;     /* the consumer wants no more */
	qitem_t *used; /* handed back, for the producer to free */
} queue_t;

static void queue_init(queue_t *q)
{
	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->filled, NULL);
	pthread_cond_init(&q->drained, NULL);
}

static void queue_destroy(queue_t *q)
{
	pthread_cond_destroy(&q->filled);
	pthread_cond_destroy(&q->drained);
	pthread_mutex_destroy(&q->lock);
}

/* Queue the producer's batch b, waiting for room; false when the
 * consumer stopped (b is then left as it is).  *used gets the items
 * handed back since, for the producer to free. */
static bool queue_flush(queue_t *q, batch_t *b, qitem_t **used)
{
	pthread_mutex_lock(&q->lock);
	q->push_waits = true;
	while ((q->count + b->n > QUEUE_SIZE ||
		(q->count && q->bytes + b->bytes > QUEUE_BYTES)) &&
	       !q->stop)
		pthread_cond_wait(&q->drained, &q->lock);
	q->push_waits = false;
	bool ok = !q->stop;
	if (ok) {
		for (size_t i = 0; i < b->n; i++)
			q->q[(q->head + q->count++) % QUEUE_SIZE] = b->v[i];
		q->bytes += b->bytes;
		b->n = b->bytes = 0;
		if (q->pop_waits)
			pthread_cond_signal(&q->filled);
	}
	*used = q->used;
	q->used = NULL;
	pthread_mutex_unlock(&q->lock);
	return ok;
}

/* The producer adds it, handing on a full batch; false when the consumer
 * stopped (it is then the producer's again). */
static bool queue_put(queue_t *q, batch_t *b, qitem_t *it, qitem_t **used)
{
	*used = NULL;
	b->v[b->n++] = it;
	b->bytes += it->bytes;
	if (b->n < BATCH && b->bytes < QUEUE_BYTES / 4)
		return true;
	if (queue_flush(q, b, used))
		return true;
	b->n--;
	b->bytes -= it->bytes;
	return false;
}

/* The producer is done: what it holds is handed on (unless the consumer
 * stopped: *left gets it then) and the consumer told. */
static void queue_finish(queue_t *q, batch_t *b, qitem_t **used, qitem_t **left)
{
	*left = *used = NULL;
	if (b->n && !queue_flush(q, b, used))
		for (size_t i = 0; i < b->n; i++) {
			b->v[i]->next = *left;
			*left = b->v[i];
		}
	b->n = 0;
	pthread_mutex_lock(&q->lock);
	q->finished = true;
	pthread_cond_signal(&q->filled);
	pthread_mutex_unlock(&q->lock);
}

/* The consumer wants no more: the producer's batches fail from now on. */
static void queue_stop(queue_t *q)
{
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_signal(&q->drained);
	pthread_mutex_unlock(&q->lock);
}

/* The consumer's next item, used (or NULL) put on b->used; a new batch is
 * taken when b is empty, handing back what was used.  NULL once the
 * producer is done and q is empty. */
static qitem_t *queue_take(queue_t *q, batch_t *b, qitem_t *used)
{
	if (used) {
		used->next = b->used;
		b->used = used;
	}
	if (b->pos < b->n)
		return b->v[b->pos++];
	pthread_mutex_lock(&q->lock);
	while (b->used) {
		qitem_t *next = b->used->next;
		b->used->next = q->used;
		q->used = b->used;
		b->used = next;
	}
	b->n = b->pos = 0;
	q->pop_waits = true;
	while (q->count == 0 && !q->finished)
		pthread_cond_wait(&q->filled, &q->lock);
	q->pop_waits = false;
	for (; b->n < BATCH && q->count; b->n++, q->count--) {
		b->v[b->n] = q->q[q->head];
		q->bytes -= b->v[b->n]->bytes;
		q->head = (q->head + 1) % QUEUE_SIZE;
	}
	if (q->push_waits && b->n)
		pthread_cond_signal(&q->drained);
	pthread_mutex_unlock(&q->lock);
	return b->n ? b->v[b->pos++] : NULL;
}

/* One message as the reader hands it over, its strings after it in the
 * same block. */
typedef struct {
	qitem_t link;
	const char *key; /* the backend's key, or NULL */
	const char *where;
	const char *error; /* could not be read: why */
	const char *header;
	size_t header_len;
	int prior;       /* its status in the seen table, or -1 */
	double progress; /* of the source, when it was read */
} raw_t;

/* One message as the parser hands it over. */
typedef struct {
	qitem_t link;
	raw_t *raw;
	char *dedup;
	mailsrc_header_t h;
} msg_t;

static char *put_str(char **p, const char *s, size_t n)
{
	char *at = *p;
	memcpy(at, s, n);
	at[n] = '\0';
	*p += n + 1;
	return at;
}

static raw_t *raw_new(const mailsrc_item_t *item, int prior, double progress)
{
	const char *error = item->header  ? NULL
			    : item->error ? item->error
					  : "cannot read";
	size_t kn = item->key ? strlen(item->key) : 0;
	size_t wn = strlen(item->where), en = error ? strlen(error) : 0;
	size_t hn = item->header ? item->header_len : 0;
	raw_t *r = xmalloc(sizeof *r + kn + wn + en + hn + 4);
	char *p = (char *)(r + 1);
	*r = (raw_t){.link.bytes = hn,
		     .prior = prior,
		     .progress = progress,
		     .header_len = hn};
	r->key = item->key ? put_str(&p, item->key, kn) : NULL;
	r->where = put_str(&p, item->where, wn);
	r->error = error ? put_str(&p, error, en) : NULL;
	r->header = item->header ? put_str(&p, item->header, hn) : NULL;
	return r;
}

static void free_raws(qitem_t *it)
{
	while (it) {
		qitem_t *next = it->next;
		free(it);
		it = next;
	}
}

/* Free the messages of list it; their raws are put on *raws. */
static void free_msgs(qitem_t *it, qitem_t **raws)
{
	while (it) {
		msg_t *m = (msg_t *)it;
		it = it->next;
		m->raw->link.next = *raws;
		*raws = &m->raw->link;
		free(m->dedup);
		mailsrc_header_clear(&m->h);
		free(m);
	}
}

typedef struct {
	ingest_t *in;
	mailsrc_t *ms;
	queue_t raws; /* reader -> parser */
	queue_t msgs; /* parser -> writer */
	int rc;       /* the reader's: of mailsrc_next, with err */
	err_t err;
	strmap_t seen; /* keys read before, loaded on first use */
	bool seen_loaded;
	bool handed; /* the reader queued a message */
	status_t seen_status;
} reader_t;

/* The Maildir and IMAP backends first ask while they are opened, before
 * the reader and parser threads start: the keys are loaded then, and
 * looked up in memory (a large Maildir asks again from the reader
 * thread, between its windows).  The store's connection is not made for
 * two threads (no mutex): a backend whose first question came once a
 * message was read would fail the source rather than race. */
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
	return r->seen_status || (strmap_get(&r->seen, key, &status) &&
				  status != SEEN_UNREADABLE);
}

static void *reader_main(void *arg)
{
	reader_t *r = arg;
	mailsrc_item_t item;
	batch_t b = {0};
	qitem_t *used, *left;
	int rc;

	while ((rc = mailsrc_next(r->ms, &item, &r->err)) > 0) {
		if (r->seen_status) {
			rc = -1;
			break;
		}
		int64_t prior = -1;
		if (item.key)
			strmap_get(&r->seen, item.key, &prior);
		raw_t *raw =
			raw_new(&item, (int)prior, mailsrc_progress(r->ms));
		r->handed = true;
		bool ok = queue_put(&r->raws, &b, &raw->link, &used);
		free_raws(used);
		if (!ok) {
			free(raw);
			rc = 0;
			break;
		}
	}
	r->rc = rc;
	queue_finish(&r->raws, &b, &used, &left);
	free_raws(used);
	free_raws(left);
	return NULL;
}

static void *parser_main(void *arg)
{
	reader_t *r = arg;
	batch_t in = {0}, out = {0};
	qitem_t *it, *back = NULL; /* the raw to hand back to the reader */
	qitem_t *used, *left;
	bool stopped = false; /* the writer wants no more */

	while ((it = queue_take(&r->raws, &in, back))) {
		raw_t *raw = (raw_t *)it;
		back = NULL;
		if (stopped) {
			back = &raw->link;
			continue; /* the reader stops at its next batch */
		}
		msg_t *m = xcalloc(1, sizeof *m);
		m->raw = raw;
		if (raw->header) {
			mailsrc_parse_header(raw->header, raw->header_len,
					     r->in->cfg->keep_subjects, &m->h);
			m->dedup =
				dedup_key(raw->header, raw->header_len, &m->h);
		}
		if (!queue_put(&r->msgs, &out, &m->link, &used)) {
			m->link.next = used;
			used = &m->link;
			stopped = true;
			queue_stop(&r->raws);
		}
		/* a used message's raw goes back with the next one taken */
		free_msgs(used, &in.used);
	}
	queue_finish(&r->msgs, &out, &used, &left);
	free_msgs(used, &in.used);
	free_msgs(left, &in.used);
	free_raws(in.used); /* the reader is done */
	return NULL;
}

/* One message on the writer's side: returns non-zero on a store error. */
static status_t write_msg(ingest_t *in, const msg_t *m, bool *got_new)
{
	const raw_t *raw = m->raw;
	status_t s;
	in->stats->read++;
	if (in->diag && in->diag->progress && in->stats->read % 500 == 0)
		in->diag->progress(in->diag->ctx, in->src->spec,
				   in->stats->read, raw->progress);
	if (raw->error) {
		/* Warned about once; read again next time (it may be a file
		 * being written). */
		if (raw->prior != SEEN_UNREADABLE)
			ingest_warnf(in, "%s: skipped: %s", raw->where,
				     raw->error);
		in->stats->skipped++;
		return raw->key
			       ? store_seen_add(in->st, in->source_id, raw->key,
						SEEN_UNREADABLE, in->err)
			       : ST_OK;
	}
	/* An mbox has no per-message key: what was read before is
	 * recognised by its de-duplication key. */
	const char *key = raw->key ? raw->key : m->dedup;
	if (!raw->key) {
		bool seen = false;
		if ((s = store_seen(in->st, in->source_id, key, &seen, NULL,
				    in->err)))
			return s;
		if (seen)
			return ST_OK;
	}
	bool fresh = false;
	int status = ingest_message(in, raw->where, &m->h, m->dedup, &fresh);
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
	pthread_t reader, parser;
	status_t s = ST_OK;
	size_t read_before = in->stats->read;

	s = open_mail(in->cfg, in->l, in->src, cursor, seen_cb, &r, &r.ms,
		      in->err);
	if (s)
		return s;
	queue_init(&r.raws);
	queue_init(&r.msgs);
	if (pthread_create(&parser, NULL, parser_main, &r) != 0) {
		s = err_set(in->err, ST_SOFTWARE, "%s: cannot start a thread",
			    in->src->spec);
		goto done;
	}
	bool reading = pthread_create(&reader, NULL, reader_main, &r) == 0;
	if (!reading) {
		s = err_set(in->err, ST_SOFTWARE, "%s: cannot start a thread",
			    in->src->spec);
		/* nothing to read: the parser ends */
		batch_t none = {0};
		qitem_t *used, *left;
		queue_finish(&r.raws, &none, &used, &left);
	}
	batch_t b = {0};
	qitem_t *it, *back = NULL;
	while ((it = queue_take(&r.msgs, &b, back))) {
		back = it;
		/* A stop signal: what this source wrote is rolled back.  On
		 * a failure the parser and the reader are stopped too, and
		 * what they had queued is handed back unwritten. */
		if (!s && (s = util_stop ? err_set(in->err, ST_TEMPFAIL,
						   "%s: stopped by a signal",
						   in->src->spec)
					 : write_msg(in, (msg_t *)it, got_new)))
			queue_stop(&r.msgs);
	}
	pthread_join(parser, NULL);
	if (reading)
		pthread_join(reader, NULL);
	/* what was handed back after its producer was done */
	qitem_t *raws = r.raws.used;
	free_msgs(r.msgs.used, &raws);
	free_raws(raws);
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
	queue_destroy(&r.raws);
	queue_destroy(&r.msgs);
	strmap_free(&r.seen);
	mailsrc_close(r.ms);
	/* What the threads freed, back before what comes next (scoring);
	 * after much, as giving back costs the page faults of using the
	 * memory again. */
	if (in->stats->read - read_before >= GIVE_BACK_MESSAGES)
		mem_give_back();
	return s;
}
