#!/usr/bin/env bash
# Installs the Debian packages aftm builds, tests and runs with, when missing.
set -euo pipefail
PACKAGES=(
  build-essential pkg-config
  libzmq3-dev libmsgpack-dev libsqlite3-dev libjansson-dev libcairo2-dev libinih-dev libzip-dev
  libcmocka-dev
  g++ libquickfix-dev libquickfix-doc
  python3 python3-zmq python3-msgpack
  valgrind tmux procps unzip
  iproute2
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
