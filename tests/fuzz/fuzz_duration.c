/* Fuzz target: config_parse_duration ("30d", "6w", "12h", "15m", "10s"),
 * the reader of every duration in a configuration and on the command
 * line.  What it accepts is digits and one unit, a multiple of that
 * unit, and comes back the same when printed in the largest unit that
 * divides it and read again.  Built for libFuzzer with -DDIGEST_FUZZ=ON
 * (clang); replay.c runs it over files in the ordinary test suite. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	char unit;
	int64_t secs;
} units[] = {{'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_duration: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	int64_t secs = -1, again = -1;

	if (config_parse_duration(s, &secs)) {
		size_t n = strspn(s, "0123456789");
		check(n > 0 && secs >= 0, "accepted without digits");
		check((s[n] == '\0' && secs == 0) ||
			      (s[n] && strchr("smhdw", s[n]) &&
			       s[n + 1] == '\0'),
		      "accepted something else than digits and a unit");
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (s[n] == units[i].unit)
				check(secs % units[i].secs == 0,
				      "not a multiple of its unit");
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			if (secs % units[i].secs != 0)
				continue;
			char buf[32];
			snprintf(buf, sizeof buf, "%" PRId64 "%c",
				 secs / units[i].secs, units[i].unit);
			check(config_parse_duration(buf, &again) &&
				      again == secs,
			      "printed and read again differs");
			break;
		}
	}
	free(s);
	return 0;
}
