#!/usr/bin/env bash
# https calendars against a real https server on 127.0.0.1 (Python's
# http.server with TLS, https_server.py) and a CA made here: the first
# fetch gives what the same .ics file gives; a rerun is a conditional GET
# answered 304 and does no work; a moved window expands the stored
# calendar again; a changed calendar is read again; Last-Modified alone
# works too; redirects (5 followed, 6 refused, never to http), 404, 401,
# 403, 500, an oversized body and an untrusted certificate fail with the
# right exit code; a failing calendar does not keep the leader's other
# sources from being read; a libcurl that cannot be loaded fails an
# https calendar only (exit 70); the secret in a calendar's URL never appears
# in what digest prints on stderr.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "no python3"
command -v openssl >/dev/null || skip "no openssl"
# The server and digest talk to 127.0.0.1 directly.
unset https_proxy HTTPS_PROXY http_proxy HTTP_PROXY all_proxy ALL_PROXY

make_ca "$TMP/ca"
make_ca "$TMP/other" # a CA that does not trust the server's certificate
mkdir -p "$TMP/www" "$TMP/local"
cp "$FIXTURES/cal-ingest/work.ics" "$TMP/www/work.ics"
cp "$FIXTURES/cal-ingest/work.ics" "$TMP/local/work.ics"
port=$(free_port)
python3 "$DIGEST_SRC/tests/e2e/https_server.py" --port "$port" \
	--cert "$TMP/ca/srv.pem" --key "$TMP/ca/srv.key" --dir "$TMP/www" \
	--log "$TMP/requests.log" >"$TMP/server.out" 2>"$TMP/server.err" &
server=$!
trap 'kill $server 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
# Wait for its readiness line (bounded: a slow python3 may take seconds).
for _ in $(seq 300); do grep -q ready "$TMP/server.out" && break; sleep 0.1; done
grep -q ready "$TMP/server.out" || fail "server did not start: $(cat "$TMP/server.err")"

# Every URL carries a secret, as Google's and Outlook's published
# calendars do; the server ignores that first path component.
SECRET=private-SECRET123
BASE=https://127.0.0.1:$port/$SECRET
NEXT=2026-12-07T08:00:00Z

# config FILE DB CA CALENDAR [LINE...]: leader alex reading CALENDAR,
# trusting CA (none: the system's).
config() {
	local file=$1 db=$2 ca=$3 cal=$4
	shift 4
	{
		echo "[digest]"
		echo "database = $db"
		echo "timezone = UTC"
		[ "$ca" = none ] || echo "tls_ca_file = $ca"
		echo
		echo "[leader alex]"
		echo "name = Alex Leader"
		echo "email = alex@example.com"
		echo "aliases = alex.leader@example.com"
		echo "timezone = Europe/Berlin"
		echo "calendar = $cal"
		for line in "$@"; do echo "$line"; done
	} >"$file"
}

# No secret on stderr, whatever happened.
no_secret() {
	! grep -q SECRET123 "$TMP/err" || { cat "$TMP/err" >&2; fail "the URL's secret was printed"; }
}

# The last request the server saw: "STATUS IF-NONE-MATCH IMS BYTES", IMS
# "ims" when If-Modified-Since was sent, else "-".
last_request() {
	tail -n 1 "$TMP/requests.log" |
		awk -F'\t' '{print $1, $3, ($4 == "-" ? "-" : "ims"), $5}'
}
requests() { wc -l <"$TMP/requests.log"; }
# The ETag the server gives a file.
etag_of() {
	echo "\"$(sha256sum "$1" | cut -c1-16)\""
}
# What check must not change.
db_state() {
	python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for t in ("source", "interaction", "upcoming", "cal_file", "http_cache", "seen"):
    print(t, db.execute("SELECT count(*) FROM " + t).fetchone()[0])
print(db.execute("SELECT etag, last_modified, fetched, length(body) FROM http_cache").fetchall())
print(db.execute("SELECT cursor, last_scan, last_new FROM source").fetchall())
PY
}

# The interactions without their source (which is the spec as written).
meetings() {
	run 0 -c "$1" interactions --leader alex --now "$2" --format csv
	cut -d, -f1-5 "$TMP/out"
}

upcoming() {
	python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute("""SELECT datetime(u.time, 'unixepoch'), group_concat(a.addr)
    FROM upcoming u JOIN json_each(u.parties) p
    JOIN address a ON a.id = p.value GROUP BY u.id ORDER BY u.time"""):
    print(*row)
PY
}

config "$TMP/local.ini" "$TMP/local.db" none "$TMP/local/work.ics"
config "$TMP/https.ini" "$TMP/https.db" "$TMP/ca/ca.pem" "$BASE/work.ics"

# ---- first fetch: the same meetings as the local file -----------------
run 0 -c "$TMP/local.ini" ingest --now $NOW
meetings "$TMP/local.ini" $NOW >"$TMP/local.csv"
run 0 -c "$TMP/https.ini" ingest --now $NOW
expect_empty "$TMP/err" "first fetch stderr"
meetings "$TMP/https.ini" $NOW >"$TMP/https.csv"
[ "$(wc -l <"$TMP/https.csv")" -gt 5 ] || fail "too few meetings: $(cat "$TMP/https.csv")"
diff -u "$TMP/local.csv" "$TMP/https.csv" >&2 || fail "https and local file differ"
[ "$(upcoming "$TMP/https.db")" = "$(upcoming "$TMP/local.db")" ] || fail "coming up differs"
[ "$(last_request | cut -d' ' -f1-3)" = "200 - -" ] || fail "first fetch: $(last_request)"
tail -n 1 "$TMP/requests.log" | cut -f6 | grep -q '^digest/[0-9]' || fail "User-Agent: $(cat "$TMP/requests.log")"
tail -n 1 "$TMP/requests.log" | cut -f7 | grep -q gzip || fail "Accept-Encoding: $(cat "$TMP/requests.log")"
etag=$(etag_of "$TMP/www/work.ics")

# ---- rerun: a conditional GET, 304, no work ---------------------------
n=$(requests)
run 0 -c "$TMP/https.ini" -v ingest --now $NOW
# (-v names the source as cli.c prints it: not checked for the secret.)
expect_grep "0 calendar files read, 0 new meetings, 0 coming up" "$TMP/err"
[ "$(requests)" = $((n + 1)) ] || fail "expected one request"
[ "$(last_request)" = "304 $etag ims 0" ] || fail "rerun: $(last_request)"
[ "$(meetings "$TMP/https.ini" $NOW)" = "$(cat "$TMP/https.csv")" ] || fail "rerun changed the meetings"

# ---- a week later, still 304: the stored calendar is expanded again ----
run 0 -c "$TMP/local.ini" ingest --now $NEXT
run 0 -c "$TMP/https.ini" ingest --now $NEXT
no_secret
[ "$(last_request)" = "304 $etag ims 0" ] || fail "moved window: $(last_request)"
meetings "$TMP/https.ini" $NEXT >"$TMP/https.csv"
meetings "$TMP/local.ini" $NEXT >"$TMP/local.csv"
diff -u "$TMP/local.csv" "$TMP/https.csv" >&2 || fail "moved window differs from the local file"
expect_grep "2026-12-01T09:00:00Z,meeting,1,2,wen@example.com" "$TMP/https.csv"
# The standing 1:1's next instance after the new coming week.
upcoming "$TMP/https.db" | grep -q "^2026-12-15 09:00:00 wen@example.com" ||
	fail "no new instance of the standing 1:1: $(upcoming "$TMP/https.db")"

# ---- the calendar changes: read again ---------------------------------
for f in "$TMP/www/work.ics" "$TMP/local/work.ics"; do
	sed -i 's/DTSTART:20261103T113000Z/DTSTART:20261105T113000Z/; s/DTEND:20261103T123000Z/DTEND:20261105T123000Z/' "$f"
done
run 0 -c "$TMP/local.ini" ingest --now $NEXT
run 0 -c "$TMP/https.ini" -v ingest --now $NEXT
expect_grep "1 calendar files read" "$TMP/err"
last_request | grep -q "^200 $etag ims [1-9]" || fail "changed calendar: $(last_request)"
meetings "$TMP/https.ini" $NEXT >"$TMP/https.csv"
meetings "$TMP/local.ini" $NEXT >"$TMP/local.csv"
diff -u "$TMP/local.csv" "$TMP/https.csv" >&2 || fail "changed calendar differs from the local file"
expect_grep "2026-11-05T11:30:00Z,meeting,1,2,jo.kim@work.example" "$TMP/https.csv"
grep -q "2026-11-03T11:30:00Z" "$TMP/https.csv" && fail "the moved lunch left a ghost"
# ... and the new validators are the ones sent next.
etag2=$(etag_of "$TMP/www/work.ics")
run 0 -c "$TMP/https.ini" ingest --now $NEXT
[ "$(last_request)" = "304 $etag2 ims 0" ] || fail "after the change: $(last_request)"

# ---- check fetches and expands, and stores nothing --------------------
before=$(db_state "$TMP/https.db")
run 0 -c "$TMP/https.ini" check --now $NEXT
expect_grep "configuration OK" "$TMP/out"
no_secret
[ "$(last_request | cut -d' ' -f1-3)" = "200 - -" ] || fail "check: $(last_request)"
[ "$(db_state "$TMP/https.db")" = "$before" ] || fail "check changed the database"
# A config others may read while it holds the URL (whose path is its
# secret) is warned about, without the URL; the exit stays 0.
chmod 644 "$TMP/https.ini"
run 0 -c "$TMP/https.ini" check --now $NEXT
expect_grep "digest: warning: $TMP/https.ini: readable by others" "$TMP/err"
expect_grep "configuration OK" "$TMP/out"
no_secret
chmod 600 "$TMP/https.ini"
run 0 -c "$TMP/https.ini" check --now $NEXT
expect_empty "$TMP/err" "check of a private config"
chmod 644 "$TMP/local.ini"
run 0 -c "$TMP/local.ini" check --now $NEXT
expect_empty "$TMP/err" "check of a readable config without a URL"

# ---- Last-Modified only; the same body again is no work ---------------
config "$TMP/lm.ini" "$TMP/lm.db" "$TMP/ca/ca.pem" "$BASE/no-etag/work.ics"
run 0 -c "$TMP/lm.ini" ingest --now $NOW
[ "$(last_request | cut -d' ' -f1-3)" = "200 - -" ] || fail "no-etag first: $(last_request)"
run 0 -c "$TMP/lm.ini" ingest --now $NOW
[ "$(last_request)" = "304 - ims 0" ] || fail "no-etag rerun: $(last_request)"
# A newer mtime, the same content: sent again, and nothing to do.
touch -d "@$(($(date +%s) + 3600))" "$TMP/www/work.ics"
run 0 -c "$TMP/lm.ini" -v ingest --now $NOW
last_request | grep -q "^200 - ims [1-9]" || fail "touched: $(last_request)"
expect_grep "0 calendar files read, 0 new meetings, 0 coming up" "$TMP/err"
run 0 -c "$TMP/lm.ini" ingest --now $NOW
[ "$(last_request)" = "304 - ims 0" ] || fail "new Last-Modified not kept: $(last_request)"

# ---- redirects: 5 are followed, the last response's ETag is kept --------
config "$TMP/r5.ini" "$TMP/r5.db" "$TMP/ca/ca.pem" "$BASE/redirect/5/work.ics"
run 0 -c "$TMP/r5.ini" ingest --now $NOW
no_secret
run 0 -c "$TMP/r5.ini" ingest --now $NOW
[ "$(last_request)" = "304 $etag2 ims 0" ] || fail "after redirects: $(last_request)"
cut -f3 "$TMP/requests.log" | grep -q redirect- && fail "a redirect's ETag was kept"

# ---- failures: exit code, a message naming the source, no secret ------
# expect_fail EXIT URL-PATH MESSAGE [CA]
expect_fail() {
	config "$TMP/f.ini" "$TMP/f.db" "${4:-$TMP/ca/ca.pem}" "$BASE/$2"
	run "$1" -c "$TMP/f.ini" ingest --now $NOW
	expect_grep "https://127.0.0.1:$port/…#" "$TMP/err"
	expect_grep "$3" "$TMP/err"
	no_secret
}
expect_fail 66 status/404 "HTTP 404 Not Found"
expect_fail 66 status/410 "HTTP 410 Gone"
expect_fail 75 status/500 "HTTP 500 Internal Server Error"
expect_fail 75 status/503 "HTTP 503"
expect_fail 75 status/401 "HTTP 401 Unauthorized: access refused"
expect_fail 75 status/403 "HTTP 403 Forbidden: access refused"
expect_fail 75 status/429 "HTTP 429"
expect_fail 75 redirect-http/work.ics "redirected to a URL that is not https: refused"
expect_fail 75 redirect/6/work.ics "more than 5 redirects"
expect_fail 65 big-declared "larger than 50 MB"
expect_fail 65 big-stream "larger than 50 MB"
expect_fail 75 work.ics "TLS: certificate not trusted" "$TMP/other/ca.pem"
expect_fail 75 work.ics "TLS: certificate not trusted" none
# Not a calendar at all: the whole source is unreadable.
echo "<html>Sign in</html>" >"$TMP/www/login.ics"
expect_fail 65 login.ics "no VCALENDAR"
# A failed fetch stores nothing of the source.
db_state "$TMP/f.db" >"$TMP/state"
grep -qx "source 0" "$TMP/state" && grep -qx "http_cache 0" "$TMP/state" ||
	fail "a failed calendar left something: $(cat "$TMP/state")"
# Nobody listening: 75.
config "$TMP/f.ini" "$TMP/f.db" "$TMP/ca/ca.pem" "https://127.0.0.1:$(free_port)/$SECRET/work.ics"
run 75 -c "$TMP/f.ini" ingest --now $NOW
expect_grep "cannot connect" "$TMP/err"
no_secret
# check reports the same failures.
config "$TMP/f.ini" "$TMP/f.db" "$TMP/ca/ca.pem" "$BASE/status/404"
run 66 -c "$TMP/f.ini" check --now $NOW
expect_grep "HTTP 404" "$TMP/err"
no_secret
# http:// is refused (by the config, or by the fetch).
config "$TMP/f.ini" "$TMP/f.db" "$TMP/ca/ca.pem" "http://127.0.0.1:$port/$SECRET/work.ics"
run 78 -c "$TMP/f.ini" ingest --now $NOW

# ---- a failing calendar does not stop the other sources ---------------
config "$TMP/both.ini" "$TMP/both.db" "$TMP/ca/ca.pem" "$BASE/status/404" \
	"sent = maildir:$DIGEST_SRC/examples/Sent" "delegates = sam.assistant@example.com"
run 66 -c "$TMP/both.ini" ingest --now $NOW
expect_grep "HTTP 404" "$TMP/err"
no_secret
run 0 -c "$TMP/both.ini" interactions --leader alex --now $NOW --format csv
grep -q ",email," "$TMP/out" || fail "the Maildir was not read: $(cat "$TMP/out")"

# ---- libcurl missing: 70 for an https calendar, mail alone unaffected -
# digest loads libcurl only for a URL: a file that is not a library,
# first where dlopen looks, stands for a libcurl not installed.
: "${DIGEST_CURL_SONAME:?ctest passes the libcurl SONAME digest loads}"
mkdir -p "$TMP/nolib"
: >"$TMP/nolib/$DIGEST_CURL_SONAME"
LD_LIBRARY_PATH=$TMP/nolib run 70 -c "$TMP/both.ini" ingest --now $NOW
expect_grep "https://127.0.0.1:$port/…#" "$TMP/err"
expect_grep "cannot load libcurl: $TMP/nolib/$DIGEST_CURL_SONAME" "$TMP/err"
no_secret
config "$TMP/m.ini" "$TMP/m.db" none "$TMP/local/work.ics" \
	"sent = maildir:$DIGEST_SRC/examples/Sent" "delegates = sam.assistant@example.com"
LD_LIBRARY_PATH=$TMP/nolib run 0 -c "$TMP/m.ini" ingest --now $NOW
expect_empty "$TMP/err" "a run without a URL, libcurl missing"

# ---- webcal:// is https:// --------------------------------------------
config "$TMP/w.ini" "$TMP/w.db" "$TMP/ca/ca.pem" "webcal://127.0.0.1:$port/$SECRET/work.ics"
run 0 -c "$TMP/w.ini" ingest --now $NOW
meetings "$TMP/w.ini" $NOW >"$TMP/w.csv"
meetings "$TMP/local.ini" $NOW >"$TMP/local.csv"
diff -u "$TMP/local.csv" "$TMP/w.csv" >&2 || fail "webcal differs from the local file"
no_secret

# ---- a server that stalls: 75 at the timeout ---------------------------
config "$TMP/t.ini" "$TMP/t.db" "$TMP/ca/ca.pem" "$BASE/stall"
sed -i 's|^\[digest\]|[digest]\ntimeout = 2s|' "$TMP/t.ini"
start=$(date +%s)
run 75 -c "$TMP/t.ini" ingest --now $NOW
[ $(($(date +%s) - start)) -lt 20 ] || fail "the stall outlived the timeout"
expect_grep "https://127.0.0.1:$port/…#" "$TMP/err"
expect_grep ": timed out (" "$TMP/err"
no_secret
