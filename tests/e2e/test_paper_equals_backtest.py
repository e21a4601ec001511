"""The same conditions on the same ticks give the same trades in the backtest and in paper
trading through the real processes (aftm run: gateway replaying the file, strategy, executor):
entry and exit sides, quantities and fill prices, in the same order. Market orders fill at the
next tick of the symbol in both.

The tick file is built so that each trade is decided away from the tick its entry fills on:
the entry's fill tick never reaches the take profit or the stop loss, and the price waits a
few ticks before moving on. That keeps the paper run independent of whether the strategy
hears of the fill before or after it sees the fill's tick (two sockets, no order between
them).

Also: --from-db gives the file's result; the executor's equity log holds today's equity =
capital + the realized P&L in money; aftm equity export writes the original's CSV; aftm chart
draws that log of a single row."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, check, check_logs_clean, entries_with_exits, hover, paper_run, ramp, write_paper_files  # noqa: E402

STEP_S = 0.05  # ticks 50 ms apart, replayed at speed 1: ample time for the order round trip


lead = hover(20000, 60)  # 3 s of quiet market while the processes connect
path = []
# 1. BUY 19950 turn 10 qty 2 tp 40 sl 20, trailing: trails down to 19930 (order 19940, TP 19980),
#    enters at 19940, fills at 19942, take profit signalled at 19981, filled at 19983
path += ramp(20000, 19930, 2) + hover(19931, 6)
path += [19934, 19936, 19938, 19940, 19942] + hover(19942, 6) + ramp(19943, 19990, 2) + hover(19990, 6)
# 2. SELL 20100 turn 10 qty 1 tp 30 sl 20: triggers at 20100, enters at 20090 (fill 20088), stop
#    loss 20110 signalled at 20111, filled at 20113
path += ramp(19990, 20104, 2) + ramp(20104, 20088, 2) + hover(20088, 6) + ramp(20089, 20116, 2) + hover(20116, 4)
# 3. SELL 20150 turn 8 qty 3 tp 30 sl 30, trailing: trails up to 20170 (order 20162, TP 20132),
#    enters at 20162, fills at 20160, take profit signalled at 20131, filled at 20129
path += ramp(20116, 20170, 2) + [20169, 20168, 20169, 20168, 20169] + ramp(20168, 20160, 2)
path += hover(20160, 6) + ramp(20161, 20128, 2) + hover(20128, 4)
# 4. BUY 19900 turn 5 qty 1 tp 25 sl 15: triggers at 19900, enters at 19905 (fill 19906), stop
#    loss 19890 signalled at 19889, filled at 19887
path += ramp(20128, 19900, 4) + [19898, 19899, 19901, 19903, 19905, 19906] + hover(19905, 6)
path += ramp(19905, 19886, 2)
tail = hover(19886, 30)
prices = lead + path + tail

EXPECTED = [  # (condition index, side, qty, entry fill, exit fill)
    (0, "buy", 2, 19942, 19983),
    (1, "sell", 1, 20088, 20113),
    (2, "sell", 3, 20160, 20129),
    (3, "buy", 1, 19906, 19887),
]

CONDITIONS = [
    {"condition_id": "0b7f3c2e-6a1d-4e58-9c3b-1f2a4d6e8b01", "action": "BUY", "trigger_price": 19950,
     "quantity": 2, "turning_point": 10, "take_profit_point": 40, "stop_loss_point": 20, "is_following": True},
    {"condition_id": "0b7f3c2e-6a1d-4e58-9c3b-1f2a4d6e8b02", "action": "SELL", "trigger_price": 20100,
     "quantity": 1, "turning_point": 10, "take_profit_point": 30, "stop_loss_point": 20, "is_following": False},
    {"condition_id": "0b7f3c2e-6a1d-4e58-9c3b-1f2a4d6e8b03", "action": "SELL", "trigger_price": 20150,
     "quantity": 3, "turning_point": 8, "take_profit_point": 30, "stop_loss_point": 30, "is_following": True},
    {"condition_id": "0b7f3c2e-6a1d-4e58-9c3b-1f2a4d6e8b04", "action": "BUY", "trigger_price": 19900,
     "quantity": 1, "turning_point": 5, "take_profit_point": 25, "stop_loss_point": 15, "is_following": False},
    # never triggers: no trade may come of it on either side
    {"condition_id": "0b7f3c2e-6a1d-4e58-9c3b-1f2a4d6e8b05", "action": "BUY", "trigger_price": 19000,
     "quantity": 1, "turning_point": 10, "take_profit_point": 30, "stop_loss_point": 20, "is_following": False},
]
UUID_INDEX = {c["condition_id"]: i for i, c in enumerate(CONDITIONS)}

e = Env()
ticks, cond_file = write_paper_files(e, prices, CONDITIONS, STEP_S)
print("%d ticks, %.1f s at speed 1" % (len(prices), len(prices) * STEP_S))


def backtest_trades(report):
    return [(UUID_INDEX.get(t["condition_id"], t["condition_id"]), t["side"], t["qty"], t["entry_price"],
             t["exit_price"]) for t in report["trades"]]


# (a) the backtest on the file's conditions
bt = e.json("backtest", "--ticks", ticks, "--conditions", cond_file, "--json", "--no-progress")
got_bt = backtest_trades(bt)
print("backtest:", got_bt)
check(bt["summary"]["ticks"] == len(prices), "the backtest saw every tick")
check(got_bt == EXPECTED, "the backtest makes the expected trades (next-tick fills)")
check(all(t["reason"] in ("take profit", "stop loss") for t in bt["trades"]), "every trade exits on its own")

# (b) the same conditions in the database; --from-db reads them back
e.cli("condition", "import", cond_file, "--symbol", "TXFF5")
bt_db = e.json("backtest", "--ticks", ticks, "--from-db", "--json", "--no-progress")
# conditions from the database are named by their stored uuid
check(backtest_trades(bt_db) == EXPECTED, "backtest --from-db makes the same trades as --conditions FILE")
check(bt_db["conditions"] == len(CONDITIONS), "--from-db read every active condition")

# (c) paper trading through the real processes
paper_run(e, ticks, len(prices), STEP_S)

conds = e.json("condition", "list", "--all", "--json")
check([(c["side"], c["qty"], c["turning_point"], c["take_profit_point"]) for c in conds] ==
      [(c["action"].lower(), c["quantity"], c["turning_point"], c["take_profit_point"]) for c in CONDITIONS],
      "imported in file order: database ids 1..n are the file's conditions")
orders = e.json("orders", "--json")
for o in orders:
    print(o["client_order_id"], o["side"], o["qty"], o["filled_qty"], o["avg_price"], o["status"], o["reason"])
check(all(o["status"] == "filled" and o["filled_qty"] == o["qty"] for o in orders), "every paper order filled")
pairs = entries_with_exits(orders)
got_paper = []
for o, x in pairs:
    got_paper.append((o["condition_id"] - 1, o["side"], o["qty"], int(o["avg_price"]),
                      int(x["avg_price"]) if x else None))
print("paper:   ", got_paper)
check(len(orders) == 2 * len(got_paper), "each paper entry has its exit")
check(got_paper == got_bt, "paper trading makes the same trades as the backtest, in the same order")
check(all(x is not None and x["side"] != o["side"] for o, x in pairs), "each exit is on the other side")

# the equity log: today's row = capital + realized P&L in money; the backtest's gross P&L is the same
rows = e.json("equity", "list", "--json")
print("equity log:", rows)
gross = bt["summary"]["gross_pnl"]
check(len(rows) == 1 and rows[0]["equity"] == 1000000 + round(gross),
      "the executor recorded today's equity: 1,000,000 + %d" % round(gross))
out_csv = os.path.join(e.home, "equity_log.csv")
e.cli("equity", "export", "-o", out_csv)
text = open(out_csv).read()
check(text == "date,equity\n%s,%d" % (rows[0]["date"], rows[0]["equity"]),
      "aftm equity export writes the original's format (no final newline)")
png = os.path.join(e.home, "equity.png")
_, out, _ = e.cli("chart", "-o", png)
head = open(png, "rb").read(24)
check(head[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(head[16:20], "big") == 1800,
      "aftm chart draws the database's equity log (a single row)")
# a first live day's return is against the starting capital, not 0
want = "Return: %+.1f%%" % ((rows[0]["equity"] - 1000000) / 1000000 * 100)
check(want in out, "a single row: the return against the capital (%s)" % want)
check_logs_clean(e)
print("PASS")
