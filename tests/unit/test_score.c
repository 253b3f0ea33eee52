/* Unit tests of the neglect model (score) with contacts: each rule of
 * DESIGN §6 on histories built by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <math.h>
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
	score_aways_t away;
	size_t nparts; /* used of h.parts, which holds POOL */
} world_t;

/* participants of all the interactions of a test: a fixed pool, so that
 * sorting the interactions keeps their parts in place */
#define POOL 8192

/* The leader's mail to an automated address: activity that reaches
 * nobody who counts, so that silences are the people's, not absences. */
#define BACKGROUND "noreply@bg.example"

static void add(world_t *w, double days_ago, store_channel_t ch, double weight,
		uint32_t a, int b);

/* The leader busy (mail to BACKGROUND) every day from `from` to `to` days
 * ago, except on the days of [away_to, away_from] ago. */
static void busy(world_t *w, int from, int to, int away_from, int away_to)
{
	for (int d = from; d >= to; d--)
		if (d > away_from || d < away_to)
			add(w, d + 0.3, STORE_EMAIL, 1.0,
			    (uint32_t)(w->h.naddrs - 1), -1);
}

/* People addrs[0..n) (sorted, so that w->s[i] is addrs[i]'s), and the
 * BACKGROUND address; with `active`, the leader busy every day of the
 * year. */
static void world_init2(world_t *w, const char *const *addrs, size_t n,
			bool active)
{
	memset(w, 0, sizeof *w);
	w->cfg.min_touches = 3;
	w->cfg.neglect_factor = 2.0;
	w->cfg.lookback = 365 * DAY;
	w->cfg.min_span = 42 * DAY;
	w->cfg.dormant_after = 180 * DAY;
	w->cfg.auto_merge = true;
	w->l.id = "alex";
	w->l.email = "alex@example.com";
	w->h.addrs = xcalloc(n + 1, sizeof *w->h.addrs);
	for (size_t i = 0; i < n; i++)
		w->h.addrs[i].addr = xstrdup(addrs[i]);
	w->h.addrs[n].addr = xstrdup(BACKGROUND);
	w->h.naddrs = n + 1;
	if (active)
		busy(w, 364, 0, -1, 0);
}

static void world_init(world_t *w, const char *const *addrs, size_t n)
{
	world_init2(w, addrs, n, true);
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
	if (!w->h.parts)
		w->h.parts = xcalloc(POOL, sizeof *w->h.parts);
	assert_true(w->nparts + 2 <= POOL);
	ia->first = (uint32_t)w->nparts;
	w->h.parts[ia->first + ia->nparts++] = a;
	if (b >= 0)
		w->h.parts[ia->first + ia->nparts++] = (uint32_t)b;
	w->nparts += ia->nparts;
}

static int ia_cmp(const void *a, const void *b)
{
	const store_ia_t *x = a, *y = b;
	return (x->time > y->time) - (x->time < y->time);
}

static void run(world_t *w, const store_said_t *said)
{
	qsort(w->h.ias, w->h.nias, sizeof *w->h.ias, ia_cmp);
	contacts_build(&w->cfg, &w->l, said, NULL, &w->h, &w->c);
	score_aways_free(&w->away);
	score_people(&w->cfg, &w->h, &w->c, w->in, NOW, NULL, 0, w->s,
		     &w->away);
}

/* run again after changing the input or the config */
static void rerun(world_t *w)
{
	contacts_free(&w->c);
	run(w, NULL);
}

static void world_free(world_t *w)
{
	contacts_free(&w->c);
	store_history_free(&w->h);
	score_aways_free(&w->away);
}

/* k touches, every `every` days, the last one `silent` days ago. */
static void rhythm(world_t *w, uint32_t who, int k, double every, double silent)
{
	for (int i = 0; i < k; i++)
		add(w, silent + every * i, STORE_EMAIL, 1.0, who, -1);
}

static void test_neglected_and_rank(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example", "c@x.example"};
	world_t w;
	(void)state;
	world_init(&w, addrs, 3);
	rhythm(&w, 0, 10, 7, 30); /* weekly, silent 30 days */
	rhythm(&w, 1, 20, 7, 40); /* weekly for longer, silent 40: first */
	rhythm(&w, 2, 10, 7, 1);  /* touched yesterday */
	run(&w, NULL);
	assert_int_equal(w.c.n, 3);
	assert_true(w.s[0].rhythm_days == 7.0);
	assert_true(w.s[0].rhythm_low == 7.0 && w.s[0].rhythm_high == 7.0);
	assert_int_equal(w.s[0].episodes, 10);
	assert_int_equal(w.s[0].days_since, 30);
	assert_true(w.s[0].due_days == 21.0); /* 2 x 1.3 x 7 = 18.2: 21 */
	assert_true(w.s[0].neglected);
	assert_true(w.s[1].neglected);
	assert_false(w.s[2].neglected); /* touched yesterday: never */
	assert_int_equal(w.s[2].state, SCORE_CANDIDATE);
	size_t *order;
	assert_int_equal(score_rank_neglected(&w.c, w.s, &order), 2);
	assert_string_equal(w.c.v[order[0]].address, "b@x.example");
	assert_string_equal(w.c.v[order[1]].address, "a@x.example");
	assert_int_equal(w.s[0].suggestion, SCORE_CALL);
	free(order);
	/* neglect_factor: later warnings with a higher one */
	w.cfg.neglect_factor = 4; /* 4 x 1.3 x 7 = 36.4 days */
	rerun(&w);
	assert_false(w.s[0].neglected);
	assert_true(w.s[1].neglected);
	world_free(&w);
}

/* A thread of replies is one episode, never a rhythm. */
static void test_thread(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example"};
	world_t w;
	(void)state;
	world_init(&w, addrs, 2);
	/* a: three replies in three days, 100 days ago; then a second
	 * burst two weeks later: still two episodes */
	add(&w, 102, STORE_EMAIL, 1.0, 0, -1);
	add(&w, 101, STORE_EMAIL, 1.0, 0, -1);
	add(&w, 100, STORE_EMAIL, 1.0, 0, -1);
	add(&w, 88, STORE_EMAIL, 1.0, 0, -1);
	add(&w, 87, STORE_EMAIL, 1.0, 0, -1);
	/* b: an 8-day ticket thread: two episodes (a touch more than 5 days
	 * after the first starts the next) */
	for (int d = 0; d < 8; d++)
		add(&w, 200 - d, STORE_EMAIL, 1.0, 1, -1);
	run(&w, NULL);
	assert_int_equal(w.c.v[0].touches, 5);
	assert_int_equal(w.s[0].episodes, 2);
	assert_int_equal(w.s[0].state, SCORE_ONE_THREAD);
	assert_false(w.s[0].neglected);
	assert_true(w.s[0].rhythm_days < 0); /* never "every ~1 day" */
	assert_int_equal(w.s[1].episodes, 2);
	assert_int_equal(w.s[1].state, SCORE_ONE_THREAD);
	assert_string_equal(score_state_name(SCORE_ONE_THREAD), "one thread");
	/* a reply the next day does not make a weekly rhythm daily */
	world_free(&w);
	world_init(&w, addrs, 1);
	for (int k = 0; k < 12; k++) {
		add(&w, 30 + 7.0 * k, STORE_EMAIL, 1.0, 0, -1);
		add(&w, 29 + 7.0 * k, STORE_EMAIL, 1.0, 0, -1);
	}
	run(&w, NULL);
	assert_int_equal(w.s[0].episodes, 12);
	assert_true(w.s[0].rhythm_days == 7.0);
	assert_true(w.s[0].neglected);
	world_free(&w);
}

/* min_touches episodes, and spread over min_span. */
static void test_min_span(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example"};
	world_t w;
	(void)state;
	world_init(&w, addrs, 2);
	rhythm(&w, 0, 3, 14, 60); /* 3 episodes over 4 weeks */
	rhythm(&w, 1, 3, 24, 70); /* 3 episodes over 48 days */
	run(&w, NULL);
	assert_int_equal(w.s[0].state, SCORE_ONE_THREAD);
	assert_false(w.s[0].neglected);
	assert_int_equal(w.s[1].state, SCORE_CANDIDATE);
	assert_true(w.s[1].neglected);
	w.cfg.min_span = 3 * 7 * DAY;
	rerun(&w);
	assert_true(w.s[0].neglected);
	world_free(&w);
}

/* The board pack three days before each quarterly meeting is part of
 * the meeting's episode: the rhythm is a quarter, not four days. */
static void test_board_pack(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example"};
	world_t w;
	(void)state;
	world_init(&w, addrs, 2);
	for (int q = 0; q < 4; q++) {
		double meeting = 80 + 91.0 * q;
		add(&w, meeting + 3, STORE_EMAIL, 0.75, 0, 1); /* the pack */
		add(&w, meeting, STORE_MEETING, 2.0, 0, 1);
	}
	run(&w, NULL);
	assert_int_equal(w.s[0].episodes, 4);
	assert_true(w.s[0].rhythm_days == 91.0);
	assert_false(w.s[0].neglected); /* 80 days into a quarter */
	assert_int_equal(w.s[0].state, SCORE_CANDIDATE);
	world_free(&w);
}

/* Someone reached every 3 to 8 weeks is judged by their own spread;
 * someone reached every Tuesday is overdue after three weeks. */
static void test_spread(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example"};
	double gaps[] = {21, 56, 28, 49, 35, 21, 56, 42};
	world_t w;
	(void)state;
	world_init(&w, addrs, 2);
	double t = 60;
	add(&w, t, STORE_EMAIL, 1.0, 0, -1);
	for (size_t i = 0; i < sizeof gaps / sizeof *gaps; i++)
		add(&w, t += gaps[i], STORE_EMAIL, 1.0, 0, -1);
	rhythm(&w, 1, 30, 7, 21);
	run(&w, NULL);
	/* gaps sorted 21 21 28 35 42 49 56 56: median 38.5, quartiles
	 * 26.25 and 50.75; the usual gap is the median, 38.5 > 0.75 x 50.75:
	 * neglected at 2 x 1.3 x 38.5 = 100.1 days */
	assert_true(w.s[0].rhythm_days == 38.5);
	assert_true(w.s[0].rhythm_low == 26.25);
	assert_true(w.s[0].rhythm_high == 50.75);
	assert_true(fabs(w.s[0].due_days - 100.1) < 1e-9);
	assert_false(w.s[0].neglected); /* 60 days: within its rhythm */
	assert_true(w.s[1].neglected);  /* 3 weeks after weekly */
	/* the spread widens what is usual */
	world_free(&w);
	world_init(&w, addrs, 1);
	double wide[] = {14, 70, 14, 70, 14, 70};
	t = 60;
	add(&w, t, STORE_EMAIL, 1.0, 0, -1);
	for (size_t i = 0; i < sizeof wide / sizeof *wide; i++)
		add(&w, t += wide[i], STORE_EMAIL, 1.0, 0, -1);
	run(&w, NULL);
	assert_true(w.s[0].rhythm_days == 42.0);
	/* the usual gap is 0.75 x 70 = 52.5, over the median of 42 */
	assert_true(fabs(w.s[0].due_days - 2 * 1.3 * 0.75 * 70) < 1e-9);
	assert_false(w.s[0].neglected); /* 60 < 136.5 */
	world_free(&w);
}

/* The leader's absence does not count toward anyone's silence. */
static void test_vacation(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example", "c@x.example"};
	world_t w;
	(void)state;
	world_init2(&w, addrs, 3, false);
	/* away 24 .. 4 days ago (21 days), busy before and after */
	busy(&w, 300, 0, 24, 4);
	rhythm(&w, 0, 30, 7, 25); /* weekly up to the day before leaving */
	rhythm(&w, 1, 30, 7, 60); /* weekly, then silent long before */
	rhythm(&w, 2, 30, 7, 25); /* weekly, and reached since the return */
	add(&w, 2, STORE_EMAIL, 1.0, 2, -1);
	run(&w, NULL);
	assert_int_equal(w.away.n, 1);
	assert_true(w.away.v[0].absence);
	assert_int_equal(w.away.v[0].last - w.away.v[0].first + 1, 21);
	assert_int_equal(w.s[0].days_since, 25);
	assert_int_equal(w.s[0].away_days, 21);
	assert_true(w.s[0].overdue == 25.0 / 7); /* days_since / rhythm */
	assert_false(w.s[0].late);               /* 4 days net */
	assert_false(w.s[0].neglected);
	assert_true(w.s[1].neglected); /* 60 - 21 = 39 days: still overdue */
	assert_int_equal(w.s[1].away_days, 21);
	assert_false(w.s[2].neglected);
	world_free(&w);

	/* A stretch over 6 weeks is no absence but a gap in the record: not
	 * named, and not counted either. */
	world_init2(&w, addrs, 3, false);
	busy(&w, 364, 0, 80, 20); /* nothing at all 80 .. 20 days ago */
	rhythm(&w, 0, 9, 30, 81); /* monthly */
	run(&w, NULL);
	assert_int_equal(w.away.n, 1);
	assert_false(w.away.v[0].absence);
	assert_int_equal(w.s[0].away_days, 61);
	assert_false(w.s[0].neglected); /* 81 - 61 = 20 days: not yet */
	assert_false(w.s[0].late);
	world_free(&w);
}

/* Silent longer than dormant_after: no longer this week's nudge. */
static void test_horizon(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example"};
	world_t w;
	(void)state;
	world_init(&w, addrs, 2);
	rhythm(&w, 0, 10, 14, 180.5); /* over 180 plain days */
	rhythm(&w, 1, 10, 14, 170);
	run(&w, NULL);
	assert_int_equal(w.s[0].state, SCORE_DORMANT);
	assert_false(w.s[0].neglected);
	assert_true(w.s[1].neglected);
	assert_string_equal(score_state_name(SCORE_DORMANT), "dormant");
	w.cfg.dormant_after = 365 * DAY;
	rerun(&w);
	assert_true(w.s[0].neglected);
	/* touched again: back in the digest's view */
	w.cfg.dormant_after = 180 * DAY;
	add(&w, 1, STORE_EMAIL, 1.0, 0, -1);
	rerun(&w);
	assert_int_equal(w.s[0].state, SCORE_CANDIDATE);
	world_free(&w);
}

/* A meeting in the coming week, or a standing one that goes on: listed
 * as coming up only, never as neglected or cooling. */
static void test_booked(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example", "c@x.example",
			       "d@x.example"};
	world_t w;
	(void)state;
	world_init(&w, addrs, 4);
	for (uint32_t i = 0; i < 3; i++)
		rhythm(&w, i, 20, 7, 30);
	/* d: weekly for 30 weeks, then only twice in the last 8 weeks */
	rhythm(&w, 3, 30, 7, 60);
	add(&w, 40, STORE_EMAIL, 1.0, 3, -1);
	add(&w, 5, STORE_EMAIL, 1.0, 3, -1);
	w.in[0].upcoming = true;
	w.in[1].standing = true;
	run(&w, NULL);
	assert_true(w.s[0].due && w.s[0].booked);
	assert_false(w.s[0].neglected || w.s[0].cooling);
	assert_true(w.s[1].due && w.s[1].booked);
	assert_false(w.s[1].neglected || w.s[1].cooling);
	assert_true(w.s[2].neglected);
	assert_true(w.s[3].cooling);
	assert_false(w.s[3].neglected);
	w.in[3].upcoming = true;
	rerun(&w);
	assert_true(w.s[3].due);
	assert_false(w.s[3].cooling);
	world_free(&w);
}

/* A thin relationship that is very overdue never outranks a strong one
 * that is clearly slipping. */
static void test_ranking(void **state)
{
	const char *addrs[] = {"strong@x.example", "thin@x.example"};
	world_t w;
	(void)state;
	world_init(&w, addrs, 2);
	rhythm(&w, 0, 45, 7, 25);  /* weekly for most of a year, 25 days */
	rhythm(&w, 1, 3, 22, 150); /* three touches, five months ago */
	run(&w, NULL);
	assert_true(w.s[0].neglected && w.s[1].neglected);
	assert_true(w.s[1].overdue > 1.5 * w.s[0].overdue);
	size_t *order;
	assert_int_equal(score_rank_neglected(&w.c, w.s, &order), 2);
	assert_string_equal(w.c.v[order[0]].address, "strong@x.example");
	free(order);
	world_free(&w);
}

static void test_snooze_cadence(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example", "c@x.example"};
	world_t w;
	(void)state;
	world_init(&w, addrs, 3);
	for (uint32_t i = 0; i < 3; i++)
		rhythm(&w, i, 10, 7, 30);
	w.in[0].snoozed_until = NOW + DAY; /* snoozed */
	w.in[1].cadence_days = 60;         /* wanted every two months */
	run(&w, NULL);
	assert_false(w.s[0].neglected);
	assert_true(w.s[0].snoozed);
	assert_int_equal(w.s[0].state, SCORE_SNOOZED);
	assert_false(w.s[1].neglected);
	assert_true(w.s[1].rhythm_days == 60.0);
	assert_false(w.s[1].rhythm_learned);
	assert_true(w.s[1].rhythm_low < 0);
	assert_true(w.s[1].due_days == 120.0);
	assert_true(w.s[2].neglected);
	/* a past snooze no longer counts */
	w.in[0].snoozed_until = NOW - DAY;
	rerun(&w);
	assert_true(w.s[0].neglected);
	/* a cadence is taken as it is: no slack, and no three-week floor */
	w.in[1].cadence_days = 7;
	rerun(&w);
	assert_true(w.s[1].due_days == 14.0);
	assert_true(w.s[1].neglected);
	world_free(&w);
}

static void test_too_few_touches_and_weak(void **state)
{
	/* the one with only weak interactions first: scored with no touch
	 * before anyone else */
	const char *addrs[] = {"a@x.example", "b@x.example"};
	world_t w;
	(void)state;
	world_init(&w, addrs, 2);
	add(&w, 100, STORE_EMAIL, 1.0, 1, -1);
	add(&w, 90, STORE_EMAIL, 1.0, 1, -1); /* two touches */
	for (int k = 0; k < 10; k++)          /* only weak interactions */
		add(&w, 30 + 7 * k, STORE_EMAIL, 0.3, 0, -1);
	run(&w, NULL);
	assert_int_equal(w.s[1].state, SCORE_TOO_FEW);
	assert_false(w.s[1].neglected);
	assert_true(w.s[1].rhythm_days < 0);
	assert_int_equal(w.c.v[0].touches, 0);
	assert_int_equal(w.s[0].state, SCORE_TOO_FEW);
	assert_false(w.s[0].neglected);
	/* with a cadence one touch is enough */
	w.in[1].cadence_days = 14;
	rerun(&w);
	assert_true(w.s[1].neglected);
	world_free(&w);
}

static void test_merge_joins_histories(void **state)
{
	const char *addrs[] = {"jo@home.example", "kim@work.example"};
	world_t w;
	(void)state;
	world_init(&w, addrs, 2);
	/* alternate addresses, weekly, then silence */
	for (int k = 0; k < 10; k++)
		add(&w, 30 + 7 * k, STORE_EMAIL, 1.0, (uint32_t)(k % 2), -1);
	add(&w, 200, STORE_EMAIL, 1.0, 0, 1); /* one mail to both */
	run(&w, NULL);
	assert_int_equal(w.c.n, 2);
	assert_true(w.s[0].rhythm_days == 14.0); /* each alone: every 2 weeks */
	contacts_free(&w.c);
	score_aways_free(&w.away);
	store_said_t said = {0};
	strvec_push(&said.merged, "kim@work.example");
	strvec_push(&said.merged, "jo@home.example");
	run(&w, &said);
	assert_int_equal(w.c.n, 1);
	assert_int_equal(w.c.v[0].naddresses, 2);
	assert_int_equal(w.c.v[0].interactions,
			 11); /* the mail to both: once */
	assert_true(w.s[0].rhythm_days == 7.0);
	assert_true(w.s[0].neglected);
	store_said_free(&said);
	world_free(&w);
}

static void test_order_independent(void **state)
{
	const char *addrs[] = {"a@x.example", "b@x.example", "c@x.example"};
	world_t w1, w2;
	(void)state;
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
	(void)state;
	world_init(&w, addrs, 2);
	add(&w, 40, STORE_MEETING, 2.0, 0, -1);
	add(&w, 33, STORE_MEETING, 2.0, 0, -1);
	add(&w, 26, STORE_MEETING, 2.0, 0, -1);
	add(&w, 0.1, STORE_EMAIL, 1.0, 1, -1); /* this week (Monday) */
	add(&w, 2, STORE_MEETING, 2.0, 1, -1); /* last week (Saturday) */
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
 * Berlin (+0200) even when now is in winter (+0100), and a touch five
 * days and a few hours later is in the same episode then. */
static void test_days_follow_dst(void **state)
{
	const char *addrs[] = {"a@x.example"};
	world_t w;
	(void)state;
	world_init2(&w, addrs, 1, false);
	add(&w, 155.0 + 9.5 / 24, STORE_EMAIL, 1.0, 0, -1); /* 22:30 UTC */
	add(&w, 150.0 - 2.0 / 24, STORE_EMAIL, 1.0, 0, -1); /* 10:00 UTC */
	qsort(w.h.ias, w.h.nias, sizeof *w.h.ias, ia_cmp);
	contacts_build(&w.cfg, &w.l, NULL, NULL, &w.h, &w.c);
	int32_t summer[2] = {7200, 7200};
	score_people(&w.cfg, &w.h, &w.c, NULL, NOW, summer, 3600, w.s, NULL);
	assert_int_equal(w.s[0].episodes, 1);
	score_people(&w.cfg, &w.h, &w.c, NULL, NOW, NULL, 3600, w.s, NULL);
	assert_int_equal(w.s[0].episodes, 2);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neglected_and_rank),
		cmocka_unit_test(test_thread),
		cmocka_unit_test(test_min_span),
		cmocka_unit_test(test_board_pack),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_vacation),
		cmocka_unit_test(test_horizon),
		cmocka_unit_test(test_booked),
		cmocka_unit_test(test_ranking),
		cmocka_unit_test(test_snooze_cadence),
		cmocka_unit_test(test_too_few_touches_and_weak),
		cmocka_unit_test(test_merge_joins_histories),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_suggestion_and_history),
		cmocka_unit_test(test_days_follow_dst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
