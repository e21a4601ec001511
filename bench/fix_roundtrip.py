"""NewOrderSingle -> ExecutionReport round trip against QuickFIX's packaged example executor:
an order sent on the gateway's order port, timed until its fill report arrives on the report
port (gateway -> QuickFIX initiator -> TCP -> the executor -> back). Prints p50/p99 in ms.
Usage: python3 bench/fix_roundtrip.py [N] [--markdown]  (after 'make'; uses build/release/aftm);
--markdown prints the section of docs/PERFORMANCE.md instead of one line."""
import json
import os
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
os.environ.setdefault("AFTM_TESTDATA", os.path.join(HERE, "..", "tests", "data"))
import zmq.auth  # noqa: E402

from aftm_e2e import free_ports  # noqa: E402
from fix_e2e import Executor, aftm_settings  # noqa: E402

markdown = "--markdown" in sys.argv[1:]
args = [a for a in sys.argv[1:] if a != "--markdown"]
n = int(args[0]) if args else 2000
home = tempfile.mkdtemp(prefix="aftm-fixbench-")
ex = Executor(home).start()
cfg = aftm_settings(home, ex.port)
tick, order, report = free_ports(3)
aftm = os.path.join(HERE, "..", "build", "release", "aftm")
gw = subprocess.Popen([aftm, "gateway", "--broker", "fix", "--fix-config", cfg, "--home", home, "--quiet",
                       "--market-data", "walk", "--rate", "1", "--tick-endpoint", "tcp://127.0.0.1:%d" % tick,
                       "--order-endpoint", "tcp://127.0.0.1:%d" % order, "--report-endpoint",
                       "tcp://127.0.0.1:%d" % report], stdout=open(os.path.join(home, "gw.log"), "w"),
                      stderr=subprocess.STDOUT)
# the order and report ports take the CLI's CURVE key, as for every client of the gateway
subprocess.run([aftm, "keys", "init", "--home", home], check=True, capture_output=True)
cli_pub, cli_sec = zmq.auth.load_certificate(os.path.join(home, "keys", "cli.key_secret"))
gw_pub, _ = zmq.auth.load_certificate(os.path.join(home, "keys", "gateway.key"))


def secure(sock):
    sock.curve_publickey, sock.curve_secretkey, sock.curve_serverkey = cli_pub, cli_sec, gw_pub
    return sock


ctx = zmq.Context()
req = secure(ctx.socket(zmq.REQ))
req.connect("tcp://127.0.0.1:%d" % order)
sub = secure(ctx.socket(zmq.SUB))
sub.setsockopt(zmq.SUBSCRIBE, b"REPORT")
sub.connect("tcp://127.0.0.1:%d" % report)


def call(op, **p):
    req.send_string(json.dumps({"operation": op, "parameters": p}))
    return json.loads(req.recv())


try:
    for _ in range(200):
        if call("health_check")["data"].get("broker_state") == "logged on":
            break
        time.sleep(0.05)
    time.sleep(0.3)
    lat = []
    for i in range(n + 100):
        cid = "b-%d-%d" % (os.getpid(), i)
        t0 = time.perf_counter()
        call("send_order", client_order_id=cid, order_account="SIM-0001", item_code="TXFF5",
             side="buy" if i % 2 == 0 else "sell", order_type="Limit", price=20000, quantity=1, open_close="AUTO",
             note="b", day_trade="N", time_in_force="ROD")
        done = False
        while not done:
            unpacker = msgpack.Unpacker()  # REPORT, a zero byte, one or more reports in msgpack
            unpacker.feed(sub.recv().partition(b"\0")[2])
            done = any(r["client_order_id"] == cid and r["status"] == "filled" for r in unpacker)
        if i >= 100:  # warm-up left out
            lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    p50, p99, worst = lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1]
    if markdown:
        print("""
## FIX: NewOrderSingle → ExecutionReport round trip

`python3 bench/fix_roundtrip.py %d` (release build): an order sent on the gateway's order port
(REQ, JSON) is timed until its fill report arrives on the report port: gateway → QuickFIX
initiator → loopback TCP → QuickFIX's packaged example executor (fills at the limit price) →
ExecutionReport → journal → report published. One order at a time, 100 warm-up orders left out.
The example executor logs every message to its screen, and the gateway journals each order
(fsync) before it leaves: both are part of what is measured.

| orders | p50 | p99 | max |
|---|---|---|---|
| {:,} | %.2f ms | %.2f ms | %.2f ms |
""".replace("{:,}", "{:,}".format(n)) % (n, p50, p99, worst))
        sys.exit(0)
    print("FIX round trip (send_order -> NewOrderSingle -> example executor -> ExecutionReport -> report), "
          "%d orders: p50 %.3f ms, p99 %.3f ms, max %.3f ms" % (n, p50, p99, worst))
finally:
    gw.terminate()
    gw.wait(timeout=10)
    ex.stop()
