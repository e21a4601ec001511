"""Exit codes and read-only commands (issue 12): a read-only command (list, status, positions,
orders, fills; not positions --broker, which asks the broker) on a data directory with no aftm
data says so and exits 1, and makes no empty database there; `futures FOO` (no such product)
exits 2, as does an import where every record is bad; a file with some good records still
imports them (exit 0)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, aftm_running, check, check_logs_clean, wait_until  # noqa: E402

READ_ONLY = [["condition", "list"], ["condition", "list", "--json"], ["orders"], ["orders", "--json"], ["fills"],
             ["positions"], ["positions", "--json"], ["status"], ["status", "--json"],
             ["equity", "list"], ["item", "list"], ["account", "list"]]


def main():
    e = Env()
    empty = os.path.join(e.home, "nothing-here")
    os.mkdir(empty)
    for args in READ_ONLY:
        code, out, err = e.cli(*(args + ["--home", empty]), check=False)
        check(code == 1 and "no aftm data in %s" % empty in err and not out.strip(),
              "aftm %s on a directory with no aftm data: exit 1, says so (%d %s)" % (" ".join(args), code,
                                                                                  err.strip()[:80]))
    check(os.listdir(empty) == [], "and nothing was made there: %s" % os.listdir(empty))
    missing = os.path.join(e.home, "missing")
    code, _, err = e.cli("orders", "--home", missing, check=False)
    check(code == 1 and not os.path.exists(missing), "a data directory that does not exist is not made either")

    # an import where every record is bad: exit 2, nothing stored; some good ones: exit 0
    bad = os.path.join(e.home, "bad.json")
    with open(bad, "w") as f:
        json.dump([{"condition_id": "9d0c1e2f-0000-4000-8000-000000000001", "action": "HOLD", "trigger_price": 20000, "quantity": 1,
                    "turning_point": 10, "take_profit_point": 30, "stop_loss_point": 20, "is_following": False},
                   {"condition_id": "9d0c1e2f-0000-4000-8000-000000000002", "action": "BUY", "trigger_price": "high", "quantity": 1,
                    "turning_point": 10, "take_profit_point": 30, "stop_loss_point": 20, "is_following": False}], f)
    code, out, err = e.cli("condition", "import", bad, "--symbol", "TXFF5", check=False)
    check(code == 2 and "imported 0 condition(s)" in out and "every record" in err,
          "an import where every record is bad: exit 2 (%d %s)" % (code, err.strip()[-120:]))
    check(e.json("condition", "list", "--json") == [], "nothing stored")
    with open(bad) as f:
        records = json.load(f)
    records.append({"condition_id": "9d0c1e2f-0000-4000-8000-000000000003", "action": "BUY", "trigger_price": 20000, "quantity": 1,
                    "turning_point": 10, "take_profit_point": 30, "stop_loss_point": 20, "is_following": False})
    with open(bad, "w") as f:
        json.dump(records, f)
    code, out, err = e.cli("condition", "import", bad, "--symbol", "TXFF5", check=False)
    check(code == 0 and "imported 1 condition(s)" in out and "2 bad record(s) skipped" in out,
          "one good record among bad ones: imported, exit 0 (%d %s)" % (code, out.strip()))

    # futures FOO: exit 2, while a session runs; a prefix that matches: exit 0
    with aftm_running(e, "--for", "120", "--rate", "20", "--seed", "4"):
        def up():
            code, out, _ = e.cli("status", "--json", check=False)
            return code == 0 and json.loads(out)["gateway_up"] and json.loads(out)["session"]["state"] == "active"
        check(wait_until(up, timeout=40), "aftm run's session is up")
        code, out, err = e.cli("futures", "FOO", check=False)
        check(code == 2 and "No futures data found" in out and "no product code starts with 'FOO'" in err,
              "futures FOO: exit 2 with the reason (%d %s)" % (code, err.strip()))
        code, out, err = e.cli("futures", "FOO", "--json", check=False)
        check(code == 2 and json.loads(out) == [], "futures FOO --json: [] and exit 2")
        code, out, _ = e.cli("futures", "MXF", check=False)
        check(code == 0 and "MXFF5" in out, "futures MXF: exit 0")
    check_logs_clean(e)
    print("PASS")


main()
