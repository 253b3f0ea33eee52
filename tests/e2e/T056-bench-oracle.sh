#!/usr/bin/env bash
# The benchmark's corpus read right: digest's interactions and names over
# a synthetic year (../shared/bench/gencorpus.py, a small one) against an
# independent reading of the same files by Python's email package: every
# message's time, people, size and weight (DESIGN §5), every person's
# display name, from the Maildir and from the mbox.  The fast paths that
# issue 12 added (ASCII names, headers skipped unread, stamped
# directories, history read by runs of ids) must leave the result exactly
# as a plain reading has it.  Skipped when ../shared is absent.
. "$(dirname "$0")/lib.sh"

GEN=${DIGEST_SHARED:-$DIGEST_SRC/../shared}/bench/gencorpus.py
[ -f "$GEN" ] || skip "no $GEN"
python3 "$GEN" "$TMP/corpus" --messages 1500 --contacts 80 --seed 11 \
	--mbox >/dev/null
before=$(snapshot "$TMP/corpus")

# alex as gencorpus writes him: three addresses of his own
for kind in maildir mbox; do
	case $kind in
	maildir) spec="maildir:$TMP/corpus/Sent" ;;
	mbox) spec="mbox:$TMP/corpus/sent.mbox" ;;
	esac
	cat >"$TMP/$kind.ini" <<-INI
		[digest]
		database = $TMP/$kind.db
		timezone = UTC

		[leader alex]
		email = alex@example.com
		aliases = alex.leader@example.com, a.leader@corp.example
		sent = $spec
	INI
	run 0 -c "$TMP/$kind.ini" --now 2026-11-29T00:00:00Z ingest
	expect_empty "$TMP/err" "ingest's output"
	run 0 -c "$TMP/$kind.ini" --now 2026-11-29T00:00:00Z interactions
	mv "$TMP/out" "$TMP/$kind.interactions.json"
	run 0 -c "$TMP/$kind.ini" --now 2026-11-29T00:00:00Z contacts \
		--format json
	mv "$TMP/out" "$TMP/$kind.contacts.json"
done
[ "$(snapshot "$TMP/corpus")" = "$before" ] || fail "the corpus changed"

python3 - "$TMP" <<'PY' || fail "digest and the plain reading differ"
import email, email.policy, email.utils, json, mailbox, os, sys
from collections import Counter

tmp = sys.argv[1]
own = {"alex@example.com", "alex.leader@example.com", "a.leader@corp.example"}
# gencorpus's automated addresses: counted in n, never people
robots = {"noreply@service.example", "no-reply@billing.example",
          "notifications@tracker.example", "list@lists.example.org"}

def read(messages):
    """Expected interactions and names from parsed headers."""
    ias, names = [], {}
    for msg in messages:
        when = email.utils.parsedate_to_datetime(str(msg["Date"]))
        rcpt = []
        for field in ("To", "Cc", "Bcc"):
            for h in msg.get_all(field, []):
                for a in h.addresses:
                    addr = a.addr_spec.lower()
                    if addr not in own:
                        rcpt.append(addr)
                        if a.display_name:
                            names.setdefault(addr, Counter())[a.display_name] += 1
        n = len(set(rcpt))
        people = sorted(set(rcpt) - robots)
        if people:
            ias.append((when.astimezone(email.utils.datetime.timezone.utc)
                        .strftime("%Y-%m-%dT%H:%M:%SZ"), tuple(people), n,
                        min(1.0, 3.0 / n)))
    return sorted(ias), names

def maildir(path):
    for sub in ("cur", "new"):
        for name in sorted(os.listdir(os.path.join(path, sub))):
            with open(os.path.join(path, sub, name), "rb") as f:
                yield email.message_from_binary_file(f, policy=email.policy.default)

def mbox(path):
    for m in mailbox.mbox(path, create=False):
        yield email.message_from_bytes(m.as_bytes(), policy=email.policy.default)

bad = 0
def differ(what):
    global bad
    bad += 1
    if bad <= 10:
        print("differs: " + what, file=sys.stderr)

for kind, messages in (("maildir", maildir(os.path.join(tmp, "corpus", "Sent"))),
                       ("mbox", mbox(os.path.join(tmp, "corpus", "sent.mbox")))):
    want, names = read(messages)
    got = sorted((x["time"], tuple(x["participants"]), x["size"], x["weight"])
                 for x in json.load(open(os.path.join(tmp, kind + ".interactions.json"))))
    gotc = Counter((g[0], g[1], g[2], round(g[3], 4)) for g in got)
    wantc = Counter((w[0], w[1], w[2], round(w[3], 4)) for w in want)
    for x in sorted((gotc - wantc).elements()):
        differ("%s: digest has %r" % (kind, x))
    for x in sorted((wantc - gotc).elements()):
        differ("%s: digest lacks %r" % (kind, x))
    contacts = json.load(open(os.path.join(tmp, kind + ".contacts.json")))
    listed = {a for c in contacts for a in c["addresses"]}
    for addr in {a for ia in want for a in ia[1]} - listed:
        differ("%s: %s not among the contacts" % (kind, addr))
    for c in contacts:
        # a person's addresses carry one name in gencorpus
        used = names.get(c["address"])
        expect = used.most_common(1)[0][0] if used else None
        if c["name"] != expect:
            differ("%s: %s named %r, expected %r" % (kind, c["address"], c["name"], expect))
    print("%s: %d interactions, %d contacts" % (kind, len(got), len(contacts)), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
