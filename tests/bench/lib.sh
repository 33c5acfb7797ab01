# lib.sh - helpers of the benchmark scripts (sourced by bash scripts;
# not a benchmark itself, so run.sh does not run it)

# port: a random port number for a daemon of the run (20000-49999)
port() { echo $((20000 + RANDOM % 30000)); }

# wait_port PORT: until 127.0.0.1:PORT accepts (0), 10 s at most (1)
wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# field VAR LINE: the number after " VAR=" in LINE (a load tool's result)
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<" $2"; }

# median FILE FIELD: the median of column FIELD of FILE's lines (the
# lower one of an even count); "-" when FILE is empty or missing
median() {
	[ -s "$1" ] || { echo -; return; }
	awk -v f="$2" '{print $f}' "$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# verdict NAME VALUE OP LIMIT UNIT: a target met or missed (OP is >= or
# <), the line prefixed by the benchmark's name, $BENCH
verdict() {
	if awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !(op == ">=" ? v >= l : v < l) }'; then
		echo "$BENCH: target met: $1 = $2 $5 ($3 $4)"
	else
		echo "$BENCH: MISS: $1 = $2 $5 (target $3 $4)"
	fi
}

# stop_all [PIDFILE...]: stop the run's processes: DPID (when set), each
# of PIDS, and the daemons whose pid files are given
stop_all() {
	local p
	[ -n "${DPID:-}" ] && { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for p in "$@"; do
		[ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	return 0
}

# resolver_start DIR NS PORT CA LOG [CMD...]: Debian's mta-sts-daemon
# (postfix-mta-sts-resolver) in the background ($! is its pid) on
# 127.0.0.1:PORT, resolving through NS in a private mount namespace and
# trusting CA (SSL_CERT_FILE), run by CMD (e.g. taskset -c 1) when
# given; its resolv.conf and configuration go to DIR, its output to LOG
resolver_start() {
	local dir=$1 ns=$2 port=$3 ca=$4 log=$5
	shift 5
	printf 'nameserver %s\n' "$ns" >"$dir/resolv.conf"
	cat >"$dir/mta-sts-daemon.yml" <<EOF2
host: 127.0.0.1
port: $port
cache:
  type: internal
  options:
    cache_size: 10000
default_zone:
  strict_testing: false
  timeout: 4
EOF2
	SSL_CERT_FILE=$ca "$@" unshare -m --propagation private sh -c \
	    'mount --bind "$0" /etc/resolv.conf && exec mta-sts-daemon -c "$1" -v warn' \
	    "$dir/resolv.conf" "$dir/mta-sts-daemon.yml" >"$log" 2>&1 &
}

# unbound_conf_head DIR IP: the "server:" lines every benchmark's unbound
# shares (IP port 53, IPv4 only, loopback clients, no chroot, its files
# in DIR, one thread); the script adds its own lines and zones after them
unbound_conf_head() {
	cat <<EOF
server:
    interface: $2
    port: 53
    do-ip4: yes
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "$1"
    pidfile: "$1/unbound.pid"
    logfile: "$1/unbound.log"
    use-syslog: no
    verbosity: 0
    do-daemonize: yes
    num-threads: 1
EOF
}
