"""Helpers for end-to-end tests: real aftm processes, real sockets, a temporary home, and the
original's msgpack messages (ticks and signals) as a peer would send them. A test that passes
leaves no temporary home behind; one that fails keeps it for reading its logs."""
import atexit
import json
import os
import shutil
import socket
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


def free_port():
    return free_ports(1)[0]


class Env:
    """A temporary home and its own ports, exported the way aftm reads them."""

    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="aftm-e2e-")
        _homes.append(self.home)
        tick, sig, order, report, exch, market = free_ports(6)
        self.ports = dict(tick=tick, signal=sig, order=order, report=report, exchange=exch, market=market)
        self.env = dict(os.environ, AFTM_HOME=self.home, ZMQ_HOST="127.0.0.1", ZMQ_TICK_PORT=str(tick),
                        ZMQ_SIGNAL_PORT=str(sig), DLL_GATEWAY_HOST="127.0.0.1", DLL_GATEWAY_PORT=str(order),
                        AFTM_REPORT_PORT=str(report), AFTM_EXCHANGE_PORT=str(exch),
                        AFTM_EXCHANGE_MARKET_PORT=str(market))

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

    def start(self, *args, log=None):
        out = open(log or os.path.join(self.home, "%s.log" % args[0]), "w")
        return subprocess.Popen([AFTM] + list(args), env=self.env, stdout=out, stderr=subprocess.STDOUT)


def write_ticks(path, prices, symbol="TXFF5", start="2025-06-17 09:00:00", step_s=0.1):
    """A plain tick CSV: one tick every step_s seconds."""
    t0 = time.mktime(time.strptime(start, "%Y-%m-%d %H:%M:%S"))
    with open(path, "w") as f:
        f.write("datetime,symbol,price,volume\n")
        for i, p in enumerate(prices):
            t = t0 + i * step_s
            f.write("%s.%06d,%s,%s,1\n" % (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)),
                                           int(round((t % 1) * 1e6)) % 1000000, symbol, p))


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


def check_logs_clean(env):
    """No sanitizer report (ASan, UBSan, LeakSanitizer) in any process log of this env: the
    processes' own logs in the home, and the menu's children's under home/logs."""
    import glob
    for path in glob.glob(os.path.join(env.home, "*.log")) + glob.glob(os.path.join(env.home, "logs", "*.log")):
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
