/*
 * model — one leader's digest for one week as the JSON data model of
 * DESIGN §7: what `preview --format json` prints and what the templates
 * render, built once so the two never disagree.  Everything that came
 * from mail or calendars is plain text in the tree; escaping is the
 * renderer's job.
 */
#ifndef DIGEST_MODEL_H
#define DIGEST_MODEL_H

#include <jansson.h>

#include "config.h"
#include "people.h"

/* JSON values of the model (and of `contacts`): a string or null for
 * NULL; an instant as YYYY-MM-DDTHH:MM:SSZ or null when negative; a
 * number rounded to 2 decimals or null when negative (unknown). */
json_t *model_text(const char *s);
/* How the model and `contacts` are printed: numbers to 15 significant
 * digits, so a rounded 0.96 is printed as 0.96. */
#define MODEL_JSON_FLAGS                                                       \
	(JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
json_t *model_time(int64_t t);
json_t *model_number(double v);

/* The digest of leader l as of p->now, with warnings (e.g. stale
 * sources) to show at the top.  Caller owns the tree (json_decref). */
json_t *model_build(const config_t *cfg, const config_leader_t *l,
		    const people_t *p, const strvec_t *warnings);

/* What the pipeline needs of a built model: its ISO week ("2026-W49"),
 * and the people_merge_key of every automatic merge it lists (appended
 * to keys), for the ledger of merges shown. */
const char *model_week_id(const json_t *model);
void model_merge_keys(const json_t *model, strvec_t *keys);

/* The ISO week of t in zone: "2026-W49" into id[16], and its Monday and
 * Sunday as YYYY-MM-DD. */
void model_week(int64_t t, const char *zone, char id[16], char start[11],
		char end[11]);

/* How the digest tells durations, rounded to the nearest unit as a
 * person would say them, singular or plural as the number wants.
 * A rhythm: "~5 days", "~1 week", "~3 months", or with a spread (low <
 * high, both >= 0) "3–8 weeks" when the two differ in that unit.
 * Appended to b. */
void model_span(strbuf_t *b, double days, double low, double high);
/* A silence of whole days: "1 day", "12 days", "4 weeks" (27 days), "3
 * months" (76 days), into buf[n]. */
void model_elapsed(int64_t days, char *buf, size_t n);

#endif
