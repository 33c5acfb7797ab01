#!/usr/bin/python3
# check_report.py - check reports the way strict receivers read them
#
#   check_report.py dryrun OUT [--refs PREFIX] [--dkim-txt FILE]
#       OUT is the output of "tlsrpt-reporter --dry-run"; every report's
#       JSON is checked (and compared byte for byte with
#       PREFIX.<domain>.ref.json when --refs is given) and its MIME
#       message is parsed and checked, DKIM included when --dkim-txt
#       names a file holding the "<sel>._domainkey.<d>. IN TXT ..." line.
#   check_report.py mail FILE... [--dns IP] [--dkim-txt FILE]
#       FILE is a received message (as the SMTP sink stored it); DKIM is
#       verified with python3-dkim against the key in DNS (--dns: the
#       lab resolver) or --dkim-txt.
#   check_report.py gz FILE...
#   --now EPOCH (any mode): verify DKIM as if it were that time
#       FILE is a POSTed body (application/tlsrpt+gzip).
#
# The checks: the RFC 8460 JSON schema (rfc8460.schema.json), no JSON
# nulls, no duplicate members, parsedmarc's rules (reporting-anchors
# section 7), and for mail the headers and MIME structure of RFC 8460
# section 5.3 (RPT-MAIL-2, -3, -5, -6), the section 5.1 file name
# (RPT-FILE-1), one report-id in JSON, Subject, Message-ID and file
# name (RPT-META-1), and a valid DKIM signature covering the
# TLS-Report-* fields without l= (RPT-DKIM-1, -2, -5).
# Prints one "ok"/"FAIL" line per check; exits 1 if any failed.
import calendar
import email
import email.policy
import gzip
import json
import os
import re
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
FAILS = 0


def check(name, cond, detail=""):
    global FAILS
    if cond:
        print("ok   " + name)
    else:
        FAILS += 1
        print("FAIL " + name + (": " + str(detail) if detail else ""))


def no_dupes(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate member names: %r" % keys)
    return dict(pairs)


def has_null(v):
    if v is None:
        return True
    if isinstance(v, dict):
        return any(has_null(x) for x in v.values())
    if isinstance(v, list):
        return any(has_null(x) for x in v)
    return False


def epoch(s):
    return calendar.timegm(tuple(int(x) for x in re.split(r"[-T:Z]", s)[:6]))


def check_json(text, label, ref=None):
    try:
        rep = json.loads(text, object_pairs_hook=no_dupes)
    except ValueError as e:
        check(label + ": JSON parses (I-JSON, no duplicates)", False, e)
        return None
    with open(os.path.join(HERE, "rfc8460.schema.json")) as f:
        schema = json.load(f)
    try:
        jsonschema.validate(rep, schema)
        check(label + ": RFC 8460 schema", True)
    except jsonschema.ValidationError as e:
        check(label + ": RFC 8460 schema", False, e.message)
    check(label + ": no nulls", not has_null(rep))
    # parsedmarc parse_smtp_tls_report_json
    ok = all(k in rep for k in ("organization-name", "date-range",
                                "contact-info", "report-id", "policies"))
    for p in rep.get("policies", []):
        pol = p.get("policy", {})
        ok = ok and "policy-domain" in pol and pol.get("policy-type") in (
            "tlsa", "sts", "no-policy-found")
        s = p.get("summary", {})
        ok = ok and "total-successful-session-count" in s and \
            "total-failure-session-count" in s
        fails = p.get("failure-details", [])
        ok = ok and all("result-type" in d and "failed-session-count" in d
                        for d in fails)
        # RPT-JSON-3 allows overlap, but we count one failure per session
        ok = ok and sum(d["failed-session-count"] for d in fails) == \
            s.get("total-failure-session-count")
    check(label + ": parsedmarc rules, counts add up", ok)
    dr = rep.get("date-range", {})
    try:
        span = epoch(dr["end-datetime"]) - epoch(dr["start-datetime"])
        check(label + ": whole UTC day (RPT-TIME-1)",
              span == 86400 and dr["start-datetime"].endswith("T00:00:00Z"))
    except (KeyError, ValueError) as e:
        check(label + ": date-range", False, e)
    if ref is not None:
        try:
            with open(ref) as f:
                want = f.read()
            check(label + ": byte-identical to " + os.path.basename(ref),
                  want == text, "differs")
        except OSError as e:
            check(label + ": golden file", False, e)
    return rep


def dnsfunc_for(txtfile, dns_ip):
    txt = {}
    if txtfile:
        with open(txtfile) as f:
            for line in f:
                m = re.match(r'^(\S+?)\.?\s+IN\s+TXT\s+"(.*)"\s*$', line.strip())
                if m:
                    txt[m.group(1).lower()] = m.group(2).encode()

    def fn(name, timeout=5):
        n = name.decode() if isinstance(name, bytes) else name
        n = n.rstrip(".").lower()
        if n in txt:
            return txt[n]
        if dns_ip:
            import dns.resolver
            r = dns.resolver.Resolver(configure=False)
            r.nameservers = [dns_ip]
            r.lifetime = 5
            ans = r.resolve(n, "TXT")
            return b"".join(b"".join(rr.strings) for rr in ans)
        return None
    return fn


def check_mail(raw, label, dnsfunc, json_text=None, ref=None):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    for h in ("From", "To", "Subject", "Date", "Message-ID",
              "TLS-Report-Domain", "TLS-Report-Submitter", "TLS-Required",
              "Auto-Submitted", "MIME-Version", "Content-Type",
              "DKIM-Signature"):
        check(label + ": header " + h, msg[h] is not None)
    check(label + ": multipart/report; report-type=tlsrpt (RPT-MAIL-2)",
          msg.get_content_type() == "multipart/report" and
          msg.get_param("report-type") == "tlsrpt")
    check(label + ": TLS-Required: No", (msg["TLS-Required"] or "").lower() == "no")
    check(label + ": Auto-Submitted", msg["Auto-Submitted"] == "auto-generated")
    parts = msg.get_payload()
    check(label + ": two parts, text first", isinstance(parts, list) and
          len(parts) == 2 and parts[0].get_content_type() == "text/plain")
    if not isinstance(parts, list) or len(parts) != 2:
        return
    att = parts[1]
    check(label + ": application/tlsrpt+gzip part",
          att.get_content_type() == "application/tlsrpt+gzip")
    check(label + ": attachment disposition (RPT-MAIL-6)",
          (att.get("Content-Disposition") or "").startswith("attachment"))
    fname = att.get_filename() or ""
    body = gzip.decompress(att.get_payload(decode=True)).decode()
    if json_text is not None:
        check(label + ": attachment is the JSON", body == json_text)
    rep = check_json(body, label + " attachment", ref)
    if rep is None:
        return
    rid = rep["report-id"]
    sub = rep["contact-info"].split("@")[1]
    dom = rep["policies"][0]["policy"]["policy-domain"]
    # RPT-FILE-1
    m = re.match(r"^([^!]+)!([^!]+)!(\d+)!(\d+)!([A-Za-z0-9]+)\.json\.gz$", fname)
    check(label + ": file name sender!domain!begin!end!id.json.gz", m is not None, fname)
    if m:
        check(label + ": file name fields agree (RPT-META-1)",
              m.group(1) == sub and m.group(2) == dom and
              int(m.group(3)) == epoch(rep["date-range"]["start-datetime"]) and
              int(m.group(4)) == epoch(rep["date-range"]["end-datetime"]) and
              m.group(5) == rid, fname)
    # RPT-MAIL-3, RPT-MAIL-5
    check(label + ": TLS-Report-Submitter = contact-info domain",
          msg["TLS-Report-Submitter"] == sub)
    check(label + ": TLS-Report-Domain = policy-domain",
          msg["TLS-Report-Domain"] == dom)
    want = "Report Domain: %s Submitter: %s Report-ID: <%s@%s>" % (dom, sub, rid, sub)
    check(label + ": Subject form and report-id", msg["Subject"] == want, msg["Subject"])
    check(label + ": Message-ID", msg["Message-ID"] == "<%s@%s>" % (rid, sub))
    # DKIM: RPT-DKIM-1, -2, -5
    sig = re.sub(r"\s+", " ", msg["DKIM-Signature"] or "")
    hs = re.search(r"h=([^;]+)", sig)
    hl = [x.strip().lower() for x in hs.group(1).split(":")] if hs else []
    check(label + ": DKIM h= covers TLS-Report-*",
          "tls-report-domain" in hl and "tls-report-submitter" in hl)
    check(label + ": DKIM no l=", not re.search(r"(^|;)\s*l=", sig))
    if dnsfunc is not None:
        import dkim
        try:
            # strict: the key must carry s=tlsrpt (RPT-DKIM-3)
            ok = dkim.verify(raw, dnsfunc=dnsfunc, tlsrpt="strict")
        except Exception as e:  # noqa: BLE001 - report any verifier error
            ok = False
            print("  dkim: %r" % e)
        check(label + ": DKIM signature verifies (python3-dkim)", ok)


def main():
    args = sys.argv[1:]
    mode = args.pop(0)
    opts = {}
    files = []
    while args:
        a = args.pop(0)
        if a.startswith("--"):
            opts[a[2:]] = args.pop(0)
        else:
            files.append(a)
    if "now" in opts:
        # the receiver's clock: reports made with report_clock are
        # verified at that time (python3-dkim refuses t= in the future)
        import time
        t = float(opts["now"])
        time.time = lambda: t
    dnsfunc = None
    if "dkim-txt" in opts or "dns" in opts:
        dnsfunc = dnsfunc_for(opts.get("dkim-txt"), opts.get("dns"))
    if mode == "dryrun":
        with open(files[0], "rb") as f:
            out = f.read()
        reports = re.findall(
            rb"----- BEGIN REPORT domain=(\S+) .*?-----\n(.*?)----- END REPORT -----\n",
            out, re.S)
        check("dry run printed reports", len(reports) > 0)
        if "count" in opts:
            check("dry run report count", len(reports) == int(opts["count"]),
                  len(reports))
        for dom, blk in reports:
            dom = dom.decode()
            j = re.search(rb"----- BEGIN JSON -----\n(.*?)----- END JSON -----\n", blk, re.S)
            m = re.search(rb"----- BEGIN MIME -----\n(.*?)----- END MIME -----\n", blk, re.S)
            ref = opts["refs"] + "." + dom + ".ref.json" if "refs" in opts else None
            check(dom + ": JSON printed", j is not None)
            check(dom + ": MIME printed", m is not None)
            if j:
                check_json(j.group(1).decode(), dom, ref)
            if j and m:
                check_mail(m.group(1), dom + " mail", dnsfunc,
                           j.group(1).decode(), ref)
    elif mode == "mail":
        for fn in files:
            with open(fn, "rb") as f:
                check_mail(f.read(), os.path.basename(fn), dnsfunc)
    elif mode == "gz":
        for fn in files:
            with open(fn, "rb") as f:
                check_json(gzip.decompress(f.read()).decode(), os.path.basename(fn))
    print("check_report: %d failed" % FAILS)
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
