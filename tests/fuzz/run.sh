#!/bin/sh
# Runs the scenario fuzzer for SECONDS (default 600) on JOBS processes
# (default 1), seeded with every scenario in the tree and the dictionary of
# scenario keys. Crashes land in BUILD/fuzz-artifacts/.
# Usage: tests/fuzz/run.sh BUILD [SECONDS] [JOBS]
set -eu
build=${1:?usage: tests/fuzz/run.sh BUILD [SECONDS] [JOBS]}
secs=${2:-600}
jobs=${3:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$build" && pwd)
corpus=$build/fuzz-corpus
mkdir -p "$corpus" "$build/fuzz-artifacts"
# The seeds are copies: libFuzzer writes new inputs into the corpus dir.
find "$root/scenarios" "$root/tests/data" -name '*.yaml' -exec cp {} "$corpus/" \;
cd "$build"
# -jobs runs separate processes logging to fuzz-N.log; one job stays in front.
par=
[ "$jobs" -gt 1 ] && par="-jobs=$jobs -workers=$jobs"
# shellcheck disable=SC2086
exec "$build/tests/fuzz/fuzz_scenario" "$corpus" $par \
	-dict="$root/tests/fuzz/scenario.dict" \
	-artifact_prefix="$build/fuzz-artifacts/" \
	-max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	-max_total_time="$secs" -print_final_stats=1
