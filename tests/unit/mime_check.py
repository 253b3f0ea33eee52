#!/usr/bin/env python3
"""mime_check — read a message written by mime_build back with Python's
email package (policy.default) and check it against what went in.

usage: mime_check.py FILE SUBJECT FROM_NAME FROM_ADDR TO_NAME TO_ADDR
                     TEXT_FILE HTML_FILE

SUBJECT and the names are the expected decoded values ("" for no display
name); TEXT_FILE and HTML_FILE hold the expected bodies (UTF-8, "\\n" line
breaks).  Checks: every line ends in CRLF and has at most 998 octets; the
header block holds exactly Date, From, To, Subject, Message-ID,
Auto-Submitted, MIME-Version and Content-Type, once each; no defects on the
message, its parts or any header; multipart/alternative with exactly one
text/plain then one text/html part, both utf-8 quoted-printable, decoding
back to the expected bodies; Subject, display names and addresses decode to
the expected values (display names decoded as RFC 2047 §6.2 says, with the
legacy decoder; policy.default's own reading must agree, or match its known
quirks, see python_display_name); Date and Message-ID present and
parseable.

Exit 0 when all hold; else 1 with one line per failure on stderr.
"""
import email
import email.header
import email.policy
import email.utils
import re
import sys

EXPECTED_HEADERS = ["date", "from", "to", "subject", "message-id",
                    "auto-submitted", "mime-version", "content-type"]


def unfold(value):
    return re.sub(r"\r?\n(?=[ \t])", "", str(value))


def strict_display_name(value):
    """The display name of a one-mailbox header value decoded as RFC 2047
    §6.2 says: blanks between adjacent encoded words are dropped."""
    pairs = email.utils.getaddresses([value])
    if len(pairs) != 1:
        return None
    out = []
    for part, charset in email.header.decode_header(pairs[0][0]):
        out.append(part.decode(charset or "ascii")
                   if isinstance(part, bytes) else part)
    return "".join(out)


ENCODED_WORD = re.compile(r"=\?([^?]+)\?([bBqQ])\?([^?]*)\?=")


def python_display_name(value):
    """What policy.default makes of a display name made only of encoded
    words, on Pythons that still have two quirks in address headers: the
    blanks between adjacent encoded words are kept as one space (CPython
    gh-128110, against RFC 2047 §6.2) and runs of blanks inside a decoded
    word come back as one space.  None when the name is not only encoded
    words."""
    name = email.utils.getaddresses([value])[0][0]
    words = name.split()
    if not words or not all(ENCODED_WORD.fullmatch(w) for w in words):
        return None
    decoded = []
    for w in words:
        text = str(email.header.make_header(email.header.decode_header(w)))
        decoded.append(re.sub(r"[ \t]+", " ", text))
    return " ".join(decoded)


def main(argv):
    if len(argv) != 9:
        print(__doc__, file=sys.stderr)
        return 2
    (path, subject, from_name, from_addr, to_name, to_addr,
     text_path, html_path) = argv[1:]
    with open(path, "rb") as f:
        raw = f.read()
    with open(text_path, encoding="utf-8", newline="") as f:
        want_text = f.read()
    with open(html_path, encoding="utf-8", newline="") as f:
        want_html = f.read()
    failures = []

    def fail(msg):
        failures.append(msg)

    # Lines: CRLF only, at most 998 octets.
    if not raw.endswith(b"\r\n"):
        fail("message does not end in CRLF")
    for n, line in enumerate(raw.split(b"\r\n"), 1):
        if b"\r" in line or b"\n" in line:
            fail(f"line {n}: bare CR or LF")
        if len(line) > 998:
            fail(f"line {n}: {len(line)} octets")
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line[:1] not in (b" ", b"\t"):
            name = line.split(b":", 1)[0].lower()
            if name.decode("ascii", "replace") not in EXPECTED_HEADERS:
                fail(f"unexpected header line {line[:60]!r}")
        elif not line.strip():
            fail("a header continuation line holds only blanks")
    if re.search(rb"[\x80-\xff]", head):
        fail("8-bit octets in the header block")

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    raw_headers = email.message_from_bytes(raw, policy=email.policy.compat32)
    names = [k.lower() for k in msg.keys()]
    if sorted(names) != sorted(EXPECTED_HEADERS):
        fail(f"headers {names}")
    if msg.defects:
        fail(f"message defects {msg.defects}")
    for k, v in msg.items():
        if getattr(v, "defects", None):
            fail(f"{k}: header defects {v.defects}")
        if "\r" in str(v) or "\n" in str(v):
            fail(f"{k}: line break in decoded value")

    if str(msg["subject"]) != subject:
        fail(f"Subject {str(msg['subject'])!r} != {subject!r}")
    for field, name, addr in (("from", from_name, from_addr),
                              ("to", to_name, to_addr)):
        h = msg[field]
        addrs = h.addresses if h is not None else ()
        if len(addrs) != 1:
            fail(f"{field}: {len(addrs)} addresses in {str(h)!r}")
            continue
        raw_value = unfold(raw_headers[field])
        strict = strict_display_name(raw_value)
        if strict != name:
            fail(f"{field}: display name (RFC 2047) {strict!r} != {name!r}")
        modern = addrs[0].display_name
        if modern != name and modern != python_display_name(raw_value):
            fail(f"{field}: display name {modern!r} != {name!r}")
        if addrs[0].addr_spec != addr:
            fail(f"{field}: address {addrs[0].addr_spec!r} != {addr!r}")
    if msg["date"] is None or msg["date"].datetime is None:
        fail("no parseable Date")
    else:
        try:
            email.utils.parsedate_to_datetime(str(msg["date"]))
        except (TypeError, ValueError) as e:
            fail(f"Date {str(msg['date'])!r}: {e}")
    mid = str(msg["message-id"] or "")
    if not re.fullmatch(r"<[^<>\s@]+@[^<>\s@]+>", mid):
        fail(f"Message-ID {mid!r}")
    if str(msg["mime-version"]) != "1.0":
        fail(f"MIME-Version {str(msg['mime-version'])!r}")
    if str(msg["auto-submitted"]) != "auto-generated":
        fail(f"Auto-Submitted {str(msg['auto-submitted'])!r}")

    if msg.get_content_type() != "multipart/alternative":
        fail(f"top type {msg.get_content_type()}")
    parts = list(msg.iter_parts())
    types = [p.get_content_type() for p in parts]
    if types != ["text/plain", "text/html"]:
        fail(f"parts {types}")
    for part in msg.walk():
        if part.defects:
            fail(f"{part.get_content_type()}: defects {part.defects}")
    for part, want in zip(parts, (want_text, want_html)):
        ctype = part.get_content_type()
        if part.get_content_charset() != "utf-8":
            fail(f"{ctype}: charset {part.get_content_charset()}")
        cte = part.get("content-transfer-encoding", "")
        if str(cte).lower() != "quoted-printable":
            fail(f"{ctype}: Content-Transfer-Encoding {cte}")
        got = part.get_content().replace("\r\n", "\n")
        if got != want:
            fail(f"{ctype}: body differs: {got[:200]!r} != {want[:200]!r}")

    for f in failures:
        print(f"mime_check: {path}: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
