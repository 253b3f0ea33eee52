/*
 * ident — who is who for one leader, in one place: what an address is
 * (a well-formed addr-spec), the leader's own addresses, the delegates who
 * send on their behalf, automated, list and role addresses, the `ignore`
 * patterns, the `keep` patterns that override the built-in rules, and
 * circles.  Every module that needs one of these rules asks here.
 * Pure: no I/O.
 */
#ifndef DIGEST_IDENT_H
#define DIGEST_IDENT_H

#include <stdbool.h>

#include "config.h"

typedef enum {
	IDENT_CONTACT = 0, /* may become a contact */
	IDENT_OWN,         /* the leader's email, an alias or a delegate */
	IDENT_AUTOMATED,   /* noreply, mailer-daemon, notifications … */
	IDENT_ROLE,        /* info@, support@, team@, expense robots … */
	IDENT_LIST,        /* a mailing list or its robots */
	IDENT_IGNORED,     /* matches an `ignore` pattern */
	IDENT_NCLASSES
} ident_class_t;

/* "own", "automated", "role", "list", "ignored" (NULL for
 * IDENT_CONTACT): the reasons of the digest's `excluded`. */
const char *ident_class_name(ident_class_t c);

/* Longest address accepted (RFC 5321's path limit, without <>). */
#define IDENT_ADDR_MAX 254

/*
 * An address digest will store, write into a header or hand to an SMTP
 * server: local@domain with exactly one '@', both sides non-empty, no
 * blanks, controls or the specials <>()[],;:\" (so no quoted local parts),
 * valid UTF-8, at most IDENT_ADDR_MAX bytes; the domain a name without a
 * leading, trailing or doubled '.', or a literal ([192.0.2.1]).
 */
bool ident_addr_ok(const char *addr);
/* The same in ASCII only and with a domain name: an address digest
 * itself sends from or to, in an envelope and a header of its own (no
 * SMTPUTF8). */
bool ident_addr_sendable(const char *addr);

/* Case-insensitive glob: '*' any run, '?' one character. */
bool ident_glob(const char *pattern, const char *s);

/* The leader's email or one of the aliases. */
bool ident_is_own(const config_leader_t *l, const char *addr);
/* Mail From this address in the leader's sources is the leader's:
 * own addresses and delegates. */
bool ident_is_sender(const config_leader_t *l, const char *addr);
/* The built-in rules alone: automated, list or role addresses, else
 * IDENT_CONTACT. */
ident_class_t ident_builtin(const char *addr);

/* What ident is told beyond the config; any member may be NULL. */
typedef struct {
	const strvec_t *ignore; /* `ignore` patterns given on the command
				 * line */
	const strvec_t *staff;  /* addresses that send mail from the leader's
				 * own sent sources (not delegates): the
				 * leader's staff */
	const strvec_t *others; /* other leaders' delegates and staff: someone
				 * else's assistant */
} ident_extra_t;

/*
 * What addr is to leader l, in this order: own (email, aliases,
 * delegates); ignored (the config's `ignore` and x->ignore); a person when
 * a `keep` pattern matches; own when x->staff has it; role when x->others
 * has it; else the built-in rules.  x may be NULL.
 */
ident_class_t ident_classify(const config_leader_t *l, const ident_extra_t *x,
			     const char *addr);
/* The first circle whose patterns match, or NULL. */
const char *ident_circle(const config_leader_t *l, const char *addr);

/*
 * Length of the character at s (valid UTF-8 there) when it must not reach
 * a reader as it is, else 0: C0 and C1 controls and DEL (a terminal acts
 * on them: U+0085 ends a line, U+009B starts an escape sequence), the
 * bidirectional embeddings, overrides and isolates U+202A-U+202E and
 * U+2066-U+2069 (they reorder the text after them, even past the name:
 * "Trojan Source"), and the line and paragraph separators U+2028, U+2029.
 * The marks U+200E, U+200F and U+061C stay: they reorder nothing beyond
 * the characters next to them, and right-to-left names need them.
 */
size_t ident_unsafe_len(const unsigned char *s);

/*
 * A display name fit to store and show, cleaned in place: invalid UTF-8
 * becomes '?' (str_sanitize), what ident_unsafe_len finds becomes a
 * space, runs of blanks become one space, blanks at either end go.
 * Returns name, or NULL (name freed) when nothing is left.  Every name
 * the store keeps, from mail or a calendar, has been through here.
 */
char *ident_clean_name(char *name);

/* Blanks, controls and the specials of RFC 5322 but '@' and '.': never
 * in an address here, nor in an atom (a switch: called for every byte
 * of every address). */
static inline bool ident_special(unsigned char c)
{
	switch (c) {
	case '<':
	case '>':
	case '(':
	case ')':
	case '[':
	case ']':
	case ',':
	case ';':
	case ':':
	case '\\':
	case '"':
		return true;
	default:
		return c <= ' ' || c == 0x7f;
	}
}

/* Is s[0..n) a name ident_clean_name keeps as it is because it is
 * printable ASCII with single blanks between words (most names)?  False
 * for some clean names too: those are cleaned. */
bool ident_name_is_clean(const char *s, size_t n);

/* Key under which auto_merge joins addresses: the lower-case local part
 * and the case-folded display name, or NULL when the name is empty or is
 * only the address.  Caller frees. */
char *ident_merge_key(const char *addr, const char *name);

#endif
