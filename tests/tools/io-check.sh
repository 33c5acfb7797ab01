#!/bin/bash
# io-check.sh - check common/net/dns.c and common/net/http.c against real servers
# on loopback.
#
#   tests/tools/io-check.sh [BUILD_DIR]      (default build-io)
#
# DNS edge cases come from tests/tools/hostile-dns.py (started here on
# 127.0.5.1:5300); the DNS and HTTPS scenarios from the lab (tests/lab),
# which is used if it runs and otherwise started and stopped again (root).
# Builds the tools with tests/tools/build.sh first.  Last line:
# "io-check: N passed, M failed"; exit status 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 1
build=${1:-${BUILD:-build-io}}
tools=$build/tools
here=tests/tools
tests/tools/build.sh "$build" >/dev/null || exit 1

tmp=$(mktemp -d /tmp/io-check.XXXXXX)
lab_started=0
cleanup() {
	local p
	for p in hdns hhttps; do
		[ -s "$tmp/$p.pid" ] && read -r p < "$tmp/$p.pid" &&
		    kill "$p" 2>/dev/null
	done
	[ "$lab_started" = 1 ] && tests/lab/lab stop >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

H=127.0.5.1:5300
/usr/bin/python3 $here/hostile-dns.py 127.0.5.1 5300 "$tmp/hdns.pid" \
    >"$tmp/hdns.log" 2>&1 &
for _ in $(seq 50); do [ -s "$tmp/hdns.pid" ] && break; sleep 0.1; done
[ -s "$tmp/hdns.pid" ] || { cat "$tmp/hdns.log"; echo "io-check: hostile-dns did not start"; exit 1; }

if ! tests/lab/lab status >/dev/null 2>&1; then
	tests/lab/lab start >"$tmp/lab.log" 2>&1 ||
	    { cat "$tmp/lab.log"; echo "io-check: lab start failed"; exit 1; }
	lab_started=1
fi
LAB_DIR=${LAB_DIR:-/tmp/sts-milter-lab}
CA=$LAB_DIR/ca/root.pem
L=127.0.2.1

pass=0 fail=0
# t NAME ERE CMD... - the output of CMD (stdout+stderr, taken as one
# string whose line ends are $nl, an ordinary character: a newline in a
# grep pattern would split it into patterns, one of them empty, which
# matches anything) must match ERE, and hold no sanitizer report (SAN=1
# builds).
t() {
	local name=$1 want=$2 out
	shift 2
	out=$("$@" 2>&1)
	if printf '%s\n' "$out" | tr '\n' "$nl" | grep -qE -- "$want" &&
	    ! printf '%s\n' "$out" | grep -qE 'Sanitizer|runtime error:'; then
		pass=$((pass + 1))
		echo "ok   $name"
	else
		fail=$((fail + 1))
		echo "FAIL $name: want /$want/"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
}
q() { "$tools/dns_query" $QMODE "$@"; }
QMODE=
g() { "$tools/http_get" $GMODE "$@"; }
GMODE=
nl=$'\036'	# the line end in t's patterns (ASCII RS)

# --- DNS, hostile server
# each check twice: a lookup that blocks its thread, and one that waits
# in the DNS loop (-A: txt and addr; mx is the same both times)
for QMODE in "" -A; do
	S=${QMODE:+-async}
	t txt-plain$S "^status=ok ttl=300 n=1 [[:print:]]*${nl}v=STSv1; id=plain1;$nl" q $H txt plain.h.test
	t txt-mixed-case-name$S "^status=ok" q $H txt PLAIN.H.Test.
	t txt-multistring-join$S "${nl}v=STSv1; id=m1;$nl" q $H txt multi.h.test
	t txt-exact-bytes$S "${nl}a\\\\x00b\\\\xff\\\\x01\\\\x5c$nl" q $H txt bytes.h.test
	t txt-two-records-min-ttl$S "^status=ok ttl=60 n=2 [[:print:]]*${nl}first${nl}second$nl" q $H txt two.h.test
	t txt-nodata$S "^status=notfound .*why: nodata.h.test TXT: no records" q $H txt nodata.h.test
	t txt-nxdomain$S "^status=notfound .*NXDOMAIN" q $H txt nope.h.test
	t txt-servfail$S "^status=tempfail .*SERVFAIL" q $H txt servfail.h.test
	t txt-refused$S "^status=tempfail .*REFUSED" q $H txt refused.h.test
	t txt-formerr$S "^status=tempfail .*FORMERR" q $H txt formerr.h.test
	t txt-wrong-type-ignored$S "^status=notfound" q $H txt wrongtype.h.test
	t txt-wrong-owner-ignored$S "^status=notfound" q $H txt wrongowner.h.test
	t txt-wrong-class-ignored$S "^status=notfound" q $H txt chclass.h.test
	t txt-cname-chain$S "^status=ok ttl=50 n=1 [[:print:]]*${nl}v=STSv1; id=chained$nl$" q $H txt chain.h.test
	t txt-cname-second-query$S "^status=ok ttl=30 n=1 [[:print:]]*${nl}v=STSv1; id=target$nl" q $H txt cnameonly.h.test
	t txt-cname-nxdomain$S "^status=notfound" q $H txt nxcname.h.test
	t txt-cname-loop$S "^status=invalid .*CNAME chain longer than 8" q $H txt loop1.h.test
	t txt-cname-too-long$S "^status=invalid .*CNAME chain longer than 8" q $H txt long0.h.test
	t txt-cname-8-hops$S "^status=ok .*end of 8 hops" q $H txt hop0.h.test
	t txt-64-records-tcp$S "^status=ok ttl=300 n=64 " q $H txt rr64.h.test
	t txt-65-records$S "^status=invalid .*more than 64 TXT records" q $H txt rr65.h.test
	t txt-63k-record-tcp$S "^status=ok ttl=300 n=1 " q $H txt huge.h.test
	t txt-malformed-answer$S "^status=invalid .*malformed answer" q $H txt garbage.h.test
	t txt-no-reply-timeout$S "^status=tempfail [[:print:]]* ms=10[0-9][0-9]$nl.*timed out" q -t 1000 $H txt drop.h.test
	t txt-dead-port-timeout$S "^status=tempfail [[:print:]]* ms=10[0-9][0-9]$nl" q -t 1000 127.0.5.1:5399 txt plain.h.test
	t txt-failover$S "^status=ok [[:print:]]* ms=5[0-9][0-9]$nl" q -t 1000 "127.0.5.1:5399 $H" txt plain.h.test
	t txt-bad-name$S "^status=invalid .*bad domain name" q $H txt 'a..h.test'
	t txt-pool-threads$S "runs=360 ok=360 " q -n 30 -j 12 $H txt chain.h.test
	t mx-sorted-stable$S "^status=ok ttl=120 n=5 [[:print:]]*${nl}5 e.h.test${nl}10 a.h.test${nl}10 d.h.test${nl}20 b.h.test${nl}20 c.h.test$nl" q $H mx mx.h.test
	t mx-null$S "^status=ok ttl=300 n=1 [[:print:]]*${nl}0 $nl" q $H mx nullmx.h.test
	t mx-odd-bytes-escaped$S "${nl}10 a\\\\x5c046b\\\\x5c032c\\\\x5c092d.h-_tst$nl" q $H mx oddmx.h.test
	t mx-nodata$S "^status=notfound" q $H mx nodata.h.test
	t addr-both$S "^status=ok ttl=40 n=3 [[:print:]]*${nl}192.0.2.1${nl}192.0.2.2${nl}2001:db8::1$nl" q $H addr both.h.test
	t addr-v6-only$S "^status=ok [[:print:]]*${nl}2001:db8::2$nl" q $H addr v6only.h.test
	t addr-a-servfail-aaaa-ok$S "^status=ok [[:print:]]*${nl}2001:db8::3$nl" q $H addr afail.h.test
	t addr-servfail-and-nodata$S "^status=tempfail .*A: SERVFAIL; bothfail.h.test AAAA: no records" q $H addr bothfail.h.test
	t addr-bad-rdata$S "^status=invalid" q $H addr badaddr.h.test
	t addr-nodata$S "^status=notfound" q $H addr nodataaddr.h.test
	t addr-nxdomain$S "^status=notfound" q $H addr nope.h.test
	t resolver-bad-spec$S "^status=internal${nl}why: bad resolver address" q 'x.y' txt plain.h.test
	t resolver-bad-port$S "^status=internal" q '127.0.0.1:99999' txt plain.h.test
	t resolver-v6-port-parses$S "^status=tempfail" q -t 300 '[::1]:5399' txt plain.h.test
done

# --- DNS, lab
t lab-txt "${nl}v=STSv1; id=enf1;$nl" q $L txt _mta-sts.enforce.test
t lab-txt-multistring "${nl}v=STSv1; id=ms1;$nl" q $L txt _mta-sts.multistr.test
t lab-txt-cname "${nl}v=STSv1; id=cn1$nl" q $L txt _mta-sts.cname.test
t lab-txt-two "^status=ok ttl=1 n=2 " q $L txt _mta-sts.twotxt.test
t lab-txt-none "^status=notfound .*NXDOMAIN" q $L txt _mta-sts.nopolicy.test
t lab-mx "${nl}10 mx1.enforce.test${nl}20 mx2.enforce.test$nl" q $L mx enforce.test
t lab-addr "${nl}127.0.3.1$nl" q $L addr mta-sts.enforce.test
t lab-addr-nohost "^status=notfound" q $L addr mta-sts.nohost.test

# --- HTTPS, lab (names under .test never resolve through libc here)
u() { echo "https://mta-sts.$1.test/.well-known/mta-sts.txt"; }
# each check twice: one request (http_do), and through the loop that
# runs many at once on one thread (http_loop_submit, -L)
for GMODE in "" -L; do
	S=${GMODE:+-loop}
	t https-200$S "^result=ok http=200 fail=none .*content-type: text/plain" g -c "$CA" -a 127.0.3.1 "$(u enforce)"
	t https-404-passed-through$S "^result=ok http=404 fail=none" g -c "$CA" -a 127.0.3.1 "$(u notfound)"
	t https-301-not-followed$S "^result=ok http=301 fail=none" g -c "$CA" -a 127.0.3.1 "$(u redirect)"
	t https-content-type$S "content-type: text/html" g -c "$CA" -a 127.0.3.1 "$(u ctype)"
	t https-too-big$S "^result=tempfail [[:print:]]*fail=too-big" g -c "$CA" -a 127.0.3.1 -m 65536 "$(u big)"
	t https-big-under-cap$S "^result=ok http=200 fail=none body=71680 " g -c "$CA" -a 127.0.3.1 -m 71680 "$(u big)"
	t https-hang-timeout$S "^result=tempfail [[:print:]]*fail=timeout [[:print:]]*ms=1[5][0-9][0-9]$nl" g -c "$CA" -a 127.0.3.2 -t 1500 "$(u hang)"
	t https-wrong-name$S "^result=tempfail [[:print:]]*fail=certificate .*hostname mismatch" g -c "$CA" -a 127.0.3.1 "$(u badcert)"
	t https-untrusted$S "^result=tempfail [[:print:]]*fail=certificate .*X.509 error" g -c "$CA" -a 127.0.3.1 "$(u untrusted)"
	t https-system-store-untrusted$S "^result=tempfail [[:print:]]*fail=certificate" g -a 127.0.3.1 "$(u enforce)"
	t https-no-pin-no-libc$S "^result=tempfail [[:print:]]*fail=connect .*resolve" g -c "$CA" "$(u enforce)"
	t https-pinned-dead$S "^result=tempfail [[:print:]]*fail=connect" g -c "$CA" -a 127.0.3.9 "$(u enforce)"
	t https-pinned-fallback$S "^result=ok http=200" g -c "$CA" -a 127.0.3.9 -a 127.0.3.1 "$(u enforce)"
	t https-pin-host-mismatch$S "^result=tempfail [[:print:]]*fail=protocol .*pinned host" g -c "$CA" -H mta-sts.other.test -a 127.0.3.1 "$(u enforce)"
	t https-http-refused$S "^result=tempfail [[:print:]]*fail=protocol" g -c "$CA" -a 127.0.3.1 "http://mta-sts.enforce.test/.well-known/mta-sts.txt"
	t https-bad-ca-file$S "^result=tempfail [[:print:]]*fail=certificate" g -c /nonexistent.pem -a 127.0.3.1 "$(u enforce)"
done

# --- the policy fetcher (the loop: http_loop.c, http_resp.c) against
# what nginx never sends: tests/tools/hostile-https.py, real TLS with the
# lab's certificate for mta-sts.enforce.test, on $HH; the last path
# segment picks the bytes that come back
HH=127.0.3.30 BH=127.0.3.31
/usr/bin/python3 $here/hostile-https.py $HH 443 \
    "$LAB_DIR/ca/mta-sts.enforce.test.chain.pem" \
    "$LAB_DIR/ca/mta-sts.enforce.test.key" "$tmp/hhttps.pid" $BH \
    >"$tmp/hhttps.log" 2>&1 &
for _ in $(seq 50); do [ -s "$tmp/hhttps.pid" ] && break; sleep 0.1; done
[ -s "$tmp/hhttps.pid" ] || { cat "$tmp/hhttps.log"; echo "io-check: hostile-https did not start"; exit 1; }
r() { echo "https://mta-sts.enforce.test/raw/$1"; }
GMODE=-L
ok="^result=ok http=200 fail=none body=65 "
t raw-chunked "$ok" g -c "$CA" -a $HH "$(r chunked)"
t raw-close-notify "$ok" g -c "$CA" -a $HH "$(r close)"
# a body that runs to the close needs close_notify: a forged FIN could
# have cut it (a sized body does not: its length says when it is whole)
t raw-close-no-close-notify "^result=tempfail [[:print:]]*fail=protocol .*close_notify" g -c "$CA" -a $HH "$(r close-dirty)"
t raw-length-no-close-notify "$ok" g -c "$CA" -a $HH "$(r length-dirty)"
# a silent first address (SYNs dropped) takes its share of the connect
# time, then the next is tried; alone it is a timeout
t raw-silent-address-next "${ok}ms=2[0-9]{3}$nl" g -c "$CA" -T 4000 -a $BH -a $HH "$(r chunked)"
# one that takes the connection and never answers: the same, in TLS
t raw-hanging-address-next "^result=ok http=200 fail=none .*ms=2[0-9]{3}$nl" g -c "$CA" -T 4000 -a 127.0.3.2 -a 127.0.3.1 "$(u enforce)"
t raw-silent-address-alone "^result=tempfail [[:print:]]*fail=timeout" g -c "$CA" -T 1000 -a $BH "$(r chunked)"
# the server holds the connection 5 s: the answer must not wait for it
t raw-length-no-wait "${ok}ms=[0-9]{1,3}$nl" g -c "$CA" -a $HH "$(r length-hold)"
t raw-chunked-no-wait "${ok}ms=[0-9]{1,3}$nl" g -c "$CA" -a $HH "$(r chunked)"
t raw-interim-skipped "$ok" g -c "$CA" -a $HH "$(r interim)"
t raw-dribbled "$ok" g -c "$CA" -a $HH "$(r drip)"
t raw-redirect-not-followed "^result=ok http=302 fail=none body=0 " g -c "$CA" -a $HH "$(r redirect)"
t raw-truncated "^result=tempfail [[:print:]]*fail=protocol .*435 bytes remaining" g -c "$CA" -a $HH "$(r truncated)"
t raw-truncated-chunked "^result=tempfail [[:print:]]*fail=protocol .*chunked body" g -c "$CA" -a $HH "$(r truncated-chunked)"
t raw-garbage "^result=tempfail [[:print:]]*fail=protocol .*status line" g -c "$CA" -a $HH "$(r garbage)"
t raw-empty "^result=tempfail [[:print:]]*fail=protocol .*empty reply" g -c "$CA" -a $HH "$(r empty)"
t raw-huge-header "^result=tempfail [[:print:]]*fail=protocol .*header line too long" g -c "$CA" -a $HH "$(r hugeheader)"
t raw-many-headers "^result=tempfail [[:print:]]*fail=protocol .*headers too long" g -c "$CA" -a $HH "$(r manyheaders)"
t raw-gzip-coding "^result=tempfail [[:print:]]*fail=protocol .*transfer coding" g -c "$CA" -a $HH "$(r gzip)"
t raw-bad-length "^result=tempfail [[:print:]]*fail=protocol .*Content-Length" g -c "$CA" -a $HH "$(r badlength)"
t raw-two-lengths "^result=tempfail [[:print:]]*fail=protocol .*conflicting" g -c "$CA" -a $HH "$(r twolengths)"
t raw-folded "^result=tempfail [[:print:]]*fail=protocol .*folding" g -c "$CA" -a $HH "$(r folded)"
t raw-huge-chunk "^result=tempfail http=200 fail=too-big" g -c "$CA" -a $HH "$(r hugechunk)"
t raw-chunked-past-cap "^result=tempfail http=200 fail=too-big" g -c "$CA" -a $HH -m 65536 "$(r bigchunked)"
t raw-chunked-under-cap "^result=ok http=200 fail=none body=70000 " g -c "$CA" -a $HH -m 70000 "$(r bigchunked)"
t raw-reset "^result=tempfail [[:print:]]*fail=connect .*Recv failure" g -c "$CA" -a $HH "$(r reset)"
t raw-url-port "^result=tempfail [[:print:]]*fail=connect .*127.0.3.30 port 8443: Connection refused" g -c "$CA" -a $HH "https://mta-sts.enforce.test:8443/raw/chunked"
t raw-post-refused "^result=tempfail [[:print:]]*fail=protocol .*GET only" g -c "$CA" -a $HH -P /dev/null "$(r chunked)"

# --- all of the above at once, in one loop (many fetches in flight on
# one thread: each must get exactly what it got alone), with the client
# built with ASan and UBSan (t fails on any sanitizer report)
SAN=1 tests/tools/build.sh "$tmp/san" >/dev/null 2>&1 ||
    { fail=$((fail + 1)); echo "FAIL raw-at-once: SAN build of http_get"; }
at_once=(
	"chunked|$ok" "close|$ok" "close-dirty|fail=protocol"
	"length-dirty|$ok" "length-hold|$ok" "interim|$ok" "drip|$ok"
	"redirect|result=ok http=302" "truncated|fail=protocol"
	"truncated-chunked|fail=protocol" "garbage|fail=protocol"
	"empty|fail=protocol" "hugeheader|fail=protocol"
	"manyheaders|fail=protocol" "gzip|fail=protocol"
	"badlength|fail=protocol" "twolengths|fail=protocol"
	"folded|fail=protocol" "hugechunk|fail=too-big"
	"bigchunked|fail=too-big" "reset|fail=connect"
)
urls=() want=
for i in "${!at_once[@]}"; do
	urls+=("$(r "${at_once[$i]%%|*}")")
	w=${at_once[$i]#*|}
	want="$want\\[$i\\] [^$nl]*${w#^}[^$nl]*$nl\\[$i\\] content-type[^$nl]*$nl(\\[$i\\] why[^$nl]*$nl)?"
done
t raw-at-once "^$want\$" "$tmp/san/tools/http_get" -L -c "$CA" -a $HH "${urls[@]}"

echo "io-check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
