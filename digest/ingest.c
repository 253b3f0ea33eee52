/*
 * ingest — sources → interactions → store: one source of one leader per
 * call, in one transaction with the source's cursor.  See ingest.h; the
 * mail and calendar readers are in ingest_mail.c and ingest_cal.c.
 */
#include "ingest_priv.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http.h"

char *ingest_source_name(const config_source_t *src)
{
	if (src->kind == SRC_IMAP)
		return ingest_imap_name(src);
	return src->kind == SRC_HTTP ? http_redact(src->path)
				     : xstrdup(src->spec);
}

double ingest_email_weight(int n)
{
	return n <= 3 ? 1.0 : 3.0 / n;
}

void ingest_warnf(const ingest_t *in, const char *fmt, ...)
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

/* A hash of the addresses whose mail is the leader's.  Caller frees. */
static char *senders_fingerprint(const config_leader_t *l)
{
	strvec_t all = {0};
	strbuf_t b = {0};
	char hex[17];
	strvec_push(&all, l->email);
	for (size_t i = 0; i < l->aliases.n; i++)
		strvec_push(&all, l->aliases.v[i]);
	for (size_t i = 0; i < l->delegates.n; i++)
		strvec_push(&all, l->delegates.v[i]);
	for (size_t i = 0; i < all.n; i++)
		str_lower(all.v[i]);
	qsort(all.v, all.n, sizeof *all.v, str_ptr_cmp);
	for (size_t i = 0; i < all.n; i++)
		sb_printf(&b, "%s\n", all.v[i]);
	hash64_hex(hash64(b.s, b.len), hex);
	sb_free(&b);
	strvec_free(&all);
	return xstrdup(hex);
}

status_t ingest_check(const config_t *cfg, const config_leader_t *l,
		      const config_source_t *src, int64_t now,
		      const ingest_diag_t *diag, err_t *err)
{
	ingest_t in = {
		.cfg = cfg, .l = l, .src = src, .diag = diag, .err = err};
	switch (src->kind) {
	case SRC_MAILDIR:
		if (src->recursive) {
			strvec_t dirs = {0};
			status_t s = ingest_maildirs(src, &dirs, err);
			strvec_free(&dirs);
			return s;
		}
		return ingest_check_mail(cfg, l, src, err);
	case SRC_MBOX:
		return ingest_check_mail(cfg, l, src, err);
	case SRC_ICS:
		return ingest_check_calendar(&in, now);
	case SRC_HTTP:
		return ingest_check_http(&in, now);
	case SRC_IMAP:
		return ingest_check_mail(cfg, l, src, err);
	}
	return ST_OK;
}

static status_t ingest_one(store_t *st, const config_t *cfg,
			   const config_leader_t *l, int64_t leader_id,
			   const config_source_t *src, int64_t now,
			   const ingest_diag_t *diag, ingest_stats_t *stats,
			   err_t *err)
{
	ingest_t in = {
		.st = st,
		.cfg = cfg,
		.l = l,
		.leader_id = leader_id,
		.src = src,
		.diag = diag,
		.stats = stats,
		.err = err,
	};
	char *cursor = NULL, *new_cursor = NULL;
	bool got_new = false;
	status_t s;

	if ((s = store_begin(st, err)))
		return s;
	if ((s = store_source(st, leader_id, src->spec, kind_name(src->kind),
			      &in.source_id, &cursor, err)))
		goto done;
	/* Read again what was not the leader's if their addresses changed. */
	char *fp = senders_fingerprint(l);
	bool changed = false;
	s = store_source_senders(st, in.source_id, fp, &changed, err);
	free(fp);
	if (s)
		goto done;
	if (changed) {
		free(cursor);
		cursor = NULL;
	}
	if (src->kind == SRC_ICS)
		s = ingest_calendar(&in, now, &got_new);
	else if (src->kind == SRC_HTTP)
		s = ingest_http(&in, now, &got_new);
	else
		s = ingest_mail(&in, cursor, &new_cursor, &got_new);
	if (s)
		goto done;
	if (in.not_leader)
		ingest_warnf(&in,
			     "%s: %zu message%s not from %s skipped (e.g. %s): "
			     "add the "
			     "sender to `aliases` or `delegates` if it is the "
			     "leader's",
			     src->spec, in.not_leader,
			     in.not_leader == 1 ? "" : "s", l->id,
			     in.not_leader_example);
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

/* The Maildirs at and below root/rel (relative names, "" for root
 * itself), nested folders and Maildir++ dot-folders alike; directories
 * met twice (through links) are walked once. */
static void list_maildirs(const char *root, const char *rel, strvec_t *out,
			  strvec_t *walked, int depth)
{
	char *dir = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	struct stat sb;
	char id[64];
	if (depth > 32 || stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		goto done;
	snprintf(id, sizeof id, "%llu:%llu", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino);
	if (strvec_contains(walked, id))
		goto done;
	strvec_push(walked, id);
	char *cur = xasprintf("%s/cur", dir), *new = xasprintf("%s/new", dir);
	bool maildir = stat(cur, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		       stat(new, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(cur);
	free(new);
	if (maildir)
		strvec_push(out, rel);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    (maildir &&
		     (strcmp(n, "cur") == 0 || strcmp(n, "new") == 0 ||
		      strcmp(n, "tmp") == 0)))
			continue;
		char *sub = rel[0] ? xasprintf("%s/%s", rel, n) : xstrdup(n);
		list_maildirs(root, sub, out, walked, depth + 1);
		free(sub);
	}
	if (d)
		closedir(d);
done:
	free(dir);
}

status_t ingest_maildirs(const config_source_t *src, strvec_t *dirs, err_t *err)
{
	struct stat sb;
	strvec_t walked = {0};
	if (stat(src->path, &sb) < 0)
		return err_set(err, errno == ENOENT ? ST_NOINPUT : ST_IOERR,
			       "%s: %s", src->path, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return err_set(err, ST_DATAERR, "%s: not a directory",
			       src->path);
	list_maildirs(src->path, "", dirs, &walked, 0);
	strvec_free(&walked);
	if (!dirs->n)
		return err_set(err, ST_DATAERR, "%s: no Maildir below it",
			       src->path);
	qsort(dirs->v, dirs->n, sizeof *dirs->v, str_ptr_cmp);
	return ST_OK;
}

char *ingest_maildir_spec(const config_source_t *src, const char *rel)
{
	return rel[0] ? xasprintf("maildir:%s/%s", src->path, rel)
		      : xasprintf("maildir:%s", src->path);
}

status_t ingest_source(store_t *st, const config_t *cfg,
		       const config_leader_t *l, int64_t leader_id,
		       const config_source_t *src, int64_t now,
		       const ingest_diag_t *diag, ingest_stats_t *stats,
		       err_t *err)
{
	if (!src->recursive)
		return ingest_one(st, cfg, l, leader_id, src, now, diag, stats,
				  err);
	/* Each Maildir below is a source of its own, with its own cursor
	 * and transaction; the first failure is returned after all. */
	strvec_t dirs = {0};
	status_t s = ingest_maildirs(src, &dirs, err), first = s;
	for (size_t i = 0; i < dirs.n && !s; i++) {
		config_source_t one = *src;
		one.recursive = false;
		one.spec = ingest_maildir_spec(src, dirs.v[i]);
		one.path = dirs.v[i][0]
				   ? xasprintf("%s/%s", src->path, dirs.v[i])
				   : xstrdup(src->path);
		err_t e = {0};
		status_t r = ingest_one(st, cfg, l, leader_id, &one, now, diag,
					stats, &e);
		if (r && !first) {
			first = r;
			*err = e;
		}
		free(one.spec);
		free(one.path);
	}
	strvec_free(&dirs);
	return first;
}
