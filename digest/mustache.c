/*
 * mustache — Mustache rendering over jansson trees.  See mustache.h.
 *
 * A template is first parsed into a small tree of nodes (text, variables,
 * sections, partials); comments and set-delimiter tags leave no node, and
 * the standalone-line rules are applied while parsing, so rendering is a
 * plain walk.  Partials are parsed when they are first reached, with the
 * indentation of a standalone partial tag prepended to each of their lines,
 * and kept for the rest of the render: a partial shown once per person is
 * read and parsed once.  Every render counts what it writes and the steps
 * it takes against the limits of mustache.h.
 */
#include "mustache.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sections nested in one template, and partials nested in one render. */
#define MUSTACHE_MAX_DEPTH 100
/* Sections and partials nested in one render: each level is a few frames
 * of C stack, and 100 partials of 100 sections each would be too many. */
#define MUSTACHE_MAX_NEST 1000

typedef enum {
	N_TEXT,     /* literal text */
	N_ESCAPED,  /* {{name}} */
	N_RAW,      /* {{{name}}}, {{&name}} */
	N_SECTION,  /* {{#name}}...{{/name}} */
	N_INVERTED, /* {{^name}}...{{/name}} */
	N_PARTIAL,  /* {{>name}} */
} kind_t;

typedef struct node node_t;
struct node {
	kind_t kind;
	char *str;     /* the text (N_TEXT) or the tag's name */
	size_t len;    /* length of str */
	char *indent;  /* a standalone N_PARTIAL's indentation, else NULL */
	int line;      /* where the tag is, for error messages */
	size_t cached; /* N_PARTIAL: 1 + its index in the render's cache */
	node_t *child; /* the body of a section */
	node_t *next;
};

typedef struct {
	const char *label;   /* the template's name in messages, or NULL */
	const char *counted; /* the newlines before this point are in line */
	int line;
	const char *otag, *ctag; /* current delimiters (not NUL-terminated) */
	size_t olen, clen;
	node_t *open[MUSTACHE_MAX_DEPTH]; /* sections waiting for a close */
	node_t **tail[MUSTACHE_MAX_DEPTH + 1]; /* where the next node goes */
	int depth;
} parser_t;

/* One level of the context stack; the stack lives on the C stack. */
typedef struct ctx ctx_t;
struct ctx {
	const json_t *v;
	const ctx_t *up;
};

/* A partial as parsed for one indentation; tree NULL when there is no
 * such partial or it is empty. */
typedef struct {
	node_t *tree;
	const char *label;
} partial_t;

typedef struct {
	mustache_partial_fn partials;
	void *pctx;
	strbuf_t *out;
	size_t start; /* out->len before the render */
	err_t *err;
	const char *label; /* of the template being rendered, or NULL */
	int depth;         /* partials being rendered */
	int nest;          /* sections and partials being rendered */
	size_t steps;
	strmap_t seen; /* "INDENT-LENGTH:INDENT""NAME" -> index in cache */
	partial_t *cache;
	size_t ncache, capcache;
} render_t;

static void free_tree(node_t *n)
{
	while (n) {
		node_t *next = n->next;
		free_tree(n->child);
		free(n->str);
		free(n->indent);
		free(n);
		n = next;
	}
}

/* Fail with "LABEL:LINE: what", or "line LINE: what" without a label. */
static status_t fail(err_t *err, const char *label, int line, const char *fmt,
		     ...) UTIL_PRINTF(4, 5);

static status_t fail(err_t *err, const char *label, int line, const char *fmt,
		     ...)
{
	char what[sizeof err->msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (label)
		return err_set(err, ST_DATAERR, "%s:%d: %s", label, line, what);
	return err_set(err, ST_DATAERR, "line %d: %s", line, what);
}

/* ---- parsing ----------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
	return is_blank(c) || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The line number of `at`, counting on from the last call. */
static int line_of(parser_t *p, const char *at)
{
	for (; p->counted < at; p->counted++)
		if (*p->counted == '\n')
			p->line++;
	return p->line;
}

/* The first occurrence of what[0..n) in s, or NULL. */
static const char *find(const char *s, const char *what, size_t n)
{
	for (; (s = strchr(s, what[0])) != NULL; s++)
		if (strncmp(s, what, n) == 0)
			return s;
	return NULL;
}

/* The end of a tag's content from s: the closing delimiter, preceded by
 * `pre` ('}' or '=') unless pre is 0.  Returns where the closer starts. */
static const char *find_close(const parser_t *p, const char *s, char pre)
{
	const char *e = s;
	while ((e = find(e, p->ctag, p->clen)) != NULL) {
		if (!pre)
			return e;
		if (e > s && e[-1] == pre)
			return e - 1;
		e++;
	}
	return NULL;
}

/* Is the tag [t, end) alone on its line but for blanks?  If so, set
 * *line_start to the start of its line and *next past its line end. */
static bool standalone(const char *tmpl, const char *t, const char *end,
		       const char **line_start, const char **next)
{
	const char *s = t, *e = end;
	while (s > tmpl && is_blank(s[-1]))
		s--;
	if (s > tmpl && s[-1] != '\n')
		return false;
	while (is_blank(*e))
		e++;
	if (*e == '\n')
		e++;
	else if (e[0] == '\r' && e[1] == '\n')
		e += 2;
	else if (*e)
		return false;
	*line_start = s;
	*next = e;
	return true;
}

static node_t *add_node(parser_t *p, kind_t kind, const char *s, size_t n,
			int line)
{
	node_t *nd = xcalloc(1, sizeof *nd);
	nd->kind = kind;
	nd->str = xstrndup(s, n);
	nd->len = n;
	nd->line = line;
	*p->tail[p->depth] = nd;
	p->tail[p->depth] = &nd->next;
	return nd;
}

/* {{=<% %>=}}: the content s[0..n) must be two blank-separated tokens. */
static status_t set_delimiters(parser_t *p, const char *s, size_t n, int line,
			       err_t *err)
{
	const char *end = s + n, *o, *c;
	size_t olen = 0, clen = 0;
	for (o = s; o < end && is_space(*o); o++)
		;
	while (o + olen < end && !is_space(o[olen]) && o[olen] != '=')
		olen++;
	for (c = o + olen; c < end && is_space(*c); c++)
		;
	while (c + clen < end && !is_space(c[clen]) && c[clen] != '=')
		clen++;
	if (!olen || !clen || c + clen != end)
		return fail(err, p->label, line, "bad delimiter change");
	p->otag = o;
	p->olen = olen;
	p->ctag = c;
	p->clen = clen;
	return ST_OK;
}

/* One tag: its type, trimmed name, and where it lies in the template. */
typedef struct {
	char type;        /* '#', '^', '/', '!', '>', '=', '&', '{', or 0 */
	const char *name; /* the content, trimmed */
	size_t len;
	const char *start;    /* the opening delimiter */
	const char *end;      /* just past the closing delimiter */
	const char *text_end; /* where the text before the tag ends */
	const char *next;     /* where parsing goes on */
	int line;
} tag_t;

static status_t add_tag(parser_t *p, const tag_t *t, err_t *err)
{
	node_t *nd;
	const node_t *open;
	switch (t->type) {
	case '!':
		return ST_OK;
	case '=':
		return set_delimiters(p, t->name, t->len, t->line, err);
	case '#':
	case '^':
		if (p->depth == MUSTACHE_MAX_DEPTH)
			return fail(err, p->label, t->line,
				    "sections nested more than %d deep",
				    MUSTACHE_MAX_DEPTH);
		nd = add_node(p, t->type == '#' ? N_SECTION : N_INVERTED,
			      t->name, t->len, t->line);
		p->open[p->depth++] = nd;
		p->tail[p->depth] = &nd->child;
		return ST_OK;
	case '/':
		if (!p->depth)
			return fail(
				err, p->label, t->line,
				"close tag \"%.*s\" without an open section",
				(int)t->len, t->name);
		open = p->open[p->depth - 1];
		if (open->len != t->len || memcmp(open->str, t->name, t->len))
			return fail(err, p->label, t->line,
				    "close tag \"%.*s\" does not match section "
				    "\"%s\" of line %d",
				    (int)t->len, t->name, open->str,
				    open->line);
		p->depth--;
		return ST_OK;
	case '>':
		nd = add_node(p, N_PARTIAL, t->name, t->len, t->line);
		if (t->text_end < t->start)
			nd->indent = xstrndup(t->text_end,
					      (size_t)(t->start - t->text_end));
		return ST_OK;
	case '&':
	case '{':
		add_node(p, N_RAW, t->name, t->len, t->line);
		return ST_OK;
	default:
		add_node(p, N_ESCAPED, t->name, t->len, t->line);
		return ST_OK;
	}
}

/* Parse the tag whose opening delimiter is at s into *t. */
static status_t read_tag(parser_t *p, const char *tmpl, const char *s, tag_t *t,
			 err_t *err)
{
	const char *q = s + p->olen, *e;
	char pre = 0;
	t->start = s;
	t->line = line_of(p, s);
	t->type = *q && strchr("#^/!>=&{", *q) ? *q : 0;
	if (t->type)
		q++;
	if (t->type == '{' || t->type == '=')
		pre = t->type == '{' ? '}' : '=';
	e = find_close(p, q, pre);
	if (!e)
		return fail(err, p->label, t->line, "unclosed tag");
	t->end = e + (pre != 0) + p->clen;
	while (q < e && is_space(*q))
		q++;
	while (e > q && is_space(e[-1]))
		e--;
	t->name = q;
	t->len = (size_t)(e - q);
	if (!t->len && t->type != '!')
		return fail(err, p->label, t->line, "empty tag");
	t->text_end = s;
	t->next = t->end;
	if (t->type && strchr("#^/!>=", t->type))
		standalone(tmpl, s, t->end, &t->text_end, &t->next);
	return ST_OK;
}

/* Parse tmpl into *root (caller frees with free_tree; NULL on error);
 * label names it in messages. */
static status_t parse(const char *label, const char *tmpl, node_t **root,
		      err_t *err)
{
	parser_t p = {.label = label,
		      .counted = tmpl,
		      .line = 1,
		      .otag = "{{",
		      .ctag = "}}"};
	const char *pos = tmpl, *s;
	status_t st = ST_OK;
	tag_t t = {0};

	*root = NULL;
	p.olen = p.clen = 2;
	p.tail[0] = root;
	while ((s = find(pos, p.otag, p.olen)) != NULL) {
		int line = line_of(&p, pos); /* where the text starts */
		st = read_tag(&p, tmpl, s, &t, err);
		if (st != ST_OK)
			goto done;
		if (t.text_end > pos)
			add_node(&p, N_TEXT, pos, (size_t)(t.text_end - pos),
				 line);
		st = add_tag(&p, &t, err);
		if (st != ST_OK)
			goto done;
		pos = t.next;
	}
	if (*pos)
		add_node(&p, N_TEXT, pos, strlen(pos), line_of(&p, pos));
	if (p.depth) {
		const node_t *open = p.open[p.depth - 1];
		st = fail(err, label, open->line, "unclosed section \"%s\"",
			  open->str);
	}
done:
	if (st != ST_OK) {
		free_tree(*root);
		*root = NULL;
	}
	return st;
}

/* ---- rendering --------------------------------------------------------- */

/* Resolve name on the context stack: the first part walks up the stack,
 * the rest of a dotted name must follow strictly.  NULL when missing. */
static const json_t *lookup(const ctx_t *c, const char *name)
{
	const json_t *v = NULL;
	const char *dot;
	size_t n;

	if (strcmp(name, ".") == 0)
		return c->v;
	dot = strchr(name, '.');
	n = dot ? (size_t)(dot - name) : strlen(name);
	for (; c && !v; c = c->up)
		if (json_is_object(c->v))
			v = json_object_getn(c->v, name, n);
	while (v && dot) {
		name = dot + 1;
		dot = strchr(name, '.');
		n = dot ? (size_t)(dot - name) : strlen(name);
		v = json_is_object(v) ? json_object_getn(v, name, n) : NULL;
	}
	return v;
}

static bool falsey(const json_t *v)
{
	return !v || json_is_false(v) || json_is_null(v) ||
	       (json_is_array(v) && json_array_size(v) == 0) ||
	       (json_is_string(v) && json_string_length(v) == 0);
}

static void put_escaped(strbuf_t *out, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *ent = NULL;
		switch (s[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		sb_add(out, s + run, i - run);
		sb_puts(out, ent);
		run = i + 1;
	}
	sb_add(out, s + run, n - run);
}

/* The shortest of %.15g .. %.17g that reads back as d: 1.21, not
 * 1.2099999999999999645. */
static void put_real(strbuf_t *out, double d)
{
	char buf[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	sb_puts(out, buf);
}

/* Strings, numbers and booleans print; null, objects and lists do not. */
static void put_value(strbuf_t *out, const json_t *v, bool escape)
{
	if (!v)
		return;
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (escape)
			put_escaped(out, json_string_value(v),
				    json_string_length(v));
		else
			sb_add(out, json_string_value(v),
			       json_string_length(v));
		break;
	case JSON_INTEGER:
		sb_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		put_real(out, json_real_value(v));
		break;
	case JSON_TRUE:
		sb_puts(out, "true");
		break;
	case JSON_FALSE:
		sb_puts(out, "false");
		break;
	default:
		break;
	}
}

/* A copy of text with indent before each line (caller frees). */
static char *indent_lines(const char *text, const char *indent)
{
	strbuf_t b = {0};
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) + 1 : strlen(text);
		sb_puts(&b, indent);
		sb_add(&b, text, n);
		text += n;
	}
	return sb_steal(&b);
}

static status_t render(render_t *r, node_t *n, const ctx_t *c);

/* Render n's body once per item, with one more level of nesting. */
static status_t render_section(render_t *r, node_t *n, const ctx_t *c)
{
	const json_t *v = lookup(c, n->str);
	status_t st = ST_OK;
	ctx_t top = {v, c};

	if (n->kind == N_INVERTED) {
		if (falsey(v))
			st = render(r, n->child, c);
		return st;
	}
	if (falsey(v))
		return ST_OK;
	if (!json_is_array(v))
		return render(r, n->child, &top);
	for (size_t i = 0; i < json_array_size(v) && st == ST_OK; i++) {
		top.v = json_array_get(v, i);
		st = render(r, n->child, &top);
	}
	return st;
}

/* Add where the partial that failed to parse is included to r->err. */
static void included_from(render_t *r, int line)
{
	char msg[sizeof r->err->msg];
	snprintf(msg, sizeof msg, "%s", r->err->msg);
	if (r->label)
		err_set(r->err, ST_DATAERR, "%s (included from %s:%d)", msg,
			r->label, line);
	else
		err_set(r->err, ST_DATAERR, "%s (included from line %d)", msg,
			line);
}

/* The partial of tag n, parsed with n's indentation: from the cache, or
 * asked for, parsed and cached.  ST_OK with *pp NULL when there is none.
 * n remembers where, so that the next time costs no lookup. */
static status_t get_partial(render_t *r, node_t *n, partial_t **pp)
{
	const char *indent = n->indent ? n->indent : "";
	char *key = xasprintf("%zu:%s%s", strlen(indent), indent, n->str);
	const char *text = NULL, *label = NULL;
	char *indented = NULL;
	partial_t *p;
	int64_t i;
	status_t st = ST_OK;

	*pp = NULL;
	if (strmap_get(&r->seen, key, &i)) {
		*pp = &r->cache[i];
		n->cached = (size_t)i + 1;
		goto done;
	}
	if (r->partials)
		text = r->partials(r->pctx, n->str, &label);
	if (r->ncache == r->capcache) {
		r->capcache = r->capcache ? 2 * r->capcache : 8;
		r->cache = xrealloc(r->cache, r->capcache * sizeof *r->cache);
	}
	p = &r->cache[r->ncache];
	p->tree = NULL;
	p->label = label ? label : n->str;
	if (text && n->indent)
		text = indented = indent_lines(text, n->indent);
	if (text) {
		r->steps += strlen(text);
		st = parse(p->label, text, &p->tree, r->err);
		if (st != ST_OK) {
			included_from(r, n->line);
			goto done;
		}
	}
	strmap_put(&r->seen, key, (int64_t)r->ncache);
	*pp = &r->cache[r->ncache++];
	n->cached = r->ncache;
done:
	free(indented);
	free(key);
	return st;
}

static status_t render_partial(render_t *r, node_t *n, const ctx_t *c)
{
	const char *label = r->label;
	partial_t *p;
	status_t st;

	if (r->depth >= MUSTACHE_MAX_DEPTH)
		return fail(r->err, r->label, n->line,
			    "partial \"%s\" nested more than %d deep", n->str,
			    MUSTACHE_MAX_DEPTH);
	if (n->cached)
		p = &r->cache[n->cached - 1];
	else if ((st = get_partial(r, n, &p)) != ST_OK)
		return st;
	if (!p->tree)
		return ST_OK;
	r->depth++;
	r->label = p->label;
	st = render(r, p->tree, c);
	r->label = label;
	r->depth--;
	return st;
}

static status_t render(render_t *r, node_t *n, const ctx_t *c)
{
	status_t st = ST_OK;

	if (++r->nest > MUSTACHE_MAX_NEST) {
		st = fail(r->err, r->label, n ? n->line : 0,
			  "sections and partials nested more than %d deep",
			  MUSTACHE_MAX_NEST);
		goto done;
	}
	for (; n && st == ST_OK; n = n->next) {
		if (++r->steps > MUSTACHE_MAX_STEPS) {
			st = fail(r->err, r->label, n->line,
				  "more than %u steps to render: do partials "
				  "include each other over and over?",
				  MUSTACHE_MAX_STEPS);
			break;
		}
		switch (n->kind) {
		case N_TEXT:
			sb_add(r->out, n->str, n->len);
			break;
		case N_ESCAPED:
		case N_RAW:
			put_value(r->out, lookup(c, n->str),
				  n->kind == N_ESCAPED);
			break;
		case N_SECTION:
		case N_INVERTED:
			st = render_section(r, n, c);
			break;
		case N_PARTIAL:
			st = render_partial(r, n, c);
			break;
		}
		if (st == ST_OK && r->out->len - r->start > MUSTACHE_MAX_OUTPUT)
			st = fail(r->err, r->label, n->line,
				  "renders to more than %u MiB: do partials or "
				  "sections repeat each other?",
				  MUSTACHE_MAX_OUTPUT >> 20);
	}
done:
	r->nest--;
	return st;
}

status_t mustache_render(const char *name, const char *tmpl, const json_t *data,
			 mustache_partial_fn partials, void *ctx, strbuf_t *out,
			 err_t *err)
{
	render_t r = {.partials = partials,
		      .pctx = ctx,
		      .out = out,
		      .start = out->len,
		      .err = err,
		      .label = name};
	ctx_t root = {data, NULL};
	node_t *tree = NULL;
	status_t st;

	st = parse(name, tmpl, &tree, err);
	if (st != ST_OK)
		goto done;
	st = render(&r, tree, &root);
	if (st != ST_OK && out->s) {
		out->len = r.start;
		out->s[r.start] = '\0';
	}
done:
	for (size_t i = 0; i < r.ncache; i++)
		free_tree(r.cache[i].tree);
	free(r.cache);
	strmap_free(&r.seen);
	free_tree(tree);
	return st;
}

/* ---- checking ---------------------------------------------------------- */

typedef struct {
	mustache_partial_fn partials;
	void *pctx;
	err_t *err;
	strmap_t seen; /* partial names parsed */
	int depth;
} check_t;

static status_t check_tree(check_t *k, const node_t *n, const char *label)
{
	status_t st = ST_OK;

	for (; n && st == ST_OK; n = n->next) {
		const char *text, *plabel = NULL;
		node_t *tree = NULL;

		if (n->child)
			st = check_tree(k, n->child, label);
		if (st != ST_OK || n->kind != N_PARTIAL || !k->partials ||
		    strmap_get(&k->seen, n->str, NULL))
			continue;
		strmap_put(&k->seen, n->str, 1);
		/* Deeper than this, rendering stops anyway. */
		if (k->depth >= MUSTACHE_MAX_DEPTH)
			continue;
		if (!(text = k->partials(k->pctx, n->str, &plabel)))
			continue;
		if (!plabel)
			plabel = n->str;
		st = parse(plabel, text, &tree, k->err);
		if (st != ST_OK) {
			render_t r = {.err = k->err, .label = label};
			included_from(&r, n->line);
			break;
		}
		k->depth++;
		st = check_tree(k, tree, plabel);
		k->depth--;
		free_tree(tree);
	}
	return st;
}

status_t mustache_check(const char *name, const char *tmpl,
			mustache_partial_fn partials, void *ctx, err_t *err)
{
	check_t k = {.partials = partials, .pctx = ctx, .err = err};
	node_t *tree = NULL;
	status_t st = parse(name, tmpl, &tree, err);

	if (st == ST_OK)
		st = check_tree(&k, tree, name);
	free_tree(tree);
	strmap_free(&k.seen);
	return st;
}
