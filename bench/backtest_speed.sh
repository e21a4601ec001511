#!/usr/bin/env bash
# Import + backtest of a day of ticks (1,000,000 rows), timed against reading the same file
# with wc -l (the floor: the bytes off the page cache). Prints a markdown section.
#   bench/backtest_speed.sh AFTM GEN_TICKS SHARED_SAMPLE
set -u
AFTM=$1 GEN=$2 SAMPLE=$3
tmp=$(mktemp -d /tmp/aftm-btbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ROWS=${BT_ROWS:-1000000}
cond=$(cd "$(dirname "$0")/.." && pwd)/examples/conditions.json
"$GEN" plain "$ROWS" "$tmp/plain.csv" || exit 1
"$GEN" taifex "$ROWS" "$tmp/taifex.csv" "$SAMPLE" || exit 1
ms() { date +%s%3N; }
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
time_cmd() { # prints the median wall ms of 3 runs of "$@"
  local t=()
  for _ in 1 2 3; do
    local a=$(ms); "$@" >/dev/null 2>&1; local b=$(ms); t+=($((b - a)))
  done
  median3 "${t[@]}"
}
echo
echo "## Backtest: import + backtest of a day of ticks"
echo
echo "A generated day of $ROWS ticks (random walk, TX), read by \`aftm backtest\` with the"
echo "conditions of \`examples/conditions.json\`, median of 3 runs; the floor is \`wc -l\` of the same"
echo "file (reading its bytes once)."
echo
echo "| file | size | aftm backtest | floor (wc -l) | ratio | under 1 s |"
echo "|---|---|---|---|---|---|"
for kind in plain taifex; do
  f=$tmp/$kind.csv
  size=$(du -m "$f" | cut -f1)
  extra=()
  [ "$kind" = taifex ] && extra=(--product TX)
  bt=$(time_cmd "$AFTM" backtest --ticks "$f" --conditions "$cond" "${extra[@]}" --no-progress --json)
  fl=$(time_cmd wc -l "$f")
  ratio=$(awk -v a="$bt" -v b="$fl" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
  ok=$([ "$bt" -lt 1000 ] && echo yes || echo no)
  echo "| $kind ($( [ $kind = taifex ] && echo "CP950, CRLF" || echo "UTF-8")) | ${size} MB | ${bt} ms | ${fl} ms | ${ratio} × | $ok |"
done
