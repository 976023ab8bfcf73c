# milter-relay - build, test, benchmark and install.
#
#	make			build the library, the daemon and the harness
#	sudo make demo		a private Postfix and milter-relay on the example
#				rules: a few messages, where they went (root:
#				run make first as yourself, then sudo make demo)
#	make check		run every test (unit, scenarios, end to end ...)
#	make SANITIZE=1 check	the same, built with ASan+UBSan in build-san/
#	make asan		shorthand for the line above
#	make bench		benchmarks printing ratios (never part of check)
#	make fuzz		libFuzzer targets (clang), make fuzz-smoke runs them briefly
#	make install		PREFIX=/usr/local DESTDIR=
#	make deb		the Debian package (debian/) into DEB_OUT (..)
#
# Objects and binaries go under $(O): the source tree itself by default,
# build-san/ for sanitizer builds, so that both can coexist.

VERSION		= 0.1.0
PREFIX		?= /usr/local
DESTDIR		?=
CC		?= cc
PKG_CONFIG	?= pkg-config

ifeq ($(SANITIZE),thread)
O		?= build-tsan
SAN_FLAGS	= -fsanitize=thread -fno-omit-frame-pointer
else ifdef SANITIZE
O		?= build-san
SAN_FLAGS	= -fsanitize=address,undefined -fno-omit-frame-pointer \
		  -fno-sanitize-recover=all
else
O		?= .
SAN_FLAGS	=
endif

CFLAGS		?= -O2 -g
WARN_FLAGS	= -Wall -Wextra -Werror
LIB_PKGS	= libconfig libidn2 libxxhash
BASE_CPPFLAGS	= -D_GNU_SOURCE -DMR_VERSION=\"$(VERSION)\" $(CPPFLAGS)
ALL_CPPFLAGS	= $(BASE_CPPFLAGS) -Ilib -Ilib/util
ALL_CFLAGS	= -std=c11 $(WARN_FLAGS) $(SAN_FLAGS) $(CFLAGS) \
		  $(shell $(PKG_CONFIG) --cflags $(LIB_PKGS) $(DAEMON_PKGS))
LIB_LDLIBS	= $(shell $(PKG_CONFIG) --libs $(LIB_PKGS)) -llmdb -lresolv -lpthread
DAEMON_PKGS	= libmicrohttpd
MILTER_LDLIBS	= $(shell $(PKG_CONFIG) --libs milter $(DAEMON_PKGS)) \
		  $(LIB_LDLIBS)
# the daemon alone talks to PostgreSQL (rules_source); lib/ does not
PQ_CFLAGS	= $(shell $(PKG_CONFIG) --cflags libpq)
PQ_LDLIBS	= $(shell $(PKG_CONFIG) --libs libpq)
CHECK_CFLAGS	= $(shell $(PKG_CONFIG) --cflags check)
CHECK_LDLIBS	= $(shell $(PKG_CONFIG) --libs check)
ALL_LDFLAGS	= $(SAN_FLAGS) $(LDFLAGS)

# lib/util/ holds what knows nothing of mail (strings, netstrings, sorted
# tables, safe files, socket addresses, COPY rows, network addresses,
# domain names, Postfix's lists), as Postfix's util/ beside its global/: compiled without -Ilib, so that it
# cannot include the rule engine, and archived apart, linked after it.
UTIL_SRCS	= $(sort $(wildcard lib/util/*.c))
UTIL_OBJS	= $(UTIL_SRCS:%.c=$(O)/%.o)
UTIL_LIB	= $(O)/lib/util/libmrutil.a
LIB_SRCS	= $(sort $(wildcard lib/*.c))
LIB_OBJS	= $(LIB_SRCS:%.c=$(O)/%.o)
LIB		= $(O)/lib/libmilterrelay.a
# what a program links: the rule engine, then what it uses
LIBS		= $(LIB) $(UTIL_LIB)

DAEMON_SRCS	= $(sort $(wildcard milter/*.c))
DAEMON_OBJS	= $(DAEMON_SRCS:%.c=$(O)/%.o)
DAEMON		= $(O)/milter/milter-relay

HARNESS_SRCS	= $(sort $(wildcard test/harness/mt_*.c))
HARNESS_OBJS	= $(HARNESS_SRCS:%.c=$(O)/%.o)
HARNESS		= $(O)/test/harness/milter-test
NULLMILTER	= $(O)/test/harness/nullmilter

UNIT_SRCS	= $(sort $(wildcard test/unit/check_*.c))
UNIT_BINS	= $(UNIT_SRCS:%.c=$(O)/%)
# helpers shared by the unit tests, an archive: a test that uses none of
# them (check_live replaces config_free) links none of lib/config.o
UNIT_UTIL	= $(O)/test/unit/libunitutil.a

BENCH_SRCS	= $(sort $(wildcard test/bench/bench_*.c))
BENCH_BINS	= $(BENCH_SRCS:%.c=$(O)/%)

# libFuzzer targets (clang only): each test/fuzz/fuzz_*.c linked with the
# library sources compiled for fuzzing; objects and binaries in build-fuzz/.
FUZZ_CC		= clang
FUZZ_SAN	= -fsanitize=address,undefined -fno-sanitize-recover=all \
		  -fno-omit-frame-pointer
FUZZ_CFLAGS	= -std=c11 $(WARN_FLAGS) -g -O1 $(FUZZ_SAN) \
		  $(shell $(PKG_CONFIG) --cflags $(LIB_PKGS))
FUZZ_SRCS	= $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_BINS	= $(FUZZ_SRCS:test/fuzz/%.c=build-fuzz/%)
FUZZ_UTIL_OBJS	= $(UTIL_SRCS:%.c=build-fuzz/%.o)
FUZZ_LIB_OBJS	= $(LIB_SRCS:%.c=build-fuzz/%.o) $(FUZZ_UTIL_OBJS)
FUZZ_OBJS	= $(FUZZ_SRCS:%.c=build-fuzz/%.o) $(FUZZ_LIB_OBJS)

# Every test area with a check.sh takes part in "make check", in name order;
# CHECK_ONLY="scenarios relay" runs only those areas.
CHECK_SCRIPTS	= $(sort $(wildcard test/*/check.sh))
ifdef CHECK_ONLY
CHECK_SCRIPTS	= $(foreach d,$(CHECK_ONLY),test/$(d)/check.sh)
endif
# The areas "make san-check" runs under ASan+UBSan (CI runs it after "make
# check"): the daemon's scenarios, the relay corpus, the faults and the
# metrics endpoint (HTTP in the supervisor, workers forked beside it), the
# recipient callouts, the Postfix fast path (static mode's tables and
# holds) and the incremental updates (generations by change log and by
# domains_file diff, handed from supervisor to worker; first: the longest,
# the others run beside it).
SAN_CHECK	?= incremental scenarios relay faults metrics verify fastpath

PROGRAMS	= $(LIBS) $(if $(DAEMON_SRCS),$(DAEMON)) \
		  $(if $(HARNESS_SRCS),$(HARNESS)) \
		  $(if $(wildcard test/harness/nullmilter.c),$(NULLMILTER))

.PHONY: all demo deb check unit asan san-check tsan valgrind bench fuzz fuzz-smoke install clean deps

all: $(PROGRAMS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/test/unit/%.o: test/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(UTIL_OBJS) $(FUZZ_UTIL_OBJS): ALL_CPPFLAGS = $(BASE_CPPFLAGS)

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

$(UTIL_LIB): $(UTIL_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(UTIL_OBJS)

$(DAEMON_OBJS): ALL_CFLAGS += $(PQ_CFLAGS)

$(DAEMON): $(DAEMON_OBJS) $(LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIBS) $(PQ_LDLIBS) \
	    $(MILTER_LDLIBS)

$(HARNESS): $(HARNESS_OBJS) $(LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(HARNESS_OBJS) $(LIBS) $(LIB_LDLIBS)

$(NULLMILTER): $(O)/test/harness/nullmilter.o
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(MILTER_LDLIBS)

$(UNIT_UTIL): $(O)/test/unit/testutil.o $(O)/test/unit/unitskip.o
	rm -f $@
	ar rcs $@ $^

$(O)/test/unit/check_%: $(O)/test/unit/check_%.o $(UNIT_UTIL) $(LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(UNIT_UTIL) $(LIBS) $(CHECK_LDLIBS) \
	    $(LIB_LDLIBS)

# check_listen tests the daemon's socket module (no libmilter in it).
$(O)/test/unit/check_listen: $(O)/test/unit/check_listen.o \
    $(O)/milter/listen.o $(UNIT_UTIL) $(LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(O)/milter/listen.o $(UNIT_UTIL) \
	    $(LIBS) $(CHECK_LDLIBS) $(LIB_LDLIBS)

# check_probes tests the daemon's callout bounds (verify.o and its log;
# the metrics are the test's own).
$(O)/test/unit/check_probes: $(O)/test/unit/check_probes.o \
    $(O)/milter/verify.o $(O)/milter/log.o $(UNIT_UTIL) $(LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(O)/milter/verify.o $(O)/milter/log.o \
	    $(UNIT_UTIL) $(LIBS) $(CHECK_LDLIBS) $(LIB_LDLIBS)

# check_pgmask tests the masking of rules_source's connection string
# (pgsource.o, with libpq).
$(O)/test/unit/check_pgmask: $(O)/test/unit/check_pgmask.o \
    $(O)/milter/pgsource.o $(O)/milter/log.o $(UNIT_UTIL) $(LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(O)/milter/pgsource.o \
	    $(O)/milter/log.o $(UNIT_UTIL) $(LIBS) $(PQ_LDLIBS) \
	    $(CHECK_LDLIBS) $(LIB_LDLIBS)

$(O)/test/bench/bench_%: $(O)/test/bench/bench_%.o $(LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS) $(LIB_LDLIBS)

# A test that cannot run here (unit_skip() of test/unit/unitskip.c) is
# listed at the end, and by make check with the areas' skips (UNIT_SKIPS).
UNIT_SKIPS	= $(O)/test/unit/skipped
unit: $(UNIT_BINS)
	@set -e; : >$(UNIT_SKIPS); for t in $(UNIT_BINS); do echo "== $$t"; \
	    CK_FORK=yes MR_SKIP_LOG=$(UNIT_SKIPS) $$t; done; \
	if [ -s $(UNIT_SKIPS) ]; then \
	    echo "== unit: skipped ($$(wc -l <$(UNIT_SKIPS)), NOT tested;" \
		"MR_REQUIRE_ALL=1 makes these failures):"; \
	    sed 's/^/   /' $(UNIT_SKIPS); fi

# The shipped example at work: test/demo/demo.sh, as root (sudo make demo:
# its private Postfix); without root it stops at once, saying so.
demo: all
	@MR_BUILD=$(O) bash -c 'time bash test/demo/demo.sh'

# Each area's skips are listed at the end; MR_REQUIRE_ALL=1 makes every
# skip a failure (.ci/run).  Two areas run side by side (MR_CHECK_JOBS,
# test/lib/checkall.sh): on 2 cores that halves the time (most of an area
# is waiting for its daemons), and every wait is for an event, not a time.
MR_CHECK_JOBS	?= 2
check: all unit
	@MR_BUILD=$(O) MR_SANITIZE=$(SANITIZE) MR_CHECK_JOBS=$(MR_CHECK_JOBS) \
	    MR_UNIT_SKIPS=$(UNIT_SKIPS) bash test/lib/checkall.sh $(CHECK_SCRIPTS)

asan:
	$(MAKE) SANITIZE=1 check

san-check:
	$(MAKE) SANITIZE=1 check CHECK_ONLY="$(SAN_CHECK)"

# The unit suites with threads and the daemon built with ThreadSanitizer
# (build-tsan/), the daemon under concurrent load with reloads; and the
# daemon under valgrind through the scenario suite.
TSAN_UNITS	= check_live check_callout
tsan:
	$(MAKE) SANITIZE=thread all $(TSAN_UNITS:%=build-tsan/test/unit/%)
	MR_BUILD=build-tsan MR_SANITIZE=thread TSAN_UNITS="$(TSAN_UNITS)" \
	    bash test/tsan/run.sh

valgrind: all
	MR_BUILD=. bash test/tsan/valgrind.sh

bench: all $(BENCH_BINS)
	MR_BUILD=$(O) bash test/bench/run.sh

fuzz: $(FUZZ_BINS)

build-fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	    -MMD -MP -c -o $@ $<

build-fuzz/fuzz_%: build-fuzz/test/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ \
	    $(LIB_LDLIBS)

# fuzz_milter decodes packets with the harness's own code.
build-fuzz/fuzz_milter: build-fuzz/test/harness/mt_conn.o
# fuzz_callbacks runs the daemon's callbacks and log as the daemon has them
build-fuzz/fuzz_callbacks: build-fuzz/milter/callbacks.o build-fuzz/milter/log.o
# the oracle of the rule language (test/fuzz/ruleoracle.c)
build-fuzz/fuzz_socketmap build-fuzz/fuzz_callbacks: \
    build-fuzz/test/fuzz/ruleoracle.o

fuzz-smoke: fuzz
	bash test/fuzz/smoke.sh $(FUZZ_BINS)

.SECONDARY: $(FUZZ_OBJS)

deps:
	./contrib/install-deps.sh

# Installation.  The daemon goes to sbin/, milter-test to bin/, the manual
# pages to share/man/, the systemd unit, setup-user.sh, the pristine
# example configuration and the contrib/postfix, contrib/sendmail and
# contrib/postgresql files to share/milter-relay/, the README to share/doc/milter-relay/.
# The configuration goes to SYSCONFDIR, /etc by default whatever PREFIX
# is, since that is where the daemon looks for it, and only when there is
# none yet.  The unit is installed with the paths of this installation.
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DATADIR		?= $(PREFIX)/share/milter-relay
DOCDIR		?= $(PREFIX)/share/doc/milter-relay
SYSCONFDIR	?= /etc
INSTALL		?= install
CONTRIB_FILES	= $(sort $(wildcard contrib/postfix/* contrib/sendmail/* \
		  contrib/postgresql/*))
DOC_FILES	= README.md $(wildcard SECURITY.md)

install: $(DAEMON) $(HARNESS)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR) \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)
	$(INSTALL) -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/milter-relay
	$(INSTALL) -m 0755 $(HARNESS) $(DESTDIR)$(BINDIR)/milter-test
	$(INSTALL) -m 0644 etc/milter-test.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 etc/milter-relay.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 etc/milter-relay.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 etc/milter-relay.conf $(DESTDIR)$(DATADIR)/
	$(INSTALL) -m 0755 contrib/setup-user.sh $(DESTDIR)$(DATADIR)/
	sed -e 's|/usr/local/sbin/milter-relay|$(SBINDIR)/milter-relay|g' \
	    -e 's|/etc/milter-relay.conf|$(SYSCONFDIR)/milter-relay.conf|g' \
	    etc/milter-relay.service > $(DESTDIR)$(DATADIR)/milter-relay.service
	chmod 0644 $(DESTDIR)$(DATADIR)/milter-relay.service
	@set -e; for f in $(CONTRIB_FILES); do \
		[ -f "$$f" ] || continue; \
		d=$(DESTDIR)$(DATADIR)/$$(dirname "$${f#contrib/}"); \
		m=0644; [ -x "$$f" ] && m=0755; \
		echo "$(INSTALL) -m $$m $$f $$d/"; \
		$(INSTALL) -d "$$d"; $(INSTALL) -m $$m "$$f" "$$d/"; \
	done
	$(INSTALL) -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/milter-relay.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/milter-relay.conf;" \
		    "the example is $(DATADIR)/milter-relay.conf"; \
	else \
		echo "$(INSTALL) -m 0644 etc/milter-relay.conf" \
		    "$(DESTDIR)$(SYSCONFDIR)/milter-relay.conf"; \
		$(INSTALL) -m 0644 etc/milter-relay.conf \
		    $(DESTDIR)$(SYSCONFDIR)/milter-relay.conf; \
	fi

# The Debian package, built by dpkg-buildpackage from a clean copy of this
# tree in a temporary directory (the objects of this tree stay, and
# nothing but the results is written next to it): the .deb, .buildinfo and
# .changes go to DEB_OUT.
DEB_OUT		?= ..

deb:
	@command -v dpkg-buildpackage >/dev/null || \
	    { echo "make deb: dpkg-buildpackage missing:" \
	    "apt-get install debhelper devscripts fakeroot" >&2; exit 1; }
	@set -e; out=$$(cd "$(DEB_OUT)" && pwd); \
	tmp=$$(mktemp -d /tmp/mr-deb.XXXXXX); \
	trap 'rm -rf "$$tmp"' EXIT; \
	mkdir "$$tmp/milter-relay-$(VERSION)"; \
	tar -cf - --exclude=.git --exclude='build-*' --exclude='*.o' \
	    --exclude='*.d' --exclude='*.a' --exclude='./debian/milter-relay' \
	    --exclude='./debian/.debhelper' . | \
	    tar -xf - -C "$$tmp/milter-relay-$(VERSION)"; \
	$(MAKE) -s -C "$$tmp/milter-relay-$(VERSION)" clean; \
	(cd "$$tmp/milter-relay-$(VERSION)" && \
	    dpkg-buildpackage -b -us -uc) >"$$tmp/build.log" 2>&1 || \
	    { tail -n 40 "$$tmp/build.log"; exit 1; }; \
	mv "$$tmp"/*.deb "$$tmp"/*.buildinfo "$$tmp"/*.changes "$$out"/; \
	echo "make deb: $$out/milter-relay_$(VERSION)_$$(dpkg-architecture -qDEB_HOST_ARCH).deb"

clean:
	rm -rf build-san build-tsan build-fuzz
	find . -name '*.o' -o -name '*.d' | xargs rm -f
	rm -f $(LIBS) $(DAEMON) $(HARNESS) $(NULLMILTER) $(UNIT_BINS) $(BENCH_BINS) \
	    $(UNIT_UTIL) $(UNIT_SKIPS)

-include $(shell find $(O) -name '*.d' -type f 2>/dev/null)
