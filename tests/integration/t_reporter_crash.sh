#!/bin/bash
# t_reporter_crash.sh - tlsrpt-reporter killed with SIGKILL at each step,
# then rerun (issue 14 item 2): during aggregation (a journal of 400000
# records), at moments around storing the reports, in the middle of SMTP
# deliveries after DATA and of HTTPS POSTs (the sinks hold each delivery
# for 8 s: tests/reporter/sinks.py "slow 0"; the run is killed as soon as
# one is held).  The run
# after the last kill must complete; then per destination every report
# arrived, with the report-id of its stored state and the stored bytes
# (the gzip), and a report arrived twice only where a kill fell between
# the end of the message and the sink's reply (a delivery the sink had
# taken but the reporter could not learn of: the resend is the same
# report-id and bytes, which RFC 8460 receivers use to drop duplicates).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
R=$BUILD/tlsrpt-reporter
PY=/usr/bin/python3
SMTP_IP=127.0.5.1 SMTP_PORT=2528 HTTPS_IP=127.0.3.4

if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
	skip "reporter crash" "python3-aiosmtpd missing"; done_tests t_reporter_crash; exit 0
fi
lab_up || { echo "t_reporter_crash: 0 passed, 1 failed"; exit 1; }
OVR=$LAB_DIR/dns/override
MYOVR="_smtp._tls.rc1.test. _smtp._tls.rc2.test. _smtp._tls.rc3.test. sink.rc.test."
stop_sinks() {
	local f
	for f in "$WORK"/smtp/pid "$WORK"/https/pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	[ -n "${RPID:-}" ] && kill -9 "$RPID" 2>/dev/null
	return 0
}
LAB_CLEANUP='stop_sinks; for o in $MYOVR; do rm -f "$OVR/$o"; done; "$LAB" reload-zone >/dev/null 2>&1'
echo '_smtp._tls.rc1.test. 1 IN TXT "v=TLSRPTv1; rua=mailto:rc1@reports.test,https://sink.rc.test/tlsrpt"' > "$OVR/_smtp._tls.rc1.test."
echo '_smtp._tls.rc2.test. 1 IN TXT "v=TLSRPTv1; rua=mailto:rc2@reports.test"' > "$OVR/_smtp._tls.rc2.test."
echo '_smtp._tls.rc3.test. 1 IN TXT "v=TLSRPTv1; rua=https://sink.rc.test/tlsrpt"' > "$OVR/_smtp._tls.rc3.test."
echo "sink.rc.test. 1 IN A $HTTPS_IP" > "$OVR/sink.rc.test."
"$LAB" reload-zone > "$WORK/reload.log" 2>&1
expect_eq "lab zone takes the test's records" "$?" 0
LAB_DIR=$LAB_DIR "$ROOT/tests/lab/mkcert" rcsink sink.rc.test > /dev/null 2>&1
mkdir -p "$WORK/smtp" "$WORK/https"
$PY "$ROOT/tests/reporter/sinks.py" smtp $SMTP_IP $SMTP_PORT "$WORK/smtp" > "$WORK/smtp.log" 2>&1 &
$PY "$ROOT/tests/reporter/sinks.py" https $HTTPS_IP 443 "$LAB_DIR/ca/rcsink.chain.pem" \
    "$LAB_DIR/ca/rcsink.key" "$WORK/https" > "$WORK/https.log" 2>&1 &
for _ in $(seq 50); do [ -f "$WORK/smtp/pid" ] && [ -f "$WORK/https/pid" ] && break; sleep 0.1; done
ok "sinks started" test -f "$WORK/smtp/pid" -a -f "$WORK/https/pid"

C=$(conf_for rc "report_org_name = Lab Sender" "report_contact = tlsrpt@reporter.test" \
    "report_smtp = $SMTP_IP:$SMTP_PORT" "report_clock = $(date -u +%Y-%m-%dT%H:%M:%SZ)")
STATE=$WORK/rc/state
DAY=$(date -u -d yesterday +%F)
T=$(date -u -d "$DAY 06:00:00" +%s)
$PY - "$T" > "$WORK/day.in" <<'PY'
import sys
t = int(sys.argv[1])
for i in range(400000):
    d = 'rc%d.test' % (1 + i % 3)
    r = 'success' if i % 7 else 'certificate-expired'
    print('{"type":"session","time":%d,"src":"probe","ptype":"sts","domain":"%s",'
          '"phash":"@enforce.test","mx":"mx%d.%s","sip":"127.0.0.1","rip":"127.0.1.%d",'
          '"result":"%s"}' % (t + i % 80000, d, i % 5, d, i % 5, r))
PY
$PY "$ROOT/tests/reporter/mkjournal.py" "$STATE" "$WORK/day.in" "$ROOT/tests/lab/policies"

# killrun SECONDS: one run, killed after SECONDS or as soon as a sink
# holds a delivery (the sinks hold each one for 8 s: "slow 0")
KILLS=0 INFLIGHT_KILLS=0 HELD_SMTP=0 HELD_HTTPS=0
killrun() {
	local i
	rm -f "$WORK"/smtp/inflight "$WORK"/https/inflight
	"$R" -c "$C" >> "$WORK/runs.log" 2>&1 &
	RPID=$!
	for i in $(seq "$(echo "$1 * 100" | awk '{ printf "%d", $1 * 100 }')"); do
		[ -f "$WORK/smtp/inflight" ] || [ -f "$WORK/https/inflight" ] && break
		kill -0 $RPID 2>/dev/null || break
		sleep 0.01
	done
	if kill -9 $RPID 2>/dev/null; then
		KILLS=$((KILLS + 1))
		if [ -f "$WORK/smtp/inflight" ]; then
			INFLIGHT_KILLS=$((INFLIGHT_KILLS + 1)) HELD_SMTP=$((HELD_SMTP + 1))
		elif [ -f "$WORK/https/inflight" ]; then
			INFLIGHT_KILLS=$((INFLIGHT_KILLS + 1)) HELD_HTTPS=$((HELD_HTTPS + 1))
		fi
	fi
	wait $RPID 2>/dev/null
	RPID=
}
# killagg: one run, killed while it reads the day's journal (it holds
# the file open or mapped): during the aggregation, whatever the speed
# of the machine (a fixed delay was once past it: reading and folding
# the 400000 records can take under a quarter of a second)
killagg() {
	local i jnl="$STATE/journal/$DAY.jnl" seen=0
	"$R" -c "$C" >> "$WORK/runs.log" 2>&1 &
	RPID=$!
	for i in $(seq 2000); do
		if ls -l /proc/$RPID/fd 2>/dev/null | grep -qF "$jnl" ||
		    grep -qF "$jnl" /proc/$RPID/maps 2>/dev/null; then
			seen=1
			break
		fi
		kill -0 $RPID 2>/dev/null || break
	done
	kill -9 $RPID 2>/dev/null && [ $seen = 1 ] && KILLS=$((KILLS + 1))
	wait $RPID 2>/dev/null
	RPID=
}
echo 0 > "$WORK/smtp/slow"; echo 0 > "$WORK/https/slow"
# aggregation
for _ in 1 2; do killagg; done
expect_eq "killed during aggregation: nothing stored yet" \
    "$(ls "$STATE/reporter/$DAY"/*.state 2>/dev/null | wc -l)" 0
expect_eq "two kills" "$KILLS" 2
# around storing (no delivery completes: each is held, then killed)
for s in 0.4 0.6 0.8 0.9 1.0 1.1 1.2 1.4 2; do killrun $s; done
# mid-SMTP after DATA
rm -f "$WORK/https/slow"
for s in 5 5; do killrun $s; done
expect_match "killed in SMTP deliveries after DATA" "$HELD_SMTP" '^[1-9]'
# mid-HTTPS POST (the mail before it goes through)
echo 0 > "$WORK/https/slow"; rm -f "$WORK/smtp/slow"
for s in 5 5; do killrun $s; done
expect_match "killed in HTTPS POSTs" "$HELD_HTTPS" '^[1-9]'
echo "  kills $KILLS; in a held delivery: SMTP $HELD_SMTP, HTTPS $HELD_HTTPS"
rm -f "$WORK/smtp/slow" "$WORK/https/slow"
sleep 9		# the held deliveries complete at the sinks
"$R" -c "$C" > "$WORK/last.out" 2>&1
expect_eq "the run after the kills completes (exit 0)" "$?" 0
"$R" -c "$C" > "$WORK/again.out" 2>&1
expect_eq "a rerun: exit 0" "$?" 0

$PY - "$WORK" "$STATE/reporter/$DAY" "$INFLIGHT_KILLS" > "$WORK/check" 2>&1 <<'PY'
import email, gzip, json, os, re, sys
work, rdir, held = sys.argv[1], sys.argv[2], int(sys.argv[3])
def show(c, what):
    print(('ok   ' if c else 'FAIL ') + what)
stored = {}
for f in os.listdir(rdir):
    if f.endswith('.state'):
        dom = f[:-6]
        rid = re.search(r'^report-id (\S+)', open(os.path.join(rdir, f)).read(), re.M).group(1)
        stored[dom] = (rid, open(os.path.join(rdir, dom + '.json.gz'), 'rb').read())
got = {}         # (destination, domain) -> [(report-id, gzip bytes)]
for f in sorted(os.listdir(work + '/smtp')):
    if f.endswith('.eml'):
        m = email.message_from_bytes(open(work + '/smtp/' + f, 'rb').read())
        rid = re.search(r'<([^@>]+)@', m['Subject']).group(1)
        gz = m.get_payload()[1].get_payload(decode=True)
        got.setdefault(('mailto', m['TLS-Report-Domain']), []).append((rid, gz))
for f in sorted(os.listdir(work + '/https')):
    if f.endswith('.gz'):
        gz = open(work + '/https/' + f, 'rb').read()
        r = json.loads(gzip.decompress(gz))
        dom = r['policies'][0]['policy']['policy-domain']
        got.setdefault(('https', dom), []).append((r['report-id'], gz))
want = {('mailto', 'rc1.test'), ('https', 'rc1.test'), ('mailto', 'rc2.test'), ('https', 'rc3.test')}
show(set(stored) == {'rc1.test', 'rc2.test', 'rc3.test'}, 'three reports stored')
show(set(got) == want, 'every destination got its report: %s' % sorted(got))
extra = 0
for k, v in sorted(got.items()):
    rid, gz = stored.get(k[1], (None, None))
    show(all(x[0] == rid for x in v), '%s %s: the stored report-id' % k)
    show(all(x[1] == gz for x in v), '%s %s: the stored bytes' % k)
    extra += len(v) - 1
    print('copies %s %s: %d' % (k[0], k[1], len(v)))
print('extra %d' % extra)
show(extra <= held, 'a report twice only where a kill fell in a held delivery '
     '(%d copies more, %d such kills)' % (extra, held))
PY
while read -r st what; do
	case $st in
	ok) pass "$what" ;;
	extra) echo "  copies more than one per destination: $what" ;;
	copies) echo "  $what" ;;
	*) fail "$what" ;;
	esac
done < "$WORK/check"
[ "$T_FAIL" -gt 0 ] && tail -n 20 "$WORK/runs.log" "$WORK/last.out" | sed 's/^/  /'
done_tests t_reporter_crash
