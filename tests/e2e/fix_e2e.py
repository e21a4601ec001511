"""Helpers for the FIX end-to-end tests: QuickFIX's example executor, as Debian ships it prebuilt
in libquickfix-doc (gunzipped into the test's home), with an acceptor settings file on loopback,
and aftm's initiator settings pointing at it."""
import gzip
import os
import re
import shutil
import stat
import subprocess

from aftm_e2e import TESTDATA, free_port

EXECUTOR_GZ = "/usr/share/doc/libquickfix-doc/examples/executor/C++/.libs/executor.gz"


def settings(template, dest, **subst):
    text = open(os.path.join(TESTDATA, "fix", template)).read()
    for k, v in subst.items():
        text = text.replace("@%s@" % k, str(v))
    with open(dest, "w") as f:
        f.write(text)
    return dest


class Executor:
    """The packaged example executor: fills every limit order at its price, refuses market ones."""

    def __init__(self, home, port=None):
        self.dir = os.path.join(home, "executor")
        os.makedirs(self.dir, exist_ok=True)
        self.bin = os.path.join(self.dir, "executor")
        with gzip.open(EXECUTOR_GZ) as src, open(self.bin, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.chmod(self.bin, os.stat(self.bin).st_mode | stat.S_IXUSR)
        self.port = port or free_port()
        self.cfg = settings("executor.cfg", os.path.join(self.dir, "executor.cfg"), PORT=self.port, DIR=self.dir)
        self.log = os.path.join(home, "fix-executor.log")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.bin, self.cfg], stdout=open(self.log, "a"), stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def messages(self, msg_type):
        """Every message of this type in the executor's screen log, as {tag: value}."""
        out = []
        for line in open(self.log, errors="replace"):
            if "8=FIX.4.4" not in line:
                continue
            fields = dict(f.split("=", 1) for f in re.split("\x01", line.strip().strip("()")) if "=" in f)
            if fields.get("35") == msg_type:
                out.append(fields)
        return out

    def fills(self):
        """(ClOrdID, side, qty, price) of every fill the executor sent, once each by ExecID."""
        seen, out = set(), []
        for m in self.messages("8"):
            if m.get("49") != "EXECUTOR" or float(m.get("32", "0")) <= 0 or m["17"] in seen:
                continue
            seen.add(m["17"])
            out.append((m["11"], "buy" if m["54"] == "1" else "sell", int(float(m["32"])), float(m["31"])))
        return out


def aftm_settings(home, port, name="aftm-fix.cfg"):
    return settings("aftm-fix.cfg", os.path.join(home, name), PORT=port)
