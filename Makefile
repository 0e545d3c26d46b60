# See LICENSE file for copyright and license details.
# makini-webhook: receive Makini webhooks as CGI or FastCGI.
#
#   make            build cgi/makini-webhook.cgi
#   make deps       install the Debian packages the build, tests and demo need
#   make check      build and run every test (check-unit runs the unit
#                   tests alone, check-shell the shell tests alone; see
#                   tests/README)
#   make check-cluster  the queue's race and crash tests on GlusterFS, and
#                   several hosts behind HAProxy with a host and a brick lost
#   make check-cluster-long  the latter longer, and make run-cluster's test
#   make run-cluster  that topology as a demo, until Ctrl-C
#   make check-package  the Debian package (debian/) built, linted, installed,
#                   served, upgraded and purged; as root
#   make check-h2-soak  the HTTPS tests with stalled and trickling clients
#                   held past the servers' stream timeouts
#   make run        serve the receiver through a real web server (see README)
#   make bench      the side-by-side benchmark
#   make static     cgi/makini-webhook-static.cgi, statically linked, for
#                   shared hosting and the CGI setups, and a copy of it as
#                   cgi/makini-webhook.cgi, which the next `make` links
#                   dynamically again
#   make install    the program and its man pages; honours PREFIX, BINDIR,
#                   MANDIR and DESTDIR (install-static installs the static
#                   build instead; uninstall)
#
# DEVELOPER=1 turns warnings into errors, SANITIZE=address,undefined builds
# with sanitizers, V=1 shows the commands. CPPFLAGS, CFLAGS, LDFLAGS and
# LDLIBS are honoured as GNU make's conventions say.
#
# Needs Linux and glibc 2.36 or later: close_range (glibc 2.34),
# pidfd_open (glibc 2.36, sys/pidfd.h), O_TMPFILE, flock and getrandom.
# Debian 12 (bookworm) and later have them; `make deps` names the packages.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
MAN8 = man/makini-webhook.8 man/makini-webhook-spawn-fcgi.8
DEFAULT_SPOOL ?= /var/spool/makini-webhook
VERSION := 0.1.0

CC ?= cc
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config
WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wformat=2 -Wvla
ifeq ($(DEVELOPER),1)
WARNINGS += -Werror
endif
ifneq ($(SANITIZE),)
# Any finding aborts the program, so that a test sees it fail. Kept apart
# from CFLAGS and LDFLAGS, which belong to whoever runs make.
SAN_CFLAGS = -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
SAN_LDFLAGS = -fsanitize=$(SANITIZE)
endif

PKGS = fcgi json-c libgcrypt
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# As GNU make's conventions say: CPPFLAGS on every compile, LDFLAGS on
# every link, each after the Makefile's own, so that a distribution's
# flags (dpkg-buildflags' -D_FORTIFY_SOURCE=2, -Wl,-z,relro) reach the
# code. BUILD_DEFINES are the values compiled in (see BUILD_FLAGS).
BUILD_DEFINES = -DMAKINI_VERSION='"$(VERSION)"' \
	-DMAKINI_DEFAULT_SPOOL='"$(DEFAULT_SPOOL)"'
ALL_CPPFLAGS = -D_GNU_SOURCE $(BUILD_DEFINES) -Isrc $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARNINGS) $(SAN_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_LDFLAGS) $(LDFLAGS)

ifeq ($(V),1)
Q =
else
Q = @
endif

BIN = cgi/makini-webhook.cgi
SRC = $(wildcard src/*.c)
OBJ = $(SRC:.c=.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:.c=)

.PHONY: FORCE all deps check check-unit check-shell check-static run bench static \
	install install-static install-man uninstall clean libs-present fuzz fuzz-build \
	fuzz-smoke check-valgrind check-reliability check-cluster check-package \
	check-cluster-long run-cluster check-h2-soak

all: $(BIN)

# Plain `make` installs nothing; it names `make deps` when a library is missing.
libs-present:
	@$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || { \
		echo "missing build libraries ($(PKGS)): run 'make deps' first" >&2; \
		exit 1; }

# The Makefile is a prerequisite of both links, so that a binary an older
# Makefile linked under the other's name is linked again rather than taken
# as up to date. STATIC_MARK is left by `make static`, which puts the
# static build in $(BIN)'s place: while it is there, the next `make` (and
# so `make install`) links the dynamic one again, whatever the times say.
STATIC_MARK = cgi/.static-in-place

$(BIN): cgi/main.o $(OBJ) Makefile $(if $(wildcard $(STATIC_MARK)),FORCE) \
		| libs-present
	@echo "  LINK $@"
	$(Q)rm -f $(STATIC_MARK)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ cgi/main.o $(OBJ) $(PKG_LIBS) $(LDLIBS)

FORCE:

# BUILD_FLAGS holds BUILD_DEFINES as the last build had them. It is
# rewritten when they change (VERSION or DEFAULT_SPOOL given to make, or
# their lines here edited), and every object depends on it, so that all
# are built again then, and only then.
BUILD_FLAGS = MAKINI-CFLAGS
ifeq ($(file <$(BUILD_FLAGS)),$(BUILD_DEFINES))
$(BUILD_FLAGS):
else
$(BUILD_FLAGS): FORCE
	@echo "  GEN  $@"
	$(Q)printf '%s\n' '$(subst ','\'',$(BUILD_DEFINES))' >$@
endif

%.o: %.c $(wildcard src/*.h) $(BUILD_FLAGS) | libs-present
	@echo "  CC   $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

tests/unit/test_%: tests/unit/test_%.c tests/unit/unit.h $(OBJ)
	@echo "  LINK $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ \
		$< $(OBJ) $(PKG_LIBS) $(LDLIBS)

deps:
	@sh tools/deps.sh

# Receivers that leave out one sync of spool_store, for the power-cut test
# (tests/t6700-power-cut.sh) to show what each one is for. Test builds
# only, kept in tests/trash.
SKIP_BIN = tests/trash/skip-fdatasync/makini-webhook.cgi \
	tests/trash/skip-dir-fsync/makini-webhook.cgi \
	tests/trash/skip-inode-fsync/makini-webhook.cgi

$(SKIP_BIN): tests/trash/%/makini-webhook.cgi: cgi/main.o $(OBJ) src/spool.c
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) \
		-DMAKINI_TEST_$(shell echo $* | tr a-z- A-Z_) \
		-c -o $(dir $@)spool.o src/spool.c
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ cgi/main.o \
		$(filter-out src/spool.o,$(OBJ)) $(dir $@)spool.o \
		$(PKG_LIBS) $(LDLIBS)

# A receiver that answers while another process's shared sync of new/ is
# still running (src/spool_sync.c), for the power-cut test to show that
# waiting for it is needed. Its file's fsync after the link is left out
# too: on ext4 without a journal that fsync writes new/'s blocks as well
# (the kernel syncs a new entry's directory with its inode), which would
# hide what the early answer loses. A test build only, in tests/trash.
EARLY_BIN = tests/trash/early-ack/makini-webhook.cgi

$(EARLY_BIN): cgi/main.o $(OBJ) src/spool_sync.c src/spool.c
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -DMAKINI_TEST_EARLY_ACK \
		-c -o $(dir $@)spool_sync.o src/spool_sync.c
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -DMAKINI_TEST_SKIP_INODE_FSYNC \
		-c -o $(dir $@)spool.o src/spool.c
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ cgi/main.o \
		$(filter-out src/spool_sync.o src/spool.o,$(OBJ)) \
		$(dir $@)spool_sync.o $(dir $@)spool.o $(PKG_LIBS) $(LDLIBS)

# The benchmark's ceiling program; tests/bench/bench.sh explains the rest.
BENCH_EMPTY = tests/trash/bench-empty

$(BENCH_EMPTY): tests/bench/empty.c | libs-present
	@mkdir -p tests/trash
	@echo "  LINK $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS)

# The floors, from tests/bench/floor.c: the contract's file operations and
# nothing else, with its two syncs (durable) and without (nosync).
BENCH_FLOORS = tests/trash/bench-floor-durable tests/trash/bench-floor-nosync

$(BENCH_FLOORS): tests/trash/bench-floor-%: tests/bench/floor.c | libs-present
	@mkdir -p tests/trash
	@echo "  LINK $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) \
		-DFLOOR_SYNC=$(if $(filter durable,$*),1,0) -o $@ $< $(PKG_LIBS)

# tests/bench/groupsync.c: the shared sync of new/ against one per event,
# without a server, for quick figures on one file system.
BENCH_GROUPSYNC = tests/trash/bench-groupsync

$(BENCH_GROUPSYNC): tests/bench/groupsync.c src/spool_sync.o
	@mkdir -p tests/trash
	@echo "  LINK $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		src/spool_sync.o $(LDLIBS)

# tests/bench/cgi.sh: its driver, and for comparison the receiver linked
# with libfcgi, json-c, libgcrypt and libgpg-error static but glibc shared.
BENCH_CGI_RUN = tests/trash/bench-cgi-run
BENCH_MIXED = tests/trash/bench-mixed

$(BENCH_CGI_RUN): tests/bench/cgi-run.c
	@mkdir -p tests/trash
	@echo "  LINK $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

$(BENCH_MIXED): cgi/main.o $(OBJ) | libs-present
	@mkdir -p tests/trash
	@echo "  LINK $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ cgi/main.o $(OBJ) \
		-Wl,-Bstatic $(STATIC_LIBS) -Wl,-Bdynamic $(LDLIBS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_EMPTY) $(BENCH_FLOORS) \
		$(BENCH_CGI_RUN) $(BENCH_MIXED)
	@$(MAKE) --no-print-directory static STATIC_BIN=tests/trash/bench-static
	@sh tests/bench/bench.sh
	@BENCH_MARKDOWN=BENCHMARKS.md sh tests/bench/drain.sh 1000 3

# The Debian package: built from a clean copy of the tree, linted,
# installed, served through lighttpd and Apache, upgraded and purged
# (tests/package/check-package.sh). As root; it puts the machine back as it was.
check-package:
	@sh tests/package/check-package.sh

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(SKIP_BIN) $(EARLY_BIN)
	@MAKE="$(MAKE)" sh tests/check.sh $(UNIT_BIN)

# The two halves of check's first pass, for a quicker loop: the unit tests
# (tests/unit), and the shell tests (tests/t*.sh; MAKINI_TESTS=FILES for
# some of them). tests/README says what each covers.
check-unit: $(UNIT_BIN)
	@MAKINI_TESTS=none sh tests/run-all.sh $(UNIT_BIN)

check-shell: deps
	@$(MAKE) --no-print-directory all $(SKIP_BIN) $(EARLY_BIN)
	@sh tests/run-all.sh

# The CGI tests once more, against the static build, as shared hosting and
# the CGI setups run it.
STATIC_TESTS = tests/t1000-cgi.sh tests/t1100-verbs.sh \
	tests/t5200-lighttpd-cgi.sh tests/t5500-apache-cgi.sh \
	tests/t5600-static.sh

# The sanitizer runtimes cannot be linked statically.
check-static:
ifneq ($(SANITIZE),)
	@echo "== skipped: no static binary with -fsanitize=$(SANITIZE)"
	@echo "0 passed, 0 failed"
else
	@$(MAKE) --no-print-directory $(STATIC_BIN)
	@echo "== the CGI tests again, against the static $(STATIC_BIN)"
	@MAKINI_TEST_BIN=$(CURDIR)/$(STATIC_BIN) \
		MAKINI_TESTS="$(STATIC_TESTS)" sh tests/run-all.sh
endif

# A statically linked receiver (libfcgi, json-c, libgcrypt, libgpg-error)
# for hosts that lack those libraries, and for the CGI setups: a process
# per request starts faster without the dynamic loader (tests/bench/cgi.sh
# measures it). It has a name of its own, which `make install-static` and
# the shared-hosting steps use; `make static` also copies it to $(BIN),
# as shared hosting has long found it there, and leaves STATIC_MARK so
# that the next `make` puts the dynamic build back (the tests, valgrind
# and the FastCGI setups run that one). The
# linker warns that getpwnam and gethostbyname need glibc's shared
# libraries at run time: libgpg-error and libfcgi contain them, but the
# receiver never calls them. A drain run as root looks up the spool
# owner's groups with getpwuid and initgroups; in the static build that
# needs glibc's NSS libraries on the host, and it falls back to no
# supplementary groups when they are missing.
STATIC_BIN ?= cgi/makini-webhook-static.cgi
STATIC_LIBS = $(shell $(PKG_CONFIG) --static --libs $(PKGS) 2>/dev/null)
ifeq ($(abspath $(STATIC_BIN)),$(abspath $(BIN)))
$(error STATIC_BIN=$(STATIC_BIN): the static build has a name of its own)
endif

STATIC_DEFAULT = cgi/makini-webhook-static.cgi

static: $(STATIC_BIN)
ifeq ($(abspath $(STATIC_BIN)),$(abspath $(STATIC_DEFAULT)))
	$(Q)cp $(STATIC_BIN) $(BIN).tmp && mv -f $(BIN).tmp $(BIN)
	$(Q)touch $(STATIC_MARK)
	@echo "  COPY $(BIN) (static, until the next make)"
endif

$(STATIC_BIN): cgi/main.o $(OBJ) Makefile | libs-present
ifneq ($(SANITIZE),)
	@echo "no static build with SANITIZE=$(SANITIZE):" \
		"the sanitizer runtimes cannot be linked statically" >&2
	@exit 1
endif
	@echo "  LINK $(STATIC_BIN) (static)"
	$(Q)mkdir -p $(dir $(STATIC_BIN)) && rm -f $(STATIC_BIN)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -static -o $(STATIC_BIN) \
		cgi/main.o $(OBJ) $(STATIC_LIBS) $(LDLIBS) 2>&1 | \
		{ grep -v -e 'in statically linked applications requires' \
		  -e ': in function .\(_gpgrt_getpwdir\|OS_CreateLocalIpcFd\|become_spool_owner\|user_name\)' \
		  >&2 || true; }
	$(Q)test -x $(STATIC_BIN)  # the pipe above hides the linker's status

# Serves the receiver through a real web server in the foreground; see
# tools/run.sh and the README (SERVER=, VIA=, PORT=).
run: deps
	@$(MAKE) --no-print-directory all
	@sh tools/run.sh

install: $(BIN) install-man
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/makini-webhook

# The static build under the same name, for the CGI setups (see README).
install-static: $(STATIC_BIN) install-man
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(STATIC_BIN) $(DESTDIR)$(BINDIR)/makini-webhook

# The man pages, under $(MANDIR)/man8.
install-man:
	install -d $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/

# Removes the files either install put there; the directories stay, as
# others may use them.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/makini-webhook
	rm -f $(MAN8:man/%=$(DESTDIR)$(MANDIR)/man8/%)

# Fuzzing (tests/fuzz/): libFuzzer targets built with clang and ASan+UBSan
# from their own copies of the src/ objects. `make fuzz` runs each target
# for FUZZ_SECONDS; `make fuzz-smoke` (part of `make check`, through
# tests/t6800-fuzz-smoke.sh) runs each a few seconds.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARNINGS) $(PKG_CFLAGS) \
	$(BUILD_DEFINES) -Isrc -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE)
FUZZ_TARGETS = sig event handle
FUZZ_BIN = $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%)
FUZZ_OBJ = $(SRC:src/%.c=tests/fuzz/obj/%.o)

tests/fuzz/obj/%.o: src/%.c $(wildcard src/*.h) $(BUILD_FLAGS) | libs-present
	@mkdir -p tests/fuzz/obj
	@echo "  CC   $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(CPPFLAGS) -fsanitize=fuzzer-no-link \
		-c -o $@ $<

tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	@echo "  LINK $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(CPPFLAGS) $(LDFLAGS) -fsanitize=fuzzer \
		-o $@ $< $(FUZZ_OBJ) $(PKG_LIBS)

.SECONDARY: $(FUZZ_OBJ)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@sh tests/fuzz/run.sh $${FUZZ_SMOKE_SECONDS:-4} $(FUZZ_TARGETS)

# The CGI shell tests again, with the binary run under valgrind memcheck;
# any memcheck error fails them (tests/reliability/valgrind.sh).
check-valgrind: all
	@sh tests/reliability/valgrind.sh

# The security and fault tests (t6000-t6500), the no-loss audit through
# lighttpd with RELIABILITY_SECONDS (default 20) per fault phase, 50 power
# cuts per file system and mode (t6700), every CGI shell test under
# valgrind, and a fuzz smoke. `make check` runs the same with 3 s phases,
# a few cuts and a valgrind subset.
check-reliability: deps all
	@$(MAKE) --no-print-directory $(SKIP_BIN) $(EARLY_BIN)
	@sh tests/reliability/check.sh

# tests/t5850-tls.sh with its stalled and trickling clients held for 8 s,
# past H2StreamTimeout, and ten deliveries timed among them on each setup.
check-h2-soak: deps all
	@TLS_SOAK=1 sh tests/t5850-tls.sh

# The queue's race and crash tests on a real distributed file system: two
# FUSE mounts of one GlusterFS volume stand in for two hosts sharing the
# spool (tests/cluster/). Needs root and /dev/fuse; skipped without.
check-cluster: deps all
	@sh tests/cluster/run.sh

# The balancer test (tests/cluster/t2-balancer.sh) with more changes, for
# longer, each web host and two bricks lost in turn; then make
# run-cluster, started, posted to and stopped with SIGINT.
check-cluster-long: deps all
	@CLUSTER_LONG=1 sh tests/cluster/run.sh tests/cluster/t2-balancer.sh \
		tests/cluster/demo-run-cluster.sh

# Several hosts behind HAProxy sharing a spool on GlusterFS, in network
# namespaces, in the foreground until Ctrl-C (tools/run-cluster.sh).
run-cluster: deps
	@$(MAKE) --no-print-directory all
	@sh tools/run-cluster.sh

clean:
	rm -f cgi/*.o src/*.o $(BIN) $(STATIC_BIN) $(STATIC_MARK) $(UNIT_BIN) \
		$(FUZZ_BIN) $(BUILD_FLAGS)
	rm -rf tests/trash tests/fuzz/obj tests/fuzz/work
