#!/usr/bin/env bash
# Names and notes from mail are text: `<script>`, quotes, CR/LF and a
# 10 kB name can inject neither markup nor a header.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/Sent/cur" "$TMP/Sent/new"
evil='=?UTF-8?Q?=3Cscript=3Ealert(1)=3C/script=3E_=22Q=22_=27x=27_a=0D=0ABcc:_evil@example.com?='
long=$(python3 -c 'print("W" * 10240)')
# Weekly from September to October 22, then silence; and mail to someone
# else every few days up to now, so that the silence is theirs.
i=0
for day in "03 Sep" "10 Sep" "17 Sep" "24 Sep" "01 Oct" "08 Oct" "15 Oct" "22 Oct"; do
	i=$((i + 1))
	printf 'Date: Thu, %s 2026 10:00:00 +0000\nFrom: alex@example.com\nTo: %s <mallory@example.com>\nMessage-ID: <h%d@example.com>\n\nhi\n' \
		"$day" "$evil" "$i" >"$TMP/Sent/cur/$i.host:2,S"
	i=$((i + 1))
	printf 'Date: Thu, %s 2026 11:00:00 +0000\nFrom: alex@example.com\nTo: "%s" <long@example.com>\nMessage-ID: <h%d@example.com>\n\nhi\n' \
		"$day" "$long" "$i" >"$TMP/Sent/cur/$i.host:2,S"
done
for day in "27 Oct" "01 Nov" "06 Nov" "11 Nov" "16 Nov" "21 Nov" "26 Nov"; do
	i=$((i + 1))
	printf 'Date: Thu, %s 2026 09:00:00 +0000\nFrom: alex@example.com\nTo: other@example.com\nMessage-ID: <h%d@example.com>\n\nhi\n' \
		"$day" "$i" >"$TMP/Sent/cur/$i.host:2,S"
done
write_config "$TMP/c.ini" "sent = maildir:$TMP/Sent"
run 0 -c "$TMP/c.ini" ingest --now $NOW
run 0 -c "$TMP/c.ini" note --leader alex mallory@example.com '<img src=x onerror=alert(2)> & "more"'

run 0 -c "$TMP/c.ini" preview --leader alex --now $NOW --format html
html=$TMP/out
grep -q '<script' "$html" && fail "markup from a name reached the HTML"
grep -q '<img' "$html" && fail "markup from a note reached the HTML"
expect_grep '&lt;script&gt;alert(1)&lt;/script&gt; &quot;Q&quot; &#39;x&#39; a Bcc: evil@example.com' "$html"
expect_grep '&lt;img src=x onerror=alert(2)&gt; &amp; &quot;more&quot;' "$html"

run 0 -c "$TMP/c.ini" preview --leader alex --now $NOW --format eml
python3 - "$TMP/out" <<'PY' || fail "eml"
import email, email.policy, sys
raw = open(sys.argv[1], "rb").read()
head = raw.split(b"\r\n\r\n", 1)[0]
assert not any(l.lower().startswith(b"bcc:") for l in head.split(b"\r\n")), "header injected"
assert all(len(l) <= 998 for l in raw.split(b"\r\n")), "line over 998 octets"
m = email.message_from_bytes(raw, policy=email.policy.default)
assert m["Bcc"] is None
subject = str(m["Subject"])
assert subject.startswith("This week, reach out to "), subject
assert len(subject) <= 100, "subject not cut: %d" % len(subject)
html = [p for p in m.walk() if p.get_content_type() == "text/html"][0].get_content()
assert "<script" not in html and "<img" not in html
PY

run 0 -c "$TMP/c.ini" preview --leader alex --now $NOW --format json
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert any(len(p["name"]) >= 10000 for p in m["neglected"])' "$TMP/out" ||
	fail "the long name did not come through as text"
