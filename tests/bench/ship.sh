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
#   rcpt        the gate's RCPTs (milter_load, 8 connections, 5 rcpts x
#               20 messages, enforce.test cached: every RCPT fully gated)
#               for BENCH_SHIP_RCPT_SECS: single host and fleet mode with
#               nothing to ship, fresh daemons, alternating rounds
#               (medians), then in fleet mode while the shipper catches
#               up the backlog's day; rate and latency side by side
#               (item 7: "with the daemon's RCPT figures unchanged")
# Redis is a redis-server of this run (unix socket, no persistence).
# Target: shipping >= the collectors' journaling rate (README: ~57k
# records/s); MISS lines for a missed target (exit 0: a benchmark
# informs, it does not fail the build).
#
#   BUILD=/abs/build bash tests/bench/ship.sh   (make bench does this)
#
# Environment: BENCH_SHIP_RECORDS (1000000), BENCH_SHIP_DGRAMS (200000),
# BENCH_SHIP_RCPT_SECS (3), BENCH_SHIP_RCPT_ROUNDS (3).
set -uo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${BENCH_SHIP_RECORDS:-1000000}
ND=${BENCH_SHIP_DGRAMS:-200000}
RSECS=${BENCH_SHIP_RCPT_SECS:-3}
RROUNDS=${BENCH_SHIP_RCPT_ROUNDS:-3}
GEN=$BUILD/bench/collect_load
SMLOAD=$BUILD/bench/socketmap_load
RB=$BUILD/bench/report_bench
MLOAD=$BUILD/bench/milter_load
BDAY=2026-11-01			# report_bench's day

for p in "$GEN" "$SMLOAD" "$RB" "$MLOAD" "$BUILD/sts-milter"; do
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
		case $name in
		solo|rsolo*) ;;		# single host
		*)	echo "fleet_redis = unix:$W/redis.sock"
			echo "fleet_node = $name" ;;
		esac
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
echo "ship: load before the live and rcpt parts: $(uptime | sed 's/.*load average/load average/')"

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

# --- the gate's RCPTs: single host, shipping a backlog, shipping idle -------
echo enforce.test > "$W/enforce.list"
fld() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
# rcpt_run NAME VAR: enforce.test warmed in the daemon of NAME (a fetch
# and a probe, then a pass that must all be accepted from the caches),
# then RSECS s of RCPTs; milter_load's RESULT line into RES_<VAR>
rcpt_run() {
	local m=unix:$W/$1/milter.sock i
	for i in 1 2; do
		"$MLOAD" -s "$m" -c 1 -r 5 -n 5 -f "$W/enforce.list" -v > "$W/$1/warm.out" 2>&1
	done
	grep -q '^rcpt .*: [^c]' "$W/$1/warm.out" &&
	    echo "ship: rcpt $1: warning: enforce.test not accepted from the cache: $(grep -m1 '^rcpt' "$W/$1/warm.out")"
	L0=$(R LLEN "sts:j:$BDAY:$1")
	printf -v "RES_$2" '%s' "$("$MLOAD" -s "$m" -c 8 -r 5 -m 20 -d "$RSECS" -f "$W/enforce.list" -P "$PID" 2>&1 | sed -n 's/^RESULT //p')"
}
# single host and fleet mode with nothing to ship, fresh daemons each,
# RROUNDS rounds in alternating order: medians (rate, p99)
for r in $(seq "$RROUNDS"); do
	order="rsolo ridle"
	[ $((r % 2)) = 0 ] && order="ridle rsolo"
	for v in $order; do
		rm -rf "${W:?}/$v$r"
		conf "$v$r" "dns_resolvers = 127.0.2.1:53" "ca_file = $CA"
		start "$v$r"
		rcpt_run "$v$r" "${v}_$r"
		stop
	done
done
med() {	# FIELD VAR: the median of FIELD over the rounds of VAR
	local r v
	for r in $(seq "$RROUNDS"); do v=RES_$2_$r; fld "$1" "${!v}"; done |
	    sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}
RES_rsolo=" rate=$(med rate rsolo) p50_us=$(med p50_us rsolo) p99_us=$(med p99_us rsolo) max_us=$(med max_us rsolo) cpu_us_per_rcpt=$(med cpu_us_per_rcpt rsolo) continue=$(med continue rsolo) tempfail=$(med tempfail rsolo) errors=$(med errors rsolo)"
RES_ridle=" rate=$(med rate ridle) p50_us=$(med p50_us ridle) p99_us=$(med p99_us ridle) max_us=$(med max_us ridle) cpu_us_per_rcpt=$(med cpu_us_per_rcpt ridle) continue=$(med continue ridle) tempfail=$(med tempfail ridle) errors=$(med errors ridle)"
for r in $(seq "$RROUNDS"); do
	for v in rsolo ridle; do
		x=RES_${v}_$r
		echo "ship: rcpt: round $r $v: rate $(fld rate "${!x}")/s p99 $(fld p99_us "${!x}") us"
	done
done
# fleet: the backlog's day (its journal and policy texts) waits in the
# journal; measured from the daemon's start, while the shipper catches up
conf rfleet "dns_resolvers = 127.0.2.1:53" "ca_file = $CA" "journal_retention = 3650"
cp -al "$W/backlog/state/journal" "$W/backlog/state/policies" "$W/rfleet/state/"
T0=$(now)
start rfleet
rcpt_run rfleet rfleet
TR=$(since "$T0")
SHIPPED=$(R LLEN "sts:j:$BDAY:rfleet")
L0_rfleet=$L0
T=$(wait_llen "sts:j:$BDAY:rfleet" "$NREC")
stop
echo "ship: rcpt: enforce.test cached, 8 connections, 5 rcpts x 20 messages, $RSECS s each; single host and fleet idle: medians of $RROUNDS alternating rounds, fresh daemons; CPU us: the daemon's CPU time per RCPT (the shipper's included)"
printf 'ship: rcpt: %-34s %9s %9s %9s %9s %9s  %s\n' "" "rcpts/s" "p50 us" "p99 us" "max us" "CPU us" "accepted/deferred/errors"
for x in "rsolo single host" "rfleet fleet, shipping the backlog" "ridle fleet, nothing to ship"; do
	r=RES_${x%% *}; r=${!r}
	printf 'ship: rcpt: %-34s %9s %9s %9s %9s %9s  %s/%s/%s\n' "${x#* }" "$(fld rate "$r")" "$(fld p50_us "$r")" \
	    "$(fld p99_us "$r")" "$(fld max_us "$r")" "$(fld cpu_us_per_rcpt "$r")" \
	    "$(fld continue "$r")" "$(fld tempfail "$r")" "$(fld errors "$r")"
done
echo "ship: rcpt: the backlog: $L0_rfleet of $NREC records in Redis when the measured run began, $SHIPPED when it ended (${TR} s after the daemon's start; $(per_s $((SHIPPED - L0_rfleet)) "$RSECS") records/s shipped meanwhile), all after ${T:-(not all after 300)} s: $([ "$SHIPPED" -lt "$NREC" ] && echo "the shipper was catching up throughout" || echo "WARNING: the shipper had caught up before the run ended (raise BENCH_SHIP_RECORDS)")"
if [ -n "$(fld rate "$RES_rsolo")" ] && [ -n "$(fld rate "$RES_rfleet")" ]; then
	echo "ship: rcpt: fleet, nothing to ship / single host: rate $(awk -v a="$(fld rate "$RES_ridle")" -v b="$(fld rate "$RES_rsolo")" 'BEGIN {printf "%.2f", a / b}'), p99 $(awk -v a="$(fld p99_us "$RES_ridle")" -v b="$(fld p99_us "$RES_rsolo")" 'BEGIN {printf "%.2f", a / b}')x"
	echo "ship: rcpt: shipping / single host: rate $(awk -v a="$(fld rate "$RES_rfleet")" -v b="$(fld rate "$RES_rsolo")" 'BEGIN {printf "%.2f", a / b}'), p99 $(awk -v a="$(fld p99_us "$RES_rfleet")" -v b="$(fld p99_us "$RES_rsolo")" 'BEGIN {printf "%.2f", a / b}')x"
fi
verdict "backlog shipping rate vs README's collectors (records/s)" "$RATE" 57000
exit 0
