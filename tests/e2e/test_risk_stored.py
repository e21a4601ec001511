"""Risk limits stored with the account, and 'aftm flatten' when an order is refused (issue 12):

1. 'aftm risk set|import|show': good values are stored and shown as stored; a bad key or value is
   refused with exit 2, naming the key and why, and nothing is stored.
2. An executor started with no risk flag trades on the stored limits: an order over the stored
   max_lots_per_order is refused under that rule.
3. 'aftm flatten' whose order is refused (2 lots against the stored limit of 1) exits 1 and names
   the product; the position stays open.
4. '--risk FILE' overrides the stored limits for one run, and says so: the executor's log names
   the file and the key; with it the flatten goes through, and the stored limits are unchanged.
5. 'aftm run' reads the stored limits too, and says on screen when --risk overrides them."""
import json
import os
import subprocess
import sys

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import AFTM, Env, System, aftm_signal, check, check_logs_clean, wait_until  # noqa: E402

e = Env()


def shown():
    return {r["key"]: (r["value"], r["source"]) for r in e.json("risk", "show", "--json")}


# ---- 1. the CLI -----------------------------------------------------------------------------------
check(shown()["max_lots_per_order"] == ("10", "default"), "a new account shows the defaults")
code, out, err = e.cli("risk", "set", "max_lots_per_order", "1")
check(code == 0 and "max_lots_per_order = 1 stored" in out, "risk set stores a good value: %s" % out)
for key, value, why in (("max_lots_per_order", "-1", "out of range"), ("max_lots_per_order", "lots", "not an integer"),
                        ("trading_hours", "maybe", "not on or off"), ("day_session", "25:00-26:00", "HH:MM-HH:MM"),
                        ("max_lotz", "1", "unknown key")):
    code, out, err = e.cli("risk", "set", key, value, check=False)
    check(code == 2 and key in err and why in err and "nothing stored" in err,
          "risk set %s %s is refused with exit 2, naming the key and why: %d %s" % (key, value, code, err.strip()))
check(shown()["max_lots_per_order"] == ("1", "stored"), "the refused values changed nothing")
bad = os.path.join(e.home, "bad.ini")
open(bad, "w").write("[risk]\nmax_open_orders = 5\nprice_band_points = wide\n")
code, out, err = e.cli("risk", "import", bad, check=False)
check(code == 2 and "price_band_points" in err and "line 3" in err, "a bad file is refused: %s" % err.strip())
check(shown()["max_open_orders"] == ("50", "default"), "nothing of the bad file was stored")
good = os.path.join(e.home, "good.ini")
open(good, "w").write("[risk]\nmax_lots_per_order = 1\nmax_open_orders = 40\n")
code, out, err = e.cli("risk", "import", good)
check("2 limit(s) stored" in out, "import stores the file's keys: %s" % out)
s = shown()
check(s["max_open_orders"] == ("40", "stored") and s["max_lots_per_order"] == ("1", "stored")
      and s["stale_signal_ms"] == ("5000", "default"), "show: stored and default keys: %s" % s)

# ---- 2. the executor trades on the stored limits ----------------------------------------------------
sysm = System(e, rate=10)
sysm.start_all(("exchange", "gateway", "executor"))
p = sysm.last_price()
check(p is not None, "ticks are flowing")
check(wait_until(lambda: "2 stored with the account" in sysm.log_text("executor"), 20),
      "the executor says it uses the stored limits")
push = e.curve(zmq.Context.instance().socket(zmq.PUSH), "executor", role="strategy")
push.connect(e.ep("signal"))


def orders():
    return {o["signal_id"]: o for o in e.json("orders", "--json")}


def signal(sid, side, qty):
    push.send(aftm_signal(sid, side, qty, price=int(sysm.last_price() or p)))
    check(wait_until(lambda: (orders().get(sid) or {}).get("status") in ("filled", "rejected"), 30),
          "signal %s settled: %s" % (sid, orders().get(sid)))
    return orders()[sid]


o = signal("big", "BUY", 2)
check(o["status"] == "rejected" and "max_lots_per_order" in o["reason"],
      "2 lots are refused under the stored max_lots_per_order 1: %s" % o)
check(signal("one-a", "BUY", 1)["status"] == "filled" and signal("one-b", "BUY", 1)["status"] == "filled",
      "two single lots fill")


def net():
    return {x["symbol"]: x["net_qty"] for x in e.json("positions", "--json") if x["net_qty"]}


check(wait_until(lambda: net() == {"TXFF5": 2}, 10), "long 2: %s" % net())

# ---- 3. flatten refused: exit 1, the product named -------------------------------------------------
code, out, err = e.cli("flatten", check=False)
check(code == 1 and "TXFF5" in err and "max_lots_per_order" in err and "still open" in err,
      "a flatten whose order is refused exits 1 naming the product: %d %s %s" % (code, out.strip(), err.strip()))
check(net() == {"TXFF5": 2}, "the position is still open")

# ---- 4. --risk overrides for one run --------------------------------------------------------------
sysm.stop("executor")
override = os.path.join(e.home, "override.ini")
open(override, "w").write("[risk]\nmax_lots_per_order = 5\n")
sysm.risk = override
sysm.start("executor")
check(wait_until(lambda: "overridden for this run by --risk %s: max_lots_per_order=5" % override
                 in sysm.log_text("executor"), 20), "the executor says --risk overrides the stored limits")
code, out, err = e.cli("flatten", check=False)
check(wait_until(lambda: net() == {}, 20) if code == 0 else False,
      "with the override the flatten goes through: %d %s %s" % (code, out.strip(), err.strip()))
check(shown()["max_lots_per_order"] == ("1", "stored"), "the override did not change the stored limits")
sysm.stop_all()

# ---- 5. aftm run says which limits it trades on -------------------------------------------------------
log = os.path.join(e.home, "run.log")
with open(log, "w") as f:
    run = subprocess.run([AFTM, "run", "--for", "3", "--rate", "20", "--seed", "3", "--risk", override], env=e.env,
                         stdout=f, stderr=subprocess.STDOUT, timeout=120)
text = open(log).read()
check(run.returncode == 0, "aftm run ended normally: %s" % text[-2000:])
check("overridden for this run by --risk %s" % override in text, "aftm run says --risk overrides, on screen")
check("2 stored with the account" in text, "the run's executor read the stored limits")
code, _, err = e.cli("run", "--for", "1", "--risk", bad, check=False)
check(code == 2 and "price_band_points" in err, "aftm run --risk with a bad file: exit 2: %s" % err.strip())
check_logs_clean(e)
print("PASS")
