#!/usr/bin/env bash
# Real mail: the sent folders of two Enron executives, written mostly by
# their assistants (../shared/corpus/mail/enron; skipped where it is
# absent).  At three dates inside their busy period the names must hold up
# (issue 8): no own address, delegate or role address among the contacts,
# nobody listed who is silent past dormant_after or whose touches all fall
# within min_span, and a focus whose episodes are spread over min_span.
. "$(dirname "$0")/lib.sh"

ENRON=${DIGEST_SHARED:-$DIGEST_SRC/../shared}/corpus/mail/enron
[ -d "$ENRON/lay-k/_sent" ] && [ -d "$ENRON/skilling-j/_sent_mail" ] ||
	skip "no Enron corpus at $ENRON"

# Each folder as a Maildir of its own (the corpus is flat files).
for f in lay-k/_sent lay-k/sent_items skilling-j/_sent_mail skilling-j/sent_items; do
	md=$TMP/mail/${f/\//.}
	mkdir -p "$md/cur" "$md/new" "$md/tmp"
	for m in "$ENRON/$f"/*; do
		cp "$m" "$md/cur/$(basename "$m"):2,S"
	done
done
before=$(snapshot "$TMP/mail")
cat >"$TMP/c.ini" <<INI
[digest]
database = $TMP/digest.db
timezone = America/Chicago

[leader lay]
name = Kenneth Lay
email = kenneth.lay@enron.com
delegates = rosalee.fleming@enron.com, tori.wells@enron.com
sent = maildir:$TMP/mail/lay-k._sent
sent = maildir:$TMP/mail/lay-k.sent_items

[leader skilling]
name = Jeff Skilling
email = jeff.skilling@enron.com
delegates = sherri.sera@enron.com, joannie.williamson@enron.com
sent = maildir:$TMP/mail/skilling-j._sent_mail
sent = maildir:$TMP/mail/skilling-j.sent_items
INI

run 0 -c "$TMP/c.ini" -v ingest --now 2001-12-31
[ "$(snapshot "$TMP/mail")" = "$before" ] || fail "ingest changed the mail"
# 47 of Skilling's 54 sent_items are copies of _sent_mail messages with
# other Message-IDs, shifted by hours: counted once.
expect_grep "skilling: 329 messages read, 251 new interactions, 47 duplicates" "$TMP/err"

for leader in lay skilling; do
	for date in 2000-12-01 2001-03-01 2001-05-10; do
		N="--now $date"
		"$DIGEST" -c "$TMP/c.ini" contacts --leader $leader $N --format json >"$TMP/contacts.json" ||
			fail "contacts $leader $date"
		"$DIGEST" -c "$TMP/c.ini" interactions --leader $leader $N --format json >"$TMP/ia.json" ||
			fail "interactions $leader $date"
		"$DIGEST" -c "$TMP/c.ini" preview --leader $leader $N --format json >"$TMP/digest.json" ||
			fail "preview $leader $date"
		python3 - "$TMP" "$leader" "$date" <<'PY' || fail "$leader at $date"
import datetime as dt, json, sys
tmp, leader, date = sys.argv[1:]
contacts = json.load(open(f"{tmp}/contacts.json"))
ia = json.load(open(f"{tmp}/ia.json"))
digest = json.load(open(f"{tmp}/digest.json"))
own = {"lay": {"kenneth.lay@enron.com", "rosalee.fleming@enron.com", "tori.wells@enron.com"},
       "skilling": {"jeff.skilling@enron.com", "sherri.sera@enron.com",
                    "joannie.williamson@enron.com"}}[leader]
roles = {"expense.report@enron.com", "outlook.team@enron.com"}
now = dt.datetime.fromisoformat(date).replace(tzinfo=dt.timezone.utc)
MIN_SPAN, DORMANT = 42, 180

addrs = {a for c in contacts for a in c["addresses"]}
assert not addrs & own, "own or delegate among contacts: %s" % (addrs & own)
assert not addrs & roles, "role address among contacts: %s" % (addrs & roles)

def touches(person):
    """Days of the person's touches (weight >= 0.5) in the window."""
    return sorted(dt.datetime.fromisoformat(x["time"].replace("Z", "+00:00"))
                  for x in ia if x["weight"] >= 0.5 and
                  set(x["participants"]) & set(person["addresses"]) and
                  (now - dt.datetime.fromisoformat(x["time"].replace("Z", "+00:00"))).days <= 365)

def episodes(ts):
    starts = []
    for t in ts:
        if not starts or (t - starts[-1]).total_seconds() > 5 * 86400 + 86399:
            starts.append(t)
    return starts

listed = [c for c in contacts if c["neglected"]]
for c in listed:
    assert c["days_since"] <= DORMANT, "%s: silent %d days" % (c["address"], c["days_since"])
    ts = touches(c)
    assert (ts[-1] - ts[0]).days >= MIN_SPAN, "%s: all touches within %d days" % (
        c["address"], (ts[-1] - ts[0]).days)
focus = digest["focus"]
if focus:
    person = next(c for c in contacts if c["address"] == focus["address"])
    starts = episodes(touches(person))
    assert len(starts) >= 3 and (starts[-1] - starts[0]).days >= MIN_SPAN, \
        "focus %s: episodes %s" % (focus["address"], starts)
print("%s %s: %d listed%s" % (leader, date, len(listed),
      ", focus " + focus["address"] if focus else ""), file=sys.stderr)
PY
	done
done
