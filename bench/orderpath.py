"""Order throughput through aftm: signals -> executor -> gateway -> exchange, every order stored
before it leaves the executor and accepted in the exchange's book on disk. The exchange, the
gateway and the executor run as processes of their own on tcp://127.0.0.1 with CURVE (as `aftm
run` starts them); a burst of BURST signals (alternating buy and sell, 1 lot) is pushed at once
into the executor's signal port, the way a strategy sends. Figure: orders/s from the first push
to the exchange's accept time of the last order, with every signal's order accepted once (0 lost,
0 doubled). Prints `key value` lines for bench/run.sh.

    orderpath.py AFTM_BINARY BURST [TRIALS]"""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq
import zmq.auth

from benchkit import aftm_env, report_body

AFTM, BURST = sys.argv[1], int(sys.argv[2])
TRIALS = int(sys.argv[3]) if len(sys.argv) > 3 else 1


def signal_bytes(sid, side):
    return msgpack.packb({"when": {"__datetime__": True, "timestamp": time.time()},
                          "operation": {"__enum__": True, "class": "OrderOperation", "name": side},
                          "commodity_id": "TXFF5", "signal_id": sid, "condition_id": 0, "quantity": 1, "seq": 1,
                          "price": 0, "__class__": "TradingSignal"}, use_bin_type=True)


def wait(pred, timeout, every=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(every)
    return pred()


def proc_cpu(pid):
    """user + system CPU seconds of a process, all its threads (ZeroMQ's I/O thread included)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def trial():
    home = tempfile.mkdtemp(prefix="aftm-orderbench-")
    env, ports = aftm_env(home)
    subprocess.run([AFTM, "keys", "init"], env=env, capture_output=True, check=True)
    risk = os.path.join(home, "risk.ini")
    with open(risk, "w") as f:
        f.write("[risk]\nmax_lots_per_order = 10\nmax_position_per_product = 1000000\nmax_open_orders = 1000000\n"
                "max_orders_per_second = 0\nprice_band_points = 1000000\nstale_signal_ms = 0\n")
    procs = []
    logs = []

    def start(*args):
        log = open(os.path.join(home, args[0] + ".log"), "w")
        logs.append(log)
        procs.append(subprocess.Popen([AFTM] + list(args), env=env, stdout=log, stderr=subprocess.STDOUT))
    try:
        start("exchange", "--home", home, "--seed", "5", "--rate", "20", "--symbol", "TXFF5", "--quiet")
        start("gateway", "--broker", "sim", "--home", home, "--quiet")
        start("executor", "--home", home, "--account", "SIM-0001", "--trading-hours", "off", "--risk", risk,
              "--quiet")
        ctx = zmq.Context.instance()
        pub, sec = zmq.auth.load_certificate(os.path.join(home, "keys", "strategy.key_secret"))
        exec_key = zmq.auth.load_certificate(os.path.join(home, "keys", "executor.key_secret"))[0]
        push = ctx.socket(zmq.PUSH)
        push.curve_publickey, push.curve_secretkey, push.curve_serverkey = pub, sec, exec_key
        push.setsockopt(zmq.SNDHWM, 0)
        push.connect("tcp://127.0.0.1:%d" % ports["signal"])
        db = os.path.join(home, "aftm.db")
        xdb = os.path.join(home, "exchange.db")

        def count(path, sql):
            try:
                c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
                try:
                    return c.execute(sql).fetchone()[0]
                finally:
                    c.close()
            except sqlite3.Error:
                return -1
        # ready: one order through end to end
        # (the first signals may be refused until the executor has seen a tick: the price band)
        for k in range(30):
            push.send(signal_bytes("warm-%d.E" % k, "BUY"))
            if wait(lambda: count(db, "SELECT COUNT(*) FROM orders WHERE status='filled'") >= 1, 1):
                break
        else:
            raise RuntimeError("the warm-up order never filled (see %s)" % home)
        time.sleep(0.5)
        cpu0 = [proc_cpu(p.pid) for p in procs]
        t0 = time.time()
        for i in range(BURST):
            push.send(signal_bytes("b-%d.E" % i, "BUY" if i % 2 == 0 else "SELL"))
        pushed = time.time() - t0
        seen = dict(seq=0, accepted=0)

        def accepted():
            """The burst's accepted reports in the exchange's log so far (reading the rows after the
            last read only)."""
            try:
                c = sqlite3.connect("file:%s?mode=ro" % xdb, uri=True, timeout=5)
                try:
                    for seq, body in c.execute("SELECT seq, body FROM reports WHERE seq > ? ORDER BY seq",
                                               (seen["seq"],)):
                        seen["seq"] = seq
                        r = report_body(body)
                        seen["accepted"] += r.get("status") == "accepted" and "-b-" in r.get("client_order_id", "")
                finally:
                    c.close()
            except sqlite3.Error:
                pass
            return seen["accepted"]
        # the burst's own orders: the warm-up may have placed more than one
        wait(lambda: accepted() >= BURST, 120, 0.2)
        cpu = [b - a for a, b in zip(cpu0, [proc_cpu(p.pid) for p in procs])]
        c = sqlite3.connect("file:%s?mode=ro" % xdb, uri=True, timeout=5)
        acc = {}
        for (body,) in c.execute("SELECT body FROM reports ORDER BY seq"):
            r = report_body(body)
            if r.get("status") == "accepted" and "-b-" in r.get("client_order_id", ""):
                acc.setdefault(r["client_order_id"], []).append(r["ts_us"])
        c.close()
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        stored = dict(c.execute("SELECT signal_id, COUNT(*) FROM orders WHERE signal_id LIKE 'b-%' GROUP BY signal_id"))
        c.close()
        lost = BURST - len([1 for i in range(BURST) if stored.get("b-%d.E" % i) == 1])
        doubled = len([k for k, v in acc.items() if len(v) > 1])
        last = max((v[0] for v in acc.values()), default=t0 * 1e6) / 1e6
        rate = len(acc) / (last - t0) if last > t0 else 0
        return dict(rate=rate, accepted=len(acc), lost=lost + (BURST - len(acc)), doubled=doubled, push_s=pushed,
                    secs=last - t0, cpu=cpu)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in logs:
            log.close()
        if not os.environ.get("AFTM_BENCH_KEEP"):
            subprocess.run(["rm", "-rf", home])


best = None
for _ in range(TRIALS):
    r = trial()
    print("orderpath: burst of %d: %d accepted at the exchange in %.2f s (pushed in %.2f s): %.0f orders/s, lost %d, "
          "doubled %d; CPU per order: exchange %.0f us, gateway %.0f us, executor %.0f us"
          % (BURST, r["accepted"], r["secs"], r["push_s"], r["rate"], r["lost"], r["doubled"],
             *[c * 1e6 / BURST for c in r["cpu"]]), file=sys.stderr)
    if best is None or r["rate"] > best["rate"]:
        best = r
print("orderpath.burst %d" % BURST)
print("orderpath.rate %.0f" % best["rate"])
print("orderpath.lost %d" % best["lost"])
print("orderpath.doubled %d" % best["doubled"])
for name, c in zip(("exchange", "gateway", "executor"), best["cpu"]):
    print("orderpath.cpu.%s %.0f" % (name, c * 1e6 / BURST))
