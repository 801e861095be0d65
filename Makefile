# flowcgi: one plain GNU Makefile.
#   make            build cgi-bin/flowcgi.fcgi
#   make test       install missing packages, build, run unit + black-box tests,
#                   then the same again under ASan+UBSan
#   make run        demo database + lighttpd on 127.0.0.1, prints curl commands
#   make bench      wrk against the program and a hello-world baseline
#   make fuzz       libFuzzer targets of tests/fuzz, FUZZ_SECONDS (60) each
#   make fuzz-smoke the same, a few seconds each over the corpus (in make test)
PKGS     := fcgi json-c sqlite3 libcrypto libcurl
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
LDLIBS    = $(PKG_LIBS) -lm

PROG     := cgi-bin/flowcgi.fcgi
SRCS     := $(sort $(wildcard src/*.c))
LIBSRCS  := $(filter-out src/main.c,$(SRCS))
OBJS     := $(SRCS:src/%.c=$(BUILD)/%.o)
LIBOBJS  := $(LIBSRCS:src/%.c=$(BUILD)/%.o)
UNITSRCS := $(sort $(wildcard tests/unit/test_*.c))
UNITS    := $(UNITSRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test test-unit test-http test-asan asan run bench clean \
        check-mem format fuzz fuzz-build fuzz-bins fuzz-smoke

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

$(BUILD):
	@mkdir -p $(BUILD)

# Unit tests: every tests/unit/test_*.c is a cmocka program.
test-unit: $(UNITS)
	@set -e; for t in $(UNITS); do echo "== $$t"; $$t; done

# Black-box tests: the real binary behind lighttpd (and Apache for the
# smoke subset), plus plain CGI mode.
test-http: $(PROG)
	python3 tests/http/run.py --prog $(CURDIR)/$(PROG)

# The whole suite again, built with AddressSanitizer + UBSan, failures fatal.
test-asan:
	$(MAKE) BUILD=build-asan PROG=build-asan/flowcgi.fcgi \
		OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		test-unit build-asan/flowcgi.fcgi
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		python3 tests/http/run.py --prog $(CURDIR)/build-asan/flowcgi.fcgi --sanitized

asan: test-asan

build-asan/flowcgi.fcgi: $(BUILD)/main.o $(BUILD)/libflowcgi.a
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

test: deps
	$(MAKE) all
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
	./bench/bench.sh

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
	rm -rf build build-asan $(FUZZ_BUILD) $(PROG)

-include $(OBJS:.o=.d)
