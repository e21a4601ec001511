"""A replay at full speed (--speed 0) ends before the orders its ticks caused reach the market:
those orders still fill, at the replay's last prices (the market stays there), and the end of the
replay is announced by the exchange, the gateway and aftm run."""
import json
import os
import signal
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, check, check_logs_clean, wait_until, write_ticks  # noqa: E402

# down through the trigger and back up: condition 1 (buy, trigger 19900, turning 10) enters
PRICES = [20000 - i for i in range(120)] + [19880 + i for i in range(300)]
LAST = PRICES[-1]

# ---- 1. aftm run --ticks FILE --speed 0 -----------------------------------------------------------
e = Env()
ticks = os.path.join(e.home, "ticks.csv")
write_ticks(ticks, PRICES, step_s=0.5)
e.cli("condition", "add", "--side", "buy", "--trigger", "19900", "--turning", "10", "--qty", "1", "--symbol", "TXFF5")
run = e.start("run", "--ticks", ticks, "--speed", "0", "--for", "10")
check(run.wait(timeout=60) == 0, "aftm run ended normally")
out = open(os.path.join(e.home, "run.log")).read()
check("the replay of %s is over (%d ticks)" % (ticks, len(PRICES)) in out, "aftm run says the replay is over")
orders = e.json("orders", "--json")
print(orders)
entry = [o for o in orders if o["signal_id"] == "1.E"]
check(len(entry) == 1 and entry[0]["status"] == "filled", "the entry placed during the full-speed replay filled")
check(abs(entry[0]["avg_fill_price"] - LAST) < 1e-6 or entry[0]["avg_fill_price"] in PRICES,
      "at a price of the replay")
# none is left hanging: each order filled, or ended with its reason
check(all(o["status"] == "filled" or (o["status"] in ("rejected", "cancelled", "expired") and o["reason"])
          for o in orders), "every order of the replay ended: %s" % [(o["signal_id"], o["status"]) for o in orders])
check_logs_clean(e)

# ---- 2. the exchange and the gateway on their own: an order after the end fills at the last price --
e = Env()
ticks = os.path.join(e.home, "ticks.csv")
write_ticks(ticks, PRICES, step_s=0.5)
xc = e.start("exchange", "--ticks", ticks, "--speed", "0", "--home", e.home)
gw = e.start("gateway", "--broker", "sim", "--tick-endpoint", e.ep("tick"), "--order-endpoint", e.ep("order"),
             "--report-endpoint", e.ep("report"), "--home", e.home)
ctx = zmq.Context()
req = e.curve(ctx.socket(zmq.REQ), "gateway")
req.setsockopt(zmq.RCVTIMEO, 5000)
req.setsockopt(zmq.LINGER, 0)
req.connect(e.ep("order"))


def ask(obj):
    req.send(json.dumps(obj).encode())
    return json.loads(req.recv())


check(wait_until(lambda: ask({"operation": "health_check"})["success"], 15), "gateway is up")
xlog = os.path.join(e.home, "exchange.log")
glog = os.path.join(e.home, "gateway.log")
check(wait_until(lambda: "replay finished: %d ticks" % len(PRICES) in open(xlog).read(), 15),
      "the exchange says its replay finished")
check(wait_until(lambda: "the exchange's replay is over after %d ticks" % len(PRICES) in open(glog).read(), 15),
      "the gateway says the exchange's replay is over")
rep = ask({"operation": "send_order", "parameters": {
    "order_account": "SIM-0001", "item_code": "TXFF5", "side": "buy", "order_type": "Market", "price": 0.0,
    "quantity": 2, "open_close": "AUTO", "note": "after the replay", "day_trade": "N", "time_in_force": "ROD"}})
check(rep["success"], "the order is accepted after the replay: %s" % rep)


def long_two():
    bro = e.json("positions", "--broker", "--account", "SIM-0001", "--json")
    return bro if bro and bro[0]["net_qty"] == 2 else None


bro = wait_until(long_two, 15)
print(bro)
check(bro is not None, "a market order after the replay's end fills")
check(abs(bro[0]["avg_price"] - LAST) < 1e-6, "at the replay's last price %d" % LAST)
gw.send_signal(signal.SIGTERM)
check(gw.wait(10) == 0, "the gateway stops cleanly")
xc.send_signal(signal.SIGTERM)
check(xc.wait(10) == 0, "the exchange stops cleanly")
req.close()
ctx.destroy(linger=0)
check_logs_clean(e)
print("PASS")
