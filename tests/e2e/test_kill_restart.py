"""Fault injection: a busy simulated session in which the exchange, the gateway, the executor or
the strategy is killed with SIGKILL at random moments (seeded) and restarted, round after round.
It ends with the audit of issue 11 (aftm_e2e.audit): every signal the strategy sent has an order
row or a stored refusal, every fill the exchange holds is in aftm's fills exactly once, no order
is left open once the exchange has finalised it, and aftm's positions equal the exchange's.

ROUNDS (env AFTM_KILL_ROUNDS, default 40; 'make soak' runs 200) and SEED (env AFTM_KILL_SEED,
default 20261124)."""
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, System, check, check_logs_clean  # noqa: E402

ROUNDS = int(os.environ.get("AFTM_KILL_ROUNDS", "40"))
SEED = int(os.environ.get("AFTM_KILL_SEED", "20261124"))
VICTIMS = ("exchange", "gateway", "executor", "strategy")
rng = random.Random(SEED)
e = Env()
s = System(e, seed=SEED, rate=100)
s.start_all()
time.sleep(1.0)
s.add_quick_conditions(10, rng)
kills = dict.fromkeys(VICTIMS, 0)
t0 = time.time()
for r in range(ROUNDS):
    time.sleep(rng.uniform(0.1, 0.6))
    if r % 3 == 0 and s.procs["exchange"].poll() is None and s.procs["gateway"].poll() is None:
        s.add_quick_conditions(3, rng)
    victim = rng.choice(VICTIMS)
    s.kill(victim)
    kills[victim] += 1
    if rng.random() < 0.3:
        time.sleep(rng.uniform(0.05, 0.5))  # sometimes it stays down a while
    s.start(victim)
print("rounds: %d in %.1f s, kills: %s" % (ROUNDS, time.time() - t0, kills))

check(s.settle(90), "every order reached a final state")
time.sleep(1.0)
f = s.audit(wait=60)
placed = f["orders"] - f["refused"]
check(placed > 20, "a busy session: %d orders placed" % placed)
check(f["outbox"] == 0, "every signal acknowledged by the executor")
s.stop_all()
check_logs_clean(e)
print("kill/restart rounds: %d (exchange %d, gateway %d, executor %d, strategy %d); signals %d, orders %d "
      "(%d refused by risk), fills %d; lost %d, doubled %d, missing %d, stranded %d, positions %s"
      % (ROUNDS, kills["exchange"], kills["gateway"], kills["executor"], kills["strategy"], f["signals"], f["orders"],
         f["refused"], f["fills"], len(f["lost"]), len(f["doubled"]), len(f["missing"]), len(f["stranded"]),
         "equal" if f["positions"][0] == f["positions"][1] else "DIFFERENT"))
print("PASS")
