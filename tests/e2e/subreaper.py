#!/usr/bin/env python3
"""Run a command as a child subreaper: subreaper.py PIDFILE CMD [ARG...]

Forks CMD, writes its pid to PIDFILE, and reaps CMD and every process
orphaned below it (Linux PR_SET_CHILD_SUBREAPER), so that killing a
daemon's master with SIGKILL leaves no zombie behind even where PID 1
does not reap.  Exits, with CMD's exit code, once all of them are gone.
SIGTERM and SIGINT are passed on to CMD.  Used by imap_server.sh.
"""
import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: subreaper.py PIDFILE CMD [ARG...]")
    pidfile, cmd = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("subreaper.py: prctl: " + os.strerror(ctypes.get_errno()))
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            print(f"subreaper.py: {cmd[0]}: {e.strerror}", file=sys.stderr)
        os._exit(127)

    def forward(sig, _frame):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{pid}\n")
    os.rename(pidfile + ".tmp", pidfile)
    code = 0
    while True:
        try:
            child, status = os.wait()
        except ChildProcessError:
            break
        if child == pid:
            code = os.waitstatus_to_exitcode(status)
            if code < 0:
                code = 128 - code
    sys.exit(code)


if __name__ == "__main__":
    main()
