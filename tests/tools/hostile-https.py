#!/usr/bin/python3
"""Hostile HTTPS server: raw HTTP/1.x responses over real TLS.

usage: hostile-https.py ADDR PORT CERTCHAIN KEY PIDFILE [BLACKHOLE_ADDR]

The request path (its last segment) picks what comes back, byte for byte,
so the daemon's own policy fetcher (common/net/http_loop.c, http_resp.c)
meets what nginx never sends: chunked bodies, bodies delimited by the
close with and without close_notify, truncation, garbage, huge headers,
a response dribbled one byte at a time, interim responses, codings it did
not ask for, a reset. With BLACKHOLE_ADDR it also listens there (same
port) with a full accept queue that is never served, so that connection
attempts to it get no answer at all (SYNs dropped): an address that is
silent rather than refused. Writes PIDFILE once listening. No name lookups.
"""
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time

POLICY = b"version: STSv1\r\nmode: enforce\r\nmx: mx1.raw.test\r\nmax_age: 86400\r\n"
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"


def chunked(body, size=7):
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x;ext=1\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\nX-Trailer: yes\r\n\r\n"


# name -> (response bytes, how: "close" | "dirty" (no close_notify) |
#          "drip" | "hold" (keep the connection open) | "reset")
SCENARIOS = {
    "chunked": (OK + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(POLICY), "hold"),
    "close": (OK + b"\r\n" + POLICY, "close"),
    "close-dirty": (OK + b"\r\n" + POLICY, "dirty"),
    "length-dirty": (OK + b"Content-Length: %d\r\n\r\n" % len(POLICY) + POLICY, "dirty"),
    "length-hold": (OK + b"Content-Length: %d\r\n\r\n" % len(POLICY) + POLICY, "hold"),
    "truncated": (OK + b"Content-Length: 500\r\n\r\n" + POLICY, "close"),
    "truncated-chunked": (OK + b"Transfer-Encoding: chunked\r\n\r\n40\r\nversion", "close"),
    "interim": (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
                + OK + b"Content-Length: %d\r\n\r\n" % len(POLICY) + POLICY, "hold"),
    "drip": (OK + b"Content-Length: %d\r\n\r\n" % len(POLICY) + POLICY, "drip"),
    "garbage": (b"\x16\x03\x01garbage that is not HTTP\r\n\r\n", "close"),
    "empty": (b"", "close"),
    "hugeheader": (OK + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n" + POLICY, "close"),
    "manyheaders": (OK + b"X-Many: 0123456789abcdef\r\n" * 5000 + b"\r\n", "close"),
    "gzip": (OK + b"Transfer-Encoding: gzip\r\n\r\n\x1f\x8b", "close"),
    "badlength": (OK + b"Content-Length: 12abc\r\n\r\n" + POLICY, "close"),
    "twolengths": (OK + b"Content-Length: 10\r\nContent-Length: 11\r\n\r\n" + POLICY, "close"),
    "hugechunk": (OK + b"Transfer-Encoding: chunked\r\n\r\nffffffffffff\r\n" + POLICY, "hold"),
    "bigchunked": (OK + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(b"x" * 70000, 4096), "hold"),
    "redirect": (b"HTTP/1.1 302 Found\r\nLocation: https://elsewhere.test/\r\n"
                 b"Content-Length: 0\r\n\r\n", "hold"),
    "reset": (OK + b"Content-Length: 500\r\n\r\nversion", "reset"),
    "folded": (OK + b"X-Folded: a\r\n b\r\nContent-Length: 3\r\n\r\nabc", "close"),
}


def serve(ctx, conn):
    try:
        conn.settimeout(10)
        tls = ctx.wrap_socket(conn, server_side=True)
        req = b""
        while b"\r\n\r\n" not in req and len(req) < 65536:
            data = tls.recv(4096)
            if not data:
                return
            req += data
        line = req.split(b"\r\n", 1)[0].split(b" ")
        path = line[1].decode("latin-1") if len(line) > 1 else "/"
        name = path.rstrip("/").rsplit("/", 1)[-1]
        resp, how = SCENARIOS.get(name, (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "close"))
        if how == "drip":
            for i in range(len(resp)):
                tls.sendall(resp[i:i + 1])
                time.sleep(0.002)
            how = "hold"
        elif resp:
            tls.sendall(resp)
        if how == "close":
            tls.unwrap()            # close_notify, then the close
        elif how == "reset":        # RST, not FIN
            tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif how == "hold":
            time.sleep(5)           # the client must not wait for the close
        tls.close()                 # "dirty": no close_notify
    except (OSError, ssl.SSLError, ValueError):
        pass
    finally:
        conn.close()


def main():
    addr, port, chain, key, pidfile = sys.argv[1:6]
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, int(port)))
    lsock.listen(128)
    held = []
    if len(sys.argv) > 6:           # a silent address: backlog full, SYNs dropped
        bh = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        bh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bh.bind((sys.argv[6], int(port)))
        bh.listen(0)
        for _ in range(3):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect((sys.argv[6], int(port)))
            except BlockingIOError:
                pass
            held.append(c)
        held.append(bh)
        time.sleep(0.2)
    tmp = pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, pidfile)
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=serve, args=(ctx, conn), daemon=True).start()


if __name__ == "__main__":
    main()
