#!/usr/bin/python3
"""Lab "hang" server: accept TCP connections and never answer.

usage: hang-server.py ADDR PORT PIDFILE
Reads and discards whatever clients send; closes a connection only when the
client closes it. Writes PIDFILE once listening. No name lookups.
"""
import os
import selectors
import signal
import socket
import sys


def main():
    addr, port, pidfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, port))
    lsock.listen(128)
    lsock.setblocking(False)
    tmp = pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, pidfile)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is lsock:
                try:
                    conn, _ = lsock.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()


if __name__ == "__main__":
    main()
