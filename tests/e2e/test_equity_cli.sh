#!/usr/bin/env bash
# aftm equity list|export|set-capital|clear|logs and aftm chart on a backtest's named log
# (aftm backtest --record-equity NAME), which never touches the live log; aftm chart on a CSV
# shaped like the original's equity_log.csv (39 daily rows, no final newline) and on a single row.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${AFTM_BIN:-build/asan/aftm}
TESTDATA=${AFTM_TESTDATA:-tests/data}
SAMPLE="$TESTDATA/ticks/taifex_daily_sample.csv"
tmp=$(mktemp -d /tmp/aftm-e2e-equity.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export AFTM_HOME="$tmp/home"

fail() { echo "FAIL: $*"; exit 1; }
expect2() { # message-substring, command...
  local want=$1; shift
  set +e; "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"; local rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "exit $rc, want 2: $*"
  grep -q "$want" "$tmp/err.txt" || fail "stderr lacks '$want': $(cat "$tmp/err.txt")"
}
png_size() { /usr/bin/python3 -c '
import sys; h = open(sys.argv[1], "rb").read(24)
assert h[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
print(int.from_bytes(h[16:20], "big"), int.from_bytes(h[20:24], "big"))' "$1"; }

# no aftm data yet: the read-only list says so (exit 1) and makes no database
set +e; "$BIN" equity list >"$tmp/out.txt" 2>"$tmp/err.txt"; rc=$?; set -e
[ "$rc" -eq 1 ] || fail "equity list with no data: exit $rc, want 1"
grep -q "no aftm data in" "$tmp/err.txt" || fail "equity list with no data does not say so: $(cat "$tmp/err.txt")"
[ ! -e "$AFTM_HOME/aftm.db" ] || fail "a read-only command made a database"
"$BIN" resume >/dev/null # a command that writes makes it

# an empty log
"$BIN" equity list | grep -q "empty" || fail "empty list"
[ "$("$BIN" equity list --json | tr -d ' \n')" = "[]" ] || fail "empty JSON list"
expect2 "No data found in the equity log" "$BIN" chart -o "$tmp/none.png"
[ ! -e "$tmp/none.png" ] || fail "a chart of nothing was written"

# the starting capital
"$BIN" equity set-capital 149995 | grep -q 'NT\$149,995' || fail "set-capital output"
expect2 "positive" "$BIN" equity set-capital 0
expect2 "positive" "$BIN" equity set-capital abc
expect2 "unknown action" "$BIN" equity frobnicate

# a backtest keeps its daily equity in a named log, with its own capital; the live log stays empty
"$BIN" backtest --ticks "$SAMPLE" --conditions examples/conditions.json --capital 149995 --record-equity s1 --json \
  --no-progress >"$tmp/bt.json" 2>"$tmp/bt.err" || fail "backtest: $(cat "$tmp/bt.err")"
grep -q "kept as the equity log 's1'" "$tmp/bt.err" || fail "no note of the recording"
[ "$("$BIN" equity list --json | tr -d ' \n')" = "[]" ] || fail "a backtest wrote into the live log"
"$BIN" equity list --log s1 --json >"$tmp/list.json"
"$BIN" equity logs --json >"$tmp/logs.json"
/usr/bin/python3 - "$tmp" <<'EOF'
import json, sys
tmp = sys.argv[1]
bt = json.load(open(f"{tmp}/bt.json"))
rows = json.load(open(f"{tmp}/list.json"))
assert bt["summary"]["capital"] == 149995, bt["summary"]["capital"]
want = [{"date": p["date"], "equity": round(p["equity"]), "currency": "TWD"} for p in bt["equity"]]
assert rows == want, (rows, want)
# one trading day: the night of the 16th counts for the 17th; no invented row at the capital
assert len(rows) == 1 and rows[0]["date"] == "2025-06-17", rows
assert json.load(open(f"{tmp}/logs.json")) == [{"name": "s1", "capital": 149995, "currency": "TWD", "rows": 1}]
EOF
"$BIN" equity list --log s1 >"$tmp/list.txt"
# the first day's change and return are against the capital
ret=$(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print("%+.2f%%" % ((round(s["final_equity"]) - 149995) / 149995 * 100))' "$tmp/bt.json")
grep -q "2025-06-17" "$tmp/list.txt" && grep -q "1 day, return $ret" "$tmp/list.txt" || fail "text list: $(cat "$tmp/list.txt") (want $ret)"
expect2 "no equity log named" "$BIN" equity list --log nosuch
expect2 "log name" "$BIN" equity list --log 'x;y'

# export: the original's format, the same bytes to a file and to stdout
"$BIN" equity export --log s1 -o "$tmp/equity_log.csv" 2>"$tmp/exp.err"
grep -q "exported 1 row" "$tmp/exp.err" || fail "export note"
"$BIN" equity export --log s1 >"$tmp/stdout.csv"
cmp -s "$tmp/equity_log.csv" "$tmp/stdout.csv" || fail "export to stdout differs from -o"
[ "$(head -n 1 "$tmp/equity_log.csv")" = "date,equity" ] || fail "header"
[ "$(tail -c 1 "$tmp/equity_log.csv" | od -An -c | tr -d ' ')" != '\n' ] || fail "final newline"
[ "$(wc -l <"$tmp/equity_log.csv")" -eq 1 ] || fail "1 row (no final newline: 1 newline)"

# the chart from the named log
"$BIN" chart --log s1 -o "$tmp/db.png" >"$tmp/chart.txt" || fail "chart from the log"
grep -q "Chart saved to $tmp/db.png" "$tmp/chart.txt" || fail "chart output"
grep -q "Period: 2025-06-17 to 2025-06-17 (1 day)" "$tmp/chart.txt" || fail "period: $(cat "$tmp/chart.txt")"
[ "$(png_size "$tmp/db.png")" = "1800 750" ] || fail "chart size"
expect2 "No data found in the equity log" "$BIN" chart -o "$tmp/none.png"
# and the backtest's own chart of the run
"$BIN" backtest --ticks "$SAMPLE" --conditions examples/conditions.json --chart "$tmp/bt.png" --no-progress \
  >"$tmp/bt.txt" || fail "backtest --chart"
grep -q "Chart saved to $tmp/bt.png" "$tmp/bt.txt" || fail "backtest chart note"
[ "$(png_size "$tmp/bt.png")" = "1800 750" ] || fail "backtest chart size"

# a CSV shaped like the original's: 39 calendar days, 149,995 -> 175,532, one dip of 2.3%
/usr/bin/python3 - "$tmp/orig.csv" <<'EOF'
import datetime, sys
d0 = datetime.date(2025, 6, 1)
vals = [149995 + (175532 - 149995) * i / 38 for i in range(39)]
vals[20] = vals[19] * (1 - 0.0231)  # the only drawdown
rows = ["%s,%d" % (d0 + datetime.timedelta(days=i), round(v)) for i, v in enumerate(vals)]
open(sys.argv[1], "w").write("date,equity\n" + "\n".join(rows))
EOF
"$BIN" chart --equity "$tmp/orig.csv" -o "$tmp/orig.png" >"$tmp/orig.txt" || fail "chart of the original's CSV"
grep -q "Period: 2025-06-01 to 2025-07-09 (39 days)" "$tmp/orig.txt" || fail "period: $(cat "$tmp/orig.txt")"
grep -q "Return: +17.0%" "$tmp/orig.txt" || fail "return: $(cat "$tmp/orig.txt")"
grep -q "Max Drawdown: -2.3%" "$tmp/orig.txt" || fail "drawdown: $(cat "$tmp/orig.txt")"

# a single row (the original's script crashes on it)
printf 'date,equity\n2025-06-01,149995' >"$tmp/one.csv"
"$BIN" chart --equity "$tmp/one.csv" -o "$tmp/one.png" >"$tmp/one.txt" || fail "single row"
grep -q "Return: +0.0%" "$tmp/one.txt" && grep -q "Max Drawdown: 0.0%" "$tmp/one.txt" || fail "single row figures"
[ "$(png_size "$tmp/one.png")" = "1800 750" ] || fail "single row chart size"

# clear
"$BIN" equity clear --log s1 | grep -q "deleted the equity log 's1'" || fail "clear --log"
expect2 "no equity log named" "$BIN" chart --log s1 -o "$tmp/none.png"
"$BIN" equity logs | grep -q "(none" || fail "logs after clear"
"$BIN" equity clear | grep -q "deleted 0 rows" || fail "clear"
echo "ok"
