/* The exact parsers of the scenario's scalar text: durations with units
 * (converted in integers, so "1.5ms" is exactly 1500000 ns), rates,
 * decimals, integers and fractions, each refused with the reason when the
 * text is not one. The accessors in cfg.c report those reasons. */
#include "archsim/cfg.h"
#include "cfg_private.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct unit {
	const char *name;
	asim_time ns;
};

/* Longer names first where one is a prefix of another ("ms" before "m"),
 * though the match below is whole-word anyway. */
static const struct unit time_units[] = {
	{"ns", ASIM_NS},
	{"us", ASIM_US},
	{"\xc2\xb5s", ASIM_US}, /* micro sign */
	{"\xce\xbcs", ASIM_US}, /* Greek mu */
	{"ms", ASIM_MS},
	{"s", ASIM_S},
	{"min", ASIM_MIN},
	{"m", ASIM_MIN},
	{"h", ASIM_HOUR},
	{"d", 24 * ASIM_HOUR},
};

static const struct unit *find_unit(const char *s)
{
	for (size_t i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++)
		if (strcmp(s, time_units[i].name) == 0)
			return &time_units[i];
	return NULL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Every unit is c * 10^e nanoseconds with c in {1, 6, 36, 864}: splitting it
 * so lets a decimal fraction be converted exactly in 64-bit integers. */
static void split_unit(asim_time ns, uint64_t *c, int *e)
{
	uint64_t v = (uint64_t)ns;
	int k = 0;
	while (v % 10 == 0) {
		v /= 10;
		k++;
	}
	*c = v;
	*e = k;
}

enum perr cfg_parse_time(const char *text, asim_time *out)
{
	const char *p = text;
	if (*p == '-') {
		/* Only call it negative when the rest would have been a duration;
		 * "-x" is just not a duration. */
		asim_time mag;
		enum perr e = cfg_parse_time(p + 1, &mag);
		/* "-0s" is zero, not a negative duration: it gets the key's range
		 * check, which says a duration must be positive where it must. */
		if (e == P_OK && mag == 0) {
			*out = 0;
			return P_OK;
		}
		return e == P_OK || e == P_FINE || e == P_RANGE ? P_NEGATIVE : e;
	}
	if (*p == '+')
		p++;
	if (!is_digit(*p))
		return P_SYNTAX;
	const char *int_start = p;
	while (is_digit(*p))
		p++;
	const char *int_end = p;
	const char *frac_start = p, *frac_end = p;
	if (*p == '.') {
		p++;
		frac_start = p;
		while (is_digit(*p))
			p++;
		frac_end = p;
		if (frac_end == frac_start)
			return P_SYNTAX;
	}
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return P_NO_UNIT;
	const struct unit *u = find_unit(p);
	if (!u)
		return P_UNIT;

	/* Trailing zeros of the fraction carry no value. */
	while (frac_end > frac_start && frac_end[-1] == '0')
		frac_end--;
	uint64_t c;
	int e;
	split_unit(u->ns, &c, &e);
	int k = (int)(frac_end - frac_start);
	/* The fraction's last digit is not 0, so it is exact only if 10^(k-e)
	 * divides c, whose only factors of 10 are factors of 2 (at most 2^5):
	 * five digits past the unit's own resolution can never be exact. */
	if (k > e + 5)
		return P_FINE;
	uint64_t frac = 0;
	for (const char *q = frac_start; q < frac_end; q++)
		frac = frac * 10 + (uint64_t)(*q - '0');
	/* frac < 10^(e+5) and c * 10^(e+5) <= 8.64e18, so this cannot wrap. */
	frac *= c;
	if (k <= e) {
		for (int i = k; i < e; i++)
			frac *= 10;
	} else {
		uint64_t div = 1;
		for (int i = e; i < k; i++)
			div *= 10;
		if (frac % div != 0)
			return P_FINE;
		frac /= div;
	}

	uint64_t whole = 0;
	for (const char *q = int_start; q < int_end; q++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return P_RANGE;
		whole = whole * 10 + (uint64_t)(*q - '0');
	}
	uint64_t max = (uint64_t)ASIM_TIME_MAX;
	if (whole > (max - frac) / (uint64_t)u->ns)
		return P_RANGE;
	*out = (asim_time)(whole * (uint64_t)u->ns + frac);
	return P_OK;
}

bool asim_parse_time(const char *text, asim_time *out)
{
	asim_time t;
	if (!text || cfg_parse_time(text, &t) != P_OK)
		return false;
	*out = t;
	return true;
}

/* A duration in the form a person would write it: the largest of d, h, m
 * that divides it exactly, otherwise s, ms, us or ns with an exact decimal
 * fraction ("1.5s", "250ms", "90s"). */
void cfg_format_time(char *buf, size_t len, asim_time t)
{
	static const struct unit big[] = {
		{"d", 24 * ASIM_HOUR}, {"h", ASIM_HOUR}, {"m", ASIM_MIN},
	};
	static const struct unit small[] = {
		{"s", ASIM_S}, {"ms", ASIM_MS}, {"us", ASIM_US}, {"ns", ASIM_NS},
	};
	if (t <= 0) {
		snprintf(buf, len, t == 0 ? "0s" : "%" PRId64 "ns", t);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		if (t % big[i].ns == 0) {
			snprintf(buf, len, "%" PRId64 "%s", t / big[i].ns, big[i].name);
			return;
		}
	}
	const struct unit *u = &small[3];
	for (size_t i = 0; i < 4; i++) {
		if (t >= small[i].ns) {
			u = &small[i];
			break;
		}
	}
	asim_time whole = t / u->ns, rest = t % u->ns;
	if (rest == 0) {
		snprintf(buf, len, "%" PRId64 "%s", whole, u->name);
		return;
	}
	/* The fraction's digits, most significant first, without trailing
	 * zeros; u->ns is a power of ten up to 10^9 here. */
	char frac[16];
	size_t fl = 0;
	for (asim_time place = u->ns / 10; place > 0; place /= 10) {
		frac[fl++] = (char)('0' + rest / place);
		rest %= place;
	}
	while (fl > 0 && frac[fl - 1] == '0')
		fl--;
	frac[fl] = '\0';
	snprintf(buf, len, "%" PRId64 ".%s%s", whole, frac, u->name);
}

/* Checks the shape of a plain decimal number: sign, digits, an optional
 * fraction and exponent. strtod alone would also take hex, "inf" and "nan",
 * which are not what a scenario means by a number. */
static bool decimal_shape(const char *s, bool allow_exp)
{
	if (*s == '-' || *s == '+')
		s++;
	size_t digits = 0;
	while (is_digit(*s)) {
		s++;
		digits++;
	}
	if (*s == '.') {
		s++;
		while (is_digit(*s)) {
			s++;
			digits++;
		}
	}
	if (digits == 0)
		return false;
	if (allow_exp && (*s == 'e' || *s == 'E')) {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!is_digit(*s))
			return false;
		while (is_digit(*s))
			s++;
	}
	return *s == '\0';
}

enum perr cfg_parse_real(const char *text, double *out)
{
	if (!decimal_shape(text, true))
		return P_SYNTAX;
	errno = 0;
	char *end;
	double v = strtod(text, &end);
	if (*end != '\0')
		return P_SYNTAX;
	/* Underflow to a tiny or zero value is harmless; overflow is not. */
	if ((errno == ERANGE && fabs(v) == HUGE_VAL) || !isfinite(v))
		return P_RANGE;
	*out = v;
	return P_OK;
}

bool asim_parse_real(const char *text, double *out)
{
	double v;
	if (!text || cfg_parse_real(text, &v) != P_OK)
		return false;
	*out = v;
	return true;
}

enum perr cfg_parse_rate(const char *text, double *out)
{
	const char *slash = strchr(text, '/');
	if (!slash) {
		double ignored;
		return cfg_parse_real(text, &ignored) == P_SYNTAX ? P_SYNTAX : P_NO_UNIT;
	}
	char num[64];
	size_t nl = (size_t)(slash - text);
	if (nl == 0 || nl >= sizeof(num))
		return P_SYNTAX;
	memcpy(num, text, nl);
	num[nl] = '\0';
	double n;
	enum perr e = cfg_parse_real(num, &n);
	if (e != P_OK)
		return e;
	const struct unit *u = find_unit(slash + 1);
	if (!u)
		return P_UNIT;
	if (n < 0)
		return P_NEGATIVE;
	/* Multiply by an exact integer for units up to a second and divide by
	 * one beyond, so that "2000/s" and "30/min" give the obvious doubles. */
	double v;
	if (u->ns <= ASIM_S)
		v = n * (double)(ASIM_S / u->ns);
	else
		v = n / (double)(u->ns / ASIM_S);
	if (!isfinite(v))
		return P_RANGE;
	*out = v;
	return P_OK;
}

bool asim_parse_rate(const char *text, double *per_s)
{
	double v;
	if (!text || cfg_parse_rate(text, &v) != P_OK)
		return false;
	*per_s = v;
	return true;
}

enum perr cfg_parse_int(const char *text, int64_t *out)
{
	/* Digits may be grouped with single underscores ("1_000_000"); they are
	 * dropped, with leading zeros, before strtoll sees the number. */
	char buf[32];
	size_t o = 0;
	const char *p = text;
	if (*p == '-' || *p == '+')
		buf[o++] = *p++;
	if (!is_digit(*p))
		return P_SYNTAX;
	bool leading = true;
	for (; *p; p++) {
		if (*p == '_') {
			if (!is_digit(p[1]) || !is_digit(p[-1]))
				return P_SYNTAX;
			continue;
		}
		if (!is_digit(*p)) {
			double ignored;
			return cfg_parse_real(text, &ignored) == P_OK ? P_FINE : P_SYNTAX;
		}
		if (leading && *p == '0' && is_digit(p[1]))
			continue;
		leading = false;
		if (o + 1 >= sizeof(buf))
			return P_RANGE;
		buf[o++] = *p;
	}
	buf[o] = '\0';
	errno = 0;
	char *end;
	long long v = strtoll(buf, &end, 10);
	if (*end != '\0')
		return P_SYNTAX;
	if (errno == ERANGE)
		return P_RANGE;
	*out = (int64_t)v;
	return P_OK;
}

bool asim_parse_int(const char *text, int64_t *out)
{
	int64_t v;
	if (!text || cfg_parse_int(text, &v) != P_OK)
		return false;
	*out = v;
	return true;
}

enum perr cfg_parse_fraction(const char *text, double *out)
{
	size_t len = strlen(text);
	double v;
	if (len > 0 && text[len - 1] == '%') {
		char num[64];
		if (len - 1 == 0 || len - 1 >= sizeof(num) - 4)
			return P_SYNTAX;
		memcpy(num, text, len - 1);
		num[len - 1] = '\0';
		if (!decimal_shape(num, false))
			return P_SYNTAX;
		/* Scaling in the decimal text ("99.9e-2") gives the correctly
		 * rounded double, which dividing by 100 would not always. */
		memcpy(num + len - 1, "e-2", 4);
		enum perr e = cfg_parse_real(num, &v);
		if (e != P_OK)
			return e;
	} else {
		enum perr e = cfg_parse_real(text, &v);
		if (e != P_OK)
			return e;
	}
	if (v < 0 || v > 1)
		return P_RANGE;
	*out = v;
	return P_OK;
}

bool asim_parse_fraction(const char *text, double *out)
{
	double v;
	if (!text || cfg_parse_fraction(text, &v) != P_OK)
		return false;
	*out = v;
	return true;
}
