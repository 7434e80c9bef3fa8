#include "vpcflowd/timefmt.h"

#include <stddef.h>
#include <time.h>

static bool fixed_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int days_in_month(int year, int month)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

static bool parse(const char *s, bool zone_optional, int64_t *ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, frac = 0, sign = 0;
	struct tm tm = { 0 };
	time_t t;

	if (s == NULL ||
	    !fixed_digits(s, 4, &y) || s[4] != '-' ||
	    !fixed_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !fixed_digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !fixed_digits(s + 11, 2, &h) || s[13] != ':' ||
	    !fixed_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !fixed_digits(s + 17, 2, &sec))
		return false;
	s += 19;
	if (*s == '.') {
		int n = 0;

		if (*++s < '0' || *s > '9')
			return false;
		for (; *s >= '0' && *s <= '9'; s++, n++) {
			if (n < 3)
				frac = frac * 10 + (*s - '0');
		}
		for (; n < 3; n++)
			frac *= 10;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (!fixed_digits(s + 1, 2, &oh))
			return false;
		s += 3;
		if (*s == ':')
			s++;
		if (!fixed_digits(s, 2, &om) || oh > 23 || om > 59)
			return false;
		s += 2;
	} else if (!(zone_optional && *s == '\0')) {
		return false;
	}
	if (*s != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	t -= (time_t)sign * (oh * 3600 + om * 60);
	*ms = (int64_t)t * 1000 + frac;
	return true;
}

bool vf_parse_rfc3339(const char *s, int64_t *ms)
{
	return parse(s, false, ms);
}

bool vf_parse_rfc3339_utc(const char *s, int64_t *ms)
{
	return parse(s, true, ms);
}
