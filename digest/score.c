/*
 * score — the neglect model.  See score.h.
 */
#include "score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

const char *score_suggestion_name(score_suggestion_t s)
{
	switch (s) {
	case SCORE_CALL:
		return "call";
	case SCORE_NOTE:
		return "note";
	case SCORE_CHECK_IN:
		break;
	}
	return "check-in";
}

/* Floor division for day numbers before 1970 too. */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The median of n sorted values. */
static double median(const int64_t *v, size_t n)
{
	return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* One touch of a person, for the pass over their history. */
typedef struct {
	int64_t time;
	int64_t day; /* the leader's local day number */
	store_channel_t channel;
} touch_t;

static int cmp_touch(const void *a, const void *b)
{
	const touch_t *x = a, *y = b;
	if (x->time != y->time)
		return (x->time > y->time) - (x->time < y->time);
	return (int)x->channel - (int)y->channel;
}

/* Score one person from their touches (sorted by time). */
static void score_one(const config_t *cfg, const touch_t *t, size_t n,
		      double decayed, const score_input_t *in, int64_t now,
		      long off, score_t *s)
{
	int64_t *days = xcalloc(n ? n : 1, sizeof *days);
	size_t nd = 0;
	for (size_t i = 0; i < n; i++)
		if (nd == 0 || days[nd - 1] != t[i].day)
			days[nd++] = t[i].day;
	s->score = decayed;
	s->touch_days = nd;
	s->rhythm_days = -1;
	s->overdue = -1;
	s->days_since = n ? (now - t[n - 1].time) / DAY : -1;
	if (s->days_since < -1)
		s->days_since = 0;

	/* Rhythm: the median gap between touch days, once there are
	 * min_touches of them; a cadence set by the leader wins. */
	if (in && in->cadence_days > 0) {
		s->rhythm_days = in->cadence_days;
	} else if (nd >= (size_t)cfg->min_touches && nd >= 2) {
		int64_t *gaps = xcalloc(nd - 1, sizeof *gaps);
		for (size_t i = 1; i < nd; i++)
			gaps[i - 1] = days[i] - days[i - 1];
		qsort(gaps, nd - 1, sizeof *gaps, cmp_i64);
		s->rhythm_days = median(gaps, nd - 1);
		s->rhythm_learned = true;
		free(gaps);
	}
	s->real = (in && in->cadence_days > 0 && n > 0) ||
		  nd >= (size_t)cfg->min_touches;
	if (s->rhythm_days > 0 && s->days_since >= 0)
		s->overdue = (double)s->days_since / s->rhythm_days;
	s->snoozed = in && in->snoozed_until > now;
	s->neglected = s->real && s->overdue >= cfg->neglect_factor &&
		       s->days_since >= SCORE_MIN_DAYS && !s->snoozed &&
		       !(in && in->upcoming);
	s->rank = s->neglected ? s->score * s->overdue : 0;

	/* Cooling: the last 8 weeks' rate of touches is under half of the
	 * rate since the first touch in the window. */
	if (!s->neglected && s->real && n > 0) {
		size_t recent = 0;
		for (size_t i = 0; i < n; i++)
			recent += t[i].time > now - SCORE_COOLING_DAYS * DAY;
		double span = (double)(now - t[0].time) / DAY;
		if (span > 2 * SCORE_COOLING_DAYS) {
			double rate = n / span;
			double rate8 = recent / (double)SCORE_COOLING_DAYS;
			s->cooling = rate8 < rate / 2 && !s->snoozed;
		}
	}

	/* The suggestion follows the last three touches. */
	s->suggestion = SCORE_CHECK_IN;
	if (n >= 3) {
		size_t email = 0;
		for (size_t i = n - 3; i < n; i++)
			email += t[i].channel == STORE_EMAIL;
		s->suggestion = email == 3 ? SCORE_CALL
			      : email == 0 ? SCORE_NOTE
					   : SCORE_CHECK_IN;
	}

	/* Touches per ISO week (Monday 00:00 in the leader's zone). */
	/* 1970-01-01 (day 0) was a Thursday: day d is a Monday when
	 * (d + 3) % 7 == 0. */
	int64_t today = floor_div(now + off, DAY);
	int64_t this_monday = today - ((today + 3) % 7 + 7) % 7;
	memset(s->history, 0, sizeof s->history);
	for (size_t i = 0; i < n; i++) {
		int64_t w = floor_div(t[i].day - this_monday, 7); /* 0: this week */
		if (w <= 0 && w > -SCORE_WEEKS)
			s->history[SCORE_WEEKS - 1 + w]++;
	}
	free(days);
}

void score_people(const config_t *cfg, const store_history_t *h,
		  const contacts_t *c, const score_input_t *in, int64_t now,
		  const long *offsets, long now_offset, score_t *out)
{
	/* Each person's touches, in one pass over the history. */
	size_t *count = xcalloc(c->n ? c->n : 1, sizeof *count);
	size_t *fill = xcalloc(c->n ? c->n : 1, sizeof *fill);
	double *decayed = xcalloc(c->n ? c->n : 1, sizeof *decayed);
	int *last = xcalloc(c->n ? c->n : 1, sizeof *last);
	touch_t **t = xcalloc(c->n ? c->n : 1, sizeof *t);

	for (int pass = 0; pass < 2; pass++) {
		for (size_t p = 0; p < c->n; p++)
			last[p] = -1;
		for (size_t i = 0; i < h->nias; i++) {
			const store_ia_t *ia = &h->ias[i];
			for (size_t j = 0; j < ia->nparts; j++) {
				int p = c->person_of[ia->parts[j]];
				if (p < 0 || last[p] == (int)i)
					continue; /* once per interaction */
				last[p] = (int)i;
				if (pass == 0) {
					double age = (double)(now - ia->time) / DAY;
					decayed[p] += ia->weight *
						      pow(0.5, age / SCORE_HALF_LIFE_DAYS);
				}
				if (ia->weight < CONTACTS_TOUCH_WEIGHT)
					continue;
				if (pass == 0)
					count[p]++;
				else
					t[p][fill[p]++] = (touch_t){
						ia->time,
						floor_div(ia->time + (offsets ? offsets[i] : now_offset), DAY),
						ia->channel};
			}
		}
		if (pass == 0)
			for (size_t p = 0; p < c->n; p++)
				t[p] = xcalloc(count[p] ? count[p] : 1, sizeof **t);
	}
	for (size_t p = 0; p < c->n; p++) {
		memset(&out[p], 0, sizeof out[p]);
		qsort(t[p], count[p], sizeof **t, cmp_touch);
		score_one(cfg, t[p], count[p], decayed[p], in ? &in[p] : NULL,
			  now, now_offset, &out[p]);
		free(t[p]);
	}
	free(t);
	free(count);
	free(fill);
	free(decayed);
	free(last);
}

typedef struct {
	const contacts_t *c;
	const score_t *s;
} rank_ctx_t;

static int cmp_rank(const void *a, const void *b, void *ctx)
{
	const rank_ctx_t *r = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	if (r->s[x].rank != r->s[y].rank)
		return r->s[x].rank < r->s[y].rank ? 1 : -1;
	return strcmp(r->c->v[x].address, r->c->v[y].address);
}

size_t score_rank_neglected(const contacts_t *c, const score_t *s,
			    size_t **order)
{
	size_t n = 0;
	*order = xcalloc(c->n ? c->n : 1, sizeof **order);
	for (size_t i = 0; i < c->n; i++)
		if (s[i].neglected)
			(*order)[n++] = i;
	rank_ctx_t ctx = {c, s};
	qsort_r(*order, n, sizeof **order, cmp_rank, &ctx);
	return n;
}
