/* Fuzz target: the Mustache engine on templates from outside (a
 * `templates =` directory).  The input is a template, then, after each
 * NUL byte, one partial: {{>name}} is the partial chosen by name's first
 * byte, or the template itself when there are none, so that partials
 * nest, recurse and multiply.  Rendered over a model shaped like the
 * digest's, and checked with mustache_check.  Must never crash, must
 * keep within the limits of mustache.h, and must stay fast (libFuzzer's
 * -timeout catches what the limits miss). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mustache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 16

typedef struct {
	const char *part[MAX_PARTS];
	size_t n;
} parts_t;

static const char *partial(void *ctx, const char *name, const char **label)
{
	const parts_t *p = ctx;
	(void)label;
	if (p->n == 1)
		return p->part[0];
	return p->part[1 + (unsigned char)name[0] % (p->n - 1)];
}

static json_t *model(void)
{
	static const char json[] =
		"{\"leader\": {\"id\": \"alex\", \"name\": \"Alex <&>\"},"
		" \"week\": {\"start\": \"2026-11-30\", \"id\": \"2026-W49\"},"
		" \"stats\": {\"emails\": 12, \"meetings\": 0},"
		" \"focus\": {\"name\": \"J\\u00f6rg\", \"days_since\": 40,"
		"  \"history\": [0, 1, 2], \"note\": \"\"},"
		" \"neglected\": [{\"name\": \"a\", \"overdue\": true, \"c\":"
		"  {\"v\": 1.5}}, {\"name\": \"'b'\", \"overdue\": false}],"
		" \"cooling\": [], \"has\": {\"cooling\": false},"
		" \"away\": null, \"list\": [1, 2, 3, 4, 5, 6, 7, 8]}";
	return json_loads(json, 0, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *m;
	char *buf = malloc(size + 1);
	parts_t p = {0};
	strbuf_t out = {0};
	err_t err;
	status_t st;

	if (!m)
		m = model();
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i <= size && p.n < MAX_PARTS;) {
		p.part[p.n++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	mustache_check("t", p.part[0], partial, &p, &err);
	st = mustache_render("t", p.part[0], m, partial, &p, &out, &err);
	/* On error nothing is left of what was written; the output stops
	 * within one node (one text or value) of the limit. */
	if ((st != ST_OK && out.len) ||
	    out.len > MUSTACHE_MAX_OUTPUT + size + 1024)
		__builtin_trap();
	sb_free(&out);
	free(buf);
	return 0;
}
