#!/usr/bin/env bash
# The database failing for real, and each failure saying what happened
# with the exit code of DESIGN §2: a file that is not a database or is
# corrupt 65; an I/O error or a full disk 74, for a new database and an
# old one; a database that cannot be created or written 73 (66 for the
# commands that only read).  No read command claims that a schema
# upgrade is needed when the file cannot be read at all.
#
# What each part simulates:
#   not_a_database  text over the SQLite header (SQLITE_NOTADB)
#   corrupt_page    the pages of a table overwritten (SQLITE_CORRUPT)
#   check_corrupt   `digest check` on both (PRAGMA quick_check)
#   io_error        writes the kernel refuses past `ulimit -f` (EFBIG,
#                   SIGXFSZ ignored): SQLITE_IOERR_WRITE, or SQLITE_FULL
#                   for a write cut short; needs no privilege
#   disk_full       a tmpfs of a few pages in a private mount namespace
#                   (ENOSPC: SQLITE_FULL, SQLITE_IOERR for -shm); root
#   readonly_dir    the database's directory not writable (chmod; for
#                   root chattr +i, or else a read-only bind mount): -wal
#                   and -shm cannot be created (SQLITE_CANTOPEN)
#   readonly_shm    the -wal and -shm a killed run left, the -shm not
#                   writable (chmod; chattr +i for root): SQLite opens it
#                   read-only and refuses to write (SQLITE_READONLY)
# A part the machine cannot do is skipped; the test then exits 77 after
# the others passed.
. "$(dirname "$0")/lib.sh"

# Immutable files stop rm -rf: clear the flags first.
trap 'chattr -R -i "$TMP" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT

# mail DIR N: a Maildir of N messages from alex to N people.
mail() {
	mkdir -p "$1/cur" "$1/new" "$1/tmp"
	for i in $(seq 1 "$2"); do
		printf 'Date: Thu, 03 Sep 2026 10:00:00 +0000\nFrom: alex@example.com\nTo: Person %d <p%d@example.com>\nMessage-ID: <m%d@example.com>\n\nhi\n' \
			"$i" "$i" "$i" >"$1/cur/$i.host:2,S"
	done
}
mail "$TMP/one" 1
mail "$TMP/many" 300

# conf NAME DB SENT: $TMP/NAME.ini, alex reading SENT into DB.
conf() {
	printf '[digest]\ndatabase = %s\ntimezone = UTC\n\n[leader alex]\nname = Alex Leader\nemail = alex@example.com\nsent = maildir:%s\n' \
		"$2" "$3" >"$TMP/$1.ini"
}

# An old database: one message ingested.
conf seed "$TMP/seed/digest.db" "$TMP/one"
run 0 -c "$TMP/seed.ini" ingest --now $NOW
SEED=$TMP/seed/digest.db

# said WHAT: stderr names the database $db and says WHAT, and no
# schema upgrade.
said() {
	expect_grep "$db" "$TMP/err"
	expect_grep "$1" "$TMP/err"
	if grep -q "upgrade" "$TMP/err"; then
		cat "$TMP/err" >&2
		fail "an unreadable database is not a schema to upgrade"
	fi
}

# The commands that write and those that only read, on $TMP/$1.ini.
all_say() {
	local ini=$TMP/$1.ini want=$2 what=$3
	run "$want" -c "$ini" ingest --now $NOW
	said "$what"
	run "$want" -c "$ini" contacts --leader alex --now $NOW
	said "$what"
	run "$want" -c "$ini" preview --leader alex --now $NOW
	said "$what"
}

# not_a_db FILE: 9 kB of text.
not_a_db() {
	printf 'not a database\n%.0s' $(seq 600) >"$1"
}

part_not_a_database() {
	db=$TMP/nd/digest.db
	mkdir -p "$TMP/nd"
	not_a_db "$db"
	conf nd "$db" "$TMP/one"
	all_say nd 65 "file is not a database"
}

# spoil DB [TABLE]: overwrite the pages of TABLE and its indexes (their
# root pages: the tables are small), or every page after the first (the
# header and the start of the schema).
spoil() {
	python3 - "$@" <<'PY'
import os, sqlite3, sys
path = sys.argv[1]
if len(sys.argv) > 2:
    db = sqlite3.connect(path)
    pages = [r[0] for r in db.execute(
        "SELECT rootpage FROM sqlite_schema WHERE tbl_name = ?",
        (sys.argv[2],))]
    db.close()
else:
    pages = range(2, os.stat(path).st_size // 4096 + 1)
with open(path, "r+b") as f:
    for pg in pages:
        f.seek((pg - 1) * 4096)
        f.write(bytes((i * 37 + 11) % 256 for i in range(4096)))
PY
}

part_corrupt_page() {
	db=$TMP/cp/digest.db
	mkdir -p "$TMP/cp"
	cp "$SEED" "$db"
	spoil "$db"
	conf cp "$db" "$TMP/one"
	all_say cp 65 "database disk image is malformed"
}

# check runs PRAGMA quick_check on an existing database.
part_check_corrupt() {
	db=$TMP/cc/digest.db
	mkdir -p "$TMP/cc"
	cp "$SEED" "$db"
	conf cc "$db" "$TMP/one"
	run 0 -c "$TMP/cc.ini" check --now 2026-09-04T00:00:00Z
	expect_grep "configuration OK" "$TMP/out"
	# What quick_check finds: its first problem, on one line.
	spoil "$db" source
	run 65 -c "$TMP/cc.ini" check --now 2026-09-04T00:00:00Z
	said "$db: database is corrupt: "
	[ "$(wc -l <"$TMP/err")" = 1 ] || fail "more than the first problem"
	# Too damaged to be checked.
	spoil "$db"
	run 65 -c "$TMP/cc.ini" check --now 2026-09-04T00:00:00Z
	said "malformed"
	[ ! -s "$TMP/out" ] || fail "configuration OK for a corrupt database"
	not_a_db "$db"
	run 65 -c "$TMP/cc.ini" check --now 2026-09-04T00:00:00Z
	said "file is not a database"
}

part_io_error() {
	db=$TMP/io/digest.db
	mkdir -p "$TMP/io"
	conf io "$db" "$TMP/many"
	trap '' XFSZ
	# New: the schema alone is larger than 16 KiB.
	(ulimit -f 16 && run 74 -c "$TMP/io.ini" ingest --now $NOW) || exit
	said "disk I/O error"
	# Old: 300 messages do not fit under 64 KiB.
	rm -f "$db"*
	cp "$SEED" "$db"
	(ulimit -f 64 && run 74 -c "$TMP/io.ini" ingest --now $NOW) || exit
	said "$db"
}

# on_tmpfs SIZE DIR SEED CMD...: CMD with a fresh tmpfs of SIZE on DIR
# (holding SEED as digest.db unless SEED is ""), in a mount namespace of
# its own that ends with CMD.
on_tmpfs() {
	unshare -m --propagation private sh -c '
		mount -t tmpfs -o size="$1",mode=0700 tmpfs "$2" || exit 99
		[ -z "$3" ] || cp "$3" "$2/digest.db" || exit 99
		shift 3
		exec "$@"' sh "$@"
}

part_disk_full() {
	db=$TMP/full/digest.db
	mkdir -p "$TMP/full"
	on_tmpfs 64k "$TMP/full" "" true 2>/dev/null ||
		skip "cannot mount a tmpfs in a mount namespace of its own"
	conf full "$db" "$TMP/many"
	REAL=$DIGEST
	DIGEST=digest_full
	digest_full() { on_tmpfs "$SIZE" "$TMP/full" "$FROM" "$REAL" "$@"; }
	SIZE=64k FROM=
	run 74 -c "$TMP/full.ini" ingest --now $NOW
	said "$db"
	SIZE=200k FROM=$SEED
	run 74 -c "$TMP/full.ini" ingest --now $NOW
	said "database or disk is full"
}

# How this machine makes a directory read-only: chmod for others than
# root; for root, whom permission bits do not stop, chattr +i or a
# read-only bind mount in a mount namespace; "" when neither works.
ro_how() {
	mkdir -p "$TMP/probe"
	if [ "$(id -u)" != 0 ]; then
		echo chmod
	elif chattr +i "$TMP/probe" 2>/dev/null; then
		chattr -i "$TMP/probe"
		echo chattr
	elif unshare -m --propagation private sh -c \
		'mount --bind -o ro "$1" "$1"' sh "$TMP/probe" 2>/dev/null; then
		echo bind
	fi
}

# digest_ro ARGS...: digest with $RO read-only.
digest_ro() {
	local rc=0
	case $HOW in
	chmod)
		chmod a-w "$RO"
		"$REAL" "$@" || rc=$?
		chmod u+w "$RO"
		return $rc
		;;
	chattr)
		chattr +i "$RO"
		"$REAL" "$@" || rc=$?
		chattr -i "$RO"
		return $rc
		;;
	bind)
		unshare -m --propagation private sh -c \
			'mount --bind -o ro "$1" "$1" && shift && exec "$@"' \
			sh "$RO" "$REAL" "$@"
		;;
	esac
}

part_readonly_dir() {
	HOW=$(ro_how)
	[ -n "$HOW" ] || skip "cannot make a directory read-only for root"
	REAL=$DIGEST
	DIGEST=digest_ro
	RO=$TMP/ro
	db=$RO/digest.db
	mkdir -p "$RO"
	cp "$SEED" "$db"
	: >"$db.lock"
	conf ro "$db" "$TMP/one"
	run 73 -c "$TMP/ro.ini" ingest --now $NOW
	said "$db"
	# SQLite's words depend on who runs it: "unable to open database
	# file" for root, "attempt to write a readonly database" for others.
	run 66 -c "$TMP/ro.ini" contacts --leader alex --now $NOW
	said "$db: cannot read database: "
	run 66 -c "$TMP/ro.ini" preview --leader alex --now $NOW
	said "$db: cannot read database: "
	# A new database in a directory that cannot be made.
	db=$RO/new/digest.db
	conf ro "$db" "$TMP/one"
	run 73 -c "$TMP/ro.ini" ingest --now $NOW
	said "$db"
}

part_readonly_shm() {
	db=$TMP/shm/digest.db
	mkdir -p "$TMP/shm"
	cp "$SEED" "$db"
	# A run killed with the database open leaves -wal and -shm.
	python3 - "$db" <<'PY'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO leader (name) VALUES ('killed')")
db.commit()
os._exit(0)
PY
	[ -e "$db-shm" ] || fail "no -shm left behind"
	if [ "$(id -u)" != 0 ]; then
		chmod a-w "$db-shm"
	else
		chattr +i "$db-shm" 2>/dev/null ||
			skip "chattr +i does not work here"
	fi
	conf shm "$db" "$TMP/one"
	run 73 -c "$TMP/shm.ini" ingest --now $NOW
	said "attempt to write a readonly database"
	chattr -i "$db-shm" 2>/dev/null || true
}

failed= skipped=
for part in not_a_database corrupt_page check_corrupt io_error disk_full \
	readonly_dir readonly_shm; do
	set +e
	(set -e; "part_$part")
	rc=$?
	set -e
	case $rc in
	0) ;;
	77) skipped="$skipped $part" ;;
	*) failed="$failed $part" ;;
	esac
done
[ -z "$failed" ] || fail "failed:$failed"
[ -z "$skipped" ] || skip "skipped:$skipped"
