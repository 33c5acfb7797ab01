#!/bin/bash
# report.sh - benchmark of tlsrpt-reporter (issue 4, item 8)
#
# A synthetic day of REPORT_BENCH_RECORDS (10,000,000) journal records
# over REPORT_BENCH_DOMAINS (10,000) policy domains, Zipf-skewed, ~5 %
# failures of mixed types, is generated once into REPORT_BENCH_DIR
# (default /tmp/sts-milter-bench/report, about 3 GB; reused while its
# parameters are unchanged).  Then: aggregation on one core, and all
# reports built (JSON, gzip, MIME, DKIM; no DNS, no sending) with
# RSA-2048 on every CPU and with Ed25519 on one.
#
# Targets: >= 1,000,000 records/s, < 200 MB peak memory, all reports
# built in < 5 s.  Prints MISS lines for a missed target (exit 0: a
# benchmark informs, it does not fail the build).
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
BENCH=report
. "$(dirname "$0")/lib.sh"
B=$BUILD/bench/report_bench
N=${REPORT_BENCH_RECORDS:-10000000}
D=${REPORT_BENCH_DOMAINS:-10000}
DIR=${REPORT_BENCH_DIR:-/tmp/sts-milter-bench/report}
CPUS=$(nproc)

[ -x "$B" ] || { echo "report: $B missing (make bench builds it)"; exit 1; }
if [ "$(cat "$DIR/params" 2>/dev/null)" != "$N $D" ]; then
	rm -rf "$DIR"
	mkdir -p "$DIR"
	echo "report: generating $N records over $D domains in $DIR (once)"
	t0=$(date +%s)
	"$B" gen "$DIR" "$N" "$D" || exit 1
	echo "$N $D" > "$DIR/params"
	echo "report: generated in $(( $(date +%s) - t0 )) s, $(du -sh "$DIR/journal" | cut -f1)"
fi
cat "$DIR/journal/"*.jnl > /dev/null	# warm the page cache, as at day close
echo "report: machine: $CPUS CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$B" run "$DIR" "$CPUS" rsa-sha256 | tee "$DIR/rsa.out"
"$B" run "$DIR" 1 ed25519-sha256 | tee "$DIR/ed.out"
r=$(sed -n 's/^RESULT .*rate_mps=\([0-9.]*\).*/\1/p' "$DIR/rsa.out")
m=$(sed -n 's/^RESULT .*maxrss_mb=\([0-9.]*\).*/\1/p' "$DIR/rsa.out")
b=$(sed -n 's/^RESULT .*build_s=\([0-9.]*\).*/\1/p' "$DIR/rsa.out")
e=$(sed -n 's/^RESULT .*build_s=\([0-9.]*\).*/\1/p' "$DIR/ed.out")
verdict "aggregation rate (M records/s, one core)" "$r" ">=" 1.0 ""
verdict "peak memory" "$m" "<" 200 MB
verdict "all reports built, rsa-sha256, $CPUS threads" "$b" "<" 5 s
verdict "all reports built, ed25519-sha256, 1 thread" "$e" "<" 5 s
