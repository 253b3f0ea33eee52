/*
 * cal — the instances of the VEVENTs of an iCalendar text inside a window,
 * expanded with libical 3.0.16 (see cal.h).  The library's traps
 * (docs/libraries.md §5) shape this file:
 *
 * - icalcomponent_foreach_recurrence is wrong: expansion is done here,
 *   per UID (the latest master and its RECURRENCE-ID overrides), from
 *   icalrecur_iterator, DTSTART, RDATE, EXDATE and EXRULE.
 * - Any TZID is looked up as a file under the zoneinfo directory, and an
 *   unknown one silently reads as floating: every TZID is checked before
 *   a getter sees it.  A tzdata name is read with tzdata (a VTIMEZONE of
 *   the same name is dropped: they are often cut short or out of date),
 *   else the file's VTIMEZONE is used, else a Windows or vendor-prefixed
 *   name is rewritten to its tzdata name, else the TZID is removed with a
 *   warning and the time floats (read in the caller's zone).
 * - icalrecur_iterator_set_start is wrong for SECONDLY, MINUTELY and
 *   HOURLY rules (it keeps DTSTART's hour, loses INTERVAL alignment):
 *   those start from a DTSTART moved by whole intervals instead.
 * - An iterator runs to year 2582, and a rule that matches rarely or
 *   never spins inside one call: iteration stops at the window's end and
 *   after CAL_MAX_STEPS occurrences before it; sub-daily rules become
 *   DAILY ones where that is exact, and other costly rules are refused
 *   with a warning.
 * - The parser prints on stderr for stray END lines and recurses once per
 *   nesting level (a fuzzed file crashed it): the text is tidied first.
 */
#include "cal.h"

#include <libical/ical.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tz.h"

/* Occurrences of one rule read before the window before giving up. */
#define CAL_MAX_STEPS 1000000
/* Iteration starts this long before the window (DST, the iterator's
 * own rounding). */
#define CAL_MARGIN 86400
/* A sub-daily rule may need this many base steps between two matches. */
#define CAL_MAX_COST 4000000
/* Deepest nesting of components handed to libical (VCALENDAR, VEVENT,
 * VALARM make 3). */
#define CAL_MAX_DEPTH 16
/* Warnings quote at most this much of what the file says. */
#define CAL_QUOTE 120

typedef struct {
	int64_t *v;
	size_t n, cap;
} i64vec_t;

/* One VEVENT of the text. */
typedef struct {
	icalcomponent *ev;  /* the VEVENT */
	icalcomponent *cal; /* its VCALENDAR */
	char *uid;          /* sanitized UID, or a hash of the event; owned */
	const char *label;  /* uid, or "(no UID)" for warnings */
	bool has_uid;
	bool override; /* has RECURRENCE-ID */
	bool fatal;    /* an X-LIC-ERROR about its RRULE: skip the UID */
	bool warned;   /* a malformation warning was already given */
	int seq;       /* SEQUENCE */
	int64_t stamp; /* DTSTAMP (UTC), 0 when absent */
	size_t order;  /* position in the text */
	int64_t rid;   /* RECURRENCE-ID as UTC (overrides) */
} cal_item_t;

/* Instances of one UID before they join the result. */
typedef struct {
	cal_instance_t *v;
	size_t n, cap;
} cal_ivec_t;

typedef struct {
	icaltimezone *defz; /* the zone of floating times and dates */
	const char *zone;   /* its name */
	int64_t from, to;
	cal_result_t *out;
	size_t outcap;
	strmap_t seen; /* warnings given */
	strmap_t sysz; /* system zone names: 1 known, 0 not */
	/* While an event is read (item_init), its warnings wait here with
	 * its position: they come first, in text order, as they would if
	 * every event were read before any is expanded. */
	bool reading;
	size_t reading_order;
	struct cal_early {
		size_t order, seq;
		char *s;
	} * early;
	size_t nearly;
} cal_ctx_t;

static void i64_push(i64vec_t *a, int64_t x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = x;
}

static int i64_cmp(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return (a > b) - (a < b);
}

static void i64_sort_uniq(i64vec_t *a)
{
	if (!a->n)
		return;
	qsort(a->v, a->n, sizeof(*a->v), i64_cmp);
	size_t k = 1;
	for (size_t i = 1; i < a->n; i++)
		if (a->v[i] != a->v[k - 1])
			a->v[k++] = a->v[i];
	a->n = k;
}

/* a must be sorted. */
static bool i64_has(const i64vec_t *a, int64_t x)
{
	return a->n && bsearch(&x, a->v, a->n, sizeof(*a->v), i64_cmp);
}

/* A warning "label: message", sanitized, each given once. */
static void warn(cal_ctx_t *c, const char *label, const char *fmt, ...)
	UTIL_PRINTF(3, 4);

static void warn(cal_ctx_t *c, const char *label, const char *fmt, ...)
{
	strbuf_t b = {0};
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sb_printf(&b, "%s: %s", label, msg);
	char *s = str_sanitize(sb_steal(&b));
	if (!strmap_get(&c->seen, s, NULL)) {
		strmap_put(&c->seen, s, 1);
		if (c->reading) {
			c->early = xrealloc(
				c->early, (c->nearly + 1) * sizeof(*c->early));
			c->early[c->nearly] = (struct cal_early){
				c->reading_order, c->nearly, s};
			c->nearly++;
		} else {
			strvec_take(&c->out->warnings, s);
		}
	} else {
		free(s);
	}
}

/* At most CAL_QUOTE bytes of s, cut on a UTF-8 boundary; caller frees. */
static char *quote(const char *s)
{
	size_t n = strlen(s);
	if (n <= CAL_QUOTE)
		return xstrdup(s);
	n = CAL_QUOTE;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	char *q = xmalloc(n + 4);
	memcpy(q, s, n);
	memcpy(q + n, "...", 4);
	return q;
}

/* --- time zones --------------------------------------------------------- */

/* The system zone named name, or NULL.  Only names of regular files of
 * the system's tzdata reach libical (a TZID is untrusted: "../x" or a
 * FIFO must not be opened). */
static icaltimezone *system_zone(cal_ctx_t *c, const char *name)
{
	int64_t known;
	if (!strmap_get(&c->sysz, name, &known)) {
		known = tz_known(name) &&
			icaltimezone_get_builtin_timezone(name) != NULL;
		strmap_put(&c->sysz, name, known);
	}
	return known ? icaltimezone_get_builtin_timezone(name) : NULL;
}

/* Windows zone names (Outlook, Exchange) and their tzdata zones: the
 * "001" rows of CLDR's windowsZones. */
static const struct {
	const char *windows, *iana;
} windows_zones[] = {
	{"AUS Central Standard Time", "Australia/Darwin"},
	{"AUS Eastern Standard Time", "Australia/Sydney"},
	{"Afghanistan Standard Time", "Asia/Kabul"},
	{"Alaskan Standard Time", "America/Anchorage"},
	{"Arab Standard Time", "Asia/Riyadh"},
	{"Arabian Standard Time", "Asia/Dubai"},
	{"Arabic Standard Time", "Asia/Baghdad"},
	{"Argentina Standard Time", "America/Buenos_Aires"},
	{"Atlantic Standard Time", "America/Halifax"},
	{"Azerbaijan Standard Time", "Asia/Baku"},
	{"Azores Standard Time", "Atlantic/Azores"},
	{"Bahia Standard Time", "America/Bahia"},
	{"Bangladesh Standard Time", "Asia/Dhaka"},
	{"Belarus Standard Time", "Europe/Minsk"},
	{"Canada Central Standard Time", "America/Regina"},
	{"Cape Verde Standard Time", "Atlantic/Cape_Verde"},
	{"Caucasus Standard Time", "Asia/Yerevan"},
	{"Cen. Australia Standard Time", "Australia/Adelaide"},
	{"Central America Standard Time", "America/Guatemala"},
	{"Central Asia Standard Time", "Asia/Almaty"},
	{"Central Brazilian Standard Time", "America/Cuiaba"},
	{"Central Europe Standard Time", "Europe/Budapest"},
	{"Central European Standard Time", "Europe/Warsaw"},
	{"Central Pacific Standard Time", "Pacific/Guadalcanal"},
	{"Central Standard Time", "America/Chicago"},
	{"Central Standard Time (Mexico)", "America/Mexico_City"},
	{"China Standard Time", "Asia/Shanghai"},
	{"Dateline Standard Time", "Etc/GMT+12"},
	{"E. Africa Standard Time", "Africa/Nairobi"},
	{"E. Australia Standard Time", "Australia/Brisbane"},
	{"E. Europe Standard Time", "Europe/Chisinau"},
	{"E. South America Standard Time", "America/Sao_Paulo"},
	{"Eastern Standard Time", "America/New_York"},
	{"Eastern Standard Time (Mexico)", "America/Cancun"},
	{"Egypt Standard Time", "Africa/Cairo"},
	{"Ekaterinburg Standard Time", "Asia/Yekaterinburg"},
	{"FLE Standard Time", "Europe/Kiev"},
	{"Fiji Standard Time", "Pacific/Fiji"},
	{"GMT Standard Time", "Europe/London"},
	{"GTB Standard Time", "Europe/Bucharest"},
	{"Georgian Standard Time", "Asia/Tbilisi"},
	{"Greenland Standard Time", "America/Godthab"},
	{"Greenwich Standard Time", "Atlantic/Reykjavik"},
	{"Hawaiian Standard Time", "Pacific/Honolulu"},
	{"India Standard Time", "Asia/Calcutta"},
	{"Iran Standard Time", "Asia/Tehran"},
	{"Israel Standard Time", "Asia/Jerusalem"},
	{"Jordan Standard Time", "Asia/Amman"},
	{"Kaliningrad Standard Time", "Europe/Kaliningrad"},
	{"Korea Standard Time", "Asia/Seoul"},
	{"Libya Standard Time", "Africa/Tripoli"},
	{"Line Islands Standard Time", "Pacific/Kiritimati"},
	{"Magadan Standard Time", "Asia/Magadan"},
	{"Mauritius Standard Time", "Indian/Mauritius"},
	{"Middle East Standard Time", "Asia/Beirut"},
	{"Montevideo Standard Time", "America/Montevideo"},
	{"Morocco Standard Time", "Africa/Casablanca"},
	{"Mountain Standard Time", "America/Denver"},
	{"Mountain Standard Time (Mexico)", "America/Chihuahua"},
	{"Myanmar Standard Time", "Asia/Rangoon"},
	{"N. Central Asia Standard Time", "Asia/Novosibirsk"},
	{"Namibia Standard Time", "Africa/Windhoek"},
	{"Nepal Standard Time", "Asia/Katmandu"},
	{"New Zealand Standard Time", "Pacific/Auckland"},
	{"Newfoundland Standard Time", "America/St_Johns"},
	{"North Asia East Standard Time", "Asia/Irkutsk"},
	{"North Asia Standard Time", "Asia/Krasnoyarsk"},
	{"North Korea Standard Time", "Asia/Pyongyang"},
	{"Pacific SA Standard Time", "America/Santiago"},
	{"Pacific Standard Time", "America/Los_Angeles"},
	{"Pakistan Standard Time", "Asia/Karachi"},
	{"Paraguay Standard Time", "America/Asuncion"},
	{"Romance Standard Time", "Europe/Paris"},
	{"Russia Time Zone 10", "Asia/Srednekolymsk"},
	{"Russia Time Zone 11", "Asia/Kamchatka"},
	{"Russia Time Zone 3", "Europe/Samara"},
	{"Russian Standard Time", "Europe/Moscow"},
	{"SA Eastern Standard Time", "America/Cayenne"},
	{"SA Pacific Standard Time", "America/Bogota"},
	{"SA Western Standard Time", "America/La_Paz"},
	{"SE Asia Standard Time", "Asia/Bangkok"},
	{"Samoa Standard Time", "Pacific/Apia"},
	{"Singapore Standard Time", "Asia/Singapore"},
	{"South Africa Standard Time", "Africa/Johannesburg"},
	{"Sri Lanka Standard Time", "Asia/Colombo"},
	{"Syria Standard Time", "Asia/Damascus"},
	{"Taipei Standard Time", "Asia/Taipei"},
	{"Tasmania Standard Time", "Australia/Hobart"},
	{"Tokyo Standard Time", "Asia/Tokyo"},
	{"Tonga Standard Time", "Pacific/Tongatapu"},
	{"Turkey Standard Time", "Europe/Istanbul"},
	{"US Eastern Standard Time", "America/Indianapolis"},
	{"US Mountain Standard Time", "America/Phoenix"},
	{"UTC", "Etc/GMT"},
	{"UTC+12", "Etc/GMT-12"},
	{"UTC-02", "Etc/GMT+2"},
	{"UTC-11", "Etc/GMT+11"},
	{"Ulaanbaatar Standard Time", "Asia/Ulaanbaatar"},
	{"Venezuela Standard Time", "America/Caracas"},
	{"Vladivostok Standard Time", "Asia/Vladivostok"},
	{"W. Australia Standard Time", "Australia/Perth"},
	{"W. Central Africa Standard Time", "Africa/Lagos"},
	{"W. Europe Standard Time", "Europe/Berlin"},
	{"West Asia Standard Time", "Asia/Tashkent"},
	{"West Pacific Standard Time", "Pacific/Port_Moresby"},
	{"Yakutsk Standard Time", "Asia/Yakutsk"},
};

/* The tzdata name of a TZID that is not one but names a zone all the
 * same: a Windows name, or a prefixed name ("/mozilla.org/20070129_1/
 * America/New_York", "/freeassociation.sourceforge.net/Tzfile/Europe/
 * Berlin").  NULL when there is none; else a pointer into tzid or a
 * static string. */
static const char *zone_alias(cal_ctx_t *c, const char *tzid)
{
	for (size_t i = 0; i < sizeof(windows_zones) / sizeof(*windows_zones);
	     i++)
		if (strcasecmp(tzid, windows_zones[i].windows) == 0)
			return system_zone(c, windows_zones[i].iana)
				       ? windows_zones[i].iana
				       : NULL;
	if (tzid[0] != '/')
		return NULL;
	for (const char *p = tzid; (p = strchr(p, '/')) != NULL;) {
		p++;
		if (*p && system_zone(c, p))
			return p;
	}
	return NULL;
}

/* The zone a TZID names for an event of cal, or NULL when unknown. */
static icaltimezone *find_zone(cal_ctx_t *c, icalcomponent *cal,
			       const char *tzid)
{
	icaltimezone *z = icalcomponent_get_timezone(cal, tzid);
	return z ? z : system_zone(c, tzid);
}

/* Drop the VTIMEZONEs of cal whose TZID names a zone of the system's
 * tzdata, so that libical reads those times with tzdata.  Such
 * VTIMEZONEs are often cut short or out of date (only the onsets of
 * the year the file was written, rules from before 2007), while tzdata
 * has every year; calendar clients do the same. */
static void prefer_system_zones(cal_ctx_t *c, icalcomponent *cal)
{
	size_t n = 0;
	icalcomponent **drop = NULL;
	for (icalcomponent *z = icalcomponent_get_first_component(
		     cal, ICAL_VTIMEZONE_COMPONENT);
	     z; z = icalcomponent_get_next_component(
			cal, ICAL_VTIMEZONE_COMPONENT)) {
		icalproperty *p =
			icalcomponent_get_first_property(z, ICAL_TZID_PROPERTY);
		const char *tzid = p ? icalproperty_get_tzid(p) : NULL;
		if (tzid && tzid[0] != '/' && system_zone(c, tzid)) {
			drop = xrealloc(drop, (n + 1) * sizeof(*drop));
			drop[n++] = z;
		}
	}
	for (size_t i = 0; i < n; i++) {
		icalcomponent_remove_component(cal, drop[i]);
		icalcomponent_free(drop[i]);
	}
	free(drop);
}

/* Check every TZID of the event before libical looks one up: a TZID
 * that is a system zone or has a VTIMEZONE stays; one that names a
 * zone otherwise (zone_alias) is rewritten to its tzdata name; any
 * other is removed, so the time floats (the default zone), with one
 * warning per name. */
static void check_tzids(cal_ctx_t *c, cal_item_t *it)
{
	for (icalproperty *p = icalcomponent_get_first_property(
		     it->ev, ICAL_ANY_PROPERTY);
	     p;
	     p = icalcomponent_get_next_property(it->ev, ICAL_ANY_PROPERTY)) {
		icalparameter *tp = icalproperty_get_first_parameter(
			p, ICAL_TZID_PARAMETER);
		if (!tp)
			continue;
		const char *tzid = icalparameter_get_tzid(tp);
		if (tzid && *tzid && find_zone(c, it->cal, tzid))
			continue;
		const char *alias = tzid && *tzid ? zone_alias(c, tzid) : NULL;
		if (alias) {
			char *copy = xstrdup(alias); /* may point into tzid */
			icalparameter_set_tzid(tp, copy);
			free(copy);
			continue;
		}
		char *q = quote(tzid ? tzid : "");
		warn(c, it->label, "unknown time zone '%s', read as %s", q,
		     c->zone);
		free(q);
		icalproperty_remove_parameter_by_kind(p, ICAL_TZID_PARAMETER);
	}
}

/* The UTC instant of t: floating times and dates in the default zone (a
 * date is 00:00 of its day there). */
static int64_t to_utc(const cal_ctx_t *c, struct icaltimetype t)
{
	const icaltimezone *z = t.is_date || !t.zone ? c->defz : t.zone;
	return (int64_t)icaltime_as_timet_with_zone(t, z);
}

/* The wall clock of the UTC instant s in the zone of like (the default
 * zone when floating), with like's zone and DATE-ness. */
static struct icaltimetype wall_clock(const cal_ctx_t *c, int64_t s,
				      struct icaltimetype like)
{
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	icaltimezone *z =
		(icaltimezone *)(like.zone && !like.is_date ? like.zone
							    : c->defz);
	struct icaltimetype t =
		icaltime_from_timet_with_zone((time_t)s, 0, utc);
	t.zone = utc;
	t = icaltime_convert_to_zone(t, z);
	t.zone = like.is_date ? NULL : like.zone;
	if (like.is_date) {
		t.is_date = 1;
		t.hour = t.minute = t.second = 0;
	}
	return t;
}

/* --- people and properties ---------------------------------------------- */

static void person_add(cal_instance_t *in, icalproperty *p, bool organizer)
{
	const char *v = organizer ? icalproperty_get_organizer(p)
				  : icalproperty_get_attendee(p);
	if (!v)
		return;
	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, "mailto:", 7) == 0)
		v += 7;
	char *dup = str_lower(xstrdup(v));
	char *addr = str_trim(dup);
	if (!strchr(addr, '@')) {
		free(dup);
		return;
	}
	cal_person_t *pp;
	in->people = xrealloc(in->people, (in->npeople + 1) * sizeof(*pp));
	pp = &in->people[in->npeople++];
	memset(pp, 0, sizeof(*pp));
	pp->addr = str_sanitize(xstrdup(addr));
	free(dup);
	pp->organizer = organizer;
	icalparameter *cn =
		icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
	const char *name = cn ? icalparameter_get_cn(cn) : NULL;
	if (name && *name)
		pp->name = str_sanitize(xstrdup(name));
	icalparameter *ps =
		icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
	pp->declined =
		ps && icalparameter_get_partstat(ps) == ICAL_PARTSTAT_DECLINED;
	icalparameter *cu =
		icalproperty_get_first_parameter(p, ICAL_CUTYPE_PARAMETER);
	if (cu) {
		icalparameter_cutype t = icalparameter_get_cutype(cu);
		pp->resource =
			t == ICAL_CUTYPE_ROOM || t == ICAL_CUTYPE_RESOURCE;
	}
}

/* An instance of ev with everything but its times: uid, summary,
 * status and people.  The template of all instances of ev. */
static void instance_fill(cal_instance_t *in, const cal_item_t *it,
			  bool master_cancelled)
{
	icalcomponent *ev = it->ev;
	memset(in, 0, sizeof(*in));
	in->uid = xstrdup(it->uid);
	const char *s = icalcomponent_get_summary(ev);
	if (s)
		in->summary = str_sanitize(xstrdup(s));
	icalproperty *st =
		icalcomponent_get_first_property(ev, ICAL_STATUS_PROPERTY);
	in->cancelled =
		st ? icalproperty_get_status(st) == ICAL_STATUS_CANCELLED
		   : master_cancelled;
	for (icalproperty *p = icalcomponent_get_first_property(
		     ev, ICAL_ORGANIZER_PROPERTY);
	     p;
	     p = icalcomponent_get_next_property(ev, ICAL_ORGANIZER_PROPERTY))
		person_add(in, p, true);
	for (icalproperty *p = icalcomponent_get_first_property(
		     ev, ICAL_ATTENDEE_PROPERTY);
	     p; p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY))
		person_add(in, p, false);
}

static void instance_clear(cal_instance_t *in)
{
	free(in->uid);
	free(in->summary);
	for (size_t i = 0; i < in->npeople; i++) {
		free(in->people[i].addr);
		free(in->people[i].name);
	}
	free(in->people);
	memset(in, 0, sizeof(*in));
}

static void instance_copy(cal_instance_t *dst, const cal_instance_t *src)
{
	*dst = *src;
	dst->uid = xstrdup(src->uid);
	dst->summary = xstrdup(src->summary);
	dst->people = NULL;
	if (src->npeople) {
		dst->people = xmalloc(src->npeople * sizeof(*dst->people));
		for (size_t i = 0; i < src->npeople; i++) {
			dst->people[i] = src->people[i];
			dst->people[i].addr = xstrdup(src->people[i].addr);
			dst->people[i].name = xstrdup(src->people[i].name);
		}
	}
}

static cal_instance_t *ivec_add(cal_ivec_t *a)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	return &a->v[a->n++];
}

static int instance_cmp(const void *pa, const void *pb)
{
	const cal_instance_t *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	int r = strcmp(a->uid, b->uid);
	if (r)
		return r;
	if (a->recurrence_id != b->recurrence_id)
		return a->recurrence_id < b->recurrence_id ? -1 : 1;
	return (int)a->cancelled - (int)b->cancelled;
}

/* --- recurrence rules --------------------------------------------------- */

static bool by_set(const short *a)
{
	return a[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

static void by_fill(short *a, int lo, int hi)
{
	int i = 0;
	for (int v = lo; v <= hi; v++)
		a[i++] = (short)v;
	a[i] = ICAL_RECURRENCE_ARRAY_MAX;
}

static void by_one(short *a, int v)
{
	a[0] = (short)v;
	a[1] = ICAL_RECURRENCE_ARRAY_MAX;
}

/* Whether BYMONTH and BYMONTHDAY together name no day at all (libical
 * would look for one until year 2582). */
static bool rule_impossible(const struct icalrecurrencetype *r)
{
	static const int mdays[13] = {0,  31, 29, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31};
	if (!by_set(r->by_month) || !by_set(r->by_month_day))
		return false;
	int longest = 0;
	for (int i = 0; i < ICAL_BY_MONTH_SIZE && by_set(&r->by_month[i]);
	     i++) {
		int m = icalrecurrencetype_month_month(r->by_month[i]);
		if (m >= 1 && m <= 12 && mdays[m] > longest)
			longest = mdays[m];
	}
	for (int i = 0;
	     i < ICAL_BY_MONTHDAY_SIZE && by_set(&r->by_month_day[i]); i++) {
		int d = r->by_month_day[i];
		if (d < 0 ? -d <= longest : d <= longest)
			return false;
	}
	return true;
}

/*
 * Make a rule safe and quick to iterate, or say why it is refused.
 * A sub-daily rule with INTERVAL=1 and no BYSETPOS, BYYEARDAY, BYWEEKNO
 * or numbered BYDAY is the same set as a DAILY rule expanding BYHOUR,
 * BYMINUTE and BYSECOND, which libical walks a day at a time.  Other
 * sub-daily rules with day restrictions are refused when a match may be
 * too many base steps away.  Returns NULL when r is ready.
 */
static const char *rule_prepare(struct icalrecurrencetype *r,
				struct icaltimetype dtstart)
{
	if (r->freq == ICAL_NO_RECURRENCE)
		return "RRULE without FREQ";
	if (r->interval < 1)
		return "RRULE with INTERVAL below 1";
	if (rule_impossible(r))
		return "RRULE names no day (BYMONTH with BYMONTHDAY)";
	if (r->freq > ICAL_HOURLY_RECURRENCE)
		return NULL;

	bool numbered = false;
	for (int i = 0; i < ICAL_BY_DAY_SIZE && by_set(&r->by_day[i]); i++)
		if (icalrecurrencetype_day_position(r->by_day[i]) != 0)
			numbered = true;
	if (r->interval == 1 && !by_set(r->by_set_pos) &&
	    !by_set(r->by_year_day) && !by_set(r->by_week_no) && !numbered &&
	    !dtstart.is_date) {
		icalrecurrencetype_frequency f = r->freq;
		if (!by_set(r->by_hour))
			by_fill(r->by_hour, 0, 23);
		if (!by_set(r->by_minute)) {
			if (f == ICAL_HOURLY_RECURRENCE)
				by_one(r->by_minute, dtstart.minute);
			else
				by_fill(r->by_minute, 0, 59);
		}
		if (!by_set(r->by_second)) {
			if (f == ICAL_SECONDLY_RECURRENCE)
				by_fill(r->by_second, 0, 59);
			else
				by_one(r->by_second, dtstart.second);
		}
		r->freq = ICAL_DAILY_RECURRENCE;
		return NULL;
	}

	/* Days a match may be away, times base steps a day. */
	int64_t gap = 1;
	if (by_set(r->by_day))
		gap = numbered ? 366 : 7;
	if (by_set(r->by_month_day))
		gap = gap > 62 ? gap : 62;
	if (by_set(r->by_month))
		gap = 366;
	if ((by_set(r->by_month) && by_set(r->by_month_day)) ||
	    by_set(r->by_year_day) || by_set(r->by_week_no))
		gap = 366 * 8;
	int64_t per_day = r->freq == ICAL_SECONDLY_RECURRENCE   ? 86400
			  : r->freq == ICAL_MINUTELY_RECURRENCE ? 1440
								: 24;
	if (gap * per_day / r->interval > CAL_MAX_COST)
		return "RRULE too costly to expand (a sub-daily FREQ with day "
		       "restrictions)";
	return NULL;
}

/* DTSTART of a sub-daily rule moved forward by whole intervals to just
 * before the window (the set of occurrences in the window is unchanged;
 * libical's icalrecur_iterator_set_start is wrong for these rules). */
static struct icaltimetype shift_start(const cal_ctx_t *c,
				       const struct icalrecurrencetype *r,
				       struct icaltimetype dtstart)
{
	static const int64_t unit[] = {1, 60, 3600};
	struct icaltimetype target =
		wall_clock(c, c->from - CAL_MARGIN, dtstart);
	/* Wall-clock arithmetic: libical steps the wall clock too. */
	int64_t a = (int64_t)icaltime_as_timet(dtstart);
	int64_t b = (int64_t)icaltime_as_timet(target);
	int64_t step = unit[r->freq] * r->interval;
	if (b <= a)
		return dtstart;
	int64_t k = (b - a) / step;
	struct icaltimetype t =
		icaltime_from_timet_with_zone((time_t)(a + k * step), 0, NULL);
	t.zone = dtstart.zone;
	return t;
}

/* --- one master --------------------------------------------------------- */

/* The overrides of one UID: the instants and days they replace. */
typedef struct {
	i64vec_t rids; /* RECURRENCE-IDs as UTC, sorted */
	i64vec_t days; /* RECURRENCE-ID dates (yyyymmdd) of a timed
			* master, sorted: they replace that day's instance */
} cal_ovset_t;

/* What removes an occurrence of a master from its set. */
typedef struct {
	i64vec_t ex_utc;       /* EXDATE date-times, sorted */
	i64vec_t ex_day;       /* EXDATE dates as yyyymmdd, sorted */
	const cal_ovset_t *ov; /* overridden instances */
} cal_excl_t;

static int64_t ymd(struct icaltimetype t)
{
	return (int64_t)t.year * 10000 + t.month * 100 + t.day;
}

/* A floating date-time of a master whose DTSTART has a zone (an EXDATE,
 * RDATE or RECURRENCE-ID written without TZID) means that zone. */
static struct icaltimetype like_start(struct icaltimetype t,
				      struct icaltimetype dtstart)
{
	if (!t.is_date && !t.zone && !dtstart.is_date)
		t.zone = dtstart.zone;
	return t;
}

/* Whether occurrence t (at UTC s) of the master is left out. */
static bool excluded(cal_excl_t *x, struct icaltimetype t, int64_t s)
{
	if (i64_has(&x->ex_utc, s) || i64_has(&x->ex_day, ymd(t)) ||
	    i64_has(&x->ov->rids, s) || i64_has(&x->ov->days, ymd(t)))
		return true;
	return false;
}

/* The time an RDATE names (DATE, DATE-TIME or the start of a PERIOD),
 * or the null time. */
static struct icaltimetype rdate_time(cal_ctx_t *c, cal_item_t *it,
				      icalproperty *p)
{
	struct icaldatetimeperiodtype dp = icalproperty_get_rdate(p);
	if (icaltime_is_null_time(dp.period.start))
		return like_start(
			icalproperty_get_datetime_with_component(p, it->ev),
			icalcomponent_get_dtstart(it->ev));
	/* A PERIOD: libical resolves no TZID here. */
	struct icaltimetype t = dp.period.start;
	icalparameter *tp =
		icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	if (tp && !icaltime_is_utc(t) && icalparameter_get_tzid(tp))
		t.zone = find_zone(c, it->cal, icalparameter_get_tzid(tp));
	return like_start(t, icalcomponent_get_dtstart(it->ev));
}

/* The properties of ev of one kind, in file order (callers that walk
 * other properties meanwhile cannot use libical's single cursor).
 * Caller frees the array. */
static icalproperty **props(icalcomponent *ev, icalproperty_kind kind,
			    size_t *n)
{
	icalproperty **v = NULL;
	*n = 0;
	for (icalproperty *p = icalcomponent_get_first_property(ev, kind); p;
	     p = icalcomponent_get_next_property(ev, kind)) {
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = p;
	}
	return v;
}

/* Iterate one RRULE, or EXRULE (x NULL), from dtstart; push the starts
 * inside the window that x does not exclude.  Returns false when the
 * rule is refused (the UID is skipped). */
static bool expand_rule(cal_ctx_t *c, cal_item_t *m, icalproperty *p,
			struct icaltimetype dtstart, cal_excl_t *x,
			i64vec_t *starts)
{
	bool ex = icalproperty_isa(p) == ICAL_EXRULE_PROPERTY;
	struct icalrecurrencetype r =
		ex ? icalproperty_get_exrule(p) : icalproperty_get_rrule(p);
	icalrecur_iterator *ri = NULL;
	size_t steps = 0, kept = 0;
	bool ok = false, windowed;
	const char *why = rule_prepare(&r, dtstart);

	if (why) {
		warn(c, m->label, "%s", why);
		goto done;
	}
	/* Without COUNT the iteration may start near the window. */
	windowed = r.count == 0;
	if (windowed && r.freq <= ICAL_HOURLY_RECURRENCE)
		dtstart = shift_start(c, &r, dtstart);
	ri = icalrecur_iterator_new(r, dtstart);
	if (!ri) {
		char *q = quote(icalproperty_get_value_as_string(p));
		warn(c, m->label, "invalid %s '%s'", ex ? "EXRULE" : "RRULE",
		     q);
		free(q);
		goto done;
	}
	if (windowed && r.freq > ICAL_HOURLY_RECURRENCE) {
		struct icaltimetype st =
			wall_clock(c, c->from - CAL_MARGIN, dtstart);
		if (icaltime_compare(st, dtstart) > 0)
			icalrecur_iterator_set_start(ri, st);
	}
	for (;;) {
		struct icaltimetype t = icalrecur_iterator_next(ri);
		if (icaltime_is_null_time(t))
			break;
		int64_t s = to_utc(c, t);
		if (s >= c->to)
			break;
		if (s < c->from) {
			if (++steps > CAL_MAX_STEPS) {
				warn(c, m->label,
				     "gave up after %d occurrences before the "
				     "window",
				     CAL_MAX_STEPS);
				break;
			}
			continue;
		}
		if (x && excluded(x, t, s))
			continue;
		i64_push(starts, s);
		if (++kept > CAL_MAX_INSTANCES)
			break;
	}
	ok = true;
done:
	if (ri)
		icalrecur_iterator_free(ri);
	return ok;
}

/* The starts inside the window of a master's occurrences that are
 * neither excluded nor overridden, sorted.  Returns false when the
 * whole UID must be skipped (a refused or invalid RRULE). */
static bool expand_master(cal_ctx_t *c, cal_item_t *m, const cal_ovset_t *ov,
			  struct icaltimetype dtstart, i64vec_t *starts)
{
	cal_excl_t x = {.ov = ov};
	size_t nex, nrd, nrr, nxr;
	icalproperty **ex = props(m->ev, ICAL_EXDATE_PROPERTY, &nex);
	icalproperty **rd = props(m->ev, ICAL_RDATE_PROPERTY, &nrd);
	icalproperty **rr = props(m->ev, ICAL_RRULE_PROPERTY, &nrr);
	icalproperty **xr = props(m->ev, ICAL_EXRULE_PROPERTY, &nxr);
	bool ok = false;
	int64_t s;

	for (size_t i = 0; i < nex; i++) {
		struct icaltimetype t = like_start(
			icalproperty_get_datetime_with_component(ex[i], m->ev),
			dtstart);
		if (icaltime_is_null_time(t))
			continue;
		if (t.is_date)
			i64_push(&x.ex_day, ymd(t));
		else
			i64_push(&x.ex_utc, to_utc(c, t));
	}
	/* EXRULE (RFC 2445): its occurrences in the window are excluded. */
	for (size_t i = 0; i < nxr; i++)
		if (!expand_rule(c, m, xr[i], dtstart, NULL, &x.ex_utc))
			goto done;
	i64_sort_uniq(&x.ex_utc);
	i64_sort_uniq(&x.ex_day);

	/* DTSTART is always an occurrence (RFC 5545 3.8.5.3), even when
	 * the rule does not match it. */
	s = to_utc(c, dtstart);
	if (s >= c->from && s < c->to && !excluded(&x, dtstart, s))
		i64_push(starts, s);
	for (size_t i = 0; i < nrd; i++) {
		struct icaltimetype t = rdate_time(c, m, rd[i]);
		if (icaltime_is_null_time(t))
			continue;
		s = to_utc(c, t);
		if (s >= c->from && s < c->to && !excluded(&x, t, s))
			i64_push(starts, s);
	}
	/* Several RRULEs (RFC 2445 allowed them) are a union. */
	for (size_t i = 0; i < nrr; i++)
		if (!expand_rule(c, m, rr[i], dtstart, &x, starts))
			goto done;
	i64_sort_uniq(starts);
	ok = true;
done:
	free(ex);
	free(rd);
	free(rr);
	free(xr);
	free(x.ex_utc.v);
	free(x.ex_day.v);
	return ok;
}

/* --- one UID ------------------------------------------------------------ */

/* Whether a is a later version than b of the same component (iTIP:
 * SEQUENCE, then DTSTAMP; then the later in the text). */
static bool newer(const cal_item_t *a, const cal_item_t *b)
{
	if (a->seq != b->seq)
		return a->seq > b->seq;
	if (a->stamp != b->stamp)
		return a->stamp > b->stamp;
	return a->order > b->order;
}

/* The instant an override replaces, and the day it replaces when the
 * master is timed but the RECURRENCE-ID a date (*day, else 0).  Against
 * an all-day master a RECURRENCE-ID names a day, whatever its form (a
 * date-time in some zone is read as its date there). */
static int64_t override_rid(cal_ctx_t *c, struct icaltimetype t,
			    const struct icaltimetype *mstart, int64_t *day)
{
	*day = 0;
	if (mstart && mstart->is_date && !t.is_date) {
		t.is_date = 1;
		t.hour = t.minute = t.second = 0;
		t.zone = NULL;
	} else if (mstart && t.is_date) {
		*day = ymd(t);
	} else if (mstart) {
		t = like_start(t, *mstart);
	}
	return to_utc(c, t);
}

/* Expand the components of one UID (items[0..n)) into the result. */
static void expand_uid(cal_ctx_t *c, cal_item_t *items, size_t n)
{
	cal_item_t *master = NULL;
	cal_ovset_t ov = {0};
	i64vec_t starts = {0};
	cal_ivec_t inst = {0};
	cal_item_t **ovs = xcalloc(n, sizeof(*ovs));
	size_t nov = 0;
	const char *label = items[0].label;
	struct icaltimetype mstart = icaltime_null_time();
	bool master_cancelled = false;

	for (size_t i = 0; i < n; i++) {
		if (items[i].fatal)
			goto done; /* its RRULE could not be read */
		if (!items[i].override && (!master || newer(&items[i], master)))
			master = &items[i]; /* the latest version */
	}
	if (master) {
		mstart = icalcomponent_get_dtstart(master->ev);
		master_cancelled = icalcomponent_get_status(master->ev) ==
				   ICAL_STATUS_CANCELLED;
	}
	bool has_start = master && !icaltime_is_null_time(mstart);

	for (size_t i = 0; i < n; i++) {
		cal_item_t *it = &items[i];
		if (!it->override)
			continue;
		icalproperty *rp = icalcomponent_get_first_property(
			it->ev, ICAL_RECURRENCEID_PROPERTY);
		struct icaltimetype t =
			icalproperty_get_datetime_with_component(rp, it->ev);
		int64_t day;
		if (icaltime_is_null_time(t)) {
			if (!it->warned)
				warn(c, label, "unreadable RECURRENCE-ID");
			continue;
		}
		it->rid = override_rid(c, t, has_start ? &mstart : NULL, &day);
		if (day)
			i64_push(&ov.days, day);
		/* One override per RECURRENCE-ID: the latest version. */
		size_t k;
		for (k = 0; k < nov && ovs[k]->rid != it->rid; k++)
			;
		if (k == nov)
			ovs[nov++] = it;
		else if (newer(it, ovs[k]))
			ovs[k] = it;
	}
	for (size_t k = 0; k < nov; k++)
		i64_push(&ov.rids, ovs[k]->rid);
	i64_sort_uniq(&ov.rids);
	i64_sort_uniq(&ov.days);

	if (master && !has_start) {
		if (!master->warned)
			warn(c, label, "missing DTSTART");
	} else if (master) {
		if (!expand_master(c, master, &ov, mstart, &starts))
			goto done;
		if (starts.n) {
			cal_instance_t tmpl;
			instance_fill(&tmpl, master, false);
			tmpl.all_day = mstart.is_date;
			tmpl.recurring =
				icalcomponent_get_first_property(
					master->ev, ICAL_RRULE_PROPERTY) ||
				icalcomponent_get_first_property(
					master->ev, ICAL_RDATE_PROPERTY);
			for (size_t i = 0; i < starts.n; i++) {
				cal_instance_t *in = ivec_add(&inst);
				instance_copy(in, &tmpl);
				in->start = in->recurrence_id = starts.v[i];
			}
			instance_clear(&tmpl);
		}
	}

	for (size_t k = 0; k < nov; k++) {
		cal_item_t *o = ovs[k];
		struct icaltimetype t = icalcomponent_get_dtstart(o->ev);
		int64_t s = icaltime_is_null_time(t) ? o->rid : to_utc(c, t);
		if (s < c->from || s >= c->to)
			continue;
		cal_instance_t *in = ivec_add(&inst);
		instance_fill(in, o, master_cancelled);
		in->start = s;
		in->recurrence_id = o->rid;
		in->all_day = !icaltime_is_null_time(t) && t.is_date;
		in->recurring = true;
	}

	if (inst.n > CAL_MAX_INSTANCES) {
		qsort(inst.v, inst.n, sizeof(*inst.v), instance_cmp);
		warn(c, label,
		     "more than %d instances in the window, kept the first %d",
		     CAL_MAX_INSTANCES, CAL_MAX_INSTANCES);
		for (size_t i = CAL_MAX_INSTANCES; i < inst.n; i++)
			instance_clear(&inst.v[i]);
		inst.n = CAL_MAX_INSTANCES;
	}
	if (inst.n) {
		cal_result_t *out = c->out;
		if (out->n + inst.n > c->outcap) {
			c->outcap = (out->n + inst.n) * 2;
			out->v = xrealloc(out->v, c->outcap * sizeof(*out->v));
		}
		memcpy(out->v + out->n, inst.v, inst.n * sizeof(*inst.v));
		out->n += inst.n;
		inst.n = 0;
	}
done:
	for (size_t i = 0; i < inst.n; i++)
		instance_clear(&inst.v[i]);
	free(inst.v);
	free(ovs);
	free(ov.rids.v);
	free(ov.days.v);
	free(starts.v);
}

/* --- the calendar ------------------------------------------------------- */

/* The end of the logical line at i (its folded continuations too). */
static size_t line_end(const char *t, size_t len, size_t i)
{
	for (;;) {
		const char *nl = memchr(t + i, '\n', len - i);
		i = nl ? (size_t)(nl - t) + 1 : len;
		if (i >= len || (t[i] != ' ' && t[i] != '\t'))
			return i;
	}
}

/*
 * Mend what makes libical's parser misbehave: END lines that close
 * nothing (it writes "Encountered END before BEGIN" on stderr),
 * components nested deeper than CAL_MAX_DEPTH (it recurses per level:
 * 200000 nested BEGIN lines crashed it; the text is cut there) and
 * components still open at the end (closed here).  *start is set past a
 * UTF-8 BOM.  Returns NULL when there is nothing to mend, the usual case
 * (the text is used as it is: no second copy of a large file), else the
 * mended text from *start, NUL-terminated; caller frees.
 */
static char *tidy(const char *text, size_t len, size_t *start)
{
	strbuf_t b = {0};
	bool mend = false, cut = false;
	char names[CAL_MAX_DEPTH][32];
	int depth = 0;
	size_t i = 0;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	*start = i;
	while (i < len) {
		/* One logical line [i, e), with its folded continuations. */
		size_t e = line_end(text, len, i);
		/* Its unfolded start, enough for BEGIN:/END: and a name. */
		char head[48];
		size_t h = 0;
		for (size_t k = i; k < e && h < sizeof(head) - 1; k++) {
			if (text[k] == '\r')
				continue;
			if (text[k] == '\n') {
				k++; /* and the space or tab of the fold */
				continue;
			}
			head[h++] = text[k];
		}
		head[h] = '\0';
		/* The property name ends at ':' or ';' ("END;X=1:VEVENT"). */
		size_t nl = strcspn(head, ":;");
		const char *colon = strchr(head, ':');
		bool keep = true;
		if (nl == 5 && strncasecmp(head, "BEGIN", 5) == 0) {
			if (depth == CAL_MAX_DEPTH) {
				cut = true;
				break;
			}
			const char *v = colon ? colon + 1 : "";
			size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "abcdefghijklmnopqrstuvwxyz"
					     "0123456789-");
			n = n < sizeof(names[0]) - 1 ? n : sizeof(names[0]) - 1;
			memcpy(names[depth], v, n);
			names[depth++][n] = '\0';
		} else if (nl == 3 && strncasecmp(head, "END", 3) == 0) {
			if (depth == 0)
				keep = false;
			else
				depth--;
		}
		if (!keep && !mend) { /* the first change: copy what came */
			mend = true;
			sb_add(&b, text + *start, i - *start);
		} else if (keep && mend) {
			sb_add(&b, text + i, e - i);
		}
		i = e;
	}
	if (!mend && !cut && !depth)
		return NULL;
	if (!mend)
		sb_add(&b, text + *start, i - *start);
	if (depth && b.len && b.s[b.len - 1] != '\n')
		sb_puts(&b, "\r\n");
	while (depth > 0)
		sb_printf(&b, "END:%s\r\n", names[--depth]);
	return b.len ? sb_steal(&b) : xstrdup("");
}

/* Read what identifies one VEVENT and give its malformation warning
 * (X-LIC-ERROR: libical removed a property it could not parse). */
static void item_init(cal_ctx_t *c, cal_item_t *it, icalcomponent *cal,
		      icalcomponent *ev, size_t order)
{
	memset(it, 0, sizeof(*it));
	it->ev = ev;
	it->cal = cal;
	it->order = order;
	const char *uid = icalcomponent_get_uid(ev);
	if (uid && *uid) {
		it->uid = str_sanitize(xstrdup(uid));
		it->has_uid = true;
	} else {
		char *text = icalcomponent_as_ical_string_r(ev);
		char hex[17];
		hash64_hex(hash64(text, text ? strlen(text) : 0), hex);
		it->uid = xasprintf("nouid-%s", hex);
		free(text);
	}
	it->label = it->has_uid ? it->uid : "(no UID)";
	it->override = icalcomponent_get_first_property(
			       ev, ICAL_RECURRENCEID_PROPERTY) != NULL;
	check_tzids(c, it); /* before any getter may look a TZID up */
	icalproperty *sp =
		icalcomponent_get_first_property(ev, ICAL_SEQUENCE_PROPERTY);
	it->seq = sp ? icalproperty_get_sequence(sp) : 0;
	struct icaltimetype ds = icalcomponent_get_dtstamp(ev);
	it->stamp = icaltime_is_null_time(ds) ? 0 : to_utc(c, ds);

	int nerr = 0;
	const char *first = NULL;
	for (icalproperty *p = icalcomponent_get_first_property(
		     ev, ICAL_XLICERROR_PROPERTY);
	     p;
	     p = icalcomponent_get_next_property(ev, ICAL_XLICERROR_PROPERTY)) {
		const char *msg = icalproperty_get_xlicerror(p);
		if (!msg)
			msg = "malformed property";
		/* Harmless: an empty value is no value, and libical
		 * flags every unregistered name without "X-". */
		if (str_starts(msg, "No value for") ||
		    str_starts(msg, "Parse error in property name"))
			continue;
		if (!first)
			first = msg;
		/* An RRULE libical could not read: the set is unknown.  (An
		 * empty "RRULE:" only means no recurrence.) */
		if (strstr(msg, "RRULE") && !strstr(msg, "No value"))
			it->fatal = true;
		nerr++;
	}
	if (first) {
		char *q = quote(first);
		if (nerr > 1)
			warn(c, it->label, "%s (and %d more errors)", q,
			     nerr - 1);
		else
			warn(c, it->label, "%s", q);
		free(q);
		it->warned = true;
	}
}

static int item_cmp(const void *pa, const void *pb)
{
	const cal_item_t *a = pa, *b = pb;
	if (a->has_uid != b->has_uid)
		return a->has_uid ? -1 : 1;
	int r = a->has_uid ? strcmp(a->uid, b->uid) : 0;
	if (r)
		return r;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* ---- the text, one event at a time ---------------------------------- */

/*
 * libical holds a parsed calendar as a tree some ten times the size of
 * its text (90 MB for a 6.5 MB file of 16,000 events).  So the tidied
 * text is cut first: each top-level VCALENDAR without its VEVENTs (its
 * properties, VTIMEZONEs and other components) is parsed on its own,
 * and the VEVENTs are parsed, expanded and freed one UID at a time,
 * each hung under its VCALENDAR meanwhile so that its TZIDs resolve.
 */

/* One VEVENT of the text before it is parsed. */
typedef struct {
	size_t off, len; /* in the tidied text */
	size_t cal;      /* its VCALENDAR */
	char *key;       /* uid_key of its UID, or NULL */
	size_t order;    /* position in the text */
} cal_span_t;

typedef struct {
	strbuf_t *skel; /* each VCALENDAR without its VEVENTs */
	size_t ncals;
	cal_span_t *spans;
	size_t nspans, capspans;
} cal_cut_t;

/* The logical line [i, e) unfolded, CR and LF dropped.  Caller frees. */
static char *unfold_line(const char *t, size_t i, size_t e)
{
	strbuf_t b = {0};
	for (size_t k = i; k < e; k++) {
		if (t[k] == '\r')
			continue;
		if (t[k] == '\n') {
			k++; /* and the blank of the fold */
			continue;
		}
		sb_putc(&b, t[k]);
	}
	return sb_steal(&b);
}

/* Is line (unfolded) "NAME:..." or "NAME;...": the property or
 * BEGIN/END name, case-insensitively? */
static bool line_is(const char *line, const char *name)
{
	size_t n = strlen(name);
	return strncasecmp(line, name, n) == 0 &&
	       (line[n] == ':' || line[n] == ';');
}

/* The value of a property line: after the first ':' outside a quoted
 * parameter value. */
static const char *line_value(const char *line)
{
	bool q = false;
	for (const char *p = line; *p; p++) {
		if (*p == '"')
			q = !q;
		else if (*p == ':' && !q)
			return p + 1;
	}
	return "";
}

/* BEGIN:NAME or END:NAME: is it, and for NAME? */
static bool line_component(const char *line, const char *what, const char *name)
{
	return line_is(line, what) &&
	       strcasecmp(str_trim((char *)line_value(line)), name) == 0;
}

/* What groups the events of one UID: the value without its escapes
 * (a backslash and what follows) and blanks.  Coarser than libical's
 * reading of it on purpose: events grouped too much are told apart by
 * their real UIDs after parsing, while events of one UID spelled two
 * ways must never be kept apart.  Caller frees. */
static char *uid_key(const char *v)
{
	strbuf_t b = {0};
	for (; *v; v++) {
		if (*v == '\\') {
			if (v[1])
				v++;
			continue;
		}
		if (*v != ' ' && *v != '\t')
			sb_putc(&b, *v);
	}
	return sb_steal(&b);
}

static void cut_text(const char *t, size_t len, cal_cut_t *cut)
{
	int depth = 0;
	bool in_cal = false, in_event = false;
	cal_span_t *ev = NULL;

	for (size_t i = 0; i < len;) {
		size_t e = line_end(t, len, i);
		/* Only BEGIN, END and UID lines matter here: any other is
		 * copied as it is, without unfolding it first. */
		if (!strchr("BbEeUu\r\n", t[i])) {
			if (in_cal && !in_event)
				sb_add(&cut->skel[cut->ncals - 1], t + i,
				       e - i);
			i = e;
			continue;
		}
		char *line = unfold_line(t, i, e);
		bool begin = line_is(line, "BEGIN"), end = line_is(line, "END");

		if (begin && depth == 0 &&
		    line_component(line, "BEGIN", "VCALENDAR")) {
			cut->skel =
				xrealloc(cut->skel,
					 (cut->ncals + 1) * sizeof(*cut->skel));
			memset(&cut->skel[cut->ncals++], 0, sizeof(strbuf_t));
			in_cal = true;
		}
		if (in_cal && begin && depth == 1 &&
		    line_component(line, "BEGIN", "VEVENT")) {
			if (cut->nspans == cut->capspans) {
				cut->capspans =
					cut->capspans ? cut->capspans * 2 : 64;
				cut->spans = xrealloc(
					cut->spans,
					cut->capspans * sizeof(*cut->spans));
			}
			ev = &cut->spans[cut->nspans];
			*ev = (cal_span_t){.off = i,
					   .cal = cut->ncals - 1,
					   .order = cut->nspans};
			cut->nspans++;
			in_event = true;
		} else if (in_event && depth == 2 && !ev->key &&
			   line_is(line, "UID")) {
			char *k = uid_key(line_value(line));
			if (*k)
				ev->key = k;
			else
				free(k);
		}
		if (in_cal && !in_event)
			sb_add(&cut->skel[cut->ncals - 1], t + i, e - i);
		if (begin)
			depth++;
		else if (end && depth > 0)
			depth--;
		if (in_event && end && depth == 1) {
			ev->len = e - ev->off;
			in_event = false;
		}
		if (in_cal && depth == 0)
			in_cal = false;
		free(line);
		i = e;
	}
}

static void cut_free(cal_cut_t *cut)
{
	for (size_t i = 0; i < cut->ncals; i++)
		sb_free(&cut->skel[i]);
	free(cut->skel);
	for (size_t i = 0; i < cut->nspans; i++)
		free(cut->spans[i].key);
	free(cut->spans);
}

static int early_cmp(const void *pa, const void *pb)
{
	const struct cal_early *a = pa, *b = pb;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Events with a UID first, by UID, then in text order. */
static int span_cmp(const void *pa, const void *pb)
{
	const cal_span_t *a = pa, *b = pb;
	if (!a->key != !b->key)
		return a->key ? -1 : 1;
	int r = a->key ? strcmp(a->key, b->key) : 0;
	if (r)
		return r;
	return a->order < b->order ? -1 : a->order > b->order;
}

status_t cal_expand(const char *text, size_t len, const char *zone,
		    int64_t from, int64_t to, cal_result_t *out, err_t *err)
{
	status_t st = ST_OK;
	cal_ctx_t c = {0};
	cal_cut_t cut = {0};
	icalcomponent **cals = NULL;
	cal_item_t *items = NULL; /* of one UID group */
	size_t ncals = 0, capitems = 0;
	char *buf = NULL;
	strbuf_t one = {0}; /* the VEVENT being parsed */

	memset(out, 0, sizeof(*out));
	c.out = out;
	c.from = from;
	c.to = to;
	c.zone = zone && *zone ? zone : "UTC";

	/* the text up to a NUL, mended where it has to be */
	size_t start;
	buf = tidy(text, len, &start);
	const char *t = buf ? buf : text + start;
	size_t tlen = buf ? strlen(buf) : strnlen(t, len - start);
	cut_text(t, tlen, &cut);
	cals = xcalloc(cut.ncals ? cut.ncals : 1, sizeof(*cals));
	for (size_t i = 0; i < cut.ncals; i++) {
		icalcomponent *k =
			icalparser_parse_string(sb_str(&cut.skel[i]));
		if (k && icalcomponent_isa(k) == ICAL_VCALENDAR_COMPONENT)
			cals[i] = k;
		else if (k)
			icalcomponent_free(k);
		ncals += cals[i] != NULL;
		sb_free(&cut.skel[i]);
	}
	if (!ncals) {
		st = err_set(err, ST_DATAERR, "no VCALENDAR in the text");
		goto done;
	}

	c.defz = strcmp(c.zone, "UTC") == 0 ? icaltimezone_get_utc_timezone()
					    : system_zone(&c, c.zone);
	if (!c.defz) {
		warn(&c, "(calendar)", "unknown time zone '%s', using UTC",
		     c.zone);
		c.zone = "UTC";
		c.defz = icaltimezone_get_utc_timezone();
	}

	for (size_t i = 0; i < cut.ncals; i++)
		if (cals[i])
			prefer_system_zones(&c, cals[i]);
	if (cut.nspans)
		qsort(cut.spans, cut.nspans, sizeof(*cut.spans), span_cmp);
	for (size_t i = 0; i < cut.nspans;) {
		size_t j = i + 1, n = 0;
		while (j < cut.nspans && cut.spans[i].key && cut.spans[j].key &&
		       strcmp(cut.spans[i].key, cut.spans[j].key) == 0)
			j++;
		if (j - i > capitems) {
			capitems = j - i;
			free(items);
			items = xmalloc(capitems * sizeof(*items));
		}
		for (size_t k = i; k < j; k++) {
			cal_span_t *sp = &cut.spans[k];
			icalcomponent *cal = cals[sp->cal];
			if (!cal || !sp->len)
				continue;
			one.len = 0;
			sb_add(&one, t + sp->off, sp->len);
			icalcomponent *ev = icalparser_parse_string(one.s);
			if (ev &&
			    icalcomponent_isa(ev) != ICAL_VEVENT_COMPONENT) {
				icalcomponent_free(ev);
				ev = NULL;
			}
			if (!ev)
				continue;
			icalcomponent_add_component(cal, ev);
			c.reading = true;
			c.reading_order = sp->order;
			item_init(&c, &items[n++], cal, ev, sp->order);
			c.reading = false;
		}
		/* Several events parsed as one UID group may still differ
		 * once sanitized: expand each run of equal UIDs. */
		if (n)
			qsort(items, n, sizeof(*items), item_cmp);
		for (size_t a = 0; a < n;) {
			size_t b = a + 1;
			while (b < n && items[a].has_uid && items[b].has_uid &&
			       strcmp(items[a].uid, items[b].uid) == 0)
				b++;
			expand_uid(&c, items + a, b - a);
			a = b;
		}
		for (size_t k = 0; k < n; k++) {
			icalcomponent_remove_component(items[k].cal,
						       items[k].ev);
			icalcomponent_free(items[k].ev);
			free(items[k].uid);
		}
		i = j;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), instance_cmp);
	if (c.nearly) {
		strvec_t all = {0};
		qsort(c.early, c.nearly, sizeof(*c.early), early_cmp);
		for (size_t i = 0; i < c.nearly; i++)
			strvec_take(&all, c.early[i].s);
		for (size_t i = 0; i < out->warnings.n; i++)
			strvec_take(&all, out->warnings.v[i]);
		free(out->warnings.v);
		out->warnings = all;
		c.nearly = 0;
	}
done:
	for (size_t i = 0; i < c.nearly; i++)
		free(c.early[i].s);
	free(c.early);
	free(items);
	for (size_t i = 0; i < cut.ncals; i++)
		if (cals[i])
			icalcomponent_free(cals[i]);
	free(cals);
	cut_free(&cut);
	free(buf);
	sb_free(&one);
	strmap_free(&c.seen);
	strmap_free(&c.sysz);
	if (st != ST_OK)
		cal_result_free(out);
	return st;
}

void cal_result_free(cal_result_t *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		instance_clear(&r->v[i]);
	free(r->v);
	strvec_free(&r->warnings);
	memset(r, 0, sizeof(*r));
}
