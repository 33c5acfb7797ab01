# pf310.sh - Debian 13's Postfix 3.10 (libtlsrpt) as a sending MTA in its
# own Debian root (tests/lab/roots), sourced by integration tests.
#
# pf310_start DIR POLICYMAP_SOCK TLSRPT_SOCK: a private instance whose
# files live in DIR (bind-mounted on /lab inside the root); DIR/run
# holds the sockets it reaches.  It sends from $PF310_IP.  pf310_send
# RCPT, pf310_logwait REGEX [SECONDS], pf310_stop (every exit path).
PF310_IP=127.0.6.1
ROOTS=$ROOT/tests/lab/roots

pf310_in() {	# CMD...: run in the root with /lab and the lab resolver
	"$ROOTS" run postfix310 "$PF310_DIR" "$PF310_DIR/resolv.conf" "$@"
}

pf310_start() {
	PF310_DIR=$1
	local pm=$2 rs=$3 d=$1
	"$ROOTS" kill postfix310	# a crashed run's leftovers
	mkdir -p "$d/etc" "$d/run" "$d/queue"
	chmod 755 "$d" "$d/run"
	cp "$LAB_DIR/ca/root.pem" "$d/root.pem"
	printf 'nameserver %s\noptions timeout:1 attempts:2\n' "${LAB_DNS:-127.0.2.1}" > "$d/resolv.conf"
	cat > "$d/etc/main.cf" <<EOF
compatibility_level = 3.10
queue_directory = /lab/queue
data_directory = /lab/data
maillog_file = /lab/maillog
maillog_file_prefixes = /lab/
$(pf_main_cf_common)
myhostname = pf310.lab.invalid
smtp_bind_address = $PF310_IP
smtp_host_lookup = dns
smtp_address_preference = ipv4
smtp_tls_security_level = may
smtp_tls_CAfile = /lab/root.pem
smtp_tls_loglevel = 1
smtp_tls_policy_maps = socketmap:unix:/lab/run/${pm#$d/run/}:postfix-tlsrpt
smtp_tlsrpt_enable = yes
smtp_tlsrpt_socket_name = /lab/run/${rs#$d/run/}
maximal_backoff_time = 1h
EOF
	pf_master_cf n > "$d/etc/master.cf"
	pf310_in postfix -c /lab/etc start </dev/null >"$d/start.out" 2>&1
}

PF310_N=0
pf310_send() {	# RCPT
	PF310_N=$((PF310_N + 1))
	printf 'From: t@pf310.lab.invalid\nTo: %s\nSubject: pf310 %d\n\nbody %d\n' \
	    "$1" "$PF310_N" "$PF310_N" |
	    pf310_in sendmail -C /lab/etc -f t@pf310.lab.invalid "$1"
}

pf310_logwait() { logwait "$PF310_DIR/maillog" "$@"; }	# REGEX [SECONDS]

pf310_stop() {
	[ -n "${PF310_DIR:-}" ] || return 0
	local p
	p=$(cat "$PF310_DIR/queue/pid/master.pid" 2>/dev/null | tr -d ' ')
	[ -n "$p" ] && kill "$p" 2>/dev/null
	"$ROOTS" kill postfix310
}
