/*
 * mustache — a Mustache template renderer (spec v1.x without lambdas) over
 * jansson trees: the digest's subject, text and HTML bodies are rendered
 * with it from the same JSON model that `preview --format json` prints.
 * Variables are HTML-escaped by default (& < > " '); sections, inverted
 * sections, comments, partials, set-delimiter tags, dotted names and the
 * implicit iterator are supported.  False, null, an empty list and an empty
 * string are falsey; everything else (0 included) is truthy.  Pure: no I/O.
 */
#ifndef DIGEST_MUSTACHE_H
#define DIGEST_MUSTACHE_H

#include <jansson.h>
#include "util.h"

/* Returns the text of partial `name` (NUL-terminated, owned by the callee,
 * valid during the render), or NULL when there is none (renders as empty).
 * The callee may set *label to what error messages call the partial, such
 * as its file's path (valid during the render); it stays `name` otherwise.
 * Asked once per name and indentation in a render: the answer is kept. */
typedef const char *(*mustache_partial_fn)(void *ctx, const char *name,
					   const char **label);

/* What one render may cost at most, so that partials which include each
 * other twice per level (2^depth expansions) or a section over a list
 * inside a section over the same list fail fast instead of using up CPU
 * and memory: the bytes it writes, and the steps it takes (a step: a tag
 * or text rendered, a byte of a partial parsed).  The built-in templates
 * take a few thousand steps and some tens of kB for a digest of 10. */
#define MUSTACHE_MAX_OUTPUT (16u << 20)
#define MUSTACHE_MAX_STEPS  (4u << 20)

/* Render template tmpl with the data (a jansson tree; not modified) into
 * *out (appended).  Returns ST_OK, or ST_DATAERR for a malformed template
 * (unclosed section, mismatched close tag, unclosed tag, bad delimiter
 * change), one of the limits above passed, or partials nested too deep;
 * on error *out holds nothing new.  err->msg is "NAME:LINE: what", NAME
 * being name, or the label of the partial at fault (followed by
 * "(included from NAME:LINE)" when it does not parse); "line LINE: what"
 * when name is NULL and the template itself is at fault.  partials may be
 * NULL. */
status_t mustache_render(const char *name, const char *tmpl, const json_t *data,
			 mustache_partial_fn partials, void *ctx, strbuf_t *out,
			 err_t *err);

/* Parse tmpl and every partial it names, however deep in sections (each
 * name once), without rendering: the errors mustache_render would report
 * of any data.  ST_OK or ST_DATAERR, err as for mustache_render. */
status_t mustache_check(const char *name, const char *tmpl,
			mustache_partial_fn partials, void *ctx, err_t *err);

#endif
