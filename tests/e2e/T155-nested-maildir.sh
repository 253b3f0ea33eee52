#!/usr/bin/env bash
# sent = maildir:PATH/** reads every Maildir below PATH: PATH itself, a
# Maildir++ dot-folder and a nested folder, each with its own cursor; the
# same interactions as the messages in one Maildir; nothing changed on
# disk; a new message in one folder is read alone.
. "$(dirname "$0")/lib.sh"

A=$TMP/Archive
mkdir -p "$A"/{cur,new,tmp} "$A/.Sent.2025"/{cur,new,tmp} \
	"$A/Projects/Atlas"/{cur,new,tmp} "$A/notes"
echo "not mail" >"$A/notes/todo.txt"
i=0
for f in "$DIGEST_SRC"/examples/Sent/cur/* "$DIGEST_SRC"/examples/Sent/new/*; do
	case $((i % 3)) in
	0) cp "$f" "$A/cur/" ;;
	1) cp "$f" "$A/.Sent.2025/cur/" ;;
	2) cp "$f" "$A/Projects/Atlas/cur/" ;;
	esac
	i=$((i + 1))
done
before=$(snapshot "$A")

write_config "$TMP/c.ini" "sent = maildir:$A/**"
run 0 -c "$TMP/c.ini" check
run 0 -c "$TMP/c.ini" ingest --now $NOW -v
expect_grep "$i messages read, $i new interactions" "$TMP/err"
[ "$(snapshot "$A")" = "$before" ] || fail "ingest changed the Maildirs"

write_config "$TMP/m.ini" "sent = maildir:$DIGEST_SRC/examples/Sent"
sed -i "s|$TMP/digest.db|$TMP/m.db|" "$TMP/m.ini"
run 0 -c "$TMP/m.ini" ingest --now $NOW
"$DIGEST" -c "$TMP/c.ini" interactions --leader alex --now $NOW >"$TMP/tree.json"
"$DIGEST" -c "$TMP/m.ini" interactions --leader alex --now $NOW >"$TMP/one.json"
diff -u <(grep -v '"source"' "$TMP/one.json") <(grep -v '"source"' "$TMP/tree.json") >&2 ||
	fail "the tree's interactions differ from one Maildir's"
# Each Maildir is a source of its own.
grep -o '"source": "[^"]*"' "$TMP/tree.json" | sort -u | sed "s|$TMP|TMP|" >"$TMP/sources"
printf '%s\n' '"source": "maildir:TMP/Archive"' \
	'"source": "maildir:TMP/Archive/.Sent.2025"' \
	'"source": "maildir:TMP/Archive/Projects/Atlas"' | diff -u - "$TMP/sources" >&2 ||
	fail "sources"

# Nothing new: nothing read.  One new message in a nested folder: it alone.
run 0 -c "$TMP/c.ini" ingest --now $NOW -v
expect_grep "0 messages read, 0 new interactions" "$TMP/err"
printf 'From: alex@example.com\nTo: new@example.org\nDate: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <nested-new@example.com>\nSubject: x\n\nx\n' \
	>"$A/Projects/Atlas/new/1795900000.M99P1.example"
run 0 -c "$TMP/c.ini" ingest --now $NOW -v
expect_grep "1 messages read, 1 new interactions" "$TMP/err"

# No Maildir below the path, or no path: what `check` and `ingest` say.
mkdir -p "$TMP/empty/sub"
write_config "$TMP/e.ini" "sent = maildir:$TMP/empty/**"
run 65 -c "$TMP/e.ini" check
expect_grep "$TMP/empty: no Maildir below it" "$TMP/err"
write_config "$TMP/g.ini" "sent = maildir:$TMP/gone/**"
run 66 -c "$TMP/g.ini" ingest --now $NOW
expect_grep "$TMP/gone: No such file or directory" "$TMP/err"
