"""Fault injection: a busy simulated session in which the strategy, the executor or the gateway
is killed with SIGKILL at random moments (seeded) and restarted, round after round. At the end
every signal produced at most one order at the exchange, every fill is counted once, and
aftm's positions equal the exchange's.

ROUNDS (env AFTM_KILL_ROUNDS, default 100) and SEED (env AFTM_KILL_SEED, default 20261124)."""
import json
import os
import random
import signal
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, check, check_logs_clean, wait_until  # noqa: E402

ROUNDS = int(os.environ.get("AFTM_KILL_ROUNDS", "100"))
SEED = int(os.environ.get("AFTM_KILL_SEED", "20261124"))
rng = random.Random(SEED)
e = Env()
ctx = zmq.Context()
ACCOUNT = "SIM-0001"


def exchange_args():
    return ["exchange", "--home", e.home, "--seed", str(SEED), "--rate", "100", "--symbol", "TXFF5"]


ARGS = {
    "gateway": lambda: ["gateway", "--broker", "sim", "--home", e.home, "--tick-endpoint", e.ep("tick"),
                        "--order-endpoint", e.ep("order"), "--report-endpoint", e.ep("report"), "--quiet"],
    "executor": lambda: ["executor", "--home", e.home, "--signal-endpoint", e.ep("signal"),
                         "--order-endpoint", e.ep("order"), "--report-endpoint", e.ep("report"),
                         "--tick-endpoint", e.ep("tick"), "--account", ACCOUNT, "--trading-hours", "off",
                         "--timeout-ms", "500", "--attempts", "2"],
    "strategy": lambda: ["strategy", "--home", e.home, "--tick-endpoint", e.ep("tick"),
                         "--signal-endpoint", e.ep("signal"), "--report-endpoint", e.ep("report")],
}
procs = {}
logs = {}


def start(name):
    logs.setdefault(name, 0)
    logs[name] += 1
    procs[name] = e.start(*ARGS[name](), log=os.path.join(e.home, "%s-%d.log" % (name, logs[name])))


req = e.curve(ctx.socket(zmq.REQ), "gateway")  # the CLI's key
req.setsockopt(zmq.RCVTIMEO, 3000)
req.setsockopt(zmq.LINGER, 0)
req.connect(e.ep("order"))


def call(op, **params):
    """One request to the gateway; reconnects after a timeout (the gateway may be down)."""
    global req
    msg = {"operation": op}
    if params:
        msg["parameters"] = params
    try:
        req.send_string(json.dumps(msg))
        return json.loads(req.recv())
    except zmq.ZMQError:
        req.close()
        req = e.curve(ctx.socket(zmq.REQ), "gateway")
        req.setsockopt(zmq.RCVTIMEO, 3000)
        req.setsockopt(zmq.LINGER, 0)
        req.connect(e.ep("order"))
        return None


exchange = e.start(*exchange_args(), log=os.path.join(e.home, "exchange.log"))
for name in ("gateway", "executor", "strategy"):
    start(name)
check(wait_until(lambda: (call("health_check") or {}).get("success"), 20), "the system is up")

# the last price, from the tick feed, to place new conditions around it
sub = e.curve(ctx.socket(zmq.SUB), "gateway")
sub.setsockopt(zmq.SUBSCRIBE, b"TICK")
sub.connect(e.ep("tick"))


def last_price():
    price = None
    while sub.poll(0):
        frames = sub.recv_multipart()
        price = msgpack.unpackb(frames[1], raw=False)["tick"]["match_price"]
    return price


def add_conditions(n):
    p = None
    end = time.time() + 2
    while p is None and time.time() < end:
        time.sleep(0.02)
        p = last_price()
    if p is None:
        return
    for _ in range(n):
        side = rng.choice(["buy", "sell"])
        trigger = int(p) + (rng.randint(0, 3) if side == "buy" else -rng.randint(0, 3))
        args = ["condition", "add", "--symbol", "TXFF5", "--side", side, "--trigger", str(trigger),
                "--turning", str(rng.randint(1, 3)), "--qty", str(rng.randint(1, 3)), "--tp", str(rng.randint(2, 6)),
                "--sl", str(rng.randint(2, 6))]
        if rng.random() < 0.5:
            args.append("--follow")
        e.cli(*args)


add_conditions(10)
kills = {"gateway": 0, "executor": 0, "strategy": 0}
t0 = time.time()
for r in range(ROUNDS):
    time.sleep(rng.uniform(0.1, 0.6))
    if r % 3 == 0:
        add_conditions(3)
    victim = rng.choice(["gateway", "executor", "strategy"])
    procs[victim].send_signal(signal.SIGKILL)
    procs[victim].wait()
    kills[victim] += 1
    if rng.random() < 0.3:
        time.sleep(rng.uniform(0.05, 0.5))  # sometimes it stays down a while
    start(victim)
print("rounds: %d in %.1f s, kills: %s" % (ROUNDS, time.time() - t0, kills))

# settle: no new conditions; every order reaches a final state
for c in e.json("condition", "list", "--json"):
    if not c["is_ordered"]:
        e.cli("condition", "rm", str(c["id"]), check=False)


def settled():
    orders = e.json("orders", "--json")
    return all(o["status"] in ("filled", "rejected", "cancelled", "expired") for o in orders)


check(wait_until(settled, 60, 0.5), "every order reached a final state")
time.sleep(1.0)
for name in ("strategy", "executor"):
    procs[name].send_signal(signal.SIGTERM)
    check(procs[name].wait(15) == 0, "%s stops cleanly" % name)

orders = e.json("orders", "--json")
fills = e.json("fills", "--json")
placed = [o for o in orders if not o["reason"].startswith("risk ")]
print("orders: %d (%d refused by risk), fills: %d" % (len(orders), len(orders) - len(placed), len(fills)))
check(len(placed) > 20, "a busy session: %d orders placed" % len(placed))

# the exchange's view of every order aftm placed
doubles, unknown = 0, 0
for o in placed:
    rep = call("order_status", client_order_id=o["client_order_id"])
    check(rep and rep.get("success"), "the gateway answers order_status")
    d = rep["data"]
    if not d.get("found"):
        if o["status"] != "rejected":
            unknown += 1
        continue
    if d["filled_qty"] != o["filled_qty"]:
        print("mismatch", o, d)
        doubles += 1
check(unknown == 0, "every order aftm counts as live or filled exists at the exchange")
check(doubles == 0, "filled quantities agree order by order")

# every report the exchange sent, to count its fills by id
seen, since = {}, 0
while True:
    rep = call("get_reports", since_seq=since)
    check(rep and rep.get("success"), "get_reports answers")
    batch = rep["data"]["reports"]
    for x in batch:
        if x.get("fill_id"):
            seen[x["fill_id"]] = x
        since = max(since, x["seq"])
    if not rep["data"].get("more"):
        break
aftm_ids = [f["fill_id"] for f in fills]
check(len(aftm_ids) == len(set(aftm_ids)), "aftm counted each fill once")
ours = {k for k, v in seen.items() if v["account"] == ACCOUNT}
check(set(aftm_ids) == ours, "aftm's fills are exactly the exchange's (%d)" % len(ours))
signal_ids = [o["signal_id"] for o in placed]
check(len(signal_ids) == len(set(signal_ids)), "at most one order per signal")

mine = {p["symbol"]: p["net_qty"] for p in e.json("positions", "--json") if p["account"] == ACCOUNT}
broker = {p["symbol"]: p["net_qty"] for p in e.json("positions", "--broker", "--account", ACCOUNT, "--json")}
mine = {k: v for k, v in mine.items() if v}
broker = {k: v for k, v in broker.items() if v}
print("positions aftm %s, exchange %s" % (mine, broker))
check(mine == broker, "aftm's positions equal the exchange's")

procs["gateway"].send_signal(signal.SIGTERM)
exchange.send_signal(signal.SIGTERM)
check(procs["gateway"].wait(15) == 0 and exchange.wait(15) == 0, "gateway and exchange stop cleanly")
check_logs_clean(e)
print("kill/restart rounds: %d (gateway %d, executor %d, strategy %d); orders %d, fills %d, doubled 0, lost 0, "
      "position mismatches 0" % (ROUNDS, kills["gateway"], kills["executor"], kills["strategy"], len(placed),
                                 len(fills)))
print("PASS")
