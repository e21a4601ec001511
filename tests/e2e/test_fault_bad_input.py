"""Issue 11, item 6: bad values at the edge. A tick price in (0, 1) would truncate to 0 and reach
the strategy as a price; a conditions.json with 9223372036854775807 overflowed the derived prices
or was stored and traded; a negative risk limit turned its rule off, a misspelt [rsk] section or
a directory passed as --risk was taken for "no limits". Each is refused with a clear error (exit
code 2 at the command line); nothing is stored. The bad ticks are also slipped into a trading
system's feed, which ends with the audit."""
import json
import os
import random
import signal
import sys
import time

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import (Env, System, check, check_logs_clean,  # noqa: E402
                      tick_frames as tick, wait_until)

e = Env()

# ---- conditions.json with numbers out of range ---------------------------------------------------
big = os.path.join(e.home, "conditions.json")
good = {"condition_id": "7a2f9c05-1111-2222-3333-444444444444", "action": "BUY", "trigger_price": 20000,
        "quantity": 1, "turning_point": 15, "take_profit_point": 90, "stop_loss_point": 30, "is_following": False,
        "symbol": "TXFF5"}
for field, value in (("trigger_price", 9223372036854775807), ("turning_point", 9223372036854775807),
                     ("take_profit_point", -5), ("quantity", 5000)):
    bad = dict(good, condition_id="7a2f9c05-1111-2222-3333-555555555555", **{field: value})
    with open(big, "w") as f:
        json.dump([good, bad], f)
    code, out, err = e.cli("condition", "import", big, check=False)
    check(code == 2 and field in err and "out of range" in err, "import refuses %s %s (exit %d): %s"
          % (field, value, code, err.strip().splitlines()[0] if err.strip() else ""))
check(e.json("condition", "list", "--json") == [], "nothing imported from a file with a bad record")
with open(big, "w") as f:
    json.dump([good], f)
code, out, err = e.cli("condition", "import", big)
check(code == 0 and len(e.json("condition", "list", "--json")) == 1, "a good file still imports")
e.cli("condition", "rm", "1")

# ---- risk files that would switch rules off -------------------------------------------------------
for name, text, want in (("negative.ini", "[risk]\nmax_position_per_product = -20\n", "out of range"),
                         ("typo.ini", "[rsk]\nmax_position_per_product = 5\n", "unknown section [rsk]"),
                         ("dir", None, "not a file")):
    path = os.path.join(e.home, name)
    if text is None:
        os.mkdir(path)
    else:
        with open(path, "w") as f:
            f.write(text)
    code, out, err = e.cli("executor", "--risk", path, "--home", e.home, check=False)
    check(code == 2 and want in err, "aftm executor --risk %s: exit %d, %s" % (name, code, err.strip()))

# ---- a tick price in (0, 1) never reaches the strategy ---------------------------------------------
e.cli("condition", "add", "--symbol", "TXFF5", "--side", "buy", "--trigger", "20000", "--turning", "10", "--qty", "1")
ctx = zmq.Context.instance()
pub = e.curve_server(ctx.socket(zmq.PUB), "gateway")  # this test stands in for the gateway
pub.bind(e.ep("tick"))
pull = e.curve_server(ctx.socket(zmq.PULL), "executor")  # and for the executor
pull.bind(e.ep("signal"))
strat = e.start("strategy", "--tick-endpoint", e.ep("tick"), "--signal-endpoint", e.ep("signal"),
                "--report-endpoint", e.ep("report"))
time.sleep(1.0)
for p in (20050, 0.5, 0.999, 20010, 20015):  # 0.5 as 0 would trigger the buy; 20010 would then enter
    pub.send_multipart(tick(p))
    time.sleep(0.05)
check(not pull.poll(1000), "no signal from a price below one point")
for p in (19995, 20010):
    pub.send_multipart(tick(p))
    time.sleep(0.05)
check(pull.poll(3000), "real prices still trade")
sig = msgpack.unpackb(pull.recv(), raw=False)
check(sig["signal_id"].endswith(".E") and sig["price"] == 20010, "the entry at 20010: %s" % sig)
strat.send_signal(signal.SIGTERM)
check(strat.wait(10) == 0, "the strategy exits cleanly")
check("bad price 0.5" in open(os.path.join(e.home, "strategy.log")).read(), "the bad tick was logged")
check_logs_clean(e)
pub.close()
pull.close()

# ---- the same inside a trading system: prices below a point slipped into the feed --------------------
e = Env()
s = System(e, rate=20)
relay = s.start_behind_relay()
s.add_quick_conditions(8, random.Random(6))
check(wait_until(lambda: "entry filled" in s.log_text("strategy"), 30), "entries filled: exits are watched")
for _ in range(20):  # as 0, each would be past every buy's stop loss and every sell's take profit
    relay.inject(tick(0.5))
    relay.inject(tick(0.25))
    time.sleep(0.05)
check(s.settle(60), "every order reached a final state")
s.audit()
text = s.log_text("strategy")
check(" at 0," not in text, "no signal at a price of 0")
check("bad price 0.5" in text, "the bad ticks were logged")
s.stop_all()
relay.close()
check_logs_clean(e)
print("PASS")
