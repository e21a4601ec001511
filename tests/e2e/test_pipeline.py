"""The whole pipeline on a deterministic tick file: conditions that must fire place exactly the
expected orders, filled at the next tick's price, and the books agree with the broker."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, check, check_logs_clean, instance_id, write_ticks  # noqa: E402

e = Env()
lead = [20000 + (i % 2) for i in range(30)]  # 3 s of quiet market while everything connects
# BUY 19950 turn 10 qty 2 tp 30 sl 20: trigger at 19950, entry at >= 19960, TP at entry+30
# SELL 20100 turn 10 qty 1 tp 30 sl 20: trigger at 20100, entry at <= 20090, SL at entry+20
path = [19980, 19950, 19945, 19955, 19962, 19970, 19985, 19995, 20000, 20010,  # buy entry at 19962
        20050, 20100, 20105, 20095, 20088, 20080, 20100, 20112, 20120, 20100]  # sell entry 20088, SL 20108
tail = [20100] * 10
ticks = os.path.join(e.home, "ticks.csv")
write_ticks(ticks, lead + path + tail)

e.cli("condition", "add", "--symbol", "TXFF5", "--side", "buy", "--trigger", "19950", "--turning", "10",
      "--qty", "2", "--tp", "30", "--sl", "20")
e.cli("condition", "add", "--symbol", "TXFF5", "--side", "sell", "--trigger", "20100", "--turning", "10",
      "--qty", "1", "--tp", "30", "--sl", "20")
e.cli("condition", "add", "--symbol", "MXFG5", "--side", "buy", "--trigger", "30000", "--turning", "10",
      "--qty", "1")  # another product's condition: TXF ticks must never move it

run = e.start("run", "--ticks", ticks, "--speed", "1", "--for", "9", "--account", "SIM-0001")
code = run.wait(timeout=60)
log = open(os.path.join(e.home, "run.log")).read()
print(log[-4000:])
check(code == 0, "aftm run exits 0 after --for")

orders = e.json("orders", "--json")
by_id = {o["client_order_id"]: o for o in orders}
print(by_id)
check(len(orders) == 4, "exactly four orders (two entries, two exits)")
inst = instance_id(e)
b_in, b_out = by_id.get("aftm-%s-1.E" % inst), by_id.get("aftm-%s-1.X" % inst)
s_in, s_out = by_id.get("aftm-%s-2.E" % inst), by_id.get("aftm-%s-2.X" % inst)
check(all([b_in, b_out, s_in, s_out]), "one entry and one exit order per condition, ids from the signals")
check(b_in["side"] == "buy" and b_in["qty"] == 2 and b_out["side"] == "sell" and b_out["qty"] == 2,
      "buy condition: buy 2 then sell 2")
check(s_in["side"] == "sell" and s_in["qty"] == 1 and s_out["side"] == "buy" and s_out["qty"] == 1,
      "sell condition: sell 1 then buy 1")
check(all(o["status"] == "filled" and o["filled_qty"] == o["qty"] for o in orders), "every order filled")
# entry signal on 19962 -> filled at the next tick, 19970; TP at 19962+30=19992 hit on 19995 -> fill 20000
check(b_in["avg_fill_price"] == 19970 and b_out["avg_fill_price"] == 20000, "buy fills at the next tick's price")
# sell entry on 20088 -> fill 20080; SL 20088+20=20108 hit on 20112 -> fill 20120
check(s_in["avg_fill_price"] == 20080 and s_out["avg_fill_price"] == 20120, "sell fills at the next tick's price")

fills = e.json("fills", "--json")
check(len(fills) == 4 and len({f["fill_id"] for f in fills}) == 4, "four fills, each counted once")
pos = e.json("positions", "--json")
txf = [p for p in pos if p["symbol"] == "TXFF5"]
check(len(txf) == 1 and txf[0]["net_qty"] == 0, "flat in TXFF5 at the end")
check(txf[0]["realized_pnl"] == 2 * (20000 - 19970) + (20080 - 20120), "realized P&L in points x lots")

conds = {c["id"]: c for c in e.json("condition", "list", "--all", "--json")}
check(conds[1]["status"] == "done" and conds[2]["status"] == "done", "both conditions done after their exits")
check(conds[3]["status"] == "active" and not conds[3]["is_trigger"], "the MXFG5 condition was never touched")
check_logs_clean(e)
print("PASS")
