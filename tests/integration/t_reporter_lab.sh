#!/bin/bash
# t_reporter_lab.sh - tlsrpt-reporter end to end in the lab (issue 4):
# the lab's DNS (unbound) serves the _smtp._tls records and the DKIM
# key; reports go to a real SMTP sink (python3-aiosmtpd) through
# report_smtp and to a real HTTPS sink (lab CA certificate); received
# mail is parsed, the attachment gunzipped and checked, and the DKIM
# signature verified by python3-dkim against the key in the lab DNS.
# A sink that refuses, then accepts, proves the retry path; a run killed
# in the middle of a delivery, then rerun, proves that nothing is lost
# and that a resend carries the same report-id and bytes.  The lab's
# nginx answers 404 for the testing.test https rua, which must not
# count as delivered (RPT-HTTP-2).
#
# Most runs use a journal written by tests/reporter/mkjournal.py with the
# lab's policy texts (fixed content, so counts can be checked); the last
# part drives the real sts-milter with milter_load, so its gate probes
# the lab MX hosts and journals real sessions, which are then reported
# and delivered (report_clock pretends the day is over).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
R=$BUILD/tlsrpt-reporter
PY=/usr/bin/python3
SMTP_IP=127.0.5.1 SMTP_PORT=2525
HTTPS_IP=127.0.3.3

if ! $PY -c 'import aiosmtpd, dkim, jsonschema, dns.resolver' 2>/dev/null; then
	skip "lab e2e" "python3-aiosmtpd, -dkim, -jsonschema or -dnspython missing"
	done_tests t_reporter_lab
	exit 0
fi
lab_up || { echo "t_reporter_lab: 0 passed, 1 failed"; exit 1; }
OVR=$LAB_DIR/dns/override
MYOVR="_smtp._tls.rpt1.test. _smtp._tls.rpt2.test. sink.rpt.test. tlsrpt._domainkey.reporter.test."
stop_sinks() {
	local f
	for f in "$WORK"/smtp*/pid "$WORK"/smtps/pid "$WORK"/https/pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	return 0
}
LAB_CLEANUP='stop_sinks; for o in $MYOVR; do rm -f "$OVR/$o"; done; "$LAB" reload-zone >/dev/null 2>&1'

# --- identity, DKIM key, DNS records (lab overrides, removed at exit)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/dkim.key" 2>/dev/null
C=$(conf_for rep "report_org_name = Lab Sender" \
    "report_contact = tlsrpt@reporter.test" "report_from = tlsrpt@reporter.test" \
    "report_smtp = $SMTP_IP:$SMTP_PORT" "dkim_domain = reporter.test" \
    "dkim_selector = tlsrpt" "dkim_key_file = $WORK/dkim.key")
STATE=$WORK/rep/state
"$R" -c "$C" --dkim-txt > "$WORK/dkim.txt"
p=$(sed -n 's/.*"\(v=DKIM1.*\)"$/\1/p' "$WORK/dkim.txt")
# a TXT string holds 255 octets at most: split the key record
{
	printf 'tlsrpt._domainkey.reporter.test. 1 IN TXT'
	while [ -n "$p" ]; do printf ' "%s"' "${p:0:250}"; p=${p:250}; done
	echo
} > "$OVR/tlsrpt._domainkey.reporter.test."
echo '_smtp._tls.rpt1.test. 1 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test,https://sink.rpt.test/tlsrpt"' \
    > "$OVR/_smtp._tls.rpt1.test."
echo '_smtp._tls.rpt2.test. 1 IN TXT "v=TLSRPTv1;rua=mailto:rpt2%2Breports@reports.test"' \
    > "$OVR/_smtp._tls.rpt2.test."
echo "sink.rpt.test. 1 IN A $HTTPS_IP" > "$OVR/sink.rpt.test."
"$LAB" reload-zone > "$WORK/reload.log" 2>&1
expect_eq "lab zone takes the reporter's records" "$?" 0
expect_match "DKIM key published in the lab DNS" \
    "$(dig +short @127.0.2.1 TXT tlsrpt._domainkey.reporter.test 2>/dev/null)" 's=tlsrpt'

# --- sinks
mkdir -p "$WORK/smtp" "$WORK/https"
LAB_DIR=$LAB_DIR "$ROOT/tests/lab/mkcert" rptsink sink.rpt.test > /dev/null 2>&1
$PY "$ROOT/tests/reporter/sinks.py" smtp $SMTP_IP $SMTP_PORT "$WORK/smtp" > "$WORK/smtp.log" 2>&1 &
$PY "$ROOT/tests/reporter/sinks.py" https $HTTPS_IP 443 "$LAB_DIR/ca/rptsink.chain.pem" \
    "$LAB_DIR/ca/rptsink.key" "$WORK/https" > "$WORK/https.log" 2>&1 &
for i in $(seq 50); do
	[ -f "$WORK/smtp/pid" ] && [ -f "$WORK/https/pid" ] && break
	sleep 0.1
done
expect_eq "sinks started" "$(ls "$WORK/smtp/pid" "$WORK/https/pid" 2>/dev/null | wc -l)" 2

# --- a day of sessions (yesterday, UTC) for four policy domains
DAY=$(date -u -d yesterday +%F)
T=$(date -u -d "$DAY 06:00:00" +%s)
{
	for d in enforce.test testing.test rpt1.test rpt2.test; do
		pol=enforce.test; [ $d = testing.test ] && pol=testing.test
		for k in 1 2 3; do
			echo "{\"type\":\"session\",\"time\":$((T + k)),\"src\":\"probe\",\"ptype\":\"sts\",\"domain\":\"$d\",\"phash\":\"@$pol\",\"mx\":\"mx1.$d\",\"sip\":\"127.0.0.1\",\"rip\":\"127.0.1.1\",\"result\":\"success\"}"
		done
		echo "{\"type\":\"session\",\"time\":$((T + 9)),\"src\":\"probe\",\"ptype\":\"sts\",\"domain\":\"$d\",\"phash\":\"@$pol\",\"mx\":\"mx2.$d\",\"sip\":\"127.0.0.1\",\"rip\":\"127.0.1.2\",\"helo\":\"mx2.$d\",\"result\":\"certificate-host-mismatch\",\"reason\":\"X509_V_ERR_HOSTNAME_MISMATCH\"}"
		# our own report delivery: never counted (RPT-MAIL-8)
		echo "{\"type\":\"session\",\"time\":$((T + 20)),\"src\":\"report\",\"ptype\":\"sts\",\"domain\":\"$d\",\"phash\":\"@$pol\",\"mx\":\"mx1.$d\",\"sip\":\"127.0.0.1\",\"rip\":\"127.0.1.1\",\"result\":\"starttls-not-supported\"}"
	done
} > "$WORK/day.in"
$PY "$ROOT/tests/reporter/mkjournal.py" "$STATE" "$WORK/day.in" "$ROOT/tests/lab/policies"

# --- dry run: what a strict consumer would get
"$R" -c "$C" --dry-run > "$WORK/dry.out" 2> "$WORK/dry.err"
expect_eq "dry run exit status" "$?" 0
if $PY "$ROOT/tests/reporter/check_report.py" dryrun "$WORK/dry.out" --count 4 \
    --dns 127.0.2.1 > "$WORK/dry.check" 2>&1; then
	pass "dry run: $(grep -c '^ok' "$WORK/dry.check") checks (schema, MIME, DKIM via lab DNS)"
else
	fail "dry run checks" "$(grep FAIL "$WORK/dry.check" | head -3)"
fi
expect_match "dry run looked up the rua in the lab DNS" "$(cat "$WORK/dry.out")" \
    'rua: mailto:tlsrpt@reports.test https://sink.rpt.test/tlsrpt'

# --- run 1: the SMTP sink refuses (451); HTTPS delivered; retry pending
touch "$WORK/smtp/refuse"
NOW=$(date -u +%s)
at() { date -u -d "@$((NOW + $1))" +%Y-%m-%dT%H:%M:%SZ; }
cat "$C" > "$WORK/c1.conf"; echo "report_clock = $(at 0)" >> "$WORK/c1.conf"
"$R" -c "$WORK/c1.conf" > "$WORK/run1.out" 2>&1
expect_eq "run 1: EX_TEMPFAIL while the SMTP sink refuses" "$?" 75
expect_eq "run 1: no mail stored" "$(ls "$WORK/smtp"/*.eml 2>/dev/null | wc -l)" 0
expect_eq "run 1: the HTTPS sink got rpt1's report" "$(ls "$WORK/https"/*.gz 2>/dev/null | wc -l)" 1
expect_eq "run 1: Content-Type application/tlsrpt+gzip" "$(cat "$WORK/https/001.ctype" 2>/dev/null)" "application/tlsrpt+gzip"
st=$(cat "$STATE/reporter/$DAY/rpt2.test.state" 2>/dev/null)
expect_match "run 1: rpt2 mailto pending with a reason" "$st" 'dest pending 1 .*mailto:rpt2%252Breports@reports.test .*451'
expect_match "run 1: testing.test https 404 is not delivered" \
    "$(cat "$STATE/reporter/$DAY/testing.test.state")" 'dest pending 1 .*https://mta-sts.reports.test/tlsrpt HTTP%20status%20404'

# --- run 2, too early: nothing is due (back-off 5 min)
cat "$C" > "$WORK/c2.conf"; echo "report_clock = $(at 60)" >> "$WORK/c2.conf"
rm -f "$WORK/smtp/refuse"
"$R" -c "$WORK/c2.conf" > "$WORK/run2.out" 2>&1
expect_eq "run 2 (+1 min): nothing due, nothing sent" "$(ls "$WORK/smtp"/*.eml 2>/dev/null | wc -l)" 0

# --- run 3 (+6 min): the sink accepts now
cat "$C" > "$WORK/c3.conf"; echo "report_clock = $(at 360)" >> "$WORK/c3.conf"
"$R" -c "$WORK/c3.conf" > "$WORK/run3.out" 2>&1
expect_eq "run 3: EX_TEMPFAIL (testing.test https still 404)" "$?" 75
expect_eq "run 3: four reports mailed" "$(ls "$WORK/smtp"/*.eml 2>/dev/null | wc -l)" 4
if $PY "$ROOT/tests/reporter/check_report.py" mail "$WORK"/smtp/*.eml --dns 127.0.2.1 \
    > "$WORK/mail.check" 2>&1; then
	pass "received mail: $(grep -c '^ok' "$WORK/mail.check") checks (headers, gzip, schema, DKIM via lab DNS)"
else
	fail "received mail checks" "$(grep -E 'FAIL|dkim' "$WORK/mail.check" | head -3)"
fi
expect_match "envelope sender is report_from" "$(head -1 "$WORK/smtp/001.eml")" 'X-Envelope-From: tlsrpt@reporter.test'
expect_match "mailto is percent-decoded (RPT-TXT-4)" "$(grep -h X-Envelope-To "$WORK"/smtp/*.eml)" 'rpt2\+reports@reports.test'
if $PY "$ROOT/tests/reporter/check_report.py" gz "$WORK"/https/*.gz > "$WORK/gz.check" 2>&1; then
	pass "HTTPS body: gzip of a valid report"
else
	fail "HTTPS body" "$(grep FAIL "$WORK/gz.check" | head -3)"
fi
# the same report went by mail and by https: the same report-id
rid_https=$($PY -c 'import gzip,json,sys; print(json.loads(gzip.decompress(open(sys.argv[1],"rb").read()))["report-id"])' "$WORK/https/001.gz")
expect_match "one report-id for mail and https" "$(grep -h '^Subject:' "$WORK"/smtp/*.eml)" "Report-ID: <$rid_https@reporter.test>"

# stsctl reports: where each report stands, as the operator sees it
"$BUILD/stsctl" -c "$WORK/c3.conf" reports --day "$DAY" > "$WORK/reports.json" 2>&1
expect_eq "stsctl reports: exit 0" "$?" 0
$PY - "$WORK/reports.json" > "$WORK/reports.check" 2>&1 <<'PYEOF'
import json, sys
r = {j["domain"]: j for j in map(json.loads, open(sys.argv[1]))}
def show(c, what):
    print(("ok   " if c else "FAIL ") + what)
show(sorted(r) == ["enforce.test", "rpt1.test", "rpt2.test", "testing.test"], "four reports listed")
d = {x["uri"]: x for x in r["rpt1.test"]["destinations"]}
show(d["mailto:tlsrpt@reports.test"]["state"] == "delivered" and
     d["https://sink.rpt.test/tlsrpt"]["state"] == "delivered" and
     d["mailto:tlsrpt@reports.test"]["attempts"] == 2, "rpt1: both delivered, mail on the 2nd attempt")
show(r["rpt1.test"]["final"] is True and r["rpt1.test"]["rua"] == "found" and
     r["rpt1.test"]["sessions"] == {"success": 3, "failure": 1}, "rpt1: final, rua found, 3 + 1 sessions")
t = {x["uri"]: x for x in r["testing.test"]["destinations"]}
h = t["https://mta-sts.reports.test/tlsrpt"]
show(h["state"] == "pending" and "404" in h.get("last_error", "") and "next" in h,
     "testing.test: https pending, last error 404, next attempt given")
show(r["testing.test"]["final"] is False, "testing.test: not final")
show(all(len(j["report_id"]) > 10 for j in r.values()), "report ids")
PYEOF
while read -r st what; do
	case $st in ok) pass "stsctl reports: $what" ;; *) fail "stsctl reports: $what" "$(head -c 300 "$WORK/reports.json")" ;; esac
done < "$WORK/reports.check"

# --- report_smtp_tls = starttls: a relay that requires STARTTLS, its
# certificate (lab CA, name localhost) and name verified
mkdir -p "$WORK/smtps"
LAB_DIR=$LAB_DIR "$ROOT/tests/lab/mkcert" rptrelay localhost > /dev/null 2>&1
SPORT=$((30000 + RANDOM % 20000))
$PY "$ROOT/tests/reporter/sinks.py" smtp-starttls 127.0.0.1 $SPORT "$LAB_DIR/ca/rptrelay.chain.pem" \
    "$LAB_DIR/ca/rptrelay.key" "$WORK/smtps" > "$WORK/smtps.log" 2>&1 &
for i in $(seq 50); do [ -f "$WORK/smtps/pid" ] && break; sleep 0.1; done
STATE3=$WORK/rep3/state
mkdir -p "$STATE3"
$PY "$ROOT/tests/reporter/mkjournal.py" "$STATE3" "$WORK/day.in" "$ROOT/tests/lab/policies"
relay_run() {	# NAME TLS SMTP: one run against the STARTTLS relay
	{ sed -e "s#^state_dir = .*#state_dir = $STATE3#" -e '/^report_smtp/d' "$WORK/c3.conf"
	  echo "report_smtp = $3"; echo "report_smtp_tls = $2"; } > "$WORK/$1.conf"
	"$R" -c "$WORK/$1.conf" --domain rpt2.test > "$WORK/$1.out" 2>&1
}
relay_run plain none "localhost:$SPORT"
expect_eq "relay requires STARTTLS, report_smtp_tls = none: not delivered" \
    "$(ls "$WORK"/smtps/*.eml 2>/dev/null | wc -l)" 0
expect_match "... the relay's 530 (to MAIL: its configuration) is retried" \
    "$(cat "$STATE3/reporter/$DAY/rpt2.test.state")" 'dest pending 1 .*530'
rm -rf "$STATE3/reporter"
relay_run badname starttls "127.0.0.1:$SPORT"
expect_eq "starttls to a name the certificate does not carry: not delivered" \
    "$(ls "$WORK"/smtps/*.eml 2>/dev/null | wc -l)" 0
expect_match "... a temporary failure naming the certificate" \
    "$(cat "$STATE3/reporter/$DAY/rpt2.test.state")" 'dest pending 1 .*(certificate|SSL|subject)'
rm -rf "$STATE3/reporter"
relay_run tls starttls "localhost:$SPORT"
expect_eq "report_smtp_tls = starttls: delivered over verified STARTTLS" \
    "$(ls "$WORK"/smtps/*.eml 2>/dev/null | wc -l)" 1
rm -rf "$STATE3/reporter"
touch "$WORK/smtps/reject"
relay_run rej starttls "localhost:$SPORT"
expect_match "a 550 to the recipient is permanent: given up" \
    "$(cat "$STATE3/reporter/$DAY/rpt2.test.state")" 'dest gaveup 1 .*550'
kill "$(cat "$WORK/smtps/pid")" 2>/dev/null

# --- run 4: a rerun sends nothing twice
cat "$C" > "$WORK/c4.conf"; echo "report_clock = $(at 420)" >> "$WORK/c4.conf"
"$R" -c "$WORK/c4.conf" > "$WORK/run4.out" 2>&1
expect_eq "run 4: rerun sends nothing again" "$(ls "$WORK"/smtp/*.eml "$WORK"/https/*.gz | wc -l)" 5

# --- killed run: a second state, the sink hangs on the 2nd message
STATE2=$WORK/rep2/state
mkdir -p "$STATE2"
$PY "$ROOT/tests/reporter/mkjournal.py" "$STATE2" "$WORK/day.in" "$ROOT/tests/lab/policies"
sed "s#^state_dir = .*#state_dir = $STATE2#" "$WORK/c3.conf" > "$WORK/k.conf"
mkdir -p "$WORK/smtp2"
kill "$(cat "$WORK/smtp/pid")"; sleep 0.5
echo 2 > "$WORK/smtp2/slow"
$PY "$ROOT/tests/reporter/sinks.py" smtp $SMTP_IP $SMTP_PORT "$WORK/smtp2" > "$WORK/smtp2.log" 2>&1 &
for i in $(seq 50); do [ -f "$WORK/smtp2/pid" ] && break; sleep 0.1; done
"$R" -c "$WORK/k.conf" > "$WORK/k1.out" 2>&1 &
rpid=$!
for i in $(seq 100); do [ -f "$WORK/smtp2/inflight" ] && break; sleep 0.1; done
# meanwhile a second run finds the lock held
"$R" -c "$WORK/k.conf" > "$WORK/lock.out" 2>&1
expect_eq "concurrent run: lock held, EX_TEMPFAIL" "$?" 75
kill -9 $rpid 2>/dev/null; wait $rpid 2>/dev/null
expect_eq "run killed during the 2nd delivery" "$([ -f "$WORK/smtp2/inflight" ] && echo yes)" yes
sleep 9		# the hung delivery completes at the sink: a real duplicate risk
"$R" -c "$WORK/k.conf" > "$WORK/k2.out" 2>&1
$PY - "$WORK/smtp2" > "$WORK/k.check" <<'PYEOF'
import email, gzip, os, re, sys
d = sys.argv[1]
ids = {}
for f in sorted(os.listdir(d)):
    if not f.endswith(".eml"):
        continue
    m = email.message_from_bytes(open(os.path.join(d, f), "rb").read())
    rid = re.search(r"<([^@]+)@", m["Subject"]).group(1)
    att = gzip.decompress(m.get_payload()[1].get_payload(decode=True))
    ids.setdefault((m["TLS-Report-Domain"], rid), set()).add(att)
doms = {k[0] for k in ids}
print("domains", len(doms))
print("ids", len(ids))
print("variants", max(len(v) for v in ids.values()))
PYEOF
expect_eq "after kill + rerun: every domain's report arrived" "$(sed -n 's/^domains //p' "$WORK/k.check")" 4
expect_eq "after kill + rerun: one report-id per domain" "$(sed -n 's/^ids //p' "$WORK/k.check")" 4
expect_eq "a resend is byte-identical" "$(sed -n 's/^variants //p' "$WORK/k.check")" 1
expect_match "at most one resend (the one in flight)" "$(ls "$WORK"/smtp2/*.eml | wc -l)" '^[45]$'
# --- real probe sessions: the milter's gate journals them, the reporter
# reports them.  milter_load (tests/bench) speaks the MTA side of the
# milter protocol; the MX hosts are the lab's (when it has them).
MILTER=$BUILD/sts-milter
LOAD=$BUILD/bench/milter_load
[ -x "$LOAD" ] || make --no-print-directory -C "$ROOT" BUILD="$BUILD" "$LOAD" >/dev/null 2>&1
if [ ! -x "$MILTER" ] || [ ! -x "$LOAD" ]; then
	skip "real probe sessions" "sts-milter or milter_load not built"
else
	M=$WORK/m
	mkdir -p "$M/state"
	{
		grep -Ev '^(state_dir|milter_socket|policymap_socket|pid_file|report_clock)[ =]' "$C"
		echo "state_dir = $M/state"
		echo "milter_socket = unix:$M/milter.sock"
		echo "policymap_socket ="
		echo "pid_file = $M/sts-milter.pid"
	} > "$M/m.conf"
	"$MILTER" -f -c "$M/m.conf" > "$M/milter.log" 2>&1 &
	mpid=$!
	for i in $(seq 50); do [ -S "$M/milter.sock" ] && break; sleep 0.1; done
	printf 'enforce.test\ntesting.test\n' > "$M/domains"
	"$LOAD" -s "unix:$M/milter.sock" -n 4 -r 1 -f "$M/domains" > "$M/load.out" 2>&1
	sleep 1
	kill $mpid 2>/dev/null; wait $mpid 2>/dev/null
	TODAY=$(date -u +%F)
	n=$(grep -c '"type":"session"' "$M/state/journal/$TODAY.jnl" 2>/dev/null)
	if [ "${n:-0}" -eq 0 ]; then
		fail "the milter journaled probe sessions" "$(tail -3 "$M/milter.log")"
	else
		pass "the milter journaled $n probe sessions"
		# report today's sessions: pretend the day is over
		TOMORROW=$(date -u -d tomorrow +%F)
		sed "s#^state_dir = .*#state_dir = $M/state#" "$C" > "$M/r.conf"
		echo "report_clock = ${TOMORROW}T00:30:00Z" >> "$M/r.conf"
		"$R" -c "$M/r.conf" --dry-run > "$M/dry.out" 2>&1
		rnow=$(date -u -d "${TOMORROW}T00:30:00Z" +%s)
		if $PY "$ROOT/tests/reporter/check_report.py" dryrun "$M/dry.out" \
		    --dns 127.0.2.1 --now "$rnow" > "$M/dry.check" 2>&1; then
			pass "reports of real probe sessions: $(grep -c '^ok' "$M/dry.check") checks"
		else
			fail "reports of real probe sessions" "$(grep -E "FAIL|dkim:" "$M/dry.check" | head -4)"
		fi
		expect_match "enforce.test's report names the lab MX" "$(cat "$M/dry.out")" 'mx1?\.enforce\.test'
		before=$(ls "$WORK"/smtp2/*.eml | wc -l)
		"$R" -c "$M/r.conf" > "$M/run.out" 2>&1
		after=$(ls "$WORK"/smtp2/*.eml | wc -l)
		expect_eq "reports of real probe sessions delivered" "$((after - before))" 2
		new=$(ls "$WORK"/smtp2/*.eml | tail -2)
		if $PY "$ROOT/tests/reporter/check_report.py" mail $new --dns 127.0.2.1 \
		    --now "$rnow" > "$M/mail.check" 2>&1; then
			pass "delivered reports of real sessions: DKIM and content checks"
		else
			fail "delivered reports of real sessions" "$(grep FAIL "$M/mail.check" | head -3)"
		fi
	fi
fi

stop_sinks
done_tests t_reporter_lab
