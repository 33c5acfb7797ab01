#!/bin/bash
# t_fleet_ship.sh - fleet mode (issue 12): the journal shipper of a real
# sts-milter against a real redis-server (lab_redis_start), through the
# faults it must survive.  Records come from the gate (milter_load RCPTs
# to lab domains: probes, a deferral) and the collectors (libtlsrpt
# datagrams from collect_load).  After every step the node's list in
# Redis must equal its journal, line for line: nothing lost, nothing
# twice.  Steps: shipping; kill -9 of the daemon mid-shipping and a
# restart; kill -9 of Redis and a restart with its data; a restart
# without it (everything re-shipped from the journal); Redis stopped
# for a while (mail does not wait, the outage is logged once) and
# started; Redis hung (SIGSTOP: connects succeed, calls time out); Redis restarted from older data (the shipper's position
# refused and corrected); a record for a day already reported (counted
# late); the closed-day watermark; policy texts; a torn journal line;
# the node's heartbeat; a graceful stop that ships what is left.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MILTER=$BUILD/sts-milter
STSCTL=$BUILD/stsctl
LOAD=$BUILD/bench/milter_load
GEN=$BUILD/bench/collect_load
SMLOAD=$BUILD/bench/socketmap_load
PY=/usr/bin/python3

for p in "$MILTER" "$STSCTL" "$LOAD" "$GEN" "$SMLOAD" /usr/bin/redis-server; do
	[ -x "$p" ] || { fail "built or installed: $p"; done_tests t_fleet_ship; exit; }
done
lab_up || { echo "t_fleet_ship: 0 passed, 1 failed"; exit 1; }
trap 'exit 130' INT TERM HUP
lab_redis_start || { fail "redis-server starts"; done_tests t_fleet_ship; exit; }
D=$WORK/n1
mkdir -p "$D/state"
C=$D/sts-milter.conf
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|tlsrpt_socket|pid_file)[ =]' "$LAB_CONF"
	cat <<CONF
state_dir = $D/state
milter_socket = unix:$D/milter.sock
policymap_socket = unix:$D/policymap.sock
tlsrpt_socket = $D/tlsrpt.sock
pid_file = $D/sts-milter.pid
log_level = 1
status_interval = 1s
metrics_listen = inet:9469@127.0.9.2
fleet_redis = unix:$REDIS_SOCK
fleet_node = n1
fleet_close_delay = 0
fleet_timeout = 1s
CONF
} > "$C"
DAY=$(date -u +%F)
YDAY=$(date -u -d yesterday +%F)
J=$D/state/journal/$DAY.jnl
R() { lab_redis_cli r "$@"; }

PID=
start_milter() {
	"$MILTER" -f -c "$C" 2>>"$D/milter.log" &
	PID=$!
	for _ in $(seq 50); do [ -S "$D/tlsrpt.sock" ] && [ -S "$D/policymap.sock" ] && break; sleep 0.1; done
	[ -S "$D/tlsrpt.sock" ]
}
stop_milter() {
	[ -n "$PID" ] || return 0
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
}
LAB_CLEANUP=stop_milter

# good journal lines of DAY (torn or corrupt ones are never shipped)
jlines() { grep -a '^J1 [0-9a-f]\{8\} {' "$D/state/journal/${1:-$DAY}.jnl" 2>/dev/null; }
rlines() { R --raw LRANGE "sts:j:${1:-$DAY}:n1" 0 -1; }
# shipped [DAY [SECONDS]]: wait until Redis has as many records as the
# journal and the position is at the file's end
shipped() {
	local i day=${1:-$DAY} n
	for i in $(seq $((${2:-20} * 10))); do
		n=$(jlines "$day" | wc -l)
		[ "$(R LLEN "sts:j:$day:n1")" = "$n" ] &&
		    [ "$(R HGET sts:pos:n1 "$day")" = "$(stat -c %s "$D/state/journal/$day.jnl")" ] &&
		    return 0
		sleep 0.1
	done
	return 1
}
# same NAME [DAY]: Redis's list is the journal, line for line
same() {
	if shipped "${2:-$DAY}" 30 && cmp -s <(jlines "${2:-$DAY}") <(rlines "${2:-$DAY}"); then
		pass "$1: Redis == journal ($(jlines "${2:-$DAY}" | wc -l) records)"
	else
		fail "$1: Redis != journal" "journal $(jlines "${2:-$DAY}" | wc -l), redis $(R LLEN "sts:j:${2:-$DAY}:n1"), duplicates in redis $(rlines "${2:-$DAY}" | sort | uniq -d | wc -l)"
	fi
}
datagrams() { "$GEN" dgram "$D/tlsrpt.sock" "$1" > /dev/null; }
metric() { curl -s http://127.0.9.2:9469/metrics | sed -n "s/^sts_milter_$1 //p"; }
# metric_is NAME REGEX: within 5 s
metric_is() {
	local i
	for i in $(seq 50); do
		metric "$1" | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	return 1
}
metric_caught_up() {
	metric_is 'fleet_redis_up{part="shipper"}' '^1$' &&
	    metric_is fleet_ship_lag_bytes '^0$'
}
metric_lag_grows() {
	metric_is 'fleet_redis_up{part="shipper"}' '^0$' &&
	    metric_is fleet_ship_lag_bytes '^[1-9][0-9]*$'
}
# wait_journal N: until the journal has N good lines
wait_journal() {
	local i
	for i in $(seq 300); do
		[ "$(jlines | wc -l)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- 1. records from the gate and the collectors are shipped ---------
ok "daemon starts in fleet mode" start_milter
# the daemon says so when it starts the shipper: that may be after its
# sockets are there (start_milter waits for those only)
logwait "$D/milter.log" "node n1 shipping its journal to Redis" 10
expect_match "start-up says it ships" "$(cat "$D/milter.log")" "node n1 shipping its journal to Redis unix:$REDIS_SOCK"
printf '%s\n' enforce.test testing.test expired.test nopolicy.test > "$D/domains"
"$LOAD" -s "unix:$D/milter.sock" -c 1 -r 1 -n 4 -f "$D/domains" > "$D/load.out" 2>&1
for _ in $(seq 100); do grep -q '"src":"probe".*testing.test' "$J" 2>/dev/null && break; sleep 0.1; done
"$SMLOAD" -w "unix:$D/policymap.sock" enforce.test > /dev/null	# cache it
datagrams 500
wait_journal 500
expect_match "the gate journaled probes" "$(grep -c '"src":"probe"' "$J")" '^[1-9]'
expect_match "the gate journaled a deferral" "$(grep -c '"type":"deferral"' "$J")" '^[1-9]'
expect_match "the collector journaled datagrams" "$(grep -c '"src":"postfix"' "$J")" '^[1-9]'
same "gate and collector records"
expect_eq "the node is in sts:nodes" "$(R SISMEMBER sts:nodes n1)" 1
expect_eq "day:$DAY:nodes has the node" "$(R SMEMBERS "sts:day:$DAY:nodes")" n1
expect_match "the day's list expires" "$(R TTL "sts:j:$DAY:n1")" '^[1-9][0-9]+$'
# every policy text a record names is in Redis, byte for byte
ptexts_ok() {
	local h bad=0 n=0
	for h in $(grep -o '"phash":"[0-9a-f]*"' "$J" | cut -d'"' -f4 | sort -u); do
		n=$((n + 1))
		cmp -s <(R --raw GET "sts:ptext:$h" | head -c -1) "$D/state/policies/$h.txt" || bad=$((bad + 1))
	done
	[ "$n" -gt 0 ] && [ "$bad" = 0 ]
}
ok "policy texts shipped with the records" ptexts_ok
expect_match "policy texts expire" "$(R TTL "sts:ptext:$(grep -o '"phash":"[0-9a-f]*"' "$J" | head -1 | cut -d'"' -f4)")" '^[1-9][0-9]+$'
expect_eq "closed watermark: yesterday (close delay 0, nothing unshipped)" "$(R GET sts:closed:n1)" "$YDAY"
expect_eq "node hash: shipped count" "$(R HGET sts:node:n1 shipped)" "$(jlines | wc -l)"
for _ in $(seq 70); do [ "$(R HGET sts:node:n1 lag_bytes)" = 0 ] && break; sleep 0.1; done
F=$("$STSCTL" -c "$C" fleet)
expect_eq "stsctl fleet: exit 0" "$?" 0
expect_eq "stsctl fleet: one node, this one" "$(printf '%s\n' "$F" | jq -r '[.node, .self] | @tsv')" "$(printf 'n1\ttrue')"
expect_eq "stsctl fleet: shipped, closed, lags" \
    "$(printf '%s\n' "$F" | jq -r '[.shipped, .closed, .lag_bytes, .local_lag_bytes, .last_day] | @tsv')" \
    "$(printf '%s\t%s\t0\t0\t%s' "$(jlines | wc -l)" "$YDAY" "$DAY")"
expect_match "stsctl fleet: seen, last record, version" \
    "$(printf '%s\n' "$F" | jq -r '[.seen, .last_record, .version, .seen_age] | @tsv')" \
    '^20[0-9-]+T[0-9:]+Z	20[0-9-]+T[0-9:]+Z	[0-9].*	[0-9]+$'
"$STSCTL" -c "$C" fleet > /dev/null 2>"$D/err"
expect_eq "stsctl fleet: no warning while Redis keeps noeviction" "$(cat "$D/err")" ""
R CONFIG SET maxmemory-policy allkeys-lru > /dev/null
"$STSCTL" -c "$C" fleet > /dev/null 2>"$D/err"
expect_eq "stsctl fleet on an evicting Redis: still exit 0" "$?" 0
expect_match "... warns of the eviction policy" "$(cat "$D/err")" 'warning: Redis .* has maxmemory-policy allkeys-lru, not noeviction'
R CONFIG SET maxmemory-policy noeviction > /dev/null
"$STSCTL" -c "$(conf_for single)" fleet > /dev/null 2>"$D/err"
expect_eq "stsctl fleet without fleet_redis: 69" "$?" 69
expect_match "... and says why" "$(cat "$D/err")" 'fleet_redis is not set'

# --- 2. a torn line in the journal is not shipped ---------------------
printf 'J1 0000 torn by a crash\n' >> "$J"
datagrams 10
wait_journal $(( $(jlines | wc -l) + 10 ))
same "after a torn line"
expect_eq "the torn line is not in Redis" "$(rlines | grep -c 'torn by a crash')" 0

# --- 3. kill -9 of the daemon mid-shipping ----------------------------
lab_redis_stop
before=$(jlines | wc -l)
datagrams 30000
wait_journal $((before + 30000))
lab_redis_start
for _ in $(seq 400); do
	n=$(R LLEN "sts:j:$DAY:n1")
	[ "$n" -gt "$before" ] && break
	sleep 0.01
done
kill -9 "$PID"; wait "$PID" 2>/dev/null
n=$(R LLEN "sts:j:$DAY:n1")
echo "     (killed with $n of $(jlines | wc -l) records in Redis)"
ok "daemon restarts" start_milter
same "kill -9 of the daemon mid-shipping"

# --- 4. kill -9 of Redis mid-traffic, restarted with its data ----------
datagrams 2000 &
G=$!
sleep 0.05
lab_redis_kill
wait $G
datagrams 100
lab_redis_start
same "Redis killed and restarted with its data"

# --- 5. Redis restarted without its data: re-shipped from the journal --
lab_redis_kill
lab_redis_wipe
lab_redis_start
same "Redis restarted empty: re-shipped"
ok "policy texts shipped again" ptexts_ok
for _ in $(seq 70); do [ "$(R SISMEMBER sts:nodes n1)" = 1 ] && break; sleep 0.1; done
expect_eq "the node registers again" "$(R SISMEMBER sts:nodes n1)" 1

# --- 6. Redis stopped for a while: mail does not wait ------------------
logged=$(grep -c 'fleet shipper: Redis .* unreachable' "$D/milter.log")
lab_redis_stop
datagrams 1000
"$LOAD" -s "unix:$D/milter.sock" -c 1 -r 1 -n 20 -f "$D/domains" > "$D/load2.out" 2>&1
expect_match "milter RCPTs while Redis is down: answered" "$(grep -o 'rcpts=[0-9]*' "$D/load2.out")" 'rcpts=20'
p99=$(grep -o 'p99_us=[0-9]*' "$D/load2.out" | cut -d= -f2)
expect_match "... within 100 ms (p99 ${p99} us)" "${p99:-999999}" '^[0-9]{1,5}$'
sleep 3
datagrams 1000
ok "metrics: the lag grows while Redis is away" metric_lag_grows
"$STSCTL" -c "$C" fleet > /dev/null 2>"$D/err"
expect_eq "stsctl fleet with Redis down: 69" "$?" 69
expect_match "... and says why" "$(cat "$D/err")" "Redis unix:$REDIS_SOCK: .*(No such file|refused)"
lab_redis_start
same "Redis stopped for a while and started"
ok "metrics: Redis up again, nothing left to ship" metric_caught_up
expect_eq "the outage is logged once" "$(grep -c 'fleet shipper: Redis .* unreachable' "$D/milter.log")" $((logged + 1))
expect_match "the recovery is logged" "$(tail -50 "$D/milter.log")" 'fleet shipper: Redis .* reachable again'

# --- 6b. Redis hung (SIGSTOP): its kernel still accepts, calls time out -
logged=$(grep -c 'fleet shipper: Redis .* unreachable' "$D/milter.log")
kill -STOP "$(cat "$WORK/redis-r/pid")"
datagrams 500
"$LOAD" -s "unix:$D/milter.sock" -c 1 -r 1 -n 20 -f "$D/domains" > "$D/load3.out" 2>&1
p99=$(grep -o 'p99_us=[0-9]*' "$D/load3.out" | cut -d= -f2)
expect_match "milter RCPTs while Redis hangs: within 100 ms (p99 ${p99} us)" "${p99:-999999}" '^[0-9]{1,5}$'
sleep 4
kill -CONT "$(cat "$WORK/redis-r/pid")"
same "Redis hung for a while"
expect_eq "the hang is logged once" "$(grep -c 'fleet shipper: Redis .* unreachable' "$D/milter.log")" $((logged + 1))
expect_eq "... and its end once" "$(grep -c 'fleet shipper: Redis .* reachable again' "$D/milter.log")" \
    "$(grep -c 'fleet shipper: Redis .* unreachable' "$D/milter.log")"

# --- 7. Redis restarted from older data: the position is corrected -----
lab_redis_stop
cp -a "$WORK/redis-r" "$WORK/redis-old"
lab_redis_start
datagrams 500
same "before the rollback"
n0=$(wc -l < "$D/milter.log")
lab_redis_stop
rm -rf "$WORK/redis-r/appendonlydir"
cp -a "$WORK/redis-old/appendonlydir" "$WORK/redis-r/"
lab_redis_start
datagrams 10
same "Redis rolled back to older data"
# (its line among the datagrams' own: everything logged since the rollback)
expect_match "the shipper says where it goes on from" "$(tail -n +$((n0 + 1)) "$D/milter.log")" 'Redis has journal day .* going on from there'

# --- 8. a record for a reported day is counted late -------------------
R SET "sts:rpt:$YDAY:done" 1 > /dev/null
$PY - "$D/state/journal/$YDAY.jnl" "$(date -u -d "$YDAY 12:00" +%s)" <<'PY'
import json, sys, zlib
j = json.dumps({"type": "session", "time": int(sys.argv[2]), "src": "postfix",
    "ptype": "no-policy-found", "domain": "late.test", "result": "success"},
    separators=(',', ':'))
open(sys.argv[1], 'a').write('J1 %08x %s\n' % (zlib.crc32(j.encode()) & 0xffffffff, j))
PY
same "a late record for yesterday" "$YDAY"
expect_eq "counted in late:$YDAY" "$(R HGET "sts:late:$YDAY" late.test)" 1
expect_eq "the watermark did not move back" "$(R GET sts:closed:n1)" "$YDAY"

# --- 9. a graceful stop ships what is left ------------------------------
datagrams 3000
stop_milter
same "after a graceful stop"
expect_match "the stop logs the shipper's counts" "$(tail -5 "$D/milter.log")" 'fleet shipper: [0-9]+ records shipped'
expect_eq "stsctl fleet after the stop: nothing left to ship" \
    "$("$STSCTL" -c "$C" fleet | jq -r .local_lag_bytes)" 0

done_tests t_fleet_ship
