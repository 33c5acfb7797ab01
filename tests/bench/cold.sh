#!/bin/bash
# cold.sh - cold-path benchmark (issue 15): first contact with domains
# the daemon has never seen, side by side with Debian's
# postfix-mta-sts-resolver (mta-sts-daemon), in the same run.
#
#   BUILD=/abs/build bash tests/bench/cold.sh   (make bench runs it too)
#
# Setup, all on loopback and private to this run (own addresses, so it
# does not need the lab, but run it under the lab lock like every bench):
#   unbound   127.0.7.1:53, authoritative for cold.test: for each of N
#             domains dI.cold.test (fast) and sI.cold.test (slow) a real
#             _mta-sts TXT record and an address for mta-sts.<domain>;
#   nginx     127.0.7.2:443, one server and ONE CERTIFICATE PER POLICY
#             HOST (a test CA made here, tests/lab/mkcert --batch); the
#             fast hosts answer at once, the slow ones after
#             DELAY_MS (100) ms (echo_sleep of nginx-light's echo
#             module: a timer in nginx, no process of its own): a policy
#             host far away;
#   CA file   Debian's system bundle plus the test root (what a
#             production ca_file looks like).
# Each measurement starts the daemon afresh with an empty cache, caches
# one domain (warm.cold.test), then asks each of the N domains once
# (socketmap_load -o, the "postfix" socketmap flavour) over C
# connections, while a paced probe (one connection, a request every
# 2 ms) asks for the cached domain: its p99 is the cached latency during
# a cold run.  A second probe asks a socketmap server that looks nothing
# up (socketmap_const) the same way at the same time: the ceiling of a
# cached answer on this machine during that storm ("constant p99").
# Rounds interleave the two daemons (order alternating);
# the table shows medians over the rounds, and the CPU time (user +
# system, all threads) each daemon used per lookup: on a busy machine
# the rates move with the load, the CPU cost much less.
#
# Environment: BENCH_COLD_DOMAINS (1000); BENCH_COLD_ROUNDS (3);
# BENCH_COLD_CONNS ("1 10 100"); BENCH_COLD_SLOW_CONNS ("10 100": at one
# connection the slow set takes minutes and says nothing new);
# BENCH_COLD_DELAY_MS (100); BENCH_COLD_SETS ("fast slow");
# BENCH_COLD_ONLY (sts or res: one daemon only); BENCH_COLD_BASE=path
# of another sts-milter binary measured in the same rounds as "base"
# (before/after a change); BENCH_STRICT=1 exits 2 when a target is
# missed.  Diagnostics: BENCH_COLD_THREADS=1 prints each run's client
# line and the daemon's CPU per lookup by thread name;
# BENCH_COLD_PACE_US=N makes each cold connection wait N us after
# each answer (a cold load below what the daemon can do: the cached
# p99 at a given cold rate);
# The probes run at SCHED_FIFO 20 (as root; BENCH_COLD_PROBE_PRIO=N
# another priority, 0 a normal process): they measure how soon the
# server answers, not how long the probe itself waits for a CPU on a
# machine the storm fills (a normal process there waits a scheduler
# tick, 4 ms, on about 1 % of its wake-ups; README "The cold path").
# BENCH_COLD_REALTIME=no runs sts-milter with policymap_realtime = no
# (its reactors at normal priority, for a before/after).  Exit 0 when the benchmark ran, 1 when it
# could not run.
set -uo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
. "$ROOT/tests/bench/lib.sh"
N=${BENCH_COLD_DOMAINS:-1000}
ROUNDS=${BENCH_COLD_ROUNDS:-3}
CONNS=${BENCH_COLD_CONNS:-"1 10 100"}
# the probes at SCHED_FIFO (see above): chrt, as root
PROBE_RT=
PRIO=${BENCH_COLD_PROBE_PRIO-20}
if [ "${PRIO:-0}" != 0 ] && [ "$EUID" = 0 ] && command -v chrt >/dev/null; then
	PROBE_RT="chrt -f $PRIO"
fi
SLOW_CONNS=${BENCH_COLD_SLOW_CONNS:-"10 100"}
DELAY_MS=${BENCH_COLD_DELAY_MS:-100}
SETS=${BENCH_COLD_SETS:-"fast slow"}
ONLY=${BENCH_COLD_ONLY:-}
LOAD=$BUILD/bench/socketmap_load
IP_DNS=127.0.7.1 IP_WEB=127.0.7.2
SYSTEM_CA=/etc/ssl/certs/ca-certificates.crt
ECHO_MOD=/usr/lib/nginx/modules/ngx_http_echo_module.so	# nginx-light's
DELAY_S=$(awk -v m="$DELAY_MS" 'BEGIN {printf "%.3f", m / 1000}')

[ -x "$LOAD" ] && [ -x "$BUILD/sts-milter" ] ||
    make -C "$ROOT" --no-print-directory BUILD="$BUILD" "$BUILD/sts-milter" "$LOAD" >/dev/null ||
    { echo "cold: cannot build"; exit 1; }
for x in /usr/sbin/unbound /usr/sbin/nginx "$ECHO_MOD"; do
	[ -e "$x" ] || { echo "cold: $x missing (tests/deps.sh)"; exit 1; }
done
[ -s "$SYSTEM_CA" ] || { echo "cold: $SYSTEM_CA missing (ca-certificates)"; exit 1; }
HAVE_RES=1
command -v mta-sts-daemon >/dev/null || {
	echo "cold: mta-sts-daemon not installed (postfix-mta-sts-resolver): sts-milter only"
	HAVE_RES=0
}

W=$(mktemp -d /tmp/sts-bench-cold.XXXXXX)
PIDS=()
DPID=
OLDN=0
FS=
cleanup() {
	stop_all "$W/nginx/nginx.pid" "$W/unbound/unbound.pid"
	sleep 0.2
	[ -n "$FS" ] && { umount "$FS" 2>/dev/null || umount -l "$FS" 2>/dev/null; }
	rm -rf "$W"
}
trap cleanup EXIT

# The daemons' state on a file system of its own, made here with
# mkfs.ext4's defaults (a journal, hashed directories): what a
# production state_dir sits on.  Not the work directory's: this
# machine's root is ext4 without a journal, where each new inode is
# found past every inode removed in the last minutes (ext4's
# recently_deleted(), only without a journal), so a cache's writer
# paid for whatever files other runs had just removed (37 % of the
# daemon's CPU in a profile taken after two runs).  Without root or
# loop devices the state stays in the work directory (noted).
STATE=$W
if truncate -s 2G "$W/state.img" 2>/dev/null &&
    mkfs.ext4 -q -F "$W/state.img" >/dev/null 2>&1 &&
    mkdir -p "$W/fs" && mount -o loop "$W/state.img" "$W/fs" 2>/dev/null; then
	FS=$W/fs STATE=$W/fs
else
	echo "cold: no loop-mounted ext4 for the state (not root?): state in $W, $(df -T "$W" | awk 'NR == 2 {print $2}')"
fi

# --- certificates: a test CA, one leaf per policy host
names() { # the policy hosts' domains, one a line
	seq -f "d%.0f.cold.test" 1 "$N"
	seq -f "s%.0f.cold.test" 1 "$N"
	echo warm.cold.test
}
t0=$(date +%s)
LAB_DIR=$W "$ROOT/tests/lab/mkcert" --init >"$W/mkcert.log" 2>&1 &&
    names | awk '{print "mta-sts." $1, "mta-sts." $1}' |
    LAB_DIR=$W "$ROOT/tests/lab/mkcert" --batch >>"$W/mkcert.log" 2>&1 ||
    { tail -5 "$W/mkcert.log"; echo "cold: no certificates"; exit 1; }
BUNDLE=$W/ca-bundle.pem
cat "$SYSTEM_CA" "$W/ca/root.pem" >"$BUNDLE"

# --- DNS
mkdir -p "$W/unbound"
{
	printf '$ORIGIN cold.test.\n$TTL 3600\n'
	printf '@ SOA ns.cold.test. host.cold.test. 1 3600 600 86400 60\n@ NS ns\nns A %s\n' "$IP_DNS"
	names | sed 's/\.cold\.test$//' | awk -v web="$IP_WEB" '{
		printf "_mta-sts.%s TXT \"v=STSv1; id=20261206T1;\"\n", $1
		printf "mta-sts.%s A %s\n", $1, web
	}'
} >"$W/unbound/cold.zone"
{
	unbound_conf_head "$W/unbound" "$IP_DNS"
	cat <<EOF
    module-config: "iterator"
    local-zone: "." refuse
    local-zone: "test." transparent
auth-zone:
    name: "cold.test."
    zonefile: "$W/unbound/cold.zone"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no
EOF
} >"$W/unbound/unbound.conf"
/usr/sbin/unbound -c "$W/unbound/unbound.conf" >"$W/unbound/out" 2>&1 ||
    { cat "$W/unbound/out"; echo "cold: unbound did not start"; exit 1; }

# --- HTTPS: nginx, one server block and certificate per policy host
mkdir -p "$W/nginx/tmp"
POLICY='version: STSv1\r\nmode: enforce\r\nmx: *.cold.test\r\nmax_age: 86400\r\n'
{
	[ "$EUID" = 0 ] && echo "user root root;"
	cat <<EOF
load_module $ECHO_MOD;
worker_processes auto;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server_tokens off;
    keepalive_timeout 5s;
    client_body_temp_path $W/nginx/tmp/client_body;
    proxy_temp_path $W/nginx/tmp/proxy;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen $IP_WEB:443 ssl default_server;
        ssl_reject_handshake on;
    }
EOF
	names | while read -r d; do
		h=mta-sts.$d
		echo "    server { listen $IP_WEB:443 ssl; server_name $h;"
		echo "        ssl_certificate $W/ca/$h.chain.pem; ssl_certificate_key $W/ca/$h.key;"
		case $d in
		s*) echo "        location = /.well-known/mta-sts.txt { default_type text/plain; echo_sleep $DELAY_S; echo -n \"$POLICY\"; }" ;;
		*) echo "        location = /.well-known/mta-sts.txt { default_type text/plain; return 200 \"$POLICY\"; }" ;;
		esac
		echo "        location / { return 404; } }"
	done
	echo "}"
} >"$W/nginx/nginx.conf"
/usr/sbin/nginx -p "$W/nginx/" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" >"$W/nginx/out" 2>&1 ||
    { tail -5 "$W/nginx/out" "$W/nginx/error.log"; echo "cold: nginx did not start"; exit 1; }

# the setup answers: a policy over HTTPS with the bundle, fast and slow
check_host() {
	curl -sS --max-time 5 --cacert "$BUNDLE" --resolve "mta-sts.$1:443:$IP_WEB" \
	    "https://mta-sts.$1/.well-known/mta-sts.txt" 2>&1
}
for i in $(seq 50); do
	check_host d1.cold.test | grep -q '^mode: enforce' && break
	sleep 0.1
done
for d in d1.cold.test "s$N.cold.test"; do
	check_host "$d" | grep -q '^mode: enforce' ||
	    { check_host "$d"; echo "cold: the policy host of $d does not answer"; exit 1; }
done
# the slow hosts do wait: a benchmark of nothing otherwise
slow_s=$(curl -sS -o /dev/null -w '%{time_starttransfer}' --max-time 5 --cacert "$BUNDLE" \
    --resolve "mta-sts.s1.cold.test:443:$IP_WEB" "https://mta-sts.s1.cold.test/.well-known/mta-sts.txt")
awk -v t="$slow_s" -v d="$DELAY_S" 'BEGIN {exit !(t >= d)}' ||
    { echo "cold: the slow policy host answered in $slow_s s, not after $DELAY_S s"; exit 1; }
# the ceiling of a cached answer: a socketmap server that looks nothing up
# (socketmap_const), probed like the daemons during each of their runs
CONST=$BUILD/bench/socketmap_const
[ -x "$CONST" ] || make -C "$ROOT" --no-print-directory BUILD="$BUILD" "$CONST" >/dev/null ||
    { echo "cold: cannot build $CONST"; exit 1; }
CPORT=$(port)
"$CONST" "$CPORT" "OK secure" >"$W/const.log" 2>&1 &
PIDS+=($!)
wait_port "$CPORT" || { echo "cold: the constant server did not start"; exit 1; }
echo "cold: $N + $N policy hosts, one certificate each, CA file: system bundle ($(grep -c BEGIN "$SYSTEM_CA") roots) + test root (setup $(( $(date +%s) - t0 )) s)"

# start_daemon sts|base|res: a fresh daemon with an empty cache; sets
# DPID, DPORT.  A port someone else took: another port, three times.
start_daemon() {
	local try
	for try in 1 2 3; do
		start_daemon1 "$1" && return 0
		stop_daemon
	done
	tail -5 "$W/$1/log"
	echo "cold: $1 did not start"
	return 1
}
start_daemon1() {
	DPORT=$(port)
	while (exec 3<>"/dev/tcp/127.0.0.1/$DPORT") 2>/dev/null; do DPORT=$(port); done
	# the last run's files moved aside, not removed (see STATE above)
	[ -e "$STATE/$1" ] && mv "$STATE/$1" "$STATE/old.$1.$((++OLDN))"
	mkdir -p "$W/$1" "$STATE/$1/state"
	case $1 in
	sts|base)
		cat >"$W/$1/sts-milter.conf" <<EOF
dns_resolvers = $IP_DNS:53
ca_file = $BUNDLE
state_dir = $STATE/$1/state
milter_socket = unix:$W/$1/milter.sock
policymap_socket = inet:$DPORT@127.0.0.1
pid_file = $W/$1/pid
EOF
		[ "$1" = sts ] && [ "${BENCH_COLD_REALTIME:-yes}" = no ] &&
		    echo "policymap_realtime = no" >>"$W/$1/sts-milter.conf"
		bin=$BUILD/sts-milter
		[ "$1" = base ] && bin=$BENCH_COLD_BASE
		"$bin" -f -c "$W/$1/sts-milter.conf" 2>"$W/$1/log" &
		DPID=$!
		;;
	res)
		resolver_start "$W/res" "$IP_DNS" "$DPORT" "$BUNDLE" "$W/res/log"
		DPID=$!
		;;
	esac
	wait_port "$DPORT" && kill -0 "$DPID" 2>/dev/null
}
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}

names | grep '^d' | head -n "$N" >"$W/fast.list"
names | grep '^s' | head -n "$N" >"$W/slow.list"

# measure NAME SET CONNS: one run; appends to W/NAME.SET.CONNS
#   "good/s lookups bad+errors cached_p50_us cached_p99_us cpu_ms env_ms"
#   (cpu_ms, env_ms: CPU ms per lookup of the daemon, of nginx + unbound)
measure() {
	local out probe cprobe pp cp lk bad err secs env0
	start_daemon "$1" || return 1
	env0=$(env_ms)
	"$LOAD" -w "127.0.0.1:$DPORT" warm.cold.test >"$W/warm.out" 2>&1
	$PROBE_RT "$LOAD" -c 1 -t 100000 -i 2000 -x "OK " "127.0.0.1:$DPORT" warm.cold.test >"$W/probe.out" 2>&1 &
	pp=$!
	$PROBE_RT "$LOAD" -c 1 -t 100000 -i 2000 -x "OK " "127.0.0.1:$CPORT" warm.cold.test >"$W/cprobe.out" 2>&1 &
	cp=$!
	out=$("$LOAD" -o -c "$3" ${BENCH_COLD_PACE_US:+-i $BENCH_COLD_PACE_US} -x "OK " "127.0.0.1:$DPORT" -f "$W/$2.list")
	kill -TERM "$pp" "$cp" 2>/dev/null
	wait "$pp" "$cp" 2>/dev/null
	probe=$(cat "$W/probe.out")
	cprobe=$(cat "$W/cprobe.out")
	cpu=$(cpu_ms "$DPID")
	[ "${BENCH_COLD_THREADS:-0}" = 1 ] && { echo "cold:     $out"; threads_ms "$DPID" "$(field lookups "$out")"; }
	envc=$(( $(env_ms) - env0 ))
	stop_daemon
	lk=$(field lookups "$out") bad=$(field bad "$out") err=$(field errors "$out")
	secs=$(field seconds "$out")
	echo "$out" >>"$W/raw.log"
	printf '%s %s %s\n' "$1 $2 $3:" "$out" "probe: $probe" >>"$W/raw.log"
	awk -v lk="$lk" -v bad="$bad" -v err="$err" -v s="$secs" \
	    -v p50="$(field p50_us "$probe")" -v p99="$(field p99_us "$probe")" \
	    -v cpu="$cpu" -v envc="$envc" -v c99="$(field p99_us "$cprobe")" \
	    'BEGIN { n = lk > 0 ? lk : 1; printf "%.0f %d %d %s %s %.2f %.2f %s\n", (lk - bad) / (s > 0 ? s : 1), lk, bad + err, p50, p99, cpu / n, envc / n, c99 == "" ? "-" : c99 }' \
	    >>"$W/$1.$2.$3"
	echo "cold:   $1 $2 $3 conns: $(tail -1 "$W/$1.$2.$3" | awk '{printf "%s/s, %s bad, cached p99 %s us (constant server %s us), %s CPU ms/lookup (nginx + unbound %s)", $1, $3, $5, $8, $6, $7}')"
}
# cpu_ms PID: the CPU time (user + system, all threads) the process used
cpu_ms() {
	local tck
	tck=$(getconf CLK_TCK)
	awk -v t="$tck" '{ sub(/^.*\) /, ""); printf "%.0f", ($12 + $13) * 1000 / t }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# threads_ms PID LOOKUPS: the daemon's CPU per lookup by thread name
# (BENCH_COLD_THREADS=1; where a cold lookup's CPU goes)
threads_ms() {
	local tck
	tck=$(getconf CLK_TCK)
	for f in /proc/$1/task/*/stat; do cat "$f" 2>/dev/null; echo; done |
	    awk -v t="$tck" -v n="${2:-1}" 'NF {
		c = $0; sub(/^[^(]*\(/, "", c); sub(/\).*$/, "", c)
		r = $0; sub(/^.*\) /, "", r); split(r, a, " ")
		ms[c] += (a[12] + a[13]) * 1000 / t; k[c]++ }
	    END { for (c in ms) printf "cold:     thread %-14s x%-3d %6.3f ms/lookup\n", c, k[c], ms[c] / (n > 0 ? n : 1) }' | sort -k5 -g -r
}
# env_ms: CPU ms used so far by the lookups' other end (nginx, unbound)
env_ms() {
	local p t=0 m
	for p in $(cat "$W/nginx/nginx.pid" "$W/unbound/unbound.pid" 2>/dev/null) \
	    $(pgrep -P "$(cat "$W/nginx/nginx.pid" 2>/dev/null)" 2>/dev/null); do
		m=$(cpu_ms "$p")
		t=$((t + ${m:-0}))
	done
	echo "$t"
}
# pair_ratio STS RES STS_MEDIAN RES_MEDIAN: the median over the rounds of
# each round's sts/res rate (a round's two runs had the same machine,
# so a slow spell moves both); the ratio of the medians when the rounds
# do not pair up (a run without a figure)
pair_ratio() {
	[ "$3" = - ] || [ "$4" = - ] && { echo -; return; }
	if [ "$(wc -l <"$1")" = "$(wc -l <"$2")" ]; then
		paste -d ' ' "$1" "$2" | awk '{ n = NF / 2; print ($(n + 1) > 0) ? $1 / $(n + 1) : 0 }' |
		    sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
	else
		awk -v a="$3" -v b="$4" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'
	fi
}
worst() {
	[ -s "$1" ] || { echo -; return; }
	awk -v f="$2" '{print $f}' "$1" | sort -g | tail -1
}

daemons="sts res"
[ "$HAVE_RES" = 0 ] && daemons=sts
[ -n "$ONLY" ] && daemons=$ONLY
[ -n "${BENCH_COLD_BASE:-}" ] && daemons="base $daemons"
t0=$(date +%s)
for r in $(seq "$ROUNDS"); do
	for set in $SETS; do
		cl=$CONNS
		[ "$set" = slow ] && cl=$SLOW_CONNS
		for c in $cl; do
			order=$daemons
			[ $((r % 2)) = 0 ] && order=$(echo "$daemons" | tr ' ' '\n' | tac | tr '\n' ' ')
			for d in $order; do
				measure "$d" "$set" "$c" || echo "cold:   $d $set $c conns: no figure (see above)"
			done
		done
	done
	echo "cold: round $r of $ROUNDS done ($(( $(date +%s) - t0 )) s)"
done

echo
echo "cold: $N new domains per run, each asked once (postfix flavour), fresh daemon, empty cache;"
echo "cold: medians of $ROUNDS interleaved rounds (ratio: the median of the rounds' own ratios); $(nproc) CPUs shared with nginx, unbound and the load client;"
echo "cold: slow = the policy host answers after $DELAY_MS ms; cached p99 = a cached domain asked every 2 ms during the run${PROBE_RT:+ (probes at SCHED_FIFO $PRIO)}"
printf '| %-4s | %5s | %14s | %14s | %6s | %9s | %9s | %13s | %14s | %12s | %13s | %13s |\n' set conns "sts-milter /s" "resolver /s" ratio "sts p99" "res p99" "constant p99" "bad (sts/res)" "base /s, p99" "CPU ms sts/res" "nginx+unbound"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------ ------- ---------------- ---------------- -------- ----------- ----------- --------------- ---------------- -------------- --------------- ---------------
miss=0
verdicts=()
for set in $SETS; do
	cl=$CONNS
	[ "$set" = slow ] && cl=$SLOW_CONNS
	for c in $cl; do
		s=$W/sts.$set.$c rs=$W/res.$set.$c
		sr=$(median "$s" 1) rr=$(median "$rs" 1)
		ratio=$(pair_ratio "$s" "$rs" "$sr" "$rr")
		ms() { [ "$1" = - ] && echo - || awk -v u="$1" 'BEGIN {printf "%.2f ms", u / 1000}'; }
		b=$W/base.$set.$c
		printf '| %-4s | %5s | %14s | %14s | %6s | %9s | %9s | %13s | %14s | %12s | %13s | %13s |\n' "$set" "$c" "$sr" "$rr" "${ratio}x" \
		    "$(ms "$(median "$s" 5)")" "$(ms "$(median "$rs" 5)")" "$(ms "$(median "$s" 8)")" "$(worst "$s" 3)/$(worst "$rs" 3)" \
		    "$(median "$b" 1), $(ms "$(median "$b" 5)")" "$(median "$s" 6)/$(median "$rs" 6)" "$(median "$s" 7)/$(median "$rs" 7)"
		want=
		[ "$set" = fast ] && [ "$c" -ge 10 ] && want=1.5
		[ "$set" = slow ] && [ "$c" -ge 100 ] && want=2
		if [ -n "$want" ] && [ "$ratio" != - ]; then
			v=met
			awk -v r="$ratio" -v w="$want" 'BEGIN {exit !(r >= w)}' || { v=MISS; miss=1; }
			verdicts+=("cold: $set, $c conns: sts-milter ${ratio}x the resolver: $v (target >= ${want}x)")
		fi
		p99=$(worst "$s" 5)
		if [ "$p99" != - ]; then
			v=met
			awk -v p="$p99" 'BEGIN {exit !(p < 1000)}' || { v=MISS; miss=1; }
			verdicts+=("cold: $set, $c conns: cached p99 during the run, worst round $(ms "$p99"): $v (target < 1 ms; the constant server in the same runs: median $(ms "$(median "$s" 8)"), worst $(ms "$(worst "$s" 8)"))")
		fi
	done
done
echo
printf '%s\n' "${verdicts[@]}"
[ "$miss" = 1 ] && [ "${BENCH_STRICT:-0}" = 1 ] && exit 2
exit 0
