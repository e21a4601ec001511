"""Nothing silently unmanaged: 'condition rm' of a condition that holds a position refuses (exit 2,
naming the position) unless --flatten (closes it at market) or --keep-position (warns); aftm run
stopping with open positions lists them with a warning; the next start lists them first."""
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import AFTM, Env, check, check_logs_clean, wait_until  # noqa: E402


def main():
    e = Env()
    log_path = os.path.join(e.home, "run1.log")
    run = subprocess.Popen([AFTM, "run", "--for", "120", "--rate", "20", "--seed", "11"], env=e.env,
                           stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    try:
        check(wait_until(lambda: e.cli("status", "--json", check=False)[0] == 0 and
                         json.loads(e.cli("status", "--json")[1])["trading"], timeout=40), "aftm run trades")
        ids = []
        for _ in range(2):  # buy conditions that enter at once and stay in (TP/SL far away)
            out = e.cli("condition", "add", "--symbol", "TXFF5", "--side", "buy", "--trigger", "50000",
                        "--turning", "2", "--qty", "1", "--tp", "3000", "--sl", "3000", "--follow")[1]
            ids.append(int(re.search(r"\b(\d+)\b", out).group(1)))

        def in_position():
            rows = e.json("condition", "list", "--json")
            st = {r["id"]: r["stage"] for r in rows}
            return all(st.get(i) == "in position" for i in ids)
        check(wait_until(in_position, timeout=60), "both conditions hold a position")

        code, out, err = e.cli("condition", "rm", str(ids[0]), check=False)
        check(code == 2 and "long 1 TXFF5" in err and "--flatten" in err and "--keep-position" in err,
              "rm of an in-position condition refuses with exit 2 and names the position (%d %s)" % (code, err.strip()))
        rows = {r["id"]: r for r in e.json("condition", "list", "--json")}
        check(rows[ids[0]]["stage"] == "in position", "the refused rm left the condition as it was")
        code, out, err = e.cli("condition", "rm", str(ids[0]), "--flatten", "--keep-position", check=False)
        check(code == 2, "--flatten with --keep-position is bad usage")

        def broker_net():
            c, o, _ = e.cli("positions", "--broker", "--json", check=False)
            return sum(p["net_qty"] for p in json.loads(o) if p["symbol"] == "TXFF5") if c == 0 else None
        check(broker_net() == 2, "the broker holds the two lots")
        code, out, err = e.cli("condition", "rm", str(ids[0]), "--flatten", check=False)
        check(code == 0 and "cancelled" in out and "sell 1 TXFF5" in out,
              "rm --flatten cancels and closes the lots at market (%d %s %s)" % (code, out.strip(), err.strip()))
        check(wait_until(lambda: broker_net() == 1, timeout=15), "the broker holds one lot after the flatten")
        code, out, err = e.cli("condition", "rm", str(ids[1]), "--keep-position", check=False)
        check(code == 0 and "cancelled" in out and "stays open" in err and "long 1 TXFF5" in err,
              "rm --keep-position cancels and warns that the lots stay open (%d %s)" % (code, err.strip()))
        check(broker_net() == 1, "--keep-position sent nothing")
    finally:
        run.send_signal(signal.SIGINT)
        rc = run.wait(timeout=60)
    check(rc == 0, "aftm run stops on Ctrl+C")
    text = open(log_path).read()
    check("WARNING: stopped with open positions" in text and re.search(r"long \d+ TXFF5", text),
          "stopping with open positions lists them with a warning")

    code, out, err = e.cli("run", "--for", "3", "--rate", "20", check=False)
    check(code == 0 and "open positions at start" in out and re.search(r"long \d+ TXFF5", out),
          "the next start lists the open positions first (%d %s %s)" % (code, out, err))
    check(out.index("open positions at start") < out.index("running"), "... before the processes start")
    check_logs_clean(e)


if __name__ == "__main__":
    main()
