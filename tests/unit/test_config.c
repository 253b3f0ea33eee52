/*
 * test_config — config.c against DESIGN §3: every key, the defaults, and
 * every error with its exact "file:line: message".  Each test writes its
 * INI text to a file in a private temporary directory, which is also
 * $HOME, and loads it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "testlib.h"

static char *tmpdir;
static char *home;
static char *cfg_path; /* the file written by the last load() */

/* Write n bytes of text to a new file in tmpdir; returns its path. */
static const char *write_config_n(const char *text, size_t n)
{
	char *path = xasprintf("%s/cfg.XXXXXX", tmpdir);
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	free(cfg_path);
	cfg_path = path;
	return path;
}

static const char *write_config(const char *text)
{
	return write_config_n(text, strlen(text));
}

static status_t load(const char *text, config_t **cfg, strvec_t *errs)
{
	return config_load(write_config(text), cfg, errs);
}

/* Load text that must be valid; prints the errors when it is not. */
static config_t *load_ok(const char *text)
{
	strvec_t errs = {0};
	config_t *cfg = NULL;
	status_t st = load(text, &cfg, &errs);

	for (size_t i = 0; i < errs.n; i++)
		print_error("unexpected: %s\n", errs.v[i]);
	assert_int_equal(st, ST_OK);
	assert_int_equal(errs.n, 0);
	assert_non_null(cfg);
	strvec_free(&errs);
	return cfg;
}

/*
 * Load text that must fail with ST_CONFIG and exactly these errors, each
 * given without the "file:" prefix ("3: unknown section [x]"); NULL ends.
 */
static void load_fails(const char *text, ...)
{
	strvec_t errs = {0};
	config_t *cfg = (config_t *)1;
	status_t st = load(text, &cfg, &errs);
	va_list ap;
	size_t i = 0;
	const char *want;

	assert_null(cfg);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *))) {
		char *full = xasprintf("%s:%s", cfg_path, want);

		if (i >= errs.n)
			fail_msg("missing error: %s", full);
		assert_string_equal(errs.v[i], full);
		free(full);
		i++;
	}
	va_end(ap);
	for (size_t j = i; j < errs.n; j++)
		print_error("extra: %s\n", errs.v[j]);
	assert_int_equal(errs.n, i);
	assert_int_equal(st, ST_CONFIG);
	strvec_free(&errs);
}

#define LEADER_OK "[leader alex]\nemail = alex@example.com\nsent = mbox:/m\n"

/* ---- valid files ------------------------------------------------------ */

static const char full_text[] =
	"; every key of DESIGN §3\n"                                 /* 1 */
	"[digest]\n"                                                 /* 2 */
	"database = ~/data/digest.db\n"                              /* 3 */
	"timezone = Europe/Berlin          ; inline comment\n"       /* 4 */
	"lookback = 52w\n"                                           /* 5 */
	"top = 5\n"                                                  /* 6 */
	"templates = $DIGEST_T_VAR/templates\n"                      /* 7 */
	"keep_subjects = yes\n"                                      /* 8 */
	"auto_merge = off\n"                                         /* 9 */
	"neglect_factor = 2.5\n"                                     /* 10 */
	"min_touches = 4\n"                                          /* 11 */
	"lock_timeout = 2m\n"                                        /* 12 */
	"log_file = ${DIGEST_T_VAR}/digest.log\n"                    /* 13 */
	"\n"                                                         /* 14 */
	"[smtp]\n"                                                   /* 15 */
	"url = smtp://smtp.example.com:587 ; STARTTLS\n"             /* 16 */
	"user = digest@example.com\n"                                /* 17 */
	"password_command = pass show mail/digest\n"                 /* 18 */
	"from = Relationship Digest <digest@example.com>\n"          /* 19 */
	"tls_ca_file = ~/ca.pem\n"                                   /* 20 */
	"\n"                                                         /* 21 */
	"[leader alex]\n"                                            /* 22 */
	"name = Alex Leader\n"                                       /* 23 */
	"email = Alex@Example.COM\n"                                 /* 24 */
	"aliases = alex.leader@example.com, A.Leader@corp.example\n" /* 25 */
	"aliases = ,alex@home.example, ,\n"                          /* 26 */
	"delegates = sam.assistant@example.com\n"                    /* 27 */
	"send_to = alex+digest@example.com\n"                        /* 28 */
	"sent = maildir:~/Mail/Sent\n"                               /* 29 */
	"sent = mbox:~/mail/sent.mbox\n"                             /* 30 */
	"sent = imaps://alex@imap.example.com/Sent\n"                /* 31 */
	"sent = ~/Mail/Archive\n"                                    /* 32 */
	"sent = ~/mail/old.mbox\n"                                   /* 33 */
	"calendar = ~/.calendars/work/     ; a directory\n"          /* 34 */
	"calendar = https://cal.example.com/alex.ics\n"              /* 35 */
	"password_command = pass show mail/alex\n"                   /* 36 */
	"timezone = America/New_York\n"                              /* 37 */
	"ignore = noreply@*, no-reply@*\n"                           /* 38 */
	"ignore = *@Lists.Example.org\n"                             /* 39 */
	"circle.team = priya@example.com, wen@example.com\n"         /* 40 */
	"circle.clients = *@client-a.example, *@client-b.example\n"  /* 41 */
	"circle.team = jo@example.com\n"                             /* 42 */
	"    kim@example.com\n"                                      /* 43 */
	"\n"                                                         /* 44 */
	"[leader sam.b-2_x]\n"                                       /* 45 */
	"email = sam@example.org\n"                                  /* 46 */
	"calendar = /srv/cal/sam.ics\n"                              /* 47 */
	"calendar = webcal://cal.example.org/sam.ics\n";             /* 48 */

static void assert_list(const strvec_t *sv, size_t n, ...)
{
	va_list ap;

	assert_int_equal(sv->n, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(sv->v[i], va_arg(ap, const char *));
	va_end(ap);
}

static char *in_home(const char *rel)
{
	return xasprintf("%s/%s", home, rel);
}

static void assert_source(const config_source_t *src, const char *spec,
			  config_src_kind_t kind, const char *path, int line)
{
	assert_string_equal(src->spec, spec);
	assert_int_equal(src->kind, kind);
	assert_string_equal(src->path, path);
	assert_int_equal(src->line, line);
}

static void test_full_file(void **state)
{
	config_t *cfg;
	const config_leader_t *l;
	char *p;

	(void)state;
	setenv("DIGEST_T_VAR", "/opt/dg", 1);
	cfg = load_ok(full_text);

	assert_string_equal(cfg->file, cfg_path);
	assert_string_equal(cfg->database, p = in_home("data/digest.db"));
	free(p);
	assert_string_equal(cfg->timezone, "Europe/Berlin");
	assert_int_equal(cfg->lookback, 52 * 7 * 86400);
	assert_int_equal(cfg->top, 5);
	assert_string_equal(cfg->templates, "/opt/dg/templates");
	assert_true(cfg->keep_subjects);
	assert_false(cfg->auto_merge);
	assert_true(cfg->neglect_factor == 2.5);
	assert_int_equal(cfg->min_touches, 4);
	assert_int_equal(cfg->lock_timeout_ms, 120000);
	assert_string_equal(cfg->log_file, "/opt/dg/digest.log");

	assert_true(cfg->smtp.present);
	assert_string_equal(cfg->smtp.url, "smtp://smtp.example.com:587");
	assert_int_equal(cfg->smtp.sendmail.n, 0);
	assert_string_equal(cfg->smtp.user, "digest@example.com");
	assert_string_equal(cfg->smtp.password_command,
			    "pass show mail/digest");
	assert_string_equal(cfg->smtp.from,
			    "Relationship Digest <digest@example.com>");
	assert_string_equal(cfg->smtp.tls_ca_file, p = in_home("ca.pem"));
	free(p);

	assert_int_equal(cfg->nleaders, 2);
	l = config_leader(cfg, "alex");
	assert_ptr_equal(l, &cfg->leaders[0]);
	assert_string_equal(l->id, "alex");
	assert_int_equal(l->line, 22);
	assert_string_equal(l->name, "Alex Leader");
	assert_string_equal(l->email, "alex@example.com");
	assert_list(&l->aliases, 3, "alex.leader@example.com",
		    "a.leader@corp.example", "alex@home.example");
	assert_list(&l->delegates, 1, "sam.assistant@example.com");
	assert_string_equal(l->send_to, "alex+digest@example.com");

	assert_int_equal(l->nsent, 5);
	assert_source(&l->sent[0], "maildir:~/Mail/Sent", SRC_MAILDIR,
		      p = in_home("Mail/Sent"), 29);
	free(p);
	assert_source(&l->sent[1], "mbox:~/mail/sent.mbox", SRC_MBOX,
		      p = in_home("mail/sent.mbox"), 30);
	free(p);
	assert_source(&l->sent[2], "imaps://alex@imap.example.com/Sent",
		      SRC_IMAP, "imaps://alex@imap.example.com/Sent", 31);
	assert_true(l->sent[2].implicit_tls);
	assert_string_equal(l->sent[2].user, "alex");
	assert_string_equal(l->sent[2].host, "imap.example.com");
	assert_int_equal(l->sent[2].port, 993);
	assert_string_equal(l->sent[2].folder, "Sent");
	/* A bare path: an existing directory is a Maildir, else an mbox. */
	assert_source(&l->sent[3], "~/Mail/Archive", SRC_MAILDIR,
		      p = in_home("Mail/Archive"), 32);
	free(p);
	assert_source(&l->sent[4], "~/mail/old.mbox", SRC_MBOX,
		      p = in_home("mail/old.mbox"), 33);
	free(p);
	assert_int_equal(l->ncalendar, 2);
	assert_source(&l->calendar[0], "~/.calendars/work/", SRC_ICS,
		      p = in_home(".calendars/work/"), 34);
	free(p);
	assert_source(&l->calendar[1], "https://cal.example.com/alex.ics",
		      SRC_HTTP, "https://cal.example.com/alex.ics", 35);

	assert_string_equal(l->password_command, "pass show mail/alex");
	assert_string_equal(l->timezone, "America/New_York");
	assert_list(&l->ignore, 3, "noreply@*", "no-reply@*",
		    "*@lists.example.org");
	assert_int_equal(l->ncircles, 2);
	assert_string_equal(l->circles[0].name, "team");
	assert_list(&l->circles[0].patterns, 4, "priya@example.com",
		    "wen@example.com", "jo@example.com", "kim@example.com");
	assert_string_equal(l->circles[1].name, "clients");
	assert_list(&l->circles[1].patterns, 2, "*@client-a.example",
		    "*@client-b.example");

	l = config_leader(cfg, "sam.b-2_x");
	assert_ptr_equal(l, &cfg->leaders[1]);
	assert_int_equal(l->line, 45);
	assert_null(l->name);
	assert_string_equal(l->email, "sam@example.org");
	assert_string_equal(l->send_to, "sam@example.org");
	assert_string_equal(l->timezone, "Europe/Berlin");
	assert_null(l->password_command);
	assert_int_equal(l->nsent, 0);
	assert_int_equal(l->ncalendar, 2);
	assert_source(&l->calendar[0], "/srv/cal/sam.ics", SRC_ICS,
		      "/srv/cal/sam.ics", 47);
	assert_source(&l->calendar[1], "webcal://cal.example.org/sam.ics",
		      SRC_HTTP, "webcal://cal.example.org/sam.ics", 48);
	assert_int_equal(l->aliases.n + l->delegates.n + l->ignore.n, 0);
	assert_int_equal(l->ncircles, 0);

	assert_null(config_leader(cfg, "nobody"));
	assert_null(config_leader(cfg, "Alex"));
	config_free(cfg);
	unsetenv("DIGEST_T_VAR");
}

static void test_defaults(void **state)
{
	config_t *cfg;
	char *p;

	(void)state;
	setenv("TZ", "UTC", 1);
	cfg = load_ok(LEADER_OK);
	assert_string_equal(cfg->database,
			    p = in_home(".local/share/digest/digest.db"));
	free(p);
	assert_string_equal(cfg->timezone, "UTC");
	assert_int_equal(cfg->lookback, 365 * 86400);
	assert_int_equal(cfg->top, 10);
	assert_null(cfg->templates);
	assert_false(cfg->keep_subjects);
	assert_true(cfg->auto_merge);
	assert_true(cfg->neglect_factor == 2.0);
	assert_int_equal(cfg->min_touches, 3);
	assert_int_equal(cfg->lock_timeout_ms, 10000);
	assert_string_equal(cfg->log_file,
			    p = in_home(".local/state/digest/digest.log"));
	free(p);
	assert_false(cfg->smtp.present);
	assert_null(cfg->smtp.url);
	assert_int_equal(cfg->smtp.sendmail.n, 0);
	assert_null(cfg->smtp.from);
	assert_int_equal(cfg->nleaders, 1);
	assert_string_equal(cfg->leaders[0].send_to, "alex@example.com");
	assert_string_equal(cfg->leaders[0].timezone, "UTC");
	assert_null(cfg->leaders[0].name);
	config_free(cfg);

	/* No leader at all is allowed; so is an empty [smtp]. */
	cfg = load_ok("; nothing yet\n[smtp]\n");
	assert_int_equal(cfg->nleaders, 0);
	assert_true(cfg->smtp.present);
	config_free(cfg);
	cfg = load_ok("");
	assert_int_equal(cfg->nleaders, 0);
	config_free(cfg);

	config_free(NULL);
}

static void test_system_zone(void **state)
{
	config_t *cfg;

	(void)state;
	setenv("TZ", ":Europe/Berlin", 1);
	cfg = load_ok(LEADER_OK);
	assert_string_equal(cfg->timezone, "Europe/Berlin");
	assert_string_equal(cfg->leaders[0].timezone, "Europe/Berlin");
	config_free(cfg);

	setenv("TZ", "/usr/share/zoneinfo/America/New_York", 1);
	cfg = load_ok(LEADER_OK);
	assert_string_equal(cfg->timezone, "America/New_York");
	config_free(cfg);

	/* An explicit [digest] timezone wins, even after the leaders. */
	cfg = load_ok(LEADER_OK "[digest]\ntimezone = Asia/Tokyo\n");
	assert_string_equal(cfg->timezone, "Asia/Tokyo");
	assert_string_equal(cfg->leaders[0].timezone, "Asia/Tokyo");
	config_free(cfg);
	setenv("TZ", "UTC", 1);
}

static void test_continuation_and_colon(void **state)
{
	config_t *cfg;
	char name[] =
		"circle.a-very-long-circle-name-that-libinih-would-cut-short";
	char *text;

	(void)state;
	/* A continued key longer than libinih's 49-byte name buffer. */
	text = xasprintf("[leader alex]\n"
			 "email: alex@example.com\n"
			 "sent = mbox:/m\n"
			 "aliases = a@example.com,\n"
			 "\tb@example.com\n"
			 "; a comment does not end the continuation\n"
			 "# nor does this = one\n"
			 "  c@example.com\n"
			 "%s = x@example.com\n"
			 "  y@example.com\n",
			 name);
	cfg = load_ok(text);
	free(text);
	assert_string_equal(cfg->leaders[0].email, "alex@example.com");
	assert_list(&cfg->leaders[0].aliases, 3, "a@example.com",
		    "b@example.com", "c@example.com");
	assert_int_equal(cfg->leaders[0].ncircles, 1);
	assert_string_equal(cfg->leaders[0].circles[0].name,
			    name + strlen("circle."));
	assert_list(&cfg->leaders[0].circles[0].patterns, 2, "x@example.com",
		    "y@example.com");
	config_free(cfg);

	/* A continued scalar is a repeated key. */
	load_fails("[leader alex]\n"
		   "email = alex@example.com\n"
		   "sent = mbox:/m\n"
		   "name = Alex\n"
		   "  Leader\n",
		   "5: 'name' given twice in [leader alex] (first at line 4; "
		   "an indented line continues the key above)",
		   NULL);
}

/* ---- errors ----------------------------------------------------------- */

static void test_cannot_open(void **state)
{
	strvec_t errs = {0};
	config_t *cfg = (config_t *)1;
	char *path = xasprintf("%s/missing.ini", tmpdir);
	char *want =
		xasprintf("%s: cannot open: No such file or directory", path);

	(void)state;
	assert_int_equal(config_load(path, &cfg, &errs), ST_NOINPUT);
	assert_null(cfg);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0], want);
	strvec_free(&errs);
	free(want);

	want = xasprintf("%s: cannot open: Is a directory", tmpdir);
	assert_int_equal(config_load(tmpdir, &cfg, &errs), ST_NOINPUT);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0], want);
	strvec_free(&errs);
	free(want);
	free(path);
}

static void test_unknown_section(void **state)
{
	(void)state;
	load_fails("[digest]\ntop = 3\n[bogus]\nkey = 1\n[ Leaders ]\n",
		   "3: unknown section [bogus]", "5: unknown section [Leaders]",
		   NULL);
	load_fails("top = 3\n", "1: key 'top' outside of any section", NULL);
}

static void test_unknown_key(void **state)
{
	(void)state;
	load_fails("[digest]\ncolour = blue\n",
		   "2: unknown key 'colour' in [digest]", NULL);
	load_fails("[smtp]\nhost = x\n", "2: unknown key 'host' in [smtp]",
		   NULL);
	load_fails(LEADER_OK "circle = a@b.c\nEmail = x@y.z\n",
		   "4: unknown key 'circle' in [leader alex]",
		   "5: unknown key 'Email' in [leader alex]", NULL);
}

static void test_several_errors(void **state)
{
	(void)state;
	/* Every error, in line order, including two syntax errors (libinih
	 * itself returns only the first). */
	load_fails("[digest]\n"
		   "top = many\n"
		   "[leader alex]\n"
		   "email = alex@example.com\n"
		   "sent = mbox:/m\n"
		   "colour = blue\n"
		   "just words\n"
		   "[smtp\n",
		   "2: 'top' must be a whole number of at least 1, not 'many'",
		   "6: unknown key 'colour' in [leader alex]",
		   "7: syntax error: expected [section] or key = value",
		   "8: syntax error: missing ']'", NULL);
}

static void test_duplicate_leader(void **state)
{
	(void)state;
	load_fails(LEADER_OK "name = A\n\n[leader alex]\nname = B\n",
		   "6: duplicate [leader alex] (first at line 1)", NULL);
	load_fails("[leader]\n[leader bad/id]\n[leader .hidden]\n",
		   "1: [leader] needs an id, as in [leader alex]",
		   "2: bad leader id 'bad/id' (use letters, digits, '-', '_' "
		   "and '.')",
		   "3: bad leader id '.hidden' (use letters, digits, '-', '_' "
		   "and '.')",
		   NULL);
	load_fails("[digest]\ntop = 3\ntop = 4\n",
		   "3: 'top' given twice in [digest] (first at line 2)", NULL);
}

static void test_bad_values(void **state)
{
	(void)state;
	load_fails(
		"[digest]\n"
		"keep_subjects = maybe\n"
		"auto_merge = \n"
		"top = 0\n"
		"min_touches = -1\n"
		"neglect_factor = 0\n"
		"lookback = 30\n"
		"lock_timeout = 5x\n"
		"timezone = Mars/Olympus\n",
		"2: 'keep_subjects' must be yes or no, not 'maybe'",
		"3: 'auto_merge' needs a value",
		"4: 'top' must be a whole number of at least 1, not '0'",
		"5: 'min_touches' must be a whole number of at least 1, "
		"not '-1'",
		"6: 'neglect_factor' must be a number greater than 0, not '0'",
		"7: 'lookback' must be a duration such as 30d, 6w, 12h, 15m "
		"or 10s, not '30'",
		"8: 'lock_timeout' must be a duration such as 30d, 6w, 12h, "
		"15m or 10s, not '5x'",
		"9: unknown timezone 'Mars/Olympus' (a zone name such as "
		"Europe/Berlin, or UTC)",
		NULL);
	load_fails(
		"[digest]\nlookback = 0\nneglect_factor = abc\n"
		"timezone = ../../etc/passwd\n",
		"2: 'lookback' must be longer than 0",
		"3: 'neglect_factor' must be a number greater than 0, not "
		"'abc'",
		"4: unknown timezone '../../etc/passwd' (a zone name such as "
		"Europe/Berlin, or UTC)",
		NULL);
	/* A regular file under zoneinfo that is not a zone; real zone files
	 * reached by a path. */
	load_fails("[digest]\ntimezone = zone.tab\n"
		   "timezone = ../zoneinfo/Europe/Berlin\n"
		   "timezone = /usr/share/zoneinfo/UTC\n",
		   "2: unknown timezone 'zone.tab' (a zone name such as "
		   "Europe/Berlin, or UTC)",
		   "3: 'timezone' given twice in [digest] (first at line 2)",
		   "4: 'timezone' given twice in [digest] (first at line 2)",
		   NULL);
	load_fails("[leader a]\ntimezone = ../zoneinfo/Europe/Berlin\n"
		   "[leader b]\ntimezone = /usr/share/zoneinfo/UTC\n",
		   "1: [leader a] has no 'email'",
		   "1: [leader a] has no 'sent' or 'calendar' source",
		   "2: unknown timezone '../zoneinfo/Europe/Berlin' (a zone "
		   "name such as Europe/Berlin, or UTC)",
		   "3: [leader b] has no 'email'",
		   "3: [leader b] has no 'sent' or 'calendar' source",
		   "4: unknown timezone '/usr/share/zoneinfo/UTC' (a zone name "
		   "such as Europe/Berlin, or UTC)",
		   NULL);
	load_fails(
		"[leader alex]\n"
		"email = alex\n"
		"sent = mbox:/m\n"
		"aliases = ok@example.com, a@b@c, x y@z\n"
		"send_to = @example.com\n"
		"timezone = Nowhere\n"
		"sent = ftp://host/x\n"
		"calendar = imaps://host/Cal\n"
		"sent = imap:///Sent\n"
		"circle.a/b = x@y.z\n",
		"2: not an email address in 'email': 'alex'",
		"4: not an email address in 'aliases': 'a@b@c'",
		"4: not an email address in 'aliases': 'x y@z'",
		"5: not an email address in 'send_to': '@example.com'",
		"6: unknown timezone 'Nowhere' (a zone name such as "
		"Europe/Berlin, or UTC)",
		"7: 'sent' must be maildir:PATH, mbox:PATH, imap://, imaps:// "
		"or a path, not 'ftp://host/x'",
		"8: 'calendar' must be a path or an https:// or webcal:// URL, "
		"not 'imaps://host/Cal'",
		"9: 'sent' has no host in its URL: 'imap:///Sent'",
		"10: bad circle name in 'circle.a/b' (use letters, digits, "
		"'-', '_' and '.')",
		NULL);
	load_fails(
		"[smtp]\nurl = http://smtp.example.com\n"
		"from = Digest <nobody>\n",
		"2: 'url' must be smtp://HOST[:PORT] or smtps://HOST[:PORT], "
		"not 'http://smtp.example.com'",
		"3: 'from' has no email address: 'Digest <nobody>'", NULL);
	load_fails(
		"[smtp]\nurl = smtps://:465\n",
		"2: 'url' must be smtp://HOST[:PORT] or smtps://HOST[:PORT], "
		"not 'smtps://:465'",
		NULL);
}

/* The knobs of the neglect model (DESIGN §6) and `keep` (§5). */
static void test_model_keys(void **state)
{
	config_t *cfg;

	(void)state;
	cfg = load_ok(
		"[leader alex]\nemail = alex@example.com\nsent = mbox:/m\n");
	assert_int_equal(cfg->min_span, 42 * 86400);
	assert_int_equal(cfg->dormant_after, 180 * 86400);
	assert_int_equal(cfg->leaders[0].keep.n, 0);
	assert_null(cfg->tls_ca_file);
	assert_int_equal(cfg->leaders[0].imap_auth, IMAP_AUTH_LOGIN);
	config_free(cfg);
	cfg = load_ok(
		"[digest]\nmin_span = 4w\ndormant_after = 270d\n"
		"tls_ca_file = /etc/ca.pem\n"
		"[leader alex]\nemail = alex@example.com\nsent = mbox:/m\n"
		"keep = Info@Small-Partner.example, *@tiny.example\n"
		"keep = team@friends.example\nimap_auth = xoauth2\n");
	assert_int_equal(cfg->min_span, 28 * 86400);
	assert_int_equal(cfg->dormant_after, 270 * 86400);
	assert_string_equal(cfg->tls_ca_file, "/etc/ca.pem");
	assert_int_equal(cfg->leaders[0].imap_auth, IMAP_AUTH_XOAUTH2);
	assert_list(&cfg->leaders[0].keep, 3, "info@small-partner.example",
		    "*@tiny.example", "team@friends.example");
	config_free(cfg);
	load_fails(
		"[digest]\nmin_span = 0d\ndormant_after = soon\n"
		"[leader alex]\nemail = alex(x)@example.com\nsent = mbox:/m\n"
		"keep = a b\ndelegates = (sam)@example.com\n"
		"imap_auth = kerberos\n",
		"2: 'min_span' must be longer than 0",
		"3: 'dormant_after' must be a duration such as 30d, 6w, "
		"12h, 15m or 10s, not 'soon'",
		"5: not an email address in 'email': 'alex(x)@example.com'",
		"7: bad pattern in 'keep': 'a b'",
		"8: not an email address in 'delegates': '(sam)@example.com'",
		"9: 'imap_auth' must be login, plain, xoauth2 or oauthbearer, "
		"not 'kerberos'",
		NULL);
}

static void test_valid_value_forms(void **state)
{
	config_t *cfg;
	static const char *const yes[] = {"yes", "true", "on", "1", "YES"};
	static const char *const no[] = {"no", "false", "off", "0", "Off"};

	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		char *text = xasprintf("[digest]\nkeep_subjects = %s\n"
				       "auto_merge = %s\nlock_timeout = 0\n"
				       "neglect_factor = .5\n",
				       yes[i], no[i]);
		cfg = load_ok(text);
		free(text);
		assert_true(cfg->keep_subjects);
		assert_false(cfg->auto_merge);
		assert_int_equal(cfg->lock_timeout_ms, 0);
		assert_true(cfg->neglect_factor == 0.5);
		config_free(cfg);
	}
	/* A UTF-8 byte order mark, CRLF line ends. */
	cfg = load_ok("\xEF\xBB\xBF[digest]\r\ntop = 3\r\n"
		      "templates = /t\r\n");
	assert_int_equal(cfg->top, 3);
	assert_string_equal(cfg->templates, "/t");
	config_free(cfg);

	cfg = load_ok("[smtp]\nurl = smtps://user@mail.example.com:465\n"
		      "from = digest@example.com\n");
	assert_string_equal(cfg->smtp.url, "smtps://user@mail.example.com:465");
	assert_string_equal(cfg->smtp.from, "digest@example.com");
	config_free(cfg);
}

static void test_password_in_url(void **state)
{
	strvec_t errs = {0};
	config_t *cfg = NULL;

	(void)state;
	load_fails("[smtp]\n"
		   "url = smtps://me:hunter2@smtp.example.com\n"
		   "[leader alex]\n"
		   "email = alex@example.com\n"
		   "sent = imaps://alex:hunter2@imap.example.com/Sent\n"
		   "sent = imap://alex:hunter2@imap.example.com/Sent\n"
		   "calendar = https://alex:hunter2@cal.example.com/a.ics\n"
		   "calendar = http://alex:hunter2@cal.example.com/a.ics\n",
		   "2: 'url' has a password in its URL: use password_command "
		   "instead",
		   "5: 'sent' has a password in its URL: use password_command "
		   "instead",
		   "6: 'sent' has a password in its URL: use password_command "
		   "instead",
		   "7: 'calendar' has a password in its URL: use "
		   "password_command instead",
		   "8: 'calendar' has a password in its URL: use "
		   "password_command instead",
		   NULL);
	/* The secret is never echoed. */
	assert_int_equal(
		load("[smtp]\nurl = smtp://u:hunter2@h\n", &cfg, &errs),
		ST_CONFIG);
	assert_int_equal(errs.n, 1);
	assert_null(strstr(errs.v[0], "hunter2"));
	strvec_free(&errs);
}

/* IMAP URLs in parts, nested Maildirs, and what a remote source needs. */
static void test_remote_sources(void **state)
{
	strvec_t errs = {0};
	config_t *cfg = NULL;
	const config_source_t *src;

	(void)state;
	assert_int_equal(
		load("[digest]\ntimeout = 5s\n"
		     "[leader alex]\nsent = imap://mail.example.com\n"
		     "sent = "
		     "imaps://alex%40example.com@[::1]:1993/Sent%20Items/\n"
		     "sent = imaps://a@h/Sent Items\n"
		     "sent = maildir:/srv/Archive/**\n"
		     "sent = maildir:/srv/Archive**\n"
		     "email = alex@example.com\npassword_command = cat t\n"
		     "imap_auth = xoauth2\n",
		     &cfg, &errs),
		ST_OK);
	assert_int_equal(cfg->timeout, 5);
	src = &cfg->leaders[0].sent[0];
	assert_false(src->implicit_tls);
	assert_int_equal(src->port, 143);
	assert_string_equal(src->host, "mail.example.com");
	assert_string_equal(src->user, "alex@example.com"); /* the email */
	assert_null(src->folder); /* the special-use \Sent folder */
	src++;
	assert_true(src->implicit_tls);
	assert_int_equal(src->port, 1993);
	assert_string_equal(src->host, "::1");
	assert_string_equal(src->user, "alex@example.com");
	assert_string_equal(src->folder, "Sent Items");
	src++;
	assert_string_equal(src->folder, "Sent Items");
	src++;
	assert_int_equal(src->kind, SRC_MAILDIR);
	assert_true(src->recursive);
	assert_string_equal(src->path, "/srv/Archive");
	src++;
	assert_false(src->recursive);
	assert_string_equal(src->path, "/srv/Archive**");
	assert_int_equal(cfg->leaders[0].imap_auth, IMAP_AUTH_XOAUTH2);
	config_free(cfg);
	cfg = NULL;

	load_fails(
		"[digest]\ntimeout = 0s\n"
		"[leader alex]\nemail = alex@example.com\n"
		"sent = imaps://h:0/Sent\n"
		"sent = imaps://h:99999\n"
		"sent = imaps://h/Sent?x=1\n"
		"sent = imaps://h/%0aSent\n"
		"calendar = http://cal.example.com/secret/a.ics\n"
		"sent = imaps://alex@h/Sent\n"
		"calendar = https:///private-s3cr3t/a.ics\n",
		"2: 'timeout' must be between 1s and 1h, not '0s'",
		"5: 'sent' is not an IMAP URL (bad port): 'imaps://h:0/Sent'",
		"6: 'sent' is not an IMAP URL (bad port): 'imaps://h:99999'",
		"7: 'sent' is not an IMAP URL (no query or fragment "
		"allowed): 'imaps://h/Sent?x=1'",
		"8: 'sent' is not an IMAP URL (bad folder): "
		"'imaps://h/%0aSent'",
		"9: 'calendar' must not be a plain http:// URL: use https://",
		"10: [leader alex] reads IMAP but has no 'password_command'",
		"11: 'calendar' has no host in its URL", NULL);
	strvec_free(&errs);
}

static void test_password_key(void **state)
{
	(void)state;
	load_fails("[smtp]\n"
		   "url = smtp://smtp.example.com\n"
		   "password = hunter2\n" LEADER_OK "password = x\n"
		   "[digest]\nPassword = y\n",
		   "3: 'password' is not allowed: use password_command",
		   "7: 'password' is not allowed: use password_command",
		   "9: 'password' is not allowed: use password_command", NULL);
}

static void test_leader_incomplete(void **state)
{
	(void)state;
	load_fails("[digest]\ntop = 3\n\n[leader alex]\nname = Alex\n"
		   "sent = mbox:/m\n",
		   "4: [leader alex] has no 'email'", NULL);
	load_fails("[leader alex]\nemail = alex@example.com\n"
		   "ignore = x@y.z\n[leader sam]\nemail = sam@example.com\n"
		   "calendar = /c.ics\n",
		   "1: [leader alex] has no 'sent' or 'calendar' source", NULL);
	load_fails("[leader alex]\n", "1: [leader alex] has no 'email'",
		   "1: [leader alex] has no 'sent' or 'calendar' source", NULL);
	/* Found at the end, reported in line order with the others. */
	load_fails("[leader alex]\nsent = mbox:/m\ncolour = x\n",
		   "1: [leader alex] has no 'email'",
		   "3: unknown key 'colour' in [leader alex]", NULL);
}

static void test_long_line(void **state)
{
	strbuf_t b = {0};
	config_t *cfg;
	size_t n;

	(void)state;
	/* Line 3: 250 bytes.  Line 4 must still be line 4, parsed alone. */
	sb_puts(&b, "[leader alex]\nsent = mbox:/m\naliases = ");
	while (b.len < strlen("[leader alex]\nsent = mbox:/m\n") + 250)
		sb_puts(&b, "someone@example.com, ");
	sb_puts(&b, "\ncolour = blue\nemail = alex@example.com\n");
	load_fails(sb_str(&b),
		   "3: line too long (split long lists over repeated keys)",
		   "4: unknown key 'colour' in [leader alex]", NULL);
	sb_free(&b);

	/* The line after a long one is valid on its own. */
	sb_puts(&b, "[leader alex]\n; ");
	for (int i = 0; i < 300; i++)
		sb_putc(&b, 'x');
	sb_puts(&b, "\nemail = alex@example.com\nsent = mbox:/m\n");
	load_fails(sb_str(&b),
		   "2: line too long (split long lists over repeated keys)",
		   NULL);
	sb_free(&b);

	/* 199 bytes before the newline fit libinih's buffer; 200 do not. */
	for (n = 199; n <= 200; n++) {
		const char *prefix = "ignore = ";

		sb_puts(&b, LEADER_OK);
		sb_puts(&b, prefix);
		while (b.len < strlen(LEADER_OK) + n - 3)
			sb_putc(&b, 'a');
		sb_puts(&b, "@b,\nname = Alex\n");
		if (n == 199) {
			cfg = load_ok(sb_str(&b));
			assert_int_equal(cfg->leaders[0].ignore.n, 1);
			assert_int_equal(strlen(cfg->leaders[0].ignore.v[0]),
					 n - strlen(prefix) - 1);
			assert_string_equal(cfg->leaders[0].name, "Alex");
			config_free(cfg);
		} else {
			load_fails(sb_str(&b),
				   "4: line too long (split long lists over "
				   "repeated keys)",
				   NULL);
		}
		sb_free(&b);
	}

	/* A long last line without a newline. */
	sb_puts(&b, LEADER_OK "name = ");
	for (int i = 0; i < 400; i++)
		sb_putc(&b, 'x');
	load_fails(sb_str(&b),
		   "4: line too long (split long lists over repeated keys)",
		   NULL);
	sb_free(&b);
}

static void test_nul_byte(void **state)
{
	static const char text[] = "[digest]\ntop = 3\0junk\ncolour = x\n"
				   "[leader alex]\n";
	strvec_t errs = {0};
	config_t *cfg = NULL;
	const char *path = write_config_n(text, sizeof text - 1);
	char *want;

	(void)state;
	assert_int_equal(config_load(path, &cfg, &errs), ST_CONFIG);
	assert_int_equal(errs.n, 4);
	assert_string_equal(errs.v[0],
			    want = xasprintf("%s:2: NUL byte in line", path));
	free(want);
	assert_string_equal(errs.v[1],
			    want = xasprintf("%s:3: unknown key 'colour' in "
					     "[digest]",
					     path));
	free(want);
	assert_string_equal(errs.v[2],
			    want = xasprintf("%s:4: [leader alex] has no "
					     "'email'",
					     path));
	free(want);
	strvec_free(&errs);
}

static void test_expand_path(void **state)
{
	char *p, *want;
	config_t *cfg;

	(void)state;
	setenv("DIGEST_T_VAR", "/srv/x", 1);
	unsetenv("DIGEST_T_UNSET");
	setenv("DIGEST_T_VAR_EMPTY", "", 1);
	static const struct {
		const char *in, *out; /* out: "~" stands for $HOME */
	} cases[] = {
		{"~", "~"},
		{"~/a/b", "~/a/b"},
		{"~user/a", "~user/a"},
		{"a/~/b", "a/~/b"},
		{"$DIGEST_T_VAR/db", "/srv/x/db"},
		{"${DIGEST_T_VAR}db", "/srv/xdb"},
		{"$DIGEST_T_VARdb", ""},
		{"/p/$DIGEST_T_UNSET/q", "/p//q"},
		{"/p/${DIGEST_T_UNSET}", "/p/"},
		{"cost$", "cost$"},
		{"a$1b", "a$1b"},
		{"${unclosed", "${unclosed"},
		{"${}", "${}"},
		{"~/$DIGEST_T_VAR", "~//srv/x"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *unset = NULL;

		p = config_expand_path(cases[i].in, &unset);
		/* "$DIGEST_T_VARdb" names the unset DIGEST_T_VARdb. */
		const char *unset_want =
			strstr(cases[i].in, "DIGEST_T_UNSET") ? "DIGEST_T_UNSET"
			: strstr(cases[i].in, "VARdb")        ? "DIGEST_T_VARdb"
							      : NULL;
		if (unset_want)
			assert_string_equal(unset, unset_want);
		else
			assert_null(unset);
		free(unset);
		want = cases[i].out[0] == '~' && (cases[i].out[1] == '\0' ||
						  cases[i].out[1] == '/')
			       ? xasprintf("%s%s", home, cases[i].out + 1)
			       : xstrdup(cases[i].out);
		assert_string_equal(p, want);
		free(p);
		free(want);
	}
	assert_null(config_expand_path(NULL, NULL));

	cfg = load_ok("[digest]\ndatabase = ~/db/$DIGEST_T_VAR.db\n"
		      "templates = ${DIGEST_T_VAR}/t\n" LEADER_OK
		      "sent = maildir:$DIGEST_T_VAR/Maildir\n");
	assert_string_equal(cfg->database, want = in_home("db//srv/x.db"));
	free(want);
	assert_string_equal(cfg->templates, "/srv/x/t");
	assert_string_equal(cfg->leaders[0].sent[1].path, "/srv/x/Maildir");
	assert_string_equal(cfg->leaders[0].sent[1].spec,
			    "maildir:$DIGEST_T_VAR/Maildir");
	config_free(cfg);

	/* An unset variable is a typo or a cron environment without it:
	 * refuse it rather than read "/Mail" for "$MAILROOT/Mail". */
	load_fails("[digest]\nlog_file = $DIGEST_T_UNSET\n",
		   "2: 'log_file' uses $DIGEST_T_UNSET, which is not set",
		   NULL);
	load_fails("[digest]\nlog_file = ${DIGEST_T_VAR_EMPTY}\n",
		   "2: 'log_file' expands to an empty path", NULL);
	load_fails("[smtp]\nsendmail = $DIGEST_T_UNSET/sendmail -t\n" LEADER_OK,
		   "2: 'sendmail' uses $DIGEST_T_UNSET, which is not set",
		   NULL);

	/* Relative paths are read from the config file's directory. */
	cfg = load_ok("[digest]\ndatabase = state/digest.db\n" LEADER_OK
		      "sent = mbox:$DIGEST_T_VAR/../sent.mbox\n"
		      "sent = maildir:Mail/Sent\n");
	const char *slash = strrchr(cfg->file, '/');
	assert_non_null(slash);
	want = xasprintf("%.*s/state/digest.db", (int)(slash - cfg->file),
			 cfg->file);
	assert_string_equal(cfg->database, want);
	free(want);
	assert_string_equal(cfg->leaders[0].sent[1].path,
			    "/srv/x/../sent.mbox");
	want = xasprintf("%.*s/Mail/Sent", (int)(slash - cfg->file), cfg->file);
	assert_string_equal(cfg->leaders[0].sent[2].path, want);
	assert_string_equal(cfg->leaders[0].sent[2].spec, "maildir:Mail/Sent");
	free(want);
	config_free(cfg);
	unsetenv("DIGEST_T_VAR");
}

static void test_default_path(void **state)
{
	char *p, *want;

	(void)state;
	setenv("DIGEST_CONFIG", "/etc/digest.ini", 1);
	p = config_default_path();
	assert_string_equal(p, "/etc/digest.ini");
	free(p);
	setenv("DIGEST_CONFIG", "", 1);
	p = config_default_path();
	assert_string_equal(p, want = in_home(".config/digest/digest.ini"));
	free(p);
	unsetenv("DIGEST_CONFIG");
	p = config_default_path();
	assert_string_equal(p, want);
	free(p);
	free(want);
}

/* The XDG base directories, each only when set to an absolute path (the
 * specification says to ignore a relative one); the database and the log
 * follow XDG_DATA_HOME and XDG_STATE_HOME unless the file names them. */
static void test_xdg(void **state)
{
	config_t *cfg;
	char *p, *want;

	(void)state;
	setenv("XDG_CONFIG_HOME", "/xdg/config", 1);
	setenv("XDG_DATA_HOME", "/xdg/data", 1);
	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	p = config_default_path();
	assert_string_equal(p, "/xdg/config/digest/digest.ini");
	free(p);
	setenv("DIGEST_CONFIG", "/etc/digest.ini", 1); /* still wins */
	p = config_default_path();
	assert_string_equal(p, "/etc/digest.ini");
	free(p);
	unsetenv("DIGEST_CONFIG");
	cfg = load_ok(LEADER_OK);
	assert_string_equal(cfg->database, "/xdg/data/digest/digest.db");
	assert_string_equal(cfg->log_file, "/xdg/state/digest/digest.log");
	config_free(cfg);
	cfg = load_ok(
		"[digest]\ndatabase = /srv/d.db\nlog_file = /srv/d.log\n");
	assert_string_equal(cfg->database, "/srv/d.db");
	assert_string_equal(cfg->log_file, "/srv/d.log");
	config_free(cfg);

	/* Relative or empty: ignored, the defaults under $HOME apply. */
	setenv("XDG_CONFIG_HOME", "xdg/config", 1);
	setenv("XDG_DATA_HOME", "", 1);
	setenv("XDG_STATE_HOME", "./state", 1);
	p = config_default_path();
	assert_string_equal(p, want = in_home(".config/digest/digest.ini"));
	free(p);
	free(want);
	cfg = load_ok(LEADER_OK);
	assert_string_equal(cfg->database,
			    want = in_home(".local/share/digest/digest.db"));
	free(want);
	assert_string_equal(cfg->log_file,
			    want = in_home(".local/state/digest/digest.log"));
	free(want);
	config_free(cfg);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_DATA_HOME");
	unsetenv("XDG_STATE_HOME");
}

static void test_duration(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		int64_t secs;
	} cases[] = {
		{"0", true, 0},
		{"00", true, 0},
		{"0s", true, 0},
		{"10s", true, 10},
		{"15m", true, 900},
		{"12h", true, 43200},
		{"30d", true, 2592000},
		{"6w", true, 3628800},
		{"365d", true, 31536000},
		{"1", false, 0},
		{"30", false, 0},
		{"", false, 0},
		{"d", false, 0},
		{"-5d", false, 0},
		{"+5d", false, 0},
		{" 5d", false, 0},
		{"5d ", false, 0},
		{"5 d", false, 0},
		{"5D", false, 0},
		{"5y", false, 0},
		{"5dd", false, 0},
		{"1h30m", false, 0},
		{"1.5h", false, 0},
		{"99999999999999999999s", false, 0},
		{"9223372036854775807w", false, 0},
		{"9223372036854775807s", true, INT64_MAX},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int64_t secs = -42;
		bool ok = config_parse_duration(cases[i].in, &secs);

		if (ok != cases[i].ok)
			fail_msg("'%s': expected %s", cases[i].in,
				 cases[i].ok ? "ok" : "an error");
		assert_int_equal(secs, ok ? cases[i].secs : -42);
	}
	assert_false(config_parse_duration(NULL, NULL));
}

static void test_sendmail(void **state)
{
	config_t *cfg;
	char *p;

	(void)state;
	cfg = load_ok("[smtp]\nsendmail = ~/bin/sendmail  -oi\t-X /tmp/log\n"
		      "from = Digest <digest@example.com>\n");
	assert_null(cfg->smtp.url);
	assert_list(&cfg->smtp.sendmail, 4, p = in_home("bin/sendmail"), "-oi",
		    "-X", "/tmp/log");
	free(p);
	config_free(cfg);

	cfg = load_ok("[smtp]\nsendmail = /usr/sbin/sendmail\n");
	assert_list(&cfg->smtp.sendmail, 1, "/usr/sbin/sendmail");
	config_free(cfg);
}

static void test_url_sendmail_conflict(void **state)
{
	(void)state;
	load_fails("[smtp]\nurl = smtp://smtp.example.com\nuser = u\n"
		   "sendmail = /usr/sbin/sendmail\n",
		   "4: [smtp] has both 'url' (line 2) and 'sendmail' (line 4): "
		   "use one of them",
		   NULL);
	load_fails("[smtp]\nsendmail = /usr/sbin/sendmail\n"
		   "[smtp]\nurl = smtps://smtp.example.com\n",
		   "4: [smtp] has both 'url' (line 4) and 'sendmail' (line 2): "
		   "use one of them",
		   NULL);
}

/* ---- fixture ---------------------------------------------------------- */

static int setup(void **state)
{
	char *p;

	(void)state;
	tmpdir = test_tmpdir("config");
	home = xasprintf("%s/home", tmpdir);
	setenv("HOME", home, 1);
	setenv("TZ", "UTC", 1);
	unsetenv("DIGEST_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_DATA_HOME");
	unsetenv("XDG_STATE_HOME");
	mkdir(home, 0700);
	mkdir(p = in_home("Mail"), 0700);
	free(p);
	mkdir(p = in_home("Mail/Sent"), 0700);
	free(p);
	mkdir(p = in_home("Mail/Archive"), 0700);
	free(p);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(cfg_path);
	cfg_path = NULL;
	test_rmtree(tmpdir);
	free(tmpdir);
	free(home);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_system_zone),
		cmocka_unit_test(test_continuation_and_colon),
		cmocka_unit_test(test_cannot_open),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_several_errors),
		cmocka_unit_test(test_duplicate_leader),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_model_keys),
		cmocka_unit_test(test_valid_value_forms),
		cmocka_unit_test(test_password_in_url),
		cmocka_unit_test(test_password_key),
		cmocka_unit_test(test_leader_incomplete),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_expand_path),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_xdg),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_sendmail),
		cmocka_unit_test(test_url_sendmail_conflict),
		cmocka_unit_test(test_remote_sources),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
