/* Fuzz target: cal_expand on arbitrary bytes, in a fixed window. */
#include <stddef.h>
#include <stdint.h>

#include "cal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cal_result_t r = {0};
	err_t err;
	/* 2026-01-01 .. 2027-01-01 UTC */
	cal_expand((const char *)data, size, "Europe/Berlin", 1767225600,
		   1798761600, &r, &err);
	cal_result_free(&r);
	return 0;
}
