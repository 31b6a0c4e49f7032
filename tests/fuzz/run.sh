#!/usr/bin/env bash
# Builds the libFuzzer harnesses in build-fuzz/ with clang and runs each one:
# first over its whole seed corpus at full size (multi-megabyte seeds
# included), then fuzzing for a bounded time. Fails on a crash, a failed
# invariant, a leak, a timeout or running out of memory; libFuzzer then
# saves the input under build-fuzz/fuzz/artifacts/. Prints one line per
# harness with the executions and time libFuzzer reports, and writes the
# same lines to build-fuzz/fuzz/summary.txt. tests/run.sh calls it with a
# short time; run it by hand with a longer one for soak fuzzing.
set -euo pipefail

usage() {
	cat <<'EOF_USAGE'
Usage: tests/fuzz/run.sh [--time SECONDS] [--only HARNESS] [--no-build]

Configures and builds build-fuzz/ (clang, -DADVOCACY_FUZZ=ON), writes the
seed corpora with tests/fuzz/make_seeds.py and runs every harness.

  --time SECONDS   fuzzing time per harness (default 12); e.g. 600 for a soak
  --only HARNESS   run only this harness, e.g. fuzz_decode_slack
  --no-build       use the harnesses already built in build-fuzz/
  -h, --help       show this help and exit

Set JOBS to change the build parallelism (default 2). The corpus each run
grows is kept in build-fuzz/fuzz/corpus/<harness>/ and reused next time.
EOF_USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/build-fuzz
jobs=${JOBS:-2}
seconds=12
only=
do_build=1

while [ $# -gt 0 ]; do
	case $1 in
	--time) seconds=${2:?--time needs a number of seconds}; shift ;;
	--only) only=${2:?--only needs a harness name}; shift ;;
	--no-build) do_build=0 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "tests/fuzz/run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
case $seconds in
'' | *[!0-9]*) echo "tests/fuzz/run.sh: --time takes whole seconds, got '$seconds'" >&2; exit 2 ;;
esac

# Maximum length of a generated input per harness. Seeds run at full size anyway.
max_len_of() {
	case $1 in
	fuzz_decode_avro) echo 16384 ;; # a datum at every limit is about 10 KiB
	fuzz_decode_avro_resolved) echo 16384 ;;
	*) echo 65536 ;;
	esac
}

if [ "$do_build" = 1 ]; then
	if ! command -v clang >/dev/null; then
		echo "tests/fuzz/run.sh: clang not found; run scripts/install-deps.sh" >&2
		exit 1
	fi
	cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DADVOCACY_FUZZ=ON -DADVOCACY_WERROR=ON >/dev/null
	cmake --build "$build" --target fuzzers -j"$jobs"
fi

work=$build/fuzz
mkdir -p "$work/artifacts" "$work/corpus" "$work/logs"
python3 "$root/tests/fuzz/make_seeds.py" "$work/seeds" \
	--realworld "${ADVOCACY_REALWORLD_DIR:-$root/../shared/data/realworld}"

harnesses=()
for exe in "$build"/tests/fuzz/fuzz_*; do
	[ -x "$exe" ] || continue
	name=$(basename "$exe")
	[ -z "$only" ] || [ "$name" = "$only" ] && harnesses+=("$name")
done
if [ ${#harnesses[@]} -eq 0 ]; then
	echo "tests/fuzz/run.sh: no harness${only:+ named $only} in $build/tests/fuzz; build it first" >&2
	exit 1
fi

# Limits for every run: a 512 MB process, no single allocation above 256 MB,
# 10 s per input. A decoder must stay far below them.
limits=(-rss_limit_mb=512 -malloc_limit_mb=256 -timeout=10)

# Runs one harness; prints its summary line. Returns libFuzzer's status.
run_harness() {
	local name=$1 exe=$build/tests/fuzz/$1 log=$work/logs/$1.log
	local seeds=$work/seeds/$1 corpus=$work/corpus/$1 status=0
	mkdir -p "$corpus"

	# Every seed once, at full size: the multi-megabyte ones exceed max_len.
	"$exe" "${limits[@]}" "$seeds"/* >"$log.seeds" 2>&1 || status=$?
	if [ "$status" -ne 0 ]; then
		printf '%-20s FAIL on a seed (exit %d); see %s\n' "$name" "$status" "$log.seeds"
		grep -E '^(Running:|fuzz_|SUMMARY|==[0-9]+==ERROR)' "$log.seeds" | tail -3 | sed 's/^/    /'
		return "$status"
	fi

	local dict=()
	[ -s "$work/seeds/$name.dict" ] && dict=(-dict="$work/seeds/$name.dict")
	"$exe" "$corpus" "$seeds" "${dict[@]}" "${limits[@]}" -max_len="$(max_len_of "$name")" \
		-max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/$name-" >"$log" 2>&1 || status=$?

	local runs secs
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	if [ "$status" -ne 0 ]; then
		printf '%-20s FAIL (exit %d) after %s runs; see %s and %s\n' "$name" "$status" \
			"${runs:-?}" "$log" "$work/artifacts/"
		grep -E '^(fuzz_|SUMMARY|==[0-9]+==ERROR)' "$log" | head -3 | sed 's/^/    /'
		return "$status"
	fi
	printf '%-20s %10s executions in %s s, corpus %s files\n' "$name" "${runs:-?}" \
		"${secs:-?}" "$(find "$corpus" -type f | wc -l)"
}

failed=0
: >"$work/summary.txt"
for name in "${harnesses[@]}"; do
	echo "==> $name (${seconds}s)" >&2
	run_harness "$name" | tee -a "$work/summary.txt" || failed=1
done
exit "$failed"
