/*
 * render — the digest as a person reads it: subject, text and HTML from
 * the model (model.h) with the Mustache templates (the built-in ones, or
 * those of `templates =`, file by file), and the complete email.
 */
#ifndef DIGEST_RENDER_H
#define DIGEST_RENDER_H

#include <jansson.h>

#include "config.h"
#include "util.h"

typedef enum {
	RENDER_SUBJECT, /* one line */
	RENDER_TEXT,    /* text/plain, wrapped at 72 columns */
	RENDER_HTML,
} render_part_t;

/* Render one part of the digest into *out (appended).  A template missing
 * from `templates =` is the built-in one; every partial a template names
 * is parsed, whether this model reaches it or not.  ST_CONFIG when `templates
 * =` is not a directory, or a template in it is not a regular file of at most
 * 1 MiB, does not parse, or expands past the limits of mustache.h (err
 * says "FILE:LINE: what"); ST_IOERR when one cannot be opened or read. */
status_t render_part(const config_t *cfg, const json_t *model,
		     render_part_t part, strbuf_t *out, err_t *err);

/* What `digest check` asks of the templates: open every one that cfg
 * would use, parse it and every partial it names, and render it with no
 * data (unconditional partials that recurse or grow without end fail
 * then).  The first problem, with the status and message render_part
 * would give. */
status_t render_check(const config_t *cfg, err_t *err);

/* Who a digest is from and its Message-ID (without <>). */
typedef struct {
	const char *from_name; /* NULL: the bare address */
	const char *from_addr;
	const char *message_id;
} render_envelope_t;

/* The complete message (DESIGN §7) of leader l's digest: From and
 * Message-ID from env, To the leader's send_to (or email). */
status_t render_eml(const config_t *cfg, const config_leader_t *l,
		    const json_t *model, int64_t now,
		    const render_envelope_t *env, strbuf_t *out, err_t *err);

/* Wrap lines longer than width columns at blanks, continuing with the
 * line's indentation ("- " items continue under their text). */
char *render_wrap(const char *text, int width);

#endif
