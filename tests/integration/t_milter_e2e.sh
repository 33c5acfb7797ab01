#!/bin/bash
# t_milter_e2e.sh - sts-milter end to end (issue 3, section 5): mail is
# submitted with swaks to the lab's sending Postfix (127.0.4.1, lab
# mta-start, smtpd_milters = this test's sts-milter) and relayed to the
# lab's MX hosts (127.0.1.x, tests/lab/README.md).  Asserted: what the
# SMTP client sees (250, or 451 4.7.5 with the explanation), Postfix's log,
# the daemon's log, the MX mailboxes, and stsctl journal / deferrals.
#
#   good enforce domain accepted; each kind of bad MX (expired, wrongname,
#   untrustedmx, nostarttls, cnonly) deferred with its RFC 8460 result
#   type; mismatch.test deferred ("no MX matches"); onebad.test accepted;
#   testing.test accepted and its failure journaled; the report sender
#   exempt; the override map (skip) honoured, after SIGHUP; a restart of
#   sts-milter under traffic loses no journal record, and while it is
#   down Postfix's milter_default_action = tempfail answers 451 4.7.1;
#   non-SMTP submissions (non_smtpd_milters) are never deferred; with the
#   policy map as well, Postfix delivers only over verified TLS.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MILTER=$BUILD/sts-milter
STSCTL=$BUILD/stsctl

[ "$(id -u)" -eq 0 ] || { skip "milter e2e" "needs root"; done_tests t_milter_e2e; exit; }
for p in /usr/lib/postfix/sbin/master /usr/bin/swaks; do
	[ -x "$p" ] || { skip "milter e2e" "$p not installed"; done_tests t_milter_e2e; exit; }
done
for p in "$MILTER" "$STSCTL"; do
	[ -x "$p" ] || { fail "built: $p"; done_tests t_milter_e2e; exit; }
done
lab_up || { echo "t_milter_e2e: 0 passed, 1 failed"; exit 1; }
trap 'exit 130' INT TERM HUP		# lab_down (EXIT) on signals too
"$LAB" mx-count probe@enforce.test >/dev/null 2>&1 ||
    { skip "milter e2e" "this lab has no MX hosts"; done_tests t_milter_e2e; exit; }

chmod 755 "$WORK"			# the postfix user reaches the socket
W=$WORK/e2e
mkdir -p "$W/state"
chmod 755 "$W"
SOCK=$W/milter.sock
REPORT_FROM=tlsrpt-reports@sender.test
C=$W/sts-milter.conf
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|pid_file|override_file|report_from|log_level)[ =]' "$LAB_CONF"
	cat <<EOF
state_dir = $W/state
milter_socket = unix:$SOCK
policymap_socket = unix:$W/policymap.sock
pid_file = $W/sts-milter.pid
override_file = $W/override
report_from = $REPORT_FROM
fetch_timeout = 4s
log_level = 1
status_interval = 1s
EOF
} > "$C"
: > "$W/override"
MLOG=$W/milter.log
MTALOG=$LAB_DIR/mta/maillog

MPID=
start_milter() {
	local n i
	n=$(grep -c '^started' "$MLOG" 2>/dev/null)
	"$MILTER" -f -c "$C" 2>>"$MLOG" &
	MPID=$!
	for i in $(seq 100); do
		[ "$(grep -c '^started' "$MLOG" 2>/dev/null)" -gt "${n:-0}" ] && [ -S "$SOCK" ] && return 0
		kill -0 "$MPID" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}
stop_milter() {			# SIGTERM; the daemon's exit status
	local rc
	[ -n "$MPID" ] || return 0
	kill -TERM "$MPID" 2>/dev/null
	wait "$MPID"; rc=$?
	MPID=
	return $rc
}
LAB_CLEANUP='[ -n "$MPID" ] && { kill $MPID 2>/dev/null; wait $MPID 2>/dev/null; }'

ok "sts-milter starts" start_milter
ok "lab mta-start --milter unix:$SOCK" "$LAB" mta-start --milter "unix:$SOCK"

TAG=e$$
# send FROM RCPT[,RCPT...]: swaks through the sending MTA, transcript in $W/swaks.last
send() {
	swaks --server 127.0.4.1 --from "$1" --to "$2" --h-Subject "t_milter_e2e $2" \
	    --timeout 40 > "$W/swaks.last" 2>&1
	cat "$W/swaks.last" >> "$W/swaks.all"
}
# rcpt_reply RCPT: the reply to RCPT TO:<RCPT> in the last transcript
rcpt_reply() {
	awk -v r=" -> RCPT TO:<$1>" '$0 == r { getline; print; exit }' "$W/swaks.last" |
	    sed 's/^<[-*][-*] *//; s/^<- *//'
}
queued() { grep -q '^<-  250 2\.0\.0 Ok: queued' "$W/swaks.last"; }
nok() {				# NAME CMD...: passes when CMD fails
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then fail "$name" "command succeeded: $*"; else pass "$name"; fi
}

# --- good domains: accepted at RCPT and delivered
for d in enforce onebad wildcard nopolicy; do
	send "a@sender.test" "$TAG@$d.test"
	expect_match "$d.test: RCPT accepted" "$(rcpt_reply "$TAG@$d.test")" '^250 2\.1\.5'
	ok "$d.test: message queued" queued
	ok "$d.test: delivered to the MX" "$LAB" mx-wait "$TAG@$d.test" 1 20
done
expect_match "enforce.test: gate probed mx1 (log)" "$(cat "$MLOG")" \
    "accept rcpt=<$TAG@enforce\.test> policy_domain=enforce\.test mode=enforce policy_id=enf1 result=success mx=mx1\.enforce\.test ip=127\.0\.1\.1"
expect_match "onebad.test: passed through mx2 after mx1 failed (log)" "$(cat "$MLOG")" \
    "accept rcpt=<$TAG@onebad\.test> policy_domain=onebad\.test mode=enforce policy_id=ob1 result=success mx=mx2\.onebad\.test"

# --- bad enforce domains: 451 4.7.5 per recipient, with the explanation
# bad DOMAIN RESULT MX IP REASON-REGEX
bad() {
	local d=$1 res=$2 mx=$3 ip=$4 reason=$5 reply
	send "a@sender.test" "$TAG@$d"
	reply=$(rcpt_reply "$TAG@$d")
	expect_match "$d: 451 4.7.5 naming policy, MX and $res" "$reply" \
	    "^451 4\.7\.5 MTA-STS policy of ${d//./\\.} \(id [a-z0-9]+, mode enforce\) cannot be met: ${mx//./\\.} \[${ip//./\\.}\]: $res \($reason\); will retry$"
	nok "$d: nothing queued" queued
	# Postfix's line reaches the log through syslog, after the session
	logwait "$MTALOG" "to=<$TAG@${d//./\\.}>" 10
	expect_match "$d: Postfix logs the milter's 451" \
	    "$(grep "to=<$TAG@$d>" "$MTALOG")" \
	    "NOQUEUE: milter-reject: RCPT from [^ ]+: 451 4\.7\.5 MTA-STS policy of ${d//./\\.} .*$res"
	expect_match "$d: daemon logs the deferral" "$(grep "rcpt=<$TAG@$d>" "$MLOG")" \
	    "defer rcpt=<$TAG@${d//./\\.}> policy_domain=${d//./\\.} mode=enforce policy_id=[a-z0-9]+ result=$res mx=${mx//./\\.} ip=${ip//./\\.}"
	expect_eq "$d: not delivered" "$("$LAB" mx-count "$TAG@$d")" 0
}
bad expired.test     certificate-expired       mx.expired.test     127.0.1.22 'X509_V_ERR_CERT_HAS_EXPIRED'
bad wrongname.test   certificate-host-mismatch mx.wrongname.test   127.0.1.23 'X509_V_ERR_HOSTNAME_MISMATCH'
bad untrustedmx.test certificate-not-trusted   mx.untrustedmx.test 127.0.1.24 'X509_V_ERR_[A-Z_]+'
bad nostarttls.test  starttls-not-supported    mx.nostarttls.test  127.0.1.25 'STARTTLS not offered'
bad cnonly.test      certificate-host-mismatch mx.cnonly.test      127.0.1.26 'X509_V_ERR_HOSTNAME_MISMATCH'
expect_match "expired.test: policy id in the reply" "$(grep "to=<$TAG@expired.test>" "$MTALOG")" '\(id exp1, mode enforce\)'

send "a@sender.test" "$TAG@mismatch.test"
expect_match "mismatch.test: 451 4.7.5 no MX matches the policy" "$(rcpt_reply "$TAG@mismatch.test")" \
    '^451 4\.7\.5 MTA-STS policy of mismatch\.test \(id mm1, mode enforce\) cannot be met: no MX matches the policy \(MX: mx\.mismatch\.test\); will retry$'
expect_match "mismatch.test: daemon logs validation-failure" "$(grep "rcpt=<$TAG@mismatch.test>" "$MLOG")" \
    'defer .* policy_domain=mismatch\.test mode=enforce policy_id=mm1 result=validation-failure mx=mx\.mismatch\.test .*reason="mx-host-not-in-policy"'
expect_eq "mismatch.test: not delivered" "$("$LAB" mx-count "$TAG@mismatch.test")" 0

# one message, a good and a bad recipient: only the bad one is deferred
send "a@sender.test" "$TAG-2@enforce.test,$TAG-2@expired.test"
expect_match "two recipients: good one accepted" "$(rcpt_reply "$TAG-2@enforce.test")" '^250 '
expect_match "two recipients: bad one 451 4.7.5" "$(rcpt_reply "$TAG-2@expired.test")" '^451 4\.7\.5 '
ok "two recipients: message queued" queued
ok "two recipients: good one delivered" "$LAB" mx-wait "$TAG-2@enforce.test" 1 20
expect_eq "two recipients: bad one not delivered" "$("$LAB" mx-count "$TAG-2@expired.test")" 0

# --- testing mode: accepted at once, the failure journaled
send "a@sender.test" "$TAG@testing.test"
expect_match "testing.test: RCPT accepted" "$(rcpt_reply "$TAG@testing.test")" '^250 2\.1\.5'
ok "testing.test: delivered" "$LAB" mx-wait "$TAG@testing.test" 1 20
TJ=
for _ in $(seq 100); do
	TJ=$("$STSCTL" -c "$C" journal 2>/dev/null | grep '"domain":"testing.test"' | grep '"type":"session"')
	[ -n "$TJ" ] && break
	sleep 0.1
done
expect_match "testing.test: failure journaled (certificate-expired, mode testing)" "$TJ" \
    '"src":"probe".*"pid":"tst1","mode":"testing","mx":"mx\.testing\.test".*"rip":"127\.0\.1\.3".*"result":"certificate-expired"'
nok "testing.test: no deferral" sh -c "'$STSCTL' -c '$C' journal | grep '\"type\":\"deferral\"' | grep -q '\"domain\":\"testing.test\"'"

# --- the report sender is exempt (RFC 8460 3)
send "$REPORT_FROM" "$TAG-rpt@expired.test"
expect_match "report sender: RCPT accepted for a bad enforce domain" "$(rcpt_reply "$TAG-rpt@expired.test")" '^250 '
expect_match "report sender: exemption logged" "$(cat "$MLOG")" "exempt rcpt=<$TAG-rpt@expired\.test> reason=report-sender"
ok "report sender: delivered (MTA without policy map)" "$LAB" mx-wait "$TAG-rpt@expired.test" 1 20

# --- the journal and the deferral summary
J=$("$STSCTL" -c "$C" journal 2>"$W/journal.err")
expect_eq "journal: no torn or corrupt records" "$(cat "$W/journal.err")" ""
jdef() { printf '%s\n' "$J" | grep '"type":"deferral"' | grep "\"rcpt\":\"$1\""; }
for dr in expired.test:certificate-expired wrongname.test:certificate-host-mismatch \
    untrustedmx.test:certificate-not-trusted nostarttls.test:starttls-not-supported \
    cnonly.test:certificate-host-mismatch mismatch.test:validation-failure; do
	d=${dr%%:*} res=${dr#*:}
	expect_match "journal: deferral of $TAG@$d ($res)" "$(jdef "$TAG@$d")" \
	    "\"src\":\"milter\",\"ptype\":\"sts\",\"domain\":\"${d//./\\.}\",\"pid\":\"[a-z0-9]+\",\"mode\":\"enforce\",\"mx\":\"mx\.${d//./\\.}\".*\"result\":\"$res\".*\"text\":\"MTA-STS policy of"
	expect_match "journal: $d session journaled ($res)" \
	    "$(printf '%s\n' "$J" | grep '"type":"session"' | grep "\"domain\":\"$d\"")" "\"result\":\"$res\""
done
# RFC 8460 4.3: the MX host outside the policy is never connected to, but
# its address (resolved) and ours towards it are known: both are named
expect_match "journal: mismatch.test session names the reason and both addresses" \
    "$(printf '%s\n' "$J" | grep '"type":"session"' | grep '"domain":"mismatch.test"')" \
    '"mx":"mx\.mismatch\.test","sip":"127\.0\.0\.1","rip":"127\.0\.1\.27","result":"validation-failure","reason":"mx-host-not-in-policy"'
TOMORROW=$(date -u -d tomorrow +%F)
{ cat "$C"; echo "report_clock = ${TOMORROW}T00:30:00Z"; echo "report_contact = tlsrpt@sender.test"; } > "$W/r.conf"
"$BUILD/tlsrpt-reporter" -c "$W/r.conf" --dry-run --domain mismatch.test > "$W/dry.out" 2> "$W/dry.err"
expect_eq "report of mismatch.test: its failure detail names receiving-ip and sending-mta-ip" \
    "$(python3 "$ROOT/tests/tools/report-details.py" "$W/dry.out" | grep -v ' summary ')" \
    "mismatch.test validation-failure mx.mismatch.test 127.0.1.27 127.0.0.1 1 mx-host-not-in-policy"
expect_match "journal: enforce.test success session" \
    "$(printf '%s\n' "$J" | grep '"type":"session"' | grep '"domain":"enforce.test"')" \
    '"mx":"mx1\.enforce\.test","sip":"127\.0\.0\.1","rip":"127\.0\.1\.1","helo":"mx1\.enforce\.test","result":"success"'
expect_match "journal: onebad.test mx1 expired, mx2 success" \
    "$(printf '%s\n' "$J" | grep '"type":"session"' | grep '"domain":"onebad.test"' | tr '\n' ' ')" \
    '"mx":"mx1\.onebad\.test".*"result":"certificate-expired".*"mx":"mx2\.onebad\.test".*"result":"success"'
expect_eq "journal: no deferral for accepted domains" \
    "$(printf '%s\n' "$J" | grep '"type":"deferral"' | grep -cE '"domain":"(enforce|onebad|wildcard|nopolicy|testing)\.test"')" 0
DEF=$("$STSCTL" -c "$C" deferrals)
dsum() { printf '%s\n' "$DEF" | grep "\"domain\":\"$1\"" | grep "\"result\":\"$2\""; }
expect_match "deferrals: expired.test, 2 (alone and with a good recipient)" \
    "$(dsum expired.test certificate-expired)" '"count":2,.*"policy_id":"exp1","mx":"mx\.expired\.test","last_reply":"MTA-STS policy of expired\.test'
for dr in wrongname.test:certificate-host-mismatch untrustedmx.test:certificate-not-trusted \
    nostarttls.test:starttls-not-supported cnonly.test:certificate-host-mismatch \
    mismatch.test:validation-failure; do
	expect_match "deferrals: ${dr%%:*} ${dr#*:}" "$(dsum "${dr%%:*}" "${dr#*:}")" '"count":1,'
done
expect_eq "deferrals: six domain/result groups" "$(printf '%s\n' "$DEF" | grep -c .)" 6
sleep 1.2	# status.json is written every second here
ST=$("$STSCTL" -c "$C" status 2>/dev/null)
expect_eq "stsctl status: running, gate deferrals = the journal's" \
    "$(printf '%s' "$ST" | jq -c '[.running, .gate.deferred]')" \
    "[true,$(printf '%s\n' "$J" | grep -c '"type":"deferral"')]"
expect_match "stsctl status: recipients counted" "$(printf '%s' "$ST" | jq '.gate.rcpts')" '^[1-9][0-9]*$'

# --- stsctl cache flush: a request the running daemon answers (it holds
# the cache in memory and would write it back), not an edit behind its back
N0=$(printf '%s' "$ST" | jq .cache_entries)
OUT=$("$STSCTL" -c "$C" cache flush expired.test 2>"$W/flush.err"); RC=$?
expect_eq "cache flush through the daemon: one policy" \
    "$RC/$(printf '%s' "$OUT" | jq -c .flushed)" "0/1"
expect_match "cache flush: the daemon logs it" "$(cat "$MLOG")" \
    'cache flush: domain=expired\.test \(1\), asked by stsctl'
"$STSCTL" -c "$C" cache show expired.test >/dev/null 2>&1
expect_eq "cache flush: gone from disk" "$?" 1
sleep 1.2
expect_eq "cache flush: gone from the daemon's memory" \
    "$("$STSCTL" -c "$C" status 2>/dev/null | jq .cache_entries)" "$((N0 - 1))"
OUT=$("$STSCTL" -c "$C" cache flush expired.test 2>/dev/null)
expect_eq "cache flush again: nothing left" "$(printf '%s' "$OUT" | jq -c .flushed)" "0"

# --- the override map: skip, applied on SIGHUP
echo "expired.test skip" > "$W/override"
kill -HUP "$MPID"
for _ in $(seq 50); do grep -q 'reload: configuration reloaded' "$MLOG" && break; sleep 0.1; done
ok "SIGHUP: configuration reloaded" grep -q 'reload: configuration reloaded' "$MLOG"
send "a@sender.test" "$TAG-ov@expired.test"
expect_match "override skip: expired.test accepted" "$(rcpt_reply "$TAG-ov@expired.test")" '^250 '
expect_match "override skip: exemption logged" "$(cat "$MLOG")" \
    "exempt rcpt=<$TAG-ov@expired\.test> policy_domain=expired\.test reason=override"
ok "override skip: delivered" "$LAB" mx-wait "$TAG-ov@expired.test" 1 20
send "a@sender.test" "$TAG-ov@wrongname.test"
expect_match "override: other domains still deferred" "$(rcpt_reply "$TAG-ov@wrongname.test")" '^451 4\.7\.5 '
: > "$W/override"
kill -HUP "$MPID"

# --- daemon down: Postfix's milter_default_action = tempfail
ok "SIGTERM: clean exit (0)" stop_milter
send "a@sender.test" "$TAG-down@enforce.test"
expect_match "daemon down: the client gets 451 4.7.1 (milter_default_action = tempfail)" \
    "$(grep -E '^<\*\* ' "$W/swaks.last" | head -n 1)" '^<\*\* 451 4\.7\.1 '
logwait "$MTALOG" "connect to Milter service unix:${SOCK//./\\.}: " 10	# the log lags
expect_match "daemon down: Postfix logs the milter failure" "$(tail -n 20 "$MTALOG")" \
    "connect to Milter service unix:${SOCK//./\\.}: (No such file or directory|Connection refused)"
nok "daemon down: nothing queued" queued
ok "sts-milter restarts" start_milter

# --- restart under traffic: every 451 4.7.5 a client saw is in the journal
# traffic K N: N sessions, one bad recipient each; "RCPT CODE" lines in $W/traffic.K
traffic() {
	local k=$1 n=$2 i r out code
	: > "$W/traffic.$k"
	for i in $(seq "$n"); do
		r="$TAG-rs$k-$i@expired.test"
		out=$(swaks --server 127.0.4.1 --from "a@sender.test" --to "$r" --quit-after RCPT \
		    --timeout 40 2>&1)
		code=$(printf '%s\n' "$out" | sed -n 's/^<\*\* \([0-9][0-9][0-9] [0-9.]*\).*/\1/p' | head -n 1)
		[ -n "$code" ] || code=$(printf '%s\n' "$out" | grep -q '^<-  250 2\.1\.5' && echo 250 || echo none)
		echo "$r $code" >> "$W/traffic.$k"
	done
}
traffic 1 25 & T1=$!
traffic 2 25 & T2=$!
traffic 3 25 & T3=$!
for _ in $(seq 100); do			# restart once some traffic got through
	[ "$(cat "$W"/traffic.* 2>/dev/null | grep -c ' 451 4.7.5')" -ge 6 ] && break
	sleep 0.05
done
stop_milter; RC1=$?
start_milter; RC2=$?
wait $T1 $T2 $T3
expect_eq "restart under traffic: old daemon exits 0" "$RC1" 0
expect_eq "restart under traffic: new daemon up" "$RC2" 0
ALL=$(cat "$W"/traffic.1 "$W"/traffic.2 "$W"/traffic.3)
N475=$(printf '%s\n' "$ALL" | grep -c ' 451 4\.7\.5$')
N471=$(printf '%s\n' "$ALL" | grep -c ' 451 4\.7\.1$')
NOTHER=$(printf '%s\n' "$ALL" | grep -vcE ' 451 4\.7\.[15]$')
echo "     (restart under traffic: 75 sessions, $N475 deferred by sts-milter, $N471 tempfailed by Postfix while it was down)"
expect_eq "restart under traffic: every session deferred (4.7.5) or tempfailed (4.7.1), none accepted" "$NOTHER" 0
# the daemon's log by run: the traffic began under run 2 and ended under run 3
defers_in_run() { awk -v run="$1" -v pat="defer rcpt=<$TAG-rs" \
    '/^started/ { n++ } n == run && index($0, pat) { c++ } END { print c + 0 }' "$MLOG"; }
ok "restart under traffic: deferrals before the restart" test "$(defers_in_run 2)" -gt 0
ok "restart under traffic: deferrals after the restart" test "$(defers_in_run 3)" -gt 0
J=$("$STSCTL" -c "$C" journal 2>"$W/journal.err")
expect_eq "restart under traffic: journal has no torn or corrupt records" "$(cat "$W/journal.err")" ""
JR=$(printf '%s\n' "$J" | grep '"type":"deferral"' | sed -n "s/.*\"rcpt\":\"\($TAG-rs[0-9]*-[0-9]*@expired\.test\)\".*/\1/p" | sort)
MISSING=$(printf '%s\n' "$ALL" | awk '$2 == "451" && $3 == "4.7.5" { print $1 }' | sort | comm -23 - <(printf '%s\n' "$JR"))
expect_eq "restart under traffic: every 451 4.7.5 has its deferral record" "$MISSING" ""
expect_eq "restart under traffic: no deferral journaled twice" "$(printf '%s\n' "$JR" | uniq -d)" ""
EXTRA=$(printf '%s\n' "$JR" | grep . | comm -13 <(printf '%s\n' "$ALL" | awk '$2 == "451" && $3 == "4.7.5" { print $1 }' | sort) -)
[ -z "$EXTRA" ] || echo "     (journaled but answered 4.7.1: the daemon stopped between journal and reply: $EXTRA)"
ok "restart under traffic: journal records only for attempted recipients" \
    test "$(printf '%s\n' "$JR" | grep -c .)" -le "$((N475 + N471))"

# --- non-SMTP submission (non_smtpd_milters): never deferred by the gate
ok "mta-start --non-smtpd-milter" "$LAB" mta-start --milter "unix:$SOCK" --non-smtpd-milter
printf 'Subject: t_milter_e2e non-SMTP\n\nbody\n' |
    "$LAB" mta-sendmail -f a@sender.test "$TAG-ns@expired.test"
ok "non-SMTP: delivered (not deferred at RCPT)" "$LAB" mx-wait "$TAG-ns@expired.test" 1 30
expect_match "non-SMTP: daemon says why it did not defer" "$(cat "$MLOG")" \
    "not deferring rcpt=<$TAG-ns@expired\.test>: non-SMTP submission"
send "a@sender.test" "$TAG-ns2@expired.test"
expect_match "non-SMTP config: SMTP mail still deferred" "$(rcpt_reply "$TAG-ns2@expired.test")" '^451 4\.7\.5 '

# --- both layers: milter and policy map; Postfix delivers over verified TLS only
ok "mta-start --policy-map" "$LAB" mta-start --milter "unix:$SOCK" \
    --policy-map "socketmap:unix:$W/policymap.sock:postfix" \
    --report-sender "$REPORT_FROM"
send "a@sender.test" "$TAG-pm@enforce.test"
ok "policy map: enforce.test delivered" "$LAB" mx-wait "$TAG-pm@enforce.test" 1 20
logwait "$MTALOG" "to=<$TAG-pm@enforce\.test>.*status=sent" 10	# the log lags
expect_match "policy map: enforce.test over verified TLS" "$(cat "$MTALOG")" \
    'Verified TLS connection established to mx[12]\.enforce\.test\[127\.0\.1\.[12]\]:25'
send "a@sender.test" "$TAG-pm@onebad.test"
ok "policy map: onebad.test delivered" "$LAB" mx-wait "$TAG-pm@onebad.test" 1 20
logwait "$MTALOG" "to=<$TAG-pm@onebad\.test>.*status=sent" 10
expect_match "policy map: onebad.test through mx2 (verified)" "$(grep "to=<$TAG-pm@onebad.test>" "$MTALOG")" \
    'relay=mx2\.onebad\.test\[127\.0\.1\.29\]:25, .*status=sent'
send "a@sender.test" "$TAG-pm@expired.test"
expect_match "policy map: expired.test still deferred at RCPT" "$(rcpt_reply "$TAG-pm@expired.test")" '^451 4\.7\.5 '
# report mail to a domain whose MX fails validation: the gate lets it in,
# and RFC 8460 3 wants it delivered despite the TLS failure; the policy
# map has no sender to go by, so Postfix routes the report sender to a
# transport without it (conf/postfix-main.cf, conf/postfix-master.cf).
send "$REPORT_FROM" "$TAG-pmrpt@expired.test"
expect_match "policy map: report sender accepted at RCPT" "$(rcpt_reply "$TAG-pmrpt@expired.test")" '^250 '
for _ in $(seq 100); do grep -q "to=<$TAG-pmrpt@expired.test>.*status=" "$MTALOG" && break; sleep 0.1; done
if grep -q "to=<$TAG-pmrpt@expired.test>.*status=sent" "$MTALOG"; then
	pass "policy map: report mail delivered despite the bad MX (RFC 8460 3)"
else
	fail "policy map: report mail delivered despite the bad MX (RFC 8460 3)" \
	    "Postfix holds it: $(grep "to=<$TAG-pmrpt@expired.test>" "$MTALOG" | sed -n 's/.*status=//p' | head -n 1)"
fi

ok "daemon still running" kill -0 "$MPID"
if [ "$T_FAIL" -gt 0 ]; then
	tail -n 30 "$MLOG" | sed 's/^/  milter: /'
	tail -n 30 "$MTALOG" | sed 's/^/  mta: /'
fi
done_tests t_milter_e2e
