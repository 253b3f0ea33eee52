#!/usr/bin/env bash
# Conformance over every file of ../shared/corpus/mail (real mail written
# by other projects): no crash, every file ingested or skipped with a
# reason, and a second run changes nothing.  Skipped when the corpus is
# absent, as on a user's machine.
. "$(dirname "$0")/lib.sh"

CORPUS=${DIGEST_SHARED:-$DIGEST_SRC/../shared}/corpus/mail
[ -d "$CORPUS" ] || skip "no corpus at $CORPUS"

# Every file as one message of a Maildir (copies in $TMP; the corpus is
# read-only), and every mbox file as an mbox source.  Each From address is
# made a delegate, so that messages are judged on their headers rather
# than dropped as someone else's.
python3 - "$CORPUS" "$TMP" <<'PY'
import email, email.policy, email.utils, os, shutil, sys
corpus, tmp = sys.argv[1], sys.argv[2]
md = os.path.join(tmp, "Maildir")
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(md, sub))
senders, mboxes, n = set(), [], 0
for root, dirs, files in sorted(os.walk(corpus)):
    dirs.sort()
    for name in sorted(files):
        path = os.path.join(root, name)
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        n += 1
        shutil.copyfile(path, os.path.join(md, "cur", "%05d.corpus:2,S" % n))
        data = open(path, "rb").read()
        if data.startswith(b"From ") or data.startswith(b"\xef\xbb\xbfFrom "):
            mboxes.append(path)
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        for _, a in email.utils.getaddresses([str(v) for v in msg.get_all("From", [])]):
            local, _, domain = a.partition("@")
            if (a.count("@") == 1 and local and domain and len(a) < 150
                    and not any(c in a for c in " ,;\"()<>[]\\")):
                senders.add(a.lower())
with open(os.path.join(tmp, "extra"), "w") as f:
    for s in sorted(senders):
        f.write("delegates = %s\n" % s)
    for m in mboxes:
        f.write("sent = mbox:%s\n" % m)
print(n, file=open(os.path.join(tmp, "count"), "w"))
PY
mapfile -t extra <"$TMP/extra"
write_config "$TMP/c.ini" "sent = maildir:$TMP/Maildir" "${extra[@]}"
files=$(cat "$TMP/count")
before=$(snapshot "$TMP/Maildir")

run 0 -c "$TMP/c.ini" -v ingest --now $NOW
summary=$(grep '^digest: alex: [0-9]* messages read' "$TMP/err")
echo "$summary" >&2
read -r read added dup notl auto nobody skipped < <(echo "$summary" |
	sed -E 's/[^0-9]+/ /g; s/^ //')
maildir_read=$(grep -oE "^digest: alex: maildir:[^:]+: " "$TMP/err" | wc -l)
[ "$maildir_read" = 1 ] || fail "no per-source line for the Maildir"
[ "$read" -ge "$files" ] || fail "$read messages read of $files files"
[ $((added + dup + notl + auto + nobody + skipped)) = "$read" ] ||
	fail "not every message was ingested or skipped with a reason"
[ "$added" -gt 1000 ] || fail "only $added interactions from the corpus"
# Each warning names a file of the Maildir or an mbox and its offset, or
# is the summary of a source's messages that are not the leader's.
grep 'warning' "$TMP/err" |
	grep -vE "warning: ($TMP/Maildir/cur/[0-9]+\.corpus:2,S|$CORPUS/[^:]+@[0-9]+): " |
	grep -vE "warning: (maildir|mbox):[^ ]+: [0-9]+ messages? not from alex skipped \(e\.g\. [^ ]+, From " &&
	fail "a warning does not name its file"
[ "$(snapshot "$TMP/Maildir")" = "$before" ] || fail "ingest changed the Maildir"

run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW
cp "$TMP/out" "$TMP/first.json"
run 0 -c "$TMP/c.ini" ingest --now $NOW
expect_empty "$TMP/err" "second run stderr"
run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW
cmp -s "$TMP/out" "$TMP/first.json" || fail "second run changed the interactions"
run 0 -c "$TMP/c.ini" contacts --leader alex --now $NOW --format json
python3 -c "import json,sys; assert isinstance(json.load(open(sys.argv[1])), list)" "$TMP/out" ||
	fail "contacts output is not valid JSON"
