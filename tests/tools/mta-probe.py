#!/usr/bin/python3
"""mta-probe.py - speak to sts-milter's sockets as an MTA would (stdlib only)

  mta-probe.py socketmap SOCKET NAME KEY   one socketmap request (netstring,
                                           Postfix/Sendmail); prints the reply
  mta-probe.py readsocket SOCKET LINE      one Exim ${readsocket} request (line,
                                           half-close); prints the reply
  mta-probe.py optneg SOCKET               milter option negotiation
                                           (SMFIC_OPTNEG); prints
                                           "version=V actions=0x.. protocol=0x.."

SOCKET is a unix socket path or HOST:PORT.  Exit 0 on a well-formed reply,
1 otherwise (reason on stderr).  Used by tests/integration/t_deb.sh against
the packaged daemon.
"""
import socket
import struct
import sys

TIMEOUT = 30
SMFI_PROT_VERSION = 6
SMFIC_OPTNEG = b"O"
SMFIP_NORCPT = 0x08


def connect(addr):
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(TIMEOUT)
        s.connect(addr)
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), TIMEOUT)
        s.settimeout(TIMEOUT)
    return s


def read_exact(s, n):
    out = b""
    while len(out) < n:
        b = s.recv(n - len(out))
        if not b:
            raise EOFError("connection closed after %d of %d bytes" % (len(out), n))
        out += b
    return out


def socketmap(addr, name, key):
    s = connect(addr)
    q = ("%s %s" % (name, key)).encode()
    s.sendall(b"%d:%s," % (len(q), q))
    head = b""
    while not head.endswith(b":"):
        c = read_exact(s, 1)
        if not (c.isdigit() or c == b":") or len(head) > 6:
            raise ValueError("not a netstring: %r" % (head + c))
        head += c
    n = int(head[:-1])
    body = read_exact(s, n + 1)
    if body[-1:] != b",":
        raise ValueError("netstring without its comma")
    return body[:-1].decode("utf-8", "replace")


def readsocket(addr, line):
    s = connect(addr)
    s.sendall(line.encode() + b"\n")
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    return out.decode("utf-8", "replace").rstrip("\n")


def optneg(addr):
    s = connect(addr)
    # length (command byte + 3 words), command, version, actions, protocol
    body = SMFIC_OPTNEG + struct.pack(">III", SMFI_PROT_VERSION, 0x1FF, 0x1FFFFF)
    s.sendall(struct.pack(">I", len(body)) + body)
    (n,) = struct.unpack(">I", read_exact(s, 4))
    if n < 13 or n > 65536:
        raise ValueError("reply of %d bytes" % n)
    reply = read_exact(s, n)
    if reply[:1] != SMFIC_OPTNEG:
        raise ValueError("reply command %r, not 'O'" % reply[:1])
    version, actions, proto = struct.unpack(">III", reply[1:13])
    s.sendall(struct.pack(">I", 1) + b"Q")  # SMFIC_QUIT
    return version, actions, proto


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == "socketmap":
            print(socketmap(argv[2], argv[3], argv[4]))
        elif len(argv) == 4 and argv[1] == "readsocket":
            print(readsocket(argv[2], argv[3]))
        elif len(argv) == 3 and argv[1] == "optneg":
            v, a, p = optneg(argv[2])
            print("version=%d actions=0x%x protocol=0x%x%s" % (
                v, a, p, " norcpt" if p & SMFIP_NORCPT else ""))
        else:
            sys.stderr.write(__doc__)
            return 2
    except (OSError, EOFError, ValueError) as e:
        sys.stderr.write("mta-probe: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
