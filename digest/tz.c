/*
 * tz — time zone conversions through the C library.  See tz.h.
 */
#include "tz.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

bool tz_known(const char *zone)
{
	if (!zone || !*zone)
		return false;
	if (strcmp(zone, "UTC") == 0)
		return true;
	if (zone[0] == '/' || strstr(zone, ".."))
		return false;
	char *path = xasprintf("/usr/share/zoneinfo/%s", zone);
	struct stat sb;
	bool ok = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
	free(path);
	return ok;
}

/* Run with TZ set to zone; the caller's TZ is put back afterwards. */
typedef struct {
	char *saved;
	bool had;
} tz_saved_t;

static void tz_enter(const char *zone, tz_saved_t *sv)
{
	const char *old = getenv("TZ");
	sv->had = old != NULL;
	sv->saved = xstrdup(old);
	setenv("TZ", zone, 1);
	tzset();
}

static void tz_leave(tz_saved_t *sv)
{
	if (sv->had)
		setenv("TZ", sv->saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(sv->saved);
}

int64_t tz_mktime(const char *zone, const struct tm *wall)
{
	tz_saved_t sv;
	struct tm tm = *wall;
	tz_enter(zone, &sv);
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	tz_leave(&sv);
	return (int64_t)t;
}

void tz_localtime(const char *zone, int64_t t, struct tm *out)
{
	tz_saved_t sv;
	time_t tt = (time_t)t;
	tz_enter(zone, &sv);
	localtime_r(&tt, out);
	tz_leave(&sv);
}

void tz_offsets(const char *zone, const int64_t *t, size_t n, int32_t *out)
{
	tz_saved_t sv;
	tz_enter(zone, &sv);
	for (size_t i = 0; i < n; i++) {
		struct tm tm;
		time_t tt = (time_t)t[i];
		localtime_r(&tt, &tm);
		out[i] = (int32_t)tm.tm_gmtoff; /* within a day */
	}
	tz_leave(&sv);
}

static bool digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return true;
}

/* The instants tz_parse accepts: 1900-01-01T00:00:00Z to
 * 9999-12-31T23:59:59Z, so that tz_format_utc prints each back in its
 * 20 characters. */
#define TZ_PARSE_MIN (-2208988800LL)
#define TZ_PARSE_MAX 253402300799LL

static int days_in_month(int y, int mo)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return days[mo - 1] + (mo == 2 && leap);
}

bool tz_parse(const char *s, const char *zone, int64_t *out)
{
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) ||
	    *s++ != '-' || !digits(&s, 2, &d))
		return false;
	if (*s == 'T' || *s == ' ') {
		s++;
		if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi))
			return false;
		if (*s == ':' && (s++, !digits(&s, 2, &sec)))
			return false;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	int64_t t;
	if (*s == '\0') {
		t = tz_mktime(zone, &tm);
		goto range;
	}
	int off;
	if (*s == 'Z' || *s == 'z') {
		off = 0;
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, oh, om;
		if (!digits(&s, 2, &oh))
			return false;
		if (*s == ':')
			s++;
		if (!digits(&s, 2, &om) || oh > 23 || om > 59)
			return false;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return false;
	}
	if (*s)
		return false;
	t = (int64_t)timegm(&tm) - off;
range:
	if (t < TZ_PARSE_MIN || t > TZ_PARSE_MAX)
		return false;
	*out = t;
	return true;
}

/* An instant that fits the 4-digit years of the formats below: a week
 * or a snooze past 9999 (or before 1900) prints as its last (first)
 * second, never as a cut string. */
static int64_t printable(int64_t t)
{
	/* A day inside, so that no zone's offset takes it out again. */
	const int64_t day = 86400;
	return t < TZ_PARSE_MIN + day   ? TZ_PARSE_MIN + day
	       : t > TZ_PARSE_MAX - day ? TZ_PARSE_MAX - day
					: t;
}

void tz_format_utc(int64_t t, char buf[21])
{
	struct tm tm;
	time_t tt = (time_t)printable(t);
	gmtime_r(&tt, &tm);
	if (strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}

void tz_format_date(const char *zone, int64_t t, char buf[11])
{
	struct tm tm;
	tz_localtime(zone, printable(t), &tm);
	if (strftime(buf, 11, "%Y-%m-%d", &tm) == 0)
		buf[0] = '\0';
}
