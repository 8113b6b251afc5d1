/* Unit tests for control/portalloc.c: even pairs, range rounding, rotation (least recently
 * released first), quarantine, reserve, cancel and the counters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "portalloc.h"

static void test_create_rounding(void **state)
{
	struct portalloc *pa;
	uint16_t p;

	pa = portalloc_create(30001, 30006, 0); /* pairs 30002/3, 30004/5; 30006 has no +1 */
	assert_non_null(pa);
	assert_int_equal(portalloc_total(pa), 2);
	assert_int_equal(portalloc_get(pa, 0, &p), 0);
	assert_int_equal(p, 30002);
	assert_int_equal(portalloc_get(pa, 0, &p), 0);
	assert_int_equal(p, 30004);
	assert_int_equal(portalloc_get(pa, 0, &p), -ENOSPC);
	portalloc_destroy(pa);

	pa = portalloc_create(30000, 39999, 0);
	assert_non_null(pa);
	assert_int_equal(portalloc_total(pa), 5000);
	portalloc_destroy(pa);

	pa = portalloc_create(65534, 65535, 0);
	assert_non_null(pa);
	assert_int_equal(portalloc_total(pa), 1);
	assert_int_equal(portalloc_get(pa, 0, &p), 0);
	assert_int_equal(p, 65534);
	portalloc_destroy(pa);

	errno = 0;
	assert_null(portalloc_create(0, 100, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(portalloc_create(30001, 30002, 0)); /* 30002 alone: no pair */
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(portalloc_create(65535, 65535, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(portalloc_create(40000, 30000, 0));
	assert_int_equal(errno, EINVAL);
}

static void test_even_pairs_all_distinct(void **state)
{
	struct portalloc *pa = portalloc_create(20000, 20199, 1000);
	uint8_t seen[100] = {0};
	uint16_t p;

	assert_non_null(pa);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(portalloc_get(pa, 5, &p), 0);
		assert_true(p >= 20000 && p <= 20198);
		assert_int_equal(p % 2, 0);
		assert_int_equal(seen[(p - 20000) / 2], 0);
		seen[(p - 20000) / 2] = 1;
	}
	assert_int_equal(portalloc_get(pa, 5, &p), -ENOSPC);
	assert_int_equal(portalloc_used(pa), 100);
	assert_int_equal(portalloc_free(pa, 5), 0);
	portalloc_destroy(pa);
}

static void test_rotation(void **state)
{
	struct portalloc *pa = portalloc_create(10000, 10009, 0); /* 5 pairs */
	uint16_t a, b, p;

	assert_non_null(pa);
	assert_int_equal(portalloc_get(pa, 0, &a), 0);
	assert_int_equal(portalloc_put(pa, a, 0), 0);
	/* The released pair goes to the back: the other four come first. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(portalloc_get(pa, 0, &p), 0);
		assert_int_not_equal(p, a);
	}
	assert_int_equal(portalloc_get(pa, 0, &b), 0);
	assert_int_equal(b, a);
	portalloc_destroy(pa);
}

static void test_quarantine(void **state)
{
	struct portalloc *pa = portalloc_create(10000, 10003, 3000); /* 2 pairs */
	uint16_t a, b, p;

	assert_non_null(pa);
	assert_int_equal(portalloc_get(pa, 1000, &a), 0);
	assert_int_equal(portalloc_get(pa, 1000, &b), 0);
	assert_int_equal(portalloc_free(pa, 1000), 0);
	assert_int_equal(portalloc_put(pa, a, 1000), 0);
	assert_int_equal(portalloc_put(pa, a, 1000), -ENOENT); /* twice */
	assert_int_equal(portalloc_used(pa), 1);
	/* In quarantine until 4000. */
	assert_int_equal(portalloc_free(pa, 3999), 0);
	assert_int_equal(portalloc_get(pa, 3999, &p), -ENOSPC);
	assert_int_equal(portalloc_free(pa, 4000), 1);
	assert_int_equal(portalloc_get(pa, 4000, &p), 0);
	assert_int_equal(p, a);

	/* Released at 5000 and then (clock stepped back) at 4500: the earlier expiry is
	 * not stuck behind the later one. */
	assert_int_equal(portalloc_put(pa, a, 5000), 0);
	assert_int_equal(portalloc_put(pa, b, 4500), 0);
	assert_int_equal(portalloc_free(pa, 7500), 1);
	assert_int_equal(portalloc_get(pa, 7500, &p), 0);
	assert_int_equal(p, b);
	assert_int_equal(portalloc_get(pa, 7500, &p), -ENOSPC);
	assert_int_equal(portalloc_get(pa, 8000, &p), 0);
	assert_int_equal(p, a);
	portalloc_destroy(pa);
}

static void test_reserve_cancel(void **state)
{
	struct portalloc *pa = portalloc_create(10000, 10007, 60000); /* 4 pairs */
	uint16_t p;

	assert_non_null(pa);
	assert_int_equal(portalloc_reserve(pa, 10001), -ERANGE);
	assert_int_equal(portalloc_reserve(pa, 9998), -ERANGE);
	assert_int_equal(portalloc_reserve(pa, 10008), -ERANGE);
	assert_int_equal(portalloc_reserve(pa, 10004), 0);
	assert_int_equal(portalloc_reserve(pa, 10004), -EBUSY);
	assert_int_equal(portalloc_used(pa), 1);
	assert_int_equal(portalloc_free(pa, 0), 3);
	/* get never hands out the reserved pair. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(portalloc_get(pa, 0, &p), 0);
		assert_int_not_equal(p, 10004);
	}
	assert_int_equal(portalloc_get(pa, 0, &p), -ENOSPC);
	/* A quarantined pair may be reserved (it was ours before a restart). */
	assert_int_equal(portalloc_put(pa, 10004, 0), 0);
	assert_int_equal(portalloc_free(pa, 0), 0);
	assert_int_equal(portalloc_reserve(pa, 10004), 0);
	assert_int_equal(portalloc_used(pa), 4);
	/* cancel: free at once, no quarantine, first in line. */
	assert_int_equal(portalloc_cancel(pa, 10004), 0);
	assert_int_equal(portalloc_cancel(pa, 10004), -ENOENT);
	assert_int_equal(portalloc_used(pa), 3);
	assert_int_equal(portalloc_free(pa, 0), 1);
	assert_int_equal(portalloc_get(pa, 0, &p), 0);
	assert_int_equal(p, 10004);
	assert_int_equal(portalloc_put(pa, 10003, 0), -ERANGE);
	assert_int_equal(portalloc_put(pa, 10010, 0), -ERANGE);
	portalloc_destroy(pa);
}

static void test_counts(void **state)
{
	struct portalloc *pa = portalloc_create(30000, 39999, 10);
	uint16_t ports[5000];

	assert_non_null(pa);
	assert_int_equal(portalloc_free(pa, 0), 5000);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(portalloc_get(pa, 0, &ports[i]), 0);
	assert_int_equal(portalloc_used(pa), 5000);
	for (int i = 0; i < 2500; i++)
		assert_int_equal(portalloc_put(pa, ports[i], (uint64_t)i), 0);
	assert_int_equal(portalloc_used(pa), 2500);
	assert_int_equal(portalloc_free(pa, 9), 0);
	assert_int_equal(portalloc_free(pa, 10), 1);
	assert_int_equal(portalloc_free(pa, 2509), 2500);
	assert_int_equal(portalloc_total(pa), 5000);
	portalloc_destroy(pa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_rounding), cmocka_unit_test(test_even_pairs_all_distinct),
	    cmocka_unit_test(test_rotation),	    cmocka_unit_test(test_quarantine),
	    cmocka_unit_test(test_reserve_cancel),  cmocka_unit_test(test_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
