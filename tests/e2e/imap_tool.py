#!/usr/bin/env python3
"""Set up and inspect the e2e tests' Dovecot (imap_server.sh) over IMAPS.

usage: imap_tool.py [--host H] --port P --ca CA --user U --password PW CMD ...

  append --folder F [--seen] FILE...   APPEND each RFC 822 file (with \\Seen
                                        when --seen), INTERNALDATE from its
                                        Date header; prints the new UIDs
  flags --folder F                      "UID FLAGS" per message, read-only
                                        (EXAMINE); \\Recent left out
  recreate --folder F                   DELETE and CREATE F (new UIDVALIDITY)
  uidvalidity --folder F                print F's UIDVALIDITY
  list [--special-use]                  LIST "" "*" (RETURN (SPECIAL-USE)):
                                        the raw lines
  xoauth2 --token T                     AUTHENTICATE XOAUTH2 as --user
  oauthbearer --token T                 AUTHENTICATE OAUTHBEARER as --user
  login                                 LOGIN with --password

Implicit TLS, certificate checked against --ca and the host name.  Exit 0
on success, 1 when the server said NO/BAD (xoauth2, oauthbearer, login:
authentication refused), 2 on a usage or connection error.
"""
import argparse
import email.utils
import imaplib
import re
import ssl
import sys
import time


def quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(args):
    ctx = ssl.create_default_context(cafile=args.ca)
    return imaplib.IMAP4_SSL(args.host, args.port, ssl_context=ctx, timeout=30)


def login(args):
    imap = connect(args)
    imap.login(args.user, args.password)
    return imap


def check(typ, data, what):
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what}: {typ} {data}")
    return data


def internaldate(msg):
    m = re.search(rb"^Date:[ \t]*(.*(?:\r?\n[ \t].*)*)", msg, re.M | re.I)
    if m:
        try:
            when = email.utils.parsedate_to_datetime(m.group(1).decode("ascii", "replace"))
            if when.tzinfo is not None:
                return when
        except (TypeError, ValueError):
            pass
    return time.time()


def cmd_append(args):
    imap = login(args)
    for path in args.files:
        with open(path, "rb") as f:
            msg = f.read()
        msg = re.sub(rb"\r?\n", b"\r\n", msg)
        typ, data = imap.append(quote(args.folder), r"(\Seen)" if args.seen else None,
                                internaldate(msg), msg)
        check(typ, data, f"APPEND {path}")
        m = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
        print(m.group(1).decode() if m else "?")
    imap.logout()


def cmd_flags(args):
    imap = login(args)
    check(*imap.select(quote(args.folder), readonly=True), f"EXAMINE {args.folder}")
    typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
    check(typ, data, "UID FETCH")
    rows = []
    for item in data:
        if not item:
            continue
        line = item if isinstance(item, bytes) else item[0]
        uid = re.search(rb"UID (\d+)", line)
        flags = re.search(rb"FLAGS \(([^)]*)\)", line)
        if uid and flags:
            names = [f for f in flags.group(1).decode().split() if f != "\\Recent"]
            rows.append((int(uid.group(1)), " ".join(sorted(names))))
    for uid, flags in sorted(rows):
        print(f"{uid} {flags}".rstrip())
    imap.logout()


def cmd_recreate(args):
    imap = login(args)
    check(*imap.delete(quote(args.folder)), f"DELETE {args.folder}")
    check(*imap.create(quote(args.folder)), f"CREATE {args.folder}")
    imap.logout()


def cmd_uidvalidity(args):
    imap = login(args)
    typ, data = imap.status(quote(args.folder), "(UIDVALIDITY)")
    check(typ, data, f"STATUS {args.folder}")
    print(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1).decode())
    imap.logout()


def cmd_list(args):
    imap = login(args)
    if args.special_use:
        typ, data = imap._simple_command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
        typ, data = imap._untagged_response(typ, data, "LIST")
    else:
        typ, data = imap.list()
    check(typ, data, "LIST")
    for line in data:
        print(line.decode() if isinstance(line, bytes) else line[0].decode())
    imap.logout()


def sasl(args, mech, first, after_error):
    imap = connect(args)
    steps = iter([first, after_error])

    def step(_challenge):
        return next(steps, None)

    try:
        imap.authenticate(mech, step)
    except imaplib.IMAP4.error as e:
        print(f"{mech}: {e}", file=sys.stderr)
        return 1
    check(*imap.select("INBOX", readonly=True), "EXAMINE INBOX")
    imap.logout()
    print(f"{mech}: OK")
    return 0


def cmd_xoauth2(args):
    # On failure Dovecot sends a JSON error as a challenge; the client
    # answers it with an empty response and then gets the NO.
    first = f"user={args.user}\x01auth=Bearer {args.token}\x01\x01".encode()
    return sasl(args, "XOAUTH2", first, b"")


def cmd_oauthbearer(args):
    first = (f"n,a={args.user},\x01host={args.host}\x01port={args.port}\x01"
             f"auth=Bearer {args.token}\x01\x01").encode()
    return sasl(args, "OAUTHBEARER", first, b"\x01")


def cmd_login(args):
    imap = connect(args)
    try:
        imap.login(args.user, args.password)
    except imaplib.IMAP4.error as e:
        print(f"LOGIN: {e}", file=sys.stderr)
        return 1
    imap.logout()
    print("LOGIN: OK")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--user", default="alex")
    ap.add_argument("--password", default="s3cret")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("append")
    p.add_argument("--folder", required=True)
    p.add_argument("--seen", action="store_true")
    p.add_argument("files", nargs="+")
    for name in ("flags", "recreate", "uidvalidity"):
        sub.add_parser(name).add_argument("--folder", required=True)
    sub.add_parser("list").add_argument("--special-use", action="store_true")
    for name in ("xoauth2", "oauthbearer"):
        sub.add_parser(name).add_argument("--token", required=True)
    sub.add_parser("login")
    args = ap.parse_args()
    try:
        return globals()["cmd_" + args.cmd](args) or 0
    except (imaplib.IMAP4.error, OSError, ssl.SSLError) as e:
        print(f"imap_tool {args.cmd}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
