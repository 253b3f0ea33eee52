/*
 * report — the people commands' output: `contacts` as a table, JSON or
 * CSV, and `interactions` as JSON or CSV (DESIGN §2).  Everything that
 * came from mail is written as text: JSON-escaped, CSV-quoted, and in the
 * table with control characters removed.
 */
#ifndef DIGEST_REPORT_H
#define DIGEST_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "people.h"
#include "store.h"

typedef enum { REPORT_TABLE, REPORT_JSON, REPORT_CSV } report_format_t;

/* "table", "json", "csv" → format; false when unknown. */
bool report_format(const char *s, report_format_t *out);

/* Write people of leader l: p->contacts.v[order[0..n)].  The table marks
 * the neglected with "!". */
status_t report_contacts(FILE *out, report_format_t fmt,
			 const config_leader_t *l, const people_t *p,
			 const size_t *order, size_t n, err_t *err);

/* Write the interactions of history h that include a person; only
 * REPORT_JSON and REPORT_CSV. */
status_t report_interactions(FILE *out, report_format_t fmt,
			     const config_t *cfg, const config_leader_t *l,
			     const ident_extra_t *x, const store_history_t *h,
			     err_t *err);

#endif
