"""Issue 11, item 3: aftm.db deleted (what a user does after corruption) while the exchange keeps
exchange.db. Condition ids start at 1 again, and so do signal ids; the client order ids must not
(they carry the new database's instance id), so the first new orders are placed, not taken for
the old ones ('the gateway already had it') and left open forever. Ends with the audit of the new
database's orders."""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, System, audit, check, check_logs_clean, instance_id, wait_until  # noqa: E402

rng = random.Random(3)
e = Env()
s = System(e, rate=20)
s.start_all()
time.sleep(1.0)


def filled_orders():
    return [o for o in e.json("orders", "--json") if o["status"] == "filled"]


def trade_a_while(n):
    rng.seed(3)  # the same conditions both times: the same ids, the same signal ids
    s.add_quick_conditions(n, rng)
    check(wait_until(lambda: len(filled_orders()) >= 3, 60), "orders filled (%d)" % len(filled_orders()))
    check(s.settle(60), "every order reached a final state")


trade_a_while(6)
first = instance_id(e)
s.stop("strategy")
s.stop("executor")
# read after both stopped: an exit may still go out after the orders settle
old = {o["client_order_id"] for o in e.json("orders", "--json")}
for suffix in ("", "-wal", "-shm"):
    path = os.path.join(e.home, "aftm.db" + suffix)
    if os.path.exists(path):
        os.remove(path)
e.cli("resume")  # a new, empty database (a read-only command no longer makes one)
s.start("executor")
s.start("strategy")
time.sleep(1.0)
trade_a_while(6)
second = instance_id(e)
# the old database's orders are booked again in the new one as external (the broker's reports
# say the account holds their fills); every order the new database placed has a new id
rows = e.json("orders", "--json")
new = {o["client_order_id"] for o in rows if not o["signal_id"].startswith("external-")}
check(not (old & new), "no client order id of the new database was used before")
check({o["client_order_id"] for o in rows if o["signal_id"].startswith("external-")} <= old,
      "what the new database booked as external are the old database's orders")
check("already had it" not in "".join(open(p).read() for p in s.logs("executor")[1:]),
      "no new order was taken for an old one")
# the new database's signals: the second strategy's log only; its positions are the whole
# account's (the old database's fills are booked in it as external)
audit(e, s.account, s.logs("strategy")[1:], whole_account=True, exchange_db=os.path.join(e.home, "exchange.db"))
check(first != second, "the new database has its own instance id (%s, was %s)" % (second, first))
s.stop_all()
check_logs_clean(e)
print("PASS")
