/* Fuzz target: tz_parse, the reader of --now and of --since/--until
 * style dates.  The zone changes what a wall-clock time means but not
 * what is accepted, nor an instant given with its offset; a wall-clock
 * date in UTC is that date (no 31 February read as 3 March); and what
 * tz_format_utc prints of an accepted instant reads back as the same
 * instant.  Built for libFuzzer with -DDIGEST_FUZZ=ON (clang); replay.c
 * runs it over files in the ordinary test suite. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every zone's offset lies within this (UTC-12 to UTC+14, and local
 * mean times of old dates). */
#define MAX_OFFSET (26 * 3600)

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_now: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64) /* longer than any accepted form */
		return 0;
	char *s = xstrndup((const char *)data, size);
	int64_t utc = 0, berlin = 0, again = 0;
	bool ok = tz_parse(s, "UTC", &utc);

	check(ok == tz_parse(s, "Europe/Berlin", &berlin),
	      "the zone changes what is accepted");
	if (!ok)
		goto done;
	size_t n = strlen(s);
	bool offset = n > 10 && (s[n - 1] == 'Z' || s[n - 1] == 'z' ||
				 strpbrk(s + 10, "+-"));
	if (offset)
		check(utc == berlin, "the zone moves an instant with offset");
	else
		check(utc - berlin <= MAX_OFFSET && berlin - utc <= MAX_OFFSET,
		      "the zone moves a wall-clock time too far");

	char buf[21];
	memset(buf, 'X', sizeof buf);
	tz_format_utc(utc, buf);
	check(memchr(buf, '\0', sizeof buf) != NULL, "tz_format_utc overflows");
	check(tz_parse(buf, "Europe/Berlin", &again) && again == utc,
	      "tz_format_utc does not read back");
	/* A wall-clock time in UTC is printed back with its own date,
	 * unless a leap second rolled it over. */
	if (!offset && !strstr(s, ":60"))
		check(strncmp(buf, s, 10) == 0, "a date that does not exist");
done:
	free(s);
	return 0;
}
