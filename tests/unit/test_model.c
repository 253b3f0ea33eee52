/* Unit tests of how the digest tells durations (model_elapsed,
 * model_span): rounded to the nearest unit as a person says them, and
 * singular or plural as the number wants; and weeks at the edges of the
 * years --now accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "tz.h"

static void expect_elapsed(int64_t days, const char *want)
{
	char buf[32];
	model_elapsed(days, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void test_elapsed(void **state)
{
	(void)state;
	expect_elapsed(0, "0 days");
	expect_elapsed(1, "1 day");
	expect_elapsed(13, "13 days");
	expect_elapsed(14, "2 weeks");
	expect_elapsed(24, "3 weeks");
	expect_elapsed(25, "4 weeks"); /* 3.57 weeks */
	expect_elapsed(27, "4 weeks"); /* not rounded down to 3 */
	expect_elapsed(28, "4 weeks");
	expect_elapsed(60, "9 weeks");
	expect_elapsed(61, "2 months");
	expect_elapsed(75, "2 months");
	expect_elapsed(76, "3 months"); /* 2.5 months */
	expect_elapsed(84, "3 months");
	expect_elapsed(365, "12 months");
}

static void expect_span(double days, double low, double high, const char *want)
{
	strbuf_t b = {0};
	model_span(&b, days, low, high);
	assert_string_equal(sb_str(&b), want);
	sb_free(&b);
}

static void test_span(void **state)
{
	(void)state;
	expect_span(1, -1, -1, "~1 day");
	expect_span(5, -1, -1, "~5 days");
	expect_span(6.4, -1, -1, "~6 days");
	expect_span(7, -1, -1, "~1 week"); /* not "~1 weeks" */
	expect_span(10, -1, -1, "~1 week");
	expect_span(11, -1, -1, "~2 weeks");
	expect_span(14, 12, 16, "~2 weeks"); /* the same in weeks */
	expect_span(35, 21, 56, "3\u20138 weeks");
	expect_span(9, 7, 14, "1\u20132 weeks");
	expect_span(30.4, -1, -1, "~4 weeks");
	expect_span(61, -1, -1, "~2 months");
	expect_span(30.4, 30.4, 30.4, "~4 weeks");
	expect_span(0.2, -1, -1, "~1 day"); /* never "~0 days" */
}

/* The last week --now accepts ends in 10000: its dates print as the last
 * day of 9999, never as a string strftime cut short ("10000-01-"). */
static void test_week_edges(void **state)
{
	(void)state;
	char id[16], start[11], end[11], utc[21];
	int64_t t;

	assert_true(tz_parse("9999-12-31T12:00:00Z", "UTC", &t));
	memset(end, 'x', sizeof end);
	model_week(t, "UTC", id, start, end);
	assert_string_equal(id, "9999-W52");
	assert_string_equal(start, "9999-12-27");
	assert_string_equal(end, "9999-12-30");
	tz_format_utc(t + 400 * 86400, utc);
	assert_string_equal(utc, "9999-12-30T23:59:59Z");
	assert_true(tz_parse("1900-01-01", "UTC", &t));
	model_week(t, "UTC", id, start, end);
	assert_string_equal(start, "1900-01-02");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elapsed),
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_week_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
