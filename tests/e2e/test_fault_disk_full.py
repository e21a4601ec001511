"""Issue 11, items 1 and 2 on a full disk: aftm.db on a small tmpfs that is filled up while the
system trades. Orders cannot be stored (the signal is not acknowledged, so the strategy sends it
again), fills cannot be booked (the report counter stays before them), condition states wait in
the writer. Once space is freed, everything is caught up: the audit finds nothing lost, doubled
or stranded. Skipped, with the reason, where a tmpfs cannot be mounted."""
import atexit
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, System, check, check_logs_clean, wait_until  # noqa: E402

e = Env()
xhome = e.home  # the exchange, the gateway and every log: on the ordinary disk
fs = os.path.join(xhome, "aftm-home")
os.mkdir(fs)
# larger than SQLite's WAL grows before its first checkpoint (1,000 pages, 4 MiB): on a smaller
# disk the WAL alone fills it again after the space is freed, which is that disk's size, not a fault
m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", fs], capture_output=True, text=True)
if m.returncode != 0:
    print("SKIP: cannot mount a tmpfs here (%s); the full-disk fault needs one" % (m.stderr.strip() or m.returncode))
    print("PASS")
    sys.exit(0)
atexit.register(lambda: subprocess.run(["umount", "-l", fs]))
e.home = fs
e.env["AFTM_HOME"] = fs
rng = random.Random(5)
s = System(e, rate=20, exchange_home=xhome)
s.log_dir = xhome
s.start_all()
time.sleep(1.0)
s.add_quick_conditions(6, rng)
check(wait_until(lambda: "signal " in s.log_text("strategy"), 60), "trading has started")
# more to fire while the disk is full: wide exits keep their positions open (and marked, which
# writes) past the moment the disk fills, however fast the quick ones have traded
s.add_quick_conditions(10, rng, exits=(15, 40))

filler = os.path.join(fs, "filler")
# unbuffered: a write the disk could not take is not left in a buffer for close() to fail on
with open(filler, "wb", buffering=0) as f:
    try:
        while f.write(b"\0" * 65536):
            pass
    except OSError:
        pass
print("disk full: %d KiB of filler" % (os.path.getsize(filler) // 1024))
# the market moves on: entries, fills and exits while nothing can be written (the WAL file has
# room left from before, so the first writes still fit)
full = wait_until(lambda: "full" in s.log_text("executor") + s.log_text("strategy"), 60)
time.sleep(5.0)
os.remove(filler)
print("space freed")
check(full, "the processes met the full disk (and said so)")
time.sleep(3.0)
settled = s.settle(90)
if not settled:  # what holds the space: the database, its WAL, anything left
    print("\n".join("  %s: %d KiB" % (n, os.path.getsize(os.path.join(fs, n)) // 1024) for n in sorted(os.listdir(fs))))
check(settled, "every order reached a final state")
f = s.audit(wait=60)
check(f["signals"] >= 1 and f["fills"] >= 1, "a trading session: %d signals, %d fills" % (f["signals"], f["fills"]))
check(f["outbox"] == 0, "every signal acknowledged")
s.stop_all()
check_logs_clean(e, xhome)
print("PASS")
