#!/usr/bin/env bash
# Installs the dependencies, builds advocacyd twice and runs every test.
# build/ is RelWithDebInfo with warnings as errors. build-fuzz/ (clang)
# contains the libFuzzer harnesses, each run for a short time by
# tests/fuzz/run.sh after build/'s tests. build-sanitize/ adds
# AddressSanitizer with leak checks and UndefinedBehaviorSanitizer, which
# halts on the first error. Each build runs its unit, integration and
# fault tests through ctest, two at a time (fault tests one at a time);
# build/ also runs the quick benchmark guard (tests/bench/guard.sh, label
# bench) alone. The script prints a summary and exits non-zero when any
# step fails.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tests/run.sh [--quick] [--no-sanitize] [--no-fuzz]

Installs missing Debian packages (scripts/install-deps.sh), builds build/ and
build-sanitize/ and runs the unit, integration and fault tests in each with
ctest.

  --quick        run only the unit tests (ctest label "unit")
  --no-sanitize  skip the sanitizer build
  --no-fuzz      skip the fuzz build and its bounded fuzzing run (skipped
                 with --quick too)
  -h, --help     show this help and exit

Set JOBS to change the build and test parallelism (default 2) and
FUZZ_SECONDS the fuzzing time per harness (default 12).
EOF
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0
sanitize=1
fuzz=1
jobs=${JOBS:-2}

for arg in "$@"; do
	case $arg in
	--quick) quick=1 ;;
	--no-sanitize) sanitize=0 ;;
	--no-fuzz) fuzz=0 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "tests/run.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
	esac
done

results=()
fuzz_results=()
failed=0

# Records the outcome of one step: NAME STATUS SECONDS.
record() {
	local verdict=PASS
	if [ "$2" -ne 0 ]; then
		verdict=FAIL
		failed=1
	fi
	results+=("$(printf '%-32s %s  (%ds)' "$1" "$verdict" "$3")")
}

# Runs a step, recording its outcome; returns its status.
step() {
	local name=$1 start=$SECONDS status=0
	shift
	echo "==> $name" >&2
	"$@" || status=$?
	record "$name" "$status" $((SECONDS - start))
	return "$status"
}

# Configures, builds and tests one build directory: DIR [CMAKE ARGS...].
build_and_test() {
	local dir=$1
	shift
	local ctest_args=(--output-on-failure -j"$jobs")
	[ "$quick" = 1 ] && ctest_args+=(-L unit)

	step "$dir: configure" cmake -S "$root" -B "$root/$dir" "$@" || return 0
	step "$dir: build" cmake --build "$root/$dir" -j"$jobs" || return 0
	step "$dir: ctest" ctest --test-dir "$root/$dir" "${ctest_args[@]}" || true
}

step "install dependencies" "$root/scripts/install-deps.sh" || {
	echo "tests/run.sh: dependencies missing; see the output above" >&2
	exit 1
}

build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DADVOCACY_WERROR=ON

if [ "$fuzz" = 1 ] && [ "$quick" = 0 ]; then
	rm -f "$root/build-fuzz/fuzz/summary.txt"
	step "build-fuzz: fuzz" "$root/tests/fuzz/run.sh" --time "${FUZZ_SECONDS:-12}" || true
	# One line per harness: its executions and time as libFuzzer reported them.
	if [ -s "$root/build-fuzz/fuzz/summary.txt" ]; then
		mapfile -t fuzz_results <"$root/build-fuzz/fuzz/summary.txt"
	fi
fi

if [ "$sanitize" = 1 ]; then
	# Exported for the tests of the sanitizer build only; set after build/ ran.
	export ASAN_OPTIONS=detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
	build_and_test build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DADVOCACY_SANITIZE=ON -DADVOCACY_WERROR=ON
fi

echo
echo "Summary ($SECONDS s):"
printf '  %s\n' "${results[@]}"
if [ ${#fuzz_results[@]} -gt 0 ]; then
	echo "Fuzzing:"
	printf '  %s\n' "${fuzz_results[@]}"
fi
if [ "$failed" -ne 0 ]; then
	echo "FAILED" >&2
	exit 1
fi
echo "All steps passed."
