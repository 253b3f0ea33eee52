#!/usr/bin/env bash
# Calendar expansion against an oracle: the instances that cal_expand
# finds (through tests/tools/calexpand) in every .ics file of
# ../shared/corpus/ical, compared with those of the Python library
# recurring_ical_events, in a wide and a narrow window; and the narrow
# window against the wide one.  A crash or a hang of calexpand fails, and
# so does any disagreement not listed, with its reason, in
# cal_oracle_allow.txt.  Skipped without the corpus or the library.
. "$(dirname "$0")/lib.sh"

CORPUS=${DIGEST_SHARED:-$DIGEST_SRC/../shared}/corpus/ical
[ -d "$CORPUS" ] || skip "no corpus at $CORPUS"
CALEXPAND=${DIGEST_BIN:?DIGEST_BIN must name the build directory}/tests/calexpand
[ -x "$CALEXPAND" ] || fail "no $CALEXPAND"

# The Debian package python3-recurring-ical-events installs for the
# system's python3, which may not be the first on PATH.
PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import recurring_ical_events' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || skip "python3 cannot import recurring_ical_events (python3-recurring-ical-events)"

rc=0
"$PY" "$DIGEST_SRC/tests/e2e/cal_oracle.py" "$CALEXPAND" "$CORPUS" \
	"$DIGEST_SRC/tests/e2e/cal_oracle_allow.txt" >"$TMP/report" 2>&1 || rc=$?
grep -v '^allowed: ' "$TMP/report" >&2 || true
[ "$rc" = 0 ] || fail "calendar expansion disagrees with the oracle (see above)"
