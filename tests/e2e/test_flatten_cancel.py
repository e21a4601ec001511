"""Issue 12 part A, item 4: 'aftm flatten' and 'aftm order cancel', against the real exchange,
gateway and executor (positions opened by signals pushed on the signal link with the strategy's
key; on main neither command existed):

1. 'aftm flatten' with the trading state halted (nothing else passes) closes every open position
   of the account at market through the executor: a flatten-<request>-<product> order per
   product, filled, the books flat and equal to the exchange's; with nothing open it says so.
2. 'aftm flatten --symbol S' closes only S's position.
3. 'aftm order cancel ID' cancels an open order (a limit order resting at the exchange) through
   the executor and the gateway, the books say cancelled; cancelling a filled or unknown order is
   refused (exit 1) and changes nothing; a bad id exits 2; with no executor the request is
   withdrawn (exit 1) and never carried out."""
import os
import re
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, System, aftm_signal, check, check_logs_clean, wait_until  # noqa: E402

e = Env()
s = System(e, rate=10)
s.start_all(("exchange", "gateway", "executor"))
p = s.last_price()
check(p is not None, "ticks are flowing")
push = e.curve(zmq.Context.instance().socket(zmq.PUSH), "executor", role="strategy")
push.connect(e.ep("signal"))
sent = []


def orders():
    return {o["signal_id"]: o for o in e.json("orders", "--json")}


def nets():
    return {x["symbol"]: x["net_qty"] for x in e.json("positions", "--json") if x["net_qty"]}


def signal(sid, side, qty, symbol="TXFF5"):
    sent.append(sid)
    push.send(aftm_signal(sid, side, qty, symbol=symbol, price=int(s.last_price() or p)))
    check(wait_until(lambda: (orders().get(sid) or {}).get("status") in ("filled", "rejected"), 30),
          "signal %s settled: %s" % (sid, orders().get(sid)))
    return orders()[sid]


# 1. flatten everything, halted
check(signal("hand-long", "BUY", 2)["status"] == "filled", "long 2 TXFF5")
check(wait_until(lambda: nets() == {"TXFF5": 2}, 10), "the books: long 2: %s" % nets())
e.cli("kill", "--halt", "--reason", "flatten test")
time.sleep(0.5)  # the executor reads the state every 250 ms
x = signal("hand-exit-halted", "SELL", 1)
check(x["status"] == "rejected" and "halted" in x["reason"], "halted refuses an ordinary order: %s" % x)
code, out, err = e.cli("flatten")
check(code == 0 and "TXFF5 -2" in out and "placed" in out, "flatten says what it placed: %s %s" % (out, err))
flat = [o for sid, o in orders().items() if sid.startswith("flatten-")]
check(len(flat) == 1 and flat[0]["side"] == "sell" and flat[0]["qty"] == 2, "one flatten order, sell 2: %s" % flat)
check(wait_until(lambda: (orders()[flat[0]["signal_id"]])["status"] == "filled", 15), "the flatten order filled")
check(wait_until(lambda: nets() == {}, 10), "flat: %s" % nets())
code, out, _ = e.cli("flatten")
check(code == 0 and "nothing to flatten" in out, "nothing open: said so: %s" % out)
check(e.json("status", "--json")["trading_state"] == "halted", "flatten leaves the trading state halted")
e.cli("resume")
time.sleep(0.5)

# 2. flatten one product: only it is closed (TXFF5 long 1 stays, MXFF5 short 1 is closed)
check(signal("hand-tx", "BUY", 1)["status"] == "filled", "long 1 TXFF5")
mx = signal("hand-mx", "SELL", 1, symbol="MXFF5")
if mx["status"] == "filled":
    check(wait_until(lambda: nets() == {"TXFF5": 1, "MXFF5": -1}, 10), "two positions: %s" % nets())
    code, out, err = e.cli("flatten", "--symbol", "mxff5")
    check(code == 0 and "MXFF5 +1" in out and "TXFF5" not in out, "flatten --symbol names only it: %s %s" % (out, err))
    check(wait_until(lambda: nets() == {"TXFF5": 1}, 15), "only MXFF5 closed: %s" % nets())
else:  # the exchange lists one product only: flatten --symbol on a product with nothing open
    code, out, _ = e.cli("flatten", "--symbol", "MXFF5")
    check(code == 0 and "nothing to flatten" in out and "MXFF5" in out, "nothing in MXFF5: %s" % out)
    check(nets() == {"TXFF5": 1}, "TXFF5 untouched: %s" % nets())
check(e.cli("flatten", "--symbol", "TX-1", check=False)[0] == 2, "a bad --symbol exits 2")

# 3. cancel: a limit order resting at the exchange (placed at the broker outside aftm, booked
# as external), far below the market
r = s.call("send_order", order_account="SIM-0001", item_code="TXFF5", side="buy", order_type="Limit",
           price=float(int(p) - 500), quantity=1, open_close="AUTO", note="resting", day_trade="N",
           time_in_force="ROD", client_order_id="rest-1")
check(r and r.get("success") and r["data"]["is_send_order"], "a resting limit order at the broker: %s" % r)
check(wait_until(lambda: "external-rest-1" in orders(), 15), "booked as external: %s" % list(orders()))
rest = orders()["external-rest-1"]
check(rest["status"] not in ("filled", "cancelled", "rejected", "expired"), "it rests open: %s" % rest)
code, out, err = e.cli("order", "cancel", rest["client_order_id"], check=False)
check(code == 0 and "cancel sent" in out, "cancel says sent: %s %s" % (out, err))
check(wait_until(lambda: orders()["external-rest-1"]["status"] == "cancelled", 15),
      "the books say cancelled: %s" % orders()["external-rest-1"])
st = s.call("order_status", client_order_id="rest-1")
check(st and st["data"]["status"] == "cancelled", "the exchange says cancelled: %s" % st)
code, _, err = e.cli("order", "cancel", rest["client_order_id"], check=False)
check(code == 1 and "already cancelled" in err, "cancelling it again is refused: %s" % err)
filled = orders()["hand-tx"]["client_order_id"]
code, _, err = e.cli("order", "cancel", filled, check=False)
check(code == 1 and "already filled" in err, "a filled order cannot be cancelled: %s" % err)
code, _, err = e.cli("order", "cancel", "no-such-order", check=False)
check(code == 1 and "no order no-such-order" in err, "an unknown id: %s" % err)
check(e.cli("order", "cancel", check=False)[0] == 2, "no id exits 2")
check(e.cli("order", "cancel", "a b", check=False)[0] == 2, "an id with a space exits 2")
check(nets() == {"TXFF5": 1}, "nothing changed by the refused cancels: %s" % nets())

# no executor: withdrawn, never carried out later
s.stop("executor")
code, _, err = e.cli("flatten", check=False)
check(code == 1 and "withdrawn" in err, "no executor: withdrawn: %s" % err)
s.start("executor")
time.sleep(2)
check(nets() == {"TXFF5": 1} and not [k for k in orders() if k.startswith("flatten-") and k != flat[0]["signal_id"]
                                        and "MXFF5" not in k],
      "the withdrawn flatten is never carried out: %s" % nets())

f = s.audit(extra_signals=sent)
check(f["positions"][0].get("TXFF5", 0) == 1, "the exchange agrees: long 1 TXFF5")
s.stop_all()
check_logs_clean(e)
print("PASS")
