#!/usr/bin/env python3
"""smtp_server.py -- a small SMTP server for digest's tests (Debian
python3-aiosmtpd).

    smtp_server.py --port N --mode starttls|tls --cert CERT --key KEY
                   --user U --password P --maildir DIR [--fail-rcpt]
                   [--data-delay SECONDS]

Listens on 127.0.0.1 only.  --mode starttls offers STARTTLS and refuses
MAIL and AUTH before it; --mode tls speaks TLS from the first byte.  AUTH
(PLAIN or LOGIN, with U and P) is required before MAIL and only offered
over TLS.  Each accepted message is written to DIR/N.eml (N = 1, 2, ...:
the DATA bytes as received, after dot-unstuffing) and its envelope to
DIR/N.envelope ("MAIL FROM" line, then one line per recipient).
--fail-rcpt answers 451 to every RCPT; a recipient whose address starts
with "reject" always gets 550.  --data-delay S (the crash trials of
tests/crash) waits S seconds after the end of DATA before keeping the
message, and S more after keeping it before answering 250: a client
killed in the first wait delivered nothing, one killed in the second
delivered a message it never heard accepted.  Prints "ready" on stdout
once listening; exits on SIGTERM or SIGINT.
"""
import argparse
import asyncio
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, maildir, fail_rcpt, data_delay=0.0):
        self.maildir = maildir
        self.fail_rcpt = fail_rcpt
        self.data_delay = data_delay

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if self.fail_rcpt:
            return "451 4.3.0 Try again later"
        if address.lower().startswith("reject"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # aiosmtpd cancels this coroutine when the client goes away: a
        # client killed during the first sleep leaves nothing behind.
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        n = 1
        while os.path.exists(os.path.join(self.maildir, f"{n}.eml")):
            n += 1
        base = os.path.join(self.maildir, str(n))
        with open(base + ".envelope.tmp", "w", encoding="utf-8") as f:
            f.write(envelope.mail_from + "\n")
            for r in envelope.rcpt_tos:
                f.write(r + "\n")
        os.rename(base + ".envelope.tmp", base + ".envelope")
        # Written under a temporary name, so a reader never sees half.
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return f"250 OK queued as {n}"


def main():
    ap = argparse.ArgumentParser(description="SMTP server for tests")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=("starttls", "tls"), required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--fail-rcpt", action="store_true")
    ap.add_argument("--data-delay", type=float, default=0.0)
    args = ap.parse_args()
    # aiosmtpd warns on every implicit-TLS connection (auth_require_tls off).
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Requiring AUTH while not")

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    handler = Handler(args.maildir, args.fail_rcpt, args.data_delay)
    user = args.user.encode()
    password = args.password.encode()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user
              and auth_data.password == password)
        return AuthResult(success=ok, handled=False)

    def factory():
        if args.mode == "starttls":
            return SMTP(handler, hostname="localhost", tls_context=ctx,
                        require_starttls=True, auth_required=True,
                        auth_require_tls=True, authenticator=authenticator)
        # Implicit TLS: aiosmtpd does not count it as TLS for
        # auth_require_tls, but every byte is encrypted anyway.
        return SMTP(handler, hostname="localhost", auth_required=True,
                    auth_require_tls=False, authenticator=authenticator)

    async def serve():
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        server = await loop.create_server(
            factory, host="127.0.0.1", port=args.port,
            ssl=ctx if args.mode == "tls" else None)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print("ready", flush=True)
        await stop.wait()
        server.close()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
