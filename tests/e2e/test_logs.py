"""Logs (issue 12): aftm run writes each process's log under DIR/logs as the menu does, rotated by
size (AFTM_LOG_MAX_BYTES), still printing everything to its own output; aftm logs [PROCESS]
prints them, rotated files first, and aftm logs -f follows one as it grows, across rotations.
Unknown process: exit 1 with the ones there are; a bad name: exit 2; no logs at all: exit 1."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import AFTM, Env, aftm_running, check, check_logs_clean, wait_until  # noqa: E402

PROCS = ("exchange", "gateway", "executor", "strategy")


def main():
    e = Env()
    logs = os.path.join(e.home, "logs")
    code, _, err = e.cli("logs", check=False)
    check(code == 1 and "no logs in" in err, "aftm logs with no logs yet: exit 1 and says so (%d %s)" % (code, err))

    e.env["AFTM_LOG_MAX_BYTES"] = "4096"
    e.env["AFTM_LOG_KEEP"] = "2"
    follower = None
    with aftm_running(e, "--demo", "--for", "240", "--rate", "50", "--seed", "3"):
        check(wait_until(lambda: all(os.path.exists(os.path.join(logs, p + ".log")) for p in PROCS), timeout=40),
              "aftm run writes logs/exchange.log, gateway.log, executor.log and strategy.log")
        # the demo trades: the executor's log grows past 4 KiB and is rotated
        follower = subprocess.Popen([AFTM, "logs", "-f", "executor"], env=e.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        def rotated_past_start():
            """two rotations, and the start-up line gone with the file beyond AFTM_LOG_KEEP (the
            second rotation alone may still keep it in executor.log.2)"""
            if not os.path.exists(os.path.join(logs, "executor.log.2")):
                return False
            text = ""
            for n in ("executor.log.2", "executor.log.1", "executor.log"):
                try:
                    with open(os.path.join(logs, n), errors="replace") as f:
                        text += f.read()
                except OSError:
                    return False  # in the middle of a rotation: look again
            return "executor INFO  started:" not in text
        check(wait_until(rotated_past_start, timeout=180, every=0.5),
              "executor.log is rotated by size, twice (executor.log.1, executor.log.2), the oldest lines gone")
        time.sleep(1.0)  # the follower polls every 200 ms: let it catch up with the file
        sizes = {n: os.path.getsize(os.path.join(logs, n)) for n in os.listdir(logs) if n.startswith("executor")}
        check(all(s <= 4096 + 1024 for s in sizes.values()), "no file much past the limit: %s" % sizes)
        check(not os.path.exists(os.path.join(logs, "executor.log.3")), "AFTM_LOG_KEEP=2 keeps two old files")
    follower.send_signal(signal.SIGINT)
    fout, ferr = follower.communicate(timeout=20)
    check(follower.returncode == 0, "aftm logs -f ends on Ctrl+C with 0 (%s)" % ferr.decode()[-300:])
    followed = fout.decode().splitlines()
    ex_lines = [l for l in followed if " executor " in l]
    check(len(ex_lines) > 20 and all(" executor " in l for l in followed),
          "aftm logs -f executor printed the executor's lines as they came (%d)" % len(followed))
    # everything -f printed is in the files (the rotated ones and the current), in order, nothing twice
    code, text, _ = e.cli("logs", "executor")
    lines = text.splitlines()
    check(code == 0 and all(" executor " in l for l in lines), "aftm logs executor prints the executor's log")
    check(len(followed) >= len(lines) and followed[-len(lines):] == lines,
          "what -f printed ends with the files' lines as they are now: nothing lost or doubled at a rotation")
    started = [l for l in lines if "executor INFO  started:" in l]
    check(not started, "the oldest lines are gone with the files beyond AFTM_LOG_KEEP (rotated away)")
    run_out = open(os.path.join(e.home, "run.log")).read()
    check(all(l in run_out for l in lines[-5:]), "aftm run still prints every line it logs to a file")

    code, text, _ = e.cli("logs")
    check(code == 0 and all("==> %s/%s.log <==" % (logs, p) in text for p in PROCS),
          "aftm logs prints every process's log under a header")
    code, _, err = e.cli("logs", "nosuch", check=False)
    check(code == 1 and "no log of 'nosuch'" in err and "strategy" in err, "an unknown process: exit 1, names those there are")
    code, _, err = e.cli("logs", "../aftm", check=False)
    check(code == 2, "a name that is no process name: exit 2")
    check_logs_clean(e)
    print("PASS")


main()
