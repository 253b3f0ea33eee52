/* Unit tests of the neglect model (score) with contacts: properties of
 * DESIGN §6 on histories built by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "contacts.h"
#include "score.h"

#define DAY 86400
/* Monday 2026-11-30 08:00 UTC */
static const int64_t NOW = 1796025600;

typedef struct {
	store_history_t h;
	config_t cfg;
	config_leader_t l;
	contacts_t c;
	score_t s[8];
	score_input_t in[8];
} world_t;

static void world_init(world_t *w, const char *const *addrs, size_t n)
{
	memset(w, 0, sizeof *w);
	w->cfg.min_touches = 3;
	w->cfg.neglect_factor = 2.0;
	w->cfg.lookback = 365 * DAY;
	w->cfg.auto_merge = true;
	w->l.id = "alex";
	w->l.email = "alex@example.com";
	w->h.addrs = xcalloc(n, sizeof *w->h.addrs);
	for (size_t i = 0; i < n; i++)
		w->h.addrs[i].addr = xstrdup(addrs[i]);
	w->h.naddrs = n;
}

/* An interaction days_ago before NOW with the given address indices. */
static void add(world_t *w, double days_ago, store_channel_t ch, double weight,
		uint32_t a, int b)
{
	w->h.ias = xrealloc(w->h.ias, (w->h.nias + 1) * sizeof *w->h.ias);
	store_ia_t *ia = &w->h.ias[w->h.nias++];
	memset(ia, 0, sizeof *ia);
	ia->time = NOW - (int64_t)(days_ago * DAY);
	ia->channel = ch;
	ia->weight = weight;
	ia->parts = xcalloc(2, sizeof *ia->parts);
	ia->parts[ia->nparts++] = a;
	if (b >= 0)
		ia->parts[ia->nparts++] = (uint32_t)b;
}

static int ia_cmp(const void *a, const void *b)
{
	const store_ia_t *x = a, *y = b;
	return (x->time > y->time) - (x->time < y->time);
}

static void run(world_t *w, const store_said_t *said)
{
	qsort(w->h.ias, w->h.nias, sizeof *w->h.ias, ia_cmp);
	contacts_build(&w->cfg, &w->l, said, &w->h, &w->c);
	score_people(&w->cfg, &w->h, &w->c, w->in, NOW, NULL, 0, w->s);
}

static void world_free(world_t *w)
{
	contacts_free(&w->c);
	store_history_free(&w->h);
}

static void weekly_then_silent(world_t *w, uint32_t who, int weeks, int silent_days)
{
	for (int k = 0; k < weeks; k++)
		add(w, silent_days + 7.0 * k, STORE_EMAIL, 1.0, who, -1);
}

static void test_neglected_and_rank(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example", "c@x.example"};
	world_t w;
	world_init(&w, addrs, 3);
	weekly_then_silent(&w, 0, 10, 30); /* weekly, silent 30 days */
	weekly_then_silent(&w, 1, 20, 40); /* weekly, silent 40 days: ranks first */
	weekly_then_silent(&w, 2, 10, 1);  /* touched yesterday */
	run(&w, NULL);
	assert_int_equal(w.c.n, 3);
	assert_true(w.s[0].rhythm_days == 7.0);
	assert_int_equal(w.s[0].days_since, 30);
	assert_true(w.s[0].neglected);
	assert_true(w.s[1].neglected);
	assert_false(w.s[2].neglected); /* touched yesterday: never */
	size_t *order;
	assert_int_equal(score_rank_neglected(&w.c, w.s, &order), 2);
	assert_string_equal(w.c.v[order[0]].address, "b@x.example");
	assert_string_equal(w.c.v[order[1]].address, "a@x.example");
	assert_int_equal(w.s[0].suggestion, SCORE_CALL);
	free(order);
	world_free(&w);
}

static void test_snooze_cadence_upcoming(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example", "c@x.example",
			       "d@x.example"};
	world_t w;
	world_init(&w, addrs, 4);
	for (uint32_t i = 0; i < 4; i++)
		weekly_then_silent(&w, i, 10, 30);
	w.in[0].snoozed_until = NOW + DAY;   /* snoozed */
	w.in[1].cadence_days = 60;           /* wanted every two months */
	w.in[2].upcoming = true;             /* meeting booked */
	run(&w, NULL);
	assert_false(w.s[0].neglected);
	assert_true(w.s[0].snoozed);
	assert_false(w.s[1].neglected);
	assert_true(w.s[1].rhythm_days == 60.0);
	assert_false(w.s[1].rhythm_learned);
	assert_false(w.s[2].neglected);
	assert_true(w.s[3].neglected);
	/* a past snooze no longer counts */
	w.in[0].snoozed_until = NOW - DAY;
	contacts_free(&w.c);
	run(&w, NULL);
	assert_true(w.s[0].neglected);
	world_free(&w);
}

static void test_too_few_touches_and_weak(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example"};
	world_t w;
	world_init(&w, addrs, 2);
	add(&w, 100, STORE_EMAIL, 1.0, 0, -1);
	add(&w, 90, STORE_EMAIL, 1.0, 0, -1); /* two touch days: not real */
	for (int k = 0; k < 10; k++)           /* only weak interactions */
		add(&w, 30 + 7 * k, STORE_EMAIL, 0.3, 1, -1);
	run(&w, NULL);
	assert_false(w.s[0].real);
	assert_false(w.s[0].neglected);
	assert_true(w.s[0].rhythm_days < 0);
	assert_int_equal(w.c.v[1].touches, 0);
	assert_false(w.s[1].neglected);
	/* with a cadence one touch is enough */
	w.in[0].cadence_days = 14;
	contacts_free(&w.c);
	run(&w, NULL);
	assert_true(w.s[0].neglected);
	world_free(&w);
}

static void test_merge_joins_histories(void **state)
{
	const char *addrs[] = {"jo@home.example", "kim@work.example"};
	world_t w;
	world_init(&w, addrs, 2);
	/* alternate addresses, weekly, then silence */
	for (int k = 0; k < 10; k++)
		add(&w, 30 + 7 * k, STORE_EMAIL, 1.0, (uint32_t)(k % 2), -1);
	add(&w, 200, STORE_EMAIL, 1.0, 0, 1); /* one mail to both */
	run(&w, NULL);
	assert_int_equal(w.c.n, 2);
	assert_true(w.s[0].rhythm_days == 14.0); /* each alone: every 2 weeks */
	contacts_free(&w.c);
	store_said_t said = {0};
	strvec_push(&said.merged, "kim@work.example");
	strvec_push(&said.merged, "jo@home.example");
	run(&w, &said);
	assert_int_equal(w.c.n, 1);
	assert_int_equal(w.c.v[0].naddresses, 2);
	assert_int_equal(w.c.v[0].interactions, 11); /* the mail to both: once */
	assert_true(w.s[0].rhythm_days == 7.0);
	assert_true(w.s[0].neglected);
	store_said_free(&said);
	world_free(&w);
}

static void test_order_independent(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example", "c@x.example"};
	world_t w1, w2;
	world_init(&w1, addrs, 3);
	world_init(&w2, addrs, 3);
	double days[] = {3, 10, 17, 24, 45, 52, 59, 80, 87};
	for (int k = 0; k < 9; k++) {
		add(&w1, days[k], k % 3 ? STORE_EMAIL : STORE_MEETING, 1.0,
		    (uint32_t)(k % 3), (k + 1) % 3);
		add(&w2, days[8 - k], (8 - k) % 3 ? STORE_EMAIL : STORE_MEETING,
		    1.0, (uint32_t)((8 - k + 1) % 3), (8 - k) % 3);
	}
	run(&w1, NULL);
	run(&w2, NULL);
	assert_memory_equal(w1.s, w2.s, 3 * sizeof *w1.s);
	world_free(&w1);
	world_free(&w2);
}

static void test_suggestion_and_history(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example"};
	world_t w;
	world_init(&w, addrs, 2);
	add(&w, 40, STORE_MEETING, 2.0, 0, -1);
	add(&w, 33, STORE_MEETING, 2.0, 0, -1);
	add(&w, 26, STORE_MEETING, 2.0, 0, -1);
	add(&w, 0.1, STORE_EMAIL, 1.0, 1, -1); /* this week (Monday) */
	add(&w, 2, STORE_MEETING, 2.0, 1, -1);  /* last week (Saturday) */
	add(&w, 3, STORE_EMAIL, 1.0, 1, -1);
	run(&w, NULL);
	assert_int_equal(w.s[0].suggestion, SCORE_NOTE);
	assert_int_equal(w.s[1].suggestion, SCORE_CHECK_IN);
	assert_int_equal(w.s[1].history[SCORE_WEEKS - 1], 1);
	assert_int_equal(w.s[1].history[SCORE_WEEKS - 2], 2);
	/* 26, 33 and 40 days before Monday Nov 30: weeks -4, -5, -6 */
	assert_int_equal(w.s[0].history[SCORE_WEEKS - 5], 1);
	assert_int_equal(w.s[0].history[SCORE_WEEKS - 6], 1);
	assert_int_equal(w.s[0].history[SCORE_WEEKS - 7], 1);
	world_free(&w);
}

/* Local days follow the offset of each instant, not that of now: two
 * touches 11.5 hours apart around midnight UTC are one summer day in
 * Berlin (+0200) even when now is in winter (+0100). */
static void test_days_follow_dst(void **state)
{
	const char *addrs[] = {"a@x.example"};
	world_t w;
	world_init(&w, addrs, 1);
	add(&w, 150.0 + 9.5 / 24, STORE_EMAIL, 1.0, 0, -1); /* 22:30 UTC */
	add(&w, 150.0 - 2.0 / 24, STORE_EMAIL, 1.0, 0, -1); /* 10:00 UTC */
	qsort(w.h.ias, w.h.nias, sizeof *w.h.ias, ia_cmp);
	contacts_build(&w.cfg, &w.l, NULL, &w.h, &w.c);
	long summer[2] = {7200, 7200};
	score_people(&w.cfg, &w.h, &w.c, NULL, NOW, summer, 3600, w.s);
	assert_int_equal(w.s[0].touch_days, 1);
	score_people(&w.cfg, &w.h, &w.c, NULL, NOW, NULL, 3600, w.s);
	assert_int_equal(w.s[0].touch_days, 2);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neglected_and_rank),
		cmocka_unit_test(test_snooze_cadence_upcoming),
		cmocka_unit_test(test_too_few_touches_and_weak),
		cmocka_unit_test(test_merge_joins_histories),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_suggestion_and_history),
		cmocka_unit_test(test_days_follow_dst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
