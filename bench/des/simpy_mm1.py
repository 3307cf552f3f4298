#!/usr/bin/python3
"""The M/M/1 of bench_bare_mm1 written as a SimPy user would write it
(Debian's python3-simpy, SimPy 2: a process per customer that requests a
Resource of capacity 1, holds for an exponential service time and releases
it; a source process that holds an exponential interarrival). Same lambda
(0.9) and mu (1.0) as the bare loop; Python's own Mersenne Twister draws.

It is here to answer "faster than any DES library a user could pick
instead" with a measurement: the time per event counts one arrival and one
departure per customer, as in the bare loop, and is measured around
simulate() only. Prints "key: value" lines.

Usage: simpy_mm1.py [customers]   (default 200000)
Run it with Debian's /usr/bin/python3, where python3-simpy is installed."""
import random
import sys
import time

from SimPy.Simulation import (Process, Resource, activate, hold, initialize, now,
                              release, request, simulate)

LAMBDA, MU = 0.9, 1.0


class Customer(Process):
    def visit(self, server, stats, rnd):
        arrived = now()
        yield request, self, server
        yield hold, self, rnd.expovariate(MU)
        yield release, self, server
        stats[0] += now() - arrived
        stats[1] += 1


class Source(Process):
    def generate(self, customers, server, stats, rnd):
        for _ in range(customers):
            yield hold, self, rnd.expovariate(LAMBDA)
            c = Customer()
            activate(c, c.visit(server, stats, rnd))


def main():
    customers = 200000
    if len(sys.argv) > 1:
        try:
            customers = int(sys.argv[1])
        except ValueError:
            customers = 0
        if customers <= 0:
            sys.exit(f"usage: {sys.argv[0]} [customers]")
    rnd = random.Random(42)
    stats = [0.0, 0]  # sum of responses, customers served
    initialize()
    server = Resource(capacity=1)
    source = Source()
    activate(source, source.generate(customers, server, stats, rnd))
    t0, c0 = time.monotonic(), time.process_time()
    simulate(until=1e18)
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    events = 2 * stats[1]
    print(f"customers: {stats[1]}")
    print(f"wall_s: {wall:.3f}")
    print(f"ns_per_event: {wall * 1e9 / events:.1f}")
    print(f"cpu_s: {cpu:.3f}")
    print(f"cpu_ns_per_event: {cpu * 1e9 / events:.1f}")
    print(f"mean_response: {stats[0] / stats[1]:.4f}")
    print(f"theory_response: {1 / (MU - LAMBDA):.4f}")


if __name__ == "__main__":
    main()
