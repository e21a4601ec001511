#!/usr/bin/env python3
"""Only aftm's own processes can trade: every port of the exchange, the gateway and the executor
is CURVE with a ZAP handler. An unauthenticated order on the order port (plain text, as anyone
on the host could send it) is refused and logged; so is a CURVE client with a key nobody
allowed, and a role's key on a port that is not for that role; an order for an account outside
the session is refused with the peer's key in the log. `aftm keys allow` lets a new key in
without a restart. --insecure still serves the original's peers in plain text, on loopback
only, with a warning."""
import json
import os
import stat
import subprocess
import sys
import time

import zmq
import zmq.auth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import Env, check, check_logs_clean, wait_until  # noqa: E402

ctx = zmq.Context()
e = Env()
code, out, _ = e.cli("keys", "init")
check(code == 0 and "made 5 key pair(s)" in out, "aftm keys init makes five pairs")
keys_dir = os.path.join(e.home, "keys")
check(stat.S_IMODE(os.stat(keys_dir).st_mode) == 0o700, "the keys directory is 0700")
check(all(stat.S_IMODE(os.stat(os.path.join(keys_dir, f)).st_mode) == 0o600
          for f in os.listdir(keys_dir) if os.path.isfile(os.path.join(keys_dir, f))), "every key file is 0600")
code, out, _ = e.cli("keys", "init")
check("already" in out, "keys init again keeps the pairs")

xc = e.start("exchange", "--seed", "5", "--rate", "50", "--home", e.home)
gw = e.start("gateway", "--broker", "sim", "--home", e.home, "--tick-endpoint", e.ep("tick"),
             "--order-endpoint", e.ep("order"), "--report-endpoint", e.ep("report"))


def req_socket(setup=None):
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 1500)
    if setup:
        setup(s)
    s.connect(e.ep("order"))
    return s


def ask(sock, msg):
    try:
        sock.send_string(json.dumps(msg))
        return json.loads(sock.recv())
    except zmq.ZMQError:
        return None


def order(cid, account="SIM-0001", qty=1):
    return {"operation": "send_order", "parameters": {
        "order_account": account, "item_code": "TXFF5", "side": "buy", "order_type": "Market", "price": 0.0,
        "quantity": qty, "open_close": "AUTO", "note": "curve", "day_trade": "N", "time_in_force": "IOC",
        "client_order_id": cid}}


def log_text(name):
    return open(os.path.join(e.home, name + ".log"), errors="replace").read()


cli = req_socket(lambda s: e.curve(s, "gateway"))
check(wait_until(lambda: (ask(cli, {"operation": "health_check"}) or {}).get("data", {}).get("status") == "healthy"
                 or None, 20), "the CLI's key reaches the order port")

# ---- today's attack: a plain-text order, as a hostile local user sends it ---------------------
plain = req_socket()
check(ask(plain, order("attack-1", qty=7)) is None, "an unauthenticated 7-lot order gets no answer")
st = ask(cli, {"operation": "order_status", "params": {}, "parameters": {"client_order_id": "attack-1"}})
check(st and st["success"] and st["data"]["found"] is False, "and the exchange never saw it")
check(wait_until(lambda: "handshake failed on the orders port" in log_text("gateway"), 5),
      "the failed handshake is logged (socket monitor)")

# ---- a CURVE client whose key nobody allowed -------------------------------------------------
stranger_pub, stranger_sec = zmq.curve_keypair()


def as_stranger(s):
    s.curve_publickey, s.curve_secretkey = stranger_pub, stranger_sec
    s.curve_serverkey = e.server_key("gateway")


stranger = req_socket(as_stranger)
check(ask(stranger, order("attack-2")) is None, "a key nobody allowed gets no answer")
check(wait_until(lambda: stranger_pub.decode() in log_text("gateway"), 5),
      "the refusal is logged with the stranger's public key")
check("refused a connection to the orders port" in log_text("gateway"), "by the ZAP handler, as a refused connection")
check(wait_until(lambda: "handshake refused on the orders port" in log_text("gateway") and
                 "authentication failed (ZAP status 400)" in log_text("gateway"), 5),
      "and by the socket monitor (HANDSHAKE_FAILED_AUTH)")

# ---- a role's key on a port that is not for it: the strategy may not place orders -------------
as_strategy = req_socket(lambda s: e.curve(s, "gateway", role="strategy"))
check(ask(as_strategy, order("attack-3")) is None, "the strategy's key is refused on the order port")
strategy_pub = e.keys("strategy")[0].decode()
check(wait_until(lambda: strategy_pub in log_text("gateway"), 5), "logged with the strategy's key")

# ---- an allowed key, an account outside the session ------------------------------------------
r = ask(cli, order("acc-1", account="SOMEONE-ELSE"))
check(r and r["success"] is False and r["error_code"] == "ACCOUNT_NOT_IN_SESSION", "an account outside the session is refused")
cli_pub = e.keys("cli")[0].decode()
check(wait_until(lambda: "refused send_order from cli key " + cli_pub in log_text("gateway"), 5),
      "the refusal names the peer's key")
r = ask(cli, order("ok-1"))
check(r and r["success"] and r["data"]["is_send_order"], "the CLI's order for the session's account is placed")

# ---- aftm keys allow: the stranger's key let in as the CLI, live, no restart ---------------------
pubfile = os.path.join(e.home, "stranger.key")
with open(pubfile, "w") as f:
    f.write(stranger_pub.decode() + "\n")
code, _, err = e.cli("keys", "allow", "nobody", pubfile, check=False)
check(code == 2 and "unknown role" in err, "keys allow with an unknown role: exit 2")
code, _, err = e.cli("keys", "allow", "cli", os.path.join(keys_dir, "cli.key_secret"), check=False)
check(code == 2 and "secret" in err, "keys allow refuses a secret key file")
code, out, _ = e.cli("keys", "allow", "cli", pubfile)
check(code == 0 and "allowed as cli" in out, "aftm keys allow cli FILE")
listed = e.json("keys", "list", "--json")
check([k["allowed"] for k in listed if k["role"] == "cli"] == [[stranger_pub.decode()]], "keys list shows it")
stranger2 = req_socket(as_stranger)
r = ask(stranger2, order("allowed-1"))
check(r and r["success"] and r["data"]["is_send_order"], "the newly allowed key places an order, no restart")
for s in (cli, plain, stranger, as_strategy, stranger2):
    s.close()

# ---- the exchange's ports admit the gateway and the CLI only -------------------------------------
xr = ctx.socket(zmq.REQ)
xr.setsockopt(zmq.LINGER, 0)
xr.setsockopt(zmq.RCVTIMEO, 1500)
e.curve(xr, "exchange", role="executor")
xr.connect(e.ep("exchange"))
xr.send_string(json.dumps({"operation": "health"}))
try:
    xr.recv()
    check(False, "the executor's key is refused by the exchange")
except zmq.Again:
    check(True, "the executor's key is refused by the exchange")
xr.close()

gw.terminate()
xc.terminate()
check(gw.wait(15) == 0 and xc.wait(15) == 0, "gateway and exchange stop cleanly")

# ---- files: private when made, the directory 0700 even when the user made it, status warns -----
for name in ("gateway.log", "exchange.log", "stranger.key"):  # made by this test, not by aftm
    os.chmod(os.path.join(e.home, name), 0o600)
e.cli("resume")  # makes aftm.db (status only reads: it makes none)
code, out, err = e.cli("status")
check(code == 0 and "warning" not in err, "aftm status: no warning when everything is private")
for name in ("aftm.db", "exchange.db"):
    check(stat.S_IMODE(os.stat(os.path.join(e.home, name)).st_mode) == 0o600, "%s was made 0600" % name)
check(stat.S_IMODE(os.stat(e.home).st_mode) == 0o700, "the data directory is 0700")
os.chmod(os.path.join(e.home, "aftm.db"), 0o644)
os.chmod(os.path.join(keys_dir, "gateway.key_secret"), 0o640)
os.chmod(e.home, 0o755)
code, out, err = e.cli("status")
check(code == 0 and "aftm.db is readable or writable by others (mode 0644)" in err
      and "gateway.key_secret is readable or writable by others (mode 0640)" in err
      and "%s is readable or writable by others (mode 0755)" % e.home in err,
      "aftm status warns about a group- or world-readable database, key and data directory")
check(stat.S_IMODE(os.stat(e.home).st_mode) == 0o700, "and the data directory is made 0700 again")
os.chmod(os.path.join(e.home, "aftm.db"), 0o600)
os.chmod(os.path.join(keys_dir, "gateway.key_secret"), 0o600)

# ---- --insecure: the original's peers in plain text, loopback only, with a warning ---------------
e2 = Env()
code, _, err = e2.cli("gateway", "--insecure", "--broker", "sim-local", "--order-endpoint", "tcp://0.0.0.0:%d"
                      % e2.ports["order"], check=False)
check(code == 2 and "plain text" in err, "--insecure refuses a non-loopback address")
g2 = e2.start("gateway", "--insecure", "--broker", "sim-local", "--seed", "3", "--rate", "20",
              "--tick-endpoint", e2.ep("tick"), "--order-endpoint", e2.ep("order"), "--report-endpoint", e2.ep("report"))
orig = ctx.socket(zmq.REQ)  # the original's executor: plain REQ JSON
orig.setsockopt(zmq.LINGER, 0)
orig.setsockopt(zmq.RCVTIMEO, 3000)
orig.connect(e2.ep("order"))


def orig_ask(msg):
    try:
        orig.send_string(json.dumps(msg))
        return json.loads(orig.recv())
    except zmq.ZMQError:
        return None


check(wait_until(lambda: orig_ask({"operation": "health_check"}), 15), "the original's executor reaches an --insecure gateway")
r = orig_ask(order("orig-1"))
check(r and r["success"] and r["data"]["is_send_order"], "and places an order in plain text")
sub = ctx.socket(zmq.SUB)  # the original's strategy: plain SUB
sub.setsockopt(zmq.LINGER, 0)
sub.setsockopt(zmq.SUBSCRIBE, b"TICK")
sub.connect(e2.ep("tick"))
check(sub.poll(5000), "the original's strategy gets ticks from an --insecure gateway")
orig.close()
sub.close()
g2.terminate()
check(g2.wait(15) == 0, "the --insecure gateway stops cleanly")
text = open(os.path.join(e2.home, "gateway.log")).read()
check("--insecure: this gateway's links are plain text" in text, "with a warning at start")
check_logs_clean(e)
check_logs_clean(e2)
ctx.destroy(linger=0)
print("test_curve: all checks passed")
