/* Unit tests of the pure parts of ingest: weights (DESIGN §5) and who
 * takes part in a meeting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ingest.h"

static void test_weights(void **state)
{
	assert_true(ingest_email_weight(1) == 1.0);
	assert_true(ingest_email_weight(3) == 1.0);
	assert_true(ingest_email_weight(6) == 0.5);
	assert_true(ingest_email_weight(7) < 0.5); /* no longer a touch */
	assert_true(ingest_meeting_weight(1) == 2.0);
	assert_true(ingest_meeting_weight(4) == 2.0);
	assert_true(ingest_meeting_weight(8) == 1.0);
	assert_true(ingest_meeting_weight(16) == 0.5);
	assert_true(ingest_meeting_weight(25) == 0.32);
	assert_true(ingest_meeting_weight(26) == 0.0);
}

static config_leader_t leader(void)
{
	config_leader_t l = {0};
	l.id = "alex";
	l.email = "alex@example.com";
	strvec_push(&l.aliases, "a@corp.example");
	return l;
}

static cal_instance_t meeting(cal_person_t *p, size_t n)
{
	cal_instance_t i = {0};
	i.uid = "u";
	i.people = p;
	i.npeople = n;
	return i;
}

static void test_parties(void **state)
{
	config_leader_t l = leader();
	store_party_t out[8];
	cal_person_t p[] = {
		{"jo@x.example", "Jo", true, false, false},    /* organizer */
		{"a@corp.example", NULL, false, false, false}, /* the leader */
		{"jo@x.example", NULL, false, false, false},   /* again */
		{"room@x.example", "Room", false, false, true},
		{"dee@x.example", "Dee", false, true, false}, /* declined */
		{"kai@x.example", NULL, false, false, false},
	};
	cal_instance_t m = meeting(p, 6);
	assert_int_equal(ingest_meeting_parties(&l, &m, out), 2);
	assert_string_equal(out[0].addr, "jo@x.example");
	assert_string_equal(out[0].name, "Jo");
	assert_string_equal(out[1].addr, "kai@x.example");

	/* the leader declined: not theirs */
	p[1].declined = true;
	assert_int_equal(ingest_meeting_parties(&l, &m, out), -1);
	/* ... unless they organize it */
	cal_person_t q[] = {
		{"alex@example.com", NULL, true, false, false},
		{"alex@example.com", NULL, false, true, false},
		{"kai@x.example", NULL, false, false, false},
	};
	m = meeting(q, 3);
	assert_int_equal(ingest_meeting_parties(&l, &m, out), 1);
	/* nobody but the leader */
	m = meeting(q, 2);
	assert_int_equal(ingest_meeting_parties(&l, &m, out), 0);
	strvec_free(&l.aliases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_parties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
