#!/bin/bash
# ship.sh - benchmark of the journal shipper of fleet mode (issue 12,
# item 7): how fast one node ships its journal to a local Redis, and
# whether it keeps up with the collectors
#   backlog     a synthetic day (report_bench gen: BENCH_SHIP_RECORDS
#               real journal lines over 10,000 policy domains, their
#               policy texts archived) waiting in the journal when the
#               daemon starts: records/s until Redis has them all (the
#               catch-up after an outage), and Redis memory per record
#   live        libtlsrpt datagrams (collect_load, as collect.sh) into
#               the real daemon with the lab's enforce.test cached, with
#               shipping on: the collectors' journaling rate, and how long
#               after the last record was journaled Redis had it
# Redis is a redis-server of this run (unix socket, no persistence).
# Target: shipping >= the collectors' journaling rate (README: ~57k
# records/s); MISS lines for a missed target (exit 0: a benchmark
# informs, it does not fail the build).
#
#   BUILD=/abs/build bash tests/bench/ship.sh   (make bench does this)
#
# Environment: BENCH_SHIP_RECORDS (1000000), BENCH_SHIP_DGRAMS (200000).
set -uo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${BENCH_SHIP_RECORDS:-1000000}
ND=${BENCH_SHIP_DGRAMS:-200000}
GEN=$BUILD/bench/collect_load
SMLOAD=$BUILD/bench/socketmap_load
RB=$BUILD/bench/report_bench
BDAY=2026-11-01			# report_bench's day

for p in "$GEN" "$SMLOAD" "$RB" "$BUILD/sts-milter"; do
	[ -x "$p" ] || { echo "ship: $p missing (make bench builds it)"; exit 1; }
done
[ -x /usr/bin/redis-server ] || { echo "ship: redis-server missing (make deps)"; exit 1; }

W=$(mktemp -d /tmp/sts-bench-ship.XXXXXX)
PID= RPID=
cleanup() {
	[ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
	[ -n "$RPID" ] && { kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; }
	[ "$LAB_STARTED" = 1 ] && "$LAB" stop >/dev/null 2>&1
	rm -rf "$W"
}
. "$ROOT/tests/bench/lab.inc"
trap cleanup EXIT
R() { redis-cli -s "$W/redis.sock" "$@"; }
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.2f", $1 - $2}'; }
per_s() { awk -v n="$1" -v t="$2" 'BEGIN {printf "%.0f", (t > 0 ? n / t : 0)}'; }
verdict() {	# NAME VALUE LIMIT: VALUE >= LIMIT
	if awk -v v="$2" -v l="$3" 'BEGIN { exit !(v >= l) }'; then
		echo "ship: target met: $1 = $2 (>= $3)"
	else
		echo "ship: MISS: $1 = $2 (target >= $3)"
	fi
}

/usr/bin/redis-server --port 0 --unixsocket "$W/redis.sock" --dir "$W" \
    --save "" --appendonly no --logfile "$W/redis.log" --daemonize no &
RPID=$!
for _ in $(seq 50); do [ "$(R PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done
[ "$(R PING 2>/dev/null)" = PONG ] || { cat "$W/redis.log"; echo "ship: no redis-server"; exit 1; }

# conf NAME [key = value...]: a daemon configuration in $W/NAME (node
# NAME of the fleet; "solo": single host)
conf() {
	local name=$1; shift
	mkdir -p "$W/$name/state"
	{
		echo "state_dir = $W/$name/state"
		echo "milter_socket = unix:$W/$name/milter.sock"
		echo "policymap_socket = unix:$W/$name/policymap.sock"
		echo "tlsrpt_socket = $W/$name/tlsrpt.sock"
		echo "pid_file = $W/$name/pid"
		[ "$name" = solo ] || echo "fleet_redis = unix:$W/redis.sock"
		[ "$name" = solo ] || echo "fleet_node = $name"
		printf '%s\n' "$@"
	} > "$W/$name/sts-milter.conf"
}
start() {	# NAME: the daemon of that configuration
	"$BUILD/sts-milter" -f -c "$W/$1/sts-milter.conf" 2>"$W/$1/log" &
	PID=$!
	for _ in $(seq 50); do [ -S "$W/$1/tlsrpt.sock" ] && break; sleep 0.1; done
	[ -S "$W/$1/tlsrpt.sock" ] || { cat "$W/$1/log"; echo "ship: daemon did not start"; exit 1; }
}
stop() {
	kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=
}
# wait_llen KEY N: seconds since T0 until the list has N; "" after 300 s
wait_llen() {
	local i
	for i in $(seq 6000); do
		[ "$(R LLEN "$1")" -ge "$2" ] && { since "$T0"; return; }
		sleep 0.05
	done
}

# --- backlog ---------------------------------------------------------
echo "ship: $(nproc) CPUs; generating $N journal records over 10000 domains"
conf backlog "dns_resolvers = 127.0.0.1:1" "dane = no" "journal_retention = 3650"
"$RB" gen "$W/backlog/state" "$N" 10000 > /dev/null || { echo "ship: gen failed"; exit 1; }
NREC=$(grep -c '^J1 ' "$W/backlog/state/journal/$BDAY.jnl")
JBYTES=$(stat -c %s "$W/backlog/state/journal/$BDAY.jnl")
MEM0=$(R INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
start backlog
# from the first record in Redis (the daemon's start-up is not shipping)
for _ in $(seq 2000); do
	FIRST=$(R LLEN "sts:j:$BDAY:backlog")
	[ "$FIRST" -gt 0 ] && break
	sleep 0.005
done
T0=$(now)
T=$(wait_llen "sts:j:$BDAY:backlog" "$NREC")
if [ -n "$T" ]; then
	MEM1=$(R INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
	LIST=$(R MEMORY USAGE "sts:j:$BDAY:backlog" SAMPLES 0)
	RATE=$(per_s $((NREC - FIRST)) "$T")
	echo "ship: backlog: $NREC records ($((JBYTES / NREC)) bytes each in the journal) shipped in $T s: $RATE records/s"
	echo "ship: Redis memory per shipped record: $((LIST / NREC)) bytes in the day's list; $(( (MEM1 - MEM0) / NREC )) bytes with everything else ($(( (MEM1 - MEM0) / 1048576 )) MB for the day, $(R --scan --pattern "sts:ptext:*" | wc -l) policy texts)"
	echo "ship: sts-milter peak RSS $(awk '/VmHWM/ {print int($2/1024)" MB"}' "/proc/$PID/status")"
else
	echo "ship: backlog: only $(R LLEN "sts:j:$BDAY:backlog") of $NREC shipped after 300 s"
	RATE=0
fi
stop
R FLUSHALL > /dev/null

# --- live, beside the collectors ---------------------------------------
bench_lab_up ship || exit 1
DAY=$(date -u +%F)
# live NAME: ND datagrams into the daemon of NAME; sets TJ (seconds until
# all were journaled) and TS (until all were in Redis; fleet only)
live() {
	local j=$W/$1/state/journal/$DAY.jnl before i
	conf "$1" "dns_resolvers = 127.0.2.1:53" "ca_file = $CA"
	start "$1"
	"$SMLOAD" -w "unix:$W/$1/policymap.sock" enforce.test > /dev/null	# cache it
	before=$({ wc -l < "$j"; } 2>/dev/null) || before=0
	TJ= TS=
	T0=$(now)
	SENT=$("$GEN" dgram "$W/$1/tlsrpt.sock" "$ND")
	for i in $(seq 3000); do
		[ -z "$TJ" ] && [ "$({ wc -l < "$j"; } 2>/dev/null)" -ge $((before + ND)) ] && TJ=$(since "$T0")
		[ -n "$TJ" ] && { [ "$1" = solo ] || [ "$(R LLEN "sts:j:$DAY:$1")" -ge $((before + ND)) ]; } &&
		    { TS=$(since "$T0"); break; }
		sleep 0.1
	done
	grep -E "fleet shipper" "$W/$1/log" | tail -1 | sed 's/^/ship: daemon: /'
	stop
}
live solo
SOLO=$TJ
live live
if [ -n "$TS" ] && [ -n "$SOLO" ]; then
	COL=$(per_s "$ND" "$SOLO")
	echo "ship: live: $ND datagrams journaled in $SOLO s without shipping ($COL records/s), in $TJ s with it ($(per_s "$ND" "$TJ") records/s; sender: $SENT); all in Redis at $TS s: $(awk -v a="$TS" -v b="$TJ" 'BEGIN {printf "%.2f", a - b}') s after the last was journaled"
	verdict "backlog shipping rate vs the collectors' rate in this run (records/s)" "$RATE" "$COL"
else
	echo "ship: live: journaled after ${SOLO:-(not all)} s alone, ${TJ:-(not all)} s shipping; Redis has $(R LLEN "sts:j:$DAY:live") of $ND after 300 s"
fi
verdict "backlog shipping rate vs README's collectors (records/s)" "$RATE" 57000
exit 0
