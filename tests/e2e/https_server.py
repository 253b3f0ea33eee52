#!/usr/bin/env python3
"""A small https server for the end-to-end tests of https calendars.

Standard library only.  Serves the files of --dir over TLS (--cert,
--key) on 127.0.0.1:--port, with an ETag (a hash of the content) and a
Last-Modified (the file's mtime), and answers a conditional GET whose
validators still hold with 304.  Prints "ready" on stdout once it
listens, and appends one line per request to --log, its fields
separated by tabs ("-" for a header not sent):

  STATUS PATH IF-NONE-MATCH IF-MODIFIED-SINCE BYTES-OF-BODY-SENT
  USER-AGENT ACCEPT-ENCODING

Paths, after a first component /private-SECRET/ (a "secret address", as
Google and Outlook publish them) if there is one; the last component of
any other path names the file in --dir:

  /status/NNN            answers NNN
  /redirect/N/REST       N > 0: 302 to /redirect/N-1/REST (with a bogus
                         ETag that must not be kept); N = 0: serves REST
  /redirect-http/REST    302 to http://127.0.0.1:PORT/REST
  /no-etag/NAME          the file with Last-Modified only
  /big-declared          announces 60 MB, sends little
  /big-stream            60 MB without a Content-Length
  /stall                 headers, then nothing for up to a minute
"""

import argparse
import email.utils
import gzip
import hashlib
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIG = 60 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "e2e-https"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def record(self, status, sent):
        fields = [str(status), self.path]
        for h in ("If-None-Match", "If-Modified-Since"):
            fields.append(self.headers.get(h) or "-")
        fields.append(str(sent))
        for h in ("User-Agent", "Accept-Encoding"):
            fields.append(self.headers.get(h) or "-")
        line = "\t".join(f.replace("\t", " ").replace("\n", " ") for f in fields)
        with self.server.log_lock, open(self.server.log, "a") as f:
            f.write(line + "\n")

    def reply(self, status, body=b"", headers=()):
        # Logged before the client has its answer: a test reads the log
        # as soon as digest exits.
        self.record(status, 0 if status == 304 else len(body))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def serve_file(self, name, etag=True):
        path = os.path.join(self.server.dir, os.path.basename(name))
        try:
            with open(path, "rb") as f:
                body = f.read()
        except OSError:
            self.reply(404, b"no such file\n")
            return
        mtime = int(os.stat(path).st_mtime)
        tag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
        validators = [("Last-Modified", email.utils.formatdate(mtime, usegmt=True))]
        if etag:
            validators.insert(0, ("ETag", tag))
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if etag and inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            if tag in tags or "W/" + tag in tags or "*" in tags:
                self.reply(304, headers=validators)
                return
        elif ims is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                since = None
            if since is not None and mtime <= since:
                self.reply(304, headers=validators)
                return
        headers = [("Content-Type", "text/calendar; charset=utf-8")] + validators
        if "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        self.reply(200, body, headers)

    def do_GET(self):
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) > 1 and parts[0].startswith("private-"):
            parts = parts[1:]  # a secret address: the rest says what
        if parts[0] == "status" and len(parts) == 2:
            code = int(parts[1])
            self.reply(code, b"status %d\n" % code,
                       [("WWW-Authenticate", 'Basic realm="cal"')] if code == 401 else [])
        elif parts[0] == "redirect" and len(parts) >= 3:
            n = int(parts[1])
            rest = "/".join(parts[2:])
            if n == 0:
                self.serve_file(parts[-1])
            else:
                self.reply(302, b"", [("Location", "/redirect/%d/%s" % (n - 1, rest)),
                                      ("ETag", '"redirect-%d"' % n)])
        elif parts[0] == "redirect-http":
            self.reply(302, b"", [("Location", "http://127.0.0.1:%d/%s" % (
                self.server.server_port, "/".join(parts[1:])))])
        elif parts[0] == "no-etag" and len(parts) == 2:
            self.serve_file(parts[1], etag=False)
        elif parts[0] == "big-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(BIG))
            self.end_headers()
            try:
                self.wfile.write(b"BEGIN:VCALENDAR\r\n")
            except OSError:
                pass
            self.close_connection = True
            self.record(200, 17)
        elif parts[0] == "big-stream":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"X" * 65536
            sent = 0
            try:
                while sent < BIG:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            self.close_connection = True
            self.record(200, sent)
        elif parts[0] == "stall":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            self.record(200, 0)
            # Until the client gives up (the read sees it go) or a minute.
            self.connection.settimeout(60)
            try:
                self.connection.recv(1)
            except OSError:
                pass
            self.close_connection = True
        else:
            self.serve_file(parts[-1])


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that refused our certificate: expected in the tests.
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()

    srv = Server(("127.0.0.1", a.port), Handler)
    srv.dir = a.dir
    srv.log = a.log
    srv.log_lock = threading.Lock()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    # The handshake happens in the request's thread, at its first read.
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                 do_handshake_on_connect=False)
    print("ready", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
