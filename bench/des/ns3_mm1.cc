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
#include <deque>
#include <string>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <ns3/nstime.h>
#include <ns3/object-factory.h>
#include <ns3/simulator.h>

#include "mm1_figures.h"

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

} // namespace

int main(int argc, char **argv)
{
	std::string scheduler = "ns3::MapScheduler";
	if (argc > 1 && !(customers = mm1::parse_count(argv[1]))) {
		std::fprintf(stderr, "usage: %s [customers [scheduler]]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		scheduler = argv[2];
	ObjectFactory factory;
	factory.SetTypeId(scheduler);
	Simulator::SetScheduler(factory);
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 42);
	Simulator::Schedule(draw_ms(1 / 0.9), &arrival);

	mm1::stopwatch w;
	Simulator::Run();
	w.stop();
	Simulator::Destroy();
	std::printf("scheduler: %s\n", scheduler.c_str());
	mm1::print(w, served, sum_response_ms);
	gsl_rng_free(rng);
	return 0;
}
