#!/usr/bin/env bash
# Puts promtool, the checker of Prometheus metrics text, into .deps/bin/ of
# the repository, where tests/ops/10-metrics.sh looks for it first.
#
# Installing Debian's prometheus package would also enable and start a
# Prometheus server, so this downloads the package with `apt-get download`
# and extracts only usr/bin/promtool with `dpkg-deb -x`. Does nothing when
# .deps/bin/promtool is already there. Needs apt (Debian 12) and network
# access to its mirror; runs `apt-get update` once when the download fails
# because the package lists are missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$root/.deps/bin/promtool

[ -x "$dest" ] && exit 0

work=$(mktemp -d "${TMPDIR:-/tmp}/advocacy-promtool.XXXXXX")
trap 'rm -rf "$work"' EXIT

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)

echo "install-promtool: downloading the prometheus package for its promtool" >&2
# apt-get download writes into the current directory. As root it warns
# that the _apt user cannot write there, which is harmless.
if ! (cd "$work" && apt-get download -qq prometheus 2>/dev/null); then
	"${sudo_cmd[@]}" apt-get update -qq
	(cd "$work" && apt-get download -qq prometheus 2>/dev/null) || {
		echo "install-promtool: apt-get download prometheus failed; check the apt sources" >&2
		exit 1
	}
fi

deb=$(ls "$work"/prometheus_*.deb)
dpkg-deb -x "$deb" "$work/root"
[ -x "$work/root/usr/bin/promtool" ] || {
	echo "install-promtool: $deb contains no usr/bin/promtool" >&2
	exit 1
}
mkdir -p "$(dirname "$dest")"
install -m 755 "$work/root/usr/bin/promtool" "$dest"
echo "install-promtool: installed $dest ($("$dest" --version 2>&1 | head -n 1))" >&2
