#!/usr/bin/env bash
# The command line: help from the command table, version, usage errors
# (64), configuration errors with file:line (78), a missing config (66).
. "$(dirname "$0")/lib.sh"

run 0 version
grep -qE '^digest [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out" || fail "version: $(cat "$TMP/out")"

run 0 --version
grep -qE '^digest [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out" || fail "--version: $(cat "$TMP/out")"
run 0 -V
grep -qE '^digest [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out" || fail "-V: $(cat "$TMP/out")"

# digest help: every command, one line per synopsis ("  NAME ARGS"), and
# every line within 80 columns.
run 0 --help
cp "$TMP/out" "$TMP/help"
run 0 help
cmp -s "$TMP/out" "$TMP/help" || fail "help and --help differ"
commands=$(sed -n 's/^  \([a-z]\{1,\}\)\( .*\)\{0,1\}$/\1/p' "$TMP/help" | sort -u)
for c in run preview ingest contacts interactions snooze ignore cadence note \
	merge people check version help; do
	grep -qx "$c" <<<"$commands" || fail "digest help does not list $c"
done
awk 'length > 79 { print FILENAME ": " $0; bad = 1 } END { exit bad }' "$TMP/help" ||
	fail "digest help is wider than 80 columns"
# COMMAND --help is digest help COMMAND; it lists as --name every option
# the synopsis names, and fits 80 columns.
for c in $commands; do
	run 0 "$c" --help
	cp "$TMP/out" "$TMP/help-$c"
	run 0 help "$c"
	cmp -s "$TMP/out" "$TMP/help-$c" || fail "help $c and $c --help differ"
	expect_grep "usage: digest $c" "$TMP/out"
	awk 'length > 79 { print; bad = 1 } END { exit bad }' "$TMP/out" ||
		fail "$c --help is wider than 80 columns"
	awk '/^(usage:|   or:| )/ { print; next } { exit }' "$TMP/out" | { grep -o -- '--[a-z-]*' || :; } | sort -u |
		while read -r o; do
			grep -qE "^  (-[a-zA-Z], |    )$o( |$)" "$TMP/out" ||
				fail "$c --help does not list $o of its synopsis"
		done
done
run 0 contacts --help
expect_grep "usage: digest contacts --leader ID" "$TMP/out"
run 64 help frobnicate
expect_grep "help: unknown command 'frobnicate'" "$TMP/err"

# An option without its value is named as typed.
run 64 ingest --leader
expect_grep "digest: ingest: --leader needs a value" "$TMP/err"
run 64 -c
expect_grep "digest: -c needs a value" "$TMP/err"
run 64 contacts --form
expect_grep "digest: contacts: --form needs a value" "$TMP/err"

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
# A day the month does not have, and instants digest cannot print back.
for bad in 2026-02-31 2100-02-29 0999-01-01 9999-12-31T23:59-01:00; do
	run 64 --now $bad version
	expect_grep "--now: not a date" "$TMP/err"
done
run 0 --now 2028-02-29 version

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
# One leader in the config: --leader may be left out.
run 0 -c "$TMP/ok.ini" --now 2026-11-30T10:00+01:00 contacts --format csv
cmp -s "$TMP/out" <("$DIGEST" -c "$TMP/ok.ini" --now 2026-11-30T10:00+01:00 contacts --leader alex --format csv) ||
	fail "contacts without --leader is not the only leader's"
{ cat "$TMP/ok.ini"; printf '\n[leader bo]\nemail = bo@example.com\nsent = maildir:%s\n' "$FIXTURES/edge"; } >"$TMP/two.ini"
run 64 -c "$TMP/two.ini" contacts
expect_grep "give exactly one --leader ID" "$TMP/err"
run 64 -c "$TMP/ok.ini" contacts --leader nobody
expect_grep "no leader 'nobody'" "$TMP/err"
run 64 -c "$TMP/ok.ini" contacts --leader alex --format xml
expect_grep "unknown format 'xml'" "$TMP/err"

# --version goes before or after the command, as help says; a command's
# option before the command is named as such.
run 0 run -V
expect_grep "digest " "$TMP/out"
run 64 --leader alex contacts
expect_grep "digest: '--leader' goes after the command" "$TMP/err"
