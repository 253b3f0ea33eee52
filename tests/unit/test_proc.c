/*
 * test_proc — commands with a deadline: a password_command's first line,
 * its failures named without the secret, a command that hangs killed at
 * the deadline together with what it started, input larger than a pipe
 * written whole, a command that cannot be executed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_secret(void **state)
{
	char *pw = NULL;
	err_t err = {0};

	(void)state;
	assert_int_equal(proc_secret("password_command",
				     "printf 's3cret\\r\\nsecond line\\n'", 5,
				     &pw, &err),
			 ST_OK);
	assert_string_equal(pw, "s3cret");
	free(pw);

	assert_int_equal(proc_secret("password_command", "echo s3cret; exit 3",
				     5, &pw, &err),
			 ST_TEMPFAIL);
	assert_null(pw);
	assert_string_equal(err.msg, "password_command failed (exit 3)");

	assert_int_equal(proc_secret("password_command", "echo", 5, &pw, &err),
			 ST_TEMPFAIL);
	assert_string_equal(err.msg, "password_command printed nothing");

	assert_int_equal(
		proc_secret("password_command", "kill -9 $$", 5, &pw, &err),
		ST_TEMPFAIL);
	assert_string_equal(err.msg, "password_command killed by signal 9");
}

/* A hung command and the child it started are both gone at the
 * deadline, and the call returns then, not when they would end. */
static void test_deadline_kills_group(void **state)
{
	char pidfile[] = "/tmp/test_proc.XXXXXX";
	int fd = mkstemp(pidfile);
	char *cmd, *pw = NULL;
	err_t err = {0};
	long child = 0;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	/* The background sleep keeps stdout open, as a stuck helper would. */
	cmd = xasprintf("sleep 60 & echo $! >%s; wait", pidfile);
	double t0 = seconds();
	assert_int_equal(proc_secret("password_command", cmd, 1, &pw, &err),
			 ST_TEMPFAIL);
	double took = seconds() - t0;
	assert_string_equal(err.msg, "password_command timed out after 1s");
	assert_true(took >= 0.9 && took < 5);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &child), 1);
	fclose(f);
	/* Killed: soon gone, or a zombie waiting for init to reap it (a
	 * SIGKILL takes effect asynchronously). */
	char *stat = xasprintf("/proc/%ld/stat", child);
	char st = 'R';
	for (int i = 0; i < 200; i++) {
		f = fopen(stat, "r");
		if (!f) {
			st = 'X';
			break;
		}
		char buf[256] = "";
		assert_non_null(fgets(buf, sizeof buf, f));
		fclose(f);
		char *p = strrchr(buf, ')');
		assert_non_null(p);
		st = p[2];
		if (st == 'Z' || st == 'X')
			break;
		usleep(10000);
	}
	assert_true(st == 'Z' || st == 'X');
	free(stat);
	free(cmd);
	unlink(pidfile);
}

static void test_run_io(void **state)
{
	char *argv[] = {"/bin/cat", NULL};
	size_t len = 1 << 20, taken = 0;
	char *in = malloc(len);
	strbuf_t out = {0};
	err_t err = {0};
	int ws = -1;

	(void)state;
	for (size_t i = 0; i < len; i++)
		in[i] = (char)('a' + i % 26);
	assert_int_equal(proc_run("cat", argv, in, len, 10, len, &out, &ws,
				  &taken, &err),
			 ST_OK);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(taken, len);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.s, in, len);
	sb_free(&out);

	/* Output beyond max_out is read and dropped, not a deadlock. */
	assert_int_equal(
		proc_run("cat", argv, in, len, 10, 10, &out, &ws, &taken, &err),
		ST_OK);
	assert_int_equal(out.len, 10);
	sb_free(&out);

	/* A command that reads nothing: the input is not all taken. */
	char *t[] = {"/bin/true", NULL};
	assert_int_equal(
		proc_run("true", t, in, len, 10, 0, NULL, &ws, &taken, &err),
		ST_OK);
	assert_true(taken < len);

	char *missing[] = {"/nonexistent/sendmail", NULL};
	assert_int_equal(proc_run("sendmail", missing, NULL, 0, 10, 0, NULL,
				  &ws, NULL, &err),
			 ST_CONFIG);
	assert_string_equal(err.msg, "sendmail: cannot run "
				     "/nonexistent/sendmail: No such file or "
				     "directory");
	free(in);
}

/* A command that leaves a child behind is done when it exits, when its
 * output is not wanted (a sendmail delivering in the background); it
 * starts with SIGPIPE at its default even though the caller ignores it. */
static void test_background_and_signals(void **state)
{
	char *bg[] = {"/bin/sh", "-c", "sleep 5 2>/dev/null & exit 0", NULL};
	char *sig[] = {"/bin/sh", "-c", "grep SigIgn /proc/self/status", NULL};
	strbuf_t out = {0};
	err_t err = {0};
	int ws = -1;

	(void)state;
	double t0 = seconds();
	assert_int_equal(
		proc_run("sendmail", bg, NULL, 0, 10, 0, NULL, &ws, NULL, &err),
		ST_OK);
	assert_true(seconds() - t0 < 3);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

	assert_int_equal(
		proc_run("sh", sig, NULL, 0, 10, 256, &out, &ws, NULL, &err),
		ST_OK);
	assert_non_null(out.s);
	unsigned long long ign = strtoull(strchr(out.s, ':') + 1, NULL, 16);
	assert_int_equal(ign & (1ull << (SIGPIPE - 1)), 0);
	sb_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_deadline_kills_group),
		cmocka_unit_test(test_run_io),
		cmocka_unit_test(test_background_and_signals),
	};
	signal(SIGPIPE, SIG_IGN);
	/* No terminal, as under cron: commands get a process group of
	 * their own. */
	if (!freopen("/dev/null", "r", stdin))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
