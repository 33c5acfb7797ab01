#!/bin/bash
# t_soak.sh - a week in minutes (issue 14 item 5): one sts-milter (the
# test build, whose clock the test moves: common/util/clock.h) takes
# mixed traffic -- milter RCPTs, libtlsrpt datagrams, Postfix log lines,
# policy-map lookups -- over simulated days, while the lab's DNS and
# nginx change a policy and its TXT id every day and break and restore
# another; tlsrpt-reporter runs once a simulated day against the lab's
# SMTP and HTTPS report sinks.  Checked (tests/tools/soak.py): RSS and
# descriptors flat, one journal file per day holding that day's records,
# pruned at journal_retention, policies expiring and refreshing, TXT id
# changes picked up, one report per domain and destination per day,
# nothing growing in state_dir.  SOAK_DAYS (3 here; make soak: 7),
# SOAK_STEPS a day (4; 8), SOAK_STEP_SECS (1.5; 4), SOAK_RATE records a
# second per source (40), SOAK_RETENTION journal_retention (1; 2).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
PY=/usr/bin/python3
SMTP_IP=127.0.5.1 SMTP_PORT=2525 HTTPS_IP=127.0.3.3

if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
	skip "soak" "python3-aiosmtpd missing"; done_tests t_soak; exit 0
fi
[ -x "$BUILD/test/sts-milter" ] ||
    { fail "soak" "$BUILD/test/sts-milter not built (make testprogs)"; done_tests t_soak; exit 1; }
lab_up || { echo "t_soak: 0 passed, 1 failed"; exit 1; }
OVR=$LAB_DIR/dns/override
MYOVR="_smtp._tls.cnonly.test. _smtp._tls.idchange.test. sink.soak.test."
D=$WORK/soak
mkdir -p "$D/state" "$D/smtp" "$D/https"
stop_sinks() {
	local f
	for f in "$D/smtp/pid" "$D/https/pid"; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	return 0
}
LAB_CLEANUP='[ -s "$D/daemon.pid" ] && kill -9 $(cat "$D/daemon.pid") 2>/dev/null; stop_sinks;
    for o in $MYOVR; do rm -f "$OVR/$o"; done; "$LAB" reload-zone >/dev/null 2>&1'

# cnonly.test reports to the SMTP sink and to an HTTPS sink (two
# destinations); idchange.test (a new policy every day) to the SMTP sink;
# the other domains' rua is the lab's mailto
echo '_smtp._tls.cnonly.test. 1 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test,https://sink.soak.test/tlsrpt"' \
    > "$OVR/_smtp._tls.cnonly.test."
echo '_smtp._tls.idchange.test. 1 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test"' \
    > "$OVR/_smtp._tls.idchange.test."
echo "sink.soak.test. 1 IN A $HTTPS_IP" > "$OVR/sink.soak.test."
"$LAB" reload-zone > "$D/reload.log" 2>&1
expect_eq "lab zone takes the soak's records" "$?" 0
LAB_DIR=$LAB_DIR "$ROOT/tests/lab/mkcert" soaksink sink.soak.test > /dev/null 2>&1
$PY "$ROOT/tests/reporter/sinks.py" smtp $SMTP_IP $SMTP_PORT "$D/smtp" > "$D/smtp.log" 2>&1 &
$PY "$ROOT/tests/reporter/sinks.py" https $HTTPS_IP 443 "$LAB_DIR/ca/soaksink.chain.pem" \
    "$LAB_DIR/ca/soaksink.key" "$D/https" > "$D/https.log" 2>&1 &
for i in $(seq 50); do
	[ -f "$D/smtp/pid" ] && [ -f "$D/https/pid" ] && break
	sleep 0.1
done
expect_eq "sinks started" "$(ls "$D/smtp/pid" "$D/https/pid" 2>/dev/null | wc -l)" 2

C=$D/sts-milter.conf
lab_conf "state_dir = $D/state" "milter_socket = unix:$D/milter.sock" \
    "policymap_socket = unix:$D/policymap.sock" "tlsrpt_socket = $D/tlsrpt.sock" \
    "postfix_log = $D/maillog" "pid_file = $D/sts-milter.pid" "status_interval = 1s" \
    "journal_retention = ${SOAK_RETENTION:-1}" > "$C"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$D/dkim.key" 2>/dev/null
{
	cat "$C"
	printf '%s\n' "report_org_name = Soak Sender" "report_contact = tlsrpt@reporter.test" \
	    "report_from = tlsrpt@reporter.test" "report_smtp = $SMTP_IP:$SMTP_PORT" \
	    "dkim_domain = reporter.test" "dkim_selector = tlsrpt" "dkim_key_file = $D/dkim.key"
} > "$D/reporter.conf"

BUILD=$BUILD LAB=$LAB SOAK_SINK=$D/smtp SOAK_HTTPS_SINK=$D/https \
    $PY "$ROOT/tests/tools/soak.py" "$C" "$D/reporter.conf" "$D" > "$D/result" 2> "$D/soak.err"
expect_eq "soak.py ran" "$?" 0
result_checks "$D/result"
if [ "$T_FAIL" -gt 0 ]; then
	tail -n 20 "$D/soak.err" | sed 's/^/  err: /'
	tail -n 20 "$D/milter.log" | sed 's/^/  milter: /'
	tail -n 10 "$D/reporter.log" | sed 's/^/  reporter: /'
	[ -n "${SOAK_KEEP:-}" ] && cp -a "$D" "$SOAK_KEEP"
fi
done_tests t_soak
