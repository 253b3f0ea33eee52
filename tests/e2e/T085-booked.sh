#!/usr/bin/env bash
# Booked is booked (DESIGN §6): someone with a meeting in the coming week is
# listed only as coming up; a standing series that goes on (its next
# instance further out) keeps its people off the neglected list while it
# runs, and no longer once it ended; an all-hands books nobody.
. "$(dirname "$0")/lib.sh"

python3 - "$TMP" <<'PY'
import datetime as dt, os, sys
tmp = sys.argv[1]
now = dt.datetime(2026, 11, 30, 8, tzinfo=dt.timezone.utc)
for sub in ("cur", "new", "tmp"):
    os.makedirs(f"{tmp}/Sent/{sub}", exist_ok=True)
n = 0
def mail(when, to):
    global n
    n += 1
    with open(f"{tmp}/Sent/cur/{n}.host:2,S", "w") as f:
        f.write(f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}\n"
                f"From: alex@example.com\nTo: {to}\nMessage-ID: <m{n}@example.com>\n\nhi\n")
# weekly until Oct 26, then silence: both overdue by now
for k in range(20):
    when = dt.datetime(2026, 10, 26, 10, tzinfo=dt.timezone.utc) - dt.timedelta(weeks=k)
    mail(when, "Ann Hands <ah@example.com>")
    mail(when + dt.timedelta(hours=1), "Sunny Soon <soon@example.com>")
# the leader busy with someone else every three days up to now
d = now - dt.timedelta(days=200)
while d < now:
    mail(d, "other@example.com")
    d += dt.timedelta(days=3)
ev = []
def vevent(uid, start, attendees, extra=()):
    ev.extend(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
               "DTSTART:" + start.strftime("%Y%m%dT%H%M%SZ"),
               "DTEND:" + (start + dt.timedelta(minutes=30)).strftime("%Y%m%dT%H%M%SZ"),
               "ORGANIZER:mailto:alex@example.com"]
              + [f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{a}" for a in attendees]
              + list(extra) + ["END:VEVENT"])
# a biweekly 1:1 on Tuesdays; the last four instances skipped, so the last
# one held was Sep 29; the next is Dec 8, after the coming week
first = dt.datetime(2026, 6, 9, 10, tzinfo=dt.timezone.utc)
skipped = [dt.datetime(2026, m, d, 10, tzinfo=dt.timezone.utc)
           for m, d in ((10, 13), (10, 27), (11, 10), (11, 24))]
vevent("bi@example.com", first, ["bi@example.com"],
       ["RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"] +
       ["EXDATE:" + s.strftime("%Y%m%dT%H%M%SZ") for s in skipped])
# an all-hands on Wednesday with Ann and 29 others; a 1:1 with Sunny
vevent("allhands@example.com", dt.datetime(2026, 12, 2, 16, tzinfo=dt.timezone.utc),
       ["ah@example.com"] + [f"p{i}@example.com" for i in range(29)])
vevent("sunny@example.com", dt.datetime(2026, 12, 3, 9, tzinfo=dt.timezone.utc),
       ["soon@example.com"])
with open(f"{tmp}/cal.ics", "w") as f:
    f.write("\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"]
                        + ev + ["END:VCALENDAR"]) + "\r\n")
PY
write_config "$TMP/c.ini" "sent = maildir:$TMP/Sent" "calendar = $TMP/cal.ics"

# neglected? NAME...: "address:true|false" for each
neglected() {
	"$DIGEST" -c "$TMP/c.ini" contacts --leader alex --now $NOW --format json |
		python3 -c '
import json, sys
rows = {r["address"]: r for r in json.load(sys.stdin)}
print(" ".join("%s:%s" % (a, str(rows[a]["neglected"]).lower()) for a in sys.argv[1:]))' "$@"
}

run 0 -c "$TMP/c.ini" ingest --now $NOW
[ "$(neglected bi@example.com ah@example.com soon@example.com)" = \
  "bi@example.com:false ah@example.com:true soon@example.com:false" ] ||
	fail "booked: $(neglected bi@example.com ah@example.com soon@example.com)"
run 0 -c "$TMP/c.ini" preview --leader alex --now $NOW --format json
python3 - "$TMP/out" <<'PY' || fail "the digest's lists"
import json, sys
m = json.load(open(sys.argv[1]))
def names(people):
    return sorted(p["address"] for p in people)
assert names(m["neglected"]) == ["ah@example.com"], m["neglected"]
assert m["cooling"] == [], m["cooling"]
# only the 1:1 is coming up: the all-hands books nobody, and the 1:1
# series' next instance is not in the coming week
assert [names(c["people"]) for c in m["coming_up"]] == [["soon@example.com"]], m["coming_up"]
PY

# The series ends: nothing goes on, and the silence of its 1:1 is neglect.
sed -i 's/RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU/RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20261101T000000Z/' "$TMP/cal.ics"
run 0 -c "$TMP/c.ini" ingest --now $NOW
[ "$(neglected bi@example.com)" = "bi@example.com:true" ] ||
	fail "an ended series still books: $(neglected bi@example.com)"
