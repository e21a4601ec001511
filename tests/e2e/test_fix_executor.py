"""aftm against a FIX engine nobody here wrote: QuickFIX's example executor (Debian's
libquickfix-doc). The whole pipeline (ticks -> strategy -> executor -> gateway over FIX 4.4 ->
the acceptor) places orders and books their fills, and aftm's positions equal what the acceptor
filled. Then a kill -9 of the gateway: the next logon keeps the sequence numbers (no
'MsgSeqNum too low'), and orders go on."""
import json
import os
import signal
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, check, check_logs_clean, wait_until, write_ticks  # noqa: E402
from fix_e2e import Executor, aftm_settings  # noqa: E402

e = Env()
ex = Executor(e.home).start()
cfg = aftm_settings(e.home, ex.port)
try:
    lead = [20000 + (i % 2) for i in range(30)]
    path = [19980, 19950, 19945, 19955, 19962, 19970, 19985, 19995, 20000, 20010,
            20050, 20100, 20105, 20095, 20088, 20080, 20100, 20112, 20120, 20100]
    ticks = os.path.join(e.home, "ticks.csv")
    write_ticks(ticks, lead + path + [20100] * 10)
    e.cli("condition", "add", "--symbol", "TXFF5", "--side", "buy", "--trigger", "19950", "--turning", "10",
          "--qty", "2", "--tp", "30", "--sl", "20")
    e.cli("condition", "add", "--symbol", "TXFF5", "--side", "sell", "--trigger", "20100", "--turning", "10",
          "--qty", "1", "--tp", "30", "--sl", "20")

    run = e.start("run", "--broker", "fix", "--fix-config", cfg, "--ticks", ticks, "--speed", "1", "--for", "9",
                  "--account", "SIM-0001")
    code = run.wait(timeout=60)
    log = open(os.path.join(e.home, "run.log")).read()
    print(log[-3000:])
    check(code == 0, "aftm run --broker fix exits 0 after --for")

    orders = e.json("orders", "--json")
    print(json.dumps(orders, indent=1)[:3000])
    check(len(orders) == 4, "four orders: two entries, two exits")
    check(all(o["status"] == "filled" and o["filled_qty"] == o["qty"] for o in orders),
          "every order filled by the acceptor")
    fills = ex.fills()
    print("acceptor fills:", fills)
    check(len(fills) == 4, "the acceptor filled four orders, each once")
    mine = {(f["client_order_id"] if "client_order_id" in f else f.get("order_id"), f["qty"]) for f in
            e.json("fills", "--json")}
    check(len(mine) == 4, "aftm booked four fills, each once")
    by_id = {o["client_order_id"]: o for o in orders}
    for cid, side, qty, px in fills:
        o = by_id.get(cid)
        check(o is not None and o["side"] == side and o["filled_qty"] == qty and o["avg_fill_price"] == px,
              "order %s booked as the acceptor filled it (%s %d at %g)" % (cid, side, qty, px))
    net = sum(q if s == "buy" else -q for _, s, q, _ in fills)
    pos = [p for p in e.json("positions", "--json") if p["symbol"] == "TXFF5"]
    check(len(pos) == 1 and pos[0]["net_qty"] == net, "aftm's position equals the acceptor's fills (%d)" % net)
    check(not any("Tag specified without a value" in m.get("58", "") for m in ex.messages("3")),
          "no session-level rejects from the acceptor")

    # ---- kill -9 of the gateway: the sequence numbers survive ---------------------------------
    gw = e.start("gateway", "--broker", "fix", "--fix-config", cfg, "--market-data", "walk", "--rate", "20",
                 "--tick-endpoint", e.ep("tick"), "--order-endpoint", e.ep("order"), "--report-endpoint",
                 e.ep("report"), log=os.path.join(e.home, "gateway1.log"))
    ctx = zmq.Context()

    def call(op, **p):
        s = ctx.socket(zmq.REQ)
        s.setsockopt(zmq.LINGER, 0)
        s.RCVTIMEO = 5000
        e.curve(s, "gateway")
        s.connect(e.ep("order"))
        s.send_string(json.dumps({"operation": op, "parameters": p}))
        r = json.loads(s.recv())
        s.close()
        return r

    def order(cid, side, qty, price):
        return call("send_order", client_order_id=cid, order_account="SIM-0001", item_code="TXFF5", side=side,
                    order_type="Limit", price=price, quantity=qty, open_close="AUTO", note="t", day_trade="N",
                    time_in_force="ROD")

    check(wait_until(lambda: call("health_check")["data"].get("broker_state") == "logged on", 10),
          "health_check says the FIX session is logged on")
    check(order("k-1", "buy", 3, 20010)["data"]["is_send_order"], "an order goes out before the kill")
    check(wait_until(lambda: call("order_status", client_order_id="k-1")["data"].get("status") == "filled", 5),
          "and is filled")
    gw.send_signal(signal.SIGKILL)
    gw.wait()
    gw = e.start("gateway", "--broker", "fix", "--fix-config", cfg, "--market-data", "walk", "--rate", "20",
                 "--tick-endpoint", e.ep("tick"), "--order-endpoint", e.ep("order"), "--report-endpoint",
                 e.ep("report"), log=os.path.join(e.home, "gateway2.log"))
    check(wait_until(lambda: call("health_check")["data"].get("broker_state") == "logged on", 10),
          "the restarted gateway logs on again")
    dup = order("k-1", "buy", 3, 20010)["data"]
    check(dup["duplicate"] and dup["status"] == "filled", "the same client order id is not sent twice after a kill")
    check(order("k-2", "sell", 3, 20020)["data"]["is_send_order"], "a new order goes out after the restart")
    check(wait_until(lambda: call("order_status", client_order_id="k-2")["data"].get("status") == "filled", 5),
          "and is filled")
    gw.terminate()
    gw.wait(timeout=10)
    text = open(ex.log, errors="replace").read()
    check("MsgSeqNum too low" not in text and "too low" not in text, "no 'MsgSeqNum too low' on the acceptor's side")
    check(sum(1 for f in ex.fills() if f[0] in ("k-1", "k-2")) == 2, "the acceptor filled k-1 and k-2 once each")
    check_logs_clean(e)
finally:
    ex.stop()
print("PASS")
