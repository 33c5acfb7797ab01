#!/bin/bash
# policymap.sh - socketmap benchmark (issue 5): the same Postfix-like load
# client (socketmap_load: N persistent connections, lock-step netstring
# requests) against
#   sts-milter      the policy-map listener of the real daemon,
#   resolver        Debian's postfix-mta-sts-resolver (mta-sts-daemon),
#                   started here on loopback, internal cache,
#   ceiling         socketmap_const: one thread, epoll, a constant reply,
# on the same warm set of lab domains, at 1, 10 and 100 connections.
# Prints lookups/s, p50 and p99 latency, and each daemon's peak RSS,
# then a memory run: a million more domains cached, RSS sampled as they
# are added and again while lookups cycle through all of them.
#
#   BUILD=/abs/build bash tests/bench/policymap.sh   (make bench does this)
#
# Method.  The machine may be shared and its loopback speed drifts by a
# factor of two within seconds, so sts-milter and the ceiling are
# measured in pairs of back-to-back runs (order alternating, ABBA), and
# the verdict is the median over the pairs of sts-milter's share of the
# ceiling in its own pair.  With two or more CPUs the servers run on CPU
# 1 and the load client on CPU 0 (taskset), the same for every server.
#
# Environment: BENCH_SECONDS (2) per run; BENCH_CONNS ("1 10 100");
# BENCH_ROUNDS (7) pairs per connection count (the resolver: 3 runs);
# BENCH_LAB_DIR (/tmp/sts-milter-bench-lab) where to start a lab when
# none runs; BENCH_PM_MEM_DOMAINS (1000000; 0 skips) domains the memory
# run adds (each costs a DNS query answered NXDOMAIN by the lab: a
# cached "no policy" entry, what most of a mail server's domains are);
# BENCH_STRICT=1 exits 2 when a target is missed.
# Exit 0 when the benchmark ran (it informs), 1 when it could not run.
set -uo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
. "$ROOT/tests/bench/lib.sh"
LAB=$ROOT/tests/lab/lab
SECS=${BENCH_SECONDS:-2}
CONNS=${BENCH_CONNS:-"1 10 100"}
ROUNDS=${BENCH_ROUNDS:-7}
MEM_DOMAINS=${BENCH_PM_MEM_DOMAINS:-1000000}
LOAD=$BUILD/bench/socketmap_load
CONST=$BUILD/bench/socketmap_const
DOMAINS="enforce.test testing.test wildcard.test crlf.test none.test nopolicy.test multistr.test cname.test"

[ -x "$LOAD" ] && [ -x "$CONST" ] && [ -x "$BUILD/sts-milter" ] ||
    make -C "$ROOT" --no-print-directory BUILD="$BUILD" "$BUILD/sts-milter" "$LOAD" "$CONST" >/dev/null ||
    { echo "policymap: cannot build"; exit 1; }

W=$(mktemp -d /tmp/sts-bench-pm.XXXXXX)
PIDS=()
LAB_STARTED=0
cleanup() {
	stop_all
	[ "$LAB_STARTED" = 1 ] && "$LAB" stop >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT

# --- the lab: reuse a running one, else start our own (lab.inc)
. "$ROOT/tests/bench/lab.inc"
bench_lab_up policymap || exit 1

# pinning: servers on CPU 1, the client on CPU 0
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	ON_SRV="taskset -c 1" ON_CLI="taskset -c 0"
else
	ON_SRV="" ON_CLI=""
fi
P_STS=$(port) P_RES=$(port) P_CONST=$(port)

# --- sts-milter
mkdir -p "$W/sts/state"
cat > "$W/sts/sts-milter.conf" <<EOF
dns_resolvers = 127.0.2.1:53
ca_file = $CA
state_dir = $W/sts/state
milter_socket = unix:$W/sts/milter.sock
policymap_socket = inet:$P_STS@127.0.0.1
pid_file = $W/sts/pid
EOF
$ON_SRV "$BUILD/sts-milter" -f -c "$W/sts/sts-milter.conf" 2>"$W/sts/log" &
PID_STS=$!; PIDS+=($PID_STS)

# --- Debian's postfix-mta-sts-resolver, resolving through the lab DNS in a
# private mount namespace; trusts the lab CA (SSL_CERT_FILE).
PID_RES=
if command -v mta-sts-daemon >/dev/null; then
	resolver_start "$W" 127.0.2.1 "$P_RES" "$CA" "$W/res.log" $ON_SRV
	PID_RES=$!; PIDS+=($PID_RES)
else
	echo "policymap: mta-sts-daemon not installed (apt-get install postfix-mta-sts-resolver): skipping it"
fi

$ON_SRV "$CONST" "$P_CONST" >"$W/const.log" 2>&1 &
PID_CONST=$!; PIDS+=($PID_CONST)

wait_port "$P_STS" || { cat "$W/sts/log"; echo "policymap: sts-milter did not start"; exit 1; }
wait_port "$P_CONST" || { echo "policymap: constant server did not start"; exit 1; }
if [ -n "$PID_RES" ] && ! wait_port "$P_RES"; then
	sed 's/^/  resolver: /' "$W/res.log" | tail -5
	echo "policymap: mta-sts-daemon did not start: skipping it"
	PID_RES=
fi

# --- warm up: every domain once per daemon, answers shown once
echo "policymap: warm set (sts-milter answers):"
"$LOAD" -w "127.0.0.1:$P_STS" $DOMAINS | sed 's/^/  /'
"$LOAD" -w "127.0.0.1:$P_STS" $DOMAINS >/dev/null
if [ -n "$PID_RES" ]; then
	"$LOAD" -w "127.0.0.1:$P_RES" $DOMAINS >"$W/res-warm.txt" 2>&1
	sleep 1
	"$LOAD" -w "127.0.0.1:$P_RES" $DOMAINS >"$W/res-warm.txt" 2>&1
	echo "policymap: warm set (resolver answers):"
	sed 's/^/  /' "$W/res-warm.txt"
fi

# run NAME PORT CONNS: one measured run, appends "rate p50 p99 errors" to
# W/NAME.CONNS
run() {
	$ON_CLI "$LOAD" -c "$3" -t "$SECS" "127.0.0.1:$2" $DOMAINS |
	    sed -n 's/.* rate=\([0-9]*\) p50_us=\([0-9.]*\) p99_us=\([0-9.]*\) errors=\([0-9]*\)/\1 \2 \3 \4/p' >>"$W/$1.$3"
}
rss() { awk '/VmRSS/ {print int($2/1024)" MB"}' "/proc/$1/status" 2>/dev/null || echo "?"; }
hwm() { awk '/VmHWM/ {print int($2/1024)" MB"}' "/proc/$1/status" 2>/dev/null || echo "?"; }

for c in $CONNS; do
	for r in $(seq "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then
			run const "$P_CONST" "$c"; run sts "$P_STS" "$c"
		else
			run sts "$P_STS" "$c"; run const "$P_CONST" "$c"
		fi
		# this pair: sts-milter's rate and p99 over the ceiling's
		paste -d' ' <(tail -1 "$W/sts.$c") <(tail -1 "$W/const.$c") |
		    awk '{printf "%.4f %.4f\n", $1 / ($5 ? $5 : 1), $3 / ($7 ? $7 : 1)}' >>"$W/ratio.$c"
		[ -n "$PID_RES" ] && [ "$r" -le 3 ] && run res "$P_RES" "$c"
	done
done

echo
echo "policymap: $SECS s runs, $ROUNDS pairs (median), $(nproc) CPUs${ON_SRV:+, servers on CPU 1, client on CPU 0}, warm cache,"
echo "policymap: domains ${DOMAINS// /,}"
printf '| %-28s | %5s | %10s | %8s | %8s | %6s |\n' server conns lookups/s p50_us p99_us errors
printf '|%s|%s|%s|%s|%s|%s|\n' ------------------------------ ------- ------------ ---------- ---------- --------
miss=0
for c in $CONNS; do
	for n in const sts res; do
		[ -s "$W/$n.$c" ] || continue
		case $n in
		const) label="ceiling (constant reply)" ;;
		sts) label="sts-milter" ;;
		res) label="postfix-mta-sts-resolver" ;;
		esac
		printf '| %-28s | %5s | %10s | %8s | %8s | %6s |\n' "$label" "$c" \
		    "$(median "$W/$n.$c" 1)" "$(median "$W/$n.$c" 2)" "$(median "$W/$n.$c" 3)" "$(median "$W/$n.$c" 4)"
	done
done
echo
for c in $CONNS; do
	rr=$(median "$W/ratio.$c" 1) pr=$(median "$W/ratio.$c" 2)
	lo=$(sort -g "$W/ratio.$c" | head -1 | cut -d' ' -f1)
	hi=$(sort -g "$W/ratio.$c" | tail -1 | cut -d' ' -f1)
	verdict=met
	awk -v r="$rr" 'BEGIN {exit !(r >= 0.9)}' || verdict=MISS
	awk -v p="$pr" 'BEGIN {exit !(p <= 1.2)}' || verdict=MISS
	[ "$verdict" = MISS ] && miss=1
	printf 'policymap: %3s conns: sts-milter %3.0f %% of the ceiling (pairs %.0f-%.0f %%), p99 %.2fx the ceiling: %s (target >= 90 %%, <= 1.2x)\n' \
	    "$c" "$(awk -v r="$rr" 'BEGIN {print r * 100}')" \
	    "$(awk -v r="$lo" 'BEGIN {print r * 100}')" "$(awk -v r="$hi" 'BEGIN {print r * 100}')" "$pr" "$verdict"
done
echo
echo "policymap: peak RSS: sts-milter $(hwm "$PID_STS"), resolver $( [ -n "$PID_RES" ] && hwm "$PID_RES" || echo -), ceiling $(hwm "$PID_CONST")"

# --- memory: a million more cached domains.  Added in tenths (cold:
# each is a DNS query), RSS after each; then lookups cycle through all of
# them twice (warm), RSS after each tenth.  Flat: the warm passes add
# nothing, and what each domain costs is the same from the first tenth
# to the last.
if [ "$MEM_DOMAINS" -gt 0 ]; then
	kb() { awk '/VmRSS/ {print $2}' "/proc/$PID_STS/status"; }
	tenth=$(( (MEM_DOMAINS + 9) / 10 ))
	seq -f "m%.0f.bench.test" 1 "$MEM_DOMAINS" | split -l "$tenth" - "$W/mem."
	base=$(kb)
	echo
	echo "policymap: memory: $MEM_DOMAINS more domains (cold, 64 connections), RSS after each tenth:"
	line="" t0=$(date +%s)
	for f in "$W"/mem.*; do
		$ON_CLI "$LOAD" -o -c 64 "127.0.0.1:$P_STS" -f "$f" >/dev/null
		line="$line $(( $(kb) / 1024 ))"
	done
	cold=$(kb)
	echo "  MB:$line  ($(( $(date +%s) - t0 )) s; $(( (cold - base) * 1024 / MEM_DOMAINS )) bytes per domain)"
	for pass in 1 2; do
		line=""
		for f in "$W"/mem.*; do
			$ON_CLI "$LOAD" -o -c 64 "127.0.0.1:$P_STS" -f "$f" >/dev/null
			line="$line $(( $(kb) / 1024 ))"
		done
		echo "  warm pass $pass, MB:$line"
	done
	warm=$(kb)
	growth=$(( (warm - cold) * 100 / (cold - base + 1) ))
	if [ "$growth" -le 5 ]; then
		echo "policymap: memory flat: $((cold / 1024)) MB after the cold pass, $((warm / 1024)) MB after two warm passes: met"
	else
		echo "policymap: memory grew $growth % of the cold pass's growth over two warm passes: MISS"
		miss=1
	fi
fi
[ "$miss" = 1 ] && [ "${BENCH_STRICT:-0}" = 1 ] && exit 2
exit 0
