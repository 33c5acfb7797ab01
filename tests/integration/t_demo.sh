#!/bin/bash
# t_demo.sh - "make demo" (the README's first command) shows what it says:
# tests/demo.sh on its own lab, every step with its output (a demo whose
# Postfix could not reach the daemon once ran to the end, exit 0, showing
# nothing; demo.sh now fails then, and this test runs it).
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" -eq 0 ] || { skip "demo" "needs root"; done_tests t_demo; exit; }
for p in /usr/lib/postfix/sbin/master /usr/bin/swaks /usr/bin/jq; do
	[ -x "$p" ] || { skip "demo" "$p not installed"; done_tests t_demo; exit; }
done
if [ "${LAB_REUSE:-0}" = 1 ]; then	# the demo starts and stops a lab of its own
	skip "demo" "LAB_REUSE=1: a lab may be running"; done_tests t_demo; exit
fi
W=$(mktemp -d /tmp/sts-test-demo.XXXXXX)
chmod 755 "$W"		# Postfix (user postfix) works under the lab dir
trap 'rm -rf "$W"' EXIT
LAB_DIR=$W/lab BUILD=$BUILD bash "$ROOT/tests/demo.sh" >"$W/out" 2>&1
rc=$?
sed 's/\x1b\[[0-9;]*m//g' "$W/out" >"$W/plain"
expect_eq "make demo: exit 0" "$rc" 0
P=$(cat "$W/plain")
# the reply is the line after the RCPT (a pattern of two lines would
# be two patterns: the RCPT line alone would match)
expect_match "enforce.test: RCPT accepted" \
    "$(grep -A1 -F -- '-> RCPT TO:<bob@enforce.test>' "$W/plain" | sed -n 2p)" '^ *<- +250 2\.1\.5 Ok'
expect_match "expired.test: deferred with the reason" "$P" \
    '451 4\.7\.5 MTA-STS policy of expired\.test \(id exp1, mode enforce\) cannot be met: .*certificate-expired'
expect_match "mismatch.test: deferred with the reason" "$P" \
    '451 4\.7\.5 MTA-STS policy of mismatch\.test .*no MX matches the policy'
expect_match "enforce.test: delivered by Postfix over verified TLS" "$P" \
    'Verified TLS connection established to mx[12]\.enforce\.test'
expect_match "the daemon's log lines shown" "$P" 'NOQUEUE: defer rcpt=<bob@expired\.test>'
expect_match "stsctl deferrals shown" "$P" '\{"domain":"mismatch\.test","result":"validation-failure"'
expect_match "the journal shown" "$P" '\{"type":"session","domain":"testing\.test"'
expect_match "the report testing.test would get" "$P" 'BEGIN REPORT domain=testing\.test'
[ "$T_FAIL" -eq 0 ] || tail -n 30 "$W/plain" | sed 's/^/  demo: /'
done_tests t_demo
