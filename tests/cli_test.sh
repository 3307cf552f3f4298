#!/bin/sh
# CLI tests: exit codes, help, overrides, JSON output and its determinism, and
# that outputs never overwrite inputs. Usage: cli_test.sh PATH/TO/archsim
set -u
bin=${1:?usage: cli_test.sh ARCHSIM}
root=${ARCHSIM_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }

# expect_exit CODE NAME CMD...: runs CMD, output to $tmp/out and $tmp/err.
expect_exit() {
	want=$1 name=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name"; else
		fail "$name (exit $got, wanted $want)"; sed 's/^/    /' "$tmp/err" | head -5; fi
}

expect_grep() { # expect_grep NAME PATTERN FILE
	if grep -q -- "$2" "$3"; then ok "$1"; else fail "$1 (no '$2' in $3)"; sed 's/^/    /' "$3" | head -5; fi
}

expect_exit 0 "help" "$bin" --help
expect_grep "help lists run" "run FILE" "$tmp/out"
expect_exit 0 "version" "$bin" --version
expect_grep "version text" "archsim " "$tmp/out"
expect_exit 2 "no arguments" "$bin"
expect_exit 2 "unknown command" "$bin" frobnicate
expect_grep "unknown command named" "unknown command 'frobnicate'" "$tmp/err"
expect_exit 0 "run --help" "$bin" run --help
expect_grep "run help lists --json" "--json FILE" "$tmp/out"
expect_exit 0 "check --help" "$bin" check --help
expect_exit 2 "run without file" "$bin" run
expect_exit 2 "run unknown option" "$bin" run --bogus tests/data/small.yaml
expect_exit 2 "bad --seed" "$bin" run --seed -4 tests/data/small.yaml
expect_exit 2 "bad --duration" "$bin" run --duration 20 tests/data/small.yaml
expect_grep "--duration wants a unit" "with a unit" "$tmp/err"
expect_exit 2 "missing file" "$bin" check tests/data/no-such-file.yaml
expect_grep "missing file named" "no-such-file.yaml" "$tmp/err"

expect_exit 0 "check valid" "$bin" check tests/data/small.yaml
expect_exit 0 "run meets SLOs" "$bin" run tests/data/small.yaml
expect_grep "summary has p99" "p99" "$tmp/out"
expect_grep "summary has SLO verdicts" "every SLO holds" "$tmp/out"
expect_exit 1 "run fails an SLO" "$bin" run tests/data/slo-fail.yaml
expect_grep "failed SLO shown" "FAILED" "$tmp/out"
expect_exit 0 "quiet run" "$bin" run -q tests/data/small.yaml
if [ -s "$tmp/out" ]; then fail "quiet prints nothing"; else ok "quiet prints nothing"; fi

# JSON: the contract keys, byte-identical reruns, another seed differs.
expect_exit 0 "json run 1" "$bin" run -q --json "$tmp/a.json" tests/data/small.yaml
expect_exit 0 "json run 2" "$bin" run -q --json "$tmp/b.json" tests/data/small.yaml
expect_exit 0 "json other seed" "$bin" run -q --seed 12 --json "$tmp/c.json" tests/data/small.yaml
if cmp -s "$tmp/a.json" "$tmp/b.json"; then ok "same seed, identical JSON"; else fail "same seed, identical JSON"; fi
if cmp -s "$tmp/a.json" "$tmp/c.json"; then fail "another seed differs"; else ok "another seed differs"; fi
for key in '"scenario"' '"seed"' '"replications"' '"duration_s"' '"warmup_s"' '"events"' \
	'"requests"' '"succeeded"' '"failed"' '"availability"' '"latency_ms"' '"p999"' \
	'"throughput_rps"' '"retry_amplification"' '"failures"' '"unreachable"' '"components"' \
	'"utilization"' '"queue_mean"' '"invariants"' '"stale_reads"' '"slo"' '"ok"'; do
	expect_grep "json has $key" "$key" "$tmp/a.json"
done
expect_grep "json seed override" '"seed": 12' "$tmp/c.json"
if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/a.json" 2>/dev/null; then
	ok "json parses"; else fail "json parses"; fi
expect_exit 0 "duration override" "$bin" run -q --duration 5s --json "$tmp/d.json" tests/data/small.yaml
expect_grep "duration override applied" '"duration_s": 5' "$tmp/d.json"

# Nothing a user wrote is overwritten.
cp tests/data/small.yaml "$tmp/mine.yaml"
expect_exit 2 "json over the input refused" "$bin" run -q --json "$tmp/mine.yaml" "$tmp/mine.yaml"
if cmp -s tests/data/small.yaml "$tmp/mine.yaml"; then ok "input untouched"; else fail "input untouched"; fi

# Bad input: a compiler-style diagnostic and exit 2.
printf 'name: x\nduration: 10s\ncomponents:\n  u: {kind: client, rate: 10/s, target: nowhere}\n' >"$tmp/bad.yaml"
expect_exit 2 "dangling target" "$bin" check "$tmp/bad.yaml"
expect_grep "diagnostic has file:line:col" "bad.yaml:4:" "$tmp/err"
expect_grep "diagnostic names the target" "unknown component 'nowhere'" "$tmp/err"

# Replications, time series, plots and compare.
expect_exit 0 "run --help again" "$bin" run --help
expect_grep "run help lists --reps" "--reps N" "$tmp/out"
expect_grep "run help lists --plot" "--plot DIR" "$tmp/out"
expect_exit 2 "bad --reps" "$bin" run --reps 0 tests/data/small.yaml
expect_exit 2 "bad -j" "$bin" run -j x tests/data/small.yaml
expect_exit 2 "bad --window" "$bin" run --window 5 tests/data/small.yaml
expect_exit 0 "reps serial" "$bin" run -q --reps 4 --json "$tmp/r1.json" tests/data/small.yaml
expect_exit 0 "reps parallel" "$bin" run -q --reps 4 -j 3 --json "$tmp/r3.json" tests/data/small.yaml
if cmp -s "$tmp/r1.json" "$tmp/r3.json"; then ok "-j output identical"; else fail "-j output identical"; fi
expect_grep "reps give intervals" '"ci95": \[' "$tmp/r1.json"
expect_grep "replications counted" '"replications": 4' "$tmp/r1.json"
expect_exit 0 "options after FILE" "$bin" run tests/data/small.yaml -q --window 2s --out "$tmp/series"
rows=$(($(wc -l <"$tmp/series/series.csv") - 1))
if [ "$rows" -eq 10 ]; then ok "20s in 2s windows: 10 rows"; else fail "20s in 2s windows: 10 rows (got $rows)"; fi
expect_grep "series header" "^t_start_s,t_end_s,warmup," "$tmp/series/series.csv"
expect_grep "faults header" "^start_s,end_s,label" "$tmp/series/faults.csv"
expect_grep "cdf header" "^latency_ms,fraction" "$tmp/series/cdf.csv"
if cmp -s "$tmp/a.json" "$tmp/series/results.json"; then ok "--out results equal --json"; else
	fail "--out results equal --json"; fi
# Without gnuplot the data is still written and the exit code is the run's.
expect_exit 1 "plot without gnuplot keeps exit code" env PATH=/nonexistent "$bin" run -q \
	tests/data/slo-fail.yaml --plot "$tmp/noplot"
expect_grep "missing gnuplot named" "apt-get install gnuplot-nox" "$tmp/err"
if [ -s "$tmp/noplot/series.csv" ]; then ok "data written without gnuplot"; else fail "data written without gnuplot"; fi
if command -v gnuplot >/dev/null 2>&1; then
	expect_exit 0 "plot verb" "$bin" plot "$tmp/series"
	if [ -s "$tmp/series/latency.png" ] && [ -s "$tmp/series/latency.svg" ]; then
		ok "plots written"; else fail "plots written"; fi
fi
expect_exit 2 "plot without data" "$bin" plot "$tmp/nothing-here"
expect_exit 0 "compare --help" "$bin" compare --help
expect_exit 2 "compare needs two files" "$bin" compare tests/data/small.yaml
expect_exit 0 "compare with itself" "$bin" compare --reps 3 tests/data/small.yaml tests/data/small.yaml
expect_grep "compare verdict" "no significant difference" "$tmp/out"
expect_exit 1 "compare breaks candidate SLO" "$bin" compare --reps 3 tests/data/small.yaml \
	tests/data/slo-fail.yaml
expect_exit 1 "compare markdown" "$bin" compare --reps 3 --format markdown tests/data/small.yaml \
	tests/data/slo-fail.yaml
expect_grep "markdown table" "^| metric | base | candidate" "$tmp/out"
expect_exit 1 "compare junit" "$bin" compare --reps 3 --format junit tests/data/small.yaml \
	tests/data/slo-fail.yaml
expect_grep "junit failure" "<failure message=" "$tmp/out"
expect_exit 2 "compare bad threshold" "$bin" compare --max-regression p95=lots \
	tests/data/small.yaml tests/data/small.yaml

# Resource limits: a run stopped at one reports what it had, says why, exits 1.
expect_exit 1 "--max-events stops the run" "$bin" run --max-events 1000 --json "$tmp/lim.json" \
	tests/data/small.yaml
expect_grep "stop reason on stderr" "stopped early: event limit reached" "$tmp/err"
expect_grep "stop reason in the summary" "WARNING: the run stopped early, at" "$tmp/out"
expect_grep "stop reason in the JSON" '"stopped": "event limit reached"' "$tmp/lim.json"
expect_exit 2 "bad --max-events" "$bin" run --max-events 0 tests/data/small.yaml
expect_grep "--max-events wants a number" "max-events needs a whole number" "$tmp/err"

# Outputs: no temporary file left behind; no output over an input, by any path.
if ls "$tmp" | grep -q '\.tmp'; then fail "no temporary files left"; else ok "no temporary files left"; fi
mkdir -p "$tmp/in"
cp tests/data/small.yaml "$tmp/in/results.json"
expect_exit 2 "--out over the input refused" "$bin" run -q --out "$tmp/in" "$tmp/in/results.json"
expect_grep "--out refusal named" "refusing to write" "$tmp/err"
if cmp -s tests/data/small.yaml "$tmp/in/results.json"; then ok "input untouched by --out"; else
	fail "input untouched by --out"; fi
ln -s "$tmp/mine.yaml" "$tmp/link.json"
expect_exit 2 "--json through a symlink to the input refused" "$bin" run -q --json "$tmp/link.json" \
	"$tmp/mine.yaml"
if cmp -s tests/data/small.yaml "$tmp/mine.yaml"; then ok "input untouched via symlink"; else
	fail "input untouched via symlink"; fi
expect_exit 2 "compare --output over an input refused" "$bin" compare --reps 2 \
	--output "$tmp/mine.yaml" tests/data/small.yaml "$tmp/mine.yaml"
if cmp -s tests/data/small.yaml "$tmp/mine.yaml"; then ok "input untouched by compare"; else
	fail "input untouched by compare"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
