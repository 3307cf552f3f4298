/* Conversion of sampled durations to integer simulated time. */
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
	/* Round half up without llround(), which is a library call on the hot
	 * path of every sampled delay. The truncation and the subtraction are
	 * exact, so this rounds exactly where adding 0.5 first would not (that
	 * sends 0.49999999999999994 to 1). */
	asim_time t = (asim_time)ns;
	return t + (ns - (double)t >= 0.5);
}
