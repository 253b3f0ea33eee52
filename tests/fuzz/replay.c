/* Run a fuzz target over files named on the command line (or every file
 * below named directories), so that the ordinary test suite, under ASan
 * in CI, exercises what the fuzzer exercises. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t files;

static void run_path(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return;
	if (S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char *sub = xasprintf("%s/%s", path, e->d_name);
			run_path(sub);
			free(sub);
		}
		if (d)
			closedir(d);
		return;
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	char *buf = xmalloc((size_t)sb.st_size + 1);
	size_t n = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	LLVMFuzzerTestOneInput((const uint8_t *)buf, n);
	free(buf);
	files++;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	printf("%zu files\n", files);
	return files ? 0 : 77;
}
