#!/bin/bash
# milter.sh - RCPT benchmark of sts-milter through the milter protocol
# (issue 3, section 7): warm-cache RCPT decisions per second with p50/p99
# latency, against the ceiling of a libmilter filter that does nothing
# (null_milter) under the same load, plus a memory run over a million
# recipients.
#
#   BUILD=/abs/build bash tests/bench/milter.sh     (make bench does this)
#
# Steps: build (make, a no-op when up to date); reuse a running lab (LAB_DIR, or the run
# dir of a running lab unbound) or start one in BENCH_LAB_DIR and stop it
# at the end; start sts-milter (own state dir and socket) and null_milter;
# warm up (every domain once); then per load and connection count four
# short runs against each filter, interleaved A B B A A B B A, and the
# medians (the machine may be shared: this evens out bursts of other
# load); then the memory run.  Target: sts-milter >= 80 % of the
# ceiling's recipients/s and p99 <= 1.5 x the ceiling's; RSS flat over
# 1,000,000 recipients.
#
# Environment (defaults):
#   BENCH_SECONDS (1)        length of each measured run (four per filter and row)
#   BENCH_CONNS ("1 8 32")   connection counts
#   BENCH_MEM_RCPTS (1000000), BENCH_MEM_DOMAINS (100000), BENCH_MEM_EVERY (100000)
#   BENCH_LAB_DIR (/tmp/sts-milter-bench-lab)  where to start a lab if none runs
#   BENCH_LAB_REUSE=0        never reuse a running lab (e.g. when run in a
#                            network namespace of its own: unshare -n)
#   BENCH_STRICT=1           exit 2 when a target is missed (default: report only)
#   BENCH_KEEP=1             keep the work directory (logs, domain lists)
# Prints "milter: MISS: ..." for each missed target.  Exit: 0 when the
# benchmark ran (a benchmark informs, it does not fail the build), 1 on a
# failure to run it.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LAB=$ROOT/tests/lab/lab
SECS=${BENCH_SECONDS:-1}
CONNS=${BENCH_CONNS:-"1 8 32"}
MEM_RCPTS=${BENCH_MEM_RCPTS:-1000000}
MEM_DOMAINS=${BENCH_MEM_DOMAINS:-100000}
MEM_EVERY=${BENCH_MEM_EVERY:-100000}
LOAD=$BUILD/bench/milter_load
NULLM=$BUILD/bench/null_milter
STS=$BUILD/sts-milter

say() { printf '%s\n' "$*"; }
die() { printf 'milter bench: error: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d /tmp/sts-bench.XXXXXX)
chmod 0755 "$WORK"
STS_PID= NULL_PID= LAB_STARTED=0
cleanup() {
	local rc=$?
	local p
	for p in $STS_PID $NULL_PID; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $STS_PID $NULL_PID; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if ((LAB_STARTED)); then
		"$LAB" stop >/dev/null 2>&1 || say "milter bench: lab stop failed ($LAB_DIR)"
	fi
	if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then
		say "milter bench: work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$SECONDS

# --- build ---------------------------------------------------------------
if ! make -C "$ROOT" --no-print-directory BUILD="$BUILD" progs "$LOAD" "$NULLM" \
	>"$WORK/build.log" 2>&1; then
	tail -n 30 "$WORK/build.log"
	[[ -x $STS && -x $LOAD && -x $NULLM ]] || die "build failed"
	say "milter bench: warning: the build failed; using the binaries already in $BUILD"
fi

# --- the lab -------------------------------------------------------------
# lab_ok DIR: unbound and nginx of the lab in DIR run (sets LAB_STATUS)
lab_ok() {
	LAB_STATUS=$(LAB_DIR=$1 "$LAB" status 2>/dev/null) || true
	grep -q '^unbound  *running' <<<"$LAB_STATUS" &&
		grep -q '^nginx  *running' <<<"$LAB_STATUS"
}
lab_find() {
	local cands=() pid conf d
	[[ -n ${LAB_DIR:-} ]] && cands+=("$LAB_DIR")
	for pid in $(pgrep -x unbound 2>/dev/null || true); do
		conf=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null |
			awk 'p { print; exit } $0 == "-c" { p = 1 }') || continue
		[[ $conf == */unbound/unbound.conf ]] && cands+=("${conf%/unbound/unbound.conf}")
	done
	for d in ${cands[@]+"${cands[@]}"}; do
		if lab_ok "$d"; then
			echo "$d"
			return 0
		fi
	done
	return 1
}
if [[ ${BENCH_LAB_REUSE:-1} != 0 ]] && d=$(lab_find); then
	export LAB_DIR=$d
	say "lab: reusing the running lab in $LAB_DIR"
else
	export LAB_DIR=${BENCH_LAB_DIR:-/tmp/sts-milter-bench-lab}
	say "lab: none running; starting one in $LAB_DIR"
	LAB_STARTED=1
	"$LAB" start >"$WORK/lab-start.log" 2>&1 || { tail -n 20 "$WORK/lab-start.log"; die "lab start failed"; }
fi
lab_ok "$LAB_DIR" || die "the lab in $LAB_DIR is not running"
grep -q '^mx  *running' <<<"$LAB_STATUS" ||
	say "lab: warning: its MX hosts are not running; enforce domains will be deferred"
LAB_CONF=$LAB_DIR/sts-milter.conf
[[ -r $LAB_CONF ]] || die "$LAB_CONF missing"

# --- the filters -----------------------------------------------------------
mkdir -p "$WORK/state"
{
	grep -E '^(dns_resolvers|ca_file)[ =]' "$LAB_CONF"
	echo "state_dir = $WORK/state"
	echo "milter_socket = unix:$WORK/sts.sock"
	echo "policymap_socket ="
	echo "pid_file ="
	echo "log_level = 0"
} >"$WORK/sts-milter.conf"

# wait_sock PID PATH NAME: the daemon listens on PATH
wait_sock() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S $2 ]] && return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	tail -n 20 "$WORK/$3.log" >&2 || true
	die "$3 did not start"
}
"$STS" -f -c "$WORK/sts-milter.conf" 2>"$WORK/sts-milter.log" &
STS_PID=$!
"$NULLM" -s "unix:$WORK/null.sock" 2>"$WORK/null_milter.log" &
NULL_PID=$!
wait_sock "$STS_PID" "$WORK/sts.sock" sts-milter
wait_sock "$NULL_PID" "$WORK/null.sock" null_milter
STS_SOCK=unix:$WORK/sts.sock NULL_SOCK=unix:$WORK/null.sock

# cpu_busy: per cent of the CPUs busy during one second (other load)
cpu_busy() {
	local a b
	a=$(head -n 1 /proc/stat); sleep 1; b=$(head -n 1 /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { n = split(a, x, " "); split(b, y, " ")
		for (i = 2; i <= n; i++) { t += y[i] - x[i]; if (i == 5 || i == 6) idle += y[i] - x[i] }
		printf "%.0f", (t > 0 ? 100 * (t - idle) / t : 0) }'
}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
alive() { kill -0 "$STS_PID" 2>/dev/null || die "sts-milter died; see $WORK/sts-milter.log"; }

# --- domain lists ----------------------------------------------------------
# policy domains of the lab that sts-milter accepts: three enforce domains
# whose MX hosts validate, one testing, one mode none.
ENFORCE=(enforce.test wildcard.test crlf.test)
printf '%s\n' "${ENFORCE[@]}" testing.test none.test >"$WORK/policy.list"
printf '%s\n' "${ENFORCE[@]}" >"$WORK/enforce.list"
# mixed: per 100 recipients 20 enforce, 5 testing, 2 none, 73 no policy
# (1000 domains; the no-policy ones NXDOMAIN in the lab: negative cache)
awk 'BEGIN { split("enforce.test wildcard.test crlf.test", e, " ")
	for (i = 0; i < 1000; i++) { r = (i * 37) % 100
		if (r < 20) print e[r % 3 + 1]; else if (r < 25) print "testing.test"
		else if (r < 27) print "none.test"; else printf "d%d.nopolicy-bench.test\n", i } }' \
	>"$WORK/mixed.list"
# memory: MEM_DOMAINS distinct domains, 1 % with a policy
awk -v n="$MEM_DOMAINS" 'BEGIN { split("enforce.test wildcard.test crlf.test testing.test none.test", p, " ")
	for (i = 0; i < n; i++) if (i % 100 == 99) print p[int(i / 100) % 5 + 1]
		else printf "m%d.nopolicy-bench.test\n", i }' >"$WORK/mem.list"

# --- warm-up ---------------------------------------------------------------
say ""
say "sts-milter benchmark: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), libmilter $(dpkg-query -W -f '${Version}' libmilter-dev 2>/dev/null || echo '?')"
say "CPU busy before the runs (other processes): $(cpu_busy) %"
say "warm-up: policy domains (DNS, HTTPS policy fetch, MX probes) ..."
"$LOAD" -s "$STS_SOCK" -c 1 -r 5 -n 5 -f "$WORK/policy.list" -v >"$WORK/warm-policy.out" 2>&1 ||
	{ cat "$WORK/warm-policy.out"; die "warm-up failed"; }
# the second pass shows the cached decisions
"$LOAD" -s "$STS_SOCK" -c 1 -r 5 -n 5 -f "$WORK/policy.list" -v >"$WORK/warm-policy2.out" 2>&1 ||
	{ cat "$WORK/warm-policy2.out"; die "warm-up failed"; }
sed -n 's/^rcpt u[0-9]*@/  /p' "$WORK/warm-policy2.out" | cut -c1-150
if grep -Eq '^rcpt .*: [^c]' "$WORK/warm-policy2.out"; then
	say "warning: a policy domain is not accepted; its deferrals (log + journal) are in the runs below"
fi
say "warm-up: 1000 mixed domains ..."
"$LOAD" -s "$STS_SOCK" -c 8 -r 5 -n 1000 -f "$WORK/mixed.list" >"$WORK/warm-mixed.out" 2>&1 ||
	{ cat "$WORK/warm-mixed.out"; die "warm-up failed"; }
# a second each to settle threads and allocators, not measured
"$LOAD" -s "$STS_SOCK" -c 8 -d 1 -f "$WORK/mixed.list" >/dev/null 2>&1 || true
"$LOAD" -s "$NULL_SOCK" -c 8 -d 1 -f "$WORK/mixed.list" >/dev/null 2>&1 || true
alive

# --- throughput and latency --------------------------------------------------
# field NAME LINE: the value of NAME=... in a RESULT line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# run KEY SOCKET PID LIST RCPTS MSGS CONNS: one measured run, appended to
# results.txt as "KEY RESULT ..."
run() {
	local out line
	out=$("$LOAD" -s "$2" -P "$3" -f "$4" -r "$5" -m "$6" -c "$7" -d "$SECS" 2>&1) ||
		{ printf '%s\n' "$out"; die "load run $1 failed"; }
	line=$(grep '^RESULT ' <<<"$out" | tail -n 1)
	[[ -n $line ]] || { printf '%s\n' "$out"; die "load run $1: no result"; }
	[[ $(field errors "$line") == 0 ]] || say "  ($1: $(field errors "$line") connection errors)"
	printf '%s\n' "$1 $line" >>"$WORK/results.txt"
}
# med KEY NAME: the median of NAME over the runs of KEY
med() {
	awk -v k="$1" -v f="$2" '$1 == k { for (i = 2; i <= NF; i++) if (index($i, f "=") == 1) print substr($i, length(f) + 2) }' \
		"$WORK/results.txt" | sort -g | awk '{ v[n++] = $1 } END {
		if (!n) print 0; else if (n % 2) print v[int(n / 2)]; else printf "%.1f\n", (v[n / 2 - 1] + v[n / 2]) / 2 }'
}
# sum KEY NAME: the sum of NAME over the runs of KEY
sum() {
	awk -v k="$1" -v f="$2" '$1 == k { for (i = 2; i <= NF; i++) if (index($i, f "=") == 1) s += substr($i, length(f) + 2) }
		END { print s + 0 }' "$WORK/results.txt"
}

LOADS=(
	"mixed|5|1|mixed domains, 5 rcpts x 1 msg per milter session (Postfix: one session per SMTP connection)"
	"mixed|5|20|mixed domains, 5 rcpts x 20 msgs per session (RCPT-bound)"
	"enforce|5|20|enforce-only domains, 5 rcpts x 20 msgs per session (worst case: every RCPT fully gated)"
)
declare -A M
MISSES=()
say ""
say "each row: four runs of ${SECS}s per filter, interleaved (A B B A A B B A); medians shown"
say "ceiling = null_milter (libmilter, callbacks return SMFIS_CONTINUE)"
say "mixed = per 100 recipients 20 enforce (MX verdict cached), 5 testing, 2 mode none, 73 no policy (negative cache)"
n=0
for spec in "${LOADS[@]}"; do
	IFS='|' read -r list rc msgs title <<<"$spec"
	say ""
	say "load: $title"
	printf '%5s | %9s %8s %8s %6s | %9s %8s %8s %6s | %6s %6s\n' conns \
		"null r/s" "p50 us" "p99 us" "cpu" "sts r/s" "p50 us" "p99 us" "cpu" "rate" "p99"
	for c in $CONNS; do
		k="$list.$rc.$msgs.$c"
		# A B B A A B B A (rows alternate which goes first): drift and
		# bursts of other load hit both filters alike
		if ((n++ % 2 == 0)); then order="null sts sts null null sts sts null"
		else order="sts null null sts sts null null sts"; fi
		for f in $order; do
			if [[ $f == null ]]; then
				run "null.$k" "$NULL_SOCK" "$NULL_PID" "$WORK/$list.list" "$rc" "$msgs" "$c"
			else
				run "sts.$k" "$STS_SOCK" "$STS_PID" "$WORK/$list.list" "$rc" "$msgs" "$c"
			fi
		done
		alive
		for f in null sts; do
			for m in rate p50_us p99_us cpu_us_per_rcpt; do
				M[$f.$m]=$(med "$f.$k" "$m")
			done
		done
		ratio=$(awk -v x="${M[sts.rate]}" -v y="${M[null.rate]}" 'BEGIN { printf "%.2f", (y > 0 ? x / y : 0) }')
		p99r=$(awk -v x="${M[sts.p99_us]}" -v y="${M[null.p99_us]}" 'BEGIN { printf "%.2f", (y > 0 ? x / y : 0) }')
		mark=
		if ! awk -v r="$ratio" -v p="$p99r" 'BEGIN { exit !(r >= 0.80 && p <= 1.5) }'; then
			mark=" <- below target"
			MISSES+=("$list, $rc rcpts x $msgs msgs/session, $c conns: rate $ratio of the ceiling (>= 0.80), p99 ${p99r}x (<= 1.5x)")
		fi
		printf '%5s | %9.0f %8s %8s %6s | %9.0f %8s %8s %6s | %6s %6s%s\n' "$c" \
			"${M[null.rate]}" "${M[null.p50_us]}" "${M[null.p99_us]}" "${M[null.cpu_us_per_rcpt]}" \
			"${M[sts.rate]}" "${M[sts.p50_us]}" "${M[sts.p99_us]}" "${M[sts.cpu_us_per_rcpt]}" \
			"$ratio" "${p99r}x" "$mark"
		t=$(sum "sts.$k" tempfail) o=$(sum "sts.$k" other)
		[[ $t == 0 && $o == 0 ]] || say "      (sts-milter replies: $(sum "sts.$k" continue) continue, $t tempfail, $o other)"
	done
done
say ""
say "r/s = recipients per second; cpu = filter process CPU microseconds per recipient"
say "(user + system, all threads); rate = sts/null (target >= 0.80); p99 = sts/null (target <= 1.5x)"

# --- memory ------------------------------------------------------------------
say ""
say "memory: $MEM_DOMAINS distinct domains (99 % no policy), warmed once, then $MEM_RCPTS recipients cycling through them"
rss0=$(rss "$STS_PID")
tw=$SECONDS
"$LOAD" -s "$STS_SOCK" -c 32 -r 10 -m 10 -n "$MEM_DOMAINS" -f "$WORK/mem.list" >"$WORK/mem-warm.out" 2>&1 ||
	{ tail -n 5 "$WORK/mem-warm.out"; die "memory warm-up failed"; }
alive
rss1=$(rss "$STS_PID")
say "  RSS before: ${rss0} kB; after warming $MEM_DOMAINS domains (in $((SECONDS - tw)) s): ${rss1} kB"
tw=$SECONDS
"$LOAD" -s "$STS_SOCK" -c 8 -r 10 -m 20 -n "$MEM_RCPTS" -f "$WORK/mem.list" \
	-P "$STS_PID" -E "$MEM_EVERY" >"$WORK/mem.out" 2>&1 ||
	{ tail -n 5 "$WORK/mem.out"; die "memory run failed"; }
alive
line=$(grep '^RESULT ' "$WORK/mem.out")
samples=$(awk -F'[ =]' '/^RSS / { printf "%s%s", sep, $5; sep = " " }' "$WORK/mem.out")
say "  RSS (kB) every $MEM_EVERY recipients: $samples"
read -r rmin rmax rfirst rlast < <(awk -F'[ =]' '/^RSS / { v = $5; if (!n++) { mn = mx = f = v } if (v < mn) mn = v; if (v > mx) mx = v; l = v }
	END { print mn + 0, mx + 0, f + 0, l + 0 }' "$WORK/mem.out")
say "  $(field rcpts "$line") recipients in $((SECONDS - tw)) s ($(field rate "$line")/s, p50 $(field p50_us "$line") us, p99 $(field p99_us "$line") us, $(field tempfail "$line") tempfail)"
growth=$(awk -v a="$rfirst" -v b="$rlast" 'BEGIN { printf "%.1f", (a > 0 ? (b - a) * 100 / a : 0) }')
say "  RSS min ${rmin} kB, max ${rmax} kB; first-to-last sample ${growth} %"
if awk -v a="$rmin" -v b="$rmax" 'BEGIN { exit !(a > 0 && (b - a) * 100 / a <= 5) }'; then
	say "  memory: flat (max within 5 % of min)"
else
	say "  memory: NOT flat (max more than 5 % above min)"
	MISSES+=("memory: RSS min $rmin kB, max $rmax kB over $MEM_RCPTS recipients (max within 5 % of min)")
fi

say ""
say "CPU busy after the runs (other processes): $(cpu_busy) %; $((SECONDS - T0)) s in all"
if ((${#MISSES[@]})); then
	for m in "${MISSES[@]}"; do say "milter: MISS: $m"; done
	[[ ${BENCH_STRICT:-0} == 1 ]] && exit 2
else
	say "milter: all targets met"
fi
exit 0
