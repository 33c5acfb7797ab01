#!/bin/bash
# t_fleet.sh - one report per policy domain per day for a fleet (issue 12
# items 4-6), against a real redis-server, the lab's DNS and a real SMTP
# sink.
#
# Part 1, the reporter on exactly known content: three nodes' journals
# (tests/reporter/mkjournal.py, each node with its own sending IP) are
# put into Redis as the shipper does (tests/reporter/fleetship.py).
# The day waits for the node that has not closed it; two reporters
# started at once: one leads, one does nothing; the leader is killed
# with kill -9 in the middle of a delivery and rerun: every domain gets
# exactly one report-id, a resend is byte-identical, and each report's
# counts are the sum of the three journals with each node's
# sending-mta-ip.  Records shipped after the build are counted and
# logged, never sent; a Redis that lost everything is re-filled and
# nothing is sent again; a node that never closes the day is reported
# without after fleet_report_grace; a reporter whose lease is taken while
# it sends is fenced off and, rerun, does not send again; retention.
#
# Part 2, three real sts-milter daemons as three nodes (own state dirs),
# shipping for real to the same Redis; traffic through each: node 1
# through the lab's real sending Postfix, nodes 2 and 3 with milter_load,
# while Redis is killed with kill -9 and restarted (with its data), then
# restarted without any data (the nodes ship their journals again);
# every node's list in Redis then holds exactly its journal, and the one
# report per domain of the day equals the sum of the three journals.
# Each node probes from its own address (probe_bind_address =
# 127.0.20.N): its probe records carry it, the MX hosts see the
# connections come from it, and the report's failure details keep each
# node's sending-mta-ip.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
R=$BUILD/tlsrpt-reporter
PY=/usr/bin/python3
SMTP_IP=127.0.5.1 SMTP_PORT=2525

if ! $PY -c 'import aiosmtpd, dkim, jsonschema, dns.resolver' 2>/dev/null; then
	skip "fleet" "python3-aiosmtpd, -dkim, -jsonschema or -dnspython missing"
	done_tests t_fleet
	exit 0
fi
if [ ! -x /usr/bin/redis-server ]; then
	skip "fleet" "redis-server missing (tests/deps.sh installs it)"
	done_tests t_fleet
	exit 0
fi
lab_up || { echo "t_fleet: 0 passed, 1 failed"; exit 1; }
lab_redis_start || { fail "redis-server starts"; done_tests t_fleet; exit 1; }
RC() { lab_redis_cli r "$@"; }
OVR=$LAB_DIR/dns/override
MYOVR="_smtp._tls.fleet1.test. _smtp._tls.fleet2.test. tlsrpt._domainkey.fleet.test."
stop_sinks() {
	local f
	for f in "$WORK"/smtp*/pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	return 0
}
LAB_CLEANUP='stop_sinks; for o in $MYOVR; do rm -f "$OVR/$o"; done; "$LAB" reload-zone >/dev/null 2>&1'

# --- identity, DKIM key, rua records in the lab DNS
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/dkim.key" 2>/dev/null
BASE=$(conf_for base "report_org_name = Lab Fleet" \
    "report_contact = tlsrpt@fleet.test" "report_from = tlsrpt@fleet.test" \
    "report_smtp = $SMTP_IP:$SMTP_PORT" "dkim_domain = fleet.test" \
    "dkim_selector = tlsrpt" "dkim_key_file = $WORK/dkim.key" \
    "fleet_redis = unix:$REDIS_SOCK" "fleet_report_grace = 6h")
"$R" -d -c "$BASE" --dkim-txt > "$WORK/dkim.txt"
p=$(sed -n 's/.*"\(v=DKIM1.*\)"$/\1/p' "$WORK/dkim.txt")
{
	printf 'tlsrpt._domainkey.fleet.test. 1 IN TXT'
	while [ -n "$p" ]; do printf ' "%s"' "${p:0:250}"; p=${p:250}; done
	echo
} > "$OVR/tlsrpt._domainkey.fleet.test."
for d in fleet1 fleet2; do
	echo "_smtp._tls.$d.test. 1 IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@reports.test\"" \
	    > "$OVR/_smtp._tls.$d.test."
done
"$LAB" reload-zone > "$WORK/reload.log" 2>&1
expect_eq "lab zone takes the fleet's records" "$?" 0

# rep NAME NODE CLOCK [key = value...]: a reporter config of its own
rep() {
	local name=$1 node=$2 clock=$3 keys=state_dir kv; shift 3
	for kv in "$@"; do keys="$keys|${kv%% *}"; done
	mkdir -p "$WORK/$name/state"
	{ grep -Ev "^($keys)[ =]" "$BASE"; echo "state_dir = $WORK/$name/state"
	  echo "fleet_node = $node"; echo "report_clock = $clock"
	  for kv in "$@"; do echo "$kv"; done; } > "$WORK/$name.conf"
	echo "$WORK/$name.conf"
}
sink_start() {	# DIR [slow N]
	mkdir -p "$1"
	rm -f "$1/slow" "$1/inflight" "$1/pid"
	[ -n "${2:-}" ] && echo "$2" > "$1/slow"
	$PY "$ROOT/tests/reporter/sinks.py" smtp $SMTP_IP $SMTP_PORT "$1" > "$1.log" 2>&1 &
	for i in $(seq 50); do [ -f "$1/pid" ] && break; sleep 0.1; done
}
sink_stop() { kill "$(cat "$1/pid")" 2>/dev/null; sleep 0.5; }

# --- three nodes' journals of one day, known content
DAY=2026-11-20
T=$(date -u -d "$DAY 06:00:00" +%s)
NEXT=$(date -u -d "$DAY + 1 day" +%F)
for n in 1 2 3; do
	{
		for d in fleet1.test fleet2.test; do
			for k in $(seq $((n + 1))); do
				echo "{\"type\":\"session\",\"time\":$((T + k)),\"src\":\"probe\",\"ptype\":\"sts\",\"domain\":\"$d\",\"phash\":\"@enforce.test\",\"mx\":\"mx1.$d\",\"sip\":\"127.0.20.$n\",\"rip\":\"127.0.1.1\",\"result\":\"success\"}"
			done
			echo "{\"type\":\"session\",\"time\":$((T + 9)),\"src\":\"probe\",\"ptype\":\"sts\",\"domain\":\"$d\",\"phash\":\"@enforce.test\",\"mx\":\"mx2.$d\",\"sip\":\"127.0.20.$n\",\"rip\":\"127.0.1.2\",\"helo\":\"mx2.$d\",\"result\":\"certificate-host-mismatch\",\"reason\":\"X509_V_ERR_HOSTNAME_MISMATCH\"}"
			echo "{\"type\":\"session\",\"time\":$((T + 20)),\"src\":\"report\",\"ptype\":\"sts\",\"domain\":\"$d\",\"phash\":\"@enforce.test\",\"mx\":\"mx1.$d\",\"sip\":\"127.0.20.$n\",\"rip\":\"127.0.1.1\",\"result\":\"success\"}"
		done
	} > "$WORK/n$n.in"
	$PY "$ROOT/tests/reporter/mkjournal.py" "$WORK/n$n/state" "$WORK/n$n.in" "$ROOT/tests/lab/policies"
done
ship() {	# NODE [fleetship options]
	local n=$1; shift
	$PY "$ROOT/tests/reporter/fleetship.py" "$REDIS_SOCK" sts: "$n" "$WORK/$n/state" "$@"
}
ship n1 --close "$DAY" && ship n2 --close "$DAY" && ship n3 --close "2026-11-19"
expect_eq "three nodes' records in Redis" "$(( $(RC LLEN "sts:j:$DAY:n1") + $(RC LLEN "sts:j:$DAY:n2") + $(RC LLEN "sts:j:$DAY:n3") ))" \
    "$(cat "$WORK"/n?/state/journal/$DAY.jnl | wc -l)"

# --- n3 has not closed the day: the day waits (grace 6 h)
CA=$(rep ra ra "${NEXT}T01:00:00Z")
"$R" -d -c "$CA" > "$WORK/wait.out" 2>&1
expect_eq "day not closed by n3: EX_TEMPFAIL" "$?" 75
expect_match "... the run names the node it waits for" "$(cat "$WORK/wait.out")" "waiting for nodes to close the day: n3"
expect_eq "... no report built" "$(RC EXISTS "sts:rpt:$DAY:done")" 0
"$BUILD/stsctl" -c "$CA" reports --day "$DAY" --json > "$WORK/wait.json" 2>&1
expect_match "stsctl reports: the day is waiting" "$(cat "$WORK/wait.json")" '"state":"waiting".*"node":"n3","shipped":[0-9]+,"closed":"2026-11-19"'

# --- two reporters at once; the leader is killed in its 2nd delivery
RC SET sts:closed:n3 "$DAY" > /dev/null
sink_start "$WORK/smtp1" 2
CB=$(rep rb rb "${NEXT}T01:00:00Z")
"$R" -d -c "$CA" > "$WORK/a1.out" 2>&1 &
apid=$!
"$R" -d -c "$CB" > "$WORK/b1.out" 2>&1 &
bpid=$!
for i in $(seq 100); do [ -f "$WORK/smtp1/inflight" ] && break; sleep 0.1; done
if grep -q 'another reporter leads' "$WORK/b1.out"; then
	lead=a; lpid=$apid; other=$CB; opid=$bpid
else
	lead=b; lpid=$bpid; other=$CA; opid=$apid
fi
wait $opid 2>/dev/null
expect_eq "two reporters at once: the other one does nothing (EX_TEMPFAIL)" "$?" 75
expect_eq "... exactly one of them says another leads" "$(cat "$WORK/a1.out" "$WORK/b1.out" | grep -c 'another reporter leads')" 1
expect_eq "... the leader is in its 2nd delivery" "$([ -f "$WORK/smtp1/inflight" ] && echo yes)" yes
kill -9 $lpid 2>/dev/null; wait $lpid 2>/dev/null
# the dead leader's lease still stands for the other reporter
"$R" -d -c "$other" > "$WORK/other2.out" 2>&1
expect_eq "the other reporter, lease of the killed one still valid: EX_TEMPFAIL" "$?" 75
sleep 9		# the hung delivery completes at the sink: a real duplicate risk
sink_stop "$WORK/smtp1"
sink_start "$WORK/smtp1"
LEADC=$WORK/r$lead.conf
"$R" -d -c "$LEADC" > "$WORK/rerun.out" 2>&1
rc=$?
expect_eq "the killed reporter rerun (takes its own lease over): done" "$rc" 0
[ $rc = 0 ] || tail -5 "$WORK/rerun.out"
sent=$(ls "$WORK"/smtp1/*.eml | wc -l)
"$R" -d -c "$LEADC" > "$WORK/rerun2.out" 2>&1
"$R" -d -c "$other" > "$WORK/other3.out" 2>&1
expect_eq "a later run of either reporter sends nothing" "$(ls "$WORK"/smtp1/*.eml | wc -l)" "$sent"

check_mail() {	# DIR: reports per domain, ids, byte variants, sums
	$PY "$ROOT/tests/reporter/fleet_check.py" "$1" "$WORK"/n1.in "$WORK"/n2.in "$WORK"/n3.in
}
check_mail "$WORK/smtp1" > "$WORK/k.check"
expect_eq "every domain got its report" "$(sed -n 's/^domains //p' "$WORK/k.check")" 2
expect_eq "exactly one report-id per domain for the fleet" "$(sed -n 's/^ids //p' "$WORK/k.check")" 2
expect_eq "a resend after the kill is byte-identical" "$(sed -n 's/^variants //p' "$WORK/k.check")" 1
expect_eq "report counts == sum of the three journals, each node's sending-mta-ip" \
    "$(sed -n 's/^sums //p' "$WORK/k.check")" equal
expect_match "at most one resend (the one in flight)" "$(ls "$WORK"/smtp1/*.eml | wc -l)" '^[23]$'
if $PY "$ROOT/tests/reporter/check_report.py" mail "$WORK"/smtp1/*.eml --dns 127.0.2.1 \
    --now "$(date -u -d "${NEXT}T01:00:00Z" +%s)" > "$WORK/mail.check" 2>&1; then
	pass "fleet reports as strict receivers read them: $(grep -c '^ok' "$WORK/mail.check") checks (schema, MIME, DKIM)"
else
	fail "fleet reports checks" "$(grep FAIL "$WORK/mail.check" | head -3)"
fi
"$BUILD/stsctl" -c "$CA" reports --day "$DAY" --json > "$WORK/rep.json" 2>&1
$PY - "$WORK/rep.json" > "$WORK/rep.check" <<'PYEOF'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
ok = len(r) == 2 and all(x["final"] and x["fleet"]["final"] for x in r) and \
    all(d["state"] == "delivered" for x in r for d in x["destinations"]) and \
    sorted(n["node"] for n in r[0]["fleet"]["nodes"]) == ["n1", "n2", "n3"] and \
    all(n["late"] == 0 and n["shipped"] == n["reported"] > 0 for n in r[0]["fleet"]["nodes"])
print("ok" if ok else "bad")
PYEOF
expect_eq "stsctl reports: two final reports, delivered, three nodes, all shipped reported, no late records" "$(cat "$WORK/rep.check")" ok
expect_eq "a built day's records leave Redis (the nodes keep their journals)" \
    "$(RC EXISTS "sts:j:$DAY:n1" "sts:j:$DAY:n2" "sts:j:$DAY:n3")" 0

# --- late records: n2 ships two more after the build
n2lines=$(wc -l < "$WORK/n2/state/journal/$DAY.jnl")
head -2 "$WORK/n2.in" | sed 's/"time":[0-9]*/"time":'$((T + 3600))'/' > "$WORK/late.in"
$PY "$ROOT/tests/reporter/mkjournal.py" "$WORK/n2/state" "$WORK/late.in" "$ROOT/tests/lab/policies"
ship n2 --from "$n2lines"
before=$(ls "$WORK"/smtp1/*.eml | wc -l)
"$R" -d -c "$LEADC" > "$WORK/late.out" 2>&1
expect_match "late records are counted and logged" "$(cat "$WORK/late.out")" "day=$DAY node=n2: 2 records shipped after"
expect_eq "... and never sent" "$(ls "$WORK"/smtp1/*.eml | wc -l)" "$before"
"$BUILD/stsctl" -c "$CA" reports --day "$DAY" --json > "$WORK/late.json" 2>&1
expect_match "stsctl reports shows them" "$(head -1 "$WORK/late.json")" '"node":"n2","shipped":[0-9]+,"reported":[0-9]+,"late":2'

# --- Redis loses everything; the nodes re-ship; nothing is sent again
lab_redis_stop; lab_redis_wipe; lab_redis_start
ship n1 --close "$DAY" && ship n2 --close "$DAY" && ship n3 --close "$DAY"
"$R" -d -c "$LEADC" > "$WORK/lost.out" 2>&1
expect_eq "Redis lost its data: the reporter that delivered sends nothing again" \
    "$(ls "$WORK"/smtp1/*.eml | wc -l)" "$before"
expect_match "... it restored its reports from the local mirror" "$(cat "$WORK/lost.out")" 'restored from the local mirror'

# --- a node that never closes a day: reported after fleet_report_grace
DAY2=2026-11-21
NEXT2=$(date -u -d "$DAY2 + 1 day" +%F)
for n in 1 2; do
	$PY - "$WORK/n$n.in" > "$WORK/d2n$n.in" <<'PYEOF'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); r["time"] += 86400; print(json.dumps(r))
PYEOF
	$PY "$ROOT/tests/reporter/mkjournal.py" "$WORK/d2n$n/state" "$WORK/d2n$n.in" "$ROOT/tests/lab/policies"
	$PY "$ROOT/tests/reporter/fleetship.py" "$REDIS_SOCK" sts: "n$n" "$WORK/d2n$n/state"
done
RC SET sts:closed:n1 "$DAY2" > /dev/null
CG=$(rep rg rg "${NEXT2}T05:00:00Z")
"$R" -d -c "$CG" > "$WORK/g1.out" 2>&1
expect_match "within the grace: the day waits for n2" "$(cat "$WORK/g1.out")" "day=$DAY2: waiting for nodes to close the day: n2"
CG=$(rep rg rg "${NEXT2}T06:30:00Z")
"$R" -d -c "$CG" > "$WORK/g2.out" 2>&1
expect_match "grace over: reported anyway, the missing node logged" "$(cat "$WORK/g2.out")" "day=$DAY2: fleet_report_grace is over; reporting without the day's end from: n2"
expect_eq "... two more reports, one per domain" "$(ls "$WORK"/smtp1/*.eml | wc -l)" "$((before + 2))"

# --- fencing: while a reporter sends, another takes the lease (the fence
# moves on): the old one's delivery cannot be recorded in Redis, it stops;
# rerun, it does not send that report again (its local mirror knows)
DAY3=2026-11-22
NEXT3=$(date -u -d "$DAY3 + 1 day" +%F)
$PY - "$WORK/n1.in" > "$WORK/d3.in" <<'PYEOF'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); r["time"] += 2 * 86400; print(json.dumps(r))
PYEOF
$PY "$ROOT/tests/reporter/mkjournal.py" "$WORK/d3/state" "$WORK/d3.in" "$ROOT/tests/lab/policies"
$PY "$ROOT/tests/reporter/fleetship.py" "$REDIS_SOCK" sts: n1 "$WORK/d3/state" --close "$DAY3"
sink_stop "$WORK/smtp1"
sink_start "$WORK/smtp1" 1
before=$(ls "$WORK"/smtp1/*.eml | wc -l)
CF=$(rep rf rf "${NEXT3}T01:00:00Z")
"$R" -d -c "$CF" > "$WORK/f1.out" 2>&1 &
fpid=$!
for i in $(seq 100); do [ -f "$WORK/smtp1/inflight" ] && break; sleep 0.1; done
RC INCR sts:fence > /dev/null		# another reporter's lease
wait $fpid
expect_eq "fenced: the reporter that lost its lease stops (EX_TEMPFAIL)" "$?" 75
expect_match "... and says why" "$(cat "$WORK/f1.out")" 'lost the reporter lease'
expect_match "... its delivery is not recorded in Redis" \
    "$(RC HGET "sts:rpt:$DAY3:fleet1.test" state)" 'dest pending 0'
sink_stop "$WORK/smtp1"
sink_start "$WORK/smtp1"
"$R" -d -c "$CF" > "$WORK/f2.out" 2>&1
expect_match "rerun: the report it had sent is not sent again (local mirror)" \
    "$(cat "$WORK/f2.out")" "day=$DAY3 domain=fleet1.test rua=mailto:tlsrpt@reports.test: delivered before"
expect_eq "... one mail per domain of the day in all" "$(ls "$WORK"/smtp1/*.eml | wc -l)" "$((before + 2))"

# --- retention: final days older than journal_retention (14) leave Redis
# and the reporter's local mirror; the node's own journal days and the
# policy texts only they named leave its state_dir (as on a single host)
CR=$(rep "r$lead" "r$lead" "$(date -u -d "$DAY + 20 days" +%F)T01:00:00Z")
S=$WORK/r$lead/state
mkdir -p "$S/journal" "$S/policies"
OLDH=$(printf 'old' | sha256sum | cut -d' ' -f1) NEWH=$(printf 'new' | sha256sum | cut -d' ' -f1)
RECENT=$(date -u -d "$DAY + 15 days" +%F)
echo "J1 00000000 {\"type\":\"session\",\"phash\":\"$OLDH\"}" > "$S/journal/$DAY.jnl"
echo "J1 00000000 {\"type\":\"session\",\"phash\":\"$NEWH\"}" > "$S/journal/$RECENT.jnl"
printf 'version: STSv1\n' > "$S/policies/$OLDH.txt"
printf 'version: STSv1\n' > "$S/policies/$NEWH.txt"
touch -d "$DAY" "$S/policies/$OLDH.txt" "$S/policies/$NEWH.txt"
"$R" -d -c "$CR" > "$WORK/ret.out" 2>&1
expect_eq "retention: the old days' report state leaves Redis" \
    "$(RC EXISTS "sts:rpt:$DAY" "sts:rpt:$DAY:done" "sts:rpt:$DAY:fleet1.test" "sts:rpt:$DAY2:fleet2.test")" 0
expect_eq "... and the local mirror" "$(ls "$WORK/r$lead/state/reporter/fleet" | wc -l)" 0
expect_eq "... the node's journal day older than journal_retention is removed, the recent one kept" \
    "$(ls "$S/journal")" "$RECENT.jnl"
expect_eq "... the policy text only the removed day named is pruned, the other kept" \
    "$(ls "$S/policies")" "$NEWH.txt"
expect_match "... and it says so" "$(cat "$WORK/ret.out")" 'fleet: 1 journal days of this node older than journal_retention removed'

# --- Redis down: the reporter does nothing (75), stsctl reports says 69
lab_redis_stop
"$BUILD/stsctl" -c "$CA" reports --day "$DAY" --json > "$WORK/down.json" 2>&1
expect_eq "stsctl reports, Redis down: 69 (EX_UNAVAILABLE)" "$?" 69
before=$(ls "$WORK"/smtp1/*.eml | wc -l)
"$R" -d -c "$CA" > "$WORK/down.out" 2>&1
expect_eq "reporter, Redis down: EX_TEMPFAIL, nothing sent" "$?:$(ls "$WORK"/smtp1/*.eml | wc -l)" "75:$before"
lab_redis_start

# --- Part 2: three real daemons ship their journals for real
MILTER=$BUILD/sts-milter
LOAD=$BUILD/bench/milter_load
[ -x "$LOAD" ] || make --no-print-directory -C "$ROOT" BUILD="$BUILD" "$LOAD" >/dev/null 2>&1
if ! "$LAB" mx-count probe@enforce.test >/dev/null 2>&1 || [ ! -x "$LOAD" ]; then
	skip "three real nodes" "this lab has no MX hosts, or no milter_load"
	done_tests t_fleet
	exit
fi
RC FLUSHALL > /dev/null
TODAY=$(date -u +%F)
TOMORROW=$(date -u -d tomorrow +%F)
chmod 755 "$WORK"		# the postfix user reaches node 1's socket
MPIDS=
for n in 1 2 3; do
	M=$WORK/m$n
	mkdir -p "$M/state"
	chmod 755 "$M"
	lab_conf "state_dir = $M/state" "milter_socket = unix:$M/milter.sock" \
	    "policymap_socket =" "pid_file = $M/sts-milter.pid" \
	    "fleet_redis = unix:$REDIS_SOCK" "fleet_node = m$n" \
	    "probe_bind_address = 127.0.20.$n" \
	    "report_from = tlsrpt@fleet.test" > "$M/m.conf"
	"$MILTER" -f -c "$M/m.conf" > "$M/milter.log" 2>&1 &
	echo $! > "$M/mpid"
	MPIDS="$MPIDS $!"
	for i in $(seq 100); do [ -S "$M/milter.sock" ] && break; sleep 0.1; done
done
LAB_CLEANUP="$LAB_CLEANUP; kill $MPIDS 2>/dev/null; \"\$LAB\" mta-stop >/dev/null 2>&1"
expect_eq "three sts-milter nodes listen" "$(ls "$WORK"/m?/milter.sock 2>/dev/null | wc -l)" 3
# node 1: mail through the lab's real sending Postfix
if [ -x /usr/lib/postfix/sbin/master ] && command -v swaks >/dev/null &&
    "$LAB" mta-start --milter "unix:$WORK/m1/milter.sock" > "$WORK/mta.log" 2>&1; then
	for d in enforce.test onebad.test expired.test; do
		for k in 1 2; do
			swaks --server 127.0.4.1 --from a@sender.test --to "f$k@$d" \
			    --h-Subject "t_fleet $d" --timeout 40 >> "$WORK/swaks.out" 2>&1
		done
	done
	expect_match "node 1: mail went through the real sending Postfix" \
	    "$(cat "$WORK/swaks.out")" 'RCPT TO:<f1@enforce.test>'
else
	skip "node 1 through Postfix" "no sending Postfix in this lab; milter_load instead"
	printf 'enforce.test\nonebad.test\nexpired.test\n' > "$WORK/domains"
	"$LOAD" -s "unix:$WORK/m1/milter.sock" -n 6 -r 1 -f "$WORK/domains" > "$WORK/m1/load.out" 2>&1
fi
# nodes 2 and 3: the MTA side of the milter protocol (milter_load), 6 s
# each; Redis is killed (kill -9) in the middle and started again with
# what its append-only file has
# what node 1 probed, and a failing domain of its own that only this node
# probes (the nodes share their probe verdicts in Redis: with one domain
# for both, the later node could take all its verdicts from the other and
# probe nothing itself)
printf 'enforce.test\nonebad.test\nexpired.test\nwrongname.test\n' > "$WORK/domains2"
printf 'enforce.test\nonebad.test\nexpired.test\nuntrustedmx.test\n' > "$WORK/domains3"
LPIDS=
for n in 2 3; do
	"$LOAD" -s "unix:$WORK/m$n/milter.sock" -d 6 -r 1 -f "$WORK/domains$n" \
	    > "$WORK/m$n/load.out" 2>&1 &
	LPIDS="$LPIDS $!"
done
sleep 2
lab_redis_kill
sleep 2
lab_redis_start
wait $LPIDS
# then Redis loses everything: the nodes ship their journals again
lab_redis_stop
lab_redis_wipe
lab_redis_start
# every node ships all it journaled (fleet_ship); then they stop
jl() { cat "$WORK/m$1/state/journal/$TODAY.jnl" 2>/dev/null | wc -l; }
for i in $(seq 150); do
	[ "$(RC LLEN "sts:j:$TODAY:m1")" = "$(jl 1)" ] &&
	[ "$(RC LLEN "sts:j:$TODAY:m2")" = "$(jl 2)" ] &&
	[ "$(RC LLEN "sts:j:$TODAY:m3")" = "$(jl 3)" ] && break
	sleep 0.2
done
"$LAB" mta-stop > /dev/null 2>&1
kill $MPIDS 2>/dev/null; wait $MPIDS 2>/dev/null
for n in 1 2 3; do
	expect_eq "node m$n shipped every record it journaled ($(jl $n))" \
	    "$(RC LLEN "sts:j:$TODAY:m$n")" "$(jl $n)"
done
expect_match "every node journaled sessions" "$(jl 1) $(jl 2) $(jl 3)" '^[1-9][0-9]* [1-9][0-9]* [1-9][0-9]*$'
# probe_bind_address: each node's probes leave from its own address
psip() { cut -d' ' -f3- "$WORK/m$1/state/journal/$TODAY.jnl" | jq -r 'select(.src == "probe") | .sip' | sort -u | tr '\n' ' '; }
for n in 1 2 3; do
	expect_eq "node m$n: its probe records' sending-mta-ip is its probe_bind_address" "$(psip $n)" "127.0.20.$n "
	expect_match "node m$n: the lab MX hosts saw its probes come from 127.0.20.$n" \
	    "$(grep -c "connect from [^ ]*\[127\.0\.20\.$n\]" "$LAB_DIR/mx/maillog" 2>/dev/null)" '^[1-9]'
done
# the day is over (report_clock); the nodes cannot have closed it yet,
# so the grace (0 here) lets the reporter report it, naming them
sink_stop "$WORK/smtp1"
sink_start "$WORK/smtp3"
CE=$(rep re re "${TOMORROW}T00:30:00Z" "fleet_report_grace = 0")
"$R" -d -c "$CE" > "$WORK/e2e.out" 2>&1
expect_match "reporter: the day reported from three real nodes" "$(cat "$WORK/e2e.out")" \
    "day=$TODAY: [0-9]+ reports built from 3 nodes; not closed by: m1 m2 m3"
$PY "$ROOT/tests/reporter/fleet_check.py" "$WORK/smtp3" --only enforce.test,onebad.test,expired.test,wrongname.test,untrustedmx.test \
    "$WORK"/m?/state/journal/$TODAY.jnl > "$WORK/e2e.check"
expect_eq "one report (one report-id) per domain for the three nodes" "$(sed -n 's/^one //p' "$WORK/e2e.check")" yes
expect_eq "each report's counts == the sum of the three nodes' journals" "$(sed -n 's/^sums //p' "$WORK/e2e.check")" equal
expect_eq "reports for the lab domains that got mail" "$(sed -n 's/^names //p' "$WORK/e2e.check")" \
    "enforce.test expired.test onebad.test untrustedmx.test wrongname.test"
expect_eq "the reports' failure details keep each node's own sending-mta-ip" \
    "$(sed -n 's/^failips //p' "$WORK/e2e.check")" "127.0.20.1 127.0.20.2 127.0.20.3"

done_tests t_fleet
