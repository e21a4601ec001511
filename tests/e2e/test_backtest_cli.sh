#!/usr/bin/env bash
# aftm backtest and aftm chart end to end on the shared TAIFEX sample: JSON report, equity CSV,
# PNG chart, and the errors for bad input (exit code 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${AFTM_BIN:-build/asan/aftm}
TESTDATA=${AFTM_TESTDATA:-tests/data}
SAMPLE="$TESTDATA/ticks/taifex_daily_sample.csv"
tmp=$(mktemp -d /tmp/aftm-e2e-backtest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export AFTM_HOME="$tmp/home" # --from-db and chart without --equity read this data directory

cat >"$tmp/conditions.json" <<'EOF'
[
  {"condition_id": "eea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d21", "action": "BUY", "trigger_price": 22150,
   "quantity": 1, "turning_point": 10, "take_profit_point": 40, "stop_loss_point": 20,
   "take_profit_price": 0, "stop_loss_price": 0, "order_price": 0, "is_following": true,
   "is_trigger": false, "is_ordered": false, "is_exited": false},
  {"condition_id": "eea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d22", "action": "SELL", "trigger_price": 22240,
   "quantity": 2, "turning_point": 10, "take_profit_point": 30, "stop_loss_point": 30,
   "is_following": false},
  {"condition_id": "bad", "action": "BUY", "trigger_price": 1, "quantity": 1}
]
EOF

fail() { echo "FAIL: $*"; exit 1; }

"$BIN" backtest --ticks "$SAMPLE" --product TX --conditions "$tmp/conditions.json" --slippage 1 --fee 50 \
  --json --report "$tmp/report.json" --chart "$tmp/equity.png" --equity-csv "$tmp/equity.csv" \
  >"$tmp/stdout.json" 2>"$tmp/stderr.txt" || fail "backtest exited $?: $(cat "$tmp/stderr.txt")"
grep -q "record 2 skipped" "$tmp/stderr.txt" || fail "bad condition record not reported"

/usr/bin/python3 - "$tmp" <<'EOF'
import json, sys
tmp = sys.argv[1]
out = json.load(open(f"{tmp}/stdout.json"))
rep = json.load(open(f"{tmp}/report.json"))
assert out["summary"] == rep["summary"], "stdout and --report differ"
s = out["summary"]
assert out["symbol"] == "TX202507", out["symbol"]
assert out["format"] == "taifex"
assert out["conditions"] == 2 and out["conditions_skipped"] == 1
assert s["ticks"] == 1215, s["ticks"]
assert s["first_tick"] == "2025-06-16T15:00:33+08:00", s["first_tick"]
trades = out["trades"]
assert len(trades) == s["trades"] and s["trades"] >= 1
for t in trades:
    assert t["reason"] in ("take profit", "stop loss", "end of data"), t
    sign = 1 if t["side"] == "BUY" else -1
    assert t["points"] == (t["exit_price"] - t["entry_price"]) * sign * t["qty"], t
    assert abs(t["gross_pnl"] - t["points"] * 200) < 1e-6, t
    assert abs(t["net_pnl"] - (t["gross_pnl"] - t["costs"])) < 1e-6, t
assert abs(sum(t["net_pnl"] for t in trades) - s["net_pnl"]) < 1e-6
assert abs(s["final_equity"] - (s["capital"] + s["net_pnl"])) < 1e-6
# the daily series starts with the first trading day's close, not an invented row at the capital
assert out["equity"][0]["date"] == "2025-06-17", out["equity"]
assert abs(out["equity"][-1]["equity"] - s["final_equity"]) < 1e-6
lines = open(f"{tmp}/equity.csv").read().split("\n")
assert lines[0] == "date,equity" and len(lines) == len(out["equity"]) + 1, lines
png = open(f"{tmp}/equity.png", "rb").read(24)
assert png[:8] == b"\x89PNG\r\n\x1a\n"
assert int.from_bytes(png[16:20], "big") == 1800 and int.from_bytes(png[20:24], "big") == 750
EOF

# the text report
"$BIN" backtest --ticks "$SAMPLE" --product MTX --conditions "$tmp/conditions.json" >"$tmp/text.txt" 2>/dev/null
grep -q "Backtest MTX202507" "$tmp/text.txt" || fail "text report header"
grep -q "net P&L" "$tmp/text.txt" || fail "text report summary"

# aftm chart on the backtest's equity CSV
"$BIN" chart --equity "$tmp/equity.csv" -o "$tmp/chart.png" >"$tmp/chart.txt" || fail "chart exited $?"
grep -q "Chart saved to" "$tmp/chart.txt" || fail "chart output"
[ -s "$tmp/chart.png" ] || fail "no chart PNG"

# bad input: exit code 2 and a clear message
expect2() { # message-substring, command...
  local want=$1; shift
  set +e; "$@" >/dev/null 2>"$tmp/err.txt"; local rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "exit $rc, want 2: $*"
  grep -q "$want" "$tmp/err.txt" || fail "stderr lacks '$want': $(cat "$tmp/err.txt")"
}
printf '<!DOCTYPE html>\n<html><body>holiday</body></html>\n' >"$tmp/holiday.csv"
expect2 "HTML page" "$BIN" backtest --ticks "$tmp/holiday.csv" --conditions "$tmp/conditions.json"
expect2 "not found" "$BIN" backtest --ticks "$SAMPLE" --product TE --conditions "$tmp/conditions.json"
expect2 "no active condition" "$BIN" backtest --ticks "$SAMPLE" --from-db
expect2 "not both" "$BIN" backtest --ticks "$SAMPLE" --from-db --conditions "$tmp/conditions.json"
expect2 "required" "$BIN" backtest --ticks "$SAMPLE"
expect2 "bad value" "$BIN" backtest --ticks "$SAMPLE" --conditions "$tmp/conditions.json" --tax abc
expect2 "invalid JSON" "$BIN" backtest --ticks "$SAMPLE" --conditions "$tmp/holiday.csv"
expect2 "No data found in the equity log" "$BIN" chart -o "$tmp/x.png"
printf 'date,equity\n' >"$tmp/empty.csv"
expect2 "No data" "$BIN" chart --equity "$tmp/empty.csv" -o "$tmp/x.png"

# the zip TAIFEX publishes, read as is; bad zips are refused with exit 2 and write nothing
REALZIP="$TESTDATA/ticks/Daily_2021_07_26.zip"
"$BIN" backtest --ticks "$REALZIP" --product MTX --conditions "$tmp/conditions.json" --repeat --json \
  --report "$tmp/zip.json" --no-progress >/dev/null 2>"$tmp/zip.err" || fail "zip backtest: $(cat "$tmp/zip.err")"
/usr/bin/python3 - "$tmp/zip.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["symbol"] == "MTX202108" and r["summary"]["ticks"] == 199567, (r["symbol"], r["summary"]["ticks"])
assert r["config"]["repeating_conditions"] == 2
assert [d["date"] for d in r["equity"]] == ["2021-07-26"], r["equity"]  # Friday night counts for Monday
PY
head -c 300 "$REALZIP" >"$tmp/cut.zip"
expect2 "not a readable zip archive" "$BIN" backtest --ticks "$tmp/cut.zip" --conditions "$tmp/conditions.json" --report "$tmp/none.json"
[ ! -e "$tmp/none.json" ] || fail "a report was written for a corrupt zip"
printf '<!DOCTYPE html><html><body>no data</body></html>\n' >"$tmp/Daily_2025_01_01.zip"
expect2 "HTML page" "$BIN" backtest --ticks "$tmp/Daily_2025_01_01.zip" --conditions "$tmp/conditions.json"
"$BIN" backtest --ticks "$SAMPLE" --conditions "$tmp/conditions.json" --no-progress >"$tmp/default.txt" 2>&1 \
  || fail "backtest without --product"
grep -q "replaying TX" "$tmp/default.txt" || fail "the default product is not said"

# optimize: a grid with walk-forward, its CSV, JSON and heatmap
"$BIN" optimize --ticks "$SAMPLE" --product TX --conditions "$tmp/conditions.json" --grid 'turning=5..15:5,tp=20..40:10' \
  --walk-forward 3 --threads 2 --csv "$tmp/grid.csv" --json "$tmp/grid.json" --heatmap "$tmp/heat.png" \
  >"$tmp/opt.txt" 2>&1 || fail "optimize: $(cat "$tmp/opt.txt")"
grep -q "Walk-forward, 3 folds" "$tmp/opt.txt" || fail "no walk-forward table"
[ "$(wc -l <"$tmp/grid.csv")" -eq 10 ] || fail "grid CSV: want a header and 9 rows"
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
g = json.load(open(sys.argv[1] + "/grid.json"))
assert len(g["grid"]) == 9 and len(g["walk_forward"]) == 2, g
assert open(sys.argv[1] + "/heat.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
PY
expect2 "want" "$BIN" optimize --ticks "$SAMPLE" --product TX --conditions "$tmp/conditions.json" --grid 'bogus=1..2'
echo "ok"
