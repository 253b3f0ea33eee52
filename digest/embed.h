/*
 * embed — files compiled into the binary (schema/NNN-name.sql, templates),
 * generated at build time by cmake/embed.cmake.  Tables end with a
 * {NULL, NULL, 0} row and are sorted by name.
 */
#ifndef DIGEST_EMBED_H
#define DIGEST_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *name;
	const char *data;
	size_t len;
};

extern const struct embed_file embed_schema[];
extern const struct embed_file embed_templates[];

#endif
