#!/usr/bin/python3
# mkjournal.py - write journal records for reporter tests
#
# usage: mkjournal.py STATE_DIR FILE.in [POLICY_DIR]
#
# FILE.in has one flat JSON object per line (the journal record shape,
# journal_fmt.h); '#' lines and blank lines are skipped.  "phash":
# "@NAME" stands for the SHA-256 of POLICY_DIR/NAME.txt (default: the
# policies/ folder beside this script), which is archived under
# STATE_DIR/policies/ as the milter does.  Each record is appended as
# "J1 <crc32> <json>" to STATE_DIR/journal/<UTC day of time>.jnl.
import hashlib
import json
import os
import sys
import time
import zlib


def main():
    state, src = sys.argv[1], sys.argv[2]
    pdir = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "policies")
    os.makedirs(os.path.join(state, "journal"), exist_ok=True)
    os.makedirs(os.path.join(state, "policies"), exist_ok=True)
    hashes = {}		# "@NAME" -> its hash (the policy archived once)
    journals = {}	# day -> its journal file, open for appending
    with open(src, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            rec = json.loads(line)
            ph = rec.get("phash", "")
            if ph.startswith("@"):
                if ph not in hashes:
                    with open(os.path.join(pdir, ph[1:] + ".txt"), "rb") as p:
                        text = p.read()
                    h = hashlib.sha256(text).hexdigest()
                    with open(os.path.join(state, "policies", h + ".txt"),
                              "wb") as p:
                        p.write(text)
                    hashes[ph] = h
                rec["phash"] = hashes[ph]
            body = json.dumps(rec, separators=(",", ":"), ensure_ascii=False)
            crc = zlib.crc32(body.encode()) & 0xffffffff
            day = time.strftime("%Y-%m-%d", time.gmtime(rec["time"]))
            if day not in journals:
                journals[day] = open(
                    os.path.join(state, "journal", day + ".jnl"), "a",
                    encoding="utf-8")
            journals[day].write("J1 %08x %s\n" % (crc, body))
    for j in journals.values():
        j.close()


if __name__ == "__main__":
    main()
