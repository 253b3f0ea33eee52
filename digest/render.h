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

/* Render one part of the digest into *out (appended).  ST_DATAERR for a
 * broken template (err names it), ST_NOINPUT for an unreadable one. */
status_t render_part(const config_t *cfg, const json_t *model,
		     render_part_t part, strbuf_t *out, err_t *err);

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
