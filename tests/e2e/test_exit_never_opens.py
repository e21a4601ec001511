"""Issue 12 part A, item 2: exits never open a position. Against the real exchange, gateway and
executor (the strategy's signals pushed on the signal link with the strategy's key):

1. A condition's entry of 2 lots fills; 2 lots are then sold by an order that is not the
   condition's. The condition's exit (sell 2) finds nothing left to close: it is not sent, its
   order row says "closed by hand", the condition ends closed, and the account stays flat (on
   main the exit sold again and left the account short 2).
2. A buy and a sell condition each hold one lot, so the account nets to zero; with the kill
   switch on, both exits still pass (each closes its own lot) and the account ends flat (on
   main the first exit was refused by the kill switch: the lots stayed open).
Ends with the audit (aftm's positions equal the exchange's)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, SignalDesk, System, check, check_logs_clean, wait_until  # noqa: E402

e = Env()
s = System(e, rate=10)
s.start_all(("exchange", "gateway", "executor"))
desk = SignalDesk(s)
condition, order, net, signal, sent = desk.condition, desk.order, desk.net, desk.signal, desk.sent


# 1. closed by hand, then the condition's exit
c1 = condition("buy")
check(signal("%d.E" % c1, "BUY", 2, c1)["status"] == "filled", "the entry filled")
check(wait_until(lambda: net() == 2, 10), "long 2")
check(signal("hand-1", "SELL", 2)["status"] == "filled", "2 lots sold outside the condition")
check(wait_until(lambda: net() == 0, 10), "flat")
x = signal("%d.X" % c1, "SELL", 2, c1)
check(x["status"] == "rejected" and x["reason"].startswith("closed by hand"),
      "the exit is not sent, and says why: %s" % x)
time.sleep(1.0)
check(net() == 0, "still flat: the exit opened no short")
c = next(c for c in e.json("condition", "list", "--all", "--json") if c["id"] == c1)
check(c["status"] == "closed" and "closed by hand" in c["note"], "the condition ended closed by hand: %s" % c)
check("skipped" in s.log_text("executor") and "closed by hand" in s.log_text("executor"),
      "the executor's log says the exit was skipped")

# 2. a buy and a sell condition net to zero; the kill switch lets both exits through
cb, cs = condition("buy"), condition("sell")
check(signal("%d.E" % cb, "BUY", 1, cb)["status"] == "filled", "the buy entry filled")
check(signal("%d.E" % cs, "SELL", 1, cs)["status"] == "filled", "the sell entry filled")
check(wait_until(lambda: net() == 0, 10), "the account nets to zero")
e.cli("kill", "--reason", "issue 12 test")
time.sleep(0.5)  # the executor reads the switch every 250 ms
xb = signal("%d.X" % cb, "SELL", 1, cb)
check(xb["status"] == "filled", "the buy condition's exit passed the kill switch: %s" % xb)
xs = signal("%d.X" % cs, "BUY", 1, cs)
check(xs["status"] == "filled", "the sell condition's exit passed the kill switch: %s" % xs)
check(signal("after-kill.E", "BUY", 1)["reason"].startswith("risk kill_switch"), "an entry is still refused")

f = s.audit(extra_signals=sent)
check(f["positions"][0].get("TXFF5", 0) == 0, "flat at the end, never short")
s.stop_all()
check_logs_clean(e)
print("PASS")
