#!/usr/bin/env bash
# Hostile files where mail, calendars or the config should be.  A FIFO
# (a message in a Maildir, the mbox, a calendar file or directory entry,
# the config file) never blocks a run or `check` while it holds the lock;
# a calendar directory with symlink loops, a .ics link to /dev/zero, a
# huge file and a very deep tree is walked once and quickly; odd entries
# in a Maildir are warned about by name, once; an unreadable Maildir says
# why instead of "not a Maildir".  Nothing of the mail is changed.
. "$(dirname "$0")/lib.sh"

# bounded WANT ARGS...: run as `run` does, but a hang fails the test
# at once instead of at ctest's timeout.
bounded() {
	local want=$1 rc=0
	shift
	timeout 20 "$DIGEST" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" != 124 ] || fail "digest $* hung"
	if [ "$rc" != "$want" ]; then
		echo "--- stdout" >&2; cat "$TMP/out" >&2
		echo "--- stderr" >&2; cat "$TMP/err" >&2
		fail "digest $* exited $rc, expected $want"
	fi
}

# ics FILE UID DATE WHO: one past meeting of alex with WHO.
ics() {
	printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//digest tests//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:%sT100000Z\r\nDURATION:PT30M\r\nORGANIZER:mailto:alex@example.com\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' \
		"$2" "$3" "$4" >"$1"
}

count_interactions() {
	bounded 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW --format json
	python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TMP/out"
}

# ---- FIFOs, directories and dangling links in a Maildir and a calendar
# directory: skipped with a warning naming each, once.
mkdir -p "$TMP/Sent/cur" "$TMP/Sent/new" "$TMP/Sent/tmp"
printf 'Date: Thu, 01 Oct 2026 10:00:00 +0000\nFrom: alex@example.com\nTo: bo@example.com\nMessage-ID: <m1@example.com>\n\nhi\n' \
	>"$TMP/Sent/cur/1.host:2,S"
mkfifo "$TMP/Sent/cur/2.fifo:2,S" "$TMP/Sent/new/3.fifo"
mkdir "$TMP/Sent/cur/4.dir:2,S"
ln -s "$TMP/nowhere" "$TMP/Sent/new/5.dangling"
mkdir "$TMP/cals"
ics "$TMP/cals/good.ics" good@example.com 20261102 cy@example.com
mkfifo "$TMP/cals/fifo.ics"
write_config "$TMP/c.ini" "sent = maildir:$TMP/Sent" "calendar = $TMP/cals"
before=$(snapshot "$TMP/Sent")

bounded 0 -c "$TMP/c.ini" ingest --now $NOW
expect_grep "$TMP/Sent/cur/2.fifo:2,S: skipped: not a regular file (a FIFO)" "$TMP/err"
expect_grep "$TMP/Sent/new/3.fifo: skipped: not a regular file (a FIFO)" "$TMP/err"
expect_grep "$TMP/Sent/cur/4.dir:2,S: skipped: Is a directory" "$TMP/err"
expect_grep "$TMP/Sent/new/5.dangling: skipped: dangling symbolic link" "$TMP/err"
expect_grep "$TMP/cals/fifo.ics: skipped: not a regular file (a FIFO)" "$TMP/err"
[ "$(wc -l <"$TMP/err")" -eq 5 ] || fail "expected five warnings: $(cat "$TMP/err")"
[ "$(count_interactions)" = 2 ] || fail "the message and the meeting: $(cat "$TMP/out")"
[ "$(snapshot "$TMP/Sent")" = "$before" ] || fail "ingest changed the Maildir"

# Warned about once, not every week.
touch "$TMP/Sent/cur" "$TMP/Sent/new" # walked again
bounded 0 -c "$TMP/c.ini" ingest --now 2026-12-07T08:00:00Z
expect_empty "$TMP/err" "the second ingest's stderr"

bounded 0 -c "$TMP/c.ini" check --now $NOW
expect_grep "configuration OK" "$TMP/out"
expect_grep "$TMP/cals/fifo.ics: skipped: not a regular file (a FIFO)" "$TMP/err"

# ---- A FIFO as the mbox or as the calendar file: that source fails (65),
# the others are read.
rm -f "$TMP/digest.db"
mkfifo "$TMP/sent.mbox" "$TMP/cal.ics"
write_config "$TMP/c.ini" "sent = mbox:$TMP/sent.mbox" "sent = maildir:$TMP/Sent" \
	"calendar = $TMP/cal.ics" "calendar = $TMP/cals"
bounded 65 -c "$TMP/c.ini" ingest --now $NOW
expect_grep "$TMP/sent.mbox: not a regular file (a FIFO)" "$TMP/err"
expect_grep "$TMP/cal.ics: not a regular file (a FIFO)" "$TMP/err"
[ "$(count_interactions)" = 2 ] || fail "the other sources: $(cat "$TMP/out")"
bounded 65 -c "$TMP/c.ini" check --now $NOW
expect_grep "$TMP/sent.mbox: not a regular file (a FIFO)" "$TMP/err"
expect_grep "$TMP/cal.ics: not a regular file (a FIFO)" "$TMP/err"

# ---- A FIFO as the config file.
mkfifo "$TMP/fifo.ini"
bounded 66 -c "$TMP/fifo.ini" check
expect_grep "$TMP/fifo.ini: cannot open: not a regular file (a FIFO)" "$TMP/err"
bounded 66 -c "$TMP/fifo.ini" ingest --now $NOW
expect_grep "$TMP/fifo.ini: cannot open: not a regular file (a FIFO)" "$TMP/err"

# ---- A calendar directory with two loops (exponential to walk), a link
# up from below, a .ics link to /dev/zero, a sparse 51 MB file and a tree
# 40 deep: each real file read once, the rest warned about.
rm -f "$TMP/digest.db"
mkdir -p "$TMP/walk/sub"
ics "$TMP/walk/one.ics" one@example.com 20261103 dee@example.com
ics "$TMP/walk/sub/two.ics" two@example.com 20261104 eve@example.com
ln -s . "$TMP/walk/x"
ln -s . "$TMP/walk/y"
ln -s .. "$TMP/walk/sub/up"
ln -s /dev/zero "$TMP/walk/zero.ics"
truncate -s 51M "$TMP/walk/big.ics"
deep=$TMP/walk
for i in $(seq 40); do deep=$deep/d; done
mkdir -p "$deep"
ics "$deep/deep.ics" deep@example.com 20261105 fay@example.com
write_config "$TMP/c.ini" "calendar = $TMP/walk"
bounded 0 -c "$TMP/c.ini" -v ingest --now $NOW
expect_grep "2 calendar files read" "$TMP/err"
expect_grep "$TMP/walk/zero.ics: skipped: not a regular file (a character device)" "$TMP/err"
expect_grep "$TMP/walk/big.ics: skipped: larger than 50 MB" "$TMP/err"
expect_grep "/d/d/d: not read: more than 32 directories deep" "$TMP/err"
[ "$(grep -c '^digest: warning: ' "$TMP/err")" -eq 3 ] ||
	fail "expected three warnings: $(cat "$TMP/err")"
[ "$(count_interactions)" = 2 ] || fail "each event once: $(cat "$TMP/out")"
bounded 0 -c "$TMP/c.ini" -v ingest --now $NOW
expect_grep "0 calendar files read" "$TMP/err"
grep -q '^digest: warning: ' "$TMP/err" && fail "warnings repeated: $(cat "$TMP/err")"
bounded 0 -c "$TMP/c.ini" check --now $NOW
expect_grep "$TMP/walk/zero.ics: skipped: not a regular file (a character device)" "$TMP/err"
expect_grep "$TMP/walk/big.ics: skipped: larger than 50 MB" "$TMP/err"

# ---- An unreadable Maildir: the reason, not "not a Maildir".  Root reads
# it anyway, so as root the check runs as nobody.
mkdir -p "$TMP/Locked/cur" "$TMP/Locked/new"
chmod 000 "$TMP/Locked"
write_config "$TMP/c.ini" "sent = maildir:$TMP/Locked"
as=()
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 ||
		skip "running as root without setpriv or a user nobody"
	chmod 755 "$TMP" "$HOME"
	chmod 644 "$TMP/c.ini"
	as=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --)
fi
rc=0
HOME=$HOME timeout 20 "${as[@]}" "$DIGEST" -c "$TMP/c.ini" check >"$TMP/out" 2>"$TMP/err" || rc=$?
chmod 700 "$TMP/Locked"
[ "$rc" = 74 ] || { cat "$TMP/err" >&2; fail "unreadable Maildir: exit $rc, expected 74"; }
expect_grep "$TMP/Locked: Permission denied" "$TMP/err"
grep -q "not a Maildir" "$TMP/err" && fail "unreadable taken for not a Maildir"
exit 0
