#!/bin/bash
# t_lab_smtp.sh - the lab's SMTP side (tests/lab/README.md): every MX host of
# mx.conf answers on 127.0.1.x:25 with the STARTTLS outcome its scenario
# promises, and the sending Postfix on 127.0.4.1 relays through the lab DNS
# to the MX hosts over TLS, with no milter, with a missing milter
# (milter_default_action = tempfail) and with a TLS policy map.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"

[ "$(id -u)" -eq 0 ] || { skip "lab smtp" "needs root"; done_tests t_lab_smtp; exit; }
for p in /usr/lib/postfix/sbin/master /usr/bin/swaks /usr/bin/openssl; do
	[ -x "$p" ] || { skip "lab smtp" "$p not installed"; done_tests t_lab_smtp; exit; }
done
lab_up || { echo "t_lab_smtp: 0 passed, 1 failed"; exit 1; }
trap 'exit 130' INT TERM HUP		# lab_down (EXIT) on signals too
CA=$LAB_DIR/ca/root.pem
ok "lab status" "$LAB" status

# --- every MX host: banner, STARTTLS, certificate verdict for its name
# starttls ADDR NAME: openssl's verify code for NAME, or "none" without STARTTLS
starttls() {
	local out
	local hp=$1:25
	[[ $1 == *:* ]] && hp="[$1]:25"	# IPv6
	out=$(echo QUIT | timeout 10 openssl s_client -starttls smtp -connect "$hp" \
	    -servername "$2" -CAfile "$CA" -verify_hostname "$2" 2>&1)
	case $out in
	*"Didn't find STARTTLS"*) echo none ;;
	*) printf '%s\n' "$out" | sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' | head -n 1 ;;
	esac
}
# want HOST: expected verify code (0 ok, 10 expired, 19 untrusted root in the
# chain, 62 hostname mismatch) or none
want() {
	case $1 in
	mx.testing.test | mx.expired.test | mx1.onebad.test) echo 10 ;;
	mx.wrongname.test | mx.testwrong.test) echo 62 ;;
	mx.untrustedmx.test) echo 19 ;;
	mx.nostarttls.test) echo none ;;
	*) echo 0 ;;
	esac
}
# the IPv6 loopback address (the lab serves its IPv6 MX host there)
V6=
grep -Eq '^0{31}1 .* lo$' /proc/net/if_inet6 2>/dev/null && V6=1
NHOSTS=0
while read -r addr host _; do
	NHOSTS=$((NHOSTS + 1))
	expect_eq "$host ($addr): STARTTLS verdict" "$(starttls "$addr" "$host")" "$(want "$host")"
	expect_match "$host: banner names the host" \
	    "$(timeout 5 bash -c "exec 3<>/dev/tcp/$addr/25; head -n 1 <&3; echo QUIT >&3" 2>&1)" \
	    "^220 $host ESMTP"
done < <(sed 's/#.*//' "$ROOT/tests/lab/mx.conf" | awk -v v6="$V6" 'NF && (v6 || $1 !~ /:/)')
# 31 + 8 DANE hosts (.33-.40) + 2 IPv6 scenarios (one on [::1], where
# the host has that address: the lab leaves it out otherwise)
WANT_HOSTS=41
[ -n "$V6" ] || WANT_HOSTS=40
expect_eq "MX hosts served" "$NHOSTS" "$WANT_HOSTS"
ehlo_ext() { swaks --server "$1" --quit-after EHLO 2>&1 | sed -n 's/^<-  250[- ]//p' | tr '\n' ' '; }
EXT=$(ehlo_ext 127.0.1.25)
expect_match "nostarttls: EHLO answered" "$EXT" 'PIPELINING'
case " $EXT" in *" STARTTLS "*) fail "nostarttls: EHLO offers no STARTTLS" "$EXT" ;;
*) pass "nostarttls: EHLO offers no STARTTLS" ;; esac
expect_match "mx1.enforce.test: EHLO offers STARTTLS" " $(ehlo_ext 127.0.1.1)" ' STARTTLS '
# cnonly: openssl falls back to the CN; the certificate has no SAN at all
cert_text() { echo QUIT | timeout 10 openssl s_client -starttls smtp -connect "$1:25" -servername "$2" 2>/dev/null |
    openssl x509 -noout -subject -ext subjectAltName 2>&1; }
CN_ONLY=$(cert_text 127.0.1.26 mx.cnonly.test)
expect_match "cnonly: subject CN mx.cnonly.test" "$CN_ONLY" 'subject=CN ?= ?mx\.cnonly\.test'
case $CN_ONLY in *DNS:*) fail "cnonly: no subjectAltName" "$CN_ONLY" ;;
*) pass "cnonly: no subjectAltName" ;; esac
expect_match "wildcard: a.wildcard.test sends *.wildcard.test" \
    "$(cert_text 127.0.1.4 a.wildcard.test)" 'DNS:\*\.wildcard\.test'
expect_match "wrongname: sends the certificate of mx.other.test" \
    "$(cert_text 127.0.1.23 mx.wrongname.test)" 'DNS:mx\.other\.test'
ok "127.0.1.10 (reporter's sink) not bound by the lab" sh -c '! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.1.10/25" 2>/dev/null'

# --- the new scenarios in DNS and HTTPS
for d in expired wrongname untrustedmx nostarttls cnonly mismatch onebad; do
	expect_match "$d.test: _mta-sts TXT" \
	    "$(dig @127.0.2.1 +short +time=1 +tries=2 TXT "_mta-sts.$d.test")" '^"v=STSv1; id=[a-z0-9]+"$'
	expect_match "$d.test: enforce policy served" \
	    "$(curl -s --max-time 5 --cacert "$CA" --resolve "mta-sts.$d.test:443:127.0.3.1" \
	        "https://mta-sts.$d.test/.well-known/mta-sts.txt" | tr '\n' ' ')" \
	    '^version: STSv1 mode: enforce (mx: [a-z0-9.]+ )+max_age: 86400 $'
done
expect_eq "onebad.test: two MX" "$(dig @127.0.2.1 +short MX onebad.test | sort | tr '\n' ' ')" \
    "10 mx1.onebad.test. 20 mx2.onebad.test. "
expect_match "mismatch.test: policy names mx.elsewhere.test" \
    "$(cat "$LAB_DIR/www/mismatch.test/mta-sts.txt")" 'mx: mx\.elsewhere\.test'

# --- the sending MTA, no milter: nopolicy.test delivered over trusted TLS
TAG=t$$
MTALOG=$LAB_DIR/mta/maillog
submit() { # RCPT: swaks through the sending MTA; prints the server's last reply
	swaks --server 127.0.4.1 --from "sender@client.test" --to "$1" \
	    --h-Subject "t_lab_smtp $1" --timeout 20 2>&1 | grep -E '^<(-|\*\*) ' | tail -n 2 | head -n 1
}
ok "mta-start --milter none" "$LAB" mta-start --milter none
expect_match "nopolicy.test: accepted" "$(submit "$TAG@nopolicy.test")" '^<-  250 2\.0\.0 Ok: queued'
ok "nopolicy.test: stored by the MX" "$LAB" mx-wait "$TAG@nopolicy.test" 1 15
expect_eq "nopolicy.test: exactly one copy" "$("$LAB" mx-count "$TAG@nopolicy.test")" 1
# Postfix's lines reach the log through its logger, after the delivery
logwait "$MTALOG" "to=<$TAG@nopolicy\.test>.*status=sent" 10
expect_match "MTA log: trusted TLS to mx.nopolicy.test" "$(cat "$MTALOG")" \
    'Trusted TLS connection established to mx\.nopolicy\.test\[127\.0\.1\.6\]:25'
expect_match "MTA log: status=sent" "$(grep "to=<$TAG@nopolicy.test>" "$MTALOG")" \
    'relay=mx\.nopolicy\.test\[127\.0\.1\.6\]:25, .*status=sent'
expect_match "MX log names the host" "$(cat "$LAB_DIR/mx/maillog")" \
    'mx/mx\.nopolicy\.test/smtpd\[[0-9]+\]: Anonymous TLS connection established'
FILE=$(ls "$LAB_DIR/mx/mail/nopolicy.test/$TAG/new/"* 2>/dev/null | head -n 1)
expect_match "stored message: Delivered-To and TLS Received by the MX" \
    "$(cat "$FILE" 2>/dev/null | tr '\n' ' ')" "Delivered-To: $TAG@nopolicy.test .*with cipher.*by mx\.nopolicy\.test"

# --- milter configured but not running: milter_default_action = tempfail
ok "mta-start (default milter socket, nothing listening)" "$LAB" mta-start
expect_match "no milter: 451 4.7.1" "$(submit "$TAG-2@nopolicy.test")" '^<\*\* 451 4\.7\.1 '
expect_eq "no milter: nothing stored" "$("$LAB" mx-count "$TAG-2@nopolicy.test")" 0

# --- a TLS policy map: secure for expired.test defers it in Postfix itself
ok "mta-start --policy-map" "$LAB" mta-start --milter none --policy-map 'inline:{expired.test=secure}'
expect_match "expired.test: accepted" "$(submit "$TAG@expired.test")" '^<-  250 '
expect_match "onebad.test: accepted" "$(submit "$TAG@onebad.test")" '^<-  250 '
ok "onebad.test (no policy entry): stored" "$LAB" mx-wait "$TAG@onebad.test" 1 15
for i in $(seq 50); do grep -q "to=<$TAG@expired.test>.*status=deferred" "$MTALOG" && break; sleep 0.2; done
expect_match "expired.test: deferred, certificate not verified" \
    "$(grep "to=<$TAG@expired.test>" "$MTALOG")" 'dsn=4\.7\.5, status=deferred \(Server certificate not verified\)'
expect_match "expired.test: in the queue" "$("$LAB" mta-queue)" "$TAG@expired\.test"
expect_eq "expired.test: nothing stored" "$("$LAB" mx-count "$TAG@expired.test")" 0
ok "mta-flush" "$LAB" mta-flush

ok "mta-stop" "$LAB" mta-stop
expect_match "status: mta stopped" "$("$LAB" status)" 'mta +stopped'
if [ "$T_FAIL" -gt 0 ]; then
	tail -n 20 "$MTALOG" 2>/dev/null | sed 's/^/  mta: /'
	tail -n 10 "$LAB_DIR/mx/maillog" 2>/dev/null | sed 's/^/  mx: /'
fi
done_tests t_lab_smtp
