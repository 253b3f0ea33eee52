/*
 * people — history, people and scores of one leader.  See people.h.
 */
#include "people.h"

#include <stdlib.h>
#include <string.h>

#include "tz.h"

#define WEEK (7 * 86400)

status_t people_load(store_t *st, const config_t *cfg,
		     const config_leader_t *l, int64_t leader_id, int64_t now,
		     people_t *out, err_t *err)
{
	status_t s = ST_OK;
	strmap_t index = {0};

	memset(out, 0, sizeof *out);
	out->now = now;
	if (leader_id &&
	    ((s = store_history(st, leader_id, now - cfg->lookback, now + 1,
				&out->history, err)) ||
	     (s = store_upcoming(st, leader_id, now, now + WEEK,
				 &out->upcoming, err))))
		goto done;
	if (leader_id && (s = store_said(st, leader_id, &out->said, err)))
		goto done;
	contacts_build(cfg, l, &out->said, &out->history, &out->contacts);
	size_t n = out->contacts.n;
	out->input = xcalloc(n ? n : 1, sizeof *out->input);
	out->scores = xcalloc(n ? n : 1, sizeof *out->scores);

	/* What the leader said: the primary address's setting first, then
	 * any other address's. */
	for (size_t i = 0; i < n; i++) {
		const contact_t *c = &out->contacts.v[i];
		for (size_t j = 0; j < c->naddresses; j++) {
			const store_setting_t *x =
				store_said_setting(&out->said, c->addresses[j]);
			if (!x)
				continue;
			score_input_t *in = &out->input[i];
			if (!in->cadence_days)
				in->cadence_days = x->cadence_days;
			if (!in->snoozed_until)
				in->snoozed_until = x->snoozed_until;
			if (!out->contacts.v[i].note)
				out->contacts.v[i].note = x->note;
		}
	}

	/* Who has a meeting booked in the coming week. */
	for (size_t i = 0; i < out->history.naddrs; i++)
		strmap_put(&index, out->history.addrs[i].addr, (int64_t)i);
	for (size_t i = 0; i < out->upcoming.nias; i++) {
		const store_ia_t *ia = &out->upcoming.ias[i];
		for (size_t j = 0; j < ia->nparts; j++) {
			int64_t k;
			if (!strmap_get(&index, out->upcoming.addrs[ia->parts[j]].addr, &k))
				continue;
			int p = out->contacts.person_of[k];
			if (p >= 0)
				out->input[p].upcoming = true;
		}
	}

	/* The leader's local days, with the offset of each instant. */
	size_t ni = out->history.nias;
	int64_t *times = xcalloc(ni + 1, sizeof *times);
	long *offsets = xcalloc(ni + 1, sizeof *offsets);
	for (size_t i = 0; i < ni; i++)
		times[i] = out->history.ias[i].time;
	times[ni] = now;
	tz_offsets(l->timezone, times, ni + 1, offsets);
	score_people(cfg, &out->history, &out->contacts, out->input, now,
		     offsets, offsets[ni], out->scores);
	free(times);
	free(offsets);
	out->nneglected = score_rank_neglected(&out->contacts, out->scores,
					       &out->neglected);

	/* New contacts: first seen in the last week, and never before the
	 * window either (asked of the store for those few only). */
	out->fresh = xcalloc(n ? n : 1, sizeof *out->fresh);
	int64_t *first = xcalloc(n ? n : 1, sizeof *first);
	for (size_t i = 0; i < ni; i++)
		for (size_t j = 0; j < out->history.ias[i].nparts; j++) {
			int k = out->contacts.person_of[out->history.ias[i].parts[j]];
			if (k >= 0 && !first[k])
				first[k] = out->history.ias[i].time;
		}
	for (size_t k = 0; k < n && !s; k++) {
		if (!first[k] || first[k] < now - WEEK)
			continue;
		bool before = false;
		const contact_t *c = &out->contacts.v[k];
		for (size_t j = 0; j < c->naddresses && !before && !s; j++)
			s = store_seen_before(st, leader_id, c->addresses[j],
					      now - cfg->lookback, &before, err);
		out->fresh[k] = !before;
	}
	free(first);
done:
	strmap_free(&index);
	if (s)
		people_free(out);
	return s;
}

void people_free(people_t *p)
{
	if (!p)
		return;
	store_history_free(&p->history);
	store_history_free(&p->upcoming);
	store_said_free(&p->said);
	contacts_free(&p->contacts);
	free(p->input);
	free(p->scores);
	free(p->fresh);
	free(p->neglected);
	memset(p, 0, sizeof *p);
}
