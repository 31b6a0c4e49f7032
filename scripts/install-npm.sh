#!/usr/bin/env bash
# Installs the npm packages of one folder of the repository (given relative
# to the repository root, e.g. tests/live) into DIR/node_modules with
# `npm ci`, from the committed DIR/package.json and DIR/package-lock.json.
#
# Does nothing when DIR/node_modules was installed from the current lock
# file: a copy of the lock taken after a successful install
# (node_modules/.installed-lock.json) is compared with it. Installs Debian's
# nodejs and npm when the npm command is missing. Never downloads a browser:
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 is set and package scripts are not run,
# because the browser tests use Debian's /usr/bin/chromium.
#
# When DIR/package-lock.json is missing (removed to move to newer versions),
# creates it with `npm install --package-lock-only`; commit the new file.
set -euo pipefail

usage() {
	echo "usage: scripts/install-npm.sh DIR  (DIR relative to the repository root, e.g. tests/live)" >&2
}

[ $# -eq 1 ] || { usage; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$root/$1
stamp=$dir/node_modules/.installed-lock.json

[ -f "$dir/package.json" ] || {
	echo "install-npm: $dir/package.json not found; pass a folder that has one" >&2
	exit 2
}

if ! command -v npm >/dev/null 2>&1; then
	echo "install-npm: installing nodejs npm" >&2
	sudo_cmd=()
	[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	"${sudo_cmd[@]}" apt-get update -qq
	"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm_flags=(--ignore-scripts --no-audit --no-fund --loglevel=error)

if [ ! -f "$dir/package-lock.json" ]; then
	echo "install-npm: $1/package-lock.json missing; creating it (commit it)" >&2
	(cd "$dir" && npm install --package-lock-only "${npm_flags[@]}" >/dev/null)
fi

if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
	exit 0
fi

echo "install-npm: npm ci in $1" >&2
(cd "$dir" && npm ci "${npm_flags[@]}" >/dev/null)
cp "$dir/package-lock.json" "$stamp"
