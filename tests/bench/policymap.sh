#!/bin/bash
# policymap.sh - socketmap benchmark (issue 5): the same Postfix-like load
# client (socketmap_load: N persistent connections, lock-step netstring
# requests) against
#   sts-milter      the policy-map listener of the real daemon,
#   resolver        Debian's postfix-mta-sts-resolver (mta-sts-daemon),
#                   started here on loopback, internal cache,
#   ceiling         socketmap_const: one thread, epoll, a constant reply,
# on the same warm set of lab domains, at 1, 10 and 100 connections.
# Prints lookups/s, p50 and p99 latency, and each daemon's peak RSS.
#
#   BUILD=/abs/build bash tests/bench/policymap.sh   (make bench does this)
#
# Environment: BENCH_SECONDS (3) per run; BENCH_CONNS ("1 10 100");
# BENCH_ROUNDS (3) runs per row and daemon, interleaved, median kept (the
# machine may be shared); BENCH_LAB_DIR (/tmp/sts-milter-bench-lab) where
# to start a lab when none runs; BENCH_MEM_DOMAINS (0: skip) a memory run
# that warms that many synthetic domains (each costs a DNS NXDOMAIN).
# Exit 0 when the benchmark ran (it informs), 1 when it could not run.
set -uo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LAB=$ROOT/tests/lab/lab
SECS=${BENCH_SECONDS:-3}
CONNS=${BENCH_CONNS:-"1 10 100"}
ROUNDS=${BENCH_ROUNDS:-3}
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
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ "$LAB_STARTED" = 1 ] && "$LAB" stop >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT

# --- the lab: reuse a running one, else start our own
if [ -n "${LAB_DIR:-}" ] && LAB_DIR=$LAB_DIR "$LAB" status >/dev/null 2>&1; then
	:
elif d=$(ps -eo args | sed -n 's|^/usr/sbin/unbound -c \(.*\)/unbound/unbound.conf$|\1|p' | head -1) &&
    [ -n "$d" ] && LAB_DIR=$d "$LAB" status >/dev/null 2>&1; then
	LAB_DIR=$d
else
	LAB_DIR=${BENCH_LAB_DIR:-/tmp/sts-milter-bench-lab}
	LAB_DIR=$LAB_DIR "$LAB" start >"$W/lab.log" 2>&1 || { cat "$W/lab.log"; echo "policymap: no lab"; exit 1; }
	LAB_STARTED=1
fi
export LAB_DIR
CA=$LAB_DIR/ca/root.pem

port() { echo $((20000 + RANDOM % 30000)); }
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
"$BUILD/sts-milter" -f -c "$W/sts/sts-milter.conf" 2>"$W/sts/log" &
PID_STS=$!; PIDS+=($PID_STS)

# --- Debian's postfix-mta-sts-resolver, resolving through the lab DNS in a
# private mount namespace; trusts the lab CA (SSL_CERT_FILE).
PID_RES=
if command -v mta-sts-daemon >/dev/null; then
	printf 'nameserver 127.0.2.1\n' > "$W/resolv.conf"
	cat > "$W/mta-sts-daemon.yml" <<EOF
host: 127.0.0.1
port: $P_RES
cache:
  type: internal
  options:
    cache_size: 10000
default_zone:
  strict_testing: false
  timeout: 4
EOF
	SSL_CERT_FILE=$CA unshare -m --propagation private sh -c \
	    'mount --bind "$0" /etc/resolv.conf && exec mta-sts-daemon -c "$1" -v warn' \
	    "$W/resolv.conf" "$W/mta-sts-daemon.yml" >"$W/res.log" 2>&1 &
	PID_RES=$!; PIDS+=($PID_RES)
else
	echo "policymap: mta-sts-daemon not installed (apt-get install postfix-mta-sts-resolver): skipping it"
fi

"$CONST" "$P_CONST" >"$W/const.log" 2>&1 &
PID_CONST=$!; PIDS+=($PID_CONST)

wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
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

# run NAME PORT CONNS: one measured run, appends "rate p50 p99" to W/NAME.CONNS
run() {
	"$LOAD" -c "$3" -t "$SECS" "127.0.0.1:$2" $DOMAINS |
	    sed -n 's/.* rate=\([0-9]*\) p50_us=\([0-9.]*\) p99_us=\([0-9.]*\) errors=\([0-9]*\)/\1 \2 \3 \4/p' >>"$W/$1.$3"
}
# median NAME CONNS FIELD
median() {
	awk -v f="$3" '{print $f}' "$W/$1.$2" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
rss() { awk '/VmHWM/ {print int($2/1024)" MB"}' "/proc/$1/status" 2>/dev/null || echo "?"; }

for c in $CONNS; do
	for r in $(seq "$ROUNDS"); do
		run const "$P_CONST" "$c"
		run sts "$P_STS" "$c"
		[ -n "$PID_RES" ] && run res "$P_RES" "$c"
	done
done

echo
echo "policymap: $SECS s runs, median of $ROUNDS, $(nproc) CPUs, warm cache, ${DOMAINS// /,}"
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
		    "$(median "$n" "$c" 1)" "$(median "$n" "$c" 2)" "$(median "$n" "$c" 3)" "$(median "$n" "$c" 4)"
	done
	cr=$(median const "$c" 1) sr=$(median sts "$c" 1)
	cp=$(median const "$c" 3) sp=$(median sts "$c" 3)
	awk -v s="$sr" -v c="$cr" 'BEGIN {exit !(s >= 0.9 * c)}' ||
	    { echo "policymap: MISS: $c conns: sts-milter $sr/s < 90 % of ceiling $cr/s"; miss=1; }
	awk -v s="$sp" -v c="$cp" 'BEGIN {exit !(s <= 1.2 * c)}' ||
	    { echo "policymap: MISS: $c conns: sts-milter p99 $sp us > 1.2 x ceiling $cp us"; miss=1; }
done
echo
echo "policymap: peak RSS: sts-milter $(rss "$PID_STS"), resolver $( [ -n "$PID_RES" ] && rss "$PID_RES" || echo -), ceiling $(rss "$PID_CONST")"

# --- memory: many cached domains (synthetic names: negative entries)
if [ "${BENCH_MEM_DOMAINS:-0}" -gt 0 ]; then
	before=$(rss "$PID_STS")
	seq -f "m%g.bench.test" 1 "${BENCH_MEM_DOMAINS}" | xargs -n 2000 \
	    "$LOAD" -w "127.0.0.1:$P_STS" >/dev/null 2>&1
	echo "policymap: RSS after ${BENCH_MEM_DOMAINS} more domains: $before -> $(rss "$PID_STS")"
fi
[ "$miss" = 1 ] && [ "${BENCH_STRICT:-0}" = 1 ] && exit 2
exit 0
