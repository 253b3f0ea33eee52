/* Fuzz target: the header parser of http (what digest itself reads of a
 * server's response: status lines and the validators), fed the input
 * line by line as curl's header callback would be, and http_redact on
 * the same bytes as a URL.  The validators kept are sent back in a
 * request header: they must never hold a control character. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_validator(const char *v)
{
	if (!v)
		return;
	size_t n = strlen(v);
	if (n == 0 || n > HTTP_MAX_VALIDATOR)
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	http_headers_t h = {0};
	size_t i = 0;
	while (i < size) {
		const char *nl = memchr(buf + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) + 1 : size - i;
		http_headers_feed(&h, buf + i, n);
		check_validator(h.etag);
		check_validator(h.last_modified);
		if (h.code && (h.code < 100 || h.code > 999))
			__builtin_trap();
		if (memchr(h.reason, '\0', sizeof h.reason) == NULL)
			__builtin_trap();
		i += n;
	}
	http_headers_clear(&h);

	char *url = malloc(size + 1);
	if (!url)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	char *r = http_redact(url);
	/* Never more than scheme, host and hash: nothing after a '/' but
	 * the ellipsis. */
	char *slash = strstr(r, "://");
	slash = slash ? strchr(slash + 3, '/') : NULL;
	if (slash && strncmp(slash, "/\xe2\x80\xa6#", 5) != 0)
		__builtin_trap();
	free(r);
	free(url);
	return 0;
}
