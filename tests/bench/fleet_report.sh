#!/bin/bash
# fleet_report.sh - benchmark of tlsrpt-reporter in fleet mode (issue 12,
# item 7): aggregation of a day from Redis
#
# The synthetic day of report.sh (REPORT_BENCH_RECORDS = 10,000,000
# journal records over REPORT_BENCH_DOMAINS = 10,000 policy domains,
# generated once into REPORT_BENCH_DIR and shared with report.sh) is
# put into a redis-server of this run (unix socket, no persistence) as
# FLEET_BENCH_NODES (3) nodes ship it; then the fleet reporter's
# aggregation (pipelined LRANGE, journal_decode, report_agg) runs on it.
#
# Targets: >= 500,000 records/s, < 300 MB peak memory of the reporter.
# Also printed: Redis memory per shipped record.  MISS lines for a missed
# target (exit 0: a benchmark informs, it does not fail the build).
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
BENCH=fleet_report
. "$(dirname "$0")/lib.sh"
RB=$BUILD/bench/report_bench
B=$BUILD/bench/fleet_report_bench
N=${REPORT_BENCH_RECORDS:-10000000}
D=${REPORT_BENCH_DOMAINS:-10000}
NODES=${FLEET_BENCH_NODES:-3}
DIR=${REPORT_BENCH_DIR:-/tmp/sts-milter-bench/report}

[ -x "$B" ] && [ -x "$RB" ] || { echo "fleet_report: $B missing (make bench builds it)"; exit 1; }
[ -x /usr/bin/redis-server ] || { echo "fleet_report: redis-server missing (make deps)"; exit 1; }
if [ "$(cat "$DIR/params" 2>/dev/null)" != "$N $D" ]; then
	rm -rf "$DIR"
	mkdir -p "$DIR"
	echo "fleet_report: generating $N records over $D domains in $DIR (once)"
	"$RB" gen "$DIR" "$N" "$D" > /dev/null || exit 1
	echo "$N $D" > "$DIR/params"
fi
W=$(mktemp -d /tmp/sts-fleet-bench.XXXXXX)
/usr/bin/redis-server --port 0 --unixsocket "$W/redis.sock" --dir "$W" \
    --save "" --appendonly no --logfile "$W/redis.log" --daemonize no &
rpid=$!
trap 'kill $rpid 2>/dev/null; wait $rpid 2>/dev/null; rm -rf "$W"' EXIT
for i in $(seq 50); do
	[ "$(redis-cli -s "$W/redis.sock" PING 2>/dev/null)" = PONG ] && break
	sleep 0.1
done
"$B" load "$W/redis.sock" "$DIR" "$NODES" | tee "$W/load.out" || exit 1
"$B" run "$W/redis.sock" "$NODES" | tee "$W/run.out" || exit 1
r=$(sed -n 's/^RESULT .* rate_rps=\([0-9.]*\).*/\1/p' "$W/run.out")
c=$(sed -n 's/^RESULT .* cpu_rate_rps=\([0-9.]*\).*/\1/p' "$W/run.out")
m=$(sed -n 's/^RESULT .*maxrss_mb=\([0-9.]*\).*/\1/p' "$W/run.out")
verdict "aggregation from Redis ($NODES nodes, records/s)" "$r" ">=" 500000 ""
verdict "reporter peak memory" "$m" "<" 300 MB
echo "fleet_report: by the reporter's own CPU time: $c records/s (Redis's work not counted)"
echo "fleet_report: by the CPU time of the reporter and Redis together: $(sed -n 's/^RESULT .* serial_cpu_rate_rps=\([0-9.]*\).*/\1/p' "$W/run.out") records/s (what one otherwise idle core would do)"
echo "fleet_report: Redis memory per shipped record: $(sed -n 's/^RESULT-LOAD .*bytes_per_record=\([0-9]*\).*/\1/p' "$W/load.out") bytes"
