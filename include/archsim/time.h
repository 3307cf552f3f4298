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

/* Nanoseconds as a double to integer nanoseconds, rounded half up. Below
 * 0.5 (negative, NaN too) gives 0; 2^63 and beyond give ASIM_TIME_MAX.
 *
 * Written for latency, since every sampled delay goes through it: llround()
 * is a library call, and truncating then comparing the remainder is a chain
 * of four conversions and compares. Adding 0.5 and truncating is exact
 * from 0.5 up to 2^52: the sum is then a multiple of the value's ulp and
 * either representable or, just above a power of two, rounded by less than
 * what would cross an integer. Below 0.5 the sum can round up to 1 (from
 * 0.49999999999999994), and from 2^52 every double is an integer already,
 * which the sum could round to the next even one: both are handled apart.
 * tests/test_kernel.c checks it against the remainder-comparing rounding
 * around every half-integer boundary, power of two and the range's ends. */
static inline asim_time asim_time_from_ns(double ns)
{
	/* The negated test also catches NaN, which compares false with anything. */
	if (!(ns >= 0.5))
		return 0;
	if (__builtin_expect(ns >= 4503599627370496.0, 0)) /* 2^52 */
		/* 2^63 is exactly representable; anything at or above it does not fit. */
		return ns >= 9223372036854775808.0 ? ASIM_TIME_MAX : (asim_time)ns;
	return (asim_time)(ns + 0.5);
}

/* Seconds (as drawn from a distribution) to nanoseconds, rounded to nearest
 * (half up). Negative and NaN give 0; values beyond the range give
 * ASIM_TIME_MAX. Inline: every sampled delay goes through it. */
static inline asim_time asim_time_from_seconds(double seconds)
{
	return asim_time_from_ns(seconds * (double)ASIM_S);
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
