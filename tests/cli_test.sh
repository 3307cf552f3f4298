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

expect_same() { # expect_same NAME FILE OTHER: the two are byte-identical
	if cmp -s "$2" "$3"; then ok "$1"; else fail "$1 ($2 and $3 differ)"; fi
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
# Options that override a file value are read as the file's value is: same
# bounds, same message (a 1000-day run would otherwise start and run for hours).
expect_exit 2 "--duration beyond the file's bound" "$bin" run --duration 1000d tests/data/small.yaml
expect_grep "--duration bound named" "<--duration>: error: 'duration' must be between 1ms and 366d, got '1000d'" "$tmp/err"
expect_exit 2 "--duration bound on compare" "$bin" compare --duration 400d tests/data/small.yaml \
	tests/data/small.yaml
expect_exit 2 "--duration bound on sweep" "$bin" sweep --duration 400d --set users.rate=1000,2000 \
	tests/data/small.yaml
expect_exit 2 "--window beyond the file's bound" "$bin" run --window 400d tests/data/small.yaml
expect_grep "--window bound named" "<--window>: error: 'window' must be between 1ms and 366d, got '400d'" "$tmp/err"
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
expect_same "same seed, identical JSON" "$tmp/b.json" "$tmp/a.json"
if cmp -s "$tmp/a.json" "$tmp/c.json"; then fail "another seed differs"; else ok "another seed differs"; fi
for key in '"scenario"' '"scenario_hash"' '"version"' '"fingerprint"' '"seed"' '"replications"' '"duration_s"' '"warmup_s"' '"events"' \
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
expect_same "input untouched" "$tmp/mine.yaml" tests/data/small.yaml

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
expect_same "-j output identical" "$tmp/r3.json" "$tmp/r1.json"
expect_grep "reps give intervals" '"ci95": \[' "$tmp/r1.json"
expect_grep "replications counted" '"replications": 4' "$tmp/r1.json"
# A flag on a percentile is judged per replication and merged into the
# share of replications (small.yaml's writes: about 7 samples beyond p999).
expect_grep "low-sample flag merged to a share" '"p999_low_samples": 1$' "$tmp/r1.json"
if grep -q '_low_samples": true' "$tmp/r1.json"; then fail "no boolean flag left with reps"; else
	ok "no boolean flag left with reps"; fi
expect_exit 0 "summary of a mix" "$bin" run tests/data/small.yaml
expect_grep "operation rows reach p999 and max" '^  write .* p99 .* p999 .* max ' "$tmp/out"
expect_grep "operation p999 marked short of samples" '^  write .* p999 [0-9.]* (few samples)' "$tmp/out"

# Without `slo:` the contract's "slo" is an empty list; every component has
# utilization and queue_mean, and a latency set like the end-to-end one;
# a mean of counts over replications keeps its units (no 2.5e+06).
cat >"$tmp/noslo.yaml" <<'YAML'
name: no-slo
seed: 5
duration: 30s
warmup: 1s
components:
  users:   {kind: client, rate: 8000/s, mix: {read: 0.99, write: 0.01}, timeout: 100ms, target: edge}
  edge:    {kind: gateway, rate_limit: 20000/s, target: lb}
  lb:      {kind: load_balancer, policy: round_robin, targets: api}
  api:     {kind: service, instances: 2, concurrency: 8, service_time: 1ms, calls: [{emit: events}]}
  events:  {kind: queue, consumers: workers}
  workers: {kind: worker, instances: 2, concurrency: 4, service_time: 1ms}
  locks:   {kind: coordinator, nodes: 3}
  kv:      {kind: cache, capacity: 100}
YAML
expect_exit 0 "run without slo" "$bin" run -q --json "$tmp/noslo.json" "$tmp/noslo.yaml"
expect_grep "no slo: block gives an empty slo list" '^  "slo": \[\],$' "$tmp/noslo.json"
expect_exit 0 "summary without slo" "$bin" run "$tmp/noslo.yaml" --duration 5s
if grep -q '^SLOs' "$tmp/out"; then fail "no SLO section without slo"; else ok "no SLO section without slo"; fi
if python3 - "$tmp/noslo.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = [n + "." + k for n, c in d["components"].items() for k in ("utilization", "queue_mean")
       if k not in c]
full = ("p50", "p90", "p95", "p99", "p999", "max", "mean")
for n in ("users", "api", "workers"):
    bad += [n + ".latency_ms." + q for q in full if q not in d["components"][n]["latency_ms"]]
sys.exit(1 if bad or d["slo"] != [] else 0)
PY
then ok "every component has utilization, queue_mean and the full latency set"; else
	fail "every component has utilization, queue_mean and the full latency set"; fi
expect_exit 0 "reps without slo" "$bin" run -q --reps 2 --json "$tmp/noslo2.json" "$tmp/noslo.yaml"
expect_grep "reps keep the empty slo list" '^  "slo": \[\],$' "$tmp/noslo2.json"
expect_grep "mean of events keeps its units" '"events": {"mean": [0-9]\{7,\}, "ci95": \[[0-9]\{7,\}, [0-9]\{7,\}\]}' \
	"$tmp/noslo2.json"
expect_exit 0 "options after FILE" "$bin" run tests/data/small.yaml -q --window 2s --out "$tmp/series"
rows=$(($(wc -l <"$tmp/series/series.csv") - 1))
if [ "$rows" -eq 10 ]; then ok "20s in 2s windows: 10 rows"; else fail "20s in 2s windows: 10 rows (got $rows)"; fi
expect_grep "series header" "^t_start_s,t_end_s,warmup," "$tmp/series/series.csv"
expect_grep "faults header" "^start_s,end_s,label" "$tmp/series/faults.csv"
# A queue and its workers are in the series (and so in the `queues` plot):
# their columns used to be missing. 100 messages a second; the consumer
# group forms from 0s to 3s (the default rebalance_time: q.rebalancing is 1
# in those windows, 0 after), and deliveries are stalled from 2s to 7s: the
# backlog at the end of the window [5s, 6s) is the 601 messages since 0s
# (one arrives at each whole second).
cat >"$tmp/qseries.yaml" <<'YAML'
duration: 10s
components:
  p: {kind: client, rate: 100/s, arrivals: constant, target: q}
  q: {kind: queue, consumers: w}
  w: {kind: worker, service_time: 1ms}
faults:
  - {kind: consumer_stall, component: q, at: 2s, for: 5s}
YAML
expect_exit 0 "queue series" "$bin" run -q "$tmp/qseries.yaml" --out "$tmp/qseries"
expect_grep "queue and worker columns" ",q.queue,q.rebalancing,w.queue,w.busy$" \
	"$tmp/qseries/series.csv"
expect_grep "queue backlog in the series" "^5,6,.*,601,0,0,0$" "$tmp/qseries/series.csv"
expect_grep "group's forming in the series" "^2,3,.*,301,1,0,0$" "$tmp/qseries/series.csv"
expect_grep "cdf header" "^latency_ms,fraction" "$tmp/series/cdf.csv"
expect_same "--out results equal --json" "$tmp/series/results.json" "$tmp/a.json"
# series.csv is written during the run into a temporary file in DIR, renamed
# at the end: none is left behind, and a series.csv that is a symlink keeps
# the link and gets its target replaced, as every other output.
if ls -A "$tmp/series" | grep -q '^\.archsim-'; then fail "no temporary file left in --out DIR"; else
	ok "no temporary file left in --out DIR"; fi
mkdir "$tmp/linked"
echo old >"$tmp/linked-target.csv"
ln -s "$tmp/linked-target.csv" "$tmp/linked/series.csv"
expect_exit 0 "--out with series.csv a symlink" "$bin" run tests/data/small.yaml -q --window 2s \
	--out "$tmp/linked"
if [ -L "$tmp/linked/series.csv" ]; then ok "series.csv symlink stays"; else fail "series.csv symlink stays"; fi
expect_same "series.csv symlink target gets the series" "$tmp/linked-target.csv" "$tmp/series/series.csv"
# Without gnuplot the data is still written and the exit code is the run's.
expect_exit 1 "plot without gnuplot keeps exit code" env PATH=/nonexistent "$bin" run -q \
	tests/data/slo-fail.yaml --plot "$tmp/noplot"
expect_grep "missing gnuplot named" "apt-get install gnuplot-nox" "$tmp/err"
if [ -s "$tmp/noplot/series.csv" ]; then ok "data written without gnuplot"; else fail "data written without gnuplot"; fi
if command -v gnuplot >/dev/null 2>&1; then
	# A panel's y range must not clip the next one's: zone-loss's stale
	# reads (the cache's pass 120000 by 5m) sit below the lag panel (about
	# 120 s).
	expect_exit 1 "zone-loss plots" "$bin" run -q --duration 5m scenarios/failures/zone-loss.yaml \
		--plot "$tmp/zl"
	expect_grep "stale-reads panel not clipped" '> 120000<' "$tmp/zl/replication.svg"
	expect_grep "caches' stale reads plotted" '>cache<' "$tmp/zl/replication.svg"
	expect_exit 0 "plot verb" "$bin" plot "$tmp/series"
	if [ -s "$tmp/series/latency.png" ] && [ -s "$tmp/series/latency.svg" ]; then
		ok "plots written"; else fail "plots written"; fi
	# A database's replication over time: its columns in the series, its
	# plot drawn, and gnuplot quiet (no empty-range warnings for panels
	# that stayed at zero).
	expect_exit 1 "replication plot" "$bin" run -q scenarios/tradeoffs/strong-consistency.yaml \
		--plot "$tmp/repl"
	expect_grep "replication columns" "db.replication_stalled_ms,db.stale_reads" "$tmp/repl/series.csv"
	if [ -s "$tmp/repl/replication.png" ] && [ -s "$tmp/repl/replication.svg" ]; then
		ok "replication plot written"; else fail "replication plot written"; fi
	if [ ! -s "$tmp/err" ]; then ok "gnuplot quiet"; else fail "gnuplot quiet"; sed 's/^/    /' "$tmp/err" | head -3; fi
	# Nothing to put on a latency axis: every request at 0 ns (no value
	# for a log axis), or none succeeded (no value at all). The plots are
	# drawn all the same, quietly, and say why they are empty.
	expect_exit 0 "zero-latency plots" "$bin" run -q tests/data/zero-latency.yaml --plot "$tmp/zero"
	if [ -s "$tmp/zero/cdf.svg" ] && [ ! -s "$tmp/err" ]; then ok "zero-latency plots quiet"; else
		fail "zero-latency plots quiet"; sed 's/^/    /' "$tmp/err" | head -3; fi
	expect_grep "zero-latency CDF drawn" "every request at 0 ms" "$tmp/zero/cdf.svg"
	expect_exit 0 "no-success plots" "$bin" run -q tests/data/none-succeed.yaml --plot "$tmp/none"
	if [ -s "$tmp/none/latency.svg" ] && [ ! -s "$tmp/err" ]; then ok "no-success plots quiet"; else
		fail "no-success plots quiet"; sed 's/^/    /' "$tmp/err" | head -3; fi
	expect_grep "no-success latency plot says why" "no request succeeded" "$tmp/none/latency.svg"
	expect_grep "no-success CDF says why" "no request succeeded" "$tmp/none/cdf.svg"
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
# Percentage points are of a share: p95=5pp would have gated on 0.05 ms.
expect_exit 2 "compare pp on a latency" "$bin" compare --max-regression p95=5pp \
	tests/data/small.yaml tests/data/small.yaml
expect_grep "pp is for availability" "pp (percentage points) is for availability only" "$tmp/err"

# The trade-off pairs say what the README says of them: the split design's
# tail is worse (compare exits 1), eventual consistency is faster and
# more available through the partition but reads stale, strong is not.
expect_exit 1 "tradeoff: microservices regress on monolith" "$bin" compare --reps 3 -j 2 \
	scenarios/tradeoffs/monolith.yaml scenarios/tradeoffs/microservices.yaml
expect_grep "tradeoff: p95 worse" "^p95 ms .* worse" "$tmp/out"
expect_exit 0 "tradeoff: eventual holds its SLOs" "$bin" compare --reps 3 -j 2 \
	scenarios/tradeoffs/strong-consistency.yaml scenarios/tradeoffs/eventual-consistency.yaml
expect_grep "tradeoff: eventual faster" "^p50 ms .* better" "$tmp/out"
expect_grep "tradeoff: eventual more available" "^availability .* better" "$tmp/out"
expect_grep "tradeoff: eventual reads stale" "^stale_reads .* worse" "$tmp/out"
expect_exit 1 "tradeoff: strong fails availability in the partition" "$bin" run -q \
	scenarios/tradeoffs/strong-consistency.yaml

# Resource limits: a run stopped at one reports what it had, says why, exits 1.
expect_exit 1 "--max-events stops the run" "$bin" run --max-events 1000 --json "$tmp/lim.json" \
	tests/data/small.yaml
expect_grep "stop reason on stderr" "stopped early: event limit reached" "$tmp/err"
expect_grep "stop reason in the summary" "WARNING: the run stopped early, at" "$tmp/out"
expect_grep "stop reason in the JSON" '"stopped": "event limit reached"' "$tmp/lim.json"
expect_grep "a stopped run does not pass" '^  "ok": false' "$tmp/lim.json"
expect_grep "a stopped run gives no verdict" "Result: no verdict: the run stopped early" "$tmp/out"
expect_grep "an SLO over no request fails" "FAILED (no request measured)" "$tmp/out"

# Requests that never get an answer count against availability: a client
# without a timeout, a service paused for the rest of the run. Constant
# arrivals: 5000 requests in the 50s of the pause on any random stream.
cat >"$tmp/stuck.yaml" <<'EOF2'
name: stuck
duration: 60s
components:
  users: {kind: client, rate: 100/s, arrivals: constant, target: api}
  api: {kind: service, service_time: 2ms}
faults:
  - {at: 10s, kind: pause, component: api, for: 50s}
slo: {availability: 99.9%}
EOF2
expect_exit 1 "stuck requests fail the availability SLO" "$bin" run --json "$tmp/stuck.json" \
	"$tmp/stuck.yaml"
expect_grep "stuck requests counted as unfinished" '"unfinished": 500[01]$' "$tmp/stuck.json"
expect_grep "stuck requests lower availability" '"availability": 0\.166' "$tmp/stuck.json"
# A healthy run leaves a few requests in flight, and none unfinished.
expect_exit 0 "healthy run for in_flight" "$bin" run -q --json "$tmp/fl.json" tests/data/small.yaml
expect_grep "healthy run: nothing unfinished" '"unfinished": 0' "$tmp/fl.json"
expect_grep "in_flight in the JSON" '"in_flight": ' "$tmp/fl.json"
# A queue that cannot keep up is called out.
printf 'name: sat\nduration: 60s\ncomponents:\n  users: {kind: client, rate: 100/s, target: api}\n  api: {kind: service, queue: unbounded, service_time: 20ms}\n' >"$tmp/sat.yaml"
expect_exit 0 "saturated run" "$bin" run "$tmp/sat.yaml"
expect_grep "saturation warned of" "WARNING: [0-9]* requests were still in flight at the end" "$tmp/out"
# Two services that each write as part of one request make two writes, not a
# duplicate; a retried write still is one (failures/duplicate-writes.yaml).
printf 'name: two-writers\nduration: 10s\ncomponents:\n  users: {kind: client, rate: 100/s, mix: {write: 1}, target: a}\n  a: {kind: service, service_time: 1ms, concurrency: 8, calls: [{target: b}, {target: db}]}\n  b: {kind: service, service_time: 1ms, concurrency: 8, calls: [{target: db}]}\n  db: {kind: database, read_time: 1ms, write_time: 1ms}\n' >"$tmp/two-writers.yaml"
expect_exit 0 "two writers" "$bin" run -q --json "$tmp/tw.json" "$tmp/two-writers.yaml"
expect_grep "two writers are no duplicate" '^    "duplicate_writes": 0' "$tmp/tw.json"
expect_exit 1 "retried writes" "$bin" run -q --json "$tmp/dw.json" scenarios/failures/duplicate-writes.yaml
expect_grep "retried writes are duplicates" '^    "duplicate_writes": [1-9]' "$tmp/dw.json"
expect_exit 2 "bad --max-events" "$bin" run --max-events 0 tests/data/small.yaml
expect_grep "--max-events wants a number" "max-events needs a whole number" "$tmp/err"

# Design variants: extends, --set, sweep, compare --plot, the CI example.
printf 'extends: %s/tests/data/small.yaml\ncomponents:\n  api: {instancs: 4}\n' "$root" >"$tmp/v-bad.yaml"
expect_exit 2 "extends: error in the variant" "$bin" check "$tmp/v-bad.yaml"
expect_grep "extends: diagnostic in the variant" "v-bad.yaml:3:9: error: unknown key 'instancs'" "$tmp/err"
expect_exit 0 "compare a variant (CI example)" "$bin" compare --reps 3 --format markdown \
	examples/ci/base.yaml examples/ci/candidate.yaml
expect_grep "CI example markdown" "^| metric | base | candidate" "$tmp/out"
expect_exit 0 "CI example junit" "$bin" compare --reps 3 --format junit \
	examples/ci/base.yaml examples/ci/candidate.yaml
expect_grep "CI example junit suite" "<testsuite" "$tmp/out"
expect_exit 0 "--set on run" "$bin" run -q --set components.users.rate=500/s --set duration=5s \
	--json "$tmp/set.json" tests/data/small.yaml
expect_grep "--set applied" '"duration_s": 5' "$tmp/set.json"
expect_exit 2 "--set path into nothing" "$bin" run --set components.nosuch.rate=5/s tests/data/small.yaml
expect_grep "--set path named" "<--set components.nosuch.rate>: error: no 'nosuch' in 'components'" "$tmp/err"
expect_exit 2 "--set bad value" "$bin" check --set users.rate=fast tests/data/small.yaml
expect_grep "--set bad value named" "<--set users.rate>: error: expected a rate" "$tmp/err"
# Mix weights are shares: they must sum to 1 through --set as in a file.
expect_exit 2 "--set mix not summing to 1" "$bin" check --set 'users.mix={read: 0.9, write: 0.9}' \
	tests/data/small.yaml
expect_grep "--set mix sum named" "<--set users.mix>: error: 'mix' of 'users' must sum to 1 (100%), got 1.8" "$tmp/err"
expect_exit 0 "--set mix of shares" "$bin" check --set 'users.mix={read: 70%, write: 20%, scan: 10%}' \
	tests/data/small.yaml
expect_exit 2 "--set on compare" "$bin" compare --reps 2 --set slo.p99=x tests/data/small.yaml \
	tests/data/small.yaml
expect_exit 0 "sweep --help" "$bin" sweep --help
expect_exit 2 "sweep without a grid" "$bin" sweep tests/data/small.yaml
expect_exit 0 "sweep csv" "$bin" sweep -q --duration 4s --set users.rate=1000..3000/1000 \
	tests/data/small.yaml -o "$tmp/sweep"
expect_grep "sweep.csv header" "^value,x,p50_ms,p95_ms,p99_ms,availability,throughput_rps,ok" "$tmp/sweep/sweep.csv"
expect_grep "sweep.csv unit" "^3000/s,3000," "$tmp/sweep/sweep.csv"
expect_exit 0 "sweep json" "$bin" sweep --format json --duration 4s --set users.rate=1000,2000 \
	tests/data/small.yaml
if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" 2>/dev/null; then
	ok "sweep json parses"; else fail "sweep json parses"; fi
expect_exit 0 "sweep --find-max" "$bin" sweep --duration 4s --find-max \
	--set users.rate=1000..3000/1000 tests/data/small.yaml
expect_grep "sweep reports the capacity" "largest users.rate meeting every SLO" "$tmp/out"
expect_exit 1 "sweep --find-max finds nothing" "$bin" sweep --duration 4s --find-max \
	--set slo.p99=1us --set users.rate=1000,2000 tests/data/small.yaml
# The progress bar: nothing when stderr is not a terminal, a bar on one.
expect_exit 0 "no progress off a terminal" "$bin" run --json "$tmp/p1.json" tests/data/small.yaml
if [ -s "$tmp/err" ]; then fail "stderr empty off a terminal"; else ok "stderr empty off a terminal"; fi
if command -v script >/dev/null 2>&1; then
	script -qc "'$bin' run --duration 200s --json '$tmp/p2.json' tests/data/small.yaml >/dev/null" \
		/dev/null >"$tmp/tty.txt" 2>&1
	expect_grep "progress bar on a terminal" "% simulated" "$tmp/tty.txt"
	"$bin" run -q --duration 200s --json "$tmp/p3.json" tests/data/small.yaml
	if cmp -s "$tmp/p2.json" "$tmp/p3.json"; then ok "progress bar changes no result"; else
		fail "progress bar changes no result"; fi
fi
if command -v gnuplot >/dev/null 2>&1; then
	expect_exit 0 "sweep --plot" "$bin" sweep -q --duration 4s --set users.rate=1000..3000/1000 \
		tests/data/small.yaml --plot "$tmp/sweep"
	if [ -s "$tmp/sweep/sweep.png" ] && [ -s "$tmp/sweep/sweep.svg" ]; then ok "sweep plots written"; else
		fail "sweep plots written"; fi
	# Every point passes: no empty "SLO failed" series, and so no warning.
	if grep -q "warning" "$tmp/err"; then fail "sweep --plot quiet when all pass"; else
		ok "sweep --plot quiet when all pass"; fi
	expect_exit 0 "sweep --plot with a failing point" "$bin" sweep -q --duration 4s \
		--set users.rate=1000,20000 tests/data/small.yaml --plot "$tmp/sweep2"
	expect_grep "failed points circled" "SLO failed" "$tmp/sweep2/sweep.svg"
	# Warm-up ends at 1.5 s, within a 1 s window: shaded up to 1.5 s as with
	# 500 ms windows (the label sits mid-shade), not up to the window's end.
	for w in 1s 500ms; do
		expect_exit 0 "run --plot warm-up in a $w window" "$bin" run -q --duration 4s \
			--window "$w" --set warmup=1500ms tests/data/small.yaml --plot "$tmp/wu$w"
		grep -B3 '>warm-up<' "$tmp/wu$w/latency.svg" | grep -o 'translate([^)]*)' \
			>"$tmp/wu$w.at"
	done
	if [ -s "$tmp/wu1s.at" ] && cmp -s "$tmp/wu1s.at" "$tmp/wu500ms.at"; then
		ok "warm-up shaded to its end, not its window's"; else
		fail "warm-up shaded to its end, not its window's"; fi
	# A point without a successful request (a 1us timeout) has no latency:
	# sweep.csv says NaN, not the placeholder's 0 ms, and the p95 line breaks
	# there rather than bridging it.
	expect_exit 0 "sweep --plot with a point without latency" "$bin" sweep -q --duration 4s \
		--set users.timeout=50ms,40ms,1us,30ms,20ms tests/data/small.yaml --plot "$tmp/sweep3"
	expect_grep "sweep.csv NaN without latency" "^1us,1,NaN,NaN,NaN,0," "$tmp/sweep3/sweep.csv"
	tr '\n' ' ' <"$tmp/sweep3/sweep.svg" >"$tmp/sweep3/sweep.flat"
	expect_grep "sweep p95 breaks at the point" "stroke='rgb(255, 127,  14)'  d='M[^']*M" \
		"$tmp/sweep3/sweep.flat"
	expect_exit 0 "compare --plot" "$bin" compare --reps 2 --plot "$tmp/cmp" \
		examples/ci/base.yaml examples/ci/candidate.yaml
	if [ -s "$tmp/cmp/compare_cdf.png" ] && [ -s "$tmp/cmp/compare_p95.svg" ] &&
		[ -s "$tmp/cmp/candidate/series.csv" ]; then ok "compare plots written"; else
		fail "compare plots written"; fi
	# An outage leaves windows without a successful request (p95 NaN): the
	# candidate's p95 line breaks there rather than bridging the outage.
	printf 'extends: %s/tests/data/small.yaml\nname: small-outage\nfaults:\n  - {kind: crash, component: api, instances: 3, at: 8s, restart_after: 4s}\n' \
		"$root" >"$tmp/outage.yaml"
	expect_exit 1 "compare --plot over an outage" "$bin" compare --reps 2 --plot "$tmp/cmpo" \
		tests/data/small.yaml "$tmp/outage.yaml"
	tr '\n' ' ' <"$tmp/cmpo/compare_p95.svg" >"$tmp/cmpo/p95.flat"
	expect_grep "compare_p95 breaks at the outage" "stroke='rgb(255, 127,  14)'  d='M[^']*M" \
		"$tmp/cmpo/p95.flat"
fi

# Outputs: no output over an input, by any path.
mkdir -p "$tmp/in"
cp tests/data/small.yaml "$tmp/in/results.json"
expect_exit 2 "--out over the input refused" "$bin" run -q --out "$tmp/in" "$tmp/in/results.json"
expect_grep "--out refusal named" "refusing to write" "$tmp/err"
expect_same "input untouched by --out" "$tmp/in/results.json" tests/data/small.yaml
ln -s "$tmp/mine.yaml" "$tmp/link.json"
expect_exit 2 "--json through a symlink to the input refused" "$bin" run -q --json "$tmp/link.json" \
	"$tmp/mine.yaml"
expect_same "input untouched via symlink" "$tmp/mine.yaml" tests/data/small.yaml
expect_exit 2 "compare --output over an input refused" "$bin" compare --reps 2 \
	--output "$tmp/mine.yaml" tests/data/small.yaml "$tmp/mine.yaml"
expect_same "input untouched by compare" "$tmp/mine.yaml" tests/data/small.yaml

# Outputs onto what is not a regular file are written in place, never replaced.
if mknod "$tmp/null" c 1 3 2>/dev/null; then
	expect_exit 0 "--json onto a device" "$bin" run -q --json "$tmp/null" tests/data/small.yaml
	if [ -c "$tmp/null" ]; then ok "device stays a device"; else fail "device stays a device"; fi
	expect_exit 0 "compare -o onto a device" "$bin" compare --reps 2 -o "$tmp/null" \
		tests/data/small.yaml tests/data/small.yaml
	if [ -c "$tmp/null" ]; then ok "device stays a device after compare"; else
		fail "device stays a device after compare"; fi
else
	echo "skip - mknod not permitted: no device node checks"
fi
expect_exit 0 "--json /dev/stdout" "$bin" run -q --json /dev/stdout tests/data/small.yaml
expect_grep "--json /dev/stdout prints the JSON" '"latency_ms"' "$tmp/out"
expect_exit 0 "--json /dev/stdout after the summary" "$bin" run --json /dev/stdout tests/data/small.yaml
expect_grep "summary kept before the JSON" "every SLO holds" "$tmp/out"
expect_grep "JSON after the summary" '"latency_ms"' "$tmp/out"
# A summary lost on the way out is a failed write (exit 3), not a success.
if [ -w /dev/full ]; then
	"$bin" run tests/data/small.yaml >/dev/full 2>"$tmp/err"
	if [ $? -eq 3 ]; then ok "summary onto a full disk exits 3"; else
		fail "summary onto a full disk exits 3"; fi
	expect_grep "full disk named" "cannot write standard output: No space left on device" "$tmp/err"
	"$bin" compare --reps 2 --format junit tests/data/small.yaml tests/data/small.yaml \
		>/dev/full 2>"$tmp/err"
	if [ $? -eq 3 ]; then ok "compare report onto a full disk exits 3"; else
		fail "compare report onto a full disk exits 3"; fi
else
	echo "skip - no /dev/full: no full-disk checks"
fi
"$bin" check tests/data/small.yaml >&- 2>"$tmp/err"
if [ $? -eq 3 ]; then ok "check with stdout closed exits 3"; else fail "check with stdout closed exits 3"; fi
echo old >"$tmp/target.json"
ln -s target.json "$tmp/out-link.json"
expect_exit 0 "--json through a symlink" "$bin" run -q --json "$tmp/out-link.json" tests/data/small.yaml
if [ -L "$tmp/out-link.json" ]; then ok "symlink stays a symlink"; else fail "symlink stays a symlink"; fi
expect_grep "symlink target gets the JSON" '"latency_ms"' "$tmp/target.json"
ln -s /proc/self/fd/1 "$tmp/fd1"
expect_exit 0 "--json through a link to /proc/self/fd/1" "$bin" run -q --json "$tmp/fd1" tests/data/small.yaml
if [ -L "$tmp/fd1" ]; then ok "fd link stays a link"; else fail "fd link stays a link"; fi
expect_grep "fd link prints the JSON" '"latency_ms"' "$tmp/out"
if ls -a "$tmp" | grep -q '\.tmp\|^\.archsim-'; then fail "no temporary files left after writes"; else
	ok "no temporary files left after writes"; fi

# No output over any file a command read: extends bases, sweep and plot files.
mkdir -p "$tmp/ext"
cp tests/data/small.yaml "$tmp/ext/base.yaml"
cp tests/data/small.yaml "$tmp/ext/base.orig"
printf 'extends: base.yaml\nname: variant\n' >"$tmp/ext/var.yaml"
expect_exit 2 "--json over an extends base refused" "$bin" run -q --json "$tmp/ext/base.yaml" \
	"$tmp/ext/var.yaml"
expect_grep "extends refusal named" "refusing to write $tmp/ext/base.yaml" "$tmp/err"
expect_exit 2 "compare -o over an extends base refused" "$bin" compare --reps 2 \
	-o "$tmp/ext/base.yaml" "$tmp/ext/var.yaml" tests/data/small.yaml
expect_same "extends base untouched" "$tmp/ext/base.yaml" "$tmp/ext/base.orig"
mkdir -p "$tmp/sw"
cp tests/data/small.yaml "$tmp/sw/sweep.csv"
expect_exit 2 "sweep -o over its scenario refused" "$bin" sweep -q "$tmp/sw/sweep.csv" \
	--set components.users.rate=100,200 -o "$tmp/sw"
expect_same "sweep scenario untouched" "$tmp/sw/sweep.csv" tests/data/small.yaml
mkdir -p "$tmp/pd"
cp tests/data/small.yaml "$tmp/pd/latency.svg"
expect_exit 2 "run --plot over its scenario refused" "$bin" run -q --plot "$tmp/pd" "$tmp/pd/latency.svg"
expect_grep "plot refusal named" "refusing to write $tmp/pd/latency.svg" "$tmp/err"
expect_same "plot scenario untouched" "$tmp/pd/latency.svg" tests/data/small.yaml

# Two outputs of one command at one place: the later write replaced the
# earlier (the JSON asked for at DIR/series.csv became the series, exit 0),
# or a file stood where --out was to make its directory (exit 3 after the run).
mkdir -p "$tmp/two"
expect_exit 2 "--json onto a file --out writes refused" "$bin" run -q --out "$tmp/two" \
	--json "$tmp/two/./series.csv" tests/data/small.yaml
expect_grep "--json and --out collision named" "it is also the output file $tmp/two/series.csv" \
	"$tmp/err"
if [ -e "$tmp/two/series.csv" ]; then fail "nothing written for colliding outputs"; else
	ok "nothing written for colliding outputs"; fi
expect_exit 2 "--json onto the --out directory refused" "$bin" run -q --out "$tmp/two/d" \
	--json "$tmp/two/d" tests/data/small.yaml
expect_grep "--json and --out directory named" "it is also the output directory" "$tmp/err"
mkdir -p "$tmp/two/c"
expect_exit 2 "compare -o onto a --plot file refused" "$bin" compare --reps 2 --plot "$tmp/two/c" \
	-o "$tmp/two/c/compare_cdf.svg" tests/data/small.yaml tests/data/small.yaml
expect_exit 0 "--out and --plot of one directory" "$bin" run -q --out "$tmp/two/p" --plot "$tmp/two/p" \
	--json "$tmp/two/p.json" tests/data/small.yaml

# Unwritable outputs are usage errors found before the run, not after it.
expect_exit 2 "--json in a missing directory" "$bin" run --json /nonexistent/x.json \
	scenarios/seed-architecture.yaml
expect_grep "missing directory named" "/nonexistent: No such file or directory" "$tmp/err"
if [ -s "$tmp/out" ]; then fail "nothing simulated for a bad output"; else
	ok "nothing simulated for a bad output"; fi
expect_exit 2 "--json onto a directory" "$bin" run -q --json "$tmp" tests/data/small.yaml
expect_grep "directory output named" "Is a directory" "$tmp/err"
expect_exit 2 "--json ''" "$bin" run -q --json "" tests/data/small.yaml
expect_grep "empty output named" "the name is empty" "$tmp/err"
expect_exit 2 "--out under a missing directory" "$bin" run -q --out /nonexistent/d tests/data/small.yaml
expect_exit 2 "compare -o in a missing directory" "$bin" compare --reps 2 -o /nonexistent/r.txt \
	tests/data/small.yaml tests/data/small.yaml
expect_exit 2 "sweep -o onto a file" "$bin" sweep -q tests/data/small.yaml \
	--set components.users.rate=100,200 -o "$tmp/target.json"
expect_grep "sweep -o file named" "Not a directory" "$tmp/err"

# --max-regression: an empty list or a metric given twice is a usage error.
expect_exit 2 "empty --max-regression" "$bin" compare --reps 2 --max-regression '' \
	tests/data/small.yaml tests/data/small.yaml
expect_grep "empty --max-regression named" "needs at least one METRIC=VALUE" "$tmp/err"
expect_exit 2 "duplicate --max-regression" "$bin" compare --reps 2 --max-regression 'p95=5%,p95=1%' \
	tests/data/small.yaml tests/data/small.yaml
expect_grep "duplicate named" "threshold for 'p95' given twice" "$tmp/err"
expect_exit 2 "trailing comma in --max-regression" "$bin" compare --reps 2 --max-regression 'p95=5%,' \
	tests/data/small.yaml tests/data/small.yaml

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
