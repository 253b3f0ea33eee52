#!/usr/bin/env bash
# Ingest of a Maildir of edge cases: people, weights, skipped messages
# warned about once, quiet when nothing is wrong, incremental, and the
# user's mail left exactly as it was.
. "$(dirname "$0")/lib.sh"

cp -a "$FIXTURES/edge" "$TMP/Sent"
write_config "$TMP/c.ini" "sent = maildir:$TMP/Sent" "ignore = dana@*"
before=$(snapshot "$TMP/Sent")

run 0 -c "$TMP/c.ini" ingest --now $NOW
# One warning per unusable message, naming the file; one summary for the
# message that is not the leader's.
expect_grep "$TMP/Sent/cur/1004.M4.host:2,S: skipped: no usable Date" "$TMP/err"
expect_grep "$TMP/Sent/cur/1003.M3.host:2,S: dropped malformed header line 3" "$TMP/err"
expect_grep "1 message not from alex skipped (e.g. $TMP/Sent/cur/1005.M5.host:2,S, From someone@elsewhere.example)" "$TMP/err"
[ "$(wc -l <"$TMP/err")" -eq 3 ] || fail "expected 3 warnings"
expect_empty "$TMP/out" "ingest stdout"
[ "$(stat -c %a "$TMP/digest.db")" = 600 ] || fail "database is not mode 0600"

[ "$(snapshot "$TMP/Sent")" = "$before" ] || fail "ingest changed the Maildir"
[ ! -e "$TMP/Sent/maildirfolder" ] || fail "ingest created maildirfolder"

run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW
sed "s|$TMP|TMP|g" "$TMP/out" >"$TMP/interactions.json"
expect_golden edge-interactions.json "$TMP/interactions.json"

run 0 -c "$TMP/c.ini" contacts --leader alex --now $NOW --format json
expect_golden edge-contacts.json "$TMP/out"
run 0 -c "$TMP/c.ini" contacts --leader alex --now $NOW --format csv
expect_golden edge-contacts.csv "$TMP/out"
run 0 -c "$TMP/c.ini" contacts --leader alex --now $NOW
expect_golden edge-contacts.txt "$TMP/out"

# --since/--until narrow the interactions (a bare --until date includes
# that day).
run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW --since 2026-11-04 --until 2026-11-07 --format csv
[ "$(tail -n +2 "$TMP/out" | cut -d, -f1 | tr '\n' ' ')" = \
  "2026-11-04T11:00:00Z 2026-11-06T13:00:00Z 2026-11-07T14:00:00Z " ] ||
	fail "since/until: $(cat "$TMP/out")"

# A rerun with nothing new says nothing and changes nothing.
cp "$TMP/digest.db" "$TMP/before.db"
run 0 -c "$TMP/c.ini" ingest --now $NOW
expect_empty "$TMP/err" "second ingest stderr"
run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW
sed "s|$TMP|TMP|g" "$TMP/out" | diff -u "$TMP/interactions.json" - >&2 || fail "rerun changed interactions"

# New mail, a message moved from new/ to cur/ and a re-flagged one: only
# the new message is read, and warnings are not repeated.
mv "$TMP/Sent/new/1014.M14.host" "$TMP/Sent/cur/1014.M14.host:2,S"
mv "$TMP/Sent/cur/1001.M1.host:2,S" "$TMP/Sent/cur/1001.M1.host:2,RS"
printf 'Date: Sat, 14 Nov 2026 10:00:00 +0000\nFrom: alex@example.com\nTo: Newcomer <new@example.com>\nMessage-ID: <m16@example.com>\n\nhello\n' >"$TMP/Sent/new/1016.M16.host"
run 0 -c "$TMP/c.ini" -v ingest --now $NOW
grep -q "warning" "$TMP/err" && fail "warnings repeated: $(cat "$TMP/err")"
expect_grep "alex: 1 messages read, 1 new interactions" "$TMP/err"
run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW --since 2026-11-14
expect_grep '"new@example.com"' "$TMP/out"

# Once the sender is known as a delegate, what was skipped as someone
# else's mail is read again.
echo "delegates = someone@elsewhere.example" >>"$TMP/c.ini"
run 0 -c "$TMP/c.ini" -v ingest --now $NOW
expect_grep "alex: 1 messages read, 1 new interactions" "$TMP/err"
run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW --since 2026-11-05 --until 2026-11-05 --format csv
expect_grep "2026-11-05T12:00:00Z,email,1,1,wen@example.com" "$TMP/out"

# A deleted message keeps its history.
rm "$TMP/Sent/cur/1002.M2.host:2,RS"
run 0 -c "$TMP/c.ini" ingest --now $NOW
run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW --until 2026-11-03 --format csv
expect_grep "2026-11-03T10:00:00Z" "$TMP/out"
