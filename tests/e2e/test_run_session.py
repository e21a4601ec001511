"""aftm run logs in as the menu does: while it runs, every command works alongside it
(positions --broker, order send, futures, account list, status), status names the account, the
order account and the exchange process, and the session ends with the run."""
import json
import signal
import subprocess
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import AFTM, Env, check, check_logs_clean, wait_until  # noqa: E402


def main():
    e = Env()
    log = open(os.path.join(e.home, "run.log"), "w")
    run = subprocess.Popen([AFTM, "run", "--for", "90", "--rate", "20", "--seed", "7"], env=e.env, stdout=log,
                           stderr=subprocess.STDOUT)
    try:
        def active():
            code, out, _ = e.cli("status", "--json", check=False)
            if code != 0:
                return None
            st = json.loads(out)
            return st if st["session"]["state"] == "active" and st["gateway_up"] else None
        st = wait_until(active, timeout=40)
        check(st is not None, "aftm status shows a logged-in session while aftm run runs")
        check(st["session"]["account"] == "A123456789", "the session is the simulator's account")
        check(st["session"]["order_account"] == "SIM-0001", "status names the order account")
        procs = {p["name"]: p for p in st["processes"]}
        check("exchange" in procs and procs["exchange"]["state"] == "running" and procs["exchange"]["pid"] > 0,
              "status names the exchange process")
        check("aftm run" in (st["supervisor"] or ""), "status says aftm run supervises")
        check("trading_state" in st, "status has a place for the trading state")
        code, out, _ = e.cli("status")
        check("logged in as A123456789" in out and "Order account:  SIM-0001" in out and "exchange" in out,
              "text status names the account, the order account and the exchange")

        code, out, err = e.cli("futures", "--json", check=False)
        check(code == 0 and any(p["code"] == "TXFF5" for p in json.loads(out)), "futures works alongside run")
        code, out, err = e.cli("account", "list", check=False)
        check(code == 0 and "SIM-0001" in out, "account list works alongside run")
        code, out, err = e.cli("positions", "--broker", "--json", check=False)
        check(code == 0, "positions --broker works alongside run (%d %s)" % (code, err.strip()))
        code, out, err = e.cli("order", "send", "--side", "buy", "--qty", "1", "--symbol", "TXFF5", check=False)
        check(code == 0 and "Not logged in" not in out + err, "order send works alongside run (%d %s%s)" %
              (code, out.strip(), err.strip()))

        def long_one():
            c, o, _ = e.cli("positions", "--broker", "--json", check=False)
            if c != 0:
                return None
            return any(p.get("symbol") == "TXFF5" and p.get("net_qty") == 1 for p in json.loads(o))
        check(wait_until(long_one, timeout=15), "the manual order shows at the broker")
        e.env["AFTM_PASSWORD"] = "sim-pass"
        code, out, err = e.cli("login", "--account", "A123456789", check=False)
        del e.env["AFTM_PASSWORD"]
        check("Already logged in as A123456789" in out + err,
              "a second login is refused: the run holds the session (%d %s%s)" % (code, out.strip(), err.strip()))
    finally:
        run.send_signal(signal.SIGINT)
        rc = run.wait(timeout=60)
    check(rc == 0, "aftm run stops on Ctrl+C")
    st = e.json("status", "--json")
    check(st["session"]["state"] == "logged_out", "the session ends with the run")
    text = open(os.path.join(e.home, "run.log")).read()
    check("logged in as A123456789" in text, "aftm run says whom it logged in as")
    check_logs_clean(e)


if __name__ == "__main__":
    main()
