/*
 * cli — argv, the command table and exit codes.
 *
 * Commands sit in one table whose rows say what each needs (the config,
 * the database read-write or read-only), so cli_main acquires those before
 * calling the handler, and `digest --help` is generated from the same
 * table.  Handlers return a status_t; only this file prints errors, as
 * "digest: <where>: <what>", and maps statuses to sysexits.h codes.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "contacts.h"
#include "ident.h"
#include "ingest.h"
#include "model.h"
#include "people.h"
#include "render.h"
#include "report.h"
#include "run.h"
#include "store.h"
#include "tz.h"
#include "util.h"

enum { V_QUIET = 0, V_NORMAL = 1, V_VERBOSE = 2 };

/* Options: one table drives parsing, the usage lines and --help; each
 * command says which it takes (a mask of the bits). */
enum {
	O_CONFIG = 1 << 0,
	O_VERBOSE = 1 << 1,
	O_QUIET = 1 << 2,
	O_NOW = 1 << 3,
	O_HELP = 1 << 4,
	O_LEADER = 1 << 5,
	O_FORMAT = 1 << 6,
	O_NEGLECTED = 1 << 7,
	O_SINCE = 1 << 8,
	O_UNTIL = 1 << 9,
	O_UNDO = 1 << 10,
	O_DRY_RUN = 1 << 11,
	O_OUT = 1 << 12,
	O_FORCE = 1 << 13,
	O_SHARD = 1 << 14,
	O_VERSION = 1 << 15,
	O_SORT = 1 << 16,
};
#define O_GLOBAL (O_CONFIG | O_VERBOSE | O_QUIET | O_NOW | O_HELP)

typedef struct {
	const char *name;  /* --name */
	char short_name;   /* -x, or 0 */
	const char *value; /* the value's name, or NULL: a flag */
	unsigned bit;
	const char *help; /* what it does, unless the command says */
} cli_opt_t;

static const cli_opt_t options[] = {
	{"leader", 0, "ID", O_LEADER,
	 "the leader, as in [leader ID]; may be left out when the config "
	 "has only one"},
	{"format", 0, "FORMAT", O_FORMAT, "the output format"},
	{"neglected", 0, NULL, O_NEGLECTED,
	 "only the neglected, ranked as in the digest"},
	{"sort", 0, "ORDER", O_SORT,
	 "overdue (the default: most overdue first), name, or last (latest "
	 "contact first)"},
	{"since", 0, "DATE", O_SINCE,
	 "from this date or date-time on (the leader's zone)"},
	{"until", 0, "DATE", O_UNTIL,
	 "up to this date (the whole day) or date-time"},
	{"undo", 0, NULL, O_UNDO, "undo what the command did"},
	{"dry-run", 0, NULL, O_DRY_RUN,
	 "print each digest instead of sending; records nothing"},
	{"out", 0, "DIR", O_OUT,
	 "write DIR/LEADER.eml instead of sending; records nothing"},
	{"force", 0, NULL, O_FORCE,
	 "send again a digest already sent this week"},
	{"shard", 0, "K/N", O_SHARD,
	 "only the leaders whose id hashes (FNV-1a 32) to K modulo N"},
	{"config", 'c', "FILE", O_CONFIG,
	 "the config file (default $DIGEST_CONFIG, then "
	 "${XDG_CONFIG_HOME:-~/.config}/digest/digest.ini)"},
	{"verbose", 'v', NULL, O_VERBOSE,
	 "progress, and a summary line per leader"},
	{"quiet", 'q', NULL, O_QUIET, "errors only"},
	{"now", 0, "DATETIME", O_NOW,
	 "a fixed \"now\": 2026-11-30, 2026-11-30T07:00 (the leader's zone), "
	 "2026-11-30T06:00:00Z"},
	{"help", 'h', NULL, O_HELP, "this help"},
	{"version", 'V', NULL, O_VERSION, "print the version"},
};
#define NOPTIONS (sizeof options / sizeof *options)

/* What an option means for one command, when not its usual help. */
typedef struct {
	unsigned bit;
	const char *help;
} cli_ohelp_t;

typedef struct {
	const char *config_path;
	int verbosity;
	const char *now_arg; /* --now as given, or NULL */
	strvec_t leaders;    /* --leader */
	const char *format;
	const char *sort; /* --sort, or NULL */
	bool neglected;
	const char *since, *until;
	bool undo;
	bool dry_run, force;
	const char *out_dir;
	unsigned shard_k, shard_n; /* --shard K/N; N 0: all */
	config_t *cfg;
	store_t *store;
	bool partial; /* some leaders failed, others succeeded */
	bool tty;     /* stderr is a terminal: progress on one line */
	bool progress_shown;
} cli_t;

/* What a command needs before its handler runs. */
enum { NEED_CONFIG = 1, NEED_STORE_RW = 2, NEED_STORE_RO = 4 };

typedef struct {
	const char *name;
	const char *args; /* the synopsis; '\n' between alternatives */
	const char *summary;
	unsigned needs;
	unsigned options;
	int min_args, max_args; /* positional arguments; max -1: any */
	status_t (*fn)(cli_t *cli, int argc, char **argv);
	const cli_ohelp_t *ohelp; /* options meant otherwise; ends {0} */
} cli_cmd_t;

static status_t cmd_ingest(cli_t *cli, int argc, char **argv);
static status_t cmd_contacts(cli_t *cli, int argc, char **argv);
static status_t cmd_interactions(cli_t *cli, int argc, char **argv);
static status_t cmd_check(cli_t *cli, int argc, char **argv);
static status_t cmd_version(cli_t *cli, int argc, char **argv);
static status_t cmd_help(cli_t *cli, int argc, char **argv);
static status_t cmd_snooze(cli_t *cli, int argc, char **argv);
static status_t cmd_ignore(cli_t *cli, int argc, char **argv);
static status_t cmd_cadence(cli_t *cli, int argc, char **argv);
static status_t cmd_note(cli_t *cli, int argc, char **argv);
static status_t cmd_merge(cli_t *cli, int argc, char **argv);
static status_t cmd_run(cli_t *cli, int argc, char **argv);
static status_t cmd_preview(cli_t *cli, int argc, char **argv);
static status_t cmd_people(cli_t *cli, int argc, char **argv);

static const cli_ohelp_t all_leaders_help[] = {
	{O_LEADER, "only this leader (repeat for several); default: all"},
	{0, NULL},
};

static const cli_cmd_t commands[] = {
	{"run",
	 "[--dry-run] [--leader ID]... [--now DATETIME] [--force] [--out DIR] "
	 "[--shard K/N]",
	 "ingest, score and render every leader's digest, and send it once a "
	 "week",
	 NEED_CONFIG | NEED_STORE_RW,
	 O_GLOBAL | O_LEADER | O_DRY_RUN | O_OUT | O_FORCE | O_SHARD, 0, 0,
	 cmd_run, all_leaders_help},
	{"preview",
	 "--leader ID [--now DATETIME] [--format text|html|json|eml]",
	 "one leader's digest on stdout, from what is stored",
	 NEED_CONFIG | NEED_STORE_RO, O_GLOBAL | O_LEADER | O_FORMAT, 0, 0,
	 cmd_preview,
	 (const cli_ohelp_t[]){
		 {O_FORMAT, "text (default), html, json (the template data) or "
			    "eml (the whole message)"},
		 {0, NULL}}},
	{"ingest", "[--leader ID]... [--now DATETIME]",
	 "read every source of every leader (or the named ones) into the store",
	 NEED_CONFIG | NEED_STORE_RW, O_GLOBAL | O_LEADER, 0, 0, cmd_ingest,
	 all_leaders_help},
	{"contacts",
	 "--leader ID [--neglected] [--sort overdue|name|last] "
	 "[--format table|json|csv] [--now DATETIME]",
	 "the people a leader was in touch with in the lookback window",
	 NEED_CONFIG | NEED_STORE_RO,
	 O_GLOBAL | O_LEADER | O_FORMAT | O_NEGLECTED | O_SORT, 0, 0,
	 cmd_contacts,
	 (const cli_ohelp_t[]){{O_FORMAT, "table (default), json or csv"},
			       {0, NULL}}},
	{"interactions",
	 "--leader ID [--since DATE] [--until DATE] [--format json|csv]",
	 "every stored interaction of a leader, oldest first",
	 NEED_CONFIG | NEED_STORE_RO,
	 O_GLOBAL | O_LEADER | O_FORMAT | O_SINCE | O_UNTIL, 0, 0,
	 cmd_interactions,
	 (const cli_ohelp_t[]){{O_FORMAT, "json (default) or csv"}, {0, NULL}}},
	{"snooze", "--leader ID ADDRESS DURATION|off",
	 "leave someone out of the digest for a while (30d, 6w); off ends it",
	 NEED_CONFIG | NEED_STORE_RW, O_GLOBAL | O_LEADER, 2, 2, cmd_snooze,
	 NULL},
	{"ignore", "--leader ID PATTERN\n--leader ID --undo PATTERN",
	 "never count these addresses as people ('*@lists.example.org'); "
	 "--undo counts them again",
	 NEED_CONFIG | NEED_STORE_RW, O_GLOBAL | O_LEADER | O_UNDO, 1, 1,
	 cmd_ignore,
	 (const cli_ohelp_t[]){{O_UNDO, "remove PATTERN (as it was given)"},
			       {0, NULL}}},
	{"cadence", "--leader ID ADDRESS DURATION|auto",
	 "a wanted rhythm for one person; auto: back to the learned one",
	 NEED_CONFIG | NEED_STORE_RW, O_GLOBAL | O_LEADER, 2, 2, cmd_cadence,
	 NULL},
	{"note", "--leader ID ADDRESS TEXT",
	 "what matters to this person ('' removes the note)",
	 NEED_CONFIG | NEED_STORE_RW, O_GLOBAL | O_LEADER, 2, 2, cmd_note,
	 NULL},
	{"merge", "--leader ID ADDRESS ADDRESS...\n--leader ID --undo ADDRESS",
	 "several addresses, one person; --undo splits an address off again",
	 NEED_CONFIG | NEED_STORE_RW, O_GLOBAL | O_LEADER | O_UNDO, 1, -1,
	 cmd_merge,
	 (const cli_ohelp_t[]){
		 {O_UNDO, "split ADDRESS off its person, and keep auto_merge "
			  "away from it"},
		 {0, NULL}}},
	{"people", "--leader ID [--format table|json] [--now DATETIME]",
	 "what the leader told digest: snoozes, ignores, cadences, notes, "
	 "merges; and what auto_merge joined",
	 NEED_CONFIG | NEED_STORE_RO, O_GLOBAL | O_LEADER | O_FORMAT, 0, 0,
	 cmd_people,
	 (const cli_ohelp_t[]){{O_FORMAT, "table (default) or json"},
			       {0, NULL}}},
	{"check", "", "validate the config and every source, change nothing",
	 NEED_CONFIG, O_GLOBAL, 0, 0, cmd_check, NULL},
	{"version", "", "print the version (also --version, -V)", 0, O_GLOBAL,
	 0, 0, cmd_version, NULL},
	{"help", "[COMMAND]", "this help, or a command's (as COMMAND --help)",
	 0, O_GLOBAL, 0, 1, cmd_help, NULL},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static void print_err(const char *fmt, ...) UTIL_PRINTF(1, 2);

static void print_err(const char *fmt, ...)
{
	va_list ap;
	fputs("digest: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int exit_code(status_t s)
{
	switch (s) {
	case ST_OK:
		return EX_OK;
	case ST_USAGE:
		return EX_USAGE;
	case ST_DATAERR:
		return EX_DATAERR;
	case ST_NOINPUT:
		return EX_NOINPUT;
	case ST_SOFTWARE:
		return EX_SOFTWARE;
	case ST_CANTCREAT:
		return EX_CANTCREAT;
	case ST_IOERR:
		return EX_IOERR;
	case ST_TEMPFAIL:
		return EX_TEMPFAIL;
	case ST_CONFIG:
		return EX_CONFIG;
	}
	return EX_SOFTWARE;
}

/* The width --help keeps within. */
#define HELP_WIDTH 79

/* Print text from column col on, wrapped at spaces outside brackets to
 * HELP_WIDTH ("[--out DIR]" stays whole), each further line indented to
 * column indent; ends the line. */
static void wrap(FILE *out, int col, int indent, const char *text)
{
	const char *p = text;
	bool first = true;
	while (*p) {
		size_t n = 0;
		for (int depth = 0; p[n] && (depth > 0 || p[n] != ' '); n++)
			depth += p[n] == '[' ? 1 : p[n] == ']' ? -1 : 0;
		if (!first && col + 1 + (int)n > HELP_WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
			first = true;
		}
		if (!first) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, n, out);
		col += (int)n;
		first = false;
		p += n;
		p += strspn(p, " ");
	}
	fputc('\n', out);
}

/* One line per synopsis of command c, wrapped: "  NAME  ARGS" in the
 * list of commands, or after lead ("usage: digest NAME ARGS", further
 * ones "   or: digest NAME ARGS"). */
static void usage_lines(FILE *out, const cli_cmd_t *c, const char *lead)
{
	const char *a = c->args;
	bool first = true;
	do {
		size_t n = strcspn(a, "\n");
		char *alt = xstrndup(a, n);
		int col = fprintf(out, "%s%s%s",
				  lead ? (first ? lead : "   or: digest") : "",
				  lead ? " " : "  ", c->name);
		if (!lead && *alt)
			col += fprintf(out, "%*s", 14 - col, "");
		if (*alt) {
			fputc(' ', out);
			wrap(out, col + 1, col + 1, alt);
		} else {
			fputc('\n', out);
		}
		free(alt);
		a += n;
		first = false;
	} while (*a++);
}

static const char *option_help(const cli_cmd_t *c, const cli_opt_t *o)
{
	for (const cli_ohelp_t *h = c ? c->ohelp : NULL; h && h->bit; h++)
		if (h->bit == o->bit)
			return h->help;
	return o->help;
}

/* "  -c, --config FILE   the config file", wrapped. */
static void option_line(FILE *out, const cli_cmd_t *c, const cli_opt_t *o)
{
	char left[64];
	snprintf(left, sizeof left, "%c%c%c --%s%s%s",
		 o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
		 o->short_name ? ',' : ' ', o->name, o->value ? " " : "",
		 o->value ? o->value : "");
	int col = fprintf(out, "  %s", left);
	if (col > 24) {
		fputc('\n', out);
		col = 0;
	}
	fprintf(out, "%*s", 26 - col, "");
	wrap(out, 26, 26, option_help(c, o));
}

/* `digest COMMAND --help`: its synopsis and every option it takes, its
 * own first. */
static void command_help(const cli_cmd_t *c)
{
	usage_lines(stdout, c, "usage: digest");
	wrap(stdout, 0, 0, c->summary);
	printf("\noptions:\n");
	for (int global = 0; global < 2; global++)
		for (size_t i = 0; i < NOPTIONS; i++)
			if ((options[i].bit & c->options) &&
			    !(options[i].bit & O_GLOBAL) == !global)
				option_line(stdout, c, &options[i]);
}

static const cli_cmd_t *find_command(const char *name);

static status_t cmd_help(cli_t *cli, int argc, char **argv)
{
	if (argc == 1) {
		const cli_cmd_t *c = find_command(argv[0]);
		if (!c) {
			print_err("help: unknown command '%s'; 'digest help' "
				  "lists them",
				  argv[0]);
			return ST_USAGE;
		}
		command_help(c);
		return ST_OK;
	}
	printf("usage: digest [-c FILE] [-v|-q] [--now DATETIME] COMMAND "
	       "[ARGS]\n"
	       "\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		usage_lines(stdout, &commands[i], NULL);
		printf("%*s", 18, "");
		wrap(stdout, 18, 18, commands[i].summary);
	}
	printf("\noptions, before or after the command:\n");
	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].bit & (O_GLOBAL | O_VERSION))
			option_line(stdout, NULL, &options[i]);
	printf("\n'digest help COMMAND' tells a command's options.\n");
	return ST_OK;
}

static status_t cmd_version(cli_t *cli, int argc, char **argv)
{
	printf("digest %s\n", DIGEST_VERSION);
	return ST_OK;
}

/* ---- shared by the commands ----------------------------------------- */

/* "now" for leader l: --now read in the leader's zone, or the clock. */
static int64_t leader_now(const cli_t *cli, const config_leader_t *l)
{
	int64_t now;
	if (cli->now_arg && tz_parse(cli->now_arg, l->timezone, &now))
		return now;
	return (int64_t)time(NULL);
}

/* Is leader id in this run's shard (--shard K/N: FNV-1a 32 of the id is
 * K modulo N)? */
static bool in_shard(const cli_t *cli, const char *id)
{
	return !cli->shard_n ||
	       hash32(id, strlen(id)) % cli->shard_n == cli->shard_k;
}

/* The leaders to work on: --leader ones (in that order) or all, within
 * the shard. */
static status_t selected_leaders(cli_t *cli, const config_leader_t ***out,
				 size_t *n)
{
	const config_t *cfg = cli->cfg;
	*n = 0;
	*out = xcalloc(cfg->nleaders + cli->leaders.n + 1, sizeof **out);
	if (cli->leaders.n == 0) {
		for (size_t i = 0; i < cfg->nleaders; i++)
			if (in_shard(cli, cfg->leaders[i].id))
				(*out)[(*n)++] = &cfg->leaders[i];
		return ST_OK;
	}
	for (size_t i = 0; i < cli->leaders.n; i++) {
		const config_leader_t *l =
			config_leader(cfg, cli->leaders.v[i]);
		if (!l) {
			print_err("%s: no leader '%s'", cfg->file,
				  cli->leaders.v[i]);
			free(*out);
			*out = NULL;
			return ST_USAGE;
		}
		if (in_shard(cli, l->id))
			(*out)[(*n)++] = l;
	}
	return ST_OK;
}

/* Exactly one --leader, for the commands about one leader. */
static status_t one_leader(cli_t *cli, const char *cmd,
			   const config_leader_t **out)
{
	if (cli->leaders.n == 0 && cli->cfg->nleaders == 1) {
		*out = &cli->cfg->leaders[0];
		return ST_OK;
	}
	if (cli->leaders.n != 1) {
		print_err("%s: give exactly one --leader ID", cmd);
		return ST_USAGE;
	}
	*out = config_leader(cli->cfg, cli->leaders.v[0]);
	if (!*out) {
		print_err("%s: no leader '%s'", cli->cfg->file,
			  cli->leaders.v[0]);
		return ST_USAGE;
	}
	return ST_OK;
}

static void on_warn(void *ctx, const char *msg)
{
	cli_t *cli = ctx;
	if (cli->verbosity < V_NORMAL)
		return;
	if (cli->progress_shown) {
		fputs("\r\033[K", stderr);
		cli->progress_shown = false;
	}
	fprintf(stderr, "digest: warning: %s\n", msg);
}

/* A failure of one leader's run: after a stop signal, only the one line
 * cli_main prints. */
static void on_error(void *ctx, const char *msg)
{
	(void)ctx;
	if (!util_stop)
		print_err("%s", msg);
}

/* What happened, with -v. */
static void on_info(void *ctx, const char *msg)
{
	cli_t *cli = ctx;
	if (cli->verbosity >= V_VERBOSE)
		fprintf(stderr, "digest: %s\n", msg);
}

static void end_progress(cli_t *cli);

/* A progress bar on a terminal, with -v; a NULL source ends it. */
static void on_progress(void *ctx, const char *source, size_t done,
			double fraction)
{
	cli_t *cli = ctx;
	char bar[31];
	if (!source) {
		end_progress(cli);
		return;
	}
	if (cli->verbosity < V_VERBOSE || !cli->tty)
		return;
	int full = (int)(fraction * 30 + 0.5);
	for (int i = 0; i < 30; i++)
		bar[i] = i < full ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r\033[K[%s] %3d%% %zu messages, %s", bar,
		(int)(fraction * 100), done, source);
	cli->progress_shown = true;
}

static void end_progress(cli_t *cli)
{
	if (cli->progress_shown)
		fputs("\r\033[K", stderr);
	cli->progress_shown = false;
}

/* ---- commands ------------------------------------------------------- */

/* The pipeline's view of this command line. */
static run_t run_of(cli_t *cli)
{
	return (run_t){
		.store = cli->store,
		.cfg = cli->cfg,
		.force = cli->force,
		.diag = {on_warn, on_progress, cli},
		.error = on_error,
		.info = on_info,
	};
}

/* Run fn for each selected leader; a failure for one never stops the
 * others.  Returns the first failure (DESIGN §2: the exit is 1 when some
 * leaders succeeded and others failed). */
static status_t each_leader(cli_t *cli,
			    status_t (*fn)(cli_t *cli, const config_leader_t *l,
					   size_t i))
{
	const config_leader_t **ls = NULL;
	size_t n, ok = 0, failed = 0;
	status_t s, first = ST_OK;

	if ((s = selected_leaders(cli, &ls, &n)))
		return s;
	for (size_t i = 0; i < n && !util_stop; i++) {
		if ((s = fn(cli, ls[i], i))) {
			failed++;
			if (!first)
				first = s;
		} else {
			ok++;
		}
	}
	free(ls);
	cli->partial = ok && failed;
	return first;
}

static status_t ingest_one(cli_t *cli, const config_leader_t *l, size_t i)
{
	run_t r = run_of(cli);

	return run_ingest(&r, l, leader_now(cli, l));
}

static status_t cmd_ingest(cli_t *cli, int argc, char **argv)
{
	return each_leader(cli, ingest_one);
}

/* Load a leader's history in [since, until) and who counts as a person
 * about people; an unknown leader (never ingested) has none. */
static status_t load_history(cli_t *cli, const config_leader_t *l,
			     int64_t since, int64_t until, store_history_t *h,
			     people_rules_t *rules)
{
	err_t err = {0};
	int64_t id = 0;
	status_t s;
	memset(h, 0, sizeof *h);
	memset(rules, 0, sizeof *rules);
	if ((s = store_leader(cli->store, l->id, false, &id, &err)) ||
	    (id &&
	     (s = store_history(cli->store, id, since, until, h, &err))) ||
	    (s = people_rules_load(cli->store, cli->cfg, l, id, rules, &err)))
		print_err("%s", err.msg);
	return s;
}

/* The orders of `contacts --sort`, over indices into sorted_people;
 * ties go by address. */
static const people_t *sorted_people;

static int by_address(size_t a, size_t b)
{
	return strcmp(sorted_people->contacts.v[a].address,
		      sorted_people->contacts.v[b].address);
}

static int by_overdue(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	double oa = sorted_people->scores[a].overdue,
	       ob = sorted_people->scores[b].overdue;
	if (oa != ob)
		return oa < ob ? 1 : -1; /* unknown (< 0) last */
	return by_address(a, b);
}

static int by_name(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	const contact_t *ca = &sorted_people->contacts.v[a],
			*cb = &sorted_people->contacts.v[b];
	int r = strcasecmp(ca->name ? ca->name : ca->address,
			   cb->name ? cb->name : cb->address);
	return r ? r : by_address(a, b);
}

static int by_last(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int64_t la = sorted_people->contacts.v[a].last_contact,
		lb = sorted_people->contacts.v[b].last_contact;
	if (la != lb)
		return la < lb ? 1 : -1; /* never (-1) last */
	return by_address(a, b);
}

static status_t cmd_contacts(cli_t *cli, int argc, char **argv)
{
	const config_leader_t *l;
	report_format_t fmt = REPORT_TABLE;
	people_t p;
	err_t err = {0};
	int64_t id = 0;
	size_t *all = NULL;
	status_t s;

	if ((s = one_leader(cli, "contacts", &l)))
		return s;
	if (cli->format && !report_format(cli->format, &fmt)) {
		print_err("contacts: unknown format '%s' (table, json, csv)",
			  cli->format);
		return ST_USAGE;
	}
	if (cli->sort && strcmp(cli->sort, "overdue") &&
	    strcmp(cli->sort, "name") && strcmp(cli->sort, "last")) {
		print_err("contacts: unknown order '%s' (overdue, name, last)",
			  cli->sort);
		return ST_USAGE;
	}
	if ((s = store_leader(cli->store, l->id, false, &id, &err)) ||
	    (s = people_load(cli->store, cli->cfg, l, id, leader_now(cli, l),
			     &p, &err))) {
		print_err("%s", err.msg);
		return s;
	}
	/* The neglected as ranked in the digest, or everyone (or the
	 * neglected, with --sort) in the order asked for. */
	size_t n = cli->neglected ? p.nneglected : p.contacts.n;
	all = xcalloc(n ? n : 1, sizeof *all);
	for (size_t i = 0; i < n; i++)
		all[i] = cli->neglected ? p.neglected[i] : i;
	if (!cli->neglected || cli->sort) {
		sorted_people = &p;
		qsort(all, n, sizeof *all,
		      !cli->sort || strcmp(cli->sort, "overdue") == 0
			      ? by_overdue
		      : strcmp(cli->sort, "name") == 0 ? by_name
						       : by_last);
	}
	s = report_contacts(stdout, fmt, l, &p, all, n, &err);
	if (s)
		print_err("contacts: %s", err.msg);
	free(all);
	people_free(&p);
	return s;
}

/* --since/--until: a date or date-time in the leader's zone; a bare
 * --until date includes that whole day. */
static status_t parse_bound(const char *arg, const char *opt,
			    const config_leader_t *l, bool until, int64_t *out)
{
	if (!tz_parse(arg, l->timezone, out)) {
		print_err("interactions: %s: not a date: '%s'", opt, arg);
		return ST_USAGE;
	}
	if (until && strlen(arg) == 10) {
		struct tm tm;
		tz_localtime(l->timezone, *out, &tm);
		tm.tm_mday++;
		*out = tz_mktime(l->timezone, &tm);
	}
	return ST_OK;
}

static status_t cmd_interactions(cli_t *cli, int argc, char **argv)
{
	const config_leader_t *l;
	report_format_t fmt = REPORT_JSON;
	store_history_t h;
	people_rules_t rules;
	err_t err = {0};
	status_t s;

	if ((s = one_leader(cli, "interactions", &l)))
		return s;
	if (cli->format &&
	    (!report_format(cli->format, &fmt) || fmt == REPORT_TABLE)) {
		print_err("interactions: unknown format '%s' (json, csv)",
			  cli->format);
		return ST_USAGE;
	}
	int64_t since = INT64_MIN, until = leader_now(cli, l) + 1;
	if ((cli->since &&
	     (s = parse_bound(cli->since, "--since", l, false, &since))) ||
	    (cli->until &&
	     (s = parse_bound(cli->until, "--until", l, true, &until))))
		return s;
	if ((s = load_history(cli, l, since, until, &h, &rules)))
		goto done;
	s = report_interactions(stdout, fmt, cli->cfg, l, &rules.ident, &h,
				&err);
	if (s)
		print_err("interactions: %s", err.msg);
done:
	store_history_free(&h);
	people_rules_free(&rules);
	return s;
}

/* A config file others may change, or read while it holds a published
 * calendar's URL (its secret is in the path): a warning, not an error. */
static void check_config_mode(cli_t *cli)
{
	const config_t *cfg = cli->cfg;
	struct stat sb;
	bool secret_url = false;
	if (stat(cfg->file, &sb) < 0)
		return;
	for (size_t i = 0; i < cfg->nleaders; i++)
		for (size_t k = 0; k < cfg->leaders[i].ncalendar; k++)
			if (cfg->leaders[i].calendar[k].kind == SRC_HTTP)
				secret_url = true;
	char *msg = NULL;
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		msg = xasprintf(
			"%s: writable by others, who could change what "
			"digest runs and where it sends (chmod go-w %s)",
			cfg->file, cfg->file);
	else if (secret_url && (sb.st_mode & (S_IRGRP | S_IROTH)))
		msg = xasprintf(
			"%s: readable by others, and it holds a calendar "
			"URL whose path is its secret (chmod go-r %s)",
			cfg->file, cfg->file);
	if (msg)
		on_warn(cli, msg);
	free(msg);
}

static status_t cmd_check(cli_t *cli, int argc, char **argv)
{
	status_t first = ST_OK;
	check_config_mode(cli);
	for (size_t i = 0; i < cli->cfg->nleaders; i++) {
		const config_leader_t *l = &cli->cfg->leaders[i];
		for (size_t k = 0; k < l->nsent + l->ncalendar; k++) {
			const config_source_t *src =
				k < l->nsent ? &l->sent[k]
					     : &l->calendar[k - l->nsent];
			err_t err = {0};
			ingest_diag_t diag = {on_warn, NULL, cli};
			status_t s =
				ingest_check(cli->cfg, l, src,
					     leader_now(cli, l), &diag, &err);
			if (s) {
				print_err("%s:%d: leader %s: %s",
					  cli->cfg->file, src->line, l->id,
					  err.msg);
				if (!first)
					first = s;
			}
		}
	}
	/* The database, when there is one: damaged (65) or unreadable is
	 * an error; a schema the next ingest upgrades (ST_SOFTWARE, as is
	 * one newer than this digest) is left unsaid, as before. */
	store_t *st = NULL;
	err_t err = {0};
	if (access(cli->cfg->database, F_OK) == 0) {
		status_t s = store_open_readonly(cli->cfg->database, &st, &err);
		if (!s && (s = store_quick_check(st, &err))) {
			store_close(st);
			st = NULL;
		}
		if (s && s != ST_SOFTWARE) {
			print_err("%s", err.msg);
			if (!first)
				first = s;
		}
	}
	/* The templates: every one parsed, partials included (render.h). */
	err_t terr = {0};
	status_t ts = render_check(cli->cfg, &terr);
	if (ts) {
		print_err("%s", terr.msg);
		if (!first)
			first = ts;
	}
	/* Sources that brought nothing new for too long (DESIGN §8). */
	if (st) {
		for (size_t i = 0; i < cli->cfg->nleaders; i++) {
			const config_leader_t *l = &cli->cfg->leaders[i];
			int64_t id = 0;
			people_t p;
			strvec_t stale = {0};
			if (store_leader(st, l->id, false, &id, &err) || !id ||
			    people_load(st, cli->cfg, l, id, leader_now(cli, l),
					&p, &err))
				continue;
			people_stale_sources(st, l, id, &p, &stale, &err);
			for (size_t k = 0; k < stale.n; k++) {
				print_err("%s: leader %s: %s; is its sync "
					  "broken?",
					  cli->cfg->file, l->id, stale.v[k]);
				if (!first)
					first = ST_TEMPFAIL;
			}
			strvec_free(&stale);
			people_free(&p);
		}
		store_close(st);
	}
	if (!first && cli->verbosity >= V_NORMAL)
		printf("configuration OK\n");
	return first;
}

/* ---- the digest ------------------------------------------------------ */

static status_t cmd_preview(cli_t *cli, int argc, char **argv)
{
	const config_leader_t *l;
	status_t s;
	static const char *const names[] = {
		[RUN_TEXT] = "text",
		[RUN_HTML] = "html",
		[RUN_JSON] = "json",
		[RUN_EML] = "eml",
	};
	const char *fmt = cli->format ? cli->format : "text";
	run_format_t f = RUN_TEXT;
	run_t r = run_of(cli);
	run_digest_t *d = NULL;

	if ((s = one_leader(cli, "preview", &l)))
		return s;
	while (f <= RUN_EML && strcmp(fmt, names[f]))
		f++;
	if (f > RUN_EML) {
		print_err(
			"preview: unknown format '%s' (text, html, json, eml)",
			fmt);
		return ST_USAGE;
	}
	if (!(s = run_digest(&r, l, leader_now(cli, l), &d)))
		s = run_digest_write(&r, d, f, stdout);
	run_digest_free(d);
	return s;
}

/* run for one leader: ingest, then send the digest, or write it (--out),
 * or print it (--dry-run). */
static status_t run_one(cli_t *cli, const config_leader_t *l, size_t i)
{
	run_t r = run_of(cli);
	run_mode_t mode = {
		.dry_run = cli->dry_run ? stdout : NULL,
		.out_dir = cli->out_dir,
		.first = i == 0,
	};

	return run_leader(&r, l, leader_now(cli, l), &mode);
}

/* run: ingest, then deliver each leader's digest once per week (the
 * ledger); --dry-run prints it and --out writes LEADER.eml files, and
 * neither sends nor records anything. */
static status_t cmd_run(cli_t *cli, int argc, char **argv)
{
	const config_smtp_t *smtp = &cli->cfg->smtp;
	if (!cli->dry_run && !cli->out_dir && !smtp->url &&
	    smtp->sendmail.n == 0) {
		print_err("run: %s: no [smtp] url or sendmail to send with "
			  "(or use --dry-run, --out DIR)",
			  cli->cfg->file);
		return ST_CONFIG;
	}
	/* A broken template fails before anything is ingested or sent. */
	err_t err = {0};
	status_t s = render_check(cli->cfg, &err);
	if (s) {
		print_err("run: %s", err.msg);
		return s;
	}
	return each_leader(cli, run_one);
}

/* ---- what the leader says about people ------------------------------ */

/* An address from the command line, lower-cased; NULL (after saying
 * why) when it is not one. */
static char *arg_address(const char *cmd, const char *arg)
{
	if (!ident_addr_ok(arg)) {
		print_err("%s: not an email address: '%s'", cmd, arg);
		return NULL;
	}
	return str_lower(xstrdup(arg));
}

/* The leader of a people command and their row (created if need be). */
static status_t people_leader(cli_t *cli, const char *cmd,
			      const config_leader_t **l, int64_t *id)
{
	err_t err = {0};
	status_t s = one_leader(cli, cmd, l);
	if (s)
		return s;
	if ((s = store_begin(cli->store, &err)) ||
	    (s = store_leader(cli->store, (*l)->id, true, id, &err)) ||
	    (s = store_commit(cli->store, &err))) {
		store_rollback(cli->store);
		print_err("%s", err.msg);
	}
	return s;
}

static status_t saved(status_t s, const err_t *err)
{
	if (s)
		print_err("%s", err->msg);
	return s;
}

/* addr as the leader knows them, "Name <addr>" or "addr" (caller frees);
 * warns when the address never took part in the leader's mail or
 * meetings: a typo, most likely, but saved all the same. */
static char *who(cli_t *cli, const char *cmd, int64_t id, const char *addr,
		 bool warn)
{
	bool seen = false;
	char *name = NULL, *r;
	err_t err = {0};
	if (store_address(cli->store, id, addr, &seen, &name, &err) == ST_OK &&
	    !seen && warn) {
		char *msg =
			xasprintf("%s: %s was never seen in this leader's "
				  "mail or calendar (a typo?); saved anyway",
				  cmd, addr);
		on_warn(cli, msg);
		free(msg);
	}
	r = name ? xasprintf("%s <%s>", name, addr) : xstrdup(addr);
	free(name);
	return str_sanitize(r);
}

/* The one line a people command prints about what it changed (not with
 * -q). */
static void changed(cli_t *cli, const char *fmt, ...) UTIL_PRINTF(2, 3);

static void changed(cli_t *cli, const char *fmt, ...)
{
	va_list ap;
	if (cli->verbosity < V_NORMAL)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static status_t cmd_snooze(cli_t *cli, int argc, char **argv)
{
	const config_leader_t *l;
	int64_t id, secs = 0;
	err_t err = {0};
	status_t s;
	char *addr = NULL;
	bool off = strcmp(argv[1], "off") == 0;

	if ((s = people_leader(cli, "snooze", &l, &id)))
		return s;
	if (!(addr = arg_address("snooze", argv[0])))
		return ST_USAGE;
	if (!off && (!config_parse_duration(argv[1], &secs) || secs <= 0)) {
		print_err("snooze: not a duration nor 'off': '%s' (30d, 6w)",
			  argv[1]);
		free(addr);
		return ST_USAGE;
	}
	int64_t now = leader_now(cli, l), until = off ? 0 : now + secs;
	if (!off && secs % 86400 == 0) {
		/* Whole days are days on the leader's calendar: 30d across a
		 * change to or from summer time still ends 30 dates later, at
		 * the same time of day. */
		struct tm wall;
		tz_localtime(l->timezone, now, &wall);
		wall.tm_mday += (int)(secs / 86400);
		wall.tm_isdst = -1;
		until = tz_mktime(l->timezone, &wall);
	}
	if (!(s = saved(store_snooze(cli->store, id, addr, until, &err),
			&err))) {
		char *w = who(cli, "snooze", id, addr, !off), date[11];
		if (off) {
			changed(cli, "snooze ended for %s", w);
		} else {
			tz_format_date(l->timezone, until, date);
			changed(cli, "snoozed %s until %s", w, date);
		}
		free(w);
	}
	free(addr);
	return s;
}

static status_t cmd_ignore(cli_t *cli, int argc, char **argv)
{
	const config_leader_t *l;
	int64_t id;
	err_t err = {0};
	status_t s;
	bool removed;

	if ((s = people_leader(cli, "ignore", &l, &id)))
		return s;
	if (!*argv[0] || strpbrk(argv[0], " \t\r\n")) {
		print_err("ignore: not an address pattern: '%s'", argv[0]);
		return ST_USAGE;
	}
	char *pattern = str_sanitize(str_lower(xstrdup(argv[0])));
	if (cli->undo) {
		s = saved(
			store_unignore(cli->store, id, pattern, &removed, &err),
			&err);
		if (!s && removed) {
			changed(cli, "no longer ignoring %s", pattern);
		} else if (!s) {
			char *msg = xasprintf("ignore: %s was not ignored; "
					      "'digest people' lists what is",
					      pattern);
			on_warn(cli, msg);
			free(msg);
		}
	} else {
		s = saved(store_ignore(cli->store, id, pattern, &err), &err);
		if (!s)
			changed(cli, "ignoring %s", pattern);
	}
	free(pattern);
	return s;
}

static status_t cmd_cadence(cli_t *cli, int argc, char **argv)
{
	const config_leader_t *l;
	int64_t id, secs = 0;
	err_t err = {0};
	status_t s;
	char *addr = NULL;

	if ((s = people_leader(cli, "cadence", &l, &id)))
		return s;
	if (!(addr = arg_address("cadence", argv[0])))
		return ST_USAGE;
	bool learned = strcmp(argv[1], "auto") == 0;
	if (!learned &&
	    (!config_parse_duration(argv[1], &secs) || secs < 86400)) {
		print_err("cadence: not a duration of a day or more, nor "
			  "'auto': '%s'",
			  argv[1]);
		s = ST_USAGE;
	} else if (!(s = saved(store_cadence(cli->store, id, addr,
					     secs / 86400.0, &err),
			       &err))) {
		char *w = who(cli, "cadence", id, addr, !learned);
		if (learned)
			changed(cli, "cadence of %s: the learned rhythm again",
				w);
		else
			changed(cli, "cadence of %s: every %g days", w,
				secs / 86400.0);
		free(w);
	}
	free(addr);
	return s;
}

static status_t cmd_note(cli_t *cli, int argc, char **argv)
{
	const config_leader_t *l;
	int64_t id;
	err_t err = {0};
	status_t s;
	char *addr = NULL;

	if ((s = people_leader(cli, "note", &l, &id)))
		return s;
	if (!(addr = arg_address("note", argv[0])))
		return ST_USAGE;
	char *text = str_sanitize(xstrdup(argv[1]));
	const char *t = str_trim(text);
	s = saved(store_note(cli->store, id, addr, t, &err), &err);
	if (!s) {
		char *w = who(cli, "note", id, addr, *t != '\0');
		changed(cli, *t ? "note saved for %s" : "note removed for %s",
			w);
		free(w);
	}
	free(text);
	free(addr);
	return s;
}

static status_t cmd_merge(cli_t *cli, int argc, char **argv)
{
	const config_leader_t *l;
	int64_t id;
	err_t err = {0};
	status_t s;
	strvec_t addrs = {0};

	if ((s = people_leader(cli, "merge", &l, &id)))
		return s;
	if (cli->undo ? argc != 1 : argc < 2) {
		usage_lines(stderr, find_command("merge"), "usage: digest");
		return ST_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		char *a = arg_address("merge", argv[i]);
		if (!a) {
			s = ST_USAGE;
			goto done;
		}
		strvec_take(&addrs, a);
	}
	s = cli->undo
		    ? store_unmerge(cli->store, id, addrs.v[0], &err)
		    : store_merge(cli->store, id, (const char *const *)addrs.v,
				  addrs.n, &err);
	if (saved(s, &err))
		goto done;
	strbuf_t b = {0};
	for (size_t i = 0; i < addrs.n; i++) {
		char *w = who(cli, "merge", id, addrs.v[i], !cli->undo);
		sb_printf(&b, "%s%s",
			  i ? (i + 1 < addrs.n ? ", " : " and ") : "", w);
		free(w);
	}
	changed(cli, cli->undo ? "split %s off" : "merged %s: one person",
		sb_str(&b));
	sb_free(&b);
done:
	strvec_free(&addrs);
	return s;
}

/* "Name <addr>" of a people entry, or the address. */
static char *entry_who(json_t *e)
{
	const char *a = json_string_value(json_object_get(e, "address"));
	const char *n = json_string_value(json_object_get(e, "name"));
	return str_sanitize(n ? xasprintf("%s <%s>", n, a) : xstrdup(a));
}

/* An array of addresses as "a, b, c". */
static char *joined(json_t *a)
{
	strbuf_t b = {0};
	for (size_t i = 0; i < json_array_size(a); i++)
		sb_printf(&b, "%s%s", i ? ", " : "",
			  json_string_value(json_array_get(a, i)));
	char *r = xstrdup(sb_str(&b));
	sb_free(&b);
	return str_sanitize(r);
}

/* `people` as text: one section per kind, empty ones left out. */
static void people_table(json_t *o)
{
	static const char *const kinds[][2] = {
		{"snoozes", "snoozed (snooze ADDRESS off ends it)"},
		{"ignores", "ignored (ignore --undo PATTERN)"},
		{"cadences", "cadences (cadence ADDRESS auto)"},
		{"notes", "notes (note ADDRESS '')"},
		{"merges", "merged by you (merge --undo ADDRESS)"},
		{"split",
		 "split off by you (merge ADDRESS ADDRESS joins again)"},
		{"auto_merges", "merged by auto_merge (merge --undo ADDRESS)"},
	};
	bool any = false;
	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
		json_t *a = json_object_get(o, kinds[k][0]);
		if (!json_array_size(a))
			continue;
		printf("%s%s\n", any ? "\n" : "", kinds[k][1]);
		any = true;
		for (size_t i = 0; i < json_array_size(a); i++) {
			json_t *e = json_array_get(a, i);
			char *w =
				json_is_string(e)
					? str_sanitize(
						  xstrdup(json_string_value(e)))
				: k >= 4 ? joined(json_object_get(e,
								  "addresses"))
					 : entry_who(e);
			if (k == 0)
				printf("  %s until %s\n", w,
				       json_string_value(
					       json_object_get(e, "until")));
			else if (k == 2)
				printf("  %s every %g days\n", w,
				       json_number_value(json_object_get(
					       e, "rhythm_days")));
			else if (k == 3) {
				char *n =
					str_sanitize(xstrdup(json_string_value(
						json_object_get(e, "note"))));
				printf("  %s: %s\n", w, n);
				free(n);
			} else
				printf("  %s\n", w);
			free(w);
		}
	}
	if (!any)
		printf("nothing said about anyone yet\n");
}

/* people: what the leader told digest, and what auto_merge joined. */
static status_t cmd_people(cli_t *cli, int argc, char **argv)
{
	const config_leader_t *l;
	store_said_t said = {0};
	people_t p;
	err_t err = {0};
	int64_t id = 0, now;
	status_t s;
	bool json;

	if ((s = one_leader(cli, "people", &l)))
		return s;
	const char *fmt = cli->format ? cli->format : "table";
	json = strcmp(fmt, "json") == 0;
	if (!json && strcmp(fmt, "table") && strcmp(fmt, "text")) {
		print_err("people: unknown format '%s' (table, json)", fmt);
		return ST_USAGE;
	}
	now = leader_now(cli, l);
	if ((s = store_leader(cli->store, l->id, false, &id, &err)) ||
	    (id && (s = store_said(cli->store, id, &said, &err)))) {
		print_err("%s", err.msg);
		return s;
	}
	if ((s = people_load(cli->store, cli->cfg, l, id, now, &p, &err))) {
		print_err("%s", err.msg);
		store_said_free(&said);
		return s;
	}
	json_t *o = json_object(), *snoozes = json_array(),
	       *cadences = json_array(), *notes = json_array(),
	       *ignores = json_array(), *merges = json_array(),
	       *split = json_array(), *autos = json_array();
	for (size_t i = 0; i < said.nsettings; i++) {
		const store_setting_t *x = &said.settings[i];
		bool seen = false;
		char *name = NULL;
		store_address(cli->store, id, x->addr, &seen, &name, &err);
		if (x->snoozed_until > now) {
			char date[11];
			tz_format_date(l->timezone, x->snoozed_until, date);
			json_array_append_new(
				snoozes,
				json_pack("{s:s, s:o, s:s}", "address", x->addr,
					  "name", model_text(name), "until",
					  date));
		}
		if (x->cadence_days > 0)
			json_array_append_new(
				cadences,
				json_pack("{s:s, s:o, s:o}", "address", x->addr,
					  "name", model_text(name),
					  "rhythm_days",
					  model_number(x->cadence_days)));
		if (x->note)
			json_array_append_new(
				notes,
				json_pack("{s:s, s:o, s:o}", "address", x->addr,
					  "name", model_text(name), "note",
					  model_text(x->note)));
		free(name);
	}
	for (size_t i = 0; i < said.ignore.n; i++)
		json_array_append_new(ignores, model_text(said.ignore.v[i]));
	/* Manual merges: each person with the addresses merged into it. */
	for (size_t i = 0; i + 1 < said.merged.n; i += 2) {
		const char *person = said.merged.v[i + 1];
		json_t *m = NULL;
		for (size_t k = 0; k < json_array_size(merges) && !m; k++) {
			json_t *e = json_array_get(merges, k);
			if (strcmp(json_string_value(
					   json_object_get(e, "address")),
				   person) == 0)
				m = e;
		}
		if (!m) {
			m = json_pack("{s:s, s:[s]}", "address", person,
				      "addresses", person);
			json_array_append_new(merges, m);
		}
		json_array_append_new(json_object_get(m, "addresses"),
				      json_string(said.merged.v[i]));
	}
	for (size_t i = 0; i < said.unmerged.n; i++)
		json_array_append_new(split, json_string(said.unmerged.v[i]));
	/* auto_merge: people whose addresses are not all one manual merge. */
	for (size_t i = 0; i < p.contacts.n; i++) {
		const contact_t *c = &p.contacts.v[i];
		if (!people_merge_is_auto(&said.merged, c))
			continue;
		json_t *a = json_array();
		for (size_t k = 0; k < c->naddresses; k++)
			json_array_append_new(a, json_string(c->addresses[k]));
		json_array_append_new(
			autos,
			json_pack("{s:s, s:o, s:o}", "address", c->address,
				  "name", model_text(c->name), "addresses", a));
	}
	json_object_set_new(o, "snoozes", snoozes);
	json_object_set_new(o, "ignores", ignores);
	json_object_set_new(o, "cadences", cadences);
	json_object_set_new(o, "notes", notes);
	json_object_set_new(o, "merges", merges);
	json_object_set_new(o, "split", split);
	json_object_set_new(o, "auto_merges", autos);
	if (json) {
		char *j = json_dumps(o, MODEL_JSON_FLAGS);
		printf("%s\n", j);
		free(j);
	} else {
		people_table(o);
	}
	json_decref(o);
	people_free(&p);
	store_said_free(&said);
	return ST_OK;
}

/* ---- main ----------------------------------------------------------- */

static const cli_cmd_t *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* getopt's view of the option table: long options return 256 + their
 * index, short ones their letter. */
static void getopt_tables(struct option *longs, char *shorts, bool global)
{
	char *p = shorts;
	if (global)
		*p++ = '+'; /* stop at the command */
	*p++ = ':';
	for (size_t i = 0; i < NOPTIONS; i++) {
		longs[i] = (struct option){options[i].name,
					   options[i].value ? required_argument
							    : no_argument,
					   NULL, 256 + (int)i};
		if (options[i].short_name) {
			*p++ = options[i].short_name;
			if (options[i].value)
				*p++ = ':';
		}
	}
	longs[NOPTIONS] = (struct option){NULL, 0, NULL, 0};
	*p = '\0';
}

static const cli_opt_t *option_of(int c)
{
	if (c >= 256 && c < 256 + (int)NOPTIONS)
		return &options[c - 256];
	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].short_name && options[i].short_name == c)
			return &options[i];
	return NULL;
}

/* The option as typed: "-c" or "--leader" (an abbreviation as given). */
static char *typed(int c, const char *arg)
{
	if (c > 0 && c < 256)
		return xasprintf("-%c", c);
	return xstrndup(arg, strcspn(arg, "="));
}

/* Parse options from argv[optind] on (the global ones before the command
 * when cmd is NULL, stopping at it; then the command's, anywhere among its
 * arguments, which getopt moves to the end); a command allows `allowed`.
 * Returns false (after printing why) on a usage error. */
static bool parse_options(cli_t *cli, int argc, char **argv,
			  const cli_cmd_t *cmd, bool *help, bool *version)
{
	struct option longs[NOPTIONS + 1];
	char shorts[2 + 2 * NOPTIONS + 1];
	const char *where = cmd ? cmd->name : NULL;
	/* --version, like the global options, goes before or after the
	 * command. */
	unsigned allowed = (cmd ? cmd->options : O_GLOBAL) | O_VERSION;
	int c;

	getopt_tables(longs, shorts, !cmd);
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const char *arg = argv[optind - 1];
		if (c == ':') {
			char *t = typed(optopt, arg);
			print_err("%s%s%s needs a value", where ? where : "",
				  where ? ": " : "", t);
			free(t);
			return false;
		}
		if (c == '?') {
			char *t = typed(optopt, arg);
			print_err("%s%sunknown option '%s'", where ? where : "",
				  where ? ": " : "", t);
			free(t);
			return false;
		}
		const cli_opt_t *o = option_of(c);
		if (!o)
			continue; /* not reached: every option is in the table
				   */
		if (!(o->bit & allowed)) {
			if (where)
				print_err("%s: '--%s' is not an option of this "
					  "command",
					  where, o->name);
			else
				print_err("'--%s' goes after the command",
					  o->name);
			return false;
		}
		switch (o->bit) {
		case O_CONFIG:
			cli->config_path = optarg;
			break;
		case O_VERBOSE:
			cli->verbosity = V_VERBOSE;
			break;
		case O_QUIET:
			cli->verbosity = V_QUIET;
			break;
		case O_NOW:
			cli->now_arg = optarg;
			break;
		case O_HELP:
			*help = true;
			break;
		case O_VERSION:
			*version = true;
			break;
		case O_LEADER:
			strvec_push(&cli->leaders, optarg);
			break;
		case O_FORMAT:
			cli->format = optarg;
			break;
		case O_NEGLECTED:
			cli->neglected = true;
			break;
		case O_SORT:
			cli->sort = optarg;
			break;
		case O_SINCE:
			cli->since = optarg;
			break;
		case O_UNTIL:
			cli->until = optarg;
			break;
		case O_UNDO:
			cli->undo = true;
			break;
		case O_DRY_RUN:
			cli->dry_run = true;
			break;
		case O_OUT:
			cli->out_dir = optarg;
			break;
		case O_FORCE:
			cli->force = true;
			break;
		case O_SHARD: {
			char *end;
			unsigned long k = strtoul(optarg, &end, 10), n = 0;
			if (*end == '/')
				n = strtoul(end + 1, &end, 10);
			if (*end || n == 0 || k >= n || n > 1000000) {
				print_err("%s: --shard takes K/N with 0 <= K < "
					  "N: '%s'",
					  where, optarg);
				return false;
			}
			cli->shard_k = (unsigned)k;
			cli->shard_n = (unsigned)n;
			break;
		}
		}
	}
	return true;
}

static status_t load_config(cli_t *cli)
{
	strvec_t errors = {0};
	char *path = cli->config_path ? xstrdup(cli->config_path)
				      : config_default_path();
	status_t s = config_load(path, &cli->cfg, &errors);
	for (size_t i = 0; i < errors.n; i++)
		print_err("%s", errors.v[i]);
	strvec_free(&errors);
	free(path);
	return s;
}

int cli_main(int argc, char **argv)
{
	cli_t cli = {.verbosity = V_NORMAL, .tty = isatty(STDERR_FILENO)};
	int lock_fd = -1;
	const cli_cmd_t *cmd = NULL;
	bool help = false, version = false;
	status_t s = ST_OK;
	err_t err = {0};

	optind = 1;
	if (!parse_options(&cli, argc, argv, NULL, &help, &version)) {
		s = ST_USAGE;
		goto done;
	}
	if (version) {
		s = cmd_version(&cli, 0, NULL);
		goto done;
	}
	if (optind >= argc) {
		if (help) {
			s = cmd_help(&cli, 0, NULL);
			goto done;
		}
		print_err("no command given; 'digest help' lists them");
		s = ST_USAGE;
		goto done;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		print_err("unknown command '%s'; 'digest help' lists them",
			  argv[optind]);
		s = ST_USAGE;
		goto done;
	}
	/* The command's own options, and the global ones again, anywhere
	 * among its arguments (optind 0 makes getopt start afresh: the first
	 * parse stopped at the command). */
	int cargc = argc - optind;
	char **cargv = argv + optind;
	optind = 0;
	if (!parse_options(&cli, cargc, cargv, cmd, &help, &version)) {
		s = ST_USAGE;
		goto done;
	}
	if (help) {
		command_help(cmd);
		goto done;
	}
	if (version) {
		s = cmd_version(&cli, 0, NULL);
		goto done;
	}
	int nargs = cargc - optind;
	if (nargs < cmd->min_args ||
	    (cmd->max_args >= 0 && nargs > cmd->max_args)) {
		if (nargs > cmd->max_args && cmd->max_args >= 0)
			print_err("%s: unexpected argument '%s'", cmd->name,
				  cargv[optind + cmd->max_args]);
		else
			usage_lines(stderr, cmd, "usage: digest");
		s = ST_USAGE;
		goto done;
	}
	int64_t probe;
	if (cli.now_arg && !tz_parse(cli.now_arg, "UTC", &probe)) {
		print_err("--now: not a date or date-time: '%s'", cli.now_arg);
		s = ST_USAGE;
		goto done;
	}
	if ((cmd->needs & NEED_CONFIG) && (s = load_config(&cli)))
		goto done;
	/* From here a stop signal rolls back and exits 75. */
	run_catch_signals();
	if ((cmd->needs & NEED_STORE_RW) &&
	    (s = store_lock(cli.cfg->database, cli.cfg->lock_timeout_ms,
			    &lock_fd, &err))) {
		print_err("%s", err.msg);
		goto done;
	}
	if (cmd->needs & (NEED_STORE_RW | NEED_STORE_RO)) {
		s = (cmd->needs & NEED_STORE_RW)
			    ? store_open(cli.cfg->database,
					 (int)cli.cfg->lock_timeout_ms,
					 &cli.store, &err)
			    : store_open_readonly(cli.cfg->database, &cli.store,
						  &err);
		if (s) {
			print_err("%s", err.msg);
			goto done;
		}
	}
	s = cmd->fn(&cli, cargc - optind, cargv + optind);
	if (util_stop) {
		print_err(
			"stopped by SIG%s; what was half done is rolled back, "
			"and the next run goes on from there",
			sigabbrev_np(util_stop));
		s = ST_TEMPFAIL;
		cli.partial = false;
	}
done:
	store_close(cli.store);
	store_unlock(lock_fd);
	config_free(cli.cfg);
	strvec_free(&cli.leaders);
	if (fflush(stdout) == EOF && !s) {
		print_err("cannot write the output: %s", strerror(errno));
		s = ST_IOERR;
	}
	return cli.partial && s ? 1 : exit_code(s);
}
