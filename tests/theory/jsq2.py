#!/usr/bin/env python3
"""Join-the-shortest-queue over two exponential servers, solved exactly.

The theory figure behind scenarios/validation/lb-split-rho08.yaml's
least_outstanding and power_of_two pools (tests/test_queueing.c): JSQ has no
closed form in elementary functions, but its Markov chain does solve. The
states are the unordered queue lengths (shorter, longer), service included;
an arrival joins the shorter (either one on a tie: by symmetry the unordered
chain is the same whatever the tie-breaking), each busy server finishes at
rate mu. Gauss-Seidel with over-relaxation on the balance equations,
truncated where the chain's mass is negligible (printed).

Usage: tests/theory/jsq2.py [lambda [truncation]]   (default 1.6 per ms, 60)
Prints the mean response (ms), P(an arrival waits) = P(both busy), and the
utilisation, for mu = 1 per ms."""
import sys


def solve(lam, n, mu=1.0):
    states = [(a, b) for a in range(n + 1) for b in range(a, n + 1)]
    index = {s: i for i, s in enumerate(states)}

    def unordered(x, y):
        return (x, y) if x <= y else (y, x)

    incoming = [[] for _ in states]
    out = [0.0] * len(states)
    for i, (a, b) in enumerate(states):
        moves = []
        if a < n:
            moves.append((unordered(a + 1, b), lam))  # joins the shorter
        if a > 0:
            moves.append((unordered(a - 1, b), mu))
        if b > 0:
            moves.append((unordered(a, b - 1), mu))
        for to, rate in moves:
            incoming[index[to]].append((i, rate))
            out[i] += rate
    pi = [1.0 / len(states)] * len(states)
    for _ in range(100000):
        change = 0.0
        for i in range(len(states)):
            v = sum(pi[j] * r for j, r in incoming[i]) / out[i]
            v = pi[i] + 1.5 * (v - pi[i])
            change = max(change, abs(v - pi[i]))
            pi[i] = v
        total = sum(pi)
        pi = [p / total for p in pi]
        if change < 1e-14:
            break
    in_system = sum(p * (a + b) for p, (a, b) in zip(pi, states))
    both_busy = sum(p for p, (a, b) in zip(pi, states) if a > 0)
    busy = sum(p * ((a > 0) + (b > 0)) for p, (a, b) in zip(pi, states))
    edge = sum(p for p, (a, b) in zip(pi, states) if b >= n - 5)
    return in_system / lam, both_busy, busy / 2, edge


def main():
    lam = float(sys.argv[1]) if len(sys.argv) > 1 else 1.6
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    response, wait, util, edge = solve(lam, n)
    print(f"mean response {response:.6f} ms, P(wait) {wait:.6f}, "
          f"utilisation {util:.6f} (mass near the truncation {edge:.1e})")


if __name__ == "__main__":
    main()
