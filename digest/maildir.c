/*
 * maildir — the Maildir backend of mailsrc (ops table in mailsrc_priv.h).
 *
 * Walks cur/ and new/ itself (never tmp/, never dot-files) instead of
 * using libetpan's maildir driver, which creates a maildirfolder file.
 * A message's key is its file name up to the ':' (or mu's "!2,") that
 * starts the flags, so a message moved from new/ to cur/ or re-flagged
 * keeps its key.  Only the header block of each file is read, with
 * O_NOATIME where permitted; nothing is ever written.  What is not a
 * regular file there (a FIFO, which would block the run, a directory, a
 * dangling symlink) is never opened but yielded with why, to be warned
 * about like an unreadable message.
 *
 * The cursor records the mtimes of cur/ and new/ at open time, once a
 * walk has finished ("~" for one changed in the last two seconds, which
 * a file delivered in the same clock tick might not have moved).
 * Opening again, a directory whose mtime equals the cursor's is not
 * listed: nothing was added, removed or renamed in it.  With both so,
 * nothing is read at all.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_NOATIME, fdopendir */
#endif

#include "mailsrc_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* First read of a message; doubled until the header ends. */
#define MD_FIRST_READ 4096

static const char *const subdirs[2] = {"cur", "new"};

/* The names of one directory, packed in one buffer (a large cur/ holds a
 * few hundred thousand): each entry is a name's offset there, its key
 * the name's first keylen bytes. */
struct md_entry {
	size_t off;
	unsigned short keylen;
	unsigned char type; /* the dirent's d_type */
};

struct md_list {
	strbuf_t names; /* "name\0name\0..." */
	struct md_entry *v;
	size_t n;
	int fd; /* the directory, open while its names are read; or -1 */
};

struct md_state {
	char *path;
	char *stamp;   /* "maildir1 CUR NEW": the cursor of this open */
	bool finished; /* nothing more to yield, the walk was complete */
	struct md_list ents[2];
	size_t dir, pos; /* next entry: ents[dir].v[pos] */
	char key[256];   /* the key of the item last yielded */
	/* The item last yielded. */
	strbuf_t where;
	char *buf;
	size_t cap;
	char error[128];
};

/* ---- helpers -------------------------------------------------------- */

/* open(2) of a directory with O_NOATIME, retried without it where it is
 * not permitted (files of another user). */
static int open_dir_noatime(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOATIME | O_CLOEXEC);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

/* The length of a name's key; 0 for none (dot-files, an empty key). */
static size_t key_len(const char *name)
{
	size_t n = strcspn(name, ":");
	const char *bang = strstr(name, "!2,");
	if (bang && (size_t)(bang - name) < n)
		n = (size_t)(bang - name);
	return name[0] == '.' ? 0 : n;
}

char *mailsrc_maildir_key(const char *name)
{
	size_t n = key_len(name);
	return n ? xstrndup(name, n) : NULL;
}

/* Keys in strcmp's order: bytes, then the shorter first. */
static int key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : (an > bn) - (an < bn);
}

static const char *entry_name(const struct md_list *l, size_t i)
{
	return l->names.s + l->v[i].off;
}

/* By key, then name. */
static int entry_cmp(const void *a, const void *b, void *list)
{
	const char *names = ((const struct md_list *)list)->names.s;
	const struct md_entry *x = a, *y = b;
	int c = key_cmp(names + x->off, x->keylen, names + y->off, y->keylen);
	return c ? c : strcmp(names + x->off, names + y->off);
}

/* Is there an entry with this key in l? */
static bool list_has(const struct md_list *l, const char *key, size_t keylen)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(entry_name(l, mid), l->v[mid].keylen, key,
				keylen);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void list_free(struct md_list *l)
{
	sb_free(&l->names);
	free(l->v);
	if (l->fd >= 0)
		close(l->fd);
	memset(l, 0, sizeof *l);
	l->fd = -1;
}

/* "SEC.NSEC" of dir's mtime, or "-" when it does not exist; *ns gets the
 * mtime in nanoseconds (or INT64_MIN). */
static status_t stamp_of(const char *dir, char *out, size_t outsz, int64_t *ns,
			 err_t *err)
{
	struct stat st;
	if (stat(dir, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			snprintf(out, outsz, "-");
			*ns = INT64_MIN;
			return ST_OK;
		}
		return err_set(err, ST_IOERR, "%s: %s", dir, strerror(errno));
	}
	snprintf(out, outsz, "%lld.%09ld", (long long)st.st_mtim.tv_sec,
		 (long)st.st_mtim.tv_nsec);
	*ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return ST_OK;
}

/* Read the names in dir (missing = empty) but those whose key seen()
 * says was read before, sorted by key then name; the directory stays
 * open in out->fd for reading the files by name.  Asking while listing
 * keeps what was read before out of the listing, its memory and its
 * sort: an incremental run lists every name of a large cur/ to find the
 * few new ones. */
static status_t list_dir(const char *dir, const mailsrc_spec_t *spec,
			 struct md_list *out, err_t *err)
{
	status_t st = ST_OK;
	size_t cap = 0;
	DIR *d = NULL;
	int fd;
	char key[256];

	out->fd = open_dir_noatime(dir);
	if (out->fd < 0) {
		if (errno != ENOENT)
			st = err_set(err, ST_IOERR, "%s: %s", dir,
				     strerror(errno));
		goto done;
	}
	fd = fcntl(out->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || !(d = fdopendir(fd))) {
		st = err_set(err, ST_IOERR, "%s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto done;
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				st = err_set(err, ST_IOERR, "%s: %s", dir,
					     strerror(errno));
			break;
		}
		/* Dot-files and names with an empty key.  Anything else that
		 * is not a message (a directory, a FIFO) is yielded with
		 * why, so that it is warned about. */
		size_t kn = key_len(de->d_name);
		if (!kn || kn >= sizeof key) /* NAME_MAX is 255 */
			continue;
		memcpy(key, de->d_name, kn);
		key[kn] = '\0';
		if (spec->seen && spec->seen(spec->seen_ctx, key))
			continue;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 64;
			out->v = xrealloc(out->v, cap * sizeof *out->v);
		}
		out->v[out->n].off = out->names.len;
		out->v[out->n].keylen = (unsigned short)kn;
		out->v[out->n++].type = de->d_type;
		sb_add(&out->names, de->d_name, strlen(de->d_name) + 1);
	}
	if (st == ST_OK && out->n)
		qsort_r(out->v, out->n, sizeof *out->v, entry_cmp, out);
done:
	if (d)
		closedir(d);
	if (st != ST_OK)
		list_free(out);
	return st;
}

/*
 * Open entry i of l, a regular file by its listing, relative to its
 * directory: one name looked up instead of the whole path, twice (by
 * open_regular's stat and open).  O_NOFOLLOW and fstat make sure it is
 * still a regular file; anything else is left to open_regular, which
 * says why.  Returns the descriptor, or -1.
 */
static int open_entry(const struct md_list *l, size_t i)
{
	if (l->fd < 0 || l->v[i].type != DT_REG)
		return -1;
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW;
	int fd = openat(l->fd, entry_name(l, i), flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(l->fd, entry_name(l, i), flags);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Read the header block of the file at path (fd, when open_entry opened
 * it, else -1) into s->buf.  Returns its
 * length; -1 with s->error saying why it cannot be read (a FIFO, a
 * dangling symlink, EACCES...); or -2 when it went away since the
 * listing (moved to cur/ or deleted): nothing to say about it.
 */
static ssize_t read_header(struct md_state *s, const char *path, int fd)
{
	ssize_t ret = -1;
	size_t len = 0, hlen = 0;
	struct stat st;
	if (fd < 0)
		fd = open_regular(path, O_NOATIME, &st, NULL);
	if (fd < 0) {
		if (errno != ENOENT)
			snprintf(s->error, sizeof s->error, "%s",
				 open_regular_why(errno, &st));
		else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			snprintf(s->error, sizeof s->error,
				 "dangling symbolic link");
		else
			ret = -2;
		goto done;
	}
	for (;;) {
		if (len == s->cap) {
			if (s->cap >= MAILSRC_HEADER_MAX)
				break; /* cut: yield what we have */
			s->cap = s->cap ? s->cap * 2 : MD_FIRST_READ;
			if (s->cap > MAILSRC_HEADER_MAX)
				s->cap = MAILSRC_HEADER_MAX;
			s->buf = xrealloc(s->buf, s->cap);
		}
		ssize_t k = read(fd, s->buf + len, s->cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			snprintf(s->error, sizeof s->error, "%s",
				 strerror(errno));
			goto done;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		hlen = mailsrc_header_length(s->buf, len);
		if (hlen < len)
			break;
	}
	hlen = mailsrc_header_length(s->buf ? s->buf : "", len);
	ret = (ssize_t)hlen;
done:
	if (fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return ret;
}

/* ---- ops ------------------------------------------------------------ */

static void md_close(void *state)
{
	struct md_state *s = state;
	if (!s)
		return;
	for (int i = 0; i < 2; i++)
		list_free(&s->ents[i]);
	free(s->path);
	free(s->stamp);
	sb_free(&s->where);
	free(s->buf);
	free(s);
}

static status_t md_open(const mailsrc_spec_t *spec, void **state, err_t *err)
{
	const char *path = spec->path, *cursor = spec->cursor;
	status_t st = ST_OK;
	struct md_state *s = NULL;
	char *sub = NULL;
	char stamp[2][48];
	int64_t mtime[2];
	struct stat sb;

	*state = NULL;
	if (stat(path, &sb) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			st = err_set(err, ST_NOINPUT, "%s: %s", path,
				     strerror(errno));
		else
			st = err_set(err, ST_IOERR, "%s: %s", path,
				     strerror(errno));
		goto done;
	}
	bool has_sub = false;
	for (int i = 0; S_ISDIR(sb.st_mode) && i < 2; i++) {
		struct stat ss;
		free(sub);
		sub = xasprintf("%s/%s", path, subdirs[i]);
		if (stat(sub, &ss) == 0) {
			has_sub |= S_ISDIR(ss.st_mode);
			continue;
		}
		if (errno == ENOENT || errno == ENOTDIR)
			continue;
		/* Not "not a Maildir" but why it cannot be looked into:
		 * path itself when it is not searchable (EACCES). */
		int e = errno;
		free(sub);
		sub = xasprintf("%s/.", path);
		bool root = e == EACCES && stat(sub, &ss) < 0;
		st = err_set(err, ST_IOERR, "%s%s%s: %s", path, root ? "" : "/",
			     root ? "" : subdirs[i], strerror(e));
		goto done;
	}
	if (!has_sub) {
		st = err_set(err, ST_DATAERR,
			     "%s: not a Maildir (no cur/ or new/)", path);
		goto done;
	}

	s = xcalloc(1, sizeof *s);
	s->ents[0].fd = s->ents[1].fd = -1;
	s->path = xstrdup(path);
	for (size_t n = strlen(s->path); n > 1 && s->path[n - 1] == '/';)
		s->path[--n] = '\0'; /* "Sent/" → "Sent/cur/x", not "Sent//" */
	/* The mtimes first, then the listings: whatever changes after this
	 * moves an mtime, and the next run walks again. */
	for (int i = 0; i < 2; i++) {
		free(sub);
		sub = xasprintf("%s/%s", path, subdirs[i]);
		st = stamp_of(sub, stamp[i], sizeof stamp[i], &mtime[i], err);
		if (st != ST_OK)
			goto done;
	}

	/* A directory whose mtime is the cursor's has had no name added,
	 * removed or renamed since the walk that made the cursor: every
	 * message in it was yielded then, and it is not listed again (a
	 * large cur/ costs more to list than the few new messages beside
	 * it).  But an mtime is only as fine as the file system's clock (a
	 * second on some): a file delivered in the same tick as this
	 * listing would not move it.  So a directory changed in the last
	 * two seconds is given a stamp ("~") that no later mtime equals,
	 * and the next run lists it again. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	bool fresh[2];
	for (int i = 0; i < 2; i++)
		fresh[i] = mtime[i] != INT64_MIN &&
			   now_ns - mtime[i] <= 2000000000;
	s->stamp = xasprintf("maildir1 %s %s", fresh[0] ? "~" : stamp[0],
			     fresh[1] ? "~" : stamp[1]);
	char was[2][48] = {"", ""};
	if (cursor && sscanf(cursor, "maildir1 %47s %47s", was[0], was[1]) != 2)
		was[0][0] = was[1][0] = '\0';
	bool unchanged[2];
	for (int i = 0; i < 2; i++)
		unchanged[i] = !fresh[i] && strcmp(was[i], stamp[i]) == 0;
	if (unchanged[0] && unchanged[1]) {
		s->finished = true;
		goto done;
	}
	for (int i = 0; i < 2; i++) {
		if (unchanged[i])
			continue;
		free(sub);
		sub = xasprintf("%s/%s", path, subdirs[i]);
		st = list_dir(sub, spec, &s->ents[i], err);
		if (st != ST_OK)
			goto done;
	}
done:
	free(sub);
	if (st != ST_OK) {
		md_close(s);
		s = NULL;
	}
	*state = s;
	return st;
}

static int md_next(void *state, mailsrc_item_t *item, err_t *err)
{
	struct md_state *s = state;
	(void)err;

	while (!s->finished) {
		const struct md_list *l = &s->ents[s->dir];
		if (s->pos >= l->n) {
			if (s->dir == 1) {
				s->finished = true;
				break;
			}
			s->dir++;
			s->pos = 0;
			continue;
		}
		size_t i = s->pos++;
		const char *name = entry_name(l, i);
		size_t kn = l->v[i].keylen;
		/* One message per key: its first name in cur/, else new/. */
		if (i > 0 && key_cmp(entry_name(l, i - 1), l->v[i - 1].keylen,
				     name, kn) == 0)
			continue;
		if (s->dir == 1 && list_has(&s->ents[0], name, kn))
			continue;
		memcpy(s->key, name, kn); /* kn < sizeof s->key: list_dir */
		s->key[kn] = '\0';

		s->where.len = 0;
		sb_puts(&s->where, s->path);
		sb_putc(&s->where, '/');
		sb_puts(&s->where, subdirs[s->dir]);
		sb_putc(&s->where, '/');
		sb_puts(&s->where, name);
		ssize_t n = read_header(s, sb_str(&s->where), open_entry(l, i));
		if (n == -2)
			continue; /* gone since the listing */
		item->key = s->key;
		item->where = sb_str(&s->where);
		if (n < 0) {
			item->header = NULL;
			item->header_len = 0;
			item->error = s->error;
		} else {
			item->header = s->buf ? s->buf : "";
			item->header_len = (size_t)n;
			item->error = NULL;
		}
		return 1;
	}
	return 0;
}

static double md_progress(const void *state)
{
	const struct md_state *s = state;
	size_t total = s->ents[0].n + s->ents[1].n;
	size_t done =
		s->finished ? total : s->pos + (s->dir ? s->ents[0].n : 0);
	return total ? (double)done / (double)total : 1.0;
}

static char *md_cursor(const void *state)
{
	const struct md_state *s = state;
	/* Before the walk is complete only "from the start" is safe; the
	 * caller's seen() skips what was already taken. */
	return xstrdup(s->finished ? s->stamp : "");
}

const struct mailsrc_ops mailsrc_maildir_ops = {
	.open = md_open,
	.next = md_next,
	.cursor = md_cursor,
	.progress = md_progress,
	.close = md_close,
};
