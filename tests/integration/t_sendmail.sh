#!/bin/bash
# t_sendmail.sh - Debian 12's Sendmail (sendmail-bin 8.17.1.9, built with
# _FFR_MTA_STS, SOCKETMAP, MAP_REGEX, _FFR_TLS_ALTNAMES) in its own
# Debian root (tests/lab/roots), configured with conf/sendmail-sts.mc
# included unchanged (issue 11):
#
#   - FEATURE(sts)'s socket map (inet:5461@127.0.0.1, map "sts") answered
#     by the daemon in the bare Sendmail form;
#   - the milter gate at RCPT (S=local:/run/sts-milter/milter.sock) for
#     the lab scenarios;
#   - delivery over verified TLS to the good enforce domain;
#   - policy-violating MX hosts refused by Sendmail's own client
#     (mail submitted without the milter);
#   - a cold lookup of a slow policy host (hang.test) answered before the
#     map's 5 s timeout (-d5), so Sendmail delivers (RFC 8461 3.3);
#   - the one-label wildcard SAN that Debian's STS_SAN ruleset never
#     accepts, and the way out (FEATURE(`sts', `', `NO_SAN_TST') with
#     the gate checking names at RCPT).
#
# Sendmail logs through syslog(3): /dev/log in the root is /lab/log.sock,
# where this test listens and writes $S/maillog.
# run-tests: host (it needs the network: debootstrap of its Debian root, when not cached)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
ROOTS=$ROOT/tests/lab/roots
MILTER=$BUILD/sts-milter
PY=/usr/bin/python3
SM_IP=127.0.7.1

[ "$(id -u)" -eq 0 ] || { skip "sendmail" "needs root"; done_tests t_sendmail; exit; }
if ! RLOG=$("$ROOTS" path sendmail 2>&1); then
	printf '%s\n' "$RLOG" | tail -n 5 | sed 's/^/  roots: /'
	skip "sendmail" "no Debian 12 Sendmail root (debootstrap, mirror)"
	done_tests t_sendmail; exit
fi
command -v swaks >/dev/null || { skip "sendmail" "swaks missing"; done_tests t_sendmail; exit; }
lab_up || { echo "t_sendmail: 0 passed, 1 failed"; exit 1; }
trap 'exit 130' INT TERM HUP		# run lab_down (EXIT) on signals too

chmod 755 "$WORK"
W=$WORK/sm
S=$W/root			# /lab inside the root
RUNDIR=$W/run			# /run/sts-milter inside the root
mkdir -p "$W/state" "$S/mqueue" "$S/certs" "$RUNDIR"
chmod 755 "$W" "$S" "$RUNDIR"
chmod 700 "$S/mqueue"
: > "$S/statistics"
cp "$LAB_DIR/ca/root.pem" "$S/root.pem"
cp "$ROOT/conf/sendmail-sts.mc" "$S/sendmail-sts.mc"	# unchanged
printf 'nameserver %s\noptions timeout:1 attempts:2\n' "${LAB_DNS:-127.0.2.1}" > "$S/resolv.conf"
export ROOTS_BINDS="$RUNDIR:/run/sts-milter"
inroot() { "$ROOTS" run sendmail "$S" "$S/resolv.conf" "$@"; }

# --- syslog for the root
cat > "$W/syslog.py" <<'PY'
import os, socket, sys
path, out, pidf = sys.argv[1:4]
try: os.unlink(path)
except FileNotFoundError: pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
open(pidf, 'w').write('%d\n' % os.getpid())
with open(out, 'ab', buffering=0) as f:
    while True:
        d = s.recv(65536)
        f.write(d.rstrip(b'\0\n') + b'\n')
PY
setsid "$PY" "$W/syslog.py" "$S/log.sock" "$S/maillog" "$W/syslog.pid" </dev/null >/dev/null 2>&1 &
SYSLOG=$!

# --- the daemon: milter and Sendmail's map endpoint (conf/sendmail-sts.mc)
C=$W/sts-milter.conf
lab_conf "state_dir = $W/state" "milter_socket = unix:$RUNDIR/milter.sock" \
    "policymap_socket = unix:$RUNDIR/policymap.sock inet:5461@127.0.0.1" \
    "pid_file = $W/sts-milter.pid" "log_level = 1" > "$C"
"$MILTER" -f -c "$C" 2>"$W/milter.log" &
PID=$!
sm_stop() {
	local p
	p=$(head -n 1 "$S/sendmail.pid" 2>/dev/null)
	[ -n "$p" ] && kill "$p" 2>/dev/null
	"$ROOTS" kill sendmail
	kill "$PID" "$SYSLOG" 2>/dev/null
	wait "$PID" "$SYSLOG" 2>/dev/null
}
LAB_CLEANUP=sm_stop
for _ in $(seq 50); do [ -S "$RUNDIR/milter.sock" ] && break; sleep 0.1; done
ok "sts-milter listens (milter, map on inet:5461@127.0.0.1)" test -S "$RUNDIR/milter.sock"

# --- sendmail.cf: Debian's m4 files, the lab's addresses, our lines
# included unchanged; a second one with the documented way out for
# wildcard certificates
mc() {	# FILE-WITH-OUR-LINES
	cat <<EOF
divert(-1)dnl
divert(0)dnl
define(\`_USE_ETC_MAIL_')dnl
include(\`/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`sts-milter lab (t_sendmail.sh)')dnl
OSTYPE(\`debian')dnl
define(\`confDOMAIN_NAME', \`sm.lab.invalid')dnl
define(\`QUEUE_DIR', \`/lab/mqueue')dnl
define(\`confPID_FILE', \`/lab/sendmail.pid')dnl
define(\`STATUS_FILE', \`/lab/statistics')dnl
undefine(\`confHOST_STATUS_DIRECTORY')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confCACERT_PATH', \`/lab/certs')dnl
define(\`confCACERT', \`/lab/root.pem')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confTO_QUEUEWARN', \`1d')dnl
CLIENT_OPTIONS(\`Family=inet, Addr=$SM_IP')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA-v4, Port=25, Addr=$SM_IP')dnl
include(\`$1')dnl
MAILER_DEFINITIONS
MAILER(\`smtp')dnl
EOF
}
mc /lab/sendmail-sts.mc > "$S/sendmail.mc"
sed "s/^FEATURE(\`sts')dnl$/FEATURE(\`sts', \`', \`NO_SAN_TST')dnl/" "$S/sendmail-sts.mc" > "$S/sendmail-sts-nosan.mc"
mc /lab/sendmail-sts-nosan.mc > "$S/nosan.mc"
inroot sh -c 'm4 /lab/sendmail.mc > /lab/sendmail.cf && m4 /lab/nosan.mc > /lab/nosan.cf' 2>"$W/m4.err"
ok "sendmail.cf built (m4, no warnings)" sh -c "test -s '$S/sendmail.cf' && ! test -s '$W/m4.err'"
expect_match "sendmail.cf: the feature's socket map" "$(grep '^Ksts ' "$S/sendmail.cf")" \
    '^Ksts socket -d5 -T<TMPF> inet:5461@127\.0\.0\.1$'
expect_match "sendmail.cf: the milter" "$(grep '^Xsts-milter' "$S/sendmail.cf")" \
    'S=local:/run/sts-milter/milter\.sock, F=T'
ok "nosan.cf: no SAN test" sh -c "grep -q '^Ksts ' '$S/nosan.cf' && ! grep -q 'SetCertAltnames' '$S/nosan.cf'"
expect_match "Debian's sendmail has MTA-STS" "$(inroot sendmail -C /lab/sendmail.cf -d0.15 -bt </dev/null 2>&1)" \
    '_FFR_MTA_STS'

# --- FEATURE(sts) lookups, answered by the daemon's sendmail flavour
bt() { printf '%s\n' "$@" | inroot sendmail -C /lab/sendmail.cf -bt 2>&1; }
expect_match "/map sts enforce.test: secure, bare form" "$(bt '/map sts enforce.test')" \
    'map_lookup: sts \(enforce\.test\) returns secure match=mx1\.enforce\.test:mx2\.enforce\.test servername=hostname'
expect_match "/map sts nopolicy.test: no policy" "$(bt '/map sts nopolicy.test')" \
    'no match'
expect_match "STS_SAN never takes a one-label wildcard (Debian 8.17.1.9)" \
    "$(bt '.D{server_name}mx1.wildcard.test' '.C{cert_altnames}*.wildcard.test' 'STS_SAN x')" \
    'returns: \$# error .*450 mx1 \. wildcard \. test not listed in SANs'

# --- the Sendmail daemon (a crashed run's first)
"$ROOTS" kill sendmail
inroot sendmail -C /lab/sendmail.cf -bd -q5s </dev/null >"$W/sendmail.out" 2>&1
for _ in $(seq 50); do [ -s "$S/sendmail.pid" ] && break; sleep 0.1; done
ok "sendmail -bd started on $SM_IP:25" test -s "$S/sendmail.pid"
for _ in $(seq 50); do swaks --server "$SM_IP" --quit-after CONNECT >/dev/null 2>&1 && break; sleep 0.1; done

TAG=sm$$
# rcpt RCPT: the code Sendmail (and the gate behind it) gives at RCPT
rcpt() {
	swaks --server "$SM_IP" --from "t@sm.lab.invalid" --to "$1" --quit-after RCPT \
	    --timeout 60 2>&1 | awk 'f && match($0, /<[-*~]+ +[245][0-9][0-9]/) {
		sub(/.*<[-*~]+ +/, ""); print substr($0, 1, 3); exit } /-> RCPT TO/ { f = 1 }'
}
for d in enforce testing nopolicy onebad; do
	expect_eq "gate at RCPT: $d.test accepted" "$(rcpt "$TAG@$d.test")" 250
done
for d in expired wrongname untrustedmx nostarttls cnonly mismatch; do
	expect_eq "gate at RCPT: $d.test deferred" "$(rcpt "$TAG@$d.test")" 451
done

# delivery over verified TLS, through the gate
ok "enforce.test sent through Sendmail" swaks --server "$SM_IP" --from t@sm.lab.invalid \
    --to "$TAG@enforce.test" --timeout 60
ok "enforce.test delivered" "$LAB" mx-wait "$TAG@enforce.test" 1 30
smlogwait() { logwait "$S/maillog" "$@"; }	# REGEX [SECONDS]
ok "enforce.test: STARTTLS verified by Sendmail's client" \
    smlogwait 'STARTTLS=client, relay=mx[12]\.enforce\.test\., version=TLSv1\.[23], verify=OK'

# Sendmail's own client, without the gate (local submission)
submit() {	# CF RCPT: sendmail -odi, no milter on this path
	printf 'From: t@sm.lab.invalid\nTo: %s\nSubject: sendmail\n\nbody\n' "$2" |
	    inroot timeout 60 sendmail -C "/lab/$1" -odi -f t@sm.lab.invalid "$2" >/dev/null 2>&1
	return 0
}
submit sendmail.cf "$TAG@wrongname.test"
submit sendmail.cf "$TAG@mismatch.test"
ok "wrongname.test refused by Sendmail: certificate name" \
    smlogwait "ruleset=tls_rcpt, arg1=$TAG@wrongname\\.test, relay=mx\\.wrongname\\.test\\., reject=450 4\\.7\\.0 .* mx\\.wrongname\\.test not listed in SANs"
ok "wrongname.test: deferred" smlogwait "to=$TAG@wrongname\\.test, .*stat=Deferred"
ok "mismatch.test refused by Sendmail: MX not in the policy" \
    smlogwait "ruleset=tls_rcpt, arg1=$TAG@mismatch\\.test, relay=mx\\.mismatch\\.test\\., reject=450 4\\.7\\.0 .* mx\\.mismatch\\.test not found in"
ok "mismatch.test: deferred" smlogwait "to=$TAG@mismatch\\.test, .*stat=Deferred"
for d in wrongname mismatch; do
	expect_eq "$d.test not delivered" "$("$LAB" mx-count "$TAG@$d.test")" 0
done

# the cold lookup of a slow policy host: answered before Sendmail's -d5
# (the daemon's policymap_deadline, issue 11 item 2)
if "$BUILD/stsctl" -c "$C" config 2>/dev/null | grep -q '^policymap_deadline '; then
	T0=$SECONDS
	submit sendmail.cf "$TAG@hang.test"
	ok "hang.test (policy host hangs, cold): delivered" "$LAB" mx-wait "$TAG@hang.test" 1 30
	ok "hang.test: no map timeout" sh -c "! grep -q 'socket_map_lookup(sts).*timeout\|STS lookup temp fail' '$S/maillog'"
	expect_match "hang.test: delivered at once ($((SECONDS - T0)) s)" "$((SECONDS - T0))" '^[0-9]$'
else
	skip "hang.test cold lookup" "this daemon has no policymap_deadline"
fi

# wildcard certificates: Debian's STS_SAN refuses *.wildcard.test ...
submit sendmail.cf "$TAG@wildcard.test"
ok "wildcard.test: Sendmail refuses *.wildcard.test (STS_SAN)" \
    smlogwait "ruleset=tls_rcpt, arg1=$TAG@wildcard\\.test, relay=a\\.wildcard\\.test\\., reject=450 4\\.7\\.0 .* a\\.wildcard\\.test not listed in SANs"
ok "wildcard.test: deferred" smlogwait "to=$TAG@wildcard\\.test, .*stat=Deferred"
expect_eq "wildcard.test: not delivered" "$("$LAB" mx-count "$TAG@wildcard.test")" 0
# ... the way out: NO_SAN_TST, with the gate checking names at RCPT
submit nosan.cf "$TAG-n@wildcard.test"
ok "NO_SAN_TST: wildcard.test delivered" "$LAB" mx-wait "$TAG-n@wildcard.test" 1 30
ok "NO_SAN_TST: still over verified TLS" \
    smlogwait 'STARTTLS=client, relay=a\.wildcard\.test\., version=TLSv1\.[23], verify=OK'
expect_eq "NO_SAN_TST: the gate still defers wrongname.test at RCPT" "$(rcpt "$TAG-n@wrongname.test")" 451
ok "daemon still running" kill -0 "$PID"

if [ "$T_FAIL" -gt 0 ]; then
	tail -n 40 "$S/maillog" | sed 's/^/  maillog: /'
	tail -n 15 "$W/milter.log" | sed 's/^/  milter: /'
fi
done_tests t_sendmail
