"""Issue 11, item 7: a message over the size cap on the tick link. libzmq drops the connection
that carried it (and a subscriber's dropped connection is not made again by itself): the strategy
must log the drop, connect again, and go on turning ticks into signals. Part 1 feeds a lone
strategy; part 2 puts a relay between a trading system's gateway and its strategy, slips 2 MiB
messages into the feed while it trades, and ends with the audit."""
import os
import random
import re
import signal
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import (Env, System, check, check_logs_clean,  # noqa: E402
                      tick_frames as tick, wait_until)

BIG = b"\x00" * (2 << 20)

# ---- 1. a lone strategy, fed by this test -------------------------------------------------------------
ctx = zmq.Context.instance()
e = Env()
pub, pull, strat = e.lone_strategy(ctx)  # this test stands in for the gateway and the executor
pub.send_multipart(tick(20050))  # the link works
time.sleep(0.2)
for _ in range(3):  # over the 1 MiB cap, as one frame and as a tick body
    pub.send(BIG)
    pub.send_multipart([b"TICK", BIG])
    time.sleep(0.2)
time.sleep(1.5)  # reconnects take a moment


def until_signal(prices, timeout=10):
    end = time.time() + timeout
    i = 0
    while time.time() < end:
        pub.send_multipart(tick(prices[i % len(prices)]))
        i += 1
        if pull.poll(100):
            return msgpack.unpackb(pull.recv(), raw=False)
    return None


sig = until_signal([19995, 20010])
check(sig is not None and sig["signal_id"] == "1.E", "the strategy still hears ticks after oversized messages")
check(strat.poll() is None, "the strategy is still running")
strat.send_signal(signal.SIGTERM)
check(strat.wait(10) == 0, "the strategy exits cleanly")
log = open(os.path.join(e.home, "strategy.log")).read()
check("tick link" in log and "size cap" in log, "the drop was logged")
check_logs_clean(e)
pub.close()
pull.close()

# ---- 2. a trading system whose tick feed carries oversized messages -----------------------------------
e = Env()
s = System(e, rate=20)
relay = s.start_behind_relay()
rng = random.Random(7)
s.add_quick_conditions(6, rng)


def signals():
    return len(set(re.findall(r"\bsignal (\S+\.[EX]) ", s.log_text("strategy"))))


check(wait_until(lambda: signals() >= 1, 30), "trading")
for _ in range(3):
    relay.inject([b"TICK", BIG])
    time.sleep(1.0)
before = signals()
s.add_quick_conditions(4, rng)
check(wait_until(lambda: signals() > before, 30), "signals after the oversized messages (%d, then %d)"
      % (before, signals()))
check(s.settle(60), "every order reached a final state")
s.audit()
check(s.log_text("strategy").count("tick link") >= 3, "each drop was logged")
s.stop_all()
relay.close()
check_logs_clean(e)
print("PASS")
