#!/usr/bin/env python3
"""A token-introspection endpoint (RFC 7662 style) for Dovecot's oauth2
passdb in the e2e tests.

usage: oauth_introspect.py --tokens FILE --port-file FILE [--log FILE]

Listens on 127.0.0.1 on a port of the kernel's choice and writes that
port to --port-file once it accepts connections.  --tokens holds lines
"TOKEN USER" and is read again on every request, so a test can revoke a
token by rewriting it.  The token is taken from a POST form field
token=... (Dovecot's introspection_mode = post), from the query
?token=... (mode get) or from "Authorization: Bearer ..." (mode auth).
A known token gets 200 {"active": true, "username": USER, ...}; any
other token 200 {"active": false}; a request without a token 400.
Each request is logged to --log as "METHOD PATH token=TOKEN RESULT".
"""
import argparse
import json
import os
import signal
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    args = ap.parse_args()

    def known_tokens():
        tokens = {}
        with open(args.tokens, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    tokens[parts[0]] = parts[1]
        return tokens

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def token(self):
            url = urllib.parse.urlsplit(self.path)
            fields = urllib.parse.parse_qs(url.query)
            if self.command == "POST":
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("utf-8", "replace")
                fields.update(urllib.parse.parse_qs(body))
            if fields.get("token"):
                return fields["token"][0]
            auth = self.headers.get("Authorization", "")
            if auth.lower().startswith("bearer "):
                return auth[7:].strip()
            return None

        def answer(self):
            tok = self.token()
            if tok is None:
                code, doc, result = 400, {"error": "invalid_request"}, "no-token"
            else:
                user = known_tokens().get(tok)
                code = 200
                if user:
                    doc = {"active": True, "username": user, "scope": "mail",
                           "token_type": "Bearer", "client_id": "digest-e2e"}
                    result = "active"
                else:
                    doc, result = {"active": False}, "inactive"
            body = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if args.log:
                with open(args.log, "a", encoding="utf-8") as f:
                    f.write(f"{self.command} {self.path} token={tok} {result}\n")

        do_GET = answer
        do_POST = answer

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(f"{server.server_address[1]}\n")
    os.rename(args.port_file + ".tmp", args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
