#!/usr/bin/env bash
# Calendar ingest: a .ics file and a directory of them; who takes part,
# weights, coming-up meetings kept apart, a broken file warned about once,
# a file edited or deleted between ingests leaving no ghost, and a
# standing weekly meeting that keeps producing instances as the window
# moves.  The calendar files are never changed.
. "$(dirname "$0")/lib.sh"

cp -a "$FIXTURES/cal-ingest" "$TMP/cal"
write_config "$TMP/c.ini" "calendar = $TMP/cal/work.ics" "calendar = $TMP/cal/vdir" "timezone = Europe/Berlin"
before=$(snapshot "$TMP/cal")

run 0 -c "$TMP/c.ini" ingest --now $NOW
expect_grep "$TMP/cal/vdir/broken.ics: skipped: not an iCalendar file" "$TMP/err"
[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "expected one warning: $(cat "$TMP/err")"
[ "$(snapshot "$TMP/cal")" = "$before" ] || fail "ingest changed the calendar files"

run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW
sed "s|$TMP|TMP|g" "$TMP/out" >"$TMP/interactions.json"
expect_golden cal-interactions.json "$TMP/interactions.json"

run 0 -c "$TMP/c.ini" contacts --leader alex --now $NOW
expect_golden cal-contacts.txt "$TMP/out"

# The coming week is stored apart, never as contact.
upcoming() {
	python3 - "$TMP/digest.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute("""SELECT datetime(u.time, 'unixepoch'), group_concat(a.addr),
    CASE WHEN u.recurring THEN 'recurring' ELSE 'once' END
    FROM upcoming u JOIN json_each(u.parties) p
    JOIN address a ON a.id = p.value GROUP BY u.id ORDER BY u.time"""):
    print(*row)
PY
}
# The coming week, and the next instance of the standing 1:1 after it: a
# series that goes on.
[ "$(upcoming)" = "2026-12-01 09:00:00 wen@example.com recurring
2026-12-02 08:00:00 priya@example.com once
2026-12-08 09:00:00 wen@example.com recurring" ] || fail "upcoming: $(upcoming)"

# Nothing changed: nothing read, nothing said.
run 0 -c "$TMP/c.ini" -v ingest --now $NOW
expect_grep "0 calendar files read" "$TMP/err"
grep -q warning "$TMP/err" && fail "warning repeated"

# A week later the standing 1:1 has a new instance (the file is the same),
# and the meeting that was coming up is now contact.
run 0 -c "$TMP/c.ini" ingest --now 2026-12-07T08:00:00Z
run 0 -c "$TMP/c.ini" interactions --leader alex --now 2026-12-07T08:00:00Z --since 2026-11-25 --format csv
[ "$(cut -d, -f1,5 "$TMP/out" | tail -n +2 | tr '\n' ' ')" = \
  "2026-12-01T09:00:00Z,wen@example.com 2026-12-02T08:00:00Z,priya@example.com " ] ||
	fail "moving window: $(cat "$TMP/out")"

# Edited: the lunch moves to another day, the 1:1 series is cancelled from
# Nov 17 on, and a deleted file takes its meeting with it: no ghosts.
sed -i 's/DTSTART:20261103T113000Z/DTSTART:20261105T113000Z/; s/DTEND:20261103T123000Z/DTEND:20261105T123000Z/' "$TMP/cal/work.ics"
sed -i 's/RRULE:FREQ=WEEKLY;BYDAY=TU/RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20261116T000000Z/' "$TMP/cal/work.ics"
rm "$TMP/cal/vdir/omar.ics"
run 0 -c "$TMP/c.ini" ingest --now $NOW
run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW --since 2026-11-01 --format csv
cut -d, -f1,5 "$TMP/out" >"$TMP/after"
expect_grep "2026-11-05T11:30:00Z,jo.kim@work.example" "$TMP/after"
grep -q "2026-11-03T11:30:00Z" "$TMP/after" && fail "the moved lunch left a ghost"
grep -q "2026-11-17" "$TMP/after" && fail "the ended series left a ghost"
grep -q "2026-11-18T14:00:00Z" "$TMP/after" && fail "the deleted file left a ghost"
# The ended series goes on no more.
[ "$(upcoming)" = "2026-12-02 08:00:00 priya@example.com once" ] || fail "upcoming after edit: $(upcoming)"

# A renamed file keeps its meetings.
mv "$TMP/cal/vdir/allhands.ics" "$TMP/cal/vdir/all-hands.ics"
run 0 -c "$TMP/c.ini" ingest --now $NOW
run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW --since 2026-11-16 --until 2026-11-16 --format csv
[ "$(tail -n +2 "$TMP/out" | cut -d, -f3)" = 30 ] || fail "renamed file lost its meeting: $(cat "$TMP/out")"

# check reads the calendars too.
run 0 -c "$TMP/c.ini" check
expect_grep "broken.ics: not an iCalendar file" "$TMP/err"
echo "BEGIN:NOTHING" >"$TMP/cal/work.ics"
run 65 -c "$TMP/c.ini" check
expect_grep "$TMP/cal/work.ics" "$TMP/err"
run 65 -c "$TMP/c.ini" ingest --now $NOW
