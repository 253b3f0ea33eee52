#!/usr/bin/env bash
# Crash trials: `digest run` killed with SIGKILL at random points (ingest,
# scoring, during and after the SMTP dialogue with the tests' aiosmtpd),
# then run again to completion.  After each rerun: the database passes
# PRAGMA integrity_check, every leader's interactions are those of a
# clean run, and every leader got exactly one digest for the week, or
# two with the same Message-ID when the kill fell between the server's
# acceptance and the ledger.
#
# Three leaders, each with the repo's sample mail and calendar and
# generated mail of its own (tests/crash/corpus.py).  The kill delays are
# drawn uniformly over a clean run's duration, one in each of TRIALS
# equal slices of it, from a fixed seed; the server waits in DATA
# (--data-delay) so that kills land in the dialogue and just after it.  Each trial names where its kill fell, judged from a
# copy of the database it left and the server's mail, for the first
# leader not recorded as sent: start (no schema yet), ingest, score (its
# sources read, no delivery recorded), smtp (ledger "sending", nothing
# kept by the server), accepted (kept, not recorded), ended (all
# recorded), missed (the run had finished).  Environment:
#   DIGEST_CRASH_TRIALS    trials (20; 6 in a sanitizer build)
#   DIGEST_CRASH_SEED      seed of the delays and the corpus (1)
#   DIGEST_CRASH_DELAYS    "MS MS ...": these kill delays instead (replay)
#   DIGEST_CRASH_MESSAGES  generated messages per leader (5000; 600)
#   DIGEST_CRASH_SMTP_WAIT the server's wait in DATA, seconds (0.15)
#   DIGEST_CRASH_GENCORPUS ../shared/bench/gencorpus.py for the mail
# The seed fixes the corpus and where in a clean run's duration each kill
# falls.  A failed trial keeps $TMP (the database the kill left is in
# tN/killed/) and prints its delay in ms for DIGEST_CRASH_DELAYS; where a
# delay falls depends on the machine's speed, so a replay may need a few
# delays around it ("1100 1150 1200").
. "$(dirname "$0")/../e2e/lib.sh"

need_aiosmtpd
command -v openssl >/dev/null || skip "no openssl"
command -v sqlite3 >/dev/null || skip "no sqlite3"

# A sanitizer build ingests several times slower: fewer trials, and less
# mail so that ingest does not take all the kills.
trials=20 messages=5000
if readelf -d "$DIGEST" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
	trials=6 messages=600
fi
TRIALS=${DIGEST_CRASH_TRIALS:-$trials}
SEED=${DIGEST_CRASH_SEED:-1}
MESSAGES=${DIGEST_CRASH_MESSAGES:-$messages}
WAIT=${DIGEST_CRASH_SMTP_WAIT:-0.15}
LEADERS="alex blake casey"
N="--now 2026-11-30T07:00"
WEEK=2026-W49

make_ca "$TMP"
port=$(free_port)
mkdir -p "$TMP/inbox"
"$PY" "$DIGEST_SRC/tests/e2e/smtp_server.py" --port "$port" --mode starttls \
	--cert "$TMP/srv.pem" --key "$TMP/srv.key" --user digest --password s3cret \
	--maildir "$TMP/inbox" --data-delay "$WAIT" \
	>"$TMP/server.out" 2>"$TMP/server.err" &
server=$!
trap 'kill $server 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
for _ in $(seq 300); do grep -q ready "$TMP/server.out" && break; sleep 0.1; done
grep -q ready "$TMP/server.out" || fail "server did not start: $(cat "$TMP/server.err")"

"$PY" "$DIGEST_SRC/tests/crash/corpus.py" "$TMP/corpus" \
	--examples "$DIGEST_SRC/examples" --leaders "${LEADERS// /,}" \
	--messages "$MESSAGES" --seed "$SEED" \
	${DIGEST_CRASH_GENCORPUS:+--gencorpus "$DIGEST_CRASH_GENCORPUS"} ||
	fail "corpus.py failed"
echo s3cret >"$TMP/password"

# config DIR: write DIR/digest.ini, with its database and log in DIR.
config() {
	mkdir -p "$1"
	{
		printf '[digest]\ndatabase = %s/digest.db\n' "$1"
		printf 'log_file = %s/digest.log\n' "$1"
		printf 'timezone = Europe/Berlin\nlookback = 365d\n'
		for l in $LEADERS; do
			printf '\n[leader %s]\nemail = %s@example.com\n' "$l" "$l"
			printf 'aliases = %s.leader@example.com, ' "$l"
			printf '%s@corp.example\n' "$l"
			printf 'delegates = sam.assistant@example.com\n'
			printf 'sent = maildir:%s\n' "$TMP/corpus/$l/Sent"
			printf 'calendar = %s\n' "$TMP/corpus/$l/calendar.ics"
		done
		printf '\n[smtp]\nurl = smtp://127.0.0.1:%s\nuser = digest\n' "$port"
		printf 'password_command = cat %s\n' "$TMP/password"
		printf 'from = Relationship Digest <digest@example.net>\n'
		printf 'tls_ca_file = %s\n' "$TMP/ca.pem"
	} >"$1/digest.ini"
}

# interactions DIR: every leader's interactions, as digest prints them.
interactions() {
	for l in $LEADERS; do
		echo "== $l"
		"$DIGEST" -c "$1/digest.ini" interactions --leader "$l" --format csv
	done
}

# sql DB QUERY: one value from a database (a copy, never the trial's own:
# the next run must be the first to open what the kill left).
sql() {
	sqlite3 -batch -noheader "$1" "$2"
}

# phase DB INBOX: where the kill landed, judged from what it left behind:
# the first leader (in run order) whose digest is not recorded as sent,
# and how far it got.  "ended" when every digest was recorded.
phase() {
	local db=$1 inbox=$2 l st mid
	[ -s "$db" ] && sql "$db" 'SELECT 1 FROM delivery LIMIT 0' 2>/dev/null ||
		{ echo start; return; }
	for l in $LEADERS; do
		st=$(sql "$db" "SELECT d.status FROM delivery d JOIN leader l ON
			l.id = d.leader_id WHERE l.name = '$l' AND d.week = '$WEEK'
			ORDER BY d.n DESC LIMIT 1")
		case $st in
		sent) continue ;;
		sending)
			mid=$(sql "$db" "SELECT d.message_id FROM delivery d JOIN
				leader l ON l.id = d.leader_id WHERE l.name = '$l'
				ORDER BY d.n DESC LIMIT 1")
			if grep -qsF "Message-ID: <$mid>" "$inbox"/*.eml; then
				echo "accepted $l"
			else
				echo "smtp $l"
			fi ;;
		'')
			# One transaction per source: both read, or not yet.
			if [ "$(sql "$db" "SELECT count(*) FROM source s JOIN leader l
				ON l.id = s.leader_id WHERE l.name = '$l' AND
				s.last_scan IS NOT NULL")" = 2 ]; then
				echo "score $l"
			else
				echo "ingest $l"
			fi ;;
		*) echo "$st $l" ;;
		esac
		return
	done
	echo ended
}

# A clean run: its duration, its interactions, one digest per leader.
config "$TMP/clean"
t0=$(date +%s%N)
"$DIGEST" -c "$TMP/clean/digest.ini" run $N \
	>"$TMP/clean/out" 2>"$TMP/clean/err" ||
	fail "clean run exited $?: $(cat "$TMP/clean/err")"
t1=$(date +%s%N)
span=$(((t1 - t0) / 1000000))
[ "$(ls "$TMP/inbox" | grep -c '\.eml$')" = 3 ] ||
	fail "clean run: 3 digests expected: $(ls "$TMP/inbox")"
mv "$TMP/inbox"/* "$TMP/clean/"
interactions "$TMP/clean" >"$TMP/clean/interactions"
counts=$(sql "$TMP/clean/digest.db" "SELECT group_concat(n, ' ') FROM
	(SELECT count(*) AS n FROM interaction GROUP BY leader_id ORDER BY leader_id)")
echo "crash: clean run ${span} ms, interactions per leader: $counts"

# check_trial DIR PHASE: what the rerun left is what a clean run leaves;
# prints what is wrong, if anything.
check_trial() {
	local d=$1 phase=$2 l ids n mid st
	st=$(sqlite3 "$d/digest.db" 'PRAGMA integrity_check')
	[ "$st" = ok ] || { echo "integrity_check: $st"; return 1; }
	interactions "$d" >"$d/interactions" 2>&1 || true
	if ! cmp -s "$TMP/clean/interactions" "$d/interactions"; then
		echo "interactions differ from the clean run's:"
		diff "$TMP/clean/interactions" "$d/interactions" | head -20
		return 1
	fi
	for l in $LEADERS; do
		ids=$(grep -hs "^Message-ID: <digest\.$l\.$WEEK\." "$d"/*.eml |
			tr -d '\r' | sed 's/^Message-ID: //' || true)
		n=$(printf '%s' "$ids" | grep -c . || true)
		mid=${ids%%$'\n'*}
		if [ "$n" = 0 ]; then
			echo "$l: no digest delivered"
			return 1
		fi
		if [ "$(printf '%s\n' "$ids" | sort -u | wc -l)" != 1 ]; then
			echo "$l: digests with different Message-IDs:" $ids
			return 1
		fi
		# A duplicate only of the attempt the killed run recorded as
		# "sending" (phase smtp or accepted: the server's timing
		# decides which, and the ledger cannot know).
		case $n:$phase in
		1:* | "2:smtp $l" | "2:accepted $l") ;;
		*)
			echo "$l: $n copies of $mid after a kill in '$phase'"
			return 1 ;;
		esac
		st=$(sql "$d/digest.db" "SELECT d.status || ' <' || d.message_id
			|| '>' FROM delivery d JOIN leader l ON l.id = d.leader_id
			WHERE l.name = '$l' ORDER BY d.n DESC LIMIT 1")
		if [ "$st" != "sent $mid" ]; then
			echo "$l: the ledger says '$st', the server got $mid"
			return 1
		fi
	done
}

RANDOM=$SEED
read -r -a delays <<<"${DIGEST_CRASH_DELAYS:-}"
[ ${#delays[@]} -gt 0 ] && TRIALS=${#delays[@]}
declare -A hits=()
failed=()
for i in $(seq 1 "$TRIALS"); do
	d=$TMP/t$i
	config "$d"
	# Stratified: trial i falls at a random point of the i-th of TRIALS
	# equal slices of the clean run, so every part of it gets its kills.
	ms=${delays[i - 1]:-$((((i - 1) * span +
		((RANDOM << 15) | RANDOM) % (span + 1)) / TRIALS))}
	"$DIGEST" -c "$d/digest.ini" run $N >"$d/killed.out" 2>"$d/killed.err" &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL $pid 2>/dev/null || true
	rc=0
	wait $pid 2>/dev/null || rc=$?  # quiet: no "Killed" line
	# What the kill left, copied before anything opens it.
	mkdir "$d/killed"
	cp "$d"/digest.db* "$d/killed/" 2>/dev/null || true
	if [ "$rc" = 137 ]; then
		ph=$(phase "$d/killed/digest.db" "$TMP/inbox")
	else
		ph="missed (exit $rc)"
	fi
	hits[${ph%% *}]=$((${hits[${ph%% *}]:-0} + 1))
	rrc=0
	timeout 300 "$DIGEST" -c "$d/digest.ini" run $N \
		>"$d/rerun.out" 2>"$d/rerun.err" || rrc=$?
	mv "$TMP/inbox"/* "$d/" 2>/dev/null || true
	if [ "$rrc" != 0 ]; then
		why="rerun exited $rrc: $(head -3 "$d/rerun.err")"
	else
		why=$(check_trial "$d" "$ph") && why=
	fi
	printf 'crash: trial %2d: kill at %5d ms: %-16s %s\n' \
		"$i" "$ms" "$ph" "${why:-ok}"
	[ -z "$why" ] || failed+=("trial $i ($ph): $why
  replay: DIGEST_CRASH_SEED=$SEED DIGEST_CRASH_MESSAGES=$MESSAGES \
DIGEST_CRASH_SMTP_WAIT=$WAIT DIGEST_CRASH_DELAYS=$ms")
done

summary=
for k in start ingest score smtp accepted ended missed; do
	summary+=" $k ${hits[$k]:-0},"
	unset "hits[$k]"
done
for k in "${!hits[@]}"; do summary+=" $k ${hits[$k]},"; done
echo "crash: $((TRIALS - ${#failed[@]})) of $TRIALS trials survived" \
	"(seed $SEED); kills:${summary%,}"
if [ ${#failed[@]} -gt 0 ]; then
	KEEP=1
	printf '%s\n' "${failed[@]}" >&2
	fail "${#failed[@]} of $TRIALS trials failed; their files are in $TMP"
fi
