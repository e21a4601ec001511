"""The FIX adapter against a fault-injecting acceptor of our own (tests/fix/fault_acceptor.cpp, on
QuickFIX): partial fills, rejects, cancels and a refused cancel, duplicate and PossDup reports, a
sequence gap, a connection dropped with an order in flight, a report that never came (found by
OrderStatusRequest), a logon refusal, a restart of the acceptor and a kill -9 of the gateway.
At the end: 0 lost, 0 doubled, positions equal the acceptor's fills, every order final or
reconciled."""
import json
import os
import signal
import subprocess
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aftm_e2e import ROOT, Env, check, check_logs_clean, free_port, wait_until  # noqa: E402
from fix_e2e import aftm_settings, settings  # noqa: E402

ACCEPTOR = os.path.join(ROOT, "build", "asan", "tests", "fix", "fault_acceptor")
e = Env()
adir = os.path.join(e.home, "acceptor")
os.makedirs(adir)
port = free_port()
acfg = settings("executor.cfg", os.path.join(adir, "acceptor.cfg"), PORT=port, DIR=adir)
cfg = aftm_settings(e.home, port)
alog = open(os.path.join(e.home, "acceptor.log"), "a")


def start_acceptor():
    return subprocess.Popen([ACCEPTOR, acfg, adir], stdout=alog, stderr=subprocess.STDOUT)


n_gw = [0]


def start_gateway():
    n_gw[0] += 1
    return e.start("gateway", "--broker", "fix", "--fix-config", cfg, "--market-data", "walk", "--rate", "20",
                   "--tick-endpoint", e.ep("tick"), "--order-endpoint", e.ep("order"), "--report-endpoint",
                   e.ep("report"), log=os.path.join(e.home, "gateway%d.log" % n_gw[0]))


ctx = zmq.Context()


def call(op, **p):
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.RCVTIMEO = 8000
    e.curve(s, "gateway")
    s.connect(e.ep("order"))
    s.send_string(json.dumps({"operation": op, "parameters": p}))
    try:
        return json.loads(s.recv())
    finally:
        s.close()


def state():
    try:
        return call("health_check")["data"].get("broker_state", "")
    except zmq.error.Again:
        return ""


def order(cid, side="buy", qty=1, price=20000):
    return call("send_order", client_order_id=cid, order_account="SIM-0001", item_code="TXFF5", side=side,
                order_type="Limit", price=price, quantity=qty, open_close="AUTO", note="t", day_trade="N",
                time_in_force="ROD")["data"]


def status(cid):
    return call("order_status", client_order_id=cid)["data"]


reports = []  # every report every gateway published, read before each stop


def collect():
    reports.extend(call("get_reports", since_seq=0)["data"]["reports"])


acc = start_acceptor()
gw = start_gateway()
try:
    check(wait_until(lambda: state() == "logged on", 10), "logged on to the fault acceptor")

    order("pf-1", qty=3)
    check(wait_until(lambda: status("pf-1")["status"] == "filled", 5), "partial fills: 1 then 2, filled")
    order("dup-1", qty=2)
    check(wait_until(lambda: status("dup-1")["status"] == "filled", 5), "duplicate and PossDup report: filled")
    check(status("dup-1")["filled_qty"] == 2 and status("pf-1")["filled_qty"] == 3,
          "resent and PossDup reports applied once")
    r = order("rj-1")
    check(wait_until(lambda: status("rj-1")["status"] == "rejected", 5), "a rejected order is rejected")
    check("on purpose" in (status("rj-1")["reason"] or ""), "with the counterparty's reason")
    order("ca-1")
    check(wait_until(lambda: status("ca-1")["status"] == "accepted", 5), "ca-1 accepted")
    check(call("cancel_order", client_order_id="ca-1")["success"], "a cancel request goes out")
    check(wait_until(lambda: status("ca-1")["status"] == "cancelled", 5), "and the order is cancelled")
    order("cr-1")
    check(wait_until(lambda: status("cr-1")["status"] == "accepted", 5), "cr-1 accepted")
    call("cancel_order", client_order_id="cr-1")
    check(wait_until(lambda: "cancel refused" in (status("cr-1")["reason"] or ""), 5),
          "a refused cancel (OrderCancelReject) is a clear refusal on the order, which stays open")
    order("gap-1", qty=2)
    check(wait_until(lambda: status("gap-1")["status"] == "filled", 8), "a sequence gap is filled; the order too")
    order("sf-1", side="sell", qty=4)
    check(wait_until(lambda: status("sf-1")["status"] == "filled", 5),
          "a fill without a report is found by OrderStatusRequest and booked")

    order("drop-1", side="sell", qty=2)
    check(wait_until(lambda: status("drop-1")["status"] == "filled", 15),
          "connection dropped with an order in flight: filled after the reconnect")

    # restart of the acceptor, with a logon refusal in between
    collect()
    acc.send_signal(signal.SIGTERM)
    acc.wait(timeout=10)
    open(os.path.join(adir, "refuse"), "w").close()
    acc = start_acceptor()
    check(wait_until(lambda: state().startswith("logon refused:") and "logons refused for now" in state(), 15),
          "health_check names the logon refusal and its reason: %s" % state())
    r = order("late-1")
    check(not r["is_send_order"] and "not logged on" in r["error_message"], "orders are refused, clearly, meanwhile")
    os.unlink(os.path.join(adir, "refuse"))
    check(wait_until(lambda: state() == "logged on", 15), "logged on again once the acceptor takes logons")

    # kill -9 of the gateway with an order open
    order("ca-2", qty=5)
    check(wait_until(lambda: status("ca-2")["status"] == "accepted", 5), "ca-2 accepted")
    collect()
    gw.send_signal(signal.SIGKILL)
    gw.wait()
    gw = start_gateway()
    check(wait_until(lambda: state() == "logged on", 15), "the restarted gateway logs on, reconciled")
    check(status("ca-2")["status"] == "accepted", "the open order is still known after kill -9")
    check(order("pf-1", qty=3)["duplicate"], "a client order id is never sent twice, across a kill -9")
    call("cancel_order", client_order_id="ca-2")
    check(wait_until(lambda: status("ca-2")["status"] == "cancelled", 5), "and it can be cancelled")
    collect()
    gw.terminate()
    gw.wait(timeout=10)
    alog_text = open(os.path.join(e.home, "acceptor.log")).read()

    # ---- the books -------------------------------------------------------------------------
    truth = {}
    for line in open(os.path.join(adir, "fills.txt")):
        cid, side, qty, px, eid = line.split()
        truth[cid] = truth.get(cid, 0) + int(float(qty))
    print("acceptor fills:", truth)
    fills = {}
    for r in reports:
        if r["fill_id"]:
            fills.setdefault(r["fill_id"], r)
    booked = {}
    for r in fills.values():
        booked[r["client_order_id"]] = booked.get(r["client_order_id"], 0) + r["fill_qty"]
    print("booked:", booked)
    check(booked == truth, "0 lost, 0 doubled: every fill booked once (by fill id), as the acceptor filled")
    gw = start_gateway()
    check(wait_until(lambda: state() == "logged on", 15), "gateway up for the final look")
    pos = call("get_positions", account="SIM-0001")["data"]["positions"]
    net = sum(q * (1 if cid in ("pf-1", "dup-1", "gap-1") else -1) for cid, q in truth.items())
    check(len(pos) == 1 and pos[0]["net_qty"] == net, "positions equal the acceptor's fills (%d)" % net)
    finals = {c: status(c)["status"] for c in ("pf-1", "dup-1", "rj-1", "ca-1", "gap-1", "sf-1", "drop-1", "ca-2")}
    check(all(s in ("filled", "rejected", "cancelled") for s in finals.values()), "every order final: %s" % finals)
    check(status("cr-1")["status"] == "accepted", "cr-1 open, reconciled (its cancel was refused)")
    gw.terminate()
    gw.wait(timeout=10)
    check("too low" not in alog_text, "no 'MsgSeqNum too low'")
    check_logs_clean(e)
finally:
    for p in (gw, acc):
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=10)
print("PASS")
