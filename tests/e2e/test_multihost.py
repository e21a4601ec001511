#!/usr/bin/env python3
"""aftm split across hosts, each host a network namespace on one bridge: the exchange and the
gateway on host A, the strategy on B, the executor on C, each with its own data directory and
keys, talking over their own addresses with CURVE (the keys exchanged with 'aftm keys allow').
Orders are placed and filled; a process with keys nobody allowed, on host D, is refused on every
port (and each refusal logged with its key); the executor's link is cut (ip link set down) for
a few seconds and restored: the links come back by themselves, and no order is lost or doubled.

Needs root and a kernel that allows network namespaces and veth pairs; skipped (exit 0, with
the reason) where either is refused."""
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import AFTM, Env, check, check_logs_clean, wait_until  # noqa: E402

PY = "/usr/bin/python3"
TAG = "%d" % (os.getpid() % 100000)
SUBNET = "10.%d.%d" % (100 + os.getpid() % 100, os.getpid() // 100 % 250)
HOSTS = {"a": 1, "b": 2, "c": 3, "d": 4}
NS = {h: "aftm%s%s" % (TAG, h) for h in HOSTS}
SWITCH = "aftm%ssw" % TAG
ADDR = {h: "%s.%d" % (SUBNET, n) for h, n in HOSTS.items()}


def skip(why):
    print("SKIP: %s" % why)
    sys.exit(0)


def ip(*args, check_rc=True):
    p = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check_rc and p.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), p.stderr.strip()))
    return p


def teardown():
    for name in list(NS.values()) + [SWITCH]:
        ip("netns", "del", name, check_rc=False)  # takes its veth ends with it


if os.geteuid() != 0:
    skip("network namespaces need root")
try:
    if subprocess.run(["ip", "-V"], capture_output=True).returncode != 0:
        skip("iproute2's ip does not run")
except FileNotFoundError:
    skip("iproute2 (ip) is not installed")
p = ip("netns", "add", SWITCH, check_rc=False)
if p.returncode != 0:
    skip("the kernel refuses a network namespace: %s" % p.stderr.strip())
procs = []
try:
    try:
        ip("-n", SWITCH, "link", "add", "br0", "type", "bridge")
        ip("-n", SWITCH, "link", "set", "br0", "up")
        for h in HOSTS:
            ip("netns", "add", NS[h])
            ip("-n", NS[h], "link", "set", "lo", "up")
            ip("link", "add", "av%s%s" % (TAG, h), "type", "veth", "peer", "name", "ap%s%s" % (TAG, h))
            ip("link", "set", "av%s%s" % (TAG, h), "netns", NS[h])
            ip("link", "set", "ap%s%s" % (TAG, h), "netns", SWITCH)
            ip("-n", SWITCH, "link", "set", "ap%s%s" % (TAG, h), "master", "br0", "up")
            ip("-n", NS[h], "link", "set", "av%s%s" % (TAG, h), "name", "eth0")
            ip("-n", NS[h], "addr", "add", ADDR[h] + "/24", "dev", "eth0")
            ip("-n", NS[h], "link", "set", "eth0", "up")
    except RuntimeError as err:
        teardown()
        skip("the kernel refuses a veth pair or a bridge: %s" % err)
    print("hosts:", ADDR)

    # ---- one data directory and key set per host; each allows the peers it talks to ----------
    home = {h: Env() for h in HOSTS}
    for h in HOSTS:
        home[h].cli("keys", "init")

    def pub(h, role):
        return os.path.join(home[h].home, "keys", role + ".key")

    def allow(h, role, frm):
        home[h].cli("keys", "allow", role, pub(frm, role))

    allow("a", "strategy", "b")   # the gateway lets in the strategy's ticks and reports subscription
    allow("a", "executor", "c")   # and the executor's orders
    allow("b", "gateway", "a")    # the strategy expects the gateway's key
    allow("b", "executor", "c")   # and the executor's, on the signal port
    allow("c", "gateway", "a")    # the executor expects the gateway's key
    allow("c", "strategy", "b")   # and lets the strategy's signals in
    # host d: keys of its own, allowed nowhere

    def ep(h, port):
        return "tcp://%s:%d" % (ADDR[h], port)

    def start(h, name, *args):
        log = open(os.path.join(home[h].home, "%s.log" % name), "w")
        p = subprocess.Popen(["ip", "netns", "exec", NS[h], AFTM, name, "--home", home[h].home, *args],
                             stdout=log, stderr=subprocess.STDOUT, env=home[h].env)
        procs.append(p)
        return p

    # the market: a replayed triangle wave, held until the strategy and the executor subscribe
    ticks = os.path.join(home["a"].home, "ticks.csv")
    with open(ticks, "w") as f:
        f.write("datetime,symbol,price,volume\n")
        for i in range(24 * 20):  # 24 s at 20 ticks/s
            k = i % 40
            price = 20000 + (k if k < 20 else 40 - k) * 2
            f.write("2025-06-17 09:%02d:%02d.%06d,TXFF5,%d,1\n" % (i // 1200, i // 20 % 60, i % 20 * 50000, price))
    home["b"].cli("condition", "add", "--symbol", "TXFF5", "--side", "buy", "--trigger", "20100", "--turning", "3",
                  "--qty", "1", "--tp", "6", "--sl", "6", "--follow")
    home["b"].cli("condition", "add", "--symbol", "TXFF5", "--side", "sell", "--trigger", "19900", "--turning", "3",
                  "--qty", "1", "--tp", "6", "--sl", "6", "--follow")

    xc = start("a", "exchange", "--endpoint", ep("a", 5559), "--market-endpoint", ep("a", 5569), "--ticks", ticks,
               "--speed", "1", "--wait-subscribers", "2")
    gw = start("a", "gateway", "--broker", "sim", "--exchange-endpoint", ep("a", 5559),
               "--exchange-market-endpoint", ep("a", 5569), "--tick-endpoint", ep("a", 5555),
               "--order-endpoint", ep("a", 5557), "--report-endpoint", ep("a", 5558))
    # signals held up by the cut arrive late: the stale-signal limit (5 s by default) would refuse
    # them, rightly; this test is about the links, so it gives them longer
    risk = os.path.join(home["c"].home, "risk.ini")
    with open(risk, "w") as f:
        f.write("[risk]\nstale_signal_ms = 60000\n")
    # the executor acknowledges stored signals on its host; the strategy listens there
    ex = start("c", "executor", "--risk", risk, "--signal-endpoint", ep("c", 5556), "--ack-endpoint", ep("c", 5566),
               "--order-endpoint", ep("a", 5557),
               "--report-endpoint", ep("a", 5558), "--tick-endpoint", ep("a", 5555), "--account", "SIM-0001",
               "--trading-hours", "off", "--timeout-ms", "1000", "--attempts", "2")
    st = start("b", "strategy", "--tick-endpoint", ep("a", 5555), "--signal-endpoint", ep("c", 5556),
               "--ack-endpoint", ep("c", 5566), "--report-endpoint", ep("a", 5558), "--rearm")

    def log_of(h, name):
        return open(os.path.join(home[h].home, "%s.log" % name), errors="replace").read()

    def orders():
        return home["c"].json("orders", "--json")

    def filled():
        return [o for o in orders() if o["status"] == "filled"]

    check(wait_until(lambda: "subscriber(s) to the market: starting it" in log_of("a", "exchange"), 20),
          "the market starts once the strategy and the executor subscribed across hosts")
    check(wait_until(lambda: len(filled()) >= 2, 20), "orders placed across hosts and filled (%d)" % len(filled()))

    # ---- host d: keys nobody allowed, on every port --------------------------------------------
    intruder = r'''
import json, sys, time, zmq, zmq.auth, msgpack
home, a, c, gwkey, exkey, xkey = sys.argv[1:7]
pub, sec = zmq.auth.load_certificate(home + "/keys/cli.key_secret")
spub, ssec = zmq.auth.load_certificate(home + "/keys/strategy.key_secret")
ctx = zmq.Context()
def sock(kind, ep, server, p=pub, s=sec, plain=False):
    x = ctx.socket(kind)
    x.setsockopt(zmq.LINGER, 0)
    if not plain:
        x.curve_publickey, x.curve_secretkey, x.curve_serverkey = p, s, server.encode()
    x.connect(ep)
    return x
out = {}
subs = {"ticks": sock(zmq.SUB, "tcp://%s:5555" % a, gwkey), "reports": sock(zmq.SUB, "tcp://%s:5558" % a, gwkey),
        "market": sock(zmq.SUB, "tcp://%s:5569" % a, xkey)}
for x in subs.values():
    x.setsockopt(zmq.SUBSCRIBE, b"")
reqs = {"orders": sock(zmq.REQ, "tcp://%s:5557" % a, gwkey), "exchange": sock(zmq.REQ, "tcp://%s:5559" % a, xkey),
        "orders_plain": sock(zmq.REQ, "tcp://%s:5557" % a, gwkey, plain=True)}
order = {"operation": "send_order", "parameters": {"order_account": "SIM-0001", "item_code": "TXFF5", "side": "buy",
         "order_type": "Market", "price": 0.0, "quantity": 9, "open_close": "AUTO", "note": "intruder",
         "day_trade": "N", "time_in_force": "IOC", "client_order_id": "intruder-1"}}
for name, x in reqs.items():
    x.send_string(json.dumps(order if name != "exchange" else {"operation": "health"}))
push = sock(zmq.PUSH, "tcp://%s:5556" % c, exkey, spub, ssec)
sig = msgpack.packb({"when": {"__datetime__": True, "timestamp": time.time()},
                     "operation": {"__enum__": True, "class": "OrderOperation", "name": "BUY"},
                     "commodity_id": "TXFF5", "signal_id": "intruder-1", "condition_id": 0, "quantity": 9, "seq": 1,
                     "price": 0, "__class__": "TradingSignal"}, use_bin_type=True)
try:
    push.send(sig, zmq.NOBLOCK)
    out["signal_queued"] = True
except zmq.Again:
    out["signal_queued"] = False
end = time.time() + 2.5
got = {k: 0 for k in list(subs) + list(reqs)}
while time.time() < end:
    for k, x in list(subs.items()) + list(reqs.items()):
        if x.poll(10):
            x.recv_multipart()
            got[k] += 1
out["received"] = got
print(json.dumps(out))
ctx.destroy(linger=0)
'''
    keys_a = {r: open(pub("a", r)).read().split('public-key = "')[1][:40] for r in ("gateway", "exchange")}
    key_c = open(pub("c", "executor")).read().split('public-key = "')[1][:40]
    r = subprocess.run(["ip", "netns", "exec", NS["d"], PY, "-c", intruder, home["d"].home, ADDR["a"], ADDR["c"],
                        keys_a["gateway"], key_c, keys_a["exchange"]], capture_output=True, text=True, timeout=30)
    print("intruder:", r.stdout.strip(), r.stderr.strip()[-2000:])
    res = json.loads(r.stdout)
    check(all(v == 0 for v in res["received"].values()),
          "host d gets nothing from any port: ticks, reports, market, orders, exchange (%s)" % res["received"])
    d_cli = open(pub("d", "cli")).read().split('public-key = "')[1][:40]
    d_strategy = open(pub("d", "strategy")).read().split('public-key = "')[1][:40]
    for port in ("ticks", "reports", "orders"):
        check(wait_until(lambda: "refused a connection to the %s port from %s" % (port, ADDR["d"]) in log_of("a", "gateway")
                         and d_cli in log_of("a", "gateway"), 5),
              "the gateway refused host d on its %s port, logged with d's key" % port)
    for port in ("exchange", "market"):
        check(wait_until(lambda: "refused a connection to the %s port from %s" % (port, ADDR["d"]) in log_of("a", "exchange"), 5),
              "the exchange refused host d on its %s port" % port)
    check(wait_until(lambda: "refused a connection to the signals port from %s" % ADDR["d"] in log_of("c", "executor")
                     and d_strategy in log_of("c", "executor"), 5),
          "the executor refused host d's signals, logged with d's key")
    check(wait_until(lambda: "handshake failed on the orders port" in log_of("a", "gateway"), 5),
          "the plain-text attempt is logged as a failed handshake")

    # ---- the executor's link cut for a few seconds, then restored ------------------------------
    before = len(filled())
    ip("-n", NS["c"], "link", "set", "eth0", "down")
    time.sleep(4)
    ip("-n", NS["c"], "link", "set", "eth0", "up")
    check(wait_until(lambda: len(filled()) >= before + 2, 20),
          "after the link is back, orders flow and fill again by themselves (%d -> %d filled)" % (before, len(filled())))
    check(wait_until(lambda: "replay finished" in log_of("a", "exchange"), 30), "the replay ends")

    def settled():
        o = orders()
        return o and all(x["status"] in ("filled", "rejected", "cancelled", "expired") for x in o)

    check(wait_until(settled, 20, 0.5), "every order reached a final state")
    time.sleep(1.0)

    # ---- nothing lost, nothing doubled -----------------------------------------------------------
    mine = orders()
    placed = [o for o in mine if not o["reason"].startswith("risk ")]
    xdb = sqlite3.connect("file:%s?mode=ro" % os.path.join(home["a"].home, "exchange.db"), uri=True)
    at_exchange = {row[0]: (row[1], row[2]) for row in
                   xdb.execute("SELECT client_order_id, filled_qty, account FROM orders WHERE client_order_id IS NOT NULL")}
    xdb.close()
    sids = [o["signal_id"] for o in mine]
    check(len(sids) == len(set(sids)), "one order per signal, none doubled (%d orders)" % len(mine))
    check("intruder-1" not in sids and "intruder-1" not in at_exchange, "no order from host d")
    missing = [o["client_order_id"] for o in placed if o["status"] != "rejected" and o["client_order_id"] not in at_exchange]
    check(not missing, "every order the executor placed is at the exchange, once (%d)" % len(placed))
    ours = {o["client_order_id"] for o in mine}
    stray = [cid for cid, (_, acct) in at_exchange.items() if cid not in ours]
    check(not stray, "the exchange holds no order the executor does not know")
    differ = [o for o in placed if o["client_order_id"] in at_exchange and at_exchange[o["client_order_id"]][0] != o["filled_qty"]]
    check(not differ, "filled quantities agree order by order")
    sent = set()
    for line in log_of("b", "strategy").splitlines():
        if " INFO  signal " in line:
            sent.add(line.split(" INFO  signal ")[1].split()[0])
    lost = sorted(sent - set(sids))
    check(sent and not lost, "every signal the strategy sent became one order (%d signals, lost %s)" % (len(sent), lost))
    print("multi-host: %d signals, %d orders (%d filled), %d at the exchange; lost 0, doubled 0"
          % (len(sent), len(mine), len([o for o in mine if o["status"] == "filled"]), len(at_exchange)))

    for p in (st, ex, gw, xc):
        p.terminate()
    for p, name in ((st, "strategy"), (ex, "executor"), (gw, "gateway"), (xc, "exchange")):
        check(p.wait(15) == 0, "%s stops cleanly" % name)
    for h in HOSTS:
        check_logs_clean(home[h])
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    teardown()
