/*
 * store — SQLite state of digest.  See store.h for the contract and
 * schema/NNN-*.sql for the tables.  sqlite3 is used nowhere else.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "embed.h"
#include "ident.h"

enum {
	Q_LEADER_GET,
	Q_LEADER_ADD,
	Q_SOURCE_GET,
	Q_SOURCE_ADD,
	Q_SOURCE_DONE,
	Q_SEEN_GET,
	Q_SEEN_ADD,
	Q_IA_ADD,
	Q_ADDR_GET,
	Q_ADDR_ADD,
	Q_NAME_USE,
	Q_UP_ADD,
	Q_CAL_GET,
	Q_CAL_SET,
	Q_COPY_PEERS,
	Q_COPY_FIND,
	Q_COPY_ADD, /* record_copy runs these three in turn */
	Q_COPY_TIME,
	Q_COPY_FIRST,
	Q_FIRST_SET,
	Q_SENDER_ADD,
	Q_IA_BY_DEDUP,
	Q_UP_BY_DEDUP,
	Q_COUNT
};

static const char *const queries[Q_COUNT] = {
	[Q_LEADER_GET] = "SELECT id FROM leader WHERE name = ?1",
	[Q_LEADER_ADD] = "INSERT INTO leader (name) VALUES (?1)",
	[Q_SOURCE_GET] = "SELECT id, cursor FROM source"
			 " WHERE leader_id = ?1 AND spec = ?2",
	[Q_SOURCE_ADD] = "INSERT INTO source (leader_id, spec, kind)"
			 " VALUES (?1, ?2, ?3)",
	[Q_SOURCE_DONE] = "UPDATE source SET cursor = ?2, last_scan = ?3,"
			  " last_new = CASE WHEN ?4 OR last_new IS NULL"
			  " THEN ?3 ELSE last_new END WHERE id = ?1",
	[Q_SEEN_GET] =
		"SELECT status FROM seen WHERE source_id = ?1 AND key = ?2",
	[Q_SEEN_ADD] = "INSERT OR REPLACE INTO seen (source_id, key, status)"
		       " VALUES (?1, ?2, ?3)",
	[Q_IA_ADD] = "INSERT INTO interaction (leader_id, source_id, channel,"
		     " time, size, weight, dedup, title, item, copy_key,"
		     " parties)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?12)",
	[Q_UP_ADD] = "INSERT INTO upcoming (leader_id, source_id, time, size,"
		     " weight, dedup, title, item, recurring, parties)"
		     " VALUES (?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9, ?11, ?12)",
	/* Another mail source of the leader's, whose rows a copy could
	 * match: without one the search for copies is skipped. */
	[Q_COPY_PEERS] = "SELECT EXISTS (SELECT 1 FROM source s, source o"
			 " WHERE o.id = ?1 AND s.leader_id = o.leader_id"
			 " AND s.id != o.id"
			 " AND s.kind IN ('maildir', 'mbox', 'imap'))",
	/* The copies of other sources within 24 hours that have no copy
	 * from this source yet (absorb_copy takes the nearest in time). */
	[Q_COPY_FIND] = "SELECT id, time FROM interaction i"
			" WHERE leader_id = ?1 AND copy_key = ?2"
			" AND time BETWEEN ?3 - 86400 AND ?3 + 86400"
			" AND source_id != ?4"
			" AND NOT EXISTS (SELECT 1 FROM interaction_copy c"
			" WHERE c.interaction_id = i.id AND c.source_id = ?4)",
	[Q_COPY_ADD] = "INSERT OR IGNORE INTO interaction_copy"
		       " (interaction_id, source_id) VALUES (?1, ?2)",
	[Q_COPY_TIME] = "UPDATE interaction SET time = min(time, ?2)"
			" WHERE id = ?1",
	[Q_COPY_FIRST] = "UPDATE address"
			 " SET first_time = min(coalesce(first_time, ?2), ?2)"
			 " WHERE id IN (SELECT value FROM json_each("
			 "(SELECT parties FROM interaction WHERE id = ?1)))",
	[Q_FIRST_SET] = "UPDATE address"
			" SET first_time = min(coalesce(first_time, ?2), ?2)"
			" WHERE id = ?1",
	[Q_IA_BY_DEDUP] = "SELECT id, source_id FROM interaction"
			  " WHERE leader_id = ?1 AND dedup = ?2",
	[Q_UP_BY_DEDUP] = "SELECT id, source_id FROM upcoming"
			  " WHERE leader_id = ?1 AND dedup = ?2",
	[Q_SENDER_ADD] =
		"INSERT INTO foreign_sender (source_id, addr, messages)"
		" VALUES (?1, ?2, 1) ON CONFLICT (source_id, addr)"
		" DO UPDATE SET messages = messages + 1",
	[Q_CAL_GET] = "SELECT hash, win_from, win_to FROM cal_file"
		      " WHERE source_id = ?1 AND item = ?2",
	[Q_CAL_SET] = "INSERT OR REPLACE INTO cal_file"
		      " (source_id, item, hash, win_from, win_to)"
		      " VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_ADDR_GET] =
		"SELECT id FROM address WHERE leader_id = ?1 AND addr = ?2",
	[Q_ADDR_ADD] = "INSERT INTO address (leader_id, addr) VALUES (?1, ?2)",
	[Q_NAME_USE] = "INSERT INTO address_name (address_id, name, uses)"
		       " VALUES (?1, ?2, ?3) ON CONFLICT (address_id, name)"
		       " DO UPDATE SET uses = uses + excluded.uses",
};

struct store {
	sqlite3 *db;
	char *path;
	bool rdonly; /* opened by store_open_readonly */
	sqlite3_stmt *q[Q_COUNT];
	/* address → row id of one leader, so that ingest does not look
	 * every recipient up; dropped on rollback and leader change */
	strmap_t addr_ids;
	int64_t addr_leader;
	/* uses of display names in this transaction, "ADDRESS-ID NAME" →
	 * count: written once at commit instead of once per recipient */
	strmap_t name_uses;
	/* "ADDRESS-ID" → the earliest time of an interaction added with it
	 * in this transaction: address.first_time, written at commit */
	strmap_t first_times;
	/* the source copy_peers was asked for (0: none yet, or a source
	 * was added since), and whether it has another mail source */
	int64_t peers_of;
	bool copy_peers;
};

/*
 * The status an SQLite result code stands for (DESIGN §2): the one place
 * where SQLite's errors become ours.  rdonly: the connection only reads,
 * so a file SQLite cannot open or write is input that cannot be read, not
 * a database that cannot be created.
 */
static status_t sqlite_status(int rc, bool rdonly)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return ST_TEMPFAIL;
	case SQLITE_IOERR:
	case SQLITE_FULL:
		return ST_IOERR;
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return rdonly ? ST_NOINPUT : ST_CANTCREAT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return ST_DATAERR;
	default:
		return ST_SOFTWARE;
	}
}

/* The same for a failed open(2) or mkdir(2) of the database or its lock:
 * a full disk or a failing one is not a file that cannot be created. */
static status_t errno_status(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EIO ? ST_IOERR : ST_CANTCREAT;
}

/* What lies behind SQLite's rc, as " (...)" in buf, or "": "disk I/O
 * error" and "unable to open database file" alone do not say what
 * failed.  SQLite keeps the errno only with these two codes, and with
 * CANTOPEN it is that of its last try (often ENOENT of a read-only
 * retry), so a directory that cannot hold -wal and -shm is named first. */
static void os_detail(store_t *st, int rc, char *buf, size_t n)
{
	int e = st->db ? sqlite3_system_errno(st->db) : 0;
	int primary = rc & 0xff;
	buf[0] = '\0';
	if (primary == SQLITE_CANTOPEN) {
		char *dir = xstrdup(st->path);
		char *slash = strrchr(dir, '/');
		if (slash)
			slash[slash == dir ? 1 : 0] = '\0'; /* "/x.db": "/" */
		const char *d = slash ? dir : ".";
		if (access(d, W_OK) < 0)
			snprintf(buf, n, " (%s: %s)", d, strerror(errno));
		free(dir);
		if (buf[0])
			return;
	}
	if (e && (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN))
		snprintf(buf, n, " (%s)", strerror(e));
}

/* Set err for SQLite's result rc and message msg (NULL: SQLite's text
 * for rc): "PATH: WHAT: MSG (CAUSE)".  what may be NULL. */
static status_t sql_fail(store_t *st, err_t *err, int rc, const char *what,
			 const char *msg)
{
	char os[PATH_MAX + 128];
	os_detail(st, rc, os, sizeof os);
	return err_set(err, sqlite_status(rc, st->rdonly), "%s: %s%s%s%s",
		       st->path, what ? what : "", what ? ": " : "",
		       msg ? msg : sqlite3_errstr(rc), os);
}

/* err for the last failed call on st's connection. */
static status_t db_error(store_t *st, err_t *err, const char *what)
{
	return sql_fail(st, err, sqlite3_extended_errcode(st->db), what,
			sqlite3_errmsg(st->db));
}

/* The prepared statement for query q, reset and unbound. */
static sqlite3_stmt *stmt(store_t *st, int q)
{
	if (!st->q[q]) {
		if (sqlite3_prepare_v3(st->db, queries[q], -1,
				       SQLITE_PREPARE_PERSISTENT, &st->q[q],
				       NULL) != SQLITE_OK)
			return NULL;
	} else {
		sqlite3_reset(st->q[q]);
		sqlite3_clear_bindings(st->q[q]);
	}
	return st->q[q];
}

int store_schema_version(void)
{
	int n = 0;
	while (embed_schema[n].name)
		n++;
	return n;
}

static status_t exec(store_t *st, const char *sql, err_t *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
	status_t s = rc == SQLITE_OK ? ST_OK : sql_fail(st, err, rc, NULL, msg);
	sqlite3_free(msg);
	return s;
}

static status_t migrate(store_t *st, err_t *err)
{
	status_t s = store_begin(st, err);
	if (s)
		return s;
	sqlite3_stmt *q = NULL;
	int have = 0, want = store_schema_version();
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		s = db_error(st, err, "reading the schema version");
		goto done;
	}
	have = sqlite3_column_int(q, 0);
	/* done with it: DROP fails while a statement is open (LOCKED) */
	sqlite3_finalize(q);
	q = NULL;
	if (have > want) {
		s = err_set(err, ST_SOFTWARE,
			    "%s: database schema version %d is newer than this "
			    "digest knows (%d): upgrade digest",
			    st->path, have, want);
		goto done;
	}
	for (int v = have; v < want; v++) {
		if ((s = exec(st, embed_schema[v].data, err)))
			goto done;
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if ((s = exec(st, sql, err)))
			goto done;
	}
	return store_commit(st, err);
done:
	sqlite3_finalize(q);
	store_rollback(st);
	return s;
}

static status_t open_db(const char *path, int flags, int busy_ms, store_t **out,
			err_t *err)
{
	store_t *st = xcalloc(1, sizeof *st);
	status_t s = ST_OK;
	int rc;
	st->path = xstrdup(path);
	st->rdonly = (flags & SQLITE_OPEN_READONLY) != 0;
	/* No memory statistics: they take a global mutex at every
	 * allocation, some 5% of an ingest, and nothing reads them.  Only
	 * possible before SQLite initializes, i.e. at the first open. */
	static bool configured;
	if (!configured) {
		configured = true;
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	}
	if ((rc = sqlite3_open_v2(path, &st->db, flags, NULL)) != SQLITE_OK) {
		s = sql_fail(st, err, rc, "cannot open database",
			     st->db ? sqlite3_errmsg(st->db) : NULL);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, busy_ms);
	if ((s = exec(st, "PRAGMA foreign_keys = ON", err)))
		goto fail;
	*out = st;
	return ST_OK;
fail:
	store_close(st);
	return s;
}

status_t store_open(const char *path, int busy_ms, store_t **out, err_t *err)
{
	store_t *st = NULL;
	status_t s;
	*out = NULL;
	if (mkdir_parents(path) < 0)
		return err_set(err, errno_status(errno),
			       "%s: cannot create directory: %s", path,
			       strerror(errno));
	/* Create the file ourselves so it is 0600 whatever the umask;
	 * SQLite gives -wal and -shm the same mode. */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(err, errno_status(errno),
			       "%s: cannot open database: %s", path,
			       strerror(errno));
	close(fd);
	/* No mutex around every call, which cost a tenth of a run that
	 * reads the history: a connection is used by one thread at a time
	 * (ingest's reader thread loads the seen keys while the writer
	 * waits, see ingest_mail.c). */
	if ((s = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			 busy_ms, &st, err)))
		return s;
	/* The first statement that reads the file: what fails here is the
	 * file (not a database, unreadable, no room for -wal), not WAL. */
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &q,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		s = db_error(st, err, "cannot open database");
		sqlite3_finalize(q);
		goto fail;
	}
	const char *mode = (const char *)sqlite3_column_text(q, 0);
	if (!mode || strcmp(mode, "wal") != 0) {
		s = err_set(err, ST_SOFTWARE,
			    "%s: cannot switch to WAL mode: journal mode "
			    "stays '%s'",
			    path, mode ? mode : "?");
		sqlite3_finalize(q);
		goto fail;
	}
	sqlite3_finalize(q);
	if ((s = exec(st, "PRAGMA synchronous = NORMAL", err)) ||
	    (s = exec(st, "PRAGMA cache_size = -16384", err)) ||
	    (s = migrate(st, err)))
		goto fail;
	*out = st;
	return ST_OK;
fail:
	store_close(st);
	return s;
}

status_t store_open_readonly(const char *path, store_t **out, err_t *err)
{
	store_t *st = NULL;
	status_t s;
	*out = NULL;
	if (access(path, F_OK) < 0)
		return err_set(err, ST_NOINPUT,
			       "%s: no database yet: run 'digest ingest' first",
			       path);
	if ((s = open_db(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, 5000,
			 &st, err)))
		return s;
	/* The first read of the file: a failure here is an unreadable or
	 * damaged file, not a schema to upgrade. */
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		s = db_error(st, err, "cannot read database");
		sqlite3_finalize(q);
		store_close(st);
		return s;
	}
	int have = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (have != store_schema_version()) {
		s = err_set(
			err, ST_SOFTWARE,
			have > store_schema_version()
				? "%s: database schema version %d is newer "
				  "than this digest knows (%d): upgrade digest"
				: "%s: database schema version %d, expected "
				  "%d: run 'digest ingest' to upgrade it",
			path, have, store_schema_version());
		store_close(st);
		return s;
	}
	*out = st;
	return ST_OK;
}

void store_close(store_t *st)
{
	if (!st)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(st->q[i]);
	sqlite3_close(st->db);
	strmap_free(&st->addr_ids);
	strmap_free(&st->name_uses);
	strmap_free(&st->first_times);
	free(st->path);
	free(st);
}

status_t store_quick_check(store_t *st, err_t *err)
{
	sqlite3_stmt *q = NULL;
	char *msg = NULL;
	status_t s = ST_OK;
	/* One problem is enough to say the file is damaged, and checking
	 * on after the first costs time on a big file. */
	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &q, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		s = db_error(st, err, "checking the database");
		goto done;
	}
	const char *r = (const char *)sqlite3_column_text(q, 0);
	if (r && strcmp(r, "ok") == 0)
		goto done;
	/* The first problem follows a line "*** in database main ***";
	 * keep that one line, as text. */
	msg = xstrdup(r ? r : "no answer");
	char *p = msg, *nl = strchr(msg, '\n');
	if (str_starts(p, "*** ") && nl)
		p = nl + 1;
	p[strcspn(p, "\n")] = '\0';
	s = err_set(err, ST_DATAERR, "%s: database is corrupt: %s", st->path,
		    str_sanitize(p));
done:
	free(msg);
	sqlite3_finalize(q);
	return s;
}

status_t store_lock(const char *db_path, int64_t timeout_ms, int *fd,
		    err_t *err)
{
	char *path = xasprintf("%s.lock", db_path);
	status_t s = ST_OK;
	*fd = -1;
	if (mkdir_parents(path) < 0) {
		s = err_set(err, errno_status(errno),
			    "%s: cannot create directory: %s", path,
			    strerror(errno));
		goto done;
	}
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0) {
		s = err_set(err, errno_status(errno), "%s: %s", path,
			    strerror(errno));
		goto done;
	}
	for (int64_t waited = 0;; waited += 100) {
		if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
			goto done;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			s = err_set(err, ST_IOERR, "%s: %s", path,
				    strerror(errno));
			break;
		}
		if (util_stop) {
			s = err_set(err, ST_TEMPFAIL,
				    "%s: stopped by a signal while waiting",
				    path);
			break;
		}
		if (waited >= timeout_ms) {
			s = err_set(err, ST_TEMPFAIL,
				    "%s: another digest is running (waited "
				    "%lld s); "
				    "try again later",
				    path, (long long)(timeout_ms / 1000));
			break;
		}
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	close(*fd);
	*fd = -1;
done:
	free(path);
	return s;
}

void store_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

status_t store_begin(store_t *st, err_t *err)
{
	return exec(st, "BEGIN IMMEDIATE", err);
}

void store_rollback(store_t *st)
{
	strmap_free(&st->addr_ids); /* ids of rolled-back rows */
	strmap_free(&st->name_uses);
	strmap_free(&st->first_times);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Step a statement that returns no row or one row. */
static int step(sqlite3_stmt *q)
{
	return q ? sqlite3_step(q) : SQLITE_ERROR;
}

/* After reading the one row wanted: reset, so the statement does not
 * hold on to its read snapshot (a later BEGIN IMMEDIATE would fail with
 * SQLITE_BUSY_SNAPSHOT instead of waiting). */
static status_t done_row(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	return ST_OK;
}

/* Write the display-name uses gathered in this transaction. */
static status_t flush_names(store_t *st, err_t *err)
{
	status_t s = ST_OK;
	for (size_t i = 0; i < st->name_uses.cap && !s; i++) {
		int64_t uses;
		const char *key = strmap_slot_key(&st->name_uses, i, &uses);
		if (!key)
			continue;
		char *end;
		long long aid = strtoll(key, &end, 10);
		sqlite3_stmt *q = stmt(st, Q_NAME_USE);
		if (!q)
			return db_error(st, err, "name");
		sqlite3_bind_int64(q, 1, aid);
		sqlite3_bind_text(q, 2, end + 1, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 3, uses);
		if (step(q) != SQLITE_DONE)
			s = db_error(st, err, "recording names");
	}
	strmap_free(&st->name_uses);
	return s;
}

/* Write the addresses' first times gathered in this transaction. */
static status_t flush_first_times(store_t *st, err_t *err)
{
	status_t s = ST_OK;
	for (size_t i = 0; i < st->first_times.cap && !s; i++) {
		int64_t first;
		const char *key = strmap_slot_key(&st->first_times, i, &first);
		if (!key)
			continue;
		sqlite3_stmt *q = stmt(st, Q_FIRST_SET);
		if (!q)
			return db_error(st, err, "first times");
		sqlite3_bind_int64(q, 1, strtoll(key, NULL, 10));
		sqlite3_bind_int64(q, 2, first);
		if (step(q) != SQLITE_DONE)
			s = db_error(st, err, "recording first times");
	}
	strmap_free(&st->first_times);
	return s;
}

/* Address aid was part of an interaction at time t. */
static void note_first_time(store_t *st, int64_t aid, int64_t t)
{
	char key[24];
	i64_format(aid, key);
	size_t n = st->first_times.n;
	int64_t *was = strmap_ref(&st->first_times, key);
	if (st->first_times.n > n || t < *was)
		*was = t;
}

status_t store_commit(store_t *st, err_t *err)
{
	status_t s = flush_names(st, err);
	if (!s)
		s = flush_first_times(st, err);
	return s ? s : exec(st, "COMMIT", err);
}

status_t store_leader(store_t *st, const char *name, bool create, int64_t *id,
		      err_t *err)
{
	sqlite3_stmt *q = stmt(st, Q_LEADER_GET);
	*id = 0;
	if (!q)
		return db_error(st, err, "leader");
	sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
	int rc = step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		return done_row(q);
	}
	if (rc != SQLITE_DONE)
		return db_error(st, err, "leader");
	if (!create)
		return ST_OK;
	q = stmt(st, Q_LEADER_ADD);
	if (!q)
		return db_error(st, err, "leader");
	sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
	if (step(q) != SQLITE_DONE)
		return db_error(st, err, "adding leader");
	*id = sqlite3_last_insert_rowid(st->db);
	return ST_OK;
}

status_t store_source(store_t *st, int64_t leader, const char *spec,
		      const char *kind, int64_t *id, char **cursor, err_t *err)
{
	sqlite3_stmt *q = stmt(st, Q_SOURCE_GET);
	*cursor = NULL;
	if (!q)
		return db_error(st, err, "source");
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_text(q, 2, spec, -1, SQLITE_TRANSIENT);
	int rc = step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		*cursor = xstrdup((const char *)sqlite3_column_text(q, 1));
		return done_row(q);
	}
	if (rc != SQLITE_DONE)
		return db_error(st, err, "source");
	q = stmt(st, Q_SOURCE_ADD);
	if (!q)
		return db_error(st, err, "source");
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_text(q, 2, spec, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, kind, -1, SQLITE_TRANSIENT);
	if (step(q) != SQLITE_DONE)
		return db_error(st, err, "adding source");
	*id = sqlite3_last_insert_rowid(st->db);
	st->peers_of = 0;
	return ST_OK;
}

status_t store_source_done(store_t *st, int64_t source, const char *cursor,
			   int64_t now, bool got_new, err_t *err)
{
	sqlite3_stmt *q = stmt(st, Q_SOURCE_DONE);
	if (!q)
		return db_error(st, err, "source");
	sqlite3_bind_int64(q, 1, source);
	sqlite3_bind_text(q, 2, cursor, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_int(q, 4, got_new);
	if (step(q) != SQLITE_DONE)
		return db_error(st, err, "updating source");
	return ST_OK;
}

status_t store_seen(store_t *st, int64_t source, const char *key, bool *seen,
		    int *status, err_t *err)
{
	sqlite3_stmt *q = stmt(st, Q_SEEN_GET);
	*seen = false;
	if (!q)
		return db_error(st, err, "seen");
	sqlite3_bind_int64(q, 1, source);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_TRANSIENT);
	int rc = step(q);
	if (rc == SQLITE_ROW) {
		*seen = true;
		if (status)
			*status = sqlite3_column_int(q, 0);
		done_row(q);
	} else if (rc != SQLITE_DONE) {
		return db_error(st, err, "seen");
	}
	return ST_OK;
}

status_t store_source_senders(store_t *st, int64_t source,
			      const char *fingerprint, bool *changed,
			      err_t *err)
{
	sqlite3_stmt *q = NULL;
	status_t s = ST_OK;
	char *old = NULL;
	*changed = false;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT senders FROM source WHERE id = ?1", -1,
			       &q, NULL) != SQLITE_OK)
		return db_error(st, err, "source");
	sqlite3_bind_int64(q, 1, source);
	if (sqlite3_step(q) == SQLITE_ROW)
		old = xstrdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	if (old && strcmp(old, fingerprint) == 0)
		goto done;
	*changed = old != NULL;
	static const char *const sql[] = {
		"DELETE FROM seen WHERE source_id = ?1 AND status = 3",
		"DELETE FROM foreign_sender WHERE source_id = ?1",
		"UPDATE source SET cursor = NULL WHERE id = ?1",
		"UPDATE source SET senders = ?2 WHERE id = ?1",
	};
	for (size_t i = *changed ? 0 : 3; i < 4; i++) {
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &q, NULL) !=
		    SQLITE_OK) {
			s = db_error(st, err, "source");
			goto done;
		}
		sqlite3_bind_int64(q, 1, source);
		if (i == 3)
			sqlite3_bind_text(q, 2, fingerprint, -1,
					  SQLITE_TRANSIENT);
		int rc = sqlite3_step(q);
		sqlite3_finalize(q);
		if (rc != SQLITE_DONE) {
			s = db_error(st, err, "source");
			goto done;
		}
	}
done:
	free(old);
	return s;
}

status_t store_seen_keys(store_t *st, int64_t source, strmap_t *keys,
			 err_t *err)
{
	sqlite3_stmt *q = NULL;
	int rc;
	if (sqlite3_prepare_v2(
		    st->db, "SELECT key, status FROM seen WHERE source_id = ?1",
		    -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "seen");
	sqlite3_bind_int64(q, 1, source);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		strmap_put(keys, (const char *)sqlite3_column_text(q, 0),
			   sqlite3_column_int(q, 1));
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? ST_OK : db_error(st, err, "seen");
}

status_t store_seen_add(store_t *st, int64_t source, const char *key,
			int status, err_t *err)
{
	sqlite3_stmt *q = stmt(st, Q_SEEN_ADD);
	if (!q)
		return db_error(st, err, "seen");
	sqlite3_bind_int64(q, 1, source);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 3, status);
	if (step(q) != SQLITE_DONE)
		return db_error(st, err, "recording seen");
	return ST_OK;
}

status_t store_foreign_sender(store_t *st, int64_t source, const char *addr,
			      err_t *err)
{
	sqlite3_stmt *q = stmt(st, Q_SENDER_ADD);
	if (!q)
		return db_error(st, err, "foreign sender");
	sqlite3_bind_int64(q, 1, source);
	sqlite3_bind_text(q, 2, addr, -1, SQLITE_TRANSIENT);
	if (step(q) != SQLITE_DONE)
		return db_error(st, err, "recording a foreign sender");
	return ST_OK;
}

status_t store_foreign_senders(store_t *st, int64_t leader, int min_messages,
			       strvec_t *own, strvec_t *others, err_t *err)
{
	sqlite3_stmt *q = NULL;
	int rc;
	if (sqlite3_prepare_v2(
		    st->db,
		    "SELECT f.addr, s.leader_id = ?1 FROM foreign_sender f"
		    " JOIN source s ON s.id = f.source_id"
		    " GROUP BY f.addr, s.leader_id = ?1"
		    " HAVING sum(f.messages) >= ?2 ORDER BY f.addr",
		    -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "foreign senders");
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_int(q, 2, min_messages);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		strvec_push(sqlite3_column_int(q, 1) ? own : others,
			    (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? ST_OK : db_error(st, err, "foreign senders");
}

static status_t address_id(store_t *st, int64_t leader, const char *addr,
			   int64_t *id, err_t *err)
{
	if (st->addr_leader != leader) {
		strmap_free(&st->addr_ids);
		st->addr_leader = leader;
	}
	if (strmap_get(&st->addr_ids, addr, id))
		return ST_OK;
	sqlite3_stmt *q = stmt(st, Q_ADDR_GET);
	if (!q)
		return db_error(st, err, "address");
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_text(q, 2, addr, -1, SQLITE_TRANSIENT);
	int rc = step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		done_row(q);
	} else if (rc != SQLITE_DONE) {
		return db_error(st, err, "address");
	} else {
		q = stmt(st, Q_ADDR_ADD);
		if (!q)
			return db_error(st, err, "address");
		sqlite3_bind_int64(q, 1, leader);
		sqlite3_bind_text(q, 2, addr, -1, SQLITE_TRANSIENT);
		if (step(q) != SQLITE_DONE)
			return db_error(st, err, "adding address");
		*id = sqlite3_last_insert_rowid(st->db);
	}
	strmap_put(&st->addr_ids, addr, *id);
	return ST_OK;
}

/* The row id of ia's party i, counting the display name the leader used
 * for it (written at commit).  Names are cleaned here, the one way in for
 * names from mail and calendars alike, so that what the store gives back
 * is fit for a terminal, a JSON reader and the digest. */
static status_t party_id(store_t *st, const store_interaction_t *ia, size_t i,
			 int64_t *aid, err_t *err)
{
	status_t s = address_id(st, ia->leader, ia->parties[i].addr, aid, err);
	if (s || !ia->parties[i].name)
		return s;
	const char *name = ia->parties[i].name;
	char *cleaned = NULL; /* most names come clean from mailhdr.c */
	if (!ident_name_is_clean(name, strlen(name))) {
		if (!(cleaned = ident_clean_name(xstrdup(name))))
			return ST_OK;
		name = cleaned;
	}
	strbuf_t key = {0};
	sb_add_i64(&key, *aid);
	sb_putc(&key, ' ');
	sb_puts(&key, name);
	(*strmap_ref(&st->name_uses, sb_str(&key)))++;
	sb_free(&key);
	free(cleaned);
	return ST_OK;
}

/* Interaction id holds a copy from ia's source (or the same message):
 * recorded once per source, earlier time kept, and the names the copy
 * gives counted, so that neither depends on which source came first. */
static status_t record_copy(store_t *st, const store_interaction_t *ia,
			    int64_t id, err_t *err)
{
	for (int k = Q_COPY_ADD; k <= Q_COPY_FIRST; k++) {
		sqlite3_stmt *q = stmt(st, k);
		if (!q)
			return db_error(st, err, "recording a copy");
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2,
				   k == Q_COPY_ADD ? ia->source : ia->time);
		if (step(q) != SQLITE_DONE)
			return db_error(st, err, "recording a copy");
	}
	for (size_t i = 0; i < ia->nparties; i++) {
		int64_t aid;
		status_t s = party_id(st, ia, i, &aid, err);
		if (s)
			return s;
	}
	return ST_OK;
}

/* The id and source of what is stored under ia's dedup key with query
 * q_dup (0 when nothing is). */
static status_t find_dedup(store_t *st, const store_interaction_t *ia,
			   int q_dup, int64_t *id, int64_t *source, err_t *err)
{
	sqlite3_stmt *q = stmt(st, q_dup);
	*id = *source = 0;
	if (!q)
		return db_error(st, err, "finding duplicates");
	sqlite3_bind_int64(q, 1, ia->leader);
	sqlite3_bind_text(q, 2, ia->dedup, -1, SQLITE_TRANSIENT);
	int rc = step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		*source = sqlite3_column_int64(q, 1);
		done_row(q);
	} else if (rc != SQLITE_DONE) {
		return db_error(st, err, "finding duplicates");
	}
	return ST_OK;
}

/* ia's parties as the JSON array of their address ids, ascending and
 * each once, counting their names and first times (mail only). */
static status_t party_list(store_t *st, const store_interaction_t *ia,
			   bool mail, strbuf_t *out, err_t *err)
{
	int64_t *ids = xcalloc(ia->nparties ? ia->nparties : 1, sizeof *ids);
	status_t s = ST_OK;
	for (size_t i = 0; i < ia->nparties && !s; i++) {
		s = party_id(st, ia, i, &ids[i], err);
		if (!s && mail)
			note_first_time(st, ids[i], ia->time);
	}
	if (!s) {
		qsort(ids, ia->nparties, sizeof *ids, cmp_i64);
		sb_putc(out, '[');
		for (size_t i = 0; i < ia->nparties; i++)
			if (i == 0 || ids[i] != ids[i - 1]) {
				if (i)
					sb_putc(out, ',');
				sb_add_i64(out, ids[i]);
			}
		sb_putc(out, ']');
	}
	free(ids);
	return s;
}

/* Could a message of source have a copy stored from another?  Only if
 * its leader reads another mail source: a question asked once per
 * source, since most leaders read one and the search is an index seek
 * per message. */
static status_t copy_peers(store_t *st, int64_t source, bool *peers, err_t *err)
{
	if (st->peers_of != source) {
		sqlite3_stmt *q = stmt(st, Q_COPY_PEERS);
		if (!q)
			return db_error(st, err, "finding copies");
		sqlite3_bind_int64(q, 1, source);
		if (step(q) != SQLITE_ROW)
			return db_error(st, err, "finding copies");
		st->copy_peers = sqlite3_column_int(q, 0);
		done_row(q);
		st->peers_of = source;
	}
	*peers = st->copy_peers;
	return ST_OK;
}

/* Is ia a copy of a message stored from another source?  Then it is
 * recorded on that interaction, and *copy is set. */
static status_t absorb_copy(store_t *st, const store_interaction_t *ia,
			    bool *copy, err_t *err)
{
	int64_t id = 0;
	bool peers = true;
	*copy = false;
	status_t s = copy_peers(st, ia->source, &peers, err);
	if (s || !peers)
		return s;
	sqlite3_stmt *q = stmt(st, Q_COPY_FIND);
	if (!q)
		return db_error(st, err, "finding copies");
	sqlite3_bind_int64(q, 1, ia->leader);
	sqlite3_bind_text(q, 2, ia->copy_key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 3, ia->time);
	sqlite3_bind_int64(q, 4, ia->source);
	/* mostly none, so no ORDER BY and its sorter: the nearest in time,
	 * of those as near the one added first */
	int rc;
	int64_t best = INT64_MAX;
	while ((rc = step(q)) == SQLITE_ROW) {
		int64_t i = sqlite3_column_int64(q, 0);
		int64_t t = sqlite3_column_int64(q, 1);
		int64_t d = t > ia->time ? t - ia->time : ia->time - t;
		if (d < best || (d == best && i < id)) {
			best = d;
			id = i;
		}
	}
	if (rc != SQLITE_DONE) {
		sqlite3_reset(q);
		return db_error(st, err, "finding copies");
	}
	if (!id)
		return ST_OK;
	*copy = true;
	return record_copy(st, ia, id, err);
}

/* Insert an interaction or an upcoming meeting (the queries share their
 * parameter numbers) with its participants, unless its dedup key (query
 * q_dup) is stored already: the same message from another source is
 * recorded as a copy there (*copy tells). */
static status_t add_meeting_or_mail(store_t *st, const store_interaction_t *ia,
				    int q_add, int q_dup, bool *added,
				    bool *copy, err_t *err)
{
	bool mail = q_add == Q_IA_ADD;
	int64_t id, source;
	sqlite3_stmt *q;
	*added = *copy = false;
	status_t s = find_dedup(st, ia, q_dup, &id, &source, err);
	if (s)
		return s;
	if (id) { /* a duplicate: the same message is not a copy */
		*copy = mail && source != ia->source;
		return *copy ? record_copy(st, ia, id, err) : ST_OK;
	}
	if (mail && ia->copy_key &&
	    ((s = absorb_copy(st, ia, copy, err)) || *copy))
		return s;
	strbuf_t parties = {0};
	if ((s = party_list(st, ia, mail, &parties, err)))
		goto done;
	if (!(q = stmt(st, q_add))) {
		s = db_error(st, err, "interaction");
		goto done;
	}
	sqlite3_bind_int64(q, 1, ia->leader);
	sqlite3_bind_int64(q, 2, ia->source);
	if (mail) {
		sqlite3_bind_text(q, 3,
				  ia->channel == STORE_MEETING ? "meeting"
							       : "email",
				  -1, SQLITE_STATIC);
		if (ia->copy_key)
			sqlite3_bind_text(q, 10, ia->copy_key, -1,
					  SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_int(q, 11, ia->recurring);
	}
	sqlite3_bind_int64(q, 4, ia->time);
	sqlite3_bind_int(q, 5, ia->size);
	sqlite3_bind_double(q, 6, ia->weight);
	sqlite3_bind_text(q, 7, ia->dedup, -1, SQLITE_TRANSIENT);
	/* A subject or meeting title is shown like a name: without
	 * controls or bidi overrides (ident_clean_name). */
	char *title = ident_clean_name(xstrdup(ia->title));
	if (title)
		sqlite3_bind_text(q, 8, title, -1, SQLITE_TRANSIENT);
	free(title);
	if (ia->item)
		sqlite3_bind_text(q, 9, ia->item, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 12, sb_str(&parties), -1, SQLITE_TRANSIENT);
	if (step(q) != SQLITE_DONE)
		s = db_error(st, err, "adding interaction");
	else
		*added = true;
done:
	sb_free(&parties);
	return s;
}

status_t store_add_interaction(store_t *st, const store_interaction_t *ia,
			       bool *added, bool *copy, err_t *err)
{
	bool c;
	return add_meeting_or_mail(st, ia, Q_IA_ADD, Q_IA_BY_DEDUP, added,
				   copy ? copy : &c, err);
}

status_t store_add_upcoming(store_t *st, const store_interaction_t *ia,
			    bool *added, err_t *err)
{
	bool copy;
	return add_meeting_or_mail(st, ia, Q_UP_ADD, Q_UP_BY_DEDUP, added,
				   &copy, err);
}

/* ---- calendar files ------------------------------------------------- */

status_t store_cal_file(store_t *st, int64_t source, const char *item,
			bool *found, char **hash, int64_t *win_from,
			int64_t *win_to, err_t *err)
{
	sqlite3_stmt *q = stmt(st, Q_CAL_GET);
	*found = false;
	*hash = NULL;
	if (!q)
		return db_error(st, err, "calendar file");
	sqlite3_bind_int64(q, 1, source);
	sqlite3_bind_text(q, 2, item, -1, SQLITE_TRANSIENT);
	int rc = step(q);
	if (rc == SQLITE_ROW) {
		*found = true;
		*hash = xstrdup((const char *)sqlite3_column_text(q, 0));
		*win_from = sqlite3_column_int64(q, 1);
		*win_to = sqlite3_column_int64(q, 2);
		done_row(q);
	} else if (rc != SQLITE_DONE) {
		return db_error(st, err, "calendar file");
	}
	return ST_OK;
}

status_t store_cal_file_set(store_t *st, int64_t source, const char *item,
			    const char *hash, int64_t win_from, int64_t win_to,
			    err_t *err)
{
	sqlite3_stmt *q = stmt(st, Q_CAL_SET);
	if (!q)
		return db_error(st, err, "calendar file");
	sqlite3_bind_int64(q, 1, source);
	sqlite3_bind_text(q, 2, item, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 4, win_from);
	sqlite3_bind_int64(q, 5, win_to);
	if (step(q) != SQLITE_DONE)
		return db_error(st, err, "recording calendar file");
	return ST_OK;
}

status_t store_cal_files(store_t *st, int64_t source, strvec_t *items,
			 err_t *err)
{
	sqlite3_stmt *q = NULL;
	int rc;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT item FROM cal_file WHERE source_id = ?1"
			       " ORDER BY item",
			       -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "calendar files");
	sqlite3_bind_int64(q, 1, source);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		strvec_push(items, (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? ST_OK : db_error(st, err, "calendar files");
}

status_t store_forget_item(store_t *st, int64_t source, const char *item,
			   int64_t from, int64_t until, bool gone, err_t *err)
{
	static const char *const sql[] = {
		"DELETE FROM interaction WHERE source_id = ?1 AND item = ?2"
		" AND time >= ?3 AND time < ?4",
		"DELETE FROM upcoming WHERE source_id = ?1 AND item = ?2",
		"DELETE FROM cal_file WHERE source_id = ?1 AND item = ?2",
	};
	for (size_t i = 0; i < (gone ? 3u : 2u); i++) {
		sqlite3_stmt *q = NULL;
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &q, NULL) !=
		    SQLITE_OK)
			return db_error(st, err, "forgetting a calendar file");
		sqlite3_bind_int64(q, 1, source);
		sqlite3_bind_text(q, 2, item, -1, SQLITE_TRANSIENT);
		if (i == 0) {
			sqlite3_bind_int64(q, 3, from);
			sqlite3_bind_int64(q, 4, until);
		}
		int rc = sqlite3_step(q);
		sqlite3_finalize(q);
		if (rc != SQLITE_DONE)
			return db_error(st, err, "forgetting a calendar file");
	}
	return ST_OK;
}

/* ---- https calendars -------------------------------------------------- */

static char *column_text(sqlite3_stmt *q, int i)
{
	return xstrdup((const char *)sqlite3_column_text(q, i));
}

status_t store_http_get(store_t *st, int64_t source, bool *found,
			store_http_t *out, err_t *err)
{
	sqlite3_stmt *q = NULL;
	status_t s = ST_OK;
	*found = false;
	memset(out, 0, sizeof *out);
	if (sqlite3_prepare_v2(st->db,
			       "SELECT etag, last_modified, body, fetched"
			       " FROM http_cache WHERE source_id = ?1",
			       -1, &q, NULL) != SQLITE_OK) {
		s = db_error(st, err, "https calendar cache");
		goto done;
	}
	sqlite3_bind_int64(q, 1, source);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const void *body = sqlite3_column_blob(q, 2);
		size_t len = (size_t)sqlite3_column_bytes(q, 2);
		*found = true;
		out->etag = column_text(q, 0);
		out->last_modified = column_text(q, 1);
		out->body = xmalloc(len + 1);
		if (len)
			memcpy(out->body, body, len);
		out->body[len] = '\0';
		out->len = len;
		out->fetched = sqlite3_column_int64(q, 3);
	} else if (rc != SQLITE_DONE) {
		s = db_error(st, err, "https calendar cache");
	}
done:
	sqlite3_finalize(q);
	return s;
}

status_t store_http_set(store_t *st, int64_t source, const char *etag,
			const char *last_modified, const char *body, size_t len,
			int64_t now, err_t *err)
{
	sqlite3_stmt *q = NULL;
	status_t s = ST_OK;
	const char *sql =
		body ? "INSERT OR REPLACE INTO http_cache"
		       " (source_id, etag, last_modified, body, fetched)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)"
		     : "UPDATE http_cache SET etag = ?2, last_modified = ?3"
		       " WHERE source_id = ?1";
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) {
		s = db_error(st, err, "recording an https calendar");
		goto done;
	}
	sqlite3_bind_int64(q, 1, source);
	sqlite3_bind_text(q, 2, etag, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, last_modified, -1, SQLITE_TRANSIENT);
	if (body) {
		/* an empty body is an empty blob, not NULL */
		sqlite3_bind_blob64(q, 4, len ? body : "", len, SQLITE_STATIC);
		sqlite3_bind_int64(q, 5, now);
	}
	if (sqlite3_step(q) != SQLITE_DONE)
		s = db_error(st, err, "recording an https calendar");
done:
	sqlite3_finalize(q);
	return s;
}

void store_http_clear(store_http_t *c)
{
	if (!c)
		return;
	free(c->etag);
	free(c->last_modified);
	free(c->body);
	memset(c, 0, sizeof *c);
}

/* ---- what the leader says about people -------------------------------- */

/* Run one statement with text/number parameters as its own transaction,
 * or as part of the caller's when one is open (a failure then rolls it
 * back).  types: 't' text (NULL binds NULL), 'i' int64, 'd' double. */
static status_t exec1(store_t *st, const char *sql, const char *types,
		      const void *const *args, err_t *err)
{
	sqlite3_stmt *q = NULL;
	bool own = sqlite3_get_autocommit(st->db);
	status_t s = own ? store_begin(st, err) : ST_OK;
	if (s)
		return s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		goto dberr;
	for (int i = 0; types[i]; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(q, i + 1, args[i], -1,
					  SQLITE_TRANSIENT);
		else if (types[i] == 'i')
			sqlite3_bind_int64(q, i + 1, *(const int64_t *)args[i]);
		else
			sqlite3_bind_double(q, i + 1, *(const double *)args[i]);
	}
	if (sqlite3_step(q) != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(q);
	return own ? store_commit(st, err) : ST_OK;
dberr:
	s = db_error(st, err, "saving");
	sqlite3_finalize(q);
	store_rollback(st);
	return s;
}

status_t store_snooze(store_t *st, int64_t leader, const char *addr,
		      int64_t until, err_t *err)
{
	const void *args[] = {&leader, addr, &until};
	return exec1(
		st,
		"INSERT INTO person_setting (leader_id, addr, snoozed_until)"
		" VALUES (?1, ?2, nullif(?3, 0)) ON CONFLICT (leader_id, addr)"
		" DO UPDATE SET snoozed_until = excluded.snoozed_until",
		"iti", args, err);
}

status_t store_cadence(store_t *st, int64_t leader, const char *addr,
		       double days, err_t *err)
{
	const void *args[] = {&leader, addr, &days};
	return exec1(
		st,
		"INSERT INTO person_setting (leader_id, addr, cadence_days)"
		" VALUES (?1, ?2, nullif(?3, 0)) ON CONFLICT (leader_id, addr)"
		" DO UPDATE SET cadence_days = excluded.cadence_days",
		"itd", args, err);
}

status_t store_note(store_t *st, int64_t leader, const char *addr,
		    const char *text, err_t *err)
{
	const void *args[] = {&leader, addr, text && *text ? text : NULL};
	return exec1(st,
		     "INSERT INTO person_setting (leader_id, addr, note)"
		     " VALUES (?1, ?2, ?3) ON CONFLICT (leader_id, addr)"
		     " DO UPDATE SET note = excluded.note",
		     "itt", args, err);
}

status_t store_ignore(store_t *st, int64_t leader, const char *pattern,
		      err_t *err)
{
	const void *args[] = {&leader, pattern};
	return exec1(st,
		     "INSERT OR IGNORE INTO ignore_pattern (leader_id, pattern)"
		     " VALUES (?1, ?2)",
		     "it", args, err);
}

status_t store_unignore(store_t *st, int64_t leader, const char *pattern,
			bool *removed, err_t *err)
{
	const void *args[] = {&leader, pattern};
	*removed = false;
	status_t s = exec1(st,
			   "DELETE FROM ignore_pattern WHERE leader_id = ?1"
			   " AND pattern = ?2",
			   "it", args, err);
	/* The DELETE was the last change (COMMIT is none). */
	if (!s)
		*removed = sqlite3_changes(st->db) > 0;
	return s;
}

status_t store_address(store_t *st, int64_t leader, const char *addr,
		       bool *seen, char **name, err_t *err)
{
	sqlite3_stmt *q = NULL;
	*seen = false;
	*name = NULL;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT (SELECT name FROM address_name n"
			       " WHERE n.address_id = a.id ORDER BY uses DESC,"
			       " name LIMIT 1) FROM address a"
			       " WHERE a.leader_id = ?1 AND a.addr = ?2",
			       -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "reading history");
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_text(q, 2, addr, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(q, 0);
		*seen = true;
		*name = n ? xstrdup(n) : NULL;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE
		       ? ST_OK
		       : db_error(st, err, "reading history");
}

status_t store_merge(store_t *st, int64_t leader, const char *const *addrs,
		     size_t n, err_t *err)
{
	static const char *const sql[] = {
		"DELETE FROM unmerged WHERE leader_id = ?1 AND addr = ?2",
		/* whoever was merged into addrs[i] follows it */
		"UPDATE merged SET person = ?3 WHERE leader_id = ?1 AND person "
		"= ?2",
		"INSERT OR REPLACE INTO merged (leader_id, addr, person)"
		" SELECT ?1, ?2, ?3 WHERE ?2 <> ?3",
	};
	status_t s = store_begin(st, err);
	if (s)
		return s;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < 3; k++) {
			sqlite3_stmt *q = NULL;
			if (sqlite3_prepare_v2(st->db, sql[k], -1, &q, NULL) !=
			    SQLITE_OK) {
				s = db_error(st, err, "merging");
				goto done;
			}
			sqlite3_bind_int64(q, 1, leader);
			sqlite3_bind_text(q, 2, addrs[i], -1, SQLITE_TRANSIENT);
			if (k)
				sqlite3_bind_text(q, 3, addrs[0], -1,
						  SQLITE_TRANSIENT);
			int rc = sqlite3_step(q);
			sqlite3_finalize(q);
			if (rc != SQLITE_DONE) {
				s = db_error(st, err, "merging");
				goto done;
			}
		}
	}
	s = store_commit(st, err);
done:
	if (s)
		store_rollback(st);
	return s;
}

status_t store_unmerge(store_t *st, int64_t leader, const char *addr,
		       err_t *err)
{
	const void *args[] = {&leader, addr};
	/* addr leaves its person, and those merged into it stay together
	 * without it: the first of them becomes their person. */
	status_t s = exec1(
		st, "DELETE FROM merged WHERE leader_id = ?1 AND addr = ?2",
		"it", args, err);
	if (!s)
		s = exec1(st,
			  "UPDATE merged SET person = (SELECT min(m.addr) FROM"
			  " merged m WHERE m.leader_id = ?1 AND m.person = ?2)"
			  " WHERE leader_id = ?1 AND person = ?2",
			  "it", args, err);
	if (!s)
		s = exec1(st,
			  "DELETE FROM merged WHERE leader_id = ?1 AND addr = "
			  "person",
			  "i", args, err);
	if (!s)
		s = exec1(st,
			  "INSERT OR IGNORE INTO unmerged (leader_id, addr)"
			  " VALUES (?1, ?2)",
			  "it", args, err);
	return s;
}

static int setting_cmp(const void *a, const void *b)
{
	return strcmp(((const store_setting_t *)a)->addr,
		      ((const store_setting_t *)b)->addr);
}

status_t store_said(store_t *st, int64_t leader, store_said_t *out, err_t *err)
{
	static const char *const sql[] = {
		"SELECT addr, snoozed_until, cadence_days, note FROM "
		"person_setting"
		" WHERE leader_id = ?1 ORDER BY addr",
		"SELECT pattern FROM ignore_pattern WHERE leader_id = ?1"
		" ORDER BY pattern",
		"SELECT addr, person FROM merged WHERE leader_id = ?1 ORDER BY "
		"addr",
		"SELECT addr FROM unmerged WHERE leader_id = ?1 ORDER BY addr",
	};
	memset(out, 0, sizeof *out);
	for (size_t k = 0; k < 4; k++) {
		sqlite3_stmt *q = NULL;
		int rc;
		if (sqlite3_prepare_v2(st->db, sql[k], -1, &q, NULL) !=
		    SQLITE_OK) {
			store_said_free(out);
			return db_error(st, err, "reading settings");
		}
		sqlite3_bind_int64(q, 1, leader);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			const char *a = (const char *)sqlite3_column_text(q, 0);
			if (k == 0) {
				out->settings =
					xrealloc(out->settings,
						 (out->nsettings + 1) *
							 sizeof *out->settings);
				store_setting_t *x =
					&out->settings[out->nsettings++];
				x->addr = xstrdup(a);
				x->snoozed_until = sqlite3_column_int64(q, 1);
				x->cadence_days = sqlite3_column_double(q, 2);
				x->note = xstrdup((
					const char *)sqlite3_column_text(q, 3));
			} else if (k == 1) {
				strvec_push(&out->ignore, a);
			} else if (k == 2) {
				strvec_push(&out->merged, a);
				strvec_push(&out->merged,
					    (const char *)sqlite3_column_text(
						    q, 1));
			} else {
				strvec_push(&out->unmerged, a);
			}
		}
		sqlite3_finalize(q);
		if (rc != SQLITE_DONE) {
			store_said_free(out);
			return db_error(st, err, "reading settings");
		}
	}
	return ST_OK;
}

const store_setting_t *store_said_setting(const store_said_t *s,
					  const char *addr)
{
	store_setting_t key = {.addr = (char *)addr};
	if (!s || !s->nsettings)
		return NULL;
	return bsearch(&key, s->settings, s->nsettings, sizeof key,
		       setting_cmp);
}

void store_said_free(store_said_t *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nsettings; i++) {
		free(s->settings[i].addr);
		free(s->settings[i].note);
	}
	free(s->settings);
	strvec_free(&s->ignore);
	strvec_free(&s->merged);
	strvec_free(&s->unmerged);
	memset(s, 0, sizeof *s);
}

/* ---- the send ledger ------------------------------------------------ */

static const char *const delivery_names[] = {NULL, "sending", "sent", "failed"};

status_t store_delivery(store_t *st, int64_t leader, const char *week,
			store_delivery_t *state, int *n, err_t *err)
{
	sqlite3_stmt *q = NULL;
	*state = STORE_NONE;
	*n = 0;
	if (sqlite3_prepare_v2(
		    st->db,
		    "SELECT status, n FROM delivery WHERE leader_id = ?1"
		    " AND week = ?2 ORDER BY n DESC LIMIT 1",
		    -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "ledger");
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_text(q, 2, week, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(q, 0);
		for (int i = 1; i < 4; i++)
			if (strcmp(s, delivery_names[i]) == 0)
				*state = (store_delivery_t)i;
		*n = sqlite3_column_int(q, 1);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE
		       ? ST_OK
		       : db_error(st, err, "ledger");
}

status_t store_merges_shown(store_t *st, int64_t leader, const char *week,
			    strmap_t *keys, err_t *err)
{
	sqlite3_stmt *q = NULL;
	int rc;
	if (sqlite3_prepare_v2(
		    st->db,
		    "SELECT key FROM merge_shown WHERE leader_id = ?1"
		    " AND week < ?2",
		    -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "merges shown");
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_text(q, 2, week, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		strmap_put(keys, (const char *)sqlite3_column_text(q, 0), 1);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? ST_OK : db_error(st, err, "merges shown");
}

status_t store_merge_shown(store_t *st, int64_t leader, const char *key,
			   const char *week, err_t *err)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO merge_shown (leader_id, key, week)"
			       " VALUES (?1, ?2, ?3)"
			       " ON CONFLICT (leader_id, key) DO UPDATE SET"
			       " week = min(week, excluded.week)",
			       -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "merges shown");
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, week, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? ST_OK : db_error(st, err, "merges shown");
}

status_t store_delivery_set(store_t *st, int64_t leader, const char *week,
			    int n, store_delivery_t state,
			    const char *message_id, int64_t time,
			    const char *detail, err_t *err)
{
	int64_t nn = n;
	const void *args[] = {&leader,    week,  &nn,   delivery_names[state],
			      message_id, &time, detail};
	return exec1(
		st,
		"INSERT INTO delivery (leader_id, week, n, status,"
		" message_id, time, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		" ON CONFLICT (leader_id, week, n) DO UPDATE SET"
		" status = excluded.status, time = excluded.time,"
		" detail = excluded.detail",
		"ititt"
		"it",
		args, err);
}

status_t store_sources(store_t *st, int64_t leader, int64_t until,
		       store_source_info_t **out, size_t *n, err_t *err)
{
	sqlite3_stmt *q = NULL;
	int rc;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(
		    st->db,
		    "SELECT spec, coalesce(last_new, 0),"
		    /* mail has no item: its newest is the first of the
		     * source down the (leader_id, time) index (not asked
		     * of a calendar, which would walk the whole index) */
		    " max(CASE WHEN s.kind IN ('ics', 'http') THEN 0"
		    " ELSE coalesce((SELECT time FROM interaction i"
		    " WHERE i.leader_id = ?1 AND i.time < ?2"
		    " AND i.source_id = s.id AND i.item IS NULL"
		    " ORDER BY i.time DESC LIMIT 1), 0) END,"
		    " coalesce((SELECT max(time) FROM interaction i"
		    " WHERE i.source_id = s.id AND i.item IS NOT NULL"
		    " AND i.time < ?2), 0),"
		    " coalesce((SELECT max(i.time) FROM interaction_copy c"
		    " JOIN interaction i ON i.id = c.interaction_id"
		    " WHERE c.source_id = s.id AND i.time < ?2), 0))"
		    " FROM source s WHERE leader_id = ?1 ORDER BY id",
		    -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "sources");
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_int64(q, 2, until);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		(*out)[*n].spec =
			xstrdup((const char *)sqlite3_column_text(q, 0));
		(*out)[*n].last_new = sqlite3_column_int64(q, 1);
		(*out)[*n].newest = sqlite3_column_int64(q, 2);
		(*n)++;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? ST_OK : db_error(st, err, "sources");
}

void store_sources_free(store_source_info_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].spec);
	free(v);
}

/* ---- reading history ------------------------------------------------ */

/* A set of ids as a bitmap over [lo, lo + 64 * nwords), with the rank of
 * each member (its place among the members in ascending order) at hand. */
typedef struct {
	int64_t lo;
	size_t nwords;
	uint64_t *bits;
	uint32_t *before; /* members in the words before each word */
} idset_t;

static void idset_init(idset_t *set, const int64_t *ids, size_t n)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		lo = ids[i] < lo ? ids[i] : lo;
		hi = ids[i] > hi ? ids[i] : hi;
	}
	set->lo = lo;
	set->nwords = n ? (uint64_t)(hi - lo) / 64 + 1 : 0;
	set->bits = xcalloc(set->nwords ? set->nwords : 1, sizeof *set->bits);
	set->before =
		xcalloc(set->nwords ? set->nwords : 1, sizeof *set->before);
	for (size_t i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(ids[i] - lo);
		set->bits[d / 64] |= UINT64_C(1) << (d % 64);
	}
	uint32_t c = 0;
	for (size_t w = 0; w < set->nwords; w++) {
		set->before[w] = c;
		c += (uint32_t)__builtin_popcountll(set->bits[w]);
	}
}

static bool idset_has(const idset_t *set, int64_t id)
{
	if (id < set->lo || (uint64_t)(id - set->lo) / 64 >= set->nwords)
		return false;
	uint64_t d = (uint64_t)(id - set->lo);
	return set->bits[d / 64] >> (d % 64) & 1;
}

/* The rank of a member. */
static uint32_t idset_rank(const idset_t *set, int64_t id)
{
	uint64_t d = (uint64_t)(id - set->lo);
	uint64_t below = set->bits[d / 64] & ((UINT64_C(1) << (d % 64)) - 1);
	return set->before[d / 64] + (uint32_t)__builtin_popcountll(below);
}

/* Ids closer than this are read as one run of rows: reading a few rows
 * too many costs less than another seek. */
#define RUN_GAP 64
/* KiB of page cache while a history is read (set_cache_kib) */
#define SCAN_CACHE_KIB 1024
/* a page cache of at least this many bytes is given back before a
 * history is read (load_history) */
#define GIVE_BACK_BYTES (4 << 20)

/* The runs of members, each [first, last], ascending; returns how many. */
static size_t idset_runs(const idset_t *set, int64_t (**out)[2])
{
	size_t n = 0, cap = 0;
	int64_t last = 0;
	*out = NULL;
	for (size_t w = 0; w < set->nwords; w++)
		for (uint64_t b = set->bits[w]; b; b &= b - 1) {
			int64_t id = set->lo + (int64_t)(64 * w) +
				     __builtin_ctzll(b);
			if (!n || id - last > RUN_GAP) {
				if (n == cap) {
					cap = cap ? 2 * cap : 16;
					*out = xrealloc(*out,
							cap * sizeof **out);
				}
				(*out)[n++][0] = id;
			}
			(*out)[n - 1][1] = last = id;
		}
	return n;
}

static void idset_free(idset_t *set)
{
	free(set->bits);
	free(set->before);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Mostly few participants, and seldom more than a few dozen: an
 * insertion sort, unless there are many. */
static void sort_parts(uint32_t *v, size_t n)
{
	if (n > 64) {
		qsort(v, n, sizeof *v, u32_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		uint32_t x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Set the page cache to kib KiB; the size it had, or 0 if unknown.  A
 * history is read in one pass, which a cache cannot speed up: read with
 * a small one, what ingest filled is given back for the history itself,
 * and reading stays flat in memory as the store grows. */
static int set_cache_kib(store_t *st, int kib)
{
	sqlite3_stmt *q = NULL;
	int old = 0;
	if (sqlite3_prepare_v2(st->db, "PRAGMA cache_size", -1, &q, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		old = -sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (old > 0) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA cache_size = %d", -kib);
		sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	}
	return old;
}

/* A growing array of address indices: every participant of a history. */
typedef struct {
	uint32_t *v;
	size_t n, cap;
} parts_t;

/* Append to ps the participants in a JSON array of their address ids (as
 * party_list writes it), each as its index in the history's addresses
 * (addr_of, by the ids' ranks in aset), in order; their count. */
static size_t read_parties(parts_t *ps, const char *list, const idset_t *aset,
			   const uint32_t *addr_of)
{
	size_t n = 1, start = ps->n;
	for (const char *p = list ? list : ""; *p; p++)
		n += *p == ',';
	if (ps->n + n > ps->cap) {
		ps->cap = 2 * ps->cap > ps->n + n ? 2 * ps->cap : ps->n + n;
		ps->v = xrealloc(ps->v, ps->cap * sizeof *ps->v);
	}
	for (const char *p = list ? list : ""; *p;) {
		if (*p < '0' || *p > '9') {
			p++;
			continue;
		}
		uint64_t u = 0; /* its last 18 digits: no overflow */
		int digits = 0;
		for (; *p >= '0' && *p <= '9'; p++, digits++)
			u = u * 10 % 1000000000000000000u +
			    (uint64_t)(*p - '0');
		int64_t aid = digits <= 18 ? (int64_t)u : -1; /* ids are less */
		if (idset_has(aset, aid)) /* not another leader's */
			ps->v[ps->n++] = addr_of[idset_rank(aset, aid)];
	}
	sort_parts(ps->v + start, ps->n - start);
	return ps->n - start;
}

/* Interactions (or upcoming meetings) with their participants.  The
 * window's ids come from the time index, oldest first; the rows are then
 * read by runs of nearby ids, in the order of the table (for a year of
 * mail one sequential pass instead of a lookup per row), and each put in
 * its place by its id's rank. */
static status_t load_history(store_t *st, int64_t leader, int64_t since,
			     int64_t until, bool upcoming, store_history_t *out,
			     err_t *err)
{
	static const char addr_sql[] =
		"SELECT a.id, a.addr, (SELECT name FROM address_name n"
		" WHERE n.address_id = a.id ORDER BY uses DESC, name LIMIT 1)"
		" FROM address a WHERE leader_id = ?1 ORDER BY addr";
	static const char src_sql[] =
		"SELECT id, spec FROM source WHERE leader_id = ?1";
	static const char *const id_sqls[2] = {
		"SELECT id FROM interaction"
		" WHERE leader_id = ?1 AND time >= ?2 AND time < ?3"
		" ORDER BY time, id",
		"SELECT id FROM upcoming"
		" WHERE leader_id = ?1 AND time >= ?2 AND time < ?3"
		" ORDER BY time, id",
	};
	/* by rowid: the unary + keeps the time index out of it */
	static const char *const ia_sqls[2] = {
		"SELECT id, time, channel, size, weight, title, source_id, 0,"
		" parties FROM interaction WHERE id BETWEEN ?4 AND ?5"
		" AND +leader_id = ?1 AND +time >= ?2 AND +time < ?3",
		"SELECT id, time, 'meeting', size, weight, title, source_id,"
		" recurring, parties FROM upcoming WHERE id BETWEEN ?4 AND ?5"
		" AND +leader_id = ?1 AND +time >= ?2 AND +time < ?3",
	};
	sqlite3_stmt *q = NULL;
	int64_t *ids = NULL, (*runs)[2] = NULL;
	int64_t *src_ids = NULL, *addr_ids = NULL;
	uint32_t *addr_of = NULL, *place = NULL;
	parts_t ps = {0};
	size_t nids = 0, nruns = 0, cap = 0, placed = 0;
	idset_t set = {0}, aset = {0};
	status_t s = ST_OK;
	int rc;
	/* one snapshot for all the queries, unless already in one */
	bool own = sqlite3_get_autocommit(st->db);

	int used = 0, hi = 0;
	sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_USED, &used, &hi, 0);
	int cache = set_cache_kib(st, SCAN_CACHE_KIB);
	/* What a fresh ingest left in the cache goes back to the system
	 * before the history's arrays are made, or the two would add up.
	 * Not for a little: giving back costs its page faults. */
	if (used >= GIVE_BACK_BYTES)
		mem_give_back();

	memset(out, 0, sizeof *out);
	if (own && sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto dberr;
	if (sqlite3_prepare_v2(st->db, addr_sql, -1, &q, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_int64(q, 1, leader);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (out->naddrs == cap) {
			cap = cap ? 2 * cap : 256;
			out->addrs =
				xrealloc(out->addrs, cap * sizeof *out->addrs);
			addr_ids = xrealloc(addr_ids, cap * sizeof *addr_ids);
		}
		store_addr_t *a = &out->addrs[out->naddrs];
		a->addr = xstrdup((const char *)sqlite3_column_text(q, 1));
		a->name = xstrdup((const char *)sqlite3_column_text(q, 2));
		addr_ids[out->naddrs++] = sqlite3_column_int64(q, 0);
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(q);
	q = NULL;
	/* address id -> index in addrs, by the ids' ranks */
	idset_init(&aset, addr_ids, out->naddrs);
	addr_of = xcalloc(out->naddrs ? out->naddrs : 1, sizeof *addr_of);
	for (size_t i = 0; i < out->naddrs; i++)
		addr_of[idset_rank(&aset, addr_ids[i])] = (uint32_t)i;

	/* the leader's sources, by id */
	if (sqlite3_prepare_v2(st->db, src_sql, -1, &q, NULL) != SQLITE_OK)
		goto dberr;
	sqlite3_bind_int64(q, 1, leader);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		out->sources =
			xrealloc(out->sources,
				 (out->nsources + 1) * sizeof *out->sources);
		src_ids = xrealloc(src_ids,
				   (out->nsources + 1) * sizeof *src_ids);
		src_ids[out->nsources] = sqlite3_column_int64(q, 0);
		out->sources[out->nsources++] =
			xstrdup((const char *)sqlite3_column_text(q, 1));
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(q);
	q = NULL;
	if (out->nsources >= UINT16_MAX) /* store_ia_t.source */
		goto toobig;

	/* the window's ids, oldest first */
	if (sqlite3_prepare_v2(st->db, id_sqls[upcoming], -1, &q, NULL) !=
	    SQLITE_OK)
		goto dberr;
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_int64(q, 2, since);
	sqlite3_bind_int64(q, 3, until);
	cap = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (nids == cap) {
			cap = cap ? 2 * cap : 1024;
			ids = xrealloc(ids, cap * sizeof *ids);
		}
		ids[nids++] = sqlite3_column_int64(q, 0);
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(q);
	q = NULL;
	idset_init(&set, ids, nids);
	place = xcalloc(nids ? nids : 1, sizeof *place);
	for (size_t k = 0; k < nids; k++)
		place[idset_rank(&set, ids[k])] = (uint32_t)k;
	free(ids); /* before the rows: the set knows them */
	ids = NULL;
	nruns = idset_runs(&set, &runs);
	out->ias = xcalloc(nids ? nids : 1, sizeof *out->ias);
	out->nias = nids; /* for store_history_free, on an error too */

	/* the rows */
	if (sqlite3_prepare_v2(st->db, ia_sqls[upcoming], -1, &q, NULL) !=
	    SQLITE_OK)
		goto dberr;
	for (size_t r = 0; r < nruns; r++) {
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, leader);
		sqlite3_bind_int64(q, 2, since);
		sqlite3_bind_int64(q, 3, until);
		sqlite3_bind_int64(q, 4, runs[r][0]);
		sqlite3_bind_int64(q, 5, runs[r][1]);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(q, 0);
			if (!idset_has(&set, id))
				continue;
			uint32_t k = place[idset_rank(&set, id)];
			store_ia_t *ia = &out->ias[k];
			ia->time = sqlite3_column_int64(q, 1);
			ia->channel =
				strcmp((const char *)sqlite3_column_text(q, 2),
				       "meeting") == 0
					? STORE_MEETING
					: STORE_EMAIL;
			ia->size = sqlite3_column_int(q, 3);
			ia->weight = sqlite3_column_double(q, 4);
			if (sqlite3_column_type(q, 5) != SQLITE_NULL) {
				if (!out->titles)
					out->titles = xcalloc(
						nids, sizeof *out->titles);
				out->titles[k] = xstrdup((
					const char *)sqlite3_column_text(q, 5));
			}
			int64_t sid = sqlite3_column_int64(q, 6);
			ia->source = UINT16_MAX;
			for (size_t i = 0; i < out->nsources; i++)
				if (src_ids[i] == sid)
					ia->source = (uint16_t)i;
			ia->recurring = sqlite3_column_int(q, 7) != 0;
			if (ps.n > UINT32_MAX)
				goto toobig;
			ia->first = (uint32_t)ps.n;
			ia->nparts = (uint32_t)read_parties(
				&ps, (const char *)sqlite3_column_text(q, 8),
				&aset, addr_of);
			placed++;
		}
		if (rc != SQLITE_DONE)
			goto dberr;
	}
	/* exactly as many as there are: the pool grew by doubling */
	out->parts = ps.n ? xrealloc(ps.v, ps.n * sizeof *ps.v) : ps.v;
	ps.v = NULL;
	sqlite3_finalize(q);
	q = NULL;
	if (placed != nids) { /* one snapshot: the index and the table agree */
		s = sql_fail(st, err, SQLITE_CORRUPT, "reading history",
			     "the time index and the table disagree");
		store_history_free(out);
		goto done;
	}

	goto done;
toobig:
	s = sql_fail(st, err, SQLITE_TOOBIG, "reading history",
		     "more sources or participants than a history holds");
	store_history_free(out);
	goto done;
dberr:
	s = db_error(st, err, "reading history");
	store_history_free(out);
done:
	sqlite3_finalize(q);
	if (own && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (cache)
		set_cache_kib(st, cache);
	idset_free(&set);
	idset_free(&aset);
	free(ids);
	free(runs);
	free(src_ids);
	free(addr_ids);
	free(addr_of);
	free(place);
	free(ps.v);
	return s;
}

status_t store_seen_before(store_t *st, int64_t leader, const char *addr,
			   int64_t before, bool *seen, err_t *err)
{
	sqlite3_stmt *q = NULL;
	*seen = false;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT EXISTS (SELECT 1 FROM address"
			       " WHERE leader_id = ?1 AND addr = ?2"
			       " AND first_time < ?3)",
			       -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "reading history");
	sqlite3_bind_int64(q, 1, leader);
	sqlite3_bind_text(q, 2, addr, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 3, before);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*seen = sqlite3_column_int(q, 0) != 0;
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? ST_OK : db_error(st, err, "reading history");
}

status_t store_history(store_t *st, int64_t leader, int64_t since,
		       int64_t until, store_history_t *out, err_t *err)
{
	return load_history(st, leader, since, until, false, out, err);
}

status_t store_upcoming(store_t *st, int64_t leader, int64_t since,
			int64_t until, store_history_t *out, err_t *err)
{
	return load_history(st, leader, since, until, true, out, err);
}

void store_history_free(store_history_t *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->naddrs; i++) {
		free(h->addrs[i].addr);
		free(h->addrs[i].name);
	}
	for (size_t i = 0; h->titles && i < h->nias; i++)
		free(h->titles[i]);
	free(h->titles);
	free(h->parts);
	for (size_t i = 0; i < h->nsources; i++)
		free(h->sources[i]);
	free(h->addrs);
	free(h->ias);
	free(h->sources);
	memset(h, 0, sizeof *h);
}
