/* Fuzz target: Maildir file names.  Each line of the input is one name
 * after a first byte that picks new/ ('n') or cur/ (anything else).
 * mailsrc_maildir_key must keep the key of a name whatever info and flags
 * follow it (a message that moves from new/ to cur/ or is flagged stays the
 * same message); and the Maildir backend, over a Maildir holding files of those
 * names, must yield each key once, from cur/ when it is there, asking seen()
 * about every name's key (once per reading of its directory) and
 * skipping what it says was seen: with the window of a large folder and
 * with one of a few names, read many times, in the same order.  Built for
 * libFuzzer with -DDIGEST_FUZZ=ON (clang); replay.c runs it over files in the
 * ordinary test suite. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailsrc_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 64
#define HEADER    "Subject: x\n\n"

static const char *const dirs[2] = {"cur", "new"};

struct file {
	int dir;
	char *name;
	char *key; /* NULL: the backend skips it */
	int seen;  /* times seen() was asked about its key */
	int yielded;
};

static struct file files[MAX_NAMES];
static size_t nfiles;

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_maildir: %s\n", what);
		abort();
	}
}

static char *root_path;

static void root_remove(void)
{
	for (int i = 0; i < 2; i++) {
		char *d = xasprintf("%s/%s", root_path, dirs[i]);
		rmdir(d);
		free(d);
	}
	rmdir(root_path);
}

/* A Maildir of our own for the whole run, emptied after each input. */
static const char *maildir(void)
{
	char *path;
	if (root_path)
		return root_path;
	/* tmpfs when there is one: a file system on disk makes the
	 * fuzzer five times slower. */
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	path = xasprintf("%s/digest-fuzz-maildir-XXXXXX", tmp);
	check(mkdtemp(path) != NULL, "mkdtemp");
	for (int i = 0; i < 2; i++) {
		char *d = xasprintf("%s/%s", path, dirs[i]);
		check(mkdir(d, 0700) == 0, "mkdir");
		free(d);
	}
	root_path = path;
	atexit(root_remove);
	return path;
}

static void check_key(const char *name)
{
	char *key = mailsrc_maildir_key(name);
	if (!key) {
		size_t n = strcspn(name, ":");
		const char *bang = strstr(name, "!2,");
		check(name[0] == '.' || n == 0 || bang == name,
		      "a name with a key skipped");
		return;
	}
	size_t n = strlen(key);
	check(n > 0 && strncmp(name, key, n) == 0, "key not a prefix");
	check(!strchr(key, ':') && !strstr(key, "!2,"), "key holds info");
	check(name[n] == '\0' || name[n] == ':' ||
		      strncmp(name + n, "!2,", 3) == 0,
	      "key cut before the info");
	/* The same message delivered to new/, then seen and flagged. */
	static const char *const info[] = {"",       ":2,",  ":2,S",
					   ":2,FRS", "!2,S", ":1,x"};
	for (size_t i = 0; i < sizeof info / sizeof info[0]; i++) {
		char *moved = xasprintf("%s%s", key, info[i]);
		char *k = mailsrc_maildir_key(moved);
		check(k && strcmp(k, key) == 0, "key changes with the flags");
		free(k);
		free(moved);
	}
	free(key);
}

static bool seen(void *ctx, const char *key)
{
	(void)ctx;
	bool any = false;
	for (size_t i = 0; i < nfiles; i++)
		if (files[i].key && strcmp(files[i].key, key) == 0) {
			files[i].seen++;
			any = true;
		}
	check(any, "seen() asked about an unknown key");
	/* Some keys were taken by an earlier run. */
	return hash64(key, strlen(key)) % 3 == 0;
}

/* The file the backend should yield for key: the first name by strcmp
 * in cur/ holding it, else in new/. */
static const struct file *expected(const char *key)
{
	const struct file *best = NULL;
	for (size_t i = 0; i < nfiles; i++) {
		const struct file *f = &files[i];
		if (!f->key || strcmp(f->key, key) != 0)
			continue;
		if (!best || f->dir < best->dir ||
		    (f->dir == best->dir && strcmp(f->name, best->name) < 0))
			best = f;
	}
	return best;
}

/* window: mailsrc_maildir_window for this walk; the paths yielded are
 * pushed to order. */
static void check_backend(const char *root, size_t window, strvec_t *order)
{
	mailsrc_t *src = NULL;
	mailsrc_item_t it;
	err_t err;
	int r;

	for (size_t i = 0; i < nfiles; i++)
		files[i].seen = files[i].yielded = 0;
	size_t saved = mailsrc_maildir_window;
	mailsrc_maildir_window = window;
	check(mailsrc_open(MAILSRC_MAILDIR, root, NULL, seen, NULL, &src,
			   &err) == ST_OK,
	      "open");
	while ((r = mailsrc_next(src, &it, &err)) == 1) {
		check(it.key && it.header && !it.error, "item without header");
		check(it.header_len == strlen(HEADER) &&
			      memcmp(it.header, HEADER, it.header_len) == 0,
		      "wrong header");
		const struct file *e = expected(it.key);
		check(e != NULL, "an unknown key yielded");
		char *where =
			xasprintf("%s/%s/%s", root, dirs[e->dir], e->name);
		check(strcmp(where, it.where) == 0, "the wrong copy yielded");
		strvec_take(order, where);
		((struct file *)e)->yielded++;
	}
	check(r == 0, "read error");
	mailsrc_close(src);
	mailsrc_maildir_window = saved;

	for (size_t i = 0; i < nfiles; i++) {
		const struct file *f = &files[i];
		if (!f->key)
			continue;
		const struct file *e = expected(f->key);
		/* seen() counted in every file of the key: once for each
		 * in a folder read once, at each reading of its directory
		 * when the window is smaller */
		int names = 0;
		for (size_t j = 0; j < nfiles; j++)
			names += files[j].key &&
				 strcmp(files[j].key, f->key) == 0;
		check(window < MAX_NAMES ? f->seen >= names : f->seen == names,
		      "seen() not asked once per name and reading");
		bool skip = hash64(f->key, strlen(f->key)) % 3 == 0;
		check(f->yielded == (f == e && !skip),
		      "a key not yielded once");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *root = maildir();
	char *buf = xmalloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';

	nfiles = 0;
	for (char *line = buf, *next; line && nfiles < MAX_NAMES; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line)
			continue;
		int dir = line[0] == 'n';
		const char *name = line + 1;
		check_key(name);
		/* What cannot be a file name in a directory. */
		if (!*name || strchr(name, '/') || strlen(name) > 200 ||
		    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		char *path = xasprintf("%s/%s/%s", root, dirs[dir], name);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		free(path);
		if (fd < 0) {
			check(errno == EEXIST, "create");
			continue; /* the same name twice */
		}
		check(write(fd, HEADER, strlen(HEADER)) ==
			      (ssize_t)strlen(HEADER),
		      "write");
		close(fd);
		files[nfiles++] = (struct file){
			dir, xstrdup(name), mailsrc_maildir_key(name), 0, 0};
	}
	/* A small window yields what one reading of the folder yields, in
	 * the same order. */
	strvec_t whole = {0}, windows = {0};
	check_backend(root, mailsrc_maildir_window, &whole);
	check_backend(root, 1 + size % 5, &windows);
	check(whole.n == windows.n, "windows yield another count");
	for (size_t i = 0; i < whole.n; i++)
		check(strcmp(whole.v[i], windows.v[i]) == 0,
		      "windows yield another order");
	strvec_free(&whole);
	strvec_free(&windows);

	for (size_t i = 0; i < nfiles; i++) {
		char *path = xasprintf("%s/%s/%s", root, dirs[files[i].dir],
				       files[i].name);
		check(unlink(path) == 0, "unlink");
		free(path);
		free(files[i].name);
		free(files[i].key);
	}
	free(buf);
	return 0;
}
