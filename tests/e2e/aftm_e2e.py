"""Helpers for end-to-end tests: real aftm processes, real sockets, a temporary home, and the
original's msgpack messages (ticks and signals) as a peer would send them. A test that passes
leaves no temporary home behind; one that fails keeps it for reading its logs."""
import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import msgpack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AFTM = os.environ.get("AFTM_BIN", os.path.join(ROOT, "build", "asan", "aftm"))
TESTDATA = os.environ.get("AFTM_TESTDATA", os.path.join(ROOT, "tests", "data"))


def free_ports(n):
    """n distinct free TCP ports on loopback."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


_homes = []
_failed = False
_excepthook = sys.excepthook


def _on_uncaught(kind, value, tb):
    global _failed
    _failed = True
    _excepthook(kind, value, tb)


sys.excepthook = _on_uncaught


@atexit.register
def _remove_homes():
    if _failed:
        for home in _homes:
            print("kept for inspection:", home)
        return
    for home in _homes:
        shutil.rmtree(home, ignore_errors=True)


_children = []


@atexit.register
def _kill_children():
    """A test that fails midway leaves no aftm process of its own running (registered after
    _remove_homes, so it runs before it)."""
    for p in _children:
        if p.poll() is None:
            p.kill()
            p.wait()


def free_port():
    return free_ports(1)[0]


class Env:
    """A temporary home and its own ports, exported the way aftm reads them."""

    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="aftm-e2e-")
        _homes.append(self.home)
        tick, sig, order, report, exch, market, ack = free_ports(7)
        self.ports = dict(tick=tick, signal=sig, order=order, report=report, exchange=exch, market=market, ack=ack)
        self.env = dict(os.environ, AFTM_HOME=self.home, ZMQ_HOST="127.0.0.1", ZMQ_TICK_PORT=str(tick),
                        ZMQ_SIGNAL_PORT=str(sig), DLL_GATEWAY_HOST="127.0.0.1", DLL_GATEWAY_PORT=str(order),
                        AFTM_REPORT_PORT=str(report), AFTM_EXCHANGE_PORT=str(exch),
                        AFTM_EXCHANGE_MARKET_PORT=str(market), AFTM_ACK_PORT=str(ack))

    def ep(self, name):
        return "tcp://127.0.0.1:%d" % self.ports[name]

    def cli(self, *args, check=True, input=None):
        """Runs an aftm command to completion; returns (code, stdout, stderr)."""
        p = subprocess.run([AFTM] + list(args), env=self.env, capture_output=True, text=True, timeout=120,
                           input=input)
        if check and p.returncode != 0:
            raise AssertionError("aftm %s failed (%d):\n%s\n%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p.returncode, p.stdout, p.stderr

    def json(self, *args):
        return json.loads(self.cli(*args)[1])

    def keys(self, role):
        """(public, secret) of role's CURVE pair in this home, made by 'aftm keys init' if missing."""
        import zmq.auth
        path = os.path.join(self.home, "keys", role + ".key_secret")
        if not os.path.exists(path):
            self.cli("keys", "init")
        return zmq.auth.load_certificate(path)

    def server_key(self, role):
        """The public key a client of role's ports expects: the last one allowed, else the home's own."""
        allowed = os.path.join(self.home, "keys", "allowed", role)
        if os.path.exists(allowed):
            lines = [l.strip() for l in open(allowed) if l.strip()]
            if lines:
                return lines[-1].encode()
        return self.keys(role)[0]

    def curve(self, sock, server, role="cli"):
        """Sets sock up as a CURVE client of server's ports with role's keys (the CLI's by
        default), the way aftm's own processes connect. Returns sock."""
        pub, sec = self.keys(role)
        sock.curve_publickey, sock.curve_secretkey = pub, sec
        sock.curve_serverkey = self.server_key(server)
        return sock

    def curve_server(self, sock, role):
        """Sets sock up as role's CURVE server (a test standing in for that process). Returns sock."""
        pub, sec = self.keys(role)
        sock.curve_publickey, sock.curve_secretkey = pub, sec
        sock.curve_server = True
        return sock

    def orders(self):
        """aftm's books' orders, by signal id."""
        return {o["signal_id"]: o for o in self.json("orders", "--json")}

    def books(self):
        """aftm's positions that are not flat: {symbol: net qty}."""
        return {p["symbol"]: p["net_qty"] for p in self.json("positions", "--json") if p["net_qty"]}

    def broker(self):
        """The broker's positions that are not flat, {symbol: net qty}; None while it cannot say."""
        code, out, _ = self.cli("positions", "--broker", "--json", check=False)
        return {p["symbol"]: p["net_qty"] for p in json.loads(out) if p["net_qty"]} if code == 0 else None

    def executor_up(self):
        """aftm status says the session is active, the gateway up and the executor running."""
        code, out, _ = self.cli("status", "--json", check=False)
        st = json.loads(out) if code == 0 else None
        return bool(st and st["session"]["state"] == "active" and st["gateway_up"] and
                    any(p["name"] == "executor" and p["state"] == "running" for p in st["processes"]))

    def next_tick(self, timeout_ms):
        """The next tick the gateway publishes (its "tick" map), or None when none comes in time."""
        import zmq
        sub = self.curve(zmq.Context.instance().socket(zmq.SUB), "gateway")
        try:
            sub.setsockopt(zmq.SUBSCRIBE, b"TICK")
            sub.connect(self.ep("tick"))
            if sub.poll(timeout_ms) == 0:
                return None
            return msgpack.unpackb(sub.recv_multipart()[-1], raw=False)["tick"]
        finally:
            sub.close()

    def start(self, *args, log=None):
        out = open(log or os.path.join(self.home, "%s.log" % args[0]), "w")
        p = subprocess.Popen([AFTM] + list(args), env=self.env, stdout=out, stderr=subprocess.STDOUT)
        _children.append(p)
        return p

    def lone_strategy(self, ctx):
        """A BUY condition at 20000 (turning 10) and a strategy process with this test standing
        in for the gateway (a PUB on the tick port) and the executor (a PULL on the signal port).
        Returns (pub, pull, strategy process), a second after the start."""
        import zmq
        self.cli("condition", "add", "--symbol", "TXFF5", "--side", "buy", "--trigger", "20000", "--turning", "10",
                 "--qty", "1")
        pub = self.curve_server(ctx.socket(zmq.PUB), "gateway")
        pub.bind(self.ep("tick"))
        pull = self.curve_server(ctx.socket(zmq.PULL), "executor")
        pull.bind(self.ep("signal"))
        strat = self.start("strategy", "--tick-endpoint", self.ep("tick"), "--signal-endpoint", self.ep("signal"),
                           "--report-endpoint", self.ep("report"))
        time.sleep(1.0)
        return pub, pull, strat


@contextlib.contextmanager
def aftm_running(env, *args):
    """aftm run ARGS (output in <home>/run.log) for the with block; then Ctrl+C, and when the
    block ended normally, aftm run must have stopped by itself with 0 within a minute."""
    run = env.start("run", *args)
    try:
        yield run
    finally:
        run.send_signal(signal.SIGINT)
        try:
            run.wait(timeout=60)
        except subprocess.TimeoutExpired:
            run.kill()
    check(run.returncode == 0, "aftm run stops on Ctrl+C")


def write_ticks(path, prices, symbol="TXFF5", start="2025-06-17 09:00:00", step_s=0.1):
    """A plain tick CSV: one tick every step_s seconds."""
    t0 = time.mktime(time.strptime(start, "%Y-%m-%d %H:%M:%S"))
    with open(path, "w") as f:
        f.write("datetime,symbol,price,volume\n")
        for i, p in enumerate(prices):
            t = t0 + i * step_s
            f.write("%s.%06d,%s,%s,1\n" % (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)),
                                           int(round((t % 1) * 1e6)) % 1000000, symbol, p))


def ramp(a, b, step):
    """Prices from a (exclusive) to b (inclusive) by step points."""
    out, p = [], a
    s = step if b > a else -step
    while (p < b) if b > a else (p > b):
        p = p + s
        if (s > 0 and p > b) or (s < 0 and p < b):
            p = b
        out.append(p)
    return out


def hover(p, n):
    """n prices that wobble by a point about p."""
    return [p + (i % 2) for i in range(n)]


def write_paper_files(env, prices, conditions, step_s):
    """The tick file and the conditions file of a paper-versus-backtest test, in env's home."""
    ticks = os.path.join(env.home, "ticks.csv")
    write_ticks(ticks, prices, step_s=step_s)
    cond_file = os.path.join(env.home, "conditions.json")
    with open(cond_file, "w") as f:
        json.dump(conditions, f, indent=2)
    return ticks, cond_file


def paper_run(env, ticks, n_prices, step_s):
    """aftm run replaying the tick file at speed 1 until it is over; it must exit 0."""
    duration = n_prices * step_s
    run = env.start("run", "--ticks", ticks, "--speed", "1", "--for", "%d" % (duration + 10),
                    "--account", "SIM-0001")
    code = run.wait(timeout=duration + 60)
    print(open(os.path.join(env.home, "run.log")).read()[-3000:])
    check(code == 0, "aftm run exits 0 after --for")


def entries_with_exits(orders):
    """The entry orders (.E) in time order, each with its exit order (.X) or None."""
    by_id = {o["client_order_id"]: o for o in orders}
    entries = sorted((o for o in orders if o["client_order_id"].endswith(".E")), key=lambda o: o["time"])
    return [(o, by_id.get(o["client_order_id"][:-2] + ".X")) for o in entries]


def wait_until(pred, timeout=20.0, every=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(every)
    return None


def check(cond, what):
    global _failed
    if not cond:
        _failed = True
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def check_logs_clean(env, log_dir=None):
    """No sanitizer report (ASan, UBSan, LeakSanitizer) in any process log of this env: the
    processes' own logs in the home (or log_dir), and the menu's children's under home/logs."""
    import glob
    base = log_dir or env.home
    for path in glob.glob(os.path.join(base, "*.log")) + glob.glob(os.path.join(base, "logs", "*.log")):
        text = open(path, errors="replace").read()
        for marker in ("Sanitizer", "runtime error:"):
            if marker in text:
                i = text.index(marker)
                print(text[max(0, i - 2000):i + 3000])
                check(False, "no sanitizer report in %s" % os.path.basename(path))
    check(True, "no sanitizer reports in the process logs")


# ---- the original's messages -----------------------------------------------------------------

def _when():
    return {"__datetime__": True, "timestamp": time.time()}


def tick_frames(price, symbol="TXFF5"):
    """A TickEvent as the original's gateway publishes it: 2 frames, TICK + msgpack."""
    return [b"TICK", msgpack.packb({"when": _when(),
                                    "tick": {"commodity_id": symbol, "match_price": float(price), "__class__": "Tick"},
                                    "__class__": "TickEvent"}, use_bin_type=True)]


def original_signal(side, symbol="TXFF5"):
    """The original's exact 4-key TradingSignal."""
    return msgpack.packb({"when": _when(),
                          "operation": {"__enum__": True, "class": "OrderOperation", "name": side},
                          "commodity_id": symbol, "__class__": "TradingSignal"}, use_bin_type=True)


def aftm_signal(signal_id, side, qty, symbol="TXFF5", condition_id=0, seq=1, price=0):
    """aftm's own TradingSignal: the original's keys plus the ids, quantity, seq and price."""
    return msgpack.packb({"when": _when(),
                          "operation": {"__enum__": True, "class": "OrderOperation", "name": side},
                          "commodity_id": symbol, "signal_id": signal_id, "condition_id": condition_id,
                          "quantity": qty, "seq": seq, "price": price, "__class__": "TradingSignal"},
                         use_bin_type=True)


# ---- the audit: nothing lost, nothing doubled, nothing stranded --------------------------------

FINAL = ("filled", "rejected", "cancelled", "expired")
_SIGNAL_LINE = re.compile(r"\bsignal (?:sent late: )?(\S+\.[EX]) (?:BUY|SELL) ")


def _ro(path):
    """A read-only connection to a SQLite file that other processes keep writing."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    db.row_factory = sqlite3.Row
    return db


def instance_id(env):
    """The aftm database's instance id: client order ids are aftm-<instance>-<signal id>."""
    db = _ro(os.path.join(env.home, "aftm.db"))
    try:
        row = db.execute("SELECT value FROM meta WHERE key='instance_id'").fetchone()
        return row[0] if row else None
    finally:
        db.close()


def signals_in_logs(paths):
    """Every signal id a strategy log says was sent (first sends, late sends and resends)."""
    ids = set()
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                m = _SIGNAL_LINE.search(line)
                if m:
                    ids.add(m.group(1))
    return ids


def audit_figures(env, account, strategy_logs=(), whole_account=True, exchange_db=None, extra_signals=()):
    """The figures of the audit, read from aftm.db and the exchange's exchange.db:
      signals   signal ids the strategy sent (its logs, its outbox, and what its condition rows say)
      lost      of those, the ones with no order row and no stored refusal
      orders    aftm's orders of this database (refusals included); fills, the exchange's fills of them
      doubled   fills in aftm's books that the exchange does not hold, or booked more than once
      missing   fills the exchange holds for this database's orders that aftm's books lack
      stranded  orders aftm still counts open that the exchange has finalised, or whose filled
                quantity differs from the exchange's
      positions aftm's and the exchange's net positions of the account, by symbol (whole_account:
                the exchange's book; else the exchange's fills of this database's orders only)"""
    inst = instance_id(env)
    prefix = "aftm-%s-" % inst if inst else "aftm-"
    a = _ro(os.path.join(env.home, "aftm.db"))
    x = _ro(exchange_db or os.path.join(env.home, "exchange.db"))
    try:
        orders = {r["client_order_id"]: dict(r) for r in a.execute("SELECT * FROM orders")}
        by_signal = {o["signal_id"] for o in orders.values()}
        sent = set(signals_in_logs(strategy_logs)) | set(extra_signals)
        if a.execute("SELECT 1 FROM sqlite_master WHERE name='signal_outbox'").fetchone():
            sent |= {r[0] for r in a.execute("SELECT signal_id FROM signal_outbox")}
        for r in a.execute("SELECT id, is_ordered, is_exited, note FROM conditions"):
            if r["is_ordered"]:
                sent.add("%d.E" % r["id"])
            if r["is_exited"] and r["note"].startswith("exited"):
                sent.add("%d.X" % r["id"])
        lost = sorted(s for s in sent if s not in by_signal)
        outbox = a.execute("SELECT COUNT(*) FROM signal_outbox").fetchone()[0] \
            if a.execute("SELECT 1 FROM sqlite_master WHERE name='signal_outbox'").fetchone() else 0
        fills = [dict(r) for r in a.execute("SELECT fill_id, client_order_id, qty, symbol, side FROM fills")]
        xorders = {r["client_order_id"]: dict(r) for r in x.execute(
            "SELECT client_order_id, status, filled_qty, account FROM orders WHERE client_order_id LIKE ?",
            (prefix + "%",))}
        xfills = {r["fill_id"]: dict(r) for r in x.execute(
            "SELECT f.fill_id, o.client_order_id, f.qty, f.symbol, f.side, f.account FROM fills f "
            "JOIN orders o ON o.n = f.n WHERE o.client_order_id LIKE ?", (prefix + "%",))}
        ours = [f for f in fills if f["client_order_id"].startswith(prefix)]
        counts = {}
        for f in ours:
            counts[f["fill_id"]] = counts.get(f["fill_id"], 0) + 1
        doubled = sorted(k for k, n in counts.items() if n > 1 or k not in xfills)
        missing = sorted(k for k in xfills if k not in counts)
        stranded = []
        for coid, xo in xorders.items():
            o = orders.get(coid)
            if o is None:
                stranded.append((coid, "not in aftm's books", xo["status"]))
            elif (xo["status"] in FINAL and o["status"] not in FINAL) or xo["filled_qty"] != o["filled_qty"]:
                stranded.append((coid, o["status"], o["filled_qty"], xo["status"], xo["filled_qty"]))
        for coid, o in orders.items():
            if coid.startswith(prefix) and coid not in xorders and (o["status"] not in FINAL or o["filled_qty"]):
                stranded.append((coid, o["status"], o["filled_qty"], "unknown to the exchange"))
        mine = {r["symbol"]: r["net_qty"] for r in a.execute(
            "SELECT symbol, net_qty FROM positions WHERE account=?", (account,)) if r["net_qty"]}
        if whole_account:
            theirs = {r["symbol"]: r["net_qty"] for r in x.execute(
                "SELECT symbol, net_qty FROM positions WHERE account=?", (account,)) if r["net_qty"]}
        else:
            theirs = {}
            for f in xfills.values():
                if f["account"] == account:
                    theirs[f["symbol"]] = theirs.get(f["symbol"], 0) + (f["qty"] if f["side"] == "buy" else -f["qty"])
            theirs = {k: v for k, v in theirs.items() if v}
        return dict(signals=len(sent), lost=lost, orders=len([c for c in orders if c.startswith(prefix)]),
                    refused=len([o for o in orders.values() if o["reason"].startswith("risk ")]),
                    fills=len(xfills), doubled=doubled, missing=missing, stranded=stranded, outbox=outbox,
                    positions=(mine, theirs))
    finally:
        a.close()
        x.close()


def audit_clean(f):
    return not f["lost"] and not f["doubled"] and not f["missing"] and not f["stranded"] and \
        f["positions"][0] == f["positions"][1]


def audit(env, account, strategy_logs=(), whole_account=True, wait=30.0, exchange_db=None, extra_signals=()):
    """The audit every fault test ends with: waits up to `wait` seconds for the system to settle,
    then checks that every signal the strategy sent has an order row or a stored refusal, every
    fill the exchange holds for this database's orders is in aftm's fills exactly once, no order
    is left open (or at another filled quantity) once the exchange has finalised it, and aftm's
    positions equal the exchange's. Prints and returns the figures."""
    end = time.time() + wait
    while True:
        try:
            f = audit_figures(env, account, strategy_logs, whole_account, exchange_db, extra_signals)
        except sqlite3.OperationalError as e:  # a writer holds the file a moment: ask again
            f = None
            err = e
        if f and (audit_clean(f) or time.time() >= end):
            break
        if not f and time.time() >= end:
            raise err
        time.sleep(0.5)
    print("audit: %d signal(s), %d order(s) (%d refused by risk), %d fill(s) at the exchange; lost %d, doubled %d, "
          "missing %d, stranded %d; positions aftm %s, exchange %s; outbox %d"
          % (f["signals"], f["orders"], f["refused"], f["fills"], len(f["lost"]), len(f["doubled"]),
             len(f["missing"]), len(f["stranded"]), f["positions"][0], f["positions"][1], f["outbox"]))
    check(not f["lost"], "every signal sent has an order row or a stored refusal (lost: %s)" % f["lost"][:10])
    check(not f["doubled"], "no fill booked twice or unknown to the exchange (%s)" % f["doubled"][:10])
    check(not f["missing"], "every fill the exchange holds is in aftm's books (%s)" % f["missing"][:10])
    check(not f["stranded"], "no order left open once the exchange finalised it (%s)" % f["stranded"][:5])
    check(f["positions"][0] == f["positions"][1], "aftm's positions equal the exchange's")
    return f


# ---- a whole trading system, process by process ------------------------------------------------

class System:
    """The exchange, the gateway, the executor and the strategy of an Env as separate processes,
    each startable, killable and restartable on its own (logs <name>-<n>.log in the home).
    exchange_home: where exchange.db lives (default: the env's home)."""

    def __init__(self, env, account="SIM-0001", seed=7, rate=50, risk=None, exchange_home=None,
                 executor_args=(), quiet_gateway=True):
        self.e, self.account, self.seed, self.rate, self.risk = env, account, seed, rate, risk
        self.exchange_home = exchange_home or env.home
        if self.exchange_home != env.home:
            # the exchange's side keeps its own data directory but the same keys, as one host would
            env.keys("cli")
            shutil.copytree(os.path.join(env.home, "keys"), os.path.join(self.exchange_home, "keys"),
                            dirs_exist_ok=True)
        self.executor_args = list(executor_args)
        self.quiet_gateway = quiet_gateway
        self.log_dir = env.home  # where the processes' logs go
        self.strategy_tick = None  # the strategy's tick endpoint, when not the gateway's (a relay)
        self.procs, self.starts = {}, {}
        self._ctx = None
        self._sub = None

    def args(self, name):
        e = self.e
        if name == "exchange":
            return ["exchange", "--home", self.exchange_home, "--seed", str(self.seed), "--rate", str(self.rate),
                    "--symbol", "TXFF5"]
        if name == "gateway":
            return ["gateway", "--broker", "sim", "--home", self.exchange_home, "--tick-endpoint", e.ep("tick"),
                    "--order-endpoint", e.ep("order"), "--report-endpoint", e.ep("report")] + \
                (["--quiet"] if self.quiet_gateway else [])
        if name == "executor":
            return ["executor", "--home", e.home, "--signal-endpoint", e.ep("signal"), "--order-endpoint",
                    e.ep("order"), "--report-endpoint", e.ep("report"), "--tick-endpoint", e.ep("tick"),
                    "--account", self.account, "--trading-hours", "off", "--timeout-ms", "500",
                    "--attempts", "2"] + (["--risk", self.risk] if self.risk else []) + self.executor_args
        if name == "strategy":
            return ["strategy", "--home", e.home, "--tick-endpoint", self.strategy_tick or e.ep("tick"),
                    "--signal-endpoint", e.ep("signal"), "--report-endpoint", e.ep("report")]
        raise ValueError(name)

    def start(self, name):
        self.starts[name] = self.starts.get(name, 0) + 1
        self.procs[name] = self.e.start(*self.args(name),
                                        log=os.path.join(self.log_dir, "%s-%d.log" % (name, self.starts[name])))
        if name == "gateway":
            check(wait_until(lambda: self.call("health_check"), 20), "the gateway is up")
        elif name in ("executor", "strategy"):
            # read-only commands on a directory with no aftm.db say so and fail: a test reading
            # the books right after the start waits for the database the process makes (no check:
            # some tests start one that is meant to fail)
            wait_until(lambda: os.path.exists(os.path.join(self.e.home, "aftm.db")), 10)
        return self.procs[name]

    def start_all(self, names=("exchange", "gateway", "executor", "strategy")):
        for n in names:
            self.start(n)

    def start_behind_relay(self):
        """Starts the whole system with a TickRelay between the gateway's ticks and the strategy
        (the strategy subscribes to the relay), so a test can slip messages into its feed.
        Returns the relay."""
        self.strategy_tick = "tcp://127.0.0.1:%d" % free_port()
        self.start_all(("exchange", "gateway", "executor"))
        relay = TickRelay(self.e.ep("tick"), self.strategy_tick, self.e)
        self.start("strategy")
        time.sleep(1.0)
        return relay

    def kill(self, name, sig=signal.SIGKILL):
        p = self.procs[name]
        p.send_signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            p.wait(30)

    def stop(self, name):
        p = self.procs.get(name)
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            check(p.wait(30) == 0, "%s stops cleanly" % name)

    def stop_all(self):
        for n in ("strategy", "executor", "gateway", "exchange"):
            self.stop(n)
        if self._sub:
            self._sub.close()

    def logs(self, name):
        return [os.path.join(self.log_dir, "%s-%d.log" % (name, i)) for i in range(1, self.starts.get(name, 0) + 1)]

    def log_text(self, name):
        return "".join(open(p, errors="replace").read() for p in self.logs(name))

    def call(self, op, **params):
        """One request to the gateway's order port; None when it does not answer."""
        import zmq
        if self._ctx is None:
            self._ctx = zmq.Context.instance()
        s = self._ctx.socket(zmq.REQ)
        s.setsockopt(zmq.RCVTIMEO, 2000)
        s.setsockopt(zmq.LINGER, 0)
        self.e.curve(s, "gateway")
        s.connect(self.e.ep("order"))
        msg = {"operation": op}
        if params:
            msg["parameters"] = params
        try:
            s.send_string(json.dumps(msg))
            return json.loads(s.recv())
        except Exception:
            return None
        finally:
            s.close()

    def last_price(self, timeout=5.0):
        """The last traded price on the tick feed."""
        import zmq
        if self._sub is None:
            if self._ctx is None:
                self._ctx = zmq.Context.instance()
            self._sub = self._ctx.socket(zmq.SUB)
            self._sub.setsockopt(zmq.SUBSCRIBE, b"TICK")
            self.e.curve(self._sub, "gateway")
            self._sub.connect(self.e.ep("tick"))
        price, end = None, time.time() + timeout
        while price is None and time.time() < end:
            if not self._sub.poll(50):
                continue
            for _ in range(100000):  # what is queued, up to now (a fast feed never pauses)
                if not self._sub.poll(0):
                    break
                price = msgpack.unpackb(self._sub.recv_multipart()[1], raw=False)["tick"]["match_price"]
        return price

    def add_quick_conditions(self, n, rng, qty=(1, 3), exits=(2, 6)):
        """n trailing conditions that trigger on the next tick wherever the market is (the
        trigger is 50 points on the triggering side of the last price) and enter on the first
        turn of 1 to 3 points: they trade within seconds whichever way the market goes. Their
        take profit and stop loss are each `exits` points away (wider: they stay open longer)."""
        p = self.last_price()
        check(p is not None, "ticks are flowing")
        ids = []
        for _ in range(n):
            side = rng.choice(["buy", "sell"])
            trigger = int(p) + (50 if side == "buy" else -50)
            args = ["condition", "add", "--symbol", "TXFF5", "--side", side, "--trigger", str(trigger),
                    "--turning", str(rng.randint(1, 3)), "--qty", str(rng.randint(*qty)),
                    "--tp", str(rng.randint(*exits)), "--sl", str(rng.randint(*exits)), "--follow"]
            out = self.e.cli(*args)[1]
            m = re.search(r"\b(\d+)\b", out)
            ids.append(int(m.group(1)) if m else None)
        return ids

    def settle(self, timeout=60):
        """No new entries: every condition not yet ordered is cancelled; waits until every order
        of aftm's books is final."""
        for c in self.e.json("condition", "list", "--json"):
            if not c["is_ordered"]:
                self.e.cli("condition", "rm", str(c["id"]), check=False)

        def final():
            return all(o["status"] in FINAL for o in self.e.json("orders", "--json"))
        return wait_until(final, timeout, 0.5)

    def audit(self, whole_account=True, wait=30.0, extra_signals=()):
        return audit(self.e, self.account, self.logs("strategy"), whole_account, wait,
                     os.path.join(self.exchange_home, "exchange.db"), extra_signals)


class SignalDesk:
    """Stands in for the strategy beside a System with no strategy running: pushes signals on the
    executor's signal link with the strategy's key and waits for each to settle in the books.
    sent: every signal id pushed, for the audit's extra_signals."""

    def __init__(self, system):
        import zmq
        self.s, self.e = system, system.e
        self.p = system.last_price()
        check(self.p is not None, "ticks are flowing")
        self.push = self.e.curve(zmq.Context.instance().socket(zmq.PUSH), "executor", role="strategy")
        self.push.connect(self.e.ep("signal"))
        self.sent = []

    def condition(self, side):
        """A stored condition far from the market (no strategy runs: only its id is used)."""
        trigger = int(self.p) + (3000 if side == "buy" else -3000)
        out = self.e.cli("condition", "add", "--symbol", "TXFF5", "--side", side, "--trigger", str(trigger),
                         "--turning", "5", "--qty", "1", "--tp", "90", "--sl", "30")[1]
        m = re.search(r"\b(\d+)\b", out)
        check(m is not None, "the new condition's id is printed: %s" % out)
        return int(m.group(1))

    def order(self, sid):
        return {o["signal_id"]: o for o in self.e.json("orders", "--json")}.get(sid)

    def net(self, symbol="TXFF5"):
        return {x["symbol"]: x["net_qty"] for x in self.e.json("positions", "--json")}.get(symbol, 0)

    def signal(self, sid, side, qty, cid=0):
        """Pushes one signal and returns its order row once final."""
        self.sent.append(sid)
        self.push.send(aftm_signal(sid, side, qty, condition_id=cid, price=int(self.s.last_price() or self.p)))
        check(wait_until(lambda: self.order(sid) is not None and self.order(sid)["status"] in FINAL, 30),
              "signal %s settled: %s" % (sid, self.order(sid)))
        return self.order(sid)


class TickRelay:
    """Relays the gateway's tick feed to another endpoint (a strategy's), where the test can slip
    in messages of its own between the real ones."""

    def __init__(self, src, dst, env):
        import queue
        import threading
        import zmq
        ctx = zmq.Context.instance()
        self.sub = env.curve(ctx.socket(zmq.SUB), "gateway")  # a client of the gateway's ticks
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.connect(src)
        self.pub = env.curve_server(ctx.socket(zmq.PUB), "gateway")  # the gateway, to the strategy
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.bind(dst)
        self.q = queue.Queue()
        self.relayed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            while not self.q.empty():
                self.pub.send_multipart(self.q.get())
            if self.sub.poll(20):
                for _ in range(1000):
                    if not self.sub.poll(0):
                        break
                    self.pub.send_multipart(self.sub.recv_multipart())
                    self.relayed += 1

    def inject(self, frames):
        """Sends frames (a list of bytes) to the relay's subscribers, in order with the feed."""
        self.q.put(frames)

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sub.close()
        self.pub.close()
