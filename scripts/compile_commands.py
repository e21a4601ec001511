#!/usr/bin/env python3
"""Writes a compilation database (compile_commands.json) to stdout.
usage: compile_commands.py "COMPILER AND FLAGS" FILE...   (run from the project root)"""
import json
import os
import shlex
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__)
base = shlex.split(sys.argv[1])
root = os.getcwd()
entries = [{"directory": root, "file": f, "arguments": base + ["-c", f, "-o", "/dev/null"]}
           for f in sys.argv[2:]]
json.dump(entries, sys.stdout, indent=1)
sys.stdout.write("\n")
