#!/usr/bin/env bash
# What the leader says about people: snooze, ignore, cadence, note, merge
# (and --undo).  Stored, effective at once, idempotent.
. "$(dirname "$0")/lib.sh"

cp -a "$DIGEST_SRC/examples" "$TMP/ex"
rm -f "$TMP/ex/example.db"*
C="-c $TMP/ex/digest.ini"
NOW=2026-11-30
run 0 $C ingest
person() { # ADDRESS FIELD: one field of one person, from contacts --format json
	"$DIGEST" $C --now $NOW contacts --leader alex --format json |
		python3 -c 'import json,sys
for p in json.load(sys.stdin):
    if sys.argv[1] in p["addresses"]:
        print(json.dumps(p[sys.argv[2]]))' "$1" "$2"
}

# Jörg is neglected (monthly, last mail Oct 15); a snooze hides him until
# the day it ends, in the leader's zone.
[ "$(person joerg@client-a.example neglected)" = true ] || fail "Jörg should be neglected"
run 0 $C --now $NOW contacts --leader alex --neglected --format csv
expect_grep "joerg@client-a.example" "$TMP/out"
run 0 $C --now $NOW snooze --leader alex Joerg@Client-A.example 30d
run 0 $C snooze joerg@client-a.example 30d --leader alex --now $NOW
expect_grep "snoozed Jörg Müller <joerg@client-a.example> until 2026-12-30" "$TMP/out"
expect_empty "$TMP/err" "snooze of a known address: stderr"
[ "$(person joerg@client-a.example neglected)" = false ] || fail "a snoozed person is neglected"
[ "$(person joerg@client-a.example snoozed_until)" = '"2026-12-30"' ] || fail "snoozed_until: $(person joerg@client-a.example snoozed_until)"
run 0 $C --now $NOW contacts --leader alex --neglected --format csv
grep -q joerg "$TMP/out" && fail "snoozed person listed as neglected"

# A cadence overrides the learned rhythm; auto brings it back.
[ "$(person wen@example.com rhythm_days)" = 7.0 ] || fail "wen's rhythm: $(person wen@example.com rhythm_days)"
run 0 $C cadence --leader alex wen@example.com 2w
[ "$(person wen@example.com rhythm_days)" = 14.0 ] || fail "cadence not used"
run 0 $C cadence --leader alex wen@example.com auto
[ "$(person wen@example.com rhythm_days)" = 7.0 ] || fail "cadence auto"

# Notes are kept as text.
run 0 $C note --leader alex jo.kim@home.example 'Daughter starts <b>university</b> in Sept'
[ "$(person jo.kim@work.example note)" = '"Daughter starts <b>university</b> in Sept"' ] || fail "note: $(person jo.kim@work.example note)"
run 0 $C note --leader alex jo.kim@home.example ""
[ "$(person jo.kim@work.example note)" = null ] || fail "note not removed"

# ignore: gone from contacts and from interactions' participants.
run 0 $C ignore --leader alex 'team@*'
run 0 $C ignore --leader alex 'team@*'
[ -z "$(person team@example.com address)" ] || fail "ignored address still a contact"
run 0 $C interactions --leader alex --format csv
grep -q team@example.com "$TMP/out" && fail "ignored address still a participant"

# merge joins histories; --undo splits them again.
[ "$(person omar@example.com touches)" = 1 ] || fail "omar touches"
run 0 $C merge --leader alex omar@example.com sam.rivera@example.com
run 0 $C merge --leader alex omar@example.com sam.rivera@example.com
[ "$(person sam.rivera@example.com addresses)" = '["omar@example.com", "sam.rivera@example.com"]' ] ||
	fail "merge: $(person sam.rivera@example.com addresses)"
[ "$(person omar@example.com interactions)" = 1 ] || fail "one mail to both counts once"
run 0 $C merge --leader alex --undo sam.rivera@example.com
[ "$(person sam.rivera@example.com addresses)" = '["sam.rivera@example.com"]' ] || fail "merge --undo"
# --undo of the first address of a merge splits it off too.
run 0 $C merge --leader alex omar@example.com sam.rivera@example.com dana@example.com
[ "$(person dana@example.com addresses)" = '["dana@example.com", "omar@example.com", "sam.rivera@example.com"]' ] ||
	fail "three-way merge: $(person dana@example.com addresses)"
run 0 $C merge --leader alex --undo omar@example.com
[ "$(person omar@example.com addresses)" = '["omar@example.com"]' ] || fail "undo of the first address"
[ "$(person dana@example.com addresses)" = '["dana@example.com", "sam.rivera@example.com"]' ] ||
	fail "the others stay together: $(person dana@example.com addresses)"
# --undo also keeps auto_merge away from an address.
[ "$(person jo.kim@work.example addresses)" = '["jo.kim@work.example", "jo.kim@home.example"]' ] || fail "auto merge"
run 0 $C merge --leader alex --undo jo.kim@home.example
[ "$(person jo.kim@work.example addresses)" = '["jo.kim@work.example"]' ] || fail "auto merge not undone"

run 64 $C snooze --leader alex not-an-address 30d
run 64 $C snooze --leader alex a@b.example soon
run 64 $C merge --leader alex a@b.example
run 64 $C note --leader alex a@b.example

# Each command says what it changed in one line (nothing with -q), and
# warns about an address never seen (a typo?) while saving it.
run 0 $C --now $NOW snooze --leader alex jeorg@client-a.example 2w
expect_grep "snoozed jeorg@client-a.example until 2026-12-14" "$TMP/out"
expect_grep "digest: warning: snooze: jeorg@client-a.example was never seen" "$TMP/err"
run 0 $C -q snooze --leader alex jeorg@client-a.example off
expect_empty "$TMP/out" "snooze -q stdout"
expect_empty "$TMP/err" "snooze -q stderr"
run 0 $C cadence --leader alex wen@example.com 2w
expect_grep "cadence of Wen Li <wen@example.com>: every 14 days" "$TMP/out"
run 0 $C note --leader alex jo.kim@home.example 'Marathon in May'
expect_grep "note saved for Jo Kim <jo.kim@home.example>" "$TMP/out"
run 0 $C ignore --leader alex '*@Lists.example.org'
expect_grep "ignoring *@lists.example.org" "$TMP/out"
run 0 $C merge --leader alex omar@example.com sam.rivera@example.com
expect_grep "merged Omar" "$TMP/out"

# people lists all of it; --leader may be left out (one leader).
run 0 $C --now $NOW people --format json
python3 - "$TMP/out" <<'PY' || fail "people --format json: $(cat "$TMP/out")"
import json, sys
p = json.load(open(sys.argv[1]))
assert [(s["address"], s["until"]) for s in p["snoozes"]] == [("joerg@client-a.example", "2026-12-30")], p["snoozes"]
assert p["snoozes"][0]["name"] == "Jörg Müller"
assert "team@*" in p["ignores"] and "*@lists.example.org" in p["ignores"], p["ignores"]
assert [(c["address"], c["rhythm_days"]) for c in p["cadences"]] == [("wen@example.com", 14)], p["cadences"]
assert [(n["address"], n["note"]) for n in p["notes"]] == [("jo.kim@home.example", "Marathon in May")], p["notes"]
assert {"address": "omar@example.com", "addresses": ["omar@example.com", "sam.rivera@example.com"]} in p["merges"], p["merges"]
assert p["split"] == ["jo.kim@home.example"], p["split"]
assert all(len(m["addresses"]) > 1 for m in p["auto_merges"]), p["auto_merges"]
PY
run 0 $C --now $NOW people
expect_grep "  Jörg Müller <joerg@client-a.example> until 2026-12-30" "$TMP/out"
expect_grep "  Wen Li <wen@example.com> every 14 days" "$TMP/out"
expect_grep "  Jo Kim <jo.kim@home.example>: Marathon in May" "$TMP/out"
expect_grep "  omar@example.com, sam.rivera@example.com" "$TMP/out"

# And each can be undone.
run 0 $C --now $NOW snooze joerg@client-a.example off
expect_grep "snooze ended for Jörg Müller <joerg@client-a.example>" "$TMP/out"
[ "$(person joerg@client-a.example snoozed_until)" = null ] || fail "snooze off"
[ "$(person joerg@client-a.example neglected)" = true ] || fail "neglected again after snooze off"
run 0 $C ignore --undo 'team@*'
expect_grep "no longer ignoring team@*" "$TMP/out"
run 0 $C ignore --undo 'team@*'
expect_grep "team@* was not ignored" "$TMP/err"
run 0 $C cadence wen@example.com auto
run 0 $C note jo.kim@home.example ''
expect_grep "note removed for Jo Kim <jo.kim@home.example>" "$TMP/out"
run 0 $C --now $NOW people --format json
python3 -c 'import json,sys
p = json.load(open(sys.argv[1]))
assert not p["snoozes"] and not p["cadences"] and not p["notes"], p
assert "team@*" not in p["ignores"], p' "$TMP/out" || fail "people after the undos: $(cat "$TMP/out")"
run 64 $C ignore --undo 'a@*' 'b@*'
run 64 $C people --format csv

# contacts --sort: overdue first by default, by name, by latest contact.
overdue() { python3 -c 'import json,sys
v = [p["overdue"] if p["overdue"] is not None else -1 for p in json.load(sys.stdin)]
assert v == sorted(v, reverse=True), v'; }
"$DIGEST" $C --now $NOW contacts --format json | overdue || fail "contacts: not overdue first"
"$DIGEST" $C --now $NOW contacts --sort overdue --format json | overdue || fail "--sort overdue"
"$DIGEST" $C --now $NOW contacts --sort name --format json | python3 -c 'import json,sys
v = [(p["name"] or p["address"]).lower() for p in json.load(sys.stdin)]
assert v == sorted(v), v' || fail "--sort name"
"$DIGEST" $C --now $NOW contacts --sort last --format json | python3 -c 'import json,sys
v = [p["last_contact"] or "" for p in json.load(sys.stdin)]
assert v == sorted(v, reverse=True), v' || fail "--sort last"
run 64 $C contacts --sort age
expect_grep "unknown order 'age'" "$TMP/err"

# The CSV has the JSON's fields, in its order; the table never cuts an
# address.
run 0 $C --now $NOW contacts --format json
cp "$TMP/out" "$TMP/contacts.json"
run 0 $C --now $NOW contacts --format csv
python3 - "$TMP/contacts.json" "$TMP/out" <<'PY' || fail "CSV and JSON differ"
import csv, json, sys
j = json.load(open(sys.argv[1]))
rows = list(csv.reader(open(sys.argv[2])))
assert rows[0] == list(j[0].keys()), (rows[0], list(j[0].keys()))
assert [r[0] for r in rows[1:]] == [p["address"] for p in j]
PY
run 0 $C --now $NOW contacts
python3 -c 'import json,sys
table = open(sys.argv[2]).read().split()
for p in json.load(open(sys.argv[1])):
    assert p["address"] in table, p["address"]' "$TMP/contacts.json" "$TMP/out" ||
	fail "the table cut an address: $(cat "$TMP/out")"

# Days are the leader's calendar days: 30 days from Oct 1 across the end
# of summer time (Oct 25 in Europe/Berlin) end on Oct 31, not Oct 30.
run 0 $C snooze --leader alex wen@example.com 30d --now 2026-10-01
expect_grep "snoozed Wen Li <wen@example.com> until 2026-10-31" "$TMP/out"

# Merges by hand, chained (wen into priya, then omar into wen), are the
# leader's, not auto_merge's; one merged by hand into a person auto_merge
# made leaves that automatic merge listed.
cp -a "$DIGEST_SRC/examples" "$TMP/mx"
rm -f "$TMP/mx/example.db"*
M="-c $TMP/mx/digest.ini --now 2026-11-30"
run 0 $M ingest
run 0 $M merge --leader alex wen@example.com priya@example.com
run 0 $M merge --leader alex omar@example.com wen@example.com
run 0 $M merge --leader alex dana@example.com jo.kim@work.example
run 0 $M people --leader alex --format json
python3 - "$TMP/out" <<'PY' || fail "people: chained merges taken for automatic ones"
import json, sys
p = json.load(open(sys.argv[1]))
autos = [set(m["addresses"]) for m in p["auto_merges"]]
assert not any("omar@example.com" in a for a in autos), autos
assert any("jo.kim@home.example" in a for a in autos), autos
PY
run 0 $M preview --leader alex --format json
python3 - "$TMP/out" <<'PY' || fail "preview: an automatic merge hidden by a manual one"
import json, sys
m = json.load(open(sys.argv[1]))
assert any("jo.kim@home.example" in x["addresses"] for x in m["merged_all"]), m["merged_all"]
assert not any("omar@example.com" in x["addresses"] for x in m["merged_all"]), m["merged_all"]
PY
