/*
 * score — the neglect model.  See score.h.
 *
 * Per person, from their touches (interactions weighing at least 0.5):
 *  1. episodes: a touch more than SCORE_EPISODE_DAYS after the first
 *     touch of the current episode starts the next one;
 *  2. the gaps between episode starts, minus the days the leader was
 *     away, give the rhythm (their median) and its spread (quartiles);
 *  3. a relationship has min_touches episodes spread over min_span (or a
 *     cadence set by the leader); anything less is a thread;
 *  4. the silence since the last touch, net of absences, is compared
 *     with neglect_factor late gaps: a learned rhythm is late after
 *     SCORE_SLACK usual gaps, and the usual gap is the median or, for a
 *     person with a wide spread, three quarters of the upper quartile:
 *     someone reached every 3 to 8 weeks is judged against the 8, someone
 *     reached every Tuesday against the week (neglected after 2.6 weeks
 *     by default, and never before SCORE_MIN_DAYS); a cadence set by the
 *     leader is taken as it is;
 *  5. silent longer than dormant_after (plain days): no longer a nudge.
 */
#include "score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400
/* The usual gap of a spread rhythm: this much of its upper quartile. */
#define SCORE_SPREAD 0.75
/* A learned rhythm is late after this many usual gaps: the jitter every
 * rhythm has.  With neglect_factor 2, neglected after 2.6 gaps, between
 * an active rhythm's longest silences (about 1.5 gaps) and a lapsed one
 * (3 gaps and more). */
#define SCORE_SLACK 1.3

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

const char *score_state_name(score_state_t s)
{
	switch (s) {
	case SCORE_SNOOZED:
		return "snoozed";
	case SCORE_TOO_FEW:
		return "too few touches";
	case SCORE_ONE_THREAD:
		return "one thread";
	case SCORE_DORMANT:
		return "dormant";
	case SCORE_CANDIDATE:
		break;
	}
	return NULL;
}

/* Floor division for day numbers before 1970 too. */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* The p-quantile of n sorted values, linearly interpolated. */
static double quantile(const int64_t *v, size_t n, double p)
{
	double pos = p * (double)(n - 1);
	size_t i = (size_t)pos;
	if (i + 1 >= n)
		return (double)v[n - 1];
	return (double)v[i] + (pos - (double)i) * (double)(v[i + 1] - v[i]);
}

/* ---- the leader's absences ---------------------------------------------- */

/* Stretches of SCORE_AWAY_MIN_DAYS days or more without any interaction,
 * between two interactions or up to yesterday. */
static void find_aways(const int64_t *days, size_t n, int64_t today,
		       score_aways_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int64_t next = i + 1 < n ? days[i + 1] : today;
		int64_t len = next - days[i] - 1;
		if (len >= SCORE_AWAY_MIN_DAYS) {
			out->v =
				xrealloc(out->v, (out->n + 1) * sizeof *out->v);
			out->v[out->n++] =
				(score_away_t){days[i] + 1, next - 1,
					       len <= SCORE_AWAY_MAX_DAYS};
		}
	}
}

/* Days of [from, to] (inclusive) on which the leader was away. */
static int64_t away_within(const score_aways_t *aw, int64_t from, int64_t to)
{
	int64_t n = 0;
	for (size_t i = 0; i < aw->n; i++) {
		int64_t a = aw->v[i].first > from ? aw->v[i].first : from;
		int64_t b = aw->v[i].last < to ? aw->v[i].last : to;
		if (b >= a)
			n += b - a + 1;
	}
	return n;
}

/* Days from day a to day b that count: b - a, less the days strictly
 * between them on which the leader was away. */
static int64_t net_days(const score_aways_t *aw, int64_t a, int64_t b)
{
	int64_t d = b - a - away_within(aw, a + 1, b - 1);
	return d > 0 ? d : 0;
}

void score_aways_free(score_aways_t *a)
{
	if (!a)
		return;
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* ---- one person --------------------------------------------------------- */

/* One touch of a person, for the pass over their history. */
typedef struct {
	int64_t time;
	int64_t day; /* the leader's local day number */
	store_channel_t channel;
	double weight;
} touch_t;

static int cmp_touch(const void *a, const void *b)
{
	const touch_t *x = a, *y = b;
	if (x->time != y->time)
		return (x->time > y->time) - (x->time < y->time);
	if (x->channel != y->channel)
		return (int)x->channel - (int)y->channel;
	return (x->weight > y->weight) - (x->weight < y->weight);
}

/* The learned rhythm: median and quartiles of the net gaps between the
 * episodes starting on days[0..n). */
static void learn_rhythm(const int64_t *days, size_t n, const score_aways_t *aw,
			 score_t *s)
{
	int64_t *gaps = xcalloc(n - 1, sizeof *gaps);
	for (size_t i = 1; i < n; i++)
		gaps[i - 1] = net_days(aw, days[i - 1], days[i]);
	qsort(gaps, n - 1, sizeof *gaps, cmp_i64);
	s->rhythm_days = quantile(gaps, n - 1, 0.5);
	s->rhythm_low = quantile(gaps, n - 1, 0.25);
	s->rhythm_high = quantile(gaps, n - 1, 0.75);
	s->rhythm_learned = true;
	free(gaps);
	if (s->rhythm_days < 1) /* episodes are days apart: cannot happen */
		s->rhythm_days = 1;
}

/* Score one person from their touches (sorted by time). */
static void score_one(const config_t *cfg, const touch_t *t, size_t n,
		      const score_input_t *in, int64_t now, int64_t today,
		      const score_aways_t *aw, score_t *s)
{
	int64_t *start = xcalloc(n ? n : 1, sizeof *start);
	size_t ne = 0;
	double strength = 0, weight = 0;
	int64_t first_time = 0;

	/* Episodes, and the strength of the relationship: each episode
	 * weighs what its heaviest touch weighs, halved every half-life. */
	for (size_t i = 0; i <= n; i++) {
		if (i == n || ne == 0 ||
		    t[i].day - start[ne - 1] > SCORE_EPISODE_DAYS) {
			if (ne) {
				double age = (double)(now - first_time) / DAY;
				strength +=
					weight *
					pow(0.5, age / SCORE_HALF_LIFE_DAYS);
			}
			if (i == n)
				break;
			start[ne++] = t[i].day;
			first_time = t[i].time;
			weight = 0;
		}
		if (t[i].weight > weight)
			weight = t[i].weight;
	}
	s->score = strength;
	s->episodes = ne;
	s->span_days = ne ? start[ne - 1] - start[0] : 0;
	s->rhythm_days = s->rhythm_low = s->rhythm_high = -1;
	s->overdue = s->due_days = -1;
	s->days_since = n ? (now - t[n - 1].time) / DAY : -1;
	if (n && s->days_since < 0)
		s->days_since = 0;

	bool cadence = in && in->cadence_days > 0;
	if (cadence)
		s->rhythm_days = in->cadence_days;
	else if (ne >= (size_t)cfg->min_touches && ne >= 2)
		learn_rhythm(start, ne, aw, s);

	/* Is this a relationship to judge at all? */
	s->snoozed = in && in->snoozed_until > now;
	if (s->snoozed)
		s->state = SCORE_SNOOZED;
	else if (cadence && n > 0)
		s->state = SCORE_CANDIDATE;
	else if (n < (size_t)cfg->min_touches)
		s->state = SCORE_TOO_FEW;
	else if (ne < (size_t)cfg->min_touches ||
		 s->span_days * DAY < cfg->min_span)
		s->state = SCORE_ONE_THREAD;
	else
		s->state = SCORE_CANDIDATE;
	if (s->state == SCORE_CANDIDATE &&
	    now - t[n - 1].time > cfg->dormant_after)
		s->state = SCORE_DORMANT;

	/* The silence, net of the leader's absences, against the rhythm. */
	int64_t net = 0;
	if (n) {
		s->away_days = away_within(aw, t[n - 1].day + 1, today - 1);
		net = s->days_since - s->away_days;
		if (net < 0)
			net = 0;
	}
	if (s->rhythm_days > 0 && n) {
		s->overdue = (double)s->days_since / s->rhythm_days;
		s->late = (double)net >= s->rhythm_days;
	}
	bool judged = s->state == SCORE_CANDIDATE && s->rhythm_days > 0;
	if (judged) {
		double usual = s->rhythm_days;
		if (s->rhythm_learned && SCORE_SPREAD * s->rhythm_high > usual)
			usual = SCORE_SPREAD * s->rhythm_high;
		/* a cadence is what the leader asked for: no slack, no floor */
		s->due_days = cfg->neglect_factor * usual;
		if (s->rhythm_learned) {
			s->due_days *= SCORE_SLACK;
			if (s->due_days < SCORE_MIN_DAYS)
				s->due_days = SCORE_MIN_DAYS;
		}
	}
	bool neglect = judged && (double)net >= s->due_days;

	/* Cooling: the last 8 weeks' rate of episodes (absences left out)
	 * is under half of the usual rate, in a relationship older than
	 * twice that window. */
	bool cool = false;
	if (judged && !neglect && ne &&
	    start[0] <= today - 2 * SCORE_COOLING_DAYS) {
		int64_t from = today - SCORE_COOLING_DAYS;
		double len = (double)(SCORE_COOLING_DAYS -
				      away_within(aw, from, today - 1));
		size_t recent = 0;
		for (size_t i = 0; i < ne; i++)
			recent += start[i] >= from;
		/* only where two usual gaps fit in the window: a rarer
		 * rhythm is not "cooling" for one quiet stretch */
		double expected = len / s->rhythm_days;
		cool = expected >= 2 && (double)recent < 0.5 * expected;
	}

	/* Booked is booked: listed as coming up, and nowhere else. */
	s->due = neglect || cool;
	s->booked = in && (in->upcoming || in->standing);
	s->neglected = neglect && !s->booked;
	s->cooling = cool && !s->booked;
	s->rank = 0;
	if (s->neglected) {
		double by = (double)net / (s->due_days > 1 ? s->due_days : 1);
		s->rank = s->score * (1 + log(by > 1 ? by : 1));
	}

	/* The suggestion follows the last three touches. */
	s->suggestion = SCORE_CHECK_IN;
	if (n >= 3) {
		size_t email = 0;
		for (size_t i = n - 3; i < n; i++)
			email += t[i].channel == STORE_EMAIL;
		s->suggestion = email == 3   ? SCORE_CALL
				: email == 0 ? SCORE_NOTE
					     : SCORE_CHECK_IN;
	}

	/* Touches per ISO week (Monday 00:00 in the leader's zone).
	 * 1970-01-01 (day 0) was a Thursday: day d is a Monday when
	 * (d + 3) % 7 == 0. */
	int64_t this_monday = today - ((today + 3) % 7 + 7) % 7;
	memset(s->history, 0, sizeof s->history);
	for (size_t i = 0; i < n; i++) {
		int64_t w =
			floor_div(t[i].day - this_monday, 7); /* 0: this week */
		if (w <= 0 && w > -SCORE_WEEKS)
			s->history[SCORE_WEEKS - 1 + w]++;
	}
	free(start);
}

/* The leader's local day of h->ias[i]. */
static int64_t ia_day(const store_history_t *h, size_t i,
		      const int32_t *offsets, long now_offset)
{
	return floor_div(h->ias[i].time + (offsets ? offsets[i] : now_offset),
			 DAY);
}

/* The distinct days, ascending, on which the leader had an interaction
 * with anyone by now; how many.  They are marked in a map over the days
 * the history spans (it is ordered by time, its days only nearly so). */
static size_t active_days(const store_history_t *h, int64_t now,
			  const int32_t *offsets, long now_offset,
			  int64_t **out)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t i = 0; i < h->nias; i++) {
		if (h->ias[i].time > now)
			continue;
		int64_t d = ia_day(h, i, offsets, now_offset);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	size_t span = lo <= hi ? (size_t)(hi - lo) + 1 : 0, n = 0;
	bool *on = xcalloc(span ? span : 1, sizeof *on);
	for (size_t i = 0; i < h->nias; i++)
		if (h->ias[i].time <= now)
			on[ia_day(h, i, offsets, now_offset) - lo] = true;
	*out = xcalloc(span ? span : 1, sizeof **out);
	for (size_t d = 0; d < span; d++)
		if (on[d])
			(*out)[n++] = lo + (int64_t)d;
	free(on);
	return n;
}

/* At most this many touches are gathered at once (or one person's):
 * 1 MiB of indices, a pass over the history for each. */
#define SCORE_BATCH_TOUCHES (1 << 18)

/* The touches of persons [p0, p1): each interaction of a touch's weight,
 * once for each person in it.  With at, their indices go to
 * at[slot[p]++]; without, slot[p + 1] counts them.  last: per person. */
static void gather(const store_history_t *h, const contacts_t *c, size_t p0,
		   size_t p1, int *last, size_t *slot, uint32_t *at)
{
	for (size_t p = p0; p < p1; p++)
		last[p] = -1;
	for (size_t i = 0; i < h->nias; i++) {
		const store_ia_t *ia = &h->ias[i];
		if (ia->weight < CONTACTS_TOUCH_WEIGHT)
			continue;
		const uint32_t *pv = store_parts(h, ia);
		for (size_t j = 0; j < ia->nparts; j++) {
			int p = c->person_of[pv[j]];
			if (p < (int)p0 || p >= (int)p1 || last[p] == (int)i)
				continue; /* once per interaction */
			last[p] = (int)i;
			if (at)
				at[slot[p]++] = (uint32_t)i;
			else
				slot[p + 1]++;
		}
	}
}

void score_people(const config_t *cfg, const store_history_t *h,
		  const contacts_t *c, const score_input_t *in, int64_t now,
		  const int32_t *offsets, long now_offset, score_t *out,
		  score_aways_t *away)
{
	size_t np = c->n;
	/* Each person's touches, as the indices of their interactions:
	 * counted in one pass over the history, person p's from[p] to
	 * from[p + 1] of all, then gathered a batch of people at a time
	 * (the history may hold a million). */
	size_t *from = xcalloc(np + 1, sizeof *from);
	size_t *fill = xcalloc(np ? np : 1, sizeof *fill);
	int *last = xcalloc(np ? np : 1, sizeof *last);
	size_t acap = 1, tcap = 1; /* never NULL, for qsort */
	uint32_t *at = xcalloc(acap, sizeof *at);
	touch_t *t = xcalloc(tcap, sizeof *t);
	int64_t today = floor_div(now + now_offset, DAY);
	score_aways_t aw = {0};

	/* The leader's absences: the distinct days of every interaction,
	 * with anyone. */
	int64_t *days = NULL;
	size_t nu = active_days(h, now, offsets, now_offset, &days);
	find_aways(days, nu, today, &aw);
	free(days);

	gather(h, c, 0, np, last, from, NULL);
	for (size_t p = 0; p < np; p++)
		from[p + 1] += from[p];
	for (size_t p0 = 0, p1; p0 < np; p0 = p1) {
		for (p1 = p0 + 1;
		     p1 < np && from[p1 + 1] - from[p0] <= SCORE_BATCH_TOUCHES;
		     p1++)
			;
		if (from[p1] - from[p0] > acap) {
			acap = from[p1] - from[p0];
			at = xrealloc(at, acap * sizeof *at);
		}
		for (size_t p = p0; p < p1; p++)
			fill[p] = from[p] - from[p0];
		gather(h, c, p0, p1, last, fill, at);
		for (size_t p = p0; p < p1; p++) {
			size_t n = from[p + 1] - from[p];
			const uint32_t *ip = at + (from[p] - from[p0]);
			if (n > tcap) {
				tcap = n;
				t = xrealloc(t, tcap * sizeof *t);
			}
			for (size_t k = 0; k < n; k++)
				t[k] = (touch_t){
					h->ias[ip[k]].time,
					ia_day(h, ip[k], offsets, now_offset),
					(store_channel_t)h->ias[ip[k]].channel,
					h->ias[ip[k]].weight};
			memset(&out[p], 0, sizeof out[p]);
			qsort(t, n, sizeof *t, cmp_touch);
			score_one(cfg, t, n, in ? &in[p] : NULL, now, today,
				  &aw, &out[p]);
		}
	}
	if (away)
		*away = aw;
	else
		score_aways_free(&aw);
	free(t);
	free(at);
	free(from);
	free(fill);
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
