#!/usr/bin/env bash
# `templates =`: a directory that is not there, a template that does not
# parse, a FIFO, a directory or /dev/zero in the place of a template, and
# partials that double at each level are configuration errors (exit 78,
# naming the file) that end at once; a template missing from the
# directory is the built-in one.
. "$(dirname "$0")/lib.sh"

cp -a "$DIGEST_SRC/examples" "$TMP/ex"
rm -f "$TMP/ex/example.db"*
T=$TMP/tmpl
mkdir "$T"
sed -i "s|^lookback = .*|&\ntemplates = $T|" "$TMP/ex/digest.ini"
grep -q "^templates = $T\$" "$TMP/ex/digest.ini" || fail "no templates line"
C="-c $TMP/ex/digest.ini"
N="--now 2026-11-30"
run 0 $C ingest $N

# Each command must end on its own: a blocked read fails the test, not
# the whole suite.
run_quick() {
	local want=$1 rc=0
	shift
	timeout 20 "$DIGEST" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "--- stderr" >&2; head -c 2000 "$TMP/err" >&2
		fail "digest $* exited $rc, expected $want"
	fi
}

# An empty directory: every template is the built-in one.
run_quick 0 $C preview --leader alex $N
cmp -s "$TMP/out" "$GOLDEN/examples-digest.text" || fail "an empty templates dir is not the built-in templates"
# A file in it overrides its namesake only.
printf 'Digest for {{leader.name}}\n' >"$T/subject"
run_quick 0 $C preview --leader alex $N --format eml
expect_grep "Subject: Digest for Alex Leader" "$TMP/out"
expect_grep "FOCUS THIS WEEK" "$TMP/out"
rm "$T/subject"

# A directory that is not there.
sed -i "s|^templates = .*|templates = $TMP/nope|" "$TMP/ex/digest.ini"
for cmd in "preview --leader alex" "run --dry-run"; do
	run_quick 78 $C $cmd $N
	expect_grep "templates = $TMP/nope: No such file or directory" "$TMP/err"
done
sed -i "s|^templates = .*|templates = $TMP/ex/digest.ini|" "$TMP/ex/digest.ini"
run_quick 78 $C preview --leader alex $N
expect_grep "templates = $TMP/ex/digest.ini: not a directory" "$TMP/err"
sed -i "s|^templates = .*|templates = $T|" "$TMP/ex/digest.ini"

# Broken templates: the file and the line.
printf 'line one\n{{#neglected}}\n{{name}}\n' >"$T/digest.txt"
run_quick 78 $C preview --leader alex $N
expect_grep "$T/digest.txt:2: unclosed section \"neglected\"" "$TMP/err"
printf 'a\n\n{{name\n' >"$T/digest.txt"
run_quick 78 $C run --dry-run $N
expect_grep "$T/digest.txt:3: unclosed tag" "$TMP/err"
rm "$T/digest.txt"
# ... in a partial of the built-in HTML, only reached for some people.
printf '<tr>\n{{#name}}{{/nam}}\n' >"$T/person.html"
run_quick 78 $C preview --leader alex $N --format html
expect_grep "$T/person.html:2: close tag \"nam\" does not match section \"name\" of line 2 (included from digest.html:" "$TMP/err"
rm "$T/person.html"

# Not a regular file: a FIFO (nothing writes to it), a directory, a
# symlink to /dev/zero.
mkfifo "$T/digest.txt"
run_quick 78 $C preview --leader alex $N
expect_grep "$T/digest.txt: not a regular file (a FIFO)" "$TMP/err"
rm "$T/digest.txt"
mkdir "$T/digest.txt"
run_quick 78 $C preview --leader alex $N
expect_grep "$T/digest.txt: Is a directory" "$TMP/err"
rmdir "$T/digest.txt"
ln -s /dev/zero "$T/chart.html"
run_quick 78 $C preview --leader alex $N --format html
expect_grep "$T/chart.html: not a regular file (a character device)" "$TMP/err"
rm "$T/chart.html"
# Too large to be a template.
head -c 1100000 /dev/zero | tr '\0' x >"$T/subject"
run_quick 78 $C preview --leader alex $N --format eml
expect_grep "$T/subject: larger than 1024 kB" "$TMP/err"
rm "$T/subject"

# Partials that include the next level twice, 30 levels deep: 2^30
# expansions, stopped with an error well within a second.
for i in $(seq 0 29); do
	printf '{{>p%d}}{{>p%d}}' $((i + 1)) $((i + 1)) >"$T/p$i"
done
printf 'x' >"$T/p30"
printf '{{>p0}}\n' >"$T/digest.txt"
start=$(date +%s%N)
run_quick 78 $C preview --leader alex $N
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_grep "$T/p" "$TMP/err"
expect_grep "do partials" "$TMP/err"
[ "$ms" -lt 1000 ] || fail "the doubling partials took ${ms} ms"
# The same with nothing to write at the bottom: the steps are bounded,
# not only the output.
: >"$T/p30"
run_quick 78 $C preview --leader alex $N
expect_grep "do partials include each other over and over?" "$TMP/err"
rm "$T"/p* "$T/digest.txt"

# A partial that includes itself.
printf '{{>digest.txt}}' >"$T/digest.txt"
run_quick 78 $C preview --leader alex $N
expect_grep "nested more than 100 deep" "$TMP/err"
rm "$T/digest.txt"

run_quick 0 $C preview --leader alex $N
cmp -s "$TMP/out" "$GOLDEN/examples-digest.text" || fail "the built-in templates are back"

# check says the same, before any digest is due.
sed -i "s|^templates = .*|templates = $TMP/nope|" "$TMP/ex/digest.ini"
run_quick 78 $C check
expect_grep "templates = $TMP/nope: No such file or directory" "$TMP/err"
[ ! -s "$TMP/out" ] || fail "configuration OK with no templates dir"
sed -i "s|^templates = .*|templates = $T|" "$TMP/ex/digest.ini"
run_quick 0 $C check
expect_grep "configuration OK" "$TMP/out"
printf '<tr>\n{{#name}}{{/nam}}\n' >"$T/person.html"
run_quick 78 $C check
expect_grep "$T/person.html:2: close tag \"nam\" does not match section \"name\" of line 2 (included from digest.html:" "$TMP/err"
rm "$T/person.html"
mkfifo "$T/chart.html"
run_quick 78 $C check
expect_grep "$T/chart.html: not a regular file" "$TMP/err"
rm "$T/chart.html"
for i in $(seq 0 29); do
	printf '{{>p%d}}{{>p%d}}' $((i + 1)) $((i + 1)) >"$T/p$i"
done
: >"$T/p30"
printf '{{>p0}}\n' >"$T/subject"
run_quick 78 $C check
expect_grep "do partials include each other over and over?" "$TMP/err"
rm "$T"/p* "$T/subject"
run_quick 0 $C check
