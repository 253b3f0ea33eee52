/*
 * test_run — the send ledger of run_deliver, step by step, against a real
 * database and a sendmail stub that keeps every message it is handed:
 * sent once per week, not again, again with --force under a new
 * Message-ID; a failure retried with the same Message-ID; a process
 * killed after "sending" was written and before or after the message
 * was handed over (the retry sends it, with the same Message-ID); a stop
 * signal before delivery (nothing written, nothing sent) and during it
 * (the delivery is finished and recorded).  Also run_digest_save: a new
 * file, mode 0600, never through a symlink.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setenv */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "run.h"
#include "store.h"
#include "testlib.h"
#include "tz.h"

#define WEEK "2026-W49"

static struct {
	char *dir, *db, *out;
	config_t *cfg;
	int64_t now;
	int64_t leader;
} g;

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* What the sendmail stub does next: ok, fail, crash-before (kill -9 its
 * parent before reading the message), crash-after (kill -9 after keeping
 * it), term (SIGTERM to its parent, then deliver). */
static void mode(const char *m)
{
	char *p = xasprintf("%s/mode", g.dir);
	put(p, m, 0600);
	free(p);
}

static int setup(void **state)
{
	(void)state;
	char *p;

	setenv("TZ", "UTC", 1);
	g.dir = test_tmpdir("run");
	g.db = xasprintf("%s/digest.db", g.dir);
	g.out = xasprintf("%s/out", g.dir);
	assert_int_equal(mkdir(g.out, 0700), 0);
	for (const char *const *d =
		     (const char *const[]){"Sent", "Sent/cur", "Sent/new",
					   "Sent/tmp", NULL};
	     *d; d++) {
		p = xasprintf("%s/%s", g.dir, *d);
		assert_int_equal(mkdir(p, 0700), 0);
		free(p);
	}
	p = xasprintf("%s/sendmail", g.dir);
	char *script = xasprintf(
		"#!/bin/sh\n"
		"d='%s'\n"
		"m=$(cat \"$d/mode\")\n"
		"[ \"$m\" = crash-before ] && { kill -9 $PPID; exit 75; }\n"
		"n=$(ls \"$d/out\" | wc -l)\n"
		"cat >\"$d/out/$n.eml\"\n"
		"case $m in\n"
		"fail) exit 75 ;;\n"
		"crash-after) kill -9 $PPID ;;\n"
		"term) kill -TERM $PPID ;;\n"
		"esac\n"
		"exit 0\n",
		g.dir);
	put(p, script, 0700);
	free(script);
	char *ini = xasprintf("[digest]\n"
			      "database = %s\n"
			      "log_file = %s/delivery.log\n"
			      "timezone = UTC\n"
			      "[smtp]\n"
			      "sendmail = %s\n"
			      "[leader alex]\n"
			      "email = alex@example.com\n"
			      "sent = maildir:%s/Sent\n",
			      g.db, g.dir, p, g.dir);
	free(p);
	p = xasprintf("%s/digest.ini", g.dir);
	put(p, ini, 0600);
	free(ini);
	strvec_t errs = {0};
	assert_int_equal(config_load(p, &g.cfg, &errs), ST_OK);
	strvec_free(&errs);
	free(p);
	assert_true(tz_parse("2026-12-01T07:00:00Z", "UTC", &g.now));
	mode("ok");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_free(g.cfg);
	test_rmtree(g.dir);
	free(g.dir);
	free(g.db);
	free(g.out);
	return 0;
}

static void on_error(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "test_run: %s\n", msg);
}

/* Ingest, build and deliver the digest, with force. */
static status_t deliver(bool force)
{
	store_t *st = NULL;
	err_t err = {0};
	run_digest_t *d = NULL;
	status_t s;

	assert_int_equal(store_open(g.db, 1000, &st, &err), ST_OK);
	run_t r = {
		.store = st, .cfg = g.cfg, .force = force, .error = on_error};
	const config_leader_t *l = &g.cfg->leaders[0];
	if (!(s = run_ingest(&r, l, g.now)) &&
	    !(s = run_digest(&r, l, g.now, &d)))
		s = run_deliver(&r, d);
	run_digest_free(d);
	store_close(st);
	return s;
}

/* deliver() in a child process: its exit status, or 128 + the signal
 * that killed it. */
static int deliver_in_child(void)
{
	int ws;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(deliver(false) == ST_OK ? 0 : 75);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	return WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
}

/* The ledger's latest row for this week. */
static store_delivery_t ledger(int *n)
{
	store_t *st = NULL;
	err_t err = {0};
	store_delivery_t state;
	int64_t id;

	assert_int_equal(store_open(g.db, 1000, &st, &err), ST_OK);
	assert_int_equal(store_leader(st, "alex", true, &id, &err), ST_OK);
	assert_int_equal(store_delivery(st, id, WEEK, &state, n, &err), ST_OK);
	store_close(st);
	return state;
}

/* How many messages the stub kept, and the Message-ID of number i. */
static size_t kept(void)
{
	DIR *d = opendir(g.out);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static char *message_id(size_t i)
{
	char *p = xasprintf("%s/%zu.eml", g.out, i);
	char *text = test_slurp(p, NULL);
	char *mid = NULL;

	assert_non_null(text);
	const char *h = strstr(text, "\nMessage-ID: <");
	assert_non_null(h);
	h += strlen("\nMessage-ID: <");
	mid = xstrndup(h, strcspn(h, ">"));
	free(text);
	free(p);
	return mid;
}

static void clear_out(void)
{
	test_rmtree(g.out);
	assert_int_equal(mkdir(g.out, 0700), 0);
}

static void reset(void)
{
	unlink(g.db);
	char *p = xasprintf("%s-wal", g.db);
	unlink(p);
	free(p);
	p = xasprintf("%s-shm", g.db);
	unlink(p);
	free(p);
	clear_out();
	mode("ok");
	util_stop = 0;
}

static void test_once_a_week(void **state)
{
	(void)state;
	int n = -1;
	char *mid;

	reset();
	assert_int_equal(ledger(&n), STORE_NONE);
	assert_int_equal(deliver(false), ST_OK);
	assert_int_equal(ledger(&n), STORE_SENT);
	assert_int_equal(n, 0);
	assert_int_equal(kept(), 1);
	mid = message_id(0);
	assert_string_equal(mid, "digest.alex." WEEK ".0@example.com");
	free(mid);

	/* The same week again: nothing is sent. */
	assert_int_equal(deliver(false), ST_OK);
	assert_int_equal(kept(), 1);

	/* --force: attempt 1, a new Message-ID. */
	assert_int_equal(deliver(true), ST_OK);
	assert_int_equal(ledger(&n), STORE_SENT);
	assert_int_equal(n, 1);
	assert_int_equal(kept(), 2);
	mid = message_id(1);
	assert_string_equal(mid, "digest.alex." WEEK ".1@example.com");
	free(mid);
}

static void test_failure_retried(void **state)
{
	(void)state;
	int n = -1;

	reset();
	mode("fail");
	assert_int_equal(deliver(false), ST_TEMPFAIL);
	assert_int_equal(ledger(&n), STORE_FAILED);
	assert_int_equal(n, 0);
	mode("ok");
	assert_int_equal(deliver(false), ST_OK);
	assert_int_equal(ledger(&n), STORE_SENT);
	assert_int_equal(n, 0);
	/* The failed attempt reached the stub too: both carry one ID. */
	assert_int_equal(kept(), 2);
	char *a = message_id(0), *b = message_id(1);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

/* Killed after "sending" was written, before the message was handed
 * over: "sending" stays, and the next run sends it once. */
static void test_crash_before_handover(void **state)
{
	(void)state;
	int n = -1;

	reset();
	mode("crash-before");
	assert_int_equal(deliver_in_child(), 128 + SIGKILL);
	assert_int_equal(ledger(&n), STORE_SENDING);
	assert_int_equal(kept(), 0);
	mode("ok");
	assert_int_equal(deliver(false), ST_OK);
	assert_int_equal(ledger(&n), STORE_SENT);
	assert_int_equal(n, 0);
	assert_int_equal(kept(), 1);
}

/* Killed after the message was handed over, before the outcome was
 * written: the retry is a duplicate with the same Message-ID, which mail
 * clients fold into one. */
static void test_crash_after_handover(void **state)
{
	(void)state;
	int n = -1;

	reset();
	mode("crash-after");
	assert_int_equal(deliver_in_child(), 128 + SIGKILL);
	assert_int_equal(ledger(&n), STORE_SENDING);
	assert_int_equal(kept(), 1);
	mode("ok");
	assert_int_equal(deliver(false), ST_OK);
	assert_int_equal(ledger(&n), STORE_SENT);
	assert_int_equal(kept(), 2);
	char *a = message_id(0), *b = message_id(1);
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* And then never again. */
	assert_int_equal(deliver(false), ST_OK);
	assert_int_equal(kept(), 2);
}

/* A stop asked before delivery: no row, nothing sent. */
static void test_stop_before(void **state)
{
	(void)state;
	int n = -1;

	reset();
	util_stop = SIGTERM;
	assert_int_equal(deliver(false), ST_TEMPFAIL);
	util_stop = 0;
	assert_int_equal(ledger(&n), STORE_NONE);
	assert_int_equal(kept(), 0);
}

/* SIGTERM while the message is being handed over: the delivery ends and
 * is recorded as sent; the stop is seen after. */
static void test_stop_during(void **state)
{
	(void)state;
	int n = -1;

	reset();
	run_catch_signals();
	mode("term");
	assert_int_equal(deliver(false), ST_OK);
	assert_int_equal(util_stop, SIGTERM);
	util_stop = 0;
	signal(SIGTERM, SIG_DFL);
	assert_int_equal(ledger(&n), STORE_SENT);
	assert_int_equal(kept(), 1);
}

/* --out: LEADER.eml, mode 0600 whatever was there, and a symlink in its
 * place is replaced, its target untouched. */
static void test_save(void **state)
{
	(void)state;
	store_t *st = NULL;
	err_t err = {0};
	run_digest_t *d = NULL;
	struct stat sb;
	char *dir = xasprintf("%s/eml", g.dir);
	char *target = xasprintf("%s/target", g.dir);
	char *path = xasprintf("%s/alex.eml", dir);

	reset();
	put(target, "keep me", 0644);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(store_open(g.db, 1000, &st, &err), ST_OK);
	run_t r = {.store = st, .cfg = g.cfg, .error = on_error};
	assert_int_equal(run_digest(&r, &g.cfg->leaders[0], g.now, &d), ST_OK);
	assert_int_equal(run_digest_save(&r, d, dir), ST_OK);
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600);
	char *kept_text = test_slurp(target, NULL);
	assert_string_equal(kept_text, "keep me");
	free(kept_text);
	char *eml = test_slurp(path, NULL);
	assert_non_null(strstr(eml, "Message-ID: <digest.alex." WEEK ".0@"));
	free(eml);

	/* Again over the old file, made 0644: 0600 once more. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(run_digest_save(&r, d, dir), ST_OK);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* Nothing else is left in the directory. */
	DIR *dd = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	while ((e = readdir(dd)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dd);
	assert_int_equal(n, 1);
	run_digest_free(d);
	store_close(st);
	free(dir);
	free(target);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once_a_week),
		cmocka_unit_test(test_failure_retried),
		cmocka_unit_test(test_crash_before_handover),
		cmocka_unit_test(test_crash_after_handover),
		cmocka_unit_test(test_stop_before),
		cmocka_unit_test(test_stop_during),
		cmocka_unit_test(test_save),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
