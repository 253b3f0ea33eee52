# Shared set-up of the end-to-end tests (notmuch style): a private HOME,
# TZ=UTC, a fixed --now, and helpers that fail the test with a message.
# Sourced by every T*.sh; ctest passes DIGEST, DIGEST_SRC, DIGEST_SHARED.
set -euo pipefail

: "${DIGEST:?DIGEST must name the digest binary}"
: "${DIGEST_SRC:?DIGEST_SRC must name the source tree}"
export TZ=UTC LC_ALL=C.UTF-8
unset DIGEST_CONFIG
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/digest-$TEST_NAME.XXXXXX")
export HOME=$TMP/home
mkdir -p "$HOME"
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
GOLDEN=$DIGEST_SRC/tests/e2e/golden
FIXTURES=$DIGEST_SRC/tests/fixtures
NOW=2026-11-30T08:00:00Z

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $TEST_NAME: $*" >&2
	exit 77
}

# need_aiosmtpd: PY, a python3 that has aiosmtpd (for smtp_server.py), or
# skip the test.
need_aiosmtpd() {
	PY=
	for p in "${PYTHON:-}" /usr/bin/python3 python3; do
		[ -n "$p" ] && "$p" -c 'import aiosmtpd' 2>/dev/null && { PY=$p; return; }
	done
	skip "no python3 with aiosmtpd"
}

# run EXPECTED_EXIT CMD...: run digest, keep stdout/stderr in $TMP/out,
# $TMP/err, and fail unless it exits with EXPECTED_EXIT.
run() {
	local want=$1 rc=0
	shift
	"$DIGEST" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "--- stdout" >&2; cat "$TMP/out" >&2
		echo "--- stderr" >&2; cat "$TMP/err" >&2
		fail "digest $* exited $rc, expected $want"
	fi
}

# expect_empty FILE WHAT
expect_empty() {
	[ ! -s "$1" ] || { cat "$1" >&2; fail "$2 should be empty"; }
}

# expect_grep PATTERN FILE: a fixed string that must be in FILE.
expect_grep() {
	grep -qF -- "$1" "$2" || { cat "$2" >&2; fail "'$1' not in $(basename "$2")"; }
}

# expect_golden NAME FILE: FILE equals tests/e2e/golden/NAME.
# DIGEST_UPDATE_GOLDEN=1 rewrites the golden file instead (review it!).
expect_golden() {
	if [ "${DIGEST_UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$2" "$GOLDEN/$1"
		return
	fi
	diff -u "$GOLDEN/$1" "$2" >&2 || fail "output differs from golden/$1"
}

# snapshot DIR: names, sizes, modes and mtimes (ns) of every file below
# DIR, and a checksum of each: to prove digest changed nothing.
snapshot() {
	(cd "$1" && find . -printf '%p %s %m %T@\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0r sha256sum)
}

# write_config FILE: a config with one leader alex reading the given
# sources (the remaining arguments are extra lines).
write_config() {
	local file=$1
	shift
	{
		echo "[digest]"
		echo "database = $TMP/digest.db"
		echo "timezone = UTC"
		echo
		echo "[leader alex]"
		echo "name = Alex Leader"
		echo "email = alex@example.com"
		echo "aliases = alex.leader@example.com"
		echo "delegates = sam.assistant@example.com"
		for line in "$@"; do echo "$line"; done
	} >"$file"
}

# make_ca DIR: a throwaway CA (DIR/ca.pem) and a server certificate
# signed by it for 127.0.0.1 and localhost (DIR/srv.pem, DIR/srv.key),
# made by openssl; fails the test when openssl does.  A second call with
# another DIR gives a CA that does not trust the first one's certificate.
make_ca() {
	local d=$1
	mkdir -p "$d"
	printf '[req]\ndistinguished_name = dn\nx509_extensions = v3_ca\nprompt = no\n[dn]\nCN = digest e2e CA\n[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n' >"$d/ca.cnf"
	printf 'basicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n' >"$d/srv.ext"
	(
		cd "$d" &&
		openssl req -x509 -config ca.cnf -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -keyout ca.key -out ca.pem -days 2 &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout srv.key -out srv.csr -subj /CN=localhost -config ca.cnf &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -set_serial 7 -days 2 \
			-extfile srv.ext -out srv.pem
	) >"$d/openssl.log" 2>&1 || fail "openssl: $(cat "$d/openssl.log")"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on (yet).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
