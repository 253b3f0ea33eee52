/*
 * tz — instants, dates and named time zones.  Every instant is a UTC
 * int64_t of seconds; zones are IANA names from the system's tzdata.
 * Conversions switch TZ around mktime/localtime_r, so they are not
 * thread-safe: call them from the main thread only.
 */
#ifndef DIGEST_TZ_H
#define DIGEST_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A zone name the system knows ("UTC" or a file under zoneinfo). */
bool tz_known(const char *zone);

/* The UTC instant of a wall-clock time in zone (tm fields as in mktime;
 * tm_isdst ignored; a time in a DST gap moves forward). */
int64_t tz_mktime(const char *zone, const struct tm *wall);
/* The wall-clock time of an instant in zone. */
void tz_localtime(const char *zone, int64_t t, struct tm *out);

/* The offsets from UTC (seconds east) in zone at each of n instants,
 * with one switch of TZ for all of them. */
void tz_offsets(const char *zone, const int64_t *t, size_t n, int32_t *out);

/*
 * Parse --now and --since style values: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM",
 * "YYYY-MM-DDTHH:MM:SS" (a space may replace the T), optionally followed by
 * "Z" or "+HH:MM"/"-HH:MM"/"+HHMM".  With an offset it is that instant;
 * without, a wall-clock time in zone; a bare date is 00:00 there.
 */
bool tz_parse(const char *s, const char *zone, int64_t *out);

/* "YYYY-MM-DDTHH:MM:SSZ" into buf[21]. */
void tz_format_utc(int64_t t, char buf[21]);
/* "YYYY-MM-DD" of the instant in zone into buf[11]. */
void tz_format_date(const char *zone, int64_t t, char buf[11]);

#endif
