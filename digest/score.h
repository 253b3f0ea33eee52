/*
 * score — the neglect model of DESIGN §6: per person the learned rhythm
 * and its spread, how overdue they are, whether they are neglected or
 * cooling (or why not), what to suggest, and how they rank.  Pure and
 * deterministic given `now`: no I/O, and the result does not depend on the
 * order of the input.
 *
 * The model works on episodes, not on single touches: every touch within
 * SCORE_EPISODE_DAYS of an episode's first touch belongs to it (a thread,
 * a board pack and the meeting after it).  Time the leader spent away
 * (7 days to 6 weeks without a single interaction with anyone) is not
 * counted toward anyone's silence or gaps, and neither is a longer
 * stretch without any interaction (a gap in the record).
 *
 * Every decision can be explained in one line from the fields of score_t
 * ("usually every 3–8 weeks; 11 weeks since an email on Sep 2").
 */
#ifndef DIGEST_SCORE_H
#define DIGEST_SCORE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "contacts.h"
#include "store.h"

#define SCORE_WEEKS 12 /* weeks of history shown per person */
#define SCORE_EPISODE_DAYS                                                     \
	5 /* touches this close to an episode's                                \
	   * first touch belong to it */
#define SCORE_HALF_LIFE_DAYS                                                   \
	365.0 /* of an episode's weight in the                                 \
	       * relationship's strength */
#define SCORE_MIN_DAYS                                                         \
	21                     /* a learned rhythm is never neglected          \
				* before three weeks */
#define SCORE_COOLING_DAYS  56 /* the recent window of "cooling" */
#define SCORE_AWAY_MIN_DAYS 7  /* an absence of the leader: 7 days ... */
#define SCORE_AWAY_MAX_DAYS 42 /* ... to 6 weeks without any interaction */

typedef enum {
	SCORE_CHECK_IN = 0, /* a mix of channels: check in */
	SCORE_CALL,         /* the last three touches were emails */
	SCORE_NOTE,         /* the last three touches were meetings */
} score_suggestion_t;

/* Why someone seen in the window is not a candidate at all. */
typedef enum {
	SCORE_CANDIDATE = 0, /* a relationship, judged on its rhythm */
	SCORE_SNOOZED,       /* the leader snoozed them */
	SCORE_TOO_FEW,       /* fewer than min_touches touches */
	SCORE_ONE_THREAD,    /* touches, but not min_touches episodes
			      * spread over min_span */
	SCORE_DORMANT,       /* silent for longer than dormant_after */
} score_state_t;

/* What the leader said about a person, and their calendar, given to
 * score_people. */
typedef struct {
	double cadence_days;   /* a wanted rhythm (> 0), else 0 */
	int64_t snoozed_until; /* not listed before then; 0 when not */
	bool upcoming;         /* a meeting is booked in the coming 7 days */
	bool standing;         /* a recurring meeting with them goes on */
} score_input_t;

/* A stretch of at least SCORE_AWAY_MIN_DAYS in which the leader reached
 * nobody at all: local day numbers (days since 1970-01-01 in the leader's
 * zone), both inclusive.  Up to SCORE_AWAY_MAX_DAYS it is an absence (a
 * vacation, a leave); a longer one is a gap in the record (a source that
 * was stale or incomplete then).  Neither counts toward anyone's silence
 * or rhythm: there is no evidence of neglect in it. */
typedef struct {
	int64_t first, last;
	bool absence; /* not a gap in the record */
} score_away_t;

typedef struct {
	score_away_t *v; /* oldest first */
	size_t n;
} score_aways_t;

typedef struct {
	score_state_t state;
	double score;        /* strength: the sum of the episodes' weights,
			      * each halved every SCORE_HALF_LIFE_DAYS */
	size_t episodes;     /* in the window */
	int64_t span_days;   /* from the first episode to the last */
	double rhythm_days;  /* the cadence, else the median gap between
			      * episodes (net of absences); < 0 when none */
	double rhythm_low;   /* the spread of the gaps: their quartiles; */
	double rhythm_high;  /* < 0 when there is no learned rhythm */
	bool rhythm_learned; /* rhythm_days comes from the history */
	int64_t days_since;  /* whole days since the last touch; -1 if none */
	int64_t away_days;   /* days of that silence the leader was away */
	double overdue;      /* days_since / rhythm (DESIGN §2); < 0 when
			      * unknown */
	bool late;           /* the silence net of absences is a rhythm or
			      * more */
	double due_days;     /* the net silence at which they are neglected:
			      * neglect_factor times the cadence, or times
			      * the learned usual gap (its spread included)
			      * with some slack and at least SCORE_MIN_DAYS;
			      * < 0 when never */
	bool due;            /* neglected or cooling, booked or not */
	bool booked;         /* a meeting in the coming week, or a
			      * standing one: listed only as coming up */
	bool neglected;
	bool cooling;
	bool snoozed;
	score_suggestion_t suggestion;
	int history[SCORE_WEEKS]; /* touches per ISO week, oldest first; the
				   * last is the week of now */
	double rank;              /* for ordering the neglected */
} score_t;

/*
 * Score every person of c (whose interactions are in h, already limited
 * to the lookback window) as of now.  in[i] and out[i] belong to c->v[i];
 * in may be NULL.  Days and ISO weeks are the leader's: offsets[i] is
 * the leader's offset from UTC (seconds east) at h->ias[i].time, and
 * now_offset the one at now; offsets may be NULL (all now_offset).  The
 * leader's absences, found in all of h, go to *away (may be NULL; free
 * with score_aways_free).
 */
void score_people(const config_t *cfg, const store_history_t *h,
		  const contacts_t *c, const score_input_t *in, int64_t now,
		  const int32_t *offsets, long now_offset, score_t *out,
		  score_aways_t *away);
void score_aways_free(score_aways_t *a);

/* Indices of the neglected people, ranked: highest rank first, ties by
 * address.  Returns how many; *order is allocated (caller frees). */
size_t score_rank_neglected(const contacts_t *c, const score_t *s,
			    size_t **order);

const char *score_suggestion_name(score_suggestion_t s);
/* "snoozed", "too few touches", "one thread", "dormant" (NULL for a
 * candidate): the reasons of the digest's `excluded`. */
const char *score_state_name(score_state_t s);

#endif
