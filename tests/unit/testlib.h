/*
 * testlib — what the unit tests share: scratch directories, the source
 * and corpus directories the build was configured with, small file
 * helpers.  Linked into every tests/unit/test_*.c program.
 */
#ifndef DIGEST_TESTLIB_H
#define DIGEST_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

/* A new empty directory under $TMPDIR (or /tmp) named after TAG; aborts
 * the test on failure.  Caller removes it with test_rmtree and frees. */
char *test_tmpdir(const char *tag);

/* Remove DIR and everything below it, without following symlinks. */
void test_rmtree(const char *dir);

/* SRC_REL below the source tree CMake configured the tests from (or
 * $DIGEST_SRC when set).  Caller frees. */
char *test_src_path(const char *rel);

/* REL below the shared corpus directory beside the checkout ($DIGEST_SHARED
 * when set), or NULL when it is not there (as on a user's machine): the
 * test then skips.  Caller frees. */
char *test_shared_path(const char *rel);

/* Is PROG an executable in $PATH? */
bool test_have_prog(const char *prog);

/* The bytes of PATH, NUL-terminated, length in *LEN when LEN is not NULL;
 * NULL when it cannot be read.  Caller frees. */
char *test_slurp(const char *path, size_t *len);

/* A new file in a fresh temporary name holding S[0..N).  Caller unlinks
 * and frees. */
char *test_temp_file(const char *s, size_t n);

#endif
