/* Unit tests of ident: what an address is, own addresses, delegates, the
 * automated, list and role rules, ignore and keep patterns, circles and
 * the auto-merge key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

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
	strvec_push(&l.keep, "info@small-partner.example");
	strvec_push(&l.keep, "*@tiny.example");
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
	strvec_free(&l->keep);
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
	assert_int_equal(ident_classify(&l, NULL, "alex@example.com"),
			 IDENT_OWN);
	/* a delegate is never a contact either: reason "own" */
	assert_int_equal(ident_classify(&l, NULL, "SAM@example.com"),
			 IDENT_OWN);
	assert_string_equal(ident_class_name(IDENT_OWN), "own");
	free_leader(&l);
}

static void test_builtin(void **state)
{
	const char *automated[] = {
		"noreply@service.example",
		"no-reply@billing.example",
		"NoReply+123@x.example",
		"notifications@tracker.example",
		"mailer-daemon@mx.example",
		"postmaster@example.com",
		"do-not-reply@bank.example",
		"bounces+abc@mail.example",
		"calendar-notification@google.com",
		"account-noreply@x.example",
		"reply+ABC123@reply.github.com",
		"x7@bounce.mail.example",
		"no.reply@bank.example",
		"do.not.reply@shop.example",
		"No_Reply@x.example",
	};
	const char *lists[] = {
		"list@lists.example.org",
		"dev-request@example.org",
		"owner-dev@example.org",
		"help@lists.gnu.org",
		"foo@googlegroups.com",
		"team-announce@example.com",
		"users@mailman.example.org",
		"users@example.org",
		"x@groups.io",
	};
	const char *roles[] = {
		"info@example.com",         "support@example.com",
		"sales@example.com",        "team@example.com",
		"all@example.com",          "everyone@example.com",
		"hr@example.com",           "admin@example.com",
		"webmaster@example.com",    "billing@example.com",
		"help@example.com",         "marketing@example.com",
		"press@example.com",        "feedback@example.com",
		"service@example.com",      "updates@example.com",
		"alerts@example.com",       "newsletter@example.com",
		"announce@example.com",     "announcements@example.com",
		"expense.report@enron.com", "approvals@example.com",
		"sales-team@example.com",   "support.desk@example.com",
		"outlook.team@enron.com",   "hr+benefits@example.com",
		"all-hands@example.com",    "allstaff@example.com",
		"everybody@example.com",    "all-staff@example.com",
	};
	const char *people[] = {
		"priya@example.com",
		"notify.me.jones@example.com",
		"listerine@example.com",
		"lisa@example.com",
		"jo-l@example.com",
		"teamwork.jones@example.com",
		"info.kim@example.com",
		"sales.kim@example.com",
		"allen@example.com",
		"kenneth.lay@enron.com",
		"helpful.harry@example.com",
		"replyguy@example.com",
		"ed@reply.io",
		"bob@groups.example",
		"alice@list.co",
		"nora.list@example.com",
	};
	(void)state;
	for (size_t i = 0; i < sizeof automated / sizeof *automated; i++)
		if (ident_builtin(automated[i]) != IDENT_AUTOMATED)
			fail_msg("%s: not automated", automated[i]);
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
		if (ident_builtin(lists[i]) != IDENT_LIST)
			fail_msg("%s: not a list", lists[i]);
	for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
		if (ident_builtin(roles[i]) != IDENT_ROLE)
			fail_msg("%s: not a role", roles[i]);
	for (size_t i = 0; i < sizeof people / sizeof *people; i++)
		if (ident_builtin(people[i]) != IDENT_CONTACT)
			fail_msg("%s: not a person", people[i]);
	assert_string_equal(ident_class_name(IDENT_ROLE), "role");
}

static void test_classify_order(void **state)
{
	config_leader_t l = leader();
	strvec_t said = {0}, staff = {0}, others = {0};
	(void)state;
	strvec_push(&said, "*@said.example");
	strvec_push(&staff, "kim.staff@example.com");
	strvec_push(&others, "sherri.sera@enron.com");
	ident_extra_t x = {&said, &staff, &others};
	/* ignore patterns win over the rules, own over everything */
	assert_int_equal(ident_classify(&l, NULL, "list@lists.example.org"),
			 IDENT_IGNORED);
	assert_int_equal(ident_classify(&l, NULL, "newsletter-x@shop.example"),
			 IDENT_IGNORED);
	assert_int_equal(ident_classify(&l, NULL, "noreply@x.example"),
			 IDENT_AUTOMATED);
	assert_int_equal(ident_classify(&l, NULL, "priya@example.com"),
			 IDENT_CONTACT);
	/* patterns given on the command line count as the config's */
	assert_int_equal(ident_classify(&l, &x, "jo@said.example"),
			 IDENT_IGNORED);
	/* who else sends from the leader's sent folder is the leader's staff;
	 * another leader's assistant is a role, not a person */
	assert_int_equal(ident_classify(&l, &x, "Kim.Staff@example.com"),
			 IDENT_OWN);
	assert_int_equal(ident_classify(&l, &x, "sherri.sera@enron.com"),
			 IDENT_ROLE);
	assert_int_equal(ident_classify(&l, NULL, "sherri.sera@enron.com"),
			 IDENT_CONTACT);
	assert_int_equal(ident_classify(&l, NULL, "jo@said.example"),
			 IDENT_CONTACT);
	/* keep makes people of what the rules would leave out ... */
	assert_int_equal(ident_builtin("info@small-partner.example"),
			 IDENT_ROLE);
	assert_int_equal(ident_classify(&l, NULL, "info@small-partner.example"),
			 IDENT_CONTACT);
	assert_int_equal(ident_classify(&l, NULL, "INFO@small-partner.example"),
			 IDENT_CONTACT);
	assert_int_equal(ident_classify(&l, NULL, "noreply@tiny.example"),
			 IDENT_CONTACT);
	assert_int_equal(ident_classify(&l, NULL, "info@other.example"),
			 IDENT_ROLE);
	/* ... but never of the leader, a delegate, or what the leader
	 * ignores */
	strvec_push(&l.keep, "*@example.com");
	strvec_push(&l.keep, "*@lists.example.org");
	assert_int_equal(ident_classify(&l, NULL, "sam@example.com"),
			 IDENT_OWN);
	assert_int_equal(ident_classify(&l, NULL, "alex@example.com"),
			 IDENT_OWN);
	assert_int_equal(ident_classify(&l, NULL, "list@lists.example.org"),
			 IDENT_IGNORED);
	assert_string_equal(ident_class_name(IDENT_IGNORED), "ignored");
	assert_null(ident_class_name(IDENT_CONTACT));
	/* keep makes a person of them too */
	strvec_push(&l.keep, "sherri.sera@enron.com");
	assert_int_equal(ident_classify(&l, &x, "sherri.sera@enron.com"),
			 IDENT_CONTACT);
	strvec_free(&said);
	strvec_free(&staff);
	strvec_free(&others);
	free_leader(&l);
}

static void test_addr_ok(void **state)
{
	const char *good[] = {
		"a@b",
		"alex@example.com",
		"o'brien@example.ie",
		"first.last+tag@sub.example.co.uk",
		"j\xc3\xb6rg@m\xc3\xbcller.example",
		"x_y-z@example.com",
		"ok@[10.0.0.1]",
		"ok@[IPv6:2001:db8::1]",
	};
	const char *bad[] = {
		"",
		"alex",
		"@example.com",
		"alex@",
		"alex(x)@example.com",
		"a@b@c",
		"<a@b>",
		"a b@example.com",
		"a@example.com,b@example.com",
		"\"a\"@example.com",
		"a@[127.0.0.1",
		"a@[1 2]",
		"a@example..com",
		"a@.example.com",
		"a@example.com.",
		"a;b@example.com",
		"a\r\n@example.com",
		"a\x7f@example.com",
		"a\xff@example.com",
		"a:b@example.com",
	};
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if (!ident_addr_ok(good[i]))
			fail_msg("refused: %s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (ident_addr_ok(bad[i]) || ident_addr_sendable(bad[i]))
			fail_msg("accepted: %s", bad[i]);
	assert_true(ident_addr_sendable("alex@example.com"));
	assert_false(ident_addr_sendable("j\xc3\xb6rg@example.com"));
	assert_false(ident_addr_sendable("ok@[10.0.0.1]"));
	/* 254 bytes at most */
	char longest[300];
	memset(longest, 'a', sizeof longest);
	memcpy(longest + 242, "@example.com", 13);
	assert_int_equal(strlen(longest), 254);
	assert_true(ident_addr_ok(longest));
	memset(longest, 'a', sizeof longest);
	memcpy(longest + 243, "@example.com", 13);
	assert_false(ident_addr_ok(longest));
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

/* ident_clean_name(xstrdup(in)) equals want (NULL: nothing left). */
static void check_clean(const char *in, const char *want)
{
	char *got = ident_clean_name(xstrdup(in));
	if (want)
		assert_string_equal(got, want);
	else
		assert_null(got);
	free(got);
}

static void test_clean_name(void **state)
{
	check_clean("Ann Lee", "Ann Lee");
	check_clean("A. Lee-Smith (NYC)", "A. Lee-Smith (NYC)");
	/* printable ASCII, but blanks to collapse or trim */
	check_clean("Ann  Lee", "Ann Lee");
	check_clean(" Ann", "Ann");
	check_clean("Ann ", "Ann");
	check_clean("Ann\tLee", "Ann Lee");
	check_clean("x", "x");
	/* C0 (NUL aside: a C string ends there), DEL */
	check_clean("Ann\x01\x1b[31mLee\x7f", "Ann [31mLee");
	check_clean("Ann\r\nBcc: x@y\tZ", "Ann Bcc: x@y Z");
	/* C1: U+0080, U+0085 NEL, U+009B CSI, U+009F */
	check_clean("\xc2\x80"
		    "Ann\xc2\x85Lee\xc2\x9b"
		    "31m\xc2\x9f",
		    "Ann Lee 31m");
	/* bidi embeddings and overrides U+202A-U+202E, isolates
	 * U+2066-U+2069, separators U+2028, U+2029 */
	check_clean("Ann\xe2\x80\xaa"
		    "a\xe2\x80\xab"
		    "b\xe2\x80\xac"
		    "c\xe2\x80\xad"
		    "d\xe2\x80\xae"
		    "e",
		    "Ann a b c d e");
	check_clean("\xe2\x81\xa6"
		    "f\xe2\x81\xa7"
		    "g\xe2\x81\xa8"
		    "h\xe2\x81\xa9",
		    "f g h");
	check_clean("Ann\xe2\x80\xa8Lee\xe2\x80\xa9", "Ann Lee");
	/* "exe.txt" shown as "txt.exe": the override goes */
	check_clean("invoice\xe2\x80\xaetxt.exe", "invoice txt.exe");
	/* runs of anything cleaned collapse; blanks at the ends go */
	check_clean("  Ann \xc2\x85\xe2\x80\xae\t Lee  ", "Ann Lee");
	/* what stays: LRM, RLM, ALM, U+202F, NBSP, letters, emoji */
	check_clean("\xd7\x90\xe2\x80\x8e"
		    "1\xe2\x80\x8f\xd8\x9c",
		    "\xd7\x90\xe2\x80\x8e"
		    "1\xe2\x80\x8f\xd8\x9c");
	check_clean("J\xc3\xb6rg\xc2\xa0M\xe2\x80\xaf"
		    "X \xf0\x9f\x98\x80",
		    "J\xc3\xb6rg\xc2\xa0M\xe2\x80\xaf"
		    "X \xf0\x9f\x98\x80");
	/* invalid UTF-8 as str_sanitize has it */
	check_clean("Ann\xc2Lee\xff", "Ann?Lee?");
	/* nothing left */
	check_clean("", NULL);
	check_clean(" \xc2\x85\xe2\x81\xa6\x01 ", NULL);
	assert_null(ident_clean_name(NULL));
	/* ident_unsafe_len on its own */
	assert_int_equal(ident_unsafe_len((const unsigned char *)"\x1b"), 1);
	assert_int_equal(ident_unsafe_len((const unsigned char *)"\xc2\x9b"),
			 2);
	assert_int_equal(
		ident_unsafe_len((const unsigned char *)"\xe2\x81\xa9"), 3);
	assert_int_equal(ident_unsafe_len((const unsigned char *)"a"), 0);
	assert_int_equal(ident_unsafe_len((const unsigned char *)"\xc2\xa0"),
			 0);
	assert_int_equal(
		ident_unsafe_len((const unsigned char *)"\xe2\x80\xa7"), 0);
	assert_int_equal(
		ident_unsafe_len((const unsigned char *)"\xe2\x81\xa5"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_own_and_sender),
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_addr_ok),
		cmocka_unit_test(test_classify_order),
		cmocka_unit_test(test_circle),
		cmocka_unit_test(test_merge_key),
		cmocka_unit_test(test_clean_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
