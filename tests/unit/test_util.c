/* Unit tests of util's small algorithms: the k-th smallest by passes of
 * counting agrees with sorting on every k, duplicates, runs and the
 * extremes included; a sorted string table finds what it holds in any
 * order of lookups; a string map holds what was put through its growth;
 * numbers and hashes are written as printf writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* v[i] as the ordered uint64_t it maps to (the sign bit flipped) */
static uint64_t ordered(size_t i, const void *v)
{
	return (uint64_t)((const int64_t *)v)[i] ^ (UINT64_C(1) << 63);
}

/* Every k of v[0..n) against a sorted copy, with max the largest value
 * and the largest possible. */
static void check_all_k(const int64_t *v, size_t n)
{
	int64_t *sorted = xcalloc(n, sizeof *sorted);
	memcpy(sorted, v, n * sizeof *v);
	qsort(sorted, n, sizeof *sorted, cmp_i64);
	uint64_t max = ordered(n - 1, sorted);
	for (size_t k = 0; k < n; k++) {
		uint64_t want = ordered(k, sorted);
		assert_int_equal(u64_select_passes(n, k, max, ordered, v),
				 want);
		assert_int_equal(
			u64_select_passes(n, k, UINT64_MAX, ordered, v), want);
	}
	free(sorted);
}

static void test_select(void **state)
{
	(void)state;
	int64_t one[] = {7};
	check_all_k(one, 1);
	int64_t two[] = {9, -3};
	check_all_k(two, 2);
	int64_t same[] = {4, 4, 4, 4, 4};
	check_all_k(same, 5);
	int64_t up[] = {1, 2, 3, 4, 5, 6, 7, 8};
	check_all_k(up, 8);
	int64_t down[] = {8, 7, 6, 5, 4, 3, 2, 1, 0};
	check_all_k(down, 9);
	int64_t ext[] = {INT64_MAX, INT64_MIN, 0, INT64_MAX, INT64_MIN};
	check_all_k(ext, 5);
	/* most in one bucket of the first pass, one far out */
	int64_t far[] = {5, 5, 6, 5, INT64_C(1) << 40, 7, 5, 4};
	check_all_k(far, 8);

	/* random arrays, few distinct values and many */
	unsigned seed = 12345;
	int64_t v[200];
	for (int round = 0; round < 200; round++) {
		size_t n = 1 + (size_t)(rand_r(&seed) % 200);
		int spread = round % 2 ? 3 : 1000000;
		for (size_t i = 0; i < n; i++)
			v[i] = rand_r(&seed) % spread - spread / 2;
		check_all_k(v, n);
	}
}

/* A table of "k0000".."k1998" (even numbers): every key, and the odd
 * ones between that are absent, looked up in ascending, descending and
 * scattered order, and twice in a row. */
static void test_strmap(void **state)
{
	(void)state;
	strmap_t m = {0};
	char key[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "k%d", i);
		strmap_put(&m, key, i);
	}
	for (int i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof key, "k%d", i);
		strmap_put(&m, key, -i);
	}
	assert_int_equal(m.n, 5000);
	for (int i = 0; i < 5000; i++) {
		int64_t v = 0;
		snprintf(key, sizeof key, "k%d", i);
		assert_true(strmap_get(&m, key, &v));
		assert_int_equal(v, i % 2 ? i : -i);
		snprintf(key, sizeof key, "x%d", i);
		assert_false(strmap_get(&m, key, NULL));
	}
	/* a walk over the slots meets every key once, with its value */
	int64_t sum = 0;
	size_t found = 0;
	for (size_t i = 0; i < m.cap; i++) {
		int64_t v;
		const char *k = strmap_slot_key(&m, i, &v);
		if (!k)
			continue;
		found++;
		int n = atoi(k + 1);
		assert_int_equal(v, n % 2 ? n : -n);
		sum += n;
	}
	assert_int_equal(found, 5000);
	assert_int_equal(sum, 4999 * 5000 / 2);
	/* strmap_ref: a new key starts at 0, an old one keeps its value */
	(*strmap_ref(&m, "k7"))++;
	(*strmap_ref(&m, "new"))++;
	(*strmap_ref(&m, "new"))++;
	int64_t v7 = 0, vn = 0;
	assert_true(strmap_get(&m, "k7", &v7) && strmap_get(&m, "new", &vn));
	assert_int_equal(v7, 8);
	assert_int_equal(vn, 2);
	assert_int_equal(m.n, 5001);
	strmap_free(&m);
	assert_false(strmap_get(&m, "k1", NULL));
}

/* sb_add_i64 and hash64_hex against snprintf, the extremes included. */
static void test_formats(void **state)
{
	(void)state;
	const int64_t v[] = {
		0, 7, -7, 10, 99, -100, 1234567890123LL, INT64_MAX, INT64_MIN};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		char want[32];
		snprintf(want, sizeof want, "%lld", (long long)v[i]);
		strbuf_t b = {0};
		sb_puts(&b, "[");
		sb_add_i64(&b, v[i]);
		assert_string_equal(sb_str(&b) + 1, want);
		sb_free(&b);
	}
	const uint64_t h[] = {0, 1, 0xabcdefULL, UINT64_MAX,
			      0x0123456789abcdefULL};
	for (size_t i = 0; i < sizeof h / sizeof *h; i++) {
		char want[17], got[17];
		snprintf(want, sizeof want, "%016llx",
			 (unsigned long long)h[i]);
		hash64_hex(h[i], got);
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_strmap),
		cmocka_unit_test(test_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
