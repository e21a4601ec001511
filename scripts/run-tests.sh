#!/usr/bin/env bash
# Runs every unit test binary (ASan+UBSan build), then every end-to-end test against the
# real binary. Prints one line per test program and a closing 'N passed, N failed'.
set -u
cd "$(dirname "$0")/.."
export AFTM_BIN="$PWD/build/asan/aftm"
export AFTM_RELEASE_BIN="$PWD/build/release/aftm"
export AFTM_TESTDATA="$PWD/tests/data"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
PY=/usr/bin/python3
passed=0; failed=0; failures=()
logdir=$(mktemp -d /tmp/aftm-tests.XXXXXX)

run_one() { # name, command...
  local name=$1; shift
  local log="$logdir/$(echo "$name" | tr '/ ' '__').log"
  local start=$(date +%s)
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1)); echo "PASS  $name ($(( $(date +%s) - start ))s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL  $name ($(( $(date +%s) - start ))s)"
    sed 's/^/      | /' "$log" | tail -60
  fi
}

filter=${TEST_FILTER:-}
if [ -z "$filter" ] || [[ layers == *$filter* ]]; then
  run_one "layering" "$PY" scripts/check_layers.py src
fi
for t in build/asan/tests/test_*; do
  [ -x "$t" ] || continue
  [ -f "tests/unit/$(basename "$t").c" ] || continue # a binary left from a test that is gone
  [ -n "$filter" ] && [[ "$t" != *$filter* ]] && continue
  run_one "unit/$(basename "$t")" "$t"
done
for t in tests/e2e/test_*.sh tests/e2e/test_*.py; do
  [ -e "$t" ] || continue
  [ -n "$filter" ] && [[ "$t" != *$filter* ]] && continue
  case "$t" in
    *.py) run_one "e2e/$(basename "$t")" timeout 600 "$PY" "$t" ;;
    *.sh) run_one "e2e/$(basename "$t")" timeout 600 bash "$t" ;;
  esac
done
echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
if [ "$failed" -eq 0 ]; then rm -rf "$logdir"; else echo "logs: $logdir"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
