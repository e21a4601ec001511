"""Every bad input from the issue, typed into the real menu on a pseudo-terminal: each is refused
with what is wrong and what is allowed, and none ends the program or loses state. Protected
options are refused clearly when logged out; logout while trading asks first; end of input and
Ctrl+C behave."""
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import check, check_logs_clean, wait_until  # noqa: E402
from test_menu import Menu, menu_on_replay, pid_alive, triangle  # noqa: E402

CTRL_C, CTRL_D = b"\x03", b"\x04"


def answer(m, pairs):
    for prompt, text in pairs:
        m.expect(prompt)
        m.send(text)


def logged_out_refusals(m):
    for option in ["2", "3", "4", "5", "6", "7", "8", "10"]:
        m.choose(option)
        seg = m.upto()
        check("log in first (option 1)" in seg, "option %s refused when logged out, naming option 1" % option)
    for bad, what in [("9", "Invalid choice '9'"), ("abc", "Invalid choice 'abc'"), ("", "Please enter an option number"),
                      ("   ", "Please enter an option number")]:
        m.choose(bad)
        seg = m.upto()
        check(what in seg and "0-8 or 10-14" in seg, "menu choice %r refused with what is allowed" % bad)
    m.upto()
    m.key(CTRL_C)
    m.expect("(Ctrl+C: choose 0 to exit.)")
    check(m.code is None, "Ctrl+C at the menu prompt does not end the program")


def bad_login(m):
    m.choose("1")
    answer(m, [("Enter the account: ", "")])
    m.expect("Account: empty values not allowed")
    answer(m, [("Enter the account: ", "A12")])
    m.expect("Account: min length is 10")
    answer(m, [("Enter the account: ", "x" * 81)])
    m.expect("Account: max length is 80")
    answer(m, [("Enter the account: ", "A123456789"), ("Enter the password: ", "abc")])
    m.expect("Password: min length is 5")
    answer(m, [("Enter the password: ", "wrong-password")])
    seg = m.upto()
    check("Login failed: login refused: wrong password for A123456789" in seg, "a wrong password is a failed login")
    check("[not logged in" in seg, "still logged out after a failed login")
    # Ctrl+C in the middle of a login goes back to the menu
    m.choose("1")
    m.expect("Enter the account: ")
    m.key(CTRL_C)
    m.expect("Cancelled: back to the menu.")


def main():
    menu_on_replay(run, triangle(19990, 20020, 2, 4000), 0.05)


def run(e, m):
    logged_out_refusals(m)
    bad_login(m)

    m.choose("1")
    answer(m, [("Enter the account: ", "A123456789"), ("Enter the password: ", "sim-pass")])
    m.expect("Logged in as A123456789")
    m.choose("1")
    m.expect("Already logged in as A123456789.")

    # an order before an account is selected, a condition before an item is registered
    m.choose("6")
    m.expect("Please select an order account first (option 5).")
    m.choose("4")
    m.expect("Please register an item first (option 3)")

    # 3: unknown item, bad characters, empty, then Ctrl+C; then a good one
    m.choose("3")
    answer(m, [("Enter item code: ", "TXFF9")])
    seg = m.expect("Enter item code: ")
    check("Item not found: TXFF9 is not a listed product. Listed: TXFF5, TXFG5, MXFF5, MXFG5" in seg,
          "an unknown item code is refused with the listed ones")
    m.send("TX-F5")
    m.expect("is not valid")
    answer(m, [("Enter item code: ", "")])
    m.expect("Item_code: empty values not allowed")
    m.expect("Enter item code: ")
    m.key(CTRL_C)
    m.expect("Cancelled: back to the menu.")
    m.choose("3")
    answer(m, [("Enter item code: ", "TXFF5")])
    m.expect("Item TXFF5 registered")

    # 5: 0, out of range, not a number, empty; then a good one
    m.choose("5")
    for text, what in [("0", "There is no account number 0: enter a number from 1 to 2."),
                       ("3", "There is no account number 3: enter a number from 1 to 2."),
                       ("-1", "There is no account number -1"),
                       ("x", "'x' is not a number: enter a number from 1 to 2."),
                       ("", "No account number given: enter a number from 1 to 2.")]:
        answer(m, [("Enter the account number: ", text)])
        m.expect(what)
    answer(m, [("Enter the account number: ", "2")])
    m.expect("Order account selected: SIM-0002")

    # 4: a side that is not b/s re-prompts (never a silent SELL); numbers are checked one by one
    m.choose("4")
    answer(m, [("Enter the action (b/s): ", "x")])
    m.expect("'x' is not a side: enter b (buy) or s (sell).")
    answer(m, [("Enter the action (b/s): ", "")])
    m.expect("The side is required")
    answer(m, [("Enter the action (b/s): ", "b"), ("Enter the target price: ", "abc")])
    m.expect("Target price: 'abc' is not a whole number")
    answer(m, [("Enter the target price: ", "-5")])
    m.expect("Target price: -5 is out of range")
    answer(m, [("Enter the target price: ", "")])
    m.expect("Target price is required")
    answer(m, [("Enter the target price: ", "19000"), ("Enter the turning point: ", "0")])
    m.expect("Turning point: 0 is out of range")
    answer(m, [("Enter the turning point: ", "10"), ("Enter the quantity: ", "1.5")])
    m.expect("Quantity: '1.5' is not a whole number")
    answer(m, [("Enter the quantity: ", "1"), ("Enter the take profit point (blank for default): ", "x")])
    m.expect("Take profit point: 'x' is not a whole number")
    answer(m, [("Enter the take profit point (blank for default): ", ""),
               ("Enter the stop loss point (blank for default): ", ""),
               ("Enter if the condition is following (y/n): ", "maybe")])
    m.expect("'maybe' is not an answer: answer y (yes) or n (no).")
    answer(m, [("Enter if the condition is following (y/n): ", "n")])
    seg = m.upto()
    check("Condition 1 created: buy TXFF5 1 lot(s); trigger 19000" in seg, "after the refusals the condition is created")

    # Ctrl+C in the middle of a condition leaves nothing half-made
    m.choose("4")
    answer(m, [("Enter the action (b/s): ", "s"), ("Enter the target price: ", "21000")])
    m.expect("Enter the turning point: ")
    m.key(CTRL_C)
    m.expect("Cancelled: back to the menu.")
    conds = e.json("condition", "list", "--all", "--json")
    check(len(conds) == 1, "a cancelled dialogue creates no condition")

    # 6: bad side and quantity re-prompt
    m.choose("6")
    answer(m, [("Enter side (b/s): ", "sell it")])
    m.expect("'sell it' is not a side")
    answer(m, [("Enter side (b/s): ", "b"), ("Enter quantity: ", "0")])
    m.expect("Quantity: 0 is out of range; enter a number from 1 to 1000.")
    answer(m, [("Enter quantity: ", "1"), ("Enter limit price (empty for market): ", "cheap")])
    m.expect("Limit price: 'cheap' is not")
    answer(m, [("Enter limit price (empty for market): ", "")])
    m.expect("Filled 1 of 1 at")

    # 7 and 8: bad codes
    m.choose("7")
    answer(m, [("Enter futures code (leave empty for all): ", "TX F")])
    m.expect("is not valid")
    answer(m, [("Enter futures code (leave empty for all): ", "ZZZ")])
    m.expect("No futures data found")
    m.choose("8")
    answer(m, [("Enter product id (leave blank for all): ", "TX%")])
    m.expect("is not valid")
    m.expect("Enter product id (leave blank for all): ")
    m.key(CTRL_C)
    m.expect("Cancelled: back to the menu.")

    # 12: bad ids
    m.choose("12")
    for text, what in [("abc", "'abc' is not a condition id"), ("99", "Cannot cancel: no condition with id 99."),
                       ("", "The condition id is required")]:
        answer(m, [("Enter the condition id to cancel: ", text)])
        m.expect(what)
    m.expect("Enter the condition id to cancel: ")
    m.key(CTRL_C)
    m.expect("Cancelled: back to the menu.")

    # logout while trading asks first
    m.choose("10")
    m.expect("Overall Status: \u2713 Success")
    m.choose("2")
    m.expect("The trading system is running: logging out stops it first.")
    answer(m, [("Stop trading and log out? [y/n]: ", "what")])
    m.expect("'what' is not an answer")
    answer(m, [("Stop trading and log out? [y/n]: ", "n")])
    m.expect("Logout cancelled: still logged in and trading.")
    st = e.json("status", "--json")
    check(st["trading"] and st["session"]["state"] == "active", "after 'n' the session and trading go on")
    procs = {p["name"]: p["pid"] for p in st["processes"]}
    m.choose("2")
    answer(m, [("Stop trading and log out? [y/n]: ", "y")])
    m.expect("Logged out A123456789.")
    check(wait_until(lambda: not any(pid_alive(p) for p in procs.values()), timeout=10),
          "after 'y' no process is left trading on the dead session")
    st = e.json("status", "--json")
    check(st["session"]["state"] == "logged_out", "the session is logged out")

    # log in again: the same account keeps its order account and item
    m.choose("1")
    answer(m, [("Enter the account: ", "A123456789"), ("Enter the password: ", "sim-pass")])
    m.expect("Kept from your last session: order account SIM-0002, item TXFF5.")
    gw = e.json("status", "--json")["processes"][0]["pid"]
    check(pid_alive(gw), "the gateway runs again")

    # end of input at a prompt: the program leaves cleanly and stops what it started, once
    m.choose("3")
    m.expect("Enter item code: ")
    m.key(CTRL_D)
    m.expect("Exiting the program")
    seg = m.expect("Stopped; logged out.")
    check(m.wait() == 0, "end of input ends the menu cleanly (exit code 0)")
    check(m.screen.count("Stopping the trading system and the gateway") == 1, "the processes are stopped once")
    check(wait_until(lambda: not pid_alive(gw), timeout=10), "the gateway is stopped when the menu ends")

    # SIGTERM to the menu (terminal closed): same clean stop
    m2 = Menu(e, "--ticks", os.path.join(e.home, "ticks.csv"))
    try:
        m2.upto()
        m2.choose("1")
        answer(m2, [("Enter the account: ", "A123456789"), ("Enter the password: ", "sim-pass")])
        m2.expect("Logged in as")
        gw = e.json("status", "--json")["processes"][0]["pid"]
        m2.upto()
        os.kill(m2.pid, signal.SIGTERM)
        m2.expect("Stopped; logged out.")
        check(m2.wait() == 0, "SIGTERM ends the menu cleanly")
        check(wait_until(lambda: not pid_alive(gw), timeout=10), "and stops its gateway")
    finally:
        m2.kill()

    # an expired session: refused with a clear message, nothing wiped
    import sqlite3
    db = sqlite3.connect(os.path.join(e.home, "aftm.db"))
    db.execute("UPDATE session SET logged_in=1, expires_at=1000")
    db.commit()
    db.close()
    m3 = Menu(e)
    try:
        seg = m3.upto()
        check("expired: log in again (option 1)" in seg, "the menu says the session expired")
        m3.choose("3")
        seg = m3.upto()
        check("expired at" in seg and "log in again (option 1)" in seg, "a protected option is refused on expiry")
        m3.choose("0")
        check(m3.wait() == 0, "exit after an expired session")
    finally:
        m3.kill()
    st = e.json("status", "--json")
    check(st["session"]["state"] == "expired" and st["session"]["order_account"] == "SIM-0002",
          "reading an expired session wipes nothing")
    check_logs_clean(e)
    print("PASS")


if __name__ == "__main__":
    main()
