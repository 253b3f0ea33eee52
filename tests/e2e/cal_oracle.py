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
from icalendar.timezone_cache import _timezone_cache
import recurring_ical_events

ZONE = "America/New_York"
# (from, to) in UTC, the widest first: our instances in each window are
# checked against the widest; the oracle's in the windows of ORACLE
# (pytz and the oracle stop at 2038; it is slow on wide windows).
WINDOWS = [
    ("1990-01-01T00:00:00Z", "2032-01-01T00:00:00Z"),
    ("2026-03-01T00:00:00Z", "2026-04-15T00:00:00Z"),
]
ORACLE = (0, 1)
CALEXPAND_TIMEOUT = 20  # seconds per file and window: a hang is a failure
ORACLE_TIMEOUT = 30     # seconds per file and window: the oracle is skipped
SHOW = 4                # starts shown per disagreement


def parse_utc(s):
    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def fmt(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


# UIDs of the current file that the oracle could not expand.
SKIPPED_UIDS = set()


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

    def expand(cal):
        found = collections.defaultdict(collections.Counter)
        unfold = recurring_ical_events.UnfoldableCalendar(cal)
        for ev in unfold.between(span_a, span_b):
            s = to_epoch(ev["DTSTART"].dt, zone)
            if a <= s < b:
                uid = str(ev.get("UID", "")).strip() or "(no UID)"
                cancelled = str(ev.get("STATUS", "")).upper() == "CANCELLED"
                found[uid][(s, cancelled)] += 1
        return found

    for cal in cals:
        try:
            found = expand(cal)
        except OracleTimeout:
            raise
        except Exception:
            # One bad event stops the oracle: ask again one UID at a
            # time, and leave out the UIDs it still cannot expand.
            found = collections.defaultdict(collections.Counter)
            groups = collections.defaultdict(list)
            for comp in cal.subcomponents:
                if comp.name == "VEVENT":
                    groups[str(comp.get("UID", "")).strip()].append(comp)
            for uid, comps in groups.items():
                sub = icalendar.Calendar()
                for k, v in cal.items():
                    sub[k] = v
                for comp in cal.subcomponents:
                    if comp.name != "VEVENT":
                        sub.add_component(comp)
                for comp in comps:
                    sub.add_component(comp)
                try:
                    part = expand(sub)
                except OracleTimeout:
                    raise
                except Exception:
                    SKIPPED_UIDS.add(uid or "(no UID)")
                    continue
                for k, v in part.items():
                    found[k].update(v)
        for k, v in found.items():
            got[k].update(v)
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
    # icalendar keeps the VTIMEZONEs it read in a global cache: forget
    # those of the previous file of this worker.
    _timezone_cache.clear()
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
    for (lo, hi), (got, err) in [(WINDOWS[i], mine[i]) for i in ORACLE]:
        signal.alarm(ORACLE_TIMEOUT)
        SKIPPED_UIDS.clear()
        try:
            want = theirs(cals, lo, hi)
        except OracleTimeout:
            stats["oracle timeout"] += 1
            crashes.append("note: the oracle timed out in %s..%s" % (lo, hi))
            continue
        except Exception:  # the oracle gives up on the file
            stats["oracle error"] += 1
            continue
        finally:
            signal.alarm(0)
        compared = True
        stats["oracle skipped events"] += len(SKIPPED_UIDS)
        for uid in SKIPPED_UIDS:
            # Not compared: the oracle failed on it (ours still ran).
            got.pop(uid, None)
            want.pop(uid, None)
        SKIPPED_UIDS.clear()
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
    # Biggest first, so that the workers end together.
    jobs.sort(key=lambda j: (-os.path.getsize(j[1]), j[2]))

    stats = collections.Counter()
    events = 0
    failures, allowed = [], []
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        results = pool.map(check_file, jobs, chunksize=1)
    order = sorted(range(len(jobs)), key=lambda i: jobs[i][2])
    for i in order:
        rel = jobs[i][2]
        st, ev, crashes, diffs = results[i]
        stats.update(st)
        events += len(ev)
        for c in crashes:
            if c.startswith("note: "):
                print("note: %s: %s" % (rel, c[6:]))
            else:
                failures.append("%s: %s" % (rel, c))
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
          "files unparsable by the oracle, %d file windows and %d event "
          "windows it could not expand, %d oracle timeouts"
          % (len(jobs), stats["files compared"], events,
             stats["instances agreed"], len(allowed), len(failures),
             stats["unparsable"], stats["oracle error"],
             stats["oracle skipped events"], stats["oracle timeout"]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
