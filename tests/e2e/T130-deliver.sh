#!/usr/bin/env bash
# Delivery through a sendmail-compatible command, and the send ledger:
# once per week, --force sends again with a new Message-ID, a failure is
# recorded and retried, a stale source stops the digest, one run at a time.
. "$(dirname "$0")/lib.sh"

cp -a "$DIGEST_SRC/examples" "$TMP/ex"
rm -f "$TMP/ex/example.db"*
mkdir -p "$TMP/sent"
cat >"$TMP/sendmail" <<'SH'
#!/bin/sh
# Stub: keep argv and the message; fail with $STUB_EXIT when set.
n=$(ls "$STUB_DIR" | grep -c '\.eml$')
printf '%s\n' "$@" >"$STUB_DIR/$n.argv"
cat >"$STUB_DIR/$n.eml"
exit "${STUB_EXIT:-0}"
SH
chmod +x "$TMP/sendmail"
export STUB_DIR=$TMP/sent
cat >>"$TMP/ex/digest.ini" <<INI

[smtp]
sendmail = $TMP/sendmail -oi
from = Relationship Digest <digest@example.net>
INI
sed -i "s|^\[digest\]|[digest]\nlog_file = $TMP/digest.log\nlock_timeout = 1s|" "$TMP/ex/digest.ini"
C="-c $TMP/ex/digest.ini"
N="--now 2026-11-30T07:00"

run 0 $C run $N
expect_empty "$TMP/out" "run stdout"
expect_empty "$TMP/err" "run stderr"
[ "$(ls "$TMP/sent" | tr '\n' ' ')" = "0.argv 0.eml " ] || fail "one message expected: $(ls "$TMP/sent")"
[ "$(cat "$TMP/sent/0.argv" | tr '\n' ' ')" = "-oi -i -f digest@example.net -- alex@example.com " ] ||
	fail "argv: $(cat "$TMP/sent/0.argv")"
grep -q $'\r' "$TMP/sent/0.eml" && fail "CRLF given to sendmail"
grep -q "^Message-ID: <digest.alex.2026-W49.0@example.net>$" "$TMP/sent/0.eml" || fail "Message-ID"
expect_grep "leader=alex week=2026-W49 to=alex@example.com status=sent" "$TMP/digest.log"
[ "$(stat -c %a "$TMP/digest.log")" = 600 ] || fail "log mode"

# The same week again: nothing sent, quietly (-v says why).
run 0 $C run --now 2026-12-03T18:00 -v
expect_grep "the digest of 2026-W49 was sent already" "$TMP/err"
[ ! -e "$TMP/sent/1.eml" ] || fail "sent twice in a week"

# --force: sent again, with the next Message-ID.
run 0 $C run $N --force
grep -q "^Message-ID: <digest.alex.2026-W49.1@example.net>$" "$TMP/sent/1.eml" || fail "forced resend Message-ID"

# A failing delivery next week: exit 75, recorded failed, retried by the
# next run with the same Message-ID.
STUB_EXIT=75 run 75 $C run --now 2026-12-07T07:00
expect_grep "delivery to alex@example.com failed" "$TMP/err"
expect_grep "week=2026-W50 to=alex@example.com status=failed" "$TMP/digest.log"
run 0 $C run --now 2026-12-07T08:00
grep -q "^Message-ID: <digest.alex.2026-W50.0@example.net>$" "$TMP/sent/2.eml" || fail "failed Message-ID"
grep -q "^Message-ID: <digest.alex.2026-W50.0@example.net>$" "$TMP/sent/3.eml" || fail "retry Message-ID"
STUB_EXIT=1 run 65 $C run --now 2026-12-07T09:00 --force

# A source that brought nothing new for weeks: not sent, named, exit 75;
# check and preview say so too.
run 75 $C run --now 2027-01-25T07:00
expect_grep "not sent: maildir:Sent: nothing new since" "$TMP/err"
run 0 $C preview --leader alex --now 2027-01-25T07:00
head -1 "$TMP/out" | grep -q "^WARNING: maildir:Sent: nothing new since" || fail "preview warning"
run 75 $C check --now 2027-01-25T07:00
expect_grep "maildir:Sent: nothing new since" "$TMP/err"

# One run at a time: a held lock makes the second wait, then exit 75.
# The holder says "locked" once it has the lock, and keeps it until told
# to let go: no fixed sleep, however slowly python3 starts.
mkfifo "$TMP/hold" "$TMP/held"
python3 - "$TMP/ex/example.db.lock" "$TMP/held" "$TMP/hold" <<'PY' &
import fcntl, sys
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
with open(sys.argv[2], "w") as held:
    held.write("locked\n")
open(sys.argv[3]).read()
PY
exec 3<>"$TMP/held" 4<>"$TMP/hold"   # read-write: opening never blocks
read -t 60 -r state <&3 || state=
[ "$state" = locked ] || fail "the lock holder did not start"
run 75 $C ingest
expect_grep "example.db.lock: another digest is running" "$TMP/err"
exec 3<&- 4>&-   # the holder reads to end of file, then lets go
wait

# No way to send: a configuration error.
sed -i '/^\[smtp\]/,$d' "$TMP/ex/digest.ini"
run 78 $C run --now 2026-12-21T07:00 --force
expect_grep "no [smtp] url or sendmail" "$TMP/err"
