#!/bin/bash
# t_policy_lab.sh - stsctl policy against every lab scenario (issue 2):
# real DNS (unbound) and real HTTPS (nginx) on loopback, the result
# type, the cache state, a restart and a policy-host outage.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
STSCTL=$BUILD/stsctl

lab_up || { echo "t_policy_lab: 0 passed, 1 failed"; exit 1; }
LAB_CLEANUP='"$LAB" set-txt idchange.test --default >/dev/null 2>&1; "$LAB" set-policy idchange.test --default >/dev/null 2>&1; "$LAB" https-start >/dev/null 2>&1'
C=$(conf_for policy "fetch_timeout = 4s" "fetch_connect_timeout = 2s" \
    "txt_check_interval = 0s")

# policy DOMAIN: run stsctl policy, set OUT and RC
policy() {
	OUT=$("$STSCTL" -c "$C" policy "$@" 2>"$WORK/err")
	RC=$?
}
field() {	# field NAME: a top-level string field of $OUT
	printf '%s' "$OUT" | jq -r ".$1 // empty"
}

# domain  exit  status  mode-or-result
while read -r d want_rc want_status want; do
	[ -z "$d" ] && continue
	policy "$d"
	expect_eq "$d: exit code" "$RC" "$want_rc"
	expect_eq "$d: status" "$(field status)" "$want_status"
	case $want_status in
	policy)	expect_eq "$d: mode" "$(field policy.mode)" "$want" ;;
	fetch-failed) expect_eq "$d: result type" "$(field result)" "$want" ;;
	esac
done <<'SCEN'
enforce.test	0	policy	enforce
testing.test	0	policy	testing
none.test	0	policy	none
wildcard.test	0	policy	enforce
crlf.test	0	policy	enforce
multistr.test	0	policy	testing
cname.test	0	policy	testing
nopolicy.test	1	no-policy	-
twotxt.test	1	no-policy	-
notfound.test	69	fetch-failed	sts-policy-fetch-error
redirect.test	69	fetch-failed	sts-policy-fetch-error
ctype.test	69	fetch-failed	sts-policy-invalid
big.test	69	fetch-failed	sts-policy-fetch-error
hang.test	69	fetch-failed	sts-policy-fetch-error
badcert.test	69	fetch-failed	sts-webpki-invalid
untrusted.test	69	fetch-failed	sts-webpki-invalid
invalid.test	69	fetch-failed	sts-policy-invalid
nohost.test	69	fetch-failed	sts-policy-fetch-error
SCEN

# Details a user relies on.
policy wildcard.test
expect_eq "wildcard: pattern kept" "$(printf '%s' "$OUT" | jq -c .policy.mx)" '["*.wildcard.test"]'
policy enforce.test
expect_eq "enforce: id" "$(field id)" "enf1"
expect_eq "enforce: mx list" "$(printf '%s' "$OUT" | jq -c .policy.mx)" '["mx1.enforce.test","mx2.enforce.test"]'
expect_eq "enforce: max_age" "$(printf '%s' "$OUT" | jq .policy.max_age)" "86400"
policy cname.test
expect_eq "cname: id via CNAME (STS-TXT-7)" "$(field id)" "cn1"
policy multistr.test
expect_eq "multistr: strings joined (STS-TXT-6)" "$(field id)" "ms1"
policy badcert.test
expect_match "badcert: reason names the name mismatch" "$(field reason)" "hostname mismatch"
policy big.test
expect_match "big: reason names the size" "$(field reason)" "65536"
policy redirect.test
expect_match "redirect: not followed" "$(field reason)" "301"

# Cache state survives the process: every stsctl run is a new process.
OUT=$("$STSCTL" -c "$C" cache show enforce.test); RC=$?
expect_eq "cache show: exit" "$RC" 0
expect_eq "cache show: id" "$(field id)" "enf1"
list=$("$STSCTL" -c "$C" cache list | jq -r .domain | sort | tr '\n' ' ')
expect_match "cache list holds the fetched policies" "$list" "crlf.test.*enforce.test.*wildcard.test"
expect_eq "cache list holds no failed domain" "$(printf '%s' "$list" | grep -c badcert)" 0
ls "$WORK/policy/state/cache" >/dev/null 2>&1
ok "cache files on disk" test -f "$WORK/policy/state/cache/enforce.test"
policy --cached enforce.test
expect_eq "restart: cached policy served with no network" "$RC" 0
expect_eq "restart: cache hit" "$(field cache)" "hit"

# Policy-host outage: a cached policy keeps applying (STS-CACHE-6).
"$LAB" https-stop >/dev/null 2>&1
policy --refresh enforce.test
expect_eq "outage: still the cached policy" "$RC" 0
expect_eq "outage: mode" "$(field policy.mode)" "enforce"
expect_eq "outage: fetch failure reported" "$(field result)" "sts-policy-fetch-error"
policy --refresh none.test
expect_eq "outage: none policy kept too" "$(field policy.mode)" "none"
"$LAB" https-start >/dev/null 2>&1

# Policy id change (STS-CACHE-2): new id, new body.
policy idchange.test
expect_eq "idchange: first id" "$(field id)" "v1"
printf 'version: STSv1\nmode: testing\nmx: mx.idchange.test\nmax_age: 3600\n' |
    "$LAB" set-policy idchange.test - >/dev/null
"$LAB" set-txt idchange.test 'v=STSv1; id=v2;' >/dev/null
policy idchange.test
expect_eq "idchange: new id fetched" "$(field id)" "v2"
expect_eq "idchange: new mode" "$(field policy.mode)" "testing"
expect_eq "idchange: new max_age" "$(printf '%s' "$OUT" | jq .policy.max_age)" "3600"
# TXT record gone: the cached policy stays (STS-TXT-5).
"$LAB" set-txt idchange.test >/dev/null
policy idchange.test
expect_eq "idchange: TXT removed, policy kept" "$(field id)" "v2"
# New id but the fetch fails: old policy kept (STS-CACHE-7), back-off.
"$LAB" set-txt idchange.test 'v=STSv1; id=v3;' >/dev/null
"$LAB" https-stop >/dev/null 2>&1
policy idchange.test
expect_eq "idchange: fetch of v3 fails, v2 applies" "$(field id)" "v2"
expect_eq "idchange: txt_id shows v3" "$(field txt_id)" "v3"
"$LAB" https-start >/dev/null 2>&1
policy idchange.test
expect_eq "idchange: back-off, still v2 (STS-HTTP-5)" "$(field id)" "v2"
expect_match "idchange: back-off is explained" "$(field reason)" "not retrying"
policy --refresh idchange.test
expect_eq "idchange: --refresh ignores the back-off" "$(field id)" "v3"

# Flush.
OUT=$("$STSCTL" -c "$C" cache flush enforce.test)
expect_eq "cache flush one" "$(field flushed)" "1"
"$STSCTL" -c "$C" cache show enforce.test >/dev/null 2>&1
expect_eq "flushed domain is gone" "$?" 1

# Parser commands follow the contract.
OUT=$("$STSCTL" parse-sts-txt 'v=STSv1; id=20160831085700Z;'); RC=$?
expect_eq "parse-sts-txt ok" "$RC/$(field id)" "0/20160831085700Z"
"$STSCTL" parse-sts-txt 'v=STSv1; id=2016-08-31' >/dev/null 2>&1
expect_eq "parse-sts-txt invalid: 65" "$?" 65
OUT=$("$STSCTL" parse-tlsrpt-txt 'v=TLSRPTv1; rua=mailto:a@example.com, https://r.example.net/x')
expect_eq "parse-tlsrpt-txt two URIs" "$(printf '%s' "$OUT" | jq -c .rua)" '["mailto:a@example.com","https://r.example.net/x"]'
"$STSCTL" mx-match '*.example.com' mail.example.com >/dev/null
expect_eq "mx-match match: 0" "$?" 0
"$STSCTL" mx-match '*.example.com' foo.bar.example.com >/dev/null
expect_eq "mx-match no match: 1" "$?" 1
"$STSCTL" mx-match 'mail.*.example.com' x >/dev/null 2>&1
expect_eq "mx-match bad pattern: 65" "$?" 65
printf 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n' > "$WORK/p.txt"
OUT=$("$STSCTL" check-policy "$WORK/p.txt"); RC=$?
expect_eq "check-policy normalised" "$RC $OUT" '0 {"version":"STSv1","mode":"enforce","mx":["mail.example.com"],"max_age":604800}'
printf 'version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n' | "$STSCTL" check-policy - >/dev/null 2>"$WORK/err"
expect_eq "check-policy invalid: 65" "$?" 65
expect_match "check-policy invalid: reason on stderr" "$(cat "$WORK/err")" "mode"

# stsctl config: what the daemon would refuse at start-up is refused here
OUT=$("$STSCTL" -c "$ROOT/conf/sts-milter.conf" config 2>&1); RC=$?
expect_eq "config: the sample is OK" "$RC $(printf '%s' "$OUT" | tail -n 1)" "0 configuration OK"
printf 'syslog_facility = bogus\nuser = no-such-user-here\noverride_file = %s/nonexistent\nreport_smtp_tls = maybe\n' \
    "$WORK" > "$WORK/bad.conf"
"$STSCTL" -c "$WORK/bad.conf" config >/dev/null 2>"$WORK/err"
expect_eq "config: bad values: 78" "$?" 78
expect_eq "config: each problem named" "$(grep -c 'syslog_facility\|override_file\|no such user\|report_smtp_tls' "$WORK/err")" 4
"$BUILD/sts-milter" -n -c "$WORK/bad.conf" >/dev/null 2>&1
expect_eq "sts-milter -n refuses it too" "$?" 1

done_tests t_policy_lab
