/*
 * people — history, people and scores of one leader.  See people.h.
 */
#include "people.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "model.h"
#include "tz.h"

#define WEEK (7 * 86400)
/* Messages From someone else in a leader's sent sources that make them
 * the leader's staff: fewer may be a forwarded one-off. */
#define PEOPLE_STAFF_MESSAGES 3

bool people_books(const store_ia_t *meeting)
{
	return meeting->weight >= CONTACTS_TOUCH_WEIGHT;
}

status_t people_rules_load(store_t *st, const config_t *cfg,
			   const config_leader_t *l, int64_t leader_id,
			   people_rules_t *out, err_t *err)
{
	status_t s = ST_OK;
	memset(out, 0, sizeof *out);
	/* Assistants: who else sends from a leader's sent sources, and the
	 * other leaders' delegates. */
	if (leader_id &&
	    ((s = store_said(st, leader_id, &out->said, err)) ||
	     (s = store_foreign_senders(st, leader_id, PEOPLE_STAFF_MESSAGES,
					&out->staff, &out->others, err)))) {
		people_rules_free(out);
		return s;
	}
	for (size_t i = 0; i < cfg->nleaders; i++)
		for (size_t j = 0;
		     &cfg->leaders[i] != l && j < cfg->leaders[i].delegates.n;
		     j++)
			strvec_push(&out->others,
				    cfg->leaders[i].delegates.v[j]);
	out->ident =
		(ident_extra_t){&out->said.ignore, &out->staff, &out->others};
	return ST_OK;
}

void people_rules_free(people_rules_t *r)
{
	if (!r)
		return;
	store_said_free(&r->said);
	strvec_free(&r->staff);
	strvec_free(&r->others);
	memset(r, 0, sizeof *r);
}

/* The root of x in a union-find forest. */
static size_t uf_root(size_t *up, size_t x)
{
	while (up[x] != x)
		x = up[x] = up[up[x]];
	return x;
}

bool people_merge_is_auto(const strvec_t *merged, const contact_t *c)
{
	if (c->naddresses < 2)
		return false;
	/* The leader's merge pairs (address, person) are edges between the
	 * person's addresses; chains (a into b, b into c) join too.  More
	 * than one group left: auto_merge joined them. */
	size_t *up = xcalloc(c->naddresses, sizeof *up), groups = c->naddresses;
	for (size_t i = 0; i < c->naddresses; i++)
		up[i] = i;
	for (size_t i = 0; i + 1 < merged->n; i += 2) {
		size_t x = SIZE_MAX, y = SIZE_MAX;
		for (size_t j = 0; j < c->naddresses; j++) {
			if (strcmp(merged->v[i], c->addresses[j]) == 0)
				x = j;
			if (strcmp(merged->v[i + 1], c->addresses[j]) == 0)
				y = j;
		}
		if (x == SIZE_MAX || y == SIZE_MAX)
			continue;
		size_t rx = uf_root(up, x), ry = uf_root(up, y);
		if (rx != ry) {
			up[rx] = ry;
			groups--;
		}
	}
	free(up);
	return groups > 1;
}

char *people_merge_key(const char *const *addrs, size_t n)
{
	const char **v = xcalloc(n ? n : 1, sizeof *v);
	strbuf_t b = {0};
	memcpy(v, addrs, n * sizeof *v);
	qsort(v, n, sizeof *v, str_ptr_cmp);
	for (size_t i = 0; i < n; i++)
		sb_printf(&b, "%s%s", i ? " " : "", v[i]);
	free(v);
	if (!b.s)
		sb_puts(&b, "");
	return sb_steal(&b);
}

status_t people_load(store_t *st, const config_t *cfg, const config_leader_t *l,
		     int64_t leader_id, int64_t now, people_t *out, err_t *err)
{
	status_t s = ST_OK;
	strmap_t index = {0};

	memset(out, 0, sizeof *out);
	out->now = now;
	if (leader_id && ((s = store_history(st, leader_id, now - cfg->lookback,
					     now + 1, &out->history, err)) ||
			  (s = store_upcoming(st, leader_id, now,
					      now + STORE_STANDING_DAYS * 86400,
					      &out->upcoming, err))))
		goto done;
	if ((s = people_rules_load(st, cfg, l, leader_id, &out->rules, err)))
		goto done;
	contacts_build(cfg, l, &out->rules.said, &out->rules.ident,
		       &out->history, &out->contacts);
	size_t n = out->contacts.n;
	out->input = xcalloc(n ? n : 1, sizeof *out->input);
	out->scores = xcalloc(n ? n : 1, sizeof *out->scores);

	/* What the leader said: the primary address's setting first, then
	 * any other address's. */
	for (size_t i = 0; i < n; i++) {
		const contact_t *c = &out->contacts.v[i];
		for (size_t j = 0; j < c->naddresses; j++) {
			const store_setting_t *x = store_said_setting(
				&out->rules.said, c->addresses[j]);
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

	/* Who has a meeting booked in the coming week, or a standing one
	 * that goes on (people_books). */
	for (size_t i = 0; i < out->history.naddrs; i++)
		strmap_put(&index, out->history.addrs[i].addr, (int64_t)i);
	for (size_t i = 0; i < out->upcoming.nias; i++) {
		const store_ia_t *ia = &out->upcoming.ias[i];
		if (!people_books(ia))
			continue;
		const uint32_t *pv = store_parts(&out->upcoming, ia);
		for (size_t j = 0; j < ia->nparts; j++) {
			int64_t k;
			if (!strmap_get(&index, out->upcoming.addrs[pv[j]].addr,
					&k))
				continue;
			int p = out->contacts.person_of[k];
			if (p < 0)
				continue;
			if (ia->time < now + WEEK)
				out->input[p].upcoming = true;
			if (ia->recurring)
				out->input[p].standing = true;
		}
	}

	/* The leader's local days, with the offset of each instant (the
	 * instants copied a block at a time). */
	size_t ni = out->history.nias;
	int64_t times[1024];
	int32_t *offsets = xcalloc(ni + 1, sizeof *offsets);
	for (size_t i = 0; i <= ni; i += 1024) {
		size_t n = ni + 1 - i < 1024 ? ni + 1 - i : 1024;
		for (size_t k = 0; k < n; k++)
			times[k] =
				i + k < ni ? out->history.ias[i + k].time : now;
		tz_offsets(l->timezone, times, n, offsets + i);
	}
	score_people(cfg, &out->history, &out->contacts, out->input, now,
		     offsets, offsets[ni], out->scores, &out->away);
	free(offsets);
	out->nneglected = score_rank_neglected(&out->contacts, out->scores,
					       &out->neglected);

	/* New contacts: first seen in the last week, and never before the
	 * window either (asked of the store for those few only). */
	out->fresh = xcalloc(n ? n : 1, sizeof *out->fresh);
	int64_t *first = xcalloc(n ? n : 1, sizeof *first);
	for (size_t i = 0; i < ni; i++) {
		const store_ia_t *ia = &out->history.ias[i];
		const uint32_t *pv = store_parts(&out->history, ia);
		for (size_t j = 0; j < ia->nparts; j++) {
			int k = out->contacts.person_of[pv[j]];
			if (k >= 0 && !first[k])
				first[k] = ia->time;
		}
	}
	for (size_t k = 0; k < n && !s; k++) {
		if (!first[k] || first[k] < now - WEEK)
			continue;
		bool before = false;
		const contact_t *c = &out->contacts.v[k];
		for (size_t j = 0; j < c->naddresses && !before && !s; j++)
			s = store_seen_before(st, leader_id, c->addresses[j],
					      now - cfg->lookback, &before,
					      err);
		out->fresh[k] = !before;
	}
	free(first);

	/* An automatic merge is listed in the first digest sent with it,
	 * and in every preview of that week, not after. */
	out->merge_new = xcalloc(n ? n : 1, sizeof *out->merge_new);
	char week[16], wstart[11], wend[11];
	strmap_t shown = {0};
	model_week(now, l->timezone, week, wstart, wend);
	if (!s && leader_id)
		s = store_merges_shown(st, leader_id, week, &shown, err);
	for (size_t k = 0; k < n && !s; k++) {
		const contact_t *c = &out->contacts.v[k];
		if (c->naddresses < 2)
			continue;
		char *key = people_merge_key((const char *const *)c->addresses,
					     c->naddresses);
		out->merge_new[k] = !strmap_get(&shown, key, NULL);
		free(key);
	}
	strmap_free(&shown);
done:
	strmap_free(&index);
	if (s)
		people_free(out);
	return s;
}

/* The gap from h->ias[i] to the next: never negative, as a history is
 * ordered by time. */
static uint64_t gap_after(size_t i, const void *h)
{
	const store_ia_t *ias = ((const store_history_t *)h)->ias;
	return (uint64_t)(ias[i + 1].time - ias[i].time);
}

status_t people_stale_sources(store_t *st, const config_leader_t *l,
			      int64_t leader_id, const people_t *p,
			      strvec_t *stale, err_t *err)
{
	store_source_info_t *src = NULL;
	size_t n = 0;
	status_t s;
	if (!leader_id)
		return ST_OK;
	if ((s = store_sources(st, leader_id, p->now + 1, &src, &n, err)))
		return s;
	/* The usual gap between interactions: their median. */
	const store_history_t *h = &p->history;
	int64_t gap = 0;
	if (h->nias > 1)
		gap = (int64_t)u64_select_passes(
			h->nias - 1, (h->nias - 1) / 2,
			(uint64_t)(h->ias[h->nias - 1].time - h->ias[0].time),
			gap_after, h);
	int64_t limit = 2 * gap > 2 * WEEK ? 2 * gap : 2 * WEEK;
	for (size_t k = 0; k < l->nsent + l->ncalendar; k++) {
		const config_source_t *c =
			k < l->nsent ? &l->sent[k] : &l->calendar[k - l->nsent];
		/* A Maildir tree is as fresh as its freshest Maildir. */
		char *tree = c->recursive ? ingest_maildir_spec(c, "") : NULL;
		size_t tn = tree ? strlen(tree) : 0;
		int64_t best = INT64_MIN;
		for (size_t i = 0; i < n; i++) {
			if (tree ? strncmp(src[i].spec, tree, tn) != 0 ||
					    (src[i].spec[tn] &&
					     src[i].spec[tn] != '/')
				 : strcmp(src[i].spec, c->spec) != 0)
				continue;
			/* Judged by when it last brought something, and mail
			 * also by the newest message it holds: a folder that
			 * stopped syncing before the first run.  (Meetings
			 * may be rare; a calendar is judged by its changes.) */
			int64_t last = src[i].last_new;
			if (c->kind != SRC_ICS && c->kind != SRC_HTTP &&
			    src[i].newest && src[i].newest < last)
				last = src[i].newest;
			if (last > best)
				best = last;
		}
		free(tree);
		if (best == INT64_MIN || p->now - best <= limit)
			continue;
		char date[11];
		tz_format_date(l->timezone, best, date);
		char *name = ingest_source_name(c);
		strvec_take(stale,
			    xasprintf("%s: nothing new since %s", name, date));
		free(name);
	}
	store_sources_free(src, n);
	return ST_OK;
}

void people_free(people_t *p)
{
	if (!p)
		return;
	store_history_free(&p->history);
	store_history_free(&p->upcoming);
	people_rules_free(&p->rules);
	contacts_free(&p->contacts);
	free(p->input);
	free(p->scores);
	free(p->fresh);
	free(p->merge_new);
	free(p->neglected);
	score_aways_free(&p->away);
	memset(p, 0, sizeof *p);
}
