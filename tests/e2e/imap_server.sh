# A real Dovecot IMAP server on 127.0.0.1 for the e2e tests.  Source it
# after lib.sh; one server per test script.
#
#   imap_start DIR   Write DIR/dovecot.conf (no system configuration) and
#                    start Dovecot with DIR as its whole world, and the
#                    OAuth2 token-introspection endpoint; return once it
#                    greets.  Makes the CA with make_ca DIR unless
#                    DIR/ca.pem exists.  Skips the test (77) when dovecot,
#                    dovecot-imapd or python3 is missing.
#   imap_stop        Stop Dovecot (SIGTERM) and wait for every process of
#                    it: about 1 s, Dovecot's master sleeps 1 s for its log
#                    process.
#   imap_kill        SIGKILL every process of this Dovecot at once (a crash
#                    mid-fetch: clients see the connection end) and wait.
#   imap_restart     imap_stop when running, then start again on the same
#                    ports with the same mail, CA and tokens.
#   imap_tool ARG... tests/e2e/imap_tool.py --port $IMAPS_PORT --ca $IMAP_CA
#                    --user alex --password s3cret ARG...  (append, flags,
#                    recreate, uidvalidity, list, login, xoauth2,
#                    oauthbearer: see imap_tool.py --help; --user/--password
#                    given again override these).
#   imap_log_mark    Make imap_log_has/imap_log_wait look only at what the
#                    log gets from now on.
#   imap_log_has ERE       grep -E the Dovecot log now (no waiting).
#   imap_log_wait ERE [SECS]  Wait until the log has ERE (default 10 s);
#                    fail the test when it does not.
#   imap_hang_port   A TCP listener that accepts and never says a word,
#                    for timeout tests; exports HANG_PORT.
#   imap_cleanup     What the EXIT trap runs: kills all of the above.
# imap_start and imap_hang_port add imap_cleanup in front of the EXIT trap
# they find (lib.sh's rm -rf "$TMP"): a test that sets its own EXIT trap
# afterwards must call imap_cleanup in it.
#
# Exported: IMAP_HOST=127.0.0.1; IMAPS_PORT (implicit TLS); IMAP_PORT
# (STARTTLS offered); IMAP_NOTLS_HOST=127.0.0.2 and IMAP_NOTLS_PORT (no
# STARTTLS offered, cleartext LOGIN accepted: a stripped-STARTTLS
# server); IMAP_CA=DIR/ca.pem (signed the certificate for 127.0.0.1 and
# localhost; not for 127.0.0.2); IMAP_USER=alex, IMAP_PASSWORD=s3cret,
# IMAP_TOKEN=tok-good; OAUTH_PORT; IMAP_LOG=DIR/dovecot.log; IMAP_DIR.
#
# The server: alex/s3cret by PLAIN and LOGIN (logged as method=PLAIN),
# and XOAUTH2 and OAUTHBEARER with any token listed in DIR/oauth-tokens
# as "TOKEN USER" (initially "tok-good alex").  Dovecot's oauth2 passdb
# POSTs each token to tests/e2e/oauth_introspect.py, which reads that file
# on every request (so rewriting it revokes or adds tokens; Dovecot caches
# nothing) and logs each request in DIR/oauth.log ("token=T active").  A
# token given for another user than the introspection's is refused.  A
# failed authentication answers after ~0.5 s (Dovecot's failure timer;
# no growing penalty).  Mail: maildir DIR/mail/alex; hierarchy separator
# "/"; INBOX, "Sent" (no special use) and "Sent Items" (\Sent) always
# exist.  TLS 1.2 and 1.3 (GnuTLS 3.7 and OpenSSL clients).  As root,
# mail belongs to "nobody" and Dovecot's unprivileged processes need to
# traverse DIR: DIR and the directories above it up to $TMP get o+x (DIR
# must be below $TMP or already reachable).  As non-root, all of Dovecot
# runs as that user.  Dovecot's stderr goes to DIR/dovecot.out.
#
# Checking that a client never sends a password in the clear.  Dovecot
# counts a connection whose client address equals its own (127.0.0.1 to
# 127.0.0.1) as "secured", so on IMAP_PORT it accepts LOGIN before
# STARTTLS despite disable_plaintext_auth = yes.  A client connecting to
# 127.0.0.2 comes from 127.0.0.1 (Linux's source for the 127/8 route), so
# IMAP_NOTLS_PORT sees an insecure connection; it offers no STARTTLS and,
# on purpose, accepts LOGIN in the clear.  Either way the log tells what
# happened: every successful login writes one line, whose last element
# before session= is how it was protected:
#   imap-login: Info: Login: user=<alex>, method=PLAIN, rip=127.0.0.1,
#     lip=127.0.0.1, mpid=N, TLS, session=<...>      IMAPS or after STARTTLS
#   ... lip=127.0.0.1, mpid=N, secured, session=<...> cleartext, loopback
#   ... lip=127.0.0.2, mpid=N, session=<...>          cleartext, NOTLS
# and a connection closed without logging in writes
#   imap-login: Info: Disconnected: ... (no auth attempts in 0 secs):
#     user=<>, rip=127.0.0.1, lip=127.0.0.2, session=<...>
# ("auth failed, N attempts" after refused ones).  The harness's own
# readiness probe leaves one such line with lip=127.0.0.1, secured, per
# start; it never touches IMAPS_PORT or IMAP_NOTLS_PORT.  So, after
# digest ran against IMAP_PORT with STARTTLS required:
#   imap_log_wait 'Login: user=<alex>, .*, TLS,'
#   ! imap_log_has 'Login: user=<alex>, .*, secured,' || fail "LOGIN before STARTTLS"
# and after it refused the stripped server:
#   imap_log_wait "no auth attempts.*lip=$IMAP_NOTLS_HOST"
#   ! imap_log_has "Login: .*lip=$IMAP_NOTLS_HOST" || fail "LOGIN without TLS"
# The log is written asynchronously: wait for a line that comes after the
# one that must be absent (imap_log_wait) before asserting its absence;
# imap_log_mark first when an earlier run may have written such lines.

IMAP_E2E=${DIGEST_SRC:?}/tests/e2e
IMAP_HOST=127.0.0.1
IMAP_NOTLS_HOST=127.0.0.2
IMAP_USER=alex
IMAP_PASSWORD=s3cret
IMAP_TOKEN=tok-good
export IMAP_HOST IMAP_NOTLS_HOST IMAP_USER IMAP_PASSWORD IMAP_TOKEN
_imap_reaper=
_imap_pids=
# $PYTHON, else the system's python3 (stdlib only is needed; a pyenv
# shim first on PATH costs a second per start), else python3.
IMAP_PYTHON=${PYTHON:-python3}
[ -n "${PYTHON:-}" ] || [ ! -x /usr/bin/python3 ] || IMAP_PYTHON=/usr/bin/python3

# _imap_until SECS CMD...: run CMD every 20 ms until it succeeds; 1 when
# SECS pass first.
_imap_until() {
	local end=$(( ${EPOCHREALTIME/./} + $1 * 1000000 ))
	shift
	until "$@"; do
		(( ${EPOCHREALTIME/./} < end )) || return 1
		sleep 0.02
	done
}

# _imap_alive PID: PID exists and is no zombie.
_imap_alive() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	[[ ${stat##*) } != Z* ]]
}

# _imap_descendants PID: every live process below PID.
_imap_descendants() {
	ps -e -o pid=,ppid=,stat= | awk -v root="$1" '
		$3 !~ /^Z/ { parent[$1] = $2 }
		END {
			for (p in parent) {
				q = p
				while (q in parent && q != root) q = parent[q]
				if (q == root && p != root) print p
			}
		}'
}

imap_cleanup() {
	[ -z "$_imap_reaper" ] || imap_kill || true
	local pid
	# SIGTERM, on which the helpers exit 0: bash reports no "Killed".
	for pid in $_imap_pids; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $_imap_pids; do
		_imap_until 5 eval '! _imap_alive $pid' || kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	_imap_pids=
}

# _imap_trap: kill what we start when this shell exits, then run the
# EXIT trap it had (lib.sh's); a subshell (which runs no inherited trap)
# gets one of its own.
_imap_trap() {
	[ "${_imap_trapped:-}" != "$BASHPID" ] || return 0
	if [ "$BASHPID" != "$$" ]; then
		trap imap_cleanup EXIT
	else
		eval "set -- $(trap -p EXIT)"
		trap "imap_cleanup; ${3:-}" EXIT
	fi
	_imap_trapped=$BASHPID
}

# _imap_bg VAR PORTFILE CMD...: start a helper that writes its port to
# PORTFILE, wait for it, set VAR to the port.
_imap_bg() {
	local var=$1 file=$2
	shift 2
	rm -f "$file"
	"$@" </dev/null >/dev/null &
	_imap_pids="$_imap_pids $!"
	_imap_until 10 test -s "$file" || fail "$* did not start"
	printf -v "$var" %s "$(cat "$file")"
	export "$var"
}

_imap_need() {
	local dovecot
	dovecot=$(PATH=$PATH:/usr/sbin:/sbin command -v dovecot) && [ -x "$dovecot" ] ||
		skip "dovecot not installed (apt-get install dovecot-imapd)"
	[ -x /usr/lib/dovecot/imap ] || [ -x /usr/libexec/dovecot/imap ] ||
		skip "dovecot-imapd not installed"
	command -v "$IMAP_PYTHON" >/dev/null || skip "python3 not installed"
	IMAP_DOVECOT=$dovecot
}

# _imap_open_up DIR: let unprivileged processes traverse DIR and the
# directories above it, which must be DIR's own or below $TMP.
_imap_open_up() {
	local d
	d=$(cd "$1" && pwd -P)
	while [ "$d" != / ]; do
		case $d/ in
		"$(cd "$TMP" && pwd -P)"/*) chmod o+x "$d" ;;
		*) [ -n "$(find "$d" -maxdepth 0 -perm -o+x)" ] ||
			fail "imap_start: $d is not world-traversable; put DIR under \$TMP" ;;
		esac
		d=$(dirname "$d")
	done
}

_imap_write_config() {
	local dir=$1 uid gid internal group login rootless=
	if [ "$(id -u)" = 0 ]; then
		# Dovecot refuses mail access as root: alex is "nobody".
		uid=$(id -u nobody) gid=$(id -g nobody)
		internal=dovecot group=dovecot login=dovenull
	else
		# Rootless: every process runs as us, nothing can chroot.
		uid=$(id -u) gid=$(id -g)
		internal=$(id -un) group=$(id -gn) login=$(id -un)
		rootless='service anvil {
  chroot =
}
service imap-login {
  chroot =
}'
	fi
	mkdir -p "$dir/mail" "$dir/run" "$dir/state"
	chown "$uid:$gid" "$dir/mail"
	chmod 700 "$dir/mail"
	printf 'alex:{PLAIN}s3cret:%s:%s::%s/mail/alex::\n' "$uid" "$gid" "$dir" >"$dir/users"
	chmod 644 "$dir/users"
	cat >"$dir/dovecot-oauth2.conf.ext" <<-EOF
	introspection_mode = post
	introspection_url = http://127.0.0.1:$OAUTH_PORT/introspect
	username_attribute = username
	active_attribute = active
	active_value = true
	timeout_msecs = 5000
	EOF
	chmod 644 "$dir/dovecot-oauth2.conf.ext"
	cat >"$dir/dovecot.conf" <<-EOF
	# Written by tests/e2e/imap_server.sh; no system configuration.
	protocols = imap
	listen = 127.0.0.1
	base_dir = $dir/run
	state_dir = $dir/state
	log_path = $dir/dovecot.log
	instance_name = digest-e2e-$IMAPS_PORT
	default_internal_user = $internal
	default_internal_group = $group
	default_login_user = $login
	shutdown_clients = yes

	ssl = yes
	ssl_cert = <$dir/srv.pem
	ssl_key = <$dir/srv.key
	ssl_dh = </usr/share/dovecot/dh.pem
	ssl_min_protocol = TLSv1.2
	disable_plaintext_auth = yes
	verbose_ssl = yes

	auth_mechanisms = plain login xoauth2 oauthbearer
	auth_verbose = yes
	auth_failure_delay = 0
	auth_cache_size = 0

	passdb {
	  driver = passwd-file
	  args = scheme=PLAIN $dir/users
	  mechanisms = plain login
	}
	passdb {
	  driver = oauth2
	  args = $dir/dovecot-oauth2.conf.ext
	  mechanisms = xoauth2 oauthbearer
	}
	userdb {
	  driver = passwd-file
	  args = $dir/users
	}

	mail_location = maildir:$dir/mail/%n
	namespace inbox {
	  inbox = yes
	  separator = /
	  mailbox Sent {
	    auto = subscribe
	  }
	  mailbox "Sent Items" {
	    auto = subscribe
	    special_use = \\Sent
	  }
	}

	service imap-login {
	  inet_listener imap {
	    address = 127.0.0.1
	    port = $IMAP_PORT
	  }
	  inet_listener imaps {
	    address = 127.0.0.1
	    port = $IMAPS_PORT
	    ssl = yes
	  }
	  inet_listener notls {
	    address = $IMAP_NOTLS_HOST
	    port = $IMAP_NOTLS_PORT
	  }
	}
	# No growing delay after failed logins (they come from one IP).
	service anvil {
	  unix_listener anvil-auth-penalty {
	    mode = 0
	  }
	}
	$rootless
	local $IMAP_NOTLS_HOST {
	  ssl = no
	  disable_plaintext_auth = no
	}
	EOF
}

# _imap_launch: start Dovecot on the ports set; 0 once it greets, 1
# when it died (the log tells why), fail on a timeout.
_imap_launch() {
	local dir=$IMAP_DIR
	rm -f "$dir/master.pid"
	touch "$dir/dovecot.log" "$dir/dovecot.out"
	_imap_logpos="$(wc -c <"$dir/dovecot.log") $(wc -c <"$dir/dovecot.out")"
	"$IMAP_PYTHON" "$IMAP_E2E/subreaper.py" "$dir/master.pid" \
		"$IMAP_DOVECOT" -F -c "$dir/dovecot.conf" >>"$dir/dovecot.out" 2>&1 &
	_imap_reaper=$!
	_imap_until 10 test -s "$dir/master.pid" || fail "imap_start: no master.pid"
	_imap_master=$(cat "$dir/master.pid")
	local up=yes
	_imap_until 10 _imap_up || up=
	if ! _imap_alive "$_imap_master"; then
		imap_kill
		return 1
	fi
	[ -n "$up" ] || fail "imap_start: Dovecot does not greet: $(tail -n 20 "$dir/dovecot.log" "$dir/dovecot.out")"
}

# _imap_up: the plain listener greets (the master binds all listeners
# before it starts a login process), or the master died: no use waiting.
# Only IMAP_PORT is probed, so that the log's lines for lip=127.0.0.2 and
# for IMAPS are all the tests' own.
_imap_up() {
	_imap_alive "$_imap_master" || return 0
	local fd line
	{ exec {fd}<>"/dev/tcp/127.0.0.1/$IMAP_PORT"; } 2>/dev/null || return 1
	read -r -t 5 line <&"$fd" || true
	exec {fd}>&-
	[[ $line == "* OK"* ]]
}

imap_start() {
	local dir=$1
	_imap_need
	[ -z "$_imap_reaper" ] || fail "imap_start: a server is already running"
	mkdir -p "$dir"
	IMAP_DIR=$(cd "$dir" && pwd -P)
	IMAP_CA=$IMAP_DIR/ca.pem
	IMAP_LOG=$IMAP_DIR/dovecot.log
	export IMAP_DIR IMAP_CA IMAP_LOG
	_imap_trap
	[ -s "$IMAP_CA" ] || make_ca "$IMAP_DIR"
	chmod 644 "$IMAP_DIR"/srv.pem "$IMAP_DIR"/ca.pem
	_imap_open_up "$IMAP_DIR"
	if [ "${_imap_oauth:-}" != "$IMAP_DIR" ]; then
		_imap_oauth=$IMAP_DIR
		[ -e "$IMAP_DIR/oauth-tokens" ] || echo "tok-good alex" >"$IMAP_DIR/oauth-tokens"
		_imap_bg OAUTH_PORT "$IMAP_DIR/oauth.port" "$IMAP_PYTHON" "$IMAP_E2E/oauth_introspect.py" \
			--tokens "$IMAP_DIR/oauth-tokens" --port-file "$IMAP_DIR/oauth.port" \
			--log "$IMAP_DIR/oauth.log"
	fi
	# Another test may take a port picked here before Dovecot binds it.
	for _ in 1 2 3 4 5; do
		read -r IMAP_PORT IMAPS_PORT IMAP_NOTLS_PORT < <("$IMAP_PYTHON" -c '
import socket
s = [socket.socket() for _ in range(3)]
s[2].bind(("127.0.0.2", 0))
for x in s[:2]: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
		export IMAP_PORT IMAPS_PORT IMAP_NOTLS_PORT
		_imap_write_config "$IMAP_DIR"
		_imap_launch && return 0
		set -- $_imap_logpos
		{ tail -c +$(($1 + 1)) "$IMAP_LOG"; tail -c +$(($2 + 1)) "$IMAP_DIR/dovecot.out"; } |
			grep 'Address already in use' >/dev/null ||
			fail "imap_start: Dovecot died: $(tail -n 20 "$IMAP_LOG" "$IMAP_DIR/dovecot.out")"
	done
	fail "imap_start: no free ports"
}

imap_stop() {
	[ -n "$_imap_reaper" ] || return 0
	kill -TERM "$_imap_master" 2>/dev/null || true
	if ! _imap_until 10 eval '! _imap_alive "$_imap_reaper"'; then
		echo "imap_stop: Dovecot did not stop in 10 s, killing it" >&2
		imap_kill
		return
	fi
	wait "$_imap_reaper" 2>/dev/null || true
	_imap_reaper=
}

imap_kill() {
	[ -n "$_imap_reaper" ] || return 0
	local pids
	# The master first, so that it forks nothing more; orphans are
	# reparented to the subreaper and found on the next round.
	kill -KILL "$_imap_master" 2>/dev/null || true
	_imap_until 10 eval 'pids=$(_imap_descendants "$_imap_reaper");
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null; [ -z "$pids" ]' ||
		echo "imap_kill: processes left: $pids" >&2
	wait "$_imap_reaper" 2>/dev/null || true
	_imap_reaper=
}

imap_restart() {
	imap_stop
	_imap_launch || fail "imap_restart: Dovecot died: $(tail -n 20 "$IMAP_LOG" "$IMAP_DIR/dovecot.out")"
}

imap_tool() {
	"$IMAP_PYTHON" "$IMAP_E2E/imap_tool.py" --port "$IMAPS_PORT" --ca "$IMAP_CA" \
		--user "$IMAP_USER" --password "$IMAP_PASSWORD" "$@"
}

imap_log_mark() {
	_imap_log_from=$(wc -c <"$IMAP_LOG")
}

imap_log_has() {
	# Not tail | grep -q: with pipefail, tail's SIGPIPE would fail a match.
	grep -qE -- "$1" < <(tail -c +$((${_imap_log_from:-0} + 1)) "$IMAP_LOG")
}

imap_log_wait() {
	_imap_until "${2:-10}" imap_log_has "$1" ||
		fail "Dovecot log has no line matching '$1' (since the mark): $(tail -n 20 "$IMAP_LOG")"
}

imap_hang_port() {
	command -v "$IMAP_PYTHON" >/dev/null || skip "python3 not installed"
	_imap_trap
	_imap_bg HANG_PORT "$TMP/hang.port" "$IMAP_PYTHON" -c '
import os, signal, socket, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = []
while True:
    conns.append(s.accept()[0])
' "$TMP/hang.port"
}
