"""Issue 11, item 5: a gateway that sends absurd execution reports (a fill price of 1e17, a
negative fill, a price that is a string, a fill beyond any order, a seq of 9e18) to a real
executor. Each is refused with a logged reason; nothing of them is stored; the executor keeps
running, applies the real fill after them, and restarts cleanly on what it stored. This fake
gateway keeps its own truth in an exchange.db of the exchange's shape, so the test ends with the
same audit as the others."""
import json
import os
import signal
import sqlite3
import sys
import tempfile
import threading
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, aftm_signal, audit, check, check_logs_clean, wait_until  # noqa: E402

ACCOUNT = "SIM-0001"
e = Env()
xdir = tempfile.mkdtemp(prefix="aftm-e2e-fakegw-", dir=e.home)
xdb_path = os.path.join(xdir, "exchange.db")
xdb = sqlite3.connect(xdb_path, check_same_thread=False, isolation_level=None)
xdb.executescript(
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE orders(n INTEGER PRIMARY KEY, client_order_id TEXT, status TEXT, filled_qty INTEGER, account TEXT);"
    "CREATE TABLE fills(fill_id TEXT PRIMARY KEY, n INTEGER, qty INTEGER, price INTEGER, symbol TEXT, side TEXT,"
    " account TEXT);"
    "CREATE TABLE positions(account TEXT, symbol TEXT, net_qty INTEGER, PRIMARY KEY(account, symbol));")

ctx = zmq.Context.instance()
# this test is the gateway: a ROUTER, as the gateway's order port (the executor's requests are
# [key][body], answered under the same key)
rep = e.curve_server(ctx.socket(zmq.ROUTER), "gateway")
rep.bind(e.ep("order"))
pub = e.curve_server(ctx.socket(zmq.PUB), "gateway")
pub.bind(e.ep("report"))
log = []  # the report log get_reports serves: (seq, report)
orders = {}
lock = threading.Lock()
stop = threading.Event()


def ok(data):
    return {"success": True, "data": data}


def serve():
    while not stop.is_set():
        if not rep.poll(50):
            continue
        frames = rep.recv_multipart()
        envelope, body = frames[:-1], frames[-1]
        packed = body[:1] != b"{"  # the executor sends its orders in msgpack, other requests in JSON
        req = msgpack.unpackb(body) if packed else json.loads(body)
        op, p = req.get("operation"), req.get("parameters") or {}
        with lock:
            if op == "send_order":
                coid = p["client_order_id"]
                if coid not in orders:
                    n = len(orders) + 1
                    orders[coid] = dict(n=n, qty=p["quantity"], side=p["side"], status="accepted", filled=0)
                    xdb.execute("INSERT INTO orders VALUES(?,?,?,?,?)", (n, coid, "accepted", 0, ACCOUNT))
                answer = ok({"is_send_order": True, "order_serial": "FAKE%d" % orders[coid]["n"]})
            elif op == "get_reports":
                since = p.get("since_seq", 0)
                answer = ok({"reports": [r for s, r in log if s > since], "last_seq": len(log), "more": False})
            elif op == "order_status":
                o = orders.get(p["client_order_id"])
                answer = ok({"found": False}) if not o else ok({"found": True, "status": o["status"],
                                                                 "filled_qty": o["filled"], "reason": None})
            else:
                answer = ok({"status": "healthy"})
        rep.send_multipart(envelope + [msgpack.packb(answer) if packed else json.dumps(answer).encode()])


threading.Thread(target=serve, daemon=True).start()


def publish(report, logged=True, as_json=False):
    """Sends a report on the stream, in msgpack as the gateway does (as_json: the same fields in
    JSON); logged: it is in the log get_reports serves, under its seq."""
    if logged:
        log.append((report["seq"], report))
    pub.send_multipart([b"REPORT", json.dumps(report).encode() if as_json else msgpack.packb(report)])


RISK = os.path.join(e.home, "risk.ini")
with open(RISK, "w") as f:
    f.write("[risk]\nprice_band_points = 0\n")  # no ticks here: the band is off


def executor():
    return e.start("executor", "--risk", RISK, "--home", e.home, "--signal-endpoint", e.ep("signal"), "--order-endpoint",
                   e.ep("order"), "--report-endpoint", e.ep("report"), "--tick-endpoint", e.ep("tick"),
                   "--account", ACCOUNT, "--trading-hours", "off", "--timeout-ms", "500", "--attempts", "2",
                   log=os.path.join(e.home, "executor-%d.log" % (len(logs) + 1)))


logs = []
ex = executor()
logs.append(1)
push = e.curve(ctx.socket(zmq.PUSH), "executor", role="strategy")
push.connect(e.ep("signal"))
time.sleep(1.0)
push.send(aftm_signal("abs-1.E", "BUY", 2, price=20000))
check(wait_until(lambda: len(orders) == 1, 10), "the order reached the fake gateway")
coid = next(iter(orders))
time.sleep(0.5)


def fill(seq, **kw):
    r = {"seq": seq, "client_order_id": coid, "status": "filled", "fill_id": "F%d" % seq, "fill_qty": 2,
         "fill_price": 20010, "filled_qty": 2, "account": ACCOUNT, "symbol": "TXFF5", "side": "buy"}
    r.update(kw)
    return r


publish(fill(1, fill_price=1e17))                  # overflowed * 200 and crashed every restart
publish(fill(2, fill_qty=-3), as_json=True)
publish(fill(3, fill_price="cheap"))
publish(fill(4, fill_qty=2000000, filled_qty=2000000))
publish(fill(9000000000000000000), logged=False)   # hid every later report
time.sleep(1.0)
check(ex.poll() is None, "the executor is still running")
with lock:  # the real fill, at the broker and then on the stream
    orders[coid].update(status="filled", filled=2)
    xdb.execute("UPDATE orders SET status='filled', filled_qty=2 WHERE client_order_id=?", (coid,))
    xdb.execute("INSERT INTO fills VALUES('F5', 1, 2, 20010, 'TXFF5', 'buy', ?)", (ACCOUNT,))
    xdb.execute("INSERT INTO positions VALUES(?, 'TXFF5', 2)", (ACCOUNT,))
publish(fill(5))
publish(fill(6, fill_qty=2**64 - 1))                # no int64 holds it


def booked():
    return [o for o in e.json("orders", "--json") if o["status"] == "filled"]


check(wait_until(booked, 10), "the real fill after the absurd ones is applied")
ex.send_signal(signal.SIGTERM)
check(ex.wait(15) == 0, "the executor stops cleanly")
ex = executor()  # what it stored must not crash a restart
logs.append(2)
time.sleep(2.0)
check(ex.poll() is None, "the executor restarts on what it stored")
audit(e, ACCOUNT, (), True, 10, xdb_path, ["abs-1.E"])
text = open(os.path.join(e.home, "executor-1.log")).read()
for what in ("fill price 1e+17 is out of range", "fill_qty -3 is out of range", "fill price nan is out of range",
             "fill_qty 2000000 is out of range", "beyond the gateway's last report", "fill_qty is not an integer"):
    check(what in text, "refused with a reason: %s" % what)

# a wire string with a newline cannot forge a log line
FORGED = "00:00:00.000 executor ERROR forged"
push.send(aftm_signal("evil\n" + FORGED, "BUY", 1, price=20000))
check(wait_until(lambda: "does not make a client order id" in open(os.path.join(e.home, "executor-2.log")).read(),
                 10), "the signal with the odd id is refused with its reason, not sent")
check(len(orders) == 1, "no order with the odd id reached the fake gateway")
ex.send_signal(signal.SIGTERM)
check(ex.wait(15) == 0, "the executor stops cleanly")
lines = open(os.path.join(e.home, "executor-2.log")).read().splitlines()
check(not any(line.startswith(FORGED) for line in lines) and any("evil\\n" + FORGED in line for line in lines),
      "the newline is written escaped, inside the executor's own line")
stop.set()
check_logs_clean(e)
print("PASS")
