"""Issue 12 part A, item 1: every order on the account is in aftm's books. Against the real
processes of 'aftm run' (exchange, gateway, executor, strategy):

1. 'aftm order send' goes through the executor: its order row is stored under the executor's
   client order id, marked manual (signal id manual-<n>), it fills, and aftm's positions equal
   the broker's (on main the order went straight to the gateway: aftm said +0, the broker +1).
2. An order placed at the broker outside aftm (straight on the gateway's order port) is booked
   as external from its reports: its row, its fill, the position; books still equal the broker.
3. With the executor stopped, 'aftm order send' still trades (straight to the gateway, saying
   so), and the executor books it as external when it runs again.
4. When the books and the broker differ, 'aftm positions' (and --broker) say so loudly on stderr,
   naming the product and both numbers."""
import json
import os
import sqlite3
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, aftm_running, check, wait_until  # noqa: E402


def main():
    e = Env()
    def gateway(op, params):
        s = zmq.Context.instance().socket(zmq.REQ)
        s.setsockopt(zmq.RCVTIMEO, 3000)
        s.setsockopt(zmq.LINGER, 0)
        e.curve(s, "gateway")
        s.connect(e.ep("order"))
        s.send_string(json.dumps({"operation": op, "parameters": params}))
        try:
            return json.loads(s.recv())
        finally:
            s.close()

    with aftm_running(e, "--for", "120", "--rate", "20", "--seed", "7"):
        check(wait_until(e.executor_up, timeout=40), "aftm run is up with its executor")
        # a market order by hand is checked against the price band, so the executor needs the
        # market's last price first: wait for the feed (the executor subscribed before this test)
        check(e.next_tick(10000) is not None, "ticks are flowing")
        time.sleep(0.3)

        # 1. by hand, through the executor
        code, out, err = e.cli("order", "send", "--side", "buy", "--qty", "2", "--symbol", "TXFF5", check=False)
        check(code == 0 and "manual order" in out, "order send is placed by the executor (%d %s %s)" % (code, out, err))
        m = e.orders().get("manual-1")
        check(m is not None and m["client_order_id"].startswith("aftm-") and m["condition_id"] == 0,
              "stored by the executor under its own client order id, marked manual: %s" % m)
        check(wait_until(lambda: e.orders()["manual-1"]["status"] == "filled", 15), "the manual order filled")
        check(wait_until(lambda: e.books().get("TXFF5") == 2, 10), "aftm's books hold +2: %s" % e.books())
        check(e.broker() == e.books(), "aftm's positions equal the broker's: %s vs %s" % (e.books(), e.broker()))
        code, out, err = e.cli("positions")
        check("WARNING" not in err, "no warning while they agree: %s" % err)

        # 2. outside aftm, straight at the broker
        r = gateway("send_order", {"order_account": "SIM-0001", "item_code": "TXFF5", "side": "sell",
                                   "order_type": "Market", "price": 0.0, "quantity": 1, "open_close": "AUTO",
                                   "note": "by the broker's own screen", "day_trade": "N", "time_in_force": "IOC",
                                   "client_order_id": "screen-1"})
        check(r and r.get("success"), "an order placed at the broker outside aftm: %s" % r)
        check(wait_until(lambda: (e.orders().get("external-screen-1") or {}).get("status") == "filled", 15),
              "booked as external, filled: %s" % e.orders().get("external-screen-1"))
        check(wait_until(lambda: e.books().get("TXFF5") == 1, 10), "aftm's books hold +1: %s" % e.books())
        check(e.broker() == e.books(), "still equal to the broker: %s vs %s" % (e.books(), e.broker()))
        check("placed outside aftm" in open(os.path.join(e.home, "logs", "executor.log")).read()
              if os.path.exists(os.path.join(e.home, "logs", "executor.log")) else True,
              "the executor's log says it booked an external order")
    check("aftm: trading state active" in open(os.path.join(e.home, "run.log")).read(),
          "aftm run announces the trading state it starts in")

    # 3 and 4: logged in (gateway and exchange in the background), no executor running
    from aftm_e2e import System
    s = System(e, rate=20)
    e.env["AFTM_PASSWORD"] = "sim-pass"
    code, out, err = e.cli("login", "--account", "A123456789", "--rate", "20", "--seed", "7", check=False)
    check(code == 0, "logged in again: %s %s" % (out, err))
    code, out, err = e.cli("order", "send", "--side", "buy", "--qty", "1", "--symbol", "TXFF5", check=False)
    check(code == 0 and "No executor is running" in out, "with no executor the order goes straight, saying so: %d %s %s"
          % (code, out, err))
    check(wait_until(lambda: (e.broker() or {}).get("TXFF5") is not None, 15), "the broker has it: %s" % e.broker())
    code, out, err = e.cli("positions")
    check("WARNING" in err and "TXFF5: aftm " in err and "DIFFER" in err,
          "aftm positions says loudly that the books and the broker differ, naming the product: %s" % err)
    code, out, err = e.cli("positions", "--broker")
    check("WARNING" in err and "TXFF5" in err, "so does positions --broker: %s" % err)
    s.start("executor")
    check(wait_until(lambda: e.books() == e.broker(), 20), "the executor books it as external on start: %s vs %s" %
          (e.books(), e.broker()))
    check(any(k.startswith("external-cli-") for k in e.orders()), "an external row for the CLI's order")
    code, out, err = e.cli("positions")
    check("WARNING" not in err, "agree again: %s" % err)
    # the books made to differ from the broker: named with both numbers
    db = sqlite3.connect(os.path.join(e.home, "aftm.db"))
    db.execute("UPDATE positions SET net_qty = net_qty + 5 WHERE symbol='TXFF5'")
    db.commit()
    db.close()
    want = "TXFF5: aftm %+d, broker %+d" % (e.broker()["TXFF5"] + 5, e.broker()["TXFF5"])
    code, out, err = e.cli("positions")
    check(want in err, "the difference is named with both numbers (%s): %s" % (want, err))
    s.stop_all()
    e.cli("logout", "--stop", check=False)
    print("PASS")


if __name__ == "__main__":
    main()
