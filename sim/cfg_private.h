/* What cfg.c and cfg_parse.c share (not part of any API): the exact
 * parsers of scalar text (cfg_parse.c), which the accessors in cfg.c call to
 * tell a syntax error from a missing or unknown unit, a value out of range
 * or finer than the type resolves, and report each at the value. */
#ifndef ARCHSIM_CFG_PRIVATE_H
#define ARCHSIM_CFG_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "archsim/time.h"

enum perr {
	P_OK,
	P_SYNTAX,   /* not the expected shape at all */
	P_NO_UNIT,  /* a number where a unit was required */
	P_UNIT,     /* a number with an unknown unit */
	P_NEGATIVE,
	P_FINE,     /* finer than the resolution */
	P_RANGE,    /* beyond what the type holds */
};

/* The units a duration may carry, for messages. */
#define UNITS_TEXT "ns, us, ms, s, m, min, h, d"

/* Each parses the whole of text, or returns why not (out untouched). */
enum perr cfg_parse_time(const char *text, asim_time *out);
enum perr cfg_parse_real(const char *text, double *out);
enum perr cfg_parse_rate(const char *text, double *out); /* per second */
enum perr cfg_parse_int(const char *text, int64_t *out);
enum perr cfg_parse_fraction(const char *text, double *out);

/* Writes t as a person would write it (the largest unit that divides it). */
void cfg_format_time(char *buf, size_t len, asim_time t);

#endif
