"""The menu's actions as subcommands for scripts: --help for each, validation with exit code 2,
--json where they list, and the same use cases as the menu: a background session from 'aftm
login' that a menu in another shell can use, 'aftm start/status/stop' from anywhere, and 'aftm
run' recorded in the same processes table."""
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import AFTM, Env, check, check_logs_clean, wait_until, write_ticks  # noqa: E402
from test_menu import Menu, pid_alive, triangle  # noqa: E402


def cli(e, *args, password=None, stdin=""):
    env = dict(e.env)
    env.pop("AFTM_PASSWORD", None)
    if password is not None:
        env["AFTM_PASSWORD"] = password
    p = subprocess.run([AFTM] + list(args), env=env, capture_output=True, text=True, timeout=120, input=stdin)
    return p.returncode, p.stdout, p.stderr


def main():
    e = Env()
    try:
        run(e)
    finally:
        cli(e, "stop", "--all")


def helps(e):
    code, out, _ = cli(e, "--help")
    for name in ["menu", "login", "logout", "item", "account", "futures", "order", "start", "status", "stop",
                 "positions"]:
        check(("  %s " % name) in out, "aftm --help lists %s" % name)
    flags = {"login": ["--account", "--home", "--seed", "--rate", "--ticks", "--speed", "--symbol", "AFTM_PASSWORD"],
             "logout": ["--stop", "--home"], "item": ["register CODE", "list", "--json", "--home"],
             "account": ["list", "select N", "--json", "--home"], "futures": ["CODE", "--json", "--home"],
             "order": ["--side", "--qty", "--symbol", "--home"], "status": ["--json", "--home"],
             "stop": ["--all", "--home"], "start": ["--home"],
             "menu": ["--home", "--seed", "--rate", "--ticks", "--speed", "--symbol"]}
    for cmd, want in flags.items():
        code, out, _ = cli(e, cmd, "--help")
        check(code == 0 and all(w in out for w in want), "aftm %s --help describes %s" % (cmd, ", ".join(want)))
    for args in [["status", "--bogus"], ["stop", "extra"], ["item"], ["item", "frob"], ["account", "select"],
                 ["order", "send", "--qty", "1"], ["order", "send", "--side", "x", "--qty", "1"],
                 ["order", "send", "--side", "buy", "--qty", "0"], ["order", "send", "--side", "buy", "--qty", "abc"],
                 ["login", "--account", "A12"], ["login", "--rate", "-1"], ["menu", "--speed", "2"]]:
        code, out, err = cli(e, *args, password="sim-pass")
        check(code == 2 and err.strip(), "aftm %s: exit 2 with a message (%s)" % (" ".join(args), err.strip()[:70]))


def run(e):
    helps(e)
    code, out, err = cli(e, "item", "register", "TXFF5")
    check(code == 1 and "log in first (aftm login)" in err, "a broker action when logged out names aftm login")
    code, out, err = cli(e, "login", "--account", "A123456789", password="wrong-pass")
    check(code == 1 and "Login failed: login refused: wrong password for A123456789" in err,
          "a wrong password: exit 1 with the broker's reason")
    code, out, err = cli(e, "login", "--account", "A123456789", stdin="")
    check(code == 2 and "no password" in err, "no password on the prompt: exit 2")
    check(cli(e, "status", "--json")[0] == 0 and json.loads(cli(e, "status", "--json")[1])["session"]["state"] == "none",
          "no session after failed logins")

    ticks = os.path.join(e.home, "ticks.csv")
    write_ticks(ticks, triangle(19990, 20020, 2, 4000), step_s=0.05)
    code, out, err = cli(e, "login", "--account", "A123456789", "--ticks", ticks, stdin="sim-pass\n")
    check(code == 0 and "Logged in as A123456789" in out, "aftm login with the password on the prompt")
    code, out, err = cli(e, "login", "--account", "A123456789", password="sim-pass")
    check(code == 0 and "Already logged in as A123456789" in out, "logging in again as the same account is fine")
    st = json.loads(cli(e, "status", "--json")[1])
    check("aftm login" in st["supervisor"] and st["gateway_up"], "the gateway runs under the background session")

    code, out, err = cli(e, "item", "register", "ZZZ9")
    check(code == 2 and "Item not found: ZZZ9" in err, "unknown item: exit 2")
    code, out, err = cli(e, "item", "register", "txff5")
    check(code == 0 and "Item TXFF5 registered" in out, "item registered")
    items = json.loads(cli(e, "item", "list", "--json")[1])
    check(items == {"current": "TXFF5", "items": ["TXFF5"]}, "item list --json")
    accounts = json.loads(cli(e, "account", "list", "--json")[1])
    check(accounts["accounts"] == ["SIM-0001", "SIM-0002"] and accounts["selected"] is None, "account list --json")
    for bad in ["0", "3", "x"]:
        code, out, err = cli(e, "account", "select", bad)
        check(code == 2 and "enter a number from 1 to 2" in err, "account select %s: exit 2" % bad)
    code, out, err = cli(e, "order", "send", "--side", "buy", "--qty", "1")
    check(code == 1 and "select an order account first (aftm account select N)" in err,
          "an order before an account is selected is refused")
    code, out, _ = cli(e, "account", "select", "1")
    check(code == 0 and "Order account selected: SIM-0001" in out, "account select 1")
    fut = json.loads(cli(e, "futures", "TXF", "--json")[1])
    check([f["code"] for f in fut] == ["TXFF5", "TXFG5"], "futures TXF --json: the TXF months")
    code, out, err = cli(e, "order", "send", "--side", "sell", "--qty", "2")
    check(code == 0 and "sell 2 TXFF5" in out and "Filled 2 of 2 at" in out, "order send: a filled market order")

    code, out, err = cli(e, "start")
    check(code == 1 and "Trading conditions defined: \u2717" in err, "aftm start checks the prerequisites")
    check(cli(e, "condition", "add", "--side", "buy", "--trigger", "20000", "--turning", "4", "--qty", "1", "--tp",
              "6", "--sl", "6")[0] == 0, "a condition added")

    # a menu in another shell uses this session; it does not own (nor stop) its processes
    m = Menu(e)
    try:
        m.upto()
        m.choose("10")
        seg = m.expect("==============================\n")
        check("Overall Status: \u2713 Success" in seg, "menu option 10 starts trading in the background session")
        fills = wait_until(lambda: json.loads(cli(e, "fills", "--json")[1]), timeout=60)
        check(fills, "the condition's entry is filled")
        m.choose("13")
        seg = m.expect("Supervised by the background session of 'aftm login'")
        m.choose("14")
        # positions left open are listed and the stop asked (test_menu_positions.py)
        m.answer_if_asked("Stop anyway and leave them open (y/n)? ", "y", "Stopped the strategy and the executor.")
        m.choose("0")
        m.answer_if_asked("(y/n)? ", "y", "Exiting the program")
        check(m.wait() == 0, "the menu exits")
    finally:
        m.kill()
    st = json.loads(cli(e, "status", "--json")[1])
    check(st["gateway_up"] and st["session"]["state"] == "active",
          "leaving that menu leaves the background session running")

    cli(e, "condition", "add", "--side", "buy", "--trigger", "10000", "--turning", "5", "--qty", "1")  # stays armed
    code, out, err = cli(e, "start")
    print(out, err)
    check(code == 0 and "Overall Status: \u2713 Success" in out, "aftm start: strategy and executor started")
    code, out, err = cli(e, "start")
    check(code == 0 and "already running" in out, "aftm start again: already running")
    st = json.loads(cli(e, "status", "--json")[1])
    procs = {p["name"]: p for p in st["processes"]}
    check(all(procs[n]["state"] == "running" and procs[n]["pid"] > 0 for n in procs), "status: all running")
    code, out, err = cli(e, "logout")
    check(code == 1 and "--stop" in err, "aftm logout while trading (no terminal): refused, naming --stop")
    code, out, err = cli(e, "stop")
    check(code == 0 and "Stopped the strategy and the executor" in out, "aftm stop")
    st = json.loads(cli(e, "status", "--json")[1])
    check(not st["trading"] and st["gateway_up"], "stopped trading, still logged in")
    check(not pid_alive(procs["executor"]["pid"]) and not pid_alive(procs["strategy"]["pid"]),
          "the processes are gone")

    # expiry: refused with a clear message, nothing wiped; logout still works
    db = sqlite3.connect(os.path.join(e.home, "aftm.db"))
    db.execute("UPDATE session SET expires_at=1000")
    db.commit()
    code, out, err = cli(e, "account", "list")
    check(code == 1 and "expired" in err and "log in again (aftm login)" in err, "an expired session is refused")
    session_pid = json.loads(cli(e, "status", "--json")[1])["processes"][0]["pid"]
    wait_until(lambda: not pid_alive(session_pid), timeout=15)
    st = json.loads(cli(e, "status", "--json")[1])
    check(st["session"]["state"] == "expired" and st["session"]["order_account"] == "SIM-0001"
          and not st["gateway_up"], "the supervisor ends an expired session's gateway; the session row is kept")
    code, out, err = cli(e, "item", "register", "TXFF5")
    check(code == 1 and "expired at" in err, "and everyone still reads 'expired', not a wiped session")
    db.close()

    code, out, err = cli(e, "logout")
    check(code == 0 and "Logged out A123456789" in out, "aftm logout of an expired session")
    code, out, err = cli(e, "logout")
    check(code == 1 and "Not logged in" in err, "logout when logged out: exit 1 with a message")

    # aftm run is recorded too, and aftm stop stops it
    run = subprocess.Popen([AFTM, "run", "--for", "60", "--rate", "20"], env=e.env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        st = wait_until(lambda: (lambda s: s if s["trading"] else None)(json.loads(cli(e, "status", "--json")[1])),
                        timeout=30)
        check(st and "aftm run" in st["supervisor"], "aftm run is in the processes table")
        code, out, err = cli(e, "stop")
        check(code == 0 and "Stopped 'aftm run'" in out, "aftm stop stops aftm run")
        check(run.wait(timeout=30) == 0, "aftm run exits 0")
    finally:
        if run.poll() is None:
            run.kill()
    st = json.loads(cli(e, "status", "--json")[1])
    check(all(p["state"] == "stopped" for p in st["processes"]), "everything stopped")
    check_logs_clean(e)
    print("PASS")


if __name__ == "__main__":
    main()
