/* Conversion of sampled durations to integer simulated time. */
#include <math.h>

#include "archsim/time.h"

asim_time asim_time_from_seconds(double seconds)
{
	/* The negated test also catches NaN, which compares false with anything. */
	if (!(seconds > 0.0))
		return 0;
	double ns = seconds * (double)ASIM_S;
	/* 2^63 is exactly representable; anything at or above it does not fit. */
	if (ns >= 9223372036854775808.0)
		return ASIM_TIME_MAX;
	return (asim_time)llround(ns);
}
