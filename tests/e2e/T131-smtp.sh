#!/usr/bin/env bash
# run against a real SMTP server on 127.0.0.1 (aiosmtpd, STARTTLS, AUTH)
# with a certificate from a CA made here: delivered and read back by
# Python's email package; a wrong password is a failure the next run
# retries; an untrusted certificate is refused; two runs at once deliver
# exactly once.
. "$(dirname "$0")/lib.sh"

need_aiosmtpd
command -v openssl >/dev/null || skip "no openssl"

# A CA and a certificate for 127.0.0.1.
make_ca "$TMP"

port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/inbox"
"$PY" "$DIGEST_SRC/tests/e2e/smtp_server.py" --port "$port" --mode starttls \
	--cert "$TMP/srv.pem" --key "$TMP/srv.key" --user digest --password s3cret \
	--maildir "$TMP/inbox" >"$TMP/server.out" 2>"$TMP/server.err" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$TMP"' EXIT
# Wait for its readiness line (bounded: a slow python3 may take seconds).
for _ in $(seq 300); do grep -q ready "$TMP/server.out" && break; sleep 0.1; done
grep -q ready "$TMP/server.out" || fail "server did not start: $(cat "$TMP/server.err")"

cp -a "$DIGEST_SRC/examples" "$TMP/ex"
rm -f "$TMP/ex/example.db"*
echo wrong >"$TMP/password"
cat >>"$TMP/ex/digest.ini" <<INI

[smtp]
url = smtp://127.0.0.1:$port
user = digest
password_command = cat $TMP/password
from = Relationship Digest <digest@example.net>
tls_ca_file = $TMP/ca.pem
INI
sed -i "s|^\[digest\]|[digest]\nlog_file = $TMP/digest.log|" "$TMP/ex/digest.ini"
C="-c $TMP/ex/digest.ini"
N="--now 2026-11-30T07:00"

# Wrong password: 75, recorded as failed, nothing delivered, and the
# password never printed.
run 75 $C run $N
expect_grep "delivery to alex@example.com failed" "$TMP/err"
grep -q wrong "$TMP/err" "$TMP/digest.log" && fail "the password was printed"
expect_grep "status=failed" "$TMP/digest.log"
[ -z "$(ls "$TMP/inbox")" ] || fail "delivered with a wrong password"

# Fixed: the next run sends.
echo s3cret >"$TMP/password"
run 0 $C run $N
expect_empty "$TMP/err" "run stderr"
[ -f "$TMP/inbox/1.eml" ] || fail "not delivered"
"$PY" - "$TMP/inbox/1.eml" <<'PY' || fail "the delivered message"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
parts = [p for p in m.walk() if not p.is_multipart()]
assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"], parts
assert "Jörg Müller" in str(m["Subject"])
assert m["Message-ID"] == "<digest.alex.2026-W49.0@example.net>"
assert "FOCUS THIS WEEK" in parts[0].get_content()
PY
expect_grep 'status=sent smtp="250' "$TMP/digest.log"

# Two runs at once with --force: the lock makes them one after the
# other; each sends once (W49.1 and W49.2), never the same message twice.
run 0 $C run $N --force & first=$!
"$DIGEST" $C run $N --force >/dev/null 2>"$TMP/err2" || fail "second run: $(cat "$TMP/err2")"
wait $first
[ "$(ls "$TMP/inbox" | grep -c '\.eml$')" = 3 ] || fail "expected 3 deliveries: $(ls "$TMP/inbox")"
[ "$(grep -h '^Message-ID' "$TMP"/inbox/*.eml | sort -u | wc -l)" = 3 ] || fail "a Message-ID delivered twice"
# A new week, two runs at once: exactly one delivery.
"$DIGEST" $C run --now 2026-12-07T07:00 >/dev/null 2>"$TMP/err1" & first=$!
"$DIGEST" $C run --now 2026-12-07T07:00 >/dev/null 2>"$TMP/err2" || fail "second run: $(cat "$TMP/err2")"
wait $first || fail "first run: $(cat "$TMP/err1")"
[ "$(ls "$TMP/inbox" | grep -c '\.eml$')" = 4 ] || fail "two runs at once: $(ls "$TMP/inbox")"
grep -q '^Message-ID: <digest.alex.2026-W50.0@example.net>' "$TMP/inbox/4.eml" || fail "W50 Message-ID"

# A certificate from a CA nobody trusts (the system store only): refused,
# before any password is sent.
# (--force, in the same week: the sample mail ends on Nov 23, and a later
# week would find the source stale first.)
sed -i '/^tls_ca_file/d' "$TMP/ex/digest.ini"
run 75 $C run --now 2026-12-07T09:00 --force
expect_grep "certificate" "$TMP/err"
[ "$(ls "$TMP/inbox" | grep -c '\.eml$')" = 4 ] || fail "delivered to an untrusted server"

# Server down: 75.
kill $server
wait $server 2>/dev/null || true
printf 'tls_ca_file = %s\n' "$TMP/ca.pem" >>"$TMP/ex/digest.ini"
run 75 $C run --now 2026-12-07T09:00 --force
expect_grep "failed" "$TMP/err"
