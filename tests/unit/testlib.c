/*
 * testlib — see testlib.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw, mkdtemp */
#endif
#include "testlib.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#ifndef DIGEST_SOURCE_DIR
#error "tests/CMakeLists.txt passes DIGEST_SOURCE_DIR"
#endif
#ifndef DIGEST_SHARED_DIR
#error "tests/CMakeLists.txt passes DIGEST_SHARED_DIR"
#endif

static const char *tmp_root(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/tmp";
}

char *test_tmpdir(const char *tag)
{
	char *tmpl = xasprintf("%s/digest-%s.XXXXXX", tmp_root(), tag);

	if (!mkdtemp(tmpl)) {
		perror(tmpl);
		abort();
	}
	return tmpl;
}

static int rm_one(const char *path, const struct stat *sb, int type,
		  struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void test_rmtree(const char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_src_path(const char *rel)
{
	const char *src = getenv("DIGEST_SRC");

	return xasprintf("%s/%s", src && *src ? src : DIGEST_SOURCE_DIR, rel);
}

char *test_shared_path(const char *rel)
{
	const char *shared = getenv("DIGEST_SHARED");
	char *path = xasprintf(
		"%s/%s", shared && *shared ? shared : DIGEST_SHARED_DIR, rel);
	struct stat sb;

	if (stat(path, &sb) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

bool test_have_prog(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	bool found = false;

	if (!path)
		return false;
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *f = xasprintf("%s/%s", *dir ? dir : ".", prog);

		found = access(f, X_OK) == 0;
		free(f);
	}
	free(copy);
	return found;
}

char *test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	strbuf_t b = {0};
	char buf[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sb_add(&b, buf, n);
	fclose(f);
	if (len)
		*len = b.len;
	return sb_steal(&b);
}

char *test_temp_file(const char *s, size_t n)
{
	char *path = xasprintf("%s/digest-test.XXXXXX", tmp_root());
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, s, n) != (ssize_t)n) {
		perror(path);
		abort();
	}
	close(fd);
	return path;
}
