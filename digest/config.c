/*
 * config — the INI file of DESIGN §3 read into an immutable config_t.
 *
 * libinih does the tokenising; everything around it is ours:
 *  - the reader (cfg_reader) counts physical lines, reports a line that
 *    does not fit libinih's 200-byte buffer and skips its remainder, so
 *    the rest of a long line is never parsed as a line of its own;
 *  - the reader also classifies each line exactly as libinih 55 will
 *    (scan_line): section headers never reach the handler, and names of
 *    continued keys and sections are cut at 49 bytes by libinih, so we
 *    track the current section and key ourselves, with their lines;
 *  - the handler (cfg_handler) validates one key, records every error
 *    with its line and always returns 1, so parsing goes on.
 * At the end, errors are sorted by line and handed back as
 * "file:line: message".  Nothing here prints.
 */
#include "config.h"
#include "ident.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_ZONEINFO "/usr/share/zoneinfo"

/* The keys of each section (DESIGN §3). */
enum {
	DK_DATABASE,
	DK_TIMEZONE,
	DK_LOOKBACK,
	DK_TOP,
	DK_TEMPLATES,
	DK_KEEP_SUBJECTS,
	DK_AUTO_MERGE,
	DK_NEGLECT_FACTOR,
	DK_MIN_TOUCHES,
	DK_MIN_SPAN,
	DK_DORMANT_AFTER,
	DK_LOCK_TIMEOUT,
	DK_LOG_FILE,
	DK_TLS_CA_FILE,
	DK_TIMEOUT,
	DK_N
};

static const char *const digest_keys[DK_N] = {
	[DK_DATABASE] = "database",
	[DK_TIMEZONE] = "timezone",
	[DK_LOOKBACK] = "lookback",
	[DK_TOP] = "top",
	[DK_TEMPLATES] = "templates",
	[DK_KEEP_SUBJECTS] = "keep_subjects",
	[DK_AUTO_MERGE] = "auto_merge",
	[DK_NEGLECT_FACTOR] = "neglect_factor",
	[DK_MIN_TOUCHES] = "min_touches",
	[DK_LOCK_TIMEOUT] = "lock_timeout",
	[DK_LOG_FILE] = "log_file",
	[DK_MIN_SPAN] = "min_span",
	[DK_DORMANT_AFTER] = "dormant_after",
	[DK_TLS_CA_FILE] = "tls_ca_file",
	[DK_TIMEOUT] = "timeout",
};

enum {
	SK_URL,
	SK_SENDMAIL,
	SK_USER,
	SK_PASSWORD_COMMAND,
	SK_FROM,
	SK_TLS_CA_FILE,
	SK_N
};

static const char *const smtp_keys[SK_N] = {
	[SK_URL] = "url",   [SK_SENDMAIL] = "sendmail",
	[SK_USER] = "user", [SK_PASSWORD_COMMAND] = "password_command",
	[SK_FROM] = "from", [SK_TLS_CA_FILE] = "tls_ca_file",
};

enum {
	LK_NAME,
	LK_EMAIL,
	LK_ALIASES,
	LK_DELEGATES,
	LK_SEND_TO,
	LK_SENT,
	LK_CALENDAR,
	LK_PASSWORD_COMMAND,
	LK_TIMEZONE,
	LK_IGNORE,
	LK_KEEP,
	LK_IMAP_AUTH,
	LK_N
};

static const char *const leader_keys[LK_N] = {
	[LK_NAME] = "name",         [LK_EMAIL] = "email",
	[LK_ALIASES] = "aliases",   [LK_DELEGATES] = "delegates",
	[LK_SEND_TO] = "send_to",   [LK_SENT] = "sent",
	[LK_CALENDAR] = "calendar", [LK_PASSWORD_COMMAND] = "password_command",
	[LK_TIMEZONE] = "timezone", [LK_IGNORE] = "ignore",
	[LK_KEEP] = "keep",         [LK_IMAP_AUTH] = "imap_auth",
};

/* Leader keys that may be repeated (their values accumulate). */
#define LK_REPEATABLE                                                          \
	((1u << LK_ALIASES) | (1u << LK_DELEGATES) | (1u << LK_SENT) |         \
	 (1u << LK_CALENDAR) | (1u << LK_IGNORE) | (1u << LK_KEEP))

typedef enum {
	SEC_NONE, /* before the first section header */
	SEC_DIGEST,
	SEC_SMTP,
	SEC_LEADER,
	SEC_SKIP, /* a bad section, already reported: its keys are ignored */
} section_t;

typedef struct {
	int line;
	size_t seq;
	char *msg;
} perror_t;

typedef struct {
	int seen[LK_N]; /* line where each key was first set, or 0 */
} leader_state_t;

typedef struct {
	const char *file;
	FILE *fp;
	int line;       /* physical line just handed to libinih */
	int read_errno; /* set when reading failed */
	config_t *cfg;

	/* What scan_line saw on the current line. */
	char *prev_name;   /* full name of the last key=value line */
	const char *key;   /* the key of this line, or NULL */
	bool continuation; /* this line is an indented continuation */

	/* The current section. */
	section_t sec;
	char *sec_label; /* "[leader alex]", for messages */
	size_t leader;   /* index in cfg->leaders when sec == SEC_LEADER */

	int digest_seen[DK_N];
	int smtp_seen[SK_N];
	leader_state_t *lstate; /* parallel to cfg->leaders */
	size_t lcap;

	perror_t *errs;
	size_t nerrs, errcap;
} parse_t;

/* ---- errors ---------------------------------------------------------- */

static void add_error(parse_t *p, int line, const char *fmt, ...)
	UTIL_PRINTF(3, 4);

static void add_error(parse_t *p, int line, const char *fmt, ...)
{
	strbuf_t b = {0};
	va_list ap;
	char *what;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	what = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(what, (size_t)n + 1, fmt, ap);
	va_end(ap);

	if (line > 0)
		sb_printf(&b, "%s:%d: %s", p->file, line, what);
	else
		sb_printf(&b, "%s: %s", p->file, what);
	free(what);

	if (p->nerrs == p->errcap) {
		p->errcap = p->errcap ? p->errcap * 2 : 8;
		p->errs = xrealloc(p->errs, p->errcap * sizeof *p->errs);
	}
	p->errs[p->nerrs].line = line;
	p->errs[p->nerrs].seq = p->nerrs;
	p->errs[p->nerrs].msg = str_sanitize(sb_steal(&b));
	p->nerrs++;
}

static bool has_error_at(const parse_t *p, int line)
{
	for (size_t i = 0; i < p->nerrs; i++)
		if (p->errs[i].line == line)
			return true;
	return false;
}

static int perror_cmp(const void *a, const void *b)
{
	const perror_t *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- small parsers ----------------------------------------------------- */

bool config_parse_duration(const char *s, int64_t *secs)
{
	int64_t n = 0, unit;

	if (!s || !isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		int d = *s - '0';
		if (n > (INT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	switch (*s) {
	case '\0':
		/* Only a bare zero needs no unit. */
		if (n != 0)
			return false;
		*secs = 0;
		return true;
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return false;
	}
	if (s[1] != '\0' || n > INT64_MAX / unit)
		return false;
	*secs = n * unit;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* A whole number >= 1, digits only. */
static bool parse_positive(const char *s, int *out)
{
	long n = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		n = n * 10 + (*s - '0');
		if (n > INT_MAX)
			return false;
	}
	if (*s || n < 1)
		return false;
	*out = (int)n;
	return true;
}

/* A decimal number > 0 ("2", "2.5", ".5"), independent of the locale. */
static bool parse_factor(const char *s, double *out)
{
	double v = 0, scale = 0.1;
	bool digits = false;

	for (; isdigit((unsigned char)*s); s++, digits = true)
		v = v * 10 + (*s - '0');
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++, digits = true) {
			v += (*s - '0') * scale;
			scale /= 10;
		}
	if (!digits || *s || !(v > 0))
		return false;
	*out = v;
	return true;
}

/* Letters, digits, '-', '_' and '.', at least one. */
static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return false;
	return true;
}

static bool zone_ok(const char *tz)
{
	char *path = NULL;
	char magic[4];
	bool ok = false;
	int fd = -1;

	if (strcmp(tz, "UTC") == 0)
		return true;
	if (!*tz || tz[0] == '/' || strstr(tz, ".."))
		return false;
	for (const char *s = tz; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("/_-+.", *s))
			return false;
	path = xasprintf("%s/%s", CONFIG_ZONEINFO, tz);
	/* zone.tab, leapseconds and friends are regular files too. */
	fd = open_regular(path, 0, NULL, NULL);
	if (fd < 0)
		goto done;
	ok = read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
	     memcmp(magic, "TZif", 4) == 0;
done:
	if (fd >= 0)
		close(fd);
	free(path);
	return ok;
}

/* The zone named after ".../zoneinfo/" in s (posix/ and right/ dropped),
 * or s itself; NULL when that is not a zone. */
static const char *zone_from_path(const char *s)
{
	const char *z = strstr(s, "zoneinfo/");

	if (z) {
		s = z + strlen("zoneinfo/");
		if (str_starts(s, "posix/"))
			s += strlen("posix/");
	}
	return zone_ok(s) ? s : NULL;
}

/* The system zone: $TZ, /etc/localtime, /etc/timezone, else UTC.  A value
 * that names no zone falls through to the next.  Caller frees. */
static char *system_zone(void)
{
	const char *tz = getenv("TZ"), *z;
	char buf[PATH_MAX];
	char *result = NULL;
	ssize_t n;
	FILE *fp = NULL;

	if (tz && *tz) {
		if (*tz == ':')
			tz++;
		if ((z = zone_from_path(tz))) {
			result = xstrdup(z);
			goto done;
		}
	}
	n = readlink("/etc/localtime", buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = '\0';
		if ((z = zone_from_path(buf))) {
			result = xstrdup(z);
			goto done;
		}
	}
	fp = fopen("/etc/timezone", "r");
	if (fp && fgets(buf, sizeof buf, fp)) {
		z = str_trim(buf);
		if (zone_ok(z)) {
			result = xstrdup(z);
			goto done;
		}
	}
	result = xstrdup("UTC");
done:
	if (fp)
		fclose(fp);
	return result;
}

/* ---- paths ------------------------------------------------------------- */

static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && *home)
		return home;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "";
}

static size_t var_name_len(const char *s)
{
	size_t n = 0;

	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

static void put_var(strbuf_t *b, const char *name, size_t n, char **unset)
{
	char *var = xstrndup(name, n);
	const char *val = getenv(var);

	if (val)
		sb_puts(b, val);
	else if (unset && !*unset)
		*unset = var, var = NULL;
	free(var);
}

char *config_expand_path(const char *s, char **unset)
{
	strbuf_t b = {0};

	if (!s)
		return NULL;
	if (s[0] == '~' && (s[1] == '\0' || s[1] == '/')) {
		sb_puts(&b, home_dir());
		s++;
	}
	while (*s) {
		size_t n;

		if (s[0] == '$' && s[1] == '{') {
			n = var_name_len(s + 2);
			if (n && s[2 + n] == '}') {
				put_var(&b, s + 2, n, unset);
				s += n + 3;
				continue;
			}
		} else if (s[0] == '$' && (n = var_name_len(s + 1))) {
			put_var(&b, s + 1, n, unset);
			s += n + 1;
			continue;
		}
		sb_putc(&b, *s++);
	}
	return sb_steal(&b);
}

/* $VAR/digest/FILE when the XDG base directory variable VAR is set to an
 * absolute path (the specification ignores relative ones), else
 * ~/FALLBACK/digest/FILE.  Caller frees. */
static char *config_xdg_path(const char *var, const char *fallback,
			     const char *file)
{
	const char *dir = getenv(var);

	if (dir && dir[0] == '/')
		return xasprintf("%s/digest/%s", dir, file);
	return xasprintf("%s/%s/digest/%s", home_dir(), fallback, file);
}

char *config_default_path(void)
{
	const char *env = getenv("DIGEST_CONFIG");

	if (env && *env)
		return xstrdup(env);
	return config_xdg_path("XDG_CONFIG_HOME", ".config", "digest.ini");
}

/* ---- URLs -------------------------------------------------------------- */

/* Length of "scheme" when s starts with "scheme://", else 0. */
static size_t url_scheme_len(const char *s)
{
	size_t n = 0;

	if (!isalpha((unsigned char)*s))
		return 0;
	while (isalnum((unsigned char)s[n]) || strchr("+.-", s[n]))
		n++;
	return s[n] == ':' && s[n + 1] == '/' && s[n + 2] == '/' ? n : 0;
}

static bool scheme_is(const char *url, size_t n, const char *scheme)
{
	return strlen(scheme) == n && strncasecmp(url, scheme, n) == 0;
}

/* The authority of a URL: [user[:pass]@]host[:port], as [*start, *end). */
static void url_authority(const char *url, const char **start, const char **end)
{
	*start = url + url_scheme_len(url) + 3;
	*end = *start + strcspn(*start, "/?#");
}

static bool url_has_password(const char *url)
{
	const char *a, *e, *at = NULL, *colon;

	url_authority(url, &a, &e);
	for (const char *s = a; s < e; s++)
		if (*s == '@')
			at = s;
	if (!at)
		return false;
	colon = memchr(a, ':', (size_t)(at - a));
	return colon && colon + 1 < at;
}

/* Percent-decode [s, e) (RFC 3986 §2.1); NULL when an escape is bad or
 * decodes to a control character.  Caller frees. */
static char *url_decode(const char *s, const char *e)
{
	strbuf_t b = {0};

	while (s < e) {
		int c = (unsigned char)*s++;
		if (c == '%') {
			if (e - s < 2 || !isxdigit((unsigned char)s[0]) ||
			    !isxdigit((unsigned char)s[1]))
				goto bad;
			char hex[3] = {s[0], s[1], 0};
			c = (int)strtol(hex, NULL, 16);
			s += 2;
		}
		if (c < 0x20 || c == 0x7f)
			goto bad;
		sb_putc(&b, (char)c);
	}
	if (!b.s)
		sb_puts(&b, "");
	return sb_steal(&b);
bad:
	sb_free(&b);
	return NULL;
}

/* The parts of imap[s]://[user@]host[:port][/folder] into src; false
 * with *why set on a bad URL. */
static bool imap_url(const char *url, config_source_t *src, const char **why)
{
	const char *a, *e, *at = NULL, *h, *he, *port = NULL;

	url_authority(url, &a, &e);
	src->implicit_tls = url_scheme_len(url) == 5;
	src->port = src->implicit_tls ? 993 : 143;
	for (const char *c = a; c < e; c++)
		if (*c == '@')
			at = c;
	h = at ? at + 1 : a;
	if (*h == '[') {
		he = memchr(h, ']', (size_t)(e - h));
		if (!he) {
			*why = "missing ']'";
			return false;
		}
		he++;
	} else {
		he = memchr(h, ':', (size_t)(e - h));
		if (!he)
			he = e;
	}
	if (he < e && *he == ':')
		port = he + 1;
	else if (he != e) {
		*why = "bad host";
		return false;
	}
	if (port) {
		char *end;
		long v = strtol(port, &end, 10);
		if (port == e || end != e || v < 1 || v > 65535 ||
		    !isdigit((unsigned char)*port)) {
			*why = "bad port";
			return false;
		}
		src->port = (int)v;
	}
	if (*h == '[') {
		src->host = xstrndup(h + 1, (size_t)(he - h - 2));
	} else {
		src->host = url_decode(h, he);
	}
	if (!src->host || !*src->host) {
		*why = "no host";
		return false;
	}
	for (const char *c = src->host; *c; c++)
		if (isspace((unsigned char)*c) || strchr("/?#@", *c)) {
			*why = "bad host";
			return false;
		}
	if (at && !(src->user = url_decode(a, at))) {
		*why = "bad user";
		return false;
	}
	if (src->user && !*src->user) {
		free(src->user);
		src->user = NULL;
	}
	if (strpbrk(e, "?#")) {
		*why = "no query or fragment allowed";
		return false;
	}
	if (*e == '/' && e[1]) {
		const char *f = e + 1, *fe = f + strlen(f);
		while (fe > f && fe[-1] == '/')
			fe--;
		if (!(src->folder = url_decode(f, fe)) || !*src->folder) {
			*why = "bad folder";
			return false;
		}
	}
	return true;
}

static bool url_has_host(const char *url)
{
	const char *a, *e, *host;

	url_authority(url, &a, &e);
	host = a;
	for (const char *s = a; s < e; s++)
		if (*s == '@')
			host = s + 1;
	return host < e && *host != ':';
}

/* ---- sections ---------------------------------------------------------- */

static config_leader_t *cur_leader(parse_t *p)
{
	return &p->cfg->leaders[p->leader];
}

static void open_leader(parse_t *p, const char *id)
{
	config_t *cfg = p->cfg;

	if (!*id) {
		add_error(p, p->line,
			  "[leader] needs an id, as in [leader alex]");
		return;
	}
	if (!name_ok(id) || id[0] == '.') {
		add_error(p, p->line,
			  "bad leader id '%s' (use letters, digits, '-', '_' "
			  "and '.')",
			  id);
		return;
	}
	for (size_t i = 0; i < cfg->nleaders; i++) {
		if (strcmp(cfg->leaders[i].id, id) == 0) {
			add_error(p, p->line,
				  "duplicate [leader %s] (first at line %d)",
				  id, cfg->leaders[i].line);
			return;
		}
	}
	if (cfg->nleaders == p->lcap) {
		p->lcap = p->lcap ? p->lcap * 2 : 4;
		cfg->leaders =
			xrealloc(cfg->leaders, p->lcap * sizeof *cfg->leaders);
		p->lstate = xrealloc(p->lstate, p->lcap * sizeof *p->lstate);
	}
	p->leader = cfg->nleaders++;
	memset(cur_leader(p), 0, sizeof *cur_leader(p));
	memset(&p->lstate[p->leader], 0, sizeof *p->lstate);
	cur_leader(p)->id = xstrdup(id);
	cur_leader(p)->line = p->line;
	p->sec = SEC_LEADER;
	free(p->sec_label);
	p->sec_label = xasprintf("[leader %s]", id);
}

/* A section header; raw is the text between the brackets. */
static void open_section(parse_t *p, const char *raw)
{
	char *copy = xstrdup(raw);
	char *name = str_trim(copy);

	p->sec = SEC_SKIP;
	free(p->sec_label);
	p->sec_label = xasprintf("[%s]", name);
	if (strcmp(name, "digest") == 0) {
		p->sec = SEC_DIGEST;
	} else if (strcmp(name, "smtp") == 0) {
		p->sec = SEC_SMTP;
		p->cfg->smtp.present = true;
	} else if (str_starts(name, "leader") &&
		   (name[6] == '\0' || isspace((unsigned char)name[6]))) {
		open_leader(p, str_trim(name + 6));
	} else {
		add_error(p, p->line, "unknown section [%s]", name);
	}
	free(copy);
}

/*
 * libinih's find_chars_or_comment(): the first of chars, or an inline
 * comment (';' after whitespace), or the end.
 */
static char *find_chars_or_comment(char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/*
 * Classify the line as libinih 55 will (ini.c, ini_parse_stream): blank
 * or comment, continuation of the previous key, section header, key =
 * value, or a syntax error.  Opens sections, and sets p->key for the
 * handler call libinih is about to make for this line.
 */
static void scan_line(parse_t *p, const char *buf)
{
	const char *s = buf;
	char *line = NULL, *start, *end;
	size_t n;

	p->key = NULL;
	p->continuation = false;
	if (p->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (*s && isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || *s == ';' || *s == '#')
		goto done;
	if (p->prev_name && *p->prev_name && s > buf) {
		p->key = p->prev_name;
		p->continuation = true;
		goto done;
	}
	line = xstrndup(s, n);
	start = line;
	if (*start == '[') {
		end = find_chars_or_comment(start + 1, "]");
		if (*end != ']') {
			add_error(p, p->line, "syntax error: missing ']'");
			goto done;
		}
		*end = '\0';
		free(p->prev_name);
		p->prev_name = NULL;
		open_section(p, start + 1);
		goto done;
	}
	end = find_chars_or_comment(start, "=:");
	if (*end != '=' && *end != ':') {
		add_error(p, p->line,
			  "syntax error: expected [section] or key = value");
		goto done;
	}
	*end = '\0';
	free(p->prev_name);
	p->prev_name = xstrdup(str_trim(start));
	p->key = p->prev_name;
done:
	free(line);
}

/*
 * The fgets-style reader given to libinih: one physical line per call.
 * A line that does not fit is reported and replaced by an empty line,
 * its remainder skipped, so that line numbers stay right.
 */
static char *cfg_reader(char *buf, int size, void *stream)
{
	parse_t *p = stream;
	bool too_long = false, nul = false;
	size_t n;
	int c;

	/* Stale bytes are never '\n': a NUL byte in the line is found. */
	memset(buf, 0xff, (size_t)size);
	if (!fgets(buf, size, p->fp)) {
		if (ferror(p->fp))
			p->read_errno = errno ? errno : EIO;
		return NULL;
	}
	p->line++;
	n = strlen(buf);
	if (n == 0 || buf[n - 1] != '\n') {
		if (memchr(buf, '\n', (size_t)size - 1)) {
			nul = true; /* the line ended after a NUL byte */
		} else if (!feof(p->fp)) {
			nul = n < (size_t)size - 1;
			/* The rest of this physical line; blanks are fine. */
			while ((c = getc(p->fp)) != EOF && c != '\n')
				if (!isspace(c))
					too_long = true;
			too_long = too_long && !nul;
		}
	}
	if (too_long)
		add_error(p, p->line,
			  "line too long (split long lists over repeated "
			  "keys)");
	else if (nul)
		add_error(p, p->line, "NUL byte in line");
	if (too_long || nul)
		strcpy(buf, "\n");
	scan_line(p, buf);
	return buf;
}

/* ---- keys -------------------------------------------------------------- */

static int key_index(const char *const *keys, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return i;
	return -1;
}

/* Record the first setting of a key; false (and an error) on the second. */
static bool first_time(parse_t *p, int *seen, const char *key)
{
	if (*seen) {
		add_error(p, p->line,
			  "'%s' given twice in %s (first at line %d%s)", key,
			  p->sec_label, *seen,
			  p->continuation ? "; an indented line continues "
					    "the key above"
					  : "");
		return false;
	}
	*seen = p->line;
	return true;
}

static bool need_value(parse_t *p, const char *key, const char *value)
{
	if (*value)
		return true;
	add_error(p, p->line, "'%s' needs a value", key);
	return false;
}

/* An expanded, non-empty path, or NULL after an error.  A relative path
 * is read from the directory of the config file, so that a config and the
 * mail beside it can move together (and cron's working directory does not
 * matter). */
static char *get_path(parse_t *p, const char *key, const char *value)
{
	char *unset = NULL;
	char *path = config_expand_path(value, &unset);

	if (unset) {
		add_error(p, p->line, "'%s' uses $%s, which is not set", key,
			  unset);
		free(unset);
		free(path);
		return NULL;
	}
	if (!*path) {
		add_error(p, p->line, "'%s' expands to an empty path", key);
		free(path);
		return NULL;
	}
	const char *slash = strrchr(p->file, '/');
	if (path[0] != '/' && slash) {
		char *abs = xasprintf("%.*s/%s", (int)(slash - p->file),
				      p->file, path);
		free(path);
		path = abs;
	}
	return path;
}

static bool get_zone(parse_t *p, const char *value, char **out)
{
	if (!zone_ok(value)) {
		add_error(p, p->line,
			  "unknown timezone '%s' (a zone name such as "
			  "Europe/Berlin, or UTC)",
			  value);
		return false;
	}
	*out = xstrdup(value);
	return true;
}

static bool get_duration(parse_t *p, const char *key, const char *value,
			 int64_t *out)
{
	if (!config_parse_duration(value, out)) {
		add_error(p, p->line,
			  "'%s' must be a duration such as 30d, 6w, 12h, 15m "
			  "or 10s, not '%s'",
			  key, value);
		return false;
	}
	return true;
}

static void get_bool(parse_t *p, const char *key, const char *value, bool *out)
{
	if (!parse_bool(value, out))
		add_error(p, p->line, "'%s' must be yes or no, not '%s'", key,
			  value);
}

static void get_positive(parse_t *p, const char *key, const char *value,
			 int *out)
{
	if (!parse_positive(value, out))
		add_error(p, p->line,
			  "'%s' must be a whole number of at least 1, not '%s'",
			  key, value);
}

static bool check_url_password(parse_t *p, const char *key, const char *url)
{
	if (url_scheme_len(url) && url_has_password(url)) {
		add_error(p, p->line,
			  "'%s' has a password in its URL: use "
			  "password_command instead",
			  key);
		return false;
	}
	return true;
}

static void digest_key(parse_t *p, const char *key, const char *value)
{
	config_t *cfg = p->cfg;
	int k = key_index(digest_keys, DK_N, key);
	int64_t secs;

	if (k < 0) {
		add_error(p, p->line, "unknown key '%s' in %s", key,
			  p->sec_label);
		return;
	}
	if (!first_time(p, &p->digest_seen[k], key) ||
	    !need_value(p, key, value))
		return;
	switch (k) {
	case DK_DATABASE:
		cfg->database = get_path(p, key, value);
		break;
	case DK_TEMPLATES:
		cfg->templates = get_path(p, key, value);
		break;
	case DK_LOG_FILE:
		cfg->log_file = get_path(p, key, value);
		break;
	case DK_TLS_CA_FILE:
		cfg->tls_ca_file = get_path(p, key, value);
		break;
	case DK_TIMEZONE:
		get_zone(p, value, &cfg->timezone);
		break;
	case DK_LOOKBACK:
		if (!get_duration(p, key, value, &secs))
			break;
		if (secs <= 0)
			add_error(p, p->line,
				  "'lookback' must be longer than 0");
		else
			cfg->lookback = secs;
		break;
	case DK_MIN_SPAN:
	case DK_DORMANT_AFTER:
		if (!get_duration(p, key, value, &secs))
			break;
		if (secs <= 0)
			add_error(p, p->line, "'%s' must be longer than 0",
				  key);
		else if (k == DK_MIN_SPAN)
			cfg->min_span = secs;
		else
			cfg->dormant_after = secs;
		break;
	case DK_TIMEOUT:
		if (!get_duration(p, key, value, &secs))
			break;
		if (secs <= 0 || secs > 3600)
			add_error(
				p, p->line,
				"'timeout' must be between 1s and 1h, not '%s'",
				value);
		else
			cfg->timeout = (int)secs;
		break;
	case DK_LOCK_TIMEOUT:
		if (!get_duration(p, key, value, &secs))
			break;
		if (secs > INT64_MAX / 1000)
			add_error(p, p->line, "'lock_timeout' is too long");
		else
			cfg->lock_timeout_ms = secs * 1000;
		break;
	case DK_TOP:
		get_positive(p, key, value, &cfg->top);
		break;
	case DK_MIN_TOUCHES:
		get_positive(p, key, value, &cfg->min_touches);
		break;
	case DK_KEEP_SUBJECTS:
		get_bool(p, key, value, &cfg->keep_subjects);
		break;
	case DK_AUTO_MERGE:
		get_bool(p, key, value, &cfg->auto_merge);
		break;
	case DK_NEGLECT_FACTOR:
		if (!parse_factor(value, &cfg->neglect_factor))
			add_error(p, p->line,
				  "'neglect_factor' must be a number greater "
				  "than 0, not '%s'",
				  value);
		break;
	}
}

/* The address in "Name <addr>" or a bare "addr". */
static bool from_ok(const char *value)
{
	const char *lt = strrchr(value, '<'), *gt;
	char *addr;
	bool ok;

	if (!lt)
		return ident_addr_sendable(value);
	gt = strchr(lt, '>');
	if (!gt)
		return false;
	addr = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	ok = ident_addr_sendable(str_trim(addr));
	free(addr);
	return ok;
}

static void smtp_sendmail(parse_t *p, const char *value)
{
	strvec_t *argv = &p->cfg->smtp.sendmail;
	const char *s = value;

	while (*s) {
		size_t n = strcspn(s, " \t");

		if (n) {
			char *word = xstrndup(s, n);

			if (argv->n == 0) {
				char *unset = NULL;

				strvec_take(argv,
					    config_expand_path(word, &unset));
				if (unset)
					add_error(
						p, p->line,
						"'sendmail' uses $%s, which is "
						"not set",
						unset);
				free(unset);
				free(word);
			} else {
				strvec_take(argv, word);
			}
		}
		s += n;
		s += strspn(s, " \t");
	}
	if (argv->n && !*argv->v[0])
		add_error(p, p->line, "'sendmail' expands to an empty command");
}

static void smtp_key(parse_t *p, const char *key, const char *value)
{
	config_smtp_t *smtp = &p->cfg->smtp;
	int k = key_index(smtp_keys, SK_N, key);

	if (k < 0) {
		add_error(p, p->line, "unknown key '%s' in %s", key,
			  p->sec_label);
		return;
	}
	if (!first_time(p, &p->smtp_seen[k], key) || !need_value(p, key, value))
		return;
	switch (k) {
	case SK_URL:
		if (!check_url_password(p, key, value))
			break;
		if (!(url_scheme_len(value) &&
		      (scheme_is(value, url_scheme_len(value), "smtp") ||
		       scheme_is(value, url_scheme_len(value), "smtps")) &&
		      url_has_host(value))) {
			add_error(p, p->line,
				  "'url' must be smtp://HOST[:PORT] or "
				  "smtps://HOST[:PORT], not '%s'",
				  value);
			break;
		}
		smtp->url = xstrdup(value);
		break;
	case SK_SENDMAIL:
		smtp_sendmail(p, value);
		break;
	case SK_USER:
		smtp->user = xstrdup(value);
		break;
	case SK_PASSWORD_COMMAND:
		smtp->password_command = xstrdup(value);
		break;
	case SK_FROM:
		if (!from_ok(value))
			add_error(p, p->line,
				  "'from' has no email address: '%s'", value);
		else
			smtp->from = xstrdup(value);
		break;
	case SK_TLS_CA_FILE:
		smtp->tls_ca_file = get_path(p, key, value);
		break;
	}
}

/* Split a comma-separated list into sv, trimmed and lower-cased, empty
 * elements dropped, each checked as an address or as a pattern. */
static void add_list(parse_t *p, const char *key, const char *value,
		     strvec_t *sv, bool addresses)
{
	char *copy = xstrdup(value);
	char *save = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *item = str_lower(str_trim(tok));
		bool ok = true;

		if (!*item)
			continue;
		if (addresses) {
			ok = ident_addr_ok(item);
			if (!ok)
				add_error(p, p->line,
					  "not an email address in '%s': '%s'",
					  key, item);
		} else {
			for (char *c = item; *c && ok; c++)
				ok = !isspace((unsigned char)*c) &&
				     !iscntrl((unsigned char)*c);
			if (!ok)
				add_error(p, p->line,
					  "bad pattern in '%s': '%s'", key,
					  item);
		}
		if (ok && !strvec_contains(sv, item))
			strvec_push(sv, item);
	}
	free(copy);
}

static void add_source(parse_t *p, const char *key, const char *value,
		       bool calendar)
{
	config_leader_t *l = cur_leader(p);
	config_source_t src = {.line = p->line};
	size_t sn = url_scheme_len(value);
	struct stat st;

	if (!check_url_password(p, key, value))
		return;
	if (sn) {
		bool ok = calendar ? scheme_is(value, sn, "https") ||
					     scheme_is(value, sn, "webcal") ||
					     scheme_is(value, sn, "webcals")
				   : scheme_is(value, sn, "imap") ||
					     scheme_is(value, sn, "imaps");
		if (calendar && scheme_is(value, sn, "http")) {
			/* A calendar's URL is often its secret. */
			add_error(p, p->line,
				  "'%s' must not be a plain http:// URL: use "
				  "https://",
				  key);
			return;
		}
		if (!ok) {
			add_error(
				p, p->line,
				calendar ? "'%s' must be a path or an "
					   "https:// or webcal:// URL, not '%s'"
					 : "'%s' must be maildir:PATH, "
					   "mbox:PATH, imap://, imaps:// or "
					   "a path, not '%s'",
				key, value);
			return;
		}
		if (!url_has_host(value)) {
			/* A calendar's URL may be its secret: not echoed. */
			if (calendar)
				add_error(p, p->line,
					  "'%s' has no host in its URL", key);
			else
				add_error(p, p->line,
					  "'%s' has no host in its URL: '%s'",
					  key, value);
			return;
		}
		src.kind = calendar ? SRC_HTTP : SRC_IMAP;
		const char *why = NULL;
		if (!calendar && !imap_url(value, &src, &why)) {
			add_error(p, p->line,
				  "'%s' is not an IMAP URL (%s): '%s'", key,
				  why, value);
			free(src.user);
			free(src.host);
			free(src.folder);
			return;
		}
		src.path = xstrdup(value);
	} else if (!calendar && str_starts(value, "maildir:")) {
		const char *path = value + strlen("maildir:");
		size_t n = strlen(path);
		src.kind = SRC_MAILDIR;
		if (n >= 2 && strcmp(path + n - 2, "**") == 0 &&
		    (n == 2 || path[n - 3] == '/')) {
			char *dir = n == 2 ? xstrdup(".")
					   : xstrndup(path, n - 3 ? n - 3 : 1);
			src.recursive = true;
			src.path = get_path(p, key, dir);
			free(dir);
		} else {
			src.path = get_path(p, key, path);
		}
	} else if (!calendar && str_starts(value, "mbox:")) {
		src.kind = SRC_MBOX;
		src.path = get_path(p, key, value + strlen("mbox:"));
	} else {
		src.path = get_path(p, key, value);
		if (calendar)
			src.kind = SRC_ICS;
		else if (src.path && stat(src.path, &st) == 0 &&
			 S_ISDIR(st.st_mode))
			src.kind = SRC_MAILDIR;
		else
			src.kind = SRC_MBOX;
	}
	if (!src.path)
		return;
	src.spec = xstrdup(value);
	if (calendar) {
		l->calendar = xrealloc(
			l->calendar, (l->ncalendar + 1) * sizeof *l->calendar);
		l->calendar[l->ncalendar++] = src;
	} else {
		l->sent = xrealloc(l->sent, (l->nsent + 1) * sizeof *l->sent);
		l->sent[l->nsent++] = src;
	}
}

static void add_circle(parse_t *p, const char *key, const char *value)
{
	config_leader_t *l = cur_leader(p);
	const char *name = key + strlen("circle.");
	config_circle_t *c = NULL;

	if (!name_ok(name)) {
		add_error(p, p->line,
			  "bad circle name in '%s' (use letters, digits, '-', "
			  "'_' and '.')",
			  key);
		return;
	}
	for (size_t i = 0; i < l->ncircles; i++)
		if (strcmp(l->circles[i].name, name) == 0)
			c = &l->circles[i];
	if (!c) {
		l->circles = xrealloc(l->circles,
				      (l->ncircles + 1) * sizeof *l->circles);
		c = &l->circles[l->ncircles++];
		memset(c, 0, sizeof *c);
		c->name = xstrdup(name);
	}
	add_list(p, key, value, &c->patterns, false);
}

static void leader_key(parse_t *p, const char *key, const char *value)
{
	config_leader_t *l = cur_leader(p);
	int *seen = p->lstate[p->leader].seen;
	int k;

	if (str_starts(key, "circle.")) {
		add_circle(p, key, value);
		return;
	}
	k = key_index(leader_keys, LK_N, key);
	if (k < 0) {
		add_error(p, p->line, "unknown key '%s' in %s", key,
			  p->sec_label);
		return;
	}
	if (LK_REPEATABLE & (1u << k)) {
		if (!seen[k])
			seen[k] = p->line;
	} else if (!first_time(p, &seen[k], key)) {
		return;
	}
	switch (k) {
	case LK_ALIASES:
		add_list(p, key, value, &l->aliases, true);
		return;
	case LK_DELEGATES:
		add_list(p, key, value, &l->delegates, true);
		return;
	case LK_IGNORE:
		add_list(p, key, value, &l->ignore, false);
		return;
	case LK_KEEP:
		add_list(p, key, value, &l->keep, false);
		return;
	}
	if (!need_value(p, key, value))
		return;
	switch (k) {
	case LK_NAME:
		l->name = xstrdup(value);
		break;
	case LK_EMAIL:
	case LK_SEND_TO:
		if (!ident_addr_sendable(value)) {
			add_error(p, p->line,
				  "not an email address in '%s': '%s'", key,
				  value);
			break;
		}
		if (k == LK_EMAIL)
			l->email = str_lower(xstrdup(value));
		else
			l->send_to = xstrdup(value);
		break;
	case LK_SENT:
		add_source(p, key, value, false);
		break;
	case LK_CALENDAR:
		add_source(p, key, value, true);
		break;
	case LK_PASSWORD_COMMAND:
		l->password_command = xstrdup(value);
		break;
	case LK_IMAP_AUTH: {
		static const char *const auths[] = {"login", "plain", "xoauth2",
						    "oauthbearer"};
		int a = key_index(auths, 4, value);
		if (a < 0)
			add_error(
				p, p->line,
				"'imap_auth' must be login, plain, xoauth2 or "
				"oauthbearer, not '%s'",
				value);
		else
			l->imap_auth = (config_imap_auth_t)a;
		break;
	}
	case LK_TIMEZONE:
		get_zone(p, value, &l->timezone);
		break;
	}
}

/* Called by libinih for every key = value and every continuation line. */
static int cfg_handler(void *user, const char *section, const char *name,
		       const char *value)
{
	parse_t *p = user;
	/* Our own copy: libinih cuts a continued key's name at 49 bytes. */
	const char *key = p->key ? p->key : name;

	(void)section; /* also cut at 49 bytes; p->sec is the truth */
	if (strcasecmp(key, "password") == 0) {
		add_error(p, p->line,
			  "'password' is not allowed: use password_command");
		return 1;
	}
	switch (p->sec) {
	case SEC_NONE:
		add_error(p, p->line, "key '%s' outside of any section", key);
		break;
	case SEC_SKIP:
		break;
	case SEC_DIGEST:
		digest_key(p, key, value);
		break;
	case SEC_SMTP:
		smtp_key(p, key, value);
		break;
	case SEC_LEADER:
		leader_key(p, key, value);
		break;
	}
	return 1;
}

/* ---- the whole file ---------------------------------------------------- */

/* Checks that need the whole file, and the defaults. */
static void finish(parse_t *p)
{
	config_t *cfg = p->cfg;
	int url = p->smtp_seen[SK_URL], sendmail = p->smtp_seen[SK_SENDMAIL];

	if (url && sendmail)
		add_error(p, url > sendmail ? url : sendmail,
			  "[smtp] has both 'url' (line %d) and 'sendmail' "
			  "(line %d): use one of them",
			  url, sendmail);
	if (!cfg->timezone)
		cfg->timezone = system_zone();
	if (!cfg->database)
		cfg->database = config_xdg_path("XDG_DATA_HOME", ".local/share",
						"digest.db");
	if (!cfg->log_file)
		cfg->log_file = config_xdg_path("XDG_STATE_HOME",
						".local/state", "digest.log");
	for (size_t i = 0; i < cfg->nleaders; i++) {
		config_leader_t *l = &cfg->leaders[i];

		if (!l->email && !p->lstate[i].seen[LK_EMAIL])
			add_error(p, l->line, "[leader %s] has no 'email'",
				  l->id);
		if (!l->nsent && !l->ncalendar && !p->lstate[i].seen[LK_SENT] &&
		    !p->lstate[i].seen[LK_CALENDAR])
			add_error(p, l->line,
				  "[leader %s] has no 'sent' or 'calendar' "
				  "source",
				  l->id);
		if (!l->send_to && l->email)
			l->send_to = xstrdup(l->email);
		for (size_t k = 0; k < l->nsent; k++) {
			config_source_t *src = &l->sent[k];
			if (src->kind != SRC_IMAP)
				continue;
			if (!src->user && l->email)
				src->user = xstrdup(l->email);
			if (!l->password_command)
				add_error(p, src->line,
					  "[leader %s] reads IMAP but has no "
					  "'password_command'%s",
					  l->id,
					  l->imap_auth >= IMAP_AUTH_XOAUTH2
						  ? " (it prints the access "
						    "token)"
						  : "");
		}
		if (!l->timezone)
			l->timezone = xstrdup(cfg->timezone);
	}
}

static void parse_free(parse_t *p)
{
	for (size_t i = 0; i < p->nerrs; i++)
		free(p->errs[i].msg);
	free(p->errs);
	free(p->lstate);
	free(p->prev_name);
	free(p->sec_label);
}

status_t config_load(const char *path, config_t **out, strvec_t *errors)
{
	parse_t p = {.file = path};
	status_t st = ST_OK;
	struct stat sb = {0};
	int fd, rc;

	*out = NULL;
	p.cfg = xcalloc(1, sizeof *p.cfg);
	p.cfg->file = xstrdup(path);
	p.cfg->lookback = 365 * 86400;
	p.cfg->top = 10;
	p.cfg->keep_subjects = false;
	p.cfg->auto_merge = true;
	p.cfg->neglect_factor = 2.0;
	p.cfg->min_touches = 3;
	p.cfg->min_span = 42 * 86400;
	p.cfg->dormant_after = 180 * 86400;
	p.cfg->lock_timeout_ms = 10 * 1000;
	p.cfg->timeout = 30;

	/* A FIFO (or a directory) is an error, not a wait without end
	 * for a writer while the caller holds the lock. */
	fd = open_regular(path, 0, &sb, NULL);
	if (fd >= 0 && !(p.fp = fdopen(fd, "r"))) {
		int e = errno;
		close(fd);
		errno = e;
	}
	if (!p.fp) {
		add_error(&p, 0, "cannot open: %s",
			  open_regular_why(errno, &sb));
		st = ST_NOINPUT;
		goto done;
	}
	rc = ini_parse_stream(cfg_reader, &p, cfg_handler, &p);
	if (p.read_errno) {
		add_error(&p, 0, "read error: %s", strerror(p.read_errno));
		st = ST_IOERR;
	}
	/* Our scan reports every syntax error; this is only a safety net. */
	if (rc > 0 && !has_error_at(&p, rc))
		add_error(&p, rc, "syntax error");
	else if (rc < 0)
		add_error(&p, 0, "cannot parse (libinih error %d)", rc);
	finish(&p);
	if (p.nerrs && st == ST_OK)
		st = ST_CONFIG;
	if (st == ST_OK) {
		*out = p.cfg;
		p.cfg = NULL;
	}
done:
	if (p.nerrs)
		qsort(p.errs, p.nerrs, sizeof *p.errs, perror_cmp);
	for (size_t i = 0; i < p.nerrs; i++) {
		if (errors)
			strvec_take(errors, p.errs[i].msg);
		else
			free(p.errs[i].msg);
	}
	p.nerrs = 0;
	if (p.fp)
		fclose(p.fp);
	parse_free(&p);
	config_free(p.cfg);
	return st;
}

static void source_free(config_source_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(src[i].spec);
		free(src[i].path);
		free(src[i].user);
		free(src[i].host);
		free(src[i].folder);
	}
	free(src);
}

void config_free(config_t *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nleaders; i++) {
		config_leader_t *l = &cfg->leaders[i];

		free(l->id);
		free(l->name);
		free(l->email);
		strvec_free(&l->aliases);
		strvec_free(&l->delegates);
		free(l->send_to);
		source_free(l->sent, l->nsent);
		source_free(l->calendar, l->ncalendar);
		free(l->password_command);
		free(l->timezone);
		strvec_free(&l->ignore);
		strvec_free(&l->keep);
		for (size_t j = 0; j < l->ncircles; j++) {
			free(l->circles[j].name);
			strvec_free(&l->circles[j].patterns);
		}
		free(l->circles);
	}
	free(cfg->leaders);
	free(cfg->file);
	free(cfg->database);
	free(cfg->timezone);
	free(cfg->templates);
	free(cfg->log_file);
	free(cfg->tls_ca_file);
	free(cfg->smtp.url);
	strvec_free(&cfg->smtp.sendmail);
	free(cfg->smtp.user);
	free(cfg->smtp.password_command);
	free(cfg->smtp.from);
	free(cfg->smtp.tls_ca_file);
	free(cfg);
}

const config_leader_t *config_leader(const config_t *cfg, const char *id)
{
	if (!cfg || !id)
		return NULL;
	for (size_t i = 0; i < cfg->nleaders; i++)
		if (strcmp(cfg->leaders[i].id, id) == 0)
			return &cfg->leaders[i];
	return NULL;
}
