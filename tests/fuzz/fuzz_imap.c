/* Fuzz target: mailsrc_imap_line, the one part of an IMAP server's
 * responses digest reads itself (the AUTHENTICATE exchange), on every
 * line of arbitrary bytes.  The text it hands back must lie inside the
 * line.  Built for libFuzzer with -DDIGEST_FUZZ=ON (clang); replay.c runs
 * it over files in the ordinary test suite. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailsrc_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		const char *text = NULL;
		mailsrc_imap_line_t k =
			mailsrc_imap_line(line, "digest1", &text);
		size_t n = strlen(line);
		if (!text ||
		    (k != IMAP_LINE_OTHER && (text < line || text > line + n)))
			__builtin_trap();
		if (k == IMAP_LINE_OK && strncmp(line, "digest1 ", 8) != 0)
			__builtin_trap();
	}
	free(buf);
	return 0;
}
