# tests/live/lib_live.sh - helpers of the browser tests (sourced after tests/lib.sh).
#
# live_start ORIGIN starts tests/live/driver.mjs as a bash coprocess: node
# with playwright-core, driving Debian's /usr/bin/chromium headless with a
# fresh profile in LIB_TMP. live_do sends it one command and prints the
# value of its reply; the live_expect_* helpers fail the test with what the
# page showed. Only one driver runs at a time (bash has one coprocess),
# named LIVE_DRIVER; LIVE_BROWSER_PID is its process id.
#
# The driver records every request the pages make; live_check_origin fails
# the test when one went anywhere but ORIGIN. Commands are the ones listed
# in driver.mjs; their arguments must not contain tabs or newlines. Call
# live_do in the test's shell or in a command substitution, never in a
# pipeline: bash gives the coprocess's descriptors to no other subshell.

LIVE_SOURCE_DIR=$ADVOCACY_SOURCE_DIR/tests/live
LIVE_REPLY_TIMEOUT_S=60

# Fails unless chromium, node and playwright-core are installed.
live_require() {
	[ -x /usr/bin/chromium ] ||
		lib_fail "/usr/bin/chromium not found; run scripts/install-deps.sh (Debian package chromium)"
	command -v node >/dev/null ||
		lib_fail "node not found; run scripts/install-deps.sh"
	[ -f "$LIVE_SOURCE_DIR/node_modules/playwright-core/package.json" ] ||
		lib_fail "$LIVE_SOURCE_DIR/node_modules/playwright-core missing; run scripts/install-deps.sh"
}

# Starts the driver for pages served at ORIGIN (http://127.0.0.1:PORT).
live_start() {
	local origin=$1 profile
	live_require
	profile=$(mktemp -d "$LIB_TMP/chromium-profile.XXXXXX")
	coproc LIVE_DRIVER { exec node "$LIVE_SOURCE_DIR/driver.mjs" --origin "$origin" --profile "$profile" 2>"$LIB_TMP/driver.log"; }
	# Bash unsets LIVE_DRIVER_PID when the coprocess exits: keep a copy.
	LIVE_BROWSER_PID=$LIVE_DRIVER_PID
	lib_track "$LIVE_BROWSER_PID"
	# Opens the first tab; this also waits for chromium to start.
	live_do new_page 1280 900 >/dev/null ||
		lib_fail "the browser driver did not start: $(tail -n 20 "$LIB_TMP/driver.log")"
}

# Sends COMMAND ARGS... to the driver and prints the reply's value. Returns
# 1, with the driver's error on stderr, when the command failed.
live_do() {
	local line=$1 status value arg
	for arg in "${@:2}"; do
		[[ $arg != *$'\t'* && $arg != *$'\n'* ]] ||
			lib_fail "live_do $1: an argument contains a tab or a newline"
		line+=$'\t'$arg
	done
	# Not in a subshell: bash passes coprocess descriptors to command
	# substitutions only.
	printf '%s\n' "$line" >&"${LIVE_DRIVER[1]}"
	IFS= read -r -t "$LIVE_REPLY_TIMEOUT_S" line <&"${LIVE_DRIVER[0]}" ||
		lib_fail "no reply from the browser driver to '$1' within $LIVE_REPLY_TIMEOUT_S s: $(tail -n 20 "$LIB_TMP/driver.log")"
	status=${line%%$'\t'*}
	value=${line#*$'\t'}
	if [ "$status" != ok ]; then
		echo "live: $1: $value" >&2
		return 1
	fi
	printf '%s\n' "$value"
}

# Like live_do, but fails the test when the command fails.
live_must() {
	live_do "$@" || lib_fail "browser command '$*' failed"
}

# Fails unless the trimmed text of SEL becomes TEXT within TIMEOUT_MS
# (default 10000). Prints the browser's clock (ms) when it did.
live_expect_text() {
	local sel=$1 text=$2 timeout_ms=${3:-10000}
	live_do wait_text "$sel" "$text" "$timeout_ms" ||
		lib_fail "the page does not show '$text' in $sel"
}

# Fails unless attribute NAME of SEL becomes VALUE within 10 s.
live_expect_attr() {
	local sel=$1 name=$2 value=$3
	live_do wait_attr "$sel" "$name" "$value" 10000 >/dev/null ||
		lib_fail "$sel: attribute $name is not '$value'"
}

# Fails when a page requested anything from another origin than ORIGIN.
live_check_origin() {
	local report foreign
	report=$(live_must requests)
	foreign=$(python3 -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])["foreign"]))' "$report")
	[ -z "$foreign" ] || lib_fail "the page requested other origins: $foreign"
}

# Fails when a page raised an uncaught error or violated its
# Content-Security-Policy.
live_check_errors() {
	local errors
	errors=$(live_must errors)
	[ "$errors" = "[]" ] || lib_fail "page errors: $errors"
}

# Closes the browser and waits for the driver to exit.
live_stop() {
	[ -n "${LIVE_BROWSER_PID:-}" ] || return 0
	echo quit >&"${LIVE_DRIVER[1]}" 2>/dev/null || true
	lib_wait_for "! kill -0 $LIVE_BROWSER_PID" 10 ||
		lib_log "the browser driver did not quit within 10 s; stopping it"
	lib_stop "$LIVE_BROWSER_PID" || true
	LIVE_BROWSER_PID=
}
