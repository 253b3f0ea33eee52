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
