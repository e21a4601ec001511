"""Issue 11, item 4: risk limits count the orders in flight. Three 10-lot buy conditions fire on
the same tick against a 20-lot position limit: the third is refused, the position stays at +20.
With the kill switch on at +20, four SELL 10 signals each alone "reduce the position"; counted
with the sells already in flight only two do, and the position ends flat, not short. Ends with
the audit."""
import os
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, System, aftm_signal, check, check_logs_clean, wait_until  # noqa: E402

e = Env()
risk = os.path.join(e.home, "risk.ini")
with open(risk, "w") as f:
    f.write("[risk]\nmax_lots_per_order = 10\nmax_position_per_product = 20\nprice_band_points = 500\n")
s = System(e, rate=2, risk=risk)  # two ticks a second: market orders wait a moment for their fill
s.start_all()
p = s.last_price()
check(p is not None, "ticks are flowing")
for _ in range(3):  # the same trailing buy three times: they fire on one tick
    e.cli("condition", "add", "--symbol", "TXFF5", "--side", "buy", "--trigger", str(int(p) + 5), "--turning", "1",
          "--qty", "10", "--tp", "5000", "--sl", "5000", "--follow")


def orders():
    return e.json("orders", "--json")


check(wait_until(lambda: len(orders()) == 3, 60), "three entries reached the executor")
check(s.settle(30), "they are final")
by_signal = {o["signal_id"]: o for o in orders()}
refused = [o for o in by_signal.values() if "max_position_per_product" in o["reason"]]
filled = [o for o in by_signal.values() if o["status"] == "filled"]
check(len(refused) == 1 and len(filled) == 2, "two entries filled, the third refused by the position limit: %s"
      % [(o["signal_id"], o["status"], o["reason"]) for o in by_signal.values()])
check(wait_until(lambda: {x["symbol"]: x["net_qty"] for x in e.json("positions", "--json")}.get("TXFF5") == 20, 10),
      "position +20")

e.cli("kill", "--reason", "issue 11 test")
time.sleep(0.5)  # the executor reads the switch every 250 ms
push = e.curve(zmq.Context.instance().socket(zmq.PUSH), "executor", role="strategy")
push.connect(e.ep("signal"))
sells = ["flat-%d.X" % i for i in range(4)]
for sid in sells:
    push.send(aftm_signal(sid, "SELL", 10))
check(wait_until(lambda: all(sid in {o["signal_id"] for o in orders()} for sid in sells), 20), "four sells stored")
check(s.settle(30), "they are final")
mine = [o for o in orders() if o["signal_id"] in sells]
passed = [o for o in mine if not o["reason"].startswith("risk ")]
halted = [o for o in mine if "kill_switch" in o["reason"]]
check(len(passed) == 2 and len(halted) == 2, "two sells reduce the position, two would open a short and are refused: %s"
      % [(o["signal_id"], o["status"], o["reason"]) for o in mine])
f = s.audit(extra_signals=sells)
check(f["positions"][0].get("TXFF5", 0) == 0, "flat at the end, never short")
s.stop_all()
check_logs_clean(e)
print("PASS")
