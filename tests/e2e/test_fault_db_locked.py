"""Issue 11, item 1: a fill that arrives while another process holds aftm.db (BEGIN EXCLUSIVE for
16 s, longer than the executor's busy timeout). The executor cannot apply the report then; it
must not move its report counter past it, and must book the fill once the database is free
(catch-up from the gateway's report log). Ends with the audit."""
import os
import sqlite3
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, System, aftm_signal, check, check_logs_clean, wait_until  # noqa: E402

e = Env()
s = System(e, rate=1)  # one tick a second: the fill comes a moment after the accept
s.start_all(("exchange", "gateway", "executor"))
ctx = zmq.Context.instance()
push = e.curve(ctx.socket(zmq.PUSH), "executor", role="strategy")
push.connect(e.ep("signal"))
check(s.last_price() is not None, "ticks are flowing")
check(wait_until(lambda: "started:" in s.log_text("executor"), 20), "the executor is up")
time.sleep(0.5)
db_path = os.path.join(e.home, "aftm.db")


def order_status(signal_id):
    try:
        db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=0.05)
    except sqlite3.OperationalError:
        return None
    try:
        row = db.execute("SELECT status FROM orders WHERE signal_id=?", (signal_id,)).fetchone()
        return row[0] if row else None
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()


sent = []
locked_fill = False
for attempt in range(3):
    sid = "lock-%d.E" % attempt
    sent.append(sid)
    push.send(aftm_signal(sid, "BUY", 2))
    check(wait_until(lambda: order_status(sid) == "accepted", 10, 0.002), "order %s accepted" % sid)
    # the fill comes at the next tick: hold the database from another process across it
    holder = sqlite3.connect(db_path, timeout=10, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    time.sleep(16)
    holder.execute("ROLLBACK")
    holder.close()
    log = s.log_text("executor")
    if "not applied now" in log or "cannot store report" in log:
        locked_fill = True
        break
    print("the fill of %s came before the lock; again" % sid)
check(locked_fill, "a fill arrived while the database was held, and the executor said it could not apply it")

f = s.audit(extra_signals=sent)
check(f["fills"] >= 1, "the exchange filled the order(s)")
mine = e.json("orders", "--json")
check(all(o["status"] == "filled" and o["filled_qty"] == 2 for o in mine), "every order is filled, 2 lots")
check(f["positions"][0].get("TXFF5") == 2 * len(sent), "aftm holds what the exchange holds: %s" % f["positions"][0])
s.stop_all()
check_logs_clean(e)
print("PASS")
