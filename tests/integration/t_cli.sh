#!/bin/bash
# t_cli.sh - the usual command-line manners of the three programs (issue
# 13): -h/--help print the usage on stdout and exit 0; -V/--version print
# "PROG VERSION" (VERSION from debian/changelog, as the package) and the
# run-time versions of the libraries, which must be the ones installed
# here (cross-checked with openssl(1), curl(1) and dpkg, not hard-coded);
# a bad option prints the usage on stderr and exits 64 (EX_USAGE).
# No lab needed.
. "$(dirname "$0")/../lib.sh"

V=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")
# what the libraries installed here say of themselves
OPENSSL=$(openssl version 2>/dev/null | awk '{print $1, $2}')
CURLV=$(curl --version 2>/dev/null | sed -n '1s/.* libcurl\/\([^ ]*\).*/\1/p')
ZLIBV=$(curl --version 2>/dev/null | sed -n '1s/.* zlib\/\([^ ]*\).*/\1/p')
upstream() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null |
    sed -E 's/^[0-9]+://; s/-[^-]*$//; s/[+~].*$//'; }
JSONC=$(upstream libjson-c5)
GETDNS=$(upstream libgetdns10)
IDN2=$(upstream libidn2-0)
for ref in V OPENSSL CURLV ZLIBV JSONC GETDNS IDN2; do
	[ -n "${!ref}" ] || fail "reference version $ref" "not found here"
done

for p in sts-milter stsctl tlsrpt-reporter; do
	bin=$BUILD/$p
	for h in -h --help; do
		out=$("$bin" "$h" 2>"$BUILD/t_cli.err"); rc=$?
		expect_eq "$p $h: exit 0" "$rc" 0
		expect_match "$p $h: usage on stdout" "$out" "^usage: $p "
		expect_match "$p $h: names -h and -V" "$out" "$p -h \\| -V"
		expect_eq "$p $h: nothing on stderr" "$(cat "$BUILD/t_cli.err")" ""
	done
	for v in -V --version; do
		out=$("$bin" "$v" 2>"$BUILD/t_cli.err"); rc=$?
		expect_eq "$p $v: exit 0" "$rc" 0
		expect_eq "$p $v: first line" "$(printf '%s\n' "$out" | head -1)" "$p $V"
		expect_eq "$p $v: nothing on stderr" "$(cat "$BUILD/t_cli.err")" ""
	done
	out=$("$bin" -V 2>/dev/null)
	expect_match "$p -V: OpenSSL ($OPENSSL)" "$out" "^  $OPENSSL "
	expect_match "$p -V: libcurl ($CURLV)" "$out" "^  libcurl $CURLV \\("
	expect_match "$p -V: zlib ($ZLIBV)" "$out" "^  zlib $ZLIBV$"
	expect_match "$p -V: json-c ($JSONC)" "$out" "^  json-c $JSONC$"
	expect_match "$p -V: getdns ($GETDNS)" "$out" "^  getdns $GETDNS "
	out=$("$bin" --no-such-option 2>"$BUILD/t_cli.err" </dev/null); rc=$?
	expect_eq "$p --no-such-option: exit 64" "$rc" 64
	expect_eq "$p --no-such-option: nothing on stdout" "$out" ""
	expect_match "$p --no-such-option: usage on stderr" \
	    "$(cat "$BUILD/t_cli.err")" "usage: $p "
done
# the daemon links two more
out=$("$BUILD/sts-milter" -V)
expect_match "sts-milter -V: libidn2 ($IDN2)" "$out" "^  libidn2 $IDN2$"
expect_match "sts-milter -V: libmilter" "$out" "^  libmilter [0-9]+\\.[0-9]+\\.[0-9]+$"
# -V and -h win over a configuration that would not load
expect_eq "sts-milter -c /nonexistent -V: exit 0" \
    "$("$BUILD/sts-milter" -c /nonexistent/sts-milter.conf -V >/dev/null 2>&1; echo $?)" 0
expect_eq "stsctl -c /nonexistent -h: exit 0" \
    "$("$BUILD/stsctl" -c /nonexistent/sts-milter.conf -h >/dev/null 2>&1; echo $?)" 0
rm -f "$BUILD/t_cli.err"
done_tests t_cli
