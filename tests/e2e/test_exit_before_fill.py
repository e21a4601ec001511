"""The exit-before-fill race against the real exchange, gateway and executor: the strategy follows
the report stream and can start an exit before the executor has booked the entry's fill. Here the
executor's report feed goes through a gate that holds the entry's fill report back, so the exit
always arrives first (on main it was skipped as "closed by hand" and the long stayed open):

1. the exit is held (stored, acknowledged, nothing sent, not "closed by hand"); once the fill
   report reaches the executor, the exit goes out sized to the entry and the account is flat;
2. the fill report never comes: the executor books the fill from the broker (its reconciliation of
   open orders, or the held exit's deadline) and sends the exit;
3. the executor is killed (-9) while holding an exit: restarted, it picks the exit up from the
   database and sends it once.
Every case ends flat, aftm's books equal to the exchange's, with no order opened by an exit."""
import os
import sqlite3
import sys
import threading

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, System, aftm_signal, check, check_logs_clean, free_port, wait_until  # noqa: E402


class ReportGate:
    """Relays the gateway's execution reports to the executor, holding back the fill reports of
    the client order ids ending in one of `hold` until release(). The moment it holds one, it
    pushes the armed exit signal to the executor (as the strategy would on seeing the fill), so
    the exit reaches the executor before the executor can learn of the fill any other way."""

    def __init__(self, src, dst, env, signal_ep):
        ctx = zmq.Context.instance()
        self.push = env.curve(ctx.socket(zmq.PUSH), "executor", role="strategy")  # used by the thread only
        self.push.setsockopt(zmq.LINGER, 0)
        self.push.connect(signal_ep)
        self.exit_frames = None
        self.sub = env.curve(ctx.socket(zmq.SUB), "gateway")
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.connect(src)
        self.pub = env.curve_server(ctx.socket(zmq.PUB), "gateway")
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.bind(dst)
        self.hold, self.held, self.lock = set(), [], threading.Lock()
        self.released = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _holds(self, frames):
        try:
            rep = msgpack.unpackb(frames[-1].partition(b"\0")[2])
        except ValueError:
            return False
        if not isinstance(rep, dict):
            return False
        coid = rep.get("client_order_id") or ""
        return rep.get("status") == "filled" and any(coid.endswith("-" + s) for s in self.hold)

    @staticmethod
    def _one_report_each(frames):
        """A report message holds one or more reports, one after another (REPORT, a zero byte,
        the msgpack maps): passed on one per message, so that only the held one waits."""
        topic, sep, body = frames[-1].partition(b"\0")
        if len(frames) != 1 or topic != b"REPORT" or not sep:
            return [frames]
        out, unpacker, start = [], msgpack.Unpacker(), 0
        unpacker.feed(body)
        for _ in unpacker:
            end = unpacker.tell()
            out.append([b"REPORT\0" + body[start:end]])
            start = end
        return out

    def _run(self):
        while not self._stop.is_set():
            with self.lock:
                if self.released and self.held:
                    for f in self.held:
                        self.pub.send_multipart(f)
                    self.held = []
            if not self.sub.poll(20):
                continue
            for frames in self._one_report_each(self.sub.recv_multipart()):
                with self.lock:
                    if not self.released and self._holds(frames):
                        self.held.append(frames)
                        if self.exit_frames:
                            self.push.send(self.exit_frames)
                            self.exit_frames = None
                        continue
                self.pub.send_multipart(frames)

    def arm(self, signal_id, exit_frames):
        with self.lock:
            self.hold, self.held, self.released, self.exit_frames = {signal_id}, [], False, exit_frames

    def holding(self):
        with self.lock:
            return len(self.held)

    def release(self):
        with self.lock:
            self.released = True

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sub.close()
        self.pub.close()
        self.push.close()


e = Env()
gate_ep = "tcp://127.0.0.1:%d" % free_port()
s = System(e, rate=10, executor_args=["--report-endpoint", gate_ep])
s.start_all(("exchange", "gateway"))
gate = ReportGate(e.ep("report"), gate_ep, e, e.ep("signal"))
s.start("executor")
p = s.last_price()
check(p is not None, "ticks are flowing")
push = e.curve(zmq.Context.instance().socket(zmq.PUSH), "executor", role="strategy")
push.connect(e.ep("signal"))
db = os.path.join(e.home, "aftm.db")


def orders():
    return {o["signal_id"]: o for o in e.json("orders", "--json")}


def held_rows():
    c = sqlite3.connect(db, timeout=10)
    try:
        return [r[0] for r in c.execute("SELECT signal_id FROM held_exits")]
    finally:
        c.close()


def net():
    return {x["symbol"]: x["net_qty"] for x in e.json("positions", "--json") if x["net_qty"]}


def broker_net():
    return {x["symbol"]: x["net_qty"] for x in e.json("positions", "--broker", "--account", s.account, "--json")
            if x["net_qty"]}


pushed = []  # every signal this test sent (the audit's list: no strategy runs here)


def exit_before_fill(cid):
    """Condition cid's entry (buy 1) fills at the exchange, its fill report held from the
    executor, and the strategy's exit arrives at once. Returns the exit's signal id. The executor
    may still book the fill first by reconciling its open orders with the broker (every second):
    then the exit goes out as usual, and the race is tried again with the next condition."""
    for attempt in range(5):
        entry, exit_ = "%d.E" % (cid + 10 * attempt), "%d.X" % (cid + 10 * attempt)
        pushed.extend((entry, exit_))
        gate.arm(entry, aftm_signal(exit_, "SELL", 1, condition_id=cid + 10 * attempt,
                                    price=int(s.last_price() or p)))
        push.send(aftm_signal(entry, "BUY", 1, condition_id=cid + 10 * attempt, price=int(s.last_price() or p)))
        check(wait_until(lambda: gate.holding() > 0, 20), "the entry %s filled at the exchange; its report held" % entry)
        check(wait_until(lambda: exit_ in held_rows() or exit_ in orders(), 10), "the exit %s arrived" % exit_)
        if exit_ in held_rows():
            print("ok: the exit %s is held (stored), its entry's fill not booked yet" % exit_)
            o = orders().get(exit_)
            check(o is None, "nothing sent for it, and not skipped as closed by hand: %s" % o)
            return exit_
        print("the executor booked the fill of %s before its exit arrived; trying again" % entry)
        gate.release()
        settled_flat(exit_)
    check(False, "the exit arrived before the executor booked the fill in one of 5 tries")


def settled_flat(exit_):
    check(wait_until(lambda: (orders().get(exit_) or {}).get("status") == "filled", 30),
          "the held exit %s was sent and filled: %s" % (exit_, orders().get(exit_)))
    o = orders()[exit_]
    check(o["qty"] == 1 and o["side"] == "sell", "sized to the entry: %s" % o)
    check(wait_until(lambda: net() == {} and broker_net() == {}, 15), "flat in aftm's books and at the exchange: %s %s"
          % (net(), broker_net()))
    check(wait_until(lambda: held_rows() == [], 5), "nothing held any more")


# 1. the fill report arrives after the exit
x = exit_before_fill(1)
gate.release()
settled_flat(x)

# 2. the fill report never arrives: the fill is booked from the broker (its reconciliation of open
# orders, or the held exit's own deadline, whichever comes first) and the exit decided on that
x = exit_before_fill(2)
settled_flat(x)
check(gate.holding() > 0, "the fill's report never reached the executor on the stream")
gate.release()

# 3. killed while holding the exit: the restarted executor picks it up
x = exit_before_fill(3)
s.kill("executor")
# (its reconciliation of open orders may have decided the exit just before the kill)
still_held = x in held_rows()
s.start("executor")
check(not still_held or wait_until(lambda: "exit %s was held when the executor stopped" % x
                                   in s.log_text("executor"), 20),
      "the restarted executor picks the held exit up (held at the kill: %s)" % still_held)
settled_flat(x)
exits = [o for sid, o in orders().items() if sid.endswith(".X")]
check(len(exits) >= 3 and all(o["status"] == "filled" and o["filled_qty"] == 1 for o in exits),
      "every exit sent once and filled, one lot each: %s" % [(o["signal_id"], o["status"]) for o in exits])
gate.release()
s.audit(extra_signals=pushed)
s.stop_all()
gate.close()
check_logs_clean(e)
print("PASS")
