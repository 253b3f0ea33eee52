#!/usr/bin/env bash
# The Containerfile, checked without building it (no container engine is
# needed): Debian 12 slim stages, a non-root user, runtime packages that
# exist in Debian 12 and cover packages.txt's "# run" part and every
# library the binary links, COPY sources that exist and are not left out
# by .dockerignore, and the install step putting digest where ENTRYPOINT
# runs it, and the built-in templates where README says.
. "$(dirname "$0")/lib.sh"

command -v apt-cache >/dev/null && command -v dpkg >/dev/null || skip "not a Debian system"
grep -q '^12\.' /etc/debian_version 2>/dev/null || skip "not Debian 12: apt-cache would answer for another release"
CF=$DIGEST_SRC/Containerfile

python3 - "$CF" "$DIGEST_SRC" "$TMP/runtime" <<'PY' >"$TMP/cf.log" 2>&1 || fail "$(cat "$TMP/cf.log")"
import fnmatch, os, re, shlex, sys
cf, src, out = sys.argv[1:4]
text = open(cf).read().replace("\\\n", " ")
lines = [l.strip() for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
bad = []
stages = [l for l in lines if l.startswith("FROM ")]
if len(stages) != 2 or not all(re.fullmatch(r"FROM debian:12-slim( AS \w+)?", s) for s in stages):
    bad.append(f"want two stages FROM debian:12-slim: {stages}")
if not stages[0].endswith(" AS build"):
    bad.append("the first stage is not 'AS build'")
last = lines[max(i for i, l in enumerate(lines) if l.startswith("FROM ")):]
user = [l for l in last if l.startswith("USER ")]
if not user or user[-1].split()[1].split(":")[0] in ("0", "root"):
    bad.append(f"the runtime stage does not end as a non-root user: {user}")
ep = [l for l in last if l.startswith("ENTRYPOINT ")]
if ep != ['ENTRYPOINT ["/usr/local/bin/digest"]']:
    bad.append(f"ENTRYPOINT: {ep}")
# The runtime stage's apt-get install: its packages, one per line.
inst = [l for l in last if "apt-get install" in l]
if len(inst) != 1:
    bad.append("want one apt-get install in the runtime stage")
else:
    words = shlex.split(inst[0].split("--no-install-recommends", 1)[1].split("&&", 1)[0])
    open(out, "w").write("\n".join(words) + "\n")
# COPY sources from the context exist and .dockerignore keeps them.
ignore = [l.strip() for l in open(os.path.join(src, ".dockerignore")) if l.strip() and not l.startswith("#")]
for need in (".git", "build*"):
    if need not in ignore:
        bad.append(f".dockerignore does not leave out {need}")
for l in lines:
    if not l.startswith("COPY "):
        continue
    args = [a for a in shlex.split(l)[1:] if not a.startswith("--")]
    srcs = args[:-1]
    if "--from=build" in l:
        # /src is the context (WORKDIR /src, COPY . .); /out is installed.
        srcs = [s[len("/src/"):] for s in srcs if s.startswith("/src/")]
    for s in srcs:
        if s != "." and not os.path.exists(os.path.join(src, s)):
            bad.append(f"COPY source {s} does not exist")
for top in ("CMakeLists.txt", "cmake", "digest", "schema", "templates", "tests", "examples", "doc", "completions",
            "install-deps", "packages.txt"):
    if any(fnmatch.fnmatch(top, p) for p in ignore):
        bad.append(f".dockerignore leaves out {top}, which the build needs")
if bad:
    sys.exit("\n".join(bad))
PY

# Every runtime package exists in Debian 12.
apt-cache show --no-all-versions $(cat "$TMP/runtime") 2>/dev/null |
	sed -n 's/^Package: //p' | sort -u >"$TMP/known"
sort -u "$TMP/runtime" | comm -23 - "$TMP/known" >"$TMP/unknown"
expect_empty "$TMP/unknown" "runtime packages that Debian 12 does not have"
# packages.txt's "# run" part is in the image.
for p in $(sed -n '/^# run/,/^# /p' "$DIGEST_SRC/packages.txt" | grep -v '^#'); do
	grep -qx "$p" "$TMP/runtime" || fail "packages.txt's run package $p is not in the Containerfile"
done
# Every library digest links (NEEDED) is a runtime package's, or the base
# image's (libc6).  A sanitizer build links more of what the libraries
# pull in themselves (libetpan's libdb...): there a package that the
# runtime packages depend on is enough, and the sanitizers' are skipped.
cp "$TMP/runtime" "$TMP/closure"
if readelf -d "$DIGEST" | grep -q 'NEEDED.*libasan'; then
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances $(cat "$TMP/runtime") 2>/dev/null |
		grep -v '^ ' | sort -u >"$TMP/closure"
fi
needed=$(readelf -d "$DIGEST" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "readelf finds no NEEDED library in $DIGEST"
for lib in $needed; do
	path=$(ldd "$DIGEST" | awk -v l="$lib" '$1 == l {print $3}')
	[ -n "$path" ] || fail "ldd does not find $lib"
	# dpkg knows a library by the path it was packaged at (/lib or /usr/lib).
	pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "${path#/usr}" 2>/dev/null ||
		dpkg -S "/usr$path" 2>/dev/null) || fail "no package holds $path"
	pkg=${pkg%%:*}
	case $pkg in libc6 | libasan* | libubsan* | libgcc-s1) continue ;; esac
	grep -qx "$pkg" "$TMP/closure" ||
		fail "digest links $lib of $pkg, which the Containerfile does not install"
done

# The build stage's install step puts digest where ENTRYPOINT runs it.
if [ -n "${DIGEST_BIN:-}" ]; then
	DESTDIR=$TMP/root cmake --install "$DIGEST_BIN" --prefix /usr/local >"$TMP/install.log" 2>&1 ||
		fail "cmake --install: $(cat "$TMP/install.log")"
	[ -x "$TMP/root/usr/local/bin/digest" ] || fail "cmake --install puts no usr/local/bin/digest"
	for t in "$DIGEST_SRC"/templates/*; do
		cmp -s "$t" "$TMP/root/usr/local/share/digest/templates/${t##*/}" ||
			fail "the image would not have the template ${t##*/} in share/digest/templates"
	done
fi
