/* Fuzz target: config_load on arbitrary file contents (written to a
 * memfd, read back through /proc/self/fd). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("digest-fuzz", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64];
		config_t *cfg = NULL;
		strvec_t errors = {0};
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		config_load(path, &cfg, &errors);
		config_free(cfg);
		strvec_free(&errors);
	}
	close(fd);
	return 0;
}
