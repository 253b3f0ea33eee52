/*
 * report — output of `contacts` and `interactions`.  See report.h.
 */
#include "report.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "model.h"
#include "tz.h"

bool report_format(const char *s, report_format_t *out)
{
	static const char *const names[] = {"table", "json", "csv"};
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (report_format_t)i;
			return true;
		}
	return false;
}

static const char *channel_name(store_channel_t c)
{
	return c == STORE_MEETING ? "meeting" : "email";
}

static status_t dump(FILE *out, json_t *root, err_t *err)
{
	int rc = json_dumpf(root, out, MODEL_JSON_FLAGS);
	json_decref(root);
	if (rc < 0 || fputc('\n', out) == EOF)
		return err_set(err, ST_IOERR, "cannot write the output");
	return ST_OK;
}

/* One CSV field, RFC 4180 quoted; text that a spreadsheet would run as a
 * formula gets a leading apostrophe. */
static void csv_field(FILE *out, const char *s, bool last)
{
	if (s) {
		bool quote = strpbrk(s, ",\"\r\n") != NULL;
		if (quote)
			fputc('"', out);
		if (strchr("=+-@\t\r", *s) && *s)
			fputc('\'', out);
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		if (quote)
			fputc('"', out);
	}
	fputc(last ? '\n' : ',', out);
}

/* The header of an empty `contacts --format csv`: the keys of
 * contact_json. */
#define CONTACTS_CSV_HEADER                                                    \
	"address,addresses,name,interactions,touches,score,last_contact,"      \
	"last_seen,last_channel,rhythm_days,episodes,rhythm_range_days,"       \
	"days_since,overdue,neglected,circle,snoozed_until,note"

/* A JSON value as one CSV field (caller frees; NULL for null). */
static char *csv_value(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%g", json_real_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "yes" : "no");
	if (json_is_array(v)) {
		strbuf_t b = {0};
		for (size_t i = 0; i < json_array_size(v); i++) {
			char *f = csv_value(json_array_get(v, i));
			sb_printf(&b, "%s%s", i ? " " : "", f ? f : "");
			free(f);
		}
		char *r = xstrdup(sb_str(&b));
		sb_free(&b);
		return r;
	}
	return NULL;
}

static json_t *contact_json(const config_leader_t *l, const contact_t *c,
			    const score_t *s, const score_input_t *in)
{
	json_t *o = json_object(), *addrs = json_array();
	for (size_t i = 0; i < c->naddresses; i++)
		json_array_append_new(addrs, json_string(c->addresses[i]));
	int64_t ds = s->days_since;
	json_object_set_new(o, "address", json_string(c->address));
	json_object_set_new(o, "addresses", addrs);
	json_object_set_new(o, "name", model_text(c->name));
	json_object_set_new(o, "interactions",
			    json_integer((json_int_t)c->interactions));
	json_object_set_new(o, "touches", json_integer((json_int_t)c->touches));
	json_object_set_new(o, "score", model_number(s->score));
	json_object_set_new(o, "last_contact", model_time(c->last_contact));
	json_object_set_new(o, "last_seen", model_time(c->last_seen));
	json_object_set_new(o, "last_channel",
			    c->last_contact < 0 ? json_null()
						: json_string(channel_name(
							  c->last_channel)));
	json_object_set_new(o, "rhythm_days", model_number(s->rhythm_days));
	json_object_set_new(o, "episodes",
			    json_integer((json_int_t)s->episodes));
	if (s->rhythm_low >= 0) {
		json_t *r = json_array();
		json_array_append_new(r, model_number(s->rhythm_low));
		json_array_append_new(r, model_number(s->rhythm_high));
		json_object_set_new(o, "rhythm_range_days", r);
	} else {
		json_object_set_new(o, "rhythm_range_days", json_null());
	}
	json_object_set_new(o, "days_since",
			    ds < 0 ? json_null() : json_integer(ds));
	json_object_set_new(o, "overdue", model_number(s->overdue));
	json_object_set_new(o, "neglected", json_boolean(s->neglected));
	json_object_set_new(o, "circle", model_text(c->circle));
	if (s->snoozed) {
		char date[11];
		tz_format_date(l->timezone, in->snoozed_until, date);
		json_object_set_new(o, "snoozed_until", json_string(date));
	} else {
		json_object_set_new(o, "snoozed_until", json_null());
	}
	json_object_set_new(o, "note", model_text(c->note));
	return o;
}

/* Print s padded or cut to width columns, counting UTF-8 code points. */
static void table_cell(FILE *out, const char *s, int width)
{
	int col = 0;
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p && col < width) {
		size_t n = 1;
		while ((p[n] & 0xc0) == 0x80)
			n++;
		if (col == width - 1 && p[n]) {
			fputs("…", out);
			col++;
			break;
		}
		fwrite(p, 1, n, out);
		p += n;
		col++;
	}
	for (; col < width; col++)
		fputc(' ', out);
}

status_t report_contacts(FILE *out, report_format_t fmt,
			 const config_leader_t *l, const people_t *pp,
			 const size_t *order, size_t n, err_t *err)
{
	const contacts_t *c = &pp->contacts;
	const score_t *s = pp->scores;
	if (fmt == REPORT_JSON) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
				a,
				contact_json(l, &c->v[order[i]], &s[order[i]],
					     &pp->input[order[i]]));
		return dump(out, a, err);
	}
	if (fmt == REPORT_CSV) {
		/* The fields of the JSON, in its order: an array's items
		 * separated by spaces, a bool yes or no, null empty. */
		for (size_t i = 0; i < n; i++) {
			json_t *o =
				contact_json(l, &c->v[order[i]], &s[order[i]],
					     &pp->input[order[i]]);
			const char *key;
			json_t *v;
			if (i == 0) {
				size_t k = 0;
				json_object_foreach(o, key, v) csv_field(
					out, key, ++k == json_object_size(o));
			}
			size_t k = 0;
			json_object_foreach(o, key, v)
			{
				char *f = csv_value(v);
				csv_field(out, f, ++k == json_object_size(o));
				free(f);
			}
			json_decref(o);
		}
		if (n == 0)
			fputs(CONTACTS_CSV_HEADER "\n", out);
		goto done;
	}
	fprintf(out, "%-24s %-32s %5s %7s  %-10s %-7s %5s %7s %s\n", "NAME",
		"ADDRESS", "SEEN", "TOUCHES", "LAST", "VIA", "EVERY", "OVERDUE",
		"CIRCLE");
	for (size_t i = 0; i < n; i++) {
		const contact_t *p = &c->v[order[i]];
		const score_t *ps = &s[order[i]];
		const char *via = p->last_contact >= 0
					  ? channel_name(p->last_channel)
					  : "-";
		char last[21] = "", every[24] = "", overdue[24] = "";
		if (ps->rhythm_days >= 0)
			snprintf(every, sizeof every, "%.0fd",
				 round(ps->rhythm_days * 100) / 100);
		if (ps->overdue >= 0)
			snprintf(overdue, sizeof overdue, "%.2f%s", ps->overdue,
				 ps->neglected ? "!" : "");
		if (p->last_contact >= 0)
			tz_format_date(l->timezone, p->last_contact, last);
		table_cell(out, p->name, 24);
		fputc(' ', out);
		/* The address is what people type: never cut, only padded. */
		char *addr = str_sanitize(xstrdup(p->address));
		fprintf(out, "%-32s", addr);
		free(addr);
		fprintf(out, " %5zu %7zu  %-10s %-7s %5s %7s", p->interactions,
			p->touches, p->last_contact >= 0 ? last : "-", via,
			every[0] ? every : "-", overdue[0] ? overdue : "-");
		if (p->circle)
			fprintf(out, " %s", p->circle);
		fputc('\n', out);
	}
done:
	if (ferror(out))
		return err_set(err, ST_IOERR, "cannot write the output");
	return ST_OK;
}

/* The participants of ia that are people (not own, automated, list or
 * ignored), as indices into h->addrs; returns how many. */
static size_t people_of(const config_leader_t *l, const ident_extra_t *x,
			const store_history_t *h, const store_ia_t *ia,
			uint32_t *out)
{
	size_t n = 0;
	const uint32_t *pv = store_parts(h, ia);
	for (size_t i = 0; i < ia->nparts; i++)
		if (ident_classify(l, x, h->addrs[pv[i]].addr) == IDENT_CONTACT)
			out[n++] = pv[i];
	return n;
}

status_t report_interactions(FILE *out, report_format_t fmt,
			     const config_t *cfg, const config_leader_t *l,
			     const ident_extra_t *x, const store_history_t *h,
			     err_t *err)
{
	json_t *a = fmt == REPORT_JSON ? json_array() : NULL;
	uint32_t *ppl = NULL;
	size_t cap = 0;

	if (fmt == REPORT_CSV)
		fprintf(out, "time,channel,size,weight,participants,source%s\n",
			cfg->keep_subjects ? ",title" : "");
	for (size_t i = 0; i < h->nias; i++) {
		const store_ia_t *ia = &h->ias[i];
		if (ia->nparts > cap) {
			cap = ia->nparts;
			ppl = xrealloc(ppl, cap * sizeof *ppl);
		}
		size_t n = people_of(l, x, h, ia, ppl);
		if (n == 0)
			continue;
		double w = round(ia->weight * 1e4) / 1e4;
		char t[21];
		tz_format_utc(ia->time, t);
		if (a) {
			json_t *o = json_object(), *p = json_array();
			for (size_t j = 0; j < n; j++)
				json_array_append_new(
					p, json_string(h->addrs[ppl[j]].addr));
			json_object_set_new(o, "time", json_string(t));
			json_object_set_new(
				o, "channel",
				json_string(channel_name(ia->channel)));
			json_object_set_new(o, "size", json_integer(ia->size));
			json_object_set_new(o, "weight", json_real(w));
			json_object_set_new(o, "participants", p);
			json_object_set_new(
				o, "source",
				json_string(store_ia_source(h, ia)));
			if (cfg->keep_subjects)
				json_object_set_new(
					o, "title",
					model_text(store_ia_title(h, i)));
			json_array_append_new(a, o);
			continue;
		}
		strbuf_t p = {0};
		char size[16], weight[32];
		for (size_t j = 0; j < n; j++)
			sb_printf(&p, "%s%s", j ? " " : "",
				  h->addrs[ppl[j]].addr);
		snprintf(size, sizeof size, "%d", ia->size);
		snprintf(weight, sizeof weight, "%g", w);
		csv_field(out, t, false);
		csv_field(out, channel_name(ia->channel), false);
		csv_field(out, size, false);
		csv_field(out, weight, false);
		csv_field(out, sb_str(&p), false);
		csv_field(out, store_ia_source(h, ia), !cfg->keep_subjects);
		if (cfg->keep_subjects)
			csv_field(out, store_ia_title(h, i), true);
		sb_free(&p);
	}
	free(ppl);
	if (a)
		return dump(out, a, err);
	if (ferror(out))
		return err_set(err, ST_IOERR, "cannot write the output");
	return ST_OK;
}
