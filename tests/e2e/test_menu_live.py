"""The menu shows what the trading system does as it happens: with the menu waiting at its prompt
and no key pressed, a condition's fill, the executor's refusal of another (11 lots, over the
10-lot order limit) and the first condition's exit appear above the prompt, the prompt shown
again under them; a line half typed before the news is kept and runs when Enter comes."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import check, check_logs_clean  # noqa: E402
from test_menu import menu_on_replay, login, triangle  # noqa: E402


def condition(m, side, trigger, turning, qty, tp, sl):
    m.choose("4")
    for prompt, answer in [("(b/s): ", side), ("target price: ", str(trigger)), ("turning point: ", str(turning)),
                           ("quantity: ", str(qty)), ("(blank for default): ", str(tp)),
                           ("(blank for default): ", str(sl)), ("(y/n): ", "n")]:
        m.expect(prompt)
        m.send(answer)
    return m.upto()


def main():
    # a slow turning market: 0.25 s a tick, about 15 s a cycle, so news comes while nothing is typed
    menu_on_replay(run, triangle(19990, 20020, 1, 2000), 0.25)


def run(e, m):
    login(m)
    m.choose("3")
    m.expect("Enter item code: ")
    m.send("TXFF5")
    m.expect("Item TXFF5 registered")
    seg = condition(m, "b", 20000, 4, 1, 6, 6)
    check("Condition 1 created" in seg, "condition 1 (1 lot) created")
    seg = condition(m, "b", 20000, 4, 11, 6, 6)
    check("Condition 2 created" in seg, "condition 2 (11 lots, over the executor's 10-lot limit) created")
    m.choose("5")
    m.expect("Enter the account number: ")
    m.send("1")
    m.expect("Order account selected: SIM-0001")
    m.choose("10")
    m.expect("Overall Status: \u2713 Success")
    m.menu()  # the prompt after option 10: from here on no key is pressed

    waiting = m.pos
    check(m.seen("Fill: bought 1 TXFF5 at", timeout=90), "the entry's fill is printed with no key pressed")
    check(m.seen("Refused: buy 11 TXFF5 for condition 2: ", timeout=30),
          "the executor's refusal is printed with no key pressed")
    check(m.seen("Exit: sold 1 TXFF5 at", timeout=90), "the exit's fill is printed with no key pressed")
    news = m.screen[waiting:]
    check(re.search(r"Refused: buy 11 TXFF5 for condition 2: [^\n]*max_lots_per_order", news) is not None,
          "the refusal names the rule")
    check(re.search(r"Exit: sold 1 TXFF5 at \d+, closing condition 1", news) is not None,
          "the exit names its condition")
    for line in ("Fill: bought 1 TXFF5", "Refused: buy 11", "Exit: sold 1 TXFF5"):
        after = news[news.index(line):]
        check(re.match(r"[^\n]*\n(?:[A-Z][^\n]*\n)*> ", after) is not None,
              "the prompt is shown again under %r" % line)
    check("Please choose an option" not in news, "the menu itself was not redrawn: no key was pressed")

    # half a line typed, news arrives, the rest typed: the whole line is the choice
    m.pos = len(m.screen)
    m.key(b"1")
    time.sleep(0.5)
    m.key(b"3\n")
    seg = m.expect("Supervised by the menu")
    check("executor" in seg, "option 13 ran from a line typed around the news")

    m.choose("0")
    m.expect("Exiting the program")
    check(m.wait(timeout=60) == 0, "the menu exits with code 0")
    check_logs_clean(e)
    print("PASS")


if __name__ == "__main__":
    main()
