#!/bin/bash
# t_postfix310.sh - Debian 13's Postfix 3.10 (built with libtlsrpt) as
# the sending MTA, in its own Debian root (tests/lab/roots), with
# smtp_tlsrpt_enable = yes, our postfix-tlsrpt policy map and our
# libtlsrpt datagram socket (issue 11).  What Postfix really does on the
# wire (its log, the lab MX hosts' log) is compared with what the daemon
# journals and with the report tlsrpt-reporter --dry-run builds:
#
#   enforce.test      verified TLS, one success
#   onebad.test       enforce, mx1 expired then mx2 good: a failure and a success
#   mismatch.test     enforce, MX outside the policy: Postfix skips it, sends nothing
#   testing.test      testing, MX certificate expired      }  Postfix says "success"
#   testwrong.test    testing, MX certificate for another name } at level may; the
#   testmx.test       testing, MX outside the policy      }  journal tells the truth
#   nopolicyrpt.test  no policy, TLSRPT record: no-policy-found success
#
# STS-APP-2: for the testing domains no report counts a successful
# session under their STS policy (truth.h).
# run-tests: host (it needs the network: debootstrap of its Debian root, when not cached)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
. "$(dirname "$0")/pf310.sh"
MILTER=$BUILD/sts-milter
STSCTL=$BUILD/stsctl
R=$BUILD/tlsrpt-reporter
PY=/usr/bin/python3

[ "$(id -u)" -eq 0 ] || { skip "postfix 3.10" "needs root"; done_tests t_postfix310; exit; }
if ! RLOG=$("$ROOTS" path postfix310 2>&1); then
	printf '%s\n' "$RLOG" | tail -n 5 | sed 's/^/  roots: /'
	skip "postfix 3.10" "no Debian 13 root (debootstrap, mirror)"
	done_tests t_postfix310; exit
fi
lab_up || { echo "t_postfix310: 0 passed, 1 failed"; exit 1; }
trap 'exit 130' INT TERM HUP		# run lab_down (EXIT) on signals too

chmod 755 "$WORK"
W=$WORK/p
P=$W/pf				# /lab inside the root
mkdir -p "$W/state" "$P/run"
chmod 755 "$W" "$P" "$P/run"
C=$W/sts-milter.conf
# the sockets (0660) are the group of the root's postfix user, whose gid
# is not the host's
PFGID=$(awk -F: '$1 == "postfix" { print $3 }' "$RLOG/etc/group")
lab_conf "state_dir = $W/state" "fetch_timeout = 4s" "socket_group = ${PFGID:-postfix}" \
    "milter_socket = unix:$W/milter.sock" \
    "policymap_socket = unix:$P/run/policymap.sock" \
    "tlsrpt_socket = $P/run/tlsrpt/tlsrpt.sock" \
    "pid_file = $W/sts-milter.pid" "log_level = 1" \
    "report_org_name = Lab Sender" "report_contact = tlsrpt@reporter.test" > "$C"
"$MILTER" -f -c "$C" 2>"$W/milter.log" &
PID=$!
LAB_CLEANUP='pf310_stop; kill $PID 2>/dev/null; wait $PID 2>/dev/null'
for _ in $(seq 50); do [ -S "$P/run/policymap.sock" ] && [ -S "$P/run/tlsrpt/tlsrpt.sock" ] && break; sleep 0.1; done
ok "sts-milter listens (policy map, datagrams)" test -S "$P/run/tlsrpt/tlsrpt.sock"

pf310_start "$P" "$P/run/policymap.sock" "$P/run/tlsrpt/tlsrpt.sock"
ok "Postfix 3.10 started in its root" test -s "$P/queue/pid/master.pid"
expect_match "it is Postfix 3.10 with TLS-RPT" "$(pf310_in postconf -c /lab/etc -h mail_version smtp_tlsrpt_enable 2>&1 | paste -sd' ')" '^3\.10\.[0-9]+ yes$'

MXLOG=$LAB_DIR/mx/maillog
mx_conns() { grep -Ec "mx/$1/smtpd\[[0-9]+\]: connect from [^ ]*\[$PF310_IP\]" "$MXLOG" 2>/dev/null; }
TAG=p$$
for d in enforce onebad mismatch testing testwrong testmx nopolicyrpt; do
	ok "Postfix 3.10 accepts $TAG@$d.test" pf310_send "$TAG@$d.test"
done

# --- the wire
L=$P/maillog
for d in enforce onebad testing testwrong testmx nopolicyrpt; do
	ok "$d.test delivered" "$LAB" mx-wait "$TAG@$d.test" 1 30
done
ok "enforce.test: Verified TLS" pf310_logwait 'Verified TLS connection established to mx[12]\.enforce\.test'
ok "onebad.test: mx1 expired, reported as a failure by Postfix" \
    pf310_logwait 'TLSRPT: status=failure, domain=onebad\.test, receiving_mx=mx1\.onebad\.test\[127\.0\.1\.28\], failure_type=certificate_expired'
ok "onebad.test: then Verified to mx2" pf310_logwait 'Verified TLS connection established to mx2\.onebad\.test'
ok "testwrong.test: Postfix trusts the wrong-name MX (level may)" \
    pf310_logwait 'Trusted TLS connection established to mx\.testwrong\.test'
for d in testing testwrong testmx; do
	ok "$d.test: Postfix reports success" pf310_logwait "TLSRPT: status=success, domain=$d\\.test, "
	expect_eq "$d.test: the MX saw Postfix 3.10" "$(mx_conns "mx\\.$d\\.test")" 1
done
ok "mismatch.test: MX skipped by Postfix (smtp_tls_enforce_sts_mx_patterns)" \
    pf310_logwait "warning: MX name 'mx\\.mismatch\\.test' does not match STS MX pattern"
ok "mismatch.test: deferred" pf310_logwait "to=<$TAG@mismatch\\.test>.*status=deferred"
expect_eq "mismatch.test: no connection to its MX" "$(mx_conns 'mx\.mismatch\.test')" 0
expect_eq "mismatch.test: not delivered" "$("$LAB" mx-count "$TAG@mismatch.test")" 0
ok "nopolicyrpt.test: reported (no policy)" pf310_logwait 'TLSRPT: status=success, domain=nopolicyrpt\.test'

# --- the journal: one session per datagram, told truthfully
pj() {	# DOMAIN: "result mx ptype reason" of its postfix sessions, sorted
	"$STSCTL" -c "$C" journal | jq -r --arg d "$1" \
	    'select(.src == "postfix" and .domain == $d) | "\(.result) \(.mx // "-") \(.ptype) \(.reason // "-")"' | sort | paste -sd';'
}
for _ in $(seq 200); do	# the testing-mode verdicts take a probe each
	[ -n "$(pj testmx.test)" ] && [ -n "$(pj testwrong.test)" ] && [ -n "$(pj testing.test)" ] && break
	sleep 0.1
done
sleep 1
expect_eq "journal: enforce.test success" "$(pj enforce.test)" "success - sts -"
expect_eq "journal: onebad.test expired mx1, then success" "$(pj onebad.test)" \
    "certificate-expired mx1.onebad.test sts -;success - sts -"
expect_eq "journal: mismatch.test nothing (Postfix sent nothing)" "$(pj mismatch.test)" ""
expect_eq "journal: testing.test the expired certificate, not success" "$(pj testing.test)" \
    "certificate-expired mx.testing.test sts X509_V_ERR_CERT_HAS_EXPIRED"
expect_eq "journal: testwrong.test the name mismatch, not success" "$(pj testwrong.test)" \
    "certificate-host-mismatch mx.testwrong.test sts X509_V_ERR_HOSTNAME_MISMATCH"
expect_eq "journal: testmx.test MX outside the policy, not success" "$(pj testmx.test)" \
    "validation-failure mx.testmx.test sts mx-host-not-in-policy"
expect_eq "journal: nopolicyrpt.test no-policy-found success" "$(pj nopolicyrpt.test)" \
    "success - no-policy-found -"
expect_eq "journal: mode and policy id of the testing sessions" \
    "$("$STSCTL" -c "$C" journal | jq -r 'select(.src == "postfix" and .domain == "testwrong.test") | "\(.mode) \(.pid) \(.rip)"')" \
    "testing tw1 127.0.1.30"
# the verdict is the daemon's own probe of the same MX
expect_match "stsctl probe mx.testwrong.test agrees" "$("$STSCTL" -c "$C" probe mx.testwrong.test 127.0.1.30 2>&1)" \
    'certificate-host-mismatch'

# --- the reports
TOMORROW=$(date -u -d tomorrow +%F)
{ cat "$C"; echo "report_clock = ${TOMORROW}T00:30:00Z"; } > "$W/r.conf"
"$R" -c "$W/r.conf" --dry-run > "$W/dry.out" 2> "$W/dry.err"
expect_eq "reporter dry run" "$?" 0
$PY - "$W/dry.out" > "$W/report.check" 2>&1 <<'PY'
import json, re, sys
out = open(sys.argv[1]).read()
reps = {}
for j in re.findall(r'----- BEGIN JSON -----\n(.*?)----- END JSON -----\n', out, re.S):
    r = json.loads(j)
    for p in r['policies']:
        reps.setdefault(p['policy']['policy-domain'], []).append(p)
def show(c, what):
    print(('ok   ' if c else 'FAIL ') + what)
def sts(d):
    return [p for p in reps.get(d, []) if p['policy']['policy-type'] == 'sts']
for d, rt in (('testing.test', 'certificate-expired'),
              ('testwrong.test', 'certificate-host-mismatch'),
              ('testmx.test', 'validation-failure')):
    ps = sts(d)
    show(len(ps) == 1, '%s: one STS policy entry' % d)
    if ps:
        s = ps[0]['summary']
        show(s['total-successful-session-count'] == 0,
             '%s: no successful session counted (%d)' % (d, s['total-successful-session-count']))
        show(s['total-failure-session-count'] >= 1 and
             all(f['result-type'] == rt for f in ps[0].get('failure-details', [])),
             '%s: failures are %s' % (d, rt))
ps = sts('enforce.test')
show(len(ps) == 1 and ps[0]['summary'] == {'total-successful-session-count': 1,
     'total-failure-session-count': 0}, 'enforce.test: 1 success')
ps = sts('onebad.test')
show(len(ps) == 1 and ps[0]['summary'] == {'total-successful-session-count': 1,
     'total-failure-session-count': 1} and
     ps[0]['failure-details'][0]['receiving-mx-hostname'] == 'mx1.onebad.test' and
     ps[0]['failure-details'][0]['sending-mta-ip'] == '127.0.6.1',
     'onebad.test: 1 success, 1 expired mx1 (sent from 127.0.6.1)')
np = [p for p in reps.get('nopolicyrpt.test', []) if p['policy']['policy-type'] == 'no-policy-found']
show(len(np) == 1 and np[0]['summary']['total-successful-session-count'] == 1,
     'nopolicyrpt.test: no-policy-found, 1 success')
show('mismatch.test' not in reps, 'mismatch.test: no report (no session)')
PY
while read -r st what; do
	case $st in ok) pass "report: $what" ;; *) fail "report: $what" ;; esac
done < "$W/report.check"
# --- DANE (issue 10): Postfix 3.10's own DANE beside our map, its tlsa
# datagrams journaled and reported (RFC 8460 policy type tlsa, the TLSA
# records as policy-string).  The daemon now validates DNSSEC through the
# lab's validating resolver (same sockets, same state), and Postfix
# resolves through it too (trust-ad) with smtp_dns_support_level =
# dnssec and smtp_tls_security_level = dane.
LAB_DNSSEC=$(. "$LAB_DIR/env" 2>/dev/null && echo "${LAB_DNSSEC:-}")
if [ -n "$LAB_DNSSEC" ] && "$LAB" mx-count probe@ee.dane.test >/dev/null 2>&1; then
	kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
	{ grep -v '^dns_resolvers' "$C"; echo "dns_resolvers = $LAB_DNSSEC:${LAB_DNS_PORT:-53}"; } > "$W/dane.conf"
	"$MILTER" -f -c "$W/dane.conf" 2>>"$W/milter.log" &
	PID=$!
	for _ in $(seq 50); do [ -S "$P/run/policymap.sock" ] && [ -S "$P/run/tlsrpt/tlsrpt.sock" ] && break; sleep 0.1; done
	ok "DANE: sts-milter with the lab's trust anchor listens" test -S "$P/run/tlsrpt/tlsrpt.sock"
	# in place: the running root has this very file bind-mounted
	printf 'nameserver %s\noptions timeout:1 attempts:2 trust-ad\n' "$LAB_DNSSEC" > "$P/resolv.conf"
	pf310_in postconf -c /lab/etc -e "smtp_dns_support_level = dnssec" \
	    "smtp_tls_security_level = dane" >/dev/null 2>&1
	ok "DANE: Postfix 3.10 reloaded with DANE" pf310_in postfix -c /lab/etc reload
	sleep 1
	for d in ee stsdane; do
		ok "DANE: Postfix 3.10 accepts $TAG@$d.dane.test" pf310_send "$TAG@$d.dane.test"
	done
	ok "DANE: ee.dane.test delivered" "$LAB" mx-wait "$TAG@ee.dane.test" 1 30
	ok "DANE: ee.dane.test over DANE-verified TLS" \
	    pf310_logwait 'Verified TLS connection established to mx\.ee\.dane\.test'
	ok "DANE: Postfix reports ee.dane.test" pf310_logwait 'TLSRPT: status=success, domain=ee\.dane\.test'
	ok "DANE: stsdane.dane.test deferred by Postfix's DANE (STS-DANE-1)" \
	    pf310_logwait "to=<$TAG@stsdane\\.dane\\.test>.*status=deferred"
	ok "DANE: Postfix reports the stsdane.dane.test failure" \
	    pf310_logwait 'TLSRPT: status=failure, domain=stsdane\.dane\.test'
	expect_eq "DANE: stsdane.dane.test not delivered" "$("$LAB" mx-count "$TAG@stsdane.dane.test")" 0
	sleep 1
	expect_match "DANE journal: ee.dane.test, Postfix's tlsa success" "$(pj ee.dane.test)" '^success [^ ]+ tlsa -$'
	# Postfix 3.10 names a TLSA record that matches no certificate
	# certificate-not-trusted (its failure_type; our own probes say
	# tlsa-invalid): journaled as Postfix reported it, under tlsa
	expect_match "DANE journal: stsdane.dane.test, Postfix's tlsa failure" "$(pj stsdane.dane.test)" \
	    '^certificate-not-trusted mx\.stsdane\.dane\.test tlsa'
	"$R" -c "$W/r.conf" --dry-run --domain ee.dane.test > "$W/dry-dane.out" 2>&1
	"$R" -c "$W/r.conf" --dry-run --domain stsdane.dane.test >> "$W/dry-dane.out" 2>&1
	$PY - "$W/dry-dane.out" > "$W/report-dane.check" 2>&1 <<'PY'
import json, re, sys
out = open(sys.argv[1]).read()
pol = {}
for j in re.findall(r'----- BEGIN JSON -----\n(.*?)----- END JSON -----\n', out, re.S):
    for p in json.loads(j)['policies']:
        pol.setdefault(p['policy']['policy-domain'], []).append(p)
def show(c, what):
    print(('ok   ' if c else 'FAIL ') + what)
for d, ok_, fail in (('ee.dane.test', 1, 0), ('stsdane.dane.test', 0, 1)):
    ps = [p for p in pol.get(d, []) if p['policy']['policy-type'] == 'tlsa']
    show(len(ps) == 1, '%s: one tlsa policy' % d)
    if not ps:
        continue
    recs = ps[0]['policy'].get('policy-string', [])
    show(len(recs) >= 1 and all(re.fullmatch(r'3 1 1 [0-9A-Fa-f]{64}', r) for r in recs),
         '%s: policy-string is the TLSA records (%r)' % (d, recs))
    s = ps[0]['summary']
    show(s['total-successful-session-count'] >= ok_ and s['total-failure-session-count'] >= fail and
         (fail == 0 or all(f['result-type'] == 'certificate-not-trusted' for f in ps[0].get('failure-details', []))),
         '%s: %r %r' % (d, s, [f['result-type'] for f in ps[0].get('failure-details', [])]))
    show(not [p for p in pol.get(d, []) if p['policy']['policy-type'] == 'sts' and
              p['summary']['total-successful-session-count'] > 0],
         '%s: no MTA-STS success counted (STS-DANE-1)' % d)
PY
	while read -r st what; do
		case $st in ok) pass "DANE report: $what" ;; *) fail "DANE report: $what" ;; esac
	done < "$W/report-dane.check"
else
	skip "postfix 3.10 DANE" "this lab has no DNSSEC part"
fi
ok "no policy-table errors" sh -c "! grep -q 'policy table lookup error\|TLS configuration problem\|Could not report' '$L'"
ok "daemon still running" kill -0 "$PID"

if [ "$T_FAIL" -gt 0 ]; then
	tail -n 40 "$L" | sed 's/^/  maillog: /'
	tail -n 20 "$W/milter.log" | sed 's/^/  milter: /'
	"$STSCTL" -c "$C" journal | tail -n 30 | sed 's/^/  journal: /'
fi
done_tests t_postfix310
