"""Issue 13: many orders in flight through executor -> gateway -> exchange. A burst of 300
signals pushed at once (alternating buy and sell, so the position stays small) is stored, placed
once each and booked final, with the executor keeping many orders in flight and the gateway and
exchange answering them by client order id; the same burst pushed again places nothing more.
Then the exchange stops answering for a moment (SIGSTOP) while a second burst is in flight:
those orders time out, are tried again with the same id and settled, none lost or doubled. A
REQ client (the original's executor) still gets its answers on the order port. Ends with the
audit of lost and doubled orders."""
import json
import os
import signal
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, System, aftm_signal, check, check_logs_clean, wait_until  # noqa: E402

N = 300
e = Env()
risk = os.path.join(e.home, "risk.ini")
with open(risk, "w") as f:
    f.write("[risk]\nmax_lots_per_order = 10\nmax_position_per_product = 1000\nmax_open_orders = 100000\n"
            "max_orders_per_second = 1000\nprice_band_points = 100000\n")
s = System(e, rate=20, risk=risk)
s.start_all(names=("exchange", "gateway", "executor"))
check(s.last_price() is not None, "ticks are flowing")
push = e.curve(zmq.Context.instance().socket(zmq.PUSH), "executor", role="strategy")
push.connect(e.ep("signal"))
time.sleep(0.3)


def orders():
    return e.json("orders", "--json")


def burst(prefix, n):
    sids = ["%s-%d.E" % (prefix, i) for i in range(n)]
    for i, sid in enumerate(sids):
        push.send(aftm_signal(sid, "BUY" if i % 2 == 0 else "SELL", 1))
    return sids


t0 = time.monotonic()
first = burst("b1", N)
check(wait_until(lambda: len(orders()) >= N, 60), "all %d signals of the burst stored" % N)
check(s.settle(60), "every order final")
took = time.monotonic() - t0
mine = orders()
by_sid = {}
for o in mine:
    by_sid.setdefault(o["signal_id"], []).append(o)
check(all(len(by_sid.get(sid, [])) == 1 for sid in first), "one order per signal")
check(all(o["status"] == "filled" for o in mine), "every order filled: %s" %
      sorted({o["status"] + ": " + o["reason"] for o in mine if o["status"] != "filled"})[:5])
print("burst of %d: stored, placed and filled in %.2f s" % (N, took))

burst("b1", N)  # the strategy sends again: acknowledged, nothing placed twice
time.sleep(1.0)
check(len(orders()) == N, "the repeated burst placed nothing more")

# the exchange stops answering while a burst is in flight
second = burst("b2", 40)
time.sleep(0.05)
s.procs["exchange"].send_signal(signal.SIGSTOP)
time.sleep(1.5)
s.procs["exchange"].send_signal(signal.SIGCONT)
check(wait_until(lambda: len(orders()) >= N + 40, 60), "the second burst stored")
check(s.settle(90), "every order of the second burst settled after the stall")
second_orders = [o for o in orders() if o["signal_id"] in set(second)]
check(len(second_orders) == 40 and len({o["signal_id"] for o in second_orders}) == 40, "one order per signal")

# the original's executor: REQ on the order port, one request at a time
req = e.curve(zmq.Context.instance().socket(zmq.REQ), "gateway")
req.connect(e.ep("order"))
req.send_string(json.dumps({"operation": "health_check"}))
check(req.poll(5000), "a REQ client is answered")
check(json.loads(req.recv_string()).get("success") is True, "health_check succeeds")

f = s.audit(extra_signals=first + second)
s.stop_all()
check_logs_clean(e)
print("PASS")
