/* Unit tests of ident: own addresses, delegates, noise rules, ignore
 * patterns, circles and the auto-merge key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "ident.h"

static config_leader_t leader(void)
{
	static config_circle_t circles[2];
	config_leader_t l = {0};
	l.id = "alex";
	l.email = "alex@example.com";
	strvec_push(&l.aliases, "a.leader@corp.example");
	strvec_push(&l.delegates, "sam@example.com");
	strvec_push(&l.ignore, "*@lists.example.org");
	strvec_push(&l.ignore, "newsletter-*@*");
	circles[0].name = "team";
	circles[0].patterns = (strvec_t){0};
	strvec_push(&circles[0].patterns, "priya@example.com");
	circles[1].name = "clients";
	circles[1].patterns = (strvec_t){0};
	strvec_push(&circles[1].patterns, "*@client-a.example");
	l.circles = circles;
	l.ncircles = 2;
	return l;
}

static void free_leader(config_leader_t *l)
{
	strvec_free(&l->aliases);
	strvec_free(&l->delegates);
	strvec_free(&l->ignore);
	for (size_t i = 0; i < l->ncircles; i++)
		strvec_free(&l->circles[i].patterns);
}

static void test_glob(void **state)
{
	assert_true(ident_glob("*@lists.example.org", "dev@LISTS.example.org"));
	assert_true(ident_glob("no?reply@*", "no-reply@x.example"));
	assert_true(ident_glob("*", ""));
	assert_true(ident_glob("a*b*c", "aXXbYYc"));
	assert_false(ident_glob("a*b*c", "aXXbYY"));
	assert_false(ident_glob("*@example.com", "x@example.com.evil"));
	assert_false(ident_glob("", "x"));
}

static void test_own_and_sender(void **state)
{
	config_leader_t l = leader();
	assert_true(ident_is_own(&l, "ALEX@example.com"));
	assert_true(ident_is_own(&l, "a.leader@corp.example"));
	assert_false(ident_is_own(&l, "sam@example.com"));
	assert_true(ident_is_sender(&l, "sam@example.com"));
	assert_false(ident_is_sender(&l, "priya@example.com"));
	assert_int_equal(ident_classify(&l, "alex@example.com"), IDENT_OWN);
	free_leader(&l);
}

static void test_noise(void **state)
{
	const char *automated[] = {
		"noreply@service.example", "no-reply@billing.example",
		"NoReply+123@x.example", "notifications@tracker.example",
		"mailer-daemon@mx.example", "postmaster@example.com",
		"do-not-reply@bank.example", "bounces+abc@mail.example",
	};
	const char *lists[] = {
		"list@lists.example.org", "dev-request@example.org",
		"owner-dev@example.org", "help@lists.gnu.org",
		"foo@googlegroups.com", "team-announce@example.com",
	};
	const char *people[] = {
		"priya@example.com", "notify.me.jones@example.com",
		"listerine@example.com", "lisa@example.com", "jo-l@example.com",
	};
	for (size_t i = 0; i < sizeof automated / sizeof *automated; i++)
		assert_int_equal(ident_noise(automated[i]), IDENT_AUTOMATED);
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
		assert_int_equal(ident_noise(lists[i]), IDENT_LIST);
	for (size_t i = 0; i < sizeof people / sizeof *people; i++)
		assert_int_equal(ident_noise(people[i]), IDENT_CONTACT);
}

static void test_classify_order(void **state)
{
	config_leader_t l = leader();
	/* ignore patterns win over the rules, own over everything */
	assert_int_equal(ident_classify(&l, "list@lists.example.org"), IDENT_IGNORED);
	assert_int_equal(ident_classify(&l, "newsletter-x@shop.example"), IDENT_IGNORED);
	assert_int_equal(ident_classify(&l, "noreply@x.example"), IDENT_AUTOMATED);
	assert_int_equal(ident_classify(&l, "priya@example.com"), IDENT_CONTACT);
	assert_string_equal(ident_class_name(IDENT_IGNORED), "ignored");
	assert_null(ident_class_name(IDENT_CONTACT));
	free_leader(&l);
}

static void test_circle(void **state)
{
	config_leader_t l = leader();
	assert_string_equal(ident_circle(&l, "priya@example.com"), "team");
	assert_string_equal(ident_circle(&l, "x@CLIENT-A.example"), "clients");
	assert_null(ident_circle(&l, "x@client-b.example"));
	free_leader(&l);
}

static void test_merge_key(void **state)
{
	char *a = ident_merge_key("jo.kim@work.example", "Jo Kim");
	char *b = ident_merge_key("jo.kim@home.example", " jo  KIM ");
	char *c = ident_merge_key("jo.kim@home.example", "Jo Kimball");
	char *d = ident_merge_key("kim@home.example", "Jo Kim");
	assert_non_null(a);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	/* no name, or a name that is the address: never merged */
	assert_null(ident_merge_key("jo@x.example", NULL));
	assert_null(ident_merge_key("jo@x.example", "  "));
	assert_null(ident_merge_key("jo@x.example", "jo@x.example"));
	free(a);
	free(b);
	free(c);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_own_and_sender),
		cmocka_unit_test(test_noise),
		cmocka_unit_test(test_classify_order),
		cmocka_unit_test(test_circle),
		cmocka_unit_test(test_merge_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
