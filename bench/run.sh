#!/bin/sh
# Benchmarks: prints figures and ratios, asserts nothing.
#   bench/run.sh [BUILD_DIR]      (default: build)
# 1. the pending-event set under the hold model (bench_hold);
# 2. the bare C M/M/1 yardstick (bench_bare_mm1);
# 3. the same M/M/1 through the real CLI, YAML and statistics
#    (scenarios/validation/mm1-bench.yaml, 5 million customers), with its
#    ns per event (one arrival or one departure, as in the yardstick), the
#    ratio to the yardstick, and peak memory at 1 and 5 million customers.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/cli/archsim

echo "== hold model =="
"$build/bench/bench_hold"

echo "== bare M/M/1 yardstick =="
bare=$("$build/bench/bench_bare_mm1" 5000000)
echo "$bare"

echo "== M/M/1 through archsim =="
python3 - "$bin" "$bare" <<'PY'
import json, os, resource, subprocess, sys, tempfile, time
bin, bare = sys.argv[1], sys.argv[2]
bare_ns = None
for line in bare.splitlines():
    if line.startswith("ns_per_event:"):
        bare_ns = float(line.split(":")[1])

def run(customers):
    scen = "scenarios/validation/mm1-bench.yaml"
    src = open(scen).read().replace("requests: 5000000", f"requests: {customers}")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "mm1.yaml")
        open(path, "w").write(src)
        out = os.path.join(d, "out.json")
        best = None
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            p = subprocess.run([bin, "run", "-q", "--json", out, path])
            wall = time.perf_counter() - t0
            if p.returncode not in (0, 1):
                sys.exit(f"archsim failed: {p.returncode}")
            best = wall if best is None else min(best, wall)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        res = json.load(open(out))
    return best, rss, res

for customers in (1000000, 5000000):
    wall, rss, res = run(customers)
    events = 2 * customers  # one arrival and one departure per customer
    ns = wall * 1e9 / events
    print(f"customers: {customers}")
    print(f"  wall_s (best of 3): {wall:.3f}")
    print(f"  kernel_events: {res['events']}  ({res['events'] / wall / 1e6:.1f} M kernel events/s)")
    print(f"  ns_per_event (arrival or departure): {ns:.1f}")
    if bare_ns:
        print(f"  ratio_to_bare_loop: {ns / bare_ns:.2f}")
    print(f"  mean_response_ms: {res['latency_ms']['mean']:.3f} (theory 10)")
    print(f"  peak_rss_kib (max over runs so far): {rss}")
PY
