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
};

status_t mailsrc_open(mailsrc_kind_t kind, const char *path, const char *cursor,
                      mailsrc_seen_fn seen, void *seen_ctx, mailsrc_t **out,
                      err_t *err)
{
	*out = NULL;
	if ((size_t)kind >= sizeof backends / sizeof backends[0] ||
	    !backends[kind])
		return err_set(err, ST_SOFTWARE, "mailsrc: unknown kind %d",
		               (int)kind);
	if (!path || !*path)
		return err_set(err, ST_CONFIG, "mailsrc: empty path");

	void *state = NULL;
	status_t st =
	    backends[kind]->open(path, cursor, seen, seen_ctx, &state, err);
	if (st != ST_OK)
		return st;
	mailsrc_t *src = xcalloc(1, sizeof *src);
	src->ops = backends[kind];
	src->state = state;
	*out = src;
	return ST_OK;
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
