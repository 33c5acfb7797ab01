#!/usr/bin/python3
"""milter_client.py - the MTA side of the milter protocol (version 6), for
tests: one connection, one message, RCPTs in turn.

As a program:  milter_client.py SOCKET RCPT...
prints one line per RCPT: "RCPT CODE TEXT" (CODE: the reply command,
e.g. c continue, y reply code with TEXT "451 4.7.5 ...", t tempfail).

As a module:  Session(path) opens the connection and sends what comes
before RCPT; rcpt(addr) returns (code, text); close().  conf_keys(path):
the "key = value" lines of an sts-milter.conf as a dict (the drivers'
socket paths and state_dir).
"""
import socket
import struct
import sys

NOCONNECT, NOHELO, NOMAIL = 0x1, 0x2, 0x4
NR_CONN, NR_HELO, NR_MAIL = 0x1000, 0x2000, 0x4000


def conf_keys(path):
    conf = {}
    for line in open(path):
        if '=' in line and not line.lstrip().startswith('#'):
            k, v = line.split('=', 1)
            conf[k.strip()] = v.strip()
    return conf


def pkt(cmd, data=b''):
    return struct.pack('>I', len(data) + 1) + cmd + data


class Session:
    def __init__(self, path, qid=b'T1', timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.qid = qid
        self.s.sendall(pkt(b'O', struct.pack('>III', 6, 0x1ff, 0x1fffff)))
        _, d = self.reply()
        pf = struct.unpack('>III', d[:12])[2]
        if not pf & NOCONNECT:
            self.s.sendall(pkt(b'C', b'client.test\0' + b'4' +
                               struct.pack('>H', 25) + b'127.0.0.1\0'))
            if not pf & NR_CONN:
                self.reply()
        if not pf & NOHELO:
            self.s.sendall(pkt(b'H', b'client.test\0'))
            if not pf & NR_HELO:
                self.reply()
        self.s.sendall(pkt(b'D', b'M' + b'i\0' + qid + b'\0'))
        if not pf & NOMAIL:
            self.s.sendall(pkt(b'M', b'<sender@client.test>\0'))
            if not pf & NR_MAIL:
                self.reply()

    def full(self, n):
        b = b''
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise OSError('connection closed')
            b += c
        return b

    def reply(self):
        while True:
            n = struct.unpack('>I', self.full(4))[0]
            d = self.full(n)
            if d[:1] != b'p':               # progress
                return d[:1], d[1:]

    def rcpt(self, addr):
        dom = addr.rsplit('@', 1)[-1]
        self.s.sendall(pkt(b'D', b'R' + b'i\0' + self.qid +
                           b'\0{rcpt_mailer}\0smtp\0{rcpt_host}\0' +
                           dom.encode() + b'\0{rcpt_addr}\0' +
                           addr.encode() + b'\0'))
        self.s.sendall(pkt(b'R', ('<%s>' % addr).encode() + b'\0'))
        c, d = self.reply()
        return c.decode(), d.rstrip(b'\0').decode('utf-8', 'replace')

    def close(self):
        try:
            self.s.sendall(pkt(b'A') + pkt(b'Q'))
        except OSError:
            pass
        self.s.close()


if __name__ == '__main__':
    s = Session(sys.argv[1])
    for a in sys.argv[2:]:
        c, t = s.rcpt(a)
        print(a, c, t)
    s.close()
