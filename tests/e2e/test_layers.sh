#!/usr/bin/env bash
# The layering rule holds on src/, and the check really fails on an include that points upward
# (domain including the CLI) and on one between two process folders (executor including gateway).
set -u
fail() { echo "FAIL: $*"; exit 1; }
python3 scripts/check_layers.py src || fail "src/ breaks the layering rule"

tmp=$(mktemp -d /tmp/aftm-layers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
plant() { # file, include: copy src, plant the include, expect the check to name it
  rm -rf "$tmp/src"; cp -r src "$tmp/src"
  [ -f "$tmp/src/$1" ] || fail "src/$1 does not exist: plant into a real file"
  echo "#include \"$2\"" >>"$tmp/src/$1"
  out=$(python3 scripts/check_layers.py "$tmp/src") && fail "planted '$2' in $1 passed the check"
  echo "$out" | grep -q "src/$1:.*$2" || fail "the check did not name $1 including $2: $out"
  echo "refused as expected: $(echo "$out" | head -1)"
}
plant domain/strategy.c cli/commands.h
plant app/executor/executor_core.c app/gateway/gateway.h
plant core/log.c store/db.h
echo "layering check ok"
