/*
 * contacts — people from a leader's history: addresses grouped into
 * persons (`merge`, and auto_merge of DESIGN §5), noise left out, and per
 * person the counts and times of DESIGN §2 `contacts`.  Pure: no I/O.
 */
#ifndef DIGEST_CONTACTS_H
#define DIGEST_CONTACTS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ident.h"
#include "store.h"

/* An interaction of weight >= this counts as contact (DESIGN §5). */
#define CONTACTS_TOUCH_WEIGHT 0.5

typedef struct {
	const char *address;    /* primary, lower case (points into history) */
	const char **addresses; /* all of them, primary first */
	size_t naddresses;
	const char *name;             /* or NULL */
	const char *circle;           /* or NULL (points into the config) */
	size_t interactions;          /* in the window, any weight */
	size_t touches;               /* of them with weight >= 0.5 */
	int64_t last_contact;         /* latest touch, or -1 */
	int64_t last_seen;            /* latest interaction, or -1 */
	store_channel_t last_channel; /* of the latest touch */
	const char *note;             /* the leader's note, or NULL */
} contact_t;

typedef struct {
	contact_t *v; /* sorted by address */
	size_t n;
	int *person_of; /* per history address: index into v, or -1 */
} contacts_t;

/*
 * The people of leader l seen in history h (already limited to the
 * window by the caller), by the address rules of ident (x may be NULL)
 * and the merges the leader said (said may be NULL).  Pointers in the
 * result point into h and the config, which must outlive it.  Free with
 * contacts_free.
 */
void contacts_build(const config_t *cfg, const config_leader_t *l,
		    const store_said_t *said, const ident_extra_t *x,
		    const store_history_t *h, contacts_t *out);

void contacts_free(contacts_t *c);

#endif
