"""The interactive menu driven as a person would: keystrokes on a pseudo-terminal to the real
binary, the screen checked. A full first trading session on the simulated exchange: login (no
echo), register, create condition, select account, start all-in-one, see a fill, list, cancel,
a manual order, positions, stop, status from another shell, logout, exit; nothing left running."""
import json
import os
import pty
import re
import select
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import AFTM, Env, check, check_logs_clean, wait_until, write_ticks  # noqa: E402


class Menu:
    """The menu on a pseudo-terminal: send lines and keys, wait for text on the screen."""

    def __init__(self, env, *args):
        pid, fd = pty.fork()
        if pid == 0:  # the child: its own session with the pty as controlling terminal
            try:
                os.execve(AFTM, [AFTM] + list(args), env.env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.screen = ""  # everything shown so far, \r\n folded to \n
        self.pos = 0  # how far expect() has read
        self.code = None

    def _pump(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the other side closed
            return False
        if not data:
            return False
        self.screen += data.decode("utf-8", "replace").replace("\r\n", "\n")
        return True

    def expect(self, text, timeout=30.0):
        """Waits for text after what was already matched; returns the screen up to its end."""
        end = time.time() + timeout
        while True:
            i = self.screen.find(text, self.pos)
            if i >= 0:
                seg = self.screen[self.pos:i + len(text)]
                self.pos = i + len(text)
                return seg
            if time.time() > end or not self._pump(0.1) and self.screen.find(text, self.pos) < 0:
                print(self.screen[-3000:])
                raise AssertionError("never saw %r on the screen" % text)

    def seen(self, text, timeout=30.0):
        """Waits until text is anywhere on the screen (printed before or after the last match)."""
        end = time.time() + timeout
        while text not in self.screen and time.time() < end and self._pump(0.1):
            pass
        return text in self.screen

    def upto(self, text="\n> ", timeout=30.0):
        """Like expect, but leaves text itself unread (the next prompt stays for choose())."""
        seg = self.expect(text, timeout)
        self.pos -= len(text)
        return seg[:-len(text)]

    def answer_if_asked(self, question, answer, then, timeout=30.0):
        """Waits for question or then; answers question when it comes first, then expects then."""
        end = time.time() + timeout
        while question not in self.screen[self.pos:] and then not in self.screen[self.pos:] and time.time() < end:
            self._pump(0.1)
        if question in self.screen[self.pos:]:
            self.expect(question)
            self.send(answer)
        return self.expect(then)

    def send(self, line):
        os.write(self.fd, (line + "\n").encode())

    def key(self, data):
        os.write(self.fd, data)

    def menu(self, timeout=30.0):
        return self.expect("\n> ", timeout)

    def choose(self, option):
        self.menu()
        self.send(option)

    def wait(self, timeout=30.0):
        end = time.time() + timeout
        while time.time() < end:
            self._pump(0.05)
            p, status = os.waitpid(self.pid, os.WNOHANG)
            if p == self.pid:
                while self._pump(0.05):
                    if not select.select([self.fd], [], [], 0)[0]:
                        break
                self.code = os.waitstatus_to_exitcode(status)
                return self.code
        raise AssertionError("the menu did not exit; screen:\n" + self.screen[-2000:])

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def pid_alive(pid):
    if not pid:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def triangle(lo, hi, step, n):
    """lo..hi..lo repeated: a market that keeps turning."""
    up = list(range(lo, hi, step))
    down = list(range(hi, lo, -step))
    out = []
    while len(out) < n:
        out += up + down
    return out[:n]


def login(m, account="A123456789", password="sim-pass"):
    m.choose("1")
    m.expect("Enter the account: ")
    m.send(account)
    m.expect("Enter the password: ")
    m.send(password)
    return m.upto()


def menu_on_replay(run, prices, step_s):
    """run(e, m) against the menu of a new home whose market replays prices, one every step_s;
    the menu and everything it started are stopped after, whatever happened."""
    e = Env()
    ticks = os.path.join(e.home, "ticks.csv")
    write_ticks(ticks, prices, step_s=step_s)
    m = Menu(e, "--ticks", ticks)
    try:
        run(e, m)
    finally:
        m.kill()
        e.cli("stop", "--all", check=False)


def main():
    menu_on_replay(run, triangle(19990, 20020, 2, 4000), 0.05)  # 200 s of a turning market


def run(e, m):
    first = m.upto()
    check("not logged in" in first and "10: Start all-in-one" in first and "14: Stop the trading system" in first,
          "the menu shows options 0-8, 10 and the new 11-14, and says nobody is logged in")

    # 1 login: the password is not echoed, not stored
    m.choose("1")
    m.expect("Enter the account: ")
    m.send("A123456789")
    m.expect("Enter the password: ")
    m.send("sim-pass")
    seg = m.expect("Logged in as A123456789")
    check("sim-pass" not in seg, "the password is not echoed")
    db = open(os.path.join(e.home, "aftm.db"), "rb").read()
    check(b"sim-pass" not in db, "the password is not on disk")
    st = e.json("status", "--json")
    check(st["session"]["state"] == "active" and st["processes"][0]["state"] == "running",
          "the session is in the database and the gateway runs (aftm status from another shell)")

    # 3 register item (lower case is fine)
    m.choose("3")
    m.expect("Enter item code: ")
    m.send("txff5")
    m.expect("Item TXFF5 registered")

    # 4 create condition: the original's prompts in the original's order
    m.choose("4")
    for prompt, answer in [("Enter the action (b/s): ", "b"), ("Enter the target price: ", "20000"),
                           ("Enter the turning point: ", "4"), ("Enter the quantity: ", "1"),
                           ("Enter the take profit point (blank for default): ", "6"),
                           ("Enter the stop loss point (blank for default): ", "6"),
                           ("Enter if the condition is following (y/n): ", "n")]:
        m.expect(prompt)
        m.send(answer)
    seg = m.upto()
    check("Condition 1 created: buy TXFF5 1 lot(s); trigger 20000, entry at 20004" in seg,
          "condition 1 created with the original's numbers (entry = trigger + turning)")
    m.choose("")  # an empty line at the menu is refused, not fatal
    m.expect("Please enter an option number")

    # 5 select order account
    m.choose("5")
    seg = m.expect("Enter the account number: ")
    check("1. SIM-0001" in seg and "2. SIM-0002" in seg, "the broker's accounts are listed, numbered from 1")
    m.send("1")
    m.expect("Order account selected: SIM-0001")

    # 10 start all-in-one: real states
    m.choose("10")
    seg = m.expect("==============================\n")
    check("Overall Status: \u2713 Success" in seg, "option 10 succeeds")
    check(re.search(r"Gateway:\s+\u2713 Running \(pid \d+, answered its health check\)", seg) is not None,
          "the gateway is RUNNING because it answered a health check")
    check(re.search(r"Strategy:\s+\u2713 Running \(pid \d+", seg) and re.search(r"Order Executor:\s+\u2713 Running", seg),
          "strategy and executor are running")
    m.choose("10")
    m.expect("The trading system is already running")

    # a fill from the condition, seen in the menu
    fills = wait_until(lambda: e.json("fills", "--json"), timeout=60)
    check(fills, "the condition's entry was filled")
    m.choose("13")
    seg = m.expect("Supervised by the menu")
    check(m.seen("Fill: bought 1 TXFF5 at"), "the fill is shown in the menu")
    check(re.search(r"executor\s+running\s+\d+", seg) and re.search(r"strategy\s+running\s+\d+", seg),
          "system status: every process running, with pid and uptime")

    # 11 list, 12 cancel
    m.choose("4")
    for prompt, answer in [("(b/s): ", "s"), ("target price: ", "30000"), ("turning point: ", "10"),
                           ("quantity: ", "2"), ("(blank for default): ", ""), ("(blank for default): ", ""),
                           ("(y/n): ", "y")]:
        m.expect(prompt)
        m.send(answer)
    seg = m.upto()
    check("Condition 2 created: sell TXFF5 2 lot(s); trigger 30000, entry at 29990 (turning 10), take profit 29900 "
          "(+90), stop loss 30020 (-30), following the price." in seg, "defaults 90/30 for blank take profit/stop loss")
    m.choose("11")
    seg = m.upto()
    check(re.search(r"\n\s+1\s+TXFF5\s+buy\s+1\s+20000\s+20004\s+20010\s+19998", seg) is not None,
          "the list shows condition 1 with its prices")
    check(re.search(r"\n\s+2\s+TXFF5\s+sell\s+2\s+30000.*waiting trigger", seg) is not None,
          "the list shows condition 2 waiting for its trigger")
    m.choose("12")
    m.expect("Enter the condition id to cancel: ")
    m.send("2")
    m.expect("Condition 2 cancelled.")
    conds = {c["id"]: c for c in e.json("condition", "list", "--all", "--json")}
    check(conds[2]["status"] == "cancelled", "condition 2 is cancelled in the database")

    # 6 manual market order, 8 positions through the gateway
    m.choose("6")
    m.expect("Enter side (b/s): ")
    m.send("s")
    m.expect("Enter quantity: ")
    m.send("1")
    m.expect("Enter limit price (empty for market): ")
    m.send("")
    seg = m.upto()
    check(re.search(r"Order SIM-\w+ sent: sell 1 TXFF5 at market \(IOC\), account SIM-0001, client id "
                    r"aftm-\w+-manual-\d+", seg) and "Placed by the executor as a manual order" in seg
          and "Filled 1 of 1 at" in seg, "a manual market order is placed by the running executor and filled: %s" % seg)
    m.choose("8")
    m.expect("Account: SIM-0001")
    m.expect("Enter product id (leave blank for all): ")
    m.send("")
    seg = m.upto()
    check("SIM-0001" in seg and "TXFF5" in seg and "unrealized" in seg, "positions from the broker, as a table")

    # 7 futures, prefix filter
    m.choose("7")
    m.expect("Enter futures code (leave empty for all): ")
    m.send("MXF")
    seg = m.expect("Total items: 2")
    check("MXFF5" in seg and "MXFG5" in seg and "TXFF5" not in seg, "futures filtered by prefix")

    # 14 stop; status from another shell
    m.choose("14")
    # if condition 1 is still in position, its lot is listed and the stop asked (test_menu_positions.py)
    m.answer_if_asked("Stop anyway and leave them open (y/n)? ", "y",
                      "The trading system is stopped (strategy and executor). You are still logged in.")
    st = e.json("status", "--json")
    procs = {p["name"]: p for p in st["processes"]}
    check(procs["gateway"]["state"] == "running" and procs["executor"]["state"] == "stopped"
          and procs["strategy"]["state"] == "stopped", "aftm status: gateway running, strategy and executor stopped")
    check("the menu" in (st["supervisor"] or ""), "aftm status names the menu as the supervisor")
    gw_pid = procs["gateway"]["pid"]

    # 2 logout, 0 exit
    m.choose("2")
    m.expect("Logged out A123456789. The broker session (gateway) is stopped.")
    check(wait_until(lambda: not pid_alive(gw_pid), timeout=10), "the gateway process is gone after logout")
    m.choose("0")
    m.expect("Exiting the program")
    check(m.wait() == 0, "the menu exits with code 0")
    st = e.json("status", "--json")
    check(st["session"]["state"] == "logged_out" and all(p["state"] == "stopped" for p in st["processes"]),
          "after exit: logged out, every process stopped")
    check(st["session"]["order_account"] == "SIM-0001" and st["session"]["item_code"] == "TXFF5",
          "the session keeps the order account and the item for the next login")
    check_logs_clean(e)
    print("PASS")


if __name__ == "__main__":
    main()
