#!/usr/bin/env python3
"""The layering rule: every folder under src/ has a rank, and a file may include only headers of
its own folder or of a folder with a lower rank. Folders of one rank (the four processes) are
peers and never include each other, so no include can point upward or close a cycle between
folders. Exit 1 lists each offending include."""
import os
import re
import sys

# Lowest first. A folder missing here is an error too: a new folder needs a place in the plan.
LAYERS = [
    "core",           # clock, log, parsing, endpoints, exit codes, small helpers
    "domain",         # conditions, strategy, orders, positions, risk, matching: no I/O
    "wire",           # the msgpack codec of ticks and signals
    "ticks",          # tick files and tick sources
    "report",         # equity figures and charts
    "store",          # SQLite: conditions, orders, session, equity
    "broker",         # the broker interface and the in-process simulator
    "backtest",       # replaying tick files through the strategy and matching
    "net",            # ZeroMQ sockets, lifecycle, the gateway protocol and its client
    ("app/exchange",  # the simulated exchange process
     "app/gateway",   # the gateway process and its broker adapters
     "app/strategy",  # the strategy process
     "app/executor"), # the executor process: peers, none includes another
    "app/launch",     # supervisor, process topology, aftm run
    "usecase",        # what the menu and the subcommands do
    "cli",            # the menu and the subcommands
    "",               # src/main.c
]
RANK = {}
for i, layer in enumerate(LAYERS):
    for name in (layer if isinstance(layer, tuple) else (layer,)):
        RANK[name] = i
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "src"
    errors = []
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith((".c", ".h", ".cpp")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            own = os.path.dirname(rel)
            if own not in RANK:
                errors.append("%s: folder src/%s has no layer in scripts/check_layers.py" % (path, own))
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    if "/" not in target:
                        continue  # a header beside the file
                    tdir = os.path.dirname(target)
                    if tdir not in RANK:
                        errors.append("%s:%d: includes %s from no known layer" % (path, lineno, target))
                    elif tdir != own and RANK[tdir] >= RANK[own]:
                        errors.append("%s:%d: src/%s includes %s, which is not below it"
                                      % (path, lineno, own or ".", target))
    for e in errors:
        print(e)
    if errors:
        print("layering: %d include(s) break the rule (lower folders never include higher ones)"
              % len(errors))
        return 1
    print("layering: every include points downward (%d layers)" % len(LAYERS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
