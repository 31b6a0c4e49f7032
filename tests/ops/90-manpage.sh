#!/usr/bin/env bash
# The manual page advocacyd(8). groff renders it without a warning, and it
# has every section an administrator looks for and the binary's version. It
# documents every long option and command of --help and no other. cmake
# --install puts it under share/man/man8 next to the binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

command -v groff >/dev/null || lib_fail "groff not found; run scripts/install-deps.sh"
page=$ADVOCACY_SOURCE_DIR/man/advocacyd.8
bin=$(lib_bin advocacyd)
[ -f "$page" ] || lib_fail "$page not found"

# ---------------------------------------------------------------- rendering
groff -man -Tutf8 -ww -z "$page" 2>"$LIB_TMP/groff.err" || lib_fail "groff failed on $page"
[ ! -s "$LIB_TMP/groff.err" ] || lib_fail "groff warnings for $page: $(cat "$LIB_TMP/groff.err")"

# Plain text: no bold or underline, no hyphenation and very long lines, so
# that every option stays one word.
groff -man -Tascii -P-cbou -rHY=0 -rLL=1000n "$page" 2>/dev/null >"$LIB_TMP/page.txt"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS SIGNALS 'EXIT STATUS' FILES \
	ENVIRONMENT 'SEE ALSO'; do
	grep -qx "$section" "$LIB_TMP/page.txt" || lib_fail "section $section missing from $page"
done
for signal in SIGTERM SIGINT SIGHUP; do
	grep -q "$signal" "$LIB_TMP/page.txt" || lib_fail "$page does not document $signal"
done
for code in 0 1 2 3; do
	sed -n '/^EXIT STATUS$/,/^FILES$/p' "$LIB_TMP/page.txt" | grep -q "^ *$code  " ||
		lib_fail "EXIT STATUS of $page lacks exit code $code"
done

version=$("$bin" --version | awk '{print $2}')
grep -q "^\.TH ADVOCACYD 8 .* \"advocacyd $version\"" "$page" ||
	lib_fail "the .TH line of $page does not name advocacyd $version"

# ---------------------------------------------------------------- options
"$bin" --help >"$LIB_TMP/help.txt"
long_options() { grep -o -- '--[a-z][a-z-]*[a-z]' "$1" | sort -u; }
long_options "$LIB_TMP/help.txt" >"$LIB_TMP/help.options"
long_options "$LIB_TMP/page.txt" >"$LIB_TMP/page.options"
[ "$(wc -l <"$LIB_TMP/help.options")" -ge 8 ] ||
	lib_fail "--help lists too few long options: $(xargs <"$LIB_TMP/help.options")"
if ! diff -u "$LIB_TMP/help.options" "$LIB_TMP/page.options" >"$LIB_TMP/options.diff"; then
	cat "$LIB_TMP/options.diff" >&2
	lib_fail "long options of --help (-) and of $page (+) differ"
fi
grep -q '^  forget ' "$LIB_TMP/help.txt" || lib_fail "--help does not list the forget command"
grep -q '^COMMANDS$' "$LIB_TMP/page.txt" && grep -q '^ *forget ' "$LIB_TMP/page.txt" ||
	lib_fail "$page does not document the forget command"

# Every option that --help lists is one the program accepts: an unknown
# option exits 2 with the usage, an accepted one does not complain of it.
for option in $(grep -v -e --log-format -e --help -e --version "$LIB_TMP/help.options"); do
	if "$bin" "$option" x --help 2>&1 | grep -q "unrecognized option '$option"; then
		if "$bin" forget "$option" x --help 2>&1 | grep -q "unrecognized option '$option" &&
			"$bin" backfill "$option" x --help 2>&1 | grep -q "unrecognized option '$option" &&
			"$bin" report "$option" x --help 2>&1 | grep -q "unrecognized option '$option"; then
			lib_fail "--help lists $option, which neither advocacyd, forget, backfill nor report accepts"
		fi
	fi
done

# ---------------------------------------------------------------- install
cmake --install "$ADVOCACY_BUILD_DIR" --prefix "$LIB_TMP/prefix" >/dev/null ||
	lib_fail "cmake --install failed"
cmp -s "$page" "$LIB_TMP/prefix/share/man/man8/advocacyd.8" ||
	lib_fail "cmake --install did not put advocacyd.8 under share/man/man8"
[ -x "$LIB_TMP/prefix/sbin/advocacyd" ] || lib_fail "cmake --install did not install sbin/advocacyd"
