#!/usr/bin/env bash
# The default paths on a fresh machine: the config, database and log under
# ~/.config, ~/.local/share and ~/.local/state, or under XDG_CONFIG_HOME,
# XDG_DATA_HOME and XDG_STATE_HOME when those are absolute.  Every missing
# directory is created, mode 0700, so the first send logs its line without
# a warning.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/sent"
cat >"$TMP/sendmail" <<'SH'
#!/bin/sh
n=$(ls "$STUB_DIR" | grep -c '\.eml$')
cat >"$STUB_DIR/$n.eml"
SH
chmod +x "$TMP/sendmail"
export STUB_DIR=$TMP/sent
unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME

# config FILE [LINE...]: the example leader, nothing said about paths.
config() {
	local file=$1
	shift
	mkdir -p "$(dirname "$file")"
	cat >"$file" <<INI
[digest]
timezone = Europe/Berlin
$(printf '%s\n' "$@")

[leader alex]
email = alex@example.com
aliases = alex.leader@example.com
delegates = sam.assistant@example.com
sent = maildir:$DIGEST_SRC/examples/Sent
calendar = $DIGEST_SRC/examples/calendar.ics

[smtp]
sendmail = $TMP/sendmail -oi
from = digest@example.net
INI
}

# mode PATH: its permission bits, as stat prints them.
mode() { stat -c %a "$1"; }

# A fresh HOME: none of ~/.config/digest, ~/.local/share/digest or
# ~/.local/state/digest exists, nor ~/.local itself.
config "$HOME/.config/digest/digest.ini"
[ ! -e "$HOME/.local" ] || fail "HOME not fresh"
run 0 run --now 2026-11-30T07:00
expect_empty "$TMP/out" "run stdout"
expect_empty "$TMP/err" "run stderr"
[ -e "$TMP/sent/0.eml" ] || fail "nothing sent"
[ -f "$HOME/.local/share/digest/digest.db" ] || fail "no default database"
log=$HOME/.local/state/digest/digest.log
expect_grep "leader=alex week=2026-W49 to=alex@example.com status=sent" "$log"
for d in .local/state .local/state/digest .local/share/digest; do
	[ "$(mode "$HOME/$d")" = 700 ] || fail "~/$d is mode $(mode "$HOME/$d")"
done
[ "$(mode "$log")" = 600 ] || fail "log mode $(mode "$log")"

# XDG base directories, when absolute, replace the three defaults.
export XDG_CONFIG_HOME=$TMP/xdg/config XDG_DATA_HOME=$TMP/xdg/data
export XDG_STATE_HOME=$TMP/xdg/state
config "$XDG_CONFIG_HOME/digest/digest.ini" "lookback = 300d"
run 0 run --now 2026-11-30T07:00
expect_empty "$TMP/err" "XDG run stderr"
[ -e "$TMP/sent/1.eml" ] || fail "the XDG config was not used (nothing sent)"
[ -f "$XDG_DATA_HOME/digest/digest.db" ] || fail "no database in XDG_DATA_HOME"
expect_grep "leader=alex week=2026-W49 to=alex@example.com status=sent" \
	"$XDG_STATE_HOME/digest/digest.log"
[ "$(mode "$XDG_STATE_HOME")" = 700 ] || fail "XDG_STATE_HOME mode"
[ "$(grep -c status=sent "$log")" = 1 ] || fail "logged under ~/.local/state too"
# -c and the config's own keys still win.
run 0 -c "$HOME/.config/digest/digest.ini" run --now 2026-11-30T07:00 -v
expect_grep "was sent already" "$TMP/err"

# Relative values are ignored (the XDG specification says so).
XDG_CONFIG_HOME=rel XDG_DATA_HOME=rel XDG_STATE_HOME=rel \
	run 0 run --now 2026-11-30T07:00 --force
[ "$(grep -c status=sent "$log")" = 2 ] || fail "relative XDG_STATE_HOME used"
[ ! -e rel ] && [ ! -e "$HOME/rel" ] || fail "a relative XDG directory was created"

# A log that cannot be written: the digest is still sent, and the warning
# names the file and why.
: >"$TMP/afile"
config "$XDG_CONFIG_HOME/digest/digest.ini" "log_file = $TMP/afile/digest/digest.log"
run 0 run --now 2026-12-07T07:00
expect_grep "digest: warning: $TMP/afile/digest/digest.log: Not a directory" "$TMP/err"
[ -e "$TMP/sent/3.eml" ] || fail "not sent when the log failed"
