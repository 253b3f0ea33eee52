/*
 * cal — iCalendar (RFC 5545) with libical: the instances of every VEVENT
 * of a calendar text that start inside a window, recurrence expanded
 * exactly (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides) in each event's
 * own zone.  Pure apart from reading the system's zoneinfo: the caller
 * reads the files.  libical types never leave this module.
 */
#ifndef DIGEST_CAL_H
#define DIGEST_CAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* An ORGANIZER or ATTENDEE of an instance. */
typedef struct {
	char *addr;     /* lower case, "mailto:" stripped; never NULL */
	char *name;     /* CN, sanitized, or NULL */
	bool organizer; /* the ORGANIZER property */
	bool declined;  /* PARTSTAT=DECLINED */
	bool resource;  /* CUTYPE=ROOM or CUTYPE=RESOURCE */
} cal_person_t;

typedef struct cal_instance {
	char *uid;
	int64_t start;         /* UTC instant the instance starts; an all-day
				* instance starts at 00:00 of its first day in
				* the default zone */
	int64_t recurrence_id; /* UTC instant naming the instance in its
				* series (its original start); = start for an
				* event without recurrence */
	bool all_day;
	bool recurring;       /* of a series (RRULE or RDATE), or an
			       * override of one of its instances */
	bool cancelled;       /* STATUS:CANCELLED on the event or instance */
	char *summary;        /* sanitized, or NULL */
	cal_person_t *people; /* organizer first (if any), then attendees
			       * in file order; not de-duplicated */
	size_t npeople;
} cal_instance_t;

typedef struct {
	cal_instance_t *v; /* sorted by start, then uid */
	size_t n;
	strvec_t warnings; /* "UID: what was wrong", each once */
} cal_result_t;

/* At most this many instances of one event inside a window. */
#define CAL_MAX_INSTANCES 5000

/*
 * Expand the VEVENTs of text (one or more VCALENDARs) into the instances
 * starting in [from, to).  zone (an IANA name) is used for floating times,
 * DATE values and unknown TZIDs (with a warning).  A malformed event gives
 * a warning naming its UID and is skipped; the others are still expanded.
 * Returns ST_DATAERR (err set) only when text holds no VCALENDAR at all.
 * Free the result with cal_result_free.
 */
status_t cal_expand(const char *text, size_t len, const char *zone,
		    int64_t from, int64_t to, cal_result_t *out, err_t *err);
void cal_result_free(cal_result_t *r);

#endif
