/* The M/M/1 of bench_bare_mm1 written as a SimGrid user would write it (the
 * s4u actor API of Debian's libsimgrid-dev): a source actor that sleeps an
 * exponential interarrival and signals a semaphore, a server actor that
 * takes the waiting customers in arrival order and sleeps an exponential
 * service time. Same lambda (0.9), mu (1.0), generator and seed as the bare
 * loop; the clock is SimGrid's.
 *
 * It is here to answer "faster than any DES library a user could pick
 * instead" with a measurement, not to test SimGrid: the time per event counts
 * one arrival and one departure per customer, as in the bare loop, and is
 * measured around Engine::run() only. Prints "key: value" lines.
 *
 * Usage: bench_simgrid_mm1 [customers]   (default 1000000) */
#include <cstdio>
#include <deque>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <simgrid/s4u.hpp>

#include "mm1_figures.h"

namespace sg4 = simgrid::s4u;

namespace {

gsl_rng *rng;
sg4::SemaphorePtr arrived;
std::deque<double> waiting; // arrival times, in arrival order
unsigned long long customers = 1000000, served;
double sum_response;

void source()
{
	for (unsigned long long i = 0; i < customers; i++) {
		sg4::this_actor::sleep_for(gsl_ran_exponential(rng, 1 / 0.9));
		waiting.push_back(sg4::Engine::get_clock());
		arrived->release();
	}
}

void server()
{
	for (unsigned long long i = 0; i < customers; i++) {
		arrived->acquire();
		double at = waiting.front();
		waiting.pop_front();
		sg4::this_actor::sleep_for(gsl_ran_exponential(rng, 1.0));
		sum_response += sg4::Engine::get_clock() - at;
		served++;
	}
}

} // namespace

int main(int argc, char **argv)
{
	sg4::Engine e(&argc, argv); // takes SimGrid's own --cfg and --log options out of argv
	if (argc > 1 && !(customers = mm1::parse_count(argv[1]))) {
		std::fprintf(stderr, "usage: %s [customers]\n", argv[0]);
		return 2;
	}
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 42);
	auto *zone = sg4::create_full_zone("zone");
	sg4::Host *host = zone->create_host("host", 1e9);
	zone->seal();
	arrived = sg4::Semaphore::create(0);
	sg4::Actor::create("source", host, source);
	sg4::Actor::create("server", host, server);

	mm1::stopwatch w;
	e.run();
	w.stop();
	mm1::print(w, served, sum_response);
	gsl_rng_free(rng);
	return 0;
}
