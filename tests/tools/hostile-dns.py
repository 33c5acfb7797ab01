#!/usr/bin/python3
# hostile-dns.py - a tiny DNS server with odd and hostile answers, for
# checking common/net/dns.c (tests/tools/io-check.sh).  Standard library only.
#
#   hostile-dns.py ADDR PORT PIDFILE
#
# Serves UDP and TCP on ADDR:PORT.  Names under h.test. (see ZONE below)
# answer as their comments say; anything else is NXDOMAIN.  UDP answers
# longer than 1232 bytes are sent truncated (TC, no records) so that the
# client must retry over TCP.
import os
import socket
import socketserver
import struct
import sys
import threading

A, CNAME, MX, TXT, AAAA = 1, 5, 15, 16, 28
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, REFUSED = 0, 1, 2, 3, 5


def wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("latin-1")
    return out + b"\0"


def txt(*strings):
    out = b""
    for s in strings:
        if isinstance(s, str):
            s = s.encode("latin-1")
        out += bytes([len(s)]) + s
    return out


def mx(pref, host):
    return struct.pack("!H", pref) + (host if isinstance(host, bytes) else wire(host))


def ip4(s):
    return socket.inet_pton(socket.AF_INET, s)


def ip6(s):
    return socket.inet_pton(socket.AF_INET6, s)


# name -> {qtype: (rcode, [(owner, type, ttl, rdata), ...])}; "*" = any qtype
ZONE = {}


def rr(owner, t, ttl, rdata):
    return (owner, t, ttl, rdata)


def add(name, qtype, rcode, answers):
    ZONE.setdefault(name, {})[qtype] = (rcode, answers)


# TXT
add("plain.h.test", TXT, NOERROR, [rr("plain.h.test", TXT, 300, txt("v=STSv1; id=plain1;"))])
add("multi.h.test", TXT, NOERROR, [rr("multi.h.test", TXT, 300, txt("v=STSv1;", " id=", "", "m1;"))])
add("bytes.h.test", TXT, NOERROR, [rr("bytes.h.test", TXT, 300, txt(b"a\0b", b"\xff\x01\\"))])
add("two.h.test", TXT, NOERROR, [rr("two.h.test", TXT, 300, txt("first")),
                                 rr("two.h.test", TXT, 60, txt("second"))])
add("nodata.h.test", TXT, NOERROR, [])
add("servfail.h.test", TXT, SERVFAIL, [])
add("refused.h.test", TXT, REFUSED, [])
add("formerr.h.test", TXT, FORMERR, [])
add("wrongtype.h.test", TXT, NOERROR, [rr("wrongtype.h.test", A, 300, ip4("192.0.2.1"))])
add("wrongowner.h.test", TXT, NOERROR, [rr("other.h.test", TXT, 300, txt("not mine"))])
add("chclass.h.test", TXT, NOERROR, [(("chclass.h.test", TXT, 300, txt("chaos")), 3)])
# CNAME chain all in one answer, with a decoy TXT at the first name and
# mixed case owners: only the TXT at the end of the chain counts.
add("chain.h.test", TXT, NOERROR, [
    rr("chain.h.test", TXT, 300, txt("decoy at the alias")),
    rr("CHAIN.h.test", CNAME, 100, wire("c1.h.test")),
    rr("c1.H.TEST", CNAME, 50, wire("c2.h.test")),
    rr("c2.h.test", TXT, 200, txt("v=STSv1; id=chained")),
    rr("unrelated.h.test", TXT, 1, txt("unrelated")),
])
# CNAME only; the target must be asked for.
add("cnameonly.h.test", TXT, NOERROR, [rr("cnameonly.h.test", CNAME, 30, wire("target.h.test"))])
add("target.h.test", TXT, NOERROR, [rr("target.h.test", TXT, 300, txt("v=STSv1; id=target"))])
# CNAME to a name that does not exist (rcode of the last name, RFC 6604).
add("nxcname.h.test", TXT, NXDOMAIN, [rr("nxcname.h.test", CNAME, 30, wire("gone.h.test"))])
# Loop and overlong chains.
add("loop1.h.test", TXT, NOERROR, [rr("loop1.h.test", CNAME, 30, wire("loop2.h.test")),
                                   rr("loop2.h.test", CNAME, 30, wire("loop1.h.test"))])
for i in range(12):
    add("long%d.h.test" % i, TXT, NOERROR,
        [rr("long%d.h.test" % i, CNAME, 30, wire("long%d.h.test" % (i + 1)))])
add("long12.h.test", TXT, NOERROR, [rr("long12.h.test", TXT, 30, txt("end of long"))])
# Exactly 8 hops is fine: hop0 -> ... -> hop8.
for i in range(8):
    add("hop%d.h.test" % i, TXT, NOERROR,
        [rr("hop%d.h.test" % i, CNAME, 30, wire("hop%d.h.test" % (i + 1)))])
add("hop8.h.test", TXT, NOERROR, [rr("hop8.h.test", TXT, 30, txt("end of 8 hops"))])
# Record counts and sizes (these need TCP).
add("rr64.h.test", TXT, NOERROR, [rr("rr64.h.test", TXT, 300, txt("r%02d" % i)) for i in range(64)])
add("rr65.h.test", TXT, NOERROR, [rr("rr65.h.test", TXT, 300, txt("r%02d" % i)) for i in range(65)])
add("huge.h.test", TXT, NOERROR, [rr("huge.h.test", TXT, 300, txt(*(["x" * 255] * 250)))])
# MX
add("mx.h.test", MX, NOERROR, [
    rr("mx.h.test", MX, 300, mx(20, "b.h.test")),
    rr("mx.h.test", MX, 300, mx(10, "A.H.Test")),
    rr("mx.h.test", MX, 120, mx(20, "c.h.test.")),
    rr("mx.h.test", MX, 300, mx(10, "d.h.test")),
    rr("mx.h.test", MX, 300, mx(5, "e.h.test")),
])
add("nullmx.h.test", MX, NOERROR, [rr("nullmx.h.test", MX, 300, mx(0, b"\0"))])
add("oddmx.h.test", MX, NOERROR, [rr("oddmx.h.test", MX, 300,
                                     mx(10, b"\x07a.b c\\d\x06h-_tst\0"))])
# Addresses
add("both.h.test", A, NOERROR, [rr("both.h.test", A, 300, ip4("192.0.2.1")),
                                rr("both.h.test", A, 300, ip4("192.0.2.2"))])
add("both.h.test", AAAA, NOERROR, [rr("both.h.test", AAAA, 40, ip6("2001:db8::1"))])
add("v6only.h.test", A, NOERROR, [])
add("v6only.h.test", AAAA, NOERROR, [rr("v6only.h.test", AAAA, 300, ip6("2001:db8::2"))])
add("v4only.h.test", A, NOERROR, [rr("v4only.h.test", A, 300, ip4("192.0.2.4"))])
add("v4only.h.test", AAAA, NOERROR, [])
add("afail.h.test", A, SERVFAIL, [])
add("afail.h.test", AAAA, NOERROR, [rr("afail.h.test", AAAA, 300, ip6("2001:db8::3"))])
add("bothfail.h.test", A, SERVFAIL, [])
add("bothfail.h.test", AAAA, NOERROR, [])
add("badaddr.h.test", A, NOERROR, [rr("badaddr.h.test", A, 300, b"\1\2\3")])
add("badaddr.h.test", AAAA, NOERROR, [])
add("nodataaddr.h.test", A, NOERROR, [])
add("nodataaddr.h.test", AAAA, NOERROR, [])
# The same sizes where MTA-STS discovery asks (t_load.sh): a 64 KB TXT
# record (TCP only) and more records than the daemon takes.
add("_mta-sts.huge.h.test", TXT, NOERROR, [rr("_mta-sts.huge.h.test", TXT, 300,
                                             txt("v=STSv1; id=huge;", *(["x" * 255] * 249)))])
add("_mta-sts.rr65.h.test", TXT, NOERROR, [rr("_mta-sts.rr65.h.test", TXT, 300,
                                             txt("v=STSv1; id=r%02d;" % i)) for i in range(65)])
# Special behaviours, matched by name for any type, also under the
# prefixes MTA-STS and TLS-RPT discovery ask (_mta-sts.garbage.h.test).
# tcdrop: UDP answers are truncated (TC) and TCP queries never answered.
SPECIAL = {"drop.h.test": "drop", "garbage.h.test": "garbage",
           "badrdlen.h.test": "badrdlen", "slow.h.test": "slow",
           "tcdrop.h.test": "tcdrop"}


def special(qname):
    for pfx in ("", "_mta-sts.", "mta-sts.", "_smtp._tls."):
        if qname.startswith(pfx) and qname[len(pfx):] in SPECIAL:
            return SPECIAL[qname[len(pfx):]]
    return None


def answer(query, tcp):
    if len(query) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", query[:6])
    pos, labels = 12, []
    while pos < len(query) and query[pos] != 0:
        n = query[pos]
        labels.append(query[pos + 1:pos + 1 + n].decode("latin-1"))
        pos += n + 1
    qname = ".".join(labels).lower()
    qtype, _ = struct.unpack("!HH", query[pos + 1:pos + 5])
    question = query[12:pos + 5]
    kind = special(qname)
    if kind == "drop" or (kind == "tcdrop" and tcp):
        return None
    if kind == "slow":
        import time
        time.sleep(1.5)
    hdr_flags = 0x8400 | (flags & 0x0100) | 0x0080
    if kind == "tcdrop":
        return struct.pack("!HHHHHH", qid, hdr_flags | 0x0200, 1, 0, 0, 0) + question
    if kind == "garbage":
        # Claims one answer RR but carries only half of one.
        return struct.pack("!HHHHHH", qid, hdr_flags, 1, 1, 0, 0) + question + b"\xc0\x0c\x00"
    if kind == "badrdlen":
        # TXT whose rdlength runs past the end of the message.
        return (struct.pack("!HHHHHH", qid, hdr_flags, 1, 1, 0, 0) + question +
                b"\xc0\x0c" + struct.pack("!HHIH", TXT, 1, 300, 200) + b"\x05hello")
    entry = ZONE.get(qname)
    if entry is None:
        rcode, rrs = NXDOMAIN, []
    else:
        rcode, rrs = entry.get(qtype, (NOERROR, []))
    body = b""
    for r in rrs:
        cls = 1
        if isinstance(r[0], tuple):
            r, cls = r
        owner, t, ttl, rdata = r
        body += wire(owner) + struct.pack("!HHIH", t, cls, ttl, len(rdata)) + rdata
    msg = struct.pack("!HHHHHH", qid, hdr_flags | rcode, 1, len(rrs), 0, 0) + question + body
    if not tcp and len(msg) > 1232:
        msg = struct.pack("!HHHHHH", qid, hdr_flags | 0x0200 | rcode, 1, 0, 0, 0) + question
    return msg


class UDP(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        reply = answer(data, False)
        if reply is not None:
            sock.sendto(reply, self.client_address)


class TCP(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            head = self.request.recv(2)
            if len(head) < 2:
                return
            n = struct.unpack("!H", head)[0]
            data = b""
            while len(data) < n:
                chunk = self.request.recv(n - len(data))
                if not chunk:
                    return
                data += chunk
            reply = answer(data, True)
            if reply is None:
                continue
            self.request.sendall(struct.pack("!H", len(reply)) + reply)


class ThreadedUDP(socketserver.ThreadingMixIn, socketserver.UDPServer):
    allow_reuse_address = True
    daemon_threads = True


class ThreadedTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    addr, port, pidfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    udp = ThreadedUDP((addr, port), UDP)
    tcp = ThreadedTCP((addr, port), TCP)
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    with open(pidfile, "w") as f:
        f.write("%d\n" % os.getpid())
    udp.serve_forever()


if __name__ == "__main__":
    main()
