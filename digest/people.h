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

/* What decides who is a person for a leader beyond the config: what the
 * leader said, and the assistants seen in the store. */
typedef struct {
	store_said_t said;   /* snoozes, cadences, notes, merges, ignores */
	strvec_t staff;      /* who else sends from the leader's sources */
	strvec_t others;     /* other leaders' delegates and staff */
	ident_extra_t ident; /* the above, for ident_classify */
} people_rules_t;

/* Load them for leader l (store row leader_id, 0 when never ingested).
 * Free with people_rules_free. */
status_t people_rules_load(store_t *st, const config_t *cfg,
			   const config_leader_t *l, int64_t leader_id,
			   people_rules_t *out, err_t *err);
void people_rules_free(people_rules_t *r);

typedef struct {
	int64_t now;
	store_history_t history;  /* interactions in [now - lookback, now] */
	store_history_t upcoming; /* meetings in [now, now + 7 days), and the
				   * next instances of recurring series up
				   * to STORE_STANDING_DAYS ahead */
	people_rules_t rules;     /* who counts as a person */
	contacts_t contacts;
	score_input_t *input; /* per contacts.v[i] */
	score_t *scores;      /* per contacts.v[i] */
	bool *fresh;          /* per contacts.v[i]: first interaction
			       * ever in the last 7 days */
	bool *merge_new;      /* per contacts.v[i]: of several addresses,
			       * joined automatically, and no digest of
			       * an earlier week was sent with them so */
	size_t *neglected;    /* indices into contacts.v, ranked */
	size_t nneglected;
	score_aways_t away; /* the leader's absences in the window */
} people_t;

/*
 * The configured sources of leader l that have brought nothing new for
 * max(14 days, twice the leader's usual gap between interactions), or
 * (mail) whose newest message is older than that (a first run over a
 * folder that stopped syncing): a broken sync would make the digest call
 * everyone neglected.  Appends one line per stale source to *stale
 * ("SPEC: nothing new since DATE").
 */
status_t people_stale_sources(store_t *st, const config_leader_t *l,
			      int64_t leader_id, const people_t *p,
			      strvec_t *stale, err_t *err);

/* Does a coming-up meeting book its people (DESIGN §6)?  Only one that
 * will be a touch: a meeting with them, not an all-hands. */
bool people_books(const store_ia_t *meeting);

/* Load and score the people of leader l (store row leader_id; 0 when the
 * leader was never ingested: no people).  Free with people_free. */
status_t people_load(store_t *st, const config_t *cfg, const config_leader_t *l,
		     int64_t leader_id, int64_t now, people_t *out, err_t *err);
void people_free(people_t *p);

/* Whether auto_merge joined some of person c's addresses: the leader's
 * merge pairs (`merged`, as store_said_t has them) do not join them all. */
bool people_merge_is_auto(const strvec_t *merged, const contact_t *c);

/* How the store knows an automatic merge: the person's addresses,
 * sorted, joined by a space.  Caller frees. */
char *people_merge_key(const char *const *addrs, size_t n);

#endif
