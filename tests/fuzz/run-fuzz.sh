#!/bin/sh
# run-fuzz.sh - run each libFuzzer target for FUZZ_TIME seconds, seeded
# from (and adding to) its corpus.  Crashes land in build-fuzz/.
set -e
cd "$(dirname "$0")/../.."
FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_CC=${FUZZ_CC:-clang}
out=build-fuzz
mkdir -p $out
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Icommon/util -Icommon/tlsrpt -Icommon/net -Icommon/sts -Imilter $(pkg-config --cflags getdns libcurl json-c openssl)"
libs="$(pkg-config --libs getdns libcurl json-c openssl zlib) -lpthread"
# the pure modules of common/ (not the seams the fakes stand in for) and
# the daemon's collector parsers
pure="$(ls common/*/*.c | grep -v -e common/net/dns.c -e common/net/http.c \
    -e common/net/tls_probe.c -e common/util/clock.c) milter/pflog.c \
    milter/exim_event.c milter/tlsrpt_dgram.c milter/pmap_frame.c \
    milter/pmap_reply.c milter/pmap_dane.c"
fakes=$(ls tests/fakes/*.c 2>/dev/null || true)
for f in tests/fuzz/fuzz_*.c; do
	t=$(basename "$f" .c); t=${t#fuzz_}
	echo "== fuzz $t for ${FUZZ_TIME}s"
	$FUZZ_CC $flags -o $out/fuzz_$t "$f" $pure $fakes $libs
	mkdir -p tests/fuzz/corpus/$t $out/crash-$t $out/new-$t
	$out/fuzz_$t -max_total_time="$FUZZ_TIME" -max_len=70000 \
	    -artifact_prefix=$out/crash-$t/ -print_final_stats=1 \
	    $out/new-$t tests/fuzz/corpus/$t 2>&1 | tail -n 3 || { echo "fuzz $t: crash, see $out/crash-$t"; exit 1; }
done
echo "fuzz: all targets ran clean"
