/*
 * test_mailsrc — the Maildir and mbox backends behind mailsrc_open/next:
 * what they yield, seen() skipping, cursors (the no-change fast path,
 * resuming an mbox after an append, restarting after a rewrite), errors,
 * what is not a message (FIFOs, directories, dangling links: yielded with
 * why, never waited on), and that reading leaves every byte, name and
 * mtime of the mail as it was.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mailsrc_priv.h"
#include "testlib.h"

/* ---- helpers -------------------------------------------------------- */

static char *tmpdir_new(void)
{
	return test_tmpdir("mailsrc");
}

static void tmpdir_free(char *dir)
{
	test_rmtree(dir);
	free(dir);
}

static char *path_of(const char *dir, const char *rel)
{
	return xasprintf("%s/%s", dir, rel);
}

static void write_at(const char *dir, const char *rel, const char *data,
		     size_t n, const char *mode)
{
	char *p = path_of(dir, rel);
	FILE *f = fopen(p, mode);
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static void put(const char *dir, const char *rel, const char *data)
{
	write_at(dir, rel, data, strlen(data), "wb");
}

static void append(const char *dir, const char *rel, const char *data)
{
	write_at(dir, rel, data, strlen(data), "ab");
}

static void mkdir_at(const char *dir, const char *rel)
{
	char *p = path_of(dir, rel);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
}

/* Set the mtime (and atime) of dir/rel to `ago` seconds before now. */
static void age(const char *dir, const char *rel, int ago)
{
	char *p = path_of(dir, rel);
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= ago;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
}

/* Every entry under a tree, with what must never change: name, type,
 * size, mtime and (files) a hash of the content.  atime left out. */
static strvec_t snap;
static size_t snap_root;

static int snap_one(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	char hex[17] = "-";
	if (S_ISREG(sb->st_mode)) {
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		char *buf = malloc((size_t)sb->st_size + 1);
		size_t n = fread(buf, 1, (size_t)sb->st_size, f);
		fclose(f);
		hash64_hex(hash64(buf, n), hex);
		free(buf);
	}
	strvec_take(&snap,
		    xasprintf("%s %o %lld %lld.%09ld %s", path + snap_root,
			      (unsigned)sb->st_mode, (long long)sb->st_size,
			      (long long)sb->st_mtim.tv_sec,
			      (long)sb->st_mtim.tv_nsec, hex));
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *snapshot(const char *dir)
{
	strbuf_t b = {0};
	snap_root = strlen(dir);
	assert_int_equal(nftw(dir, snap_one, 16, FTW_PHYS), 0);
	qsort(snap.v, snap.n, sizeof *snap.v, str_cmp);
	for (size_t i = 0; i < snap.n; i++) {
		sb_puts(&b, snap.v[i]);
		sb_putc(&b, '\n');
	}
	strvec_free(&snap);
	return sb_steal(&b);
}

/* What one pass over a source yielded. */
typedef struct {
	strvec_t keys; /* key or "-" */
	strvec_t wheres;
	strvec_t headers; /* header block or "(error: ...)" */
	char *cursor;     /* mailsrc_cursor at the end */
} pass_t;

static void pass_free(pass_t *p)
{
	strvec_free(&p->keys);
	strvec_free(&p->wheres);
	strvec_free(&p->headers);
	free(p->cursor);
	memset(p, 0, sizeof *p);
}

/* Open, read up to max items (0 = all), take the cursor, close. */
static status_t run_pass(mailsrc_kind_t kind, const char *path,
			 const char *cursor, mailsrc_seen_fn seen, void *ctx,
			 size_t max, pass_t *p)
{
	mailsrc_t *src = NULL;
	err_t err = {0};
	memset(p, 0, sizeof *p);
	status_t st = mailsrc_open(kind, path, cursor, seen, ctx, &src, &err);
	if (st != ST_OK) {
		assert_null(src);
		assert_true(err.msg[0] != '\0');
		return st;
	}
	mailsrc_item_t it;
	int r;
	double done = 0;
	while ((max == 0 || p->keys.n < max) &&
	       (r = mailsrc_next(src, &it, &err)) == 1) {
		/* progress never goes back, and is 1 at the end */
		double now = mailsrc_progress(src);
		assert_true(now >= done && now <= 1.0);
		done = now;
		strvec_push(&p->keys, it.key ? it.key : "-");
		assert_non_null(it.where);
		strvec_push(&p->wheres, it.where);
		if (it.header) {
			assert_null(it.error);
			strvec_take(&p->headers,
				    xstrndup(it.header, it.header_len));
		} else {
			assert_non_null(it.error);
			strvec_take(&p->headers,
				    xasprintf("(error: %s)", it.error));
		}
	}
	if (max == 0 || p->keys.n < max) {
		assert_int_equal(r, 0);
		assert_true(mailsrc_progress(src) == 1.0);
	}
	p->cursor = mailsrc_cursor(src);
	assert_non_null(p->cursor);
	mailsrc_close(src);
	return ST_OK;
}

static bool header_has(const char *hdr, const char *field_addr)
{
	mailsrc_header_t h = {0};
	mailsrc_parse_header(hdr, strlen(hdr), false, &h);
	bool found = false;
	for (size_t i = 0; i < h.nrcpt; i++)
		if (strcmp(h.rcpt[i].addr, field_addr) == 0)
			found = true;
	mailsrc_header_clear(&h);
	return found;
}

/* ---- Maildir -------------------------------------------------------- */

#define MSG(to)                                                                \
	"From: Me <me@example.com>\n"                                          \
	"To: " to "\n"                                                         \
	"Date: Tue, 1 Jul 2003 10:52:37 +0200\n"                               \
	"Subject: hello\n"                                                     \
	"\n"                                                                   \
	"BODY-MARKER To: body@example.com\n"

/* A Maildir with nothing in it.  Caller frees (tmpdir_free). */
static char *empty_maildir(void)
{
	char *d = tmpdir_new();
	mkdir_at(d, "cur");
	mkdir_at(d, "new");
	mkdir_at(d, "tmp");
	return d;
}

static char *make_maildir(void)
{
	char *d = empty_maildir();
	put(d, "cur/1000.a.host:2,S", MSG("a@example.com"));
	put(d, "cur/1001.b.host:2,RS", MSG("b@example.com"));
	put(d, "cur/1003.d.host!2,S", MSG("d@example.com")); /* mu */
	put(d, "cur/.hidden", MSG("hidden@example.com"));
	put(d, "new/1002.c.host", MSG("c@example.com"));
	put(d, "new/1001.b.host", MSG("dup@example.com")); /* also in cur */
	put(d, "tmp/1004.e.host", MSG("tmp@example.com"));
	/* a header that needs more than one read, and no body */
	strbuf_t b = {0};
	sb_puts(&b, "From: me@example.com\nTo: big@example.com\n");
	for (int i = 0; i < 400; i++)
		sb_printf(&b, "X-Filler-%03d: %s\n", i,
			  "0123456789012345678901234567890123456789");
	put(d, "cur/1005.big.host:2,", b.s);
	sb_free(&b);
	return d;
}

/* The Maildir at d, opened from the start with nothing seen. */
static mailsrc_t *open_maildir(const char *d)
{
	mailsrc_t *src = NULL;
	err_t err = {0};
	assert_int_equal(
		mailsrc_open(MAILSRC_MAILDIR, d, NULL, NULL, NULL, &src, &err),
		ST_OK);
	return src;
}

static void test_maildir_walk(void **state)
{
	(void)state;
	char *d = make_maildir();
	age(d, "cur", 100);
	age(d, "new", 100);
	char *before = snapshot(d);

	pass_t p;
	assert_int_equal(run_pass(MAILSRC_MAILDIR, d, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 5);
	assert_string_equal(p.keys.v[0], "1000.a.host");
	assert_string_equal(p.keys.v[1], "1001.b.host");
	assert_string_equal(p.keys.v[2], "1003.d.host");
	assert_string_equal(p.keys.v[3], "1005.big.host");
	assert_string_equal(p.keys.v[4], "1002.c.host");
	char *w = path_of(d, "cur/1001.b.host:2,RS");
	assert_string_equal(p.wheres.v[1], w);
	free(w);
	assert_true(header_has(p.headers.v[0], "a@example.com"));
	assert_true(header_has(p.headers.v[1], "b@example.com"));
	assert_true(header_has(p.headers.v[4], "c@example.com"));
	for (size_t i = 0; i < p.headers.n; i++) {
		assert_null(strstr(p.headers.v[i], "BODY-MARKER"));
		assert_null(strstr(p.headers.v[i], "tmp@example.com"));
		assert_null(strstr(p.headers.v[i], "hidden@example.com"));
	}
	assert_true(strlen(p.headers.v[3]) > 16000);
	assert_true(header_has(p.headers.v[3], "big@example.com"));
	assert_true(str_starts(p.cursor, "maildir1 "));
	pass_free(&p);

	/* nothing changed: bytes, names, sizes, mtimes; no maildirfolder */
	char *after = snapshot(d);
	assert_string_equal(before, after);
	free(before);
	free(after);
	tmpdir_free(d);
}

struct seen_ctx {
	strvec_t asked;
	const char *skip;
};

static bool seen_cb(void *ctx, const char *key)
{
	struct seen_ctx *c = ctx;
	strvec_push(&c->asked, key);
	return c->skip && strcmp(key, c->skip) == 0;
}

static void test_maildir_seen(void **state)
{
	(void)state;
	char *d = make_maildir();
	struct seen_ctx c = {.skip = "1001.b.host"};
	pass_t p;
	assert_int_equal(run_pass(MAILSRC_MAILDIR, d, NULL, seen_cb, &c, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 4);
	assert_false(strvec_contains(&p.keys, "1001.b.host"));
	/* once for each name: 1001.b.host is in cur/ and new/ */
	assert_int_equal(c.asked.n, 6);
	assert_true(strvec_contains(&c.asked, "1001.b.host"));
	assert_false(strvec_contains(&c.asked, "1004.e.host"));
	assert_false(strvec_contains(&c.asked, ".hidden"));
	pass_free(&p);
	strvec_free(&c.asked);
	tmpdir_free(d);
}

static void test_maildir_cursor(void **state)
{
	(void)state;
	char *d = make_maildir();
	pass_t p, q;

	/* A cursor is only given once the walk is complete. */
	assert_int_equal(run_pass(MAILSRC_MAILDIR, d, NULL, NULL, NULL, 2, &p),
			 ST_OK);
	assert_string_equal(p.cursor, "");
	pass_free(&p);

	/* Fresh mtimes: the same cursor does not skip the walk (a message
	 * may have come in the same clock tick). */
	age(d, "cur", -5);
	age(d, "new", -5);
	assert_int_equal(run_pass(MAILSRC_MAILDIR, d, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, d, p.cursor, NULL, NULL, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 5);
	pass_free(&q);
	pass_free(&p);

	/* Old mtimes, unchanged: nothing, even though seen() would say
	 * every message is new. */
	age(d, "cur", 100);
	age(d, "new", 100);
	assert_int_equal(run_pass(MAILSRC_MAILDIR, d, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 5);
	struct seen_ctx c = {0};
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, d, p.cursor, seen_cb, &c, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 0);
	assert_int_equal(c.asked.n, 0);
	assert_string_equal(q.cursor, p.cursor);
	pass_free(&q);

	/* A new message moves new/'s mtime: new/ is walked again, and only
	 * new/.  A file slipped into cur/ behind an mtime set back proves
	 * that cur/ was not listed. */
	put(d, "new/1006.f.host", MSG("f@example.com"));
	struct stat cur_sb;
	char *cur = path_of(d, "cur");
	assert_int_equal(stat(cur, &cur_sb), 0);
	put(d, "cur/1007.g.host:2,S", MSG("g@example.com"));
	struct timespec was[2] = {cur_sb.st_atim, cur_sb.st_mtim};
	assert_int_equal(utimensat(AT_FDCWD, cur, was, 0), 0);
	free(cur);
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, d, p.cursor, seen_cb, &c, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 3); /* what new/ holds; seen() says new */
	assert_true(strvec_contains(&q.keys, "1006.f.host"));
	assert_true(strvec_contains(&q.keys, "1002.c.host"));
	assert_false(strvec_contains(&q.keys, "1007.g.host"));
	assert_string_not_equal(q.cursor, p.cursor);
	pass_free(&q);

	/* cur/'s mtime moved: both walked. */
	age(d, "cur", 50);
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, d, p.cursor, seen_cb, &c, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 7);
	assert_true(strvec_contains(&q.keys, "1007.g.host"));
	pass_free(&q);

	/* Changed less than two seconds before the walk: the cursor says
	 * "~" for it, so a file delivered in the same clock tick (the mtime
	 * unmoved, as on a file system with whole-second times) is found
	 * by the next run. */
	pass_free(&p);
	char *curdir = path_of(d, "cur");
	struct timespec tick[2];
	clock_gettime(CLOCK_REALTIME, &tick[0]);
	tick[0].tv_sec -= 2; /* 1.8 s ago */
	tick[0].tv_nsec += 200000000;
	if (tick[0].tv_nsec >= 1000000000) {
		tick[0].tv_sec++;
		tick[0].tv_nsec -= 1000000000;
	}
	tick[1] = tick[0];
	assert_int_equal(utimensat(AT_FDCWD, curdir, tick, 0), 0);
	age(d, "new", 100);
	assert_int_equal(run_pass(MAILSRC_MAILDIR, d, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_non_null(strstr(p.cursor, " ~ "));
	put(d, "cur/1008.h.host:2,S", MSG("h@example.com"));
	assert_int_equal(utimensat(AT_FDCWD, curdir, tick, 0), 0);
	struct timespec pause = {0, 400000000}; /* now 2.2 s old */
	nanosleep(&pause, NULL);
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, d, p.cursor, seen_cb, &c, 0, &q),
		ST_OK);
	assert_true(strvec_contains(&q.keys, "1008.h.host"));
	assert_null(strstr(q.cursor, "~"));
	pass_free(&q);
	free(curdir);

	/* A cursor from something else means from the start. */
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, d, "garbage", NULL, NULL, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 8);
	pass_free(&q);
	pass_free(&p);
	strvec_free(&c.asked);
	tmpdir_free(d);
}

/* A Maildir of 30 keys: some in both cur/ and new/, some under two names
 * in cur/ (flags changed by a copy), some seen before. */
static char *make_big_maildir(void)
{
	char *d = tmpdir_new();
	mkdir_at(d, "cur");
	mkdir_at(d, "new");
	for (int i = 0; i < 30; i++) {
		char name[64], to[64];
		snprintf(to, sizeof to, "To: k%02d@example.com\n\n", i);
		snprintf(name, sizeof name, "%s/k%02d.host%s",
			 i % 5 == 4 ? "new" : "cur", i,
			 i % 5 == 4 ? "" : ":2,S");
		put(d, name, to);
		if (i % 3 == 0) { /* a second name, after the first */
			snprintf(name, sizeof name, "cur/k%02d.host:2,ST", i);
			put(d, name, to);
		}
		if (i % 4 == 1) { /* also in new/: cur/ wins */
			snprintf(name, sizeof name, "new/k%02d.host", i);
			put(d, name, to);
		}
	}
	return d;
}

struct count_ctx {
	size_t asked;
};

static bool seen_some(void *ctx, const char *key)
{
	((struct count_ctx *)ctx)->asked++;
	return strcmp(key, "k07.host") == 0 || strcmp(key, "k13.host") == 0;
}

static void assert_same_pass(const pass_t *a, const pass_t *b)
{
	assert_int_equal(a->keys.n, b->keys.n);
	for (size_t i = 0; i < a->keys.n; i++) {
		assert_string_equal(a->keys.v[i], b->keys.v[i]);
		assert_string_equal(a->wheres.v[i], b->wheres.v[i]);
		assert_string_equal(a->headers.v[i], b->headers.v[i]);
	}
	assert_string_equal(a->cursor, b->cursor);
}

/* A folder larger than the window is read a window at a time, and
 * yields what one reading of the whole folder yields, in the same
 * order. */
static void test_maildir_windows(void **state)
{
	(void)state;
	char *d = make_big_maildir();
	age(d, "cur", 100);
	age(d, "new", 100);
	char *before = snapshot(d);
	/* each key, second names in cur/, copies in new/ but k09 and k29,
	 * already there */
	size_t names = 30 + 10 + 6;

	pass_t all, p;
	struct count_ctx c = {0};
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, d, NULL, seen_some, &c, 0, &all),
		ST_OK);
	assert_int_equal(all.keys.n, 28);
	assert_int_equal(c.asked, names); /* one reading */
	char *w = path_of(d, "cur/k00.host:2,S");
	assert_string_equal(all.keys.v[0], "k00.host");
	assert_string_equal(all.wheres.v[0], w);
	free(w);
	w = path_of(d, "cur/k01.host:2,S");
	assert_string_equal(all.wheres.v[1], w);
	free(w);
	w = path_of(d, "cur/k09.host:2,ST"); /* k09 is in new/ too */
	assert_string_equal(all.wheres.v[7], w);
	free(w);
	/* cur/, then what only new/ holds */
	assert_string_equal(all.keys.v[23], "k28.host");
	w = path_of(d, "new/k04.host");
	assert_string_equal(all.wheres.v[24], w);
	free(w);

	size_t sizes[] = {1, 2, 3, 7, 15};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		mailsrc_maildir_window = sizes[i];
		c.asked = 0;
		assert_int_equal(run_pass(MAILSRC_MAILDIR, d, NULL, seen_some,
					  &c, 0, &p),
				 ST_OK);
		assert_same_pass(&all, &p);
		/* seen() is asked about every name at each reading, and
		 * cur/ is read more than once */
		assert_true(c.asked >= names + 34);
		pass_free(&p);
	}
	mailsrc_maildir_window = 16; /* cur/'s 32 not seen fit in 2 × 16 */
	c.asked = 0;
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, d, NULL, seen_some, &c, 0, &p),
		ST_OK);
	assert_same_pass(&all, &p);
	assert_int_equal(c.asked, names);
	pass_free(&p);

	char *after = snapshot(d);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* Names that change between readings: each key is still yielded
	 * once, and what came into cur/ below the windows walked is left to
	 * the next run (the mtimes moved). */
	mailsrc_maildir_window = 2;
	err_t err = {0};
	mailsrc_t *src = open_maildir(d);
	mailsrc_item_t it;
	strvec_t keys = {0};
	int r;
	while ((r = mailsrc_next(src, &it, &err)) == 1) {
		assert_false(strvec_contains(&keys, it.key));
		strvec_push(&keys, it.key);
		if (strcmp(it.key, "k00.host") == 0) {
			/* read: flagged again; not yet read: seen by a
			 * mail reader, new/ to cur/; delivered */
			char *a = path_of(d, "cur/k00.host:2,S");
			char *b = path_of(d, "cur/k00.host:2,SZ");
			assert_int_equal(rename(a, b), 0);
			free(a);
			free(b);
			a = path_of(d, "new/k14.host");
			b = path_of(d, "cur/k14.host:2,S");
			assert_int_equal(rename(a, b), 0);
			free(a);
			free(b);
			put(d, "cur/a.host:2,S", "To: below@example.com\n\n");
			put(d, "cur/z.host:2,S", "To: above@example.com\n\n");
			put(d, "new/b.host", "To: new@example.com\n\n");
		}
		if (strcmp(it.key, "k14.host") == 0) {
			w = path_of(d, "cur/k14.host:2,S");
			assert_string_equal(it.where, w);
			free(w);
		}
	}
	assert_int_equal(r, 0);
	mailsrc_close(src);
	assert_int_equal(keys.n, 32); /* 30, z.host and b.host */
	assert_true(strvec_contains(&keys, "k14.host"));
	assert_true(strvec_contains(&keys, "z.host"));
	assert_true(strvec_contains(&keys, "b.host"));
	assert_false(strvec_contains(&keys, "a.host"));
	strvec_free(&keys);

	mailsrc_maildir_window = 65536;
	pass_free(&all);
	tmpdir_free(d);
}

static void test_maildir_errors(void **state)
{
	(void)state;
	char *d = tmpdir_new();
	pass_t p;
	char *missing = path_of(d, "missing");
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, missing, NULL, NULL, NULL, 0, &p),
		ST_NOINPUT);
	free(missing);

	mkdir_at(d, "plain");
	put(d, "plain/file", MSG("x@example.com"));
	char *plain = path_of(d, "plain");
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, plain, NULL, NULL, NULL, 0, &p),
		ST_DATAERR);
	char *file = path_of(d, "plain/file");
	assert_int_equal(
		run_pass(MAILSRC_MAILDIR, file, NULL, NULL, NULL, 0, &p),
		ST_DATAERR);
	free(file);
	free(plain);

	/* Only new/ is enough; an unreadable message is yielded with its
	 * error, not a failure of the source. */
	mkdir_at(d, "md");
	mkdir_at(d, "md/new");
	put(d, "md/new/1.ok", MSG("ok@example.com"));
	char *loop = path_of(d, "md/new/2.loop");
	assert_int_equal(symlink(loop, loop), 0);
	free(loop);
	char *md = path_of(d, "md");
	assert_int_equal(run_pass(MAILSRC_MAILDIR, md, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 2);
	assert_true(header_has(p.headers.v[0], "ok@example.com"));
	assert_true(str_starts(p.headers.v[1], "(error: "));
	pass_free(&p);
	free(md);
	tmpdir_free(d);
}

/* What is not a message in cur/ or new/ is yielded with why, to be
 * warned about, and a FIFO is not waited on (SIGALRM ends a hang). */
static void test_maildir_not_files(void **state)
{
	(void)state;
	char *d = make_maildir();
	mkdir_at(d, "cur/1010.dir:2,S");
	char *fifo = path_of(d, "cur/1011.fifo:2,S");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	free(fifo);
	fifo = path_of(d, "new/1012.fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	free(fifo);
	char *to = path_of(d, "nowhere");
	char *link = path_of(d, "new/1013.dangling");
	assert_int_equal(symlink(to, link), 0);
	free(link);
	free(to);
	char *before = snapshot(d);

	pass_t p;
	alarm(10);
	assert_int_equal(run_pass(MAILSRC_MAILDIR, d, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	alarm(0);
	assert_int_equal(p.keys.n, 9);
	const char *const want[][2] = {
		{"1010.dir", "(error: Is a directory)"},
		{"1011.fifo", "(error: not a regular file (a FIFO))"},
		{"1012.fifo", "(error: not a regular file (a FIFO))"},
		{"1013.dangling", "(error: dangling symbolic link)"},
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		size_t j = 0;
		while (j < p.keys.n && strcmp(p.keys.v[j], want[i][0]) != 0)
			j++;
		assert_true(j < p.keys.n);
		assert_string_equal(p.headers.v[j], want[i][1]);
	}
	pass_free(&p);

	char *after = snapshot(d);
	assert_string_equal(before, after);
	free(before);
	free(after);
	tmpdir_free(d);
}

/* A file that turns into a FIFO or a directory after the listing (which
 * found a regular file) is said to be what it is now, and the walk goes
 * on; a FIFO is not read, though a writer has put something in it. */
static void test_maildir_changed_type(void **state)
{
	(void)state;
	char *d = empty_maildir();
	put(d, "cur/1.a:2,S", MSG("a@example.com"));
	put(d, "cur/2.fifo:2,S", MSG("b@example.com"));
	put(d, "cur/3.dir:2,S", MSG("c@example.com"));
	put(d, "cur/4.d:2,S", MSG("d@example.com"));
	err_t err = {0};
	mailsrc_t *src = open_maildir(d);
	mailsrc_item_t it;
	strvec_t got = {0};
	int r, fifo = -1;
	static const char fifo_msg[] = "From: x@example.com\n\n";
	alarm(10);
	while ((r = mailsrc_next(src, &it, &err)) == 1) {
		strvec_push(&got, it.error ? it.error : "ok");
		if (strcmp(it.key, "1.a") == 0) {
			char *f = path_of(d, "cur/2.fifo:2,S");
			assert_int_equal(unlink(f), 0);
			assert_int_equal(mkfifo(f, 0600), 0);
			fifo = open(f, O_RDWR | O_NONBLOCK);
			assert_true(fifo >= 0);
			assert_int_equal(
				write(fifo, fifo_msg, sizeof fifo_msg - 1),
				(ssize_t)(sizeof fifo_msg - 1));
			free(f);
			f = path_of(d, "cur/3.dir:2,S");
			assert_int_equal(unlink(f), 0);
			assert_int_equal(mkdir(f, 0700), 0);
			free(f);
		}
	}
	alarm(0);
	assert_int_equal(r, 0);
	mailsrc_close(src);
	/* still there for its reader */
	char left[64];
	assert_int_equal(read(fifo, left, sizeof left),
			 (ssize_t)(sizeof fifo_msg - 1));
	close(fifo);
	assert_int_equal(got.n, 4);
	assert_string_equal(got.v[0], "ok");
	assert_string_equal(got.v[1], "not a regular file (a FIFO)");
	assert_string_equal(got.v[2], "Is a directory");
	assert_string_equal(got.v[3], "ok");
	strvec_free(&got);
	tmpdir_free(d);
}

/* A Maildir that cannot be looked into says why, not "not a Maildir".
 * Root reads through any mode bits, so the error is a loop here. */
static void test_maildir_unreadable(void **state)
{
	(void)state;
	char *d = tmpdir_new();
	err_t err = {0};
	mailsrc_t *src = NULL;
	char *cur = path_of(d, "cur");
	assert_int_equal(symlink(cur, cur), 0);
	assert_int_equal(
		mailsrc_open(MAILSRC_MAILDIR, d, NULL, NULL, NULL, &src, &err),
		ST_IOERR);
	assert_null(src);
	char *want = xasprintf("%s: %s", cur, strerror(ELOOP));
	assert_string_equal(err.msg, want);
	free(want);
	free(cur);
	tmpdir_free(d);
}

/* ---- mbox ----------------------------------------------------------- */

#define MBOX_M1                                                                \
	"From me@example.com Tue Jul  1 10:52:37 2003\n"                       \
	"From: me@example.com\n"                                               \
	"To: one@example.com\n"                                                \
	"Message-ID: <m1@example.com>\n"                                       \
	"\n"                                                                   \
	"body one\n"                                                           \
	">From here, escaped (mboxrd)\n"                                       \
	"\n"
#define MBOX_M2                                                                \
	"From me@example.com Tue Jul  1 10:52:38 2003\n"                       \
	"From: me@example.com\n"                                               \
	"To: two@example.com\n"                                                \
	"Message-ID: <m2@example.com>\n"                                       \
	"\n"                                                                   \
	"body two\n"                                                           \
	"From the body, after a non-empty line (mboxo)\n"                      \
	"To: not-a-header@example.com\n"                                       \
	"\n"                                                                   \
	"From the body after an empty line, followed by text\n"                \
	"and more plain text, no field name\n"                                 \
	"\n"
#define MBOX_M3                                                                \
	"From me@example.com Tue Jul  1 10:52:39 2003\n"                       \
	"From: me@example.com\n"                                               \
	"To: three@example.com\n"                                              \
	"Message-ID: <m3@example.com>\n"                                       \
	"\n"                                                                   \
	"body three\n"                                                         \
	"\n"
#define MBOX_M4                                                                \
	"From me@example.com Tue Jul  1 10:52:40 2003\n"                       \
	"From: me@example.com\n"                                               \
	"To: four@example.com\n"                                               \
	"\n"                                                                   \
	"body four\n"                                                          \
	"\n"

static void test_mbox_read(void **state)
{
	(void)state;
	char *d = tmpdir_new();
	put(d, "sent", MBOX_M1 MBOX_M2 MBOX_M3);
	char *path = path_of(d, "sent");
	char *before = snapshot(d);
	pass_t p;
	assert_int_equal(run_pass(MAILSRC_MBOX, path, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 3);
	assert_true(header_has(p.headers.v[0], "one@example.com"));
	assert_true(header_has(p.headers.v[1], "two@example.com"));
	assert_true(header_has(p.headers.v[2], "three@example.com"));
	assert_false(header_has(p.headers.v[1], "not-a-header@example.com"));
	/* the header block after the envelope line, through its empty line */
	assert_true(str_starts(p.headers.v[0], "From: me@example.com\n"));
	assert_non_null(strstr(p.headers.v[0], "m1@example.com>\n\n"));
	assert_null(strstr(p.headers.v[0], "body"));
	assert_string_equal(p.keys.v[0], "-");
	char *w = xasprintf("%s@%zu", path, strlen(MBOX_M1 MBOX_M2));
	assert_string_equal(p.wheres.v[2], w);
	free(w);
	w = xasprintf("%s@0", path);
	assert_string_equal(p.wheres.v[0], w);
	free(w);
	pass_free(&p);
	char *after = snapshot(d); /* unchanged, and no .lock file */
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(path);
	tmpdir_free(d);
}

static void test_mbox_cursor(void **state)
{
	(void)state;
	char *d = tmpdir_new();
	put(d, "sent", MBOX_M1 MBOX_M2 MBOX_M3);
	char *path = path_of(d, "sent");
	pass_t p, q;

	assert_int_equal(run_pass(MAILSRC_MBOX, path, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 3);

	/* unchanged: nothing */
	assert_int_equal(
		run_pass(MAILSRC_MBOX, path, p.cursor, NULL, NULL, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 0);
	assert_string_equal(q.cursor, p.cursor);
	pass_free(&q);

	/* appended: only the new message */
	append(d, "sent", MBOX_M4);
	assert_int_equal(
		run_pass(MAILSRC_MBOX, path, p.cursor, NULL, NULL, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 1);
	assert_true(header_has(q.headers.v[0], "four@example.com"));
	pass_free(&p);
	p = q;

	/* rewritten (a message removed): from the start */
	put(d, "sent", MBOX_M1 MBOX_M3);
	assert_int_equal(
		run_pass(MAILSRC_MBOX, path, p.cursor, NULL, NULL, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 2);
	assert_true(header_has(q.headers.v[0], "one@example.com"));
	assert_true(header_has(q.headers.v[1], "three@example.com"));
	pass_free(&p);
	p = q;

	/* rewritten and grown, the last message changed: from the start */
	put(d, "sent", MBOX_M1 MBOX_M2 MBOX_M4);
	assert_int_equal(
		run_pass(MAILSRC_MBOX, path, p.cursor, NULL, NULL, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 3);
	pass_free(&q);
	pass_free(&p);

	/* a cursor taken half-way resumes after what was yielded */
	put(d, "sent", MBOX_M1 MBOX_M2 MBOX_M3);
	assert_int_equal(run_pass(MAILSRC_MBOX, path, NULL, NULL, NULL, 1, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 1);
	assert_int_equal(
		run_pass(MAILSRC_MBOX, path, p.cursor, NULL, NULL, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 2);
	assert_true(header_has(q.headers.v[0], "two@example.com"));
	assert_true(header_has(q.headers.v[1], "three@example.com"));
	pass_free(&q);
	pass_free(&p);

	/* a cursor that cannot be read: from the start */
	assert_int_equal(run_pass(MAILSRC_MBOX, path, "mbox1 nonsense", NULL,
				  NULL, 0, &q),
			 ST_OK);
	assert_int_equal(q.keys.n, 3);
	pass_free(&q);
	free(path);
	tmpdir_free(d);
}

static void test_mbox_growing(void **state)
{
	(void)state;
	char *d = tmpdir_new();
	char *path = path_of(d, "sent");
	pass_t p, q;
	/* the last message is still being written: EOF ends it */
	put(d, "sent",
	    MBOX_M1 "From me@example.com Tue Jul  1 10:52:41 2003\n"
		    "From: me@example.com\nTo: five@example.com\n\nhalf a bo");
	assert_int_equal(run_pass(MAILSRC_MBOX, path, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 2);
	assert_true(header_has(p.headers.v[1], "five@example.com"));
	append(d, "sent", "dy\n\n" MBOX_M3);
	assert_int_equal(
		run_pass(MAILSRC_MBOX, path, p.cursor, NULL, NULL, 0, &q),
		ST_OK);
	assert_int_equal(q.keys.n, 1);
	assert_true(header_has(q.headers.v[0], "three@example.com"));
	pass_free(&q);
	pass_free(&p);
	free(path);
	tmpdir_free(d);
}

static void test_mbox_forms(void **state)
{
	(void)state;
	char *d = tmpdir_new();
	pass_t p;

	char *missing = path_of(d, "missing");
	assert_int_equal(
		run_pass(MAILSRC_MBOX, missing, NULL, NULL, NULL, 0, &p),
		ST_NOINPUT);
	free(missing);

	put(d, "notmbox", "From: me@example.com\nTo: a@example.com\n\nhi\n");
	char *nm = path_of(d, "notmbox");
	assert_int_equal(run_pass(MAILSRC_MBOX, nm, NULL, NULL, NULL, 0, &p),
			 ST_DATAERR);
	free(nm);
	assert_int_equal(run_pass(MAILSRC_MBOX, d, NULL, NULL, NULL, 0, &p),
			 ST_DATAERR);

	put(d, "empty", "");
	char *em = path_of(d, "empty");
	assert_int_equal(run_pass(MAILSRC_MBOX, em, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 0);
	pass_free(&p);
	free(em);

	put(d, "bom", "\xef\xbb\xbf" MBOX_M1 MBOX_M2);
	char *bom = path_of(d, "bom");
	assert_int_equal(run_pass(MAILSRC_MBOX, bom, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 2);
	assert_true(header_has(p.headers.v[0], "one@example.com"));
	assert_true(str_starts(p.headers.v[0], "From: "));
	pass_free(&p);
	free(bom);

	put(d, "crlf",
	    "From a@b Tue Jul  1 10:52:37 2003\r\n"
	    "From: me@example.com\r\nTo: one@example.com\r\n\r\nbody\r\n\r\n"
	    "From a@b Tue Jul  1 10:52:38 2003\r\n"
	    "From: me@example.com\r\nTo: two@example.com\r\n\r\nbody\r\n");
	char *crlf = path_of(d, "crlf");
	assert_int_equal(run_pass(MAILSRC_MBOX, crlf, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 2);
	assert_true(header_has(p.headers.v[1], "two@example.com"));
	pass_free(&p);
	free(crlf);
	tmpdir_free(d);
}

/* A message bigger than the read buffer, with a long line. */
static void test_mbox_large(void **state)
{
	(void)state;
	char *d = tmpdir_new();
	char *path = path_of(d, "sent");
	strbuf_t b = {0};
	sb_puts(&b, MBOX_M1);
	sb_puts(&b, "From a@b Tue Jul  1 10:52:37 2003\nFrom: me@example.com\n"
		    "To: big@example.com\n\n");
	for (int i = 0; i < 300000; i++)
		sb_putc(&b, i % 1000 == 999 ? '\n' : 'x');
	for (int i = 0; i < 200000; i++)
		sb_putc(&b, 'y'); /* one long line */
	sb_puts(&b, "\n\n" MBOX_M3);
	put(d, "sent", b.s);
	sb_free(&b);
	pass_t p;
	assert_int_equal(run_pass(MAILSRC_MBOX, path, NULL, NULL, NULL, 0, &p),
			 ST_OK);
	assert_int_equal(p.keys.n, 3);
	assert_true(header_has(p.headers.v[1], "big@example.com"));
	assert_true(strlen(p.headers.v[1]) < 100);
	assert_true(header_has(p.headers.v[2], "three@example.com"));
	pass_free(&p);
	free(path);
	tmpdir_free(d);
}

/* The IMAP backend's reading of its AUTHENTICATE replies. */
/* An mbox that is a FIFO, a device or a directory is not mail data: an
 * error at once, not a wait for a writer nor a read without end. */
static void test_mbox_not_file(void **state)
{
	(void)state;
	char *d = tmpdir_new();
	char *fifo = path_of(d, "fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	const char *const paths[] = {fifo, "/dev/zero", d};
	const char *const why[] = {"not a regular file (a FIFO)",
				   "not a regular file (a character device)",
				   "Is a directory"};
	for (size_t i = 0; i < 3; i++) {
		err_t err = {0};
		mailsrc_t *src = NULL;
		alarm(10);
		assert_int_equal(mailsrc_open(MAILSRC_MBOX, paths[i], NULL,
					      NULL, NULL, &src, &err),
				 ST_DATAERR);
		alarm(0);
		assert_null(src);
		char *want = xasprintf("%s: %s", paths[i], why[i]);
		assert_string_equal(err.msg, want);
		free(want);
	}
	free(fifo);
	tmpdir_free(d);
}

static void test_imap_line(void **state)
{
	const char *t;

	(void)state;
	assert_int_equal(mailsrc_imap_line("+ ", "a1", &t), IMAP_LINE_CONTINUE);
	assert_string_equal(t, "");
	assert_int_equal(mailsrc_imap_line("+", "a1", &t), IMAP_LINE_CONTINUE);
	assert_int_equal(mailsrc_imap_line("+ eyJ9", "a1", &t),
			 IMAP_LINE_CONTINUE);
	assert_string_equal(t, "eyJ9");
	assert_int_equal(
		mailsrc_imap_line("a1 OK [CAPABILITY IMAP4rev1] in", "a1", &t),
		IMAP_LINE_OK);
	assert_string_equal(t, "[CAPABILITY IMAP4rev1] in");
	assert_int_equal(
		mailsrc_imap_line("a1 no [AUTHENTICATIONFAILED] x", "a1", &t),
		IMAP_LINE_NO);
	assert_string_equal(t, "[AUTHENTICATIONFAILED] x");
	assert_int_equal(mailsrc_imap_line("a1 BAD", "a1", &t), IMAP_LINE_NO);
	assert_string_equal(t, "");
	/* Not ours: untagged data, another tag, a tag that only starts
	 * like ours, an unknown status, a "+" that is not a continuation. */
	assert_int_equal(mailsrc_imap_line("* OK still here", "a1", &t),
			 IMAP_LINE_OTHER);
	assert_int_equal(mailsrc_imap_line("a2 OK", "a1", &t), IMAP_LINE_OTHER);
	assert_int_equal(mailsrc_imap_line("a10 OK", "a1", &t),
			 IMAP_LINE_OTHER);
	assert_int_equal(mailsrc_imap_line("a1 OKAY", "a1", &t),
			 IMAP_LINE_OTHER);
	assert_int_equal(mailsrc_imap_line("+x", "a1", &t), IMAP_LINE_OTHER);
	assert_int_equal(mailsrc_imap_line("", "a1", &t), IMAP_LINE_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maildir_walk),
		cmocka_unit_test(test_maildir_seen),
		cmocka_unit_test(test_maildir_windows),
		cmocka_unit_test(test_maildir_cursor),
		cmocka_unit_test(test_maildir_errors),
		cmocka_unit_test(test_maildir_not_files),
		cmocka_unit_test(test_maildir_changed_type),
		cmocka_unit_test(test_maildir_unreadable),
		cmocka_unit_test(test_mbox_read),
		cmocka_unit_test(test_mbox_cursor),
		cmocka_unit_test(test_mbox_growing),
		cmocka_unit_test(test_mbox_forms),
		cmocka_unit_test(test_mbox_large),
		cmocka_unit_test(test_mbox_not_file),
		cmocka_unit_test(test_imap_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
