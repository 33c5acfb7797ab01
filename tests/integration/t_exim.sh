#!/bin/bash
# t_exim.sh - Debian's Exim (exim4-daemon-heavy) as the sending MTA with
# conf/exim/sts-milter.conf, answered by the real sts-milter's
# policy-map listener (issue 5): the good enforce domain is delivered
# over verified TLS, enforce domains whose MX certificate is bad or
# whose MX matches no policy pattern are deferred by Exim itself (the
# message stays in Exim's queue), testing and no-policy domains are
# delivered with opportunistic TLS.
#
# Debian's MTA packages conflict (installing Exim removes Postfix), so
# Exim is unpacked privately (LAB-NOTES "Exim beside Postfix"): the
# .debs are fetched with apt-get download into $EXIM_CACHE (kept for
# the next run), dpkg -x'd into this run's directory, the libraries the
# binary links are installed with apt-get when missing, and the
# Debian-exim user it was built for is created.  Exim runs as root with
# -C (its own spool, log and exim_user), in a private mount namespace
# whose /etc/resolv.conf names the lab resolver.  It sends from
# 127.0.5.1 (interface = on its smtp transports, the only line the test
# adds to the fragment) so the lab MX log shows which connections were
# Exim's.
# run-tests: host (it needs the network: apt-get download of Exim's packages, when not cached)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
MILTER=$BUILD/sts-milter
FRAGMENT=$ROOT/conf/exim/sts-milter.conf
EXIM_CACHE=${EXIM_CACHE:-/var/cache/sts-milter-tests/exim}
EXIM_PKGS="exim4-daemon-heavy exim4-base"
SRC_IP=127.0.5.1

[ "$(id -u)" -eq 0 ] || { skip "exim" "needs root"; done_tests t_exim; exit; }
[ -x "$MILTER" ] || { fail "sts-milter built" "$MILTER missing"; done_tests t_exim; exit; }

# --- Exim packages (cached), their libraries, the Debian-exim user
newest_deb() { ls "$EXIM_CACHE/$1"_*.deb 2>/dev/null | sort -V | tail -n 1; }
fetch_debs() {
	local p missing=
	for p in $EXIM_PKGS; do [ -n "$(newest_deb "$p")" ] || missing="$missing $p"; done
	[ -z "$missing" ] && return 0
	mkdir -p "$EXIM_CACHE" || return 1
	# apt-get download as root into a root-only directory: no _apt sandbox
	(cd "$EXIM_CACHE" && apt-get -q -o APT::Sandbox::User=root download $missing) ||
	    { apt-get -qq update && (cd "$EXIM_CACHE" &&
	    apt-get -q -o APT::Sandbox::User=root download $missing); }
}
if ! FETCH_LOG=$(fetch_debs 2>&1); then
	printf '%s\n' "$FETCH_LOG" | tail -n 5 | sed 's/^/  apt: /'
	skip "exim" "could not download $EXIM_PKGS (no Debian mirror?)"
	done_tests t_exim; exit
fi
DAEMON_DEB=$(newest_deb exim4-daemon-heavy)
# the daemon's library dependencies (first alternatives; exim4-base is
# unpacked, debconf is not needed): install the missing ones
lib_deps() {
	dpkg-deb -f "$DAEMON_DEB" Depends | tr ',' '\n' |
	    sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' |
	    grep -Ev '^(exim4-base|debconf.*|)$'
}
LIBS_MISSING=
for p in $(lib_deps); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    LIBS_MISSING="$LIBS_MISSING $p"
done
if [ -n "$LIBS_MISSING" ]; then
	echo "t_exim: installing$LIBS_MISSING"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $LIBS_MISSING >/dev/null 2>&1 ||
	{ apt-get -qq update >/dev/null 2>&1 &&
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $LIBS_MISSING >/dev/null 2>&1; } ||
	    echo "t_exim: apt-get install$LIBS_MISSING failed"
fi
getent group Debian-exim >/dev/null || groupadd --system Debian-exim
getent passwd Debian-exim >/dev/null ||
    useradd --system -g Debian-exim -d /nonexistent -M -s /usr/sbin/nologin Debian-exim

lab_up || { echo "t_exim: 0 passed, 1 failed"; exit 1; }
trap 'exit 130' INT TERM HUP		# run lab_down (EXIT) on signals too
"$LAB" mx-count probe@mismatch.test >/dev/null 2>&1 ||
    { skip "exim" "this lab has no MX hosts"; done_tests t_exim; exit; }

chmod 755 "$WORK"		# Debian-exim reaches the socket and the CA
W=$WORK/exim
SOCK=$W/policymap.sock
mkdir -p "$W/state" "$W/root" "$W/spool" "$W/log" "$W/t2/state"
chmod 755 "$W"
for deb in "$DAEMON_DEB" "$(newest_deb exim4-base)"; do dpkg -x "$deb" "$W/root"; done
EXIM=$W/root/usr/sbin/exim4
chown Debian-exim:Debian-exim "$W/spool" "$W/log"
MISSING_SO=$(ldd "$EXIM" 2>&1 | grep 'not found' | awk '{print $1}' | tr '\n' ' ')
expect_eq "exim4 links (ldd: nothing missing)" "$MISSING_SO" ""

# --- the daemon (own state, own socket), and one that sees DNS fail
[ -s "$LAB_CONF" ] || {		# a lab still starting: its resolver and CA
	LAB_CONF=$W/lab.conf
	printf 'dns_resolvers = %s:%s\nca_file = %s\n' "${LAB_DNS:-127.0.2.1}" \
	    "${LAB_DNS_PORT:-53}" "$LAB_DIR/ca/root.pem" > "$LAB_CONF"
}
C=$W/sts-milter.conf
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|pid_file|socket_group)[ =]' "$LAB_CONF"
	cat <<EOF
socket_group = Debian-exim
state_dir = $W/state
fetch_timeout = 4s
milter_socket = unix:$W/milter.sock
policymap_socket = unix:$SOCK
pid_file = $W/sts-milter.pid
EOF
} > "$C"
{
	grep -Ev '^(state_dir|milter_socket|policymap_socket|pid_file|dns_resolvers|socket_group)[ =]' "$LAB_CONF"
	cat <<EOF
socket_group = Debian-exim
dns_resolvers = 127.0.2.99:53
dns_timeout = 1s
policymap_tempfail = yes
state_dir = $W/t2/state
milter_socket = unix:$W/t2/milter.sock
policymap_socket = unix:$W/t2/policymap.sock
pid_file = $W/t2/sts-milter.pid
EOF
} > "$W/t2/sts-milter.conf"
PID= PID2= PID3= EXPID=
exim_cleanup() {
	[ -n "$EXPID" ] && kill -- -"$EXPID" 2>/dev/null
	for p in $PID $PID2 $PID3; do kill "$p" 2>/dev/null; done
	for p in $PID $PID2 $PID3; do wait "$p" 2>/dev/null; done
}
LAB_CLEANUP=exim_cleanup
"$MILTER" -f -c "$C" 2>"$W/milter.log" &
PID=$!
"$MILTER" -f -c "$W/t2/sts-milter.conf" 2>"$W/t2/milter.log" &
PID2=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && [ -S "$W/t2/policymap.sock" ] && break; sleep 0.1; done
ok "sts-milter listens" test -S "$SOCK"

# --- the Exim configuration: the test's main section, routers and
# transports around the fragment's parts (split at its "begin" lines)
awk -v d="$W" '
	/^begin[ \t]+[a-z]+/ { part = $2; next }
	{ print > (d "/frag." (part == "" ? "main" : part)) }' "$FRAGMENT"
for p in main acl routers transports; do touch "$W/frag.$p"; done
# exim_conf SOCKET: a complete configuration using the policy map at SOCKET
exim_conf() {
	cat <<EOF
# generated by t_exim.sh around conf/exim/sts-milter.conf
primary_hostname = eximtest.lab.invalid
qualify_domain = eximtest.lab.invalid
domainlist local_domains = @ : localhost
spool_directory = $W/spool
log_file_path = $W/log/%slog
exim_path = $EXIM
exim_user = Debian-exim
exim_group = Debian-exim
keep_environment =
disable_ipv6 = true
host_lookup =
rfc1413_hosts =
dns_retrans = 1s
dns_retry = 2
log_selector = +tls_certificate_verified +tls_peerdn +outgoing_port
STS_SOCKET = $1
STS_CA = $LAB_DIR/ca/root.pem
EOF
	cat "$W/frag.main"
	echo "begin acl"
	cat "$W/frag.acl"
	echo "begin routers"
	cat "$W/frag.routers"
	cat <<'EOF'

dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = remote_smtp
  no_more

EOF
	echo "begin transports"
	sed "s/^\([ \t]*driver[ \t]*=[ \t]*smtp\)[ \t]*$/\1\n  interface = $SRC_IP/" "$W/frag.transports"
	cat <<EOF

# no policy, testing, fail-open: opportunistic TLS, verification tried,
# TLS outcomes reported (the fragment's advice for other transports)
remote_smtp:
  driver = smtp
  interface = $SRC_IP
  multi_domain = false
  tls_verify_certificates = STS_CA
  tls_try_verify_hosts = *
  tls_verify_cert_hostnames = *
  tls_sni = \$host
  event_action = STS_TLSRPT_EVENTS

begin retry
*   *   F,1h,5m
EOF
}
CONF=$W/exim.conf
exim_conf "$SOCK" > "$CONF"
exim_conf "$W/nosuch.sock" > "$W/exim-dead.conf"
exim_conf "$W/t2/policymap.sock" > "$W/exim-temp.conf"
# the policy question answered, the MX question (tcp:connect) not
exim_conf "\${if eq{\$event_name}{tcp:connect}{$W/nosuch.sock}{$SOCK}}" > "$W/exim-vetodead.conf"
printf 'nameserver %s\noptions timeout:1 attempts:2\n' "${LAB_DNS:-127.0.2.1}" > "$W/resolv.conf"

# X [-i INPUT] [-C CONF] ARGS...: Exim in a private mount namespace with
# the lab resolver, in a session of its own (cleanup kills the group)
X() {
	local in=/dev/null conf=$CONF rc
	[ "$1" = -i ] && { in=$2; shift 2; }
	[ "$1" = -C ] && { conf=$2; shift 2; }
	setsid unshare -m --propagation private sh -c \
	    'mount --bind "$0" /etc/resolv.conf && exec "$@"' "${RESOLV:-$W/resolv.conf}" \
	    timeout 30 "$EXIM" -C "$conf" "$@" <"$in" &
	EXPID=$!
	wait "$EXPID"; rc=$?
	EXPID=
	return $rc
}

ok "exim accepts the configuration (-bV)" X -bV
expect_eq "readsocket through the fragment's macros" \
    "$(X -be '${readsocket{STS_SOCKET}{exim enforce.test}{STS_TIMEOUT}{}{none}}')" \
    "enforce domain=enforce.test mx=mx1.enforce.test:mx2.enforce.test id=enf1"

# routing (-bt; also warms the daemon's cache)
route() { X -C "${2:-$CONF}" -bt "$1" 2>&1; }
expect_match "route enforce.test: sts_enforce" "$(route r@enforce.test)" \
    'router = sts_enforce, transport = remote_smtp_sts'
expect_match "route testing.test: normal dnslookup" "$(route r@testing.test)" \
    'router = dnslookup, transport = remote_smtp'
expect_match "route nopolicy.test: normal dnslookup" "$(route r@nopolicy.test)" \
    'router = dnslookup, transport = remote_smtp'
# a policy host that answers 404: routed without a policy (RFC 8461
# 3.3), and the failure journaled by the lookup Exim's router made
expect_match "route notfound.test (policy host 404): normal dnslookup" \
    "$(route r@notfound.test)" 'router = dnslookup, transport = remote_smtp'
expect_match "daemon down: enforce.test fails open" "$(route r@enforce.test "$W/exim-dead.conf")" \
    'router = dnslookup, transport = remote_smtp'
expect_match "temp answer (policymap_tempfail, DNS down): deferred" \
    "$(route r@enforce.test "$W/exim-temp.conf")" \
    'cannot be resolved at this time.*MTA-STS policy of enforce.test unknown'
kill "$PID2" 2>/dev/null	# (it takes seconds to stop: waited for at exit)

# send RCPT: one message, submitted with -bm and delivered at once (-odi)
TAG=ex$$
n=0
send() {
	n=$((n + 1))
	printf 'From: t@eximtest.lab.invalid\nTo: %s\nSubject: exim %d\n\nbody %d\n' \
	    "$1" "$n" "$n" > "$W/msg.$n"
	X -i "$W/msg.$n" -C "${2:-$CONF}" -odi -bm -f t@eximtest.lab.invalid "$1"
}
MXLOG=$LAB_DIR/mx/maillog
mx_conns() { grep -c "mx/$1/smtpd.*connect from [^ ]*\[$SRC_IP\]" "$MXLOG" 2>/dev/null; }
MISMATCH_CONNS=$(mx_conns 'mx\.mismatch\.test')
ENFORCE_CONNS=$(mx_conns 'mx[12]\.enforce\.test')
for d in enforce expired testing mismatch nopolicy wildcard onebad wrongname \
    untrustedmx nostarttls cnonly; do
	ok "exim accepts $TAG@$d.test" send "$TAG@$d.test"
done
ok "exim accepts $TAG-v@enforce.test (MX question unanswered)" \
    send "$TAG-v@enforce.test" "$W/exim-vetodead.conf"
LOG=$W/log/mainlog
QUEUE=$(X -bp 2>&1)
logline() { grep -E -- "$1" "$LOG" | head -n 1; }
inqueue() { printf '%s\n' "$QUEUE" | grep -q "^ *$1\$"; }

# enforce.test: delivered, only over verified TLS
ok "enforce.test delivered" "$LAB" mx-wait "$TAG@enforce.test" 1 20
ok "enforce.test: the MX saw Exim's connection" \
    test "$(mx_conns 'mx[12]\.enforce\.test')" -gt "$ENFORCE_CONNS"
expect_match "enforce.test: verified TLS to the MX (log)" \
    "$(logline "=> $TAG@enforce.test ")" \
    "R=sts_enforce T=remote_smtp_sts H=mx[12]\.enforce\.test \[127\.0\.1\.[12]\]:25 X=TLS[^ ]+:[0-9]+ CV=yes DN=\"CN=mx[12]\.enforce\.test\""

# expired.test (enforce, MX certificate expired): Exim defers on its own
expect_match "expired.test: deferred by Exim, certificate verification failed" \
    "$(logline "== $TAG@expired.test ")" \
    'R=sts_enforce T=remote_smtp_sts defer .*H=mx\.expired\.test .*TLS session: \(certificate verification failed\)'
ok "expired.test: message stays in the queue" inqueue "$TAG@expired.test"
expect_eq "expired.test: not delivered" "$("$LAB" mx-count "$TAG@expired.test")" 0

# testing.test (MX certificate expired): delivered, unverified
ok "testing.test delivered" "$LAB" mx-wait "$TAG@testing.test" 1 20
expect_match "testing.test: normal transport, TLS not verified" \
    "$(logline "=> $TAG@testing.test ")" \
    'R=dnslookup T=remote_smtp H=mx\.testing\.test .* X=TLS[^ ]+ CV=no'

# mismatch.test (enforce; the MX matches no pattern): vetoed, deferred
expect_match "mismatch.test: connection vetoed (reason logged)" \
    "$(logline "H=mx\.mismatch\.test \[127\.0\.1\.27\]: MX host")" \
    'MX host mx\.mismatch\.test does not match the MTA-STS policy of mismatch\.test'
expect_match "mismatch.test: deferred by Exim" "$(logline "== $TAG@mismatch.test ")" \
    'R=sts_enforce T=remote_smtp_sts defer'
ok "mismatch.test: message stays in the queue" inqueue "$TAG@mismatch.test"
expect_eq "mismatch.test: no connection reached its MX" "$(mx_conns 'mx\.mismatch\.test')" "$MISMATCH_CONNS"

# more enforce cases
ok "nopolicy.test delivered" "$LAB" mx-wait "$TAG@nopolicy.test" 1 20
ok "wildcard.test (*.wildcard.test) delivered" "$LAB" mx-wait "$TAG@wildcard.test" 1 20
expect_match "wildcard.test: verified TLS" "$(logline "=> $TAG@wildcard.test ")" \
    'R=sts_enforce T=remote_smtp_sts H=a\.wildcard\.test .* CV=yes'
ok "onebad.test delivered" "$LAB" mx-wait "$TAG@onebad.test" 1 20
expect_match "onebad.test: through the second MX after the first failed" \
    "$(logline "=> $TAG@onebad.test ")" 'R=sts_enforce T=remote_smtp_sts H=mx2\.onebad\.test .* CV=yes'
for d in wrongname untrustedmx; do
	expect_match "$d.test: deferred, certificate verification failed" \
	    "$(logline "== $TAG@$d.test ")" \
	    "R=sts_enforce T=remote_smtp_sts defer .*H=mx\.$d\.test .*certificate verification failed"
done
expect_match "nostarttls.test: deferred, TLS required" "$(logline "== $TAG@nostarttls.test ")" \
    'defer .*a TLS session is required, but the server did not offer TLS support'
expect_match "cnonly.test: CN-only certificate refused" \
    "$(logline 'depth=0: MTA-STS: the certificate of mx\.cnonly\.test')" 'no DNS subjectAltName'
expect_match "cnonly.test: deferred" "$(logline "== $TAG@cnonly.test ")" 'R=sts_enforce T=remote_smtp_sts defer'
for d in wrongname untrustedmx nostarttls cnonly; do
	ok "$d.test: stays in the queue" inqueue "$TAG@$d.test"
	expect_eq "$d.test: not delivered" "$("$LAB" mx-count "$TAG@$d.test")" 0
done
# enforce domain, daemon gone at connect time: no MX is used unchecked
expect_match "MX question unanswered: host not used" \
    "$(logline 'H=mx1\.enforce\.test \[127\.0\.1\.1\]: MTA-STS: cannot check')" \
    'cannot check MX host mx1\.enforce\.test against the policy of enforce\.test: no answer from sts-milter'
expect_match "MX question unanswered: deferred" "$(logline "== $TAG-v@enforce.test ")" \
    'R=sts_enforce T=remote_smtp_sts defer'
ok "MX question unanswered: stays in the queue" inqueue "$TAG-v@enforce.test"
expect_eq "MX question unanswered: not delivered" "$("$LAB" mx-count "$TAG-v@enforce.test")" 0
ok "no cleartext delivery of an enforce domain" \
    sh -c "! grep -E '=> [^ ]+ R=sts_enforce .*' '$LOG' | grep -qv ' X=TLS'"
# (re-executed as Debian-exim, Exim notes that -C cost it root: harmless
# for remote deliveries, and the only line expected there)
# --- TLS-RPT: every session above journaled by the daemon (src exim)
J=$("$BUILD/stsctl" -c "$C" journal 2>&1)
jrec() {	# DOMAIN: "result mx reason" of its exim sessions, sorted
	printf '%s\n' "$J" | "$PY" -c '
import json, sys
d = sys.argv[1]
out = []
for l in sys.stdin:
    try: r = json.loads(l)
    except ValueError: continue
    if r.get("src") == "exim" and r.get("domain") == d:
        out.append("%s %s %s %s" % (r["result"], r.get("mx", "-"), r.get("reason", "-"), r.get("ptype")))
print(";".join(sorted(out)))' "$1"
}
PY=/usr/bin/python3
expect_match "tlsrpt: enforce.test success over verified TLS" "$(jrec enforce.test)" \
    '^success mx[12]\.enforce\.test - sts(;success mx[12]\.enforce\.test - sts)*$'
expect_eq "tlsrpt: expired.test certificate-expired" "$(jrec expired.test)" \
    "certificate-expired mx.expired.test expired sts"
expect_eq "tlsrpt: wrongname.test certificate-host-mismatch" "$(jrec wrongname.test)" \
    "certificate-host-mismatch mx.wrongname.test no-matching-dns-name sts"
expect_eq "tlsrpt: untrustedmx.test certificate-not-trusted" "$(jrec untrustedmx.test)" \
    "certificate-not-trusted mx.untrustedmx.test chain-not-verified sts"
expect_eq "tlsrpt: nostarttls.test starttls-not-supported" "$(jrec nostarttls.test)" \
    "starttls-not-supported mx.nostarttls.test - sts"
expect_eq "tlsrpt: cnonly.test host mismatch (no DNS name)" "$(jrec cnonly.test)" \
    "certificate-host-mismatch mx.cnonly.test no-dns-subjectaltname sts"
expect_eq "tlsrpt: mismatch.test MX outside the policy (daemon's veto)" "$(jrec mismatch.test)" \
    "validation-failure mx.mismatch.test mx-host-not-in-policy sts"
# the fragment passes $host_address with the veto question: the session
# names the address Exim would have used, and ours towards it (RFC 8460 4.3)
expect_eq "tlsrpt: the veto names receiving-ip and sending-mta-ip" \
    "$(printf '%s\n' "$J" | jq -r 'select(.src == "exim" and .domain == "mismatch.test") | "\(.rip) \(.sip)"' 2>/dev/null | sort -u)" \
    "127.0.1.27 127.0.0.1"
{ cat "$C"; echo "report_clock = $(date -u -d tomorrow +%F)T00:30:00Z"; echo "report_contact = tlsrpt@sender.test"; } > "$W/r.conf"
"$BUILD/tlsrpt-reporter" -c "$W/r.conf" --dry-run --domain mismatch.test > "$W/dry.out" 2> "$W/dry.err"
expect_match "report of mismatch.test: the veto's failure detail with both addresses" \
    "$("$PY" "$ROOT/tests/tools/report-details.py" "$W/dry.out" | grep -v ' summary ')" \
    "^mismatch.test validation-failure mx.mismatch.test 127.0.1.27 127.0.0.1 [0-9]+ mx-host-not-in-policy$"
expect_eq "tlsrpt: onebad.test: the expired MX, then the good one" "$(jrec onebad.test)" \
    "certificate-expired mx1.onebad.test expired sts;success mx2.onebad.test - sts"
expect_eq "tlsrpt: testing.test (other transport) certificate-expired" "$(jrec testing.test)" \
    "certificate-expired mx.testing.test expired sts"
expect_eq "tlsrpt: nopolicy.test journaled as no-policy-found" "$(jrec nopolicy.test)" \
    "success mx.nopolicy.test - no-policy-found"
expect_eq "tlsrpt: notfound.test policy fetch failure journaled (map lookup)" \
    "$(printf '%s\n' "$J" | jq -r 'select(.domain == "notfound.test") | "\(.src) \(.result)"' 2>/dev/null | sort -u | paste -sd';')" \
    "fetch sts-policy-fetch-error"
expect_match "notfound.test: the reason is the HTTP status" \
    "$(printf '%s\n' "$J" | jq -r 'select(.domain == "notfound.test") | .reason' 2>/dev/null | head -n 1)" \
    'HTTP status 404'
# --- DANE (issue 10, STS-DANE-1): the lab's signed zones (nsd behind the
# validating unbound, the lab's trust anchor).  A daemon that validates
# DNSSEC answers "dane-only"/"dane"/"temp DANE: ..." for them; Exim asks
# the validating resolver, whose AD bit glibc passes on (trust-ad), and
# its own DANE (hosts_require_dane / hosts_try_dane in remote_smtp_dane)
# verifies the MX hosts.
LAB_DNSSEC=$(. "$LAB_DIR/env" 2>/dev/null && echo "${LAB_DNSSEC:-}")
if [ -n "$LAB_DNSSEC" ] && "$LAB" mx-count probe@ee.dane.test >/dev/null 2>&1; then
	D3=$W/t3
	mkdir -p "$D3/state"
	{
		grep -Ev '^(state_dir|milter_socket|policymap_socket|pid_file|dns_resolvers|socket_group)[ =]' "$LAB_CONF"
		cat <<EOF
socket_group = Debian-exim
dns_resolvers = $LAB_DNSSEC:${LAB_DNS_PORT:-53}
fetch_timeout = 4s
state_dir = $D3/state
milter_socket = unix:$D3/milter.sock
policymap_socket = unix:$D3/policymap.sock
pid_file = $D3/sts-milter.pid
EOF
	} > "$D3/sts-milter.conf"
	"$MILTER" -f -c "$D3/sts-milter.conf" 2>"$D3/milter.log" &
	PID3=$!
	for _ in $(seq 50); do [ -S "$D3/policymap.sock" ] && break; sleep 0.1; done
	ok "DANE: sts-milter with the lab's trust anchor listens" test -S "$D3/policymap.sock"
	DCONF=$W/exim-dane.conf
	exim_conf "$D3/policymap.sock" > "$DCONF"
	printf 'nameserver %s\noptions timeout:1 attempts:2 trust-ad\n' "$LAB_DNSSEC" > "$W/resolv-dane.conf"
	XD() { RESOLV=$W/resolv-dane.conf X -C "$DCONF" "$@"; }
	ask() { XD -be "\${readsocket{STS_SOCKET}{exim $1}{STS_TIMEOUT}{}{none}}"; }
	for d in ee ta partial stsdane bogus unsigned unusable; do ask "$d.dane.test" >/dev/null; done	# warm
	while IFS='|' read -r d want; do
		[ -z "$d" ] && continue
		expect_eq "DANE: exim $d.dane.test" "$(ask "$d.dane.test")" "$want"
	done <<'EOF'
ee|dane-only
ta|dane-only
partial|dane
stsdane|dane-only
bogus|temp DANE: DNSSEC validation failed (bogus) for bogus.dane.test
unsigned|enforce domain=unsigned.dane.test mx=mx.unsigned.dane.test id=us1
unusable|none
EOF
	expect_eq "DANE: no MTA-STS veto for a DANE domain's MX" \
	    "$(XD -be '${readsocket{STS_SOCKET}{exim stsdane.dane.test mx.stsdane.dane.test}{STS_TIMEOUT}{}{none}}')" ""
	droute() { XD -bt "$1" 2>&1; }
	for d in ee ta partial stsdane; do
		expect_match "DANE: route $d.dane.test: sts_dane" "$(droute "r@$d.dane.test")" \
		    'router = sts_dane, transport = remote_smtp_dane'
	done
	expect_match "DANE: route unsigned.dane.test (TLSA ignored): sts_enforce" \
	    "$(droute r@unsigned.dane.test)" 'router = sts_enforce, transport = remote_smtp_sts'
	expect_match "DANE: route unusable.dane.test (PKIX-EE only): dnslookup" \
	    "$(droute r@unusable.dane.test)" 'router = dnslookup, transport = remote_smtp'
	expect_match "DANE: route bogus.dane.test: deferred, naming the bogus DNSSEC" \
	    "$(droute r@bogus.dane.test)" 'DANE: DNSSEC validation failed \(bogus\) for bogus\.dane\.test'
	dsend() {
		n=$((n + 1))
		printf 'From: t@eximtest.lab.invalid\nTo: %s\nSubject: exim dane %d\n\nbody %d\n' \
		    "$1" "$n" "$n" > "$W/msg.$n"
		RESOLV=$W/resolv-dane.conf X -i "$W/msg.$n" -C "$DCONF" -odi -bm -f t@eximtest.lab.invalid "$1"
	}
	for d in ee ta partial stsdane bogus unsigned; do
		ok "DANE: exim accepts $TAG@$d.dane.test" dsend "$TAG@$d.dane.test"
	done
	QUEUE=$(XD -bp 2>&1)
	for d in ee ta partial; do
		ok "DANE: $d.dane.test delivered" "$LAB" mx-wait "$TAG@$d.dane.test" 1 20
	done
	expect_match "DANE: ee.dane.test verified by DANE-EE (log)" "$(logline "=> $TAG@ee.dane.test ")" \
	    'R=sts_dane T=remote_smtp_dane H=mx\.ee\.dane\.test \[127\.0\.1\.33\]:25 X=TLS[^ ]+ CV=dane'
	expect_match "DANE: ta.dane.test verified by DANE-TA (log)" "$(logline "=> $TAG@ta.dane.test ")" \
	    'R=sts_dane T=remote_smtp_dane H=mx\.ta\.dane\.test .* CV=dane'
	expect_match "DANE: partial.dane.test through its MX with TLSA, by DANE" \
	    "$(logline "=> $TAG@partial.dane.test ")" 'R=sts_dane T=remote_smtp_dane H=mx1\.partial\.dane\.test .* CV=dane'
	ok "DANE: unsigned.dane.test delivered (MTA-STS, its TLSA ignored)" "$LAB" mx-wait "$TAG@unsigned.dane.test" 1 20
	expect_match "DANE: unsigned.dane.test over WebPKI-verified TLS" "$(logline "=> $TAG@unsigned.dane.test ")" \
	    'R=sts_enforce T=remote_smtp_sts H=mx\.unsigned\.dane\.test .* CV=yes'
	# STS-DANE-1, the precedence scenario: MTA-STS enforce and a PKIX-valid
	# MX certificate, but a TLSA record that does not match it: deferred by
	# Exim's DANE, never delivered on the strength of MTA-STS
	expect_match "DANE: stsdane.dane.test deferred by Exim's DANE (not overridden by MTA-STS)" \
	    "$(logline "== $TAG@stsdane.dane.test ")" 'R=sts_dane T=remote_smtp_dane defer'
	expect_match "DANE: stsdane.dane.test: the DANE verification failed (log)" \
	    "$(logline 'DANE attempt failed; TLS connection to mx\.stsdane\.dane\.test')" 'certificate verification failed'
	expect_match "DANE: bogus.dane.test deferred (bogus DNSSEC)" \
	    "$(logline "== $TAG@bogus.dane.test ")" 'DANE: DNSSEC validation failed \(bogus\) for bogus\.dane\.test'
	for d in stsdane bogus; do
		ok "DANE: $d.dane.test stays in the queue" inqueue "$TAG@$d.dane.test"
		expect_eq "DANE: $d.dane.test not delivered" "$("$LAB" mx-count "$TAG@$d.dane.test")" 0
	done
	# TLS-RPT: Exim's connections to MX hosts with usable TLSA are tlsa
	# sessions (STS-DANE-1), the host's TLSA records their policy-string
	J=$("$BUILD/stsctl" -c "$D3/sts-milter.conf" journal 2>&1)
	for d in ee ta; do
		expect_eq "DANE tlsrpt: $d.dane.test success under tlsa" "$(jrec $d.dane.test)" \
		    "success mx.$d.dane.test - tlsa"
	done
	expect_eq "DANE tlsrpt: partial.dane.test success (its host with TLSA)" \
	    "$(jrec partial.dane.test)" "success mx1.partial.dane.test - tlsa"
	expect_eq "DANE tlsrpt: stsdane.dane.test tlsa-invalid, not an MTA-STS outcome" \
	    "$(jrec stsdane.dane.test)" "tlsa-invalid mx.stsdane.dane.test not-dane-verified tlsa"
	expect_eq "DANE tlsrpt: unsigned.dane.test under its MTA-STS policy" \
	    "$(jrec unsigned.dane.test)" "success mx.unsigned.dane.test - sts"
	PH=$(printf '%s\n' "$J" | grep '"domain":"ee.dane.test"' | grep -o '"phash":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
	expect_match "DANE tlsrpt: the policy-string is the TLSA record" \
	    "$(cat "$D3/state/policies/$PH.txt" 2>&1)" '^3 1 1 [0-9A-F]{64}$'
	ok "DANE: sts-milter (DANE) still running" kill -0 "$PID3"
else
	skip "exim DANE" "this lab has no DNSSEC part"
fi

ok "no panic log entries" sh -c "! grep -v 'exim user lost privilege for using -C option' '$W/log/paniclog' 2>/dev/null | grep -q ."
ok "daemon still running" kill -0 "$PID"

if [ "$T_FAIL" -gt 0 ]; then
	tail -n 40 "$LOG" | sed 's/^/  mainlog: /'
	sed 's/^/  paniclog: /' "$W/log/paniclog" 2>/dev/null | tail -n 5
	tail -n 10 "$W/milter.log" | sed 's/^/  milter: /'
	tail -n 5 "$W/dry.err" 2>/dev/null | sed 's/^/  reporter: /'
fi
done_tests t_exim
