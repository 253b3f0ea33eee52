/*
 * ident — address rules for one leader.  See ident.h.
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
	case IDENT_ROLE:
		return "role";
	case IDENT_LIST:
		return "list";
	case IDENT_IGNORED:
		return "ignored";
	case IDENT_CONTACT:
	case IDENT_NCLASSES:
		break;
	}
	return NULL;
}

/* A domain literal: [192.0.2.1] or [IPv6:2001:db8::1]. */
static bool domain_literal(const char *d)
{
	size_t n = strlen(d);
	if (n < 3 || d[0] != '[' || d[n - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!isalnum((unsigned char)d[i]) && d[i] != '.' && d[i] != ':')
			return false;
	return true;
}

/* ident_addr_ok; with ascii, only ASCII and no domain literal. */
static bool addr_check(const char *a, bool ascii)
{
	const char *at = a ? strrchr(a, '@') : NULL;
	size_t n = 0;

	if (!at || at == a || !at[1])
		return false;
	const char *d = at + 1;
	bool literal = domain_literal(d);
	if (literal && ascii)
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p; n++) {
		if (literal && p == (const unsigned char *)d)
			break;    /* checked whole */
		if (*p >= 0x80) { /* RFC 6532: UTF-8 in addresses */
			size_t k = str_utf8_len(p);
			if (ascii || !k)
				return false;
			p += k;
			n += k - 1;
			continue;
		}
		if (ident_special(*p) || (*p == '@' && (const char *)p != at))
			return false;
		p++;
	}
	if (strlen(a) > IDENT_ADDR_MAX)
		return false;
	return literal ||
	       (d[0] != '.' && d[strlen(d) - 1] != '.' && !strstr(d, ".."));
}

bool ident_addr_ok(const char *addr)
{
	return addr_check(addr, false);
}

bool ident_addr_sendable(const char *addr)
{
	return addr_check(addr, true);
}

bool ident_glob(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == '?' || tolower((unsigned char)*p) ==
						tolower((unsigned char)*s)) {
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

/* ---- the built-in rules ------------------------------------------------ */

/* Local parts (before any '+') of automated senders and bounce robots,
 * compared whole. */
static const char *const automated_locals[] = {
	"noreply",      "no-reply",      "no_reply",      "donotreply",
	"do-not-reply", "do_not_reply",  "mailer-daemon", "mailerdaemon",
	"postmaster",   "notifications", "notification",  "notify",
	"bounce",       "bounces",       "daemon",        "auto-reply",
	"autoreply",    "abuse",         "reply",         "replies",
	NULL,
};

/* Automated wherever they stand in the local part. */
static const char *const automated_infixes[] = {
	"noreply",      "no-reply",     "no_reply",      "donotreply",
	"do-not-reply", "do_not_reply", "mailer-daemon", NULL,
};

/* Words of a local part that mark notification robots:
 * calendar-notification@google.com. */
static const char *const automated_words[] = {
	"notification",
	"notifications",
	NULL,
};

/* First labels of the domain of automated senders, in a domain of three
 * labels or more: reply+token@reply.github.com, x@bounce.mail.example. */
static const char *const automated_domain_labels[] = {
	"reply",   "replies",  "bounce",        "bounces",
	"noreply", "no-reply", "notifications", NULL,
};

/* Local parts of list addresses and their robots. */
static const char *const list_locals[] = {
	"list",  "lists", "majordomo", "listserv", "mailman",
	"sympa", "users", "devel",     "discuss",  NULL,
};

static const char *const list_local_suffixes[] = {
	"-request",     "-owner",    "-bounces", "-subscribe",
	"-unsubscribe", "-announce", "-devel",   "-users",
	"-list",        "-discuss",  NULL,
};

/* The first label of a domain of three labels or more marks list
 * servers: lists.example.org; and these whole domains. */
static const char *const list_domain_labels[] = {
	"lists", "list", "listserv", "groups", "googlegroups", "mailman", NULL,
};
static const char *const list_domains[] = {
	"googlegroups.com",
	"groups.io",
	NULL,
};

/* Role and bulk mailboxes (RFC 2142 and common practice): the local
 * part, or every word of it (support-team, sales.ops). */
static const char *const role_words[] = {
	"info",         "information",   "support",      "sales",
	"team",         "all",           "everyone",     "hr",
	"admin",        "administrator", "webmaster",    "hostmaster",
	"billing",      "help",          "helpdesk",     "servicedesk",
	"marketing",    "press",         "media",        "pr",
	"feedback",     "service",       "services",     "customerservice",
	"customercare", "care",          "updates",      "update",
	"alerts",       "alert",         "newsletter",   "newsletters",
	"news",         "announce",      "announcement", "announcements",
	"contact",      "contactus",     "enquiries",    "enquiry",
	"inquiries",    "inquiry",       "hello",        "office",
	"reception",    "careers",       "jobs",         "recruiting",
	"recruitment",  "accounts",      "accounting",   "finance",
	"payroll",      "invoices",      "orders",       "legal",
	"privacy",      "security",      "it",           "communications",
	"comms",        "staff",         "events",       "membership",
	"members",      "bookings",      "booking",      "reservations",
	"registration", "subscriptions", "subscribe",    "ops",
	"operations",   "root",          "sysadmin",     "mail",
	"email",        "inbox",         "tickets",      "research",
	"allhands",     "allstaff",      "everybody",    NULL,
};

/* Words that may join role words without making a person of them. */
static const char *const role_joiners[] = {
	"desk",    "dept",     "department", "group",   "center",
	"centre",  "global",   "us",         "uk",      "eu",
	"request", "requests", "report",     "reports", "box",
	"mailbox", "line",     "hands",      NULL,
};

/* Last words that make a role of what comes before: outlook.team@,
 * it-helpdesk@. */
static const char *const role_tails[] = {
	"team", "desk",       "helpdesk", "support", "group", "committee",
	"dept", "department", "office",   "staff",   "admin", NULL,
};

/* Words that mark an expense, approval or workflow robot wherever they
 * stand: expense.report@example.com. */
static const char *const robot_words[] = {
	"expense",     "expenses",      "approval",
	"approvals",   "approve",       "workflow",
	"timesheet",   "timesheets",    "invoice",
	"receipts",    "reimbursement", "reimbursements",
	"procurement", "purchasing",    NULL,
};

static bool in(const char *const *words, const char *s, size_t n)
{
	for (; *words; words++)
		if (strlen(*words) == n && strncasecmp(*words, s, n) == 0)
			return true;
	return false;
}

/* Does s[0..n) contain word (case-insensitive)? */
static bool contains(const char *s, size_t n, const char *word)
{
	size_t m = strlen(word);
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(s + i, word, m) == 0)
			return true;
	return false;
}

/* The words of a local part, split at '.', '-' and '_'. */
typedef struct {
	const char *s[16];
	size_t n[16];
	size_t count;
	bool more; /* over 16 words */
} words_t;

static void split_words(const char *s, size_t n, words_t *w)
{
	w->count = 0;
	w->more = false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && !strchr(".-_", s[i]))
			continue;
		if (i > start) {
			if (w->count == 16) {
				w->more = true;
				return;
			}
			w->s[w->count] = s + start;
			w->n[w->count++] = i - start;
		}
		start = i + 1;
	}
}

static bool any_word(const words_t *w, const char *const *set)
{
	for (size_t i = 0; i < w->count; i++)
		if (in(set, w->s[i], w->n[i]))
			return true;
	return false;
}

/* Every word a role word or a joiner, and one a role word at least. */
static bool role_only(const words_t *w)
{
	bool role = false;
	if (w->more || w->count == 0)
		return false;
	for (size_t i = 0; i < w->count; i++) {
		if (in(role_words, w->s[i], w->n[i]))
			role = true;
		else if (!in(role_joiners, w->s[i], w->n[i]))
			return false;
	}
	return role;
}

/* The local part without '.', '-' and '_', lower case, into buf: no.reply
 * and do.not.reply are noreply and donotreply. */
static size_t squeeze(const char *s, size_t n, char *buf, size_t size)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < size; i++)
		if (!strchr(".-_", s[i]))
			buf[k++] = (char)tolower((unsigned char)s[i]);
	buf[k] = '\0';
	return k;
}

ident_class_t ident_builtin(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t nlocal = at ? (size_t)(at - addr) : strlen(addr);
	const char *domain = at ? at + 1 : "";
	const char *dot = strchr(domain, '.');
	/* the first label counts in a domain of three labels or more */
	size_t nlabel =
		dot && strchr(dot + 1, '.') ? (size_t)(dot - domain) : 0;
	const char *plus = memchr(addr, '+', nlocal);
	size_t nbase = plus ? (size_t)(plus - addr) : nlocal;
	char flat[IDENT_ADDR_MAX + 1];
	size_t nflat = squeeze(addr, nbase, flat, sizeof flat);
	words_t w;

	split_words(addr, nbase, &w);
	if (in(automated_locals, addr, nbase) ||
	    in(automated_locals, flat, nflat) ||
	    strncasecmp(addr, "bounce", 6) == 0 ||
	    any_word(&w, automated_words) ||
	    (nlabel && in(automated_domain_labels, domain, nlabel)))
		return IDENT_AUTOMATED;
	for (const char *const *s = automated_infixes; *s; s++)
		if (contains(addr, nbase, *s) || contains(flat, nflat, *s))
			return IDENT_AUTOMATED;

	if (in(list_locals, addr, nbase) ||
	    strncasecmp(addr, "owner-", 6) == 0 ||
	    (nlabel && in(list_domain_labels, domain, nlabel)) ||
	    in(list_domains, domain, strlen(domain)))
		return IDENT_LIST;
	for (const char *const *s = list_local_suffixes; *s; s++) {
		size_t m = strlen(*s);
		if (nbase > m && strncasecmp(addr + nbase - m, *s, m) == 0)
			return IDENT_LIST;
	}

	if (role_only(&w) || any_word(&w, robot_words) ||
	    (w.count > 1 && !w.more &&
	     in(role_tails, w.s[w.count - 1], w.n[w.count - 1])))
		return IDENT_ROLE;
	return IDENT_CONTACT;
}

static bool any_glob(const strvec_t *patterns, const char *addr)
{
	for (size_t i = 0; patterns && i < patterns->n; i++)
		if (ident_glob(patterns->v[i], addr))
			return true;
	return false;
}

ident_class_t ident_classify(const config_leader_t *l, const ident_extra_t *x,
			     const char *addr)
{
	if (ident_is_sender(l, addr))
		return IDENT_OWN;
	if (any_glob(&l->ignore, addr) || (x && any_glob(x->ignore, addr)))
		return IDENT_IGNORED;
	if (any_glob(&l->keep, addr))
		return IDENT_CONTACT;
	if (x && x->staff && strvec_contains(x->staff, addr))
		return IDENT_OWN;
	if (x && x->others && strvec_contains(x->others, addr))
		return IDENT_ROLE;
	return ident_builtin(addr);
}

const char *ident_circle(const config_leader_t *l, const char *addr)
{
	for (size_t i = 0; i < l->ncircles; i++)
		if (any_glob(&l->circles[i].patterns, addr))
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

/* ---- display names --------------------------------------------------- */

size_t ident_unsafe_len(const unsigned char *s)
{
	size_t n = str_utf8_len(s);
	if (n == 1 && (*s < 0x20 || *s == 0x7f))
		return 1;
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) /* U+0080-U+009F */
		return 2;
	if (n == 3 && s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0xa8 &&
	    s[2] <= 0xae) /* U+2028-U+202E */
		return 3;
	if (n == 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 &&
	    s[2] <= 0xa9) /* U+2066-U+2069 */
		return 3;
	return 0;
}

bool ident_name_is_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	if (n == 0 || p[0] == ' ' || p[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < ' ' || p[i] >= 0x7f ||
		    (p[i] == ' ' && p[i + 1] == ' '))
			return false;
	return true;
}

char *ident_clean_name(char *name)
{
	if (!name)
		return NULL;
	/* kept as it is without the UTF-8 walk below */
	if (ident_name_is_clean(name, strlen(name)))
		return name;
	str_sanitize(name);
	char *w = name;
	bool blank = true; /* drops leading blanks */
	for (const unsigned char *r = (const unsigned char *)name; *r;) {
		size_t n = ident_unsafe_len(r);
		if (n || *r == ' ') {
			if (!blank)
				*w++ = ' ';
			blank = true;
			r += n ? n : 1;
			continue;
		}
		n = str_utf8_len(r); /* not 0: sanitized */
		memmove(w, r, n);
		w += n;
		r += n;
		blank = false;
	}
	if (w > name && w[-1] == ' ')
		w--;
	*w = '\0';
	if (!*name) {
		free(name);
		return NULL;
	}
	return name;
}
