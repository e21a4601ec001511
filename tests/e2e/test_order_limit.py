"""'aftm order send --limit P' (issue 12): limit orders by hand, through the executor like every
manual order, against the real processes of 'aftm run' replaying a known price path (20000 for a
while, then down to 19900, where the market stays):

1. a buy limit at 19950 placed while the market is at 20000 rests (accepted, not filled); it fills
   only once the price crosses it, never above its limit;
2. a buy limit at 19700 rests, the price never reaches it, and 'aftm order cancel' cancels it;
3. with --ioc, a limit that does not cross at once expires, as IOC does, unfilled;
4. bad limits are refused (exit 2): 0, not a number, --ioc without --limit.
Each order is in aftm's books as a manual order, and the books end equal to the exchange's."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, aftm_running, check, check_logs_clean, wait_until, write_ticks  # noqa: E402

FLAT, LOW = 20000, 19900
PRICES = [FLAT] * 350 + [FLAT - i for i in range(1, 101)] + [LOW] * 50  # 35 s flat at 10 ticks/s


def main():
    e = Env()
    ticks = os.path.join(e.home, "ticks.csv")
    write_ticks(ticks, PRICES, step_s=0.1)

    def send(*args):
        code, out, err = e.cli("order", "send", "--side", "buy", "--qty", "1", "--symbol", "TXFF5", *args, check=False)
        check(code == 0 and "manual order" in out, "order send %s placed by the executor: %d %s %s"
              % (" ".join(args), code, out.strip(), err.strip()))
        return out, [o for sid, o in sorted(e.orders().items()) if sid.startswith("manual-")][-1]

    with aftm_running(e, "--ticks", ticks, "--speed", "1", "--for", "150"):
        check(wait_until(e.executor_up, timeout=40), "aftm run is up with its executor")
        tick = e.next_tick(15000)
        check(tick is not None, "ticks are flowing")
        last = tick["match_price"]
        check(last == FLAT, "the replay is still at %d (it is at %s)" % (FLAT, last))

        # 1. resting, filled once crossed, never above the limit
        out, rest = send("--limit", "19950")
        check("limit 19950 (ROD, rests)" in out, "the order is a resting limit: %s" % out)
        check(rest["status"] == "accepted" and rest["filled_qty"] == 0,
              "at 20000 a buy limit at 19950 rests: %s" % rest)
        # 2. never crossed: cancelled by hand
        out, far = send("--limit", "19700")
        check(far["status"] == "accepted", "a buy limit at 19700 rests: %s" % far)
        # 3. IOC: expires unfilled
        out, ioc = send("--limit", "19700", "--ioc")
        check(wait_until(lambda: e.orders()[ioc["signal_id"]]["status"] in ("expired", "cancelled"), 15),
              "a limit IOC that does not cross ends at once: %s" % e.orders()[ioc["signal_id"]])
        check(e.orders()[ioc["signal_id"]]["filled_qty"] == 0, "unfilled")
        # 4. bad input
        for args, why in ((("--limit", "0"), "out of range"), (("--limit", "cheap"), "not a whole number"),
                          (("--ioc",), "--ioc goes with --limit")):
            code, out, err = e.cli("order", "send", "--side", "buy", "--qty", "1", *args, check=False)
            check(code == 2 and why in out + err, "order send %s refused, exit 2: %d %s" % (args, code, err.strip()))

        check(e.orders()[rest["signal_id"]]["status"] == "accepted" or
              e.orders()[rest["signal_id"]]["status"] == "filled", "the resting limit is still working")
        check(wait_until(lambda: e.orders()[rest["signal_id"]]["status"] == "filled", 90),
              "the resting limit fills once the price crosses 19950: %s" % e.orders()[rest["signal_id"]])
        check(e.orders()[rest["signal_id"]]["avg_fill_price"] <= 19950, "never above its limit: %s"
              % e.orders()[rest["signal_id"]])
        check(e.orders()[far["signal_id"]]["status"] == "accepted", "the limit at 19700 is still resting")
        code, out, err = e.cli("order", "cancel", far["client_order_id"], check=False)
        check(code == 0, "cancel the resting limit: %d %s %s" % (code, out, err))
        check(wait_until(lambda: e.orders()[far["signal_id"]]["status"] == "cancelled", 15), "booked cancelled")

        check(wait_until(lambda: e.books() == {"TXFF5": 1} and e.broker() == e.books(), 15),
              "long 1 in the books and at the exchange: %s %s" % (e.books(), e.broker()))
    check_logs_clean(e)
    print("PASS")


main()
