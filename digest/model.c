/*
 * model — the digest data model.  See model.h.
 */
#include "model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

#define DAY                 86400
#define WEEK                (7 * DAY)
#define CIRCLE_REACHED_DAYS 28 /* "reached" in circle coverage */
#define EXAMPLES            3  /* examples per exclusion reason */

void model_week(int64_t t, const char *zone, char id[16], char start[11],
		char end[11])
{
	struct tm tm, mon, sun;
	tz_localtime(zone, t, &tm);
	/* Monday and Sunday at noon, clear of any DST change. */
	mon = tm;
	mon.tm_hour = 12;
	mon.tm_min = mon.tm_sec = 0;
	mon.tm_mday -= (tm.tm_wday + 6) % 7;
	sun = mon;
	sun.tm_mday += 6;
	int64_t m = tz_mktime(zone, &mon), s = tz_mktime(zone, &sun);
	tz_format_date(zone, m, start);
	tz_format_date(zone, s, end);
	/* The ISO year is that of the week's Thursday. */
	struct tm thu = mon, th;
	thu.tm_mday += 3;
	tz_localtime(zone, tz_mktime(zone, &thu), &th);
	snprintf(id, 16, "%04d-W%02d", (th.tm_year + 1900) % 10000,
		 (th.tm_yday / 7 + 1) % 100);
}

json_t *model_text(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_null();
}

json_t *model_time(int64_t t)
{
	char buf[21];
	if (t < 0)
		return json_null();
	tz_format_utc(t, buf);
	return json_string(buf);
}

json_t *model_number(double v)
{
	return v < 0 ? json_null() : json_real(round(v * 100) / 100);
}

/* The unit a rhythm of `days` is told in: days, weeks or months. */
static double unit_of(double days, const char **unit)
{
	if (days < 7) { /* a weekly rhythm is "~1 week", not "~7 days" */
		*unit = "day";
		return 1;
	}
	if (days < 60) {
		*unit = "week";
		return 7;
	}
	*unit = "month";
	return 30.4;
}

void model_span(strbuf_t *b, double days, double low, double high)
{
	const char *unit;
	double per = unit_of(high > days ? high : days, &unit);
	long lo = lround(low / per), hi = lround(high / per);
	if (low >= 0 && high > low && lo >= 1 && hi > lo) {
		sb_printf(b, "%ld\u2013%ld %ss", lo, hi, unit);
		return;
	}
	per = unit_of(days, &unit);
	long v = lround(days / per);
	if (v < 1)
		v = 1;
	sb_printf(b, "~%ld %s%s", v, unit, v == 1 ? "" : "s");
}

void model_elapsed(int64_t days, char *buf, size_t n)
{
	if (days < 14) {
		snprintf(buf, n, "%lld day%s", (long long)days,
			 days == 1 ? "" : "s");
		return;
	}
	/* Rounded to the nearest, as a person says it: 27 days are "4
	 * weeks", 76 are "3 months". */
	long v = days < 61 ? lround(days / 7.0) : lround(days / 30.4);
	snprintf(buf, n, "%ld %s", v, days < 61 ? "weeks" : "months");
}

static const char *channel_name(store_channel_t c)
{
	return c == STORE_MEETING ? "meeting" : "email";
}

/* The one-line evidence: "usually every ~2 weeks; 7 weeks since an email
 * on Oct 8". */
static char *evidence(const config_leader_t *l, const contact_t *c,
		      const score_t *s)
{
	char since[32], date[32];
	strbuf_t b = {0};
	if (s->rhythm_days > 0) {
		sb_puts(&b, s->rhythm_learned ? "usually every "
					      : "you want every ");
		model_span(&b, s->rhythm_days, s->rhythm_low, s->rhythm_high);
		sb_puts(&b, "; ");
	}
	if (c->last_contact < 0) {
		sb_puts(&b, "no contact in the window");
		return sb_steal(&b);
	}
	struct tm tm;
	tz_localtime(l->timezone, c->last_contact, &tm);
	strftime(date, sizeof date, "%b %-d", &tm);
	model_elapsed(s->days_since, since, sizeof since);
	sb_printf(&b, "%s since %s on %s", since,
		  c->last_channel == STORE_MEETING ? "a meeting" : "an email",
		  date);
	return sb_steal(&b);
}

/* One short, concrete suggestion from what is known of the person:
 * a meeting in the coming week, the leader's note, how long it has been,
 * and how the last touches went.  The same sentence on every person reads
 * as boilerplate, so each case has its own. */
static const char *suggestion_text(const contact_t *c, const score_t *s,
				   const score_input_t *in)
{
	/* The rule decides what to suggest; what is known (a meeting
	 * ahead, a long silence, how they last met) only words it.  A note
	 * is shown beside it, never instead. */
	bool meeting_soon = s->booked || (in && in->upcoming);
	bool long_ago =
		s->days_since >= 90 || (s->overdue >= 0 && s->overdue >= 4);
	switch (s->suggestion) {
	case SCORE_CALL:
		if (meeting_soon)
			return "Only emails lately: make the meeting ahead a "
			       "real conversation.";
		if (long_ago)
			return "Only emails for a long while: suggest a call.";
		return "Only emails lately: suggest a call or a short meeting.";
	case SCORE_NOTE:
		if (meeting_soon)
			return "You have only met lately: a short note before "
			       "you meet again.";
		if (long_ago)
			return "It has been a while since you met: send a "
			       "short "
			       "personal note.";
		return "You have only met lately: send a short personal note.";
	case SCORE_CHECK_IN:
		break;
	}
	if (meeting_soon)
		return "You meet soon: come with one question for them.";
	if (long_ago)
		return "It has been a while: a short check-in is enough.";
	if (c->last_contact >= 0 && c->last_channel == STORE_MEETING)
		return "Follow up on your last meeting with a short check-in.";
	return "Check in: ask how things are going.";
}

/* "mailto:" and the address, every byte but unreserved ones and '@'
 * percent-encoded (RFC 6068).  Caller frees. */
static char *mailto_uri(const char *addr)
{
	strbuf_t b = {0};
	sb_puts(&b, "mailto:");
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++) {
		if (isalnum(*p) || strchr("@.-_~", *p))
			sb_putc(&b, (char)*p);
		else
			sb_printf(&b, "%%%02X", *p);
	}
	return sb_steal(&b);
}

static json_t *person_json(const config_leader_t *l, const people_t *p,
			   size_t i)
{
	const contact_t *c = &p->contacts.v[i];
	const score_t *s = &p->scores[i];
	json_t *o = json_object(), *hist = json_array(), *chart = json_array();
	int max = 1;
	for (int w = 0; w < SCORE_WEEKS; w++)
		if (s->history[w] > max)
			max = s->history[w];
	for (int w = 0; w < SCORE_WEEKS; w++) {
		json_array_append_new(hist, json_integer(s->history[w]));
		/* A bar of table cells: height in pixels, 2 for an empty
		 * week so the row stays visible. */
		json_t *bar = json_object();
		json_object_set_new(bar, "n", json_integer(s->history[w]));
		json_object_set_new(
			bar, "height",
			json_integer(s->history[w]
					     ? 4 + 20 * s->history[w] / max
					     : 2));
		json_object_set_new(bar, "empty", json_boolean(!s->history[w]));
		json_array_append_new(chart, bar);
	}
	/* Missed for longer than the chart: the date of the last touch
	 * instead of twelve empty weeks. */
	bool quiet = true;
	for (int w = 0; w < SCORE_WEEKS; w++)
		quiet &= s->history[w] == 0;
	char last[32] = "";
	if (c->last_contact >= 0) {
		struct tm tm;
		tz_localtime(l->timezone, c->last_contact, &tm);
		strftime(last, sizeof last, "%b %-d", &tm);
	}
	json_object_set_new(o, "quiet", json_boolean(quiet && last[0]));
	json_object_set_new(o, "last_label", json_string(last));
	char *ev = evidence(l, c, s);
	json_object_set_new(o, "name",
			    model_text(c->name ? c->name : c->address));
	json_object_set_new(o, "named", json_boolean(c->name != NULL));
	char *mailto = mailto_uri(c->address);
	json_object_set_new(o, "mailto", json_string(mailto));
	free(mailto);
	json_object_set_new(o, "address", json_string(c->address));
	json_object_set_new(o, "circle", model_text(c->circle));
	json_object_set_new(o, "days_since",
			    s->days_since < 0 ? json_null()
					      : json_integer(s->days_since));
	json_object_set_new(o, "last_contact", model_time(c->last_contact));
	json_object_set_new(o, "last_channel",
			    c->last_contact < 0 ? json_null()
						: json_string(channel_name(
							  c->last_channel)));
	json_object_set_new(o, "rhythm_days", model_number(s->rhythm_days));
	json_object_set_new(o, "overdue", model_number(s->overdue));
	json_object_set_new(o, "touches", json_integer((json_int_t)c->touches));
	json_object_set_new(o, "suggestion",
			    json_string(suggestion_text(
				    c, s, p->input ? &p->input[i] : NULL)));
	json_object_set_new(o, "note", model_text(c->note));
	json_object_set_new(o, "history", hist);
	json_object_set_new(o, "evidence", json_string(ev));
	json_object_set_new(o, "chart", chart);
	free(ev);
	return o;
}

/* Stats of the 7 days before now. */
static json_t *stats_json(const people_t *p)
{
	size_t emails = 0, meetings = 0, reached = 0, fresh = 0;
	const store_history_t *h = &p->history;
	size_t np = p->contacts.n;
	bool *touched = xcalloc(np ? np : 1, sizeof *touched);
	for (size_t i = 0; i < h->nias; i++) {
		const store_ia_t *ia = &h->ias[i];
		const uint32_t *pv = store_parts(h, ia);
		bool recent = ia->time >= p->now - WEEK && ia->time <= p->now;
		bool person = false;
		for (size_t j = 0; j < ia->nparts; j++) {
			int k = p->contacts.person_of[pv[j]];
			if (k < 0)
				continue;
			person = true;
			if (recent && ia->weight >= CONTACTS_TOUCH_WEIGHT)
				touched[k] = true;
		}
		if (recent && person)
			ia->channel == STORE_MEETING ? meetings++ : emails++;
	}
	for (size_t k = 0; k < np; k++) {
		reached += touched[k];
		fresh += p->fresh[k];
	}
	free(touched);
	json_t *o = json_object();
	json_object_set_new(o, "people_reached",
			    json_integer((json_int_t)reached));
	json_object_set_new(o, "emails", json_integer((json_int_t)emails));
	json_object_set_new(o, "meetings", json_integer((json_int_t)meetings));
	json_object_set_new(o, "new_contacts", json_integer((json_int_t)fresh));
	return o;
}

static json_t *circles_json(const config_leader_t *l, const people_t *p)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->ncircles; i++) {
		size_t total = 0, reached = 0;
		for (size_t k = 0; k < p->contacts.n; k++) {
			const contact_t *c = &p->contacts.v[k];
			if (!c->circle ||
			    strcmp(c->circle, l->circles[i].name) != 0)
				continue;
			total++;
			reached += c->last_contact >= 0 &&
				   c->last_contact >=
					   p->now - CIRCLE_REACHED_DAYS * DAY;
		}
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(l->circles[i].name));
		json_object_set_new(o, "reached",
				    json_integer((json_int_t)reached));
		json_object_set_new(o, "total",
				    json_integer((json_int_t)total));
		json_array_append_new(a, o);
	}
	return a;
}

/* Meetings of the coming week with someone overdue or cooling (who,
 * booked, is listed here only). */
static json_t *coming_up_json(const config_t *cfg, const config_leader_t *l,
			      const people_t *p)
{
	json_t *a = json_array();
	strmap_t index = {0};
	for (size_t i = 0; i < p->history.naddrs; i++)
		strmap_put(&index, p->history.addrs[i].addr, (int64_t)i);
	for (size_t i = 0; i < p->upcoming.nias; i++) {
		const store_ia_t *ia = &p->upcoming.ias[i];
		if (ia->time >= p->now + WEEK || !people_books(ia))
			continue; /* a standing series' next instance, or an
				   * all-hands */
		const uint32_t *pv = store_parts(&p->upcoming, ia);
		json_t *people = json_array();
		for (size_t j = 0; j < ia->nparts; j++) {
			int64_t k;
			if (!strmap_get(&index, p->upcoming.addrs[pv[j]].addr,
					&k))
				continue;
			int q = p->contacts.person_of[k];
			if (q < 0 || !(p->scores[q].late || p->scores[q].due))
				continue;
			json_array_append_new(people,
					      person_json(l, p, (size_t)q));
		}
		if (json_array_size(people) == 0) {
			json_decref(people);
			continue;
		}
		json_t *o = json_object();
		char day[32];
		struct tm tm;
		tz_localtime(l->timezone, ia->time, &tm);
		strftime(day, sizeof day, "%a %b %-d, %H:%M", &tm);
		json_object_set_new(o, "when", model_time(ia->time));
		json_object_set_new(o, "day", json_string(day));
		json_object_set_new(
			o, "title",
			cfg->keep_subjects
				? model_text(store_ia_title(&p->upcoming, i))
				: json_null());
		json_object_set_new(o, "people", people);
		json_array_append_new(a, o);
	}
	strmap_free(&index);
	return a;
}

/* For the templates, which cannot tell the last item of a list: "more"
 * on each object of a, true when another one follows. */
static void mark_more(json_t *a)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		json_object_set_new(json_array_get(a, i), "more",
				    json_boolean(i + 1 < json_array_size(a)));
}

/* Why addresses and people seen in the window are not in the digest:
 * the address classes of ident, then the people's own reasons. */
static json_t *excluded_json(const config_leader_t *l, const people_t *p)
{
	static const score_state_t states[] = {SCORE_SNOOZED, SCORE_DORMANT,
					       SCORE_ONE_THREAD, SCORE_TOO_FEW};
	enum {
		NSTATES = sizeof states / sizeof *states,
		NREASONS = IDENT_NCLASSES + NSTATES
	};
	const char *reasons[NREASONS] = {NULL};
	for (int k = 1; k < IDENT_NCLASSES; k++)
		reasons[k] = ident_class_name((ident_class_t)k);
	for (size_t k = 0; k < NSTATES; k++)
		reasons[IDENT_NCLASSES + k] = score_state_name(states[k]);
	strvec_t ex[NREASONS] = {{0}};
	const store_history_t *h = &p->history;
	bool *seen = xcalloc(h->naddrs ? h->naddrs : 1, sizeof *seen);
	for (size_t i = 0; i < h->nias; i++) {
		const uint32_t *pv = store_parts(h, &h->ias[i]);
		for (size_t j = 0; j < h->ias[i].nparts; j++)
			seen[pv[j]] = true;
	}
	for (size_t i = 0; i < h->naddrs; i++) {
		if (!seen[i])
			continue;
		ident_class_t k =
			ident_classify(l, &p->rules.ident, h->addrs[i].addr);
		if (k != IDENT_CONTACT)
			strvec_push(&ex[k], h->addrs[i].addr);
	}
	for (size_t k = 0; k < p->contacts.n; k++)
		for (size_t j = 0; j < NSTATES; j++)
			if (p->scores[k].state == states[j])
				strvec_push(&ex[IDENT_NCLASSES + j],
					    p->contacts.v[k].address);
	json_t *a = json_array();
	for (int r = 1; r < NREASONS; r++) {
		if (ex[r].n) {
			json_t *o = json_object(), *e = json_array();
			for (size_t i = 0; i < ex[r].n && i < EXAMPLES; i++)
				json_array_append_new(e,
						      json_string(ex[r].v[i]));
			json_object_set_new(o, "reason",
					    json_string(reasons[r]));
			json_object_set_new(o, "count",
					    json_integer((json_int_t)ex[r].n));
			json_object_set_new(o, "examples", e);
			json_array_append_new(a, o);
		}
		strvec_free(&ex[r]);
	}
	mark_more(a);
	free(seen);
	return a;
}

/* The leader's absences (absence true) or the gaps in the record: dates
 * (YYYY-MM-DD, the leader's) and, for the templates, "Jul 28 – Aug 15"
 * and whether it ended in the last 12 weeks. */
static json_t *away_json(const people_t *p, long now_offset, bool absence)
{
	json_t *a = json_array();
	int64_t today = (p->now + now_offset) / DAY; /* after 1970 */
	for (size_t i = 0; i < p->away.n; i++) {
		if (p->away.v[i].absence != absence)
			continue;
		char first[11], last[11], label[64], f[16], t[16];
		struct tm tf, tl;
		time_t d0 = (time_t)(p->away.v[i].first * DAY);
		time_t d1 = (time_t)(p->away.v[i].last * DAY);
		gmtime_r(&d0, &tf);
		gmtime_r(&d1, &tl);
		strftime(first, sizeof first, "%Y-%m-%d", &tf);
		strftime(last, sizeof last, "%Y-%m-%d", &tl);
		strftime(f, sizeof f, "%b %-d", &tf);
		strftime(t, sizeof t, "%b %-d", &tl);
		snprintf(label, sizeof label, "%s \u2013 %s", f, t);
		json_t *o = json_object();
		json_object_set_new(o, "start", json_string(first));
		json_object_set_new(o, "end", json_string(last));
		json_object_set_new(o, "label", json_string(label));
		json_object_set_new(o, "recent",
				    json_boolean(p->away.v[i].last >=
						 today - 7 * SCORE_WEEKS));
		json_array_append_new(a, o);
	}
	return a;
}

/* The automatic merges: people with several addresses that the leader
 * did not join with `merge`, and why they were joined.  Only those new
 * since the last digest sent (listed once), unless all. */
static json_t *merged_json(const people_t *p, bool all)
{
	json_t *a = json_array();
	for (size_t k = 0; k < p->contacts.n; k++) {
		const contact_t *c = &p->contacts.v[k];
		if (c->naddresses < 2 || (!all && !p->merge_new[k]))
			continue;
		/* Only what auto_merge joined: what the leader merged by
		 * hand they know, and `people` lists it. */
		if (!people_merge_is_auto(&p->rules.said.merged, c))
			continue;
		json_t *o = json_object(), *addrs = json_array();
		for (size_t j = 0; j < c->naddresses; j++)
			json_array_append_new(addrs,
					      json_string(c->addresses[j]));
		char *why = xasprintf("the same name, %s, on each address",
				      c->name ? c->name : "");
		json_object_set_new(o, "person",
				    model_text(c->name ? c->name : c->address));
		json_object_set_new(o, "addresses", addrs);
		json_object_set_new(o, "why", json_string(why));
		json_object_set_new(o, "new", json_boolean(p->merge_new[k]));
		free(why);
		json_array_append_new(a, o);
	}
	return a;
}

json_t *model_build(const config_t *cfg, const config_leader_t *l,
		    const people_t *p, const strvec_t *warnings)
{
	json_t *root = json_object(), *leader = json_object(),
	       *week = json_object();
	char id[16], start[11], end[11];

	json_object_set_new(leader, "id", json_string(l->id));
	json_object_set_new(leader, "name",
			    model_text(l->name ? l->name : l->email));
	json_object_set_new(leader, "email", json_string(l->email));
	model_week(p->now, l->timezone, id, start, end);
	json_object_set_new(week, "start", json_string(start));
	json_object_set_new(week, "end", json_string(end));
	json_object_set_new(week, "id", json_string(id));

	json_t *neglected = json_array(), *cooling = json_array();
	json_t *more = json_array(); /* neglected after the focus */
	for (size_t i = 0; i < p->nneglected && i < (size_t)cfg->top; i++) {
		json_array_append_new(neglected,
				      person_json(l, p, p->neglected[i]));
		if (i)
			json_array_append_new(
				more, person_json(l, p, p->neglected[i]));
	}
	for (size_t k = 0; k < p->contacts.n; k++)
		if (p->scores[k].cooling &&
		    json_array_size(cooling) < (size_t)cfg->top)
			json_array_append_new(cooling, person_json(l, p, k));

	json_object_set_new(root, "leader", leader);
	json_object_set_new(root, "week", week);
	json_object_set_new(root, "generated_at", model_time(p->now));
	json_object_set_new(root, "stats", stats_json(p));
	json_object_set_new(root, "focus",
			    p->nneglected ? person_json(l, p, p->neglected[0])
					  : json_null());
	json_object_set_new(root, "neglected", neglected);
	json_object_set_new(root, "cooling", cooling);
	json_object_set_new(root, "circles", circles_json(l, p));
	json_object_set_new(root, "coming_up", coming_up_json(cfg, l, p));
	json_object_set_new(root, "excluded", excluded_json(l, p));
	json_object_set_new(root, "merged", merged_json(p, false));
	/* For the text shown instead of sent: every automatic merge, so the
	 * leader can undo any (DESIGN §5). */
	json_object_set_new(root, "merged_all", merged_json(p, true));
	int32_t off = 0;
	tz_offsets(l->timezone, &p->now, 1, &off);
	/* For the templates, those of the last 12 weeks apart. */
	static const char *const stretches[][2] = {{"away", "away_recent"},
						   {"gaps", "gaps_recent"}};
	for (int k = 0; k < 2; k++) {
		json_t *all = away_json(p, off, k == 0), *recent = json_array();
		for (size_t i = 0; i < json_array_size(all); i++)
			if (json_is_true(json_object_get(json_array_get(all, i),
							 "recent")))
				json_array_append_new(
					recent,
					json_deep_copy(json_array_get(all, i)));
		mark_more(recent);
		json_object_set_new(root, stretches[k][0], all);
		json_object_set_new(root, stretches[k][1], recent);
	}
	json_object_set_new(root, "more", more);
	json_t *warn = json_array();
	for (size_t i = 0; warnings && i < warnings->n; i++)
		json_array_append_new(warn, model_text(warnings->v[i]));
	json_object_set_new(root, "warnings", warn);

	/* For the templates: Mustache cannot ask whether a list is empty. */
	json_t *has = json_object();
	static const char *const lists[] = {
		"neglected", "more",        "cooling",    "circles",
		"coming_up", "excluded",    "merged",     "merged_all",
		"warnings",  "away_recent", "gaps_recent"};
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
		json_object_set_new(has, lists[i],
				    json_boolean(json_array_size(
					    json_object_get(root, lists[i]))));
	json_object_set_new(root, "has", has);
	return root;
}

const char *model_week_id(const json_t *model)
{
	return json_string_value(
		json_object_get(json_object_get(model, "week"), "id"));
}

void model_merge_keys(const json_t *model, strvec_t *keys)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(model, "merged_all"), i, m)
	{
		json_t *addrs = json_object_get(m, "addresses");
		size_t n = json_array_size(addrs);
		const char **v = xcalloc(n ? n : 1, sizeof *v);

		for (size_t j = 0; j < n; j++)
			v[j] = json_string_value(json_array_get(addrs, j));
		strvec_take(keys, people_merge_key(v, n));
		free(v);
	}
}
