"""Issue 11, item 2: signals queued in a stopped executor's socket die with it (SIGSTOP, the
strategy sends, SIGKILL), and the strategy is killed too. The strategy keeps every signal until
the executor has stored it (an order row or a stored refusal) and sends it again, under the same
id, across the restarts of both. Ends with the audit."""
import os
import random
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, System, check, check_logs_clean, wait_until  # noqa: E402

rng = random.Random(11)
e = Env()
s = System(e, rate=20)
s.start_all()
time.sleep(1.0)
s.kill("executor", signal.SIGSTOP)
s.add_quick_conditions(12, rng)


def signals_sent():
    return len(set(re.findall(r"\bsignal (\S+\.E) ", s.log_text("strategy"))))


check(wait_until(lambda: signals_sent() >= 3, 60), "the strategy sent entries to the stopped executor (%d)"
      % signals_sent())
time.sleep(0.5)  # the outbox rows are written with the conditions' states
s.kill("executor")  # SIGKILL while stopped: what its socket held is gone
s.kill("strategy")
print("killed with %d entr(y/ies) sent" % signals_sent())
s.start("strategy")
time.sleep(1.0)
s.start("executor")
resent = wait_until(lambda: "not acknowledged" in s.log_text("strategy"), 20)
time.sleep(5.0)  # more entries, and exits, with both restarted
check(s.settle(60), "every order reached a final state")
f = s.audit()
check(f["signals"] >= 3, "signals sent: %d" % f["signals"])
check(f["outbox"] == 0, "the outbox is empty: every signal acknowledged")
check(resent, "the restarted strategy sent again what the executor never stored")
s.stop_all()
check_logs_clean(e)
print("PASS")
