/* Fuzz target: the mbox backend (mbox.c) on arbitrary file contents,
 * written to a memfd and opened through /proc/self/fd.  One pass reads
 * every message and takes the cursor after each; opening again with each
 * of those cursors must yield exactly the rest of the first pass, as the
 * ops contract in mailsrc_priv.h promises: a split that depends on where
 * reading resumed would lose or repeat mail.  Each header handed out
 * must be the bytes after its "From " line in the file.  Built for
 * libFuzzer with -DDIGEST_FUZZ=ON (clang); replay.c runs it over files
 * in the ordinary test suite. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mailsrc_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The cursors checked per input: each costs a pass over the rest. */
#define MAX_RESUMES 32

struct msg {
	long long off; /* of its "From " line */
	char *header;
	size_t len;
	char *cursor; /* after it */
};

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_mbox: %s\n", what);
		abort();
	}
}

/* Read path from cursor to the end into *out; returns how many, or -1
 * when it cannot be opened. */
static long read_all(const char *path, const char *cursor, struct msg **out,
		     const uint8_t *data, size_t size)
{
	mailsrc_t *src = NULL;
	mailsrc_item_t it;
	err_t err;
	struct msg *m = NULL;
	long n = 0;
	int r;

	*out = NULL;
	if (mailsrc_open(MAILSRC_MBOX, path, cursor, NULL, NULL, &src, &err))
		return -1;
	while ((r = mailsrc_next(src, &it, &err)) == 1) {
		const char *at = strrchr(it.where, '@');
		check(at && it.header && !it.error, "item without header");
		check(it.header_len <= MAILSRC_HEADER_MAX, "header too long");
		m = xrealloc(m, (size_t)(n + 1) * sizeof *m);
		m[n].off = strtoll(at + 1, NULL, 10);
		check(m[n].off >= 0 && (size_t)m[n].off < size &&
			      (n == 0 || m[n].off > m[n - 1].off),
		      "offsets out of order");
		check(size - (size_t)m[n].off >= 5 &&
			      memcmp(data + m[n].off, "From ", 5) == 0,
		      "message not at a From line");
		const uint8_t *nl =
			memchr(data + m[n].off, '\n', size - (size_t)m[n].off);
		size_t h = nl ? (size_t)(nl - data) + 1 : size;
		check(it.header_len <= size - h &&
			      memcmp(data + h, it.header, it.header_len) == 0,
		      "header is not the bytes after the From line");
		m[n].header = xmalloc(it.header_len + 1);
		memcpy(m[n].header, it.header, it.header_len);
		m[n].len = it.header_len;
		m[n].cursor = mailsrc_cursor(src);
		n++;
	}
	check(r == 0, "read error on a memfd");
	mailsrc_close(src);
	*out = m;
	return n;
}

static void msgs_free(struct msg *m, long n)
{
	for (long i = 0; i < n; i++) {
		free(m[i].header);
		free(m[i].cursor);
	}
	free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("digest-fuzz-mbox", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

	struct msg *all = NULL;
	long n = read_all(path, NULL, &all, data, size);
	for (long i = 0; i < n && i < MAX_RESUMES; i++) {
		struct msg *rest = NULL;
		long k = read_all(path, all[i].cursor, &rest, data, size);
		check(k == n - 1 - i, "resumed pass yields another count");
		for (long j = 0; j < k; j++) {
			const struct msg *a = &all[i + 1 + j], *b = &rest[j];
			check(a->off == b->off && a->len == b->len &&
				      memcmp(a->header, b->header, a->len) == 0,
			      "resumed pass yields other messages");
		}
		msgs_free(rest, k);
	}
	msgs_free(all, n);
	close(fd);
	return 0;
}
