"""Faults from outside: garbled bytes on every socket aftm reads, and a gateway that stops
answering. Real processes, real sockets; nothing may crash, lose or double an order."""
import os
import signal
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import (Env, aftm_signal, check, check_logs_clean, original_signal,  # noqa: E402
                      tick_frames as tick, wait_until, write_ticks)

GARBAGE = [b"", b"\xc1\xc1\xc1", b"\xdf\xff\xff\xff\xff", b"\x92\x01", b"not msgpack at all",
           msgpack.packb({"a": 1}), msgpack.packb([1, 2, 3]),
           msgpack.packb({"__class__": "Evil", "x": 1}),
           msgpack.packb({"when": {"__datetime__": True, "timestamp": 1.0},
                          "operation": {"__enum__": True, "class": "OrderOperation", "name": "HOLD"},
                          "commodity_id": "TXFF5", "__class__": "TradingSignal"})]


ctx = zmq.Context()

# ---- 1. the strategy alone, fed garbage and then real ticks by this test's publisher -----------
e = Env()
pub, pull, strat = e.lone_strategy(ctx)  # this test stands in for the gateway and the executor
for g in GARBAGE:
    pub.send_multipart([b"TICK", g])
    pub.send(g)  # single-frame garbage too
    pub.send_multipart([b"TICK", g, b"extra", b"frames"])
pub.send_multipart(tick(0.0))      # bad prices never reach the strategy
pub.send_multipart(tick(-5.0))
for p in (20010, 19995, 20010):
    pub.send_multipart(tick(p))
    time.sleep(0.05)
check(pull.poll(3000), "the strategy still turns ticks into a signal after garbage")
sig = msgpack.unpackb(pull.recv(), raw=False)
check(sig["signal_id"] == "1.E" and sig["operation"]["name"] == "BUY", "the right signal: %s" % sig["signal_id"])
check(strat.poll() is None, "the strategy is still running")
strat.send_signal(signal.SIGTERM)
check(strat.wait(10) == 0, "the strategy exits cleanly on SIGTERM")
check_logs_clean(e)
pub.close()
pull.close()

# ---- 2. the whole system: garbage into the executor's signal port and the gateway's order port --
e = Env()
ticks = os.path.join(e.home, "ticks.csv")
write_ticks(ticks, [20000 + (i % 7) for i in range(400)], step_s=0.05)
run = e.start("run", "--ticks", ticks, "--speed", "1", "--for", "12", "--account", "SIM-0001")
req = e.curve(ctx.socket(zmq.REQ), "gateway")  # the CLI's key
req.setsockopt(zmq.RCVTIMEO, 5000)
req.connect(e.ep("order"))


def ask(raw):
    req.send(raw)
    return req.recv()


check(wait_until(lambda: b"healthy" in ask(b'{"operation": "health_check"}'), 15), "gateway is up")
for g in [b"\xff\x00garbage", b"{", b"[]", b'{"operation": 5}', b'{"operation": "send_order"}',
          b'{"operation": "send_order", "parameters": "x"}', b'{"operation": "nope"}']:
    rep = ask(g)
    check(b'"success": false' in rep, "gateway refuses %r with an error reply" % g[:20])
check(b'"status": "healthy"' in ask(b'{"operation": "health_check"}'), "gateway still healthy after garbage")

push = e.curve(ctx.socket(zmq.PUSH), "executor", role="strategy")  # signals come from the strategy's key
push.connect(e.ep("signal"))
time.sleep(0.5)
for g in GARBAGE:
    push.send(g)
push.send(original_signal("BUY"))                 # the original's signal: one lot
push.send(aftm_signal("t-1", "SELL", 3))
push.send(aftm_signal("t-1", "SELL", 3))          # the same signal again: never a second order
code = run.wait(timeout=60)
log = open(os.path.join(e.home, "run.log")).read()
check(code == 0, "aftm run ended normally")
check("restarted" not in log, "no process crashed")
orders = e.json("orders", "--json")
print(orders)
orig = [o for o in orders if o["signal_id"].startswith("orig-")]
mine = [o for o in orders if o["signal_id"] == "t-1"]
check(len(orig) == 1 and orig[0]["qty"] == 1 and orig[0]["side"] == "buy" and orig[0]["status"] == "filled",
      "the original's 4-key signal became one filled 1-lot order")
check(len(mine) == 1 and mine[0]["qty"] == 3 and mine[0]["status"] == "filled", "a repeated signal placed one order")
check(len(orders) == 2, "no order from garbage")
pos = {p["symbol"]: p for p in e.json("positions", "--json")}
check(pos["TXFF5"]["net_qty"] == -2, "position: +1 -3 = -2")
check_logs_clean(e)

# ---- 3. a gateway that stops answering (SIGSTOP) while an order is in flight ----------------------
e = Env()
xc = e.start("exchange", "--seed", "3", "--rate", "50", "--home", e.home)  # the market and the book
gw = e.start("gateway", "--broker", "sim", "--tick-endpoint", e.ep("tick"),
             "--order-endpoint", e.ep("order"), "--report-endpoint", e.ep("report"), "--home", e.home)
req = e.curve(ctx.socket(zmq.REQ), "gateway")
req.setsockopt(zmq.RCVTIMEO, 5000)
req.connect(e.ep("order"))
check(wait_until(lambda: b"healthy" in ask(b'{"operation": "health_check"}'), 15), "gateway is up")
ex = e.start("executor", "--signal-endpoint", e.ep("signal"), "--order-endpoint", e.ep("order"),
             "--report-endpoint", e.ep("report"), "--tick-endpoint", e.ep("tick"), "--account", "SIM-0002",
             "--trading-hours", "off", "--timeout-ms", "400", "--attempts", "3", "--home", e.home)
push = e.curve(ctx.socket(zmq.PUSH), "executor", role="strategy")
push.connect(e.ep("signal"))
time.sleep(1.0)
gw.send_signal(signal.SIGSTOP)
push.send(aftm_signal("slow-1", "BUY", 2))
time.sleep(3.0)  # every attempt times out
gw.send_signal(signal.SIGCONT)


def settled():
    o = [x for x in e.json("orders", "--json") if x["signal_id"] == "slow-1"]
    return o if o and o[0]["status"] == "filled" else None


o = wait_until(settled, 20)
check(o is not None, "the order is settled once the gateway answers again")
check(len(o) == 1 and o[0]["filled_qty"] == 2, "filled once, two lots")
bro = e.json("positions", "--broker", "--account", "SIM-0002", "--json")
print(bro)
check(len(bro) == 1 and bro[0]["net_qty"] == 2 and bro[0]["account"] == "SIM-0002" and bro[0]["symbol"] == "TXFF5",
      "the broker holds 2 lots: the retries did not double the order")
ex.send_signal(signal.SIGTERM)
gw.send_signal(signal.SIGTERM)
check(ex.wait(10) == 0 and gw.wait(10) == 0, "executor and gateway stop cleanly")
xc.send_signal(signal.SIGTERM)
check(xc.wait(10) == 0, "the exchange stops cleanly")
log = open(os.path.join(e.home, "executor.log")).read()
check("attempt" in log, "the executor reported the timeouts")
check_logs_clean(e)
print("PASS")
