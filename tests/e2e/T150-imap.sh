#!/usr/bin/env bash
# Sent mail over IMAP, against a real Dovecot (imap_server.sh) with a CA
# made here: the \Sent special-use folder found without its name; the same
# interactions as from the same messages in a local Maildir; no flag
# changed; incremental (a rerun fetches nothing, 20 new messages are read
# and only those); a new UIDVALIDITY counts nothing twice; STARTTLS, and a
# server without it refused before any login; XOAUTH2 and OAUTHBEARER
# with a token command; and every failure (wrong password, untrusted
# certificate, a silent server, a server that dies mid-fetch, a hung
# password_command) exits 75 naming the source, with nothing half
# committed, the leader's other sources still read, and no secret printed.
. "$(dirname "$0")/lib.sh"
. "$DIGEST_SRC/tests/e2e/imap_server.sh"
command -v openssl >/dev/null || skip "no openssl"
command -v sqlite3 >/dev/null || skip "no sqlite3"

imap_start "$TMP/imap"
N="--now $NOW"

# The examples, some read (\Seen) and some not.
set -- "$DIGEST_SRC"/examples/Sent/cur/*
imap_tool append --folder "Sent Items" --seen "$@" >/dev/null
imap_tool append --folder "Sent Items" "$DIGEST_SRC"/examples/Sent/new/* >/dev/null
imap_tool append --folder "Sent" "$DIGEST_SRC"/examples/Sent/new/* >/dev/null
imap_tool flags --folder "Sent Items" >"$TMP/flags.before"
grep -q '\\Seen' "$TMP/flags.before" && grep -qv '\\Seen' "$TMP/flags.before" ||
	fail "expected read and unread messages"

echo "$IMAP_PASSWORD" >"$TMP/password"
imap_config() { # FILE SOURCE [EXTRA LINES...]
	local file=$1 src=$2
	shift 2
	write_config "$file" "sent = $src" "password_command = cat $TMP/password" "$@"
	sed -i "s|^\[digest\]|[digest]\ntls_ca_file = $IMAP_CA\ntimeout = 3s|" "$file"
}
imap_config "$TMP/c.ini" "imaps://alex@127.0.0.1:$IMAPS_PORT"
C="-c $TMP/c.ini"
interactions() { # CONFIG: the interactions without their source
	"$DIGEST" -c "$1" interactions --leader alex $N | grep -v '"source"'
}
count() { sqlite3 "$TMP/digest.db" 'SELECT count(*) FROM interaction'; }

# No folder in the URL: "Sent Items" is the \Sent one ("Sent" is not).
run 0 $C ingest $N
expect_empty "$TMP/err" "ingest stderr"
expect_empty "$TMP/out" "ingest stdout"
write_config "$TMP/m.ini" "sent = maildir:$DIGEST_SRC/examples/Sent"
sed -i "s|$TMP/digest.db|$TMP/m.db|" "$TMP/m.ini"
run 0 -c "$TMP/m.ini" ingest $N
interactions "$TMP/c.ini" >"$TMP/imap.json"
interactions "$TMP/m.ini" >"$TMP/maildir.json"
diff -u "$TMP/maildir.json" "$TMP/imap.json" >&2 || fail "IMAP and Maildir differ"
# And so the same digest.
"$DIGEST" -c "$TMP/c.ini" preview --leader alex $N --format json >"$TMP/imap.digest"
"$DIGEST" -c "$TMP/m.ini" preview --leader alex $N --format json >"$TMP/maildir.digest"
grep -q '"name"' "$TMP/imap.digest" || fail "an empty digest proves nothing"
diff -u "$TMP/maildir.digest" "$TMP/imap.digest" >&2 || fail "the digests differ"
[ "$(count)" = 34 ] || fail "expected 34 interactions, got $(count)"
imap_tool flags --folder "Sent Items" >"$TMP/flags.after"
diff -u "$TMP/flags.before" "$TMP/flags.after" >&2 || fail "ingest changed flags"
imap_log_wait 'Login: user=<alex>, method=PLAIN, .*, TLS,' # LOGIN shows as PLAIN

# A rerun with nothing new reads nothing.
run 0 $C ingest $N -v
expect_grep "0 messages read, 0 new interactions" "$TMP/err"

# 20 new messages: those 20 are read, nothing else.
mkdir -p "$TMP/new"
for i in $(seq 1 20); do
	printf 'From: Alex Leader <alex@example.com>\r\nTo: New Person %d <new%d@example.org>\r\nSubject: hello %d\r\nDate: Mon, 23 Nov 2026 10:%02d:00 +0000\r\nMessage-ID: <new-%d@example.com>\r\n\r\nhi\r\n' \
		"$i" "$i" "$i" "$i" "$i" >"$TMP/new/$i.eml"
done
imap_tool append --folder "Sent Items" "$TMP"/new/*.eml >/dev/null
run 0 $C ingest $N -v
expect_grep "20 messages read, 20 new interactions" "$TMP/err"
[ "$(count)" = 54 ] || fail "expected 54 interactions, got $(count)"

# A new UIDVALIDITY (the folder recreated with the same mail): read
# again, nothing counted twice.
imap_tool recreate --folder "Sent Items"
imap_tool append --folder "Sent Items" "$DIGEST_SRC"/examples/Sent/*/* "$TMP"/new/*.eml >/dev/null
run 0 $C ingest $N -v
expect_grep "54 messages read, 0 new interactions, 54 duplicates" "$TMP/err"
[ "$(count)" = 54 ] || fail "UIDVALIDITY change counted twice: $(count)"
cursor=$(sqlite3 "$TMP/digest.db" "SELECT cursor FROM source WHERE spec LIKE 'imaps:%'")
[ "$cursor" = "$(imap_tool uidvalidity --folder 'Sent Items')/54" ] ||
	fail "cursor $cursor"

# A named folder, over STARTTLS.
imap_config "$TMP/s.ini" "imap://alex@127.0.0.1:$IMAP_PORT/Sent"
sed -i "s|$TMP/digest.db|$TMP/s.db|" "$TMP/s.ini"
run 0 -c "$TMP/s.ini" ingest $N -v
expect_grep "5 messages read, 5 new interactions" "$TMP/err"
imap_log_wait 'Login: user=<alex>, .*, TLS,'
! imap_log_has 'Login: user=<alex>, .*, secured' || fail "logged in before STARTTLS"

# A server that offers no STARTTLS: refused before any login.
imap_config "$TMP/n.ini" "imap://alex@$IMAP_NOTLS_HOST:$IMAP_NOTLS_PORT/Sent"
run 75 -c "$TMP/n.ini" ingest $N
expect_grep "imap://alex@$IMAP_NOTLS_HOST:$IMAP_NOTLS_PORT: the server does not offer STARTTLS" "$TMP/err"
imap_log_wait "no auth attempts.*lip=$IMAP_NOTLS_HOST"
! imap_log_has "Login: .*lip=$IMAP_NOTLS_HOST" || fail "logged in without TLS"

# XOAUTH2 and OAUTHBEARER: password_command prints the access token.
for mech in xoauth2 oauthbearer; do
	echo "$IMAP_TOKEN" >"$TMP/token"
	write_config "$TMP/o.ini" "sent = imaps://alex@127.0.0.1:$IMAPS_PORT/Sent" \
		"password_command = cat $TMP/token" "imap_auth = $mech"
	sed -i "s|^\[digest\]|[digest]\ntls_ca_file = $IMAP_CA|; s|$TMP/digest.db|$TMP/$mech.db|" "$TMP/o.ini"
	run 0 -c "$TMP/o.ini" ingest $N -v
	expect_grep "5 messages read, 5 new interactions" "$TMP/err"
	M=$(echo $mech | tr a-z A-Z)
	imap_log_wait "Login: user=<alex>, method=$M, .*, TLS,"
	echo "tok-revoked" >"$TMP/token"
	run 75 -c "$TMP/o.ini" ingest $N
	expect_grep "imaps://alex@127.0.0.1:$IMAPS_PORT: AUTHENTICATE $M refused for alex" "$TMP/err"
	! grep -q tok- "$TMP/err" || fail "the token was printed"
done

# Wrong password: 75 naming the source, nothing lost; then it works.
echo wrong-secret >"$TMP/password"
run 75 $C ingest $N
expect_grep "digest: alex: imaps://alex@127.0.0.1:$IMAPS_PORT: LOGIN refused for alex" "$TMP/err"
! grep -q "wrong-secret\|$IMAP_PASSWORD" "$TMP/err" || fail "a password was printed"
[ "$(count)" = 54 ] || fail "a failed login lost interactions"
echo "$IMAP_PASSWORD" >"$TMP/password"
run 0 $C ingest $N

# The leader's other sources are still read when one fails.
echo wrong-secret >"$TMP/password"
imap_config "$TMP/b.ini" "imaps://alex@127.0.0.1:$IMAPS_PORT" \
	"sent = maildir:$DIGEST_SRC/examples/Sent"
sed -i "s|$TMP/digest.db|$TMP/b.db|" "$TMP/b.ini"
run 75 -c "$TMP/b.ini" ingest $N
[ "$(sqlite3 "$TMP/b.db" 'SELECT count(*) FROM interaction')" = 34 ] ||
	fail "the Maildir beside a failing IMAP source was not read"
echo "$IMAP_PASSWORD" >"$TMP/password"

# An untrusted certificate: 75 before any credential is sent.
make_ca "$TMP/other"
sed "s|^tls_ca_file = .*|tls_ca_file = $TMP/other/ca.pem|" "$TMP/c.ini" >"$TMP/u.ini"
logins=$(grep -c 'Login: user=<alex>' "$IMAP_LOG" || true)
quiet=$(grep -c 'no auth attempts' "$IMAP_LOG" || true)
run 75 -c "$TMP/u.ini" ingest $N
expect_grep "imaps://alex@127.0.0.1:$IMAPS_PORT: TLS: certificate not accepted for 127.0.0.1" "$TMP/err"
for _ in $(seq 100); do
	[ "$(grep -c 'no auth attempts' "$IMAP_LOG")" -gt "$quiet" ] && break
	sleep 0.1
done
[ "$(grep -c 'no auth attempts' "$IMAP_LOG")" -gt "$quiet" ] ||
	fail "Dovecot did not log the refused connection"
[ "$(grep -c 'Login: user=<alex>' "$IMAP_LOG" || true)" = "$logins" ] ||
	fail "logged in despite an untrusted certificate"

# A server that accepts and never greets: 75 within the timeout (3 s).
imap_hang_port
imap_config "$TMP/h.ini" "imaps://alex@127.0.0.1:$HANG_PORT/Sent"
start=$(date +%s)
run 75 -c "$TMP/h.ini" ingest $N
[ $(($(date +%s) - start)) -lt 15 ] || fail "the timeout was not kept"
expect_grep "imaps://alex@127.0.0.1:$HANG_PORT: connect:" "$TMP/err"
# Nobody listening at all.
port=$(free_port)
imap_config "$TMP/d.ini" "imaps://alex@127.0.0.1:$port/Sent"
run 75 -c "$TMP/d.ini" ingest $N
expect_grep "imaps://alex@127.0.0.1:$port: connect: connection refused" "$TMP/err"

# A password_command that hangs: killed at the timeout, 75.
imap_config "$TMP/p.ini" "imaps://alex@127.0.0.1:$IMAPS_PORT/Sent"
sed -i "s|^password_command = .*|password_command = sleep 60|" "$TMP/p.ini"
start=$(date +%s)
run 75 -c "$TMP/p.ini" ingest $N
[ $(($(date +%s) - start)) -lt 15 ] || fail "password_command was not bounded"
expect_grep "imaps://alex@127.0.0.1:$IMAPS_PORT: password_command timed out after 3s" "$TMP/err"

# A response libetpan cannot parse (spoiled by a relay for UID 3 of
# "Sent"): the batch is fetched again one message at a time, and that
# one is skipped with a warning naming its UID; the others count.
qport=$(free_port)
"$IMAP_PYTHON" "$DIGEST_SRC/tests/e2e/imap_poison.py" --listen "$qport" \
	--to "$IMAPS_PORT" --cert "$IMAP_DIR/srv.pem" --key "$IMAP_DIR/srv.key" \
	--ca "$IMAP_CA" --uid 3 >"$TMP/poison.out" 2>&1 &
poison=$!
_imap_pids="$_imap_pids $poison" # killed at exit with the server
for _ in $(seq 100); do grep -q ready "$TMP/poison.out" && break; sleep 0.1; done
imap_config "$TMP/q.ini" "imaps://alex@127.0.0.1:$qport/Sent"
sed -i "s|$TMP/digest.db|$TMP/q.db|" "$TMP/q.ini"
run 0 -c "$TMP/q.ini" ingest $N -v
expect_grep "imaps://alex@127.0.0.1:$qport/Sent UID 3: skipped: the server's response to UID FETCH cannot be parsed" "$TMP/err"
expect_grep "5 messages read, 4 new interactions" "$TMP/err"
[ "$(grep -c 'poisoned UID 3' "$TMP/poison.out")" -ge 2 ] || fail "UID 3 was not fetched alone"
run 0 -c "$TMP/q.ini" ingest $N -v
expect_grep "0 messages read" "$TMP/err"
kill $poison 2>/dev/null || true

# A message the server does not send (a NIL header; Gmail's "Some
# messages could not be FETCHed"): skipped with a warning for now, the
# cursor kept below it, and read when the server sends it.
"$IMAP_PYTHON" "$DIGEST_SRC/tests/e2e/imap_poison.py" --listen "$qport" \
	--to "$IMAPS_PORT" --cert "$IMAP_DIR/srv.pem" --key "$IMAP_DIR/srv.key" \
	--ca "$IMAP_CA" --uid 2 --nil >"$TMP/nil.out" 2>&1 &
poison=$!
_imap_pids="$_imap_pids $poison"
for _ in $(seq 100); do grep -q ready "$TMP/nil.out" && break; sleep 0.1; done
sed -i "s|$TMP/q.db|$TMP/nil.db|" "$TMP/q.ini"
run 0 -c "$TMP/q.ini" ingest $N -v
expect_grep "imaps://alex@127.0.0.1:$qport/Sent UID 2: skipped: the server sent no header for it" "$TMP/err"
expect_grep "5 messages read, 4 new interactions" "$TMP/err"
grep -q "poisoned UID 2" "$TMP/nil.out" || fail "UID 2 was not spoiled"
[ "$(sqlite3 "$TMP/nil.db" "SELECT cursor FROM source")" = "$(imap_tool uidvalidity --folder Sent)/1" ] ||
	fail "the cursor passed a message the server did not send"
kill $poison 2>/dev/null || true
wait $poison 2>/dev/null || true
# The same source, now relayed unspoiled.
"$IMAP_PYTHON" "$DIGEST_SRC/tests/e2e/imap_poison.py" --listen "$qport" \
	--to "$IMAPS_PORT" --cert "$IMAP_DIR/srv.pem" --key "$IMAP_DIR/srv.key" \
	--ca "$IMAP_CA" --uid 999 >"$TMP/plain.out" 2>&1 &
poison=$!
_imap_pids="$_imap_pids $poison"
for _ in $(seq 100); do grep -q ready "$TMP/plain.out" && break; sleep 0.1; done
run 0 -c "$TMP/q.ini" ingest $N -v
expect_grep "1 messages read, 1 new interactions" "$TMP/err"
kill $poison 2>/dev/null || true
[ "$(sqlite3 "$TMP/nil.db" "SELECT cursor FROM source")" = "$(imap_tool uidvalidity --folder Sent)/5" ] ||
	fail "the cursor did not move on"

# The server dies in the middle of a fetch: 75, and nothing of the
# source committed (the cursor not advanced); the next run reads all.
mkdir -p "$TMP/many"
for i in $(seq 1 400); do
	printf 'From: alex@example.com\r\nTo: p%d@example.org\r\nSubject: many %d\r\nDate: Tue, 24 Nov 2026 09:00:%02d +0000\r\nMessage-ID: <many-%d@example.com>\r\nX-Padding: %0200d\r\n\r\nx\r\n' \
		"$i" "$i" $((i % 60)) "$i" 0 >"$TMP/many/$i.eml"
done
imap_tool append --folder "Sent Items" "$TMP"/many/*.eml >/dev/null
pport=$(free_port)
"$IMAP_PYTHON" "$DIGEST_SRC/tests/e2e/cut_proxy.py" --listen "$pport" \
	--to "127.0.0.1:$IMAPS_PORT" --after 60000 --flag "$TMP/stalled" \
	>"$TMP/proxy.out" 2>&1 &
proxy=$!
_imap_pids="$_imap_pids $proxy"
for _ in $(seq 100); do grep -q ready "$TMP/proxy.out" && break; sleep 0.1; done
imap_config "$TMP/k.ini" "imaps://alex@127.0.0.1:$pport"
sed -i "s|$TMP/digest.db|$TMP/k.db|" "$TMP/k.ini"
"$DIGEST" -c "$TMP/k.ini" ingest $N >"$TMP/out" 2>"$TMP/err" &
digest=$!
for _ in $(seq 300); do [ -e "$TMP/stalled" ] && break; sleep 0.1; done
[ -e "$TMP/stalled" ] || fail "the fetch never got under way"
imap_kill
rc=0
wait $digest || rc=$?
kill $proxy 2>/dev/null || true
[ "$rc" = 75 ] || { cat "$TMP/err" >&2; fail "killed server: exit $rc, expected 75"; }
expect_grep "imaps://alex@127.0.0.1:$pport: " "$TMP/err"
[ "$(sqlite3 "$TMP/k.db" 'SELECT count(*) FROM interaction')" = 0 ] ||
	fail "a half-read folder was committed"
[ -z "$(sqlite3 "$TMP/k.db" 'SELECT cursor FROM source WHERE cursor IS NOT NULL')" ] ||
	fail "the cursor advanced"
imap_restart
sed -i "s|127.0.0.1:$pport|127.0.0.1:$IMAPS_PORT|" "$TMP/k.ini"
run 0 -c "$TMP/k.ini" ingest $N -v
expect_grep "454 messages read, 454 new interactions" "$TMP/err"
