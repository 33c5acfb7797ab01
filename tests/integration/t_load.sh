#!/bin/bash
# t_load.sh - load and hostile peers (issue 14, item 4): the real
# sts-milter in the lab with the file limit raised as the systemd unit
# raises it (LimitNOFILE=65536).
#
#  1. LOAD_CONNS (1000) concurrent MTA connections to the milter socket
#     (CONNECT, MAIL, 5 RCPTs each) and as many to the policy map (10
#     lookups each), all open at once, while hostile clients sit on both
#     sockets (silent, one byte every 250 ms, never reading, garbage) and
#     a flood of junk datagrams fills the libtlsrpt socket: every measured
#     connection finishes and none waits more than 1 s for any reply
#     (tests/tools/peer_load.c measures each connection's longest wait);
#     the valid datagrams sent during the flood are all journaled.
#  2. A policy host that sends one byte a second (trickle.test): the RCPT
#     is answered within gate_deadline, the map within policymap_deadline.
#  3. A DNS server answering garbage, truncation (TC, then a TCP query
#     never answered), RDLENGTH past the end, a 64 KB TXT record, 65
#     records, nothing, or slowly (tests/tools/hostile-dns.py): each RCPT
#     is answered within gate_deadline (no policy: accepted, RFC 8461
#     fail-open), each lookup within policymap_deadline; the daemon lives.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MILTER=$BUILD/sts-milter
STSCTL=$BUILD/stsctl
LOAD=$BUILD/tools/peer_load
PY=/usr/bin/python3
N=${LOAD_CONNS:-1000}

[ -x "$LOAD" ] || { fail "peer_load" "not built (make tools)"; done_tests t_load; exit; }
# As the unit does; the load needs 2 N connections plus the hostile ones
# on each side of the sockets.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((2 * N + 512)) ]; then
	skip "load" "file limit $(ulimit -n) < $((2 * N + 512)) (cannot raise it)"
	done_tests t_load; exit
fi
lab_up || { echo "t_load: 0 passed, 1 failed"; exit 1; }

# start NAME [key = value...]: a daemon of its own, with the lab's
# settings and three sockets in $WORK/NAME
start() {
	local name=$1 d=$WORK/$1 keys kv; shift
	keys="state_dir|milter_socket|policymap_socket|tlsrpt_socket|pid_file|gate_deadline|policymap_deadline"
	for kv in "$@"; do keys="$keys|${kv%% *}"; done
	mkdir -p "$d/state"
	{
		grep -Ev "^($keys)[ =]" "$LAB_CONF"
		cat <<EOF
state_dir = $d/state
milter_socket = unix:$d/milter.sock
policymap_socket = unix:$d/pmap.sock
tlsrpt_socket = $d/tlsrpt/tlsrpt.sock
pid_file = $d/sts-milter.pid
gate_deadline = 3s
policymap_deadline = 1s
fetch_timeout = 10s
fetch_connect_timeout = 2s
EOF
		for kv in "$@"; do echo "$kv"; done
	} > "$d/sts-milter.conf"
	"$MILTER" -f -c "$d/sts-milter.conf" 2>"$d/milter.log" &
	echo $! > "$d/pid"
	for _ in $(seq 100); do
		[ -S "$d/milter.sock" ] && [ -S "$d/pmap.sock" ] &&
		    [ -S "$d/tlsrpt/tlsrpt.sock" ] && break
		sleep 0.1
	done
	ok "$name: daemon listens" test -S "$d/milter.sock" -a -S "$d/pmap.sock"
}
stop_all() {
	local f
	for f in "$WORK"/*/pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	[ -s "$WORK/hdns.pid" ] && kill "$(cat "$WORK/hdns.pid")" 2>/dev/null
	wait 2>/dev/null
}
LAB_CLEANUP=stop_all

# result NAME LINE KEY: the value of KEY=... in peer_load's RESULT line
result() { printf '%s\n' "$2" | sed -n "s/.*[ ]$3=\([^ ]*\).*/\1/p"; }

# --- 1. load ------------------------------------------------------------
start ld
L=$WORK/ld
DOMS=enforce.test,testing.test,none.test,nopolicy.test,wildcard.test
# warm: the first lookup of each domain fetches its policy (seconds);
# the load measures the daemon serving MTAs, not the lab's HTTPS
"$LOAD" -p pmap -s "$L/pmap.sock" -c 5 -r 5 -D "$DOMS" -L 60000 >/dev/null 2>&1
"$LOAD" -p milter -s "$L/milter.sock" -c 5 -r 5 -D "$DOMS" -L 60000 >/dev/null 2>&1

# flood.py SOCK SECS RATE: junk datagrams of every size, and every 50th a
# valid session (no policy found, nopolicy.test); RATE a second (0: as
# fast as the socket takes them).  Prints "VALID JUNK" sent.
cat > "$L/flood.py" <<'PY'
import errno, os, socket, sys, time
sock, secs, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
valid = (b'{"dpv": "1","d": "nopolicy.test","pr": "v=TLSRPTv1; '
         b'rua=mailto:tlsrpt@reports.test","policies":[{"policy-type":9,"t":0,"f":0}]}')
junk = [os.urandom(n) for n in (1, 100, 4000, 60000)] + \
       [b'{"dpv": "1","d": "' + b'x' * 50000 + b'"}', b'{' * 10000]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setblocking(False)
t0 = time.time()
end, i, sent, junked = t0 + secs, 0, 0, 0
while time.time() < end:
    i += 1
    if rate and i > rate * (time.time() - t0):
        time.sleep(0.001)
        i -= 1
        continue
    m = valid if i % 50 == 0 else junk[i % len(junk)]
    while True:
        try:
            s.sendto(m, sock)
            if m is valid:
                sent += 1
            else:
                junked += 1
            break
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ENOBUFS):
                raise
            if m is not valid:
                break           # the socket is full: junk is not resent
            time.sleep(0.002)
print(sent, junked)
PY
$PY "$L/flood.py" "$L/tlsrpt/tlsrpt.sock" 20 2000 > "$L/flood.out" 2>&1 &
FLOOD=$!
"$LOAD" -p milter -s "$L/milter.sock" -c "$N" -r 5 -D "$DOMS" \
    -S 20 -W 20 -N 10 -G 10 -T 120 -L 1000 > "$L/milter.out" 2>&1 &
LM=$!
"$LOAD" -p pmap -s "$L/pmap.sock" -c "$N" -r 10 -D "$DOMS" \
    -S 50 -W 50 -N 20 -G 20 -T 120 -L 1000 > "$L/pmap.out" 2>&1 &
LP=$!
wait $LM; RM=$?
wait $LP; RP=$?
wait $FLOOD
M=$(grep '^RESULT' "$L/milter.out")
P=$(grep '^RESULT' "$L/pmap.out")
echo "milter: $M"
echo "pmap:   $P"
expect_eq "milter: $N connections open at once" "$(result x "$M" concurrent)" "$N"
expect_eq "milter: every connection finished" "$(result x "$M" done)" "$N"
expect_eq "milter: every RCPT answered" "$(result x "$M" replies)" $((N * 8))
expect_eq "milter: no connection waited > 1 s (max $(result x "$M" max_wait_ms) ms)" \
    "$(result x "$M" over)" 0
expect_eq "policy map: $N connections open at once" "$(result x "$P" concurrent)" "$N"
expect_eq "policy map: every connection finished" "$(result x "$P" done)" "$N"
expect_eq "policy map: every lookup answered" "$(result x "$P" replies)" $((N * 10))
expect_eq "policy map: no connection waited > 1 s (max $(result x "$P" max_wait_ms) ms)" \
    "$(result x "$P" over)" 0
ok "peer_load exit statuses" test "$RM" = 0 -a "$RP" = 0
read -r SENT JUNK < "$L/flood.out"
echo "datagrams: $SENT valid, $JUNK junk"
ok "datagram flood ran ($JUNK junk, 2000 a second)" test "${JUNK:-0}" -gt 20000
for _ in $(seq 100); do
	n=$("$STSCTL" -c "$L/sts-milter.conf" journal 2>/dev/null | grep -c '"domain":"nopolicy.test"')
	[ "$n" -ge "${SENT:-1}" ] && break
	sleep 0.1
done
expect_eq "every valid datagram sent during the flood is journaled" \
    "$("$STSCTL" -c "$L/sts-milter.conf" journal 2>/dev/null | grep -c '"domain":"nopolicy.test"')" "$SENT"
ok "ld: daemon still running" kill -0 "$(cat "$L/pid")"

# --- 2. a policy host that trickles ---------------------------------------
R=$("$LOAD" -p milter -s "$L/milter.sock" -c 1 -r 1 -D trickle.test -L 3500 2>&1 | grep '^RESULT')
echo "trickle rcpt: $R"
expect_eq "trickle.test: RCPT answered" "$(result x "$R" replies)" 4
expect_eq "trickle.test: within gate_deadline (3 s) + 0.5 s ($(result x "$R" max_wait_ms) ms)" \
    "$(result x "$R" over)" 0
R=$("$LOAD" -p pmap -s "$L/pmap.sock" -c 1 -r 1 -D trickle.test -L 1500 2>&1 | grep '^RESULT')
echo "trickle map: $R"
expect_eq "trickle.test: map answered within policymap_deadline (1 s) + 0.5 s ($(result x "$R" max_wait_ms) ms)" \
    "$(result x "$R" over)" 0
ok "ld: daemon still running" kill -0 "$(cat "$L/pid")"

# --- 2b. a flood beyond what the journal keeps up with: datagrams are
# dropped and counted (never miscounted), the map keeps answering
$PY "$L/flood.py" "$L/tlsrpt/tlsrpt.sock" 4 0 > "$L/flood2.out" 2>&1 &
FLOOD=$!
R=$("$LOAD" -p pmap -s "$L/pmap.sock" -c 100 -r 20 -D "$DOMS" -T 30 -L 1000 2>&1 | grep '^RESULT')
wait $FLOOD
echo "map during the overload: $R"
expect_eq "overload: every lookup answered" "$(result x "$R" replies)" 2000
expect_eq "overload: no connection waited > 1 s ($(result x "$R" max_wait_ms) ms)" \
    "$(result x "$R" over)" 0
read -r SENT2 JUNK2 < "$L/flood2.out"
kill "$(cat "$L/pid")"
for _ in $(seq 100); do kill -0 "$(cat "$L/pid")" 2>/dev/null || break; sleep 0.1; done
S=$(grep 'tlsrpt: [0-9]* datagrams' "$L/milter.log" | tail -n 1)
echo "overload: sent $SENT2 valid, $JUNK2 junk; $S"
DG=$(echo "$S" | sed -n 's/.*tlsrpt: \([0-9]*\) datagrams.*/\1/p')
REC=$(echo "$S" | sed -n 's/.* \([0-9]*\) records journaled.*/\1/p')
INV=$(echo "$S" | sed -n 's/.* \([0-9]*\) invalid.*/\1/p')
DROP=$(echo "$S" | sed -n 's/.* \([0-9]*\) dropped.*/\1/p')
expect_eq "every datagram sent is counted" "$DG" $((SENT + JUNK + SENT2 + JUNK2))
expect_eq "journaled + invalid + dropped = received" $((REC + INV + DROP)) "$DG"
ok "valid datagrams journaled or dropped, none vanished" test $((SENT + SENT2)) -le $((REC + DROP)) -a "$REC" -ge "$SENT"
expect_match "drops logged at most once a second" \
    "$(grep -c 'datagrams dropped so far' "$L/milter.log")" '^([0-9])$'

# --- 3. a hostile DNS server ------------------------------------------------
HD=127.0.5.1
$PY "$ROOT/tests/tools/hostile-dns.py" $HD 5300 "$WORK/hdns.pid" >"$WORK/hdns.log" 2>&1 &
for _ in $(seq 50); do [ -s "$WORK/hdns.pid" ] && break; sleep 0.1; done
ok "hostile DNS server up" test -s "$WORK/hdns.pid"
start hd "dns_resolvers = $HD:5300" "dns_timeout = 2s"
H=$WORK/hd
HOSTILE=garbage.h.test,badrdlen.h.test,tcdrop.h.test,huge.h.test,rr65.h.test,drop.h.test,slow.h.test
# both cold, at once: the map does not wait for the gate's lookups
"$LOAD" -p pmap -s "$H/pmap.sock" -c 7 -r 1 -D "$HOSTILE" -T 30 -L 1500 > "$H/pmap.out" 2>&1 &
LP=$!
R=$("$LOAD" -p milter -s "$H/milter.sock" -c 7 -r 1 -D "$HOSTILE" -T 30 -L 3500 2>&1 | grep '^RESULT')
wait $LP
echo "hostile DNS rcpt: $R"
expect_eq "hostile DNS: every RCPT answered" "$(result x "$R" replies)" 28
expect_eq "hostile DNS: within gate_deadline (3 s) + 0.5 s ($(result x "$R" max_wait_ms) ms)" \
    "$(result x "$R" over)" 0
expect_eq "hostile DNS: no deferral (no policy: deliver)" "$(result x "$R" tempfail)" 0
R=$(grep '^RESULT' "$H/pmap.out")
echo "hostile DNS map: $R"
expect_eq "hostile DNS: every lookup answered" "$(result x "$R" replies)" 7
expect_eq "hostile DNS: map within policymap_deadline (1 s) + 0.5 s ($(result x "$R" max_wait_ms) ms)" \
    "$(result x "$R" over)" 0
ok "hd: daemon still running" kill -0 "$(cat "$H/pid")"
expect_eq "no panic in the logs" "$(cat "$L/milter.log" "$H/milter.log" | grep -ciE 'panic|assert|sanitizer|runtime error')" 0

if [ "$T_FAIL" -gt 0 ]; then
	tail -n 15 "$L/milter.log" | sed 's/^/  ld: /'
	tail -n 15 "$H/milter.log" | sed 's/^/  hd: /'
fi
done_tests t_load
