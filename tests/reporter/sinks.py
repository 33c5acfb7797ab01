#!/usr/bin/python3
# sinks.py - report sinks for the lab end-to-end test
#
#   sinks.py smtp ADDR PORT DIR            SMTP sink (python3-aiosmtpd)
#   sinks.py smtp-starttls ADDR PORT CERT KEY DIR
#                                          the same, STARTTLS required
#                                          (anything else: 530)
#   sinks.py https ADDR PORT CERT KEY DIR  HTTPS POST sink
#
# Each received message or POST body is stored as DIR/NNN.eml or
# DIR/NNN.gz (its Content-Type in NNN.ctype); DIR/pid holds the pid.
# Behaviour is steered by files in DIR, read at each request:
#   refuse        answer 451 (SMTP) or 503 (HTTPS): the sender must retry
#   reject        answer 550 to RCPT (SMTP): a permanent refusal
#   slow N        the Nth message or POST (0: each one): write
#                 DIR/inflight, sleep 8 s, then store it (the client may
#                 be killed meanwhile)
# No name lookups (LAB-NOTES): the server host name is fixed.
import asyncio
import http.server
import os
import signal
import ssl
import sys
import threading
import time


def store(d, data, ext, ctype=None):
    n = len([f for f in os.listdir(d) if f.endswith(ext)]) + 1
    tmp = os.path.join(d, ".%03d%s" % (n, ext))
    with open(tmp, "wb") as f:
        f.write(data)
    if ctype is not None:
        with open(os.path.join(d, "%03d.ctype" % n), "w") as f:
            f.write(ctype)
    os.rename(tmp, os.path.join(d, "%03d%s" % (n, ext)))


def slow_for(d, n):
    try:
        with open(os.path.join(d, "slow")) as f:
            k = int(f.read().split()[0])
            return k == n or k == 0
    except (OSError, ValueError, IndexError):
        return False


def smtp(addr, port, d, cert=None, key=None):
    from aiosmtpd.controller import Controller

    class H:
        count = 0

        async def handle_RCPT(self, server, session, envelope, address, opts):
            if os.path.exists(os.path.join(d, "refuse")):
                return "451 4.3.0 sink refuses for now"
            if os.path.exists(os.path.join(d, "reject")):
                return "550 5.1.1 no such recipient"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            H.count += 1
            if slow_for(d, H.count):
                open(os.path.join(d, "inflight"), "w").close()
                await asyncio.sleep(8)
            hdr = ("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
                envelope.mail_from, ",".join(envelope.rcpt_tos))).encode()
            store(d, hdr + envelope.original_content, ".eml")
            return "250 2.0.0 stored"

    kw = {}
    if cert is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        kw = {"tls_context": ctx, "require_starttls": True}
    c = Controller(H(), hostname=addr, port=port, server_hostname="sink.test",
                   ready_timeout=10, **kw)
    c.start()
    return c


def https(addr, port, cert, key, d):
    count = [0]
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            if os.path.exists(os.path.join(d, "refuse")):
                self.send_response(503)
                self.end_headers()
                return
            with lock:
                count[0] += 1
                k = count[0]
            if slow_for(d, k):
                open(os.path.join(d, "inflight"), "w").close()
                time.sleep(8)
            with lock:
                store(d, body, ".gz", self.headers.get("Content-Type", ""))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *a):
            pass

    s = http.server.ThreadingHTTPServer((addr, port), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    s.socket = ctx.wrap_socket(s.socket, server_side=True)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s


def main():
    kind = sys.argv[1]
    if kind == "smtp":
        addr, port, d = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        smtp(addr, port, d)
    elif kind == "smtp-starttls":
        addr, port, cert, key, d = sys.argv[2], int(sys.argv[3]), \
            sys.argv[4], sys.argv[5], sys.argv[6]
        smtp(addr, port, d, cert, key)
    else:
        addr, port, cert, key, d = sys.argv[2], int(sys.argv[3]), \
            sys.argv[4], sys.argv[5], sys.argv[6]
        https(addr, port, cert, key, d)
    with open(os.path.join(d, "pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    while not stop.is_set():
        time.sleep(0.2)
    os._exit(0)


if __name__ == "__main__":
    main()
