#!/usr/bin/env python3
"""Response time of the M/M/1 queue served last come, first served (LIFO,
non-preemptive), solved exactly.

The theory figures behind scenarios/validation/mm1-lifo-rho08.yaml
(tests/test_queueing.c). An arrival that finds the server idle (probability
1 - rho, PASTA) is served at once. One that finds it busy waits while the
customer in service finishes (exponential at mu, memoryless) and while
everyone who arrives after it is served, with their own later arrivals:
that is exactly a busy period of the M/M/1 queue, started by one
exponential service. Older waiting customers do not matter. So the wait is
0 with probability 1 - rho, else a busy period B with density (Takacs)

    f_B(t) = exp(-(lambda + mu) t) I_1(2 t sqrt(lambda mu)) / (t sqrt(rho))

and the response is the wait plus the customer's own service S, exponential
at mu and independent of it:

    P(R > t) = (1 - rho) exp(-mu t)
             + rho (P(B > t) + integral_0^t f_B(u) exp(-mu (t - u)) du).

The mean is the FIFO queue's, 1 / (mu - lambda); the tail is longer, which
is what the percentiles check. Integrals and roots by mpmath (Debian's
python3-mpmath).

Usage: tests/theory/lcfs_mm1.py [lambda]   (default 0.8 per ms, mu = 1 per ms)
Prints the mean response and its p50, p90, p95 and p99 (ms)."""
import sys

import mpmath as mp

mp.mp.dps = 20


def tail(lam, mu=1.0):
    rho = lam / mu
    a = 2 * mp.sqrt(lam * mu)

    def f_b(t):
        if t == 0:
            return mp.mpf(lam)  # the limit: I_1(x) ~ x / 2
        return mp.exp(-(lam + mu) * t) * mp.besseli(1, a * t) / (t * mp.sqrt(rho))

    def p_b_over(t):
        return mp.quad(f_b, [t, mp.inf])

    def p_r_over(t):
        conv = mp.quad(lambda u: f_b(u) * mp.exp(-mu * (t - u)), [0, t])
        return (1 - rho) * mp.exp(-mu * t) + rho * (p_b_over(t) + conv)

    return f_b, p_r_over


def main():
    lam = float(sys.argv[1]) if len(sys.argv) > 1 else 0.8
    mu = 1.0
    f_b, over = tail(lam, mu)
    # Checks of the density: it integrates to 1, and to the busy period's
    # mean 1 / (mu - lambda), so the mean response is rho / (mu - lambda)
    # + 1 / mu, the FIFO queue's.
    mass = mp.quad(f_b, [0, 10, 100, mp.inf])
    mean_b = mp.quad(lambda t: t * f_b(t), [0, 10, 100, mp.inf])
    print(f"lambda {lam} per ms, mu {mu} per ms, rho {lam / mu}")
    print(f"busy period: mass {mp.nstr(mass, 10)}, mean {mp.nstr(mean_b, 10)} ms "
          f"(1/(mu - lambda) = {1 / (mu - lam):.6f})")
    print(f"mean response {mp.nstr(lam / mu * mean_b + 1 / mu, 10)} ms")
    for q in (0.5, 0.9, 0.95, 0.99):
        guess = -mp.log(1 - q) / (mu - lam)
        t = mp.findroot(lambda x: over(x) - (1 - q), guess)
        print(f"p{round(q * 100)} {mp.nstr(t, 8)} ms")


if __name__ == "__main__":
    main()
