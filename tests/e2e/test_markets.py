"""Markets for what can be traded (issue 12): the simulated exchange makes a market for every
product it lists, so every product a user can register trades. The random walk moves them
together: TX and MTX front months (and the next months) at the same price. An MTX condition
registered and added while aftm run runs enters and exits on MXFF5's own ticks, and a market
order on MXFF5 fills, under aftm run's random walk of TXFF5."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, aftm_running, check, check_logs_clean, wait_until  # noqa: E402

import msgpack  # noqa: E402
import zmq  # noqa: E402


def main():
    e = Env()
    with aftm_running(e, "--for", "180", "--rate", "40", "--seed", "5"):
        def session_up():
            code, out, _ = e.cli("status", "--json", check=False)
            return code == 0 and json.loads(out)["session"]["state"] == "active" and json.loads(out)["gateway_up"]
        check(wait_until(session_up, timeout=40), "aftm run's session is up")

        # every listed product has ticks, all at the walk's price
        sub = zmq.Context.instance().socket(zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"TICK")
        e.curve(sub, "gateway")
        sub.connect(e.ep("tick"))
        seen = {}

        def all_moving():
            for _ in range(1000):  # what is queued now (the feed never pauses)
                if not sub.poll(100):
                    break
                t = msgpack.unpackb(sub.recv_multipart()[1], raw=False)["tick"]
                seen.setdefault(t["commodity_id"], []).append(t["match_price"])
            return all(len(seen.get(c, [])) >= 5 for c in ("TXFF5", "MXFF5", "TXFG5", "MXFG5"))
        check(wait_until(all_moving, timeout=30), "ticks of TXFF5, MXFF5, TXFG5 and MXFG5 flow: %s" %
              {k: len(v) for k, v in seen.items()})
        check(set(seen["MXFF5"]) <= set(seen["TXFF5"]), "MXFF5 trades at TXFF5's prices (moving together)")
        sub.close(0)

        code, out, err = e.cli("item", "register", "MXFF5", check=False)
        check(code == 0, "MXFF5 registers (%d %s%s)" % (code, out.strip(), err.strip()))
        price = seen["MXFF5"][-1]
        # a trailing BUY that triggers at once and enters on the first 2-point turn; take profit
        # and stop loss 3 points away: it trades within seconds whichever way the walk goes
        code, out, err = e.cli("condition", "add", "--side", "buy", "--trigger", str(int(price) + 50), "--turning",
                               "2", "--qty", "1", "--tp", "3", "--sl", "3", "--follow", check=False)
        check(code == 0 and "MXFF5" in out, "a condition on the registered item MXFF5: %s%s" % (out, err))
        cid = next(c["id"] for c in e.json("condition", "list", "--json"))

        def done():
            c = next((c for c in e.json("condition", "list", "--all", "--json") if c["id"] == cid), None)
            return c if c and c["status"] == "done" else None
        c = wait_until(done, timeout=90, every=0.5)
        check(c is not None, "the MTX condition entered and exited on MXFF5's market")
        orders = [o for o in e.json("orders", "--json") if o["condition_id"] == cid]
        print(orders)
        check(len(orders) == 2 and all(o["status"] == "filled" and o["symbol"] == "MXFF5" for o in orders),
              "its entry and exit filled in MXFF5")

        # an order by hand on the next month fills too
        code, out, err = e.cli("order", "send", "--side", "sell", "--qty", "1", "--symbol", "MXFG5", check=False)
        check(code == 0, "a market order on MXFG5 is accepted (%d %s%s)" % (code, out.strip(), err.strip()))

        def mx_short():
            c, o, _ = e.cli("positions", "--broker", "--json", check=False)
            return c == 0 and any(p.get("symbol") == "MXFG5" and p.get("net_qty") == -1 for p in json.loads(o))
        check(wait_until(mx_short, timeout=20), "it fills: MXFG5 -1 at the broker")
    check_logs_clean(e)
    print("PASS")


main()
