#!/bin/bash
# t_crash.sh - crash safety, measured (issue 14 item 2): sts-milter is
# killed with SIGKILL at random moments while three sources append
# records (milter RCPTs the gate defers, libtlsrpt datagrams, Postfix log
# lines), restarted each time; then every record its source was told was
# accepted must be in the journal exactly once, and torn records must be
# skipped and counted exactly.  What "accepted" means per source is in
# tests/tools/crashload.py.  CRASH_N records in all (3000 here; make soak
# runs 100000); CRASH_SEED repeats a run.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"

lab_up || { echo "t_crash: 0 passed, 1 failed"; exit 1; }
"$LAB" mx-count probe@expired.test >/dev/null 2>&1 ||
    { skip "crash" "this lab has no MX hosts"; done_tests t_crash; exit; }
D=$WORK/crash
mkdir -p "$D/state"
C=$D/sts-milter.conf
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|tlsrpt_socket|pid_file|postfix_log)[ =]' "$LAB_CONF"
	cat <<EOF
state_dir = $D/state
milter_socket = unix:$D/milter.sock
policymap_socket = unix:$D/policymap.sock
tlsrpt_socket = $D/tlsrpt.sock
postfix_log = $D/maillog
status_interval = 1s
EOF
} > "$C"
LAB_CLEANUP='[ -s "$D/daemon.pid" ] && kill -9 $(cat "$D/daemon.pid") 2>/dev/null'
BUILD=$BUILD /usr/bin/python3 "$ROOT/tests/tools/crashload.py" "$C" "$D" \
    "${CRASH_N:-3000}" ${CRASH_SEED:-} > "$D/result" 2>"$D/crashload.err"
expect_eq "crashload ran" "$?" 0
result_checks "$D/result"
# reported: what tlsrpt-reporter makes of the journal (a dry run once the
# day is over): wildcard.test's successful sessions are the log source's
reported=0
for f in "$D"/state/journal/*.jnl; do
	day=$(basename "$f" .jnl)
	{ cat "$C"; echo "report_contact = tlsrpt@reporter.test"
	  echo "report_clock = $(date -u -d "$day + 1 day" +%Y-%m-%d)T00:30:00Z"; } > "$D/r.conf"
	n=$("$BUILD/tlsrpt-reporter" -c "$D/r.conf" --dry-run --day "$day" \
	    --domain wildcard.test --to x@reports.test 2>>"$D/reporter.err" |
	    /usr/bin/python3 -c '
import json, re, sys
n = 0
for j in re.findall(r"----- BEGIN JSON -----\n(.*?)----- END JSON -----", sys.stdin.read(), re.S):
    n += sum(p["summary"]["total-successful-session-count"] for p in json.loads(j)["policies"])
print(n)')
	reported=$((reported + ${n:-0}))
done
echo "  log_reported $reported"
expect_eq "log: every journaled session reported (tlsrpt-reporter --dry-run)" \
    "$reported" "$(sed -n 's/^log_journaled //p' "$D/result")"
expect_match "the daemon was killed and restarted" "$(grep '^kills ' "$D/result")" '^kills [1-9]'
expect_match "torn records were written" "$(grep '^torn_written ' "$D/result")" '^torn_written [1-9]'
if [ "$T_FAIL" -gt 0 ]; then
	tail -n 20 "$D/crashload.err" | sed 's/^/  err: /'
	tail -n 20 "$D/milter.log" | sed 's/^/  milter: /'
fi
done_tests t_crash
