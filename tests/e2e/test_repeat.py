"""Conditions that repeat (issue 12): a condition stored with "repeat": true (imported) is armed
again after each exit under the same positive id, trades again on the next swing, shows in
`condition list` (text and --json), and the backtest of the same file makes the same trades
(sides, quantities, fill prices, per condition) as paper trading through the real processes.
A condition without repeat trades once. `condition rm` removes a repeating condition like any
other; `condition add --repeat` stores the flag.

The tick file is built as test_paper_equals_backtest.py builds its own: each trade is decided
away from the tick its entry fills on, so the paper run does not depend on whether the
strategy hears of the fill before or after the fill's tick."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import (Env, check, check_logs_clean, entries_with_exits, hover, paper_run, ramp,  # noqa: E402
                      wait_until, write_paper_files)

STEP_S = 0.05


# BUY 19900 turn 5 tp 25 sl 15 (not trailing): triggers at <= 19900, enters at 19905, take
# profit 19930, stop loss 19890.
ENTRY = [19898, 19899, 19901, 19903, 19905, 19906] + hover(19905, 6)
lead = hover(20000, 60)
path = []
path += ramp(20000, 19900, 4) + ENTRY + ramp(19905, 19936, 2) + hover(19936, 6)  # 1: take profit
path += ramp(19936, 19900, 4) + ENTRY + ramp(19905, 19886, 2) + hover(19886, 6)  # 2: stop loss
path += ramp(19886, 19897, 2) + ENTRY + ramp(19905, 19936, 2) + hover(19936, 6)  # 3: take profit
tail = hover(19960, 40)
prices = lead + path + tail

CONDITIONS = [
    {"condition_id": "5e1c0a52-0000-4000-8000-000000000001", "action": "BUY", "trigger_price": 19900,
     "quantity": 1, "turning_point": 5, "take_profit_point": 25, "stop_loss_point": 15, "is_following": False,
     "repeat": True},
    # the same without repeat: its one trade, then done
    {"condition_id": "5e1c0a52-0000-4000-8000-000000000002", "action": "BUY", "trigger_price": 19900,
     "quantity": 2, "turning_point": 5, "take_profit_point": 25, "stop_loss_point": 15, "is_following": False},
]
UUID_INDEX = {c["condition_id"]: i for i, c in enumerate(CONDITIONS)}

e = Env()
ticks, cond_file = write_paper_files(e, prices, CONDITIONS, STEP_S)

# (a) the backtest on the file
bt = e.json("backtest", "--ticks", ticks, "--conditions", cond_file, "--json", "--no-progress")
bt_by_cond = {0: [], 1: []}
for t in bt["trades"]:
    bt_by_cond[UUID_INDEX[t["condition_id"]]].append((t["side"], t["qty"], t["entry_price"], t["exit_price"]))
print("backtest:", bt_by_cond)
check(len(bt_by_cond[0]) == 3, "the backtest trades the repeating condition on each of the three swings")
check(len(bt_by_cond[1]) == 1, "the backtest trades the condition without repeat once")
check([t["reason"] for t in bt["trades"] if UUID_INDEX[t["condition_id"]] == 0] ==
      ["take profit", "stop loss", "take profit"], "take profit, stop loss, take profit")

# (b) stored: the import keeps "repeat"; the list shows it
_, out, _ = e.cli("condition", "import", cond_file, "--symbol", "TXFF5")
conds = e.json("condition", "list", "--json")
check([c["repeat"] for c in conds] == [True, False], "condition list --json: repeat true for the first only")
check(all(c["round"] == 1 for c in conds), "both are armed the first time (round 1)")
_, text, _ = e.cli("condition", "list")
lines = text.splitlines()
check("repeat" in lines[0] and "#1" in lines[1] and " no " in lines[2],
      "condition list shows a repeat column: #1 for the repeating one, no for the other")
bt_db = e.json("backtest", "--ticks", ticks, "--from-db", "--json", "--no-progress")
check(len(bt_db["trades"]) == 4, "backtest --from-db repeats the stored repeating condition too")
rid, oid = conds[0]["id"], conds[1]["id"]

# (c) paper trading through the real processes
paper_run(e, ticks, len(prices), STEP_S)

orders = e.json("orders", "--json")
for o in orders:
    print(o["client_order_id"], o["condition_id"], o["side"], o["qty"], o["avg_price"], o["status"])
check(all(o["status"] == "filled" and o["filled_qty"] == o["qty"] for o in orders), "every paper order filled")
check(all(o["condition_id"] in (rid, oid) for o in orders), "every order carries a stored, positive condition id")
paper = {0: [], 1: []}
for o, x in entries_with_exits(orders):
    paper[0 if o["condition_id"] == rid else 1].append(
        (o["side"], o["qty"], int(o["avg_price"]), int(x["avg_price"]) if x else None))
print("paper:   ", paper)
check(paper == bt_by_cond, "paper trading makes the same trades as the backtest, per condition, in order")
sids = sorted(o["client_order_id"].split("-")[-1] for o in orders if o["condition_id"] == rid)
check(sids == sorted(["%d.E" % rid, "%d.X" % rid, "%dr1.E" % rid, "%dr1.X" % rid, "%dr2.E" % rid, "%dr2.X" % rid]),
      "each round's orders are named by the round: %s" % sids)

allc = {c["id"]: c for c in e.json("condition", "list", "--all", "--json")}
check(allc[rid]["status"] == "active" and allc[rid]["round"] == 4 and allc[rid]["entry_state"] == "none",
      "the repeating condition is armed again, the fourth time, waiting for its trigger")
check(allc[oid]["status"] == "done", "the one without repeat is done after its exit")
pos = {p["symbol"]: p for p in e.json("positions", "--json")}
check("TXFF5" in pos and pos["TXFF5"]["net_qty"] == 0, "flat after the exits")

# one JSON style across commands: qty, avg_price, side in lower case, times ISO 8601 with offset,
# money labelled with its currency
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")
fills = e.json("fills", "--json")
check(fills and all(isinstance(f["qty"], int) and ISO.match(f["time"]) for f in fills), "fills: qty, ISO times")
check(all(ISO.match(o["time"]) and o["side"] in ("buy", "sell") and o["avg_price"] == o["avg_fill_price"]
          for o in orders), "orders: ISO times, side in lower case, avg_price")
check(all(c["qty"] == c["quantity"] and ISO.match(c["created_at"]) and ISO.match(c["updated_at"])
          for c in allc.values()), "condition list: qty, ISO created_at and updated_at")
check(all(t["side"] in ("buy", "sell") for t in bt["trades"]) and bt["summary"]["currency"] == "TWD" and
      ISO.match(bt["trades"][0]["entry_time"]), "backtest: side in lower case, money in TWD, ISO times")
p0 = pos["TXFF5"]
check("avg_price" in p0 and p0["pnl_unit"] == "points", "positions: avg_price, P&L labelled in points")
st = e.json("status", "--json")
check(st["pnl_unit"] == "points" and all(ISO.match(f["time"]) and f["side"] in ("buy", "sell")
                                         for f in st["latest_fills"]) and st["latest_fills"],
      "status: latest fills with ISO times, P&L labelled")
check(st["session"]["expires_at"] is None or ISO.match(st["session"]["expires_at"]), "status: expires_at ISO or null")
eq = e.json("equity", "list", "--json")
check(eq and all(r["currency"] == "TWD" for r in eq), "equity list: money labelled TWD")

# (d) removable like any other, out of the active list
_, out, _ = e.cli("condition", "rm", str(rid))
check("condition %d cancelled" % rid in out, "condition rm cancels the repeating condition")
check(e.json("condition", "list", "--json") == [], "nothing active is left")
check({c["id"]: c["status"] for c in e.json("condition", "list", "--all", "--json")}[rid] == "cancelled",
      "it stays in the list of all as cancelled")

# (e) condition add --repeat stores the flag
_, out, _ = e.cli("condition", "add", "--side", "sell", "--trigger", "20500", "--turning", "10", "--qty", "1",
                  "--symbol", "TXFF5", "--repeat")
check("armed again after each exit" in out, "condition add --repeat says the condition repeats")
check([c["repeat"] for c in e.json("condition", "list", "--json")] == [True], "and stores it")
check_logs_clean(e)

# (f) the demo's conditions repeat: stored, positive ids through the rounds, removable
d = Env()
run = d.start("run", "--demo", "--seed", "11", "--rate", "50", "--for", "240", "--account", "SIM-0001")


def demo_conditions():
    code, out, _ = d.cli("condition", "list", "--json", check=False)  # exit 1 until the run made the database
    return json.loads(out) if code == 0 else []


check(wait_until(lambda: len(demo_conditions()) == 2, timeout=30), "the demo adds two conditions")
demo = d.json("condition", "list", "--json")
check(all(c["repeat"] for c in demo), "both demo conditions repeat")
ids = {c["id"] for c in demo}


def second_round():
    return [o for o in d.json("orders", "--json") if "r1." in o["client_order_id"]]


check(wait_until(lambda: second_round(), timeout=180, every=0.5), "a demo condition trades its second round")
check(all(o["condition_id"] in ids for o in d.json("orders", "--json")), "every demo order carries its condition's id")
for cid in sorted(ids):
    code, out, err = d.cli("condition", "rm", str(cid), "--flatten", check=False)
    check(code == 0 and "condition %d cancelled" % cid in out, "condition rm %d removes a demo condition" % cid)
check(d.json("condition", "list", "--json") == [], "no demo condition is left active")
run.send_signal(2)
check(run.wait(timeout=60) == 0, "aftm run stops on Ctrl+C")
check_logs_clean(d)
print("PASS")
