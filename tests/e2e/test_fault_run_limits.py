"""Issue 11, item 8 (the parts in the executor's, strategy's and launcher's reach): 'aftm run' on a
database it cannot use (a newer schema) restarted the executor and the strategy forever and
exited 0; it now stops after five quick failures with the same error, says why, and exits 1. A
tcp://localhost: endpoint passed the loopback check and then failed to bind: it is refused with
the address to use, and ZMQ_HOST=localhost means 127.0.0.1."""
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import AFTM, Env, check, check_logs_clean, wait_until  # noqa: E402

# ---- a newer schema: aftm run gives up, exit 1 ------------------------------------------------------
e = Env()
db = sqlite3.connect(os.path.join(e.home, "aftm.db"))
db.execute("PRAGMA user_version=99")
db.commit()
db.close()
t0 = time.time()
p = subprocess.run([AFTM, "run", "--for", "120", "--seed", "1"], env=e.env, capture_output=True, text=True, timeout=150)
took = time.time() - t0
out = p.stdout + p.stderr
check(p.returncode == 1, "aftm run exits 1 (got %d) after %.1f s" % (p.returncode, took))
check(took < 60, "well before --for ends")
check("schema 99 is newer" in out, "the children's own error is shown")
check("cannot run" in out and "5 times in a row" in out, "and why aftm run stopped: %s"
      % [line for line in out.splitlines() if "cannot run" in line])

# ---- tcp://localhost: refused with the address to use; ZMQ_HOST=localhost is 127.0.0.1 ---------------
e = Env()
code, _, err = e.cli("executor", "--signal-endpoint", "tcp://localhost:%d" % e.ports["signal"], "--quiet",
                     check=False)
check(code == 1 and "not a host name" in err and "tcp://127.0.0.1:%d" % e.ports["signal"] in err,
      "a localhost bind is refused clearly: %s" % err.strip().splitlines()[-1])
e.env["ZMQ_HOST"] = "localhost"
ex = e.start("executor", "--account", "SIM-0001")
check(wait_until(lambda: "started:" in open(os.path.join(e.home, "executor.log")).read(), 15),
      "with ZMQ_HOST=localhost the executor binds 127.0.0.1")
check("signals on tcp://127.0.0.1:" in open(os.path.join(e.home, "executor.log")).read(), "on loopback")
ex.terminate()
check(ex.wait(15) == 0, "the executor stops cleanly")
check_logs_clean(e)
print("PASS")
