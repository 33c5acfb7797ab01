#!/bin/bash
# dane.sh - DANE benchmark (issue 10): the policy map's answers for
# DNSSEC-signed domains whose MX hosts have TLSA records, cold (first
# contact: the MX RRset, each host's A, AAAA and TLSA, validated) and
# warm (cached verdicts).
#
#   BUILD=/abs/build bash tests/bench/dane.sh   (make bench runs it too)
#
# Setup, on loopback addresses of its own (run it under the lab lock
# like every bench; it does not use the lab):
#   nsd       127.0.9.2:53, the zone dane.bench., signed (ldns, ECDSA
#             P-256): for each domain D of a set, K MX hosts
#             mxJ.D (an A record) with a DANE-EE TLSA record each;
#   delay     127.0.9.3:53 (delay_dns.py): every query to nsd waits
#             DELAY_MS (20) ms: an authoritative server far away;
#   unbound   127.0.9.1:53, validating, the zone's DS as trust anchor,
#             dane.bench. through the delay; the daemon's resolver.
# Sets: k1 (one MX host per domain), k3 (three) and, as the baseline, k0
# (names the signed zone denies: no MX, no DANE, "NOTFOUND").  One sts-milter
# (dane = yes) per set and round, started afresh (empty caches), asks
# each of the set's N domains once over one connection (socketmap_load
# -o, postfix flavour: "OK dane-only"), so p50 is the latency of a cold
# DANE domain; then over C connections (cold throughput, new names);
# then asks the same domains for WARM_SECS over 10 connections (cached
# verdicts).  Every run uses names no resolver has seen.  With the MX
# hosts looked up in parallel a k3 domain costs about what a k1 domain
# does; one after the other it would cost about K times the per-host
# part.
#
# Rounds alternate the order of "base" and sts-milter.
# Environment: BENCH_DANE_DOMAINS (200 per set and run); BENCH_DANE_ROUNDS
# (3); BENCH_DANE_CONNS (20); BENCH_DANE_DELAY_MS (20);
# BENCH_DANE_WARM_SECS (3); BENCH_DANE_BASE=path of another sts-milter
# binary measured in the same rounds as "base" (before/after a change).
# Exit 0 when the benchmark ran, 1 when it could not run.
set -uo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
. "$ROOT/tests/bench/lib.sh"
N=${BENCH_DANE_DOMAINS:-200}
ROUNDS=${BENCH_DANE_ROUNDS:-3}
CONNS=${BENCH_DANE_CONNS:-20}
DELAY_MS=${BENCH_DANE_DELAY_MS:-20}
WARM_SECS=${BENCH_DANE_WARM_SECS:-3}
LOAD=$BUILD/bench/socketmap_load
IP_UB=127.0.9.1 IP_NSD=127.0.9.2 IP_DELAY=127.0.9.3 IP_MX=127.0.9.10
ZONE=dane.bench

[ -x "$LOAD" ] && [ -x "$BUILD/sts-milter" ] ||
    make -C "$ROOT" --no-print-directory BUILD="$BUILD" "$BUILD/sts-milter" "$LOAD" >/dev/null ||
    { echo "dane: cannot build"; exit 1; }
for x in /usr/sbin/unbound /usr/sbin/nsd /usr/bin/ldns-signzone /usr/bin/ldns-keygen \
    /usr/bin/ldns-key2ds /usr/bin/python3; do
	[ -x "$x" ] || { echo "dane: $x missing (tests/deps.sh)"; exit 1; }
done

W=$(mktemp -d /tmp/sts-bench-dane.XXXXXX)
PIDS=()
DPID=
cleanup() {
	stop_all "$W/nsd/nsd.pid" "$W/unbound/unbound.pid"
	sleep 0.2
	rm -rf "$W"
}
trap cleanup EXIT

daemons=sts
[ -n "${BENCH_DANE_BASE:-}" ] && daemons="base sts"
# names DAEMON ROUND K: the domains of one run (never asked before)
names() { seq -f "$1$2-k$3-%.0f.$ZONE" 1 "$N"; }

# --- the signed zone
t0=$(date +%s)
mkdir -p "$W/nsd/keys" "$W/unbound"
{
	printf '$ORIGIN %s.\n$TTL 3600\n' "$ZONE"
	printf '@ SOA ns.%s. host.%s. 1 3600 600 86400 300\n@ NS ns\nns A %s\n' "$ZONE" "$ZONE" "$IP_NSD"
	for d in $daemons; do
		for r in $(seq "$ROUNDS"); do
			for k in 0 1 3; do
				names "$d" "$r" "$k"
			done
		done
	done | awk -v mx="$IP_MX" '{
		d = $1; sub(/\.dane\.bench$/, "", d)
		k = d; sub(/^[a-z]+[0-9]+-k/, "", k); sub(/-.*/, "", k)
		for (j = 1; j <= k; j++) {
			printf "%s MX %d mx%d.%s\n", d, j * 10, j, d
			printf "mx%d.%s A %s\n", j, d, mx
			# a DANE-EE record per host (its data: any SHA-256)
			cmd = "printf %s " d "-" j " | sha256sum"
			cmd | getline h; close(cmd); sub(/ .*/, "", h)
			printf "_25._tcp.mx%d.%s TLSA 3 1 1 %s\n", j, d, h
		}
	}'
} >"$W/nsd/$ZONE.zone"
(
	cd "$W/nsd/keys" &&
	ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$ZONE") &&
	zsk=$(ldns-keygen -a ECDSAP256SHA256 "$ZONE") &&
	ldns-key2ds -n -2 "$ksk.key" >"$W/unbound/trust-anchor.ds" &&
	ldns-signzone -i "$(date -u -d '-1 day' +%Y%m%d%H%M%S)" -o "$ZONE" \
	    -f "$W/nsd/$ZONE.signed" "$W/nsd/$ZONE.zone" "$zsk" "$ksk"
) >"$W/sign.log" 2>&1 || { tail -5 "$W/sign.log"; echo "dane: could not sign the zone"; exit 1; }
cat >"$W/nsd/nsd.conf" <<EOF
server:
    ip-address: $IP_NSD
    port: 53
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "$W/nsd"
    pidfile: "$W/nsd/nsd.pid"
    logfile: "$W/nsd/nsd.log"
    database: ""
    zonelistfile: "$W/nsd/zone.list"
    xfrdfile: "$W/nsd/xfrd.state"
    xfrdir: "$W/nsd"
    server-count: 1
    reuseport: no
    verbosity: 0
remote-control:
    control-enable: no
zone:
    name: "$ZONE"
    zonefile: "$W/nsd/$ZONE.signed"
EOF
/usr/sbin/nsd -c "$W/nsd/nsd.conf" >"$W/nsd/out" 2>&1 ||
    { cat "$W/nsd/out"; echo "dane: nsd did not start"; exit 1; }
/usr/bin/python3 "$ROOT/tests/bench/delay_dns.py" "$IP_DELAY" 53 "$IP_NSD" 53 "$DELAY_MS" \
    >"$W/delay.log" 2>&1 &
PIDS+=($!)
{
	unbound_conf_head "$W/unbound" "$IP_UB"
	cat <<EOF
    so-reuseport: no
    do-not-query-localhost: no
    module-config: "validator iterator"
    # one query to the authoritative server per name asked (no walk
    # down the labels), so a cold lookup's cost is easy to count
    qname-minimisation: no
    trust-anchor-file: "$W/unbound/trust-anchor.ds"
    local-zone: "." refuse
    local-zone: "bench." transparent
stub-zone:
    name: "$ZONE."
    stub-addr: $IP_DELAY
EOF
} >"$W/unbound/unbound.conf"
/usr/sbin/unbound -c "$W/unbound/unbound.conf" >"$W/unbound/out" 2>&1 ||
    { cat "$W/unbound/out"; echo "dane: unbound did not start"; exit 1; }
probe=$(names sts 1 3 | head -1)
for i in $(seq 50); do
	a=$(dig @"$IP_UB" +dnssec +time=2 +tries=1 TLSA "_25._tcp.mx1.$probe" 2>/dev/null)
	[[ $a == *" ad"*TLSA* ]] && break
	sleep 0.2
done
[[ $a == *" ad"*TLSA* ]] || { echo "$a"; echo "dane: no validated TLSA through the delay"; exit 1; }
echo "dane: $(grep -c ' TLSA ' "$W/nsd/$ZONE.zone") TLSA records signed, each query to the authoritative server $DELAY_MS ms away (setup $(( $(date +%s) - t0 )) s)"

# start_daemon sts|base: a fresh daemon, empty caches; sets DPID, DPORT
start_daemon() {
	local try bin
	for try in 1 2 3; do
		DPORT=$(port)
		rm -rf "$W/$1"
		mkdir -p "$W/$1/state"
		cat >"$W/$1/sts-milter.conf" <<EOF
dns_resolvers = $IP_UB:53
dnssec_trust_anchors = $W/unbound/trust-anchor.ds
state_dir = $W/$1/state
milter_socket = unix:$W/$1/milter.sock
policymap_socket = inet:$DPORT@127.0.0.1
pid_file = $W/$1/pid
EOF
		bin=$BUILD/sts-milter
		[ "$1" = base ] && bin=$BENCH_DANE_BASE
		"$bin" -f -c "$W/$1/sts-milter.conf" 2>"$W/$1/log" &
		DPID=$!
		wait_port "$DPORT" && kill -0 "$DPID" 2>/dev/null && return 0
		stop_daemon
	done
	tail -5 "$W/$1/log"
	echo "dane: $1 did not start"
	return 1
}
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}

# measure DAEMON ROUND K: appends "cold_p50_us cold_p99_us cold_rate
# warm_rate warm_p99_us bad" to W/DAEMON.kK
measure() {
	local one many warm bad half=$((N / 2)) want="OK dane-only"
	[ "$3" = 0 ] && want=NOTFOUND
	start_daemon "$1" || return 1
	names "$1" "$2" "$3" >"$W/all.list"
	head -n "$half" "$W/all.list" >"$W/one.list"
	tail -n +"$((half + 1))" "$W/all.list" >"$W/many.list"
	one=$("$LOAD" -o -c 1 -x "$want" "127.0.0.1:$DPORT" -f "$W/one.list")
	many=$("$LOAD" -o -c "$CONNS" -x "$want" "127.0.0.1:$DPORT" -f "$W/many.list")
	warm=$("$LOAD" -c 10 -t "$WARM_SECS" -x "$want" "127.0.0.1:$DPORT" -f "$W/all.list")
	stop_daemon
	printf '%s k%s round %s:\n  %s\n  %s\n  %s\n' "$1" "$3" "$2" "$one" "$many" "$warm" >>"$W/raw.log"
	bad=$(( $(field bad "$one") + $(field bad "$many") + $(field bad "$warm") +
	    $(field errors "$one") + $(field errors "$many") + $(field errors "$warm") ))
	echo "$(field p50_us "$one") $(field p99_us "$one") $(field rate "$many")" \
	    "$(field rate "$warm") $(field p99_us "$warm") $bad" >>"$W/$1.k$3"
	echo "dane:   $1 k$3 round $2: cold $(field p50_us "$one") us (p50, 1 conn)," \
	    "$(field rate "$many")/s ($CONNS conns), warm $(field rate "$warm")/s p99 $(field p99_us "$warm") us, $bad bad"
}
ms() { [ "$1" = - ] && echo - || awk -v u="$1" 'BEGIN {printf "%.1f ms", u / 1000}'; }

# the daemons' order alternates by round (with "base": base first in odd
# rounds, sts first in even ones), so neither always runs second
for r in $(seq "$ROUNDS"); do
	order=$daemons
	[ $((r % 2)) = 0 ] && order=$(echo "$daemons" | tr ' ' '\n' | tac | tr '\n' ' ')
	for k in 0 1 3; do
		for d in $order; do
			measure "$d" "$r" "$k" || echo "dane:   $d k$k round $r: no figure (see above)"
		done
	done
done
echo
echo "dane: $N new domains per run (postfix flavour: \"OK dane-only\", MX 0: \"NOTFOUND\"), fresh daemon; medians of $ROUNDS rounds;"
echo "dane: every query unbound sends to the authoritative server waits $DELAY_MS ms; $(nproc) CPUs shared with nsd, unbound and the load client"
printf '| %-6s | %-4s | %14s | %14s | %16s | %12s | %12s | %3s |\n' daemon MX "cold p50" "cold p99" "cold /s ($CONNS c)" "warm /s" "warm p99" bad
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' -------- ------ ---------------- ---------------- ------------------ -------------- -------------- -----
for d in $daemons; do
	for k in 0 1 3; do
		f=$W/$d.k$k
		printf '| %-6s | %-4s | %14s | %14s | %16s | %12s | %12s | %3s |\n' "$d" "$k" \
		    "$(ms "$(median "$f" 1)")" "$(ms "$(median "$f" 2)")" "$(median "$f" 3)" \
		    "$(median "$f" 4)" "$(ms "$(median "$f" 5)")" "$(median "$f" 6)"
	done
done
# the parallel lookups: a 3-host domain costs about what a 1-host one does
k1=$(median "$W/sts.k1" 1) k3=$(median "$W/sts.k3" 1)
if [ "$k1" != - ] && [ "$k3" != - ]; then
	echo
	# per domain MX, then per host A, AAAA, TLSA: 1 + 3 round trips to
	# the authoritative server for one host, 1 + 3 x 3 for three looked
	# up one after the other, 1 + 3 in parallel
	awk -v a="$k1" -v b="$k3" 'BEGIN {printf "dane: cold p50, 3 MX hosts / 1 MX host: %.2fx (hosts one after the other: about 2.5x)\n", b / a}'
fi
exit 0
