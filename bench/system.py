"""The whole system under load: `aftm run` (exchange, gateway, executor, strategy) with 10,000
idle conditions plus a few active ones that re-arm after each exit, at a given tick rate.
Measures tick -> order at the exchange (the exchange's accept time minus the tick's `when`,
one host, CLOCK_REALTIME) and the peak RSS of every process. Prints a markdown section.

    system.py AFTM_BINARY SECONDS RATE [RATE ...]"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

from benchkit import aftm_env, report_body

AFTM, SECS, RATES = sys.argv[1], float(sys.argv[2]), [int(r) for r in sys.argv[3:]]
# The simulated exchange lists 4 products (TX and MTX, two months each) and each random-walk step
# is a tick of every one: RATE ticks/s in all, as the five-hop floor sends, is RATE / 4 steps/s.
PRODUCTS = 4


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def hwm_kb(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    names = {}
    for c in out:
        try:
            argv = open("/proc/%s/cmdline" % c).read().split("\0")
            names[argv[1]] = int(c)
        except (OSError, IndexError):
            pass
    return names


def one(rate):
    home = tempfile.mkdtemp(prefix="aftm-sysbench-")
    env, _ = aftm_env(home)
    conds = []
    for i in range(10000):  # idle: far from the walk (beyond where 12 s at 10,000 steps/s takes it), never firing
        buy = i % 2 == 0
        conds.append({"condition_id": "%08x-0000-4000-8000-%012x" % (i, i), "action": "BUY" if buy else "SELL",
                      "trigger_price": 20000 - 1800 - (i % 97) if buy else 20000 + 1800 + (i % 97), "quantity": 1,
                      "turning_point": 15, "take_profit_point": 90, "stop_loss_point": 30,
                      "is_following": (i // 2) % 2 == 1})
    path = os.path.join(home, "idle.json")
    json.dump(conds, open(path, "w"))
    subprocess.run([AFTM, "condition", "import", path, "--symbol", "TXFF5"], env=env, capture_output=True, check=True)
    for side, trig in (("buy", 20200), ("sell", 19800), ("buy", 20300), ("sell", 19700)):
        subprocess.run([AFTM, "condition", "add", "--symbol", "TXFF5", "--side", side, "--trigger", str(trig),
                        "--turning", "2", "--qty", "1", "--tp", "4", "--sl", "4", "--follow"], env=env,
                       capture_output=True, check=True)
    # the default limit of 20 orders a second stops the flow within the first second: off, so the
    # run measures orders all along (each round trip re-arms the conditions at once)
    subprocess.run([AFTM, "risk", "set", "max_orders_per_second", "0"], env=env, capture_output=True, check=True)
    steps = max(1, rate // PRODUCTS)
    run = subprocess.Popen([AFTM, "run", "--for", str(SECS), "--seed", "5", "--rate", str(steps), "--rearm", "--quiet"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(SECS * 0.8)
    rss = {name: hwm_kb(pid) for name, pid in children(run.pid).items()}
    run.wait(timeout=SECS + 60)
    db = sqlite3.connect(os.path.join(home, "aftm.db"))
    # created_at: when the executor wrote the order's row (its clock, the same host's)
    when = {c: (w * 1e6, at * 1e6) for c, w, at in
            db.execute("SELECT client_order_id, signal_when, created_at FROM orders WHERE signal_when > 0")}
    xdb = sqlite3.connect(os.path.join(home, "exchange.db"))
    lat, to_store, to_accept = [], [], []
    for (body,) in xdb.execute("SELECT body FROM reports ORDER BY seq"):
        r = report_body(body)
        cid = r.get("client_order_id")
        if r.get("status") == "accepted" and cid in when:
            tick, stored = when[cid]
            lat.append(r["ts_us"] - tick)
            to_store.append(stored - tick)
            to_accept.append(r["ts_us"] - stored)
    subprocess.run(["rm", "-rf", home])
    return lat, rss, to_store, to_accept


def fmt_us(v):
    return "%.0f µs" % v if v < 1000 else "%.2f ms" % (v / 1000)


rows, rss_all, halves = [], {}, []
for rate in RATES:
    lat, rss, to_store, to_accept = one(rate)
    rows.append((rate, len(lat), pct(lat, 0.5), pct(lat, 0.99), max(lat) if lat else float("nan")))
    halves.append((rate, pct(to_store, 0.5), pct(to_store, 0.99), pct(to_accept, 0.5), pct(to_accept, 0.99)))
    if rate == RATES[0]:
        rss_all = rss
# key/value figures for bench/run.sh (the order path's ratios to its floor)
if os.environ.get("AFTM_BENCH_RESULTS"):
    with open(os.environ["AFTM_BENCH_RESULTS"], "a") as out:
        for rate, n, p50, p99, mx in rows:
            out.write("system.%d.n %d\nsystem.%d.p50 %.1f\nsystem.%d.p99 %.1f\nsystem.%d.max %.1f\n"
                      % (rate, n, rate, p50, rate, p99, rate, mx))
print()
print("## The whole system: tick → order at the exchange, and memory")
print()
print("`aftm run` with its four processes (exchange, gateway, executor, strategy) on tcp://127.0.0.1,")
print("10,000 idle conditions plus 4 active ones re-armed after each exit (take-profit and stop-loss 4 points")
print("away, so they trade all through the run; the limit of orders per second is off), %g s per rate." % SECS)
print("The rate is ticks per second in all, as the five-hop floor below sends them: the exchange lists")
print("%d products (TX and MTX, two months each) and each step of its random walk is a tick of every one," % PRODUCTS)
print("so `--rate` is a quarter of it (250 steps/s for 1,000 ticks/s); the conditions watch TXFF5's")
print("ticks. Latency is")
print("the exchange's accept time of each order minus the `when` of the tick that fired its signal: tick")
print("out of the exchange → gateway → strategy → executor → gateway → exchange, five hops (the")
print("two-hop floor above is the reference for two of them). DESIGN.md's bar: p99 < 1 ms at 1,000 ticks/s.")
print()
print("| ticks/s | orders | p50 | p99 | max | p99 < 1 ms |")
print("|---|---|---|---|---|---|")
for rate, n, p50, p99, mx in rows:
    print("| %s | %d | %s | %s | %s | %s |" % ("{:,}".format(rate), n, fmt_us(p50), fmt_us(p99), fmt_us(mx),
                                               "yes" if p99 < 1000 else "no"))
print()
print("Peak RSS (VmHWM) of each process at 10,000 conditions, %s ticks/s (bar: each under 20 MB):" %
      "{:,}".format(RATES[0]))
print()
print("| process | VmHWM | under 20 MB |")
print("|---|---|---|")
for name in ("exchange", "gateway", "executor", "strategy"):
    kb = rss_all.get(name, 0)
    print("| %s | %.1f MB | %s |" % (name, kb / 1024.0, "yes" if 0 < kb < 20 * 1024 else "no"))
print()
print("The two halves of that path, split at the moment the executor writes the order's row (its")
print("`created_at`): tick → stored is the exchange's tick through the gateway and the strategy to")
print("the executor's insert (three hops); stored → accepted is the executor's commit, the send, the")
print("gateway and the exchange up to its accept (two hops).")
print()
print("| ticks/s | tick → stored p50 | p99 | stored → accepted p50 | p99 |")
print("|---|---|---|---|---|")
for rate, s50, s99, a50, a99 in halves:
    print("| %s | %s | %s | %s | %s |" % ("{:,}".format(rate), fmt_us(s50), fmt_us(s99), fmt_us(a50), fmt_us(a99)))
