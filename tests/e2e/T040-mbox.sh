#!/usr/bin/env bash
# An mbox holding the same messages as a Maildir gives the same
# interactions; an mbox is read incrementally by offset, and a rewritten
# one is read again without counting anything twice.
. "$(dirname "$0")/lib.sh"

# The edge Maildir as an mboxrd file ("From " in bodies quoted).
mkmbox() {
	python3 - "$FIXTURES/edge" "$1" <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
with open(out, "wb") as f:
    for sub in ("cur", "new"):
        for name in sorted(os.listdir(os.path.join(src, sub))):
            if name.startswith("."):
                continue
            data = open(os.path.join(src, sub, name), "rb").read()
            f.write(b"From alex@example.com Sat Nov 14 10:00:00 2026\n")
            for line in data.split(b"\n")[:-1]:
                if line.lstrip(b">").startswith(b"From "):
                    line = b">" + line
                f.write(line + b"\n")
            f.write(b"\n")
PY
}
mkmbox "$TMP/sent.mbox"
strip_source() { python3 -c 'import json,sys
a=json.load(sys.stdin)
for o in a: o.pop("source")
json.dump(a,sys.stdout,indent=1)'; }

write_config "$TMP/md.ini" "sent = maildir:$FIXTURES/edge"
sed -i "s|$TMP/digest.db|$TMP/md.db|" "$TMP/md.ini"
write_config "$TMP/mb.ini" "sent = mbox:$TMP/sent.mbox"
before=$(snapshot "$TMP")

run 0 -c "$TMP/mb.ini" ingest --now $NOW
expect_grep "$TMP/sent.mbox@" "$TMP/err"   # warnings name the offset
expect_grep "skipped: no usable Date" "$TMP/err"
[ "$(snapshot "$TMP" | grep -c sent.mbox)" = "$(echo "$before" | grep -c sent.mbox)" ] &&
	[ "$(snapshot "$TMP" | grep sent.mbox)" = "$(echo "$before" | grep sent.mbox)" ] ||
	fail "ingest changed the mbox"
[ ! -e "$TMP/sent.mbox.lock" ] || fail "a lock file was left"
run 0 -c "$TMP/mb.ini" interactions --leader alex --now $NOW
strip_source <"$TMP/out" >"$TMP/mbox.json"
run 0 -c "$TMP/md.ini" ingest --now $NOW
run 0 -c "$TMP/md.ini" interactions --leader alex --now $NOW
strip_source <"$TMP/out" >"$TMP/maildir.json"
diff -u "$TMP/maildir.json" "$TMP/mbox.json" >&2 || fail "mbox and Maildir differ"
[ "$(grep -c '"time"' "$TMP/mbox.json")" -ge 8 ] || fail "too few interactions"

# Nothing new: quiet, nothing added.
run 0 -c "$TMP/mb.ini" ingest --now $NOW
expect_empty "$TMP/err" "rerun stderr"

# Appended mail: only the new message is read.
printf 'From alex@example.com Sun Nov 15 10:00:00 2026\nDate: Sun, 15 Nov 2026 10:00:00 +0000\nFrom: alex@example.com\nTo: Newcomer <new@example.com>\nMessage-ID: <m20@example.com>\n\nhi\n\n' >>"$TMP/sent.mbox"
run 0 -c "$TMP/mb.ini" -v ingest --now $NOW
expect_grep "alex: 1 messages read, 1 new interactions" "$TMP/err"

# Rewritten (a message deleted by a mail client): read again from the
# start, nothing counted twice, no warning repeated.
python3 - "$TMP/sent.mbox" <<'PY'
import sys
p = sys.argv[1]
data = open(p, "rb").read()
first = data.index(b"\nFrom alex@", 1) + 1
open(p, "wb").write(data[first:])
PY
run 0 -c "$TMP/mb.ini" -v ingest --now $NOW
expect_grep "0 new interactions" "$TMP/err"
grep -q "warning" "$TMP/err" && fail "warnings repeated: $(cat "$TMP/err")"
run 0 -c "$TMP/mb.ini" interactions --leader alex --now $NOW
[ "$(grep -c '"time"' "$TMP/out")" = "$(( $(grep -c '"time"' "$TMP/mbox.json") + 1 ))" ] ||
	fail "interactions counted twice or lost"
