#!/bin/sh
# run-fuzz.sh - build every libFuzzer target (clang, ASan + UBSan) and run
# each for FUZZ_TIME seconds (or FUZZ_RUNS executions, whichever first),
# seeded from its corpus.  New inputs go to build-fuzz/new-<t>; with
# FUZZ_MERGE=1 those that add coverage are merged (-merge=1) into
# tests/fuzz/corpus/<t>, so "make check" replays them.  Crashes land in
# build-fuzz/crash-<t>/; the run stops at the first.  The last lines of
# each run (executions, cov, ft) are kept in build-fuzz/stats-<t>.txt.
#
#   FUZZ_TARGETS="dns_rr mlfi"	only these targets (default: all)
#   FUZZ_NICE=19		run the campaign under nice
#   FUZZ_KEEP_GOING=1	go on with the next target after a crash
#   FUZZ_OUT=dir		build and work there (default build-fuzz)
set -e
cd "$(dirname "$0")/../.."
FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_RUNS=${FUZZ_RUNS:--1}
FUZZ_CC=${FUZZ_CC:-clang}
FUZZ_NICE=${FUZZ_NICE:-0}
out=${FUZZ_OUT:-build-fuzz}
mkdir -p $out/obj
inc="-Icommon/util -Icommon/tlsrpt -Icommon/net -Icommon/sts -Icommon/fleet -Imilter \
    -Ireporter -Itests -Itests/fakes"
pkgs="$(sed -n "s/^PKGS[[:space:]]*=//p" Makefile)"
flags="-g -O1 -std=c11 -D_GNU_SOURCE -pthread -DPKG_VERSION=\"fuzz\" \
    -fsanitize=address,undefined -fno-sanitize-recover=all $inc $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lpthread"
# Everything but the programs' main()s and the real seams (DNS, HTTP,
# clock, TLS probe, libmilter): the fakes stand in for those.  One
# archive, so each target pulls only what it uses.
srcs="$(ls common/*/*.c milter/*.c reporter/*.c tests/fakes/*.c | grep -v \
    -e common/net/dns.c -e common/net/http.c -e common/net/http_loop.c \
    -e common/net/tls_probe.c \
    -e common/util/clock.c -e milter/main.c -e reporter/main.c)"
# an object is stale when its source or any header is newer
newest_h=$(ls -t $(find common milter reporter tests -name '*.h') | head -n 1)
objs=
for s in $srcs; do
	o=$out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')
	objs="$objs $o"
	[ "$o" -nt "$s" ] && [ "$o" -nt "$newest_h" ] && continue
	echo "$FUZZ_CC $s" >&2
	nice -n "$FUZZ_NICE" $FUZZ_CC $flags -fsanitize=fuzzer-no-link -c \
	    -o "$o" "$s"
done
rm -f $out/libfuzzdeps.a
ar rcs $out/libfuzzdeps.a $objs
bad=
targets=${FUZZ_TARGETS:-$(ls tests/fuzz/fuzz_*.c | sed 's,.*/fuzz_,,; s,\.c$,,')}
for t in $targets; do
	f=tests/fuzz/fuzz_$t.c
	echo "== fuzz $t for ${FUZZ_TIME}s / $FUZZ_RUNS runs"
	nice -n "$FUZZ_NICE" $FUZZ_CC $flags -fsanitize=fuzzer -o $out/fuzz_$t \
	    "$f" $out/libfuzzdeps.a $libs
	mkdir -p tests/fuzz/corpus/$t $out/crash-$t $out/new-$t
	dict=
	[ -f tests/fuzz/$t.dict ] && dict=-dict=tests/fuzz/$t.dict
	if ! nice -n "$FUZZ_NICE" $out/fuzz_$t -max_total_time="$FUZZ_TIME" \
	    -runs="$FUZZ_RUNS" -max_len=70000 -timeout=10 -rss_limit_mb=1024 \
	    $dict -artifact_prefix=$out/crash-$t/ -print_final_stats=1 \
	    $out/new-$t tests/fuzz/corpus/$t > $out/log-$t.txt 2>&1; then
		tail -n 40 $out/log-$t.txt
		echo "fuzz $t: crash, see $out/crash-$t"
		[ "${FUZZ_KEEP_GOING:-0}" = 1 ] || exit 1
		bad="$bad $t"
		continue
	fi
	{ grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' $out/log-$t.txt | tail -n 1
	  grep '^stat::' $out/log-$t.txt; } | tee $out/stats-$t.txt
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		nice -n "$FUZZ_NICE" $out/fuzz_$t -merge=1 -max_len=70000 \
		    tests/fuzz/corpus/$t $out/new-$t > $out/merge-$t.txt 2>&1
		tail -n 1 $out/merge-$t.txt
	fi
done
[ -z "$bad" ] || { echo "fuzz: crashes in$bad"; exit 1; }
echo "fuzz: all targets ran clean"
