#!/bin/bash
# t_ipv6.sh - MX hosts over IPv6 and addresses that cannot be reached
# (issue 14 item 9), in the lab (tests/lab/README.md, "IPv6"):
#   v6only.test   its MX's only address is ::1 (served, valid certificate)
#   v6mixed.test  its MX has an IPv6 address that cannot be reached
#                 (ff0e::5757: ENETUNREACH at once, nothing sent) and a
#                 working IPv4 address
#   v6dead.test   its MX's only address is that IPv6 address
# Checked, through the lab's sending Postfix with our milter and then with
# our policy map: the gate and the maps decide as they do for IPv4 (accept
# and deliver over verified TLS where an address validates; 451 4.7.5 and
# a deferral otherwise); a connection that never happened is journaled as
# no TLS session at all (RFC 8460 reports TLS negotiations: the deferral
# record keeps it for stsctl, no report counts it); the deferral text says
# what happened ("network-unreachable"); an Exim veto of an MX outside the
# policy names its IPv6 address and ours (RFC 8460 4.3).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MILTER=$BUILD/sts-milter
STSCTL=$BUILD/stsctl
PROBE=$ROOT/tests/tools/mta-probe.py
DETAILS=$ROOT/tests/tools/report-details.py

if ! python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	skip "ipv6" "no IPv6 loopback (::1) on this host"
	done_tests t_ipv6
	exit
fi
lab_up || { echo "t_ipv6: 0 passed, 1 failed"; exit 1; }
trap 'exit 130' INT TERM HUP
"$LAB" mx-count probe@v6only.test >/dev/null 2>&1 ||
    { skip "ipv6" "this lab has no MX hosts"; done_tests t_ipv6; exit; }

chmod 755 "$WORK"			# the postfix user reaches the sockets
W=$WORK/v6
mkdir -p "$W/state"
chmod 755 "$W"
SOCK=$W/milter.sock
PM=$W/policymap.sock
C=$W/sts-milter.conf
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|pid_file|log_level)[ =]' "$LAB_CONF"
	cat <<EOF
state_dir = $W/state
milter_socket = unix:$SOCK
policymap_socket = unix:$PM
pid_file = $W/sts-milter.pid
fetch_timeout = 4s
log_level = 1
EOF
} > "$C"
MLOG=$W/milter.log
MTALOG=$LAB_DIR/mta/maillog
"$MILTER" -f -c "$C" 2>"$MLOG" &
MPID=$!
LAB_CLEANUP='kill $MPID 2>/dev/null; wait $MPID 2>/dev/null'
for _ in $(seq 100); do [ -S "$SOCK" ] && [ -S "$PM" ] && break; sleep 0.05; done
ok "sts-milter starts" test -S "$PM"

TAG=v$$
send() {
	swaks --server 127.0.4.1 --from a@sender.test --to "$1" --h-Subject "t_ipv6 $1" \
	    --timeout 40 > "$W/swaks.last" 2>&1
}
rcpt_reply() {
	awk -v r=" -> RCPT TO:<$1>" '$0 == r { getline; print; exit }' "$W/swaks.last" |
	    sed 's/^<[-*][-*] *//; s/^<- *//'
}

# --- the gate (milter), the MTA without a policy map -----------------------
ok "lab mta-start --milter" "$LAB" mta-start --milter "unix:$SOCK"
send "$TAG@v6only.test"
expect_match "v6only.test: RCPT accepted (validated over IPv6)" "$(rcpt_reply "$TAG@v6only.test")" '^250 2\.1\.5'
expect_match "v6only.test: the gate probed [::1]" "$(cat "$MLOG")" \
    "accept rcpt=<$TAG@v6only\.test> policy_domain=v6only\.test mode=enforce policy_id=v6o1 result=success mx=mx\.v6only\.test ip=::1"
ok "v6only.test: delivered to [::1]" "$LAB" mx-wait "$TAG@v6only.test" 1 20
send "$TAG@v6mixed.test"
expect_match "v6mixed.test: RCPT accepted (its IPv4 address validates)" "$(rcpt_reply "$TAG@v6mixed.test")" '^250 2\.1\.5'
expect_match "v6mixed.test: validated at 127.0.1.41" "$(cat "$MLOG")" \
    "accept rcpt=<$TAG@v6mixed\.test> policy_domain=v6mixed\.test .*result=success mx=mx\.v6mixed\.test ip=127\.0\.1\.41"
ok "v6mixed.test: delivered" "$LAB" mx-wait "$TAG@v6mixed.test" 1 20
send "$TAG@v6dead.test"
expect_eq "v6dead.test: 451 4.7.5 saying the network is unreachable" "$(rcpt_reply "$TAG@v6dead.test")" \
    "451 4.7.5 MTA-STS policy of v6dead.test (id v6d1, mode enforce) cannot be met: mx.v6dead.test [ff0e::5757]: validation-failure (network-unreachable); will retry"
expect_match "v6dead.test: the daemon logs it" "$(grep "rcpt=<$TAG@v6dead.test>" "$MLOG")" \
    'defer .*policy_domain=v6dead\.test mode=enforce policy_id=v6d1 result=validation-failure mx=mx\.v6dead\.test ip=ff0e::5757 reason="network-unreachable"'
expect_eq "v6dead.test: not delivered" "$("$LAB" mx-count "$TAG@v6dead.test")" 0
# an unreachable IPv6 address is probed like an IPv4 one: a host with only
# that address, asked again, is answered from the probe cache
send "$TAG-2@v6dead.test"
expect_match "v6dead.test again: 451 4.7.5" "$(rcpt_reply "$TAG-2@v6dead.test")" '^451 4\.7\.5 .*network-unreachable'

# --- the journal: TLS sessions only where TLS was negotiated -------------
J=$("$STSCTL" -c "$C" journal 2>"$W/journal.err")
expect_eq "journal: no torn or corrupt records" "$(cat "$W/journal.err")" ""
sess() {	# DOMAIN: "result sip rip" of its sessions, sorted
	printf '%s\n' "$J" | jq -r --arg d "$1" 'select(.type == "session" and .domain == $d) | "\(.result) \(.sip // "-") \(.rip // "-")"' | sort | paste -sd';'
}
expect_eq "journal: v6only.test one success, ::1 to ::1" "$(sess v6only.test)" "success ::1 ::1"
expect_eq "journal: v6mixed.test one success at 127.0.1.41" "$(sess v6mixed.test)" "success 127.0.0.1 127.0.1.41"
expect_eq "journal: v6dead.test no session (no connection was made)" "$(sess v6dead.test)" ""
expect_eq "journal: no session with the unreachable address" \
    "$(printf '%s\n' "$J" | jq -r 'select(.type == "session" and .rip == "ff0e::5757") | .domain')" ""
expect_eq "journal: v6dead.test deferrals name the address and what happened" \
    "$(printf '%s\n' "$J" | jq -r 'select(.type == "deferral" and .domain == "v6dead.test") | "\(.result) \(.mx) \(.rip) \(.reason)"' | sort -u)" \
    "validation-failure mx.v6dead.test ff0e::5757 network-unreachable"
expect_match "stsctl deferrals: v6dead.test, 2" \
    "$("$STSCTL" -c "$C" deferrals | grep '"domain":"v6dead.test"')" '"count":2,'

# --- the policy map: the same answers as for IPv4 domains ----------------
for d in v6only v6mixed v6dead; do
	expect_eq "policy map (postfix): $d.test enforced like an IPv4 domain" \
	    "$(python3 "$PROBE" socketmap "$PM" postfix "$d.test" 2>&1)" \
	    "OK secure match=mx.$d.test servername=hostname"
	expect_match "policy map (exim): $d.test enforce" \
	    "$(python3 "$PROBE" readsocket "$PM" "exim $d.test" 2>&1)" "^enforce "
done
expect_eq "exim veto question: mx.v6only.test at ::1 may be used" \
    "$(python3 "$PROBE" readsocket "$PM" "exim v6only.test mx.v6only.test ::1" 2>&1)" ""
expect_eq "exim veto question: mx.evil.test at ::1 may not" \
    "$(python3 "$PROBE" readsocket "$PM" "exim v6only.test mx.evil.test ::1" 2>&1)" \
    "MX host mx.evil.test does not match the MTA-STS policy of v6only.test"
# the veto is a session (validation-failure) naming the IPv6 address Exim
# would have used and ours towards it (RFC 8460 4.3)
for _ in $(seq 50); do
	"$STSCTL" -c "$C" journal 2>/dev/null | grep -q '"mx":"mx.evil.test"' && break
	sleep 0.1
done
expect_eq "journal: the veto names receiving-ip ::1 and sending-mta-ip ::1" \
    "$("$STSCTL" -c "$C" journal 2>/dev/null | jq -r 'select(.src == "exim" and .mx == "mx.evil.test") | "\(.result) \(.rip) \(.sip) \(.reason)"')" \
    "validation-failure ::1 ::1 mx-host-not-in-policy"

# --- delivery through the policy map alone (Postfix enforces) -------------
ok "lab mta-start --milter none --policy-map" "$LAB" mta-start --milter none \
    --policy-map "socketmap:unix:$PM:postfix"
for d in v6only v6mixed v6dead; do send "$TAG-pm@$d.test"; done
ok "policy map: v6only.test delivered" "$LAB" mx-wait "$TAG-pm@v6only.test" 1 20
logwait "$MTALOG" "to=<$TAG-pm@v6only\.test>.*status=sent" 10	# the log lags
expect_match "policy map: v6only.test over verified TLS to [::1]" "$(cat "$MTALOG")" \
    'Verified TLS connection established to mx\.v6only\.test\[::1\]:25'
ok "policy map: v6mixed.test delivered" "$LAB" mx-wait "$TAG-pm@v6mixed.test" 1 20
for _ in $(seq 100); do grep -q "to=<$TAG-pm@v6dead.test>.*status=" "$MTALOG" && break; sleep 0.1; done
expect_match "policy map: v6dead.test deferred by Postfix, network unreachable" \
    "$(grep "to=<$TAG-pm@v6dead.test>" "$MTALOG")" \
    'status=deferred \(connect to mx\.v6dead\.test\[ff0e::5757\]:25: Network is unreachable\)'
expect_eq "policy map: v6dead.test not delivered" "$("$LAB" mx-count "$TAG-pm@v6dead.test")" 0
"$LAB" mta-stop >/dev/null 2>&1

# --- the report: sessions, not connections that never happened ----------
TOMORROW=$(date -u -d tomorrow +%F)
{ cat "$C"; echo "report_clock = ${TOMORROW}T00:30:00Z"; echo "report_contact = tlsrpt@sender.test"; } > "$W/r.conf"
for d in v6only v6mixed v6dead; do
	"$BUILD/tlsrpt-reporter" -c "$W/r.conf" --dry-run --domain "$d.test" > "$W/$d.dry" 2> "$W/$d.err"
done
expect_eq "report of v6only.test: 1 success, and the veto's failure with its IPv6 addresses" \
    "$(python3 "$DETAILS" "$W/v6only.dry")" \
    "v6only.test summary 1 1
v6only.test validation-failure mx.evil.test ::1 ::1 1 mx-host-not-in-policy"
expect_eq "report of v6mixed.test: 1 success, no failure (the IPv6 address was never reached)" \
    "$(python3 "$DETAILS" "$W/v6mixed.dry")" "v6mixed.test summary 1 0"
python3 "$DETAILS" "$W/v6dead.dry" >/dev/null 2>&1
expect_eq "v6dead.test: no report (no TLS session to report)" "$?" 1

ok "daemon still running" kill -0 "$MPID"
if [ "$T_FAIL" -gt 0 ]; then
	tail -n 30 "$MLOG" | sed 's/^/  milter: /'
	tail -n 20 "$MTALOG" | sed 's/^/  mta: /'
	tail -n 3 "$W"/*.err 2>/dev/null | sed "s/^/  reporter: /"
fi
done_tests t_ipv6
