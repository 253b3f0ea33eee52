/*
 * config — reads the INI file of DESIGN §3 into an immutable config_t.
 *
 * Every key of DESIGN §3 is accepted and validated; unknown sections and
 * keys, bad values and duplicate leader ids are errors.  Parsing goes on
 * after an error so that every error is reported in one pass, each as
 * "file:line: message".  libinih stays inside config.c.
 */
#ifndef DIGEST_CONFIG_H
#define DIGEST_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

typedef enum {
	SRC_MAILDIR, /* sent = maildir:PATH, or a bare PATH that is a directory
		      */
	SRC_MBOX,    /* sent = mbox:PATH, or a bare PATH that is a file */
	SRC_IMAP,    /* sent = imap://user@host[:port]/Folder or imaps:// */
	SRC_ICS,     /* calendar = PATH (a .ics file or a directory of them) */
	SRC_HTTP,    /* calendar = http:// or https:// URL */
} config_src_kind_t;

typedef struct {
	char *spec; /* the value as written in the file */
	config_src_kind_t kind;
	char *path;     /* expanded local path, or the URL */
	bool recursive; /* a maildir: source ending in "/" and two
			 * stars: every Maildir below path */
	/* IMAP: the parts of the URL, percent-decoded. */
	bool implicit_tls; /* imaps:// (else STARTTLS, required) */
	char *user;        /* the URL's user, else the leader's email */
	char *host;
	int port;     /* 993 for imaps://, 143 for imap:// */
	char *folder; /* NULL: the \Sent special-use folder */
	int line;     /* where it was configured */
} config_source_t;

typedef struct {
	char *name;        /* "team" for circle.team */
	strvec_t patterns; /* address patterns, lower case, '*' globs */
} config_circle_t;

/* imap_auth: how a leader logs in to IMAP. */
typedef enum {
	IMAP_AUTH_LOGIN = 0, /* the default */
	IMAP_AUTH_PLAIN,
	IMAP_AUTH_XOAUTH2, /* password_command prints an access token */
	IMAP_AUTH_OAUTHBEARER,
} config_imap_auth_t;

typedef struct {
	char *id;           /* [leader ID] */
	char *name;         /* may be NULL */
	char *email;        /* lower case, required */
	strvec_t aliases;   /* lower case */
	strvec_t delegates; /* lower case */
	char *send_to;      /* defaults to email */
	config_source_t *sent;
	size_t nsent;
	config_source_t *calendar;
	size_t ncalendar;
	char *password_command; /* for this leader's IMAP; may be NULL */
	config_imap_auth_t imap_auth;
	char *timezone;  /* the leader's, else [digest] timezone */
	strvec_t ignore; /* lower case patterns */
	strvec_t keep;   /* lower case patterns: people after all,
			  * whatever the built-in rules say */
	config_circle_t *circles;
	size_t ncircles;
	int line; /* line of the [leader ID] header */
} config_leader_t;

typedef struct {
	bool present;      /* an [smtp] section exists */
	char *url;         /* smtp://host[:port] or smtps://... or NULL */
	strvec_t sendmail; /* argv of the sendmail command, or empty */
	char *user;
	char *password_command;
	char *from;        /* may be NULL: the leader's email */
	char *tls_ca_file; /* expanded path or NULL */
} config_smtp_t;

typedef struct {
	char *file;              /* the config file read */
	char *database;          /* expanded path */
	char *timezone;          /* IANA name; default: the system zone */
	int64_t lookback;        /* seconds, default 365d */
	int top;                 /* default 10 */
	char *templates;         /* expanded path, or NULL: built-in */
	bool keep_subjects;      /* default no */
	bool auto_merge;         /* default yes */
	double neglect_factor;   /* default 2.0 */
	int min_touches;         /* default 3 */
	int64_t min_span;        /* seconds, default 6w */
	int64_t dormant_after;   /* seconds, default 180d */
	int64_t lock_timeout_ms; /* default 10s */
	char *log_file;          /* expanded path */
	int timeout;             /* seconds each network step (and each
				  * password_command) may take; default 30 */
	char *tls_ca_file;       /* CAs for IMAP and https sources, expanded
				  * path, or NULL: the system's */
	config_smtp_t smtp;
	config_leader_t *leaders;
	size_t nleaders;
} config_t;

/*
 * Read and validate the file at path.  On success *out is a new config
 * (free with config_free) and ST_OK is returned.  On failure returns
 * ST_CONFIG (or ST_NOINPUT when the file cannot be opened) and appends
 * every error found, "file:line: message", to *errors.
 */
status_t config_load(const char *path, config_t **out, strvec_t *errors);
void config_free(config_t *cfg);

/* The leader with this id, or NULL. */
const config_leader_t *config_leader(const config_t *cfg, const char *id);

/* The default config path: $DIGEST_CONFIG, else
 * $XDG_CONFIG_HOME/digest/digest.ini (when XDG_CONFIG_HOME is absolute),
 * else ~/.config/digest/digest.ini.  The default database and log_file
 * follow XDG_DATA_HOME and XDG_STATE_HOME the same way.  Caller frees. */
char *config_default_path(void);

/* Parse "30d", "6w", "12h", "15m", "10s" into seconds.  A number without a
 * unit is an error.  Returns false on a bad value. */
bool config_parse_duration(const char *s, int64_t *secs);

/* Expand a leading "~" and $VAR / ${VAR} in a path; an unset variable
 * expands to nothing, and when UNSET is not NULL the first such name is
 * stored there (caller frees) so that the caller can refuse the path.
 * Caller frees the result. */
char *config_expand_path(const char *s, char **unset);

#endif
