/*
 * run — the weekly pipeline of one leader.  See run.h.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "people.h"
#include "render.h"
#include "send.h"
#include "tz.h"

struct run_digest {
	const config_leader_t *l;
	int64_t now;
	json_t *model;
	strvec_t stale;
};

/* ---- reporting --------------------------------------------------------- */

static void say(run_t *r, void (*fn)(void *, const char *),
		const config_leader_t *l, const char *fmt, va_list ap)
{
	char what[2048];

	if (!fn)
		return;
	vsnprintf(what, sizeof what, fmt, ap);
	char *line = xasprintf("%s: %s", l->id, what);
	fn(r->diag.ctx, line);
	free(line);
}

static void fail(run_t *r, const config_leader_t *l, const char *fmt, ...)
	UTIL_PRINTF(3, 4);
static void fail(run_t *r, const config_leader_t *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(r, r->error, l, fmt, ap);
	va_end(ap);
}

static void info(run_t *r, const config_leader_t *l, const char *fmt, ...)
	UTIL_PRINTF(3, 4);
static void info(run_t *r, const config_leader_t *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(r, r->info, l, fmt, ap);
	va_end(ap);
}

static void warn(run_t *r, const char *fmt, ...) UTIL_PRINTF(2, 3);
static void warn(run_t *r, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!r->diag.warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->diag.warn(r->diag.ctx, msg);
}

/* ---- signals ----------------------------------------------------------- */

static void on_stop(int sig)
{
	util_stop = sig;
	/* A second signal is not asked twice: it kills. */
	signal(sig, SIG_DFL);
}

void run_catch_signals(void)
{
	/* No SA_RESTART: a blocking read returns EINTR and the loop above it
	 * sees util_stop. */
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Hold off the stop signals for what must not be cut in two (handing a
 * message over and recording that it was): they wait, pending, until
 * unblocked.  *old receives the mask to restore. */
static void hold_signals(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGHUP);
	sigprocmask(SIG_BLOCK, &s, old);
}

/* ---- ingest ------------------------------------------------------------ */

status_t run_ingest(run_t *r, const config_leader_t *l, int64_t now)
{
	ingest_stats_t stats = {0};
	int64_t id;
	status_t first = ST_OK, s;
	err_t err = {0};

	if ((s = store_begin(r->store, &err)) ||
	    (s = store_leader(r->store, l->id, true, &id, &err)) ||
	    (s = store_commit(r->store, &err))) {
		store_rollback(r->store);
		fail(r, l, "%s", err.msg);
		return s;
	}
	for (size_t k = 0; k < l->nsent + l->ncalendar; k++) {
		const config_source_t *src =
			k < l->nsent ? &l->sent[k] : &l->calendar[k - l->nsent];
		size_t before = stats.added + stats.meetings;

		if (util_stop)
			return ST_TEMPFAIL;
		s = ingest_source(r->store, r->cfg, l, id, src, now, &r->diag,
				  &stats, &err);
		if (r->diag.progress)
			r->diag.progress(r->diag.ctx, NULL, 0, 0);
		if (s) {
			fail(r, l, "%s", err.msg);
			if (!first)
				first = s;
			continue;
		}
		char *name = ingest_source_name(src);
		info(r, l, "%s: %zu new", name,
		     stats.added + stats.meetings - before);
		free(name);
	}
	info(r, l,
	     "%zu messages read, %zu new interactions, %zu duplicates, %zu "
	     "not the leader's, %zu auto-replies, %zu without recipients, "
	     "%zu skipped; %zu calendar files read, %zu new meetings, %zu "
	     "coming up",
	     stats.read, stats.added, stats.duplicates, stats.not_leader,
	     stats.automated, stats.nobody, stats.skipped, stats.files,
	     stats.meetings, stats.upcoming);
	return first;
}

/* ---- the digest -------------------------------------------------------- */

status_t run_digest(run_t *r, const config_leader_t *l, int64_t now,
		    run_digest_t **out)
{
	run_digest_t *d = xcalloc(1, sizeof *d);
	err_t err = {0};
	int64_t id = 0;
	people_t p;
	status_t s;

	*out = NULL;
	d->l = l;
	d->now = now;
	if ((s = store_leader(r->store, l->id, false, &id, &err)) ||
	    (s = people_load(r->store, r->cfg, l, id, now, &p, &err))) {
		fail(r, l, "%s", err.msg);
		run_digest_free(d);
		return s;
	}
	if ((s = people_stale_sources(r->store, l, id, &p, &d->stale, &err))) {
		fail(r, l, "%s", err.msg);
		run_digest_free(d);
	} else {
		d->model = model_build(r->cfg, l, &p, &d->stale);
		*out = d;
	}
	people_free(&p);
	return s;
}

void run_digest_free(run_digest_t *d)
{
	if (!d)
		return;
	json_decref(d->model);
	strvec_free(&d->stale);
	free(d);
}

const strvec_t *run_digest_stale(const run_digest_t *d)
{
	return &d->stale;
}

/* The sender of leader l's digests, and the Message-ID of attempt n of
 * week: <digest.LEADER.YYYY-Www.N@DOMAIN-OF-FROM>.  Caller frees all
 * three. */
static void envelope(const config_t *cfg, const config_leader_t *l,
		     const char *week, int n, char **name, char **addr,
		     char **message_id)
{
	const char *from = cfg->smtp.from;

	*name = NULL;
	if (!from) {
		*name = xstrdup("Relationship Digest");
		*addr = xstrdup(l->email);
	} else {
		/* "Name <addr>" or "addr" */
		const char *lt = strrchr(from, '<');
		const char *gt = lt ? strchr(lt, '>') : NULL;

		if (!lt || !gt) {
			*addr = str_trim(xstrdup(from));
		} else {
			char *n = xstrndup(from, (size_t)(lt - from));
			char *t = str_trim(n);
			size_t len = strlen(t);

			if (len >= 2 && t[0] == '"' && t[len - 1] == '"') {
				t[len - 1] = '\0';
				t++;
			}
			*name = *t ? xstrdup(t) : NULL;
			free(n);
			*addr = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		}
	}
	const char *at = strrchr(*addr, '@');
	*message_id = xasprintf("digest.%s.%s.%d@%s", l->id, week, n,
				at ? at + 1 : "localhost");
}

/* The message of attempt n of digest d into b. */
static status_t message(run_t *r, run_digest_t *d, int n, strbuf_t *b,
			char **from, char **mid, err_t *err)
{
	char *name = NULL;
	status_t s;

	envelope(r->cfg, d->l, model_week_id(d->model), n, &name, from, mid);
	render_envelope_t env = {name, *from, *mid};
	s = render_eml(r->cfg, d->l, d->model, d->now, &env, b, err);
	free(name);
	return s;
}

static status_t render_as(run_t *r, run_digest_t *d, run_format_t fmt,
			  strbuf_t *b, err_t *err)
{
	char *from = NULL, *mid = NULL;
	status_t s = ST_OK;

	switch (fmt) {
	case RUN_JSON: {
		char *j = json_dumps(d->model, MODEL_JSON_FLAGS);
		sb_puts(b, j);
		sb_putc(b, '\n');
		free(j);
		break;
	}
	case RUN_EML:
		s = message(r, d, 0, b, &from, &mid, err);
		free(from);
		free(mid);
		break;
	case RUN_TEXT:
	case RUN_HTML:
		/* The digest shown instead of sent names a few of those
		 * left out; the one sent does not. */
		json_object_set_new(d->model, "preview", json_true());
		s = render_part(r->cfg, d->model,
				fmt == RUN_HTML ? RENDER_HTML : RENDER_TEXT, b,
				err);
		json_object_del(d->model, "preview");
		break;
	}
	return s;
}

status_t run_digest_write(run_t *r, run_digest_t *d, run_format_t fmt, FILE *f)
{
	strbuf_t b = {0};
	err_t err = {0};
	status_t s = render_as(r, d, fmt, &b, &err);

	if (s)
		fail(r, d->l, "%s", err.msg);
	else if (fwrite(sb_str(&b), 1, b.len, f) != b.len)
		s = ST_IOERR;
	sb_free(&b);
	return s;
}

status_t run_digest_save(run_t *r, run_digest_t *d, const char *dir)
{
	char *path = xasprintf("%s/%s.eml", dir, d->l->id);
	char *tmp = xasprintf("%s/.%s.eml.XXXXXX", dir, d->l->id);
	strbuf_t b = {0};
	err_t err = {0};
	status_t s;
	int fd = -1;

	if ((s = render_as(r, d, RUN_EML, &b, &err))) {
		fail(r, d->l, "%s", err.msg);
		goto done;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fail(r, d->l, "%s: %s", dir, strerror(errno));
		s = ST_CANTCREAT;
		goto done;
	}
	/* mkstemp: O_EXCL, mode 0600, whatever the old file's mode. */
	if ((fd = mkstemp(tmp)) < 0) {
		fail(r, d->l, "%s: %s", dir, strerror(errno));
		s = ST_CANTCREAT;
		goto done;
	}
	FILE *f = fdopen(fd, "wb");
	if (!f || fwrite(sb_str(&b), 1, b.len, f) != b.len || fflush(f) ||
	    fsync(fd) < 0) {
		fail(r, d->l, "%s: %s", tmp, strerror(errno));
		s = ST_IOERR;
	}
	if (f) {
		fd = -1;
		if (fclose(f) != 0 && !s) {
			fail(r, d->l, "%s: %s", tmp, strerror(errno));
			s = ST_IOERR;
		}
	}
	if (s) {
		unlink(tmp);
		goto done;
	}
	if (rename(tmp, path) < 0) {
		fail(r, d->l, "%s: %s", path, strerror(errno));
		unlink(tmp);
		s = ST_CANTCREAT;
	}
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	sb_free(&b);
	free(tmp);
	free(path);
	return s;
}

/* ---- delivery and the ledger -------------------------------------------- */

/* One log line per delivery, msmtp style: to the log file, and as a note
 * for -v. */
static void log_delivery(run_t *r, const config_leader_t *l, const char *week,
			 const char *to, const char *status, const char *reply,
			 const char *mid)
{
	char *line =
		xasprintf("leader=%s week=%s to=%s status=%s smtp=\"%s\" "
			  "message_id=<%s>",
			  l->id, week, to, status, reply ? reply : "", mid);
	str_sanitize(line);
	if (r->info)
		r->info(r->diag.ctx, line);
	const char *path = r->cfg->log_file;
	int fd = mkdir_parents(path) < 0
			 ? -1
			 : open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				0600);
	if (fd >= 0) {
		char stamp[21];
		tz_format_utc((int64_t)time(NULL), stamp);
		dprintf(fd, "%s %s\n", stamp, line);
		close(fd);
	} else {
		warn(r, "%s: %s", path, strerror(errno));
	}
	free(line);
}

/* The automatic merges a digest was sent with: listed in no later
 * week's digest. */
static status_t record_merges(run_t *r, int64_t id, run_digest_t *d,
			      const char *week, err_t *err)
{
	strvec_t keys = {0};
	status_t s = ST_OK;

	model_merge_keys(d->model, &keys);
	for (size_t i = 0; i < keys.n && !s; i++)
		s = store_merge_shown(r->store, id, keys.v[i], week, err);
	strvec_free(&keys);
	return s;
}

/* The outcome of attempt n and, when it was sent, the merges it showed:
 * one transaction, so that no kill between the two lists the merges
 * again next week.  Should that fail, the outcome alone is written: it
 * is what keeps a digest from going twice. */
static status_t record_outcome(run_t *r, int64_t id, run_digest_t *d, int n,
			       bool sent, const char *mid, const char *detail,
			       err_t *err)
{
	const char *week = model_week_id(d->model);
	store_delivery_t state = sent ? STORE_SENT : STORE_FAILED;
	status_t s = store_begin(r->store, err);

	if (!s)
		s = store_delivery_set(r->store, id, week, n, state, mid,
				       d->now, detail, err);
	if (!s && sent)
		s = record_merges(r, id, d, week, err);
	if (!s)
		s = store_commit(r->store, err);
	if (s) {
		err_t again = {0};

		store_rollback(r->store);
		if (store_delivery_set(r->store, id, week, n, state, mid,
				       d->now, detail, &again) == ST_OK) {
			warn(r,
			     "%s: %s; the outcome is recorded, but the "
			     "merges this digest showed may be listed again",
			     d->l->id, err->msg);
			s = ST_OK;
		}
	}
	return s;
}

status_t run_deliver(run_t *r, run_digest_t *d)
{
	const config_leader_t *l = d->l;
	const config_smtp_t *smtp = &r->cfg->smtp;
	const char *week = model_week_id(d->model);
	const char *to = l->send_to ? l->send_to : l->email;
	store_delivery_t state;
	int64_t id = 0;
	int n;
	err_t err = {0};
	strbuf_t msg = {0};
	char *reply = NULL, *from = NULL, *mid = NULL;
	sigset_t old;
	status_t s;

	if ((s = store_leader(r->store, l->id, true, &id, &err)) ||
	    (s = store_delivery(r->store, id, week, &state, &n, &err)))
		goto fail;
	if (state == STORE_SENT && !r->force) {
		info(r, l,
		     "the digest of %s was sent already (--force sends "
		     "it again)",
		     week);
		return ST_OK;
	}
	if (state == STORE_SENT)
		n++;
	if ((s = message(r, d, n, &msg, &from, &mid, &err)))
		goto fail;
	/* From "sending" to its outcome, a stop signal waits: a message
	 * handed over is always recorded, and one not handed over never
	 * leaves "sending" behind. */
	hold_signals(&old);
	if (util_stop) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		s = ST_TEMPFAIL;
		goto done;
	}
	if ((s = store_delivery_set(r->store, id, week, n, STORE_SENDING, mid,
				    d->now, NULL, &err))) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		goto fail;
	}
	send_config_t sc = {
		.url = smtp->url,
		.sendmail = &smtp->sendmail,
		.user = smtp->user,
		.password_command = smtp->password_command,
		.tls_ca_file = smtp->tls_ca_file,
		.timeout_s = r->cfg->timeout,
	};
	s = send_message(&sc, from, to, msg.s, msg.len, &reply, &err);
	err_t lerr = {0};
	status_t rs = record_outcome(r, id, d, n, !s, mid, s ? err.msg : reply,
				     &lerr);
	log_delivery(r, l, week, to, s ? "failed" : "sent", s ? err.msg : reply,
		     mid);
	if (s)
		fail(r, l, "delivery to %s failed: %s", to, err.msg);
	if (rs)
		fail(r, l, "%s, but the ledger could not record it: %s",
		     s ? "not sent" : "sent", lerr.msg);
	/* Only now may a held stop signal arrive: the outcome is said
	 * before the run stops. */
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!s)
		s = rs;
	goto done;
fail:
	fail(r, l, "%s", err.msg);
done:
	sb_free(&msg);
	free(reply);
	free(from);
	free(mid);
	return s;
}

/* ---- one leader -------------------------------------------------------- */

status_t run_leader(run_t *r, const config_leader_t *l, int64_t now,
		    const run_mode_t *mode)
{
	run_digest_t *d = NULL;
	status_t s = run_ingest(r, l, now);

	if (s || util_stop || (s = run_digest(r, l, now, &d)))
		goto done;
	if (mode->dry_run) {
		fprintf(mode->dry_run, "%s=== %s (%s): digest, not sent ===\n",
			mode->first ? "" : "\n", l->id,
			l->send_to ? l->send_to : l->email);
		s = run_digest_write(r, d, RUN_TEXT, mode->dry_run);
	} else if (mode->out_dir) {
		s = run_digest_save(r, d, mode->out_dir);
	} else if (d->stale.n) {
		for (size_t k = 0; k < d->stale.n; k++)
			fail(r, l, "not sent: %s; is its sync broken?",
			     d->stale.v[k]);
		s = ST_TEMPFAIL;
	} else {
		s = run_deliver(r, d);
	}
done:
	if (!s && util_stop)
		s = ST_TEMPFAIL;
	run_digest_free(d);
	return s;
}
