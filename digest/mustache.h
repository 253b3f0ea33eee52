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
 * valid during the render), or NULL when there is none (renders as empty). */
typedef const char *(*mustache_partial_fn)(void *ctx, const char *name);

/* Render template tmpl with the data (a jansson tree; not modified) into
 * *out (appended).  Returns ST_OK, or ST_DATAERR with err->msg "line N: what"
 * for a malformed template (unclosed section, mismatched close tag, unclosed
 * tag, bad delimiter change); on error *out holds nothing new.  partials may
 * be NULL. */
status_t mustache_render(const char *tmpl, const json_t *data,
                         mustache_partial_fn partials, void *ctx, strbuf_t *out,
                         err_t *err);

#endif
