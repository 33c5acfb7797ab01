#!/bin/bash
# t_postfix_client.sh - Debian's Postfix as the sending MTA with
# smtp_tls_policy_maps = socketmap:unix:...:postfix answered by the real
# sts-milter (issue 5): the good enforce domain is delivered over
# verified TLS, enforce domains whose MX certificate is bad are deferred
# by Postfix itself, a testing domain is delivered.  The daemon follows
# that Postfix's mail log (postfix_log) and journals its TLS sessions,
# as TLS-RPT wants them, from the lines Postfix 3.7 really writes.
#
# smtp(8) runs chrooted, as in Debian's master.cf, and reaches the
# daemon by the queue-relative socket name README and conf/ recommend
# (the socket lives in <queue_directory>/sts-milter/).
#
# The sending Postfix is a private instance of this test (no listener:
# mail goes in through sendmail -C), so it never collides with the lab's
# own outbound MTA; it resolves through the lab DNS in a private mount
# namespace (LAB-NOTES) and trusts only the lab CA.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MILTER=$BUILD/sts-milter

[ -x /usr/lib/postfix/sbin/master ] || { skip "postfix" "not installed"; done_tests t_postfix_client; exit; }
lab_up || { echo "t_postfix_client: 0 passed, 1 failed"; exit 1; }
"$LAB" mx-count probe@enforce.test >/dev/null 2>&1 ||
    { skip "postfix client" "this lab has no MX hosts"; done_tests t_postfix_client; exit; }

chmod 755 "$WORK"		# the postfix user reaches the socket
W=$WORK/pfc
SOCK=$W/queue/sts-milter/policymap.sock	# inside the chroot
mkdir -p "$W/etc" "$W/state" "$W/queue/sts-milter"
chmod 755 "$W" "$W/queue" "$W/queue/sts-milter"

# --- the daemon
C=$W/sts-milter.conf
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|pid_file)[ =]' "$LAB_CONF"
	cat <<EOF
state_dir = $W/state
fetch_timeout = 4s
milter_socket = unix:$W/milter.sock
policymap_socket = unix:$SOCK
pid_file = $W/sts-milter.pid
postfix_log = $W/maillog
status_interval = 1s
EOF
} > "$C"
"$MILTER" -f -c "$C" 2>"$W/milter.log" &
PID=$!

# --- the sending Postfix
cat > "$W/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $W/queue
data_directory = $W/data
maillog_file = $W/maillog
maillog_file_prefixes = $W/
$(pf_main_cf_common)
myhostname = pmtest.lab.invalid
smtp_host_lookup = dns
smtp_address_preference = ipv4
smtp_tls_security_level = may
smtp_tls_CAfile = $LAB_DIR/ca/root.pem
smtp_tls_loglevel = 1
smtp_tls_policy_maps = socketmap:unix:sts-milter/policymap.sock:postfix
maximal_backoff_time = 1h
EOF
pf_master_cf y > "$W/etc/master.cf"
printf 'nameserver %s\noptions timeout:1 attempts:2\n' "${LAB_DNS:-127.0.2.1}" > "$W/resolv.conf"
pf_stop() {
	[ -s "$W/queue/pid/master.pid" ] && postfix -c "$W/etc" stop >/dev/null 2>&1
	kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
}
LAB_CLEANUP=pf_stop
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
ok "sts-milter listens" test -S "$SOCK"
q=$W/queue
mkdir -p "$q/pid" "$W/data" "$q/etc"
# what Debian's postfix start script copies into the chroot
cp "$W/resolv.conf" "$q/etc/resolv.conf"
for f in services hosts nsswitch.conf host.conf localtime; do
	[ -e "/etc/$f" ] && cp -L "/etc/$f" "$q/etc/"
done
chmod 0755 "$q" "$q/pid"
for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
	mkdir -p "$q/$d"; chown postfix: "$q/$d"; chmod 0700 "$q/$d"
done
chown postfix: "$W/data"; chmod 0700 "$W/data"
mkdir -p "$q/maildrop" "$q/public"
chown postfix:postdrop "$q/maildrop" "$q/public"
chmod 0730 "$q/maildrop"; chmod 0710 "$q/public"
MAIL_CONFIG=$W/etc unshare -m --propagation private sh -c \
    'mount --bind "$0" /etc/resolv.conf && exec /usr/lib/postfix/sbin/master -w' \
    "$W/resolv.conf" </dev/null >"$W/postfix.out" 2>&1
ok "sending Postfix started" test -s "$W/queue/pid/master.pid"

# send RCPT: one message through the sending Postfix
n=0
send() {
	n=$((n + 1))
	printf 'From: t@pmtest.lab.invalid\nTo: %s\nSubject: policymap %d\n\nbody %d\n' \
	    "$1" "$n" "$n" | sendmail -C "$W/etc" -f t@pmtest.lab.invalid "$1"
}
# logwait REGEX [SECONDS]: wait for a maillog line
mlogwait() { logwait "$W/maillog" "$@"; }

TAG=pm$$
send "$TAG@enforce.test"
send "$TAG@wildcard.test"
send "$TAG@testing.test"
send "$TAG@expired.test"
send "$TAG@wrongname.test"
send "$TAG@untrustedmx.test"
send "$TAG@nopolicy.test"

# enforce: delivered, and only over verified TLS
ok "enforce.test delivered" "$LAB" mx-wait "$TAG@enforce.test" 1 30
ok "enforce.test: Verified TLS" mlogwait 'Verified TLS connection established to mx[12]\.enforce\.test'
ok "enforce.test: status=sent" mlogwait "to=<$TAG@enforce.test>.*status=sent"
ok "wildcard.test delivered (*.wildcard.test)" "$LAB" mx-wait "$TAG@wildcard.test" 1 30
ok "wildcard.test: Verified TLS" mlogwait 'Verified TLS connection established to a\.wildcard\.test'
# enforce with a bad MX certificate: Postfix defers on its own
for d in expired wrongname untrustedmx; do
	ok "$d.test deferred by Postfix" mlogwait "to=<$TAG@$d.test>.*status=deferred" 30
	expect_eq "$d.test not delivered" "$("$LAB" mx-count "$TAG@$d.test")" 0
done
expect_match "expired.test: the reason is the certificate" \
    "$(grep "to=<$TAG@expired.test>.*status=deferred" "$W/maillog" | head -1)" \
    'certificate|TLS|verification'
# testing (MX certificate expired) and no policy: delivered
ok "testing.test delivered" "$LAB" mx-wait "$TAG@testing.test" 1 30
ok "nopolicy.test delivered" "$LAB" mx-wait "$TAG@nopolicy.test" 1 30
chrooted_smtp() {	# an smtp(8) of this instance whose root is the queue
	local p
	for p in $(pgrep -x smtp); do
		[ "$(readlink "/proc/$p/root")" = "$W/queue" ] && return 0
	done
	return 1
}
ok "smtp(8) ran chrooted in the queue directory" chrooted_smtp

# --- postfix_log: Postfix's own TLS sessions in the journal (src postfix)
sleep 2		# the follower reads once a second
pj() {	# DOMAIN: "result mx ptype[ reason]" of its postfix sessions, sorted
	"$BUILD/stsctl" -c "${PJ_CONF:-$C}" journal | jq -r --arg d "$1" \
	    'select(.src == "postfix" and .domain == $d) | "\(.result) \(.mx) \(.ptype)\(if .reason then " " + .reason else "" end)"' | sort | paste -sd';'
}
expect_match "postfix_log: enforce.test success (Verified)" "$(pj enforce.test)" '^success mx[12]\.enforce\.test sts$'
expect_eq "postfix_log: wildcard.test success" "$(pj wildcard.test)" "success a.wildcard.test sts"
expect_eq "postfix_log: expired.test certificate-expired" "$(pj expired.test)" \
    "certificate-expired mx.expired.test sts certificate has expired"
expect_eq "postfix_log: wrongname.test host mismatch" "$(pj wrongname.test)" \
    "certificate-host-mismatch mx.wrongname.test sts num=62:hostname mismatch"
expect_match "postfix_log: untrustedmx.test not trusted" "$(pj untrustedmx.test)" \
    '^certificate-not-trusted mx\.untrustedmx\.test sts untrusted issuer'
expect_eq "postfix_log: testing.test (may: Untrusted) not trusted" "$(pj testing.test)" \
    "certificate-not-trusted mx.testing.test sts"
expect_eq "postfix_log: nopolicy.test no-policy-found success" "$(pj nopolicy.test)" \
    "success mx.nopolicy.test no-policy-found"
ST=$("$BUILD/stsctl" -c "$C" status 2>/dev/null)
expect_eq "stsctl status: postfix_log counts" \
    "$(printf '%s' "$ST" | jq -c '[.postfix_log.sessions == .postfix_log.journaled, .postfix_log.journaled >= 7]')" "[true,true]"
expect_eq "stsctl status: Postfix's maillog_file is BSD format" \
    "$(printf '%s' "$ST" | jq -r '.postfix_log.format')" bsd

# --- the same log as rsyslog writes it on current distributions (issue
# 14 item 8): RFC 3339 time stamps (RSYSLOG_FileFormat) and RFC 5424
# lines (RSYSLOG_SyslogProtocol23Format).  Each is followed by a daemon of
# its own whose state is a copy of the first one's, asked once for each
# domain through its policy map as Postfix would (the follower journals
# only domains the daemon knows): the same sessions are journaled, and
# stsctl status names the format.
DOMS="enforce wildcard expired wrongname untrustedmx testing nopolicy"
WANT=$(for d in $DOMS; do echo "$d: $(pj $d.test)"; done)
cat > "$W/reformat.py" <<'PY'
import re, sys
fmt = sys.argv[1]
mon = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split()
hdr = re.compile(r'^(\w{3}) +(\d+) (\d\d:\d\d:\d\d)(?:\.(\d+))? (\S+) ([^ \[]+?)(?:\[(\d+)\])?: (.*)$')
for i, line in enumerate(sys.stdin):
    m = hdr.match(line.rstrip('\n'))
    if not m:
        continue
    ts = '2026-%02d-%02dT%s.%06d+00:00' % (mon.index(m.group(1)) + 1, int(m.group(2)), m.group(3), i)
    if fmt == 'rfc3339':
        tag = m.group(6) + ('[%s]' % m.group(7) if m.group(7) else '')
        print('%s %s %s: %s' % (ts, m.group(5), tag, m.group(8)))
    else:
        print('<22>1 %s %s %s %s - - %s' % (ts, m.group(5), m.group(6), m.group(7) or '-', m.group(8)))
PY
for fmt in rfc3339 rfc5424; do
	F=$W/$fmt
	mkdir -p "$F"
	cp -a "$W/state" "$F/state"
	rm -rf "$F/state/journal" "$F/state/postfix-log.pos" "$F/state/status.json"
	: > "$F/maillog"
	sed -e "s|^state_dir = .*|state_dir = $F/state|" \
	    -e "s|^milter_socket = .*|milter_socket = unix:$F/milter.sock|" \
	    -e "s|^policymap_socket = .*|policymap_socket = unix:$F/pm.sock|" \
	    -e "s|^pid_file = .*|pid_file = $F/pid|" \
	    -e "s|^postfix_log = .*|postfix_log = $F/maillog|" "$C" > "$F/conf"
	"$MILTER" -f -c "$F/conf" 2>"$F/milter.log" &
	FPID=$!
	LAB_CLEANUP='pf_stop; kill $FPID 2>/dev/null; wait $FPID 2>/dev/null'
	for _ in $(seq 50); do [ -s "$F/state/postfix-log.pos" ] && [ -S "$F/pm.sock" ] && break; sleep 0.1; done
	for d in $DOMS; do
		postmap -c "$W/etc" -q $d.test "socketmap:unix:$F/pm.sock:postfix" >/dev/null 2>&1
	done
	/usr/bin/python3 "$W/reformat.py" $fmt < "$W/maillog" >> "$F/maillog"
	NL=$(wc -l < "$F/maillog")
	for _ in $(seq 50); do
		FST=$("$BUILD/stsctl" -c "$F/conf" status 2>/dev/null)
		[ "$(printf '%s' "$FST" | jq '.postfix_log.lines')" = "$NL" ] && break
		sleep 0.2
	done
	expect_match "$fmt: the log has Postfix's smtp lines" "$(grep -c 'postfix/smtp' "$F/maillog")" '^[1-9]'
	expect_eq "$fmt: the same sessions journaled as from the BSD log" \
	    "$(for d in $DOMS; do echo "$d: $(PJ_CONF=$F/conf pj $d.test)"; done)" "$WANT"
	expect_eq "$fmt: stsctl status names the format, counts its lines" \
	    "$(printf '%s' "$FST" | jq -c --arg f $fmt '[.postfix_log.format, .postfix_log["lines_" + $f] == .postfix_log.lines, .postfix_log.lines > 0, .postfix_log.sessions == .postfix_log.journaled]')" \
	    "[\"$fmt\",true,true,true]"
	expect_eq "$fmt: sessions journaled" "$(printf '%s' "$FST" | jq '.postfix_log.journaled')" \
	    "$(printf '%s' "$ST" | jq '.postfix_log.journaled')"
	kill $FPID; wait $FPID 2>/dev/null
	LAB_CLEANUP=pf_stop
done

ok "no policy-table errors" sh -c "! grep -q 'policy table lookup error\|TLS configuration problem' '$W/maillog'"
ok "daemon still running" kill -0 "$PID"

if [ "$T_FAIL" -gt 0 ]; then
	tail -n 30 "$W/maillog" | sed 's/^/  maillog: /'
	tail -n 10 "$W/milter.log" | sed 's/^/  milter: /'
fi
done_tests t_postfix_client
