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
 * Negative and NaN give 0; values beyond the range give ASIM_TIME_MAX.
 * Inline: every sampled delay goes through it. */
static inline asim_time asim_time_from_seconds(double seconds)
{
	/* The negated test also catches NaN, which compares false with anything. */
	if (!(seconds > 0.0))
		return 0;
	double ns = seconds * (double)ASIM_S;
	/* 2^63 is exactly representable; anything at or above it does not fit. */
	if (ns >= 9223372036854775808.0)
		return ASIM_TIME_MAX;
	/* Round half up without llround(), which is a library call on the hot
	 * path of every sampled delay. The truncation and the subtraction are
	 * exact, so this rounds exactly where adding 0.5 first would not (that
	 * sends 0.49999999999999994 to 1). */
	asim_time t = (asim_time)ns;
	return t + (ns - (double)t >= 0.5);
}

static inline double asim_time_to_seconds(asim_time t)
{
	return (double)t / (double)ASIM_S;
}

static inline double asim_time_to_ms(asim_time t)
{
	return (double)t / (double)ASIM_MS;
}

#endif
