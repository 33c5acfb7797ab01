#!/bin/sh
# build.sh - build the I/O test tools (dns_query, http_get) by hand.
#
# Usage: tests/tools/build.sh [BUILD_DIR]   (default build-io; SAN=1 for
# ASan/UBSan).  Binaries land in BUILD_DIR/tools/.  The Makefile rule
# that does the same:
#
#	TOOL_BINS = $(BUILD)/tools/dns_query $(BUILD)/tools/http_get
#	tools: $(TOOL_BINS)
#	$(BUILD)/tools/%: $(OBJ)/tests/tools/%.o $(LIBCOMMON)
#		@mkdir -p $(dir $@)
#		$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
set -e
cd "$(dirname "$0")/../.."
build=${1:-${BUILD:-build-io}}
cc=${CC:-cc}
warn="-Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes
-Wmissing-prototypes -Wformat=2"
cflags="${CFLAGS:--O2 -g} -std=c11 -D_GNU_SOURCE -pthread $warn"
[ -n "$SAN" ] && cflags="$cflags -fsanitize=address,undefined -fno-omit-frame-pointer"
common="common/util/buf.c common/util/xmalloc.c common/util/log.c common/util/status.c
    common/util/thr.c"
inc="-Icommon/util -Icommon/net"
mkdir -p "$build/tools"
# shellcheck disable=SC2046,SC2086
$cc $cflags $inc $(pkg-config --cflags getdns) -o "$build/tools/dns_query" \
    tests/tools/dns_query.c common/net/dns.c common/net/dns_async.c common/net/dns_rr.c \
    common/net/dns_upstream.c $common \
    $(pkg-config --libs getdns) -lpthread
# shellcheck disable=SC2046,SC2086
$cc $cflags $inc $(pkg-config --cflags libcurl openssl) \
    -o "$build/tools/http_get" tests/tools/http_get.c common/net/http.c \
    common/net/http_loop.c common/util/clock.c \
    common/net/http_body.c common/net/http_resp.c \
    common/net/trust.c common/net/tls_lib.c $common \
    $(pkg-config --libs libcurl openssl) -lpthread
echo "built $build/tools/dns_query $build/tools/http_get"
