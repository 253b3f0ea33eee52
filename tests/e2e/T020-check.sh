#!/usr/bin/env bash
# `check`: every local source must exist and be mail; it changes nothing.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/notmaildir" "$TMP/md/cur"
echo "not mail" >"$TMP/notmbox"
: >"$TMP/empty.mbox"

write_config "$TMP/c.ini" "sent = maildir:$FIXTURES/edge" "sent = mbox:$TMP/empty.mbox" \
	"sent = maildir:$TMP/md"
run 0 -c "$TMP/c.ini" check
expect_grep "configuration OK" "$TMP/out"
expect_empty "$TMP/err" "stderr"
[ ! -e "$TMP/digest.db" ] || fail "check created the database"

# A config others can write is a warning, not an error; -q hides it.
chmod 664 "$TMP/c.ini"
run 0 -c "$TMP/c.ini" check
expect_grep "digest: warning: $TMP/c.ini: writable by others" "$TMP/err"
expect_grep "configuration OK" "$TMP/out"
run 0 -c "$TMP/c.ini" -q check
expect_empty "$TMP/err" "check -q stderr"
chmod 600 "$TMP/c.ini"

write_config "$TMP/c.ini" "sent = maildir:$TMP/missing"
run 66 -c "$TMP/c.ini" check
expect_grep "$TMP/c.ini:10: leader alex: " "$TMP/err"
expect_grep "$TMP/missing" "$TMP/err"
[ ! -s "$TMP/out" ] || fail "configuration OK printed for a missing source"

write_config "$TMP/c.ini" "sent = maildir:$TMP/notmaildir"
run 65 -c "$TMP/c.ini" check
expect_grep "not a Maildir" "$TMP/err"

write_config "$TMP/c.ini" "sent = mbox:$TMP/notmbox"
run 65 -c "$TMP/c.ini" check
expect_grep "not an mbox" "$TMP/err"
