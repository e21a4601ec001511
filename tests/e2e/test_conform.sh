#!/usr/bin/env bash
# The strategy against every conformance case recorded from the original system.
set -euo pipefail
out=$("$AFTM_BIN" conform "$AFTM_TESTDATA/conformance/strategy_cases.jsonl")
last=$(printf '%s\n' "$out" | tail -n 1)
echo "$last"
[ "$last" = "60 passed, 0 failed" ]
# each case line carries its signals and final states
[ "$(printf '%s\n' "$out" | grep -c '"final"')" -eq 60 ]
# a malformed case file is bad input: exit 2 with the line number
bad=$(mktemp /tmp/aftm-conform.XXXXXX)
trap 'rm -f "$bad" "$bad.err"' EXIT
printf '{"case": "x", "conditions": [{"action": "HOLD", "trigger_price": 1}], "prices": [1]}\nnot json\n' >"$bad"
set +e
"$AFTM_BIN" conform "$bad" >/dev/null 2>"$bad.err"
code=$?
set -e
rm -f "$bad"
grep -q "line 1" "$bad.err" && grep -q "line 2" "$bad.err"
rm -f "$bad.err"
[ "$code" -eq 2 ]
echo PASS
