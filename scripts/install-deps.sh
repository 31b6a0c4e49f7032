#!/usr/bin/env bash
# Install the Debian 12 packages that advocacyd builds, tests and demos with.
# Does nothing when every package is already present; otherwise runs apt-get
# (as root, or through sudo when available). Then fetches promtool into
# .deps/bin/ unless it is there (scripts/install-promtool.sh), and installs
# the live view's npm packages into web/node_modules with `npm ci` unless
# they match web/package-lock.json already (CMake embeds them at build time).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  librdkafka-dev libavro-dev libhiredis-dev libevent-dev libssl-dev
  libyaml-dev libjansson-dev libcmocka-dev
  redis-server redis-tools kcat python3 curl
  python3-yaml groff-base man-db systemd nodejs
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

# The live view's charting library, from the npm registry. Debian's nodejs
# package brings node; npm comes with it or as Debian's npm package.
if ! command -v npm >/dev/null; then
	echo "install-deps: installing npm" >&2
	"${sudo_cmd[@]}" apt-get update -qq
	"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
web=$(cd "$(dirname "${BASH_SOURCE[0]}")/../web" && pwd)
# A copy of the lock file, kept after a successful install, tells whether
# web/node_modules still matches it.
stamp=$web/node_modules/.advocacyd-installed-lock
if ! cmp -s "$web/package-lock.json" "$stamp" 2>/dev/null; then
	echo "install-deps: installing web/ npm packages (npm ci)" >&2
	(cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
	cp "$web/package-lock.json" "$stamp"
fi
