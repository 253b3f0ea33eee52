#!/usr/bin/env bash
# The digest of the bundled example: golden text, HTML and JSON with a
# fixed --now; the email parsed back by Python's email package; run
# --dry-run and --out DIR.
. "$(dirname "$0")/lib.sh"

cp -a "$DIGEST_SRC/examples" "$TMP/ex"
rm -f "$TMP/ex/example.db"*
C="-c $TMP/ex/digest.ini"
N="--now 2026-11-30"

# The README's first command, on a copy.
run 0 $C run --dry-run $N
expect_grep "=== alex (alex@example.com): digest, not sent ===" "$TMP/out"
expect_grep "FOCUS THIS WEEK: Jörg Müller <joerg@client-a.example>" "$TMP/out"

for f in text html json; do
	run 0 $C preview --leader alex $N --format $f
	expect_golden "examples-digest.$f" "$TMP/out"
done
run 0 $C preview --leader alex $N
cmp -s "$TMP/out" "$GOLDEN/examples-digest.text" || fail "text is not the default format"

# A leader back from three weeks away (tests/fixtures/away/make.py): the
# absence is named and not counted, and the left-out line gives the
# reasons, with examples in the text shown instead of sent.
cp -a "$FIXTURES/away/Sent" "$TMP/away"
write_config "$TMP/away.ini" "sent = maildir:$TMP/away"
sed -i "s|^database = .*|database = $TMP/away.db|" "$TMP/away.ini"
run 0 -c "$TMP/away.ini" ingest $N
for f in text html json; do
	run 0 -c "$TMP/away.ini" preview --leader alex $N --format $f
	expect_golden "away-digest.$f" "$TMP/out"
done
expect_grep "You were away Oct 31 – Nov 23; that time is not counted." "$GOLDEN/away-digest.text"
expect_grep "Left out: 1 own, 1 automated, 1 role, 1 one thread." "$GOLDEN/away-digest.text"
expect_grep "You were away Oct 31 – Nov 23; that time is not counted." "$GOLDEN/away-digest.html"
expect_grep "Left out: 1 own, 1 automated, 1 role, 1 one thread." "$GOLDEN/away-digest.html"
run 0 -c "$TMP/away.ini" preview --leader alex $N --format eml
python3 - "$TMP/out" <<'PY' || fail "the left-out line of the email"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
text, html = [p.get_content() for p in m.walk() if not p.is_multipart()]
line = "Left out: 1 own, 1 automated, 1 role, 1 one thread."
assert line in text and line in html, "left-out line missing"
assert "own: sam.assistant@example.com" not in text, "examples belong to the preview only"
PY

# The text is wrapped at 72 columns.
awk 'length($0) > 72 { print; bad = 1 } END { exit bad }' "$GOLDEN/examples-digest.text" "$GOLDEN/away-digest.text" ||
	fail "text lines over 72 columns"

# The JSON is the data model of DESIGN §7, and focus = neglected[0].
python3 - "$GOLDEN/examples-digest.json" <<'PY' || fail "JSON model"
import json, sys
m = json.load(open(sys.argv[1]))
for k in ("leader", "week", "generated_at", "stats", "focus", "neglected",
          "cooling", "circles", "coming_up", "excluded", "merged"):
    assert k in m, k
assert set(m["leader"]) >= {"id", "name", "email"}
assert set(m["stats"]) >= {"people_reached", "emails", "meetings", "new_contacts"}
assert m["focus"] == m["neglected"][0]
person = {"name", "address", "circle", "days_since", "last_contact", "last_channel",
          "rhythm_days", "overdue", "touches", "suggestion", "note", "history"}
for p in m["neglected"] + m["cooling"] + [p for c in m["coming_up"] for p in c["people"]]:
    assert set(p) >= person, person - set(p)
    assert len(p["history"]) == 12
assert m["week"] == {"start": "2026-11-30", "end": "2026-12-06", "id": "2026-W49"}
assert {e["reason"] for e in m["excluded"]} >= {"automated", "list"}
assert all(c["title"] is None for c in m["coming_up"])   # keep_subjects = no
PY

# The email: one text/plain and one text/html part, UTF-8, names decoded.
run 0 $C preview --leader alex $N --format eml
python3 - "$TMP/out" <<'PY' || fail "eml"
import email, email.policy, sys
raw = open(sys.argv[1], "rb").read()
assert all(len(l) <= 998 for l in raw.split(b"\r\n")), "line over 998 octets"
m = email.message_from_bytes(raw, policy=email.policy.default)
assert m.get_content_type() == "multipart/alternative"
parts = [p for p in m.walk() if not p.is_multipart()]
assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"], parts
assert all(p.get_content_charset() == "utf-8" for p in parts)
assert "Jörg Müller" in str(m["Subject"]), m["Subject"]
assert "Jörg Müller" in parts[0].get_content()
assert m["Message-ID"] == "<digest.alex.2026-W49.0@example.com>", m["Message-ID"]
assert m["To"].addresses[0].addr_spec == "alex@example.com"
assert m["Date"].datetime.utcoffset().total_seconds() == 3600
assert not m.defects and not any(p.defects for p in parts)
PY

# --out writes one .eml per leader, 0600, and sends nothing.
run 0 $C run --out "$TMP/outdir" $N
[ "$(stat -c %a "$TMP/outdir/alex.eml")" = 600 ] || fail "eml mode"
grep -q "^Message-ID: <digest.alex.2026-W49.0@example.com>" "$TMP/outdir/alex.eml" || fail "eml in --out"
run 78 $C run $N
expect_grep "no [smtp] url or sendmail to send with" "$TMP/err"
run 64 $C preview --leader alex --format pdf

# templates = DIR overrides the built-in templates file by file.
mkdir -p "$TMP/tmpl"
printf 'Custom: {{{focus.name}}} / {{week.id}}\n' >"$TMP/tmpl/subject"
printf '{{#neglected}}{{name}}|{{/neglected}}\n' >"$TMP/tmpl/digest.txt"
sed -i "s|^\[digest\]|[digest]\ntemplates = $TMP/tmpl|" "$TMP/ex/digest.ini"
run 0 $C preview --leader alex $N
[ "$(cat "$TMP/out")" = "Jörg Müller|" ] || fail "templates = did not override digest.txt: $(cat "$TMP/out")"
run 0 $C preview --leader alex $N --format html
cmp -s "$TMP/out" "$GOLDEN/examples-digest.html" || fail "digest.html should still be the built-in one"
run 0 $C preview --leader alex $N --format eml
python3 - "$TMP/out" <<'PY' || fail "custom subject"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
assert str(m["Subject"]) == "Custom: Jörg Müller / 2026-W49", m["Subject"]
PY

# An automatic merge is listed in the digest that first shows it, not
# every week; the text shown instead of sent still lists every one, so
# the leader can undo any.
cp -a "$DIGEST_SRC/examples" "$TMP/wk"
rm -f "$TMP/wk/example.db"*
mkdir -p "$TMP/sent"
cat >"$TMP/sendmail" <<'SH'
#!/bin/sh
cat >"$STUB_DIR/$(ls "$STUB_DIR" | wc -l).eml"
SH
chmod +x "$TMP/sendmail"
export STUB_DIR=$TMP/sent
printf '\n[smtp]\nsendmail = %s\n' "$TMP/sendmail" >>"$TMP/wk/digest.ini"
sed -i "s|^\[digest\]|[digest]\nlog_file = $TMP/digest.log|" "$TMP/wk/digest.ini"
W="-c $TMP/wk/digest.ini"
run 0 $W run --now 2026-11-30
run 0 $W run --now 2026-12-07
[ "$(ls "$TMP/sent" | tr '\n' ' ')" = "0.eml 1.eml " ] || fail "two weekly digests expected: $(ls "$TMP/sent")"
grep -q "Addresses counted as one person:" "$TMP/sent/0.eml" || fail "the first digest lists the merge"
grep -q "jo.kim@home.example" "$TMP/sent/0.eml" || fail "the first digest names the merged addresses"
grep -q "counted as one person" "$TMP/sent/1.eml" && fail "the second digest lists the merge again"
grep -q "jo.kim@home.example" "$TMP/sent/1.eml" && fail "the second digest names the merged addresses again"
run 0 $W preview --leader alex --now 2026-12-07
expect_grep "- Jo Kim: jo.kim@work.example jo.kim@home.example" "$TMP/out"
run 0 $W preview --leader alex --now 2026-12-07 --format json
python3 - "$TMP/out" <<'PY' || fail "merged in the model of the second week"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["merged"] == [], m["merged"]
assert [x["person"] for x in m["merged_all"]] == ["Jo Kim"], m["merged_all"]
assert m["merged_all"][0]["new"] is False
PY
# The digest of the week already sent, shown again, is the one sent.
run 0 $W preview --leader alex --now 2026-11-30 --format json
python3 - "$TMP/out" <<'PY' || fail "merged in the model of the week sent"
import json, sys
m = json.load(open(sys.argv[1]))
assert [x["person"] for x in m["merged"]] == ["Jo Kim"], m["merged"]
PY
# A merge that forms later (auto_merge turned on after a digest was sent
# without it) is in the next digest sent: what counts is the digests it
# was sent with, not when its addresses were first seen.
cp -a "$DIGEST_SRC/examples" "$TMP/late"
rm -f "$TMP/late/example.db"*
rm -rf "$TMP/sent" && mkdir -p "$TMP/sent"
printf '\n[smtp]\nsendmail = %s\n' "$TMP/sendmail" >>"$TMP/late/digest.ini"
sed -i "s|^\[digest\]|[digest]\nlog_file = $TMP/late.log\nauto_merge = no|" "$TMP/late/digest.ini"
run 0 -c "$TMP/late/digest.ini" run --now 2026-11-30
grep -q "counted as one person" "$TMP/sent/0.eml" && fail "a merge without auto_merge"
sed -i "s|^auto_merge = no|auto_merge = yes|" "$TMP/late/digest.ini"
run 0 -c "$TMP/late/digest.ini" run --now 2026-12-07
grep -q "jo.kim@home.example" "$TMP/sent/1.eml" || fail "a merge formed later was never sent"

# What the leader reads: each name a mailto: link, coming up too; a
# silence longer than the chart shows the date of the last touch;
# durations rounded as a person says them (Nov 2 to Nov 30 is 4 weeks).
expect_grep '<a href="mailto:priya@example.com" style="color:#1f2933;text-decoration:none">Priya Shah</a>: usually' "$GOLDEN/examples-digest.html"
expect_grep 'last: Sep 7</div>' "$GOLDEN/away-digest.html"
grep -q 'last 12 weeks' "$GOLDEN/away-digest.html" && fail "an empty chart for a silence longer than it"
expect_grep "4 weeks since an email on" "$GOLDEN/examples-digest.text"

# A note is shown beside the suggestion, never instead of it: Jörg's
# last touches were all email, so a call is still what is suggested.
run 0 $C note --leader alex joerg@client-a.example 'New role in Q1' $N
run 0 $C preview --leader alex $N --format json
python3 - "$TMP/out" <<'PY' || fail "a note replaced the suggestion"
import json, sys
m = json.load(open(sys.argv[1]))
f = m["focus"]
assert f["note"] == "New role in Q1", f
assert "call" in f["suggestion"], f["suggestion"]
PY
