#!/usr/bin/env bash
# Organisation scale: the Kubernetes example's shard wiring
# (examples/kubernetes/, k8s_wiring.py), its digest.ini accepted by
# `digest check`, and a simulation of the Indexed Job: N shard processes
# at once over one configuration of 1,000 leaders, one database per shard
# through ${JOB_COMPLETION_INDEX}, sendmail to a file per recipient.
# Every leader gets exactly one digest, and a second run sends nothing.
. "$(dirname "$0")/lib.sh"

python3 -c 'import yaml' 2>/dev/null || skip "python3 cannot import yaml (python3-yaml)"
K8S=$DIGEST_SRC/examples/kubernetes
LEADERS=1000

# --- The manifests: Indexed, N = completions = the N of --shard, the
# index in the database path, secrets where password_command reads them.
python3 "$DIGEST_SRC/tests/e2e/k8s_wiring.py" "$K8S" "$DIGEST_SRC/Containerfile" \
	"$TMP/k8s.ini" >"$TMP/wiring" 2>&1 || fail "$(cat "$TMP/wiring")"
N=$(sed -n 's/^N=//p' "$TMP/wiring")
[ "$N" -ge 2 ] || fail "the example should have several shards, has '$N'"

# --- The ConfigMap's digest.ini, as the pod sees it: the volume and the
# secrets moved under $TMP.  Its IMAP sources on a port nobody listens
# on: every key is accepted (no file:line error) and each leader's source
# is tried, then refused (75).  With the sources as Maildirs: OK.
mkdir -p "$TMP/data" "$TMP/secrets" "$TMP/md/cur" "$TMP/md/new" "$TMP/md/tmp"
for key in $(grep -o '/run/secrets/digest/[^ ]*' "$TMP/k8s.ini"); do
	echo secret >"$TMP/secrets/${key##*/}"
done
sed -i "s|/var/lib/digest|$TMP/data|g; s|/run/secrets/digest|$TMP/secrets|g" "$TMP/k8s.ini"
port=$(free_port)
sed -E "/^sent = imaps?:/s#@[^/@ ]+(/|\$)#@127.0.0.1:$port\\1#" "$TMP/k8s.ini" >"$TMP/closed.ini"
export JOB_COMPLETION_INDEX=0
run 75 -c "$TMP/closed.ini" check --now 2026-11-30T07:00
grep -q 'closed\.ini:[0-9]*: .*connect' "$TMP/err" || fail "no IMAP source tried: $(cat "$TMP/err")"
grep -v 'connect' "$TMP/err" && fail "the ConfigMap's digest.ini has errors"
sed -E "s#^sent = .*#sent = maildir:$TMP/md#" "$TMP/k8s.ini" >"$TMP/md.ini"
run 0 -c "$TMP/md.ini" check --now 2026-11-30T07:00
expect_grep "configuration OK" "$TMP/out"
unset JOB_COMPLETION_INDEX

# --- The simulation: the ConfigMap's [digest] (database and log_file per
# shard), sendmail appending each message to out/RECIPIENT, and 1,000
# leaders with a small Maildir each.
mkdir -p "$TMP/mail-out"
cat >"$TMP/sendmail" <<'SH'
#!/bin/sh
# digest runs: sendmail -i -f FROM -- RECIPIENT, the message on stdin.
for rcpt; do :; done
exec cat >>"$SIM_OUT/$rcpt"
SH
chmod +x "$TMP/sendmail"
export SIM_OUT=$TMP/mail-out
{
	sed -n '/^\[digest\]/,/^\[/p' "$TMP/k8s.ini" | sed '$d'
	printf '\n[smtp]\nsendmail = %s\nfrom = Digest <digest@example.com>\n' "$TMP/sendmail"
} >"$TMP/sim.ini"
grep -q 'database = .*shard-\${JOB_COMPLETION_INDEX}' "$TMP/sim.ini" || fail "sim.ini: $(cat "$TMP/sim.ini")"
python3 - "$TMP" "$LEADERS" <<'PY' >>"$TMP/sim.ini"
import os, sys
tmp, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    lid = "l%04d" % i
    md = f"{tmp}/mail/{lid}"
    for d in ("cur", "new", "tmp"):
        os.makedirs(f"{md}/{d}")
    for j, day in enumerate((2, 16, 25)):
        with open(f"{md}/cur/{1795000000 + j}.M{j}P{i}.sim:2,S", "w") as f:
            f.write(f"Date: Mon, {day} Nov 2026 09:00:00 +0000\n"
                    f"From: Leader {i} <{lid}@example.com>\n"
                    f"To: Pat {i} <pat.{i}@example.org>\n"
                    f"Subject: week {j}\nMessage-ID: <{lid}.{j}@example.com>\n\nhi\n")
    print(f"\n[leader {lid}]\nname = Leader {i}\nemail = {lid}@example.com\nsent = maildir:{md}")
PY

# shards NOW: run the N shards at once, as the Job does, each with its
# JOB_COMPLETION_INDEX; fail unless every one exits 0 and prints nothing.
shards() {
	local k pids=()
	for ((k = 0; k < N; k++)); do
		JOB_COMPLETION_INDEX=$k "$DIGEST" -c "$TMP/sim.ini" run --shard "$k/$N" \
			--now "$1" >"$TMP/shard$k.out" 2>"$TMP/shard$k.err" &
		pids+=($!)
	done
	for ((k = 0; k < N; k++)); do
		wait "${pids[$k]}" || { cat "$TMP/shard$k.err" >&2; fail "shard $k/$N exited $?"; }
		expect_empty "$TMP/shard$k.out" "shard $k stdout"
		expect_empty "$TMP/shard$k.err" "shard $k stderr"
	done
}

# exactly_one: every leader has exactly one digest, this week's first.
exactly_one() {
	local got
	got=$(ls "$TMP/mail-out" | wc -l)
	[ "$got" = "$LEADERS" ] || fail "$got of $LEADERS leaders got a digest"
	(cd "$TMP/mail-out" && grep -c '^Message-ID: ' -- *) | grep -v ':1$' | head >"$TMP/dups" || true
	expect_empty "$TMP/dups" "leaders with more than one digest"
	(cd "$TMP/mail-out" && grep -H '^Message-ID: ' -- *) |
		grep -Ev '^(l[0-9]{4})@example\.com:Message-ID: <digest\.\1\.2026-W49\.0@example\.com>$' |
		head >"$TMP/bad" || true
	expect_empty "$TMP/bad" "digests sent to another leader or with another Message-ID"
}

start=$SECONDS
shards 2026-11-30T07:00
took=$((SECONDS - start))
exactly_one

# One database and one log per shard, and the shards' leaders are disjoint
# and together all of them.
for ((k = 0; k < N; k++)); do
	[ -s "$TMP/data/shard-$k.db" ] || fail "no database for shard $k: $(ls "$TMP/data")"
	[ -s "$TMP/data/shard-$k.log" ] || fail "shard $k sent nothing"
done
[ ! -e "$TMP/data/shard-.db" ] || fail "a shard without its index"
[ "$(ls "$TMP/data"/*.db | wc -l)" = "$N" ] || fail "databases: $(ls "$TMP/data")"
sed -n 's/.* leader=\([^ ]*\) .*status=sent.*/\1/p' "$TMP/data"/shard-*.log | sort >"$TMP/sent"
[ "$(wc -l <"$TMP/sent")" = "$LEADERS" ] || fail "$(wc -l <"$TMP/sent") sends logged"
[ "$(sort -u "$TMP/sent" | wc -l)" = "$LEADERS" ] || fail "a leader sent from two shards"

# The same week again (the CronJob's next hourly run): the ledger of each
# shard's database sends nothing more.
shards 2026-11-30T11:00
exactly_one
[ "$(cat "$TMP/data"/shard-*.log | wc -l)" = "$LEADERS" ] || fail "the second run logged sends"

echo "$LEADERS leaders over $N shards at once: ${took}s"
