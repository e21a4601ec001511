#!/usr/bin/env bash
# aftm backtest and aftm chart end to end on the shared TAIFEX sample: JSON report, equity CSV,
# PNG chart, and the errors for bad input (exit code 2); over several days, the report, its
# chart and aftm chart on its equity CSV agree on the max drawdown; a named equity log keeps
# the live one clean; latency and limit entries are stated in the report.
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
    sign = 1 if t["side"] == "buy" else -1
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
grep -q "costs           NT\\$" "$tmp/text.txt" || fail "costs in NT$: $(grep costs "$tmp/text.txt")"
grep -q "tax 0.00002 x price x 50 per contract per side" "$tmp/text.txt" || fail "the tax rule: $(cat "$tmp/text.txt")"
! grep -q "e-05" "$tmp/text.txt" || fail "a rate in exponent notation"
grep -q "fills        market orders at the next tick" "$tmp/text.txt" || fail "fill model: $(grep fills "$tmp/text.txt")"
for k in "expectancy" "streaks" "sortino" "calmar" "intraday" "a day over"; do
  grep -q "$k" "$tmp/text.txt" || fail "no $k in the report"
done

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
# several days of a plain CSV (a random walk, UTC+8): one max drawdown everywhere
/usr/bin/python3 - "$tmp/days.csv" <<'PY'
import datetime, random, sys
random.seed(7)
rows, p = [], 22000
for d in range(6):
    day = datetime.date(2025, 6, 2) + datetime.timedelta(days=d + (2 if d >= 5 else 0))  # a weekend inside
    t = datetime.datetime.combine(day, datetime.time(1, 0))  # 09:00 +08:00
    for i in range(1500):
        p = max(100, p + random.choice((-3, -2, -1, 0, 1, 2, 3)))
        rows.append("%s,TX202507,%d,1" % ((t + datetime.timedelta(seconds=10 * i)).strftime("%Y-%m-%d %H:%M:%S"), p))
open(sys.argv[1], "w").write("datetime,symbol,price,volume\n" + "\n".join(rows) + "\n")
PY
cat >"$tmp/rep.json" <<'JSON'
[{"condition_id": "eea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d31", "action": "BUY", "trigger_price": 21990,
  "quantity": 1, "turning_point": 10, "take_profit_point": 40, "stop_loss_point": 30, "is_following": true},
 {"condition_id": "eea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d32", "action": "SELL", "trigger_price": 22010,
  "quantity": 1, "turning_point": 10, "take_profit_point": 40, "stop_loss_point": 30, "is_following": true}]
JSON
"$BIN" backtest --ticks "$tmp/days.csv" --tz +08:00 --conditions "$tmp/rep.json" --repeat --capital 500000 \
  --report "$tmp/days.json" --chart "$tmp/days.png" --equity-csv "$tmp/days_eq.csv" --record-equity days-1 \
  --no-progress >"$tmp/days.txt" 2>&1 || fail "multi-day backtest: $(cat "$tmp/days.txt")"
"$BIN" chart --equity "$tmp/days_eq.csv" --capital 500000 --json -o "$tmp/days2.png" >"$tmp/chart_csv.json" \
  || fail "aftm chart on the equity CSV"
"$BIN" chart --log days-1 --json -o "$tmp/days3.png" >"$tmp/chart_log.json" || fail "aftm chart --log"
"$BIN" equity list --log days-1 >"$tmp/list_log.txt" || fail "equity list --log"
[ "$("$BIN" equity list --json | tr -d ' \n')" = "[]" ] || fail "the backtest wrote into the live equity log"
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
r = json.load(open(tmp + "/days.json"))
s = r["summary"]
csv = json.load(open(tmp + "/chart_csv.json"))
log = json.load(open(tmp + "/chart_log.json"))
assert len(r["equity"]) == 6 and s["trades"] >= 10, (r["equity"], s["trades"])
dd = s["max_drawdown_pct"]
assert dd < -0.05, dd  # a real drawdown, or agreeing would prove nothing
assert s["intraday_max_drawdown_pct"] < dd, s  # tick by tick goes deeper than the closes
# the report, its --chart, aftm chart on --equity-csv and on the named log: one figure
# (the CSV and the log hold whole NT$, hence the tolerance)
for name, got in (("--chart", r["chart"]["max_drawdown_pct"]), ("aftm chart --equity", csv["max_drawdown_pct"]),
                  ("aftm chart --log", log["max_drawdown_pct"])):
    assert abs(got - dd) < 1e-3, (name, got, dd)
for got in (r["chart"]["return_pct"], csv["return_pct"], log["return_pct"]):
    assert abs(got - s["return_pct"]) < 1e-3, (got, s["return_pct"])
assert r["chart"]["intraday_max_drawdown_pct"] == s["intraday_max_drawdown_pct"]
text = open(tmp + "/days.txt").read()
assert "(%.2f%%) of the daily closes" % dd in text, text
lst = open(tmp + "/list_log.txt").read()
assert "6 days, return %+.2f%%, max drawdown %.2f%%" % (s["return_pct"], dd) in lst, lst
for k in ("sharpe", "sortino", "calmar"):
    assert s[k] is not None, (k, s)
PY
grep -q "kept as the equity log 'days-1'" "$tmp/days.txt" || fail "no note of the named log"
expect2 "needs a log name" "$BIN" backtest --ticks "$SAMPLE" --conditions "$tmp/conditions.json" --record-equity
expect2 "needs a log name" "$BIN" backtest --ticks "$SAMPLE" --conditions "$tmp/conditions.json" --record-equity 'a b'
expect2 "no equity log named" "$BIN" chart --log nosuch -o "$tmp/x.png"

# fill realism: latency and limit entries, stated in the report
"$BIN" backtest --ticks "$tmp/days.csv" --tz +08:00 --conditions "$tmp/rep.json" --repeat --latency-ms 15000 \
  --orders limit --json --no-progress >"$tmp/lat.json" 2>/dev/null || fail "latency backtest"
/usr/bin/python3 - "$tmp/lat.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["config"]
assert c["latency_ms"] == 15000 and c["orders"] == "limit", c
assert "at least 15000 ms after the signal" in c["fill_model"] and "trades through" in c["fill_model"], c
t = r["trades"]
assert t, "no trade"
for x in t:  # a limit entry fills at its signal price
    assert x["entry_price"] == x["entry_signal_price"], x
PY
expect2 "next tick model" "$BIN" backtest --ticks "$SAMPLE" --conditions "$tmp/conditions.json" --fill same --latency-ms 5
expect2 "bad value" "$BIN" backtest --ticks "$SAMPLE" --conditions "$tmp/conditions.json" --latency-ms -1
expect2 "'market' or 'limit'" "$BIN" backtest --ticks "$SAMPLE" --conditions "$tmp/conditions.json" --orders stop
# numbers a stored condition may not hold are refused before anything trades, as at import
printf '[{"condition_id":"c41d8e2a-5b7f-4a19-8e3c-6f0a2b9d4e71","action":"BUY","trigger_price":9223372036854775807,"turning_point":10,"quantity":1,"take_profit_point":90,"stop_loss_point":30,"is_following":false}]' >"$tmp/huge.json"
expect2 "out of range" "$BIN" backtest --ticks "$SAMPLE" --conditions "$tmp/huge.json"
expect2 "out of range" "$BIN" optimize --ticks "$SAMPLE" --product TX --conditions "$tmp/huge.json" --grid 'turning=5..10:5'
echo "ok"
