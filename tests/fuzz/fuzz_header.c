/* Fuzz target: mailsrc_parse_header on arbitrary bytes.  Built for
 * libFuzzer with -DDIGEST_FUZZ=ON (clang); replay.c runs it over files in
 * the ordinary test suite. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mailsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mailsrc_header_t h;
	const char *buf = (const char *)data;
	memset(&h, 0, sizeof h);
	mailsrc_parse_header(buf, mailsrc_header_length(buf, size), true, &h);
	for (size_t i = 0; i < h.nrcpt; i++)
		if (!h.rcpt[i].addr || !strchr(h.rcpt[i].addr, '@'))
			__builtin_trap();
	mailsrc_header_clear(&h);
	return 0;
}
