#!/usr/bin/env python3
"""A TCP relay for the e2e tests that stalls a connection mid-transfer.

    cut_proxy.py --listen PORT --to HOST:PORT --after BYTES --flag FILE

Relays each connection to the target.  Once a connection has relayed
BYTES from the server to the client, it stops relaying (the client sees a
server that stopped in the middle of a response), and FILE is created so
the test knows the moment has come, e.g. to kill the server.  When the
server side then closes, so does the client side.  Prints "ready" once it
listens.  Standard library only.
"""
import argparse
import os
import socket
import threading


def relay(client, target, after, flag):
    server = socket.create_connection(target)
    sent = [0]
    stalled = threading.Event()

    def up():
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                if not stalled.is_set():
                    server.sendall(data)
        except OSError:
            pass

    def down():
        try:
            while True:
                data = server.recv(65536)
                if not data:
                    break
                if stalled.is_set():
                    continue
                room = after - sent[0]
                client.sendall(data[:room])
                sent[0] += min(len(data), room)
                if sent[0] >= after:
                    stalled.set()
                    with open(flag, "w") as f:
                        f.write("stalled\n")
        except OSError:
            pass
        for s in (client, server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    threading.Thread(target=up, daemon=True).start()
    threading.Thread(target=down, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--after", type=int, required=True)
    ap.add_argument("--flag", required=True)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen))
    ls.listen(8)
    print("ready", flush=True)
    while True:
        c, _ = ls.accept()
        relay(c, (host, int(port)), a.after, a.flag)


if __name__ == "__main__":
    main()
