/* Unit tests of store: creation (0600, WAL), migrations and a newer
 * schema refused, de-duplication, copies, names, history, sources,
 * rollback, busy; SQLite's errors as statuses (a file that is not a
 * database, a damaged page, a write the kernel refuses, a read-only
 * directory or -shm). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* No database at path, nor its -wal and -shm. */
static void remove_db(void)
{
	char p[300];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static store_t *fresh(void)
{
	store_t *st = NULL;
	err_t err = {0};
	remove_db();
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
	assert_int_equal(
		sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
		SQLITE_OK);
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
		.leader = leader,
		.source = source,
		.channel = STORE_EMAIL,
		.time = time,
		.size = (int)n,
		.weight = 1.0,
		.dedup = dedup,
		.parties = p,
		.nparties = n,
	};
	bool added = !want_added;
	err_t err = {0};
	assert_int_equal(store_add_interaction(st, &ia, &added, NULL, &err),
			 ST_OK);
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
				      &source, &cursor, &err),
			 ST_OK);
	assert_null(cursor);
	store_party_t p1[] = {{"b@x.example", "Bee"}, {"a@x.example", "Ay"}};
	store_party_t p2[] = {{"a@x.example", "Ay Ay"}};
	store_party_t p3[] = {{"a@x.example", "Ay Ay"}};
	add(st, leader, source, "mid:1", 100, p1, 2, true);
	add(st, leader, source, "mid:1", 100, p1, 2, false); /* duplicate */
	/* a duplicate naming someone new adds no address (nor names) */
	store_party_t p4[] = {{"c@x.example", "Cee"}};
	add(st, leader, source, "mid:1", 100, p4, 1, false);
	add(st, leader, source, "mid:2", 300, p2, 1, true);
	add(st, leader, source, "mid:3", 200, p3, 1, true);
	/* the same Message-ID for another leader is not a duplicate */
	int64_t osrc;
	assert_int_equal(store_source(st, other, "maildir:~/Sent", "maildir",
				      &osrc, &cursor, &err),
			 ST_OK);
	add(st, other, osrc, "mid:1", 100, p1, 2, true);
	/* a title (kept with keep_subjects), later than the others */
	store_interaction_t titled = {.leader = leader,
				      .source = source,
				      .channel = STORE_EMAIL,
				      .time = 2000,
				      .size = 1,
				      .weight = 1.0,
				      .dedup = "mid:4",
				      .title = "Plans",
				      .parties = p2,
				      .nparties = 1};
	bool added = false;
	assert_int_equal(store_add_interaction(st, &titled, &added, NULL, &err),
			 ST_OK);
	assert_true(added);
	assert_int_equal(store_source_done(st, source, "c1", 1000, true, &err),
			 ST_OK);
	assert_int_equal(store_commit(st, &err), ST_OK);

	int64_t again;
	assert_int_equal(store_source(st, leader, "maildir:~/Sent", "maildir",
				      &again, &cursor, &err),
			 ST_OK);
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
	assert_int_equal(store_parts(&h, &h.ias[0])[0], 0);
	assert_int_equal(store_parts(&h, &h.ias[0])[1], 1);
	assert_string_equal(store_ia_source(&h, &h.ias[0]), "maildir:~/Sent");
	assert_null(h.titles); /* none has one */
	assert_null(store_ia_title(&h, 0));
	store_history_free(&h);

	assert_int_equal(store_history(st, leader, 0, 3000, &h, &err), ST_OK);
	assert_int_equal(h.nias, 4);
	assert_null(store_ia_title(&h, 0));
	assert_null(store_ia_title(&h, 2));
	assert_string_equal(store_ia_title(&h, 3), "Plans");
	assert_int_equal(store_parts(&h, &h.ias[3])[0], 0);
	store_history_free(&h);

	assert_int_equal(store_history(st, leader, 150, 300, &h, &err), ST_OK);
	assert_int_equal(h.nias, 1);
	assert_int_equal(h.ias[0].time, 200);
	store_history_free(&h);
	store_close(st);
}

/* A window read by runs of ids: another leader's rows between and beside
 * the leader's (gaps wider than a run), rows out of the window inside a
 * run, times against the order of the ids, ties, two sources. */
typedef struct {
	int64_t time;
	int i;
} want_t;

static int want_cmp(const void *a, const void *b)
{
	const want_t *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->i - y->i;
}

static void test_history_runs(void **state)
{
	store_t *st = fresh();
	err_t err = {0};
	int64_t alex, kim, s1, s2, sk;
	char *cursor = NULL;
	enum { N = 1000 };
	want_t want[N];
	size_t nwant = 0;

	assert_int_equal(store_begin(st, &err), ST_OK);
	assert_int_equal(store_leader(st, "alex", true, &alex, &err), ST_OK);
	assert_int_equal(store_leader(st, "kim", true, &kim, &err), ST_OK);
	assert_int_equal(
		store_source(st, alex, "S1", "maildir", &s1, &cursor, &err),
		ST_OK);
	assert_int_equal(
		store_source(st, alex, "S2", "mbox", &s2, &cursor, &err),
		ST_OK);
	assert_int_equal(
		store_source(st, kim, "K", "maildir", &sk, &cursor, &err),
		ST_OK);
	for (int i = 0; i < N; i++) {
		bool k = i / 100 % 3 == 2; /* kim's blocks of a hundred */
		char dedup[32], addr[32];
		snprintf(dedup, sizeof dedup, "mid:%d", i);
		snprintf(addr, sizeof addr, "p%d@x.example", i % 7);
		store_party_t p[] = {{addr, NULL}, {"q@x.example", NULL}};
		int64_t time = (N - i) / 2 * 10; /* descending, in pairs */
		add(st, k ? kim : alex, k ? sk : (i % 2 ? s1 : s2), dedup, time,
		    p, i % 3 ? 1 : 2, true);
		if (!k && time >= 1000 && time < 4000)
			want[nwant++] = (want_t){time, i};
	}
	assert_int_equal(store_commit(st, &err), ST_OK);
	qsort(want, nwant, sizeof *want, want_cmp);

	store_history_t h;
	assert_int_equal(store_history(st, alex, 1000, 4000, &h, &err), ST_OK);
	assert_int_equal(h.nias, nwant);
	for (size_t j = 0; j < h.nias; j++) {
		const store_ia_t *ia = &h.ias[j];
		int i = want[j].i;
		assert_int_equal(ia->time, want[j].time);
		assert_string_equal(store_ia_source(&h, ia),
				    i % 2 ? "S1" : "S2");
		assert_int_equal(ia->nparts, i % 3 ? 1 : 2);
		char addr[32];
		snprintf(addr, sizeof addr, "p%d@x.example", i % 7);
		/* ascending indices into addrs, which are sorted */
		assert_string_equal(h.addrs[store_parts(&h, ia)[0]].addr, addr);
		if (ia->nparts == 2) {
			assert_true(store_parts(&h, ia)[0] <
				    store_parts(&h, ia)[1]);
			assert_string_equal(
				h.addrs[store_parts(&h, ia)[1]].addr,
				"q@x.example");
		}
	}
	store_history_free(&h);

	/* kim's own, unmixed */
	assert_int_equal(store_history(st, kim, 0, INT64_MAX, &h, &err), ST_OK);
	assert_int_equal(h.nias, 300);
	for (size_t j = 0; j < h.nias; j++)
		assert_string_equal(store_ia_source(&h, &h.ias[j]), "K");
	store_history_free(&h);

	/* an empty window */
	assert_int_equal(store_history(st, alex, 1, 2, &h, &err), ST_OK);
	assert_int_equal(h.nias, 0);
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
		.leader = leader,
		.source = source,
		.channel = STORE_EMAIL,
		.time = time,
		.size = 1,
		.weight = 1.0,
		.dedup = dedup,
		.copy_key = key,
		.parties = p,
		.nparties = 1,
	};
	bool added = !want_added, copied = !want_copy;
	err_t err = {0};
	assert_int_equal(store_add_interaction(st, &ia, &added, &copied, &err),
			 ST_OK);
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
	assert_int_equal(
		store_source(st, leader, "A", "maildir", &a, &cursor, &err),
		ST_OK);
	assert_int_equal(
		store_source(st, leader, "B", "maildir", &b, &cursor, &err),
		ST_OK);
	assert_int_equal(
		store_source(st, leader, "C", "maildir", &c, &cursor, &err),
		ST_OK);
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
	assert_int_equal(store_history(st, leader, 0, 1000 * H, &h, &err),
			 ST_OK);
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
	assert_int_equal(store_sources(st, leader, 1000 * H, &src, &n, &err),
			 ST_OK);
	assert_int_equal(n, 3);
	assert_int_equal(src[0].newest, 101 * H);
	assert_int_equal(src[1].newest, 112 * H);
	assert_int_equal(src[2].newest, 300 * H);
	store_sources_free(src, n);
	assert_int_equal(store_sources(st, leader, 200 * H, &src, &n, &err),
			 ST_OK);
	assert_int_equal(src[2].newest, 101 * H);
	store_sources_free(src, n);
	store_close(st);
}

static bool seen_before(store_t *st, int64_t leader, const char *addr,
			int64_t before)
{
	bool seen = false;
	err_t err = {0};
	assert_int_equal(
		store_seen_before(st, leader, addr, before, &seen, &err),
		ST_OK);
	return seen;
}

/* Who was seen before a time: by the earliest interaction of each
 * address, in and across transactions, lowered by an earlier copy from
 * another source, never by a coming-up meeting, and unchanged by a rolled
 * back one; and, migrating a version 8 database, computed from the
 * participants it holds. */
static void test_first_time(void **state)
{
	store_t *st = fresh();
	err_t err = {0};
	int64_t leader, a, b;
	char *cursor = NULL;
	store_party_t wen[] = {{"wen@x.example", NULL}};
	store_party_t kim[] = {{"kim@x.example", NULL}};
	store_party_t both[] = {{"kim@x.example", NULL},
				{"wen@x.example", NULL}};

	assert_int_equal(store_begin(st, &err), ST_OK);
	assert_int_equal(store_leader(st, "alex", true, &leader, &err), ST_OK);
	assert_int_equal(
		store_source(st, leader, "A", "maildir", &a, &cursor, &err),
		ST_OK);
	assert_int_equal(
		store_source(st, leader, "B", "maildir", &b, &cursor, &err),
		ST_OK);
	add(st, leader, a, "mid:1", 500, wen, 1, true);
	add(st, leader, a, "mid:2", 300, both, 2, true); /* older, later */
	add(st, leader, a, "mid:3", 900, wen, 1, true);
	assert_false(seen_before(st, leader, "wen@x.example", 1000));
	assert_int_equal(store_commit(st, &err), ST_OK);
	assert_true(seen_before(st, leader, "wen@x.example", 301));
	assert_false(seen_before(st, leader, "wen@x.example", 300));
	assert_true(seen_before(st, leader, "kim@x.example", 301));
	assert_false(seen_before(st, leader, "nobody@x.example", 1000));

	/* a copy from B, 100 s before mid:1's time: the interaction moves
	 * back, and with it when kim was first seen */
	assert_int_equal(store_begin(st, &err), ST_OK);
	copy(st, leader, a, "mid:k1", "key", 800, kim, true, false);
	copy(st, leader, b, "mid:k2", "key", 200, kim, false, true);
	/* a meeting coming up is no interaction yet */
	store_interaction_t up = {.leader = leader,
				  .source = a,
				  .channel = STORE_MEETING,
				  .time = 100,
				  .size = 1,
				  .weight = 2,
				  .dedup = "up:1",
				  .item = "cal.ics",
				  .parties = wen,
				  .nparties = 1};
	bool added = false;
	assert_int_equal(store_add_upcoming(st, &up, &added, &err), ST_OK);
	assert_true(added);
	assert_int_equal(store_commit(st, &err), ST_OK);
	assert_true(seen_before(st, leader, "kim@x.example", 201));
	assert_false(seen_before(st, leader, "kim@x.example", 200));
	assert_false(seen_before(st, leader, "wen@x.example", 300));

	/* rolled back: nothing changes */
	assert_int_equal(store_begin(st, &err), ST_OK);
	add(st, leader, a, "mid:4", 50, wen, 1, true);
	store_rollback(st);
	assert_false(seen_before(st, leader, "wen@x.example", 300));
	store_close(st);

	/* The same database as version 8 had it: no first_time, an index of
	 * participants by address, participants as rows; migrated again on
	 * open, to the same participants. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(
			db,
			"CREATE TABLE participant (interaction_id INTEGER"
			" NOT NULL REFERENCES interaction(id) ON DELETE "
			"CASCADE,"
			" address_id INTEGER NOT NULL REFERENCES address(id)"
			" ON DELETE CASCADE, PRIMARY KEY (interaction_id,"
			" address_id)) STRICT, WITHOUT ROWID;"
			"INSERT INTO participant SELECT i.id, p.value"
			" FROM interaction i, json_each(i.parties) p;"
			"CREATE TABLE upcoming_participant (upcoming_id INTEGER"
			" NOT NULL REFERENCES upcoming(id) ON DELETE CASCADE,"
			" address_id INTEGER NOT NULL REFERENCES address(id)"
			" ON DELETE CASCADE, PRIMARY KEY (upcoming_id,"
			" address_id)) STRICT, WITHOUT ROWID;"
			"INSERT INTO upcoming_participant SELECT u.id, p.value"
			" FROM upcoming u, json_each(u.parties) p;"
			"ALTER TABLE interaction DROP COLUMN parties;"
			"ALTER TABLE upcoming DROP COLUMN parties;"
			"ALTER TABLE address DROP COLUMN first_time;"
			"CREATE INDEX participant_address"
			" ON participant (address_id);"
			"PRAGMA user_version = 8",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(path, 1000, &st, &err), ST_OK);
	assert_true(seen_before(st, leader, "wen@x.example", 301));
	assert_false(seen_before(st, leader, "wen@x.example", 300));
	assert_true(seen_before(st, leader, "kim@x.example", 201));
	assert_false(seen_before(st, leader, "kim@x.example", 200));
	store_history_t h;
	assert_int_equal(store_history(st, leader, 0, 1000, &h, &err), ST_OK);
	assert_int_equal(h.nias, 4); /* mid:k1 at its copy's time, first */
	const char *want[][2] = {{"kim@x.example", NULL},
				 {"kim@x.example", "wen@x.example"},
				 {"wen@x.example", NULL},
				 {"wen@x.example", NULL}};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(h.ias[i].nparts, want[i][1] ? 2 : 1);
		for (size_t k = 0; k < h.ias[i].nparts; k++)
			assert_string_equal(
				h.addrs[store_parts(&h, &h.ias[i])[k]].addr,
				want[i][k]);
	}
	store_history_free(&h);
	assert_int_equal(store_upcoming(st, leader, 0, 1000, &h, &err), ST_OK);
	assert_int_equal(h.nias, 1);
	assert_int_equal(h.ias[0].nparts, 1);
	assert_string_equal(h.addrs[store_parts(&h, &h.ias[0])[0]].addr,
			    "wen@x.example");
	store_history_free(&h);
	store_close(st);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *q;
	sqlite3_prepare_v2(db,
			   "SELECT count(*) FROM sqlite_schema WHERE name IN"
			   " ('participant_address', 'participant',"
			   " 'upcoming_participant')",
			   -1, &q, NULL);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
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
				      &cursor, &err),
			 ST_OK);
	assert_int_equal(store_commit(st, &err), ST_OK);

	assert_int_equal(store_begin(st, &err), ST_OK);
	assert_int_equal(store_seen_add(st, source, "k1", 1, &err), ST_OK);
	store_party_t p[] = {{"a@x.example", NULL}};
	add(st, leader, source, "mid:9", 5, p, 1, true);
	store_rollback(st);

	assert_int_equal(store_seen(st, source, "k1", &seen, &status, &err),
			 ST_OK);
	assert_false(seen);
	store_history_t h;
	assert_int_equal(store_history(st, leader, 0, 100, &h, &err), ST_OK);
	assert_int_equal(h.nias, 0);
	store_history_free(&h);

	assert_int_equal(store_begin(st, &err), ST_OK);
	assert_int_equal(store_seen_add(st, source, "k1", 1, &err), ST_OK);
	assert_int_equal(store_commit(st, &err), ST_OK);
	assert_int_equal(store_seen(st, source, "k1", &seen, &status, &err),
			 ST_OK);
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

/* ---- SQLite's errors ------------------------------------------------- */

/* err says what happened: the database, SQLite's words, and never that
 * a schema upgrade is wanted. */
static void assert_says(const err_t *err, const char *what)
{
	if (!strstr(err->msg, path) || !strstr(err->msg, what) ||
	    strstr(err->msg, "upgrade") || strchr(err->msg, '\n'))
		fail_msg("message '%s': wanted the database and '%s'", err->msg,
			 what);
}

static void write_at(const char *file, long off, const void *p, size_t n)
{
	int fd = open(file, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, n, off), (ssize_t)n);
	close(fd);
}

/* A database with one leader and 20 interactions, closed. */
static void fill(int64_t *leader)
{
	store_t *st = fresh();
	err_t err = {0};
	int64_t source;
	char *cursor = NULL;
	assert_int_equal(store_begin(st, &err), ST_OK);
	assert_int_equal(store_leader(st, "alex", true, leader, &err), ST_OK);
	assert_int_equal(store_source(st, *leader, "mbox:x", "mbox", &source,
				      &cursor, &err),
			 ST_OK);
	assert_int_equal(store_commit(st, &err), ST_OK);
	for (int i = 0; i < 20; i++) {
		char mid[32];
		snprintf(mid, sizeof mid, "mid:%d", i);
		store_party_t p[] = {{"a@x.example", "A"}};
		add(st, *leader, source, mid, 100 + i, p, 1, true);
	}
	store_close(st);
}

/* Text where the header should be: SQLITE_NOTADB, 65 for the commands
 * that write and for those that read. */
static void test_not_a_database(void **state)
{
	store_t *st = fresh();
	err_t err = {0};
	char junk[4096];
	store_close(st);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = "not a database\n"[i % 15];
	write_at(path, 0, junk, sizeof junk);

	assert_int_equal(store_open(path, 100, &st, &err), ST_DATAERR);
	assert_null(st);
	assert_says(&err, "file is not a database");
	memset(&err, 0, sizeof err);
	assert_int_equal(store_open_readonly(path, &st, &err), ST_DATAERR);
	assert_says(&err, "file is not a database");
}

/* Overwrite pages from..to-1 (SQLite numbers them from 1) with
 * garbage. */
static void spoil(long from, long to)
{
	char junk[4096];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 37 + 11);
	for (long pg = from; pg < to; pg++)
		write_at(path, (pg - 1) * 4096, junk, sizeof junk);
}

/* Overwrite the root pages of table and of its indexes: a small table
 * has no others. */
static void spoil_table(const char *table)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT rootpage FROM sqlite_schema"
					    " WHERE tbl_name = ?1",
					    -1, &q, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		int pg = sqlite3_column_int(q, 0);
		spoil(pg, pg + 1);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* A table's pages overwritten: the database opens, and what reads
 * the table, or quick_check, finds it damaged.  The schema itself
 * damaged (it spans more than the first page): it does not open. */
static void test_corrupt_page(void **state)
{
	store_t *st = NULL;
	err_t err = {0};
	int64_t leader, id;
	fill(&leader);
	assert_int_equal(store_open(path, 100, &st, &err), ST_OK);
	assert_int_equal(store_quick_check(st, &err), ST_OK);
	store_close(st);

	spoil_table("leader");
	assert_int_equal(store_open(path, 100, &st, &err), ST_OK);
	assert_int_equal(store_leader(st, "alex", false, &id, &err),
			 ST_DATAERR);
	assert_says(&err, "malformed");
	memset(&err, 0, sizeof err);
	assert_int_equal(store_quick_check(st, &err), ST_DATAERR);
	assert_says(&err, "database is corrupt: ");
	store_close(st);
	memset(&err, 0, sizeof err);
	assert_int_equal(store_open_readonly(path, &st, &err), ST_OK);
	assert_int_equal(store_quick_check(st, &err), ST_DATAERR);
	assert_says(&err, "database is corrupt: ");
	store_close(st);

	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	spoil(2, sb.st_size / 4096 + 1);
	memset(&err, 0, sizeof err);
	assert_int_equal(store_open(path, 100, &st, &err), ST_DATAERR);
	assert_says(&err, "malformed");
	/* user_version is in the header: the read-only open works, and
	 * then reading or checking fails. */
	memset(&err, 0, sizeof err);
	assert_int_equal(store_open_readonly(path, &st, &err), ST_OK);
	assert_int_equal(store_quick_check(st, &err), ST_DATAERR);
	assert_says(&err, "malformed");
	store_close(st);
}

/* Writes the kernel refuses beyond RLIMIT_FSIZE (EFBIG, with SIGXFSZ
 * ignored; a write cut short reads as a full disk): an I/O error, 74,
 * whether the database is being created or is old and grows. */
static void test_write_refused(void **state)
{
	store_t *st = NULL;
	err_t err = {0};
	struct rlimit old, lim;
	int64_t leader;
	status_t s;
	void (*sig)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);

	remove_db();
	lim = old;
	lim.rlim_cur = 16 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	s = store_open(path, 100, &st, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(s, ST_IOERR);
	assert_says(&err, "disk");

	fill(&leader);
	lim.rlim_cur = 64 * 1024; /* below the size of the schema alone */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	s = store_open(path, 100, &st, &err);
	for (int i = 0; !s && i < 2000; i += 100) {
		int64_t source;
		char *cursor = NULL, src[32];
		snprintf(src, sizeof src, "mbox:%d", i);
		if (!(s = store_begin(st, &err)) &&
		    !(s = store_source(st, leader, src, "mbox", &source,
				       &cursor, &err)))
			for (int k = i; !s && k < i + 100; k++) {
				char mid[32], addr[32];
				snprintf(mid, sizeof mid, "m%d", k);
				snprintf(addr, sizeof addr, "p%d@x.example", k);
				store_party_t p[] = {{addr, "Some Name"}};
				store_interaction_t ia = {
					.leader = leader,
					.source = source,
					.channel = STORE_EMAIL,
					.time = 1000 + k,
					.size = 1,
					.weight = 1.0,
					.dedup = mid,
					.parties = p,
					.nparties = 1,
				};
				bool added;
				s = store_add_interaction(st, &ia, &added, NULL,
							  &err);
			}
		if (!s)
			s = store_commit(st, &err);
	}
	store_close(st);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, sig);
	assert_int_equal(s, ST_IOERR);
	assert_says(&err, "disk");
}

/* Make file (a directory too) not writable, or writable again: by its
 * mode, or for root, whom modes do not stop, by FS_IMMUTABLE_FL (chattr
 * +i / -i).  false when the machine cannot (a file system without it). */
static bool read_only(const char *file, bool on)
{
	struct stat sb;
	if (geteuid() != 0)
		return stat(file, &sb) == 0 &&
		       chmod(file, on ? sb.st_mode & 0555
				      : (sb.st_mode | 0200) & 07777) == 0;
	int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC), flags = 0;
	bool ok = fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
	if (ok) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		ok = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A database in a directory that cannot be written, so SQLite cannot
 * create -wal and -shm beside it: 73 for what writes, 66 for what
 * reads. */
static void test_readonly_dir(void **state)
{
	store_t *st = NULL, *ro = NULL;
	err_t err = {0}, rerr = {0};
	int64_t leader;
	char d[300];
	fill(&leader);
	snprintf(d, sizeof d, "%s/sub/dir", dir);
	if (!read_only(d, true))
		skip();
	status_t s = store_open(path, 100, &st, &err);
	status_t r = store_open_readonly(path, &ro, &rerr);
	read_only(d, false);
	/* SQLite's words depend on who runs it: "unable to open database
	 * file" (for root), then naming the directory, or "attempt to write
	 * a readonly database". */
	assert_int_equal(s, ST_CANTCREAT);
	assert_says(&err, "cannot open database: ");
	if (strstr(err.msg, "unable to open"))
		assert_non_null(strstr(err.msg, d));
	assert_int_equal(r, ST_NOINPUT);
	assert_says(&rerr, "cannot read database: ");
}

/* The -wal and -shm of a run that died, the -shm not writable (a run
 * as another user): SQLite opens it read-only and refuses to write
 * (SQLITE_READONLY), 73. */
static void test_readonly_shm(void **state)
{
	store_t *st = NULL;
	err_t err = {0};
	int64_t leader;
	char shm[300];
	fill(&leader);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Dies with the database open: -wal and -shm stay. */
		if (store_open(path, 100, &st, &err) || store_begin(st, &err) ||
		    store_leader(st, "sam", true, &leader, &err) ||
		    store_commit(st, &err))
			_exit(1);
		_exit(0);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	snprintf(shm, sizeof shm, "%s-shm", path);
	if (!read_only(shm, true))
		skip();
	status_t s = store_open(path, 100, &st, &err);
	if (!s) {
		int64_t id;
		s = store_begin(st, &err);
		if (!s)
			s = store_leader(st, "kim", true, &id, &err);
	}
	store_close(st);
	read_only(shm, false);
	assert_int_equal(s, ST_CANTCREAT);
	assert_says(&err, "readonly database");
}

/* A directory that cannot be made: 73, and the lock says the same. */
static void test_no_directory(void **state)
{
	store_t *st = NULL;
	err_t err = {0};
	char file[300], db[400];
	int fd = -1;
	snprintf(file, sizeof file, "%s/file", dir);
	write_at(file, 0, "x", 1);
	snprintf(db, sizeof db, "%s/sub/digest.db", file);
	assert_int_equal(store_open(db, 100, &st, &err), ST_CANTCREAT);
	assert_non_null(strstr(err.msg, db));
	assert_int_equal(store_lock(db, 100, &fd, &err), ST_CANTCREAT);
	assert_int_equal(fd, -1);
	unlink(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_newer_refused),
		cmocka_unit_test(test_interactions),
		cmocka_unit_test(test_history_runs),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_first_time),
		cmocka_unit_test(test_rollback_and_seen),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_not_a_database),
		cmocka_unit_test(test_corrupt_page),
		cmocka_unit_test(test_write_refused),
		cmocka_unit_test(test_readonly_dir),
		cmocka_unit_test(test_readonly_shm),
		cmocka_unit_test(test_no_directory),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
