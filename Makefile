# aftm — automatic futures trading machine.
#   make run    install what is missing, build, start the all-in-one system on the simulator
#   make test   install what is missing, build with ASan+UBSan, run every test
#   make bench  build optimised and run the benchmarks (writes docs/PERFORMANCE.md)

PKGS     := libzmq msgpack sqlite3 jansson cairo inih libzip
CC       ?= cc
BASEFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
            -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread

RELEASE_FLAGS := -O2 -g
ASAN_FLAGS    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

SRCS      := $(shell find src -name '*.c' ! -name main.c | sort)
TEST_SRCS := $(wildcard tests/unit/test_*.c)
BENCH_SRCS:= $(wildcard bench/*.c)

REL_OBJS  := $(SRCS:%.c=build/release/%.o)
ASAN_OBJS := $(SRCS:%.c=build/asan/%.o)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=build/asan/tests/%)
BENCH_BINS:= $(BENCH_SRCS:bench/%.c=build/release/bench/%)

.PHONY: all deps run test unit e2e bench clean valgrind

all: build/release/aftm

deps:
	@bash scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory build/release/aftm
	./build/release/aftm run --demo $(ARGS)

test: deps
	@$(MAKE) --no-print-directory build/asan/aftm build/release/aftm $(TEST_BINS)
	@bash scripts/run-tests.sh

bench: deps
	@$(MAKE) --no-print-directory build/release/aftm $(BENCH_BINS)
	@bash bench/run.sh

valgrind: build/release/aftm
	@bash scripts/valgrind-check.sh

build/release/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(BASEFLAGS) $(RELEASE_FLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	@$(CC) $(BASEFLAGS) $(ASAN_FLAGS) -MMD -MP -c $< -o $@

build/release/libaftm.a: $(REL_OBJS)
	@rm -f $@; ar rcs $@ $^

build/asan/libaftm.a: $(ASAN_OBJS)
	@rm -f $@; ar rcs $@ $^

build/release/aftm: build/release/src/main.o build/release/libaftm.a
	@echo "  LD      $@"
	@$(CC) $(RELEASE_FLAGS) -o $@ $^ $(LDLIBS)

build/asan/aftm: build/asan/src/main.o build/asan/libaftm.a
	@echo "  LD asan $@"
	@$(CC) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

build/asan/tests/%: build/asan/tests/unit/%.o build/asan/libaftm.a
	@mkdir -p $(dir $@)
	@echo "  LD asan $@"
	@$(CC) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS) -lcmocka

build/release/bench/%: build/release/bench/%.o build/release/libaftm.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(RELEASE_FLAGS) -o $@ $^ $(LDLIBS)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
