# sts-milter - MTA-STS enforcement and TLS-RPT reporting
#
# Targets: all check soak demo bench fuzz install deb clean (see README.md).
# Objects go to $(BUILD)/obj; "make check" also builds the unit tests with
# ASan/UBSan into build-asan.

PREFIX	?= /usr/local
DESTDIR	?=
BUILD	?= build
CC	?= cc

PKGS	 = getdns libcurl json-c openssl zlib libidn2 hiredis
WARN	 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -pthread -fstack-protector-strong $(WARN)
ifdef SAN
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif
CPPFLAGS += -MMD -MP
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
MILTER_LIBS := $(shell pkg-config --libs milter 2>/dev/null)
CPPFLAGS += $(PKG_CFLAGS)
LDLIBS	 = $(PKG_LIBS) -lpthread

SEAM_SRCS	= common/net/dns.c common/net/dns_async.c common/net/http.c \
		  common/net/http_loop.c \
		  common/net/tls_probe.c \
		  common/util/clock.c
COMMON_SRCS	= $(wildcard common/*/*.c)
PURE_SRCS	= $(filter-out $(SEAM_SRCS),$(COMMON_SRCS))
FAKE_SRCS	= $(wildcard tests/fakes/*.c)
MILTER_MAIN	= milter/main.c
MILTER_SRCS	= $(filter-out $(MILTER_MAIN),$(wildcard milter/*.c))
STSCTL_MAIN	= stsctl/stsctl.c
STSCTL_SRCS	= $(filter-out $(STSCTL_MAIN),$(wildcard stsctl/*.c))
REPORTER_MAIN	= reporter/main.c
REPORTER_SRCS	= $(filter-out $(REPORTER_MAIN),$(wildcard reporter/*.c))
UNIT_SRCS	= $(wildcard tests/unit/test_*.c)
FUZZ_SRCS	= $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRCS	= $(wildcard tests/bench/*.c)

# Objects go to $(OBJ), programs and test binaries to $(BUILD).
OBJ	= $(BUILD)/obj
obj	= $(patsubst %.c,$(OBJ)/%.o,$(1))

# Layers, bottom to top (README.md, "Where things are").  Each directory
# is compiled with the include paths of the layers it may use and no
# others, so an include the wrong way fails to compile.
INC_UTIL	= -Icommon/util
INC_TLSRPT	= $(INC_UTIL) -Icommon/tlsrpt
INC_NET		= $(INC_TLSRPT) -Icommon/net
INC_STS		= $(INC_NET) -Icommon/sts
INC_FLEET	= $(INC_STS) -Icommon/fleet
INC_COMMON	= $(INC_FLEET)
$(OBJ)/common/util/%.o:   CPPFLAGS += $(INC_UTIL)
$(OBJ)/common/tlsrpt/%.o: CPPFLAGS += $(INC_TLSRPT)
$(OBJ)/common/net/%.o:    CPPFLAGS += $(INC_NET)
$(OBJ)/common/sts/%.o:    CPPFLAGS += $(INC_STS)
$(OBJ)/common/fleet/%.o:  CPPFLAGS += $(INC_FLEET)
$(OBJ)/milter/%.o:        CPPFLAGS += $(INC_COMMON) -Imilter
$(OBJ)/reporter/%.o:      CPPFLAGS += $(INC_COMMON) -Ireporter
$(OBJ)/stsctl/%.o:        CPPFLAGS += $(INC_COMMON) -Istsctl
$(OBJ)/tests/%.o:         CPPFLAGS += $(INC_COMMON) -Imilter -Ireporter -Istsctl \
			     -Itests -Itests/fakes

# The version: the first line of debian/changelog (the package's), compiled
# into version.o (the programs' -V) and http.o (the User-Agent) only.
VERSION	:= $(or $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null),unknown)
VERSION_OBJS = $(OBJ)/common/util/version.o $(OBJ)/common/net/http.o
$(VERSION_OBJS): CPPFLAGS += -DPKG_VERSION='"$(VERSION)"'
$(VERSION_OBJS): $(wildcard debian/changelog)

LIBCOMMON	= $(BUILD)/libcommon.a
LIBTEST		= $(BUILD)/libtest.a
LIBMILTER	= $(BUILD)/libstsmilter.a
LIBREPORTER	= $(BUILD)/libreporter.a
LIBSTSCTL	= $(BUILD)/libstsctl.a

PROGS	= $(BUILD)/stsctl
ifneq ($(wildcard $(MILTER_MAIN)),)
PROGS	+= $(BUILD)/sts-milter
endif
ifneq ($(wildcard $(REPORTER_MAIN)),)
PROGS	+= $(BUILD)/tlsrpt-reporter
endif
UNIT_BINS	= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
REPLAY_BINS	= $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/fuzz/replay_%,$(FUZZ_SRCS))
BENCH_BINS	= $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
INTEG_TESTS	= $(sort $(wildcard tests/integration/t_*.sh))

.SECONDARY:

.PHONY: deb tools all check check-unit check-asan check-fuzz check-integration demo \
	bench fuzz install clean deps unit progs soak testprogs

all: progs

progs: $(PROGS)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRCS))
	@rm -f $@
	$(if $^,$(AR) rcs $@ $^,printf '!<arch>\n' > $@)
$(LIBTEST): $(call obj,$(PURE_SRCS) $(FAKE_SRCS))
	@rm -f $@
	$(if $^,$(AR) rcs $@ $^,printf '!<arch>\n' > $@)
$(LIBMILTER): $(call obj,$(MILTER_SRCS))
	@rm -f $@
	$(if $^,$(AR) rcs $@ $^,printf '!<arch>\n' > $@)
$(LIBREPORTER): $(call obj,$(REPORTER_SRCS))
	@rm -f $@
	$(if $^,$(AR) rcs $@ $^,printf '!<arch>\n' > $@)
$(LIBSTSCTL): $(call obj,$(STSCTL_SRCS))
	@rm -f $@
	$(if $^,$(AR) rcs $@ $^,printf '!<arch>\n' > $@)

$(BUILD)/stsctl: $(call obj,$(STSCTL_MAIN)) $(LIBSTSCTL) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/sts-milter: $(call obj,$(MILTER_MAIN)) $(LIBMILTER) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(MILTER_LIBS) $(LDLIBS)
$(BUILD)/tlsrpt-reporter: $(call obj,$(REPORTER_MAIN)) $(LIBREPORTER) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Test builds of the programs (the soak test's): clock.c compiled with
# STS_TEST_CLOCK (see clock.h: the clock moves by an offset the test
# writes to a file), linked before libcommon.a so that the archive's
# clock.o is not used.  Never installed; the programs above lack the code.
TEST_CLOCK_OBJ	= $(OBJ)/test-clock/clock.o
TEST_PROGS	= $(BUILD)/test/sts-milter
$(TEST_CLOCK_OBJ): common/util/clock.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(INC_UTIL) -DSTS_TEST_CLOCK $(CFLAGS) -c -o $@ $<
$(BUILD)/test/sts-milter: $(call obj,$(MILTER_MAIN)) $(TEST_CLOCK_OBJ) $(LIBMILTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(MILTER_LIBS) $(LDLIBS)
testprogs: $(TEST_PROGS)

# Unit tests link the pure modules and the fakes (DNS, HTTP, clock, TLS
# probe); test_tls_probe tests the real probe.
$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(LIBSTSCTL) $(LIBREPORTER) $(LIBMILTER) $(LIBTEST)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/test_tls_probe: $(OBJ)/tests/unit/test_tls_probe.o \
    $(call obj,common/net/tls_probe.c) $(LIBTEST)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A replay binary feeds corpus files to a fuzz target with a plain build
# (the daemon's and the reporter's modules, the fakes for the seams).
$(BUILD)/fuzz/replay_%: $(OBJ)/tests/fuzz/fuzz_%.o $(OBJ)/tests/fuzz/replay.o \
    $(LIBREPORTER) $(LIBMILTER) $(LIBTEST)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bench/%: $(OBJ)/tests/bench/%.o $(LIBREPORTER) $(LIBMILTER) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(MILTER_LIBS) $(LDLIBS)

unit: $(UNIT_BINS) $(REPLAY_BINS)

# Small drivers of the DNS and HTTPS seams, and the load generators the
# lab tests use (t_fleet_ship, t_load).
TOOL_BINS = $(BUILD)/tools/dns_query $(BUILD)/tools/http_get $(BUILD)/bench/milter_load $(BUILD)/tools/dane_query \
	    $(BUILD)/bench/collect_load $(BUILD)/bench/socketmap_load \
	    $(BUILD)/tools/peer_load
tools: $(TOOL_BINS)
$(BUILD)/tools/%: $(OBJ)/tests/tools/%.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@sh tests/deps.sh

# check: install what is missing, build, then run everything: the
# integration tests (first: the long ones) and the unit tests, CHECK_JOBS
# at once, each in network and mount namespaces of its own, while the
# ASan/UBSan build is made beside them at a lower priority; then the unit
# tests under ASan and the fuzz corpora (tests/run-tests -j -b; README
# "Tests").
CHECK_JOBS ?= 3
check: deps
	@$(MAKE) --no-print-directory -j$$(nproc) progs unit tools testprogs
	@BUILD=$(abspath $(BUILD)) tests/run-tests -j $(CHECK_JOBS) \
	    -b '$(MAKE) --no-print-directory -j'$$(nproc)' BUILD=build-asan SAN=1 unit' \
	    $(INTEG_TESTS) $(UNIT_BINS) \
	    -- $(patsubst $(BUILD)/%,build-asan/%,$(UNIT_BINS)) tests/fuzz/replay-all.sh

check-unit: unit
	@tests/run-tests $(UNIT_BINS)

check-integration: progs testprogs
	@BUILD=$(abspath $(BUILD)) tests/run-tests $(INTEG_TESTS)

# soak: the long runs of the reliability tests (t_crash: 100000 records;
# t_soak: a simulated week, 8 steps a day, journal_retention 2).
SOAK_ENV = CRASH_N=100000 SOAK_DAYS=7 SOAK_STEPS=8 SOAK_STEP_SECS=4 SOAK_RETENTION=2
soak: deps
	@$(MAKE) --no-print-directory -j$$(nproc) progs testprogs
	@BUILD=$(abspath $(BUILD)) $(SOAK_ENV) tests/run-tests \
	    tests/integration/t_crash.sh tests/integration/t_soak.sh

demo: deps
	@$(MAKE) --no-print-directory -j$$(nproc) progs
	@BUILD=$(abspath $(BUILD)) bash tests/demo.sh

bench: deps
	@$(MAKE) --no-print-directory progs $(BENCH_BINS)
	@BUILD=$(abspath $(BUILD)) bash tests/bench/run.sh

FUZZ_TIME ?= 60
FUZZ_CC	  ?= clang
fuzz: deps
	@BUILD=$(abspath $(BUILD)) FUZZ_TIME=$(FUZZ_TIME) FUZZ_CC=$(FUZZ_CC) \
	    sh tests/fuzz/run-fuzz.sh

SYSTEMDDIR ?= /etc/systemd/system
install: progs
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)/etc/sts-milter
	for p in $(PROGS); do case $$p in \
	    */stsctl) install -m 755 $$p $(DESTDIR)$(PREFIX)/bin/ ;; \
	    *) install -m 755 $$p $(DESTDIR)$(PREFIX)/sbin/ ;; esac; done
	for m in $(wildcard doc/*.8); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done
	install -m 644 conf/sts-milter.conf $(DESTDIR)/etc/sts-milter/sts-milter.conf.sample
	# systemd units (not enabled) and the cron alternative, with this PREFIX
	install -d $(DESTDIR)$(SYSTEMDDIR)
	for u in conf/*.service conf/*.timer; do \
	    sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' $$u > $(DESTDIR)$(SYSTEMDDIR)/$${u##*/}; \
	    chmod 644 $(DESTDIR)$(SYSTEMDDIR)/$${u##*/}; done
	sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' conf/tlsrpt-reporter.cron \
	    > $(DESTDIR)/etc/sts-milter/tlsrpt-reporter.cron.sample

# deb: the Debian package, $(BUILD)/deb/sts-milter_<version>_<arch>.deb
# (debian/; README "Installing"), built with dpkg-buildpackage in a copy
# of the tree and checked by lintian.  DEB_VERSION=V builds version V
# (a changelog entry in the copy; the programs' -V says V too).
# LINTIAN=: skips lintian.
DEBDIR	 = $(BUILD)/deb
LINTIAN	?= lintian --allow-root --fail-on error,warning
DEB_MAINT = $(shell sed -n '/^ -- /{s/^ -- \(.*>\).*/\1/p;q;}' debian/changelog)
deb:
	rm -rf $(DEBDIR) && mkdir -p $(DEBDIR)/sts-milter
	tar -cf - --exclude=./.git --exclude='./build*' . | \
	    tar -xf - -C $(DEBDIR)/sts-milter
	$(if $(DEB_VERSION),{ printf 'sts-milter (%s) UNRELEASED; urgency=medium\n\n  * Built by make deb DEB_VERSION=%s.\n\n -- %s  %s\n\n' \
	    '$(DEB_VERSION)' '$(DEB_VERSION)' '$(DEB_MAINT)' "$$(date -R)"; \
	    cat debian/changelog; } > $(DEBDIR)/sts-milter/debian/changelog)
	cd $(DEBDIR)/sts-milter && \
	    DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS:-parallel=$$(nproc)}" \
	    dpkg-buildpackage -b -us -uc
	rm -rf $(DEBDIR)/sts-milter
	$(LINTIAN) $(DEBDIR)/*.changes
	@ls $(DEBDIR)/*.deb

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
