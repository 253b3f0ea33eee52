/*
 * ident — address classification for one leader.  See ident.h.
 */
#include "ident.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ident_class_name(ident_class_t c)
{
	switch (c) {
	case IDENT_OWN:
		return "own";
	case IDENT_AUTOMATED:
		return "automated";
	case IDENT_LIST:
		return "list";
	case IDENT_IGNORED:
		return "ignored";
	case IDENT_CONTACT:
		break;
	}
	return NULL;
}

bool ident_glob(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == '?' ||
			   tolower((unsigned char)*p) == tolower((unsigned char)*s)) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool ident_is_own(const config_leader_t *l, const char *addr)
{
	return strcasecmp(l->email, addr) == 0 ||
	       strvec_contains(&l->aliases, addr);
}

bool ident_is_sender(const config_leader_t *l, const char *addr)
{
	return ident_is_own(l, addr) || strvec_contains(&l->delegates, addr);
}

/* Local parts of automated and role senders (RFC 2142 and common
 * practice); compared whole, case-insensitively. */
static const char *const automated_locals[] = {
	"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply",
	"do_not_reply", "mailer-daemon", "postmaster", "notifications",
	"notification", "notify", "bounce", "bounces", "daemon", "auto-reply",
	"autoreply", "abuse", NULL,
};

/* Local parts of list addresses and their robots. */
static const char *const list_locals[] = {
	"list", "lists", "majordomo", "listserv", "mailman", "sympa", NULL,
};

static const char *const list_local_suffixes[] = {
	"-request", "-owner", "-bounces", "-subscribe", "-unsubscribe",
	"-announce", "-devel", "-users", "-list", NULL,
};

/* The first label of the domain marks list servers: lists.example.org. */
static const char *const list_domain_labels[] = {
	"lists", "list", "listserv", "groups", "googlegroups", NULL,
};

static bool in(const char *const *words, const char *s, size_t n)
{
	for (; *words; words++)
		if (strlen(*words) == n && strncasecmp(*words, s, n) == 0)
			return true;
	return false;
}

ident_class_t ident_noise(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t nlocal = at ? (size_t)(at - addr) : strlen(addr);
	const char *domain = at ? at + 1 : "";
	const char *plus = memchr(addr, '+', nlocal);
	size_t nbase = plus ? (size_t)(plus - addr) : nlocal;

	if (in(automated_locals, addr, nbase) ||
	    strncasecmp(addr, "noreply", 7) == 0 ||
	    strncasecmp(addr, "no-reply", 8) == 0 ||
	    strncasecmp(addr, "bounce", 6) == 0)
		return IDENT_AUTOMATED;
	if (in(list_locals, addr, nbase) || strncasecmp(addr, "owner-", 6) == 0)
		return IDENT_LIST;
	for (const char *const *s = list_local_suffixes; *s; s++) {
		size_t m = strlen(*s);
		if (nbase > m && strncasecmp(addr + nbase - m, *s, m) == 0)
			return IDENT_LIST;
	}
	const char *dot = strchr(domain, '.');
	if (dot && in(list_domain_labels, domain, (size_t)(dot - domain)))
		return IDENT_LIST;
	return IDENT_CONTACT;
}

ident_class_t ident_classify(const config_leader_t *l, const char *addr)
{
	if (ident_is_own(l, addr))
		return IDENT_OWN;
	for (size_t i = 0; i < l->ignore.n; i++)
		if (ident_glob(l->ignore.v[i], addr))
			return IDENT_IGNORED;
	return ident_noise(addr);
}

const char *ident_circle(const config_leader_t *l, const char *addr)
{
	for (size_t i = 0; i < l->ncircles; i++)
		for (size_t j = 0; j < l->circles[i].patterns.n; j++)
			if (ident_glob(l->circles[i].patterns.v[j], addr))
				return l->circles[i].name;
	return NULL;
}

char *ident_merge_key(const char *addr, const char *name)
{
	if (!name)
		return NULL;
	const char *at = strrchr(addr, '@');
	size_t nlocal = at ? (size_t)(at - addr) : strlen(addr);
	strbuf_t b = {0};
	sb_add(&b, addr, nlocal);
	sb_putc(&b, '\n');
	/* Fold ASCII case and runs of blanks; other bytes as they are. */
	bool space = true;
	size_t start = b.len;
	for (const char *p = name; *p; p++) {
		if (isspace((unsigned char)*p) || *p == '"') {
			space = true;
			continue;
		}
		if (space && b.len > start)
			sb_putc(&b, ' ');
		space = false;
		sb_putc(&b, (char)tolower((unsigned char)*p));
	}
	if (b.len == start || strcasecmp(b.s + start, addr) == 0) {
		sb_free(&b);
		return NULL;
	}
	return sb_steal(&b);
}
