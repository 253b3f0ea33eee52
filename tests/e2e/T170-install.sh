#!/usr/bin/env bash
# Installation: `cmake --install` into a prefix and with DESTDIR puts the
# binary, the man pages, the completions, the templates and the examples
# where they belong; each man page renders without a warning; the pages
# and the completions agree with the binary (every command `digest help`
# lists, every option `digest COMMAND --help` prints, every config key);
# the bash completion completes commands, --format values and the
# --leader ids of the configuration.  The zsh part runs where zsh is.
. "$(dirname "$0")/lib.sh"

: "${DIGEST_BIN:?DIGEST_BIN must name the build directory}"
command -v cmake >/dev/null || skip "no cmake"
command -v man >/dev/null || skip "no man (man-db, groff-base: ./install-deps --test)"

# ---- install ------------------------------------------------------------

# check_tree ROOT: every installed file is below ROOT where it belongs.
check_tree() {
	local root=$1 f
	for f in bin/digest \
		share/man/man1/digest.1 share/man/man5/digest.ini.5 \
		share/bash-completion/completions/digest \
		share/zsh/site-functions/_digest \
		share/doc/digest/digest.ini share/doc/digest/crontab.example; do
		[ -f "$root/$f" ] || fail "not installed: $f (in $root)"
	done
	[ -x "$root/bin/digest" ] || fail "bin/digest is not executable"
	for f in "$DIGEST_SRC"/templates/*; do
		cmp -s "$f" "$root/share/digest/templates/$(basename "$f")" ||
			fail "template $(basename "$f") not installed in share/digest/templates"
	done
	for f in "$DIGEST_SRC"/examples/systemd/*; do
		cmp -s "$f" "$root/share/doc/digest/systemd/$(basename "$f")" ||
			fail "$(basename "$f") not installed in share/doc/digest/systemd"
	done
	if find "$root" -type f -perm /022 | grep -q .; then
		find "$root" -type f -perm /022 >&2
		fail "installed files writable by group or others"
	fi
}

cmake --install "$DIGEST_BIN" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log" >&2; fail "cmake --install --prefix failed"; }
check_tree "$TMP/prefix"
"$TMP/prefix/bin/digest" version >"$TMP/out" || fail "installed digest does not run"

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:[A-Z]*=//p' "$DIGEST_BIN/CMakeCache.txt")
[ -n "$prefix" ] || fail "no CMAKE_INSTALL_PREFIX in the cache"
DESTDIR=$TMP/dest cmake --install "$DIGEST_BIN" >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log" >&2; fail "DESTDIR=... cmake --install failed"; }
check_tree "$TMP/dest$prefix"
# Nothing outside DESTDIR: only the prefix below it.
[ "$(cd "$TMP/dest" && find . -mindepth 1 -maxdepth 1)" = "./${prefix#/}" ] ||
	[ "$(cd "$TMP/dest" && find . -mindepth 1 -maxdepth 1)" = "./$(echo "${prefix#/}" | cut -d/ -f1)" ] ||
	fail "DESTDIR install wrote outside the prefix: $(ls "$TMP/dest")"

# ---- man pages ----------------------------------------------------------

for page in man1/digest.1 man5/digest.ini.5; do
	MANWIDTH=80 man --warnings -l "$TMP/prefix/share/man/$page" \
		>"$TMP/$(basename "$page").txt" 2>"$TMP/man.err" ||
		{ cat "$TMP/man.err" >&2; fail "man -l $page failed"; }
	[ ! -s "$TMP/man.err" ] || { cat "$TMP/man.err" >&2; fail "man --warnings: $page"; }
	for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		grep -q "^$s" "$TMP/$(basename "$page").txt" || fail "$page has no $s"
	done
done
for s in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES; do
	grep -q "^$s" "$TMP/digest.1.txt" || fail "digest.1 has no $s"
done
# Wide, so that no option or command is broken over a line.
MANWIDTH=400 man -l "$TMP/prefix/share/man/man1/digest.1" 2>/dev/null >"$TMP/digest.1.wide"
MANWIDTH=400 man -l "$TMP/prefix/share/man/man5/digest.ini.5" 2>/dev/null >"$TMP/digest.ini.5.wide"

# ---- agreement with the binary -------------------------------------------

# The commands, as `digest help` lists them (two blanks, a name).
run 0 help
sed -n 's/^  \([a-z][a-z]*\)\( .*\)\{0,1\}$/\1/p' "$TMP/out" >"$TMP/commands"
[ "$(wc -l <"$TMP/commands")" -ge 10 ] ||
	{ cat "$TMP/out" >&2; fail "could not read the commands of digest help"; }

# complete_bash WORD...: the bash completion of the last word (empty:
# a new word), one candidate a line, with the config of $COMPLETE_ENV.
complete_bash() {
	env -i HOME="$HOME" PATH="$PATH" ${COMPLETE_ENV:-} bash --norc --noprofile -c '
		. "$1/share/bash-completion/completions/digest"
		shift
		COMP_WORDS=(digest "$@")
		COMP_CWORD=$#
		_digest digest "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		[ ${#COMPREPLY[@]} = 0 ] || printf "%s\n" "${COMPREPLY[@]}"' bash "$TMP/prefix" "$@"
}

complete_bash "" >"$TMP/bash.commands"
while read -r c; do
	grep -q "digest $c\b" "$TMP/digest.1.wide" || fail "digest.1 does not document command '$c'"
	grep -qx "$c" "$TMP/bash.commands" || fail "bash completion lacks command '$c'"
	grep -q "^    '$c:" "$DIGEST_SRC/completions/_digest" || fail "zsh completion lacks command '$c'"
	"$DIGEST" "$c" --help >"$TMP/help.$c" 2>&1 || true
	grep -q "digest $c" "$TMP/help.$c" || { cat "$TMP/help.$c" >&2; fail "digest $c --help"; }
	complete_bash "$c" -- >"$TMP/bash.opts"
	# The options: those of the usage line and the rows of the option
	# table, not the words of a description.
	for o in $(grep -E '^(usage:| )' "$TMP/help.$c" |
		grep -oE -- '(^|[[ ])--[a-z][a-z-]*' | tr -d ' [' | sort -u); do
		grep -qF -- "$o" "$TMP/digest.1.wide" ||
			fail "digest.1 does not document $o (digest $c --help)"
		[ "$c" = help ] || grep -qx -- "$o" "$TMP/bash.opts" ||
			fail "bash completion of 'digest $c --' lacks $o"
		[ "$c" = help ] || [ "$o" = --help ] || grep -qF -- "'$o[" "$DIGEST_SRC/completions/_digest" ||
			fail "zsh completion lacks $o"
	done
	# And the other way: nothing offered that the command does not take.
	[ "$c" = help ] || while read -r o; do
		case $o in --*) ;; *) continue ;; esac
		grep -qE -- "(^|[[ ])$o([] =]|$)" "$TMP/help.$c" ||
			fail "bash completion offers $o, which 'digest $c' does not take"
	done <"$TMP/bash.opts"
done <"$TMP/commands"

# The pages carry the binary's version.
version=$("$DIGEST" --version | awk '{print $NF}')
for page in digest.1 digest.ini.5; do
	grep -q "^\.TH .*\"digest $version\"" "$DIGEST_SRC/doc/$page" ||
		fail "doc/$page does not say digest $version"
done

# The global options of `digest --help`.
run 0 --help
for o in $(grep -oE -- '(^|[ [|])--?[a-zA-Z][a-z-]*' "$TMP/out" | tr -d ' [|' | sort -u); do
	grep -qF -- "$o" "$TMP/digest.1.wide" || fail "digest.1 does not document global option $o"
done
for o in -c --config -v --verbose -q --quiet --now --version -V; do
	grep -q -- "^       $o\b\|, $o\b" "$TMP/digest.1.wide" || fail "digest.1 has no entry for $o"
done
complete_bash - >"$TMP/bash.global"
for o in -c -v -q --now; do
	grep -qx -- "$o" "$TMP/bash.global" || fail "bash completion lacks global option $o"
done

# Every key the configuration parser knows is in digest.ini(5).
grep -oE '\[[DSL]K_[A-Z_]+\] *= *"[a-z_]+"' "$DIGEST_SRC/digest/config.c" |
	sed 's/.*"\(.*\)"/\1/' | sort -u >"$TMP/keys"
[ "$(wc -l <"$TMP/keys")" -ge 25 ] || { cat "$TMP/keys" >&2; fail "could not read the keys of config.c"; }
while read -r k; do
	grep -qE "^ {7}$k = " "$TMP/digest.ini.5.wide" || fail "digest.ini.5 does not document key '$k'"
done <"$TMP/keys"
grep -qE "^ {7}circle\.NAME = " "$TMP/digest.ini.5.wide" || fail "digest.ini.5 lacks circle.NAME"

# ---- bash completion -----------------------------------------------------

cat >"$TMP/two.ini" <<'INI'
[digest]
database = digest.db

[leader alex]
email = alex@example.com
sent = maildir:Sent

  [ leader  jo.kim ]   ; a comment
email = jo@example.com
calendar = cal.ics
INI

complete_bash co >"$TMP/c"
[ "$(cat "$TMP/c")" = contacts ] || fail "bash: 'digest co' gave $(cat "$TMP/c")"
complete_bash contacts --format "" >"$TMP/c"
[ "$(sort "$TMP/c" | tr '\n' ' ')" = "csv json table " ] || fail "bash: contacts --format gave $(cat "$TMP/c")"
complete_bash preview --format "" >"$TMP/c"
[ "$(sort "$TMP/c" | tr '\n' ' ')" = "eml html json text " ] || fail "bash: preview --format gave $(cat "$TMP/c")"
complete_bash contacts --sort "" >"$TMP/c"
[ "$(sort "$TMP/c" | tr '\n' ' ')" = "last name overdue " ] || fail "bash: contacts --sort gave $(cat "$TMP/c")"
complete_bash help sn >"$TMP/c"
[ "$(cat "$TMP/c")" = snooze ] || fail "bash: 'digest help sn' gave $(cat "$TMP/c")"
complete_bash -c "$TMP/two.ini" contacts --leader "" >"$TMP/c"
[ "$(sort "$TMP/c" | tr '\n' ' ')" = "alex jo.kim " ] || fail "bash: --leader with -c gave $(cat "$TMP/c")"
complete_bash -c "$TMP/two.ini" run --leader j >"$TMP/c"
[ "$(cat "$TMP/c")" = jo.kim ] || fail "bash: --leader j gave $(cat "$TMP/c")"
# --config=FILE and --leader=ID, as bash splits them at the "=".
complete_bash --config = "$TMP/two.ini" contacts --leader = "" >"$TMP/c"
[ "$(sort "$TMP/c" | tr '\n' ' ')" = "alex jo.kim " ] || fail "bash: --config=FILE gave $(cat "$TMP/c")"
complete_bash --leader = alex contacts --f >"$TMP/c"
[ "$(cat "$TMP/c")" = --format ] || fail "bash: after --leader=ID gave $(cat "$TMP/c")"
# A quoted config path, and file names with blanks kept whole.
complete_bash -c "'$TMP/two.ini'" contacts --leader "" >"$TMP/c"
[ "$(sort "$TMP/c" | tr '\n' ' ')" = "alex jo.kim " ] || fail "bash: a quoted -c gave $(cat "$TMP/c")"
mkdir -p "$TMP/cfgs" && : >"$TMP/cfgs/my digest.ini"
complete_bash -c "$TMP/cfgs/my" >"$TMP/c"
[ "$(cat "$TMP/c")" = "$TMP/cfgs/my digest.ini" ] || fail "bash: a file name with a blank gave $(cat "$TMP/c")"
COMPLETE_ENV="DIGEST_CONFIG=$TMP/two.ini" complete_bash preview --leader "" >"$TMP/c"
[ "$(sort "$TMP/c" | tr '\n' ' ')" = "alex jo.kim " ] || fail "bash: --leader with DIGEST_CONFIG gave $(cat "$TMP/c")"
mkdir -p "$TMP/xdg/digest" "$HOME/.config/digest"
cp "$TMP/two.ini" "$TMP/xdg/digest/digest.ini"
printf '[leader solo]\nemail = s@example.com\n' >"$HOME/.config/digest/digest.ini"
COMPLETE_ENV="XDG_CONFIG_HOME=$TMP/xdg" complete_bash preview --leader "" >"$TMP/c"
[ "$(sort "$TMP/c" | tr '\n' ' ')" = "alex jo.kim " ] || fail "bash: --leader with XDG_CONFIG_HOME gave $(cat "$TMP/c")"
complete_bash preview --leader "" >"$TMP/c"
[ "$(cat "$TMP/c")" = solo ] || fail "bash: --leader with ~/.config gave $(cat "$TMP/c")"
complete_bash -c "$TMP/none.ini" preview --leader "" >"$TMP/c"
expect_empty "$TMP/c" "bash: --leader of a missing config"
complete_bash snooze --leader alex priya@example.com "" >"$TMP/c"
[ "$(cat "$TMP/c")" = off ] || fail "bash: snooze ADDRESS gave $(cat "$TMP/c")"

# ---- zsh completion -------------------------------------------------------

if ! command -v zsh >/dev/null; then
	echo "T170: zsh not installed, its completion is not exercised" >&2
	exit 0
fi
zsh -n "$TMP/prefix/share/zsh/site-functions/_digest" || fail "zsh: _digest does not parse"
# The leader ids, with the completion system's functions stubbed out.
zsh_ids() {
	env -i HOME="$HOME" PATH="$PATH" ${COMPLETE_ENV:-} zsh -fc '
		_arguments() { return 1 }
		_describe() { local a=${@[-1]}; print -l -- ${(P)a} }
		. "$1"
		_digest_config=$2 _digest_leader_ids' zsh \
		"$TMP/prefix/share/zsh/site-functions/_digest" "${1:-}"
}
[ "$(zsh_ids "$TMP/two.ini" | sort | tr '\n' ' ')" = "alex jo.kim " ] || fail "zsh: leader ids of -c: $(zsh_ids "$TMP/two.ini")"
[ "$(COMPLETE_ENV="DIGEST_CONFIG=$TMP/two.ini" zsh_ids | sort | tr '\n' ' ')" = "alex jo.kim " ] ||
	fail "zsh: leader ids of DIGEST_CONFIG"
[ "$(COMPLETE_ENV="XDG_CONFIG_HOME=$TMP/xdg" zsh_ids | sort | tr '\n' ' ')" = "alex jo.kim " ] ||
	fail "zsh: leader ids of XDG_CONFIG_HOME"
[ "$(zsh_ids)" = solo ] || fail "zsh: leader ids of ~/.config: $(zsh_ids)"
exit 0
