/* Unit tests of store: creation (0600, WAL), migrations and a newer
 * schema refused, de-duplication, copies, names, history, sources,
 * rollback, busy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

static char dir[] = "/tmp/digest-store-XXXXXX";
static char path[256];

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/sub/dir/digest.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static store_t *fresh(void)
{
	store_t *st = NULL;
	err_t err = {0};
	char p[300];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	assert_int_equal(store_open(path, 1000, &st, &err), ST_OK);
	return st;
}

static void test_create(void **state)
{
	struct stat sb;
	store_t *st = fresh();
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	char p[300];
	snprintf(p, sizeof p, "%s/sub/dir", dir);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	store_close(st);

	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), store_schema_version());
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void test_newer_refused(void **state)
{
	store_t *st = fresh();
	err_t err = {0};
	store_close(st);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	st = NULL;
	assert_int_equal(store_open(path, 1000, &st, &err), ST_SOFTWARE);
	assert_null(st);
	assert_non_null(strstr(err.msg, "newer than this digest"));
	assert_int_equal(store_open_readonly(path, &st, &err), ST_SOFTWARE);
}

static void add(store_t *st, int64_t leader, int64_t source, const char *dedup,
		int64_t time, const store_party_t *p, size_t n, bool want_added)
{
	store_interaction_t ia = {
		.leader = leader, .source = source, .channel = STORE_EMAIL,
		.time = time, .size = (int)n, .weight = 1.0, .dedup = dedup,
		.parties = p, .nparties = n,
	};
	bool added = !want_added;
	err_t err = {0};
	assert_int_equal(store_add_interaction(st, &ia, &added, NULL, &err), ST_OK);
	assert_int_equal(added, want_added);
}

static void test_interactions(void **state)
{
	store_t *st = fresh();
	err_t err = {0};
	int64_t leader, other, source;
	char *cursor = NULL;

	assert_int_equal(store_begin(st, &err), ST_OK);
	assert_int_equal(store_leader(st, "alex", true, &leader, &err), ST_OK);
	assert_int_equal(store_leader(st, "kim", true, &other, &err), ST_OK);
	assert_true(leader != other);
	assert_int_equal(store_source(st, leader, "maildir:~/Sent", "maildir",
				      &source, &cursor, &err), ST_OK);
	assert_null(cursor);
	store_party_t p1[] = {{"b@x.example", "Bee"}, {"a@x.example", "Ay"}};
	store_party_t p2[] = {{"a@x.example", "Ay Ay"}};
	store_party_t p3[] = {{"a@x.example", "Ay Ay"}};
	add(st, leader, source, "mid:1", 100, p1, 2, true);
	add(st, leader, source, "mid:1", 100, p1, 2, false); /* duplicate */
	add(st, leader, source, "mid:2", 300, p2, 1, true);
	add(st, leader, source, "mid:3", 200, p3, 1, true);
	/* the same Message-ID for another leader is not a duplicate */
	int64_t osrc;
	assert_int_equal(store_source(st, other, "maildir:~/Sent", "maildir",
				      &osrc, &cursor, &err), ST_OK);
	add(st, other, osrc, "mid:1", 100, p1, 2, true);
	assert_int_equal(store_source_done(st, source, "c1", 1000, true, &err), ST_OK);
	assert_int_equal(store_commit(st, &err), ST_OK);

	int64_t again;
	assert_int_equal(store_source(st, leader, "maildir:~/Sent", "maildir",
				      &again, &cursor, &err), ST_OK);
	assert_int_equal(again, source);
	assert_string_equal(cursor, "c1");
	free(cursor);

	store_history_t h;
	assert_int_equal(store_history(st, leader, 0, 1000, &h, &err), ST_OK);
	assert_int_equal(h.naddrs, 2);
	assert_string_equal(h.addrs[0].addr, "a@x.example");
	assert_string_equal(h.addrs[0].name, "Ay Ay"); /* used most */
	assert_string_equal(h.addrs[1].name, "Bee");
	assert_int_equal(h.nias, 3);
	assert_int_equal(h.ias[0].time, 100); /* oldest first */
	assert_int_equal(h.ias[1].time, 200);
	assert_int_equal(h.ias[2].time, 300);
	assert_int_equal(h.ias[0].nparts, 2);
	assert_int_equal(h.ias[0].parts[0], 0);
	assert_int_equal(h.ias[0].parts[1], 1);
	assert_string_equal(h.ias[0].source, "maildir:~/Sent");
	store_history_free(&h);

	assert_int_equal(store_history(st, leader, 150, 300, &h, &err), ST_OK);
	assert_int_equal(h.nias, 1);
	assert_int_equal(h.ias[0].time, 200);
	store_history_free(&h);
	store_close(st);
}

/* A copy under another Message-ID (same copy_key) from another source and
 * within a day is the same interaction, at the earlier time; one copy per
 * source; never a copy of a message of the same source. */
static void copy(store_t *st, int64_t leader, int64_t source, const char *dedup,
		 const char *key, int64_t time, const store_party_t *p,
		 bool want_added, bool want_copy)
{
	store_interaction_t ia = {
		.leader = leader, .source = source, .channel = STORE_EMAIL,
		.time = time, .size = 1, .weight = 1.0, .dedup = dedup,
		.copy_key = key, .parties = p, .nparties = 1,
	};
	bool added = !want_added, copied = !want_copy;
	err_t err = {0};
	assert_int_equal(store_add_interaction(st, &ia, &added, &copied, &err), ST_OK);
	assert_int_equal(added, want_added);
	assert_int_equal(copied, want_copy);
}

static void test_copies(void **state)
{
	store_t *st = fresh();
	err_t err = {0};
	int64_t leader, a, b, c;
	char *cursor = NULL;
	const int64_t H = 3600;

	(void)state;
	assert_int_equal(store_begin(st, &err), ST_OK);
	assert_int_equal(store_leader(st, "alex", true, &leader, &err), ST_OK);
	assert_int_equal(store_source(st, leader, "A", "maildir", &a, &cursor, &err), ST_OK);
	assert_int_equal(store_source(st, leader, "B", "maildir", &b, &cursor, &err), ST_OK);
	assert_int_equal(store_source(st, leader, "C", "maildir", &c, &cursor, &err), ST_OK);
	store_party_t bare[] = {{"wen@x.example", NULL}};
	store_party_t named[] = {{"wen@x.example", "Wen Li"}};
	/* Two messages of A with one key: never copies of each other. */
	copy(st, leader, a, "mid:a1", "k1", 100 * H, bare, true, false);
	copy(st, leader, a, "mid:a2", "k1", 101 * H, bare, true, false);
	/* B's copies, ten hours later, each of the nearest one without a
	 * copy from B yet: b1 of a2, b2 of a1; b3 is a message of its own. */
	copy(st, leader, b, "mid:b1", "k1", 110 * H, named, false, true);
	copy(st, leader, b, "mid:b2", "k1", 111 * H, named, false, true);
	copy(st, leader, b, "mid:b3", "k1", 112 * H, named, true, false);
	/* C: an earlier copy (of a1) moves its time back; more than a day
	 * away it is no copy; another key is none either. */
	copy(st, leader, c, "mid:c1", "k1", 90 * H, bare, false, true);
	copy(st, leader, c, "mid:c2", "k1", 300 * H, bare, true, false);
	copy(st, leader, c, "mid:c3", "k2", 101 * H, bare, true, false);
	/* The same Message-ID again: from another source a copy, from its
	 * own a duplicate. */
	copy(st, leader, c, "mid:a1", "k1", 100 * H, bare, false, true);
	copy(st, leader, a, "mid:a1", "k1", 100 * H, bare, false, false);
	assert_int_equal(store_commit(st, &err), ST_OK);

	store_history_t h;
	assert_int_equal(store_history(st, leader, 0, 1000 * H, &h, &err), ST_OK);
	int64_t want[] = {90 * H, 101 * H, 101 * H, 112 * H, 300 * H};
	assert_int_equal(h.nias, 5);
	for (size_t i = 0; i < h.nias; i++)
		assert_int_equal(h.ias[i].time, want[i]);
	/* the names the copies give count, whichever source came first */
	assert_string_equal(h.addrs[0].name, "Wen Li");
	store_history_free(&h);

	/* A source's newest interaction counts its copies: B holds b3 and
	 * copies of a1 and a2; before 200 hours C holds c3 and a copy. */
	store_source_info_t *src = NULL;
	size_t n = 0;
	assert_int_equal(store_sources(st, leader, 1000 * H, &src, &n, &err), ST_OK);
	assert_int_equal(n, 3);
	assert_int_equal(src[0].newest, 101 * H);
	assert_int_equal(src[1].newest, 112 * H);
	assert_int_equal(src[2].newest, 300 * H);
	store_sources_free(src, n);
	assert_int_equal(store_sources(st, leader, 200 * H, &src, &n, &err), ST_OK);
	assert_int_equal(src[2].newest, 101 * H);
	store_sources_free(src, n);
	store_close(st);
}

static void test_rollback_and_seen(void **state)
{
	store_t *st = fresh();
	err_t err = {0};
	int64_t leader, source;
	char *cursor = NULL;
	bool seen;
	int status = -1;

	assert_int_equal(store_begin(st, &err), ST_OK);
	assert_int_equal(store_leader(st, "alex", true, &leader, &err), ST_OK);
	assert_int_equal(store_source(st, leader, "mbox:x", "mbox", &source,
				      &cursor, &err), ST_OK);
	assert_int_equal(store_commit(st, &err), ST_OK);

	assert_int_equal(store_begin(st, &err), ST_OK);
	assert_int_equal(store_seen_add(st, source, "k1", 1, &err), ST_OK);
	store_party_t p[] = {{"a@x.example", NULL}};
	add(st, leader, source, "mid:9", 5, p, 1, true);
	store_rollback(st);

	assert_int_equal(store_seen(st, source, "k1", &seen, &status, &err), ST_OK);
	assert_false(seen);
	store_history_t h;
	assert_int_equal(store_history(st, leader, 0, 100, &h, &err), ST_OK);
	assert_int_equal(h.nias, 0);
	store_history_free(&h);

	assert_int_equal(store_begin(st, &err), ST_OK);
	assert_int_equal(store_seen_add(st, source, "k1", 1, &err), ST_OK);
	assert_int_equal(store_commit(st, &err), ST_OK);
	assert_int_equal(store_seen(st, source, "k1", &seen, &status, &err), ST_OK);
	assert_true(seen);
	assert_int_equal(status, 1);
	store_close(st);
}

static void test_busy(void **state)
{
	store_t *a = fresh(), *b = NULL;
	err_t err = {0};
	assert_int_equal(store_open(path, 100, &b, &err), ST_OK);
	assert_int_equal(store_begin(a, &err), ST_OK);
	assert_int_equal(store_begin(b, &err), ST_TEMPFAIL);
	store_rollback(a);
	assert_int_equal(store_begin(b, &err), ST_OK);
	store_rollback(b);
	store_close(a);
	store_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_newer_refused),
		cmocka_unit_test(test_interactions),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_rollback_and_seen),
		cmocka_unit_test(test_busy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
