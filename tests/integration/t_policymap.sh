#!/bin/bash
# t_policymap.sh - the policy-map listener of the real sts-milter in the
# lab (issue 5): postmap -q through Postfix's own socketmap client for
# every flavour and scenario, Sendmail's netstring protocol, Exim's
# readsocket form (request, half-close, reply, close), garbage and
# vanishing clients, overrides reloaded with SIGHUP, the deadline of a
# lookup whose policy host is slow or hangs (issue 11), and the debug
# log of each answer (log_level 2).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MILTER=$BUILD/sts-milter
PY=/usr/bin/python3

command -v postmap >/dev/null || { skip "postmap" "postfix not installed"; ok "daemon still running" kill -0 $PID
[ "$T_FAIL" -gt 0 ] && sed 's/^/  milter: /' "$WORK/pm/milter.log" | tail -20
done_tests t_policymap; exit; }
lab_up || { echo "t_policymap: 0 passed, 1 failed"; exit 1; }

SOCK=$WORK/pm/policymap.sock
PORT=$((20000 + RANDOM % 20000))
mkdir -p "$WORK/pm/state"
C=$WORK/pm/sts-milter.conf
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|pid_file|override_file|log_level|policymap_deadline)[ =]' "$LAB_CONF"
	cat <<EOF
state_dir = $WORK/pm/state
fetch_timeout = 4s
fetch_connect_timeout = 2s
milter_socket = unix:$WORK/pm/milter.sock
policymap_socket = unix:$SOCK inet:$PORT@127.0.0.1
pid_file = $WORK/pm/sts-milter.pid
override_file = $WORK/pm/override
policymap_deadline = 1s
log_level = 2
EOF
} > "$C"
: > "$WORK/pm/override"

"$MILTER" -f -c "$C" 2>"$WORK/pm/milter.log" &
PID=$!
LAB_CLEANUP='kill $PID 2>/dev/null; wait $PID 2>/dev/null'
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
ok "daemon listens on $SOCK" test -S "$SOCK"

# postmap needs a main.cf; an empty instance config will do
mkdir -p "$WORK/pm/postfix"
echo "compatibility_level = 3.6" > "$WORK/pm/postfix/main.cf"

# q NAME KEY: postmap -q through Postfix's socketmap client
q() {
	postmap -c "$WORK/pm/postfix" -q "$2" "socketmap:unix:$SOCK:$1" 2>>"$WORK/pm/postmap.err"
	local rc=$?
	[ $rc -eq 1 ] && printf 'NOTFOUND'
	[ $rc -gt 1 ] && printf 'ERROR'
	return 0
}

# raw KIND ADDR PAYLOAD: one request over a raw socket (python, stdlib)
raw() {
	"$PY" - "$@" <<'PY'
import socket, sys
kind, addr, payload = sys.argv[1], sys.argv[2], sys.argv[3].encode().decode('unicode_escape').encode('latin-1')
if addr.startswith('/'):
    s = socket.socket(socket.AF_UNIX); s.connect(addr)
else:
    h, p = addr.rsplit(':', 1); s = socket.create_connection((h, int(p)))
s.settimeout(10)
s.sendall(payload)
if kind == 'close':             # vanish mid-request
    s.close(); sys.exit(0)
if kind == 'halfclose':
    s.shutdown(socket.SHUT_WR)
out = b''
try:
    while True:
        b = s.recv(65536)
        if not b: out += b'<EOF>'; break
        out += b
        if kind == 'one' and out.endswith(b','): break
except socket.timeout:
    out += b'<TIMEOUT>'
sys.stdout.write(out.decode('latin-1'))
PY
}

# timed KIND ADDR PAYLOAD: raw, then the milliseconds it took
timed() {
	local t0 out
	t0=$(date +%s%3N)
	out=$(raw "$@")
	echo "$out $(( $(date +%s%3N) - t0 ))"
}

# The deadline (issue 11): a cold lookup whose policy host is slow
# (slow.test answers after ~2.5 s) or never answers (hang.test) gets the
# flavour's "no policy" at policymap_deadline (1 s here), under every
# MTA's map timeout (Sendmail FEATURE(sts) -d5, Exim 5s): RFC 8461 3.3,
# STS-HTTP-8, deliver as though there were no policy.  The fetch goes on
# and serves the next lookup.
expect_eq "deadline: postmap postfix slow.test (cold)" "$(q postfix slow.test)" "NOTFOUND"
# timed in the client itself: a cold lookup of a host that never answers
R=$(timed halfclose "$SOCK" 'exim hang.test')
expect_match "deadline: exim hang.test (cold): none at the deadline" "$R" '^none<EOF> [0-9]+$'
DT=${R##* }
ok "deadline: answered in ${DT} ms (deadline 1000 ms, Exim waits 5 s)" test "$DT" -ge 900 -a "$DT" -lt 2500
R=$(timed one "$SOCK" '13:sts hang.test,')
expect_match "deadline: sendmail hang.test: NOTFOUND in time (Sendmail -d5)" "$R" '^9:NOTFOUND , [0-9]+$'
ok "deadline: answered in ${R##* } ms" test "${R##* }" -lt 2500
expect_eq "deadline: postfix-tlsrpt hang.test" "$(q postfix-tlsrpt hang.test)" "NOTFOUND"
for _ in $(seq 50); do
	[ "$(q postfix slow.test)" = NOTFOUND ] || break
	sleep 0.1
done
expect_eq "deadline: the fetch went on, the next lookup has the policy" \
    "$(q postfix slow.test)" "secure match=mx1.enforce.test servername=hostname"
expect_match "debug log: the deadline answer" "$(cat "$WORK/pm/milter.log")" \
    'policymap: flavour=postfix domain=slow\.test cache=pending reply="NOTFOUND "'
expect_match "debug log: exim" "$(cat "$WORK/pm/milter.log")" \
    'policymap: flavour=exim domain=hang\.test cache=pending reply="none"'
expect_match "debug log: sendmail" "$(cat "$WORK/pm/milter.log")" \
    'policymap: flavour=sendmail domain=hang\.test cache=(pending|fetched) reply="NOTFOUND "'
expect_match "debug log: the policy from the cache" "$(cat "$WORK/pm/milter.log")" \
    'policymap: flavour=postfix domain=slow\.test cache=(hit|memo) reply="OK secure match=mx1\.enforce\.test servername=hostname"'

# Warm the cache (a cold lookup may take longer than the deadline), then
# check.
for d in enforce.test testing.test wildcard.test none.test nopolicy.test \
    notfound.test badcert.test crlf.test; do q postfix "$d" >/dev/null; done
for _ in $(seq 50); do
	[ "$(q postfix enforce.test)" = NOTFOUND ] || break
	sleep 0.1
done
sleep 0.5

ENF='secure match=mx1.enforce.test:mx2.enforce.test servername=hostname'
while IFS='|' read -r name key want; do
	[ -z "$name" ] && continue
	expect_eq "postmap $name $key" "$(q "$name" "$key")" "$want"
done <<EOF
postfix|enforce.test|$ENF
postfix|ENFORCE.TEST|$ENF
postfix|[enforce.test]:587|$ENF
postfix|.enforce.test|NOTFOUND
postfix|.pwalk.test|NOTFOUND
postfix|[127.0.1.1]|NOTFOUND
postfix|testing.test|NOTFOUND
postfix|wildcard.test|secure match=.wildcard.test servername=hostname
postfix|crlf.test|secure match=mx.crlf.test servername=hostname
postfix|none.test|NOTFOUND
postfix|nopolicy.test|NOTFOUND
postfix|notfound.test|NOTFOUND
postfix|badcert.test|NOTFOUND
sendmail|enforce.test|$ENF
sts|enforce.test|$ENF
sendmail|testing.test|NOTFOUND
postfix-tlsrpt|enforce.test|$ENF policy_type=sts policy_domain=enforce.test mx_host_pattern=mx1.enforce.test mx_host_pattern=mx2.enforce.test { policy_string = version: STSv1 } { policy_string = mode: enforce } { policy_string = mx: mx1.enforce.test } { policy_string = mx: mx2.enforce.test } { policy_string = max_age: 86400 }
postfix-tlsrpt|wildcard.test|secure match=.wildcard.test servername=hostname policy_type=sts policy_domain=wildcard.test mx_host_pattern=*.wildcard.test { policy_string = version: STSv1 } { policy_string = mode: enforce } { policy_string = mx: *.wildcard.test } { policy_string = max_age: 86400 }
postfix-tlsrpt|none.test|NOTFOUND
postfix-tlsrpt|nopolicy.test|NOTFOUND
EOF
expect_match "postmap unknown map name: permanent error" \
    "$(postmap -c "$WORK/pm/postfix" -q enforce.test "socketmap:unix:$SOCK:nosuchmap" 2>&1)" \
    'permanent error: unknown map name'
TST=$(q postfix-tlsrpt testing.test)
expect_match "postmap postfix-tlsrpt testing.test: may + STS attributes" "$TST" \
    '^may policy_type=sts policy_domain=testing.test mx_host_pattern=mx.testing.test \{ policy_string = version: STSv1 \} \{ policy_string = mode: testing \}'

# Postfix's parent-domain walk (.pwalk.test, a domain asked nowhere
# else) never reaches the DNS (STS-PD-3).  A query for it would be
# _mta-sts.pwalk.test: the log shows such queries (enforce.test's), and
# none that names pwalk.
UL=$LAB_DIR/unbound/unbound.log
ok "the lab resolver logs queries (enforce.test's TXT)" grep -q '_mta-sts\.enforce\.test\. TXT IN' "$UL"
ok "no lookup for .pwalk.test (a parent-domain key)" sh -c "! grep -q 'pwalk' '$UL'"

# Sendmail speaks the same netstrings; FEATURE(sts) asks map "sts".
expect_eq "sendmail: netstring over unix" "$(raw one "$SOCK" '16:sts enforce.test,')" \
    "69:OK $ENF,"
expect_eq "sendmail: netstring over inet" "$(raw one "127.0.0.1:$PORT" '21:sendmail enforce.test,')" \
    "69:OK $ENF,"
expect_eq "sendmail: several requests, one connection" \
    "$(raw halfclose "$SOCK" '16:sts enforce.test,16:sts testing.test,')" \
    "69:OK $ENF,9:NOTFOUND ,<EOF>"

# Exim: ${readsocket} writes the request, half-closes, reads to EOF.
expect_eq "exim: enforce" "$(raw halfclose "$SOCK" 'exim enforce.test')" \
    "enforce domain=enforce.test mx=mx1.enforce.test:mx2.enforce.test id=enf1<EOF>"
expect_eq "exim: bare key" "$(raw halfclose "$SOCK" 'testing.test')" \
    "testing domain=testing.test mx=mx.testing.test id=tst1<EOF>"
expect_eq "exim: no policy" "$(raw halfclose "$SOCK" 'exim nopolicy.test')" "none<EOF>"
expect_eq "exim: newline form (shutdown=no)" "$(raw read "$SOCK" 'exim none.test\n')" "none<EOF>"
expect_eq "exim: MX allowed" "$(raw halfclose "$SOCK" 'exim enforce.test mx2.enforce.test')" "<EOF>"
expect_eq "exim: wildcard MX allowed" "$(raw halfclose "$SOCK" 'exim wildcard.test a.wildcard.test')" "<EOF>"
expect_eq "exim: MX vetoed" "$(raw halfclose "$SOCK" 'exim enforce.test mx.evil.test')" \
    "MX host mx.evil.test does not match the MTA-STS policy of enforce.test<EOF>"
expect_eq "exim: two-label wildcard vetoed" "$(raw halfclose "$SOCK" 'exim wildcard.test a.b.wildcard.test')" \
    "MX host a.b.wildcard.test does not match the MTA-STS policy of wildcard.test<EOF>"

# Garbage and clients that vanish; the daemon keeps answering.
expect_match "garbage: PERM and close" "$(raw read "$SOCK" '12:postfix x;garbage')" '^[0-9]+:PERM .*,<EOF>$'
expect_match "oversize: PERM and close" "$(raw read "$SOCK" '999999:postfix ')" '^[0-9]+:PERM .*,<EOF>$'
for _ in $(seq 20); do raw close "$SOCK" '20:postfix enfo' >/dev/null 2>&1 || true; done
"$PY" - "$SOCK" <<'PY'
import socket, sys
for i in range(200):        # connect, send a whole request, vanish
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(b'21:postfix slow%d.test,' % (i % 10) if i < 10 else b'20:postfix enforce.test,')
    s.close()
PY
ok "daemon alive after abuse" kill -0 $PID
expect_eq "still answers" "$(q postfix enforce.test)" "$ENF"

# Idle connections are cheap: 1000 of them, then one more lookup.
"$PY" - "$SOCK" <<'PY' &
import socket, sys, time
conns = []
for i in range(1000):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); conns.append(s)
time.sleep(3)
PY
IDLE=$!
sleep 1
expect_eq "answers with 1000 idle connections" "$(q postfix enforce.test)" "$ENF"
THREADS=$(ls /proc/$PID/task | wc -l)
ok "no thread per connection ($THREADS threads)" test "$THREADS" -lt 64
wait $IDLE

# Overrides: SIGHUP re-reads override_file.
printf 'enforce.test skip\ntesting.test enforce\n' > "$WORK/pm/override"
kill -HUP $PID
sleep 1
expect_eq "override skip" "$(q postfix enforce.test)" "NOTFOUND"
expect_eq "override enforce (testing policy)" "$(q postfix testing.test)" \
    "secure match=mx.testing.test servername=hostname"
: > "$WORK/pm/override"
kill -HUP $PID
sleep 1
expect_eq "override removed" "$(q postfix enforce.test)" "$ENF"

ok "daemon still running" kill -0 $PID
[ "$T_FAIL" -gt 0 ] && sed 's/^/  milter: /' "$WORK/pm/milter.log" | tail -20
done_tests t_policymap
