#!/bin/bash
# t_metrics.sh - metrics_listen scraped by a real Prometheus (Debian's
# prometheus package) in the lab.  The test drives traffic of known
# size through the daemon (milter RCPTs with milter_load, policy-map
# lookups over the socketmap and readsocket forms, libtlsrpt datagrams)
# and then asks Prometheus's HTTP API (/api/v1/query) for each series:
# the values must be exactly what that traffic makes.  The DNS counters
# are checked against the lab resolver's own query log.  Also: the HTTP
# answers (404, 405, HEAD, an oversize head, a silent client), that a
# silent metrics client does not hold up a milter RCPT, and that the
# alert rules of conf/ load into Prometheus.  tlsrpt-reporter runs on a
# terminal (a table) and as from cron (quiet), and its textfile reaches
# Prometheus through node-exporter; stsctl prints tables on a terminal
# and JSON in a pipe.
#
# Prometheus runs on 127.0.9.1:9090 with its own configuration and
# storage in the test's directory, and is stopped on every exit path.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MILTER=$BUILD/sts-milter
LOAD=$BUILD/bench/milter_load
PROM=/usr/bin/prometheus
NODEEXP=/usr/bin/prometheus-node-exporter
R=$BUILD/tlsrpt-reporter
PY=/usr/bin/python3
ADDR=127.0.9.1
MPORT=9469
PPORT=9090
NPORT=9100

for p in "$PROM" "$NODEEXP" "$MILTER" "$LOAD" "$R"; do
	[ -x "$p" ] || { fail "installed or built: $p"; done_tests t_metrics; exit; }
done
lab_up || { echo "t_metrics: 0 passed, 1 failed"; exit 1; }
trap 'exit 130' INT TERM HUP		# lab_down (EXIT) on signals too
D=$WORK/metrics
mkdir -p "$D/state" "$D/prom" "$D/textfile"
SOCK=$D/milter.sock
PMSOCK=$D/policymap.sock
DGSOCK=$D/tlsrpt.sock
C=$D/sts-milter.conf
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|tlsrpt_socket|pid_file|metrics_listen)[ =]' "$LAB_CONF"
	cat <<EOF
state_dir = $D/state
milter_socket = unix:$SOCK
policymap_socket = unix:$PMSOCK
tlsrpt_socket = $DGSOCK
pid_file = $D/sts-milter.pid
metrics_listen = inet:$MPORT@$ADDR
fetch_timeout = 4s
status_interval = 1s
EOF
} > "$C"

MPID= PPID_= NPID=
LAB_CLEANUP='[ -n "$PPID_" ] && { kill $PPID_ 2>/dev/null; wait $PPID_ 2>/dev/null; }
[ -n "$NPID" ] && { kill $NPID 2>/dev/null; wait $NPID 2>/dev/null; }
[ -n "$MPID" ] && { kill $MPID 2>/dev/null; wait $MPID 2>/dev/null; }'

"$MILTER" -f -c "$C" 2>"$D/milter.log" &
MPID=$!
for _ in $(seq 100); do
	[ -S "$SOCK" ] && [ -S "$PMSOCK" ] && curl -sf "http://$ADDR:$MPORT/metrics" >/dev/null && break
	sleep 0.05
done
ok "sts-milter serves /metrics on $ADDR:$MPORT" curl -sf "http://$ADDR:$MPORT/metrics"
expect_match "start-up line names metrics_listen" "$(cat "$D/milter.log")" "metrics_listen=inet:$MPORT@$ADDR"

# policymap_realtime (default yes; the daemon runs as root here): the
# reactors, and only they, at SCHED_RR 1, and the gauge says how many
NPMAP=0 RTBAD=
while read -r s; do
	case $s in
	"2 1 sts-pmap") NPMAP=$((NPMAP + 1)) ;;
	[!0]*|*" sts-pmap") RTBAD="$RTBAD${RTBAD:+, }$s" ;;	# another policy
	esac
done < <(thread_sched "$MPID")
expect_eq "policymap_realtime: no thread but the reactors at SCHED_RR, each at 1" "$RTBAD" ""
expect_eq "policymap_realtime: $(( $(nproc) / 2 > 0 ? $(nproc) / 2 : 1 )) reactor(s) at SCHED_RR 1" \
    "$NPMAP" "$(( $(nproc) / 2 > 0 ? $(nproc) / 2 : 1 ))"
expect_match "policymap_realtime: the log says so" "$(cat "$D/milter.log")" \
    'policymap: reactors at SCHED_RR priority 1 \(policymap_realtime\)'
expect_match "policymap_realtime: the gauge counts them" \
    "$(curl -s "http://$ADDR:$MPORT/metrics")" "^sts_milter_policymap_reactors_realtime $NPMAP\$"

# --- HTTP manners (curl, and raw requests for what curl will not send)
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_eq "GET /metrics: 200" "$(code "http://$ADDR:$MPORT/metrics")" 200
expect_eq "GET /: 404" "$(code "http://$ADDR:$MPORT/")" 404
expect_eq "POST /metrics: 405" "$(code -X POST "http://$ADDR:$MPORT/metrics")" 405
expect_match "405 says Allow: GET, HEAD" "$(curl -s -i -X PUT "http://$ADDR:$MPORT/metrics")" $'Allow: GET, HEAD\r'
expect_match "content type of the text format 0.0.4" \
    "$(curl -s -I "http://$ADDR:$MPORT/metrics")" $'Content-Type: text/plain; version=0.0.4; charset=utf-8\r'
expect_eq "HEAD has no body" "$(curl -s -I "http://$ADDR:$MPORT/metrics" | sed '1,/^\r$/d' | wc -c)" 0
raw() {		# raw TEXT: the status line of the answer to TEXT
	$PY - "$ADDR" "$MPORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(sys.argv[3].encode())
print(s.makefile('rb').readline().decode().strip())
PY
}
expect_eq "an oversize request head: 431" "$(raw "GET /metrics HTTP/1.1
X: $(head -c 5000 /dev/zero | tr '\0' a)
")" "HTTP/1.1 431 Request Header Fields Too Large"
expect_eq "not HTTP: 400" "$(raw $'HELO x\r\n\r\n')" "HTTP/1.1 400 Bad Request"
OUT=$(curl -s "http://$ADDR:$MPORT/metrics")
ok "promtool check metrics accepts the text" sh -c 'printf "%s\n" "$1" | promtool check metrics' - "$OUT"
README_SERIES=$(sed -n '/^## Monitoring/,/^## Benchmarks/p' "$ROOT/README.md" | grep -o '^| `sts_milter_[a-z_]*`' | tr -d '|` ')
expect_eq "the daemon exports exactly the series README lists (postfix_log off)" \
    "$(printf '%s\n' "$OUT" | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' | sort)" \
    "$(printf '%s\n' $README_SERIES | grep -v '^sts_milter_reporter_\|postfix_log\|_fleet_' | sort)"
expect_eq "before any traffic: no decisions" \
    "$(printf '%s\n' "$OUT" | awk '/^sts_milter_rcpt_decisions_total/ { s += $2 } END { print s + 0 }')" 0

# --- Prometheus, scraping every second
cat > "$D/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/conf/prometheus/sts-milter-alerts.yml
scrape_configs:
  - job_name: sts-milter
    static_configs:
      - targets: ['$ADDR:$MPORT']
  - job_name: node
    static_configs:
      - targets: ['$ADDR:$NPORT']
EOF
# node-exporter with its textfile collector only: the reporter's file
"$NODEEXP" --web.listen-address="$ADDR:$NPORT" --collector.disable-defaults \
    --collector.textfile --collector.textfile.directory="$D/textfile" 2>"$D/node-exporter.log" &
NPID=$!
"$PROM" --config.file="$D/prom/prometheus.yml" --storage.tsdb.path="$D/prom/data" \
    --web.listen-address="$ADDR:$PPORT" --log.level=warn 2>"$D/prom/prometheus.log" &
PPID_=$!
for _ in $(seq 200); do
	curl -sf "http://$ADDR:$PPORT/-/ready" >/dev/null && break
	kill -0 "$PPID_" 2>/dev/null || break
	sleep 0.1
done
ok "prometheus is ready on $ADDR:$PPORT" curl -sf "http://$ADDR:$PPORT/-/ready"

# q EXPR: the value of the one sample EXPR gives ("" if none)
q() {
	curl -s "http://$ADDR:$PPORT/api/v1/query" --data-urlencode "query=$1" |
	    jq -r 'if .data.result | length == 1 then .data.result[0].value[1] else "" end'
}
# wait_q EXPR WANT: until Prometheus has scraped it (20 s at most)
wait_q() {
	local i
	for i in $(seq 100); do
		[ "$(q "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
ok "up{job=\"sts-milter\"} is 1" wait_q 'up{job="sts-milter"}' 1

# --- traffic: 9 recipients, one per message, in this order
UNB=$LAB_DIR/unbound/unbound.log
UNB0=$(wc -l < "$UNB")
printf '%s\n' enforce.test enforce.test enforce.test expired.test testing.test \
    nopolicy.test none.test notfound.test badcert.test > "$D/domains"
"$LOAD" -s "unix:$SOCK" -c 1 -r 1 -n 9 -f "$D/domains" -v > "$D/load.out" 2>&1
expect_eq "milter_load: 9 recipients, 1 deferred" \
    "$(grep -o 'rcpts=[0-9]* .*tempfail=[0-9]*' "$D/load.out" | sed 's/ secs.*continue=[0-9]*//')" "rcpts=9 tempfail=1"
# testing.test is probed in the background: wait for that probe
for _ in $(seq 100); do
	curl -s "http://$ADDR:$MPORT/metrics" | grep -q '^sts_milter_probes_total{result="certificate-expired"} 2$' && break
	sleep 0.1
done

# policy-map lookups: socketmap (netstrings) and readsocket (a line)
$PY - "$PMSOCK" > "$D/pm.out" <<'PY'
import socket, sys
def ns(req):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(b'%d:%s,' % (len(req), req)); r = s.recv(65536); s.close(); return r
def line(req):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(req + b'\n'); s.shutdown(socket.SHUT_WR)
    r = b''
    while True:
        d = s.recv(65536)
        if not d: break
        r += d
    s.close(); return r
for r in (ns(b'postfix enforce.test'), ns(b'postfix nopolicy.test'),
          ns(b'postfix-tlsrpt testing.test'), line(b'exim enforce.test')):
    print(r.decode()[:40])
PY
expect_match "policy map answered the four lookups" "$(cat "$D/pm.out" | tr '\n' '|')" \
    '^[0-9]+:OK secure.*\|[0-9]+:NOTFOUND.*\|[0-9]+:OK may.*\|enforce domain=enforce.test'

# libtlsrpt datagrams: three valid (no-policy-found), one refused
$PY - "$DGSOCK" <<'PY'
import socket, sys
ok = (b'{"dpv": "1","d": "nopolicy.test","pr": "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test",'
      b'"policies":[{"policy-type":9,"t":0,"f":0}]}')
bad = b'{"dpv": "1","d": "enforce.test","policies":[{"policy-type":2,"f":7}]}'
for d in (ok, ok, ok, bad):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(d, sys.argv[1]); s.close()
PY

# --- what Prometheus has: every value from the traffic above
ok "Prometheus scraped the datagrams" wait_q 'sts_milter_collector_received_total{source="datagram"}' 4
ok "Prometheus scraped the policy-map lookups" wait_q 'sts_milter_policymap_requests_total' 4
UNB1=$(wc -l < "$UNB")
check() {	# check EXPR WANT
	expect_eq "prometheus: $1" "$(q "$1")" "$2"
}
check 'sts_milter_rcpt_decisions_total{action="accept",mode="enforce"}' 3
check 'sts_milter_rcpt_decisions_total{action="defer",mode="enforce"}' 1
check 'sts_milter_rcpt_decisions_total{action="accept",mode="testing"}' 1
check 'sts_milter_rcpt_decisions_total{action="accept",mode="none"}' 1
check 'sts_milter_rcpt_decisions_total{action="accept",mode="no-policy"}' 3
check 'sts_milter_rcpt_decisions_total{action="accept",mode="exempt"}' 0
check 'sum(sts_milter_rcpt_decisions_total)' 9
check 'sts_milter_deferrals_total{result="certificate-expired"}' 1
check 'sum(sts_milter_deferrals_total)' 1
check 'sts_milter_probes_total{result="success"}' 1
check 'sts_milter_probes_total{result="certificate-expired"}' 2
check 'sum(sts_milter_probes_total)' 3
check 'sts_milter_policy_fetches_total{result="success"}' 4
check 'sts_milter_policy_fetches_total{result="sts-policy-fetch-error"}' 1
check 'sts_milter_policy_fetches_total{result="sts-webpki-invalid"}' 1
check 'sts_milter_policy_fetches_total{result="sts-policy-invalid"}' 0
check 'sts_milter_policy_cache_entries' 7
check 'sts_milter_policy_cache_misses_total' 7
check 'sts_milter_policy_cache_hits_total' 6
check 'sts_milter_policymap_requests_total' 4
check 'sts_milter_policymap_lookups_total{flavour="postfix",reply="secure"}' 1
check 'sts_milter_policymap_lookups_total{flavour="postfix",reply="none"}' 1
check 'sts_milter_policymap_lookups_total{flavour="postfix-tlsrpt",reply="may"}' 1
check 'sts_milter_policymap_lookups_total{flavour="exim",reply="policy"}' 1
check 'sum(sts_milter_policymap_lookups_total)' 4
check 'sts_milter_collector_received_total{source="datagram"}' 4
check 'sts_milter_collector_journaled_total{source="datagram"}' 3
check 'sts_milter_collector_rejected_total{source="datagram"}' 1
check 'sts_milter_collector_dropped_total{reason="queue-full"}' 0
check 'sts_milter_journal_write_errors_total' 0
check 'sts_milter_build_info' 1
check "sts_milter_build_info{version=\"$("$MILTER" -V | awk 'NR == 1 { print $2 }')\"}" 1
check 'sts_milter_start_time_seconds > 0 and sts_milter_uptime_seconds >= 0' \
    "$(q sts_milter_start_time_seconds)"
# DNS: by type, what the traffic asks (7 _mta-sts TXT; 3 MX of the
# probed domains; A and AAAA of 6 policy hosts and 3 MX hosts), and
# exactly what the lab resolver logged while it ran
for tn in TXT:7 MX:3 A:9 AAAA:9; do
	t=${tn%:*}
	n=$(sed -n "$((UNB0 + 1)),${UNB1}p" "$UNB" | grep -c " $t IN\$")
	expect_eq "lab resolver: $t queries" "$n" "${tn#*:}"
	check "sts_milter_dns_queries_total{type=\"$t\"}" "$n"
done
check 'sum(sts_milter_dns_failures_total)' 0
# bounded labels: no label value of any series names a domain or address
expect_eq "no series has a domain or address in a label" "$(curl -s "http://$ADDR:$PPORT/api/v1/series" \
    --data-urlencode 'match[]={__name__=~"sts_milter_.*"}' |
    jq '[.data[] | to_entries[] | select(.key != "instance") | .value | select(test("\\.test|127\\."))] | length')" 0
expect_eq "the alert rules of conf/ loaded, all healthy" "$(curl -s "http://$ADDR:$PPORT/api/v1/rules" |
    jq -c '[.data.groups[].rules[] | .health] | [length, unique]')" '[6,["ok"]]'
expect_eq "and none fires on a healthy daemon" "$(curl -s "http://$ADDR:$PPORT/api/v1/alerts" |
    jq '.data.alerts | length')" 0

# --- tlsrpt-reporter on today's journal (report_clock: the day is
# over).  Its SMTP relay refuses, and the lab's https rua answers 404:
# every delivery fails.  By hand on a terminal it shows a table; from
# cron (no terminal) nothing but its log; both write the textfile.
TOMORROW=$(date -u -d tomorrow +%F)
TODAY=$(date -u +%F)
RC_=$D/reporter.conf
{
	cat "$C"
	echo "report_clock = ${TOMORROW}T00:30:00Z"
	echo "report_org_name = Lab Sender"
	echo "report_contact = tlsrpt@reporter.test"
	echo "report_smtp = $ADDR:2"
	echo "report_metrics_file = $D/textfile/tlsrpt-reporter.prom"
} > "$RC_"
script -qec "$R -c $RC_" /dev/null > "$D/tty.out" 2>&1
expect_eq "reporter on a terminal: retries pending (75)" "$?" 75
sed 's/\r$//; s/.*\x1b\[K//' "$D/tty.out" > "$D/tty.txt"
expect_match "terminal: a table header" "$(cat "$D/tty.txt")" \
    '^DAY +SESSIONS +REPORTS +DELIVERED +PENDING +GAVE-UP +NO-RUA +FAILED$'
ROW=$(grep "^$TODAY " "$D/tty.txt" | tr -s ' ')
# 8 sessions: 3 probes (enforce, expired, testing), 3 datagrams
# (nopolicy), 2 failed fetches (notfound, badcert); 6 reports, 3 of
# them for domains without a TLSRPT record (nopolicy, notfound,
# badcert); 3 pending after 4 failed deliveries (enforce, expired and
# testing by mail; testing by https)
expect_eq "terminal: the day's row" "$ROW" "$TODAY 8 6 0 3 0 3 4"
expect_eq "terminal: the total row" "$(grep '^total ' "$D/tty.txt" | tr -s ' ')" "total 8 6 0 3 0 3 4"
expect_match "terminal: the summary line" "$(cat "$D/tty.txt")" \
    '^1 days, 8 sessions, 6 reports built, 0 delivered \(0 by mail, 0 by https\), 3 pending retry, 0 given up, 3 domains without rua$'
TF=$D/textfile/tlsrpt-reporter.prom
expect_eq "textfile after it: failed deliveries by transport" \
    "$(grep '^sts_milter_reporter_reports_failed' "$TF" | tr '\n' ' ')" \
    'sts_milter_reporter_reports_failed{transport="smtp"} 3 sts_milter_reporter_reports_failed{transport="https"} 1 '
ok "terminal: progress shown (building, delivering)" grep -q 'delivering report 1 of 6' "$D/tty.out"
"$R" -c "$RC_" > "$D/cron.out" 2> "$D/cron.err"
expect_eq "reporter from cron (no terminal): retries pending (75)" "$?" 75
expect_eq "from cron: nothing on stdout or stderr" "$(cat "$D/cron.out" "$D/cron.err")" ""
TF=$D/textfile/tlsrpt-reporter.prom
expect_eq "textfile is readable by node-exporter (0644)" "$(stat -c %a "$TF")" 644
ok "promtool check metrics accepts the textfile" sh -c "promtool check metrics < '$TF'"
expect_eq "the textfile has exactly the series README lists" \
    "$(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$TF" | sort)" \
    "$(printf '%s\n' $README_SERIES | grep '^sts_milter_reporter_' | sort)"
# Prometheus, through node-exporter: the second run's figures (both runs
# processed one period; the second built no report, the first 6: until
# Prometheus has scraped the second's file it still shows the first's)
ok "Prometheus scraped the reporter's textfile" wait_q 'sts_milter_reporter_periods_processed{job="node"}' 1
ok "Prometheus scraped the second run's textfile" wait_q 'sts_milter_reporter_reports_built{job="node"}' 0
check 'sts_milter_reporter_reports_built' 0
check 'sts_milter_reporter_retries_pending' 3
check 'sts_milter_reporter_reports_failed{transport="smtp"}' 0	# none due
check 'sts_milter_reporter_domains_without_rua' 0	# found before
check 'sts_milter_reporter_last_run_exit_code' 75
check 'sts_milter_reporter_last_success_timestamp_seconds' 0
check 'sts_milter_reporter_last_run_timestamp_seconds' "$(date -u -d "${TOMORROW}T00:30:00Z" +%s)"
check 'node_textfile_scrape_error' 0
# A run that leaves nothing to do is a success: two days later every
# retry is given up (RPT-RETRY-1: 24 hours), and the next run is clean
LATER=$(date -u -d "$TOMORROW + 2 days" +%F)T01:00:00Z
sed -i "s/^report_clock = .*/report_clock = $LATER/" "$RC_"
"$R" -c "$RC_" > /dev/null 2>&1
"$R" -c "$RC_" > /dev/null 2>&1
expect_eq "after the give-up: exit 0" "$?" 0
expect_match "the textfile has the last success" "$(cat "$TF")" \
    "^sts_milter_reporter_last_success_timestamp_seconds $(date -u -d "$LATER" +%s)\$"

# --- stsctl for a person (a terminal: script(1) gives it a pty) and
# for scripts (a pipe, or --json): the same facts
S=$BUILD/stsctl
on_tty() { script -qec "$S -c $C $*" /dev/null | tr -d '\r'; }
OUT=$(on_tty deferrals)
expect_match "stsctl deferrals on a terminal: a table" "$OUT" \
    '^DOMAIN +RESULT +COUNT +FIRST +LAST +POLICY-ID +MX$'
expect_match "... with the deferral's row" "$OUT" \
    '^expired\.test +certificate-expired +1 +[0-9T:-]+Z +[0-9T:-]+Z +exp1 +mx\.expired\.test$'
expect_eq "stsctl deferrals in a pipe: JSON lines" \
    "$("$S" -c "$C" deferrals | jq -r '[.domain, .result, .count, .policy_id] | @tsv')" \
    "$(printf 'expired.test\tcertificate-expired\t1\texp1')"
expect_match "stsctl deferrals --json on a terminal: JSON" "$(on_tty deferrals --json)" \
    '^\{"domain":"expired\.test","result":"certificate-expired","count":1,'
OUT=$(on_tty reports)
expect_match "stsctl reports on a terminal: a table" "$OUT" \
    '^DAY +DOMAIN +SUCCESS +FAILURE +RUA +FINAL +DESTINATION +STATE +ATTEMPTS +NEXT$'
expect_eq "... a row per report, as many as JSON lines in a pipe" \
    "$(printf '%s\n' "$OUT" | grep -c "^$TODAY ")" "$("$S" -c "$C" reports | grep -c "\"day\":\"$TODAY\"")"
expect_match "... testing.test: two destinations, both given up" "$OUT" \
    "^$TODAY +testing\\.test +[0-9]+ +[0-9]+ +found +true +mailto:tlsrpt@reports\\.test,https://mta-sts\\.reports\\.test/tlsrpt +gaveup,gaveup "
OUT=$(on_tty cache list)
expect_match "stsctl cache list on a terminal: a table" "$OUT" \
    '^DOMAIN +MODE +ID +MX +MAX-AGE +FETCHED +EXPIRES$'
expect_match "... enforce.test's row" "$OUT" '^enforce\.test +enforce +enf1 +[^ ]*mx1\.enforce\.test'
expect_eq "stsctl cache list: rows = JSON lines" "$(printf '%s\n' "$OUT" | grep -vc '^DOMAIN ')" \
    "$("$S" -c "$C" cache list | wc -l)"
sleep 1.2			# status_interval = 1s
OUT=$(on_tty status)
expect_match "stsctl status on a terminal: KEY VALUE" "$OUT" '^KEY +VALUE$'
expect_match "... gate.rcpts" "$OUT" '^gate\.rcpts +9$'
expect_match "... running" "$OUT" '^running +true$'
expect_eq "stsctl status in a pipe: JSON" "$("$S" -c "$C" status | jq -c '[.gate.rcpts, .gate.deferred, .running]')" \
    "[9,1,true]"

# --- a silent metrics client holds the listener, never the mail path
exec 3<>"/dev/tcp/$ADDR/$MPORT"
T0=$(date +%s%N)
"$LOAD" -s "unix:$SOCK" -c 1 -r 1 -n 1 -f "$D/domains" > "$D/load2.out" 2>&1
T1=$(date +%s%N)
expect_eq "an RCPT while a metrics client is silent: answered" \
    "$(grep -o 'rcpts=[0-9]*' "$D/load2.out")" "rcpts=1"
ok "... within a second" test $(( (T1 - T0) / 1000000 )) -lt 1000
expect_eq "the silent client gets 408 after the timeout" "$(timeout 10 head -n 1 <&3 | tr -d '\r')" \
    "HTTP/1.1 408 Request Timeout"
exec 3<&-
expect_eq "and the next scrape is answered" "$(code "http://$ADDR:$MPORT/metrics")" 200

kill "$PPID_"; wait "$PPID_" 2>/dev/null; PPID_=
kill "$NPID"; wait "$NPID" 2>/dev/null; NPID=
kill "$MPID"; wait "$MPID"; RC=$?; MPID=
expect_eq "sts-milter stops cleanly" "$RC" 0
ok "the metrics port is closed" sh -c "! curl -s http://$ADDR:$MPORT/metrics"
[ "$T_FAIL" -gt 0 ] && { sed 's/^/  milter: /' "$D/milter.log" | tail -20; tail -5 "$D/prom/prometheus.log"; }
done_tests t_metrics
