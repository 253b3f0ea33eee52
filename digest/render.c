/*
 * render — templates to text, HTML and email.  See render.h.
 */
#include "render.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "mime.h"
#include "mustache.h"

typedef struct {
	const config_t *cfg;
	strvec_t loaded; /* texts read from `templates =`, freed after */
	err_t *err;
	status_t failed;
} tmpl_ctx_t;

/* A template by name: from the configured directory when it has the
 * file, else built in. */
static const char *lookup(tmpl_ctx_t *t, const char *name)
{
	if (strchr(name, '/') || name[0] == '.')
		return NULL;
	if (t->cfg->templates) {
		char *path = xasprintf("%s/%s", t->cfg->templates, name);
		FILE *f = fopen(path, "rb");
		if (f) {
			strbuf_t b = {0};
			char chunk[4096];
			size_t n;
			while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
				sb_add(&b, chunk, n);
			if (ferror(f) && !t->failed)
				t->failed = err_set(t->err, ST_NOINPUT, "%s: %s",
						    path, strerror(errno));
			fclose(f);
			free(path);
			strvec_take(&t->loaded, sb_steal(&b));
			return t->loaded.v[t->loaded.n - 1];
		}
		free(path);
	}
	for (const struct embed_file *e = embed_templates; e->name; e++)
		if (strcmp(e->name, name) == 0)
			return e->data;
	return NULL;
}

static const char *partial(void *ctx, const char *name)
{
	return lookup(ctx, name);
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
		size_t cont = indent + (len > indent + 1 && line[indent] == '-' &&
					line[indent + 1] == ' '
					? 2 : 0);
		const char *p = line, *end = line + len;
		size_t pad = 0; /* indentation of a continuation */
		while (display_width(p, (size_t)(end - p)) + (int)pad > width) {
			/* the last blank that keeps the line within width */
			const char *cut = NULL;
			for (const char *q = p + (p == line ? indent : 0); q < end; q++)
				if (*q == ' ' && display_width(p, (size_t)(q - p)) + (int)pad <= width)
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
	static const char *const names[] = {"subject", "digest.txt",
					    "digest.html"};
	tmpl_ctx_t t = {.cfg = cfg, .err = err};
	strbuf_t b = {0};
	status_t s;
	const char *tmpl = lookup(&t, names[part]);

	if (!tmpl) {
		s = err_set(err, ST_NOINPUT, "template %s not found", names[part]);
		goto done;
	}
	if ((s = mustache_render(tmpl, model, partial, &t, &b, err))) {
		char msg[sizeof err->msg];
		snprintf(msg, sizeof msg, "%s", err->msg);
		err_set(err, s, "template %s: %s", names[part], msg);
		goto done;
	}
	if ((s = t.failed))
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
