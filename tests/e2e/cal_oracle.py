#!/usr/bin/env python3
"""cal_oracle -- compare the instances digest's calendar module expands
(through tests/tools/calexpand) with those of an independent
implementation, the Python library recurring_ical_events, for every .ics
file under a corpus directory and in a few windows.  Used by
T070-cal-oracle.sh.

    cal_oracle.py CALEXPAND CORPUS ALLOWLIST

An instance is (UID, start in UTC, cancelled or not); floating times and
dates are read in the window's zone on both sides.  recurring_ical_events
returns the events that overlap a span, so it is asked for a wider span
and its starts are filtered to [from, to) like ours.  It is used without
its X-WR-TIMEZONE rewriting (digest reads floating times in the leader's
zone, not in X-WR-TIMEZONE), so that like is compared with like.

Besides the oracle, each file is checked against itself: the instances of
a narrow window must be those of the widest window that fall inside it
(this is what catches a wrong start of iteration near the window).

Fails (exit 1) on a crash or timeout of calexpand and on any disagreement
not in ALLOWLIST, whose lines are "PATH | UID | reason" (PATH relative to
CORPUS, UID "*" for every event of the file; "#" starts a comment).
"""
import collections
import datetime
import multiprocessing
import os
import signal
import subprocess
import sys

import icalendar
import pytz
import recurring_ical_events

ZONE = "America/New_York"
# (from, to) in UTC; the first is the widest (pytz and the oracle stop
# at 2038).
WINDOWS = [
    ("1970-01-01T00:00:00Z", "2038-01-01T00:00:00Z"),
    ("1997-09-01T00:00:00Z", "1998-01-01T00:00:00Z"),
    ("2026-03-01T00:00:00Z", "2026-04-15T00:00:00Z"),
]
CALEXPAND_TIMEOUT = 20  # seconds per file and window: a hang is a failure
ORACLE_TIMEOUT = 8      # seconds per file and window: the oracle is skipped
SHOW = 4                # starts shown per disagreement


def parse_utc(s):
    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def fmt(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


class OracleTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise OracleTimeout()


def ours(calexpand, path, lo, hi):
    """{uid: Counter((start, cancelled))} and the warnings, or raise."""
    p = subprocess.run([calexpand, ZONE, lo, hi, path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=CALEXPAND_TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError("calexpand exited %d: %s" % (
            p.returncode, p.stderr.decode("utf-8", "replace")[-500:]))
    got = collections.defaultdict(collections.Counter)
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        cols = line.split("\t")
        uid = "(no UID)" if cols[0].startswith("nouid-") else cols[0].strip()
        got[uid][(parse_utc(cols[1]), len(cols) > 2)] += 1
    return got, p.stderr.decode("utf-8", "replace")


def to_epoch(dt, zone):
    if isinstance(dt, datetime.datetime):
        if dt.tzinfo is None:
            dt = zone.localize(dt)
        return int(dt.timestamp())
    return int(zone.localize(datetime.datetime(dt.year, dt.month, dt.day))
               .timestamp())


def theirs(cals, lo, hi):
    """{uid: Counter((start, cancelled))} from recurring_ical_events."""
    zone = pytz.timezone(ZONE)
    a, b = parse_utc(lo), parse_utc(hi)
    # Naive bounds (floating events compare naively), two days wider.
    span_a = datetime.datetime.utcfromtimestamp(max(a - 2 * 86400, 0))
    span_b = datetime.datetime.utcfromtimestamp(b + 2 * 86400)
    got = collections.defaultdict(collections.Counter)
    for cal in cals:
        unfold = recurring_ical_events.UnfoldableCalendar(cal)
        for ev in unfold.between(span_a, span_b):
            s = to_epoch(ev["DTSTART"].dt, zone)
            if a <= s < b:
                uid = str(ev.get("UID", "")).strip() or "(no UID)"
                cancelled = str(ev.get("STATUS", "")).upper() == "CANCELLED"
                got[uid][(s, cancelled)] += 1
    return got


def describe(c):
    items = sorted(c.elements())
    text = " ".join(fmt(s) + ("(cancelled)" if x else "")
                    for s, x in items[:SHOW])
    if len(items) > SHOW:
        text += " ... (%d in all)" % len(items)
    return text


def load_allow(path):
    allow = {}
    if not os.path.exists(path):
        return allow
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not parts[2]:
            sys.exit("%s:%d: expected 'PATH | UID | reason'" % (path, n))
        allow[(parts[0], parts[1])] = parts[2]
    return allow


def check_file(job):
    """Compare one file in every window.  Returns (stats, events, crashes,
    disagreements) with disagreements as (uid, what)."""
    calexpand, path, rel = job
    stats = collections.Counter()
    events = set()
    crashes, diffs = [], []
    signal.signal(signal.SIGALRM, on_alarm)
    data = open(path, "rb").read()
    try:
        # Like cal_expand, only what is inside a VCALENDAR.
        cals = [c for c in icalendar.Calendar.from_ical(data, multiple=True)
                if c.name == "VCALENDAR"]
        if not cals:
            raise ValueError("no VCALENDAR")
    except Exception:  # the oracle cannot read the file
        cals = None
        stats["unparsable"] += 1
    mine = []
    for lo, hi in WINDOWS:
        try:
            mine.append(ours(calexpand, path, lo, hi))
        except subprocess.TimeoutExpired:
            crashes.append("calexpand timed out (%d s) in %s..%s"
                           % (CALEXPAND_TIMEOUT, lo, hi))
            return stats, events, crashes, diffs
        except RuntimeError as e:
            crashes.append(str(e))
            return stats, events, crashes, diffs

    # Against itself: a narrow window is the widest one cut down (unless
    # an event was cut at CAL_MAX_INSTANCES or given up).
    wide, wide_err = mine[0]
    for (lo, hi), (got, err) in list(zip(WINDOWS, mine))[1:]:
        a, b = parse_utc(lo), parse_utc(hi)
        for uid in set(got) | set(wide):
            if ("%s: more than" % uid) in wide_err or \
                    ("%s: gave up" % uid) in wide_err:
                continue
            cut = collections.Counter(
                {k: v for k, v in wide[uid].items() if a <= k[0] < b})
            if cut != got[uid]:
                diffs.append((uid, "window %s..%s differs from the widest "
                              "window: extra %s; missing %s" % (
                                  lo, hi, describe(got[uid] - cut) or "-",
                                  describe(cut - got[uid]) or "-")))
    if cals is None:
        return stats, events, crashes, diffs

    compared = False
    for (lo, hi), (got, err) in zip(WINDOWS, mine):
        signal.alarm(ORACLE_TIMEOUT)
        try:
            want = theirs(cals, lo, hi)
        except OracleTimeout:
            stats["oracle timeout"] += 1
            continue
        except Exception:  # the oracle gives up on the file
            stats["oracle error"] += 1
            continue
        finally:
            signal.alarm(0)
        compared = True
        for uid in set(got) | set(want):
            events.add(uid)
            if ("%s: more than" % uid) in err and got[uid]:
                # Cut at CAL_MAX_INSTANCES: compare what was kept.
                last = max(got[uid])[0]
                want[uid] = collections.Counter(
                    {k: v for k, v in want[uid].items() if k[0] <= last})
            both = got[uid] & want[uid]
            stats["instances agreed"] += sum(both.values())
            extra, missing = got[uid] - want[uid], want[uid] - got[uid]
            if extra or missing:
                diffs.append((uid, "%s..%s: extra %s; missing %s" % (
                    lo, hi, describe(extra) or "-",
                    describe(missing) or "-")))
    if compared:
        stats["files compared"] += 1
    return stats, events, crashes, diffs


def main():
    calexpand, corpus, allow_path = sys.argv[1:4]
    allow = load_allow(allow_path)
    used = set()

    jobs = []
    for root, dirs, names in os.walk(corpus):
        for name in names:
            if name.lower().endswith(".ics"):
                path = os.path.join(root, name)
                jobs.append((calexpand, path, os.path.relpath(path, corpus)))
    jobs.sort()

    stats = collections.Counter()
    events = 0
    failures, allowed = [], []
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        results = pool.map(check_file, jobs, chunksize=4)
    for (_, _, rel), (st, ev, crashes, diffs) in zip(jobs, results):
        stats.update(st)
        events += len(ev)
        failures += ["%s: %s" % (rel, c) for c in crashes]
        for uid, what in diffs:
            for key in ((rel, uid), (rel, "*")):
                if key in allow:
                    used.add(key)
                    allowed.append("%s | %s: %s [%s]" % (
                        rel, uid, what, allow[key]))
                    break
            else:
                failures.append("%s | %s: %s" % (rel, uid, what))

    for line in allowed:
        print("allowed: " + line)
    for key in sorted(set(allow) - used):
        print("note: allow-list entry not needed: %s | %s" % key)
    for line in failures:
        print("FAIL: " + line)
    print("cal-oracle: %d files, %d compared, %d events, %d instances "
          "agreed, %d disagreements allowed, %d failures; skipped: %d "
          "unparsable by the oracle, %d oracle errors, %d oracle timeouts"
          % (len(jobs), stats["files compared"], events,
             stats["instances agreed"], len(allowed), len(failures),
             stats["unparsable"], stats["oracle error"],
             stats["oracle timeout"]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
