/* What the M/M/1 programs on other DES libraries share: reading the customer
 * count, timing the library's run loop (wall and CPU) and printing the
 * figures as "key: value" lines in the format of bench_bare_mm1, which
 * bench/run.sh reads. C++ (the libraries' language); header-only, as each
 * program is one file. */
#ifndef ARCHSIM_BENCH_DES_MM1_FIGURES_H
#define ARCHSIM_BENCH_DES_MM1_FIGURES_H

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace mm1 {

inline double clock_s(clockid_t id)
{
	timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The positive integer in arg, or 0 when it is not one. */
inline unsigned long long parse_count(const char *arg)
{
	char *end;
	unsigned long long v = std::strtoull(arg, &end, 10);
	return *end || arg[0] == '-' ? 0 : v;
}

/* Wall and CPU seconds of the process from construction to stop(). */
struct stopwatch {
	double wall0 = clock_s(CLOCK_MONOTONIC), cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	double wall = 0, cpu = 0;
	void stop()
	{
		wall = clock_s(CLOCK_MONOTONIC) - wall0;
		cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	}
};

/* Time per event counts one arrival and one departure per customer, as in
 * bench_bare_mm1. Theory: 1 / (mu - lambda) = 10 ms. */
inline void print(const stopwatch &w, unsigned long long served, double sum_response_ms)
{
	double events = 2.0 * (double)served;
	std::printf("customers: %llu\n", served);
	std::printf("wall_s: %.3f\n", w.wall);
	std::printf("ns_per_event: %.1f\n", w.wall * 1e9 / events);
	std::printf("cpu_s: %.3f\n", w.cpu);
	std::printf("cpu_ns_per_event: %.1f\n", w.cpu * 1e9 / events);
	std::printf("mean_response: %.4f\n", sum_response_ms / (double)served);
	std::printf("theory_response: %.4f\n", 1 / (1.0 - 0.9));
}

} // namespace mm1

#endif
