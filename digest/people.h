/*
 * people — everything known about a leader's people as of now, in one
 * place: the history of the lookback window, the people it names, the
 * meetings of the coming week, and the neglect model's verdict on each.
 * What `contacts` prints and what the digest is built from.
 */
#ifndef DIGEST_PEOPLE_H
#define DIGEST_PEOPLE_H

#include "config.h"
#include "contacts.h"
#include "score.h"
#include "store.h"

typedef struct {
	int64_t now;
	store_history_t history;  /* interactions in [now - lookback, now] */
	store_history_t upcoming; /* meetings in [now, now + 7 days) */
	store_said_t said;        /* snoozes, cadences, notes, merges */
	contacts_t contacts;
	score_input_t *input;     /* per contacts.v[i] */
	score_t *scores;          /* per contacts.v[i] */
	bool *fresh;              /* per contacts.v[i]: first interaction
	                           * ever in the last 7 days */
	size_t *neglected;        /* indices into contacts.v, ranked */
	size_t nneglected;
} people_t;

/*
 * The configured sources of leader l that have brought nothing new for
 * max(14 days, twice the leader's usual gap between interactions): a
 * broken sync would make the digest call everyone neglected.  Appends
 * one line per stale source to *stale ("SPEC: nothing new since DATE").
 */
status_t people_stale_sources(store_t *st, const config_leader_t *l,
			      int64_t leader_id, const people_t *p,
			      strvec_t *stale, err_t *err);

/* Load and score the people of leader l (store row leader_id; 0 when the
 * leader was never ingested: no people).  Free with people_free. */
status_t people_load(store_t *st, const config_t *cfg,
		     const config_leader_t *l, int64_t leader_id, int64_t now,
		     people_t *out, err_t *err);
void people_free(people_t *p);

#endif
