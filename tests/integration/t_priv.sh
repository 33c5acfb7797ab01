#!/bin/bash
# t_priv.sh - least privilege, checked (issue 14 item 6):
#   - systemd-analyze security --offline=true rates each shipped service
#     unit (conf/, and the package's copies that debian/rules makes) at
#     an exposure of 2.0 or lower, and the units say what the README says;
#   - the real sts-milter, started as root with user = nobody, serves
#     with no root uid or gid, no capability (CapEff, CapPrm, CapAmb all
#     zero) and no_new_privs, from /proc/PID/status;
#   - its unix sockets (milter, policy map, datagrams) are the user's,
#     of socket_group, mode socket_mode (0660 by default): postfix (a
#     member of the group) connects, another user is refused;
#   - state_dir is closed to others even when it was made 0755;
#   - started as the user already (systemd's User=), it runs as is, and a
#     socket_group that user is not in is a start-up error, not a silent
#     0660 socket of the wrong group.
# Needs no lab: the daemon resolves nothing here (dane = no, a resolver
# that never answers).
. "$(dirname "$0")/../lib.sh"
MILTER=$BUILD/sts-milter
MAX_EXPOSURE=2.0

WORK=$(mktemp -d /tmp/sts-priv.XXXXXX)
chmod 755 "$WORK"
# the probe where other users can read it
cp "$ROOT/tests/tools/mta-probe.py" "$WORK/mta-probe.py"
PROBE=$WORK/mta-probe.py
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

# --- the units ----------------------------------------------------------
# exposure UNITFILE: systemd-analyze's overall exposure, e.g. "1.5"
exposure() {
	systemd-analyze security --offline=true --no-pager "$1" 2>/dev/null |
	    sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p'
}
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$WORK/deb"
	for u in sts-milter.service tlsrpt-reporter.service; do
		# what debian/rules installs: the same unit, /usr/sbin paths
		sed 's|/usr/local/sbin/|/usr/sbin/|g' "$ROOT/conf/$u" > "$WORK/deb/$u"
		for f in "$ROOT/conf/$u" "$WORK/deb/$u"; do
			e=$(exposure "$f")
			where=${f#"$ROOT/"}; where=${where#"$WORK/"}
			expect_match "$where: systemd-analyze exposure '$e' <= $MAX_EXPOSURE" \
			    "$e" '^[0-9]+\.[0-9]$'
			awk -v e="${e:-99}" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e + 0 <= m + 0) }' &&
			    pass "$where: exposure $e is at most $MAX_EXPOSURE" ||
			    fail "$where: exposure $e is at most $MAX_EXPOSURE"
		done
		for d in User=sts-milter NoNewPrivileges=yes ProtectSystem=strict \
		    'ReadWritePaths=/var/lib/sts-milter' PrivateTmp=yes ProtectHome=yes \
		    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
		    SystemCallFilter=@system-service CapabilityBoundingSet= UMask=0027; do
			ok "$u: $d" grep -q "^$d" "$ROOT/conf/$u"
		done
	done
	# the units as systemd reads them: no unknown or misspelt directive
	for u in sts-milter.service tlsrpt-reporter.service; do
		sed "s|/usr/local/sbin/|$BUILD/|" "$ROOT/conf/$u" > "$WORK/$u"
		expect_eq "systemd-analyze verify $u: nothing to say" \
		    "$(systemd-analyze verify --man=no "$WORK/$u" 2>&1)" ""
	done
	# the README quotes the figures: they must be today's
	for u in sts-milter.service tlsrpt-reporter.service; do
		e=$(exposure "$ROOT/conf/$u")
		ok "README: $u exposure $e" grep -Eq "\`$u\`[^|]*\\| \\*\\*$e\\*\\*" "$ROOT/README.md"
	done
else
	skip "systemd-analyze" "not installed (tests/deps.sh installs systemd)"
fi

# --- the real daemon: root drops to nobody --------------------------------
if [ "$(id -u)" -ne 0 ]; then
	skip "the daemon's privileges" "needs root"
	done_tests t_priv
	exit
fi
USR=nobody
GRP=postfix		# the MTA's group: the lab's Postfix runs as postfix
getent group "$GRP" >/dev/null || GRP=daemon
UID_=$(id -u "$USR")
GID_=$(id -g "$USR")
OTHER=daemon		# neither the owner nor in $GRP
id -nG "$OTHER" | tr ' ' '\n' | grep -qx "$GRP" && OTHER=bin

# conf DIR [key = value ...]: a daemon of its own in DIR
conf() {
	local d=$1; shift
	mkdir -p "$d"
	chmod 755 "$d"
	{
		cat <<-EOF
		state_dir = $d/state
		milter_socket = unix:$d/milter.sock
		policymap_socket = unix:$d/policymap.sock
		tlsrpt_socket = $d/tlsrpt.sock
		pid_file = $d/sts-milter.pid
		dns_resolvers = 127.0.0.1:9
		dane = no
		status_interval = 1s
		EOF
		printf '%s\n' "$@"
	} > "$d/sts-milter.conf"
}
# start DIR [runner...]: the daemon in the foreground, PID when it serves
start() {
	local d=$1; shift
	"$@" "$MILTER" -f -c "$d/sts-milter.conf" 2>"$d/milter.log" &
	PID=$!
	PIDS="$PIDS $PID"
	for _ in $(seq 100); do
		[ -S "$d/policymap.sock" ] && [ -s "$d/state/status.json" ] && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# reload_says DIR SEDEXPR KEY: the daemon of DIR ($PID) reloads its
# configuration edited by SEDEXPR and says KEY needs a restart
reload_says() {
	sed -i "$2" "$1/sts-milter.conf"
	kill -HUP "$PID"
	for _ in $(seq 50); do grep -q 'reload: configuration reloaded' "$1/milter.log" && break; sleep 0.1; done
	expect_match "SIGHUP with $3 changed: restart needed, says the log" \
	    "$(cat "$1/milter.log")" "reload: $3 changed; restart sts-milter to apply it"
}
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
# pmap_sched PID: the policy and real-time priority of the reactors
# (sts-pmap), "2 1" for SCHED_RR 1
pmap_sched() { thread_sched "$1" | sed -n 's/ sts-pmap$//p' | sort -u; }
# policymap_realtime as a user needs RLIMIT_RTPRIO 1: root raises it
# before it drops privileges, if it may (a hard limit of 0 needs
# CAP_SYS_RESOURCE, which some containers' root lacks)
RT_RAISE=no
if [ "$(ulimit -Hr)" = unlimited ] || [ "$(ulimit -Hr)" -ge 1 ] ||
    [ $(( 0x$(field self CapEff) >> 24 & 1 )) = 1 ]; then
	RT_RAISE=yes
fi

A=$WORK/root
conf "$A" "user = $USR" "socket_group = $GRP"
# the policy map on two sockets (pmap_listen takes a list): both get them
sed -i "s|^policymap_socket = .*|policymap_socket = unix:$A/policymap.sock unix:$A/policymap2.sock|" "$A/sts-milter.conf"
mkdir -p "$A/state"
chmod 0755 "$A/state"			# as a careless admin left it
if start "$A"; then
	pass "sts-milter starts as root with user = $USR"
	expect_eq "Uid: real, effective, saved, fs = $USR ($UID_)" \
	    "$(field "$PID" Uid | tr -s '\t ' ' ')" "$UID_ $UID_ $UID_ $UID_"
	expect_eq "Gid: all $USR's group ($GID_)" \
	    "$(field "$PID" Gid | tr -s '\t ' ' ')" "$GID_ $GID_ $GID_ $GID_"
	expect_match "Groups: no root group" " $(field "$PID" Groups) " '^( [1-9][0-9]*)* *$'
	for c in CapEff CapPrm CapAmb CapInh; do
		expect_eq "$c: no capability" "$(field "$PID" "$c")" 0000000000000000
	done
	expect_eq "NoNewPrivs: 1" "$(field "$PID" NoNewPrivs)" 1
	# every thread, not just the main one
	bad=$(for t in /proc/"$PID"/task/*; do
		awk '$1 == "Uid:" && $2 != '"$UID_"' { print FILENAME } $1 == "CapEff:" && $2 != "0000000000000000" { print FILENAME }' "$t/status"
	done)
	expect_eq "all $(ls /proc/"$PID"/task | wc -l) threads: uid $UID_, no capability" "$bad" ""
	if [ "$RT_RAISE" = yes ]; then
		expect_eq "policymap_realtime: the reactors at SCHED_RR 1 as $USR" \
		    "$(pmap_sched "$PID")" "2 1"
	else
		expect_eq "policymap_realtime, RLIMIT_RTPRIO not raisable: reactors at normal priority" \
		    "$(pmap_sched "$PID")" "0 0"
		expect_match "policymap_realtime, RLIMIT_RTPRIO not raisable: the log says why" \
		    "$(cat "$A/milter.log")" 'policymap_realtime: cannot raise RLIMIT_RTPRIO to 1'
		expect_match "policymap_realtime, RLIMIT_RTPRIO not raisable: and what it means" \
		    "$(cat "$A/milter.log")" 'policymap: policymap_realtime: reactors at normal priority \(Operation not permitted; '
	fi
	for s in milter.sock policymap.sock policymap2.sock tlsrpt.sock; do
		expect_eq "$s: $USR:$GRP, mode 660" \
		    "$(stat -c '%U:%G %a %F' "$A/$s")" "$USR:$GRP 660 socket"
	done
	expect_eq "state_dir closed to others (was 755)" "$(stat -c '%U %a' "$A/state")" "$USR 750"
	expect_eq "the journal is $USR's" "$(stat -c '%U' "$A/state/journal")" "$USR"
	if getent passwd postfix >/dev/null && [ "$GRP" = postfix ]; then
		expect_eq "user postfix (group $GRP) queries the policy map" \
		    "$(runuser -u postfix -- python3 "$PROBE" socketmap "$A/policymap.sock" postfix no-such-domain.invalid 2>&1)" \
		    "NOTFOUND "
		expect_match "user postfix talks milter" \
		    "$(runuser -u postfix -- python3 "$PROBE" optneg "$A/milter.sock" 2>&1)" '^version=[2-6] '
	else
		skip "postfix connects" "no postfix user"
	fi
	expect_match "user $OTHER is refused (policy map)" \
	    "$(runuser -u "$OTHER" -- python3 "$PROBE" socketmap "$A/policymap.sock" postfix x.invalid 2>&1)" \
	    '[Pp]ermission denied'
	expect_match "user $OTHER is refused (milter)" \
	    "$(runuser -u "$OTHER" -- python3 "$PROBE" optneg "$A/milter.sock" 2>&1)" '[Pp]ermission denied'
	expect_match "user $OTHER cannot read state_dir" \
	    "$(runuser -u "$OTHER" -- ls "$A/state" 2>&1)" '[Pp]ermission denied'
	stop "$PID"
else
	fail "sts-milter starts as root with user = $USR" "$(tail -3 "$A/milter.log")"
fi

# socket_mode: what the operator says
B=$WORK/mode
conf "$B" "user = $USR" "socket_mode = 0600"
if start "$B"; then
	expect_eq "socket_mode = 0600: policy map $USR:$(id -gn "$USR") 600" \
	    "$(stat -c '%U:%G %a' "$B/policymap.sock")" "$USR:$(id -gn "$USR") 600"
	# SIGHUP: the sockets exist, the new mode is for the next start
	reload_says "$B" 's/^socket_mode = 0600$/socket_mode = 0666/' socket_mode
	stop "$PID"
else
	fail "sts-milter starts with socket_mode = 0600" "$(tail -3 "$B/milter.log")"
fi

# policymap_realtime = no: reactors at normal priority, nothing said
N=$WORK/nort
conf "$N" "policymap_realtime = no"
if start "$N"; then
	expect_eq "policymap_realtime = no: reactors at normal priority" \
	    "$(pmap_sched "$PID")" "0 0"
	expect_eq "policymap_realtime = no: no word of it in the log" \
	    "$(grep -c 'SCHED_RR\|policymap_realtime' "$N/milter.log")" 0
	reload_says "$N" 's/^policymap_realtime = no$/policymap_realtime = yes/' policymap_realtime
	stop "$PID"
else
	fail "sts-milter starts with policymap_realtime = no" "$(tail -3 "$N/milter.log")"
fi

# --- started as the user (systemd's User=) ------------------------------
# as_user NAME [key = value ...]: a daemon of its own in $WORK/NAME whose
# directories are $USR's, started as $USR; returns as start does
as_user() {
	local d=$WORK/$1; shift
	conf "$d" "$@"
	mkdir -p "$d/state"
	chown "$USR" "$d" "$d/state"
	start "$d" setpriv --reuid="$USR" --regid="$GID_" --clear-groups
}
if as_user asuser "user = $USR"; then
	pass "sts-milter starts as $USR with user = $USR"
	expect_eq "it runs as $USR" "$(field "$PID" Uid | tr -s '\t ' ' ')" "$UID_ $UID_ $UID_ $UID_"
	expect_eq "its policy map: $USR:$(id -gn "$USR") 660" \
	    "$(stat -c '%U:%G %a' "$WORK/asuser/policymap.sock")" "$USR:$(id -gn "$USR") 660"
	# no LimitRTPRIO= here: refused, said, and served all the same
	if [ "$(ulimit -r)" = 0 ]; then
		expect_eq "as $USR, RLIMIT_RTPRIO 0: reactors at normal priority" \
		    "$(pmap_sched "$PID")" "0 0"
		expect_match "as $USR, RLIMIT_RTPRIO 0: the log says what to do" \
		    "$(cat "$WORK/asuser/milter.log")" 'reactors at normal priority \(Operation not permitted; allow SCHED_RR 1: .*LimitRTPRIO=1'
	fi
	stop "$PID"
else
	fail "sts-milter starts as $USR with user = $USR" "$(tail -3 "$WORK/asuser/milter.log")"
fi
if as_user notmember "user = $USR" "socket_group = $GRP"; then
	fail "socket_group $GRP, not $USR's: refused" "it started"
	stop "$PID"
else
	wait "$PID" 2>/dev/null
	expect_match "socket_group $GRP, not $USR's: a start-up error that says why" \
	    "$(cat "$WORK/notmember/milter.log")" \
	    "milter_socket unix:$WORK/notmember/milter.sock: .*cannot give it to .*socket_group"
fi
if as_user other "user = root"; then
	stop "$PID"
	fail "started as $USR with user = root: refused"
else
	wait "$PID" 2>/dev/null
	expect_match "started as $USR with user = root: refused" \
	    "$(cat "$WORK/other/milter.log")" "neither root nor user root"
fi
echo 'socket_group = no-such-group-here' > "$WORK/bad.conf"
expect_match "sts-milter -n: socket_group no-such-group-here is an error" \
    "$("$MILTER" -n -c "$WORK/bad.conf" 2>&1)" 'socket_group no-such-group-here: no such group'

done_tests t_priv
