#!/usr/bin/env bash
# The shipped schedules run as written: crontab.example names digest in
# full and sets PATH (cron's own is /usr/bin:/bin), neither it nor the
# systemd units pass -q (it would hide the warnings cron and the journal
# are for), and `systemd-analyze verify` accepts the units.
. "$(dirname "$0")/lib.sh"

CRONTAB=$DIGEST_SRC/crontab.example
UNITS=$DIGEST_SRC/examples/systemd

# crontab.example: a PATH line with /usr/local/bin, and every job's
# command an absolute path, without -q.
grep -Eq '^PATH=([^:]*:)*/usr/local/bin(:|$)' "$CRONTAB" || fail "crontab: no PATH= line with /usr/local/bin"
cp -a "$DIGEST_SRC/examples" "$TMP/ex"
rm -f "$TMP/ex/example.db"*
jobs=$(grep -Ev '^[[:space:]]*(#|$|[A-Za-z_]+=)' "$CRONTAB")
[ -n "$jobs" ] || fail "crontab: no job"
while read -r m h dom mon dow cmd; do
	case $cmd in
	/usr/local/bin/digest\ *) ;;
	*) fail "crontab: not the installed binary in full: $cmd" ;;
	esac
	case " $cmd " in *" -q "* | *" --quiet "*) fail "crontab: -q hides warnings: $cmd" ;; esac
	# The job itself runs with cron's PATH (the binary under test, on the
	# example, showing instead of sending).
	PATH=/usr/bin:/bin run 0 ${cmd#/usr/local/bin/digest } -c "$TMP/ex/digest.ini" \
		--dry-run --now 2026-11-30
	expect_grep "=== alex (alex@example.com): digest, not sent ===" "$TMP/out"
done <<<"$jobs"

# The units: no -q, no network-online.target in a user unit (it has no
# effect there), and a failure is noticed.
for f in "$UNITS"/*; do
	if grep -E '^ExecStart=.*digest' "$f" | grep -Eq -- ' (-q|--quiet)( |$)'; then
		fail "$(basename "$f"): -q hides warnings"
	fi
done
grep -q 'network-online' <(grep -v '^#' "$UNITS/digest.service") &&
	fail "digest.service: network-online.target does nothing in a user unit"
grep -q '^OnFailure=digest-failure@%n.service$' "$UNITS/digest.service" ||
	fail "digest.service: no OnFailure="
[ -f "$UNITS/digest-failure@.service" ] || fail "no digest-failure@.service"
grep -q '^ExecStart=/usr/local/bin/digest run$' "$UNITS/digest.service" ||
	fail "digest.service: ExecStart"

command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed (Debian package systemd)"
# verify checks that ExecStart's program exists: point it at the binary
# under test.  A user manager's runtime directory is made up for it.
mkdir -p "$TMP/units" "$TMP/run"
chmod 700 "$TMP/run"
cp "$UNITS"/* "$TMP/units/"
sed -i "s|/usr/local/bin/digest|$DIGEST|" "$TMP/units/digest.service"
rc=0
(cd "$TMP/units" && XDG_RUNTIME_DIR=$TMP/run systemd-analyze verify --user \
	./digest.service ./digest.timer ./digest-failure@.service \
	./digest-failure@digest.service.service) >"$TMP/verify" 2>&1 || rc=$?
[ "$rc" = 0 ] && [ ! -s "$TMP/verify" ] || { cat "$TMP/verify" >&2; fail "systemd-analyze verify: exit $rc"; }
