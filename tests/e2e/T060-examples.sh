#!/usr/bin/env bash
# The bundled example of the README: ingest, then the contacts of alex.
. "$(dirname "$0")/lib.sh"

cp -a "$DIGEST_SRC/examples" "$TMP/examples"
rm -f "$TMP/examples/example.db"*
before=$(snapshot "$TMP/examples/Sent")
run 0 -c "$TMP/examples/digest.ini" check
expect_grep "configuration OK" "$TMP/out"
run 0 -c "$TMP/examples/digest.ini" ingest
[ -f "$TMP/examples/example.db" ] || fail "the database is not beside the config"
run 0 -c "$TMP/examples/digest.ini" contacts --leader alex --now 2026-11-30
expect_golden examples-contacts.txt "$TMP/out"
run 0 -c "$TMP/examples/digest.ini" contacts --leader alex --now 2026-11-30 --format json
expect_golden examples-contacts.json "$TMP/out"
[ "$(snapshot "$TMP/examples/Sent")" = "$before" ] || fail "ingest changed the example Maildir"
