#!/usr/bin/env bash
# `advocacyd forget --employee -` with malformed standard input. A line
# with a NUL byte (as UTF-16 text has), a line longer than 1024 bytes and an
# empty line must each exit 2 with an error about the id. That happens
# before any Kafka or Redis step runs. A cut-off id would erase a different person, so no
# input may be shortened silently. The config file does not exist, which
# also shows that the id is checked before the config is read.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

bin=$(lib_bin advocacyd)
work=$LIB_TMP

# Runs forget with the file INPUT on stdin; fails unless it exits 2 and its
# error output contains EXPECTED. WHAT names the case.
expect_rejected() {
	local input=$1 expected=$2 what=$3 status=0
	"$bin" forget --config "$work/absent.yaml" --employee - --request-id T-1 \
		<"$input" >"$work/out" 2>"$work/err" || status=$?
	lib_assert_eq 2 "$status" "forget exit status for $what"
	grep -qF -- "$expected" "$work/err" ||
		lib_fail "forget error for $what does not contain '$expected': $(cat "$work/err")"
	[ ! -s "$work/out" ] || lib_fail "forget printed a summary for $what: $(cat "$work/out")"
}

printf 'emp-0001\0tail\n' >"$work/nul"
expect_rejected "$work/nul" "byte 9 is a control character" "an id with a NUL byte"

printf 'e\0m\0p\0-\x001\0\n\0' >"$work/utf16"
expect_rejected "$work/utf16" "byte 2 is a control character" "a UTF-16LE id"

head -c 2000 /dev/zero | tr '\0' x >"$work/long"
printf '\n' >>"$work/long"
expect_rejected "$work/long" "employee id must have 1 to 1024 bytes, got 2000" "a 2000-byte id"

head -c 1025 /dev/zero | tr '\0' x >"$work/long1025"
expect_rejected "$work/long1025" "employee id must have 1 to 1024 bytes, got 1025" \
	"a 1025-byte id without a line end"

printf '\r\n' >"$work/empty"
expect_rejected "$work/empty" "employee id must have 1 to 1024 bytes, got 0" "an empty line"

: >"$work/none"
expect_rejected "$work/none" "no line on standard input" "empty standard input"

# A valid id with CRLF gets past the id check and fails only at the config.
printf 'emp-0001\r\n' >"$work/crlf"
status=0
"$bin" forget --config "$work/absent.yaml" --employee - <"$work/crlf" 2>"$work/err" || status=$?
lib_assert_eq 2 "$status" "forget exit status for a CRLF id and a missing config"
grep -qF "absent.yaml" "$work/err" ||
	lib_fail "forget with a CRLF id did not reach the config: $(cat "$work/err")"
lib_log "forget standard input test passed"
