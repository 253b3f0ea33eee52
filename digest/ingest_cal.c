/*
 * ingest_cal — calendars → meetings: every .ics file of a source is
 * expanded in the window [now - lookback, now + 7 days); instances before
 * now are interactions, those of the coming week are kept apart as
 * coming-up meetings, and so is the next instance of each recurring
 * series after that (within STORE_STANDING_DAYS): a standing meeting
 * that goes on.  A file read again replaces what it contributed in
 * the window, so a moved or cancelled meeting leaves no ghost; a file is
 * skipped only while both its content and the window are unchanged.
 *
 * An https calendar is one such file, fetched with a conditional GET: the
 * body is kept in the store with its validators, so that a 304 (or the
 * same body again) still lets the moved window be expanded, and does no
 * work when the window has not moved either.
 */
#include "ingest_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cal.h"
#include "http.h"
#include "ident.h"

#define WEEK (7 * 86400)

double ingest_meeting_weight(int n)
{
	if (n > 25)
		return 0.0;
	return n <= 4 ? 2.0 : 8.0 / n;
}

int ingest_meeting_parties(const config_leader_t *l, const cal_instance_t *inst,
			   store_party_t *out)
{
	bool leader_in = false;
	int n = 0;
	for (size_t i = 0; i < inst->npeople; i++) {
		const cal_person_t *p = &inst->people[i];
		if (ident_is_own(l, p->addr)) {
			leader_in |= p->organizer || !p->declined;
			continue;
		}
		if (p->declined || p->resource)
			continue;
		int j = 0;
		while (j < n && strcmp(out[j].addr, p->addr) != 0)
			j++;
		if (j < n) {
			if (!out[j].name)
				out[j].name = p->name;
			continue;
		}
		out[n].addr = p->addr;
		out[n].name = p->name;
		n++;
	}
	return leader_in ? n : -1;
}

/* A calendar file larger than this is skipped: the cap of an https body. */
#define CAL_FILE_MAX HTTP_MAX_SIZE
_Static_assert(CAL_FILE_MAX == 50u * 1024 * 1024, "read_file says 50 MB");
/* How deep the walk of a calendar directory goes. */
#define CAL_DEPTH_MAX 32

/*
 * Read a whole calendar file: a regular file (not a FIFO that would block
 * the run, not /dev/zero) of at most CAL_FILE_MAX bytes.  NULL on failure,
 * with *why saying what went wrong (a static string) and *st the status
 * that fits.  Never writes.
 */
static char *read_file(const char *path, size_t *len, const char **why,
		       status_t *st)
{
	struct stat sb = {0};
	err_t e = {0};
	strbuf_t b = {0};
	ssize_t k = 0;
	int fd = open_regular(path, O_NOATIME, &sb, &e);

	if (fd < 0) {
		*why = open_regular_why(errno, &sb);
		*st = e.status;
		return NULL;
	}
	/* a buffer of the size it has now, not the next power of two */
	if ((size_t)sb.st_size <= CAL_FILE_MAX)
		sb_reserve(&b, (size_t)sb.st_size);
	/* Checked as it is read too: it may grow meanwhile. */
	while (b.len <= CAL_FILE_MAX && (size_t)sb.st_size <= CAL_FILE_MAX) {
		/* straight into the buffer while it has room (the size the
		 * file had); what it has grown by since through a chunk */
		char chunk[65536];
		bool room = b.cap - b.len >= 2;
		k = room ? read(fd, b.s + b.len, b.cap - b.len - 1)
			 : read(fd, chunk, sizeof chunk);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (room) {
			b.len += (size_t)k;
			b.s[b.len] = '\0';
		} else {
			sb_add(&b, chunk, (size_t)k);
		}
	}
	int saved = errno;
	close(fd);
	if (k < 0) {
		*why = strerror(saved);
		*st = ST_IOERR;
	} else if (b.len > CAL_FILE_MAX || (size_t)sb.st_size > CAL_FILE_MAX) {
		*why = "larger than 50 MB";
		*st = ST_DATAERR;
	} else {
		*len = b.len;
		return b.s ? sb_steal(&b) : xstrdup("");
	}
	sb_free(&b);
	return NULL;
}

/* Warn about what cal found in a file, once per distinct warning and
 * file content (remembered in the seen table); every time for `check`,
 * which has no store. */
static status_t warn_once(ingest_t *in, const char *path, const char *hash,
			  const char *msg)
{
	char hex[17];
	bool seen = false;
	status_t s;
	if (!in->st) {
		ingest_warnf(in, "%s: %s", path, msg);
		return ST_OK;
	}
	hash64_hex(hash64(msg, strlen(msg)), hex);
	char *key = xasprintf("warn:%s:%s:%s", path, hash, hex);
	if (!(s = store_seen(in->st, in->source_id, key, &seen, NULL,
			     in->err)) &&
	    !seen) {
		ingest_warnf(in, "%s: %s", path, msg);
		s = store_seen_add(in->st, in->source_id, key, 1, in->err);
	}
	free(key);
	return s;
}

/*
 * The .ics files below root/rel (relative names), dot-files skipped.  A
 * directory is walked once however many links lead to it (one link to
 * "." made the walk read every file 41 times, two made it exponential),
 * and not below CAL_DEPTH_MAX levels: what is deeper is warned about.
 * walked holds the "dev:ino" of the directories walked.
 */
static status_t list_ics(ingest_t *in, const char *root, const char *rel,
			 int depth, strmap_t *walked, strvec_t *out)
{
	char *dir = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = NULL;
	struct dirent *e;
	struct stat sb;
	char id[48];
	status_t s = ST_OK;

	if (stat(dir, &sb) < 0)
		goto done;
	snprintf(id, sizeof id, "%llu:%llu", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino);
	if (strmap_get(walked, id, NULL))
		goto done;
	if (depth > CAL_DEPTH_MAX) {
		char msg[64];
		snprintf(msg, sizeof msg,
			 "not read: more than %d directories deep",
			 CAL_DEPTH_MAX);
		s = warn_once(in, dir, "deep", msg);
		goto done;
	}
	strmap_put(walked, id, 1);
	d = opendir(dir);
	while (!s && d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *sub = rel[0] ? xasprintf("%s/%s", rel, e->d_name)
				   : xstrdup(e->d_name);
		char *full = xasprintf("%s/%s", root, sub);
		if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode))
			s = list_ics(in, root, sub, depth + 1, walked, out);
		else if (str_iends(e->d_name, ".ics"))
			strvec_take(out, xstrdup(sub));
		free(full);
		free(sub);
	}
done:
	if (d)
		closedir(d);
	free(dir);
	return s;
}

/* Store the instances of one file; *fresh tells whether one of them is
 * contact that was not stored before (a new instance in the past).  After
 * the coming week only the first instance of each series is kept. */
static status_t store_instances(ingest_t *in, const char *item,
				const cal_result_t *res, int64_t now,
				int64_t prev_now, bool *fresh)
{
	strmap_t later = {0}; /* series with an instance kept after the week */
	status_t s = ST_OK;
	for (size_t i = 0; i < res->n && !s; i++) {
		const cal_instance_t *inst = &res->v[i];
		if (inst->cancelled)
			continue;
		if (inst->start >= now + WEEK &&
		    (!inst->recurring || strmap_get(&later, inst->uid, NULL)))
			continue;
		store_party_t *parties = xcalloc(
			inst->npeople ? inst->npeople : 1, sizeof *parties);
		int n = ingest_meeting_parties(in->l, inst, parties);
		if (n > 0) {
			char *dedup = xasprintf("ev:%s@%lld", inst->uid,
						(long long)inst->recurrence_id);
			store_interaction_t ia = {
				.leader = in->leader_id,
				.source = in->source_id,
				.channel = STORE_MEETING,
				.time = inst->start,
				.size = n,
				.weight = ingest_meeting_weight(n),
				.dedup = dedup,
				.title = in->cfg->keep_subjects ? inst->summary
								: NULL,
				.item = item,
				.recurring = inst->recurring,
				.parties = parties,
				.nparties = (size_t)n,
			};
			bool added = false;
			if (inst->start < now) {
				s = store_add_interaction(in->st, &ia, &added,
							  NULL, in->err);
				if (added) {
					in->stats->meetings++;
					*fresh |= inst->start >= prev_now;
				}
			} else {
				s = store_add_upcoming(in->st, &ia, &added,
						       in->err);
				if (inst->start < now + WEEK)
					in->stats->upcoming += added;
				else
					strmap_put(&later, inst->uid, 1);
			}
			free(dedup);
		}
		free(parties);
	}
	strmap_free(&later);
	return s;
}

/* A calendar's text on its way into the store: what the store says of
 * it, and its expansion for the window. */
typedef struct {
	int64_t from, to, old_to;
	char hash[17];
	bool found, same_text;
	bool done; /* nothing more to do: unchanged, or not a calendar */
	cal_result_t res;
} cal_job_t;

/* The text of one calendar, expanded into job unless it is the same text
 * read for the same window before: name for messages, item its name in
 * the store; single when it is the whole source (a failure is then the
 * source's).  The text is not needed after this. */
static status_t expand_text(ingest_t *in, const char *name, const char *item,
			    const char *text, size_t len, bool single,
			    int64_t now, cal_job_t *job)
{
	int64_t old_from = 0;
	char *old_hash = NULL;
	err_t cerr = {0};
	status_t s = ST_OK;

	memset(job, 0, sizeof *job);
	job->from = now - in->cfg->lookback;
	job->to = now + WEEK;
	hash64_hex(hash64(text, len), job->hash);
	if ((s = store_cal_file(in->st, in->source_id, item, &job->found,
				&old_hash, &old_from, &job->old_to, in->err)))
		goto done;
	job->same_text = job->found && strcmp(old_hash, job->hash) == 0;
	job->done = job->same_text && old_from == job->from &&
		    job->old_to == job->to;
	if (job->done)
		goto done; /* nothing changed */
	in->stats->files++;
	if (cal_expand(text, len, in->l->timezone, job->from,
		       now + STORE_STANDING_DAYS * 86400, &job->res, &cerr)) {
		job->done = true;
		if (single) {
			s = err_set(in->err, ST_DATAERR, "%s: %s", name,
				    cerr.msg);
			goto done;
		}
		/* What the file gave before stays; it is read again once it
		 * changes. */
		s = warn_once(in, name, job->hash,
			      "skipped: not an iCalendar file");
		in->stats->skipped++;
		if (!s)
			s = store_cal_file_set(in->st, in->source_id, item,
					       job->hash, job->from, job->to,
					       in->err);
	}
done:
	free(old_hash);
	return s;
}

/* Store what expand_text found in job. */
static status_t store_expanded(ingest_t *in, const char *name, const char *item,
			       int64_t now, cal_job_t *job, bool *got_new)
{
	status_t s = ST_OK;
	if (job->done)
		return ST_OK;
	for (size_t i = 0; i < job->res.warnings.n && !s; i++)
		s = warn_once(in, name, job->hash, job->res.warnings.v[i]);
	/* What the file said about the window before is replaced. */
	if (!s)
		s = store_forget_item(in->st, in->source_id, item, job->from,
				      INT64_MAX, false, in->err);
	bool fresh = !job->same_text;
	if (!s)
		s = store_instances(in, item, &job->res, now,
				    job->found ? job->old_to - WEEK : INT64_MIN,
				    &fresh);
	if (!s)
		s = store_cal_file_set(in->st, in->source_id, item, job->hash,
				       job->from, job->to, in->err);
	*got_new |= fresh;
	return s;
}

/* The text of one calendar, expanded and stored (expand_text). */
static status_t ingest_text(ingest_t *in, const char *name, const char *item,
			    const char *text, size_t len, bool single,
			    int64_t now, bool *got_new)
{
	cal_job_t job;
	status_t s = expand_text(in, name, item, text, len, single, now, &job);
	if (!s)
		s = store_expanded(in, name, item, now, &job, got_new);
	cal_result_free(&job.res);
	return s;
}

/* The text of one file of the source in *text (caller frees), or NULL
 * when it cannot be read: an error when it is the whole source (single),
 * else a warning naming it, and the other files are read. */
static status_t load_file(ingest_t *in, const char *path, bool single,
			  char **text, size_t *len)
{
	const char *why = NULL;
	status_t st = ST_OK;
	char msg[160];

	*text = read_file(path, len, &why, &st);
	if (*text)
		return ST_OK;
	if (single)
		return err_set(in->err, st, "%s: %s", path, why);
	snprintf(msg, sizeof msg, "skipped: %s", why);
	if (in->stats)
		in->stats->skipped++;
	return warn_once(in, path, "unreadable", msg);
}

/* One file of the source: path on disk, item its name in the store. */
static status_t ingest_file(ingest_t *in, const char *path, const char *item,
			    bool single, int64_t now, bool *got_new)
{
	size_t len = 0;
	char *text = NULL;
	cal_job_t job;
	status_t s = load_file(in, path, single, &text, &len);
	if (s || !text)
		return s;
	s = expand_text(in, path, item, text, len, single, now, &job);
	free(text); /* before the instances are stored: memory */
	if (!s)
		s = store_expanded(in, path, item, now, &job, got_new);
	cal_result_free(&job.res);
	return s;
}

/* The files of a calendar source, by their names in the store: the file
 * itself (*single), or the .ics files below the directory, sorted. */
static status_t source_files(ingest_t *in, const char *root, strvec_t *files,
			     bool *single)
{
	struct stat sb;
	strmap_t walked = {0};
	if (stat(root, &sb) < 0)
		return err_set(in->err, errno == ENOENT ? ST_NOINPUT : ST_IOERR,
			       "%s: %s", root, strerror(errno));
	*single = !S_ISDIR(sb.st_mode);
	if (*single) {
		const char *slash = strrchr(root, '/');
		strvec_push(files, slash ? slash + 1 : root);
		return ST_OK;
	}
	status_t s = list_ics(in, root, "", 0, &walked, files);
	strmap_free(&walked);
	qsort(files->v, files->n, sizeof *files->v, str_ptr_cmp);
	return s;
}

/* Expand one calendar text as `check` does, storing nothing. */
static status_t check_text(ingest_t *in, const char *name, const char *text,
			   size_t len, bool single, int64_t now)
{
	cal_result_t res = {0};
	err_t cerr = {0};
	status_t s = ST_OK;
	if (cal_expand(text, len, in->l->timezone, now - in->cfg->lookback,
		       now + WEEK, &res, &cerr)) {
		if (single)
			s = err_set(in->err, ST_DATAERR, "%s: %s", name,
				    cerr.msg);
		else
			ingest_warnf(in, "%s: not an iCalendar file", name);
	} else {
		for (size_t j = 0; j < res.warnings.n; j++)
			ingest_warnf(in, "%s: %s", name, res.warnings.v[j]);
	}
	cal_result_free(&res);
	return s;
}

status_t ingest_check_calendar(ingest_t *in, int64_t now)
{
	strvec_t files = {0};
	bool single;
	status_t s = source_files(in, in->src->path, &files, &single);
	for (size_t i = 0; i < files.n && !s; i++) {
		char *path =
			single ? xstrdup(in->src->path)
			       : xasprintf("%s/%s", in->src->path, files.v[i]);
		size_t len = 0;
		char *text = NULL;
		s = load_file(in, path, single, &text, &len);
		if (!s && text)
			s = check_text(in, path, text, len, single, now);
		free(text);
		free(path);
	}
	strvec_free(&files);
	return s;
}

status_t ingest_calendar(ingest_t *in, int64_t now, bool *got_new)
{
	const char *root = in->src->path;
	strvec_t files = {0}, known = {0};
	bool single;
	status_t s = source_files(in, root, &files, &single);

	if (!s && single) {
		s = ingest_file(in, root, files.v[0], true, now, got_new);
		strvec_free(&files);
		return s;
	}
	/* A file deleted from the directory takes its meetings with it:
	 * first, so that a renamed file's meetings are not taken for
	 * duplicates of its old name's. */
	if (!s)
		s = store_cal_files(in->st, in->source_id, &known, in->err);
	for (size_t i = 0; i < known.n && !s; i++) {
		if (bsearch(&known.v[i], files.v, files.n, sizeof *files.v,
			    str_ptr_cmp))
			continue;
		s = store_forget_item(in->st, in->source_id, known.v[i],
				      now - in->cfg->lookback, INT64_MAX, true,
				      in->err);
		*got_new = true;
	}
	for (size_t i = 0; i < files.n && !s; i++) {
		/* A stop signal: this calendar's changes are rolled back. */
		if (util_stop) {
			s = err_set(in->err, ST_TEMPFAIL,
				    "%s: stopped by a signal", in->src->spec);
			break;
		}
		char *path = xasprintf("%s/%s", root, files.v[i]);
		s = ingest_file(in, path, files.v[i], false, now, got_new);
		free(path);
	}
	strvec_free(&files);
	strvec_free(&known);
	return s;
}

/* ---- calendars over https ---------------------------------------------- */

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

status_t ingest_check_http(ingest_t *in, int64_t now)
{
	http_request_t rq = {.ca_file = in->cfg->tls_ca_file,
			     .step_timeout = in->cfg->timeout};
	http_response_t rs = {0};
	char *name = ingest_source_name(in->src);
	status_t s = http_get(in->src->path, &rq, &rs, in->err);
	if (!s)
		s = check_text(in, name, rs.body, rs.len, true, now);
	http_response_free(&rs);
	free(name);
	return s;
}

status_t ingest_http(ingest_t *in, int64_t now, bool *got_new)
{
	char *name = ingest_source_name(in->src);
	store_http_t cache = {0};
	http_response_t rs = {0};
	bool found = false;
	status_t s;

	if ((s = store_http_get(in->st, in->source_id, &found, &cache,
				in->err)))
		goto done;
	http_request_t rq = {
		.ca_file = in->cfg->tls_ca_file,
		.step_timeout = in->cfg->timeout,
		.etag = cache.etag,
		.last_modified = cache.last_modified,
	};
	if ((s = http_get(in->src->path, &rq, &rs, in->err)))
		goto done;
	bool validators = !same_str(rs.etag, cache.etag) ||
			  !same_str(rs.last_modified, cache.last_modified);
	const char *text = cache.body;
	size_t len = cache.len;
	if (rs.code == 304) {
		/* Unchanged: the stored calendar, expanded again only when
		 * the window moved. */
		if (validators)
			s = store_http_set(in->st, in->source_id, rs.etag,
					   rs.last_modified, NULL, 0, now,
					   in->err);
	} else {
		bool same = found && cache.len == rs.len &&
			    memcmp(cache.body, rs.body, rs.len) == 0;
		if (!same || validators)
			s = store_http_set(in->st, in->source_id, rs.etag,
					   rs.last_modified,
					   same ? NULL : rs.body, rs.len, now,
					   in->err);
		text = rs.body;
		len = rs.len;
	}
	/* Its content hash and window decide, as for a file, whether
	 * anything is to be done. */
	if (!s)
		s = ingest_text(in, name, name, text, len, true, now, got_new);
done:
	http_response_free(&rs);
	store_http_clear(&cache);
	free(name);
	return s;
}
