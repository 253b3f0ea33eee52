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
 * Names are walked in key order, cur/ then new/, a window of
 * mailsrc_maildir_window names at a time (read_window), so that the
 * listing of a large folder does not grow memory with it.
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

/* The window: up to 2 × mailsrc_maildir_window names of one directory,
 * packed in one buffer.  Each entry is a name's offset there, its key
 * the name's first keylen bytes. */
struct md_entry {
	size_t off;
	unsigned short keylen;
	unsigned char type; /* the dirent's d_type */
	bool in_cur;        /* of new/, and its key is in cur/ too */
};

struct md_window {
	strbuf_t names; /* "name\0name\0..." */
	struct md_entry *v;
	size_t n, cap;
};

struct md_state {
	char *path;
	char *stamp;   /* "maildir1 CUR NEW": the cursor of this open */
	bool finished; /* nothing more to yield, the walk was complete */
	mailsrc_seen_fn seen;
	void *seen_ctx;
	DIR *dirs[2]; /* cur/ and new/ when they are walked, or NULL */
	int fds[2];   /* the same directories, for openat; or -1 */
	int dir;      /* the one being walked */
	struct md_window win;
	size_t pos;   /* next entry: win.v[pos] */
	bool more;    /* names with keys above bound were left out */
	bool bounded; /* a window was walked: bound holds its last key */
	size_t boundlen;
	char bound[256];
	bool read[2]; /* the directory was read once */
	/* For progress: the names of cur/'s first reading not seen(), and
	 * of new/ those of its first reading, or all of them, counted when
	 * opened, when cur/ is walked first. */
	size_t total;
	size_t done;   /* entries walked */
	char key[256]; /* the key of the item last yielded */
	/* The item last yielded. */
	strbuf_t where;
	char *buf;
	size_t cap;
	char error[128];
};

size_t mailsrc_maildir_window = 65536;

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

static const char *entry_name(const struct md_window *w, size_t i)
{
	return w->names.s + w->v[i].off;
}

/* By key, then name. */
static int entry_cmp(const void *a, const void *b, void *names_)
{
	const char *names = names_;
	const struct md_entry *x = a, *y = b;
	int c = key_cmp(names + x->off, x->keylen, names + y->off, y->keylen);
	return c ? c : strcmp(names + x->off, names + y->off);
}

/* Has entry i of w this key? */
static bool entry_has_key(const struct md_window *w, size_t i, const char *key,
			  size_t keylen)
{
	return w->v[i].keylen == keylen &&
	       memcmp(entry_name(w, i), key, keylen) == 0;
}

/* The first entry of w whose key is not below this one, or w->n. */
static size_t window_lower(const struct md_window *w, const char *key,
			   size_t keylen)
{
	size_t lo = 0, hi = w->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_cmp(entry_name(w, mid), w->v[mid].keylen, key, keylen) <
		    0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int entry_off_cmp(const void *a, const void *b)
{
	const struct md_entry *x = a, *y = b;
	return (x->off > y->off) - (x->off < y->off);
}

/* Sort the window; with keep < n, keep its first keep entries only, their
 * names moved down to the start of the buffer. */
static void window_sort(struct md_window *w, size_t keep)
{
	if (w->n == 0) /* an empty folder has no array to sort */
		return;
	qsort_r(w->v, w->n, sizeof *w->v, entry_cmp, w->names.s);
	if (keep >= w->n)
		return;
	w->n = keep;
	/* In the buffer's order, each name moves down or stays. */
	qsort(w->v, w->n, sizeof *w->v, entry_off_cmp);
	size_t to = 0;
	for (size_t i = 0; i < w->n; i++) {
		size_t len = strlen(w->names.s + w->v[i].off) + 1;
		memmove(w->names.s + to, w->names.s + w->v[i].off, len);
		w->v[i].off = to;
		to += len;
	}
	w->names.len = to;
	qsort_r(w->v, w->n, sizeof *w->v, entry_cmp, w->names.s);
}

static void window_free(struct md_window *w)
{
	sb_free(&w->names);
	free(w->v);
	memset(w, 0, sizeof *w);
}

/* Open dir for reading its names (missing = left closed): a DIR for
 * readdir and a descriptor of its own for openat. */
static status_t open_listing(const char *dir, DIR **d, int *fd, err_t *err)
{
	*fd = open_dir_noatime(dir);
	if (*fd < 0)
		return errno == ENOENT ? ST_OK
				       : err_set(err, ST_IOERR, "%s: %s", dir,
						 strerror(errno));
	int dup = fcntl(*fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0 || !(*d = fdopendir(dup))) {
		int e = errno;
		if (dup >= 0)
			close(dup);
		return err_set(err, ST_IOERR, "%s: %s", dir, strerror(e));
	}
	return ST_OK;
}

/* The next name of directory i with a key, in key (keylen bytes, and
 * a NUL); NULL at the end, or with err set on a read error. */
static const struct dirent *next_name(struct md_state *s, int i, char *key,
				      size_t *keylen, status_t *st, err_t *err)
{
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(s->dirs[i]);
		if (!de) {
			if (errno)
				*st = err_set(err, ST_IOERR, "%s/%s: %s",
					      s->path, subdirs[i],
					      strerror(errno));
			return NULL;
		}
		/* Dot-files and names with an empty key.  Anything else that
		 * is not a message (a directory, a FIFO) is yielded with
		 * why, so that it is warned about. */
		size_t kn = key_len(de->d_name);
		if (!kn || kn > 255) /* NAME_MAX is 255 */
			continue;
		memcpy(key, de->d_name, kn);
		key[kn] = '\0';
		*keylen = kn;
		return de;
	}
}

/*
 * Read the next window of the directory being walked: its names whose
 * key is above the last window's and was not seen(), sorted by key.  A
 * folder holds a few hundred thousand names, and listing them all would
 * make memory grow with it: the window keeps the mailsrc_maildir_window
 * lowest keys, and the next reading of the directory the ones above
 * those.  Each reading asks seen() about every name's key (most of a
 * large cur/, on an incremental run, were read before: they never take
 * a place in the window).  A window of new/ is then checked against
 * cur/ as it is when that window is read: a key there is cur/'s
 * message.  (So a cur/ name removed after its message was yielded lets
 * a new/ name of the same key be yielded too, which the store counts as
 * the duplicate it is.)
 */
static status_t read_window(struct md_state *s, err_t *err)
{
	struct md_window *w = &s->win;
	size_t max = mailsrc_maildir_window ? mailsrc_maildir_window : 1;
	bool cut = false; /* names above cutkey were left out */
	size_t cutlen = 0, kn;
	char cutkey[256], key[256];
	const struct dirent *de;
	status_t st = ST_OK;
	int i = s->dir;

	w->n = w->names.len = 0;
	s->pos = 0;
	rewinddir(s->dirs[i]);
	while ((de = next_name(s, i, key, &kn, &st, err))) {
		if (s->seen && s->seen(s->seen_ctx, key))
			continue;
		if (!s->read[i] && !(i == 1 && s->dirs[0])) /* md_open */
			s->total++;
		if ((s->bounded &&
		     key_cmp(key, kn, s->bound, s->boundlen) <= 0) ||
		    (cut && key_cmp(key, kn, cutkey, cutlen) > 0))
			continue;
		if (w->n == 2 * max) {
			/* Keep the lower half: what is above its last key
			 * waits for the next reading. */
			window_sort(w, max);
			cutlen = w->v[max - 1].keylen;
			memcpy(cutkey, entry_name(w, max - 1), cutlen);
			cut = true;
			if (key_cmp(key, kn, cutkey, cutlen) > 0)
				continue;
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 64;
			w->v = xrealloc(w->v, w->cap * sizeof *w->v);
		}
		w->v[w->n++] = (struct md_entry){
			.off = w->names.len,
			.keylen = (unsigned short)kn,
			.type = de->d_type,
		};
		sb_add(&w->names, de->d_name, strlen(de->d_name) + 1);
	}
	if (st != ST_OK)
		return st;
	s->read[i] = true;
	window_sort(w, w->n);
	/* Every key up to the window's last is in it (a name cut with the
	 * last key is another name of a message it holds). */
	s->more = cut;
	if (w->n) {
		s->bounded = true;
		s->boundlen = w->v[w->n - 1].keylen;
		memcpy(s->bound, entry_name(w, w->n - 1), s->boundlen);
	}
	if (i == 1 && s->dirs[0] && w->n) {
		rewinddir(s->dirs[0]);
		while (next_name(s, 0, key, &kn, &st, err))
			for (size_t j = window_lower(w, key, kn);
			     j < w->n && entry_has_key(w, j, key, kn); j++)
				w->v[j].in_cur = true;
	}
	return st;
}

/* Make win.v[pos] the next entry to walk, reading the next window of
 * cur/, then of new/, as each is used up; or set finished. */
static status_t next_window(struct md_state *s, err_t *err)
{
	while (!s->finished && s->pos >= s->win.n) {
		if (!s->more) {
			if (s->read[s->dir] || !s->dirs[s->dir]) {
				if (s->dir == 1) {
					s->finished = true;
					window_free(&s->win);
					break;
				}
				s->dir = 1;
				s->bounded = false;
			}
			if (!s->dirs[s->dir])
				continue;
		}
		status_t st = read_window(s, err);
		if (st != ST_OK)
			return st;
	}
	return ST_OK;
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

/*
 * Open entry i of the window, a regular file by its listing, relative to its
 * directory: one name looked up instead of the whole path, twice (by
 * open_regular's stat and open).  O_NOFOLLOW and fstat make sure it is
 * still a regular file; anything else is left to open_regular, which
 * says why.  Returns the descriptor, or -1.
 */
static int open_entry(const struct md_state *s, size_t i)
{
	const struct md_entry *e = &s->win.v[i];
	int dirfd = s->fds[s->dir];
	if (dirfd < 0 || e->type != DT_REG)
		return -1;
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW;
	int fd = openat(dirfd, entry_name(&s->win, i), flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, entry_name(&s->win, i), flags);
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
	for (int i = 0; i < 2; i++) {
		if (s->dirs[i])
			closedir(s->dirs[i]);
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	}
	window_free(&s->win);
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
	s->fds[0] = s->fds[1] = -1;
	s->seen = spec->seen;
	s->seen_ctx = spec->seen_ctx;
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
		st = open_listing(sub, &s->dirs[i], &s->fds[i], err);
		if (st != ST_OK)
			goto done;
	}
	/* new/ is read after cur/, but counted now, so that progress never
	 * goes back. */
	if (s->dirs[0] && s->dirs[1]) {
		char key[256];
		size_t kn;
		while (next_name(s, 1, key, &kn, &st, err))
			s->total++;
		if (st != ST_OK)
			goto done;
	}
	/* The first window now: seen() is first asked while the source is
	 * opened (mailsrc.h). */
	st = next_window(s, err);
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

	for (;;) {
		if (next_window(s, err) != ST_OK)
			return -1;
		if (s->finished)
			return 0;
		const struct md_window *w = &s->win;
		size_t i = s->pos++;
		s->done++;
		const char *name = entry_name(w, i);
		size_t kn = w->v[i].keylen;
		/* One message per key: its first name in cur/, else new/
		 * (a window holds every name of its keys). */
		if (w->v[i].in_cur ||
		    (i > 0 && entry_has_key(w, i - 1, name, kn)))
			continue;
		memcpy(s->key, name, kn); /* kn < sizeof s->key */
		s->key[kn] = '\0';

		s->where.len = 0;
		sb_puts(&s->where, s->path);
		sb_putc(&s->where, '/');
		sb_puts(&s->where, subdirs[s->dir]);
		sb_putc(&s->where, '/');
		sb_puts(&s->where, name);
		ssize_t n = read_header(s, sb_str(&s->where), open_entry(s, i));
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
}

static double md_progress(const void *state)
{
	const struct md_state *s = state;
	if (s->finished || s->done >= s->total)
		return 1.0;
	return (double)s->done / (double)s->total;
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
