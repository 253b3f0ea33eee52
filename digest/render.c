/*
 * render — templates to text, HTML and email.  See render.h.
 */
#include "render.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embed.h"
#include "mime.h"
#include "mustache.h"

/* A template file is a few kB; anything much larger is not one. */
#define TEMPLATE_MAX (1u << 20)

static const char *const part_names[] = {"subject", "digest.txt",
					 "digest.html"};

typedef struct {
	const config_t *cfg;
	strvec_t loaded; /* texts and paths read from `templates =` */
	err_t *err;
	status_t failed; /* the first file that could not be read */
} tmpl_ctx_t;

/* The templates directory must be one: a typo in `templates =` would
 * otherwise go unnoticed, the built-in templates standing in. */
static status_t check_dir(const config_t *cfg, err_t *err)
{
	struct stat sb;

	if (!cfg->templates)
		return ST_OK;
	if (stat(cfg->templates, &sb) != 0)
		return err_set(err, ST_CONFIG, "%s: templates = %s: %s",
			       cfg->file, cfg->templates, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return err_set(err, ST_CONFIG,
			       "%s: templates = %s: not a directory", cfg->file,
			       cfg->templates);
	return ST_OK;
}

/* Read the template at path into *text (caller frees), or set *text to
 * NULL when there is no such file.  Only a regular file (a FIFO would
 * hang the run) of at most TEMPLATE_MAX bytes (/dev/zero, if it got past,
 * would fill memory); anything else is the user's configuration. */
static status_t read_template(const char *path, char **text, err_t *err)
{
	strbuf_t b = {0};
	char chunk[4096];
	ssize_t n;
	status_t s = ST_OK;
	err_t oerr = {0};
	int fd = open_regular(path, 0, NULL, &oerr);

	*text = NULL;
	if (fd < 0) {
		if (errno == ENOENT)
			return ST_OK;
		return err_set(err,
			       oerr.status == ST_DATAERR ? ST_CONFIG
							 : oerr.status,
			       "%s", oerr.msg);
	}
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s = err_set(err, ST_IOERR, "%s: %s", path,
				    strerror(errno));
			goto done;
		}
		if (b.len + (size_t)n > TEMPLATE_MAX) {
			s = err_set(err, ST_CONFIG,
				    "%s: larger than %u kB, not a template",
				    path, TEMPLATE_MAX >> 10);
			goto done;
		}
		sb_add(&b, chunk, (size_t)n);
	}
	if (memchr(sb_str(&b), '\0', b.len)) {
		s = err_set(err, ST_CONFIG,
			    "%s: holds a NUL byte, not a "
			    "template",
			    path);
		goto done;
	}
	*text = xstrdup(sb_str(&b));
done:
	sb_free(&b);
	close(fd);
	return s;
}

/* A template by name: from the configured directory when it has the
 * file, else built in; NULL when neither has it, or when the file cannot
 * be read (t->failed says why).  *label is set to its path when it is a
 * file. */
static const char *lookup(tmpl_ctx_t *t, const char *name, const char **label)
{
	if (strchr(name, '/') || name[0] == '.' || t->failed)
		return NULL;
	if (t->cfg->templates) {
		char *path = xasprintf("%s/%s", t->cfg->templates, name);
		char *text = NULL;
		status_t s = read_template(path, &text, t->err);
		if (s) {
			t->failed = s;
			free(path);
			return NULL;
		}
		if (text) {
			strvec_take(&t->loaded, path);
			strvec_take(&t->loaded, text);
			if (label)
				*label = path;
			return text;
		}
		free(path);
	}
	for (const struct embed_file *e = embed_templates; e->name; e++)
		if (strcmp(e->name, name) == 0)
			return e->data;
	return NULL;
}

static const char *partial(void *ctx, const char *name, const char **label)
{
	return lookup(ctx, name, label);
}

/* The template of part into *tmpl, and what messages call it into
 * *label. */
static status_t load(tmpl_ctx_t *t, render_part_t part, const char **tmpl,
		     const char **label, err_t *err)
{
	status_t s;

	if ((s = check_dir(t->cfg, err)))
		return s;
	*label = part_names[part];
	*tmpl = lookup(t, part_names[part], label);
	if (t->failed)
		return t->failed;
	if (!*tmpl)
		return err_set(err, ST_SOFTWARE, "template %s not built in",
			       part_names[part]);
	return ST_OK;
}

/* A template that does not parse, or expands without end, is the user's
 * configuration, not bad data. */
static status_t template_status(status_t s)
{
	return s == ST_DATAERR ? ST_CONFIG : s;
}

static int display_width(const char *s, size_t n)
{
	int w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

char *render_wrap(const char *text, int width)
{
	strbuf_t out = {0};
	const char *line = text;
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		size_t indent = 0;
		while (indent < len && line[indent] == ' ')
			indent++;
		size_t cont =
			indent + (len > indent + 1 && line[indent] == '-' &&
						  line[indent + 1] == ' '
					  ? 2
					  : 0);
		const char *p = line, *end = line + len;
		size_t pad = 0; /* indentation of a continuation */
		while (display_width(p, (size_t)(end - p)) + (int)pad > width) {
			/* the last blank that keeps the line within width */
			const char *cut = NULL;
			for (const char *q = p + (p == line ? indent : 0);
			     q < end; q++)
				if (*q == ' ' &&
				    display_width(p, (size_t)(q - p)) +
						    (int)pad <=
					    width)
					cut = q;
			if (!cut)
				break; /* one long word: leave it */
			for (size_t i = 0; i < pad; i++)
				sb_putc(&out, ' ');
			sb_add(&out, p, (size_t)(cut - p));
			sb_putc(&out, '\n');
			p = cut + 1;
			pad = cont;
		}
		for (size_t i = 0; i < pad; i++)
			sb_putc(&out, ' ');
		sb_add(&out, p, (size_t)(end - p));
		if (!eol)
			break;
		sb_putc(&out, '\n');
		line = eol + 1;
	}
	return sb_steal(&out);
}

/* A subject longer than SUBJECT_MAX code points (a name from mail can be
 * anything) is cut at a character boundary and ends in "…". */
#define SUBJECT_MAX 100

static void cut_subject(strbuf_t *b, size_t start)
{
	int n = 0;
	for (size_t i = start; i < b->len; i++) {
		if (((unsigned char)b->s[i] & 0xc0) == 0x80)
			continue;
		if (++n == SUBJECT_MAX) {
			b->len = i;
			b->s[i] = '\0';
			sb_puts(b, "…");
			return;
		}
	}
}

status_t render_part(const config_t *cfg, const json_t *model,
		     render_part_t part, strbuf_t *out, err_t *err)
{
	tmpl_ctx_t t = {.cfg = cfg, .err = err};
	strbuf_t b = {0};
	const char *tmpl, *label;
	status_t s;

	/* Every partial is parsed, not only those this model reaches: a
	 * broken one fails every digest, not the first with someone cooling. */
	if (!(s = load(&t, part, &tmpl, &label, err)) &&
	    !(s = mustache_check(label, tmpl, partial, &t, err)) && !t.failed)
		s = mustache_render(label, tmpl, model, partial, &t, &b, err);
	/* A partial that could not be read rendered as empty: its error
	 * is the one to report. */
	if (t.failed)
		s = t.failed;
	if ((s = template_status(s)))
		goto done;
	if (part == RENDER_SUBJECT) {
		/* One line, blanks folded. */
		char *subj = sb_steal(&b);
		bool space = false;
		size_t start = out->len;
		for (char *p = str_trim(subj); *p; p++) {
			if (isspace((unsigned char)*p)) {
				space = true;
				continue;
			}
			if (space && out->len > start)
				sb_putc(out, ' ');
			space = false;
			sb_putc(out, *p);
		}
		free(subj);
		cut_subject(out, start);
	} else if (part == RENDER_TEXT) {
		char *w = render_wrap(sb_str(&b), 72);
		sb_puts(out, w);
		free(w);
	} else {
		sb_add(out, sb_str(&b), b.len);
	}
done:
	sb_free(&b);
	strvec_free(&t.loaded);
	return s;
}

status_t render_check(const config_t *cfg, err_t *err)
{
	json_t *none = json_object();
	status_t s = ST_OK;

	/* Without data, partials outside any section still run: those that
	 * recurse or grow without end show. */
	for (int part = RENDER_SUBJECT; !s && part <= RENDER_HTML; part++) {
		strbuf_t b = {0};
		s = render_part(cfg, none, (render_part_t)part, &b, err);
		sb_free(&b);
	}
	json_decref(none);
	return s;
}

status_t render_eml(const config_t *cfg, const config_leader_t *l,
		    const json_t *model, int64_t now,
		    const render_envelope_t *env, strbuf_t *out, err_t *err)
{
	strbuf_t subject = {0}, text = {0}, html = {0};
	status_t s;

	if ((s = render_part(cfg, model, RENDER_SUBJECT, &subject, err)) ||
	    (s = render_part(cfg, model, RENDER_TEXT, &text, err)) ||
	    (s = render_part(cfg, model, RENDER_HTML, &html, err)))
		goto done;
	mime_message_t m = {
		.from_name = env->from_name,
		.from_addr = env->from_addr,
		.to_name = l->name,
		.to_addr = l->send_to ? l->send_to : l->email,
		.subject = sb_str(&subject),
		.date = now,
		.zone = l->timezone,
		.message_id = env->message_id,
		.text = sb_str(&text),
		.html = sb_str(&html),
	};
	s = mime_build(&m, out, err);
done:
	sb_free(&subject);
	sb_free(&text);
	sb_free(&html);
	return s;
}
