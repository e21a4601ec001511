"""Issue 12 part A, item 5: live P&L. Against the real exchange, gateway and executor: a position
opened by a signal is marked at the last price between fills (on main the stored price stayed
the fill price until the next fill):

1. 'aftm positions --json' shows last_price following the ticks, and unrealized P&L at it
   ((last - avg) x net), with no new fill.
2. 'aftm status' (text and --json) shows the open position's unrealized P&L, the same number.
3. Today's row of the equity log is kept current: capital + (realized + unrealized) x the
   contract's multiplier (200 for TX), with no new fill."""
import os
import re
import sqlite3
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, System, aftm_signal, check, check_logs_clean, wait_until  # noqa: E402

e = Env()
s = System(e, rate=20)
s.start_all(("exchange", "gateway", "executor"))
p = s.last_price()
check(p is not None, "ticks are flowing")
push = e.curve(zmq.Context.instance().socket(zmq.PUSH), "executor", role="strategy")
push.connect(e.ep("signal"))


def orders():
    return {o["signal_id"]: o for o in e.json("orders", "--json")}


def pos():
    return {x["symbol"]: x for x in e.json("positions", "--json")}.get("TXFF5")


push.send(aftm_signal("live-long", "BUY", 2, price=int(p)))
check(wait_until(lambda: (orders().get("live-long") or {}).get("status") == "filled", 30), "long 2 filled")
fill = orders()["live-long"]["avg_fill_price"]
n_fills = len(e.json("fills", "--json"))

# 1. the mark follows the ticks
check(wait_until(lambda: pos() and pos()["last_price"] != int(fill), 30),
      "the position is marked at a later price than its fill (%s): %s" % (fill, pos()))
s.stop("exchange")  # ticks stop: the last mark stays
time.sleep(2.5)
x = pos()
last = x["last_price"]
check(x["unrealized_pnl"] == (last - x["avg_price"]) * 2, "unrealized at the last price: %s" % x)
check(len(e.json("fills", "--json")) == n_fills, "no new fill in between")

# 2. status
st = e.json("status", "--json")
check(st["open_positions"] == 1 and st["unrealized_pnl"] == x["unrealized_pnl"] and
      st["realized_pnl"] == x["realized_pnl"], "status --json: the same P&L: %s" % st)
text = e.cli("status")[1]
check(re.search(r"P&L \(points\):\s+1 open position\(s\);\s+unrealized %+d at the last price" % x["unrealized_pnl"],
                text), "status text: %s" % text)

# 3. today's equity row
db = sqlite3.connect("file:%s?mode=ro" % os.path.join(e.home, "aftm.db"), uri=True)
capital = db.execute("SELECT value FROM meta WHERE key='capital'").fetchone()
capital = int(capital[0]) if capital else 1000000  # store/equity_store.h's default
rows = db.execute("SELECT date, equity FROM equity ORDER BY date DESC LIMIT 1").fetchall()
db.close()
check(rows, "today's equity row exists")
eq = rows[0][1]
check(eq == capital + (x["realized_pnl"] + x["unrealized_pnl"]) * 200,
      "equity = capital + P&L x 200 at the last price: %s vs %s" % (eq, x))
s.stop_all()
check_logs_clean(e)
print("PASS")
