#!/usr/bin/python3
# fleet_check.py - the reports an SMTP sink received against what the
# fleet's nodes journaled (t_fleet.sh)
#
# usage: fleet_check.py MAILDIR [--only D1,D2...] JOURNAL...
#
# JOURNAL is a node's journal file (J1 lines) or a mkjournal.py input
# (flat JSON lines).  Expected per policy domain: the sessions (our own
# report deliveries, src "report", never count: RPT-MAIL-8), successes
# and failures summed over every journal, and the sending-mta-ip of each
# failure.  Received: every DIR/*.eml report (tests/reporter/sinks.py).
# Prints:
#   domains N      policy domains that got a report
#   ids N          distinct (domain, report-id) pairs
#   one yes|no     every domain got exactly one report-id
#   variants N     most distinct attachments sent under one report-id
#   sums equal|... each domain's counts and failure IPs == the journals
#   names D...     the expected domains, sorted
#   failips IP...  every sending-mta-ip of the received reports' failure
#                  details (the expected domains'), sorted
import email
import gzip
import json
import os
import re
import sys


def main():
    d, args = sys.argv[1], sys.argv[2:]
    only = None
    if args and args[0] == "--only":
        only, args = set(args[1].split(",")), args[2:]
    want = {}
    for f in args:
        for line in open(f, encoding="utf-8"):
            r = json.loads(line.split(" ", 2)[2] if line.startswith("J1 ") else line)
            if r.get("type") != "session" or r.get("src") == "report":
                continue
            if only is not None and r["domain"] not in only:
                continue
            w = want.setdefault(r["domain"], {"s": 0, "f": 0, "ips": set()})
            if r.get("result") == "success":
                w["s"] += 1
            else:
                w["f"] += 1
                w["ips"].add(r.get("sip", ""))
    ids, got = {}, {}
    for f in sorted(os.listdir(d)):
        if not f.endswith(".eml"):
            continue
        m = email.message_from_bytes(open(os.path.join(d, f), "rb").read())
        dom = m["TLS-Report-Domain"]
        rid = re.search(r"<([^@]+)@", m["Subject"]).group(1)
        att = gzip.decompress(m.get_payload()[1].get_payload(decode=True))
        ids.setdefault((dom, rid), set()).add(att)
        j = json.loads(att)
        got[dom] = {
            "s": sum(p["summary"]["total-successful-session-count"] for p in j["policies"]),
            "f": sum(p["summary"]["total-failure-session-count"] for p in j["policies"]),
            "ips": {x.get("sending-mta-ip", "") for p in j["policies"]
                    for x in p["failure-details"]}}
    doms = {k[0] for k in ids}
    print("domains", len(doms))
    print("ids", len(ids))
    print("one", "yes" if ids and len(ids) == len(doms) else "no %r" % sorted(ids))
    print("variants", max((len(v) for v in ids.values()), default=0))
    mine = {k: got.get(k) for k in want}
    print("sums", "equal" if mine == want else "differ: got %r want %r" % (mine, want))
    print("names", " ".join(sorted(want)))
    print("failips", " ".join(sorted({ip for k in want if got.get(k) for ip in got[k]["ips"]})))


if __name__ == "__main__":
    main()
