#!/bin/bash
# tls_client.sh - a TLS client's side of a cold policy fetch, in
# OpenSSL's own library context and in the one the daemon's HTTPS loop
# and MX probe use (tls_lib.c: only SubjectPublicKeyInfo decoders),
# side by side in the same process (tests/bench/tls_client.c).
#
#   BUILD=/abs/build bash tests/bench/tls_client.sh   (make bench runs it)
#
# Environment: BENCH_TLS_N (400 handshakes a round), BENCH_TLS_ROUNDS
# (5).  Exit 0 when it ran, 1 when it could not run.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/bench/tls_client
[ -x "$BIN" ] || make -C "$ROOT" --no-print-directory BUILD="$BUILD" "$BIN" >/dev/null ||
    { echo "tls_client: cannot build"; exit 1; }
exec "$BIN" -n "${BENCH_TLS_N:-400}" -r "${BENCH_TLS_ROUNDS:-5}"
