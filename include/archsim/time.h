/* Simulated time: signed 64-bit nanoseconds since the start of a run.
 *
 * Time is an integer so that event order never depends on floating-point
 * rounding: the same scenario and seed give the same trajectory on every
 * machine. A duration sampled from a distribution (double seconds) is converted
 * once, with asim_time_from_seconds(), and is an integer from then on. */
#ifndef ARCHSIM_TIME_H
#define ARCHSIM_TIME_H

#include <stdbool.h>
#include <stdint.h>

typedef int64_t asim_time;

#define ASIM_NS ((asim_time)1)
#define ASIM_US ((asim_time)1000)
#define ASIM_MS ((asim_time)1000000)
#define ASIM_S ((asim_time)1000000000)
#define ASIM_MIN (60 * ASIM_S)
#define ASIM_HOUR (3600 * ASIM_S)
/* The largest representable instant (about 292 years); also "never". */
#define ASIM_TIME_MAX INT64_MAX

/* a + b into *out. Returns false, leaving *out untouched, when the sum would
 * overflow or either operand is negative. */
static inline bool asim_time_add(asim_time a, asim_time b, asim_time *out)
{
	if (a < 0 || b < 0 || a > ASIM_TIME_MAX - b)
		return false;
	*out = a + b;
	return true;
}

/* Seconds (as drawn from a distribution) to nanoseconds, rounded to nearest.
 * Negative and NaN give 0; values beyond the range give ASIM_TIME_MAX. */
asim_time asim_time_from_seconds(double seconds);

static inline double asim_time_to_seconds(asim_time t)
{
	return (double)t / (double)ASIM_S;
}

static inline double asim_time_to_ms(asim_time t)
{
	return (double)t / (double)ASIM_MS;
}

#endif
