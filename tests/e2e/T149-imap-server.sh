#!/usr/bin/env bash
# The Dovecot harness on its own (imap_server.sh, imap_tool.py): mail
# appended with and without \Seen keeps its flags; "Sent Items" is the
# special-use \Sent folder; PLAIN, XOAUTH2 and OAUTHBEARER accept the
# right secret only; STARTTLS on IMAP_PORT, none on IMAP_NOTLS_PORT;
# recreating a folder changes its UIDVALIDITY; imap_kill, imap_restart
# and the exit leave no process behind.
. "$(dirname "$0")/lib.sh"
. "$DIGEST_SRC/tests/e2e/imap_server.sh"
command -v openssl >/dev/null || skip "no openssl"

imap_start "$TMP/imap"

# Three of the examples: two read, one not.
set -- "$DIGEST_SRC"/examples/Sent/cur/*
[ $# -ge 3 ] || fail "examples/Sent/cur has fewer than 3 messages"
imap_tool append --folder "Sent Items" --seen "$1" "$2" >"$TMP/uids"
imap_tool append --folder "Sent Items" "$3" >>"$TMP/uids"
printf '1\n2\n3\n' | diff -u - "$TMP/uids" >&2 || fail "APPEND UIDs"
imap_tool flags --folder "Sent Items" >"$TMP/flags"
printf '1 \\Seen\n2 \\Seen\n3\n' | diff -u - "$TMP/flags" >&2 || fail "flags"

# Special use: "Sent Items" is \Sent, "Sent" exists and is not.
imap_tool list --special-use >"$TMP/list"
expect_grep '(\Sent) "/" "Sent Items"' "$TMP/list"
expect_grep '() "/" Sent' "$TMP/list"
[ "$(grep -c '\\Sent' "$TMP/list")" = 1 ] || fail "more than one \\Sent folder"

# Recreating gives a new UIDVALIDITY and an empty folder.
before=$(imap_tool uidvalidity --folder "Sent Items")
imap_tool recreate --folder "Sent Items"
after=$(imap_tool uidvalidity --folder "Sent Items")
[ -n "$before" ] && [ "$before" != "$after" ] || fail "UIDVALIDITY $before -> $after"
imap_tool flags --folder "Sent Items" >"$TMP/flags"
expect_empty "$TMP/flags" "recreated folder"

# Authentication: password, XOAUTH2, OAUTHBEARER.
imap_tool login >/dev/null || fail "LOGIN s3cret"
imap_tool xoauth2 --token tok-good >/dev/null || fail "XOAUTH2 tok-good"
imap_tool oauthbearer --token tok-good >/dev/null || fail "OAUTHBEARER tok-good"
imap_log_wait 'Login: user=<alex>, method=XOAUTH2, .*, TLS,'
imap_log_wait 'Login: user=<alex>, method=OAUTHBEARER, .*, TLS,'
expect_grep 'token=tok-good active' "$IMAP_DIR/oauth.log"
# Tokens are looked up on every login (no cache): revoke tok-good.
echo "tok-new alex" >"$IMAP_DIR/oauth-tokens"
imap_tool xoauth2 --token tok-new >/dev/null || fail "XOAUTH2 tok-new"
# Refusals, each after Dovecot's failure delay (~0.5 s): all at once.
pids=
refused() {
	local name=$1
	shift
	{ rc=0; imap_tool "$@" >/dev/null 2>&1 || rc=$?; echo "$name $rc" >"$TMP/rc.$name"; } &
	pids="$pids $!"
}
refused password --password wrong login
refused xoauth2-bad xoauth2 --token tok-bad
refused oauthbearer-revoked oauthbearer --token tok-good
refused xoauth2-other-user --user bob xoauth2 --token tok-new
wait $pids
for f in "$TMP"/rc.*; do
	read -r name rc <"$f"
	[ "$rc" = 1 ] || fail "$name: imap_tool exit $rc, expected 1 (refused)"
done
expect_grep 'token=tok-bad inactive' "$IMAP_DIR/oauth.log"

# STARTTLS on IMAP_PORT, verified against the CA; none on NOTLS, where a
# cleartext LOGIN is accepted and logged without TLS/secured.
imap_log_mark
imap_log_has 'Login: ' && fail "imap_log_mark: old lines still seen"
printf 'a LOGIN alex s3cret\r\nb LOGOUT\r\n' |
	timeout 10 openssl s_client -quiet -starttls imap -connect "127.0.0.1:$IMAP_PORT" \
		-CAfile "$IMAP_CA" -verify_return_error -verify_ip 127.0.0.1 >"$TMP/starttls" 2>&1 ||
	{ cat "$TMP/starttls" >&2; fail "openssl s_client -starttls imap"; }
expect_grep 'a OK' "$TMP/starttls"
imap_log_wait 'Login: user=<alex>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=[0-9]+, TLS,'
exec 3<>"/dev/tcp/$IMAP_NOTLS_HOST/$IMAP_NOTLS_PORT"
printf 'a LOGIN alex s3cret\r\nb LOGOUT\r\n' >&3
timeout 10 cat <&3 >"$TMP/notls" || true
exec 3>&-
grep -q STARTTLS "$TMP/notls" && fail "NOTLS offers STARTTLS"
expect_grep 'a OK' "$TMP/notls"
imap_log_wait 'Login: user=<alex>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.2, mpid=[0-9]+, session='

# A listener that never greets.
imap_hang_port
exec 3<>"/dev/tcp/127.0.0.1/$HANG_PORT"
line=
read -r -t 0.3 line <&3 || true
[ -z "$line" ] || fail "the hang port said '$line'"
exec 3>&-

# imap_kill in the middle of a session: the client sees the connection
# end; nothing of this instance is left; a restart keeps mail and ports.
imap_tool append --folder Sent "$1" >/dev/null
exec 3<>"/dev/tcp/$IMAP_NOTLS_HOST/$IMAP_NOTLS_PORT"
printf 'a LOGIN alex s3cret\r\nb SELECT Sent\r\n' >&3
timeout 10 grep -m1 -q '^b OK' <&3 || fail "SELECT before the kill"
# instance DIR IMAPS_PORT: the processes of that Dovecot (titles like
# dovecot-digest-e2e-PORT/imap-login) and its helpers (DIR in argv).
instance() {
	ps -e -o pid=,stat=,args= | grep -E -e "dovecot-digest-e2e-$2/" -e "$1" | grep -v grep || true
}
ports="$IMAP_PORT $IMAPS_PORT $IMAP_NOTLS_PORT"
imap_kill
timeout 10 cat <&3 >/dev/null || fail "connection still open after imap_kill"
exec 3>&-
left=$(instance "$IMAP_DIR" "$IMAPS_PORT" | grep -v oauth_introspect || true)
[ -z "$left" ] || fail "processes left by imap_kill: $left"
for p in $IMAP_PORT $IMAPS_PORT; do
	! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || fail "port $p still open after imap_kill"
done
imap_restart
[ "$IMAP_PORT $IMAPS_PORT $IMAP_NOTLS_PORT" = "$ports" ] || fail "ports changed on restart"
imap_tool flags --folder Sent >"$TMP/flags"
printf '1\n' | diff -u - "$TMP/flags" >&2 || fail "mail lost by the kill"
imap_stop
left=$(instance "$IMAP_DIR" "$IMAPS_PORT" | grep -v oauth_introspect || true)
[ -z "$left" ] || fail "processes left by imap_stop: $left"

# And at exit: another test script that starts a server and fails.
cat >"$TMP/child.sh" <<'SH'
. "$DIGEST_SRC/tests/e2e/lib.sh"
. "$DIGEST_SRC/tests/e2e/imap_server.sh"
imap_start "$TMP/imap"
imap_hang_port
echo "$TMP $IMAPS_PORT"
fail "on purpose"
SH
rc=0
child=$(bash "$TMP/child.sh" 2>"$TMP/child.err") || rc=$?
[ $rc = 1 ] && [ -n "$child" ] || { cat "$TMP/child.err" >&2; fail "child test: exit $rc"; }
set -- $child
[ ! -e "$1" ] || fail "child test left $1"
left=$(instance "$1" "$2")
[ -z "$left" ] || fail "child test left processes: $left"
