#!/bin/bash
# t_fleet_cache.sh - issue 12 item 2: the fleet's shared policy and
# verdict cache, with a real redis-server (lab_redis_start) and three
# real sts-milter daemons ("nodes" n1 n2 n3, each its own state
# directory and milter socket) driven by milter_load against the lab.
#
#  - one policy fetch per domain for the fleet (the lab nginx's
#    access log), also when three nodes miss the same slow policy at
#    once (the fetch lock: the others wait, then take the result);
#  - every key in Redis has an expiry, and a policy's is its own
#    (fetched + max_age);
#  - stsctl cache flush on a node forgets the fleet's copy too;
#  - stsctl policy DOMAIN reads the fleet's entry as the daemon does,
#    and says whether its answer is the node's own or the fleet's;
#  - a probe verdict is shared per host|ip|port: a second node defers
#    on it without probing (nothing journaled there);
#  - Redis killed, then stopped (SIGSTOP: a Redis that never answers)
#    mid-traffic: every RCPT is answered, none later than a bound far
#    below gate_deadline; the outage is logged once per part and
#    counted;
#  - Redis back, without its data: the nodes fill it again (re-sync of
#    what changed meanwhile and of their local caches).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MILTER=$BUILD/sts-milter
LOAD=$BUILD/bench/milter_load
CLI=/usr/bin/redis-cli

for p in "$MILTER" "$LOAD" "$CLI" /usr/bin/redis-server; do
	[ -x "$p" ] || { fail "installed or built: $p"; done_tests t_fleet_cache; exit; }
done
lab_up || { echo "t_fleet_cache: 0 passed, 1 failed"; exit 1; }
trap 'exit 130' INT TERM HUP		# lab_down (EXIT) on signals too
lab_redis_start || { fail "redis-server starts"; done_tests t_fleet_cache; exit; }
ACCESS=$LAB_DIR/nginx/access.log
NODES="n1 n2 n3"
LAB_CLEANUP='for n in $NODES; do p=$(cat "$WORK/$n/pid" 2>/dev/null); [ -n "$p" ] && kill -CONT $(cat "$WORK/redis-r/pid" 2>/dev/null) 2>/dev/null; [ -n "$p" ] && { kill $p 2>/dev/null; wait $p 2>/dev/null; }; done'

rc() { lab_redis_cli r "$@"; }

# node_start N [KEY = VALUE...]: a daemon of the fleet, its own state
# and sockets
node_start() {
	local n=$1 d=$WORK/$1 i kv
	mkdir -p "$d/state"
	{
		grep -Ev '^(state_dir|milter_socket|policymap_socket|tlsrpt_socket|pid_file|metrics_listen|fleet_[a-z_]*)[ =]' "$LAB_CONF"
		cat <<EOF
state_dir = $d/state
milter_socket = unix:$d/milter.sock
pid_file = $d/sts-milter.pid
status_interval = 1s
fetch_timeout = 4s
fleet_redis = $REDIS_ADDR
fleet_node = $n
fleet_budget_ms = 50
fleet_lock_ms = 8000
EOF
		shift
		for kv in "$@"; do echo "$kv"; done
	} > "$d/sts-milter.conf"
	"$MILTER" -f -c "$d/sts-milter.conf" 2>>"$d/log" &
	echo $! > "$d/pid"
	for i in $(seq 100); do
		[ -S "$d/milter.sock" ] && return 0
		sleep 0.05
	done
	return 1
}

# load N COUNT DOMAIN...: COUNT recipients over those domains through
# node N's milter; prints milter_load's RESULT line
load() {
	local n=$1 count=$2; shift 2
	printf '%s\n' "$@" > "$WORK/$n/domains"
	"$LOAD" -s "unix:$WORK/$n/milter.sock" -c 1 -r 1 -n "$count" \
	    -f "$WORK/$n/domains" 2>>"$WORK/$n/load.err" | grep '^RESULT'
}

field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
fetches() { grep -c "mta-sts.$1 \"GET /.well-known/mta-sts.txt" "$ACCESS"; }
# status N GROUP KEY: a counter of node N's status file
status() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' \
	    "$WORK/$1/state/status.json" "$2" "$3" 2>/dev/null || echo -1
}

MADDR=127.0.9.1:9469
ok "node n1 starts with fleet_redis" node_start n1
ok "node n2 starts with fleet_redis (and metrics)" node_start n2 \
    "metrics_listen = inet:${MADDR#*:}@${MADDR%:*}"
ok "node n3 starts with fleet_redis" node_start n3

# --- one fetch for the fleet ------------------------------------------
r=$(load n1 2 enforce.test wildcard.test)
expect_eq "n1: both recipients answered" "$(field "$r" errors)" 0
expect_eq "n1 fetched enforce.test" "$(fetches enforce.test)" 1
ok "the policy is in Redis" test -n "$(rc GET sts:pol:enforce.test)"
r=$(load n2 2 enforce.test wildcard.test)
r3=$(load n3 2 enforce.test wildcard.test)
expect_eq "n2, n3: answered" "$(field "$r" errors)/$(field "$r3" errors)" 0/0
expect_eq "enforce.test fetched once for three nodes" "$(fetches enforce.test)" 1
expect_eq "wildcard.test fetched once for three nodes" "$(fetches wildcard.test)" 1
sleep 1.5
expect_eq "n2 took the shared policies" "$(status n2 fleet_cache policy_fresh)" 2
expect_match "  and its metrics say so" "$(curl -s "http://$MADDR/metrics")" \
    'sts_milter_fleet_cache_policies_total\{use="fresh"\} 2'

# --- stsctl policy: the fleet's entry, and which answered ---------------
# n4: a node of the fleet with nothing cached (its daemon not running)
mkdir -p "$WORK/n4/state"
sed "s|$WORK/n3|$WORK/n4|g; s|^fleet_node = n3|fleet_node = n4|" "$WORK/n3/sts-milter.conf" > "$WORK/n4/sts-milter.conf"
P=$("$BUILD/stsctl" -c "$WORK/n4/sts-milter.conf" policy enforce.test 2>"$WORK/n4/policy.err")
expect_eq "stsctl policy on a node with an empty cache: exit 0" "$?" 0
expect_eq "... answered from the fleet's entry, used as it is (no fetch)" \
    "$(printf '%s\n' "$P" | jq -r '[.status, .source, .fleet_use, .fleet.status, (.fleet.id == .id)] | @tsv')" \
    "$(printf 'policy\tfleet\tfresh\tpolicy\ttrue')"
expect_eq "... and nothing was fetched for it" "$(fetches enforce.test)" 1
expect_match "... the fleet's entry: its policy, checked and expiry times" \
    "$(printf '%s\n' "$P" | jq -r '[.fleet.policy.mode, .fleet.checked, .fleet.expires] | @tsv')" \
    '^(enforce|testing)	20[0-9-]+T[0-9:]+Z	20[0-9-]+T[0-9:]+Z$'
P=$("$BUILD/stsctl" -c "$WORK/n1/sts-milter.conf" policy enforce.test)
expect_eq "stsctl policy on the node that fetched: its own cache, the fleet's entry beside" \
    "$(printf '%s\n' "$P" | jq -r '[.source, .fleet_use // "-", .fleet.status] | @tsv')" \
    "$(printf 'local\t-\tpolicy')"
P=$("$BUILD/stsctl" -c "$WORK/n4/sts-milter.conf" policy --cached unknown-to-all.test)
expect_eq "stsctl policy, a domain the fleet does not know: local, fleet none" \
    "$(printf '%s\n' "$P" | jq -r '[.source, .fleet.status] | @tsv')" "$(printf 'local\tnone')"
# n5: another node with nothing cached; --cached runs no check, and
# answers with the fleet's policy while it has not expired
mkdir -p "$WORK/n5/state"
sed "s|$WORK/n3|$WORK/n5|g; s|^fleet_node = n3|fleet_node = n5|" "$WORK/n3/sts-milter.conf" > "$WORK/n5/sts-milter.conf"
P=$("$BUILD/stsctl" -c "$WORK/n5/sts-milter.conf" policy --cached enforce.test 2>"$WORK/n5/policy.err")
expect_eq "stsctl policy --cached on a node with an empty cache: exit 0" "$?" 0
expect_eq "... the fleet's policy, no check (source fleet, fleet_use cached)" \
    "$(printf '%s\n' "$P" | jq -r '[.status, .source, .fleet_use, (.fleet.id == .id), .policy.mode] | @tsv')" \
    "$(printf 'policy\tfleet\tcached\ttrue\t%s' "$(printf '%s\n' "$P" | jq -r .fleet.policy.mode)")"
expect_eq "... and nothing was fetched for it" "$(fetches enforce.test)" 1

# three nodes miss slow.test (~2.5 s to fetch) at the same moment
lps=
for n in $NODES; do load "$n" 1 slow.test > "$WORK/$n/slow.res" & lps="$lps $!"; done
wait $lps
for n in $NODES; do
	expect_eq "$n: slow.test answered" "$(field "$(cat "$WORK/$n/slow.res")" errors)" 0
done
expect_eq "slow.test: three concurrent misses, one fetch (the lock)" \
    "$(fetches slow.test)" 1
sleep 1.5
expect_eq "two nodes waited for the lock holder's result" \
    "$(( $(status n1 fleet_cache lock_waited) + $(status n2 fleet_cache lock_waited) + $(status n3 fleet_cache lock_waited) ))" 2

# --- every key has an expiry; a policy's is its own ---------------------
load n1 1 nopolicy.test >/dev/null
# the answer comes first, the fleet's copy after it (the node's writer
# puts it): wait for it, up to 5 s
for _ in $(seq 50); do
	[ "$(rc EXISTS sts:pol:nopolicy.test)" = 1 ] && break
	sleep 0.1
done
# the cache's keys (the shipper's node registry and positions are not
# cache entries: fleet-core's)
keys=$(rc --scan --pattern 'sts:pol:*'; rc --scan --pattern 'sts:mx:*'; rc --scan --pattern 'sts:lock:*')
nottl=0
for k in $keys; do
	t=$(rc PTTL "$k")
	[ "$t" -gt 0 ] 2>/dev/null || { nottl=$((nottl + 1)); echo "  no TTL: $k ($t)"; }
done
expect_match "keys were written" "$keys" 'sts:pol:enforce.test'
expect_match "'no policy' is shared too" "$keys" 'sts:pol:nopolicy.test'
expect_eq "no cache key without an expiry (postfix-mta-sts-resolver #109)" "$nottl" 0
v=$(rc GET sts:pol:enforce.test)
fetched=$(printf '%s\n' "$v" | sed -n 's/^fetched //p')
maxage=$(printf '%s\n' "$v" | sed -n 's/^max_age: *//p' | tr -d '\r')
expect_eq "sts:pol:enforce.test expires at fetched + max_age (STS-CACHE-1)" \
    "$(rc PEXPIRETIME sts:pol:enforce.test)" "$(( (fetched + maxage) * 1000 ))"

# --- stsctl cache flush forgets the fleet's copy too ---------------------
out=$("$BUILD/stsctl" -c "$WORK/n1/sts-milter.conf" cache flush enforce.test 2>&1)
expect_match "stsctl cache flush enforce.test on n1" "$out" '"flushed":1'
expect_eq "the fleet's copy is gone" "$(rc EXISTS sts:pol:enforce.test)" 0
before=$(fetches enforce.test)
load n1 1 enforce.test >/dev/null
expect_eq "n1 fetches enforce.test anew" "$(fetches enforce.test)" $((before + 1))
for i in $(seq 50); do [ -n "$(rc GET sts:pol:enforce.test)" ] && break; sleep 0.1; done
ok "and shares it again" test -n "$(rc GET sts:pol:enforce.test)"

# --- verdicts shared per host|ip|port ------------------------------------
r=$(load n1 1 expired.test)
expect_eq "n1 defers expired.test (certificate-expired)" "$(field "$r" tempfail)" 1
vk='sts:mx:mx.expired.test|127.0.1.22|25'
expect_match "the verdict is in Redis" "$(rc GET "$vk")" 'result [0-9]+'
t=$(rc PTTL "$vk")
ok "with the verdict's TTL (at most 5 min for a failure)" test "$t" -gt 0 -a "$t" -le 300000
hits=$(status n2 fleet_cache verdict_hits)
r=$(load n2 1 expired.test)
expect_eq "n2 defers on the shared verdict" "$(field "$r" tempfail)" 1
sleep 1.5
expect_eq "n2 took the verdict from Redis" "$(status n2 fleet_cache verdict_hits)" $((hits + 1))
sessions() { cat "$WORK/$1"/state/journal/*.jnl 2>/dev/null |
    grep -E '"type": ?"session"' | grep -c "$2"; }
expect_eq "n2 did not probe (no TLS session journaled)" \
    "$(sessions n2 mx.expired.test)" 0
expect_eq "n1 journaled its probe" "$(sessions n1 mx.expired.test)" 1

# --- Redis killed mid-traffic ------------------------------------------
mark() { wc -l < "$WORK/$1/log"; }
since() { tail -n +$(($2 + 1)) "$WORK/$1/log" | grep -c -- "$3"; }
m2=$(mark n2)
load n1 200 enforce.test wildcard.test nopolicy.test > "$WORK/n1/kill.res" &
lp=$!
sleep 0.3
lab_redis_kill
wait $lp
r=$(cat "$WORK/n1/kill.res")
expect_eq "Redis killed mid-traffic: 200 RCPTs answered" "$(field "$r" rcpts)/$(field "$r" errors)" 200/0
# new domains and verdicts while Redis is gone: local discovery
r=$(load n2 3 crlf.test idchange.test expired.test)
expect_eq "without Redis: new domains answered" "$(field "$r" errors)" 0
max=$(field "$r" max_us); max=${max%.*}
ok "  within 1 s each (max $max us)" test "$max" -lt 1000000
expect_eq "crlf.test fetched by n2 alone" "$(fetches crlf.test)" 1
expect_eq "n2 (reads while Redis was dead): the outage logged once" \
    "$(since n2 "$m2" 'fleet cache: Redis .* unreachable')" 1

# Redis that accepts and never answers: every read costs at most the budget
lab_redis_start || fail "redis-server restarts"
sleep 1.5				# the writers reconnect
m3=$(mark n3)
kill -STOP "$(cat "$WORK/redis-r/pid")"
r=$(load n3 4 crlf.test idchange.test expired.test wrongname.test)
rc1=$(load n1 100 enforce.test wildcard.test nopolicy.test)
sleep 3					# a hang longer than the back-off
kill -CONT "$(cat "$WORK/redis-r/pid")"
max=$(field "$rc1" max_us); max=${max%.*}
expect_eq "Redis hanging: 100 RCPTs of cached domains answered" "$(field "$rc1" rcpts)/$(field "$rc1" errors)" 100/0
ok "  none waited for Redis (max $max us < fleet_budget_ms)" test "$max" -lt 50000
expect_eq "Redis hanging: RCPTs of new domains answered" "$(field "$r" errors)" 0
max=$(field "$r" max_us); max=${max%.*}
ok "  within 1 s each (max $max us)" test "$max" -lt 1000000
sleep 1.5
ok "n3 counted Redis unavailable" test "$(status n3 fleet_cache unavailable)" -gt 0
expect_eq "n3 (reads while Redis hung): the hang logged once" \
    "$(since n3 "$m3" 'fleet cache: Redis .* unreachable')" 1
ok "the recovery is logged" grep -q 'fleet cache writer: Redis .* reachable again' "$WORK/n2/log"

# --- Redis back without its data: the nodes fill it again ---------------
lab_redis_kill
lab_redis_wipe
lab_redis_start || fail "redis-server starts empty"
for i in $(seq 100); do
	[ -n "$(rc GET sts:pol:crlf.test)" ] && [ -n "$(rc GET sts:pol:enforce.test)" ] && break
	sleep 0.1
done
ok "re-sync: a policy fetched while Redis was down is there" test -n "$(rc GET sts:pol:crlf.test)"
ok "re-sync: the local caches' policies are back" test -n "$(rc GET sts:pol:enforce.test)"
ok "  with their expiry" test "$(rc PTTL sts:pol:enforce.test)" -gt 0
sleep 6		# the readers' connections are back (back-off: 5 s at most)
before=$(fetches idchange.test)
r=$(load n1 1 idchange.test)
expect_eq "n1 (never saw idchange.test) takes it from the re-synced Redis" \
    "$(fetches idchange.test)" "$before"

done_tests t_fleet_cache
