#!/bin/bash
# collect.sh - the collectors' benchmark: how fast sts-milter turns the
# MTA's TLS reports into journal records, with the real daemon on a lab
# domain (enforce.test, its policy cached):
#   datagrams   Postfix 3.10+ libtlsrpt events (tlsrpt_socket), sent as
#               Postfix sends them: a fresh socket each, MSG_DONTWAIT
#               (collect_load dgram; EAGAIN = the kernel queue was
#               full: Postfix would have dropped that event)
#   log lines   Postfix 3.7 smtp(8) lines appended to the mail log the
#               daemon follows (postfix_log), two lines per session
# Each: records/s from the first send to the last record journaled,
# the sender's rate and EAGAINs, the daemon's RSS.
#
#   BUILD=/abs/build bash tests/bench/collect.sh   (make bench does this)
#
# Environment: BENCH_COLLECT_DGRAMS (200000), BENCH_COLLECT_LINES
# (1000000).  Exit 0 when it ran, 1 when it could not run.
set -uo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ND=${BENCH_COLLECT_DGRAMS:-200000}
NL=${BENCH_COLLECT_LINES:-1000000}
GEN=$BUILD/bench/collect_load
SMLOAD=$BUILD/bench/socketmap_load

[ -x "$GEN" ] && [ -x "$SMLOAD" ] && [ -x "$BUILD/sts-milter" ] ||
    make -C "$ROOT" --no-print-directory BUILD="$BUILD" "$BUILD/sts-milter" "$GEN" "$SMLOAD" >/dev/null ||
    { echo "collect: cannot build"; exit 1; }

W=$(mktemp -d /tmp/sts-bench-col.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
	[ "$LAB_STARTED" = 1 ] && "$LAB" stop >/dev/null 2>&1
	rm -rf "$W"
}
. "$ROOT/tests/bench/lab.inc"
trap cleanup EXIT
bench_lab_up collect || exit 1

mkdir -p "$W/state"
: > "$W/mail.log"
cat > "$W/sts-milter.conf" <<CONF
dns_resolvers = 127.0.2.1:53
ca_file = $CA
state_dir = $W/state
milter_socket = unix:$W/milter.sock
policymap_socket = unix:$W/policymap.sock
tlsrpt_socket = $W/tlsrpt.sock
postfix_log = $W/mail.log
pid_file = $W/pid
CONF
"$BUILD/sts-milter" -f -c "$W/sts-milter.conf" 2>"$W/log" &
PID=$!
for _ in $(seq 50); do [ -S "$W/tlsrpt.sock" ] && [ -S "$W/policymap.sock" ] && break; sleep 0.1; done
[ -S "$W/tlsrpt.sock" ] || { cat "$W/log"; echo "collect: daemon did not start"; exit 1; }
"$SMLOAD" -w "unix:$W/policymap.sock" enforce.test > /dev/null	# cache it

jcount() {	# records of SRC in today's journal
	grep -c "\"src\":\"$1\"" "$W/state/journal/$(date -u +%F).jnl" 2>/dev/null || echo 0
}
# wait_records SRC N: seconds (from T0) until N records of SRC; "" on timeout
wait_records() {
	local i
	for i in $(seq 1200); do
		[ "$(jcount "$1")" -ge "$2" ] && { echo "$(date +%s.%N) $T0" | awk '{printf "%.2f", $1 - $2}'; return; }
		sleep 0.1
	done
}
rss() { awk '/VmHWM/ {print int($2/1024)" MB"}' "/proc/$PID/status"; }

echo "collect: $(nproc) CPUs, enforce.test cached, state_dir on $(df -P "$W" | awk 'NR==2 {print $1}')"
T0=$(date +%s.%N)
SENT=$("$GEN" dgram "$W/tlsrpt.sock" "$ND")
T=$(wait_records postfix "$ND")
if [ -n "$T" ]; then
	echo "collect: datagrams: $ND journaled in $T s: $(awk -v n="$ND" -v t="$T" 'BEGIN {printf "%.0f", n / t}') records/s (sender: $SENT)"
else
	echo "collect: datagrams: only $(jcount postfix) of $ND journaled after 120 s (sender: $SENT)"
fi
before=$(jcount postfix)
T0=$(date +%s.%N)
SENT=$("$GEN" log "$W/mail.log" "$NL")
T=$(wait_records postfix $((before + NL / 2)))
if [ -n "$T" ]; then
	echo "collect: log lines: $NL lines ($((NL / 2)) sessions) journaled in $T s: $(awk -v n="$NL" -v t="$T" 'BEGIN {printf "%.0f", n / t}') lines/s (writer: $SENT)"
else
	echo "collect: log lines: only $(( $(jcount postfix) - before )) of $((NL / 2)) sessions journaled after 120 s"
fi
echo "collect: sts-milter peak RSS $(rss)"
grep -E "dropped|lost" "$W/log" | tail -2 | sed 's/^/collect: daemon: /'
exit 0
