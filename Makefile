# aftm — automatic futures trading machine.
#   make run      install what is missing, build, start the all-in-one system on the simulator
#   make test     install what is missing, build with ASan+UBSan, run every test
#   make soak     the kill -9 chaos test at length (AFTM_KILL_ROUNDS, default 200) with its audit
#   make bench    build optimised and run the benchmarks (writes docs/PERFORMANCE.md)
#   make install  install the binary (PREFIX=/usr/local, DESTDIR for staging)
#   make compile_commands.json   the compilation database for editors and clang tools
# CC, CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS from the command line or the environment are honoured.

PKGS     := libzmq msgpack sqlite3 jansson cairo inih libzip quickfix
VERSION  := $(shell cat VERSION)
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
DOCDIR   ?= $(PREFIX)/share/doc/aftm
CC       ?= cc
CXX      ?= c++
CFLAGS   ?= -O2 -g

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wcast-qual -Wvla -Wundef
# pkg-config runs once, when a compile first needs it (after 'make deps' has installed the
# packages); build/pkg-config.ok fails the build with pkg-config's own message when one is missing.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)

AFTM_CPPFLAGS = -Isrc -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DAFTM_VERSION=$(VERSION) $(PKG_CFLAGS)
AFTM_CFLAGS   = -std=c11 $(WARNINGS)
AFTM_LIBS     = $(PKG_LIBS) -lstdc++ -lm -lpthread
# The FIX adapter is the one C++ file: QuickFIX 1.15's headers carry dynamic exception
# specifications, which C++17 removed, hence C++14.
AFTM_CXXFLAGS = -std=c++14 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wcast-qual -Wundef

ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

SRCS      := $(shell find src -name '*.c' ! -name main.c | sort)
CXX_SRCS  := $(shell find src -name '*.cpp' | sort)
TEST_SRCS := $(wildcard tests/unit/test_*.c)
BENCH_SRCS:= $(wildcard bench/*.c)

REL_OBJS  := $(SRCS:%.c=build/release/%.o) $(CXX_SRCS:%.cpp=build/release/%.o)
ASAN_OBJS := $(SRCS:%.c=build/asan/%.o) $(CXX_SRCS:%.cpp=build/asan/%.o)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=build/asan/tests/%)
# test programs in C++ on QuickFIX (the fault-injecting FIX acceptor)
FIX_TEST_BINS := $(patsubst tests/fix/%.cpp,build/asan/tests/fix/%,$(wildcard tests/fix/*.cpp))
BENCH_BINS:= $(BENCH_SRCS:bench/%.c=build/release/bench/%)

.PHONY: all deps run test soak unit e2e bench clean valgrind install uninstall layers FORCE

all: build/release/aftm

deps:
	@bash scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory build/release/aftm
	./build/release/aftm run --demo $(ARGS)

test: deps
	@$(MAKE) --no-print-directory build/asan/aftm build/release/aftm $(TEST_BINS) $(FIX_TEST_BINS)
	@bash scripts/run-tests.sh

# Every process killed (SIGKILL) and restarted at random, AFTM_KILL_ROUNDS times (make test runs
# 40), then the audit: nothing lost, doubled or stranded, positions equal to the exchange's.
soak: deps
	@$(MAKE) --no-print-directory build/asan/aftm
	@AFTM_BIN="$(CURDIR)/build/asan/aftm" AFTM_TESTDATA="$(CURDIR)/tests/data" \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  AFTM_KILL_ROUNDS=$${AFTM_KILL_ROUNDS:-200} /usr/bin/python3 tests/e2e/test_kill_restart.py

layers:
	@python3 scripts/check_layers.py src

bench: deps
	@$(MAKE) --no-print-directory build/release/aftm $(BENCH_BINS)
	@bash bench/run.sh

valgrind: build/release/aftm
	@bash scripts/valgrind-check.sh

install: build/release/aftm
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 build/release/aftm $(DESTDIR)$(BINDIR)/aftm
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 examples/* $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/aftm
	rm -rf $(DESTDIR)$(DOCDIR)

build/pkg-config.ok:
	@mkdir -p $(dir $@)
	@pkg-config --exists --print-errors $(PKGS) || { \
	  echo "aftm: missing build dependencies (see above); 'make deps' installs them" >&2; exit 1; }
	@touch $@

# Rewritten only when the compile or link flags change, so a change of flags rebuilds everything.
build/compile-flags: FORCE | build/pkg-config.ok
	@echo '$(CC) $(CXX) $(AFTM_CPPFLAGS) $(CPPFLAGS) $(AFTM_CFLAGS) $(CFLAGS) $(AFTM_CXXFLAGS) $(CXXFLAGS) $(LDFLAGS) $(LDLIBS)' | cmp -s - $@ || \
	  echo '$(CC) $(CXX) $(AFTM_CPPFLAGS) $(CPPFLAGS) $(AFTM_CFLAGS) $(CFLAGS) $(AFTM_CXXFLAGS) $(CXXFLAGS) $(LDFLAGS) $(LDLIBS)' > $@

build/release/%.o: %.c build/compile-flags | build/pkg-config.ok
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(AFTM_CPPFLAGS) $(CPPFLAGS) $(AFTM_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: %.c build/compile-flags | build/pkg-config.ok
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	@$(CC) $(AFTM_CPPFLAGS) $(CPPFLAGS) $(AFTM_CFLAGS) $(CFLAGS) $(ASAN_FLAGS) -MMD -MP -c $< -o $@

build/release/%.o: %.cpp build/compile-flags | build/pkg-config.ok
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	@$(CXX) $(AFTM_CPPFLAGS) $(CPPFLAGS) $(AFTM_CXXFLAGS) $(CXXFLAGS) -O2 -g -MMD -MP -c $< -o $@

build/asan/%.o: %.cpp build/compile-flags | build/pkg-config.ok
	@mkdir -p $(dir $@)
	@echo "  CXX asan $<"
	@$(CXX) $(AFTM_CPPFLAGS) $(CPPFLAGS) $(AFTM_CXXFLAGS) $(CXXFLAGS) $(ASAN_FLAGS) -MMD -MP -c $< -o $@

build/release/libaftm.a: $(REL_OBJS)
	@rm -f $@; ar rcs $@ $^

build/asan/libaftm.a: $(ASAN_OBJS)
	@rm -f $@; ar rcs $@ $^

build/release/aftm: build/release/src/main.o build/release/libaftm.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(AFTM_LIBS) $(LDLIBS)

build/asan/aftm: build/asan/src/main.o build/asan/libaftm.a
	@echo "  LD asan $@"
	@$(CC) $(CFLAGS) $(ASAN_FLAGS) $(LDFLAGS) -o $@ $^ $(AFTM_LIBS) $(LDLIBS)

build/asan/tests/%: build/asan/tests/unit/%.o build/asan/libaftm.a
	@mkdir -p $(dir $@)
	@echo "  LD asan $@"
	@$(CC) $(CFLAGS) $(ASAN_FLAGS) $(LDFLAGS) -o $@ $^ $(AFTM_LIBS) -lcmocka $(LDLIBS)

build/asan/tests/fix/%: tests/fix/%.cpp build/compile-flags | build/pkg-config.ok
	@mkdir -p $(dir $@)
	@echo "  CXX asan $<"
	@$(CXX) $(AFTM_CXXFLAGS) $(CXXFLAGS) $(ASAN_FLAGS) $(LDFLAGS) -o $@ $< -lquickfix -lpthread $(LDLIBS)

build/release/bench/%: build/release/bench/%.o build/release/libaftm.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(AFTM_LIBS) $(LDLIBS)

# One entry per source file, with the release build's exact command.
compile_commands.json: Makefile VERSION | build/pkg-config.ok
	@python3 scripts/compile_commands.py "$(CC) $(AFTM_CPPFLAGS) $(CPPFLAGS) $(AFTM_CFLAGS) $(CFLAGS) -Ibench" \
	  src/main.c $(SRCS) $(TEST_SRCS) $(BENCH_SRCS) > $@
	@echo "  GEN     $@"

FORCE:

clean:
	rm -rf build compile_commands.json

-include $(shell find build -name '*.d' 2>/dev/null)
