/* Unit tests of cal: recurrence expansion (COUNT, UNTIL, DST in two
 * zones, RDATE, EXDATE, overrides across the window's edges, cancelled
 * instances and events), all-day and floating times, time zones (unknown,
 * Outlook VTIMEZONE, Windows and prefixed names), people, several
 * VCALENDARs, and what is broken or costly.  One fixture per rule in
 * tests/fixtures/cal/; every instant is written out in UTC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cal.h"
#include "testlib.h"
#include "tz.h"

/* CPU time a costly rule may take: about 0.1 s natively, but the suite
 * also runs under valgrind; libical left alone spins for minutes. */
#define CPU_LIMIT (10 * CLOCKS_PER_SEC)

/* The instant of "YYYY-MM-DDTHH:MM:SSZ". */
static int64_t at(const char *s)
{
	int64_t t = 0;
	assert_true(tz_parse(s, "UTC", &t));
	return t;
}

/* The text of tests/fixtures/cal/NAME; caller frees. */
static char *fixture(const char *name, size_t *len)
{
	char *rel = xasprintf("tests/fixtures/cal/%s", name);
	char *path = test_src_path(rel);
	char *text = test_slurp(path, len);

	if (!text)
		fail_msg("cannot open %s", path);
	free(path);
	free(rel);
	return text;
}

/* Expand fixture name in zone over [from, to); must succeed. */
static void expand(const char *name, const char *zone, const char *from,
		   const char *to, cal_result_t *r)
{
	size_t len;
	char *text = fixture(name, &len);
	err_t err = {0};
	assert_int_equal(cal_expand(text, len, zone, at(from), at(to), r, &err),
			 ST_OK);
	free(text);
}

/* Instance i is uid starting at when. */
static void expect(const cal_result_t *r, size_t i, const char *uid,
		   const char *when)
{
	char got[21];
	assert_true(i < r->n);
	tz_format_utc(r->v[i].start, got);
	assert_string_equal(r->v[i].uid, uid);
	assert_string_equal(got, when);
}

static void expect_no_warning(const cal_result_t *r)
{
	for (size_t i = 0; i < r->warnings.n; i++)
		fail_msg("unexpected warning: %s", r->warnings.v[i]);
}

static void test_weekly_count(void **state)
{
	cal_result_t r;
	expand("weekly-count.ics", "UTC", "2026-01-01T00:00:00Z",
	       "2026-03-01T00:00:00Z", &r);
	assert_int_equal(r.n, 3);
	expect(&r, 0, "weekly-count@test", "2026-01-05T10:00:00Z");
	expect(&r, 1, "weekly-count@test", "2026-01-12T10:00:00Z");
	expect(&r, 2, "weekly-count@test", "2026-01-19T10:00:00Z");
	assert_int_equal(r.v[1].recurrence_id, r.v[1].start);
	assert_string_equal(r.v[0].summary, "Three Mondays");
	assert_false(r.v[0].all_day);
	assert_false(r.v[0].cancelled);
	expect_no_warning(&r);
	cal_result_free(&r);

	/* COUNT counts from DTSTART, not from the window. */
	expand("weekly-count.ics", "UTC", "2026-01-10T00:00:00Z",
	       "2026-03-01T00:00:00Z", &r);
	assert_int_equal(r.n, 2);
	expect(&r, 0, "weekly-count@test", "2026-01-12T10:00:00Z");
	expect(&r, 1, "weekly-count@test", "2026-01-19T10:00:00Z");
	cal_result_free(&r);
}

static void test_weekly_until(void **state)
{
	cal_result_t r;
	expand("weekly-until.ics", "UTC", "2026-01-01T00:00:00Z",
	       "2026-03-01T00:00:00Z", &r);
	assert_int_equal(r.n, 4); /* UNTIL is inclusive */
	expect(&r, 0, "weekly-until@test", "2026-01-06T15:00:00Z");
	expect(&r, 3, "weekly-until@test", "2026-01-27T15:00:00Z");
	cal_result_free(&r);
}

static void test_dst_new_york(void **state)
{
	cal_result_t r;
	/* 09:00 EST is 14:00Z; from 8 March 09:00 EDT is 13:00Z. */
	expand("dst-new-york.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-03-22T00:00:00Z", &r);
	assert_int_equal(r.n, 3);
	expect(&r, 0, "dst-ny@test", "2026-03-02T14:00:00Z");
	expect(&r, 1, "dst-ny@test", "2026-03-09T13:00:00Z");
	expect(&r, 2, "dst-ny@test", "2026-03-16T13:00:00Z");
	cal_result_free(&r);

	/* An unbounded rule started near a window years later, across
	 * the end of DST on 3 November 2030. */
	expand("dst-new-york.ics", "UTC", "2030-10-27T00:00:00Z",
	       "2030-11-05T00:00:00Z", &r);
	assert_int_equal(r.n, 2);
	expect(&r, 0, "dst-ny@test", "2030-10-28T13:00:00Z");
	expect(&r, 1, "dst-ny@test", "2030-11-04T14:00:00Z");
	cal_result_free(&r);
}

static void test_dst_berlin(void **state)
{
	cal_result_t r;
	/* 09:00 CET is 08:00Z; from 29 March 09:00 CEST is 07:00Z. */
	expand("dst-berlin.ics", "America/New_York", "2026-03-01T00:00:00Z",
	       "2026-05-01T00:00:00Z", &r);
	assert_int_equal(r.n, 3);
	expect(&r, 0, "dst-berlin@test", "2026-03-23T08:00:00Z");
	expect(&r, 1, "dst-berlin@test", "2026-03-30T07:00:00Z");
	expect(&r, 2, "dst-berlin@test", "2026-04-06T07:00:00Z");
	cal_result_free(&r);
}

static void test_rdate(void **state)
{
	cal_result_t r;
	expand("rdate.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	expect_no_warning(&r);
	assert_int_equal(r.n, 8);
	expect(&r, 0, "rdate-datetime@test", "2026-03-02T09:00:00Z");
	expect(&r, 1, "rdate-period@test", "2026-03-03T08:00:00Z");
	expect(&r, 2, "rdate-period@test", "2026-03-04T09:00:00Z");
	expect(&r, 3, "rdate-datetime@test", "2026-03-05T10:00:00Z");
	expect(&r, 4, "rdate-period@test", "2026-03-06T09:30:00Z");
	expect(&r, 5, "rdate-datetime@test", "2026-03-10T11:00:00Z");
	expect(&r, 6, "rdate-period-tzid@test", "2026-03-11T13:00:00Z");
	expect(&r, 7, "rdate-period-tzid@test", "2026-03-12T13:00:00Z");
	cal_result_free(&r);
}

static void test_exdate(void **state)
{
	cal_result_t r;
	expand("exdate.ics", "Europe/Berlin", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	expect_no_warning(&r);
	assert_int_equal(r.n, 8);
	/* DATE values are 00:00 in Berlin, 23:00Z the day before. */
	expect(&r, 0, "exdate-date@test", "2026-03-01T23:00:00Z");
	expect(&r, 1, "exdate-utc@test", "2026-03-02T09:00:00Z");
	expect(&r, 2, "exdate-tzid@test", "2026-03-02T14:00:00Z");
	expect(&r, 3, "exdate-date@test", "2026-03-03T23:00:00Z");
	expect(&r, 4, "exdate-utc@test", "2026-03-04T09:00:00Z");
	expect(&r, 5, "exdate-tzid@test", "2026-03-04T14:00:00Z");
	expect(&r, 6, "exdate-date@test", "2026-03-04T23:00:00Z");
	expect(&r, 7, "exdate-tzid@test", "2026-03-06T14:00:00Z");
	assert_true(r.v[0].all_day);
	cal_result_free(&r);
}

static void test_override_moved(void **state)
{
	cal_result_t r;
	/* Window 10..24 March: the 2 March instance moved to the 11th
	 * counts, the 16th moved to the 25th does not. */
	expand("override-moved.ics", "UTC", "2026-03-10T00:00:00Z",
	       "2026-03-24T00:00:00Z", &r);
	assert_int_equal(r.n, 2);
	expect(&r, 0, "moved@test", "2026-03-11T15:00:00Z");
	assert_int_equal(r.v[0].recurrence_id, at("2026-03-02T15:00:00Z"));
	assert_string_equal(r.v[0].summary, "Moved in");
	assert_int_equal(r.v[0].npeople, 2);
	assert_string_equal(r.v[0].people[0].addr, "boss@example.com");
	assert_true(r.v[0].people[0].organizer);
	assert_string_equal(r.v[0].people[1].addr, "sam@example.com");
	expect(&r, 1, "moved@test", "2026-03-23T15:00:00Z");
	assert_string_equal(r.v[1].summary, "Weekly");
	assert_string_equal(r.v[1].people[1].addr, "jo@example.com");
	cal_result_free(&r);

	/* The moved-out instance in a window of its own. */
	expand("override-moved.ics", "UTC", "2026-03-24T00:00:00Z",
	       "2026-03-26T00:00:00Z", &r);
	assert_int_equal(r.n, 1);
	expect(&r, 0, "moved@test", "2026-03-25T15:00:00Z");
	assert_int_equal(r.v[0].recurrence_id, at("2026-03-16T15:00:00Z"));
	assert_null(r.v[0].people);
	cal_result_free(&r);
}

static void test_cancelled(void **state)
{
	cal_result_t r;
	expand("cancelled-instance.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 3);
	expect(&r, 1, "cancelled-one@test", "2026-03-09T15:00:00Z");
	assert_false(r.v[0].cancelled);
	assert_true(r.v[1].cancelled);
	assert_false(r.v[2].cancelled);
	assert_string_equal(r.v[1].summary, "Not this week");
	cal_result_free(&r);

	expand("cancelled-event.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 2);
	assert_true(r.v[0].cancelled);
	assert_true(r.v[1].cancelled);
	cal_result_free(&r);
}

static void test_all_day(void **state)
{
	cal_result_t r;
	/* Three days, one instance at 00:00 of the first in the zone. */
	expand("all-day.ics", "Europe/Berlin", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 1);
	expect(&r, 0, "offsite@test", "2026-03-09T23:00:00Z");
	assert_true(r.v[0].all_day);
	cal_result_free(&r);

	expand("all-day.ics", "America/Los_Angeles", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 1);
	expect(&r, 0, "offsite@test", "2026-03-10T07:00:00Z");
	cal_result_free(&r);

	/* Only its start counts: a window from its second day misses it. */
	expand("all-day.ics", "Europe/Berlin", "2026-03-11T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 0);
	cal_result_free(&r);
}

static void test_allday_override_utc_rid(void **state)
{
	cal_result_t r;
	/* RECURRENCE-ID:20260316T000000Z names the 16th of an all-day
	 * series, whatever zone the leader is in. */
	expand("allday-override.ics", "Europe/Berlin", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 3);
	expect(&r, 0, "allday-weekly@test", "2026-03-08T23:00:00Z");
	expect(&r, 1, "allday-weekly@test", "2026-03-16T23:00:00Z");
	assert_string_equal(r.v[1].summary, "Tuesday off this week");
	assert_int_equal(r.v[1].recurrence_id, at("2026-03-15T23:00:00Z"));
	expect(&r, 2, "allday-weekly@test", "2026-03-22T23:00:00Z");
	cal_result_free(&r);
}

static void test_floating(void **state)
{
	cal_result_t r;
	expand("floating.ics", "America/New_York", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 1);
	expect(&r, 0, "floating@test", "2026-03-10T13:00:00Z");
	cal_result_free(&r);
	expand("floating.ics", "Asia/Tokyo", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	expect(&r, 0, "floating@test", "2026-03-10T00:00:00Z");
	expect_no_warning(&r);
	cal_result_free(&r);
}

static void test_unknown_tzid(void **state)
{
	cal_result_t r;
	expand("unknown-tzid.ics", "Europe/Berlin", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 1);
	expect(&r, 0, "unknown-tz@test", "2026-03-10T08:00:00Z");
	assert_int_equal(r.warnings.n, 1);
	assert_string_equal(
		r.warnings.v[0],
		"unknown-tz@test: unknown time zone 'Mars/Olympus', "
		"read as Europe/Berlin");
	cal_result_free(&r);
}

static void test_outlook_vtimezone(void **state)
{
	cal_result_t r;
	expand("outlook-vtimezone.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	expect_no_warning(&r);
	assert_int_equal(r.n, 2);
	expect(&r, 0, "outlook@test", "2026-03-23T08:00:00Z");
	expect(&r, 1, "outlook@test", "2026-03-30T07:00:00Z");
	cal_result_free(&r);
}

static void test_zone_aliases(void **state)
{
	cal_result_t r;
	/* "Eastern Standard Time" is America/New_York, and a tzdata name
	 * behind a vendor prefix is that zone. */
	expand("windows-tzid.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	expect_no_warning(&r);
	assert_int_equal(r.n, 2);
	expect(&r, 0, "prefixed@test", "2026-03-10T08:00:00Z");
	expect(&r, 1, "windows-name@test", "2026-03-10T13:00:00Z");
	cal_result_free(&r);
}

static void test_people(void **state)
{
	cal_result_t r;
	expand("attendees.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 1);
	const cal_instance_t *in = &r.v[0];
	assert_int_equal(in->npeople, 5);
	const cal_person_t *p = in->people;
	assert_string_equal(p[0].addr, "boss@example.com");
	assert_string_equal(p[0].name, "Boss Person");
	assert_true(p[0].organizer);
	assert_false(p[0].declined || p[0].resource);
	assert_string_equal(p[1].addr, "jo@example.com");
	assert_string_equal(p[1].name, "Jo Kim");
	assert_true(p[1].declined);
	assert_false(p[1].organizer || p[1].resource);
	assert_string_equal(p[2].addr, "room1@example.com");
	assert_string_equal(p[2].name, "Room 1");
	assert_true(p[2].resource);
	assert_string_equal(p[3].addr, "projector@example.com");
	assert_null(p[3].name);
	assert_true(p[3].resource);
	assert_string_equal(p[4].addr, "ann@example.com");
	assert_string_equal(p[4].name, "Ann \"The Boss\" Lee"); /* RFC 6868 */
	assert_false(p[4].declined);
	cal_result_free(&r);
}

static void test_two_vcalendars(void **state)
{
	cal_result_t r;
	expand("two-vcalendars.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 2);
	expect(&r, 0, "first@test", "2026-03-10T08:00:00Z");
	expect(&r, 1, "second@test", "2026-03-11T09:00:00Z");
	cal_result_free(&r);
}

static void test_bom_crlf(void **state)
{
	cal_result_t r;
	expand("bom-crlf.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 1);
	expect(&r, 0, "bom-crlf@test", "2026-03-10T09:00:00Z");
	assert_string_equal(r.v[0].summary, "A summary folded over two lines");
	cal_result_free(&r);
}

static void test_malformed(void **state)
{
	cal_result_t r;
	expand("malformed.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 1);
	expect(&r, 0, "good@test", "2026-03-11T09:00:00Z");
	assert_int_equal(r.warnings.n, 1);
	assert_true(str_starts(r.warnings.v[0], "bad@test: "));
	cal_result_free(&r);

	expand("no-dtstart.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_int_equal(r.n, 1);
	expect(&r, 0, "hasstart@test", "2026-03-11T09:00:00Z");
	assert_int_equal(r.warnings.n, 1);
	assert_string_equal(r.warnings.v[0], "nostart@test: missing DTSTART");
	cal_result_free(&r);
}

static void test_invalid_rules(void **state)
{
	cal_result_t r;
	clock_t t0 = clock();
	expand("invalid-rule.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-04-01T00:00:00Z", &r);
	assert_true(clock() - t0 < CPU_LIMIT);
	assert_int_equal(r.n, 1);
	expect(&r, 0, "fine@test", "2026-03-11T09:00:00Z");
	assert_int_equal(r.warnings.n, 3);
	const char *want[] = {
		"weekno@test: invalid RRULE 'FREQ=MONTHLY;BYWEEKNO=3'",
		"never@test: RRULE names no day (BYMONTH with BYMONTHDAY)",
		"costly@test: RRULE too costly to expand (a sub-daily FREQ "
		"with day restrictions)",
	};
	for (size_t i = 0; i < 3; i++)
		assert_true(strvec_contains(&r.warnings, want[i]));
	cal_result_free(&r);
}

static void test_secondly(void **state)
{
	cal_result_t r;
	clock_t t0 = clock();
	expand("secondly.ics", "UTC", "2026-03-01T00:00:00Z",
	       "2026-03-02T00:00:00Z", &r);
	assert_true(clock() - t0 < CPU_LIMIT);
	/* Every second of the window from the first, cut at the limit;
	 * every 7 minutes since 2020-01-05T09:30Z. */
	size_t secs = 0, sevens = 0;
	int64_t next = at("2026-03-01T00:00:00Z");
	int64_t seven = at("2026-03-01T00:03:00Z");
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.v[i].uid, "every-second@test") == 0) {
			assert_int_equal(r.v[i].start, next);
			next++;
			secs++;
		} else {
			assert_string_equal(r.v[i].uid, "every-7-minutes@test");
			assert_int_equal(r.v[i].start, seven);
			seven += 7 * 60;
			sevens++;
		}
	}
	assert_int_equal(secs, CAL_MAX_INSTANCES);
	assert_int_equal(sevens, 206); /* 00:03 .. 23:58 */
	assert_int_equal(r.warnings.n, 1);
	assert_string_equal(r.warnings.v[0],
			    "every-second@test: more than 5000 instances in "
			    "the window, kept the first 5000");
	cal_result_free(&r);
}

static void test_not_icalendar(void **state)
{
	cal_result_t r;
	err_t err = {0};
	const char *text = "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n";
	assert_int_equal(cal_expand(text, strlen(text), "UTC", 0, 1, &r, &err),
			 ST_DATAERR);
	assert_int_equal(r.n, 0);
	assert_int_equal(err.status, ST_DATAERR);
	assert_int_equal(cal_expand("", 0, "UTC", 0, 1, &r, &err), ST_DATAERR);
	cal_result_free(&r);
	cal_result_free(NULL);
}

static void test_hostile_nesting(void **state)
{
	/* 100000 nested components and stray END lines: libical would
	 * recurse that deep and print on stderr; cal must do neither. */
	strbuf_t b = {0};
	sb_puts(&b, "END:VEVENT\r\nEND;X=1:VALARM\r\nBEGIN:VCALENDAR\r\n"
		    "BEGIN:VEVENT\r\nUID:deep@test\r\n"
		    "DTSTART:20260310T090000Z\r\n");
	for (int i = 0; i < 100000; i++)
		sb_puts(&b, "BEGIN:VALARM\r\n");
	cal_result_t r;
	err_t err = {0};
	assert_int_equal(cal_expand(b.s, b.len, "UTC",
				    at("2026-03-01T00:00:00Z"),
				    at("2026-04-01T00:00:00Z"), &r, &err),
			 ST_OK);
	assert_int_equal(r.n, 1);
	expect(&r, 0, "deep@test", "2026-03-10T09:00:00Z");
	cal_result_free(&r);
	sb_free(&b);
}

static void test_sorted(void **state)
{
	/* Equal starts are ordered by UID; text need not end in NUL. */
	const char *text =
		"BEGIN:VCALENDAR\r\n"
		"BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260310T090000Z\r\n"
		"END:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260310T090000Z\r\n"
		"END:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20260309T090000Z\r\n"
		"END:VEVENT\r\n"
		"END:VCALENDAR\r\nGARBAGE";
	cal_result_t r;
	err_t err = {0};
	assert_int_equal(cal_expand(text, strlen(text) - 7, "UTC",
				    at("2026-03-01T00:00:00Z"),
				    at("2026-04-01T00:00:00Z"), &r, &err),
			 ST_OK);
	assert_int_equal(r.n, 3);
	expect(&r, 0, "c", "2026-03-09T09:00:00Z");
	expect(&r, 1, "a", "2026-03-10T09:00:00Z");
	expect(&r, 2, "b", "2026-03-10T09:00:00Z");
	cal_result_free(&r);
}

static int teardown(void **state)
{
	icaltimezone_free_builtin_timezones();
	icalmemory_free_ring();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weekly_count),
		cmocka_unit_test(test_weekly_until),
		cmocka_unit_test(test_dst_new_york),
		cmocka_unit_test(test_dst_berlin),
		cmocka_unit_test(test_rdate),
		cmocka_unit_test(test_exdate),
		cmocka_unit_test(test_override_moved),
		cmocka_unit_test(test_cancelled),
		cmocka_unit_test(test_all_day),
		cmocka_unit_test(test_allday_override_utc_rid),
		cmocka_unit_test(test_floating),
		cmocka_unit_test(test_unknown_tzid),
		cmocka_unit_test(test_outlook_vtimezone),
		cmocka_unit_test(test_zone_aliases),
		cmocka_unit_test(test_people),
		cmocka_unit_test(test_two_vcalendars),
		cmocka_unit_test(test_bom_crlf),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_invalid_rules),
		cmocka_unit_test(test_secondly),
		cmocka_unit_test(test_not_icalendar),
		cmocka_unit_test(test_hostile_nesting),
		cmocka_unit_test(test_sorted),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
