#!/usr/bin/env bash
# The command line: help from the command table, version, usage errors
# (64), configuration errors with file:line (78), a missing config (66).
. "$(dirname "$0")/lib.sh"

run 0 version
grep -qE '^digest [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out" || fail "version: $(cat "$TMP/out")"

run 0 --help
for c in ingest contacts interactions check version; do
	expect_grep "  $c " "$TMP/out"
done
run 0 help
run 0 contacts --help
expect_grep "usage: digest contacts --leader ID" "$TMP/out"

run 64
expect_grep "no command given" "$TMP/err"
run 64 frobnicate
expect_grep "unknown command 'frobnicate'" "$TMP/err"
run 64 ingest --bogus
expect_grep "unknown option '--bogus'" "$TMP/err"
run 64 check --format json
expect_grep "'--format' is not an option of this command" "$TMP/err"
run 64 --now yesterday version
expect_grep "--now: not a date" "$TMP/err"

# No config file at all: the default path is named.
run 66 check
expect_grep "$HOME/.config/digest/digest.ini" "$TMP/err"

# Every configuration error at once, each as file:line: message.
cat >"$TMP/bad.ini" <<'INI'
[digest]
top = many
colour = blue

[leader alex]
email = alex@example.com
sent = maildir:/nonexistent
keep_subjects = yes
[nonsense]
INI
run 78 -c "$TMP/bad.ini" check
expect_grep "$TMP/bad.ini:2: " "$TMP/err"
expect_grep "$TMP/bad.ini:3: unknown key 'colour'" "$TMP/err"
expect_grep "$TMP/bad.ini:8: unknown key 'keep_subjects'" "$TMP/err"
expect_grep "$TMP/bad.ini:9: unknown section" "$TMP/err"
[ "$(wc -l <"$TMP/err")" -eq 4 ] || fail "expected 4 errors: $(cat "$TMP/err")"

# DIGEST_CONFIG is the default; --now and -q go before or after the command.
write_config "$TMP/ok.ini" "sent = maildir:$FIXTURES/edge"
DIGEST_CONFIG=$TMP/ok.ini run 0 check
expect_grep "configuration OK" "$TMP/out"
DIGEST_CONFIG=$TMP/ok.ini run 0 check -q
expect_empty "$TMP/out" "check -q"
run 66 -c "$TMP/ok.ini" contacts --leader alex
expect_grep "no database yet: run 'digest ingest' first" "$TMP/err"
run 0 -c "$TMP/ok.ini" -q ingest
expect_empty "$TMP/err" "ingest -q stderr"
run 0 -c "$TMP/ok.ini" --now 2020-01-01 contacts --leader alex --now 2026-11-30T10:00+01:00 --format csv
[ "$(wc -l <"$TMP/out")" -gt 3 ] || fail "the later --now did not win"
run 64 -c "$TMP/ok.ini" contacts
expect_grep "give exactly one --leader ID" "$TMP/err"
run 64 -c "$TMP/ok.ini" contacts --leader nobody
expect_grep "no leader 'nobody'" "$TMP/err"
run 64 -c "$TMP/ok.ini" contacts --leader alex --format xml
expect_grep "unknown format 'xml'" "$TMP/err"
