"""Issue 12 part A, item 3: trading states. Against the real exchange, gateway and executor (the
strategy's signals pushed on the signal link with the strategy's key):

1. 'aftm kill --halt': halted, shown by 'aftm status' (text and --json, with reason and time);
   an executor started now says so in its log; an exit is refused (on main halt did not exist).
2. 'aftm kill': reducing; the same exit passes, an entry is refused and its condition is parked
   rejected by the kill switch.
3. 'aftm resume': active again, and the parked condition is armed again (active, no entry); its
   entry signal is then stored as a new order and fills."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, SignalDesk, System, check, check_logs_clean, wait_until  # noqa: E402

e = Env()
s = System(e, rate=10)
s.start_all(("exchange", "gateway", "executor"))
desk = SignalDesk(s)
condition, order, net, signal, sent = desk.condition, desk.order, desk.net, desk.signal, desk.sent


def cond(cid):
    return next(c for c in e.json("condition", "list", "--all", "--json") if c["id"] == cid)


st = e.json("status", "--json")
check(st.get("trading_state") == "active", "active to begin with: %s" % st.get("trading_state"))

c1 = condition("buy")
check(signal("%d.E" % c1, "BUY", 1, c1)["status"] == "filled", "the entry filled")
check(wait_until(lambda: net() == 1, 10), "long 1")

# 1. halted
out = e.cli("kill", "--halt", "--reason", "broker trouble")[1]
check("halted" in out, "kill --halt says halted: %s" % out)
st = e.json("status", "--json")
check(st["trading_state"] == "halted" and st["trading_state_reason"] == "broker trouble" and
      re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d", st.get("trading_state_since") or ""),
      "status --json: halted, reason, time (ISO 8601 with offset): %s" % st)
text = e.cli("status")[1]
check(re.search(r"Trading state:\s+halted since \S+ \S+ - broker trouble", text), "status text: %s" % text)
s.stop("executor")
s.start("executor")
check(wait_until(lambda: "trading state at start: halted" in s.log_text("executor"), 15),
      "the executor announces the state it starts in")
time.sleep(0.5)
x = signal("%d.X" % c1, "SELL", 1, c1)
check(x["status"] == "rejected" and "halted" in x["reason"], "halted refuses even an exit: %s" % x)
check(net() == 1, "still long 1")

# 2. reducing
e.cli("kill", "--reason", "issue 12 test")
check(e.json("status", "--json")["trading_state"] == "reducing", "status: reducing")
time.sleep(0.5)  # the executor reads the state every 250 ms
c2 = condition("buy")
x2 = signal("%d.E" % c2, "BUY", 1, c2)
check(x2["status"] == "rejected" and x2["reason"].startswith("risk kill_switch"), "an entry is refused: %s" % x2)
check(wait_until(lambda: cond(c2)["status"] == "rejected", 10), "its condition is parked: %s" % cond(c2))
x = signal("hand-exit", "SELL", 1)
check(x["status"] == "filled", "reducing lets a position-reducing order through: %s" % x)
check(wait_until(lambda: net() == 0, 10), "flat")

# 3. resume
out = e.cli("resume")[1]
check("1 condition(s)" in out and "re-armed" in out, "resume re-arms the parked condition: %s" % out)
c = cond(c2)
check(c["status"] == "active" and "re-armed" in c["note"], "the condition is active again: %s" % c)
check(e.json("status", "--json")["trading_state"] == "active", "status: active")
time.sleep(0.5)
x2 = signal("%d.E" % c2, "BUY", 1, c2)
check(x2["status"] == "filled", "the re-armed condition's entry is a new order and fills: %s" % x2)
check(wait_until(lambda: net() == 1, 10), "long 1 again")
check(e.cli("kill", "--bogus", check=False)[0] == 2, "a bad flag exits 2")

f = s.audit(extra_signals=sent)
check(f["positions"][0].get("TXFF5", 0) == 1, "the exchange agrees: long 1")
s.stop_all()
check_logs_clean(e)
print("PASS")
