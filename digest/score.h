/*
 * score — the neglect model of DESIGN §6: per person the learned rhythm,
 * how overdue they are, whether they are neglected or cooling, what to
 * suggest, and how they rank.  Pure and deterministic given `now`: no I/O,
 * and the result does not depend on the order of the input.
 *
 * Every decision can be explained in one line from the fields of
 * score_t ("usually every ~2 weeks; 7 weeks since an email on Oct 8").
 */
#ifndef DIGEST_SCORE_H
#define DIGEST_SCORE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "contacts.h"
#include "store.h"

#define SCORE_WEEKS 12            /* weeks of history shown per person */
#define SCORE_HALF_LIFE_DAYS 90.0 /* of a touch's weight in the score */
#define SCORE_MIN_DAYS 14         /* never neglected before two weeks */
#define SCORE_COOLING_DAYS 56     /* the recent window of "cooling" */

typedef enum {
	SCORE_CHECK_IN = 0, /* a mix of channels: check in */
	SCORE_CALL,         /* the last three touches were emails */
	SCORE_NOTE,         /* the last three touches were meetings */
} score_suggestion_t;

/* What the leader said about a person, given to score_people. */
typedef struct {
	double cadence_days;   /* a wanted rhythm (> 0), else 0 */
	int64_t snoozed_until; /* not listed before then; 0 when not */
	bool upcoming;         /* a meeting is booked in the coming 7 days */
} score_input_t;

typedef struct {
	double score;          /* decayed sum of weights (relationship strength) */
	size_t touch_days;     /* distinct days with a touch in the window */
	double rhythm_days;    /* the cadence, else the learned rhythm; < 0
	                        * when there is none */
	bool rhythm_learned;   /* rhythm_days comes from the history */
	int64_t days_since;    /* whole days since the last touch; -1 if none */
	double overdue;        /* days_since / rhythm_days; < 0 when unknown */
	bool real;             /* enough touch days, or a cadence */
	bool neglected;
	bool cooling;
	bool snoozed;
	score_suggestion_t suggestion;
	int history[SCORE_WEEKS]; /* touches per ISO week, oldest first; the
	                           * last is the week of now */
	double rank;           /* score × overdue, for ordering the neglected */
} score_t;

/*
 * Score every person of c (whose interactions are in h, already limited
 * to the lookback window) as of now.  in[i] and out[i] belong to c->v[i];
 * in may be NULL.  Days and ISO weeks are the leader's: offsets[i] is
 * the leader's offset from UTC (seconds east) at h->ias[i].time, and
 * now_offset the one at now; offsets may be NULL (all now_offset).
 */
void score_people(const config_t *cfg, const store_history_t *h,
		  const contacts_t *c, const score_input_t *in, int64_t now,
		  const long *offsets, long now_offset, score_t *out);

/* Indices of the neglected people, ranked: highest rank first, ties by
 * address.  Returns how many; *order is allocated (caller frees). */
size_t score_rank_neglected(const contacts_t *c, const score_t *s,
			    size_t **order);

const char *score_suggestion_name(score_suggestion_t s);

#endif
