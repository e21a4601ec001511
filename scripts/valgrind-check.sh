#!/usr/bin/env bash
# A normal run under valgrind: 'aftm run --demo' for a few seconds (gateway, executor and
# strategy traced as children), then the CLI commands. Fails on any leak or memory error.
set -u
cd "$(dirname "$0")/.."
BIN=$PWD/build/release/aftm
home=$(mktemp -d /tmp/aftm-valgrind.XXXXXX)
logs=$home/vg
mkdir -p "$logs"
export AFTM_HOME=$home
VG="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --trace-children=yes --log-file=$logs/%p.log"
$VG "$BIN" run --demo --for 12 --seed 11 --rate 50 >"$home/run.out" 2>&1
$VG "$BIN" condition list >/dev/null
$VG "$BIN" orders --json >/dev/null
$VG "$BIN" positions >/dev/null
$VG "$BIN" conform tests/data/conformance/strategy_cases.jsonl >/dev/null
bad=0
for f in "$logs"/*.log; do
  if [ -s "$f" ]; then echo "== $f"; cat "$f"; bad=1; fi
done
echo "processes checked: $(ls "$logs" | wc -l); orders placed: $("$BIN" orders --json | grep -c client_order_id)"
if [ $bad -eq 0 ]; then echo "valgrind: no leaks, no errors"; else echo "valgrind: problems found"; fi
exit $bad
