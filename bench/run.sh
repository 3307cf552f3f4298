#!/bin/sh
# Benchmarks: prints figures and ratios, asserts nothing.
#   bench/run.sh [BUILD_DIR]      (default: build; a release build is meant:
#                                  meson setup build-rel -Dbuildtype=release)
# 1. the pending-event set under the hold model (bench_hold; skip with
#    BENCH_HOLD=0);
# 2. the bare C M/M/1 yardstick (bench_bare_mm1, GSL's exponential draw), and
#    the same loop drawing as archsim does (its taus2 stream and ziggurat
#    exponential rather than mt19937 and log1p), best of BENCH_TURNS (5)
#    runs taken in turns with archsim's 5M-customer run, 5 s apart, with
#    the spread of each;
# 3. the same M/M/1 through the real CLI, YAML and statistics
#    (scenarios/validation/mm1-bench.yaml, 5 million customers), with its
#    ns per event (one arrival or one departure, as in the yardstick), the
#    ratio to the yardstick, and peak memory at 1 and 5 million customers;
# 4. the same M/M/1 on the DES libraries a user could pick instead, where
#    installed (ns-3 core, SimGrid, SimPy: see bench/README.md);
# 5. instructions per customer of both under callgrind (when valgrind is
#    installed; skip with BENCH_CALLGRIND=0): repeatable on a busy machine;
# 6. the flagship (scenarios/seed-architecture.yaml) at 10,000 requests/s
#    for 10 and 60 simulated minutes: wall and CPU time, events per second,
#    and peak memory of each (flat memory means the two agree). Skip with
#    BENCH_FLAGSHIP=0.
# Other times are best of 3, wall and CPU (user + system): on a shared machine the
# CPU figure leaves out the time other processes had the core.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/cli/archsim

if [ "${BENCH_HOLD:-1}" != 0 ]; then
	echo "== hold model (CPU ns per hold) =="
	"$build/bench/bench_hold"
fi

python3 - "$build" <<'PY'
import json, os, shutil, subprocess, sys, tempfile, time
build = sys.argv[1]
bin = os.path.join(build, "cli", "archsim")

def figures(argv):
    """Runs a benchmark program that prints "key: value" lines: its output
    and the figures as a dict."""
    out = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=True).stdout
    return out, dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)

def bare_run(draw):
    return figures([os.path.join(build, "bench", "bench_bare_mm1"), "5000000", draw])

def timed(argv, reps=3):
    """Best wall and CPU seconds over reps runs, and the largest peak RSS
    (KiB), measured by bench_rusage_run: see rusage_run.c for why not here."""
    best_wall = best_cpu = None
    rss = 0
    launcher = os.path.join(build, "bench", "bench_rusage_run")
    for _ in range(reps):
        p = subprocess.run([launcher] + argv, stderr=subprocess.PIPE, text=True)
        fields = p.stderr.strip().splitlines()[-1].split() if p.stderr.strip() else []
        if p.returncode != 0 or len(fields) != 4:
            sys.exit(f"{' '.join(argv)}: {p.stderr.strip()}")
        wall, cpu, maxrss, code = float(fields[0]), float(fields[1]), int(fields[2]), int(fields[3])
        if code not in (0, 1):
            sys.exit(f"{' '.join(argv)} failed: {code}")
        best_wall = wall if best_wall is None else min(best_wall, wall)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
        rss = max(rss, maxrss)
    return best_wall, best_cpu, rss

def mm1_file(d, customers):
    src = open("scenarios/validation/mm1-bench.yaml").read()
    path = os.path.join(d, f"mm1-{customers}.yaml")
    open(path, "w").write(src.replace("requests: 5000000", f"requests: {customers}"))
    return path

# The yardstick and archsim take turns, BENCH_TURNS rounds (5) a few
# seconds apart, and each keeps its best: the least disturbed figure of
# each, taken over the same minute. The machine's slow spells (other
# tenants) last about a minute and hit archsim far more than the bare loop
# (seen: archsim's run 40% slower for a whole round of turns while the
# bare loop did not move), so a round of turns taken back to back can fall
# inside one; spread over half a minute and more, the best of each is
# likelier to come from a quiet moment. The spread is printed either way.
TURNS = int(os.environ.get("BENCH_TURNS", "5"))
print(f"== bare M/M/1 yardstick (best of {TURNS}, in turns with archsim's 5M run) ==")
with tempfile.TemporaryDirectory() as d:
    # "gsl" is the yardstick the issues define (GSL's gsl_ran_exponential);
    # "archsim" draws as archsim does (a taus2 stream and the ziggurat of
    # asim_ran_exponential), for the ratio of everything but the draw.
    bare = {}
    best5 = None
    # Every turn's CPU ns per event, to show how much the machine moved
    # while the figures were taken: a spell when other tenants slow the
    # core hits archsim (about 4.5 instructions per cycle, bound by the
    # core's width) more than the bare loop (bound by log1p's latency).
    turns = {"gsl": [], "archsim": [], "cli": []}
    for turn in range(TURNS):
        if turn:
            time.sleep(5)
        for draw in ("gsl", "archsim"):
            out, figs = bare_run(draw)
            turns[draw].append(float(figs["cpu_ns_per_event"]))
            if draw not in bare or float(figs["cpu_ns_per_event"]) < bare[draw][1]:
                bare[draw] = (float(figs["ns_per_event"]), float(figs["cpu_ns_per_event"]), out)
        w, c, r = timed([bin, "run", "-q", "--json", os.path.join(d, "out-5000000.json"),
                         mm1_file(d, 5000000)], reps=1)
        turns["cli"].append(c * 1e9 / (2 * 5000000))
        best5 = (w, c, r) if best5 is None else (min(best5[0], w), min(best5[1], c), max(best5[2], r))
    bare_ns, bare_cpu_ns, bare_out = bare["gsl"]
    print(bare_out, end="")
    print(f"same loop drawing as archsim does (taus2, ziggurat): cpu_ns_per_event {bare['archsim'][1]:.1f}")
    spread = lambda v: f"{min(v):.1f}-{max(v):.1f} (+{100 * (max(v) / min(v) - 1):.0f}%)"
    print(f"turns, CPU ns per event, best-worst: bare loop {spread(turns['gsl'])}, "
          f"archsim's draws {spread(turns['archsim'])}, archsim 5M {spread(turns['cli'])}")
    print("  (a wide spread for archsim alone: a slow spell of the machine during some turns)")

    print("== M/M/1 through archsim ==")
    for customers in (1000000, 5000000):
        out = os.path.join(d, f"out-{customers}.json")
        if customers == 5000000:
            wall, cpu, rss = best5
        else:
            wall, cpu, rss = timed([bin, "run", "-q", "--json", out, mm1_file(d, customers)])
        res = json.load(open(out))
        events = 2 * customers  # one arrival and one departure per customer
        ns, cpu_ns = wall * 1e9 / events, cpu * 1e9 / events
        print(f"customers: {customers}")
        print(f"  wall_s: {wall:.3f}  cpu_s: {cpu:.3f}")
        print(f"  kernel_events: {res['events']}  ({res['events'] / cpu / 1e6:.1f} M kernel events per CPU s)")
        print(f"  ns_per_event (arrival or departure): wall {ns:.1f}, cpu {cpu_ns:.1f}")
        print(f"  ratio_to_bare_loop: wall {ns / bare_ns:.2f}, cpu {cpu_ns / bare_cpu_ns:.2f}"
              f"  (to the loop drawing as archsim does: cpu {cpu_ns / bare['archsim'][1]:.2f})")
        print(f"  mean_response_ms: {res['latency_ms']['mean']:.3f} (theory 10)")
        print(f"  peak_rss_kib: {rss}")
        if customers == 5000000:
            archsim_cpu_ns = cpu_ns

    # The same M/M/1 on the DES libraries a user could pick instead, each
    # the best of 3 (CPU ns per event around the library's run loop only,
    # where archsim's figure is its whole process: loading and report too).
    libs = []
    for name in ("bench_ns3_mm1", "bench_simgrid_mm1"):
        exe = os.path.join(build, "bench", name)
        if os.path.exists(exe):
            if name == "bench_ns3_mm1":
                for sched in ("ns3::MapScheduler", "ns3::HeapScheduler", "ns3::CalendarScheduler"):
                    libs.append((f"ns-3 core, {sched}", [exe, "1000000", sched]))
            else:
                libs.append(("SimGrid s4u actors", [exe, "1000000"]))
    simpy = "/usr/bin/python3"  # Debian's, where python3-simpy installs
    if os.path.exists(simpy) and subprocess.run(
            [simpy, "-c", "import SimPy.Simulation"], stderr=subprocess.DEVNULL).returncode == 0:
        libs.append(("SimPy 2 (Debian's python3-simpy)", [simpy, "bench/des/simpy_mm1.py", "200000"]))
    if libs:
        print("== the same M/M/1 on other DES libraries (best of 3) ==")
    for label, argv in libs:
        best = None
        for _ in range(3):
            _, figs = figures(argv)
            if best is None or float(figs["cpu_ns_per_event"]) < float(best["cpu_ns_per_event"]):
                best = figs
        lib_ns = float(best["cpu_ns_per_event"])
        print(f"{label}: {best['customers']} customers, cpu {lib_ns:.1f} ns per event, "
              f"mean response {float(best['mean_response']):.3f}; "
              f"archsim (5M, whole CLI) is {lib_ns / archsim_cpu_ns:.1f}x faster")

    if os.environ.get("BENCH_CALLGRIND", "1") != "0" and shutil.which("valgrind"):
        print("== instructions per customer (callgrind, 200000 customers) ==")
        n = 200000
        def instructions(argv):
            cg = os.path.join(d, "cg.out")
            p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}"] + argv,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for line in p.stderr.splitlines():
                if "Collected :" in line:
                    return int(line.split(":")[-1])
            sys.exit("callgrind gave no count")
        bare_i = instructions([os.path.join(build, "bench", "bench_bare_mm1"), str(n)])
        cli_i = instructions([bin, "run", "-q", "--json", os.path.join(d, "cg.json"), mm1_file(d, n)])
        print(f"  bare: {bare_i / n:.0f}  archsim: {cli_i / n:.0f}  ratio: {cli_i / bare_i:.2f}")
        print("  (archsim includes loading the YAML and the report: about 2 million in all)")

    if os.environ.get("BENCH_FLAGSHIP", "1") != "0":
        print("== flagship: seed-architecture at 10000 requests/s ==")
        src = open("scenarios/seed-architecture.yaml").read()
        flag = src.replace("rate: 2000/s, mix", "rate: 10000/s, mix")
        if flag == src:
            sys.exit("flagship: could not find the client's rate to change")
        path = os.path.join(d, "seed-architecture-10k.yaml")
        open(path, "w").write(flag)
        for minutes in (10, 60):
            out = os.path.join(d, "flag.json")
            wall, cpu, rss = timed([bin, "run", "-q", "--duration", f"{minutes}m",
                                    "--max-events", "2000000000", "--json", out, path], reps=1)
            res = json.load(open(out))
            print(f"simulated: {minutes} min")
            print(f"  wall_s: {wall:.1f}  cpu_s: {cpu:.1f}")
            print(f"  kernel_events: {res['events']}  ({res['events'] / cpu / 1e6:.2f} M per CPU s)")
            print(f"  requests: {res['requests']}  peak_rss_kib: {rss}")
PY
