# flowcgi: one plain GNU Makefile.
#   make            build cgi-bin/flowcgi.fcgi
#   make test       install missing packages, build, run unit + black-box tests
#                   (the console in headless Chromium among them), then the
#                   same again under ASan+UBSan
#   make run        demo database + lighttpd on 127.0.0.1, prints curl commands
#   make bench      wrk against the program and a hello-world baseline
#   make coverage   unit + black-box suites (both backends) on a gcov build; line coverage
#                   per file of src/, ending with the TOTAL line
#   make fuzz       libFuzzer targets of tests/fuzz, FUZZ_SECONDS (60) each
#   make fuzz-smoke the same, a few seconds each over the corpus (in make test)
PKGS     := fcgi json-c sqlite3 libpq libcrypto libcurl
CC       ?= cc
OPT      ?= -O2 -g
BUILD    ?= build
SAN      ?=
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wundef \
            -Wno-unused-parameter -fno-common
CFLAGS   := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SAN) -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS    = $(PKG_LIBS) -lm -pthread

PROG     := cgi-bin/flowcgi.fcgi
SRCS     := $(sort $(wildcard src/*.c))
LIBSRCS  := $(filter-out src/main.c,$(SRCS))
OBJS     := $(SRCS:src/%.c=$(BUILD)/%.o)
LIBOBJS  := $(LIBSRCS:src/%.c=$(BUILD)/%.o)
UNITSRCS := $(sort $(wildcard tests/unit/test_*.c))
UNITS    := $(UNITSRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test test-unit test-http test-asan asan run bench clean \
        check-mem format test-console console-screenshots coverage \
        check-structure fuzz fuzz-build fuzz-bins fuzz-smoke

all: $(PROG)

deps:
	@./scripts/deps.sh

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/libflowcgi.a: $(LIBOBJS)
	rm -f $@; ar rcs $@ $^

$(PROG): $(BUILD)/main.o $(BUILD)/libflowcgi.a
	@mkdir -p cgi-bin
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libflowcgi.a | $(BUILD)
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Isrc -Wno-missing-prototypes -o $@ $< \
		$(BUILD)/libflowcgi.a -lcmocka $(LDLIBS)

# The helpers every unit test shares.
$(UNITS): tests/unit/unit.h

$(BUILD):
	@mkdir -p $(BUILD)

# Unit tests: every tests/unit/test_*.c is a cmocka program.
test-unit: $(UNITS)
	@set -e; for t in $(UNITS); do echo "== $$t"; $$t; done

# Black-box tests: the real binary behind lighttpd (and Apache for the
# smoke subset), plus plain CGI mode.
# BACKENDS: the databases the black-box suite runs against: a SQLite
# file per site, and a database per site in a scratch PostgreSQL 15.
BACKENDS ?= sqlite pg
# make bench BACKEND=pg: the PostgreSQL rows beside SQLite's.
BACKEND ?= sqlite

# The backends' passes run side by side (each has its own sites, ports and
# cluster; most of a pass is waiting, not computing), each into its log,
# printed whole when both are done.
define each_backend
	@mkdir -p build; set -e; pids=""; for b in $(BACKENDS); do \
		$(1) --backend $$b > build/$(2)-$$b.log 2>&1 & pids="$$pids $$!"; \
	done; rc=0; for p in $$pids; do wait $$p || rc=1; done; \
	for b in $(BACKENDS); do cat build/$(2)-$$b.log; done; exit $$rc
endef

test-http: $(PROG)
	$(call each_backend,python3 tests/http/run.py --prog $(CURDIR)/$(PROG),test-http)

# The web console alone: served by lighttpd, Apache, nginx and a shared
# host, and driven in headless Chromium (tests/http/test_console.py; part of
# test-http too). Screenshots: build/console-screenshots/.
test-console: $(PROG)
	python3 tests/http/run.py --prog $(CURDIR)/$(PROG) -k test_console

# README's console screenshots (docs/console/*.png), taken by the browser test.
CONSOLE_SHOTS := 01-signin:signin 02-workflows:workflows 03-workflow-drawing:drawing \
                 04-trigger:trigger 05-execution:execution 06-executions:executions \
                 07-execution-failed:execution-failed
console-screenshots: test-console
	@mkdir -p docs/console
	@for s in $(CONSOLE_SHOTS); do \
		cp build/console-screenshots/$${s%%:*}.png docs/console/$${s##*:}.png; \
	done; ls -l docs/console

# The whole suite again, built with AddressSanitizer + UBSan, failures fatal.
test-asan:
	$(MAKE) BUILD=build-asan PROG=build-asan/flowcgi.fcgi \
		OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		test-unit build-asan/flowcgi.fcgi
	$(call each_backend,ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		python3 tests/http/run.py --prog $(CURDIR)/build-asan/flowcgi.fcgi \
			--sanitized,test-asan)

asan: test-asan

# Coverage: a -O0 --coverage build in build-cov/ (FLOWCGI_COVERAGE makes a
# FastCGI process stopped by SIGTERM/SIGINT write its counts), the unit
# tests, then the black-box suite; the programs run as www-data under root,
# so build-cov/ and its .gcda files are left writable by all.  Counts start
# from zero on every run.
COVBUILD := build-cov
GCOVR    := gcovr --root $(CURDIR) --filter '$(CURDIR)/src/' \
            --object-directory $(CURDIR)/$(COVBUILD) --sort-percentage

coverage: deps
	@mkdir -p $(COVBUILD)
	find $(COVBUILD) -name '*.gcda' -delete
	$(MAKE) BUILD=$(COVBUILD) PROG=$(COVBUILD)/flowcgi.fcgi \
		OPT="-O0 -g --coverage -DFLOWCGI_COVERAGE" SAN="--coverage" \
		$(COVBUILD)/flowcgi.fcgi test-unit
	chmod -R a+rwX $(COVBUILD)
	set -e; for b in $(BACKENDS); do \
		python3 tests/http/run.py --prog $(CURDIR)/$(COVBUILD)/flowcgi.fcgi \
			--backend $$b; done
	@$(GCOVR) $(COVBUILD) | sed '$$d'

build-asan/flowcgi.fcgi: $(BUILD)/main.o $(BUILD)/libflowcgi.a
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

# No circle between files (nm), no function over 120 lines, at most five
# over 80 (universal-ctags).
check-structure: $(PROG)
	python3 scripts/structure.py $(BUILD)

test: deps
	$(MAKE) all
	$(MAKE) check-structure
	$(MAKE) test-unit
	$(MAKE) test-http
	$(MAKE) test-asan
	$(MAKE) check-mem
	$(MAKE) fuzz-smoke
	@echo "make test: all passed"

# One FastCGI process must not grow: 2,000 warm-up requests, then 20,000.
check-mem: $(PROG)
	python3 tests/http/memcheck.py --prog $(CURDIR)/$(PROG)

run: deps
	$(MAKE) all
	./scripts/run-demo.sh

bench: deps
	$(MAKE) all
	BACKEND=$(BACKEND) ./bench/bench.sh

# Fuzzing (README "Fuzzing"): one libFuzzer program per tests/fuzz/fuzz_*.c,
# linked with the library built by clang into build-fuzz/ with ASan, UBSan
# and coverage instrumentation.  `make fuzz` runs each for FUZZ_SECONDS
# over its corpus (tests/fuzz/corpus/<target>, read only: new inputs go to
# build-fuzz/scratch/<target>, crashes to build-fuzz/artifacts/<target>);
# FUZZ_TARGETS picks some; `make -j2 fuzz` runs two at a time.
# `make fuzz-smoke` runs each for FUZZ_SMOKE_SECONDS (3), for CI; it is
# part of `make test`.
FUZZ_CC            ?= clang
FUZZ_BUILD         := build-fuzz
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_SRCS          := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS       ?= $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_BINS          := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
# The request node's harness feeds responses through a Unix socket of its
# own in place of the network: it wraps curl_easy_perform.
FUZZ_LDFLAGS_fuzz_http_response := -Wl,--wrap=curl_easy_perform

fuzz-build:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
		OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
		WARN="$(WARN) -Wno-format-nonliteral" fuzz-bins

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(BUILD)/libflowcgi.a
	@mkdir -p $(BUILD)/fuzz
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Isrc -fsanitize=fuzzer -o $@ $< \
		$(BUILD)/libflowcgi.a $(FUZZ_LDFLAGS_$*) $(LDLIBS)

fuzz: fuzz-build
	$(MAKE) $(FUZZ_TARGETS:%=fuzz-run-%) FUZZ_RUN_SECONDS=$(FUZZ_SECONDS)

# Two at a time: every target over its corpus (regression inputs
# included) and a few seconds more, in about 20 s on two cores.
fuzz-smoke: fuzz-build
	$(MAKE) -j2 $(FUZZ_TARGETS:%=fuzz-run-%) \
		FUZZ_RUN_SECONDS=$(FUZZ_SMOKE_SECONDS)

fuzz-run-%:
	@tests/fuzz/run.sh $(FUZZ_BUILD)/fuzz/$* $(FUZZ_RUN_SECONDS)

format:
	clang-format -i src/*.c src/*.h tests/unit/*.c tests/fuzz/*.c tests/fuzz/*.h

clean:
	rm -rf build build-asan $(COVBUILD) $(FUZZ_BUILD) $(PROG)

-include $(OBJS:.o=.d)
