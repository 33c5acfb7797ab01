# lab.sh - start the loopback lab for an integration test (sourced)
#
# lab_up starts tests/lab (or reuses a running one when LAB_REUSE=1 and
# LAB_DIR names it) and arranges for it to stop on every exit path.
# It sets LAB_DIR, LAB_CONF and WORK (a fresh directory for this test).
LAB=$ROOT/tests/lab/lab

lab_up() {
	export LAB_DIR=${LAB_DIR:-/tmp/sts-milter-lab}
	WORK=$(mktemp -d /tmp/sts-test.XXXXXX)
	if [ "${LAB_REUSE:-0}" = 1 ] && "$LAB" status >/dev/null 2>&1; then
		LAB_STARTED=0
	else
		"$LAB" start >"$WORK/lab-start.log" 2>&1 || {
			cat "$WORK/lab-start.log"
			echo "lab: could not start"
			return 1
		}
		LAB_STARTED=1
	fi
	LAB_CONF=$LAB_DIR/sts-milter.conf
	trap lab_down EXIT
}

lab_down() {
	local rc=$?
	[ -n "${LAB_CLEANUP:-}" ] && eval "$LAB_CLEANUP"
	lab_redis_stop_all
	[ "${LAB_STARTED:-0}" = 1 ] && "$LAB" stop >/dev/null 2>&1
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
	exit $rc
}

# conf_for NAME [key = value ...]: a config in $WORK using the lab's
# resolver and CA and a state directory of its own
conf_for() {
	local name=$1; shift
	mkdir -p "$WORK/$name/state"
	{
		grep -v '^state_dir' "$LAB_CONF"
		echo "state_dir = $WORK/$name/state"
		for kv in "$@"; do echo "$kv"; done
	} > "$WORK/$name/sts-milter.conf"
	echo "$WORK/$name/sts-milter.conf"
}

# pf_main_cf_common: main.cf lines of a sending-only Postfix instance of
# a test (no local delivery, no listener)
pf_main_cf_common() {
	cat <<'EOF'
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:no local delivery
biff = no
append_dot_mydomain = no
readme_directory = no
EOF
}

# pf_master_cf CHROOT: master.cf of a sending-only Postfix instance of a
# test (no listener: mail goes in through sendmail -C); CHROOT y or n for
# smtp(8)
pf_master_cf() {
	cat <<'EOF'
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       1       1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	echo "smtp      unix  -       -       $1       -       -       smtp"
}

# logwait FILE REGEX [SECONDS]: wait (20 s) until a line of FILE matches
# (REGEX one non-empty line, as expect_match's: else 1 at once)
logwait() {
	local i
	t_pattern "$2" >&2 || return 1
	for i in $(seq $((${3:-20} * 10))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# lab_conf "key = value"...: the lab's daemon configuration with these
# keys replaced (or added), on stdout
lab_conf() {
	local kv keys=
	for kv in "$@"; do keys="$keys${keys:+|}${kv%% *}"; done
	grep -Ev "^($keys)[ =]" "$LAB_CONF"
	printf '%s\n' "$@"
}

# --- Redis for the fleet tests (issue 12) -------------------------------
# lab_redis_start [NAME [PORT]]: a redis-server of this test: data in
# $WORK/redis-NAME (NAME "r" by default; append-only file fsynced at
# every write, no RDB snapshots), listening on 127.0.10.1:PORT (6379)
# and on the socket $WORK/redis-NAME/redis.sock (mode 777).  Sets
# REDIS_ADDR=127.0.10.1:PORT and REDIS_SOCK; returns when it answers
# PING (1 if it does not within 10 s: its log is printed).  Started again
# after lab_redis_stop or lab_redis_kill it keeps its data, after
# lab_redis_wipe it has none.  lab_down stops every one (also on exits).
REDIS_IP=127.0.10.1
lab_redis_start() {
	local name=${1:-r} port=${2:-6379} d i
	d=$WORK/redis-$name
	mkdir -p "$d"
	echo "$port" > "$d/port"
	REDIS_ADDR=$REDIS_IP:$port
	REDIS_SOCK=$d/redis.sock
	/usr/bin/redis-server --bind "$REDIS_IP" --port "$port" \
	    --unixsocket "$REDIS_SOCK" --unixsocketperm 777 --dir "$d" \
	    --appendonly yes --appendfsync always --save "" \
	    --daemonize no --logfile "$d/redis.log" --protected-mode no \
	    >/dev/null 2>&1 &
	echo $! > "$d/pid"
	for i in $(seq 100); do
		[ "$(lab_redis_cli "$name" PING 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
	done
	cat "$d/redis.log"
	return 1
}

# lab_redis_cli NAME ARGS...: redis-cli against that server (unix socket)
lab_redis_cli() {
	local name=$1; shift
	/usr/bin/redis-cli -s "$WORK/redis-$name/redis.sock" "$@"
}

# lab_redis_stop [NAME]: SHUTDOWN (its data stays on disk); waits for the exit
lab_redis_stop() {
	local d=$WORK/redis-${1:-r} pid i
	[ -f "$d/pid" ] || return 0
	pid=$(cat "$d/pid")
	lab_redis_cli "${1:-r}" SHUTDOWN >/dev/null 2>&1 || kill "$pid" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$d/pid"
}

# lab_redis_kill [NAME]: kill -9 (what the append-only file has survives)
lab_redis_kill() {
	local d=$WORK/redis-${1:-r} pid
	[ -f "$d/pid" ] || return 0
	pid=$(cat "$d/pid")
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$d/pid"
}

# lab_redis_wipe [NAME]: its data removed (stop or kill it first)
lab_redis_wipe() {
	local d=$WORK/redis-${1:-r}
	rm -rf "$d"/appendonlydir "$d"/*.aof "$d"/dump.rdb
}

lab_redis_stop_all() {
	local d
	for d in "${WORK:-/nonexistent}"/redis-*; do
		[ -f "$d/pid" ] && lab_redis_kill "${d##*/redis-}"
	done
	return 0
}
