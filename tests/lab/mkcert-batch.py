#!/usr/bin/python3
# mkcert-batch.py CA_DIR: many leaf certificates in one process (what
# "mkcert --batch" runs; the lab makes ~50 at each start, and one openssl
# pair per certificate took seconds). Makes the same certificates as mkcert:
# EC P-256, SHA-256, CA:FALSE, digitalSignature, serverAuth+clientAuth, SKI,
# AKI, SAN dNSNames, CN = first SAN, 825 days from now.
#
# stdin: one certificate a line, "NAME SAN[,SAN...] [FLAG[,FLAG...]]", FLAG one
# of expired, untrusted, cn-only, no-intermediate (as mkcert's options).
# Writes CA_DIR/NAME.key, NAME.pem and NAME.chain.pem; the CA must exist.
import datetime
import os
import secrets
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FLAGS = {"expired", "untrusted", "cn-only", "no-intermediate"}


def load_ca(ca, base):
    with open(os.path.join(ca, base + ".pem"), "rb") as f:
        pem = f.read()
    with open(os.path.join(ca, base + ".key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    return x509.load_pem_x509_certificate(pem), key, pem


def write(path, data, mode=0o644):
    tmp = path + ".tmp%d" % os.getpid()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mkcert-batch.py CA_DIR < list")
    ca = sys.argv[1]
    issuers = {}
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    for lineno, line in enumerate(sys.stdin, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) not in (2, 3):
            sys.exit("mkcert-batch: line %d: want NAME SANS [FLAGS]" % lineno)
        name, sans = words[0], words[1].split(",")
        flags = set(words[2].split(",")) if len(words) == 3 else set()
        if flags - FLAGS:
            sys.exit("mkcert-batch: line %d: unknown flag %s" % (lineno, ",".join(flags - FLAGS)))
        if "/" in name or name.startswith(".") or not all(sans):
            sys.exit("mkcert-batch: line %d: bad NAME or SAN" % lineno)
        base = "untrusted-root" if "untrusted" in flags else "intermediate"
        if base not in issuers:
            issuers[base] = load_ca(ca, base)
        icert, ikey, ipem = issuers[base]

        key = ec.generate_private_key(ec.SECP256R1())
        if "expired" in flags:
            nb, na = now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)
        else:
            nb, na = now, now + datetime.timedelta(days=825)
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sans[0])]))
             .issuer_name(icert.subject)
             .public_key(key.public_key())
             .serial_number(secrets.randbits(63) | 1)
             .not_valid_before(nb)
             .not_valid_after(na)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                          False, False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                   ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ikey.public_key()),
                            critical=False))
        if "cn-only" not in flags:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]),
                                critical=False)
        cert = b.sign(ikey, hashes.SHA256())
        crt = cert.public_bytes(serialization.Encoding.PEM)
        keypem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
        write(os.path.join(ca, name + ".key"), keypem, 0o600)
        write(os.path.join(ca, name + ".pem"), crt)
        write(os.path.join(ca, name + ".chain.pem"), crt if "no-intermediate" in flags else crt + ipem)


if __name__ == "__main__":
    main()
