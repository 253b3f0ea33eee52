#!/usr/bin/env bash
# Display names are shown to a person, in a terminal, a JSON reader and
# the digest: the controls that a terminal acts on (C0, C1: U+0085 ends a
# line, U+009B starts an escape sequence), the bidi embeddings, overrides
# and isolates that reorder what follows them, and the line separators
# reach none of those, raw or RFC 2047 encoded, and an encoded NUL does
# not cut a name short.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/Sent/cur" "$TMP/Sent/new"
python3 - "$TMP/Sent/cur" <<'PY'
import base64, sys
d = sys.argv[1]
names = {
    # raw UTF-8 (8-bit header bytes), C0 ESC among them
    "raw": "Rae\u0085Raw\u009b31m \u202eevil\u202c \u2066iso\u2069\x1b[2J"
           "\u2028x\u2029y\u202a\u202b\u202d\u2067\u2068\u0080\u009f",
    # the same, Q encoded
    "q": "=?UTF-8?Q?Quinn=C2=85Q=C2=9B31m_=E2=80=AEevil=E2=80=AC_"
         "=E2=81=A6iso=E2=81=A9=1B[2J=E2=80=A8x=E2=80=A9y=07?=",
    # and B encoded
    "b": "=?UTF-8?B?%s?=" % base64.b64encode(
        "Bea\u0085B\u009b31m \u202eevil \u2068fsi\u2069\x1b".encode()).decode(),
    # an encoded NUL, Q and B: a control like any other, not the end
    "nulq": "=?UTF-8?Q?Ann=00e?=",
    "nulb": "=?UTF-8?B?%s?=" % base64.b64encode(b"Bo\x00b").decode(),
    # C1 from a single-byte charset: U+0085 once decoded
    "latin": "=?ISO-8859-1?Q?Cy=85d?=",
}
days = ["03 Sep", "10 Sep", "17 Sep", "24 Sep", "01 Oct", "08 Oct",
        "15 Oct", "22 Oct"]
i = 0
for day in days:
    for who, name in names.items():
        i += 1
        msg = ("Date: Thu, %s 2026 10:00:00 +0000\nFrom: alex@example.com\n"
               "To: %s <%s@example.com>\nMessage-ID: <n%d@example.com>\n"
               "Subject: %s\n\nhi\n"
               % (day, name, who, i, name))
        open("%s/%d.host:2,S" % (d, i), "wb").write(msg.encode())
# Mail to someone else up to now, so that the silence is theirs.
for day in ["27 Oct", "01 Nov", "06 Nov", "11 Nov", "16 Nov", "21 Nov",
            "26 Nov"]:
    i += 1
    msg = ("Date: Thu, %s 2026 09:00:00 +0000\nFrom: alex@example.com\n"
           "To: other@example.com\nMessage-ID: <n%d@example.com>\n\nhi\n"
           % (day, i))
    open("%s/%d.host:2,S" % (d, i), "wb").write(msg.encode())
PY
write_config "$TMP/c.ini" "sent = maildir:$TMP/Sent"
run 0 -c "$TMP/c.ini" ingest --now $NOW
expect_empty "$TMP/err" "ingest stderr"

# none FILE WHAT: FILE holds none of the characters, and is UTF-8.
none() {
	python3 - "$1" <<'PY' || fail "$2: a control or bidi character got through"
import email, email.policy, re, sys
raw = open(sys.argv[1], "rb").read()
if sys.argv[1].endswith(".eml"):
    # the message decoded: headers and bodies as a reader shows them
    m = email.message_from_bytes(raw, policy=email.policy.default)
    t = "\n".join([str(v) for k, v in m.items()] +
                  [p.get_content() for p in m.walk()
                   if p.get_content_maintype() == "text"])
    t = t.replace("\r\n", "\n")
else:
    t = raw.decode("utf-8")
bad = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]")
for m in bad.finditer(t):
    print("U+%04X at %d: %r" % (ord(m.group()), m.start(),
          t[max(0, m.start() - 30):m.start() + 10]), file=sys.stderr)
    sys.exit(1)
PY
}

run 0 -c "$TMP/c.ini" contacts --leader alex --format json
none "$TMP/out" "contacts --format json"
python3 - "$TMP/out" <<'PY' || fail "contacts --format json: names"
import json, sys
names = {c["address"]: c["name"] for c in json.load(open(sys.argv[1]))}
want = {
    "raw@example.com": "Rae Raw 31m evil iso [2J x y",
    "q@example.com": "Quinn Q 31m evil iso [2J x y",
    "b@example.com": "Bea B 31m evil fsi",
    "nulq@example.com": "Ann e",
    "nulb@example.com": "Bo b",
    "latin@example.com": "Cy d",
}
for a, n in want.items():
    assert names.get(a) == n, "%s: %r, want %r" % (a, names.get(a), n)
PY
for fmt in table csv; do
	run 0 -c "$TMP/c.ini" contacts --leader alex --format $fmt
	none "$TMP/out" "contacts --format $fmt"
done
run 0 -c "$TMP/c.ini" people --leader alex --format json
none "$TMP/out" "people --format json"

for fmt in text html json eml; do
	run 0 -c "$TMP/c.ini" preview --leader alex --now $NOW --format $fmt
	cp "$TMP/out" "$TMP/preview.$fmt"
	none "$TMP/preview.$fmt" "preview --format $fmt"
done
# Subjects kept (keep_subjects) are shown as titles: cleaned the same.
sed "s|^\[digest\]|[digest]\nkeep_subjects = yes|; s|$TMP/digest.db|$TMP/subjects.db|" \
	"$TMP/c.ini" >"$TMP/s.ini"
run 0 -c "$TMP/s.ini" ingest --now $NOW
for fmt in json csv; do
	run 0 -c "$TMP/s.ini" interactions --leader alex --format $fmt
	expect_grep "Rae Raw 31m evil iso [2J x y" "$TMP/out"
	none "$TMP/out" "interactions --format $fmt (subjects)"
done

# The bodies name them (and so would have shown what got through).
run 0 -c "$TMP/c.ini" preview --leader alex --now $NOW --format text
grep -qE 'Rae Raw|Quinn Q|Bea B|Ann e|Bo b|Cy d' "$TMP/out" ||
	{ cat "$TMP/out" >&2; fail "no hostile name in the text digest"; }
run 0 -c "$TMP/c.ini" preview --leader alex --now $NOW --format html
grep -qE 'Rae Raw|Quinn Q|Bea B|Ann e|Bo b|Cy d' "$TMP/out" ||
	{ cat "$TMP/out" >&2; fail "no hostile name in the HTML digest"; }

# A 1.8 MB To: line pushes the Date past the 1 MiB a backend reads of a
# header: the warning names the file and says that is why it is skipped.
mkdir -p "$TMP/Big/cur" "$TMP/Big/new"
python3 - "$TMP/Big/cur/big.host:2,S" <<'PY'
import sys
to = ", ".join("p%06d@example.com" % i for i in range(90000))
assert len(to) > 1800000
open(sys.argv[1], "w").write(
    "From: alex@example.com\nTo: %s\n"
    "Date: Thu, 01 Oct 2026 10:00:00 +0000\n"
    "Message-ID: <big@example.com>\n\nhi\n" % to)
PY
write_config "$TMP/big.ini" "sent = maildir:$TMP/Big"
run 0 -c "$TMP/big.ini" ingest --now $NOW
expect_grep "$TMP/Big/cur/big.host:2,S: skipped: no usable Date in the first 1 MiB of its header, where it was cut" "$TMP/err"
exit 0
