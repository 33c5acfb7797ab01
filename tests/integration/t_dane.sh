#!/bin/bash
# t_dane.sh - DNSSEC and DANE (issue 10) against the lab's signed zones:
# nsd serving dane.test. behind the validating unbound, the lab's own
# trust anchor.  dane.c/dns.c through the real resolver (secure,
# insecure, bogus, indeterminate; usable TLSA only; STS-DANE-1).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
Q=$BUILD/tools/dane_query
[ -x "$Q" ] || { echo "t_dane: build/tools/dane_query missing (make tools)"; echo "t_dane: 0 passed, 1 failed"; exit 1; }
lab_up || { echo "t_dane: 0 passed, 1 failed"; exit 1; }
. "$LAB_DIR/env"
R="$LAB_DNSSEC:$LAB_DNS_PORT"
TA=$LAB_TRUST_ANCHOR

# --- single validated lookups (dns.c): each DNSSEC status
expect_match "MX of a signed domain is secure" "$("$Q" -a "$TA" "$R" mx ee.dane.test)" '^status=ok sec=secure n=1'
expect_match "TLSA is decoded, secure" "$("$Q" -a "$TA" "$R" tlsa _25._tcp.mx.ee.dane.test | tr '\n' ' ')" 'sec=secure n=1.*3 1 1 [0-9a-f]{64}'
expect_match "validated NXDOMAIN is secure" "$("$Q" -a "$TA" "$R" tlsa _25._tcp.mx2.partial.dane.test)" '^status=notfound sec=secure'
expect_match "expired signatures are bogus (not a SERVFAIL: getdns validates)" "$("$Q" -a "$TA" "$R" mx bogus.dane.test)" 'sec=bogus'
expect_match "unsigned child zone is insecure" "$("$Q" -a "$TA" "$R" mx unsigned.dane.test)" '^status=ok sec=insecure'
expect_match "a zone outside the anchors is not secure" "$("$Q" -a "$TA" "$R" mx enforce.test)" '^status=ok sec=(insecure|indeterminate)'
expect_match "without the lab's anchor (root key only) nothing is secure" \
	"$("$Q" -a /usr/share/dns/root.key "$R" mx ee.dane.test)" 'sec=(insecure|indeterminate|bogus)'
expect_match "bad anchor file refused" "$("$Q" -a "$LAB_DIR/sts-milter.conf" "$R" mx ee.dane.test)" '^error: .*(no DS or DNSKEY|other than DS)'

# --- dane_lookup: the verdict per domain
dane() { "$Q" -a "$TA" "$R" "$1"; }
expect_match "DANE-EE domain: all" "$(dane ee.dane.test)" '^state=all mx=secure hosts=1'
expect_match "DANE-TA domain: all, 2 0 1" "$(dane ta.dane.test)" 'tlsa=2 0 1 '
expect_match "STS + mismatching TLSA: DANE applies (all)" "$(dane stsdane.dane.test)" '^state=all'
expect_match "one MX of two with TLSA: some" "$(dane partial.dane.test)" '^state=some mx=secure hosts=2'
expect_match "bogus domain: bogus" "$(dane bogus.dane.test)" '^state=bogus mx=bogus'
expect_match "unsigned domain with TLSA: none (ignored)" "$(dane unsigned.dane.test)" '^state=none mx=insecure hosts=0'
expect_match "PKIX-EE only: none" "$(dane unusable.dane.test)" '^state=none mx=secure hosts=1'
expect_match "STS-only domain: none" "$(dane enforce.test)" '^state=none'
expect_match "MX host an alias (RFC 7672 2.2.2): the expanded name's TLSA" "$(dane cname.dane.test)" \
	'^state=all mx=secure hosts=1'
expect_match "MX host an alias of a host without TLSA: the alias's own TLSA" "$(dane cnamehost.dane.test)" \
	'^state=all mx=secure hosts=1'

# --- stsctl probe: DANE hosts verified the RFC 7672 way (tls_probe with
# the host's usable TLSA), the others by WebPKI
mkdir -p "$WORK/st"
C=$WORK/st/sts-milter.conf
{
	grep -Ev '^(dns_resolvers|state_dir|dnssec_trust_anchors)[ =]' "$LAB_CONF"
	echo "dns_resolvers = $R"
	echo "dnssec_trust_anchors = $TA"
	echo "state_dir = $WORK/st"
} > "$C"
probe() { "$BUILD/stsctl" -c "$1" probe "$2" 2>&1; }
expect_match "probe DANE-EE host: success by dane" "$(probe "$C" mx.ee.dane.test)" '"result":"success".*"verified_by":"dane"'
expect_match "probe DANE-TA host: success by dane" "$(probe "$C" mx.ta.dane.test)" '"result":"success".*"verified_by":"dane"'
expect_match "probe PKIX-valid host with a mismatching TLSA: tlsa-invalid (no WebPKI fallback)" \
	"$(probe "$C" mx.stsdane.dane.test)" '"result":"tlsa-invalid".*"reason":"X509_V_ERR_DANE_NO_MATCH".*"verified_by":"dane"'
expect_match "probe host of a bogus zone: dnssec-invalid, no connection" "$(probe "$C" mx.bogus.dane.test)" '"result":"dnssec-invalid".*"reason":"address-bogus"'
expect_match "probe host of an unsigned zone: its TLSA ignored (webpki)" "$(probe "$C" mx.unsigned.dane.test)" '"result":"success".*"verified_by":"webpki"'
expect_match "probe host without TLSA: webpki" "$(probe "$C" mx2.partial.dane.test)" '"result":"success".*"verified_by":"webpki"'
expect_match "probe an alias MX (DANE-TA; the certificate names the expanded name): success by dane" \
	"$(probe "$C" alias.cname.dane.test)" '"result":"success".*"verified_by":"dane"'
expect_match "probe an alias MX with its own TLSA: success by dane" \
	"$(probe "$C" alias.cnamehost.dane.test)" '"result":"success".*"verified_by":"dane"'
expect_match "probe host with PKIX-EE only: webpki" "$(probe "$C" mx.unusable.dane.test)" '"result":"success".*"verified_by":"webpki"'
# stsctl policy: the DANE state of each MX host beside the MTA-STS policy
expect_match "stsctl policy: DANE-EE domain, its host and record" "$("$BUILD/stsctl" -c "$C" policy ee.dane.test 2>/dev/null)" \
	'"dane":\{"state":"all","mx":"secure","hosts":\[\{"host":"mx\.ee\.dane\.test","state":"tlsa","addr":"secure","tlsa":"secure","records":\["3 1 1 [0-9a-f]{64}"\]\}\]\}'
expect_match "stsctl policy: STS enforce and DANE side by side" "$("$BUILD/stsctl" -c "$C" policy stsdane.dane.test 2>/dev/null)" \
	'"mode":"enforce".*"dane":\{"state":"all"'
expect_match "stsctl policy: one MX of two with TLSA" "$("$BUILD/stsctl" -c "$C" policy partial.dane.test 2>/dev/null)" \
	'"dane":\{"state":"some".*"host":"mx2\.partial\.dane\.test","state":"no-tlsa","addr":"secure","tlsa":"secure","records":\[\]'
expect_match "stsctl policy: the alias, its expansion, TLSA from the expanded name" \
	"$("$BUILD/stsctl" -c "$C" policy cname.dane.test 2>/dev/null)" \
	'"host":"alias\.cname\.dane\.test","cname":"mx\.ta\.dane\.test","tlsa_base":"cname","state":"tlsa","addr":"secure","tlsa":"secure","records":\["2 0 1 [0-9a-f]{64}"\]'
expect_match "stsctl policy: the alias, TLSA from the MX name" \
	"$("$BUILD/stsctl" -c "$C" policy cnamehost.dane.test 2>/dev/null)" \
	'"host":"alias\.cnamehost\.dane\.test","cname":"mx2\.partial\.dane\.test","tlsa_base":"host","state":"tlsa"'
expect_match "stsctl policy: bogus" "$("$BUILD/stsctl" -c "$C" policy bogus.dane.test 2>/dev/null)" '"dane":\{"state":"bogus","mx":"bogus"'
sed 's/^dnssec_trust_anchors.*/dane = no/' "$C" > "$WORK/st/nodane.conf"
expect_match "dane = no: the mismatch host is verified by WebPKI" "$(probe "$WORK/st/nodane.conf" mx.stsdane.dane.test)" '"result":"success".*"verified_by":"webpki"'
expect_match "unreadable trust anchors: a configuration error" \
	"$(sed "s|^dnssec_trust_anchors.*|dnssec_trust_anchors = $WORK/none|" "$C" > "$WORK/st/badta.conf"; probe "$WORK/st/badta.conf" mx.ee.dane.test | tr '\n' ' '; echo "rc=${PIPESTATUS[0]}")" 'dnssec_trust_anchors: .*rc=78'

# --- the RCPT gate (gate_dane): sts-milter behind the lab's sending Postfix,
# which itself does DANE (lab mta-start --dane: smtp_dns_support_level =
# dnssec, smtp_tls_security_level = dane, the validating resolver)
if [ "$(id -u)" -ne 0 ] || ! [ -x /usr/lib/postfix/sbin/master ] || ! command -v swaks >/dev/null; then
	skip "gate and Postfix DANE" "needs root, postfix and swaks"
	done_tests t_dane; exit
fi
chmod 755 "$WORK"
W=$WORK/gate
mkdir -p "$W/state"
chmod 755 "$W"
SOCK=$W/milter.sock
{
	grep -Ev '^(dns_resolvers|state_dir|milter_socket|policymap_socket|pid_file|log_level|dnssec_trust_anchors)[ =]' "$LAB_CONF"
	cat <<EOF
dns_resolvers = $R
dnssec_trust_anchors = $TA
state_dir = $W/state
milter_socket = unix:$SOCK
policymap_socket = unix:$W/policymap.sock
pid_file = $W/sts-milter.pid
fetch_timeout = 4s
log_level = 1
EOF
} > "$W/sts-milter.conf"
MLOG=$W/milter.log
"$BUILD/sts-milter" -f -c "$W/sts-milter.conf" 2>>"$MLOG" &
MPID=$!
LAB_CLEANUP='kill $MPID 2>/dev/null; wait $MPID 2>/dev/null'
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
ok "sts-milter starts with the lab's trust anchor" test -S "$SOCK"
ok "lab mta-start --dane --milter" "$LAB" mta-start --dane --milter "unix:$SOCK"
TAG=d$$
send() {
	swaks --server 127.0.4.1 --from a@sender.test --to "$1" --timeout 40 > "$W/swaks.last" 2>&1
	awk -v r=" -> RCPT TO:<$1>" '$0 == r { getline; print; exit }' "$W/swaks.last" |
	    sed 's/^<[-*][-*] *//; s/^<- *//'
}
for d in ee ta partial unsigned unusable both cname cnamehost; do
	expect_match "gate: $d.dane.test accepted" "$(send "$TAG@$d.dane.test")" '^250 2\.1\.5'
done
expect_match "gate: ee.dane.test passed by DANE (log)" "$(grep "rcpt=<$TAG@ee.dane.test>" "$MLOG")" \
	'accept .* policy_domain=ee\.dane\.test dane=all result=success mx=mx\.ee\.dane\.test'
expect_match "gate, STS-DANE-1: STS enforce + mismatching TLSA deferred, naming the DANE result" \
	"$(send "$TAG@stsdane.dane.test")" \
	'^451 4\.7\.5 DANE \(RFC 7672\) for stsdane\.dane\.test cannot be met: mx\.stsdane\.dane\.test \[127\.0\.1\.35\]: tlsa-invalid \(X509_V_ERR_DANE_NO_MATCH\); will retry$'
expect_match "gate: bogus DNSSEC deferred" "$(send "$TAG@bogus.dane.test")" \
	'^451 4\.7\.5 DANE \(RFC 7672\) for bogus\.dane\.test cannot be met: bogus\.dane\.test: dnssec-invalid \(bogus\); will retry$'
expect_match "gate: the deferral logged with the DANE verdict" "$(grep "rcpt=<$TAG@stsdane.dane.test>" "$MLOG")" \
	'defer .* policy_domain=stsdane\.dane\.test dane=all result=tlsa-invalid'
# Postfix's own DANE delivers what the gate accepted
for d in ee ta partial unsigned cname cnamehost; do
	ok "Postfix (dane): $d.dane.test delivered" "$LAB" mx-wait "$TAG@$d.dane.test" 1 30
done
expect_match "Postfix verified ee.dane.test by DANE" "$(grep -a 'mx.ee.dane.test' "$LAB_DIR/mta/maillog")" \
	'Verified TLS connection established to mx\.ee\.dane\.test'

# --- journal (reports): DANE probes are tlsa sessions, the TLSA records
# archived as their policy-string
J=$("$BUILD/stsctl" -c "$W/sts-milter.conf" journal 2>&1)
expect_match "journal: ee.dane.test probe is a tlsa session" "$J" \
	'"src":"probe","ptype":"tlsa","domain":"ee\.dane\.test","phash":"[0-9a-f]{64}".*"mx":"mx\.ee\.dane\.test".*"result":"success"'
expect_match "journal: the mismatch is a tlsa-invalid session" "$J" \
	'"ptype":"tlsa","domain":"stsdane\.dane\.test".*"result":"tlsa-invalid"'
expect_match "journal: the deferral is under tlsa" "$J" \
	'"type":"deferral","time":[0-9]+,"src":"milter","ptype":"tlsa","domain":"stsdane\.dane\.test"'
PH=$(printf '%s\n' "$J" | grep '"domain":"ee.dane.test"' | grep -o '"phash":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
expect_match "journal: the policy-string is the TLSA record" "$(cat "$W/state/policies/$PH.txt" 2>&1)" '^3 1 1 [0-9A-F]{64}$'
expect_match "journal: the bogus lookup is a dnssec-invalid tlsa session (RFC 8460 4.3.2.2)" "$J" \
	'"type":"session","time":[0-9]+,"src":"dane","ptype":"tlsa","domain":"bogus\.dane\.test","result":"dnssec-invalid","reason":"mx-bogus"'
expect_eq "journal: no MTA-STS session for a DANE domain without a policy" \
	"$(printf '%s\n' "$J" | grep -c '"ptype":"sts","domain":"[a-z]*\.dane\.test","mx"[^}]*mx-host-not-in-policy')" 0
expect_match "log: the bogus DNSSEC named once" "$(grep 'dane: DNSSEC validation failed' "$MLOG")" \
	'policy_domain=bogus\.dane\.test result=dnssec-invalid reason=mx-bogus'

# --- reports (RFC 8460) of these sessions, built by the real reporter:
# schema-valid, policy type tlsa for the DANE domains with the TLSA
# records as policy-string, sts where MTA-STS applied
PY=/usr/bin/python3
if $PY -c 'import jsonschema' 2>/dev/null && [ -x "$BUILD/tlsrpt-reporter" ]; then
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/dkim.key" 2>/dev/null
	TOMORROW=$(date -u -d tomorrow +%F)
	{
		# the _smtp._tls records straight from nsd: the reporter does not
		# validate, and bogus.dane.test's would not validate
		grep -Ev '^(dns_resolvers|report_clock)[ =]' "$W/sts-milter.conf"
		cat <<EOF
dns_resolvers = ${LAB_NSD:-127.0.2.2}:$LAB_DNS_PORT
report_org_name = Lab Sender
report_contact = tlsrpt@reporter.test
report_from = tlsrpt@reporter.test
dkim_domain = reporter.test
dkim_selector = tlsrpt
dkim_key_file = $W/dkim.key
report_clock = ${TOMORROW}T00:30:00Z
EOF
	} > "$W/rep.conf"
	"$BUILD/tlsrpt-reporter" -c "$W/rep.conf" --dry-run > "$W/dry.out" 2> "$W/dry.err"
	expect_eq "reporter dry run exit status" "$?" 0
	if $PY "$ROOT/tests/reporter/check_report.py" dryrun "$W/dry.out" > "$W/dry.check" 2>&1; then
		pass "DANE reports: $(grep -c '^ok' "$W/dry.check") checks (RFC 8460 schema, MIME)"
	else
		fail "DANE reports" "$(grep FAIL "$W/dry.check" | head -3)"
	fi
	# DOMAIN: "ptype policy-domain nrecords success failure result..." per policy
	rpol1() {
		$PY - "$W/dry.out" "$1" <<'EOF'
import json, re, sys
out = open(sys.argv[1]).read()
for dom, blk in re.findall(r"----- BEGIN REPORT domain=(\S+) .*?-----\n(.*?)----- END REPORT -----\n", out, re.S):
    if dom != sys.argv[2]:
        continue
    rep = json.loads(re.search(r"----- BEGIN JSON -----\n(.*?)----- END JSON -----\n", blk, re.S).group(1))
    for p in sorted(rep["policies"], key=lambda p: p["policy"]["policy-type"]):
        pol, s = p["policy"], p["summary"]
        recs = pol.get("policy-string", [])
        ok = "-" if pol["policy-type"] != "tlsa" else "ok" if all(
            re.fullmatch(r"[23] [01] [012] [0-9A-F]+", r) for r in recs) else "bad"
        print(pol["policy-type"], pol.get("policy-domain"), len(recs), ok,
              s["total-successful-session-count"], s["total-failure-session-count"],
              " ".join(sorted(set(f["result-type"] for f in p.get("failure-details", [])))))
EOF
	}
	rpol() { rpol1 "$@" | paste -sd';'; }	# one line: policies ;-separated
	expect_match "report ee.dane.test: one tlsa policy, the DANE-EE record, sessions successful" \
		"$(rpol ee.dane.test)" '^tlsa ee\.dane\.test 1 ok [1-9][0-9]* 0 $'
	expect_match "report ta.dane.test: tlsa, the DANE-TA record" "$(rpol ta.dane.test)" '^tlsa ta\.dane\.test 1 ok [1-9][0-9]* 0 $'
	expect_match "report partial.dane.test: tlsa (the host with TLSA)" "$(rpol partial.dane.test)" '^tlsa partial\.dane\.test 1 ok [1-9][0-9]* 0 $'
	expect_match "report stsdane.dane.test: tlsa, tlsa-invalid (STS-DANE-1: not an sts success)" \
		"$(rpol stsdane.dane.test)" '^tlsa stsdane\.dane\.test 1 ok 0 [1-9][0-9]* tlsa-invalid$'
	expect_match "report bogus.dane.test: tlsa, dnssec-invalid, no records" \
		"$(rpol bogus.dane.test)" '^tlsa bogus\.dane\.test 0 ok 0 [1-9][0-9]* dnssec-invalid$'
	expect_match "report unsigned.dane.test: sts (its TLSA ignored)" \
		"$(rpol unsigned.dane.test)" '^sts unsigned\.dane\.test [1-9][0-9]* - [1-9][0-9]* 0 $'
	expect_match "report both.dane.test: both policies evaluated, both reported (sts fetch failure, tlsa success)" \
		"$(rpol both.dane.test)" '^sts both\.dane\.test 0 - 0 [1-9][0-9]* sts-policy-fetch-error;tlsa both\.dane\.test 1 ok [1-9][0-9]* 0 $'
else
	skip "DANE reports" "python3-jsonschema or tlsrpt-reporter missing"
fi

# --- the policy map (STS-DANE-1): no flavour answers what turns DANE off
PMS=$W/policymap.sock
mkdir -p "$W/postfix"
echo "compatibility_level = 3.6" > "$W/postfix/main.cf"
q() {			# the value, NOTFOUND, or TEMP (a lookup error)
	local out err rc
	out=$(postmap -c "$W/postfix" -q "$2" "socketmap:unix:$PMS:$1" 2>"$W/postmap.last")
	rc=$?
	err=$(cat "$W/postmap.last"); cat "$W/postmap.last" >> "$W/postmap.err"
	if [ $rc -eq 0 ]; then printf '%s' "$out"
	elif [ -n "$err" ]; then printf 'TEMP'
	else printf 'NOTFOUND'; fi
	return 0
}
for d in stsdane.dane.test unsigned.dane.test enforce.test; do q postfix "$d" >/dev/null; done	# warm
while IFS='|' read -r name key want; do
	[ -z "$name" ] && continue
	expect_eq "map $name $key" "$(q "$name" "$key")" "$want"
done <<'EOF'
postfix|ee.dane.test|dane-only
postfix|ta.dane.test|dane-only
postfix|stsdane.dane.test|dane-only
postfix|partial.dane.test|dane
postfix|cname.dane.test|dane-only
postfix|cnamehost.dane.test|dane-only
postfix|bogus.dane.test|TEMP
postfix|unsigned.dane.test|secure match=mx.unsigned.dane.test servername=hostname
postfix|unusable.dane.test|NOTFOUND
postfix|enforce.test|secure match=mx1.enforce.test:mx2.enforce.test servername=hostname
postfix-tlsrpt|stsdane.dane.test|dane-only
sendmail|stsdane.dane.test|secure match=mx.stsdane.dane.test servername=hostname
sendmail|bogus.dane.test|TEMP
EOF
expect_match "map: the TEMP reply names the bogus DNSSEC" "$(cat "$W/postmap.err")" 'bogus'

# --- real Postfix with our map: delivers to the DANE domains over
# DANE-verified TLS, defers the mismatch and the bogus one
ok "lab mta-start --dane --policy-map (no milter)" "$LAB" mta-start --dane --milter none \
	--policy-map "socketmap:unix:$PMS:postfix"
for d in ee ta stsdane bogus partial unsigned cname cnamehost; do
	swaks --server 127.0.4.1 --from a@sender.test --to "$TAG-m@$d.dane.test" --timeout 40 > "$W/swaks.m.$d" 2>&1
done
for d in ee ta partial unsigned cname cnamehost; do
	ok "Postfix + map: $d.dane.test delivered" "$LAB" mx-wait "$TAG-m@$d.dane.test" 1 30
done
sleep 2
for d in stsdane bogus; do
	expect_eq "Postfix + map: $d.dane.test not delivered" "$("$LAB" mx-count "$TAG-m@$d.dane.test")" 0
done
ML=$LAB_DIR/mta/maillog
expect_match "Postfix + map: stsdane deferred by its own DANE check (not overridden by MTA-STS)" \
	"$(grep -a "to=<$TAG-m@stsdane.dane.test>" "$ML")" 'status=deferred'
expect_match "Postfix + map: bogus deferred (map TEMP)" "$(grep -a "to=<$TAG-m@bogus.dane.test>" "$ML")" 'status=deferred'
expect_match "Postfix + map: ee.dane.test over DANE-verified TLS" \
	"$(grep -a 'mx.ee.dane.test' "$ML")" 'Verified TLS connection established to mx\.ee\.dane\.test'

done_tests t_dane
