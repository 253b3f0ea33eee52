#!/usr/bin/env bash
# A first run over a folder that stopped syncing weeks ago (DESIGN §8): the
# source brought everything on this run, but its newest message is seven
# weeks old, so the digest would call everyone neglected.  It is not sent:
# the run names the source and exits 75, check says so, preview warns.
. "$(dirname "$0")/lib.sh"

cp -a "$DIGEST_SRC/examples" "$TMP/ex"
rm -f "$TMP/ex/example.db"*
mkdir -p "$TMP/sent"
cat >"$TMP/sendmail" <<'SH'
#!/bin/sh
cat >"$STUB_DIR/sent.eml"
SH
chmod +x "$TMP/sendmail"
export STUB_DIR=$TMP/sent
# Mail only (the calendar of the example is judged by its changes).
sed -i '/^calendar/d' "$TMP/ex/digest.ini"
printf '\n[smtp]\nsendmail = %s\n' "$TMP/sendmail" >>"$TMP/ex/digest.ini"
C="-c $TMP/ex/digest.ini"
# The sample mail ends on Nov 23, 2026: seven weeks before Jan 11.
LATE="--now 2027-01-11T07:00"

run 75 $C run $LATE
expect_grep "alex: not sent: maildir:Sent: nothing new since 2026-11-23" "$TMP/err"
[ ! -e "$TMP/sent/sent.eml" ] || fail "a digest over a stale folder was sent"
run 75 $C check $LATE
expect_grep "maildir:Sent: nothing new since 2026-11-23; is its sync broken?" "$TMP/err"
run 0 $C preview --leader alex $LATE
head -1 "$TMP/out" | grep -q "^WARNING: maildir:Sent: nothing new since 2026-11-23" ||
	fail "preview has no warning: $(head -3 "$TMP/out")"

# The same folder, judged when it was fresh: sent.
rm -f "$TMP/ex/example.db"*
run 0 $C run --now 2026-11-30T07:00
[ -s "$TMP/sent/sent.eml" ] || fail "not sent while the folder was fresh"
