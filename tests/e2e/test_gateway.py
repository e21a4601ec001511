#!/usr/bin/python3
"""End-to-end test of `aftm gateway --broker sim-local` (the simulator inside the gateway: one
process) against the real binary. The gateway as a client of the exchange process
(`--broker sim`) is tested by test_exchange.py.

Speaks to it the way the original Python system does: a SUB on the tick port decoding
TickEvents with msgpack (2 frames, b"TICK" + the map), a REQ on the order port with the
original's JSON requests, plus aftm's extensions and execution reports on the report port.
Prints PASS or FAIL; exits non-zero on failure.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import AFTM as BIN, free_port  # noqa: E402

TIMEOUT_MS = 5000


# --- the original's msgpack decoder (object hooks), enough for TickEvent ----------------------
class Tick:
    def __init__(self, commodity_id, match_price):
        self.commodity_id = commodity_id
        self.match_price = match_price


class TickEvent:
    def __init__(self, when, tick):
        self.when = when
        self.tick = tick


CLASSES = {"Tick": Tick, "TickEvent": TickEvent}


def object_hook(obj):
    if "__datetime__" in obj:
        return datetime.fromtimestamp(obj["timestamp"], tz=timezone.utc)
    if "__class__" in obj:
        cls = CLASSES[obj.pop("__class__")]
        return cls(**obj)  # TypeError on an extra or missing key, as the original
    return obj


def decode_tick(frames):
    assert len(frames) == 2, "a tick is 2 frames, got %d" % len(frames)
    assert frames[0] == b"TICK", frames[0]
    raw = msgpack.unpackb(frames[1], raw=False)
    assert list(raw.keys()) == ["when", "tick", "__class__"], list(raw.keys())
    assert list(raw["tick"].keys()) == ["commodity_id", "match_price", "__class__"], raw["tick"]
    assert list(raw["when"].keys()) == ["__datetime__", "timestamp"], raw["when"]
    # byte identity with the original's serializer (use_bin_type, float64 everywhere)
    assert msgpack.packb(raw, use_bin_type=True) == frames[1], "not the original's bytes"
    assert isinstance(raw["tick"]["match_price"], float)
    assert isinstance(raw["when"]["timestamp"], float)
    ev = msgpack.unpackb(frames[1], raw=False, object_hook=object_hook)
    assert isinstance(ev, TickEvent) and isinstance(ev.tick, Tick)
    assert ev.tick.commodity_id == ev.tick.commodity_id.upper()
    assert ev.tick.match_price > 0 and ev.tick.match_price == int(ev.tick.match_price)
    return ev


# --- helpers -------------------------------------------------------------------------------
class Gateway:
    def __init__(self, home, ports, extra=()):
        self.ports = ports
        self.eps = ["tcp://127.0.0.1:%d" % p for p in ports]
        self.log = open(os.path.join(home, "gateway.log"), "w+")
        self.proc = subprocess.Popen(
            # --insecure: these clients speak as the original's executor and strategy do, in
            # plain text on loopback (test_curve.py covers the CURVE side of the same ports)
            [BIN, "gateway", "--insecure", "--broker", "sim-local", "--seed", "7", "--rate", "20", "--home", home,
             "--tick-endpoint", self.eps[0], "--order-endpoint", self.eps[1],
             "--report-endpoint", self.eps[2], *extra],
            stdout=self.log, stderr=subprocess.STDOUT)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


class Client:
    def __init__(self, ctx, endpoint):
        self.ctx, self.endpoint = ctx, endpoint
        self.sock = None

    def _open(self):
        self.sock = self.ctx.socket(zmq.REQ)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
        self.sock.setsockopt(zmq.SNDTIMEO, TIMEOUT_MS)
        self.sock.connect(self.endpoint)

    def raw(self, data):
        if self.sock is None:
            self._open()
        try:
            self.sock.send(data)
            text = self.sock.recv()
        except zmq.Again:
            self.sock.close()
            self.sock = None
            raise AssertionError("no reply within %d ms to %r" % (TIMEOUT_MS, data[:80]))
        return text

    def call(self, obj):
        text = self.raw(json.dumps(obj).encode())
        reply = json.loads(text)
        # Python's default separators, so the original's client reads it unchanged
        assert text.decode() == json.dumps(reply), "not Python's json.dumps form: %s" % text
        return reply


def order_params(**over):
    p = {"order_account": "SIM-0001", "item_code": "TXFF5", "side": "buy", "order_type": "Market",
         "price": 0.0, "quantity": 1, "open_close": "AUTO", "note": "From AFTM Gateway",
         "day_trade": "N", "time_in_force": "IOC"}
    p.update(over)
    return p


def drain_ticks(sub, until, want=None):
    """Ticks received until `until` (monotonic), or until `want` of them."""
    out = []
    while time.monotonic() < until and (want is None or len(out) < want):
        if sub.poll(50):
            out.append(decode_tick(sub.recv_multipart()))
    return out


def reports_until(rsub, pred, timeout=5.0):
    got = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if rsub.poll(50):
            frames = rsub.recv_multipart()
            assert len(frames) == 1, frames  # one frame: the topic, a zero byte, the report
            topic, sep, body = frames[0].partition(b"\0")
            assert topic == b"REPORT" and sep, frames
            unpacker = msgpack.Unpacker()  # one or more reports in msgpack, the JSON's fields
            unpacker.feed(body)
            for rep in unpacker:
                got.append(rep)
                if pred(rep):
                    return got
    raise AssertionError("report not seen; got %s" % got)


def expect_error(reply, code, message=None):
    assert reply["success"] is False, reply
    assert reply["error_code"] == code, reply
    assert list(reply.keys()) == ["success", "error_message", "error_code"], reply
    if message is not None:
        assert reply["error_message"] == message, reply


# --- the test ------------------------------------------------------------------------------
def run(home):
    checks = []
    ctx = zmq.Context()
    ports = [free_port(), free_port(), free_port()]
    gw = Gateway(home, ports)
    try:
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.connect(gw.eps[0])
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        rsub = ctx.socket(zmq.SUB)
        rsub.setsockopt(zmq.LINGER, 0)
        rsub.connect(gw.eps[2])
        rsub.setsockopt(zmq.SUBSCRIBE, b"REPORT")
        cli = Client(ctx, gw.eps[1])

        # health: the sim logged itself in
        deadline = time.monotonic() + 10
        while True:
            try:
                h = cli.call({"operation": "health_check"})
                break
            except AssertionError:
                if time.monotonic() > deadline or gw.proc.poll() is not None:
                    raise
        assert h["success"] is True and h["data"]["status"] == "healthy", h
        assert h["data"]["exchange_connected"] is True and h["data"]["server_running"] is True, h
        assert isinstance(h["data"]["timestamp"], int), h
        assert list(h["data"].keys()) == ["status", "exchange_connected", "timestamp", "server_running"], h
        checks.append("health_check")

        # ticks: the original's TickEvent, TXFF5 around 20000, and every other listed product
        # moving with it (each step: TXFF5, then the others at the same price)
        ticks = drain_ticks(sub, time.monotonic() + 5, want=20)
        assert len(ticks) >= 20, "only %d ticks in 5 s at 20/s" % len(ticks)
        last, step = {}, None
        for t in ticks:
            assert t.tick.commodity_id in ("TXFF5", "TXFG5", "MXFF5", "MXFG5"), t.tick.commodity_id
            assert 15000 < t.tick.match_price < 25000
            assert abs(t.when.timestamp() - time.time()) < 30
            if t.tick.commodity_id == "TXFF5":
                step = t.tick.match_price
            elif step is not None:  # the first ticks may be the end of a step begun earlier
                assert t.tick.match_price == step, "%s at %s, TXFF5 at %s" % (t.tick.commodity_id, t.tick.match_price, step)
            last[t.tick.commodity_id] = t.tick.match_price
        assert set(last) == {"TXFF5", "TXFG5", "MXFF5", "MXFG5"}, last
        checks.append("ticks decoded as TickEvent (%d), every listed product moving together" % len(ticks))

        # errors, exactly as the original
        expect_error(json.loads(cli.raw(b"{not json")), "INVALID_JSON", "Invalid JSON format")
        expect_error(cli.call({"operation": "teleport"}), "UNKNOWN_OPERATION", "Unknown operation: teleport")
        expect_error(cli.call({"parameters": {}}), "UNKNOWN_OPERATION", "Unknown operation: None")
        p = order_params()
        del p["quantity"], p["side"]
        expect_error(cli.call({"operation": "send_order", "parameters": p}), "INVALID_ORDER",
                     "Missing required fields: side, quantity")
        expect_error(cli.call({"operation": "send_order"}), "INVALID_ORDER",
                     "Missing required fields: order_account, item_code, side, order_type, price, quantity, "
                     "open_close, note, day_trade, time_in_force")
        expect_error(cli.call({"operation": "send_order", "parameters": order_params(side="hold")}),
                     "ORDER_EXECUTION_ERROR", "'hold' is not a valid OrderOperation")
        expect_error(cli.call({"operation": "get_positions", "parameters": {}}), "MISSING_ACCOUNT",
                     "Account parameter is required")
        expect_error(cli.call({"operation": "get_positions"}), "MISSING_ACCOUNT")
        expect_error(cli.call({"operation": "order_status", "parameters": {}}), "MISSING_CLIENT_ORDER_ID")
        checks.append("error replies")

        # reference data
        r = cli.call({"operation": "list_accounts"})
        assert r["success"] and r["data"]["accounts"] == ["SIM-0001", "SIM-0002"], r
        r = cli.call({"operation": "list_products"})
        codes = [x["code"] for x in r["data"]["products"]]
        for c in ("TXFF5", "TXFG5", "MXFF5", "MXFG5"):
            assert c in codes, codes
        for x in r["data"]["products"]:
            assert x["min_price"] < x["reference_price"] < x["max_price"], x
        checks.append("list_accounts, list_products")

        # the original executor's order: exactly its 5 keys back
        r = cli.call({"operation": "send_order", "parameters": order_params()})
        assert r["success"] is True, r
        assert list(r["data"].keys()) == ["is_send_order", "note", "order_serial", "error_code", "error_message"], r
        assert r["data"]["is_send_order"] is True and r["data"]["note"] == "From AFTM Gateway", r
        assert r["data"]["order_serial"].startswith("SIM-") and r["data"]["error_code"] == "0", r
        first_serial = r["data"]["order_serial"]
        reports_until(rsub, lambda x: x["order_serial"] == first_serial and x["status"] == "filled")
        checks.append("original send_order shape, filled")

        # an aftm order with a client id: accepted, then filled at the NEXT tick's price
        r = cli.call({"operation": "send_order", "parameters": order_params(client_order_id="e2e-1", quantity=2)})
        d = r["data"]
        assert r["success"] and d["is_send_order"] is True and d["duplicate"] is False, r
        assert d["client_order_id"] == "e2e-1" and d["status"] in ("accepted", "filled"), r
        serial = d["order_serial"]
        got = reports_until(rsub, lambda x: x["client_order_id"] == "e2e-1" and x["status"] == "filled")
        mine = [x for x in got if x["client_order_id"] == "e2e-1"]
        accepted = [x for x in mine if x["status"] == "accepted"]
        filled = mine[-1]
        assert len(accepted) == 1, mine
        keys = ["seq", "client_order_id", "order_serial", "account", "symbol", "side", "qty", "status", "fill_id",
                "fill_qty", "fill_price", "filled_qty", "avg_fill_price", "reason", "time"]
        assert list(filled.keys()) == keys, filled.keys()
        assert filled["seq"] > accepted[0]["seq"], mine
        assert filled["order_serial"] == serial and filled["account"] == "SIM-0001", filled
        assert filled["symbol"] == "TXFF5" and filled["side"] == "buy" and filled["qty"] == 2, filled
        assert filled["fill_qty"] == 2 and filled["filled_qty"] == 2 and filled["fill_id"], filled
        assert filled["avg_fill_price"] == float(filled["fill_price"]), filled
        # the next tick after acceptance carries the fill price
        # every tick received so far, in publication order (their `when` is the publish time)
        later = drain_ticks(sub, time.monotonic() + 1)
        seen = sorted(ticks + later, key=lambda t: t.when.timestamp())
        nxt = [t for t in seen if t.when.timestamp() >= accepted[0]["time"]]
        assert nxt, "no tick seen after the order"
        assert filled["fill_price"] == int(nxt[0].tick.match_price), (filled, nxt[0].tick.match_price)
        checks.append("fill at the next tick's price (%d)" % filled["fill_price"])

        # the same client order id again: no second order
        r2 = cli.call({"operation": "send_order", "parameters": order_params(client_order_id="e2e-1", quantity=2)})
        assert r2["data"]["duplicate"] is True and r2["data"]["order_serial"] == serial, r2
        assert r2["data"]["status"] == "filled", r2
        st = cli.call({"operation": "order_status", "parameters": {"client_order_id": "e2e-1"}})["data"]
        assert st["found"] is True and st["status"] == "filled" and st["filled_qty"] == 2, st
        assert st["avg_fill_price"] == float(filled["fill_price"]), st
        nf = cli.call({"operation": "order_status", "parameters": {"client_order_id": "never-sent"}})["data"]
        assert nf["found"] is False, nf
        time.sleep(0.3)  # a few ticks: a second order would have filled by now
        rep = cli.call({"operation": "get_reports", "parameters": {"since_seq": 0}})["data"]
        seqs = [x["seq"] for x in rep["reports"]]
        assert seqs == list(range(1, len(seqs) + 1)), seqs
        assert rep["last_seq"] == seqs[-1], rep
        e2e = [x for x in rep["reports"] if x["client_order_id"] == "e2e-1"]
        assert [x["status"] for x in e2e] == ["accepted", "filled"], e2e
        # get_reports (JSON) says what the report port said (msgpack), field for field
        for listed, published in zip(e2e, [accepted[0], filled]):
            assert list(listed.keys()) == keys and abs(listed["time"] - published["time"]) < 1e-5, (listed, published)
            assert {k: v for k, v in listed.items() if k != "time"} == \
                {k: v for k, v in published.items() if k != "time"}, (listed, published)
        tail = cli.call({"operation": "get_reports", "parameters": {"since_seq": seqs[-2]}})["data"]["reports"]
        assert [x["seq"] for x in tail] == [seqs[-1]], tail
        checks.append("idempotent client_order_id, order_status, get_reports")

        # positions are real: 1 (original order) + 2 lots long
        pos = cli.call({"operation": "get_positions", "parameters": {"account": "SIM-0001"}})
        assert pos["success"], pos
        plist = pos["data"]["positions"]
        assert len(plist) == 1 and plist[0]["product_id"] == "TXFF5", plist
        assert plist[0]["current_long"] == 3 and plist[0]["current_short"] == 0, plist
        empty = cli.call({"operation": "get_positions", "parameters": {"account": "SIM-0002"}})
        assert empty["success"] and empty["data"]["positions"] == [], empty
        expect_error(cli.call({"operation": "get_positions", "parameters": {"account": "NOBODY"}}),
                     "POSITION_QUERY_ERROR")
        # sell 3: flat
        r = cli.call({"operation": "send_order", "parameters": order_params(client_order_id="e2e-2", side="sell",
                                                                            quantity=3)})
        assert r["data"]["is_send_order"], r
        reports_until(rsub, lambda x: x["client_order_id"] == "e2e-2" and x["status"] == "filled")
        plist = cli.call({"operation": "get_positions", "parameters": {"account": "SIM-0001"}})["data"]["positions"]
        assert plist[0]["current_long"] == 0 and plist[0]["net_qty"] == 0, plist
        checks.append("get_positions reflects fills")

        # a limit order far away rests; cancel it
        r = cli.call({"operation": "send_order", "parameters": order_params(
            client_order_id="e2e-lim", order_type="Limit", price=18100.0, time_in_force="ROD")})
        assert r["data"]["is_send_order"], r
        c = cli.call({"operation": "cancel_order", "parameters": {"client_order_id": "e2e-lim"}})
        assert c["success"] and c["data"]["cancelled"] is True, c
        reports_until(rsub, lambda x: x["client_order_id"] == "e2e-lim" and x["status"] == "cancelled")
        # an account outside the session: refused at the order port, never reaches the exchange
        r = cli.call({"operation": "send_order", "parameters": order_params(client_order_id="e2e-acc",
                                                                            order_account="SIM-9999")})
        expect_error(r, "ACCOUNT_NOT_IN_SESSION")
        assert "SIM-9999" in r["error_message"], r
        # refused by the exchange: reported as rejected
        r = cli.call({"operation": "send_order", "parameters": order_params(client_order_id="e2e-bad",
                                                                            item_code="NOPEF9")})
        assert r["success"] is True and r["data"]["is_send_order"] is False, r
        rej = reports_until(rsub, lambda x: x["client_order_id"] == "e2e-bad")[-1]
        assert rej["status"] == "rejected" and "NOPEF9" in rej["reason"], rej
        checks.append("limit + cancel, account outside the session, rejection report")

        # aftm's executor sends send_order in msgpack: answered in msgpack, the JSON's fields
        def packed(obj):
            return msgpack.unpackb(cli.raw(obj if isinstance(obj, bytes) else msgpack.packb(obj)))
        mp_order = {"operation": "send_order", "parameters": order_params(client_order_id="e2e-mp")}
        a = packed(mp_order)
        assert a["success"] is True and list(a["data"].keys()) == [
            "is_send_order", "note", "order_serial", "error_code", "error_message", "client_order_id", "status",
            "duplicate"], a
        assert a["data"]["is_send_order"] is True and a["data"]["client_order_id"] == "e2e-mp", a
        b = packed(mp_order)
        assert b["data"]["duplicate"] is True and b["data"]["order_serial"] == a["data"]["order_serial"], b
        reports_until(rsub, lambda x: x["client_order_id"] == "e2e-mp" and x["status"] == "filled")
        bad = packed({"operation": "send_order", "parameters": order_params(client_order_id="e2e-mp2", quantity=2**63)})
        assert bad == {"success": False, "error_message": "quantity must be a whole number",
                       "error_code": "ORDER_EXECUTION_ERROR"}, bad
        bad = packed({"operation": "send_order", "parameters": order_params()})  # no client order id
        assert bad["success"] is False and bad["error_code"] == "INVALID_ORDER", bad
        bad = packed({"operation": "send_order", "parameters": order_params(client_order_id="e2e-mp3",
                                                                            order_account="SIM-9999")})
        assert bad["error_code"] == "ACCOUNT_NOT_IN_SESSION", bad
        bad = packed({"operation": "get_positions", "parameters": {"account": "SIM-0001"}})
        assert bad["success"] is False and bad["error_code"] == "UNKNOWN_OPERATION", bad
        assert packed(b"\x85\xa3abc")["error_code"] == "INVALID_MSGPACK"  # cut short
        assert packed(b"\xdf\xff\xff\xff\xff")["error_code"] == "INVALID_MSGPACK"  # claims 2^32 entries
        assert packed(msgpack.packb(mp_order) + b"\x00")["error_code"] == "INVALID_MSGPACK"  # trailing bytes
        checks.append("send_order in msgpack: answered in msgpack, garbled refused")

        # garbage never kills the gateway
        r = json.loads(cli.raw(b"\x00\xff\xfe garbage \x80"))
        expect_error(r, "INVALID_JSON")
        expect_error(json.loads(cli.raw(b"")), "INVALID_JSON")
        r = json.loads(cli.raw(b"[1, 2, 3]"))
        assert r["success"] is False, r
        r = json.loads(cli.raw(b'{"operation": "send_order", "parameters": [1, 2]}'))
        expect_error(r, "INVALID_ORDER")
        r = json.loads(cli.raw(b'{"operation": "send_order", "parameters": ' + json.dumps(
            order_params(quantity="lots", price={"x": 1})).encode() + b"}"))
        expect_error(r, "ORDER_EXECUTION_ERROR")
        # a 2 MiB request is answered, not dropped with its connection; the next one is served
        big = b'{"operation": "send_order", "parameters": {"note": "' + b"x" * (2 << 20) + b'"}}'
        expect_error(json.loads(cli.raw(big)), "REQUEST_TOO_LARGE")
        assert cli.call({"operation": "list_accounts"})["success"] is True
        # not even ZMTP, on every port; then a valid ZMTP 3 greeting announcing a huge frame
        greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + b"\x00" * 32
        for port in ports:
            for payload in (os.urandom(4096), b"GET / HTTP/1.1\r\n\r\n",
                            greeting + b"\x06" + b"\xff" * 7 + b"\x00",
                            b"\xff" + b"\x7f" * 8 + b"\x00" + os.urandom(64)):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
                        raw.sendall(payload)
                        time.sleep(0.02)
                except OSError:
                    pass  # the gateway may hang up first: that is fine
        dealer = ctx.socket(zmq.DEALER)  # odd framing
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.connect(gw.eps[1])
        dealer.send_multipart([b"x" * 100, b"", b"", os.urandom(300)])
        dealer.send(b'{"operation": "health_check"}')  # DEALER without a delimiter
        assert dealer.poll(TIMEOUT_MS), "no reply to a DEALER"
        dealer.close()
        time.sleep(0.2)
        h = cli.call({"operation": "health_check"})
        assert h["data"]["status"] == "healthy", h
        assert gw.proc.poll() is None, "the gateway died"
        checks.append("garbled input survived")

        # a second gateway on the same ports: clear error, exit 1
        home2 = os.path.join(home, "second")
        os.makedirs(home2)
        gw2 = Gateway(home2, ports)
        rc2 = gw2.proc.wait(timeout=20)
        out2 = gw2.output()
        assert rc2 == 1, (rc2, out2)
        assert "already in use" in out2, out2
        checks.append("port in use -> exit 1")

        # bad usage -> exit 2
        for args in (["--rate", "fast"], ["--broker", "pfcf"], ["--bogus"], ["--speed", "2"],
                     ["--broker", "sim-local", "--speed", "2"], ["--broker", "sim", "--seed", "1"],
                     ["--broker", "sim-local", "--exchange-endpoint", "tcp://127.0.0.1:1"],
                     ["--insecure", "--tick-endpoint", "tcp://0.0.0.0:%d" % free_port()]):
            p = subprocess.run([BIN, "gateway", *args], capture_output=True, text=True, timeout=30)
            assert p.returncode == 2, (args, p.returncode, p.stderr)
            assert p.stderr.strip(), args
        h = subprocess.run([BIN, "gateway", "--help"], capture_output=True, text=True, timeout=30)
        assert h.returncode == 0
        for flag in ("--broker", "--seed", "--rate", "--ticks", "--speed", "--symbol", "--tick-endpoint",
                     "--order-endpoint", "--report-endpoint", "--insecure", "--home", "--quiet", "sim-local",
                     "--exchange-endpoint", "--exchange-market-endpoint", "--exchange-timeout-ms"):
            assert flag in h.stdout, flag
        checks.append("usage errors -> exit 2, --help")

        # SIGTERM: clean stop, exit 0 (under ASan this also means no leak)
        for s in (sub, rsub):
            s.close()
        if cli.sock is not None:
            cli.sock.close()
        gw.proc.send_signal(signal.SIGTERM)
        rc = gw.proc.wait(timeout=20)
        out = gw.output()
        assert rc == 0, "exit code %s\n%s" % (rc, out[-3000:])
        assert "stopped" in out, out[-2000:]
        assert "--insecure: this gateway's links are plain text" in out, out[:2000]
        n_order_lines = sum(1 for line in out.splitlines() if " order SIM-" in line)
        assert n_order_lines >= 4, out
        checks.append("SIGTERM -> exit 0")
    finally:
        if gw.proc.poll() is None:
            gw.proc.kill()
            gw.proc.wait()
        ctx.destroy(linger=0)
    return checks


def run_replay(home, speed):
    """--ticks FILE --speed X --wait-subscribers 1: every row, in order, under the file's symbol,
    paced by the file's timestamps (speed 0: at once)."""
    path = os.path.join(home, "ticks.csv")
    with open(path, "w") as f:
        f.write("datetime,symbol,price,volume\n")
        f.write("2025-06-17 09:00:00,TXFG5,20999,1\n")
        f.write("bad,row\n")
        for i in range(50):  # 1 s later, then every 20 ms
            f.write("2025-06-17 09:00:01.%06d,TXFG5,%d,1\n" % (i * 20000, 21000 + i))
    ctx = zmq.Context()
    ports = [free_port(), free_port(), free_port()]
    eps = ["tcp://127.0.0.1:%d" % p for p in ports]
    log = open(os.path.join(home, "replay.log"), "w+")
    proc = subprocess.Popen([BIN, "gateway", "--insecure", "--broker", "sim-local", "--ticks", path, "--speed", str(speed),
                             "--home", home,
                             "--wait-subscribers", "1", "--tick-endpoint", eps[0], "--order-endpoint", eps[1],
                             "--report-endpoint", eps[2]],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)  # the gateway holds the feed: nothing may be lost while nobody listens
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.connect(eps[0])
        sub.setsockopt(zmq.SUBSCRIBE, b"TICK")
        got = []
        end = time.monotonic() + 15
        while time.monotonic() < end and len(got) < 51:
            if sub.poll(100):
                got.append(decode_tick(sub.recv_multipart()))
        prices = [int(t.tick.match_price) for t in got]
        assert prices == [20999] + list(range(21000, 21050)), prices
        assert all(t.tick.commodity_id == "TXFG5" for t in got)
        whens = [t.when.timestamp() for t in got]
        if speed:
            gap = whens[1] - whens[0]  # 1 s of file time
            span = whens[-1] - whens[1]  # 49 x 20 ms of file time
            assert abs(gap - 1.0 / speed) < 0.25, "first gap %.3f s at speed %s" % (gap, speed)
            assert abs(span - 0.98 / speed) < 0.25, "span %.3f s at speed %s" % (span, speed)
        else:
            assert whens[-1] - whens[0] < 1.0, "speed 0 took %.3f s" % (whens[-1] - whens[0])
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=20)
        log.seek(0)
        out = log.read()
        assert rc == 0, (rc, out)
        assert "replay finished: 51 ticks, 1 malformed rows skipped" in out, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ctx.destroy(linger=0)
    return ["replay --ticks --speed %s --wait-subscribers 1 (%d ticks)" % (speed, len(got))]


def main():
    if not os.path.exists(BIN):
        print("FAIL: no binary at %s (set AFTM_BIN)" % BIN)
        return 1
    with tempfile.TemporaryDirectory(prefix="aftm-gw-e2e-") as home:
        try:
            checks = run(home)
            for speed in (0, 2):
                d = os.path.join(home, "replay%s" % speed)
                os.makedirs(d)
                checks += run_replay(d, speed)
        except Exception:
            traceback.print_exc()
            for name in ("gateway.log", "second/gateway.log", "replay0/replay.log", "replay2/replay.log"):
                p = os.path.join(home, name)
                if os.path.exists(p):
                    print("---- %s (tail)" % name)
                    print(open(p).read()[-4000:])
            print("FAIL: test_gateway")
            return 1
    for c in checks:
        print("ok  " + c)
    print("PASS: test_gateway (%d checks)" % len(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
