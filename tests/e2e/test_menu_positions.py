"""Nothing silently unmanaged, in the menu: option 12 on a condition that holds a position asks
flatten (f), keep (k) or leave it (n), and does what was answered; stopping with open positions
(option 14, option 0, Ctrl+D) lists them and asks, and 'n' keeps the system running; a start
(option 10, 'aftm start' from another shell) lists the open positions first."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import check, check_logs_clean, wait_until  # noqa: E402
from test_menu import menu_on_replay, login, triangle  # noqa: E402
from test_menu_live import condition  # noqa: E402


def main():
    menu_on_replay(run, triangle(19990, 20020, 1, 20000), 0.05)


def stages(e):
    return {r["id"]: r["stage"] for r in e.json("condition", "list", "--all", "--json")}


def aftm_net(e):
    return sum(p["net_qty"] for p in e.json("positions", "--json") if p["symbol"] == "TXFF5")


def broker_net(e):
    code, out, _ = e.cli("positions", "--broker", "--json", check=False)
    return sum(p["net_qty"] for p in __import__("json").loads(out) if p["symbol"] == "TXFF5") if code == 0 else None


def trading(e):
    return e.json("status", "--json")["trading"]


def run(e, m):
    login(m)
    m.choose("3")
    m.expect("Enter item code: ")
    m.send("TXFF5")
    m.expect("Item TXFF5 registered")
    for i in (1, 2, 3):  # enter at once, take profit and stop loss far away: they stay in position
        check("Condition %d created" % i in condition(m, "b", 20000, 4, 1, 3000, 3000), "condition %d created" % i)
    m.choose("5")
    m.expect("Enter the account number: ")
    m.send("1")
    m.expect("Order account selected: SIM-0001")
    m.choose("10")
    seg = m.expect("Overall Status: \u2713 Success")
    check("Open positions at start" not in seg, "a first start has no open positions to list")
    check(wait_until(lambda: all(stages(e).get(i) == "in position" for i in (1, 2, 3)), timeout=60),
          "the three conditions hold a position")
    check(wait_until(lambda: aftm_net(e) == 3, timeout=20), "aftm holds long 3 TXFF5")

    # 12 on an in-position condition: a bad answer is asked again, n leaves it
    m.choose("12")
    m.expect("Enter the condition id to cancel: ")
    m.send("1")
    m.expect("Condition 1 holds a position: ")
    m.expect("leave the condition as it is (n)? ")
    m.send("x")
    m.expect("'x' is not an answer: f, k or n.")
    m.send("n")
    m.expect("Condition 1 left as it is.")
    check(stages(e)[1] == "in position", "n: condition 1 still manages its lot")
    # k: cancelled, the lot stays open, said so
    m.choose("12")
    m.expect("Enter the condition id to cancel: ")
    m.send("1")
    m.expect("leave the condition as it is (n)? ")
    m.send("k")
    m.expect("Condition 1 cancelled.")
    m.expect("The position stays open with no take profit or stop loss: long 1 TXFF5")
    check(stages(e)[1] == "cancelled" and aftm_net(e) == 3, "k: condition 1 cancelled, nothing sent")
    # f: cancelled and closed at market
    m.choose("12")
    m.expect("Enter the condition id to cancel: ")
    m.send("2")
    m.expect("leave the condition as it is (n)? ")
    m.send("f")
    seg = m.upto()
    check("Condition 2 cancelled." in seg and re.search(r"sell 1 TXFF5 at market", seg) is not None,
          "f: condition 2 cancelled and its lot sold at market")
    # manual orders do not go through the executor's books yet (part A): the broker shows the flatten
    check(wait_until(lambda: broker_net(e) == 2, timeout=20), "f: the broker holds long 2 TXFF5 after the flatten")

    # 14 with open positions: listed, asked; n keeps trading
    m.choose("14")
    seg = m.expect("Stop anyway and leave them open (y/n)? ")
    check("Open positions:" in seg and re.search(r"long \d TXFF5 on SIM-0001", seg) is not None,
          "option 14 lists the open positions before asking")
    m.send("n")
    m.expect("The trading system keeps running.")
    check(trading(e), "n: trading still runs")
    m.choose("14")
    m.expect("Stop anyway and leave them open (y/n)? ")
    m.send("y")
    m.expect("The trading system is stopped")
    check(not trading(e), "y: trading stopped")

    # a start lists them first: option 10, then 'aftm start' from another shell
    m.choose("10")
    seg = m.expect("Overall Status: \u2713 Success")
    check("Open positions at start" in seg and re.search(r"long \d TXFF5 on SIM-0001", seg) is not None,
          "option 10 lists the open positions first")
    check(seg.index("Open positions at start") < seg.index("Checking the prerequisites"), "... before starting")
    m.choose("14")
    m.expect("Stop anyway and leave them open (y/n)? ")
    m.send("y")
    m.expect("The trading system is stopped")
    code, out, err = e.cli("start", check=False)
    check(code == 0 and "Open positions at start" in out and re.search(r"long \d TXFF5", out) is not None
          and out.index("Open positions at start") < out.index("Gateway"),
          "aftm start lists the open positions first (%d %s %s)" % (code, out, err))
    check(wait_until(lambda: trading(e), timeout=20), "aftm start started trading")

    # Ctrl+D with open positions: listed, asked; n stays in the menu
    m.menu()
    m.key(b"\x04")
    seg = m.expect("Stop anyway and leave them open (y/n)? ")
    check(re.search(r"long \d TXFF5 on SIM-0001", seg) is not None, "Ctrl+D lists the open positions and asks")
    m.send("n")
    m.expect("Staying in the menu; the trading system keeps running.")
    check(trading(e), "n: still trading")
    # 0 with open positions: listed, asked; y leaves and stops everything
    m.choose("0")
    seg = m.expect("Stop anyway and leave them open (y/n)? ")
    check(re.search(r"long \d TXFF5 on SIM-0001", seg) is not None, "option 0 lists the open positions and asks")
    m.send("y")
    m.expect("Exiting the program")
    check(m.wait(timeout=60) == 0, "the menu exits with code 0")
    st = e.json("status", "--json")
    check(all(p["state"] == "stopped" for p in st["processes"]), "every process stopped")
    check_logs_clean(e)
    print("PASS")


if __name__ == "__main__":
    main()
