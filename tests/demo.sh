#!/bin/bash
# demo.sh - "make demo": sts-milter on embedded defaults in the loopback
# lab.  A real Postfix (the sending MTA) calls the milter gate and the
# policy map; mail to the lab's good enforce domain is accepted and
# delivered over verified TLS, mail to a broken enforce domain is
# deferred with a reply that explains itself, and both show up in
# stsctl deferrals and the journal.  Everything stops at the end.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
LAB=$ROOT/tests/lab/lab
export LAB_DIR=${LAB_DIR:-/tmp/sts-milter-demo}
W=$LAB_DIR/demo
PID=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	"$LAB" stop >/dev/null 2>&1
}
trap cleanup EXIT

say "Starting the lab: DNS, HTTPS policy hosts, MX hosts (loopback only)"
"$LAB" start >/dev/null || { echo "demo: the lab did not start"; exit 1; }
rm -rf "$W"
mkdir -p "$W" "$LAB_DIR/run"
chmod 755 "$LAB_DIR/run"
# Only what the lab needs: its resolver, its CA, a state directory and
# sockets in the run dir, with the MTA's group (the sockets are 0660:
# Postfix's smtpd and smtp run as user postfix).  Everything else is
# sts-milter's defaults.
cat > "$W/sts-milter.conf" <<CONF
dns_resolvers = 127.0.2.1:53
ca_file = $LAB_DIR/ca/root.pem
state_dir = $W/state
milter_socket = unix:$LAB_DIR/run/milter.sock
policymap_socket = unix:$LAB_DIR/run/policymap.sock
socket_group = postfix
pid_file = $W/sts-milter.pid
report_contact = tlsrpt@sender.test
log_level = 1
CONF
cat "$W/sts-milter.conf"

say "Starting sts-milter -f"
"$BUILD/sts-milter" -f -c "$W/sts-milter.conf" 2>"$W/sts-milter.log" &
PID=$!
for _ in $(seq 50); do [ -S "$LAB_DIR/run/milter.sock" ] && break; sleep 0.1; done

say "Starting Postfix as the sending MTA on 127.0.4.1:25 (milter + policy map)"
"$LAB" mta-start --milter "unix:$LAB_DIR/run/milter.sock" \
    --policy-map "socketmap:unix:$LAB_DIR/run/policymap.sock:postfix" >/dev/null ||
    { echo "demo: Postfix did not start"; exit 1; }

send() {	# the RCPT command and the reply the client sees
	swaks --server 127.0.4.1 --from alice@sender.test --to "$1" \
	    --header "Subject: demo to $1" --timeout 60 2>&1 |
	    grep -A1 -E '^ *[~-]> RCPT TO' | sed 's/^/  /'
}

say "Mail to bob@enforce.test (mode enforce, MX hosts with valid certificates)"
send bob@enforce.test
say "Mail to bob@expired.test (mode enforce, the MX certificate has expired)"
send bob@expired.test
say "Mail to bob@mismatch.test (mode enforce, the MX host is not in the policy)"
send bob@mismatch.test
say "Mail to bob@testing.test (mode testing: accepted, the failure is journaled)"
send bob@testing.test

delivered=0
"$LAB" mx-wait bob@enforce.test 1 30 >/dev/null 2>&1 && delivered=1 &&
    say "Delivered to enforce.test by Postfix itself over verified TLS:" &&
    grep -E 'Verified TLS connection established to mx[12]\.enforce\.test' \
	"$LAB_DIR/mta/maillog" | tail -n 1

say "What the daemon logged"
grep -E ' (defer|accept|exempt) ' "$W/sts-milter.log" | sed 's/^/  /'

say "stsctl deferrals"
"$BUILD/stsctl" -c "$W/sts-milter.conf" deferrals | tee "$W/deferrals.json" |
    jq -c '{domain,result,count,mx}'

say "stsctl journal (today)"
sleep 1
"$BUILD/stsctl" -c "$W/sts-milter.conf" journal |
    jq -c '{type,domain,mx,result} + (if .reason then {reason} else {} end)'

if [ -x "$BUILD/tlsrpt-reporter" ]; then
	# The day is not over yet: let the reporter believe it is tomorrow.
	today=$(date -u +%F)
	{ cat "$W/sts-milter.conf"
	  echo "report_clock = $(date -u -d tomorrow +%F)T01:00:00Z"; } > "$W/reporter.conf"
	say "tlsrpt-reporter --dry-run: the report testing.test would get for $today"
	"$BUILD/tlsrpt-reporter" -c "$W/reporter.conf" --dry-run \
	    --day "$today" --domain testing.test 2>&1 | sed -n '1,80p'
fi
say "Done; stopping everything"
# a demo that showed nothing must not pass for one that worked
fail=
[ "$delivered" = 1 ] || fail="$fail; bob@enforce.test was not delivered"
for d in expired.test mismatch.test; do
	jq -s -e --arg d "$d" 'any(.[]; .domain == $d)' "$W/deferrals.json" >/dev/null 2>&1 ||
	    fail="$fail; no deferral of $d"
done
if [ -n "$fail" ]; then
	echo "demo: FAILED${fail} (logs: $W/sts-milter.log, $LAB_DIR/mta/maillog)"
	tail -n 5 "$LAB_DIR/mta/maillog" 2>/dev/null | sed 's/^/  mta: /'
	exit 1
fi
