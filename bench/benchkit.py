"""What the Python benchmarks (orderpath.py, system.py) share: free local ports, an
environment that gives an aftm home its own ports, so a benchmark never meets another run on
this machine, and reading the exchange's report log. Not a harness: each benchmark starts and
measures its processes itself."""
import json
import os
import socket

import msgpack


def free_ports(n):
    """n ports free on 127.0.0.1 at the time of asking."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def aftm_env(home):
    """(environment, ports by name): os.environ with AFTM_HOME=home and every aftm port of its own."""
    tick, sig, order, report, exch, market, ack = free_ports(7)
    ports = dict(tick=tick, signal=sig, order=order, report=report, exchange=exch, market=market, ack=ack)
    env = dict(os.environ, AFTM_HOME=home, ZMQ_HOST="127.0.0.1", ZMQ_TICK_PORT=str(tick), ZMQ_SIGNAL_PORT=str(sig),
               DLL_GATEWAY_PORT=str(order), AFTM_REPORT_PORT=str(report), AFTM_EXCHANGE_PORT=str(exch),
               AFTM_EXCHANGE_MARKET_PORT=str(market), AFTM_ACK_PORT=str(ack))
    return env, ports


def report_body(body):
    """A report of exchange.db's report log (reports.body) as a dict: a msgpack map (a BLOB), or
    the JSON text a book written before the msgpack link holds."""
    if isinstance(body, (bytes, memoryview)):
        return msgpack.unpackb(bytes(body), raw=False)
    return json.loads(body)
