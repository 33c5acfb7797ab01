#!/bin/bash
# t_deb.sh - the Debian package (issue 13): "make deb" builds it
# (lintian: no errors, no warnings), then it goes into a fresh Debian 12
# root (debootstrap --variant=minbase bookworm, cached as a tarball under
# $T_DEB_CACHE) with "apt-get install ./sts-milter_*.deb", so that its
# dependencies come from Debian's archive.  Inside the root (chroot, a
# private mount and UTS namespace, /proc mounted, no init): the files,
# user, state directory and enabled units are there; "sts-milter -n"
# passes; the daemon starts as its user and answers a policy-map lookup
# (every flavour's "no policy") and a milter negotiation; "stsctl status"
# sees it; "tlsrpt-reporter --dry-run" runs.  An upgrade to a second
# build (a higher version) keeps an edited conffile and the state
# directory; "remove" keeps user and state; "purge" removes all of it.
#
# Needs root, debootstrap, dpkg-buildpackage, unshare and the Debian
# mirror (as apt on this machine reaches it); nothing else from the
# network.  Cold (no cached root): ~2 min more for debootstrap.
# run-tests: host (it needs the network: apt and debootstrap reach Debian's mirror)
. "$(dirname "$0")/../lib.sh"
PROBE=$ROOT/tests/tools/mta-probe.py
unset MAKEFLAGS MFLAGS MAKELEVEL	# make check's jobserver is not ours
CACHE=${T_DEB_CACHE:-/var/cache/sts-milter-tests}
TARBALL=$CACHE/bookworm-minbase.tar.gz
APT_DEBS=$CACHE/bookworm-apt/archives	# .debs the root downloaded
APT_LISTS=$CACHE/bookworm-apt/lists	# and its package lists

for cmd in debootstrap dpkg-buildpackage unshare chroot /usr/bin/python3; do
	command -v "$cmd" >/dev/null || { skip "t_deb" "$cmd missing (make deps)"
		done_tests t_deb; exit; }
done
if [ "$(id -u)" -ne 0 ]; then
	skip "t_deb" "needs root (debootstrap, chroot)"; done_tests t_deb; exit
fi
# Our own mount and UTS namespaces: /proc in the root and the host name
# vanish with this script.
if [ -z "$T_DEB_NS" ]; then
	exec env T_DEB_NS=1 unshare --mount --uts --propagation private \
	    bash "$0" "$@"
fi

WORK=$(mktemp -d /tmp/t_deb.XXXXXX)
R=$WORK/root
T0=$(date +%s)

# in_root CMD...: a shell command line inside the root
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LC_ALL=C DEBIAN_FRONTEND=noninteractive sh -c "$*"; }
daemon_pid() { cat "$R/run/sts-milter/sts-milter.pid" 2>/dev/null; }
# alive PID: running and not a zombie (our pid 1 may not reap orphans)
alive() { [ -n "$1" ] && [ -e "/proc/$1" ] &&
    ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
stop_daemon() {
	local pid; pid=$(daemon_pid)
	alive "$pid" || return 0
	kill "$pid"
	for _ in $(seq 50); do alive "$pid" || return 0; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null; return 1
}
cleanup() {
	stop_daemon
	umount "$R/proc" 2>/dev/null
	if mountpoint -q "$R/proc"; then
		echo "t_deb: $R/proc still mounted; leaving $WORK"
	else
		rm -rf --one-file-system "$WORK"
	fi
}
trap cleanup EXIT

# --- the package, twice: the tree's version, and a higher one ---------
V=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")
V2=$V+upgradetest1
ok "make deb ($V, lintian clean)" make -C "$ROOT" --no-print-directory \
    deb BUILD="$WORK/b1"
ok "make deb ($V2)" make -C "$ROOT" --no-print-directory \
    deb BUILD="$WORK/b2" DEB_VERSION="$V2" LINTIAN=:
DEB1=$(ls "$WORK"/b1/deb/sts-milter_"$V"_*.deb 2>/dev/null)
DEB2=$(ls "$WORK"/b2/deb/sts-milter_"$V2"_*.deb 2>/dev/null)
if [ ! -f "$DEB1" ] || [ ! -f "$DEB2" ]; then
	fail "packages built" "no $WORK/b*/deb/sts-milter_*.deb"
	done_tests t_deb; exit
fi
echo "     built in $(( $(date +%s) - T0 )) s"

# --- a fresh Debian 12 root, from the cache or debootstrap -------------
mirror() {	# the host's Debian mirror, for debootstrap
	local u
	u=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list \
	    /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources |
	    grep -v security | sed -E 's/^deb (\[[^]]*\] )?//; s/^URIs: *//' |
	    awk '{print $1}' | grep -m1 -E '/debian/?$')
	echo "${u:-http://deb.debian.org/debian}"
}
mkdir -p "$CACHE" "$APT_DEBS/partial" "$APT_LISTS/partial"
exec 9>"$CACHE/bookworm-minbase.lock"
flock 9
if [ ! -s "$TARBALL" ]; then
	T1=$(date +%s)
	tmp=$CACHE/bookworm-minbase.tmp.$$
	rm -rf --one-file-system "$tmp"
	if debootstrap --variant=minbase bookworm "$tmp" "$(mirror)" \
	    >"$WORK/debootstrap.log" 2>&1 &&
	    tar -C "$tmp" -czf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"; then
		echo "     debootstrap + cache: $(( $(date +%s) - T1 )) s"
	else
		tail -5 "$WORK/debootstrap.log"
		rm -f "$TARBALL.tmp"
	fi
	rm -rf --one-file-system "$tmp"
fi
if [ ! -s "$TARBALL" ]; then
	fail "a Debian 12 root" "debootstrap failed (log above)"
	done_tests t_deb; exit
fi
mkdir "$R" && tar -C "$R" -xzf "$TARBALL"
# apt as on the host: its sources (and their keyrings), its Acquire
# settings (proxy, mirror quirks), its resolver
rm -f "$R/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	mkdir -p "$R$(dirname "$f")" && cp "$f" "$R$f"
	for k in $(grep -hoiE '(signed-by[:=] *)/[^] ]+' "$f" | sed -E 's/.*[:=] *//'); do
		[ -f "$k" ] && [ ! -e "$R$k" ] && mkdir -p "$R$(dirname "$k")" && cp "$k" "$R$k"
	done
done
for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
	[ -f "$f" ] && grep -qi 'acquire' "$f" && cp "$f" "$R$f"
done
cp /etc/resolv.conf "$R/etc/resolv.conf"
# debootstrap removed its policy-rc.d: no service starts from a package
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
cp -a "$APT_LISTS/." "$R/var/lib/apt/lists/"
cp -a "$APT_DEBS/." "$R/var/cache/apt/archives/"
mount -t proc proc "$R/proc"
hostname mta.example.test		# an FQDN, as on a mail server
cp "$DEB1" "$DEB2" "$R/tmp/"
D1=${DEB1##*/} D2=${DEB2##*/}

# --- install ------------------------------------------------------------
T1=$(date +%s)
in_root "apt-get -q update" >"$WORK/apt.log" 2>&1
ok "apt-get install ./$(basename "$DEB1")" \
    in_root "cd /tmp && apt-get install -y -q ./$D1 </dev/null >>/tmp/apt.log 2>&1"
cat "$R/tmp/apt.log" >>"$WORK/apt.log"
# keep what apt fetched for the next run
cp -a "$R/var/lib/apt/lists/." "$APT_LISTS/" 2>/dev/null
cp -a "$R/var/cache/apt/archives/." "$APT_DEBS/" 2>/dev/null
flock -u 9
echo "     apt-get update + install: $(( $(date +%s) - T1 )) s"
expect_eq "dpkg: installed, version $V" \
    "$(in_root "dpkg-query -W -f='\${Status} \${Version}' sts-milter")" \
    "install ok installed $V"
if [ "$T_FAIL" -gt 0 ]; then
	tail -20 "$WORK/apt.log"; done_tests t_deb; exit
fi

for f in /usr/sbin/sts-milter /usr/sbin/tlsrpt-reporter /usr/bin/stsctl; do
	ok "$f is executable" test -x "$R$f"
done
for f in /usr/share/man/man8/sts-milter.8.gz /usr/share/man/man8/stsctl.8.gz \
    /usr/share/man/man8/tlsrpt-reporter.8.gz \
    /usr/share/doc/sts-milter/examples/postfix-main.cf \
    /usr/share/doc/sts-milter/examples/postfix-master.cf \
    /usr/share/doc/sts-milter/examples/sendmail-sts.mc \
    /usr/share/doc/sts-milter/examples/exim/sts-milter.conf \
    /usr/share/doc/sts-milter/examples/tlsrpt-reporter.cron \
    /lib/systemd/system/sts-milter.service \
    /lib/systemd/system/tlsrpt-reporter.service \
    /lib/systemd/system/tlsrpt-reporter.timer; do
	ok "$f" test -s "$R$f"
done
expect_match "conffile /etc/sts-milter/sts-milter.conf" \
    "$(in_root "dpkg-query -W -f='\${Conffiles}' sts-milter")" \
    '^ ?/etc/sts-milter/sts-milter.conf [0-9a-f]{32}'
expect_match "the units run the installed programs" \
    "$(grep -h '^ExecStart=' "$R"/lib/systemd/system/sts-milter.service \
    "$R"/lib/systemd/system/tlsrpt-reporter.service | tr '\n' ' ')" \
    '^ExecStart=/usr/sbin/sts-milter -f -s ExecStart=/usr/sbin/tlsrpt-reporter $'
ok "ExecReload's /bin/kill is there (procps)" test -x "$R/bin/kill"
ok "cron sample names /usr/sbin/tlsrpt-reporter" \
    grep -q '[[:space:]]/usr/sbin/tlsrpt-reporter$' \
    "$R/usr/share/doc/sts-milter/examples/tlsrpt-reporter.cron"
ok "sts-milter.service enabled (multi-user.target)" \
    test -L "$R/etc/systemd/system/multi-user.target.wants/sts-milter.service"
ok "tlsrpt-reporter.timer enabled (timers.target)" \
    test -L "$R/etc/systemd/system/timers.target.wants/tlsrpt-reporter.timer"
expect_match "tmpfiles.d entry for /run/sts-milter" \
    "$(grep -v '^#' "$R/usr/lib/tmpfiles.d/sts-milter.conf" 2>/dev/null)" \
    '^d /run/sts-milter 0755 sts-milter sts-milter'

UID_=$(in_root "id -u sts-milter" 2>/dev/null)
GID_=$(in_root "getent group sts-milter | cut -d: -f3" 2>/dev/null)
expect_match "system user sts-milter" "$UID_" '^[0-9]+$'
expect_match "system group sts-milter" "$GID_" '^[0-9]+$'
expect_eq "its primary group and shell" \
    "$(in_root "getent passwd sts-milter | cut -d: -f4,6,7")" \
    "$GID_:/var/lib/sts-milter:/usr/sbin/nologin"
[ -n "$UID_" ] && [ "$UID_" -lt 1000 ] && pass "a system uid ($UID_)" ||
    fail "a system uid" "uid '$UID_'"
expect_eq "/var/lib/sts-milter: sts-milter:sts-milter 750" \
    "$(in_root "stat -c '%U:%G %a' /var/lib/sts-milter")" "sts-milter:sts-milter 750"

# --- the programs ---------------------------------------------------------
CHECK=$(in_root "sts-milter -n" 2>&1)
expect_match "sts-milter -n: configuration OK" "$CHECK" 'configuration OK$'
expect_match "sts-milter -n: user = sts-milter (the package's)" "$CHECK" \
    '(^|[[:space:]])user = sts-milter'
expect_match "sts-milter -n: the package's paths are the defaults" \
    "$(printf '%s\n' "$CHECK" | grep -E '^(state_dir|milter_socket|policymap_socket|pid_file) =' | tr '\n' ' ')" \
    '^state_dir = /var/lib/sts-milter milter_socket = unix:/run/sts-milter/milter.sock policymap_socket = unix:/run/sts-milter/policymap.sock pid_file = /run/sts-milter/sts-milter.pid $'
for p in sts-milter stsctl tlsrpt-reporter; do
	expect_eq "$p -V: version $V" "$(in_root "$p -V" 2>&1 | head -1)" "$p $V"
done

start_daemon() {
	in_root "sts-milter" 2>>"$WORK/daemon.err"
	for _ in $(seq 100); do
		[ -S "$R/run/sts-milter/policymap.sock" ] && alive "$(daemon_pid)" &&
		    [ -s "$R/var/lib/sts-milter/status.json" ] && return 0
		sleep 0.1
	done
	return 1
}
# daemon_checks VERSION: the running daemon as an MTA and stsctl see it
daemon_checks() {
	local pid; pid=$(daemon_pid)
	expect_eq "daemon runs as sts-milter (uid $UID_) [$1]" \
	    "$(awk '/^Uid:/ {print $2 $3 $4 $5}' "/proc/$pid/status" 2>/dev/null)" \
	    "$UID_$UID_$UID_$UID_"
	expect_eq "daemon is /usr/sbin/sts-milter [$1]" \
	    "$(readlink "/proc/$pid/exe" 2>/dev/null)" "$R/usr/sbin/sts-milter"
	# each flavour's "no policy" for an unknown domain (replies in [])
	while IFS='|' read -r proto req want; do
		# shellcheck disable=SC2086 # req: map name and key, or a line
		expect_eq "policy map, $proto '$req' -> $want [$1]" \
		    "[$("$PROBE" "$proto" "$R/run/sts-milter/policymap.sock" $req 2>&1)]" \
		    "$want"
	done <<-EOF
	socketmap|postfix no-such-domain.invalid|[NOTFOUND ]
	socketmap|sendmail no-such-domain.invalid|[NOTFOUND ]
	readsocket|no-such-domain.invalid|[none]
	EOF
	expect_match "milter: SMFIC_OPTNEG answered, RCPT wanted [$1]" \
	    "$("$PROBE" optneg "$R/run/sts-milter/milter.sock" 2>&1)" \
	    '^version=[2-6] actions=0x[0-9a-f]+ protocol=0x[0-9a-f]+$'
	expect_match "stsctl status: running, pid $pid [$1]" \
	    "$(in_root "stsctl status" 2>&1)" "^\\{\"pid\":$pid,.*\"running\":true"
}
if start_daemon; then
	pass "sts-milter starts (pid $(daemon_pid))"
	daemon_checks "$V"
else
	fail "sts-milter starts" "$(tail -3 "$WORK/daemon.err")"
fi
# the reporter as the timer runs it: as the user, in the state directory
ok "tlsrpt-reporter --dry-run (as sts-milter)" \
    chroot --userspec=sts-milter:sts-milter "$R" /usr/sbin/tlsrpt-reporter --dry-run
ok "sts-milter stops on SIGTERM" stop_daemon

# --- upgrade: an edited conffile and the state directory are kept ------
CONF=$R/etc/sts-milter/sts-milter.conf
sed -i 's/^#log_level = 0$/log_level = 1/' "$CONF"
echo "# edited by t_deb" >> "$CONF"
EDITED=$(md5sum < "$CONF")
in_root "echo kept > /var/lib/sts-milter/t_deb.marker && chown sts-milter: /var/lib/sts-milter/t_deb.marker"
ok "apt-get install ./$(basename "$DEB2") (upgrade)" \
    in_root "cd /tmp && apt-get install -y -q ./$D2 </dev/null >>/tmp/apt.log 2>&1"
expect_eq "dpkg: upgraded to $V2" \
    "$(in_root "dpkg-query -W -f='\${Status} \${Version}' sts-milter")" \
    "install ok installed $V2"
expect_eq "edited conffile kept" "$(md5sum < "$CONF")" "$EDITED"
ok "no .dpkg-new/.dpkg-dist beside it" \
    sh -c "! ls '$R/etc/sts-milter/' | grep -q dpkg"
expect_eq "state directory kept (marker, owner, mode)" \
    "$(in_root "cat /var/lib/sts-milter/t_deb.marker; stat -c '%U:%G %a' /var/lib/sts-milter")" \
    "kept
sts-milter:sts-milter 750"
expect_eq "same uid after the upgrade" "$(in_root "id -u sts-milter")" "$UID_"
expect_match "sts-milter -n after the upgrade: the edit is in force" \
    "$(in_root "sts-milter -n" 2>&1 | tr '\n' ' ')" 'log_level = 1 .*configuration OK $'
expect_eq "sts-milter -V: version $V2" \
    "$(in_root "sts-milter -V" 2>&1 | head -1)" "sts-milter $V2"
if start_daemon; then
	pass "upgraded sts-milter starts"
	daemon_checks "$V2"
else
	fail "upgraded sts-milter starts" "$(tail -3 "$WORK/daemon.err")"
fi
ok "sts-milter stops on SIGTERM (upgraded)" stop_daemon

# --- remove keeps user and state, purge removes everything -------------
ok "dpkg --remove sts-milter" in_root "dpkg --remove sts-milter >/dev/null"
ok "remove: user kept" in_root "getent passwd sts-milter >/dev/null"
ok "remove: state directory kept" test -f "$R/var/lib/sts-milter/t_deb.marker"
ok "remove: conffile kept" test -f "$CONF"
ok "dpkg --purge sts-milter" in_root "dpkg --purge sts-milter >/dev/null"
ok "purge: user gone" in_root "! getent passwd sts-milter"
ok "purge: group gone" in_root "! getent group sts-milter"
ok "purge: /var/lib/sts-milter gone" test ! -e "$R/var/lib/sts-milter"
ok "purge: /etc/sts-milter gone" test ! -e "$R/etc/sts-milter"
ok "purge: /run/sts-milter gone" test ! -e "$R/run/sts-milter"
ok "purge: dpkg knows no sts-milter" in_root "! dpkg-query -W sts-milter 2>/dev/null"
LEFT=$(find "$R" -xdev \( -path "$R/proc" -o -path "$R/tmp" \
    -o -path "$R/var/cache/apt" -o -path "$R/var/log" \) -prune -o \
    \( -name '*sts-milter*' -o -name '*tlsrpt*' -o -name '*stsctl*' \
    -o -uid "${UID_:-999999}" -o -gid "${GID_:-999999}" \) -print 2>/dev/null | sed "s|^$R||")
expect_eq "purge: nothing named after it or owned by its user is left" "$LEFT" ""

echo "     t_deb took $(( $(date +%s) - T0 )) s"
done_tests t_deb
