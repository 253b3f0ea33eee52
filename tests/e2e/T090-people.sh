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
