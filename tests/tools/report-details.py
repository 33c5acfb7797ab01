#!/usr/bin/python3
"""report-details.py - the failure details of the reports in a
tlsrpt-reporter --dry-run output, one line each:

  POLICY-DOMAIN RESULT-TYPE RECEIVING-MX RECEIVING-IP SENDING-MTA-IP COUNT [REASON]

("-" for a field the detail leaves out), sorted; then one line per policy
"POLICY-DOMAIN summary SUCCESSES FAILURES".  Exit 1 when the output holds
no report.
"""
import json
import re
import sys

out = open(sys.argv[1]).read()
reports = re.findall(r'----- BEGIN JSON -----\n(.*?)----- END JSON -----\n', out, re.S)
lines = []
for text in reports:
    r = json.loads(text)
    for p in r.get("policies", []):
        d = p["policy"].get("policy-domain", "-")
        s = p.get("summary", {})
        lines.append("%s summary %d %d" % (d, s.get("total-successful-session-count", 0),
                                           s.get("total-failure-session-count", 0)))
        for f in p.get("failure-details", []):
            lines.append(" ".join(str(x) for x in [
                d, f.get("result-type", "-"), f.get("receiving-mx-hostname", "-"),
                f.get("receiving-ip", "-"), f.get("sending-mta-ip", "-"),
                f.get("failed-session-count", 0)] +
                ([f["failure-reason-code"]] if "failure-reason-code" in f else [])))
print("\n".join(sorted(lines)))
sys.exit(0 if reports else 1)
