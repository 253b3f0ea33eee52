/*
 * mbox — the mbox backend of mailsrc (ops table in mailsrc_priv.h).
 *
 * Reads the file as a stream through a fixed buffer (memory stays flat
 * however large the file; a file truncated under us is a short read, not
 * a SIGBUS as with mmap), without locks and without libetpan's mailmbox
 * driver, which would rewrite the file.  A message starts at a "From "
 * line at the start of the file (after an optional UTF-8 BOM) or after an
 * empty line (mboxo/mboxrd; ">From " is body text) — unless the line
 * after it is plainly not a header field — and runs to the next one or to
 * the end of the file as it was at open time.
 *
 * Cursor: "mbox1 SIZE MTIME OFFSET LAST_START LAST_HASH" — the size and
 * mtime at open, where reading stopped (the end of the last message
 * yielded), and the start and FNV-1a hash of that message's bytes.  An
 * unchanged file yields nothing; a file that still holds the same last
 * message where it was is read on from OFFSET; anything else is read
 * again from the start (the caller de-duplicates by Message-ID).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_NOATIME */
#endif

#include "mailsrc_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MBOX_BUF_SIZE (64 * 1024)
/* How far ahead a "From " line is looked past (<= MBOX_BUF_SIZE). */
#define MBOX_LOOKAHEAD 4096

/* A forward reader over [0, end) of fd. */
struct rd {
	int fd;
	off_t end;         /* the file's size at open (less if it shrank) */
	char *buf;         /* MBOX_BUF_SIZE bytes */
	size_t head, tail; /* unread bytes: buf[head..tail) */
	off_t pos;         /* file offset of buf[head] */
};

/* What the cursor holds. */
struct mbox_pos {
	long long size;
	long long mt_sec;
	long mt_nsec;
	long long off;        /* where reading stopped */
	long long last_start; /* the last message yielded: [last_start, off) */
	uint64_t last_hash;
};

struct mbox_state {
	char *path;
	struct rd rd;
	bool done;
	bool prev_empty; /* the line before rd.pos was empty (or none) */
	off_t first;     /* where the first message starts (after a BOM) */
	struct mbox_pos cur;
	/* The item last yielded. */
	strbuf_t hdr;
	char *where;
};

/* ---- the reader ----------------------------------------------------- */

static void rd_seek(struct rd *r, off_t pos)
{
	r->pos = pos;
	r->head = r->tail = 0;
}

/* Make at least need (<= MBOX_BUF_SIZE) bytes available unless the end
 * comes first.  Returns how many are, or -1 (errno set). */
static ssize_t rd_fill(struct rd *r, size_t need)
{
	size_t avail = r->tail - r->head;
	if (avail >= need)
		return (ssize_t)avail;
	if (r->head > 0) {
		memmove(r->buf, r->buf + r->head, avail);
		r->head = 0;
		r->tail = avail;
	}
	while (r->tail < need) {
		off_t at = r->pos + (off_t)r->tail;
		if (at >= r->end)
			break;
		size_t want = MBOX_BUF_SIZE - r->tail;
		if ((off_t)want > r->end - at)
			want = (size_t)(r->end - at);
		ssize_t k = pread(r->fd, r->buf + r->tail, want, at);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0) {
			r->end = at; /* shrank under us */
			break;
		}
		r->tail += (size_t)k;
	}
	return (ssize_t)r->tail;
}

/* Look at the line at r->pos: *eof, or whether it is empty and whether
 * it starts with "From ".  Returns 0, or -1 (errno set). */
static int rd_peek_line(struct rd *r, bool *eof, bool *empty, bool *from)
{
	ssize_t n = rd_fill(r, 6);
	if (n < 0)
		return -1;
	const char *p = r->buf + r->head;
	*eof = n == 0;
	*empty = n > 0 &&
		 (p[0] == '\n' || (n > 1 && p[0] == '\r' && p[1] == '\n'));
	*from = n >= 5 && memcmp(p, "From ", 5) == 0;
	return 0;
}

/*
 * The "From " line at r->pos follows an empty line: it starts a message
 * unless the line after it is there, complete, and not a header field
 * ("Name:") — as with "From Russia with love" in the body of an mboxo
 * file that never escaped it.  When in doubt (a long line, a file still
 * being written) it does.  Returns 1, 0, or -1 (errno set).
 */
static int rd_starts_message(struct rd *r)
{
	ssize_t n = rd_fill(r, MBOX_LOOKAHEAD);
	if (n < 0)
		return -1;
	/* No further than that, however much is buffered: the answer must
	 * not depend on where reading started (a cursor resumes mid-file). */
	if (n > MBOX_LOOKAHEAD)
		n = MBOX_LOOKAHEAD;
	const char *p = r->buf + r->head, *end = p + n;
	const char *nl = memchr(p, '\n', (size_t)n);
	if (!nl)
		return 1;
	const char *q = nl + 1;
	if (!memchr(q, '\n', (size_t)(end - q)))
		return 1; /* the next line is not all there */
	const char *name = q;
	while (q<end && * q> ' ' && *q < 0x7f && *q != ':')
		q++;
	if (q == name)
		return 0;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	return q < end && *q == ':';
}

/* Consume the line at r->pos through its '\n' (or the end), hashing it
 * into *hash when not NULL and appending to keep while keep has fewer
 * than MAILSRC_HEADER_MAX bytes.  Returns 0, or -1 (errno set). */
static int rd_line(struct rd *r, uint64_t *hash, strbuf_t *keep)
{
	for (;;) {
		ssize_t avail = rd_fill(r, 1);
		if (avail < 0)
			return -1;
		if (avail == 0)
			return 0;
		const char *p = r->buf + r->head;
		const char *nl = memchr(p, '\n', (size_t)avail);
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)avail;
		if (hash)
			*hash = hash64_more(*hash, p, n);
		if (keep && keep->len < MAILSRC_HEADER_MAX) {
			size_t k = MAILSRC_HEADER_MAX - keep->len;
			sb_add(keep, p, n < k ? n : k);
		}
		r->head += n;
		r->pos += (off_t)n;
		if (nl)
			return 0;
	}
}

/* FNV-1a of the bytes [from, to) of the file.  Returns 0, or -1. */
static int hash_range(struct rd *r, off_t from, off_t to, uint64_t *out)
{
	uint64_t h = hash64("", 0);
	rd_seek(r, from);
	while (r->pos < to) {
		ssize_t avail = rd_fill(r, 1);
		if (avail <= 0)
			return -1; /* shorter than it was */
		size_t n = (size_t)avail;
		if ((off_t)n > to - r->pos)
			n = (size_t)(to - r->pos);
		h = hash64_more(h, r->buf + r->head, n);
		r->head += n;
		r->pos += (off_t)n;
	}
	*out = h;
	return 0;
}

/* ---- the cursor ----------------------------------------------------- */

static bool parse_cursor(const char *s, struct mbox_pos *p)
{
	char hex[17];
	int used = 0;
	if (!s ||
	    sscanf(s, "mbox1 %lld %lld.%ld %lld %lld %16[0-9a-f]%n", &p->size,
		   &p->mt_sec, &p->mt_nsec, &p->off, &p->last_start, hex,
		   &used) != 6 ||
	    s[used] != '\0')
		return false;
	if (p->size < 0 || p->off < 0 || p->off > p->size ||
	    p->last_start < 0 || p->last_start > p->off)
		return false;
	p->last_hash = strtoull(hex, NULL, 16);
	return true;
}

static double mbox_progress(const void *state)
{
	const struct mbox_state *s = state;
	if (s->done || s->rd.end <= 0)
		return 1.0;
	return (double)s->rd.pos / (double)s->rd.end;
}

static char *mbox_cursor(const void *state)
{
	const struct mbox_state *s = state;
	const struct mbox_pos *p = &s->cur;
	char hex[17];
	hash64_hex(p->last_hash, hex);
	return xasprintf("mbox1 %lld %lld.%09ld %lld %lld %s", p->size,
			 p->mt_sec, p->mt_nsec, p->off, p->last_start, hex);
}

/* ---- ops ------------------------------------------------------------ */

static void mbox_close(void *state)
{
	struct mbox_state *s = state;
	if (!s)
		return;
	if (s->rd.fd >= 0)
		close(s->rd.fd);
	free(s->rd.buf);
	free(s->path);
	free(s->where);
	sb_free(&s->hdr);
	free(s);
}

static status_t mbox_open(const mailsrc_spec_t *spec, void **state, err_t *err)
{
	const char *path = spec->path, *cursor = spec->cursor;
	mailsrc_seen_fn seen = spec->seen;
	void *seen_ctx = spec->seen_ctx;
	status_t st = ST_OK;
	struct mbox_state *s = NULL;
	struct stat sb;
	struct mbox_pos old;
	err_t oerr = {0};
	(void)seen; /* mbox messages have no key */
	(void)seen_ctx;

	*state = NULL;
	s = xcalloc(1, sizeof *s);
	/* A FIFO or a device is ST_DATAERR, not a wait without end. */
	s->rd.fd = open_regular(path, O_NOATIME, &sb, &oerr);
	if (s->rd.fd < 0) {
		st = err_set(err, oerr.status, "%s", oerr.msg);
		goto done;
	}
	s->path = xstrdup(path);
	s->rd.buf = xmalloc(MBOX_BUF_SIZE);
	s->rd.end = sb.st_size;
	s->cur.size = (long long)sb.st_size;
	s->cur.mt_sec = (long long)sb.st_mtim.tv_sec;
	s->cur.mt_nsec = sb.st_mtim.tv_nsec;
	s->cur.last_hash = hash64("", 0);
	s->prev_empty = true;

	/* The first line must be a "From " line, after an optional BOM. */
	off_t start = 0;
	ssize_t n = rd_fill(&s->rd, 8);
	if (n < 0) {
		st = err_set(err, ST_IOERR, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (n >= 3 && memcmp(s->rd.buf, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	if (n > 0 &&
	    (n - start < 5 || memcmp(s->rd.buf + start, "From ", 5) != 0)) {
		st = err_set(
			err, ST_DATAERR,
			"%s: not an mbox (does not start with a From line)",
			path);
		goto done;
	}
	rd_seek(&s->rd, start);
	s->first = start;
	if (n == 0) {
		s->done = true;
		goto done;
	}

	if (!parse_cursor(cursor, &old))
		goto done;
	if (old.size == s->cur.size && old.mt_sec == s->cur.mt_sec &&
	    old.mt_nsec == s->cur.mt_nsec && old.off == old.size) {
		s->cur = old;
		s->done = true;
		goto done;
	}
	uint64_t h;
	if (old.off > 0 && s->cur.size >= old.size &&
	    hash_range(&s->rd, old.last_start, old.off, &h) == 0 &&
	    h == old.last_hash) {
		s->cur.off = old.off;
		s->cur.last_start = old.last_start;
		s->cur.last_hash = old.last_hash;
		rd_seek(&s->rd, old.off);
		goto done;
	}
	rd_seek(&s->rd, start);
done:
	if (st != ST_OK) {
		mbox_close(s);
		s = NULL;
	}
	*state = s;
	return st;
}

static int mbox_next(void *state, mailsrc_item_t *item, err_t *err)
{
	struct mbox_state *s = state;
	struct rd *r = &s->rd;
	bool eof, empty, from;

	if (s->done)
		return 0;

	/* To the next "From " line that starts a message. */
	for (;;) {
		if (rd_peek_line(r, &eof, &empty, &from) < 0)
			goto ioerr;
		if (eof) {
			s->done = true;
			return 0;
		}
		if (s->prev_empty && from) {
			int k = r->pos == s->first ? 1 : rd_starts_message(r);
			if (k < 0)
				goto ioerr;
			if (k)
				break;
		}
		if (rd_line(r, NULL, NULL) < 0)
			goto ioerr;
		s->prev_empty = empty;
	}
	off_t start = r->pos;
	uint64_t h = hash64("", 0);
	if (rd_line(r, &h, NULL) < 0) /* the envelope line */
		goto ioerr;

	/* The header block, through its empty line. */
	s->hdr.len = 0;
	s->prev_empty = false;
	for (;;) {
		if (rd_peek_line(r, &eof, &empty, &from) < 0)
			goto ioerr;
		if (eof)
			break;
		if (rd_line(r, &h, &s->hdr) < 0)
			goto ioerr;
		if (empty) {
			s->prev_empty = true;
			break;
		}
	}

	/* The body, to the next message or the end. */
	for (;;) {
		if (rd_peek_line(r, &eof, &empty, &from) < 0)
			goto ioerr;
		if (eof)
			break;
		if (s->prev_empty && from) {
			int k = rd_starts_message(r);
			if (k < 0)
				goto ioerr;
			if (k)
				break;
		}
		if (rd_line(r, &h, NULL) < 0)
			goto ioerr;
		s->prev_empty = empty;
	}

	s->cur.off = (long long)r->pos;
	s->cur.last_start = (long long)start;
	s->cur.last_hash = h;
	free(s->where);
	s->where = xasprintf("%s@%lld", s->path, (long long)start);
	item->key = NULL;
	item->where = s->where;
	item->header = sb_str(&s->hdr);
	item->header_len = s->hdr.len;
	item->error = NULL;
	return 1;
ioerr:
	err_set(err, ST_IOERR, "%s@%lld: %s", s->path, (long long)r->pos,
		strerror(errno));
	s->done = true;
	return -1;
}

const struct mailsrc_ops mailsrc_mbox_ops = {
	.open = mbox_open,
	.next = mbox_next,
	.cursor = mbox_cursor,
	.progress = mbox_progress,
	.close = mbox_close,
};
