/*
 * mailsrc — the public backend API of mailsrc.h: picks the backend's ops
 * table (mailsrc_priv.h) by kind and dispatches to it.  Nothing here
 * touches a file.
 */
#include "mailsrc_priv.h"

#include <stdlib.h>

struct mailsrc {
	const struct mailsrc_ops *ops;
	void *state;
};

static const struct mailsrc_ops *const backends[] = {
	[MAILSRC_MAILDIR] = &mailsrc_maildir_ops,
	[MAILSRC_MBOX] = &mailsrc_mbox_ops,
	[MAILSRC_IMAP] = &mailsrc_imap_ops,
};

status_t mailsrc_open_spec(const mailsrc_spec_t *spec, mailsrc_t **out,
			   err_t *err)
{
	*out = NULL;
	if ((size_t)spec->kind >= sizeof backends / sizeof backends[0] ||
	    !backends[spec->kind])
		return err_set(err, ST_SOFTWARE, "mailsrc: unknown kind %d",
			       (int)spec->kind);
	if (spec->kind == MAILSRC_IMAP ? !spec->imap
				       : !spec->path || !*spec->path)
		return err_set(err, ST_CONFIG, "mailsrc: empty path");

	void *state = NULL;
	status_t st = backends[spec->kind]->open(spec, &state, err);
	if (st != ST_OK)
		return st;
	mailsrc_t *src = xcalloc(1, sizeof *src);
	src->ops = backends[spec->kind];
	src->state = state;
	*out = src;
	return ST_OK;
}

status_t mailsrc_open(mailsrc_kind_t kind, const char *path, const char *cursor,
		      mailsrc_seen_fn seen, void *seen_ctx, mailsrc_t **out,
		      err_t *err)
{
	mailsrc_spec_t spec = {.kind = kind,
			       .path = path,
			       .cursor = cursor,
			       .seen = seen,
			       .seen_ctx = seen_ctx};
	return mailsrc_open_spec(&spec, out, err);
}

int mailsrc_next(mailsrc_t *src, mailsrc_item_t *item, err_t *err)
{
	*item = (mailsrc_item_t){0};
	return src->ops->next(src->state, item, err);
}

char *mailsrc_cursor(const mailsrc_t *src)
{
	return src->ops->cursor(src->state);
}

double mailsrc_progress(const mailsrc_t *src)
{
	return src->ops->progress(src->state);
}

void mailsrc_close(mailsrc_t *src)
{
	if (!src)
		return;
	src->ops->close(src->state);
	free(src);
}
