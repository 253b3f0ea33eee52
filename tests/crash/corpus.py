#!/usr/bin/env python3
"""corpus.py -- the mail and calendars of several leaders for the crash
trials (tests/crash/crash.sh).

    corpus.py OUTDIR --examples DIR --leaders alex,blake,casey
              [--messages N] [--seed S] [--end YYYY-MM-DD]
              [--gencorpus PATH]

Writes OUTDIR/LEADER/Sent (a Maildir) and OUTDIR/LEADER/calendar.ics for
each leader.  Every leader gets the repo's sample mail and calendar
(DIR/Sent, DIR/calendar.ics) with alex's addresses replaced by its own,
plus N generated messages of its own: a year to --end of mail to a few
dozen contacts, from seed S and the leader's position, so the same
arguments give the same files.  With --gencorpus (../shared/bench/
gencorpus.py) the N messages and a larger calendar come from that
generator instead, one seed per leader.  Standard library only.
"""
import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
import sys

def rewrite(data, leader):
    """alex's addresses and name in data, as leader's (gencorpus's
    a.leader@corp.example becomes LEADER@corp.example, alex's too)."""
    cap = leader.capitalize()
    for old, new in (("alex.leader@", leader + ".leader@"),
                     ("a.leader@corp.example", leader + "@corp.example"),
                     ("alex@example.com", leader + "@example.com"),
                     ("Alex Leader", cap + " Leader"),
                     ("/ Alex ", "/ %s " % cap)):
        data = data.replace(old.encode(), new.encode())
    return data


def copy_rewritten(src, dst, leader):
    """src (a file or a Maildir) to dst, with alex's addresses rewritten."""
    if os.path.isdir(src):
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(dst, sub), exist_ok=True)
        for root, _, files in os.walk(src):
            for f in files:
                s = os.path.join(root, f)
                d = os.path.join(dst, os.path.relpath(s, src))
                with open(s, "rb") as i, open(d, "wb") as o:
                    o.write(rewrite(i.read(), leader))
    else:
        with open(src, "rb") as i, open(dst, "wb") as o:
            o.write(rewrite(i.read(), leader))


def generate(sent, leader, n, rng, end):
    """n messages from leader to a few dozen contacts over a year."""
    contacts = ["c%02d.%s@example.org" % (i, leader)
                for i in range(max(8, n // 40))]
    # Some people written to often, most now and then: a rhythm to learn.
    weights = [1.0 / (1 + i % 12) for i in range(len(contacts))]
    start = end - dt.timedelta(days=365)
    for i in range(n):
        t = start + dt.timedelta(seconds=rng.randrange(365 * 86400))
        to = rng.choices(contacts, weights)[0]
        cc = rng.choice(contacts) if rng.random() < 0.2 else None
        stamp = int(t.timestamp())
        name = "%d.G%dP%s.crash:2,S" % (stamp, i, leader)
        body = "Line %d of a note.\n" * rng.randrange(1, 20)
        msg = ("Date: %s\nFrom: %s <%s@example.com>\nTo: %s\n%s"
               "Subject: note %d\nMessage-ID: <gen.%s.%d@example.com>\n"
               "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
               "\n%s" % (t.strftime("%a, %d %b %Y %H:%M:%S +0000"),
                         leader.capitalize() + " Leader", leader, to,
                         "Cc: %s\n" % cc if cc else "", i, leader, i,
                         body.replace("%d", str(i))))
        with open(os.path.join(sent, "cur", name), "w") as f:
            f.write(msg)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--examples", required=True)
    ap.add_argument("--leaders", default="alex,blake,casey")
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--end", default="2026-11-27")
    ap.add_argument("--gencorpus")
    a = ap.parse_args()
    end = dt.datetime.fromisoformat(a.end).replace(tzinfo=dt.timezone.utc)
    for k, leader in enumerate(a.leaders.split(",")):
        out = os.path.join(a.outdir, leader)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        sent = os.path.join(out, "Sent")
        copy_rewritten(os.path.join(a.examples, "Sent"), sent, leader)
        if a.gencorpus:
            gen = os.path.join(out, "gen")
            subprocess.run([sys.executable, a.gencorpus, gen,
                            "--messages", str(a.messages),
                            "--seed", str(a.seed * 100 + k),
                            "--end", a.end], check=True,
                           stdout=subprocess.DEVNULL)
            copy_rewritten(os.path.join(gen, "Sent"), sent, leader)
            copy_rewritten(os.path.join(gen, "calendar.ics"),
                           os.path.join(out, "calendar.ics"), leader)
            shutil.rmtree(gen)
        else:
            copy_rewritten(os.path.join(a.examples, "calendar.ics"),
                           os.path.join(out, "calendar.ics"), leader)
            generate(sent, leader, a.messages,
                     random.Random(a.seed * 100 + k), end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
