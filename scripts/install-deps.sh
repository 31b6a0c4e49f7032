#!/usr/bin/env bash
# Install the Debian 12 packages that advocacyd builds, tests and demos with.
# Does nothing when every package is already present; otherwise runs apt-get
# (as root, or through sudo when available). Then fetches promtool into
# .deps/bin/ unless it is there (scripts/install-promtool.sh), and installs
# the npm packages of the live view (web/node_modules, embedded by CMake at
# build time) and of the browser tests (tests/live/node_modules) with
# scripts/install-npm.sh, which does nothing when they match their lock files.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  librdkafka-dev libavro-dev libhiredis-dev libevent-dev libssl-dev
  libyaml-dev libjansson-dev libcjson-dev libcmocka-dev
  redis-server redis-tools kcat python3 curl
  python3-yaml groff-base man-db systemd nodejs
  chromium
  # clang and its libFuzzer and sanitizer runtimes, for tests/fuzz/
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian package starts a system redis-server on port 6379; the project
  # starts its own on free loopback ports and never uses that one.
fi

"$(dirname "${BASH_SOURCE[0]}")/install-promtool.sh"
"$(dirname "${BASH_SOURCE[0]}")/install-npm.sh" web
"$(dirname "${BASH_SOURCE[0]}")/install-npm.sh" tests/live
