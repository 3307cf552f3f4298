/* The M/M/1 of bench_bare_mm1 written on ns-3's discrete-event core (Debian's
 * libns3-dev): an arrival and a departure function that reschedule each
 * other through Simulator::Schedule, with ns-3's integer nanosecond Time.
 * Same lambda (0.9 per ms), mu (1.0 per ms), generator and seed as the bare
 * loop.
 *
 * It is here to answer "faster than any DES library a user could pick
 * instead" with a measurement: the time per event counts one arrival and one
 * departure per customer, as in the bare loop, and is measured around
 * Simulator::Run() only. The second argument picks ns-3's scheduler
 * (ns3::MapScheduler is its default; ns3::HeapScheduler,
 * ns3::CalendarScheduler, ns3::ListScheduler). Prints "key: value" lines.
 *
 * Usage: bench_ns3_mm1 [customers [scheduler]]   (default 1000000 ns3::MapScheduler) */
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <string>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <ns3/nstime.h>
#include <ns3/object-factory.h>
#include <ns3/simulator.h>

using namespace ns3;

namespace {

gsl_rng *rng;
std::deque<int64_t> waiting; // arrival times (ns) of customers waiting
unsigned long long customers = 1000000, arrived_n, served;
bool busy;
int64_t in_service_arrival;
double sum_response_ms;

Time draw_ms(double mean_ms)
{
	return NanoSeconds((int64_t)std::llround(gsl_ran_exponential(rng, mean_ms) * 1e6));
}

void departure();

void start_service(int64_t arrival_ns)
{
	busy = true;
	in_service_arrival = arrival_ns;
	Simulator::Schedule(draw_ms(1.0), &departure);
}

void arrival()
{
	int64_t now = Simulator::Now().GetNanoSeconds();
	if (++arrived_n < customers)
		Simulator::Schedule(draw_ms(1 / 0.9), &arrival);
	if (!busy)
		start_service(now);
	else
		waiting.push_back(now);
}

void departure()
{
	sum_response_ms += (double)(Simulator::Now().GetNanoSeconds() - in_service_arrival) / 1e6;
	served++;
	busy = false;
	if (!waiting.empty()) {
		int64_t next = waiting.front();
		waiting.pop_front();
		start_service(next);
	}
}

double clock_s(clockid_t id)
{
	timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

} // namespace

int main(int argc, char **argv)
{
	std::string scheduler = "ns3::MapScheduler";
	if (argc > 1) {
		char *end;
		customers = std::strtoull(argv[1], &end, 10);
		if (*end || customers == 0) {
			std::fprintf(stderr, "usage: %s [customers [scheduler]]\n", argv[0]);
			return 2;
		}
	}
	if (argc > 2)
		scheduler = argv[2];
	ObjectFactory factory;
	factory.SetTypeId(scheduler);
	Simulator::SetScheduler(factory);
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 42);
	Simulator::Schedule(draw_ms(1 / 0.9), &arrival);

	double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	Simulator::Run();
	double wall = clock_s(CLOCK_MONOTONIC) - t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	Simulator::Destroy();
	double events = 2.0 * (double)served;
	std::printf("scheduler: %s\n", scheduler.c_str());
	std::printf("customers: %llu\n", served);
	std::printf("wall_s: %.3f\n", wall);
	std::printf("ns_per_event: %.1f\n", wall * 1e9 / events);
	std::printf("cpu_s: %.3f\n", cpu);
	std::printf("cpu_ns_per_event: %.1f\n", cpu * 1e9 / events);
	std::printf("mean_response: %.4f\n", sum_response_ms / (double)served);
	std::printf("theory_response: %.4f\n", 1 / (1.0 - 0.9));
	gsl_rng_free(rng);
	return 0;
}
