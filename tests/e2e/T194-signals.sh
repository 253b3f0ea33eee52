#!/usr/bin/env bash
# SIGTERM and SIGINT stop a run cleanly: what the source was writing is
# rolled back, the lock is released, one line says so, exit 75; the next
# run reads everything as if nothing had happened.  A stop during a
# delivery lets it end and records its outcome, never "sending".
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is missing"

# An mbox large enough that ingest takes a while: 40,000 messages.
python3 - "$TMP/sent.mbox" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(40000):
        day = 1 + i % 28
        f.write(f"From alex@example.com Mon Nov {day:2d} 10:00:00 2026\n"
                f"Date: Mon, {day:02d} Nov 2026 10:00:00 +0000\n"
                f"From: alex@example.com\n"
                f"To: p{i % 500}@example.com\n"
                f"Message-ID: <m{i}@example.com>\n\nhi\n\n")
PY
write_config "$TMP/c.ini" "sent = mbox:$TMP/sent.mbox"
count() { sqlite3 "$TMP/digest.db" 'SELECT count(*) FROM interaction'; }

# A clean run elsewhere, for the count to compare with.
sed "s|$TMP/digest.db|$TMP/clean.db|" "$TMP/c.ini" >"$TMP/clean.ini"
run 0 -c "$TMP/clean.ini" ingest --now $NOW
want=$(sqlite3 "$TMP/clean.db" 'SELECT count(*) FROM interaction')
[ "$want" -gt 30000 ] || fail "clean run stored only $want interactions"

midway=0
for sig in TERM INT; do
	rm -f "$TMP"/digest.db*
	start=$(date +%s%N)
	rc=0
	"$DIGEST" -c "$TMP/c.ini" ingest --now $NOW >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	# Once ingest has the source open (the lock file exists), stop it.
	for _ in $(seq 100); do
		[ -e "$TMP/digest.db" ] && break
		sleep 0.01
	done
	sleep 0.2
	kill -$sig $pid
	wait $pid || rc=$?
	[ $rc = 75 ] || { cat "$TMP/err" >&2; fail "SIG$sig: exit $rc, expected 75"; }
	[ "$(wc -l <"$TMP/err")" = 1 ] || { cat "$TMP/err" >&2; fail "SIG$sig: not one line"; }
	expect_grep "digest: stopped by SIG$sig; what was half done is rolled back" "$TMP/err"
	[ "$(sqlite3 "$TMP/digest.db" 'PRAGMA integrity_check')" = ok ] ||
		fail "SIG$sig: integrity_check"
	# Rolled back: the source is one transaction.
	got=$(count)
	[ "$got" = 0 ] || [ "$got" = "$want" ] ||
		fail "SIG$sig: $got interactions after the stop, neither 0 nor $want"
	[ "$got" != 0 ] || midway=$((midway + 1))
	# The lock is free and the next run gets everything.
	run 0 -c "$TMP/c.ini" ingest --now $NOW
	[ "$(count)" = "$want" ] || fail "SIG$sig: rerun stored $(count), not $want"
done

# Ingest takes seconds: at least one stop came in the middle of it.
[ $midway -gt 0 ] || fail "no stop landed during ingest; make the mbox larger"

# A stop while sendmail has the message: the delivery ends (here at the
# timeout) and is recorded, then digest stops with 75.
cat >"$TMP/slow-sendmail" <<SH
#!/bin/sh
cat >"$TMP/handed"
sleep 30
SH
chmod +x "$TMP/slow-sendmail"
cat >>"$TMP/c.ini" <<INI
[smtp]
sendmail = $TMP/slow-sendmail
INI
sed -i "s|^\[digest\]|[digest]\ntimeout = 2s\nlog_file = $TMP/log|" "$TMP/c.ini"
rc=0
"$DIGEST" -c "$TMP/c.ini" run --now $NOW >"$TMP/out" 2>"$TMP/err" &
pid=$!
for _ in $(seq 300); do
	[ -s "$TMP/handed" ] && break
	sleep 0.01
done
[ -s "$TMP/handed" ] || fail "sendmail never got the message"
kill -TERM $pid
wait $pid || rc=$?
[ $rc = 75 ] || { cat "$TMP/err" >&2; fail "run: exit $rc, expected 75"; }
expect_grep "stopped by SIGTERM" "$TMP/err"
state=$(sqlite3 "$TMP/digest.db" 'SELECT status FROM delivery')
[ "$state" = failed ] || fail "the ledger says '$state', not failed"
expect_grep "status=failed" "$TMP/log"
