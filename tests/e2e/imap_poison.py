#!/usr/bin/env python3
"""An IMAPS relay for the e2e tests that spoils one message's FETCH response.

    imap_poison.py --listen PORT --to PORT --cert PEM --key PEM --ca PEM
                   --uid N [--nil]

Terminates TLS towards the client with the test's certificate, speaks TLS
to the real server (Dovecot, trusting the test's CA), and relays both
ways unchanged, except the untagged FETCH response carrying UID N: it
gets an extra "(" after "FETCH", a response a strict parser rejects
while the literal that follows keeps the stream in step; or with --nil
its header literal becomes NIL, as a server says it has none.  Each
rewrite is logged to stdout as "poisoned UID N".  Prints "ready" once it listens.
Standard library only.
"""
import argparse
import re
import socket
import ssl
import threading


def relay(raw, args, server_ctx, client_ctx):
    try:
        client = server_ctx.wrap_socket(raw, server_side=True)
        up = client_ctx.wrap_socket(
            socket.create_connection(("127.0.0.1", args.to)),
            server_hostname="127.0.0.1")
    except (OSError, ssl.SSLError):
        raw.close()
        return
    fetch = re.compile(rb"^\* \d+ FETCH \(UID %d " % args.uid)

    def close_both():
        for s in (up, client):
            try:
                s.close()
            except OSError:
                pass

    def to_server():
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                up.sendall(data)
        except (OSError, ssl.SSLError):
            pass
        close_both()

    def to_client():
        f = up.makefile("rb")
        try:
            while True:
                line = f.readline()
                if not line:
                    break
                m = re.search(rb"\{(\d+)\}\r\n$", line)
                if fetch.match(line):
                    print("poisoned UID %d" % args.uid, flush=True)
                    if args.nil and m:
                        # "... BODY[HEADER] {n}" + n bytes + ")": NIL.
                        client.sendall(line[:m.start()] + b"NIL")
                        f.read(int(m.group(1)))
                        continue
                    line = line.replace(b"FETCH (", b"FETCH ((", 1)
                client.sendall(line)
                if m:
                    client.sendall(f.read(int(m.group(1))))
        except (OSError, ssl.SSLError):
            pass
        close_both()

    threading.Thread(target=to_server, daemon=True).start()
    threading.Thread(target=to_client, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--to", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--uid", type=int, required=True)
    ap.add_argument("--nil", action="store_true")
    args = ap.parse_args()
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(args.cert, args.key)
    client_ctx = ssl.create_default_context(cafile=args.ca)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.listen))
    ls.listen(8)
    print("ready", flush=True)
    while True:
        raw, _ = ls.accept()
        threading.Thread(target=relay, args=(raw, args, server_ctx,
                                             client_ctx), daemon=True).start()


if __name__ == "__main__":
    main()
