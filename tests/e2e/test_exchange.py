"""The simulated exchange as a process of its own, with real processes and sockets.

A gateway killed with SIGKILL is a lost broker connection, not a lost exchange: restarted, it
shows the same positions and the same report seqs, and trading goes on. The exchange killed with
SIGKILL keeps its book on disk: restarted, its positions, order ids and report seq are intact, a
repeated client order id is still a duplicate, and the gateway, which reported the broker
connection lost meanwhile (and refused orders with a clear error, never crashing), reconnects by
itself. An order whose answer is lost on the way has an unknown outcome: the gateway does not
claim it was refused, and a retry with the same client order id never places it twice."""
import json
import os
import signal
import sqlite3
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, check, check_logs_clean, wait_until  # noqa: E402

e = Env()
ctx = zmq.Context()
logs = {}


def start(name, *args):
    logs[name] = logs.get(name, 0) + 1
    return e.start(name, *args, log=os.path.join(e.home, "%s-%d.log" % (name, logs[name])))


def start_exchange():
    return start("exchange", "--seed", "11", "--rate", "50", "--home", e.home)


def start_gateway():
    return start("gateway", "--broker", "sim", "--home", e.home, "--tick-endpoint", e.ep("tick"),
                 "--order-endpoint", e.ep("order"), "--report-endpoint", e.ep("report"))


class Client:
    """REQ to an order port; a timeout reopens the socket and returns None."""

    def __init__(self, endpoint, timeout_ms=3000, server="gateway"):
        self.endpoint, self.timeout_ms, self.sock, self.server = endpoint, timeout_ms, None, server

    def call(self, op, **params):
        if self.sock is None:
            self.sock = e.curve(ctx.socket(zmq.REQ), self.server)  # the CLI's key, as aftm's CLI
            self.sock.setsockopt(zmq.LINGER, 0)
            self.sock.setsockopt(zmq.RCVTIMEO, self.timeout_ms)
            self.sock.connect(self.endpoint)
        msg = {"operation": op}
        if params:
            msg["parameters"] = params
        try:
            self.sock.send_string(json.dumps(msg))
            return json.loads(self.sock.recv())
        except zmq.ZMQError:
            self.sock.close()
            self.sock = None
            return None


gw_cli = Client(e.ep("order"))


def order(cid, side="buy", qty=1, order_type="Market", price=0.0, tif="IOC"):
    return gw_cli.call("send_order", order_account="SIM-0001", item_code="TXFF5", side=side, order_type=order_type,
                       price=price, quantity=qty, open_close="AUTO", note="e2e", day_trade="N", time_in_force=tif,
                       client_order_id=cid)


def healthy():
    h = gw_cli.call("health_check")
    return h if h and h["data"]["status"] == "healthy" and h["data"]["exchange_connected"] else None


def reports():
    out, since = [], 0
    while True:
        r = gw_cli.call("get_reports", since_seq=since)
        assert r and r["success"], r
        out += r["data"]["reports"]
        if out:
            since = out[-1]["seq"]
        if not r["data"]["more"]:
            return out


def positions():
    r = gw_cli.call("get_positions", account="SIM-0001")
    assert r and r["success"], r
    return {p["product_id"]: (p["net_qty"], p["realized_pl"], p["avg_cost_long"], p["avg_cost_short"])
            for p in r["data"]["positions"]}


def filled(cid):
    r = gw_cli.call("order_status", client_order_id=cid)
    return r if r and r["success"] and r["data"].get("status") == "filled" else None


exchange = start_exchange()
gateway = start_gateway()
check(wait_until(healthy, 20), "the gateway is up and connected to the exchange")
rsub = e.curve(ctx.socket(zmq.SUB), "gateway")
rsub.setsockopt(zmq.LINGER, 0)
rsub.setsockopt(zmq.SUBSCRIBE, b"REPORT")
rsub.connect(e.ep("report"))
time.sleep(0.3)

# ---- 1. orders through the gateway ---------------------------------------------------------------
r1 = order("x-1", "buy", 3)
check(r1["success"] and r1["data"]["is_send_order"] and r1["data"]["order_serial"].startswith("SIM-"),
      "an order through the gateway is accepted by the exchange")
check(order("x-2", "sell", 1)["data"]["is_send_order"], "a second order")
rest = order("x-rest", "buy", 1, "Limit", 18100.0, "ROD")
check(rest["data"]["is_send_order"], "a limit order far from the market rests")
check(wait_until(lambda: filled("x-1") and filled("x-2"), 10), "both market orders filled")
live = []
end = time.time() + 5
while time.time() < end and len(live) < 5:
    if rsub.poll(100):
        unpacker = msgpack.Unpacker()  # REPORT, NUL, one or more msgpack reports
        unpacker.feed(rsub.recv().partition(b"\0")[2])
        live.extend(unpacker)
check([x["seq"] for x in live] == list(range(1, len(live) + 1)) and len(live) == 5,
      "the gateway published the exchange's reports with their seqs: %s" % [x["seq"] for x in live])
pos1, rep1 = positions(), reports()
seqs1 = [x["seq"] for x in rep1]
check(pos1["TXFF5"][0] == 2, "position +3 -1 = +2: %s" % pos1)
check(seqs1 == list(range(1, len(seqs1) + 1)) and len(seqs1) == 5, "get_reports since 0: seqs %s" % seqs1)

# ---- 2. kill -9 the gateway, restart it ----------------------------------------------------------
gateway.send_signal(signal.SIGKILL)
gateway.wait()
check(gw_cli.call("health_check") is None, "the killed gateway does not answer")
gateway = start_gateway()
check(wait_until(healthy, 20), "the restarted gateway is connected again")
check(positions() == pos1, "the positions are still there after the gateway's restart")
check([x["seq"] for x in reports()] == seqs1, "get_reports since 0 lists the same seqs after the gateway's restart")
check(reports()[0]["client_order_id"] == "x-1", "the same reports")
dup = order("x-1", "buy", 3)
check(dup["data"]["duplicate"] is True and dup["data"]["order_serial"] == r1["data"]["order_serial"],
      "a repeated client order id is answered with the first order, not placed again")
check(order("x-3", "sell", 2)["data"]["is_send_order"] and wait_until(lambda: filled("x-3"), 10),
      "trading goes on after the gateway's restart")
rep2 = reports()
seqs2 = [x["seq"] for x in rep2]
check(seqs2[:len(seqs1)] == seqs1 and seqs2 == list(range(1, len(seqs2) + 1)) and len(seqs2) == len(seqs1) + 2,
      "the report seq goes on where it was (no restart from 1): %s" % seqs2)
pos2 = positions()
check(pos2["TXFF5"][0] == 0, "flat after selling 2")

# ---- 3. kill -9 the exchange: a lost broker connection -------------------------------------------
exchange.send_signal(signal.SIGKILL)
exchange.wait()


def disconnected():
    h = gw_cli.call("health_check")
    return h if h and h["data"]["status"] == "unhealthy" and h["data"]["exchange_connected"] is False else None


check(wait_until(disconnected, 10), "the gateway reports the broker connection lost (unhealthy)")
down = order("x-down", "buy", 1)
check(down is not None and down["success"] is True and down["data"]["is_send_order"] is False and
      down["data"]["error_code"] == "BROKER_DISCONNECTED" and "connection lost" in down["data"]["error_message"],
      "an order while the exchange is down is refused with a clear error: %s" % (down and down["data"]))
p = gw_cli.call("get_positions", account="SIM-0001")
check(p is not None and p["success"] is False and "connection lost" in p["error_message"],
      "get_positions says the connection is lost")
st = gw_cli.call("order_status", client_order_id="x-1")
check(st is not None and st["success"] is False and st["error_code"] == "BROKER_DISCONNECTED",
      "order_status does not claim 'not found' while the exchange is down")
check(gateway.poll() is None, "the gateway is still running")

exchange = start_exchange()
check(wait_until(healthy, 20), "the gateway reconnects to the restarted exchange by itself")
check(positions() == pos2, "the exchange's positions are intact after its restart: %s" % positions())
rep3 = reports()
check([x["seq"] for x in rep3] == seqs2, "its report log is intact: the same seqs")
st = gw_cli.call("order_status", client_order_id="x-rest")["data"]
check(st["found"] and st["status"] == "accepted" and st["order_serial"] == rest["data"]["order_serial"],
      "the resting order still rests, with its serial")
dup = order("x-3", "sell", 2)
check(dup["data"]["duplicate"] is True and dup["data"]["status"] == "filled",
      "a repeated client order id is still refused as a duplicate after the exchange's restart")
check(gw_cli.call("order_status", client_order_id="x-down")["data"]["found"] is False,
      "the order refused while it was down was never placed")
r4 = order("x-4", "buy", 1)
check(r4["data"]["is_send_order"] and wait_until(lambda: filled("x-4"), 10), "trading goes on")
serials = [int(x["order_serial"][4:], 16) for x in reports()]
check(int(r4["data"]["order_serial"][4:], 16) == max(serials) and
      int(r4["data"]["order_serial"][4:], 16) > int(rest["data"]["order_serial"][4:], 16),
      "order serials go on after the restart (%s)" % r4["data"]["order_serial"])
seqs4 = [x["seq"] for x in reports()]
check(seqs4[:len(seqs2)] == seqs2 and seqs4 == list(range(1, len(seqs4) + 1)) and len(seqs4) == len(seqs2) + 2,
      "the report seq goes on across the exchange's restart: %s" % seqs4)

# ---- 4. an answer lost on the way: outcome unknown, never refused, never doubled -----------------
exchange.send_signal(signal.SIGSTOP)
slow = Client(e.ep("order"), timeout_ms=2500)
r = slow.call("send_order", order_account="SIM-0001", item_code="TXFF5", side="buy", order_type="Market", price=0.0,
              quantity=1, open_close="AUTO", note="e2e", day_trade="N", time_in_force="IOC", client_order_id="x-lost")
check(r is None, "an order the exchange does not answer gets no answer from the gateway either (outcome unknown)")
exchange.send_signal(signal.SIGCONT)
check(wait_until(healthy, 20), "the gateway is connected again once the exchange answers")
again = order("x-lost", "buy", 1)
check(again["success"] and again["data"]["is_send_order"], "the retry with the same client order id is accepted")
check(wait_until(lambda: filled("x-lost"), 10), "and filled")
accepted = [x for x in reports() if x["client_order_id"] == "x-lost" and x["status"] == "accepted"]
check(len(accepted) == 1, "exactly one x-lost order at the exchange")

# ---- 5. the exchange's own book file, and a clean stop --------------------------------------------
db = sqlite3.connect(os.path.join(e.home, "exchange.db"))
n_orders = db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
last_seq = db.execute("SELECT MAX(seq) FROM reports").fetchone()[0]
cids = [row[0] for row in db.execute("SELECT client_order_id FROM orders ORDER BY n")]
bodies = [body for (body,) in db.execute("SELECT body FROM reports ORDER BY seq")]
db.close()
check(cids == ["x-1", "x-2", "x-rest", "x-3", "x-4", "x-lost"], "exchange.db holds the orders: %s" % cids)
check(n_orders == 6 and last_seq == reports()[-1]["seq"], "and the report log")
logged = [msgpack.unpackb(b, raw=False) if isinstance(b, bytes) else None for b in bodies]
check(all(logged) and [x["seq"] for x in logged] == [x["seq"] for x in reports()] and
      [x["client_order_id"] for x in logged] == [x["client_order_id"] for x in reports()],
      "the report log keeps each report as a msgpack map, the same the gateway serves")
xr = Client(e.ep("exchange"), server="exchange")
h = xr.call("health")
check(h and h["success"] and h["data"]["last_seq"] == last_seq and h["data"]["open_orders"] == 1,
      "the exchange answers its own health request")
check(xr.call("list_accounts")["error_code"] == "NOT_LOGGED_IN", "its other requests need a login")


def packed(req):
    """One msgpack request on the exchange's port; its msgpack reply."""
    xr.sock.send(msgpack.packb(req, use_bin_type=True))
    return msgpack.unpackb(xr.sock.recv(), raw=False)


mp_order = {"client_order_id": "x-mp", "account": "SIM-0001", "symbol": "TXFF5", "side": "buy", "qty": 1,
            "order_type": "Limit", "price": 18000, "time_in_force": "ROD", "open_close": "AUTO", "day_trade": False,
            "note": "e2e"}
r = packed({"operation": "send_order", "id": 9, "order": mp_order})
check(r["id"] == 9 and r["success"] is False and r["error_code"] == "NOT_LOGGED_IN",
      "a msgpack send_order needs the login too, answered in msgpack: %s" % r)
check(xr.call("login", login_id="A123456789", password="sim-pass")["success"], "a login in JSON")
r1 = packed({"operation": "send_order", "id": "ten", "order": mp_order})
r2 = packed({"operation": "send_order", "id": 11, "order": mp_order})
check(r1["id"] == "ten" and r1["success"] and r1["result"]["is_send_order"] and not r1["result"]["duplicate"] and
      r2["success"] and r2["result"]["duplicate"] and r2["result"]["order_serial"] == r1["result"]["order_serial"],
      "a msgpack send_order is placed once, its repeat answered as the duplicate: %s %s" % (r1, r2))
xr.sock.send(b"\x83\xa9operation")
r = msgpack.unpackb(xr.sock.recv(), raw=False)
check(r["success"] is False and r["error_code"] == "INVALID_MSGPACK", "garbled msgpack gets a msgpack error: %s" % r)
second = start("exchange", "--home", os.path.join(e.home, "second"))
check(second.wait(30) == 1, "a second exchange on the same ports exits 1")
check("already in use" in open(os.path.join(e.home, "exchange-%d.log" % logs["exchange"])).read(),
      "and says the address is in use")
code, out, _ = e.cli("exchange", "--help")
check(code == 0 and "--wait-subscribers" in out and "exchange.db" in out, "aftm exchange --help")
for bad in (["--rate", "0"], ["--ticks", "f.csv", "--seed", "1"], ["--speed", "2"], ["--bogus"],
            ["--insecure", "--endpoint", "tcp://0.0.0.0:1"]):
    code, _, err = e.cli("exchange", *bad, check=False)
    check(code == 2 and err.strip(), "aftm exchange %s: exit 2 with a message" % " ".join(bad))
gateway.send_signal(signal.SIGTERM)
exchange.send_signal(signal.SIGTERM)
check(gateway.wait(15) == 0 and exchange.wait(15) == 0, "gateway and exchange stop cleanly")
for c in (gw_cli, slow, xr):
    if c.sock is not None:
        c.sock.close()
rsub.close()
ctx.term()
check_logs_clean(e)
print("PASS")
