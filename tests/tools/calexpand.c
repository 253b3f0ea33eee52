/*
 * calexpand — print every instance cal_expand finds in .ics files, for
 * the calendar tests (the oracle comparison of T070 above all):
 *
 *   calexpand ZONE FROM TO FILE...
 *
 * FROM and TO as tz_parse reads them (2026-01-01T00:00:00Z).  One line
 * per instance of every event of every file, "UID<TAB>START" with START
 * in UTC, and a third column "cancelled" when the instance is.  Warnings
 * and unreadable files go to stderr; the exit code is 0 unless the
 * command line is wrong.
 */
#include <errno.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cal.h"
#include "tz.h"
#include "util.h"

/* The whole file into *out (caller frees); false with errno set. */
static bool slurp(const char *path, char **out, size_t *len)
{
	strbuf_t b = {0};
	char chunk[65536];
	size_t n;
	bool ok = false;
	FILE *f = fopen(path, "rb");
	if (!f)
		goto done;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_add(&b, chunk, n);
	if (ferror(f))
		goto done;
	*len = b.len;
	*out = b.len ? sb_steal(&b) : xstrdup("");
	ok = true;
done:
	if (f)
		fclose(f);
	sb_free(&b);
	return ok;
}

static void expand_file(const char *zone, int64_t from, int64_t to,
			const char *path)
{
	char *text = NULL;
	size_t len = 0;
	cal_result_t r = {0};
	err_t err = {0};

	if (!slurp(path, &text, &len)) {
		fprintf(stderr, "calexpand: %s: %s\n", path, strerror(errno));
		goto done;
	}
	if (cal_expand(text, len, zone, from, to, &r, &err) != ST_OK) {
		fprintf(stderr, "calexpand: %s: %s\n", path, err.msg);
		goto done;
	}
	for (size_t i = 0; i < r.warnings.n; i++)
		fprintf(stderr, "calexpand: %s: %s\n", path, r.warnings.v[i]);
	for (size_t i = 0; i < r.n; i++) {
		char when[21];
		tz_format_utc(r.v[i].start, when);
		printf("%s\t%s%s\n", r.v[i].uid, when,
		       r.v[i].cancelled ? "\tcancelled" : "");
	}
done:
	cal_result_free(&r);
	free(text);
}

int main(int argc, char **argv)
{
	int64_t from, to;
	if (argc < 5 || !tz_known(argv[1]) ||
	    !tz_parse(argv[2], argv[1], &from) ||
	    !tz_parse(argv[3], argv[1], &to)) {
		fprintf(stderr, "usage: calexpand ZONE FROM TO FILE...\n");
		return 64;
	}
	for (int i = 4; i < argc; i++)
		expand_file(argv[1], from, to, argv[i]);
	fflush(stdout);
	icaltimezone_free_builtin_timezones();
	icalmemory_free_ring();
	return 0;
}
