#!/usr/bin/env python3
"""bench/lifelike.py: a lifelike year of a leader's sent mail and calendar.

Usage:
  lifelike.py OUTDIR [--seed S] [--end YYYY-MM-DD] [--contacts N]

Writes OUTDIR/Sent (a Maildir: cur/ new/ tmp/), OUTDIR/calendar.ics and
OUTDIR/truth.json.  Deterministic given --seed; Python standard library only.

The reference instant is --end at 18:00 UTC (the benchmark runs digest with
--now END T18:00:00Z) and the history is the 365 days before it.  Every
message is in the past; the calendar also holds future instances (standing
meetings that still run, the next board meeting, a few coming-up meetings).

Unlike ../shared/bench/gencorpus.py (steady rhythms only), the population is
made of the kinds of relationships a leader's mail really shows.  Each kind
has one function below (make_<kind>), and its ground-truth label follows the
rule of the issue:

  "a lapsed rhythm is neglected once its silence, net of the leader's
  absences, is at least max(3 periods, 21 days) and under dormant_after
  (180 days); a contact still active in its own rhythm is never neglected
  (an irregular one whose silence is unusual even for it is ambiguous); a
  thread, a delegate, a colleague-only contact is never neglected."

  steady          rhythm of 3-90 days with ~20% jitter, some starting mid-year,
                  some with quick follow-ups (a reply 1-2 days later), mostly
                  email with some 1:1 meetings.                      -> not
  lapsed          a steady rhythm (3-45 days) that stopped: most silences
                  clearly past max(3p, 21) (neglected), a few just under it
                  (not).  Within +-10% of the threshold: ambiguous.
  irregular       gamma gaps (shape 1.5-2.5, mean 14-60 days).  Active: not
                  while the net silence is <= 2 x mean, ambiguous beyond.
                  Lapsed (silence >= 3 x mean, < 180 days): neglected.
  thread          one burst of 3-8 mails within 2-10 days that ended 3 weeks
                  to 10 months ago, nothing else.                    -> not
  longgone        a steady rhythm silent for more than 180 days: past the
                  dormant horizon.                      -> ambiguous (unscored)
  standing        a calendar-only standing 1:1 (RRULE weekly or biweekly):
                  running past the reference date -> not (one biweekly's
                  last instance is 1-6 days back, its next 8-13 days ahead);
                  ended by UNTIL weeks ago -> the lapsed rule (p = 7 or 14).
  board           4-6 board members: a quarterly board meeting, the board
                  pack mailed to all of them 3 days before; the last meeting
                  20-80 days ago, the next one ahead.                -> not
  group           3-5 people only ever mailed together, every 7-30 days:
                  active -> not; lapsed -> the lapsed rule (same label for
                  every member).
  colleague_only  addresses that only colleagues wrote to (colleagues' mail
                  stored in the same Sent folder).                   -> not
  delegate        the leader's assistant: sends about half of the leader's
                  mail (From: the delegate, counts as the leader's) and is
                  written to often; never a contact.                 -> not
  colleague       the leader's colleagues who send that colleague mail; the
                  leader meets them only in all-hands meetings.      -> not

For every rhythm-based label the threshold is computed from both the nominal
period and the one the episodes actually show (touches within 5 days of an
episode's first touch are one episode), and a contact is neglected only when
it is over the larger one by 10%, "not" only when under the smaller one by
10%; in between it is ambiguous.  A contact that would be neglected but
never was a relationship (fewer than 3 episodes, or spread over less than
6 weeks) is "not" ("label it as what it is").  A raw silence within 2 days
of the 180-day horizon is ambiguous.  The labels are computed from the mail
and meetings actually written, not from the plan.

Also mixed in: automated and list recipients (listed under "automated"),
mail to big lists and all-hands meetings (> 25 people, weight 0), cancelled
meetings and meetings declined by the contact or by the leader (none of them
is contact), the leader's 2-3 vacations of 8-21 days with no mail and no
meeting at all (the last one ending 2-5 days before the reference date).
Silences are net of those vacations: net_silence_days is the raw silence
minus the vacation days inside it.

Every touch is a mail to at most 3 recipients or a meeting of at most 4
people (weight >= 0.5, DESIGN section 5), except for group and board mail.
"""
import argparse
import base64
import datetime as dt
import json
import os
import random
import statistics
import unicodedata

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
UTC = dt.timezone.utc
LOOKBACK = 365
DORMANT = 180
EPISODE_DAYS = 5
MIN_EPISODES = 3
MIN_SPAN = 42
BAND = 0.10          # +-10% around a threshold is ambiguous

FIRST = ["Ada", "Bruno", "Chloé", "Dmitri", "Eva", "Farah", "Günter", "Hana",
         "Ivan", "Júlia", "Kenji", "Lena", "Mateo", "Nadia", "Oskar", "Priya",
         "Quinn", "Rosa", "Søren", "Tariq", "Uma", "Viktor", "Wen", "Xavier",
         "Yara", "Zoë", "Amara", "Björn", "Carmen", "Diego", "Elif", "Femi",
         "Grace", "Hiroshi", "Ines", "José", "Kwame", "Leïla", "Marta", "Noor",
         "Olu", "Pilar", "Rafael", "Sakura", "Tomás", "Ulrike", "Vera", "Yusuf"]
LAST = ["Okafor", "Müller", "Nakamura", "Silva", "Kowalski", "O'Brien",
        "Haddad", "Jensen", "García", "Ivanova", "Chen", "Dubois", "Rossi",
        "Novak", "Andersen", "Patel", "Ferreira", "Lindqvist", "Yılmaz",
        "Kim", "Moreau", "Schmidt", "Costa", "Larsen", "Singh", "Mensah",
        "Takahashi", "Żak", "Nguyen", "Herrera", "Abara", "Berg", "Castillo"]
DOMAINS = ["example.com", "example.org", "client-a.example", "client-b.example",
           "partner.example.net", "fund.example", "university.example",
           "supplier.example", "agency.example", "gov.example"]
HOME_DOMAINS = ["home.example", "mail.example", "fastmail.example"]
LEADERS = [("Morgan Reyes", "morgan.reyes", "m.reyes"),
           ("Alex Lindgren", "alex.lindgren", "a.lindgren"),
           ("Sasha Adeyemi", "sasha.adeyemi", "s.adeyemi"),
           ("Robin Castellano", "robin.castellano", "r.castellano")]
LEADER_DOMAINS = ["northwind.example", "bluebay.example", "kestrel.example"]
DELEGATES = [("Jamie Ortiz", "jamie.ortiz"), ("Sam Okoro", "sam.okoro"),
             ("Pat Keller", "pat.keller")]
COLLEAGUES = [("Chris Fontaine", "chris.fontaine"), ("Dana Whitfield", "dana.whitfield"),
              ("Eli Marsh", "eli.marsh"), ("Fran Ito", "fran.ito")]
SUBJECTS = ["Quick question", "Catching up", "Q3 plan", "Budget draft",
            "Intro", "Next steps", "Follow-up from Tuesday", "Hiring",
            "Partnership", "Your proposal", "Lunch?", "Board prep", "Offsite",
            "Contract renewal", "Roadmap", "Thanks!", "Feedback", "Coffee next week",
            "Résumé review", "Customer escalation", "Pricing", "Introduction"]
PERIODS = [3, 5, 7, 10, 14, 21, 30, 45, 60, 90]
LAPSE_PERIODS = [3, 5, 7, 7, 10, 14, 14, 21, 21, 30, 30]
ZONES = [0, 0, 60, 120, -300, -240, -480, 330, 540, 600]


def days(x):
    return dt.timedelta(days=x)


def ymd(t):
    return t.date().isoformat()


def ascii_local(name):
    """A local part from a name: accents dropped, ASCII letters only."""
    name = name.lower().translate(str.maketrans({"ı": "i", "ø": "o", "ß": "ss",
                                                 "ł": "l", "'": ""}))
    name = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in name if ch.isascii() and (ch.isalnum() or ch == "."))


def encode_name(name, rng):
    """A display name as written in a header: RFC 2047 encoded now and then
    when it is not ASCII, quoted when it must be."""
    try:
        name.encode("ascii")
        return '"%s"' % name if any(c in name for c in "',.") else name
    except UnicodeEncodeError:
        r = rng.random()
        if r < 0.4:
            return "=?UTF-8?B?%s?=" % base64.b64encode(name.encode()).decode()
        if r < 0.7:
            q = "".join(c if c.isalnum() and ord(c) < 128 else "_" if c == " "
                        else "".join("=%02X" % b for b in c.encode()) for c in name)
            return "=?utf-8?q?%s?=" % q
        return '"%s"' % name      # raw UTF-8, as many clients write it


class Contact:
    def __init__(self, w, kind, domain=None):
        self.kind = kind
        self.idx = len(w.contacts)
        first, last = w.rng.choice(FIRST), w.rng.choice(LAST)
        self.name = "%s %s" % (first, last)
        self.first = first
        local = ascii_local("%s.%s" % (first, last))
        while local in w.locals:
            local += str(w.rng.randint(1, 9))
        w.locals.add(local)
        self.email = "%s@%s" % (local, domain or w.rng.choice(DOMAINS))
        # a second address, same local part and display name (auto-merged)
        self.alias = None
        if kind not in ("colleague_only", "delegate") and w.rng.random() < 0.07:
            self.alias = "%s@%s" % (local, w.rng.choice(HOME_DOMAINS))
        self.bare = self.alias is None and w.rng.random() < 0.08  # no display name
        self.period = None      # nominal rhythm in days (or mean gap)
        self.lapsed = False
        self.ended = None       # time the relationship was planned to stop
        self.mtg_share = 0.0
        self.note = ""
        self.first_t = None
        self.solo = False       # never put on someone else's mail
        w.contacts.append(self)
        w.by_addr[self.email] = self
        if self.alias:
            w.by_addr[self.alias] = self

    def header(self, w, use_alias=None):
        a = self.email
        if self.alias and (use_alias or (use_alias is None and w.rng.random() < 0.3)):
            a = self.alias
        if self.bare:
            return a
        return "%s <%s>" % (encode_name(self.name, w.rng), a)

    def cal(self, w):
        a = self.alias if self.alias and w.rng.random() < 0.3 else self.email
        return (self.name, a)


class World:
    def __init__(self, seed, end, ncontacts):
        self.rng = random.Random(seed)
        self.seed = seed
        self.ref = dt.datetime.fromisoformat(end).replace(hour=18, tzinfo=UTC)
        self.start = self.ref - days(LOOKBACK)
        self.ncontacts = ncontacts
        self.contacts, self.by_addr, self.locals = [], {}, set()
        self.mails, self.events = [], []
        self.mid = 0
        self.uid = 0
        rng = self.rng
        name, local, short = rng.choice(LEADERS)
        dom = rng.choice(LEADER_DOMAINS)
        self.domain = dom
        self.leader = (name, "%s@%s" % (local, dom))
        self.aliases = ["%s@%s" % (short, dom)]
        if rng.random() < 0.6:
            self.aliases.append("%s@%s" % (local.split(".")[0], rng.choice(HOME_DOMAINS)))
        dname, dlocal = rng.choice(DELEGATES)
        self.delegate_c = Contact(self, "delegate", dom)
        self.delegate_c.name = dname
        self.delegate_c.email = "%s@%s" % (dlocal, dom)
        self.by_addr = {self.delegate_c.email: self.delegate_c}
        self.delegate = (dname, self.delegate_c.email)
        self.own = {self.leader[1]} | set(self.aliases)
        self.colleagues = [(n, "%s@%s" % (l, dom)) for n, l in COLLEAGUES]
        token = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(20))
        self.automated = ["noreply@travel-booking.example",
                          "no-reply@accounts.saas.example",
                          "notifications@tracker.example",
                          "list@lists.industry.example",
                          "info@vendor.example", "support@saas.example",
                          "newsletter@magazine.example",
                          "calendar-notification@google.com",
                          "reply+%s@reply.github.com" % token]
        self.away = []          # [(start, end)) datetimes, whole UTC days
        self.make_away()

    # ---- time -----------------------------------------------------------

    def make_away(self):
        """2-3 vacations of 8-21 days; the last ends 2-5 days before the
        reference date."""
        rng = self.rng
        refday = self.ref.replace(hour=0)
        last_day = refday - days(rng.randint(2, 5))
        length = rng.randint(8, 21)
        stretches = [(last_day - days(length - 1), last_day + DAY)]
        for _ in range(rng.choice([1, 2])):
            for _try in range(50):
                length = rng.randint(8, 21)
                s = self.start.replace(hour=0) + days(rng.randint(25, 300))
                e = s + days(length)
                if all(e + days(30) < a or s > b + days(30) for a, b in stretches):
                    stretches.append((s, e))
                    break
        self.away = sorted(stretches)

    def in_away(self, t, margin=0.0):
        m = days(margin)
        return any(a - m <= t < b + m for a, b in self.away)

    def away_overlap(self, t0, t1):
        """Days of vacation inside [t0, t1]."""
        tot = 0.0
        for a, b in self.away:
            lo, hi = max(a, t0), min(b, t1)
            if hi > lo:
                tot += (hi - lo).total_seconds() / 86400
        return tot

    def raw_for_net(self, net):
        """The raw silence whose net silence (vacations taken out) is net."""
        raw = net
        for _ in range(20):
            raw = net + self.away_overlap(self.ref - days(raw), self.ref)
        return raw

    def workhour(self, day, lo=8.0, hi=18.0):
        d = day.replace(hour=0, minute=0, second=0, microsecond=0)
        return d + dt.timedelta(seconds=int(self.rng.uniform(lo, hi) * 3600))

    def settle(self, t, push=0.0):
        """A planned moment moved to a working hour, mostly on a weekday.
        None if it falls outside the history or in a vacation (with
        probability push it moves to just after the vacation instead)."""
        rng = self.rng
        wd = t.weekday()
        if wd == 5 and rng.random() < 0.8:
            t -= DAY
        elif wd == 6 and rng.random() < 0.8:
            t += DAY
        t = self.workhour(t)
        if t.date() == self.ref.date():
            t = self.workhour(t, 7.0, 17.5)
        if self.in_away(t):
            if rng.random() >= push:
                return None
            end = min(b for a, b in self.away if a <= t < b)
            t = self.workhour(end + days(rng.choice([0, 0, 1])))
        if t < self.start + HOUR or t > self.ref - 0.25 * HOUR:
            return None
        return t

    # ---- writing mail and meetings --------------------------------------

    def leader_from(self, delegate_share=0.5):
        r = self.rng.random()
        if r < delegate_share:
            return self.delegate
        if r < delegate_share + (1 - delegate_share) * 0.25:
            return (self.leader[0], self.rng.choice(self.aliases))
        return self.leader

    def mail(self, t, frm, to, cc=(), bcc=(), subject=None, thread=None,
             extra=()):
        """Store one message; to/cc/bcc are header strings."""
        assert t < self.ref, t
        self.mid += 1
        mid = "<%s.%d.%d@%s>" % (t.strftime("%Y%m%d%H%M%S"), self.seed, self.mid,
                                 frm[1].split("@")[1])
        if thread is not None:
            if thread.get("mids"):
                subject = "Re: " + thread["subject"]
            else:
                subject = thread["subject"]
        self.mails.append({"time": t, "from": frm, "to": list(to), "cc": list(cc),
                           "bcc": list(bcc), "subject": subject or self.rng.choice(SUBJECTS),
                           "mid": mid, "irt": list(thread.get("mids", [])) if thread else [],
                           "extra": list(extra)})
        if thread is not None:
            thread.setdefault("mids", []).append(mid)
        return mid

    def touch_mail(self, people, t, thread=None, extras=True):
        """A mail from the leader (or the delegate) to people (Contacts),
        at most 3 recipients in all, now and then with the delegate, an
        automated address or the leader's own address besides."""
        rng = self.rng
        frm = self.leader_from()
        to = [p.header(self) for p in people]
        cc, bcc = [], []
        n = len(people)
        if extras:
            r = rng.random()
            if frm == self.delegate and r < 0.3:
                cc.append("%s <%s>" % (self.leader[0], self.leader[1]))  # own: not counted
            elif n < 3 and r < 0.38 and frm != self.delegate:
                cc.append("%s <%s>" % self.delegate)
                n += 1
            elif n < 3 and r < 0.43:
                cc.append(rng.choice(self.automated))
                n += 1
            if rng.random() < 0.05:
                bcc.append(rng.choice([self.leader[1]] + self.aliases))
            if len(people) == 1 and rng.random() < 0.03 and not cc:
                # the person in Bcc only, the leader's own address in To
                bcc.append(to[0])
                to = ["%s <%s>" % (self.leader[0], self.leader[1])]
        assert n <= 3
        self.mail(t, frm, to, cc, bcc, thread=thread)

    def event(self, start, minutes, summary, organizer, attendees, rrule=None,
              exdates=(), status=None, allday=False, overrides=None):
        """attendees: [(name, addr, partstat, cutype or None)]."""
        self.uid += 1
        ev = {"uid": "%d-%d@cal.%s" % (self.seed, self.uid, self.domain),
              "start": start, "minutes": minutes, "summary": summary,
              "organizer": organizer, "attendees": list(attendees),
              "rrule": rrule, "exdates": sorted(exdates), "status": status,
              "allday": allday, "overrides": overrides or {}}
        self.events.append(ev)
        return ev

    def touch_meeting(self, people, t, minutes=30, summary=None):
        """A single meeting of the leader with people (at most 3 of them, so
        at most 4 participants with an organizing delegate)."""
        rng = self.rng
        assert len(people) <= 3
        att = [(p.name, p.cal(self)[1], rng.choice(["ACCEPTED"] * 5 + ["TENTATIVE"]), None)
               for p in people]
        t = t.replace(minute=rng.choice([0, 0, 30]), second=0, microsecond=0)
        summary = summary or "%s / %s" % (self.leader[0].split()[0],
                                          " / ".join(p.first for p in people))
        r = rng.random()
        if r < 0.15 and len(people) == 1:
            org = people[0].cal(self)
            att = [(self.leader[0], self.leader[1], "ACCEPTED", None)] + att[1:]
        elif r < 0.3:
            org = self.delegate
            att.append((self.leader[0], self.leader[1], "ACCEPTED", None))
        else:
            org = (self.leader[0], rng.choice([self.leader[1]] * 4 + self.aliases))
            if rng.random() < 0.4:
                att.append((self.leader[0], org[1], "ACCEPTED", None))
        if rng.random() < 0.25:
            att.append(("Room %d" % rng.randint(1, 9),
                        "room-%d@resource.%s" % (rng.randint(1, 9), self.domain),
                        "ACCEPTED", "ROOM"))
        if t >= self.ref - HOUR:
            t = self.ref - 2 * HOUR
        return self.event(t, minutes, summary, org, att)

    def touch(self, c, t, channel=None, thread=None):
        if channel is None:
            channel = "meeting" if self.rng.random() < c.mtg_share else "mail"
        if channel == "meeting":
            self.touch_meeting([c], t)
        else:
            people = [c]
            # now and then a second, steady and active person on the mail
            if self.rng.random() < 0.06:
                other = self.rng.choice(self.contacts)
                if other.kind == "steady" and other is not c and other.period <= 14 \
                        and not other.solo \
                        and other.first_t and other.first_t < t:
                    people.append(other)
            self.touch_mail(people, t, thread=thread)

    # ---- rhythms --------------------------------------------------------

    def steady_series(self, first, until, p, jitter=0.2):
        """Planned moments from first, every ~p days, while < until."""
        out, t = [], first
        while t < until:
            out.append(t)
            t += days(max(0.5 * p, self.rng.gauss(p, jitter * p)))
        return out

    def play(self, c, plan, push=0.4, followup=0.0, fixed_last=False):
        """Turn planned moments into touches of c (meeting or mail), with
        quick follow-ups; returns the touch times."""
        rng = self.rng
        done = []
        for i, t0 in enumerate(plan):
            last = fixed_last and i == len(plan) - 1
            t = self.settle(t0, 0.0 if last else push)
            if t is None and last:
                # the planned end fell in a vacation: the last touch is just
                # before it instead
                for a, b in self.away:
                    if a - DAY <= t0 < b + DAY:
                        t = self.settle(a - days(rng.choice([1, 2, 3])))
            if t is None:
                if c.mtg_share and self.in_away(self.workhour(t0)) and rng.random() < 0.3:
                    # a 1:1 that was cancelled for the vacation
                    ev = self.touch_meeting([c], self.workhour(t0))
                    ev["status"] = "CANCELLED"
                continue
            if done and t <= done[-1]:
                continue
            thread = None
            if followup and rng.random() < followup:
                thread = {"subject": rng.choice(SUBJECTS)}
            self.touch(c, t, "mail" if thread else None, thread=thread)
            done.append(t)
            if thread:
                t2 = self.settle(t + days(rng.uniform(1, 2)))
                if t2 and t2 > t and not (last and fixed_last):
                    self.touch_mail([c], t2, thread=thread)
                    done.append(t2)
        c.first_t = done[0] if done else None
        return done

    def lapse_end(self, threshold, clear=True):
        """The last touch of a lapsed rhythm: net silence clearly past the
        threshold (or, clear=False, just under it); raw under 180 days."""
        rng = self.rng
        if clear:
            net = threshold * (1 + 2 * BAND) + rng.uniform(0, threshold * 2 / 3)
        else:
            net = threshold * rng.uniform(0.65, 0.88)
        raw = self.raw_for_net(net)
        raw = min(raw, DORMANT - 7 - rng.uniform(0, 3))
        return self.ref - days(raw)


# ---- the kinds ------------------------------------------------------------

def make_steady(w, n):
    """Steady rhythms, active to the end: label not."""
    rng = w.rng
    final_away = w.away[-1][0]
    for i in range(n):
        c = Contact(w, "steady")
        c.period = p = rng.choice(PERIODS)
        c.mtg_share = rng.choice([0.0, 0.0, 0.0, 0.15, 0.3, 0.5])
        if i < 2:
            # weekly, last reached just before the final vacation: its net
            # silence is short, so still "not"
            c.period = p = 7
            first = w.start + days(rng.uniform(0, p))
            plan = w.steady_series(first, final_away - days(rng.uniform(0, 2)), p)
            c.note = "last reached just before the final vacation"
            c.solo = True
            w.play(c, plan, push=0.0)
            continue
        if rng.random() < 0.25:   # a relationship that began this year
            first = w.ref - days(rng.uniform(max(2 * p, 20), 200))
            c.note = "started mid-year"
        else:
            first = w.start + days(rng.uniform(0, p))
        followup = rng.choice([0.0, 0.0, 0.15, 0.3])
        w.play(c, w.steady_series(first, w.ref, p), followup=followup)


def make_lapsed(w, n):
    """Steady rhythms that stopped; most clearly past the threshold, about
    one in six just under it."""
    rng = w.rng
    for i in range(n):
        c = Contact(w, "lapsed")
        c.period = p = rng.choice(LAPSE_PERIODS)
        c.lapsed = True
        c.mtg_share = rng.choice([0.0, 0.0, 0.15, 0.3])
        clear = i % 6 != 5
        last = w.lapse_end(max(3 * p, 21), clear)
        c.note = "stopped" if clear else "paused, just under the threshold"
        if rng.random() < 0.7:
            first = w.start + days(rng.uniform(0, p))
        else:             # a shorter history, still >= 3 episodes over 6 weeks
            first = max(w.start + DAY, last - days(max(5 * p, 56) + rng.uniform(0, 60)))
        plan = w.steady_series(first, last - days(0.6 * p), p) + [last]
        followup = rng.choice([0.0, 0.15, 0.3])
        done = w.play(c, plan, followup=followup, fixed_last=True)
        c.ended = done[-1] if done else None


def make_irregular(w, n_active, n_lapsed):
    """Gamma-distributed gaps; active ones go on, lapsed ones stopped at
    more than 3 mean gaps ago."""
    rng = w.rng
    for i in range(n_active + n_lapsed):
        lapsed = i >= n_active
        c = Contact(w, "irregular")
        shape = rng.uniform(1.5, 2.5)
        mean = rng.uniform(14, 42 if lapsed else 60)
        c.period, c.shape, c.lapsed = mean, shape, lapsed
        c.mtg_share = rng.choice([0.0, 0.2, 0.4])
        gap = lambda: days(max(1.0, rng.gammavariate(shape, mean / shape)))
        if lapsed:
            net = mean * 3.6 + rng.uniform(0, 1.5 * mean)
            last = w.ref - days(min(w.raw_for_net(net), DORMANT - 8))
            plan, t = [], last
            while t > w.start:
                plan.insert(0, t)
                t -= gap()
            c.note = "stopped"
        else:
            plan, t = [], w.start + days(rng.uniform(0, mean))
            while t < w.ref:
                plan.append(t)
                t += gap()
        done = w.play(c, plan, push=0.3, fixed_last=lapsed)
        c.ended = done[-1] if lapsed and done else None


def make_threads(w, n):
    """One burst of 3-8 mails within 2-10 days, ended 3 weeks to 10 months
    ago; some threads have two of these people on them."""
    rng = w.rng
    made = 0
    while made < n:
        people = [Contact(w, "thread")]
        if n - made >= 2 and rng.random() < 0.25:
            people.append(Contact(w, "thread"))
        made += len(people)
        length = rng.uniform(2, 10)
        count = rng.randint(3, 8)
        for _try in range(40):
            end = w.ref - days(rng.uniform(21, 300))
            begin = end - days(length)
            if not any(w.in_away(begin + days(k), 0.5) for k in range(int(length) + 2)):
                break
        times = sorted([begin, end] + [begin + days(rng.uniform(0, length))
                                       for _ in range(count - 2)])
        thread = {"subject": rng.choice(SUBJECTS)}
        prev = None
        for t in times:
            t = w.workhour(t, 7.5, 20.0)
            if prev and t <= prev:
                t = prev + dt.timedelta(minutes=rng.randint(10, 90))
            if w.in_away(t) or t >= w.ref:
                continue
            w.touch_mail(people, t, thread=thread, extras=False)
            prev = t
        for c in people:
            c.ended = prev


def make_longgone(w, n):
    """A steady rhythm that stopped more than 180 days ago: dormant."""
    rng = w.rng
    for _ in range(n):
        c = Contact(w, "longgone")
        c.period = p = rng.choice([5, 7, 14, 21, 30])
        c.mtg_share = rng.choice([0.0, 0.2])
        raw = rng.uniform(DORMANT + 10, LOOKBACK - max(4 * p, 60))
        last = w.ref - days(raw)
        plan = w.steady_series(w.start + days(rng.uniform(0, p)), last - days(0.6 * p), p) + [last]
        done = w.play(c, plan, fixed_last=True)
        c.ended = done[-1] if done else None


def instances(ev, until):
    """The instances of an event as [(start, attendees, organizer, status)],
    recurrence expanded (weekly RRULE, EXDATE, RECURRENCE-ID overrides)."""
    out = []
    if not ev["rrule"]:
        return [(ev["start"], ev["attendees"], ev["organizer"], ev["status"])]
    interval, rend = ev["rrule"]
    k = 0
    while True:
        t = ev["start"] + days(7 * interval * k)
        k += 1
        if (rend and t > rend) or t > until:
            break
        if t in ev["exdates"]:
            continue
        o = ev["overrides"].get(t)
        if o:
            out.append((o["start"], o["attendees"], ev["organizer"], o["status"] or ev["status"]))
        else:
            out.append((t, ev["attendees"], ev["organizer"], ev["status"]))
    return out


def make_standing(w, n_running, n_ended):
    """Calendar-only standing 1:1s.  The first running one is the biweekly
    whose last instance is 1-6 days back and next 8-13 days ahead."""
    rng = w.rng
    last_vac_end = w.away[-1][1]
    for i in range(n_running + n_ended):
        running = i < n_running
        c = Contact(w, "standing")
        interval = 2 if i == 0 or rng.random() < 0.4 else 1
        c.period = 7 * interval
        c.interval = interval
        hour = rng.choice([9, 10, 11, 14, 15, 16])
        if i == 0:
            # an instance 1-6 days before the reference date, after the vacation
            ok = [d for d in range(1, 7)
                  if w.ref.replace(hour=0) - days(d) >= last_vac_end]
            wk = [d for d in ok if (w.ref - days(d)).weekday() < 5]
            d = rng.choice(wk or ok)
            anchor = (w.ref - days(d)).replace(hour=hour, minute=0, second=0, microsecond=0)
            c.note = "biweekly, next instance in %d days" % (14 - d)
        else:
            anchor = w.workhour(w.ref - days(rng.uniform(0, 7)))
            while anchor.weekday() >= 5:
                anchor -= DAY
            anchor = anchor.replace(hour=hour, minute=0, second=0, microsecond=0)
        step = days(7 * interval)
        # DTSTART: before the window for most, within it for some
        span = rng.uniform(370, 480) if rng.random() < 0.6 else rng.uniform(120, 300)
        k = int(span / (7 * interval))
        dtstart = anchor - k * step
        until = None
        if not running:
            weeks = rng.uniform(4, 12) if interval == 1 else rng.uniform(6, 16)
            until = anchor - int(weeks / interval) * step
            c.lapsed = True
            c.note = "ended %d weeks ago" % ((w.ref - until).days // 7)
        elif rng.random() < 0.2:
            until = w.ref + days(rng.randint(60, 200))   # an UNTIL in the future
        ev = w.event(dtstart, rng.choice([25, 30, 45]), "%s 1:1 %s" % (
            "Biweekly" if interval == 2 else "Weekly", c.first),
            (w.leader[0], rng.choice([w.leader[1]] * 3 + w.aliases)),
            [(c.name, c.email, "ACCEPTED", None)],
            rrule=(interval, until))
        # EXDATE for every instance inside a vacation
        ex = [t for t, *_ in instances(ev, w.ref + days(400)) if w.in_away(t)]
        # and the odd one the attendee skipped or was moved
        inst = [t for t, *_ in instances(ev, w.ref) if t >= w.start and t not in ex]
        ev["exdates"] = sorted(set(ex))
        if len(inst) > 8:
            if rng.random() < 0.5:
                t = rng.choice(inst[1:-3])
                moved = t + days(1)
                if not w.in_away(moved):
                    ev["overrides"][t] = {"start": moved, "attendees": ev["attendees"],
                                          "status": None}
            if rng.random() < 0.5:
                t = rng.choice(inst[1:-3])
                if t not in ev["overrides"]:
                    ev["overrides"][t] = {"start": t, "attendees": ev["attendees"],
                                          "status": "CANCELLED"}
            if rng.random() < 0.4:
                t = rng.choice(inst[1:-3])
                if t not in ev["overrides"]:
                    ev["overrides"][t] = {"start": t, "attendees": [
                        (c.name, c.email, "DECLINED", None)], "status": None}
        c.event = ev
        c.running = running
        c.ended = None if running else until


def make_board(w):
    """A board of 4-6: a quarterly meeting and its board pack by mail 3 days
    before; the last meeting 20-80 days ago, the next one ahead."""
    rng = w.rng
    members = [Contact(w, "board", rng.choice(["board.example", "fund.example",
                                                "example.org"]))
               for _ in range(rng.randint(4, 6))]
    for m in members:
        m.period = 91

    def ok(tm):   # a weekday, and neither it nor the pack's day in a vacation
        return tm.weekday() < 5 and not any(w.in_away(tm - days(x)) for x in range(4))

    def hour(t):
        return w.workhour(t, 9, 14).replace(minute=0, second=0, microsecond=0)
    for _try in range(500):
        last = hour(w.ref - days(rng.uniform(20, 80)))
        if ok(last):
            break
    meetings = [last]
    for k in (-1, 1, 2, 3, 4):
        t = last - days(91 * k)
        # move the meeting (and its pack) off weekends and vacations
        for off in (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7) + tuple(range(8, 40)):
            tm = hour(t + days(off))
            if ok(tm):
                break
        if tm - days(3) > w.start + HOUR:
            meetings.append(tm)
    for tm in sorted(meetings):
        att = [(m.name, m.cal(w)[1], "ACCEPTED", None) for m in members]
        if tm < w.ref and rng.random() < 0.5:   # one member sends regrets
            j = rng.randrange(len(att))
            att[j] = att[j][:2] + ("DECLINED", None)
        att.append(("Boardroom", "boardroom@resource.%s" % w.domain, "ACCEPTED", "ROOM"))
        org = rng.choice([w.leader, w.delegate])
        if org == w.delegate:
            att.append((w.leader[0], w.leader[1], "ACCEPTED", None))
        w.event(tm, 180, "Board meeting Q%d" % ((tm.month - 1) // 3 + 1), org, att)
        pack = w.workhour(tm - days(3))
        if pack < w.ref:
            to = [m.header(w) for m in members]
            w.mail(pack, rng.choice([w.leader, w.delegate]), to[:1], to[1:],
                   subject="Board pack for %s" % tm.strftime("%B %-d"))
    for m in members:
        m.ended = None


def make_groups(w, n_groups, n_lapsed):
    """3-5 people only ever mailed together; some groups lapse."""
    rng = w.rng
    for g in range(n_groups):
        lapsed = g >= n_groups - n_lapsed
        p = rng.choice([7, 10, 14, 21, 30])
        dom = rng.choice(DOMAINS)
        members = [Contact(w, "group", dom) for _ in range(rng.randint(3, 5))]
        topic = rng.choice(["Project Atlas", "Search committee", "Alumni council",
                            "Pilot steering", "Working group", "Advisory circle"])
        for m in members:
            m.period, m.lapsed, m.group = p, lapsed, g
        if lapsed:
            last = w.lapse_end(max(3 * p, 21))
            first = w.start + days(rng.uniform(0, p))
            plan = w.steady_series(first, last - days(0.6 * p), p) + [last]
        else:
            plan = w.steady_series(w.start + days(rng.uniform(0, p)), w.ref, p)
        done = []
        for i, t0 in enumerate(plan):
            t = w.settle(t0, push=0.3)
            if t is None and i == len(plan) - 1 and lapsed:
                t = w.settle(t0 - days(w.away_overlap(t0 - days(25), t0) + 2))
            if t is None or (done and t <= done[-1]):
                continue
            hdr = [m.header(w) for m in members]
            rng.shuffle(hdr)
            cut = rng.randint(1, 2)
            thread = {"subject": "%s: %s" % (topic, rng.choice(SUBJECTS))}
            w.mail(t, w.leader_from(0.3), hdr[:cut], hdr[cut:], thread=thread)
            done.append(t)
            if rng.random() < 0.2 and not (lapsed and i == len(plan) - 1):
                t2 = w.settle(t + days(rng.uniform(0.2, 1.5)))
                if t2 and t2 > t:
                    w.mail(t2, w.leader_from(0.3), hdr[:cut], hdr[cut:], thread=thread)
                    done.append(t2)
        for m in members:
            m.ended = done[-1] if lapsed and done else None


def colleague_mail(w, t, to, cc=()):
    rng = w.rng
    frm = rng.choice(w.colleagues)
    cc = list(cc)
    if rng.random() < 0.3:
        cc.append("%s <%s>" % w.leader)
    w.mail(t, frm, to, cc, extra=["Return-Path: <%s>" % frm[1]])


def make_colleague_only(w, n):
    """Addresses only colleagues write to: rhythms that look lapsed if a
    tool counted colleagues' mail as the leader's.  Plus colleagues' mail to
    the leader's real contacts (lapsed ones after the lapse in particular)."""
    rng = w.rng
    for _ in range(n):
        c = Contact(w, "colleague_only")
        c.period = p = rng.choice([7, 14, 21, 30])
        stop = w.ref - days(rng.uniform(40, 160))
        for t in w.steady_series(w.start + days(rng.uniform(0, p)), stop, p):
            t = w.settle(t)
            if t:
                colleague_mail(w, t, [c.header(w)])
    others = [c for c in w.contacts if c.kind in ("lapsed", "longgone", "thread", "irregular")
              and c.ended]
    for c in rng.sample(others, min(len(others), 15)):
        for _ in range(rng.randint(1, 4)):
            t = w.settle(c.ended + days(rng.uniform(2, (w.ref - c.ended).days - 1)))
            if t and t > c.ended:
                colleague_mail(w, t, [c.header(w)])
    for c in rng.sample([c for c in w.contacts if c.kind == "steady"], 8):
        t = w.settle(w.start + days(rng.uniform(0, 360)))
        if t:
            colleague_mail(w, t, [c.header(w)])


def make_delegate_mail(w):
    """The leader writes to the delegate 2-4 times a week."""
    rng = w.rng
    t = w.start + days(1)
    while t < w.ref:
        for _ in range(rng.randint(2, 4)):
            s = w.settle(t + days(rng.uniform(0, 7)))
            if s:
                cc = [rng.choice(w.automated)] if rng.random() < 0.05 else []
                w.mail(s, w.leader, ["%s <%s>" % w.delegate], cc,
                       subject=rng.choice(["Calendar", "Please book", "Travel",
                                           "Expenses", "Prep for tomorrow",
                                           "Can you move my 3pm?"]))
        t += days(7)


def make_automated(w):
    """Mail to automated, role and list addresses: never contacts."""
    rng = w.rng
    for _ in range(rng.randint(90, 140)):
        s = w.settle(w.start + days(rng.uniform(0, LOOKBACK)))
        if s:
            a = rng.choice(w.automated)
            to = [a] if rng.random() < 0.7 else ["Support <%s>" % a]
            w.mail(s, w.leader_from(0.3), to, subject=rng.choice(
                ["Re: Your booking", "Unsubscribe", "Re: [tracker] Issue 4711",
                 "Accepted: Weekly sync", "Re: ticket #3391", "Question about invoice"]))


def make_big(w):
    """All-hands meetings (> 25 people, weight 0) and announcements to
    8-40 people (weight < 0.5): interactions, never touches."""
    rng = w.rng
    people = [c for c in w.contacts if c.kind not in ("delegate",)]
    t = w.start + days(rng.uniform(3, 20))
    while t < w.ref + days(30):
        tm = w.workhour(t, 14, 17).replace(minute=0, second=0, microsecond=0)
        if w.ref < tm <= w.ref + days(8):
            # not in the coming week: whether an all-hands "books" a lapsed
            # contact (DESIGN section 6, booked is booked) is left open
            t += days(rng.uniform(26, 34))
            continue
        att = [(c.name, c.email, rng.choice(["ACCEPTED", "NEEDS-ACTION", "TENTATIVE"]), None)
               for c in rng.sample(people, rng.randint(30, 60))]
        att += [(n, a, "ACCEPTED", None) for n, a in w.colleagues]
        mine = "DECLINED" if w.in_away(tm) else "ACCEPTED"
        w.event(tm, 60, "All hands", w.colleagues[0],
                att + [(w.leader[0], w.leader[1], mine, None)])
        t += days(rng.uniform(26, 34))
    for _ in range(rng.randint(10, 16)):
        s = w.settle(w.start + days(rng.uniform(0, LOOKBACK)))
        if s:
            rcpt = [c.header(w) for c in rng.sample(people, rng.randint(8, 40))]
            w.mail(s, w.leader_from(0.5), rcpt[:2], rcpt[2:],
                   subject=rng.choice(["Update from the team", "Season's greetings",
                                       "Our new office", "Annual letter"]))


def make_not_contact_meetings(w):
    """Cancelled meetings, and meetings declined by the contact or by the
    leader, with lapsed contacts after their lapse (some in the coming
    week); an event the leader is not in at all.  None of them is contact."""
    rng = w.rng
    lapsed = [c for c in w.contacts if c.kind in ("lapsed", "irregular", "group") and c.ended]
    for c in rng.sample(lapsed, min(len(lapsed), 12)):
        lo = c.ended + days(3)
        for kind in rng.sample(["cancelled", "declined", "leader-declined",
                                "not-mine", "future-cancelled", "future-declined"], 2):
            if kind.startswith("future"):
                t = w.workhour(w.ref + days(rng.randint(1, 6)))
            else:
                if (w.ref - lo).days < 2:
                    continue
                t = w.workhour(lo + days(rng.uniform(0, (w.ref - lo).days - 1)))
                if t >= w.ref - HOUR:
                    continue
            me = (w.leader[0], w.leader[1])
            if kind in ("cancelled", "future-cancelled"):
                w.event(t, 30, "Catch up %s" % c.first, me,
                        [(c.name, c.email, "ACCEPTED", None)], status="CANCELLED")
            elif kind in ("declined", "future-declined"):
                w.event(t, 30, "Coffee %s" % c.first, me,
                        [(c.name, c.email, "DECLINED", None)])
            elif kind == "leader-declined":
                w.event(t, 30, "%s <> %s" % (c.first, me[0].split()[0]),
                        (c.name, c.email),
                        [(me[0], me[1], "DECLINED", None)])
            else:
                w.event(t, 30, "%s / %s" % (w.colleagues[1][0], c.first), w.colleagues[1],
                        [(c.name, c.email, "ACCEPTED", None)])


def make_coming_up(w):
    """A few meetings in the coming week with active steady contacts, and
    out-of-office all-day blocks for the vacations (no attendees)."""
    rng = w.rng
    steady = [c for c in w.contacts if c.kind == "steady"]
    for c in rng.sample(steady, 3):
        t = w.workhour(w.ref + days(rng.randint(1, 6))).replace(minute=0, second=0, microsecond=0)
        w.event(t, 30, "Lunch with %s" % c.first, w.leader,
                [(c.name, c.email, "ACCEPTED", None)])
    for a, b in w.away:
        w.event(a, 0, "Out of office", w.leader, [], allday=(b - a).days)


# ---- ground truth -----------------------------------------------------------

def touches(w):
    """Touch times per contact, from what was written (DESIGN section 5):
    the leader's mail and meetings in the window, weight >= 0.5.  Also
    checks that the leader's vacations are empty."""
    own = w.own
    leaderish = own | {w.delegate[1]}
    out = {id(c): [] for c in w.contacts}
    mine = []

    def addr_of(h):
        return h[h.index("<") + 1:h.index(">")].lower() if "<" in h else h.lower()
    for m in w.mails:
        if m["from"][1] not in leaderish:
            continue
        mine.append(m["time"])
        rcpt = {addr_of(h) for h in m["to"] + m["cc"] + m["bcc"]} - own
        n = len(rcpt)
        if n == 0 or min(1, 3 / n) < 0.5:
            continue
        for a in rcpt:
            if a in w.by_addr:
                c = w.by_addr[a]
                assert n <= 3 or c.kind in ("group", "board", "delegate"), (c.kind, m["subject"])
                out[id(c)].append(m["time"])
    for ev in w.events:
        for t, att, org, status in instances(ev, w.ref):
            if status == "CANCELLED" or t > w.ref or t < w.start:
                continue
            in_it = org[1] in own or any(a in own and s != "DECLINED"
                                         for _, a, s, _cu in att)
            if not in_it:
                continue
            people = {org[1]} | {a for _, a, s, cu in att if s != "DECLINED" and not cu}
            people -= own
            if not people:
                continue
            mine.append(t)
            n = len(people)
            if n > 25 or 2 * min(1, 4 / n) < 0.5:
                continue
            for a in people:
                if a in w.by_addr:
                    c = w.by_addr[a]
                    assert n <= 4 or c.kind in ("board", "delegate"), (c.kind, ev["summary"])
                    out[id(c)].append(t)
    for t in mine:
        assert not w.in_away(t), ("leader active while away", t)
    return {k: sorted(v) for k, v in out.items()}, sorted(mine)


def episodes(times):
    eps = []
    for t in times:
        if eps and t - eps[-1][0] <= days(EPISODE_DAYS):
            eps[-1].append(t)
        else:
            eps.append([t])
    return eps


def rhythm_verdict(w, c, T, N, raw, rel, what):
    """The lapsed rule: T is (low, high) threshold in days."""
    lo, hi = T
    thr = ("%.0fd" % lo) if abs(hi - lo) < 0.5 else "%.0f-%.0fd" % (lo, hi)
    if N < (1 - BAND) * lo:
        return "not", "%s; net silence %.0fd under the threshold %s" % (what, N, thr)
    if N < (1 + BAND) * hi:
        return "ambiguous", "%s; net silence %.0fd within 10%% of the threshold %s" % (what, N, thr)
    if raw >= DORMANT - 2:
        return "ambiguous", "%s; %.0fd silent, at or past the 180-day horizon" % (what, raw)
    if not rel[0]:
        if rel[1]:
            return "ambiguous", "%s; net silence %.0fd past %s, but barely a relationship (%s)" % (
                what, N, thr, rel[2])
        return "not", "%s; silent %.0fd but never a relationship (%s)" % (what, N, rel[2])
    return "neglected", "%s; net silence %.0fd past the threshold %s, raw %.0fd < 180" % (
        what, N, thr, raw)


def judge(w, c, times):
    """(label, why) for one contact from its touch times."""
    eps = episodes(times)
    starts = [e[0] for e in eps]
    gaps = [(b - a).total_seconds() / 86400 for a, b in zip(starts, starts[1:])]
    span = (times[-1] - times[0]).total_seconds() / 86400 if times else 0
    rel_ok = len(eps) >= MIN_EPISODES and span >= MIN_SPAN
    borderline = len(eps) >= MIN_EPISODES and abs(span - MIN_SPAN) <= 3
    rel = (rel_ok, borderline, "%d episodes over %.0fd" % (len(eps), span))
    last = times[-1] if times else None
    raw = (w.ref - last).total_seconds() / 86400 if last else None
    N = raw - w.away_overlap(last, w.ref) if last else None
    k = c.kind
    if k == "delegate":
        return "not", "the leader's delegate: never a contact"
    if k == "colleague_only":
        return "not", "only colleagues wrote to them; the leader never did"
    if not times:
        return "not", "never touched by the leader"
    if k == "thread":
        assert not rel_ok
        return "not", "one thread (%s), ended %.0fd ago" % (rel[2], raw)
    if k == "board":
        return "not", "quarterly board rhythm; last meeting %.0fd ago, the next one ahead" % raw
    if k == "longgone":
        if raw > DORMANT + 2:
            return "ambiguous", "silent %.0fd, past the 180-day horizon (dormant)" % raw
    if k == "standing" and c.running:
        return "not", "standing %s 1:1 still running (last %.0fd ago)" % (
            "biweekly" if c.interval == 2 else "weekly", raw)
    if k == "irregular":
        mean_real = statistics.mean(gaps) if gaps else c.period
        m_lo, m_hi = sorted([c.period, mean_real])
        what = "irregular, mean gap %.0f-%.0fd" % (m_lo, m_hi)
        if not c.lapsed:
            if N <= 2 * m_lo:
                return "not", "%s, active; net silence %.0fd <= 2 x mean" % (what, N)
            return "ambiguous", "%s, active; net silence %.0fd > 2 x mean, unusual even for it" % (
                what, N)
        if N >= 3 * m_hi and N > max(gaps or [0]) and raw < DORMANT - 2 and rel_ok:
            return "neglected", "%s, lapsed; net silence %.0fd >= 3 x mean" % (what, N)
        if N <= 2 * m_lo:
            return "not", "%s; net silence %.0fd <= 2 x mean" % (what, N)
        return "ambiguous", "%s, lapsed; net silence %.0fd not clearly past 3 x mean (%s)" % (
            what, N, rel[2])
    # steady, lapsed, standing (ended), group, longgone within the horizon
    ps = [c.period]
    if len(gaps) >= 2:
        ps.append(statistics.median(gaps))
    T = (max(3 * min(ps), 21), max(3 * max(ps), 21))
    what = "%s, every ~%.0fd" % ({"standing": "ended standing 1:1", "group": "group",
                                   "lapsed": "lapsed rhythm", "steady": "steady rhythm",
                                   "longgone": "long-gone rhythm"}[k], c.period)
    return rhythm_verdict(w, c, T, N, raw, rel, what)


# ---- output -------------------------------------------------------------------

def fmt_date(t, rng):
    off = rng.choice(ZONES)
    lt = t.astimezone(dt.timezone(dt.timedelta(minutes=off)))
    sign = "+" if off >= 0 else "-"
    return lt.strftime("%a, %d %b %Y %H:%M:%S ") + "%s%02d%02d" % (
        sign, abs(off) // 60, abs(off) % 60)


def body(rng):
    lines = ["Hi,", "",
             rng.choice(["Thanks for the note.", "Following up on our conversation.",
                         "Quick one:", "As promised, here it is.",
                         "Could we find time next week?", "Sharing the draft below."]),
             rng.choice(["Let me know what you think.", "Happy to discuss.",
                         "More soon.", "Talk then."]), "", "Best,"]
    return "\r\n".join(lines) + "\r\n"


def write_maildir(w, out):
    rng = w.rng
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    w.mails.sort(key=lambda m: m["time"])
    for i, m in enumerate(w.mails):
        frm = m["from"]
        hdr = ["Return-Path: <%s>" % frm[1]] if not m["extra"] else list(m["extra"])
        hdr += ["Message-ID: %s" % m["mid"],
                "Date: %s" % fmt_date(m["time"], rng),
                "From: %s <%s>" % (encode_name(frm[0], rng), frm[1]),
                "To: %s" % ",\r\n ".join(m["to"])]
        if m["cc"]:
            hdr.append("Cc: %s" % ",\r\n ".join(m["cc"]))
        if m["bcc"]:
            hdr.append("Bcc: %s" % ", ".join(m["bcc"]))
        subj = m["subject"]
        try:
            subj.encode("ascii")
        except UnicodeEncodeError:
            subj = "=?UTF-8?B?%s?=" % base64.b64encode(subj.encode()).decode()
        hdr.append("Subject: %s" % subj)
        if m["irt"]:
            hdr.append("In-Reply-To: %s" % m["irt"][-1])
            hdr.append("References: %s" % " ".join(m["irt"][-3:]))
        hdr += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 8bit"]
        raw = ("\r\n".join(hdr) + "\r\n\r\n" + body(rng)).encode()
        sub = "new" if i % 12 == 0 else "cur"
        name = "%d.M%dP%d.lifelike" % (int(m["time"].timestamp()), i, 31337)
        if sub == "cur":
            name += ":2,S"
        with open(os.path.join(out, sub, name), "wb") as f:
            f.write(raw)


def fold(line):
    """RFC 5545 folding at 75 octets, never inside a UTF-8 sequence."""
    b = line.encode()
    if len(b) <= 75:
        return [line]
    parts, cur, limit = [], b"", 75
    for ch in line:
        e = ch.encode()
        if len(cur) + len(e) > limit:
            parts.append(cur.decode())
            cur, limit = b"", 74
        cur += e
    parts.append(cur.decode())
    return [parts[0]] + [" " + p for p in parts[1:]]


def ics_text(s):
    return s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


def ics_time(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


def vevent(w, ev, recurrence_id=None, o=None):
    start = o["start"] if o else ev["start"]
    lines = ["BEGIN:VEVENT", "UID:%s" % ev["uid"], "DTSTAMP:%s" % ics_time(w.ref - days(30))]
    if recurrence_id:
        lines.append("RECURRENCE-ID:%s" % ics_time(recurrence_id))
    if ev["allday"]:
        lines += ["DTSTART;VALUE=DATE:%s" % start.strftime("%Y%m%d"),
                  "DTEND;VALUE=DATE:%s" % (start + days(ev["allday"])).strftime("%Y%m%d"),
                  "TRANSP:TRANSPARENT"]
    else:
        lines += ["DTSTART:%s" % ics_time(start),
                  "DTEND:%s" % ics_time(start + dt.timedelta(minutes=ev["minutes"]))]
    lines.append("SUMMARY:%s" % ics_text(ev["summary"]))
    status = (o or ev)["status"]
    if status:
        lines.append("STATUS:%s" % status)
    org = ev["organizer"]
    if ev["attendees"] or not ev["allday"]:
        lines.append('ORGANIZER;CN="%s":mailto:%s' % (org[0], org[1]))
    for name, a, stat, cutype in (o or ev)["attendees"]:
        cu = ";CUTYPE=%s" % cutype if cutype else ""
        role = "NON-PARTICIPANT" if cutype else "REQ-PARTICIPANT"
        lines.append('ATTENDEE;CN="%s"%s;ROLE=%s;PARTSTAT=%s:mailto:%s' % (
            name, cu, role, stat, a))
    if ev["rrule"] and not recurrence_id:
        interval, until = ev["rrule"]
        r = "RRULE:FREQ=WEEKLY;INTERVAL=%d" % interval
        if until:
            r += ";UNTIL=%s" % ics_time(until)
        lines.append(r)
        if ev["exdates"]:
            lines.append("EXDATE:%s" % ",".join(ics_time(t) for t in ev["exdates"]))
    lines.append("END:VEVENT")
    return lines


def write_calendar(w, path):
    cal = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//digest bench//lifelike//EN",
           "CALSCALE:GREGORIAN"]
    for ev in sorted(w.events, key=lambda e: e["start"]):
        cal += vevent(w, ev)
        for rid, o in sorted(ev["overrides"].items()):
            cal += vevent(w, ev, rid, o)
    cal.append("END:VCALENDAR")
    with open(path, "w", newline="", encoding="utf-8") as f:
        for line in cal:
            for part in fold(line):
                f.write(part + "\r\n")


def build(seed, end, ncontacts):
    w = World(seed, end, ncontacts)
    N = ncontacts
    share = lambda f, lo: max(lo, round(f * N))
    make_steady(w, share(0.40, 12))
    make_lapsed(w, share(0.18, 6))
    make_irregular(w, share(0.08, 3), share(0.03, 2))
    make_threads(w, share(0.08, 3))
    make_longgone(w, share(0.03, 2))
    make_standing(w, share(0.024, 2), share(0.012, 2))
    make_board(w)
    make_groups(w, share(0.02, 3), share(0.008, 1))
    make_colleague_only(w, share(0.04, 3))
    make_delegate_mail(w)
    make_automated(w)
    make_big(w)
    make_not_contact_meetings(w)
    make_coming_up(w)
    return w


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--end", default="2026-11-27")
    ap.add_argument("--contacts", type=int, default=250)
    a = ap.parse_args()
    w = build(a.seed, a.end, a.contacts)
    tt, mine = touches(w)
    # the leader resumes within two days after each vacation
    for s, e in w.away:
        after = [t for t in mine if t >= e]
        assert after and after[0] - e <= days(2), ("no contact after vacation", e)
    contacts = []
    for name, addr in w.colleagues:
        contacts.append({
            "name": name, "email": addr, "alias": None, "kind": "colleague",
            "label": "not", "period_days": None, "touch_days": 0, "episodes": 0,
            "last_touch": None, "silence_days": None, "net_silence_days": None,
            "why": "a colleague: sends the colleague mail, seen only in all-hands "
                   "meetings (weight 0)", "touch_dates": []})
    for c in w.contacts:
        times = [t for t in tt[id(c)] if w.start <= t <= w.ref]
        label, why = judge(w, c, times)
        last = times[-1] if times else None
        raw = (w.ref - last).total_seconds() / 86400 if last else None
        net = raw - w.away_overlap(last, w.ref) if last else None
        contacts.append({
            "name": c.name, "email": c.email, "alias": c.alias, "kind": c.kind,
            "label": label,
            "period_days": round(c.period, 1) if c.period else None,
            "touch_days": len({ymd(t) for t in times}),
            "episodes": len(episodes(times)),
            "last_touch": ymd(last) if last else None,
            "silence_days": round(raw, 1) if raw is not None else None,
            "net_silence_days": round(net, 1) if net is not None else None,
            "why": why + ("; " + c.note if c.note else ""),
            "touch_dates": sorted({ymd(t) for t in times}),
        })
    os.makedirs(a.outdir, exist_ok=True)
    write_maildir(w, os.path.join(a.outdir, "Sent"))
    write_calendar(w, os.path.join(a.outdir, "calendar.ics"))
    kinds = {}
    for c in contacts:
        kinds.setdefault(c["kind"], {}).setdefault(c["label"], 0)
        kinds[c["kind"]][c["label"]] += 1
    truth = {
        "generator": "lifelike", "seed": a.seed, "reference_date": a.end,
        "leader": {"name": w.leader[0], "email": w.leader[1], "aliases": w.aliases,
                   "delegates": [w.delegate[1]]},
        "colleagues": [x[1] for x in w.colleagues],
        "automated": w.automated,
        "away": [[ymd(s), ymd(e - DAY)] for s, e in w.away],
        "messages": len(w.mails), "events": len(w.events),
        "kinds": kinds,
        "contacts": contacts,
    }
    with open(os.path.join(a.outdir, "truth.json"), "w", encoding="utf-8") as f:
        json.dump(truth, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
