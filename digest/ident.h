/*
 * ident — who is who for one leader: the leader's own addresses, the
 * delegates who send on their behalf, automated and list addresses,
 * `ignore` patterns and circles.  Pure: no I/O.
 */
#ifndef DIGEST_IDENT_H
#define DIGEST_IDENT_H

#include <stdbool.h>

#include "config.h"

typedef enum {
	IDENT_CONTACT = 0, /* may become a contact */
	IDENT_OWN,         /* the leader's email or an alias */
	IDENT_AUTOMATED,   /* noreply, mailer-daemon, notifications … */
	IDENT_LIST,        /* a mailing list */
	IDENT_IGNORED,     /* matches an `ignore` pattern */
} ident_class_t;

/* "own", "automated", "list", "ignored" (NULL for IDENT_CONTACT). */
const char *ident_class_name(ident_class_t c);

/* Case-insensitive glob: '*' any run, '?' one character. */
bool ident_glob(const char *pattern, const char *s);

/* The leader's email or one of the aliases. */
bool ident_is_own(const config_leader_t *l, const char *addr);
/* Mail From this address in the leader's sources is the leader's:
 * own addresses and delegates. */
bool ident_is_sender(const config_leader_t *l, const char *addr);
/* Rule-based: automated and role senders, and list addresses. */
ident_class_t ident_noise(const char *addr);
/* Everything together, own first, then ignore patterns, then noise. */
ident_class_t ident_classify(const config_leader_t *l, const char *addr);
/* The first circle whose patterns match, or NULL. */
const char *ident_circle(const config_leader_t *l, const char *addr);

/* Key under which auto_merge joins addresses: the lower-case local part
 * and the case-folded display name, or NULL when the name is empty or is
 * only the address.  Caller frees. */
char *ident_merge_key(const char *addr, const char *name);

#endif
